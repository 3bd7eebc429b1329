"""Per-layer distributions and their evolution, plus gradient norms per layer over time.

The core fixes each histogram's bins for a run, so successive snapshots are columns of
one image (time x bins). Each (layer, quantity) keeps a preallocated ring buffer of
:data:`HISTORY_COLUMNS` columns; the image, the current histogram and the gradient-norm
curves are existing items updated in place.
"""

from __future__ import annotations

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from nnviz.core.trainer import Snapshot
from nnviz.gui.runinfo import RunInfo
from nnviz.gui.views import palette
from nnviz.gui.views.loss_plot import GrowingBuffer

#: snapshots kept in the evolution image (older ones scroll out)
HISTORY_COLUMNS = 400
#: (key in LayerSnapshot.histograms, what the combo says, the x-axis title)
QUANTITIES = (
    ("act", "activations", "activation value"),
    ("pre", "pre-activations", "pre-activation value (z)"),
    ("grad", "gradients", "weight gradient"),
    ("weight", "weights", "weight value"),
)
#: the first layer's gradient this many times smaller than the last's counts as vanishing
VANISHING_RATIO = 1e-2


class _Ring:
    """The last ``HISTORY_COLUMNS`` histograms of one layer and quantity."""

    def __init__(self, bins: int):
        self.counts = np.zeros((HISTORY_COLUMNS, bins), np.float32)
        self.steps = np.zeros(HISTORY_COLUMNS, np.int64)
        self.edges: np.ndarray | None = None
        self.n = 0  # columns ever written

    def push(self, step: int, edges: np.ndarray, counts: np.ndarray) -> None:
        if self.edges is None or self.edges.shape != edges.shape or not np.array_equal(self.edges, edges):
            if counts.size != self.counts.shape[1]:
                self.counts = np.zeros((HISTORY_COLUMNS, counts.size), np.float32)
            self.n = 0  # new bins: earlier columns are not comparable
            self.edges = edges
        total = float(counts.sum())
        k = self.n % HISTORY_COLUMNS
        self.counts[k] = counts / total if total > 0 else 0.0
        self.steps[k] = step
        self.n += 1

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        """(columns, bins) oldest first, and their steps."""
        if self.n <= HISTORY_COLUMNS:
            return self.counts[: self.n], self.steps[: self.n]
        k = self.n % HISTORY_COLUMNS
        order = np.r_[k:HISTORY_COLUMNS, 0:k]
        return self.counts[order], self.steps[order]


