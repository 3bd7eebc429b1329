"""Running a training session, without Qt: the command/event protocol and step-row
columns (``protocol``), the loop that steps a session and emits events (``loop``) and the
child-process transport that runs it beside the window (``process``). Imports the core
and the application model, never Qt, so the training process never loads a GUI library."""
