"""The view registry and protocols: every registered view offers what the window uses."""

from __future__ import annotations

import importlib

import numpy as np

from nnviz.gui.views.base import CENTRAL, REGISTRY, RowsView, SnapshotView
from nnviz.training.protocol import StepColumn


def _members(proto) -> set[str]:
    names = set()
    for klass in proto.__mro__:
        if klass in (object,) or klass.__name__ in ("Protocol", "Generic"):
            continue
        names |= {k for k in vars(klass) if not k.startswith("_")}
        names |= set(getattr(klass, "__annotations__", {}))
    return names


def test_registry_names_areas_and_dock_names():
    names = [e.name for e in REGISTRY]
    assert len(set(names)) == len(names)
    assert [e.area for e in REGISTRY].count(CENTRAL) == 1
    # the saved window layouts name these docks: they must not change
    docks = {e.name: e.dock_name for e in REGISTRY if e.area != CENTRAL}
    assert docks == {"decision": "decisionDock", "loss": "lossDock", "histograms": "histogramsDock",
                     "weights": "weightsDock", "gallery": "galleryDock", "unit": "unitDock"}
    assert [e.name for e in REGISTRY if e.rows] == ["loss"]  # the frame pump's LOSS part


def test_every_view_class_offers_its_protocol():
    for entry in REGISTRY:
        module, cls = entry.factory.split(":")
        klass = getattr(importlib.import_module(f"nnviz.gui.views.{module}"), cls)
        proto = RowsView if entry.rows else SnapshotView
        methods = _members(proto) - {"frame_count"}  # an attribute, set by the view
        missing = [m for m in methods if not callable(getattr(klass, m, None))]
        assert not missing, f"{cls} lacks {missing}"


def test_the_loss_plot_takes_step_rows(qtbot):
    from nnviz.gui.views.loss_plot import LossPlot

    lp = LossPlot()
    qtbot.addWidget(lp)
    lp.new_run("run 1")
    rows = np.zeros((3, len(StepColumn)))
    rows[:, StepColumn.STEP] = [1, 2, 3]
    rows[:, StepColumn.LOSS] = [0.9, 0.8, 0.7]
    rows[:, StepColumn.EPOCH] = [0.1, 0.2, 0.3]
    rows[:, StepColumn.ACCURACY] = np.nan  # regression: no accuracy curve
    lp.add_rows(rows)
    lp.add_rows(rows[:0])
    assert list(lp.steps.view) == [1, 2, 3] and list(lp.losses.view) == [0.9, 0.8, 0.7]
    assert np.isnan(lp.accuracies.view).all()
    before = lp.frame_count
    lp.redraw()
    assert lp.frame_count == before + 1
