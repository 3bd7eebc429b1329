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


def _modal_dialog(parent: QWidget | None, label: str, cancel: str | None, maximum: int) -> QProgressDialog:
    """A window-modal progress dialog, shown at once (it shows on its first value)."""
    dialog = QProgressDialog(label, cancel, 0, maximum, parent)
    dialog.setWindowTitle("nnviz")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setValue(0)
    return dialog


def _wait(future: cf.Future, dialog: QProgressDialog, interval_ms: int,
          tick: Callable[[], None] = lambda: None) -> None:
    """A nested event loop until ``future`` is done (``tick`` runs every ``interval_ms``),
    then the dialog goes."""
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(interval_ms)

    def poll() -> None:
        tick()
        if future.done():
            loop.quit()

    timer.timeout.connect(poll)
    timer.start()
    if not future.done():
        loop.exec()
    timer.stop()
    owner = dialog.parentWidget()
    had_focus = owner is not None and (owner.window().isActiveWindow() or dialog.isActiveWindow())
    dialog.close()
    dialog.deleteLater()
    if had_focus:
        # the window that opened the dialog takes the keyboard back (Space plays): without
        # a window manager, or with a strict one, it is otherwise left with no focus at all
        owner.window().activateWindow()


def _submit(prefix: str, fn: Callable[..., T], *args) -> cf.Future:
    pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix=prefix)
    future = pool.submit(fn, *args)
    pool.shutdown(wait=False)
    return future


def run_responsive(parent: QWidget | None, label: str, fn: Callable[[], T]) -> T:
    """``fn()`` run on a worker thread while the window stays responsive; its result, or
    its exception raised here. Reading cannot be interrupted safely, so there is no
    Cancel: the dialog says what is being read and closes when it is done."""
    future = _submit("nnviz-read", fn)
    try:
        return future.result(timeout=QUICK_S)
    except cf.TimeoutError:
        pass
    _wait(future, _modal_dialog(parent, label, None, 0), POLL_MS)  # a busy indicator
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

    future = _submit("nnviz-fetch", fn, progress, lambda: state["cancel"])
    dialog = _modal_dialog(parent, label, "Cancel", 1000)

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

    _wait(future, dialog, POLL_MS * 5, tick)
    return future.result()
