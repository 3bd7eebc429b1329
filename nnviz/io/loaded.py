"""What loading a file gives back, and how it becomes a training session again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnviz.core.data import Dataset
from nnviz.core.history import COLUMNS, EVAL_COLUMNS, GrowingTable, History
from nnviz.core.network import Network
from nnviz.core.preprocess import InputPipeline
from nnviz.core.session import GRID_SIZE, DataConfig, Session
from nnviz.core.spec import NetworkSpec
from nnviz.core.trainer import TrainConfig
from nnviz.io.errors import FileFormatError
from nnviz.io.network_file_contents import DataInfo
from nnviz.io.sources import compatibility_problem


def history_from_arrays(steps: np.ndarray, evals: np.ndarray) -> History:
    h = History()
    h.steps = GrowingTable.from_array(COLUMNS, np.asarray(steps, dtype=np.float64))
    h.evals = GrowingTable.from_array(EVAL_COLUMNS, np.asarray(evals, dtype=np.float64))
    return h


@dataclass(frozen=True)
class LoadedNetwork:
    """A loaded ``.nnviz`` file or JSON spec. Arrays are read-only; :meth:`to_session`
    and :meth:`network` hand out copies.

    ``kind`` is ``"network"`` for a ``.nnviz`` file, ``"spec"`` for a JSON spec (whose
    weights were initialised from the seed). ``pipeline`` is fitted whenever the file
    holds or names its data (a JSON spec without data and with preprocessing is fitted
    by :meth:`to_session` on the data given there).
    """

    path: str
    kind: str
    spec: NetworkSpec
    params: list[np.ndarray]
    pipeline: InputPipeline
    train_config: TrainConfig
    data_config: DataConfig
    data: Dataset | None
    trainer_state: dict[str, Any] | None
    history: History | None
    data_info: DataInfo | None = None
    format_version: int | None = None
    app_version: str | None = None
    created: str | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        if self.data is not None:
            return self.data.class_names
        return self.data_info.class_names if self.data_info is not None else ()

    @property
    def feature_names(self) -> tuple[str, ...]:
        if self.data is not None:
            return self.data.feature_names
        return self.data_info.feature_names if self.data_info is not None else ()

    def network(self) -> Network:
        """A fresh Network with a copy of the weights (for predictions)."""
        return Network(self.spec, [p.copy() for p in self.params])

    def check_data(self, data: Dataset) -> None:
        """Raise FileFormatError if ``data`` does not fit this network."""
        problem = compatibility_problem(self.spec, self.pipeline.features, data)
        if problem:
            raise FileFormatError(problem, self.path)

    def to_session(
        self, data: Dataset | None = None, *, grid_size: int = GRID_SIZE, track_layers: bool = False
    ) -> Session:
        """The training session again: same split, pipeline, weights, optimiser state,
        counters and RNG, so training continues exactly where it stopped.

        ``data`` replaces the file's data set (needed when the file holds none). With a
        training set of another size, the saved shuffle order is dropped and the next
        epoch starts afresh; everything else is kept.
        """
        if data is None:
            data = self.data
        if data is None:
            raise FileFormatError(
                "the file holds no data set; give one (a CSV file or a built-in data set) to train "
                "or evaluate the network", self.path,
            )
        self.check_data(data)
        try:
            session = Session(
                data, self.data_config, self.spec, self.train_config,
                network=Network(self.spec, [p.copy() for p in self.params]),
                pipeline=self.pipeline, grid_size=grid_size, track_layers=track_layers,
            )
        except ValueError as exc:
            raise FileFormatError(f"the data cannot be used with this network: {exc}", self.path) from exc
        if self.trainer_state is not None:
            state = dict(self.trainer_state)
            perm = state["perm"]
            if perm is not None and len(perm) != session.trainer.n_train:
                state["perm"], state["pos"] = None, 0
            elif perm is not None:
                state["perm"] = perm.copy()
            try:
                session.trainer.set_state(state)
            except ValueError as exc:
                raise FileFormatError(f"the saved training state does not fit: {exc}", self.path) from exc
        if self.history is not None:
            session.history = history_from_arrays(self.history.steps.array(), self.history.evals.array())
        return session
