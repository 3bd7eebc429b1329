"""One neuron up close: what it looks for and which examples excite it most, live.

A student who clicks a neuron in the Network view (or a tile in Weights) asks "what does
this unit do?". For image data this page answers with pictures: the unit's incoming
weights (a first-layer unit's weights have the image's shape and are drawn as one; a
deeper unit's come from the units of the layer before and are drawn as one bar each),
and the examples among those the snapshot's predictions cover that drive it hardest,
with their activation. The activations are the engine's own forward pass on the
snapshot's weights (:func:`nnviz.core.images.exciting_examples`), run on the GUI thread
from read-only arrays: at most :data:`~nnviz.core.images.MAX_UNIT_EXAMPLES` examples,
searched again at most every :data:`REFRESH_S` seconds while training (and painted once
per search), and only while
the page is on screen (the frame pump draws only the panels shown).

The inputs the network sees are the raw pixels through the run's input pipeline
(standardisation, PCA): :meth:`UnitView.set_input_pipeline` hands it over; without one
the raw pixels are taken as the inputs.
"""

from __future__ import annotations

import time

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from nnviz.app.runinfo import RunInfo
from nnviz.core.images import (
    EXAMPLE_COUNT,
    EXAMPLE_SEED,
    ExamplePredictions,
    UnitExamples,
    display_range,
    example_subset,
    exciting_examples,
    image_shape,
    incoming_weights,
    picture_bytes,
    weight_tiles,
)
from nnviz.core.preprocess import InputPipeline
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.captioned_page import captioned_page
from nnviz.gui.views.gallery import bytes_image, grid_layout
from nnviz.gui.views.weight_tiles import tile_colours

TITLE = "one unit up close: its incoming weights and the examples that excite it most"
PAGE, MESSAGE = 0, 1
#: the examples shown for a unit
TOP_K = 12
#: while training, the examples are searched again at most this often (s): a forward pass
#: of 512 examples costs a few ms; the weights are redrawn with every snapshot
REFRESH_S = 0.5
#: share of the page's height for the weights (the rest: the examples)
WEIGHTS_SHARE = 0.45
#: a deeper unit's weights are drawn as at most this many bars (each the strongest of its
#: neighbours when there are more weights)
MAX_BARS = 512
#: the largest a weight picture or an example is drawn (screen pixels a side)
MAX_PICTURE_PX = 200


class _Canvas(QWidget):
    """The weights and the examples, painted in one pass."""

    def __init__(self, owner: UnitView):
        super().__init__()
        self._owner = owner
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(480, 420)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            self._owner._paint(p, self.width(), self.height())
        finally:
            p.end()


