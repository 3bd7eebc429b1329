"""The window fits a 1280x720 laptop: its minimum size, and every panel inside it."""

from __future__ import annotations

from nnviz.gui.window.docks import TAB_BELOW_HEIGHT, size_docks

#: a 1280x720 screen less a desktop's panels and the window frame
LAPTOP = (1280, 720 - 40)


def test_the_minimum_size_fits_a_1280x720_screen(window):
    hint = window.minimumSizeHint()
    assert hint.width() <= LAPTOP[0] and hint.height() <= LAPTOP[1], hint


def test_at_1280x720_every_panel_is_inside_the_window(window, qtbot):
    window.resize(*LAPTOP)
    qtbot.waitUntil(lambda: window.width() == LAPTOP[0], timeout=5000)
    size_docks(window)
    qtbot.wait(50)
    right = window.width()
    for dock in (window.controls_dock, *window.docks.values()):
        if dock.isVisible() and not dock.visibleRegion().isEmpty():  # a tab behind another: skip
            g = dock.geometry()
            assert g.right() <= right and g.left() >= 0, (dock.objectName(), g)
    assert window.statusBar().geometry().right() <= right
    assert set(window.status.row.shown()) >= {"state", "step", "loss", "accuracy"}


def test_a_short_window_tabs_the_right_column(window, qtbot):
    window.resize(1280, TAB_BELOW_HEIGHT - 100)
    qtbot.waitUntil(lambda: window.height() == TAB_BELOW_HEIGHT - 100, timeout=5000)
    size_docks(window)
    assert window.histograms_dock in window.tabifiedDockWidgets(window.decision_dock)


def test_a_tab_behind_another_is_not_drawn(window, qtbot):
    window.resize(1280, TAB_BELOW_HEIGHT - 100)
    qtbot.waitUntil(lambda: window.height() == TAB_BELOW_HEIGHT - 100, timeout=5000)
    size_docks(window)
    window.decision_dock.raise_()
    qtbot.wait(50)
    assert not window.pump.view_shown("histograms") and window.pump.view_shown("decision")
