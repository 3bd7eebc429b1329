"""Activations, losses and gradients: the maths the lecture relies on."""

import math
import warnings

import numpy as np
import pytest

from nnviz.core.activations import ACTIVATION_NAMES, make_activation
from nnviz.core.gradcheck import format_table, gradient_check
from nnviz.core.losses import LOSS_NAMES, make_loss
from tests.core.helpers import make_network, make_targets


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_is_safe_at_extremes(name):
    act = make_activation(name)
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            a = act.forward(z)
            g = act.backward(z, a, np.ones_like(a))
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(g))


@pytest.mark.parametrize("name", [n for n in ACTIVATION_NAMES if n != "maxout"])
def test_activation_derivative_matches_finite_differences(name):
    act = make_activation(name)
    z = np.linspace(-3, 3, 61)[None, :] + 0.013  # avoid the kink at exactly 0
    h = 1e-6
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    assert np.allclose(act.derivative(z), numeric, rtol=1e-6, atol=1e-8)


def test_activation_known_values():
    z = np.array([[-2.0, 0.0, 2.0]])
    assert np.allclose(make_activation("sigmoid").forward(z), 1 / (1 + np.exp(-z)))
    assert np.allclose(make_activation("leaky_relu", 0.2).forward(z), [[-0.4, 0, 2]])
    assert np.allclose(make_activation("elu").forward(z), [[np.expm1(-2), 0, 2]])
    assert np.allclose(make_activation("softplus").forward(z), np.log1p(np.exp(z)))
    maxout = make_activation("maxout")
    assert np.array_equal(maxout.forward(np.array([[1.0, 3.0, -1.0, -2.0]])), [[3.0, -1.0]])


def test_softmax_at_zero_scores_is_log_c():
    for c in (2, 3, 10):
        loss = make_loss("softmax").value(np.zeros((4, c)), np.zeros(4, dtype=int))
        assert loss == pytest.approx(math.log(c))


LECTURE_SCORES = np.array([[10.0, -2.0, 3.0], [10.0, 9.0, 9.0], [10.0, -100.0, -100.0]])


@pytest.mark.parametrize(
    "row, svm, softmax",
    [
        (0, 0.0, math.log(1 + math.exp(-12) + math.exp(-7))),
        (1, 0.0, math.log(1 + 2 * math.exp(-1))),
        (2, 0.0, math.log1p(2 * math.exp(-110))),
    ],
)
def test_losses_on_the_lecture_scores(row, svm, softmax):
    s = LECTURE_SCORES[row : row + 1]
    y = np.array([0])
    assert make_loss("svm").value(s, y) == pytest.approx(svm, abs=1e-12)
    assert make_loss("softmax").value(s, y) == pytest.approx(softmax, rel=1e-9, abs=1e-15)


def test_svm_with_violated_margins():
    # cs231n's cat example: scores [3.2, 5.1, -1.7], true class 0 -> 2.9
    assert make_loss("svm").value(np.array([[3.2, 5.1, -1.7]]), np.array([0])) == pytest.approx(2.9)


def test_softmax_never_overflows():
    s = np.array([[1e300, -1e300, 0.0]])
    loss, grad = make_loss("softmax").value_and_grad(s, np.array([1]))
    assert math.isfinite(grad.sum())
    assert loss > 1e299


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_loss_gradients(loss):
    rng = np.random.default_rng(1)
    out = 1 if loss == "logistic" else 4
    s = rng.standard_normal((7, out)) * 2
    y = make_targets(loss, 7, out, rng)
    L = make_loss(loss)
    _, g = L.value_and_grad(s, y)
    h = 1e-6
    num = np.zeros_like(s)
    for idx in np.ndindex(s.shape):
        sp, sm = s.copy(), s.copy()
        sp[idx] += h
        sm[idx] -= h
        num[idx] = (L.value(sp, y) - L.value(sm, y)) / (2 * h)
    assert np.allclose(g, num, rtol=1e-6, atol=1e-9)


