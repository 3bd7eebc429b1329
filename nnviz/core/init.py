"""Weight initialisers. Weights are stored (fan_in, fan_out) so a layer is ``x @ W + b``."""

from __future__ import annotations

import numpy as np

INIT_NAMES = ("torch", "xavier_uniform", "xavier_normal", "he_normal", "small")


def initialise(
    name: str, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(W, b)`` for a dense layer, drawn from ``rng``.

    ``torch`` is PyTorch's ``nn.Linear`` default: weights and biases uniform in
    +-1/sqrt(fan_in). The others leave biases at zero, as their papers do.
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
    else:
        raise ValueError(f"unknown initialiser {name!r}; choose one of {', '.join(INIT_NAMES)}")
    return W.astype(dtype), b.astype(dtype)
