"""The weight-tiles view: one tile per first-layer unit, its incoming weights as an image;
a message for inputs that are not an image; a click picks a unit; frames stay cheap."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from nnviz.core.images import MAX_TILES, tile_geometry
from nnviz.gui.views import palette
from nnviz.gui.views.weight_tiles import MESSAGE, OUTPUT_TITLE, TILES, TITLE, WeightTilesView
from nnviz.io.images.common import pixel_names
from tests.views import synthetic as syn

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot, info=None) -> WeightTilesView:
    v = WeightTilesView()
    qtbot.addWidget(v)
    v.resize(640, 600)
    v.show()
    qtbot.waitExposed(v)
    if info is not None:
        v.set_run(info)
    return v


def image_run(widths: list[int], shape: tuple[int, int, int] | None = None, loss: str = "softmax"):
    """A RunInfo for a network ``widths`` on image inputs (pixel names of ``shape``, or the
    generic x1..xN names when None) and a snapshot maker."""
    s = syn.spec(widths, loss=loss)
    X = np.random.default_rng(0).random((20, widths[0]))
    y = np.arange(20) % max(widths[-1], 2)
    info = syn.run_info(s, X, y)
    if shape is not None:
        info = dataclasses.replace(info, input_names=pixel_names(shape))
    return s, info


def test_mnist_sized_network_shows_one_tile_per_hidden_unit(qtbot):
    s, info = image_run([784, 100, 10])  # x1..x784: a 28x28 image by the generic rule
    v = make(qtbot, info)
    assert v.stack.currentIndex() == TILES
    snap = syn.snapshot(s)
    v.show_snapshot(snap)
    assert v.frame_count == 1 and v.tile_count() == 100
    geo = tile_geometry(100, 28, 28, 10)
    img = v.image.image
    assert img.shape == (*geo.shape, 4) and img.dtype == np.uint8
    assert v.plot.titleLabel.text == TITLE
    # unit 13's strongest positive weight is drawn in the diverging map's blue end
    W = snap.params[0][:, 13]
    k = int(np.argmax(np.abs(W)))
    r, c = divmod(k, 28)
    r0, c0 = geo.origin(13)
    lut = palette.diverging_lut(palette.theme(False))
    end = lut[-1] if W[k] > 0 else lut[0]
    assert tuple(img[r0 + r, c0 + c, :3]) == tuple(end[:3]) or snap.layers[0].dead_units[13]
    # the gaps between tiles are the background
    assert tuple(img[r0 + 28, c0, :3]) == palette.LIGHT.background


def test_colour_images_map_each_channel_around_mid_grey(qtbot):
    s, info = image_run([3072, 20, 10], shape=(32, 32, 3))
    v = make(qtbot, info)
    snap = syn.snapshot(s)
    alive = tuple(dataclasses.replace(lay, dead_units=None) for lay in snap.layers)
    snap = dataclasses.replace(snap, layers=alive)
    v.show_snapshot(snap)
    geo = tile_geometry(20, 32, 32, 5)
    assert v.image.image.shape == (*geo.shape, 4)
    W = snap.params[0][:, 3].astype(np.float64)
    t = W / np.abs(W).max()
    r, c = 5, 7
    r0, c0 = geo.origin(3)
    expected = np.clip(t[(r * 32 + c) * 3:(r * 32 + c) * 3 + 3] * 127.5 + 127.5, 0, 255).astype(np.uint8)
    assert np.abs(v.image.image[r0 + r, c0 + c, :3].astype(int) - expected).max() <= 1
    assert "red, green and blue" in v.caption.text()


@pytest.mark.parametrize("widths,names", [
    ([2, 8, 2], None),  # a plane
    ([50, 8, 3], None),  # 50 inputs: not a square
    ([64, 8, 3], tuple(f"gene {k} level" for k in range(64))),  # named measurements
])
def test_inputs_that_are_not_an_image_get_a_message(qtbot, widths, names):
    s = syn.spec(widths)
    X = np.random.default_rng(0).random((10, widths[0]))
    info = syn.run_info(s, X, np.arange(10) % widths[-1])
    if names is not None:
        info = dataclasses.replace(info, input_names=names)
    v = make(qtbot, info)
    assert v.stack.currentIndex() == MESSAGE
    assert "not an image" in v.message.text()
    v.show_snapshot(syn.snapshot(s))
    assert v.frame_count == 0 and v.tile_count() == 0
    # a later image run shows tiles again
    s2, info2 = image_run([64, 4, 10])
    v.set_run(info2)
    v.show_snapshot(syn.snapshot(s2))
    assert v.stack.currentIndex() == TILES and v.frame_count == 1


def test_names_that_disagree_with_the_network_get_a_message(qtbot):
    _, info = image_run([64, 4, 10])
    v = make(qtbot, dataclasses.replace(info, input_names=pixel_names((4, 4, 1))))
    assert v.stack.currentIndex() == MESSAGE


def test_clicking_a_tile_selects_its_unit(qtbot, click):
    s, info = image_run([64, 16, 10])
    v = make(qtbot, info)
    v.show_snapshot(syn.snapshot(s))
    geo = tile_geometry(16, 8, 8, 4)
    r0, c0 = geo.origin(6)
    with qtbot.waitSignal(v.unitSelected, timeout=2000) as sig:
        click(v.graphics, v.vb, c0 + 4, r0 + 4)
    assert sig.args == [6]
    assert v.selected_unit == 6 and v._frame.isVisible()
    assert "unit 6" in v.caption.text()  # counted from 0, as the Network view and the Unit page count
    # a click on a gap selects nothing
    with qtbot.assertNotEmitted(v.unitSelected):
        click(v.graphics, v.vb, c0 + 8.5, r0 + 4)
    v.select_unit(None)
    assert v.selected_unit is None and not v._frame.isVisible()


def test_one_unit_no_hidden_layer_and_very_wide_layers(qtbot):
    s, info = image_run([64, 1, 10])
    v = make(qtbot, info)
    v.show_snapshot(syn.snapshot(s))
    assert v.tile_count() == 1 and v.image.image.shape == (8, 8, 4)
    s, info = image_run([64, 10])  # softmax regression: the weights into each class
    v.set_run(info)
    v.show_snapshot(syn.snapshot(s))
    assert v.tile_count() == 10 and v.plot.titleLabel.text == OUTPUT_TITLE
    s, info = image_run([64, 1000, 10])
    v.set_run(info)
    v.show_snapshot(syn.snapshot(s))
    assert v.tile_count() == MAX_TILES
    assert f"first {MAX_TILES} of 1000" in v.caption.text()
    assert max(v.image.image.shape[:2]) <= 1024


def test_nan_and_huge_weights_draw_quietly(qtbot):
    s, info = image_run([784, 30, 10])
    v = make(qtbot, info)
    for value in (np.nan, np.inf, 1e30, 0.0):
        v.show_snapshot(syn.snapshot(s, value=value))
    assert v.frame_count == 4
    snap = syn.snapshot(s)
    W = np.array(snap.params[0])
    W[:, 2] = np.nan
    W[5, 3] = -np.inf
    v.show_snapshot(dataclasses.replace(snap, params=(W, *snap.params[1:])))
    assert v.frame_count == 5


def test_dead_units_are_greyed_and_said(qtbot):
    s, info = image_run([64, 12, 10])
    v = make(qtbot, info)
    snap = syn.snapshot(s)
    dead = np.zeros(12, bool)
    dead[[1, 4]] = True
    layers = (dataclasses.replace(snap.layers[0], dead_units=dead), *snap.layers[1:])
    v.show_snapshot(dataclasses.replace(snap, layers=layers))
    assert "2 greyed: dead units" in v.caption.text()


def test_thirty_frames_are_cheap_and_add_no_items(qtbot):
    s, info = image_run([784, 100, 10])
    v = make(qtbot, info)
    snaps = [syn.snapshot(s, step=k, seed=k) for k in range(30)]
    v.show_snapshot(snaps[0])
    qtbot.wait(10)
    items = len(v.graphics.scene().items())
    t0 = time.perf_counter()
    for snap in snaps:
        v.show_snapshot(snap)
        v.graphics.viewport().repaint()
    per_frame = (time.perf_counter() - t0) / len(snaps)
    assert v.frame_count == 31
    assert len(v.graphics.scene().items()) == items
    assert per_frame < 0.05, f"{1000 * per_frame:.1f} ms a frame"


def test_colour_network_frames_are_cheap(qtbot):
    s, info = image_run([3072, 100, 10], shape=(32, 32, 3))
    v = make(qtbot, info)
    snap = syn.snapshot(s)
    v.show_snapshot(snap)
    t0 = time.perf_counter()
    for _ in range(30):
        v.show_snapshot(snap)
    assert (time.perf_counter() - t0) / 30 < 0.05
    assert v.image.image.shape == (*tile_geometry(100, 32, 32, 10).shape, 4)


def test_theme_redraws_and_export(qtbot, tmp_path):
    s, info = image_run([64, 9, 10])
    v = make(qtbot, info)
    v.show_snapshot(syn.snapshot(s))
    v.set_theme(True)
    assert v.frame_count == 2
    gap = v.image.image[8, 0, :3]
    assert tuple(gap) == palette.DARK.background
    v.export_image(str(tmp_path / "tiles.png"))
    v.export_image(str(tmp_path / "tiles.svg"))
    assert (tmp_path / "tiles.png").stat().st_size > 0 and (tmp_path / "tiles.svg").stat().st_size > 0
    with pytest.raises(ValueError):
        v.export_image(str(tmp_path / "tiles.jpg"))
    v.set_theme(False)
    v.redraw()
    assert v.frame_count == 4


def test_before_any_run_nothing_happens(qtbot):
    v = make(qtbot)
    s, _ = image_run([64, 4, 10])
    v.show_snapshot(syn.snapshot(s))
    v.redraw()
    v.set_theme(True)
    assert v.frame_count == 0


def test_a_snapshot_of_another_network_is_not_drawn(qtbot):
    s, info = image_run([64, 8, 10])
    v = make(qtbot, info)
    other, _ = image_run([100, 8, 10])
    v.show_snapshot(syn.snapshot(other))
    assert v.frame_count == 0
    v.show_snapshot(syn.snapshot(s))
    assert v.frame_count == 1


def test_maxout_units_show_their_strongest_piece(qtbot):
    s, info = image_run([64, 6, 10])
    v = make(qtbot, info)
    snap = syn.snapshot(s)
    W = np.random.default_rng(4).normal(size=(64, 6 * 3)).astype(np.float32)  # 3 pieces a unit
    v.show_snapshot(dataclasses.replace(snap, params=(W, *snap.params[1:])))
    assert v.frame_count == 1 and v.tile_count() == 6


def test_rotated_inputs_are_mapped_back_onto_the_pixels(qtbot):
    """A run that says how its inputs were rotated from the pixels (``input_matrix``, for
    PCA or whitening; RunInfo may grow the field) gets tiles of pixel weights."""
    s, info = image_run([16, 2, 10])
    Q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(16, 16)))

    @dataclasses.dataclass(frozen=True)
    class RotatedInfo(type(info)):
        input_matrix: np.ndarray | None = None

    fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
    v = make(qtbot, RotatedInfo(**fields, input_matrix=Q))
    snap = syn.snapshot(s)
    alive = tuple(dataclasses.replace(lay, dead_units=None) for lay in snap.layers)
    v.show_snapshot(dataclasses.replace(snap, layers=alive))
    W_pixels = Q @ np.asarray(snap.params[0], np.float64)
    t = W_pixels[:, 0] / np.abs(W_pixels[:, 0]).max()
    lut = palette.diverging_lut(palette.theme(False))
    expected = palette.map_diverging(t.reshape(4, 4), lut, 0.0, 1.0)
    assert np.abs(v.image.image[:4, :4].astype(int) - expected.astype(int)).max() <= 1
    # a matrix of the wrong shape is not used
    v.set_run(RotatedInfo(**fields, input_matrix=np.eye(3)))
    v.show_snapshot(snap)
    assert v.frame_count == 2
