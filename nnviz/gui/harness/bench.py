"""``nnviz bench --gui``: the real window, offscreen, training at full speed.

Per run it reports how many examples per second the window shows, how that compares
with the bare trainer (snapshots on at the same cadence, same settings, timed in the same
process in short bursts between stretches of the window run, so both see the same moments
of a machine whose speed drifts), how many frames were redrawn, how late a
10 ms timer on the GUI thread fires (the window's responsiveness) and how much resident
memory grew after the first five seconds. Numbers from a shared machine are noisy; the
table says so rather than hiding it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer

from nnviz.app.image_defaults import IMAGE_LAYERS, IMAGE_PREPROCESS
from nnviz.benchmark import with_snapshots
from nnviz.core.data import Dataset
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec, demo_session
from nnviz.core.trainer import TrainConfig
from nnviz.gui.window.dialogs import Dialogs, RecordingDialogs
from nnviz.io.images.common import pixel_names
from nnviz.io.uci_digits import uci_digits

PROBE_MS = 10
MEMORY_FROM_S = 5.0
#: the window's run is cut into this many stretches, each after a burst of the bare trainer
SEGMENTS = 5
#: the longest the bench waits for the window to draw or the worker to pause (s): only a
#: hang reaches it, a loaded machine does not
WAIT_LIMIT_S = 60.0
#: seconds of each burst of the bare trainer (shorter for very short runs)
HEADLESS_BURST_S = 0.6
GOALS = {"throughput_ratio": 0.8, "fps": 30.0, "latency_p99_ms": 30.0, "memory_growth_mb": 30.0,
         "spiral_examples_per_s": 150_000.0}


@dataclass
class GuiBenchResult:
    name: str
    examples_per_s: float  # examples the window was shown per second (minibatches x batch)
    steps_per_s: float  # minibatches the window received per second
    headless_steps_per_s: float  # the bare trainer, snapshots every 1/30 s
    throughput_ratio: float  # steps_per_s / headless_steps_per_s
    fps: float  # whole-window frames per second: snapshots every panel was given, or loss redraws if fewer
    view_fps: dict[str, float]  # paints per second of each panel (a panel whose picture did
    # not change, such as a settled confusion matrix, skips its paint)
    latency_p99_ms: float  # 99th percentile lateness of a 10 ms timer on the GUI thread
    memory_growth_mb: float  # resident memory, from second 5 to the end
    seconds: float
    batch_size: int
    #: CPU time of the GUI thread per whole-window frame (everything it did while training:
    #: drawing, taking in rows and snapshots, the event loop): what the window costs,
    #: whatever else the machine runs; 33 ms is all of one core at 30 frames a second
    gui_cpu_ms_per_frame: float = float("nan")


def digits_session() -> Session:
    """64-256-128-10 ReLU on the 1,797 real 8x8 handwritten digits, Adam, batch 64."""
    data = uci_digits()
    data_config = DataConfig(test_fraction=0.2, preprocess="standardize")
    spec = build_spec(data, data_config, layers=(256, 128), activation="relu")
    train = TrainConfig(optimizer=OptimizerConfig("adam", {"lr": 0.001}), schedule=Schedule(),
                        batch_size=64, seed=0)
    return Session(data, data_config, spec, train)


def synthetic_images(n: int = 10_000, side: int = 28, classes: int = 10, seed: int = 0) -> Dataset:
    """MNIST-shaped data made in memory: ``n`` grey ``side`` x ``side`` images in 0..1 of
    ``classes`` classes, the columns named ``pixel r,c`` as the image loaders name them.
    Each class is three strokes from a pool of twelve that the classes share, each example
    its class's strokes (one now and then missing) shifted by up to 2 pixels, with noise: a
    784-100-10 network learns it in a few hundred steps but not perfectly, and nothing is
    downloaded."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    pool = np.zeros((12, side, side), np.float32)
    for s in range(len(pool)):  # soft line segments
        (y0, x0), (y1, x1) = rng.uniform(side * 0.2, side * 0.8, size=(2, 2))
        t = np.clip(((yy - y0) * (y1 - y0) + (xx - x0) * (x1 - x0))
                    / max((y1 - y0) ** 2 + (x1 - x0) ** 2, 1e-9), 0, 1)
        d = np.hypot(yy - (y0 + t * (y1 - y0)), xx - (x0 + t * (x1 - x0)))
        pool[s] = np.exp(-(d / 1.8) ** 2)
    strokes = np.array([rng.choice(len(pool), 3, replace=False) for _ in range(classes)])
    y = rng.integers(0, classes, size=n)
    keep = rng.random((n, 3)) > 0.05  # a stroke left out now and then
    X = np.zeros((n, side, side), np.float32)
    for k in range(3):
        X = np.maximum(X, pool[strokes[y, k]] * keep[:, k, None, None])
    shifts = rng.integers(-2, 3, size=(n, 2))
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            X[rows] = np.roll(X[rows], (dy, dx), axis=(1, 2))
    X += 0.15 * rng.standard_normal(size=X.shape, dtype=np.float32)
    np.clip(X, 0, 1, out=X)
    return Dataset(X.reshape(n, side * side), y, name=f"synthetic {side}x{side} images",
                   feature_names=pixel_names((side, side, 1)),
                   class_names=tuple(str(c) for c in range(classes)))


