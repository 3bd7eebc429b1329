"""The settings schema: each setting declared once, the CLI's flags made from it, its
live set the trainer's, its limits the core's."""

from __future__ import annotations

import dataclasses

import pytest

from nnviz.app import settings_schema as schema
from nnviz.app.run_settings import LIVE_FIELDS, DataSettings, NetworkSettings, TrainSettings
from nnviz.cli import build_parser
from nnviz.core.data import NOISE_RANGE, DataError, check_generation
from nnviz.core.optim import Schedule
from nnviz.core.session import demo_session
from nnviz.core.trainer import LIVE_CONFIG_FIELDS
from nnviz.core.trainer import LIVE_FIELDS as TRAINER_LIVE

GROUPS = {"data": DataSettings, "network": NetworkSettings, "train": TrainSettings}
#: train options that are not run settings (how long, where to write, what to read)
NOT_SETTINGS = {"help", "network", "data", "label", "steps", "epochs", "out", "log", "eval_every", "quiet"}


def _train_parser():
    sub = next(a for a in build_parser()._actions if isinstance(a.choices, dict))
    return sub.choices["train"]


def test_each_setting_declared_once():
    names = [s.name for s in schema.SETTINGS]
    flags = [s.flag for s in schema.SETTINGS if s.flag]
    assert len(names) == len(set(names)) and len(flags) == len(set(flags))
    for s in schema.SETTINGS:
        assert s.group in GROUPS and s.label
        assert (s.flag is None) == (s.cli is None) and (s.cli is None or s.cli in schema.CLI_KINDS)
        if s.cli == "choice":
            assert s.choices
        if s.choices and s.default is not None:
            for v in s.default if isinstance(s.default, tuple) else (s.default,):
                assert v in s.choices
        if s.range and s.default is not None:
            assert s.range[0] <= s.default <= s.range[1]


def test_defaults_are_the_run_settings_defaults():
    for s in schema.SETTINGS:
        if not s.field:
            continue
        default = getattr(GROUPS[s.group](), s.name)
        if isinstance(default, Schedule):
            default = default.name
        assert default == s.default, s.name


def test_cli_train_options_are_generated_from_the_schema():
    t = _train_parser()
    actions = {a.dest: a for a in t._actions}
    assert set(actions) - NOT_SETTINGS == {s.dest for s in schema.cli_settings()}
    for s in schema.cli_settings():
        a = actions[s.dest]
        assert a.option_strings == [s.flag] and a.default is None and a.help == s.help
        if s.cli == "choice":
            assert tuple(a.choices) == s.choices


def test_live_set_is_what_the_trainer_accepts():
    assert set(schema.LIVE) == set(TRAINER_LIVE) == set(LIVE_FIELDS)
    trainer = demo_session().trainer
    values = {"schedule": Schedule("step"), "batch_size": 7, "l1": 0.001, "l2": 0.002, "dropout": 0.1}
    assert set(values) == set(LIVE_CONFIG_FIELDS) == set(schema.LIVE) - {"lr"}
    trainer.update_config(**values)
    trainer.set_learning_rate(0.03)
    assert trainer.config.batch_size == 7 and trainer.config.optimizer.lr == pytest.approx(0.03)
    for s in schema.SETTINGS:
        if not s.live and s.group == "train" and s.field:
            with pytest.raises(ValueError):
                trainer.update_config(**{s.name: s.default})


def test_noise_range_is_the_cores():
    noise = schema.setting("noise")
    assert noise.range is NOISE_RANGE
    lo, hi = NOISE_RANGE
    check_generation("spiral", 100, lo)
    check_generation("spiral", 100, hi)
    with pytest.raises(DataError):
        check_generation("spiral", 100, hi + 0.5)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        schema.setting("lr").live = False  # type: ignore[misc]


def test_every_loss_has_a_label():
    from nnviz.core.losses import LOSS_NAMES

    loss = schema.setting("loss")
    assert {c for c, _ in loss.choice_labels} == set(LOSS_NAMES)
    assert all(loss.choice_label(n) != n for n in LOSS_NAMES)
    assert schema.setting("init").choice_label("torch") == "torch"
