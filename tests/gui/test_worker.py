"""The training worker on its own thread: delivery, back-pressure, commands, shutdown."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

from nnviz.app.run_settings import DataSettings, NetworkSettings, RunSettings, TrainSettings, build_session
from nnviz.core.optim import OptimizerConfig
from nnviz.core.session import demo_session
from nnviz.gui.worker import TrainingWorker, WorkerHandle, live_threads
from nnviz.training.protocol import Event, StepColumn
from tests.gui.waits import WAIT_MS, WAIT_S

STEP = StepColumn.STEP
#: regression with plain SGD and a far too large learning rate: the loss overflows in ~100 steps
DIVERGING = RunSettings(
    data=DataSettings(source="plane"), network=NetworkSettings(loss="mse"),
    train=TrainSettings(optimizer="sgd", lr=10.0),
)


class Recorder(QObject):
    """Collects the worker's emissions on the GUI thread (slots of a GUI-thread QObject,
    so every emission arrives through the event loop, as in the window)."""

    def __init__(self, handle: WorkerHandle, ack: bool = True):
        super().__init__()
        self.rows: list[np.ndarray] = []
        self.arrivals: list[tuple[float, int]] = []  # (when, last step) per emission
        self.snaps = []
        self.diverged: list[int] = []
        self.snaps_at_divergence = 0
        self.changed = []
        self.failed: list[str] = []
        self.gens: list[int] = []
        self.ack = ack
        w = handle.worker
        self.worker = w
        w.stepsReady.connect(self.on_steps)
        w.snapshotReady.connect(self.on_snap)
        w.diverged.connect(self.on_diverged)
        w.runChanged.connect(self.on_changed)
        w.failed.connect(self.on_failed)

    @Slot(int, object)
    def on_steps(self, gen, rows):
        self.rows.append(rows)
        self.arrivals.append((time.perf_counter(), int(rows[-1, STEP])))

    @Slot(int, object)
    def on_snap(self, gen, snap):
        self.snaps.append(snap)
        self.gens.append(gen)
        if self.ack:
            self.worker.ack_snapshot()

    @Slot(int, int)
    def on_diverged(self, gen, step):
        self.diverged.append(step)
        self.snaps_at_divergence = len(self.snaps)  # emissions arrive in order

    @Slot(int, object)
    def on_changed(self, gen, info):
        self.changed.append(info)

    @Slot(str)
    def on_failed(self, message):
        self.failed.append(message)

    @property
    def steps(self) -> np.ndarray:
        if not self.rows:
            return np.zeros(0)
        return np.concatenate([r[:, STEP] for r in self.rows])


@pytest.fixture(params=["process", "thread"])
def mode(request):
    """Every contract holds whether the loop trains in a child process or on a thread."""
    return request.param


@pytest.fixture
def handle(qapp, mode):
    h = WorkerHandle(demo_session(), mode=mode)
    h.start()
    yield h
    assert h.shutdown()


def test_every_minibatch_is_delivered_once_in_order(handle, qtbot):
    rec = Recorder(handle)
    handle.worker.play()
    qtbot.waitUntil(lambda: rec.steps.size >= 600, timeout=WAIT_MS)
    handle.worker.pause()
    # the copy is made after the pause: every row it counts was sent before it (the
    # last ones may still wait in the event loop)
    copy = handle.worker.copy_session().result(timeout=WAIT_S)
    qtbot.waitUntil(lambda: rec.steps.size >= copy.trainer.step_count, timeout=WAIT_MS)
    steps = rec.steps
    assert np.array_equal(steps, np.arange(1, steps.size + 1))
    assert all(not r.flags.writeable for r in rec.rows)
    # batched: emissions carry many minibatches each
    assert len(rec.rows) < steps.size and max(len(r) for r in rec.rows) > 1
    assert copy.trainer.step_count == steps.size
    assert copy.history.steps.size == steps.size


def test_snapshots_wait_for_the_window(handle, qtbot):
    rec = Recorder(handle, ack=False)
    handle.worker.play()
    qtbot.waitUntil(lambda: len(rec.snaps) == 1, timeout=WAIT_MS)
    qtbot.wait(300)  # training goes on, but no second snapshot without an acknowledgement
    assert len(rec.snaps) == 1
    qtbot.waitUntil(lambda: rec.steps.size > rec.snaps[0].step, timeout=WAIT_MS)
    handle.worker.ack_snapshot()
    qtbot.waitUntil(lambda: len(rec.snaps) == 2, timeout=WAIT_MS)
    assert rec.snaps[1].step > rec.snaps[0].step
    handle.worker.pause()


def test_single_steps_and_their_snapshot(handle, qtbot):
    rec = Recorder(handle)
    qtbot.waitUntil(lambda: len(rec.snaps) == 1, timeout=WAIT_MS)  # the state before training
    assert rec.snaps[0].step == 0
    handle.worker.step_once(3)
    qtbot.waitUntil(lambda: rec.steps.size == 3 and rec.snaps[-1].step == 3, timeout=WAIT_MS)
    qtbot.wait(100)
    assert rec.steps.size == 3


def test_live_settings_apply_between_minibatches(handle, qtbot):
    w = handle.worker
    w.set_learning_rate(0.05)
    w.update_config(batch_size=25, l2=0.001, dropout=0.1)
    s = w.copy_session().result(timeout=WAIT_S)
    assert s.trainer.config.optimizer.lr == pytest.approx(0.05)
    assert s.trainer.config.batch_size == 25
    assert s.train_config.l2 == pytest.approx(0.001)
    assert s.trainer.config.dropout == pytest.approx(0.1)


def test_a_bad_live_setting_is_reported_not_fatal(handle, qtbot):
    rec = Recorder(handle)
    handle.worker.set_learning_rate(-1.0)
    qtbot.waitUntil(lambda: bool(rec.failed), timeout=WAIT_MS)
    assert "learning rate" in rec.failed[0]
    handle.worker.step_once(1)
    qtbot.waitUntil(lambda: rec.steps.size == 1, timeout=WAIT_MS)


def test_speed_limit(handle, qtbot):
    """At 100 steps/s no step arrives before its time. A busy machine only makes steps
    later, so the bound holds under any load; nothing here asks for a minimum speed."""
    rec = Recorder(handle)
    qtbot.waitUntil(lambda: bool(rec.snaps), timeout=WAIT_MS)  # the loop is up (a process starts first)
    handle.worker.set_speed(100)
    t_play = time.perf_counter()  # before the loop can see the command: its clock starts later
    handle.worker.play()
    qtbot.waitUntil(lambda: rec.steps.size >= 40, timeout=WAIT_MS)
    handle.worker.pause()
    assert rec.arrivals
    for t, last_step in rec.arrivals:  # the pacer allows step k at (k - 1) / speed
        assert last_step <= 100 * (t - t_play) + 2, (last_step, t - t_play)


def test_divergence_pauses_and_keeps_finite_weights(qapp, qtbot, mode):
    h = WorkerHandle(build_session(DIVERGING), mode=mode)
    h.start()
    try:
        rec = Recorder(h)
        h.worker.play()
        qtbot.waitUntil(lambda: bool(rec.diverged), timeout=WAIT_MS)
        # the state kept: a snapshot after the divergence (it may already be here)
        qtbot.waitUntil(lambda: len(rec.snaps) > rec.snaps_at_divergence, timeout=WAIT_MS)
        assert all(np.isfinite(p).all() for p in rec.snaps[-1].params)
        assert rec.snaps[-1].step < rec.diverged[0]
        copy = h.worker.copy_session().result(timeout=WAIT_S)
        assert all(np.isfinite(p).all() for p in copy.network.params)
        assert copy.trainer.diverged_at == rec.diverged[0]
        # the history holds no step the network no longer has
        assert copy.history.steps.column("step")[-1] == copy.trainer.step_count
        # lowering the learning rate lets training go on from the last finite state
        h.worker.set_learning_rate(1e-3)
        h.worker.step_once(2)
        before = rec.steps.size
        qtbot.waitUntil(lambda: rec.steps.size == before + 2, timeout=WAIT_MS)
    finally:
        assert h.shutdown()


def test_points_can_be_added_and_removed(handle, qtbot):
    rec = Recorder(handle)
    n = handle.worker.copy_session().result(timeout=WAIT_S).split.train.X.shape[0]
    handle.worker.add_point(0.25, -0.5, 1)
    qtbot.waitUntil(lambda: len(rec.changed) == 1, timeout=WAIT_MS)
    info = rec.changed[-1]
    assert info.n_train == n + 1
    assert np.allclose(info.train_X[-1], [0.25, -0.5]) and info.train_y[-1] == 1
    handle.worker.remove_point(0)
    qtbot.waitUntil(lambda: len(rec.changed) == 2, timeout=WAIT_MS)
    assert rec.changed[-1].n_train == n
    handle.worker.step_once(5)
    qtbot.waitUntil(lambda: rec.steps.size == 5, timeout=WAIT_MS)
    handle.worker.add_point(0.0, 0.0, 7)  # the demo has two classes
    qtbot.waitUntil(lambda: bool(rec.failed), timeout=WAIT_MS)


def test_replacing_the_session_renumbers_the_run(handle, qtbot):
    rec = Recorder(handle)
    qtbot.waitUntil(lambda: rec.gens == [0], timeout=WAIT_MS)
    handle.worker.replace_session(demo_session(), 7, "run 7")
    qtbot.waitUntil(lambda: rec.gens[-1] == 7, timeout=WAIT_MS)


def test_stop_while_training_ends_the_thread(qapp, qtbot, mode):
    h = WorkerHandle(demo_session(), mode=mode)
    h.start()
    h.worker.play()
    qtbot.waitUntil(lambda: h.worker.playing, timeout=WAIT_MS)
    assert h.shutdown()  # False if the thread had not ended within the handle's limit
    assert not live_threads()
    with pytest.raises(RuntimeError):
        h.worker.copy_session().result(timeout=WAIT_S)


def test_copies_are_independent_of_the_training_session(handle, qtbot):
    s = handle.worker.copy_session().result(timeout=WAIT_S)
    assert isinstance(s.trainer.config.optimizer, OptimizerConfig)
    before = [p.copy() for p in s.network.params]
    rec = Recorder(handle)
    handle.worker.step_once(5)
    qtbot.waitUntil(lambda: len(rec.steps) >= 5, timeout=WAIT_MS)
    later = handle.worker.copy_session().result(timeout=WAIT_S)
    assert later.trainer.step_count == s.trainer.step_count + 5
    assert all(np.array_equal(a, b) for a, b in zip(before, s.network.params, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(before, later.network.params, strict=True))


def _arrays(obj, seen=None):
    """Every NumPy array reachable from a snapshot (tuples, dicts, dataclass fields)."""
    import dataclasses

    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _arrays(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _arrays(item)
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _arrays(getattr(obj, f.name))


def test_snapshots_arrive_read_only(handle, qtbot):
    """Views keep snapshot arrays: in both modes nobody may write to them."""
    rec = Recorder(handle)
    handle.worker.step_once(2)
    qtbot.waitUntil(lambda: bool(rec.snaps) and rec.snaps[-1].step == 2, timeout=WAIT_MS)
    arrays = list(_arrays(rec.snaps[-1]))
    assert len(arrays) > 20  # weights, histograms, grids: the walk found them
    assert not any(a.flags.writeable for a in arrays)


def test_a_crashed_training_process_is_reported_and_ends_cleanly(qapp, qtbot):
    h = WorkerHandle(demo_session(), mode="process")
    rec = Recorder(h)
    h.start()
    qtbot.waitUntil(lambda: bool(rec.snaps), timeout=WAIT_MS)
    h.worker.play()
    h.worker._process.process.kill()
    qtbot.waitUntil(lambda: bool(rec.failed), timeout=WAIT_MS)
    assert "training process ended unexpectedly" in rec.failed[0]
    assert h.thread.wait(5000)
    assert not h.worker.playing
    with pytest.raises(RuntimeError):
        h.worker.copy_session().result(timeout=WAIT_S)
    assert h.shutdown()


def test_training_mode_follows_the_environment(monkeypatch):
    from nnviz.gui import worker

    monkeypatch.setenv(worker.ENV_MODE, "thread")
    assert worker.training_mode() == "thread"
    monkeypatch.setenv(worker.ENV_MODE, "process")
    assert worker.training_mode() == "process"
    monkeypatch.delenv(worker.ENV_MODE)
    assert worker.training_mode() == ("process" if worker.usable_cpus() >= 2 else "thread")


def test_a_handle_never_started_leaves_no_process(qapp):
    import multiprocessing

    h = WorkerHandle(demo_session(), mode="process")
    assert h.shutdown()
    assert not multiprocessing.active_children()


def test_every_event_has_one_signal_or_handler(qapp):
    """The worker's table covers the protocol: an event added there fails here until the
    worker carries it."""
    w = TrainingWorker(demo_session(), mode="thread")  # no thread, no process
    assert set(w._handlers) == set(Event)
