"""The `nnviz` command: the window, or headless sub-commands over the core.

    nnviz [FILE]                open the window (on the demo, or on FILE)
    nnviz --self-test           open the window, train, save, reopen; exit 0 if all is well
    nnviz train|info|predict|export|import|bench ...

Errors print one line and exit 2; a diverged training run exits 1.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from nnviz import __version__

SUBCOMMANDS = ("train", "info", "predict", "export", "import", "bench")


class CliError(Exception):
    """A problem to report in one line (exit status 2)."""


# --- argument parsing ------------------------------------------------------------------
def _whole(text: str, minimum: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= {minimum}")
    return v


def _positive_int(text: str) -> int:
    """A count that may be zero (``--steps 0`` saves an untrained network; a seed)."""
    return _whole(text, 0)


def _count(text: str) -> int:
    """A count that must be at least one (a batch, epochs, examples, an interval)."""
    return _whole(text, 1)


def _float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def _layers(text: str) -> list[int]:
    if text.strip() in ("", "none", "0"):
        return []
    try:
        units = [int(u) for u in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--layers takes widths like 8,8, not {text!r}") from None
    if any(u < 1 for u in units):
        raise argparse.ArgumentTypeError("every layer needs at least one unit")
    return units


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise CliError(message)


#: how each kind of setting's flag reads its value (see nnviz.app.settings_schema)
_CONVERTERS = {"count": _count, "whole": _positive_int, "number": _float, "layers": _layers}


def _add_setting_options(parser: argparse.ArgumentParser) -> None:
    """The ``train`` options that set a run's settings, from the settings schema. Each
    defaults to None: an omitted option keeps a saved network's value, or the default."""
    from nnviz.app.settings_schema import cli_settings

    for s in cli_settings():
        kw: dict[str, Any] = {"default": None}
        if s.help is not None:
            kw["help"] = s.help
        if s.cli == "switch":
            kw["action"] = "store_true"
        elif s.cli == "choice":
            kw["choices"] = s.choices
        else:
            kw["type"] = _CONVERTERS[s.cli]
        parser.add_argument(s.flag, **kw)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nnviz", description="Watch a neural network learn.")
    p.add_argument("--version", action="version", version=f"nnviz {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    t = sub.add_parser("train", help="train a network headless")
    t.add_argument("network", nargs="?", help="a saved network to continue training from")
    t.add_argument("--data", help="built-in data set name (or digits) or a CSV path")
    t.add_argument("--label", help="CSV: the label column's name (default: the last column)")
    _add_setting_options(t)
    g = t.add_mutually_exclusive_group()
    g.add_argument("--steps", type=_positive_int)
    g.add_argument("--epochs", type=_count)
    t.add_argument("--out", help="save the network here (.nnviz)")
    t.add_argument("--log", help="write one CSV row per step here")
    t.add_argument("--eval-every", type=_count, default=100,
                   help="steps between test evaluations in the log (default 100)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    i = sub.add_parser("info", help="describe a saved network")
    i.add_argument("file")

    pr = sub.add_parser("predict", help="predict a CSV with a saved network")
    pr.add_argument("file")
    pr.add_argument("--data", required=True, help="CSV in the training layout")
    pr.add_argument("--label", help="the label column's name, if not the last column")
    pr.add_argument("--out", help="write predictions here (default: standard output)")

    e = sub.add_parser("export", help="export a saved network to ONNX")
    e.add_argument("file")
    e.add_argument("out")

    im = sub.add_parser("import", help="import an ONNX MLP as a network file")
    im.add_argument("model")
    im.add_argument("out")

    b = sub.add_parser("bench", help="time the engine (or, with --gui, the window)")
    b.add_argument("--gui", action="store_true")
    b.add_argument("--json", action="store_true")
    b.add_argument("--quick", action="store_true", help="shorter timings")
    return p


# --- data and sessions -----------------------------------------------------------------
def _load_data(args) -> Any:
    from nnviz.app.settings_schema import setting
    from nnviz.io.sources import OFFERED, SOURCES, regenerate

    name = args.data
    if name in OFFERED:  # a built-in data set, or the handwritten digits of the shipped example
        src = SOURCES[name]
        recipe: dict[str, Any] = {
            "generator": name,
            "n": args.examples if args.examples is not None else src.default_n,
            "noise": args.noise if args.noise is not None else src.default_noise,
            "seed": args.seed if args.seed is not None else setting("seed").default,
        }
        if args.arms is not None:
            if "arms" not in src.params:
                raise CliError("--arms applies to the spiral data set only")
            recipe["arms"] = args.arms
        return regenerate(recipe)
    if not Path(name).exists():
        raise CliError(
            f"--data {name!r} is neither a built-in data set ({', '.join(OFFERED)}) nor a file"
        )
    from nnviz.io import load_csv

    return load_csv(name, label=args.label)


def _optimizer_config(args, base=None):
    from nnviz.core.optim import OptimizerConfig

    name = args.optimizer or (base.name if base else "adam")
    hyper: dict[str, float] = {}
    if base is not None and base.name == name:
        hyper.update(base.hyper)
    if args.lr is not None:
        if args.lr <= 0:
            raise CliError("--lr must be > 0")
        hyper["lr"] = args.lr
    elif base is None or base.name != name:
        hyper["lr"] = {"adam": 0.01, "adamw": 0.01, "rmsprop": 0.01}.get(name, 0.1)
    if args.momentum is not None:
        if name not in ("sgd", "momentum", "nesterov", "rmsprop"):
            raise CliError(f"--momentum does not apply to {name}")
        hyper["momentum"] = args.momentum
    return OptimizerConfig(name, hyper)


def _train_config(args, base=None):
    from nnviz.app.settings_schema import setting
    from nnviz.core.optim import Schedule
    from nnviz.core.trainer import TrainConfig

    def pick(name, default):
        v = getattr(args, name)
        if v is not None:
            return v
        return getattr(base, name) if base is not None else default

    schedule = base.schedule if base is not None else Schedule()
    if args.schedule is not None:
        schedule = Schedule(args.schedule)
    return TrainConfig(
        optimizer=_optimizer_config(args, base.optimizer if base else None),
        schedule=schedule,
        batch_size=pick("batch_size", setting("batch_size").default),
        l2=pick("l2", setting("l2").default),
        l1=pick("l1", setting("l1").default),
        dropout=pick("dropout", setting("dropout").default),
        seed=pick("seed", setting("seed").default),
    )


def _session_from_args(args):
    from nnviz.app.settings_schema import setting
    from nnviz.core.session import DataConfig, Session, build_spec

    if args.network:
        return _continue_session(args)
    if not args.data:
        raise CliError("give --data (a built-in data set or a CSV file), or a saved network")
    data = _load_data(args)
    init = args.init or setting("init").default
    init_std = _init_std(args, init)
    dc = DataConfig(
        test_fraction=(args.test_fraction if args.test_fraction is not None
                       else setting("test_fraction").default),
        preprocess=args.preprocess or setting("preprocess").default,
    )
    spec = build_spec(
        data, dc,
        layers=args.layers if args.layers is not None else list(setting("layers").default),
        activation=args.activation or setting("activations").default[0],
        loss=args.loss,
        init=init,
        residual=bool(args.residual),
        dtype=args.dtype or setting("dtype").default,
        init_std=init_std,
    )
    return Session(data, dc, spec, _train_config(args), track_layers=bool(args.log))


def _init_std(args, init: str) -> float | None:
    """``--init-std``, checked: it applies to ``--init normal`` only, and must be a finite
    number in the core's range (None when it does not apply)."""
    from nnviz.app.settings_schema import setting
    from nnviz.core.init import SCALED_INIT, check_init_std

    if init != SCALED_INIT:
        if args.init_std is not None:
            raise CliError(f"--init-std applies to --init {SCALED_INIT} only, not {init}")
        return None
    if args.init_std is None:
        return setting("init_std").default
    try:
        return check_init_std(args.init_std, "--init-std")
    except ValueError as exc:
        raise CliError(str(exc)) from None


#: options fixed by a saved network: its architecture and its data split
_FIXED = ("layers", "activation", "loss", "init", "init_std", "residual", "dtype", "preprocess",
          "test_fraction")


def _saved_settings(loaded) -> dict[str, Any]:
    """The values a saved network has for the :data:`_FIXED` options (an option given
    the same value again changes nothing)."""
    spec = loaded.spec
    acts = {h.activation for h in spec.hidden}
    return {
        "layers": [h.units for h in spec.hidden],
        "activation": acts.pop() if len(acts) == 1 else None,
        "loss": spec.loss, "init": spec.init, "init_std": spec.init_std, "residual": spec.residual,
        "dtype": spec.dtype, "preprocess": loaded.data_config.preprocess,
        "test_fraction": loaded.data_config.test_fraction,
    }


def _continue_session(args):
    from nnviz.io import load_file

    loaded = load_file(args.network)
    saved = _saved_settings(loaded)
    for o in _FIXED:
        given = getattr(args, o)
        if o == "init_std" and given is not None and saved[o] is None:
            raise CliError(f"--init-std applies to --init normal only; this network's initialiser is "
                           f"{saved['init']}")
        if given is not None and given != saved[o]:
            raise CliError(
                f"--{o.replace('_', '-')} cannot change a saved network's architecture or data "
                f"split (it has {_show(saved[o])}); train a new network instead"
            )
    data = _load_data(args) if args.data else None
    session = loaded.to_session(data)
    trainer = session.trainer
    cfg = _train_config(args, session.train_config)
    if cfg.seed != session.train_config.seed:
        raise CliError("--seed cannot change for a saved network (it fixes the data split)")
    before = trainer.config.optimizer
    if cfg.optimizer != before and not trainer.set_optimizer(cfg.optimizer):
        change = (f"the {before.name} settings now keep other state" if cfg.optimizer.name == before.name
                  else f"the optimizer changes from {before.name} to {cfg.optimizer.name}")
        print(f"nnviz: {change}; its state (moments, momentum) starts fresh", file=sys.stderr)
    trainer.update_config(
        batch_size=cfg.batch_size, l2=cfg.l2, l1=cfg.l1, dropout=cfg.dropout, schedule=cfg.schedule
    )
    trainer.track_layers = bool(args.log)
    return session


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "no hidden layers"
    return "mixed activations" if value is None else f"{value}"


# --- train -----------------------------------------------------------------------------
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


def cmd_train(args) -> int:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _train(args)


def _train(args) -> int:
    from nnviz.io.network_file_contents import MAX_COUNTER

    session = _session_from_args(args)
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
    classify = session.network.loss.is_classification
    log_file = writer = None
    if args.log:
        try:
            log_file = open(args.log, "w", newline="")  # noqa: SIM115 - closed below
        except OSError as e:
            raise CliError(f"cannot write the log {args.log}: {e.strerror}") from None
        writer = csv.writer(log_file)
        writer.writerow(_log_header(session))
    progress = _Progress(steps, sys.stderr.isatty() and not args.quiet)
    diverged = None
    start = time.perf_counter()
    first_step = trainer.step_count
    done = 0
    from nnviz.core.trainer import DivergedError

    try:
        for k in range(steps):
            rec = trainer.step()
            done = k + 1
            session.history.add_step(rec.step, rec.epoch, rec.loss, rec.accuracy)
            if writer is not None:
                row = [rec.step, rec.epoch, rec.loss, rec.reg_loss]
                if classify:
                    row.append(rec.accuracy)
                for layer in rec.layers or ():
                    row += [layer.dead, layer.saturated, layer.grad_norm]
                if done % args.eval_every == 0 or done == steps:
                    ev = trainer.evaluate()
                    row.append(ev["test_loss"])
                    if classify:
                        row.append(ev["test_accuracy"])
                    session.history.add_eval(rec.step, ev["train_loss"], ev["train_accuracy"],
                                             ev["test_loss"], ev["test_accuracy"])
                else:
                    row += [None] * (2 if classify else 1)
                writer.writerow([_fmt(v) for v in row])
            progress.update(done, rec.loss)
        trainer.ensure_finite()  # the state between checkpoints, before it is saved
    except DivergedError as e:
        diverged = e
        session.history.truncate(trainer.step_count)  # rows past the restored step are undone
        done = trainer.step_count - first_step
    finally:
        progress.close()
        if log_file is not None:
            log_file.close()
    elapsed = time.perf_counter() - start
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


# --- info / predict / export / import ----------------------------------------------------
def cmd_info(args) -> int:
    from nnviz.io import load_file

    f = load_file(args.file)
    spec = f.spec
    print(f"file:        {args.file}")
    print(f"network:     {spec.describe()}")
    init = spec.init if spec.init_std is None else f"{spec.init}, std {spec.init_std:g}"
    print(f"parameters:  {spec.parameter_count():,} ({spec.dtype}, init {init})")
    for i, ((w, _), act) in enumerate(zip(spec.layer_shapes(), [*(h.activation for h in spec.hidden),
                                                                "output"], strict=True)):
        print(f"  layer {i + 1}: {w[0]} -> {w[1]} {act}")
    tc = f.train_config
    if tc is not None:
        hyper = ", ".join(f"{k}={v:g}" for k, v in tc.optimizer.hyper.items())
        print(f"optimizer:   {tc.optimizer.name} ({hyper}), schedule {tc.schedule.name}")
        print(f"training:    batch {tc.batch_size}, l2 {tc.l2:g}, l1 {tc.l1:g}, dropout {tc.dropout:g}, "
              f"seed {tc.seed}")
    pipe = f.pipeline
    if pipe is not None:
        feats = f", features {', '.join(pipe.features)}" if pipe.features else ""
        print(f"inputs:      preprocessing {pipe.method}{feats}")
    if f.data is not None:
        d = f.data
        kind = f"{d.n_classes} classes" if d.task == "classification" else "regression"
        print(f"data:        {d.name}: {len(d)} examples, {d.n_features} features, {kind}")
    else:
        print("data:        none stored")
    st = f.trainer_state
    if st is not None:
        print(f"state:       step {st['step']}, epoch {st['epoch']}")
    else:
        print("state:       not trained")
    if f.history is not None and f.history.steps.size:
        losses = f.history.steps.column("loss")
        print(f"history:     {f.history.steps.size} steps, last minibatch loss {losses[-1]:.4g}")
    return 0


def cmd_predict(args) -> int:
    from nnviz.core.losses import make_loss
    from nnviz.io import load_features_csv, load_file, write_predictions_csv

    f = load_file(args.file)
    net = f.network()
    pipe = f.pipeline
    raw_dim = 2 if pipe.features else (pipe.mean.shape[0] if pipe.mean is not None else f.spec.input_dim)
    loss = make_loss(f.spec.loss)
    classes = f.class_names if loss.is_classification else None
    if loss.is_classification and not classes:
        classes = tuple(str(c) for c in range(max(f.spec.output_dim, 2)))
    table = load_features_csv(args.data, raw_dim, label=args.label, class_names=classes)
    scores = net.scores(pipe.transform(table.X).astype(net.dtype))
    pred = loss.predict(scores)
    probs = loss.probabilities(scores) if loss.is_classification else None
    if args.out:
        write_predictions_csv(args.out, table.X, pred, probs, feature_names=table.feature_names)
        print(f"wrote {len(pred)} predictions to {args.out}", file=sys.stderr)
    else:
        _print_predictions(table, pred, probs)
    if table.y is not None:
        if loss.is_classification:
            print(f"accuracy {np.mean(pred == table.y):.2%} on {len(pred)} examples", file=sys.stderr)
        else:
            mse = float(np.mean((scores - table.y.reshape(scores.shape)) ** 2))
            print(f"mean squared error {mse:.4g} on {len(pred)} examples", file=sys.stderr)
    return 0


def _print_predictions(table, pred: np.ndarray, probs: np.ndarray | None) -> None:
    """The same columns as the --out file, on standard output."""
    w = csv.writer(sys.stdout)
    pred = pred.reshape(len(pred), -1)
    head = [*table.feature_names]
    head += ["prediction"] if pred.shape[1] == 1 else [f"prediction{i + 1}" for i in range(pred.shape[1])]
    if probs is not None:
        head += [f"p{i}" for i in range(probs.shape[1])]
    w.writerow(head)
    for i in range(len(pred)):
        row = [*table.X[i].tolist(), *pred[i].tolist()]
        if probs is not None:
            row += probs[i].tolist()
        w.writerow([repr(v) if isinstance(v, float) else v for v in row])


def cmd_export(args) -> int:
    from nnviz.io import load_file
    from nnviz.io.onnx_export import export_onnx

    f = load_file(args.file)
    export_onnx(f.spec, f.params, f.pipeline, args.out)
    print(f"wrote {args.out}")
    return 0


def cmd_import(args) -> int:
    from nnviz.io import save_network
    from nnviz.io.onnx_import import import_onnx

    spec, params, pipeline = import_onnx(args.model)
    save_network(spec, params, pipeline, args.out)
    print(f"wrote {args.out}: {spec.describe()}, {spec.parameter_count():,} parameters")
    return 0


def cmd_bench(args) -> int:
    if args.gui:
        from nnviz.gui.harness.bench import run_gui_bench

        return run_gui_bench(args.json, seconds=5.0 if args.quick else 15.0)
    from nnviz.benchmark import main as bench_main

    return bench_main(as_json=args.json, quick=args.quick)


COMMANDS = {
    "train": cmd_train,
    "info": cmd_info,
    "predict": cmd_predict,
    "export": cmd_export,
    "import": cmd_import,
    "bench": cmd_bench,
}


def _known_errors() -> tuple[type[BaseException], ...]:
    from nnviz.core.data import DataError
    from nnviz.core.spec import SpecError

    errors: list[type[BaseException]] = [CliError, DataError, SpecError, ValueError, OSError]
    try:
        from nnviz.io.onnx_common import OnnxUnavailableError

        errors.append(OnnxUnavailableError)
    except ImportError:
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        from nnviz.gui.qtapp import main as gui_main

        return gui_main(argv)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as e:  # --help / --version
        return int(e.code or 0)
    except KeyboardInterrupt:
        print("nnviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `nnviz predict ... | head`: the reader had enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _known_errors() as e:
        msg = str(e) or type(e).__name__
        if isinstance(e, OSError) and e.filename and e.strerror:
            msg = f"{e.filename}: {e.strerror}"
        print(f"nnviz: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
