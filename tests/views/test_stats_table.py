"""The stats table under the histograms: plain cells painted directly, steady columns."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QGraphicsItem

from nnviz.gui.views.histograms import HistogramPanel
from nnviz.gui.views.stats_table import Cell, StatsTable

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_columns_only_widen_and_same_content_is_no_update(qtbot):
    t = StatsTable()
    qtbot.addWidget(t)
    t.show()
    header = ("layer", "norm")
    t.set_table(header, ((Cell("hidden 1"), Cell("1.234e-03")),))
    wide = t.sizeHint().width()
    t.set_table(header, ((Cell("hidden 1"), Cell("5e-3")),))  # narrower digits: columns stay
    assert t.sizeHint().width() == wide
    assert t.text() == "layer\tnorm\nhidden 1\t5e-3"
    updates = []
    t.update = lambda *a: updates.append(a)
    t.set_table(header, ((Cell("hidden 1"), Cell("5e-3")),))
    assert updates == []  # the same cells: nothing to repaint
    lines = t.sizeHint().height()
    t.set_table(header, ((Cell("hidden 1"), Cell("5e-3")),), Cell("a note", (200, 0, 0)))
    assert t.sizeHint().height() > lines and t.text().endswith("a note") and t.toolTip() == "a note"
    t.clear()
    assert t.text() == "" and t.sizeHint().width() < wide


def test_panel_axes_and_legend_paint_from_a_cache(qtbot, spiral):
    v = HistogramPanel()
    qtbot.addWidget(v)
    v.set_run(spiral.info)
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    for plot in (v._hist_plot, v._evo_plot, v._norm_plot):
        assert plot.getAxis("left").cacheMode() == cached
        assert plot.getAxis("bottom").cacheMode() == cached
    # the norms' legend is a label under the plots (no legend item painted over the data)
    assert v._norm_plot.legend is None and "output" in v.norm_legend.text()
