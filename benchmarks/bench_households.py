"""balanced_grid against the peers a planner would try, same blocks, same run.

Input: Cincinnati's 457 census blocks with real household counts, one unit (the
city), band 300–500 (and --band to change it). Peers, each in a fresh subprocess:

* gridkit ``balanced_grid`` (blocks may be split: ``split_polygons``), and without splitting;
* METIS via ``pymetis`` (k = households / mid-band, household counts as vertex weights,
  rook contiguity from shared edges);
* PySAL spopt ``MaxPHeuristic`` (the lower bound as threshold).

Reported: time, peak RSS, grids, in-band %, household CV, contiguous share
(single polygons), mean Polsby–Popper.

    python benchmarks/bench_households.py [--band 300 500]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from _children import run_child

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cincinnati_households" / "cincinnati_blocks.gpkg"


def _blocks():
    import gridkit as gk

    blocks = gk.read_vector(DATA, layer="blocks")
    return blocks.to_crs(32616).reset_index(drop=True)  # UTM 16N: metres


def _score(geoms, households, low, high):
    import numpy as np
    import shapely

    from gridkit.households import polsby_popper

    hh = np.asarray(households, dtype=float)
    return {"grids": len(geoms), "in_band_pct": round(100 * float(((hh >= low) & (hh <= high)).mean()), 1),
            "cv": round(float(hh.std() / hh.mean()), 3),
            "contiguous_pct": round(100 * float((shapely.get_type_id(geoms) == 3).mean()), 1),
            "polsby_popper": round(float(polsby_popper(geoms).mean()), 3)}


def _dissolve(blocks, labels):
    import numpy as np
    import shapely

    labels = np.asarray(labels)
    groups = np.unique(labels)
    geoms = np.array([shapely.union_all(blocks.geometry.values[labels == g]) for g in groups], dtype=object)
    hh = np.array([blocks["HOUSEHOLDS"].to_numpy()[labels == g].sum() for g in groups])
    return geoms, hh


def run_gridkit(low, high, split=True):
    import geopandas as gpd

    import gridkit as gk
    from gridkit.households import balanced_grid

    blocks = _blocks()
    t = time.perf_counter()
    city = gpd.GeoDataFrame({"name": ["Cincinnati"]}, geometry=[blocks.union_all()], crs=blocks.crs)
    comm = gk.unit_hierarchy(city, provisional=True, parent_code="990201")
    layout = balanced_grid(comm, blocks, min_households=low, max_households=high, count_field="HOUSEHOLDS",
                           split_polygons=split)
    seconds = time.perf_counter() - t
    return seconds, _score(layout.grids.geometry.values, layout.grids["households"], low, high)


def _rook(blocks):
    import shapely

    from gridkit.merge import shared_edge_lengths

    g = blocks.geometry.values
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    ok = shared_edge_lengths(g[a], g[b]) > 0
    return a[ok], b[ok]


def run_pymetis(low, high):
    import pymetis

    blocks = _blocks()
    t = time.perf_counter()
    a, b = _rook(blocks)
    n = len(blocks)
    adj = [[] for _ in range(n)]
    for i, j in zip(a, b):
        adj[i].append(int(j))
        adj[j].append(int(i))
    hh = blocks["HOUSEHOLDS"].to_numpy()
    k = max(2, int(round(hh.sum() / ((low + high) / 2))))
    _, parts = pymetis.part_graph(k, adjacency=adj, vweights=[int(max(w, 0)) for w in hh])
    geoms, households = _dissolve(blocks, parts)
    seconds = time.perf_counter() - t
    return seconds, _score(geoms, households, low, high)


def run_spopt(low, high):
    import libpysal
    from spopt.region import MaxPHeuristic

    blocks = _blocks()
    t = time.perf_counter()
    w = libpysal.weights.Rook.from_dataframe(blocks, use_index=False, silence_warnings=True)
    blocks["_x"] = blocks.geometry.centroid.x
    model = MaxPHeuristic(blocks, w, ["_x"], "HOUSEHOLDS", low, top_n=2, max_iterations_construction=99)
    model.solve()
    geoms, households = _dissolve(blocks, model.labels_)
    seconds = time.perf_counter() - t
    return seconds, _score(geoms, households, low, high)


PEERS = {"gridkit": run_gridkit, "gridkit_nosplit": lambda lo, hi: run_gridkit(lo, hi, split=False),
         "pymetis": run_pymetis, "spopt_maxp": run_spopt}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--band", nargs=2, type=float, default=[300, 500])
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    low, high = args.band
    if args.child:
        seconds, score = PEERS[args.child](low, high)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"peer": args.child, "seconds": seconds, "peak_mb": peak, **score}))
        return
    rows = []
    for peer in PEERS:
        rows.append(run_child(__file__, [peer, "--band", low, high], {"peer": peer}))
    base = next(r["seconds"] for r in rows if r["peer"] == "gridkit")
    print(f"band {low:g}–{high:g}")
    print(f"{'peer':16s} {'seconds':>8s} {'× gridkit':>9s} {'peak MB':>8s} {'grids':>6s} {'in band %':>9s} "
          f"{'CV':>6s} {'contig %':>8s} {'PP':>6s}")
    for r in rows:
        if "error" in r:
            print(f"{r['peer']:16s} error: {r['error']}")
            continue
        print(f"{r['peer']:16s} {r['seconds']:8.2f} {r['seconds'] / base:9.2f} {r['peak_mb']:8.0f} {r['grids']:6d} "
              f"{r['in_band_pct']:9.1f} {r['cv']:6.3f} {r['contiguous_pct']:8.1f} {r['polsby_popper']:6.3f}")


if __name__ == "__main__":
    main()
