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

    def value_and_grad(self, scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean loss over the batch and its gradient with respect to ``scores``."""
        n = scores.shape[0]
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


def make_loss(name: str) -> Loss:
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSS_NAMES)}")
    return Loss(name)