def _check(net, loss, l1=0.0, l2=0.0):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((9, net.spec.input_dim))
    y = make_targets(loss, 9, net.spec.output_dim, rng)
    rows = gradient_check(net, X, y, l1=l1, l2=l2, max_entries=40)
    worst = max(r.max_rel_error for r in rows)
    assert worst < 1e-6, format_table(rows)
    return rows


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_backprop_matches_numerical_gradient_for_every_activation(activation):
    _check(make_network([3, 5, 4, 3], activation, seed=2), "softmax")


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_backprop_matches_numerical_gradient_for_every_loss(loss):
    out = 1 if loss == "logistic" else 3
    _check(make_network([4, 6, out], "tanh", loss=loss, seed=5), loss)


def test_backprop_with_residual_links_and_regularisation():
    net = make_network([3, 6, 6, 6, 2], "tanh", residual=True, seed=4)
    assert net.residual == [False, True, True]
    rows = _check(net, "softmax", l2=0.1)
    assert {r.param for r in rows} == {"W", "b"}


def test_backprop_with_l1():
    net = make_network([3, 6, 6, 2], "relu", seed=4)
    for i in range(0, len(net.params), 2):  # |w| is not differentiable at 0: stay away
        W = net.params[i]
        W[...] = np.sign(W) * (np.abs(W) + 0.05)
    _check(net, "softmax", l1=0.01, l2=0.05)


def test_gradient_check_samples_large_layers():
    net = make_network([30, 40, 3], "tanh")
    rng = np.random.default_rng(0)
    rows = gradient_check(net, rng.standard_normal((5, 30)), rng.integers(0, 3, 5), max_entries=25)
    assert rows[0].n_checked == 25 and rows[0].n_total == 1200
    assert max(r.max_rel_error for r in rows) < 1e-6


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    """The check must be able to fail: break tanh's derivative and see it."""
    from nnviz.core import activations

    net = make_network([3, 4, 2], "tanh")
    orig = activations.Activation.backward

    def broken(self, z, a, grad_a, out=None):  # the real signature
        return orig(self, z, a, grad_a, out) * 1.01

    monkeypatch.setattr(activations.Activation, "backward", broken)
    rng = np.random.default_rng(0)
    rows = gradient_check(net, rng.standard_normal((6, 3)), rng.integers(0, 2, 6))
    assert max(r.max_rel_error for r in rows) > 1e-3


def test_float32_forward_stays_float32():
    net = make_network([2, 4, 2], "relu", dtype="float32")
    X = np.ones((3, 2), dtype=np.float32)
    cache = net.forward(X)
    assert cache.scores.dtype == np.float32
    _, d = net.loss.value_and_grad(cache.scores, np.array([0, 1, 0]))
    assert all(g.dtype == np.float32 for g in net.backward(cache, d))


def _layer_by_layer(net, X):
    """The forward pass written out plainly: each layer's pre-activation and output."""
    pre, out, h = [], [], X
    for i, act in enumerate(net.activations):
        z = h @ net.weights(i) + net.biases(i)
        a = act.forward(z)
        h = h + a if net.residual[i] else a
        pre.append(z)
        out.append(h)
    s = h @ net.weights(net.n_layers - 1) + net.biases(net.n_layers - 1)
    return [*pre, s], [*out, s]


@pytest.mark.parametrize("residual", [False, True])
def test_scores_and_layer_outputs_are_the_one_forward_pass(residual):
    """``scores``, ``layer_outputs`` and ``forward`` are views of one pass: they agree
    with each other exactly and with the pass written out layer by layer."""
    from nnviz.core.network import Network
    from nnviz.core.spec import LayerSpec, NetworkSpec

    hidden = (LayerSpec(5, "tanh"), LayerSpec(5, "relu"), LayerSpec(5, "elu"))
    net = Network.initialised(NetworkSpec(3, 2, hidden, residual=residual), 1)
    X = np.random.default_rng(2).standard_normal((7, 3))
    cache = net.forward(X)
    pre, out = net.layer_outputs(X)
    assert np.array_equal(net.scores(X), cache.scores)
    assert np.array_equal(pre[-1], cache.scores) and np.array_equal(out[-1], cache.scores)
    assert all(np.array_equal(a, b) for a, b in zip(pre[:-1], cache.pre, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(out[:-1], cache.inputs[1:], strict=True))
    want_pre, want_out = _layer_by_layer(net, X)
    for got, want in zip(pre + out, want_pre + want_out, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
