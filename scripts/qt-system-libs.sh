#!/usr/bin/env bash
# Qt's xcb platform plugin (a real window on Linux/X11) needs these system libraries.
# Installs them with apt-get when run as root on Debian/Ubuntu; otherwise names them.
set -u
[ "$(uname -s)" = "Linux" ] || exit 0
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "${QT_QPA_PLATFORM:-}" = "xcb" ] || exit 0
libs=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
      libxcb-xinerama0 libxkbcommon-x11-0 libxcb-xkb1 libxcb-shape0 libegl1 libfontconfig1)
command -v dpkg >/dev/null || exit 0
missing=()
for lib in "${libs[@]}"; do dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing the system libraries Qt needs for a window: ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null \
    || { echo "Could not install: ${missing[*]}" >&2; exit 1; }
else
  echo "Qt needs these system libraries for a window; install them with:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
