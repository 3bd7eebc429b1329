"""Lesson files from strangers: thousands of mangled variants of a good lesson either load
or are refused with one FileFormatError; nothing else escapes, nothing runs."""

from __future__ import annotations

import copy
import json
import pathlib
import random

import pytest

from nnviz.io.errors import FileFormatError
from nnviz.lessons import load_lesson, shipped_lesson

ODD_VALUES = [None, True, False, 0, -1, 1, 2**70, -(2**70), 1e308, -1e-308, 0.5, "", "x" * 3000, "relu",
              "end", "start", [], [1], ["a"], {}, {"run": "x"}, [[[]]], "NaN", 10**400]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _delete(obj, path):
    for key in path[:-1]:
        obj = obj[key]
    del obj[path[-1]]


@pytest.mark.parametrize("name", ["vanishing_gradients", "seeds_matter_for_small_networks",
                                  "svm_is_satisfied_softmax_never", "softmax_computed_stably",
                                  "gradient_check_agrees"])
def test_mangled_lessons_load_or_are_refused_cleanly(name):
    good = json.loads(pathlib.Path(shipped_lesson(name).path).read_bytes())
    paths = [p for p in _paths(good) if p]
    rng = random.Random(7)
    refused = 0
    for _ in range(600):
        d = copy.deepcopy(good)
        for _ in range(rng.randint(1, 3)):
            live = [p for p in _paths(d) if p]
            path = rng.choice(live or paths)
            try:
                if rng.random() < 0.2:
                    _delete(d, path)
                else:
                    _set(d, path, copy.deepcopy(rng.choice(ODD_VALUES)))
            except (KeyError, IndexError, TypeError):
                pass
        raw = json.dumps(d).encode() if rng.random() < 0.9 else json.dumps(d).encode()[: rng.randint(0, 400)]
        try:
            load_lesson(raw, "mangled")
        except FileFormatError as exc:
            refused += 1
            assert str(exc) and len(str(exc)) < 2000
    assert refused > 400  # most mangled files are refused; the rest are valid lessons
