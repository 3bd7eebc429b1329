"""Small builders shared by the core tests."""

from __future__ import annotations

import numpy as np

from nnviz.core.network import Network
from nnviz.core.spec import LayerSpec, NetworkSpec


def make_network(widths, activation="tanh", loss="softmax", residual=False, dtype="float64",
                 init="torch", seed=0) -> Network:
    hidden = tuple(LayerSpec(w, activation) for w in widths[1:-1])
    spec = NetworkSpec(widths[0], widths[-1], hidden, loss=loss, init=init, residual=residual,
                       dtype=dtype)
    return Network.initialised(spec, seed)


def make_targets(loss: str, n: int, out: int, rng: np.random.Generator) -> np.ndarray:
    if loss == "mse":
        return rng.standard_normal((n, out))
    if loss == "logistic":
        return rng.integers(0, 2, n)
    return rng.integers(0, out, n)
