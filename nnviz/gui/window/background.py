"""Reading a file without freezing the window.

Parsing a large CSV or inflating a large network file takes seconds; done on the GUI
thread it would freeze the window (no repaint, no answer to the desktop). The reading runs
on a thread of its own instead, while a nested event loop keeps the window drawing, behind
a window-modal busy dialog so nothing else can be started meanwhile. The work must not
touch Qt: the file layer and the core never do.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QProgressDialog, QWidget

T = TypeVar("T")

#: work done within this long returns at once, with no dialog flashing up
QUICK_S = 0.15
POLL_MS = 20


def run_responsive(parent: QWidget | None, label: str, fn: Callable[[], T]) -> T:
    """``fn()`` run on a worker thread while the window stays responsive; its result, or
    its exception raised here. Reading cannot be interrupted safely, so there is no
    Cancel: the dialog says what is being read and closes when it is done."""
    pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnviz-read")
    future = pool.submit(fn)
    pool.shutdown(wait=False)
    try:
        return future.result(timeout=QUICK_S)
    except cf.TimeoutError:
        pass
    dialog = QProgressDialog(label, None, 0, 0, parent)  # a busy indicator, no Cancel button
    dialog.setWindowTitle("nnviz")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setValue(0)
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(POLL_MS)
    timer.timeout.connect(lambda: future.done() and loop.quit())
    timer.start()
    if not future.done():
        loop.exec()
    timer.stop()
    dialog.close()
    dialog.deleteLater()
    return future.result()
