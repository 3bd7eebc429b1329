"""Per-layer distributions and their evolution, plus gradient norms per layer over time.

The core fixes each histogram's bins for a run, so successive snapshots are columns of
one image (time x bins). Each (layer, quantity) keeps a preallocated ring buffer of
:data:`HISTORY_COLUMNS` columns; the image, the current histogram and the gradient-norm
curves are existing items updated in place.
"""

from __future__ import annotations

import math

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.runinfo import RunInfo
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.bounded import clip_coords, finite_range, padded_range
from nnviz.gui.views.loss_plot import GrowingBuffer, TidyAxis
from nnviz.gui.views.plot_title import TitleFitter
from nnviz.gui.views.ranges import GROWTH, StickyViewBox, zero_based_range
from nnviz.gui.views.stats_table import Cell, StatsTable

#: snapshots the evolution image shows at least, once there are so many (older ones scroll out)
HISTORY_COLUMNS = 400
#: the evolution image scrolls this many columns at a time
SCROLL_COLUMNS = 50
#: the evolution plot's narrowest x range (columns); it grows by a quarter as the history fills
MIN_COLUMNS = 32
#: (key in LayerSnapshot.histograms, what the combo says, the x-axis title)
QUANTITIES = (
    ("act", "activations", "activation value"),
    ("pre", "pre-activations", "pre-activation value (z)"),
    ("grad", "gradients", "weight gradient"),
    ("weight", "weights", "weight value"),
)
#: pixels per step label under the evolution image
LABEL_PX = 70
#: the columns of the table under the plots
STATS_HEADER = ("layer", "dead (at start+since)", "saturated", "||dW||", "||W||", "update/weight")
#: the first layer's gradient this many times smaller than the last's counts as vanishing
VANISHING_RATIO = 1e-2
#: on the log axis an exactly zero gradient norm is drawn this factor below the smallest
#: non-zero norm seen (there is no log of zero), and said in the plot's title
ZERO_FLOOR = 0.1
#: the stats table shows this many lines (header, layers, note) before it scrolls
MAX_TABLE_LINES = 6
NORM_TITLE = "Gradient norm per layer (log): far apart = vanishing/exploding"


