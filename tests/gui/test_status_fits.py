"""The status bar fits the window it is in: labels give way, the window never widens."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from nnviz.gui.window.status import StatusPanel


def _panel(qtbot, width: int) -> tuple[QMainWindow, StatusPanel]:
    win = QMainWindow()
    qtbot.addWidget(win)
    panel = StatusPanel(win.statusBar())
    win.resize(width, 300)
    win.show()
    qtbot.waitExposed(win)
    return win, panel


def test_every_number_shows_on_a_wide_window(qtbot):
    _win, panel = _panel(qtbot, 1280)
    assert panel.row.shown() == ("state", "epoch", "step", "loss", "accuracy", "speed")
    assert all(label.isVisible() for label in panel.row.labels.values())


def test_a_narrow_window_drops_the_least_needed_first(qtbot):
    _win, panel = _panel(qtbot, 700)
    shown = panel.row.shown()
    assert "state" in shown and "step" in shown and "speed" not in shown
    for name, label in panel.row.labels.items():
        assert label.isVisible() == (name in shown)
    visible = [label for label in panel.row.labels.values() if label.isVisible()]
    assert all(label.geometry().right() <= panel.row.width() for label in visible)  # none clipped


def test_the_status_bar_never_sets_the_windows_minimum_width(qtbot):
    win = _panel(qtbot, 1280)[0]
    assert win.statusBar().minimumSizeHint().width() <= 400
