"""The training loop: owns a session while it trains and talks only through events.

Qt-free on purpose: the same loop runs on a thread of the window's process or alone in a
child process (:mod:`nnviz.training.process`), where importing Qt would cost a second of
start-up for nothing. :class:`~nnviz.gui.worker.TrainingWorker` turns its events into
Qt signals.

The commands it accepts and the events it emits are those of
:mod:`nnviz.training.protocol`. How it keeps them:

* ``Event.STEPS``: every minibatch, in order, exactly once, as read-only rows with the
  columns :class:`~nnviz.training.protocol.StepColumn`. Rows are batched (one event every
  :data:`EMIT_INTERVAL` seconds at most, and at every pause, snapshot or divergence)
  because one event per minibatch at thousands of steps per second floods the window.
* ``Event.SNAPSHOT``: a :class:`~nnviz.core.trainer.Snapshot` (read-only copies). A new
  one is made only after ``Command.ACK_SNAPSHOT`` for the previous one and at most every
  :attr:`TrainingLoop.snapshot_interval` seconds: back-pressure, never a backlog.
* ``generation`` numbers runs; the window drops events of a run it replaced.

Commands come in through a :class:`queue.Queue` from any thread (:meth:`TrainingLoop.send`)
and apply between minibatches, each through one entry of the loop's dispatch table. Data
leaves the loop only as immutable or copied objects. :meth:`TrainingLoop.tick` is one pass
of the loop: :meth:`~TrainingLoop.run` repeats it on a thread, tests call it directly.
"""

from __future__ import annotations

import contextlib
import copy
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnviz.app.runinfo import RunInfo
from nnviz.core.data import Dataset, Split
from nnviz.core.session import Session
from nnviz.core.trainer import DivergedError, Trainer
from nnviz.training.cadence import SNAPSHOT_INTERVAL, next_snapshot_at
from nnviz.training.protocol import STEP_COLUMNS, Command, Commands, Event, StepColumn

__all__ = ["STEP_COLUMNS", "Command", "Emit", "Event", "StepColumn", "TrainingLoop"]

#: seconds between two ``STEPS`` events while training
EMIT_INTERVAL = 0.015
#: seconds of training between two looks at the command queue when it is empty
CHUNK_SECONDS = 0.008
#: while paused, how long the loop waits for a command before looking again
IDLE_WAIT = 0.05
#: the longest the loop stands aside for one frame of the window (a safety net)
HOLD_MAX = 0.05

#: ``emit(event, *args)``: how the loop speaks (a recording function in tests, a pipe or
#: Qt signals otherwise)
Emit = Callable[..., None]


@dataclass
class _Queued:
    command: Command
    args: tuple = ()
    future: Future | None = None  # answered with the error if the command fails


