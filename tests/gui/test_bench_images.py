"""The GUI bench's MNIST-shape row: the window on 784-input images with its image views in
front (an example fed to the Network view, a unit on the Unit page), every figure reported."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from nnviz.gui.harness.bench import CASES, PREPARE, synthetic_images

CODE = """
import dataclasses, json, sys
from nnviz.gui.qt_setup import collect_garbage_on_gui_thread, make_app
app = make_app()
collect_garbage_on_gui_thread(app)
from nnviz.gui.harness.bench import CASES, bench_case, mnist_shape_session
from nnviz.gui.window.dialogs import RecordingDialogs
dialogs = RecordingDialogs()
r = bench_case(CASES[-1][0], lambda: mnist_shape_session(2000), 1.0, dialogs)
print(json.dumps(dataclasses.asdict(r)))
sys.exit(1 if dialogs.messages else 0)
"""


def test_the_mnist_shape_row_shows_the_image_views_and_reports_every_figure(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NNVIZ_SETTINGS_FILE": str(tmp_path / "s.ini")}
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    row = json.loads(r.stdout.strip().splitlines()[-1])
    assert row["name"].startswith("MNIST-shape 784-100-10") and row["batch_size"] == 128
    for key in ("examples_per_s", "throughput_ratio", "fps", "latency_p99_ms", "memory_growth_mb",
                "gui_cpu_ms_per_frame"):
        assert isinstance(row[key], float) and math.isfinite(row[key]), key
    assert row["steps_per_s"] > 0 and row["fps"] > 0 and row["gui_cpu_ms_per_frame"] > 0
    # on screen: the input picture, the weight tiles, the unit page (in front of the Output panel)
    assert {"topology", "loss", "weights", "unit"} <= set(row["view_fps"])
    assert row["view_fps"]["unit"] > 0 and row["view_fps"]["weights"] > 0


def test_the_row_is_listed_with_its_preparation():
    assert CASES[-1][0] in PREPARE


def test_synthetic_images_are_mnist_shaped_pixels_of_ten_classes():
    d = synthetic_images(n=300, seed=1)
    assert d.X.shape == (300, 784) and d.X.min() >= 0 and d.X.max() <= 1
    assert d.feature_names[0] == "pixel 0,0" and d.feature_names[-1] == "pixel 27,27"
    assert set(d.y.tolist()) == set(range(10)) and d.class_names == tuple(str(k) for k in range(10))
    again = synthetic_images(n=300, seed=1)
    assert (again.X == d.X).all() and (again.y == d.y).all()
    # the classes differ: each class's mean image is nearer its own examples than the others'
    means = [d.X[d.y == k].mean(axis=0) for k in range(10)]
    nearest = [min(range(10), key=lambda k, x=x: ((x - means[k]) ** 2).sum()) for x in d.X]
    assert sum(int(a == b) for a, b in zip(nearest, d.y, strict=True)) > 0.8 * len(d.y)
