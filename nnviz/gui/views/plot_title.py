"""Plot titles that wrap to their plot's width instead of widening it.

pyqtgraph makes a title's one-line width the plot's minimum width, so a long title
("Confusion matrix (test split): 96.1% correct of 188 · rows: true, columns: predicted")
in a narrow dock pushed the plot past the dock's edge and cut off its last column. A
:class:`TitleFitter` wraps each title to the width of its plot widget, centred, again
whenever the widget is resized or the title set.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QTextOption

#: room left at the sides of a wrapped title, in pixels
TITLE_MARGIN = 8.0
#: a title never wraps narrower than this (a tiny plot keeps a readable word or two)
MIN_TITLE_WIDTH = 60.0
#: the title row's height for one line, as pyqtgraph sets it
TITLE_ROW = 30


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
    # pyqtgraph fixes the title row at 30 px: a wrapped title gets the rows it needs
    height = max(TITLE_ROW, math.ceil(item.boundingRect().height()) + 4)
    if label.maximumHeight() != height:
        label.setMaximumHeight(height)
        plot.layout.setRowFixedHeight(0, height)
    label.updateMin()
    label.resizeEvent(None)


class TitleFitter(QObject):
    """Keeps the titles of the plots in ``widget`` (a ``pg.PlotWidget`` or a
    ``pg.GraphicsLayoutWidget``) wrapped to their plots' widths: call :meth:`fit` after
    setting a title; resizes of the widget and of each plot are followed by themselves.
    A plot is fitted to its own width in the layout once it has one (a grid's cells are
    narrower than an even share of the widget: margins, spacing, spans), and never to
    more than the widget's width shared by ``columns``."""

    def __init__(self, widget, plots: list[pg.PlotItem] | None = None, columns: int = 1) -> None:
        super().__init__(widget)
        self._widget = widget
        self._plots = list(plots) if plots is not None else [widget.getPlotItem()]
        self._columns = max(1, int(columns))
        self._fitted: dict[int, float] = {}  # plot -> the width its title was fitted to
        widget.installEventFilter(self)
        for plot in self._plots:
            plot.geometryChanged.connect(lambda plot=plot: self._refit(plot))
        self.fit()

    def _width(self, plot: pg.PlotItem) -> float:
        """The plot's own width, but never more than its share of the widget: when the
        widget shrinks, the title must narrow first or it would hold the plot wide."""
        share = self._widget.width() / self._columns
        own = plot.geometry().width()
        return min(own, share) if own > 0 else share

    def _refit(self, plot: pg.PlotItem) -> None:
        """A plot's geometry changed: refit its title if its width did."""
        if self._fitted.get(id(plot)) != self._width(plot):
            self.fit(plot)

    def fit(self, plot: pg.PlotItem | None = None) -> None:
        """Wrap ``plot``'s title (every plot's without one) to its plot's width."""
        for p in ([plot] if plot is not None else self._plots):
            width = self._width(p)
            self._fitted[id(p)] = width
            fit_title(p, width)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._widget and event.type() == QEvent.Type.Resize:
            self.fit()
        return False
