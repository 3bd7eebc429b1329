"""Every size and value the loaders accept reaches the views without a crash.

Layers of up to MAX_UNITS units (pyqtgraph cannot paint an image side over 32,767 and
crashed the window), features near +-1e308 (ranges whose span overflowed to inf), step
counters at 2**63 - 1, and data sets of millions of points. Each case paints for real
(``grab``) on the offscreen platform.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import pytest

from nnviz.core.spec import MAX_PARAMETERS, MAX_UNITS
from nnviz.gui.views.bounded import MAX_IMAGE_SIDE, MAX_POINTS
from nnviz.gui.views.decision import CONFUSION, MAX_CLASS_CHOICES, PLANE, DecisionView
from nnviz.gui.views.histograms import HistogramPanel
from nnviz.gui.views.loss_plot import LossPlot
from nnviz.gui.views.topology import TopologyView
from tests.views import synthetic

pytestmark = [pytest.mark.qt_log_ignore("propagateSizeHints"), pytest.mark.filterwarnings("error")]

BIG = 1e308
TINY = 1e-308


def shown(qtbot, view, w: int = 900, h: int = 600):
    qtbot.addWidget(view)
    view.resize(w, h)
    view.show()
    qtbot.waitExposed(view, timeout=30_000)
    return view


def images(view) -> list[pg.ImageItem]:
    """Every image item in the view's scenes."""
    scenes = {v.scene() for v in view.findChildren(pg.GraphicsView)}
    return [it for sc in scenes for it in sc.items() if isinstance(it, pg.ImageItem)]


def assert_images_bounded(view) -> None:
    for img in images(view):
        if img.image is not None:
            assert max(img.image.shape[:2]) <= MAX_IMAGE_SIDE, img.image.shape


def paint(qtbot, view) -> None:
    """A real paint of the whole widget (what crashed the window)."""
    view.grab()
    qtbot.wait(1)
    view.repaint()


# --- 1. layers as wide as the loader allows ---------------------------------------------
WIDE = [
    pytest.param([MAX_UNITS, 4, 2], "softmax", id="input"),
    pytest.param([2, MAX_UNITS, 2], "softmax", id="hidden"),
    pytest.param([2, 4, MAX_UNITS], "mse", id="output"),
    pytest.param([2, 4, MAX_UNITS], "softmax", id="output-classes"),
    pytest.param([2, 32_768, 300, 2], "softmax", id="hidden-32768-then-collapsed"),
    pytest.param([MAX_UNITS, 305, 2], "softmax", id="parameter-cap"),
]


@pytest.mark.parametrize(("widths", "loss"), WIDE)
def test_topology_opens_and_draws_the_widest_layers(qtbot, widths, loss):
    s = synthetic.spec(widths, loss)
    assert s.parameter_count() <= MAX_PARAMETERS
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, widths[0]))
    y = rng.standard_normal((8, widths[-1])) if loss == "mse" else np.arange(8) % 2
    info = synthetic.run_info(s, X, y)
    grid = synthetic.plane_grid(s, (-1, 1), (-1, 1), size=4) if widths[0] == 2 else None
    v = shown(qtbot, TopologyView())
    t0 = time.perf_counter()
    v.set_run(info)
    paint(qtbot, v)
    for k in range(2):
        v.show_snapshot(synthetic.snapshot(s, step=k + 1, grid=grid, seed=k))
        paint(qtbot, v)
    took = time.perf_counter() - t0
    assert v.frame_count == 2
    assert_images_bounded(v)
    assert any(c.collapsed for c in v._columns if c.units > 32)
    assert took < 60, f"{took:.1f} s to open and draw {widths}"  # ~1 s normally
    # hover and click on the wide layer still answer
    wide = max(range(len(widths)), key=lambda i: widths[i])
    layer = -1 if wide == len(widths) - 1 else wide - 1
    if wide > 0:
        x, yy = v.neuron_position(layer, widths[wide] - 1)
        assert "unit" in v.describe_at(x, yy) or "Output" in v.describe_at(x, yy)
        v.select_neuron(layer, widths[wide] - 1)


