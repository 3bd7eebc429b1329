"""Open one file in the real window, offscreen, as a user would (File > Open), let it draw
and train briefly, then close; report like the command line does.

    python tests/hostile/open_in_window.py FILE

Exit 0: the file opened, drew and trained (or was refused with a message in a dialog and
the window kept working); the dialog's text is printed as one line on stderr with exit 2.
Exit 3 with one line: an exception escaped into Qt's event loop (a crash in waiting), or
the window stopped drawing. A hard crash shows as a signal.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

PLAY_S = 1.5
SETTLE_S = 0.5
WATCHDOG_S = 80.0


def _watchdog() -> None:
    def fire() -> None:
        sys.stderr.write(f"window: no answer after {WATCHDOG_S:.0f} s\n")
        sys.stderr.flush()
        os._exit(4)

    t = threading.Timer(WATCHDOG_S, fire)
    t.daemon = True
    t.start()


def _pump(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def main(path: str) -> int:
    _watchdog()
    tmp = tempfile.mkdtemp(prefix="nnviz-window-case-")
    from nnviz.gui.window.preferences import ENV_FILE

    os.environ[ENV_FILE] = str(Path(tmp) / "settings.ini")
    from nnviz.gui.qt_setup import install_message_filter, make_app
    from nnviz.gui.window import dialogs
    from nnviz.gui.window.main_window import MainWindow
    from nnviz.gui.window.preferences import Preferences

    messages: list[str] = []
    escaped: list[str] = []

    def record(_parent, title: str, text: str = "", *_a, **_k) -> None:
        messages.append(f"{title}: {text}".replace("\n", " "))

    dialogs.show_error = record
    dialogs.notify = record  # type: ignore[assignment]
    dialogs.ask_unsaved = lambda *_a: dialogs.Unsaved.DISCARD

    def hook(kind, value, _tb) -> None:
        escaped.append(f"{kind.__name__}: {value}".replace("\n", " "))

    sys.excepthook = hook
    app = make_app()
    install_message_filter()
    window = MainWindow(prefs=Preferences(), restore_layout=False)
    window.show()
    _pump(app, SETTLE_S)
    window.files.open_any(path, ask=False)
    _pump(app, SETTLE_S)
    frames = window.pump.frame_count
    window.play()
    _pump(app, PLAY_S)
    window.pause()
    window.grab()  # a full paint of every visible panel
    _pump(app, SETTLE_S)
    drew = window.pump.frame_count > frames
    window.discard_changes()
    window.close()
    _pump(app, 0.1)
    if escaped:
        print(f"window: uncaught {escaped[0][:300]}", file=sys.stderr)
        return 3
    if messages:
        print(messages[0][:500], file=sys.stderr)
        return 2
    if not drew:
        print("window: no frame drawn after opening the file and pressing play", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
