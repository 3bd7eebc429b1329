"""``nnviz sweep``: the runs of ``nnviz train`` for many seeds and setting values, headless,
in a pool of ``--jobs`` processes, and a table (or JSON) of what each run reached.

Each run is exactly a ``nnviz train`` run: its worker builds the session from the same
arguments with the same function (:func:`nnviz.cli.sessions.session_from_args`) and
trains it with the same loop, so a sweep run and ``nnviz train`` with the same settings
and seed end with the same losses. The workers are ``spawn`` processes (as the training
process and the lesson runner: never fork), one BLAS thread each, that take one run at a
time over a private pipe (:func:`~nnviz.training.process.send_message`); at most ``--jobs``
exist, however many runs there are. They ignore Ctrl+C: the parent ends them all, then
reports the interrupt.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import multiprocessing
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from nnviz.cli.parser import CliError, setting_converter
from nnviz.lessons.runner import sigint_ignored
from nnviz.training.process import recv_message, send_message, usable_cpus

#: the most runs one sweep makes (seeds x every combination of the varied values)
MAX_SWEEP_RUNS = 1_000
#: ``--steps`` when neither it nor ``--epochs`` is given (as ``nnviz train``)
DEFAULT_STEPS = 1_000
#: what ``--vary`` may name besides the settings' options
_EXTRA_VARY = ("data",)
_SEED = re.compile(r"(\d+)(?:-(\d+))?")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


# --- reading the arguments -----------------------------------------------------------------
def parse_seeds(text: str) -> tuple[int, ...]:
    """``1-10``, ``1,3,5`` or ``1-3,7``: the seeds in order; CliError for a bad range, a
    seed given twice or more than :data:`MAX_SWEEP_RUNS` of them."""
    from nnviz.app.settings_schema import setting

    high = setting("seed").range[1]
    seeds: list[int] = []
    for item in text.split(","):
        item = item.strip()
        m = _SEED.fullmatch(item)
        if m is None:
            raise CliError(f"--seeds: {item[:40]!r} is not a seed or a range of seeds "
                           "(whole numbers >= 0: 3, or 1-10)")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        if b < a:
            raise CliError(f"--seeds: the range {item} runs downwards; write {b}-{a}")
        if b > high:
            raise CliError(f"--seeds: {b} is past the largest seed, {int(high):,}")
        if len(seeds) + (b - a + 1) > MAX_SWEEP_RUNS:
            raise CliError(f"--seeds {text[:60]}: more than {MAX_SWEEP_RUNS:,} seeds; a sweep makes at most "
                           f"{MAX_SWEEP_RUNS:,} runs")
        seeds.extend(range(a, b + 1))
    seen: set[int] = set()
    for s in seeds:
        if s in seen:
            raise CliError(f"--seeds: the seed {s} is given twice")
        seen.add(s)
    return tuple(seeds)


@dataclass(frozen=True)
class Varied:
    """One ``--vary``: the option's attribute (``lr``), its values as the flag reads them,
    and each value as written (for the table)."""

    dest: str
    values: tuple[Any, ...]
    shown: tuple[str, ...]


def settable() -> dict[str, str | None]:
    """What ``--vary`` may name: each option's name (``batch_size``) and the setting behind
    it (None for ``data``). The seed is not one of them: ``--seeds`` varies it."""
    from nnviz.app.settings_schema import cli_settings

    out: dict[str, str | None] = {s.dest: s.name for s in cli_settings() if s.name != "seed"}
    out.update((extra, None) for extra in _EXTRA_VARY)
    return out


def parse_vary(text: str) -> Varied:
    """``SETTING=V1,V2,...`` checked: a setting ``nnviz train`` takes, and values its option
    accepts (layers' widths joined by '-': ``layers=8,8-8,none``), none given twice."""
    name, eq, values = text.partition("=")
    if not eq:
        raise CliError(f"--vary takes SETTING=V1,V2,..., not {text[:60]!r}")
    dest = name.strip().lower().replace("-", "_")
    known = settable()
    if dest not in known:
        raise CliError(f"--vary: {name.strip()[:40]!r} is not a setting to vary; the settable ones: "
                       f"{', '.join(sorted(known))} (the seeds are --seeds)")
    items = [v.strip() for v in values.split(",")]
    if not values.strip() or any(not v for v in items):
        raise CliError(f"--vary {dest}: give its values separated by commas, e.g. {dest}={_example(dest)}")
    if len(items) > MAX_SWEEP_RUNS:
        raise CliError(f"--vary {dest}: more than {MAX_SWEEP_RUNS:,} values")
    parsed = tuple(_read_value(dest, known[dest], v) for v in items)
    for i, v in enumerate(parsed):
        if v in parsed[:i]:
            raise CliError(f"--vary {dest}: the value {items[i]!r} is given twice")
    return Varied(dest, parsed, tuple(items))


def _example(dest: str) -> str:
    return {"layers": "4,8-8", "activation": "relu,tanh", "residual": "false,true", "data": "xor,spiral",
            "optimizer": "sgd,adam"}.get(dest, "0.01,0.1")


def _read_value(dest: str, name: str | None, text: str) -> Any:
    """One value of ``--vary``, as the option would read it."""
    if name is None:  # data: checked when the runs' sessions are built
        return text
    conv = setting_converter(name)
    where = f"--vary {dest}"
    if conv is None:  # a switch
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise CliError(f"{where}: {text[:40]!r} is not true or false")
    if isinstance(conv, tuple):
        if text not in conv:
            raise CliError(f"{where}: {text[:40]!r} is not one of {', '.join(conv)}")
        return text
    try:
        return conv(text.replace("-", ",") if name == "layers" else text)
    except argparse.ArgumentTypeError as exc:
        raise CliError(f"{where}: {exc}") from None


def check_jobs(jobs: int | None) -> int:
    """``--jobs``: 1..the usable CPUs (their number by default)."""
    cpus = usable_cpus()
    if jobs is None:
        return cpus
    if not 1 <= jobs <= cpus:
        plural = "s" * (cpus != 1)
        raise CliError(f"--jobs {jobs}: this machine has {cpus} usable CPU{plural}; give 1..{cpus}")
    return jobs


# --- the runs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One run of the sweep: its place, its seed, the varied values and the arguments of
    the ``nnviz train`` run it is."""

    index: int
    seed: int
    settings: tuple[tuple[str, Any, str], ...]  # (option, value, as written)
    args: argparse.Namespace


def plan(args: argparse.Namespace) -> list[Run]:
    """Every run, the varied values outermost (the seeds of one combination together), each
    combination checked by building its session once: a bad value fails here, in one line."""
    seeds = parse_seeds(args.seeds)
    varied = [parse_vary(v) for v in args.vary]
    dests = [v.dest for v in varied]
    for d in dests:
        if dests.count(d) > 1:
            raise CliError(f"--vary {d} is given twice; give all its values in one --vary")
        if getattr(args, d, None) not in (None, False):
            raise CliError(f"--{d.replace('_', '-')} is given and varied; give one of them")
    combos = math.prod(len(v.values) for v in varied)
    total = combos * len(seeds)
    if total > MAX_SWEEP_RUNS:
        raise CliError(f"{len(seeds):,} seeds x {combos:,} combinations make {total:,} runs; a sweep "
                       f"makes at most {MAX_SWEEP_RUNS:,}")
    if args.data is None and "data" not in dests:
        raise CliError("give --data (a built-in data set or a CSV file)")
    runs: list[Run] = []
    for combo in itertools.product(*(zip(v.values, v.shown, strict=True) for v in varied)):
        settings = tuple((v.dest, value, shown) for v, (value, shown) in zip(varied, combo, strict=True))
        base = dict(vars(args), network=None, log=None)
        base.update((d, value) for d, value, _ in settings)
        _check_combination(argparse.Namespace(**base, seed=seeds[0]), settings)
        for seed in seeds:
            runs.append(Run(len(runs), seed, settings, argparse.Namespace(**base, seed=seed)))
    return runs


def _check_combination(args: argparse.Namespace, settings: Sequence[tuple[str, Any, str]]) -> None:
    """Build the session of one combination: CliError naming the combination if it fails."""
    from nnviz.cli.sessions import session_from_args
    from nnviz.core.data import DataError
    from nnviz.core.spec import SpecError

    try:
        session = session_from_args(args)
        run_steps(args, session.trainer)
    except (CliError, DataError, SpecError, ValueError) as exc:
        shown = ", ".join(f"{d}={s}" for d, _, s in settings)
        raise CliError(f"{shown}: {exc}" if shown else str(exc)) from None


def run_steps(args: argparse.Namespace, trainer: Any) -> int:
    """The steps ``nnviz train`` makes with these arguments (``--epochs`` count whole
    passes over the training split; 1,000 steps by default)."""
    from nnviz.io.network_file_contents import MAX_COUNTER

    if args.epochs is not None:
        steps = args.epochs * max(1, math.ceil(trainer.n_train / trainer.config.batch_size))
    else:
        steps = args.steps if args.steps is not None else DEFAULT_STEPS
    if steps > MAX_COUNTER:
        raise CliError(f"{steps:,} steps would take the step counter past {MAX_COUNTER:,} (2**53); "
                       "ask for fewer")
    return steps


def train_one(args: argparse.Namespace) -> dict[str, Any]:
    """One run, exactly as ``nnviz train`` makes it: the session from the arguments, the
    steps one by one (a divergence goes back to the last finite state), then the losses
    and accuracies on the whole training and test splits."""
    from nnviz.cli.sessions import session_from_args
    from nnviz.core.trainer import DivergedError

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        session = session_from_args(args)
        trainer = session.trainer
        steps = run_steps(args, trainer)
        first = trainer.step_count
        diverged = None
        start = time.perf_counter()
        try:
            for _ in range(steps):
                trainer.step()
            trainer.ensure_finite()
        except DivergedError as exc:
            diverged = exc.step
        elapsed = time.perf_counter() - start
        done = trainer.step_count - first
        ev = trainer.evaluate()
    return {"train_loss": ev["train_loss"], "test_loss": ev["test_loss"], "train_acc": ev["train_accuracy"],
            "test_acc": ev["test_accuracy"], "steps": done,
            "steps_per_s": done / elapsed if elapsed > 0 and done > 0 else 0.0, "diverged_at": diverged}


def worker_main(conn: Connection) -> None:
    """A worker: ``("run", index, args)`` -> ``("result", index, figures)`` or ``("error",
    index, message)``, until ``("stop",)`` or the pipe closes."""
    from nnviz.blas import limit_blas_threads
    from nnviz.core.data import DataError
    from nnviz.core.spec import SpecError

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends the sweep
    limit_blas_threads(1)
    try:
        while True:
            message = recv_message(conn)
            if message[0] != "run":
                return
            index, args = message[1], message[2]
            try:
                send_message(conn, ("result", index, train_one(args)))
            except (CliError, DataError, SpecError, ValueError, OSError, MemoryError, ArithmeticError) as exc:
                send_message(conn, ("error", index, f"{type(exc).__name__}: {exc}"))
    except (EOFError, ConnectionError, BrokenPipeError):
        return
    finally:
        conn.close()


class Pool:
    """At most ``jobs`` worker processes, each given the next run when it hands back one."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[tuple[Any, Connection]] = []

    def _add_worker(self) -> tuple[Any, Connection]:
        mine, theirs = self._ctx.Pipe(duplex=True)
        with sigint_ignored():
            p = self._ctx.Process(target=worker_main, args=(theirs,), name="nnviz-sweep", daemon=True)
            p.start()
        theirs.close()
        self._workers.append((p, mine))
        return p, mine

    def run(self, runs: Sequence[Run], on_result: Callable[[Run, dict[str, Any]], None]) -> None:
        """Train every run; ``on_result`` sees each as it ends (a failed run's figures are
        ``{"error": message}``)."""
        queue = list(runs)
        busy: dict[Connection, Run] = {}
        deaths = 0  # workers that ended unexpectedly since the last result

        def give(conn: Connection) -> None:
            run = queue.pop(0)
            send_message(conn, ("run", run.index, run.args))
            busy[conn] = run

        try:
            for _ in range(min(self.jobs, len(queue))):
                give(self._add_worker()[1])
            while busy:
                for conn in wait(list(busy), timeout=0.5):
                    run = busy.pop(conn)
                    try:
                        message = recv_message(conn)
                    except (EOFError, OSError):
                        proc = next(p for p, c in self._workers if c is conn)
                        proc.join(1.0)
                        self._retire(conn)
                        why = f"its process ended unexpectedly (exit code {proc.exitcode})"
                        on_result(run, {"error": why})
                        deaths += 1
                        if deaths > self.jobs + 1:  # they die as they start: the rest would too
                            gave_up = f"not run: {deaths} worker processes in a row ended unexpectedly"
                            while queue:
                                on_result(queue.pop(0), {"error": gave_up})
                        if queue:
                            give(self._add_worker()[1])
                        continue
                    deaths = 0
                    on_result(run, {"error": message[2]} if message[0] == "error" else message[2])
                    if queue:
                        give(conn)
        finally:
            self.close()

    def _retire(self, conn: Connection) -> None:
        self._workers = [(p, c) for p, c in self._workers if c is not conn]
        conn.close()

    def close(self) -> None:
        """End every worker: ask, give them a moment, then terminate; none is left behind."""
        for _, conn in self._workers:
            with contextlib.suppress(OSError, ValueError):
                send_message(conn, ("stop",))
        deadline = time.monotonic() + 2.0
        for p, _ in self._workers:
            p.join(max(0.05, deadline - time.monotonic()))
        for p, _ in self._workers:
            if p.is_alive():
                p.terminate()
                p.join(2.0)
            if p.is_alive():
                p.kill()
                p.join()
        for _, conn in self._workers:
            conn.close()
        self._workers = []


# --- reporting ------------------------------------------------------------------------------
def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def result_object(run: Run, figures: dict[str, Any]) -> dict[str, Any]:
    """One run's JSON object: ``seed``, ``settings`` (the varied values), the losses and
    accuracies, ``steps``, ``steps_per_s`` (and ``diverged_at``, or ``error``)."""
    out: dict[str, Any] = {"seed": run.seed, "settings": {d: v for d, v, _ in run.settings}}
    for key in ("train_loss", "test_loss", "train_acc", "test_acc", "steps", "steps_per_s", "diverged_at"):
        out[key] = _finite(figures.get(key))
    if "error" in figures:
        out["error"] = figures["error"]
    return out


def _num(v: Any) -> str:
    return "–" if v is None else f"{v:.4g}"


def _pct(v: Any) -> str:
    return "–" if v is None else f"{v:.1%}"


def table(runs: Sequence[Run], results: dict[int, dict[str, Any]]) -> list[str]:
    """The runs as aligned text columns, then, with several seeds, each combination's spread."""
    names = [d for d, _, _ in runs[0].settings] if runs else []
    head = ["seed", *names, "train loss", "test loss", "train acc", "test acc", "steps", "steps/s", ""]
    rows = []
    for run in runs:
        r = results.get(run.index, {"error": "not run"})
        note = r.get("error") or (f"diverged at step {r['diverged_at']}" if r.get("diverged_at") else "")
        rows.append([str(run.seed), *(s for _, _, s in run.settings), _num(r.get("train_loss")),
                     _num(r.get("test_loss")), _pct(r.get("train_acc")), _pct(r.get("test_acc")),
                     str(r.get("steps", "–")), f"{r['steps_per_s']:,.0f}" if r.get("steps_per_s") else "–",
                     note])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i <= len(names) or i == len(head) - 1 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in [head, *rows]]
    seeds = len({run.seed for run in runs})
    if seeds > 1:
        lines.append("")
        for key, group in itertools.groupby(runs, key=lambda r: r.settings):
            lines.append(_spread(key, [results.get(r.index, {}) for r in group]))
    return lines


