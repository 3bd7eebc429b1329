"""The one-sign share of weight updates: the notes' argument against sigmoid, measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnviz.core.update_signs import one_sign_fractions, one_sign_units
from tests.core.helpers import make_network


def test_units_count_columns_with_one_sign_and_ignore_zeros():
    g = np.array([[1.0, -1.0, 0.0, 2.0],
                  [3.0, 2.0, 0.0, 0.0],
                  [0.5, -4.0, 0.0, -1.0]])
    # column 0 all positive, 1 mixed, 2 does not move, 3 mixed (the zero goes either way)
    assert one_sign_units(g) == (3, 1)
    assert one_sign_units(-np.abs(g)) == (3, 3)
    with pytest.raises(ValueError, match="2-D"):
        one_sign_units(np.ones(3))


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X, y


def test_a_layer_fed_by_sigmoid_updates_with_one_sign_per_example_and_tanh_does_not():
    X, y = _data()
    sig = one_sign_fractions(make_network([2, 10, 10, 2], "sigmoid", seed=1), X, y, batch_size=1)
    tanh = one_sign_fractions(make_network([2, 10, 10, 2], "tanh", seed=1), X, y, batch_size=1)
    assert len(sig) == len(tanh) == 3
    # per example the gradient of w_i is x_i * dz: positive inputs, one sign, always
    assert sig[1] == 1.0 and sig[2] == 1.0
    assert tanh[1] < 0.2 and tanh[2] < 0.2
    # the first layer is fed by the raw inputs (both signs) in either network
    assert sig[0] < 0.7 and tanh[0] < 0.7


def test_minibatches_mix_the_signs_and_bounds_hold():
    X, y = _data(n=80)
    net = make_network([2, 10, 10, 2], "sigmoid", seed=1)
    per_batch = one_sign_fractions(net, X, y, batch_size=20)
    assert all(0.0 <= v <= 1.0 for v in per_batch)
    assert per_batch[1] <= 1.0
    # a batch larger than the data is the whole data, once; at most max_batches are used
    assert one_sign_fractions(net, X, y, batch_size=1000) == one_sign_fractions(net, X, y, batch_size=80)
    assert one_sign_fractions(net, X[:3], y[:3], batch_size=1) == one_sign_fractions(
        net, X, y, batch_size=1, max_batches=3)
    with pytest.raises(ValueError):
        one_sign_fractions(net, X[:0], y[:0], batch_size=1)


def test_a_layer_that_does_not_move_is_not_measured():
    X, y = _data(n=8)
    net = make_network([2, 4, 2], "relu", seed=0)
    net.params[0][...] = 0.0
    net.params[1][...] = -1.0  # every ReLU unit off: no gradient reaches the first layer,
    fr = one_sign_fractions(net, X, y, batch_size=1)  # and the output layer's inputs are 0
    assert math.isnan(fr[0]) and math.isnan(fr[1])
    net.params[1][...] = 1.0  # on again: both measured
    assert all(0.0 <= v <= 1.0 for v in one_sign_fractions(net, X, y, batch_size=1))
