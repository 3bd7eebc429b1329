"""Files the operating system asks the running app to open.

On macOS, double-clicking a ``.nnviz`` file (or dropping one on the Dock icon) does not
start a second process with the file as an argument: the running app receives a
``QFileOpenEvent``. This filter hands it to the window, which asks about unsaved changes
first, as File > Open does. Files that arrive before the window exists (the event that
launched the app) are kept and opened once it does.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent


class FileOpenFilter(QObject):
    """Install on the QApplication; ``open_file`` is set once the window exists."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.waiting: list[str] = []
        self._open: Callable[[str], object] | None = None

    def set_opener(self, open_file: Callable[[str], object]) -> None:
        """From now on files are opened with ``open_file``; any that came earlier first."""
        self._open = open_file
        waiting, self.waiting = self.waiting, []
        for path in waiting:
            open_file(path)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file() or event.url().toLocalFile()
            if not path:
                return False
            if self._open is None:
                self.waiting.append(path)
            else:
                self._open(path)
            return True
        return super().eventFilter(watched, event)
