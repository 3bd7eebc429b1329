"""Train the runs of a comparison side by side, each in its own process, in lockstep.

Why processes of our own rather than :class:`~nnviz.training.process.TrainingProcess`:
that transport runs the window's interactive loop (play, pause, a snapshot whenever the
window acknowledged the last one, paced by the clock), so runs driven through it reach
step k at different moments and a "checkpoint" would be whatever step each happened to
be at. A comparison needs the opposite: every run stops at exactly step k, is measured
there, and none goes past k before all have been measured. So each child here obeys one
command, "advance to step k and measure", and the parent waits for all of them before it
sends the next. What is shared with the training process is the care: the ``spawn``
context (fork would copy the window's threads' locks), one BLAS thread per child (the
children already use every core), :func:`~nnviz.training.process.send_message` and
:func:`~nnviz.training.process.recv_message` on a private pipe between two copies of the
same program (pickle never touches a user's file: a child receives checked settings and
builds its session itself from the built-in generators), and a child that ends when the
pipe closes. Every child makes the same data from the same settings, so the runs share
their examples without the data crossing a pipe.

:class:`ComparisonRunner` is the headless API: iterate it for :class:`Checkpoint` records
(immutable), or call :func:`run_lesson` with a callback. Both are Qt-free; the window can
iterate on a worker thread and hand each checkpoint to its views.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from nnviz.app.run_settings import RunSettings, SettingsError, build_session
from nnviz.core.session import GRID_SIZE
from nnviz.core.trainer import DivergedError, Snapshot, Trainer
from nnviz.core.update_signs import one_sign_fractions
from nnviz.lessons.calculations import CalculationResult, compute
from nnviz.lessons.checks import Verdict, evaluate
from nnviz.lessons.format import MAX_RUNS, Lesson
from nnviz.lessons.records import Checkpoint, LayerFigures, RunRecord
from nnviz.training.process import freeze, recv_message, send_message, usable_cpus

#: examples of the training split whose pre-activations decide which units are silent
SILENT_PROBE = 256
#: minibatches of the probe examples whose weight gradients' signs are counted (a few ms at most)
SIGN_BATCHES = 16
#: the longest a child may take to start and build its session, or to train from one
#: checkpoint to the next, before the comparison gives up on it (seconds)
START_TIMEOUT = 120.0
STEP_TIMEOUT = 600.0


class LessonRunError(RuntimeError):
    """A run of the comparison could not be made or stopped; the message names it."""


class _StoppedError(Exception):
    """Asked to stop while the runs were on their way to a checkpoint."""


# --- the child ------------------------------------------------------------------------------
def _class_map(snap: Snapshot) -> np.ndarray | None:
    """The predicted class at each point of the snapshot's grid (None off the plane)."""
    if snap.grid is None or snap.confusion is None:
        return None
    out = snap.grid.output
    return out.argmax(axis=2) if out.shape[2] > 1 else (out[..., 0] > 0.5).astype(np.int64)


def count_regions(labels: np.ndarray) -> int:
    """Connected regions (neighbours across and down) of equal class in a 2-D class map:
    how many pieces the decision regions fall into. Vectorised: each pass hooks every
    point onto the smallest label of its same-class neighbours, then jumps pointers."""
    h, w = labels.shape
    idx = np.arange(h * w).reshape(h, w)
    right = labels[:, 1:] == labels[:, :-1]
    down = labels[1:, :] == labels[:-1, :]
    a = np.concatenate([idx[:, :-1][right], idx[:-1, :][down]])
    b = np.concatenate([idx[:, 1:][right], idx[1:, :][down]])
    comp = np.arange(h * w)
    while True:
        low = np.minimum(comp[a], comp[b])
        new = comp.copy()
        np.minimum.at(new, comp[a], low)  # hook the roots onto the smaller label
        np.minimum.at(new, comp[b], low)
        while True:  # pointer jumping: every point straight to its root
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, comp):
            return int(np.unique(comp).size)
        comp = new


def nonlinear_fraction(labels: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> float:
    """Share of the grid where the class map differs from the nearest split by straight
    lines (a least-squares linear classifier fitted to the map itself): 0 for a network
    that draws straight boundaries, more the more its regions bend and break up."""
    gx, gy = np.meshgrid((xs - xs.mean()) / (np.ptp(xs) or 1.0), (ys - ys.mean()) / (np.ptp(ys) or 1.0))
    A = np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)], axis=1)
    flat = labels.ravel()
    classes = np.unique(flat)
    if len(classes) < 2:
        return 0.0
    targets = (flat[:, None] == classes[None, :]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, targets, rcond=None)
    linear = classes[np.argmax(A @ coef, axis=1)]
    return float(np.mean(linear != flat))


