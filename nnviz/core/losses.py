"""Output losses: value, gradient with respect to the scores, and predictions.

Conventions follow PyTorch so settings carry over (mean over the batch; MSE is the mean
over all elements, like ``nn.MSELoss``), except the multiclass SVM, which follows the
lecture (CS231n): ``sum_{j != y} max(0, s_j - s_y + 1)`` averaged over examples, i.e.
``nn.MultiMarginLoss`` times the number of classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.core.activations import sigmoid

LOSS_NAMES = ("softmax", "svm", "logistic", "mse")


_ROWS: dict[int, np.ndarray] = {}


def _rows(n: int) -> np.ndarray:
    """``arange(n)``, cached: the hot loop asks for the same few sizes every step."""
    r = _ROWS.get(n)
    if r is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        r = _ROWS[n] = np.arange(n)
        r.flags.writeable = False
    return r


class LossScratch:
    """Preallocated arrays for one loss over batches of ``n`` examples and ``c`` outputs.

    Only the softmax loss uses them (the demo's loss, where a step is dominated by the
    number of NumPy calls); the gradient returned with them lives here and is overwritten
    by the next call with the same scratch.
    """

    def __init__(self, loss: Loss, n: int, c: int, dtype: np.dtype):
        self.n = n
        self.used = loss.name == "softmax" and n > 0
        if not self.used:
            return
        self.c = c
        self.rowmax = np.empty((n, 1), dtype)
        self.rowmax_flat = self.rowmax.reshape(n)
        self.shifted = np.empty((n, c), dtype)
        self.shifted_flat = self.shifted.reshape(-1)
        self.e = np.empty((n, c), dtype)
        self.e_flat = self.e.reshape(-1)
        self.e_cols = (self.e[:, 0], self.e[:, 1]) if c == 2 else None
        self.rowsum = np.empty((n, 1), dtype)
        self.rowsum_flat = self.rowsum.reshape(n)
        # the two sums of the loss, log(rowsum) and the true classes' shifted scores, as
        # the rows of one array: one reduction call for both, each row summed alone
        self.terms = np.empty((2, n), dtype)
        self.log_rowsum, self.picked = self.terms
        self.rows_c = np.arange(n) * c  # where each row starts in the flattened scores
        self.flat_y = np.empty(n, np.int64)
        self.inv_n = dtype.type(1.0 / n)
        self._cols_of: np.ndarray | None = None
        self._cols: tuple[np.ndarray, np.ndarray] | None = None

    def score_columns(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Views of the two columns of ``scores`` (kept while the same array comes back)."""
        if self._cols_of is not scores:
            self._cols_of, self._cols = scores, (scores[:, 0], scores[:, 1])
        return self._cols  # type: ignore[return-value]


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax with the row maximum subtracted, so it never overflows."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Loss:
    """A loss over a batch of scores (N, outputs) and targets."""

    name: str

    @property
    def is_classification(self) -> bool:
        return self.name != "mse"

    def output_units(self, n_classes: int, target_dim: int = 1) -> int:
        """How many output units the network needs for this loss."""
        if self.name == "logistic":
            return 1
        if self.name == "mse":
            return target_dim
        return n_classes

    def value_and_grad(
        self, scores: np.ndarray, y: np.ndarray, scratch: LossScratch | None = None
    ) -> tuple[float, np.ndarray]:
        """Mean loss over the batch and its gradient with respect to ``scores``.

        ``scratch`` (for this loss and batch size; ``y`` must then be valid class
        indices) saves allocations: the same bits, the gradient in the scratch arrays.
        """
        n = scores.shape[0]
        if (
            scratch is not None and scratch.used and self.name == "softmax"
            and scratch.n == n and scratch.c == scores.shape[1]
        ):
            return _softmax_into(scores, y, scratch)
        dt = scores.dtype.type
        if self.name == "softmax":
            shifted = scores - scores.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            rows = _rows(n)
            loss = float((np.log(s).sum() - shifted[rows, y].sum()) / n)
            grad = e / s
            grad[rows, y] -= 1
            grad *= dt(1.0 / n)
            return loss, grad
        if self.name == "svm":
            rows = _rows(n)
            margins = scores - scores[rows, y][:, None] + 1
            margins[rows, y] = 0
            positive = margins > 0
            loss = float(np.sum(margins[positive]) / n)
            grad = positive.astype(scores.dtype)
            grad[rows, y] = -positive.sum(axis=1)
            grad *= dt(1.0 / n)
            return loss, grad
        if self.name == "logistic":
            s = scores[:, 0]
            t = y.astype(scores.dtype)
            # log(1 + e^-|s|) + max(s, 0) - s*t  is BCE-with-logits without overflow
            loss = float(np.mean(np.logaddexp(0, -np.abs(s)) + np.maximum(s, 0) - s * t))
            grad = ((sigmoid(s) - t) * dt(1.0 / n))[:, None]
            return loss, grad
        if self.name == "mse":
            t = y.reshape(scores.shape).astype(scores.dtype, copy=False)
            diff = scores - t
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run: inf is the answer
                loss = float(np.mean(diff * diff))
            return loss, diff * dt(2.0 / diff.size)
        raise ValueError(f"unknown loss {self.name!r}")

    def value(self, scores: np.ndarray, y: np.ndarray) -> float:
        return self.value_and_grad(scores, y)[0]

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Class probabilities (N, C) for classification losses.

        The SVM has no probabilistic model; its softmax of scores is a convenient,
        monotone confidence for display, not a calibrated probability.
        """
        if self.name == "logistic":
            p1 = sigmoid(scores[:, 0])
            return np.stack([1 - p1, p1], axis=1)
        if self.name == "mse":
            raise ValueError("regression has no class probabilities")
        return softmax(scores)

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Predicted class per example, or the regression output itself."""
        if self.name == "logistic":
            return (scores[:, 0] > 0).astype(np.int64)
        if self.name == "mse":
            return scores
        return scores.argmax(axis=1)

    def accuracy(self, scores: np.ndarray, y: np.ndarray) -> float | None:
        """Fraction classified correctly; ``None`` for regression."""
        if self.name == "mse":
            return None
        return float(np.mean(self.predict(scores) == y))


