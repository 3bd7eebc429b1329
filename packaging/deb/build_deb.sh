#!/usr/bin/env bash
# Build the .deb from a finished one-folder bundle.
#
#   packaging/deb/build_deb.sh VERSION BUNDLE_DIR OUT.deb
#
# Layout: /opt/nnviz (the bundle), /usr/bin/nnviz (launcher), the desktop entry, the icon
# in hicolor (PNGs and SVG), the MIME type for .nnviz files, and the copyright file.
# Files are owned by root in the package (dpkg-deb --root-owner-group) without fakeroot.
# NNVIZ_DEB_MAINTAINER sets the Maintainer field.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: build_deb.sh VERSION BUNDLE_DIR OUT.deb" >&2; exit 2; }
VERSION=$1 BUNDLE=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RES="$ROOT/resources"
[ -x "$BUNDLE/nnviz" ] || { echo "build_deb.sh: $BUNDLE/nnviz is not a built bundle" >&2; exit 1; }

STAGE="$ROOT/build/deb/nnviz_${VERSION}_amd64"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/mime/packages" "$STAGE/usr/share/doc/nnviz" \
         "$STAGE/usr/share/icons/hicolor/scalable/apps"

cp -a "$BUNDLE" "$STAGE/opt/nnviz"
install -m 0755 "$HERE/nnviz-launcher.sh" "$STAGE/usr/bin/nnviz"
install -m 0644 "$RES/nnviz.desktop" "$STAGE/usr/share/applications/nnviz.desktop"
install -m 0644 "$RES/nnviz-mime.xml" "$STAGE/usr/share/mime/packages/nnviz.xml"
install -m 0644 "$RES/icons/nnviz.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/nnviz.svg"
for png in "$RES"/icons/nnviz-*.png; do
  size=$(basename "$png" .png); size=${size#nnviz-}
  install -D -m 0644 "$png" "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/nnviz.png"
done
install -m 0644 "$HERE/copyright" "$STAGE/usr/share/doc/nnviz/copyright"

# Debian wants directories 0755 and files 0644 or 0755, whatever the umask was.
find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -type f ! -perm -u+x -exec chmod 0644 {} +
find "$STAGE" -type f -perm -u+x -exec chmod 0755 {} +

installed_kb=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
maintainer=${NNVIZ_DEB_MAINTAINER:-nnviz developers <nnviz@users.noreply.invalid>}
# libc6 and libstdc++6 minimum versions from the symbol versions the bundle actually uses
runtime=$(python3 "$HERE/elfdeps.py" versions "$BUNDLE")
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$installed_kb/" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s/@RUNTIME_DEPENDS@/$runtime/" "$HERE/control.in" > "$STAGE/DEBIAN/control"
install -m 0755 "$HERE/postinst" "$STAGE/DEBIAN/postinst"
install -m 0755 "$HERE/postrm" "$STAGE/DEBIAN/postrm"

mkdir -p "$(dirname "$OUT")"
dpkg-deb --root-owner-group -Zxz -z6 --build "$STAGE" "$OUT"
