"""How often the update to a unit's incoming weights has one sign for every weight.

The notes' argument against sigmoid: the gradient of a unit's incoming weight w_i is
x_i * dL/dz, so when every input x_i is positive (a layer fed by sigmoid outputs) the
gradients of all the unit's weights share the sign of dL/dz. They can only all grow or
all shrink together, and gradient descent zig-zags. A layer fed by tanh outputs (of both
signs) has no such constraint. This module measures it on the network's own gradients:
the data loss's weight gradient of a minibatch, as backprop gives it, per unit.
"""

from __future__ import annotations

import numpy as np

from nnviz.core.network import Network


def one_sign_units(grad_w: np.ndarray) -> tuple[int, int]:
    """Of the columns (units) of a weight gradient ``(fan_in, units)``: how many move at
    all (some non-zero entry), and how many of those have one sign for every non-zero
    entry. An entry that is exactly zero (an input that was zero) goes either way."""
    g = np.asarray(grad_w)
    if g.ndim != 2:
        raise ValueError(f"a weight gradient is 2-D (fan_in, units), not {g.ndim}-D")
    pos = np.any(g > 0, axis=0)
    neg = np.any(g < 0, axis=0)
    moving = pos | neg
    return int(np.count_nonzero(moving)), int(np.count_nonzero(moving & ~(pos & neg)))


def one_sign_fractions(network: Network, X: np.ndarray, y: np.ndarray, batch_size: int,
                       max_batches: int = 256) -> tuple[float, ...]:
    """Per dense layer (hidden layers, then the output), the share of (minibatch, unit)
    pairs whose data-loss gradient of the unit's incoming weights has one sign for every
    weight, over consecutive minibatches of ``batch_size`` examples of ``X`` (at most
    ``max_batches``; the last, shorter one left out unless it is the only one). NaN for a
    layer where no unit's weights move. With ``batch_size`` 1 this is per example, where
    a layer fed by positive inputs always gives 1."""
    X = np.asarray(X, dtype=network.dtype)
    n = len(X)
    if n == 0 or batch_size < 1:
        raise ValueError("one_sign_fractions needs examples and a batch size of at least 1")
    b = min(int(batch_size), n)
    starts = range(0, n - b + 1, b)[:max_batches]
    moving = np.zeros(network.n_layers, np.int64)
    one = np.zeros(network.n_layers, np.int64)
    for s in starts:
        cache = network.forward(X[s:s + b])
        _, dscores = network.loss.value_and_grad(cache.scores, y[s:s + b])
        grads = network.backward(cache, dscores)
        for k in range(network.n_layers):
            m, o = one_sign_units(grads[2 * k])
            moving[k] += m
            one[k] += o
    return tuple(float(o) / m if m else float("nan") for m, o in zip(moving, one, strict=True))


__all__ = ["one_sign_fractions", "one_sign_units"]
