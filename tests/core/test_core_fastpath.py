"""The training step's cheap forms (workspaces, loss scratch, in-place activations, Adam's
stacked moments) give exactly the bits of the plain allocating forms they replace."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

from nnviz.core.activations import ACTIVATION_NAMES, make_activation
from nnviz.core.losses import LOSS_NAMES, LossScratch, make_loss
from nnviz.core.network import Network, Workspace
from nnviz.core.optim import Optimizer, OptimizerConfig
from nnviz.core.session import demo_session
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.trainer import TrainConfig, Trainer


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def random_scores(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    s = rng.standard_normal(shape) * rng.choice([1e-3, 1.0, 30.0])
    s[rng.random(shape) < 0.1] = 0.0  # ties and signed zeros
    return s.astype(dtype)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_in_place_activation_passes_match_the_allocating_ones(name):
    act = make_activation(name)
    rng = np.random.default_rng(1)
    for dtype in (np.float64, np.float32):
        z = random_scores(rng, (9, 6), dtype)
        a = act.forward(z)
        out = np.empty_like(a)
        assert same_bits(act.forward(z.copy(), out if name != "maxout" else None), a)
        g = random_scores(rng, a.shape, dtype)
        expected = act.backward(z, a, g)
        assert same_bits(act.backward(z, a, g, np.empty_like(z)), expected)


@pytest.mark.parametrize("c", [2, 3, 10])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_with_scratch_matches_the_plain_form(c, dtype):
    loss = make_loss("softmax")
    rng = np.random.default_rng(c)
    for n in (1, 2, 7, 8, 9, 10, 17, 128):
        scratch = LossScratch(loss, n, c, np.dtype(dtype))
        for _ in range(5):
            s = random_scores(rng, (n, c), dtype)
            y = rng.integers(0, c, n)
            v0, g0 = loss.value_and_grad(s, y)
            v1, g1 = loss.value_and_grad(s, y, scratch)
            assert type(v1) is float and v1 == v0 and same_bits(g1, g0)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_scratch_for_another_size_or_loss_is_ignored(name):
    loss = make_loss(name)
    s = np.random.default_rng(0).standard_normal((5, 2))
    y = np.array([0, 1, 1, 0, 1]) if name != "mse" else s[:, ::-1].copy()
    v0, g0 = loss.value_and_grad(s, y)
    softmax = make_loss("softmax")
    others = [LossScratch(softmax, 4, 2, s.dtype), LossScratch(softmax, 5, 3, s.dtype)]
    if name != "softmax":
        others.append(LossScratch(softmax, 5, 2, s.dtype))
    for scratch in others:
        v1, g1 = loss.value_and_grad(s, y, scratch)
        assert v1 == v0 and same_bits(g1, g0)


NETWORKS = [
    ((2, 8, 8, 2), ("relu", "relu"), "softmax", False),
    ((1, 5, 1), ("tanh",), "mse", False),  # dimensions of 1: the products go through matmul
    ((3, 6, 6, 6, 4), ("sigmoid", "relu", "identity"), "svm", True),
    ((2, 4, 4, 1), ("maxout", "elu"), "logistic", False),
    ((4, 3), (), "softmax", False),
    ((3, 7, 5, 6, 3), ("tanh", "identity", "relu"), "softmax", False),
]


def _network(widths, acts, loss, residual) -> Network:
    hidden = tuple(LayerSpec(w, a) for w, a in zip(widths[1:-1], acts, strict=True))
    return Network.initialised(NetworkSpec(widths[0], widths[-1], hidden, loss=loss, residual=residual), 3)


@pytest.mark.parametrize("lean", [False, True])
@pytest.mark.parametrize("widths, acts, loss, residual", NETWORKS)
@pytest.mark.parametrize("n", [1, 10])
def test_workspace_passes_match_the_allocating_ones(widths, acts, loss, residual, n, lean):
    net = _network(widths, acts, loss, residual)
    if lean and not net.can_be_lean:
        with pytest.raises(ValueError, match="lean"):
            Workspace(net, n, lean=True)
        return
    hidden = net.spec.hidden
    rng = np.random.default_rng(4)
    ws = Workspace(net, n, lean=lean)
    for with_masks in (False, True):
        X = rng.standard_normal((n, widths[0]))
        masks = [(rng.random((n, h.units)) > 0.3) * 1.5 for h in hidden] if with_masks else None
        plain = net.forward(X, masks)
        fast = net.forward(X, masks, ws)
        assert same_bits(fast.scores, plain.scores)
        d = rng.standard_normal(plain.scores.shape)
        expected = net.backward(plain, d)
        flat = np.empty_like(net.flat)
        from nnviz.core.network import split_flat

        views = split_flat(flat, net.shapes)
        got = net.backward(fast, d, views, ws)
        for g0, g1 in zip(expected, got, strict=True):
            assert same_bits(g1, g0)


@pytest.mark.parametrize("acts, lean", [(("relu", "relu"), True), (("tanh", "identity"), True),
                                        (("sigmoid", "relu"), False), (("relu", "elu"), False)])
def test_only_networks_whose_backward_needs_the_outputs_alone_can_be_lean(acts, lean):
    assert _network((2, 4, 4, 2), acts, "softmax", False).can_be_lean is lean
    assert not _network((2, 4, 4, 2), acts, "softmax", True).can_be_lean  # a skip reuses dh


def _adam_by_hand(name, params, grads_per_step, hyper, efficient):
    """Adam written out in fresh NumPy: torch's form, or Kingma and Ba's efficient order
    (step size and eps scaled by sqrt(1 - b2^t), moments as (1 - b) (x b / (1 - b) + g))."""
    b1, b2, eps, lr, wd = 0.9, 0.999, 1e-8, hyper["lr"], hyper["weight_decay"]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(grads_per_step, start=1):
        for p, g, mi, vi in zip(params, grads, m, v, strict=True):
            if name == "adamw":
                p *= 1 - lr * wd
            else:
                g = g + wd * p
            if efficient:
                mi[...] = (mi * (b1 / (1 - b1)) + g) * (1 - b1)
                vi[...] = (vi * (b2 / (1 - b2)) + g * g) * (1 - b2)
                c2 = math.sqrt(1 - b2**t)
                p -= lr * c2 / (1 - b1**t) * (mi / (np.sqrt(vi) + eps * c2))
            else:
                mi *= b1
                mi += (1 - b1) * g
                vi *= b2
                vi += (1 - b2) * (g * g)
                denom = np.sqrt(vi) / np.sqrt(1 - b2**t) + eps
                p -= lr / (1 - b1**t) * (mi / denom)
    return m, v


@pytest.mark.parametrize("spent", [False, True])
@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_with_stacked_moments_matches_the_update_written_out(name, spent):
    """The optimiser's few in-place calls give the bits of the efficient order written
    out plainly, whether it may overwrite the gradients or not, and stay within rounding
    of torch's form of the same update."""
    rng = np.random.default_rng(5)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(5000)]  # small and big
    hyper = {"lr": 0.01, "weight_decay": 0.1}
    ref, torch_form = [p.copy() for p in params], [p.copy() for p in params]
    opt = Optimizer(OptimizerConfig(name, hyper), params)
    steps = [[rng.standard_normal(p.shape) for p in params] for _ in range(5)]
    for grads in steps:
        given = [g.copy() for g in grads]
        opt.step(params, given, grads_spent=spent)
        if not spent:
            assert all(same_bits(a, b) for a, b in zip(given, grads, strict=True))
    m, v = _adam_by_hand(name, ref, steps, hyper, efficient=True)
    _adam_by_hand(name, torch_form, steps, hyper, efficient=False)
    for p, r, t in zip(params, ref, torch_form, strict=True):
        assert same_bits(p, r)
        np.testing.assert_allclose(p, t, rtol=1e-13, atol=1e-15)
    state = opt.state_arrays()
    for k, want in (("exp_avg", m), ("exp_avg_sq", v)):
        for a, b in zip(state[k], want, strict=True):
            assert same_bits(a, b)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copied_optimizer_keeps_its_moments_as_views(how):
    trainer = demo_session().trainer
    trainer.run(5)
    twin = pickle.loads(pickle.dumps(trainer)) if how == "pickle" else copy.deepcopy(trainer)
    a = [tuple(r) for r in trainer.run(50)]
    b = [tuple(r) for r in twin.run(50)]
    assert a == b and same_bits(trainer.network.flat, twin.network.flat)
    opt = twin.optimizer
    assert np.shares_memory(opt.state["exp_avg"][0], opt._moments[0])


