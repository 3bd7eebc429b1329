"""The few questions the window asks, in one place.

Every modal dialog the window opens goes through these functions, so tests (and the
self-test) can replace them and never block on a dialog.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

NETWORK_FILTER = "nnviz networks (*.nnviz *.json);;All files (*)"
CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"
ONNX_FILTER = "ONNX models (*.onnx)"
IMAGE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
OPENABLE_FILTER = "nnviz networks and CSV data (*.nnviz *.json *.csv);;All files (*)"


class Unsaved(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def ask_open_path(parent: QWidget | None, title: str, filters: str, start: str = "") -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
    return path or None


def ask_save_path(parent: QWidget | None, title: str, filters: str, suggested: str = "") -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path or None


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def ask_unsaved(parent: QWidget | None, name: str) -> Unsaved:
    """Save, discard or cancel, for a window with unsaved changes."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"{name} has changes that are not saved.")
    box.setInformativeText("Save them before closing?")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return Unsaved.SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return Unsaved.DISCARD
    return Unsaved.CANCEL


def notify(parent: QWidget | None, title: str, text: str, box: QMessageBox | None = None) -> QMessageBox:
    """A non-modal message (training stays visible); ``box`` is reused when given."""
    if box is None:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setWindowModality(Qt.WindowModality.NonModal)
    box.setWindowTitle(title)
    box.setText(text)
    box.show()
    return box
