"""What a comparison hands out at each checkpoint: small immutable figures per run.

Plain floats and tuples, no arrays, so a record is cheap to keep, to pass to another
thread and to compare; the optional :class:`~nnviz.core.snapshot.Snapshot` (for views
that draw weights or decision regions) is itself read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nnviz.core.snapshot import Snapshot


@dataclass(frozen=True)
class LayerFigures:
    """One dense layer (hidden or output) at a checkpoint, on the trainer's probe batch."""

    name: str  # "hidden 1" ... or "output"
    activation: str  # "output" for the output layer
    units: int
    dead_fraction: float | None  # ReLU units that output zero for every probe example
    saturated_fraction: float | None  # sigmoid/tanh units on a flat tail for most examples
    #: units whose pre-activation is <= 0 for every probe example, whatever the activation
    #: (a ReLU unit there is dead; a leaky ReLU unit there still passes a gradient)
    silent_fraction: float
    grad_norm: float  # ||dL/dW|| of the layer's weights on the probe batch
    weight_norm: float
    dead_since_start: int | None = None  # ReLU units dead now that were alive at the start
    #: share of (minibatch, unit) pairs of the probe examples, in the run's batch size, whose
    #: weight gradient into the unit has one sign for every weight (None: nothing moved)
    one_sign_fraction: float | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run at one checkpoint."""

    run: str
    step: int
    epoch: int
    train_loss: float
    train_accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    layers: tuple[LayerFigures, ...]
    #: share of neighbouring points of a grid over the 2-D input plane whose predicted
    #: classes differ: how long (how wiggly) the decision boundary is; None off the plane
    boundary_fraction: float | None = None
    #: how many connected pieces the decision regions form on that grid; None off the plane
    regions: int | None = None
    #: share of that grid where the class differs from the nearest split by straight lines
    nonlinear_fraction: float | None = None
    diverged_at: int | None = None  # the step whose loss was not finite (then rolled back)
    seconds: float = 0.0  # time this run spent training and being measured so far, in its process
    cpu_seconds: float = 0.0  # the CPU time of that (less than ``seconds`` on a busy machine)
    snapshot: Snapshot | None = None  # only when the runner was asked for snapshots

    @property
    def hidden(self) -> tuple[LayerFigures, ...]:
        """The hidden layers' figures (the output layer left out)."""
        return self.layers[:-1]

    def without_snapshot(self) -> RunRecord:
        """The figures alone: what to keep of every checkpoint (a snapshot holds the weights
        and maps, up to megabytes; keep only the latest one a view draws)."""
        return self if self.snapshot is None else replace(self, snapshot=None)


@dataclass(frozen=True)
class Checkpoint:
    """Every run at the same step: what a view of equal moments draws."""

    step: int
    records: tuple[RunRecord, ...]  # in the lesson's order of runs

    def without_snapshots(self) -> Checkpoint:
        """The same checkpoint with every record's figures alone."""
        return Checkpoint(self.step, tuple(r.without_snapshot() for r in self.records))

    def record(self, run: str) -> RunRecord:
        """The record of the run named ``run`` (KeyError if there is none)."""
        for r in self.records:
            if r.run == run:
                return r
        raise KeyError(run)


__all__ = ["Checkpoint", "LayerFigures", "RunRecord"]
