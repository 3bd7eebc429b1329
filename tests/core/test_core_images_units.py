"""One unit up close, in the core: its incoming weights, its activations by the engine's own
forward pass, the examples that excite it most; and the pictures views draw (the grey
range, the bytes of one example, the mean image)."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.images import (
    MAX_UNIT_EXAMPLES,
    display_range,
    exciting_examples,
    incoming_weights,
    mean_image,
    picture_bytes,
    unit_activations,
)
from nnviz.core.init import initial_params
from nnviz.core.network import Network
from nnviz.core.spec import LayerSpec, NetworkSpec


def _spec(*hidden: tuple[int, str], inputs: int = 16, outputs: int = 3, residual: bool = False,
          dtype: str = "float64") -> NetworkSpec:
    layers = tuple(LayerSpec(u, a) for u, a in hidden)
    return NetworkSpec(inputs, outputs, layers, loss="softmax", residual=residual, dtype=dtype)


def _relu_forward(params, X):
    """The plain maths of a ReLU network, written out (what the engine must agree with)."""
    h, acts = X, []
    for k in range(len(params) // 2 - 1):
        h = np.maximum(h @ params[2 * k] + params[2 * k + 1], 0.0)
        acts.append(h)
    return acts, h @ params[-2] + params[-1]


def test_activations_are_the_forward_pass_of_every_layer():
    s = _spec((8, "relu"), (5, "relu"))
    params = initial_params(s, seed=1)
    X = np.random.default_rng(0).normal(size=(40, 16))
    acts, scores = _relu_forward(params, X)
    np.testing.assert_allclose(unit_activations(s, params, X, 0), acts[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(unit_activations(s, params, X, 1), acts[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(unit_activations(s, params, X, -1), scores, rtol=1e-12, atol=1e-12)


def test_activations_follow_skip_connections_and_maxout_as_trained():
    for s in (_spec((16, "tanh"), (16, "tanh"), residual=True), _spec((6, "maxout"), (4, "relu"))):
        params = initial_params(s, seed=2)
        X = np.random.default_rng(1).normal(size=(30, 16))
        post = Network(s, params).forward(X).post
        for layer in range(len(s.hidden)):
            np.testing.assert_allclose(unit_activations(s, params, X, layer), post[layer], rtol=1e-12)
        assert unit_activations(s, params, X, 0).shape == (30, s.hidden[0].units)


def test_activations_of_float32_snapshots_and_read_only_params():
    s = _spec((8, "relu"), dtype="float32")
    params = [np.asarray(p, np.float32) for p in initial_params(s, seed=0)]
    for p in params:
        p.flags.writeable = False  # a snapshot's arrays
    X = np.random.default_rng(0).normal(size=(10, 16))
    a = unit_activations(s, params, X, 0)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, _relu_forward([p.astype(np.float64) for p in params], X)[0][0],
                               rtol=1e-4, atol=1e-5)


def test_activations_refuse_inputs_of_another_width_and_unknown_layers():
    s = _spec((8, "relu"))
    params = initial_params(s, seed=0)
    with pytest.raises(ValueError, match="examples, 16"):
        unit_activations(s, params, np.zeros((3, 15)), 0)
    with pytest.raises(ValueError, match="no layer 1"):
        unit_activations(s, params, np.zeros((3, 16)), 1)


def test_incoming_weights_are_the_units_column():
    s = _spec((8, "relu"), (5, "relu"))
    params = initial_params(s, seed=3)
    np.testing.assert_array_equal(incoming_weights(s, params, 0, 6), params[0][:, 6])
    np.testing.assert_array_equal(incoming_weights(s, params, 1, 4), params[2][:, 4])
    np.testing.assert_array_equal(incoming_weights(s, params, -1, 2), params[4][:, 2])
    with pytest.raises(ValueError, match="no unit 5"):
        incoming_weights(s, params, 1, 5)


def test_incoming_weights_of_maxout_take_each_inputs_strongest_piece():
    s = _spec((3, "maxout"))
    params = initial_params(s, seed=4)
    W = params[0]  # (16, 6): unit j's pieces are columns 2j, 2j+1
    w = incoming_weights(s, params, 0, 1)
    pieces = W[:, 2:4]
    expected = np.where(np.abs(pieces[:, 0]) >= np.abs(pieces[:, 1]), pieces[:, 0], pieces[:, 1])
    np.testing.assert_array_equal(w, expected)


def test_exciting_examples_are_the_largest_activations_mapped_to_their_rows():
    s = _spec((8, "relu"), (5, "relu"))
    params = initial_params(s, seed=5)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 16))
    rows = np.sort(rng.choice(1000, 60, replace=False))
    ex = exciting_examples(s, params, X, rows, 1, 3, k=7)
    acts = _relu_forward(params, X)[0][1][:, 3]
    # the largest seven, each reported with its own row (ReLU ties at 0 may pick any of them)
    np.testing.assert_allclose(ex.activation, np.sort(acts)[::-1][:7], rtol=1e-12)
    position = np.searchsorted(rows, ex.indices)
    np.testing.assert_array_equal(rows[position], ex.indices)
    np.testing.assert_allclose(acts[position], ex.activation, rtol=1e-12)
    assert (ex.layer, ex.unit, ex.searched) == (1, 3, 60)
    assert np.all(np.diff(ex.activation) <= 0)
    assert not ex.indices.flags.writeable and not ex.activation.flags.writeable


def test_exciting_examples_search_a_bounded_number_and_check_their_arguments():
    s = _spec((4, "relu"), inputs=4)
    params = initial_params(s, seed=0)
    n = MAX_UNIT_EXAMPLES + 100
    X = np.random.default_rng(0).normal(size=(n, 4))
    ex = exciting_examples(s, params, X, np.arange(n), 0, 0, k=5)
    assert ex.searched == MAX_UNIT_EXAMPLES and ex.indices.max() < MAX_UNIT_EXAMPLES
    with pytest.raises(ValueError, match="indices"):
        exciting_examples(s, params, X[:10], np.arange(9), 0, 0, k=5)
    with pytest.raises(ValueError, match="no unit 4"):
        exciting_examples(s, params, X[:10], np.arange(10), 0, 4, k=5)


def test_a_diverged_run_ranks_nan_activations_last():
    s = _spec((2, "relu"), inputs=2)
    params = [np.array(p) for p in initial_params(s, seed=0)]
    params[0][:] = [[1.0, 0.0], [0.0, 1.0]]
    params[1][:] = 0.0
    X = np.array([[np.nan, 0.0], [1.0, 0.0], [3.0, 0.0], [2.0, 0.0]])
    ex = exciting_examples(s, params, X, np.arange(4), 0, 0, k=4)
    assert list(ex.indices[:3]) == [2, 3, 1]


def test_display_range_pixels_and_other_values():
    assert display_range(np.array([[0.0, 0.5, 1.0]])) == (0.0, 1.0)
    assert display_range(np.array([[0.0, 16.0]])) == (0.0, 16.0)
    assert display_range(np.array([[-2.0, 3.0, np.nan]])) == (-2.0, 3.0)
    assert display_range(np.array([[np.nan]])) == (0.0, 1.0)
    assert display_range(np.array([[-4.0, -4.0]])) == (-4.0, -3.0)


def test_picture_bytes_grey_and_colour():
    grey = picture_bytes(np.array([0.0, 0.5, 1.0, np.nan]), (2, 2, 1), 0.0, 1.0)
    assert grey.shape == (2, 2, 1) and grey.dtype == np.uint8
    assert grey[:, :, 0].tolist() == [[0, 127], [255, 0]]
    colour = picture_bytes(np.arange(12) / 11.0, (2, 2, 3), 0.0, 1.0)  # row-major, channels last
    assert colour.shape == (2, 2, 3)
    assert colour[0, 0].tolist() == [0, 23, 46] and colour[1, 1, 2] == 255
    clipped = picture_bytes(np.array([-5.0, 5.0]), (1, 2, 1), 0.0, 1.0)
    assert clipped.ravel().tolist() == [0, 255]


def test_mean_image_leaves_non_finite_values_out():
    X = np.array([[0.0, 1.0, np.nan], [1.0, 3.0, np.nan], [np.inf, 2.0, np.nan]])
    np.testing.assert_allclose(mean_image(X), [0.5, 2.0, 0.0])
    assert mean_image(np.zeros((0, 4))).shape == (4,)
