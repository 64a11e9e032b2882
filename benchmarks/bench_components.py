"""Component import + validate + assign against the geopandas recipe, same input, same run.

Cases
-----
``dongcheng``  168,339 components (Dongcheng's count) against the Dongcheng unit
               grid (4,278 cells), from a GeoPackage.
``dongcheng_xlsx`` the same components as an office keeps them: an Excel
               ledger (.xlsx) with 经度 and 纬度 columns.
``beijing``    10,000,000 components against all 16 Beijing districts (1.65 M
               cells), from GeoParquet.
``cincinnati`` 200,000 components against Cincinnati's household grids of
               100–150 with micro-grids of 20–50 (134 grids, 476 micro-grids;
               ``bench_locate``'s cached package), from a GeoPackage: each
               component gets its grid and its micro-grid.

Components are random points over the layout's bounding box (about 1 % land
outside it), each with a 17-digit GB/T 47678.5-2026 ID of its district, a class
drawn from the table, a name and a status; 0.2 % carry a retired class. Layouts
and inventories are made once and cached in ``benchmarks/results/cache``.

Peers
-----
``gridkit``            ``import_components`` + ``write_catalogue``: read, map
                       fields, validate every ID, reject, assign, give IDs,
                       write the components layer into a copy of the package.
                       The package's locator index is already beside it (made
                       once per package: 20 s for Beijing's 1.65 M cells,
                       0.5 s to load after that).
``gridkit_assign``     ``Locator.cell_index`` alone on projected coordinates
                       (with ``micro=True`` on ``cincinnati``).
``geopandas``          the recipe: ``read_file``/``read_parquet`` + ``to_crs`` +
                       ``sjoin(predicate="within")``; no validation, no output.
                       A ledger is read by ``pandas.read_excel`` (its default
                       engine, openpyxl) and made points by ``points_from_xy``.
                       On ``cincinnati`` the join is to the micro-grids, each
                       carrying its grid: the same answer in one join.
``geopandas_sjoin``    ``sjoin`` alone on projected points.
``gridkit_near``       ``components_near_edge`` (``import --near-edge 5``'s list)
                       over the projected points as a catalogue: each one's cell,
                       the nearest other cell within 5 m, what lies between, its
                       lon/lat. ``dongcheng`` and ``cincinnati`` only.
``geopandas_near``     the recipe: ``sjoin`` within for each point's cell, ``sjoin``
                       ``dwithin`` 5 m, other cells kept, ``shapely.distance``,
                       the nearest per point (no level between, no lon/lat).

    python benchmarks/bench_components.py                  # every case
    python benchmarks/bench_components.py --only dongcheng
    python benchmarks/bench_components.py --only dongcheng_xlsx
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from _children import by_case, run_benchmark, sjoin_near

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results" / "cache"
DATA = HERE.parents[1] / "shared" / "data" / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg"
CASES = {
    "dongcheng": ("adcode == '110101'", 168_339, "gpkg"),
    "beijing": ("adcode.str.startswith('11') and level == '区县'", 10_000_000, "parquet"),
    "cincinnati": (None, 200_000, "gpkg"),
    "dongcheng_xlsx": ("adcode == '110101'", 168_339, "xlsx"),  # dongcheng's grid and components, as a ledger
}


def _layout(case):
    if case == "cincinnati":
        from bench_locate import _household_layout

        return _household_layout()
    path = CACHE / f"{case.removesuffix('_xlsx')}_grid.gpkg"
    if not path.exists():
        import gridkit as gk

        CACHE.mkdir(parents=True, exist_ok=True)
        g = gk.read_vector(DATA, crs="gcj02").query(CASES[case][0], engine="python")
        comm = gk.unit_hierarchy(g, code_field="adcode", provisional=True)
        gk.write_package(path, gk.unit_grid(comm), comm)
    return path


def _inventory(case):
    query, n, fmt = CASES[case]
    path = CACHE / f"{case}_components.{fmt}"
    if path.exists():
        return path
    if fmt == "xlsx":
        return _ledger(_inventory(case.removesuffix("_xlsx")), path)
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyogrio
    import shapely

    from gridkit.classes import class_table

    cells = pyogrio.read_dataframe(_layout(case), layer="cells", columns=["county_code"])
    rng = np.random.default_rng(47678)
    minx, miny, maxx, maxy = cells.total_bounds
    tree = shapely.STRtree(cells.geometry.values)
    xs, ys, counties, inside = [], [], [], 0
    while inside < n:  # rejection sampling: points inside the layout, plus 1 % outside it
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        hit, cell = tree.query(shapely.points(x, y), predicate="within")
        keep = np.zeros(n, dtype=bool)
        keep[hit] = True
        keep |= rng.random(n) < 0.01 * len(hit) / n
        county = np.full(n, cells["county_code"].iloc[0], dtype=object)
        county[hit] = cells["county_code"].to_numpy()[cell]
        xs.append(x[keep]), ys.append(y[keep]), counties.append(county[keep])
        inside += keep.sum()
    x, y, county = (np.concatenate(a)[:n] for a in (xs, ys, counties))
    codes = np.array(sorted(class_table("2026").classes))
    cls = codes[rng.integers(0, len(codes), n)]
    cls[rng.random(n) < 0.002] = "01016"  # retired
    seq = pd.Series(np.ones(n, dtype=np.int64)).groupby([county, cls]).cumsum().to_numpy()
    ids = pd.Series(county).str.cat(pd.Series(cls)).str.cat(pd.Series(seq).astype(str).str.zfill(6))
    names = {c.code: c.name for c in class_table("2026").classes.values()}
    frame = gpd.GeoDataFrame({"GLBJBSM": ids, "GLBJMC": [names.get(c, "") for c in cls],
                              "GLBJZT": rng.choice(["完好", "破损"], n, p=[0.95, 0.05]),
                              "CSRQ": "20260701"},
                             geometry=gpd.GeoSeries(shapely.points(x, y), crs=cells.crs).to_crs(4326).values)
    CACHE.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path, engine="pyogrio")
    return path


def _ledger(inventory, path):
    """The components of ``inventory`` as an Excel ledger at ``path``: their fields,
    then 经度 and 纬度."""
    import pandas as pd

    points = _read_points(inventory)
    table = pd.DataFrame(points.drop(columns=points.geometry.name))
    table["经度"], table["纬度"] = points.geometry.x, points.geometry.y
    table.to_excel(path, index=False, engine="openpyxl")
    return path


def _read_points(path):
    import geopandas as gpd
    import pandas as pd

    if path.suffix == ".xlsx":  # a ledger: pandas reads it, with openpyxl (its default engine for .xlsx)
        table = pd.read_excel(path, dtype={"GLBJBSM": str}, engine="openpyxl")
        return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["经度"], table["纬度"]), crs=4326)
    return gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path, engine="pyogrio")


def run_gridkit(case):
    from gridkit.catalogue import import_components, write_catalogue
    from gridkit.locator import Locator, index_path

    grid, inventory = _layout(case), _inventory(case)
    Locator.from_package(grid)  # the package's index, made once (as any earlier use of the package does)
    work = CACHE / f"{case}_work.gpkg"
    # copy2 keeps the change time, so the copied index still matches its package
    shutil.copy2(grid, work)
    shutil.copy2(index_path(grid), index_path(work))
    t = time.perf_counter()
    result = import_components(inventory, Locator.from_package(work), today="20261122")
    write_catalogue(work, result.catalogue)
    seconds = time.perf_counter() - t
    work.unlink()
    index_path(work).unlink()
    s = result.summary
    return seconds, {"rows": s["rows"], "imported": s["imported"], "rejected": s["rejected_by_reason"],
                     **({"micro": s["assigned_micro"]} if "assigned_micro" in s else {})}


def _projected_points(case):
    import pyogrio

    crs = pyogrio.read_info(_layout(case), layer="cells")["crs"]
    return _read_points(_inventory(case)).to_crs(crs)


def run_gridkit_assign(case):
    from gridkit.locator import Locator

    pts = _projected_points(case)
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    loc = Locator.from_package(_layout(case))
    t = time.perf_counter()
    found = loc.cell_index(x, y, micro=loc.micro is not None)
    seconds = time.perf_counter() - t
    micro = {"micro": int((found[3] >= 0).sum())} if loc.micro is not None else {}
    return seconds, {"rows": len(x), "inside": int((found[1] == 0).sum()), **micro}


def _join_layer(case):
    """What the geopandas peers join to: the cells, or a layout's micro-grids (each
    with its grid_id) when it has them."""
    import geopandas as gpd
    import pyogrio

    path = _layout(case)
    if "micro_grids" in [name for name, _ in pyogrio.list_layers(path)]:
        return gpd.read_file(path, layer="micro_grids", engine="pyogrio", columns=["grid_id", "micro_id"])
    return gpd.read_file(path, layer="cells", engine="pyogrio", columns=["grid_id"])


def _joined(joined):
    found = {"rows": len(joined), "inside": int(joined["grid_id"].notna().sum())}
    return {**found, "micro": found["inside"]} if "micro_id" in joined else found


def run_geopandas(case):
    import geopandas as gpd

    cells = _join_layer(case)
    t = time.perf_counter()
    pts = _read_points(_inventory(case)).to_crs(cells.crs)
    joined = gpd.sjoin(pts, cells, how="left", predicate="within")
    return time.perf_counter() - t, _joined(joined)


def run_geopandas_sjoin(case):
    import geopandas as gpd

    cells = _join_layer(case)
    pts = _projected_points(case)
    t = time.perf_counter()
    joined = gpd.sjoin(pts, cells, how="left", predicate="within")
    return time.perf_counter() - t, _joined(joined)


NEAR_M = 5.0


def run_gridkit_near(case):
    from gridkit.catalogue import components_near_edge
    from gridkit.locator import Locator

    pts = _projected_points(case)
    loc = Locator.from_package(_layout(case))
    t = time.perf_counter()
    near = components_near_edge(pts, loc, NEAR_M)
    return time.perf_counter() - t, {"rows": len(pts), "near": len(near), "near_m_sum": round(near["near_m"].sum())}


def run_geopandas_near(case):
    import geopandas as gpd

    cells = gpd.read_file(_layout(case), layer="cells", engine="pyogrio", columns=["grid_id"])
    pts = _projected_points(case)[["geometry"]]
    t = time.perf_counter()
    near = sjoin_near(pts, cells, NEAR_M)
    return time.perf_counter() - t, {"rows": len(pts), "near": len(near), "near_m_sum": round(near["near_m"].sum())}


PEERS = {"gridkit": run_gridkit, "gridkit_assign": run_gridkit_assign, "geopandas": run_geopandas,
         "geopandas_sjoin": run_geopandas_sjoin, "gridkit_near": run_gridkit_near,
         "geopandas_near": run_geopandas_near}
#: The near-edge peers on the cases of a few hundred thousand points (not Beijing's ten
#: million, nor the ledger, which holds Dongcheng's points again).
SKIP = {(case, peer) for case in ("beijing", "dongcheng_xlsx") for peer in ("gridkit_near", "geopandas_near")}


def main():
    rows = run_benchmark(__doc__, __file__, CASES, PEERS, prepare=_inventory, skip=SKIP,
                         notes=("inside", "micro", "rejected", "imported", "near", "near_m_sum"))
    if rows is None:
        return
    for case, got in by_case(rows):
        get = {peer: row["seconds"] for peer, row in got.items()}
        if get.get("gridkit_assign") and get.get("geopandas_sjoin"):
            print(f"{case}: assignment {get['geopandas_sjoin'] / get['gridkit_assign']:.1f}× geopandas.sjoin; "
                  f"end to end {get['geopandas'] / get['gridkit']:.2f}× the geopandas recipe "
                  "(which validates nothing and writes nothing)")
        if get.get("gridkit_near") and get.get("geopandas_near"):
            print(f"{case}: components within {NEAR_M:g} m of another cell "
                  f"{get['geopandas_near'] / get['gridkit_near']:.1f}× the sjoin recipe")


if __name__ == "__main__":
    main()
