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
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QStandardItemModel, QUndoStack, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
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
from nnviz.app.settings_schema import setting
from nnviz.core.activations import ACTIVATION_NAMES
from nnviz.core.compat import default_loss
from nnviz.core.init import INIT_NAMES, INIT_STD_RANGE, SCALED_INIT
from nnviz.core.losses import LOSS_NAMES
from nnviz.core.optim import OPTIMIZER_NAMES, SCHEDULE_NAMES, Schedule
from nnviz.core.preprocess import FEATURES_2D, PREPROCESS_NAMES
from nnviz.core.spec import DTYPES
from nnviz.gui.window.commands import NetworkEdit
from nnviz.gui.window.theme import hint_color
from nnviz.io.images.cache import PUBLISHED
from nnviz.io.sources import SOURCES

MAX_GUI_UNITS = 4096
MAX_GUI_LAYERS = 16
MAX_GUI_EXAMPLES = 1_000_000
MAX_GUI_BATCH = 100_000
MIN_PENALTY = 1e-6

LIVE_NOTE = "Learning rate, schedule, batch size, L1/L2 and dropout apply at once."
RESET_NOTE = "Data and network changes apply when you press Reset (Ctrl+R)."
#: a setting whose value differs from the running network's
PENDING_MARK = "●"
PENDING_TIP = "not applied yet: press Apply (Reset) to train with it"
#: the panel's widest: it must fit beside the views on a 1280x720 screen
MAX_PANEL_WIDTH = 300
#: characters a combo box needs at least; longer entries are elided, shown whole in the list
COMBO_MIN_CHARS = 10
#: a group box's margins inside its frame (narrower than the style's, for narrow screens)
GROUP_MARGINS = (6, 6, 6, 6)


class LogSpinBox(QDoubleSpinBox):
    """A number spin box that steps 1, 3, 10, 30... (learning rates, penalties)."""

    LADDER = tuple(round(m * 10.0**e, 12) for e in range(-6, 2) for m in (1.0, 3.0))

    def __init__(self, minimum: float, maximum: float, allow_zero: bool = False):
        super().__init__()
        self._allow_zero = allow_zero
        self.setDecimals(8)
        self.setRange(0.0 if allow_zero else minimum, maximum)
        self._min = minimum
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip()
        if t in ("", ".", "-", "e", "1e", "1e-"):
            return QValidator.State.Intermediate, text, pos
        try:
            v = float(t)
        except ValueError:
            stripped = t.rstrip("eE-+")
            try:
                float(stripped)
                return QValidator.State.Intermediate, text, pos
            except ValueError:
                return QValidator.State.Invalid, text, pos
        ok = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        ladder = [v for v in self.LADDER if self._min <= v <= self.maximum()]
        if self._allow_zero:
            ladder = [0.0, *ladder]
        v = self.value()
        if steps > 0:
            above = [x for x in ladder if x > v * (1 + 1e-9)]
            target = above[min(steps, len(above)) - 1] if above else v
        else:
            below = [x for x in ladder if x < v * (1 - 1e-9)]
            target = below[-min(-steps, len(below))] if below else v
        self.setValue(target)


#: the data list's entries for image sets carry this prefix before the set's name
IMAGE_SET = "images:"

def _combo(items: list[tuple[str, str]]) -> QComboBox:
    """A combo box as narrow as a few characters: long entries are elided in the box
    (the list shows them whole), so the panel fits a narrow screen."""
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(COMBO_MIN_CHARS)
    for data, label in items:
        box.addItem(label, data)
    return box


def _form(parent: QWidget | None = None) -> QFormLayout:
    """A form whose rows put the field under its label when the panel is narrow."""
    form = QFormLayout(parent) if parent is not None else QFormLayout()
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    if parent is not None:
        form.setContentsMargins(*GROUP_MARGINS)
    return form


def _add_row(form: QFormLayout, name: str, widget: QWidget) -> QLabel:
    """Add ``widget`` under the settings schema's label for ``name``, with its tooltip
    (declared once there, with the setting's range and CLI flag); returns the label."""
    s = setting(name)
    if s.tooltip:
        widget.setToolTip(s.tooltip)
    label = QLabel(s.label)
    label.setWordWrap(True)
    form.addRow(label, widget)
    return label


