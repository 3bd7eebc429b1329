"""A training session: raw data, its split and input pipeline, the network and its
trainer, and the history. This is the unit that files save and the window shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnviz.core.compat import TOO_MANY_CLASSES, WRONG_TASK, default_loss, loss_mismatch
from nnviz.core.data import Dataset, Split, generate, split
from nnviz.core.history import History
from nnviz.core.init import SCALED_INIT, initial_params
from nnviz.core.network import Network
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.preprocess import InputPipeline
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.trainer import GridSpec, TrainConfig, Trainer

GRID_SIZE = 48
GRID_FLOPS = 3e7
#: a snapshot's maps of every unit over the grid hold at most this many values (16 MiB of
#: float64: a 65,536-unit layer over the smallest grid would otherwise be 134 MB a frame)
GRID_MAP_VALUES = 1 << 21
MIN_GRID = 16


@dataclass(frozen=True)
class DataConfig:
    """How the training data is split and transformed before it reaches the network."""

    test_fraction: float = 0.2
    preprocess: str = "none"
    features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        if not 0 <= self.test_fraction < 1:
            raise ValueError("the test fraction must be in [0, 1)")
        InputPipeline(self.preprocess, self.features)  # validates the names

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_fraction": self.test_fraction,
            "preprocess": self.preprocess,
            "features": list(self.features),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataConfig:
        return cls(
            float(d.get("test_fraction", 0.2)), d.get("preprocess", "none"),
            tuple(d.get("features", ())),
        )


def output_units(loss: str, data: Dataset) -> int:
    if loss == "logistic":
        return 1
    if loss == "mse":
        return data.target_dim
    return max(data.n_classes, 2)


def build_spec(
    data: Dataset,
    data_config: DataConfig,
    layers: list[int] | tuple[int, ...] = (8, 8),
    activation: str | list[str] = "relu",
    loss: str | None = None,
    init: str = "torch",
    residual: bool = False,
    dtype: str = "float64",
    alpha: float | None = None,
    init_std: float | None = None,
) -> NetworkSpec:
    """A spec whose input and output widths fit ``data`` after the pipeline (``init_std``:
    the ``normal`` initialiser's standard deviation, ignored by the other initialisers)."""
    if loss is None:
        loss = default_loss(data.task)
    problem = loss_mismatch(loss, data.task, data.n_classes)
    if problem == WRONG_TASK:
        raise ValueError(
            f"the {loss} loss does not fit {data.task} data "
            f"({'use mse' if data.task == 'regression' else 'use softmax, svm or logistic'})"
        )
    if problem == TOO_MANY_CLASSES:
        raise ValueError(f"the logistic loss is for two classes; the data has {data.n_classes}")
    acts = [activation] * len(layers) if isinstance(activation, str) else list(activation)
    if len(acts) != len(layers):
        raise ValueError("give one activation, or one per hidden layer")
    pipeline = InputPipeline(data_config.preprocess, data_config.features)
    return NetworkSpec(
        input_dim=pipeline.output_dim(data.n_features),
        output_dim=output_units(loss, data),
        hidden=tuple(LayerSpec(int(u), a, alpha) for u, a in zip(layers, acts, strict=True)),
        loss=loss,
        init=init,
        residual=residual,
        dtype=dtype,
        init_std=init_std if init == SCALED_INIT else None,
    )


@dataclass(init=False)
class Session:
    """Everything about one model being trained. Owned by one thread at a time.

    The training settings are the trainer's (:attr:`train_config` reads
    ``trainer.config``): one copy, so a live change made through the trainer is what a
    file saves."""

    data: Dataset
    data_config: DataConfig
    spec: NetworkSpec
    network: Network | None
    pipeline: InputPipeline | None
    grid_size: int
    history: History
    track_layers: bool

    def __init__(
        self,
        data: Dataset,
        data_config: DataConfig,
        spec: NetworkSpec,
        train_config: TrainConfig,
        network: Network | None = None,
        pipeline: InputPipeline | None = None,
        grid_size: int = GRID_SIZE,
        history: History | None = None,
        track_layers: bool = False,
    ) -> None:
        self.data, self.data_config, self.spec = data, data_config, spec
        self.network, self.pipeline, self.grid_size = network, pipeline, grid_size
        self.history = History() if history is None else history
        self.track_layers = track_layers
        self.split: Split = split(self.data, self.data_config.test_fraction, train_config.seed)
        if self.pipeline is None or not self.pipeline.fitted:
            self.pipeline = InputPipeline(
                self.data_config.preprocess, self.data_config.features
            ).fit(self.split.train.X)
        if self.network is None:
            # initial_params, not Network.initialised: it passes the spec's init_std
            self.network = Network(self.spec, initial_params(self.spec, train_config.seed))
        tr, te = self.split.train, self.split.test
        self.trainer = Trainer(
            self.network,
            train_config,
            self.pipeline.transform(tr.X),
            tr.y,
            None if te is None else self.pipeline.transform(te.X),
            None if te is None else te.y,
            grid=self._grid(),
            track_layers=self.track_layers,
        )

    @property
    def train_config(self) -> TrainConfig:
        """The training settings in force: the trainer's own."""
        return self.trainer.config

    @train_config.setter
    def train_config(self, config: TrainConfig) -> None:
        # kept for callers that resynced the old copy by hand; only the trainer's own
        # config may be assigned (change settings through the trainer)
        if config != self.trainer.config:
            raise ValueError("change training settings through session.trainer, not train_config")

    @property
    def is_2d(self) -> bool:
        return self.data.n_features == 2

    def plane_extent(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) of the raw input plane, with a margin."""
        X = self.data.X
        lo, hi = X.min(axis=0), X.max(axis=0)
        # in halves and clipped: hi - lo overflows for values beyond about ±9e307
        pad = np.maximum(0.2 * (hi / 2 - lo / 2), 1e-6)
        big = np.finfo(np.float64).max
        with np.errstate(over="ignore"):
            lo, hi = np.maximum(lo - pad, -big), np.minimum(hi + pad, big)
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])

    def _grid(self) -> GridSpec | None:
        if not self.is_2d or self.grid_size <= 0:
            return None
        x0, x1, y0, y1 = self.plane_extent()
        # a coarser grid for wide networks keeps a snapshot's cost bounded
        n_params = max(self.spec.parameter_count(), 1)
        size = int(np.clip(np.sqrt(GRID_FLOPS / (2 * n_params)), MIN_GRID, self.grid_size))
        units = sum(layer.units for layer in self.spec.hidden) + self.spec.output_dim
        size = max(2, min(size, int(np.sqrt(GRID_MAP_VALUES / units))))
        # in quarters, then scaled back (exact): x1 - x0 overflows near the float64 limit
        xs = np.linspace(x0 / 4, x1 / 4, size) * 4
        ys = np.linspace(y0 / 4, y1 / 4, size) * 4
        gx, gy = np.meshgrid(xs, ys)
        points = np.stack([gx.ravel(), gy.ravel()], axis=1)
        return GridSpec(xs, ys, self.pipeline.transform(points))

    def predict_raw(self, X_raw: np.ndarray) -> np.ndarray:
        """Scores for raw inputs, through the stored pipeline."""
        return self.network.scores(self.pipeline.transform(X_raw).astype(self.network.dtype))


def demo_session() -> Session:
    """What the app opens on: a two-arm spiral and a small ReLU network trained by Adam."""
    data = generate("spiral", n=500, noise=0.1, seed=1, arms=2)
    data_config = DataConfig(test_fraction=0.2)
    spec = build_spec(data, data_config, layers=(8, 8), activation="relu")
    train = TrainConfig(
        optimizer=OptimizerConfig("adam", {"lr": 0.01}), schedule=Schedule(), batch_size=10, seed=0
    )
    return Session(data, data_config, spec, train)
