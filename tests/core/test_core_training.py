"""Training behaviour the lecture promises, determinism, divergence and snapshots."""

import subprocess
import sys

import numpy as np
import pytest

from nnviz.core.data import BUILTIN_SETS, DataError, digits_like, generate, split
from nnviz.core.network import Network
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.preprocess import InputPipeline
from nnviz.core.session import DataConfig, Session, build_spec, demo_session
from nnviz.core.spec import LayerSpec, NetworkSpec, SpecError
from nnviz.core.trainer import DivergedError, TrainConfig


def _session(data, layers, activation="relu", optimizer="adam", lr=0.01, batch=10, seed=0,
             loss=None, **cfg):
    dc = DataConfig(test_fraction=cfg.pop("test_fraction", 0.0), preprocess=cfg.pop("preprocess", "none"))
    spec = build_spec(data, dc, layers=layers, activation=activation, loss=loss,
                      init=cfg.pop("init", "torch"), dtype=cfg.pop("dtype", "float64"))
    tc = TrainConfig(OptimizerConfig(optimizer, {"lr": lr}), Schedule(), batch_size=batch, seed=seed, **cfg)
    return Session(data, dc, spec, tc)


def _train_accuracy(s: Session) -> float:
    t = s.trainer
    return s.network.loss.accuracy(s.network.scores(t.X), t.y)


def test_xor_needs_a_hidden_layer():
    data = generate("xor", n=200, noise=0.0, seed=0)
    none = _session(data, [], lr=0.05, batch=20)
    none.trainer.run(1500)
    hidden = _session(data, [4], activation="tanh", lr=0.05, batch=20)
    hidden.trainer.run(1500)
    assert _train_accuracy(none) < 0.8  # a line cannot split XOR
    assert _train_accuracy(hidden) >= 0.98


def test_spiral_is_learnt_by_two_relu_layers():
    data = generate("spiral", n=300, noise=0.05, seed=0, arms=3)
    s = _session(data, [16, 16], lr=0.01, batch=10, seed=1)
    s.trainer.run(4000)
    assert _train_accuracy(s) >= 0.95


def test_too_high_learning_rate_kills_relu_units():
    data = generate("spiral", n=300, noise=0.1, seed=0, arms=3)
    s = _session(data, [32, 32], optimizer="sgd", lr=3.0, batch=10, seed=2)
    try:
        for _ in range(300):
            s.trainer.step()
    except DivergedError:
        pass
    snap = s.trainer.snapshot()
    dead = [layer.dead_fraction for layer in snap.layers[:-1]]
    healthy = _session(data, [32, 32], optimizer="sgd", lr=0.05, batch=10, seed=2)
    healthy.trainer.run(300)
    calm = [layer.dead_fraction for layer in healthy.trainer.snapshot().layers[:-1]]
    assert max(dead) >= 0.75 and max(dead) >= max(calm) + 0.4, (dead, calm)


def test_deep_sigmoid_network_saturates_and_gradients_vanish():
    data = generate("circle", n=300, noise=0.1, seed=0)
    s = _session(data, [32] * 6, activation="sigmoid", optimizer="sgd", lr=0.5, batch=10,
                 init="small")
    snap = s.trainer.snapshot()
    norms = [layer.grad_norm for layer in snap.layers]
    # gradient norms shrink toward the input: the first layer gets orders of magnitude less
    assert norms[0] < norms[-2] * 1e-3, norms
    big = _session(data, [32] * 6, activation="sigmoid", optimizer="sgd", lr=0.5, batch=10,
                   init="xavier_normal")
    for i in range(0, len(big.network.params), 2):
        big.network.params[i] *= 16.0  # large weights push sigmoids into their flat tails
    sat = [layer.saturated_fraction for layer in big.trainer.snapshot().layers[:-1]]
    calm = [layer.saturated_fraction for layer in s.trainer.snapshot().layers[:-1]]
    assert max(sat) >= 0.3 and max(calm) == 0.0, (sat, calm)


def test_same_seed_same_run_bit_for_bit():
    def run():
        s = _session(generate("moons", n=200, seed=4), [8, 8], lr=0.02, batch=7, dropout=0.2, seed=9)
        losses = [r.loss for r in s.trainer.run(120)]
        return losses, [p.copy() for p in s.network.params]

    a, pa = run()
    b, pb = run()
    assert a == b
    assert all(np.array_equal(x, y) for x, y in zip(pa, pb, strict=True))


