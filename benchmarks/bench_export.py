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

* ``dongcheng_legacy``: ``bench_components``' 168,339 components (random classes
  of the 2026 table, 44 % of them without a legacy counterpart) imported into the
  Dongcheng grid once, exported as a Shapefile in the CJ/T 214 layout a legacy
  platform takes (``ObjID`` … ``BGID``, ``PointX``/``PointY``, 16-digit IDs).
  - ``gridkit``: ``export_package(..., layers=["components"], fields="legacy")``.
  - ``geopandas``: the hand-written script: ``read_file``, the class map
    (``gridkit/data/legacy_2026_class_map.csv``) merged on each ID's class to make
    the 16-digit ID, columns renamed, x and y added, ``to_file``. It does not tell
    apart two IDs that fold into one legacy class (poles), which gridkit renumbers:
    ``same_ids`` counts the IDs both give alike (an empty one too), ``ids_twice`` the
    script's IDs that repeat one before them.

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
CASES["dongcheng_xlsx"] = ("dongcheng", "xlsx")  # not Shenzhen: the peer (openpyxl) takes minutes for 215,219 rows
CASES["dongcheng_legacy"] = ("dongcheng", "legacy")
SUFFIX = {"gcj02": ".geojson", "shp": ".shp", "xlsx": ".xlsx", "kmz": ".kmz", "legacy": ".shp"}


def prepare(case):
    if CASES[case][1] == "legacy":
        _catalogue()
    else:
        prepare_map(CASES[case][0])


def _catalogue():
    """``bench_components``' Dongcheng grid with its 168,339 components imported (made once)."""
    from bench_components import CACHE, _inventory, _layout

    path = CACHE / "dongcheng_catalogue.gpkg"
    if not path.exists():
        import shutil

        from gridkit.catalogue import import_components, write_catalogue
        from gridkit.locator import Locator

        work = path.with_suffix(".part.gpkg")
        shutil.copy2(_layout("dongcheng"), work)
        result = import_components(_inventory("dongcheng"), Locator.from_package(work), today="20261122")
        write_catalogue(work, result.catalogue)
        work.rename(path)
    return path


def _output(case, peer):
    path = OUT / f"export_{case}_{peer}{SUFFIX[CASES[case][1]]}"
    for old in path.parent.glob(path.stem + ".*"):
        old.unlink()
    return path


def run_gridkit(case):
    from gridkit.export import export_package

    place, kind = CASES[case]
    out = _output(case, "gridkit")
    if kind == "legacy":
        t = time.perf_counter()
        [done] = export_package(_catalogue(), out, layers=["components"], fields="legacy")
        return time.perf_counter() - t, {"rows": done.features}
    t = time.perf_counter()
    [done] = export_package(_package(place), out, crs="gcj02" if kind == "gcj02" else None)
    return time.perf_counter() - t, {"rows": done.features}


def _legacy_by_hand(out):
    """The script a user writes: classes mapped by a merge, columns renamed."""
    import geopandas as gpd
    import pandas as pd

    from gridkit.catalogue import LEGACY_NAMES

    table = Path(__file__).resolve().parents[1] / "gridkit" / "data" / "legacy_2026_class_map.csv"
    classes = pd.read_csv(table, dtype=str).dropna(subset=["code_2026"]).drop_duplicates("code_2026")
    t = time.perf_counter()
    c = gpd.read_file(_catalogue(), layer="components", engine="pyogrio")
    ids = c["GLBJBSM"]
    legacy = pd.DataFrame({"code_2026": ids.str[6:11]}).merge(classes, how="left", on="code_2026")["legacy_code"]
    objid = (ids.str[:6] + legacy + ids.str[-6:]).to_numpy()
    c = c.rename(columns=LEGACY_NAMES).assign(ObjID=objid, ObjID_2026=ids, PointX=c.geometry.x, PointY=c.geometry.y)
    c.to_file(out, engine="pyogrio")
    seconds = time.perf_counter() - t
    ours = gpd.read_file(OUT / "export_dongcheng_legacy_gridkit.shp", engine="pyogrio", columns=["ObjID"],
                         read_geometry=False)
    mine = pd.Series(objid).fillna("")
    same = int((ours["ObjID"].fillna("").to_numpy() == mine.to_numpy()).sum()) if len(ours) == len(c) else None
    return seconds, {"rows": len(c), "same_ids": same, "ids_twice": int(mine[mine != ""].duplicated().sum())}


def run_geopandas(case):
    import geopandas as gpd
    import numpy as np
    import shapely

    place, kind = CASES[case]
    out = _output(case, "geopandas")
    if kind == "legacy":
        return _legacy_by_hand(out)
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

        a, b = (pd.read_excel(p, engine="calamine", dtype=str) for p in (ours, theirs))
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
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("max_diff_m", "same_ids", "ids_twice"),
                  rate="M cells/s")
