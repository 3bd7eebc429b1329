"""Starting the desktop app: ``nnviz [FILE] [--self-test]`` ends up in :func:`main`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import PySide6  # noqa: F401  (PySide6 before pyqtgraph, so pyqtgraph binds to it)
from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
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
_HARMLESS = ("This plugin does not support propagateSizeHints()",)


def _message_handler(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if message in _HARMLESS:
        return
    if kind == QtMsgType.QtDebugMsg:
        return
    sys.stderr.write(f"Qt: {message}\n")


def install_message_filter() -> None:
    """Keep stderr free of Qt's notices that the offscreen platform cannot size windows."""
    qInstallMessageHandler(_message_handler)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnviz", description="Watch a neural network learn.")
    p.add_argument("file", nargs="?", help="a .nnviz network, a JSON spec or a CSV data set to open")
    p.add_argument("--self-test", action="store_true",
                   help="open the window, train, save and reopen a file, print a summary and exit")
    return p


def main(argv: list[str]) -> int:
    """Run the window until it closes; the exit status is 0 on a normal close."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage
        return int(exc.code or 0)
    if args.self_test:
        from nnviz.gui.selftest import run_self_test

        return run_self_test()
    if args.file is not None and not Path(args.file).is_file():
        print(f"nnviz: no such file: {args.file}", file=sys.stderr)
        return 2
    app = make_app()
    install_message_filter()
    from nnviz.gui.file_open import FileOpenFilter
    from nnviz.gui.main_window import MainWindow

    file_open = FileOpenFilter(app)  # macOS: files double-clicked while nnviz runs
    app.installEventFilter(file_open)
    window = MainWindow()
    window.show()
    window.raise_()
    window.activateWindow()  # keyboard focus at once, so Space starts training
    window.topology.setFocus()
    if args.file is not None:
        path = args.file
        QTimer.singleShot(0, lambda: window.open_any(path, ask=False))
    QTimer.singleShot(0, lambda: file_open.set_opener(window.open_any))
    return int(app.exec())
