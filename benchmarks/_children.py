"""Run one benchmark peer in a fresh subprocess, so time and peak RSS are its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time


def _compile_gridkit():
    """Write the bytecode of gridkit and its CLI, as a non-editable install does, or
    the first import of an editable one. Where ``PYTHONDONTWRITEBYTECODE`` is set
    (as on the machines this project is measured on), every child would otherwise
    compile gridkit's sources again inside its clock, 0.05-0.13 s, while the peers'
    site-packages hold their bytecode since pip installed them."""
    import compileall
    from importlib.util import find_spec

    for name in ("gridkit", "gridkit_cli"):
        spec = find_spec(name)
        for folder in spec.submodule_search_locations if spec else ():
            compileall.compile_dir(folder, quiet=2)


def run_child(script, args, label, *, timeout=None):
    """Run ``script --child *args``; its last stdout line is a JSON row. A failure
    becomes ``{**label, "error": last stderr line}`` (or the signal that killed it),
    running past ``timeout`` seconds ``{**label, "error": "timed out …"}``. The row
    is echoed to stderr. gridkit's bytecode is written first (:func:`_compile_gridkit`)."""
    _compile_gridkit()
    try:
        out = subprocess.run([sys.executable, script, "--child", *map(str, args)], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        row = {**label, "error": f"timed out after {timeout:g} s"}
        print(row, file=sys.stderr)
        return row
    if out.returncode < 0:  # killed by a signal: a crash in the peer's native code
        row = {**label, "error": f"crashed ({signal.Signals(-out.returncode).name})"}
    elif out.returncode:
        row = {**label, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    else:
        row = json.loads(out.stdout.strip().splitlines()[-1])
    print(row, file=sys.stderr)
    return row


def by_case(rows):
    """``(case, {peer: row})`` for each case of ``rows`` in order, the failed rows left out."""
    for case in dict.fromkeys(r["case"] for r in rows):
        yield case, {r["peer"]: r for r in rows if r["case"] == case and "error" not in r}


def case_args(doc, cases):
    """The usual benchmark arguments: ``--only CASE`` and the hidden ``--child CASE PEER``."""
    import argparse

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=list(cases))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return ap.parse_args()


def run_cases(script, cases, peers, *, only=None, skip=(), prepare=None):
    """Run every (case, peer) not in ``skip`` through :func:`run_child`; ``prepare(case)``
    first builds a case's inputs, outside any timing."""
    rows = []
    for case in [only] if only else list(cases):
        if prepare:
            prepare(case)
        for peer in peers:
            if (case, peer) not in skip:
                rows.append(run_child(script, [case, peer], {"case": case, "peer": peer}))
    return rows


def print_child_row(case, peer, seconds, **info):
    """A child's result row on stdout, with its own peak RSS (MB)."""
    peak = _peak_rss_mb()
    print(json.dumps({"case": case, "peer": peer, "seconds": seconds, "peak_mb": peak, **info}))


def _peak_rss_mb():
    """This process's own peak RSS. ``ru_maxrss`` survives ``exec`` (it would report the
    parent's size at fork time), so read the memory map's high-water mark instead."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_of(n, run, *, within=None):
    """Run ``run()`` ``n`` times; the fastest ``(seconds, result)``. The first call pays
    for fresh memory pages that later calls reuse, as a long-running service would.
    With ``within`` (seconds), stop repeating once the runs so far took that long."""
    best, spent = None, 0.0
    for _ in range(n):
        t = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - t
        if best is None or seconds < best[0]:
            best = (seconds, result)
        spent += seconds
        if within is not None and spent > within:
            break
    return best


def run_benchmark(doc, script, cases, peers, *, prepare=None, notes=(), rate="M rows/s", skip=()):
    """The whole main of a peers benchmark: a child runs one peer and prints its row;
    the parent runs every (case, peer) not in ``skip``, prints the table and returns
    the rows (``None`` in a child). ``notes`` are the row keys shown at the end of a line."""
    args = case_args(doc, cases)
    if args.child:
        case, peer = args.child
        seconds, info = peers[peer](case)
        print_child_row(case, peer, seconds, **info)
        return None
    rows = run_cases(script, cases, peers, only=args.only, prepare=prepare, skip=skip)
    # The ratio: a row's time over the time of the case's first peer (gridkit) on the same rows.
    first = next(iter(peers))
    ref = {r["case"]: r for r in rows if r["peer"] == first and "error" not in r}
    width = max([10, *(len(r["case"]) for r in rows)])
    print(f"{'case':{width}s} {'peer':17s} {'rows':>11s} {'seconds':>8s} {rate:>9s} {'peak MB':>8s} "
          f"{'× ' + first:>10s}  notes")
    for r in rows:
        if "error" in r:
            print(f"{r['case']:{width}s} {r['peer']:17s} error: {r['error']}")
            continue
        shown = {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items() if k in notes}
        base = ref.get(r["case"])
        ratio = f"{r['seconds'] / base['seconds']:9.2f}×" if base and base["rows"] == r["rows"] else f"{'–':>10s}"
        print(f"{r['case']:{width}s} {r['peer']:17s} {r['rows']:11,d} {r['seconds']:8.2f} "
              f"{r['rows'] / r['seconds'] / 1e6:9.2f} {r['peak_mb']:8.0f} {ratio}  "
              f"{json.dumps(shown, ensure_ascii=False)}")
    return rows


def split_cells(cells, rows):
    """``cells`` with each of ``rows`` split in two at the middle of its x range, as
    QGIS's Split Features leaves it: the west part in its row, the east part
    appended (in the order of ``rows``) with the same attributes, its ID too."""
    import pandas as pd
    import shapely

    geoms, parts = cells.geometry.values.copy(), []
    for i in rows:
        x0, y0, x1, y1 = geoms[i].bounds
        part = cells.iloc[[i]].copy()
        part["geometry"] = [shapely.clip_by_rect(geoms[i], (x0 + x1) / 2, y0, x1, y1)]
        parts.append(part)
        geoms[i] = shapely.clip_by_rect(geoms[i], x0, y0, (x0 + x1) / 2, y1)
    cells = cells.copy()
    cells.geometry = geoms
    return pd.concat([cells, *parts], ignore_index=True)


def fresh_copy(source, path):
    """A fresh copy of the package ``source`` at ``path``, for a peer to write into."""
    import shutil

    shutil.copy2(source, path)
    return path


def sjoin_near(pts, cells, metres):
    """The geopandas recipe for each point's nearest other cell within ``metres``:
    ``sjoin`` within for the point's own cell, ``sjoin`` dwithin for the cells near
    it, the other cells kept, ``shapely.distance``, the nearest per point (a row per
    point that has one, its ``grid_id`` the other cell's, ``near_m`` how far)."""
    import geopandas as gpd
    import shapely

    own = gpd.sjoin(pts, cells, how="inner", predicate="within")
    own = own[~own.index.duplicated()]["grid_id"]
    pairs = gpd.sjoin(pts.loc[own.index], cells, how="inner", predicate="dwithin", distance=metres)
    pairs = pairs[pairs["grid_id"].to_numpy() != own.loc[pairs.index].to_numpy()]
    pairs["near_m"] = shapely.distance(cells.geometry.values[pairs["index_right"].to_numpy()], pairs.geometry.values)
    return pairs.sort_values("near_m", kind="stable").groupby(level=0).head(1)
