"""The real main window driven like a user: keys, clicks, edits, undo, divergence, closing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QPalette
from PySide6.QtWidgets import QApplication, QDockWidget

from nnviz.app.run_settings import (
    DataSettings,
    NetworkSettings,
    RunSettings,
    TrainSettings,
    build_session,
)
from nnviz.gui.window import dialogs
from nnviz.gui.window.main_window import DIVERGED_TEXT, SPEEDS
from nnviz.gui.window.preferences import Preferences
from tests.gui.waits import WAIT_MS, WAIT_S

DIVERGING = RunSettings(
    data=DataSettings(source="plane"), network=NetworkSettings(loss="mse"),
    train=TrainSettings(optimizer="sgd", lr=10.0),
)


def trained(window, qtbot, steps: int = 100) -> None:
    """Train at full speed until at least ``steps`` minibatches arrived, then pause."""
    window.set_speed_index(len(SPEEDS) - 1)
    window.play()
    qtbot.waitUntil(lambda: window.pump.last_step >= steps, timeout=WAIT_MS)
    window.pause()
    qtbot.waitUntil(lambda: not window.worker.playing, timeout=WAIT_MS)


def test_opens_on_the_demo_ready_to_train(window):
    assert "Spiral demo" in window.windowTitle()
    assert not window.isWindowModified()
    assert window.info.spec.widths == [2, 8, 8, 2]
    assert window.controls.dataset.currentData() == "spiral"
    assert window.pump.last_step == 0
    for name in ("controlsDock", "decisionDock", "lossDock", "histogramsDock"):
        dock = window.findChild(QDockWidget, name)
        assert dock is not None and dock.isVisible()
    assert window.centralWidget() is window.topology


def test_views_docks_and_menus_come_from_the_registry(window, qtbot):
    from nnviz.gui.views.base import CENTRAL, REGISTRY

    assert list(window.views) == [e.name for e in REGISTRY]
    for e in REGISTRY:
        view = window.views[e.name]
        assert getattr(window, e.window_attr) is view
        if e.area == CENTRAL:
            assert window.centralWidget() is view and e.name not in window.docks
        else:
            dock = window.docks[e.name]
            assert dock.widget() is view and dock.objectName() == e.dock_name
            assert dock.windowTitle() == e.title
        assert window.image_actions[e.name].text().startswith(e.image_title)
    window.step_once()  # the feed's newest snapshot is public (the window redraws from it)
    qtbot.waitUntil(lambda: window.pump.latest_snapshot is not None and window.pump.latest_snapshot.step >= 1,
                    timeout=WAIT_MS)


def test_space_plays_and_pauses(window, qtbot):
    window.set_speed_index(len(SPEEDS) - 1)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playing
    qtbot.waitUntil(lambda: window.pump.last_step >= 50, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playing
    qtbot.waitUntil(lambda: not window.worker.playing, timeout=WAIT_MS)
    assert window.isWindowModified()
    assert "Paused" in window.status.state.text()


def test_space_plays_even_from_a_number_field(window, qtbot):
    window.controls.lr.setFocus()
    qtbot.waitUntil(window.controls.lr.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(window.controls.lr, Qt.Key.Key_Space)
    assert window.playing
    qtbot.keyClick(window.controls.lr, Qt.Key.Key_Space)
    assert not window.playing
    assert window.controls.lr.value() == pytest.approx(0.01)


def test_ctrl_right_steps_one_minibatch(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.pump.last_step == 1, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.pump.last_step == 2, timeout=WAIT_MS)
    qtbot.wait(100)
    assert window.pump.steps_received == 2
    assert "Step 2" in window.status.step.text()


def test_toolbar_buttons(window, qtbot):
    play = window.toolbar.widgetForAction(window.act_play)
    qtbot.mouseClick(play, Qt.MouseButton.LeftButton)
    assert window.playing and window.act_play.text() == "&Pause"
    qtbot.mouseClick(play, Qt.MouseButton.LeftButton)
    assert not window.playing
    step = window.toolbar.widgetForAction(window.act_step)
    before = window.worker.copy_session().result(timeout=WAIT_S).trainer.step_count
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pump.last_step == before + 1, timeout=WAIT_MS)
    window.speed_slider.setValue(2)
    assert window.speed_label.text() == "10 steps/s"
    assert window.speed_actions[2].isChecked()


def test_ctrl_r_starts_a_fresh_run(window, qtbot):
    trained(window, qtbot, 50)
    gen = window.document.generation
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.document.generation == gen + 1
    assert window.pump.last_step == 0
    qtbot.waitUntil(lambda: window.worker.copy_session().result(timeout=WAIT_S).trainer.step_count == 0,
                    timeout=WAIT_MS)
    assert len(window.loss_plot.old_run_labels) == 1


def test_every_panel_updates_while_training(window, qtbot):
    before = {k: v.frame_count for k, v in window.views.items()}
    shown = [k for k in window.views if window.pump.view_shown(k)]
    # the demo's panels: the image panels (weights, examples) are tabs behind for 2-D data
    assert {"topology", "decision", "loss", "histograms"} <= set(shown)
    assert not window.pump.view_shown("weights") and not window.pump.view_shown("gallery")
    trained(window, qtbot, 200)
    qtbot.waitUntil(
        lambda: all(window.views[k].frame_count > before[k] for k in shown), timeout=WAIT_MS
    )
    assert all(window.views[k].frame_count == before[k] for k in ("weights", "gallery"))
    assert window.pump.frame_count > 0
    assert window.pump.steps_received == window.pump.last_step or window.pump.steps_received >= 200


def test_a_window_training_on_a_thread_works_the_same(make_window, qtbot, monkeypatch):
    """One CPU (or NNVIZ_TRAINING=thread): the loop runs on the worker's thread instead."""
    from nnviz.gui.worker import ENV_MODE

    monkeypatch.setenv(ENV_MODE, "thread")
    w = make_window()
    assert w.worker.mode == "thread"
    before = {k: v.frame_count for k, v in w.views.items()}
    shown = [k for k in w.views if w.pump.view_shown(k)]
    trained(w, qtbot, 200)
    qtbot.waitUntil(lambda: all(w.views[k].frame_count > before[k] for k in shown), timeout=WAIT_MS)
    s = w.worker.copy_session().result(timeout=WAIT_S)
    assert s.trainer.step_count == w.pump.last_step
    w.discard_changes()


