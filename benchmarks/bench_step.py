"""Steps per second of one training step on tiny networks, this tree against another.

The window's headline figure is examples per second while training the demo (2-8-8-2 ReLU,
softmax, Adam, batch 10). At that size NumPy's per-call overhead, not arithmetic, sets the
pace, so the figure moves with every call saved in ``Trainer.step``. Shared machines are
noisy: each round runs every workload of every tree in a fresh child process, rounds are
interleaved, and the medians are compared.

    .venv/bin/python benchmarks/bench_step.py                       # this tree only
    git worktree add --detach /tmp/nnviz-before <commit>
    .venv/bin/python benchmarks/bench_step.py --against /tmp/nnviz-before --rounds 7

Workloads: ``demo`` is ``demo_session().trainer.step()``; ``demo+snap`` adds a snapshot
every 1/30 s as the training process does; ``sgd-2-8-8-2`` is the 2-8-8-2 workload of
``nnviz bench`` (plain SGD, 2048 random examples).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

WORKLOADS = ("demo", "demo+snap", "sgd-2-8-8-2")
SNAPSHOT_PERIOD_S = 1 / 30


def _make(workload: str) -> Callable[[], object]:
    """A zero-argument callable doing one step of ``workload`` (imports the tree under test)."""
    import numpy as np

    from nnviz.core.session import demo_session

    if workload == "demo":
        return demo_session().trainer.step
    if workload == "demo+snap":
        trainer = demo_session().trainer
        state = {"next": 0.0}
        clock = time.perf_counter

        def step() -> object:
            now = clock()
            snap = now >= state["next"]
            if snap:
                state["next"] = now + SNAPSHOT_PERIOD_S
            return trainer.step(snapshot=snap)

        return step
    if workload == "sgd-2-8-8-2":
        from nnviz.core.network import Network
        from nnviz.core.optim import OptimizerConfig
        from nnviz.core.spec import LayerSpec, NetworkSpec
        from nnviz.core.trainer import TrainConfig, Trainer

        rng = np.random.default_rng(0)
        X = rng.standard_normal((2048, 2))
        y = rng.integers(0, 2, 2048)
        spec = NetworkSpec(2, 2, (LayerSpec(8, "relu"), LayerSpec(8, "relu")), loss="softmax")
        cfg = TrainConfig(optimizer=OptimizerConfig("sgd", {"lr": 0.01}), batch_size=10)
        return Trainer(Network.initialised(spec, 0), cfg, X, y).step
    raise ValueError(f"unknown workload {workload!r}")


def _rates(step: Callable[[], object], seconds: float) -> tuple[float, float]:
    """(steps/s over ``seconds``, steps/s of the fastest tenth of that time): the second
    figure is what the code can do when the machine leaves it alone."""
    for _ in range(200):
        step()
    clock = time.perf_counter
    window = seconds / 10
    n_total, best = 0, 0.0
    start = clock()
    for _ in range(10):
        n = 0
        w0 = clock()
        while True:
            for _ in range(50):
                step()
            n += 50
            now = clock()
            if now - w0 >= window:
                break
        best = max(best, n / (now - w0))
        n_total += n
    return n_total / (clock() - start), best


def _worker(workload: str, seconds: float, tree: str) -> None:
    import nnviz

    where = Path(nnviz.__file__).resolve()
    if Path(tree).resolve() not in where.parents:
        raise SystemExit(f"imported nnviz from {where}, not from {tree}")
    rate, best = _rates(_make(workload), seconds)
    print(json.dumps({"rate": rate, "best": best}))


def _measure(tree: Path, workload: str, seconds: float) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, __file__, "--worker", workload, "--seconds", str(seconds), "--tree", str(tree)],
        env=env, capture_output=True, text=True, check=False, cwd=tree,
    )
    if out.returncode != 0:
        raise SystemExit(f"the worker for {workload} in {tree} failed:\n{out.stderr}")
    d = json.loads(out.stdout.strip().splitlines()[-1])
    return float(d["rate"]), float(d["best"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--against", type=Path, help="another nnviz source tree to compare with")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0, help="per workload per round")
    p.add_argument("--worker", choices=WORKLOADS, help=argparse.SUPPRESS)
    p.add_argument("--tree", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.seconds, args.tree)
        return 0
    here = Path(__file__).resolve().parent.parent
    trees = {"this": here}
    if args.against is not None:
        if not (args.against / "nnviz" / "core" / "trainer.py").is_file():
            print(f"{args.against} is not an nnviz source tree", file=sys.stderr)
            return 2
        trees["against"] = args.against.resolve()
    rates: dict[tuple[str, str], list[tuple[float, float]]] = {(t, w): [] for t in trees for w in WORKLOADS}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for w in WORKLOADS:
            for t in order:
                rates[t, w].append(_measure(trees[t], w, args.seconds))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    for col, label in ((0, "steps/s over each run"), (1, "steps/s in each run's fastest tenth")):
        print(f"median over rounds of the {label}:")
        head = f"  {'workload':<14}" + "".join(f"{t:>12}" for t in trees)
        print(head + (f"{'ratio':>8}" if "against" in trees else ""))
        for w in WORKLOADS:
            meds = {t: statistics.median(x[col] for x in rates[t, w]) for t in trees}
            line = f"  {w:<14}" + "".join(f"{meds[t]:>12,.0f}" for t in trees)
            if "against" in trees:
                line += f"{meds['this'] / meds['against']:>8.2f}"
            print(line)
    print(f"({args.rounds} interleaved rounds of {args.seconds:g} s per workload and tree, "
          "each in a fresh process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
