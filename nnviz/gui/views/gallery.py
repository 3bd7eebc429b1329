"""Which pictures the network gets wrong: a grid of test examples as images with their
true and predicted classes, the mistakes first, redrawn as it trains.

Each snapshot may carry the network's answers on a fixed set of examples as
``snap.examples`` (an :class:`~nnviz.core.images.ExamplePredictions`, made by
:func:`~nnviz.core.images.predict_examples` from the scores behind the confusion matrix).
The gallery shows up to :data:`~nnviz.core.images.GALLERY_SIZE` of them in
:func:`~nnviz.core.images.gallery_order`: the most confident mistakes first (the ones to
look at), then the correct answers the network was least sure of. Before any predictions
arrive (or from a trainer that makes none) a seeded sample of the examples
(:func:`~nnviz.core.images.example_subset`) is shown unlabelled.
:meth:`GalleryView.show_class_pair` narrows the grid to one cell of the confusion matrix.

One widget paints every cell itself (images cached once per run): no items to add or
remove per frame, whatever the data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from nnviz.app.runinfo import RunInfo
from nnviz.core.images import (
    EXAMPLE_COUNT,
    EXAMPLE_SEED,
    GALLERY_SIZE,
    ExamplePredictions,
    display_range,
    example_subset,
    gallery_order,
    image_shape,
    picture_bytes,
    tile_grid,
)
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.captioned_page import captioned_page

TITLE = "test examples as the network sees them: mistakes first"
GRID, MESSAGE = 0, 1
#: an example's picture is cached at most this many pixels a side (cells are smaller)
MAX_CACHED_SIDE = 128
#: a picture is drawn at least this large on screen; fewer examples are shown when the
#: view is too small for all of them
MIN_IMAGE_PX = 40
#: a cell is at most this wide for its text (longer class names are cut with "…")
MAX_LABEL_PX = 120
#: pixels between cells
CELL_GAP = 10
#: the largest a cell's picture is drawn (a filtered gallery of a few examples)
MAX_CELL_PX = 160


@dataclass(frozen=True)
class Cell:
    """One example in the grid: its row in the split, true class, and the network's
    answer (``predicted`` None: no prediction yet; -1: no answer, the run diverged)."""

    index: int
    true: int | None
    predicted: int | None = None
    confidence: float = float("nan")

    @property
    def wrong(self) -> bool:
        return self.predicted is not None and self.predicted != self.true


@dataclass(frozen=True)
class GridLayout:
    """Cells of a gallery on screen: ``shown`` of them, ``cols`` to a row, each
    ``cell_w`` pixels wide, the picture ``scale`` screen pixels per image pixel."""

    shown: int
    cols: int
    scale: float
    cell_w: float


def grid_layout(n: int, img_h: int, img_w: int, width: float, height: float, text_h: float,
                label_w: float = 0.0, gap: float = CELL_GAP, min_image: float = MIN_IMAGE_PX) -> GridLayout:
    """How ``n`` cells fit a ``width`` x ``height`` area: each cell at least ``label_w``
    wide (its text must be read whole) with ``text_h`` pixels of text under the picture;
    columns chosen for the largest pictures. When the pictures would be smaller than
    ``min_image`` pixels, fewer examples are shown (at least one)."""
    img_h, img_w = max(int(img_h), 1), max(int(img_w), 1)
    side = max(img_h, img_w)

    def best(shown: int) -> GridLayout:
        out = GridLayout(shown, 1, 0.0, 0.0)
        for cols in range(1, shown + 1):
            cell_w = (width - gap * (cols + 1)) / cols
            if cols > 1 and cell_w < label_w:
                break  # more columns are narrower still
            rows = -(-shown // cols)
            cell_h = (height - gap * (rows + 1)) / rows - text_h
            scale = min(cell_w / img_w, cell_h / img_h)
            if scale > out.scale:
                out = GridLayout(shown, cols, scale, cell_w)
        return out

    if n <= 0:
        return GridLayout(0, 1, 0.0, 0.0)
    for shown in range(int(n), 0, -1):
        lay = best(shown)
        if lay.scale * side >= min_image:
            return lay
    lay = best(1)
    return GridLayout(1, 1, max(lay.scale, 0.0), max(lay.cell_w, 0.0))


class _Grid(QWidget):
    """The cells, painted in one pass."""

    def __init__(self, owner: GalleryView):
        super().__init__()
        self._owner = owner
        self.setMinimumSize(120, 100)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.drawn = 0  # cells painted in the last paint (for tests)

    def sizeHint(self) -> QSize:
        return QSize(480, 400)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._owner._clicked(event.position().x(), event.position().y())
        super().mousePressEvent(event)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            self._owner._paint(p, self.width(), self.height())
        finally:
            p.end()


class GalleryView(QWidget):
    """Up to 48 examples as images with true and predicted classes, mistakes first.

    Clicking a picture selects that example (its row of the split) and emits
    :attr:`exampleSelected`; clicking it again clears the choice (-1)."""

    exampleSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("galleryView")
        self.frame_count = 0
        self._theme = palette.theme(False)
        self._info: RunInfo | None = None
        self._snap: Snapshot | None = None
        self._shape: tuple[int, int, int] | None = None
        self._X: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._split = "test"
        self._subset = np.zeros(0, np.int64)
        self._lo, self._hi = 0.0, 1.0
        self._cache: dict[int, QImage] = {}
        self._cells: list[Cell] = []
        self._longest = ""  # the longest class name (the width a cell's text needs)
        self._pair: tuple[int, int] | None = None
        self._predictions: ExamplePredictions | None = None
        self._layout_key: tuple | None = None
        self._layout = GridLayout(0, 1, 0.0, 0.0)
        self._selected: int | None = None  # the chosen example's row of the split
        self._hits: list[tuple[QRectF, int]] = []  # each painted cell's rectangle and row
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(self._font.pointSizeF() - 1, 7))
        self._build_ui()
        self._apply_theme()

    def _build_ui(self) -> None:
        self.grid = _Grid(self)
        self.header, self.stack, self.message = captioned_page(self, "gallery", self.grid)
        # a confusion cell narrows the grid; the header's link widens it again
        self.header.linkActivated.connect(lambda _link: self.clear_filter())

    # --- public API ----------------------------------------------------------------
    def set_run(self, info: RunInfo) -> None:
        """Take a run: its examples as pictures when the inputs are an image, else a message."""
        self._info = info
        self._snap = None
        self._predictions = None
        self._pair = None
        self._selected = None
        self._hits = []
        self._cache = {}
        shape = image_shape(info.input_names)
        X, y, split = info.test_X, info.test_y, "test"
        if X is None or not len(X):
            X, y, split = info.train_X, info.train_y, "train"
        if shape is not None and (X is None or X.ndim != 2 or X.shape[1] != shape[0] * shape[1] * shape[2]):
            shape = None
        self._shape = shape
        if shape is None:
            self._X = self._y = None
            self._subset = np.zeros(0, np.int64)
            self._cells = []
            self.message.setText("The gallery shows the examples as pictures when the inputs are the pixels "
                                 "of an image (columns named \"pixel r,c\", or a square number of unnamed "
                                 "inputs such as 64 = 8×8). This run's inputs are not an image.")
            self.header.setText("")
            self.stack.setCurrentIndex(MESSAGE)
            return
        self._X, self._split = X, split
        classes = info.task == "classification" and y is not None and y.ndim == 1
        self._y = np.asarray(y) if classes else None
        self._subset = example_subset(len(X), EXAMPLE_COUNT, EXAMPLE_SEED)
        self._longest = max(info.class_names[:1024], key=len, default="")
        self._lo, self._hi = display_range(X[self._subset])
        self._cells = self._unlabelled()
        self.stack.setCurrentIndex(GRID)
        self._update_header()
        self.grid.update()

    def show_snapshot(self, snap: Snapshot) -> None:
        """Relabel and reorder the examples from the snapshot's predictions (when it has any)."""
        if self._info is None or self._shape is None:
            return
        self._snap = snap
        ex = getattr(snap, "examples", None)
        self._predictions = ex if self._usable(ex) else None
        self._arrange()

    def redraw(self) -> None:
        if self._shape is not None:
            self._arrange()

    def show_class_pair(self, true_class: int | None, predicted_class: int | None) -> None:
        """Only the examples of class ``true_class`` predicted as ``predicted_class`` (one
        cell of the confusion matrix); None for either shows every example again."""
        if true_class is None or predicted_class is None:
            self._pair = None
        else:
            self._pair = (int(true_class), int(predicted_class))
        if self._shape is not None:
            self._arrange()

    def clear_filter(self) -> None:
        self.show_class_pair(None, None)

    @property
    def class_pair(self) -> tuple[int, int] | None:
        return self._pair

    @property
    def split(self) -> str:
        """The split the examples' rows are of: "test", or "train" for a run without one."""
        return self._split

    @property
    def selected_example(self) -> int | None:
        return self._selected

    def select_example(self, index: int | None) -> None:
        """Outline example ``index`` (a row of the split; None: none); emits nothing."""
        n = 0 if self._X is None else len(self._X)
        self._selected = int(index) if index is not None and 0 <= index < n else None
        self.grid.update()

    def example_at(self, x: float, y: float) -> int | None:
        """The example painted at grid pixel (x, y), None between cells (what a click hits)."""
        for rect, index in self._hits:
            if rect.contains(x, y):
                return index
        return None

    def cell_centre(self, index: int) -> tuple[float, float] | None:
        """Grid pixel of example ``index``'s picture centre, None when it is not painted."""
        for rect, i in self._hits:
            if i == index:
                return rect.center().x(), rect.center().y()
        return None

    def _clicked(self, x: float, y: float) -> None:
        index = self.example_at(x, y)
        if index is None:
            return
        self.select_example(None if index == self._selected else index)
        self.exampleSelected.emit(-1 if self._selected is None else self._selected)

    def cells(self) -> list[Cell]:
        """The examples shown, in order (the view may paint fewer when it is small)."""
        return list(self._cells)

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme()
        self.redraw()

    def export_image(self, path: str) -> None:
        """PNG (the view as shown) or SVG (the same painting as vectors and images)."""
        palette.export_painted(self, path, TITLE)

    # --- content -------------------------------------------------------------------
    def _usable(self, ex) -> bool:
        """Predictions for this run's split, with indices inside it (a stale or foreign
        record is ignored rather than drawn wrong)."""
        if not isinstance(ex, ExamplePredictions) or ex.split != self._split or self._y is None:
            return False
        n = len(ex.indices)
        if len(ex.predicted) != n or len(ex.confidence) != n:
            return False
        return n == 0 or (int(ex.indices.min()) >= 0 and int(ex.indices.max()) < len(self._X))

    def _unlabelled(self) -> list[Cell]:
        rows = self._subset[:GALLERY_SIZE]
        return [Cell(int(i), None if self._y is None else int(self._y[i])) for i in rows]

    def _arrange(self) -> None:
        ex = self._predictions
        if ex is None:
            cells = self._unlabelled()
            if self._pair is not None and self._y is not None:
                cells = []  # a cell of the matrix needs predictions
        else:
            idx = np.asarray(ex.indices, np.int64)
            true = self._y[idx]
            pred = np.asarray(ex.predicted, np.int64)
            keep = np.arange(len(idx))
            if self._pair is not None:
                keep = np.flatnonzero((true == self._pair[0]) & (pred == self._pair[1]))
            order = keep[gallery_order(true[keep], pred[keep], ex.confidence[keep])][:GALLERY_SIZE]
            cells = [Cell(int(idx[k]), int(true[k]), int(pred[k]), float(ex.confidence[k])) for k in order]
        self._cells = cells
        self._update_header()
        self.grid.update()
        self.frame_count += 1

    def _update_header(self) -> None:
        th = self._theme
        info = self._info
        if info is None or self._shape is None:
            return
        red = th.css("dead")
        ex = self._predictions
        what = "test" if self._split == "test" else "training"
        if self._pair is not None:
            t, p = (self._class_name(k) for k in self._pair)
            if ex is None:
                line = f"true {t}, predicted {p}: waiting for the network's predictions"
            else:
                line = (f"true <b>{t}</b> predicted as <b>{p}</b>: {len(self._cells)} of the "
                        f"{len(ex.indices):,} {what} examples checked")
            line += f" · <a href='all' style='color:{th.css('foreground')}'>show all examples</a>"
        elif ex is None:
            line = (f"{what} examples, not labelled yet: the predictions come with the next snapshot"
                    if self._y is not None else f"{what} examples (no classes to predict)")
        else:
            wrong = int(np.count_nonzero(np.asarray(ex.predicted) != self._y[np.asarray(ex.indices)]))
            counted = (f"{wrong} of {len(ex.indices):,} {what} examples wrong" if wrong else
                       f"none of {len(ex.indices):,} {what} examples wrong: the least sure answers first")
            line = (f"<span style='color:{red}'><b>red</b></span> = wrong · under each: true class, then "
                    f"→ predicted (confidence) · {counted} · click a picture to feed it to the Network view")
        self.header.setText(f"<span style='color:{th.css('foreground')}'><b>{TITLE}</b></span><br>"
                            f"<span style='color:{th.css('muted')}'>{line}</span>")

    def _class_name(self, k: int | None) -> str:
        if k is None:
            return ""
        if k < 0:
            return "?"
        names = self._info.class_names if self._info is not None else ()
        return names[k] if 0 <= k < len(names) else str(k)

    # --- painting ------------------------------------------------------------------
    def _image(self, i: int) -> QImage:
        """Example ``i``'s picture, made once per run (at most MAX_CACHED_SIDE a side)."""
        img = self._cache.get(i)
        if img is not None:
            return img
        h, w, c = self._shape
        a = np.asarray(self._X[i], np.float64)
        if max(h, w) > MAX_CACHED_SIDE:
            small = tile_grid(a.reshape(1, h, w, c), 1, gap=0, most=MAX_CACHED_SIDE)
            t = picture_bytes(small.ravel(), small.shape, self._lo, self._hi)
        else:
            t = picture_bytes(a, self._shape, self._lo, self._hi)
        img = bytes_image(t)
        self._cache[i] = img
        return img

    def _paint(self, p: QPainter, width: int, height: int) -> None:
        th = self._theme
        p.fillRect(0, 0, width, height, th.q("background"))
        self.grid.drawn = 0
        self._hits = []
        if self._shape is None or not self._cells:
            if self._shape is not None and self._pair is not None:
                p.setPen(th.q("muted"))
                p.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter,
                           "no examples in this cell of the confusion matrix")
            return
        p.setFont(self._font)
        fm = QFontMetrics(self._font)
        labelled = any(c.true is not None for c in self._cells)
        lines = (2 if any(c.predicted is not None for c in self._cells) else 1) if labelled else 0
        text_h = lines * fm.height() + (2 if lines else 0)
        h, w, _ = self._shape
        label_w = 0.0
        if lines:
            label_w = min(fm.horizontalAdvance(f"→ {self._longest} 100%") + 4, MAX_LABEL_PX)
        key = (len(self._cells), h, w, width, height, text_h, label_w)
        if self._layout_key != key:
            self._layout_key, self._layout = key, grid_layout(*key)
        lay = self._layout
        shown, cols = lay.shown, lay.cols
        scale = min(lay.scale, max(MAX_CELL_PX / max(h, w), 1.0))
        if shown == 0 or scale <= 0:
            return
        if scale >= 2:  # integer zoom keeps enlarged pixels square and sharp
            scale = float(int(scale))
        img_w, img_h = w * scale, h * scale
        cell_w = max(img_w, min(lay.cell_w, max(label_w, img_w)))
        rows = -(-shown // cols)
        total_w = cols * cell_w + (cols - 1) * CELL_GAP
        total_h = rows * (img_h + text_h) + (rows - 1) * CELL_GAP
        x0, y0 = max((width - total_w) / 2, 0), max((height - total_h) / 2, CELL_GAP / 2)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
        wrong_pen = QPen(th.q("dead"), 3)
        chosen_pen = QPen(th.q("selection"), 3)
        muted, fg, red = th.q("muted"), th.q("foreground"), th.q("dead")
        line_h = fm.height()
        text_w = int(cell_w + CELL_GAP - 2)
        for k, cell in enumerate(self._cells[:shown]):
            r, q = divmod(k, cols)
            x = x0 + q * (cell_w + CELL_GAP)
            y = y0 + r * (img_h + text_h + CELL_GAP)
            target = QRectF(x + (cell_w - img_w) / 2, y, img_w, img_h)
            p.drawImage(target, self._image(cell.index))
            self._hits.append((QRectF(x, y, cell_w, img_h + text_h), cell.index))
            if cell.index == self._selected:
                p.setPen(chosen_pen)
                p.drawRect(target.adjusted(-4.5, -4.5, 4.5, 4.5))
            if cell.wrong:
                p.setPen(wrong_pen)
                p.drawRect(target.adjusted(-1.5, -1.5, 1.5, 1.5))
            if not lines:
                continue
            tx = x + cell_w / 2 - text_w / 2
            p.setPen(fg)
            p.drawText(QRectF(tx, y + img_h + 2, text_w, line_h), Qt.AlignmentFlag.AlignHCenter,
                       fm.elidedText(self._class_name(cell.true), Qt.TextElideMode.ElideRight, text_w))
            if cell.predicted is not None:
                conf = "" if not np.isfinite(cell.confidence) else f" {100 * cell.confidence:.0f}%"
                room = text_w - fm.horizontalAdvance("→ " + conf)
                name = fm.elidedText(self._class_name(cell.predicted), Qt.TextElideMode.ElideRight,
                                     max(room, 8))
                p.setPen(red if cell.wrong else muted)
                p.drawText(QRectF(tx, y + img_h + 2 + line_h, text_w, line_h), Qt.AlignmentFlag.AlignHCenter,
                           f"→ {name}{conf}")
        self.grid.drawn = shown

    def _apply_theme(self) -> None:
        th = self._theme
        self.setAutoFillBackground(True)
        self.setStyleSheet("")
        self.header.setStyleSheet(f"background: {th.css('background')};")
        self.message.setStyleSheet(f"color: {th.css('foreground')}; background: {th.css('background')};")
        self._update_header()
        self.grid.update()



def bytes_image(t: np.ndarray) -> QImage:
    """A QImage owning a copy of bytes (h, w, 1) grey or (h, w, 3) colour."""
    buf = np.ascontiguousarray(t)
    h, w = buf.shape[:2]
    if buf.shape[2] >= 3:
        img = QImage(buf.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        img = QImage(buf.data, w, h, w, QImage.Format.Format_Grayscale8)
    return img.copy()  # owns its pixels: the buffer goes away