def mnist_shape_session(n: int = 10_000) -> Session:
    """784-100-10 ReLU on synthetic 28x28 images (MNIST's shape), with the image defaults, Adam,
    batch 128: the window with its image views (input picture, weight tiles, gallery,
    unit page) in front."""
    data = synthetic_images(n)
    data_config = DataConfig(test_fraction=0.2, preprocess=IMAGE_PREPROCESS)
    spec = build_spec(data, data_config, layers=IMAGE_LAYERS, activation="relu")
    train = TrainConfig(optimizer=OptimizerConfig("adam", {"lr": 0.001}), schedule=Schedule(),
                        batch_size=128, seed=0)
    return Session(data, data_config, spec, train)


def show_image_views(window) -> None:
    """What a student watching MNIST looks at: an example fed to the Network view, a
    first-layer unit on the Unit page (its examples searched live), the weight tiles."""
    gallery = window.gallery
    if gallery.cells():
        index = gallery.cells()[0].index
        gallery.select_example(index)
        window.topology.show_example(index, gallery.split)
    if window.info is not None and window.info.spec.hidden:
        window.topology.select_neuron(0, 0)


CASES: tuple[tuple[str, Callable[[], Session]], ...] = (
    ("spiral 2-8-8-2 batch 10", demo_session),
    ("digits 64-256-128-10 batch 64", digits_session),
    ("MNIST-shape 784-100-10 batch 128", mnist_shape_session),
)
#: per case, what is shown before measuring (default: the window as it opens)
PREPARE: dict[str, Callable] = {"MNIST-shape 784-100-10 batch 128": show_image_views}


