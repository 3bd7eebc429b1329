"""Optimisers: first steps against hand-computed values, and whole runs against torch."""

import math

import numpy as np
import pytest

from nnviz.core.data import generate
from nnviz.core.network import Network
from nnviz.core.optim import OPTIMIZER_NAMES, Optimizer, OptimizerConfig, Schedule
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.trainer import TrainConfig, Trainer


def _two_steps(name, hyper, g1=0.5, g2=-0.25, p0=1.0):
    p = [np.array([p0])]
    opt = Optimizer(OptimizerConfig(name, hyper), p)
    opt.step(p, [np.array([g1])])
    first = float(p[0][0])
    opt.step(p, [np.array([g2])])
    return first, float(p[0][0])


def test_sgd_first_steps():
    assert _two_steps("sgd", {"lr": 0.1}) == pytest.approx((0.95, 0.975))


def test_momentum_first_steps():
    # torch: buf = g on the first step, then buf = m*buf + g
    first, second = _two_steps("momentum", {"lr": 0.1, "momentum": 0.9})
    assert first == pytest.approx(1 - 0.1 * 0.5)
    assert second == pytest.approx(first - 0.1 * (0.9 * 0.5 - 0.25))


def test_nesterov_first_steps():
    first, second = _two_steps("nesterov", {"lr": 0.1, "momentum": 0.9})
    assert first == pytest.approx(1 - 0.1 * (0.5 + 0.9 * 0.5))
    buf = 0.9 * 0.5 - 0.25
    assert second == pytest.approx(first - 0.1 * (-0.25 + 0.9 * buf))


def test_rmsprop_first_steps():
    first, second = _two_steps("rmsprop", {"lr": 0.01})
    v1 = 0.01 * 0.25
    assert first == pytest.approx(1 - 0.01 * 0.5 / (math.sqrt(v1) + 1e-8))
    v2 = 0.99 * v1 + 0.01 * 0.0625
    assert second == pytest.approx(first + 0.01 * 0.25 / (math.sqrt(v2) + 1e-8))


def test_adam_first_step_is_lr_times_sign():
    first, _ = _two_steps("adam", {"lr": 0.001})
    assert first == pytest.approx(1 - 0.001, rel=1e-7)


def test_adamw_decays_weights_before_the_update():
    first, _ = _two_steps("adamw", {"lr": 0.001, "weight_decay": 0.1})
    assert first == pytest.approx(1 * (1 - 0.001 * 0.1) - 0.001, rel=1e-7)


def test_defaults_are_torchs():
    assert OptimizerConfig("sgd").lr == 1e-3
    assert OptimizerConfig("rmsprop").hyper["alpha"] == 0.99
    assert OptimizerConfig("adamw").hyper["weight_decay"] == 1e-2
    with pytest.raises(ValueError, match="no setting"):
        OptimizerConfig("sgd", {"beta1": 0.9})


def test_schedules():
    assert Schedule("constant").lr_at(0.1, 500) == 0.1
    assert Schedule("step", step_size=100, gamma=0.5).lr_at(0.1, 250) == pytest.approx(0.025)
    assert Schedule("exponential", gamma=0.99).lr_at(0.1, 10) == pytest.approx(0.1 * 0.99**10)
    cos = Schedule("cosine", t_max=100, eta_min=0.0)
    assert cos.lr_at(0.1, 0) == pytest.approx(0.1)
    assert cos.lr_at(0.1, 50) == pytest.approx(0.05)
    assert cos.lr_at(0.1, 100) == pytest.approx(0.0, abs=1e-15)


# --- agreement with PyTorch ------------------------------------------------------------
HYPER = {
    "sgd": {"lr": 0.1},
    "momentum": {"lr": 0.05, "momentum": 0.9},
    "nesterov": {"lr": 0.05, "momentum": 0.9},
    "rmsprop": {"lr": 0.003, "momentum": 0.5},
    "adam": {"lr": 0.01},
    "adamw": {"lr": 0.01, "weight_decay": 0.05},
}


