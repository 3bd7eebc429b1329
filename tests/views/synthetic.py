"""Runs made up without training: any layer widths the loader accepts, any values.

A trained 65,536-wide or 20M-parameter network costs gigabytes in the trainer; the views
only need a RunInfo and Snapshots of the right shapes, so these are built directly.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from nnviz.app.runinfo import RunInfo
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.stats import Histogram
from nnviz.core.trainer import GridMaps, LayerSnapshot, Snapshot


def spec(widths: list[int], loss: str = "softmax", activation: str = "relu") -> NetworkSpec:
    """A spec with these layer widths (inputs first, outputs last)."""
    hidden = tuple(LayerSpec(u, activation) for u in widths[1:-1])
    return NetworkSpec(widths[0], widths[-1], hidden, loss=loss)


def run_info(s: NetworkSpec, X: np.ndarray, y: np.ndarray, X_test=None, y_test=None,
             label: str = "synthetic") -> RunInfo:
    """What the window would build for data ``X``/``y`` and network ``s``."""
    task = "regression" if s.loss == "mse" else "classification"
    classes = tuple(str(k) for k in range(max(s.output_dim, 2))) if task == "classification" else ()
    extent = None
    if X.shape[1] == 2:
        with np.errstate(over="ignore", invalid="ignore"):
            lo, hi = X.min(axis=0), X.max(axis=0)
        extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    return RunInfo(label=label, spec=s, task=task, class_names=classes,
                   input_names=tuple(f"x{i + 1}" for i in range(X.shape[1])), train_X=X, train_y=y,
                   test_X=X_test, test_y=y_test, extent=extent, batch_size=8, n_train=len(X))


def histogram(lo: float, hi: float, bins: int = 20, rng=None) -> Histogram:
    """Counts on ``bins`` edges from lo to hi (linspace in halves: it must not overflow)."""
    rng = rng or np.random.default_rng(0)
    edges = np.linspace(lo / 2, hi / 2, bins + 1) * 2
    return Histogram(edges, rng.integers(0, 50, bins).astype(np.float64), 0.0)


def snapshot(s: NetworkSpec, step: int = 1, epoch: int = 0, value: float | None = None,
             grid: GridMaps | None = None, confusion: np.ndarray | None = None,
             edges: tuple[float, float] = (-1.0, 1.0), dtype=np.float32, seed: int = 0) -> Snapshot:
    """A snapshot of ``s`` with random weights (or all ``value``) and statistics."""
    rng = np.random.default_rng(seed)
    params = []
    for (w_shape, b_shape) in s.layer_shapes():
        if value is None:
            params += [rng.standard_normal(w_shape, dtype=dtype), rng.standard_normal(b_shape, dtype=dtype)]
        else:
            params += [np.full(w_shape, value, dtype), np.full(b_shape, value, dtype)]
    layers = []
    n = len(s.hidden) + 1
    for i in range(n):
        units = s.hidden[i].units if i < n - 1 else s.output_dim
        act = s.hidden[i].activation if i < n - 1 else s.loss
        mean = rng.standard_normal(units) if value is None else np.full(units, value)
        hists = {k: histogram(*edges, rng=rng) for k in ("pre", "act", "grad", "weight")}
        dead = rng.random(units) < 0.1 if i < n - 1 else None
        layers.append(LayerSnapshot(
            index=i, name=f"hidden {i + 1}" if i < n - 1 else "output", activation=act, units=units,
            dead_units=dead, saturated_units=None, dead_fraction=None if dead is None else float(dead.mean()),
            saturated_fraction=None, grad_norm=1.0 if value is None else abs(value), weight_norm=1.0,
            update_ratio=1e-3, mean_activation=mean, histograms=hists))
    return Snapshot(step=step, epoch=epoch, lr=0.01, params=tuple(params), layers=tuple(layers),
                    train_loss=0.5, train_accuracy=0.5, test_loss=None, test_accuracy=None, grid=grid,
                    confusion=confusion, eval_examples=8, probe_examples=8)


def plane_grid(s: NetworkSpec, x: tuple[float, float], y: tuple[float, float], size: int = 16,
               value: float | None = None) -> GridMaps:
    """Network outputs over a size x size grid of the plane [x0, x1] x [y0, y1]."""
    rng = np.random.default_rng(1)
    xs = np.linspace(x[0] / 2, x[1] / 2, size) * 2
    ys = np.linspace(y[0] / 2, y[1] / 2, size) * 2
    shape = (size, size, s.output_dim)
    out = rng.random(shape) if value is None else np.full(shape, value)
    if s.loss == "softmax":
        out = out / out.sum(axis=2, keepdims=True)
    neurons = tuple(rng.standard_normal((size, size, h.units)) for h in s.hidden)
    return GridMaps(xs, ys, out, neurons)


def with_step(snap: Snapshot, step: int, epoch: int | float | None = None) -> Snapshot:
    return dataclasses.replace(snap, step=step, epoch=snap.epoch if epoch is None else epoch)
