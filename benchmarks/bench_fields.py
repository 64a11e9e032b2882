"""``gridkit components check`` against the pandas script a GIS user would write, same catalogue, same run.

The input: ``bench_export``'s Dongcheng catalogue (``bench_components``' 168,339
random components imported into the Dongcheng grid, 167,217 kept), given what real
inventories give, once, before any timing (seeded): each component's responsible
department from 40 departments, one of whose credit codes has a wrong check
character and one of which is left out (empty); 1 % of survey dates no real day
(20260231); 0.5 % of names over 30 characters; 0.5 % of statuses a word outside the
five. Each peer reads the components layer and must find those.

* ``gridkit``: ``read_catalogue`` + :func:`gridkit.conformance.field_problems` (what
  ``components check`` runs): every field of the standard's table, each problem a row.
* ``pandas``: ``read_file``; per field ``isna``, ``str.len``; credit codes by
  ``apply`` of the GB 32100 check character on each row; ``to_datetime`` for the
  dates; ``isin`` for the status; the problems concatenated. (No provisional codes,
  no change date against the survey date, no IDs' form, class, county or duplicates:
  fewer checks, so a lower bound on its time.)

Rows are components; notes: problems found by each. The layout is provisional, so
gridkit also names every component's grid ID as provisional (167,217 of its 178,968);
the other 11,751 are the script's.

    python benchmarks/bench_fields.py
"""

from __future__ import annotations

import time

from _children import run_benchmark

CASES = ("dongcheng",)


def _catalogue():
    """The Dongcheng catalogue with departments, dates, names and statuses as described."""
    from bench_components import CACHE

    path = CACHE / "dongcheng_fields.gpkg"
    if path.exists():
        return path
    import shutil

    import numpy as np

    from bench_export import _catalogue as imported
    from gridkit.catalogue import read_catalogue, write_catalogue
    from gridkit.routing import _USCC_CHARS, uscc_check_character

    rng = np.random.default_rng(32100)
    codes = []
    for i in range(40):  # credit codes with their check character (GB 32100-2015)
        body = "11110101" + "".join(rng.choice(list(_USCC_CHARS[:10]), 9))
        codes.append(body + uscc_check_character(body))
    codes[0] = codes[0][:-1] + ("1" if codes[0][-1] != "1" else "2")  # a typo in the check character
    codes[1] = None  # a department whose code nobody filled in
    catalogue = read_catalogue(imported())
    n = len(catalogue)
    catalogue["ZGBMDM"] = np.array(codes, dtype=object)[rng.integers(0, 40, n)]
    catalogue["ZGBMMC"] = "城市管理委员会"
    catalogue.loc[rng.random(n) < 0.01, "CSRQ"] = "20260231"
    catalogue.loc[rng.random(n) < 0.005, "GLBJMC"] = "路灯" * 16
    catalogue.loc[rng.random(n) < 0.005, "GLBJZT"] = "坏了"
    work = path.with_suffix(".part.gpkg")
    shutil.copy2(imported(), work)
    write_catalogue(work, catalogue)
    work.rename(path)
    return path


def prepare(case):
    _catalogue()


def run_gridkit(case):
    from gridkit.catalogue import read_catalogue
    from gridkit.conformance import field_problems

    t = time.perf_counter()
    catalogue = read_catalogue(_catalogue())
    problems = field_problems(catalogue)
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(catalogue), "problems": len(problems)}


def run_pandas(case):
    import geopandas as gpd
    import pandas as pd

    from gridkit.routing import uscc_problem

    t = time.perf_counter()
    c = gpd.read_file(_catalogue(), layer="components", engine="pyogrio")
    found = []
    for field, length, mandatory in (("GLBJBSM", 17, True), ("GLBJMC", 30, True), ("ZGBMDM", 18, True),
                                     ("ZGBMMC", 100, True), ("SZDYWGBSM", 15, True), ("GLBJZT", 10, True),
                                     ("CSRQ", 8, True), ("BZ", 1000, False), ("SJLY", 30, False)):
        if mandatory:
            found.append(c.loc[c[field].isna(), ["GLBJBSM"]].assign(field=field, problem="empty"))
        found.append(c.loc[c[field].str.len() > length, ["GLBJBSM"]].assign(field=field, problem="too_long"))
    code = c["ZGBMDM"].dropna()
    bad = code[code.apply(uscc_problem).notna()]
    found.append(c.loc[bad.index, ["GLBJBSM"]].assign(field="ZGBMDM", problem="bad_credit_code"))
    days = pd.to_datetime(c["CSRQ"], format="%Y%m%d", errors="coerce")
    found.append(c.loc[days.isna() & c["CSRQ"].notna(), ["GLBJBSM"]].assign(field="CSRQ", problem="bad_date"))
    found.append(c.loc[~c["GLBJZT"].isin(["完好", "破损", "丢失", "废弃", "移除"]), ["GLBJBSM"]]
                 .assign(field="GLBJZT", problem="bad_status"))
    problems = pd.concat(found, ignore_index=True)
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(c), "problems": len(problems)}


PEERS = {"gridkit": run_gridkit, "pandas": run_pandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("problems",), rate="M rows/s")
