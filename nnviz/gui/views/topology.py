"""The network as columns of neurons joined by links, redrawn live from snapshots.

Small layers draw every neuron: for 2-D data each one shows its own output over the input
plane (TensorFlow Playground style), otherwise its mean activation as a colour. Layers
wider than :data:`COLLAPSE_UNITS` collapse to a block: their incoming weight matrix as an
image beside a thin strip of their units. Links are drawn in a handful of batches (one
``PlotCurveItem(connect='pairs')`` per colour bucket), capped at the strongest
:data:`MAX_LINKS_PER_GAP` per gap, so a 784-256-128-10 network redraws in milliseconds.
Every graphics item is made once per run and updated in place for each snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QCursor, QPen, QPolygonF, QTextOption
from PySide6.QtWidgets import (
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QLabel,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.runinfo import RunInfo
from nnviz.core.preprocess import FEATURES_2D, expand_features
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.batch import Batch
from nnviz.gui.views.bounded import MAX_IMAGE_SIDE, shrink_mean, shrink_share, shrink_signed

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
BLOCK_SEP = 0.15  # between the weight image and the unit strip
BIAS_MARK = 0.24  # side of a neuron's bias square
PLAIN_PIXELS = 4  # pixels per cell when a neuron is a plain colour (no 2-D map)
LABEL_WIDTH = 140  # pixels: width of the centred text above and below each column
_BOUNDED = {"sigmoid": (0.5, 0.5), "tanh": (0.0, 1.0)}  # (centre, half-range) of outputs


@dataclass
class _Column:
    """One column of the drawing: inputs, a hidden layer or the outputs."""

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
    header: pg.TextItem
    footer: pg.TextItem
    cells: pg.ImageItem | None = None  # individual neurons, one mosaic image
    block: pg.ImageItem | None = None  # collapsed: incoming weights (units x fan-in)
    strip: pg.ImageItem | None = None  # collapsed: one row per unit
    mosaic: np.ndarray | None = None  # (units, pitch px, cell px, 4) backing the cells image
    footer_html: str = ""
    header_html: str = ""
    names: list[pg.TextItem] = field(default_factory=list)

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

    def unit_at(self, x: float, y: float) -> int | None:
        """The unit drawn at (x, y), if any (the strip only, for a collapsed layer)."""
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


def _unit_weights(W: np.ndarray, units: int) -> np.ndarray:
    """(fan_in, units): for maxout (several pieces per unit) the strongest piece."""
    if W.shape[1] == units:
        return W
    pieces = W.shape[1] // units
    Wp = W.reshape(W.shape[0], units, pieces)
    pick = np.abs(Wp).argmax(axis=2)
    return np.take_along_axis(Wp, pick[:, :, None], axis=2)[:, :, 0]


def _unit_biases(b: np.ndarray, units: int) -> np.ndarray:
    if b.shape[0] == units:
        return b
    return b.reshape(units, -1).max(axis=1)


def _column_means(X: np.ndarray) -> np.ndarray:
    """Each input's mean (features near the float64 limit may give inf, quietly)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(X).mean(axis=0, dtype=np.float64)


def _finite_extremes(v: np.ndarray) -> tuple[float, float]:
    """The smallest and largest finite values (0, 1 when there are none)."""
    f = v[np.isfinite(v)]
    return (float(f.min()), float(f.max())) if f.size else (0.0, 1.0)


