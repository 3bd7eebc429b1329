"""The application model without Qt: the run's settings and how a session is built from
them (``run_settings``), and the immutable description of a run the views draw from
(``runinfo``). Imports the core (and the file layer), never Qt; the window and the
command line build on it."""
