"""Plot ranges that change only when they must: axes that stay put are cheap to draw.

A pyqtgraph axis regenerates its ticks and labels (Python work, ~1-2 ms) whenever its
range changes, and a range set from inside a paint asks for a second paint. Live plots
whose auto-range follows the data exactly change range on every frame. Here the range
moves in steps instead:

- ``grow`` (time axes): the range reaches past the data by a margin, and grows by a
  whole margin once the data gets there; a few re-layouts per run, not one per frame.
- ``hold`` (value axes): the range stays while it holds the data and the data fills a
  fair part of it; otherwise it is set afresh around the data, with some headroom.

:class:`StickyViewBox` applies these to pyqtgraph's own auto-range, so the rest of
pyqtgraph's behaviour stays: a mouse zoom turns auto-range off, the "A" button and the
context menu turn it back on.
"""

from __future__ import annotations

import math

import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg

from nnviz.gui.views.bounded import MAX_COORD, finite_range, padded_range

#: a grown time axis reaches this factor past the data's span
GROWTH = 1.25
#: a held value range is renewed when the data fills less than this share of it
SHRINK = 0.5
#: room above and below the data when a held range is set afresh (share of the span)
HEADROOM = 0.08
#: room beyond the data on a side it went past (share of the span)
ESCAPE = 0.15
#: room left of the first point of a time axis (share of the span)
LEAD = 0.02

Range = tuple[float, float]


def _clamp(lo: float, hi: float) -> tuple[float, float]:
    """Data ends within +-MAX_COORD, so spans and margins below cannot overflow."""
    return min(max(lo, -MAX_COORD), MAX_COORD), min(max(hi, -MAX_COORD), MAX_COORD)


def _span(lo: float, hi: float) -> float:
    """The data's span; a flat series gets a span of its own size (or 1) to show it."""
    span = hi - lo
    if span > 0:
        return span
    return abs(lo) * 0.2 if lo != 0 else 1.0


def grow_range(current: Range | None, lo: float, hi: float, growth: float = GROWTH) -> Range:
    """A time axis for data in ``[lo, hi]``: ``current`` while it holds the data and the
    data fills at least 1/growth**2 of it; else a new range reaching ``growth`` times the
    data's span past ``lo``. Any finite data gives a finite range (see ``finite_range``)."""
    lo, hi = _clamp(lo, hi)
    if current is not None:
        c0, c1 = current
        if c0 <= lo and hi <= c1 and (hi - lo) * growth * growth >= (c1 - c0):
            return current
    span = _span(lo, hi)
    return finite_range(lo - LEAD * span, lo + growth * span)


def hold_range(current: Range | None, lo: float, hi: float, shrink: float = SHRINK,
               headroom: float = HEADROOM, escape: float = ESCAPE) -> Range:
    """A value axis for data in ``[lo, hi]``: ``current`` while it holds the data and the
    data fills at least ``shrink`` of it; else the data's range with ``headroom``, and
    ``escape`` on a side the data went past (it is likely to go on that way). Any finite
    data gives a finite range."""
    lo, hi = _clamp(lo, hi)
    span = _span(lo, hi)
    if current is not None:
        c0, c1 = current
        fills = (hi - lo) >= shrink * (c1 - c0)
        if c0 <= lo and hi <= c1 and fills:
            return current
        if fills:
            return finite_range(lo - (escape if lo < c0 else headroom) * span,
                                hi + (escape if hi > c1 else headroom) * span)
    return finite_range(lo - headroom * span, hi + headroom * span)


def zero_based_range(current: Range | None, hi: float, shrink: float = 0.3,
                     headroom: float = 0.15) -> Range:
    """``[0, top]`` for counts up to ``hi``: ``top`` changes only when the counts pass it
    or fall below ``shrink`` of it."""
    hi = min(hi, MAX_COORD) if math.isfinite(hi) and hi > 0 else 1.0
    if current is not None and hi <= current[1] and hi >= shrink * current[1]:
        return current
    return finite_range(0.0, hi * (1.0 + headroom))


class StickyViewBox(pg.ViewBox):
    """A ViewBox whose auto-range follows the data in steps (``grow`` or ``hold`` per axis).

    ``policy``: ``(x, y)``, each ``"grow"``, ``"hold"`` or ``None`` (pyqtgraph's exact fit).
    """

    def __init__(self, *args, policy: tuple[str | None, str | None] = ("grow", "hold"), **kwargs):
        for p in policy:
            if p not in ("grow", "hold", None):
                raise ValueError(f"unknown range policy {p!r}")
        super().__init__(*args, **kwargs)
        self.policy = policy
        self._kept: dict[int, Range] = {}  # the ranges this box last chose, by axis
        self.range_updates = 0  # ranges set by auto-range (tests: they must be rare)

    def updateAutoRange(self) -> None:
        if self._updatingRange:
            return
        self._updatingRange = True
        try:
            auto = self.state["autoRange"]
            if not any(auto):
                return
            bounds = self.childrenBounds(frac=(1.0, 1.0))
            current = self.viewRange()
            args: dict[str, Range] = {}
            for ax, name in ((0, "xRange"), (1, "yRange")):
                if auto[ax] is False or bounds[ax] is None:
                    continue
                lo, hi = (float(v) for v in bounds[ax])
                if not (math.isfinite(lo) and math.isfinite(hi)):
                    continue
                kept = self._kept.get(ax) if self._kept.get(ax) == tuple(current[ax]) else None
                rule = self.policy[ax]
                if rule == "grow":
                    target = grow_range(kept, lo, hi)
                elif rule == "hold":
                    target = hold_range(kept, lo, hi)
                else:
                    target = padded_range(lo, hi, self.suggestPadding(ax))
                if target != kept:
                    args[name] = target
            if args:
                self.range_updates += 1
                self.setRange(padding=0.0, disableAutoRange=False, **args)
                current = self.viewRange()
                for ax, name in ((0, "xRange"), (1, "yRange")):
                    if name in args:
                        self._kept[ax] = tuple(current[ax])
        finally:
            self._autoRangeNeedsUpdate = False
            self._updatingRange = False
