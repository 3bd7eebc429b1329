"""Light and dark themes for the widgets (the views colour their own plots).

Fusion style everywhere, so the app looks the same on every desktop and the dark
palette is honoured by every widget.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if not dark:
        return QApplication.style().standardPalette()
    # fields and check boxes a step lighter than the window: Fusion outlines a check box in
    # the window colour darkened, which on a darker base left the box all but invisible
    base = QColor(60, 63, 68)
    window = QColor(43, 45, 48)
    text = QColor(222, 222, 222)
    disabled = QColor(125, 125, 130)
    highlight = QColor(42, 130, 218)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(52, 55, 59),
        QPalette.ColorRole.ToolTipBase: QColor(55, 57, 61),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Link: QColor(100, 170, 255),
        QPalette.ColorRole.Highlight: highlight,
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Light: QColor(70, 72, 76),
        QPalette.ColorRole.Midlight: QColor(60, 62, 66),
        QPalette.ColorRole.Mid: QColor(50, 52, 56),
        QPalette.ColorRole.Dark: QColor(25, 26, 28),
        QPalette.ColorRole.Shadow: QColor(10, 10, 10),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_theme(app: QApplication, dark: bool) -> None:
    """Fusion style and the light or dark palette for the whole application."""
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(_palette(dark))


def hint_color(dark: bool) -> str:
    """A warm colour for "press Reset to apply" hints, readable on either theme."""
    return "#ffb74d" if dark else "#b85c00"
