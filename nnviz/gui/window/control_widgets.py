"""The control panel's small parts: the widgets and helpers its groups are built from.

:class:`LogSpinBox` (steps 1, 3, 10, 30...), :class:`LayerRow` (one hidden layer's
units, activation and remove button), narrow combo boxes and forms, a form row labelled
and tooltipped from the settings schema, the pending mark (bold with a leading dot while
a setting waits for Reset) and the filter that lets Space reach the window's shortcut
from a spin box. :mod:`nnviz.gui.window.controls` assembles them into the panel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from nnviz.app.settings_schema import setting
from nnviz.core.activations import ACTIVATION_NAMES

MAX_GUI_UNITS = 4096
#: a setting whose value differs from the running network's
PENDING_MARK = "●"
PENDING_TIP = "not applied yet: press Apply (Reset) to train with it"
#: characters a combo box needs at least; longer entries are elided, shown whole in the list
COMBO_MIN_CHARS = 10
#: a group box's margins inside its frame (narrower than the style's, for narrow screens)
GROUP_MARGINS = (6, 6, 6, 6)


class LogSpinBox(QDoubleSpinBox):
    """A number spin box that steps 1, 3, 10, 30... (learning rates, penalties)."""

    LADDER = tuple(round(m * 10.0**e, 12) for e in range(-6, 2) for m in (1.0, 3.0))

    def __init__(self, minimum: float, maximum: float, allow_zero: bool = False):
        super().__init__()
        self._allow_zero = allow_zero
        self.setDecimals(8)
        self.setRange(0.0 if allow_zero else minimum, maximum)
        self._min = minimum
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip()
        if t in ("", ".", "-", "e", "1e", "1e-"):
            return QValidator.State.Intermediate, text, pos
        try:
            v = float(t)
        except ValueError:
            stripped = t.rstrip("eE-+")
            try:
                float(stripped)
                return QValidator.State.Intermediate, text, pos
            except ValueError:
                return QValidator.State.Invalid, text, pos
        ok = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        ladder = [v for v in self.LADDER if self._min <= v <= self.maximum()]
        if self._allow_zero:
            ladder = [0.0, *ladder]
        v = self.value()
        if steps > 0:
            above = [x for x in ladder if x > v * (1 + 1e-9)]
            target = above[min(steps, len(above)) - 1] if above else v
        else:
            below = [x for x in ladder if x < v * (1 - 1e-9)]
            target = below[-min(-steps, len(below))] if below else v
        self.setValue(target)


def _combo(items: list[tuple[str, str]]) -> QComboBox:
    """A combo box as narrow as a few characters: long entries are elided in the box
    (the list shows them whole), so the panel fits a narrow screen."""
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(COMBO_MIN_CHARS)
    for data, label in items:
        box.addItem(label, data)
    return box


def _form(parent: QWidget | None = None) -> QFormLayout:
    """A form whose rows put the field under its label when the panel is narrow."""
    form = QFormLayout(parent) if parent is not None else QFormLayout()
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    if parent is not None:
        form.setContentsMargins(*GROUP_MARGINS)
    return form


def _add_row(form: QFormLayout, name: str, widget: QWidget) -> QLabel:
    """Add ``widget`` under the settings schema's label for ``name``, with its tooltip
    (declared once there, with the setting's range and CLI flag); returns the label."""
    s = setting(name)
    if s.tooltip:
        widget.setToolTip(s.tooltip)
    label = QLabel(s.label)
    label.setWordWrap(True)
    form.addRow(label, widget)
    return label


def _mark(widget: QLabel | QCheckBox | QPushButton, pending: bool) -> None:
    """Show ``widget``'s text bold with a leading dot while its setting waits for Reset
    (its own text and tooltip are kept in properties and put back after)."""
    if widget.property("plainText") is None:
        widget.setProperty("plainText", widget.text())
        widget.setProperty("plainTip", widget.toolTip())
    elif bool(widget.property("pendingMark")) == pending:
        return
    widget.setProperty("pendingMark", pending)
    text, tip = widget.property("plainText"), widget.property("plainTip")
    widget.setText(f"{PENDING_MARK} {text}" if pending else text)
    widget.setToolTip((f"{tip}\n{PENDING_TIP}" if tip else PENDING_TIP) if pending else tip)
    font = widget.font()
    font.setBold(pending)
    widget.setFont(font)


def _select(box: QComboBox, data: object) -> None:
    i = box.findData(data)
    if i >= 0:
        box.setCurrentIndex(i)


class _SpaceForShortcut(QObject):
    """Numbers never hold a space: in a spin box, Space goes to the window (play/pause)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space and not event.modifiers()
        ):
            event.ignore()  # not claimed by the spin box, so the window's shortcut runs
            return True
        return False


class LayerRow(QWidget):
    """One hidden layer: units, activation, remove."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.label = QLabel(f"Layer {index + 1}")
        self.units = QSpinBox()
        self.units.setRange(1, MAX_GUI_UNITS)
        self.units.setKeyboardTracking(False)
        self.units.setToolTip("Number of units (neurons) in this hidden layer")
        self.activation = _combo([(a, a) for a in ACTIVATION_NAMES])
        self.activation.setMinimumContentsLength(5)
        self.activation.setToolTip("Activation function of this layer")
        self.remove = QToolButton()
        self.remove.setText("−")
        self.remove.setToolTip(f"Remove hidden layer {index + 1}")
        lay.addWidget(self.label)
        lay.addWidget(self.units, 1)
        lay.addWidget(self.activation, 1)
        lay.addWidget(self.remove)
