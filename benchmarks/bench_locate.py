"""Locate: single-call latency and batch throughput against geopandas, same input, same run.

Cases
-----
``beijing``    all 16 Beijing districts as a unit grid: 1,646,901 cells (lattice,
               clipped at community edges), CGCS2000 / GK zone 39 (EPSG:4548).
``cambridge``  Cambridge, MA, street-bounded: 2,550 irregular cells (no lattice).
``cincinnati`` Cincinnati's household grids (census blocks split, 100–150 households)
               with micro-grids of 20–50: every answer names the micro-grid too, so
               the geopandas peers join the points to the micro-grids, each with its
               grid's hierarchy columns (the same answer in one join).

Points are uniform over the layout's bounding box (so some fall outside), as
WGS84 lon/lat; single calls use 100,000 points that fall inside a cell. Layouts
and points are made once and cached in ``benchmarks/results/cache``. Batch
peers report the best of three calls, single-call peers the pass (of three over
the 100,000 points) with the lowest median — gridkit and geopandas alike.

Peers (each in its own process: its time and peak RSS are its own)
-----
``gridkit_load``       ``Locator.from_package`` with the index already beside the
                       package (what a service pays at start-up).
``gridkit_single``     ``Locator.locate(lon, lat, crs="EPSG:4326")`` one call at a
                       time: median and p99 per call.
``geopandas_single``   per call: pyproj transform of the lon/lat, then
                       ``cells.sindex.query(point, predicate="within")``.
``gridkit_lonlat``     ``Locator.locate_many(lon, lat, crs="EPSG:4326")``: cell and
                       hierarchy per point.
``gridkit_layout``     the same from coordinates already in the layout's CRS.
``geopandas``          the recipe: ``points_from_xy`` + ``to_crs`` + ``sjoin``
                       (cells with their hierarchy columns).
``gridkit_routed``     ``locate_many`` then ``RoutingTable.route_many``: each point's
                       department by the starter routing table (``gridkit route
                       starter``), one class per point drawn from six (city-wide
                       rules on a class and on a big class, and a class left to the
                       street's territorial authority).
``geopandas_routed``   the recipe, then the routing by hand: the table's rules as a
                       frame, merged on (area, class key) for each area level (cell,
                       community, street, county, city) and class key (class, big
                       class, ``*``), most specific first; the territorial authority
                       by ``map``; ``{street_name}`` filled in. Both give the same
                       departments (checked by a checksum of every point's).
``gridkit_near``       ``cell_index`` then ``Locator.near_edge(..., 10)``: each point's
                       cell and the nearest other cell within 10 m (``gridkit locate
                       --near-edge 10``), the first call reading every cell's polygon.
``geopandas_near``     the recipe: ``sjoin`` ``within`` for the cell, ``sjoin``
                       ``dwithin`` 10 m, the pairs of another cell measured
                       (``distance``), the nearest kept per point. Both count the
                       same points and the same sum of distances.
``gridkit_file``       one process: read the points' GeoParquet as ``gridkit locate``
                       does (``read_inventory``: the points cut from the WKB), locate,
                       keep the frame (``gridkit.batch.locate_frame``).
``gridkit_dask``       the same job on dask over 8 Parquet partitions, on a local
                       cluster of 2 worker processes (``gridkit.batch.locate_dask``);
                       includes starting the cluster.

    python benchmarks/bench_locate.py                  # all three cases
    python benchmarks/bench_locate.py --only cambridge
    python benchmarks/bench_locate.py --only cincinnati   # with micro-grids
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import best_of, by_case, run_benchmark, sjoin_near

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results" / "cache"
SAMPLES = HERE.parent / "data" / "samples"
CASES = {"beijing": 4_000_000, "cambridge": 2_000_000, "cincinnati": 2_000_000}
SINGLE = 100_000
REPEAT = 3  # batch peers: the best of three calls, for every peer alike
HIERARCHY = ["grid_id", "community_code", "community_name", "street_code", "street_name", "county_code",
             "county_name"]


def _layout(case):
    if case == "beijing":
        from bench_components import _layout as components_layout

        return components_layout("beijing")
    if case == "cincinnati":
        return _household_layout()
    path = CACHE / "cambridge_grid.gpkg"
    if not path.exists():
        import gridkit as gk

        lines = gk.read_vector(SAMPLES / "cambridge_centerlines.gpkg")
        hood = gk.read_vector(SAMPLES / "cambridge_neighborhoods.gpkg")
        comm = gk.unit_hierarchy(hood, name_field="NAME", provisional=True, parent_code="990101", barriers=lines)
        CACHE.mkdir(parents=True, exist_ok=True)
        gk.write_package(path, gk.unit_grid(comm, barriers=lines), comm)
    return path


def _household_layout():
    path = CACHE / "cincinnati_micro.gpkg"
    if not path.exists():
        import gridkit as gk
        from gridkit.households import balanced_grid
        from gridkit_cli.grid import write_household_package

        comm = gk.unit_hierarchy(gk.read_vector(SAMPLES / "cincinnati_city.gpkg"), provisional=True,
                                 parent_code="990201")
        blocks = gk.read_vector(SAMPLES / "cincinnati_blocks.gpkg", layer="blocks")
        layout = balanced_grid(comm, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                               kind="blocks", split_polygons=True, micro=(20, 50))
        CACHE.mkdir(parents=True, exist_ok=True)
        write_household_package(path, layout, comm, {"band": [100, 150], "micro": [20, 50]})
    return path


def _peer_cells(case):
    """What the geopandas peers join against: the cells with their hierarchy, or,
    for a layout with micro-grids, the micro-grids with their grid's hierarchy."""
    import geopandas as gpd
    import pyogrio

    path = _layout(case)
    cells = gpd.read_file(path, layer="cells", engine="pyogrio", columns=HIERARCHY)
    if "micro_grids" not in [name for name, _ in pyogrio.list_layers(path)]:
        return cells
    micro = gpd.read_file(path, layer="micro_grids", engine="pyogrio", columns=["micro_id", "grid_id"])
    return micro.merge(cells.drop(columns="geometry"), on="grid_id")


