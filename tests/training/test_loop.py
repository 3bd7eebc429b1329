"""The training loop driven synchronously: no thread, no process, no Qt.

Each test builds a :class:`TrainingLoop` with a recording ``emit``, sends commands and
calls :meth:`TrainingLoop.tick` itself, so what the loop emits is seen in the order it
emitted it. Waits are on conditions with one generous limit, never on the clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest

from nnviz.app.run_settings import DataSettings, NetworkSettings, RunSettings, TrainSettings, build_session
from nnviz.core.session import demo_session
from nnviz.training.loop import TrainingLoop
from nnviz.training.protocol import STEP_COLUMNS, Command, Event, StepColumn

#: the longest a test ticks the loop waiting for a condition (only a fault reaches it), s
WAIT_S = 60.0
#: regression with plain SGD and a far too large learning rate: the loss overflows in ~100 steps
DIVERGING = RunSettings(
    data=DataSettings(source="plane"), network=NetworkSettings(loss="mse"),
    train=TrainSettings(optimizer="sgd", lr=10.0),
)


class Recorder:
    """The loop's ``emit``: keeps every event in order; acknowledges snapshots if asked."""

    def __init__(self) -> None:
        self.log: list[tuple[Event, tuple]] = []
        self.loop: TrainingLoop | None = None
        self.ack = False

    def __call__(self, event: Event, *args: Any) -> None:
        assert isinstance(event, Event)
        self.log.append((event, args))
        if event is Event.SNAPSHOT and self.ack:
            self.loop.ack_snapshot()

    def of(self, event: Event) -> list[tuple]:
        return [args for e, args in self.log if e is event]

    @property
    def rows(self) -> np.ndarray:
        batches = [rows for _gen, rows in self.of(Event.STEPS)]
        return np.concatenate(batches) if batches else np.zeros((0, len(STEP_COLUMNS)))

    @property
    def steps(self) -> np.ndarray:
        return self.rows[:, StepColumn.STEP]

    @property
    def snaps(self) -> list:
        return [snap for _gen, snap in self.of(Event.SNAPSHOT)]


def make(session=None, ack: bool = False) -> tuple[TrainingLoop, Recorder]:
    rec = Recorder()
    loop = TrainingLoop(session if session is not None else demo_session(), rec)
    rec.loop, rec.ack = loop, ack
    return loop, rec


