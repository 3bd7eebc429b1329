"""The loss plot's runs: what each run was (data, network, loss, optimiser), whether two runs
can be compared, and the small table that lists them and is the plot's legend of runs.

Qt-light: :class:`RunMeta` and :func:`comparable` hold no Qt, the :class:`RunsTable` is a
``QTableWidget`` of at most a dozen rows, rebuilt when the set of runs changes and updated
cell by cell (only changed texts) for the current run's numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from nnviz.app.runinfo import RunInfo

#: the table's columns: show (with the run's colour), reference, then the run's description
COLUMNS = ("show", "ref", "name", "data", "network", "loss", "optimiser / lr", "steps", "train", "test")
SHOW, REF, NAME = 0, 1, 2
#: how the spec's loss is called in the table and the labels
LOSS_NAMES = {"softmax": "cross-entropy", "svm": "SVM hinge", "mse": "MSE", "logistic": "logistic"}
#: training rows sampled for a data set's fingerprint (cheap whatever its size)
FINGERPRINT_ROWS = 512
_OPT = re.compile(r"(\w+) lr=([0-9.eE+-]+)")


@dataclass
class RunMeta:
    """One run as the runs list shows it; the current run's numbers grow while it trains."""

    key: int
    name: str
    label: str  # what the window called it
    data: str
    network: str
    loss: str
    optimiser: str
    lr_start: float | None
    lr_now: float | None
    fingerprint: tuple | None  # what makes two runs comparable (see comparable)
    colour: tuple[int, int, int]
    visible: bool = True
    pinned: bool = False
    steps: int = 0
    train_loss: float = math.nan
    test_loss: float = math.nan

    @property
    def lr_text(self) -> str:
        """"adam 0.01", or "adam 0.01 → 0.003" after a live change of the learning rate."""
        if self.lr_start is None:
            return self.optimiser
        text = f"{self.optimiser} {self.lr_start:g}".strip()
        if self.lr_now is not None and self.lr_now != self.lr_start:
            text += f" → {self.lr_now:g}"
        return text

    @property
    def row_label(self) -> str:
        """The run in one line, data set and loss included (tooltips, exports)."""
        return " · ".join(p for p in (self.name, self.data, self.network, self.loss, self.lr_text) if p)

    def cells(self) -> tuple[str, ...]:
        """The texts of the columns after show/ref."""
        return (self.name, self.data, self.network, self.loss, self.lr_text, f"{self.steps:,}",
                _num(self.train_loss), _num(self.test_loss))


def _num(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.4g}"


def network_text(info: RunInfo) -> str:
    """Widths and activations, short: "2-8-8-2 relu"."""
    spec = info.spec
    acts = list(dict.fromkeys(h.activation for h in spec.hidden))
    widths = "-".join(str(w) for w in spec.widths)
    return f"{widths} {'/'.join(acts)}" if acts else widths


def data_text(info: RunInfo) -> str:
    """The data set's name when the run carries it, else what it is: inputs, classes, size."""
    name = getattr(info, "data_name", "") or ""
    if info.task == "classification":
        what = f"{len(info.input_names)} in, {max(len(info.class_names), info.spec.output_dim)} classes"
    else:
        what = f"{len(info.input_names)} in, regression"
    return f"{name} ({what})" if name else what


def fingerprint(info: RunInfo) -> tuple:
    """What two runs must share to be drawn on one loss plot: the task, the inputs, the
    classes, and the data set: its name when the run carries one (more noise or points on
    the same data set still compare), else the training data itself (a strided sample, so
    a spiral and a circle of the same size are told apart; a Reset of the same data is not)."""
    name = getattr(info, "data_name", None) or None
    if name is not None:
        return (name, info.task, tuple(info.input_names), tuple(info.class_names),
                info.spec.input_dim, info.spec.output_dim)
    X, y = info.train_X, info.train_y
    sample = b""
    if X is not None and len(X):
        idx = np.linspace(0, len(X) - 1, min(len(X), FINGERPRINT_ROWS)).astype(np.int64)
        sample = np.ascontiguousarray(X[idx], np.float64).tobytes()
        if y is not None:
            sample += np.ascontiguousarray(np.asarray(y)[idx], np.float64).tobytes()
    return (None, info.task, tuple(info.input_names), tuple(info.class_names),
            info.spec.input_dim, info.spec.output_dim, info.n_train, hash(sample))


