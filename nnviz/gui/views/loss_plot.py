"""Train and test loss (and accuracy) over training, with earlier runs kept for comparison.

Every minibatch is kept: ``add_steps`` appends into float64 buffers that double when
full, and ``redraw`` (called by the window's frame timer) hands views of them to the same
plot items each time. pyqtgraph's peak downsampling and clip-to-view keep a million
points fluid. Smoothing is TensorBoard's debiased EMA from the core: extended point by
point while a run grows, recomputed in one vectorised pass when the slider moves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.history import EmaSmoother, smooth_ema
from nnviz.gui.views import palette
from nnviz.gui.views.ranges import StickyViewBox
from nnviz.training.protocol import StepColumn

#: earlier runs kept as faded curves
MAX_OLD_RUNS = 8
DEFAULT_SMOOTHING = 0.9
#: a redraw that took longer than this is followed by a pause of a few times its cost,
#: so a run with millions of points never eats the GUI thread
SLOW_REDRAW_S = 0.008
_OLD_RUN_COLOURS = [(120, 120, 120), (148, 103, 189), (140, 86, 75), (44, 160, 44),
                    (227, 119, 194), (188, 189, 34), (23, 190, 207), (255, 127, 14)]


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


@dataclass
class _OldRun:
    """A finished run, drawn faded: its own copies of the arrays it needs."""

    label: str
    steps: np.ndarray
    epochs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    eval_steps: np.ndarray
    eval_epochs: np.ndarray
    test_losses: np.ndarray
    train_curve: pg.PlotDataItem
    test_curve: pg.PlotDataItem
    colour: tuple[int, int, int]


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
        bar.addWidget(QLabel("Smoothing"))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("lossSmoothing")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(self._weight * 100))
        self.smoothing_slider.setMaximumWidth(160)
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
        bar.addWidget(QLabel("x axis"))
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
        bar.addStretch(1)
        layout.addLayout(bar)

        # the x range grows in steps and y holds while it fits: the axes stay put between
        # most frames instead of regenerating on each one
        self.plot_widget = pg.PlotWidget(viewBox=StickyViewBox(policy=("grow", "hold")))
        layout.addWidget(self.plot_widget, 1)
        pi: pg.PlotItem = self.plot_widget.getPlotItem()
        self._pi = pi
        pi.setLabel("left", "loss")
        pi.setLabel("bottom", "step")
        pi.setMenuEnabled(True)
        self._legend = pi.addLegend(labelTextSize="8pt")
        # middle right: loss curves fall toward the bottom, accuracy rises to the top
        self._legend.anchor(itemPos=(1, 0.5), parentPos=(1, 0.5), offset=(-10, 0))
        self._raw = self._curve(pi, "minibatch loss")
        self._smooth = self._curve(pi, "train loss (smoothed)", "mean")
        self._test = self._curve(pi, "test loss")
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
        self._legend.addItem(self._train_acc, "train accuracy")
        self._legend.addItem(self._test_acc, "test accuracy")
        pi.vb.sigResized.connect(self._sync_views)
        self._sync_views()

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
    def new_run(self, label: str) -> None:
        """Start a new run: the current one stays as a faded, labelled curve."""
        if len(self.steps):
            self._retire_current()
        self._label = str(label)
        self._new_buffers()
        self._dirty = True

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
        """Forget the current run's points and every earlier run."""
        for old in self._old:
            self._drop(old)
        self._old = []
        self._new_buffers()
        self._dirty = True

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
            self.log_check.setChecked(self._log_y)
        self._pi.setLogMode(x=False, y=self._log_y)
        self._pi.setLabel("left", "loss (log scale)" if self._log_y else "loss",
                          color=self._theme.css("foreground"))
        self._dirty = True

    def set_x_axis(self, which: str) -> None:
        if which not in ("steps", "epochs"):
            raise ValueError(f"the x axis is 'steps' or 'epochs', not {which!r}")
        self._x_axis = which
        if self.x_combo.currentText() != which:
            self.x_combo.setCurrentText(which)
        self._pi.setLabel("bottom", "step" if which == "steps" else "epoch",
                          color=self._theme.css("foreground"))
        for old in self._old:
            self._set_old_data(old)
        self._dirty = True
        self._pi.enableAutoRange(axis="x")

    def set_show_accuracy(self, on: bool) -> None:
        self._show_acc = bool(on)
        if self.acc_check.isChecked() != self._show_acc:
            self.acc_check.setChecked(self._show_acc)
        self._acc_vb.setVisible(self._show_acc)
        if self._show_acc:
            self._pi.showAxis("right")
        else:
            self._pi.hideAxis("right")
        self._dirty = True

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme()
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
        cost = time.perf_counter() - t0
        self._next_redraw = time.monotonic() + min(4 * cost, 0.5) if cost > SLOW_REDRAW_S else 0.0
        self.frame_count += 1

    def _retire_current(self) -> None:
        if len(self._old) >= MAX_OLD_RUNS:
            self._drop(self._old.pop(0))
        colour = _OLD_RUN_COLOURS[len(self._old) % len(_OLD_RUN_COLOURS)]
        train = self._curve(self._pi, None, "mean")
        test = self._curve(self._pi, None)
        for c in (train, test):
            c.setZValue(10)
        old = _OldRun(
            self._label, self.steps.view.copy(), self.epoch_axis.x.view.copy(), self.losses.view.copy(),
            self.smoothed.view.copy(), self.eval_steps.view.copy(),
            self.epoch_axis.at(self.eval_steps.view, self.eval_epochs.view, self.steps.view).copy(),
            self.eval_test_loss.view.copy(), train, test, colour,
        )
        self._old.append(old)
        self._style_old(old)
        self._set_old_data(old)
        self._legend.addItem(train, old.label)
        palette.cache_legend(self._legend)

    def _drop(self, old: _OldRun) -> None:
        self._legend.removeItem(old.train_curve)
        self._pi.removeItem(old.train_curve)
        self._pi.removeItem(old.test_curve)

    def _set_old_data(self, old: _OldRun) -> None:
        epochs = self._x_axis == "epochs"
        old.train_curve.setData(old.epochs if epochs else old.steps, old.smoothed)
        old.test_curve.setData(old.eval_epochs if epochs else old.eval_steps, old.test_losses,
                               connect="finite")

    def _style_old(self, old: _OldRun) -> None:
        c = palette.mix(old.colour, self._theme.background, 0.35)
        old.train_curve.setPen(pg.mkPen((*c, 200), width=1.5))
        old.test_curve.setPen(pg.mkPen((*c, 200), width=1.2, style=Qt.PenStyle.DashLine))

    @property
    def old_run_labels(self) -> list[str]:
        return [o.label for o in self._old]

    def _apply_theme(self) -> None:
        th = self._theme
        self.plot_widget.setBackground(th.q("background"))
        palette.style_plot(self._pi, th)
        self._raw.setPen(pg.mkPen(palette.mix(th.background, th.train, 0.3), width=1))
        self._smooth.setPen(pg.mkPen(th.train, width=2))
        self._test.setPen(pg.mkPen(th.test, width=2))
        self._train_acc.setPen(pg.mkPen(th.train, width=1.5, style=Qt.PenStyle.DashLine))
        self._test_acc.setPen(pg.mkPen(th.test, width=1.5, style=Qt.PenStyle.DashLine))
        palette.style_legend(self._legend, th)
        for old in self._old:
            self._style_old(old)
