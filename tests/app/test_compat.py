"""The loss-versus-task rule is written once (core.compat) and every layer asks it."""

from __future__ import annotations

import dataclasses

import pytest

from nnviz.core import compat
from nnviz.core.compat import TOO_MANY_CLASSES, WRONG_TASK, default_loss, loss_fits, loss_mismatch
from nnviz.core.data import generate, glyph_digits
from nnviz.core.losses import LOSS_NAMES
from nnviz.core.session import DataConfig, build_spec
from nnviz.io.sources import compatibility_problem


@pytest.mark.parametrize(("loss", "task", "classes", "expected"), [
    ("mse", "regression", 0, None),
    ("softmax", "regression", 0, WRONG_TASK),
    ("mse", "classification", 2, WRONG_TASK),
    ("softmax", "classification", 10, None),
    ("svm", "classification", 10, None),
    ("logistic", "classification", 2, None),
    ("logistic", "classification", 3, TOO_MANY_CLASSES),
])
def test_rule(loss, task, classes, expected):
    assert loss_mismatch(loss, task, classes) == expected
    assert loss_fits(loss, task, classes) == (expected is None)


def test_default_loss_fits_its_task():
    for task in ("regression", "classification"):
        assert loss_fits(default_loss(task), task, 2)
    assert default_loss("regression") == "mse" and default_loss("classification") == "softmax"


def test_every_loss_fits_exactly_one_task():
    for loss in LOSS_NAMES:
        assert compat.loss_fits_task(loss, "regression") != compat.loss_fits_task(loss, "classification")


@pytest.mark.parametrize(("data", "loss"), [
    (generate("plane", n=50), "softmax"),
    (generate("spiral", n=50, arms=3), "mse"),
    (generate("spiral", n=50, arms=3), "logistic"),
    (glyph_digits(n=40), "logistic"),
    (generate("xor", n=50), "logistic"),
    (generate("plane", n=50), "mse"),
])
def test_core_and_files_agree_with_the_rule(data, loss):
    """build_spec refuses exactly what the rule refuses; a file's check says the same."""
    fits = loss_fits(loss, data.task, data.n_classes)
    dc = DataConfig()
    if not fits:
        with pytest.raises(ValueError):
            build_spec(data, dc, layers=(4,), loss=loss)
        spec = build_spec(data, dc, layers=(4,))
        outputs = 1 if loss == "logistic" else max(2, spec.output_dim)
        spec = dataclasses.replace(spec, loss=loss, output_dim=outputs)
        assert compatibility_problem(spec, (), data) is not None
    else:
        spec = build_spec(data, dc, layers=(4,), loss=loss)
        assert compatibility_problem(spec, (), data) is None
