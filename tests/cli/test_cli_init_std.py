"""The lecture's sigmoid-saturation experiment on the command line, on the real 8x8
digits: ``--init normal --init-std 5`` saturates the first hidden layer and the network
barely learns; a Xavier start does not saturate and learns. Runs the real ``nnviz
train`` in-process; the figures in the comments were measured on this data."""

from __future__ import annotations

import csv
import re

import pytest

from nnviz.cli import main

BASE = ["train", "--data", "digits", "--layers", "32,32", "--activation", "sigmoid", "--optimizer", "sgd",
        "--lr", "0.1", "--batch-size", "32", "--preprocess", "standardize", "--quiet"]


def _run(tmp_path, capsys, init: list[str], steps: int = 1000) -> tuple[list[dict[str, str]], float]:
    log = tmp_path / "L.csv"
    assert main([*BASE, *init, "--steps", str(steps), "--log", str(log)]) == 0
    out = capsys.readouterr().out
    loss = float(re.search(r"train loss ([0-9.e+-]+)", out).group(1))
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == steps
    return rows, loss


def test_large_normal_weights_saturate_and_barely_learn(tmp_path, capsys):
    rows, loss = _run(tmp_path, capsys, ["--init", "normal", "--init-std", "5"])
    assert "h1_saturated" in rows[0] and "h2_saturated" in rows[0]  # per layer, named
    assert rows[0]["step"] == "1"
    assert float(rows[0]["h1_saturated"]) > 0.6  # measured 0.78 (the notes' NumPy model: 0.82)
    assert loss > 1.5  # measured 2.92 (the notes: 2.77)
    assert float(rows[-1]["train_loss"]) > 1.5


def test_xavier_start_does_not_saturate_and_learns(tmp_path, capsys):
    rows, loss = _run(tmp_path, capsys, ["--init", "xavier_normal"])
    assert float(rows[0]["h1_saturated"]) < 0.1  # measured 0.0 (the notes: 0.0)
    assert loss < 1.0  # measured 0.385 (the notes: 0.37)


@pytest.mark.parametrize(("args", "words"), [
    (["--init", "normal", "--init-std", "0"], "--init-std must be a finite number in 1e-06..100"),
    (["--init", "normal", "--init-std", "-2"], "--init-std must be"),
    (["--init", "normal", "--init-std", "101"], "--init-std must be"),
    (["--init", "normal", "--init-std", "1e400"], "is not a finite number"),
    (["--init", "normal", "--init-std", "nan"], "is not a finite number"),
    (["--init", "normal", "--init-std", "five"], "is not a number"),
    (["--init", "torch", "--init-std", "2"], "--init-std applies to --init normal only"),
    (["--init-std", "2"], "--init-std applies to --init normal only"),
])
def test_bad_init_std_is_one_line_exit_two(args, words, capsys):
    assert main(["train", "--data", "circle", "--steps", "1", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_std_is_saved_shown_and_fixed_for_a_saved_network(tmp_path, capsys):
    out = tmp_path / "n.nnviz"
    assert main(["train", "--data", "circle", "--steps", "3", "--init", "normal", "--init-std", "2.5",
                 "--activation", "sigmoid", "--out", str(out), "--quiet"]) == 0
    assert main(["info", str(out)]) == 0
    assert "init normal, std 2.5" in capsys.readouterr().out
    assert main(["train", str(out), "--steps", "2", "--init-std", "2.5", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train", str(out), "--steps", "2", "--init", "normal", "--init-std", "3", "--quiet"]) == 2
    assert "cannot change a saved network" in capsys.readouterr().err
    plain = tmp_path / "p.nnviz"
    assert main(["train", "--data", "circle", "--steps", "1", "--out", str(plain), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train", str(plain), "--steps", "1", "--init-std", "3", "--quiet"]) == 2
    assert "this network's initialiser is torch" in capsys.readouterr().err


def test_digits_on_the_command_line(capsys):
    assert main(["train", "--data", "digits", "--steps", "5", "--quiet"]) == 0
    assert "train loss" in capsys.readouterr().out
