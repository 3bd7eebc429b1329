"""What the views need to know about a run before any snapshot arrives.

Built by the window from a :class:`~nnviz.core.session.Session` on the GUI thread each
time a run starts (open, reset, settings change); every array in it is a read-only copy,
so views may keep it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.core.session import Session
from nnviz.core.spec import NetworkSpec


def _ro(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class RunInfo:
    label: str  # e.g. "run 3: 2-8-8-2 relu, adam lr=0.01" (the loss plot legend)
    spec: NetworkSpec
    task: str  # "classification" or "regression"
    class_names: tuple[str, ...]
    input_names: tuple[str, ...]  # the network's input columns (after feature expansion)
    train_X: np.ndarray  # raw inputs, (N, D)
    train_y: np.ndarray
    test_X: np.ndarray | None
    test_y: np.ndarray | None
    extent: tuple[float, float, float, float] | None  # raw plane (x0, x1, y0, y1) for 2-D data
    batch_size: int
    n_train: int

    @classmethod
    def from_session(cls, session: Session, label: str) -> RunInfo:
        tr, te = session.split.train, session.split.test
        pipe = session.pipeline
        names = pipe.features if pipe.features else session.data.feature_names
        return cls(
            label=label,
            spec=session.spec,
            task=session.data.task,
            class_names=session.data.class_names,
            input_names=tuple(names),
            train_X=_ro(tr.X),
            train_y=_ro(tr.y),
            test_X=None if te is None else _ro(te.X),
            test_y=None if te is None else _ro(te.y),
            extent=session.plane_extent() if session.is_2d else None,
            batch_size=session.train_config.batch_size,
            n_train=len(tr),
        )
