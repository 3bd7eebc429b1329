"""The command line against bad arguments and specs: exit 2 and one line; repeating a saved
network's own settings is no change; another optimiser may fine-tune a saved network."""

import json

import pytest

from nnviz.cli import main
from nnviz.io import load_file

XOR = ["train", "--data", "xor", "--quiet"]


def _one_line_error(capsys, rc: int) -> str:
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("nnviz: ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--batch-size", "0"], "--batch-size: '0' must be >= 1"),
        (["--batch-size", "-3"], "must be >= 1"),
        (["--steps", "-1"], "--steps: '-1' must be >= 0"),
        (["--epochs", "0"], "--epochs: '0' must be >= 1"),
        (["--examples", "0"], "--examples: '0' must be >= 1"),
        (["--examples", "2"], "--examples must be in 4..5,000,000, not 2"),
        (["--eval-every", "0"], "--eval-every: '0' must be >= 1"),
        (["--examples", "5000000"], "at most 2,500,000 examples fit"),
        (["--optimizer", "nesterov", "--momentum", "0"], "nesterov momentum must be > 0"),
        (["--optimizer", "momentum", "--momentum", "-2"], "momentum must be a finite number >= 0"),
        (["--l2", "-1"], "l2 must be a finite number >= 0"),
        (["--dropout", "1"], "dropout must be in [0, 1)"),
    ],
)
def test_bad_counts_and_hyperparameters_are_refused(extra, words, capsys):
    assert words in _one_line_error(capsys, main([*XOR, "--steps", "3", *extra]))


def _spec(tmp_path, training=None, data=None, name="spec.json"):
    spec = {"format": "nnviz-spec",
            "architecture": {"input_dim": 2, "output_dim": 2, "hidden": [{"units": 4}]},
            "training": training or {"optimizer": {"name": "adam", "lr": 0.01}},
            "data": data or {"generator": "xor", "n": 100}}
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return str(path)


@pytest.mark.parametrize(
    "training, data, words",
    [
        ({"optimizer": {"name": "adam", "beta2": 5}}, None, "adam beta2 must be in [0, 1), not 5"),
        ({"optimizer": {"name": "adamw", "beta1": 1.0}}, None, "adamw beta1 must be in [0, 1)"),
        ({"optimizer": {"name": "rmsprop", "alpha": 1.5}}, None, "rmsprop alpha must be in [0, 1]"),
        ({"optimizer": {"name": "adam", "eps": -1}}, None, "adam eps must be a finite number >= 0"),
        ({"schedule": {"name": "step", "gamma": 0}}, None, "gamma must be in (0, 1]"),
        ({"schedule": {"name": "cosine", "eta_min": -0.1}}, None, "eta_min must be a finite"),
        ({"batch_size": 0}, None, "batch size"),
        ({"dropout": 1.0}, None, "dropout must be in [0, 1)"),
        (None, {"generator": "xor", "n": 100, "features": ["x3", "x1"]}, "unknown input feature 'x3'"),
        (None, {"generator": "xor", "n": 100, "features": ["x1", "x1"]}, "'x1' is chosen more than once"),
        (None, {"generator": "checkerboard", "n": 5_000_000}, "at most 2,500,000 examples fit"),
    ],
)
@pytest.mark.parametrize("command", ["info", "train"])
def test_a_spec_with_a_bad_setting_is_refused_at_load(tmp_path, capsys, command, training, data, words):
    path = _spec(tmp_path, training, data)
    argv = ["info", path] if command == "info" else ["train", path, "--steps", "3", "--quiet"]
    err = _one_line_error(capsys, main(argv))
    assert words in err and "spec.json" in err


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "net.nnviz"
    assert main([*XOR, "--layers", "6", "--activation", "tanh", "--preprocess", "standardize",
                 "--test-fraction", "0.25", "--steps", "40", "--out", str(path)]) == 0
    return path


def test_repeating_a_saved_setting_is_not_a_change(saved, tmp_path, capsys):
    out = tmp_path / "again.nnviz"
    rc = main(["train", str(saved), "--layers", "6", "--activation", "tanh", "--preprocess",
               "standardize", "--test-fraction", "0.25", "--loss", "softmax", "--init", "torch",
               "--dtype", "float64", "--seed", "0", "--steps", "5", "--quiet", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert load_file(out).trainer_state["step"] == 45


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--preprocess", "none"], "--preprocess cannot change a saved network's architecture or data "
                                   "split (it has standardize)"),
        (["--test-fraction", "0.2"], "--test-fraction cannot change"),
        (["--layers", "6,6"], "(it has 6)"),
        (["--activation", "relu"], "(it has tanh)"),
        (["--seed", "3"], "--seed cannot change"),
    ],
)
def test_changing_a_saved_setting_is_refused(saved, capsys, extra, words):
    assert words in _one_line_error(capsys, main(["train", str(saved), "--steps", "2", "--quiet", *extra]))


def test_another_optimizer_fine_tunes_with_fresh_state(saved, tmp_path, capsys):
    out = tmp_path / "sgd.nnviz"
    rc = main(["train", str(saved), "--optimizer", "sgd", "--lr", "0.05", "--steps", "7", "--quiet",
               "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0
    assert "optimizer changes from adam to sgd; its state (moments, momentum) starts fresh" in err
    f = load_file(out)
    assert f.train_config.optimizer.name == "sgd" and f.train_config.optimizer.lr == 0.05
    assert f.trainer_state["step"] == 47 and f.trainer_state["optimizer_t"] == 7
    # the same optimiser with new settings keeps its state, quietly
    out2 = tmp_path / "sgd2.nnviz"
    assert main(["train", str(out), "--lr", "0.01", "--steps", "3", "--quiet", "--out", str(out2)]) == 0
    assert "starts fresh" not in capsys.readouterr().err
    assert load_file(out2).trainer_state["optimizer_t"] == 10


def test_handwritten_digits_from_the_command_line(capsys):
    assert main(["train", "--data", "digits", "--examples", "300", "--layers", "16", "--steps", "20",
                 "--quiet"]) == 0
    assert "20 steps" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra", [["--steps", str(10**30)], ["--epochs", str(10**20)], ["--steps", str(2**53 + 1)]]
)
def test_a_step_count_past_what_a_file_records_is_refused_at_once(extra, capsys):
    assert "past 9,007,199,254,740,992 (2**53)" in _one_line_error(capsys, main([*XOR, *extra]))
