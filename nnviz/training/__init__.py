"""Running a training session, without Qt: the loop that steps a session and emits events
(``loop``) and the child-process transport that runs it beside the window
(``process``). Imports the core and the application model, never Qt, so the training
process never loads a GUI library."""
