"""The Snapshot contract views rely on: what the trainer hands the window, read-only.

A :class:`Snapshot` is built by :meth:`nnviz.core.trainer.Trainer.snapshot`; every array in
it is a read-only copy, safe to keep and to hand to another thread or process. Views
(``nnviz.gui.views``) draw from these fields only; add a field with a default so that
snapshots built elsewhere (tests, old pickles) stay valid. Re-exported from
:mod:`nnviz.core.trainer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnviz.core import stats
from nnviz.core.activations import SATURATING
from nnviz.core.images import ExamplePredictions
from nnviz.core.stats import Histogram

__all__ = ["GridMaps", "GridSpec", "LayerSnapshot", "Snapshot", "freeze", "measure_layer"]


@dataclass(frozen=True)
class LayerSnapshot:
    """Statistics of one dense layer (hidden or output) on the probe batch."""

    index: int
    name: str
    activation: str
    units: int
    dead_units: np.ndarray | None
    saturated_units: np.ndarray | None
    dead_fraction: float | None
    saturated_fraction: float | None
    grad_norm: float
    weight_norm: float
    update_ratio: float | None  # ||dW|| / ||W|| of the last update
    mean_activation: np.ndarray
    histograms: dict[str, Histogram]  # "pre", "act", "grad", "weight"
    #: units dead on the trainer's first snapshot of this run (before the first step for
    #: a run from step 0; when it was opened, for a run from a file): a unit dead from the
    #: start is not the lesson "a high learning rate kills ReLUs", one that died since is
    dead_at_start: np.ndarray | None = None

    @property
    def dead_since_start(self) -> int | None:
        """Units dead now that were alive at the start (None: no dying units or no record)."""
        if self.dead_units is None or self.dead_at_start is None:
            return None
        if self.dead_at_start.shape != self.dead_units.shape:
            return None
        return int(np.count_nonzero(self.dead_units & ~self.dead_at_start))


@dataclass(frozen=True)
class GridMaps:
    """Network outputs over a grid of the (raw) 2-D input plane."""

    xs: np.ndarray  # (W,) raw x1 coordinates
    ys: np.ndarray  # (H,) raw x2 coordinates
    output: np.ndarray  # (H, W, C): class probabilities, or the regression value
    neurons: tuple[np.ndarray, ...]  # per hidden layer (H, W, units)


@dataclass(frozen=True)
class Snapshot:
    step: int
    epoch: int
    lr: float
    params: tuple[np.ndarray, ...]
    layers: tuple[LayerSnapshot, ...]
    train_loss: float
    train_accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    grid: GridMaps | None
    confusion: np.ndarray | None  # (C, C) on the test split (train if none), rows = truth
    eval_examples: int  # examples per split behind the losses above
    probe_examples: int  # examples behind the histograms and unit statistics
    #: the classes ``confusion`` covers: more than its side when it holds sums over blocks
    #: of classes (0: as many as its side)
    confusion_classes: int = 0
    #: correctly classified examples behind ``confusion`` (-1: its trace)
    confusion_correct: int = -1
    #: the answers on the examples behind ``confusion`` (the example gallery); None for
    #: regression and networks of more than 1,024 outputs
    examples: ExamplePredictions | None = None


@dataclass(frozen=True)
class GridSpec:
    """A grid over the raw 2-D input plane and the same points as network inputs."""

    xs: np.ndarray
    ys: np.ndarray
    inputs: np.ndarray  # (H*W, D) after the input pipeline


def freeze(a: np.ndarray) -> np.ndarray:
    """A read-only copy: what every array of a snapshot is."""
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def measure_layer(index: int, activation: str, units: int, z: np.ndarray, a: np.ndarray, W: np.ndarray,
                  grad: np.ndarray, W_before: np.ndarray | None,
                  histogram: Callable[..., Histogram], dead_at_start: np.ndarray | None) -> LayerSnapshot:
    """One layer's statistics as the views read them (defined here, next to the fields):
    ``z``/``a`` its pre-activations and outputs on the probe batch (``activation`` is
    "output" for the output layer), ``grad`` its weight gradient, ``W_before`` a copy of
    its weights before the last update (scratch: overwritten with the update),
    ``histogram(kind, values, bounds=None)`` the histogram on the run's bins."""
    hidden = activation != "output"
    dead = stats.dead_units(activation, a) if hidden else None
    sat = stats.saturated_units(activation, a) if hidden else None
    hists = {
        "pre": histogram("pre", z),
        "act": histogram("act", a, SATURATING.get(activation)),
        "grad": histogram("grad", grad),
        "weight": histogram("weight", W),
    }
    wnorm = stats.norm(W)
    ratio = None
    if W_before is not None and wnorm > 0:
        before = stats.norm(W_before)
        update = np.subtract(W, W_before, out=W_before)  # the caller's scratch copy: no new array
        ratio = stats.norm(update) / max(before, 1e-30)
    return LayerSnapshot(
        index=index, name=f"hidden {index + 1}" if hidden else "output", activation=activation,
        units=units, dead_units=None if dead is None else freeze(dead),
        saturated_units=None if sat is None else freeze(sat), dead_fraction=stats.fraction(dead),
        saturated_fraction=stats.fraction(sat), grad_norm=stats.norm(grad), weight_norm=wnorm,
        update_ratio=ratio, mean_activation=freeze(a.mean(axis=0)), histograms=hists,
        dead_at_start=dead_at_start if hidden else None)
