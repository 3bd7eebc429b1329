"""``nnviz train``: train headless for ``--steps`` or ``--epochs``, with a progress bar, an
optional CSV log of every step, and the network saved with ``--out``. A run that diverges
goes back to its last finite state and exits 1.
"""

from __future__ import annotations

import csv
import math
import sys
import time

import numpy as np

from nnviz.cli.parser import CliError
from nnviz.cli.sessions import session_from_args


class _Progress:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, total: int, enabled: bool):
        self.total = max(total, 1)
        self.enabled = enabled
        self.last = 0.0

    def update(self, done: int, loss: float, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        frac = done / self.total
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r[{bar:<30}] {done}/{self.total} steps  loss {loss:.4g}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _log_header(session) -> list[str]:
    cols = ["step", "epoch", "train_loss", "reg_loss"]
    if session.network.loss.is_classification:
        cols.append("train_acc")
    for i in range(len(session.spec.hidden)):
        cols += [f"h{i + 1}_dead", f"h{i + 1}_saturated", f"h{i + 1}_grad_norm"]
    cols += ["test_loss"]
    if session.network.loss.is_classification:
        cols.append("test_acc")
    return cols


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


#: steps kept in a buffer before they go into the session's history in one copy
HISTORY_CHUNK = 4096
#: steps between two looks at the progress bar's clock
PROGRESS_EVERY = 32


def train_steps(session, steps: int, writer=None, eval_every: int = 100,
                progress: _Progress | None = None):
    """``steps`` steps of ``session``'s trainer, as ``nnviz train`` takes them: every step
    in the session's history, a CSV row per step when ``writer`` is given (with the test
    split evaluated every ``eval_every`` steps), the progress bar now and then. Returns
    (steps done, seconds, the DivergedError or None).

    Without a log the loop does nothing per step but the step itself and one tuple kept
    in a list: the rows reach the history in chunks (one NumPy copy per
    :data:`HISTORY_CHUNK` steps instead of one per step), and the bar's clock is read every
    :data:`PROGRESS_EVERY` steps.
    """
    from nnviz.core.trainer import DivergedError

    trainer = session.trainer
    history = session.history
    classify = session.network.loss.is_classification
    first_step = trainer.step_count
    rows: list[tuple] = []
    nan = math.nan
    show = progress is not None and progress.enabled

    def flush() -> None:
        if rows:
            history.add_steps(np.array(rows, dtype=np.float64))
            rows.clear()

    diverged = None
    done = 0
    start = time.perf_counter()
    try:
        if writer is None:
            step = trainer.step
            keep = rows.append
            for k in range(steps):
                rec = step()
                acc = rec.accuracy
                keep((rec.step, rec.epoch, rec.loss, nan if acc is None else acc))
                if not (k + 1) % PROGRESS_EVERY:
                    if len(rows) >= HISTORY_CHUNK:
                        flush()
                    if show:
                        progress.update(k + 1, rec.loss)
            done = steps
        else:
            for k in range(steps):
                rec = trainer.step()
                done = k + 1
                history.add_step(rec.step, rec.epoch, rec.loss, rec.accuracy)
                _log_row(writer, session, trainer, rec, classify,
                         done % eval_every == 0 or done == steps)
                if show:
                    progress.update(done, rec.loss)
        flush()
        trainer.ensure_finite()  # the state between checkpoints, before it is saved
    except DivergedError as e:
        diverged = e
        flush()
        history.truncate(trainer.step_count)  # rows past the restored step are undone
        done = trainer.step_count - first_step
    return done, time.perf_counter() - start, diverged


def _log_row(writer, session, trainer, rec, classify: bool, evaluate: bool) -> None:
    row = [rec.step, rec.epoch, rec.loss, rec.reg_loss]
    if classify:
        row.append(rec.accuracy)
    for layer in rec.layers or ():
        row += [layer.dead, layer.saturated, layer.grad_norm]
    if evaluate:
        ev = trainer.evaluate()
        row.append(ev["test_loss"])
        if classify:
            row.append(ev["test_accuracy"])
        session.history.add_eval(rec.step, ev["train_loss"], ev["train_accuracy"],
                                 ev["test_loss"], ev["test_accuracy"])
    else:
        row += [None] * (2 if classify else 1)
    writer.writerow([_fmt(v) for v in row])


def cmd_train(args) -> int:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _train(args)


def _train(args) -> int:
    from nnviz.io.network_file_contents import MAX_COUNTER

    session = session_from_args(args)
    trainer = session.trainer
    n_train = trainer.n_train
    if args.epochs is not None:
        steps = args.epochs * max(1, math.ceil(n_train / trainer.config.batch_size))
    else:
        steps = args.steps if args.steps is not None else 1000
    if trainer.step_count + steps > MAX_COUNTER:
        what = f"--epochs {args.epochs}" if args.epochs is not None else f"--steps {steps}"
        raise CliError(f"{what} would take the step counter past {MAX_COUNTER:,} (2**53), the most a "
                       f"network file records; ask for fewer")
    log_file = writer = None
    if args.log:
        try:
            log_file = open(args.log, "w", newline="")  # noqa: SIM115 - closed below
        except OSError as e:
            raise CliError(f"cannot write the log {args.log}: {e.strerror}") from None
        writer = csv.writer(log_file)
        writer.writerow(_log_header(session))
    progress = _Progress(steps, sys.stderr.isatty() and not args.quiet)
    try:
        done, elapsed, diverged = train_steps(session, steps, writer, args.eval_every, progress)
    finally:
        progress.close()
        if log_file is not None:
            log_file.close()
    if args.out:
        from nnviz.io import save_session

        save_session(session, args.out)
    ev = trainer.evaluate()
    rate = done / elapsed if elapsed > 0 and done > 0 else 0.0
    parts = [f"{done} steps ({trainer.epoch} epochs) in {elapsed:.2f} s, {rate:,.0f} steps/s",
             f"train loss {ev['train_loss']:.4g}"]
    if ev["train_accuracy"] is not None:
        parts.append(f"train acc {ev['train_accuracy']:.1%}")
    if ev["test_loss"] is not None:
        parts.append(f"test loss {ev['test_loss']:.4g}")
    if ev["test_accuracy"] is not None:
        parts.append(f"test acc {ev['test_accuracy']:.1%}")
    print(", ".join(parts))
    if args.out:
        print(f"saved {args.out}")
    if diverged is not None:
        saved = " and was saved" if args.out else ""
        print(f"nnviz: {diverged}: {diverged.cause} became NaN or infinite; the network went back "
              f"to its last finite state (step {diverged.restored_step}){saved}. "
              "Try a lower --lr or scaled inputs (--preprocess standardize).", file=sys.stderr)
        return 1
    return 0
