"""The main window and what it is made of: the frame pump, the file controller, the controls,
the status bar, dialogs and preferences."""
