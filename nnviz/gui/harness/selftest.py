"""``nnviz --self-test``: the real window, trained through the worker, saved and
reopened; one summary line; exit status 0 when everything worked.

It drives the window with a timer (never blocking the event loop), so it runs the same
way offscreen and on a real display. A watchdog thread ends the process if anything
hangs, so an installer's smoke test can never wait forever.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

MIN_STEPS = 200
#: the longest a phase waits for the window (a loaded machine is slow, not broken: these
#: limits only end a run that has hung, and a passing run never waits for them)
PHASE_LIMIT_S = 60.0
WATCHDOG_S = 3 * PHASE_LIMIT_S
POLL_MS = 20
EXIT_FAILED = 1
EXIT_HUNG = 3
WHERE = {"process": "in its own process", "thread": "on a thread"}


def _watchdog(seconds: float, what: Callable[[], str]) -> threading.Timer:
    def fire() -> None:
        sys.stderr.write(f"nnviz self-test: FAILED: no result after {seconds:.0f} s, hung while {what()}\n")
        sys.stderr.flush()
        os._exit(EXIT_HUNG)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


class SelfTest:
    """A small state machine polled by a timer; each phase waits for the window."""

    def __init__(self, window, folder: Path, app):
        self.w = window
        self.folder = folder
        self.app = app
        self.phase = "waiting for the first frame"
        self.error: str | None = None
        self.summary = ""
        self.t0 = time.perf_counter()
        self.frames0: dict[str, int] = {}
        self.trained_frames: dict[str, int] = {}
        self.saved_step = 0
        self.saved_path = folder / "self-test.nnviz"
        self.deadline = 0.0
        self._timer = QTimer()
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._timer.start()

    def fail(self, reason: str) -> None:
        if self.error is None:
            self.error = reason
        self._finish()

    def _finish(self) -> None:
        self._timer.stop()
        self.w.pause()
        self.app.quit()

    def _frames(self) -> dict[str, int]:
        return {name: int(v.frame_count) for name, v in self.w.views.items()}

    def _poll(self) -> None:
        try:
            getattr(self, "_phase_" + self.phase.split()[0])()
        except Exception as exc:  # a bug found by the self-test is its result, not a crash
            self.fail(f"{self.phase}: {type(exc).__name__}: {exc}")

    def _phase_waiting(self) -> None:
        if self.w.pump.frame_count == 0 or self.w.info is None:
            return
        self.frames0 = self._frames()
        self.w.set_speed_index(len(self.w_speeds()) - 1)  # full speed
        self.w.play()
        self.phase = "training through the worker"

    def w_speeds(self) -> tuple:
        from nnviz.gui.window.main_window import SPEEDS

        return SPEEDS

    def _phase_training(self) -> None:
        frames = self._frames()
        # every panel on screen that drew the run before training (on a short screen the right
        # column's panels are tabs; the image panels have nothing to draw for 2-D data)
        drawing = [k for k in frames if self.w.pump.view_shown(k) and self.frames0[k] > 0]
        updated = bool(drawing) and all(frames[k] > self.frames0[k] for k in drawing)
        if self.w.diverged_at is not None:
            self.fail(f"the demo diverged at step {self.w.diverged_at}")
            return
        if self.w.pump.steps_received >= MIN_STEPS and self.w.pump.last_step >= MIN_STEPS and updated:
            self.trained_frames = {k: frames[k] - self.frames0[k] for k in drawing}
            self.w.pause()
            self.phase = "pausing"
            self.deadline = time.perf_counter() + PHASE_LIMIT_S

    def _phase_pausing(self) -> None:
        if self.w.playing and time.perf_counter() < self.deadline:
            return
        if not self.w.files.save_as(str(self.saved_path)):
            self.fail("saving failed")
            return
        if not self.saved_path.is_file() or self.saved_path.stat().st_size == 0:
            self.fail(f"{self.saved_path.name} was not written")
            return
        self.saved_step = self.w.files.session_copy().trainer.step_count
        if not self.w.files.open_path(self.saved_path):
            self.fail("reopening the saved file failed")
            return
        self.phase = "redrawing the reopened file"
        self.frames0 = self._frames()
        self.deadline = time.perf_counter() + PHASE_LIMIT_S

    def _phase_redrawing(self) -> None:
        frames = self._frames()
        if frames["topology"] <= self.frames0["topology"]:
            if time.perf_counter() > self.deadline:
                self.fail("the reopened network was never drawn")
            return
        step = self.w.files.session_copy().trainer.step_count
        if step != self.saved_step:
            self.fail(f"saved at step {self.saved_step} but reopened at step {step}")
            return
        size = self.saved_path.stat().st_size
        seconds = time.perf_counter() - self.t0
        counts = ", ".join(f"{k} {v}" for k, v in self.trained_frames.items())
        platform = QGuiApplication.platformName()
        self.summary = (
            f"nnviz self-test: ok: trained {self.saved_step} minibatches through the worker "
            f"(training {WHERE[self.w.worker.mode]}), "
            f"every view redrawn while training (frames: {counts}), saved and reopened a "
            f"{size:,}-byte file at step {step}, {seconds:.1f} s on the {platform} platform"
        )
        self._finish()


def run_self_test(watchdog_s: float = WATCHDOG_S) -> int:
    """Run the self-test in this process; prints one line and returns the exit status."""
    from nnviz.gui.window.dialogs import RecordingDialogs
    from nnviz.gui.window.preferences import ENV_FILE

    state = {"phase": "starting"}
    guard = _watchdog(watchdog_s, lambda: state["phase"])
    with tempfile.TemporaryDirectory(prefix="nnviz-self-test-") as tmp:
        folder = Path(tmp)
        os.environ[ENV_FILE] = str(folder / "settings.ini")  # never the user's settings
        from nnviz.gui.qt_setup import collect_garbage_on_gui_thread, install_message_filter, make_app
        from nnviz.gui.window.main_window import MainWindow
        from nnviz.gui.window.preferences import Preferences

        app = make_app()
        install_message_filter()
        collect_garbage_on_gui_thread(app)
        recorder = RecordingDialogs()  # a dialog would wait for a click that never comes
        messages = recorder.messages
        state["phase"] = "opening the window"
        window = MainWindow(prefs=Preferences(), restore_layout=False, dialogs=recorder)
        window.show()
        test = SelfTest(window, folder, app)

        def track() -> None:
            state["phase"] = test.phase

        tracker = QTimer()
        tracker.timeout.connect(track)
        tracker.start(100)
        test.start()
        app.exec()
        tracker.stop()
        state["phase"] = "closing the window"
        window.discard_changes()
        window.close()
        if messages and test.error is None:
            test.error = "; ".join(messages)
        guard.cancel()
    if test.error is not None:
        print(f"nnviz self-test: FAILED: {test.error}")
        return EXIT_FAILED
    print(test.summary)
    return 0
