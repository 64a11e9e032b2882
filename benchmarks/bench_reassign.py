"""``gridkit components reassign`` against the geopandas recipe a GIS user would write, same package, same run.

The input: ``bench_export``'s Dongcheng catalogue (``bench_components``' 167,217
random components in 4,278 cells of 8 communities), its cells then "edited by hand"
(made once, seeded): 60 cells split in two at the middle of their x range, the east
half given the next free ID of its community, as a planner would after Split
Features in QGIS. The components in the east halves are in another cell now.

* ``gridkit``: ``read_package`` (the cells), ``read_catalogue``,
  :func:`gridkit.catalogue.reassign_catalogue` and ``write_catalogue`` into a copy of
  the package (what ``components reassign`` runs after checking the cells, which the
  recipe does not do): every component in use gets the cell holding it, its
  community and street, its status and distance; those whose cell changed a change
  date.
* ``geopandas``: ``read_file`` of the cells and the components; ``sjoin``
  (``within``) of the components to the cells; where the joined cell differs from
  ``SZDYWGBSM``, the grid ID, community and street columns taken from the cell and
  the change date set; the components layer written into a copy of the package by
  ``to_file``. (Components outside every cell, assigned to the nearest, keep theirs.)

Rows are components; notes: components whose cell changed, and components whose
cell the two agree on.

    python benchmarks/bench_reassign.py
"""

from __future__ import annotations

import shutil
import time

from _children import fresh_copy, run_benchmark, split_cells

CASES = ("dongcheng",)
SPLIT = 60
TODAY = "20261125"


def _edited():
    """The Dongcheng catalogue's package with ``SPLIT`` cells split (made once)."""
    from bench_components import CACHE

    path = CACHE / "dongcheng_edited.gpkg"
    if path.exists():
        return path
    import geopandas as gpd
    import numpy as np
    import pyogrio

    from bench_export import _catalogue

    work = path.with_suffix(".part.gpkg")
    shutil.copy2(_catalogue(), work)
    cells = gpd.read_file(work, layer="cells", engine="pyogrio")
    picked = np.random.default_rng(2157).choice(len(cells), SPLIT, replace=False)
    cells = split_cells(cells, picked)
    highest = cells.groupby("community_code")["grid_id"].max().astype(int).to_dict()
    ids = cells["grid_id"].astype(object).to_numpy().copy()
    for row in range(len(cells) - SPLIT, len(cells)):  # the east parts: the next free ID of their community
        highest[cells["community_code"].iat[row]] += 1
        ids[row] = str(highest[cells["community_code"].iat[row]])
    cells["grid_id"] = ids
    pyogrio.write_dataframe(cells, work, layer="cells", driver="GPKG")
    work.rename(path)
    return path


def _work(peer):
    from bench_components import CACHE

    return fresh_copy(_edited(), CACHE / f"reassign_{peer}.gpkg")


def prepare(case):
    _edited()


def run_gridkit(case):
    from gridkit.catalogue import read_catalogue, reassign_catalogue, write_catalogue
    from gridkit.package import read_package

    work = _work("gridkit")
    t = time.perf_counter()
    cells = read_package(work)[0]
    placed, moved = reassign_catalogue(read_catalogue(work), cells, today=TODAY)
    write_catalogue(work, placed)
    seconds = time.perf_counter() - t
    _answers().parent.mkdir(parents=True, exist_ok=True)
    placed[["SZDYWGBSM"]].to_parquet(_answers())  # for the recipe to be compared with, after its clock
    return seconds, {"rows": len(placed), "moved": moved, "agree": len(placed)}


def run_geopandas(case):
    import geopandas as gpd

    work = _work("geopandas")
    t = time.perf_counter()
    cells = gpd.read_file(work, layer="cells", engine="pyogrio", use_arrow=True)
    c = gpd.read_file(work, layer="components", engine="pyogrio", use_arrow=True)
    joined = c[["geometry"]].sjoin(cells[["grid_id", "community_code", "community_name", "street_code",
                                          "street_name", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]  # a point on a shared edge: the first cell
    moved = joined["grid_id"].notna() & (joined["grid_id"] != c["SZDYWGBSM"]) & c["end_date"].isna()
    for column, source in (("SZDYWGBSM", "grid_id"), ("SZSQDM", "community_code"), ("SZSQMC", "community_name"),
                           ("SZJDDM", "street_code"), ("SZJDMC", "street_name")):
        c.loc[moved, column] = joined.loc[moved, source]
    c.loc[moved, "BGRQ"] = TODAY
    c.to_file(work, layer="components", driver="GPKG", engine="pyogrio")
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(c), "moved": int(moved.sum()), "agree": _agree(c["SZDYWGBSM"])}


def _answers():
    from bench_components import CACHE

    return CACHE.parent / "reassign_gridkit.parquet"


def _agree(grid_ids):
    """Rows whose cell is the one gridkit gave (it runs first, and saves them)."""
    import pandas as pd

    if not _answers().exists():
        return -1
    return int((pd.Series(grid_ids).fillna("").to_numpy() == pd.read_parquet(_answers())["SZDYWGBSM"]
                .fillna("").to_numpy()).sum())


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("moved", "agree"))
