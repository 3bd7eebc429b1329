"""Refuse to package from a virtual environment that would make a broken bundle.

PyInstaller aborts on two Qt bindings, pyqtgraph could bind to the wrong one, and
PySide6 6.12.0 on Python < 3.12 crashes in painting code (see DESIGN.md, pitfalls).
"""

from __future__ import annotations

import sys
from importlib import metadata

FORBIDDEN = ("PyQt5", "PyQt6", "PySide2", "PySide6-Addons", "torch", "onnx", "onnxruntime")


def problems() -> list[str]:
    """What is wrong with the running environment, one line each (empty when all is well)."""
    found: list[str] = []
    installed = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in metadata.distributions()}
    for name in FORBIDDEN:
        if name.lower() in installed:
            found.append(f"{name} {installed[name.lower()]} is installed; the bundle must not contain it")
    if "pyside6-essentials" not in installed:
        found.append("PySide6-Essentials is not installed")
    else:
        version = tuple(int(p) for p in installed["pyside6-essentials"].split(".")[:2])
        if sys.version_info < (3, 12) and version >= (6, 12):
            found.append(f"PySide6-Essentials {installed['pyside6-essentials']} on Python "
                         f"{sys.version.split()[0]} crashes painting code; need < 6.12 "
                         "(pyproject.toml's pin)")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(f"check_venv: {line}", file=sys.stderr)
    if not found:
        import PySide6

        print(f"check_venv: Python {sys.version.split()[0]}, PySide6-Essentials {PySide6.__version__}, "
              "no other Qt binding")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
