"""The Snapshot contract (nnviz.core.snapshot): re-exported from the trainer, dead units at
the run's start kept apart from those that died since, histogram bins that follow the values."""

from __future__ import annotations

import dataclasses

import numpy as np

from nnviz.core import snapshot as snapshot_module
from nnviz.core import stats
from nnviz.core.optim import OptimizerConfig
from nnviz.core.trainer import DivergedError, GridMaps, LayerSnapshot, Snapshot, TrainConfig, Trainer
from tests.core.helpers import make_network


def _trainer(lr: float = 0.01, seed: int = 0, units: int = 16) -> Trainer:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    net = make_network([2, units, units, 2], activation="relu", seed=seed)
    cfg = TrainConfig(optimizer=OptimizerConfig("sgd", {"lr": lr}), batch_size=20, seed=seed)
    return Trainer(net, cfg, X, y)


def test_the_snapshot_classes_are_the_same_from_either_module():
    assert Snapshot is snapshot_module.Snapshot
    assert LayerSnapshot is snapshot_module.LayerSnapshot
    assert GridMaps is snapshot_module.GridMaps


def test_dead_at_start_is_recorded_before_the_first_step_and_kept():
    t = _trainer()
    # what is dead before any step, measured the way a snapshot measures it
    before = t.snapshot()
    t2 = _trainer()
    t2.step(snapshot=True)
    first = t2.last_snapshot
    for a, b in zip(before.layers[:-1], first.layers[:-1], strict=True):
        assert b.dead_at_start is not None and b.dead_at_start.dtype == bool
        assert np.array_equal(a.dead_units, b.dead_at_start)  # before the step, not after it
        assert not b.dead_at_start.flags.writeable
    assert first.layers[-1].dead_at_start is None
    for _ in range(30):
        t2.step()
    later = t2.snapshot()
    for a, b in zip(first.layers[:-1], later.layers[:-1], strict=True):
        assert np.array_equal(a.dead_at_start, b.dead_at_start)


def test_units_killed_by_a_high_learning_rate_count_as_dead_since_the_start():
    t = _trainer(lr=5.0, seed=3)
    start = t.snapshot()
    for _ in range(60):
        try:
            t.step()
        except DivergedError:  # rolled back: the dead count is what matters
            break
    snap = t.snapshot()
    for s0, lay in zip(start.layers[:-1], snap.layers[:-1], strict=True):
        assert np.array_equal(lay.dead_at_start, s0.dead_units)
        assert lay.dead_since_start == int(np.count_nonzero(lay.dead_units & ~lay.dead_at_start))
    assert sum(lay.dead_since_start for lay in snap.layers[:-1]) > 0


def test_a_trainer_resumed_from_a_state_records_dead_units_when_opened():
    t = _trainer()
    for _ in range(20):
        t.step()
    state = t.get_state()
    assert "dead_at_start" not in state  # files need no new field
    fresh = _trainer()
    fresh.set_state(state)
    snap = fresh.snapshot()
    for lay in snap.layers[:-1]:
        assert np.array_equal(lay.dead_at_start, lay.dead_units)
        assert lay.dead_since_start == 0


def test_no_record_means_no_count():
    t = _trainer()
    lay = t.snapshot().layers[0]
    assert dataclasses.replace(lay, dead_at_start=None).dead_since_start is None


def test_bins_follow_values_that_left_them_with_hysteresis():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(5000) * 0.1
    edges = stats.choose_edges(v)
    assert not stats.edges_outgrown(edges, v)
    assert not stats.edges_outgrown(edges, v * 1.3)  # a little growth: same bins
    assert stats.edges_outgrown(edges, v * 20)  # most values off the ends
    assert stats.edges_outgrown(edges, v * 0.01)  # all in the middle bins
    grown = stats.choose_edges(v * 20)
    assert not stats.edges_outgrown(grown, v * 20)
    assert stats.histogram(v * 20, grown).clipped == 0.0


def test_the_trainer_re_bins_weights_that_grew():
    t = _trainer()
    t.snapshot()
    edges = t._edges[(0, "weight")].copy()
    t.network.params[0][...] *= 50
    snap = t.snapshot()
    h = snap.layers[0].histograms["weight"]
    assert h.clipped <= stats.REBIN_OUTSIDE
    assert h.edges[-1] > edges[-1]
    again = t.snapshot().layers[0].histograms["weight"]
    assert np.array_equal(again.edges, h.edges)  # steady values: steady bins


def test_a_large_test_split_listed_class_by_class_is_sampled_not_cut():
    """A file that lists its examples class by class keeps that order in its test split;
    the snapshot's test figures and confusion matrix must see every class, not the first."""
    from nnviz.core import trainer as trainer_module

    rng = np.random.default_rng(0)
    n_classes, per_class = 5, 2000  # a test split far larger than one evaluation
    y_test = np.repeat(np.arange(n_classes), per_class)
    X_test = rng.standard_normal((len(y_test), 4)) + y_test[:, None]
    X = rng.standard_normal((300, 4))
    y = rng.integers(0, n_classes, 300)
    net = make_network([4, 8, n_classes], activation="relu", seed=0)
    t = Trainer(net, TrainConfig(batch_size=20), X, y, X_test, y_test)
    snap = t.snapshot()
    assert snap.confusion is not None
    rows_seen = snap.confusion.sum(axis=1)
    assert int(rows_seen.sum()) <= trainer_module.EVAL_LIMIT < len(y_test)
    assert np.all(rows_seen > 0.1 * rows_seen.sum() / n_classes), rows_seen  # every class, about evenly
    assert snap.examples is not None
    shown = np.asarray(snap.examples.indices)
    assert shown.max() >= per_class  # the gallery's rows index the whole test split