def _points(case):
    """``(lon, lat)`` arrays of the batch points, and of the single-call points."""
    path = CACHE / f"locate_{case}_points.npz"
    if not path.exists():
        import numpy as np
        import pyogrio
        import pyproj

        from gridkit.locator import Locator

        loc = Locator.from_package(_layout(case))  # also leaves the index beside the package
        info = pyogrio.read_info(_layout(case), layer="cells")
        minx, miny, maxx, maxy = info["total_bounds"]
        rng = np.random.default_rng(5)
        x, y = rng.uniform(minx, maxx, CASES[case]), rng.uniform(miny, maxy, CASES[case])
        index, _, _ = loc.cell_index(x, y)
        inside = np.flatnonzero(index >= 0)[:SINGLE]
        to_wgs84 = pyproj.Transformer.from_crs(info["crs"], 4326, always_xy=True)
        lon, lat = to_wgs84.transform(x, y)
        np.savez(path, lon=lon, lat=lat, single_lon=lon[inside], single_lat=lat[inside])
    import numpy as np

    with np.load(path) as data:
        return data["lon"], data["lat"], data["single_lon"], data["single_lat"]


def _parquet(case):
    """The batch points as GeoParquet: one file, and the same in 8 partitions."""
    one, parts = CACHE / f"locate_{case}_points.parquet", CACHE / f"locate_{case}_parts"
    if not one.exists():
        import dask_geopandas
        import geopandas as gpd
        import numpy as np

        lon, lat, _, _ = _points(case)
        gdf = gpd.GeoDataFrame({"report": np.arange(len(lon))}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        gdf.to_parquet(one)
        dask_geopandas.from_geopandas(gdf, npartitions=8).to_parquet(parts)
    return one, parts


def _prepare(case):
    from gridkit.locator import Locator

    _points(case)
    _parquet(case)
    Locator.from_package(_layout(case))  # the index file beside the package, for gridkit_load


def _latencies(call, lon, lat):
    """Time every call; of ``REPEAT`` passes over the points, the one with the lowest median."""
    import numpy as np

    clock = time.perf_counter_ns
    passes = []
    for _ in range(REPEAT):
        spent = np.empty(len(lon))
        for i, (a, b) in enumerate(zip(lon.tolist(), lat.tolist())):
            t = clock()
            call(a, b)
            spent[i] = clock() - t
        passes.append(spent)
    spent = min(passes, key=np.median)
    return float(spent.sum() / 1e9), {"rows": len(lon), "median_us": float(np.median(spent) / 1e3),
                                      "p99_us": float(np.percentile(spent, 99) / 1e3)}


def run_gridkit_load(case):
    from gridkit.locator import Locator

    t = time.perf_counter()
    loc = Locator.from_package(_layout(case))
    return time.perf_counter() - t, {"rows": len(loc), "cells": len(loc)}


def run_gridkit_single(case):
    from gridkit.locator import Locator

    _, _, lon, lat = _points(case)
    loc = Locator.from_package(_layout(case))
    return _latencies(lambda a, b: loc.locate(a, b, crs="EPSG:4326"), lon, lat)


def run_geopandas_single(case):
    import pyproj
    import shapely

    _, _, lon, lat = _points(case)
    cells = _peer_cells(case)
    sindex = cells.sindex
    forward = pyproj.Transformer.from_crs(4326, cells.crs, always_xy=True).transform

    def call(a, b):
        hit = sindex.query(shapely.Point(*forward(a, b)), predicate="within")
        return cells.iloc[hit[0]] if len(hit) else None

    return _latencies(call, lon, lat)


def run_gridkit_lonlat(case):
    from gridkit.locator import Locator

    lon, lat, _, _ = _points(case)
    loc = Locator.from_package(_layout(case))
    seconds, found = best_of(REPEAT, lambda: loc.locate_many(lon, lat, crs="EPSG:4326"))
    return seconds, {"rows": len(lon), "inside": int((found["status"] == "inside").sum())}


def run_gridkit_layout(case):
    import pyproj

    from gridkit.locator import Locator

    lon, lat, _, _ = _points(case)
    loc = Locator.from_package(_layout(case))
    x, y = pyproj.Transformer.from_crs(4326, loc.crs, always_xy=True).transform(lon, lat)
    seconds, found = best_of(REPEAT, lambda: loc.locate_many(x, y))
    return seconds, {"rows": len(lon), "inside": int((found["status"] == "inside").sum())}


def run_geopandas(case):
    import geopandas as gpd

    lon, lat, _, _ = _points(case)
    cells = _peer_cells(case)

    def recipe():
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat, crs=4326)).to_crs(cells.crs)
        return gpd.sjoin(pts, cells, how="left", predicate="within")

    seconds, joined = best_of(REPEAT, recipe)
    return seconds, {"rows": len(lon), "inside": int(joined["grid_id"].notna().sum())}


