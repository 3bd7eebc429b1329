"""Colours shared by the views: one light and one dark theme, class colours, colormaps.

Colour mapping (values -> RGBA bytes) lives here because it is display, not maths: the
views hand it numbers the core computed and get pixels back.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PySide6  # noqa: F401  (PySide6 must be imported before pyqtgraph picks a binding)

# isort: split
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSizePolicy, QWidget

#: TensorFlow Playground's pair for the two classes / signs: orange negative, blue positive
ORANGE = (245, 147, 34)
BLUE = (8, 119, 189)
NEGATIVE = ORANGE
POSITIVE = BLUE
_QUALITATIVE = [
    ORANGE, BLUE, (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]


@dataclass(frozen=True)
class Theme:
    """Everything a view needs to look right on a light or a dark background."""

    dark: bool
    background: tuple[int, int, int]
    foreground: tuple[int, int, int]  # text, axes
    muted: tuple[int, int, int]  # secondary text, faded curves
    neutral: tuple[int, int, int]  # the middle of diverging maps, "no signal"
    dead: tuple[int, int, int]  # dead units: marks
    dead_fill: tuple[int, int, int]  # dead units: the greyed cell
    saturated: tuple[int, int, int]  # saturated units: rings
    selection: tuple[int, int, int]
    train: tuple[int, int, int]  # loss plot: training curves
    test: tuple[int, int, int]  # loss plot: test curves
    point_outline: tuple[int, int, int]

    def q(self, name: str, alpha: int = 255) -> QColor:
        """A theme colour as a QColor."""
        r, g, b = getattr(self, name)
        return QColor(r, g, b, alpha)

    def css(self, name: str) -> str:
        """A theme colour as a CSS/HTML hex string."""
        r, g, b = getattr(self, name)
        return f"#{r:02x}{g:02x}{b:02x}"


LIGHT = Theme(
    dark=False,
    background=(255, 255, 255),
    foreground=(40, 40, 40),
    muted=(150, 150, 150),
    neutral=(246, 246, 246),
    dead=(214, 39, 40),
    dead_fill=(190, 190, 190),
    saturated=(230, 180, 0),
    selection=(20, 20, 20),
    train=(31, 119, 180),
    test=(214, 39, 40),
    point_outline=(255, 255, 255),
)
DARK = Theme(
    dark=True,
    background=(30, 31, 34),
    foreground=(220, 220, 220),
    muted=(120, 120, 125),
    neutral=(52, 54, 58),
    dead=(255, 85, 85),
    dead_fill=(85, 85, 88),
    saturated=(255, 210, 60),
    selection=(250, 250, 250),
    train=(90, 170, 240),
    test=(255, 110, 100),
    point_outline=(20, 20, 20),
)


def theme(dark: bool) -> Theme:
    return DARK if dark else LIGHT


def class_colors(n: int) -> np.ndarray:
    """(n, 3) uint8 colours, one per class; orange and blue first, like the Playground."""
    n = max(int(n), 1)
    out = np.array([_QUALITATIVE[i % len(_QUALITATIVE)] for i in range(n)], dtype=np.uint8)
    if n > len(_QUALITATIVE):  # past ten, evenly spaced hues so no two classes share one
        for i in range(len(_QUALITATIVE), n):
            c = QColor.fromHsvF((i * 0.618034) % 1.0, 0.75, 0.85)
            out[i] = (c.red(), c.green(), c.blue())
    return out


def _ramp(stops: list[tuple[int, int, int]], n: int = 256) -> np.ndarray:
    """A (n, 4) uint8 lookup table interpolating evenly spaced colour stops."""
    stops_a = np.asarray(stops, dtype=np.float64)
    pos = np.linspace(0.0, 1.0, len(stops_a))
    t = np.linspace(0.0, 1.0, n)
    lut = np.empty((n, 4), dtype=np.uint8)
    for c in range(3):
        lut[:, c] = np.round(np.interp(t, pos, stops_a[:, c]))
    lut[:, 3] = 255
    return lut


def diverging_lut(th: Theme) -> np.ndarray:
    """Orange (negative) through the neutral colour to blue (positive)."""
    return _ramp([NEGATIVE, th.neutral, POSITIVE])


def sequential_lut(th: Theme) -> np.ndarray:
    """Low to high density (histogram evolution): viridis reads well on both themes."""
    cmap = pg.colormap.get("viridis")
    lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=True)
    return np.ascontiguousarray(lut, dtype=np.uint8)


def intensity_lut(th: Theme, color: tuple[int, int, int]) -> np.ndarray:
    """The neutral colour to ``color``: counts in a confusion matrix."""
    return _ramp([th.neutral, color])


def max_abs(a: np.ndarray) -> float:
    """The largest finite |value| (1.0 when there is none): a colour scale that a stray
    inf or NaN from a diverging run cannot wreck."""
    a = np.asarray(a)
    if a.size == 0:
        return 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.abs(a[np.isfinite(a)]).max(initial=0.0)
    return float(m) if np.isfinite(m) and m > 0 else 1.0


def _lookup(lut: np.ndarray, t: np.ndarray, nan_to: float) -> np.ndarray:
    """RGBA bytes of ``lut`` at float32 positions ``t`` (clipped to 0..255 in place).

    The table is read as one uint32 per colour: a quarter of the indexing work of
    ``lut[idx]`` on (N, 4) bytes, which matters for maps redrawn every frame.
    """
    np.clip(t, 0, 255, out=t)
    nan = np.isnan(t)
    if nan.any():
        t[nan] = nan_to
    idx = t.astype(np.uint8)
    lut = np.ascontiguousarray(lut, dtype=np.uint8)
    return lut.view(np.uint32)[idx].view(np.uint8).reshape(*idx.shape, 4)


def map_diverging(values: np.ndarray, lut: np.ndarray, center: float, scale: float) -> np.ndarray:
    """RGBA bytes for ``values``: ``center`` maps to the middle, ``center +- scale`` to the ends.

    Overflowing values (a diverging run) land on the ends and NaN on the middle, quietly.
    """
    scale = float(scale) if np.isfinite(scale) and scale > 0 else 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.array(values, dtype=np.float32)
        t -= np.float32(center)
        t *= np.float32(127.5 / scale)
        t += np.float32(127.5)
        return _lookup(lut, t, 127.5)


#: colour-mapping ranges within this magnitude are scaled in float32 (the fast path)
_FLOAT32_SAFE = 1e30


def map_sequential(values: np.ndarray, lut: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """RGBA bytes for ``values`` between ``lo`` and ``hi`` (NaN maps to ``lo``).

    Ends beyond float32 (features near 1e308) are scaled in float64 by halves, so
    neither the span nor the values overflow."""
    lo, hi = float(lo), float(hi)
    lo = lo if np.isfinite(lo) else 0.0
    hi = hi if np.isfinite(hi) and hi > lo else lo + 1.0
    if max(abs(lo), abs(hi)) < _FLOAT32_SAFE:
        with np.errstate(over="ignore", invalid="ignore"):
            t = np.array(values, dtype=np.float32)
            t -= np.float32(lo)
            t *= np.float32(255.0 / (hi - lo))
            return _lookup(lut, t, 0.0)
    half = hi / 2 - lo / 2 if hi / 2 - lo / 2 > 0 else 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        t64 = (np.asarray(values, dtype=np.float64) / 2 - lo / 2) * (127.5 / half)
        t = np.clip(t64, -1.0, 256.0).astype(np.float32)
    return _lookup(lut, t, 0.0)


def mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


#: items that rarely change are painted from a pixmap: an axis replays its QPicture of
#: ticks and labels, and a legend its texts, on every paint of the plot they sit on
_CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache


def style_plot(plot: pg.PlotItem, th: Theme) -> None:
    """Axis, label and title colours of one plot for the theme; axes paint from a cache."""
    fg = th.q("foreground")
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setCacheMode(_CACHED)
        axis.enableAutoSIPrefix(False)  # "loss (x0.001)" confuses more than it helps
        # pyqtgraph 0.14 still computes a scale from the range at this moment (0..0.5
        # gives x1000) and, being disabled, never revisits it: counts of 1,500 would read
        # "1.5e+06". No prefix means a scale of one.
        axis.autoSIPrefixScale = 1.0
        axis.labelUnitPrefix = ""
        axis.setPen(pg.mkPen(th.q("muted")))
        axis.setTextPen(pg.mkPen(fg))
        label_text = axis.labelText
        if label_text:
            axis.setLabel(label_text, units=axis.labelUnits, color=th.css("foreground"))
    title = plot.titleLabel
    if title.text:
        title.setText(title.text, color=th.css("foreground"))


def _close_explicitly(d: str) -> str:
    """SVG path data with each ``Z`` replaced by a line back to its subpath's start."""
    out: list[str] = []
    start: str | None = None
    for tok in d.split():
        closes = tok[-1] in "Zz"
        tok = tok[:-1] if closes else tok
        if tok:
            if tok[0] in "Mm":
                start = tok[1:]
            out.append(tok)
        if closes and start is not None:
            out.append("L" + start)
    return " ".join(out)


