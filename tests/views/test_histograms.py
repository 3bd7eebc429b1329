"""The histogram panel: per-layer histograms now and over time, gradient norms, stats."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nnviz.gui.views.histograms import HISTORY_COLUMNS, LABEL_PX, SCROLL_COLUMNS, HistogramPanel, _Ring
from tests.views.conftest import deep_sigmoid_run

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot, run) -> HistogramPanel:
    v = HistogramPanel()
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    qtbot.waitExposed(v)
    v.set_run(run.info)
    return v


def test_snapshots_build_history_for_every_layer(qtbot, spiral):
    v = make(qtbot, spiral)
    assert v.layer_combo.count() == len(spiral.info.spec.hidden) + 1
    for k, snap in enumerate(spiral.snapshots, start=1):
        v.show_snapshot(snap)
        assert v.frame_count == k
    n = len(spiral.snapshots)
    for layer in range(3):
        for q in ("act", "pre", "grad", "weight"):
            assert v.history_length(layer, q) == n
    snap = spiral.snapshots[-1]
    h = snap.layers[0].histograms["act"]
    x, y = v._hist_curve.getData()
    assert np.array_equal(y, h.counts) and np.array_equal(x, h.edges)
    img = v._evo_image.image
    assert img.shape[:2] == (h.counts.size, n)  # bins x snapshots
    # one gradient-norm curve per layer, one point per snapshot
    assert len(v._norm_curves) == 3
    assert all(len(c.getData()[0]) == n for c in v._norm_curves)
    text = v.stats_label.text()
    assert "hidden 1" in text and "dead" in text and "%" in text
    # the count axis reads the counts as they are (pyqtgraph once left it scaled x1000)
    ax = v._hist_plot.getAxis("left")
    values = [1000.0, 1500.0]
    assert ax.tickStrings(values, ax.autoSIPrefixScale * ax.scale, 500.0) == ["1000", "1500"]


def test_selection_switches_layer_and_quantity(qtbot, spiral):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[-1])
    v.set_selection(-1, "weight")
    assert v.layer == 2 and v.quantity == "weight"
    h = spiral.snapshots[-1].layers[2].histograms["weight"]
    assert np.array_equal(v._hist_curve.getData()[1], h.counts)
    assert "output" in v._hist_plot.titleLabel.text
    with pytest.raises(ValueError):
        v.set_selection(0, "bias")


def test_ring_buffer_keeps_the_newest_columns_in_order():
    edges = np.linspace(-1, 1, 5)
    ring = _Ring(4)
    cap = HISTORY_COLUMNS + SCROLL_COLUMNS
    starts = set()
    for s in range(3 * cap + 7):
        ring.push(s, edges, np.array([s, 1, 1, 1]))
        cols, steps = ring.ordered()
        # the newest columns in order, at least HISTORY_COLUMNS of them once there are so many
        assert min(s + 1, HISTORY_COLUMNS) <= len(cols) <= cap
        assert np.array_equal(steps, np.arange(s + 1 - len(cols), s + 1))
        assert cols[-1, 0] == pytest.approx(s / (s + 3))
        starts.add(ring.start)
    # the image scrolls in whole steps of SCROLL_COLUMNS, not one column per snapshot
    assert all(st % SCROLL_COLUMNS == 0 for st in starts)
    assert len(starts) == (3 * cap + 7 - cap) // SCROLL_COLUMNS + 2
    before = len(ring.ordered()[0])
    ring.push(999, np.linspace(-2, 2, 5), np.ones(4))  # the core re-binned: history moves onto the new bins
    cols, _ = ring.ordered()
    assert len(cols) == before + 1 or len(cols) >= HISTORY_COLUMNS
    assert np.allclose(cols.sum(axis=1), 1.0, atol=1e-5)  # every column keeps its whole share
    # old [-1, 1] in 4 bins -> new [-2, 2]: all old mass lands in the two middle bins
    assert np.allclose(cols[:-1, [0, 3]], 0.0, atol=1e-6)
    ring.push(1000, np.linspace(-2, 2, 9), np.ones(8))  # another bin count: history restarts
    assert len(ring.ordered()[0]) == 1


def test_re_binned_history_spreads_each_bin_over_its_width():
    ring = _Ring(4)
    ring.push(0, np.linspace(0, 4, 5), np.array([1, 0, 0, 0]))
    ring.push(1, np.linspace(0, 8, 5), np.array([0, 0, 0, 1]))
    cols, _ = ring.ordered()
    assert np.allclose(cols[0], [1, 0, 0, 0])  # [0, 1) lies in the new first bin [0, 2)
    ring2 = _Ring(2)
    ring2.push(0, np.linspace(0, 2, 3), np.array([1, 1]))
    ring2.push(1, np.linspace(0, 4, 3), np.array([1, 1]))
    assert np.allclose(ring2.ordered()[0][0], [1.0, 0.0])


def test_every_gradient_norm_curve_has_a_legend_entry_outside_the_plot(qtbot, spiral):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[-1])
    text = v.norm_legend.text().replace("&nbsp;", " ")
    for name in ("hidden 1", "hidden 2", "output"):
        assert name in text
    assert len(v._norm_curves) == 3
    assert v._norm_plot.legend is None  # nothing drawn over the data


def test_a_zero_gradient_is_drawn_at_a_floor_with_a_note(qtbot, spiral):
    v = make(qtbot, spiral)
    snaps = spiral.snapshots
    v.show_snapshot(snaps[0])
    dead = replace(snaps[1], layers=tuple(replace(lay, grad_norm=0.0) for lay in snaps[1].layers))
    v.show_snapshot(dead)
    for c in v._norm_curves:
        y = c.getData()[1]  # log10 values: the plot is log y
        assert len(y) == 2 and np.all(np.isfinite(y)) and y[1] < y[0]
    assert "zero" in v._norm_plot.titleLabel.text


def test_dead_units_at_start_and_since_are_both_in_the_table(qtbot, spiral):
    v = make(qtbot, spiral)
    snap = spiral.snapshots[-1]
    lay = snap.layers[0]
    start = np.zeros(lay.units, bool)
    now = start.copy()
    now[:3] = True
    start[0] = True
    lay = replace(lay, dead_units=now, dead_at_start=start, dead_fraction=3 / lay.units)
    v.show_snapshot(replace(snap, layers=(lay, *snap.layers[1:])))
    text = v.stats_label.text()
    assert "dead (at start+since)" in text and "(1+2)" in text


def test_plot_titles_are_clipped_to_their_own_plot(qtbot, spiral):
    from PySide6.QtWidgets import QGraphicsItem

    v = make(qtbot, spiral)
    v.resize(420, 500)
    v.show_snapshot(spiral.snapshots[-1])
    qtbot.wait(20)
    a = v._hist_plot.titleLabel.sceneBoundingRect()
    b = v._evo_plot.titleLabel.sceneBoundingRect()
    assert a.right() <= b.left() + 1
    for p in (v._hist_plot, v._evo_plot):
        assert p.titleLabel.flags() & QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape


@pytest.mark.parametrize("width", [420, 520])
def test_plot_titles_wrap_to_their_plot_instead_of_being_cut(qtbot, spiral, width):
    """At 1280x720 the Histograms dock is about 480 px wide: the titles were cut at both
    ends ("idden 1 activations, step 15,1"). Each wraps inside its own plot, whole."""
    v = make(qtbot, spiral)
    v.resize(width, 500)
    v.show_snapshot(spiral.snapshots[-1])
    qtbot.wait(50)
    for plot in (v._hist_plot, v._evo_plot, v._norm_plot):
        text = plot.titleLabel.item
        shown = text.mapRectToScene(text.boundingRect())
        cell = plot.titleLabel.sceneBoundingRect()
        assert shown.left() >= cell.left() - 1 and shown.right() <= cell.right() + 1, (shown, cell)
        assert shown.bottom() <= cell.bottom() + 1  # every wrapped line inside the title row


def test_evolution_axis_changes_only_in_steps(qtbot, spiral):
    """Ticks and x range of the evolution plot are re-set only when they change: a few
    times per hundred snapshots, not on every frame (each set regenerates the axis)."""
    v = make(qtbot, spiral)
    axis = v._evo_plot.getAxis("bottom")
    calls = []
    original = axis.setTicks
    axis.setTicks = lambda ticks: (calls.append(ticks), original(ticks))
    ranges = []
    v._evo_plot.vb.sigXRangeChanged.connect(lambda _vb, r: ranges.append(tuple(r)))
    snap = spiral.snapshots[-1]
    n = HISTORY_COLUMNS + 4 * SCROLL_COLUMNS
    for k in range(n):
        v.show_snapshot(replace(snap, step=10 * k))
    assert v.history_length(0, "act") >= HISTORY_COLUMNS
    assert len(calls) < n / 10
    assert len(ranges) < n / 20
    # the labels name the steps of the columns they stand under
    ring = v._rings[(0, "act")]
    for pos, text in calls[-1][0]:
        assert text == f"{ring.step_at(int(pos)):,}"
    # no more labels than fit side by side in the plot's width
    assert 2 <= len(calls[-1][0]) <= max(v._evo_plot.vb.width() // LABEL_PX, 2) + 1
    lo, hi = v._evo_plot.vb.viewRange()[0]
    assert lo <= ring.start and ring.n <= hi


def test_vanishing_gradients_are_called_out(qtbot):
    run = deep_sigmoid_run()
    v = make(qtbot, run)
    for s in run.snapshots:
        v.show_snapshot(s)
    first, last = run.snapshots[-1].layers[0].grad_norm, run.snapshots[-1].layers[-1].grad_norm
    assert first < 1e-2 * last
    assert "Vanishing gradients" in v.stats_label.text()


def test_new_run_resets_and_theme_and_export(qtbot, spiral, wide, tmp_path):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[0])
    v.set_run(wide.info)
    assert v.history_length(0, "act") == 0
    for s in wide.snapshots:
        v.show_snapshot(s)
    assert len(v._norm_curves) == len(wide.info.spec.hidden) + 1
    v.set_theme(True)
    assert v.frame_count == 1 + len(wide.snapshots) + 1
    for name in ("h.png", "h.svg"):
        v.export_image(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 1000


def test_a_deep_networks_table_scrolls_instead_of_squeezing_the_plots(qtbot):
    from nnviz.gui.views.histograms import MAX_TABLE_LINES
    from tests.views import synthetic

    s = synthetic.spec([2] + [8] * 10 + [2])
    v = HistogramPanel()
    qtbot.addWidget(v)
    v.resize(650, 440)
    v.show()
    qtbot.waitExposed(v)
    v.set_run(synthetic.run_info(s, np.random.default_rng(0).standard_normal((20, 2)), np.arange(20) % 2))
    v.show_snapshot(synthetic.snapshot(s))
    line = v.stats_label.fontMetrics().height() + 2
    assert v.stats_scroll.height() <= MAX_TABLE_LINES * line + 2
    assert v.stats_label.sizeHint().height() > v.stats_scroll.height()  # the rest scrolls
    assert v.graphics.height() > 200

