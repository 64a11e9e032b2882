"""Every example in every command's --help runs, as written, on the shipped samples.

The examples are read from the commands' own help (so the test follows them), then
run through bash from a work folder where ``data/`` is the checkout's. Commands run
in the order a user meets them, so later examples find what earlier ones wrote
(``demo-output/``, ``routing.toml``, ``located.parquet``); the top-level examples
run on their own in a fresh folder.
"""

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from gridkit_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["demo", "grid units", "grid households", "grid rebalance", "grid recut", "check", "info", "components import",
         "components show", "components stats", "components check", "components departments", "components reassign",
         "components convert", "components classes", "route starter", "route check",
         "locate", "patrol", "map", "export", "grid adopt", "serve"]


def _commands(command=cli, path=()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def _examples(command):
    ctx = click.Context(command, info_name="gridkit", terminal_width=200)
    lines, out = command.get_help(ctx).splitlines(), []
    i = 0
    while i < len(lines):
        text = lines[i].strip()
        if text.startswith("gridkit ") and lines[i].startswith("    "):
            while text.endswith("\\"):
                i += 1
                text = text[:-1].rstrip() + " " + lines[i].strip()
            out.append(text)
        i += 1
    return out


EXAMPLES = {" ".join(path): _examples(command) for path, command in _commands()}


def test_every_command_has_an_example():
    missing = [name for name, examples in EXAMPLES.items() if not examples and name not in ("components", "grid",
                                                                                              "route")]
    assert missing == []
    assert sorted(name for name in EXAMPLES if EXAMPLES[name] and name) == sorted(ORDER)


#: Commands whose exit status 1 reports what they found: the demo's catalogue breaks the
#: standard's field table (no department credit codes, provisional grid IDs).
FINDINGS = ("gridkit components check ",)


def _run(examples, cwd):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg"}
    for example in examples:
        done = subprocess.run(["bash", "-c", example], cwd=cwd, env=env, capture_output=True, text=True)
        allowed = (0, 1) if example.startswith(FINDINGS) else (0,)
        assert done.returncode in allowed, f"{example}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


@pytest.mark.skipif(not (Path(sys.executable).parent / "gridkit").exists(), reason="gridkit not installed")
def test_help_examples_run(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "data").symlink_to(ROOT / "data")
    _run([example for name in ORDER for example in EXAMPLES[name]], work)
    for made in ("demo-output/cambridge.gpkg", "dongcheng.gpkg", "cincinnati.gpkg", "cincinnati_now.gpkg",
                 "converted.csv", "routing.toml", "located.csv", "located.parquet", "relocated.parquet", "dongcheng.html",
                 "dongcheng_amap.geojson", "cincinnati_cells.shp", "c601.shp", "components.csv",
                 "cincinnati_from_csv.gpkg", "cambridge_recut.gpkg"):
        assert (work / made).exists(), made
    top = tmp_path / "top"
    top.mkdir()
    (top / "data").symlink_to(ROOT / "data")
    _run(EXAMPLES[""], top)
    assert (top / "dongcheng.html").exists() and (top / "demo-output" / "dongcheng.gpkg").exists()
