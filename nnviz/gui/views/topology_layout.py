"""Where the topology view puts things: columns, unit positions, collapsed layers, links.

Qt-free (NumPy only), so the geometry and the choice of what is drawn can be tested
without a window; :mod:`nnviz.gui.views.topology` paints what this module places. Scene
units: a neuron cell is :data:`CELL` wide, unit centres are :data:`PITCH` apart, unit 0
of a column is at the top (largest y).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnviz.core.spec import NetworkSpec

#: layers wider than this are drawn as a block (weight matrix image + unit strip)
COLLAPSE_UNITS = 32
#: at most this many links per gap between two columns: the strongest by |w|
MAX_LINKS_PER_GAP = 1500
#: link widths/opacities come in this many steps (per sign): one curve item each
LINK_BUCKETS = 8

CELL = 0.8  # side of a neuron cell, in scene units
PITCH = 1.0  # distance between neuron centres in a column
GAP = 3.2  # horizontal room for the links between two columns
STRIP = 0.5  # width of a collapsed layer's unit strip
BLOCK_W = 4.0  # width of a collapsed layer's weight image
PICTURE_MAX = 12.0  # the most an input picture is high (scene units)
BLOCK_SEP = 0.15  # between the weight image and the unit strip
BIAS_MARK = 0.24  # side of a neuron's bias square
HEADER_LIFT = 0.35  # the headers' line above the tallest column
FOOTER_DROP = 0.3  # a footer below its column
#: columns beyond this share the width: the gaps narrow (down to MIN_GAP) so the neurons
#: of a deep network stay big enough to see
WIDE_COLUMNS = 5
MIN_GAP = 1.8
#: the parts of a link table (see :func:`strongest_links`)
LINK_KEYS = ("x0", "y0", "x1", "y1", "w", "gap", "i", "j", "key")


@dataclass
class ColumnGeometry:
    """One column of the drawing: inputs, a hidden layer or the outputs, and its place."""

    index: int  # 0 = inputs, last = outputs
    kind: str  # "input", "hidden" or "output"
    title: str
    units: int
    activation: str
    collapsed: bool
    x0: float  # left edge
    x1: float  # right edge
    ys: np.ndarray  # unit centres, unit 0 at the top
    pitch: float
    header_html: str = ""
    #: shorter headers for narrow columns (deep networks): "H3 / 8 relu", then "H3"
    header_medium: str = ""
    header_short: str = ""
    #: the inputs' image (height, width, channels) when the input column is drawn as a
    #: picture (image data too wide for single neurons), else None
    picture: tuple[int, int, int] | None = None

    @property
    def layer(self) -> int | None:
        """The number ``neuronSelected`` reports: hidden layers from 0, outputs -1."""
        if self.kind == "hidden":
            return self.index - 1
        if self.kind == "output":
            return -1
        return None

    @property
    def top(self) -> float:
        return float(self.ys[0] + self.pitch / 2 if self.collapsed else self.ys[0] + CELL / 2)

    @property
    def bottom(self) -> float:
        return float(self.ys[-1] - self.pitch / 2 if self.collapsed else self.ys[-1] - CELL / 2)

    @property
    def strip_x0(self) -> float:
        return self.x1 - STRIP

    @property
    def centre_x(self) -> float:
        return (self.x0 + self.x1) / 2

    def unit_x(self) -> float:
        """Where a unit's centre is across: the cell's middle, or the strip's."""
        return (self.strip_x0 + self.x1) / 2 if self.collapsed else self.centre_x

    def unit_at(self, x: float, y: float) -> int | None:
        """The unit drawn at (x, y), if any (the strip only, for a collapsed layer; the
        first channel of the pixel under it, for an input picture)."""
        if self.picture is not None:
            if not (self.x0 <= x <= self.x1 and self.bottom <= y <= self.top):
                return None
            h, w, c = self.picture
            r = int(min(max((self.top - y) / (self.top - self.bottom) * h, 0), h - 1))
            q = int(min(max((x - self.x0) / (self.x1 - self.x0) * w, 0), w - 1))
            return (r * w + q) * c
        if self.collapsed:
            if not (self.strip_x0 <= x <= self.x1 and self.bottom <= y <= self.top):
                return None
            return int(min(max((self.top - y) // self.pitch, 0), self.units - 1))
        if not self.x0 <= x <= self.x1:
            return None
        i = round((self.ys[0] - y) / PITCH)
        if 0 <= i < self.units and abs(self.ys[i] - y) <= CELL / 2:
            return i
        return None

    def highlight_rect(self, unit: int) -> tuple[float, float, float, float]:
        """(x, y, width, height) of the frame around a selected unit."""
        y = float(self.ys[unit])
        if self.collapsed:
            h = max(self.pitch, 0.2)
            return self.strip_x0 - 0.08, y - h / 2, STRIP + 0.16, h
        return self.x0 - 0.08, y - CELL / 2 - 0.08, CELL + 0.16, CELL + 0.16

    def block_cell_at(self, x: float, y: float, fan_in: int) -> tuple[int, int] | None:
        """(source unit, unit) of the weight image pixel at (x, y), for a collapsed layer."""
        if self.kind == "input" or not self.collapsed:
            return None
        if not (self.x0 <= x <= self.x0 + BLOCK_W and self.bottom <= y <= self.top):
            return None
        j = int(min(max((self.top - y) // self.pitch, 0), self.units - 1))
        i = int(min(max((x - self.x0) / BLOCK_W * fan_in, 0), fan_in - 1))
        return i, j


def layout_columns(spec: NetworkSpec, image: tuple[int, int, int] | None = None) -> list[ColumnGeometry]:
    """The columns of ``spec`` left to right, with their headers' text. With ``image``
    (the inputs' (height, width, channels)) inputs too many for single neurons are one
    picture, as tall as the collapsed layers and as wide as the image's proportions."""
    widths = spec.widths
    n_cols = len(widths)
    shapes = spec.layer_shapes()
    residual = spec.residual_layers()
    individual = [w for w in widths if w <= COLLAPSE_UNITS]
    block_h = float(min(max(max(individual, default=10), 10), 24))
    # the view keeps squares square, so a tall network is scaled down to fit: widen the
    # gaps with the height, or the column headings (fixed in pixels) run into each other
    tallest = max(block_h if n > COLLAPSE_UNITS else n * PITCH for n in widths)
    gap = max(GAP, 0.35 * (tallest + 4.8))
    if n_cols > WIDE_COLUMNS:
        gap = max(MIN_GAP, gap * WIDE_COLUMNS / n_cols)
    cols: list[ColumnGeometry] = []
    x = 0.0
    for c, n in enumerate(widths):
        kind = "input" if c == 0 else ("output" if c == n_cols - 1 else "hidden")
        collapsed = n > COLLAPSE_UNITS
        if kind == "input":
            title, act = "Inputs", ""
        elif kind == "hidden":
            title, act = f"Hidden {c}", spec.hidden[c - 1].activation
        else:
            title, act = "Output", spec.loss
        picture = image if kind == "input" and collapsed and image is not None else None
        if picture is not None and picture[0] * picture[1] * picture[2] != n:
            picture = None
        if picture is not None:
            side = min(block_h, PICTURE_MAX)
            width = side * picture[1] / picture[0]
            pitch = side / n
            ys = side / 2 - (np.arange(n) + 0.5) * pitch
        elif collapsed:
            width = STRIP if kind == "input" else BLOCK_W + BLOCK_SEP + STRIP
            pitch = block_h / n
            ys = block_h / 2 - (np.arange(n) + 0.5) * pitch
        else:
            width = CELL
            pitch = PITCH
            ys = (n - 1) / 2 - np.arange(n) * PITCH
        short = {"input": "In", "output": "Out"}.get(kind, f"H{c}")
        if picture is not None:
            h, w, ch = picture
            header = f"<b>{title}</b><br>{h}×{w}{'' if ch == 1 else f'×{ch}'} image<br>{n:,} pixels"
            medium = f"<b>{title}</b><br>{h}×{w}"
        elif kind == "input":
            header = f"<b>{title}</b><br>{n} feature{'s' if n != 1 else ''}"
            medium = f"<b>{title}</b><br>{n}"
        else:
            (fi, fo), (nb,) = shapes[c - 1]
            skip = " + skip" if kind == "hidden" and residual[c - 1] else ""
            header = f"<b>{title}</b><br>{n} {act}{skip}<br>{fi * fo + nb:,} params"
            medium = f"<b>{short}</b><br>{n} {act}{'+' if skip else ''}"
        cols.append(ColumnGeometry(c, kind, title, n, act, collapsed, x, x + width,
                                   ys.astype(np.float64), pitch, header, medium,
                                   f"<b>{short}</b><br>{n}", picture))
        x += width + gap
    return cols


#: pixels between column centres each header form needs (full, medium, else short)
HEADER_FULL_PX = 130
HEADER_MEDIUM_PX = 62


def header_for(col: ColumnGeometry, spacing_px: float) -> str:
    """The header that fits ``spacing_px`` pixels between column centres: the full one,
    "H3 / 8 relu", or "H3 / 8" (the tooltip has the rest)."""
    if spacing_px >= HEADER_FULL_PX:
        return col.header_html
    if spacing_px >= HEADER_MEDIUM_PX:
        return col.header_medium or col.header_html
    return col.header_short or col.header_html


def header_y(cols: list[ColumnGeometry]) -> float:
    """One line for all headers, like a table."""
    return max(c.top for c in cols) + HEADER_LIFT


def footer_pos(col: ColumnGeometry) -> tuple[float, float]:
    return col.centre_x, col.bottom - FOOTER_DROP


def view_extent(cols: list[ColumnGeometry], names_left: bool,
                names_right: bool) -> tuple[float, float, float, float]:
    """(left, bottom, width, height) that shows every column, its headers and names."""
    left = cols[0].x0 - (2.6 if names_left else 1.0)
    right = cols[-1].x1 + (2.2 if names_right else 1.0)
    top = max(c.top for c in cols) + 3.2
    bottom = min(c.bottom for c in cols) - 1.6
    return left, bottom, right - left, top - bottom


def fans(cols: list[ColumnGeometry]) -> list[list[tuple[float, float]]]:
    """A band (four corners) into each collapsed layer: its links are the weight image."""
    return [[(src.x1, src.top), (dst.x0, dst.top), (dst.x0, dst.bottom), (src.x1, src.bottom)]
            for src, dst in itertools.pairwise(cols) if dst.collapsed]


def column_for_layer(cols: list[ColumnGeometry], layer: int) -> ColumnGeometry | None:
    for col in cols:
        if col.layer == layer and col.kind != "input":
            return col
    return None


def unit_weights(W: np.ndarray, units: int) -> np.ndarray:
    """(fan_in, units): for maxout (several pieces per unit) the strongest piece."""
    if W.shape[1] == units:
        return W
    pieces = W.shape[1] // units
    Wp = W.reshape(W.shape[0], units, pieces)
    pick = np.abs(Wp).argmax(axis=2)
    return np.take_along_axis(Wp, pick[:, :, None], axis=2)[:, :, 0]


def unit_biases(b: np.ndarray, units: int) -> np.ndarray:
    if b.shape[0] == units:
        return b
    return b.reshape(units, -1).max(axis=1)


def column_means(X: np.ndarray) -> np.ndarray:
    """Each input's mean (features near the float64 limit may give inf, quietly)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(X).mean(axis=0, dtype=np.float64)


def finite_extremes(v: np.ndarray) -> tuple[float, float]:
    """The smallest and largest finite values (0, 1 when there are none)."""
    f = v[np.isfinite(v)]
    return (float(f.min()), float(f.max())) if f.size else (0.0, 1.0)


def strength_levels(v: np.ndarray, scale: float) -> np.ndarray:
    """Each value's style: sign * LINK_BUCKETS + strength bucket of |v| / scale."""
    mag = np.nan_to_num(np.abs(v) / scale, nan=0.0, posinf=1.0)
    level = np.minimum((mag * LINK_BUCKETS).astype(np.int64), LINK_BUCKETS - 1)
    return (v > 0).astype(np.int64) * LINK_BUCKETS + level


def strongest_links(cols: list[ColumnGeometry], params: list[np.ndarray],
                    scale: Callable[[np.ndarray], float]) -> dict[str, np.ndarray]:
    """The links drawn one by one: the strongest :data:`MAX_LINKS_PER_GAP` of every gap
    whose target is drawn neuron by neuron (a collapsed target shows its weights as an
    image). Arrays by :data:`LINK_KEYS`: ends, weight, gap, source and target unit, style;
    empty when there are none. ``scale(w)`` sets the full-strength |w| of a gap."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in LINK_KEYS}
    for src, dst in itertools.pairwise(cols):
        if dst.collapsed:
            continue
        W = unit_weights(params[2 * src.index], dst.units)
        flat = W.ravel()
        if flat.size > MAX_LINKS_PER_GAP:
            sel = np.argpartition(np.abs(flat), flat.size - MAX_LINKS_PER_GAP)[-MAX_LINKS_PER_GAP:]
        else:
            sel = np.arange(flat.size)
        w = flat[sel]
        i, j = np.divmod(sel, dst.units)
        parts["key"].append(strength_levels(w, scale(w)))
        parts["x0"].append(np.full(sel.size, src.x1))
        parts["y0"].append(src.ys[i])
        parts["x1"].append(np.full(sel.size, dst.x0))
        parts["y1"].append(dst.ys[j])
        parts["w"].append(w.astype(np.float64))
        parts["gap"].append(np.full(sel.size, src.index))
        parts["i"].append(i)
        parts["j"].append(j)
    if not parts["key"]:
        return {}
    return {k: np.concatenate(v) for k, v in parts.items()}


def link_near(links: dict[str, np.ndarray], x: float, y: float, tol: float) -> int | None:
    """The index of the link within ``tol`` of (x, y); where links cross, the strongest
    (the one drawn on top)."""
    if not links or links["w"].size == 0:
        return None
    x0, y0 = links["x0"], links["y0"]
    dx, dy = links["x1"] - x0, links["y1"] - y0
    t = np.clip(((x - x0) * dx + (y - y0) * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0, 1)
    dist = np.hypot(x0 + t * dx - x, y0 + t * dy - y)
    near = np.flatnonzero(dist <= tol)
    if near.size == 0:
        return None
    return int(near[np.argmax(np.abs(links["w"][near]))])
