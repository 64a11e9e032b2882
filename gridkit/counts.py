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
from .io import LAYER_SUFFIXES

#: Values of a --counts-by column that get a column each; the rest are added in ``other``.
TOP_VALUES = 12


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
        for name, values in _by_value(codes, by, top, len(dtype.categories)).items():
            out.insert(len(out.columns) - 1, f"by {name}" if name in out.columns else name, values)
    return out


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


def _by_value(codes, by, top, size):
    """Per value of ``by`` (the ``top`` most common among the points in a cell,
    ties in the order of the values, then ``other`` for the rest and ``blank`` for
    none): the count per grid-ID code (``size`` of them)."""
    by = pd.Series(np.asarray(by, dtype=object))
    if len(by) != len(codes):
        raise InputError(f"by has {len(by):,} values for {len(codes):,} points")
    text = by.astype(str).str.strip()
    blank = (by.isna() | (text == "")).to_numpy()
    placed = codes >= 0
    common = text[placed & ~blank].value_counts()
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


def per_cell(locator, located, by=None, *, source="the points"):
    """:func:`cell_counts` of a located frame (:func:`gridkit.batch.locate_frame`'s
    rows, ``gk_grid_id`` among them), by its column ``by`` when given: one of the
    input's columns or of the ``gk_`` columns added (``gk_department_name``)."""
    from .batch import PREFIX
    from .errors import near_column

    values = None
    if by is not None:
        if by not in located.columns:
            raise InputError(f"{source}: no column {by!r}{near_column(by, located.columns)} to count by; columns "
                             f"are {', '.join(map(str, located.columns))}")
        values = located[by]
    return cell_counts(locator, located[PREFIX + "grid_id"], by=values)


def write_per_cell(cells, path=None, picture=None, *, overwrite=False, most=5) -> dict:
    """Write :func:`cell_counts`' ``cells`` to ``path`` (a layer ``counts``:
    :func:`gridkit.io.write_layers`) and draw them to ``picture``
    (:func:`gridkit.preview.plot_counts`), each atomically. Returns the summary:
    cells, cells_with_points, points, the ``most`` cells with the most, the files."""
    from .io import write_layers
    from .preview import plot_counts

    if path is not None:
        write_layers([("counts", cells)], path, overwrite=overwrite)
    if picture is not None:
        plot_counts(cells, picture, overwrite=overwrite)
    busiest = cells.sort_values("points", ascending=False, kind="stable").head(most)
    busiest = busiest[busiest["points"] > 0]
    return {"cells": int(len(cells)), "cells_with_points": int((cells["points"] > 0).sum()),
            "points": int(cells["points"].sum()),
            "most": [{"grid_id": str(g), "points": int(n)} for g, n in zip(busiest["grid_id"], busiest["points"])],
            "file": None if path is None else str(path), "map": None if picture is None else str(picture)}
