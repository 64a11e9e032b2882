"""unit_grid against what a user would otherwise run, same boundary, same run.

Peers: geopandas fishnet + ``overlay`` (and + ``clip``), TransBigData
``area_to_grid``, ``h3.polygon_to_cells``. ``gridkit_h3`` is gridkit's H3 grid
(``shape="h3"``, resolution 10 for 10,000 m²) beside ``h3.polygon_to_cells`` at
that resolution, which returns cell IDs whose centres lie inside (no polygons, no
clipping, the boundary's cells partly left out); gridkit clips every cell that
overlaps and checks that none is missed. Reports time, peak memory (tracemalloc
of the Python heap plus GEOS allocations seen by the process' max RSS growth is
not separable here, so peak RSS of a fresh subprocess is used) and the ratio.

    python benchmarks/bench_unit_grid.py                 # Dongcheng + Beijing
    python benchmarks/bench_unit_grid.py --only changping
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import case_args, print_child_row, run_cases

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg"

CASES = {
    "dongcheng": "adcode == '110101'",
    "changping": "adcode == '110114'",  # 1,344 km²: the overlay comparison's scale
    "beijing": "adcode.str.startswith('11') and level == '区县'",
}


def _boundary(case):
    import gridkit as gk

    g = gk.read_vector(DATA, crs="gcj02")
    return g.query(CASES[case], engine="python")


def run_gridkit(case):
    import gridkit as gk

    g = _boundary(case)
    t = time.perf_counter()
    comm = gk.unit_hierarchy(g, code_field="adcode", provisional=True)
    cells = gk.unit_grid(comm)
    return time.perf_counter() - t, len(cells)


def run_gridkit_h3(case):
    import gridkit as gk

    g = _boundary(case)
    t = time.perf_counter()
    comm = gk.unit_hierarchy(g, code_field="adcode", provisional=True)
    cells = gk.unit_grid(comm, shape="h3")
    return time.perf_counter() - t, len(cells)


def _fishnet(g, side=100.0):
    import numpy as np
    import geopandas as gpd
    import shapely

    minx, miny, maxx, maxy = g.total_bounds
    xs = np.arange(np.floor(minx / side) * side, maxx, side)
    ys = np.arange(np.floor(miny / side) * side, maxy, side)
    x, y = np.meshgrid(xs, ys)
    return gpd.GeoDataFrame(geometry=shapely.box(x.ravel(), y.ravel(), x.ravel() + side, y.ravel() + side), crs=g.crs)


def run_overlay(case):
    import geopandas as gpd

    g = _boundary(case).to_crs(4548)
    t = time.perf_counter()
    cells = gpd.overlay(_fishnet(g), g[["adcode", "geometry"]], how="intersection")
    return time.perf_counter() - t, len(cells)


def run_clip(case):
    import geopandas as gpd

    g = _boundary(case).to_crs(4548)
    t = time.perf_counter()
    cells = gpd.clip(_fishnet(g), g)
    return time.perf_counter() - t, len(cells)


def run_transbigdata(case):
    import transbigdata as tbd

    g = _boundary(case).to_crs(4326)
    t = time.perf_counter()
    grid, params = tbd.area_to_grid(g, accuracy=100)
    return time.perf_counter() - t, len(grid)


def run_h3(case):
    import h3
    import shapely

    g = _boundary(case).to_crs(4326)
    t = time.perf_counter()
    n = 0
    for geom in g.geometry:
        for part in shapely.get_parts(geom):
            n += len(h3.polygon_to_cells(h3.geo_to_h3shape(part.__geo_interface__), 10))
    return time.perf_counter() - t, n


PEERS = {"gridkit": run_gridkit, "geopandas_overlay": run_overlay, "geopandas_clip": run_clip,
         "transbigdata": run_transbigdata, "gridkit_h3": run_gridkit_h3, "h3_polygon_to_cells": run_h3}
SKIP = {("beijing", "geopandas_overlay"), ("beijing", "geopandas_clip"),  # minutes and >10 GB
        ("beijing", "gridkit_h3"),  # shown on Dongcheng and Changping
        ("changping", "transbigdata")}  # ~1 min per 100 k cells, shown at Beijing scale


def main():
    args = case_args(__doc__, CASES)
    if args.child:
        case, peer = args.child
        seconds, n = PEERS[peer](case)
        return print_child_row(case, peer, seconds, cells=n)
    rows = run_cases(__file__, CASES, PEERS, only=args.only, skip=SKIP)
    print(f"{'case':10s} {'peer':22s} {'cells':>10s} {'seconds':>9s} {'peak MB':>8s} {'× gridkit':>10s}")
    for case in dict.fromkeys(r["case"] for r in rows):
        base = next(r["seconds"] for r in rows if r["case"] == case and r["peer"] == "gridkit")
        for r in (r for r in rows if r["case"] == case):
            if "error" in r:
                print(f"{case:10s} {r['peer']:22s} error: {r['error']}")
                continue
            print(f"{case:10s} {r['peer']:22s} {r['cells']:10,d} {r['seconds']:9.2f} {r['peak_mb']:8.0f} "
                  f"{r['seconds'] / base:10.1f}")


if __name__ == "__main__":
    main()
