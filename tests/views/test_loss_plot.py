"""The loss plot: every point kept, smoothing as the core defines it, runs compared, and a
live repaint that must not crash (the PySide6 6.12 / Python 3.11 painting bug)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from nnviz.core.history import smooth_ema
from nnviz.gui.views.loss_plot import MAX_OLD_RUNS, GrowingBuffer, LossPlot

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot) -> LossPlot:
    v = LossPlot()
    qtbot.addWidget(v)
    v.resize(700, 400)
    v.show()
    qtbot.waitExposed(v)
    return v


def feed(v: LossPlot, n: int, chunk: int = 37, start: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    losses = np.exp(-np.arange(n) / 300) + 0.2 * rng.random(n)
    for i in range(0, n, chunk):
        s = np.arange(start + i, start + min(i + chunk, n), dtype=float)
        v.add_steps(s, losses[i : i + chunk], rng.random(s.size), s / 50)
    return losses


def test_growing_buffer_doubles_and_keeps_order():
    b = GrowingBuffer(16)
    for k in range(10):
        b.extend(np.arange(k * 7, k * 7 + 7))
    assert len(b) == 70 and np.array_equal(b.view, np.arange(70))


def test_every_minibatch_is_kept_and_drawn(qtbot):
    v = make(qtbot)
    losses = feed(v, 5000)
    assert len(v.steps) == len(v.losses) == len(v.epochs) == len(v.accuracies) == 5000
    assert np.array_equal(v.losses.view, losses)
    v.redraw()
    x, y = v._raw.getData()
    assert len(x) == 5000 and np.array_equal(y, losses)
    assert v.frame_count == 1
    v.redraw()  # nothing new: no redraw
    assert v.frame_count == 1
    v.set_x_axis("epochs")
    v.redraw()
    assert np.allclose(v._raw.getData()[0], np.arange(1, 5001) / 50)  # fractional: as given


def test_whole_epochs_are_spread_over_their_steps(qtbot):
    """The trainer reports whole epochs completed; the epoch axis interpolates between
    the steps where the count rose, so no epoch's points pile up on one x."""
    v = make(qtbot)
    steps = np.arange(1, 1011, dtype=float)
    epochs = np.floor(steps / 40)  # 40 steps per epoch
    for i in range(0, steps.size, 33):
        v.add_steps(steps[i : i + 33], np.ones(steps[i : i + 33].size), None, epochs[i : i + 33])
    x = v.epoch_axis.x.view
    assert x.size == steps.size and np.all(np.diff(x) >= 0)
    assert np.allclose(x[:1000], steps[:1000] / 40)  # exact up to the last finished epoch
    assert np.allclose(x[1000:], 25 + (steps[1000:] - 1000) / 40)  # the running one extrapolated
    v.add_eval(500, 12, 0.5, 0.6, None, None)
    v.set_x_axis("epochs")
    v.redraw()
    assert np.allclose(v._test.getData()[0], [12.5])


def test_incremental_smoothing_matches_the_core(qtbot):
    v = make(qtbot)
    losses = feed(v, 3000)
    assert np.allclose(v.smoothed.view, smooth_ema(losses, 0.9))
    v.set_smoothing(0.6)
    assert np.allclose(v.smoothed.view, smooth_ema(losses, 0.6))
    more = feed(v, 500, start=3001, seed=1)  # continues from the re-smoothed state
    assert np.allclose(v.smoothed.view, smooth_ema(np.concatenate([losses, more]), 0.6))
    v.set_smoothing(0.0)
    assert np.allclose(v.smoothed.view, v.losses.view)
    assert v.smoothing_slider.value() == 0


def test_slider_applies_smoothing_once_it_rests(qtbot):
    v = make(qtbot)
    losses = feed(v, 400)
    v.smoothing_slider.setValue(50)
    qtbot.waitUntil(lambda: np.allclose(v.smoothed.view, smooth_ema(losses, 0.5)), timeout=2000)


def test_new_run_keeps_the_previous_one_faded_and_labelled(qtbot):
    v = make(qtbot)
    v.new_run("run 1")
    feed(v, 300)
    v.add_eval(300, 6.0, 0.5, 0.6, 0.8, 0.85)
    v.new_run("run 2")
    assert len(v.steps) == 0 and v.old_run_labels == ["run 1"]
    old = v._old[0]
    assert len(old.train_curve.getData()[0]) == 300
    # the runs list is the legend of runs: a row with the run's colour, none over the plot
    assert v._pi.legend is None
    names = [v.runs_table.item(r, 2).text() for r in range(v.runs_table.rowCount())]
    assert "run 1" in names
    for k in range(3, MAX_OLD_RUNS + 5):
        feed(v, 50)
        v.new_run(f"run {k}")
    assert len(v._old) == MAX_OLD_RUNS
    assert v.old_run_labels[-1] == f"run {MAX_OLD_RUNS + 3}"  # the last one is current
    v.clear_history()
    assert v.old_run_labels == [] and len(v.steps) == 0


