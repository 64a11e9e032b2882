"""Locate (and route) a file of points: one machine, or a dask cluster.

:func:`locate_frame` is the one implementation: it takes a frame with x/y arrays,
rejects rows whose coordinates cannot be used (with the reason), locates the rest
and, given a routing table and a class column, adds the responsible department.
:func:`locate_file` wraps it for the CLI (read, locate in chunks with a progress
bar, write atomically); :func:`locate_dask` maps the same function over the
partitions of a Parquet dataset on a dask cluster, so both paths give the same
rows.

Columns added (prefix ``gk_`` so they never collide with the input's own)::

    gk_grid_id gk_community_code gk_community_name gk_street_code gk_street_name
    gk_county_code gk_county_name gk_status gk_distance_m
    gk_micro_id                                      (after gk_grid_id, with micro-grids)
    gk_department_code gk_department_name            (with a routing table)

A Shapefile's fields hold 10 characters: there they are ``gk_comm_cd``, ``gk_comm_nm``,
``gk_strt_cd`` … (:data:`SHAPEFILE_NAMES`), the input's own long names cut as
:func:`gridkit.export.shapefile_names` cuts them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import coords
from .codes import half_width_column
from .errors import CRSError, GridkitError, InputError, near_column
from .io import NOT_A_ROW, require_frame, say_blank_rows
from .locator import (BAIDU_MERCATOR_REASON, DECIMAL_DEGREES_REASON, DEGREES_MINUTES_REASON, DEGREES_REASON, NEAREST,
                      OUTSIDE, SCALED_DEGREES_REASON, STATUS_NAMES, SWAPPED_REASON, XY_SWAPPED_REASON, ZERO_REASON,
                      ZONE_REASON, Locator, _warnings_quiet, evenly_spaced, metres, require_locator)
from .nmea import REASONS as NMEA_REASONS
from .routing import check_kind, read_by_name, require_routes

__all__ = ["locate_frame", "locate_file", "locate_dask", "write_rejects", "rejects_file", "REJECT_REASONS", "PREFIX",
           "SHAPEFILE_NAMES"]

PREFIX = "gk_"
#: Shapefile fields (10 characters at most) for the columns a located file adds.
SHAPEFILE_NAMES = {PREFIX + name: PREFIX + short for name, short in {
    "micro_id": "micro", "community_code": "comm_cd", "community_name": "comm_nm", "street_code": "strt_cd",
    "street_name": "strt_nm", "county_code": "cnty_cd", "county_name": "cnty_nm", "distance_m": "dist_m",
    "near_grid_id": "near_id", "near_across": "near_ac",
    "department_code": "dept_cd", "department_name": "dept_nm"}.items()}
REJECT_REASONS = {
    "missing_coordinates": "x/y blank, not numbers, or an empty geometry",
    NOT_A_ROW: "a ledger's blank row, or a line below its table (合计, 制表人): no point",
    "impossible_coordinates": "not lon/lat: longitude must lie in -180..180 and latitude in -90..90",
    "latlon_swapped": SWAPPED_REASON,
    "xy_swapped": XY_SWAPPED_REASON,
    "zone_prefix": ZONE_REASON,
    "baidu_mercator": BAIDU_MERCATOR_REASON,
    "scaled_degrees": SCALED_DEGREES_REASON,
    "degrees_minutes": DEGREES_MINUTES_REASON,
    "decimal_degrees": DECIMAL_DEGREES_REASON,
    "zero_coordinates": ZERO_REASON,
    "degrees_in_projected_crs": DEGREES_REASON,
    **NMEA_REASONS,  # an NMEA log's epoch with no fix, a damaged sentence
    "bad_class": "the class column holds no class code or name gridkit can route",
}
CHUNK = 1_000_000
#: Rows read again for :meth:`Locator.offset_hint` (spread over a dask dataset's partitions).
OFFSET_SAMPLE = 20_000


def locate_frame(frame, x, y, crs, locator, *, routes=None, classes=None, kind="component", tolerance=None,
                 rows=None, compact=False, near_edge=None, degrees=None):
    """Locate the rows of ``frame`` at ``x``/``y`` (in ``crs``; read from the form
    ``degrees`` when given, :func:`gridkit.coords.read_degrees`: a row outside that
    lies in the layout as written, in decimal degrees, is rejected as
    ``decimal_degrees``).

    With ``near_edge`` (metres), ``gk_near_grid_id`` and ``gk_near_m`` name the
    nearest other cell within that distance of each point, and how far it is
    (:meth:`Locator.near_edge`), and ``gk_near_across`` what lies between
    (:data:`NEAR_ACROSS`: another cell of its community, another community, street
    or district).

    Returns ``(located, rejects)``: ``located`` is ``frame``'s accepted rows with
    the ``gk_`` columns, ``rejects`` the others with ``row`` (their numbers in
    ``rows``, the file's numbers for ``frame``'s rows: by default 1, 2, …),
    ``reason`` and ``detail``. ``compact`` replaces the
    hierarchy and status columns by the integers they come from (``gk_cell``,
    ``gk_status_code``), for shipping between processes; :func:`expand` turns
    them back.
    """
    _given(frame, locator, routes, kind, degrees, x=x, y=y, classes=classes, rows=rows)
    near_edge = None if near_edge is None else metres(near_edge, "near_edge")
    # A file located before: its old answers are replaced, not doubled.
    frame = frame.drop(columns=[c for c in frame.columns if str(c).startswith(PREFIX)])
    n = len(frame)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    reason, detail = coords.position_problems(x, y, crs, names=frame.attrs.get("xy_fields"))
    say_blank_rows(frame, reason, detail)  # a ledger's 合计 line …
    ok = np.flatnonzero(reason == "")
    index = np.full(n, -1, dtype=np.int64)
    status = np.full(n, OUTSIDE, dtype=np.int8)
    distance = np.full(n, np.nan)
    micro = np.full(n, -1, dtype=np.int64)
    if len(ok):
        index[ok], status[ok], distance[ok], micro[ok] = locator.cell_index(x[ok], y[ok], crs=crs,
                                                                            tolerance=tolerance, micro=True)
    locator.mark_misread(x, y, crs, reason, detail, status, tolerance=tolerance, degrees=degrees)
    located = locator.describe(index, status, distance, micro)
    located.columns = [PREFIX + c for c in located.columns]
    if near_edge is not None:
        near, near_m = locator.near_edge(x, y, np.where(reason == "", index, -1), near_edge, crs=crs)
        if not compact:  # compact: the other cell's row, named by the client as gk_cell is (expand)
            for name, values in _near_columns(locator, index, near, near_m).items():
                located[name] = values
    located.index = frame.index
    if routes is not None and classes is not None:
        klass = pd.Series(classes, index=frame.index).astype(object)
        klass = klass.where(klass.notna() & (klass.astype(str).str.strip() != ""), None)
        codes, names = _route(routes, located, klass, kind, reason, detail)
        located[PREFIX + "department_code"] = codes
        located[PREFIX + "department_name"] = names
    if compact:
        names = [PREFIX + name for name in locator.attributes] + [PREFIX + "status"]
        located = located.drop(columns=names + ([PREFIX + "micro_id"] if locator.micro is not None else []))
        located.insert(0, PREFIX + "cell", index)
        located.insert(1, PREFIX + "status_code", status)
        located.insert(2, PREFIX + "micro", micro)
        if near_edge is not None:
            located.insert(3, PREFIX + "near", near)
            located[PREFIX + "near_m"] = near_m
    out = pd.concat([frame, located], axis=1)
    return split_rejects(out, reason, detail, rows)


def _given(frame, locator, routes, kind, degrees, **columns):
    """Refuse what :func:`locate_frame` cannot use as given: a ``frame`` that is
    no DataFrame, a ``locator`` that is no :class:`Locator` (a package's path),
    ``routes`` that are no :class:`RoutingTable`, an unknown ``kind`` or
    ``degrees``, and ``columns`` (x, y, classes, rows) not one per row, or a
    Series whose index is not ``frame``'s: its values would be paired with other
    rows (by position for x/y, by a realignment for classes)."""
    require_frame(frame, "the frame", one=True, geometry=False)
    require_locator(locator)
    require_routes(routes)
    check_kind(kind)
    if degrees is not None and degrees not in coords.DEGREE_FORMS:
        raise InputError(f"degrees {degrees!r}: give one of {', '.join(coords.DEGREE_FORMS)}")
    for name, values in columns.items():
        if values is None:
            continue
        if isinstance(values, pd.Series) and not values.index.equals(frame.index):
            raise InputError(f"{name} is a Series whose index is not the frame's, so rows would get another row's "
                             f"{name}; take it from the same frame (frame[...]), or pass an array (.to_numpy()) "
                             "to pair by position")
        if np.ndim(values) != 1 or len(values) != len(frame):
            size = f"{len(values):,} values" if np.ndim(values) == 1 else f"shape {np.shape(values)}"
            raise InputError(f"{name} has {size} for the frame's {len(frame):,} rows: give one per row")


#: What lies between a point's cell and the other cell near it (``gk_near_across``):
#: the highest level whose code differs, from two cells of one community up.
NEAR_ACROSS = ["cell", "community", "street", "district"]


def _near_columns(locator, index, near, near_m):
    """``gk_near_grid_id``, ``gk_near_m`` and ``gk_near_across`` for points in cell
    rows ``index`` whose nearest other cell is row ``near`` (-1: none)."""
    near = np.asarray(near, dtype=np.int64)
    across = np.where(near >= 0, 0, -1).astype(np.int8)
    for level, name in enumerate(("community_code", "street_code", "county_code"), start=1):
        if name in locator.attributes:  # a higher level that differs overrides a lower one
            across[(near >= 0) & (locator.codes(name, index)[0] != locator.codes(name, near)[0])] = level
    codes = np.asarray(locator.codes("grid_id", near)[0], dtype=np.int32)
    return {PREFIX + "near_grid_id": pd.Categorical.from_codes(codes, dtype=locator._dtype("grid_id"), validate=False),
            PREFIX + "near_m": np.asarray(near_m, dtype=float),
            PREFIX + "near_across": pd.Categorical.from_codes(across, categories=NEAR_ACROSS, validate=False)}


def expand(compact, locator):
    """The full ``gk_`` columns of a frame made with ``locate_frame(..., compact=True)``."""
    cell = compact.pop(PREFIX + "cell").to_numpy(dtype=np.int64)
    status = compact.pop(PREFIX + "status_code").to_numpy(dtype=np.int8)
    micro = compact.pop(PREFIX + "micro").to_numpy(dtype=np.int64)
    described = locator.describe(cell, status, compact.pop(PREFIX + "distance_m").to_numpy(dtype=float), micro)
    described.columns = [PREFIX + c for c in described.columns]
    described.index = compact.index
    if PREFIX + "near" in compact:
        near = compact.pop(PREFIX + "near").to_numpy(dtype=np.int64)
        for name, values in _near_columns(locator, cell, near, compact.pop(PREFIX + "near_m")).items():
            described[name] = values
    return pd.concat([compact[[c for c in compact.columns if not c.startswith(PREFIX)]], described,
                      compact[[c for c in compact.columns if c.startswith(PREFIX)]]], axis=1)


def split_rejects(out, reason, detail, rows=None):
    """``(located, rejects)`` from all rows and their reject reasons ("" = accepted),
    the rejects numbered by ``rows`` (default 1, 2, …)."""
    bad = reason != ""
    numbers = np.flatnonzero(bad) + 1 if rows is None else np.asarray(rows)[bad]
    rejects = rejects_table(out.loc[bad, [c for c in out.columns if not c.startswith(PREFIX)]],
                            numbers, reason[bad], detail[bad])
    return out[~bad], rejects


#: The columns a rejects file begins with, before the rejected row's own.
REJECTS_COLUMNS = ["row", "reason", "detail"]


def rejects_table(rows, numbers, reason, detail):
    """The rejects of a run: the input's ``rows`` after this run's ``row`` (their
    numbers in the file, from 1), ``reason`` and ``detail``. A rejects file read
    back (its rows fixed, and located or imported again) begins with these columns
    already: they are replaced, as they told of the run before. Another input's
    column of one of these names is kept as ``input_row`` (…)."""
    rows = rows.copy()
    if list(rows.columns[:3]) == REJECTS_COLUMNS:
        rows = rows.drop(columns=REJECTS_COLUMNS)
    rows = rows.rename(columns={name: f"input_{name}" for name in REJECTS_COLUMNS if name in rows.columns})
    for name, values in zip(reversed(REJECTS_COLUMNS), (detail, reason, numbers)):
        rows.insert(0, name, values)
    return rows


def _route(routes, located, klass, kind, reason, detail):
    """Department code and name per row; unroutable classes are marked as rejects."""
    codes = np.full(len(klass), None, dtype=object)
    names = np.full(len(klass), None, dtype=object)
    place = located.rename(columns=lambda c: c[len(PREFIX):])
    values = klass.to_numpy(dtype=object)
    routable = pd.notna(values) & (located[PREFIX + "status"] != STATUS_NAMES[OUTSIDE]).to_numpy()
    routable &= ~mark_bad_classes(routes, values, kind, reason, detail)
    rows = np.flatnonzero(routable)  # outside the layout: no department of this city
    if len(rows):
        codes[rows], names[rows] = routes.route_many(place.iloc[rows], values[rows], kind=kind)
    return codes, names


def mark_bad_classes(routes, values, kind, reason, detail):
    """Rows whose class (``values``, None for none) no rule of ``routes`` can read:
    marked ``bad_class`` in ``reason``/``detail`` where they have no reason yet;
    returns them as a boolean mask. Each distinct class is checked once."""
    bad = np.zeros(len(values), dtype=bool)
    for value in pd.unique(values[pd.notna(values)]):
        try:
            routes.class_keys(value, kind)
        except InputError as exc:
            rows = np.flatnonzero(values == value)
            fresh = rows[reason[rows] == ""]
            reason[fresh], detail[fresh] = "bad_class", str(exc)
            bad[rows] = True
    return bad


def summarise(located, rejects, n_rows):
    """Counts for the end of a run; they add up to the input rows."""
    # by value_counts, not a comparison of strings: a categorical is counted by its codes
    status = located[PREFIX + "status"].value_counts() if len(located) else pd.Series(dtype=np.int64)
    summary = {"rows": int(n_rows), "located": int(len(located)), "rejected": int(len(rejects)),
               "inside": int(status.get(STATUS_NAMES[0], 0)),
               "nearest": int(status.get(STATUS_NAMES[NEAREST], 0)),
               "outside": int(status.get(STATUS_NAMES[OUTSIDE], 0)),
               "rejected_by_reason": {k: int(v) for k, v in rejects["reason"].value_counts().items()}}
    if PREFIX + "department_name" in located:
        summary["routed"] = int(located[PREFIX + "department_name"].notna().sum())
    if PREFIX + "near_across" in located:  # points near another cell, by what lies between
        across = located[PREFIX + "near_across"].value_counts()
        summary["near_edge"] = {level: int(across.get(level, 0)) for level in NEAR_ACROSS}
    return summary


def locate_file(points, package, output, *, routes=None, class_field=None, class_code=None, kind="component",
                crs=None, layer=None, x_field=None, y_field=None, encoding=None, tolerance=0.0, rejects_path=None,
                overwrite=False, progress=None, grid_layer=None, id_field="grid_id", grid_crs=None, degrees=None,
                near_edge=None, counts=None, counts_by=None, counts_map=None, counts_per="cell", counts_units=None):
    """Locate every row of ``points`` against the grid package; write ``output`` (.csv,
    .xlsx, .gpkg, .geojson or .parquet; None: only the counts).

    ``degrees``: how the lon/lat numbers are written, when not as decimal degrees
    (:data:`gridkit.coords.DEGREE_FORMS`: ``"e6"`` for JT/T 808's millionths,
    ``"ddmm"`` for NMEA's degrees and minutes). ``near_edge`` (metres): each row also
    names the nearest other cell within that distance (:func:`locate_frame`), and
    the summary counts them by what lies between (``near_edge``: cell, community,
    street, district).

    With ``routes``, each row is routed by its class: the column ``class_field``, or
    ``class_code`` for every row (a file of one kind: the street lights).

    ``counts`` (.gpkg, .geojson, .csv or .xlsx) and ``counts_map`` (a picture):
    also write the points per cell, :func:`gridkit.counts.cell_counts`, by the
    output's column ``counts_by`` when given (the summary's ``counts``), added up
    per community, street or district with ``counts_per``
    (:func:`gridkit.counts.unit_counts`); ``counts_units`` (codes or names of
    communities, streets or districts) counts their cells alone.

    ``progress(done, total)`` is called with the rows done so far after each chunk. Returns
    the summary; the rejects go to ``rejects_path`` (default ``<output stem>.rejects.csv``,
    beside the counts without an output). ``package`` may be any polygon file
    (``grid_layer``, ``id_field``, ``grid_crs``: :meth:`Locator.from_package`'s
    ``layer``, ``id_field`` and ``crs``).
    """
    from .catalogue import read_inventory
    from .counts import check_counts_outputs, per_cell, write_per_cell
    from .io import refuse_replacing_input, source_rows

    if output is None and counts is None and counts_map is None:
        raise InputError("nothing to write: give an output for the located rows, or counts or a counts_map")
    output = None if output is None else Path(output)
    if output is not None:
        _check_output(output, overwrite)
    check_counts_outputs(counts, counts_map, overwrite)
    beside = output or Path(counts or counts_map)  # the rejects go beside it
    for written in (output, rejects_file(beside, rejects_path), counts, counts_map):
        if written is not None:
            refuse_replacing_input(written, {"the points file": points, "the grid": package})
    frame, x, y, in_crs = read_inventory(points, layer=layer, crs=crs, x_field=x_field, y_field=y_field,
                                         encoding=encoding, keep_xy=True)
    x, y = coords.read_degrees(x, y, degrees, in_crs)
    label = None if output is None else _said_crs(frame.attrs, crs, output, overwrite)
    dialect = csv_dialect(frame.attrs.get("csv_separator", ","))
    read = frame.attrs
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    frame.attrs = read  # the coordinate columns' names among them, for the rejects' detail
    classes = _classes(frame, class_field, class_code, points)
    locator = Locator.from_package(package, tolerance=tolerance, layer=grid_layer, id_field=id_field, crs=grid_crs)
    if counts_units:  # a unit the layout lacks: said before any point is located
        locator.cells_in(counts_units)
    numbers = source_rows(frame)  # as the file numbers them: a workbook's as its sheet does
    keep = np.ones(len(frame), dtype=bool)
    parts, rejects = [], []
    for start in range(0, max(len(frame), 1), CHUNK):
        stop = min(start + CHUNK, len(frame))
        part = slice(start, stop)
        done, rej = locate_frame(frame.iloc[part], x[part], y[part], in_crs, locator, routes=routes,
                                 classes=None if classes is None else classes[part], kind=kind,
                                 rows=numbers[part], near_edge=near_edge, degrees=degrees)
        keep[part] = ~np.isin(numbers[part], rej["row"].to_numpy(dtype=np.int64))
        parts.append(done)
        rejects.append(rej)
        if progress:
            progress(stop, len(frame))
    located = pd.concat(parts) if parts else frame.iloc[:0]
    rejected = pd.concat(rejects) if rejects else pd.DataFrame(columns=["row", "reason", "detail"])
    per = None
    if counts is not None or counts_map is not None:  # made before anything is written: a bad --counts-by stops it
        per = per_cell(locator, located, counts_by, per=counts_per, source=points, units=counts_units)
    # The rejects are written aside first and take their place once the output has: a
    # failed write leaves the last run's output and rejects, which belong together.
    with rejects_written(rejected, rejects_file(beside, rejects_path), dialect):
        if output is not None:
            _write(located, x[keep], y[keep], in_crs, locator, output, overwrite, dialect, source=points,
                   label=label)
    summary = summarise(located, rejected, len(frame))
    if "nmea_skipped" in read:  # an NMEA log's lines that are no fix: satellite sentences, noise
        summary["nmea_skipped"] = read["nmea_skipped"]
    summary["rejects_file"] = str(rejects_file(beside, rejects_path))
    if per is not None:
        summary["counts"] = write_per_cell(per, counts, counts_map, per=counts_per, overwrite=overwrite)
    # Lon/lat in the wrong one of China's systems, or in a table that did not say which.
    offset = locator.offset_hint(x, y, in_crs, stated=read.get("crs_stated", True))
    if offset:
        summary["offset_hint"] = offset
    named = read_by_name(classes) if routes is not None and classes is not None and kind != "event" else None
    if named:  # value → [code, name, the scheme whose name it is], for the summary to show
        summary["classes_by_name"] = named
    return summary


def _said_crs(read, crs, output, overwrite):
    """The CRS to label a table ``output`` with (a CSV's .prj, a workbook's property:
    :func:`gridkit.io.table_crs`), which keeps the input table's coordinate columns:
    the CRS that ``crs`` or the input's own label (``read["crs_label"]``, as
    :func:`gridkit.catalogue.read_inventory` found it) says. None for other inputs
    and outputs, or when nothing said it (lon/lat read as EPSG:4326 by default;
    GCJ-02 and BD-09, which no CRS is)."""
    from .io import csv_prj

    if output.suffix.lower() not in (".csv", ".xlsx") or "crs_label" not in read:
        return None
    label = read["crs_label"] if crs is None else coords.parse_crs(crs)
    if isinstance(label, str):
        return None
    if label is not None and output.suffix.lower() == ".csv" and not csv_prj(output, overwrite):
        return None  # a Shapefile's .prj: it stays
    return label


def _classes(frame, class_field, class_code, source):
    """Each row's class, for routing: the column ``class_field``, or ``class_code``
    for every row; None with neither."""
    if class_field is not None and class_code is not None:
        raise InputError("give a class column (class_field) or one class for every point (class_code), not both")
    if class_code is not None:
        return np.full(len(frame), str(class_code), dtype=object)
    if class_field is None:
        return None
    if class_field not in frame.columns:
        raise InputError(f"{source}: no column {class_field!r}{near_column(class_field, frame.columns)} for "
                         "--class-field; columns are "
                         f"{', '.join(map(str, frame.columns))}")
    return half_width_column(frame[class_field]).to_numpy(dtype=object)


def csv_dialect(separator=","):
    """``to_csv`` keywords that write a CSV as one read with ``separator`` was
    written: a semicolon CSV (what Excel writes where the comma is the decimal mark)
    gets semicolons and decimal commas, so it opens in the same Excel as the input."""
    return {"sep": separator, "decimal": "," if separator == ";" else "."}


def rejects_file(output, path=None) -> Path:
    """Where the rejects of a run writing ``output`` go: ``path``, else
    ``<output stem>.rejects.csv`` beside ``output``."""
    return Path(path) if path else Path(output).with_name(Path(output).stem + ".rejects.csv")


def write_rejects(rejects, output, path=None, dialect=None) -> Path:
    """Write the rejects CSV atomically (:func:`rejects_file`, written anew each
    run), in ``dialect`` (:func:`csv_dialect`; by default that of the CSV the rows
    were read from, else commas); returns its path."""
    path = rejects_file(output, path)
    with rejects_written(rejects, path, dialect):
        pass
    return path


@contextlib.contextmanager
def rejects_written(rejects, path, dialect=None):
    """Write the rejects CSV beside ``path`` and move it into place when the block
    ends without an error (so that it comes with the output or catalogue written in
    the block, or not at all). ``rejects.attrs["crs"]``, the CRS of the x and y
    given to rows read from geometries, goes beside it as a .prj: fixed, the file is
    read back without --crs, and opens in QGIS as points."""
    from .io import CSV_ENCODING, atomic_path, stale_prj, write_prj

    dialect = dialect or csv_dialect(rejects.attrs.get("csv_separator", ","))
    crs = rejects.attrs.get("crs")
    stale = stale_prj(path) if crs is None else None  # an earlier run's label
    with atomic_path(path, overwrite=True) as tmp:
        rejects.to_csv(tmp, index=False, encoding=CSV_ENCODING, **dialect)
        if crs is not None:
            write_prj(tmp, crs)
        yield path
    if stale is not None:
        stale.unlink(missing_ok=True)


def _check_output(output, overwrite):
    from .io import VECTOR_SUFFIXES

    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx") and suffix not in VECTOR_SUFFIXES:
        raise InputError(f"{output}: unknown output format; use .csv, .xlsx, .gpkg, .geojson, .parquet or .shp")
    if output.exists() and not overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it")


#: Rows of an Excel sheet, the header's included.
EXCEL_ROWS = 1_048_576


def _write(located, x, y, in_crs, locator, output, overwrite, dialect, *, source, label=None):
    """CSV and Excel keep the input's columns (a CSV in ``dialect``, the input's
    separator), labelled with their CRS ``label`` when one was said; vector formats
    get WGS84 points (true lon/lat). In Excel every code is a text cell, so IDs keep
    all their digits."""
    from .io import CSV_ENCODING, atomic_path, stale_prj, write_points, write_prj, write_workbook

    if output.suffix.lower() == ".csv":
        stale = stale_prj(output) if label is None else None
        with atomic_path(output, overwrite=overwrite) as tmp:
            located.to_csv(tmp, index=False, encoding=CSV_ENCODING, **dialect)
            if label is not None:
                write_prj(tmp, label)
        if stale is not None:
            stale.unlink()
        return
    if output.suffix.lower() == ".xlsx":
        if len(located) >= EXCEL_ROWS:
            raise InputError(f"{output}: {len(located):,} rows do not fit in an Excel sheet ({EXCEL_ROWS - 1:,} at "
                             "most); write .csv, .gpkg or .parquet")
        plain = _plain(located)
        _check_excel_text(plain, source, output)
        with atomic_path(output, overwrite=overwrite) as tmp:
            write_workbook([("located", plain)], tmp, crs=label)
        return
    import pyproj

    lx, ly = locator.to_layout_xy(x, y, in_crs) if len(x) else (x, y)
    lon, lat = pyproj.Transformer.from_crs(locator.crs, 4326, always_xy=True).transform(lx, ly)
    if output.suffix.lower() == ".shp":
        from .export import shapefile_names

        located = located.rename(columns=shapefile_names(located.columns, SHAPEFILE_NAMES))
    write_points(located, lon, lat, output, crs=4326, layer="located" if output.suffix.lower() == ".gpkg" else None,
                 overwrite=overwrite, styles=True)


def _check_excel_text(frame, source, output):
    """Refuse, naming the row, a text that Excel cannot store: the control characters
    other than tab and line breaks, which XML cannot hold (openpyxl, which wrote
    workbooks before XlsxWriter, raised an IllegalCharacterError traceback at that
    cell; XlsxWriter writes them escaped, as _x0001_, which calamine reads back)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for name in frame.columns:
        try:  # text columns (a column of None only, or of numbers, has no .str)
            bad = np.flatnonzero(frame[name].str.contains(ILLEGAL_CHARACTERS_RE.pattern, regex=True, na=False))
        except AttributeError:
            continue
        if len(bad):
            value = frame[name].iloc[bad[0]]
            char = ILLEGAL_CHARACTERS_RE.search(value).group()
            raise InputError(f"{source}: row {frame.index[bad[0]] + 1}, column {name!r}: {value!r} holds the control "
                             f"character {char!r}, which Excel cannot store ({len(bad):,} row(s) of that column hold "
                             f"one); write {output.with_suffix('.csv').name} (or .gpkg, .parquet) instead, or remove "
                             "them from the input")


