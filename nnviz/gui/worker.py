"""The training worker: the window's Qt face of the training loop.

The loop (:mod:`nnviz.training.loop`, Qt-free) runs either in a child process
(:mod:`nnviz.training.process`; the default wherever two CPUs are free, because the trainer
and the window then stop taking turns with one GIL) or on this worker's thread (one CPU,
or ``NNVIZ_TRAINING=thread``). Either way the window sees the same thing: a parentless
QObject living in a QThread whose signals carry the loop's events.

Contract with the window (the "signal per minibatch"):

* Every minibatch is delivered, in order, exactly once, in a ``stepsReady(generation,
  rows)`` emission. ``rows`` is a read-only float64 array with one row per minibatch and
  the columns :class:`~nnviz.training.protocol.StepColumn`, batched (see
  :mod:`nnviz.training.loop`).
* ``snapshotReady(generation, snapshot)`` carries a :class:`~nnviz.core.trainer.Snapshot`
  (read-only). A new one is made only after the window called
  :meth:`TrainingWorker.ack_snapshot` for the previous one: back-pressure, never a backlog.
* ``generation`` numbers runs; the window drops emissions of a run it replaced.

Commands (the typed methods of :class:`~nnviz.training.protocol.Commands`) may be called
from any thread and apply between minibatches; each event of
:class:`~nnviz.training.protocol.Event` has one entry in the worker's table of handlers.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from nnviz.core.session import Session
from nnviz.training.loop import SNAPSHOT_INTERVAL, TrainingLoop
from nnviz.training.process import TrainingProcess, usable_cpus
from nnviz.training.protocol import STEP_COLUMNS, Command, Commands, Event, StepColumn

__all__ = ["STEP_COLUMNS", "StepColumn", "TrainingWorker", "WorkerHandle", "live_threads",
           "track_thread", "training_mode"]

#: ``NNVIZ_TRAINING=thread`` or ``process`` overrides the choice made from the CPU count
ENV_MODE = "NNVIZ_TRAINING"
#: how long the pump waits for an event before looking at its stop flag (s)
PUMP_WAIT = 0.05
#: after ``stop``, how long the child may take to say it stopped (s)
STOP_GRACE = 5.0

_live_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def track_thread(thread: QThread) -> None:
    """Register a helper thread so tests can prove it ended."""
    _live_threads.add(thread)


def live_threads() -> list[QThread]:
    """Training threads that are still running (tests assert none is left behind)."""
    return [t for t in list(_live_threads) if t.isRunning()]


def training_mode() -> str:
    """``"process"`` or ``"thread"``: where the loop runs (see the module docstring)."""
    chosen = os.environ.get(ENV_MODE, "").strip().lower()
    if chosen in ("thread", "process"):
        return chosen
    return "process" if usable_cpus() >= 2 else "thread"


class TrainingWorker(QObject, Commands):
    """Signals for the loop's events and its commands; see the module docstring."""

    stepsReady = Signal(int, object)
    snapshotReady = Signal(int, object)
    playingChanged = Signal(bool)
    diverged = Signal(int, int)  # generation, step
    runChanged = Signal(int, object)
    failed = Signal(str)  # a message for the user; the worker keeps running
    stopped = Signal()

    def __init__(self, session: Session, generation: int = 0, label: str = "run 1",
                 mode: str | None = None):
        super().__init__(None)
        self.mode = mode or training_mode()
        self.playing = False  # as last reported by the loop
        self.steps_done = 0  # all runs together, known once the loop has stopped
        # every event has exactly one handler (a test holds the table to Event)
        self._handlers: dict[Event, Callable[..., None]] = {
            Event.STEPS: self.stepsReady.emit,
            Event.SNAPSHOT: self.snapshotReady.emit,
            Event.PLAYING: self._on_playing,
            Event.DIVERGED: self.diverged.emit,
            Event.RUN_CHANGED: self.runChanged.emit,
            Event.FAILED: self.failed.emit,
            Event.STOPPED: self._finish,
        }
        self._stop_requested = False
        self._loop: TrainingLoop | None = None
        self._process: TrainingProcess | None = None
        if self.mode == "process":
            self._process = TrainingProcess(session, generation, label)
        else:
            self._loop = TrainingLoop(session, self._on_event, generation, label)

    # --- commands: callable from any thread ---------------------------------------------
    def send(self, command: Command, *args: Any) -> None:
        """To the child process or the loop on this worker's thread."""
        if self._process is not None:
            self._process.send(command, *args)
        else:
            self._loop.send(command, *args)

    def copy_session(self) -> Future:
        """A future for a copy of the session (for saving, exporting, checking)."""
        if self._process is not None:
            return self._process.copy_session()
        return self._loop.copy_session()

    @property
    def snapshot_interval(self) -> float:
        """The most often a snapshot is made (seconds)."""
        return SNAPSHOT_INTERVAL if self._loop is None else self._loop.snapshot_interval

    def stop(self) -> None:
        self._stop_requested = True
        super().stop()

    def close_unstarted(self) -> None:
        """End a training process whose thread never ran (no pump will ever end it)."""
        if self._process is not None:
            self._process.close()

    def hold(self) -> None:
        """The window starts drawing a frame (see :meth:`TrainingLoop.hold`); a trainer in
        its own process shares no GIL with the window and never needs to stand aside."""
        if self._loop is not None:
            self._loop.hold()

    def release(self) -> None:
        if self._loop is not None:
            self._loop.release()

    # --- the thread's body --------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Started by ``QThread.started``; ends after :meth:`stop`."""
        try:
            if self._loop is not None:
                self._loop.run()
            else:
                self._pump()
        finally:
            thread = self.thread()
            if thread is not None:
                thread.quit()

    def _pump(self) -> None:
        """Carry the child's events to signals until it says it stopped."""
        proc = self._process
        waited = 0.0
        proc.begin()  # a failure shows as the end of the pipe below
        try:
            while True:
                try:
                    event = proc.receive(PUMP_WAIT)
                except (EOFError, ConnectionError, OSError):
                    if not self._stop_requested:
                        code = proc.process.exitcode
                        self.failed.emit(f"The training process ended unexpectedly (exit code {code}). "
                                         "Press Reset to start a new run, or open a saved file.")
                    self._finish(0)
                    return
                if event is None:
                    if self._stop_requested:
                        waited += PUMP_WAIT
                        if waited > STOP_GRACE:
                            self._finish(0)
                            return
                    continue
                kind, args = event
                self._on_event(kind, *args)
                if kind is Event.STOPPED:
                    return
        finally:
            proc.close()

    def _finish(self, steps_done: int) -> None:
        self.steps_done = int(steps_done)
        if self.playing:
            self.playing = False
            self.playingChanged.emit(False)
        self.stopped.emit()

    def _on_event(self, event: Event, *args: Any) -> None:
        self._handlers[event](*args)

    def _on_playing(self, playing: bool) -> None:
        self.playing = bool(playing)
        self.playingChanged.emit(self.playing)


class WorkerHandle:
    """The worker and its thread, started and stopped together."""

    def __init__(self, session: Session, generation: int = 0, label: str = "run 1",
                 mode: str | None = None):
        self.worker = TrainingWorker(session, generation, label, mode)
        self.thread = QThread()
        self.thread.setObjectName("nnviz-training")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self._started = False
        track_thread(self.thread)

    def start(self) -> None:
        self._started = True
        self.thread.start()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the loop and wait for the thread; True when it ended in time."""
        self.worker.stop()
        self.thread.quit()
        ok = self.thread.wait(timeout_ms)
        if not self._started:
            self.worker.close_unstarted()
        return bool(ok)

