"""Data sets a file can name instead of storing: the one registry of built-in data
sources (name, label, task, the recipe's parameters), and whether a data set fits a
network. The window's data set list and the CLI's ``--data`` names come from here.

A generated data set is saved as its recipe (``Dataset.source``), so a file stays small
and the data comes back bit for bit: the generators are seeded and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnviz.core.compat import TOO_MANY_CLASSES, WRONG_TASK, loss_mismatch
from nnviz.core.data import (
    BUILTIN_SETS,
    MAX_EXAMPLES,
    NOISE_RANGE,
    REGRESSION_SETS,
    DataError,
    Dataset,
    check_generation,
    digits_like,
    generate,
    glyph_digits,
)
from nnviz.core.spec import MAX_UNITS, NetworkSpec
from nnviz.io.schema import SchemaError, check, int_range, only_keys
from nnviz.io.uci_digits import N_EXAMPLES as N_DIGITS
from nnviz.io.uci_digits import uci_digits


@dataclass(frozen=True)
class Suggested:
    """Settings that suit a data set better than the window's defaults, applied when a
    user picks it (the 2x8 ReLU network on raw 0..16 pixels leaves half its units dead
    and learns less than a linear model would)."""

    why: str  # ends the notice: "(sensible defaults for 8x8 images)"
    preprocess: str | None = None
    layers: tuple[int, ...] | None = None  # hidden widths; the first layer's activation is kept


@dataclass(frozen=True)
class DataSource:
    """A built-in data set: what the window lists, the CLI takes and a file names."""

    name: str  # as files, the window and ``--data`` spell it
    label: str  # as the window shows it
    task: str  # "classification" or "regression"
    params: tuple[str, ...]  # the recipe's keys besides ``generator``
    n_features: int  # before any input features (digits_like: by default)
    default_n: int = 500
    default_noise: float = 0.1
    offered: bool = True  # False: only files that name it (kept so they load the same data)
    n_classes: int = 2  # classification: how many classes (0 for regression)
    classes_param: str | None = None  # the recipe's key that sets the classes (spiral: arms)
    max_n: int = MAX_EXAMPLES  # a fixed set (the real digits) has only so many examples
    suggested: Suggested | None = None  # what picking it in the window brings

    @property
    def is_2d(self) -> bool:
        return self.n_features == 2

    def classes(self, params: dict[str, Any] | None = None) -> int:
        """How many classes the recipe ``params`` give (0 for a regression set)."""
        if self.task == "regression":
            return 0
        if self.classes_param is not None and params and self.classes_param in params:
            return int(params[self.classes_param])
        return self.n_classes


_PLANE = ("n", "noise", "seed")
_LABELS = {
    "circle": "Circle",
    "xor": "XOR (exclusive or)",
    "gauss": "Two Gaussians",
    "spiral": "Spiral",
    "moons": "Two moons",
    "checkerboard": "Checkerboard",
    "plane": "Plane (regression)",
    "multigauss": "Gaussian bumps (regression)",
}
_EXTRA_PARAMS = {"spiral": ("arms",), "checkerboard": ("cells",)}
#: the whole-number ranges (inclusive) of the generators' own parameters
PARAM_RANGES = {"arms": (2, 12), "cells": (2, 16)}
HANDWRITTEN = "digits"  # the real 8x8 handwritten digits (io.uci_digits)
GLYPHS = "glyphs"  # digits drawn by core.glyphs: what "digits" meant in files before version 2
DIGITS_LIKE = "digits_like"  # random prototypes: kept so files that name it load the same data

#: every built-in data source, in the order the window and the CLI list them
#: the generators' own default class counts (spiral: its ``arms`` parameter decides)
_CLASSES = {"spiral": 3}
#: digits with the window's 2x8 ReLU on raw pixels: many units dead and a test accuracy
#: below a linear model's; standardized with 64 units in one layer: above 95% (nnviz train)
DIGITS_SUGGESTED = Suggested("sensible defaults for 8x8 images", preprocess="standardize", layers=(64,))

SOURCES: dict[str, DataSource] = {
    **{
        name: DataSource(
            name, _LABELS[name], "regression" if name in REGRESSION_SETS else "classification",
            _PLANE + _EXTRA_PARAMS.get(name, ()), 2,
            n_classes=0 if name in REGRESSION_SETS else _CLASSES.get(name, 2),
            classes_param="arms" if name == "spiral" else None,
        )
        for name in BUILTIN_SETS
    },
    HANDWRITTEN: DataSource(
        HANDWRITTEN, "Digits (8x8 handwriting, 1,797 examples, 10 classes)", "classification",
        ("n", "seed"), 64, default_n=N_DIGITS, default_noise=0.0, n_classes=10,
        suggested=DIGITS_SUGGESTED, max_n=N_DIGITS,
    ),
    GLYPHS: DataSource(
        GLYPHS, "Digits drawn by nnviz (synthetic)", "classification", _PLANE, 64,
        default_n=2000, default_noise=1.0, offered=False, n_classes=10,
    ),
    DIGITS_LIKE: DataSource(
        DIGITS_LIKE, "Digits (random prototypes)", "classification",
        ("n", "n_features", "n_classes", "seed"), 64, default_n=2000, default_noise=0.0,
        offered=False, n_classes=10, classes_param="n_classes",
    ),
}
GENERATORS = tuple(SOURCES)
#: what the window's data set list and the CLI's ``--data`` offer
OFFERED = tuple(name for name, s in SOURCES.items() if s.offered)


def check_source(source: dict[str, Any], where: str) -> dict[str, Any]:
    """The generator settings in ``source``, checked (types, ranges, and the core's one
    memory and time budget for generated data); SchemaError if they cannot make a data set."""
    gen = check(source.get("generator"), "str", f"{where}.generator")
    if gen not in GENERATORS:
        raise SchemaError(f"{where}.generator {gen!r} is not a built-in data set ({', '.join(GENERATORS)})")
    info = SOURCES[gen]
    only_keys(source, {"generator", *info.params}, where)
    if gen == DIGITS_LIKE:
        n = int_range(source.get("n", info.default_n), 4, MAX_EXAMPLES, f"{where}.n")
        d = int_range(source.get("n_features", 64), 1, MAX_UNITS, f"{where}.n_features")
        c = int_range(source.get("n_classes", 10), 2, MAX_UNITS, f"{where}.n_classes")
        int_range(source.get("seed", 0), 0, 2**63 - 1, f"{where}.seed")
        _check_cost(gen, where, n, 0.0, d, c)
        return dict(source)
    if gen == HANDWRITTEN:
        int_range(source.get("n", info.default_n), 4, N_DIGITS, f"{where}.n")
        int_range(source.get("seed", 0), 0, 2**63 - 1, f"{where}.seed")
        return dict(source)
    n = int_range(source.get("n", 500), 4, MAX_EXAMPLES, f"{where}.n")
    noise = check(source.get("noise", 0.1), "number", f"{where}.noise")
    lo, hi = NOISE_RANGE
    if not lo <= noise <= hi:
        raise SchemaError(f"{where}.noise must be in {lo:g}..{hi:g}, not {noise}")
    int_range(source.get("seed", 0), 0, 2**63 - 1, f"{where}.seed")
    for key, (lo, hi) in PARAM_RANGES.items():
        if key in source:
            int_range(source[key], lo, hi, f"{where}.{key}")
    _check_cost(gen, where, n, noise)
    return dict(source)


def _check_cost(gen: str, where: str, n: int, noise: float, *sizes: int) -> None:
    try:
        check_generation(gen, n, noise, *sizes)
    except DataError as exc:
        raise SchemaError(f"{where}: {exc}") from exc


def generator_task(source: dict[str, Any]) -> str:
    return SOURCES[source["generator"]].task


def source_size(source: dict[str, Any]) -> tuple[int, int]:
    """(examples, features) the checked ``source`` will generate."""
    info = SOURCES[source["generator"]]
    n_features = source.get("n_features", info.n_features) if "n_features" in info.params else info.n_features
    return source.get("n", info.default_n), n_features


def regenerate(source: dict[str, Any]) -> Dataset:
    """The data set a checked ``source`` describes (raises DataError if the core refuses)."""
    kw = {k: v for k, v in source.items() if k != "generator"}
    if source["generator"] == DIGITS_LIKE:
        return digits_like(**kw)
    if source["generator"] == HANDWRITTEN:
        return uci_digits(**kw)
    if source["generator"] == GLYPHS:
        return glyph_digits(**kw)
    return generate(source["generator"], **kw)


def upgrade_version_1_source(source: Any) -> Any:
    """A data recipe from a version-1 file, in today's names: "digits" then meant the
    drawn glyphs (:data:`GLYPHS`); since version 2 it names the real handwritten digits."""
    if isinstance(source, dict) and source.get("generator") == HANDWRITTEN:
        return {**source, "generator": GLYPHS}
    return source


def is_generated(source: Any) -> bool:
    return isinstance(source, dict) and "generator" in source


def compatibility_problem(spec: NetworkSpec, features: tuple[str, ...], data: Dataset) -> str | None:
    """Why ``data`` cannot train or feed a network of ``spec`` with input ``features``
    (None when it fits). Phrased for a user who picked the wrong file."""
    if features:
        if data.n_features != 2:
            names = ", ".join(features)
            return f"the input features ({names}) need 2-D data; the data has {data.n_features} columns"
    elif data.n_features != spec.input_dim:
        return f"the network has {spec.input_dim} inputs; the data has {data.n_features} feature columns"
    regression = data.task == "regression"
    classes = 0 if regression else int(data.y.max()) + 1
    problem = loss_mismatch(spec.loss, data.task, classes)
    if problem == WRONG_TASK:
        if regression:
            return f"the {spec.loss} loss is for classification; the data is a regression set"
        return "the mse loss is for regression; the data is a classification set"
    if problem == TOO_MANY_CLASSES:
        return f"the logistic loss is for two classes; the data has {classes}"
    if regression:
        if data.target_dim != spec.output_dim:
            return f"the network has {spec.output_dim} outputs; the data has {data.target_dim} target columns"
    elif spec.loss != "logistic" and classes > spec.output_dim:
        return f"the data has {classes} classes; the network has {spec.output_dim} outputs"
    return None


__all__ = [
    "GENERATORS",
    "OFFERED",
    "PARAM_RANGES",
    "SOURCES",
    "DataError",
    "DataSource",
    "Suggested",
    "check_source",
    "compatibility_problem",
    "generator_task",
    "is_generated",
    "regenerate",
    "source_size",
]
