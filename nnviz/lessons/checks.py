"""A lesson's outcome checks, measured on the runs made, and the verdict in words.

Every number a check compares comes from the runs' checkpoint records; a lesson file
cannot state an outcome, only where to look and what must hold. The verdict says "as
the notes say" when every check holds, and otherwise names the first check that failed
with the numbers measured.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nnviz.lessons.calculations import CalculationResult
from nnviz.lessons.format import PLANE_METRICS, Check, Lesson, Measure
from nnviz.lessons.records import LayerFigures, RunRecord

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
AS_THE_NOTES_SAY = "as the notes say"
NOT_THIS_TIME = "not this time"


class MeasureError(ValueError):
    """A measure that the records cannot give (a checkpoint that was not reached...)."""


@dataclass(frozen=True)
class CheckResult:
    """One check as measured: whether it held, the numbers, and a sentence."""

    check: Check
    passed: bool
    values: tuple[float, ...]  # the left side and the right side (order: every measure)
    text: str


@dataclass(frozen=True)
class Verdict:
    """The lesson's outcome: every check's result and one line to show."""

    passed: bool
    results: tuple[CheckResult, ...]
    try_next: tuple[str, ...]  # the lesson's suggestions when it did not pass (else empty)
    #: the tables of the lesson's calculations, which its checks measured (in its order)
    tables: tuple[CalculationResult, ...] = ()

    @property
    def headline(self) -> str:
        """ "as the notes say", or "not this time: <the first failed check, measured>"."""
        if self.passed:
            return AS_THE_NOTES_SAY
        failed = next(r for r in self.results if not r.passed)
        return f"{NOT_THIS_TIME}: {failed.text}"

    def report(self) -> str:
        """The calculations' tables, every check on a line, then the suggestions when it
        did not pass."""
        head = self.headline
        lines = [t.table() + "\n" for t in self.tables]
        lines.append(head[:1].upper() + head[1:])
        lines += [f"  [{'ok' if r.passed else 'FAILED'}] {r.text}" for r in self.results]
        if self.try_next:
            lines.append("What to try next:")
            lines += [f"  - {t}" for t in self.try_next]
        return "\n".join(lines)


def fmt(v: float) -> str:
    """A measured number, short: 0.953, 1.2e-05, 1500, never reached (inf)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "not measured"
    if math.isinf(v):
        return "never" if v > 0 else "-inf"
    if v == int(v) and abs(v) >= 1:
        return f"{int(v)}"
    return f"{v:.3g}"


# --- measuring --------------------------------------------------------------------------
def _index(records: Sequence[RunRecord], at: str | int) -> int:
    if not records:
        raise MeasureError("no checkpoint was recorded")
    if at == "end":
        return len(records) - 1
    if at == "start":
        return 0
    for i, r in enumerate(records):
        if r.step == at:
            return i
    raise MeasureError(f"step {at} was not a checkpoint")


def _pooled(layers: Sequence[LayerFigures], attr: str) -> float:
    """A fraction over every hidden unit of the layers that report it."""
    units = total = 0.0
    for lay in layers:
        v = getattr(lay, attr)
        if v is not None:
            units += lay.units
            total += v * lay.units
    return total / units if units else math.nan


def _layer_value(rec: RunRecord, m: Measure) -> float:
    metric = m.metric
    if metric in ("dead_fraction", "saturated_fraction", "silent_fraction", "died_fraction"):
        hidden = rec.hidden if m.layer is None else (rec.hidden[m.layer],)
        if metric == "died_fraction":
            units = sum(lay.units for lay in hidden if lay.dead_since_start is not None)
            died = sum(lay.dead_since_start or 0 for lay in hidden)
            return died / units if units else math.nan
        return _pooled(hidden, metric)
    if metric == "grad_ratio":
        top, bottom = rec.layers[m.relative_to].grad_norm, rec.layers[m.layer or 0].grad_norm
        if top > 0:
            return bottom / top
        return math.inf if bottom > 0 else math.nan  # no gradient anywhere: no ratio to speak of
    v = getattr(rec.layers[m.layer or 0], metric)
    return math.nan if v is None else float(v)  # one_sign_fraction: no weight moved


def _value_at(rec: RunRecord, m: Measure) -> float:
    if m.metric in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", *PLANE_METRICS):
        v = getattr(rec, m.metric)
        return math.nan if v is None else float(v)
    if m.metric == "diverged":
        return 0.0 if rec.diverged_at is None else 1.0
    return _layer_value(rec, m)


def run_value(records: Sequence[RunRecord], m: Measure) -> float:
    """``m`` measured on one run's checkpoint records (in step order)."""
    end = _index(records, m.at)
    if m.metric == "steps_to_accuracy":
        attr = f"{m.split}_accuracy"
        for r in records[: end + 1]:
            acc = getattr(r, attr)
            if acc is not None and acc >= m.target:
                return float(r.step)
        return math.inf
    window = records[max(0, end - m.window + 1) : end + 1]
    values = [_value_at(r, m) for r in window]
    return float(np.mean(values))


