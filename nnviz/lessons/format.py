"""The lesson file: a claim of the notes as a comparison of runs and an outcome check.

A lesson file is JSON from anyone (docs/lessons.md describes it). Everything is checked
before a run starts: the types and ranges of every value, the names of the settings
(those of :mod:`nnviz.app.settings_schema`), at most :data:`MAX_RUNS` runs, bounded steps
and sizes, and that every check names runs and layers that exist and measures something
those runs have (dead units only where there are ReLU units, and so on). A problem is one
:class:`~nnviz.io.errors.FileFormatError` naming the field.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, replace
from typing import Any

from nnviz.app.run_settings import (
    CUSTOM,
    DataSettings,
    NetworkSettings,
    RunSettings,
    SettingsError,
    TrainSettings,
    loss_problem,
)
from nnviz.app.settings_schema import BY_NAME, Setting
from nnviz.core.optim import Schedule
from nnviz.io.errors import FileFormatError
from nnviz.io.regular_file import read_regular
from nnviz.io.schema import SchemaError, check, field, int_range, is_int, is_number, only_keys, parse_json
from nnviz.io.sources import OFFERED, SOURCES
from nnviz.lessons.calculations import KINDS, Calculation, gradient_rows

LESSON_FORMAT = "nnviz-lesson"
LESSON_VERSION = 1
MAX_LESSON_BYTES = 256 * 1024
#: a comparison trains at most this many runs side by side (one process each)
MAX_RUNS = 8
MAX_STEPS = 50_000
MAX_CHECKPOINTS = 1_000
MAX_CHECKS = 16
#: sizes a lesson may ask for: small enough that every lesson runs in minutes on a laptop
MAX_LESSON_EXAMPLES = 20_000
MAX_LESSON_UNITS = 1_024
MAX_LESSON_LAYERS = 16
MAX_LESSON_PARAMETERS = 500_000
MAX_LESSON_BATCH = 4_096
#: a run's training work, steps x batch x parameters x 6 (a forward and a backward pass):
#: at most this many floating-point operations, a couple of minutes for NumPy on one core
MAX_LESSON_WORK = 1e12
MAX_TEXT = 2_000
MAX_ITEMS = 12
#: calculations of a lesson, score vectors of one, and entries of a score vector
MAX_CALCULATIONS = 8
MAX_SCORE_VECTORS = 12
MAX_SCORE_ENTRIES = 16
#: a score a calculation may be given: far past where exp overflows (709.8)
MAX_SCORE = 1e6
#: a gradient check's work: entries x 4 losses x examples x parameters x 2 (a forward pass)
MAX_CHECK_WORK = 2e10
_RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,39}")

#: the settings every run shares: they make the data (the runs see the same examples)
SHARED_SETTINGS = ("source", "n", "noise", "arms", "test_fraction")
#: the settings of the schema a lesson may name (``momentum`` is the optimiser's)
LESSON_SETTINGS = tuple(s.name for s in BY_NAME.values())

_TOP_KEYS = {"format", "format_version", "title", "claim", "base", "data_seed", "runs", "steps",
             "checkpoint_every", "look_at", "checks", "try_next", "notes", "calculations"}
_RUN_KEYS = {"name", "label", "settings"}

#: what a check can measure on a run
METRICS = (
    "train_loss", "test_loss", "train_accuracy", "test_accuracy", "dead_fraction", "died_fraction",
    "saturated_fraction", "silent_fraction", "grad_norm", "weight_norm", "grad_ratio",
    "steps_to_accuracy", "boundary_fraction", "regions", "nonlinear_fraction", "diverged",
    "one_sign_fraction",
)
#: metrics of hidden layers: one layer (``layer``) or all hidden units pooled
HIDDEN_METRICS = ("dead_fraction", "died_fraction", "saturated_fraction", "silent_fraction")
#: metrics of one dense layer (hidden or output; ``layer`` counts from 0, -1 is the output)
LAYER_METRICS = ("grad_norm", "weight_norm", "grad_ratio", "one_sign_fraction")
#: metrics of the decision regions over the 2-D input plane
PLANE_METRICS = ("boundary_fraction", "regions", "nonlinear_fraction")
REDUCTIONS = ("mean", "min", "max", "spread", "std")
OPS = ("<", "<=", ">", ">=")
DIRECTIONS = ("increasing", "decreasing")
_MEASURE_KEYS = {"run", "runs", "reduce", "metric", "at", "layer", "relative_to", "window", "target",
                 "split", "calculation", "row"}
#: the keys of a measure of a calculation's figure
_CALC_MEASURE_KEYS = {"calculation", "metric", "row", "reduce"}
_CALC_KEYS = {"name", "label", "kind", "scores", "correct", "settings", "examples", "entries",
              "train_steps", "eps"}


@dataclass(frozen=True)
class LessonRun:
    """One run of a comparison: its name, how it is shown, and its complete settings."""

    name: str
    label: str
    changes: tuple[tuple[str, Any], ...]  # the settings that differ from the base, as written
    settings: RunSettings


def layer_words(index: int | None) -> str:
    """A layer index as a file writes it (from 0, or -1 for the last) in a student's words:
    "layer 1" is the first weight layer, as the window's tables and curves count."""
    if index is None or index == -1:
        return "the last layer"
    return f"layer {index + 1}" if index >= 0 else f"layer {-index} from the end"


