#!/usr/bin/env bash
# The test suite (doctests included). Pass --slow to run only the long real-data tests.
source "$(dirname "$0")/_env.sh"
# The HTML map is tested in a real headless browser: Debian's Chromium.
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  echo "installing Chromium (Debian package chromium) for the browser test ..." >&2
  { $sudo apt-get install -y -q chromium || { $sudo apt-get update -q && $sudo apt-get install -y -q chromium; }; } \
    >/dev/null 2>&1 || echo "could not install Chromium: the browser test will be skipped" >&2
fi
if [ "${1:-}" = "--slow" ]; then
  shift
  exec .venv/bin/python -m pytest -m slow "$@"
fi
exec .venv/bin/python -m pytest "$@"