class HistogramPanel(QWidget):
    """Pick a layer and a quantity; see it now, over time, and every layer's gradient norm."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("histogramPanel")
        self.frame_count = 0
        self._theme = palette.theme(False)
        self._info: RunInfo | None = None
        self._snap: Snapshot | None = None
        self._rings: dict[tuple[int, str], _Ring] = {}
        self._norm_steps = GrowingBuffer(256)
        self._norms: list[GrowingBuffer] = []
        self._norm_curves: list[pg.PlotDataItem] = []
        self._texts: dict[tuple[int, str], str] = {}
        self._build_ui()
        self._apply_theme()

    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 0)
        bar.addWidget(QLabel("Layer"))
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("histLayer")
        self.layer_combo.currentIndexChanged.connect(self._selection_changed)
        bar.addWidget(self.layer_combo)
        bar.addWidget(QLabel("Show"))
        self.quantity_combo = QComboBox()
        self.quantity_combo.setObjectName("histQuantity")
        for _, label, _ in QUANTITIES:
            self.quantity_combo.addItem(label)
        self.quantity_combo.currentIndexChanged.connect(self._selection_changed)
        bar.addWidget(self.quantity_combo)
        bar.addStretch(1)
        layout.addLayout(bar)

        self.graphics = pg.GraphicsLayoutWidget()
        layout.addWidget(self.graphics, 1)
        g = self.graphics
        self._hist_plot: pg.PlotItem = g.addPlot(row=0, col=0)
        self._hist_plot.setLabel("left", "count")
        self._hist_plot.setMouseEnabled(x=False, y=False)
        self._hist_curve = self._hist_plot.plot(np.array([0.0, 1.0]), np.array([0.0]), stepMode="center",
                                                fillLevel=0)
        self._evo_plot: pg.PlotItem = g.addPlot(row=0, col=1)
        self._evo_plot.setLabel("bottom", "training step (one column per snapshot)")
        self._evo_plot.setMouseEnabled(x=False, y=False)
        self._evo_image = pg.ImageItem(axisOrder="row-major")
        self._evo_plot.addItem(self._evo_image)
        self._norm_plot: pg.PlotItem = g.addPlot(row=1, col=0, colspan=2)
        self._norm_plot.setLabel("left", "gradient norm ||dW||")
        self._norm_plot.setLabel("bottom", "training step")
        self._norm_plot.setLogMode(x=False, y=True)
        self._norm_plot.setTitle("Gradient norm per layer (log): far apart = vanishing/exploding",
                                 size="9pt")
        for plot in (self._hist_plot, self._evo_plot, self._norm_plot):
            _no_min_width(plot)
        self._norm_legend = self._norm_plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        g.ci.layout.setRowStretchFactor(0, 3)
        g.ci.layout.setRowStretchFactor(1, 2)

        self.stats_label = QLabel()
        self.stats_label.setObjectName("histStats")
        self.stats_label.setTextFormat(Qt.TextFormat.RichText)
        self.stats_label.setContentsMargins(6, 0, 6, 4)
        layout.addWidget(self.stats_label)

    # --- public API ----------------------------------------------------------------
    def set_run(self, info: RunInfo) -> None:
        """Forget the previous run's history and list this network's layers."""
        self._info = info
        self._snap = None
        self._rings = {}
        n_layers = len(info.spec.hidden) + 1
        self.layer_combo.blockSignals(True)
        previous = self.layer_combo.currentIndex()
        self.layer_combo.clear()
        for i, h in enumerate(info.spec.hidden):
            self.layer_combo.addItem(f"hidden {i + 1} ({h.units} {h.activation})")
        self.layer_combo.addItem(f"output ({info.spec.output_dim})")
        self.layer_combo.setCurrentIndex(previous if 0 <= previous < n_layers else 0)
        self.layer_combo.blockSignals(False)
        self._norm_steps = GrowingBuffer(256)
        self._norms = [GrowingBuffer(256) for _ in range(n_layers)]
        for c in self._norm_curves:
            self._norm_legend.removeItem(c)
            self._norm_plot.removeItem(c)
        self._norm_curves = []
        colours = self._layer_colours(n_layers)
        self._norm_legend.setColumnCount(1 if n_layers <= 3 else -(-n_layers // 2))
        for i in range(n_layers):
            name = f"hidden {i + 1}" if i < n_layers - 1 else "output"
            c = self._norm_plot.plot(name=name, pen=pg.mkPen(colours[i], width=2))
            self._norm_curves.append(c)
        self._hist_curve.setData(np.array([0.0, 1.0]), np.array([0.0]))
        self._evo_image.clear()
        self.stats_label.setText("")

    def show_snapshot(self, snap: Snapshot) -> None:
        """Record every layer's histograms and norms, then draw the selected one."""
        if self._info is None:
            return
        self._snap = snap
        for lay in snap.layers:
            for key, h in lay.histograms.items():
                ring = self._rings.get((lay.index, key))
                if ring is None:
                    ring = self._rings[(lay.index, key)] = _Ring(h.counts.size)
                ring.push(snap.step, h.edges, h.counts)
        self._norm_steps.extend([float(snap.step)])
        for buf, lay in zip(self._norms, snap.layers, strict=False):
            g = lay.grad_norm
            buf.extend([g if g > 0 else np.nan])  # log axis: a zero norm is a gap
        self._draw()

    @property
    def layer(self) -> int:
        return max(self.layer_combo.currentIndex(), 0)

    @property
    def quantity(self) -> str:
        return QUANTITIES[max(self.quantity_combo.currentIndex(), 0)][0]

    def set_selection(self, layer: int, quantity: str) -> None:
        """Choose the layer (0 = first hidden, -1 = output) and quantity ('act', 'grad', ...)."""
        keys = [q[0] for q in QUANTITIES]
        if quantity not in keys:
            raise ValueError(f"unknown quantity {quantity!r}; choose from {', '.join(keys)}")
        n = self.layer_combo.count()
        if n and not -n <= layer < n:
            raise ValueError(f"there is no layer {layer}")
        self.layer_combo.setCurrentIndex(layer % n if n else 0)
        self.quantity_combo.setCurrentIndex(keys.index(quantity))

    def history_length(self, layer: int, quantity: str) -> int:
        """Columns recorded so far for one layer and quantity (at most HISTORY_COLUMNS)."""
        ring = self._rings.get((layer, quantity))
        return 0 if ring is None else min(ring.n, HISTORY_COLUMNS)

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme()
        if self._snap is not None:
            self._draw()

    def export_image(self, path: str) -> None:
        """PNG (the panel as shown) or SVG (its three plots) by the file name's extension."""
        palette.export_view(self, self.graphics.scene(), path)

    # --- drawing -------------------------------------------------------------------
    def _selection_changed(self, _index: int = 0) -> None:
        if self._snap is not None:
            self._draw()

    def _draw(self) -> None:
        snap = self._snap
        li = min(self.layer, len(snap.layers) - 1)
        lay = snap.layers[li]
        key = self.quantity
        _, label, xtitle = next(q for q in QUANTITIES if q[0] == key)
        h = lay.histograms[key]
        self._hist_curve.setData(h.edges, h.counts)
        clipped = f", {100 * h.clipped:.1f}% off the ends" if h.clipped > 0 else ""
        self._text(self._hist_plot, "title", f"{lay.name}: {label}, step {snap.step}{clipped}")
        self._text(self._hist_plot, "bottom", xtitle)
        ring = self._rings[(lay.index, key)]
        cols, steps = ring.ordered()
        if len(cols):
            peak = float(cols.max()) or 1.0
            # sqrt so thin tails stay visible next to a tall peak (e.g. dead ReLUs at 0)
            img = palette.map_sequential(np.sqrt(cols.T / peak), self._seq_lut, 0.0, 1.0)
            self._evo_image.setImage(img, autoLevels=False)
            e0, e1 = float(ring.edges[0]), float(ring.edges[-1])
            self._evo_image.setRect(QRectF(0, e0, len(cols), e1 - e0))
            self._evo_plot.setXRange(0, max(len(cols), 1), padding=0)
            self._evo_plot.setYRange(e0, e1, padding=0)
            ticks = np.unique(np.linspace(0, len(cols) - 1, min(len(cols), 5)).astype(int))
            self._evo_plot.getAxis("bottom").setTicks([[(i + 0.5, str(int(steps[i]))) for i in ticks]])
        self._text(self._evo_plot, "title", f"{label} over training (brighter = more)")
        self._text(self._evo_plot, "left", xtitle)
        x = self._norm_steps.view
        for c, buf in zip(self._norm_curves, self._norms, strict=True):
            c.setData(x, buf.view, connect="finite")
        self.stats_label.setText(self._stats_html(snap))
        self.frame_count += 1

    def _text(self, plot: pg.PlotItem, where: str, text: str) -> None:
        """Set a title or axis label only when it changed: each set re-lays out the plot."""
        key = (id(plot), where)
        if self._texts.get(key) == text:
            return
        self._texts[key] = text
        colour = self._theme.css("foreground")
        if where == "title":
            plot.setTitle(text, color=colour, size="9pt")
        else:
            plot.setLabel(where, text, color=colour)

    def _stats_html(self, snap: Snapshot) -> str:
        th = self._theme
        head = "".join(f"<th align='right'>&nbsp;{t}&nbsp;</th>" for t in
                       ("layer", "dead", "saturated", "||dW||", "||W||", "update/weight"))
        rows = []
        for lay in snap.layers:
            def pct(v: float | None, colour: str) -> str:
                if v is None:
                    return "–"
                text = f"{100 * v:.0f}%"
                return f"<span style='color:{colour}'><b>{text}</b></span>" if v >= 0.5 else text

            ratio = "–" if lay.update_ratio is None else f"{lay.update_ratio:.1e}"
            cells = (f"{lay.name} ({lay.activation})", pct(lay.dead_fraction, th.css("dead")),
                     pct(lay.saturated_fraction, th.css("saturated")), f"{lay.grad_norm:.2e}",
                     f"{lay.weight_norm:.3g}", ratio)
            rows.append("<tr>" + "".join(f"<td align='right'>&nbsp;{c}&nbsp;</td>" for c in cells) + "</tr>")
        hint = ""
        if len(snap.layers) > 2:
            first, last = snap.layers[0].grad_norm, snap.layers[-1].grad_norm
            if last > 0 and first < VANISHING_RATIO * last:
                hint = (f"<br><span style='color:{th.css('dead')}'>Vanishing gradients: the first "
                        f"layer's gradient is {first / last:.1e} of the output layer's.</span>")
        # plain text colour: the label sits on the window's palette, not the plot's theme
        return f"<table cellspacing='0'><tr>{head}</tr>{''.join(rows)}</table>{hint}"

    def _layer_colours(self, n: int) -> list[tuple[int, int, int]]:
        """Depth as colour (viridis: first layer purple, output yellow-green), avoiding the
        end of the map that vanishes into the theme's background."""
        if n <= 0:
            return []
        lut = self._seq_lut
        lo, hi = (70, 255) if self._theme.dark else (0, 200)
        idx = np.linspace(lo, hi, n).astype(int)
        return [tuple(int(v) for v in lut[i, :3]) for i in idx]

    def _apply_theme(self) -> None:
        th = self._theme
        self._texts = {}  # titles and labels are re-set in the theme's colour
        self._seq_lut = palette.sequential_lut(th)
        self.graphics.setBackground(th.q("background"))
        for p in (self._hist_plot, self._evo_plot, self._norm_plot):
            palette.style_plot(p, th)
        self._hist_curve.setPen(pg.mkPen(th.train, width=1.5))
        self._hist_curve.setBrush(pg.mkBrush((*th.train, 90)))
        palette.style_legend(self._norm_legend, th)
        colours = self._layer_colours(len(self._norm_curves))
        for c, colour in zip(self._norm_curves, colours, strict=True):
            c.setPen(pg.mkPen(colour, width=2))


def _no_min_width(plot: pg.PlotItem) -> None:
    """A title sets its plot's minimum width to the text's width (LabelItem.updateMin, on
    every text change); in a narrow dock that pushes the plots past the view's edge. Keep
    the height rule and let a long title be cut instead."""
    label = plot.titleLabel

    def update_min() -> None:
        label.setMinimumWidth(0)
        label.setMinimumHeight(label.item.mapRectToParent(label.item.boundingRect()).height())

    label.updateMin = update_min
    update_min()
