"""The window's actions, menus and toolbars, built once for a
:class:`~nnviz.gui.window.main_window.MainWindow` (whose slots they trigger).

Every action is window-wide (its shortcut works wherever the focus is) and appears in a
menu; the toolbar repeats the training ones. The speed steps live here too.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QSizePolicy, QSlider, QToolBar

from nnviz.gui.views.base import REGISTRY
from nnviz.gui.window.pending_banner import PendingBanner
from nnviz.io.images.cache import PUBLISHED

#: speed settings: steps per second, 0 = as fast as the machine goes
SPEEDS = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 0)
DEFAULT_SPEED_INDEX = SPEEDS.index(1000)


def speed_text(speed: int) -> str:
    if speed == 0:
        return "Full speed"
    return f"{speed:,} step/s" if speed == 1 else f"{speed:,} steps/s"


def action(win, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
    """A window-wide action with its shortcut in the tooltip."""
    act = QAction(text, win)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(f"{tip} ({act.shortcut().toString()})" if shortcut is not None else tip)
    act.setCheckable(checkable)
    act.triggered.connect(slot)
    win.addAction(act)
    return act


def make_actions(win) -> None:
    a = partial(action, win)
    K = QKeySequence.StandardKey
    f = win.files
    win.act_new = a("&New", f.new_file, K.New, "A new run on the spiral demo")
    win.act_open = a("&Open…", lambda: f.open_dialog(), K.Open, "Open a network file or a CSV data set")
    win.act_save = a("&Save", lambda: f.save(), K.Save, "Save the network, its data and history")
    win.act_save_as = a("Save &As…", lambda: f.save_as(), "Ctrl+Shift+S", "Save under a new name")
    win.act_import = a("&CSV table…", lambda: f.import_csv(), None, "Train on a CSV table")
    win.act_import_images = a("Image &file (.npz, CIFAR-10 .bin)…", lambda: f.import_images(), None,
                              "Train on images in an .npz (x, y) or CIFAR-10 binary batches")
    win.act_import_image_folder = a(
        "Image f&older (MNIST IDX files, CIFAR-10, a sub-folder per class)…",
        lambda: f.import_images(folder=True), None, "Train on a folder of images",
    )
    win.image_set_actions = {}
    for name, entry in PUBLISHED.items():
        win.image_set_actions[name] = a(
            entry.label, lambda _=False, n=name: f.import_images(n), None,
            f"Train on {entry.label} (downloaded once into the cache folder, after asking)",
        )
    win.act_onnx = a(
        "Export &ONNX model…",
        lambda: f.export_onnx(),
        None,
        "The trained model for onnxruntime, Netron and others",
    )
    win.act_hist_csv = a("Export loss &history (CSV)…", lambda: f.export_history_csv())
    win.act_data_csv = a("Export &data (CSV)…", lambda: f.export_data_csv())
    win.act_quit = a("&Quit", win.close, K.Quit)
    win.act_undo = win.undo_stack.createUndoAction(win, "&Undo")
    win.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
    win.act_redo = win.undo_stack.createRedoAction(win, "&Redo")
    win.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    win.addAction(win.act_undo)
    win.addAction(win.act_redo)
    win.act_play = a("&Play", win.toggle_play, "Space", "Start or pause training")
    win.act_step = a("&Step", win.step_once, "Ctrl+Right", "Train one minibatch")
    win.act_reset = a(
        "&Reset", win.reset, "Ctrl+R", "Start again with the settings shown, from the seed's first weights"
    )
    win.act_gradcheck = a(
        "&Gradient check…", win.gradient_check, None, "Compare backprop gradients with numerical ones"
    )
    win.act_dark = a("&Dark theme", win.set_dark_theme, None, "Switch light / dark", checkable=True)
    win.act_reset_layout = a("Reset &layout", win.reset_layout)
    win.act_clear_runs = a("Clear earlier runs from the loss plot", lambda: win.loss_plot.clear_history())
    win.act_lessons = a("&Lessons…", win.open_lessons, "Ctrl+L",
                        "The notes' claims as experiments: runs side by side, the outcome checked")
    win.act_guide = a("Quick &guide", win.show_guide, "F1")
    win.act_about = a("&About nnviz", win.show_about)


def make_menus(win) -> None:
    mb = win.menuBar()
    m = mb.addMenu("&File")
    for act in (win.act_new, win.act_open):
        m.addAction(act)
    win.recent_menu = m.addMenu("Open &Recent")
    win.recent_menu.aboutToShow.connect(lambda: win.files.fill_recent_menu(win.recent_menu))
    m.addSeparator()
    m.addAction(win.act_save)
    m.addAction(win.act_save_as)
    m.addSeparator()
    win.import_menu = m.addMenu("&Import")
    win.import_menu.addAction(win.act_import)
    win.import_menu.addAction(win.act_import_images)
    win.import_menu.addAction(win.act_import_image_folder)
    win.import_menu.addSeparator()
    for act in win.image_set_actions.values():
        win.import_menu.addAction(act)
    export = m.addMenu("&Export")
    export.addAction(win.act_onnx)
    export.addAction(win.act_hist_csv)
    export.addAction(win.act_data_csv)
    export.addSeparator()
    win.image_actions = {}
    for entry in REGISTRY:
        act = QAction(f"{entry.image_title} image (PNG/SVG)…", win)
        act.triggered.connect(lambda _=False, k=entry.name: win.files.export_image(k))
        export.addAction(act)
        win.image_actions[entry.name] = act
    m.addSeparator()
    m.addAction(win.act_quit)
    e = mb.addMenu("&Edit")
    e.addAction(win.act_undo)
    e.addAction(win.act_redo)
    e.addSeparator()
    e.addAction(win.act_clear_runs)
    v = mb.addMenu("&View")
    for dock in (win.controls_dock, *win.docks.values()):
        v.addAction(dock.toggleViewAction())
    v.addSeparator()
    v.addAction(win.act_dark)
    v.addAction(win.act_reset_layout)
    t = mb.addMenu("&Train")
    for act in (win.act_play, win.act_step, win.act_reset):
        t.addAction(act)
    win.speed_menu = t.addMenu("Sp&eed")
    win.speed_actions = []
    for i, s in enumerate(SPEEDS):
        act = QAction(speed_text(s), win)
        act.setCheckable(True)
        act.triggered.connect(lambda _=False, i=i: win.set_speed_index(i))
        win.speed_menu.addAction(act)
        win.speed_actions.append(act)
    t.addSeparator()
    t.addAction(win.act_gradcheck)
    lessons = mb.addMenu("&Lessons")
    lessons.addAction(win.act_lessons)
    h = mb.addMenu("&Help")
    h.addAction(win.act_guide)
    h.addAction(win.act_about)


def make_toolbar(win) -> None:
    tb = QToolBar("Training", win)
    tb.setObjectName("trainingToolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    tb.setIconSize(QSize(16, 16))
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    tb.addAction(win.act_reset)
    tb.addAction(win.act_play)
    tb.addAction(win.act_step)
    tb.addSeparator()
    tb.addWidget(QLabel(" Speed "))
    win.speed_slider = QSlider(Qt.Orientation.Horizontal)
    win.speed_slider.setRange(0, len(SPEEDS) - 1)
    win.speed_slider.setFixedWidth(160)
    win.speed_slider.setToolTip("Steps per second; the right end trains as fast as the machine can")
    win.speed_slider.valueChanged.connect(win.set_speed_index)
    tb.addWidget(win.speed_slider)
    win.speed_label = QLabel()
    win.speed_label.setMinimumWidth(100)
    tb.addWidget(win.speed_label)
    win.toolbar = tb
    # below the toolbar, across the window: the settings shown that are not running yet
    win.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
    win.pending_bar = QToolBar("Settings not applied yet", win)
    win.pending_bar.setObjectName("pendingToolbar")
    win.pending_bar.setMovable(False)
    win.pending_bar.toggleViewAction().setVisible(False)
    win.banner = PendingBanner()
    win.banner.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    win.banner.applyRequested.connect(win.reset)
    win.banner.revertRequested.connect(win.revert_settings)
    win.pending_bar.addWidget(win.banner)
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, win.pending_bar)
    win.pending_bar.hide()
    for act in (win.act_play, win.act_reset, win.act_step):
        w = tb.widgetForAction(act)
        if w is not None:
            w.setMinimumWidth(64)