class _Ring:
    """The latest histograms of one layer and quantity, and which of them are shown.

    The evolution image scrolls in steps of :data:`SCROLL_COLUMNS`, not one column per
    snapshot: its x axis (and the step labels under it) then changes a few times per
    hundred snapshots instead of on every frame. At least :data:`HISTORY_COLUMNS` of the
    newest columns are shown once that many exist, at most ``CAPACITY``.
    """

    CAPACITY = HISTORY_COLUMNS + SCROLL_COLUMNS

    def __init__(self, bins: int):
        self.counts = np.zeros((self.CAPACITY, bins), np.float32)
        # Python ints: a step counter from a file may reach 2**63 - 1 and go on counting
        self.steps = np.zeros(self.CAPACITY, object)
        self.edges: np.ndarray | None = None
        self.n = 0  # columns ever written; column a lives in slot a % CAPACITY

    def push(self, step: int, edges: np.ndarray, counts: np.ndarray) -> None:
        if self.edges is None or self.edges.shape != edges.shape or not np.array_equal(self.edges, edges):
            if counts.size != self.counts.shape[1] or self.edges is None or not self._rebin(edges):
                self.counts = np.zeros((self.CAPACITY, counts.size), np.float32)
                self.n = 0  # new bins of another kind: earlier columns are not comparable
            self.edges = edges
        total = float(counts.sum())
        k = self.n % self.CAPACITY
        self.counts[k] = counts / total if total > 0 else 0.0
        self.steps[k] = step
        self.n += 1

    def _rebin(self, edges: np.ndarray) -> bool:
        """Move the kept columns onto new (uniform) bins, spreading each old bin's share
        evenly over its width: the core re-bins values that outgrew their bins, and the
        evolution image keeps its history. False when the old or new edges are not finite."""
        old = self.edges
        lo, hi, new_lo, new_hi = (float(old[0]), float(old[-1]), float(edges[0]), float(edges[-1]))
        if not all(np.isfinite([lo, hi, new_lo, new_hi])) or hi <= lo:
            return False
        bins = self.counts.shape[1]
        cdf = np.zeros((self.CAPACITY, bins + 1), np.float64)
        np.cumsum(self.counts, axis=1, out=cdf[:, 1:])
        t = np.clip((np.asarray(edges, np.float64) - lo) / (hi - lo) * bins, 0, bins)
        k = np.minimum(t.astype(np.int64), bins - 1)
        f = t - k
        at = cdf[:, k] + f * (cdf[:, k + 1] - cdf[:, k])
        self.counts[:] = np.diff(at, axis=1)
        return True

    @property
    def start(self) -> int:
        """The first column shown (columns are numbered from the run's first snapshot)."""
        over = self.n - self.CAPACITY
        return 0 if over <= 0 else -(-over // SCROLL_COLUMNS) * SCROLL_COLUMNS

    @property
    def shown(self) -> int:
        return self.n - self.start

    def x_range(self) -> tuple[int, int]:
        """The evolution plot's x range: growing by a quarter while the history fills, then a window
        of ``CAPACITY`` columns that moves on by ``SCROLL_COLUMNS`` at a time."""
        if self.n > self.CAPACITY:
            return self.start, self.start + self.CAPACITY
        width = MIN_COLUMNS
        while width < self.n:
            width = math.ceil(width * GROWTH)
        return 0, min(width, self.CAPACITY)

    def step_at(self, column: int) -> int:
        return int(self.steps[column % self.CAPACITY])

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        """The shown (columns, bins), oldest first, and their steps."""
        if self.n <= self.CAPACITY:
            return self.counts[: self.n], self.steps[: self.n]
        order = np.arange(self.start, self.n) % self.CAPACITY
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
        self._zero_norm: list[bool] = []
        self._min_norm = math.inf
        self._norm_curves: list[pg.PlotDataItem] = []
        self._texts: dict[tuple[int, str], str] = {}
        self._ranges: dict[str, tuple] = {}  # what each fixed range/tick list was last set to
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
        # sized to its items whenever they change (a new network's names are longer or shorter)
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
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
        # the panel sets the ranges of the histogram and evolution plots itself, and only
        # when they change: an axis whose range stays put is not regenerated
        self._hist_plot: pg.PlotItem = g.addPlot(row=0, col=0, axisItems={"left": TidyAxis("left")})
        self._hist_plot.setLabel("left", "count")
        self._hist_plot.setMouseEnabled(x=False, y=False)
        self._hist_curve = self._hist_plot.plot(np.array([0.0, 1.0]), np.array([0.0]), stepMode="center",
                                                fillLevel=0)
        self._evo_plot: pg.PlotItem = g.addPlot(row=0, col=1, axisItems={"left": TidyAxis("left")})
        self._evo_plot.setLabel("bottom", "training step")
        self._evo_plot.setMouseEnabled(x=False, y=False)
        self._evo_image = pg.ImageItem(axisOrder="row-major")
        self._evo_plot.addItem(self._evo_image)
        for plot in (self._hist_plot, self._evo_plot):
            plot.disableAutoRange()
            plot.hideButtons()
            plot.setMenuEnabled(False)
        # x grows in steps, y (log) holds while the norms stay inside it
        self._norm_plot: pg.PlotItem = g.addPlot(row=1, col=0, colspan=2,
                                                 viewBox=StickyViewBox(policy=("grow", "hold")),
                                                 axisItems={"left": TidyAxis("left")})
        self._norm_plot.setLabel("left", "||dW||")
        self._norm_plot.setLabel("bottom", "training step")
        self._norm_plot.setLogMode(x=False, y=True)
        self._norm_plot.setTitle(NORM_TITLE, size="9pt")
        for plot in (self._hist_plot, self._evo_plot, self._norm_plot):
            _no_min_width(plot)
            palette.clip_title(plot)
        # titles wrap to their plot's share of the width (two side by side, one below)
        # instead of being cut at both ends in a narrow dock
        top_row = TitleFitter(g, [self._hist_plot, self._evo_plot], columns=2)
        self._title_fitters = {id(self._hist_plot): top_row, id(self._evo_plot): top_row,
                               id(self._norm_plot): TitleFitter(g, [self._norm_plot])}
        g.ci.layout.setRowStretchFactor(0, 3)
        g.ci.layout.setRowStretchFactor(1, 2)
        # the norms' legend sits under the plots, never on the newest data; every curve has an entry
        self.norm_legend = palette.legend_line("histNormLegend", (6, 0, 6, 0))
        layout.addWidget(self.norm_legend)
        self._norm_names: list[str] = []

        self.stats_label = StatsTable()
        self.stats_label.setObjectName("histStats")
        # a deep network's table would squeeze the plots: at most MAX_TABLE_LINES shown, scrolled
        self.stats_scroll = QScrollArea()
        self.stats_scroll.setObjectName("histStatsScroll")
        self.stats_scroll.setWidget(self.stats_label)
        self.stats_scroll.setWidgetResizable(True)
        self.stats_scroll.setFrameShape(QFrame.Shape.NoFrame)
        # on a narrow dock the table scrolls sideways rather than lose its right columns
        self.stats_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        layout.addWidget(self.stats_scroll)
        self._table_height = -1

    # --- public API ----------------------------------------------------------------
    def set_run(self, info: RunInfo) -> None:
        """Forget the previous run's history and list this network's layers."""
        self._info = info
        self._snap = None
        self._rings = {}
        self._ranges = {}
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
        self._zero_norm = [False] * n_layers  # per layer: a zero norm was seen
        self._min_norm = math.inf  # the smallest non-zero norm seen
        for c in self._norm_curves:
            self._norm_plot.removeItem(c)
        self._norm_curves = []
        colours = self._layer_colours(n_layers)
        self._norm_names = [f"hidden {i + 1}" if i < n_layers - 1 else "output" for i in range(n_layers)]
        for i in range(n_layers):
            c = self._norm_plot.plot(pen=pg.mkPen(colours[i], width=2))
            self._norm_curves.append(c)
        self._update_norm_legend()
        self._hist_curve.setData(np.array([0.0, 1.0]), np.array([0.0]))
        self._evo_image.clear()
        self.stats_label.clear()

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
        self._norm_steps.extend([_as_float(snap.step)])
        for buf, lay in zip(self._norms, snap.layers, strict=False):
            g = lay.grad_norm
            buf.extend([g])  # zeros are drawn at a floor (_draw_norms)
            if g > 0:
                self._min_norm = min(self._min_norm, g)
        self._zero_norm = [z or (len(b) > 0 and b.view[-1] == 0) for z, b in zip(self._zero_norm, self._norms,
                                                                                   strict=True)]
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
        """Columns the evolution image shows for one layer and quantity (all of them up to
        HISTORY_COLUMNS; then between HISTORY_COLUMNS and HISTORY_COLUMNS + SCROLL_COLUMNS)."""
        ring = self._rings.get((layer, quantity))
        return 0 if ring is None else ring.shown

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
        self._hist_curve.setData(clip_coords(h.edges), h.counts)
        e0, e1 = _as_float(h.edges[0]), _as_float(h.edges[-1])
        self._set_range(self._hist_plot, "hist x", padded_range(e0, e1, 0.02))
        kept = self._ranges.get("hist y")
        self._set_range(self._hist_plot, "hist y", zero_based_range(kept, float(h.counts.max(initial=0))))
        clipped = f" · {100 * h.clipped:.0f}% off the ends" if h.clipped > 0 else ""
        self._text(self._hist_plot, "title", f"{lay.name} {label}, step {snap.step:,}{clipped}")
        self._text(self._hist_plot, "bottom", xtitle)
        self._draw_evolution(self._rings[(lay.index, key)])
        self._text(self._evo_plot, "title", "over training (brighter = more)")
        self._text(self._evo_plot, "left", xtitle)
        self._draw_norms()
        self._show_stats(snap)
        self.frame_count += 1

    def _draw_norms(self) -> None:
        """Every layer's gradient norm; an exactly zero norm (every unit dead, no signal)
        is drawn at a floor below the smallest non-zero one instead of leaving a gap."""
        x = self._norm_steps.view
        floor = ZERO_FLOOR * self._min_norm if math.isfinite(self._min_norm) else 1e-8
        for c, buf, zero in zip(self._norm_curves, self._norms, self._zero_norm, strict=True):
            y = np.where(buf.view == 0, floor, buf.view) if zero else buf.view
            c.setData(x, y, connect="finite")
        zeros_now = any(len(b) and b.view[-1] == 0 for b in self._norms)
        title = NORM_TITLE if not zeros_now else (
            f"Gradient norm per layer (log) · zero drawn at {floor:.0e}: no signal reaches the weights")
        self._text(self._norm_plot, "title", title)

    def _update_norm_legend(self) -> None:
        colours = self._layer_colours(len(self._norm_names))
        entries = [(n, c, False) for n, c in zip(self._norm_names, colours, strict=True)]
        self.norm_legend.setText(palette.legend_html(entries, self._theme.css("muted")))

    def _draw_evolution(self, ring: _Ring) -> None:
        cols, _ = ring.ordered()
        if not len(cols):
            return
        peak = float(cols.max()) or 1.0
        # sqrt so thin tails stay visible next to a tall peak (e.g. dead ReLUs at 0)
        img = palette.map_sequential(np.sqrt(cols.T / peak), self._seq_lut, 0.0, 1.0)
        self._evo_image.setImage(img, autoLevels=False)
        e0, e1 = finite_range(_as_float(ring.edges[0]), _as_float(ring.edges[-1]))
        self._evo_image.setRect(QRectF(ring.start, e0, len(cols), e1 - e0))
        x0, x1 = ring.x_range()
        self._set_range(self._evo_plot, "evo x", (x0, x1))
        self._set_range(self._evo_plot, "evo y", (e0, e1))
        # as many labels as fit ("123,456" is ~45 px wide, plus a gap) in the plot's width
        spacing = _tick_spacing(x1 - x0, max(int(self._evo_plot.vb.width() // LABEL_PX), 2))
        first = -(-ring.start // spacing) * spacing
        ticks = [(c + 0.5, f"{ring.step_at(c):,}") for c in range(first, ring.n, spacing)]
        if self._ranges.get("evo ticks") != ticks:
            self._ranges["evo ticks"] = ticks
            self._evo_plot.getAxis("bottom").setTicks([ticks])

    def _set_range(self, plot: pg.PlotItem, key: str, rng: tuple[float, float], padding: float = 0.0) -> None:
        """Set one axis range of a plot, only when it changed (each change regenerates the axis)."""
        if self._ranges.get(key) == rng:
            return
        self._ranges[key] = rng
        if key.endswith("x"):
            plot.setXRange(*rng, padding=padding)
        else:
            plot.setYRange(*rng, padding=padding)

    def _text(self, plot: pg.PlotItem, where: str, text: str) -> None:
        """Set a title or axis label only when it changed: each set re-lays out the plot."""
        key = (id(plot), where)
        if self._texts.get(key) == text:
            return
        self._texts[key] = text
        colour = self._theme.css("foreground")
        if where == "title":
            plot.setTitle(text, color=colour, size="9pt")
            self._title_fitters[id(plot)].fit(plot)
        else:
            plot.setLabel(where, text, color=colour)

    def _show_stats(self, snap: Snapshot) -> None:
        """Dead and saturated shares, norms and update ratio per layer, and a vanishing-
        gradient note (the table repaints only the cells' widget, never the plots)."""
        th = self._theme

        def pct(v: float | None, colour: tuple[int, int, int]) -> Cell:
            if v is None:
                return Cell("–")
            return Cell(f"{100 * v:.0f}%", colour, True) if v >= 0.5 else Cell(f"{100 * v:.0f}%")

        rows = []
        for lay in snap.layers:
            ratio = "–" if lay.update_ratio is None else f"{lay.update_ratio:.1e}"
            rows.append((Cell(f"{lay.name} ({lay.activation})"), _dead_cell(lay, th.dead),
                         pct(lay.saturated_fraction, th.saturated), Cell(f"{lay.grad_norm:.2e}"),
                         Cell(f"{lay.weight_norm:.3g}"), Cell(ratio)))
        note = None
        if len(snap.layers) > 2:
            first, last = snap.layers[0].grad_norm, snap.layers[-1].grad_norm
            if last > 0 and first < VANISHING_RATIO * last:
                note = Cell(f"Vanishing gradients: the first layer's gradient is {first / last:.1e} "
                            "of the output layer's.", th.dead)
        self.stats_label.set_table(STATS_HEADER, tuple(rows), note)
        self._fit_table()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._table_height >= 0:
            self._fit_table()  # a narrower dock may need the sideways scroll bar's room

    def _fit_table(self) -> None:
        """The table's room: all of it up to MAX_TABLE_LINES lines, then a scroll bar (set
        only when it changed: a new height re-lays out the panel)."""
        wide = self.stats_label.sizeHint().width()
        if self.stats_label.minimumWidth() != wide:  # inside the scroll area only: the dock keeps its size
            self.stats_label.setMinimumWidth(wide)
        line = self.stats_label.fontMetrics().height() + 2
        want = min(self.stats_label.sizeHint().height(), MAX_TABLE_LINES * line) + 2
        if self.stats_label.sizeHint().width() > self.stats_scroll.viewport().width():
            want += self.stats_scroll.horizontalScrollBar().sizeHint().height()  # it scrolls sideways
        if want != self._table_height:
            self._table_height = want
            self.stats_scroll.setFixedHeight(want)

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
        self._update_norm_legend()
        colours = self._layer_colours(len(self._norm_curves))
        for c, colour in zip(self._norm_curves, colours, strict=True):
            c.setPen(pg.mkPen(colour, width=2))


def _dead_cell(lay, colour: tuple[int, int, int]) -> Cell:
    """The table's dead cell: "12% (2+5)", dead at the start plus died since (kept short:
    the table must not widen the dock); in the dead colour once units died training."""
    if lay.dead_units is None or lay.dead_fraction is None:
        return Cell("–")
    since = lay.dead_since_start
    n = int(np.count_nonzero(lay.dead_units))
    counts = f"{n}" if since is None else f"{n - since}+{since}"
    strong = lay.dead_fraction >= 0.5 or bool(since)
    return Cell(f"{100 * lay.dead_fraction:.0f}% ({counts})", colour if strong else None, strong)


def _as_float(v) -> float:
    """``v`` as a float; an integer past the float range (a hostile step count) is +-inf."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _tick_spacing(width: float, labels: int) -> int:
    """Columns between two step labels under the evolution image, so that at most
    ``labels`` of them fall across ``width`` columns. The labels show the steps of their
    columns (not round numbers anyway), so any step will do: a multiple of ten keeps the
    labelled columns steady while the width grows."""
    raw = max(width / max(labels, 1), 1.0)
    return math.ceil(raw / 10) * 10 if raw > 10 else math.ceil(raw)


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
