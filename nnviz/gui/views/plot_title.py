"""Plot titles that wrap to their plot's width instead of widening it.

pyqtgraph makes a title's one-line width the plot's minimum width, so a long title
("Confusion matrix (test split): 96.1% correct of 188 · rows: true, columns: predicted")
in a narrow dock pushed the plot past the dock's edge and cut off its last column. A
:class:`TitleFitter` wraps each title to the width of its plot widget, centred, again
whenever the widget is resized or the title set.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QTextOption

#: room left at the sides of a wrapped title, in pixels
TITLE_MARGIN = 8.0
#: a title never wraps narrower than this (a tiny plot keeps a readable word or two)
MIN_TITLE_WIDTH = 60.0


def fit_title(plot: pg.PlotItem, width: float) -> None:
    """Wrap ``plot``'s title to ``width`` pixels when its one line is wider; one line
    otherwise. Lines are centred, as a one-line title is."""
    label = plot.titleLabel
    if not label.isVisible() or not label.text:
        return
    item = label.item
    option = item.document().defaultTextOption()
    if option.alignment() != Qt.AlignmentFlag.AlignHCenter:
        option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        item.document().setDefaultTextOption(option)
    item.setTextWidth(-1)  # its natural one-line width
    # the title sits over the view box only: the side axes take their share of the width
    sides = sum(plot.getAxis(name).width() for name in ("left", "right") if plot.getAxis(name).isVisible())
    room = max(MIN_TITLE_WIDTH, float(width) - sides - TITLE_MARGIN)
    if item.boundingRect().width() > room:
        item.setTextWidth(room)
    label.updateMin()
    label.resizeEvent(None)


class TitleFitter(QObject):
    """Keeps the titles of the plots in ``widget`` (a ``pg.PlotWidget`` or a
    ``pg.GraphicsLayoutWidget``) wrapped to the widget's width: call :meth:`fit` after
    setting a title; resizes are followed by themselves."""

    def __init__(self, widget, plots: list[pg.PlotItem] | None = None, columns: int = 1) -> None:
        super().__init__(widget)
        self._widget = widget
        self._plots = plots if plots is not None else [widget.getPlotItem()]
        self._columns = max(1, int(columns))
        widget.installEventFilter(self)

    def set_plots(self, plots: list[pg.PlotItem], columns: int = 1) -> None:
        """The plots it wraps (a grid of ``columns`` share the width evenly)."""
        self._plots = list(plots)
        self._columns = max(1, int(columns))
        self.fit()

    def fit(self, plot: pg.PlotItem | None = None) -> None:
        """Wrap ``plot``'s title (every plot's without one) to its share of the width."""
        width = self._widget.width() / self._columns
        for p in ([plot] if plot is not None else self._plots):
            fit_title(p, width)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._widget and event.type() == QEvent.Type.Resize:
            self.fit()
        return False
