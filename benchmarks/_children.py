"""Run one benchmark peer in a fresh subprocess, so time and peak RSS are its own."""

from __future__ import annotations

import json
import subprocess
import sys


def run_child(script, args, label):
    """Run ``script --child *args``; its last stdout line is a JSON row. A failure
    becomes ``{**label, "error": last stderr line}``. The row is echoed to stderr."""
    out = subprocess.run([sys.executable, script, "--child", *map(str, args)], capture_output=True, text=True)
    if out.returncode:
        row = {**label, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    else:
        row = json.loads(out.stdout.strip().splitlines()[-1])
    print(row, file=sys.stderr)
    return row
