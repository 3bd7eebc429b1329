"""Choosing an example in the gallery: a click on a picture selects it (outlined, the
example's row emitted), a second click clears the choice (-1), a new run forgets it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.views.test_gallery import image_run, make, with_predictions

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def _painted(qtbot, v) -> None:
    v.grid.repaint()
    qtbot.waitUntil(lambda: v.grid.drawn > 0, timeout=10_000)


def _click(v, index: int) -> None:
    x, y = v.cell_centre(index)
    QTest.mouseClick(v.grid, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(x), int(y)))


def test_a_click_selects_an_example_and_a_second_click_clears_it(qtbot):
    s, info = image_run([784, 100, 10], shape=(28, 28, 1))
    v = make(qtbot, info)
    v.show_snapshot(with_predictions(s, info))
    _painted(qtbot, v)
    third = v.cells()[2].index
    with qtbot.waitSignal(v.exampleSelected, timeout=10_000) as got:
        _click(v, third)
    assert got.args == [third] and v.selected_example == third
    assert v.split == "test"
    with qtbot.waitSignal(v.exampleSelected, timeout=10_000) as got:
        _click(v, third)
    assert got.args == [-1] and v.selected_example is None


def test_clicks_between_cells_do_nothing(qtbot):
    _s, info = image_run([784, 100, 10], shape=(28, 28, 1))
    v = make(qtbot, info)
    _painted(qtbot, v)
    assert v.example_at(-5, -5) is None
    with qtbot.assertNotEmitted(v.exampleSelected):
        QTest.mouseClick(v.grid, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(1, 1))
    assert v.selected_example is None


def test_select_example_outlines_without_emitting_and_a_new_run_forgets(qtbot):
    _s, info = image_run([784, 100, 10], shape=(28, 28, 1))
    v = make(qtbot, info)
    first = v.cells()[0].index
    with qtbot.assertNotEmitted(v.exampleSelected):
        v.select_example(first)
    assert v.selected_example == first
    _painted(qtbot, v)
    v.select_example(10**6)  # not a row of the split
    assert v.selected_example is None
    v.select_example(first)
    v.set_run(info)
    assert v.selected_example is None
