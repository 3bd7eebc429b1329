"""nnviz lesson: the shipped lessons from the command line: listed, opened in the Lessons
window, checked headless in one line each; bad names and combinations refused in one line."""

from __future__ import annotations

import json

import pytest

from nnviz.cli import main
from nnviz.lessons import library
from nnviz.lessons.library import COMMAND_WORDS, lesson_names, shipped_lesson

XOR = "xor_needs_hidden_layer"


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert "Traceback" not in captured.err
    return err[0]


@pytest.mark.parametrize("argv", [["--list"], ["list"]])
def test_list_names_every_shipped_lesson(capsys, argv):
    assert main(["lesson", *argv]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == list(lesson_names())
    assert f"{XOR}: XOR needs a hidden layer" in out


def test_no_shipped_lesson_is_named_like_a_command_word():
    # `nnviz lesson list` must stay unambiguous: the words are commands, never a lesson
    assert not set(COMMAND_WORDS) & set(lesson_names())


def test_show_describes_without_running(capsys):
    assert main(["lesson", "show", XOR]) == 0
    out = capsys.readouterr().out
    assert "XOR needs a hidden layer" in out and "Checks:" in out


def test_check_prints_one_verdict_line_and_exits_0_when_the_claim_holds(capsys):
    assert main(["lesson", XOR, "--check"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{XOR}: as the notes say (") and out[0].endswith(" s)")


def test_check_exits_1_with_an_honest_line_when_the_claim_does_not_hold(capsys):
    # 3 steps cannot teach XOR: the one line names the failed check and its numbers
    assert main(["lesson", XOR, "--check", "--steps", "3"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{XOR}: not this time: ") and "should be" in out[0]


def test_check_takes_a_lesson_file(capsys, tmp_path):
    raw = json.loads((library.lessons_dir() / f"{XOR}.json").read_text())
    path = tmp_path / "my_xor.json"
    path.write_text(json.dumps(raw))
    assert main(["lesson", str(path), "--check", "--steps", "3"]) == 1
    assert capsys.readouterr().out.startswith("my_xor: not this time: ")


def test_check_all_runs_every_shipped_lesson_and_totals(capsys, monkeypatch):
    # two lessons stand for all of them here (the full run: `nnviz lesson --check-all`)
    monkeypatch.setattr(library, "lesson_names", lambda: (XOR, "vanishing_gradients"))
    assert main(["lesson", "--check-all", "--steps", "3"]) == 1  # XOR cannot hold in 3 steps
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 3
    assert out[0].startswith(f"{XOR}: not this time") and out[1].startswith("vanishing_gradients: ")
    held = sum(": as the notes say (" in line for line in out[:2])
    assert out[2].startswith(f"{held} of 2 lessons as the notes say, in ") and out[2].endswith(" s")


def test_check_all_exits_0_only_when_every_lesson_holds(capsys, monkeypatch):
    monkeypatch.setattr(library, "lesson_names", lambda: (XOR,))
    assert main(["lesson", "--check-all"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith(f"{XOR}: as the notes say") and out[1].startswith("1 of 1 lessons")


def test_run_still_reports_per_checkpoint(capsys):
    assert main(["lesson", "run", XOR, "--steps", "20"]) in (0, 1)
    out = capsys.readouterr().out
    assert "step      0:" in out and "step     20:" in out


def test_a_name_alone_opens_the_window_on_that_lesson(monkeypatch):
    from nnviz.cli import lesson as cli_lesson

    opened = []
    monkeypatch.setattr(cli_lesson, "open_lesson_window", lambda lesson: opened.append(lesson) or 0)
    assert main(["lesson", XOR]) == 0
    assert [lesson.name for lesson in opened] == [XOR]


def test_the_window_opens_with_the_lesson_chosen(qtbot):
    from nnviz.cli.lesson import lesson_window

    window = lesson_window(shipped_lesson("vanishing_gradients"))
    qtbot.addWidget(window)
    try:
        assert window.lesson.name == "vanishing_gradients"
        assert window.list.currentItem().text() == window.lesson.title
        assert window.list.count() == len(lesson_names())  # a shipped lesson is not added twice
    finally:
        window.shutdown()


def test_the_window_adds_a_shortened_or_outside_lesson(qtbot):
    from nnviz.cli.lesson import lesson_window

    short = shipped_lesson(XOR).with_steps(50)
    window = lesson_window(short)
    qtbot.addWidget(window)
    try:
        assert window.lesson == short and window.lesson.steps == 50
        assert window.list.count() == len(lesson_names()) + 1
    finally:
        window.shutdown()


@pytest.mark.parametrize(("argv", "says"), [
    (["run", "no_such_lesson"], "no_such_lesson"),
    (["no_such_lesson", "--check"], "no lesson 'no_such_lesson'"),
    (["no_such_lesson"], "no lesson 'no_such_lesson'"),
    ([], "give one lesson"),
    ([XOR, "vanishing_gradients"], "one lesson at a time"),
    (["--list", "--check-all"], "give one of --list and --check-all"),
    (["--list", XOR], "--list takes no lesson"),
    (["--check-all", XOR], "--check-all takes no lesson"),
    (["show"], "show takes one lesson"),
    (["run", XOR, "--check"], "--check does not go with run"),
    (["list", XOR], "list takes no lesson"),
    ([XOR, "--check", "--steps", "0"], "--steps must be 1..50,000, not 0"),
    (["--check-all", "--steps", "-5"], "--steps must be 1..50,000, not -5"),
    ([XOR, "--check", "--steps", "many"], "invalid int value"),
    ([XOR, "--check", "--steps", "99999999999"], "--steps must be 1..50,000"),
    (["missing_dir/lesson.json", "--check"], "lesson.json"),
])
def test_hostile_arguments_are_one_line_and_exit_2(capsys, argv, says):
    assert main(["lesson", *argv]) == 2
    assert says in _one_error_line(capsys)


def test_a_broken_lesson_file_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nnviz-lesson"}')
    assert main(["lesson", str(bad), "--check"]) == 2
    assert "bad.json: the lesson lacks 'title'" in _one_error_line(capsys)
