"""A download behind a progress dialog: the bar moves, Cancel reaches the work."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from nnviz.gui.window.background import run_with_progress


class CancelledByUserError(Exception):
    pass


def test_progress_and_result(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)

    def work(progress, cancelled):
        for i in range(5):
            progress(i * 100, 500)
            time.sleep(0.05)
        return "done"

    assert run_with_progress(parent, "Downloading", work) == "done"


def test_cancel_reaches_the_work(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    seen = []

    def press_cancel():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible():
                seen.append(w.labelText())
                w.cancel()

    QTimer.singleShot(300, press_cancel)

    def work(progress, cancelled):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            progress(1, 0)
            if cancelled():
                raise CancelledByUserError
            time.sleep(0.01)
        return "not cancelled"

    with pytest.raises(CancelledByUserError):
        run_with_progress(parent, "Downloading MNIST", work)
    assert seen and seen[0].startswith("Downloading MNIST")
