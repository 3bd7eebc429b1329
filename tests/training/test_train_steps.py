"""``nnviz train``'s loop (nnviz.cli.train.train_steps): the history it keeps in chunks is
the history of the steps one by one, and a divergence undoes the rows past the restored
step, as the per-step form did."""

from __future__ import annotations

import numpy as np

import nnviz.cli.train as train_module
from nnviz.cli import build_parser
from nnviz.cli.sessions import session_from_args


def _session(*extra: str):
    argv = ["train", "--data", "spiral", "--layers", "8,8", "--steps", "10", "--quiet", *extra]
    return session_from_args(build_parser().parse_args(argv))


def test_the_history_is_that_of_the_steps_one_by_one(monkeypatch):
    monkeypatch.setattr(train_module, "HISTORY_CHUNK", 7)  # several chunks and a remainder
    a, b = _session(), _session()
    done, seconds, diverged = train_module.train_steps(a, 250)
    assert done == 250 and seconds > 0 and diverged is None
    for _ in range(250):
        rec = b.trainer.step()
        b.history.add_step(rec.step, rec.epoch, rec.loss, rec.accuracy)
    assert np.array_equal(a.history.steps.array(), b.history.steps.array(), equal_nan=True)
    assert np.array_equal(a.trainer.network.flat, b.trainer.network.flat)
    assert a.history.steps.size == 250 and a.history.steps.column("step")[-1] == 250


def test_regression_rows_have_no_accuracy():
    s = session_from_args(build_parser().parse_args(["train", "--data", "plane", "--steps", "5", "--quiet"]))
    done, _, diverged = train_module.train_steps(s, 40)
    assert done == 40 and diverged is None
    assert np.isnan(s.history.steps.column("accuracy")).all()


def test_a_divergence_keeps_the_rows_up_to_the_restored_step():
    s = session_from_args(build_parser().parse_args(
        ["train", "--data", "plane", "--layers", "16,16", "--activation", "identity", "--optimizer", "sgd",
         "--lr", "50", "--steps", "500", "--quiet"]))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as nnviz train runs it
        done, _, diverged = train_module.train_steps(s, 500)
    assert diverged is not None
    assert done == s.trainer.step_count
    steps = s.history.steps.column("step")
    assert steps.size == s.trainer.step_count and (steps.size == 0 or steps[-1] == s.trainer.step_count)
