"""``gridkit check --fix-ids`` against the geopandas script a GIS user would write, same package, same run.

The input: ``bench_check``'s Changping package (about 134,000 cells, made once), its
cells then "edited by hand" (seeded, made once): 500 cells split in two at the middle
of their x range (Split Features: both parts keep the ID) and 100 drawn again with
their ID left blank.

* ``gridkit``: :func:`gridkit.package.issue_missing_ids` on a copy of the package
  (what ``check --fix-ids`` runs before the check): the larger part of a split cell
  keeps its ID, the rest take the next free IDs of their community in reading
  order, written into the package atomically.
* ``geopandas``: ``read_file`` of the cells; duplicated IDs (all but the largest)
  and blank ones; the next IDs per community after its highest, in reading order
  (``sort_values`` and ``groupby().cumcount()``); the cells layer written back into
  a copy of the package by ``to_file``. (No ended IDs or issued record: there are
  none here.)

Rows are cells; notes: IDs given, and how many the two give alike.

    python benchmarks/bench_fix_ids.py
"""

from __future__ import annotations

import shutil
import time

from _children import fresh_copy, run_benchmark, split_cells

CASES = ("changping",)
SPLIT, BLANK = 500, 100


def _edited():
    """The Changping package with cells split and IDs blanked (made once)."""
    from bench_check import OUT

    path = OUT / "fix_ids_changping.gpkg"
    if path.exists():
        return path
    import geopandas as gpd
    import numpy as np
    import pyogrio

    import bench_check

    bench_check.prepare("changping")
    work = path.with_suffix(".part.gpkg")
    shutil.copy2(bench_check._package("changping"), work)
    cells = gpd.read_file(work, layer="cells", engine="pyogrio")
    cells["grid_id"] = cells["grid_id"].astype(object)
    picked = np.random.default_rng(2157).choice(len(cells), SPLIT + BLANK, replace=False)
    cells.loc[cells.index[picked[SPLIT:]], "grid_id"] = None
    pyogrio.write_dataframe(split_cells(cells, picked[:SPLIT]), work, layer="cells", driver="GPKG")
    work.rename(path)
    return path


def _work(peer):
    from bench_check import OUT

    return fresh_copy(_edited(), OUT / f"fix_ids_{peer}.gpkg")


def prepare(case):
    _edited()


def run_gridkit(case):
    import geopandas as gpd

    from gridkit.package import issue_missing_ids

    work = _work("gridkit")
    t = time.perf_counter()
    changes = issue_missing_ids(work)
    seconds = time.perf_counter() - t
    ids = gpd.read_file(work, layer="cells", engine="pyogrio", columns=["grid_id"], read_geometry=False)["grid_id"]
    ids.to_frame().to_parquet(_answers())  # for the script to be compared with, after its clock
    return seconds, {"rows": len(ids), "given": len(changes["cells"]), "alike": len(ids)}


def run_geopandas(case):
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    work = _work("geopandas")
    t = time.perf_counter()
    cells = gpd.read_file(work, layer="cells", engine="pyogrio")
    area = cells.area
    keep = cells.assign(area=-area, row=np.arange(len(cells))).dropna(subset=["grid_id"]) \
        .sort_values(["grid_id", "area", "row"]).drop_duplicates("grid_id").index
    need = ~cells.index.isin(keep)
    inner = cells.geometry[need].representative_point()
    todo = pd.DataFrame({"community": cells.loc[need, "community_code"], "y": -inner.y, "x": inner.x})
    todo = todo.sort_values(["community", "y", "x"])
    highest = cells["grid_id"].dropna().str[12:].astype(int).groupby(cells["community_code"]).max()
    sequence = todo["community"].map(highest) + todo.groupby("community").cumcount() + 1
    cells.loc[todo.index, "grid_id"] = todo["community"] + sequence.map("{:03d}".format)
    cells.to_file(work, layer="cells", driver="GPKG", engine="pyogrio")
    seconds = time.perf_counter() - t
    alike = int((cells["grid_id"].to_numpy() == pd.read_parquet(_answers())["grid_id"].to_numpy()).sum()) \
        if _answers().exists() else -1
    return seconds, {"rows": len(cells), "given": len(todo), "alike": alike}


def _answers():
    from bench_check import OUT

    return OUT / "fix_ids_gridkit.parquet"


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("given", "alike"), rate="M cells/s")
