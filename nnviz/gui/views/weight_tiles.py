"""What each first-layer unit looks for: its incoming weights drawn as an image, one tile
per unit, redrawn as the network trains.

On image data (the inputs are pixels, :func:`nnviz.core.images.image_shape`) a unit's
incoming weights have the image's shape: orange where a bright pixel lowers the unit,
blue where it raises it (grey images), or the weights per colour channel around mid grey
(colour images). Each tile is scaled to its own strongest weight, so a weak unit's pattern
is as readable as a strong one's. A network without hidden layers shows its output
weights instead: the template each class matches. All tiles are one image
(:func:`nnviz.core.images.tile_grid`), at most 1,024 px a side, whatever the layer's width.

Clicking a tile emits :attr:`WeightTilesView.unitSelected` with the unit's index.
"""

from __future__ import annotations

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QStackedWidget, QVBoxLayout, QWidget

from nnviz.app.runinfo import RunInfo
from nnviz.core.images import (
    MAX_TILES,
    TileGeometry,
    image_shape,
    tile_at,
    tile_geometry,
    tile_grid,
    weight_tiles,
)
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.plot_title import TitleFitter
from nnviz.gui.views.topology_layout import unit_weights

TITLE = "first layer's weights as images: what each hidden unit looks for"
#: the title of a network without hidden layers: its only weights go to the outputs
OUTPUT_TITLE = "weights into each output as images: the template each class matches"
TILES, MESSAGE = 0, 1
#: how far a dead unit's tile is faded towards the theme's dead colour
DEAD_FADE = 0.7


