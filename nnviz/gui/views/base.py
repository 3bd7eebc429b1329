"""What the window and its frame pump need of a view, and the list of views the window shows.

A new view is one module and one line in :data:`REGISTRY`: the window makes it, docks it,
lists it in the View and Export menus, themes it, points it at each run and draws it (see
:mod:`nnviz.gui.window.frame_pump`). Qt-free, so the registry is read without building a window.

Two kinds of view, by how they are fed:

* a snapshot view (:class:`SnapshotView`) takes each run (``set_run``, which may raise:
  the window then keeps the current run) and draws whole snapshots, one view per frame;
* a rows view (:class:`RowsView`, ``rows=True``: the loss plot) takes every minibatch's
  step row and each snapshot's evaluation, and is redrawn on the frame pump's own
  schedule (:data:`nnviz.gui.window.frames.LOSS`), not per snapshot.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nnviz.app.runinfo import RunInfo
from nnviz.core.trainer import Snapshot

#: where a view goes in the window: the central widget or a dock area
CENTRAL, LEFT, RIGHT, BOTTOM = "central", "left", "right", "bottom"


class View(Protocol):
    """What every view offers the window."""

    #: paints made so far: the frame pump counts a part only when this rose
    frame_count: int

    def set_theme(self, dark: bool) -> None: ...

    def export_image(self, path: str) -> None:
        """PNG (as shown) or SVG, by the name's extension."""


class SnapshotView(View, Protocol):
    def set_run(self, info: RunInfo) -> None:
        """Take a new run's network and data; raises if it cannot draw them."""

    def show_snapshot(self, snap: Snapshot) -> None: ...


class RowsView(View, Protocol):
    def new_run(self, label: str, info: RunInfo | None = None) -> None:
        """A new run starts (the current one may stay, faded). With ``info`` the view
        decides whether it compares with the earlier runs (same data) or starts afresh."""

    def set_current_lr(self, lr: float) -> None:
        """The learning rate was changed live: the current run is labelled with it."""

    def add_rows(self, rows: np.ndarray) -> None:
        """Minibatch step rows, columns by :class:`nnviz.training.protocol.StepColumn`."""

    def add_eval(self, step: int, epoch: float, train_loss: float, test_loss: float | None,
                 test_acc: float | None, train_acc: float | None) -> None: ...

    def redraw(self) -> None: ...


@dataclass(frozen=True)
class ViewEntry:
    """One view of the window: how to make it and where it goes."""

    name: str  # the key in ``window.views``, the frame pump's part, the export file's stem
    factory: str  # "module:Class" under nnviz.gui.views, imported when the window is made
    area: str  # CENTRAL, LEFT, RIGHT or BOTTOM
    title: str  # the dock's title
    image_title: str  # in File > Export: "<image_title> image (PNG/SVG)…"
    noun: str  # in messages: "the <noun> panel cannot draw this run"
    rows: bool = False  # a RowsView, else a SnapshotView
    attr: str = ""  # the window attribute holding it (default: name); its dock's is "<name>_dock"

    @property
    def window_attr(self) -> str:
        return self.attr or self.name

    @property
    def dock_name(self) -> str:
        """The dock's object name (the saved window layout refers to it)."""
        return f"{self.name}Dock"

    def make(self, parent):
        module, cls = self.factory.split(":")
        return getattr(importlib.import_module(f"nnviz.gui.views.{module}"), cls)(parent)


#: the window's views in order: the order a snapshot is drawn in, of the docks and the menus
REGISTRY: tuple[ViewEntry, ...] = (
    ViewEntry("topology", "topology:TopologyView", CENTRAL, "Network", "Network", "network"),
    ViewEntry("decision", "decision:DecisionView", RIGHT, "Output", "Output", "output"),
    ViewEntry("loss", "loss_plot:LossPlot", BOTTOM, "Loss", "Loss plot", "loss", rows=True, attr="loss_plot"),
    ViewEntry("histograms", "histograms:HistogramPanel", RIGHT, "Histograms", "Histograms", "histogram"),
    ViewEntry("weights", "weight_tiles:WeightTilesView", RIGHT, "Weights", "Weight tiles", "weight tiles"),
    ViewEntry("gallery", "gallery:GalleryView", RIGHT, "Examples", "Example gallery", "example gallery"),
    ViewEntry("unit", "unit:UnitView", RIGHT, "Unit", "Unit page", "unit"),
)