def _mark(widget: QLabel | QCheckBox | QPushButton, pending: bool) -> None:
    """Show ``widget``'s text bold with a leading dot while its setting waits for Reset
    (its own text and tooltip are kept in properties and put back after)."""
    if widget.property("plainText") is None:
        widget.setProperty("plainText", widget.text())
        widget.setProperty("plainTip", widget.toolTip())
    elif bool(widget.property("pendingMark")) == pending:
        return
    widget.setProperty("pendingMark", pending)
    text, tip = widget.property("plainText"), widget.property("plainTip")
    widget.setText(f"{PENDING_MARK} {text}" if pending else text)
    widget.setToolTip((f"{tip}\n{PENDING_TIP}" if tip else PENDING_TIP) if pending else tip)
    font = widget.font()
    font.setBold(pending)
    widget.setFont(font)


def _select(box: QComboBox, data: object) -> None:
    i = box.findData(data)
    if i >= 0:
        box.setCurrentIndex(i)


class _SpaceForShortcut(QObject):
    """Numbers never hold a space: in a spin box, Space goes to the window (play/pause)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space and not event.modifiers()
        ):
            event.ignore()  # not claimed by the spin box, so the window's shortcut runs
            return True
        return False


class LayerRow(QWidget):
    """One hidden layer: units, activation, remove."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.label = QLabel(f"Layer {index + 1}")
        self.units = QSpinBox()
        self.units.setRange(1, MAX_GUI_UNITS)
        self.units.setKeyboardTracking(False)
        self.units.setToolTip("Number of units (neurons) in this hidden layer")
        self.activation = _combo([(a, a) for a in ACTIVATION_NAMES])
        self.activation.setMinimumContentsLength(5)
        self.activation.setToolTip("Activation function of this layer")
        self.remove = QToolButton()
        self.remove.setText("−")
        self.remove.setToolTip(f"Remove hidden layer {index + 1}")
        lay.addWidget(self.label)
        lay.addWidget(self.units, 1)
        lay.addWidget(self.activation, 1)
        lay.addWidget(self.remove)