@contextmanager
def _closed_paths_tolerated() -> Iterator[None]:
    """pyqtgraph 0.14's SVG exporter fails on the closed paths ("... Z") that recent Qt
    writes (pyqtgraph issues 3485 and 3495, fix pending in PR 3458). While exporting,
    rewrite each ``Z`` as an explicit line so its coordinate pass can parse every path."""
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = module.correctCoordinates

    def correct(node, defs, item, options):
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            if "Z" in d or "z" in d:
                path.setAttribute("d", _close_explicitly(d))
        return original(node, defs, item, options)

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def style_legend(legend: pg.LegendItem, th: Theme) -> None:
    """Legend frame and text colours; existing labels are re-rendered in the new colour."""
    legend.setLabelTextColor(th.q("foreground"))
    legend.setBrush(pg.mkBrush((*th.background, 210)))
    legend.setPen(pg.mkPen(th.q("muted", 120)))
    for _sample, label in legend.items:
        label.setText(label.text, color=th.css("foreground"))
    cache_legend(legend)


def cache_legend(legend: pg.LegendItem) -> None:
    """Paint a legend's frame and labels from pixmaps; call after adding entries. (Not
    the samples: a sample draws a crossed-out eye while its curve is hidden, and a cache
    would keep that.)"""
    legend.setCacheMode(_CACHED)
    for _sample, label in legend.items:
        label.setCacheMode(_CACHED)


