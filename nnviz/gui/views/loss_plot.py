"""Train and test loss (and accuracy) over training, with earlier runs kept for comparison.

Earlier runs are listed in a collapsible table under the plot (:mod:`runs_list`): the
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
from dataclasses import dataclass

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
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.runinfo import RunInfo
from nnviz.core.history import EmaSmoother, smooth_ema
from nnviz.core.stats import nice_ceil
from nnviz.gui.views import palette
from nnviz.gui.views.ranges import StickyViewBox
from nnviz.gui.views.runs_list import RunMeta, RunsTable, comparable, meta_for
from nnviz.training.protocol import StepColumn

#: earlier runs kept as faded curves
MAX_OLD_RUNS = 8
DEFAULT_SMOOTHING = 0.9
#: a redraw that took longer than this is followed by a pause of a few times its cost,
#: so a run with millions of points never eats the GUI thread
SLOW_REDRAW_S = 0.008
#: the y axis puts at most one label per this many pixels (narrow ranges piled them up)
MIN_TICK_PX = 28
#: the runs list's height at most (pixels): a header and about four rows, then it scrolls
RUNS_TABLE_HEIGHT = 100
#: the runs table's rows are refreshed at most this often while a run trains (seconds)
TABLE_REFRESH_S = 0.5
_OLD_RUN_COLOURS = [(120, 120, 120), (148, 103, 189), (140, 86, 75), (44, 160, 44),
                    (227, 119, 194), (188, 189, 34), (23, 190, 207), (255, 127, 14)]


#: the view's height from which the runs list opens by itself when a second run comes
ROOMY_HEIGHT = 380

class GrowingBuffer:
    """A float64 vector whose capacity doubles: amortised O(1) bulk appends."""

    def __init__(self, capacity: int = 4096):
        self._data = np.empty(max(int(capacity), 16))
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        need = self.size + values.size
        if need > self._data.size:
            cap = self._data.size
            while cap < need:
                cap *= 2
            grown = np.empty(cap)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = values
        self.size = need

    def replace(self, values: np.ndarray) -> None:
        """Overwrite the filled part (same length), e.g. after re-smoothing."""
        self._data[: self.size] = values

    @property
    def view(self) -> np.ndarray:
        """The filled part; valid until the next append."""
        return self._data[: self.size]

    def __len__(self) -> int:
        return self.size


class EpochAxis:
    """Epoch coordinates for the x axis, from the steps and the epoch of each step.

    The trainer reports whole epochs completed; drawn as they are, every epoch's steps
    would pile up on one x. Whole numbers are spread between the steps where the count
    went up (linear within an epoch; the running epoch extrapolated at the last epoch's
    length, then fixed when it ends). Fractional epochs are used as given. Only the
    points since the last completed epoch are ever recomputed.
    """

    def __init__(self) -> None:
        self.x = GrowingBuffer()
        self._tail = 0  # points before this index are final
        self._anchor = (0.0, 0.0)  # (step, epoch) of the last epoch boundary seen
        self._length: float | None = None  # steps per epoch, once one epoch has ended

    def update(self, steps: np.ndarray, epochs: np.ndarray) -> None:
        """Recompute x for the tail after ``steps``/``epochs`` (full buffers) grew."""
        n = steps.size
        self.x.extend(np.zeros(n - len(self.x)))
        s, e = steps[self._tail :], epochs[self._tail :]
        if e.size == 0:
            return
        if not np.all(e == np.floor(e)):  # already fractional
            self.x.view[self._tail :] = e
            self._tail = n
            return
        a_step, a_epoch = self._anchor
        ends = np.flatnonzero(np.diff(np.concatenate([[a_epoch], e])) > 0)
        b_steps = np.concatenate([[a_step], s[ends]])
        b_epochs = np.concatenate([[a_epoch], e[ends]])
        if b_steps.size >= 2 and b_steps[-1] > b_steps[-2]:
            self._length = (b_steps[-1] - b_steps[-2]) / max(b_epochs[-1] - b_epochs[-2], 1.0)
        x = np.interp(s, b_steps, b_epochs) if b_steps.size >= 2 else np.full(s.size, a_epoch)
        after = s > b_steps[-1]
        if self._length:
            x[after] = b_epochs[-1] + np.minimum((s[after] - b_steps[-1]) / self._length, 0.999)
        else:
            x[after] = b_epochs[-1]
        self.x.view[self._tail :] = x
        if ends.size:
            self._anchor = (float(b_steps[-1]), float(b_epochs[-1]))
            self._tail += int(ends[-1]) + 1

    def at(self, steps: np.ndarray, epochs: np.ndarray, known_steps: np.ndarray) -> np.ndarray:
        """Epoch coordinates for other points (evaluations) by their steps."""
        if known_steps.size < 2:
            return epochs
        return np.interp(steps, known_steps, self.x.view)


def _resumed(weight: float, smoothed: np.ndarray) -> EmaSmoother:
    """An EmaSmoother that continues ``smoothed`` (the debiased EMA of the values so far)."""
    n = int(smoothed.size)
    return EmaSmoother.resume(weight, float(smoothed[-1]) if n else 0.0, n)


class TidyAxis(pg.AxisItem):
    """A value axis whose labels never pile up: at most one per :data:`MIN_TICK_PX` pixels,
    on 1/2/5 steps, each printed with just the decimals its step needs ("0.4012", not
    "0.40120000001"). Log mode is pyqtgraph's own."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        span = maxVal - minVal
        if self.logMode or not (math.isfinite(span) and span > 0 and size > 0):
            return super().tickSpacing(minVal, maxVal, size)
        major = nice_ceil(span / max(int(size // MIN_TICK_PX), 1))
        return [(major, 0.0), (major / 2, 0.0)]

    def tickValues(self, minVal: float, maxVal: float, size: float):
        """On a log axis, pyqtgraph labels 2..9 of every decade: keep only the ticks at
        least MIN_TICK_PX apart (powers of ten first)."""
        levels = super().tickValues(minVal, maxVal, size)
        if not self.logMode or not (size > 0 and maxVal > minVal):
            return levels
        px = size / (maxVal - minVal)
        kept: list[float] = []
        keep: list[list[float]] = [[] for _ in levels]
        # powers of ten (whole log values) first, then the rest level by level
        order = sorted(((abs(v - round(v)) > 1e-9, i, v) for i, (_, vs) in enumerate(levels) for v in vs),
                       key=lambda t: (t[0], t[1]))
        for _, i, v in order:
            if all(abs(v - k) * px >= MIN_TICK_PX for k in kept):
                kept.append(v)
                keep[i].append(v)
        return [(spacing, sorted(k)) for (spacing, _), k in zip(levels, keep, strict=True)]

    def tickStrings(self, values, scale, spacing):
        if self.logMode or not (math.isfinite(spacing) and spacing > 0):
            return super().tickStrings(values, scale, spacing)
        decimals = max(0, -math.floor(math.log10(spacing * scale) + 1e-9))
        return [f"{v * scale:.{decimals}f}" for v in values]


@dataclass
class _OldRun:
    """A finished run, drawn faded: its own copies of the arrays it needs."""

    meta: RunMeta
    steps: np.ndarray
    epochs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    eval_steps: np.ndarray
    eval_epochs: np.ndarray
    test_losses: np.ndarray
    train_curve: pg.PlotDataItem
    test_curve: pg.PlotDataItem

    @property
    def label(self) -> str:
        return self.meta.name

    @property
    def colour(self) -> tuple[int, int, int]:
        return self.meta.colour


class LossPlot(QWidget):
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
        self._old: list[_OldRun] = []
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
        self.legend_label = QLabel()
        self.legend_label.setObjectName("lossLegend")
        self.legend_label.setContentsMargins(8, 0, 6, 0)
        self.legend_label.setWordWrap(True)  # a narrow dock: two lines rather than a cut entry
        self.legend_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.legend_label)

        # the x range grows in steps and y holds while it fits: the axes stay put between
        # most frames instead of regenerating on each one
        self.plot_widget = pg.PlotWidget(viewBox=StickyViewBox(policy=("grow", "hold")),
                                         axisItems={"left": TidyAxis("left")})
        layout.addWidget(self.plot_widget, 1)
        pi: pg.PlotItem = self.plot_widget.getPlotItem()
        self._pi = pi
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

    def _build_runs(self, layout: QVBoxLayout) -> None:
        """The runs list under the plot: collapsed until there is a second run to compare."""
        self.runs_panel = QWidget()
        self.runs_panel.setObjectName("lossRunsPanel")
        box = QHBoxLayout(self.runs_panel)  # the buttons beside the table: one row less
        box.setContentsMargins(4, 0, 4, 2)
        box.setSpacing(4)
        self.runs_table = RunsTable()
        self.runs_table.setMaximumHeight(RUNS_TABLE_HEIGHT)
        self.runs_table.visibilityChanged.connect(self.set_run_visible)
        self.runs_table.pinChanged.connect(self.pin_run)
        self.runs_table.renamed.connect(self.rename_run)
        box.addWidget(self.runs_table, 1)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("lossRemoveRun")
        self.remove_button.setToolTip("Remove the selected earlier runs from the plot")
        self.remove_button.clicked.connect(self._remove_selected)
        buttons.addWidget(self.remove_button)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("lossClearRuns")
        self.clear_button.setToolTip("Remove every earlier run except the reference")
        self.clear_button.clicked.connect(self.clear_earlier)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.fit_check)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.runs_panel.setVisible(False)
        layout.addWidget(self.runs_panel)
        self._refresh_runs()

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

    # --- the runs list ---------------------------------------------------------------
    @property
    def runs(self) -> list[RunMeta]:
        """Every run on the plot, as the runs list shows them: the current run first."""
        return [self._current, *(o.meta for o in reversed(self._old))]

    def _find(self, key: int) -> _OldRun | None:
        return next((o for o in self._old if o.meta.key == key), None)

    def set_run_visible(self, key: int, on: bool) -> None:
        """Show or hide one run's curves (the current run's too)."""
        on = bool(on)
        if key == self._current.key:
            self._current.visible = on
            for c in (self._raw, self._smooth, self._test, self._train_acc, self._test_acc):
                c.setVisible(on)
        else:
            old = self._find(key)
            if old is None:
                raise ValueError(f"there is no run {key}")
            old.meta.visible = on
            old.train_curve.setVisible(on)
            old.test_curve.setVisible(on)
        self._include_bounds()
        self._refresh_runs()
        self._pi.enableAutoRange()

    def rename_run(self, key: int, name: str) -> None:
        name = str(name).strip()
        run = self._current if key == self._current.key else getattr(self._find(key), "meta", None)
        if run is None:
            raise ValueError(f"there is no run {key}")
        if name:
            run.name = name
        self._refresh_runs()

    def pin_run(self, key: int, on: bool = True) -> None:
        """Make one run the reference (drawn bold, kept when others are cleared); one at most."""
        if key not in [r.key for r in self.runs]:
            raise ValueError(f"there is no run {key}")
        for run in self.runs:
            if run.key == key:
                run.pinned = bool(on)
            elif on:
                run.pinned = False
        for old in self._old:
            self._style_old(old)
        self._refresh_runs()

    def remove_run(self, key: int) -> None:
        """Take an earlier run off the plot (the current run is cleared with clear_history)."""
        old = self._find(key)
        if old is None:
            raise ValueError(f"run {key} is not an earlier run")
        self._remove_old(old)
        self._dirty = True
        self._refresh_runs()

    def set_fit_all(self, on: bool) -> None:
        """Fit the axes to every shown run, or (off) follow the current run."""
        self._fit_all = bool(on)
        if self.fit_check.isChecked() != self._fit_all:
            with QSignalBlocker(self.fit_check):
                self.fit_check.setChecked(self._fit_all)
        self._include_bounds()
        self._pi.enableAutoRange()
        self._dirty = True
        self.redraw()

    def _include_bounds(self) -> None:
        """Earlier runs count for the auto-range only with "fit all runs" (and while shown)."""
        added = self._pi.vb.addedItems
        for old in self._old:
            for c in (old.train_curve, old.test_curve):
                want = self._fit_all and old.meta.visible
                if want and c not in added:
                    added.append(c)
                elif not want and c in added:
                    added.remove(c)
        self._pi.vb.updateAutoRange()

    def _remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.runs_table.selectedIndexes()})
        keys = self.runs_table.keys
        for row in rows:
            if row < len(keys) and keys[row] != self._current.key:
                self.remove_run(keys[row])

    def _runs_toggled(self, on: bool) -> None:
        self._runs_touched = True
        self.runs_panel.setVisible(on)

    def _new_meta(self, label: str, info: RunInfo | None) -> RunMeta:
        self._keys += 1
        return meta_for(self._keys, label, info, self._theme.train)

    def _refresh_runs(self) -> None:
        """The runs list after runs came, went or changed (a few rows: rebuilt)."""
        runs = self.runs
        self.runs_button.setText(f"runs {len(runs)}")
        # opened by itself for a second run only where the plot keeps its room (a short
        # laptop screen leaves the list to the "runs" button)
        roomy = self.height() >= ROOMY_HEIGHT
        if not self._runs_touched and len(runs) > 1 and not self.runs_button.isChecked() and roomy:
            self.runs_button.blockSignals(True)
            self.runs_button.setChecked(True)
            self.runs_button.blockSignals(False)
            self.runs_panel.setVisible(True)
        self.runs_table.fill(runs, self._current.key)
        self._table_due = 0.0
        self._update_legend()

    def _update_current_row(self) -> None:
        """The current run's steps and latest losses, at most every TABLE_REFRESH_S."""
        cur = self._current
        if len(self.steps):
            cur.steps = int(self.steps.view[-1])
            cur.train_loss = float(self.smoothed.view[-1])
        if len(self.eval_test_loss):
            tl = self.eval_test_loss.view[-1]
            cur.test_loss = float(tl) if np.isfinite(tl) else cur.test_loss
        now = time.monotonic()
        if now >= self._table_due and self.runs_panel.isVisible():
            self._table_due = now + TABLE_REFRESH_S
            self.runs_table.update_row(cur)

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

    def _retire_current(self) -> None:
        if len(self._old) >= MAX_OLD_RUNS:  # the oldest that is not the reference
            self._remove_old(next((o for o in self._old if not o.meta.pinned), self._old[0]))
        meta = self._current
        self._update_current_row()
        meta.colour = _OLD_RUN_COLOURS[self._colour_index % len(_OLD_RUN_COLOURS)]
        self._colour_index += 1
        train = self._curve(self._pi, None, "mean")
        test = self._curve(self._pi, None)
        for c in (train, test):
            c.setZValue(10)
            c.setVisible(meta.visible)
        for c in (self._raw, self._smooth, self._test, self._train_acc, self._test_acc):
            c.setVisible(True)  # the next run starts shown
        old = _OldRun(
            meta, self.steps.view.copy(), self.epoch_axis.x.view.copy(), self.losses.view.copy(),
            self.smoothed.view.copy(), self.eval_steps.view.copy(),
            self.epoch_axis.at(self.eval_steps.view, self.eval_epochs.view, self.steps.view).copy(),
            self.eval_test_loss.view.copy(), train, test,
        )
        self._old.append(old)
        self._style_old(old)
        self._set_old_data(old)
        self._include_bounds()

    def _remove_old(self, old: _OldRun) -> None:
        self._old.remove(old)
        self._pi.removeItem(old.train_curve)
        self._pi.removeItem(old.test_curve)

    def _set_old_data(self, old: _OldRun) -> None:
        epochs = self._x_axis == "epochs"
        old.train_curve.setData(old.epochs if epochs else old.steps, old.smoothed)
        old.test_curve.setData(old.eval_epochs if epochs else old.eval_steps, old.test_losses,
                               connect="finite")

    def _style_old(self, old: _OldRun) -> None:
        """Earlier runs faded and thin; the reference in full colour, thick, above them."""
        if old.meta.pinned:
            c = old.colour
            old.train_curve.setPen(pg.mkPen(c, width=2.6))
            old.test_curve.setPen(pg.mkPen(c, width=2.0, style=Qt.PenStyle.DashDotLine))
            for curve in (old.train_curve, old.test_curve):
                curve.setZValue(50)
            return
        c = palette.mix(old.colour, self._theme.background, 0.35)
        old.train_curve.setPen(pg.mkPen((*c, 200), width=1.5))
        old.test_curve.setPen(pg.mkPen((*c, 200), width=1.2, style=Qt.PenStyle.DashLine))
        for curve in (old.train_curve, old.test_curve):
            curve.setZValue(10)

    @property
    def old_run_labels(self) -> list[str]:
        """The earlier runs' names, oldest first."""
        return [o.label for o in self._old]

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