def test_a_collapsed_block_keeps_the_strongest_weight_of_each_pixel(qtbot):
    s = synthetic.spec([2, 4, MAX_UNITS], "mse")
    snap = synthetic.snapshot(s, value=0.0)
    W = np.array(snap.params[2])  # (4, MAX_UNITS) into the outputs
    W[2, 12_345] = -9.0  # one strong negative weight among zeros
    snap = synthetic.dataclasses.replace(snap, params=(*snap.params[:2], W, snap.params[3]))
    v = shown(qtbot, TopologyView())
    v.set_run(synthetic.run_info(s, np.zeros((4, 2)), np.zeros((4, MAX_UNITS))))
    v.show_snapshot(snap)
    img = v._columns[2].block.image
    assert img.shape[:2] == (MAX_IMAGE_SIDE, 4)  # rows: units, in blocks of 64
    # the strong weight shows in its pixel (row: its block of units, counted from the
    # top, drawn bottom-up), in a colour no other pixel has
    colours, counts = np.unique(img.reshape(-1, 4), axis=0, return_counts=True)
    assert len(colours) == 2 and counts.min() == 1
    row = MAX_IMAGE_SIDE - 1 - 12_345 // 64
    assert not np.array_equal(img[row, 2], img[0, 0])


def test_many_classes_on_the_plane_and_in_the_confusion_matrix(qtbot):
    s = synthetic.spec([2, 4, MAX_UNITS])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = rng.integers(0, MAX_UNITS, 200)
    v = shown(qtbot, DecisionView(), 700, 600)
    t0 = time.perf_counter()
    v.set_run(synthetic.run_info(s, X, y))
    v.show_snapshot(synthetic.snapshot(s, grid=synthetic.plane_grid(s, (-3, 3), (-3, 3), size=4)))
    paint(qtbot, v)
    assert time.perf_counter() - t0 < 60  # a combo entry and legend row per class took long
    assert v.stack.currentIndex() == PLANE
    assert v.class_combo.count() == MAX_CLASS_CHOICES
    assert v.legend_label.text().count("class ") <= 13  # 12 classes and "N more classes"
    # wide inputs: a confusion matrix of more classes than pixels is summed into blocks
    n = 2_048
    s2 = synthetic.spec([5, 4, n])
    m = np.zeros((n, n), np.int64)
    m[np.arange(n), np.arange(n)] = 3
    v.set_run(synthetic.run_info(s2, rng.standard_normal((20, 5)), np.arange(20) % n))
    v.show_snapshot(synthetic.snapshot(s2, confusion=m))
    paint(qtbot, v)
    assert v.stack.currentIndex() == CONFUSION
    assert_images_bounded(v)
    assert "100.0% correct" in v._titles[id(v._cp)]


def test_a_confusion_matrix_the_core_summed_in_blocks(qtbot):
    """The core sends block sums past 1,024 classes, with the class count and the correct
    count: the image covers every class and the title reports the true accuracy."""
    import dataclasses

    from nnviz.core.trainer import confusion_matrix

    n = MAX_UNITS
    rng = np.random.default_rng(1)
    truth = rng.integers(0, n, 400)
    pred = np.where(np.arange(400) < 100, truth, (truth + 1) % n)  # a quarter right
    m = confusion_matrix(pred, truth, n)
    s = synthetic.spec([5, 4, n])
    v = shown(qtbot, DecisionView(), 700, 600)
    v.set_run(synthetic.run_info(s, rng.standard_normal((20, 5)), np.arange(20)))
    snap = dataclasses.replace(synthetic.snapshot(s, confusion=m), confusion_classes=n, confusion_correct=100)
    v.show_snapshot(snap)
    paint(qtbot, v)
    assert v.stack.currentIndex() == CONFUSION
    assert "25.0% correct of 400" in v._titles[id(v._cp)]
    assert v._conf_image.mapRectToParent(v._conf_image.boundingRect()).width() == pytest.approx(n)


def test_more_outputs_than_the_data_has_classes(qtbot):
    """A network of 32,768 softmax outputs over a 2-class data set: a colour per output."""
    s = synthetic.spec([2, 4, 32_768])
    rng = np.random.default_rng(2)
    v = shown(qtbot, DecisionView(), 700, 600)
    v.set_run(synthetic.run_info(s, rng.standard_normal((50, 2)), np.arange(50) % 2))
    v.show_snapshot(synthetic.snapshot(s, grid=synthetic.plane_grid(s, (-3, 3), (-3, 3), size=4)))
    paint(qtbot, v)
    assert v.stack.currentIndex() == PLANE and v.frame_count >= 1


# --- 2. values near the ends of float64 -------------------------------------------------
COLUMNS = {
    "huge": (-BIG, BIG),
    "positive-huge": (BIG / 2, BIG),
    "tiny": (-TINY, TINY),
    "mixed": (-BIG, TINY),
    "constant": (7.0, 7.0),
    "constant-huge": (BIG, BIG),
    "constant-tiny": (TINY, TINY),
}


