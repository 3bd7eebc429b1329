"""Harnesses that drive the real window: the self-test and the GUI benchmark."""
