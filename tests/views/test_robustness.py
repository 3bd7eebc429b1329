"""A run that blows up hands the views inf and NaN: they must draw something sane,
quietly (no RuntimeWarning floods), and keep working afterwards."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nnviz.gui.views.decision import DecisionView
from nnviz.gui.views.histograms import HistogramPanel
from nnviz.gui.views.loss_plot import LossPlot
from nnviz.gui.views.topology import TopologyView

pytestmark = [pytest.mark.qt_log_ignore("propagateSizeHints"), pytest.mark.filterwarnings("error")]


def blown_up(snap):
    def poison(a: np.ndarray) -> np.ndarray:
        a = np.array(a, dtype=np.float64, copy=True)
        flat = a.reshape(-1)
        flat[0], flat[-1] = np.inf, np.nan
        if flat.size > 2:
            flat[1] = -1e300
        return a

    grid = dataclasses.replace(snap.grid, output=poison(snap.grid.output),
                               neurons=tuple(poison(n) for n in snap.grid.neurons))
    layers = tuple(dataclasses.replace(lay, mean_activation=poison(lay.mean_activation),
                                       grad_norm=float("inf")) for lay in snap.layers)
    return dataclasses.replace(snap, params=tuple(poison(p) for p in snap.params), grid=grid,
                               layers=layers, train_loss=float("inf"), test_loss=float("nan"))


def test_views_survive_inf_and_nan(qtbot, spiral):
    bad = blown_up(spiral.snapshots[-1])
    views = [TopologyView(), HistogramPanel(), DecisionView()]
    for v in views:
        qtbot.addWidget(v)
        v.set_run(spiral.info)
        v.show_snapshot(spiral.snapshots[0])
        v.show_snapshot(bad)
        v.show_snapshot(spiral.snapshots[-1])
        v.grab()
        assert v.frame_count == 3
    views[0].describe_at(*views[0].neuron_position(0, 0))
    views[2].show_neuron(0, 0)
    loss = LossPlot()
    qtbot.addWidget(loss)
    loss.add_steps(np.arange(1, 6.0), np.array([1.0, np.inf, np.nan, 1e300, 0.5]), None, np.zeros(5))
    loss.add_eval(5, 0.1, np.inf, np.nan, None, None)
    loss.set_log_y(True)
    loss.redraw()
    loss.grab()
    assert len(loss.losses) == 5
