"""Calculations: the lessons whose point is a few numbers worked out, not a training run.

Some claims of the notes are arithmetic on given numbers (the softmax and SVM losses of
three score vectors, softmax overflowing at scores near 1000) or a check of the engine
itself (backprop against centred differences). A lesson lists them as ``calculations``
beside or instead of its runs; each is one of a small fixed vocabulary of kinds
(:data:`KINDS`) with its parameters, and makes a table: one row per score vector or
parameter array, with named numeric figures the lesson's checks can compare, exactly as
they compare the figures of runs. Every figure is computed by the core's own functions
(:mod:`nnviz.core.losses`, :mod:`nnviz.core.gradcheck`); the one exception is the naive
softmax, which is here because it is what the lesson shows failing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nnviz.app.run_settings import RunSettings, build_session
from nnviz.core.gradcheck import gradient_check
from nnviz.core.losses import make_loss, softmax
from nnviz.core.trainer import DivergedError


@dataclass(frozen=True)
class Kind:
    """A kind of calculation: what it computes, its figures (per row) and what a row is."""

    name: str
    about: str
    figures: tuple[str, ...]
    row: str  # what one row of its table is
    texts: tuple[str, ...] = ()  # the columns shown as text (vectors, counts) before the figures


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("softmax_vs_svm",
         "the multiclass SVM loss (hinge, margin 1) and the softmax loss of each score vector, "
         "with the size of their gradients with respect to the scores",
         ("margin", "svm_loss", "softmax_loss", "svm_gradient", "softmax_gradient",
          "correct_probability"), "score vector", ("correct class", "softmax probabilities")),
    Kind("softmax_stability",
         "softmax of each score vector computed naively (exp, then divide) and as the core does "
         "(the maximum subtracted first), and naively on the scores shifted by their maximum",
         ("max_score", "naive_finite", "stable_finite", "stable_sum", "top_probability", "shift_difference"),
         "score vector", ("naive exp(s)/Σexp(s)", "stable softmax", "naive on s − max")),
    Kind("gradient_check",
         "backprop's gradient of a network's loss against centred differences, per parameter array "
         "(relative error |a - n| / max(|a|, |n|))",
         ("max_rel_error", "mean_rel_error", "checked"), "parameter array", ("entries",)),
)}


@dataclass(frozen=True)
class Calculation:
    """One calculation of a lesson, checked when the file was read."""

    name: str
    label: str
    kind: str
    scores: tuple[tuple[float, ...], ...] = ()  # the score kinds: one vector per row
    correct: tuple[int, ...] = ()  # softmax_vs_svm: the correct class of each vector
    settings: RunSettings | None = None  # gradient_check: the network and data
    examples: int = 32  # gradient_check: examples of the training split in the loss
    entries: int = 30  # gradient_check: entries checked per parameter array (a sample)
    train_steps: int = 0  # gradient_check: steps of training first (off the first weights)
    eps: float = 1e-4  # gradient_check: the step of the differences
    row_labels: tuple[str, ...] = ()  # what each row is, known before computing

    @property
    def n_rows(self) -> int:
        return len(self.row_labels)


@dataclass(frozen=True)
class CalcRow:
    """One row of a calculation's table: a label, its figures and numbers shown as text."""

    label: str
    figures: dict[str, float] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CalculationResult:
    """A calculation made: its table (text columns, then figures) row by row."""

    name: str
    label: str
    kind: str
    text_columns: tuple[str, ...]
    figure_columns: tuple[str, ...]
    rows: tuple[CalcRow, ...]
    seconds: float = 0.0

    def figure(self, name: str, row: int) -> float:
        return self.rows[row].figures.get(name, math.nan)

    def table(self) -> str:
        """The table as plain text (for the command line)."""
        head = ["row", *self.text_columns, *self.figure_columns]
        body = [[r.label, *(r.texts.get(c, "") for c in self.text_columns),
                 *(short(r.figures.get(c, math.nan)) for c in self.figure_columns)] for r in self.rows]
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
        lines = [f"{self.label} ({self.kind})"]
        for cells in (head, *body):
            padded = (str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
            lines.append(("  " + "  ".join(padded)).rstrip())
        return "\n".join(lines)


def short(v: float) -> str:
    """A figure in a table: 0, 1, 0.551, 2.4e-48, inf, nan."""
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v)}"
    return f"{v:.3g}"


def vector_text(v: Sequence[float] | np.ndarray) -> str:
    return "[" + ", ".join(short(float(x)) for x in v) + "]"


