"""The headless command line: train, logs, errors (no window involved)."""

import csv
import subprocess
import sys

import pytest

from nnviz.cli import main


def test_train_prints_a_summary(capsys):
    assert main(["train", "--data", "xor", "--layers", "4", "--activation", "tanh", "--steps", "800",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "800 steps" in out and "steps/s" in out and "test acc" in out


def test_log_has_one_row_per_step_with_layer_columns(tmp_path):
    log = tmp_path / "run.csv"
    assert main(["train", "--data", "spiral", "--layers", "8,8", "--activation", "sigmoid",
                 "--steps", "50", "--eval-every", "10", "--log", str(log), "--quiet"]) == 0
    rows = list(csv.DictReader(log.open()))
    assert len(rows) == 50
    assert rows[0]["step"] == "1" and rows[-1]["step"] == "50"
    assert {"h1_dead", "h1_saturated", "h1_grad_norm", "h2_grad_norm", "train_acc"} <= set(rows[0])
    assert rows[0]["h1_saturated"] != "" and rows[0]["h1_dead"] == ""  # sigmoid: no dead units
    assert rows[8]["test_loss"] == "" and rows[9]["test_loss"] != ""  # every 10 steps


def test_epochs_and_full_batch(capsys):
    assert main(["train", "--data", "gauss", "--examples", "100", "--batch-size", "1000",
                 "--epochs", "5", "--quiet"]) == 0
    assert "5 steps (5 epochs)" in capsys.readouterr().out


def test_regression_and_float32(capsys):
    assert main(["train", "--data", "plane", "--dtype", "float32", "--steps", "100", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "train loss" in out and "acc" not in out


def test_divergence_exits_one_with_the_step(capsys):
    rc = main(["train", "--data", "plane", "--layers", "16,16", "--activation", "identity",
               "--optimizer", "sgd", "--lr", "50", "--steps", "500", "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "diverged at step" in err and "nan" not in err.lower().replace("nan or", "")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--data", "nope"], "neither a built-in"),
        (["train", "--data", "xor", "--layers", "8,x"], "widths"),
        (["train", "--data", "xor", "--lr", "abc"], "not a number"),
        (["train", "--data", "xor", "--loss", "mse"], "does not fit"),
        (["train", "--data", "spiral", "--arms", "3", "--loss", "logistic"], "two classes"),
        (["train", "--data", "xor", "--dropout", "1.5"], "dropout"),
        (["train", "--data", "xor", "--examples", "999999999"], "examples"),
        (["train"], "give --data"),
        (["info", "/nonexistent/file.nnviz"], ""),
        (["frobnicate-not-a-command-but-a-file.nnviz"], None),
    ],
)
def test_errors_are_one_line_and_exit_two(argv, words, capsys):
    if words is None:
        pytest.skip("a non-command argument opens the window (covered by the GUI tests)")
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("nnviz: ") and "\n" not in err and "Traceback" not in err
    assert words in err


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "nnviz", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("nnviz ")
