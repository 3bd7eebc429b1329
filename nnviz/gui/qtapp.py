"""Starting the desktop app: ``nnviz [FILE] [--self-test]`` ends up in :func:`main`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer

from nnviz.gui.qt_setup import collect_garbage_on_gui_thread, install_message_filter, make_app


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnviz", description="Watch a neural network learn.")
    p.add_argument("file", nargs="?",
                   help="a .nnviz network, a JSON spec, a CSV data set or image data (an .npz, a CIFAR-10 "
                        ".bin, a folder of IDX files or of images) to open")
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
        from nnviz.gui.harness.selftest import run_self_test

        return run_self_test()
    if args.file is not None and not (Path(args.file).is_file() or Path(args.file).is_dir()):
        print(f"nnviz: no such file: {args.file}", file=sys.stderr)
        return 2
    app = make_app()
    install_message_filter()
    collect_garbage_on_gui_thread(app)
    from nnviz.gui.window.file_open import FileOpenFilter
    from nnviz.gui.window.main_window import MainWindow

    file_open = FileOpenFilter(app)  # macOS: files double-clicked while nnviz runs
    app.installEventFilter(file_open)
    window = MainWindow()
    window.show()
    window.raise_()
    window.activateWindow()  # keyboard focus at once, so Space starts training
    window.topology.setFocus()
    if args.file is not None:
        path = args.file
        QTimer.singleShot(0, lambda: window.files.open_any(path, ask=False))
    QTimer.singleShot(0, lambda: file_open.set_opener(window.files.open_any))
    return int(app.exec())
