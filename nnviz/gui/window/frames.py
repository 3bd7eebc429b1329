"""What the window redraws on each timer tick, and when it may draw again.

Two rules keep the window responsive and the trainer fast, whatever the views cost:

* One part per tick. A snapshot is drawn view by view on consecutive ticks (each view
  shows the whole of one snapshot), and the loss plot takes its turn between them, so
  no single tick blocks the event loop for the sum of all the views.
* A duty cycle. After a part that took ``c`` seconds to update and paint, the next part
  waits ``c * (1 / budget - 1)`` seconds, so drawing takes at most ``budget`` of the
  time and the trainer (when it shares the interpreter with the window) keeps the rest.
  With the trainer in its own process the budget is high and the pause only leaves room
  for input events. On a fast machine this never binds and the views run at the
  snapshot rate.

Pure bookkeeping, no Qt: the window asks, draws and reports back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: the share of wall time the window may spend drawing while training at full speed
FRAME_BUDGET = 0.35
#: ... and with a speed limit, when the trainer has time to spare
PACED_FRAME_BUDGET = 0.7
#: ... and when the trainer runs in its own process on its own CPU: drawing takes nothing
#: from it, and the rest is left for input events
PROCESS_FRAME_BUDGET = 0.95
#: the loss plot redraws at most this often (seconds); while a snapshot is being drawn it
#: gets one turn between the views, so in practice it follows the snapshot rate
LOSS_INTERVAL = 1 / 60
LOSS = "loss"


@dataclass
class FramePlanner:
    budget: float = FRAME_BUDGET
    loss_interval: float = LOSS_INTERVAL
    pending: list[str] = field(default_factory=list)  # views still to draw the current snapshot
    loss_dirty: bool = False
    next_at: float = 0.0
    last_loss: float = -1e9
    cost_ema: float = 0.0  # seconds per part, smoothed (reported by the bench)
    _loss_in_cycle: bool = False

    def snapshot_arrived(self, views: list[str]) -> None:
        """A new snapshot for ``views`` (in drawing order); replaces an unfinished one."""
        self.pending = list(views)
        self._loss_in_cycle = False

    def steps_arrived(self) -> None:
        self.loss_dirty = True

    @property
    def snapshot_pending(self) -> bool:
        return bool(self.pending)

    def next_part(self, now: float) -> str | None:
        """The part to draw now, or None (nothing new, or the budget needs a pause)."""
        if now < self.next_at:
            return None
        loss_due = self.loss_dirty and now - self.last_loss >= self.loss_interval
        # while a snapshot is being drawn the loss plot gets one turn, so the views keep up
        if loss_due and not (self.pending and self._loss_in_cycle):
            self.loss_dirty = False
            self._loss_in_cycle = bool(self.pending)
            return LOSS
        if self.pending:
            return self.pending.pop(0)
        return None

    def part_done(self, part: str, started: float, now: float) -> None:
        """A part was updated and painted between ``started`` and ``now``."""
        cost = max(now - started, 0.0)
        self.cost_ema = cost if self.cost_ema == 0 else 0.8 * self.cost_ema + 0.2 * cost
        self.next_at = now + cost * (1.0 / self.budget - 1.0)
        if part == LOSS:
            self.last_loss = started

    def reset(self) -> None:
        self.pending.clear()
        self.loss_dirty = False
        self.next_at = 0.0


def frame_budget(speed: float, mode: str) -> float:
    """The drawing share for a trainer at ``speed`` steps/s (0: full speed) running in
    ``mode`` ("process" or "thread", see :mod:`nnviz.gui.worker`)."""
    if mode == "process":
        return PROCESS_FRAME_BUDGET
    # on a thread, drawing at full speed takes time from training; with a limit the
    # trainer idles anyway
    return FRAME_BUDGET if speed == 0 else PACED_FRAME_BUDGET
