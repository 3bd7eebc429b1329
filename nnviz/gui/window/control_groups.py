"""The control panel's groups: the Data, Network and Training boxes and the Reset hint.

:class:`GroupBuilders` is mixed into :class:`~nnviz.gui.window.controls.ControlPanel`:
it makes the widgets of each group, labels them from the settings schema, records
which of them a pending setting marks, and connects them to the panel's edit handlers
(``_on_data_edit``, ``_on_train_edit``, ``_net_edit``...), which live in the panel
with the showing of settings. Building only: nothing here reads or emits settings.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.run_settings import DATA_SOURCES
from nnviz.app.settings_schema import setting
from nnviz.core.activations import ACTIVATION_NAMES
from nnviz.core.init import INIT_NAMES, INIT_STD_RANGE
from nnviz.core.losses import LOSS_NAMES
from nnviz.core.optim import OPTIMIZER_NAMES, SCHEDULE_NAMES
from nnviz.core.preprocess import FEATURES_2D, PREPROCESS_NAMES
from nnviz.core.spec import DTYPES
from nnviz.gui.window.control_widgets import GROUP_MARGINS, LayerRow, LogSpinBox, _add_row, _combo, _form
from nnviz.io.images.cache import PUBLISHED
from nnviz.io.sources import SOURCES

MAX_GUI_EXAMPLES = 1_000_000
MAX_GUI_BATCH = 100_000
MIN_PENALTY = 1e-6

LIVE_NOTE = "Learning rate, schedule, batch size, L1/L2 and dropout apply at once."
RESET_NOTE = "Data and network changes apply when you press Reset (Ctrl+R)."
#: the data list's entries for image sets carry this prefix before the set's name
IMAGE_SET = "images:"


class GroupBuilders:
    """The ``_build_*`` methods of :class:`~nnviz.gui.window.controls.ControlPanel`."""

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
