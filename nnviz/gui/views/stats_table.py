"""A small table of numbers that change every frame, painted directly.

A rich-text QLabel re-parses and re-lays out its HTML table on every ``setText`` and
asks its parent to re-lay out too: about 5 ms and an extra paint per frame for the
histogram panel's four-row table. This widget keeps the cells as plain strings, paints
them in right-aligned columns, and asks for a new layout only when its number of lines
changes. Columns only ever widen, so changing digits never make the table jitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

#: pixels between columns and around the table
PAD = 8


@dataclass(frozen=True)
class Cell:
    """One cell: its text, a colour (None: the window's text colour) and weight."""

    text: str
    colour: tuple[int, int, int] | None = None
    bold: bool = False


class StatsTable(QWidget):
    """Header, rows of :class:`Cell` and an optional one-line note below them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._header: tuple[str, ...] = ()
        self._rows: tuple[tuple[Cell, ...], ...] = ()
        self._note: Cell | None = None
        self._widths: list[int] = []
        self._bold = QFont(self.font())
        self._bold.setBold(True)

    # --- content -------------------------------------------------------------------
    def set_table(self, header: tuple[str, ...], rows: tuple[tuple[Cell, ...], ...],
                  note: Cell | None = None) -> None:
        """Show these cells; nothing happens when they are what is shown already."""
        if header == self._header and rows == self._rows and note == self._note:
            return
        lines_before = self._lines()
        self._header, self._rows, self._note = header, rows, note
        plain, bold = QFontMetrics(self.font()), QFontMetrics(self._bold)
        ncols = len(header)
        widths = self._widths[:ncols] + [0] * (ncols - len(self._widths))
        for k, text in enumerate(header):
            widths[k] = max(widths[k], bold.horizontalAdvance(text))
        for row in rows:
            for k, cell in enumerate(row[:ncols]):
                fm = bold if cell.bold else plain
                widths[k] = max(widths[k], fm.horizontalAdvance(cell.text))
        grew = widths != self._widths
        self._widths = widths
        self.setToolTip(note.text if note is not None else "")
        if grew or self._lines() != lines_before:
            self.updateGeometry()
        self.update()

    def clear(self) -> None:
        """No rows; the columns may narrow again (a new run)."""
        self._header, self._rows, self._note = (), (), None
        self._widths = []
        self.setToolTip("")
        self.updateGeometry()
        self.update()

    def text(self) -> str:
        """The table as plain text: one line per row, cells separated by tabs."""
        lines = ["\t".join(self._header)] if self._header else []
        lines += ["\t".join(c.text for c in row) for row in self._rows]
        if self._note is not None:
            lines.append(self._note.text)
        return "\n".join(lines)

    # --- geometry and painting -----------------------------------------------------
    def _lines(self) -> int:
        return (1 if self._header else 0) + len(self._rows) + (1 if self._note is not None else 0)

    def _line_height(self) -> int:
        return QFontMetrics(self._bold).height() + 1

    def sizeHint(self) -> QSize:
        width = sum(self._widths) + PAD * (len(self._widths) + 1)
        return QSize(width, self._lines() * self._line_height() + PAD // 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._header and not self._rows and self._note is None:
            return
        p = QPainter(self)
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        lh = self._line_height()
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        y = 0
        p.setFont(self._bold)
        p.setPen(text_colour)
        x = PAD
        for w, text in zip(self._widths, self._header, strict=False):
            p.drawText(QRect(x, y, w, lh), right, text)
            x += w + PAD
        y += lh
        font_bold = True
        for row in self._rows:
            x = PAD
            for w, cell in zip(self._widths, row, strict=False):
                if cell.bold != font_bold:
                    p.setFont(self._bold if cell.bold else self.font())
                    font_bold = cell.bold
                p.setPen(QColor(*cell.colour) if cell.colour is not None else text_colour)
                p.drawText(QRect(x, y, w, lh), right, cell.text)
                x += w + PAD
            y += lh
        note = self._note
        if note is not None:
            p.setFont(self._bold if note.bold else self.font())
            p.setPen(QColor(*note.colour) if note.colour is not None else text_colour)
            width = max(self.width() - 2 * PAD, 0)
            text = p.fontMetrics().elidedText(note.text, Qt.TextElideMode.ElideRight, width)
            p.drawText(QRect(PAD, y, width, lh), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       text)
        p.end()


def dead_text(lay, short: bool = False) -> str | None:
    """Dead units now, as "2 dead at start, +5 since" (``short``: "2+5 dead") when the start
    is known (a unit that never fired at initialisation is not the lesson; one that died
    while training is)."""
    if lay.dead_units is None:
        return None
    n = int(np.count_nonzero(lay.dead_units))
    since = lay.dead_since_start
    if since is None:
        return f"{n} dead"
    if short:  # a narrow column: "2+5 dead"
        return f"{n - since}+{since} dead" if since else f"{n} dead"
    return f"{n - since} dead at start, +{since} since"
