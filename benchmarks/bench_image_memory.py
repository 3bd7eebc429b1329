"""Peak memory of MNIST-sized image data: the command line and the window, each in a
fresh process, on synthetic 28x28 images written as MNIST's IDX files (no download).

    .venv/bin/python benchmarks/bench_image_memory.py [--train 60000] [--test 10000]
        [--steps 300] [--window-seconds 20] [--only cli|window]

The image loaders hold pixels in float32 and image data trains in float32, so the whole of
MNIST (70,000 images) fits the 1 GiB budget that :func:`nnviz.io.images.common.check_budget`
checks before loading; this measures what that budget's accounting
(``IMAGE_ROW_COPIES``) stands for. It prints the peak resident memory of ``nnviz train``
and of the window (its own process plus its training process, sampled every 0.1 s while
it trains), beside the budget's estimate for the same number of images.
"""

from __future__ import annotations

import argparse
import os
import resource
import struct
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def write_idx(path: Path, values: np.ndarray) -> None:
    dims = b"".join(struct.pack(">I", d) for d in values.shape)
    head = struct.pack(">BBBB", 0, 0, 0x08, values.ndim) + dims
    path.write_bytes(head + values.astype(np.uint8).tobytes())


def write_mnist_like(folder: Path, n_train: int, n_test: int, seed: int = 0) -> None:
    """Ten noisy prototype images, MNIST's file names and shapes."""
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 256, (10, 28, 28))
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        y = rng.integers(0, 10, n)
        x = np.clip(protos[y] * 0.6 + rng.integers(0, 100, (n, 28, 28)), 0, 255)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", x)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", y)


def cli_peak_mb(folder: Path, steps: int) -> float:
    cmd = [sys.executable, "-m", "nnviz.cli", "train", "--data", str(folder), "--layers", "100",
           "--batch-size", "128", "--steps", str(steps), "--preprocess", "standardize", "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


WINDOW_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from nnviz.gui.qt_setup import collect_garbage_on_gui_thread, make_app
    from nnviz.gui.window.dialogs import RecordingDialogs
    from nnviz.gui.window.main_window import MainWindow
    from nnviz.gui.window.preferences import Preferences

    def rss_mb(pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def children(pid):
        out = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                out += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        return out

    app = make_app()
    collect_garbage_on_gui_thread(app)
    dialogs = RecordingDialogs()
    window = MainWindow(prefs=Preferences(), restore_layout=False, dialogs=dialogs)
    window.resize(1280, 720)
    window.show()
    if not window.files.import_images(sys.argv[1], ask=False):
        print("import failed:", dialogs.errors, file=sys.stderr)
        sys.exit(1)
    peak = {"mb": 0.0}
    end = time.monotonic() + float(sys.argv[2])

    def sample():
        me = os.getpid()
        total = rss_mb(me) + sum(rss_mb(c) for c in children(me))
        peak["mb"] = max(peak["mb"], total)
        if time.monotonic() > end:
            app.quit()

    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(100)
    window.play()
    app.exec()
    window.discard_changes()
    window.close()
    print(f"{peak['mb']:.0f}")
""")


def window_peak_mb(folder: Path, seconds: float) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    with tempfile.TemporaryDirectory() as tmp:
        env["NNVIZ_SETTINGS_FILE"] = str(Path(tmp) / "settings.ini")
        out = subprocess.run([sys.executable, "-c", WINDOW_SCRIPT, str(folder), str(seconds)], check=True,
                             cwd=ROOT, env=env, capture_output=True, text=True).stdout.split()
    return float(out[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=int, default=60_000)
    ap.add_argument("--test", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--window-seconds", type=float, default=20.0)
    ap.add_argument("--only", choices=("cli", "window"))
    args = ap.parse_args()
    from nnviz.io.images.common import BUDGET_BYTES, loader_bytes

    n = args.train + args.test
    estimate = loader_bytes(n, 784, n * 785) / 2**20
    print(f"{n:,} images of 28x28: the budget's estimate {estimate:,.0f} MB "
          f"(limit {BUDGET_BYTES / 2**20:,.0f} MB)")
    with tempfile.TemporaryDirectory(prefix="nnviz-mnist-like-") as tmp:
        folder = Path(tmp)
        write_mnist_like(folder, args.train, args.test)
        if args.only in (None, "cli"):
            print(f"nnviz train: peak {cli_peak_mb(folder, args.steps):,.0f} MB")
        if args.only in (None, "window"):
            mb = window_peak_mb(folder, args.window_seconds)
            print(f"window + its training process: peak {mb:,.0f} MB over {args.window_seconds:g} s "
                  f"of training")
    return 0


if __name__ == "__main__":
    sys.exit(main())
