"""The lesson file: every shipped lesson loads; bad files are refused with a message that
names the field."""

from __future__ import annotations

import json
import os

import pytest

from nnviz.io.errors import FileFormatError
from nnviz.lessons import MAX_RUNS, lesson_names, load_lesson, load_lesson_file, shipped_lesson
from nnviz.lessons.format import MAX_STEPS

GOOD = {
    "format": "nnviz-lesson",
    "format_version": 1,
    "title": "XOR",
    "claim": "A hidden layer is needed.",
    "base": {"source": "xor", "n": 100, "activations": "tanh"},
    "runs": [
        {"name": "linear", "settings": {"layers": []}},
        {"name": "hidden", "settings": {"layers": [4]}},
    ],
    "steps": 100,
    "checkpoint_every": 50,
    "checks": [{"run": "hidden", "metric": "test_accuracy", "op": ">=", "value": 0.9}],
}


def _load(d: object):
    return load_lesson(json.dumps(d).encode(), "t")


def _bad(change, message: str) -> None:
    d = json.loads(json.dumps(GOOD))
    change(d)
    with pytest.raises(FileFormatError) as info:
        _load(d)
    assert message in str(info.value), str(info.value)


def test_the_good_lesson_loads_with_its_settings():
    lesson = _load(GOOD)
    assert [r.name for r in lesson.runs] == ["linear", "hidden"]
    hidden = lesson.run("hidden").settings
    assert hidden.network.layers == (4,) and hidden.network.activations == ("tanh",)
    assert hidden.data.source == "xor" and hidden.data.n == 100
    assert lesson.run("linear").settings.network.layers == ()
    assert lesson.checkpoint_steps == (0, 50, 100)


def test_every_shipped_lesson_loads():
    names = lesson_names()
    assert len(names) >= 12
    for name in names:
        lesson = shipped_lesson(name)
        assert lesson.title and lesson.claim and lesson.checks and lesson.try_next
        assert len(lesson.runs) <= MAX_RUNS and (lesson.runs or lesson.calculations)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="nnviz-spec"), "format must be 'nnviz-lesson'"),
        (lambda d: d.update(format_version=2), "format_version 2"),
        (lambda d: d.update(extra=1), "unknown field(s) 'extra'"),
        (lambda d: d.pop("title"), "lacks 'title'"),
        (lambda d: d.update(title=""), "must not be empty"),
        (lambda d: d.update(steps=MAX_STEPS + 1), "steps must be in"),
        (lambda d: d.update(steps=True), "steps must be an integer"),
        (lambda d: d.update(checkpoint_every=1000), "checkpoint_every must be in"),
        (lambda d: d["base"].update(lr="fast"), "base.lr must be a finite number"),
        (lambda d: d["base"].update(lr=100.0), "base.lr must be in"),
        (lambda d: d["base"].update(speed=1), "base.speed: 'speed' is not a setting"),
        (lambda d: d["base"].update(activations="swish"), "base.activations 'swish' is not one of"),
        (lambda d: d["base"].update(n=10**9), "base.n must be in"),
        (lambda d: d["base"].update(source="custom"), "base.source 'custom' is not one of"),
        (lambda d: d["runs"][1]["settings"].update(layers=[0]), "runs[1].settings.layers[0] must be in"),
        (lambda d: d["runs"][1]["settings"].update(layers=[2000]), "runs[1].settings.layers[0] must be in"),
        (lambda d: d["runs"][1]["settings"].update(n=50), "the runs share their data"),
        (lambda d: d["runs"][1]["settings"].update(loss="mse"),
         "runs[1]: mean squared error is for regression"),
        (lambda d: d["runs"][1]["settings"].update(layers=[1024, 1024]), "parameters; a lesson"),
        (lambda d: d.update(steps=50_000, checkpoint_every=1000) or d["runs"][1]["settings"].update(
            layers=[512, 512], batch_size=512),
         "runs[1] (hidden) would take"),
        (lambda d: d["runs"][1]["settings"].update(activations=["relu", "tanh"]), "2 activations for 1"),
        (lambda d: d["runs"][1].update(name="linear"), "the run name 'linear' is used twice"),
        (lambda d: d["runs"][1].update(name="a b"), "runs[1].name 'a b' must be"),
        (lambda d: d.update(runs=[{"name": f"r{i}"} for i in range(MAX_RUNS + 1)]), "runs must hold 1..8"),
        (lambda d: d.update(runs=[]), "runs must hold 1..8"),
        (lambda d: d.update(checks=[]), "checks must hold 1..16"),
        (lambda d: d["checks"][0].update(run="nobody"), "names the run 'nobody'"),
        (lambda d: d["checks"][0].update(metric="happiness"), "metric 'happiness' is not one of"),
        (lambda d: d["checks"][0].update(op="=="), "op '==' is not one of"),
        (lambda d: d["checks"][0].pop("value"), "needs exactly one of 'value'"),
        (lambda d: d["checks"][0].update(at=30), "at 30 is not a checkpoint"),
        (lambda d: d["checks"][0].update(at="later"), "at must be"),
        (lambda d: d["checks"][0].update(metric="dead_fraction"), "has no relu units"),
        (lambda d: d["checks"][0].update(run="linear", metric="grad_norm", layer=3), "has 1 dense layers"),
        (lambda d: d["checks"][0].update(metric="steps_to_accuracy"), "target must be an accuracy"),
        (lambda d: d["checks"][0].update(times=2), "times and plus apply to a comparison"),
        (lambda d: d["checks"].append({"order": [{"run": "hidden", "metric": "train_loss"}]}),
         "order must list 2..8"),
        (lambda d: d["checks"].append({"left": {"runs": ["hidden"], "metric": "train_loss"}, "op": "<",
                                       "value": 1}), "lacks 'reduce'"),
    ],
)
def test_bad_lessons_are_refused_naming_the_field(change, message):
    _bad(change, message)


