"""gridkit grid adopt against the geopandas recipe a GIS user would write, same file, same run.

The input: a grid layer as another platform keeps it, built before any timing from
gridkit's unit grid of Dongcheng (4,278 cells) or Changping (1,344 km², about
134,000 cells): a GBK Shapefile in CGCS2000 longitude/latitude (EPSG:4490), the
grid ID stored as a number (``WGBM``), the community's name (``SQMC``) and a column
of the platform's own (``GLY``). One cell is split in two that keep its ID, and one
overlaps its neighbour by 3 m: each peer must find both, and write a grid package.

* ``gridkit``: what ``gridkit grid adopt`` runs: :func:`gridkit.read_vector`,
  :func:`gridkit.adopt.adopted_grid` (IDs checked, hierarchy from the IDs,
  communities as the union of their cells), :func:`gridkit.check_partition`
  (duplicated IDs, overlaps, coverage), :func:`gridkit.write_package` (cells,
  units of three levels, metadata, QGIS styles).
* ``geopandas``: ``read_file``; ``to_crs``; the IDs as text and checked with a
  regular expression; the hierarchy by string slicing; ``dissolve`` by community
  (and street, county) for the units; ``duplicated`` IDs; overlapping pairs by
  ``sjoin(predicate="overlaps")``; ``to_file`` of the cells and units. (No check of
  the codes' ranges, of invalid cells, or of coverage: fewer checks, so a lower
  bound on its time.)

``dongcheng_micro``: the same Dongcheng file with its micro-grids as a second
Shapefile (each cell cut into its quarters, IDs grid ID + 01–04, the micro ID as
text in ``WWGBM``; one quarter 2 m into its neighbour). gridkit adds
:func:`gridkit.adopt.adopted_micro_grids` and the micro-grids' check against their
cells; the recipe reads them, checks the IDs with a regular expression and against
the cells' IDs, finds overlapping pairs (``sjoin``) and writes the layer.

``dongcheng_apart``: the Dongcheng file as cells digitised apart: every vertex of
every cell moved up to 0.5 m on its own (no cell moved 3 m), so neighbours overlap
along some edges and leave slivers along others. gridkit adopts it with ``snap=1``
(``grid adopt --snap 1``: GEOS's coverage cleaner, then the refusal checks); the
recipe calls the same ``shapely.coverage_clean`` before it dissolves. Both then
count the problems left.

``dongcheng_apart_units``: the same cells, adopted against the communities' own
boundaries (a GeoPackage of the 8 communities as drawn, ``grid adopt --units
--snap 1``). gridkit cleans the cells, then fits their edges within 1 m of a
community's boundary onto it (:func:`gridkit.adopt.fitted_cells`) and checks them
against the communities; the recipe cleans them the same way, clips them to their
community with ``overlay(how="intersection")`` (the tool a GIS user reaches for:
it cuts what lies beyond, and fills no gap) and counts, besides its problems above,
the communities its cells differ from by more than 1 m².

Rows are cells (and micro-grids); notes: problems found.

    python benchmarks/bench_adopt.py                  # all three cases
    python benchmarks/bench_adopt.py --only dongcheng
    python benchmarks/bench_adopt.py --only dongcheng_apart
    python benchmarks/bench_adopt.py --only dongcheng_apart_units
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import run_benchmark

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg"
OUT = Path(__file__).resolve().parent / "results"
CASES = {"dongcheng": "110101", "changping": "110114", "dongcheng_micro": "110101", "dongcheng_apart": "110101",
         "dongcheng_apart_units": "110101"}
SNAP = {"dongcheng_apart": 1.0, "dongcheng_apart_units": 1.0}  # metres; the cases whose cells were digitised apart


def _source(case):
    return OUT / f"adopt_{case.removesuffix('_micro').removesuffix('_units')}.shp"


def _units_source(case):
    return OUT / f"adopt_{case}.gpkg" if case.endswith("_units") else None


def _micro_source(case):
    return OUT / f"adopt_{case}.shp" if case.endswith("_micro") else None


def _output(case, peer):
    return OUT / f"adopt_{case}_{peer}.gpkg"


def prepare(case):
    """Write the case's platform file, outside any timing."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely
    import shapely.affinity

    import gridkit as gk

    path, micro_path, units_path = _source(case), _micro_source(case), _units_source(case)
    if all(p is None or p.exists() for p in (path, micro_path, units_path)):
        return
    OUT.mkdir(exist_ok=True)
    boundary = gk.read_vector(DATA, crs="gcj02")
    comm = gk.unit_hierarchy(boundary[boundary["adcode"] == CASES[case]], code_field="adcode", provisional=True)
    if units_path is not None:
        pyogrio.write_dataframe(comm[["community_code", "geometry"]], units_path)
    cells = gk.unit_grid(comm)
    geoms = cells.geometry.values.copy()
    x0, y0, x1, y1 = geoms[100].bounds
    halves = [shapely.clip_by_rect(geoms[100], x0, y0, (x0 + x1) / 2, y1),
              shapely.clip_by_rect(geoms[100], (x0 + x1) / 2, y0, x1, y1)]
    geoms[100] = halves[0]
    if case in SNAP:  # each vertex moved on its own, by a function of where it is and of its cell
        geoms = np.array([shapely.transform(g, lambda xy, i=i: xy + 0.5 * np.column_stack(
            [np.sin(xy[:, 0] * 1e3 + i * 13.7), np.cos(xy[:, 1] * 1e3 + i * 7.1)])) for i, g in enumerate(geoms)])
    else:
        geoms[200] = shapely.affinity.translate(geoms[200], xoff=-3)
    ids = [*cells["grid_id"], cells["grid_id"].iloc[100]]
    frame = gpd.GeoDataFrame({
        "WGBM": np.array(ids, dtype="int64"),
        "SQMC": [f"社区{i[9:12]}" for i in ids],
        "GLY": [f"网格员{i % 40}" for i in range(len(ids))],
    }, geometry=gpd.GeoSeries([*geoms, halves[1]], crs=cells.crs).to_crs(4490).values, crs=4490)
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    if micro_path is not None:
        micro_ids, quarters = [], []
        for grid_id, cell in zip(cells["grid_id"], cells.geometry.values):
            x0, y0, x1, y1 = cell.bounds
            xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
            parts = [shapely.clip_by_rect(cell, *box)
                     for box in [(x0, ym, xm, y1), (xm, ym, x1, y1), (x0, y0, xm, ym), (xm, y0, x1, ym)]]
            parts = [part for part in parts if shapely.area(part) > 0]  # a cell on the edge may miss a quarter
            micro_ids += [f"{grid_id}{k:02d}" for k in range(1, len(parts) + 1)]
            quarters += parts
        quarters[40] = shapely.affinity.translate(quarters[40], xoff=2)
        micro = gpd.GeoDataFrame({"WWGBM": micro_ids}, geometry=quarters, crs=cells.crs).to_crs(4490)
        pyogrio.write_dataframe(micro, micro_path, encoding="GBK")