@dataclass(frozen=True)
class Measure:
    """A number measured on the runs made: one run's metric, or a reduction over runs."""

    metric: str
    runs: tuple[str, ...]
    reduce: str | None = None  # None: exactly one run
    at: str | int = "end"  # "start", "end" or a checkpoint's step
    layer: int | None = None
    relative_to: int = -1  # grad_ratio: the layer whose gradient norm divides
    window: int = 1  # the mean over this many checkpoints ending at ``at``
    target: float | None = None  # steps_to_accuracy: the accuracy to reach
    split: str = "test"  # steps_to_accuracy: on which split
    calculation: str | None = None  # a figure of this calculation rather than of runs
    row: int | None = None  # the calculation's row (None: ``reduce`` over every row)
    row_label: str = ""

    @property
    def short(self) -> str:
        """Which run or row, in a few words (for a list of measured values)."""
        if self.calculation is not None:
            return self.row_label if self.row is not None else f"{self.reduce} over {self.calculation}"
        return self.runs[0] if self.reduce is None else self.reduce

    def describe(self) -> str:
        """The measure in words, for a verdict ("test_accuracy of hidden4 at the end")."""
        if self.calculation is not None:
            if self.row is None:
                return f"{self.reduce} of {self.metric} over the rows of {self.calculation}"
            return f"{self.metric} of {self.calculation} for {self.row_label}"
        what = self.metric
        if self.metric == "steps_to_accuracy":
            what = f"steps to {self.split} accuracy {self.target:g}"
        elif self.metric == "grad_ratio":
            what = (f"gradient norm of {layer_words(self.layer or 0)} relative to "
                    f"{layer_words(self.relative_to)}")
        elif self.layer is not None:
            what = f"{what} of {layer_words(self.layer)}"
        when = {"end": "at the end", "start": "at the start"}.get(str(self.at), f"at step {self.at}")
        if self.window > 1:
            when = f"{when} (mean of {self.window} checkpoints)"
        if self.metric != "steps_to_accuracy":
            when = f" {when}"
        else:  # counted up to ``at``: "by step 500", nothing when up to the end
            when = "" if self.at == "end" else f" by step {self.at}"
        if self.reduce is None:
            return f"{what} of {self.runs[0]}{when}"
        return f"{self.reduce} of {what} over {', '.join(self.runs)}{when}"


@dataclass(frozen=True)
class Check:
    """One outcome check. ``compare``: ``left op right * times + plus`` where ``right`` is a
    measure or a number; ``order``: the measures strictly in ``direction``."""

    kind: str  # "compare" or "order"
    op: str = ">="
    left: Measure | None = None
    right: Measure | None = None
    value: float | None = None  # the right side when it is a number
    times: float = 1.0
    plus: float = 0.0
    measures: tuple[Measure, ...] = ()  # order: in the order they must rise or fall
    direction: str = "increasing"
    says: str = ""  # the check in the lesson's words


