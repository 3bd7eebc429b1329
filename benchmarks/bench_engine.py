"""The engine on MNIST's shape (784-256-128-10, batch 128, plain SGD) against the minimal
NumPy loop of ``nnviz bench``, with and without snapshots at 30 a second, in float32 and
float64; optionally with another process sharing the CPU, optionally this tree against
another.

Goals (issue 13): the engine at least 1.0x the minimal loop, and at least 0.8x with
snapshots, also on a busy machine. A snapshot every 33 ms of wall time costs a fixed
number of milliseconds; when another process takes half the core those milliseconds
double while the period does not, so the snapshot's share of the time doubles too.
``--busy`` makes that case reproducible: it pins this benchmark and a busy-looping
process to the same core. On a machine already loaded with other work the wall clock
wanders; ``--cpu SHARE`` measures in CPU time instead, a snapshot every 33 ms x SHARE of
it, which is what 30 a second of wall time come to when this process gets SHARE of a core
(1: quiet, 0.5: one other process on the core).

Each measurement runs in a fresh child process; within it the three loops run in short
slices, in rotating order, and each slice's rate over the minimal loop's slice of the same
round is one ratio: the child reports the median ratio, the parent the median over
children (interleaved across trees). Medians, not bests: on a shared machine the best
slice of one loop and the best of another come from different moments.

    .venv/bin/python benchmarks/bench_engine.py                 # this tree, quiet
    .venv/bin/python benchmarks/bench_engine.py --busy          # a competitor on the core
    .venv/bin/python benchmarks/bench_engine.py --cpu 0.5       # the same, modelled in CPU time
    git worktree add --detach /tmp/nnviz-before <commit>
    .venv/bin/python benchmarks/bench_engine.py --against /tmp/nnviz-before --busy
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WIDTHS = (784, 256, 128, 10)
BATCH = 128
DTYPES = ("float32", "float64")


def _worker(dtype: str, seconds: float, rounds: int, tree: str, share: float | None) -> dict[str, float]:
    import numpy as np

    import nnviz
    from nnviz.benchmark import LR, SNAPSHOT_PERIOD_S, _data, _nnviz_step, _spec, minimal_loop
    from nnviz.blas import limit_blas_threads
    from nnviz.core.network import Network

    where = Path(nnviz.__file__).resolve()
    if Path(tree).resolve() not in where.parents:
        raise SystemExit(f"imported nnviz from {where}, not from {tree}")
    limit_blas_threads(1)  # as the training process does
    X, y = _data(WIDTHS, np.dtype(dtype))
    init = [p.copy() for p in Network.initialised(_spec(WIDTHS, dtype), 0).params]
    steppers = {
        "minimal": minimal_loop(init, X, y, BATCH, LR),
        "nnviz": _nnviz_step(WIDTHS, X, y, BATCH, dtype, False),
        "snap": _nnviz_step(WIDTHS, X, y, BATCH, dtype, True),
    }
    if share is not None:  # CPU time: snapshots every 33 ms of wall time at this share of a core
        CLOCK["clock"] = time.thread_time
        steppers["snap"] = _cpu_snapshots(_nnviz_step(WIDTHS, X, y, BATCH, dtype, False).__self__,
                                          SNAPSHOT_PERIOD_S * share)
    # short slices, the loops' order rotating: load that drifts over seconds hits all three
    # alike, and each slice's ratio to the minimal loop's slice next to it is one sample
    rates: dict[str, list[float]] = {k: [] for k in steppers}
    names = list(steppers)
    for stepper in steppers.values():
        _rate(stepper, 0.1)  # warm-up
    for r in range(rounds):
        order = names[r % 3:] + names[: r % 3]
        for k in order:
            rates[k].append(_rate(steppers[k], seconds))
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = statistics.median(a / b for a, b in zip(rates["nnviz"], rates["minimal"], strict=True))
    ratio_snap = statistics.median(a / b for a, b in zip(rates["snap"], rates["minimal"], strict=True))
    # the cost of one snapshot on its own (the step that takes it, minus a plain step)
    from nnviz.core.optim import OptimizerConfig
    from nnviz.core.trainer import TrainConfig, Trainer

    trainer = Trainer(Network.initialised(_spec(WIDTHS, dtype), 0),
                      TrainConfig(OptimizerConfig("sgd", {"lr": LR}), batch_size=BATCH), X, y)
    for _ in range(20):
        trainer.step(snapshot=True)
    cost = {}
    for name, clock in (("snapshot_ms", time.perf_counter), ("snapshot_cpu_ms", time.thread_time)):
        plain, snap = [], []
        for _ in range(30):
            t0 = clock()
            trainer.step()
            t1 = clock()
            trainer.step(snapshot=True)
            t2 = clock()
            plain.append(t1 - t0)
            snap.append(t2 - t1)
        cost[name] = max(min(snap) - min(plain), 0.0) * 1e3
    return {**med, "ratio": ratio, "ratio_snap": ratio_snap, **cost, "period_s": SNAPSHOT_PERIOD_S}


#: the clock the rates are measured with (--cpu: this thread's CPU time)
CLOCK = {"clock": time.perf_counter}


def _cpu_snapshots(trainer, period: float):
    """``trainer.step`` with a snapshot whenever ``period`` seconds of CPU time passed, as
    the training loop paces them (at most a bounded share of the time: here of CPU time,
    the snapshot's own cost measured on this otherwise quiet process)."""
    try:
        from nnviz.training.cadence import next_snapshot_at
    except ImportError:  # an older tree: a snapshot every period, unbounded
        def next_snapshot_at(due, now, interval, cost):
            return now + interval

    clock = time.thread_time
    state = {"next": clock()}

    def step():
        now = clock()
        if now >= state["next"]:
            rec = trainer.step(snapshot=True)
            cost = getattr(trainer, "last_snapshot_seconds", 0.0)
            state["next"] = next_snapshot_at(state["next"], clock(), period, cost)
            return rec
        return trainer.step()

    return step


def _rate(step, seconds: float) -> float:
    """Steps per second of ``step`` over about ``seconds`` (the clock read every step: a
    step here takes milliseconds, and on a busy core ``nnviz bench``'s 50-step chunks
    would make every slice a second or more)."""
    clock = CLOCK["clock"]
    n = 0
    start = clock()
    deadline = start + seconds
    while True:
        step()
        n += 1
        now = clock()
        if now >= deadline:
            return n / (now - start)


def _measure(tree: Path, dtype: str, seconds: float, rounds: int, share: float | None) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    extra = [] if share is None else ["--share", str(share)]
    out = subprocess.run(
        [sys.executable, __file__, "--worker", dtype, "--seconds", str(seconds),
         "--rounds", str(rounds), "--tree", str(tree), *extra],
        env=env, capture_output=True, text=True, check=False, cwd=tree,
    )
    if out.returncode != 0:
        raise SystemExit(f"the worker for {dtype} in {tree} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _start_competitor() -> tuple[subprocess.Popen, int]:
    """Pin this process (and so its children) to one core and start a busy loop there."""
    if not hasattr(os, "sched_setaffinity"):
        raise SystemExit("--busy needs os.sched_setaffinity (Linux)")
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    proc = subprocess.Popen([sys.executable, "-c", "while True:\n    pass"])
    return proc, core


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--against", type=Path, help="another nnviz source tree to compare with")
    p.add_argument("--busy", action="store_true", help="share the core with a busy-looping process")
    p.add_argument("--runs", type=int, default=3, help="child processes per dtype and tree (default 3)")
    p.add_argument("--rounds", type=int, default=9, help="interleaved rounds inside each child (default 9)")
    p.add_argument("--seconds", type=float, default=0.3, help="per loop per round (default 0.3)")
    p.add_argument("--dtypes", default=",".join(DTYPES))
    p.add_argument("--cpu", type=float, metavar="SHARE", dest="share",
                   help="measure in CPU time, with a snapshot every 33 ms x SHARE of CPU time: what a "
                        "window asking 30 a second gets when this process has SHARE of a core (1: a "
                        "quiet machine, 0.5: one other process on the core); steadier than --busy on "
                        "a machine loaded with other work")
    p.add_argument("--json", action="store_true")
    p.add_argument("--worker", choices=DTYPES, help=argparse.SUPPRESS)
    p.add_argument("--tree", help=argparse.SUPPRESS)
    p.add_argument("--share", type=float, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.seconds, args.rounds, args.tree, args.share)))
        return 0
    if args.share is not None and not 0 < args.share <= 1:
        print("--cpu takes a share of a core in (0, 1]", file=sys.stderr)
        return 2
    dtypes = [d for d in args.dtypes.split(",") if d]
    if any(d not in DTYPES for d in dtypes):
        print(f"--dtypes takes {', '.join(DTYPES)}", file=sys.stderr)
        return 2
    trees = {"this": Path(__file__).resolve().parent.parent}
    if args.against is not None:
        if not (args.against / "nnviz" / "core" / "trainer.py").is_file():
            print(f"{args.against} is not an nnviz source tree", file=sys.stderr)
            return 2
        trees["against"] = args.against.resolve()
    competitor = None
    if args.busy:
        competitor, core = _start_competitor()
    try:
        results: dict[tuple[str, str], list[dict[str, float]]] = {(t, d): [] for t in trees for d in dtypes}
        for r in range(args.runs):
            order = list(trees) if r % 2 == 0 else list(reversed(trees))
            for d in dtypes:
                for t in order:
                    results[t, d].append(_measure(trees[t], d, args.seconds, args.rounds, args.share))
            print(f"run {r + 1}/{args.runs} done", file=sys.stderr)
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    rows = []
    for t in trees:
        for d in dtypes:
            rs = results[t, d]
            keys = ("minimal", "nnviz", "snap", "snapshot_ms", "snapshot_cpu_ms")
            med = {k: statistics.median(x[k] for x in rs) for k in keys}
            rows.append({
                "tree": t, "dtype": d, **med,
                "ratio": statistics.median(x["ratio"] for x in rs),
                "ratio_snap": statistics.median(x["ratio_snap"] for x in rs),
            })
    if args.json:
        print(json.dumps({"busy": args.busy, "rows": rows}, indent=2))
        return 0
    where = f"sharing core {core} with a busy loop" if args.busy else "no competitor started"
    if args.share is not None:
        where += (f"; CPU time, a snapshot every {33 * args.share:g} ms of it (33 ms at "
                  f"{args.share:g} of a core)")
    print(f"784-256-128-10, batch {BATCH}, SGD, BLAS on one thread; {where}; medians of "
          f"{args.runs} child processes, each of {args.rounds} interleaved rounds of {args.seconds:g} s")
    print(f"{'tree':<8}{'dtype':<9}{'minimal/s':>10}{'nnviz/s':>9}{'+snap/s':>9}"
          f"{'x minimal':>10}{'snap x min':>11}{'snapshot ms':>12}{'(CPU ms)':>9}")
    for r in rows:
        print(f"{r['tree']:<8}{r['dtype']:<9}{r['minimal']:>10.0f}{r['nnviz']:>9.0f}{r['snap']:>9.0f}"
              f"{r['ratio']:>10.2f}{r['ratio_snap']:>11.2f}{r['snapshot_ms']:>12.2f}"
              f"{r['snapshot_cpu_ms']:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