def _plain(located):
    """``located`` with categorical columns as plain values (GDAL and Excel have no
    categorical type)."""
    frame = located.copy()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(object)
    return frame


# -- dask ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _worker_locator(package, tolerance, grid):
    """One locator per worker process and package (loaded from the cached index)."""
    layer, id_field, crs = grid
    return Locator.from_package(package, tolerance=tolerance, layer=layer, id_field=id_field, crs=crs)


def _partition_xy(part, x_field, y_field, wkb, crs, degrees):
    """A partition's rows without their geometry, and their positions ``x``, ``y``
    (in ``crs``, as decimal degrees when ``degrees`` names another form)."""
    from .catalogue import coordinate_values, representative_xy

    if wkb is not None:  # GeoParquet read as plain Parquet: the geometry column as WKB
        x, y = _wkb_xy(part[wkb])
        frame = pd.DataFrame(part.drop(columns=wkb))
    elif x_field is None:  # a dask-geopandas frame
        x, y = representative_xy(part.geometry.values)
        frame = pd.DataFrame(part.drop(columns=part.geometry.name))
    else:
        x, y = coordinate_values(part, x_field, y_field)
        frame = pd.DataFrame(part)
        frame.attrs["xy_fields"] = (x_field, y_field)  # a reject names the column, as the file path's do
    return (frame, *coords.read_degrees(x, y, degrees, crs))


