"""The tables of a lesson's calculations: one per calculation, a row per score vector or
parameter array, the figures its checks compare in bold.

Before the lesson runs each table shows its rows with dashes, so the student sees what
will be worked out; the numbers arrive with the result (milliseconds after Run).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnviz.lessons.calculations import KINDS, Calculation, CalculationResult, short
from nnviz.lessons.format import Lesson

#: column titles of the figures (the file's names, readable)
FIGURE_TITLES = {
    "margin": "margin", "svm_loss": "SVM loss", "softmax_loss": "softmax loss",
    "svm_gradient": "‖SVM gradient‖", "softmax_gradient": "‖softmax gradient‖",
    "correct_probability": "p(correct)", "max_score": "max s", "naive_finite": "naive ok?",
    "stable_finite": "stable ok?", "stable_sum": "Σ p", "top_probability": "largest p",
    "shift_difference": "|stable − shifted|", "max_rel_error": "max rel. error",
    "mean_rel_error": "mean rel. error", "checked": "checked",
}
#: figures that are yes/no (1/0)
_YES_NO = ("naive_finite", "stable_finite")


def figure_text(name: str, value: float) -> str:
    """A figure as its table cell shows it."""
    if name in _YES_NO:
        return "yes" if value == 1.0 else "no"
    return short(value)


def checked_figures(lesson: Lesson) -> dict[str, set[str]]:
    """Per calculation, the figures the lesson's checks compare (shown in bold)."""
    out: dict[str, set[str]] = {}
    for c in lesson.checks:
        for m in (c.left, c.right, *c.measures):
            if m is not None and m.calculation is not None:
                out.setdefault(m.calculation, set()).add(m.metric)
    return out


class CalculationTable(QWidget):
    """One calculation: its label and what it computes above a table of its rows."""

    def __init__(self, calc: Calculation, bold: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calc = calc
        self.bold = bold
        kind = KINDS[calc.kind]
        self.caption = QLabel(f"<b>{_esc(calc.label)}</b> — {_esc(kind.about)}")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 6)
        lay.addWidget(self.caption)
        lay.addWidget(self.table)
        self.result: CalculationResult | None = None
        self._fill(None)

    def _fill(self, result: CalculationResult | None) -> None:
        texts = KINDS[self.calc.kind].texts
        figures = KINDS[self.calc.kind].figures
        header = [KINDS[self.calc.kind].row, *texts, *(FIGURE_TITLES.get(f, f) for f in figures)]
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setRowCount(self.calc.n_rows)
        self.table.setHorizontalHeaderLabels(header)
        font = QFont(self.table.font())
        font.setBold(True)
        for j, f in enumerate(figures):
            item = self.table.horizontalHeaderItem(1 + len(texts) + j)
            item.setToolTip(f"{f}" + (" (the lesson's checks compare it)" if f in self.bold else ""))
            if f in self.bold:
                item.setFont(font)
        for i, label in enumerate(self.calc.row_labels):
            self.table.setItem(i, 0, QTableWidgetItem(label.split(": ", 1)[-1]))
            row = result.rows[i] if result is not None and i < len(result.rows) else None
            for j, t in enumerate(texts):
                self.table.setItem(i, 1 + j, QTableWidgetItem(row.texts.get(t, "") if row else ""))
            for j, f in enumerate(figures):
                text = "–" if row is None else figure_text(f, row.figures.get(f, float("nan")))
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if f in self.bold:
                    item.setFont(font)
                if row is not None:
                    item.setToolTip(repr(row.figures.get(f)))  # every digit on hover
                self.table.setItem(i, 1 + len(texts) + j, item)

    def show_result(self, result: CalculationResult) -> None:
        self.result = result
        self._fill(result)

    def cell(self, row: int, figure: str) -> str:
        """The text of ``figure``'s cell in ``row`` (for tests and the self-check)."""
        for j in range(self.table.columnCount()):
            if self.table.horizontalHeaderItem(j).text() == FIGURE_TITLES.get(figure, figure):
                return self.table.item(row, j).text()
        raise KeyError(figure)


class CalculationsPanel(QScrollArea):
    """Every calculation of a lesson, one table under another."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.tables: dict[str, CalculationTable] = {}
        self._inner = QWidget()
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self.setWidget(self._inner)

    def set_lesson(self, lesson: Lesson | None) -> None:
        """Empty tables for ``lesson``'s calculations (none: an empty panel)."""
        for t in self.tables.values():
            self._layout.removeWidget(t)
            t.hide()
            t.deleteLater()
        self.tables = {}
        while self._layout.count():  # the stretch of the previous lesson
            self._layout.takeAt(0)
        calcs: Sequence[Calculation] = lesson.calculations if lesson is not None else ()
        bold = checked_figures(lesson) if lesson is not None else {}
        for calc in calcs:
            t = CalculationTable(calc, bold.get(calc.name, set()))
            self.tables[calc.name] = t
            self._layout.addWidget(t)
        self._layout.addStretch(1)

    def show_result(self, result: CalculationResult) -> None:
        table = self.tables.get(result.name)
        if table is not None:
            table.show_result(result)


def _esc(text: str) -> str:
    return html.escape(text)


__all__ = ["FIGURE_TITLES", "CalculationTable", "CalculationsPanel", "checked_figures", "figure_text"]