def naive_softmax(scores: np.ndarray) -> np.ndarray:
    """exp(s) / sum exp(s), exactly as written: what overflows at scores near 1000."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)


# --- the kinds ------------------------------------------------------------------------
def _softmax_vs_svm(calc: Calculation) -> list[CalcRow]:
    svm, soft = make_loss("svm"), make_loss("softmax")
    rows = []
    for label, s, y in zip(calc.row_labels, calc.scores, calc.correct, strict=True):
        S = np.asarray([s], dtype=np.float64)
        Y = np.array([y], dtype=np.int64)
        svm_loss, svm_grad = svm.value_and_grad(S, Y)
        soft_loss, soft_grad = soft.value_and_grad(S, Y)
        p = soft.probabilities(S)[0]
        others = np.delete(S[0], y)
        rows.append(CalcRow(label, {
            "margin": float(S[0, y] - others.max()), "svm_loss": float(svm_loss),
            "softmax_loss": float(soft_loss), "svm_gradient": float(np.linalg.norm(svm_grad)),
            "softmax_gradient": float(np.linalg.norm(soft_grad)), "correct_probability": float(p[y]),
        }, {"correct class": str(y), "softmax probabilities": vector_text(p)}))
    return rows


def _softmax_stability(calc: Calculation) -> list[CalcRow]:
    rows = []
    for label, s in zip(calc.row_labels, calc.scores, strict=True):
        S = np.asarray([s], dtype=np.float64)
        naive = naive_softmax(S)[0]
        with np.errstate(over="ignore", invalid="ignore"):
            stable = softmax(S)[0]
        shifted = S - S.max()
        naive_shifted = naive_softmax(shifted)[0]
        diff = np.abs(stable - naive_shifted)
        rows.append(CalcRow(label, {
            "max_score": float(S.max()), "naive_finite": float(np.all(np.isfinite(naive))),
            "stable_finite": float(np.all(np.isfinite(stable))), "stable_sum": float(stable.sum()),
            "top_probability": float(stable.max()),
            "shift_difference": float(diff.max()) if np.all(np.isfinite(diff)) else math.nan,
        }, {"naive exp(s)/Σexp(s)": vector_text(naive), "stable softmax": vector_text(stable),
            "naive on s − max": vector_text(naive_shifted)}))
    return rows


def _gradient_check(calc: Calculation) -> list[CalcRow]:
    settings = calc.settings
    assert settings is not None
    session = build_session(settings, grid_size=0)
    trainer = session.trainer
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            trainer.run(calc.train_steps)
        except DivergedError as exc:
            raise ValueError(f"{calc.name}: the network diverged at step {exc.step} before the "
                             "check") from None
    n = min(calc.examples, len(trainer.X))
    t = settings.train
    found = gradient_check(trainer.network, trainer.X[:n], trainer.y[:n], l1=t.l1, l2=t.l2, eps=calc.eps,
                           max_entries=calc.entries, seed=0)
    rows = [CalcRow(label, {"max_rel_error": r.max_rel_error, "mean_rel_error": r.mean_rel_error,
                            "checked": float(r.n_checked)},
                    {"entries": f"{r.n_checked} of {r.n_total}"})
            for label, r in zip(calc.row_labels, found, strict=True)]
    return rows


_COMPUTE = {"softmax_vs_svm": _softmax_vs_svm, "softmax_stability": _softmax_stability,
            "gradient_check": _gradient_check}


def compute(calc: Calculation) -> CalculationResult:
    """Make ``calc``: its table, each figure computed now by the core's functions."""
    t0 = time.perf_counter()
    rows = _COMPUTE[calc.kind](calc)
    kind = KINDS[calc.kind]
    return CalculationResult(calc.name, calc.label, calc.kind, kind.texts, kind.figures, tuple(rows),
                             time.perf_counter() - t0)


def gradient_rows(settings: RunSettings) -> tuple[str, ...]:
    """The rows a gradient check of ``settings``' network makes: W and b of each dense layer."""
    dense = len(settings.network.layers) + 1
    names = [f"hidden {i + 1}" for i in range(dense - 1)] + ["output"]
    return tuple(f"{n} {p}" for n in names for p in ("W", "b"))


__all__ = ["KINDS", "CalcRow", "Calculation", "CalculationResult", "Kind", "compute", "gradient_rows",
           "naive_softmax", "short", "vector_text"]
