"""gridkit check against the geopandas recipe a GIS user would write, same package, same run.

The input: a grid package of Dongcheng (4,278 cells) or Changping (1,344 km², about
134,000 cells), built before any timing, then "edited by hand": one cell moved 3 m
east (an overlap and a gap), one shrunk by 2 m (a ring of gap) and one ID typed
with a digit missing. Each peer reads the package and must find those.

* ``gridkit``: :func:`gridkit.check_package` (what ``gridkit check`` runs): every
  invariant, each problem with its place.
* ``geopandas``: ``read_file``; ``is_valid``; ``duplicated`` IDs; overlapping pairs by
  ``sjoin(predicate="overlaps")`` and their intersection areas; gaps by
  ``overlay(communities, cells, how="difference")``. (No ID format check, no cell
  beyond its community: fewer checks, so a lower bound on its time.)

Rows are cells; notes: problems found (gridkit), overlapping pairs and gap parts
over 1 m² (geopandas).

    python benchmarks/bench_check.py                  # both cases
    python benchmarks/bench_check.py --only dongcheng
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import run_benchmark

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg"
OUT = Path(__file__).resolve().parent / "results"
CASES = {"dongcheng": "110101", "changping": "110114"}


def _package(case):
    return OUT / f"check_{case}.gpkg"


def prepare(case):
    """Build the case's package and edit it, outside any timing."""
    import geopandas as gpd
    import pyogrio
    import shapely
    import shapely.affinity

    import gridkit as gk

    path = _package(case)
    if path.exists():
        return
    OUT.mkdir(exist_ok=True)
    boundary = gk.read_vector(DATA, crs="gcj02")
    comm = gk.unit_hierarchy(boundary[boundary["adcode"] == CASES[case]], code_field="adcode", provisional=True)
    gk.write_package(path, gk.unit_grid(comm), comm)
    cells = gpd.read_file(path, layer="cells")
    g = cells.geometry.values.copy()
    g[100] = shapely.affinity.translate(g[100], xoff=3)
    g[200] = shapely.buffer(g[200], -2, join_style="mitre")
    cells.geometry = g
    cells.loc[300, "grid_id"] = cells.loc[300, "grid_id"][:-1]
    pyogrio.write_dataframe(cells, path, layer="cells", driver="GPKG")


def run_gridkit(case):
    import gridkit as gk

    t = time.perf_counter()
    reports = gk.check_package(_package(case))
    seconds = time.perf_counter() - t
    return seconds, {"rows": reports["cells"].cells, "problems": len(reports["cells"].problems)}


def run_geopandas(case):
    import geopandas as gpd

    t = time.perf_counter()
    path = _package(case)
    cells = gpd.read_file(path, layer="cells", engine="pyogrio")
    units = gpd.read_file(path, layer="units", engine="pyogrio")
    communities = units[units["level"] == "community"]
    invalid = int((~cells.is_valid).sum())
    duplicated = int(cells["grid_id"].duplicated().sum())
    pairs = gpd.sjoin(cells, cells, predicate="overlaps")
    pairs = pairs[pairs.index < pairs["index_right"]]
    overlap = pairs.geometry.intersection(cells.geometry.loc[pairs["index_right"]], align=False).area
    gaps = gpd.overlay(communities, cells, how="difference").explode()
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(cells), "invalid": invalid, "duplicated": duplicated,
                     "overlaps": int((overlap > 1).sum()), "gap_parts": int((gaps.area > 1).sum())}


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare,
                  notes=("problems", "invalid", "duplicated", "overlaps", "gap_parts"), rate="M cells/s")
