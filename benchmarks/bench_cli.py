"""What the command line adds over the engine: ``nnviz train``'s loop against a bare
``Trainer.step()`` loop on the same session (same data, network, optimiser and seed).

Goal (issue 13): at most 5% (a ratio of at least 0.95). The default workload is the
issue's: the digits, 64-128-64-10, batch 64, Adam. Three loops, each on a fresh session
built by ``nnviz train``'s own code (the real parser, ``session_from_args``):

* ``engine``: ``for _ in range(n): trainer.step()``;
* ``train loop``: :func:`nnviz.cli.train.train_steps`, the loop ``nnviz train`` runs
  (history, progress bar switched off as with ``--quiet``);
* ``nnviz train``: the whole command in this process (``main(["train", ...])``), its
  printed steps/s (the clock it shows runs over the steps only, as here).

Rounds are interleaved and the order rotates; each round's ratio to the engine's run of
the same round is one sample, and the medians are reported.

    .venv/bin/python benchmarks/bench_cli.py
    .venv/bin/python benchmarks/bench_cli.py --data path/to/digits.csv --steps 3000 --rounds 9
    .venv/bin/python benchmarks/bench_cli.py --cpu          # on a machine busy with other work
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnviz.blas import limit_blas_threads
from nnviz.cli import build_parser
from nnviz.cli import main as nnviz_main
from nnviz.cli.sessions import session_from_args

try:  # an older tree (benchmarks/bench_cli.py copied into it) has the command only
    from nnviz.cli.train import _Progress, train_steps
except ImportError:
    train_steps = None

RATE = re.compile(r"([\d,]+) steps/s")


def train_argv(data: str, steps: int, dtype: str) -> list[str]:
    return ["train", "--data", data, "--layers", "128,64", "--optimizer", "adam", "--batch-size", "64",
            "--steps", str(steps), "--dtype", dtype, "--quiet"]


#: the clock every loop is timed with: the wall clock, or (--cpu) this process's CPU time
CLOCK = {"clock": time.perf_counter}


def engine(argv: list[str], steps: int) -> float:
    session = session_from_args(build_parser().parse_args(argv))
    step = session.trainer.step
    clock = CLOCK["clock"]
    start = clock()
    for _ in range(steps):
        step()
    return steps / (clock() - start)


def loop(argv: list[str], steps: int) -> float:
    session = session_from_args(build_parser().parse_args(argv))
    with mock.patch("time.perf_counter", CLOCK["clock"]):  # the clock train_steps reads
        done, seconds, diverged = train_steps(session, steps, None, 100, _Progress(steps, False))
    if diverged is not None:
        raise SystemExit(f"the run diverged: {diverged}")
    return done / seconds


def command(argv: list[str], steps: int) -> float:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), mock.patch("time.perf_counter", CLOCK["clock"]):
        rc = nnviz_main(argv)
    m = RATE.search(out.getvalue())
    if rc != 0 or m is None:
        raise SystemExit(f"nnviz {' '.join(argv)} failed (exit {rc}):\n{out.getvalue()}")
    return float(m.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="digits", help="what nnviz train --data takes (default digits)")
    p.add_argument("--steps", type=int, default=3000, help="steps per run (default 3000)")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    p.add_argument("--cpu", action="store_true",
                   help="time with the process's CPU clock (a machine shared with other work); the "
                        "command's figure is the one it prints, read on that clock")
    args = p.parse_args(argv)
    if args.cpu:
        CLOCK["clock"] = time.process_time
    limit_blas_threads(1)  # as the training process does; the same for all three loops
    targv = train_argv(args.data, args.steps, args.dtype)
    loops = {"engine": engine, "train loop": loop, "nnviz train": command}
    if train_steps is None:
        del loops["train loop"]
    names = list(loops)
    engine(targv, min(args.steps, 300))  # warm-up: imports, caches
    rates: dict[str, list[float]] = {k: [] for k in loops}
    for r in range(args.rounds):
        for k in names[r % len(names):] + names[: r % len(names)]:
            rates[k].append(loops[k](targv, args.steps))
    print(f"nnviz {' '.join(targv)}")
    print(f"{args.rounds} interleaved rounds of {args.steps:,} steps, BLAS on one thread, "
          f"{'CPU' if args.cpu else 'wall-clock'} seconds")
    print(f"{'loop':<14}{'steps/s':>10}{'x engine':>10}")
    for k in names:
        ratio = statistics.median(a / b for a, b in zip(rates[k], rates["engine"], strict=True))
        print(f"{k:<14}{statistics.median(rates[k]):>10,.0f}{ratio:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