ROUTED_CLASSES = ["01001", "01037", "03005", "02014", "06010", "01023"]  # 06010: big class 06; 01023: territorial


def _routed(case):
    """The points, a class per point (seeded), and the starter routing table."""
    import numpy as np

    from gridkit.routing import RoutingTable, starter_table

    lon, lat, _, _ = _points(case)
    classes = np.random.default_rng(7).choice(ROUTED_CLASSES, len(lon)).astype(object)
    path = CACHE / "routing_starter.toml"
    path.write_text(starter_table(), encoding="utf-8")
    return lon, lat, classes, RoutingTable.load(path)


def _departments(names):
    """What the routed peers report: how many points got a department, and a
    checksum of every point's department name (in point order) to compare them by."""
    import zlib

    import pandas as pd

    names = pd.Series(names, dtype=object).fillna("")
    return {"routed": int((names != "").sum()), "names_crc": zlib.crc32("\n".join(names).encode())}


def run_gridkit_routed(case):
    import numpy as np

    from gridkit.locator import Locator

    lon, lat, classes, table = _routed(case)
    loc = Locator.from_package(_layout(case))

    def run():
        found = loc.locate_many(lon, lat, crs="EPSG:4326")
        inside = (found["status"] != "outside").to_numpy()
        names = table.route_many(found[inside], classes[inside])[1]
        return found, inside, names

    seconds, (found, inside, names) = best_of(REPEAT, run)
    every = np.full(len(lon), None, dtype=object)
    every[inside] = names
    return seconds, {"rows": len(lon), "inside": int(inside.sum()), **_departments(every)}


