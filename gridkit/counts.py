"""Points per cell: how many reports, cases or components each cell of a layout holds.

The grid manager's monthly table (案件数 per 网格) and the hot-spot map come
from the located points (:func:`gridkit.batch.locate_file`, or
:meth:`gridkit.locator.Locator.locate_many`): :func:`cell_counts` turns their
``grid_id`` into one row per cell of the layout, with the cell's polygon and
hierarchy, ``points`` (how many it holds; 0 for a cell with none), ``per_km2``
and, by a column such as the class, one count per value. It is what QGIS's
"Count points in polygon" gives, from the locator's answers rather than a second
spatial join: the counts are the located rows', so the two files always agree.

A point ``nearest`` a cell (within the tolerance) counts for it; one outside the
layout counts for none (the summary says how many). Cells that share an ID (one
cut in two in QGIS) are one row: their parts joined, their points added.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .io import LAYER_SUFFIXES, require_frame

#: Values of a --counts-by column that get a column each; the rest are added in ``other``.
TOP_VALUES = 12

#: What the points can be counted per: each level's code column, name column and plural.
LEVELS = {"cell": ("grid_id", None, "cells"),
          "community": ("community_code", "community_name", "communities"),
          "street": ("street_code", "street_name", "streets"),
          "district": ("county_code", "county_name", "districts")}


def cell_counts(locator, grid_ids, *, by=None, top=TOP_VALUES):
    """The cells of ``locator``'s layout, one row per grid ID, with how many of the
    points whose cells are ``grid_ids`` (one ID per point, None or NaN for a point
    in no cell) each holds.

    Columns: the cell's ``grid_id`` and hierarchy (as :meth:`Locator.describe`
    gives them), ``points``, ``per_km2`` (points per square kilometre of the cell)
    and, with ``by`` (a value per point: each point's class, department …), one
    column per value of the ``top`` most common, named by the value, the others
    summed in ``other`` and the points with no value in ``blank``. Sorted as the
    layout's rows; a GeoDataFrame in the layout's CRS.
    """
    dtype = locator._dtype("grid_id")
    codes = _id_codes(grid_ids, dtype)
    rows = np.arange(len(locator))
    code = locator.codes("grid_id", rows)[0]
    first = np.unique(code, return_index=True)[1]
    out = locator.cell_frame(first)
    if len(first) < len(rows):  # an ID held by several cells: one row, its parts joined
        import shapely

        polygons = locator._polygons
        for k in np.flatnonzero(np.bincount(code) > 1):
            out.geometry.values[k] = shapely.union_all(polygons[code == k])
    out.insert(len(out.columns) - 1, "points", np.bincount(codes[codes >= 0], minlength=len(dtype.categories)))
    # A locator's layout is in metres (it refuses lon/lat)
    out.insert(len(out.columns) - 1, "per_km2", np.round(out["points"] / (out.area / 1e6), 3))
    if by is not None:
        months = _months(by)
        values = by if months is None else months
        counted = _by_value(codes, values, top, len(dtype.categories), latest=months is not None)
        for name, column in counted.items():
            out.insert(len(out.columns) - 1, f"by {name}" if name in out.columns else name, column)
        if months is not None:  # for the summary: the months given a column each
            out.attrs["months"] = [name for name in counted if name not in ("other", "blank")]
    return out


#: A date at the start of a text, its year first (2026-11-03, 2026/11/3, 2026.11.3,
#: 2026年11月3日) or last (11/3/2026, as Excel writes it in English): its year and month.
_DATE = (r"^\s*(?:(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*\d{1,2}"
         r"|(?P<month_first>\d{1,2})/\d{1,2}/(?P<year_last>\d{4}))")


def _months(values):
    """``values`` (a --counts-by column) as the month of each ("2026-11"; None when
    blank, "?" when not a date) when they are dates or dates and times: a column of
    datetimes, or of text of which 9 in 10 of those given start with a date
    (:data:`_DATE`; in an evenly spaced sample first, so that a column of codes
    costs little); else None, for a column of codes or names. Numbers are never read
    as dates. A text's month is the one written, whatever zone follows its time.

    >>> months = _months(["2026-11-03 09:12:44", "2026/10/31", "2026年9月1日 8:00", ""] * 5 + ["soon"])
    >>> months[:4], months[-1]
    (['2026-11', '2026-10', '2026-09', None], '?')
    >>> _months(["11010109001", "11010106010"]) is None
    True
    """
    from .locator import evenly_spaced

    values = pd.Series(values).reset_index(drop=True)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        blank = values.isna().to_numpy()
        key = (values.dt.year * 100 + values.dt.month).to_numpy(dtype=float)
    else:
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            return None
        sample = values.iloc[evenly_spaced(len(values), 2_000)].dropna().astype(str).str.strip()
        sample = sample[sample != ""]
        if not len(sample) or sample.str.match(_DATE).mean() < 0.9:
            return None
        # A date is within a text's first 14 characters (2026 年 11 月 1…): read once per beginning.
        codes, heads = pd.factorize(values.astype("string").fillna("").str.lstrip().str.slice(0, 14))
        heads = pd.Series(heads, dtype=object)
        blank = (heads.str.strip() == "").to_numpy()[codes]
        parts = heads.str.extract(_DATE).astype(float)
        year, month = parts["year"].fillna(parts["year_last"]), parts["month"].fillna(parts["month_first"])
        key = (year * 100 + month.where((month >= 1) & (month <= 12))).to_numpy()[codes]
        if (~blank).sum() and np.isfinite(key[~blank]).mean() < 0.9:
            return None
    found, inverse = np.unique(np.nan_to_num(key, nan=-1.0), return_inverse=True)
    names = np.array([f"{int(k) // 100:04d}-{int(k) % 100:02d}" if k >= 0 else "?" for k in found], dtype=object)
    month = names[inverse.ravel()]
    month[blank] = None
    return month.tolist()


def _id_codes(grid_ids, dtype):
    """Each point's grid ID as its code among ``dtype``'s (-1 for none); a
    located frame's ``gk_grid_id`` (of that dtype already) as it is. An ID that
    is no cell's is refused."""
    values = pd.Series(grid_ids).reset_index(drop=True)
    if values.dtype == dtype:
        return values.cat.codes.to_numpy()
    values = values.astype(object)
    given = values.notna() & (values.astype(str).str.strip() != "")
    values = values.where(~given, values.astype(str).str.strip())
    codes = np.where(given, pd.Index(dtype.categories).get_indexer(values.where(given, "")), -1)
    unknown = np.flatnonzero(given.to_numpy() & (codes < 0))
    if len(unknown):
        raise InputError(f"point {unknown[0] + 1:,}: grid ID {values[unknown[0]]!r} is no cell of the layout"
                         + (f" (and {len(unknown) - 1:,} more)" if len(unknown) > 1 else ""))
    return codes


def _by_value(codes, by, top, size, *, latest=False):
    """Per value of ``by`` (the ``top`` most common among the points in a cell,
    ties in the order of the values, then ``other`` for the rest and ``blank`` for
    none): the count per grid-ID code (``size`` of them). ``latest``: ``by`` holds
    months (:func:`_months`); the ``top`` latest get a column each, in order, and
    the earlier months and the dates not read go to ``other``."""
    by = pd.Series(np.asarray(by, dtype=object))
    if len(by) != len(codes):
        raise InputError(f"by has {len(by):,} values for {len(codes):,} points")
    text = by.astype(str).str.strip()
    blank = (by.isna() | (text == "")).to_numpy()
    placed = codes >= 0
    common = text[placed & ~blank].value_counts()
    if latest:  # months: the latest, in order
        kept = sorted(set(common.index) - {"?"})[-top:]
    else:
        values = common.index.to_series()
        numbers = pd.to_numeric(values, errors="coerce")
        # ties in the order of their values: as numbers when every one is a number (2 before 10), else as
        # text, codes with a leading zero among them (0114 before 06010)
        as_numbers = numbers.notna().all() and not values.str.match(r"0\d").any()
        common = common.iloc[np.argsort(numbers.to_numpy() if as_numbers else values.to_numpy(), kind="stable")]
        kept = list(common.sort_values(ascending=False, kind="stable").index[:top])
    wanted = {str(value): placed & ~blank & (text == value).to_numpy() for value in kept}
    wanted["other"] = placed & ~blank & ~text.isin(kept).to_numpy()
    wanted["blank"] = placed & blank
    return {name: np.bincount(codes[which], minlength=size) for name, which in wanted.items()
            if which.any() or name not in ("other", "blank")}


def unit_counts(cells, per):
    """:func:`cell_counts`' ``cells`` added up per community, street or district
    (``per``, a key of :data:`LEVELS`; ``"cell"`` gives ``cells`` as they are):
    the monthly table of cases per community (案件数 per 社区) and its map.

    One row per code of that level, in the order of the codes, with its name and
    the codes and names above it, ``cells`` (how many it has), ``cells_with_points``,
    ``points``, ``per_km2`` and the by-value columns, each the sum over its cells,
    and the union of its cells' polygons. Cells with no code of that level make one
    row with a blank code, so that no point goes uncounted. A layout without the
    level's code column is refused.
    """
    from .adopt import unions

    require_frame(cells, "the cells", ("points",), fix="count them with gridkit.counts.cell_counts()")
    _check_level(per)
    if per == "cell":
        return cells
    code, name, plural = LEVELS[per]
    if code not in cells.columns:
        raise InputError(f"the layout names no {plural} (its cells have no {code} column) to count points per "
                         f"{per}; count them per "
                         + " or ".join(level for level, (c, _, _) in LEVELS.items() if c in cells.columns))
    levels = list(LEVELS)
    above = [c for level in levels[levels.index(per):] for c in LEVELS[level][:2] if c in cells.columns]
    summed = ["points"] + list(cells.columns[cells.columns.get_loc("per_km2") + 1:].drop(cells.geometry.name))
    key = cells[code].fillna("").astype(str).str.strip()
    group, keys = pd.factorize(key, sort=True)
    first = np.unique(group, return_index=True)[1]
    out = cells.iloc[first][above].reset_index(drop=True).astype(object)
    out[code] = pd.Series([k or None for k in keys], index=out.index, dtype=object)
    out["cells"] = np.bincount(group, minlength=len(keys))
    out["cells_with_points"] = np.bincount(group, weights=cells["points"].to_numpy() > 0, minlength=len(keys))
    totals = cells[summed].groupby(group).sum()
    for column in summed:
        out[f"by {column}" if column in ("cells", "cells_with_points") else column] = totals[column].to_numpy()
    polygons = cells.geometry.values
    geometry = unions([polygons[group == k] for k in range(len(keys))])  # without the float-noise pinholes
    out = cells.__class__(out, geometry=geometry, crs=cells.crs)
    out.insert(out.columns.get_loc("points") + 1, "per_km2", np.round(out["points"] / (out.area / 1e6), 3))
    return out.astype({"cells": np.int64, "cells_with_points": np.int64})


def _check_level(per):
    if per not in LEVELS:
        raise InputError(f"points are counted per {', '.join(LEVELS)}, not per {per!r}")


def check_counts_outputs(counts, picture, overwrite):
    """Refuse, before any work, a counts file or map picture gridkit cannot write
    (by its suffix) or would replace without ``overwrite``."""
    from .preview import picture_format

    if counts is not None and Path(counts).suffix.lower() not in LAYER_SUFFIXES:
        raise InputError(f"{counts}: the points per cell are written to {', '.join(LAYER_SUFFIXES)}")
    if picture is not None:
        picture_format(picture)
    for path in (counts, picture):
        if path is not None and Path(path).exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass --overwrite to replace it")


def per_cell(locator, located, by=None, *, per="cell", source="the points", units=None):
    """:func:`cell_counts` of a located frame (:func:`gridkit.batch.locate_frame`'s
    rows, ``gk_grid_id`` among them), by its column ``by`` when given: one of the
    input's columns or of the ``gk_`` columns added (``gk_department_name``);
    added up per community, street or district with ``per`` (:func:`unit_counts`).

    ``units``: codes or names of communities, streets or districts
    (:meth:`gridkit.locator.Locator.cells_in`); only their cells are counted (one
    street's cases, out of the district's). ``attrs["units"]`` says them, and
    ``attrs["elsewhere"]`` how many points lie in the layout's other cells."""
    from .batch import PREFIX
    from .errors import near_column

    if not isinstance(located, pd.DataFrame) or PREFIX + "grid_id" not in located.columns:
        raise InputError(f"{source}: no {PREFIX}grid_id column: count the points gridkit.batch.locate_frame() "
                         "located")
    chosen = locator.cells_in(units) if units else None  # a unit the layout lacks: said before the counting
    values = None
    if by is not None:
        if by not in located.columns:
            raise InputError(f"{source}: no column {by!r}{near_column(by, located.columns)} to count by; columns "
                             f"are {', '.join(map(str, located.columns))}")
        values = located[by]
    _check_level(per)  # before the counting
    cells = cell_counts(locator, located[PREFIX + "grid_id"], by=values)
    months = cells.attrs.get("months")
    said = {"months": months, "by": by} if months is not None else {}
    if chosen is not None:
        mask, found = chosen
        kept = cells["grid_id"].isin(pd.unique(locator._text("grid_id", np.flatnonzero(mask)))).to_numpy()
        said.update(units=found, elsewhere=int(cells["points"].to_numpy()[~kept].sum()))
        cells = cells[kept].reset_index(drop=True)
    table = unit_counts(cells, per)
    table.attrs = said
    return table


def write_per_cell(table, path=None, picture=None, *, per="cell", overwrite=False, most=5) -> dict:
    """Write :func:`cell_counts`' cells, or :func:`unit_counts`' rows ``per``
    community, street or district, to ``path`` (a layer ``counts``:
    :func:`gridkit.io.write_layers`) and draw them to ``picture``
    (:func:`gridkit.preview.plot_counts`), each atomically.

    Returns the summary: ``per``, cells, cells_with_points, points, the ``most``
    rows with the most (their code, and name when the level has one), the files;
    above the cell, also how many communities (streets, districts) there are and
    hold points; counted in some units' cells alone (:func:`per_cell`), ``units``:
    them and ``points_elsewhere``."""
    from .io import write_layers
    from .preview import plot_counts

    code, name, plural = LEVELS[per]
    if path is not None:
        write_layers([("counts", table)], path, overwrite=overwrite)
    if picture is not None:
        plot_counts(table, picture, per=per, overwrite=overwrite, where=", ".join(table.attrs.get("units", [])))
    held = table["points"] > 0
    summary = {"per": per, "cells": int(len(table)), "cells_with_points": int(held.sum())}
    if per != "cell":
        summary.update(cells=int(table["cells"].sum()), cells_with_points=int(table["cells_with_points"].sum()))
        summary.update({plural: int(len(table)), f"{plural}_with_points": int(held.sum())})
    busiest = table[held].sort_values("points", ascending=False, kind="stable").head(most)
    said = [code] + ([name] if name in table.columns else [])
    summary["points"] = int(table["points"].sum())
    if "units" in table.attrs:  # counted in these units' cells alone
        summary["units"] = {"units": table.attrs["units"], "points_elsewhere": table.attrs["elsewhere"]}
    if "months" in table.attrs:  # a --counts-by column of dates: a column per month
        summary["by_month"] = {"column": table.attrs["by"], "months": table.attrs["months"],
                               "other": int(table["other"].sum()) if "other" in table else 0}
    summary["most"] = [{**{c: None if pd.isna(row[c]) else str(row[c]) for c in said}, "points": int(row["points"])}
                       for _, row in busiest.iterrows()]
    return {**summary, "file": None if path is None else str(path), "map": None if picture is None else str(picture)}
