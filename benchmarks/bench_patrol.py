"""Patrol coverage (metres and minutes per cell) against the geopandas and TransBigData recipes, same run.

Cases
-----
``cambridge``  100 grid workers × 4 h, a fix every 5 s (282,274 fixes), walking
               Cambridge's real street centre lines (``_tracks.py``: 3 m GPS noise,
               some 6–15 min breaks, one fix in two hundred-odd metres off per
               half the workers), against the demo's street-bounded layout (2,550
               cells; the walkers are on cell edges all the time).
``futian``     300 workers × 8 h at 5 s (about 1.7 M fixes: a district's day)
               along Futian's real OpenStreetMap streets, against Futian's unit
               grid (CGCS2000 GK zone 38).

Layouts and fixes are made once and cached in ``benchmarks/results/cache``; each
peer reads the fixes (Parquet: worker, time, x, y in the layout's CRS) and the
cells (its package) in its timing.

Peers
-----
``gridkit``        ``Locator.from_package`` + ``patrol_coverage``: segments cut
                   exactly where they cross a cell's edge, breaks (> 5 min) and
                   jumps (> 150 km/h) not credited; metres, minutes, entries,
                   tracks, first and last time per cell.
``geopandas``      the recipe: segments of consecutive fixes per worker
                   (``shapely.linestrings``), the same breaks and jumps left out,
                   ``geopandas.overlay(how="intersection")`` with the cells, each
                   piece's length and its share of the segment's time summed per
                   cell: the same metres and minutes (no entries, no times).
``transbigdata``   ``tbd.traj_densify(timegap=1)`` (a fix each second, drawn
                   straight between fixes) + ``sjoin`` within the cells: seconds
                   per cell by counting. Breaks and jumps are drawn through, so its
                   minutes differ; no metres.

    python benchmarks/bench_patrol.py                 # every case
    python benchmarks/bench_patrol.py --only cambridge
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from _children import by_case, run_benchmark

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results" / "cache"
SAMPLES = HERE.parent / "data" / "samples"
FUTIAN = HERE.parents[1] / "shared" / "data" / "shenzhen_futian" / "futian_osm_network.gpkg"
CASES = {"cambridge": dict(workers=100, hours=4.0, every_s=5.0, seed=1),
         "futian": dict(workers=300, hours=8.0, every_s=5.0, seed=1)}
MAX_GAP_S, MAX_SPEED_MS = 300.0, 150 / 3.6


def _paths(case):
    return CACHE / f"patrol_{case}_grid.gpkg", CACHE / f"patrol_{case}_fixes.parquet"


def _prepare(case):
    """The case's layout (a grid package with its locator index) and fixes, made once."""
    import geopandas as gpd
    import shapely

    import gridkit as gk
    from _tracks import street_walks
    from gridkit.locator import Locator

    grid, fixes = _paths(case)
    if grid.exists() and fixes.exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    if case == "cambridge":
        streets = gk.read_vector(SAMPLES / "cambridge_centerlines.gpkg")
        comm = gk.unit_hierarchy(gk.read_vector(SAMPLES / "cambridge_neighborhoods.gpkg"), barriers=streets,
                                 name_field="NAME", provisional=True, parent_code="990101")
        cells = gk.unit_grid(comm, barriers=streets)
    else:
        streets = gpd.read_file(FUTIAN, layer="edges")
        comm = gk.unit_hierarchy(gk.read_vector(SAMPLES / "futian_wgs84.gpkg"), code_field="adcode",
                                 provisional=True)
        cells = gk.unit_grid(comm)
    gk.write_package(grid, cells, comm, overwrite=True)
    Locator.from_package(grid)  # its index, saved beside it
    lines = shapely.get_parts(shapely.line_merge(streets.to_crs(cells.crs).geometry.values))
    walks = street_walks(lines[shapely.length(lines) > 0], **CASES[case])
    walks.to_parquet(fixes)


def _read(case):
    import pandas as pd

    return pd.read_parquet(_paths(case)[1])


