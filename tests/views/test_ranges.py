"""Plot ranges that move in steps: live plots must not regenerate their axes every frame."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.gui.views.loss_plot import LossPlot
from nnviz.gui.views.ranges import GROWTH, StickyViewBox, grow_range, hold_range, zero_based_range

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_grow_range_holds_then_grows_by_a_margin():
    r = grow_range(None, 0.0, 100.0)
    assert r[0] < 0 and r[1] == pytest.approx(100 * GROWTH)
    changes = 0
    for hi in range(100, 10_000, 7):  # a time axis whose data grows a little each frame
        new = grow_range(r, 0.0, float(hi))
        assert new[0] <= 0 and new[1] >= hi
        changes += new != r
        r = new
    # growing by a factor each time: a logarithmic number of changes, not one per frame
    assert changes <= int(np.log(100) / np.log(GROWTH)) + 2
    assert grow_range(r, 0.0, 10.0)[1] == pytest.approx(10 * GROWTH)  # much less data: shrinks


def test_hold_range_keeps_while_the_data_fits_and_fills_it():
    r = hold_range(None, 0.2, 0.8)
    assert r[0] < 0.2 and r[1] > 0.8
    assert hold_range(r, 0.25, 0.75) == r  # inside and filling most of it: unchanged
    assert hold_range(r, 0.1, 0.8) != r  # data left the range
    small = hold_range(r, 0.5, 0.52)  # data fills a sliver: re-fit
    assert small[0] < 0.5 and small[1] > 0.52 and small[1] - small[0] < 0.1
    flat = hold_range(None, 3.0, 3.0)
    assert flat[0] < 3.0 < flat[1]


def test_zero_based_range_moves_only_past_its_thresholds():
    r = zero_based_range(None, 100.0)
    assert r[0] == 0 and r[1] > 100
    assert zero_based_range(r, 90.0) == r
    assert zero_based_range(r, 50.0) == r
    assert zero_based_range(r, 200.0)[1] > 200
    assert zero_based_range(r, 10.0)[1] < 20
    assert zero_based_range(None, float("nan")) == (0.0, pytest.approx(1.15))


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="policy"):
        StickyViewBox(policy=("grow", "wobble"))


def test_live_loss_plot_sets_its_range_rarely(qtbot):
    """300 frames of a falling, noisy loss: pyqtgraph's own auto-range would change the
    x range (and regenerate the axis) on each of them."""
    v = LossPlot()
    qtbot.addWidget(v)
    v.resize(600, 360)
    v.show()
    qtbot.waitExposed(v)
    vb = v._pi.vb
    assert isinstance(vb, StickyViewBox)
    xs, ys = [], []
    vb.sigXRangeChanged.connect(lambda *_: xs.append(1))
    vb.sigYRangeChanged.connect(lambda *_: ys.append(1))
    rng = np.random.default_rng(0)
    step = 0
    for _ in range(300):
        s = np.arange(step + 1, step + 34, dtype=float)
        step += 33
        loss = np.exp(-s / 3000) + 0.1 * rng.random(s.size)
        v.add_steps(s, loss, None, s / 100)
        v._next_redraw = 0.0  # every frame draws (on a busy machine a slow one would throttle the next)
        v.redraw()
        vb.updateAutoRange()  # what the paint does
    # x grows 300-fold: about log(300)/log(GROWTH) steps; y settles once the loss has fallen
    assert len(xs) <= np.log(300) / np.log(GROWTH) + 3
    assert len(ys) <= 20
    assert vb.range_updates <= len(xs) + len(ys)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= 1 and x1 >= step  # every point still in view
    raw = v.losses.view
    assert y0 <= raw.min() and y1 >= raw.max()
    # a mouse zoom turns following off; the auto-range button turns it back on
    vb.setXRange(100, 200, padding=0)
    v.add_steps(np.array([step + 1.0]), np.array([0.5]), None, np.array([1.0]))
    v._next_redraw = 0.0
    v.redraw()
    vb.updateAutoRange()
    assert vb.viewRange()[0] == [100, 200]
    vb.enableAutoRange()
    v.add_steps(np.array([step + 2.0]), np.array([0.5]), None, np.array([1.0]))
    v._next_redraw = 0.0
    v.redraw()  # the next frame (curves clipped to the zoomed view are drawn whole again)
    vb.updateAutoRange()
    assert vb.viewRange()[0][1] >= step + 1
