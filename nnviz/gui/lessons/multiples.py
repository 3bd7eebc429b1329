"""Decision maps side by side: one small plot per run of a lesson, titled by what differs.

Every map is drawn from the run's read-only snapshot at the same checkpoint, so the plots
compare equal moments; the shared training points sit on each. Data off the 2-D plane has
no map: the panel says so and the curves and the table carry the lesson.
"""

from __future__ import annotations

import math

import numpy as np
import PySide6  # noqa: F401  (PySide6 before pyqtgraph)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from nnviz.gui.views import palette
from nnviz.gui.views.bounded import finite_range
from nnviz.lessons.records import Checkpoint

#: the most points drawn on each small map (a sample beyond it)
MAX_POINTS = 600


def map_colours(out: np.ndarray, colours: np.ndarray, neutral: tuple[int, int, int]) -> np.ndarray:
    """(H, W, 4) uint8: each cell in its most likely class's colour, paler where the
    network is less sure (as the Output panel draws it)."""
    out = np.clip(np.nan_to_num(np.asarray(out, np.float32), nan=0.0), 0.0, 1.0)
    C = out.shape[2]
    cols = colours[:C].astype(np.float32)
    base = np.array(neutral, np.float32)
    conf = out.max(axis=2)
    a = np.clip((conf - 1.0 / C) / max(1.0 - 1.0 / C, 1e-6), 0, 1)[:, :, None] * 0.6
    rgb = base * (1 - a) + (out @ cols) * a
    rgba = np.empty((*out.shape[:2], 4), np.uint8)
    rgba[:, :, :3] = np.clip(rgb, 0, 255)
    rgba[:, :, 3] = 255
    return rgba


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns for ``n`` small plots: as square as the runs allow, wider than tall."""
    cols = max(1, math.ceil(math.sqrt(n)))
    if n == 3:
        cols = 3
    return math.ceil(n / cols), cols


class DecisionMultiples(pg.GraphicsLayoutWidget):
    """One decision map per run; :meth:`set_runs` lays them out, :meth:`show_checkpoint`
    draws a checkpoint."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._theme = palette.theme(False)
        self.plots: dict[str, pg.PlotItem] = {}
        self._images: dict[str, pg.ImageItem] = {}
        self._labels: dict[str, str] = {}
        self._colours = palette.class_colors(2)
        self._message: pg.LabelItem | None = None
        self.frames = 0  # checkpoints drawn

    def set_runs(self, runs: list[tuple[str, str]], X: np.ndarray | None, y: np.ndarray | None,
                 n_classes: int) -> None:
        """``runs`` as (name, label); ``X``/``y`` the shared training points (2-D), or None
        when the data is not on a plane."""
        self.clear()
        self.plots, self._images, self._labels = {}, {}, dict(runs)
        self._colours = palette.class_colors(max(n_classes, 2))
        self._message = None
        if X is None or X.shape[1] != 2:
            self._message = self.addLabel("These data are not on a 2-D plane, so there is no map to "
                                          "draw: compare the runs in the curves and the table.")
            return
        _rows, cols = grid_shape(len(runs))
        pts = np.arange(len(X))
        if len(pts) > MAX_POINTS:
            pts = np.random.default_rng(0).choice(len(X), MAX_POINTS, replace=False)
        brushes = [pg.mkBrush(*self._colours[int(c) % len(self._colours)], 230) for c in y[pts]]
        for i, (name, _label) in enumerate(runs):
            # titled by the run's short name (the window lists each name with its description)
            plot = self.addPlot(row=i // cols, col=i % cols, title=name)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            dots = pg.ScatterPlotItem(x=X[pts, 0], y=X[pts, 1], size=4, pen=pg.mkPen(255, 255, 255, 160),
                                      brush=brushes)
            dots.setZValue(5)
            plot.addItem(dots)
            palette.style_plot(plot, self._theme)
            self.plots[name] = plot
            self._images[name] = image

    def show_checkpoint(self, cp: Checkpoint) -> None:
        """Each run's map at ``cp`` (runs without a snapshot grid keep what they showed)."""
        drew = False
        for rec in cp.records:
            image = self._images.get(rec.run)
            snap = rec.snapshot
            if image is None or snap is None or snap.grid is None:
                continue
            grid = snap.grid
            if grid.output.ndim != 3 or grid.output.shape[2] < 2:
                continue
            image.setImage(map_colours(grid.output, self._colours, self._theme.neutral), autoLevels=False)
            image.setRect(_rect(grid.xs, grid.ys))
            acc = rec.test_accuracy if rec.test_accuracy is not None else rec.train_accuracy
            suffix = "" if acc is None else f" · {100 * acc:.0f}% right"
            self.plots[rec.run].setTitle(f"{rec.run}{suffix}")
            drew = True
        if drew:
            self.frames += 1

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self.setBackground(self._theme.background)
        for plot in self.plots.values():
            palette.style_plot(plot, self._theme)


def _rect(xs: np.ndarray, ys: np.ndarray) -> QRectF:
    """The rectangle the grid's cells cover (a cell centred on each grid point)."""
    def side(v: np.ndarray) -> tuple[float, float]:
        lo, hi = finite_range(float(v[0]), float(v[-1])) if len(v) else (0.0, 1.0)
        half = (hi / 2 - lo / 2) / max(len(v) - 1, 1)
        return lo - half, hi + half

    (x0, x1), (y0, y1) = side(np.asarray(xs, np.float64)), side(np.asarray(ys, np.float64))
    return QRectF(x0, y0, x1 - x0, y1 - y0)
