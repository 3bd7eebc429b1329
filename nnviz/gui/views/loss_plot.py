"""Train and test loss (and accuracy) over training, with earlier runs kept for comparison.

Earlier runs are listed in a collapsible table under the plot (:mod:`runs_list`, the panel and
the earlier curves in :mod:`loss_runs`; buffers and axes in :mod:`loss_series`): the
table is their legend (a colour swatch per row), with show/hide, rename, remove and one
reference run that is drawn bold and survives clearing. A run on other data starts a
fresh comparison; the x range follows the current run unless "fit all runs" is on.

Every minibatch is kept: ``add_steps`` appends into float64 buffers that double when
full, and ``redraw`` (called by the window's frame timer) hands views of them to the same
plot items each time. pyqtgraph's peak downsampling and clip-to-view keep a million
points fluid. Smoothing is TensorBoard's debiased EMA from the core: extended point by
point while a run grows, recomputed in one vectorised pass when the slider moves.
"""

from __future__ import annotations

import math
import time

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.runinfo import RunInfo
from nnviz.core.history import EmaSmoother, smooth_ema
from nnviz.gui.views import palette
from nnviz.gui.views.loss_runs import (  # noqa: F401  (re-exported: tests and views import them here)
    MAX_OLD_RUNS,
    ROOMY_HEIGHT,
    RUNS_TABLE_HEIGHT,
    TABLE_REFRESH_S,
    LossRunsMixin,
)
from nnviz.gui.views.loss_series import (  # noqa: F401  (re-exported: histograms imports them here)
    MIN_TICK_PX,
    EpochAxis,
    GrowingBuffer,
    TidyAxis,
    _resumed,
)
from nnviz.gui.views.ranges import StickyViewBox
from nnviz.gui.views.runs_list import comparable
from nnviz.training.protocol import StepColumn

DEFAULT_SMOOTHING = 0.9
#: a redraw that took longer than this is followed by a pause of a few times its cost,
#: so a run with millions of points never eats the GUI thread
SLOW_REDRAW_S = 0.008