def test_learning_rate_applies_live(window, qtbot):
    trained(window, qtbot, 20)
    window.controls.lr.setValue(0.003)
    s = window.worker.copy_session().result(timeout=WAIT_S)
    assert s.trainer.config.optimizer.lr == pytest.approx(0.003)
    assert s.trainer.step_count >= 20  # not reset
    assert not window.controls.hint_box.isVisibleTo(window.controls)
    window.controls.batch.setValue(32)
    assert window.worker.copy_session().result(timeout=WAIT_S).trainer.config.batch_size == 32


def test_architecture_edit_waits_for_reset_and_undoes(window, qtbot):
    trained(window, qtbot, 20)
    controls = window.controls
    qtbot.mouseClick(controls.add_layer, Qt.MouseButton.LeftButton)
    assert controls.settings().network.layers == (8, 8, 8)
    assert controls.hint_box.isVisibleTo(controls)  # trained already: waits for Reset
    assert window.document.settings.network.layers == (8, 8)
    window.act_undo.trigger()
    assert controls.settings().network.layers == (8, 8)
    assert not controls.hint_box.isVisibleTo(controls)
    window.act_redo.trigger()
    assert controls.settings().network.layers == (8, 8, 8)
    # spinning one layer's units is one undo step
    for units in (9, 10, 11):
        controls.layer_rows[0].units.setValue(units)
    assert controls.settings().network.layers == (11, 8, 8)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert controls.settings().network.layers == (8, 8, 8)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, Qt.Key.Key_Z, mods)
    assert controls.settings().network.layers == (11, 8, 8)
    window.reset()
    assert window.info.spec.widths == [2, 11, 8, 8, 2]
    assert not controls.hint_box.isVisibleTo(controls)


def test_edits_apply_at_once_before_any_training(window, qtbot):
    window.controls.all_activations.setCurrentIndex(window.controls.all_activations.findData("tanh"))
    window.controls.all_activations.activated.emit(window.controls.all_activations.currentIndex())
    assert [h.activation for h in window.info.spec.hidden] == ["tanh", "tanh"]
    window.controls.dataset.setCurrentIndex(window.controls.dataset.findData("xor"))
    assert window.document.settings.data.source == "xor"
    assert window.info.n_train == 400


def test_regression_data_switches_the_loss(window):
    window.controls.dataset.setCurrentIndex(window.controls.dataset.findData("plane"))
    assert window.document.settings.network.loss == "mse"
    assert window.info.task == "regression"


