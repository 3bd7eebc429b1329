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


def smooth_ema(values: np.ndarray, weight: float, block: int = 256) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average with debiasing, so the first
    points are not dragged toward zero. ``weight`` in [0, 1); 0 means no smoothing.

    Vectorised in blocks (a triangular matrix of powers inside each block, a short
    sequential carry between blocks), so a million points take milliseconds.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    n = v.size
    if weight <= 0 or n == 0:
        return v.copy()
    w = min(float(weight), 0.9999)
    nb = -(-n // block)
    padded = np.zeros(nb * block)
    padded[:n] = v
    V = padded.reshape(nb, block)
    j = np.arange(block)
    expo = j[:, None] - j[None, :]
    T = np.where(expo >= 0, w ** np.maximum(expo, 0), 0.0)  # T[j, k] = w^(j-k), k <= j
    local = (V @ T.T) * (1 - w)  # each block's EMA as if it started from zero
    carry = np.zeros(nb)
    decay = w**block
    for b in range(1, nb):
        carry[b] = carry[b - 1] * decay + local[b - 1, -1]
    ema = local + carry[:, None] * (w ** (j + 1))[None, :]
    ema = ema.ravel()[:n]
    return ema / (1 - w ** np.arange(1, n + 1))


class EmaSmoother:
    """The same smoothing, extended point by point as a run grows (O(new points))."""

    def __init__(self, weight: float):
        self.weight = min(max(float(weight), 0.0), 0.9999)
        self._last = 0.0
        self._n = 0

    @classmethod
    def resume(cls, weight: float, last_smoothed: float, count: int) -> EmaSmoother:
        """Continue a series already smoothed up to ``count`` points whose last smoothed
        (debiased) value was ``last_smoothed``."""
        s = cls(weight)
        s._n = int(count)
        s._last = float(last_smoothed) * (1 - s.weight**s._n) if s._n else 0.0
        return s

    def extend(self, values: np.ndarray) -> np.ndarray:
        w = self.weight
        out = np.empty(len(values))
        last, n = self._last, self._n
        for i, v in enumerate(np.asarray(values, dtype=np.float64)):
            last = last * w + (1 - w) * v
            n += 1
            out[i] = last / (1 - w**n) if w > 0 else v
        self._last, self._n = last, n
        return out