@dataclass(frozen=True)
class Lesson:
    """A lesson as its file describes it, checked."""

    name: str
    title: str
    claim: str
    runs: tuple[LessonRun, ...]
    steps: int
    checkpoint_every: int
    look_at: tuple[str, ...]
    checks: tuple[Check, ...]
    try_next: tuple[str, ...]
    notes: str = ""
    data_seed: int = 1
    path: str | None = None
    calculations: tuple[Calculation, ...] = ()

    def calculation(self, name: str) -> Calculation:
        """The calculation named ``name`` (KeyError if there is none)."""
        for c in self.calculations:
            if c.name == name:
                return c
        raise KeyError(name)

    def run(self, name: str) -> LessonRun:
        """The run named ``name`` (KeyError if there is none)."""
        for r in self.runs:
            if r.name == name:
                return r
        raise KeyError(name)

    def with_seeds_shifted(self, by: int) -> Lesson:
        """The same lesson with every seed (the data seed, each run's and each gradient
        check's training seed) plus ``by``: does the outcome hold beyond the seeds shipped?"""
        def shifted(settings: RunSettings) -> RunSettings:
            return replace(settings, data=replace(settings.data, seed=settings.data.seed + by),
                           train=replace(settings.train, seed=settings.train.seed + by))

        runs = tuple(replace(r, settings=shifted(r.settings)) for r in self.runs)
        calcs = tuple(c if c.settings is None else replace(c, settings=shifted(c.settings))
                      for c in self.calculations)
        return replace(self, runs=runs, calculations=calcs, data_seed=self.data_seed + by)

    @property
    def checkpoint_steps(self) -> tuple[int, ...]:
        """The steps at which every run is measured: 0, every ``checkpoint_every``, the end."""
        steps = list(range(0, self.steps, self.checkpoint_every))
        return (*steps, self.steps)

    def with_steps(self, steps: int, checkpoint_every: int | None = None) -> Lesson:
        """The same lesson with fewer (or more) steps: for tests and quick looks. A check
        that names a step is measured at the last checkpoint at or before it (the end for
        a step beyond the new end). A lesson of calculations alone has no steps to change."""
        if not self.runs:
            return self
        if not is_int(steps) or not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer in 1..{MAX_STEPS:,}")
        every = checkpoint_every or max(1, min(self.checkpoint_every, steps))
        if not is_int(every) or not 1 <= every <= steps or len(range(0, steps, every)) + 1 > MAX_CHECKPOINTS:
            raise ValueError(f"checkpoint_every must be in 1..{steps} and make at most {MAX_CHECKPOINTS:,} "
                             "checkpoints")
        for r in self.runs:
            try:
                check_work(r, steps, r.name)
            except SchemaError as exc:
                raise ValueError(str(exc)) from None

        def clip(m: Measure | None) -> Measure | None:
            if m is None or not isinstance(m.at, int):
                return m
            at = min(m.at, steps)
            at = at if at == steps else at - at % every
            return replace(m, at="end" if at == steps else at)

        checks = tuple(replace(c, left=clip(c.left), right=clip(c.right),
                               measures=tuple(clip(m) for m in c.measures)) for c in self.checks)
        return replace(self, steps=steps, checkpoint_every=every, checks=checks)


# --- loading ------------------------------------------------------------------------------
def load_lesson_file(path: str | os.PathLike) -> Lesson:
    """The lesson in the file at ``path`` (a regular file of at most
    :data:`MAX_LESSON_BYTES`); FileFormatError naming the field on any problem."""
    raw = read_regular(path, MAX_LESSON_BYTES)
    name = os.path.splitext(os.path.basename(os.fspath(path)))[0]
    return load_lesson(raw, name, path)


def load_lesson(raw: bytes, name: str = "lesson", path: str | os.PathLike | None = None) -> Lesson:
    """The lesson in ``raw`` (the bytes of a lesson file); FileFormatError on any problem."""
    if len(raw) > MAX_LESSON_BYTES:
        raise FileFormatError(f"is {len(raw):,} bytes; a lesson is at most {MAX_LESSON_BYTES:,}", path)
    try:
        lesson = _parse(parse_json(raw, "the lesson"), name[:80])
    except (SchemaError, SettingsError) as exc:
        raise FileFormatError(str(exc), path) from exc
    except (ValueError, TypeError, OverflowError) as exc:  # a core constructor's own words
        raise FileFormatError(f"it cannot be used ({exc})", path) from exc
    return replace(lesson, path=None if path is None else os.fspath(path))


def _field(d: dict, key: str, kind: str, where: str, default: Any = ...) -> Any:
    """:func:`nnviz.io.schema.field`, saying "the lesson lacks ..." at the top level."""
    if not where and key not in d and default is ...:
        raise SchemaError(f"the lesson lacks {key!r}")
    return field(d, key, kind, where, default)


def _text(d: dict, key: str, where: str, default: Any = ..., max_len: int = MAX_TEXT) -> str:
    s = _field(d, key, "str", where, default)
    if len(s) > max_len:
        raise SchemaError(f"{where + '.' if where else ''}{key} is longer than {max_len:,} characters")
    return s


def _texts(d: dict, key: str) -> tuple[str, ...]:
    items = field(d, key, "list", "", [])
    if len(items) > MAX_ITEMS:
        raise SchemaError(f"{key} has {len(items)} entries; at most {MAX_ITEMS} are allowed")
    out = []
    for i, s in enumerate(items):
        check(s, "str", f"{key}[{i}]")
        if not s.strip() or len(s) > MAX_TEXT:
            raise SchemaError(f"{key}[{i}] must be 1..{MAX_TEXT:,} characters")
        out.append(s)
    return tuple(out)


