"""Calculations in lessons: the file's part is checked like the rest, the figures are the
core's own (losses, softmax, gradient check), and checks compare them like run figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nnviz.core.losses import make_loss, softmax
from nnviz.io.errors import FileFormatError
from nnviz.lessons import load_lesson, run_lesson
from nnviz.lessons.calculations import compute, naive_softmax
from nnviz.lessons.format import MAX_CALCULATIONS, MAX_SCORE_VECTORS

NOTES = [[10, -2, 3], [10, 9, 9], [10, -100, -100]]

CALC = {
    "title": "Softmax vs SVM", "claim": "c",
    "calculations": [
        {"name": "notes", "kind": "softmax_vs_svm", "scores": NOTES},
        {"name": "big", "kind": "softmax_stability", "scores": [[1000, 999, 998], [2, 1, 0]]},
    ],
    "checks": [{"calculation": "notes", "metric": "svm_loss", "reduce": "max", "op": "<=", "value": 0}],
}


def _load(d: object):
    return load_lesson(json.dumps(d).encode(), "t")


def _bad(change, message: str) -> None:
    d = json.loads(json.dumps(CALC))
    change(d)
    with pytest.raises(FileFormatError) as info:
        _load(d)
    assert message in str(info.value), str(info.value)


def test_a_lesson_of_calculations_alone_needs_no_runs_steps_or_base():
    lesson = _load(CALC)
    assert lesson.runs == () and lesson.steps == 0
    assert [c.name for c in lesson.calculations] == ["notes", "big"]
    assert lesson.calculation("notes").n_rows == 3 and lesson.calculation("notes").correct == (0, 0, 0)
    assert lesson.with_steps(5) is lesson  # nothing to shorten


def test_softmax_vs_svm_are_the_core_losses_row_by_row():
    table = compute(_load(CALC).calculation("notes"))
    svm, soft = make_loss("svm"), make_loss("softmax")
    for i, s in enumerate(NOTES):
        S, y = np.array([s], float), np.array([0])
        assert table.figure("svm_loss", i) == svm.value(S, y)
        assert table.figure("softmax_loss", i) == soft.value(S, y)
        assert table.figure("margin", i) == s[0] - max(s[1:])
    assert [table.figure("svm_loss", i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert [table.figure("svm_gradient", i) for i in range(3)] == [0.0, 0.0, 0.0]
    # softmax falls as the margin grows; at margin 110 the loss rounds to 0, its push does not
    assert table.figure("softmax_loss", 1) > table.figure("softmax_loss", 0) > 0
    assert table.figure("softmax_gradient", 2) > 0
    assert "scores 2: [10, 9, 9]" in table.table()


def test_a_margin_not_met_gives_the_svm_loss_and_the_correct_class_counts():
    d = json.loads(json.dumps(CALC))
    d["calculations"][0].update(scores=[[1, 2, 3]], correct=[2])
    table = compute(_load(d).calculation("notes"))
    assert table.figure("svm_loss", 0) == 0.0 and table.figure("margin", 0) == 1.0
    d["calculations"][0].update(correct=[0])
    table = compute(_load(d).calculation("notes"))
    assert table.figure("svm_loss", 0) == pytest.approx(2.0 + 3.0)  # (2-1+1) + (3-1+1)
    assert table.figure("margin", 0) == -2.0


def test_softmax_stability_naive_overflows_the_core_does_not():
    table = compute(_load(CALC).calculation("big"))
    assert table.figure("naive_finite", 0) == 0.0 and table.figure("naive_finite", 1) == 1.0
    assert table.figure("stable_finite", 0) == 1.0
    assert math.isclose(table.figure("top_probability", 0), table.figure("top_probability", 1), rel_tol=1e-12)
    assert table.figure("shift_difference", 0) <= 1e-15
    S = np.array([[1000.0, 999, 998]])
    assert np.all(np.isnan(naive_softmax(S))) and np.allclose(softmax(S), naive_softmax(S - 1000))


def test_a_gradient_check_calculation_uses_the_core_check_per_array():
    d = {"title": "t", "claim": "c",
         "base": {"source": "moons", "n": 100, "layers": [4], "activations": "tanh"},
         "calculations": [{"name": "gc", "kind": "gradient_check", "examples": 8, "entries": 5,
                           "train_steps": 20, "settings": {"l2": 0.01}}],
         "checks": [{"calculation": "gc", "metric": "max_rel_error", "reduce": "max", "op": "<",
                     "value": 1e-6}]}
    lesson = _load(d)
    calc = lesson.calculation("gc")
    assert calc.row_labels == ("hidden 1 W", "hidden 1 b", "output W", "output b")
    assert calc.settings.train.l2 == 0.01 and calc.settings.network.layers == (4,)
    result = run_lesson(lesson)
    assert result.complete and result.verdict.passed, result.verdict.report()
    table = result.calculations[0]
    assert [r.figures["checked"] for r in table.rows] == [5, 4, 5, 2]
    assert "output b" in result.verdict.report()


def test_checks_measure_calculations_and_fail_with_the_numbers():
    d = json.loads(json.dumps(CALC))
    d["checks"] = [
        {"says": "softmax falls with the margin", "order": [
            {"calculation": "notes", "metric": "softmax_loss", "row": 1},
            {"calculation": "notes", "metric": "softmax_loss", "row": 0}], "direction": "decreasing"},
        {"says": "softmax is never zero", "calculation": "notes", "metric": "softmax_loss", "reduce": "min",
         "op": ">", "value": 0},
    ]
    result = run_lesson(_load(d))
    assert result.complete and not result.verdict.passed
    first, second = result.verdict.results
    assert first.passed and "across the rows: scores 2: [10, 9, 9] 0.551" in first.text
    # honest: 1 + 3.4e-48 rounds to 1 in float64, so the core's loss is 0 at margin 110
    assert not second.passed
    assert result.verdict.headline == ("not this time: softmax is never zero: min of softmax_loss over "
                                       "the rows of notes is 0; it should be > 0")


def test_a_lesson_may_mix_runs_and_calculations():
    d = json.loads(json.dumps(CALC))
    d.update(base={"source": "xor", "n": 100, "layers": [4], "activations": "tanh"}, steps=4,
             checkpoint_every=2, runs=[{"name": "a"}])
    d["checks"].append({"left": {"run": "a", "metric": "train_loss"}, "op": ">",
                        "right": {"calculation": "notes", "metric": "svm_loss", "row": 0}})
    seen = []
    result = run_lesson(_load(d), on_calculation=seen.append)
    assert [t.name for t in seen] == ["notes", "big"] and result.complete
    assert result.verdict.passed and len(result.checkpoints) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("calculations"), "lacks 'runs'"),
        (lambda d: d.update(calculations=[]), "lacks 'runs'"),
        (lambda d: d.update(steps=10), "steps applies to runs"),
        (lambda d: d.update(calculations=[CALC["calculations"][0]] * (MAX_CALCULATIONS + 1)), "at most 8"),
        (lambda d: d["calculations"][1].update(name="notes"), "calculation name 'notes' is used twice"),
        (lambda d: d["calculations"][0].update(kind="magic"), "kind 'magic' is not one of softmax_vs_svm"),
        (lambda d: d["calculations"][0].pop("kind"), "calculations[0] lacks 'kind'"),
        (lambda d: d["calculations"][0].update(name="a b"), "calculations[0].name 'a b' must be"),
        (lambda d: d["calculations"][0].update(entries=3), "calculations[0] has unknown field(s) 'entries'"),
        (lambda d: d["calculations"][1].update(correct=[0, 0]), "unknown field(s) 'correct'"),
        (lambda d: d["calculations"][0].update(scores=[]), "scores must hold 1..12"),
        (lambda d: d["calculations"][0].update(scores=[[1, 2]] * (MAX_SCORE_VECTORS + 1)),
         "1..12 score vectors"),
        (lambda d: d["calculations"][0].update(scores=[[1]]), "scores[0] must hold 2..16 scores"),
        (lambda d: d["calculations"][0].update(scores=[[1, 2e7]]), "scores[0][1] must be a number in"),
        (lambda d: d["calculations"][0].update(scores=[[1, "2"]]), "scores[0][1] must be a number"),
        (lambda d: d["calculations"][0].update(scores=[1, 2]), "scores[0] must be a list"),
        (lambda d: d["calculations"][0].update(correct=[0]), "one class per score vector (3), not 1"),
        (lambda d: d["calculations"][0].update(correct=[0, 0, 3]), "correct[2] must be in 0..2"),
        (lambda d: d["checks"][0].update(calculation="other"), "names the calculation 'other'"),
        (lambda d: d["checks"][0].update(metric="test_loss"),
         "'test_loss' is not a figure of softmax_vs_svm"),
        (lambda d: d["checks"][0].pop("reduce"), "needs 'row' (0..2) or 'reduce'"),
        (lambda d: d["checks"][0].pop("reduce") and d["checks"][0].update(row=3), "row must be in 0..2"),
        (lambda d: d["checks"][0].update(row=0), "names both 'row' and 'reduce'"),
        (lambda d: d["checks"][0].update(run="x"), "unknown field(s) 'run'"),
        (lambda d: d["checks"][0].update(reduce="median"), "needs 'row' (0..2) or 'reduce'"),
    ],
)
def test_bad_calculations_are_refused_naming_the_field(change, message):
    _bad(change, message)


@pytest.mark.parametrize(
    ("calc", "message"),
    [
        ({"settings": {"layers": [0]}}, "calculations[0].settings.layers[0] must be in"),
        ({"settings": {"loss": "mse"}}, "calculations[0]: mean squared error is for regression"),
        ({"examples": 0}, "examples must be in 1..500"),
        ({"entries": 10**6}, "entries must be in 1..500"),
        ({"eps": 1.0}, "eps must be in"),
        ({"eps": "small"}, "eps must be a finite number"),
        ({"train_steps": -1}, "train_steps must be in"),
        ({"settings": {"layers": [700, 700]}, "examples": 500, "entries": 500},
         "a gradient check takes at most"),
        ({"scores": [[1, 2]]}, "unknown field(s) 'scores'"),
    ],
)
def test_bad_gradient_checks_are_refused(calc, message):
    d = {"title": "t", "claim": "c", "base": {"source": "moons", "n": 100, "layers": [4]},
         "calculations": [{"name": "gc", "kind": "gradient_check", **calc}],
         "checks": [{"calculation": "gc", "metric": "checked", "reduce": "min", "op": ">", "value": 0}]}
    with pytest.raises(FileFormatError) as info:
        _load(d)
    assert message in str(info.value), str(info.value)