class UnitView(QWidget):
    """The chosen unit's incoming weights and its most exciting examples."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("unitView")
        self.frame_count = 0
        self.searches = 0  # forward passes run (tests check the throttle)
        self.grid_paints = 0  # times the examples were painted (reused between searches)
        self._grid_key: tuple | None = None
        self._grid_image: QImage | None = None
        self._theme = palette.theme(False)
        self._lut = palette.diverging_lut(self._theme)
        self._info: RunInfo | None = None
        self._snap: Snapshot | None = None
        self._pipeline: InputPipeline | None = None
        self._shape: tuple[int, int, int] | None = None
        self._X: np.ndarray | None = None  # raw examples of the split the predictions are on
        self._y: np.ndarray | None = None
        self._split = "test"
        self._lo, self._hi = 0.0, 1.0
        self._unit: tuple[int, int] | None = None
        self._weights: np.ndarray | None = None  # (fan_in,) of the unit, latest snapshot
        self._weight_image: QImage | None = None
        self._examples: UnitExamples | None = None
        self._searched_at = -np.inf
        # a snapshot that came too soon for a search gets one when it is due, unless a newer
        # one comes first: the page ends on the last snapshot's examples when training stops
        self._late = QTimer(self)
        self._late.setSingleShot(True)
        self._late.timeout.connect(self._late_search)
        self._inputs_key: bytes | None = None
        self._inputs: np.ndarray | None = None  # network inputs of the searched examples
        self._cache: dict[int, QImage] = {}
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(self._font.pointSizeF() - 1, 7))
        self._build_ui()
        self._apply_theme()

    def _build_ui(self) -> None:
        self.canvas = _Canvas(self)
        self.header, self.stack, self.message = captioned_page(self, "unit", self.canvas)

    # --- public API ----------------------------------------------------------------
    def set_input_pipeline(self, pipeline: InputPipeline | None) -> None:
        """How raw examples become the network's inputs (the run's fitted pipeline)."""
        self._pipeline = pipeline
        self._inputs_key = self._inputs = None
        self._examples = None

    def set_run(self, info: RunInfo) -> None:
        """Take a run: the page for image data, else a message saying why not."""
        self._info = info
        self._snap = None
        self._unit = None
        self._late.stop()
        self._weights = self._weight_image = self._examples = None
        self._inputs_key = self._inputs = None
        self._cache = {}
        shape = image_shape(info.input_names)
        X, y, split = info.test_X, info.test_y, "test"
        if X is None or not len(X):
            X, y, split = info.train_X, info.train_y, "train"
        if shape is not None and (X is None or X.ndim != 2 or X.shape[1] != shape[0] * shape[1] * shape[2]
                                  or X.shape[1] != info.spec.input_dim):
            shape = None
        self._shape = shape
        if shape is None:
            self._X = self._y = None
            self.message.setText("This page shows a unit's incoming weights as a picture and the examples "
                                 "that excite it most when the inputs are the pixels of an image. "
                                 "This run's inputs are not an image: hover a neuron in the Network view "
                                 "for its numbers.")
            self.header.setText("")
            self.stack.setCurrentIndex(MESSAGE)
            return
        self._X, self._split = X, split
        self._y = np.asarray(y) if info.task == "classification" and y is not None and y.ndim == 1 else None
        self._lo, self._hi = display_range(X[example_subset(len(X), EXAMPLE_COUNT, EXAMPLE_SEED)])
        self._show_choice_message()

    def show_snapshot(self, snap: Snapshot) -> None:
        """The chosen unit's weights from ``snap``; its examples searched again when due."""
        if self._info is None or self._shape is None:
            return
        self._snap = snap
        self._refresh(force=False)

    def redraw(self) -> None:
        if self._snap is not None and self._unit is not None:
            self._refresh(force=True)

    def show_unit(self, layer: int, unit: int) -> None:
        """Look at ``unit`` of ``layer`` (hidden layers from 0, -1 the outputs)."""
        if self._info is None or self._shape is None:
            return
        spec = self._info.spec
        n_hidden = len(spec.hidden)
        if layer == -1:
            units = spec.output_dim
        elif 0 <= layer < n_hidden:
            units = spec.hidden[layer].units
        else:
            raise ValueError(f"there is no layer {layer} (hidden layers 0..{n_hidden - 1}, output -1)")
        if not 0 <= unit < units:
            raise ValueError(f"layer {layer} has no unit {unit}")
        self._unit = (int(layer), int(unit))
        self._examples = None
        self.stack.setCurrentIndex(PAGE)
        if self._snap is not None:
            self._refresh(force=True)
        else:
            self._update_header()
            self.canvas.update()

    @property
    def unit(self) -> tuple[int, int] | None:
        return self._unit

    @property
    def examples(self) -> UnitExamples | None:
        """The latest search: the unit's most exciting examples (None before one)."""
        return self._examples

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._lut = palette.diverging_lut(self._theme)
        self._apply_theme()
        self.redraw()

    def export_image(self, path: str) -> None:
        """PNG (the page as shown) or SVG (the same painting)."""
        palette.export_painted(self, path, TITLE)

    # --- content -------------------------------------------------------------------
    def _show_choice_message(self) -> None:
        self.message.setText("Click a neuron in the Network view, or a tile in the Weights panel, to see "
                             "what that unit looks for and which examples excite it most.")
        self.header.setText("")
        self.stack.setCurrentIndex(MESSAGE)

    def _params_fit(self, snap: Snapshot) -> bool:
        """The snapshot is of this run's network (a run being replaced sends another's)."""
        shapes = self._info.spec.layer_shapes()
        params = snap.params
        return len(params) == 2 * len(shapes) and all(
            params[2 * i].shape == w and params[2 * i + 1].shape == b for i, (w, b) in enumerate(shapes))

    def _refresh(self, force: bool) -> None:
        snap, unit = self._snap, self._unit
        if unit is None or snap is None or not self._params_fit(snap):
            return
        layer, j = unit
        spec = self._info.spec
        self._weights = incoming_weights(spec, snap.params, layer, j)
        self._weight_image = self._picture_of_weights(self._weights)
        now = time.monotonic()
        if force or self._examples is None or now - self._searched_at >= REFRESH_S:
            self._late.stop()
            self._search(snap)
            self._searched_at = now
        elif not self._late.isActive():
            self._late.start(max(int((REFRESH_S - (now - self._searched_at)) * 1000), 1))
        self._update_header()
        self.canvas.update()
        self.frame_count += 1

    def _late_search(self) -> None:
        if self._snap is not None and self._unit is not None and self._info is not None:
            self._refresh(force=True)

    def _rows(self, snap: Snapshot) -> np.ndarray:
        """The examples searched: those the snapshot's predictions cover (the gallery's),
        or the gallery's seeded sample of :data:`~nnviz.core.images.EXAMPLE_COUNT` where
        that is more (a big network's snapshot predicts fewer examples; its activations
        need no predictions)."""
        ex = getattr(snap, "examples", None)
        n = len(self._X)
        sample = example_subset(n, EXAMPLE_COUNT, EXAMPLE_SEED)
        if isinstance(ex, ExamplePredictions) and ex.split == self._split and len(ex.indices) >= len(sample):
            idx = np.asarray(ex.indices, np.int64)
            if int(idx.min()) >= 0 and int(idx.max()) < n:
                return idx
        return sample

    def _network_inputs(self, rows: np.ndarray) -> np.ndarray | None:
        """The rows' inputs as the network sees them (made once per set of rows)."""
        key = rows.tobytes()
        if key != self._inputs_key:
            X = self._X[rows]
            pipe = self._pipeline
            try:
                inputs = pipe.transform(X) if pipe is not None and pipe.fitted else np.asarray(X, np.float64)
            except ValueError:
                inputs = None  # a pipeline of another run: no search until the next one
            if inputs is not None and inputs.shape[1] != self._info.spec.input_dim:
                inputs = None
            self._inputs_key, self._inputs = key, inputs
        return self._inputs

    def _search(self, snap: Snapshot) -> None:
        rows = self._rows(snap)
        inputs = self._network_inputs(rows)
        if inputs is None:
            self._examples = None
            return
        layer, j = self._unit
        self._examples = exciting_examples(self._info.spec, snap.params, inputs, rows, layer, j, TOP_K)
        self.searches += 1

    def _first_layer(self) -> bool:
        """Whether the unit's weights come straight from the pixels."""
        layer, _ = self._unit
        return layer == 0 or (layer == -1 and not self._info.spec.hidden)

    def _picture_of_weights(self, w: np.ndarray) -> QImage | None:
        if not self._first_layer() or len(w) != self._shape[0] * self._shape[1] * self._shape[2]:
            return None
        tiles = weight_tiles(w[:, None], self._shape)
        rgba = np.ascontiguousarray(tile_colours(tiles, self._lut)[0])
        h, wd = rgba.shape[:2]
        return QImage(rgba.data, wd, h, 4 * wd, QImage.Format.Format_RGBA8888).copy()

    def _layer_name(self, layer: int) -> str:
        return "output" if layer == -1 else f"hidden {layer + 1}"

    def _unit_name(self) -> str:
        layer, j = self._unit
        if layer == -1:
            names = self._info.class_names
            return f"output {j}" + (f" (class {names[j]})" if j < len(names) else "")
        act = self._info.spec.hidden[layer].activation
        return f"hidden {layer + 1}, unit {j} ({act})"

    def _update_header(self) -> None:
        th = self._theme
        if self._unit is None:
            return
        layer, _ = self._unit
        orange = "#{:02x}{:02x}{:02x}".format(*palette.NEGATIVE)
        blue = "#{:02x}{:02x}{:02x}".format(*palette.POSITIVE)
        if self._first_layer():
            what = (f"its weights on the pixels: <b style='color:{orange}'>orange</b> = a bright pixel "
                    f"there lowers it, <b style='color:{blue}'>blue</b> = raises it")
        else:
            prev = self._layer_name(layer - 1 if layer > 0 else len(self._info.spec.hidden) - 1)
            what = (f"its weights come from the units of {prev}, not from pixels: one bar per unit "
                    f"(<b style='color:{orange}'>orange</b> negative, "
                    f"<b style='color:{blue}'>blue</b> positive)")
        ex = self._examples
        if ex is None:
            found = "the examples that excite it most come with the next snapshot"
        else:
            what_split = "test" if self._split == "test" else "training"
            found = (f"below: the {len(ex.indices)} of {ex.searched:,} {what_split} examples that excite it "
                     f"most, largest activation first")
        self.header.setText(f"<span style='color:{th.css('foreground')}'><b>{self._unit_name()}</b></span>"
                            f"<br><span style='color:{th.css('muted')}'>{what} · {found}</span>")

    # --- painting ------------------------------------------------------------------
    def _example_image(self, i: int) -> QImage:
        img = self._cache.get(i)
        if img is None:
            img = bytes_image(picture_bytes(self._X[i], self._shape, self._lo, self._hi))
            if len(self._cache) > 4 * EXAMPLE_COUNT:
                self._cache.clear()
            self._cache[i] = img
        return img

    def _paint(self, p: QPainter, width: int, height: int) -> None:
        th = self._theme
        p.fillRect(0, 0, width, height, th.q("background"))
        if self._unit is None or self._weights is None:
            return
        p.setFont(self._font)
        fm = QFontMetrics(self._font)
        top_h = int(height * WEIGHTS_SHARE)
        self._paint_weights(p, QRectF(8, 4, width - 16, top_h - 8), fm)
        # the examples change only with a search (a few times a second), the weights with
        # every snapshot: the examples' part is painted once per search and size, then reused
        key = (self.searches, self._examples is None, width, height, self._theme.dark)
        if self._grid_key != key:
            grid = QImage(width, max(height - top_h, 1), QImage.Format.Format_RGB32)
            grid.fill(th.q("background"))
            gp = QPainter(grid)
            try:
                gp.setFont(self._font)
                self._paint_examples(gp, width, height - top_h, 0, fm)
            finally:
                gp.end()
            self._grid_key, self._grid_image = key, grid
            self.grid_paints += 1
        p.drawImage(0, top_h, self._grid_image)

    def _paint_weights(self, p: QPainter, area: QRectF, fm: QFontMetrics) -> None:
        th = self._theme
        if self._weight_image is not None:
            img = self._weight_image
            side = max(img.width(), img.height())
            scale = min(area.width() / img.width(), area.height() / img.height(), MAX_PICTURE_PX / side)
            scale = max(scale, 0.1)
            if scale >= 2:
                scale = float(int(scale))
            w, h = img.width() * scale, img.height() * scale
            target = QRectF(area.center().x() - w / 2, area.top() + (area.height() - h) / 2, w, h)
            p.drawImage(target, img)
            p.setPen(QPen(th.q("muted"), 1))
            p.drawRect(target.adjusted(-1, -1, 1, 1))
            return
        w = self._weights
        n = len(w)
        scale = palette.max_abs(w)
        line = fm.height()
        plot = QRectF(area.left() + 4, area.top() + 2, area.width() - 8, max(area.height() - line - 6, 10))
        mid = plot.center().y()
        p.setPen(QPen(th.q("muted"), 1))
        p.drawLine(int(plot.left()), int(mid), int(plot.right()), int(mid))
        colours = (QColor(*palette.NEGATIVE), QColor(*palette.POSITIVE))
        with np.errstate(invalid="ignore", divide="ignore"):
            t = strongest_per_bin(np.nan_to_num(w / scale, nan=0.0, posinf=1.0, neginf=-1.0), MAX_BARS)
        bar_w = plot.width() / max(len(t), 1)
        half = plot.height() / 2
        for k in range(len(t)):
            v = float(t[k])
            if v == 0:
                continue
            x = plot.left() + k * bar_w
            hgt = abs(v) * half
            p.fillRect(QRectF(x, mid - hgt if v > 0 else mid, max(bar_w - (1 if bar_w > 3 else 0), 0.6), hgt),
                       colours[v > 0])
        strongest = np.argsort(-np.abs(np.nan_to_num(w)))[:3]
        layer, _ = self._unit
        src = self._layer_name(layer - 1 if layer > 0 else len(self._info.spec.hidden) - 1)
        text = f"{n} weights from {src} · strongest: " + ", ".join(
            f"unit {int(k)} ({w[k]:+.3g})" for k in strongest)
        p.setPen(th.q("foreground"))
        p.drawText(QRectF(area.left(), plot.bottom() + 4, area.width(), line), Qt.AlignmentFlag.AlignHCenter,
                   fm.elidedText(text, Qt.TextElideMode.ElideRight, int(area.width())))

    def _paint_examples(self, p: QPainter, width: int, height: int, top: int, fm: QFontMetrics) -> None:
        th = self._theme
        ex = self._examples
        area_h = height - top
        if ex is None or not len(ex.indices):
            p.setPen(th.q("muted"))
            p.drawText(QRectF(0, top, width, area_h), Qt.AlignmentFlag.AlignCenter,
                       "waiting for a snapshot" if ex is None else "no examples to search")
            return
        h, w, _ = self._shape
        text_h = 2 * fm.height() + 2
        label_w = fm.horizontalAdvance("act +00.00") + 6
        lay = grid_layout(len(ex.indices), h, w, width, area_h, text_h, label_w)
        scale = min(lay.scale, MAX_PICTURE_PX / max(h, w) / 2)
        if lay.shown == 0 or scale <= 0:
            return
        if scale >= 2:
            scale = float(int(scale))
        img_w, img_h = w * scale, h * scale
        cols = lay.cols
        cell_w = max(img_w, min(lay.cell_w, max(label_w, img_w)))
        total_w = cols * cell_w + (cols - 1) * 10
        x0 = max((width - total_w) / 2, 0)
        y0 = top + 4  # under the weights, not adrift in the middle
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
        line = fm.height()
        for k in range(lay.shown):
            r, q = divmod(k, cols)
            x = x0 + q * (cell_w + 10)
            y = y0 + r * (img_h + text_h + 10)
            i = int(ex.indices[k])
            p.drawImage(QRectF(x + (cell_w - img_w) / 2, y, img_w, img_h), self._example_image(i))
            a = float(ex.activation[k])
            p.setPen(th.q("foreground"))
            p.drawText(QRectF(x - 5, y + img_h + 2, cell_w + 10, line), Qt.AlignmentFlag.AlignHCenter,
                       f"act {a:+.3g}" if np.isfinite(a) else "act ?")
            if self._y is not None:
                names = self._info.class_names
                c = int(self._y[i])
                name = names[c] if c < len(names) else str(c)
                label = fm.elidedText(f"true {name}", Qt.TextElideMode.ElideRight, int(cell_w + 8))
                p.setPen(th.q("muted"))
                p.drawText(QRectF(x - 5, y + img_h + 2 + line, cell_w + 10, line),
                           Qt.AlignmentFlag.AlignHCenter, label)

    def _apply_theme(self) -> None:
        th = self._theme
        self.setAutoFillBackground(True)
        self.header.setStyleSheet(f"background: {th.css('background')};")
        self.message.setStyleSheet(f"color: {th.css('foreground')}; background: {th.css('background')};")
        if self._unit is not None:
            self._update_header()
        self.canvas.update()


def strongest_per_bin(v: np.ndarray, most: int) -> np.ndarray:
    """``v`` in at most ``most`` consecutive bins, each the value of largest magnitude
    (sign kept): a 4,096-weight unit drawn as 512 bars still shows its strongest ones."""
    v = np.asarray(v, np.float64).ravel()
    if len(v) <= most:
        return v
    size = -(-len(v) // most)
    padded = np.zeros(-(-len(v) // size) * size)
    padded[:len(v)] = v
    blocks = padded.reshape(-1, size)
    pick = np.abs(blocks).argmax(axis=1)
    return blocks[np.arange(len(blocks)), pick]
