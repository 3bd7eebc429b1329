"""``nnviz bench --gui``: the real window, offscreen, training at full speed.

Per run it reports how many examples per second the window shows, how that compares
with the bare trainer (snapshots on at the same cadence, same settings, timed in the same
process just before and after the window run), how many frames were redrawn, how late a
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

from nnviz.core.data import digits
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec, demo_session
from nnviz.core.trainer import TrainConfig

PROBE_MS = 10
MEMORY_FROM_S = 5.0
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


def digits_session() -> Session:
    """64-256-128-10 ReLU on 8x8 handwritten-like digits, Adam, batch 64."""
    data = digits(n=2000, seed=0)
    data_config = DataConfig(test_fraction=0.2, preprocess="standardize")
    spec = build_spec(data, data_config, layers=(256, 128), activation="relu")
    train = TrainConfig(optimizer=OptimizerConfig("adam", {"lr": 0.001}), schedule=Schedule(),
                        batch_size=64, seed=0)
    return Session(data, data_config, spec, train)


CASES: tuple[tuple[str, Callable[[], Session]], ...] = (
    ("spiral 2-8-8-2 batch 10", demo_session),
    ("digits 64-256-128-10 batch 64", digits_session),
)


def rss_mb() -> float:
    """Resident memory of this process, from /proc/self/statm (Linux)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def headless_rate(make: Callable[[], Session], seconds: float, interval: float) -> float:
    """Steps per second of the bare trainer with a snapshot every ``interval`` seconds."""
    trainer = make().trainer
    for _ in range(20):
        trainer.step()
    n = 0
    t0 = time.perf_counter()
    next_snap = t0
    now = t0
    while now - t0 < seconds:
        snap = now >= next_snap
        if snap:
            next_snap = now + interval
        trainer.step(snapshot=snap)
        n += 1
        now = time.perf_counter()
    return n / (now - t0)


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
    """A 10 ms precise timer on the GUI thread; lateness = interval beyond 10 ms."""

    def __init__(self):
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.times.append(time.perf_counter())

    def start(self) -> None:
        self.times.clear()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def p99_ms(self) -> float:
        if len(self.times) < 3:
            return float("nan")
        late = np.maximum(np.diff(self.times) * 1000 - PROBE_MS, 0.0)
        return float(np.percentile(late, 99))


def bench_case(name: str, make: Callable[[], Session], seconds: float) -> GuiBenchResult:
    from nnviz.gui.main_window import SPEEDS, MainWindow
    from nnviz.gui.settings import Preferences

    session = make()
    batch = session.train_config.batch_size
    window = MainWindow(session, prefs=Preferences(), restore_layout=False)
    interval = window.worker.snapshot_interval
    head_s = max(0.5, min(5.0, seconds / 3))
    before = headless_rate(make, head_s, interval)
    try:
        window.show()
        if not _spin_until(lambda: window.frame_count > 0, 20):
            raise RuntimeError("the window never drew its first frame")
        window.set_speed_index(len(SPEEDS) - 1)
        probe = _Probe()
        _spin(0.3)
        frames0 = {k: v.frame_count for k, v in window.views.items()}
        snaps0 = window.snapshots_drawn
        steps0 = window.steps_received
        t0 = time.perf_counter()
        window.play()
        probe.start()
        mem_at = MEMORY_FROM_S if seconds > MEMORY_FROM_S + 1 else seconds / 3
        _spin(mem_at)
        rss0 = rss_mb()
        _spin(max(seconds - mem_at, 0.0))
        rss1 = rss_mb()
        probe.stop()
        dt = time.perf_counter() - t0
        steps = window.steps_received - steps0
        view_fps = {k: (v.frame_count - frames0[k]) / dt for k, v in window.views.items()}
        frames = min((window.snapshots_drawn - snaps0) / dt, view_fps["loss"])
        window.pause()
    finally:
        window.discard_changes()
        window.close()
    after = headless_rate(make, head_s, interval)
    headless = (before + after) / 2
    steps_per_s = steps / dt
    return GuiBenchResult(
        name=name,
        examples_per_s=steps_per_s * batch,
        steps_per_s=steps_per_s,
        headless_steps_per_s=headless,
        throughput_ratio=steps_per_s / headless if headless > 0 else float("nan"),
        fps=frames,
        view_fps=view_fps,
        latency_p99_ms=probe.p99_ms(),
        memory_growth_mb=rss1 - rss0,
        seconds=dt,
        batch_size=batch,
    )


def _table(results: list[GuiBenchResult]) -> str:
    head = (f"{'run':<31}{'examples/s':>11}{'steps/s':>9}{'headless':>9}{'ratio':>7}{'fps':>6}"
            f"{'p99 ms':>8}{'mem MB':>8}   fps per panel")
    lines = [head]
    for r in results:
        lines.append(
            f"{r.name:<31}{r.examples_per_s:>11,.0f}{r.steps_per_s:>9,.0f}{r.headless_steps_per_s:>9,.0f}"
            f"{r.throughput_ratio:>7.2f}{r.fps:>6.1f}{r.latency_p99_ms:>8.1f}{r.memory_growth_mb:>8.1f}   "
            + " ".join(f"{k} {v:.1f}" for k, v in r.view_fps.items())
        )
    g = GOALS
    lines.append(
        f"goals: ratio >= {g['throughput_ratio']}, fps >= {g['fps']:.0f}, "
        f"p99 <= {g['latency_p99_ms']:.0f} ms, memory growth < {g['memory_growth_mb']:.0f} MB, "
        f"spiral >= {g['spiral_examples_per_s']:,.0f} examples/s"
    )
    lines.append(f"(fps: whole-window frames a second, each a new snapshot given to every panel and "
                 f"a new loss curve; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
                 f"while measuring)")
    return "\n".join(lines)


def run_gui_bench(as_json: bool, seconds: float = 15.0) -> int:
    """Run every case; print a table (or a JSON list with ``as_json``). 0 when it ran."""
    from nnviz.gui import dialogs
    from nnviz.gui.settings import ENV_FILE

    with tempfile.TemporaryDirectory(prefix="nnviz-bench-") as tmp:
        os.environ[ENV_FILE] = os.path.join(tmp, "settings.ini")  # never the user's settings
        from nnviz.gui.app import install_message_filter, make_app

        make_app()
        install_message_filter()
        problems: list[str] = []
        dialogs.show_error = lambda _p, title, text="", *_a: problems.append(f"{title}: {text}")
        dialogs.notify = lambda _p, title, text, box=None: problems.append(f"{title}: {text}")
        results = []
        for name, make in CASES:
            try:
                results.append(bench_case(name, make, seconds))
            except RuntimeError as exc:
                problems.append(f"{name}: {exc}")
    if as_json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(_table(results))
    for p in problems:
        print(f"nnviz bench --gui: {p}")
    return 1 if problems or not results else 0