def run_gridkit(case):
    from gridkit.locator import Locator
    from gridkit.patrol import patrol_coverage

    t0 = time.perf_counter()
    fixes = _read(case)
    locator = Locator.from_package(_paths(case)[0])
    table, summary = patrol_coverage(locator, fixes["x"].to_numpy(), fixes["y"].to_numpy(), times=fixes["time"],
                                     tracks=fixes["worker"], max_gap=MAX_GAP_S, max_speed=MAX_SPEED_MS)
    seconds = time.perf_counter() - t0
    return seconds, dict(rows=len(fixes), cells=len(table), metres=round(float(table["metres"].sum()), 1),
                         minutes=round(float(table["minutes"].sum()), 1))


def run_geopandas(case):
    import geopandas as gpd
    import shapely

    t0 = time.perf_counter()
    fixes = _read(case).sort_values(["worker", "time"], kind="stable").reset_index(drop=True)
    cells = gpd.read_file(_paths(case)[0], layer="cells")[["grid_id", "geometry"]]
    xy = fixes[["x", "y"]].to_numpy()
    dt = fixes["time"].diff().dt.total_seconds().to_numpy()[1:]
    length = np.hypot(*np.diff(xy, axis=0).T)
    same = (fixes["worker"].to_numpy()[1:] == fixes["worker"].to_numpy()[:-1])
    walked = np.flatnonzero(same & (dt <= MAX_GAP_S) & (length <= MAX_SPEED_MS * np.maximum(dt, 1.0)))
    segments = gpd.GeoDataFrame({"seconds": dt[walked], "length": length[walked]},
                                geometry=shapely.linestrings(np.stack([xy[walked], xy[walked + 1]], axis=1)),
                                crs=cells.crs)
    pieces = gpd.overlay(segments, cells, how="intersection", keep_geom_type=True)
    pieces["metres"] = pieces.length
    pieces["minutes"] = np.where(pieces["length"] > 0, pieces["seconds"] * pieces["metres"] / pieces["length"].where(
        pieces["length"] > 0, 1.0), pieces["seconds"]) / 60
    table = pieces.groupby("grid_id")[["metres", "minutes"]].sum()
    seconds = time.perf_counter() - t0
    return seconds, dict(rows=len(fixes), cells=len(table), metres=round(float(table["metres"].sum()), 1),
                         minutes=round(float(table["minutes"].sum()), 1))


def run_transbigdata(case):
    import geopandas as gpd
    import transbigdata as tbd

    t0 = time.perf_counter()
    fixes = _read(case)
    n = len(fixes)
    cells = gpd.read_file(_paths(case)[0], layer="cells")[["grid_id", "geometry"]]
    dense = tbd.traj_densify(fixes.rename(columns={"worker": "Vehicleid", "time": "Time", "x": "Lng", "y": "Lat"}),
                             timegap=1)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dense["Lng"], dense["Lat"]), crs=cells.crs)
    joined = gpd.sjoin(points, cells, predicate="within")
    table = joined.groupby("grid_id").size()
    seconds = time.perf_counter() - t0
    return seconds, dict(rows=n, cells=len(table), minutes=round(float(table.sum()) / 60, 1), densified=len(dense))


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas, "transbigdata": run_transbigdata}


def main():
    rows = run_benchmark(__doc__, __file__, CASES, PEERS, prepare=_prepare, rate="M fixes/s",
                         notes=("cells", "metres", "minutes", "densified"))
    if rows is None:
        return
    for case, by_peer in by_case(rows):
        mine, recipe = by_peer.get("gridkit"), by_peer.get("geopandas")
        if mine and recipe:
            print(f"{case}: gridkit and geopandas agree on {mine['cells']:,} cells: metres "
                  f"{mine['metres']:,.1f} / {recipe['metres']:,.1f}, minutes {mine['minutes']:,.1f} / "
                  f"{recipe['minutes']:,.1f}")


if __name__ == "__main__":
    main()