def _reduced(reduce: str, values: Sequence[float]) -> float:
    if any(math.isnan(v) for v in values):
        return math.nan
    a = np.asarray(values, dtype=np.float64)
    return float({"mean": np.mean, "min": np.min, "max": np.max, "std": np.std,
                  "spread": lambda x: np.max(x) - np.min(x)}[reduce](a))


def calculation_value(tables: Mapping[str, CalculationResult], m: Measure) -> float:
    """A figure of a calculation's row, or ``m.reduce`` of it over every row."""
    table = tables.get(m.calculation or "")
    if table is None:
        raise MeasureError(f"the calculation {m.calculation!r} was not made")
    if m.row is not None:
        if m.row >= len(table.rows):
            raise MeasureError(f"the calculation {m.calculation!r} has no row {m.row}")
        return table.figure(m.metric, m.row)
    if not table.rows:
        raise MeasureError(f"the calculation {m.calculation!r} made no rows")
    return _reduced(m.reduce or "mean", [table.figure(m.metric, i) for i in range(len(table.rows))])


def measure(history: Mapping[str, Sequence[RunRecord]], m: Measure,
            tables: Mapping[str, CalculationResult] | None = None) -> float:
    """``m`` measured on ``history`` (each run's records in step order) or, for a figure of
    a calculation, on ``tables`` (each calculation's result by name)."""
    if m.calculation is not None:
        return calculation_value(tables or {}, m)
    values = []
    for name in m.runs:
        if name not in history:
            raise MeasureError(f"the run {name!r} was not made")
        values.append(run_value(history[name], m))
    if m.reduce is None:
        return values[0]
    return _reduced(m.reduce, values)


# --- checking ---------------------------------------------------------------------------
_Tables = Mapping[str, CalculationResult]


def _compare(check: Check, history: Mapping[str, Sequence[RunRecord]], tables: _Tables) -> CheckResult:
    left = measure(history, check.left, tables)
    if check.right is None:
        right, bound = check.value, check.value
        said = f"{fmt(check.value)}"
    else:
        right = measure(history, check.right, tables)
        bound = right * check.times + check.plus
        said = check.right.describe()
        if check.times != 1.0:
            said = f"{check.times:g} x {said}"
        if check.plus:
            said = f"{said} {'+' if check.plus > 0 else '-'} {abs(check.plus):g}"
        said = f"{said} ({fmt(right)}{'' if bound == right else f', so {fmt(bound)}'})"
    ok = not (math.isnan(left) or math.isnan(bound)) and _OPS[check.op](left, bound)
    text = f"{check.left.describe()} is {fmt(left)}; it should be {check.op} {said}"
    if check.says:
        text = f"{check.says}: {text}"
    return CheckResult(check, bool(ok), (left, right), text)


def _order(check: Check, history: Mapping[str, Sequence[RunRecord]], tables: _Tables) -> CheckResult:
    values = tuple(measure(history, m, tables) for m in check.measures)
    rising = check.direction == "increasing"
    ok = all(not math.isnan(v) for v in values) and all(
        (b > a) if rising else (b < a) for a, b in itertools.pairwise(values))
    shown = ", ".join(f"{m.short} {fmt(v)}" for m, v in zip(check.measures, values, strict=True))
    across = "rows" if check.measures[0].calculation is not None else "runs"
    text = f"{check.measures[0].metric} should be {check.direction} across the {across}: {shown}"
    if check.says:
        text = f"{check.says}: {text}"
    return CheckResult(check, bool(ok), values, text)


def check_result(check: Check, history: Mapping[str, Sequence[RunRecord]],
                 tables: _Tables | None = None) -> CheckResult:
    """One check measured on ``history`` (and the calculations' ``tables``); a measure the
    records cannot give fails it."""
    tables = tables or {}
    try:
        if check.kind == "compare":
            return _compare(check, history, tables)
        return _order(check, history, tables)
    except MeasureError as exc:
        return CheckResult(check, False, (), f"{check.says or 'a check'} could not be measured: {exc}")


def evaluate(lesson: Lesson, history: Mapping[str, Sequence[RunRecord]],
             calculations: Sequence[CalculationResult] = ()) -> Verdict:
    """The verdict of ``lesson``'s checks on the records of its runs and the results of
    its calculations."""
    tables = {t.name: t for t in calculations}
    results = tuple(check_result(c, history, tables) for c in lesson.checks)
    passed = all(r.passed for r in results)
    return Verdict(passed, results, () if passed else lesson.try_next, tuple(calculations))


__all__ = ["AS_THE_NOTES_SAY", "NOT_THIS_TIME", "CheckResult", "MeasureError", "Verdict", "evaluate",
           "measure"]