def run_gridkit(case):
    import gridkit as gk
    from gridkit.adopt import adopted_grid, adopted_micro_grids, community_boundaries

    out = _output(case, "gridkit")
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    given = (None if _units_source(case) is None else
             community_boundaries(gk.read_vector(_units_source(case)), code_field="community_code"))
    cells, communities = adopted_grid(gk.read_vector(_source(case), arrow=True), snap=SNAP.get(case),
                                      communities=given)
    problems = len(gk.check_partition(cells, communities).problems)
    micro = None
    if _micro_source(case) is not None:
        micro = adopted_micro_grids(gk.read_vector(_micro_source(case), arrow=True), cells)
        problems += len(gk.check_partition(micro, cells, unit_key="grid_id", id_field="micro_id").problems)
    gk.write_package(out, cells, communities, extra_layers={"micro_grids": micro})
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(cells) + (0 if micro is None else len(micro)), "problems": problems}


def run_geopandas(case):
    import geopandas as gpd
    import pandas as pd
    import shapely

    out = _output(case, "geopandas")
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    cells = gpd.read_file(_source(case), engine="pyogrio", encoding="GBK").to_crs(4548)
    if case in SNAP:
        cells.geometry = shapely.coverage_clean(cells.geometry.values, gap_width=SNAP[case],
                                                snapping_distance=SNAP[case])
    ids = cells["WGBM"].astype("int64").astype(str)
    bad = int((~ids.str.fullmatch(r"\d{15}") | (ids.str[12:] == "000")).sum())
    cells = cells.assign(grid_id=ids, community_code=ids.str[:12], street_code=ids.str[:9], county_code=ids.str[:6],
                         community_name=cells["SQMC"])
    given = None
    if _units_source(case) is not None:  # clipped to their community, and each community compared with its cells
        given = gpd.read_file(_units_source(case), engine="pyogrio").to_crs(4548)
        cells = gpd.overlay(cells, given.rename(columns={"community_code": "own"}), how="intersection")
        cells = cells[cells["own"] == cells["community_code"]].drop(columns="own")
    duplicated = int(cells["grid_id"].duplicated().sum())
    pairs = gpd.sjoin(cells, cells, predicate="overlaps")
    overlaps = int((pairs.index < pairs["index_right"]).sum())
    levels = ("county_code", "street_code", "community_code")
    units = pd.concat([cells.dissolve(by=level, as_index=False)[[level, "geometry"]].rename(columns={level: "code"})
                       .assign(level=level.split("_")[0]) for level in levels], ignore_index=True)
    cells.to_file(out, layer="cells", driver="GPKG", engine="pyogrio")
    gpd.GeoDataFrame(units, crs=cells.crs).to_file(out, layer="units", driver="GPKG", engine="pyogrio")
    rows, problems = len(cells), bad + duplicated + overlaps
    if given is not None:
        joined = given.set_index("community_code").geometry
        made = cells.dissolve(by="community_code").geometry
        problems += int((joined.symmetric_difference(made.reindex(joined.index), align=True).area > 1).sum())
    if _micro_source(case) is not None:
        micro = gpd.read_file(_micro_source(case), engine="pyogrio", encoding="GBK").to_crs(4548)
        micro = micro.assign(micro_id=micro["WWGBM"].astype(str), grid_id=micro["WWGBM"].astype(str).str[:15])
        problems += int((~micro["micro_id"].str.fullmatch(r"\d{15}(?!00)\d{2}")
                         | ~micro["grid_id"].isin(cells["grid_id"])).sum())
        pairs = gpd.sjoin(micro, micro, predicate="overlaps")
        problems += int((pairs.index < pairs["index_right"]).sum())
        micro.to_file(out, layer="micro_grids", driver="GPKG", engine="pyogrio")
        rows += len(micro)
    seconds = time.perf_counter() - t
    return seconds, {"rows": rows, "problems": problems}


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("problems",), rate="M cells/s")