def export_png_or_path(widget: QWidget, path: str) -> Path | None:
    """The checks every view's export shares: a .png is written here (the widget as shown,
    None returned); for a .svg the checked path comes back for the view to draw. ValueError
    for another extension, OSError for a missing folder or a failed write."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".png", ".svg"):
        raise ValueError(f"cannot export {p.name!r}: use a .png or .svg file name")
    if not p.parent.is_dir():
        raise OSError(f"cannot export to {path}: the folder does not exist")
    if ext == ".png":
        if not widget.grab().save(str(p), "PNG"):
            raise OSError(f"could not write the image {path}")
        return None
    return p


def export_painted(widget: QWidget, path: str, title: str) -> None:
    """Write a widget that paints itself (no plot scene) to ``path``: PNG as shown, or SVG
    of the same painting; errors as :func:`export_png_or_path`."""
    p = export_png_or_path(widget, path)
    if p is None:
        return
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    gen = QSvgGenerator()
    gen.setFileName(str(p))
    gen.setSize(widget.size())
    gen.setViewBox(widget.rect())
    gen.setTitle(title)
    painter = QPainter()
    if not painter.begin(gen):
        raise OSError(f"could not write the drawing {path}")
    try:
        widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    if not p.is_file():
        raise OSError(f"could not write the drawing {path}")


def export_view(widget: QWidget, scene_or_item, path: str) -> None:
    """Write a view to ``path``: PNG (the widget as shown) or SVG (its plots, as vectors).

    Raises ValueError for an unknown extension and OSError when the file cannot be
    written, both with a message fit for a dialog.
    """
    p = export_png_or_path(widget, path)
    if p is None:
        return
    from pyqtgraph.exporters import SVGExporter

    try:
        with _closed_paths_tolerated():
            SVGExporter(scene_or_item).export(str(p))
    except OSError as e:
        raise OSError(f"could not write the drawing {path}: {e.strerror or e}") from e


def legend_line(name: str, margins: tuple[int, int, int, int] = (6, 0, 6, 2)) -> QLabel:
    """A legend or caption as a line of text beside a plot, never over its data: it wraps
    on a narrow dock and never sets the dock's width."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setContentsMargins(*margins)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def legend_html(entries: list[tuple[str, tuple[int, int, int], bool]], fg: str) -> str:
    """A legend as one line of HTML for a label beside a plot, never over its data:
    ``(name, colour, dashed)`` per curve, a coloured line sample each (every curve listed)."""
    parts = []
    for name, rgb, dashed in entries:
        sample = "&#9476;&#9476;" if dashed else "&#9473;&#9473;"
        name = name.replace(" ", "&nbsp;")  # an entry never breaks across lines
        parts.append(f"<span style='color:#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}'><b>{sample}</b></span>"
                     f"&nbsp;{name}")
    return f"<span style='color:{fg}'>" + " &nbsp; ".join(parts) + "</span>"


def clip_title(plot: pg.PlotItem) -> None:
    """Clip a plot's title to its own cell: a long title is cut at the plot's edge instead
    of running into the next plot's title."""
    plot.titleLabel.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
