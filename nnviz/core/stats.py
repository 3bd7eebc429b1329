"""Statistics the lecture talks about: histograms on fixed bins, dead and saturated
units, norms. Pure functions over arrays so the trainer and tests share them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnviz.core.activations import DYING, SATURATING

HIST_BINS = 48
#: a sigmoid/tanh output this close (as a fraction of its range) to a bound is flat
SATURATION_MARGIN = 0.025
#: a unit counts as saturated when it is flat for at least this share of examples
SATURATED_UNIT_SHARE = 0.9


@dataclass(frozen=True)
class Histogram:
    """Counts on fixed ``edges``; values outside fall into the end bins (``clipped``)."""

    edges: np.ndarray
    counts: np.ndarray
    clipped: float  # fraction of values outside the edges

    def __post_init__(self) -> None:
        self.edges.flags.writeable = False
        self.counts.flags.writeable = False


def nice_ceil(x: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``x``."""
    if not math.isfinite(x) or x <= 0:
        return 1.0
    exp = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10**exp >= x:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))


def choose_edges(values: np.ndarray, bounds: tuple[float, float] | None = None) -> np.ndarray:
    """Bins fixed for the rest of a run: exact for bounded activations, otherwise a
    symmetric range twice the current spread, so growth stays visible for a while."""
    if bounds is not None:
        return np.linspace(bounds[0], bounds[1], HIST_BINS + 1)
    finite = values[np.isfinite(values)]
    spread = float(np.max(np.abs(finite))) if finite.size else 1.0
    lim = nice_ceil(2.0 * spread) if spread > 0 else 1.0
    return np.linspace(-lim, lim, HIST_BINS + 1)


#: bins are chosen anew when more than this share of the values falls off their ends ...
REBIN_OUTSIDE = 0.02
#: ... or when the values' spread shrank below this share of the bins' half-width. New bins
#: span 2 to 5 times the spread (:func:`choose_edges`), well inside both limits: the bins
#: do not flip back and forth from one snapshot to the next
REBIN_SHRINK = 0.1
#: the histograms whose bins follow their values (see Trainer._edges_for)
REBIN_KINDS = ("weight", "pre", "act")


def edges_outgrown(edges: np.ndarray, values: np.ndarray) -> bool:
    """Whether fixed bins no longer show ``values``: too many fall off the ends, or all
    of them pile into a few middle bins. Checked on a strided sample (cheap per snapshot)."""
    v = values.ravel()
    if v.size > HIST_SAMPLE:
        v = v[:: -(-v.size // HIST_SAMPLE)]
    finite = v[np.isfinite(v)]
    if not finite.size:
        return False
    lo, hi = float(edges[0]), float(edges[-1])
    outside = np.count_nonzero((finite < lo) | (finite > hi)) / finite.size
    spread = float(np.max(np.abs(finite)))
    return outside > REBIN_OUTSIDE or (spread > 0 and spread < REBIN_SHRINK * (hi - lo) / 2)


#: histograms of bigger arrays use an evenly strided sample of this many values
HIST_SAMPLE = 65_536


def histogram(values: np.ndarray, edges: np.ndarray) -> Histogram:
    v = values.ravel()
    if v.size > HIST_SAMPLE:
        v = v[:: -(-v.size // HIST_SAMPLE)]
    n = v.size
    lo, hi = float(edges[0]), float(edges[-1])
    bins = len(edges) - 1
    # the edges are uniform: a bin index is one multiply, no sorting (np.histogram sorts)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf from a diverging run
        scaled = np.nan_to_num((v - lo) * (bins / (hi - lo)), nan=0.0, posinf=bins, neginf=0.0)
    np.clip(scaled, 0, bins - 1, out=scaled)  # huge finite values must not overflow the cast
    idx = scaled.astype(np.int64)
    outside = int(np.count_nonzero((v < lo) | (v > hi))) if n else 0
    counts = np.bincount(idx, minlength=bins)
    return Histogram(edges.copy(), counts.astype(np.int64), outside / n if n else 0.0)


def dead_units(activation: str, outputs: np.ndarray) -> np.ndarray | None:
    """Units whose output is zero for every example (only ReLU units can die)."""
    if activation not in DYING:
        return None
    return ~np.any(outputs > 0, axis=0)


def saturated_units(activation: str, outputs: np.ndarray) -> np.ndarray | None:
    """Units stuck on a flat tail of a sigmoid or tanh for most examples."""
    bounds = SATURATING.get(activation)
    if bounds is None:
        return None
    lo, hi = bounds
    margin = SATURATION_MARGIN * (hi - lo)
    flat = (outputs < lo + margin) | (outputs > hi - margin)
    return flat.mean(axis=0) >= SATURATED_UNIT_SHARE


def fraction(mask: np.ndarray | None) -> float | None:
    return None if mask is None else float(np.mean(mask))


def norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


#: a confusion matrix is at most this many cells a side (8 MiB of counts); more classes
#: are summed in blocks, one cell per block, as the view draws them anyway
MAX_CONFUSION_SIDE = 1024


def confusion_block(n_classes: int, most: int = MAX_CONFUSION_SIDE) -> int:
    """Classes per row/column of a confusion matrix of ``n_classes`` at most ``most`` a side."""
    return max(-(-int(n_classes) // max(int(most), 1)), 1)


def confusion_matrix(pred: np.ndarray, truth: np.ndarray, n_classes: int,
                     most: int = MAX_CONFUSION_SIDE) -> np.ndarray:
    """Counts with true classes as rows and predicted classes as columns; with more than
    ``most`` classes, summed over blocks of :func:`confusion_block` classes (a matrix of
    65,536 classes would be 34 GB a snapshot)."""
    block = confusion_block(n_classes, most)
    side = -(-int(n_classes) // block)
    m = np.zeros((side, side), dtype=np.int64)
    np.add.at(m, (truth.astype(np.int64) // block, pred.astype(np.int64) // block), 1)
    return m
