"""Settings are checked where they enter the core: one ValueError naming the setting."""

import pytest

from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.preprocess import InputPipeline
from nnviz.core.trainer import TrainConfig


@pytest.mark.parametrize(
    "name, hyper, words",
    [
        ("adam", {"beta2": 5}, "beta2 must be in [0, 1)"),
        ("adam", {"beta1": 1}, "beta1 must be in [0, 1)"),
        ("adamw", {"lr": -0.1}, "lr must be a finite number >= 0"),
        ("adam", {"eps": float("nan")}, "eps must be a finite number"),
        ("rmsprop", {"alpha": 2}, "alpha must be in [0, 1]"),
        ("sgd", {"momentum": float("inf")}, "momentum must be a finite"),
        ("sgd", {"weight_decay": -1}, "weight_decay must be"),
        ("nesterov", {"momentum": 0}, "nesterov momentum must be > 0"),
        ("adam", {"lr": "fast"}, "lr must be a number"),
        ("adam", {"momentum": 0.9}, "adam has no setting"),
    ],
)
def test_optimizer_settings_outside_torchs_ranges_are_refused(name, hyper, words):
    with pytest.raises(ValueError) as info:
        OptimizerConfig(name, hyper)
    assert words in str(info.value)


def test_edges_of_the_ranges_are_accepted():
    OptimizerConfig("adam", {"lr": 0.0, "beta1": 0.0, "beta2": 0.0, "eps": 0.0})
    OptimizerConfig("rmsprop", {"alpha": 1.0})
    Schedule("step", step_size=1, gamma=1.0, eta_min=0.0)
    TrainConfig(batch_size=1, dropout=0.0)


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"step_size": 0}, "step_size must be a whole number >= 1"),
        ({"t_max": 2.5}, "t_max must be a whole number"),
        ({"gamma": 0.0}, "gamma must be in (0, 1]"),
        ({"gamma": float("nan")}, "gamma must be in (0, 1]"),
        ({"eta_min": float("nan")}, "eta_min must be a finite number >= 0"),
    ],
)
def test_schedule_settings_are_checked(kw, words):
    with pytest.raises(ValueError) as info:
        Schedule("cosine", **kw)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"batch_size": 0}, "batch size"),
        ({"batch_size": True}, "batch size"),
        ({"l1": -1e-3}, "l1 must be"),
        ({"l2": float("inf")}, "l2 must be"),
        ({"dropout": 1.0}, "dropout must be in [0, 1)"),
        ({"dropout": "half"}, "dropout must be a number"),
    ],
)
def test_training_settings_are_checked(kw, words):
    with pytest.raises(ValueError) as info:
        TrainConfig(**kw)
    assert words in str(info.value)


@pytest.mark.parametrize("features", [("x3", "x1"), ("x1", "x1"), "x1", (1, 2)])
def test_feature_names_are_checked_when_a_pipeline_is_made(features):
    with pytest.raises(ValueError, match="feature"):
        InputPipeline("none", features)
