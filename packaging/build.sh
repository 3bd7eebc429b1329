#!/usr/bin/env bash
# `make package`: the Linux bundle, tarball and .deb, from a clean virtual environment.
#
#   dist/nnviz/                              the PyInstaller one-folder bundle (dist/nnviz/nnviz)
#   dist/nnviz-VERSION-linux-x86_64.tar.gz   that folder, packed
#   dist/nnviz_VERSION_amd64.deb             /opt/nnviz, /usr/bin/nnviz, desktop entry, icons, MIME type
#
# Environment: PYTHON (default python3, 3.11 or newer), PACKAGE_VENV (default build/package-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${PACKAGE_VENV:-build/package-venv}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' nnviz/__init__.py)
[ -n "$VERSION" ] || { echo "build.sh: no __version__ in nnviz/__init__.py" >&2; exit 1; }
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "build.sh: builds on Linux x86_64 only" >&2; exit 1; }
for tool in dpkg-deb tar readelf objdump; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (apt-get install dpkg tar binutils)" >&2; exit 1; }
done
TARBALL="dist/nnviz-$VERSION-linux-x86_64.tar.gz"
DEB="dist/nnviz_${VERSION}_amd64.deb"

step() { printf '\n== [%3ds] %s\n' "$SECONDS" "$*"; }

step "clean virtual environment $VENV ($($PYTHON --version))"
rm -rf "$VENV" build/pyinstaller build/deb dist/nnviz "$TARBALL" "$DEB"
$PYTHON -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --quiet --disable-pip-version-check)
# nnviz itself (not editable) pulls PySide6-Essentials with pyproject.toml's pin, NumPy, pyqtgraph.
"${PIP[@]}" install . "pyinstaller>=6.10,<7"
"$VENV/bin/python" packaging/check_venv.py

step "PyInstaller one-folder bundle"
# "Library not found" warnings name system libraries that are deliberately not bundled
# (the .deb's Depends provides them; make package-test checks that list is complete).
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/nnviz.spec
"$VENV/bin/python" packaging/check_bundle.py dist/nnviz

step "tarball"
tar -C dist --owner=0 --group=0 --numeric-owner -czf "$TARBALL" nnviz

step "Debian package"
packaging/deb/build_deb.sh "$VERSION" dist/nnviz "$DEB"

step "done in ${SECONDS} s"
du -sh dist/nnviz "$TARBALL" "$DEB"
