"""Starting the app, the self-test, the GUI bench, and the pure helpers behind the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from nnviz.app.run_settings import (
    CUSTOM,
    DataSettings,
    NetworkSettings,
    RunSettings,
    SettingsError,
    TrainSettings,
    build_session,
    settings_from_session,
)
from nnviz.core.optim import Schedule
from nnviz.gui.qtapp import main
from nnviz.gui.window.frames import LOSS, FramePlanner


def _run(code: str, timeout: float, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NNVIZ_SETTINGS_FILE": str(tmp_path / "s.ini")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_self_test_passes_and_prints_one_line(tmp_path):
    r = _run("import sys; from nnviz.gui.qtapp import main; sys.exit(main(['--self-test']))", 240, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnviz self-test: ok")
    assert "QThread" not in r.stderr


def test_self_test_watchdog_ends_a_hang(tmp_path):
    # a watchdog shorter than the self-test itself stands in for a hang
    r = _run("from nnviz.gui.harness.selftest import run_self_test; run_self_test(watchdog_s=0.3)",
             240, tmp_path)
    assert r.returncode == 3
    assert "FAILED" in r.stderr and "hung while" in r.stderr


def test_gui_bench_reports_every_field(tmp_path):
    r = _run("import sys; from nnviz.gui.harness.bench import run_gui_bench; "
             "sys.exit(run_gui_bench(True, 1.0))", 240, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = json.loads(r.stdout)
    assert [row["name"].split()[0] for row in rows] == ["spiral", "digits", "MNIST-shape"]
    for row in rows:
        for key in ("examples_per_s", "steps_per_s", "throughput_ratio", "fps", "latency_p99_ms",
                    "memory_growth_mb"):
            assert isinstance(row[key], float)
        assert row["steps_per_s"] > 0 and row["fps"] > 0
    # the panels on screen: image data shows its weight tiles; the MNIST row its Unit page too
    spiral, digits, mnist = (set(row["view_fps"]) for row in rows)
    assert {"topology", "decision", "loss", "histograms"} <= spiral and "weights" not in spiral
    assert {"topology", "decision", "loss", "weights"} <= digits and "histograms" not in digits
    assert {"topology", "loss", "weights", "unit"} <= mnist


def test_main_refuses_a_missing_file_and_bad_options(capsys):
    assert main(["/no/such/file.nnviz"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["--no-such-option"]) == 2


def test_planner_draws_one_part_per_tick_within_the_budget():
    p = FramePlanner(budget=0.25, loss_interval=0.0)
    p.steps_arrived()
    p.snapshot_arrived(["topology", "decision", "histograms"])
    assert p.next_part(0.0) == LOSS  # the loss plot gets one turn per snapshot...
    p.part_done(LOSS, 0.0, 0.01)
    assert p.next_part(0.02) is None  # ...then the duty cycle: 10 ms of drawing, 30 ms off
    p.steps_arrived()
    assert p.next_part(0.04) == "topology"  # ...and the views go first
    p.part_done("topology", 0.04, 0.05)
    assert p.next_part(0.079) is None
    assert p.next_part(0.081) == "decision"
    p.part_done("decision", 0.09, 0.09)
    assert p.next_part(0.09) == "histograms"
    p.part_done("histograms", 0.09, 0.09)
    assert not p.snapshot_pending
    assert p.next_part(0.09) == LOSS
    p.part_done(LOSS, 0.09, 0.09)
    assert p.next_part(0.1) is None


def test_the_drawing_budget_depends_on_where_training_runs():
    from nnviz.gui.window.frames import FRAME_BUDGET, PACED_FRAME_BUDGET, PROCESS_FRAME_BUDGET, frame_budget

    # a trainer on a thread shares the GIL: full speed leaves drawing a third of the time
    assert frame_budget(0, "thread") == FRAME_BUDGET < frame_budget(100, "thread") == PACED_FRAME_BUDGET
    # a trainer in its own process loses nothing to drawing
    assert frame_budget(0, "process") == frame_budget(100, "process") == PROCESS_FRAME_BUDGET > 0.8


def test_settings_round_trip_through_a_session():
    settings = RunSettings(
        DataSettings(source="moons", n=300, noise=0.2, seed=4, test_fraction=0.3,
                     preprocess="standardize", features=("x1", "x2", "x1*x2")),
        NetworkSettings(layers=(5, 3), activations=("tanh", "sigmoid"), loss="svm", init="xavier_uniform"),
        TrainSettings(optimizer="momentum", lr=0.03, schedule=Schedule("step", 500, 0.5), batch_size=16,
                      l1=0.001, l2=0.01, dropout=0.1, seed=9),
    )
    session = build_session(settings)
    assert session.spec.widths == [3, 5, 3, 2]
    back, custom = settings_from_session(session)
    assert custom is None
    assert back == settings


def test_what_needs_a_reset():
    a = RunSettings()
    live = replace(a, train=replace(a.train, lr=0.1, batch_size=32))
    assert not live.needs_reset(a) and live.live_changes(a) == {"lr": 0.1, "batch_size": 32}
    assert replace(a, train=replace(a.train, optimizer="sgd")).needs_reset(a)
    assert replace(a, network=a.network.added_layer()).needs_reset(a)
    assert replace(a, data=replace(a.data, noise=0.3)).needs_reset(a)


def test_bad_settings_say_why():
    with pytest.raises(SettingsError, match="mse"):
        build_session(RunSettings(network=NetworkSettings(loss="mse")))
    with pytest.raises(SettingsError, match="imported"):
        build_session(RunSettings(data=DataSettings(source=CUSTOM)))
