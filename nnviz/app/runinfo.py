"""What the views need to know about a run before any snapshot arrives.

Built by the window from a :class:`~nnviz.core.session.Session` on the GUI thread each
time a run starts (open, reset, settings change); every array in it is read-only, so views
may keep it. The session's data arrays are read-only already and are shared, not copied:
a data set of millions of rows is not held twice by the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnviz.core.session import Session
from nnviz.core.spec import NetworkSpec

#: the most evaluation points a file's history puts back on the loss plot (one Python call
#: each); a longer history is thinned evenly, its last point kept
MAX_REPLAY_EVALS = 20_000
#: step counts a float64 column (the history, the plots) holds exactly
MAX_STEP = 2**53


class RunError(ValueError):
    """A run the window cannot show or start; the message says why. The run shown before
    is left as it was."""


def _read_only(a: np.ndarray) -> bool:
    """True when nobody can write ``a``'s values: it and every array it views are read-only."""
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return a is None or isinstance(a, bytes)


def _ro(a: np.ndarray | None) -> np.ndarray | None:
    """``a`` itself when nothing can change it, else a read-only copy."""
    if a is None:
        return None
    if isinstance(a, np.ndarray) and _read_only(a):
        return a
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
    #: the data set's name ("spiral", "faces.csv", "MNIST ..."): the runs list shows it and
    #: compares runs on the same data set across noise or size changes
    data_name: str = ""

    @classmethod
    def from_session(cls, session: Session, label: str) -> RunInfo:
        tr, te = session.split.train, session.split.test
        pipe = session.pipeline
        names = pipe.features if pipe.features else session.data.feature_names
        extent = session.plane_extent() if session.is_2d else None
        if extent is not None and not all(math.isfinite(v) for v in extent):
            raise RunError("the data's range is too wide to draw its plane")
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
            extent=extent,
            batch_size=session.train_config.batch_size,
            n_train=len(tr),
            data_name=str(session.data.name or ""),
        )


@dataclass(frozen=True)
class Replay:
    """A session's loss history as the loss plot takes it back (a file brings its curves
    along): read and checked before the run starts, so putting it on the plot cannot fail
    half way. The arrays are read-only copies (the worker owns the session afterwards)."""

    steps: np.ndarray  # (n,) float64, with losses, accuracies (None: regression) and epochs
    losses: np.ndarray
    accuracies: np.ndarray | None
    epochs: np.ndarray
    evals: tuple[tuple, ...]  # (step, epoch, train loss, test loss, test acc, train acc)

    @classmethod
    def from_session(cls, session: Session) -> Replay:
        steps_table = session.history.steps
        col = steps_table.column if steps_table.size else (lambda _name: np.zeros(0))
        steps, epochs = col("step"), col("epoch")
        for name, values in (("step", steps), ("epoch", epochs)):
            if values.size and not (np.all(np.isfinite(values)) and np.all(np.abs(values) <= MAX_STEP)):
                raise RunError(f"its history holds {name} counts beyond {MAX_STEP:,}")
        acc = col("accuracy")
        return cls(
            steps=_frozen(steps), losses=_frozen(col("loss")),
            accuracies=None if np.all(np.isnan(acc)) else _frozen(acc), epochs=_frozen(epochs),
            evals=_eval_rows(session.history.evals.array(), steps, epochs),
        )

    def apply(self, loss_plot) -> None:
        """Put the history on ``loss_plot`` (a :class:`~nnviz.gui.views.loss_plot.LossPlot`)."""
        if self.steps.size:
            loss_plot.add_steps(self.steps, self.losses, self.accuracies, self.epochs)
        for row in self.evals:
            loss_plot.add_eval(*row)
        loss_plot.redraw()


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


def _eval_rows(evals: np.ndarray, steps: np.ndarray, epochs: np.ndarray) -> tuple[tuple, ...]:
    """The evaluation rows for :meth:`LossPlot.add_eval`, at most :data:`MAX_REPLAY_EVALS`,
    each with the epoch of its step (vectorised: a long history is many rows)."""
    if not len(evals):
        return ()
    if len(evals) > MAX_REPLAY_EVALS:
        keep = np.unique(np.linspace(0, len(evals) - 1, MAX_REPLAY_EVALS).round().astype(np.int64))
        evals = evals[keep]
    ev_step = evals[:, 0]
    finite = np.isfinite(ev_step) & (np.abs(ev_step) <= MAX_STEP)
    evals, ev_step = evals[finite], ev_step[finite]
    epoch = np.zeros(len(evals), np.int64)
    if steps.size:
        i = np.searchsorted(steps, ev_step, side="right") - 1
        epoch = np.where(i >= 0, epochs[np.clip(i, 0, None)], 0).astype(np.int64)

    def value(v: float) -> float | None:
        return None if math.isnan(v) else float(v)

    return tuple(
        (int(s), int(e), value(tr_loss), value(te_loss), value(te_acc), value(tr_acc))
        for (s, e), (_, tr_loss, tr_acc, te_loss, te_acc) in zip(zip(ev_step, epoch, strict=True),
                                                                 evals, strict=True)
    )
