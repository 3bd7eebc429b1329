"""The training protocol, written once: the commands a run accepts, the events it emits,
and the columns of its step rows.

The loop (:mod:`nnviz.training.loop`), the child-process transport
(:mod:`nnviz.training.process`) and the window's worker (:mod:`nnviz.gui.worker`) all
speak in these terms, so a command or an event is added here and in the one table that
handles it, and nowhere is one named by a string. Qt-free: the training process imports
it.

Commands (arguments in brackets) apply between minibatches:

* ``PLAY``, ``PAUSE``, ``STEP_ONCE (n)`` while paused, ``SET_SPEED (steps_per_second)``
  (0 is full speed), ``SET_LEARNING_RATE (lr)``, ``UPDATE_CONFIG (changes)`` (a dict of the
  trainer's live settings), ``REPLACE_SESSION (session, generation, label)``,
  ``ADD_POINT (x, y, cls)``, ``REMOVE_POINT (index)``, ``REQUEST_SNAPSHOT``,
  ``ACK_SNAPSHOT`` (the window drew the last one), ``COPY_SESSION (future)`` and ``STOP``.

Events, emitted as ``emit(event, *args)``:

* ``STEPS (generation, rows)``: every minibatch once, in order; ``rows`` is a read-only
  float64 array with the columns :class:`StepColumn`.
* ``SNAPSHOT (generation, snapshot)``: made only after the last one was acknowledged.
* ``PLAYING (bool)``, ``DIVERGED (generation, step)``, ``RUN_CHANGED (generation, info)``,
  ``FAILED (message)`` and, last of all, ``STOPPED (steps_done)``.
"""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nnviz.core.session import Session


class Command(Enum):
    """What a run can be told; plain :class:`Enum` on purpose, so a string is not one."""

    PLAY = "play"
    PAUSE = "pause"
    STEP_ONCE = "step_once"
    SET_SPEED = "set_speed"
    SET_LEARNING_RATE = "set_learning_rate"
    UPDATE_CONFIG = "update_config"
    REPLACE_SESSION = "replace_session"
    ADD_POINT = "add_point"
    REMOVE_POINT = "remove_point"
    REQUEST_SNAPSHOT = "request_snapshot"
    ACK_SNAPSHOT = "ack_snapshot"
    COPY_SESSION = "copy_session"
    STOP = "stop"


class Event(Enum):
    """What a run tells; see the module docstring for each one's arguments."""

    STEPS = "steps"
    SNAPSHOT = "snapshot"
    PLAYING = "playing"
    DIVERGED = "diverged"
    RUN_CHANGED = "run_changed"
    FAILED = "failed"
    STOPPED = "stopped"


class StepColumn(IntEnum):
    """The columns of a step row, in order: index rows with these, never with numbers.

    ``EPOCH`` is fractional (completed passes plus the share of the current one);
    ``ACCURACY`` is NaN for regression."""

    STEP = 0
    EPOCH = 1
    LOSS = 2
    REG_LOSS = 3
    ACCURACY = 4
    LR = 5


#: the step rows' column names, in order (for CSV headers and messages)
STEP_COLUMNS: tuple[str, ...] = tuple(c.name.lower() for c in StepColumn)
assert [int(c) for c in StepColumn] == list(range(len(StepColumn))), "columns must be 0..n-1"


class Commands:
    """The typed face of the commands, each written once over one :meth:`send`.

    The loop sends to its own queue, the worker to the loop or to the child process; a
    caller never names a command by a string. A plain base class, not an ABC: the Qt
    worker derives from it too, and QObject's metaclass does not mix with ABCMeta."""

    __slots__ = ()

    def send(self, command: Command, *args: Any) -> object:
        """Hand ``command`` on; it applies between minibatches. Subclasses provide it."""
        raise NotImplementedError

    def play(self) -> None:
        self.send(Command.PLAY)

    def pause(self) -> None:
        self.send(Command.PAUSE)

    def step_once(self, n: int = 1) -> None:
        """Train ``n`` minibatches while paused (ignored while playing)."""
        self.send(Command.STEP_ONCE, int(n))

    def set_speed(self, steps_per_second: float) -> None:
        """0 means full speed."""
        self.send(Command.SET_SPEED, float(steps_per_second))

    def set_learning_rate(self, lr: float) -> None:
        self.send(Command.SET_LEARNING_RATE, float(lr))

    def update_config(self, **changes: Any) -> None:
        """Batch size, L1, L2, dropout or schedule (the trainer's live settings)."""
        self.send(Command.UPDATE_CONFIG, changes)

    def replace_session(self, session: Session, generation: int, label: str) -> None:
        """Hand a new session over; the caller must not touch it afterwards."""
        self.send(Command.REPLACE_SESSION, session, int(generation), str(label))

    def add_point(self, x: float, y: float, cls: int) -> None:
        self.send(Command.ADD_POINT, float(x), float(y), int(cls))

    def remove_point(self, index: int) -> None:
        self.send(Command.REMOVE_POINT, int(index))

    def request_snapshot(self) -> None:
        self.send(Command.REQUEST_SNAPSHOT)

    def ack_snapshot(self) -> None:
        """The window drew the last snapshot: the next one may be made."""
        self.send(Command.ACK_SNAPSHOT)

    def stop(self) -> None:
        self.send(Command.STOP)
