"""Real runs for the view tests: sessions trained a little, with their snapshots.

Training is done once per test session (module-level caches), so each test only pays for
building and driving its widget.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest

from nnviz.app.runinfo import RunInfo
from nnviz.core.data import digits_like, generate
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec, demo_session
from nnviz.core.trainer import Snapshot, StepRecord, TrainConfig


@dataclass(frozen=True)
class Run:
    info: RunInfo
    snapshots: tuple[Snapshot, ...]
    records: tuple[StepRecord, ...]


def _train(session: Session, label: str, snapshots: int, every: int) -> Run:
    t = session.trainer
    snaps, records = [], []
    for _ in range(snapshots):
        for _ in range(every - 1):
            records.append(t.step())
        records.append(t.step(snapshot=True))
        snaps.append(t.last_snapshot)
    return Run(RunInfo.from_session(session, label), tuple(snaps), tuple(records))


def _session(data, layers, activation="relu", loss=None, lr=0.01, batch=16, test_fraction=0.2,
             preprocess="none") -> Session:
    cfg = DataConfig(test_fraction=test_fraction, preprocess=preprocess)
    spec = build_spec(data, cfg, layers=layers, activation=activation, loss=loss)
    train = TrainConfig(optimizer=OptimizerConfig("adam", {"lr": lr}), schedule=Schedule(),
                        batch_size=batch, seed=0)
    return Session(data, cfg, spec, train)


@functools.cache
def spiral_run() -> Run:
    """The app's demo: 2-D spiral, 2-8-8-2 ReLU (some units die by step ~400)."""
    return _train(demo_session(), "run 1: demo", snapshots=6, every=80)


@functools.cache
def wide_run() -> Run:
    """64 inputs (collapsed to a strip), 10 classes: the confusion-matrix case."""
    data = digits_like(n=600, n_features=64, n_classes=10, seed=0)
    return _train(_session(data, (16, 12), "tanh", preprocess="standardize", batch=32), "wide",
                  snapshots=4, every=10)


@functools.cache
def regression_run() -> Run:
    data = generate("multigauss", n=300, noise=0.05, seed=2)
    return _train(_session(data, (6,), "tanh"), "regression", snapshots=3, every=10)


@functools.cache
def wide_regression_run() -> Run:
    rng = np.random.default_rng(0)
    from nnviz.core.data import Dataset

    X = rng.normal(size=(200, 5))
    data = Dataset(X, X @ rng.normal(size=(5, 1)), task="regression")
    return _train(_session(data, (4,), "relu"), "wide regression", snapshots=2, every=5)


@functools.cache
def logistic_run() -> Run:
    data = generate("circle", n=200, noise=0.1, seed=3)
    return _train(_session(data, (4,), "tanh", loss="logistic"), "logistic", snapshots=2, every=5)


@functools.cache
def deep_sigmoid_run() -> Run:
    """Five sigmoid layers: the first layer's gradient is orders below the last's."""
    data = generate("circle", n=200, noise=0.1, seed=1)
    return _train(_session(data, (8, 8, 8, 8, 8), "sigmoid"), "deep sigmoid", snapshots=2, every=3)


@functools.cache
def big_run() -> Run:
    """784-256-128-10: every hidden layer and the input collapse to blocks."""
    data = digits_like(n=120, n_features=784, n_classes=10, seed=0)
    return _train(_session(data, (256, 128), "relu", batch=32, lr=0.003), "big", snapshots=2, every=2)


@pytest.fixture
def spiral() -> Run:
    return spiral_run()


@pytest.fixture
def wide() -> Run:
    return wide_run()


def click_in_view(graphics_view, viewbox, x: float, y: float, modifier=None) -> None:
    """A real mouse click (press + release) at view coordinates (x, y) of ``viewbox``."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    scene_pt = viewbox.mapViewToScene(QPointF(x, y))
    pos = graphics_view.mapFromScene(scene_pt)
    mod = Qt.KeyboardModifier.NoModifier if modifier is None else modifier
    QTest.mouseClick(graphics_view.viewport(), Qt.MouseButton.LeftButton, mod, pos)


@pytest.fixture
def click():
    return click_in_view


@functools.cache
def image_session_run() -> tuple[Run, object]:
    """784-40-12-10 on synthetic 28x28 images (pixel-named columns), standardised: the
    image views' case; with the fitted input pipeline the unit page needs."""
    from nnviz.gui.harness.bench import synthetic_images

    session = _session(synthetic_images(n=600), (40, 12), "relu", preprocess="standardize", batch=32,
                       lr=0.003)
    return _train(session, "images", snapshots=3, every=10), session.pipeline


@pytest.fixture
def images() -> Run:
    return image_session_run()[0]
