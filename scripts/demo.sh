#!/usr/bin/env bash
# The demo on data/samples: grid packages (.gpkg) and PNG maps in demo-output/.
source "$(dirname "$0")/_env.sh"
.venv/bin/gridkit demo --out demo-output "$@"