def tick_until(loop: TrainingLoop, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        loop.tick(block=False)


def settle(loop: TrainingLoop) -> None:
    """Apply what was sent and let the loop go idle (rows flushed, due snapshot made)."""
    tick_until(loop, lambda: not loop._busy() and loop._q.empty())
    loop.tick(block=False)


# --- the protocol ----------------------------------------------------------------------
def test_every_command_has_one_handler_and_strings_are_not_commands():
    loop, _ = make()
    assert set(loop._handlers) == set(Command)
    with pytest.raises(TypeError):
        loop.send("play")
    with pytest.raises(TypeError):
        loop.send(Command.COPY_SESSION)  # answered through a future: copy_session()


def test_step_columns_are_one_definition():
    assert tuple(c.name.lower() for c in StepColumn) == STEP_COLUMNS
    assert [int(c) for c in StepColumn] == list(range(len(STEP_COLUMNS)))
    assert STEP_COLUMNS[StepColumn.ACCURACY] == "accuracy"


# --- steps and snapshots ---------------------------------------------------------------
def test_every_minibatch_is_emitted_once_in_order():
    loop, rec = make(ack=True)
    loop.play()
    tick_until(loop, lambda: rec.steps.size >= 300)
    loop.pause()
    settle(loop)
    rows = rec.rows
    n = rows.shape[0]
    assert np.array_equal(rows[:, StepColumn.STEP], np.arange(1, n + 1))
    assert all(not r.flags.writeable for _g, r in rec.of(Event.STEPS))
    assert len(rec.of(Event.STEPS)) < n  # batched: events carry many minibatches each
    session = loop._session
    assert session.trainer.step_count == n == loop.steps_done
    history = session.history.steps
    assert np.array_equal(history.column("step"), rows[:, StepColumn.STEP])
    assert np.array_equal(history.column("loss"), rows[:, StepColumn.LOSS])
    assert np.array_equal(history.column("epoch"), np.floor(rows[:, StepColumn.EPOCH]))
    epochs = rows[:, StepColumn.EPOCH]
    assert np.all(np.diff(epochs) > 0)  # fractional epochs grow with every minibatch
    assert np.all((rows[:, StepColumn.ACCURACY] >= 0) & (rows[:, StepColumn.ACCURACY] <= 1))
    assert np.allclose(rows[:, StepColumn.LR], 0.01)
    assert rec.of(Event.PLAYING) == [(True,), (False,)]


def test_snapshots_wait_for_the_acknowledgement():
    loop, rec = make()
    loop.play()
    tick_until(loop, lambda: len(rec.snaps) == 1 and rec.steps.size > 200)
    assert len(rec.snaps) == 1  # training went on, no second snapshot without an ack
    loop.ack_snapshot()
    tick_until(loop, lambda: len(rec.snaps) == 2)
    assert rec.snaps[1].step > rec.snaps[0].step
    # the steps up to a snapshot arrive before it
    at = next(i for i, (e, a) in enumerate(rec.log) if e is Event.SNAPSHOT and a[1] is rec.snaps[1])
    before = [a[1] for e, a in rec.log[:at] if e is Event.STEPS]
    assert np.concatenate(before)[-1, StepColumn.STEP] == rec.snaps[1].step
    loop.pause()
    settle(loop)


def test_single_steps_and_their_snapshot():
    loop, rec = make()
    loop.tick(block=False)
    assert [s.step for s in rec.snaps] == [0]  # the state before training
    loop.step_once(3)
    settle(loop)
    assert rec.steps.tolist() == [1, 2, 3]
    assert len(rec.snaps) == 1  # the snapshot of step 3 waits for the acknowledgement
    loop.ack_snapshot()
    settle(loop)
    assert [s.step for s in rec.snaps] == [0, 3]
    settle(loop)
    assert rec.steps.size == 3 and not rec.of(Event.PLAYING)


def test_live_settings_apply_between_minibatches():
    loop, rec = make(ack=True)
    loop.step_once(5)
    settle(loop)
    loop.set_learning_rate(0.05)
    loop.update_config(batch_size=25, l2=0.001, dropout=0.1)
    loop.step_once(5)
    settle(loop)
    rows = rec.rows
    assert rows[:, StepColumn.STEP].tolist() == list(range(1, 11))
    assert np.allclose(rows[:5, StepColumn.LR], 0.01) and np.allclose(rows[5:, StepColumn.LR], 0.05)
    n_train = loop._session.trainer.n_train
    assert np.allclose(np.diff(rows[:5, StepColumn.EPOCH]), 10 / n_train)
    assert np.allclose(np.diff(rows[5:, StepColumn.EPOCH]), 25 / n_train)
    s = loop._session
    assert s.trainer.config.batch_size == 25
    assert s.train_config.l2 == pytest.approx(0.001)
    assert s.trainer.config.dropout == pytest.approx(0.1)


def test_a_bad_live_setting_is_reported_not_fatal():
    loop, rec = make(ack=True)
    loop.set_learning_rate(-1.0)
    settle(loop)
    assert "learning rate" in rec.of(Event.FAILED)[0][0]
    loop.step_once(1)
    settle(loop)
    assert rec.steps.tolist() == [1]


def test_a_bad_command_argument_is_reported_not_fatal():
    loop, rec = make(ack=True)
    loop.send(Command.STEP_ONCE, 1, 2, 3)  # too many arguments
    settle(loop)
    assert len(rec.of(Event.FAILED)) == 1
    loop.step_once(2)
    settle(loop)
    assert rec.steps.tolist() == [1, 2]


# --- divergence and copies ---------------------------------------------------------------
def test_divergence_pauses_rolls_back_and_truncates_the_history():
    loop, rec = make(build_session(DIVERGING), ack=True)
    loop.play()
    tick_until(loop, lambda: bool(rec.of(Event.DIVERGED)))
    _gen, step = rec.of(Event.DIVERGED)[0]
    assert rec.of(Event.PLAYING)[-1] == (False,)
    at = len(rec.snaps)
    tick_until(loop, lambda: len(rec.snaps) > at)  # the state kept is shown
    snap = rec.snaps[-1]
    assert all(np.isfinite(p).all() for p in snap.params) and snap.step < step
    s = loop._session
    assert s.trainer.diverged_at == step
    assert s.history.steps.column("step")[-1] == s.trainer.step_count
    copy = loop.copy_session()
    settle(loop)
    copied = copy.result(timeout=WAIT_S)
    assert all(np.isfinite(p).all() for p in copied.network.params)
    assert copied.history.steps.column("step")[-1] == copied.trainer.step_count
    # a lower learning rate goes on from the last finite state
    before = rec.steps.size
    kept = s.trainer.step_count
    loop.set_learning_rate(1e-3)
    loop.step_once(2)
    settle(loop)
    assert rec.steps[before:].tolist() == [kept + 1, kept + 2]


def test_a_copy_for_saving_is_never_a_non_finite_state():
    """Between checkpoints a state can turn non-finite while the loss is still finite: the
    copy a save takes rolls back first and says the run diverged."""
    session = demo_session()
    for _ in range(40):
        session.trainer.step()
    loop, rec = make(session)
    session.trainer.network.flat[0] = np.inf  # as an overflowing update would leave it
    future: Future = Future()
    loop._do_copy(future)
    copy = future.result(timeout=WAIT_S)
    assert np.isfinite(copy.trainer.network.flat).all()
    assert copy.trainer.step_count <= 40 and rec.of(Event.DIVERGED)


def test_copies_are_independent_of_the_training_session():
    loop, _rec = make(ack=True)
    first = loop.copy_session()
    settle(loop)
    s = first.result(timeout=WAIT_S)
    before = [p.copy() for p in s.network.params]
    loop.step_once(5)
    settle(loop)
    later = loop.copy_session()
    settle(loop)
    later = later.result(timeout=WAIT_S)
    assert later.trainer.step_count == s.trainer.step_count + 5
    assert all(np.array_equal(a, b) for a, b in zip(before, s.network.params, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(before, later.network.params, strict=True))


# --- data and runs ---------------------------------------------------------------------
def test_points_are_added_and_removed():
    loop, rec = make(ack=True)
    n = loop._session.split.train.X.shape[0]
    loop.add_point(0.25, -0.5, 1)
    settle(loop)
    (_gen, info), = rec.of(Event.RUN_CHANGED)
    assert info.n_train == n + 1
    assert np.allclose(info.train_X[-1], [0.25, -0.5]) and info.train_y[-1] == 1
    loop.remove_point(0)
    settle(loop)
    assert rec.of(Event.RUN_CHANGED)[-1][1].n_train == n
    loop.step_once(5)
    settle(loop)
    assert rec.steps.tolist() == [1, 2, 3, 4, 5]
    loop.add_point(0.0, 0.0, 7)  # the demo has two classes
    loop.remove_point(10**6)
    settle(loop)
    assert len(rec.of(Event.FAILED)) == 2 and len(rec.of(Event.RUN_CHANGED)) == 2


def test_replacing_the_session_renumbers_the_run():
    loop, rec = make(ack=True)
    loop.step_once(2)
    settle(loop)
    loop.replace_session(demo_session(), 7, "run 7")
    loop.step_once(1)
    settle(loop)
    gens = [g for g, _rows in rec.of(Event.STEPS)]
    assert gens[0] == 0 and gens[-1] == 7
    assert rec.of(Event.STEPS)[-1][1][:, StepColumn.STEP].tolist() == [1]  # the new run's first step
    assert rec.of(Event.SNAPSHOT)[-1][0] == 7


def test_stop_ends_the_run_and_fails_later_copies():
    loop, rec = make()
    loop.step_once(3)
    loop.stop()
    loop.run()  # returns at once: the stop flag is set
    assert rec.log[-1] == (Event.STOPPED, (loop.steps_done,))
    with pytest.raises(RuntimeError):
        loop.copy_session().result(timeout=WAIT_S)
