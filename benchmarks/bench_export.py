"""``gridkit export`` against the geopandas recipe, same package, same run.

The packages are ``bench_map``'s (built before any timing): ``dongcheng``,
Dongcheng's 4,278 cells; ``shenzhen``, Shenzhen's 215,219 cells. Two exports of
the cells layer each:

* ``*_gcj02``: GeoJSON in GCJ-02 for Amap.
  - ``gridkit``: ``export_package(..., crs="gcj02")``: read, edges over 200 m cut,
    to lon/lat, GCJ-02, written as RFC 7946 GeoJSON.
  - ``geopandas``: the recipe a user writes with TransBigData's converter:
    ``read_file``, ``to_crs(4326)``, ``shapely.transform`` with
    ``transbigdata.wgs84togcj02``, ``to_file`` (GeoJSON).
* ``*_shp``: a Shapefile in the package's CRS.
  - ``gridkit``: ``export_package`` (10-character names chosen, encoding checked).
  - ``geopandas``: ``read_file``, ``to_file`` (GDAL cuts the long names itself:
    ``community_code`` and ``community_name`` become ``community_`` and ``communit_1``).
* ``*_kmz``: zipped KML (Google Earth), in lon/lat.
  - ``gridkit``: ``export_package`` (GDAL's LIBKML driver; integers that fit in 32
    bits written as such, each placemark named by its grid ID).
  - ``geopandas``: ``read_file``, ``to_crs(4326)``, ``to_file(driver="LIBKML")``.
* ``dongcheng_xlsx``: an Excel workbook, the cells as WKT, codes as text cells.
  - ``gridkit``: ``export_package`` (rows and WKT lengths checked first; openpyxl
    in write-only mode).
  - ``geopandas``: ``read_file``, the geometry ``to_wkt``, pandas ``to_excel``
    (openpyxl, as gridkit).

Each peer writes ``results/export_<case>_<peer>.<suffix>``; the geopandas peer
then reports ``max_diff_m``, the largest Hausdorff distance between a cell of its
file and the same cell of gridkit's (on GCJ-02: how far apart the two conversions
put it).

    python benchmarks/bench_export.py
    python benchmarks/bench_export.py --only shenzhen_gcj02
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import run_benchmark
from bench_map import _package
from bench_map import prepare as prepare_map

OUT = Path(__file__).resolve().parent / "results"
CASES = {f"{place}_{kind}": (place, kind) for place in ("dongcheng", "shenzhen") for kind in ("gcj02", "shp", "kmz")}
CASES["dongcheng_xlsx"] = ("dongcheng", "xlsx")  # Shenzhen's 215,219 rows take openpyxl minutes
SUFFIX = {"gcj02": ".geojson", "shp": ".shp", "xlsx": ".xlsx", "kmz": ".kmz"}


def prepare(case):
    prepare_map(CASES[case][0])


def _output(case, peer):
    path = OUT / f"export_{case}_{peer}{SUFFIX[CASES[case][1]]}"
    for old in path.parent.glob(path.stem + ".*"):
        old.unlink()
    return path


def run_gridkit(case):
    from gridkit.export import export_package

    place, kind = CASES[case]
    out = _output(case, "gridkit")
    t = time.perf_counter()
    [done] = export_package(_package(place), out, crs="gcj02" if kind == "gcj02" else None)
    return time.perf_counter() - t, {"rows": done.features}


def run_geopandas(case):
    import geopandas as gpd
    import numpy as np
    import shapely

    place, kind = CASES[case]
    out = _output(case, "geopandas")
    if kind == "gcj02":
        import transbigdata as tbd  # imported before the clock

        def gcj02(xy):
            x, y = tbd.wgs84togcj02(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

    t = time.perf_counter()
    cells = gpd.read_file(_package(place), layer="cells", engine="pyogrio")
    if kind == "xlsx":
        table = cells.drop(columns="geometry").assign(WKT=cells.geometry.to_wkt())
        table.to_excel(out, index=False, sheet_name="cells", engine="openpyxl")
        seconds = time.perf_counter() - t
        return seconds, {"rows": len(cells), "max_diff_m": _max_diff_m(out, OUT / f"export_{case}_gridkit{out.suffix}")}
    if kind == "gcj02":
        cells = cells.to_crs(4326)
        cells = cells.set_geometry(gpd.GeoSeries(shapely.transform(cells.geometry.values, gcj02), crs=4326))
    if kind == "kmz":
        cells.to_crs(4326).to_file(out, engine="pyogrio", driver="LIBKML")
    else:
        cells.to_file(out, engine="pyogrio")
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(cells), "max_diff_m": _max_diff_m(out, OUT / f"export_{case}_gridkit{out.suffix}")}


def _max_diff_m(ours, theirs):
    """The largest Hausdorff distance (m) between the two files' geometries, feature
    by feature (None when gridkit's file is missing or holds other features)."""
    import geopandas as gpd
    import shapely

    if not theirs.exists():
        return None
    if ours.suffix == ".xlsx":
        import pandas as pd

        a, b = (pd.read_excel(p, dtype=str) for p in (ours, theirs))
        a, b = (gpd.GeoDataFrame(t, geometry=gpd.GeoSeries.from_wkt(t.pop("WKT"))) for t in (a, b))
    else:
        a, b = (gpd.read_file(p, engine="pyogrio") for p in (ours, theirs))
    if len(a) != len(b) or not (a["grid_id"].to_numpy() == b["grid_id"].to_numpy()).all():
        return None
    if getattr(a.crs, "is_geographic", False):  # GCJ-02 taken as lon/lat: near enough to measure in metres
        metric = a.estimate_utm_crs()
        a, b = a.to_crs(metric), b.to_crs(metric)
    return float(shapely.hausdorff_distance(a.geometry.values, b.geometry.values).max())


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("max_diff_m",), rate="M cells/s")
