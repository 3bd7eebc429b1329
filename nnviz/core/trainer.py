"""The training loop: shuffled minibatches, optimiser steps, and on request snapshots of
everything the views draw.

A :class:`Trainer` is owned by one thread. ``step()`` returns a tiny immutable
:class:`StepRecord`; ``step(snapshot=True)`` also builds a :class:`Snapshot` whose arrays
are read-only copies, safe to hand to another thread.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from nnviz.core import stats
from nnviz.core.images import predict_examples
from nnviz.core.network import Network, Workspace, split_flat
from nnviz.core.optim import Optimizer, OptimizerConfig, Schedule, all_finite
from nnviz.core.snapshot import GridMaps, GridSpec, LayerSnapshot, Snapshot, freeze, measure_layer
from nnviz.core.stats import MAX_CONFUSION_SIDE, confusion_block, confusion_matrix

# the Snapshot contract lives in nnviz.core.snapshot and the confusion helpers in
# nnviz.core.stats; both stay importable from here
__all__ = ["MAX_CONFUSION_SIDE", "DivergedError", "GridMaps", "GridSpec", "LayerSnapshot", "LayerStep",
           "Snapshot", "StepRecord", "TrainConfig", "Trainer", "confusion_block", "confusion_matrix"]

#: the probe batch for histograms and unit statistics: fixed, so snapshots compare
PROBE_SIZE = 256
#: examples evaluated per split in a snapshot (a fixed sample beyond this)
EVAL_LIMIT = 4096
#: work budgets (floating-point operations) for one snapshot, so that a snapshot every
#: 33 ms costs a small share of training time whatever the network's size. Past the
#: probe budget the step's own minibatch stands in for the probe batch (its forward and
#: backward passes are already done); past the evaluation budget the loss is evaluated
#: on a smaller fixed sample (reported in ``Snapshot.eval_examples``).
PROBE_FLOPS = 2e7
EVAL_FLOPS = 3e7
MIN_EVAL = 64
#: steps between the checkpoints a diverged run falls back to
CHECKPOINT_EVERY = 32
MAX_BATCH = 1_000_000
#: training sets up to this size are copied in shuffled order once per epoch, so that a
#: minibatch is a slice rather than a gather (two fewer NumPy calls a step) ...
PRESHUFFLE_BYTES = 64 << 20
#: ... when a minibatch is smaller than this. A bigger one is gathered into arrays kept for
#: its size: the calls cost little next to its bytes, and gathering one minibatch at a time
#: (it stays in cache) beats copying the whole set each epoch (784-wide inputs, batch 128:
#: 65 instead of 100 us a step)
PRESHUFFLE_BATCH_BYTES = 64 << 10
#: preallocated arrays for one batch size (both workspaces) stay within this size; bigger
#: batches allocate
WORKSPACE_BYTES = 64 << 20


class DivergedError(RuntimeError):
    """The loss, the weights or the optimiser's state became NaN or infinite; the trainer
    holds its last finite state (``restored_step``). ``cause`` says which, for messages."""

    def __init__(self, step: int, restored_step: int | None = None, cause: str = "the loss"):
        super().__init__(f"diverged at step {step}")
        self.step = step
        self.restored_step = restored_step
        self.cause = cause


#: the :class:`TrainConfig` fields a running trainer takes (:meth:`Trainer.update_config`)
LIVE_CONFIG_FIELDS = ("schedule", "batch_size", "l1", "l2", "dropout")
#: every setting that applies while training, without a new network: the learning rate
#: (:meth:`Trainer.set_learning_rate`) and the fields above
LIVE_FIELDS = ("lr", *LIVE_CONFIG_FIELDS)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimiser, schedule, batch size, regularisation, seed."""

    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: Schedule = field(default_factory=Schedule)
    batch_size: int = 10
    l2: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if (isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int)
                or not 1 <= self.batch_size <= MAX_BATCH):
            raise ValueError(f"the batch size must be an integer in 1..{MAX_BATCH:,}")
        for name in ("l2", "l1", "dropout"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
                raise ValueError(f"{name} must be a number, not {v!r}")
        for name in ("l2", "l1"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, not {v:g}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), not {self.dropout:g}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ValueError("the seed must be a non-negative integer")

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.to_dict(),
            "schedule": self.schedule.to_dict(),
            "batch_size": self.batch_size,
            "l2": self.l2,
            "l1": self.l1,
            "dropout": self.dropout,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = dict(d)
        opt = OptimizerConfig.from_dict(d.pop("optimizer", {}))
        sched = Schedule.from_dict(d.pop("schedule", {}))
        return cls(optimizer=opt, schedule=sched, **d)


class LayerStep(NamedTuple):
    """Per hidden layer, per step (only when the trainer tracks layer statistics)."""

    dead: float | None
    saturated: float | None
    grad_norm: float


class StepRecord(NamedTuple):
    """One minibatch: the loss is from the forward pass that made this step's gradients."""

    step: int  # steps completed, this one included
    epoch: int  # passes over the training set completed after this step
    loss: float  # data loss on the minibatch
    reg_loss: float  # L1/L2 term, reported apart
    accuracy: float | None  # on the minibatch; None for regression
    lr: float
    layers: tuple[LayerStep, ...] | None = None


#: networks with more outputs get no example predictions in their snapshots (the gallery)
MAX_GALLERY_OUTPUTS = 1024

class Trainer:
    """Trains ``network`` on prepared (already preprocessed) arrays."""

    #: per layer, the units dead at the run's start (LayerSnapshot.dead_at_start). Not in get_state:
    #: a rollback keeps it; a trainer made for a file records it at its first snapshot (when opened)
    _dead_at_start: tuple[np.ndarray | None, ...] | None = None

    def __init__(
        self,
        network: Network,
        config: TrainConfig,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        grid: GridSpec | None = None,
        track_layers: bool = False,
    ):
        self.network = network
        self.config = config
        dt = network.dtype
        # float64 data beyond float32's range becomes inf here; the first step then
        # reports a divergence instead of a warning going to the terminal
        with np.errstate(over="ignore"):
            self.X = np.ascontiguousarray(X_train, dtype=dt)
            self.X_test = None if X_test is None else np.ascontiguousarray(X_test, dtype=dt)
        self.y = self._targets(y_train)
        self.y_test = None if y_test is None else self._targets(y_test)
        if self.X.shape[1] != network.spec.input_dim:
            raise ValueError(
                f"the data has {self.X.shape[1]} input columns; the network expects "
                f"{network.spec.input_dim}"
            )
        self.grid = grid
        self.track_layers = track_layers
        self.optimizer = Optimizer(config.optimizer, [network.flat], layout=network.shapes)
        self._grad_flat = np.zeros_like(network.flat)
        self._grad_views = split_flat(self._grad_flat, network.shapes)
        self._flat_params, self._flat_grads = [network.flat], [self._grad_flat]
        self._init_step_caches()
        self.rng = np.random.default_rng(config.seed)
        self.step_count = 0
        self.epoch = 0
        self._perm: np.ndarray | None = None
        self._pos = 0
        self.diverged_at: int | None = None
        self.last_snapshot: Snapshot | None = None
        self.last_snapshot_seconds = 0.0  # what the last one cost: the loop bounds their share
        self._edges: dict[tuple[int, str], np.ndarray] = {}
        sample_rng = np.random.default_rng(12345)
        n = len(self.X)
        n_params = max(network.spec.parameter_count(), 1)
        self._probe = np.sort(sample_rng.permutation(n)[: min(PROBE_SIZE, n)])
        self._probe_fits = 6 * n_params * len(self._probe) <= PROBE_FLOPS
        n_eval = int(np.clip(EVAL_FLOPS / (2 * n_params), MIN_EVAL, EVAL_LIMIT))
        self._eval_train = np.sort(sample_rng.permutation(n)[: min(n_eval, n)])
        # a drawn sample of the test split too: its first rows are one class when a file
        # lists its examples class by class (the split keeps the file's order)
        n_test = 0 if self.X_test is None else len(self.X_test)
        self._eval_test = (np.arange(n_test) if n_test <= n_eval
                           else np.sort(sample_rng.permutation(n_test)[:n_eval]))
        self._pending: dict[str, Any] | None = None
        self._checkpoint = self.get_state()

    def _init_step_caches(self) -> None:
        """What :meth:`step` reuses: derived from the data and the network, never saved."""
        net = self.network
        loss = net.loss.name
        self._accuracy_kind = {"softmax": "argmax", "svm": "argmax", "logistic": "sign"}.get(loss)
        c = net.spec.output_dim
        y = self.y
        # the fast softmax reads scores through flat indices, valid for class indices only
        self._y_valid = loss == "softmax" and (len(y) == 0 or (int(y.min()) >= 0 and int(y.max()) < c))
        self._preshuffle = self.X.nbytes + self.y.nbytes <= PRESHUFFLE_BYTES
        self._row_bytes = (self.X[:1].nbytes + self.y[:1].nbytes) if len(self.X) else 0
        self._shuffled_for: np.ndarray | None = None
        self._X_shuffled = self._y_shuffled = None
        self._workspaces: dict[tuple[int, bool], Workspace] = {}  # by batch size and leanness
        self._gathered: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        widths = sum(w[1] for w, _ in net.spec.layer_shapes())
        # a workspace holds 6 arrays per unit and a lean one 3, and a trainer may keep both
        row_bytes = 9 * max(widths, 1) * net.dtype.itemsize
        self._max_workspace_rows = WORKSPACE_BYTES // row_bytes

    # copies and pickles keep the gradient views on the flat gradient buffer (see Network);
    # the per-step caches are rebuilt rather than copied
    _STEP_CACHES = ("_grad_views", "_flat_params", "_flat_grads", "_shuffled_for", "_X_shuffled",
                    "_y_shuffled", "_workspaces", "_gathered")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for k in self._STEP_CACHES:
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._grad_views = split_flat(self._grad_flat, self.network.shapes)
        self._flat_params, self._flat_grads = [self.network.flat], [self._grad_flat]
        self._init_step_caches()

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if self.network.loss.is_classification:
            return np.ascontiguousarray(y, dtype=np.int64).ravel()
        with np.errstate(over="ignore"):
            return np.ascontiguousarray(y, dtype=self.network.dtype).reshape(len(y), -1)

    @property
    def n_train(self) -> int:
        return len(self.X)

    @property
    def lr(self) -> float:
        return self.config.schedule.lr_at(self.config.optimizer.lr, self.step_count)

    def set_learning_rate(self, lr: float) -> None:
        """Change the base learning rate between steps (keeps the optimiser state)."""
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError("the learning rate must be a finite number > 0")
        opt = OptimizerConfig(self.config.optimizer.name, {**self.config.optimizer.hyper, "lr": lr})
        self.config = replace(self.config, optimizer=opt)

    def set_optimizer(self, config: OptimizerConfig) -> bool:
        """Train on with another optimiser or other hyperparameters (fine-tuning). The
        optimiser's state (moments, momentum buffers) is kept when it is the same
        optimiser keeping the same kind of state, and starts fresh otherwise; returns
        whether it was kept."""
        old = self.optimizer
        new = Optimizer(config, [self.network.flat], layout=self.network.shapes)
        kept = config.name == old.name and set(new.state) == set(old.state)
        if kept:
            new.load_state(old.t, old.state_arrays())
        self.optimizer = new
        self.config = replace(self.config, optimizer=config)
        self._pending = None
        self._checkpoint = self.get_state()  # a divergence rolls back to this optimiser's start
        return kept

    def update_config(self, **changes: Any) -> None:
        """Change batch size, regularisation, dropout or schedule between steps."""
        allowed = set(LIVE_CONFIG_FIELDS)
        if set(changes) - allowed:
            raise ValueError(f"only {', '.join(sorted(allowed))} can change while training")
        self.config = replace(self.config, **changes)  # checked again by TrainConfig

    # --- one step --------------------------------------------------------------------
    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.X)
        b = self.config.batch_size
        if b >= n:
            self.epoch += 1
            return self.X, self.y  # full batch, no shuffling needed
        if self._perm is None:
            self._perm = self.rng.permutation(n)
            self._pos = 0
        pos = self._pos
        end = pos + b
        if self._preshuffle and b * self._row_bytes < PRESHUFFLE_BATCH_BYTES:
            if self._shuffled_for is not self._perm:
                # the epoch's examples in their shuffled order, so that a minibatch is a
                # slice: one gather per epoch instead of two per step, into the arrays of
                # the epoch before (nothing keeps a minibatch past its step)
                if self._X_shuffled is None:
                    self._X_shuffled = np.empty(self.X.shape, self.X.dtype)
                    self._y_shuffled = np.empty(self.y.shape, self.y.dtype)
                np.take(self.X, self._perm, axis=0, out=self._X_shuffled, mode="clip")
                np.take(self.y, self._perm, axis=0, out=self._y_shuffled, mode="clip")
                self._shuffled_for = self._perm
            Xb, yb = self._X_shuffled[pos:end], self._y_shuffled[pos:end]
        else:
            idx = self._perm[pos:end]
            Xb, yb = self._gather(idx)
        self._pos = end
        if end >= n:
            self._perm = None
            self.epoch += 1
        return Xb, yb

    def _gather(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The examples at ``idx``, into arrays kept for their count (overwritten by the
        next minibatch of that size; nothing keeps a minibatch past its step)."""
        k = len(idx)
        if k * self._row_bytes > WORKSPACE_BYTES:
            return self.X[idx], self.y[idx]
        bufs = self._gathered.get(k)
        if bufs is None:
            if len(self._gathered) >= 4:  # batch sizes changed while training
                self._gathered.clear()
            bufs = self._gathered[k] = (np.empty((k, *self.X.shape[1:]), self.X.dtype),
                                        np.empty((k, *self.y.shape[1:]), self.y.dtype))
        # mode="clip": a permutation's indices are valid, and "raise" would buffer the copy
        return (np.take(self.X, idx, axis=0, out=bufs[0], mode="clip"),
                np.take(self.y, idx, axis=0, out=bufs[1], mode="clip"))

    def _workspace(self, n: int, lean: bool = False) -> Workspace:
        """The workspace for batches of ``n``; ``lean`` where nothing reads the forward
        pass's arrays after the backward pass (and the network allows it)."""
        lean = lean and self.network.can_be_lean
        ws = self._workspaces.get((n, lean))
        if ws is None:
            if len(self._workspaces) >= 8:  # batch sizes changed while training
                self._workspaces.clear()
            ws = self._workspaces[(n, lean)] = Workspace(self.network, n, lean)
        return ws

    def step(self, snapshot: bool = False) -> StepRecord:
        """One minibatch update. Raises :class:`DivergedError` on a non-finite loss."""
        if self.diverged_at is not None:
            raise DivergedError(self.diverged_at, self.step_count)
        net = self.network
        cfg = self.config
        epoch_before, perm_before, pos_before = self.epoch, self._perm, self._pos
        Xb, yb = self._next_batch()
        n = len(Xb)
        # lean unless a snapshot or the layers' figures read the pass's arrays afterwards
        lean = not (snapshot or self.track_layers)
        ws = self._workspace(n, lean) if n <= self._max_workspace_rows else None
        masks = self._dropout_masks(n) if cfg.dropout > 0 else None
        cache = net.forward(Xb, masks, ws)
        scores = cache.scores
        scratch = ws.loss if ws is not None and self._y_valid else None
        loss, dscores = net.loss.value_and_grad(scores, yb, scratch)
        regularised = cfg.l2 or cfg.l1
        reg = self._reg_value() if regularised else 0.0
        if not math.isfinite(loss + reg):
            self.epoch, self._perm, self._pos = epoch_before, perm_before, pos_before
            self._diverge(self.step_count + 1)
        if self._pending is not None:  # that state just gave a finite loss: keep it
            self._checkpoint, self._pending = self._pending, None
        if self._dead_at_start is None and self.step_count == 0:
            self._record_dead_at_start(None if self._probe_fits else cache)
        grads = net.backward(cache, dscores, self._grad_views, ws)
        if regularised:
            self._add_reg_grads(grads)
        opt = self.optimizer
        sched = cfg.schedule
        lr = cfg.optimizer.hyper["lr"]
        if sched.name != "constant":
            lr = sched.lr_at(lr, self.step_count)
        opt.lr = lr
        before = [net.params[2 * i].copy() for i in range(net.n_layers)] if snapshot else None
        # the layers' figures read the gradients, so they are taken before the update may
        # spend them (the update changes neither the gradients' values nor the cache)
        layers = self._layer_steps(cache, grads) if self.track_layers else None
        opt.step(self._flat_params, self._flat_grads, grads_spent=not snapshot)
        self.step_count += 1
        if self.step_count % CHECKPOINT_EVERY == 0:
            self.ensure_finite()  # a checkpoint only of a finite state
            self._pending = self.get_state()
        kind = self._accuracy_kind
        if kind == "argmax":
            if ws is None:
                acc = float(np.count_nonzero(scores.argmax(axis=1) == yb)) / n
            else:
                predicted = scores.argmax(axis=1, out=ws.predicted)
                acc = float(np.count_nonzero(np.equal(predicted, yb, out=ws.correct))) / n
        elif kind == "sign":
            acc = float(np.count_nonzero((scores[:, 0] > 0) == (yb == 1))) / n
        else:
            acc = None
        record = StepRecord(self.step_count, self.epoch, loss, reg, acc, lr, layers)
        if snapshot:
            t0 = time.perf_counter()
            self.last_snapshot = self.snapshot(before, (cache, grads))
            self.last_snapshot_seconds = time.perf_counter() - t0
        return record

    def run(self, steps: int) -> list[StepRecord]:
        return [self.step() for _ in range(steps)]

    def _dropout_masks(self, n: int) -> list[np.ndarray | None]:
        p = self.config.dropout
        dt = self.network.dtype
        keep = dt.type(1.0 / (1.0 - p))
        return [
            (self.rng.random((n, h.units)) >= p).astype(dt) * keep for h in self.network.spec.hidden
        ]

    def _reg_value(self) -> float:
        cfg = self.config
        total = 0.0
        for i in range(self.network.n_layers):
            W = self.network.params[2 * i]
            if cfg.l2:
                total += 0.5 * cfg.l2 * float(np.vdot(W, W))
            if cfg.l1:
                total += cfg.l1 * float(np.abs(W).sum())
        return total

    def _add_reg_grads(self, grads: list[np.ndarray]) -> None:
        cfg = self.config
        dt = self.network.dtype.type
        for i in range(self.network.n_layers):
            W = self.network.params[2 * i]
            if cfg.l2:
                grads[2 * i] += dt(cfg.l2) * W  # in place: grads are views of the flat buffer
            if cfg.l1:
                grads[2 * i] += dt(cfg.l1) * np.sign(W)

    def _layer_steps(self, cache, grads) -> tuple[LayerStep, ...]:
        out = []
        for i, act in enumerate(self.network.activations):
            post = cache.post[i]
            out.append(
                LayerStep(
                    stats.fraction(stats.dead_units(act.name, post)),
                    stats.fraction(stats.saturated_units(act.name, post)),
                    stats.norm(grads[2 * i]),
                )
            )
        return tuple(out)

    def ensure_finite(self) -> None:
        """Raise :class:`DivergedError` (after rolling back) if a weight or an optimiser
        state value is NaN or infinite: Adam's second moment can overflow while the loss
        stays finite. Checked at every checkpoint (a full pass over the state every
        :data:`CHECKPOINT_EVERY` steps, as cheap as the checkpoint's copy) and by
        whoever is about to save the state."""
        if self.diverged_at is not None:
            return  # already rolled back to a finite state
        if not all_finite(self.network.flat):
            self._diverge(self.step_count, "the weights")
        if not self.optimizer.state_finite():
            self._diverge(self.step_count, "the optimiser's state")

    def _diverge(self, step: int, cause: str = "the loss") -> None:
        """Roll back to the last checkpoint whose weights gave a finite loss, and stop.

        The weights of the failing step are the product of the update before it, so they
        are not a state to keep; checkpoints are cheap copies, taken every
        :data:`CHECKPOINT_EVERY` steps of a finite state, and trusted once the next loss
        is finite.
        """
        self._pending = None
        self.set_state(self._checkpoint)
        self.diverged_at = step
        raise DivergedError(step, self.step_count, cause)

    def clear_divergence(self) -> None:
        """Allow training again (e.g. after the learning rate was lowered)."""
        self.diverged_at = None

    # --- state, for files and rollback -----------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically: copies, safe to keep."""
        net = self.network
        return {
            "params": split_flat(net.flat.copy(), net.shapes),
            "optimizer_t": self.optimizer.t,
            "optimizer": self.optimizer.state_arrays(),
            "step": self.step_count,
            "epoch": self.epoch,
            "rng": self.rng.bit_generator.state,
            "perm": None if self._perm is None else self._perm.copy(),
            "pos": self._pos,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        params = state["params"]
        if len(params) != len(self.network.params):
            raise ValueError("the saved state has a different number of layers")
        for dst, src in zip(self.network.params, params, strict=True):
            if dst.shape != src.shape:
                raise ValueError(f"saved parameter shape {src.shape} does not match {dst.shape}")
            dst[...] = src
        self.optimizer.load_state(state["optimizer_t"], state["optimizer"])
        self.step_count = int(state["step"])
        self.epoch = int(state["epoch"])
        self.rng.bit_generator.state = state["rng"]
        perm = state["perm"]
        if perm is not None:
            perm = np.asarray(perm, dtype=np.int64)
            if perm.shape != (len(self.X),) or not np.array_equal(np.sort(perm), np.arange(len(self.X))):
                raise ValueError("the saved shuffle order does not match the training set")
        self._perm = perm
        self._pos = int(state["pos"])
        self.diverged_at = None
        self._pending = None
        self._checkpoint = self.get_state()  # a divergence now rolls back to this state

    # --- snapshots -------------------------------------------------------------------
    def _record_dead_at_start(self, cache=None) -> None:
        """Which units are dead before any step: on the probe batch, or on ``cache`` (the
        forward pass of the first minibatch) for a network too big for the probe budget."""
        if cache is None:
            cache = self.network.forward(self.X[self._probe])
        self._dead_at_start = tuple(
            None if (d := stats.dead_units(act.name, cache.post[i])) is None else freeze(d)
            for i, act in enumerate(self.network.activations))

    def _histogram(self, layer: int, kind: str, values: np.ndarray, bounds=None) -> stats.Histogram:
        """One histogram on the run's bins. Weights and (unbounded) activations get new bins
        when the values left them far behind (:func:`stats.edges_outgrown`, with hysteresis,
        checked on the same pass as the counts); gradients keep theirs, so their shrinking
        over a run stays visible on one scale."""
        key = (layer, kind)
        edges = self._edges.get(key)
        if edges is None:
            edges = self._edges[key] = stats.choose_edges(values, bounds)
        elif kind in stats.REBIN_KINDS and bounds is None:
            hist, outgrown = stats.checked_histogram(values, edges)
            if not outgrown:
                return hist
            edges = self._edges[key] = stats.choose_edges(values, bounds)
        return stats.histogram(values, edges)

    def snapshot(self, weights_before: list[np.ndarray] | None = None, minibatch=None) -> Snapshot:
        """Copies of weights and the statistics of every layer, plus evaluations.

        ``minibatch`` is the (cache, gradients) of the step just taken; a network too big
        for the probe budget takes its statistics from it instead of the probe batch.
        """
        net = self.network
        if minibatch is not None and not self._probe_fits:
            cache, grads = minibatch
        else:
            probe_X, probe_y = self.X[self._probe], self.y[self._probe]
            cache = net.forward(probe_X)
            _, dscores = net.loss.value_and_grad(cache.scores, probe_y)
            grads = net.backward(cache, dscores)
        layers = []
        n_hidden = len(net.activations)
        if self._dead_at_start is None:  # the first snapshot of a run not started here
            self._record_dead_at_start(cache)
        for i in range(net.n_layers):
            hidden = i < n_hidden
            act_name = net.activations[i].name if hidden else "output"
            W = net.params[2 * i]
            layers.append(measure_layer(
                i, act_name, net.spec.widths[i + 1], cache.pre[i] if hidden else cache.scores,
                cache.post[i] if hidden else cache.scores, W, grads[2 * i],
                None if weights_before is None else weights_before[i],
                lambda kind, v, bounds=None, i=i: self._histogram(i, kind, v, bounds),
                self._dead_at_start[i] if hidden else None))
        train_loss, train_acc, train_scores = self._evaluate(
            self.X[self._eval_train], self.y[self._eval_train]
        )
        test_loss = test_acc = None
        conf_scores, conf_y = train_scores, self.y[self._eval_train]
        if self.X_test is not None and len(self.X_test):
            Xt, yt = self.X_test[self._eval_test], self.y_test[self._eval_test]
            test_loss, test_acc, conf_scores = self._evaluate(Xt, yt)
            conf_y = yt
        confusion, n_classes, correct, examples = None, 0, -1, None
        if net.loss.is_classification:
            n_classes = max(net.spec.output_dim, 2)
            predicted = net.loss.predict(conf_scores)
            confusion = freeze(confusion_matrix(predicted, conf_y, n_classes))
            correct = int(np.count_nonzero(predicted == conf_y))
            if net.spec.output_dim <= MAX_GALLERY_OUTPUTS:  # the same scores: a gallery cell is a matrix cell
                rows, split = ((self._eval_test, "test") if test_loss is not None
                               else (self._eval_train, "train"))
                examples = predict_examples(net.loss.probabilities(conf_scores), rows, split)
        return Snapshot(
            step=self.step_count,
            epoch=self.epoch,
            lr=self.lr,
            params=tuple(freeze(p) for p in net.params),
            layers=tuple(layers),
            train_loss=train_loss,
            train_accuracy=train_acc,
            test_loss=test_loss,
            test_accuracy=test_acc,
            grid=self._grid_maps(),
            confusion=confusion,
            eval_examples=len(self._eval_train),
            probe_examples=len(cache.scores),
            confusion_classes=n_classes,
            confusion_correct=correct,
            examples=examples,
        )

    def evaluate(self) -> dict[str, float | None]:
        """Loss and accuracy on the whole training and test splits (for summaries)."""
        train_loss, train_acc, _ = self._evaluate_chunked(self.X, self.y)
        out = {"train_loss": train_loss, "train_accuracy": train_acc,
               "test_loss": None, "test_accuracy": None}
        if self.X_test is not None and len(self.X_test):
            test_loss, test_acc, _ = self._evaluate_chunked(self.X_test, self.y_test)
            out.update(test_loss=test_loss, test_accuracy=test_acc)
        return out

    def _evaluate_chunked(self, X, y, chunk: int = 8192):
        """Full-set evaluation without a giant intermediate array."""
        total_loss = 0.0
        correct = 0.0
        for i in range(0, len(X), chunk):
            loss, acc, _ = self._evaluate(X[i : i + chunk], y[i : i + chunk])
            n = len(X[i : i + chunk])
            total_loss += loss * n
            correct += (acc or 0.0) * n
        acc = correct / len(X) if self.network.loss.is_classification else None
        return total_loss / len(X), acc, None

    def _evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float | None, np.ndarray]:
        scores = self.network.scores(X)
        loss = self.network.loss.value(scores, y)
        return loss, self.network.loss.accuracy(scores, y), scores

    def _grid_maps(self) -> GridMaps | None:
        if self.grid is None:
            return None
        net = self.network
        g = self.grid
        h, w = len(g.ys), len(g.xs)
        _, outs = net.layer_outputs(np.asarray(g.inputs, dtype=net.dtype))
        scores = outs[-1]
        output = net.loss.probabilities(scores) if net.loss.is_classification else scores
        neurons = tuple(freeze(o.reshape(h, w, -1)) for o in outs[:-1])
        return GridMaps(
            freeze(g.xs), freeze(g.ys), freeze(output.reshape(h, w, -1)), neurons
        )
