"""The installer's source files: they parse, agree with each other, and keep what nnviz needs.

Fast checks only; building and running the bundle is `make package` / `make package-test`.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "packaging"
RES = ROOT / "resources"

#: what Qt's xcb platform needs beyond a base system (DESIGN.md, known pitfalls)
XCB_LIBS = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
            "libxcb-xinerama0", "libxkbcommon-x11-0", "libxcb-xkb1", "libxcb-shape0", "libegl1",
            "libfontconfig1")


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_pkg_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spec_lists() -> dict[str, list[str]]:
    """The spec's top-level list constants (QT_UNUSED, EXCLUDES, DROP, ...), evaluated.

    Only plain assignments of literals and the names before them are run, never the
    PyInstaller calls, so this works without PyInstaller.
    """
    tree = ast.parse((PKG / "nnviz.spec").read_text(), filename="nnviz.spec")
    namespace: dict = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.List | ast.Constant | ast.BinOp)
                and not any(isinstance(n, ast.Call) for n in ast.walk(node.value))):
            try:
                exec(compile(ast.Module([node], type_ignores=[]), "nnviz.spec", "exec"), namespace)
            except NameError:  # built from PyInstaller's names (SPECPATH...): not a constant
                continue
    return {k: v for k, v in namespace.items() if isinstance(v, list)}


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string((RES / "nnviz.desktop").read_text())
    return parser["Desktop Entry"]


def _mime_types() -> dict[str, list[str]]:
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(RES / "nnviz-mime.xml").getroot()
    return {t.get("type"): [g.get("pattern") for g in t.findall("m:glob", ns)]
            for t in root.findall("m:mime-type", ns)}


def _control_depends() -> str:
    text = (PKG / "deb" / "control.in").read_text()
    m = re.search(r"^Depends:(.*(?:\n .*)*)", text, re.MULTILINE)
    assert m, "control.in has no Depends field"
    return " ".join(m.group(1).split())


def test_spec_parses_and_keeps_the_qt_modules_nnviz_imports():
    lists = _spec_lists()
    unused = set(lists["QT_UNUSED"])
    imported = set()
    for source in (ROOT / "nnviz").rglob("*.py"):
        imported |= set(re.findall(r"\bPySide6\.(Qt\w+)", source.read_text()))
    # pyqtgraph 0.14 imports these at load time (SVG export, PlotCurveItem, OpenGLHelpers)
    needed = imported | {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtOpenGL", "QtOpenGLWidgets"}
    assert not needed & unused, f"the spec excludes Qt modules nnviz needs: {sorted(needed & unused)}"
    assert {"QtWebEngineCore", "QtQml", "QtQuick", "QtNetwork", "QtSql", "QtPdf"} <= unused


def test_spec_keeps_torch_onnx_and_other_bindings_out_and_bundles_resources():
    excludes = set(_spec_lists()["EXCLUDES"])
    assert {"torch", "onnx", "onnxruntime", "PyQt5", "PyQt6", "PySide2"} <= excludes
    spec = (PKG / "nnviz.spec").read_text()
    assert '(str(ROOT / "resources"), "resources")' in spec  # nnviz.resources looks in _MEIPASS/resources
    assert "rthook_qt.py" in spec and "PYQTGRAPH_QT_LIB" in (PKG / "rthook_qt.py").read_text()


def test_spec_drop_patterns_compile_and_spare_the_platform_plugins():
    drop = re.compile("|".join(f"(?:{p})" for p in _spec_lists()["DROP"]))
    for kept in ("PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
                 "PySide6/Qt/plugins/imageformats/libqsvg.so", "PySide6/Qt/lib/libQt6Gui.so.6",
                 "PySide6/Qt/lib/libicudata.so.73", "libQt6XcbQpa.so.6"):
        assert not drop.search(kept), kept
    for dropped in ("PySide6/Qt/translations/qtbase_de.qm", "PySide6/Qt/lib/libQt6Network.so.6",
                    "libQt6Network.so.6", "PySide6/Qt/plugins/platforms/libqeglfs.so",
                    "PySide6/Qt/plugins/platformthemes/libqgtk3.so"):
        assert drop.search(dropped), dropped


def test_desktop_entry_opens_the_mime_type_the_xml_declares():
    entry = _desktop_entry()
    types = _mime_types()
    assert entry["Type"] == "Application" and entry["Name"] == "nnviz"
    assert entry["Exec"].split() == ["nnviz", "%f"]
    declared = [t for t in entry["MimeType"].split(";") if t]
    assert declared and set(declared) <= set(types)
    assert "*.nnviz" in types[declared[0]]
    assert (RES / "icons" / f"{entry['Icon']}.svg").is_file()


def test_control_declares_the_xcb_libraries():
    depends = _control_depends()
    elfdeps = _load(PKG / "deb" / "elfdeps.py")
    declared = elfdeps.declared_packages(depends.replace("@RUNTIME_DEPENDS@", "libc6"))
    missing = [lib for lib in XCB_LIBS if lib not in declared]
    assert not missing, f"Depends lacks {missing}"
    for entry in depends.split(","):
        for alternative in entry.split("|"):
            alternative = alternative.strip()
            assert alternative == "@RUNTIME_DEPENDS@" or re.fullmatch(
                r"[a-z0-9][a-z0-9.+-]+( \((>=|<=|=|>>|<<) [0-9][^)]*\))?", alternative), alternative
    control = (PKG / "deb" / "control.in").read_text()
    for key in ("VERSION", "INSTALLED_SIZE", "MAINTAINER", "RUNTIME_DEPENDS"):
        assert f"@{key}@" in control, key


def test_elfdeps_reads_depends_fields():
    elfdeps = _load(PKG / "deb" / "elfdeps.py")
    assert elfdeps.declared_packages("libc6 (>= 2.35), libssl3 | libssl3t64, libx11-6:amd64") == {
        "libc6", "libssl3", "libssl3t64", "libx11-6"}


def test_check_bundle_finds_what_is_missing_and_what_must_not_be_there(tmp_path):
    check_bundle = _load(PKG / "check_bundle.py")
    bundle = tmp_path / "nnviz"
    internal = bundle / "_internal"
    for rel in check_bundle.REQUIRED:
        (internal / rel).parent.mkdir(parents=True, exist_ok=True)
        (internal / rel).write_bytes(b"")
    (bundle / "nnviz").write_text("#!/bin/sh\n")
    (bundle / "nnviz").chmod(0o755)
    assert check_bundle.check(bundle) == []

    (internal / "torch").mkdir()
    (internal / "libstdc++.so.6").write_bytes(b"")
    (internal / "libQt6Network.so.6").symlink_to("PySide6/Qt/lib/libQt6Network.so.6")
    (internal / "resources" / "icons" / "nnviz.svg").unlink()
    found = "\n".join(check_bundle.check(bundle))
    assert "_internal/torch" in found and "libstdc++" in found
    assert "dangling symbolic link: _internal/libQt6Network.so.6" in found
    assert "missing: _internal/resources/icons/nnviz.svg" in found


@pytest.mark.parametrize("script", ["build.sh", "smoke_test.sh", "deb/build_deb.sh", "deb/postinst",
                                    "deb/postrm", "deb/nnviz-launcher.sh"])
def test_scripts_are_executable(script):
    path = PKG / script
    assert path.is_file() and path.stat().st_mode & 0o111, f"{script} is not executable"


def test_makefile_has_the_package_targets():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^package:.*\n\tpackaging/build\.sh$", makefile, re.MULTILINE)
    assert re.search(r"^package-test:.*\n\tpackaging/smoke_test\.sh$", makefile, re.MULTILINE)


def test_other_systems_declare_the_nnviz_document_type():
    iss = (PKG / "windows" / "nnviz.iss").read_text()
    assert "{app}\\nnviz.exe" in iss and "{uninstallexe}" in iss
    assert 'Subkey: "Software\\Classes\\.nnviz"' in iss and "shell\\open\\command" in iss
    spec = (PKG / "nnviz.spec").read_text()
    assert "CFBundleDocumentTypes" in spec and '"public.filename-extension": ["nnviz"]' in spec


def test_windows_and_macos_icons_hold_every_size(tmp_path, qapp):
    from PySide6.QtGui import QImageReader

    icons = _load(PKG / "icons.py")
    for path, sizes in zip(icons.write(tmp_path), (icons.ICO_SIZES, [s for _, s in icons.ICNS_TYPES]),
                           strict=True):
        reader = QImageReader(str(path))
        assert reader.imageCount() == len(sizes), path.name
        read = []
        for i in range(reader.imageCount()):
            assert reader.jumpToImage(i)
            image = reader.read()
            assert not image.isNull(), f"{path.name} image {i}: {reader.errorString()}"
            read.append(image.width())
        assert read == list(sizes), path.name
