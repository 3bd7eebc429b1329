"""Preferences that outlive the window: dock layout, geometry, recent files, theme, speed.

Stored with :class:`QSettings` under the organisation "nnviz". ``NNVIZ_SETTINGS_FILE``
points them at an INI file instead (tests, the self-test and the bench use a temporary
one, so they never touch the user's settings).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "nnviz"
APPLICATION = "nnviz"
ENV_FILE = "NNVIZ_SETTINGS_FILE"
MAX_RECENT = 10


def open_settings() -> QSettings:
    """The settings store: the user's, or the INI file named by ``NNVIZ_SETTINGS_FILE``."""
    path = os.environ.get(ENV_FILE)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class Preferences:
    """Typed access to the few values nnviz keeps."""

    def __init__(self, store: QSettings | None = None):
        self.store = store if store is not None else open_settings()

    # --- recent files -------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.store.value("recent_files", [])
        if isinstance(value, str):  # QSettings returns a lone entry as a string
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        files = files[:MAX_RECENT]
        self.store.setValue("recent_files", files)
        return files

    def remove_recent(self, path: str) -> list[str]:
        files = [f for f in self.recent_files() if f != path]
        self.store.setValue("recent_files", files)
        return files

    def clear_recent(self) -> None:
        self.store.setValue("recent_files", [])

    # --- simple values ------------------------------------------------------------------
    def dark_theme(self) -> bool:
        return _as_bool(self.store.value("dark_theme", False))

    def set_dark_theme(self, dark: bool) -> None:
        self.store.setValue("dark_theme", bool(dark))

    def speed_index(self, default: int) -> int:
        try:
            return int(self.store.value("speed_index", default))
        except (TypeError, ValueError):
            return default

    def set_speed_index(self, index: int) -> None:
        self.store.setValue("speed_index", int(index))

    def last_dir(self) -> str:
        return str(self.store.value("last_dir", "") or "")

    def set_last_dir(self, path: str | Path) -> None:
        self.store.setValue("last_dir", str(Path(path).parent))

    def loss_view(self) -> dict[str, object]:
        """The loss plot's own choices: smoothing (0..0.99), log y, x axis, accuracy."""
        try:
            smoothing = min(max(float(self.store.value("loss/smoothing", 0.9)), 0.0), 0.99)
        except (TypeError, ValueError):
            smoothing = 0.9
        x_axis = str(self.store.value("loss/x_axis", "steps"))
        return {
            "smoothing": smoothing,
            "log_y": _as_bool(self.store.value("loss/log_y", False)),
            "x_axis": x_axis if x_axis in ("steps", "epochs") else "steps",
            "accuracy": _as_bool(self.store.value("loss/accuracy", True)),
        }

    def set_loss_view(self, smoothing: float, log_y: bool, x_axis: str, accuracy: bool) -> None:
        self.store.setValue("loss/smoothing", float(smoothing))
        self.store.setValue("loss/log_y", bool(log_y))
        self.store.setValue("loss/x_axis", str(x_axis))
        self.store.setValue("loss/accuracy", bool(accuracy))

    # --- window layout ------------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geo = self.store.value("window/geometry")
        state = self.store.value("window/state")
        return (
            geo if isinstance(geo, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def sync(self) -> None:
        self.store.sync()


def _as_bool(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)