def _route_by_hand(joined, classes, table):
    """A planner's pandas routing: rules merged level by level, most specific first."""
    import numpy as np
    import pandas as pd

    rules = pd.DataFrame([(r.area, key, r.department) for r in table.rules for key in r.classes],
                         columns=["area", "key", "department"]).drop_duplicates(["area", "key"])
    frame = pd.DataFrame({"class": classes, "big": [c[:2] for c in classes]}, index=joined.index)
    dept = pd.Series(np.full(len(frame), None, dtype=object), index=frame.index)
    for level in ["grid_id", "community_code", "street_code", "county_code", None]:
        area = joined[level].astype(object) if level else pd.Series("", index=frame.index, dtype=object)
        for key in [frame["class"], frame["big"], pd.Series("*", index=frame.index)]:
            todo = dept.isna().to_numpy()
            if not todo.any():
                break
            left = pd.DataFrame({"area": area[todo].to_numpy(), "key": key[todo].to_numpy()})
            found = left.merge(rules, on=["area", "key"], how="left")["department"].to_numpy()
            dept[todo] = found
    for level in ["grid_id", "community_code", "street_code", "county_code"]:
        todo = dept.isna().to_numpy()
        dept[todo] = joined[level].astype(object)[todo].map(table.territorial).to_numpy()
    dept = dept.fillna(table.territorial["*"])
    names = dept.map({k: d.name for k, d in table.departments.items()})
    templated = names.str.contains("{street_name}", regex=False).fillna(False).to_numpy()
    # A street with no name (provisional) is named by its code, as gridkit does.
    street = joined["street_name"].astype(object).where(joined["street_name"].fillna("") != "",
                                                         joined["street_code"].astype(object))
    names[templated] = [n.replace("{street_name}", s) for n, s in zip(names[templated], street[templated])]
    return names


def run_geopandas_routed(case):
    import geopandas as gpd
    import numpy as np

    lon, lat, classes, table = _routed(case)
    cells = _peer_cells(case)

    def recipe():
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat, crs=4326)).to_crs(cells.crs)
        joined = gpd.sjoin(pts, cells, how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]  # a point on a shared edge: the first cell
        inside = joined["grid_id"].notna().to_numpy()
        names = np.full(len(lon), None, dtype=object)
        names[inside] = _route_by_hand(joined[inside], classes[inside], table).to_numpy()
        return inside, names

    seconds, (inside, names) = best_of(REPEAT, recipe)
    return seconds, {"rows": len(lon), "inside": int(inside.sum()), **_departments(names)}


NEAR_M = 10.0


def run_gridkit_near(case):
    from gridkit.locator import Locator

    lon, lat, _, _ = _points(case)
    loc = Locator.from_package(_layout(case))

    def run():
        index = loc.cell_index(lon, lat, crs="EPSG:4326")[0]
        return loc.near_edge(lon, lat, index, NEAR_M, crs="EPSG:4326")

    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    seconds, (near, distance) = best_of(REPEAT, run)
    return seconds, {"rows": len(lon), "near": int((near >= 0).sum()), "near_m_sum": round(float(
        distance[near >= 0].sum()), 1), "first_call_s": round(first, 3)}


