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


def case_args(doc, cases):
    """The usual benchmark arguments: ``--only CASE`` and the hidden ``--child CASE PEER``."""
    import argparse

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=list(cases))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return ap.parse_args()
