"""The File menu on the real window: save, open, recent files, CSV import, exports."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnviz.gui.main_window import SPEEDS
from nnviz.gui.settings import Preferences


def train(window, qtbot, steps: int) -> None:
    window.set_speed_index(len(SPEEDS) - 1)
    window.play()
    qtbot.waitUntil(lambda: window.last_step >= steps, timeout=20000)
    window.pause()
    qtbot.waitUntil(lambda: not window.worker.playing, timeout=5000)


def write_csv(path, n=80, classes=3, dims=2):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, dims))
    y = rng.integers(0, classes, n)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{i}" for i in range(dims)] + ["label"])
        for row, label in zip(X, y, strict=True):
            w.writerow([*row, label])
    return path


def test_save_and_reopen_round_trip(window, qtbot, tmp_path, dialog_log):
    train(window, qtbot, 100)
    saved_step = window.worker.copy_session().result(5).trainer.step_count
    saved_params = window.worker.copy_session().result(5).network.params
    path = tmp_path / "spiral.nnviz"
    assert window.save_as(str(path))
    assert path.is_file()
    assert "spiral.nnviz" in window.windowTitle() and not window.isWindowModified()
    assert Preferences().recent_files()[0] == str(path.resolve())
    train(window, qtbot, saved_step + 50)  # move on, then go back to the file
    assert window.isWindowModified()
    dialog_log.open_path = str(path)
    window.act_open.trigger()
    assert dialog_log.unsaved_asked == 1  # unsaved training: asked first (answer: discard)
    s = window.worker.copy_session().result(5)
    assert s.trainer.step_count == saved_step
    for a, b in zip(s.network.params, saved_params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert window.last_step == saved_step
    assert len(window.loss_plot.steps) == saved_step  # the loss curve came back with the file
    assert not window.isWindowModified()
    assert not dialog_log.errors


def test_ctrl_s_asks_for_a_name_once(window, qtbot, tmp_path, dialog_log):
    window.step_once()
    qtbot.waitUntil(lambda: window.last_step == 1, timeout=5000)
    dialog_log.save_path = str(tmp_path / "first")  # no suffix: .nnviz is added
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert (tmp_path / "first.nnviz").is_file()
    dialog_log.save_path = None  # a second save must not ask
    window.step_once()
    qtbot.waitUntil(lambda: window.last_step == 2, timeout=5000)
    assert window.save()
    assert window.path.name == "first.nnviz"


def test_a_bad_file_keeps_the_current_run(window, tmp_path, dialog_log):
    bad = tmp_path / "bad.nnviz"
    bad.write_bytes(b"this is not a network")
    gen = window.generation
    assert not window.open_path(bad)
    assert window.generation == gen
    assert dialog_log.errors and "bad.nnviz" in dialog_log.errors[0][1]
    assert not window.open_path(tmp_path / "missing.nnviz")
    assert len(dialog_log.errors) == 2


def test_a_json_spec_opens_on_the_data_shown(window, tmp_path, dialog_log):
    spec = {"architecture": {"input_dim": 2, "output_dim": 2,
                             "hidden": [{"units": 5, "activation": "tanh"}]}}
    path = tmp_path / "small.json"
    path.write_text(json.dumps(spec))
    assert window.open_path(path), dialog_log.errors
    assert window.info.spec.widths == [2, 5, 2]
    assert window.controls.layer_rows[0].activation.currentData() == "tanh"


def test_recent_files_menu(window, tmp_path, dialog_log):
    path = tmp_path / "r.nnviz"
    assert window.save_as(str(path))
    window._fill_recent_menu()
    titles = [a.text() for a in window.recent_menu.actions()]
    assert any("r.nnviz" in t for t in titles)
    gen = window.generation
    next(a for a in window.recent_menu.actions() if "r.nnviz" in a.text()).trigger()
    assert window.generation == gen + 1
    path.unlink()  # a recent file that went away leaves the list when it fails to open
    assert not window.open_any(str(path), ask=False)
    assert str(path.resolve()) not in Preferences().recent_files()


def test_import_csv_trains_on_it(window, qtbot, tmp_path, dialog_log):
    path = write_csv(tmp_path / "three.csv", n=90, classes=3, dims=4)
    dialog_log.open_path = str(path)
    window.act_import.trigger()
    assert not dialog_log.errors, dialog_log.errors
    assert window.running.data.source == "custom"
    assert window.info.spec.widths == [4, 8, 8, 3]
    assert window.info.extent is None  # four inputs: no plane
    assert "Imported" in window.controls.dataset.currentText()
    assert not window.controls.features["x1^2"].isEnabled()
    window.step_once()
    qtbot.waitUntil(lambda: window.last_step == 1, timeout=5000)


def test_a_bad_csv_is_refused_with_a_message(window, tmp_path, dialog_log):
    path = tmp_path / "broken.csv"
    path.write_text("a,b\n1,2\nthree,4\n")
    gen = window.generation
    assert not window.import_csv(str(path))
    assert window.generation == gen
    assert "broken.csv" in dialog_log.errors[0][1]


def test_exports(window, qtbot, tmp_path, dialog_log):
    train(window, qtbot, 30)
    assert window.export_history_csv(str(tmp_path / "h.csv"))
    rows = (tmp_path / "h.csv").read_text().splitlines()
    assert len(rows) > 30
    assert window.export_data_csv(str(tmp_path / "d.csv"))
    assert len((tmp_path / "d.csv").read_text().splitlines()) == 501
    for key in window.views:
        assert window.export_image(key, str(tmp_path / f"{key}.png")), dialog_log.errors
        assert (tmp_path / f"{key}.png").stat().st_size > 1000
    assert window.export_image("loss", str(tmp_path / "loss.svg"))
    assert (tmp_path / "loss.svg").read_text().lstrip().startswith("<")
    pytest.importorskip("onnx")
    assert window.export_onnx(str(tmp_path / "m.onnx")), dialog_log.errors
    assert (tmp_path / "m.onnx").stat().st_size > 100


def test_new_asks_and_goes_back_to_the_demo(window, qtbot, dialog_log):
    train(window, qtbot, 10)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert dialog_log.unsaved_asked == 1
    assert window.last_step == 0 and "Spiral demo" in window.windowTitle()
    assert not window.isWindowModified()


def test_files_the_system_asks_to_open_reach_the_window(window, qtbot, qapp):
    """macOS sends a QFileOpenEvent for a file double-clicked while nnviz runs; one that
    arrives before the window exists (the launching file) waits for it."""
    from PySide6.QtGui import QFileOpenEvent

    from nnviz.gui.file_open import FileOpenFilter
    from nnviz.resources import examples_dir

    example = examples_dir() / "xor.nnviz"
    flt = FileOpenFilter()
    qapp.installEventFilter(flt)
    try:
        qapp.sendEvent(qapp, QFileOpenEvent(str(example)))
        assert flt.waiting == [str(example)]
        flt.set_opener(window.open_any)
        assert not flt.waiting
        assert "xor.nnviz" in window.windowTitle()
        window.discard_changes()
        spiral = examples_dir() / "spiral.nnviz"
        qapp.sendEvent(qapp, QFileOpenEvent(str(spiral)))
        assert "spiral.nnviz" in window.windowTitle()
    finally:
        qapp.removeEventFilter(flt)