def _torch_optimizer(torch, name, params, h):
    o = torch.optim
    if name in ("sgd", "momentum", "nesterov"):
        return o.SGD(params, lr=h["lr"], momentum=h.get("momentum", 0.0), nesterov=name == "nesterov")
    if name == "rmsprop":
        return o.RMSprop(params, lr=h["lr"], momentum=h.get("momentum", 0.0))
    if name == "adam":
        return o.Adam(params, lr=h["lr"])
    return o.AdamW(params, lr=h["lr"], weight_decay=h["weight_decay"])


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_training_run_agrees_with_torch(name):
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _compare_with_torch(torch, name)
    finally:
        torch.set_default_dtype(previous)


def _compare_with_torch(torch, name):
    data = generate("spiral", n=120, noise=0.1, seed=3, arms=3)
    spec = NetworkSpec(2, 3, (LayerSpec(8, "tanh"), LayerSpec(8, "relu")), loss="softmax")
    net = Network.initialised(spec, 7)
    init = [p.copy() for p in net.params]
    l2 = 1e-3
    cfg = TrainConfig(OptimizerConfig(name, HYPER[name]), Schedule("step", step_size=20, gamma=0.7),
                      batch_size=16, l2=l2, seed=11)
    trainer = Trainer(net, cfg, data.X, data.y)
    ours = [trainer.step().loss for _ in range(60)]

    lin = [torch.nn.Linear(2, 8), torch.nn.Linear(8, 8), torch.nn.Linear(8, 3)]
    with torch.no_grad():
        for i, layer in enumerate(lin):
            layer.weight.copy_(torch.from_numpy(init[2 * i].T.copy()))
            layer.bias.copy_(torch.from_numpy(init[2 * i + 1].copy()))
    params = [p for layer in lin for p in (layer.weight, layer.bias)]
    opt = _torch_optimizer(torch, name, params, HYPER[name])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.7)
    X = torch.from_numpy(np.array(data.X))
    y = torch.from_numpy(np.array(data.y))
    rng = np.random.default_rng(11)  # the trainer's shuffling, reproduced
    theirs, perm, pos = [], None, 0
    for _ in range(60):
        if perm is None:
            perm, pos = rng.permutation(len(X)), 0
        idx = torch.from_numpy(perm[pos : pos + 16])
        pos += 16
        if pos >= len(X):
            perm = None
        h = torch.tanh(lin[0](X[idx]))
        h = torch.relu(lin[1](h))
        data_loss = torch.nn.functional.cross_entropy(lin[2](h), y[idx])
        reg = sum(0.5 * l2 * (layer.weight**2).sum() for layer in lin)
        opt.zero_grad()
        (data_loss + reg).backward()
        opt.step()
        sched.step()
        theirs.append(float(data_loss.detach()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    for i, layer in enumerate(lin):
        np.testing.assert_allclose(net.params[2 * i], layer.weight.detach().numpy().T, rtol=1e-6,
                                   atol=1e-12)


@pytest.mark.parametrize("hyper", [{"lr": 0.05}, {"lr": 0.05, "weight_decay": 0.01}])
def test_spent_gradients_give_the_same_bits(hyper):
    """Plain SGD scales gradients the trainer no longer needs in place; a trainer taking a
    snapshot every step (which keeps them) ends on exactly the same weights."""
    data = generate("spiral", n=200, noise=0.1, seed=0)
    spec = NetworkSpec(2, data.n_classes, (LayerSpec(8, "relu"), LayerSpec(8, "tanh")), loss="softmax")
    ends, norms = [], []
    for snapshot in (False, True):
        cfg = TrainConfig(OptimizerConfig("sgd", hyper), batch_size=16, seed=3)
        t = Trainer(Network.initialised(spec, 1), cfg, data.X, data.y, track_layers=True)
        records = [t.step(snapshot=snapshot) for _ in range(40)]
        ends.append(t.network.flat.copy())
        norms.append([layer.grad_norm for r in records for layer in r.layers])
    assert ends[0].tobytes() == ends[1].tobytes()
    assert norms[0] == norms[1]  # the layers' gradient norms are read before the update