def test_trainer_step_does_not_depend_on_the_workspace_or_preshuffling(monkeypatch):
    """The same run with the cheap forms switched off gives the same records and weights."""
    import nnviz.core.trainer as trainer_module

    def run() -> tuple[list, np.ndarray]:
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((103, 2)), rng.integers(0, 2, 103)
        spec = NetworkSpec(2, 2, (LayerSpec(8, "relu"), LayerSpec(8, "relu")), loss="softmax")
        t = Trainer(Network.initialised(spec, 0), TrainConfig(batch_size=10), X, y)
        recs = [tuple(t.step()) for _ in range(25)]
        t.update_config(batch_size=7)  # mid-epoch: batches no longer aligned
        recs += [tuple(t.step()) for _ in range(25)]
        return recs, t.network.flat.copy()

    fast = run()
    monkeypatch.setattr(trainer_module, "PRESHUFFLE_BYTES", -1)
    monkeypatch.setattr(trainer_module, "WORKSPACE_BYTES", 0)
    slow = run()
    assert fast[0] == slow[0] and same_bits(fast[1], slow[1])
    assert all(type(r[4]) is float for r in fast[0])  # accuracy stays a Python float


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "momentum"])
@pytest.mark.parametrize("acts, dropout", [(("relu", "relu"), 0.0), (("tanh", "relu"), 0.2),
                                           (("sigmoid", "tanh"), 0.0)])
def test_a_plain_step_gives_the_bits_of_a_step_that_keeps_its_arrays(optimizer, acts, dropout):
    """Without a snapshot or the layers' figures a step overwrites what it no longer needs
    (a lean workspace, spent gradients); with them it keeps everything. Either way the run
    is the same, bit for bit: the window's training matches the command line's."""
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((90, 3)), rng.integers(0, 3, 90)
    spec = NetworkSpec(3, 3, tuple(LayerSpec(6, a) for a in acts), loss="softmax")
    runs = []
    for keep in (False, True):
        cfg = TrainConfig(OptimizerConfig(optimizer, {"lr": 0.05}), batch_size=16, seed=1, dropout=dropout)
        t = Trainer(Network.initialised(spec, 0), cfg, X, y, track_layers=keep)
        records = [tuple(t.step(snapshot=keep and k % 3 == 0))[:5] for k in range(30)]
        runs.append((records, t.network.flat.tobytes(), t.optimizer.state_arrays()))
    (rec0, flat0, st0), (rec1, flat1, st1) = runs
    assert rec0 == rec1 and flat0 == flat1
    for k in st0:
        assert all(same_bits(a, b) for a, b in zip(st0[k], st1[k], strict=True))
