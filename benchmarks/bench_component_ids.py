"""``gridkit components check --fix-ids`` against the geopandas script a GIS user would write, same catalogue, same run.

The input: ``bench_export``'s Dongcheng catalogue (``bench_components``' 168,339
random components imported into the Dongcheng grid, 167,217 kept), its attribute
table then "edited by hand" (seeded, made once): 1,000 components given the ID of
another (a value pasted over) and 100 with their ID deleted.

* ``gridkit``: ``read_catalogue``, :func:`gridkit.catalogue.issue_component_ids`
  and ``write_catalogue`` on a copy of the package (what ``--fix-ids`` runs before
  the check): of the components sharing an ID one keeps it (in use, then the
  earliest surveyed, then the first); the others, the blank ones and those whose ID
  carries another class than theirs (an ID pasted over from another class) take
  the next sequences of their county and class after the highest, with a change
  date.
* ``geopandas``: ``read_file`` of the components; the keepers by ``sort_values`` and
  ``drop_duplicates``, of the IDs of the component's class; the next sequences per county and class after the highest
  (``groupby().max()`` and ``cumcount()``); the layer written back into a copy of
  the package by ``to_file``. (It writes no QGIS style, as ``write_catalogue`` does.)

Rows are components; notes: IDs given, and how many IDs the two give alike.

    python benchmarks/bench_component_ids.py
"""

from __future__ import annotations

import shutil
import time

from _children import fresh_copy, run_benchmark

CASES = ("dongcheng",)
PASTED, BLANK = 1_000, 100
TODAY = "20261201"


def _edited():
    """The Dongcheng catalogue with IDs pasted over and deleted (made once)."""
    from bench_components import CACHE

    path = CACHE / "component_ids_dongcheng.gpkg"
    if path.exists():
        return path
    import numpy as np

    from bench_export import _catalogue
    from gridkit.catalogue import read_catalogue, write_catalogue

    work = path.with_suffix(".part.gpkg")
    shutil.copy2(_catalogue(), work)
    catalogue = read_catalogue(work)
    ids = catalogue["GLBJBSM"].astype(object).to_numpy(copy=True)
    rng = np.random.default_rng(47678)
    picked = rng.choice(len(ids), PASTED + BLANK, replace=False)
    ids[picked[:PASTED]] = ids[rng.integers(0, len(ids), PASTED)]
    ids[picked[PASTED:]] = None
    catalogue["GLBJBSM"] = ids
    write_catalogue(work, catalogue)
    work.rename(path)
    return path


def _work(peer):
    from bench_components import CACHE

    return fresh_copy(_edited(), CACHE / f"component_ids_{peer}.gpkg")


def prepare(case):
    _edited()


def run_gridkit(case):
    from gridkit.catalogue import issue_component_ids, read_catalogue, write_catalogue

    work = _work("gridkit")
    t = time.perf_counter()
    catalogue, changes = issue_component_ids(read_catalogue(work), today=TODAY)
    write_catalogue(work, catalogue)
    seconds = time.perf_counter() - t
    catalogue[["GLBJBSM"]].to_parquet(_answers())  # for the script to be compared with, after its clock
    return seconds, {"rows": len(catalogue), "given": len(changes), "alike": len(catalogue)}


def run_geopandas(case):
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    work = _work("geopandas")
    t = time.perf_counter()
    c = gpd.read_file(work, layer="components", engine="pyogrio")
    order = c.assign(removed=c["end_date"].notna(), surveyed=c["CSRQ"].fillna("~"), row=np.arange(len(c)))
    own = order["GLBJBSM"].notna() & (order["GLBJBSM"].str[6:11] == order["class_code"])
    keep = order[own].sort_values(["GLBJBSM", "removed", "surveyed", "row"]) \
        .drop_duplicates("GLBJBSM").index
    todo = c.loc[~c.index.isin(keep), ["county_code", "class_code"]]
    prefix = (todo["county_code"] + todo["class_code"]).sort_values(kind="stable")
    held = c["GLBJBSM"].dropna()
    highest = held.str[-6:].astype(int).groupby(held.str[:-6]).max()
    sequence = prefix.map(highest).fillna(0).astype(int) + prefix.groupby(prefix).cumcount() + 1
    c.loc[prefix.index, "GLBJBSM"] = prefix + sequence.map("{:06d}".format)
    c.loc[prefix.index, "BGRQ"] = TODAY
    c.to_file(work, layer="components", driver="GPKG", engine="pyogrio")
    seconds = time.perf_counter() - t
    alike = int((c["GLBJBSM"].to_numpy() == pd.read_parquet(_answers())["GLBJBSM"].to_numpy()).sum()) \
        if _answers().exists() else -1
    return seconds, {"rows": len(c), "given": len(prefix), "alike": alike}


def _answers():
    from bench_components import CACHE

    return CACHE / "component_ids_gridkit.parquet"


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("given", "alike"),
                  rate="M components/s")
