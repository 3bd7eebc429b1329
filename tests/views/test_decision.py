"""The decision view: the output plane with data, click-to-edit, neuron maps, and the
confusion matrix or a message when the inputs are not a plane."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnviz.gui.views.decision import CONFUSION, MESSAGE, PLANE, DecisionView
from tests.views.conftest import logistic_run, regression_run, wide_regression_run

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot, run) -> DecisionView:
    v = DecisionView()
    qtbot.addWidget(v)
    v.resize(700, 600)
    v.show()
    qtbot.waitExposed(v)
    if run is not None:
        v.set_run(run.info)
    return v


def test_plane_shows_output_map_and_points(qtbot, spiral):
    v = make(qtbot, spiral)
    assert v.stack.currentIndex() == PLANE
    for k, s in enumerate(spiral.snapshots, start=1):
        v.show_snapshot(s)
        assert v.frame_count == k
    g = spiral.snapshots[-1].grid
    img = v._map.image
    assert img.shape == (len(g.ys), len(g.xs), 4)
    assert len(v._train_scatter.data) == len(spiral.info.train_X)
    assert len(v._test_scatter.data) == len(spiral.info.test_X)
    v.test_check.setChecked(False)
    assert not v._test_scatter.isVisible()
    before = img.copy()
    v.discretize_check.setChecked(True)
    hard = v._map.image
    assert not np.array_equal(before, hard)
    assert len(np.unique(hard.reshape(-1, 4), axis=0)) <= 2  # two classes, two colours


def test_click_adds_a_point_of_the_chosen_class(qtbot, spiral, click):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[-1])
    v.class_combo.setCurrentIndex(1)
    with qtbot.waitSignal(v.pointAdded, timeout=2000) as sig:
        click(v.plane, v._pp.vb, 0.25, -0.5)
    x, y, cls = sig.args
    assert cls == 1
    assert abs(x - 0.25) < 0.03 and abs(y + 0.5) < 0.03


def test_ctrl_click_removes_the_nearest_training_point(qtbot, spiral, click):
    v = make(qtbot, spiral)
    X = spiral.info.train_X
    target = 17
    px, py = X[target] + 0.004
    with qtbot.waitSignal(v.pointRemoved, timeout=2000) as sig:
        click(v.plane, v._pp.vb, px, py, Qt.KeyboardModifier.ControlModifier)
    x0, x1, y0, y1 = spiral.info.extent
    d = ((X[:, 0] - px) / (x1 - x0)) ** 2 + ((X[:, 1] - py) / (y1 - y0)) ** 2
    assert sig.args == [int(np.argmin(d))] == [target]


def test_show_neuron_and_back(qtbot, spiral):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[-1])
    v.show_neuron(1, 4)
    assert v.output_button.isEnabled()
    assert "Hidden 2" in v._pp.titleLabel.text
    assert v.frame_count == 2
    v.show_neuron(-1, 1)
    assert "probability of class 1" in v._pp.titleLabel.text
    v.output_button.click()
    assert "Output: class probabilities" in v._pp.titleLabel.text
    assert not v.output_button.isEnabled()
    with pytest.raises(ValueError):
        v.show_neuron(7, 0)
    with pytest.raises(ValueError):
        v.show_neuron(0, 99)


def test_wide_inputs_show_a_confusion_matrix(qtbot, wide):
    v = make(qtbot, wide)
    assert v.stack.currentIndex() == CONFUSION
    snap = wide.snapshots[-1]
    v.show_snapshot(snap)
    m = snap.confusion
    assert v._conf_image.image.shape[:2] == m.shape
    assert v._counts.texts() == [str(int(c)) for c in m.ravel()]
    with_counts = v.confusion.grab().toImage()  # the counts are painted
    v._counts.setVisible(False)
    without = v.confusion.grab().toImage()
    v._counts.setVisible(True)
    assert with_counts != without
    # the same matrix again is nothing new to draw: no frame, so the window does not wait for a paint
    v.show_snapshot(snap)
    assert v.frame_count == 1
    other = wide.snapshots[0]
    if not np.array_equal(other.confusion, m):
        v.show_snapshot(other)
        assert v.frame_count == 2
        assert v._counts.texts() == [str(int(c)) for c in other.confusion.ravel()]
        v.show_snapshot(snap)
        assert v.frame_count == 3
    assert "% correct" in v._cp.titleLabel.text
    ticks = v._cp.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == list(wide.info.class_names)
    frames = v.frame_count
    v.show_neuron(1, 0)  # no plane, not the first layer: nothing to show, nothing breaks
    assert v.frame_count == frames


def test_regression_plane_and_wide_regression_message(qtbot):
    run = regression_run()
    v = make(qtbot, run)
    v.show_snapshot(run.snapshots[-1])
    assert v.stack.currentIndex() == PLANE and not v.class_combo.isVisibleTo(v)
    v.click_at(0.0, 0.0)  # no classes to add: ignored
    run = wide_regression_run()
    v = make(qtbot, run)
    v.show_snapshot(run.snapshots[-1])
    assert v.stack.currentIndex() == MESSAGE and "Regression on 5 inputs" in v.message.text()


def test_logistic_output_unit(qtbot):
    run = logistic_run()
    v = make(qtbot, run)
    v.show_snapshot(run.snapshots[-1])
    v.show_neuron(-1, 0)
    assert "probability of class" in v._pp.titleLabel.text


def test_theme_and_export(qtbot, spiral, wide, tmp_path):
    for run in (spiral, wide):
        v = make(qtbot, run)
        v.show_snapshot(run.snapshots[-1])
        v.set_theme(True)
        for name in ("d.png", "d.svg"):
            v.export_image(str(tmp_path / name))
            assert (tmp_path / name).stat().st_size > 1000


# --- issue 11 C and D ---------------------------------------------------------------------
def test_clicking_a_neuron_does_not_change_the_views_size(qtbot, spiral):
    v = make(qtbot, spiral)
    v.show_snapshot(spiral.snapshots[-1])
    hint, minimum = v.sizeHint(), v.minimumSizeHint()
    assert v.output_button.isVisibleTo(v)  # reserved in the bar from the start
    v.show_neuron(0, 3)
    assert v.sizeHint() == hint and v.minimumSizeHint() == minimum
    v.show_output()
    assert v.sizeHint() == hint and v.minimumSizeHint() == minimum


def test_the_output_title_says_what_the_colours_are_per_loss():
    from nnviz.gui.views.decision import output_title

    assert "probabilities" in output_title("classification", "softmax", False)
    svm = output_title("classification", "svm", False)
    assert "scores" in svm and "SVM" in svm and "probabilit" not in svm.split("(")[0]
    assert output_title("classification", "softmax", True) == "Output: predicted class"
    assert output_title("classification", "svm", True) == "Output: predicted class (SVM loss)"
    assert "predicted value" in output_title("regression", "mse", False)
    assert len(output_title("regression", "mse", False)) <= 48  # fits a narrow dock


def test_an_svm_run_says_scores_and_discretize_says_predicted_class(qtbot):
    from tests.views import synthetic

    s = synthetic.spec([2, 4, 3], loss="svm")
    rng = np.random.default_rng(0)
    v = make(qtbot, None)
    v.set_run(synthetic.run_info(s, rng.standard_normal((30, 2)), np.arange(30) % 3))
    v.show_snapshot(synthetic.snapshot(s, grid=synthetic.plane_grid(s, (-2, 2), (-2, 2))))
    assert "class scores (SVM loss" in v._pp.titleLabel.text
    v.discretize_check.setChecked(True)
    assert v._pp.titleLabel.text == "Output: predicted class (SVM loss)"
    v.show_neuron(-1, 1)
    assert "score" in v._pp.titleLabel.text and "probability" not in v._pp.titleLabel.text


def test_the_class_legend_is_outside_the_plane(qtbot, spiral):
    v = make(qtbot, spiral)
    assert v._pp.legend is None  # nothing over the data points (XOR's (1, 1) was hidden)
    text = v.legend_label.text()
    assert "class" in text and "test (hollow)" in text


def test_a_first_layer_unit_of_square_inputs_shows_its_incoming_weights(qtbot, wide):
    from nnviz.gui.views.decision import WEIGHTS, weight_side

    assert weight_side(64) == 8 and weight_side(784) == 28 and weight_side(2) == 0 and weight_side(50) == 0
    v = make(qtbot, wide)
    snap = wide.snapshots[-1]
    v.show_snapshot(snap)
    hint = v.sizeHint()
    v.show_neuron(0, 3)
    assert v.stack.currentIndex() == WEIGHTS
    assert v._wp.titleLabel.text.startswith("unit 3 of layer 1: incoming weights (8x8)")
    assert v._weights_image.image.shape[:2] == (8, 8)
    assert v.sizeHint() == hint
    v.show_neuron(1, 0)  # deeper layers have no input image: nothing changes
    assert v.stack.currentIndex() == WEIGHTS
    v.output_button.click()
    assert v.stack.currentIndex() == CONFUSION and not v.output_button.isEnabled()


def test_the_regression_title_is_shown_whole(qtbot):
    run = regression_run()
    v = make(qtbot, run)
    v.show_snapshot(run.snapshots[-1])
    title = v._pp.titleLabel
    assert "&lt; 0 &lt; blue" in title.text  # "<" would open an HTML tag and cut the title
    assert title.item.toPlainText().endswith("blue)")


@pytest.mark.parametrize("width", [330, 480, 700])
def test_a_long_title_wraps_instead_of_pushing_the_matrix_past_the_edge(qtbot, wide, width):
    """A title's one line used to be the plot's minimum width: in a narrow dock the
    confusion matrix ran past the view's edge and its last column was cut off."""
    v = make(qtbot, wide)
    v.show_snapshot(wide.snapshots[-1])
    v.resize(width, 500)
    qtbot.waitUntil(lambda: v.confusion.width() <= width)
    qtbot.wait(50)
    item = v._cp
    inside = v.confusion.mapFromScene(item.mapToScene(item.boundingRect()).boundingRect()).boundingRect()
    assert inside.right() <= v.confusion.width() + 1, (inside, v.confusion.width())
    vb = item.vb
    right_edge = vb.mapViewToScene(vb.viewRect().topRight()).x()
    last_column = vb.mapViewToScene(vb.viewRect().topLeft()).x()
    assert right_edge <= v.confusion.width() + 1
    x_range = vb.viewRange()[0]
    n = v._shown_confusion[0]
    assert x_range[0] <= 0 and x_range[1] >= n  # every column is in the view
    assert last_column >= 0
