"""The network as columns of neurons joined by links, redrawn live from snapshots.

Small layers draw every neuron: for 2-D data each one shows its own output over the input
plane (TensorFlow Playground style), otherwise its mean activation as a colour. Layers
wider than :data:`COLLAPSE_UNITS` collapse to a block: their incoming weight matrix as an
image beside a thin strip of their units. Links are drawn in a handful of batches (one
``PlotCurveItem(connect='pairs')`` per colour bucket), capped at the strongest
:data:`MAX_LINKS_PER_GAP` per gap, so a 784-256-128-10 network redraws in milliseconds.
Every graphics item is made once per run and updated in place for each snapshot.
Where things go (columns, units, which layers collapse, which links are drawn) is decided
Qt-free in :mod:`~nnviz.gui.views.topology_layout`, the tooltips' text in
:mod:`~nnviz.gui.views.topology_hover`; this module paints.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, fields

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
from nnviz.gui.views.stats_table import dead_text
from nnviz.gui.views.topology_hover import describe_block, describe_link, describe_neuron
from nnviz.gui.views.topology_layout import (
    BIAS_MARK,
    BLOCK_W,
    CELL,
    COLLAPSE_UNITS,
    HEADER_FULL_PX,
    HEADER_MEDIUM_PX,
    LINK_BUCKETS,
    MAX_LINKS_PER_GAP,
    PITCH,
    STRIP,
    ColumnGeometry,
    column_for_layer,
    column_means,
    fans,
    finite_extremes,
    footer_pos,
    header_for,
    header_y,
    layout_columns,
    link_near,
    strength_levels,
    strongest_links,
    unit_biases,
    unit_weights,
    view_extent,
)

__all__ = ["COLLAPSE_UNITS", "LINK_BUCKETS", "MAX_LINKS_PER_GAP", "TopologyView"]

PLAIN_PIXELS = 4  # pixels per cell when a neuron is a plain colour (no 2-D map)
LABEL_WIDTH = 140  # pixels: width of the centred text above and below each column
_BOUNDED = {"sigmoid": (0.5, 0.5), "tanh": (0.0, 1.0)}  # (centre, half-range) of outputs


@dataclass
class _Column(ColumnGeometry):
    """A column's place (see :mod:`topology_layout`) and the items that paint it."""

    header: pg.TextItem | None = None
    footer: pg.TextItem | None = None
    cells: pg.ImageItem | None = None  # individual neurons, one mosaic image
    block: pg.ImageItem | None = None  # collapsed: incoming weights (units x fan-in)
    strip: pg.ImageItem | None = None  # collapsed: one row per unit
    mosaic: np.ndarray | None = None  # (units, pitch px, cell px, 4) backing the cells image
    footer_html: str = ""
    names: list[pg.TextItem] = field(default_factory=list)

    @classmethod
    def placed(cls, geo: ColumnGeometry) -> _Column:
        return cls(**{f.name: getattr(geo, f.name) for f in fields(ColumnGeometry)})


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
        self._label_px = 0.0  # pixels between column centres the labels were fitted to

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
        self._sat_marks = pg.ScatterPlotItem(pxMode=False, symbol="s")
        for z, item in ((22, self._bias_marks), (23, self._sat_marks), (24, self._dead_marks)):
            item.setZValue(z)
            self._vb.addItem(item)
        self._highlight = QGraphicsRectItem()
        self._highlight.setZValue(30)
        self._highlight.setVisible(False)
        self._vb.addItem(self._highlight)
        # headers and footers are in pixels: refit their text when the scale changes
        self._vb.sigResized.connect(self._fit_labels)
        self._vb.sigRangeChanged.connect(self._fit_labels)
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
        self._label_px = 0.0
        self._fit()
        self._fit_labels()

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
        return col.unit_x(), float(col.ys[unit])

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
            return describe_neuron(*hit, self._info, self._snap)
        text = describe_block(self._columns, x, y, self._snap)
        if text:
            return text
        return self._describe_link(x, y)

    # --- layout --------------------------------------------------------------------
    def _build_columns(self, info: RunInfo) -> None:
        cols = [_Column.placed(geo) for geo in layout_columns(info.spec)]
        for col in cols:
            col.header = pg.TextItem(anchor=(0.5, 1.0))
            col.footer = pg.TextItem(anchor=(0.5, 0.0))
            for item in (col.header, col.footer):  # centred lines need a fixed text width
                item.textItem.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
                item.textItem.document().setDocumentMargin(1)  # narrow columns: every pixel counts
                item.setTextWidth(LABEL_WIDTH)
                item.setZValue(40)
                self._add(item)
            col.footer.setPos(*footer_pos(col))
            self._make_images(col)
        self._columns = cols
        y = header_y(cols)
        for c in cols:
            c.header.setPos(c.centre_x, y)
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
        for corners in fans(self._columns):
            poly = QPolygonF([QPointF(x, y) for x, y in corners])
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
        first, last = self._columns[0], self._columns[-1]
        rect = QRectF(*view_extent(self._columns, bool(first.names), bool(last.names)))
        self._vb.setRange(rect, padding=0.02)
        self._links.set_bounds(rect)
        self._bias_marks.set_bounds(rect)

    def _column_for_layer(self, layer: int) -> _Column | None:
        return column_for_layer(self._columns, layer)

    # --- drawing -------------------------------------------------------------------
    def _static_colours(self) -> None:
        """Parts that do not change during a run: the collapsed input strip, input cells."""
        info = self._info
        col = self._columns[0]
        th = self._theme
        if col.collapsed:
            X = info.train_X
            if X is not None and X.ndim == 2 and X.shape[1] == col.units and len(X):
                means = shrink_mean(column_means(X))
                lut = palette.intensity_lut(th, th.muted)
                lo, hi = finite_extremes(means)
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
            W = unit_weights(snap.params[2 * (col.index - 1)], col.units)
            b = unit_biases(snap.params[2 * (col.index - 1) + 1], col.units)
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
                # a thin square frame just outside the cell: the neuron's map stays visible
                self._sat_marks.setData(pos=sat, size=CELL + 0.14, brush=pg.mkBrush(None),
                                        pen=pg.mkPen(th.q("saturated"), width=1.6))

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
        return strength_levels(b, palette.max_abs(b))

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
        d = strongest_links(self._columns, snap.params, palette.max_abs)
        self._drawn = d
        if not d:
            self._links.set_data(np.zeros((0, 4)), np.zeros(0, np.int64))
            return
        self._links.set_data(np.column_stack([d["x0"], d["y0"], d["x1"], d["y1"]]), d["key"])

    def _update_footer(self, col: _Column, lay) -> None:
        """Dead and saturated counts under the column, shorter where columns are narrow
        ("1 dead at start, +2 since" / "1+2 dead", "4 saturated" / "4 sat." / "4 ▢")."""
        th = self._theme
        bits = []
        n_dead = 0 if lay.dead_units is None else int(np.count_nonzero(lay.dead_units))
        n_sat = 0 if lay.saturated_units is None else int(np.count_nonzero(lay.saturated_units))
        room = self._label_px or LABEL_WIDTH
        if n_dead or lay.dead_since_start:
            if room >= HEADER_MEDIUM_PX:
                text = dead_text(lay, room < HEADER_FULL_PX)
            else:
                since = lay.dead_since_start
                text = f"{n_dead - since}+{since}&#10006;" if since else f"{n_dead}&#10006;"
            bits.append(f"<span style='color:{th.css('dead')}'>{text}</span>")
        if n_sat:
            word = ("saturated" if room >= HEADER_FULL_PX
                    else "sat." if room >= HEADER_MEDIUM_PX else "&#9634;")
            bits.append(f"<span style='color:{th.css('saturated')}'>{n_sat} {word}</span>")
        self._set_footer(col, "<br>".join(bits))

    def _set_footer(self, col: _Column, html: str, force: bool = False) -> None:
        if html != col.footer_html or force:
            col.footer_html = html
            col.footer.setHtml(f"<div style='color:{self._theme.css('foreground')}'>{html}</div>"
                               if html else "")

    def _column_px(self) -> float:
        """Scene pixels between the two closest neighbouring column centres, as drawn now
        (mapped through the view box: its viewPixelSize does not match the scene's pixels)."""
        if len(self._columns) < 2:
            return float(LABEL_WIDTH)
        gap = min(b.centre_x - a.centre_x for a, b in itertools.pairwise(self._columns))
        p0 = self._vb.mapViewToScene(QPointF(0.0, 0.0))
        p1 = self._vb.mapViewToScene(QPointF(gap, 0.0))
        room = abs(p1.x() - p0.x())
        return room if np.isfinite(room) and room > 0 else float(LABEL_WIDTH)

    def _fit_labels(self, *_args) -> None:
        """Headers and footers as wide as the room between columns, in the form that fits
        ("Hidden 3 / 8 relu / 72 params", "H3 / 8 relu", "H3 / 8"): a deep network's titles
        never run into each other. Only re-set when the room changed by a few pixels."""
        if not self._columns:
            return
        room = self._column_px()
        if abs(room - self._label_px) < 4:
            return
        self._label_px = room
        width = max(min(LABEL_WIDTH, room - 4), 24)
        for col in self._columns:
            for item in (col.header, col.footer):
                item.setTextWidth(width)
            self._set_header(col)
            self._set_footer(col, col.footer_html, force=True)

    def _set_header(self, col: _Column) -> None:
        col.header.setHtml(
            f"<div style='color:{self._theme.css('foreground')}'>"
            f"{header_for(col, self._label_px or LABEL_WIDTH)}</div>"
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
            f"<span style='color:{th.css('saturated')}'>&#9634;</span> saturated unit (frame) &middot; "
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
        self._highlight.setRect(QRectF(*col.highlight_rect(self._selected[1])))
        self._highlight.setVisible(True)

    # --- hover and click -----------------------------------------------------------
    def _describe_link(self, x: float, y: float) -> str:
        px, _ = self._vb.viewPixelSize()
        k = link_near(self._drawn, x, y, 4.0 * (px if np.isfinite(px) and px > 0 else 0.05))
        return "" if k is None else describe_link(self._columns, self._drawn, k)

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