def _spread(settings: tuple[tuple[str, Any, str], ...], figures: list[dict[str, Any]]) -> str:
    """One combination over its seeds: the test loss's (else the training loss's) mean,
    lowest and highest."""
    which = "test_loss" if any(f.get("test_loss") is not None for f in figures) else "train_loss"
    vals = [f[which] for f in figures if _finite(f.get(which)) is not None]
    shown = ", ".join(f"{d}={s}" for d, _, s in settings) or "all runs"
    if not vals:
        return f"{shown}: no {which.replace('_', ' ')} measured"
    return (f"{shown}: {which.replace('_', ' ')} mean {np.mean(vals):.4g}, min {min(vals):.4g}, "
            f"max {max(vals):.4g} over {len(vals)} seeds")


class _Progress:
    """``12/40 runs`` on stderr, when it is a terminal."""

    def __init__(self, total: int):
        self.total, self.done = total, 0
        self.enabled = sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            sys.stderr.write(f"\r{self.done}/{self.total} runs ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\n")


def cmd_sweep(args: argparse.Namespace) -> int:
    """``nnviz sweep``: 0 when every run trained (a divergence is a result), 1 when a run
    could not; bad arguments raise CliError (exit 2) before any process starts."""
    jobs = check_jobs(args.jobs)
    runs = plan(args)
    results: dict[int, dict[str, Any]] = {}
    progress = _Progress(len(runs))

    def keep(run: Run, figures: dict[str, Any]) -> None:
        results[run.index] = figures
        progress.step()

    start = time.perf_counter()
    try:
        Pool(min(jobs, len(runs))).run(runs, keep)
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps([result_object(r, results[r.index]) for r in runs], indent=1, allow_nan=False))
    else:
        print("\n".join(table(runs, results)))
        print(f"({len(runs)} runs in {seconds:.1f} s, {min(jobs, len(runs))} at a time)")
    failed = [r for r in runs if "error" in results[r.index]]
    for r in failed[:5]:
        print(f"nnviz: the run with seed {r.seed}{_named(r)} could not train: {results[r.index]['error']}",
              file=sys.stderr)
    return 1 if failed else 0


def _named(run: Run) -> str:
    return "".join(f", {d}={s}" for d, _, s in run.settings)


__all__ = ["MAX_SWEEP_RUNS", "Pool", "Run", "Varied", "check_jobs", "cmd_sweep", "parse_seeds", "parse_vary",
           "plan", "result_object", "run_steps", "settable", "table", "train_one", "worker_main"]
