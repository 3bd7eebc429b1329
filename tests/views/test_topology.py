"""The topology view: layout, live updates, markers, hover text, clicks, speed guards."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnviz.gui.views.topology import COLLAPSE_UNITS, LINK_BUCKETS, MAX_LINKS_PER_GAP, TopologyView
from tests.views.conftest import big_run, logistic_run, regression_run, wide_run

# the offscreen platform warns when a top-level window is shown; nothing to fix in the view
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot, run) -> TopologyView:
    v = TopologyView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    v.set_run(run.info)
    return v


def test_columns_follow_the_network(qtbot, spiral):
    v = make(qtbot, spiral)
    assert [c.units for c in v._columns] == spiral.info.spec.widths
    assert [c.kind for c in v._columns] == ["input", "hidden", "hidden", "output"]
    assert not any(c.collapsed for c in v._columns)
    assert v.objectName() == "topologyView"


def test_every_snapshot_redraws_and_maps_have_the_grid_shape(qtbot, spiral):
    v = make(qtbot, spiral)
    for k, snap in enumerate(spiral.snapshots, start=1):
        v.show_snapshot(snap)
        assert v.frame_count == k
    g = spiral.snapshots[-1].grid
    h, w = len(g.ys), len(g.xs)
    hidden = v._columns[1]
    img = hidden.cells.image
    assert img.shape[1] == w and img.shape[2] == 4
    # 8 cells of h rows with transparent gaps between them
    assert img.shape[0] > 8 * h and np.all(img[h : h + 2, :, 3] == 0)
    # the first unit (top cell) is the neuron's own map, colour-mapped
    top = img[-h:, :, :3]
    assert top.std() > 0


def test_dead_units_are_marked_and_greyed(qtbot, spiral):
    v = make(qtbot, spiral)
    snap = spiral.snapshots[-1]
    v.show_snapshot(snap)
    n_dead = sum(int(np.count_nonzero(lay.dead_units)) for lay in snap.layers[:-1])
    assert n_dead > 0, "the demo run is expected to kill a ReLU unit (the test needs one)"
    assert len(v._dead_marks.data) == n_dead
    assert "dead" in v._columns[1].footer_html + v._columns[2].footer_html
    layer = next(i for i, lay in enumerate(snap.layers[:-1]) if lay.dead_units.any())
    unit = int(np.flatnonzero(snap.layers[layer].dead_units)[0])
    text = v.describe_at(*v.neuron_position(layer, unit))
    assert "dead: yes" in text and "bias:" in text and "mean activation" in text


def test_links_come_in_a_few_batched_curves(qtbot, spiral):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[-1])
    widths = spiral.info.spec.widths
    expected = sum(a * b for a, b in itertools.pairwise(widths))
    links = v._links
    drawn = sum(links.count(k) for k in range(links.styles))
    assert drawn == expected == v._drawn["w"].size
    # the strongest link is drawn in the thickest style of its sign, and painted
    k = int(np.argmax(np.abs(v._drawn["w"])))
    style = int(v._drawn["w"][k] > 0) * LINK_BUCKETS + LINK_BUCKETS - 1
    assert links.count(style) >= 1
    colour = links._pens[style].color()
    img = v._gw.grab().toImage()
    rgb = (colour.red(), colour.green(), colour.blue())
    assert any(img.pixelColor(x, y).getRgb()[:3] == rgb
               for x in range(0, img.width(), 2) for y in range(0, img.height(), 2))
    # hovering the middle of a drawn link names its two ends and its weight
    k = int(np.argmax(np.abs(v._drawn["w"])))
    d = v._drawn
    text = v.describe_at((d["x0"][k] + d["x1"][k]) / 2, (d["y0"][k] + d["y1"][k]) / 2)
    assert text.startswith("Link from") and f"{d['w'][k]:+.4g}" in text


def test_clicking_a_neuron_emits_its_layer_and_unit(qtbot, spiral, click):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[-1])
    x, y = v.neuron_position(1, 3)
    with qtbot.waitSignal(v.neuronSelected, timeout=2000) as sig:
        click(v._gw, v._vb, x, y)
    assert sig.args == [1, 3]
    x, y = v.neuron_position(-1, 0)
    with qtbot.waitSignal(v.neuronSelected, timeout=2000) as sig:
        click(v._gw, v._vb, x, y)
    assert sig.args == [-1, 0]
    assert v._highlight.isVisible()
    with pytest.raises(ValueError):
        v.select_neuron(5, 0)


def test_wide_input_collapses_and_colours_by_mean_activation(qtbot):
    run = wide_run()
    v = make(qtbot, run)
    assert run.info.spec.input_dim > COLLAPSE_UNITS
    assert v._columns[0].collapsed and not v._columns[1].collapsed
    for s in run.snapshots:
        v.show_snapshot(s)
    assert v.frame_count == len(run.snapshots)
    assert v._columns[1].cells.image.shape[1] == 4  # plain colour cells, no plane maps
    assert v._drawn["w"].size <= 2 * MAX_LINKS_PER_GAP + 16 * 12 + 12 * 10


def test_big_network_uses_weight_blocks_and_caps_links(qtbot):
    run = big_run()
    v = make(qtbot, run)
    v.show_snapshot(run.snapshots[-1])
    cols = v._columns
    assert [c.collapsed for c in cols] == [True, True, True, False]
    assert cols[1].block.image.shape[:2] == (256, 784)
    assert cols[2].block.image.shape[:2] == (128, 256)
    # only the gap into the 10 outputs is drawn as links, all 1280 of them at most the cap
    assert v._drawn["w"].size == min(128 * 10, MAX_LINKS_PER_GAP)
    text = v.describe_at(cols[1].x0 + 0.01, cols[1].top - 0.01)
    assert text.startswith("Weights into hidden 1")
    v.grab()


def test_regression_and_logistic_outputs_draw(qtbot):
    for run in (regression_run(), logistic_run()):
        v = make(qtbot, run)
        v.show_snapshot(run.snapshots[-1])
        assert v._columns[-1].cells.image is not None
        assert v.frame_count == 1


def test_theme_and_export(qtbot, spiral, tmp_path):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[0])
    v.set_theme(True)
    assert v.frame_count == 2
    v.set_theme(False)
    for name in ("net.png", "net.svg"):
        v.export_image(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "net.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        v.export_image(str(tmp_path / "net.jpg"))
    with pytest.raises(OSError):
        v.export_image(str(tmp_path / "missing" / "net.png"))


def test_new_run_replaces_the_drawing(qtbot, spiral):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[0])
    n_items = len(v._vb.addedItems)
    run = wide_run()
    v.set_run(run.info)
    v.show_snapshot(run.snapshots[0])
    v.set_run(spiral.info)
    assert len(v._vb.addedItems) == n_items


def test_unchanged_marks_are_not_set_again(qtbot, spiral):
    """Bias squares and dead/saturated marks are re-set only when what they show changed."""
    v = make(qtbot, spiral)
    snap = spiral.snapshots[-1]
    calls = []
    original = v._bias_marks.set_data
    v._bias_marks.set_data = lambda *a: (calls.append(1), original(*a))
    v.show_snapshot(snap)
    v.show_snapshot(snap)
    assert len(calls) == 1
    n_bias = sum(c.units for c in v._columns if c.kind != "input" and not c.collapsed)
    assert sum(v._bias_marks.count(k) for k in range(v._bias_marks.styles)) == n_bias
    v.show_snapshot(spiral.snapshots[0])
    assert len(calls) == 2


# --- issue 11 D and E ---------------------------------------------------------------------
def _deep(qtbot, hidden: int, activation: str = "relu", size=(470, 500)):
    from tests.views import synthetic

    s = synthetic.spec([2] + [8] * hidden + [2], activation=activation)
    X = np.random.default_rng(0).standard_normal((40, 2))
    v = TopologyView()
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    qtbot.waitExposed(v)
    v.set_run(synthetic.run_info(s, X, np.arange(40) % 2))
    snap = synthetic.snapshot(s, grid=synthetic.plane_grid(s, (-2, 2), (-2, 2)))
    v.show_snapshot(snap)
    qtbot.wait(20)
    return v, snap


def _text_rect(item):
    """The scene rectangle of a text item's laid-out text (its lines, not its frame)."""
    doc = item.textItem.document()
    r = item.textItem.mapRectToScene(item.textItem.boundingRect())
    r.setWidth(min(r.width(), doc.idealWidth() + 2))
    return r