def test_divergence_pauses_says_so_and_keeps_finite_weights(make_window, qtbot, dialog_log):
    w = make_window(build_session(DIVERGING))
    w.set_speed_index(len(SPEEDS) - 1)
    w.play()
    qtbot.waitUntil(lambda: w.diverged_at is not None, timeout=WAIT_MS)
    assert not w.playing
    assert dialog_log.notices and "diverged" in dialog_log.notices[0][1]
    assert dialog_log.notices[0][1] == DIVERGED_TEXT.format(step=w.diverged_at)
    assert "Diverged" in w.status.state.text()
    assert "Lower the learning rate" in w.statusBar().currentMessage()
    s = w.worker.copy_session().result(timeout=WAIT_S)
    assert all(np.isfinite(p).all() for p in s.network.params)
    qtbot.waitUntil(lambda: w.pump.last_step == s.trainer.step_count, timeout=WAIT_MS)  # the state kept
    # Play again on a diverged run stops at once and says so again
    w.play()
    qtbot.waitUntil(lambda: len(dialog_log.notices) == 2, timeout=WAIT_MS)


def test_reset_after_the_training_process_died_starts_a_new_one(make_window, qtbot, dialog_log):
    w = make_window()
    if w.worker.mode != "process":
        pytest.skip("the trainer runs on a thread on this machine")
    w.set_speed_index(len(SPEEDS) - 1)
    w.play()
    qtbot.waitUntil(lambda: w.pump.last_step > 20, timeout=WAIT_MS)
    w.worker._process.process.kill()
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=WAIT_MS)
    assert "Press Reset" in dialog_log.errors[0][1]
    qtbot.waitUntil(lambda: not w.playing, timeout=WAIT_MS)
    w.reset()
    assert w.handle.thread.isRunning()
    w.play()
    qtbot.waitUntil(lambda: w.pump.last_step > 20, timeout=WAIT_MS)


def test_closing_while_training_stops_the_thread(make_window, qtbot):
    w = make_window()
    w.set_speed_index(len(SPEEDS) - 1)
    w.play()
    qtbot.waitUntil(lambda: w.pump.last_step > 20, timeout=WAIT_MS)
    w.discard_changes()
    assert w.close()
    assert not w.handle.thread.isRunning()


def test_closing_with_unsaved_changes_asks(make_window, qtbot, dialog_log):
    w = make_window()
    trained(w, qtbot, 10)
    dialog_log.unsaved_answer = dialogs.Unsaved.CANCEL
    assert not w.close()
    assert w.isVisible() and w.handle.thread.isRunning()
    dialog_log.unsaved_answer = dialogs.Unsaved.DISCARD
    assert w.close()
    assert dialog_log.unsaved_asked == 2
    assert not w.handle.thread.isRunning()


def test_clicking_a_neuron_shows_its_map(window, qtbot):
    window.topology.select_neuron(0, 3)
    assert window.decision._neuron == (0, 3)
    assert window.decision_dock.isVisible()


def test_clicks_on_the_plane_add_and_remove_points(window, qtbot):
    n = window.info.n_train
    window.decision.click_at(0.1, 0.2)
    qtbot.waitUntil(lambda: window.info.n_train == n + 1, timeout=WAIT_MS)
    assert window.isWindowModified()
    assert window.controls.dataset.currentData() == "custom"
    window.decision.click_at(0.1, 0.2, remove=True)
    qtbot.waitUntil(lambda: window.info.n_train == n, timeout=WAIT_MS)
    window.reset()  # the edited data survives a reset
    assert window.info.n_train + (0 if window.info.test_y is None else len(window.info.test_y)) == 500


def test_dark_theme_and_preferences_persist(make_window, qtbot, private_settings):
    w = make_window()
    w.act_dark.trigger()
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() < 100
    w.set_speed_index(3)
    w.loss_dock.hide()
    w.discard_changes()
    w.close()
    prefs = Preferences()
    assert prefs.dark_theme() and prefs.speed_index(0) == 3
    w2 = make_window(restore_layout=True)
    assert w2.act_dark.isChecked()
    assert w2.speed_index == 3
    assert not w2.loss_dock.isVisible() and w2.decision_dock.isVisible()  # the dock layout
    w2.reset_layout()
    assert w2.loss_dock.isVisible()
    w2.set_dark_theme(False)
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 150


def test_hidden_panels_are_not_drawn_but_catch_up(window, qtbot):
    window.histograms_dock.hide()
    frames = window.histograms.frame_count
    trained(window, qtbot, 100)
    qtbot.wait(100)
    assert window.histograms.frame_count == frames
    window.histograms_dock.show()
    window.histograms_dock.raise_()  # on a short screen it is a tab behind the Output panel
    qtbot.waitUntil(lambda: window.histograms.frame_count > frames, timeout=WAIT_MS)