def test_evals_accuracy_axis_and_log_scale(qtbot):
    v = make(qtbot)
    feed(v, 200)
    for s in (50, 100, 150, 200):
        v.add_eval(s, s / 50, 1.0 / s, 2.0 / s, 0.5 + s / 1000, 0.6)
    v.add_eval(210, 4.2, 0.1, None, None, None)  # no test split: gaps, not zeros
    v.redraw()
    x, y = v._test.getData()
    assert len(x) == 5 and np.isnan(y[-1])
    assert v._acc_vb.isVisible()
    v.set_show_accuracy(False)
    v.redraw()
    assert not v._acc_vb.isVisible() and not v.acc_check.isChecked()
    v.set_log_y(True)
    assert v._pi.ctrl.logYCheck.isChecked() or v._raw.opts["logMode"][1]
    v.redraw()
    v.grab()


def test_bad_input_is_refused_with_a_message(qtbot):
    v = make(qtbot)
    with pytest.raises(ValueError, match="3 steps but 2 losses"):
        v.add_steps(np.arange(3), np.arange(2), None, np.arange(3))
    with pytest.raises(ValueError, match="steps' or 'epochs"):
        v.set_x_axis("time")


def test_export_png_and_svg(qtbot, tmp_path):
    v = make(qtbot)
    feed(v, 300)
    v.redraw()
    v.set_theme(True)
    for name in ("loss.png", "loss.svg"):
        v.export_image(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 1000


def test_live_repaint_for_seconds_does_not_crash(qtbot):
    """Append every 5 ms and repaint the widget for ~5 s: PySide6 6.12.0 on Python 3.11
    dies within seconds of this ("none_dealloc"); a supported build must survive it."""
    v = make(qtbot)
    rng = np.random.default_rng(0)
    step = 0
    t_end = time.monotonic() + 5.0
    frames = 0
    while time.monotonic() < t_end:
        s = np.arange(step + 1, step + 21, dtype=float)
        v.add_steps(s, rng.random(20), rng.random(20), s / 100)
        step += 20
        if step % 200 == 0:
            v.add_eval(step, step / 100, 0.5, 0.6, 0.7, 0.8)
        v.redraw()
        v.grab()
        frames += 1
        qtbot.wait(5)
    assert len(v.steps) == step and frames > 50


def test_a_million_points_are_kept_and_a_throttled_redraw_still_lands(qtbot):
    v = make(qtbot)
    n = 1_000_000
    steps = np.arange(1, n + 1, dtype=float)
    for i in range(0, n, 250_000):
        sl = slice(i, i + 250_000)
        v.add_steps(steps[sl], 1.0 / np.sqrt(steps[sl]), None, steps[sl] / 1000)
    assert len(v.losses) == n
    v.redraw()
    v.grab()
    assert len(v._raw.xData) == n
    # a slow frame pauses redraws; the last data must still be drawn afterwards
    before = v.frame_count
    v._next_redraw = time.monotonic() + 0.05
    v.add_steps(np.array([n + 1.0]), np.array([0.5]), None, np.array([1000.001]))
    v.redraw()
    assert v.frame_count == before
    qtbot.waitUntil(lambda: v.frame_count == before + 1, timeout=2000)
    assert len(v._raw.xData) == n + 1


# --- the runs list (issue 11 A) -----------------------------------------------------------
from nnviz.gui.views import runs_list  # noqa: E402
from tests.views import synthetic  # noqa: E402


def _info(data_seed: int = 0, loss: str = "softmax", n: int = 40, data_name: str | None = None):
    rng = np.random.default_rng(data_seed)
    X = rng.standard_normal((n, 2))
    info = synthetic.run_info(synthetic.spec([2, 8, 8, 2], loss=loss), X, np.arange(n) % 2)
    if data_name is not None:
        object.__setattr__(info, "data_name", data_name)  # what the window may add to RunInfo
    return info


def _run(v: LossPlot, label: str, info, n: int = 100) -> None:
    v.new_run(label, info)
    feed(v, n)
    v.add_eval(n, n / 50, 0.5, 0.6, 0.8, 0.85)
    v.redraw()


def test_a_comparable_new_run_adds_a_row_and_labels_say_data_and_loss(qtbot):
    v = make(qtbot)
    info = _info()
    _run(v, "run 1: 2-8-8-2 relu, adam lr=0.01", info)
    _run(v, "run 2: 2-8-8-2 relu, sgd lr=0.1", info)
    rows = v.runs
    assert [r.name for r in rows] == ["run 2", "run 1"]  # the current run first
    assert v.runs_table.rowCount() == 2 and v.runs_panel.isVisible()
    old = rows[1]
    assert old.steps == 100 and np.isfinite(old.train_loss) and old.test_loss == pytest.approx(0.6)
    assert old.loss == "cross-entropy" and "2 in, 2 classes" in old.data
    assert "cross-entropy" in old.row_label and "2 classes" in old.row_label
    assert old.lr_text == "adam 0.01" and rows[0].lr_text == "sgd 0.1"
    assert old.network == "2-8-8-2 relu"


def test_the_data_set_name_is_shown_when_the_run_carries_it(qtbot):
    v = make(qtbot)
    v.new_run("run 1", _info(data_name="spiral"))
    assert v.runs[0].data.startswith("spiral")
    m = runs_list.meta_for(1, "run 1", _info(loss="svm"), (0, 0, 0))
    assert m.loss == "SVM hinge"


def test_a_new_data_set_starts_a_fresh_comparison_but_keeps_a_comparable_reference(qtbot):
    v = make(qtbot)
    a, b = _info(0), _info(1)
    _run(v, "run 1", a)
    _run(v, "run 2", a)
    _run(v, "run 3", b)  # other data: runs 1 and 2 go
    assert v.old_run_labels == []
    _run(v, "run 4", b)
    v.pin_run(v.runs[1].key)  # run 3 is the reference
    _run(v, "run 5", b)
    _run(v, "run 6", a)  # other data again: the reference is not comparable, it goes too
    assert v.old_run_labels == []
    _run(v, "run 7", a)
    v.pin_run(v.runs[1].key)  # run 6
    _run(v, "run 8", a)
    v.clear_history()  # clearing keeps the reference
    assert v.old_run_labels == ["run 6"]
    _run(v, "run 9", a)
    v.clear_earlier()
    assert v.old_run_labels == ["run 6"]


def test_the_reference_is_drawn_distinctly_and_survives_the_old_runs_limit(qtbot):
    v = make(qtbot)
    info = _info()
    _run(v, "run 1", info)
    _run(v, "run 2", info)
    v.pin_run(v.runs[1].key)
    ref = v._old[0]
    assert ref.meta.pinned and ref.train_curve.opts["pen"].widthF() > 2
    for k in range(3, MAX_OLD_RUNS + 6):
        _run(v, f"run {k}", info)
    assert "run 1" in v.old_run_labels and len(v._old) == MAX_OLD_RUNS
    # one reference at most
    v.pin_run(v.runs[2].key)
    assert sum(r.pinned for r in v.runs) == 1 and not ref.meta.pinned


def test_hide_rename_and_remove_a_run(qtbot):
    from PySide6.QtCore import Qt

    v = make(qtbot)
    info = _info()
    _run(v, "run 1", info)
    _run(v, "run 2", info)
    old = v._old[0]
    key = old.meta.key
    row = v.runs_table.keys.index(key)
    v.runs_table.item(row, runs_list.SHOW).setCheckState(Qt.CheckState.Unchecked)  # as a click does
    assert not old.meta.visible and not old.train_curve.isVisible()
    v.runs_table.item(row, runs_list.NAME).setText("baseline")  # as an edit after double-click does
    assert v.old_run_labels == ["baseline"]
    assert v.runs_table.item(v.runs_table.keys.index(key), runs_list.NAME).text() == "baseline"
    v.rename_run(v.runs[0].key, "wider")
    assert v.runs[0].name == "wider"
    v.runs_table.selectRow(v.runs_table.keys.index(key))
    v.remove_button.click()
    assert v.old_run_labels == [] and v.runs_table.rowCount() == 1
    with pytest.raises(ValueError):
        v.remove_run(v.runs[0].key)  # the current run is not removed, it is cleared


def test_a_live_learning_rate_change_shows_in_the_current_row(qtbot):
    v = make(qtbot)
    v.new_run("run 1: 2-8-8-2 relu, adam lr=0.01", _info())
    v.set_current_lr(0.003)
    assert v.runs[0].lr_text == "adam 0.01 → 0.003"
    row = v.runs_table.keys.index(v.runs[0].key)
    assert v.runs_table.item(row, 6).text() == "adam 0.01 → 0.003"
    v.update_current(optimizer="sgd")
    assert v.runs[0].lr_text.startswith("sgd")
    with pytest.raises(ValueError):
        v.update_current(momentum=0.9)
    feed(v, 50)
    v.new_run("run 2")  # the old call still works
    assert v.runs[1].lr_text == "sgd 0.01 → 0.003"


def test_the_x_range_follows_the_current_run_unless_fit_all(qtbot):
    v = make(qtbot)
    info = _info()
    v.new_run("long", info)
    feed(v, 20_000, chunk=5000)
    v.redraw()
    v.new_run("short", info)
    feed(v, 400)
    v.redraw()
    v._pi.vb.updateAutoRange()
    x1 = v._pi.vb.viewRange()[0][1]
    assert x1 < 2000  # the 20,000-step run does not squash the current one to a sliver
    v.set_fit_all(True)
    v._pi.vb.updateAutoRange()
    assert v._pi.vb.viewRange()[0][1] >= 20_000
    v.set_fit_all(False)
    v._pi.vb.updateAutoRange()
    assert v._pi.vb.viewRange()[0][1] < 2000


# --- axes and legend (issue 11 B) ----------------------------------------------------------
def test_log_y_leaves_the_accuracy_axis_linear(qtbot):
    v = make(qtbot)
    feed(v, 200)
    v.add_eval(200, 4.0, 0.3, 0.4, 0.7, 0.8)
    v.set_log_y(True)
    assert v._pi.getAxis("left").logMode
    assert not v._pi.getAxis("right").logMode
    assert v._acc_vb.viewRange()[1][1] == pytest.approx(1.02, abs=0.05)
    y = v._train_acc.getData()[1]
    assert y[-1] == pytest.approx(0.8)  # drawn as it is, not as log10


def test_switching_to_epochs_while_paused_re_plots_at_once(qtbot):
    v = make(qtbot)
    feed(v, 500)
    v.add_eval(500, 10.0, 0.3, 0.4, 0.7, 0.8)
    v.redraw()
    frames = v.frame_count
    v.set_x_axis("epochs")  # no redraw call after it: the window does not send one while paused
    assert v.frame_count == frames + 1
    assert v._raw.getData()[0][-1] == pytest.approx(10.0)
    assert v._test.getData()[0][-1] == pytest.approx(10.0, rel=0.05)


def test_every_curve_has_a_legend_entry_outside_the_data(qtbot):
    v = make(qtbot)
    text = v.legend_label.text().replace("&nbsp;", " ")
    for name in ("minibatch", "train (smoothed)", "test", "train acc.", "test acc."):
        assert name in text
    assert v._pi.legend is None


def test_y_tick_labels_do_not_pile_up_on_a_narrow_range(qtbot):
    v = make(qtbot)
    n = 300
    s = np.arange(1, n + 1, dtype=float)
    v.add_steps(s, 0.40120 + 1e-5 * np.random.default_rng(0).random(n), None, s / 50)
    v.redraw()
    v.grab()
    axis = v._pi.getAxis("left")
    lo, hi = v._pi.vb.viewRange()[1]
    height = v._pi.vb.height()
    levels = axis.tickValues(lo, hi, height)
    major = levels[0][1]
    assert 1 <= len(major) <= height / 28 + 1
    labels = axis.tickStrings(major, 1.0, levels[0][0])
    assert len(set(labels)) == len(labels)  # distinct labels, none repeated
    assert all(len(t) <= 9 for t in labels)


def test_with_a_data_set_name_runs_on_the_same_data_set_compare_whatever_its_sample():
    same = [runs_list.fingerprint(_info(seed, data_name="spiral")) for seed in (0, 1)]
    assert runs_list.comparable(*same)  # more noise, another sample: still the spiral
    assert not runs_list.comparable(same[0], runs_list.fingerprint(_info(0, data_name="circle")))
    assert not runs_list.comparable(runs_list.fingerprint(_info(0)), runs_list.fingerprint(_info(1)))


def test_a_short_view_leaves_the_runs_list_to_its_button(qtbot):
    v = make(qtbot)
    v.resize(700, 220)  # a laptop's loss dock: the plot keeps the room
    qtbot.waitUntil(lambda: v.height() == 220, timeout=5000)
    info = _info()
    _run(v, "run 1: 2-8-8-2 relu, adam lr=0.01", info)
    _run(v, "run 2: 2-8-8-2 relu, sgd lr=0.1", info)
    assert not v.runs_panel.isVisible() and v.runs_button.text() == "runs 2"
    v.runs_button.click()
    assert v.runs_panel.isVisible()


def test_the_top_tick_label_has_room_above_the_plot(qtbot):
    """A tick label is centred on its tick; the one at the top edge was cut in half by the
    widget's border. The plot leaves half a line of room above it."""
    v = make(qtbot)
    feed(v, 300)
    qtbot.wait(50)
    view = v.plot_widget
    top = view.mapFromScene(v._pi.vb.sceneBoundingRect().topLeft()).y()
    assert top >= view.fontMetrics().height() / 2 - 1
