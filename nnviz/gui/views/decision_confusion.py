"""The decision view's confusion-matrix page: the matrix drawn as an image of row shares
(block sums when there are more classes than pixels), the count printed in each cell by
one :class:`CellCounts` item, its title with the accuracy, and a click on a cell
(``cellClicked``: true and predicted class).

:class:`ConfusionMixin` is mixed into :class:`~nnviz.gui.views.decision.DecisionView`; it
works on the view's page (``_cp``, ``_conf_image``, ``_counts``, ``_shown_confusion``).
"""

from __future__ import annotations

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QStaticText

from nnviz.gui.views import palette
from nnviz.gui.views.bounded import MAX_IMAGE_SIDE, block_starts

#: confusion matrices up to this many classes print their counts in the cells
MAX_COUNT_LABELS = 20


class CellCounts(pg.GraphicsObject):
    """The count in each cell of an n x n matrix, centred, at the font's pixel size.

    One item painting cached ``QStaticText`` s: a hundred ``TextItem`` s cost ~6 ms a frame
    to update and paint; this costs a fraction of a millisecond.
    """

    def __init__(self, n: int):
        super().__init__()
        self.n = n
        self._texts: list[str] = []
        self._dark: np.ndarray = np.zeros(0, bool)  # cells whose text is light on dark
        self._static: dict[str, QStaticText] = {}
        self._colours = (QColor(0, 0, 0), QColor(255, 255, 255))

    def set_counts(self, m: np.ndarray, dark: np.ndarray, text: QColor, on_dark: QColor) -> None:
        self._texts = [str(int(c)) for c in m.ravel()]
        self._dark = np.asarray(dark, bool).ravel()
        self._colours = (QColor(text), QColor(on_dark))
        self.update()

    def texts(self) -> list[str]:
        """The numbers shown, row by row (for tests)."""
        return list(self._texts)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.n, self.n)

    def paint(self, p: QPainter, *args) -> None:
        if not self._texts:
            return
        tr = p.transform()
        p.resetTransform()  # text in pixels: it must not stretch with the cells
        colour = None
        for k, text in enumerate(self._texts):
            st = self._static.get(text)
            if st is None:
                st = self._static[text] = QStaticText(text)
                st.prepare(p.transform(), p.font())
            want = self._colours[int(self._dark[k])]
            if want is not colour:
                p.setPen(want)
                colour = want
            i, j = divmod(k, self.n)
            c = tr.map(QPointF(j + 0.5, i + 0.5))
            size = st.size()
            p.drawStaticText(QPointF(c.x() - size.width() / 2, c.y() - size.height() / 2), st)


class ConfusionMixin:
    """The confusion-matrix page of :class:`DecisionView`."""

    def _setup_confusion(self, n: int) -> None:
        if self._counts is not None:
            self._cp.removeItem(self._counts)
            self._counts = None
        if n <= MAX_COUNT_LABELS:
            self._counts = CellCounts(n)
            self._counts.setZValue(5)
            self._cp.addItem(self._counts)
        self._shown_confusion = None
        self._conf_image.clear()
        self._style_confusion_axes()
        self._cp.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
        split = "test" if self._info.test_X is not None and len(self._info.test_X) else "training"
        self._set_title(self._cp, f"Confusion matrix ({split} split)")

    def _style_confusion_axes(self) -> None:
        n = len(self._colours)
        step = max(1, n // 20)
        ticks = [(k + 0.5, self._class_name(k)) for k in range(0, n, step)]
        for name in ("bottom", "left"):
            self._cp.getAxis(name).setTicks([ticks, []])

    def _draw_confusion(self, m: np.ndarray, classes: int = 0, correct: int = -1) -> bool:
        """Draw the matrix; False when it is the one already shown. ``classes`` is how many
        classes it covers when the core already summed it over blocks of classes, and
        ``correct`` the correct count behind it (the trace of block sums is not)."""
        # what the picture and title show: the matrix itself while it is small, else its
        # block sums and diagonal (a copy of a matrix of thousands of classes is large)
        n = max(int(classes), m.shape[0])
        blocks = _block_sums(m, MAX_IMAGE_SIDE)  # many classes: one pixel per block of them
        key = np.array(blocks)  # a copy: the snapshot's matrix itself when it is small
        diag = int(correct) if correct >= 0 else int(np.trace(m))
        shown = self._shown_confusion
        if (shown is not None and shown[0] == n and shown[1] == diag and shown[2].shape == key.shape
                and np.array_equal(shown[2], key)):
            return False
        self._shown_confusion = (n, diag, key)
        th = self._theme
        rows = blocks.sum(axis=1, keepdims=True).astype(np.float64)
        share = np.divide(blocks, rows, out=np.zeros(blocks.shape), where=rows > 0)
        lut = palette.intensity_lut(th, th.train)
        self._conf_image.setImage(palette.map_sequential(share, lut, 0.0, 1.0), autoLevels=False)
        self._conf_image.setRect(QRectF(0, 0, n, n))
        if self._counts is not None and self._counts.n == n == m.shape[0]:
            self._counts.set_counts(m, share > 0.55, th.q("foreground"), QColor(255, 255, 255))
        total = int(blocks.sum())
        correct = diag
        test_X = self._info.test_X
        split = "test" if test_X is not None and len(test_X) else "training"
        acc = f": {100 * correct / total:.1f}% correct of {total:,}" if total else ""
        whole = len(test_X) if split == "test" else len(self._info.train_X)
        if total and total < whole:  # a large split: live figures on a fixed sample of it
            acc += f" sampled from {whole:,}"
        self._set_title(self._cp, f"Confusion matrix ({split} split){acc} · rows: true, columns: predicted")
        return True

    def _on_confusion_click(self, ev) -> None:
        """A cell of the matrix: its true and predicted class (the gallery shows them)."""
        if ev.button() != Qt.MouseButton.LeftButton or self._shown_confusion is None:
            return
        vb = self._cp.vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        n = self._shown_confusion[0]
        if n > MAX_IMAGE_SIDE:  # block sums: a cell is many classes, no one pair
            return
        col, row = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= row < n and 0 <= col < n:
            self.cellClicked.emit(row, col)


def _block_sums(m: np.ndarray, most: int) -> np.ndarray:
    """An (n, n) count matrix summed over blocks of classes to at most ``most`` a side."""
    if m.shape[0] <= most and m.shape[1] <= most:
        return m
    r, c = block_starts(m.shape[0], most), block_starts(m.shape[1], most)
    return np.add.reduceat(np.add.reduceat(m, r, axis=0), c, axis=1)
