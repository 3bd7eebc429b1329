"""PyInstaller runtime hook: runs before nnviz's own code in the frozen app.

pyqtgraph must bind to PySide6, the only Qt binding in the bundle, whatever the user's
environment says (PyInstaller's own PySide6 hook points Qt at the bundled plugins).
"""

import os

os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"
os.environ["QT_API"] = "pyside6"
