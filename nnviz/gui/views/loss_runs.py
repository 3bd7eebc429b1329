"""The loss plot's runs: the runs-list panel under the plot (table, Remove, Clear, "fit
all") and the bookkeeping of the earlier runs' curves (retired copies of a run's arrays,
their faded or bold reference styling, show/hide, rename, pin, remove, which runs count for
the auto-range).

:class:`LossRunsMixin` is mixed into :class:`~nnviz.gui.views.loss_plot.LossPlot`; it works
on the plot's own state (``_pi``, ``_theme``, ``_old``, ``_current``, the buffers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from nnviz.app.runinfo import RunInfo
from nnviz.gui.views import palette
from nnviz.gui.views.runs_list import RunMeta, RunsTable, meta_for

#: earlier runs kept as faded curves
MAX_OLD_RUNS = 8
#: the runs list's height at most (pixels): a header and about four rows, then it scrolls
RUNS_TABLE_HEIGHT = 100
#: the runs table's rows are refreshed at most this often while a run trains (seconds)
TABLE_REFRESH_S = 0.5
#: the view's height from which the runs list opens by itself when a second run comes
ROOMY_HEIGHT = 380
_OLD_RUN_COLOURS = [(120, 120, 120), (148, 103, 189), (140, 86, 75), (44, 160, 44),
                    (227, 119, 194), (188, 189, 34), (23, 190, 207), (255, 127, 14)]


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


class LossRunsMixin:
    """The runs list and the earlier runs' curves, for :class:`LossPlot`."""

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
