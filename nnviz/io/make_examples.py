"""Make the example networks: a hand-written JSON spec for each, and the same network
trained and saved as a ``.nnviz`` file, verified to solve its task.

    python -m nnviz.io.make_examples OUTDIR [--only NAME ...]

Each ``.nnviz`` is made from its JSON spec (load, train the stated number of steps,
check, save), so the two always agree. Training is deterministic: running this again
gives the same weights (only the creation time in the manifest differs).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnviz.core.session import Session
from nnviz.io.network_file import load_file, save_session

MAX_EXAMPLE_BYTES = 1024**2
EVAL_EVERY = 100


def accuracy(session: Session, part: str) -> float:
    """Accuracy on the "train" or "test" split."""
    d = getattr(session.split, part)
    return float(np.mean(session.predict_raw(d.X).argmax(axis=1) == d.y)
                 if session.spec.output_dim > 1 else
                 np.mean((session.predict_raw(d.X)[:, 0] > 0) == (d.y == 1)))


def r_squared(session: Session, part: str) -> float:
    d = getattr(session.split, part)
    pred = session.predict_raw(d.X)
    return float(1 - ((pred - d.y) ** 2).sum() / ((d.y - d.y.mean(axis=0)) ** 2).sum())


def _xor_solved(s: Session) -> str | None:
    X = s.data.X
    prob = 1 / (1 + np.exp(-s.predict_raw(X)[:, 0]))
    ok = np.all((prob > 0.9) == (s.data.y == 1)) and np.all((prob < 0.1) == (s.data.y == 0))
    return None if ok else f"XOR not solved: outputs {np.round(prob, 3).tolist()}"


def _accurate(train_min: float, test_min: float) -> Callable[[Session], str | None]:
    def check(s: Session) -> str | None:
        tr, te = accuracy(s, "train"), accuracy(s, "test")
        return None if tr >= train_min and te >= test_min else f"accuracy {tr:.3f} train, {te:.3f} test"

    return check


def _fits(r2_min: float) -> Callable[[Session], str | None]:
    def check(s: Session) -> str | None:
        r2 = r_squared(s, "test")
        return None if r2 >= r2_min else f"test R^2 {r2:.3f} < {r2_min}"

    return check


@dataclass(frozen=True)
class Example:
    name: str
    spec: dict[str, Any]  # the hand-written JSON spec
    steps: int
    check: Callable[[Session], str | None]  # None when the trained network does its job
    include_data: bool = True


EXAMPLES = [
    Example(
        "xor",
        {
            "format": "nnviz-spec",
            "format_version": 2,
            "name": "XOR",
            "description": (
                "The smallest network that solves XOR: two tanh units and one logistic output. "
                "Seed 0 solves it within 600 full-batch steps; seeds 1 to 4 get stuck in the "
                "classic local minimum where two of the four points sit at 0.5 (try them)."
            ),
            "architecture": {
                "input_dim": 2, "output_dim": 1, "hidden": [{"units": 2, "activation": "tanh"}],
                "loss": "logistic", "init": "torch", "residual": False, "dtype": "float64",
            },
            "training": {"optimizer": {"name": "adam", "lr": 0.1}, "batch_size": 4, "seed": 0},
            "data": {
                "name": "xor truth table",
                "X": [[0, 0], [0, 1], [1, 0], [1, 1]],
                "y": [0, 1, 1, 0],
                "feature_names": ["a", "b"],
                "class_names": ["false", "true"],
                "test_fraction": 0.0,
                "preprocess": "none",
                "features": [],
            },
        },
        steps=600,
        check=_xor_solved,
    ),
    Example(
        "spiral",
        {
            "format": "nnviz-spec",
            "format_version": 2,
            "name": "Deep spiral",
            "description": "Four ReLU layers of 16 units untangle three spiral arms.",
            "architecture": {
                "input_dim": 2, "output_dim": 3,
                "hidden": [{"units": 16, "activation": "relu"}] * 4,
                "loss": "softmax", "init": "torch", "residual": False, "dtype": "float64",
            },
            "training": {"optimizer": {"name": "adam", "lr": 0.003}, "batch_size": 16, "seed": 0},
            "data": {"generator": "spiral", "n": 600, "noise": 0.15, "seed": 0, "arms": 3,
                     "test_fraction": 0.2, "preprocess": "none", "features": []},
        },
        steps=4000,
        check=_accurate(0.95, 0.9),
    ),
    Example(
        "digits",
        {
            "format": "nnviz-spec",
            "format_version": 2,
            "name": "Handwritten digits",
            "description": (
                "The 1,797 real 8x8 handwritten digits (64 inputs, pixel counts 0..16, UCI), "
                "32 ReLU units, 10 classes, standardised inputs. The training split reaches "
                "100% within a few hundred steps while the test split stops lower: watch the "
                "two curves part. The data ships with nnviz, so the file holds no data."
            ),
            "architecture": {
                "input_dim": 64, "output_dim": 10, "hidden": [{"units": 32, "activation": "relu"}],
                "loss": "softmax", "init": "torch", "residual": False, "dtype": "float32",
            },
            "training": {"optimizer": {"name": "adam", "lr": 0.003}, "batch_size": 32, "seed": 0},
            "data": {"generator": "digits", "n": 1797, "seed": 0,
                     "test_fraction": 0.2, "preprocess": "standardize", "features": []},
        },
        steps=1500,
        check=_accurate(0.97, 0.9),
        include_data=False,
    ),
    Example(
        "regression",
        {
            "format": "nnviz-spec",
            "format_version": 2,
            "name": "Two bumps and two dips",
            "description": "Regression with mean squared error: a tanh network fits four Gaussian bumps.",
            "architecture": {
                "input_dim": 2, "output_dim": 1,
                "hidden": [{"units": 16, "activation": "tanh"}, {"units": 16, "activation": "tanh"}],
                "loss": "mse", "init": "torch", "residual": False, "dtype": "float64",
            },
            "training": {"optimizer": {"name": "adam", "lr": 0.01}, "batch_size": 16, "seed": 0},
            "data": {"generator": "multigauss", "n": 600, "noise": 0.02, "seed": 0,
                     "test_fraction": 0.2, "preprocess": "none", "features": []},
        },
        steps=4000,
        check=_fits(0.9),
    ),
]


def spec_text(example: Example) -> str:
    return json.dumps(example.spec, indent=2) + "\n"


def train_session(session: Session, steps: int) -> None:
    """Train, recording every step and an evaluation every EVAL_EVERY steps."""
    trainer = session.trainer
    for _ in range(steps):
        r = trainer.step()
        session.history.add_step(r.step, r.epoch, r.loss, r.accuracy)
        if r.step % EVAL_EVERY == 0:
            snap = trainer.snapshot()
            session.history.add_eval(r.step, snap.train_loss, snap.train_accuracy, snap.test_loss,
                                     snap.test_accuracy)


def make(example: Example, outdir: Path) -> Path:
    """Write NAME.json and NAME.nnviz into ``outdir``; raise RuntimeError if the trained
    network does not do its job or the file is too large."""
    outdir.mkdir(parents=True, exist_ok=True)
    spec_path = outdir / f"{example.name}.json"
    spec_path.write_text(spec_text(example), encoding="utf-8")
    session = load_file(spec_path).to_session()
    train_session(session, example.steps)
    problem = example.check(session)
    if problem:
        raise RuntimeError(f"{example.name}: {problem}")
    path = outdir / f"{example.name}.nnviz"
    save_session(session, path, include_data=example.include_data)
    size = path.stat().st_size
    if size >= MAX_EXAMPLE_BYTES:
        raise RuntimeError(f"{example.name}: {size:,} bytes is too large for an example")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnviz.io.make_examples",
                                     description="Make the example networks (.json and .nnviz).")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--only", nargs="*", choices=[e.name for e in EXAMPLES])
    args = parser.parse_args(argv)
    for example in EXAMPLES:
        if args.only and example.name not in args.only:
            continue
        try:
            path = make(example, args.outdir)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
