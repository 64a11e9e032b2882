"""``gridkit components departments`` against the pandas script a GIS user would write, same catalogue, same run.

The input: ``bench_export``'s Dongcheng catalogue (``bench_components``' 167,217
random components of all 153 classes in 4,278 cells of 8 communities), with no
department codes, and a routing table made once (seeded): ``route starter``'s class
rules (62 departments, each given a credit code), the street's territorial authority,
an override of big class 04 in 3 communities and of every class in 20 cells (schools,
parks: ``"*"``), so that each level of the precedence decides some rows.

* ``gridkit``: ``read_catalogue``, ``RoutingTable.load`` and
  :func:`gridkit.catalogue.route_departments` (what ``components departments`` runs,
  less the writing of the package, which the script does not do either).
* ``pandas``: ``read_file``; the table's ``[[rule]]`` as a frame; for each area level
  (cell, community, street, county, city) and class key (class, big class, ``"*"``),
  most specific first, a ``merge`` filling the rows still without a department; the
  territorial authority by ``map``; codes by ``map`` of the department names.

Rows are components; notes: rows given a code, and rows where the two agree (code
and name).

    python benchmarks/bench_departments.py
"""

from __future__ import annotations

import time

from _children import run_benchmark

CASES = ("dongcheng",)


def _table():
    """The routing table, as TOML in the cache (made once)."""
    from bench_components import CACHE

    path = CACHE / "dongcheng_routing.toml"
    if path.exists():
        return path
    import re

    import numpy as np
    import pyogrio

    from bench_export import _catalogue
    from gridkit.routing import _USCC_CHARS, starter_table, uscc_check_character

    rng = np.random.default_rng(214)

    def code():
        body = "11110101" + "".join(rng.choice(list(_USCC_CHARS[:10]), 9))
        return body + uscc_check_character(body)

    text = re.sub(r'code = ""', lambda _: f'code = "{code()}"', starter_table())
    held = pyogrio.read_dataframe(_catalogue(), layer="components", read_geometry=False,
                                  columns=["SZDYWGBSM", "SZSQDM", "SZJDDM"])
    communities = sorted(held["SZSQDM"].unique())[:3]
    cells = rng.choice(sorted(held["SZDYWGBSM"].unique()), 20, replace=False)
    text += (f'\n[departments."东华门街道办事处"]\ncode = "{code()}"\n'
             f'[departments."公园管理处"]\ncode = "{code()}"\n[departments."校园"]\ncode = "{code()}"\n'
             f'[[rule]]\narea = [{", ".join(f"{chr(34)}{c}{chr(34)}" for c in communities)}]\n'
             f'classes = ["04"]\ndepartment = "公园管理处"\n'
             f'[[rule]]\narea = [{", ".join(f"{chr(34)}{c}{chr(34)}" for c in cells)}]\n'
             f'classes = ["*"]\ndepartment = "校园"\n')
    street = held["SZJDDM"].iloc[0]
    territorial = '"*" = "{street_name}街道办事处"'
    text = text.replace(territorial, f'{territorial}\n"{street}" = "东华门街道办事处"')
    work = path.with_suffix(".part")
    work.write_text(text, encoding="utf-8")
    work.rename(path)
    return path


def prepare(case):
    from bench_export import _catalogue

    _catalogue()
    _table()


def run_gridkit(case):
    from bench_export import _catalogue
    from gridkit.catalogue import DEPARTMENT_FIELDS, read_catalogue, route_departments
    from gridkit.routing import RoutingTable

    t = time.perf_counter()
    catalogue = read_catalogue(_catalogue())
    filled, summary = route_departments(catalogue, RoutingTable.load(_table()), today="20261125")
    seconds = time.perf_counter() - t
    _answers().parent.mkdir(parents=True, exist_ok=True)
    filled[list(DEPARTMENT_FIELDS)].to_parquet(_answers())  # for the peers to be compared with, after their clock
    return seconds, {"rows": len(filled), "coded": len(filled) - summary["no_code"], "agree": len(filled)}


def run_pandas(case):
    import tomllib

    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from bench_export import _catalogue

    t = time.perf_counter()
    c = gpd.read_file(_catalogue(), layer="components", engine="pyogrio")
    with open(_table(), "rb") as fh:
        table = tomllib.load(fh)
    areas_of = [r.get("area", "") for r in table["rule"]]
    rules = pd.DataFrame([{"area": area, "key": key, "department": r["department"]}
                          for r, given in zip(table["rule"], areas_of)
                          for area in (given if isinstance(given, list) else [given]) for key in r["classes"]])
    rules = rules.drop_duplicates(["area", "key"])  # the first rule of an area and class is used
    areas = [c["SZDYWGBSM"], c["SZSQDM"], c["SZJDDM"], c["county_code"], pd.Series("", index=c.index)]
    keys = [c["class_code"], c["class_code"].str[:2], pd.Series("*", index=c.index)]
    department = pd.Series(np.nan, index=c.index, dtype=object)
    for area in areas:
        for key in keys:
            todo = department.isna()
            if not todo.any():
                break
            found = pd.DataFrame({"area": area[todo], "key": key[todo]}).merge(rules, how="left", on=["area", "key"])
            department[todo] = found["department"].to_numpy()
    for area in areas:  # no rule: the territorial authority of the most specific area naming one
        department = department.fillna(area.map(table["territorial"]))
    department = department.str.replace("{street_name}", "", regex=False)
    codes = {name: d.get("code") or None for name, d in table["departments"].items()}
    c["ZGBMMC"], c["ZGBMDM"] = department, department.map(codes)
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(c), "coded": int(c["ZGBMDM"].notna().sum()), "agree": _agree(c["ZGBMDM"], c["ZGBMMC"])}


def _answers():
    from bench_components import CACHE

    return CACHE.parent / "departments_gridkit.parquet"


def _agree(code, name):
    """Rows whose code and name are those gridkit gave (it runs first, and saves them)."""
    import pandas as pd

    if not _answers().exists():
        return -1
    ref = pd.read_parquet(_answers())
    same = (pd.Series(code).fillna("").to_numpy() == ref["ZGBMDM"].fillna("").to_numpy()) & (
        pd.Series(name).fillna("").to_numpy() == ref["ZGBMMC"].fillna("").to_numpy())
    return int(same.sum())


PEERS = {"gridkit": run_gridkit, "pandas": run_pandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("coded", "agree"), rate="M rows/s")