def test_step_record_loss_is_the_minibatch_that_made_the_gradient():
    data = generate("gauss", n=64, seed=1)
    s = _session(data, [4], optimizer="sgd", lr=0.1, batch=64)  # full batch: no shuffling
    before = s.network.copy()
    rec = s.trainer.step()
    expected = before.loss.value(before.scores(s.trainer.X), s.trainer.y)
    assert rec.loss == pytest.approx(expected, rel=1e-12)
    assert rec.step == 1 and rec.epoch == 1 and rec.accuracy is not None


def test_batch_larger_than_the_set_is_full_batch():
    s = _session(generate("gauss", n=30, seed=1), [4], batch=1000)
    assert [r.epoch for r in s.trainer.run(3)] == [1, 2, 3]


def test_divergence_stops_with_the_step_and_keeps_a_finite_state():
    data = generate("plane", n=200, noise=0.0, seed=0)
    s = _session(data, [16, 16], activation="identity", optimizer="sgd", lr=5.0, batch=50)
    with pytest.raises(DivergedError) as err:
        for _ in range(1000):
            s.trainer.step()
    assert "diverged at step" in str(err.value)
    assert all(np.isfinite(p).all() for p in s.network.params)
    with pytest.raises(DivergedError):
        s.trainer.step()  # stays stopped until cleared


def test_regularisation_is_reported_apart_and_shrinks_weights():
    data = generate("circle", n=200, seed=0)
    plain = _session(data, [16], lr=0.01, seed=3)
    reg = _session(data, [16], lr=0.01, seed=3, l2=0.1)
    r = reg.trainer.step()
    assert r.reg_loss > 0 and plain.trainer.step().reg_loss == 0
    plain.trainer.run(500)
    reg.trainer.run(500)
    assert np.linalg.norm(reg.network.params[0]) < np.linalg.norm(plain.network.params[0])


def test_float32_end_to_end():
    s = _session(generate("moons", n=100, seed=0), [8], dtype="float32")
    s.trainer.run(20)
    assert all(p.dtype == np.float32 for p in s.network.params)
    assert s.trainer.snapshot().params[0].dtype == np.float32


def test_snapshot_is_immutable_and_complete():
    s = demo_session()
    s.trainer.run(50)
    s.trainer.step(snapshot=True)
    snap = s.trainer.last_snapshot
    assert snap.step == 51
    assert len(snap.layers) == 3 and snap.layers[0].update_ratio > 0
    assert snap.grid is not None and snap.grid.output.shape[2] == 2
    assert snap.grid.neurons[0].shape[2] == 8
    assert snap.test_loss is not None and snap.confusion.sum() == len(s.split.test)
    with pytest.raises(ValueError):
        snap.params[0][0, 0] = 1.0
    edges = snap.layers[0].histograms["grad"].edges
    s.trainer.run(200)
    later = s.trainer.snapshot()
    assert np.array_equal(later.layers[0].histograms["grad"].edges, edges)  # comparable bins


def test_layer_statistics_per_step():
    s = _session(generate("spiral", n=100, seed=0), [8, 8], activation="sigmoid")
    s.trainer.track_layers = True
    rec = s.trainer.step()
    assert len(rec.layers) == 2 and rec.layers[0].dead is None and rec.layers[0].saturated is not None


def test_regression_with_mse():
    data = generate("plane", n=200, noise=0.0, seed=0)
    s = _session(data, [8], activation="tanh", lr=0.01)
    first = s.trainer.step().loss
    s.trainer.run(2000)
    assert s.trainer.step().loss < first * 0.05


def test_logistic_loss_and_digits():
    data = generate("moons", n=200, noise=0.05, seed=0)
    s = _session(data, [8], activation="tanh", loss="logistic", lr=0.02)
    s.trainer.run(2000)
    assert _train_accuracy(s) > 0.95
    d = digits_like(n=600, seed=0)
    s = _session(d, [32], lr=0.01, batch=32, test_fraction=0.2, preprocess="standardize")
    s.trainer.run(600)
    assert s.trainer.snapshot().test_accuracy > 0.9


@pytest.mark.parametrize("name", BUILTIN_SETS)
def test_generators_are_seeded(name):
    a, b = generate(name, n=100, seed=5), generate(name, n=100, seed=5)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert a.X.shape == (100, 2)


