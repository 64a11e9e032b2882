#!/usr/bin/env bash
# The test suite (doctests included). Pass --slow to run only the long real-data tests.
source "$(dirname "$0")/_env.sh"
if [ "${1:-}" = "--slow" ]; then
  shift
  exec .venv/bin/python -m pytest -m slow "$@"
fi
exec .venv/bin/python -m pytest "$@"
