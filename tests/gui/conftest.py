"""Fixtures for the window tests: isolated settings, no modal dialog, no thread left behind."""

from __future__ import annotations

import gc
import multiprocessing
import threading
import time

import pytest

from nnviz.gui.window import dialogs
from nnviz.gui.window.preferences import ENV_FILE
from nnviz.gui.worker import live_threads
from tests.gui.waits import WAIT_MS, WAIT_S

#: the offscreen platform cannot pass size hints to a window (Qt says so at every layout)
#: nor raise one (the Lessons window is raised when it is asked for again)
OFFSCREEN_NOTICE = "This plugin does not support propagateSizeHints"
OFFSCREEN_RAISE = "This plugin does not support raise"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/gui/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE, OFFSCREEN_RAISE))


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Every test gets its own settings file: the user's are never read or written."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(ENV_FILE, str(path))
    return path


class DialogLog:
    """What the window would have asked or shown; tests set the answers."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.notices: list[tuple[str, str]] = []
        self.unsaved_answer = dialogs.Unsaved.DISCARD
        self.unsaved_asked = 0
        self.unsaved_questions: list[str] = []
        self.download_answer = False
        self.downloads_asked: list[str] = []
        self.open_path: str | None = None
        self.save_path: str | None = None


@pytest.fixture(autouse=True)
def dialog_log(monkeypatch):
    """No test ever blocks on a modal dialog: every question gets a scripted answer."""
    log = DialogLog()

    def show_error(_parent, title, text):
        log.errors.append((title, text))

    def notify(_parent, title, text, box=None):
        log.notices.append((title, text))

    def ask_unsaved(_parent, _name, question=dialogs.CLOSING):
        log.unsaved_asked += 1
        log.unsaved_questions.append(question)
        return log.unsaved_answer

    monkeypatch.setattr(dialogs, "show_error", show_error)
    monkeypatch.setattr(dialogs, "notify", notify)
    monkeypatch.setattr(dialogs, "ask_unsaved", ask_unsaved)

    def ask_download(_parent, title, _text):
        log.downloads_asked.append(title)
        return log.download_answer

    monkeypatch.setattr(dialogs, "ask_download", ask_download)
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a, **k: log.open_path)
    monkeypatch.setattr(dialogs, "ask_folder", lambda *a, **k: log.open_path)
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a, **k: log.save_path)
    return log


@pytest.fixture(autouse=True)
def no_thread_left():
    """Fail any test that leaves a training/helper QThread, a Python thread or a training
    process running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + WAIT_S  # a loaded machine ends a process late
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        children = multiprocessing.active_children()
        if not live_threads() and not extra and not children:
            return
        time.sleep(0.02)
    names = ([t.objectName() for t in live_threads()] + [t.name for t in extra]
             + [p.name for p in children])
    pytest.fail(f"threads or processes still running after the test: {names}")


@pytest.fixture(autouse=True)
def garbage_on_the_gui_thread():
    """As the app does (qt_setup.collect_garbage_on_gui_thread): no automatic collection
    while a window's worker thread runs, one on this (the GUI) thread after each test. A
    collection on the worker's thread destroys a dead window's QObjects there and can
    deadlock with the GUI thread."""
    enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect()
    if enabled:
        gc.enable()


@pytest.fixture
def make_window(qtbot):
    """Build main windows (the demo unless a session is given); closed after the test."""
    from nnviz.gui.window.main_window import MainWindow
    from nnviz.gui.window.preferences import Preferences

    made = []

    def make(session=None, restore_layout=False, show=True):
        w = MainWindow(session, prefs=Preferences(), restore_layout=restore_layout)
        qtbot.addWidget(w)
        # the offscreen screen is 800x800, where the window would tab its right column; the
        # tests see every panel at once (tests/gui/test_window_fits.py covers the short layout)
        w.resize(1500, 950)
        if show:
            w.show()
            qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.discard_changes()
        w.close()
        w.shutdown()


@pytest.fixture
def window(make_window, qtbot):
    """The demo window, shown, with its first snapshot drawn."""
    w = make_window()
    qtbot.waitUntil(lambda: w.pump.snapshots_drawn > 0, timeout=WAIT_MS)
    return w
