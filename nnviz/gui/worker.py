"""The training worker: the window's Qt face of the training loop.

The loop (:mod:`nnviz.training.loop`, Qt-free) runs either in a child process
(:mod:`nnviz.training.process`; the default wherever two CPUs are free, because the trainer
and the window then stop taking turns with one GIL) or on this worker's thread (one CPU,
or ``NNVIZ_TRAINING=thread``). Either way the window sees the same thing: a parentless
QObject living in a QThread whose signals carry the loop's events.

Contract with the window (the "signal per minibatch"):

* Every minibatch is delivered, in order, exactly once, in a ``stepsReady(generation,
  rows)`` emission. ``rows`` is a read-only float64 array with one row per minibatch and
  the columns :data:`STEP_COLUMNS`, batched (see :mod:`nnviz.training.loop`).
* ``snapshotReady(generation, snapshot)`` carries a :class:`~nnviz.core.trainer.Snapshot`
  (read-only). A new one is made only after the window called
  :meth:`TrainingWorker.ack_snapshot` for the previous one: back-pressure, never a backlog.
* ``generation`` numbers runs; the window drops emissions of a run it replaced.

Commands may be called from any thread and apply between minibatches.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from nnviz.core.session import Session
from nnviz.training import loop as trainloop
from nnviz.training.loop import STEP_COLUMNS, TrainingLoop
from nnviz.training.process import TrainingProcess, usable_cpus

__all__ = ["STEP_COLUMNS", "TrainingWorker", "WorkerHandle", "live_threads", "track_thread",
           "training_mode"]

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


class TrainingWorker(QObject):
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
        self._signals = {
            trainloop.STEPS: self.stepsReady, trainloop.SNAPSHOT: self.snapshotReady,
            trainloop.DIVERGED: self.diverged, trainloop.RUN_CHANGED: self.runChanged,
            trainloop.FAILED: self.failed,
        }
        self._stop_requested = False
        self._loop: TrainingLoop | None = None
        self._process: TrainingProcess | None = None
        if self.mode == "process":
            self._process = TrainingProcess(session, generation, label)
        else:
            self._loop = TrainingLoop(session, self._on_event, generation, label)

    # --- commands: callable from any thread ---------------------------------------------
    def _send(self, name: str, *args: Any, **kwargs: Any) -> None:
        if self._process is not None:
            self._process.send(name, *args, **kwargs)
        else:
            getattr(self._loop, name)(*args, **kwargs)

    def play(self) -> None:
        self._send("play")

    def pause(self) -> None:
        self._send("pause")

    def step_once(self, n: int = 1) -> None:
        self._send("step_once", int(n))

    def set_speed(self, steps_per_second: float) -> None:
        """0 means full speed."""
        self._send("set_speed", float(steps_per_second))

    def set_learning_rate(self, lr: float) -> None:
        self._send("set_learning_rate", float(lr))

    def update_config(self, **changes: Any) -> None:
        """Batch size, L1, L2, dropout or schedule (the trainer's live settings)."""
        self._send("update_config", **changes)

    def replace_session(self, session: Session, generation: int, label: str) -> None:
        """Hand a new session over; the caller must not touch it afterwards."""
        self._send("replace_session", session, generation, label)

    def add_point(self, x: float, y: float, cls: int) -> None:
        self._send("add_point", float(x), float(y), int(cls))

    def remove_point(self, index: int) -> None:
        self._send("remove_point", int(index))

    def request_snapshot(self) -> None:
        self._send("request_snapshot")

    def ack_snapshot(self) -> None:
        """The window drew the last snapshot: the next one may be made."""
        self._send("ack_snapshot")

    def copy_session(self) -> Future:
        """A future for a copy of the session (for saving, exporting, checking)."""
        if self._process is not None:
            return self._process.copy_session()
        return self._loop.copy_session()

    @property
    def snapshot_interval(self) -> float:
        """The most often a snapshot is made (seconds)."""
        return trainloop.SNAPSHOT_INTERVAL if self._loop is None else self._loop.snapshot_interval

    def stop(self) -> None:
        self._stop_requested = True
        self._send("stop")

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
                if kind == trainloop.STOPPED:
                    self._finish(*args)
                    return
                self._on_event(kind, *args)
        finally:
            proc.close()

    def _finish(self, steps_done: int) -> None:
        self.steps_done = int(steps_done)
        if self.playing:
            self.playing = False
            self.playingChanged.emit(False)
        self.stopped.emit()

    def _on_event(self, kind: str, *args: Any) -> None:
        if kind == trainloop.PLAYING:
            self.playing = bool(args[0])
            self.playingChanged.emit(self.playing)
        elif kind == trainloop.STOPPED:
            self._finish(*args)
        else:
            self._signals[kind].emit(*args)


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