@pytest.mark.parametrize("hidden", [1, 4, 8, 10])
def test_deep_networks_keep_titles_apart_and_neurons_visible(qtbot, hidden):
    v, _ = _deep(qtbot, hidden)
    headers = [c.header for c in v._columns]
    rects = [h.sceneBoundingRect() for h in headers]
    for a, b in itertools.pairwise(rects):
        assert a.right() <= b.left() + 1, "column titles overlap"
    for col, h in zip(v._columns, headers, strict=True):
        doc = h.textItem.document()
        assert doc.idealWidth() <= h.textItem.textWidth() + 1  # no word runs past its box
        assert col.title[:1] in h.textItem.toPlainText()
    from PySide6.QtCore import QPointF

    cell_px = v._vb.mapViewToScene(QPointF(0.8, 0)).x() - v._vb.mapViewToScene(QPointF(0, 0)).x()
    assert cell_px >= 8, "neurons shrank below 8 pixels"


def test_a_wide_window_shows_full_titles_and_a_narrow_one_short(qtbot):
    v, _ = _deep(qtbot, 2, size=(900, 600))
    assert "params" in v._columns[1].header.textItem.toPlainText()
    v, _ = _deep(qtbot, 10)
    text = v._columns[1].header.textItem.toPlainText()
    assert "H1" in text and "params" not in text


def test_saturation_frames_leave_the_neuron_maps_visible(qtbot):
    import dataclasses

    v, snap = _deep(qtbot, 3, activation="sigmoid")
    layers = tuple(dataclasses.replace(lay, saturated_units=np.ones(lay.units, bool)) if i < 3 else lay
                   for i, lay in enumerate(snap.layers))
    v.show_snapshot(dataclasses.replace(snap, layers=layers))
    opts = v._sat_marks.opts
    assert opts["size"] >= 0.8  # a frame around the cell, not a ring over it
    assert opts["symbol"] == "s"
    assert opts["pen"].widthF() <= 2


def test_dead_at_start_and_since_in_the_layer_footer(qtbot, spiral):
    import dataclasses

    v = make(qtbot, spiral)
    snap = spiral.snapshots[-1]
    lay = snap.layers[0]
    start = np.zeros(lay.units, bool)
    start[0] = True
    now = start.copy()
    now[1:3] = True
    lay = dataclasses.replace(lay, dead_units=now, dead_at_start=start)
    v.show_snapshot(dataclasses.replace(snap, layers=(lay, *snap.layers[1:])))
    assert "1 dead at start, +2 since" in v._columns[1].footer_html


def test_a_real_run_carries_dead_at_start_into_the_footer(qtbot, spiral):
    from nnviz.gui.views.stats_table import dead_text

    v = make(qtbot, spiral)
    snap = spiral.snapshots[-1]
    v.show_snapshot(snap)
    for col, lay in zip(v._columns[1:-1], snap.layers[:-1], strict=True):
        assert lay.dead_at_start is not None
        if lay.dead_units.any():
            assert dead_text(lay) in col.footer_html and "at start" in col.footer_html
