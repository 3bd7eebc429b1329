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


def run_with_progress(parent: QWidget | None, label: str,
                      fn: Callable[[Callable[[int, int], None], Callable[[], bool]], T]) -> T:
    """``fn(progress, cancelled)`` on a worker thread behind a progress dialog with a Cancel
    button (a download): ``progress(done, total)`` moves the bar (total 0: unknown), and
    ``cancelled()`` turns true once Cancel was pressed, for ``fn`` to stop at its next
    chunk. Its result, or its exception raised here."""
    state = {"done": 0, "total": 0, "cancel": False}

    def progress(done: int, total: int) -> None:
        state["done"], state["total"] = int(done), int(total or 0)

    pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnviz-fetch")
    future = pool.submit(fn, progress, lambda: state["cancel"])
    pool.shutdown(wait=False)
    dialog = QProgressDialog(label, "Cancel", 0, 1000, parent)
    dialog.setWindowTitle("nnviz")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.canceled.connect(lambda: state.__setitem__("cancel", True))
    dialog.setValue(0)  # shown at once (a dialog with minimum duration 0 shows on its first value)
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(POLL_MS * 5)

    def tick() -> None:
        if dialog.wasCanceled():
            state["cancel"] = True
        total = state["total"]
        if total > 0:
            dialog.setRange(0, 1000)
            dialog.setValue(min(int(1000 * state["done"] / total), 999))
            dialog.setLabelText(f"{label}\n{state['done'] / 1e6:,.1f} of {total / 1e6:,.1f} MB")
        elif state["done"]:
            dialog.setRange(0, 0)
            dialog.setLabelText(f"{label}\n{state['done'] / 1e6:,.1f} MB")
        if future.done():
            loop.quit()

    timer.timeout.connect(tick)
    timer.start()
    if not future.done():
        loop.exec()
    timer.stop()
    dialog.close()
    dialog.deleteLater()
    return future.result()
