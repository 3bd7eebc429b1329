"""Images in the inputs: which columns form a picture, first-layer weights as tiles, the
mosaic and its bounds, and the gallery's examples, order and predictions."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.data import Dataset, glyph_digits
from nnviz.core.images import (
    EXAMPLE_COUNT,
    MAX_MOSAIC_SIDE,
    ExamplePredictions,
    example_subset,
    gallery_order,
    image_shape,
    predict_examples,
    tile_at,
    tile_geometry,
    tile_grid,
    top_exciting,
    weight_tiles,
)
from nnviz.io.images.common import pixel_names


# --- image_shape -------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (5, 7, 1), (7, 5, 3), (3, 4, 2), (2, 2, 4),
                                   (1, 9, 1), (1, 1, 1)])
def test_image_shape_reads_the_loaders_pixel_names(shape):
    assert image_shape(pixel_names(shape)) == shape


def test_image_shape_of_the_built_in_digits_and_generic_squares():
    assert image_shape(glyph_digits(n=20).feature_names) == (8, 8, 1)
    assert image_shape(Dataset(np.zeros((2, 64)), np.zeros(2, int)).feature_names) == (8, 8, 1)  # x1..x64
    assert image_shape([f"pixel{i}" for i in range(784)]) == (28, 28, 1)  # Kaggle's MNIST CSV
    assert image_shape([str(i) for i in range(100)]) == (10, 10, 1)
    assert image_shape([""] * 16) == (4, 4, 1)


@pytest.mark.parametrize("names", [
    [],
    ["x1", "x2"],  # a plane
    [f"x{i + 1}" for i in range(9)],  # a square below MIN_SQUARE_SIDE
    [f"x{i + 1}" for i in range(63)],  # not a square
    [f"x{i + 2}" for i in range(64)],  # numbered from 2
    [f"x{i + 1}" for i in range(63)] + ["y"],
    ["height", "weight"] * 8,  # named measurements
    [f"x{i + 1}" for i in range(32)] + [f"f{i + 1}" for i in range(32)],
])
def test_image_shape_refuses_what_is_not_a_picture(names):
    assert image_shape(names) is None


def test_image_shape_refuses_pixel_names_out_of_order_or_incomplete():
    names = list(pixel_names((4, 4, 1)))
    assert image_shape(names[:-1]) is None  # a pixel missing
    swapped = names.copy()
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert image_shape(swapped) is None
    colour = list(pixel_names((4, 4, 3)))
    assert image_shape(colour[:-1]) is None
    assert image_shape([*colour[:-1], "pixel 3,3 X"]) is None  # a channel token that changes
    assert image_shape(["pixel 0,0", "pixel 0,1 R"]) is None
    assert image_shape([*names, "extra"]) is None


# --- weight_tiles ------------------------------------------------------------------
def test_weight_tiles_are_each_units_weights_on_its_own_scale():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(28 * 28, 100)) * np.linspace(0.01, 10, 100)  # units of very different sizes
    tiles = weight_tiles(W, (28, 28, 1))
    assert tiles.shape == (100, 28, 28, 1) and tiles.dtype == np.float32
    assert np.allclose(np.abs(tiles).reshape(100, -1).max(axis=1), 1.0)  # every tile spans -1..1
    u = 17
    expected = W[:, u].reshape(28, 28) / np.abs(W[:, u]).max()
    assert np.allclose(tiles[u, :, :, 0], expected, atol=1e-6)  # row-major pixels


def test_weight_tiles_colour_keep_channels_last():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(32 * 32 * 3, 5))
    tiles = weight_tiles(W, (32, 32, 3))
    assert tiles.shape == (5, 32, 32, 3)
    # input k of unit 2 is pixel (r, c) channel ch with k = (r * 32 + c) * 3 + ch
    r, c, ch = 4, 9, 2
    assert tiles[2, r, c, ch] == pytest.approx(W[(r * 32 + c) * 3 + ch, 2] / np.abs(W[:, 2]).max(), rel=1e-5)
    assert np.allclose(np.abs(tiles).reshape(5, -1).max(axis=1), 1.0)


def test_weight_tiles_one_unit_zero_units_and_the_limit():
    W = np.arange(12.0).reshape(12, 1) - 6
    t = weight_tiles(W, (3, 4, 1))
    assert t.shape == (1, 3, 4, 1) and t.min() == -1.0
    assert weight_tiles(np.zeros((12, 0)), (3, 4, 1)).shape == (0, 3, 4, 1)
    assert weight_tiles(np.ones((12, 500)), (3, 4, 1), max_units=64).shape == (64, 3, 4, 1)
    assert weight_tiles(np.ones((12, 5)), (3, 4, 1), max_units=0).shape == (0, 3, 4, 1)
    zero = weight_tiles(np.zeros((12, 2)), (3, 4, 1))  # all-zero weights: zeros, not NaN
    assert np.all(zero == 0)


def test_weight_tiles_survive_nan_and_inf():
    W = np.random.default_rng(2).normal(size=(16, 3))
    W[0, 0] = np.nan
    W[1, 0] = np.inf
    W[:, 1] = np.nan  # a unit diverged completely
    W[2, 2] = -1e308
    with np.errstate(all="raise"):
        t = weight_tiles(W, (4, 4, 1))
    flat = t.reshape(3, -1)
    assert np.isnan(flat[0, 0]) and flat[0, 1] == 1.0
    assert np.all(np.isfinite(flat[0, 2:])) and np.abs(flat[0, 2:]).max() <= 1.0
    assert np.all(np.isnan(flat[1]))
    assert flat[2, 2] == -1.0 and np.all(flat[2, 3:] == 0)  # the rest is tiny beside it


def test_weight_tiles_refuse_a_wrong_shape_and_map_back_through_a_rotation():
    with pytest.raises(ValueError):
        weight_tiles(np.zeros((10, 2)), (3, 3, 1))
    with pytest.raises(ValueError):
        weight_tiles(np.zeros(9), (3, 3, 1))
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(9, 9)))  # PCA-like rotation: pixels -> components
    W_pixels = rng.normal(size=(9, 2))
    W_components = Q.T @ W_pixels  # the same units, on the rotated inputs
    t = weight_tiles(W_components, (3, 3, 1), input_matrix=Q)
    assert np.allclose(t.reshape(2, 9).T, W_pixels / np.abs(W_pixels).max(axis=0), atol=1e-5)


# --- tile_grid and its geometry ----------------------------------------------------
def test_tile_grid_places_tiles_with_one_pixel_gaps():
    tiles = np.arange(5 * 2 * 3, dtype=np.float64).reshape(5, 2, 3, 1)
    m = tile_grid(tiles, cols=3)
    assert m.shape == (2 * 2 + 1, 3 * 3 + 2, 1)
    assert np.array_equal(m[0:2, 0:3, 0], tiles[0, :, :, 0])
    assert np.array_equal(m[0:2, 4:7, 0], tiles[1, :, :, 0])
    assert np.array_equal(m[3:5, 4:7, 0], tiles[4, :, :, 0])
    assert np.all(np.isnan(m[2, :, 0])) and np.all(np.isnan(m[:, 3, 0]))  # the gaps
    assert np.all(np.isnan(m[3:5, 8:11]))  # the empty sixth place


def test_tile_grid_rgba_bytes_fill_and_grey_without_channel_axis():
    tiles = np.full((4, 3, 3, 4), 200, np.uint8)
    m = tile_grid(tiles, cols=2, fill=(1, 2, 3, 255))
    assert m.dtype == np.uint8 and m.shape == (7, 7, 4)
    assert tuple(m[3, 3]) == (1, 2, 3, 255) and tuple(m[0, 0]) == (200, 200, 200, 200)
    assert tile_grid(np.zeros((2, 3, 3)), cols=2).shape == (3, 7, 1)
    assert tile_grid(np.zeros((0, 3, 3, 1)), cols=4).shape == (0, 0, 1)
    with pytest.raises(ValueError):
        tile_grid(np.zeros((3, 3)), cols=1)


def test_tile_grid_stays_within_1024_pixels_by_coarsening():
    tiles = np.random.default_rng(0).normal(size=(100, 200, 150, 1)).astype(np.float32)
    m = tile_grid(tiles, cols=10)
    geo = tile_geometry(100, 200, 150, 10)
    assert max(m.shape[:2]) <= MAX_MOSAIC_SIDE and m.shape[:2] == geo.shape
    assert geo.factor == 2 and geo.count == 100
    # the block means of the first tile
    assert m[0, 0, 0] == pytest.approx(tiles[0, :2, :2, 0].mean(), rel=1e-4)
    # more tiles than fit at one pixel each: the first ones, within the bound
    geo = tile_geometry(600 * 600, 1, 1, 600)
    assert geo.cols == 512 and geo.rows == 512 and geo.count == 512 * 512
    assert max(geo.shape) <= MAX_MOSAIC_SIDE


def test_tile_grid_coarsening_ignores_nan_and_keeps_all_nan_blocks():
    tiles = np.ones((1, 2048, 4, 1))
    tiles[0, :2] = np.nan
    tiles[0, 2, 0] = np.nan
    m = tile_grid(tiles, cols=1)
    assert m.shape[0] <= MAX_MOSAIC_SIDE
    assert np.all(np.isnan(m[0])) and np.all(m[1:] == 1.0)


def test_tile_at_finds_the_tile_under_a_pixel():
    geo = tile_geometry(7, 8, 8, 3)
    assert geo.shape == (3 * 9 - 1, 3 * 9 - 1)
    assert tile_at(geo, 0, 0) == 0
    assert tile_at(geo, 7.9, 7.9) == 0
    assert tile_at(geo, 8.2, 3) is None  # the gap
    assert tile_at(geo, 3, 9) == 1
    assert tile_at(geo, 20, 2) == 6
    assert tile_at(geo, 20, 12) is None  # past the last tile
    assert tile_at(geo, -1, 2) is None and tile_at(geo, 2, 40) is None and tile_at(geo, np.nan, 0) is None
    assert tile_at(tile_geometry(0, 8, 8, 3), 0, 0) is None


# --- gallery ----------------------------------------------------------------------
def test_example_subset_is_seeded_sorted_and_bounded():
    a = example_subset(10_000, 512, 0)
    assert len(a) == 512 and np.all(np.diff(a) > 0) and a.max() < 10_000
    assert np.array_equal(a, example_subset(10_000, 512, 0))
    assert not np.array_equal(a, example_subset(10_000, 512, 1))
    assert np.array_equal(example_subset(30, 512), np.arange(30))
    assert len(example_subset(0)) == 0 and len(example_subset(100, 0)) == 0
    assert len(example_subset(100_000)) == EXAMPLE_COUNT


def test_predict_examples_takes_the_most_probable_class():
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [np.nan, 0.5, 0.5], [0.2, 0.2, 0.6]])
    ex = predict_examples(p, np.array([4, 9, 11, 30]))
    assert isinstance(ex, ExamplePredictions) and ex.split == "test"
    assert ex.predicted.tolist() == [1, 0, -1, 2]
    assert np.allclose(ex.confidence[[0, 1, 3]], [0.7, 0.5, 0.6]) and np.isnan(ex.confidence[2])
    assert ex.indices.tolist() == [4, 9, 11, 30]
    for a in (ex.indices, ex.predicted, ex.confidence):
        assert not a.flags.writeable
    empty = predict_examples(np.zeros((0, 3)), np.zeros(0, int), split="train")
    assert len(empty.predicted) == 0 and empty.split == "train"
    with pytest.raises(ValueError):
        predict_examples(np.zeros((3, 2)), np.arange(2))


def test_gallery_order_puts_confident_mistakes_first_then_unsure_answers():
    true = np.array([0, 1, 2, 3, 4, 5])
    pred = np.array([0, 2, 2, 1, 4, 0])
    conf = np.array([0.9, 0.6, 0.4, 0.95, 0.5, np.nan])
    order = gallery_order(true, pred, conf)
    # mistakes 3 (0.95), 1 (0.6), 5 (NaN counts as 0); then correct 2 (0.4), 4 (0.5), 0 (0.9)
    assert order.tolist() == [3, 1, 5, 2, 4, 0]
    assert gallery_order([], [], []).tolist() == []
    assert gallery_order([1, 1], [1, 1], [0.5, 0.5]).tolist() == [0, 1]  # ties keep their order
    with pytest.raises(ValueError):
        gallery_order([1], [1, 2], [0.5])


def test_top_exciting_orders_by_activation_and_skips_nan():
    a = np.array([0.1, np.nan, 3.0, 2.0, 5.0, 3.0])
    assert top_exciting(a, 3).tolist() == [4, 2, 5]
    assert top_exciting(a, 100).tolist() == [4, 2, 5, 3, 0, 1]
    assert top_exciting(a, 0).tolist() == [] and top_exciting(np.zeros(0), 4).tolist() == []
    big = np.random.default_rng(0).normal(size=100_000)
    assert np.array_equal(top_exciting(big, 10), np.argsort(-big)[:10])
