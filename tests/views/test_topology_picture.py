"""The topology view on image data: the inputs are one picture (the chosen example, else the
mean image) with a caption saying which, instead of a grey strip of 784 inputs."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.images import display_range, mean_image, picture_bytes
from nnviz.gui.views.topology import TopologyView
from nnviz.gui.views.topology_layout import PICTURE_MAX, layout_columns
from tests.views import synthetic as syn
from tests.views.conftest import image_session_run, spiral_run

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot, info) -> TopologyView:
    v = TopologyView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    v.set_run(info)
    return v


def _shown(v: TopologyView) -> np.ndarray:
    """The picture's pixels as shown (row 0 on top), first channel."""
    return np.asarray(v._columns[0].image.image)[::-1, :, 0]


def test_image_inputs_are_a_picture_of_the_mean_image_with_a_caption(qtbot):
    run, _ = image_session_run()
    v = make(qtbot, run.info)
    col = v._columns[0]
    assert v.has_input_picture and col.picture == (28, 28, 1) and col.strip is None
    assert v.shown_example is None
    X = run.info.train_X
    lo, hi = display_range(X)
    expected = picture_bytes(mean_image(X), (28, 28, 1), lo, hi)[:, :, 0]
    np.testing.assert_array_equal(_shown(v), expected)
    assert v.input_caption.isVisible()
    assert v.input_caption_text().startswith("input: mean image of 480 training examples")
    assert "28×28 image" in col.header_html


def test_a_chosen_example_is_shown_with_its_true_and_predicted_class(qtbot):
    run, _ = image_session_run()
    info, snap = run.info, run.snapshots[-1]
    v = make(qtbot, info)
    v.show_snapshot(snap)
    i = int(snap.examples.indices[5])
    v.show_example(i, "test")
    assert v.shown_example == (i, "test")
    lo, hi = display_range(info.train_X)
    np.testing.assert_array_equal(_shown(v), picture_bytes(info.test_X[i], (28, 28, 1), lo, hi)[:, :, 0])
    k = int(snap.examples.predicted[5])
    text = v.input_caption_text()
    assert text.startswith(f"input: example {i} of the test set, true {info.test_y[i]}, predicted {k}")
    v.show_example(None)
    assert v.shown_example is None and v.input_caption_text().startswith("input: mean image")


def test_an_example_without_a_prediction_says_so_and_bad_rows_fall_back_to_the_mean(qtbot):
    run, _ = image_session_run()
    info = run.info
    v = make(qtbot, info)
    v.show_example(3, "train")  # no snapshot yet: no prediction
    assert "of the training set" in v.input_caption_text() and "not among" in v.input_caption_text()
    v.show_example(10**6, "test")
    assert v.shown_example is None
    v.show_example(-1, "test")
    assert v.shown_example is None


def test_a_theme_change_keeps_the_picture_and_recolours_the_caption(qtbot):
    run, _ = image_session_run()
    v = make(qtbot, run.info)
    before = _shown(v).copy()
    v.set_theme(True)
    np.testing.assert_array_equal(_shown(v), before)
    assert v.input_caption_text().startswith("input: mean image")


def test_data_that_is_not_an_image_keeps_its_neurons_and_has_no_caption(qtbot):
    v = make(qtbot, spiral_run().info)
    assert not v.has_input_picture and not v.input_caption.isVisible()
    v.show_example(0)  # nothing to show: no effect
    assert v.input_caption_text() == ""


def test_colour_images_are_drawn_in_colour(qtbot):
    import dataclasses

    from nnviz.io.images.common import pixel_names

    s = syn.spec([3 * 8 * 8, 40, 10])
    rng = np.random.default_rng(0)
    X = rng.random((30, 192))
    X[:, 0::3] = 1.0  # every pixel fully red
    X[:, 1::3] = X[:, 2::3] = 0.0
    info = dataclasses.replace(syn.run_info(s, X, np.arange(30) % 10), input_names=pixel_names((8, 8, 3)))
    v = make(qtbot, info)
    img = np.asarray(v._columns[0].image.image)
    assert img.shape == (8, 8, 4)
    assert np.all(img[..., 0] == 255) and np.all(img[..., 1:3] == 0)


def test_the_picture_keeps_the_images_proportions_and_maps_pixels_under_the_pointer():
    cols = layout_columns(syn.spec([784, 100, 10]), (28, 28, 1))
    pic = cols[0]
    assert pic.picture == (28, 28, 1)
    assert pytest.approx(pic.x1 - pic.x0) == pic.top - pic.bottom <= PICTURE_MAX
    # the top-left pixel, and the pixel at row 27, column 3
    assert pic.unit_at(pic.x0 + 0.01, pic.top - 0.01) == 0
    side = pic.x1 - pic.x0
    assert pic.unit_at(pic.x0 + 3.5 * side / 28, pic.bottom + 0.2 * side / 28) == 27 * 28 + 3
    assert pic.unit_at(pic.x1 + 1, pic.top) is None
    wide = layout_columns(syn.spec([3 * 16 * 32, 10]), (16, 32, 3))[0]
    assert pytest.approx(wide.x1 - wide.x0) == 2 * (wide.top - wide.bottom)
    assert wide.unit_at(wide.x0 + 0.01, wide.top - 0.01) == 0
    # without an image, or an image that does not fit the inputs: the strip as before
    assert layout_columns(syn.spec([784, 100, 10]))[0].picture is None
    assert layout_columns(syn.spec([784, 100, 10]), (20, 20, 1))[0].picture is None


def test_hovering_the_picture_names_the_pixel_and_its_value(qtbot):
    run, _ = image_session_run()
    info = run.info
    v = make(qtbot, info)
    pic = v._columns[0]
    side = pic.x1 - pic.x0
    x, y = pic.x0 + 3.5 * side / 28, pic.top - 2.5 * side / 28  # row 2, column 3
    text = v.describe_at(x, y)
    k = 2 * 28 + 3
    assert text.startswith(f"Input {k + 1}: pixel 2,3 = {mean_image(info.train_X)[k]:.3g}")
    assert "mean image" in text
    v.show_example(4, "test")
    assert f"= {info.test_X[4, k]:.3g}" in v.describe_at(x, y) and "example 4" in v.describe_at(x, y)
