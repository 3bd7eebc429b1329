"""The window on image data: a gallery click feeds that example to the Network view's input
picture, a neuron click (or a weight tile) brings the Unit page forward with that unit's
weights and most exciting examples, updating while it trains."""

from __future__ import annotations

import pytest

from nnviz.gui.harness.bench import mnist_shape_session
from tests.gui.test_window import trained
from tests.gui.waits import WAIT_MS

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def image_window(make_window, qtbot):
    w = make_window(mnist_shape_session(n=1200))
    qtbot.waitUntil(lambda: w.pump.snapshots_drawn > 0, timeout=WAIT_MS)
    return w


def test_a_gallery_click_feeds_the_example_to_the_network_view(image_window, qtbot):
    w = image_window
    assert w.topology.has_input_picture
    assert w.topology.input_caption_text().startswith("input: mean image")
    w.gallery_dock.raise_()  # the Examples tab in front (it shares the Output panel's place)
    qtbot.waitUntil(lambda: w.pump.view_shown("gallery"), timeout=10_000)
    trained(w, qtbot, 20)
    qtbot.waitUntil(lambda: w.gallery.cells() and w.gallery.cells()[0].predicted is not None, timeout=WAIT_MS)
    index = w.gallery.cells()[0].index
    w.gallery.select_example(index)
    w.gallery.exampleSelected.emit(index)  # what a click on that picture sends
    assert w.topology.shown_example == (index, "test")
    assert w.topology.input_caption_text().startswith(f"input: example {index} of the test set, true")
    assert "predicted" in w.topology.input_caption_text()
    w.gallery.exampleSelected.emit(-1)
    assert w.topology.shown_example is None


def test_a_neuron_click_brings_the_unit_page_forward_and_it_follows_training(image_window, qtbot):
    w = image_window
    w.topology.select_neuron(0, 4)
    assert w.unit.unit == (0, 4)
    assert w.weights.selected_unit == 4
    qtbot.waitUntil(lambda: w.pump.view_shown("unit"), timeout=10_000)
    assert w.pump.view_shown("weights")  # the tiles stay in sight beside it
    qtbot.waitUntil(lambda: w.unit.examples is not None, timeout=WAIT_MS)
    frames, searched = w.unit.frame_count, w.unit.searches
    trained(w, qtbot, w.pump.last_step + 40)
    qtbot.waitUntil(lambda: w.unit.frame_count > frames and w.unit.searches > searched, timeout=WAIT_MS)
    assert len(w.unit.examples.indices) > 0 and w.unit.examples.layer == 0
    # an output unit: its weights come from the hidden layer
    w.topology.select_neuron(-1, 3)
    assert w.unit.unit == (-1, 3) and w.weights.selected_unit is None


def test_a_weight_tile_frames_its_neuron_and_inspects_it(image_window, qtbot):
    w = image_window
    w.weights.unitSelected.emit(7)  # what a click on tile 7 sends
    assert w.topology._selected == (0, 7)
    assert w.unit.unit == (0, 7)
    qtbot.waitUntil(lambda: w.pump.view_shown("unit"), timeout=10_000)


def test_2d_data_keeps_the_output_panel_for_a_neuron(window, qtbot):
    window.topology.select_neuron(0, 2)
    assert window.unit.unit is None  # the unit page is for image data
    qtbot.waitUntil(lambda: window.pump.view_shown("decision"), timeout=10_000)
    assert not window.pump.view_shown("unit")
