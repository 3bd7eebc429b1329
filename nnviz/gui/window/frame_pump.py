"""Worker emissions in, redraws out: the window's side of the training feed.

The :class:`FramePump` is given the views (from the registry), the window they are in,
its status bar and dialogs, and the worker of the current run. Emissions are only stored when
they arrive (rows appended, the latest snapshot kept); a timer (:data:`FRAME_MS`) takes
them and draws at most one part per tick, as :mod:`nnviz.gui.window.frames` plans. While a part
updates and paints, the worker stands aside (``hold``/``release``): both threads run
Python under one GIL, and a paint that must win the GIL back after each of its calls
into Qt takes many times longer and blocks the event loop for as long.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from nnviz.core.trainer import Snapshot
from nnviz.gui.views.base import REGISTRY
from nnviz.gui.window.dialogs import Dialogs
from nnviz.gui.window.frames import LOSS, FramePlanner
from nnviz.gui.window.status import RateMeter, StatusPanel
from nnviz.training.protocol import StepColumn

#: the redraw timer's period: at most this often a part is drawn
FRAME_MS = 10
#: a part ends when the window has not painted for this long (ms): follow-up paints count,
#: and the trainer on a thread stands aside for them too. A trainer in its own process
#: needs no such wait: a late second paint is simply counted with the next part.
SETTLE_MS = 3
#: a part whose paint never came is given up after this long (seconds)
HOLD_TIMEOUT = 0.05
#: the status bar's numbers change at most this often (reading them needs a moment)
STATUS_MS = 250
#: NNVIZ_TRACE_FRAMES=1 prints, per drawn part, when its update ended and each paint's
#: start and length (ms from the part's start): where a frame's time goes
TRACE_FRAMES = bool(os.environ.get("NNVIZ_TRACE_FRAMES"))
VIEW_TITLES = {entry.name: entry.noun for entry in REGISTRY}


class FramePump(QObject):
    """Receives what the worker sends, buffers it, and draws it frame by frame.

    ``views`` are the registry's views by name, ``docks`` the docks of the docked ones;
    ``snapshot_views`` are drawn per snapshot in this order, ``rows_views`` are fed step
    rows and drawn as the planner's LOSS part. The pump watches ``window``'s paints (an
    event filter) to know when a part is on screen."""

    frameDrawn = Signal()

    def __init__(self, window: QWidget, views: dict, docks: dict, snapshot_views: tuple[str, ...],
                 rows_views: tuple[str, ...], status: StatusPanel, dialogs: Dialogs) -> None:
        super().__init__(window)
        self.window = window
        self.views = views
        self.docks = docks
        self.snapshot_views = snapshot_views
        self.rows_views = rows_views
        self.status = status
        self.dialogs = dialogs
        self.worker = None  # the current run's worker (attach)
        self.generation = 0  # emissions of other runs are dropped
        self.playing = False  # the status bar shows a rate only while training
        self.diverged = False  # after a divergence the network is back at its last finite state
        self._holding = False  # a part is being drawn while the worker stands aside
        self.frame_count = 0  # parts drawn
        self.snapshots_drawn = 0  # snapshots every visible view has drawn
        self.last_step = 0
        self.last_epoch = 0
        self.steps_received = 0  # every minibatch the window was told about, this run
        self.planner = FramePlanner()
        self._failed_views: set[str] = set()
        self._pending_rows: list[np.ndarray] = []
        self._snap: Snapshot | None = None
        self._snap_new = False
        self._drawing: Snapshot | None = None
        self._recent_rows: np.ndarray | None = None
        self._part = LOSS
        self._part_t0 = 0.0
        self._last_paint = 0.0
        self._last_eval: tuple | None = None
        self._last_batch: tuple[float, float | None] = (math.nan, None)
        self._rate = RateMeter()
        self._last_status = 0.0
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_settled)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_frame)
        # the next part starts as soon as the planner allows, not at the timer's next tick
        # (up to FRAME_MS later: at 5 parts a snapshot that alone would cap the frame rate)
        self._kick = QTimer(self)
        self._kick.setSingleShot(True)
        self._kick.setTimerType(Qt.TimerType.PreciseTimer)
        self._kick.timeout.connect(self._on_frame)
        window.installEventFilter(self)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._kick.stop()
        self._settle.stop()

    @property
    def latest_snapshot(self) -> Snapshot | None:
        """The newest snapshot of this run (drawn or about to be), None before the first."""
        return self._snap

    def redraw_latest(self) -> None:
        """Draw the latest snapshot again on the next frame (a view was shown or went back
        to this run); nothing before the run's first snapshot."""
        if self._snap is not None:
            self._snap_new = True

    def view_shown(self, name: str) -> bool:
        """Whether view ``name`` is on screen: the central one always, a docked one while
        its dock is visible and not a tab behind another (Qt keeps those "visible", out of
        sight)."""
        dock = self.docks.get(name)
        return dock is None or (dock.isVisible() and not dock.visibleRegion().isEmpty())

    def new_run(self, generation: int, step: int, epoch: int) -> None:
        """A new run: nothing of the old one may be drawn."""
        self.generation = generation
        self.diverged = False
        self._pending_rows.clear()
        self._snap = None
        self._snap_new = False
        self._drawing = None
        self._recent_rows = None
        self.planner.reset()
        self._failed_views = set()  # views that raised while drawing this run
        self._last_eval = None
        self._last_batch = (math.nan, None)
        self.steps_received = 0
        self._rate.clear()
        self.last_step = step
        self.last_epoch = epoch

    def attach(self, worker) -> None:
        """Draw what ``worker`` (the current run's) sends."""
        self.worker = worker
        self._settle.setInterval(SETTLE_MS if worker.mode == "thread" else 0)
        worker.stepsReady.connect(self._on_steps)
        worker.snapshotReady.connect(self._on_snapshot)

    # --- worker emissions (stored now, drawn on the next frame) -------------------------
    def _on_steps(self, generation: int, rows: np.ndarray) -> None:
        if generation != self.generation:
            return
        self._pending_rows.append(rows)
        self.steps_received += len(rows)

    def _on_snapshot(self, generation: int, snap: Snapshot) -> None:
        if generation != self.generation:
            self.worker.ack_snapshot()
            return
        self._snap = snap
        self._snap_new = True
        if not self._holding and not self.planner.snapshot_pending:
            self._kick.start(0)

    # --- drawing ------------------------------------------------------------------------
    def _on_frame(self) -> None:
        """The redraw timer: take what arrived, then draw at most one part (see frames.py)."""
        now = time.perf_counter()
        if self._holding and now - self._part_t0 > HOLD_TIMEOUT:
            self._part_finished(now)  # the part changed nothing on screen
        self._take_rows()
        self._take_snapshot()
        if not self._holding:
            part = self.planner.next_part(now)
            if part is not None:
                self._draw_part(part, now)
            elif now < self.planner.next_at:
                self._kick_when_due()
        self.refresh_status(force=not self.playing)

    def _take_rows(self) -> None:
        if not self._pending_rows:
            return
        pending = self._pending_rows
        rows = pending[0] if len(pending) == 1 else np.concatenate(pending)
        pending.clear()
        for name in self.rows_views:
            self.views[name].add_rows(rows)
        prev = self._recent_rows  # the snapshot of these steps may arrive a tick later
        self._recent_rows = rows if prev is None else np.concatenate([prev[-256:], rows])
        last = rows[-1]
        self.last_step = int(last[StepColumn.STEP])
        self.last_epoch = int(last[StepColumn.EPOCH])
        last_acc = float(last[StepColumn.ACCURACY])
        self._last_batch = (float(last[StepColumn.LOSS]), None if math.isnan(last_acc) else last_acc)
        self._rate.add(self.last_step)
        self.planner.steps_arrived()

    def _take_snapshot(self) -> None:
        # a snapshot is drawn whole before the next one is taken (one view at a time)
        if not self._snap_new or self._snap is None or self.planner.snapshot_pending:
            return
        self._snap_new = False
        snap = self._snap
        self._drawing = snap
        ev = (snap.step, self._fractional_epoch(snap.step, snap.epoch), snap.train_loss, snap.test_loss,
              snap.test_accuracy, snap.train_accuracy)
        if ev != self._last_eval:
            for name in self.rows_views:
                self.views[name].add_eval(*ev)
            self._last_eval = ev
            self.planner.steps_arrived()
        if snap.step > self.last_step or self.diverged:
            # after a divergence the network is back at its last finite state
            self.last_step, self.last_epoch = snap.step, snap.epoch
        self.planner.snapshot_arrived([k for k in self.snapshot_views if self.view_shown(k)])
        # double buffering: the trainer makes the next snapshot while this one is drawn, so
        # a cycle never waits for a round trip to the worker; still one at most in flight
        self.worker.ack_snapshot()

    def _fractional_epoch(self, step: int, epoch: int) -> float:
        """Where ``step`` lies on the epoch axis (snapshots only know whole epochs)."""
        rows = self._recent_rows
        if rows is not None and len(rows):
            i = int(np.searchsorted(rows[:, StepColumn.STEP], step))
            if i < len(rows) and rows[i, StepColumn.STEP] == step:
                return float(rows[i, StepColumn.EPOCH])
        return float(epoch)

    def _draw_part(self, part: str, now: float) -> None:
        # the planner's LOSS part redraws the rows views, any other part is a snapshot view
        names = self.rows_views if part == LOSS else (part,)
        before = sum(self.views[k].frame_count for k in names)
        self._part_paints: list[tuple[float, float]] = []
        # the trainer stands aside for the whole part, update and paint (see event())
        self.worker.hold()
        self._holding = True
        self._part = part
        self._part_t0 = now
        for name in names:
            if not self.view_shown(name) or name in self._failed_views:
                continue
            view = self.views[name]
            try:
                if part == LOSS:
                    view.redraw()
                else:
                    view.show_snapshot(self._drawing)
            except Exception as exc:  # one view's fault: said once, the other views go on
                self._view_failed(name, exc)
        if part != LOSS and not self.planner.snapshot_pending:
            self.snapshots_drawn += 1
        self._part_updated = time.perf_counter()
        if sum(self.views[k].frame_count for k in names) == before:  # nothing to paint
            self._part_finished(time.perf_counter())
            return
        self.frame_count += 1
        self.frameDrawn.emit()

    def _view_failed(self, part: str, exc: Exception) -> None:
        """A view that raised while drawing is left alone for the rest of the run (it would
        raise on every frame); the user is told once."""
        self._failed_views.add(part)
        text = (f"The {VIEW_TITLES.get(part, part)} panel cannot draw this run "
                f"({type(exc).__name__}: {exc}); the other panels go on.")
        self.status.message(text, 10000)
        self.dialogs.show_error(self.window, "Drawing", text)

    def _part_finished(self, now: float) -> None:
        if TRACE_FRAMES:
            _trace_part(self._part, self._part_t0, getattr(self, "_part_updated", now),
                        getattr(self, "_part_paints", []), time.perf_counter())
        self._settle.stop()
        self._holding = False
        self.worker.release()
        self.planner.part_done(self._part, self._part_t0, now)
        self._kick_when_due()

    def _kick_when_due(self) -> None:
        """Start the next part the moment the planner allows it (rounded up: a timer that
        fires early finds nothing to do and the part waits for the next tick)."""
        if self.planner.snapshot_pending or self._snap_new or self.planner.loss_dirty:
            wait = self.planner.next_at - time.perf_counter()
            self._kick.start(max(math.ceil(wait * 1000), 0))

    def refresh_status(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_status < STATUS_MS / 1000:
            return
        self._last_status = now
        if self._last_eval is not None:
            _, _, tr_loss, te_loss, te_acc, tr_acc = self._last_eval
        else:
            tr_loss, tr_acc = self._last_batch
            te_loss = te_acc = None
        self.status.show(self.last_epoch, self.last_step, tr_loss, te_loss, tr_acc, te_acc,
                         self._rate.rate(now) if self.playing else 0.0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The window's paints while a part is drawn: timed, and the part ends once they settle."""
        if self._holding and watched is self.window and event.type() == QEvent.Type.UpdateRequest:
            started = time.perf_counter()
            self.window.event(event)  # paints every dirty widget of the window
            if TRACE_FRAMES:
                self._part_paints.append((started, time.perf_counter()))
            # pyqtgraph often paints twice (a range or axis update in the first paint asks
            # for a second): the part ends once no paint came for SETTLE_MS
            self._last_paint = time.perf_counter()
            self._settle.start()
            return True  # handled: not delivered a second time
        return False

    def _on_settled(self) -> None:
        if self._holding:
            self._part_finished(self._last_paint)


def _trace_part(part: str, t0: float, updated: float, paints: list[tuple[float, float]], end: float) -> None:
    spans = " ".join(f"@{1e3 * (a - t0):.1f}+{1e3 * (b - a):.1f}" for a, b in paints)
    print(f"frame part {part:<10} update {1e3 * (updated - t0):5.1f} ms  paints {spans or '-'}  "
          f"end {1e3 * (end - t0):5.1f} ms", file=sys.stderr, flush=True)
