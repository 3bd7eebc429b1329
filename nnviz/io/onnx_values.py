"""What each tensor of an ONNX graph is, in nnviz's terms, while the graph is read.

The reader (:mod:`nnviz.io.onnx_graph`) gives every tensor one of these abstract values
instead of computing it: a constant, the raw input or a preprocessing step, a layer's
input, pre-activations or activations, or something derived from the outputs. Kept apart
so the operators (:mod:`nnviz.io.onnx_ops`) and the reader share one vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the default alpha of the activations that take one (ONNX's and nnviz's agree)
DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}


class RefusedError(Exception):
    """Internal: why the graph is refused; the file name is added by :func:`import_onnx`."""


def short(e: Exception) -> str:
    """One line of at most 300 characters for an exception's text."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


class Const:
    """A constant tensor. An initializer is converted only when a node reads its values
    (through the reader's budget), so an unused one costs nothing."""

    __slots__ = ("_load", "_value")

    def __init__(self, value: np.ndarray | None = None, load: Callable[[], np.ndarray] | None = None):
        self._value = value
        self._load = load

    @property
    def value(self) -> np.ndarray:
        if self._value is None:
            assert self._load is not None
            self._value, self._load = self._load(), None
        return self._value


@dataclass(frozen=True)
class Raw:
    """The graph's input table."""

    width: int | None


@dataclass(frozen=True)
class Col:
    """One expanded 2-D feature column (a name from FEATURES_2D)."""

    name: str


@dataclass(frozen=True)
class Feat:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Centered:
    features: tuple[str, ...]
    mean: np.ndarray = field(compare=False)


@dataclass(frozen=True)
class Projected:
    """``(X - mean) @ M``: the preprocessing matrix, or a first layer without bias."""

    features: tuple[str, ...]
    mean: np.ndarray = field(compare=False)
    matrix: np.ndarray = field(compare=False)


@dataclass(frozen=True)
class Hidden:
    """The input of dense layer ``k`` (k = 0: the network's input)."""

    k: int


@dataclass(frozen=True)
class Pre:
    """Pre-activation of dense layer ``k``."""

    k: int


@dataclass(frozen=True)
class Act:
    """Activation output of dense layer ``k`` (before any residual link)."""

    k: int


@dataclass(frozen=True)
class Piece:
    """``z[:, offset::2]`` of layer ``k``: half of a maxout."""

    k: int
    offset: int


@dataclass(frozen=True)
class Pairs:
    """Layer ``k``'s pre-activations reshaped to (N, units, 2) for a maxout."""

    k: int


@dataclass(frozen=True)
class Prob:
    """Softmax/LogSoftmax of a stream: probabilities, not part of the network."""

    src: Any


@dataclass(frozen=True)
class Derived:
    """Something computed from the outputs (1 - p, labels, ...): not part of the network."""

    src: Any


STREAMS = (Hidden, Pre, Act)
INPUTS = (Raw, Col, Feat, Centered, Projected)


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray
    activation: str | None = None
    alpha: float | None = None
    out: str | None = None  # "act": the next layer reads the activation; "residual": h + a

    @property
    def units(self) -> int:
        return self.W.shape[1] // (2 if self.activation == "maxout" else 1)
