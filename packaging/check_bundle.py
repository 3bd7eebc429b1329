"""Check a built one-folder bundle: what must be in it is, and what must not be is not.

    python packaging/check_bundle.py dist/nnviz
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

#: paths (relative to the bundle's _internal/) that must exist
REQUIRED = (
    "resources/icons/nnviz.svg",
    "resources/icons/nnviz-256.png",
    "resources/nnviz.desktop",
    "resources/nnviz-mime.xml",
    "resources/data/uci-digits-images-idx3-ubyte.gz",
    "resources/data/uci-digits-labels-idx1-ubyte.gz",
    "resources/lessons/xor_needs_hidden_layer.json",
    "PySide6/QtCore.abi3.so",
    "PySide6/QtGui.abi3.so",
    "PySide6/QtWidgets.abi3.so",
    "PySide6/QtSvg.abi3.so",
    "PySide6/QtOpenGL.abi3.so",
    "PySide6/QtOpenGLWidgets.abi3.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so",
)

#: what must not be anywhere in the bundle (regular expressions over "/"-separated paths)
FORBIDDEN = (
    r"(^|/)(torch|onnx|onnxruntime|scipy|matplotlib|tkinter)(/|$)",  # optional extras, unused libraries
    r"PyQt5|PyQt6|PySide2",  # a second Qt binding
    r"QtWebEngine|Qt6Qml|Qt6Quick|Qt63D|QtMultimedia|Qt6Network|Qt6Sql|Qt6Pdf|QtCharts|QtDataVis",
    r"/translations/",
    # system libraries: they come from the distribution (the .deb's Depends), never the build machine
    r"(^|/)lib(stdc\+\+|gcc_s|X11|xcb|xkbcommon|fontconfig|freetype|glib-2|gtk|gdk|dbus-1|GL|EGL)[-.]",
)
_forbidden = re.compile("|".join(f"(?:{f})" for f in FORBIDDEN))


def check(bundle: Path) -> list[str]:
    """Problems with the bundle at ``bundle``, one line each."""
    found: list[str] = []
    exe = bundle / "nnviz"
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        found.append(f"{exe} is missing or not executable")
    internal = bundle / "_internal"
    found += [f"missing: _internal/{rel}" for rel in REQUIRED if not (internal / rel).exists()]
    for path in bundle.rglob("*"):
        rel = path.relative_to(bundle).as_posix()
        if path.is_symlink() and not path.exists():
            found.append(f"dangling symbolic link: {rel}")
        match = _forbidden.search(rel)
        if match:
            found.append(f"must not be bundled ({match.group(0)}): {rel}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_bundle.py BUNDLE_DIR", file=sys.stderr)
        return 2
    found = check(Path(argv[0]))
    for line in found[:40]:
        print(f"check_bundle: {line}", file=sys.stderr)
    if not found:
        print(f"check_bundle: {argv[0]} has what it needs and nothing it must not")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
