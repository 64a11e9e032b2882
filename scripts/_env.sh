# Shared by demo.sh and test.sh: make .venv and install gridkit (with extras) into it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet ".[${GRIDKIT_EXTRAS:-test}]"
