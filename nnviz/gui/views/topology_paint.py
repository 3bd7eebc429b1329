"""The topology view's painting from each snapshot: neuron cells, collapsed layers, links, marks.

:class:`TopologyPainting` is mixed into :class:`~nnviz.gui.views.topology.TopologyView`:
for every snapshot it colours each column's neurons (their map over the input plane for
2-D data, else their mean activation), paints a collapsed layer's weight image and unit
strip, hands the strongest links to the batched link item, sets the bias squares, dead
crosses and saturation frames only when they changed, and writes the dead and saturated
counts under each column. The view builds the items (once per run) and handles the
labels, theme, hover and clicks; :mod:`~nnviz.gui.views.topology_layout` decides where
everything goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph, so it binds to PySide6)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from nnviz.core.images import picture_bytes
from nnviz.core.preprocess import FEATURES_2D, expand_features
from nnviz.core.trainer import Snapshot
from nnviz.gui.views import palette
from nnviz.gui.views.bounded import MAX_IMAGE_SIDE, shrink_mean, shrink_share, shrink_signed
from nnviz.gui.views.stats_table import dead_text
from nnviz.gui.views.topology_layout import (
    BIAS_MARK,
    BLOCK_W,
    CELL,
    HEADER_FULL_PX,
    HEADER_MEDIUM_PX,
    PITCH,
    STRIP,
    ColumnGeometry,
    column_means,
    finite_extremes,
    strength_levels,
    strongest_links,
    unit_biases,
    unit_weights,
)

PLAIN_PIXELS = 4  # pixels per cell when a neuron is a plain colour (no 2-D map)
LABEL_WIDTH = 140  # pixels: width of the centred text above and below each column
_BOUNDED = {"sigmoid": (0.5, 0.5), "tanh": (0.0, 1.0)}  # (centre, half-range) of outputs


@dataclass
class _Column(ColumnGeometry):
    """A column's place (see :mod:`topology_layout`) and the items that paint it."""

    header: pg.TextItem | None = None
    footer: pg.TextItem | None = None
    cells: pg.ImageItem | None = None  # individual neurons, one mosaic image
    block: pg.ImageItem | None = None  # collapsed: incoming weights (units x fan-in)
    strip: pg.ImageItem | None = None  # collapsed: one row per unit
    image: pg.ImageItem | None = None  # an input picture: the chosen example or the mean image
    mosaic: np.ndarray | None = None  # (units, pitch px, cell px, 4) backing the cells image
    footer_html: str = ""
    names: list[pg.TextItem] = field(default_factory=list)

    @classmethod
    def placed(cls, geo: ColumnGeometry) -> _Column:
        return cls(**{f.name: getattr(geo, f.name) for f in fields(ColumnGeometry)})