def test_split_and_bad_sizes():
    sp = split(generate("circle", n=100), 0.25, seed=0)
    assert len(sp.train) == 75 and len(sp.test) == 25
    with pytest.raises(DataError):
        generate("circle", n=10**9)
    with pytest.raises(DataError):
        generate("nonsense")
    with pytest.raises(SpecError):
        NetworkSpec(2, 2, (LayerSpec(10**7, "relu"),))
    with pytest.raises(SpecError, match="unknown activation"):
        NetworkSpec(2, 2, (LayerSpec(4, "swish"),))


def test_preprocessing_is_fitted_on_training_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3)) @ np.array([[3, 1, 0], [0, 1, 0], [0, 0.5, 2]]) + 5
    for method in ("center", "standardize", "pca", "whiten"):
        p = InputPipeline(method).fit(X)
        Z = p.transform(X)
        assert np.allclose(Z.mean(axis=0), 0, atol=1e-9)
    Z = InputPipeline("whiten").fit(X).transform(X)
    assert np.allclose(np.cov(Z.T), np.eye(3), atol=1e-3)
    Z = InputPipeline("standardize").fit(X).transform(X)
    assert np.allclose(Z.std(axis=0), 1, atol=1e-6)
    e = InputPipeline("none", ("x1", "x2", "x1*x2", "sin(x1)")).fit(X[:, :2])
    out = e.transform(np.array([[2.0, 3.0]]))
    assert np.allclose(out, [[2, 3, 6, np.sin(2)]])


def test_session_predicts_raw_inputs_through_the_pipeline():
    data = generate("gauss", n=200, seed=0)
    shifted = data.with_points(data.X * 100 + 1000, data.y)
    s = _session(shifted, [4], preprocess="standardize")
    s.trainer.run(300)
    assert np.mean(s.network.loss.predict(s.predict_raw(shifted.X)) == shifted.y) > 0.9


def test_trainer_state_round_trip_mid_epoch():
    def fresh():
        return _session(generate("moons", n=90, seed=1), [6], lr=0.05, batch=16, dropout=0.1, seed=4)

    full = fresh()
    expected = [r.loss for r in full.trainer.run(40)]
    a = fresh()
    first = [r.loss for r in a.trainer.run(17)]
    state = a.trainer.get_state()
    b = fresh()
    b.trainer.set_state(state)
    rest = [r.loss for r in b.trainer.run(23)]
    assert first + rest == expected


