#!/usr/bin/env bash
# The test suite (doctests included), in two processes. Pass --slow to run only the long real-data
# tests and the QGIS test.
source "$(dirname "$0")/_env.sh"

# apt_install WHAT CHECK [OPTION] PACKAGE...: install Debian packages for a test unless CHECK succeeds.
apt_install() {
  local what="$1" check="$2"; shift 2
  eval "$check" >/dev/null 2>&1 && return
  local sudo=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  echo "installing $what for its test (apt-get install $*) ..." >&2
  { $sudo apt-get install -y -q "$@" || { $sudo apt-get update -q && $sudo apt-get install -y -q "$@"; }; } \
    >/dev/null 2>&1 \
    || echo "could not install $what: its test will be skipped" >&2
}

# The HTML map is tested in a real headless browser: Debian's Chromium.
apt_install Chromium "command -v chromium" chromium
if [ "${1:-}" = "--slow" ]; then
  shift
  # The QGIS test opens a grid package in QGIS itself: Debian's PyQGIS (about 1 GB).
  apt_install QGIS "/usr/bin/python3 -c 'import qgis.core'" --no-install-recommends python3-qgis qgis-providers
  exec .venv/bin/python -m pytest -m slow "$@"
fi
# Two processes (pytest-xdist), one per core of a CI machine: the suite takes half the time
# (303 s on a fresh clone, against 594-623 s in one). Pass -n 0 to run it in one process.
exec .venv/bin/python -m pytest -n 2 "$@"
