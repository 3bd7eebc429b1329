"""What the network decides: its output over the input plane for 2-D data, with the data
on top, or a confusion matrix when there are more inputs than a plane can show (that page
is drawn by :mod:`decision_confusion`).

Clicking the plane adds a training point of the chosen class (``pointAdded``);
Ctrl+click removes the nearest one (``pointRemoved``). The window applies the edit to the
session and calls :meth:`DecisionView.set_run` with the new data.
"""

from __future__ import annotations

import math

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.runinfo import RunInfo
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.bounded import (
    MAX_IMAGE_SIDE,
    MAX_POINTS,
    clip_coords,
    finite_range,
    shrink_signed,
    subsample,
)
from nnviz.gui.views.decision_confusion import (  # noqa: F401  (MAX_COUNT_LABELS re-exported)
    MAX_COUNT_LABELS,
    CellCounts,
    ConfusionMixin,
)
from nnviz.gui.views.plot_title import TitleFitter
from nnviz.gui.views.topology_layout import unit_weights

#: the legend lists at most this many classes (then "and N more")
MAX_LEGEND_CLASSES = 12
#: the "add class" list offers at most this many classes (each entry costs a pixmap)
MAX_CLASS_CHOICES = 256
_BOUNDED = {"sigmoid": (0.5, 0.5), "tanh": (0.0, 1.0)}
PLANE, CONFUSION, MESSAGE, WEIGHTS = 0, 1, 2, 3
#: what the plane's colours are, by loss (softmax/logistic give probabilities; the SVM's
#: outputs are scores, shown through a softmax only as a display of confidence)
OUTPUT_WHAT = {"svm": "class scores (SVM loss, not probabilities; stronger = larger margin)"}


class _Pages(QStackedWidget):
    """The view's pages with one fixed size hint: a page's hint follows its plot's title, and
    the window re-laid out its docks when a click on a neuron changed a title or a page."""

    HINT = QSize(480, 400)
    MINIMUM = QSize(160, 120)

    def sizeHint(self) -> QSize:
        return self.HINT

    def minimumSizeHint(self) -> QSize:
        return self.MINIMUM