def comparable(a: tuple | None, b: tuple | None) -> bool:
    """Whether two runs' losses mean the same thing (an unknown run compares with anything)."""
    return a is None or b is None or a == b


def meta_for(key: int, label: str, info: RunInfo | None, colour: tuple[int, int, int]) -> RunMeta:
    """A run's description from the window's label and, when given, its RunInfo."""
    label = str(label)
    name = label.split(":", 1)[0].strip() if ":" in label else label
    m = _OPT.search(label)
    optimiser, lr = (m.group(1), _float(m.group(2))) if m else ("", None)
    if info is None:
        return RunMeta(key, name, label, "", "", "", optimiser, lr, lr, None, colour)
    loss = LOSS_NAMES.get(info.spec.loss, info.spec.loss)
    return RunMeta(key, name, label, data_text(info), network_text(info), loss, optimiser, lr, lr,
                   fingerprint(info), colour)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _swatch(rgb: tuple[int, int, int], pinned: bool) -> QIcon:
    pix = QPixmap(14, 6 if not pinned else 10)
    pix.fill(QColor(*rgb))
    return QIcon(pix)


class RunsTable(QTableWidget):
    """One row per run: show/hide, reference, name (double-click to rename) and numbers."""

    visibilityChanged = Signal(int, bool)  # run key, shown
    pinChanged = Signal(int, bool)
    renamed = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("lossRuns")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(18)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setWordWrap(False)
        self._keys: list[int] = []
        self._filling = False
        self.itemChanged.connect(self._item_changed)

    @property
    def keys(self) -> list[int]:
        """Run keys, row by row."""
        return list(self._keys)

    def fill(self, runs: list[RunMeta], current: int | None) -> None:
        """Rebuild every row (a handful): the set of runs changed."""
        self._filling = True
        try:
            self.setRowCount(len(runs))
            self._keys = [r.key for r in runs]
            for row, r in enumerate(runs):
                show = QTableWidgetItem()
                show.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                              | Qt.ItemFlag.ItemIsSelectable)
                show.setCheckState(Qt.CheckState.Checked if r.visible else Qt.CheckState.Unchecked)
                show.setIcon(_swatch(r.colour, r.pinned))
                show.setToolTip("show or hide this run's curves")
                self.setItem(row, SHOW, show)
                ref = QTableWidgetItem()
                ref.setFlags(show.flags())
                ref.setCheckState(Qt.CheckState.Checked if r.pinned else Qt.CheckState.Unchecked)
                ref.setToolTip("the reference run: drawn bold, kept when the others are cleared")
                self.setItem(row, REF, ref)
                for col, text in enumerate(r.cells(), start=NAME):
                    item = QTableWidgetItem(text)
                    flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                    if col == NAME:
                        flags |= Qt.ItemFlag.ItemIsEditable
                        item.setToolTip(r.row_label + ("  (current run)" if r.key == current else "")
                                        + "\ndouble-click to rename")
                        font = item.font()
                        font.setBold(r.key == current)
                        item.setFont(font)
                    item.setFlags(flags)
                    self.setItem(row, col, item)
        finally:
            self._filling = False

    def update_row(self, run: RunMeta) -> None:
        """Refresh one run's texts where they changed (the current run, while it trains)."""
        if run.key not in self._keys:
            return
        row = self._keys.index(run.key)
        self._filling = True
        try:
            for col, text in enumerate(run.cells(), start=NAME):
                item = self.item(row, col)
                if item is not None and item.text() != text and col != NAME:
                    item.setText(text)
        finally:
            self._filling = False

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.row() >= len(self._keys):
            return
        key = self._keys[item.row()]
        checked = item.checkState() == Qt.CheckState.Checked
        if item.column() == SHOW:
            self.visibilityChanged.emit(key, checked)
        elif item.column() == REF:
            self.pinChanged.emit(key, checked)
        elif item.column() == NAME:
            self.renamed.emit(key, item.text())
