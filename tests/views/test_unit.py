"""The unit page: a chosen unit's incoming weights (a picture for a first-layer unit, bars
for a deeper one) and the examples that excite it most, from the engine's forward pass on
the snapshot's weights through the run's input pipeline; searched again at most every
REFRESH_S while training."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.images import exciting_examples
from nnviz.gui.views import unit as unit_module
from nnviz.gui.views.unit import MESSAGE, PAGE, TOP_K, UnitView, strongest_per_bin
from tests.views.conftest import image_session_run, spiral_run, wide_run

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot, run=None, pipeline=None) -> UnitView:
    v = UnitView()
    qtbot.addWidget(v)
    v.resize(560, 620)
    v.show()
    qtbot.waitExposed(v)
    v.set_input_pipeline(pipeline)
    if run is not None:
        v.set_run(run.info)
    return v


def test_a_run_without_images_gets_a_message(qtbot):
    v = make(qtbot, spiral_run())
    assert v.stack.currentIndex() == MESSAGE
    assert "not an image" in v.message.text()
    v.show_unit(0, 1)  # nothing to show, nothing raised
    v.show_snapshot(spiral_run().snapshots[-1])
    assert v.unit is None and v.frame_count == 0


def test_before_a_unit_is_chosen_it_says_how_to_choose_one(qtbot):
    run, pipe = image_session_run()
    v = make(qtbot, run, pipe)
    v.show_snapshot(run.snapshots[-1])
    assert v.stack.currentIndex() == MESSAGE and "Click a neuron" in v.message.text()
    assert v.frame_count == 0


def test_a_first_layer_unit_shows_its_weights_as_a_picture_and_its_top_examples(qtbot):
    run, pipe = image_session_run()
    v = make(qtbot, run, pipe)
    snap = run.snapshots[-1]
    v.show_snapshot(snap)
    v.show_unit(0, 7)
    assert v.stack.currentIndex() == PAGE
    assert v._weight_image is not None and (v._weight_image.width(), v._weight_image.height()) == (28, 28)
    ex = v.examples
    rows = snap.examples.indices
    expected = exciting_examples(run.info.spec, snap.params, pipe.transform(run.info.test_X[rows]), rows,
                                 0, 7, TOP_K)
    np.testing.assert_array_equal(ex.indices, expected.indices)
    np.testing.assert_allclose(ex.activation, expected.activation, rtol=1e-9)
    assert ex.searched == len(rows)
    assert "hidden 1, unit 7" in v.header.text() and "excite it most" in v.header.text()
    qtbot.waitUntil(lambda: v.canvas.isVisible(), timeout=10_000)
    v.canvas.repaint()


def test_without_the_pipeline_the_raw_pixels_are_the_inputs(qtbot):
    run, _pipe = image_session_run()
    v = make(qtbot, run, None)
    snap = run.snapshots[-1]
    v.show_snapshot(snap)
    v.show_unit(0, 3)
    rows = snap.examples.indices
    raw = exciting_examples(run.info.spec, snap.params, run.info.test_X[rows], rows, 0, 3, TOP_K)
    np.testing.assert_allclose(v.examples.activation, raw.activation, rtol=1e-9)


def test_a_deeper_unit_and_an_output_show_bars_of_their_weights(qtbot):
    run, pipe = image_session_run()
    v = make(qtbot, run, pipe)
    v.show_snapshot(run.snapshots[-1])
    for layer, unit, source in ((1, 4, "hidden 1"), (-1, 2, "hidden 2")):
        v.show_unit(layer, unit)
        assert v._weight_image is None
        assert len(v._weights) == (40 if layer == 1 else 12)
        assert f"units of {source}" in v.header.text()
        assert v.examples is not None and v.examples.layer == layer
        v.canvas.repaint()
    assert "class" in v._unit_name()


def test_unknown_units_are_refused(qtbot):
    run, pipe = image_session_run()
    v = make(qtbot, run, pipe)
    with pytest.raises(ValueError):
        v.show_unit(2, 0)
    with pytest.raises(ValueError):
        v.show_unit(0, 40)


def test_the_search_is_throttled_while_training_and_forced_by_a_new_unit(qtbot, monkeypatch):
    run, pipe = image_session_run()
    monkeypatch.setattr(unit_module, "REFRESH_S", 3600.0)
    v = make(qtbot, run, pipe)
    v.show_snapshot(run.snapshots[0])
    v.show_unit(0, 1)
    assert v.searches == 1
    frames = v.frame_count
    for snap in run.snapshots[1:]:
        v.show_snapshot(snap)
    assert v.searches == 1 and v.frame_count == frames + len(run.snapshots) - 1  # weights redrawn
    v.show_unit(0, 2)
    assert v.searches == 2
    monkeypatch.setattr(unit_module, "REFRESH_S", 0.0)
    v.show_snapshot(run.snapshots[-1])
    assert v.searches == 3


def test_a_snapshot_of_another_network_is_ignored(qtbot):
    run, pipe = image_session_run()
    v = make(qtbot, run, pipe)
    v.show_unit(0, 0)
    v.show_snapshot(wide_run().snapshots[-1])
    assert v.frame_count == 0 and v.examples is None


def test_theme_and_export(qtbot, tmp_path):
    run, pipe = image_session_run()
    v = make(qtbot, run, pipe)
    v.show_snapshot(run.snapshots[-1])
    v.show_unit(0, 0)
    v.set_theme(True)
    v.export_image(str(tmp_path / "unit.png"))
    v.export_image(str(tmp_path / "unit.svg"))
    assert (tmp_path / "unit.png").stat().st_size > 0 and (tmp_path / "unit.svg").stat().st_size > 0


def test_bars_keep_the_strongest_weight_of_each_bin():
    v = np.array([0.1, -0.9, 0.3, 0.2, 0.0, 0.5, -0.1])
    np.testing.assert_array_equal(strongest_per_bin(v, 10), v)
    np.testing.assert_array_equal(strongest_per_bin(v, 3), [-0.9, 0.5, -0.1])  # bins of 3, 3, 1


def test_a_snapshot_predicting_few_examples_is_searched_over_the_gallerys_sample(qtbot):
    import dataclasses

    from nnviz.core.images import EXAMPLE_COUNT, example_subset, predict_examples

    run, pipe = image_session_run()
    snap = run.snapshots[-1]
    few = snap.examples.indices[:20]
    probs = np.full((20, 10), 0.1)
    v = make(qtbot, run, pipe)
    v.show_snapshot(dataclasses.replace(snap, examples=predict_examples(probs, few)))
    v.show_unit(0, 0)
    sample = example_subset(len(run.info.test_X), EXAMPLE_COUNT)
    assert v.examples.searched == len(sample) > 20
    assert set(v.examples.indices) <= set(sample.tolist())


def test_the_examples_are_painted_once_per_search_and_reused_between(qtbot, monkeypatch):
    run, pipe = image_session_run()
    monkeypatch.setattr(unit_module, "REFRESH_S", 3600.0)
    v = make(qtbot, run, pipe)
    v.show_snapshot(run.snapshots[0])
    v.show_unit(0, 1)
    qtbot.waitUntil(lambda: v.canvas.isVisible() and v.canvas.width() > 100, timeout=10_000)
    v.canvas.grab()
    painted = v.grid_paints
    assert painted >= 1
    for snap in run.snapshots[1:]:
        v.show_snapshot(snap)
        v.canvas.grab()
    assert v.grid_paints == painted  # new weights, the same examples: not painted again
    v.show_unit(0, 2)
    v.canvas.grab()
    assert v.grid_paints == painted + 1
    width = v.canvas.width()
    v.resize(640, 640)
    qtbot.waitUntil(lambda: v.canvas.width() != width, timeout=10_000)
    v.canvas.grab()
    assert v.grid_paints == painted + 2  # a new size: painted again


def test_a_snapshot_too_soon_for_a_search_gets_one_when_it_is_due(qtbot, monkeypatch):
    run, pipe = image_session_run()
    monkeypatch.setattr(unit_module, "REFRESH_S", 0.3)
    v = make(qtbot, run, pipe)
    v.show_snapshot(run.snapshots[0])
    v.show_unit(0, 1)
    assert v.searches == 1
    v.show_snapshot(run.snapshots[-1])  # training stops here: no snapshot after it
    assert v.searches == 1
    qtbot.waitUntil(lambda: v.searches == 2, timeout=10_000)
    last = run.snapshots[-1]
    rows = last.examples.indices
    expected = exciting_examples(run.info.spec, last.params, pipe.transform(run.info.test_X[rows]), rows,
                                 0, 1, TOP_K)
    np.testing.assert_allclose(v.examples.activation, expected.activation, rtol=1e-9)
    v.set_run(run.info)  # a new run: nothing pending
    assert not v._late.isActive()
