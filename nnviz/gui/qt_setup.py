"""The QApplication as nnviz needs it, for the app and for the harnesses alike."""

from __future__ import annotations

import sys

import PySide6  # noqa: F401  (PySide6 before pyqtgraph, so pyqtgraph binds to it)
from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from nnviz.blas import limit_blas_threads

#: the GIL is handed between the training thread and the window at least this often (s);
#: Python's default of 5 ms would make every redraw wait behind the trainer
SWITCH_INTERVAL = 0.001


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (made once), named so QSettings finds nnviz's preferences."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "nnviz", *(argv or [])])
    app.setOrganizationName("nnviz")
    app.setApplicationName("nnviz")
    app.setApplicationDisplayName("nnviz")
    sys.setswitchinterval(SWITCH_INTERVAL)
    limit_blas_threads(1)
    return app  # type: ignore[return-value]


#: Qt messages that say nothing about nnviz: the offscreen platform cannot size windows
_HARMLESS = ("This plugin does not support propagateSizeHints()", "This plugin does not support raise()")


def _message_handler(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if message in _HARMLESS:
        return
    if kind == QtMsgType.QtDebugMsg:
        return
    sys.stderr.write(f"Qt: {message}\n")


def install_message_filter() -> None:
    """Keep stderr free of Qt's notices that the offscreen platform cannot size windows."""
    qInstallMessageHandler(_message_handler)


def collect_garbage_on_gui_thread(app: QApplication, interval_s: float = 1.0) -> None:
    """Python's cyclic garbage collector runs in whichever thread happens to allocate. When
    that is the training worker's thread and the garbage holds Qt objects (a closed dialog
    or window, a lambda slot's cycle), the QObject is destroyed there: it takes Qt's
    connection lock and waits for the GIL while the GUI thread, holding the GIL, waits for
    that lock (seen as a hung window). So automatic collection is off and the GUI thread
    collects on a timer instead (pyqtgraph's GarbageCollector, made for exactly this)."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    if getattr(app, "_nnviz_gc", None) is None:
        app._nnviz_gc = GarbageCollector(interval=interval_s)  # kept alive with the app