def _css(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


class TopologyView(QWidget):
    """Inputs, hidden layers and outputs as columns; click a neuron to select it."""

    neuronSelected = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("topologyView")
        self.frame_count = 0
        self._theme = palette.theme(False)
        self._info: RunInfo | None = None
        self._snap: Snapshot | None = None
        self._columns: list[_Column] = []
        self._run_items: list = []  # made per run, removed at the next set_run
        self._input_maps: np.ndarray | None = None  # (inputs, H, W) for 2-D data
        self._input_maps_key: tuple | None = None
        self._drawn: dict[str, np.ndarray] = {}
        self._selected: tuple[int, int] | None = None
        self._last_tip = ""

        self._gw = pg.GraphicsLayoutWidget()
        self._gw.ci.setContentsMargins(0, 0, 0, 0)
        self._vb: pg.ViewBox = self._gw.addViewBox(lockAspect=True, enableMenu=True)
        self._vb.setMouseEnabled(True, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._gw, 1)
        self._legend = QLabel()
        self._legend.setObjectName("topologyLegend")
        self._legend.setWordWrap(True)
        self._legend.setContentsMargins(6, 2, 6, 4)
        layout.addWidget(self._legend)

        # links: one item, one drawLines per (sign, width) style; thicker ones on top
        self._links = Batch("lines", 2 * LINK_BUCKETS)
        self._links.order = [sign * LINK_BUCKETS + b for b in range(LINK_BUCKETS) for sign in range(2)]
        self._links.setZValue(1)
        self._vb.addItem(self._links)
        # bias squares: one item, one drawRects per (sign, strength) shade
        self._bias_marks = Batch("rects", 2 * LINK_BUCKETS)
        self._marks_key: dict[str, tuple[np.ndarray, ...]] = {}  # what the marks show: unchanged, not re-set
        self._dead_marks = pg.ScatterPlotItem(pxMode=False, symbol="x")
        self._sat_marks = pg.ScatterPlotItem(pxMode=False, symbol="o")
        for z, item in ((22, self._bias_marks), (23, self._sat_marks), (24, self._dead_marks)):
            item.setZValue(z)
            self._vb.addItem(item)
        self._highlight = QGraphicsRectItem()
        self._highlight.setZValue(30)
        self._highlight.setVisible(False)
        self._vb.addItem(self._highlight)
        self._gw.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._gw.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._apply_theme_styles()

    # --- public API ----------------------------------------------------------------
    def set_run(self, info: RunInfo) -> None:
        """Lay out the columns for a new run's network (clears the previous drawing)."""
        self._info = info
        self._snap = None
        self._selected = None
        self._highlight.setVisible(False)
        self._input_maps = None
        self._input_maps_key = None
        for item in self._run_items:
            self._vb.removeItem(item)
        self._run_items = []
        self._build_columns(info)
        empty = np.zeros((0, 4)), np.zeros(0, np.int64)
        self._links.set_data(*empty)
        self._bias_marks.set_data(*empty)
        for m in (self._dead_marks, self._sat_marks):
            m.clear()
        self._marks_key = {}
        self._drawn = {}
        self._static_colours()
        self._fit()

    def show_snapshot(self, snap: Snapshot) -> None:
        """Redraw weights, neuron maps/colours and unit states from ``snap``."""
        if self._info is None:
            return
        self._snap = snap
        self._draw()

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme_styles()
        self._marks_key = {}  # same places, new colours
        if self._info is not None:
            self._static_colours()
            for col in self._columns:
                self._set_header(col)
                self._set_footer(col, col.footer_html, force=True)
                for t in col.names:
                    t.setColor(self._theme.q("foreground"))
            for item in self._run_items:
                if isinstance(item, QGraphicsPolygonItem):
                    item.setBrush(QBrush(self._theme.q("muted", 45)))
        if self._snap is not None:
            self._draw()

    def export_image(self, path: str) -> None:
        """PNG (as shown) or SVG (vector) by the file name's extension."""
        palette.export_view(self, self._gw.scene(), path)

    def select_neuron(self, layer: int, unit: int) -> None:
        """Highlight a neuron and emit ``neuronSelected`` (what a click does)."""
        col = self._column_for_layer(layer)
        if col is None or not 0 <= unit < col.units:
            raise ValueError(f"there is no neuron {unit} in layer {layer}")
        self._selected = (layer, unit)
        self._place_highlight()
        self.neuronSelected.emit(layer, unit)

    def neuron_position(self, layer: int, unit: int) -> tuple[float, float]:
        """Scene-view coordinates of a neuron's centre (for tests and tooltips)."""
        col = self._column_for_layer(layer)
        if col is None or not 0 <= unit < col.units:
            raise ValueError(f"there is no neuron {unit} in layer {layer}")
        x = (col.strip_x0 + col.x1) / 2 if col.collapsed else (col.x0 + col.x1) / 2
        return x, float(col.ys[unit])

    def neuron_at(self, x: float, y: float) -> tuple[_Column, int] | None:
        for col in self._columns:
            unit = col.unit_at(x, y)
            if unit is not None:
                return col, unit
        return None

    def describe_at(self, x: float, y: float) -> str:
        """The tooltip text for a point of the drawing ('' where nothing is)."""
        if self._info is None:
            return ""
        hit = self.neuron_at(x, y)
        if hit is not None:
            return self._describe_neuron(*hit)
        text = self._describe_block(x, y)
        if text:
            return text
        return self._describe_link(x, y)

    # --- layout --------------------------------------------------------------------
    def _build_columns(self, info: RunInfo) -> None:
        spec = info.spec
        widths = spec.widths
        n_cols = len(widths)
        shapes = spec.layer_shapes()
        residual = spec.residual_layers()
        individual = [w for w in widths if w <= COLLAPSE_UNITS]
        block_h = float(min(max(max(individual, default=10), 10), 24))
        cols: list[_Column] = []
        x = 0.0
        # the view keeps squares square, so a tall network is scaled down to fit: widen the
        # gaps with the height, or the column headings (fixed in pixels) run into each other
        tallest = max(block_h if n > COLLAPSE_UNITS else n * PITCH for n in widths)
        gap = max(GAP, 0.35 * (tallest + 4.8))
        for c, n in enumerate(widths):
            kind = "input" if c == 0 else ("output" if c == n_cols - 1 else "hidden")
            collapsed = n > COLLAPSE_UNITS
            if kind == "input":
                title, act = "Inputs", ""
            elif kind == "hidden":
                title, act = f"Hidden {c}", spec.hidden[c - 1].activation
            else:
                title, act = "Output", spec.loss
            if collapsed:
                width = STRIP if kind == "input" else BLOCK_W + BLOCK_SEP + STRIP
                pitch = block_h / n
                ys = block_h / 2 - (np.arange(n) + 0.5) * pitch
            else:
                width = CELL
                pitch = PITCH
                ys = (n - 1) / 2 - np.arange(n) * PITCH
            header = pg.TextItem(anchor=(0.5, 1.0))
            footer = pg.TextItem(anchor=(0.5, 0.0))
            for item in (header, footer):  # centred lines need a fixed text width
                item.textItem.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
                item.setTextWidth(LABEL_WIDTH)
            col = _Column(c, kind, title, n, act, collapsed, x, x + width, ys.astype(np.float64),
                          pitch, header, footer)
            x += width + gap
            if kind == "input":
                parts = f"{n} feature{'s' if n != 1 else ''}"
                col.header_html = f"<b>{title}</b><br>{parts}"
            else:
                (fi, fo), (nb,) = shapes[c - 1]
                params = fi * fo + nb
                skip = " + skip" if kind == "hidden" and residual[c - 1] else ""
                col.header_html = f"<b>{title}</b><br>{n} {act}{skip}<br>{params:,} params"
            for item in (header, footer):
                item.setZValue(40)
                self._add(item)
            footer.setPos((col.x0 + col.x1) / 2, col.bottom - 0.3)
            self._make_images(col)
            cols.append(col)
        self._columns = cols
        header_y = max(c.top for c in cols) + 0.35  # one line for all headers, like a table
        for c in cols:
            c.header.setPos((c.x0 + c.x1) / 2, header_y)
        for c in cols:
            self._set_header(c)
            c.footer_html = ""
            c.footer.setHtml("")
        self._make_fans()
        self._make_names(info)

    def _make_images(self, col: _Column) -> None:
        if not col.collapsed:
            col.cells = pg.ImageItem(axisOrder="row-major")
            col.cells.setZValue(10)
            self._add(col.cells)
            return
        col.strip = pg.ImageItem(axisOrder="row-major")
        col.strip.setZValue(10)
        self._add(col.strip)
        col.strip.setImage(np.zeros((min(col.units, MAX_IMAGE_SIDE), 1, 4), np.uint8), autoLevels=False)
        col.strip.setRect(QRectF(col.strip_x0, col.bottom, STRIP, col.top - col.bottom))
        if col.kind != "input":
            col.block = pg.ImageItem(axisOrder="row-major")
            col.block.setZValue(10)
            self._add(col.block)

    def _make_fans(self) -> None:
        """A faint band into each collapsed layer: its links are the weight image."""
        for src, dst in zip(self._columns, self._columns[1:], strict=False):
            if not dst.collapsed:
                continue
            poly = QPolygonF([QPointF(src.x1, src.top), QPointF(dst.x0, dst.top),
                              QPointF(dst.x0, dst.bottom), QPointF(src.x1, src.bottom)])
            item = QGraphicsPolygonItem(poly)
            item.setPen(QPen(Qt.PenStyle.NoPen))
            item.setBrush(QBrush(self._theme.q("muted", 45)))
            item.setZValue(0)
            self._add(item)

    def _make_names(self, info: RunInfo) -> None:
        first, last = self._columns[0], self._columns[-1]
        if not first.collapsed:
            names = list(info.input_names)[: first.units]
            names += [f"x{i + 1}" for i in range(len(names), first.units)]
            for i, name in enumerate(names):
                t = pg.TextItem(name, anchor=(1.0, 0.5), color=self._theme.q("foreground"))
                t.setPos(first.x0 - 0.2, first.ys[i])
                self._add(t)
                first.names.append(t)
        if not last.collapsed:
            if info.task == "classification" and info.spec.loss == "logistic":
                cls = info.class_names[1] if len(info.class_names) > 1 else "1"
                names = [f"P({cls})"]
            elif info.task == "classification":
                names = list(info.class_names)[: last.units]
            else:
                names = ["y"] if last.units == 1 else [f"y{i + 1}" for i in range(last.units)]
            names += [str(i) for i in range(len(names), last.units)]
            for i, name in enumerate(names):
                t = pg.TextItem(name, anchor=(0.0, 0.5), color=self._theme.q("foreground"))
                t.setPos(last.x1 + 0.2, last.ys[i])
                self._add(t)
                last.names.append(t)

    def _add(self, item) -> None:
        self._vb.addItem(item)
        self._run_items.append(item)

    def _fit(self) -> None:
        if not self._columns:
            return
        left = self._columns[0].x0 - (2.6 if self._columns[0].names else 1.0)
        right = self._columns[-1].x1 + (2.2 if self._columns[-1].names else 1.0)
        top = max(c.top for c in self._columns) + 3.2
        bottom = min(c.bottom for c in self._columns) - 1.6
        rect = QRectF(left, bottom, right - left, top - bottom)
        self._vb.setRange(rect, padding=0.02)
        self._links.set_bounds(rect)
        self._bias_marks.set_bounds(rect)

    def _column_for_layer(self, layer: int) -> _Column | None:
        for col in self._columns:
            if col.layer == layer and col.kind != "input":
                return col
        return None

    # --- drawing -------------------------------------------------------------------
    def _static_colours(self) -> None:
        """Parts that do not change during a run: the collapsed input strip, input cells."""
        info = self._info
        col = self._columns[0]
        th = self._theme
        if col.collapsed:
            X = info.train_X
            if X is not None and X.ndim == 2 and X.shape[1] == col.units and len(X):
                means = shrink_mean(_column_means(X))
                lut = palette.intensity_lut(th, th.muted)
                lo, hi = _finite_extremes(means)
                rgba = palette.map_sequential(means, lut, lo, hi)
            else:
                rgba = np.tile(np.array([*th.neutral, 255], np.uint8), (min(col.units, MAX_IMAGE_SIDE), 1))
            col.strip.setImage(np.ascontiguousarray(rgba[::-1, None, :]), autoLevels=False)
        elif info.extent is None:
            colours = np.tile(np.array([*palette.mix(th.neutral, th.muted, 0.35), 255], np.uint8),
                              (col.units, 1))
            self._set_cells(col, colours)

    def _draw(self) -> None:
        snap, info = self._snap, self._info
        grid = snap.grid if info.extent is not None else None
        self._draw_links(snap)
        bias_pos, bias_level, dead_pos, sat_pos = [], [], [], []
        for col in self._columns:
            if col.kind == "input":
                if grid is not None and not col.collapsed:
                    self._draw_input_maps(col, grid)
                continue
            lay = snap.layers[col.index - 1]
            W = _unit_weights(snap.params[2 * (col.index - 1)], col.units)
            b = _unit_biases(snap.params[2 * (col.index - 1) + 1], col.units)
            dead = lay.dead_units if lay.dead_units is not None else np.zeros(col.units, bool)
            sat = lay.saturated_units if lay.saturated_units is not None else np.zeros(col.units, bool)
            if col.collapsed:
                self._draw_block(col, W, lay.mean_activation, dead, sat)
            else:
                if grid is not None:
                    rgba = self._map_colours(col, grid, snap)
                else:
                    rgba = self._plain_colours(col, lay.mean_activation)
                if dead.any():
                    fill = np.array(self._theme.dead_fill, np.float32)
                    rgba[dead, ..., :3] = (rgba[dead, ..., :3] * 0.25 + fill * 0.75).astype(np.uint8)
                self._set_cells(col, rgba)
                xc = (col.x0 + col.x1) / 2
                bias_pos.append(np.column_stack([np.full(col.units, col.x0), col.ys - CELL / 2]))
                bias_level.append(self._bias_levels(b))
                if dead.any():
                    dead_pos.append(np.column_stack([np.full(int(dead.sum()), xc), col.ys[dead]]))
                if sat.any():
                    sat_pos.append(np.column_stack([np.full(int(sat.sum()), xc), col.ys[sat]]))
            self._update_footer(col, lay)
        self._set_marks(bias_pos, bias_level, dead_pos, sat_pos)
        self.frame_count += 1

    def _set_marks(self, bias_pos, bias_level, dead_pos, sat_pos) -> None:
        """Bias squares, dead crosses and saturation rings; each set only when it changed."""
        th = self._theme
        none = np.zeros((0, 2))
        pos = np.concatenate(bias_pos) if bias_pos else none
        level = np.concatenate(bias_level) if bias_level else np.zeros(0, np.int64)
        if self._changed("bias", pos, level):
            rects = np.column_stack([pos - BIAS_MARK / 2, np.full((len(pos), 2), BIAS_MARK)])
            self._bias_marks.set_data(rects, level)
        dead = np.concatenate(dead_pos) if dead_pos else none
        if self._changed("dead", dead):
            if not len(dead):
                self._dead_marks.clear()
            else:
                self._dead_marks.setData(pos=dead, size=CELL * 0.9, brush=pg.mkBrush(th.q("dead")),
                                         pen=pg.mkPen(None))
        sat = np.concatenate(sat_pos) if sat_pos else none
        if self._changed("sat", sat):
            if not len(sat):
                self._sat_marks.clear()
            else:
                self._sat_marks.setData(pos=sat, size=CELL * 1.25, brush=pg.mkBrush(None),
                                        pen=pg.mkPen(th.q("saturated"), width=3))

    def _changed(self, key: str, *arrays: np.ndarray) -> bool:
        """Whether ``arrays`` differ from the last ones under ``key``; remembers them."""
        old = self._marks_key.get(key)
        if old is not None and all(a.shape == b.shape and np.array_equal(a, b)
                                   for a, b in zip(arrays, old, strict=True)):
            return False
        self._marks_key[key] = arrays
        return True

    def _bias_levels(self, b: np.ndarray) -> np.ndarray:
        """Each bias's shade: sign * LINK_BUCKETS + strength bucket."""
        mag = np.nan_to_num(np.abs(b) / palette.max_abs(b), nan=0.0, posinf=1.0)
        level = np.minimum((mag * LINK_BUCKETS).astype(np.int64), LINK_BUCKETS - 1)
        return (b > 0).astype(np.int64) * LINK_BUCKETS + level

    def _plain_colours(self, col: _Column, values: np.ndarray) -> np.ndarray:
        centre, scale = self._scale(col, values)
        return palette.map_diverging(values, self._div_lut, centre, scale)

    def _scale(self, col: _Column, values: np.ndarray) -> tuple[float, float]:
        residual = col.kind == "hidden" and self._info.spec.residual_layers()[col.index - 1]
        if col.activation in _BOUNDED and not residual:
            return _BOUNDED[col.activation]
        return 0.0, palette.max_abs(values)

    def _map_colours(self, col: _Column, grid, snap: Snapshot) -> np.ndarray:
        """(units, H, W, 4) bytes: each neuron's output over the input plane."""
        if col.kind == "hidden":
            vals = np.moveaxis(grid.neurons[col.index - 1], 2, 0)
            centre, scale = self._scale(col, vals)
            return palette.map_diverging(vals, self._div_lut, centre, scale)
        out = grid.output
        info = self._info
        if info.task != "classification":
            vals = np.moveaxis(out, 2, 0)
            return palette.map_diverging(vals, self._div_lut, 0.0, palette.max_abs(vals))
        if info.spec.loss == "logistic":
            return palette.map_diverging(out[None, :, :, 1], self._div_lut, 0.5, 0.5)
        rgba = np.empty((col.units, *out.shape[:2], 4), np.uint8)
        colours = palette.class_colors(col.units)
        for k in range(col.units):
            lut = palette.intensity_lut(self._theme, tuple(int(v) for v in colours[k]))
            rgba[k] = palette.map_sequential(out[:, :, k], lut, 0.0, 1.0)
        return rgba

    def _draw_input_maps(self, col: _Column, grid) -> None:
        key = (grid.xs.tobytes(), grid.ys.tobytes(), self._theme.dark)  # a new grid each snapshot
        if self._input_maps_key == key:
            return
        names = list(self._info.input_names)
        if len(names) != col.units or any(n not in FEATURES_2D for n in names):
            names = ["x1", "x2"] if col.units == 2 else None
        if names is None:
            rgba = np.tile(np.array([*self._theme.neutral, 255], np.uint8),
                           (col.units, len(grid.ys), len(grid.xs), 1))
        else:
            gx, gy = np.meshgrid(grid.xs, grid.ys)
            feats = expand_features(np.column_stack([gx.ravel(), gy.ravel()]), tuple(names))
            vals = np.moveaxis(feats.reshape(len(grid.ys), len(grid.xs), -1), 2, 0)
            scales = np.array([palette.max_abs(v) for v in vals], np.float32)[:, None, None]
            rgba = palette.map_diverging(vals / scales, self._div_lut, 0.0, 1.0)
        self._set_cells(col, rgba)
        self._input_maps_key = key

    def _set_cells(self, col: _Column, rgba: np.ndarray) -> None:
        """Write per-unit colours (units, 4) or maps (units, H, W, 4) into the column's image."""
        n = col.units
        if rgba.ndim == 2:
            g_h = g_w = PLAIN_PIXELS
        else:
            g_h, g_w = rgba.shape[1], rgba.shape[2]
        p_h = round(g_h * PITCH / CELL)
        if col.mosaic is None or col.mosaic.shape[1:3] != (p_h, g_w):
            col.mosaic = np.zeros((n, p_h, g_w, 4), np.uint8)
        if rgba.ndim == 2:
            col.mosaic[:, :g_h] = rgba[::-1, None, None, :]
        else:
            col.mosaic[:, :g_h] = rgba[::-1]
        img = col.mosaic.reshape(n * p_h, g_w, 4)[: n * p_h - (p_h - g_h)]
        col.cells.setImage(img, autoLevels=False)
        col.cells.setRect(QRectF(col.x0, col.bottom, CELL, col.top - col.bottom))

    def _draw_block(self, col: _Column, W: np.ndarray, means: np.ndarray, dead: np.ndarray,
                    sat: np.ndarray) -> None:
        th = self._theme
        # at most MAX_IMAGE_SIDE pixels a side: pyqtgraph cannot paint an image side over
        # 32,767, and a 20M-weight image per frame would cost 160 MB and ~0.1 s
        shown = shrink_signed(W, MAX_IMAGE_SIDE, MAX_IMAGE_SIDE)
        img = palette.map_diverging(shown.T[::-1], self._div_lut, 0.0, palette.max_abs(shown))
        col.block.setImage(img, autoLevels=False)
        col.block.setRect(QRectF(col.x0, col.bottom, BLOCK_W, col.top - col.bottom))
        rgba = self._plain_colours(col, shrink_mean(means))
        rgba[shrink_share(sat)] = (*th.saturated, 255)
        rgba[shrink_share(dead)] = (*th.dead, 255)
        col.strip.setImage(np.ascontiguousarray(rgba[::-1, None, :]), autoLevels=False)
        col.strip.setRect(QRectF(col.strip_x0, col.bottom, STRIP, col.top - col.bottom))

    def _draw_links(self, snap: Snapshot) -> None:
        """The strongest links of every gap whose target is drawn neuron by neuron."""
        parts = {k: [] for k in ("x0", "y0", "x1", "y1", "w", "gap", "i", "j", "key")}
        for src, dst in zip(self._columns, self._columns[1:], strict=False):
            if dst.collapsed:
                continue
            W = _unit_weights(snap.params[2 * src.index], dst.units)
            flat = W.ravel()
            if flat.size > MAX_LINKS_PER_GAP:
                sel = np.argpartition(np.abs(flat), flat.size - MAX_LINKS_PER_GAP)[-MAX_LINKS_PER_GAP:]
            else:
                sel = np.arange(flat.size)
            w = flat[sel]
            i, j = np.divmod(sel, dst.units)
            mag = np.nan_to_num(np.abs(w) / palette.max_abs(w), nan=0.0, posinf=1.0)
            bucket = np.minimum((mag * LINK_BUCKETS).astype(np.int64), LINK_BUCKETS - 1)
            parts["key"].append((w > 0) * LINK_BUCKETS + bucket)
            parts["x0"].append(np.full(sel.size, src.x1))
            parts["y0"].append(src.ys[i])
            parts["x1"].append(np.full(sel.size, dst.x0))
            parts["y1"].append(dst.ys[j])
            parts["w"].append(w.astype(np.float64))
            parts["gap"].append(np.full(sel.size, src.index))
            parts["i"].append(i)
            parts["j"].append(j)
        if not parts["key"]:
            self._drawn = {}
            self._links.set_data(np.zeros((0, 4)), np.zeros(0, np.int64))
            return
        d = {k: np.concatenate(v) for k, v in parts.items()}
        self._drawn = d
        self._links.set_data(np.column_stack([d["x0"], d["y0"], d["x1"], d["y1"]]), d["key"])

    def _update_footer(self, col: _Column, lay) -> None:
        th = self._theme
        bits = []
        n_dead = 0 if lay.dead_units is None else int(np.count_nonzero(lay.dead_units))
        n_sat = 0 if lay.saturated_units is None else int(np.count_nonzero(lay.saturated_units))
        if n_dead:
            bits.append(f"<span style='color:{th.css('dead')}'>{n_dead} dead</span>")
        if n_sat:
            bits.append(f"<span style='color:{th.css('saturated')}'>{n_sat} saturated</span>")
        self._set_footer(col, "<br>".join(bits))

    def _set_footer(self, col: _Column, html: str, force: bool = False) -> None:
        if html != col.footer_html or force:
            col.footer_html = html
            col.footer.setHtml(f"<div style='color:{self._theme.css('foreground')}'>{html}</div>"
                               if html else "")

    def _set_header(self, col: _Column) -> None:
        col.header.setHtml(
            f"<div style='color:{self._theme.css('foreground')}'>"
            f"{col.header_html}</div>"
        )

    def _apply_theme_styles(self) -> None:
        th = self._theme
        self._gw.setBackground(th.q("background"))
        self._div_lut = palette.diverging_lut(th)
        bias_pen = pg.mkPen(th.q("foreground", 160), width=1)
        for sign in range(2):
            base = palette.POSITIVE if sign else palette.NEGATIVE
            for bucket in range(LINK_BUCKETS):
                t = (bucket + 0.5) / LINK_BUCKETS
                # opaque colours faded toward the background instead of alpha: Qt strokes
                # wide translucent lines several times slower than opaque ones
                colour = palette.mix(th.background, base, 0.15 + 0.85 * t)
                k = sign * LINK_BUCKETS + bucket
                self._links.set_style(k, pg.mkPen(colour, width=0.6 + 3.4 * t))
                shade = palette.mix(th.neutral, base, (bucket + 1) / LINK_BUCKETS)
                self._bias_marks.set_style(k, bias_pen, pg.mkBrush(*shade))
        self._legend.setText(
            f"<span style='color:{_css(palette.NEGATIVE)}'>&#9632;</span> negative and "
            f"<span style='color:{_css(palette.POSITIVE)}'>&#9632;</span> positive weights "
            "(thicker = larger |w|) &middot; small square: bias &middot; "
            f"<span style='color:{th.css('dead')}'>&#10006;</span> dead unit &middot; "
            f"<span style='color:{th.css('saturated')}'>&#9711;</span> saturated unit &middot; "
            f"layers over {COLLAPSE_UNITS} units show their weight matrix (rows: units) &middot; "
            "hover for numbers, click a neuron to inspect it"
        )
        pen = QPen(th.q("selection"))
        pen.setCosmetic(True)
        pen.setWidth(2)
        self._highlight.setPen(pen)

    def _place_highlight(self) -> None:
        if self._selected is None:
            self._highlight.setVisible(False)
            return
        col = self._column_for_layer(self._selected[0])
        if col is None:
            self._highlight.setVisible(False)
            return
        unit = self._selected[1]
        y = float(col.ys[unit])
        if col.collapsed:
            h = max(col.pitch, 0.2)
            rect = QRectF(col.strip_x0 - 0.08, y - h / 2, STRIP + 0.16, h)
        else:
            rect = QRectF(col.x0 - 0.08, y - CELL / 2 - 0.08, CELL + 0.16, CELL + 0.16)
        self._highlight.setRect(rect)
        self._highlight.setVisible(True)

    # --- hover and click -----------------------------------------------------------
    def _describe_neuron(self, col: _Column, unit: int) -> str:
        info, snap = self._info, self._snap
        if col.kind == "input":
            names = info.input_names
            name = names[unit] if unit < len(names) else f"x{unit + 1}"
            return f"Input {unit + 1}: {name}"
        lay_i = col.index - 1
        if col.kind == "output":
            names = info.class_names if info.task == "classification" else ()
            label = f"Output {unit}" + (f" (class {names[unit]})" if unit < len(names) else "")
        else:
            label = f"Hidden layer {col.index}, unit {unit} ({col.activation})"
        if snap is None:
            return label
        lay = snap.layers[lay_i]
        b = _unit_biases(snap.params[2 * lay_i + 1], col.units)[unit]
        lines = [label, f"bias: {b:+.4g}", f"mean activation: {lay.mean_activation[unit]:.4g}"]
        if lay.dead_units is not None:
            lines.append("dead: " + ("yes (outputs 0 for every input)" if lay.dead_units[unit] else "no"))
        if lay.saturated_units is not None:
            lines.append("saturated: " + ("yes (stuck on a flat tail)" if lay.saturated_units[unit]
                                          else "no"))
        return "\n".join(lines)

    def _describe_block(self, x: float, y: float) -> str:
        if self._snap is None:
            return ""
        for col in self._columns:
            if col.block is None or not (col.x0 <= x <= col.x0 + BLOCK_W and col.bottom <= y <= col.top):
                continue
            W = _unit_weights(self._snap.params[2 * (col.index - 1)], col.units)
            j = int(min(max((col.top - y) // col.pitch, 0), col.units - 1))
            i = int(min(max((x - col.x0) / BLOCK_W * W.shape[0], 0), W.shape[0] - 1))
            src = self._columns[col.index - 1]
            return (f"Weights into {col.title.lower()} ({W.shape[0]} x {W.shape[1]})\n"
                    f"from {src.title.lower()} unit {i} to unit {j}: w = {W[i, j]:+.4g}")
        return ""

    def _describe_link(self, x: float, y: float) -> str:
        d = self._drawn
        if not d or d["w"].size == 0:
            return ""
        px, _ = self._vb.viewPixelSize()
        tol = 4.0 * (px if np.isfinite(px) and px > 0 else 0.05)
        dx, dy = d["x1"] - d["x0"], d["y1"] - d["y0"]
        t = np.clip(((x - d["x0"]) * dx + (y - d["y0"]) * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0, 1)
        dist = np.hypot(d["x0"] + t * dx - x, d["y0"] + t * dy - y)
        near = np.flatnonzero(dist <= tol)
        if near.size == 0:
            return ""
        k = int(near[np.argmax(np.abs(d["w"][near]))])  # where links cross: the one drawn on top
        src = self._columns[int(d["gap"][k])]
        dst = self._columns[int(d["gap"][k]) + 1]
        return (f"Link from {src.title.lower()} unit {int(d['i'][k])} "
                f"to {dst.title.lower()} unit {int(d['j'][k])}\nweight: {d['w'][k]:+.4g}")

    def _on_mouse_moved(self, scene_pos) -> None:
        if not self._vb.sceneBoundingRect().contains(scene_pos):
            return
        p = self._vb.mapSceneToView(scene_pos)
        text = self.describe_at(p.x(), p.y())
        if text:
            if text != self._last_tip:
                QToolTip.showText(QCursor.pos(), text, self)
        elif self._last_tip:
            QToolTip.hideText()
        self._last_tip = text

    def _on_mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        p = self._vb.mapSceneToView(ev.scenePos())
        hit = self.neuron_at(p.x(), p.y())
        if hit is None or hit[0].layer is None:
            return
        self.select_neuron(hit[0].layer, hit[1])
