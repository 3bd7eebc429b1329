"""Frame time of the topology view: show_snapshot plus a forced repaint, offscreen.

Run: ``.venv/bin/python benchmarks/bench_topology.py`` (prints median and p95 per frame,
and the view's own peak of traced memory). The goal is <= 50 ms a frame for a
784-256-128-10 network. The widest layers the loader accepts (65,536 units; 20M
parameters) must draw too: collapsed, their images shrunk to at most 1024 px a side.
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph)
from PySide6.QtWidgets import QApplication

from nnviz.app.runinfo import RunInfo
from nnviz.core.data import Dataset, digits_like, generate
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.trainer import TrainConfig
from nnviz.gui.views.topology import TopologyView


def make_session(kind: str) -> Session:
    rng = np.random.default_rng(0)
    if kind == "784-256-128-10":
        data = digits_like(n=600, n_features=784, n_classes=10, seed=0)
        layers: tuple[int, ...] = (256, 128)
    elif kind == "65536-4-2":
        data = Dataset(rng.standard_normal((40, 65536)), np.arange(40) % 2, task="classification")
        layers = (4,)
    elif kind == "2-65536-2":
        data = generate("spiral", n=400, noise=0.1, seed=1, arms=2)
        layers = (65536,)
    elif kind == "65536-305-2":  # the 20M parameter cap
        data = Dataset(rng.standard_normal((10, 65536)), np.arange(10) % 2, task="classification")
        layers = (305,)
    else:
        data = generate("spiral", n=400, noise=0.1, seed=1, arms=2)
        layers = (8, 8)
    cfg = DataConfig(test_fraction=0.2)
    spec = build_spec(data, cfg, layers=layers, activation="relu")
    train = TrainConfig(optimizer=OptimizerConfig("adam", {"lr": 0.003}), schedule=Schedule(),
                        batch_size=32, seed=0)
    return Session(data, cfg, spec, train)


def bench(app: QApplication, kind: str, frames: int = 40, n_snaps: int = 8) -> tuple[float, float, float]:
    session = make_session(kind)
    snaps = []
    for _ in range(n_snaps):  # a few different snapshots, so every frame has new numbers
        for _ in range(5):
            session.trainer.step()
        session.trainer.step(snapshot=True)
        snaps.append(session.trainer.last_snapshot)
    info = RunInfo.from_session(session, kind)
    del session  # the trainer's copies are not the view's cost
    tracemalloc.start()
    view = TopologyView()
    view.resize(1400, 900)
    view.show()
    view.set_run(info)
    app.processEvents()
    for s in snaps[:3]:  # warm-up
        view.show_snapshot(s)
        view.grab()
    times = []
    for k in range(frames):
        t0 = time.perf_counter()
        view.show_snapshot(snaps[k % len(snaps)])
        view.grab()  # forces a full paint of the widget
        times.append(time.perf_counter() - t0)
    view.close()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    ms = np.array(times) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 95)), peak


CASES = {"2-8-8-2": (40, 8), "784-256-128-10": (40, 8), "65536-4-2": (20, 3), "2-65536-2": (20, 3),
         "65536-305-2": (10, 2)}


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    kinds = sys.argv[1:] or list(CASES)
    for kind in kinds:
        frames, n_snaps = CASES[kind]
        med, p95, peak = bench(app, kind, frames, n_snaps)
        print(f"{kind:>16}: median {med:6.1f} ms/frame, p95 {p95:6.1f} ms/frame, "
              f"view peak {peak:5.1f} MB (traced)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
