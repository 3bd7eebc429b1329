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
:mod:`~nnviz.gui.views.topology_hover`, the drawing from each snapshot (cells, collapsed
layers, links, marks, footers) in :mod:`~nnviz.gui.views.topology_paint`; this module
builds the items and handles labels, theme, hover and clicks.
"""

from __future__ import annotations

import html
import itertools
import re

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
from nnviz.core.images import ExamplePredictions, display_range, example_subset, image_shape, mean_image
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.batch import Batch
from nnviz.gui.views.bounded import MAX_IMAGE_SIDE
from nnviz.gui.views.topology_hover import describe_block, describe_link, describe_neuron
from nnviz.gui.views.topology_layout import (
    COLLAPSE_UNITS,
    LINK_BUCKETS,
    MAX_LINKS_PER_GAP,
    STRIP,
    column_for_layer,
    fans,
    footer_pos,
    header_for,
    header_y,
    layout_columns,
    link_near,
    view_extent,
)
from nnviz.gui.views.topology_paint import LABEL_WIDTH, TopologyPainting, _Column

__all__ = ["COLLAPSE_UNITS", "LINK_BUCKETS", "MAX_LINKS_PER_GAP", "MEAN_IMAGE_EXAMPLES", "TopologyView"]

#: the mean image is taken over at most this many training examples (a seeded sample)
MEAN_IMAGE_EXAMPLES = 10_000


def _plain(text: str) -> str:
    """Text of simple HTML (tags dropped, entities decoded): what tests read."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _css(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


