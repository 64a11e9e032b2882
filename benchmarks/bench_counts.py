"""Points per cell (``gridkit locate POINTS --grid … --counts counts.gpkg``) against the
geopandas recipe, same run.

Cases:

``lights``   Cambridge's 6,117 street lights (real: ``INFRA_StreetLights.geojson``,
             WGS84) counted in its street-bounded layout (``bench_patrol``'s
             Cambridge package, 2,550 cells).
``reports``  2,000,000 GPS points (WGS84, seeded, uniform over Dongcheng's bounding
             box: about half fall in a cell) as a CSV of ``id,lon,lat``
             (``bench_locate_file``'s), counted in Dongcheng's lattice (4,278 cells).

``lights_community``, ``reports_community``: the same points counted per
community (``--counts-per community``: the monthly table of cases per 社区, and its
map), every community written with its count and polygon.

``reports_month``: the 2,000,000 points with a time of acceptance (``受理时间``,
``2025-09-10 09:00:00`` on, 7 s apart: 6 months) counted per community and month
(``--counts-by 受理时间 --counts-per community``): a column per month. geopandas
reads the month with ``pd.to_datetime`` and counts it with ``pd.crosstab``.

Both peers read the points, find each one's cell, count them per cell and write
every cell of the layout with its codes, names and count to a GeoPackage (per
community: every community, its polygon and count):

* ``gridkit``: ``locate_file(points, package, None, counts=…)``, what ``gridkit
  locate POINTS --grid PACKAGE --counts counts.gpkg`` runs: the locator's index,
  then :func:`gridkit.counts.cell_counts` (which also adds ``per_km2``), per
  community :func:`gridkit.counts.unit_counts` (the cells' counts added up, their
  polygons joined).
* ``geopandas``: ``read_file`` / ``read_csv`` + ``points_from_xy``, ``to_crs`` to
  the layout's CRS, ``sjoin(predicate="within")`` with the cells, the first cell
  of a point on an edge kept, ``groupby().size()`` joined back onto the cells,
  ``to_file``: the script a GIS analyst writes, and what QGIS's "Count points in
  polygon" does (QGIS is no pip package, so it is not run here). Per community, the
  same with the package's communities (its ``units`` layer, level ``community``) in
  place of the cells.

The package's index file, kept beside it, is built before the clock, as a second
run of ``gridkit locate`` finds it. ``counted`` is the points given a cell and
``cells`` the cells holding any: the same in both when they agree.

    python benchmarks/bench_counts.py
    python benchmarks/bench_counts.py --only lights
    python benchmarks/bench_counts.py --only lights_community
    python benchmarks/bench_counts.py --only reports_month
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import run_benchmark

OUT = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LIGHTS = SHARED / "cambridge_ma" / "INFRA_StreetLights.geojson"
CASES = {"lights": "lights", "reports": "reports", "lights_community": "lights_community",
         "reports_community": "reports_community", "reports_month": "reports_month"}
TIMED = OUT / "counts_points_timed.csv"
TIME = "受理时间"
NAMES = ["grid_id", "community_code", "community_name", "street_code", "street_name", "county_code", "county_name"]


def _inputs(case):
    """``(points, package)`` of the case."""
    if case.startswith("lights"):
        from bench_patrol import _paths

        return LIGHTS, _paths("cambridge")[0]
    from bench_locate_file import POINTS
    from bench_map import _package

    return TIMED if case == "reports_month" else POINTS, _package("dongcheng")


def prepare(case):
    """The package and its index, and the points, outside any timing."""
    if case.startswith("lights"):
        from bench_patrol import _prepare

        _prepare("cambridge")
    else:
        from bench_locate_file import prepare as prepare_points

        prepare_points("csv")
        if case == "reports_month" and not TIMED.exists():
            import pandas as pd

            from bench_locate_file import POINTS

            frame = pd.read_csv(POINTS)
            accepted = pd.Timestamp("2025-09-10 09:00") + pd.to_timedelta(frame.index * 7, unit="s")
            frame.assign(**{TIME: accepted.strftime("%Y-%m-%d %H:%M:%S")}).to_csv(TIMED, index=False)


def _output(peer):
    path = OUT / f"counts_{peer}.gpkg"
    path.unlink(missing_ok=True)
    return path


def run_gridkit(case):
    from gridkit.batch import locate_file

    points, package = _inputs(case)
    out = _output("gridkit")
    t = time.perf_counter()
    per = "cell" if case in ("lights", "reports") else "community"
    by = TIME if case == "reports_month" else None
    summary = locate_file(points, package, None, counts=out, overwrite=True, counts_per=per, counts_by=by)
    seconds = time.perf_counter() - t
    counts = summary["counts"]
    if per == "community":
        months = {"months": len(counts["by_month"]["months"])} if by else {}
        return seconds, {"rows": summary["rows"], "counted": counts["points"],
                         "communities": counts["communities_with_points"], **months}
    return seconds, {"rows": summary["rows"], "counted": counts["points"], "cells": counts["cells_with_points"]}


def run_geopandas(case):
    import geopandas as gpd
    import pandas as pd

    points, package = _inputs(case)
    out = _output("geopandas")
    t = time.perf_counter()
    per_community = case not in ("lights", "reports")
    if per_community:  # the communities themselves, as QGIS's Count points in polygon would take them
        cells = gpd.read_file(package, layer="units", engine="pyogrio", where="level = 'community'")
    else:
        cells = gpd.read_file(package, layer="cells", engine="pyogrio", columns=NAMES)
    if case.startswith("lights"):
        frame = gpd.read_file(points, engine="pyogrio")
    else:
        table = pd.read_csv(points)
        frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326)
    joined = gpd.sjoin(frame[["geometry"]].to_crs(cells.crs), cells[["geometry"]], predicate="within")
    joined = joined[~joined.index.duplicated()]  # a point on an edge once, as gridkit
    cells["points"] = joined.groupby("index_right").size().reindex(cells.index, fill_value=0)
    if case == "reports_month":
        month = pd.to_datetime(table[TIME].iloc[joined.index.to_numpy()]).dt.strftime("%Y-%m").to_numpy()
        cells = cells.join(pd.crosstab(joined["index_right"].to_numpy(), month)).fillna(0)
    cells.to_file(out, layer="counts", engine="pyogrio")
    seconds = time.perf_counter() - t
    held = int((cells["points"] > 0).sum())
    months = {"months": int(cells.columns.str.match(r"^\d{4}-\d{2}$").sum())} if case == "reports_month" else {}
    return seconds, {"rows": len(frame), "counted": int(cells["points"].sum()),
                     **({"communities": held} if per_community else {"cells": held}), **months}


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("counted", "cells", "communities", "months"),
                  rate="M pts/s")
