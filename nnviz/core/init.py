"""Weight initialisers. Weights are stored (fan_in, fan_out) so a layer is ``x @ W + b``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nnviz.core.spec import NetworkSpec

INIT_NAMES = ("torch", "xavier_uniform", "xavier_normal", "he_normal", "small", "normal")
#: the initialiser whose weights' standard deviation is a setting (the lecture's experiment:
#: too large a scale saturates sigmoid units and the network barely learns)
SCALED_INIT = "normal"
#: the standard deviations the ``normal`` initialiser takes, inclusive: below, every weight
#: is practically zero; above, every unit of any activation is saturated or exploding
INIT_STD_RANGE = (1e-6, 100.0)
DEFAULT_INIT_STD = 1.0


def check_init_std(std: object, where: str = "init_std") -> float:
    """``std`` as a float, or ValueError naming ``where`` when it is not a finite number in
    :data:`INIT_STD_RANGE` (files and the command line hand over anything)."""
    lo, hi = INIT_STD_RANGE
    if isinstance(std, bool) or not isinstance(std, int | float):
        raise ValueError(f"{where} must be a number in {lo:g}..{hi:g}, not {type(std).__name__}")
    value = float(std)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"{where} must be a finite number in {lo:g}..{hi:g}, not {value!r}")
    return value


def initialise(
    name: str,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    dtype: np.dtype,
    std: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(W, b)`` for a dense layer, drawn from ``rng``.

    ``torch`` is PyTorch's ``nn.Linear`` default: weights and biases uniform in
    +-1/sqrt(fan_in). The others leave biases at zero, as their papers do. ``normal``
    draws the weights from N(0, ``std``²) whatever the layer's width, so a student can
    pick a scale that is too large (it needs ``std``; the others ignore it).
    """
    b = np.zeros(fan_out)
    if name == "torch":
        bound = 1.0 / np.sqrt(fan_in)
        W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        b = rng.uniform(-bound, bound, size=fan_out)
    elif name == "xavier_uniform":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
    elif name == "xavier_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
    elif name == "he_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
    elif name == "small":
        W = 0.01 * rng.standard_normal(size=(fan_in, fan_out))
    elif name == SCALED_INIT:
        if std is None:
            raise ValueError("the normal initialiser needs its standard deviation (init_std)")
        W = check_init_std(std) * rng.standard_normal(size=(fan_in, fan_out))
    else:
        raise ValueError(f"unknown initialiser {name!r}; choose one of {', '.join(INIT_NAMES)}")
    return W.astype(dtype), b.astype(dtype)


def initial_params(spec: NetworkSpec, seed: int) -> list[np.ndarray]:
    """The first weights and biases of a network of ``spec``, drawn reproducibly from
    ``seed`` (W, b per dense layer), with the spec's ``init_std`` for ``normal``. The same
    draws, in the same order, as ``Network.initialised``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(spec.dtype)
    params: list[np.ndarray] = []
    for (fan_in, fan_out), _ in spec.layer_shapes():
        W, b = initialise(spec.init, fan_in, fan_out, rng, dtype, std=spec.init_std)
        params += [W, b]
    return params
