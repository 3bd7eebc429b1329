"""The ``normal`` initialiser and its standard deviation: the spec checks it, the draws
use it, and a spec round-trips it (the lecture's sigmoid-saturation experiment)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnviz.core.data import generate
from nnviz.core.init import (
    DEFAULT_INIT_STD,
    INIT_NAMES,
    INIT_STD_RANGE,
    check_init_std,
    initial_params,
    initialise,
)
from nnviz.core.network import Network
from nnviz.core.optim import OptimizerConfig
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.spec import LayerSpec, NetworkSpec, SpecError
from nnviz.core.trainer import TrainConfig


def test_normal_draws_with_the_given_std_whatever_the_width():
    rng = np.random.default_rng(0)
    W, b = initialise("normal", 400, 300, rng, np.dtype("float64"), std=5.0)
    assert W.shape == (400, 300) and not b.any()
    assert abs(W.std() - 5.0) < 0.05 and abs(W.mean()) < 0.05


def test_normal_needs_a_std_and_the_others_ignore_it():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="standard deviation"):
        initialise("normal", 3, 2, rng, np.dtype("float64"))
    a = initialise("xavier_normal", 3, 2, np.random.default_rng(1), np.dtype("float64"), std=9.0)
    b = initialise("xavier_normal", 3, 2, np.random.default_rng(1), np.dtype("float64"))
    assert np.array_equal(a[0], b[0])


@pytest.mark.parametrize(
    "bad", [0, 0.0, -1.0, 1e-9, 101.0, math.nan, math.inf, float("1e400"), "5", True, None]
)
def test_bad_std_is_refused_naming_the_field(bad):
    with pytest.raises(ValueError, match="init_std must be"):
        check_init_std(bad)
    if bad is not None:  # None means "the default" to a spec
        with pytest.raises(SpecError, match="init_std must be"):
            NetworkSpec(2, 2, (LayerSpec(4, "sigmoid"),), init="normal", init_std=bad)


def test_range_ends_are_accepted():
    lo, hi = INIT_STD_RANGE
    assert check_init_std(lo) == lo and check_init_std(hi) == hi and check_init_std(3) == 3.0


def test_spec_defaults_and_round_trip():
    assert "normal" in INIT_NAMES
    spec = NetworkSpec(2, 2, (LayerSpec(4, "sigmoid"),), init="normal")
    assert spec.init_std == DEFAULT_INIT_STD
    spec = NetworkSpec(2, 2, (LayerSpec(4, "sigmoid"),), init="normal", init_std=5)
    d = spec.to_dict()
    assert d["init_std"] == 5.0 and NetworkSpec.from_dict(d) == spec
    other = NetworkSpec(2, 2, (LayerSpec(4, "sigmoid"),), init="xavier_normal")
    assert other.init_std is None and "init_std" not in other.to_dict()  # older files stay the same
    with pytest.raises(SpecError, match="init_std applies to the normal initialiser only"):
        NetworkSpec(2, 2, init="torch", init_std=2.0)
    with pytest.raises(SpecError, match="init_std must be"):
        NetworkSpec.from_dict({**d, "init_std": "5"})


def test_sessions_draw_the_specs_std():
    data = generate("circle", n=100, noise=0.1, seed=0)
    dc = DataConfig()
    spec = build_spec(data, dc, layers=(50,), activation="sigmoid", init="normal", init_std=5.0)
    assert spec.init_std == 5.0
    assert build_spec(data, dc, init="torch", init_std=5.0).init_std is None  # ignored, not an error
    s = Session(data, dc, spec, TrainConfig(OptimizerConfig("sgd", {"lr": 0.1}), seed=2))
    assert abs(s.network.params[0].std() - 5.0) < 1.0
    for p, q in zip(s.network.params, initial_params(spec, 2), strict=True):
        assert np.array_equal(p, q)


def test_initial_params_match_network_initialised_for_the_other_initialisers():
    for init in ("torch", "xavier_uniform", "xavier_normal", "he_normal", "small"):
        spec = NetworkSpec(3, 2, (LayerSpec(5), LayerSpec(4, "maxout")), init=init, dtype="float32")
        for p, q in zip(initial_params(spec, 7), Network.initialised(spec, 7).params, strict=True):
            assert p.dtype == q.dtype and np.array_equal(p, q)
