"""Many lines or rectangles in a few styles, as one graphics item.

The topology view draws up to a few thousand links in 16 widths and colours, and a small
square per neuron in 16 shades. One pyqtgraph ``PlotCurveItem`` per style costs a
Python-side bounding box, data bounds and path conversion per item, twice or more per
paint. :class:`Batch` keeps each style's shapes in a Qt-native array (pyqtgraph's
``PrimitiveArray``, filled from NumPy) and paints them with one ``drawLines`` or
``drawRects`` call per style, in style order (later styles on top).
"""

from __future__ import annotations

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QBrush, QPainter, QPen


class Batch(pg.GraphicsObject):
    """Shapes of ``kind`` "lines" ((x0, y0, x1, y1) each) or "rects" ((x, y, w, h) each)."""

    def __init__(self, kind: str, styles: int):
        super().__init__()
        if kind not in ("lines", "rects"):
            raise ValueError(f"a batch holds 'lines' or 'rects', not {kind!r}")
        self.kind = kind
        klass = QLineF if kind == "lines" else QRectF
        self._arrays = [PrimitiveArray(klass, 4) for _ in range(styles)]
        self._pens = [QPen() for _ in range(styles)]
        self._brushes = [QBrush() for _ in range(styles)]
        self._bounds = QRectF()
        self.order = list(range(styles))  # the order styles are painted in

    @property
    def styles(self) -> int:
        return len(self._arrays)

    def set_style(self, k: int, pen: QPen, brush: QBrush | None = None) -> None:
        self._pens[k] = QPen(pen)
        self._brushes[k] = QBrush(brush) if brush is not None else QBrush()
        self.update()

    def set_bounds(self, rect: QRectF) -> None:
        """The area the shapes may cover (set once per layout, so no frame re-measures)."""
        if rect != self._bounds:
            self.prepareGeometryChange()
            self._bounds = QRectF(rect)
            self.update()

    def set_data(self, shapes: np.ndarray, style: np.ndarray) -> None:
        """(N, 4) shapes and the style of each (0 <= style < styles)."""
        shapes = np.asarray(shapes, dtype=np.float64).reshape(-1, 4)
        style = np.asarray(style, dtype=np.int64).ravel()
        if style.size != len(shapes):
            raise ValueError(f"{len(shapes)} shapes but {style.size} styles")
        order = np.argsort(style, kind="stable")
        counts = np.bincount(style, minlength=self.styles) if style.size else np.zeros(self.styles, int)
        starts = np.concatenate([[0], np.cumsum(counts)])
        ordered = shapes[order]
        for k, arr in enumerate(self._arrays):
            a, b = int(starts[k]), int(starts[k + 1])
            arr.resize(b - a)
            if b > a:
                arr.ndarray()[:] = ordered[a:b]
        self.update()

    def count(self, k: int) -> int:
        """Shapes of style ``k`` (for tests)."""
        return len(self._arrays[k])

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def paint(self, p: QPainter, *args) -> None:
        draw = p.drawLines if self.kind == "lines" else p.drawRects
        for k in self.order:
            arr = self._arrays[k]
            if len(arr) == 0:
                continue
            p.setPen(self._pens[k])
            p.setBrush(self._brushes[k])
            draw(*arr.drawargs())