def _boundary_fraction(labels: np.ndarray | None) -> float | None:
    """Share of neighbouring grid points (across and down) whose predicted classes differ."""
    if labels is None:
        return None
    across = np.count_nonzero(labels[:, 1:] != labels[:, :-1])
    down = np.count_nonzero(labels[1:, :] != labels[:-1, :])
    pairs = labels[:, 1:].size + labels[1:, :].size
    return float(across + down) / pairs if pairs else None


def _silent(trainer: Trainer) -> tuple[float, ...]:
    """Per hidden layer, the share of units whose pre-activation is <= 0 on every probe example."""
    cache = trainer.network.forward(trainer.X[:SILENT_PROBE])
    return tuple(float(np.mean(~np.any(z > 0, axis=0))) for z in cache.pre)


def _one_sign(trainer: Trainer) -> tuple[float, ...]:
    """Per dense layer, the share of minibatch updates with one sign per unit (see
    :mod:`nnviz.core.update_signs`), on the probe examples in the run's batch size."""
    n = min(SILENT_PROBE, len(trainer.X))
    return one_sign_fractions(trainer.network, trainer.X[:n], trainer.y[:n], trainer.config.batch_size,
                              SIGN_BATCHES)


def measure_run(name: str, trainer: Trainer, diverged_at: int | None, seconds: float,
                keep_snapshot: bool) -> RunRecord:
    """The figures of one run now: a snapshot of the trainer (the views' own statistics)
    reduced to plain numbers, plus silent units and the decision boundary's length."""
    snap = trainer.snapshot()
    labels = _class_map(snap)
    silent = _silent(trainer)
    signs = _one_sign(trainer)
    layers = tuple(
        LayerFigures(
            name=lay.name, activation=lay.activation, units=lay.units, dead_fraction=lay.dead_fraction,
            saturated_fraction=lay.saturated_fraction,
            silent_fraction=silent[i] if i < len(silent) else 0.0, grad_norm=lay.grad_norm,
            weight_norm=lay.weight_norm, dead_since_start=lay.dead_since_start,
            one_sign_fraction=None if i >= len(signs) or math.isnan(signs[i]) else signs[i],
        )
        for i, lay in enumerate(snap.layers)
    )
    return RunRecord(
        run=name, step=snap.step, epoch=snap.epoch, train_loss=float(snap.train_loss),
        train_accuracy=snap.train_accuracy, test_loss=snap.test_loss, test_accuracy=snap.test_accuracy,
        layers=layers, boundary_fraction=_boundary_fraction(labels),
        regions=None if labels is None else count_regions(labels),
        nonlinear_fraction=None if labels is None else nonlinear_fraction(labels, snap.grid.xs, snap.grid.ys),
        diverged_at=diverged_at,
        seconds=seconds, snapshot=snap if keep_snapshot else None,
    )