def test_not_json_and_too_large_are_refused():
    with pytest.raises(FileFormatError, match="not valid JSON"):
        load_lesson(b"{", "t")
    with pytest.raises(FileFormatError, match="NaN is not a number"):
        load_lesson(json.dumps(GOOD).replace('"steps": 100', '"steps": NaN').encode(), "t")
    with pytest.raises(FileFormatError, match="a lesson is at most"):
        load_lesson(b" " * (300 * 1024), "t")


def test_regression_data_refuses_accuracy_checks():
    d = json.loads(json.dumps(GOOD))
    d["base"] = {"source": "plane", "loss": "mse"}
    with pytest.raises(FileFormatError, match="needs classification data"):
        _load(d)


def test_a_file_is_read_only_if_regular(tmp_path):
    p = tmp_path / "mine.json"
    p.write_text(json.dumps(GOOD))
    assert load_lesson_file(p).name == "mine"
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(FileFormatError, match="named pipe"):
        load_lesson_file(fifo)


def test_with_steps_shortens_and_moves_late_checks_to_the_end():
    d = json.loads(json.dumps(GOOD))
    d["checks"][0]["at"] = 100
    short = _load(d).with_steps(20, 10)
    assert short.steps == 20 and short.checkpoint_steps == (0, 10, 20)
    assert short.checks[0].left.at == "end"
    d["checks"][0]["at"] = 50
    assert _load(d).with_steps(80, 20).checks[0].left.at == 40  # the last checkpoint before
    with pytest.raises(ValueError, match="checkpoint_every must be in"):
        _load(GOOD).with_steps(20, 50)


def test_seeds_shift_for_every_run_and_gradient_check():
    d = json.loads(json.dumps(GOOD))
    d["runs"][1]["settings"]["seed"] = 5
    d["calculations"] = [{"name": "gc", "kind": "gradient_check"}]
    lesson = _load(d)
    moved = lesson.with_seeds_shifted(2)
    assert moved.data_seed == lesson.data_seed + 2
    assert [r.settings.train.seed for r in moved.runs] == [2, 7]
    assert {r.settings.data.seed for r in moved.runs} == {lesson.data_seed + 2}
    assert moved.calculations[0].settings.data.seed == lesson.calculations[0].settings.data.seed + 2
    assert moved.checks == lesson.checks and moved.steps == lesson.steps