class DecisionView(ConfusionMixin, QWidget):
    """The decision plane (2-D inputs) or the confusion matrix (wider inputs)."""

    pointAdded = Signal(float, float, int)
    pointRemoved = Signal(int)
    #: a confusion-matrix cell clicked: (true class, predicted class)
    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("decisionView")
        self.frame_count = 0
        self._theme = palette.theme(False)
        self._info: RunInfo | None = None
        self._snap: Snapshot | None = None
        self._neuron: tuple[int, int] | None = None
        self._counts: CellCounts | None = None
        self._shown_confusion: tuple | None = None  # (classes, trace, matrix or block sums) shown
        self._titles: dict[int, str] = {}
        self._y_scale = 1.0
        self._build_ui()
        self._apply_theme()

    # --- construction --------------------------------------------------------------
    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 0)
        self.discretize_check = QCheckBox("discretize")
        self.discretize_check.setObjectName("decisionDiscretize")
        self.discretize_check.setToolTip("Hard class colours instead of colour strength = confidence")
        self.discretize_check.toggled.connect(self._redraw)
        bar.addWidget(self.discretize_check)
        self.test_check = QCheckBox("show test data")
        self.test_check.setObjectName("decisionShowTest")
        self.test_check.setChecked(True)
        self.test_check.toggled.connect(self._update_test_visibility)
        bar.addWidget(self.test_check)
        self._class_label = QLabel("add class")
        bar.addWidget(self._class_label)
        self.class_combo = QComboBox()
        self.class_combo.setObjectName("decisionClass")
        self.class_combo.setToolTip("Click the plane to add a training point of this class; "
                                    "Ctrl+click removes the nearest training point")
        bar.addWidget(self.class_combo)
        # always in the bar, enabled while a neuron is shown: clicking a neuron must not
        # change this view's size (the window re-laid out its docks when it appeared)
        self.output_button = QPushButton("back to output")
        self.output_button.setObjectName("decisionShowOutput")
        self.output_button.setToolTip("Show the network's output again (after a neuron was clicked)")
        self.output_button.setEnabled(False)
        self.output_button.clicked.connect(self.show_output)
        bar.addWidget(self.output_button)
        bar.addStretch(1)
        layout.addLayout(bar)

        self.stack = _Pages()
        layout.addWidget(self.stack, 1)
        # page 0: the plane
        self.plane = pg.PlotWidget()
        self._pp: pg.PlotItem = self.plane.getPlotItem()
        self._pp.setLabel("bottom", "x1")
        self._pp.setLabel("left", "x2")
        self._pp.setMenuEnabled(False)
        self._map = pg.ImageItem(axisOrder="row-major")
        self._map.setZValue(0)
        self._pp.addItem(self._map)
        self._train_scatter = pg.ScatterPlotItem(size=7, pxMode=True)
        self._test_scatter = pg.ScatterPlotItem(size=7, pxMode=True, brush=pg.mkBrush(None))
        self._train_scatter.setZValue(10)
        self._test_scatter.setZValue(11)
        self._pp.addItem(self._train_scatter)
        self._pp.addItem(self._test_scatter)
        # a large data set is drawn as a sample: said in the plot's corner, where it is
        # always seen (a label in the bar above would widen the dock or be cut)
        self.sample_note = pg.LabelItem(size="8pt", justify="left")
        self.sample_note.setParentItem(self._pp.vb)
        self.sample_note.anchor(itemPos=(0, 1), parentPos=(0, 1), offset=(4, -2))
        self.sample_note.setZValue(50)
        self.sample_note.setVisible(False)
        self.plane.scene().sigMouseClicked.connect(self._on_click)
        self.stack.addWidget(self.plane)
        # page 1: the confusion matrix
        self.confusion = pg.PlotWidget()
        self._cp: pg.PlotItem = self.confusion.getPlotItem()
        self._cp.setLabel("bottom", "predicted class")
        self._cp.setLabel("left", "true class")
        self._cp.invertY(True)
        self._cp.setMouseEnabled(x=False, y=False)
        self._cp.setMenuEnabled(False)
        self._cp.hideButtons()
        self._conf_image = pg.ImageItem(axisOrder="row-major")
        self._cp.addItem(self._conf_image)
        self.confusion.scene().sigMouseClicked.connect(self._on_confusion_click)
        self.stack.addWidget(self.confusion)
        # page 2: nothing to draw, and why
        self.message = QLabel()
        self.message.setObjectName("decisionMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack.addWidget(self.message)
        # page 3: a first-layer unit's incoming weights as an image (square input counts)
        self.weights = pg.PlotWidget()
        self._wp: pg.PlotItem = self.weights.getPlotItem()
        self._wp.invertY(True)
        self._wp.setAspectLocked(True)
        self._wp.setMouseEnabled(x=False, y=False)
        self._wp.setMenuEnabled(False)
        self._wp.hideButtons()
        for name in ("left", "bottom"):
            self._wp.hideAxis(name)  # pixel rows and columns: no scale to read
        self._weights_image = pg.ImageItem(axisOrder="row-major")
        self._wp.addItem(self._weights_image)
        self.stack.addWidget(self.weights)
        # long titles wrap to the plot's width instead of pushing it past the dock's edge
        self._title_fitters = {id(plot.getPlotItem()): TitleFitter(plot)
                               for plot in (self.plane, self.confusion, self.weights)}
        # the classes' legend: a line under the plane, never over its points
        self.legend_label = palette.legend_line("decisionLegend")
        layout.addWidget(self.legend_label)

    # --- public API ----------------------------------------------------------------
    def set_run(self, info: RunInfo) -> None:
        """Show a run's data; the map or matrix follows with the first snapshot."""
        self._info = info
        self._snap = None
        self._neuron = None
        self.output_button.setEnabled(False)
        classification = info.task == "classification"
        # the network may have more outputs than the data has classes: a colour for each
        n_classes = max(len(info.class_names), info.spec.output_dim, 2) if classification else 0
        self._colours = palette.class_colors(n_classes) if classification else np.zeros((0, 3), np.uint8)
        if not classification and info.train_y is not None and len(info.train_y):
            self._y_scale = palette.max_abs(np.asarray(info.train_y, np.float64))
        keep = self.class_combo.currentIndex()
        self.class_combo.clear()
        for k in range(min(n_classes, MAX_CLASS_CHOICES)):
            pix = QPixmap(12, 12)
            pix.fill(QColor(*(int(v) for v in self._colours[k])))
            self.class_combo.addItem(QIcon(pix), self._class_name(k))
        if n_classes:
            self.class_combo.setCurrentIndex(keep if 0 <= keep < self.class_combo.count() else 0)
        plane = info.extent is not None
        for w in (self.discretize_check, self._class_label, self.class_combo):
            w.setVisible(plane and classification)
        self.test_check.setVisible(plane)
        self.legend_label.setVisible(plane)
        self.sample_note.setVisible(False)
        if plane:
            self.stack.setCurrentIndex(PLANE)
            self._set_points()
            x0, x1, y0, y1 = info.extent
            self._pp.setRange(xRange=finite_range(x0, x1), yRange=finite_range(y0, y1), padding=0)
            names = info.input_names if len(info.input_names) == 2 else ("x1", "x2")
            self._pp.setLabel("bottom", names[0], color=self._theme.css("foreground"))
            self._pp.setLabel("left", names[1], color=self._theme.css("foreground"))
            self._map.clear()
            self._title("Network output over the input plane")
        elif classification:
            self.stack.setCurrentIndex(CONFUSION)
            self._setup_confusion(n_classes)
            self.legend_label.clear()
        else:
            self.legend_label.clear()
            self.stack.setCurrentIndex(MESSAGE)
            self.message.setText(
                f"Regression on {info.spec.input_dim} inputs: there is no input plane or class to "
                "draw here. The loss plot shows how well the network fits."
            )

    def show_snapshot(self, snap: Snapshot) -> None:
        """Draw the output map (2-D) or the confusion matrix from ``snap``."""
        if self._info is None:
            return
        self._snap = snap
        self._redraw()

    def show_neuron(self, layer: int, unit: int) -> None:
        """Show one neuron's output over the plane (layer -1 = an output unit)."""
        info = self._info
        if info is None:
            return
        if info.extent is None and not (layer == 0 and weight_side(info.spec.input_dim)):
            return  # only 2-D inputs have neuron maps; square inputs show first-layer weights
        n_hidden = len(info.spec.hidden)
        if layer == -1:
            units = info.spec.output_dim
        elif 0 <= layer < n_hidden:
            units = info.spec.hidden[layer].units
        else:
            raise ValueError(f"there is no layer {layer} (hidden layers 0..{n_hidden - 1}, output -1)")
        if not 0 <= unit < units:
            raise ValueError(f"layer {layer} has no unit {unit}")
        self._neuron = (layer, unit)
        self.output_button.setEnabled(True)
        if info.extent is None:
            self.stack.setCurrentIndex(WEIGHTS)
        self._redraw()

    def show_output(self) -> None:
        """Back to the network's decision over the plane (or its confusion matrix)."""
        self._neuron = None
        self.output_button.setEnabled(False)
        if self.stack.currentIndex() == WEIGHTS:
            self.stack.setCurrentIndex(CONFUSION if self._info.task == "classification" else MESSAGE)
            self._shown_confusion = None
        self._redraw()

    @property
    def selected_class(self) -> int:
        return max(self.class_combo.currentIndex(), 0)

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme()
        if self._info is not None:
            if self._info.extent is not None:
                self._set_points()
            else:
                self._style_confusion_axes()
        self._redraw()

    def export_image(self, path: str) -> None:
        """PNG (as shown) or SVG (the plane or matrix) by the file name's extension."""
        page = self.stack.currentWidget()
        target = page.scene() if isinstance(page, pg.PlotWidget) else None
        if target is None and path.lower().endswith(".svg"):
            raise ValueError("there is no plot to export as SVG here; use a .png file name")
        palette.export_view(self, target, path)

    def click_at(self, x: float, y: float, remove: bool = False) -> None:
        """What a click on the plane at (x, y) does; Ctrl+click is ``remove=True``."""
        info = self._info
        if info is None or info.extent is None or info.task != "classification":
            return
        if remove:
            idx = self.nearest_training_point(x, y)
            if idx is not None:
                self.pointRemoved.emit(idx)
        else:
            self.pointAdded.emit(float(x), float(y), self.selected_class)

    def nearest_training_point(self, x: float, y: float) -> int | None:
        """Index of the training point nearest (x, y), distances scaled to the plane."""
        info = self._info
        X = info.train_X if info is not None else None
        if X is None or len(X) == 0:
            return None
        (x0, x1), (y0, y1) = (finite_range(*info.extent[:2]), finite_range(*info.extent[2:]))
        # in halves and clipped: features near 1e308 must not overflow to inf or NaN
        with np.errstate(over="ignore", invalid="ignore"):
            dx = (clip_coords(X[:, 0]) / 2 - x / 2) / (x1 / 2 - x0 / 2)
            dy = (clip_coords(X[:, 1]) / 2 - y / 2) / (y1 / 2 - y0 / 2)
            d = np.nan_to_num(np.minimum(dx * dx, 1e300) + np.minimum(dy * dy, 1e300), nan=np.inf)
        return int(np.argmin(d))

    # --- drawing -------------------------------------------------------------------
    def _class_name(self, k: int) -> str:
        names = self._info.class_names if self._info is not None else ()
        return names[k] if k < len(names) else str(k)

    def _title(self, text: str) -> None:
        self._set_title(self._pp, text)

    def _set_title(self, plot: pg.PlotItem, text: str) -> None:
        """A plot's title, set only when it changed (each set re-lays out the plot)."""
        if self._titles.get(id(plot)) == text:
            return
        self._titles[id(plot)] = text
        # the title is HTML: "orange < 0 < blue" would start a tag and cut the rest off
        plot.setTitle(text.replace("<", "&lt;"), color=self._theme.css("foreground"), size="9pt")
        self._title_fitters[id(plot)].fit(plot)

    def _redraw(self, *_args) -> None:
        info, snap = self._info, self._snap
        if info is None or snap is None:
            return
        if info.extent is not None:
            if snap.grid is None:
                return
            self._draw_plane(snap)
        elif self._neuron is not None and self.stack.currentIndex() == WEIGHTS:
            self._draw_weights(snap, *self._neuron)
        elif info.task == "classification" and snap.confusion is not None:
            if not self._draw_confusion(snap.confusion, snap.confusion_classes, snap.confusion_correct):
                return  # the same matrix: nothing to paint
        else:
            return
        self.frame_count += 1

    def _draw_plane(self, snap: Snapshot) -> None:
        grid, info = snap.grid, self._info
        if self._neuron is None:
            rgb = self._output_colours(grid.output)
            self._title(output_title(info.task, info.spec.loss, self.discretize_check.isChecked()))
        else:
            layer, unit = self._neuron
            rgb, title = self._neuron_colours(grid, layer, unit)
            self._title(title)
        self._map.setImage(rgb, autoLevels=False)
        self._map.setRect(_cells_rect(grid.xs, grid.ys))

    def _draw_weights(self, snap: Snapshot, layer: int, unit: int) -> None:
        """A first-layer unit's incoming weights as a side x side image (orange < 0 < blue)."""
        side = weight_side(self._info.spec.input_dim)
        W = unit_weights(snap.params[0], self._info.spec.hidden[0].units)
        w = np.asarray(W[:, unit], np.float64).reshape(side, side)
        shown = shrink_signed(w, MAX_IMAGE_SIDE, MAX_IMAGE_SIDE)
        self._weights_image.setImage(palette.map_diverging(shown, self._div_lut, 0.0, palette.max_abs(shown)),
                                     autoLevels=False)
        self._weights_image.setRect(QRectF(0, 0, side, side))
        self._wp.setRange(xRange=(0, side), yRange=(0, side), padding=0.02)
        self._set_title(self._wp, f"unit {unit} of layer {layer + 1}: incoming weights ({side}x{side}) "
                                  "· orange < 0 < blue")

    def _output_colours(self, out: np.ndarray) -> np.ndarray:
        th = self._theme
        if self._info.task != "classification":
            return palette.map_diverging(out[:, :, 0], self._div_lut, 0.0, self._y_scale)
        out = np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)  # a diverged network: no colour, no garbage
        C = out.shape[2]
        cols = self._colours[:C].astype(np.float32)
        neutral = np.array(th.neutral, np.float32)
        if self.discretize_check.isChecked():
            rgb = neutral + (cols[out.argmax(axis=2)] - neutral) * 0.45
        else:
            mixed = out.astype(np.float32) @ cols
            conf = out.max(axis=2).astype(np.float32)
            a = np.clip((conf - 1.0 / C) / (1.0 - 1.0 / C), 0, 1)[:, :, None] * 0.6
            rgb = neutral * (1 - a) + mixed * a
        rgba = np.empty((*out.shape[:2], 4), np.uint8)
        rgba[:, :, :3] = np.clip(rgb, 0, 255)
        rgba[:, :, 3] = 255
        return rgba

    def _neuron_colours(self, grid, layer: int, unit: int) -> tuple[np.ndarray, str]:
        info = self._info
        if layer == -1:
            out = grid.output
            if info.task != "classification":
                vals = out[:, :, unit]
                return (palette.map_diverging(vals, self._div_lut, 0.0, palette.max_abs(vals)),
                        f"Output {unit}: predicted value over the plane")
            if info.spec.loss == "logistic":
                return (palette.map_diverging(out[:, :, 1], self._div_lut, 0.5, 0.5),
                        f"Output: probability of class {self._class_name(1)}")
            lut = palette.intensity_lut(self._theme, tuple(int(v) for v in self._colours[unit]))
            what = "score (SVM loss, shown via softmax)" if info.spec.loss == "svm" else "probability"
            return (palette.map_sequential(out[:, :, unit], lut, 0.0, 1.0),
                    f"Output {unit}: {what} of class {self._class_name(unit)}")
        vals = grid.neurons[layer][:, :, unit]
        act = info.spec.hidden[layer].activation
        residual = info.spec.residual_layers()[layer]
        centre, scale = _BOUNDED[act] if act in _BOUNDED and not residual else (0.0, palette.max_abs(vals))
        title = f"Hidden {layer + 1} · unit {unit} ({act}): its output (blue > {centre:g} > orange)"
        return palette.map_diverging(vals, self._div_lut, centre, scale), title

    def _set_points(self) -> None:
        """The data on the plane: at most MAX_POINTS of it (a seeded sample, the same
        for every redraw of a run), coordinates clipped to what a view can hold."""
        info, th = self._info, self._theme
        outline = pg.mkPen(th.q("point_outline"), width=1)
        n_train = 0 if info.train_X is None else len(info.train_X)
        n_test = 0 if info.test_X is None else len(info.test_X)
        total = n_train + n_test
        pick = subsample(total, MAX_POINTS)
        train_idx = None if pick is None else pick[pick < n_train]
        test_idx = None if pick is None else pick[pick >= n_train] - n_train
        if n_train and (train_idx is None or len(train_idx)):
            X, y = _take(info.train_X, train_idx), _take(info.train_y, train_idx)
            self._train_scatter.setData(pos=clip_coords(X[:, :2]), brush=self._point_brushes(y), pen=outline)
        else:
            self._train_scatter.clear()
        if n_test and (test_idx is None or len(test_idx)):
            X, y = _take(info.test_X, test_idx), _take(info.test_y, test_idx)
            pens = self._point_pens(self._point_brushes(y))
            self._test_scatter.setData(pos=clip_coords(X[:, :2]), pen=pens, brush=pg.mkBrush(None))
        else:
            self._test_scatter.clear()
        self._update_test_visibility()
        if pick is not None:
            self.sample_note.setText(f"showing {MAX_POINTS:,} of {total:,} points (a fixed random sample)",
                                     color=th.css("foreground"))
        self.sample_note.setVisible(pick is not None)
        self.legend_label.setText(self._legend_html())

    def _legend_html(self) -> str:
        """The classes and the test marker as one line under the plane (off the data)."""
        info, th = self._info, self._theme
        parts = []
        if info.task == "classification":
            n = len(self._colours)
            for k in range(min(n, MAX_LEGEND_CLASSES)):
                c = "#{:02x}{:02x}{:02x}".format(*(int(v) for v in self._colours[k]))
                parts.append(f"<span style='color:{c}'>&#9679;</span>&nbsp;class {self._class_name(k)}")
            if n > MAX_LEGEND_CLASSES:
                parts.append(f"and {n - MAX_LEGEND_CLASSES:,} more classes")
        if info.test_X is not None and len(info.test_X):
            parts.append("&#9675;&nbsp;test (hollow)")
        if info.task == "classification":  # how to edit the data, where it cannot clip the bar
            parts.append("· click: add a point, Ctrl+click: remove the nearest")
        return f"<span style='color:{th.css('foreground')}'>" + " &nbsp; ".join(parts) + "</span>"

    @staticmethod
    def _point_pens(brushes: list) -> list:
        """A 2-px pen per point in its brush's colour, one pen object per colour."""
        table: dict[int, object] = {}
        out = []
        for b in brushes:
            pen = table.get(id(b))
            if pen is None:
                pen = table[id(b)] = pg.mkPen(b.color(), width=2)
            out.append(pen)
        return out

    def _point_brushes(self, y: np.ndarray | None) -> list:
        if y is None:
            return []
        if self._info.task == "classification":
            table = [pg.mkBrush(*(int(v) for v in c)) for c in self._colours]
            idx = np.clip(np.asarray(y, np.int64).ravel(), 0, len(table) - 1)
            return [table[i] for i in idx]
        vals = np.asarray(y, np.float64).reshape(len(y), -1)[:, 0]
        rgba = palette.map_diverging(vals, self._div_lut, 0.0, self._y_scale)
        table: dict[tuple, object] = {}
        out = []
        for c in map(tuple, rgba):
            if c not in table:
                table[c] = pg.mkBrush(*c)
            out.append(table[c])
        return out

    def _update_test_visibility(self, *_args) -> None:
        self._test_scatter.setVisible(self.test_check.isChecked())

    def _apply_theme(self) -> None:
        th = self._theme
        self._titles = {}  # re-set in the theme's colour
        self._shown_confusion = None
        self._div_lut = palette.diverging_lut(th)
        for w in (self.plane, self.confusion, self.weights):
            w.setBackground(th.q("background"))
        for p in (self._pp, self._cp, self._wp):
            palette.style_plot(p, th)
        if self._info is not None and self._info.extent is not None:
            self.legend_label.setText(self._legend_html())

    # --- mouse ---------------------------------------------------------------------
    def _on_click(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        vb = self._pp.vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        self.click_at(p.x(), p.y(), remove=ctrl)


def _take(a: np.ndarray | None, idx: np.ndarray | None) -> np.ndarray | None:
    """``a`` itself, or its rows ``idx``."""
    if a is None or idx is None:
        return a
    return a[idx]


def _cells_rect(xs: np.ndarray, ys: np.ndarray) -> QRectF:
    """The rectangle the grid's cells cover (a cell centred on each grid point), computed
    in halves and clipped so that a plane near the float64 limit stays finite."""
    def side(v: np.ndarray) -> tuple[float, float]:
        lo, hi = finite_range(float(v[0]), float(v[-1])) if len(v) else (0.0, 1.0)
        half_cell = (hi / 2 - lo / 2) / max(len(v) - 1, 1)
        return finite_range(lo - half_cell, hi + half_cell)

    (x0, x1), (y0, y1) = side(np.asarray(xs, np.float64)), side(np.asarray(ys, np.float64))
    return QRectF(x0, y0, x1 - x0, y1 - y0)  # ends within +-MAX_COORD: no overflow


def weight_side(n_inputs: int) -> int:
    """The side of the image a first-layer unit's weights make: sqrt(inputs) when that is a
    whole number above 2 (8 for 64 digit pixels), else 0 (no image)."""
    side = math.isqrt(max(int(n_inputs), 0))
    return side if side > 2 and side * side == n_inputs else 0


def output_title(task: str, loss: str, discretized: bool) -> str:
    """What the plane's colours mean, by task, loss and the discretize switch: the SVM's
    outputs are scores, not probabilities; discretized colours are just the predicted class."""
    if task != "classification":
        return "Output: predicted value (orange < 0 < blue)"
    if discretized:
        return "Output: predicted class" + (" (SVM loss)" if loss == "svm" else "")
    what = OUTPUT_WHAT.get(loss, "class probabilities (stronger colour = more confident)")
    return f"Output: {what}"
