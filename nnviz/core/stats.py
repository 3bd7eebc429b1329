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
#: the histograms whose bins follow their values (see Trainer._histogram)
REBIN_KINDS = ("weight", "pre", "act")


def edges_outgrown(edges: np.ndarray, values: np.ndarray) -> bool:
    """Whether fixed bins no longer show ``values``: too many fall off the ends, or all
    of them pile into a few middle bins. Checked on a strided sample (cheap per snapshot)."""
    v = sample(values)
    if not v.size:
        return False
    vmin, vmax = float(_min(v)), float(_max(v))
    lo, hi = float(edges[0]), float(edges[-1])
    outside = None
    if lo <= vmin and vmax <= hi:  # no NaN, nothing off the ends: no mask, no copy
        outside = 0
    return _outgrown(edges, v, vmin, vmax, outside)


def _outgrown(edges: np.ndarray, v: np.ndarray, vmin: float, vmax: float, outside: int | None) -> bool:
    """:func:`edges_outgrown` of the sample ``v`` with its min and max (NaN propagated)
    and, when known, the count of its values off the ends (used only when all are finite)."""
    lo, hi = float(edges[0]), float(edges[-1])
    if math.isfinite(vmin) and math.isfinite(vmax):  # every value finite
        n = v.size
        spread = max(-vmin, vmax, 0.0)
        if outside is None:
            outside = _off_the_ends(v, lo, hi)
    else:
        finite = v[np.isfinite(v)]
        n = finite.size
        if not n:
            return False
        spread = float(np.max(np.abs(finite)))
        outside = _off_the_ends(finite, lo, hi)
    return outside / n > REBIN_OUTSIDE or (spread > 0 and spread < REBIN_SHRINK * (hi - lo) / 2)


def _off_the_ends(v: np.ndarray, lo: float, hi: float) -> int:
    """Values below ``lo`` or above ``hi`` (edges past float32's range compare as inf)."""
    with np.errstate(over="ignore"):
        return int(np.count_nonzero(v < lo)) + int(np.count_nonzero(v > hi))


#: histograms of bigger arrays use an even sample of at most this many values
#: (:func:`sample`; 48 bins, about 170 values a bin: the shape is all a view shows; a
#: snapshot every 33 ms bins four arrays a layer, and 784 x 256 weights in full took a
#: third of its time)
HIST_SAMPLE = 8_192


#: edges within this bound leave float32 arithmetic on values between them no room to
#: overflow (a diverging float32 run's bins can reach past float32's largest number)
_SAFE_EDGE = 1e37
#: the reductions themselves, without ndarray.min's Python wrapper (a dozen histograms a
#: snapshot, most of small arrays, where the calls are the cost); NaN propagates
_min, _max = np.minimum.reduce, np.maximum.reduce


def sample(values: np.ndarray, most: int = HIST_SAMPLE) -> np.ndarray:
    """``values`` flattened, or an even sample of at most ``most`` of them, contiguous:
    what histograms and bin checks look at. A 2-D array (examples x units, inputs x
    units) keeps whole rows, every k-th: every unit is in the sample, and the copy reads
    only the rows it keeps (a strided sample of single values reads nearly every cache
    line of the array, and with a stride sharing a factor with the row width it sees only
    some units). Anything else: every k-th value."""
    if values.size <= most:
        return values.ravel()
    if values.ndim == 2 and 0 < values.shape[1] <= most:
        rows = values.shape[0]
        step = -(-rows // (most // values.shape[1]))
        return np.ascontiguousarray(values[::step]).ravel()
    v = values.ravel()
    return np.ascontiguousarray(v[:: -(-v.size // most)])


def histogram(values: np.ndarray, edges: np.ndarray) -> Histogram:
    """Counts of (a strided sample of) ``values`` on uniform ``edges``."""
    return checked_histogram(values, edges)[0]


def checked_histogram(values: np.ndarray, edges: np.ndarray) -> tuple[Histogram, bool]:
    """:func:`histogram` and :func:`edges_outgrown` of the same values in one pass
    over their sample (a snapshot bins a dozen arrays)."""
    v = sample(values)
    n = v.size
    lo, hi = float(edges[0]), float(edges[-1])
    bins = len(edges) - 1
    if not n:
        return Histogram(edges.copy(), np.zeros(bins, np.int64), 0.0), False
    vmin, vmax = float(_min(v)), float(_max(v))
    # the edges are uniform: a bin index is one multiply, no sorting (np.histogram sorts),
    # in the values' own dtype (float32 work stays float32)
    if lo <= vmin and vmax <= hi and lo > -_SAFE_EDGE and hi < _SAFE_EDGE:
        # the common case: no NaN, nothing to overflow, every index in 0..bins
        scaled = np.subtract(v, lo)
        scaled *= bins / (hi - lo)
        counts = np.bincount(scaled.astype(np.intp), minlength=bins + 1)
        counts[bins - 1] += counts[bins]  # the top edge (and rounding up to it): the last bin
        counts = counts[:bins]
        outside = 0
    else:  # fmax/fmin: NaN and -inf to bin 0, +inf and huge values to the end bins
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.subtract(v, lo)
            scaled *= bins / (hi - lo)
            np.fmax(scaled, 0, out=scaled)
            np.fmin(scaled, bins - 1, out=scaled)
        outside = _off_the_ends(v, lo, hi)
        counts = np.bincount(scaled.astype(np.intp), minlength=bins)
    hist = Histogram(edges.copy(), counts.astype(np.int64, copy=False), outside / n)
    return hist, _outgrown(edges, v, vmin, vmax, outside)


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


#: a float32 sum of squares below this may have lost terms to underflow (squares of
#: values under about 1e-19 are subnormal or zero in float32)
_TINY_SQUARES = 1e-30


def norm(a: np.ndarray) -> float:
    """The Euclidean norm of all of ``a``. A BLAS dot product in ``a``'s own dtype (no
    float64 copy of a float32 array; float32 rounding, relative error ~1e-7 on a layer's
    weights); a float32 sum that overflowed or underflowed is redone in float64."""
    a = np.asarray(a)
    dt = a.dtype
    if dt == np.float64 or dt == np.float32:
        # BLAS: no NumPy floating-point error state to guard (inf and NaN come through)
        s = float(np.vdot(a, a))
        if dt == np.float64 or _TINY_SQUARES <= s < math.inf or (s == 0 and not a.any()):
            return math.sqrt(s)
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
