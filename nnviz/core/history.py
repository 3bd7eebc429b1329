"""Loss and accuracy history with O(1) appends, and TensorBoard-style smoothing."""

from __future__ import annotations

import numpy as np

COLUMNS = ("step", "epoch", "loss", "accuracy")
EVAL_COLUMNS = ("step", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


class GrowingTable:
    """A float64 table whose capacity doubles, so appending is amortised O(1)."""

    def __init__(self, columns: tuple[str, ...], capacity: int = 1024):
        self.columns = columns
        self._data = np.full((capacity, len(columns)), np.nan)
        self.size = 0

    def append(self, row: tuple[float | None, ...]) -> None:
        if self.size == len(self._data):
            grown = np.full((2 * len(self._data), len(self.columns)), np.nan)
            grown[: self.size] = self._data
            self._data = grown
        self._data[self.size] = [np.nan if v is None else v for v in row]
        self.size += 1

    def extend(self, rows: np.ndarray) -> None:
        """Append many rows at once (NaN for missing values): one copy, not one per row."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.columns))
        need = self.size + len(rows)
        if need > len(self._data):
            grown = np.full((max(2 * len(self._data), need), len(self.columns)), np.nan)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = rows
        self.size = need

    def keep_rows(self, count: int) -> None:
        """Drop every row after the first ``count`` (the capacity is kept)."""
        self.size = max(0, min(int(count), self.size))
        self._data[self.size :] = np.nan

    def column(self, name: str) -> np.ndarray:
        """A view of the filled part of one column (valid until the next append)."""
        return self._data[: self.size, self.columns.index(name)]

    def array(self) -> np.ndarray:
        return self._data[: self.size].copy()

    @classmethod
    def from_array(cls, columns: tuple[str, ...], data: np.ndarray) -> GrowingTable:
        t = cls(columns, max(1024, len(data)))
        t._data[: len(data)] = data
        t.size = len(data)
        return t


class History:
    """Per-step minibatch numbers and per-snapshot evaluations of one run."""

    def __init__(self) -> None:
        self.steps = GrowingTable(COLUMNS)
        self.evals = GrowingTable(EVAL_COLUMNS, 256)

    def add_step(self, step: int, epoch: int, loss: float, accuracy: float | None) -> None:
        self.steps.append((step, epoch, loss, accuracy))

    def add_steps(self, rows: np.ndarray) -> None:
        """Many steps at once: rows of (step, epoch, loss, accuracy), NaN accuracy for none."""
        self.steps.extend(rows)

    def add_eval(self, step, train_loss, train_acc, test_loss, test_acc) -> None:
        self.evals.append((step, train_loss, train_acc, test_loss, test_acc))

    def truncate(self, step: int) -> None:
        """Forget rows after ``step``: after a divergence rolled the trainer back, the
        rows past the restored step describe steps that no longer stand (a resumed run
        would repeat them)."""
        for table in (self.steps, self.evals):
            past = np.flatnonzero(table.column("step") > step)
            if past.size:
                table.keep_rows(int(past[0]))