def plane_data(kind: str, n: int = 50) -> np.ndarray:
    lo, hi = COLUMNS[kind]
    rng = np.random.default_rng(0)
    x = np.where(rng.random(n) < 0.5, lo, hi)
    x[:2] = lo, hi
    return np.column_stack([x, rng.standard_normal(n)])


@pytest.mark.parametrize("kind", list(COLUMNS))
def test_decision_plane_with_extreme_features(qtbot, kind):
    X = plane_data(kind)
    y = np.arange(len(X)) % 2
    s = synthetic.spec([2, 4, 2])
    info = synthetic.run_info(s, X[:40], y[:40], X[40:], y[40:])
    v = shown(qtbot, DecisionView(), 700, 600)
    v.set_run(info)
    x0, x1 = v._pp.vb.viewRange()[0]
    assert np.isfinite(x0) and np.isfinite(x1) and x1 > x0
    grid = synthetic.plane_grid(s, info.extent[:2], info.extent[2:], size=8)
    v.show_snapshot(synthetic.snapshot(s, grid=grid))
    paint(qtbot, v)
    assert v.frame_count == 1
    assert v.nearest_training_point(float(X[0, 0]), float(X[0, 1])) is not None
    v.click_at(float(X[1, 0]), 0.0)
    # a plane whose extent overflowed to inf upstream still opens
    v.set_run(synthetic.dataclasses.replace(info, extent=(-np.inf, np.inf, np.nan, 1.0)))
    v.show_snapshot(synthetic.snapshot(s, grid=synthetic.dataclasses.replace(
        grid, xs=np.array([-np.inf, *grid.xs[1:-1], np.inf]))))
    paint(qtbot, v)


@pytest.mark.parametrize("kind", list(COLUMNS))
def test_topology_with_extreme_inputs_and_weights(qtbot, kind):
    lo, hi = COLUMNS[kind]
    for widths in ([2, 4, 2], [40, 40, 2]):  # cells and collapsed blocks
        s = synthetic.spec(widths)
        X = np.tile(np.where(np.arange(widths[0]) % 2, lo, hi), (6, 1)).astype(np.float64)
        v = shown(qtbot, TopologyView())
        v.set_run(synthetic.run_info(s, X, np.arange(6) % 2))
        for value in (lo, hi, None):
            v.show_snapshot(synthetic.snapshot(s, value=value, dtype=np.float64))
            paint(qtbot, v)
        assert v.frame_count == 3


@pytest.mark.parametrize("kind", list(COLUMNS))
def test_histograms_with_extreme_edges(qtbot, kind):
    lo, hi = COLUMNS[kind]
    s = synthetic.spec([2, 4, 2])
    v = shown(qtbot, HistogramPanel())
    v.set_run(synthetic.run_info(s, np.zeros((4, 2)), np.arange(4) % 2))
    for step, value in enumerate((lo, hi, None), start=1):
        v.show_snapshot(synthetic.snapshot(s, step=step, value=value, edges=(lo, hi), dtype=np.float64))
        paint(qtbot, v)
    for q in ("act", "pre", "grad", "weight"):
        v.set_selection(-1, q)
        paint(qtbot, v)
    assert v.frame_count >= 3
    for plot in (v._hist_plot, v._evo_plot, v._norm_plot):
        for a, b in plot.vb.viewRange():
            assert np.isfinite(a) and np.isfinite(b) and b > a


@pytest.mark.parametrize("kind", list(COLUMNS))
def test_loss_plot_with_extreme_losses(qtbot, kind):
    lo, hi = COLUMNS[kind]
    v = shown(qtbot, LossPlot())
    losses = np.array([lo, hi, 1.0, hi, lo])
    v.add_steps(np.arange(1, 6.0), losses, np.array([0.0, 1.0, 0.5, 0.5, 0.5]), np.zeros(5))
    v.add_eval(5, 0.0, hi, lo, 0.5, 0.5)
    for log in (False, True):
        v.set_log_y(log)
        v.redraw()
        paint(qtbot, v)
    v.set_x_axis("epochs")
    v.set_smoothing(0.5)
    v.new_run("second")
    v.add_steps(np.arange(1, 4.0), np.array([hi, lo, hi]), None, np.zeros(3))
    v._next_redraw = 0.0
    v.redraw()
    paint(qtbot, v)
    for a, b in v._pi.vb.viewRange():
        assert np.isfinite(a) and np.isfinite(b) and b > a


