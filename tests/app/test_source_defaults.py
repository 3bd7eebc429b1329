"""A data set's sensible defaults and the loss that fits it, without Qt: the rules the
controls apply when a user picks a data set (nnviz.app.run_settings, nnviz.io.sources)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nnviz.app.run_settings import (
    CUSTOM,
    RunSettings,
    build_session,
    fit_loss,
    loss_problem,
    with_source,
)
from nnviz.core.compat import loss_fits
from nnviz.core.data import generate
from nnviz.io.sources import OFFERED, SOURCES


def test_source_class_counts_match_the_generators():
    for name in OFFERED:
        if name == "digits":
            assert SOURCES[name].classes() == 10
            continue
        d = generate(name, n=60, noise=0.1, seed=0, **({"arms": 4} if name == "spiral" else {}))
        expected = 0 if d.task == "regression" else d.n_classes
        assert SOURCES[name].classes({"arms": 4}) == expected, name


@pytest.mark.parametrize(("loss", "task", "classes", "text"), [
    ("logistic", "classification", 3, "logistic loss needs exactly two classes; this data has 3"),
    ("mse", "classification", 2, "mean squared error is for regression; this data has 2 classes"),
    ("softmax", "regression", 0,
     "softmax cross-entropy is for classification; this data is a regression set"),
    ("svm", "regression", 0, "multiclass SVM loss is for classification; this data is a regression set"),
])
def test_loss_problem_says_why(loss, task, classes, text):
    assert loss_problem(loss, task, classes) == text and not loss_fits(loss, task, classes)


def test_loss_problem_is_none_exactly_when_compat_says_it_fits():
    for loss in ("softmax", "svm", "logistic", "mse"):
        for task, classes in (("classification", 2), ("classification", 3), ("regression", 0)):
            assert (loss_problem(loss, task, classes) is None) == loss_fits(loss, task, classes)


def test_digits_defaults_beat_the_window_defaults_and_build():
    after, notice = with_source(RunSettings(), "digits")
    assert after.data.source == "digits" and after.data.preprocess == "standardize"
    assert after.network.layers == (64,) and after.network.activations == ("relu",)
    assert after.data.n == 1797
    assert notice == ("Digits: inputs standardized, one hidden layer of 64 units, all 1,797 examples "
                      "(sensible defaults for 8x8 images)")
    session = build_session(after)
    assert session.spec.widths == [64, 64, 10]


def test_defaults_only_say_what_changed():
    s = RunSettings()
    s = replace(s, data=replace(s.data, preprocess="standardize", n=1797))
    after, notice = with_source(s, "digits")
    assert after.data.n == 1797
    assert notice == "Digits: one hidden layer of 64 units (sensible defaults for 8x8 images)"
    again, notice = with_source(after, "digits")  # already digits: nothing to apply
    assert again == after and notice == ""


def test_plane_sets_keep_the_network_and_fit_the_loss():
    after, notice = with_source(RunSettings(), "moons")
    assert after.network == RunSettings().network and notice == ""
    after, notice = with_source(RunSettings(), "multigauss")
    assert after.network.loss == "mse" and notice.startswith("Gaussian bumps: loss set to mean squared error")
    back, notice = with_source(after, "circle")
    assert back.network.loss == "softmax" and "mean squared error is for regression" in notice


def test_fit_loss_follows_the_spiral_arms():
    s = RunSettings()
    s = replace(s, network=replace(s.network, loss="logistic"))
    assert fit_loss(s) == (s, "")  # two arms
    three = replace(s, data=replace(s.data, arms=3))
    after, note = fit_loss(three)
    assert after.network.loss == "softmax"
    assert note == ("loss set to softmax cross-entropy "
                    "(logistic loss needs exactly two classes; this data has 3)")


def test_custom_data_is_left_alone():
    s = RunSettings()
    s = replace(s, data=replace(s.data, source=CUSTOM), network=replace(s.network, loss="mse"))
    assert fit_loss(s) == (s, "")
