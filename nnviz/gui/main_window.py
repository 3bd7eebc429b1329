"""The main window: the four views in docks, the controls, menus, toolbar and status bar,
fed by the training worker.

The window never trains and never waits on the worker; how its emissions become
redraws is in :mod:`nnviz.gui.feed`, the File menu in :mod:`nnviz.gui.file_actions`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QSlider,
    QToolBar,
    QWidget,
)

from nnviz.app.run_settings import (
    RunSettings,
    SettingsError,
    build_session,
    run_label,
    settings_from_session,
)
from nnviz.app.runinfo import Replay, RunError, RunInfo
from nnviz.blas import limit_blas_threads
from nnviz.core.data import Dataset
from nnviz.core.session import Session, demo_session
from nnviz.gui import dialogs
from nnviz.gui.controls import ControlPanel
from nnviz.gui.feed import DIVERGED_TEXT, TrainingFeed
from nnviz.gui.file_actions import FileActions
from nnviz.gui.frames import frame_budget
from nnviz.gui.settings import Preferences
from nnviz.gui.status import StatusPanel
from nnviz.gui.theme import apply_theme
from nnviz.gui.views.base import BOTTOM, CENTRAL, LEFT, REGISTRY, RIGHT
from nnviz.gui.worker import WorkerHandle

__all__ = ["DIVERGED_TEXT", "SPEEDS", "MainWindow", "RunError"]

#: where a registry view's dock goes
_AREAS = {LEFT: Qt.DockWidgetArea.LeftDockWidgetArea, RIGHT: Qt.DockWidgetArea.RightDockWidgetArea,
          BOTTOM: Qt.DockWidgetArea.BottomDockWidgetArea}

#: speed settings: steps per second, 0 = as fast as the machine goes
SPEEDS = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 0)
DEFAULT_SPEED_INDEX = SPEEDS.index(1000)
#: the largest data set points may be added to or removed from by clicks: every edit sends
#: the edited set from the trainer to the window (a click is no way to edit a million rows)
MAX_EDIT_POINTS = 100_000


def speed_text(speed: int) -> str:
    if speed == 0:
        return "Full speed"
    return f"{speed:,} step/s" if speed == 1 else f"{speed:,} steps/s"


class MainWindow(TrainingFeed, FileActions, QMainWindow):
    """nnviz's window. ``session`` defaults to the spiral demo."""

    runStarted = Signal(int)
    frameDrawn = Signal()

    def __init__(self, session: Session | None = None, prefs: Preferences | None = None,
                 restore_layout: bool = True):
        super().__init__()
        limit_blas_threads(1)  # small matrices, two busy threads: see nnviz.blas
        self.setObjectName("nnvizMainWindow")
        self.prefs = prefs if prefs is not None else Preferences()
        self.undo_stack = QUndoStack(self)
        self.path: Path | None = None
        self.doc_name = "Spiral demo"
        self.custom_data: Dataset | None = None
        self.running = RunSettings()
        self.generation = 0
        self.run_number = 0
        self.info: RunInfo | None = None
        self.playing = False
        self.diverged_at: int | None = None
        self._init_feed()
        self._notice = None
        self._closing_ok = False
        self._dark = self.prefs.dark_theme()

        self._make_views()
        self._make_docks()
        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self.status = StatusPanel(self.statusBar())
        self.setAcceptDrops(True)
        self._fit_to_screen()
        self._default_state = None  # taken once the window is shown and laid out
        self._layout_restored = restore_layout and self._restore_layout()

        session = session if session is not None else demo_session()
        rs, custom = settings_from_session(session)
        self.custom_data = custom
        self.running = rs
        self.controls.set_settings(rs, custom.name if custom is not None else None,
                                   custom.n_features == 2 if custom is not None else True)
        self.run_number = 1
        label = run_label(self.run_number, session)
        self.generation = 1
        self._show_run(session, label)
        self._start_worker(session, label)
        self.set_speed_index(self.prefs.speed_index(DEFAULT_SPEED_INDEX))
        self.set_dark_theme(self._dark)
        self._update_title()
        self._timer.start()

    # --- construction -------------------------------------------------------------------
    def _start_worker(self, session: Session, label: str) -> None:
        self.handle = WorkerHandle(session, self.generation, label)
        self._connect_worker()
        self.handle.start()

    def _make_views(self) -> None:
        """Every view of the registry, each also the window attribute it names."""
        self.views = {}
        for entry in REGISTRY:
            view = entry.make(self)
            self.views[entry.name] = view
            setattr(self, entry.window_attr, view)
        self.snapshot_views = tuple(e.name for e in REGISTRY if not e.rows)
        self.rows_views = tuple(e.name for e in REGISTRY if e.rows)
        self._restore_loss_view()
        self.topology.neuronSelected.connect(self._on_neuron_selected)
        self.decision.pointAdded.connect(self._on_point_added)
        self.decision.pointRemoved.connect(self._on_point_removed)
        self.controls = ControlPanel(self.undo_stack, self)
        self.controls.settingsEdited.connect(self._on_settings_edited)
        self.controls.resetRequested.connect(self.reset)
        self.controls.importRequested.connect(self.import_csv)

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _make_docks(self) -> None:
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.controls_dock = self._dock("controlsDock", "Controls", self.controls,
                                        Qt.DockWidgetArea.LeftDockWidgetArea)
        self.docks = {}
        for entry in REGISTRY:
            view = self.views[entry.name]
            if entry.area == CENTRAL:
                self.setCentralWidget(view)
                continue
            dock = self._dock(entry.dock_name, entry.title, view, _AREAS[entry.area])
            dock.visibilityChanged.connect(self._on_dock_visibility)
            self.docks[entry.name] = dock
            setattr(self, f"{entry.name}_dock", dock)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(f"{tip} ({act.shortcut().toString()})" if shortcut is not None else tip)
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _make_actions(self) -> None:
        a = self._action
        K = QKeySequence.StandardKey
        self.act_new = a("&New", self.new_file, K.New, "A new run on the spiral demo")
        self.act_open = a("&Open…", lambda: self.open_dialog(), K.Open,
                          "Open a network file or a CSV data set")
        self.act_save = a("&Save", lambda: self.save(), K.Save, "Save the network, its data and history")
        self.act_save_as = a("Save &As…", lambda: self.save_as(), "Ctrl+Shift+S", "Save under a new name")
        self.act_import = a("&Import CSV…", lambda: self.import_csv(), None, "Train on a CSV table")
        self.act_onnx = a("Export &ONNX model…", lambda: self.export_onnx(), None,
                          "The trained model for onnxruntime, Netron and others")
        self.act_hist_csv = a("Export loss &history (CSV)…", lambda: self.export_history_csv())
        self.act_data_csv = a("Export &data (CSV)…", lambda: self.export_data_csv())
        self.act_quit = a("&Quit", self.close, K.Quit)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        self.act_play = a("&Play", self.toggle_play, "Space", "Start or pause training")
        self.act_step = a("&Step", self.step_once, "Ctrl+Right", "Train one minibatch")
        self.act_reset = a("&Reset", self.reset, "Ctrl+R",
                           "Start again with the settings shown, from the seed's first weights")
        self.act_gradcheck = a("&Gradient check…", self.gradient_check, None,
                               "Compare backprop gradients with numerical ones")
        self.act_dark = a("&Dark theme", self.set_dark_theme, None, "Switch light / dark",
                          checkable=True)
        self.act_reset_layout = a("Reset &layout", self.reset_layout)
        self.act_clear_runs = a("Clear earlier runs from the loss plot",
                                lambda: self.loss_plot.clear_history())
        self.act_guide = a("Quick &guide", self.show_guide, "F1")
        self.act_about = a("&About nnviz", self.show_about)

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        for act in (self.act_new, self.act_open):
            m.addAction(act)
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        m.addSeparator()
        m.addAction(self.act_save)
        m.addAction(self.act_save_as)
        m.addSeparator()
        m.addAction(self.act_import)
        export = m.addMenu("&Export")
        export.addAction(self.act_onnx)
        export.addAction(self.act_hist_csv)
        export.addAction(self.act_data_csv)
        export.addSeparator()
        self.image_actions = {}
        for entry in REGISTRY:
            act = QAction(f"{entry.image_title} image (PNG/SVG)…", self)
            act.triggered.connect(lambda _=False, k=entry.name: self.export_image(k))
            export.addAction(act)
            self.image_actions[entry.name] = act
        m.addSeparator()
        m.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        e.addSeparator()
        e.addAction(self.act_clear_runs)
        v = mb.addMenu("&View")
        for dock in (self.controls_dock, *self.docks.values()):
            v.addAction(dock.toggleViewAction())
        v.addSeparator()
        v.addAction(self.act_dark)
        v.addAction(self.act_reset_layout)
        t = mb.addMenu("&Train")
        for act in (self.act_play, self.act_step, self.act_reset):
            t.addAction(act)
        self.speed_menu = t.addMenu("Sp&eed")
        self.speed_actions = []
        for i, s in enumerate(SPEEDS):
            act = QAction(speed_text(s), self)
            act.setCheckable(True)
            act.triggered.connect(lambda _=False, i=i: self.set_speed_index(i))
            self.speed_menu.addAction(act)
            self.speed_actions.append(act)
        t.addSeparator()
        t.addAction(self.act_gradcheck)
        h = mb.addMenu("&Help")
        h.addAction(self.act_guide)
        h.addAction(self.act_about)

    def _make_toolbar(self) -> None:
        tb = QToolBar("Training", self)
        tb.setObjectName("trainingToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.setIconSize(QSize(16, 16))
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        tb.addAction(self.act_reset)
        tb.addAction(self.act_play)
        tb.addAction(self.act_step)
        tb.addSeparator()
        tb.addWidget(QLabel(" Speed "))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setFixedWidth(160)
        self.speed_slider.setToolTip("Steps per second; the right end trains as fast as the machine can")
        self.speed_slider.valueChanged.connect(self.set_speed_index)
        tb.addWidget(self.speed_slider)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(100)
        tb.addWidget(self.speed_label)
        self.toolbar = tb
        for act in (self.act_play, self.act_reset, self.act_step):
            w = tb.widgetForAction(act)
            if w is not None:
                w.setMinimumWidth(64)

    @property
    def worker(self):
        return self.handle.worker

    # --- runs ---------------------------------------------------------------------------
    def _show_run(self, session: Session, label: str) -> None:
        """Point every view at the window's first run (before its session goes to the worker)."""
        info = RunInfo.from_session(session, label)
        replay = Replay.from_session(session)
        self._set_views(info)
        self._commit_run(info, replay, label, session.trainer.step_count, session.trainer.epoch)

    def _set_views(self, info: RunInfo) -> None:
        """The views that draw snapshots take the new run; :class:`RunError` if one cannot,
        with every view back on the run it showed (nothing is left half built)."""
        old = self.info
        try:
            for name in self.snapshot_views:
                self.views[name].set_run(info)
        except Exception as exc:  # a view's fault with this data must end in a message
            self._restore_views(old)
            raise RunError(f"the window cannot draw this run ({type(exc).__name__}: {exc})") from exc

    def _restore_views(self, info: RunInfo | None) -> None:
        """After a failed start: the views show the current run again, at its latest state."""
        if info is None:
            return
        for name in self.snapshot_views:
            try:
                self.views[name].set_run(info)
            except Exception:  # it drew this run before; the message about the new one stands
                continue
        self.redraw_latest()

    def _commit_run(self, info: RunInfo, replay: Replay, label: str, step: int, epoch: int) -> None:
        """The new run becomes the window's: feed, loss plot, buttons, status (none of it fails
        on data the views took)."""
        self.info = info
        self.diverged_at = None
        self._reset_feed(step, epoch)
        for name in self.rows_views:
            view = self.views[name]
            view.new_run(label)
            replay.apply(view)
        self.act_step.setEnabled(True)
        self.controls.set_pending(False)
        self._refresh_status(force=True)

    def start_session(self, session: Session, settings: RunSettings | None = None,
                      custom: Dataset | None = None, keep_playing: bool = False) -> None:
        """Make ``session`` the run being trained (the worker takes it over).

        All or nothing: everything about the new run is built and checked, and the views take
        it, before the current run is touched. On failure :class:`RunError` says why, and the
        current run, its views, controls and training go on as they were."""
        try:
            if settings is None:
                settings, custom = settings_from_session(session)
            label = run_label(self.run_number + 1, session)
            info = RunInfo.from_session(session, label)
            replay = Replay.from_session(session)
        except (ValueError, ArithmeticError, MemoryError) as exc:
            raise RunError(f"the window cannot show this run ({exc})") from exc
        fresh = self._fresh_handle(session, label)
        try:
            self._set_views(info)
        except RunError:
            if fresh is not None:
                fresh.shutdown()  # never started: closes its pipe
            raise
        # from here on nothing fails: the new run becomes the window's
        was_playing = self.playing
        self._set_playing(False)
        self.worker.pause()
        self.generation += 1
        self.run_number += 1
        self.custom_data = custom
        self.running = settings
        self.controls.set_settings(
            settings, custom.name if custom is not None else None,
            custom.n_features == 2 if custom is not None else True,
        )
        self._commit_run(info, replay, label, session.trainer.step_count, session.trainer.epoch)
        if fresh is None:
            self.worker.replace_session(session, self.generation, label)
        else:
            self.handle.shutdown()
            self.handle = fresh
            self._connect_worker()
            fresh.start()
            self.set_speed_index(self.speed_slider.value())
        self.runStarted.emit(self.generation)
        if keep_playing and was_playing:
            self.play()

    def _fresh_handle(self, session: Session, label: str) -> WorkerHandle | None:
        """A new worker for ``session`` when the current one's trainer has ended (its
        process died), made before anything changes; None while the current one runs."""
        if self.handle.thread.isRunning():
            return None
        try:
            return WorkerHandle(session, self.generation + 1, label)
        except OSError as exc:  # no pipe or process for it (too many open files, say)
            raise RunError(f"no training process could be started for it ({exc})") from exc

    def reset(self) -> None:
        """A new network with the settings the controls show (Reset, Ctrl+R)."""
        settings = self.controls.settings()
        try:
            session = build_session(settings, self.custom_data)
            self.start_session(session, settings, self.custom_data, keep_playing=True)
        except (SettingsError, RunError) as exc:
            dialogs.show_error(self, "Cannot start this run", str(exc))
            return
        self.setWindowModified(True)
        seed = self.running.train.seed
        self.status.message(f"Reset: a new run from the first weights of seed {seed}.", 4000)

    def _on_settings_edited(self, settings: RunSettings) -> None:
        live = settings.live_changes(self.running)
        if live:
            try:
                self._apply_live(live)
            except ValueError as exc:
                dialogs.show_error(self, "Cannot use this setting", str(exc))
                self.controls.set_settings(replace(settings, train=self.running.train))
                return
        pending = settings.needs_reset(self.running)
        if pending and self.last_step == 0 and not self.playing:
            self.reset()  # nothing trained yet: nothing to lose by applying at once
            return
        self.controls.set_pending(pending)

    def _apply_live(self, live: dict) -> None:
        train = replace(self.running.train, **live)
        if "lr" in live:
            self.worker.set_learning_rate(float(live.pop("lr")))
        if live:
            self.worker.update_config(**live)
        self.running = replace(self.running, train=train)
        self.setWindowModified(True)
        if self.diverged_at is not None:
            self.status.set_state("Paused")
            self.diverged_at = None

    # --- training commands ----------------------------------------------------------------
    def _set_playing(self, playing: bool) -> None:
        self.playing = playing
        self.act_play.setText("&Pause" if playing else "&Play")
        self.act_play.setToolTip(("Pause training" if playing else "Start training") + " (Space)")
        if self.diverged_at is None:
            self.status.set_state("Training" if playing else "Paused")

    def play(self) -> None:
        self.diverged_at = None
        self._set_playing(True)
        self.worker.play()
        self.setWindowModified(True)

    def pause(self) -> None:
        self._set_playing(False)
        self.worker.pause()

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def step_once(self) -> None:
        if self.playing:
            self.pause()
        self.worker.step_once(1)
        self.setWindowModified(True)

    def set_speed_index(self, index: int) -> None:
        index = min(max(int(index), 0), len(SPEEDS) - 1)
        speed = SPEEDS[index]
        self.worker.set_speed(speed)
        self.planner.budget = frame_budget(speed, self.worker.mode)
        if self.speed_slider.value() != index:
            self.speed_slider.blockSignals(True)
            self.speed_slider.setValue(index)
            self.speed_slider.blockSignals(False)
        self.speed_label.setText(speed_text(speed))
        for i, act in enumerate(self.speed_actions):
            act.setChecked(i == index)
        self.prefs.set_speed_index(index)

    @property
    def speed_index(self) -> int:
        return self.speed_slider.value()

    def _editable(self) -> bool:
        """Clicks edit data sets of at most :data:`MAX_EDIT_POINTS` examples: each edit
        sends the whole edited set back to the window."""
        info = self.info
        n = 0 if info is None else info.n_train + (0 if info.test_y is None else len(info.test_y))
        if n <= MAX_EDIT_POINTS:
            return True
        self.status.message(f"Points can be added or removed by clicking only on data sets of up to "
                            f"{MAX_EDIT_POINTS:,} examples; this one has {n:,}.", 6000)
        return False

    def _on_point_added(self, x: float, y: float, cls: int) -> None:
        if self._editable():
            self.worker.add_point(x, y, cls)

    def _on_point_removed(self, index: int) -> None:
        if self._editable():
            self.worker.remove_point(index)

    def _on_neuron_selected(self, layer: int, unit: int) -> None:
        self.decision.show_neuron(layer, unit)
        if not self.decision_dock.isVisible():
            self.decision_dock.show()
        self.decision_dock.raise_()

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible:
            self.redraw_latest()  # a view that was hidden shows the latest state

    # --- view, theme, help --------------------------------------------------------------
    def set_dark_theme(self, dark: bool) -> None:
        dark = bool(dark)
        self._dark = dark
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, dark)
        for view in self.views.values():
            view.set_theme(dark)
        self.controls.set_theme(dark)
        self.act_dark.setChecked(dark)
        self.prefs.set_dark_theme(dark)

    def reset_layout(self) -> None:
        if self._default_state is None:
            self._first_layout()
        self.restoreState(self._default_state)
        for dock in (self.controls_dock, *self.docks.values()):
            dock.show()

    def _fit_to_screen(self) -> None:
        """A first start fills most of the screen (the views need room)."""
        screen = QApplication.primaryScreen()
        if screen is None:
            self.resize(1500, 950)
            return
        avail = screen.availableGeometry()
        self.resize(max(int(avail.width() * 0.96), 1000), max(int(avail.height() * 0.94), 700))

    def _size_docks(self) -> None:
        """Controls at their natural width, the right column about two fifths of the window
        (the plots need it more than the network drawing), the loss plot a third high."""
        w, h = self.width(), self.height()
        H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.resizeDocks([self.controls_dock], [self.controls.minimumWidth()], H)
        self.resizeDocks([self.decision_dock], [int(w * 0.42)], H)
        self.resizeDocks([self.decision_dock, self.histograms_dock], [h // 2, h // 2], V)
        self.resizeDocks([self.loss_dock], [int(h * 0.32)], V)

    def _restore_loss_view(self) -> None:
        """The loss plot opens as it was left (through its own controls, so they agree)."""
        view = self.prefs.loss_view()
        lp = self.loss_plot
        lp.smoothing_slider.setValue(round(float(view["smoothing"]) * 100))
        lp.set_smoothing(float(view["smoothing"]))
        lp.log_check.setChecked(bool(view["log_y"]))
        lp.x_combo.setCurrentText(str(view["x_axis"]))
        lp.acc_check.setChecked(bool(view["accuracy"]))

    def _restore_layout(self) -> bool:
        geometry, state = self.prefs.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        return state is not None and bool(self.restoreState(state))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._default_state is None:
            # dock sizes only take once the window has its size
            QTimer.singleShot(0, self._first_layout)

    def _first_layout(self) -> None:
        if self._default_state is not None:
            return
        saved = self.saveState() if self._layout_restored else None
        self._size_docks()
        self._default_state = self.saveState()
        if saved is not None:
            self.restoreState(saved)

    def show_guide(self) -> None:
        from nnviz.gui.help import show_guide

        show_guide(self)

    def show_about(self) -> None:
        from nnviz.gui.help import show_about

        show_about(self)

    def gradient_check(self) -> None:
        from nnviz.gui.gradcheck_dialog import GradCheckDialog

        try:
            session = self.session_copy()
        except RuntimeError as exc:
            dialogs.show_error(self, "Gradient check", str(exc))
            return
        dlg = GradCheckDialog(session, self)
        dlg.show()
        dlg.start()
        self.gradcheck_dialog = dlg

    # --- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            QTimer.singleShot(0, lambda: self.open_any(path))

    # --- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing_ok and self.isWindowModified():
            answer = dialogs.ask_unsaved(self, self.doc_name)
            if answer is dialogs.Unsaved.CANCEL or (answer is dialogs.Unsaved.SAVE and not self.save()):
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the timer and the worker thread (idempotent); keeps the layout."""
        if getattr(self, "_shut", False):
            return
        self._shut = True
        self._timer.stop()
        self._kick.stop()
        if self._notice is not None:
            self._notice.close()
        dlg = getattr(self, "gradcheck_dialog", None)
        if dlg is not None:
            dlg.stop()
        self.prefs.set_window_state(self.saveGeometry(), self.saveState())
        lp = self.loss_plot
        self.prefs.set_loss_view(lp.smoothing_slider.value() / 100.0, lp.log_check.isChecked(),
                                 lp.x_combo.currentText(), lp.acc_check.isChecked())
        self.prefs.sync()
        self.handle.shutdown()

    def discard_changes(self) -> None:
        """Close without asking (the self-test, the bench)."""
        self._closing_ok = True
