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
    assert "run 1" in [label.text for _, label in v._legend.items]
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
