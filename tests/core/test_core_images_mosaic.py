"""tile_grid's whole-array path (tiles at full size) lays out exactly what one copy per
tile does: the tiles in order, the fill between them and in the empty last cells."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.images import tile_geometry, tile_grid


def _one_by_one(tiles: np.ndarray, cols: int, gap: int, fill) -> np.ndarray:
    n, h, w, c = tiles.shape
    geo = tile_geometry(n, h, w, cols, gap)
    assert geo.factor == 1
    out = np.empty((*geo.shape, c), np.float64)
    out[...] = np.broadcast_to(np.asarray(fill, np.float64), (c,))
    for k in range(geo.count):
        r0, c0 = geo.origin(k)
        out[r0:r0 + h, c0:c0 + w] = tiles[k]
    return out


@pytest.mark.parametrize(("n", "cols", "gap"), [(1, 1, 1), (7, 3, 1), (100, 10, 1), (10, 4, 0), (5, 9, 2)])
def test_float_tiles(n, cols, gap):
    tiles = np.random.default_rng(n).normal(size=(n, 6, 5, 1))
    tiles[0, 0, 0, 0] = np.nan
    got = tile_grid(tiles, cols, gap=gap)
    np.testing.assert_array_equal(got, _one_by_one(tiles, cols, gap, np.nan))
    assert got.dtype == tiles.dtype and got.flags.c_contiguous


@pytest.mark.parametrize(("n", "cols"), [(100, 10), (13, 4)])
def test_byte_tiles_keep_their_dtype_and_fill(n, cols):
    tiles = np.random.default_rng(0).integers(0, 256, size=(n, 4, 4, 4), dtype=np.uint8)
    fill = (250.4, 251, 252, 255)
    got = tile_grid(tiles, cols, fill=fill)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, np.rint(_one_by_one(tiles, cols, 1, fill)).astype(np.uint8))
    nan_fill = tile_grid(tiles, cols)  # NaN between byte tiles: 0, as before
    assert nan_fill[4, 0, 0] == 0