class TopologyView(TopologyPainting, QWidget):
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
        # image data: the input picture (the chosen example of a split, else the mean image)
        self._example: int | None = None
        self._example_split = "test"
        self._picture_key: tuple | None = None
        self._picture_range = (0.0, 1.0)
        self._mean_pixels: np.ndarray | None = None
        self._caption_text = ""
        self._caption_text_html = ""

        self._gw = pg.GraphicsLayoutWidget()
        self._gw.ci.setContentsMargins(0, 0, 0, 0)
        self._vb: pg.ViewBox = self._gw.addViewBox(lockAspect=True, enableMenu=True)
        self._vb.setMouseEnabled(True, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # what the input picture shows (image data only): "input: example 123, true 7, ..."
        self.input_caption = QLabel()
        self.input_caption.setObjectName("topologyInputCaption")
        self.input_caption.setWordWrap(True)
        self.input_caption.setContentsMargins(6, 4, 6, 2)
        self.input_caption.setVisible(False)
        layout.addWidget(self.input_caption)
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
        self._example, self._example_split = None, "test"
        self._picture_key = None
        self._mean_pixels = None
        for item in self._run_items:
            self._vb.removeItem(item)
        self._run_items = []
        self._build_columns(info)
        self._prepare_picture(info)
        self._set_legend()
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
        self._update_input_caption()

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme_styles()
        self._marks_key = {}  # same places, new colours
        if self._info is not None:
            self._static_colours()
            self._caption_text_html = ""  # the caption's colours
            self._update_input_caption()
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
        self.highlight_neuron(layer, unit)
        self.neuronSelected.emit(layer, unit)

    def highlight_neuron(self, layer: int, unit: int) -> None:
        """Frame a neuron chosen elsewhere (a weight tile), emitting nothing."""
        col = self._column_for_layer(layer)
        if col is None or not 0 <= unit < col.units:
            raise ValueError(f"there is no neuron {unit} in layer {layer}")
        self._selected = (layer, unit)
        self._place_highlight()

    @property
    def has_input_picture(self) -> bool:
        """Whether the inputs are drawn as a picture (image data)."""
        return bool(self._columns) and self._columns[0].picture is not None

    @property
    def shown_example(self) -> tuple[int, str] | None:
        """(row, split) of the example the input picture shows; None: the mean image."""
        return None if self._example is None else (self._example, self._example_split)

    def show_example(self, index: int | None, split: str = "test") -> None:
        """Feed example ``index`` of ``split`` ("test" or "train") to the input picture;
        None (or a row that is not there) shows the mean image again."""
        X = self._split_X(split)
        if index is None or X is None or not 0 <= int(index) < len(X):
            self._example, self._example_split = None, "test"
        else:
            self._example, self._example_split = int(index), split
        if self.has_input_picture:
            self._draw_input_picture()
            self._update_input_caption()

    def input_caption_text(self) -> str:
        """The caption over the input picture as plain text ('' without one)."""
        return self._caption_text

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
        if hit is not None and hit[0].picture is not None:
            return self._describe_pixel(hit[1])
        if hit is not None:
            return describe_neuron(*hit, self._info, self._snap)
        text = describe_block(self._columns, x, y, self._snap)
        if text:
            return text
        return self._describe_link(x, y)

    # --- layout --------------------------------------------------------------------
    def _build_columns(self, info: RunInfo) -> None:
        cols = [_Column.placed(geo) for geo in layout_columns(info.spec, self._image_of(info))]
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
        if col.picture is not None:
            col.image = pg.ImageItem(axisOrder="row-major")
            col.image.setZValue(10)
            self._add(col.image)
            return
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

    # --- the input picture (image data) ---------------------------------------------
    @staticmethod
    def _image_of(info: RunInfo) -> tuple[int, int, int] | None:
        shape = image_shape(info.input_names)
        if shape is None or shape[0] * shape[1] * shape[2] != info.spec.input_dim:
            return None
        X = info.train_X
        return shape if X is not None and X.ndim == 2 and X.shape[1] == info.spec.input_dim else None

    def _split_X(self, split: str) -> np.ndarray | None:
        info = self._info
        if info is None:
            return None
        X = info.test_X if split == "test" else info.train_X
        return X if X is not None and X.ndim == 2 and X.shape[1] == info.spec.input_dim else None

    def _prepare_picture(self, info: RunInfo) -> None:
        """The mean image and the grey range, once per run (from a seeded sample of the
        training examples: a full MNIST's 47M values would cost a tenth of a second)."""
        if not self.has_input_picture:
            self.input_caption.setVisible(False)
            return
        X = info.train_X
        sample = X[example_subset(len(X), MEAN_IMAGE_EXAMPLES)]
        self._mean_pixels = mean_image(sample)
        self._picture_range = display_range(sample)
        self.input_caption.setVisible(True)
        self._update_input_caption()

    def _input_pixels(self) -> np.ndarray | None:
        if self._example is not None:
            X = self._split_X(self._example_split)
            if X is not None and self._example < len(X):
                return X[self._example]
        return self._mean_pixels

    def _update_input_caption(self) -> None:
        """Say what the picture is, with the latest prediction for a chosen example."""
        info = self._info
        if info is None or not self.has_input_picture:
            return
        th = self._theme
        if self._example is None:
            n = len(info.train_X)
            what = (f"<b>input: mean image</b> of {min(n, MEAN_IMAGE_EXAMPLES):,} training examples"
                    f"{'' if n <= MEAN_IMAGE_EXAMPLES else ' (a sample)'}")
            hint = "click a picture in the Examples panel to feed that example in"
        else:
            i, split = self._example, self._example_split
            y = info.test_y if split == "test" else info.train_y
            what = f"<b>input: example {i:,}</b> of the {'test' if split == 'test' else 'training'} set"
            if info.task == "classification" and y is not None and y.ndim == 1:
                what += f", true <b>{self._class_name(int(y[i]))}</b>"
                pred = self._prediction(i, split)
                if pred is not None:
                    k, conf = pred
                    wrong = y is not None and k != int(y[i])
                    colour = th.css("dead") if wrong else th.css("foreground")
                    conf_text = f" ({100 * conf:.0f}%)" if np.isfinite(conf) else ""
                    what += (f", predicted <b style='color:{colour}'>{self._class_name(k)}</b>{conf_text}")
                else:
                    what += ", predicted: not among the examples the network is checked on"
            hint = "click the picture again in the Examples panel for the mean image"
        html = (f"<span style='color:{th.css('foreground')}'>{what}</span>"
                f"<span style='color:{th.css('muted')}'> · {hint}</span>")
        if html != self._caption_text_html:
            self._caption_text_html = html
            self.input_caption.setText(html)
            self._caption_text = _plain(html)

    def _describe_pixel(self, k: int) -> str:
        """The input under the pointer on the picture: its name and the value fed in."""
        names = self._info.input_names
        c = self._columns[0].picture[2]
        x = self._input_pixels()
        what = "mean image" if self._example is None else f"example {self._example:,}"
        lines = []
        for j in range(k, min(k + c, len(names))):
            value = "" if x is None else f" = {float(x[j]):.3g}"
            lines.append(f"Input {j + 1}: {names[j]}{value}")
        return "\n".join(lines) + f"\n(raw value in the {what}, before any preprocessing)"

    def _prediction(self, index: int, split: str) -> tuple[int, float] | None:
        ex = getattr(self._snap, "examples", None)
        if not isinstance(ex, ExamplePredictions) or ex.split != split:
            return None
        hit = np.flatnonzero(np.asarray(ex.indices) == index)
        if not hit.size:
            return None
        k = int(hit[0])
        return int(ex.predicted[k]), float(ex.confidence[k])

    def _class_name(self, k: int) -> str:
        if k < 0:
            return "?"
        names = self._info.class_names if self._info is not None else ()
        return names[k] if k < len(names) else str(k)

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
        self._set_legend()
        pen = QPen(th.q("selection"))
        pen.setCosmetic(True)
        pen.setWidth(2)
        self._highlight.setPen(pen)

    def _set_legend(self) -> None:
        th = self._theme
        click = ("click a neuron for what it looks for (Unit panel)" if self.has_input_picture
                 else "click a neuron to inspect it")
        self._legend.setText(
            f"<span style='color:{_css(palette.NEGATIVE)}'>&#9632;</span> negative and "
            f"<span style='color:{_css(palette.POSITIVE)}'>&#9632;</span> positive weights "
            "(thicker = larger |w|) &middot; small square: bias &middot; "
            f"<span style='color:{th.css('dead')}'>&#10006;</span> dead unit &middot; "
            f"<span style='color:{th.css('saturated')}'>&#9634;</span> saturated unit (frame) &middot; "
            f"layers over {COLLAPSE_UNITS} units show their weight matrix (rows: units) &middot; "
            f"hover for numbers, {click}"
        )

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
