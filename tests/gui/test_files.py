"""The File menu on the real window: save, open, recent files, CSV import, exports."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnviz.gui.window import dialogs
from nnviz.gui.window.main_window import SPEEDS
from nnviz.gui.window.preferences import Preferences
from tests.gui.waits import WAIT_MS, WAIT_S


def train(window, qtbot, steps: int) -> None:
    window.set_speed_index(len(SPEEDS) - 1)
    window.play()
    qtbot.waitUntil(lambda: window.pump.last_step >= steps, timeout=WAIT_MS)
    window.pause()
    qtbot.waitUntil(lambda: not window.worker.playing, timeout=WAIT_MS)


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
    saved_step = window.worker.copy_session().result(timeout=WAIT_S).trainer.step_count
    saved_params = window.worker.copy_session().result(timeout=WAIT_S).network.params
    path = tmp_path / "spiral.nnviz"
    assert window.files.save_as(str(path))
    assert path.is_file()
    assert "spiral.nnviz" in window.windowTitle() and not window.isWindowModified()
    assert Preferences().recent_files()[0] == str(path.resolve())
    train(window, qtbot, saved_step + 50)  # move on, then go back to the file
    assert window.isWindowModified()
    dialog_log.open_path = str(path)
    window.act_open.trigger()
    assert dialog_log.unsaved_asked == 1  # unsaved training: asked first (answer: discard)
    s = window.worker.copy_session().result(timeout=WAIT_S)
    assert s.trainer.step_count == saved_step
    for a, b in zip(s.network.params, saved_params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert window.pump.last_step == saved_step
    assert len(window.loss_plot.steps) == saved_step  # the loss curve came back with the file
    assert not window.isWindowModified()
    assert not dialog_log.errors


def test_ctrl_s_asks_for_a_name_once(window, qtbot, tmp_path, dialog_log):
    window.step_once()
    qtbot.waitUntil(lambda: window.pump.last_step == 1, timeout=WAIT_MS)
    dialog_log.save_path = str(tmp_path / "first")  # no suffix: .nnviz is added
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert (tmp_path / "first.nnviz").is_file()
    dialog_log.save_path = None  # a second save must not ask
    window.step_once()
    qtbot.waitUntil(lambda: window.pump.last_step == 2, timeout=WAIT_MS)
    assert window.files.save()
    assert window.document.path.name == "first.nnviz"


def test_a_bad_file_keeps_the_current_run(window, tmp_path, dialog_log):
    bad = tmp_path / "bad.nnviz"
    bad.write_bytes(b"this is not a network")
    gen = window.document.generation
    assert not window.files.open_path(bad)
    assert window.document.generation == gen
    assert dialog_log.errors and "bad.nnviz" in dialog_log.errors[0][1]
    assert not window.files.open_path(tmp_path / "missing.nnviz")
    assert len(dialog_log.errors) == 2


def test_a_json_spec_opens_on_the_data_shown(window, tmp_path, dialog_log):
    spec = {"architecture": {"input_dim": 2, "output_dim": 2,
                             "hidden": [{"units": 5, "activation": "tanh"}]}}
    path = tmp_path / "small.json"
    path.write_text(json.dumps(spec))
    assert window.files.open_path(path), dialog_log.errors
    assert window.info.spec.widths == [2, 5, 2]
    assert window.controls.layer_rows[0].activation.currentData() == "tanh"


def test_recent_files_menu(window, tmp_path, dialog_log):
    path = tmp_path / "r.nnviz"
    assert window.files.save_as(str(path))
    window.files.fill_recent_menu(window.recent_menu)
    titles = [a.text() for a in window.recent_menu.actions()]
    assert any("r.nnviz" in t for t in titles)
    gen = window.document.generation
    next(a for a in window.recent_menu.actions() if "r.nnviz" in a.text()).trigger()
    assert window.document.generation == gen + 1
    path.unlink()  # a recent file that went away leaves the list when it fails to open
    assert not window.files.open_any(str(path), ask=False)
    assert str(path.resolve()) not in Preferences().recent_files()


def test_import_csv_trains_on_it(window, qtbot, tmp_path, dialog_log):
    path = write_csv(tmp_path / "three.csv", n=90, classes=3, dims=4)
    dialog_log.open_path = str(path)
    window.act_import.trigger()
    assert not dialog_log.errors, dialog_log.errors
    assert window.document.settings.data.source == "custom"
    assert window.info.spec.widths == [4, 8, 8, 3]
    assert window.info.extent is None  # four inputs: no plane
    assert "Imported" in window.controls.dataset.currentText()
    assert not window.controls.features["x1^2"].isEnabled()
    window.step_once()
    qtbot.waitUntil(lambda: window.pump.last_step == 1, timeout=WAIT_MS)


def test_a_bad_csv_is_refused_with_a_message(window, tmp_path, dialog_log):
    path = tmp_path / "broken.csv"
    path.write_text("a,b\n1,2\nthree,4\n")
    gen = window.document.generation
    assert not window.files.import_csv(str(path))
    assert window.document.generation == gen
    assert "broken.csv" in dialog_log.errors[0][1]


def test_exports(window, qtbot, tmp_path, dialog_log):
    train(window, qtbot, 30)
    assert window.files.export_history_csv(str(tmp_path / "h.csv"))
    rows = (tmp_path / "h.csv").read_text().splitlines()
    assert len(rows) > 30
    assert window.files.export_data_csv(str(tmp_path / "d.csv"))
    assert len((tmp_path / "d.csv").read_text().splitlines()) == 501
    for key in window.views:
        assert window.files.export_image(key, str(tmp_path / f"{key}.png")), dialog_log.errors
        assert (tmp_path / f"{key}.png").stat().st_size > 1000
    assert window.files.export_image("loss", str(tmp_path / "loss.svg"))
    assert (tmp_path / "loss.svg").read_text().lstrip().startswith("<")
    pytest.importorskip("onnx")
    assert window.files.export_onnx(str(tmp_path / "m.onnx")), dialog_log.errors
    assert (tmp_path / "m.onnx").stat().st_size > 100


def test_new_asks_and_goes_back_to_the_demo(window, qtbot, dialog_log):
    train(window, qtbot, 10)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert dialog_log.unsaved_asked == 1
    assert window.pump.last_step == 0 and "Spiral demo" in window.windowTitle()
    assert not window.isWindowModified()


def test_files_the_system_asks_to_open_reach_the_window(window, qtbot, qapp):
    """macOS sends a QFileOpenEvent for a file double-clicked while nnviz runs; one that
    arrives before the window exists (the launching file) waits for it."""
    from PySide6.QtGui import QFileOpenEvent

    from nnviz.gui.window.file_open import FileOpenFilter
    from nnviz.resources import examples_dir

    example = examples_dir() / "xor.nnviz"
    flt = FileOpenFilter()
    qapp.installEventFilter(flt)
    try:
        qapp.sendEvent(qapp, QFileOpenEvent(str(example)))
        assert flt.waiting == [str(example)]
        flt.set_opener(window.files.open_any)
        assert not flt.waiting
        assert "xor.nnviz" in window.windowTitle()
        window.discard_changes()
        spiral = examples_dir() / "spiral.nnviz"
        qapp.sendEvent(qapp, QFileOpenEvent(str(spiral)))
        assert "spiral.nnviz" in window.windowTitle()
    finally:
        qapp.removeEventFilter(flt)


def test_a_run_the_views_cannot_draw_keeps_the_current_one(window, qtbot, tmp_path, dialog_log,
                                                           monkeypatch):
    """All or nothing: a view failing on the new data leaves every part of the window on
    the run it showed (the failure stands in for a view bug such data once hit)."""
    train(window, qtbot, 20)
    trained = window.files.session_copy().trainer.step_count
    # every row of the paused run is in the loss plot before the state is taken
    qtbot.waitUntil(lambda: window.pump.last_step == trained and not window.pump._pending_rows,
                    timeout=WAIT_MS)
    window.document.modified = False
    window.show_document()
    doc = window.document

    def state():
        return (doc.generation, doc.run_number, window.info, doc.settings, window.windowTitle(),
                window.controls.settings(), list(window.loss_plot.old_run_labels),
                len(window.loss_plot.steps), doc.modified)

    before = state()
    real = window.histograms.set_run

    def fails_on_new_data(info):
        if info.n_train != before[2].n_train:
            raise OverflowError("cannot draw this")
        real(info)

    monkeypatch.setattr(window.histograms, "set_run", fails_on_new_data)
    path = write_csv(tmp_path / "other.csv", n=90, classes=3, dims=4)
    assert not window.files.open_any(str(path), ask=False)
    assert len(dialog_log.errors) == 1
    title, text = dialog_log.errors[0]
    assert title == "Cannot train on this data"
    assert "other.csv" in text and "cannot draw" in text
    assert state() == before
    assert not window.isWindowModified()
    for view in (window.topology, window.decision):  # the views that took it went back
        assert view._info is before[2]
    # and the run goes on: it trains and redraws
    drawn = window.pump.snapshots_drawn
    step = window.pump.last_step
    window.step_once()
    qtbot.waitUntil(lambda: window.pump.last_step == step + 1 and window.pump.snapshots_drawn > drawn,
                    timeout=WAIT_MS)
    assert window.worker.copy_session().result(timeout=WAIT_S).trainer.step_count == step + 1


def test_a_network_file_the_views_cannot_draw_is_refused(window, tmp_path, dialog_log, monkeypatch):
    path = tmp_path / "net.nnviz"
    assert window.files.save_as(str(path))
    gen, info = window.document.generation, window.info
    real = window.topology.set_run
    monkeypatch.setattr(window.topology, "set_run", lambda new: real(new) if new is info else 1 / 0)
    assert not window.files.open_path(path)
    assert window.document.generation == gen and window.info is info
    assert "net.nnviz" in dialog_log.errors[0][1] and "ZeroDivisionError" in dialog_log.errors[0][1]


def test_reset_that_cannot_be_drawn_says_so(window, dialog_log, monkeypatch):
    gen, info = window.document.generation, window.info
    real = window.decision.set_run
    monkeypatch.setattr(window.decision, "set_run", lambda new: real(new) if new is info else 1 / 0)
    window.reset()
    assert window.document.generation == gen
    assert dialog_log.errors[0][0] == "Cannot start this run"


def test_a_long_history_comes_back_thinned(tmp_path):
    """Replaying a file's evaluations is one call per row: bounded, the last one kept."""
    from nnviz.app.runinfo import MAX_REPLAY_EVALS, Replay
    from nnviz.core.session import demo_session

    s = demo_session()
    n = MAX_REPLAY_EVALS * 3 + 7
    s.history.add_steps(np.column_stack([np.arange(1, n + 1), np.arange(n) // 400, np.ones(n), np.ones(n)]))
    for step in range(1, n + 1):
        s.history.add_eval(step, 0.5, 0.9, None, None)
    r = Replay.from_session(s)
    assert len(r.evals) == MAX_REPLAY_EVALS
    assert r.evals[0][0] == 1 and r.evals[-1][0] == n
    assert r.evals[-1][1] == (n - 1) // 400  # the epoch of its step
    assert r.evals[-1][2:] == (0.5, None, None, 0.9)
    assert r.steps.size == n and not r.steps.flags.writeable


def test_run_info_shares_the_read_only_data():
    """The window does not hold a second copy of a large data set."""
    from nnviz.app.runinfo import RunInfo
    from nnviz.core.session import demo_session

    s = demo_session()
    info = RunInfo.from_session(s, "run 1")
    assert info.train_X is s.split.train.X and info.test_y is s.split.test.y
    assert not info.train_X.flags.writeable
    writable = np.zeros((4, 2))
    view = writable[:]
    view.flags.writeable = False
    from nnviz.app.runinfo import _ro

    shown = _ro(view)  # read-only, but its base can still change: copied
    assert shown is not view and not shown.flags.writeable
    writable[0, 0] = 1
    assert shown[0, 0] == 0


def test_slow_reading_keeps_the_window_drawing(qapp, qtbot):
    """A file that takes seconds to read is read on a thread: the event loop keeps running
    (timers fire) and the result, or the error, comes back to the caller."""
    import threading
    import time as _time

    from PySide6.QtCore import QTimer

    from nnviz.gui.window.background import run_responsive

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    gui_thread = threading.get_ident()

    def slow():
        _time.sleep(0.6)
        return threading.get_ident()

    try:
        worker_thread = run_responsive(None, "Reading…", slow)
        assert worker_thread != gui_thread and len(ticks) >= 5

        def broken():
            _time.sleep(0.3)
            raise ValueError("bad.csv: row 3: not a number")

        with pytest.raises(ValueError, match="row 3"):
            run_responsive(None, "Reading…", broken)
        assert run_responsive(None, "Reading…", lambda: 42) == 42  # quick: no dialog
    finally:
        timer.stop()


def test_open_checks_the_file_before_asking_about_unsaved_changes(window, qtbot, tmp_path, dialog_log):
    """A file that cannot be opened costs no question; a good one is asked about by name."""
    train(window, qtbot, 10)
    assert window.document.modified
    bad = tmp_path / "broken.nnviz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    dialog_log.open_path = str(bad)
    window.act_open.trigger()
    assert dialog_log.unsaved_asked == 0
    assert len(dialog_log.errors) == 1 and "broken.nnviz" in dialog_log.errors[0][1]
    assert window.document.modified  # the unsaved run is still there, still unsaved
    good = tmp_path / "good.nnviz"
    assert window.files.save_as(str(good))
    train(window, qtbot, window.pump.last_step + 5)
    dialog_log.unsaved_answer = dialogs.Unsaved.CANCEL
    dialog_log.open_path = str(good)
    window.act_open.trigger()
    assert dialog_log.unsaved_questions == ["Save them before opening good.nnviz?"]
    assert window.document.modified and window.document.name == "good.nnviz"  # cancelled: kept
    csv = write_csv(tmp_path / "table.csv")
    dialog_log.unsaved_answer = dialogs.Unsaved.DISCARD
    assert window.files.open_any(str(csv))
    assert dialog_log.unsaved_questions[-1] == "Save them before training on table.csv?"
    assert window.document.name == "table"