def child_main(conn: Connection, name: str, settings: RunSettings, keep_snapshots: bool) -> None:
    """One run: build its session, then obey ``("advance", step)`` until ``("stop",)``."""
    from nnviz.blas import limit_blas_threads

    limit_blas_threads(1)
    try:
        grid = GRID_SIZE if settings.data.is_2d else 0
        session = build_session(settings, grid_size=grid)
        trainer = session.trainer
        send_message(conn, ("ready",))
        diverged_at: int | None = None
        seconds = cpu_seconds = 0.0
        while True:
            message = recv_message(conn)
            if message[0] != "advance":
                return
            target = int(message[1])
            t0, c0 = time.perf_counter(), time.process_time()
            step = trainer.step
            # a run heading for divergence overflows on the way; the trainer notices and
            # rolls back (a warning on the terminal would say nothing more)
            with np.errstate(over="ignore", invalid="ignore"):
                while diverged_at is None and trainer.step_count < target:
                    try:
                        step()
                    except DivergedError as exc:
                        diverged_at = exc.step
                record = measure_run(name, trainer, diverged_at, 0.0, keep_snapshots)
            seconds += time.perf_counter() - t0
            cpu_seconds += time.process_time() - c0
            record = dataclasses.replace(record, seconds=seconds, cpu_seconds=cpu_seconds)
            send_message(conn, ("record", record))
    except (EOFError, ConnectionError, BrokenPipeError):
        return
    except (SettingsError, ValueError, MemoryError, ArithmeticError) as exc:
        with contextlib.suppress(OSError, ValueError):
            send_message(conn, ("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


# --- the parent -----------------------------------------------------------------------------
@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ctrl+C ignored while child processes start: a process started then inherits the
    ignoring from its first instruction (Python keeps an ignored SIGINT ignored), so a
    Ctrl+C stops the parent, which stops its children, and never lands in a child half
    started. Only the main thread may change it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


class ComparisonRunner:
    """Up to :data:`MAX_RUNS` runs trained side by side, one process each, measured
    together at each of ``checkpoints`` (step counts, rising): iterate for
    :class:`Checkpoint` records. No run goes past a checkpoint before every run has been
    measured there; between two checkpoints at most ``parallel`` runs train at once (the
    usable cores by default). Close it (or use ``with``) to end the children early."""

    def __init__(self, runs: Sequence[tuple[str, RunSettings]], checkpoints: Sequence[int],
                 snapshots: bool = False, stop: threading.Event | None = None, parallel: int | None = None):
        if not 1 <= len(runs) <= MAX_RUNS:
            raise ValueError(f"a comparison has 1..{MAX_RUNS} runs, not {len(runs)}")
        steps = [int(s) for s in checkpoints]
        if not steps or any(b <= a for a, b in itertools.pairwise(steps)) or steps[0] < 0:
            raise ValueError("checkpoints must be rising step counts >= 0")
        self.runs = tuple(runs)
        self.checkpoints = tuple(steps)
        self.snapshots = snapshots
        #: runs training at once between two checkpoints (default: the usable cores)
        self.parallel = max(1, int(parallel)) if parallel is not None else usable_cpus()
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        #: set from any thread: the iteration ends at once (children on their way to a
        #: checkpoint are ended, not waited for)
        self._stop = threading.Event() if stop is None else stop
        self._started = False
        self.history: dict[str, list[RunRecord]] = {name: [] for name, _ in self.runs}

    @classmethod
    def for_lesson(cls, lesson: Lesson, snapshots: bool = False,
                   stop: threading.Event | None = None) -> ComparisonRunner:
        """The comparison ``lesson`` describes."""
        return cls([(r.name, r.settings) for r in lesson.runs], lesson.checkpoint_steps, snapshots, stop)

    def stop(self) -> None:
        """End the iteration (any thread): no further checkpoint is handed out, and runs on
        their way to one are ended rather than waited for."""
        self._stop.set()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # as the training process: never fork
        for name, settings in self.runs:
            mine, theirs = ctx.Pipe(duplex=True)
            p = ctx.Process(target=child_main, args=(theirs, name, settings, self.snapshots),
                            name=f"nnviz-lesson-{name}", daemon=True)
            with sigint_ignored():  # Ctrl+C is the parent's to handle: no child tracebacks
                p.start()
            theirs.close()
            self._procs.append(p)
            self._conns.append(mine)
        self._started = True
        self._gather("ready", START_TIMEOUT)

    def _gather(self, kind: str, timeout: float, advance_to: int | None = None) -> list[Any]:
        """The next message of every child, in the order of the runs; LessonRunError if one
        fails, dies or takes longer than ``timeout`` seconds. With ``advance_to``, first
        send each child "advance", at most :attr:`parallel` at a time: on fewer cores than
        runs, the next run starts its stretch when one has finished its own, instead of
        all of them sharing the cores (measured: each process then keeps its cache and its
        speed)."""
        n = len(self._conns)
        answers: dict[int, Any] = {}
        queued = list(range(n))
        waiting: dict[int, float] = {}  # run -> its deadline
        slots = n if advance_to is None else max(1, min(n, self.parallel))

        def start(i: int) -> None:
            if advance_to is not None:
                try:
                    send_message(self._conns[i], ("advance", advance_to))
                except (OSError, ValueError) as exc:  # the pipe is broken: the child is gone
                    raise LessonRunError(f"the run {self.runs[i][0]!r} stopped unexpectedly") from exc
            waiting[i] = time.monotonic() + timeout

        while queued and len(waiting) < slots:
            start(queued.pop(0))
        while waiting:
            if kind == "record" and self._stop.is_set():
                raise _StoppedError
            late = [i for i, d in waiting.items() if d <= time.monotonic()]
            if late:
                names = ", ".join(self.runs[i][0] for i in late)
                raise LessonRunError(f"the run(s) {names} took longer than {timeout:g} s")
            for conn in wait([self._conns[i] for i in waiting], timeout=0.1):
                i = next(k for k in waiting if self._conns[k] is conn)
                name = self.runs[i][0]
                try:
                    message = recv_message(conn)
                except (EOFError, OSError) as exc:
                    raise LessonRunError(f"the run {name!r} stopped unexpectedly") from exc
                if message[0] == "error":
                    raise LessonRunError(f"the run {name!r} could not train: {message[1]}")
                if message[0] != kind:
                    raise LessonRunError(f"the run {name!r} answered {message[0]!r}")
                # every array that arrives read-only, as the training process's are
                answers[i] = freeze(message[1]) if len(message) > 1 else None
                del waiting[i]
                if queued:
                    start(queued.pop(0))
        return [answers[i] for i in range(len(self._conns))]

    def __iter__(self) -> Iterator[Checkpoint]:
        if self._started:
            raise RuntimeError("a comparison runs once")
        try:
            self._start()
            for step in self.checkpoints:
                if self._stop.is_set():
                    return
                records = self._gather("record", STEP_TIMEOUT, advance_to=step)
                for rec in records:  # the figures only: snapshots go out with the checkpoint
                    self.history[rec.run].append(rec.without_snapshot())
                yield Checkpoint(step, tuple(records))
        except _StoppedError:
            return
        finally:
            self.close(wait=not self._stop.is_set())

    def close(self, wait: bool = True) -> None:
        """End every child: politely (``wait``: up to 5 s for the step under way), then by
        force; safe to call twice."""
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                send_message(conn, ("stop",))
        for p in self._procs:
            p.join(5.0 if wait else 0.2)
            if p.is_alive():
                p.terminate()
                p.join(2.0)
        for conn in self._conns:
            conn.close()
        self._conns, self._procs = [], []

    def __enter__(self) -> ComparisonRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class LessonResult:
    """A lesson run to its end (or stopped): every checkpoint and the verdict."""

    lesson: Lesson
    checkpoints: tuple[Checkpoint, ...]
    verdict: Verdict
    seconds: float
    complete: bool  # False: stopped before the last checkpoint (the verdict is on what was made)
    calculations: tuple[CalculationResult, ...] = ()  # the lesson's calculations, made

    def history(self) -> dict[str, tuple[RunRecord, ...]]:
        """Each run's records in step order."""
        return {r.name: tuple(c.record(r.name) for c in self.checkpoints) for r in self.lesson.runs}


def run_lesson(lesson: Lesson, on_checkpoint: Callable[[Checkpoint], None] | None = None,
               snapshots: bool = False, stop: threading.Event | None = None,
               on_calculation: Callable[[CalculationResult], None] | None = None) -> LessonResult:
    """Make ``lesson``'s calculations (in this process: they take milliseconds; each
    result goes to ``on_calculation``) and its runs, and check its outcome.
    ``on_checkpoint`` sees every checkpoint as it comes (with ``snapshots``, each record
    carries the read-only snapshot of that moment; the result keeps the figures only);
    ``stop`` (set from any thread) ends it at once, and the verdict is then measured on
    what was made (``complete`` is False)."""
    t0 = time.perf_counter()
    tables: list[CalculationResult] = []
    for calc in lesson.calculations:
        if stop is not None and stop.is_set():
            break
        tables.append(compute(calc))
        if on_calculation is not None:
            on_calculation(tables[-1])
    checkpoints: list[Checkpoint] = []
    history: dict[str, tuple[RunRecord, ...]] = {}
    if lesson.runs and not (stop is not None and stop.is_set()):
        runner = ComparisonRunner.for_lesson(lesson, snapshots, stop)
        with runner:
            for cp in runner:
                checkpoints.append(cp.without_snapshots())
                if on_checkpoint is not None:
                    on_checkpoint(cp)
        history = {name: tuple(recs) for name, recs in runner.history.items()}
    made_runs = not lesson.runs or (bool(checkpoints) and checkpoints[-1].step == lesson.steps)
    complete = made_runs and len(tables) == len(lesson.calculations)
    verdict = evaluate(lesson, history, tables)
    return LessonResult(lesson, tuple(checkpoints), verdict, time.perf_counter() - t0, complete,
                        tuple(tables))


def figures(result: LessonResult) -> list[dict[str, Any]]:
    """Each run's figures at the end, as plain numbers (for reports and docs)."""
    out = []
    for name, recs in result.history().items():
        end = recs[-1]
        hidden = end.hidden
        row: dict[str, Any] = {"run": name, "step": end.step, "train_loss": end.train_loss,
                               "test_loss": end.test_loss, "train_accuracy": end.train_accuracy,
                               "test_accuracy": end.test_accuracy,
                               "boundary_fraction": end.boundary_fraction, "regions": end.regions,
                               "nonlinear_fraction": end.nonlinear_fraction,
                               "diverged_at": end.diverged_at}
        for attr in ("dead_fraction", "saturated_fraction", "silent_fraction"):
            vals = [getattr(h, attr) for h in hidden if getattr(h, attr) is not None]
            row[attr] = float(np.mean(vals)) if vals else None
        units = sum(h.units for h in hidden if h.dead_since_start is not None)
        row["died_fraction"] = (sum(h.dead_since_start or 0 for h in hidden) / units) if units else None
        row["grad_norms"] = [lay.grad_norm for lay in end.layers]
        row["one_sign_fractions"] = [lay.one_sign_fraction for lay in end.layers]
        row["seconds"] = end.seconds
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    return out


__all__ = ["ComparisonRunner", "LessonResult", "LessonRunError", "child_main", "figures", "measure_run",
           "run_lesson"]
