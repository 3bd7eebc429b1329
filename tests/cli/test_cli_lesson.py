"""nnviz lesson: the shipped lessons from the command line, checked headless."""

from __future__ import annotations

from nnviz.cli import main
from nnviz.lessons.library import lesson_names


def test_list_names_every_shipped_lesson(capsys):
    assert main(["lesson", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in lesson_names())


def test_show_describes_without_running(capsys):
    assert main(["lesson", "show", "xor_needs_hidden_layer"]) == 0
    assert "XOR needs a hidden layer" in capsys.readouterr().out


def test_run_checks_the_outcome(capsys):
    assert main(["lesson", "run", "xor_needs_hidden_layer", "--quiet"]) == 0
    assert "as the notes say" in capsys.readouterr().out.lower()


def test_an_unknown_lesson_is_one_line(capsys):
    assert main(["lesson", "run", "no_such_lesson"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_lesson" in err[0]
