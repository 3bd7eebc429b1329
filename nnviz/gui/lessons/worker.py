"""Running a lesson off the GUI thread; checkpoints reach the window as signals.

The comparison itself runs in child processes (:mod:`nnviz.lessons.runner`); this thread
only waits on their pipes and hands each immutable :class:`~nnviz.lessons.records.Checkpoint`
to the window, which keeps the newest and draws it when its timer says so.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from nnviz.app.run_settings import SettingsError
from nnviz.lessons.format import Lesson
from nnviz.lessons.runner import LessonRunError, run_lesson


class LessonWorker(QObject):
    """Runs one lesson once. Signals arrive on the GUI thread (queued)."""

    checkpointReady = Signal(object)  # a Checkpoint
    calculationReady = Signal(object)  # a CalculationResult (before the runs start)
    finished = Signal(object)  # the LessonResult
    failed = Signal(str)

    def __init__(self, lesson: Lesson, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson = lesson
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nnviz-lesson", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End after the checkpoint under way (the children stop with it)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the run ended within ``timeout`` seconds."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = run_lesson(self.lesson, on_checkpoint=self.checkpointReady.emit, snapshots=True,
                                stop=self._stop, on_calculation=self.calculationReady.emit)
        except (LessonRunError, SettingsError, OSError, ValueError, MemoryError) as exc:
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        self.finished.emit(result)
