"""RunSettings.pending_fields: exactly which settings wait for Reset, named "group.field"
so the controls can mark them; and the weight std carried from settings to the network."""

from __future__ import annotations

from dataclasses import fields, replace

from nnviz.app.run_settings import (
    LIVE_FIELDS,
    NetworkSettings,
    RunSettings,
    build_session,
    settings_from_session,
)
from nnviz.core.optim import Schedule


def test_nothing_pending_for_equal_settings():
    s = RunSettings()
    assert s.pending_fields(RunSettings()) == frozenset() and not s.needs_reset(RunSettings())


def test_each_non_live_field_is_named():
    running = RunSettings()
    s = replace(running, network=replace(running.network, layers=(4, 4), activations=("tanh", "tanh")),
                data=replace(running.data, source="circle", preprocess="standardize"),
                train=replace(running.train, seed=5, optimizer="sgd"))
    assert s.pending_fields(running) == {
        "network.layers", "network.activations", "data.source", "data.preprocess", "train.seed",
        "train.optimizer",
    }
    assert s.needs_reset(running)


def test_live_fields_never_wait():
    running = RunSettings()
    t = replace(running.train, lr=0.5, batch_size=3, l1=0.1, l2=0.1, dropout=0.2, schedule=Schedule("step"))
    s = replace(running, train=t)
    assert s.pending_fields(running) == frozenset() and not s.needs_reset(running)
    assert set(s.live_changes(running)) == {"lr", "batch_size", "l1", "l2", "dropout", "schedule"}


def test_names_are_dataclass_fields():
    s = RunSettings()
    every = {f"{g}.{f.name}" for g in ("data", "network", "train") for f in fields(getattr(s, g))}
    assert {f"train.{k}" for k in LIVE_FIELDS} <= every


def test_init_std_counts_only_for_the_normal_initialiser():
    running = RunSettings()
    idle_std = replace(running, network=replace(running.network, init_std=5.0))  # init is torch
    assert idle_std.pending_fields(running) == frozenset()
    normal = replace(running, network=replace(running.network, init="normal", init_std=5.0))
    assert normal.pending_fields(running) == {"network.init", "network.init_std"}
    again = replace(normal, network=replace(normal.network, init_std=2.0))
    assert again.pending_fields(normal) == {"network.init_std"}
    back = replace(normal, network=replace(normal.network, init="xavier_normal"))
    assert back.pending_fields(normal) == {"network.init"}


def test_init_std_reaches_the_network_and_comes_back():
    s = RunSettings(network=NetworkSettings(layers=(16,), activations=("sigmoid",), init="normal",
                                            init_std=4.0))
    session = build_session(s)
    assert session.spec.init_std == 4.0
    assert settings_from_session(session)[0].network.init_std == 4.0
    other = build_session(replace(s, network=replace(s.network, init="torch")))
    assert other.spec.init_std is None
    assert settings_from_session(other)[0].network.init_std == 1.0