def run_geopandas_near(case):
    import geopandas as gpd

    lon, lat, _, _ = _points(case)
    cells = gpd.read_file(_layout(case), layer="cells", engine="pyogrio", columns=["grid_id"])

    def recipe():
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat, crs=4326)).to_crs(cells.crs)
        return sjoin_near(pts, cells, NEAR_M)

    seconds, near = best_of(REPEAT, recipe)
    return seconds, {"rows": len(lon), "near": len(near), "near_m_sum": round(float(near["near_m"].sum()), 1)}


def run_gridkit_file(case):
    from gridkit.batch import locate_frame
    from gridkit.catalogue import read_inventory
    from gridkit.locator import Locator

    one, _ = _parquet(case)
    t = time.perf_counter()
    loc = Locator.from_package(_layout(case))
    frame, x, y, crs = read_inventory(one)  # as `gridkit locate` reads it: the points cut from the WKB
    located, _ = locate_frame(frame, x, y, crs, loc)
    return time.perf_counter() - t, {"rows": len(frame), "inside": int((located["gk_status"] == "inside").sum())}


def run_gridkit_dask(case):
    from gridkit.batch import locate_dask

    _, parts = _parquet(case)
    t = time.perf_counter()
    located, _ = locate_dask(parts, _layout(case), n_workers=2)
    return time.perf_counter() - t, {"rows": len(located), "inside": int((located["gk_status"] == "inside").sum())}


PEERS = {"gridkit_load": run_gridkit_load, "gridkit_single": run_gridkit_single,
         "geopandas_single": run_geopandas_single, "gridkit_lonlat": run_gridkit_lonlat,
         "gridkit_layout": run_gridkit_layout, "geopandas": run_geopandas, "gridkit_routed": run_gridkit_routed,
         "geopandas_routed": run_geopandas_routed, "gridkit_near": run_gridkit_near,
         "geopandas_near": run_geopandas_near, "gridkit_file": run_gridkit_file,
         "gridkit_dask": run_gridkit_dask}


def main():
    rows = run_benchmark(__doc__, __file__, CASES, PEERS, prepare=_prepare, rate="M pts/s",
                         notes=("inside", "median_us", "p99_us", "cells"))
    if rows is None:
        return
    for case, get in by_case(rows):
        if "gridkit_single" in get and "geopandas_single" in get:
            g, p = get["gridkit_single"], get["geopandas_single"]
            print(f"{case}: single call median {g['median_us']:.2f} µs vs {p['median_us']:.2f} µs "
                  f"({p['median_us'] / g['median_us']:.1f}×), p99 {g['p99_us']:.2f} vs {p['p99_us']:.2f} µs")
        if "geopandas" in get:
            for peer in ("gridkit_lonlat", "gridkit_layout"):
                if peer in get:
                    print(f"{case}: {peer} {get['geopandas']['seconds'] / get[peer]['seconds']:.1f}× the "
                          "geopandas recipe (points_from_xy + to_crs + sjoin)")
        if "gridkit_routed" in get and "geopandas_routed" in get:
            g, p = get["gridkit_routed"], get["geopandas_routed"]
            print(f"{case}: located and routed {p['seconds'] / g['seconds']:.1f}× the recipe with routing by hand; "
                  f"departments {'the same' if g['names_crc'] == p['names_crc'] else 'DIFFER'} "
                  f"({g['routed']:,} and {p['routed']:,} points routed)")
        if "gridkit_near" in get and "geopandas_near" in get:
            g, p = get["gridkit_near"], get["geopandas_near"]
            same = (g["near"], g["near_m_sum"]) == (p["near"], p["near_m_sum"])
            print(f"{case}: near an edge ({NEAR_M:g} m) {p['seconds'] / g['seconds']:.1f}× the sjoin recipe; "
                  f"{g['near']:,} points near another cell, {'the same' if same else 'DIFFERENT'} in both "
                  f"(first call {g['first_call_s']} s)")
        if "gridkit_file" in get and "gridkit_dask" in get:
            print(f"{case}: dask on 2 local workers {get['gridkit_file']['seconds'] / get['gridkit_dask']['seconds']:.2f}× "
                  "the single process (file to frame)")


if __name__ == "__main__":
    main()