# --- 3. step and epoch counters at their limits -----------------------------------------
STEPS = [2**63 - 1, 2**63, -(2**63)]


def test_histograms_accept_any_int64_step(qtbot):
    s = synthetic.spec([2, 4, 2])
    v = shown(qtbot, HistogramPanel())
    v.set_run(synthetic.run_info(s, np.zeros((4, 2)), np.arange(4) % 2))
    base = synthetic.snapshot(s)
    for k, step in enumerate([*STEPS, 2**63 - 1, np.int64(2**63 - 1), 10**400, 1e308]):
        v.show_snapshot(synthetic.with_step(base, step))
        paint(qtbot, v)
        assert v.frame_count == k + 1
    assert f"{2**63 - 1:,}" in str(v._evo_plot.getAxis("bottom")._tickLevels)


def test_loss_plot_accepts_steps_and_epochs_at_their_limits(qtbot):
    v = shown(qtbot, LossPlot())
    top = 2**63 - 1
    steps = np.array([top - 4, top - 3, top - 2, top - 1, top], dtype=np.int64)
    v.add_steps(steps, np.linspace(1, 0.5, 5), None, np.array([0, 0, 1, 1, 2]))
    v.add_eval(top, 1e308, 0.5, 0.6, None, None)
    v.add_eval(2**63, 1e308, 0.5, 0.6, None, None)
    for axis in ("steps", "epochs"):
        v.set_x_axis(axis)
        v._next_redraw = 0.0
        v.redraw()
        paint(qtbot, v)
    v.new_run("floats")
    v.add_steps(np.array([1.0, 1e300, 1e308]), np.ones(3), None, np.array([0.0, 1e300, 1e308]))
    v._next_redraw = 0.0
    v.redraw()
    paint(qtbot, v)
    for a, b in v._pi.vb.viewRange():
        assert np.isfinite(a) and np.isfinite(b) and b > a


# --- 4. data sets of millions of points -------------------------------------------------
def test_decision_plane_draws_a_bounded_sample_of_a_huge_data_set(qtbot):
    n = 5_000_000
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    test = 1_000_000
    s = synthetic.spec([2, 4, 2])
    info = synthetic.run_info(s, X[test:], y[test:], X[:test], y[:test])
    v = shown(qtbot, DecisionView(), 700, 600)
    t0 = time.perf_counter()
    v.set_run(info)
    v.show_snapshot(synthetic.snapshot(s, grid=synthetic.plane_grid(s, (-4, 4), (-4, 4))))
    paint(qtbot, v)
    took = time.perf_counter() - t0
    drawn = len(v._train_scatter.data) + len(v._test_scatter.data)
    assert drawn == MAX_POINTS
    assert 0 < len(v._test_scatter.data) < len(v._train_scatter.data)
    assert v.sample_note.isVisible()
    assert v.sample_note.text.startswith(f"showing {MAX_POINTS:,} of {n:,} points")
    assert took < 60, f"{took:.1f} s"  # ~1 s normally
    # the same points on every set_run of the run: the sample is seeded
    before = v._train_scatter.data["x"].copy()
    v.set_run(info)
    assert np.array_equal(before, v._train_scatter.data["x"])
    # a small data set: every point, no note
    v.set_run(synthetic.run_info(s, X[:100], y[:100]))
    assert len(v._train_scatter.data) == 100 and not v.sample_note.isVisible()


def test_a_confusion_matrix_of_a_sample_says_so(qtbot):
    """A large test split is evaluated live on a fixed sample: the title says of how many."""
    import dataclasses

    from nnviz.core.trainer import confusion_matrix

    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 188)
    m = confusion_matrix(truth, truth, 3)
    s = synthetic.spec([5, 4, 3])
    v = shown(qtbot, DecisionView(), 700, 600)
    X_test = rng.standard_normal((1000, 5))
    v.set_run(synthetic.run_info(s, rng.standard_normal((20, 5)), np.arange(20) % 3, X_test,
                                 np.arange(1000) % 3))
    v.show_snapshot(dataclasses.replace(synthetic.snapshot(s, confusion=m), confusion_classes=3,
                                        confusion_correct=188))
    paint(qtbot, v)
    assert "100.0% correct of 188 sampled from 1,000" in v._titles[id(v._cp)]
