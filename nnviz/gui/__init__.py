"""The desktop window (PySide6 + pyqtgraph). Draws what the core computes; owns no maths."""
