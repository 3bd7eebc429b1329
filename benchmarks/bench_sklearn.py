"""nnviz against scikit-learn's MLPClassifier on the real 8x8 digits: steps per second and
test accuracy of the same network trained the same way on the same arrays.

Goal (issue 13): at least 2x MLPClassifier's steps/s at the same accuracy. The digits are
scikit-learn's own copy of the UCI handwritten digits (``sklearn.datasets.load_digits``,
1,797 images). They are written to a CSV in a temporary folder and nnviz reads them as
``nnviz train --data that.csv`` would (its parser, ``session_from_args``: the split, the
standardisation); scikit-learn then trains on exactly the arrays nnviz trains on and is
scored on the same test split. nnviz's figures are those ``nnviz train`` prints (run in
this process, on that CSV). Both: 64-128-64-10 ReLU, softmax/log-loss, Adam, batch 64,
the same learning rate and number of epochs, no L2 (``alpha=0``), no early stopping, the
same dtype, BLAS on one thread. One step is one minibatch for both (an epoch is
ceil(n / 64) steps in each). Runs alternate and the medians are reported.

scikit-learn is not a dependency of nnviz: ``pip install 'nnviz[bench]'``, or in a
checkout ``.venv/bin/pip install scikit-learn``.

    .venv/bin/python benchmarks/bench_sklearn.py
    .venv/bin/python benchmarks/bench_sklearn.py --epochs 50 --lr 0.001 --rounds 5 --dtype float32
    .venv/bin/python benchmarks/bench_sklearn.py --cpu     # on a machine busy with other work
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnviz.blas import limit_blas_threads
from nnviz.cli import build_parser
from nnviz.cli import main as nnviz_main
from nnviz.cli.sessions import session_from_args

#: nnviz train's summary line: "N steps (E epochs) in S s, R steps/s, ..., test acc A%"
SUMMARY = re.compile(r"(?P<steps>\d+) steps \(\d+ epochs\) in (?P<seconds>[\d.]+) s, (?P<rate>[\d,]+) steps/s"
                     r".*test acc (?P<acc>[\d.]+)%")
HIDDEN = (128, 64)
BATCH = 64


def _need_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("this benchmark needs scikit-learn, which nnviz does not depend on; install it with\n"
              "  pip install 'nnviz[bench]'        (or, in a checkout: .venv/bin/pip install scikit-learn)",
              file=sys.stderr)
        raise SystemExit(2) from None


def write_digits(folder: Path) -> Path:
    """scikit-learn's digits as a CSV nnviz reads (64 pixel columns, then the label)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    path = folder / "digits.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"x{i + 1}" for i in range(d.data.shape[1])] + ["label"])
        for row, label in zip(d.data, d.target, strict=True):
            w.writerow([f"{v:g}" for v in row] + [int(label)])
    return path


def nnviz_argv(csv_path: Path, args) -> list[str]:
    return ["train", "--data", str(csv_path), "--layers", ",".join(map(str, HIDDEN)),
            "--activation", "relu", "--optimizer", "adam", "--lr", str(args.lr),
            "--batch-size", str(BATCH), "--epochs", str(args.epochs), "--preprocess", "standardize",
            "--dtype", args.dtype, "--seed", str(args.seed), "--quiet"]


def run_nnviz(argv: list[str], cpu: bool) -> dict[str, float]:
    """``nnviz train`` itself, in this process: its printed steps/s (its clock runs over
    the steps only; with ``cpu`` that clock is this process's CPU time) and test accuracy."""
    out = io.StringIO()
    clock = mock.patch("time.perf_counter", time.process_time) if cpu else contextlib.nullcontext()
    with contextlib.redirect_stdout(out), clock:
        rc = nnviz_main(argv)
    text = out.getvalue()
    m = SUMMARY.search(text)
    if rc != 0 or m is None:
        raise SystemExit(f"nnviz {' '.join(argv)} failed (exit {rc}):\n{text}")
    steps, seconds, acc = int(m["steps"]), float(m["seconds"]), float(m["acc"]) / 100
    return {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds if seconds else math.inf,
            "test_accuracy": acc}


def run_sklearn(arrays, args, cpu: bool) -> dict[str, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y, X_test, y_test = arrays
    clf = MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", solver="adam", alpha=0.0,
                        batch_size=BATCH, learning_rate_init=args.lr, max_iter=args.epochs, shuffle=True,
                        random_state=args.seed, tol=0.0, n_iter_no_change=args.epochs + 1,
                        early_stopping=False)
    clock = time.process_time if cpu else time.perf_counter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: as asked
        start = clock()
        clf.fit(X, y)
        seconds = clock() - start
    steps = clf.n_iter_ * math.ceil(len(X) / BATCH)
    return {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds,
            "test_accuracy": float(clf.score(X_test, y_test))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--rounds", type=int, default=5, help="runs of each, alternating (default 5)")
    p.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cpu", action="store_true",
                   help="time with the process's CPU clock, not the wall clock (a machine shared with "
                        "other work; nnviz's figure is still the one nnviz train prints, on that clock)")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.rounds < 1 or not args.lr > 0:
        p.error("--epochs and --rounds must be at least 1, --lr above 0")
    _need_sklearn()
    import sklearn

    limit_blas_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        argv_n = nnviz_argv(write_digits(Path(tmp)), args)
        t = session_from_args(build_parser().parse_args(argv_n)).trainer
        # the very arrays nnviz trains on: split, standardised, in the run's dtype
        arrays = (t.X.copy(), t.y.copy(), t.X_test.copy(), t.y_test.copy())
        results: dict[str, list[dict[str, float]]] = {"nnviz": [], "sklearn": []}
        for r in range(args.rounds):
            for name in (("nnviz", "sklearn") if r % 2 == 0 else ("sklearn", "nnviz")):
                results[name].append(run_nnviz(argv_n, args.cpu) if name == "nnviz"
                                     else run_sklearn(arrays, args, args.cpu))
    n_train, n_test = len(arrays[0]), len(arrays[2])
    print(f"digits (sklearn.datasets.load_digits): {n_train} training, {n_test} test examples, "
          f"standardised; 64-{HIDDEN[0]}-{HIDDEN[1]}-10 ReLU, Adam lr {args.lr:g}, batch {BATCH}, "
          f"{args.epochs} epochs, {args.dtype}; BLAS on one thread; scikit-learn {sklearn.__version__}")
    print(f"nnviz {' '.join(a if a != argv_n[2] else 'digits.csv' for a in argv_n)}")
    print(f"median of {args.rounds} runs each, alternating; {'CPU' if args.cpu else 'wall-clock'} seconds")
    print(f"{'':<10}{'steps':>8}{'seconds':>9}{'steps/s':>10}{'test acc':>10}")
    med = {}
    for name, rs in results.items():
        med[name] = {k: statistics.median(x[k] for x in rs) for k in rs[0]}
        m = med[name]
        print(f"{name:<10}{m['steps']:>8,.0f}{m['seconds']:>9.3f}{m['steps_per_s']:>10,.0f}"
              f"{m['test_accuracy']:>10.1%}")
    pairs = zip(results["nnviz"], results["sklearn"], strict=True)
    ratios = [a["steps_per_s"] / b["steps_per_s"] for a, b in pairs]
    print(f"nnviz / scikit-learn steps/s: {statistics.median(ratios):.2f}x (median of the runs' ratios; "
          f"range {min(ratios):.2f}-{max(ratios):.2f}); test accuracy {med['nnviz']['test_accuracy']:.1%} "
          f"vs {med['sklearn']['test_accuracy']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
