"""The few questions the window asks, in one place.

Every dialog the window opens goes through a :class:`Dialogs` object that it is given:
the real one asks with Qt's dialogs (through this module's functions, which tests may
replace); :class:`RecordingDialogs` records instead, for the harnesses, which have nobody
to click.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

NETWORK_FILTER = "nnviz networks (*.nnviz *.json);;All files (*)"
CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"
ONNX_FILTER = "ONNX models (*.onnx)"
IMAGE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
IMAGE_DATA_FILTER = "Image data (*.npz *.bin);;All files (*)"
OPENABLE_FILTER = "nnviz networks and CSV data (*.nnviz *.json *.csv);;All files (*)"


#: what :func:`ask_unsaved` asks when the window closes (other actions name themselves)
CLOSING = "Save them before closing?"


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


def ask_folder(parent: QWidget | None, title: str, start: str = "") -> str | None:
    path = QFileDialog.getExistingDirectory(parent, title, start)
    return path or None


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def ask_unsaved(parent: QWidget | None, name: str, question: str = CLOSING) -> Unsaved:
    """Save, discard or cancel, for a window with unsaved changes; ``question`` says what
    is about to replace them."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"{name} has changes that are not saved.")
    box.setInformativeText(question)
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


def ask_download(parent: QWidget | None, title: str, text: str) -> bool:
    """Yes or no to a download the user asked for (what, how big, where it goes)."""
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


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


class Dialogs:
    """The window's way to ask and tell the user (these module's dialogs)."""

    def ask_open_path(self, parent: QWidget | None, title: str, filters: str, start: str = "") -> str | None:
        return ask_open_path(parent, title, filters, start)

    def ask_save_path(self, parent: QWidget | None, title: str, filters: str,
                      suggested: str = "") -> str | None:
        return ask_save_path(parent, title, filters, suggested)

    def ask_folder(self, parent: QWidget | None, title: str, start: str = "") -> str | None:
        return ask_folder(parent, title, start)

    def show_error(self, parent: QWidget | None, title: str, text: str) -> None:
        show_error(parent, title, text)

    def ask_unsaved(self, parent: QWidget | None, name: str, question: str = CLOSING) -> Unsaved:
        return ask_unsaved(parent, name, question)

    def notify(self, parent: QWidget | None, title: str, text: str,
               box: QMessageBox | None = None) -> QMessageBox | None:
        return notify(parent, title, text, box)

    def ask_download(self, parent: QWidget | None, title: str, text: str) -> bool:
        return ask_download(parent, title, text)


class RecordingDialogs(Dialogs):
    """Messages are recorded in :attr:`messages`, never shown; files are never asked for,
    unsaved changes are discarded (the self-test, the GUI bench)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def ask_open_path(self, parent, title, filters, start=""):
        return None

    def ask_folder(self, parent, title, start=""):
        return None

    def ask_save_path(self, parent, title, filters, suggested=""):
        return None

    def show_error(self, parent, title, text):
        self.messages.append(f"{title}: {text}")

    def ask_unsaved(self, parent, name, question=CLOSING):
        return Unsaved.DISCARD

    def notify(self, parent, title, text, box=None):
        self.messages.append(f"{title}: {text}")
        return None

    def ask_download(self, parent, title, text):
        return False  # a harness never reaches out to the network