def _softmax_into(scores: np.ndarray, y: np.ndarray, sc: LossScratch) -> tuple[float, np.ndarray]:
    """The softmax branch of :meth:`Loss.value_and_grad`, operation for operation and bit
    for bit, in fewer and cheaper NumPy calls: ``shifted[rows, y]`` read through flat
    indices; with two classes the row maximum and row sum as one binary operation on the
    two columns (the maximum of two numbers, and ``e0 + e1``, whatever the order of a
    reduction); the two sums of the loss in one reduction over the rows of one array."""
    n = sc.n
    if sc.e_cols is not None:
        s0, s1 = sc.score_columns(scores)
        np.maximum(s0, s1, out=sc.rowmax_flat)
    else:
        np.maximum.reduce(scores, axis=1, keepdims=True, out=sc.rowmax)
    shifted = np.subtract(scores, sc.rowmax, out=sc.shifted)
    e = np.exp(shifted, out=sc.e)
    if sc.e_cols is not None:
        np.add(sc.e_cols[0], sc.e_cols[1], out=sc.rowsum_flat)
    else:
        np.add.reduce(e, axis=1, keepdims=True, out=sc.rowsum)
    flat_y = np.add(sc.rows_c, y, out=sc.flat_y)
    np.log(sc.rowsum_flat, out=sc.log_rowsum)
    sc.picked[...] = sc.shifted_flat[flat_y]
    sums = np.add.reduce(sc.terms, axis=1)
    loss = float((sums[0] - sums[1]) / n)
    grad = np.divide(e, sc.rowsum, out=e)
    e_flat = sc.e_flat
    e_flat[flat_y] = e_flat[flat_y] - 1
    np.multiply(grad, sc.inv_n, out=grad)
    return loss, grad


def make_loss(name: str) -> Loss:
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSS_NAMES)}")
    return Loss(name)
