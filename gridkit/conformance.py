"""Does a catalogue meet the standard's component fields? Before it goes to the platform.

GB/T 47678.5-2026 lists the fields of a component record (``tables/
gbt47678.5-2026_fields.csv``): each with its length and whether it is mandatory
(M), conditional (C) or optional (O). The import validates IDs and classes and fills
the grid, street and community from the cell; the rest comes from the inventories as
they were written, and a city platform refuses a record that does not meet the table.
:func:`field_problems` lists what would be refused, one row per component and field:

* ``empty``: a mandatory field is empty (the responsible department's credit code
  ``ZGBMDM``, most often: the inventories rarely have it, and
  :func:`~gridkit.catalogue.route_departments` fills it from the routing table);
* ``too_long``: more characters than the field holds (a name over 30);
* ``bad_credit_code``: a department code that is no unified social credit code
  (GB 32100-2015: 18 characters, the last a check character);
* ``bad_date``: a date that is not a real ``YYYYMMDD`` day, or a change date
  (``BGRQ``) before the survey date (``CSRQ``);
* ``bad_status``: a status that is none of the standard's five words;
* ``bad_id``: a component ID not of the standard's form (17 digits: county, class,
  sequence; 16 in a legacy catalogue), of a class the table does not know, or of a
  county other than the layout's;
* ``duplicate_id``: an ID that more than one component holds;
* ``bad_class``, ``other_class`` (and ``empty``) of gridkit's ``class_code``: a
  class code that is none of the table's, or another than the ID's;
* ``no_position``: a component without a point (deleted in QGIS, or a row added
  in the attribute table without one): no cell holds it;
* ``provisional``: a grid ID from gridkit's provisional ranges (street 900 and up,
  county 99): a layout made with ``--provisional`` needs the real codes before
  delivery.

All but ``provisional`` and the class column's break the standard: the first names
codes the platform cannot place, the others a component gridkit counts, routes and
draws under another class than its ID's. Removed components (``移除``) are records
too and are checked: an ID is one component's, in use or not. A length is counted in characters (the table does not
say bytes). The import validates the IDs too; they are checked again because a
catalogue's attribute table can be edited in QGIS (an ID typed over, a row pasted
twice), and so is the class column (a class typed over). The grid, street and
community the import filled from the cell are not checked again: ``gridkit check``
checks the components against the cells.
"""

from __future__ import annotations

import csv
import functools
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["PROBLEMS", "field_problems", "standard_fields"]

#: problem → what it means, as the summary says it
PROBLEMS = {
    "empty": "mandatory, empty",
    "too_long": "longer than the field holds",
    "bad_credit_code": "not a unified social credit code",
    "bad_date": "not a real YYYYMMDD date",
    "bad_status": "not one of 完好 破损 丢失 废弃 移除",
    "bad_id": "not a component ID of the standard's form, class and county",
    "duplicate_id": "an ID more than one component holds",
    "bad_class": "a class code (gridkit's class_code) the class table lacks",
    "other_class": "a class code (gridkit's class_code) other than its ID's",
    "provisional": "a provisional code (grid units --provisional)",
    "no_position": "no position: no point, so no cell",
}
_STATUS = ("完好", "破损", "丢失", "废弃", "移除")
_CREDIT_CODES = ("ZGBMDM", "QSDWDM", "YHDWDM")
_NEW_ID = ("mandatory: --fix-ids gives the next ID of its county and class (a component added in QGIS: "
           "`gridkit components reassign` first, for its grid)")
_REASSIGN = ("mandatory: `gridkit components reassign` fills it (and the street and community) from the cell "
             "holding the component")
_FROM_ROUTES = "mandatory: fill it from the routing table (gridkit components departments --routes TABLE), or "
_BY_HAND = "type it in (a component added by hand has no inventory to import again)"
_NO_CLASS = ("gridkit's column: type the component's class code (`gridkit components classes WORD` finds it); "
             "--fix-ids then gives its ID")
#: gridkit's class column and the point, named beside the standard's fields
_MORE_FIELDS = {"class_code": "部件类别代码 (gridkit)", "geometry": "空间位置"}