class TopologyPainting:
    """The per-snapshot drawing methods of :class:`~nnviz.gui.views.topology.TopologyView`
    (they use its items: ``_columns``, ``_links``, ``_bias_marks``, ``_dead_marks``...)."""

    def _static_colours(self) -> None:
        """Parts that do not change during a run: the collapsed input strip, input cells."""
        info = self._info
        col = self._columns[0]
        th = self._theme
        if col.picture is not None:
            self._draw_input_picture()
        elif col.collapsed:
            X = info.train_X
            if X is not None and X.ndim == 2 and X.shape[1] == col.units and len(X):
                means = shrink_mean(column_means(X))
                lut = palette.intensity_lut(th, th.muted)
                lo, hi = finite_extremes(means)
                rgba = palette.map_sequential(means, lut, lo, hi)
            else:
                rgba = np.tile(np.array([*th.neutral, 255], np.uint8), (min(col.units, MAX_IMAGE_SIDE), 1))
            col.strip.setImage(np.ascontiguousarray(rgba[::-1, None, :]), autoLevels=False)
        elif info.extent is None:
            colours = np.tile(np.array([*palette.mix(th.neutral, th.muted, 0.35), 255], np.uint8),
                              (col.units, 1))
            self._set_cells(col, colours)

    def _draw_input_picture(self) -> None:
        """The input column's picture: the chosen example, else the mean image (pixel
        bytes from :func:`~nnviz.core.images.picture_bytes`, set only when it changes)."""
        col = self._columns[0]
        x = self._input_pixels()
        key = (self._example, self._example_split)
        if x is None or self._picture_key == key:
            return
        self._picture_key = key
        t = picture_bytes(x, col.picture, *self._picture_range)
        rgba = np.empty((*t.shape[:2], 4), np.uint8)
        rgba[..., :3] = t if t.shape[2] >= 3 else t[..., :1]
        rgba[..., 3] = 255
        col.image.setImage(np.ascontiguousarray(rgba[::-1]), autoLevels=False)  # row 0 on top
        col.image.setRect(QRectF(col.x0, col.bottom, col.x1 - col.x0, col.top - col.bottom))

    def _draw(self) -> None:
        snap, info = self._snap, self._info
        grid = snap.grid if info.extent is not None else None
        self._draw_links(snap)
        bias_pos, bias_level, dead_pos, sat_pos = [], [], [], []
        for col in self._columns:
            if col.kind == "input":
                if grid is not None and not col.collapsed:
                    self._draw_input_maps(col, grid)
                continue
            lay = snap.layers[col.index - 1]
            W = unit_weights(snap.params[2 * (col.index - 1)], col.units)
            b = unit_biases(snap.params[2 * (col.index - 1) + 1], col.units)
            dead = lay.dead_units if lay.dead_units is not None else np.zeros(col.units, bool)
            sat = lay.saturated_units if lay.saturated_units is not None else np.zeros(col.units, bool)
            if col.collapsed:
                self._draw_block(col, W, lay.mean_activation, dead, sat)
            else:
                if grid is not None:
                    rgba = self._map_colours(col, grid, snap)
                else:
                    rgba = self._plain_colours(col, lay.mean_activation)
                if dead.any():
                    fill = np.array(self._theme.dead_fill, np.float32)
                    rgba[dead, ..., :3] = (rgba[dead, ..., :3] * 0.25 + fill * 0.75).astype(np.uint8)
                self._set_cells(col, rgba)
                xc = (col.x0 + col.x1) / 2
                bias_pos.append(np.column_stack([np.full(col.units, col.x0), col.ys - CELL / 2]))
                bias_level.append(self._bias_levels(b))
                if dead.any():
                    dead_pos.append(np.column_stack([np.full(int(dead.sum()), xc), col.ys[dead]]))
                if sat.any():
                    sat_pos.append(np.column_stack([np.full(int(sat.sum()), xc), col.ys[sat]]))
            self._update_footer(col, lay)
        self._set_marks(bias_pos, bias_level, dead_pos, sat_pos)
        self.frame_count += 1

    def _set_marks(self, bias_pos, bias_level, dead_pos, sat_pos) -> None:
        """Bias squares, dead crosses and saturation rings; each set only when it changed."""
        th = self._theme
        none = np.zeros((0, 2))
        pos = np.concatenate(bias_pos) if bias_pos else none
        level = np.concatenate(bias_level) if bias_level else np.zeros(0, np.int64)
        if self._changed("bias", pos, level):
            rects = np.column_stack([pos - BIAS_MARK / 2, np.full((len(pos), 2), BIAS_MARK)])
            self._bias_marks.set_data(rects, level)
        dead = np.concatenate(dead_pos) if dead_pos else none
        if self._changed("dead", dead):
            if not len(dead):
                self._dead_marks.clear()
            else:
                self._dead_marks.setData(pos=dead, size=CELL * 0.9, brush=pg.mkBrush(th.q("dead")),
                                         pen=pg.mkPen(None))
        sat = np.concatenate(sat_pos) if sat_pos else none
        if self._changed("sat", sat):
            if not len(sat):
                self._sat_marks.clear()
            else:
                # a thin square frame just outside the cell: the neuron's map stays visible
                self._sat_marks.setData(pos=sat, size=CELL + 0.14, brush=pg.mkBrush(None),
                                        pen=pg.mkPen(th.q("saturated"), width=1.6))

    def _changed(self, key: str, *arrays: np.ndarray) -> bool:
        """Whether ``arrays`` differ from the last ones under ``key``; remembers them."""
        old = self._marks_key.get(key)
        if old is not None and all(a.shape == b.shape and np.array_equal(a, b)
                                   for a, b in zip(arrays, old, strict=True)):
            return False
        self._marks_key[key] = arrays
        return True

    def _bias_levels(self, b: np.ndarray) -> np.ndarray:
        """Each bias's shade: sign * LINK_BUCKETS + strength bucket."""
        return strength_levels(b, palette.max_abs(b))

    def _plain_colours(self, col: _Column, values: np.ndarray) -> np.ndarray:
        centre, scale = self._scale(col, values)
        return palette.map_diverging(values, self._div_lut, centre, scale)

    def _scale(self, col: _Column, values: np.ndarray) -> tuple[float, float]:
        residual = col.kind == "hidden" and self._info.spec.residual_layers()[col.index - 1]
        if col.activation in _BOUNDED and not residual:
            return _BOUNDED[col.activation]
        return 0.0, palette.max_abs(values)

    def _map_colours(self, col: _Column, grid, snap: Snapshot) -> np.ndarray:
        """(units, H, W, 4) bytes: each neuron's output over the input plane."""
        if col.kind == "hidden":
            vals = np.moveaxis(grid.neurons[col.index - 1], 2, 0)
            centre, scale = self._scale(col, vals)
            return palette.map_diverging(vals, self._div_lut, centre, scale)
        out = grid.output
        info = self._info
        if info.task != "classification":
            vals = np.moveaxis(out, 2, 0)
            return palette.map_diverging(vals, self._div_lut, 0.0, palette.max_abs(vals))
        if info.spec.loss == "logistic":
            return palette.map_diverging(out[None, :, :, 1], self._div_lut, 0.5, 0.5)
        rgba = np.empty((col.units, *out.shape[:2], 4), np.uint8)
        colours = palette.class_colors(col.units)
        for k in range(col.units):
            lut = palette.intensity_lut(self._theme, tuple(int(v) for v in colours[k]))
            rgba[k] = palette.map_sequential(out[:, :, k], lut, 0.0, 1.0)
        return rgba

    def _draw_input_maps(self, col: _Column, grid) -> None:
        key = (grid.xs.tobytes(), grid.ys.tobytes(), self._theme.dark)  # a new grid each snapshot
        if self._input_maps_key == key:
            return
        names = list(self._info.input_names)
        if len(names) != col.units or any(n not in FEATURES_2D for n in names):
            names = ["x1", "x2"] if col.units == 2 else None
        if names is None:
            rgba = np.tile(np.array([*self._theme.neutral, 255], np.uint8),
                           (col.units, len(grid.ys), len(grid.xs), 1))
        else:
            gx, gy = np.meshgrid(grid.xs, grid.ys)
            feats = expand_features(np.column_stack([gx.ravel(), gy.ravel()]), tuple(names))
            vals = np.moveaxis(feats.reshape(len(grid.ys), len(grid.xs), -1), 2, 0)
            scales = np.array([palette.max_abs(v) for v in vals], np.float32)[:, None, None]
            rgba = palette.map_diverging(vals / scales, self._div_lut, 0.0, 1.0)
        self._set_cells(col, rgba)
        self._input_maps_key = key

    def _set_cells(self, col: _Column, rgba: np.ndarray) -> None:
        """Write per-unit colours (units, 4) or maps (units, H, W, 4) into the column's image."""
        n = col.units
        if rgba.ndim == 2:
            g_h = g_w = PLAIN_PIXELS
        else:
            g_h, g_w = rgba.shape[1], rgba.shape[2]
        p_h = round(g_h * PITCH / CELL)
        if col.mosaic is None or col.mosaic.shape[1:3] != (p_h, g_w):
            col.mosaic = np.zeros((n, p_h, g_w, 4), np.uint8)
        if rgba.ndim == 2:
            col.mosaic[:, :g_h] = rgba[::-1, None, None, :]
        else:
            col.mosaic[:, :g_h] = rgba[::-1]
        img = col.mosaic.reshape(n * p_h, g_w, 4)[: n * p_h - (p_h - g_h)]
        col.cells.setImage(img, autoLevels=False)
        col.cells.setRect(QRectF(col.x0, col.bottom, CELL, col.top - col.bottom))

    def _draw_block(self, col: _Column, W: np.ndarray, means: np.ndarray, dead: np.ndarray,
                    sat: np.ndarray) -> None:
        th = self._theme
        # at most MAX_IMAGE_SIDE pixels a side: pyqtgraph cannot paint an image side over
        # 32,767, and a 20M-weight image per frame would cost 160 MB and ~0.1 s
        shown = shrink_signed(W, MAX_IMAGE_SIDE, MAX_IMAGE_SIDE)
        img = palette.map_diverging(shown.T[::-1], self._div_lut, 0.0, palette.max_abs(shown))
        col.block.setImage(img, autoLevels=False)
        col.block.setRect(QRectF(col.x0, col.bottom, BLOCK_W, col.top - col.bottom))
        rgba = self._plain_colours(col, shrink_mean(means))
        rgba[shrink_share(sat)] = (*th.saturated, 255)
        rgba[shrink_share(dead)] = (*th.dead, 255)
        col.strip.setImage(np.ascontiguousarray(rgba[::-1, None, :]), autoLevels=False)
        col.strip.setRect(QRectF(col.strip_x0, col.bottom, STRIP, col.top - col.bottom))

    def _draw_links(self, snap: Snapshot) -> None:
        """The strongest links of every gap whose target is drawn neuron by neuron."""
        d = strongest_links(self._columns, snap.params, palette.max_abs)
        self._drawn = d
        if not d:
            self._links.set_data(np.zeros((0, 4)), np.zeros(0, np.int64))
            return
        self._links.set_data(np.column_stack([d["x0"], d["y0"], d["x1"], d["y1"]]), d["key"])

    def _update_footer(self, col: _Column, lay) -> None:
        """Dead and saturated counts under the column, shorter where columns are narrow
        ("1 dead at start, +2 since" / "1+2 dead", "4 saturated" / "4 sat." / "4 ▢")."""
        th = self._theme
        bits = []
        n_dead = 0 if lay.dead_units is None else int(np.count_nonzero(lay.dead_units))
        n_sat = 0 if lay.saturated_units is None else int(np.count_nonzero(lay.saturated_units))
        room = self._label_px or LABEL_WIDTH
        if n_dead or lay.dead_since_start:
            if room >= HEADER_MEDIUM_PX:
                text = dead_text(lay, room < HEADER_FULL_PX)
            else:
                since = lay.dead_since_start
                text = f"{n_dead - since}+{since}&#10006;" if since else f"{n_dead}&#10006;"
            bits.append(f"<span style='color:{th.css('dead')}'>{text}</span>")
        if n_sat:
            word = ("saturated" if room >= HEADER_FULL_PX
                    else "sat." if room >= HEADER_MEDIUM_PX else "&#9634;")
            bits.append(f"<span style='color:{th.css('saturated')}'>{n_sat} {word}</span>")
        self._set_footer(col, "<br>".join(bits))

    def _set_footer(self, col: _Column, html: str, force: bool = False) -> None:
        if html != col.footer_html or force:
            col.footer_html = html
            col.footer.setHtml(f"<div style='color:{self._theme.css('foreground')}'>{html}</div>"
                               if html else "")
