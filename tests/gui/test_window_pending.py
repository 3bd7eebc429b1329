"""Settings shown but not running: the banner says which, Apply and Revert do what they say,
and training goes on with the running network meanwhile."""

from __future__ import annotations

from dataclasses import replace

from nnviz.app.pending import pending_changes
from nnviz.app.run_settings import RunSettings
from tests.gui.test_window import trained
from tests.gui.waits import WAIT_MS, WAIT_S


def _edit_layers(window, layers):
    shown = window.controls.settings()
    net = replace(shown.network, layers=layers, activations=("tanh",) * len(layers))
    window.controls.apply_network(net)  # as an edit in the controls (and undo) reports it


def test_pending_changes_name_each_setting_in_words():
    running = RunSettings()
    shown = replace(running, network=replace(running.network, layers=(16,), activations=("tanh",)))
    assert pending_changes(shown, running) == ("layers 8, 8 → 16", "activation relu, relu → tanh")
    assert pending_changes(running, running) == ()
    live = replace(running, train=replace(running.train, lr=0.5))  # applies at once: never waits
    assert pending_changes(live, running) == ()


def test_edits_before_training_apply_at_once(window, qtbot):
    _edit_layers(window, (5,))
    assert window.document.settings.network.layers == (5,)
    assert tuple(layer.units for layer in window.info.spec.hidden) == (5,)
    assert not window.pending_bar.isVisible() and not window.banner.changes


def test_edits_after_training_wait_in_the_banner_until_apply(window, qtbot):
    trained(window, qtbot, 30)
    running = window.document.settings
    _edit_layers(window, (16,))
    assert window.banner.changes == ("layers 8, 8 → 16", "activation relu, relu → tanh")
    assert window.pending_bar.isVisible() and window.banner.isVisible()
    assert "Not applied yet" in window.banner.text.text()
    assert window.document.settings == running  # the running network is still the old one
    step = window.pump.last_step
    window.toggle_play()  # Space: the running network goes on training
    qtbot.waitUntil(lambda: window.pump.last_step > step + 5, timeout=WAIT_MS)
    window.pause()
    session = window.worker.copy_session().result(timeout=WAIT_S)
    assert tuple(layer.units for layer in session.spec.hidden) == (8, 8)
    assert window.banner.isVisible()
    window.banner.apply_button.click()
    qtbot.waitUntil(lambda: window.document.settings.network.layers == (16,), timeout=WAIT_MS)
    assert not window.pending_bar.isVisible() and window.banner.changes == ()
    assert window.pump.last_step == 0


def test_revert_shows_the_running_settings_again(window, qtbot):
    trained(window, qtbot, 30)
    running = window.document.settings
    _edit_layers(window, (3, 3))
    assert window.banner.changes
    window.banner.revert_button.click()
    assert window.controls.settings() == running
    assert not window.pending_bar.isVisible() and window.banner.changes == ()
    assert window.pump.last_step >= 30  # nothing was reset
