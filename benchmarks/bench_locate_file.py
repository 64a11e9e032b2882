"""``gridkit locate`` of a CSV file to a file, against the geopandas recipe, same run.

Input: 2,000,000 GPS points (WGS84, seeded, uniform over Dongcheng's bounding box:
about half fall in a cell) as a CSV of ``id,lon,lat``; the layout is ``bench_map``'s
Dongcheng package (4,278 cells). Both peers read the CSV, locate every point and
write every row with its cell, community, street and district, as WGS84 points
(``gpkg``, ``parquet``) or text (``csv``). The ``gbk`` case reads the same points
from a CSV as Excel saves one on a Chinese Windows (GBK, a header of 编号,经度,纬度
and a 名称 column of Chinese names), and writes text; the recipe is told the
encoding, gridkit finds it. The ``from_parquet`` case reads the points from a plain
Parquet table (``id,lon,lat``, as pandas or Spark write one: no GeoParquet metadata)
and writes GeoParquet; the recipe reads it with ``pandas.read_parquet``:

* ``gridkit``: ``locate_file`` (what ``gridkit locate POINTS.csv --grid … -o OUT``
  runs): the locator's index, rows in chunks, written a batch at a time.
* ``geopandas``: ``pandas.read_csv``, ``points_from_xy``, ``to_crs`` to the
  layout's CRS, ``sjoin(predicate="within", how="left")`` with the cells' codes
  and names, back ``to_crs(4326)``, then ``to_file`` (Arrow), ``to_parquet`` or
  ``to_csv``.

The time is the whole run, reading and writing included (the package's index file,
kept beside it, is built before the clock, as a second run of ``gridkit locate``
finds it). ``inside`` counts the rows given a cell: the same in both when they
agree.

    python benchmarks/bench_locate_file.py
    python benchmarks/bench_locate_file.py --only gpkg
    python benchmarks/bench_locate_file.py --only from_parquet
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import run_benchmark
from bench_map import _package
from bench_map import prepare as prepare_map

OUT = Path(__file__).resolve().parent / "results"
POINTS = OUT / "locate_file_points.csv"
POINTS_GBK = OUT / "locate_file_points_gbk.csv"
POINTS_PARQUET = OUT / "locate_file_points.parquet"
N = 2_000_000
CASES = {"gpkg": ".gpkg", "parquet": ".parquet", "csv": ".csv", "gbk": ".csv", "from_parquet": ".parquet"}
NAMES = ["grid_id", "community_code", "community_name", "street_code", "street_name", "county_code", "county_name"]


def prepare(case):
    """The package and its index, and the points' CSV, outside any timing."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from gridkit.locator import Locator

    prepare_map("dongcheng")
    Locator.from_package(_package("dongcheng"))
    if not POINTS.exists():
        west, south, east, north = gpd.read_file(_package("dongcheng"), layer="cells").to_crs(4326).total_bounds
        rng = np.random.default_rng(0)
        pd.DataFrame({"id": np.arange(N), "lon": rng.uniform(west, east, N).round(7),
                      "lat": rng.uniform(south, north, N).round(7)}).to_csv(POINTS, index=False)
    if case == "gbk" and not POINTS_GBK.exists():
        frame = pd.read_csv(POINTS, dtype=str).set_axis(["编号", "经度", "纬度"], axis=1)
        names = np.array(["雨水井盖", "污水井盖", "路灯", "消防栓", "垃圾箱"])
        frame["名称"] = names[np.arange(N) % len(names)]
        frame.to_csv(POINTS_GBK, index=False, encoding="gbk")
    if case == "from_parquet" and not POINTS_PARQUET.exists():
        pd.read_csv(POINTS).to_parquet(POINTS_PARQUET, index=False)


def _input(case):
    """The points' file and its coordinate columns."""
    return ((POINTS_GBK, "经度", "纬度") if case == "gbk" else (POINTS_PARQUET, "lon", "lat") if case == "from_parquet"
            else (POINTS, "lon", "lat"))


def _output(case, peer):
    path = OUT / f"locate_file_{peer}{CASES[case]}"
    path.unlink(missing_ok=True)
    return path


def run_gridkit(case):
    from gridkit.batch import locate_file

    out = _output(case, "gridkit")
    t = time.perf_counter()
    summary = locate_file(_input(case)[0], _package("dongcheng"), out)
    seconds = time.perf_counter() - t
    return seconds, {"rows": summary["located"], "inside": summary["inside"]}


def run_geopandas(case):
    import geopandas as gpd
    import pandas as pd

    out = _output(case, "geopandas")
    t = time.perf_counter()
    cells = gpd.read_file(_package("dongcheng"), layer="cells", engine="pyogrio", columns=NAMES)
    path, lon, lat = _input(case)
    frame = pd.read_parquet(path) if case == "from_parquet" else pd.read_csv(path, encoding="gb18030" if case == "gbk"
                                                                              else None)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame[lon], frame[lat]), crs=4326)
    joined = gpd.sjoin(points.to_crs(cells.crs), cells, how="left", predicate="within").drop(columns="index_right")
    joined = joined[~joined.index.duplicated()].to_crs(4326)  # a point on an edge once, as gridkit
    if case == "gpkg":
        joined.to_file(out, layer="located", engine="pyogrio", use_arrow=True)
    elif case in ("parquet", "from_parquet"):
        joined.to_parquet(out)
    else:
        pd.DataFrame(joined.drop(columns="geometry")).to_csv(out, index=False)
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(joined), "inside": int(joined["grid_id"].notna().sum())}


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("inside",), rate="M pts/s")
