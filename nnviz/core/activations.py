"""Activation functions with their derivatives, safe for any finite input.

Each activation maps pre-activations ``z`` to outputs ``a`` and back-propagates an
upstream gradient. Backward receives both ``z`` and ``a`` because for some functions the
derivative is cheapest from the output (sigmoid, tanh) and for others from the input.
Maxout takes ``pieces`` pre-activations per unit, so a maxout layer is wider before the
activation than after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATION_NAMES = (
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "maxout",
)

#: activations whose units can die (output exactly zero for every input)
DYING = frozenset({"relu"})
#: activations with flat tails, with the range of their outputs
SATURATING = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function that never overflows: exp of a non-positive number only."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


@dataclass(frozen=True)
class Activation:
    """An element-wise (or, for maxout, piece-wise) nonlinearity."""

    name: str
    alpha: float = 0.01  # leaky ReLU slope, ELU scale
    pieces: int = 1

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Outputs for ``z``; written into ``out`` when the function has a cheap in-place
        form (ReLU, tanh), else a new array: use the returned array, not ``out``."""
        name = self.name
        if name == "relu":
            return np.maximum(z, 0.0, out=out)
        if name == "tanh":
            return np.tanh(z, out=out)
        if name == "sigmoid":
            return sigmoid(z)
        if name == "identity":
            return z
        if name == "leaky_relu":
            return np.where(z > 0, z, z * z.dtype.type(self.alpha))
        if name == "elu":
            neg = np.expm1(np.minimum(z, 0)) * z.dtype.type(self.alpha)
            return np.where(z > 0, z, neg)
        if name == "softplus":
            return np.logaddexp(z.dtype.type(0), z)
        if name == "maxout":
            return _maxout_view(z, self.pieces).max(axis=2)
        raise ValueError(f"unknown activation {name!r}")

    def backward(
        self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Gradient with respect to ``z`` given the gradient with respect to ``a``.

        ``out`` (shaped like ``z``, not ``grad_a`` itself) takes the result where an
        in-place form exists; the results are the same bits either way. Use the returned
        array: identity returns ``grad_a`` itself.
        """
        name = self.name
        if out is not None and name in _IN_PLACE_BACKWARD:
            return _IN_PLACE_BACKWARD[name](z, a, grad_a, out)
        if name == "relu":
            return grad_a * (z > 0)
        if name == "tanh":
            return grad_a * (1 - a * a)
        if name == "sigmoid":
            return grad_a * (a * (1 - a))
        if name == "identity":
            return grad_a
        if name == "leaky_relu":
            return grad_a * np.where(z > 0, z.dtype.type(1), z.dtype.type(self.alpha))
        if name == "elu":
            # d/dz alpha*(e^z - 1) = alpha*e^z = a + alpha for z <= 0
            return grad_a * np.where(z > 0, z.dtype.type(1), a + z.dtype.type(self.alpha))
        if name == "softplus":
            return grad_a * sigmoid(z)
        if name == "maxout":
            zv = _maxout_view(z, self.pieces)
            winner = zv.argmax(axis=2)
            grad = np.zeros_like(zv)
            np.put_along_axis(grad, winner[:, :, None], grad_a[:, :, None], axis=2)
            return grad.reshape(z.shape)
        raise ValueError(f"unknown activation {name!r}")

    def backward_spent(self, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        """The gradient with respect to ``z`` from the outputs ``a`` alone, for the
        activations in :data:`SPENT_BACKWARD`: the result lands in ``grad_a``'s array and
        ``a`` is overwritten (both are spent; the same bits as :meth:`backward`)."""
        return SPENT_BACKWARD[self.name](a, grad_a)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """Element-wise derivative (not defined for maxout); used by the statistics."""
        return self.backward(z, self.forward(z), np.ones_like(z))


def _relu_backward(z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, out: np.ndarray) -> np.ndarray:
    # the mask as 0.0/1.0 in the output's own dtype: a same-dtype product is a cheaper
    # NumPy call than one mixing bool and float, and ``grad_a * (z > 0)`` converts the
    # bools to exactly these numbers
    np.greater(z, 0, out=out)
    return np.multiply(grad_a, out, out=out)


def _tanh_backward(z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.multiply(a, a, out=out)
    np.subtract(1, out, out=out)
    return np.multiply(grad_a, out, out=out)


def _sigmoid_backward(z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.subtract(1, a, out=out)
    np.multiply(a, out, out=out)
    return np.multiply(grad_a, out, out=out)


#: backward passes with an in-place form, each the same operations in the same order as
#: the allocating form in :meth:`Activation.backward`
_IN_PLACE_BACKWARD = {"relu": _relu_backward, "tanh": _tanh_backward, "sigmoid": _sigmoid_backward}


def _relu_backward_spent(a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    # a = max(z, 0) is above 0 exactly where z is (NaN gives NaN, and then 0, as z > 0 does)
    np.greater(a, 0, out=a)
    return np.multiply(grad_a, a, out=grad_a)


def _tanh_backward_spent(a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
    np.multiply(a, a, out=a)
    np.subtract(1, a, out=a)
    return np.multiply(grad_a, a, out=grad_a)


#: activations whose forward pass may overwrite its input and whose backward pass needs
#: only the outputs, with that backward pass overwriting the outputs and the upstream
#: gradient: the same operations in the same order as :data:`_IN_PLACE_BACKWARD`, so the
#: same bits, in two arrays per layer instead of four
SPENT_BACKWARD = {"relu": _relu_backward_spent, "tanh": _tanh_backward_spent,
                  "identity": lambda a, grad_a: grad_a}


def _maxout_view(z: np.ndarray, pieces: int) -> np.ndarray:
    """Units are laid out as consecutive groups of ``pieces`` columns."""
    n, width = z.shape
    return z.reshape(n, width // pieces, pieces)


def make_activation(name: str, alpha: float | None = None) -> Activation:
    """Build an activation by name, with the conventional default parameter."""
    if name not in ACTIVATION_NAMES:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATION_NAMES)}"
        )
    if alpha is None:
        alpha = 1.0 if name == "elu" else 0.01
    return Activation(name=name, alpha=float(alpha), pieces=2 if name == "maxout" else 1)