def rss_mb() -> float:
    """Resident memory of this process, from /proc/self/statm (Linux)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def _spin(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(max(int(seconds * 1000), 0), loop.quit)
    loop.exec()


def _spin_until(cond: Callable[[], bool], timeout: float) -> bool:
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            return False
        _spin(0.02)
    return True


class _Probe:
    """A 10 ms precise timer on the GUI thread; lateness = interval beyond 10 ms. It runs in
    segments (the window's training stretches); the pause between two is not lateness."""

    def __init__(self):
        self.late_ms: list[float] = []
        self._last: float | None = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.late_ms.append(max((now - self._last) * 1000 - PROBE_MS, 0.0))
        self._last = now

    def start(self) -> None:
        self._last = None
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def p99_ms(self) -> float:
        if len(self.late_ms) < 3:
            return float("nan")
        return float(np.percentile(self.late_ms, 99))


class _Headless:
    """The bare trainer, timed in short bursts between the window's stretches, so that both
    see the same moments of a machine whose speed drifts from second to second."""

    def __init__(self, make: Callable[[], Session], interval: float):
        trainer = make().trainer
        for _ in range(20):
            trainer.step()
        self._step = with_snapshots(trainer, interval)
        self.steps = 0
        self.seconds = 0.0

    def burst(self, seconds: float) -> None:
        step = self._step
        n = 0
        t0 = now = time.perf_counter()
        while now - t0 < seconds:
            step()
            n += 1
            now = time.perf_counter()
        self.steps += n
        self.seconds += now - t0

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")


def bench_case(name: str, make: Callable[[], Session], seconds: float,
               dialogs: Dialogs | None = None) -> GuiBenchResult:
    """``seconds`` of the window training at full speed, in :data:`SEGMENTS` stretches with
    a burst of the bare trainer before each and after the last (the window paused)."""
    from nnviz.gui.window.main_window import SPEEDS, MainWindow
    from nnviz.gui.window.preferences import Preferences

    session = make()
    batch = session.train_config.batch_size
    window = MainWindow(session, prefs=Preferences(), restore_layout=False, dialogs=dialogs)
    window.resize(1500, 950)  # every panel at once, whatever the screen (a short one tabs them)
    headless = _Headless(make, window.worker.snapshot_interval)
    stretch = seconds / SEGMENTS
    burst = min(HEADLESS_BURST_S, max(stretch / 5, 0.1))
    probe = _Probe()
    steps = snapshots = 0
    view_frames = dict.fromkeys(window.views, 0)
    trained = 0.0
    gui_cpu = 0.0
    rss0 = rss1 = float("nan")
    try:
        window.show()
        if not _spin_until(lambda: window.pump.frame_count > 0, WAIT_LIMIT_S):
            raise RuntimeError("the window never drew its first frame")
        prepare = PREPARE.get(name)
        if prepare is not None:
            prepare(window)
        window.set_speed_index(len(SPEEDS) - 1)
        _spin(0.3)
        for _ in range(SEGMENTS):
            headless.burst(burst)
            _spin(0.05)  # let the window take in what arrived during the burst
            frames0 = {k: v.frame_count for k, v in window.views.items()}
            snaps0, steps0 = window.pump.snapshots_drawn, window.pump.steps_received
            t0, cpu0 = time.perf_counter(), time.thread_time()
            window.play()
            probe.start()
            _spin(stretch)
            probe.stop()
            window.pause()
            dt = time.perf_counter() - t0
            gui_cpu += time.thread_time() - cpu0
            for k, v in window.views.items():
                view_frames[k] += v.frame_count - frames0[k]
            snapshots += window.pump.snapshots_drawn - snaps0
            # the minibatches trained before the pause reached the worker are still on
            # their way: count them once the worker says it stopped
            if not _spin_until(lambda: not window.worker.playing, WAIT_LIMIT_S):
                raise RuntimeError("the worker did not pause")
            _spin(0.05)
            steps += window.pump.steps_received - steps0
            trained += dt
            if trained >= MEMORY_FROM_S and rss0 != rss0:  # nan: not taken yet
                rss0 = rss_mb()
        rss1 = rss_mb()
        headless.burst(burst)
        # the panels on screen (image data brings the weight tiles in front of the histograms)
        shown = {k for k in window.views if window.pump.view_shown(k)}
    finally:
        window.discard_changes()
        window.close()
    if rss0 != rss0:
        rss0 = rss1
    view_fps = {k: n / trained for k, n in view_frames.items() if k in shown}
    steps_per_s = steps / trained
    rate = headless.rate
    return GuiBenchResult(
        name=name,
        examples_per_s=steps_per_s * batch,
        steps_per_s=steps_per_s,
        headless_steps_per_s=rate,
        throughput_ratio=steps_per_s / rate if rate > 0 else float("nan"),
        fps=min(snapshots / trained, view_fps["loss"]),
        view_fps=view_fps,
        latency_p99_ms=probe.p99_ms(),
        memory_growth_mb=rss1 - rss0,
        seconds=trained,
        batch_size=batch,
        gui_cpu_ms_per_frame=1000 * gui_cpu / snapshots if snapshots else float("nan"),
    )


def _table(results: list[GuiBenchResult]) -> str:
    head = (f"{'run':<31}{'examples/s':>11}{'steps/s':>9}{'headless':>9}{'ratio':>7}{'fps':>6}"
            f"{'p99 ms':>8}{'mem MB':>8}{'GUI ms':>8}   fps per panel")
    lines = [head]
    for r in results:
        lines.append(
            f"{r.name:<31}{r.examples_per_s:>11,.0f}{r.steps_per_s:>9,.0f}{r.headless_steps_per_s:>9,.0f}"
            f"{r.throughput_ratio:>7.2f}{r.fps:>6.1f}{r.latency_p99_ms:>8.1f}{r.memory_growth_mb:>8.1f}"
            f"{r.gui_cpu_ms_per_frame:>8.1f}   "
            + " ".join(f"{k} {v:.1f}" for k, v in r.view_fps.items())
        )
    g = GOALS
    lines.append(
        f"goals: ratio >= {g['throughput_ratio']}, fps >= {g['fps']:.0f}, "
        f"p99 <= {g['latency_p99_ms']:.0f} ms, memory growth < {g['memory_growth_mb']:.0f} MB, "
        f"spiral >= {g['spiral_examples_per_s']:,.0f} examples/s"
    )
    lines.append(f"(fps: whole-window frames a second, each a new snapshot given to every panel and "
                 f"a new loss curve; GUI ms: the GUI thread's CPU time per frame; "
                 f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
                 f"while measuring)")
    return "\n".join(lines)


def run_gui_bench(as_json: bool, seconds: float = 15.0) -> int:
    """Run every case; print a table (or a JSON list with ``as_json``). 0 when it ran."""
    from nnviz.gui.window.preferences import ENV_FILE

    with tempfile.TemporaryDirectory(prefix="nnviz-bench-") as tmp:
        os.environ[ENV_FILE] = os.path.join(tmp, "settings.ini")  # never the user's settings
        from nnviz.gui.qt_setup import collect_garbage_on_gui_thread, install_message_filter, make_app

        app = make_app()
        install_message_filter()
        collect_garbage_on_gui_thread(app)
        recorder = RecordingDialogs()  # a dialog would wait for a click that never comes
        problems = recorder.messages
        results = []
        for name, make in CASES:
            try:
                results.append(bench_case(name, make, seconds, recorder))
            except RuntimeError as exc:
                problems.append(f"{name}: {exc}")
    if as_json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(_table(results))
    for p in problems:
        print(f"nnviz bench --gui: {p}")
    return 1 if problems or not results else 0
