"""The control panel: every setting the core offers, grouped Data / Network / Training.

The panel edits a :class:`~nnviz.app.run_settings.RunSettings` and emits it on every
change; it never trains anything itself. The window decides what applies at once
(learning rate, schedule, batch size, L1/L2, dropout) and what waits for Reset.
Architecture edits go through the undo stack.

It offers only what fits: a loss that cannot train the data is shown disabled, its
tooltip saying why (the rule is :mod:`nnviz.core.compat`). Picking a data set brings the
sensible defaults the source registry declares for it and says so by
:attr:`ControlPanel.noticeChanged`. Settings that wait for Reset can be marked
(:meth:`ControlPanel.set_pending_fields`). The panel fits 300 px of width.

The groups' widgets are built in :mod:`~nnviz.gui.window.control_groups`, from the
small widgets and helpers of :mod:`~nnviz.gui.window.control_widgets`; this module keeps
the panel: showing settings, marking pending ones and turning edits into settings.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel, QUndoStack
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.run_settings import (
    CUSTOM,
    DATA_SOURCES,
    DIGITS,
    NetworkSettings,
    RunSettings,
    fit_loss,
    loss_problem,
    source_label,
    with_source,
)
from nnviz.core.compat import default_loss
from nnviz.core.init import SCALED_INIT
from nnviz.core.optim import Schedule
from nnviz.gui.window.commands import NetworkEdit
from nnviz.gui.window.control_groups import (
    IMAGE_SET,
    LIVE_NOTE,
    MAX_GUI_BATCH,
    MAX_GUI_EXAMPLES,
    MIN_PENALTY,
    RESET_NOTE,
    GroupBuilders,
)
from nnviz.gui.window.control_widgets import (
    COMBO_MIN_CHARS,
    GROUP_MARGINS,
    MAX_GUI_UNITS,
    PENDING_MARK,
    PENDING_TIP,
    LayerRow,
    LogSpinBox,
    _mark,
    _select,
    _SpaceForShortcut,
)
from nnviz.gui.window.theme import hint_color
from nnviz.io.sources import SOURCES

MAX_GUI_LAYERS = 16
#: the panel's widest: it must fit beside the views on a 1280x720 screen
MAX_PANEL_WIDTH = 300

__all__ = [
    "COMBO_MIN_CHARS",
    "GROUP_MARGINS",
    "IMAGE_SET",
    "LIVE_NOTE",
    "MAX_GUI_BATCH",
    "MAX_GUI_EXAMPLES",
    "MAX_GUI_LAYERS",
    "MAX_GUI_UNITS",
    "MAX_PANEL_WIDTH",
    "MIN_PENALTY",
    "PENDING_MARK",
    "PENDING_TIP",
    "RESET_NOTE",
    "ControlPanel",
    "LayerRow",
    "LogSpinBox",
]


class ControlPanel(GroupBuilders, QScrollArea):
    """Data / Network / Training settings; emits :attr:`settingsEdited` on every edit."""

    settingsEdited = Signal(object)
    resetRequested = Signal()
    importRequested = Signal()
    #: an image set picked in the data set list (``mnist``...): the window imports it
    imageSetRequested = Signal(str)
    #: one line for the status bar when the panel changed settings by itself (a data
    #: set's sensible defaults, a loss that no longer fitted the data)
    noticeChanged = Signal(str)

    def __init__(self, undo_stack: QUndoStack, parent: QWidget | None = None):
        super().__init__(parent)
        self.undo_stack = undo_stack
        self._settings = RunSettings()
        self._custom_name = ""
        self._custom_2d = True
        self._custom_kind: tuple[str, int] | None = None
        self._pending_fields: frozenset[str] = frozenset()
        self._marks: dict[str, list[QWidget]] = {}
        self._updating = False
        self._dark = False
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(4, 6, 4, 6)
        self._build_hint()
        self._build_data()
        self._build_network()
        self._build_training()
        self._layout.addStretch(1)
        self.setWidget(body)
        self._space_filter = _SpaceForShortcut(self)
        self._install_space_filter()
        # the panel scrolls vertically, never sideways: its rows, marked or not, fit
        # MAX_PANEL_WIDTH with the scroll bar (tested), so that is all it asks for
        self.setMinimumWidth(MAX_PANEL_WIDTH)
        self._show(self._settings)

    def _install_space_filter(self) -> None:
        for box in self.findChildren(QAbstractSpinBox):
            box.installEventFilter(self._space_filter)

    # --- public -------------------------------------------------------------------------
    def settings(self) -> RunSettings:
        return self._settings

    def set_settings(
        self,
        settings: RunSettings,
        custom_name: str | None = None,
        custom_2d: bool = True,
        custom_kind: tuple[str, int] | None = None,
    ) -> None:
        """Show ``settings`` without emitting anything (after open, reset, undo): a file's
        settings are shown as they are, no data set defaults applied. ``custom_name``
        names imported data, offered as a data set from then on; ``custom_kind`` is its
        (task, number of classes), so the losses that cannot train it are disabled."""
        if custom_name is not None:
            self._custom_name = custom_name
            self._custom_2d = custom_2d
            self._custom_kind = custom_kind
        self._settings = settings
        self._show(settings)

    def set_pending(self, pending: bool) -> None:
        """Show or hide the "press Reset to apply" hint."""
        self.hint.setStyleSheet(f"color: {hint_color(self._dark)};")
        self.hint_box.setVisible(pending)

    def set_pending_fields(self, fields: Collection[str]) -> None:
        """Mark the controls of ``fields`` (``RunSettings.pending_fields`` names, such as
        "network.layers" or "data.source"): their label bold with a leading dot and a
        tooltip saying the value waits for Reset. An empty collection clears every mark;
        names without a control are ignored."""
        self._pending_fields = frozenset(fields)
        self._show_marks()

    def pending_fields(self) -> frozenset[str]:
        """The fields marked as waiting for Reset."""
        return self._pending_fields

    def set_theme(self, dark: bool) -> None:
        self._dark = dark
        self.hint.setStyleSheet(f"color: {hint_color(dark)};")

    def apply_network(self, network: NetworkSettings) -> None:
        """Called by undo commands: show ``network`` and report the edit."""
        self._settings = replace(self._settings, network=network)
        self._show(self._settings)
        self.settingsEdited.emit(self._settings)

    # --- showing ------------------------------------------------------------------------
    def _show(self, s: RunSettings) -> None:
        self._updating = True
        try:
            self._show_data(s)
            self._show_network(s.network)
            self._show_loss_fit(s)
            self._show_training(s)
        finally:
            self._updating = False
        self._show_marks()

    def _show_marks(self) -> None:
        layer_labels = [row.label for row in self.layer_rows]
        marks = {**self._marks, "network.layers": layer_labels, "network.activations": layer_labels}
        pending = {id(w) for name in self._pending_fields for w in marks.get(name, ())}
        seen: set[int] = set()
        for widgets in marks.values():
            for w in widgets:
                if id(w) not in seen:
                    seen.add(id(w))
                    _mark(w, id(w) in pending)

    def _data_kind(self, s: RunSettings) -> tuple[str, int] | None:
        """(task, classes) of the data the settings describe; None when unknown."""
        d = s.data
        if d.source == CUSTOM:
            return self._custom_kind
        if d.task is None or d.n_classes is None:
            return None
        return d.task, d.n_classes

    def _show_loss_fit(self, s: RunSettings) -> None:
        """Disable (not hide) the losses that cannot train the data, each saying why."""
        kind = self._data_kind(s)
        model = self.loss.model()
        for i in range(self.loss.count()):
            problem = None if kind is None else loss_problem(self.loss.itemData(i), *kind)
            if isinstance(model, QStandardItemModel):  # a combo box's own model
                model.item(i).setEnabled(problem is None)
            self.loss.setItemData(i, problem or None, Qt.ItemDataRole.ToolTipRole)
        current = None if kind is None else loss_problem(s.network.loss, *kind)
        self.loss.setToolTip(self._loss_tip if current is None else f"{self._loss_tip}\n{current}")

    def _show_data(self, s: RunSettings) -> None:
        d = s.data
        custom_i = self.dataset.findData(CUSTOM)
        if d.source == CUSTOM or self._custom_name:
            label = f"Imported: {self._custom_name or d.custom_name or 'data'}"
            if custom_i < 0:
                self.dataset.insertItem(len(DATA_SOURCES), label, CUSTOM)  # before the image sets
            else:
                self.dataset.setItemText(custom_i, label)
        _select(self.dataset, d.source)
        generated = d.source != CUSTOM
        info = SOURCES.get(d.source)
        self.n_examples.setMaximum(min(info.max_n, MAX_GUI_EXAMPLES) if info else MAX_GUI_EXAMPLES)
        self.n_examples.setValue(min(d.n, MAX_GUI_EXAMPLES))
        self.n_examples.setEnabled(generated)
        self.noise.setValue(d.noise)
        self.noise.setEnabled(generated and d.source != DIGITS)
        self.arms.setValue(d.arms)
        self.arms.setEnabled(d.source == "spiral")
        self.regenerate.setEnabled(generated)
        self.test_split.setValue(round(d.test_fraction * 100))
        two_d = d.is_2d if d.is_2d is not None else self._custom_2d
        for name, cb in self.features.items():
            cb.setChecked(name in d.features)
            cb.setEnabled(two_d)
        self.features_label.setEnabled(two_d)
        _select(self.preprocess, d.preprocess)

    def _show_network(self, n: NetworkSettings) -> None:
        while len(self.layer_rows) > len(n.layers):
            row = self.layer_rows.pop()
            self.layers_box.removeWidget(row)
            row.hide()  # gone at once, not only once the event loop deletes it
            row.deleteLater()
        while len(self.layer_rows) < len(n.layers):
            row = LayerRow(len(self.layer_rows))
            i = row.index
            row.units.valueChanged.connect(lambda v, i=i: self._on_units(i, v))
            row.activation.currentIndexChanged.connect(lambda _=0, i=i: self._on_activation(i))
            row.remove.clicked.connect(lambda _=False, i=i: self._on_remove_layer(i))
            self.layers_box.addWidget(row)
            self.layer_rows.append(row)
            row.units.installEventFilter(self._space_filter)
        for row, units, act in zip(self.layer_rows, n.layers, n.activations, strict=True):
            # a file may hold a wider layer than the box offers: shown as it is, never clamped
            row.units.setMaximum(max(MAX_GUI_UNITS, units))
            row.units.setValue(units)
            _select(row.activation, act)
        self.add_layer.setEnabled(len(n.layers) < MAX_GUI_LAYERS)
        _select(self.loss, n.loss)
        _select(self.init, n.init)
        self.init_std.setValue(n.init_std)
        self.init_std.setEnabled(n.init == SCALED_INIT)
        self.init_std_label.setEnabled(n.init == SCALED_INIT)
        self.residual.setChecked(n.residual)
        _select(self.dtype, n.dtype)
        self.all_activations.setCurrentIndex(0)

    def _show_training(self, s: RunSettings) -> None:
        t = s.train
        _select(self.optimizer, t.optimizer)
        self.lr.setValue(t.lr)
        _select(self.schedule, t.schedule.name)
        name = t.schedule.name
        self.sched_steps.setValue(t.schedule.t_max if name == "cosine" else t.schedule.step_size)
        self.sched_gamma.setValue(t.schedule.gamma)
        self.sched_steps.setEnabled(name in ("step", "cosine"))
        self.sched_gamma.setEnabled(name in ("step", "exponential"))
        self.sched_label.setEnabled(name != "constant")
        self.batch.setMaximum(max(MAX_GUI_BATCH, t.batch_size))  # a file's larger batch as it is
        self.batch.setValue(t.batch_size)
        self.l2.setValue(t.l2)
        self.l1.setValue(t.l1)
        self.dropout.setValue(t.dropout)
        self.seed.setValue(min(t.seed, self.seed.maximum()))

    # --- edits --------------------------------------------------------------------------
    def _emit(self, settings: RunSettings, notice: str = "") -> None:
        self._settings = settings
        self._show(settings)
        self.settingsEdited.emit(settings)
        if notice:
            self.noticeChanged.emit(notice)

    def _on_data_edit(self, *_args) -> None:
        if self._updating:
            return
        s = self._settings
        source = self.dataset.currentData()
        if isinstance(source, str) and source.startswith(IMAGE_SET):
            self._show(s)  # the list shows the running data until the images are in
            self.imageSetRequested.emit(source[len(IMAGE_SET):])
            return
        d = replace(
            s.data,
            n=self.n_examples.value(),
            noise=self.noise.value(),
            arms=self.arms.value(),
            test_fraction=self.test_split.value() / 100.0,
            preprocess=self.preprocess.currentData(),
            features=tuple(n for n, cb in self.features.items() if cb.isChecked()),
        )
        edited = replace(s, data=d)
        if source != s.data.source and source != CUSTOM:
            # a user's pick: the source's sensible defaults and a loss that fits
            self._emit(*with_source(edited, source))
            return
        edited = replace(edited, data=replace(d, source=source))
        if source == CUSTOM:
            after, notice = self._fit_custom_loss(edited)
        else:
            after, notice = fit_loss(edited)  # e.g. a third spiral arm and the logistic loss
            notice = f"{source_label(source)}: {notice}" if notice else ""
        self._emit(after, notice)

    def _fit_custom_loss(self, s: RunSettings) -> tuple[RunSettings, str]:
        kind = self._custom_kind
        problem = None if kind is None else loss_problem(s.network.loss, *kind)
        if kind is None or problem is None:
            return s, ""
        loss = default_loss(kind[0])
        after = replace(s, network=replace(s.network, loss=loss))
        return after, f"{self._custom_name or 'Imported data'}: loss set to {loss} ({problem})"

    def _on_regenerate(self) -> None:
        s = self._settings
        self._emit(replace(s, data=replace(s.data, seed=s.data.seed + 1)))
        self.resetRequested.emit()

    def _on_train_edit(self, *_args) -> None:
        if self._updating:
            return
        s = self._settings
        t = s.train
        name = self.schedule.currentData()
        steps = self.sched_steps.value()
        old = t.schedule
        schedule = Schedule(
            name=name,
            step_size=steps if name == "step" else old.step_size,
            gamma=self.sched_gamma.value(),
            t_max=steps if name == "cosine" else old.t_max,
            eta_min=old.eta_min,
        )
        optimizer = self.optimizer.currentData()
        t = replace(
            t,
            optimizer=optimizer,
            hyper=t.hyper if optimizer == t.optimizer else (),
            lr=self.lr.value(),
            schedule=schedule,
            batch_size=self.batch.value(),
            l2=self.l2.value(),
            l1=self.l1.value(),
            dropout=self.dropout.value(),
            seed=self.seed.value(),
        )
        self._emit(replace(s, train=t))

    def _push(self, after: NetworkSettings, text: str, key: str | None = None) -> None:
        before = self._settings.network
        if after == before:
            return
        self.undo_stack.push(NetworkEdit(self, before, after, text, key))

    def _net_edit(self, field: str, value: object, key: str | None = None) -> None:
        if self._updating:
            return
        labels = {"loss": "loss", "init": "initialiser", "init_std": "weight std",
                  "residual": "residual links", "dtype": "precision"}
        self._push(replace(self._settings.network, **{field: value}), f"Change {labels[field]}", key)

    def _on_units(self, index: int, units: int) -> None:
        if self._updating:
            return
        after = self._settings.network.with_layer(index, units=units)
        self._push(after, f"Set layer {index + 1} to {units} units", key=f"units{index}")

    def _on_activation(self, index: int) -> None:
        if self._updating:
            return
        act = self.layer_rows[index].activation.currentData()
        self._push(self._settings.network.with_layer(index, activation=act),
                   f"Layer {index + 1} activation {act}")

    def _on_all_activations(self, _index: int) -> None:
        act = self.all_activations.currentData()
        self.all_activations.setCurrentIndex(0)
        if not act:
            return
        n = self._settings.network
        self._push(replace(n, activations=(act,) * len(n.layers)), f"All activations {act}")

    def _on_add_layer(self) -> None:
        n = self._settings.network
        units = n.layers[-1] if n.layers else 4
        self._push(n.added_layer(units), f"Add layer {len(n.layers) + 1}")

    def _on_remove_layer(self, index: int) -> None:
        n = self._settings.network
        if index < len(n.layers):
            self._push(n.removed_layer(index), f"Remove layer {index + 1}")
