"""The main window: the views of the registry in docks, the controls, menus, toolbar and
status bar, fed by the training worker.

The window is composed, not inherited: the run document (:mod:`nnviz.app.document`) says
what is open, the frame pump (:mod:`nnviz.gui.window.frame_pump`) turns the worker's
emissions into redraws, the file controller (:mod:`nnviz.gui.window.file_controller`)
does the File menu, and a dialogs object asks the user. The window never trains and
never waits on the worker.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
)

from nnviz.app.document import RunDocument
from nnviz.app.pending import pending_changes
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
from nnviz.core.images import image_shape
from nnviz.core.preprocess import InputPipeline
from nnviz.core.session import Session, demo_session
from nnviz.gui.views.base import REGISTRY
from nnviz.gui.window import dialogs
from nnviz.gui.window.actions import (
    DEFAULT_SPEED_INDEX,
    SPEEDS,
    make_actions,
    make_menus,
    make_toolbar,
    speed_text,
)
from nnviz.gui.window.controls import ControlPanel
from nnviz.gui.window.dialogs import Dialogs
from nnviz.gui.window.docks import fit_to_screen, make_docks, show_image_views, size_docks
from nnviz.gui.window.file_controller import FileController
from nnviz.gui.window.frame_pump import FramePump
from nnviz.gui.window.frames import frame_budget
from nnviz.gui.window.preferences import Preferences
from nnviz.gui.window.status import StatusPanel
from nnviz.gui.window.theme import apply_theme
from nnviz.gui.worker import WorkerHandle

__all__ = ["DIVERGED_TEXT", "SPEEDS", "MainWindow", "RunError"]

#: the largest data set points may be added to or removed from by clicks: every edit sends
#: the edited set from the trainer to the window (a click is no way to edit a million rows)
MAX_EDIT_POINTS = 100_000
DIVERGED_TEXT = (
    "Training diverged at step {step:,}: the loss became infinite. "
    "Lower the learning rate and press Reset."
)


class MainWindow(QMainWindow):
    """nnviz's window. ``session`` defaults to the spiral demo; ``dialogs`` asks the user
    (a :class:`~nnviz.gui.window.dialogs.RecordingDialogs` where nobody can click)."""

    runStarted = Signal(int)
    frameDrawn = Signal()

    def __init__(self, session: Session | None = None, prefs: Preferences | None = None,
                 restore_layout: bool = True, dialogs: Dialogs | None = None):
        super().__init__()
        limit_blas_threads(1)  # small matrices, two busy threads: see nnviz.blas
        self.setObjectName("nnvizMainWindow")
        self.prefs = prefs if prefs is not None else Preferences()
        self.dialogs = dialogs if dialogs is not None else Dialogs()
        self.document = RunDocument()
        self.files = FileController(self, self.document, self.dialogs, self.prefs)
        self.undo_stack = QUndoStack(self)
        self.info: RunInfo | None = None
        self._pipeline: InputPipeline | None = None  # the run's, for the unit page
        self.playing = False
        self.diverged_at: int | None = None
        self._notice = None
        self._closing_ok = False
        self._dark = self.prefs.dark_theme()
        self.lessons_window = None
        self._image_run = False

        self._make_views()
        make_docks(self)
        make_actions(self)
        make_menus(self)
        self.controls.import_button.setMenu(self.import_menu)  # the File > Import entries
        make_toolbar(self)
        self.status = StatusPanel(self.statusBar())
        self.pump = FramePump(self, self.views, self.docks, self.snapshot_views, self.rows_views,
                              self.status, self.dialogs)
        self.pump.frameDrawn.connect(self.frameDrawn)
        self.setAcceptDrops(True)
        fit_to_screen(self)
        self._default_state = None  # taken once the window is shown and laid out
        self._layout_restored = restore_layout and self._restore_layout()

        session = session if session is not None else demo_session()
        rs, custom = settings_from_session(session)
        doc = self.document
        doc.begin_run(rs, custom)
        self.controls.set_settings(rs, doc.custom_name, doc.is_2d, doc.custom_kind)
        label = run_label(doc.run_number, session)
        self._show_run(session, label)
        self._start_worker(session, label)
        self.set_speed_index(self.prefs.speed_index(DEFAULT_SPEED_INDEX))
        self.set_dark_theme(self._dark)
        self.show_document()
        self.pump.start()

    # --- construction -------------------------------------------------------------------
    def _start_worker(self, session: Session, label: str) -> None:
        self.handle = WorkerHandle(session, self.document.generation, label)
        self._connect_worker()
        self.handle.start()

    def _connect_worker(self) -> None:
        """The pump draws what the worker sends; the window follows its state."""
        w = self.handle.worker
        self.pump.attach(w)
        w.playingChanged.connect(self._on_playing_changed)
        w.diverged.connect(self._on_diverged)
        w.runChanged.connect(self._on_run_changed)
        w.failed.connect(self._on_worker_failed)

    def show_document(self) -> None:
        """The title and modified mark say what the document says."""
        self.setWindowTitle(self.document.title)
        self.setWindowModified(self.document.modified)

    def _changed(self) -> None:
        """The run moved on: there is something to save."""
        self.document.changed()
        self.setWindowModified(True)

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
        self.weights.unitSelected.connect(self._on_tile_selected)
        self.gallery.exampleSelected.connect(self._on_example_selected)
        self.decision.cellClicked.connect(self._on_confusion_cell)
        self.decision.pointAdded.connect(self._on_point_added)
        self.decision.pointRemoved.connect(self._on_point_removed)
        self.controls = ControlPanel(self.undo_stack, self)
        self.controls.settingsEdited.connect(self._on_settings_edited)
        self.controls.resetRequested.connect(self.reset)
        self.controls.importRequested.connect(lambda: self.files.import_csv())
        self.controls.noticeChanged.connect(lambda text: self.status.message(text, 8000))
        self.controls.imageSetRequested.connect(lambda name: self.files.import_images(name))

    @property
    def worker(self):
        return self.handle.worker

    # --- runs ---------------------------------------------------------------------------
    def _show_run(self, session: Session, label: str) -> None:
        """Point every view at the window's first run (before its session goes to the worker)."""
        info = RunInfo.from_session(session, label)
        replay = Replay.from_session(session)
        self._set_views(info, session.pipeline)
        self._commit_run(info, replay, label, session.trainer.step_count, session.trainer.epoch)

    def _set_views(self, info: RunInfo, pipeline: InputPipeline | None = None) -> None:
        """The views that draw snapshots take the new run; :class:`RunError` if one cannot,
        with every view back on the run it showed (nothing is left half built). The unit
        page also takes the run's fitted input pipeline (how raw pixels become inputs)."""
        old, old_pipeline = self.info, self._pipeline
        try:
            self._pipeline = pipeline
            self.unit.set_input_pipeline(pipeline)
            for name in self.snapshot_views:
                self.views[name].set_run(info)
        except Exception as exc:  # a view's fault with this data must end in a message
            self._pipeline = old_pipeline
            self.unit.set_input_pipeline(old_pipeline)
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
        self.pump.redraw_latest()

    def _commit_run(self, info: RunInfo, replay: Replay, label: str, step: int, epoch: int) -> None:
        """The new run becomes the window's: feed, loss plot, buttons, status (none of it fails
        on data the views took)."""
        self.info = info
        self.diverged_at = None
        self.pump.new_run(self.document.generation, step, epoch)
        for name in self.rows_views:
            view = self.views[name]
            view.new_run(label, info)  # the view decides whether it compares with earlier runs
            replay.apply(view)
        self.act_step.setEnabled(True)
        images = image_shape(info.input_names) is not None and info.task == "classification"
        if images != self._image_run:  # the image views come forward for image data, and go back
            self._image_run = images
            show_image_views(self, images)
        self.show_pending()
        self.pump.refresh_status(force=True)

    def start_session(self, session: Session, settings: RunSettings | None = None,
                      custom: Dataset | None = None, keep_playing: bool = False) -> None:
        """Make ``session`` the run being trained (the worker takes it over).

        All or nothing: everything about the new run is built and checked, and the views take
        it, before the current run is touched. On failure :class:`RunError` says why, and the
        current run, its views, controls and training go on as they were."""
        try:
            if settings is None:
                settings, custom = settings_from_session(session)
            label = run_label(self.document.run_number + 1, session)
            info = RunInfo.from_session(session, label)
            replay = Replay.from_session(session)
        except (ValueError, ArithmeticError, MemoryError) as exc:
            raise RunError(f"the window cannot show this run ({exc})") from exc
        fresh = self._fresh_handle(session, label)
        try:
            self._set_views(info, session.pipeline)
        except RunError:
            if fresh is not None:
                fresh.shutdown()  # never started: closes its pipe
            raise
        # from here on nothing fails: the new run becomes the window's
        was_playing = self.playing
        self._set_playing(False)
        self.worker.pause()
        doc = self.document
        doc.begin_run(settings, custom)
        self.controls.set_settings(settings, doc.custom_name, doc.is_2d, doc.custom_kind)
        self._commit_run(info, replay, label, session.trainer.step_count, session.trainer.epoch)
        if fresh is None:
            self.worker.replace_session(session, doc.generation, label)
        else:
            self.handle.shutdown()
            self.handle = fresh
            self._connect_worker()
            fresh.start()
            self.set_speed_index(self.speed_slider.value())
        self.runStarted.emit(doc.generation)
        if keep_playing and was_playing:
            self.play()

    def _fresh_handle(self, session: Session, label: str) -> WorkerHandle | None:
        """A new worker for ``session`` when the current one's trainer has ended (its
        process died), made before anything changes; None while the current one runs."""
        if self.handle.thread.isRunning():
            return None
        try:
            return WorkerHandle(session, self.document.generation + 1, label)
        except OSError as exc:  # no pipe or process for it (too many open files, say)
            raise RunError(f"no training process could be started for it ({exc})") from exc

    def reset(self) -> None:
        """A new network with the settings the controls show (Reset, Ctrl+R)."""
        settings = self.controls.settings()
        custom = self.document.custom_data
        try:
            session = build_session(settings, custom)
            self.start_session(session, settings, custom, keep_playing=True)
        except (SettingsError, RunError) as exc:
            self.dialogs.show_error(self, "Cannot start this run", str(exc))
            return
        self._changed()
        seed = self.document.settings.train.seed
        self.status.message(f"Reset: a new run from the first weights of seed {seed}.", 4000)

    def _on_settings_edited(self, settings: RunSettings) -> None:
        running = self.document.settings
        live = settings.live_changes(running)
        if live:
            try:
                self._apply_live(live)
            except ValueError as exc:
                self.dialogs.show_error(self, "Cannot use this setting", str(exc))
                self.controls.set_settings(replace(settings, train=running.train))
                return
        pending = settings.needs_reset(self.document.settings)
        if pending and self.pump.last_step == 0 and not self.playing:
            self.reset()  # nothing trained yet: nothing to lose by applying at once
            self.status.message("Nothing was trained yet, so the new settings apply at once "
                                "(after training starts, they wait for Apply).", 6000)
            return
        self.show_pending()

    def show_pending(self) -> None:
        """The banner and the controls say which settings shown are not running yet."""
        shown, running = self.controls.settings(), self.document.settings
        changes = pending_changes(shown, running)
        self.banner.show_changes(changes)
        self.pending_bar.setVisible(bool(changes))
        self.controls.set_pending(bool(changes))
        self.controls.set_pending_fields(shown.pending_fields(running))

    def revert_settings(self) -> None:
        """The controls show the running network's settings again (the banner's Revert)."""
        doc = self.document
        self.controls.set_settings(doc.settings, doc.custom_name, doc.is_2d, doc.custom_kind)
        self.show_pending()
        self.status.message("The controls show the running network's settings again.", 4000)

    def _apply_live(self, live: dict) -> None:
        rest = dict(live)
        if "lr" in rest:
            lr = float(rest.pop("lr"))
            self.worker.set_learning_rate(lr)
            for name in self.rows_views:
                self.views[name].set_current_lr(lr)  # the run's label shows the lr in use
        if rest:
            self.worker.update_config(**rest)
        self.document.train_settings_applied(live)
        self.setWindowModified(True)
        if self.diverged_at is not None:
            self.status.set_state("Paused")
            self.diverged_at = None

    # --- training commands ----------------------------------------------------------------
    def _set_playing(self, playing: bool) -> None:
        self.playing = playing
        self.pump.playing = playing
        self.act_play.setText("&Pause" if playing else "&Play")
        self.act_play.setToolTip(("Pause training" if playing else "Start training") + " (Space)")
        if self.diverged_at is None:
            self.status.set_state("Training" if playing else "Paused")

    def play(self) -> None:
        self.diverged_at = None
        self._set_playing(True)
        self.worker.play()
        self._changed()

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
        self._changed()

    def set_speed_index(self, index: int) -> None:
        index = min(max(int(index), 0), len(SPEEDS) - 1)
        speed = SPEEDS[index]
        self.worker.set_speed(speed)
        self.pump.planner.budget = frame_budget(speed, self.worker.mode)
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
        """A neuron clicked in the Network view (or a weight tile): the Output panel shows
        its map (2-D data); for image data the Unit page shows what it looks for and the
        examples that excite it most, and a first-layer unit's tile is outlined."""
        self.decision.show_neuron(layer, unit)
        dock = self.decision_dock
        if self._image_run:
            self.unit.show_unit(layer, unit)
            self.weights.select_unit(unit if layer == 0 or (layer == -1 and not self.info.spec.hidden)
                                     else None)
            dock = self.unit_dock
        if not dock.isVisible():
            dock.show()
        dock.raise_()

    def _on_tile_selected(self, unit: int) -> None:
        """A weight tile clicked: its unit (first hidden layer, or an output of a network
        without hidden layers) is framed in the Network view and inspected."""
        layer = 0 if self.info is not None and self.info.spec.hidden else -1
        try:
            self.topology.highlight_neuron(layer, unit)
        except ValueError:
            return
        self._on_neuron_selected(layer, unit)

    def _on_example_selected(self, index: int) -> None:
        """A gallery picture clicked: the Network view's input shows that example (-1:
        the mean image again)."""
        self.topology.show_example(None if index < 0 else index, self.gallery.split)

    def _on_confusion_cell(self, true_class: int, predicted_class: int) -> None:
        """A confusion-matrix cell clicked: the gallery shows its examples."""
        self.gallery.show_class_pair(true_class, predicted_class)
        self.gallery_dock.show()
        self.gallery_dock.raise_()

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible:
            self.pump.redraw_latest()  # a view that was hidden shows the latest state

    # --- the worker's state -------------------------------------------------------------
    def _on_playing_changed(self, playing: bool) -> None:
        if playing != self.playing:
            self._set_playing(playing)

    def _on_diverged(self, generation: int, step: int) -> None:
        if generation != self.document.generation:
            return
        self._set_playing(False)
        self.diverged_at = step
        self.pump.diverged = True
        text = DIVERGED_TEXT.format(step=step)
        self.status.set_state(f"Diverged at step {step:,}")
        self.status.message(text)
        self._notice = self.dialogs.notify(self, "Training diverged", text, self._notice)

    def _on_worker_failed(self, message: str) -> None:
        self.status.message(message, 10000)
        self.dialogs.show_error(self, "Training", message)

    def _on_run_changed(self, generation: int, info: RunInfo) -> None:
        """The data was edited by clicks: the document keeps it as the run's (custom) data."""
        if generation != self.document.generation:
            return
        self.info = info
        self.decision.set_run(info)  # the edited data: only the output view draws the points
        X = info.train_X if info.test_X is None else np.vstack([info.train_X, info.test_X])
        y = info.train_y if info.test_y is None else np.concatenate([info.train_y, info.test_y])
        data = self.document.data_edited(X, y, info.task, info.class_names)
        shown = replace(self.controls.settings(), data=self.document.settings.data)
        self.controls.set_settings(shown, data.name, data.n_features == 2, self.document.custom_kind)
        self.setWindowModified(True)

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
        self.banner.set_theme(dark)
        if self.lessons_window is not None:
            self.lessons_window.set_theme(dark)
        self.act_dark.setChecked(dark)
        self.prefs.set_dark_theme(dark)

    def reset_layout(self) -> None:
        if self._default_state is None:
            self._first_layout()
        self.restoreState(self._default_state)
        for dock in (self.controls_dock, *self.docks.values()):
            dock.show()

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
        size_docks(self)
        self._default_state = self.saveState()
        if saved is not None:
            self.restoreState(saved)

    def show_guide(self) -> None:
        from nnviz.gui.window.help import show_guide

        show_guide(self)

    def show_about(self) -> None:
        from nnviz.gui.window.help import show_about

        show_about(self)

    def open_lessons(self) -> None:
        """The Lessons window (one, reused): runs of its own, beside the window's run."""
        from nnviz.gui.lessons.window import LessonWindow

        if self.lessons_window is None:
            self.lessons_window = LessonWindow(self)
        self.lessons_window.set_theme(self._dark)
        self.lessons_window.show()
        self.lessons_window.raise_()
        self.lessons_window.activateWindow()

    def gradient_check(self) -> None:
        from nnviz.gui.window.gradcheck_dialog import GradCheckDialog

        try:
            session = self.files.session_copy()
        except RuntimeError as exc:
            self.dialogs.show_error(self, "Gradient check", str(exc))
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
            QTimer.singleShot(0, lambda: self.files.open_any(path))

    # --- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing_ok and self.document.modified:
            answer = self.dialogs.ask_unsaved(self, self.document.name)
            if answer is dialogs.Unsaved.CANCEL or (answer is dialogs.Unsaved.SAVE and not self.files.save()):
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the timer and the worker thread (idempotent); keeps the layout."""
        if getattr(self, "_shut", False):
            return
        self._shut = True
        self.pump.stop()
        if self._notice is not None:
            self._notice.close()
        dlg = getattr(self, "gradcheck_dialog", None)
        if dlg is not None:
            dlg.stop()
        if self.lessons_window is not None:
            self.lessons_window.shutdown()
        self.prefs.set_window_state(self.saveGeometry(), self.saveState())
        lp = self.loss_plot
        self.prefs.set_loss_view(lp.smoothing_slider.value() / 100.0, lp.log_check.isChecked(),
                                 lp.x_combo.currentText(), lp.acc_check.isChecked())
        self.prefs.sync()
        self.handle.shutdown()

    def discard_changes(self) -> None:
        """Close without asking (the self-test, the bench)."""
        self._closing_ok = True