def tile_colours(tiles: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """RGBA bytes (n, h, w, 4) for tiles (n, h, w, c) in -1..1: grey images through the
    diverging map ``lut`` (orange < 0 < blue), colour images (c >= 3) as their first three
    channels around mid grey (0 -> 0.5), two channels (grey + alpha) as the grey one.
    NaN (a diverged weight) shows as the map's middle / mid grey."""
    n, h, w, c = tiles.shape
    if c >= 3:
        rgba = np.empty((n, h, w, 4), np.uint8)
        with np.errstate(invalid="ignore"):
            rgb = np.nan_to_num(tiles[..., :3], nan=0.0) * 127.5 + 127.5
        np.clip(rgb, 0, 255, out=rgb)
        rgba[..., :3] = rgb
        rgba[..., 3] = 255
        return rgba
    return palette.map_diverging(tiles[..., 0], lut, 0.0, 1.0)


def _columns(n: int) -> int:
    """Tiles to a row: a square-ish block (100 units: 10 x 10)."""
    return max(int(np.ceil(np.sqrt(max(n, 1)))), 1)


class WeightTilesView(QWidget):
    """One tile per unit of the first layer: its incoming weights as an image."""

    unitSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("weightTilesView")
        self.frame_count = 0
        self._theme = palette.theme(False)
        self._info: RunInfo | None = None
        self._snap: Snapshot | None = None
        self._shape: tuple[int, int, int] | None = None
        self._units = 0
        self._geo: TileGeometry | None = None
        self._selected: int | None = None
        self._hover: int | None = None
        self._title_text = ""
        self._dead_count = 0
        self._input_matrix: np.ndarray | None = None
        self._build_ui()
        self._apply_theme()

    # --- construction --------------------------------------------------------------
    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot: pg.PlotItem = self.graphics.addPlot()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.disableAutoRange()
        palette.clip_title(self.plot)
        self._title_fitter = TitleFitter(self.graphics, [self.plot])
        self.vb = self.plot.getViewBox()
        self.vb.invertY(True)  # row 0 of each image on top, as the picture is seen
        self.vb.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self._frame = QGraphicsRectItem()  # the selected unit's outline
        self._frame.setZValue(10)
        self._frame.setVisible(False)
        self.plot.addItem(self._frame)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)
        self.graphics.scene().sigMouseMoved.connect(self._moved)
        self.stack.addWidget(self.graphics)
        self.message = QLabel()
        self.message.setObjectName("weightTilesMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setContentsMargins(16, 16, 16, 16)
        self.stack.addWidget(self.message)
        # the colour key and the hovered unit, under the tiles (never over them)
        self.caption = palette.legend_line("weightTilesCaption")
        layout.addWidget(self.caption)

    # --- public API ----------------------------------------------------------------
    def set_run(self, info: RunInfo) -> None:
        """Take a run: tiles when its inputs are the pixels of an image, else a message."""
        self._info = info
        self._snap = None
        self._selected = self._hover = None
        self._dead_count = 0
        self._frame.setVisible(False)
        self.image.clear()
        shape = image_shape(info.input_names)
        n_in = info.spec.input_dim
        # inputs rotated from the pixels (PCA, whitening): the run may say how, as
        # ``input_matrix`` (pixels, inputs); the weights are then mapped back onto the pixels
        matrix = getattr(info, "input_matrix", None)
        self._input_matrix = None
        if shape is not None and matrix is not None:
            matrix = np.asarray(matrix)
            if matrix.ndim == 2 and matrix.shape == (shape[0] * shape[1] * shape[2], n_in):
                self._input_matrix = matrix
        if shape is not None and self._input_matrix is None and shape[0] * shape[1] * shape[2] != n_in:
            shape = None
        self._shape = shape
        self._units = info.spec.hidden[0].units if info.spec.hidden else info.spec.output_dim
        if shape is None:
            self._geo = None
            names = ", ".join(info.input_names[:3]) + (", …" if len(info.input_names) > 3 else "")
            self.message.setText(
                "The first layer's weights are drawn as pictures when the inputs are the pixels of "
                "an image (columns named \"pixel r,c\", or a square number of unnamed inputs such as "
                f"64 = 8×8).\n\nThis run's {n_in:,} inputs ({names}) are not an image.")
            self.stack.setCurrentIndex(MESSAGE)
            self.caption.setVisible(False)
            return
        h, w, _c = shape
        shown = min(self._units, MAX_TILES)
        self._geo = tile_geometry(shown, h, w, _columns(shown))
        H, Wd = self._geo.shape
        self.vb.setRange(xRange=(0, max(Wd, 1)), yRange=(0, max(H, 1)), padding=0.02)
        self._title_text = TITLE if info.spec.hidden else OUTPUT_TITLE
        self._set_title()
        self.stack.setCurrentIndex(TILES)
        self.caption.setVisible(True)
        self._update_caption()

    def show_snapshot(self, snap: Snapshot) -> None:
        """Redraw every tile from the snapshot's first-layer weights."""
        if self._info is None or self._shape is None:
            return
        self._snap = snap
        self._draw()

    def redraw(self) -> None:
        """Draw the last snapshot again (after a theme change, say)."""
        if self._snap is not None and self._shape is not None:
            self._draw()

    @property
    def selected_unit(self) -> int | None:
        return self._selected

    def select_unit(self, unit: int | None) -> None:
        """Outline ``unit``'s tile (None: no outline); emits nothing."""
        geo = self._geo
        if unit is None or geo is None or not 0 <= unit < geo.count:
            self._selected = None
            self._frame.setVisible(False)
            return
        self._selected = int(unit)
        r0, c0 = geo.origin(unit)
        self._frame.setRect(QRectF(c0 - 0.5, r0 - 0.5, geo.tile_w + 1, geo.tile_h + 1))
        self._frame.setVisible(True)

    def tile_count(self) -> int:
        """Tiles drawn (at most :data:`~nnviz.core.images.MAX_TILES`)."""
        return 0 if self._geo is None else self._geo.count

    def set_theme(self, dark: bool) -> None:
        self._theme = palette.theme(dark)
        self._apply_theme()
        self.redraw()

    def export_image(self, path: str) -> None:
        """PNG (the view as shown) or SVG (the tiles' plot) by the file name's extension."""
        palette.export_view(self, self.graphics.scene(), path)

    # --- drawing -------------------------------------------------------------------
    def _draw(self) -> None:
        snap, geo = self._snap, self._geo
        W = snap.params[0] if snap.params else None
        n_in = self._info.spec.input_dim
        if W is None or W.ndim != 2 or W.shape[0] != n_in or W.shape[1] % max(self._units, 1):
            return  # a snapshot of another network (a run being replaced): nothing to draw
        W = unit_weights(W, self._units)
        tiles = weight_tiles(W, self._shape, max_units=geo.count, input_matrix=self._input_matrix)
        rgba = tile_colours(tiles, self._lut)
        dead = self._dead(snap)
        if dead is not None and dead.any():
            fade = np.asarray(self._theme.dead_fill, np.float32)
            d = rgba[dead[: len(rgba)], :, :, :3].astype(np.float32)
            rgba[dead[: len(rgba)], :, :, :3] = (d + (fade - d) * DEAD_FADE).astype(np.uint8)
        bg = (*self._theme.background, 255)
        mosaic = tile_grid(rgba, geo.cols, fill=bg)
        self.image.setImage(mosaic, autoLevels=False)
        self.image.setRect(QRectF(0, 0, mosaic.shape[1], mosaic.shape[0]))  # one unit per pixel
        self._dead_count = 0 if dead is None else int(np.count_nonzero(dead[: geo.count]))
        self._update_caption()
        self.frame_count += 1

    def _dead(self, snap: Snapshot) -> np.ndarray | None:
        """Dead units of the first hidden layer (None: no such record or no hidden layer)."""
        if not self._info.spec.hidden or not snap.layers:
            return None
        dead = snap.layers[0].dead_units
        if dead is None or dead.shape != (self._units,):
            return None
        return np.asarray(dead, bool)

    def _set_title(self) -> None:
        if self._title_text:
            self.plot.setTitle(self._title_text, color=self._theme.css("foreground"), size="10pt")
            self._title_fitter.fit()

    def _update_caption(self) -> None:
        th, dead = self._theme, self._dead_count
        if self._shape is None:
            return
        orange = "#{:02x}{:02x}{:02x}".format(*palette.NEGATIVE)
        blue = "#{:02x}{:02x}{:02x}".format(*palette.POSITIVE)
        if self._shape[2] >= 3:
            key = ("each pixel's colour is the unit's weight on its red, green and blue: "
                   "mid grey = 0, redder = likes red there, darker = dislikes brightness there")
        else:
            key = (f"<b style='color:{orange}'>orange</b> = a bright pixel there lowers the unit, "
                   f"<b style='color:{blue}'>blue</b> = raises it")
        parts = [key, "each tile on its own scale"]
        if dead:
            parts.append(f"{dead} greyed: dead units (never active, no longer learning)")
        if self._units > (0 if self._geo is None else self._geo.count):
            parts.append(f"the first {self._geo.count} of {self._units} units")
        hover = self._hover if self._hover is not None else self._selected
        if hover is not None:
            parts.append(f"<b>unit {hover}</b>")  # from 0, as the Network view and Unit page count
        else:
            parts.append("click a tile to pick its unit")
        self.caption.setText(f"<span style='color:{th.css('muted')}'>" + " · ".join(parts) + "</span>")

    def _tile_under(self, scene_pos) -> int | None:
        if self._geo is None or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        return tile_at(self._geo, p.y(), p.x())

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        unit = self._tile_under(event.scenePos())
        if unit is None:
            return
        self.select_unit(unit)
        self._update_caption()
        self.unitSelected.emit(unit)

    def _moved(self, scene_pos) -> None:
        unit = self._tile_under(scene_pos)
        if unit != self._hover:
            self._hover = unit
            self._update_caption()

    def _apply_theme(self) -> None:
        th = self._theme
        self._lut = palette.diverging_lut(th)
        self.graphics.setBackground(th.q("background"))
        palette.style_plot(self.plot, th)
        self._set_title()
        pen = pg.mkPen(th.q("selection"), width=2)
        pen.setCosmetic(True)
        self._frame.setPen(pen)
        self.message.setStyleSheet(f"color: {th.css('foreground')}; background: {th.css('background')};")
        self.caption.setStyleSheet(f"background: {th.css('background')};")
        self._update_caption()
