"""The dark theme keeps check boxes and fields visible."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QStyleFactory

from nnviz.gui.window.theme import _palette


def _lum(c) -> float:
    return 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF()


def test_dark_check_boxes_stand_out_from_their_outline_and_window(qapp):
    p = _palette(True)
    window = p.color(QPalette.ColorRole.Window)
    base = p.color(QPalette.ColorRole.Base)
    outline = window.darker(140)  # how Fusion outlines a check box
    assert _lum(base) - _lum(outline) > 0.08
    assert _lum(base) - _lum(window) > 0.03
    assert _lum(p.color(QPalette.ColorRole.Text)) - _lum(base) > 0.5  # the tick itself


def test_a_dark_check_box_paints_a_visible_box(qapp, qtbot):
    box = QCheckBox("accuracy")
    fusion = QStyleFactory.create("Fusion")
    box.setStyle(fusion)
    box.setPalette(_palette(True))
    qtbot.addWidget(box)
    box.resize(120, 24)
    image = box.grab().toImage()
    window = _palette(True).color(QPalette.ColorRole.Window)
    y = image.height() // 2
    lums = [_lum(image.pixelColor(x, y)) for x in range(0, 20)]
    assert max(lums) - _lum(window) > 0.03  # the box's inside is lighter than the window
