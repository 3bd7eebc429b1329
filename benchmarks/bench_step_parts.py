"""Where the time of one training step goes: a whole ``Trainer.step()`` against its phases
timed alone (forward, loss, backward, optimiser update), and the optimiser against the
textbook NumPy form of the same update.

Why: the scikit-learn comparison (``bench_sklearn.py``) is a ratio of whole steps, and
whether it can move depends on which phase holds the time. The phases timed alone add up
to less than the same phases run back to back, which evict each other's arrays from the
cache (parameters, gradients and Adam's two moments are 4 arrays of the network's size);
the whole step adds the trainer's own work to that. One BLAS thread,
microseconds, the best of interleaved rounds.

    .venv/bin/python benchmarks/bench_step_parts.py                       # the issue's digits shape
    .venv/bin/python benchmarks/bench_step_parts.py --dtype float32
    .venv/bin/python benchmarks/bench_step_parts.py --layers 256,128 --inputs 784 --batch 128
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnviz.blas import limit_blas_threads
from nnviz.core.network import Network
from nnviz.core.optim import OptimizerConfig
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.trainer import TrainConfig, Trainer


def microseconds(fn: Callable[[], object], n: int) -> float:
    """Mean time of ``fn`` over ``n`` calls, after a warm-up."""
    for _ in range(max(10, n // 20)):
        fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def textbook_adam(p: np.ndarray, g: np.ndarray, lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999,
                  eps: float = 1e-8) -> Callable[[], None]:
    """The update as a person writes it in NumPy (torch's formula, fresh temporaries)."""
    m, v, state = np.zeros_like(p), np.zeros_like(p), {"t": 0}

    def step() -> None:
        state["t"] += 1
        t = state["t"]
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g * g
        p[...] -= lr / (1 - b1**t) * m / (np.sqrt(v) / math.sqrt(1 - b2**t) + eps)

    return step


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=64)
    ap.add_argument("--layers", default="128,64", help="hidden widths (default 128,64)")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    ap.add_argument("--steps", type=int, default=2000, help="calls per timing (default 2000)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    limit_blas_threads(1)
    hidden = tuple(int(w) for w in args.layers.split(","))
    rng = np.random.default_rng(0)
    n = 1437  # the digits' training split
    X = rng.standard_normal((n, args.inputs)).astype(args.dtype)
    y = rng.integers(0, args.classes, n)
    spec = NetworkSpec(args.inputs, args.classes, tuple(LayerSpec(w, "relu") for w in hidden),
                       loss="softmax", dtype=args.dtype)
    trainer = Trainer(Network.initialised(spec, 0),
                      TrainConfig(OptimizerConfig("adam", {"lr": 1e-3}), batch_size=args.batch, seed=0), X, y)
    net, opt = trainer.network, trainer.optimizer
    # the phases timed alone repeat on one forward pass, so they keep its arrays (a full
    # workspace); back to back they run as a plain step does, in a lean one
    ws = trainer._workspace(args.batch)
    lean_ws = trainer._workspace(args.batch, lean=True)
    Xb, yb = X[: args.batch], y[: args.batch]
    cache = net.forward(Xb, None, ws)
    _, dscores = net.loss.value_and_grad(cache.scores, yb, ws.loss)
    net.backward(cache, dscores, trainer._grad_views, ws)
    flat_p, flat_g = trainer._flat_params, trainer._flat_grads
    spare_p, spare_g = flat_p[0].copy(), flat_g[0].copy()

    def in_sequence() -> None:
        """The four phases back to back on one batch, without the trainer around them."""
        c = net.forward(Xb, None, lean_ws)
        _, d = net.loss.value_and_grad(c.scores, yb, lean_ws.loss)
        net.backward(c, d, trainer._grad_views, lean_ws)
        opt.step(flat_p, flat_g, grads_spent=True)

    parts: dict[str, Callable[[], object]] = {
        "whole step": trainer.step,
        "phases in sequence": in_sequence,
        "forward": lambda: net.forward(Xb, None, ws),
        "loss": lambda: net.loss.value_and_grad(cache.scores, yb, ws.loss),
        "backward": lambda: net.backward(cache, dscores, trainer._grad_views, ws),
        "adam (nnviz)": lambda: opt.step(flat_p, flat_g),
        "adam (textbook NumPy)": textbook_adam(spare_p, spare_g),
    }
    # every timing starts from the same weights and moments: the optimiser timed alone
    # applies one gradient thousands of times, which would leave weights far from any
    # trained network (saturated scores, gradients near underflow) for the next timing
    start = trainer.get_state()
    best = dict.fromkeys(parts, math.inf)
    for _ in range(args.rounds):
        for name, fn in parts.items():
            trainer.set_state(start)
            best[name] = min(best[name], microseconds(fn, args.steps))
    alone = sum(best[k] for k in ("forward", "loss", "backward", "adam (nnviz)"))
    shape = f"{args.inputs}-{'-'.join(map(str, hidden))}-{args.classes}"
    print(f"{shape}, batch {args.batch}, Adam, {args.dtype}, {net.flat.size:,} parameters; "
          f"one BLAS thread; best of {args.rounds} rounds, microseconds")
    for name, us in best.items():
        print(f"  {name:<24}{us:>9.1f}")
    print(f"  {'phases alone, summed':<24}{alone:>9.1f}")
    print(f"  in sequence they take {best['phases in sequence'] - alone:+.1f} us more than alone (each "
          f"evicts the others' arrays from the cache); the trainer adds "
          f"{best['whole step'] - best['phases in sequence']:+.1f} us (batches, accuracy, checkpoints)")
    print(f"  nnviz's Adam is {best['adam (textbook NumPy)'] / best['adam (nnviz)']:.1f}x the textbook form")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