def _sample_partition(part, x_field, y_field, wkb, n, crs, degrees):
    """The positions of ``n`` evenly spaced rows of a partition (all, if it has fewer)."""
    _, x, y = _partition_xy(part.iloc[evenly_spaced(len(part), n)], x_field, y_field, wkb, crs, degrees)
    return pd.DataFrame({"x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float)})


def _locate_partition(part, package, tolerance, grid, x_field, y_field, crs, routes, class_field, kind,
                      class_code=None, wkb=None, degrees=None, near_edge=None):
    with _warnings_quiet():  # a worker loads the index the run made, whose warnings the run gave
        locator = _worker_locator(str(package), float(tolerance), grid)
    frame, x, y = _partition_xy(part, x_field, y_field, wkb, crs, degrees)
    classes = _classes(frame, class_field, class_code, "the dataset")
    located, rejects = locate_frame(frame, x, y, crs, locator, routes=routes, classes=classes, kind=kind,
                                    compact=True, near_edge=near_edge, degrees=degrees)
    # Rejected rows travel with the rest, marked, so none is lost on the way back.
    located = pd.concat([located.assign(**{PREFIX + "reject": None}),
                         rejects.drop(columns="row").rename(columns={"reason": PREFIX + "reject",
                                                                     "detail": PREFIX + "reject_detail"})])
    located = located.loc[frame.index] if frame.index.is_unique else located
    located[PREFIX + "cell"] = located[PREFIX + "cell"].fillna(-1).astype(np.int64)
    located[PREFIX + "status_code"] = located[PREFIX + "status_code"].fillna(OUTSIDE).astype(np.int8)
    located[PREFIX + "micro"] = located[PREFIX + "micro"].fillna(-1).astype(np.int64)
    if near_edge is not None:
        located[PREFIX + "near"] = located[PREFIX + "near"].fillna(-1).astype(np.int64)
    return located


def _wkb_xy(values):
    """``(x, y)`` of a WKB column: 2D points cut from the bytes, anything else through
    shapely (a point standing for each geometry, as ``read_inventory`` takes)."""
    import pyarrow as pa
    import shapely

    from .catalogue import representative_xy, wkb_point_xy

    xy = wkb_point_xy(pa.array(values.array))
    if xy is not None:
        return xy
    return representative_xy(shapely.from_wkb(values.to_numpy(dtype=object, na_value=None)))


def _parquet_columns(points):
    """The primary geometry column of a Parquet dataset (file, folder or glob), its
    CRS (``None`` when the file says it has none) and its bounding box if recorded,
    all ``None`` when it is plain Parquet (no GeoParquet metadata); and the names of
    its columns."""
    import glob
    import json

    import pyarrow.dataset as ds

    from .io import geoparquet_crs

    source = str(points)
    files = sorted(glob.glob(source)) if any(c in source for c in "*?[") else source
    try:
        dataset = ds.dataset(files, format="parquet")
        schema = dataset.schema
        meta = json.loads((schema.metadata or {}).get(b"geo", b"null"))
    except Exception as exc:  # no file, not Parquet, the 'geo' metadata no JSON
        raise InputError(f"{points}: not a Parquet dataset ({exc.__class__.__name__}: {exc}); gridkit reads Parquet "
                         "or GeoParquet: a file, a folder of partitions, or with --dask a glob") from exc
    if not dataset.files:
        raise InputError(f"{points}: no Parquet files in it (files whose names begin with . or _, as Spark's "
                         "_SUCCESS, are not read)")
    _refuse_mixed_schemas(points, dataset)
    if not meta:
        return None, None, None, schema.names
    try:
        name = meta["primary_column"]
        column = meta["columns"][name]
    except (KeyError, TypeError) as exc:
        raise InputError(f"{points}: its GeoParquet metadata names no primary geometry column ({exc!r}); for "
                         "coordinate columns, name them (--x-field/--y-field; x_field=, y_field=)") from exc
    return name, geoparquet_crs(column), column.get("bbox"), schema.names


def _refuse_mixed_schemas(points, dataset):
    """Refuse a dataset a file of which is no Parquet, or whose files disagree on a
    column's type (lon as text in one, as numbers in another): dask takes the first
    file's types for all, so a worker failed on the file, or the output could not
    be written, in a traceback. Each file's footer is read (17 ms for 500 files)."""
    import pyarrow as pa

    def family(kind):  # int64 in one file, double in another (a column with a blank): numbers in both
        return ("number" if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
                else "text" if pa.types.is_string(kind) or pa.types.is_large_string(kind)
                else None if pa.types.is_null(kind) else str(kind))

    first = dataset.files[0]
    types = dict(zip(dataset.schema.names, dataset.schema.types))
    for fragment in dataset.get_fragments():
        try:
            schema = fragment.physical_schema
        except Exception as exc:  # not Parquet, or cut short
            raise InputError(f"{points}: {fragment.path} is not a readable Parquet file ({exc}); remove it or "
                             "write it again") from None
        for name, kind in zip(schema.names, schema.types):
            if name in types and None not in (family(kind), family(types[name])) \
                    and family(kind) != family(types[name]):
                raise InputError(f"{points}: its files disagree on column {name!r}: {types[name]} in {first}, {kind} "
                                 f"in {fragment.path}. Write the partitions with one schema (pandas: the same "
                                 "dtypes in each; pyarrow: one schema=) and locate them again")


def locate_dask(points, package, *, routes=None, class_field=None, class_code=None, kind="component",
                crs=None, x_field=None, y_field=None, tolerance=0.0, scheduler=None, n_workers=2,
                grid_layer=None, id_field="grid_id", grid_crs=None, degrees=None, near_edge=None):
    """Locate a partitioned Parquet dataset (GeoParquet, or x/y columns) on dask.

    Plain Parquet's coordinate columns are ``x_field`` and ``y_field``, else found
    by name as a CSV's are (lon/lat, x/y, 经度/纬度 …); with them given, a
    GeoParquet is read by them too.

    ``points`` is a path (file, folder or glob) or a dask (geo)dataframe.
    ``crs``: the points' CRS; by default a GeoParquet's own (its metadata), and
    EPSG:4326 for x/y columns or a dask frame without one.
    ``scheduler`` is the address of a running dask scheduler; without one a local
    cluster of ``n_workers`` processes is started for the run and closed after.
    Returns ``(located, rejects)`` as :func:`locate_frame` does, ``located`` in
    the input's row order (rows are numbered within the whole dataset), and
    ``located.attrs["offset_hint"]``: :meth:`Locator.offset_hint` on an even sample
    of the positions ("" when they seem read in the right lon/lat system).
    ``routes``, ``class_field``, ``class_code``, ``degrees``, ``near_edge``, ``grid_layer``, ``id_field``,
    ``grid_crs``: as :func:`locate_file`'s.
    """
    import dask
    import dask.dataframe as dd
    import pyarrow as pa
    from dask.distributed import Client, LocalCluster

    from .catalogue import _find_coordinate_columns
    from .io import marked_crs, warn_if_gcj02

    if isinstance(points, (str, Path)) and Path(points).is_file() and \
            Path(points).suffix.lower() not in (".parquet", ".geoparquet"):
        raise InputError(f"{points}: the dask path reads Parquet or GeoParquet (a file, a folder of "
                         "partitions or a glob); locate other formats without --dask")
    package = str(Path(package).resolve())
    grid = (grid_layer, id_field, grid_crs)
    locator = _worker_locator(package, float(tolerance), grid)  # builds the index file once, up front
    wkb = None
    if isinstance(points, (str, Path)):
        geometry, file_crs, bbox, columns = _parquet_columns(points)
        if x_field is None and y_field is None and geometry is not None:
            # Read as plain Parquet, the geometry column as Arrow binary: the points
            # are cut from the WKB, with no shapely object per row.
            wkb = geometry
            if crs is None:
                if file_crs is None:
                    raise CRSError(f"{points}: the GeoParquet has no CRS. Say what its coordinates are in: --crs "
                                   "EPSG:4326 (GPS), --crs EPSG:4490 (CGCS2000), --crs gcj02, --crs bd09, or the "
                                   "projected CRS's EPSG code")
                crs = (marked_crs(points) if file_crs.equals(4326) else None) or file_crs  # gridkit export's copy
                if crs is file_crs and bbox and len(bbox) == 4:
                    warn_if_gcj02(points, file_crs, tuple(bbox), columns)
            binary = {pa.binary(): pd.ArrowDtype(pa.binary()), pa.large_binary(): pd.ArrowDtype(pa.large_binary())}
            ddf = dd.read_parquet(points, arrow_to_pandas={"types_mapper": binary.get})
        else:  # coordinate columns: named, or found by name as for CSV (lon/lat, x/y …)
            x_field, y_field, _ = _find_coordinate_columns(points, columns, x_field, y_field)
            ddf = dd.read_parquet(points)
    else:
        ddf = points
        if crs is None and x_field is None and getattr(ddf, "crs", None) is not None:
            crs = ddf.crs
    stated, crs = crs is not None, crs if crs is not None else "EPSG:4326"  # a table's lon/lat: GPS by default
    coords.read_degrees([], [], degrees, crs)  # refused here for a projected crs, not in every worker
    meta_frame = ddf._meta
    sample = _locate_partition(meta_frame, package, tolerance, grid, x_field, y_field, crs, routes, class_field,
                               kind, class_code, wkb, degrees, near_edge)
    cluster = None
    if scheduler is None:
        # distributed logs its scheduler's start and stop at INFO, on a handler of its
        # own: thirty lines around the summary. As verbose as gridkit's own log (-v).
        logging.getLogger("distributed").setLevel(logging.getLogger().getEffectiveLevel())
        try:
            # ":0", a free port: None does not turn the dashboard off (dask/distributed#8136),
            # so a second run beside a notebook's cluster warned "Port 8787 is already in use".
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0")
        except RuntimeError as exc:  # dask: "Nanny failed to start"
            raise GridkitError(
                f"the local dask cluster of {n_workers} worker processes did not start ({exc}). From a Python "
                "script, call locate_dask under 'if __name__ == \"__main__\":' (each worker starts by importing "
                "the script, and the script's own call then fails in it: that error is printed above); or pass "
                "the address of a running scheduler (scheduler=...).") from exc
    # An even sample of the positions, computed with the rows (the partitions are read
    # once), for the hint that lon/lat were read in the wrong one of China's systems.
    positions = ddf.map_partitions(_sample_partition, x_field, y_field, wkb, -(-OFFSET_SAMPLE // ddf.npartitions),
                                   crs, degrees,
                                   meta=pd.DataFrame({"x": pd.Series(dtype=float), "y": pd.Series(dtype=float)}))
    try:
        with Client(cluster if cluster is not None else scheduler):
            result, positions = dask.compute(
                ddf.map_partitions(_locate_partition, package, tolerance, grid, x_field, y_field, crs, routes,
                                   class_field, kind, class_code, wkb, degrees, near_edge, meta=sample), positions)
    finally:
        if cluster is not None:
            cluster.close()
    result = pd.DataFrame(result)
    reason = result.pop(PREFIX + "reject").fillna("").to_numpy(dtype=object)
    detail = result.pop(PREFIX + "reject_detail").fillna("").to_numpy(dtype=object)
    # Workers send back cell numbers; the names come from the client's own locator.
    located, rejects = split_rejects(expand(result, locator), reason, detail)
    located.attrs["offset_hint"] = locator.offset_hint(positions["x"], positions["y"], crs, sample=OFFSET_SAMPLE,
                                                       stated=stated)
    return located, rejects
