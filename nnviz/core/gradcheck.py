"""Numerical gradient check: centred differences against backprop, per parameter array.

The lecture's advice: compare the analytic gradient with a centred difference (here the
five-point stencil, accurate to O(h^4), rather than (f(w+h) - f(w-h)) / 2h) using
the relative error |a - n| / max(|a|, |n|), in float64, without dropout. Large layers
are checked on a random sample of entries so the check stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnviz.core.network import Network

#: below this both gradients are zero within the check's own rounding noise
TINY = 1e-8


@dataclass(frozen=True)
class GradCheckRow:
    layer: int  # dense layer index (the output layer is last)
    param: str  # "W" or "b"
    n_checked: int
    n_total: int
    max_rel_error: float
    mean_rel_error: float


def _objective(network: Network, X: np.ndarray, y: np.ndarray, l1: float, l2: float) -> float:
    loss = network.loss.value(network.scores(X), y)
    for i in range(network.n_layers):
        W = network.params[2 * i]
        if l2:
            loss += 0.5 * l2 * float(np.vdot(W, W))
        if l1:
            loss += l1 * float(np.abs(W).sum())
    return loss


def analytic_gradients(
    network: Network, X: np.ndarray, y: np.ndarray, l1: float = 0.0, l2: float = 0.0
) -> list[np.ndarray]:
    """Backprop gradients of data loss plus regularisation (as the trainer computes them)."""
    cache = network.forward(X)
    _, dscores = network.loss.value_and_grad(cache.scores, y)
    grads = network.backward(cache, dscores)
    for i in range(network.n_layers):
        W = network.params[2 * i]
        if l2:
            grads[2 * i] = grads[2 * i] + l2 * W
        if l1:
            grads[2 * i] = grads[2 * i] + l1 * np.sign(W)
    return grads


def gradient_check(
    network: Network,
    X: np.ndarray,
    y: np.ndarray,
    l1: float = 0.0,
    l2: float = 0.0,
    eps: float = 1e-4,
    max_entries: int = 60,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[GradCheckRow]:
    """One row per parameter array. Works on a float64 copy, so the network is untouched.

    ``progress(done, total)`` is called after each array (for a progress bar). An entry
    whose analytic and numerical gradients are both below :data:`TINY` counts as exact:
    the centred difference cannot resolve smaller values from a loss of order one.
    """
    net = Network(network.spec, [p.astype(np.float64) for p in network.params])
    net.dtype = np.dtype(np.float64)
    X = np.asarray(X, dtype=np.float64)
    grads = analytic_gradients(net, X, y, l1, l2)
    rng = np.random.default_rng(seed)
    rows = []
    total = len(net.params)
    for k, (p, g) in enumerate(zip(net.params, grads, strict=True)):
        flat = p.reshape(-1)
        gflat = g.reshape(-1)
        n = flat.size
        idx = np.arange(n) if n <= max_entries else rng.choice(n, max_entries, replace=False)
        errors = np.empty(len(idx))
        for j, e in enumerate(idx):
            old = flat[e]
            f = {}
            for k_ in (-2, -1, 1, 2):
                flat[e] = old + k_ * eps
                f[k_] = _objective(net, X, y, l1, l2)
            flat[e] = old
            # fourth-order centred difference: truncation O(eps^4), so a larger eps
            # keeps rounding noise small without losing accuracy
            numeric = (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * eps)
            analytic = gflat[e]
            denom = max(abs(numeric), abs(analytic))
            errors[j] = 0.0 if denom < TINY else abs(numeric - analytic) / denom
        rows.append(
            GradCheckRow(
                layer=k // 2,
                param="W" if k % 2 == 0 else "b",
                n_checked=len(idx),
                n_total=n,
                max_rel_error=float(errors.max()) if len(errors) else 0.0,
                mean_rel_error=float(errors.mean()) if len(errors) else 0.0,
            )
        )
        if progress is not None:
            progress(k + 1, total)
    return rows


def format_table(rows: list[GradCheckRow]) -> str:
    """The check as a plain-text table."""
    lines = [f"{'layer':>5} {'param':>5} {'checked':>9} {'max rel err':>12} {'mean rel err':>12}"]
    for r in rows:
        lines.append(
            f"{r.layer + 1:>5} {r.param:>5} {r.n_checked:>4}/{r.n_total:<4} "
            f"{r.max_rel_error:>12.2e} {r.mean_rel_error:>12.2e}"
        )
    return "\n".join(lines)