class ControlPanel(QScrollArea):
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

    # --- building -----------------------------------------------------------------------
    def _build_hint(self) -> None:
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel("Changes are waiting: press <b>Reset</b> (Ctrl+R) to apply them.")
        self.hint.setWordWrap(True)
        self.apply_button = QPushButton("Reset && apply")
        self.apply_button.setToolTip("Start a new run with the settings shown (Ctrl+R)")
        self.apply_button.clicked.connect(self.resetRequested)
        lay.addWidget(self.hint, 1)
        lay.addWidget(self.apply_button)
        self.hint_box = box
        box.setVisible(False)
        self._layout.addWidget(box)

    def _build_data(self) -> None:
        group = QGroupBox("Data")
        form = _form(group)
        self.dataset = _combo([(n, SOURCES[n].label) for n in DATA_SOURCES])
        self.dataset.insertSeparator(self.dataset.count())
        for name, entry in PUBLISHED.items():  # imported like a file (downloaded once, after asking)
            self.dataset.addItem(f"{entry.label.split(' (')[0]} (images)…", IMAGE_SET + name)
            self.dataset.setItemData(self.dataset.count() - 1, entry.label, Qt.ItemDataRole.ToolTipRole)
        self.dataset.currentIndexChanged.connect(self._on_data_edit)
        self._marks["data.source"] = [_add_row(form, "source", self.dataset)]
        self._marks["data.custom_name"] = self._marks["data.source"]
        self.n_examples = QSpinBox()
        self.n_examples.setRange(4, MAX_GUI_EXAMPLES)
        self.n_examples.setSingleStep(100)
        self.n_examples.setKeyboardTracking(False)
        self.n_examples.setGroupSeparatorShown(True)
        self.n_examples.valueChanged.connect(self._on_data_edit)
        self._marks["data.n"] = [_add_row(form, "n", self.n_examples)]
        self.noise = QDoubleSpinBox()
        self.noise.setRange(*setting("noise").range)
        self.noise.setSingleStep(0.05)
        self.noise.setDecimals(2)
        self.noise.setKeyboardTracking(False)
        self.noise.valueChanged.connect(self._on_data_edit)
        self._marks["data.noise"] = [_add_row(form, "noise", self.noise)]
        self.arms = QSpinBox()
        self.arms.setRange(*setting("arms").range)
        self.arms.setKeyboardTracking(False)
        self.arms.valueChanged.connect(self._on_data_edit)
        self._marks["data.arms"] = [_add_row(form, "arms", self.arms)]
        self.test_split = QSpinBox()
        self.test_split.setRange(*(round(100 * v) for v in setting("test_fraction").range))
        self.test_split.setSuffix(" % test")
        self.test_split.setKeyboardTracking(False)
        self.test_split.valueChanged.connect(self._on_data_edit)
        self._marks["data.test_fraction"] = [_add_row(form, "test_fraction", self.test_split)]
        buttons = QHBoxLayout()
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setToolTip("Draw a new sample of the same data set")
        self.regenerate.clicked.connect(self._on_regenerate)
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Train on your own data: a CSV table, image files or folders, "
                                      "or MNIST, Fashion-MNIST or CIFAR-10")
        self.import_button.clicked.connect(self.importRequested)  # the window gives it a menu
        buttons.addWidget(self.regenerate)
        buttons.addWidget(self.import_button)
        form.addRow(buttons)
        self._marks["data.seed"] = [self.regenerate]
        feats = QWidget()
        grid = QGridLayout(feats)
        grid.setContentsMargins(0, 0, 0, 0)
        self.features: dict[str, QCheckBox] = {}
        for i, name in enumerate(FEATURES_2D):
            cb = QCheckBox(name)
            cb.toggled.connect(self._on_data_edit)
            self.features[name] = cb
            grid.addWidget(cb, i // 3, i % 3)
        feats.setToolTip("Inputs computed from the two coordinates (none ticked: x1 and x2)")
        self.features_label = QLabel("Input features")
        self.features_label.setWordWrap(True)
        form.addRow(self.features_label, feats)
        self._marks["data.features"] = [self.features_label]
        self.features_box = feats
        self.preprocess = _combo([(p, p) for p in PREPROCESS_NAMES])
        self.preprocess.currentIndexChanged.connect(self._on_data_edit)
        self._marks["data.preprocess"] = [_add_row(form, "preprocess", self.preprocess)]
        self._layout.addWidget(group)
        self.data_group = group

    def _build_network(self) -> None:
        group = QGroupBox("Network")
        v = QVBoxLayout(group)
        v.setContentsMargins(*GROUP_MARGINS)
        self.layers_box = QVBoxLayout()
        self.layers_box.setSpacing(2)
        v.addLayout(self.layers_box)
        self.layer_rows: list[LayerRow] = []
        row = QHBoxLayout()
        self.add_layer = QPushButton("+ Add layer")
        self.add_layer.setToolTip("Add a hidden layer before the output")
        self.add_layer.clicked.connect(self._on_add_layer)
        self.all_activations = _combo([("", "Set all activations…")] + [(a, a) for a in ACTIVATION_NAMES])
        self.all_activations.setToolTip("Give every hidden layer the same activation")
        self.all_activations.activated.connect(self._on_all_activations)
        row.addWidget(self.add_layer)
        row.addWidget(self.all_activations, 1)
        v.addLayout(row)
        form = _form()
        loss = setting("loss")
        self.loss = _combo([(n, loss.choice_label(n)) for n in LOSS_NAMES])
        self.loss.currentIndexChanged.connect(lambda: self._net_edit("loss", self.loss.currentData()))
        self._marks["network.loss"] = [_add_row(form, "loss", self.loss)]
        self._loss_tip = self.loss.toolTip()
        self.init = _combo([(n, n) for n in INIT_NAMES])
        self.init.currentIndexChanged.connect(lambda: self._net_edit("init", self.init.currentData()))
        self._marks["network.init"] = [_add_row(form, "init", self.init)]
        self.init_std = LogSpinBox(*INIT_STD_RANGE)
        self.init_std.valueChanged.connect(lambda v: self._net_edit("init_std", float(v), key="init_std"))
        self.init_std_label = _add_row(form, "init_std", self.init_std)
        self._marks["network.init_std"] = [self.init_std_label]
        self.residual = QCheckBox(setting("residual").label)
        self.residual.setToolTip(setting("residual").tooltip)
        self.residual.toggled.connect(lambda b: self._net_edit("residual", bool(b)))
        form.addRow(self.residual)
        self._marks["network.residual"] = [self.residual]
        self.dtype = _combo([(d, d) for d in DTYPES])
        self.dtype.currentIndexChanged.connect(lambda: self._net_edit("dtype", self.dtype.currentData()))
        self._marks["network.dtype"] = [_add_row(form, "dtype", self.dtype)]
        v.addLayout(form)
        self._layout.addWidget(group)

    def _build_training(self) -> None:
        group = QGroupBox("Training")
        form = _form(group)
        self.optimizer = _combo([(n, n) for n in OPTIMIZER_NAMES])
        self.optimizer.currentIndexChanged.connect(self._on_train_edit)
        self._marks["train.optimizer"] = [_add_row(form, "optimizer", self.optimizer)]
        self._marks["train.hyper"] = self._marks["train.optimizer"]
        self.lr = LogSpinBox(*setting("lr").range)
        self.lr.valueChanged.connect(self._on_train_edit)
        _add_row(form, "lr", self.lr)
        self.schedule = _combo([(n, n) for n in SCHEDULE_NAMES])
        self.schedule.currentIndexChanged.connect(self._on_train_edit)
        _add_row(form, "schedule", self.schedule)
        sched = QHBoxLayout()
        self.sched_steps = QSpinBox()
        self.sched_steps.setRange(1, 10_000_000)
        self.sched_steps.setKeyboardTracking(False)
        self.sched_steps.setToolTip("step: steps between decays; cosine: steps to the minimum")
        self.sched_steps.valueChanged.connect(self._on_train_edit)
        self.sched_gamma = QDoubleSpinBox()
        self.sched_gamma.setRange(0.0001, 1.0)
        self.sched_gamma.setDecimals(4)
        self.sched_gamma.setSingleStep(0.05)
        self.sched_gamma.setPrefix("× ")
        self.sched_gamma.setKeyboardTracking(False)
        self.sched_gamma.setToolTip("Factor per decay (step) or per step (exponential)")
        self.sched_gamma.valueChanged.connect(self._on_train_edit)
        sched.addWidget(self.sched_steps)
        sched.addWidget(self.sched_gamma)
        self.sched_label = QLabel("Decay")
        form.addRow(self.sched_label, sched)
        self.batch = QSpinBox()
        self.batch.setRange(1, MAX_GUI_BATCH)
        self.batch.setKeyboardTracking(False)
        self.batch.valueChanged.connect(self._on_train_edit)
        _add_row(form, "batch_size", self.batch)
        # the smallest non-zero penalty the ladder offers; zero is its own step
        self.l2 = LogSpinBox(MIN_PENALTY, setting("l2").range[1], allow_zero=True)
        self.l2.valueChanged.connect(self._on_train_edit)
        _add_row(form, "l2", self.l2)
        self.l1 = LogSpinBox(MIN_PENALTY, setting("l1").range[1], allow_zero=True)
        self.l1.valueChanged.connect(self._on_train_edit)
        _add_row(form, "l1", self.l1)
        self.dropout = QDoubleSpinBox()
        self.dropout.setRange(*setting("dropout").range)
        self.dropout.setSingleStep(0.05)
        self.dropout.setKeyboardTracking(False)
        self.dropout.valueChanged.connect(self._on_train_edit)
        _add_row(form, "dropout", self.dropout)
        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip(setting("seed").tooltip)
        self.seed.valueChanged.connect(self._on_train_edit)
        self.new_seed = QPushButton("New")
        self.new_seed.setToolTip("Another seed: other first weights")
        self.new_seed.clicked.connect(lambda: self.seed.setValue((self.seed.value() + 1) % 2_000_000_000))
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.new_seed)
        seed_label = QLabel(setting("seed").label)
        form.addRow(seed_label, seed_row)
        self._marks["train.seed"] = [seed_label]
        note = QLabel(f"{LIVE_NOTE} {RESET_NOTE}")
        note.setWordWrap(True)
        note.setEnabled(False)
        form.addRow(note)
        self._layout.addWidget(group)

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
