"""The control panel on its own: losses offered only where they fit, a data set's
sensible defaults on a user's pick (said by noticeChanged), the weight-std box, marks
for settings that wait for Reset, and a width that fits a narrow screen."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QLabel

from nnviz.app.run_settings import RunSettings, with_source
from nnviz.gui.window.controls import MAX_PANEL_WIDTH, PENDING_MARK, PENDING_TIP, ControlPanel


@pytest.fixture
def panel(qtbot):
    stack = QUndoStack()
    p = ControlPanel(stack)
    p._stack_ref = stack  # the panel keeps a reference too; this keeps it alive for the test
    qtbot.addWidget(p)
    edits: list[RunSettings] = []
    notices: list[str] = []
    p.settingsEdited.connect(edits.append)
    p.noticeChanged.connect(notices.append)
    p.edits, p.notices = edits, notices
    return p


def _pick(box, data) -> None:
    box.setCurrentIndex(box.findData(data))


def _loss_item(panel, loss):
    return panel.loss.model().item(panel.loss.findData(loss))


def _tip(panel, loss) -> str:
    return panel.loss.itemData(panel.loss.findData(loss), Qt.ItemDataRole.ToolTipRole) or ""


# --- 2. losses that fit -------------------------------------------------------------------
def test_two_class_data_offers_every_classification_loss(panel):
    _pick(panel.dataset, "circle")
    for loss in ("softmax", "svm", "logistic"):
        assert _loss_item(panel, loss).isEnabled() and _tip(panel, loss) == ""
    assert not _loss_item(panel, "mse").isEnabled()
    assert _tip(panel, "mse") == "mean squared error is for regression; this data has 2 classes"


def test_three_classes_disable_logistic_saying_why(panel):
    _pick(panel.dataset, "spiral")
    panel.arms.setValue(3)
    item = _loss_item(panel, "logistic")
    assert item.isEnabled() is False and panel.loss.findData("logistic") >= 0  # disabled, not hidden
    assert _tip(panel, "logistic") == "logistic loss needs exactly two classes; this data has 3"


def test_regression_data_disables_the_classification_losses(panel):
    _pick(panel.dataset, "plane")
    assert panel.settings().network.loss == "mse"
    assert _loss_item(panel, "mse").isEnabled()
    for loss in ("softmax", "svm", "logistic"):
        assert not _loss_item(panel, loss).isEnabled()
        assert "this data is a regression set" in _tip(panel, loss)
    assert panel.notices[-1] == ("Plane: loss set to mean squared error (softmax cross-entropy is for "
                                 "classification; this data is a regression set)")


def test_a_loss_that_stops_fitting_switches_to_the_default_and_says_so(panel):
    _pick(panel.dataset, "circle")
    _pick(panel.loss, "logistic")
    assert panel.settings().network.loss == "logistic"
    panel.notices.clear()
    _pick(panel.dataset, "spiral")
    panel.arms.setValue(3)
    assert panel.settings().network.loss == "softmax"
    assert panel.notices == [
        "Spiral: loss set to softmax cross-entropy (logistic loss needs exactly two classes; this data has 3)"
    ]


def test_custom_data_losses_follow_the_kind_the_window_gives(panel):
    s = replace(RunSettings(), data=replace(RunSettings().data, source="custom"))
    panel.set_settings(s, custom_name="iris.csv", custom_2d=False, custom_kind=("classification", 3))
    assert not _loss_item(panel, "logistic").isEnabled()
    assert "this data has 3" in _tip(panel, "logistic")
    panel.set_settings(s, custom_name="iris.csv", custom_2d=False)  # kind unknown: nothing disabled
    assert all(_loss_item(panel, n).isEnabled() for n in ("softmax", "svm", "logistic", "mse"))


# --- 3. a data set's defaults -------------------------------------------------------------
def test_picking_digits_brings_its_defaults_and_says_what_changed(panel):
    _pick(panel.dataset, "digits")
    s = panel.settings()
    assert s.data.source == "digits" and s.data.preprocess == "standardize" and s.data.n == 1797
    assert s.network.layers == (64,) and s.network.loss == "softmax"
    assert panel.edits[-1] == s
    assert panel.notices == ["Digits: inputs standardized, one hidden layer of 64 units, all 1,797 "
                             "examples (sensible defaults for 8x8 images)"]
    assert panel.n_examples.maximum() == 1797  # the real set has no more
    _pick(panel.dataset, "circle")
    assert panel.n_examples.maximum() > 1797
    assert len(panel.layer_rows) == 1 and panel.layer_rows[0].units.value() == 64
    assert panel.preprocess.currentData() == "standardize"


def test_set_settings_never_applies_defaults(panel):
    s, _ = with_source(RunSettings(), "circle")
    s = replace(s, data=replace(s.data, source="digits", n=300))  # as a file might hold it
    panel.set_settings(s)
    assert panel.settings() == s and panel.notices == [] and panel.edits == []
    assert len(panel.layer_rows) == 2 and panel.preprocess.currentData() == "none"


def test_picking_a_plane_set_changes_nothing_it_need_not(panel):
    _pick(panel.dataset, "xor")
    assert panel.notices == [] and panel.settings().network.layers == (8, 8)


# --- 1. the weight std --------------------------------------------------------------------
def test_weight_std_is_enabled_only_for_the_normal_initialiser(panel):
    assert not panel.init_std.isEnabled()
    assert "saturate" in panel.init_std.toolTip()
    _pick(panel.init, "normal")
    assert panel.init_std.isEnabled() and panel.settings().network.init == "normal"
    panel.init_std.setValue(5.0)
    assert panel.settings().network.init_std == 5.0
    assert panel.edits[-1].network.init_std == 5.0
    panel.undo_stack.undo()
    assert panel.settings().network.init_std == 1.0
    _pick(panel.init, "xavier_normal")
    assert not panel.init_std.isEnabled()


# --- 4. pending marks ---------------------------------------------------------------------
def test_pending_fields_are_marked_and_cleared(panel):
    loss_label, = panel._marks["network.loss"]
    source_label, = panel._marks["data.source"]
    assert isinstance(loss_label, QLabel) and loss_label.text() == "Loss"
    plain = loss_label.text()
    running = panel.settings()
    _pick(panel.loss, "svm")
    fields = panel.settings().pending_fields(running)
    assert fields == {"network.loss"}
    panel.set_pending_fields(fields)
    assert loss_label.text() == f"{PENDING_MARK} {plain}" and loss_label.font().bold()
    assert PENDING_TIP in loss_label.toolTip()
    assert not source_label.text().startswith(PENDING_MARK)
    panel.set_pending_fields(["network.layers", "data.source", "no.such_field"])
    assert loss_label.text() == plain and not loss_label.font().bold() and loss_label.toolTip() == ""
    assert source_label.text().startswith(PENDING_MARK)
    assert all(row.label.text().startswith(PENDING_MARK) for row in panel.layer_rows)
    panel._on_add_layer()  # a new row is marked too while the layers wait
    assert panel.layer_rows[-1].label.text().startswith(PENDING_MARK)
    panel.set_pending_fields(())
    assert panel.pending_fields() == frozenset()
    labels = [source_label, loss_label, *(row.label for row in panel.layer_rows)]
    assert not any(w.text().startswith(PENDING_MARK) or w.font().bold() for w in labels)


def test_every_non_live_field_name_has_a_mark(panel):
    from dataclasses import fields

    from nnviz.app.run_settings import LIVE_FIELDS

    s = RunSettings()
    names = {f"{g}.{f.name}" for g in ("data", "network", "train") for f in fields(getattr(s, g))}
    names -= {f"train.{k}" for k in LIVE_FIELDS}
    panel.set_pending_fields(names)
    marks = {**panel._marks, "network.layers": [r.label for r in panel.layer_rows]}
    assert names <= set(marks) | {"network.activations"}
    for name in names - {"network.activations"}:
        assert all(w.text().startswith(PENDING_MARK) for w in marks[name]), name


# --- 5. narrow screens --------------------------------------------------------------------
def test_panel_fits_300_px(panel, qtbot):
    assert panel.minimumSizeHint().width() <= MAX_PANEL_WIDTH == 300
    assert panel.minimumWidth() <= 300
    body = panel.widget()
    scroll = panel.verticalScrollBar().sizeHint().width()
    assert body.minimumSizeHint().width() + scroll <= 300
    panel.resize(300, 700)
    panel.show()
    qtbot.waitExposed(panel)
    assert body.width() <= panel.viewport().width()
    _pick(panel.dataset, "digits")  # long labels, a 64-unit layer: still no sideways scrolling
    _pick(panel.loss, "svm")
    panel._on_add_layer()
    panel.set_pending_fields(panel.settings().pending_fields(RunSettings()) | {"train.seed"})
    qtbot.wait(10)  # removed rows go at the next event loop turn
    assert body.minimumSizeHint().width() + scroll <= 300
    assert body.width() <= panel.viewport().width()
