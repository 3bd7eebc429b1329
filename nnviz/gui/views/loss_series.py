"""The loss plot's data and axes, Qt-free but for the axis item: :class:`GrowingBuffer`
(a float64 vector that doubles when full, so every minibatch is kept), :class:`EpochAxis`
(epoch x coordinates spread between the steps where the epoch count went up), the EMA
smoother's resumption, and :class:`TidyAxis` (a value axis whose labels never pile up).
"""

from __future__ import annotations

import math

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg

from nnviz.core.history import EmaSmoother
from nnviz.core.stats import nice_ceil

#: the y axis puts at most one label per this many pixels (narrow ranges piled them up)
MIN_TICK_PX = 28


class GrowingBuffer:
    """A float64 vector whose capacity doubles: amortised O(1) bulk appends."""

    def __init__(self, capacity: int = 4096):
        self._data = np.empty(max(int(capacity), 16))
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        need = self.size + values.size
        if need > self._data.size:
            cap = self._data.size
            while cap < need:
                cap *= 2
            grown = np.empty(cap)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = values
        self.size = need

    def replace(self, values: np.ndarray) -> None:
        """Overwrite the filled part (same length), e.g. after re-smoothing."""
        self._data[: self.size] = values

    @property
    def view(self) -> np.ndarray:
        """The filled part; valid until the next append."""
        return self._data[: self.size]

    def __len__(self) -> int:
        return self.size


class EpochAxis:
    """Epoch coordinates for the x axis, from the steps and the epoch of each step.

    The trainer reports whole epochs completed; drawn as they are, every epoch's steps
    would pile up on one x. Whole numbers are spread between the steps where the count
    went up (linear within an epoch; the running epoch extrapolated at the last epoch's
    length, then fixed when it ends). Fractional epochs are used as given. Only the
    points since the last completed epoch are ever recomputed.
    """

    def __init__(self) -> None:
        self.x = GrowingBuffer()
        self._tail = 0  # points before this index are final
        self._anchor = (0.0, 0.0)  # (step, epoch) of the last epoch boundary seen
        self._length: float | None = None  # steps per epoch, once one epoch has ended

    def update(self, steps: np.ndarray, epochs: np.ndarray) -> None:
        """Recompute x for the tail after ``steps``/``epochs`` (full buffers) grew."""
        n = steps.size
        self.x.extend(np.zeros(n - len(self.x)))
        s, e = steps[self._tail :], epochs[self._tail :]
        if e.size == 0:
            return
        if not np.all(e == np.floor(e)):  # already fractional
            self.x.view[self._tail :] = e
            self._tail = n
            return
        a_step, a_epoch = self._anchor
        ends = np.flatnonzero(np.diff(np.concatenate([[a_epoch], e])) > 0)
        b_steps = np.concatenate([[a_step], s[ends]])
        b_epochs = np.concatenate([[a_epoch], e[ends]])
        if b_steps.size >= 2 and b_steps[-1] > b_steps[-2]:
            self._length = (b_steps[-1] - b_steps[-2]) / max(b_epochs[-1] - b_epochs[-2], 1.0)
        x = np.interp(s, b_steps, b_epochs) if b_steps.size >= 2 else np.full(s.size, a_epoch)
        after = s > b_steps[-1]
        if self._length:
            x[after] = b_epochs[-1] + np.minimum((s[after] - b_steps[-1]) / self._length, 0.999)
        else:
            x[after] = b_epochs[-1]
        self.x.view[self._tail :] = x
        if ends.size:
            self._anchor = (float(b_steps[-1]), float(b_epochs[-1]))
            self._tail += int(ends[-1]) + 1

    def at(self, steps: np.ndarray, epochs: np.ndarray, known_steps: np.ndarray) -> np.ndarray:
        """Epoch coordinates for other points (evaluations) by their steps."""
        if known_steps.size < 2:
            return epochs
        return np.interp(steps, known_steps, self.x.view)


def _resumed(weight: float, smoothed: np.ndarray) -> EmaSmoother:
    """An EmaSmoother that continues ``smoothed`` (the debiased EMA of the values so far)."""
    n = int(smoothed.size)
    return EmaSmoother.resume(weight, float(smoothed[-1]) if n else 0.0, n)


class TidyAxis(pg.AxisItem):
    """A value axis whose labels never pile up: at most one per :data:`MIN_TICK_PX` pixels,
    on 1/2/5 steps, each printed with just the decimals its step needs ("0.4012", not
    "0.40120000001"). Log mode is pyqtgraph's own."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        span = maxVal - minVal
        if self.logMode or not (math.isfinite(span) and span > 0 and size > 0):
            return super().tickSpacing(minVal, maxVal, size)
        major = nice_ceil(span / max(int(size // MIN_TICK_PX), 1))
        return [(major, 0.0), (major / 2, 0.0)]

    def tickValues(self, minVal: float, maxVal: float, size: float):
        """On a log axis, pyqtgraph labels 2..9 of every decade: keep only the ticks at
        least MIN_TICK_PX apart (powers of ten first)."""
        levels = super().tickValues(minVal, maxVal, size)
        if not self.logMode or not (size > 0 and maxVal > minVal):
            return levels
        px = size / (maxVal - minVal)
        kept: list[float] = []
        keep: list[list[float]] = [[] for _ in levels]
        # powers of ten (whole log values) first, then the rest level by level
        order = sorted(((abs(v - round(v)) > 1e-9, i, v) for i, (_, vs) in enumerate(levels) for v in vs),
                       key=lambda t: (t[0], t[1]))
        for _, i, v in order:
            if all(abs(v - k) * px >= MIN_TICK_PX for k in kept):
                kept.append(v)
                keep[i].append(v)
        return [(spacing, sorted(k)) for (spacing, _), k in zip(levels, keep, strict=True)]

    def tickStrings(self, values, scale, spacing):
        if self.logMode or not (math.isfinite(spacing) and spacing > 0):
            return super().tickStrings(values, scale, spacing)
        decimals = max(0, -math.floor(math.log10(spacing * scale) + 1e-9))
        return [f"{v * scale:.{decimals}f}" for v in values]
