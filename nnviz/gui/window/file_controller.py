"""The File menu: open, save, recent files, CSV import and every export.

The :class:`FileController` is given the window (to start runs on it and to parent its
dialogs), the run document, a dialogs object and the preferences. Files are written on
the GUI thread from a copy of the session that the worker makes between two minibatches;
the worker's session is never touched from here. Every failure becomes a message and
leaves the current state as it was.
"""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from nnviz.app.document import DEMO_NAME, RunDocument
from nnviz.app.run_settings import (
    CUSTOM,
    DataSettings,
    SettingsError,
    build_session,
    make_dataset,
)
from nnviz.app.runinfo import RunError
from nnviz.core.compat import default_loss, loss_fits
from nnviz.core.session import Session, demo_session
from nnviz.gui.window import dialogs
from nnviz.gui.window.background import run_responsive
from nnviz.gui.window.dialogs import Dialogs
from nnviz.gui.window.preferences import Preferences

COPY_TIMEOUT_S = 20.0
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


def _with_suffix(path: str, suffix: str, allowed: tuple[str, ...] | None = None) -> str:
    p = Path(path)
    if p.suffix.lower() in (allowed or (suffix,)):
        return path
    return str(p.with_name(p.name + suffix))


class FileController:
    """Opening, saving, importing and exporting for ``window`` (a
    :class:`~nnviz.gui.window.main_window.MainWindow`), which it asks to start runs and
    tells when ``document`` changed (:meth:`show_document`)."""

    def __init__(self, window, document: RunDocument, dialogs: Dialogs, prefs: Preferences) -> None:
        self.window = window
        self.document = document
        self.dialogs = dialogs
        self.prefs = prefs

    # --- helpers --------------------------------------------------------------------------
    def session_copy(self, timeout: float = COPY_TIMEOUT_S) -> Session:
        """A deep copy of the session being trained, made by the worker between steps."""
        future = self.window.worker.copy_session()
        try:
            return future.result(timeout=timeout)
        except FutureTimeout as exc:
            raise RuntimeError("the training thread did not answer in time; try again") from exc

    def _start_dir(self) -> str:
        if self.document.path is not None:
            return str(self.document.path.parent)
        return self.prefs.last_dir()

    def maybe_save(self, question: str = dialogs.CLOSING) -> bool:
        """Before replacing the run: True when it is fine to go on. Asked only once the new
        run is ready (a file that cannot be opened never costs the user a question)."""
        if not self.document.modified:
            return True
        answer = self.dialogs.ask_unsaved(self.window, self.document.name, question)
        if answer is dialogs.Unsaved.CANCEL:
            return False
        if answer is dialogs.Unsaved.SAVE:
            return self.save()
        return True

    def _set_document(self, path: Path | None, name: str | None = None) -> None:
        if path is None:
            self.document.untitled(name or "Untitled")
        else:
            self.document.saved_as(path)
            self.prefs.add_recent(path)
            self.prefs.set_last_dir(path)
        self.window.show_document()

    # --- new / open -----------------------------------------------------------------------
    def new_file(self) -> None:
        """A fresh run on the spiral demo, untitled."""
        if not self.maybe_save("Save them before starting a new run?"):
            return
        try:
            self.window.start_session(demo_session())
        except RunError as exc:
            self.dialogs.show_error(self.window, "Cannot start a new run", str(exc))
            return
        self.window.undo_stack.clear()
        self._set_document(None, DEMO_NAME)

    def open_dialog(self) -> bool:
        """File > Open: the file is chosen and checked first, then unsaved changes asked about."""
        path = self.dialogs.ask_open_path(self.window, "Open", dialogs.OPENABLE_FILTER, self._start_dir())
        if not path:
            return False
        return self.open_any(path)

    def open_any(self, path: str | Path, ask: bool = True) -> bool:
        """A network file, a JSON spec, (by its suffix) a CSV data set, or image data (an
        ``.npz``, a CIFAR-10 ``.bin`` or a folder); with ``ask``, unsaved changes are asked
        about once the file has been read and checked."""
        from nnviz.io.images.load import is_image_source

        if Path(path).suffix.lower() in CSV_SUFFIXES:
            return self.import_csv(str(path), ask=ask)
        if is_image_source(path):
            return self.import_images(str(path), ask=ask)
        return self.open_path(path, ask=ask)

    def open_path(self, path: str | Path, ask: bool = False) -> bool:
        """Open a ``.nnviz`` file or a JSON spec; on failure say why and keep the current run."""
        from nnviz.io import FileFormatError, load_file

        path = Path(path)
        try:
            loaded = run_responsive(self.window, f"Reading {path.name}…", lambda: load_file(path))
            data = None
            if loaded.data is None:  # a spec without data trains on the data shown now
                data = make_dataset(self.document.settings.data, self.document.custom_data)
            session = run_responsive(self.window, f"Preparing {path.name}…", lambda: loaded.to_session(data))
        except (FileFormatError, SettingsError, OSError, ValueError, MemoryError) as exc:
            self._open_failed(path, exc)
            return False
        if ask and not self.maybe_save(f"Save them before opening {path.name}?"):
            return False
        try:
            # all or nothing: the current run is touched only once this one is shown
            self.window.start_session(session)
        except (RunError, MemoryError) as exc:
            self._open_failed(path, exc)
            return False
        self.window.undo_stack.clear()
        self._set_document(path)
        self.window.status.message(f"Opened {path.name}: step {session.trainer.step_count:,}.", 5000)
        return True

    def _open_failed(self, path: Path, exc: BaseException) -> None:
        """One message naming the file; a recent file that went away leaves the list."""
        text = "there is not enough memory to open it" if isinstance(exc, MemoryError) else str(exc)
        text = text if path.name in text else f"{path.name}: {text}"
        self.dialogs.show_error(self.window, "Cannot open the file", text)
        if not path.exists():  # a recent file that was moved or deleted
            self.prefs.remove_recent(str(path.resolve()))

    def fill_recent_menu(self, menu: QMenu) -> None:
        """The Open Recent submenu, filled as it opens."""
        menu.clear()
        files = self.prefs.recent_files()
        if not files:
            act = menu.addAction("(no recent files)")
            act.setEnabled(False)
            return
        for i, f in enumerate(files):
            act = QAction(f"&{i + 1} {Path(f).name}", menu)
            act.setToolTip(f)
            act.setStatusTip(f)
            act.triggered.connect(lambda _=False, f=f: self.open_any(f))
            menu.addAction(act)
        menu.addSeparator()
        clear = menu.addAction("Clear list")
        clear.triggered.connect(self.prefs.clear_recent)

    # --- save -----------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self, path: str | None = None) -> bool:
        if path is None:
            stem = Path(self.document.name).stem.replace(" ", "_")
            suggested = str(Path(self._start_dir()) / (stem + ".nnviz"))
            path = self.dialogs.ask_save_path(self.window, "Save network", dialogs.NETWORK_FILTER, suggested)
            if not path:
                return False
            path = _with_suffix(path, ".nnviz", (".nnviz", ".json"))
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        from nnviz.io import SaveError, save_session

        try:
            session = self.session_copy()
            save_session(session, path)
        except (SaveError, OSError, RuntimeError, ValueError) as exc:
            self.dialogs.show_error(self.window, "Cannot save", str(exc))
            return False
        self._set_document(path)
        self.window.status.message(f"Saved {path.name} (step {session.trainer.step_count:,}).", 5000)
        return True

    # --- import ---------------------------------------------------------------------------
    def import_csv(self, path: str | None = None, ask: bool = True) -> bool:
        """Train on a CSV table: a new run with the network settings shown, widths fitted.
        With ``ask``, unsaved changes are asked about once the table has been read."""
        from nnviz.io import FileFormatError, load_csv

        if path is None:
            path = self.dialogs.ask_open_path(self.window, "Import CSV data", dialogs.CSV_FILTER,
                                              self._start_dir())
            if not path:
                return False
        try:
            data = run_responsive(self.window, f"Reading {Path(path).name}…", lambda: load_csv(path))
        except (FileFormatError, OSError, ValueError) as exc:
            self.dialogs.show_error(self.window, "Cannot import the CSV file", str(exc))
            return False
        except MemoryError:
            self.dialogs.show_error(self.window, "Cannot import the CSV file",
                                    f"{Path(path).name}: there is not enough memory to load it")
            return False
        shown = self.window.controls.settings()
        d = shown.data
        ds = DataSettings(
            source=CUSTOM, n=len(data), test_fraction=d.test_fraction, preprocess=d.preprocess,
            features=d.features if data.n_features == 2 else (), custom_name=data.name,
        )
        network = shown.network
        if not loss_fits(network.loss, data.task, data.n_classes):
            network = replace(network, loss=default_loss(data.task))
        settings = replace(shown, data=ds, network=network)
        if not self._train_on(data, settings, Path(path).name, ask):
            return False
        self.prefs.set_last_dir(path)
        self.document.imported(Path(path).stem)  # named after the file
        self.window.show_document()
        self.window.status.message(
            f"Imported {Path(path).name}: {len(data):,} rows, {data.n_features} inputs, {data.task}.", 6000
        )
        return True

    def import_images(self, source: str | None = None, ask: bool = True, folder: bool = False) -> bool:
        """Train on image data: ``source`` a published set (``mnist``, ``fashion-mnist``,
        ``cifar10``: downloaded first if need be) or a path (a folder of IDX files, CIFAR-10
        batches or one sub-folder per class; an ``.npz``; a CIFAR ``.bin``). Without one the
        user picks a file (or, with ``folder``, a folder). Sensible defaults for images come
        with it, and the status bar says which."""
        from nnviz.gui.window.image_import import (
            PUBLISHED,
            fetch_if_missing,
            image_settings,
            load_for_window,
        )
        from nnviz.io import FileFormatError
        from nnviz.io.images.cache import DownloadCancelledError

        if source is None:
            start = self._start_dir()
            if folder:
                source = self.dialogs.ask_folder(self.window, "Import image folder", start)
            else:
                source = self.dialogs.ask_open_path(self.window, "Import image data",
                                                    dialogs.IMAGE_DATA_FILTER, start)
            if not source:
                return False
        title = "Cannot import the images"
        name = PUBLISHED[source].label if source in PUBLISHED else Path(source).name
        try:
            if source in PUBLISHED and not fetch_if_missing(self.window, self.dialogs, source):
                return False
            images = load_for_window(self.window, source)
        except DownloadCancelledError:
            self.window.status.message("Download cancelled: nothing was kept.", 5000)
            return False
        except (FileFormatError, OSError, ValueError) as exc:
            self.dialogs.show_error(self.window, title, str(exc))
            return False
        except MemoryError:
            self.dialogs.show_error(self.window, title, f"{name}: there is not enough memory to load it")
            return False
        settings, notice = image_settings(self.window.controls.settings(), images)
        if not self._train_on(images.dataset, settings, name, ask):
            return False
        if source not in PUBLISHED:
            self.prefs.set_last_dir(source)
        self.window.status.message("; ".join((notice, *images.notes)), 10000)
        return True

    def _train_on(self, data, settings, name: str, ask: bool) -> bool:
        """A new run of ``settings`` on imported ``data`` (asked about unsaved changes once it
        is built); False with a message when it cannot be made."""
        try:
            session = run_responsive(self.window, f"Preparing {data.name}…",
                                     lambda: build_session(settings, data))
            if ask and not self.maybe_save(f"Save them before training on {name}?"):
                return False
            self.window.start_session(session, settings, data)
        except (SettingsError, RunError) as exc:
            self.dialogs.show_error(self.window, "Cannot train on this data", f"{name}: {exc}")
            return False
        except MemoryError:
            self.dialogs.show_error(self.window, "Cannot train on this data",
                                    f"{name}: there is not enough memory for it")
            return False
        self.document.imported(Path(data.name).stem)  # a new, unsaved network on the data
        self.window.show_document()
        return True

    # --- export ---------------------------------------------------------------------------
    def _ask_export(self, title: str, filters: str, suffix: str, default_name: str) -> str | None:
        suggested = str(Path(self._start_dir()) / default_name)
        path = self.dialogs.ask_save_path(self.window, title, filters, suggested)
        return _with_suffix(path, suffix) if path else None

    def export_onnx(self, path: str | None = None) -> bool:
        from nnviz.io.onnx_common import OnnxUnavailableError
        from nnviz.io.onnx_export import export_onnx

        if path is None:
            path = self._ask_export("Export ONNX model", dialogs.ONNX_FILTER, ".onnx",
                                    Path(self.document.name).stem.replace(" ", "_") + ".onnx")
            if not path:
                return False
        try:
            s = self.session_copy()
            export_onnx(s.spec, s.network.params, s.pipeline, path)
        except OnnxUnavailableError as exc:
            self.dialogs.show_error(self.window, "ONNX export is not available", str(exc))
            return False
        except (OSError, RuntimeError, ValueError) as exc:
            self.dialogs.show_error(self.window, "Cannot export the model", str(exc))
            return False
        self.window.status.message(f"Exported the model to {Path(path).name}.", 5000)
        return True

    def export_history_csv(self, path: str | None = None) -> bool:
        from nnviz.io import write_history_csv

        if path is None:
            path = self._ask_export("Export loss history", dialogs.CSV_FILTER, ".csv", "history.csv")
            if not path:
                return False
        try:
            write_history_csv(self.session_copy().history, path)
        except (OSError, RuntimeError, ValueError) as exc:
            self.dialogs.show_error(self.window, "Cannot export the history", str(exc))
            return False
        self.window.status.message(f"Wrote the loss history to {Path(path).name}.", 5000)
        return True

    def export_data_csv(self, path: str | None = None) -> bool:
        from nnviz.io import write_dataset_csv

        if path is None:
            path = self._ask_export("Export data", dialogs.CSV_FILTER, ".csv", "data.csv")
            if not path:
                return False
        try:
            write_dataset_csv(self.session_copy().data, path)
        except (OSError, RuntimeError, ValueError) as exc:
            self.dialogs.show_error(self.window, "Cannot export the data", str(exc))
            return False
        self.window.status.message(f"Wrote the data to {Path(path).name}.", 5000)
        return True

    def export_image(self, key: str, path: str | None = None) -> bool:
        """One view as PNG (as shown) or SVG, chosen by the file name."""
        view = self.window.views[key]
        if path is None:
            path = self.dialogs.ask_save_path(self.window, "Export image", dialogs.IMAGE_FILTER,
                                         str(Path(self._start_dir()) / f"{key}.png"))
            if not path:
                return False
            path = _with_suffix(path, ".png", (".png", ".svg"))
        try:
            view.export_image(path)
        except (OSError, RuntimeError, ValueError) as exc:
            self.dialogs.show_error(self.window, "Cannot export the image", str(exc))
            return False
        self.window.status.message(f"Saved {Path(path).name}.", 5000)
        return True