def test_dropping_a_file_opens_it(window, qtbot, tmp_path):
    path = tmp_path / "points.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    path.write_text("x1,x2,label\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y, strict=True)))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document.settings.data.source == "custom", timeout=WAIT_MS)
    assert window.info.n_train + len(window.info.test_y) == 60


def test_gradient_check_dialog(window, qtbot):
    # exactly 20 steps: a run trained "until at least 20" stops at a different state each
    # time, and some states put a ReLU unit within the difference step of its kink
    for k in range(1, 21):
        window.step_once()
        qtbot.waitUntil(lambda k=k: window.pump.last_step >= k, timeout=WAIT_MS)
    assert window.pump.last_step == 20
    window.gradient_check()
    dlg = window.gradcheck_dialog
    qtbot.waitUntil(lambda: dlg.rows is not None, timeout=2 * WAIT_MS)
    assert len(dlg.rows) == 6
    assert max(r.max_rel_error for r in dlg.rows) < 1e-2
    assert dlg.table.rowCount() == 6
    assert all("correct" in dlg.table.item(i, 4).text() for i in range(6))
    dlg.close()
    assert not dlg.is_running()


def test_loss_plot_choices_persist(make_window, private_settings):
    w = make_window()
    lp = w.loss_plot
    lp.smoothing_slider.setValue(60)
    lp.log_check.setChecked(True)
    lp.x_combo.setCurrentText("epochs")
    lp.acc_check.setChecked(False)
    w.discard_changes()
    w.close()
    assert Preferences().loss_view() == {"smoothing": 0.6, "log_y": True, "x_axis": "epochs",
                                         "accuracy": False}
    lp2 = make_window().loss_plot
    assert lp2.smoothing_slider.value() == 60 and lp2.log_check.isChecked()
    assert lp2.x_combo.currentText() == "epochs" and not lp2.acc_check.isChecked()


def test_clicks_do_not_edit_a_data_set_too_large_to_send_back(window, qtbot, monkeypatch):
    from nnviz.gui.window import main_window

    monkeypatch.setattr(main_window, "MAX_EDIT_POINTS", 100)
    sent = []
    monkeypatch.setattr(window.worker, "add_point", lambda *a: sent.append(a))
    monkeypatch.setattr(window.worker, "remove_point", lambda *a: sent.append(a))
    window.decision.click_at(0.1, 0.2)
    window.decision.click_at(0.1, 0.2, remove=True)
    assert not sent
    assert "up to 100 examples" in window.statusBar().currentMessage()
    monkeypatch.setattr(main_window, "MAX_EDIT_POINTS", 500)  # the demo's size: editable
    window.decision.click_at(0.1, 0.2)
    assert len(sent) == 1


def test_controls_show_a_files_wide_layer_and_large_batch_as_they_are(window):
    """Boxes offer 4,096 units and batches of 100,000; a file may hold more: shown unclamped,
    and an unrelated edit does not shrink them."""
    from dataclasses import replace

    s = window.controls.settings()
    wide = replace(s, network=s.network.with_layer(0, units=20_000),
                   train=replace(s.train, batch_size=400_000))
    window.controls.set_settings(wide)
    assert window.controls.layer_rows[0].units.value() == 20_000
    assert window.controls.batch.value() == 400_000
    window.controls.l2.setValue(0.001)  # any training edit reads every training box
    edited = window.controls.settings()
    assert edited.train.batch_size == 400_000 and edited.network.layers[0] == 20_000


def test_a_view_that_fails_to_draw_is_reported_once_and_the_rest_go_on(window, qtbot, dialog_log,
                                                                       monkeypatch):
    def broken(_snap):
        raise OverflowError("int too large")

    monkeypatch.setattr(window.histograms, "show_snapshot", broken)
    before = {k: v.frame_count for k, v in window.views.items()}
    trained(window, qtbot, 200)
    others = ("topology", "decision", "loss")
    qtbot.waitUntil(lambda: all(window.views[k].frame_count > before[k] for k in others), timeout=WAIT_MS)
    # the histogram panel's turn may come after the others drew: wait for its failure itself
    qtbot.waitUntil(lambda: "histograms" in window.pump._failed_views, timeout=WAIT_MS)
    drawing = [e for e in dialog_log.errors if e[0] == "Drawing"]
    assert len(drawing) == 1 and "histogram panel" in drawing[0][1] and "int too large" in drawing[0][1]
    window.reset()  # a new run tries the view again
    assert not window.pump._failed_views