def test_core_never_imports_qt():
    code = (
        "import sys, nnviz.core.session, nnviz.core.gradcheck, nnviz.core.history;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_network_refuses_mismatched_weights():
    spec = NetworkSpec(2, 2, (LayerSpec(3, "relu"),))
    with pytest.raises(SpecError, match="do not match"):
        Network(spec, [np.zeros((2, 4)), np.zeros(4), np.zeros((4, 2)), np.zeros(2)])


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_session_trains_exactly_like_the_original(how):
    """Parameters and gradients are views of flat buffers; a copy (the window's saves) or a
    pickle (the training process) must keep them views, or the copy stops learning."""
    import copy
    import pickle

    original = demo_session()
    for _ in range(7):
        original.trainer.step()
    twin = copy.deepcopy(original) if how == "deepcopy" else pickle.loads(pickle.dumps(original))
    net = twin.network
    assert all(np.shares_memory(p, net.flat) for p in net.params)
    start = [p.copy() for p in net.params]
    losses = [[s.trainer.step().loss for _ in range(25)] for s in (original, twin)]
    assert losses[0] == losses[1]
    for a, b, before in zip(original.network.params, net.params, start, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(b, before)


def test_drawn_digits_are_seeded_images_that_need_a_hidden_layer():
    from nnviz.core.data import glyph_digits as digits

    a, b = digits(n=1200, seed=3), digits(n=1200, seed=3)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert a.X.shape == (1200, 64) and a.X.min() >= 0 and a.X.max() <= 16
    assert set(np.unique(a.y)) == set(range(10)) and a.class_names[7] == "7"
    assert a.source == {"generator": "glyphs", "n": 1200, "noise": 1.0, "seed": 3}
    clean = digits(n=200, noise=0.0, seed=3)
    same = [clean.X[clean.y == d] for d in range(10)]
    assert all(np.allclose(g, g[0]) for g in same if len(g))  # no noise: one image per digit

    def test_accuracy(layers):
        s = _session(a, list(layers), lr=0.003, batch=32, test_fraction=0.25, preprocess="standardize")
        s.trainer.run(1500)
        return s.trainer.snapshot().test_accuracy

    linear, hidden = test_accuracy(()), test_accuracy((32,))
    assert linear < 0.85  # not separable at a glance, unlike digits_like
    assert hidden > linear + 0.08


def test_history_takes_steps_one_by_one_or_in_bulk_alike():
    from nnviz.core.history import History

    rows = np.column_stack([np.arange(1, 3001), np.arange(3000) // 100, np.linspace(2, 0, 3000),
                            np.where(np.arange(3000) % 7 == 0, np.nan, 0.5)])
    one, bulk = History(), History()
    for step, epoch, loss, acc in rows:
        one.add_step(int(step), int(epoch), float(loss), None if np.isnan(acc) else float(acc))
    for chunk in np.array_split(rows, [1, 5, 1500, 1501]):  # tiny, empty-free, across growth
        bulk.add_steps(chunk)
    assert bulk.steps.size == one.steps.size == 3000
    np.testing.assert_array_equal(bulk.steps.array(), one.steps.array())


def test_a_confusion_matrix_of_many_classes_is_summed_in_blocks():
    """65,536 classes would be a 34 GB matrix a snapshot: blocks of classes, one cell each,
    with the correct count kept apart (the trace of block sums counts near misses)."""
    from nnviz.core.trainer import MAX_CONFUSION_SIDE, confusion_block, confusion_matrix

    n = 65_536
    truth = np.array([0, 1, 63, 64, 65_535, 5])
    pred = np.array([0, 2, 63, 64, 65_535, 70])
    m = confusion_matrix(pred, truth, n)
    block = confusion_block(n)
    assert block == 64 and m.shape == (MAX_CONFUSION_SIDE, MAX_CONFUSION_SIDE)
    assert m.sum() == len(truth) and m[0, 0] == 3 and m[1, 1] == 1 and m[1023, 1023] == 1 and m[0, 1] == 1
    small = confusion_matrix(np.array([1, 0]), np.array([1, 1]), 3)
    assert small.tolist() == [[0, 0, 0], [1, 1, 0], [0, 0, 0]]


def test_the_grid_of_a_wide_network_keeps_its_maps_bounded():
    """Every unit's map over the grid is in each snapshot: a 65,536-unit layer gets a
    coarser grid, never 134 MB of maps a frame."""
    from nnviz.core.session import GRID_MAP_VALUES

    data = generate("xor", n=40, seed=0)
    dc = DataConfig(0.2, "none", ())
    for units in (8, 65_536):
        spec = build_spec(data, dc, layers=(units,), activation="relu", loss="softmax", dtype="float32")
        grid = Session(data, dc, spec, TrainConfig(), grid_size=48)._grid()
        values = len(grid.xs) * len(grid.ys) * (units + spec.output_dim)
        assert values <= GRID_MAP_VALUES and len(grid.xs) >= 2
    narrow = Session(data, dc, build_spec(data, dc, layers=(8,)), TrainConfig(), grid_size=48)
    assert len(narrow._grid().xs) == 48


def test_the_plane_of_data_near_the_float64_limit_is_finite():
    from nnviz.core.data import Dataset

    X = np.array([[-1.7e308, 1.0], [1.7e308, 2.0], [0.0, 1.5], [1.0, 1.2]])
    data = Dataset(X, np.array([0, 1, 0, 1]))
    dc = DataConfig(0.0, "none", ())
    extent = Session(data, dc, build_spec(data, dc, layers=(2,)), TrainConfig(), grid_size=8).plane_extent()
    assert all(np.isfinite(extent)) and extent[0] < -1.7e308 / 2 and extent[1] > 1.7e308 / 2


def test_session_train_config_is_the_trainers():
    """One copy of the training settings: a live change through the trainer is what the
    session reports (and saves); assigning another config is refused."""
    s = demo_session()
    assert s.train_config is s.trainer.config
    s.trainer.update_config(batch_size=32, l2=0.01)
    s.trainer.set_learning_rate(0.05)
    assert s.train_config is s.trainer.config
    assert s.train_config.batch_size == 32 and s.train_config.optimizer.lr == pytest.approx(0.05)
    s.train_config = s.trainer.config  # the old hand resync is harmless
    with pytest.raises(ValueError):
        s.train_config = TrainConfig(batch_size=3)
    assert not hasattr(s, "reinitialised")