class LossPlot(LossRunsMixin, QWidget):
    """Loss per minibatch (raw and smoothed), test loss and accuracy per snapshot."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.frame_count = 0
        self._theme = palette.theme(False)
        self._weight = DEFAULT_SMOOTHING
        self._x_axis = "steps"
        self._log_y = False
        self._show_acc = True
        self._label = "current run"
        self._old: list = []  # _OldRun (loss_runs)
        self._keys = 0  # run keys handed out
        self._colour_index = 0
        self._fit_all = False
        self._table_due = 0.0
        self._runs_touched = False  # the user opened or closed the runs list
        self._current = self._new_meta("current run", None)
        self._dirty = True
        self._next_redraw = 0.0
        self._late_redraw = QTimer(self)
        self._late_redraw.setSingleShot(True)
        self._late_redraw.timeout.connect(self.redraw)
        self._new_buffers()
        self._build_ui()
        self._apply_theme()

    # --- construction --------------------------------------------------------------
    def _new_buffers(self) -> None:
        self.steps = GrowingBuffer()
        self.epochs = GrowingBuffer()
        self.losses = GrowingBuffer()
        self.accuracies = GrowingBuffer()
        self.smoothed = GrowingBuffer()
        self.eval_steps = GrowingBuffer(256)
        self.eval_epochs = GrowingBuffer(256)
        self.eval_train_loss = GrowingBuffer(256)
        self.eval_test_loss = GrowingBuffer(256)
        self.eval_test_acc = GrowingBuffer(256)
        self.eval_train_acc = GrowingBuffer(256)
        self.epoch_axis = EpochAxis()
        self._smoother = EmaSmoother(self._weight)

    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 0)
        bar.addWidget(QLabel("Smooth"))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("lossSmoothing")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(self._weight * 100))
        self.smoothing_slider.setMaximumWidth(160)
        self.smoothing_slider.setMinimumWidth(56)  # it collapsed to a dot on a narrow dock
        self.smoothing_slider.setToolTip("Exponential moving average of the minibatch loss "
                                         "(0 = raw, 0.99 = very smooth)")
        # re-smoothing a million points takes ~0.1 s: apply the slider once it rests
        self._smoothing_timer = QTimer(self)
        self._smoothing_timer.setSingleShot(True)
        self._smoothing_timer.setInterval(80)
        self._smoothing_timer.timeout.connect(
            lambda: self.set_smoothing(self.smoothing_slider.value() / 100.0))
        self.smoothing_slider.valueChanged.connect(self._slider_moved)
        bar.addWidget(self.smoothing_slider)
        self._smoothing_label = QLabel(f"{self._weight:.2f}")
        self._smoothing_label.setMinimumWidth(32)
        bar.addWidget(self._smoothing_label)
        self.log_check = QCheckBox("log y")
        self.log_check.setObjectName("lossLogY")
        self.log_check.toggled.connect(self.set_log_y)
        bar.addWidget(self.log_check)
        bar.addWidget(QLabel("x"))
        self.x_combo = QComboBox()
        self.x_combo.setObjectName("lossXAxis")
        self.x_combo.addItems(["steps", "epochs"])
        self.x_combo.currentTextChanged.connect(self.set_x_axis)
        bar.addWidget(self.x_combo)
        self.acc_check = QCheckBox("accuracy")
        self.acc_check.setObjectName("lossAccuracy")
        self.acc_check.setChecked(True)
        self.acc_check.setToolTip("Train and test accuracy on the right axis")
        self.acc_check.toggled.connect(self.set_show_accuracy)
        bar.addWidget(self.acc_check)
        # in the runs list's column (the bar must fit a 470 px dock): see _build_runs
        self.fit_check = QCheckBox("fit all")
        self.fit_check.setObjectName("lossFitAll")
        self.fit_check.setToolTip("Fit the axes to every shown run (off: they follow the current run)")
        self.fit_check.toggled.connect(self.set_fit_all)
        bar.addStretch(1)
        self.runs_button = QToolButton()
        self.runs_button.setObjectName("lossRunsToggle")
        self.runs_button.setCheckable(True)
        self.runs_button.setToolTip("The runs on this plot: show/hide, rename, remove, pin a reference")
        self.runs_button.toggled.connect(self._runs_toggled)
        bar.addWidget(self.runs_button)
        layout.addLayout(bar)
        # the curves' legend: a line above the plot, never over the data
        self.legend_label = palette.legend_line("lossLegend", (8, 0, 6, 0))
        layout.addWidget(self.legend_label)

        # the x range grows in steps and y holds while it fits: the axes stay put between
        # most frames instead of regenerating on each one
        self.plot_widget = pg.PlotWidget(viewBox=StickyViewBox(policy=("grow", "hold")),
                                         axisItems={"left": TidyAxis("left")})
        layout.addWidget(self.plot_widget, 1)
        pi: pg.PlotItem = self.plot_widget.getPlotItem()
        self._pi = pi
        # half a line of room above the plot: the top tick label is centred on the top edge
        # and was cut in half by the widget's border
        half_line = (self.fontMetrics().height() + 1) // 2
        pi.layout.setContentsMargins(1, half_line, 1, 1)
        pi.setLabel("left", "loss")
        pi.setLabel("bottom", "step")
        pi.setMenuEnabled(True)
        self._raw = self._curve(pi, None)
        self._smooth = self._curve(pi, None, "mean")
        self._test = self._curve(pi, None)
        for c in (self._raw, self._smooth, self._test):
            c.setZValue(100)
        self._raw.setZValue(90)
        # accuracy on a second ViewBox sharing x, shown on the right axis
        self._acc_vb = pg.ViewBox()
        pi.showAxis("right")
        pi.scene().addItem(self._acc_vb)
        pi.getAxis("right").linkToView(self._acc_vb)
        pi.getAxis("right").setLabel("accuracy")
        self._acc_vb.setXLink(pi)
        self._acc_vb.setYRange(0, 1.02, padding=0)
        self._acc_vb.setMouseEnabled(x=False, y=False)
        self._train_acc = pg.PlotDataItem()
        self._test_acc = pg.PlotDataItem()
        for c in (self._train_acc, self._test_acc):
            c.setClipToView(True)
            self._acc_vb.addItem(c)
        pi.vb.sigResized.connect(self._sync_views)
        self._sync_views()
        self._build_runs(layout)

    def _curve(self, pi: pg.PlotItem, name: str | None, method: str = "peak") -> pg.PlotDataItem:
        """A curve that stays fast with millions of points: peak downsampling keeps the
        spikes of raw data; an already smoothed curve loses nothing to a mean."""
        c = pi.plot(name=name)
        c.setDownsampling(auto=True, method=method)
        c.setClipToView(True)
        return c

    def _slider_moved(self, value: int) -> None:
        self._smoothing_label.setText(f"{value / 100.0:.2f}")
        self._smoothing_timer.start()

    def _sync_views(self) -> None:
        self._acc_vb.setGeometry(self._pi.vb.sceneBoundingRect())
        self._acc_vb.linkedViewChanged(self._pi.vb, self._acc_vb.XAxis)

    # --- data in -------------------------------------------------------------------
    def new_run(self, label: str, info: RunInfo | None = None) -> None:
        """Start a new run: the current one stays as a faded curve and a row of the runs
        list. With ``info``, a run on other data (another data set, a file) starts a fresh
        comparison: earlier runs are cleared, except a pinned one that is comparable."""
        new = self._new_meta(label, info)
        if len(self.steps):
            self._retire_current()
        if not comparable(self._current.fingerprint, new.fingerprint) and info is not None:
            for old in list(self._old):
                if not (old.meta.pinned and comparable(old.meta.fingerprint, new.fingerprint)):
                    self._remove_old(old)
        self._label = str(label)
        self._current = new
        self._new_buffers()
        self._dirty = True
        self._refresh_runs()

    def set_current_lr(self, lr: float) -> None:
        """The learning rate now in use (changed live): the current row shows "0.01 → 0.003"."""
        self.update_current(lr=lr)

    def update_current(self, **settings) -> None:
        """Live changes of the current run's settings: ``lr`` (float), ``optimizer`` (name)."""
        unknown = set(settings) - {"lr", "optimizer"}
        if unknown:
            raise ValueError(f"update_current takes lr and optimizer, not {', '.join(sorted(unknown))}")
        cur = self._current
        if "lr" in settings:
            lr = float(settings["lr"])
            cur.lr_now = lr
            if cur.lr_start is None:
                cur.lr_start = lr
        if "optimizer" in settings:
            cur.optimiser = str(settings["optimizer"])
        self._refresh_runs()

    def add_steps(self, steps: np.ndarray, losses: np.ndarray, accuracies: np.ndarray | None,
                  epochs: np.ndarray) -> None:
        """Append minibatch records (in order). ``epochs``: whole epochs completed (the
        trainer's count, spread out for the x axis) or fractional epochs."""
        steps = np.asarray(steps, dtype=np.float64).ravel()
        n = steps.size
        if n == 0:
            return
        losses = np.asarray(losses, dtype=np.float64).ravel()
        epochs = np.asarray(epochs, dtype=np.float64).ravel()
        if losses.size != n or epochs.size != n:
            raise ValueError(f"add_steps: {n} steps but {losses.size} losses and {epochs.size} epochs")
        acc = np.full(n, np.nan) if accuracies is None else np.asarray(accuracies, np.float64).ravel()
        if acc.size != n:
            raise ValueError(f"add_steps: {n} steps but {acc.size} accuracies")
        self.steps.extend(steps)
        self.epochs.extend(epochs)
        self.losses.extend(losses)
        self.accuracies.extend(acc)
        self.smoothed.extend(self._smoother.extend(losses))
        self.epoch_axis.update(self.steps.view, self.epochs.view)
        self._dirty = True

    def add_rows(self, rows: np.ndarray) -> None:
        """Append minibatch step rows (columns by :class:`StepColumn`); a run without
        accuracy (regression: NaN) plots none."""
        if not len(rows):
            return
        acc = rows[:, StepColumn.ACCURACY]
        self.add_steps(rows[:, StepColumn.STEP], rows[:, StepColumn.LOSS],
                       None if np.isnan(acc[-1]) else acc, rows[:, StepColumn.EPOCH])

    def add_eval(self, step: int, epoch: float, train_loss: float, test_loss: float | None,
                 test_acc: float | None, train_acc: float | None) -> None:
        """Append one evaluation (per snapshot); ``None`` where there is no such number."""
        def f(v: float | None) -> float:
            return np.nan if v is None else float(v)

        self.eval_steps.extend([float(step)])
        self.eval_epochs.extend([float(epoch)])
        self.eval_train_loss.extend([f(train_loss)])
        self.eval_test_loss.extend([f(test_loss)])
        self.eval_test_acc.extend([f(test_acc)])
        self.eval_train_acc.extend([f(train_acc)])
        self._dirty = True

    def clear_history(self) -> None:
        """Forget the current run's points and every earlier run but the reference (pinned)."""
        for old in [o for o in self._old if not o.meta.pinned]:
            self._remove_old(old)
        self._new_buffers()
        self._current.steps, self._current.train_loss, self._current.test_loss = 0, math.nan, math.nan
        self._dirty = True
        self._refresh_runs()

    def clear_earlier(self) -> None:
        """Remove every earlier run except the reference; the current run stays."""
        for old in [o for o in self._old if not o.meta.pinned]:
            self._remove_old(old)
        self._dirty = True
        self._refresh_runs()

    # --- settings ------------------------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        w = min(max(float(weight), 0.0), 0.99)
        self._weight = w
        self._smoothing_label.setText(f"{w:.2f}")
        if self.smoothing_slider.value() != round(w * 100):
            self.smoothing_slider.blockSignals(True)
            self.smoothing_slider.setValue(round(w * 100))
            self.smoothing_slider.blockSignals(False)
        smoothed = smooth_ema(self.losses.view, w)
        self.smoothed.replace(smoothed)
        self._smoother = _resumed(w, smoothed)
        for old in self._old:
            old.smoothed = smooth_ema(old.losses, w)
            self._set_old_data(old)
        self._dirty = True
        self._next_redraw = 0.0

    def set_log_y(self, on: bool) -> None:
        self._log_y = bool(on)
        if self.log_check.isChecked() != self._log_y:
            with QSignalBlocker(self.log_check):
                self.log_check.setChecked(self._log_y)
        self._pi.setLogMode(x=False, y=self._log_y)
        # pyqtgraph sets every axis of the plot to log, the accuracy axis too: that one
        # stays linear (accuracies are drawn in their own, linear view box)
        self._pi.getAxis("right").setLogMode(False, False)
        self._pi.setLabel("left", "loss (log scale)" if self._log_y else "loss",
                          color=self._theme.css("foreground"))
        self._dirty = True
        self._next_redraw = 0.0
        self.redraw()  # while paused too: nothing else asks for a frame

    def set_x_axis(self, which: str) -> None:
        if which not in ("steps", "epochs"):
            raise ValueError(f"the x axis is 'steps' or 'epochs', not {which!r}")
        self._x_axis = which
        if self.x_combo.currentText() != which:
            with QSignalBlocker(self.x_combo):
                self.x_combo.setCurrentText(which)
        self._pi.setLabel("bottom", "step" if which == "steps" else "epoch",
                          color=self._theme.css("foreground"))
        for old in self._old:
            self._set_old_data(old)
        self._dirty = True
        self._pi.enableAutoRange(axis="x")
        self._next_redraw = 0.0
        self.redraw()  # re-plot now with the new x values, also while training is paused

    def set_show_accuracy(self, on: bool) -> None:
        self._show_acc = bool(on)
        if self.acc_check.isChecked() != self._show_acc:
            with QSignalBlocker(self.acc_check):
                self.acc_check.setChecked(self._show_acc)
        self._acc_vb.setVisible(self._show_acc)
        if self._show_acc:
            self._pi.showAxis("right")
        else:
            self._pi.hideAxis("right")
        self._update_legend()
        self._dirty = True
        self._next_redraw = 0.0
        self.redraw()

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme()
        self._refresh_runs()  # the current run's swatch is the theme's train colour
        self._dirty = True
        self.redraw()

    def export_image(self, path: str) -> None:
        """PNG (the widget as shown) or SVG (the plot) by the file name's extension."""
        palette.export_view(self, self.plot_widget.scene(), path)

    # --- drawing -------------------------------------------------------------------
    def redraw(self) -> None:
        """Hand the buffers to the plot items, if anything changed (the frame timer)."""
        if not self._dirty:
            return
        wait = self._next_redraw - time.monotonic()
        if wait > 0:  # throttled: make sure the last points still get drawn
            if not self._late_redraw.isActive():
                self._late_redraw.start(int(wait * 1000) + 1)
            return
        self._dirty = False
        t0 = time.perf_counter()
        epochs = self._x_axis == "epochs"
        x = self.epoch_axis.x.view if epochs else self.steps.view
        self._raw.setData(x, self.losses.view)
        self._smooth.setData(x, self.smoothed.view)
        ex = (self.epoch_axis.at(self.eval_steps.view, self.eval_epochs.view, self.steps.view)
              if epochs else self.eval_steps.view)
        self._test.setData(ex, self.eval_test_loss.view, connect="finite")
        has_acc = np.isfinite(self.eval_test_acc.view).any() or np.isfinite(self.eval_train_acc.view).any()
        show = self._show_acc and bool(has_acc)
        self._acc_vb.setVisible(show)
        if show:
            self._train_acc.setData(ex, self.eval_train_acc.view, connect="finite")
            self._test_acc.setData(ex, self.eval_test_acc.view, connect="finite")
        self._update_current_row()
        cost = time.perf_counter() - t0
        self._next_redraw = time.monotonic() + min(4 * cost, 0.5) if cost > SLOW_REDRAW_S else 0.0
        self.frame_count += 1

    def _update_legend(self) -> None:
        th = self._theme
        faded = palette.mix(th.background, th.train, 0.3)
        entries = [("minibatch", faded, False), ("train (smoothed)", th.train, False),
                   ("test", th.test, False)]
        if self._show_acc:
            entries += [("train acc. (right)", th.train, True), ("test acc. (right)", th.test, True)]
        if self._old:
            entries.append(("earlier runs: the runs list", th.muted, True))
        self.legend_label.setText(palette.legend_html(entries, th.css("foreground")))

    def _apply_theme(self) -> None:
        th = self._theme
        self.plot_widget.setBackground(th.q("background"))
        palette.style_plot(self._pi, th)
        self._raw.setPen(pg.mkPen(palette.mix(th.background, th.train, 0.3), width=1))
        self._smooth.setPen(pg.mkPen(th.train, width=2))
        self._test.setPen(pg.mkPen(th.test, width=2))
        self._train_acc.setPen(pg.mkPen(th.train, width=1.5, style=Qt.PenStyle.DashLine))
        self._test_acc.setPen(pg.mkPen(th.test, width=1.5, style=Qt.PenStyle.DashLine))
        self._current.colour = th.train
        for old in self._old:
            self._style_old(old)
        self._update_legend()