class TrainingLoop(Commands):
    """Runs minibatches in a loop; see the module docstring for the event contract."""

    def __init__(self, session: Session, emit: Emit, generation: int = 0, label: str = "run 1"):
        self._emit = emit
        self._q: queue.Queue[_Queued] = queue.Queue()
        self._session = session
        self._epoch_seen = session.trainer.epoch
        self._in_epoch = 0
        self._gen = generation
        self._label = label
        self._stop = False
        self._pending = False  # set by every command: the training loop's cheap check
        self._ended = False
        self._playing = False
        self._steps_to_run = 0  # single steps requested while paused
        self._speed = 0.0  # steps per second; 0 means full speed
        self._pace_t0 = 0.0
        self._pace_done = 0
        self._rows: list[tuple] = []
        self._last_emit = 0.0
        self._acked = True
        self._snap_wanted = True  # the window has not seen the current state yet
        self._next_snap = 0.0  # when the next snapshot is due (perf_counter seconds)
        self.snapshot_interval = SNAPSHOT_INTERVAL
        self._gui_free = threading.Event()  # cleared while the window draws a frame
        self._gui_free.set()
        self.steps_done = 0  # all runs together (read by the bench after the thread ends)
        self._epoch_seen = session.trainer.epoch
        self._in_epoch = 0  # examples seen in the current pass
        # every command has exactly one handler (a test holds the table to Command)
        self._handlers: dict[Command, Callable[..., None]] = {
            Command.PLAY: self._do_play,
            Command.PAUSE: self._do_pause,
            Command.STEP_ONCE: self._do_step,
            Command.SET_SPEED: self._do_speed,
            Command.SET_LEARNING_RATE: self._do_lr,
            Command.UPDATE_CONFIG: self._do_config,
            Command.REPLACE_SESSION: self._do_session,
            Command.ADD_POINT: self._do_add_point,
            Command.REMOVE_POINT: self._do_remove_point,
            Command.REQUEST_SNAPSHOT: self._do_snapshot,
            Command.ACK_SNAPSHOT: self._do_ack,
            Command.COPY_SESSION: self._do_copy,
            Command.STOP: self._do_stop,
        }

    # --- commands: callable from any thread ---------------------------------------------
    def send(self, command: Command, *args: Any) -> None:
        """Queue ``command`` (a :class:`Command`, never a string) for the next pause
        between minibatches; ``STOP`` also ends the current chunk at once."""
        if not isinstance(command, Command):
            raise TypeError(f"not a training command: {command!r}")
        if command is Command.COPY_SESSION:
            raise TypeError("use copy_session(): a copy is answered through a future")
        if command is Command.STOP:
            self._stop = True
            self._gui_free.set()
        self._q.put(_Queued(command, args))
        self._pending = True  # after the put: the loop never misses a command

    def copy_session(self) -> Future:
        """A future for a deep copy of the session (for saving, exporting, checking)."""
        fut: Future = Future()
        self._q.put(_Queued(Command.COPY_SESSION, (fut,), fut))
        self._pending = True
        if self._ended:  # nobody will answer: fail now instead of at the caller's timeout
            self._fail_pending_futures()
        return fut

    def hold(self) -> None:
        """The window starts drawing a frame: stand aside until :meth:`release`.

        Both threads run Python under one GIL; a frame that has to win the GIL back from
        the trainer after each of its thousands of calls into Qt takes ten times longer.
        Standing aside for the few milliseconds of a frame costs the trainer far less."""
        self._gui_free.clear()

    def release(self) -> None:
        self._gui_free.set()

    # --- the loop -----------------------------------------------------------------------
    def run(self) -> None:
        """The loop's body, on whatever thread owns it; returns after :meth:`stop`."""
        try:
            while not self._stop:
                self.tick()
        finally:
            self._flush(force=True)
            self._ended = True
            self._fail_pending_futures()
            self._emit(Event.STOPPED, self.steps_done)

    def tick(self, block: bool = True) -> None:
        """One pass of the loop: apply the waiting commands (waiting up to
        :data:`IDLE_WAIT` for one when idle and ``block``), then train a chunk or make
        the snapshot that is due, then send the rows. Never raises: a failure is reported
        as ``FAILED`` and pauses the run (the thread must never die)."""
        try:
            self._iterate(block)
        except Exception as exc:
            self._do_pause()
            self._snap_wanted = False
            self._emit(Event.FAILED, f"Training stopped: {type(exc).__name__}: {exc}")

    def _iterate(self, block: bool) -> None:
        self._drain(block=block and not self._busy())
        if self._stop:
            return
        if self._busy():
            self._train_chunk()
        elif self._snap_wanted and self._acked:
            self._emit_snapshot(self._session.trainer.snapshot())
        self._flush(force=not self._busy())

    def _busy(self) -> bool:
        return self._playing or self._steps_to_run > 0

    def _drain(self, block: bool) -> None:
        try:
            cmd = self._q.get(timeout=IDLE_WAIT) if block else self._q.get_nowait()
        except queue.Empty:
            return
        while True:
            self._apply(cmd)
            try:
                cmd = self._q.get_nowait()
            except queue.Empty:
                return

    def _apply(self, cmd: _Queued) -> None:
        try:
            self._handlers[cmd.command](*cmd.args)
        except Exception as exc:  # a bad command must never kill the thread
            if cmd.future is not None and not cmd.future.done():
                cmd.future.set_exception(exc)
            else:
                self._emit(Event.FAILED, str(exc))

    def _do_play(self) -> None:
        if not self._playing:
            self._playing = True
            self._restart_pacing()
            self._emit(Event.PLAYING, True)

    def _do_pause(self) -> None:
        self._steps_to_run = 0
        if self._playing:
            self._playing = False
            self._snap_wanted = True
            self._emit(Event.PLAYING, False)

    def _do_step(self, n: int) -> None:
        if not self._playing:
            self._steps_to_run += max(int(n), 0)

    def _do_speed(self, speed: float) -> None:
        self._speed = max(speed, 0.0)
        self._restart_pacing()

    def _do_lr(self, lr: float) -> None:
        trainer = self._session.trainer
        trainer.set_learning_rate(lr)
        trainer.clear_divergence()  # a lower rate may continue from the last finite state

    def _do_config(self, changes: dict) -> None:
        trainer = self._session.trainer
        trainer.update_config(**changes)
        if "schedule" in changes:
            trainer.clear_divergence()

    def _do_session(self, session: Session, generation: int, label: str) -> None:
        self._flush(force=True)
        self._session = session
        self._epoch_seen = session.trainer.epoch
        self._in_epoch = 0
        self._gen = generation
        self._label = label
        self._steps_to_run = 0
        self._acked = True  # a snapshot of the old run is not worth waiting for
        self._snap_wanted = True
        self._restart_pacing()

    def _do_snapshot(self) -> None:
        self._snap_wanted = True

    def _do_ack(self) -> None:
        self._acked = True

    def _do_copy(self, future: Future) -> None:
        self._flush(force=True)
        s = self._session
        try:  # a state can turn non-finite between checkpoints: never hand that out to save
            s.trainer.ensure_finite()
        except DivergedError as exc:
            self._on_diverged(exc.step)
        # immutable parts (data sets, splits, their read-only arrays) can be shared
        memo = {id(o): o for o in (s.data, s.split, s.split.train, s.split.test) if o is not None}
        future.set_result(copy.deepcopy(s, memo))

    def _do_stop(self) -> None:
        self._stop = True

    def _do_add_point(self, x: float, y: float, cls: int) -> None:
        s = self._session
        if s.data.n_features != 2:
            raise ValueError("points can be added only to two-dimensional data")
        if s.data.task == "classification":
            if not 0 <= cls < max(s.spec.output_dim, 2):
                raise ValueError(f"class {cls} is not one of the network's classes")
            target = np.array([cls], dtype=np.int64)
        else:
            target = np.array([[float(cls)]])
        point = np.array([[x, y]])
        train = s.split.train
        new_train = train.with_points(np.vstack([train.X, point]), np.concatenate([train.y, target]))
        self._set_data(new_train, s.data.with_points(np.vstack([s.data.X, point]),
                                                     np.concatenate([s.data.y, target])))

    def _do_remove_point(self, index: int) -> None:
        s = self._session
        train = s.split.train
        if not 0 <= index < len(train):
            raise ValueError(f"there is no training point {index}")
        if len(train) <= 1:
            raise ValueError("the last training point cannot be removed")
        keep = np.arange(len(train)) != index
        new_train = train.subset(keep)
        # the same point in the full data set: the first row equal to it
        rows = np.flatnonzero(np.all(train.X[index] == s.data.X, axis=1))
        keep_all = np.ones(len(s.data), dtype=bool)
        if len(rows):
            keep_all[rows[0]] = False
        self._set_data(new_train, s.data.subset(keep_all))

    def _set_data(self, new_train: Dataset, new_data: Dataset) -> None:
        """Swap the training set under a running trainer, keeping weights and counters."""
        self._flush(force=True)
        s = self._session
        old = s.trainer
        state = old.get_state()
        state["perm"], state["pos"] = None, 0  # the shuffle order was for the old set
        te = s.split.test
        trainer = Trainer(
            s.network, old.config, s.pipeline.transform(new_train.X), new_train.y,
            None if te is None else old.X_test, None if te is None else te.y,
            grid=old.grid, track_layers=old.track_layers,
        )
        trainer.set_state(state)
        s.trainer = trainer
        s.data = new_data
        s.split = Split(new_train, te)
        self._emit(Event.RUN_CHANGED, self._gen, RunInfo.from_session(s, self._label))
        self._snap_wanted = True

    # --- training -----------------------------------------------------------------------
    def _restart_pacing(self) -> None:
        self._pace_t0 = time.perf_counter()
        self._pace_done = 0

    def _allowed_steps(self, now: float) -> int:
        """How many steps the speed setting allows right now (a large number at full speed)."""
        if self._speed <= 0 or self._steps_to_run > 0:
            return 1 << 30
        due = int((now - self._pace_t0) * self._speed) + 1 - self._pace_done
        if due > max(self._speed * 0.1, 1):  # fell far behind (a slow step): do not race
            self._pace_t0, self._pace_done = now, 0
            due = 1
        return due

    def _train_chunk(self) -> None:
        trainer = self._session.trainer
        rows = self._rows  # the history gets them in bulk when they are sent (_flush)
        start = time.perf_counter()
        now = start
        allowed = self._allowed_steps(now)
        if allowed <= 0:
            wait = (self._pace_done + 1) / self._speed - (now - self._pace_t0)
            self._wait_for_command(min(max(wait, 0.0005), IDLE_WAIT))
            return
        gui_free = self._gui_free
        n_train = max(trainer.n_train, 1)
        batch = trainer.config.batch_size  # settings change only between chunks
        # a command put from here on sets the flag and ends the chunk: a plain flag is far
        # cheaper than asking the queue (a lock) after every step
        self._pending = False
        if not self._q.empty():
            return
        done = 0  # added to the counters once: per-step attribute updates add up at 10k steps/s
        try:
            while allowed > 0 and not self._pending:
                if not gui_free.is_set():
                    gui_free.wait(HOLD_MAX)
                    gui_free.set()
                last_single = self._steps_to_run == 1 and not self._playing
                want = last_single or self._snap_wanted or now >= self._next_snap
                snap = want and self._acked
                try:
                    rec = trainer.step(snapshot=snap)
                except DivergedError as exc:
                    self._on_diverged(exc.step)
                    return
                except Exception as exc:  # report, pause, keep the thread alive
                    self._do_pause()
                    self._emit(Event.FAILED, f"Training stopped: {exc}")
                    return
                acc = rec.accuracy
                acc_value = math.nan if acc is None else acc
                if rec.epoch != self._epoch_seen:
                    self._epoch_seen, self._in_epoch = rec.epoch, 0
                    epoch = float(rec.epoch)
                else:
                    self._in_epoch += batch
                    epoch = rec.epoch + min(self._in_epoch / n_train, 0.999)
                # in StepColumn order: STEP, EPOCH, LOSS, REG_LOSS, ACCURACY, LR
                rows.append((rec.step, epoch, rec.loss, rec.reg_loss, acc_value, rec.lr))
                done += 1
                allowed -= 1
                if self._steps_to_run > 0:
                    self._steps_to_run -= 1
                if snap:
                    self._emit_snapshot(trainer.last_snapshot)
                elif last_single:
                    self._snap_wanted = True  # drawn once the window acknowledges the last one
                now = time.perf_counter()
                if now - self._last_emit >= EMIT_INTERVAL:
                    self._flush()
                if now - start >= CHUNK_SECONDS or not self._busy():
                    break
        finally:
            self.steps_done += done
            self._pace_done += done

    def _wait_for_command(self, seconds: float) -> None:
        try:
            cmd = self._q.get(timeout=seconds)
        except queue.Empty:
            return
        self._apply(cmd)

    def _on_diverged(self, step: int) -> None:
        self._flush(force=True)
        self._forget_rolled_back()
        was_playing = self._playing
        self._playing = False
        self._steps_to_run = 0
        if was_playing:
            self._emit(Event.PLAYING, False)
        self._emit(Event.DIVERGED, self._gen, step)
        self._snap_wanted = True  # show the last finite state

    def _forget_rolled_back(self) -> None:
        """A diverged trainer may fall back to a checkpoint: the history must not keep the
        steps it undid (a saved file would hold steps the network never had)."""
        trainer = self._session.trainer
        self._session.history.truncate(trainer.step_count)
        self._epoch_seen, self._in_epoch = trainer.epoch, 0

    def _emit_snapshot(self, snap) -> None:
        self._flush(force=True)  # the steps up to the snapshot arrive first
        ev = snap
        self._session.history.add_eval(
            ev.step, ev.train_loss, ev.train_accuracy, ev.test_loss, ev.test_accuracy
        )
        self._acked = False
        self._snap_wanted = False
        # a fixed rate (no bursts), and never more than a bounded share of the time
        now = time.perf_counter()
        cost = self._session.trainer.last_snapshot_seconds
        self._next_snap = next_snapshot_at(self._next_snap, now, self.snapshot_interval, cost)
        self._emit(Event.SNAPSHOT, self._gen, snap)

    def _flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not self._rows or (not force and now - self._last_emit < EMIT_INTERVAL):
            return
        arr = np.array(self._rows, dtype=np.float64)
        arr.flags.writeable = False
        # the session's history: step, whole epochs, loss, accuracy (NaN for regression)
        col = StepColumn
        self._session.history.add_steps(np.column_stack(
            [arr[:, col.STEP], np.floor(arr[:, col.EPOCH]), arr[:, col.LOSS], arr[:, col.ACCURACY]]))
        self._rows.clear()  # in place: the training loop holds a reference to this list
        self._last_emit = now
        self._emit(Event.STEPS, self._gen, arr)

    def _fail_pending_futures(self) -> None:
        while True:
            try:
                cmd = self._q.get_nowait()
            except queue.Empty:
                return
            if cmd.future is not None:
                with contextlib.suppress(InvalidStateError):
                    cmd.future.set_exception(RuntimeError("the training thread has stopped"))
