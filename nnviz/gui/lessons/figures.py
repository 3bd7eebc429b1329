"""What the lesson window shows of a run record: the curves' metrics and the table's
columns, computed from the records (Qt-free helpers beside the Qt views)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from nnviz.lessons.records import RunRecord

#: the accuracy the table's "steps to" column asks for
TARGET_ACCURACY = 0.9


def _pooled(rec: RunRecord, attr: str) -> float | None:
    """The share over every hidden unit (None when no hidden layer has the figure)."""
    num = den = 0.0
    for lay in rec.hidden:
        v = getattr(lay, attr)
        if v is not None:
            num += v * lay.units
            den += lay.units
    return num / den if den else None


def grad_ratio(rec: RunRecord) -> float | None:
    """The first layer's weight-gradient norm over the last layer's: far below 1 is a
    vanishing gradient."""
    if len(rec.layers) < 2:
        return None
    last = rec.layers[-1].grad_norm
    return rec.layers[0].grad_norm / last if last > 0 and math.isfinite(last) else None


def one_sign_after_first(rec: RunRecord) -> float | None:
    """The share of one-sign weight updates in the layer after the first hidden layer
    (what the sigmoid-vs-tanh lesson compares); None without one or when nothing moved."""
    return rec.layers[1].one_sign_fraction if len(rec.layers) >= 2 else None


#: the curves' choices: label -> the value of a record (None: not measured)
METRICS: dict[str, Callable[[RunRecord], float | None]] = {
    "test loss": lambda r: r.test_loss if r.test_loss is not None else r.train_loss,
    "train loss": lambda r: r.train_loss,
    "test accuracy": lambda r: r.test_accuracy if r.test_accuracy is not None else r.train_accuracy,
    "train accuracy": lambda r: r.train_accuracy,
    "dead ReLU units": lambda r: _pooled(r, "dead_fraction"),
    "saturated units": lambda r: _pooled(r, "saturated_fraction"),
    "gradient, first layer / last": grad_ratio,
    "one-sign weight updates, layer 2": one_sign_after_first,
}
#: the curve that shows a check's metric best (the curves open on the lesson's first)
CURVE_OF_METRIC = {
    "test_loss": "test loss", "train_loss": "train loss", "test_accuracy": "test accuracy",
    "train_accuracy": "train accuracy", "steps_to_accuracy": "test accuracy",
    "dead_fraction": "dead ReLU units", "died_fraction": "dead ReLU units",
    "saturated_fraction": "saturated units", "grad_ratio": "gradient, first layer / last",
    "one_sign_fraction": "one-sign weight updates, layer 2",
}


def first_curve(metrics: Sequence[str]) -> str:
    """The curve to open on for checks measuring ``metrics`` (in the lesson's order)."""
    for m in metrics:
        if m in CURVE_OF_METRIC:
            return CURVE_OF_METRIC[m]
    return "test loss"


#: the metrics drawn on a log axis
LOG_METRICS = ("gradient, first layer / last",)


def steps_to(history: Sequence[RunRecord], target: float = TARGET_ACCURACY) -> int | None:
    """The first checkpoint's step at which the test (else train) accuracy reached ``target``."""
    for rec in history:
        acc = rec.test_accuracy if rec.test_accuracy is not None else rec.train_accuracy
        if acc is not None and acc >= target:
            return rec.step
    return None


def table_row(history: Sequence[RunRecord]) -> tuple[str, ...]:
    """One run's figures at its latest checkpoint, as the table shows them."""
    rec = history[-1]

    def num(v: float | None) -> str:
        return "–" if v is None or not math.isfinite(v) else f"{v:.4g}"

    def pct(v: float | None) -> str:
        return "–" if v is None or not math.isfinite(v) else f"{100 * v:.1f}%"

    reached = steps_to(history)
    norms = " · ".join(f"{lay.grad_norm:.1e}" for lay in rec.layers)
    signs = " · ".join(pct(lay.one_sign_fraction) for lay in rec.layers)
    return (
        num(rec.train_loss), num(rec.test_loss), pct(rec.train_accuracy), pct(rec.test_accuracy),
        pct(_pooled(rec, "dead_fraction")), pct(_pooled(rec, "saturated_fraction")),
        num(grad_ratio(rec)), norms, "not yet" if reached is None else f"{reached:,}", signs,
    )


TABLE_HEADER = ("train loss", "test loss", "train acc.", "test acc.", "dead", "saturated",
                "grad first/last", "||dW|| per layer (first → output)", f"steps to {TARGET_ACCURACY:.0%}",
                "one-sign updates per layer")