@functools.cache
def standard_fields() -> pd.DataFrame:
    """The standard's component fields: ``abbr``, ``field_name``, ``length``, ``M_C_O``."""
    with resources.files("gridkit.data").joinpath("gbt47678.5-2026_fields.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["table"] == "component"]
    return pd.DataFrame(rows).astype({"length": int})[["abbr", "field_name", "length", "M_C_O"]]


def field_problems(catalogue, *, scheme="2026", counties=None, classes=None) -> pd.DataFrame:
    """Every way the components of ``catalogue`` break the standard's field table.

    Returns one row per component and problem: ``row`` (its position in
    ``catalogue``), ``GLBJBSM``, ``field`` (the abbreviation), ``field_name`` (its
    Chinese name), ``value`` (as held; empty for an empty field), ``problem`` (a key
    of :data:`PROBLEMS`) and ``detail``. No row: the catalogue meets the table. In a
    ``scheme="legacy"`` catalogue the ID has 16 digits. ``counties``: the county
    codes an ID may carry (the layout's); any, when not given. ``classes``: the
    class table (a package's, with its local classes:
    :func:`~gridkit.catalogue.package_classes`); ``scheme``'s when not given.

    A catalogue with gridkit's ``class_code`` column has it checked too: empty, a
    class the table lacks, or another class than the ID's (typed over in QGIS).

    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame({"GLBJBSM": ["11010101037000001"], "GLBJMC": ["路灯"], "ZGBMDM": [None],
    ...     "ZGBMMC": ["城市管理委员会"], "SZDYWGBSM": ["110101001001001"], "GLBJZT": ["完好"],
    ...     "CSRQ": ["20260231"], "BGRQ": [None]}, geometry=[shapely.Point(0, 0)])
    >>> found = field_problems(c)
    >>> found[["field", "problem", "detail"]].values.tolist()[1:]
    [['CSRQ', 'bad_date', 'no such day']]
    >>> print(*found[["field", "problem"]].iloc[0], found["detail"].iloc[0][:73])
    ZGBMDM empty mandatory: fill it from the routing table (gridkit components departments
    """
    from .catalogue import DATE_FIELDS, DEPARTMENT_FIELDS, _text, real_dates
    from .classes import class_table
    from .codes import is_provisional_code
    from .routing import uscc_problem

    table = standard_fields()
    kinds = class_table(scheme) if classes is None else classes
    scheme = kinds.scheme
    found = []

    def add(field, mask, problem, detail):
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(rows):
            details = (detail if isinstance(detail, str) else detail(rows) if callable(detail) else
                       np.asarray(detail, dtype=object)[rows])
            found.append(pd.DataFrame({"row": rows, "field": field, "value": text[field].to_numpy(dtype=object)[rows],
                                       "problem": problem, "detail": details}))

    text = {f: _text(catalogue, f) for f in [*table["abbr"], "class_code"]}
    filled = {f: text[f] != "" for f in text}
    by_hand = (_text(catalogue, "source") == "").to_numpy()  # added in QGIS: no inventory of its own
    for f, length, obligation in table[["abbr", "length", "M_C_O"]].itertuples(index=False):
        if obligation == "M":
            how = "mandatory: " if f not in DEPARTMENT_FIELDS else _FROM_ROUTES
            again = how + f"give it (a mapping file's [values] {f} = …) and import again"
            add(f, ~filled[f], "empty", _NEW_ID if f == "GLBJBSM" else _REASSIGN if f == "SZDYWGBSM" else
                lambda rows: np.where(by_hand[rows], how + _BY_HAND, again).astype(object))
        if f == "GLBJBSM" and scheme == "legacy":
            length = 16
        n = text[f].str.len()
        add(f, n > length, "too_long", n.astype(str) + f" characters; the field holds {length}")
        if f == "GLBJBSM":  # one longer than the field is too long already
            checked = filled[f] & (n <= length).to_numpy()
            valid = checked & (_id_problems(add, text[f], checked, kinds, counties) == "")
            if "class_code" in catalogue:
                _class_problems(add, text[f], valid, text["class_code"], kinds)
    for f in _CREDIT_CODES:
        why = _per_value(text[f], uscc_problem)
        add(f, filled[f] & pd.notna(why), "bad_credit_code", why)
    real = {f: real_dates(text[f]) for f in DATE_FIELDS}
    for f in DATE_FIELDS:
        add(f, filled[f] & ~real[f], "bad_date", np.where(text[f].str.fullmatch(r"\d{8}"), "no such day",
                                                           "not 8 digits, YYYYMMDD"))
    add("BGRQ", real["BGRQ"] & real["CSRQ"] & (text["BGRQ"] < text["CSRQ"]).to_numpy(), "bad_date",
        "before the survey date CSRQ " + text["CSRQ"])
    add("GLBJZT", filled["GLBJZT"] & ~text["GLBJZT"].isin(_STATUS), "bad_status", "the standard's words: "
        + " ".join(_STATUS))
    grid = text["SZDYWGBSM"]
    provisional = _per_value(grid, lambda g: len(g) == 15 and is_provisional_code(g[:12])).astype(bool)
    add("SZDYWGBSM", provisional, "provisional",
        "street " + grid.str[6:9] + ", community " + grid.str[9:12] + ": real codes are needed")
    if hasattr(catalogue, "geometry"):
        from .catalogue import without_position

        text["geometry"] = pd.Series("", index=range(len(catalogue)), dtype=object)
        add("geometry", without_position(catalogue), "no_position",
            "give it its point in QGIS, or import its inventory again; then `gridkit components reassign`")
    ids = text["GLBJBSM"]
    columns = ["row", "GLBJBSM", "field", "field_name", "value", "problem", "detail"]
    if not found:
        return pd.DataFrame(columns=columns)
    out = pd.concat(found, ignore_index=True)
    order = {f: i for i, f in enumerate(table["abbr"])}
    order.update({"class_code": 0.5, "geometry": len(order)})  # the class after the ID it should agree with
    out = out.assign(GLBJBSM=ids.to_numpy(dtype=object)[out["row"]],
                     field_name=out["field"].map({**dict(zip(table["abbr"], table["field_name"])), **_MORE_FIELDS}))
    out = out.sort_values(["row", "field"], key=lambda s: s.map(order) if s.name == "field" else s, kind="stable")
    return out[columns].reset_index(drop=True)


def _id_problems(add, ids, checked, table, counties):
    """``add`` the ``bad_id`` problems of the ``checked`` IDs (form, class, county:
    :meth:`~gridkit.classes.ClassTable.id_problems`) and the ``duplicate_id`` of
    every ID held more than once; the bad IDs' reasons, ``""`` elsewhere."""
    import pyarrow as pa

    rows = np.flatnonzero(checked)
    why = np.full(len(ids), "", dtype=object)
    why[rows] = table.id_problems(pa.array(ids.to_numpy(dtype=object)[rows], type=pa.string()), counties=counties)
    add("GLBJBSM", why != "", "bad_id", why)
    codes, _ = pd.factorize(ids.where(ids != ""))  # a blank ID: -1, held by none
    holders = np.append(np.bincount(codes[codes >= 0]), 0)[codes]
    add("GLBJBSM", holders > 1, "duplicate_id",
        np.char.add(holders.astype(str), " components hold it: --fix-ids gives all but one a new ID"))
    return why


def _class_problems(add, ids, valid, codes, table):
    """``add`` the problems of gridkit's class column (``codes``): empty, a class
    ``table`` lacks, or another than the one its ID carries (``valid``: the IDs
    without a ``bad_id``). The ID is the standard's record of the class; the
    column is what gridkit counts, routes and draws by."""
    of_id = ids.str[6:6 + table.class_digits]
    held = of_id.where(valid, "").to_numpy(dtype=object)  # the class a valid ID carries
    codes = codes.to_numpy(dtype=object)
    names = {code: c.name for code, c in table.classes.items()}

    def said(classes):  # "01037 路灯", for the rows a detail is made for
        return np.array([f"{c} {names.get(c, '')}" for c in classes], dtype=object)

    filled = codes != ""
    add("class_code", ~filled & (held != ""), "empty",
        lambda rows: "gridkit's column: --fix-ids fills it from the ID, " + said(held[rows]))
    add("class_code", ~filled & (held == ""), "empty", _NO_CLASS)
    why = _per_value(pd.Series(codes).where(filled), table.class_problem)  # None: a class of the table
    # a class code the same as its ID's, of a retired class, say: the ID's bad_id says it
    add("class_code", filled & pd.notna(why) & (codes != of_id.to_numpy(dtype=object)), "bad_class",
        lambda rows: why[rows] + ": type a class of the table (`gridkit components classes WORD` finds it)")
    add("class_code", filled & pd.isna(why) & (held != "") & (codes != held), "other_class",
        lambda rows: "the ID is of class " + said(held[rows]) + ": --fix-ids gives it a new ID of class "
        + said(codes[rows]) + " (classed anew, or an ID pasted over); if the ID is right, type " + held[rows]
        + " back")


def _per_value(column, function):
    """``function`` of each value of ``column``, run once per distinct value (department
    codes and grid IDs repeat), as an object array."""
    codes, uniques = pd.factorize(column)  # a missing value's code, -1, takes the None at the end
    return np.array([function(u) for u in uniques] + [None], dtype=object)[codes]
