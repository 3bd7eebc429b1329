"""Per-view cost of one frame as the live window draws it, with no trainer competing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_views.py [--frames N]
        [--case spiral|digits|points|all] [--profile VIEW]

What one frame is, per view (see nnviz/gui/window/frame_pump.py): the update with a fresh snapshot
(``show_snapshot``; for the loss plot ``add_steps`` with the minibatches since the last
frame, ``add_eval`` and ``redraw``), then every paint it causes, follow-up paints
included (pyqtgraph often asks for a second paint from inside the first one). Each frame
gets a new snapshot of a network that is really training, so histograms, ranges and
labels change the way they do live. Two networks: the app's demo (spiral, 2-8-8-2) and
digits 64-256-128-10 (collapsed layers, confusion matrix). The views sit in one window
at roughly the sizes of the window's docks. Training is not timed.

The window's goal is 30 full frames per second: the four views together within ~20 ms
leaves room for the trainer. Numbers from a shared 2-core machine are noisy: run it a
few times and compare medians. ``--profile histograms`` prints a cProfile of that view's
frames instead. ``--case points`` times opening the decision plane (``set_run`` and its
first paint) for data sets of 500 to 5,000,000 points: it draws a seeded sample of at
most MAX_POINTS of them, so the cost must stay flat.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import PySide6  # noqa: F401  (before pyqtgraph)
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from nnviz.app.runinfo import RunInfo
from nnviz.core.session import Session, demo_session
from nnviz.core.trainer import Snapshot, StepRecord
from nnviz.gui.harness.bench import digits_session  # the network `nnviz bench --gui` runs
from nnviz.gui.views.decision import DecisionView
from nnviz.gui.views.histograms import HistogramPanel
from nnviz.gui.views.loss_plot import LossPlot
from nnviz.gui.views.topology import TopologyView

#: minibatches between two frames: the app's default 1,000 steps/s at 30 frames/s
STEPS_PER_FRAME = 33
WARMUP = 5
#: (x, y, width, height) of each view in the window: about the docks of a 1600x1000 screen
GEOMETRY = {"topology": (0, 0, 470, 500), "decision": (470, 0, 650, 380),
            "histograms": (470, 380, 650, 440), "loss": (0, 500, 470, 320)}


CASES: dict[str, Callable[[], Session]] = {"spiral 2-8-8-2": demo_session,
                                           "digits 64-256-128-10": digits_session}


class PaintCounter(QObject):
    """Counts the window's paints (UpdateRequest events: each paints every dirty widget)."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.UpdateRequest:
            self.n += 1
        return False


def settle(app: QApplication, counter: PaintCounter) -> None:
    """Process events until a round paints nothing: the frame's follow-up paints count."""
    for _ in range(8):
        before = counter.n
        app.processEvents()
        if counter.n == before:
            return


def train(session: Session, frames: int) -> list[tuple[Snapshot, list[StepRecord]]]:
    """A snapshot per frame and the minibatch records since the previous one."""
    t = session.trainer
    out = []
    for _ in range(frames):
        records = [t.step() for _ in range(STEPS_PER_FRAME - 1)]
        records.append(t.step(snapshot=True))
        out.append((t.last_snapshot, records))
    return out


def run_case(app: QApplication, name: str, frames: int, profile: str | None) -> dict[str, float]:
    session = CASES[name]()
    data = train(session, frames + WARMUP)
    info = RunInfo.from_session(session, name)
    window = QWidget()
    views = {"topology": TopologyView(window), "decision": DecisionView(window),
             "histograms": HistogramPanel(window), "loss": LossPlot(window)}
    for key, view in views.items():
        view.setGeometry(*GEOMETRY[key])
    window.resize(1120, 820)
    counter = PaintCounter()
    window.installEventFilter(counter)
    window.show()
    settle(app, counter)
    for key in ("topology", "decision", "histograms"):
        views[key].set_run(info)
    views["loss"].new_run(name)
    settle(app, counter)

    def update(key: str, snap: Snapshot, records: list[StepRecord]) -> None:
        if key == "loss":
            loss = views["loss"]
            col = np.array([[r.step, r.loss, np.nan if r.accuracy is None else r.accuracy, r.epoch]
                            for r in records], dtype=float)
            loss.add_steps(col[:, 0], col[:, 1], col[:, 2], col[:, 3])
            loss.add_eval(snap.step, float(snap.epoch), snap.train_loss, snap.test_loss,
                          snap.test_accuracy, snap.train_accuracy)
            loss.redraw()
        else:
            views[key].show_snapshot(snap)

    times: dict[str, list[float]] = {k: [] for k in views}
    paints: dict[str, int] = dict.fromkeys(views, 0)
    prof = cProfile.Profile() if profile else None
    for f, (snap, records) in enumerate(data):
        for key in views:
            measured = f >= WARMUP
            if prof is not None and measured and key == profile:
                prof.enable()
            n0 = counter.n
            t0 = time.perf_counter()
            update(key, snap, records)
            settle(app, counter)
            dt = time.perf_counter() - t0
            if prof is not None:
                prof.disable()
            if measured:
                times[key].append(dt)
                paints[key] += counter.n - n0
    window.close()
    if prof is not None:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(45)
        print(s.getvalue())
    med = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
    mean = {k: float(np.mean(v)) * 1e3 for k, v in times.items()}
    print(f"{name}: ms per frame over {frames} frames: median, mean (paints per frame)")
    for k, v in med.items():
        print(f"  {k:<11} {v:6.1f} {mean[k]:6.1f} ms   ({paints[k] / frames:.1f})")
    print(f"  {'all four':<11} {sum(med.values()):6.1f} {sum(mean.values()):6.1f} ms")
    return med


def points_case(app: QApplication) -> None:
    """Opening the plane for ever larger data sets: the drawn sample is bounded."""
    import dataclasses
    import tracemalloc

    from nnviz.gui.views.bounded import MAX_POINTS

    base = RunInfo.from_session(demo_session(), "points")
    rng = np.random.default_rng(0)
    print(f"decision plane: set_run + first paint (at most {MAX_POINTS:,} points drawn)")
    for n in (500, 100_000, 1_000_000, 5_000_000):
        X = rng.standard_normal((n, 2)) * 0.5
        y = (X[:, 0] > 0).astype(np.int64)
        cut = n // 5
        info = dataclasses.replace(base, train_X=X[cut:], train_y=y[cut:], test_X=X[:cut], test_y=y[:cut],
                                   n_train=n - cut)
        view = DecisionView()
        view.resize(560, 420)
        view.show()
        app.processEvents()
        tracemalloc.start()
        t0 = time.perf_counter()
        view.set_run(info)
        view.grab()
        dt = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        drawn = len(view._train_scatter.data) + len(view._test_scatter.data)
        print(f"  {n:>9,} points: {dt * 1e3:7.1f} ms, {drawn:,} drawn, view peak {peak:6.1f} MB (traced)")
        view.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=80)
    parser.add_argument("--case", choices=["spiral", "digits", "points", "all"], default="all")
    parser.add_argument("--profile", choices=["topology", "decision", "histograms", "loss"])
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    for name in CASES:
        if args.case in ("all", name.split()[0]):
            run_case(app, name, args.frames, args.profile)
    if args.case in ("all", "points"):
        points_case(app)


if __name__ == "__main__":
    main()
