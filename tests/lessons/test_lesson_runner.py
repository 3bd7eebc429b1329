"""The runner: runs in their own processes, in lockstep by step count, immutable records;
and the figures it measures on a real trainer."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import numpy as np
import pytest

from nnviz.app.run_settings import NetworkSettings, RunSettings, build_session
from nnviz.lessons import Checkpoint, ComparisonRunner, load_lesson, run_lesson
from nnviz.lessons.runner import LessonRunError, count_regions, measure_run, nonlinear_fraction

TINY = {"title": "tiny", "claim": "c",
        "base": {"source": "xor", "n": 120, "layers": [4], "activations": "tanh", "lr": 0.05},
        "runs": [{"name": "one", "settings": {"seed": 1}},
                 {"name": "two", "settings": {"seed": 2, "layers": [6], "activations": "relu"}}],
        "steps": 60, "checkpoint_every": 20,
        "checks": [{"run": "one", "metric": "train_loss", "op": "<", "right": {"run": "one",
                    "metric": "train_loss", "at": "start"}}]}


def test_two_tiny_runs_are_measured_at_equal_steps():
    lesson = load_lesson(json.dumps(TINY).encode(), "tiny")
    seen: list[Checkpoint] = []
    result = run_lesson(lesson, seen.append)
    assert [cp.step for cp in seen] == [0, 20, 40, 60]
    for cp in seen:  # lockstep: every run's record of a checkpoint is at that step
        assert [r.run for r in cp.records] == ["one", "two"]
        assert {r.step for r in cp.records} == {cp.step}
    assert result.complete and result.verdict.passed, result.verdict.report()
    one_end = seen[-1].record("one")
    assert one_end.train_loss < seen[0].record("one").train_loss
    assert len(one_end.layers) == 2 and one_end.layers[0].activation == "tanh"
    assert seen[-1].record("two").layers[0].dead_fraction is not None
    # the share of one-sign weight updates, per dense layer, measured in the child
    assert all(lay.one_sign_fraction is None or 0.0 <= lay.one_sign_fraction <= 1.0 for lay in one_end.layers)
    assert one_end.layers[-1].one_sign_fraction is not None
    assert one_end.boundary_fraction is not None and one_end.regions >= 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        one_end.train_loss = 0.0  # type: ignore[misc]
    assert result.history()["two"][-1] == seen[-1].record("two")


def test_snapshots_come_with_each_checkpoint_and_are_not_kept():
    lesson = load_lesson(json.dumps({**TINY, "steps": 20, "checkpoint_every": 10}).encode(), "tiny")
    seen: list[Checkpoint] = []
    result = run_lesson(lesson, seen.append, snapshots=True)
    snap = seen[-1].record("one").snapshot
    assert snap is not None and snap.step == 20 and snap.grid is not None
    assert not snap.params[0].flags.writeable
    assert all(r.snapshot is None for cp in result.checkpoints for r in cp.records)
    assert seen[-1].record("one").without_snapshot().train_loss == seen[-1].record("one").train_loss


def test_the_runner_stops_early_and_ends_its_children():
    runs = [("a", RunSettings()), ("b", RunSettings())]
    runner = ComparisonRunner(runs, [0, 5, 10, 15])
    got = []
    for cp in runner:
        got.append(cp.step)
        if cp.step == 5:
            runner.stop()
    assert got == [0, 5]
    assert runner._procs == []  # closed: every child joined


def test_stop_ends_runs_on_their_way_to_a_checkpoint():
    stop = threading.Event()
    runner = ComparisonRunner([("a", RunSettings()), ("b", RunSettings())], [0, 10**7], stop=stop)
    it = iter(runner)
    assert next(it).step == 0
    threading.Timer(0.5, stop.set).start()
    t0 = time.monotonic()
    assert list(it) == []  # ten million steps were not waited for
    assert time.monotonic() - t0 < 10
    assert runner._procs == []


def test_a_child_that_dies_is_reported_by_name():
    runner = ComparisonRunner([("a", RunSettings()), ("victim", RunSettings())], [0, 10**7])
    it = iter(runner)
    next(it)
    runner._procs[1].kill()
    with pytest.raises(LessonRunError, match="'victim' stopped unexpectedly"):
        next(it)
    assert runner._procs == []
    # dead before its next command: the broken pipe is reported the same way
    runner = ComparisonRunner([("a", RunSettings()), ("victim", RunSettings())], [0, 5, 10])
    it = iter(runner)
    next(it)
    runner._procs[1].kill()
    runner._procs[1].join()
    with pytest.raises(LessonRunError, match="'victim' stopped unexpectedly"):
        next(it)


def test_a_run_that_cannot_be_built_names_itself():
    bad = dataclasses.replace(RunSettings(), network=NetworkSettings(layers=(4,), activations=("relu",),
                                                                     loss="mse"))
    runner = ComparisonRunner([("ok", RunSettings()), ("broken", bad)], [0, 5])
    with pytest.raises(LessonRunError, match="broken"):
        list(runner)


def test_runner_arguments_are_checked():
    with pytest.raises(ValueError, match=r"1\.\.8 runs"):
        ComparisonRunner([(f"r{i}", RunSettings()) for i in range(9)], [0])
    with pytest.raises(ValueError, match="rising"):
        ComparisonRunner([("a", RunSettings())], [0, 10, 10])


def test_measure_run_in_this_process_matches_the_snapshot():
    session = build_session(RunSettings(), grid_size=24)
    session.trainer.run(30)
    rec = measure_run("x", session.trainer, None, 0.0, keep_snapshot=True)
    snap = rec.snapshot
    assert rec.step == 30 and rec.train_loss == snap.train_loss
    assert [lay.grad_norm for lay in rec.layers] == [lay.grad_norm for lay in snap.layers]
    assert [lay.dead_fraction for lay in rec.hidden] == [lay.dead_fraction for lay in snap.layers[:-1]]


def test_region_measures_on_drawn_maps():
    half = np.zeros((8, 8), dtype=int)
    half[:, 4:] = 1
    xs = ys = np.linspace(-1, 1, 8)
    assert count_regions(half) == 2 and nonlinear_fraction(half, xs, ys) == 0.0
    islands = half.copy()
    islands[1, 1] = islands[6, 1] = 1
    assert count_regions(islands) == 4
    assert nonlinear_fraction(islands, xs, ys) > 0


def _regions_by_search(labels: np.ndarray) -> int:
    h, w = labels.shape
    seen = np.zeros(labels.shape, bool)
    count = 0
    for i in range(h):
        for j in range(w):
            if seen[i, j]:
                continue
            count += 1
            todo = [(i, j)]
            seen[i, j] = True
            while todo:
                r, c = todo.pop()
                for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                    if 0 <= rr < h and 0 <= cc < w and not seen[rr, cc] and labels[rr, cc] == labels[r, c]:
                        seen[rr, cc] = True
                        todo.append((rr, cc))
    return count


def test_region_count_agrees_with_a_plain_search():
    rng = np.random.default_rng(0)
    for _ in range(100):
        h, w = rng.integers(1, 20, 2)
        labels = rng.integers(0, rng.integers(1, 4), (h, w))
        assert count_regions(labels) == _regions_by_search(labels)
    snake = np.zeros((24, 24), dtype=int)
    snake[::2, :] = 1
    for r in range(1, 24, 2):
        snake[r, -1 if (r // 2) % 2 == 0 else 0] = 1
    assert count_regions(snake) == _regions_by_search(snake) == 13
