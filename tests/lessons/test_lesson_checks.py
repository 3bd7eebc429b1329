"""The check vocabulary on synthetic run records: every number comes from the records,
and the verdict names the failed check with the measured numbers."""

from __future__ import annotations

import json
import math

from nnviz.lessons import LayerFigures, RunRecord, evaluate, load_lesson
from nnviz.lessons.checks import measure
from nnviz.lessons.format import Measure


def _rec(run: str, step: int, acc: float, loss: float, dead: float = 0.0, grads=(1.0, 1.0),
         died: int = 0) -> RunRecord:
    layers = (
        LayerFigures("hidden 1", "relu", 10, dead, None, dead, grads[0], 1.0, died),
        LayerFigures("output", "output", 2, None, None, 0.0, grads[1], 1.0, None),
    )
    return RunRecord(run, step, 0, loss, acc, loss, acc, layers, boundary_fraction=0.1)


HISTORY = {
    "a": tuple(_rec("a", s, acc, 1 - acc) for s, acc in ((0, 0.5), (10, 0.7), (20, 0.9), (30, 0.95))),
    "b": tuple(_rec("b", s, acc, 1 - acc, dead=0.5, grads=(0.01, 1.0), died=4)
               for s, acc in ((0, 0.5), (10, 0.5), (20, 0.55), (30, 0.6))),
}


def _lesson(checks: list[dict]):
    d = {"title": "t", "claim": "c", "base": {"source": "xor", "layers": [10]},
         "runs": [{"name": "a"}, {"name": "b"}], "steps": 30, "checkpoint_every": 10, "checks": checks}
    return load_lesson(json.dumps(d).encode(), "t")


def test_measures_read_the_records():
    assert measure(HISTORY, Measure("test_accuracy", ("a",))) == 0.95
    assert measure(HISTORY, Measure("test_accuracy", ("a",), at="start")) == 0.5
    assert measure(HISTORY, Measure("test_accuracy", ("a",), at=20)) == 0.9
    assert math.isclose(measure(HISTORY, Measure("test_accuracy", ("a",), window=2)), 0.925)
    assert math.isclose(measure(HISTORY, Measure("test_accuracy", ("a", "b"), "spread")), 0.35)
    assert measure(HISTORY, Measure("test_accuracy", ("a", "b"), "min")) == 0.6
    assert measure(HISTORY, Measure("steps_to_accuracy", ("a",), target=0.8)) == 20
    assert measure(HISTORY, Measure("steps_to_accuracy", ("b",), target=0.8)) == math.inf
    assert measure(HISTORY, Measure("dead_fraction", ("b",))) == 0.5
    assert measure(HISTORY, Measure("died_fraction", ("b",))) == 0.4
    assert math.isclose(measure(HISTORY, Measure("grad_ratio", ("b",), layer=0)), 0.01)
    assert measure(HISTORY, Measure("boundary_fraction", ("a",))) == 0.1
    flat = {"z": (_rec("z", 0, 0.5, 0.5, grads=(0.0, 0.0)),)}
    assert math.isnan(measure(flat, Measure("grad_ratio", ("z",), layer=0)))


def test_a_passing_lesson_says_as_the_notes_say():
    lesson = _lesson([
        {"run": "a", "metric": "test_accuracy", "op": ">=", "value": 0.9},
        {"left": {"run": "a", "metric": "test_accuracy"}, "op": ">",
         "right": {"run": "b", "metric": "test_accuracy"}, "plus": 0.2},
        {"order": [{"run": "a", "metric": "steps_to_accuracy", "target": 0.6},
                   {"run": "b", "metric": "steps_to_accuracy", "target": 0.6}], "direction": "increasing"},
        {"left": {"run": "b", "metric": "grad_ratio", "layer": 0}, "op": "<",
         "right": {"run": "a", "metric": "grad_ratio", "layer": 0}, "times": 0.1},
    ])
    verdict = evaluate(lesson, HISTORY)
    assert verdict.passed and verdict.headline == "as the notes say"
    assert verdict.try_next == ()


def test_a_failing_check_is_named_with_the_measured_numbers():
    lesson = _lesson([
        {"run": "a", "metric": "test_accuracy", "op": ">=", "value": 0.9},
        {"says": "b learns too", "run": "b", "metric": "test_accuracy", "op": ">=", "value": 0.9},
    ])
    verdict = evaluate(lesson, HISTORY)
    assert not verdict.passed
    assert verdict.headline.startswith("not this time: b learns too")
    assert "is 0.6" in verdict.headline and ">= 0.9" in verdict.headline
    assert [r.passed for r in verdict.results] == [True, False]


def test_the_same_check_changes_its_verdict_with_the_records():
    lesson = _lesson([{"run": "a", "metric": "test_accuracy", "op": ">=", "value": 0.9}])
    assert evaluate(lesson, HISTORY).passed
    swapped = {"a": HISTORY["b"], "b": HISTORY["a"]}
    assert not evaluate(lesson, swapped).passed


def test_a_missing_checkpoint_or_run_fails_the_check_not_the_program():
    lesson = _lesson([{"run": "a", "metric": "test_accuracy", "at": 20, "op": ">=", "value": 0.5}])
    short = {"a": HISTORY["a"][:2], "b": HISTORY["b"][:2]}
    result = evaluate(lesson, short)
    assert not result.passed and "could not be measured" in result.headline
    assert not evaluate(lesson, {"b": HISTORY["b"]}).passed


def test_steps_never_reached_compare_as_never():
    lesson = _lesson([{"left": {"run": "a", "metric": "steps_to_accuracy", "target": 0.9}, "op": "<",
                       "right": {"run": "b", "metric": "steps_to_accuracy", "target": 0.9}}])
    verdict = evaluate(lesson, HISTORY)
    assert verdict.passed and "(never)" in verdict.results[0].text


def test_one_sign_fraction_reads_the_layer_and_a_layer_that_did_not_move_fails():
    import dataclasses

    def with_signs(rec: RunRecord, share: float | None) -> RunRecord:
        out = dataclasses.replace(rec.layers[1], one_sign_fraction=share)
        return dataclasses.replace(rec, layers=(rec.layers[0], out))

    history = {"a": tuple(with_signs(r, 1.0) for r in HISTORY["a"]),
               "b": tuple(with_signs(r, None) for r in HISTORY["b"])}
    lesson = _lesson([{"run": "a", "metric": "one_sign_fraction", "layer": -1, "op": ">=", "value": 0.9},
                      {"run": "b", "metric": "one_sign_fraction", "layer": -1, "op": ">=", "value": 0.0}])
    verdict = evaluate(lesson, history)
    assert [r.passed for r in verdict.results] == [True, False]
    assert "one_sign_fraction of the last layer of b at the end is not measured" in verdict.results[1].text
