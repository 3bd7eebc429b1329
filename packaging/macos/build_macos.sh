#!/usr/bin/env bash
# macOS: nnviz.app and a DMG, on a Mac. NOT BUILT OR TESTED in this project (Linux only);
# see packaging/README.md.
#
#   packaging/macos/build_macos.sh      # from the repository root, with python3 >= 3.11
#
# Writes dist/nnviz.app (PyInstaller BUNDLE from packaging/nnviz.spec, with the .nnviz
# document type and the org.nnviz.network UTI in its Info.plist) and
# dist/nnviz-VERSION-macos-ARCH.dmg (the app and an /Applications link, for dragging).
# The app is signed ad hoc by PyInstaller; for distribution, set CODESIGN_IDENTITY to a
# "Developer ID Application" identity and notarise the DMG afterwards (README).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = Darwin ] || { echo "build_macos.sh: run this on macOS" >&2; exit 1; }

PYTHON=${PYTHON:-python3}
VENV=${PACKAGE_VENV:-build/package-venv}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' nnviz/__init__.py)
ARCH=$(uname -m)
APP=dist/nnviz.app
DMG="dist/nnviz-$VERSION-macos-$ARCH.dmg"

echo "== clean virtual environment $VENV"
rm -rf "$VENV" build/pyinstaller dist/nnviz "$APP" "$DMG"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet . "pyinstaller>=6.10,<7"
"$VENV/bin/python" packaging/check_venv.py

echo "== PyInstaller: $APP"
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/nnviz.spec
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$APP"
fi

echo "== smoke test"
EXE="$APP/Contents/MacOS/nnviz"
"$EXE" --version
"$EXE" train --data spiral --steps 100 --out "build/macos-smoke.nnviz" --quiet
QT_QPA_PLATFORM=offscreen "$EXE" --self-test
"$EXE" --self-test  # the real Cocoa window
/usr/libexec/PlistBuddy -c "Print :CFBundleDocumentTypes:0:LSItemContentTypes:0" "$APP/Contents/Info.plist"

echo "== DMG: $DMG"
STAGE=build/dmg
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "nnviz $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
hdiutil verify "$DMG"
du -sh "$APP" "$DMG"
