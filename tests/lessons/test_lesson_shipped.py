"""Shipped lessons end to end, with their shipped settings and seeds: a representative
few run in full here (each in seconds); docs/lessons.md records every lesson's figures."""

from __future__ import annotations

import pytest

from nnviz.lessons import run_lesson, shipped_lesson
from nnviz.lessons.__main__ import main

FULL = ("xor_needs_hidden_layer", "vanishing_gradients", "large_init_saturates_sigmoid",
        "sigmoid_updates_share_one_sign", "svm_is_satisfied_softmax_never", "softmax_computed_stably",
        "gradient_check_agrees")
#: the lessons whose point is a calculation (their tables are part of the verdict)
CALCULATING = ("svm_is_satisfied_softmax_never", "softmax_computed_stably", "gradient_check_agrees")


@pytest.mark.parametrize("name", FULL)
def test_a_shipped_lesson_passes_as_shipped(name):
    lesson = shipped_lesson(name)
    result = run_lesson(lesson)
    assert result.complete
    assert result.verdict.passed, result.verdict.report()
    assert result.verdict.headline == "as the notes say"
    if name in CALCULATING:
        assert len(result.calculations) == len(lesson.calculations) > 0
        assert result.calculations[0].label in result.verdict.report()


def test_a_shortened_lesson_gets_an_honest_verdict():
    # 2 steps cannot teach XOR: the verdict must say so, naming the check and its numbers
    lesson = shipped_lesson("xor_needs_hidden_layer").with_steps(2, 1)
    result = run_lesson(lesson)
    assert not result.verdict.passed
    assert result.verdict.headline.startswith("not this time: the hidden layer learns XOR")
    assert result.verdict.try_next == lesson.try_next


def test_the_command_lists_shows_and_refuses(capsys, tmp_path):
    assert main(["list"]) == 0
    assert "xor_needs_hidden_layer: XOR needs a hidden layer" in capsys.readouterr().out
    assert main(["show", "vanishing_gradients"]) == 0
    assert "residual links bring it back" in capsys.readouterr().out
    assert main(["run", "no_such_lesson"]) == 2
    assert "no lesson 'no_such_lesson'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nnviz-lesson"}')
    assert main(["run", str(bad)]) == 2
    assert "bad.json: the lesson lacks 'title'" in capsys.readouterr().err


def test_every_run_of_every_shipped_lesson_builds_and_steps():
    from nnviz.app.run_settings import build_session
    from nnviz.lessons import lesson_names

    for name in lesson_names():
        for run in shipped_lesson(name).runs:  # a lesson of calculations alone has none
            session = build_session(run.settings, grid_size=0)
            session.trainer.run(2)
            assert session.trainer.step_count == 2, (name, run.name)


def test_a_lesson_of_calculations_alone_runs_from_the_command(capsys):
    assert main(["run", "softmax_computed_stably", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "scores 1: [1000, 999, 998]       [nan, nan, nan]" in out
    assert "As the notes say" in out
