"""The map picture (``gridkit map`` / ``--preview``) against geopandas' ``plot``, same package, same run.

The input: a grid package built before any timing, read before the clock starts:

* ``dongcheng``: Dongcheng's 4,278 cells in 8 provisional communities;
* ``shenzhen``: Shenzhen's ten districts by name only (``tile_large``), 215,219
  cells in 341 provisional communities.

Peers, each in a fresh subprocess (time and peak memory its own):

* ``gridkit``: :func:`gridkit.preview.plot_layout` written to a PNG: cells by
  community, unit outlines, 12 labels (one compound path per colour);
* ``geopandas``: the recipe a GIS user writes: ``cells.plot(column="community_code",
  cmap="tab20", edgecolor="white", linewidth=0.15)``, the units' ``boundary.plot``,
  ``savefig`` (a patch per cell; no labels, so a lower bound on its time).

Rows are cells. matplotlib is imported before the clock in both (about 0.7 s).

    python benchmarks/bench_map.py                  # both cases
    python benchmarks/bench_map.py --only shenzhen
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import run_benchmark

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).resolve().parent / "results"
CASES = ("dongcheng", "shenzhen")


def _package(case):
    return OUT / f"map_{case}.gpkg"


def prepare(case):
    """Build the case's package, outside any timing."""
    import gridkit as gk

    path = _package(case)
    if path.exists():
        return
    OUT.mkdir(exist_ok=True)
    if case == "dongcheng":
        boundary = gk.read_vector(SHARED / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg", crs="gcj02")
        comm = gk.unit_hierarchy(boundary[boundary["adcode"] == "110101"], code_field="adcode", provisional=True)
    else:
        districts = gk.read_vector(SHARED / "shenzhen_futian" / "shenzhen_districts_wgs84.json")
        comm = gk.unit_hierarchy(districts, name_field="qh", provisional=True, parent_code="990301",
                                 tile_large=True)
    gk.write_package(path, gk.unit_grid(comm), comm)


def run_gridkit(case):
    import importlib

    from gridkit.package import read_package
    from gridkit.preview import plot_layout

    cells, units, _ = read_package(_package(case))
    importlib.import_module("matplotlib.figure")  # before the clock, as in the geopandas peer
    t = time.perf_counter()
    plot_layout(cells, units, OUT / f"map_{case}_gridkit.png")
    return time.perf_counter() - t, {"rows": len(cells)}


def run_geopandas(case):
    import geopandas as gpd
    from matplotlib.figure import Figure

    cells = gpd.read_file(_package(case), layer="cells", engine="pyogrio")
    units = gpd.read_file(_package(case), layer="units", engine="pyogrio")
    t = time.perf_counter()
    fig = Figure(figsize=(9, 9), dpi=110)
    ax = fig.subplots()
    cells.plot(ax=ax, column="community_code", cmap="tab20", edgecolor="white", linewidth=0.15)
    units.boundary.plot(ax=ax, color="black", linewidth=0.8)
    fig.savefig(OUT / f"map_{case}_geopandas.png")
    return time.perf_counter() - t, {"rows": len(cells)}


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, {c: c for c in CASES}, PEERS, prepare=prepare, rate="M cells/s")
