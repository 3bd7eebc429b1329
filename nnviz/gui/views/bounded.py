"""Bounds on what a view draws, whatever the sizes and values the loaders accept.

Qt and pyqtgraph have limits far below what a network file may hold: pyqtgraph
downsamples an image with a side over 32,767 pixels into floats it then cannot paint
(an exception in every paint, then a crash), a scatter of millions of points costs
seconds a frame, and a range whose span overflows to inf is refused by ``setRange``.
The views therefore shrink images to at most :data:`MAX_IMAGE_SIDE` pixels a side,
draw a seeded subsample of at most :data:`MAX_POINTS` points, and set ranges made
by :func:`finite_range`. These helpers are plain NumPy (no Qt), so they are cheap to
test on their own.
"""

from __future__ import annotations

import math

import numpy as np

from nnviz.core.data import MAX_DRAWN_POINTS

#: an image handed to pyqtgraph has at most this many pixels a side (a view shows fewer)
MAX_IMAGE_SIDE = 1024
#: a scatter plot draws at most this many points of a data set (the generators' budget
#: counts that many drawn points, so the rule lives in the core)
MAX_POINTS = MAX_DRAWN_POINTS
#: the largest magnitude a view coordinate may take: twice it still fits a float64, and
#: pyqtgraph's padding and tick arithmetic on a span of this size stays finite
MAX_COORD = 1e300
#: the narrowest span a range gets, relative to its magnitude (float64 resolves ~1e-16)
MIN_RELATIVE_SPAN = 1e-9
#: the narrowest span a range near zero gets (a view scaled past 1e100 per unit overflows)
MIN_SPAN = 1e-100


def block_size(n: int, most: int) -> int:
    """Items per block when ``n`` items are cut into at most ``most`` blocks (the last
    one may be shorter)."""
    return max(-(-int(n) // max(int(most), 1)), 1)


def block_starts(n: int, most: int) -> np.ndarray:
    """Start indices of the blocks of :func:`block_size` covering ``range(n)``."""
    return np.arange(0, max(int(n), 1), block_size(n, most), dtype=np.int64)


def shrink_signed(a: np.ndarray, rows: int = MAX_IMAGE_SIDE, cols: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """A 2-D array cut to at most ``rows`` x ``cols`` blocks, each showing its value of
    largest magnitude with its sign (a weight matrix: strong weights must not average
    away). NaN in a block shows as NaN; small arrays come back as they are."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"shrink_signed takes a 2-D array, not {a.ndim}-D")
    if a.shape[0] <= rows and a.shape[1] <= cols:
        return a
    if a.size == 0:
        return a[:rows, :cols]
    hi = _block_reduce(_block_reduce(a, rows, 0, np.max), cols, 1, np.max)
    lo = _block_reduce(_block_reduce(a, rows, 0, np.min), cols, 1, np.min)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(hi) >= np.abs(lo), hi, lo)


def _block_reduce(a: np.ndarray, most: int, axis: int, reduce) -> np.ndarray:
    """``reduce`` over blocks of ``ceil(n / most)`` along ``axis`` of a 2-D array, by a
    reshaped view (ten times faster than ``ufunc.reduceat`` across rows); the last,
    shorter block on its own."""
    n = a.shape[axis]
    if n <= most:
        return a
    k = block_size(n, most)
    full = (n // k) * k
    if axis == 0:
        parts = [reduce(a[:full].reshape(full // k, k, a.shape[1]), axis=1)]
        if full < n:
            parts.append(reduce(a[full:], axis=0, keepdims=True))
        return np.concatenate(parts, axis=0)
    parts = [reduce(a[:, :full].reshape(a.shape[0], full // k, k), axis=2)]
    if full < n:
        parts.append(reduce(a[:, full:], axis=1, keepdims=True))
    return np.concatenate(parts, axis=1)


def shrink_mean(v: np.ndarray, most: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """A 1-D float array cut to at most ``most`` block means (overflow gives inf, quietly)."""
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.size <= most:
        return v
    k = block_size(v.size, most)
    starts = block_starts(v.size, most)
    with np.errstate(over="ignore", invalid="ignore"):
        # each value divided by its block's count first: a mean of values near the float64
        # limit stays finite (summing them first would overflow)
        out = np.add.reduceat(v / k, starts)
        last = v.size - starts[-1]
        out[-1] = np.sum(v[starts[-1]:] / last)
    return out


def shrink_share(flags: np.ndarray, most: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """A 1-D bool array cut to at most ``most`` blocks: True where most of a block is."""
    f = np.asarray(flags, dtype=bool).ravel()
    if f.size <= most:
        return f
    starts = block_starts(f.size, most)
    counts = np.diff(np.append(starts, f.size))
    return np.add.reduceat(f.astype(np.int64), starts) * 2 > counts


def subsample(n: int, most: int = MAX_POINTS, seed: int = 0) -> np.ndarray | None:
    """Sorted indices of a seeded sample of ``most`` of ``n`` items; None when all fit."""
    if n <= most:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=most, replace=False))


def clip_coords(a: np.ndarray) -> np.ndarray:
    """Float64 coordinates within +-MAX_COORD (NaN stays NaN: pyqtgraph skips it)."""
    a = np.asarray(a, dtype=np.float64)
    return np.clip(a, -MAX_COORD, MAX_COORD)


def finite_range(lo: float, hi: float, default: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """A range ``setRange`` accepts for data in [lo, hi]: ends within +-MAX_COORD, a span
    that is finite and drawable (at least MIN_RELATIVE_SPAN of the magnitude), ``default``
    when neither end is finite. Computed from the midpoint and half-span, which cannot
    overflow for any finite input."""
    lo, hi = _finite_or_none(lo), _finite_or_none(hi)
    if lo is None and hi is None:
        return default
    if lo is None:
        lo = hi
    if hi is None:
        hi = lo
    lo, hi = (min(max(v, -MAX_COORD), MAX_COORD) for v in (min(lo, hi), max(lo, hi)))
    mid = lo / 2 + hi / 2
    half = hi / 2 - lo / 2
    least = max(abs(mid) * MIN_RELATIVE_SPAN, MIN_SPAN) / 2
    if half >= least:
        return lo, hi  # the usual case: as given (|lo|, |hi| <= MAX_COORD: the span is finite)
    return max(mid - least, -MAX_COORD), min(mid + least, MAX_COORD)


def padded_range(lo: float, hi: float, pad: float) -> tuple[float, float]:
    """:func:`finite_range` widened by ``pad`` of its span on each side, still finite."""
    lo, hi = finite_range(lo, hi)
    half = hi / 2 - lo / 2
    mid = lo / 2 + hi / 2
    half *= 1.0 + 2.0 * max(float(pad), 0.0)
    return max(mid - half, -MAX_COORD), min(mid + half, MAX_COORD)


def _finite_or_none(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None
