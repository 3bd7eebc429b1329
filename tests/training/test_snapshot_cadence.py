"""Snapshots come at a fixed rate, without bursts, and never take more than a bounded
share of the training loop's time (what keeps training fast on a busy machine)."""

from __future__ import annotations

import pytest

from nnviz.core.data import generate
from nnviz.core.optim import OptimizerConfig
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.trainer import TrainConfig
from nnviz.training.cadence import MAX_SNAPSHOT_SHARE, SNAPSHOT_INTERVAL, next_snapshot_at


def test_a_cheap_snapshot_keeps_the_fixed_rate():
    assert next_snapshot_at(1.0, 1.001, SNAPSHOT_INTERVAL, 0.001) == pytest.approx(1.0 + SNAPSHOT_INTERVAL)


def test_after_a_late_one_the_next_comes_sooner_but_not_in_a_burst():
    late = next_snapshot_at(1.0, 1.5, SNAPSHOT_INTERVAL, 0.001)
    assert late == pytest.approx(1.5 + SNAPSHOT_INTERVAL / 2)


@pytest.mark.parametrize("cost", [0.004, 0.008, 0.05])
def test_a_costly_snapshot_is_spaced_to_its_share(cost):
    now = 2.0
    at = next_snapshot_at(1.99, now, SNAPSHOT_INTERVAL, cost)
    assert cost / (cost + (at - now)) <= MAX_SNAPSHOT_SHARE + 1e-12
    assert at >= 1.99 + SNAPSHOT_INTERVAL


def test_the_trainer_says_what_its_last_snapshot_cost():
    data = generate("spiral", n=200, seed=0)
    config = DataConfig()
    s = Session(data, config, build_spec(data, config, layers=(8,)),
                TrainConfig(OptimizerConfig("adam", {"lr": 0.01}), batch_size=10, seed=0))
    assert s.trainer.last_snapshot_seconds == 0.0
    s.trainer.step(snapshot=True)
    assert 0.0 < s.trainer.last_snapshot_seconds < 5.0
