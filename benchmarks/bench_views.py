"""Per-view cost of one snapshot (update + the paint it causes), with no trainer competing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_views.py

Compare with `nnviz bench --gui`, where the same views share the interpreter with the
training thread: the gap between the two is the cost of drawing inside the live window.
"""

import time

import numpy as np
from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

app = QApplication([])

from nnviz.core.session import demo_session  # noqa: E402 (Qt before pyqtgraph)
from nnviz.gui.runinfo import RunInfo  # noqa: E402
from nnviz.gui.views.decision import DecisionView  # noqa: E402
from nnviz.gui.views.histograms import HistogramPanel  # noqa: E402
from nnviz.gui.views.loss_plot import LossPlot  # noqa: E402
from nnviz.gui.views.topology import TopologyView  # noqa: E402


def main() -> None:
    session = demo_session()
    info = RunInfo.from_session(session, "demo")
    views = {"topology": TopologyView(), "histograms": HistogramPanel(), "decision": DecisionView()}
    loss = LossPlot()
    loss.new_run("demo")
    window = QWidget()
    grid = QGridLayout(window)
    for i, v in enumerate([*views.values(), loss]):
        grid.addWidget(v, i // 2, i % 2)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    for v in views.values():
        v.set_run(info)
    times: dict[str, list[float]] = {name: [] for name in [*views, "loss"]}
    for _ in range(60):
        records = session.trainer.run(30)
        session.trainer.step(snapshot=True)
        snap = session.trainer.last_snapshot
        for name, v in views.items():
            t0 = time.perf_counter()
            v.show_snapshot(snap)
            app.processEvents()
            times[name].append(time.perf_counter() - t0)
        col = np.array([[r.step, r.loss, r.accuracy, r.epoch] for r in records], dtype=float)
        t0 = time.perf_counter()
        loss.add_steps(col[:, 0], col[:, 1], col[:, 2], col[:, 3])
        loss.redraw()
        app.processEvents()
        times["loss"].append(time.perf_counter() - t0)
    total = 0.0
    for name, ts in times.items():
        med = float(np.median(ts[5:])) * 1e3
        total += med
        print(f"{name:<11} {med:6.1f} ms median per snapshot")
    print(f"{'all four':<11} {total:6.1f} ms")


if __name__ == "__main__":
    main()
