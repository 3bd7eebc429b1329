"""Where the shipped resources (icon, examples) are: beside the package in a checkout,
inside the bundle when frozen by PyInstaller."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def examples_dir() -> Path:
    return resource_dir() / "examples"