def _parse(d: Any, name: str) -> Lesson:
    check(d, "dict", "the lesson")
    fmt = _field(d, "format", "str", "", LESSON_FORMAT)
    if fmt != LESSON_FORMAT:
        raise SchemaError(f"format must be {LESSON_FORMAT!r}, not {fmt[:40]!r}")
    version = _field(d, "format_version", "int", "", LESSON_VERSION)
    if not 1 <= version <= LESSON_VERSION:
        raise SchemaError(f"format_version {version} is not one this nnviz reads (1..{LESSON_VERSION})")
    only_keys(d, _TOP_KEYS, "the lesson")
    title = _text(d, "title", "", max_len=200)
    claim = _text(d, "claim", "")
    if not title.strip() or not claim.strip():
        raise SchemaError("title and claim must not be empty")
    notes = _text(d, "notes", "", "")
    data_seed = int_range(_field(d, "data_seed", "int", "", 1), 0, 2**63 - 1, "data_seed")
    calcs_raw = _field(d, "calculations", "list", "", [])
    if len(calcs_raw) > MAX_CALCULATIONS:
        raise SchemaError(f"calculations must hold at most {MAX_CALCULATIONS}, not {len(calcs_raw)}")
    # a lesson of calculations alone trains nothing: no runs, steps or base needed
    runs_raw = _field(d, "runs", "list", "", ... if not calcs_raw else [])
    if not 1 <= len(runs_raw) <= MAX_RUNS and not (calcs_raw and not runs_raw):
        raise SchemaError(f"runs must hold 1..{MAX_RUNS} runs, not {len(runs_raw)}")
    base = check(_field(d, "base", "dict", "", ... if runs_raw else {}), "dict", "base")
    base_values = {k: parse_setting(k, v, f"base.{k}") for k, v in base.items()}
    if runs_raw:
        steps = int_range(_field(d, "steps", "int", ""), 1, MAX_STEPS, "steps")
        every = int_range(_field(d, "checkpoint_every", "int", "", max(1, steps // 20)), 1, steps,
                          "checkpoint_every")
        if len(range(0, steps, every)) + 1 > MAX_CHECKPOINTS:
            raise SchemaError(f"steps / checkpoint_every makes more than {MAX_CHECKPOINTS:,} checkpoints")
    else:
        for key in ("steps", "checkpoint_every"):
            if key in d:
                raise SchemaError(f"{key} applies to runs, and the lesson makes none")
        steps, every = 0, 1
    runs: list[LessonRun] = []
    for i, r in enumerate(runs_raw):
        run = _parse_run(r, f"runs[{i}]", base_values, data_seed)
        check_work(run, steps, f"runs[{i}]")
        runs.append(run)
    names = [r.name for r in runs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SchemaError(f"the run name {twice[0]!r} is used twice")
    by_name = {r.name: r for r in runs}
    calcs = tuple(_parse_calculation(c, f"calculations[{i}]", base_values, data_seed)
                  for i, c in enumerate(calcs_raw))
    calc_names = [c.name for c in calcs]
    twice = sorted({n for n in calc_names if calc_names.count(n) > 1})
    if twice:
        raise SchemaError(f"the calculation name {twice[0]!r} is used twice")
    by_calc = {c.name: c for c in calcs}
    checks_raw = _field(d, "checks", "list", "")
    if not 1 <= len(checks_raw) <= MAX_CHECKS:
        raise SchemaError(f"checks must hold 1..{MAX_CHECKS} checks, not {len(checks_raw)}")
    checks = tuple(_parse_check(c, f"checks[{i}]", by_name, steps, every, by_calc)
                   for i, c in enumerate(checks_raw))
    return Lesson(
        name=name, title=title, claim=claim, runs=tuple(runs), steps=steps, checkpoint_every=every,
        look_at=_texts(d, "look_at"), checks=checks, try_next=_texts(d, "try_next"), notes=notes,
        data_seed=data_seed, calculations=calcs,
    )


# --- calculations -------------------------------------------------------------------------
def _parse_scores(raw: Any, where: str) -> tuple[tuple[float, ...], ...]:
    check(raw, "list", where)
    if not 1 <= len(raw) <= MAX_SCORE_VECTORS:
        raise SchemaError(f"{where} must hold 1..{MAX_SCORE_VECTORS} score vectors, not {len(raw)}")
    out = []
    for i, v in enumerate(raw):
        check(v, "list", f"{where}[{i}]")
        if not 2 <= len(v) <= MAX_SCORE_ENTRIES:
            raise SchemaError(f"{where}[{i}] must hold 2..{MAX_SCORE_ENTRIES} scores (one per class), "
                              f"not {len(v)}")
        row = []
        for j, x in enumerate(v):
            if not is_number(x) or not abs(x) <= MAX_SCORE:
                raise SchemaError(f"{where}[{i}][{j}] must be a number in -{MAX_SCORE:g}..{MAX_SCORE:g}")
            row.append(float(x))
        out.append(tuple(row))
    return tuple(out)


def _parse_calculation(c: Any, where: str, base: dict[str, Any], data_seed: int) -> Calculation:
    check(c, "dict", where)
    kind = _text(c, "kind", where, max_len=40)
    if kind not in KINDS:
        raise SchemaError(f"{where}.kind {kind!r} is not one of {', '.join(KINDS)}")
    allowed = {"name", "label", "kind"} | {
        "softmax_vs_svm": {"scores", "correct"}, "softmax_stability": {"scores"},
        "gradient_check": {"settings", "examples", "entries", "train_steps", "eps"}}[kind]
    only_keys(c, allowed, where)
    name = _text(c, "name", where, max_len=40)
    if not _RUN_NAME.fullmatch(name):
        raise SchemaError(f"{where}.name {name!r} must be 1..40 letters, digits, '_', '-' or '.'")
    label = _text(c, "label", where, name, max_len=200)
    if kind in ("softmax_vs_svm", "softmax_stability"):
        scores = _parse_scores(field(c, "scores", "list", where), f"{where}.scores")
        correct: tuple[int, ...] = ()
        if kind == "softmax_vs_svm":
            raw = field(c, "correct", "list", where, [0] * len(scores))
            if len(raw) != len(scores):
                raise SchemaError(f"{where}.correct must name one class per score vector "
                                  f"({len(scores)}), not {len(raw)}")
            correct = tuple(int_range(k, 0, len(s) - 1, f"{where}.correct[{i}]")
                            for i, (k, s) in enumerate(zip(raw, scores, strict=True)))
        labels = tuple(f"scores {i + 1}: {_vector(s)}" for i, s in enumerate(scores))
        return Calculation(name, label, kind, scores=scores, correct=correct, row_labels=labels)
    changes = check(field(c, "settings", "dict", where, {}), "dict", f"{where}.settings")
    values = {**base, **{k: parse_setting(k, v, f"{where}.settings.{k}") for k, v in changes.items()}}
    settings = run_settings(values, data_seed, where)
    examples = int_range(field(c, "examples", "int", where, 32), 1, 500, f"{where}.examples")
    entries = int_range(field(c, "entries", "int", where, 30), 1, 500, f"{where}.entries")
    train_steps = int_range(field(c, "train_steps", "int", where, 0), 0, MAX_STEPS, f"{where}.train_steps")
    eps = float(field(c, "eps", "number", where, 1e-4))
    if not 1e-8 <= eps <= 0.1:
        raise SchemaError(f"{where}.eps must be in 1e-08..0.1, not {eps:g}")
    params = parameter_count(settings)
    labels = gradient_rows(settings)
    work = 8.0 * entries * len(labels) * examples * params
    if work > MAX_CHECK_WORK:
        raise SchemaError(f"{where} ({name}) would take {work:.2g} floating-point operations; a gradient "
                          f"check takes at most {MAX_CHECK_WORK:.0e}: fewer entries or examples, or a "
                          "smaller network")
    check_work(LessonRun(name, label, (), settings), train_steps, where)
    return Calculation(name, label, kind, settings=settings, examples=examples, entries=entries,
                       train_steps=train_steps, eps=eps, row_labels=labels)


def _vector(v: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{x:g}" for x in v) + "]"


def _parse_run(r: Any, where: str, base: dict[str, Any], data_seed: int) -> LessonRun:
    check(r, "dict", where)
    only_keys(r, _RUN_KEYS, where)
    name = _text(r, "name", where, max_len=40)
    if not _RUN_NAME.fullmatch(name):
        raise SchemaError(f"{where}.name {name!r} must be 1..40 letters, digits, '_', '-' or '.'")
    label = _text(r, "label", where, name, max_len=200)
    changes_raw = check(field(r, "settings", "dict", where, {}), "dict", f"{where}.settings")
    changes = {}
    for k, v in changes_raw.items():
        if k in SHARED_SETTINGS:
            raise SchemaError(f"{where}.settings.{k}: the runs share their data; set {k} in base")
        changes[k] = parse_setting(k, v, f"{where}.settings.{k}")
    settings = run_settings({**base, **changes}, data_seed, where)
    return LessonRun(name, label, tuple(changes_raw.items()), settings)


# --- settings -----------------------------------------------------------------------------
def parse_setting(name: str, value: Any, where: str) -> Any:
    """``value`` of the setting ``name`` checked against its declaration in the settings
    schema (type, range, choices) and the lesson's bounds; SchemaError naming ``where``."""
    if not isinstance(name, str) or name not in BY_NAME:
        known = ", ".join(sorted(BY_NAME))
        raise SchemaError(f"{where}: {str(name)[:40]!r} is not a setting (known: {known})")
    s: Setting = BY_NAME[name]
    if name == "layers":
        check(value, "list", where)
        if len(value) > MAX_LESSON_LAYERS:
            raise SchemaError(f"{where} has {len(value)} layers; a lesson has at most {MAX_LESSON_LAYERS}")
        return tuple(int_range(u, 1, MAX_LESSON_UNITS, f"{where}[{i}]") for i, u in enumerate(value))
    if name == "activations":
        if isinstance(value, str):
            return _choice(s, value, where)
        check(value, "list", where)
        if len(value) > MAX_LESSON_LAYERS:
            raise SchemaError(f"{where} has {len(value)} entries; at most {MAX_LESSON_LAYERS}")
        return tuple(_choice(s, check(a, "str", f"{where}[{i}]"), f"{where}[{i}]")
                     for i, a in enumerate(value))
    if name == "source":
        src = _choice(s, check(value, "str", where), where)
        if src == CUSTOM:
            raise SchemaError(f"{where}: a lesson names a built-in data set")
        return src
    if name == "momentum":
        v = check(value, "number", where)
        if not 0 <= v < 1:
            raise SchemaError(f"{where} must be in [0, 1), not {v}")
        return float(v)
    if s.type is bool:
        return check(value, "bool", where)
    if s.type is int:
        lo, hi = s.range or (0, 2**63 - 1)
        if name == "n":
            hi = min(hi, MAX_LESSON_EXAMPLES)
        if name == "batch_size":
            hi = min(hi, MAX_LESSON_BATCH)
        return int_range(value, int(lo), int(hi), where)
    if s.type is float:
        if not is_number(value):
            raise SchemaError(f"{where} must be a finite number, not {type(value).__name__}")
        lo, hi = s.range or (float("-inf"), float("inf"))
        if not lo <= value <= hi:
            raise SchemaError(f"{where} must be in {lo:g}..{hi:g}, not {value}")
        return float(value)
    if s.type is str:
        return _choice(s, check(value, "str", where), where)
    raise SchemaError(f"{where}: {name} cannot be set by a lesson")  # pragma: no cover


def _choice(s: Setting, value: str, where: str) -> str:
    if s.choices is not None and value not in s.choices:
        raise SchemaError(f"{where} {value[:40]!r} is not one of {', '.join(s.choices)}")
    return value


def run_settings(values: dict[str, Any], data_seed: int, where: str) -> RunSettings:
    """The complete settings of a run from checked setting values (omitted ones take the
    window's defaults); SchemaError naming ``where`` when they do not make a run."""
    source = values.get("source", "spiral")
    info = SOURCES[source] if source in OFFERED else None
    data = DataSettings(
        source=source, n=values.get("n", info.default_n if info else 500),
        noise=values.get("noise", info.default_noise if info else 0.1),
        arms=values.get("arms", 2), seed=data_seed, test_fraction=values.get("test_fraction", 0.2),
        preprocess=values.get("preprocess", "none"),
    )
    layers = values.get("layers", NetworkSettings.layers)
    acts = values.get("activations", "relu")
    if isinstance(acts, str):
        acts = (acts,) * len(layers)
    elif len(acts) != len(layers):
        if len(set(acts)) != 1:
            raise SchemaError(f"{where}: {len(acts)} activations for {len(layers)} hidden layers")
        acts = (acts[0],) * len(layers)
    network = NetworkSettings(
        layers=layers, activations=acts, loss=values.get("loss", "softmax"),
        init=values.get("init", "torch"), residual=values.get("residual", False),
        dtype=values.get("dtype", "float64"), init_std=values.get("init_std", NetworkSettings.init_std),
    )
    optimizer = values.get("optimizer", "adam")
    hyper = (("momentum", values["momentum"]),) if "momentum" in values else ()
    train = TrainSettings(
        optimizer=optimizer, lr=values.get("lr", 0.01),
        schedule=Schedule(values.get("schedule", "constant")),
        batch_size=values.get("batch_size", 10), l1=values.get("l1", 0.0), l2=values.get("l2", 0.0),
        dropout=values.get("dropout", 0.0), seed=values.get("seed", 0), hyper=hyper,
    )
    settings = RunSettings(data, network, train)
    try:
        settings.train.optimizer_config()  # the optimiser's own ranges (momentum with adam...)
    except ValueError as exc:
        raise SchemaError(f"{where}: {exc}") from exc
    problem = loss_problem(network.loss, data.task or "classification", data.n_classes or 0)
    if problem:
        raise SchemaError(f"{where}: {problem}")
    params = parameter_count(settings)
    if params > MAX_LESSON_PARAMETERS:
        raise SchemaError(f"{where}: {params:,} parameters; a lesson's networks have at most "
                          f"{MAX_LESSON_PARAMETERS:,}")
    return settings


def check_work(run: LessonRun, steps: int, where: str) -> None:
    """SchemaError when training ``run`` for ``steps`` steps is more work than a lesson may ask."""
    work = 6.0 * steps * run.settings.train.batch_size * parameter_count(run.settings)
    if work > MAX_LESSON_WORK:
        raise SchemaError(f"{where} ({run.name}) would take {work:.2g} floating-point operations to "
                          f"train; a lesson's run takes at most {MAX_LESSON_WORK:.0e}: fewer steps, "
                          "a smaller batch or a smaller network")


def parameter_count(settings: RunSettings) -> int:
    """Weights and biases of the network ``settings`` describe (built-in data sets only)."""
    info = SOURCES[settings.data.source]
    n_out = 1 if settings.network.loss == "logistic" else max(settings.data.n_classes or 1, 2)
    widths = [info.n_features, *settings.network.layers, n_out]
    pieces = [2 if a == "maxout" else 1 for a in settings.network.activations] + [1]
    return sum(a * b * k + b * k for (a, b), k in zip(itertools.pairwise(widths), pieces, strict=True))


# --- checks -------------------------------------------------------------------------------
def _parse_calc_measure(m: dict, where: str, calcs: dict[str, Calculation]) -> Measure:
    """A figure of one row of a calculation, or ``reduce`` of it over every row."""
    only_keys(m, _CALC_MEASURE_KEYS, where)
    name = _text(m, "calculation", where, max_len=40)
    if name not in calcs:
        raise SchemaError(f"{where} names the calculation {name[:40]!r}, which the lesson does not make")
    calc = calcs[name]
    metric = _text(m, "metric", where, max_len=40)
    figures = KINDS[calc.kind].figures
    if metric not in figures:
        raise SchemaError(f"{where}.metric {metric!r} is not a figure of {calc.kind} "
                          f"({', '.join(figures)})")
    if "row" in m:
        if "reduce" in m:
            raise SchemaError(f"{where} names both 'row' and 'reduce' (over every row)")
        row = int_range(m["row"], 0, calc.n_rows - 1, f"{where}.row")
        return Measure(metric, (), calculation=name, row=row, row_label=calc.row_labels[row])
    reduce = _text(m, "reduce", where, max_len=20) if "reduce" in m else None
    if reduce not in REDUCTIONS:
        raise SchemaError(f"{where} needs 'row' (0..{calc.n_rows - 1}) or 'reduce' over every row "
                          f"(one of {', '.join(REDUCTIONS)})")
    return Measure(metric, (), reduce=reduce, calculation=name)


def _parse_measure(m: Any, where: str, runs: dict[str, LessonRun], steps: int, every: int,
                   calcs: dict[str, Calculation] | None = None) -> Measure:
    check(m, "dict", where)
    if "calculation" in m:
        return _parse_calc_measure(m, where, calcs or {})
    only_keys(m, _MEASURE_KEYS - {"calculation", "row"}, where)
    metric = _text(m, "metric", where, max_len=40)
    if metric not in METRICS:
        raise SchemaError(f"{where}.metric {metric!r} is not one of {', '.join(METRICS)}")
    if "run" in m and "runs" in m:
        raise SchemaError(f"{where} names both 'run' and 'runs'")
    if "run" in m:
        names: tuple[str, ...] = (_text(m, "run", where, max_len=40),)
        if "reduce" in m:
            raise SchemaError(f"{where}.reduce needs 'runs', a list of runs")
        reduce = None
    elif "runs" in m:
        raw = check(m["runs"], "list", f"{where}.runs")
        if not 1 <= len(raw) <= MAX_RUNS:
            raise SchemaError(f"{where}.runs must name 1..{MAX_RUNS} runs")
        names = tuple(check(n, "str", f"{where}.runs[{i}]") for i, n in enumerate(raw))
        reduce = _text(m, "reduce", where, max_len=20)
        if reduce not in REDUCTIONS:
            raise SchemaError(f"{where}.reduce {reduce!r} is not one of {', '.join(REDUCTIONS)}")
    else:
        raise SchemaError(f"{where} lacks 'run' (or 'runs' with 'reduce')")
    for n in names:
        if n not in runs:
            raise SchemaError(f"{where} names the run {n[:40]!r}, which the lesson does not make")
    at = m.get("at", "end")
    if at not in ("start", "end"):
        at = int_range(at, 0, steps, f"{where}.at") if is_int(at) else None
        if at is None:
            raise SchemaError(f"{where}.at must be \"start\", \"end\" or a step number")
        if at % every and at != steps:
            raise SchemaError(f"{where}.at {at} is not a checkpoint (every {every} steps)")
    window = int_range(field(m, "window", "int", where, 1), 1, 50, f"{where}.window")
    layer = field(m, "layer", "int?", where, None)
    relative_to = field(m, "relative_to", "int", where, -1)
    target = field(m, "target", "number?", where, None)
    split = field(m, "split", "str", where, "test")
    if split not in ("train", "test"):
        raise SchemaError(f"{where}.split must be \"train\" or \"test\"")
    if metric == "steps_to_accuracy":
        if target is None or not 0 < target <= 1:
            raise SchemaError(f"{where}.target must be an accuracy in (0, 1] for steps_to_accuracy")
    elif target is not None:
        raise SchemaError(f"{where}.target applies to steps_to_accuracy only")
    if layer is not None and metric not in HIDDEN_METRICS + LAYER_METRICS:
        raise SchemaError(f"{where}.layer applies to per-layer metrics only, not {metric}")
    measure = Measure(metric, names, reduce, at, layer, relative_to, window,
                      None if target is None else float(target), split)
    for n in names:
        _applies(measure, runs[n], where)
    return measure


def _applies(m: Measure, run: LessonRun, where: str) -> None:
    """SchemaError unless the run ``run`` has what ``m`` measures."""
    s = run.settings
    acts = s.network.activations
    hidden = len(acts)
    dense = hidden + 1
    task = s.data.task
    if m.metric in HIDDEN_METRICS:
        if m.layer is not None and not -hidden <= m.layer < hidden:
            raise SchemaError(f"{where}.layer {m.layer}: the run {run.name!r} has {hidden} hidden layers")
        chosen = acts if m.layer is None else (acts[m.layer],)
        wanted = {"saturated_fraction": ("sigmoid", "tanh"), "dead_fraction": ("relu",),
                  "died_fraction": ("relu",)}.get(m.metric)
        if not chosen or (wanted and not any(a in wanted for a in chosen)):
            what = "hidden layers" if wanted is None else f"{' or '.join(wanted)} units"
            raise SchemaError(f"{where}: the run {run.name!r} has no {what} to measure {m.metric} on")
    if m.metric in LAYER_METRICS:
        for k in (m.layer or 0, m.relative_to if m.metric == "grad_ratio" else 0):
            if not -dense <= k < dense:
                raise SchemaError(f"{where}: layer {k}: the run {run.name!r} has {dense} dense layers")
    needs_classes = ("train_accuracy", "test_accuracy", "steps_to_accuracy", *PLANE_METRICS)
    if m.metric in needs_classes and task != "classification":
        raise SchemaError(f"{where}: {m.metric} needs classification data")
    if m.metric in PLANE_METRICS and not s.data.is_2d:
        raise SchemaError(f"{where}: {m.metric} needs 2-D data")
    uses_test = m.metric.startswith("test_") or (m.metric == "steps_to_accuracy" and m.split == "test")
    if uses_test and s.data.test_fraction <= 0:
        raise SchemaError(f"{where}: {m.metric} needs a test split (test_fraction > 0)")


def _parse_check(c: Any, where: str, runs: dict[str, LessonRun], steps: int, every: int,
                 calcs: dict[str, Calculation] | None = None) -> Check:
    check(c, "dict", where)
    says = _text(c, "says", where, "", max_len=500)
    if "order" in c:
        only_keys(c, {"order", "direction", "says"}, where)
        raw = check(c["order"], "list", f"{where}.order")
        if not 2 <= len(raw) <= MAX_RUNS:
            raise SchemaError(f"{where}.order must list 2..{MAX_RUNS} measures")
        measures = tuple(_parse_measure(m, f"{where}.order[{i}]", runs, steps, every, calcs)
                         for i, m in enumerate(raw))
        direction = field(c, "direction", "str", where, "increasing")
        if direction not in DIRECTIONS:
            raise SchemaError(f"{where}.direction must be increasing or decreasing")
        return Check("order", measures=measures, direction=direction, says=says)
    op = field(c, "op", "str", where)
    if op not in OPS:
        raise SchemaError(f"{where}.op {op[:10]!r} is not one of {' '.join(OPS)}")
    times = float(field(c, "times", "number", where, 1.0))
    plus = float(field(c, "plus", "number", where, 0.0))
    if "left" in c:
        only_keys(c, {"left", "op", "right", "value", "times", "plus", "says"}, where)
        left = _parse_measure(c["left"], f"{where}.left", runs, steps, every, calcs)
    else:
        keys = _MEASURE_KEYS | {"op", "value", "right", "times", "plus", "says"}
        only_keys(c, keys, where)
        left = _parse_measure({k: v for k, v in c.items() if k in _MEASURE_KEYS}, where, runs, steps, every,
                              calcs)
    if ("right" in c) == ("value" in c):
        raise SchemaError(f"{where} needs exactly one of 'value' (a number) and 'right' (a measure)")
    if "right" in c:
        right = _parse_measure(c["right"], f"{where}.right", runs, steps, every, calcs)
        return Check("compare", op, left, right, None, times, plus, says=says)
    value = float(field(c, "value", "number", where))
    if times != 1.0 or plus != 0.0:
        raise SchemaError(f"{where}: times and plus apply to a comparison with 'right'")
    return Check("compare", op, left, None, value, says=says)


__all__ = [
    "LESSON_FORMAT", "MAX_CALCULATIONS", "MAX_RUNS", "METRICS", "Check", "Lesson", "LessonRun", "Measure",
    "load_lesson", "load_lesson_file", "parse_setting", "run_settings",
]
