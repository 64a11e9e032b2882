"""Point → cell: an index over a layout that answers in microseconds.

How it works
------------
The layout's bounding box is covered by square *buckets*. A bucket that lies
wholly inside one cell stores that cell (the answer needs two integer operations
and a lookup); a bucket that meets several cells stores the list of them and the
point is tested against each with shapely's prepared ``contains_xy``; a bucket
that meets no cell is outside. On a lattice layout (square cells, the Beijing
model) the buckets are laid on the lattice itself, so every whole cell is one
bucket and only clipped or merged cells need a polygon test.

Written by hand (over numpy and shapely) because the peers answer one point at a
time through an R-tree and a full predicate (``STRtree.query`` ≈ 30 µs per point
against 1.6 M cells); this index answers most points without a predicate.

The edge rule
-------------
A point on an edge or vertex shared by several cells belongs to the cell that
lies immediately east of it, or, on an east–west edge, immediately north: the
cell containing ``(x + δ, y + δ/2)`` with δ = 0.1 mm in the layout's CRS. This is
the half-open rule of a lattice — a square owns its west and south edges and its
south-west corner — so every point of the plane belongs to at most one cell. A
point on the layout's outer edge belongs to the cell whose edge it is.

Cells that overlap (a polygon file gridkit did not make, digitised by hand): a
point inside several belongs to the first of them in the layout (the lowest row),
on every path, one point or many. :meth:`Locator.from_package` warns about such a
file (in a grid package, ``gridkit check`` lists overlaps).

Points outside every cell go to the nearest cell when it is within ``tolerance``
metres (status ``nearest``, with the distance), otherwise they are ``outside``
(cell index -1). Ties go to the lower cell index.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyproj
import shapely

from . import coords
from .codes import codes_as_text, rounded_ids, rows_by_id
from .errors import CRSError, InputError, checked_number, near_column
from .invariants import boxes, overlapping_pairs
from .io import atomic_path, made_valid, require_frame
from .units import DIGITISING_NOISE_M2, METRE, lonlat_centre, measures_in_metres, unit_of

log = logging.getLogger(__name__)

#: The shapely type ids a cell may have: Polygon, MultiPolygon, and a GeometryCollection
#: (of polygons, as a repair may leave one: a point is located in its polygons).
CELL_KINDS = (3, 6, 7)

__all__ = ["Locator", "Location", "index_path", "INSIDE", "NEAREST", "OUTSIDE", "STATUS_NAMES", "EDGE_NUDGE_M"]

INSIDE, NEAREST, OUTSIDE = 0, 1, 2
STATUS_NAMES = np.array(["inside", "nearest", "outside"], dtype=object)
#: A rejects file's reason and detail for a point :meth:`Locator.swapped` finds.
SWAPPED_REASON = "latitude and longitude swapped (swapping them lands inside the layout): fix the columns"
SWAPPED_DETAIL = "swapping x and y puts it inside the layout; the columns are swapped"
#: … when the CRS given is projected: Chinese survey tables (and Gauss–Krüger
#: software) call the northing X and the easting Y, the other way round from GIS.
XY_SWAPPED_REASON = ("x and y swapped (swapping them lands inside the layout): a survey table's X (X坐标) is the "
                     "northing; give the easting column as x")
XY_SWAPPED_DETAIL = "swapping x and y puts it inside the layout; x is the northing here, not the easting"
#: … and for one :meth:`Locator.in_degrees` finds.
DEGREES_REASON = ("longitude/latitude given a projected CRS (read as EPSG:4326 they land inside the layout): "
                  "give the CRS they are in")
DEGREES_DETAIL = "read as longitude/latitude (EPSG:4326) it is inside the layout; the CRS given is projected"
#: … and for one :meth:`Locator.in_zone_twin` finds (its detail names the CRS).
ZONE_REASON = ("Gauss–Krüger x read in the CRS for the other way of writing it, with the zone number in front "
               "(39450000) or without (450000): the detail names the CRS that puts it inside the layout")
#: … and for one :meth:`Locator.in_baidu_mercator` finds.
BAIDU_MERCATOR_REASON = ("BD-09 Mercator, Baidu's own metres, read in another CRS (read as --crs bd09mc they land "
                         "inside the layout): give --crs bd09mc")
BAIDU_MERCATOR_DETAIL = "read as BD-09 Mercator (--crs bd09mc, Baidu's metres) it is inside the layout"
#: … and for a point outside with an x or y of exactly 0: where an inventory's
#: position was never filled in, its spreadsheet or platform often wrote zeros.
ZERO_REASON = ("a coordinate of exactly 0 (0,0, or a longitude or latitude of 0): a position never filled in, which "
               "the source wrote as zero; survey it, or leave the cells blank")
ZERO_DETAIL = "x or y is 0: a position never filled in"
#: … and for one :meth:`Locator.in_degree_forms` finds, by the form it is in.
SCALED_DEGREES_REASON = ("degrees as whole numbers, × 1,000,000 as JT/T 808 vehicle terminals send them (or × 100,000, "
                         "× 10,000,000): read so they land inside the layout; give --degrees e6 (the detail names "
                         "the form)")
DECIMAL_DEGREES_REASON = ("decimal degrees (116.4122) read in another form (--degrees e6, ddmm …): as given they "
                          "land inside the layout; leave out --degrees")
DEGREES_MINUTES_REASON = ("degrees and minutes run together, NMEA's dddmm.mmmm (11624.7326 is 116°24.7326′): read so "
                          "they land inside the layout; give --degrees ddmm")
_STATUS_DTYPE = pd.CategoricalDtype(list(STATUS_NAMES))
#: How cells in GCJ-02, labelled (or read as) EPSG:4326, are read as such.
GCJ02_GRID_FIX = 'give --grid-crs gcj02 (in Python, Locator.from_package(path, crs="gcj02"))'
#: 2: with the micro-grids; 3: overlapping cells, the first wins; 4: a file's overlaps on record;
#: 5: its invalid cells on record; 6: a layer in feet or Web Mercator in the metric CRS; 7: overlaps
#: under 1 m² not on record; 8: the warnings of reading the file on record
_INDEX_FORMAT = "gridkit-locator-8"
_MICRO = "micro."  # the prefix of the micro-grids' arrays in an index file
_CHUNK = 1 << 18  # points per lookup chunk
_HINT_SAMPLE = 1000  # outside points read again as lon/lat for the hint of a missing crs
_THREADS = 2
EDGE_NUDGE_M = 1e-4
_MICRO_REACH_M = 1e-3  # how far a cell's micro-grid may lie from the point: the layers' vertices differ
_EPS = 1e-9  # relative slack when laying cell bounds on buckets
_MAX_BUCKETS = 60_000_000
_BUCKETS_PER_SIDE = 16  # buckets along the side of a median cell, on irregular layouts
_HIERARCHY = ("grid_id", "community_code", "community_name", "street_code", "street_name",
              "county_code", "county_name")


class Location(NamedTuple):
    """Where one point is: the cell and its hierarchy, or ``status == "outside"``.

    A named tuple (cheap to make: the single-point path costs microseconds);
    fields the layout does not have are ``None``. ``micro_id`` is the micro-grid
    (within ``grid_id``) of a household package that has them.
    """

    grid_id: str | None
    community_code: str | None
    community_name: str | None
    street_code: str | None
    street_name: str | None
    county_code: str | None
    county_name: str | None
    status: str
    distance_m: float
    micro_id: str | None = None


#: The share of positions that, read as GCJ-02 instead of WGS84, would lie in
#: another cell, above which a file that did not say its lon/lat system gets a hint
#: (:meth:`Locator.offset_hint`, ``stated=False``).
UNSTATED_SHARE = 0.1


def evenly_spaced(count, n):
    """Positions of ``n`` of ``count`` rows, evenly spaced from the first to the last
    (all of them when ``count`` ≤ ``n``): a sample that sees the whole file."""
    return np.unique(np.linspace(0, count - 1, min(n, count)).astype(np.int64))


def _lattice(geoms, bounds):
    """Side and origin of the square lattice most cells sit on, or ``None``."""
    w, h = bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]
    rect = boxes(geoms, bounds)
    if rect.sum() < max(3, 0.2 * len(geoms)):
        return None, rect
    side = float(np.median(w[rect]))
    square = rect & (np.abs(w - side) <= 1e-6 * side) & (np.abs(h - side) <= 1e-6 * side)
    if square.sum() < 0.5 * rect.sum():
        return None, rect
    first = np.flatnonzero(square)[0]
    ox, oy = bounds[first, 0], bounds[first, 1]
    fx = (bounds[square, 0] - ox) / side
    aligned = np.abs(fx - np.round(fx)) < 1e-6
    if aligned.mean() < 0.9:
        return None, rect
    return (side, ox, oy), rect


def _bucket_ranges(lo, hi, origin, side, n):
    """Inclusive bucket index ranges [i0, i1] that a closed interval [lo, hi] meets.

    Widened by a hair on both sides, so a cell whose edge lies on a bucket edge is
    listed in the bucket beyond it too: every bucket then knows every cell that
    touches it, and a point in a bucket that lists no cell is outside the layout.
    """
    i0 = np.floor((lo - origin) / side - _EPS).astype(np.int64)
    i1 = np.floor((hi - origin) / side + _EPS).astype(np.int64)
    return np.clip(i0, 0, n - 1), np.clip(i1, 0, n - 1)


def _reaching(geoms, bounds, code, own, grid):
    """The buckets owned by a rectangle (``code`` ≥ 0) that an earlier cell's
    interior reaches into: overlapping cells. A summed-area table over the window of
    owned buckets counts those under each cell's box; only a cell with more of them
    than it owns itself (``own``) is laid on the buckets and tested, so a layout
    whose cells only touch costs a pass over the boxes."""
    ox, oy, side, nx, ny = grid
    owned = code.reshape(ny, nx) >= 0
    rows, cols = np.flatnonzero(owned.any(axis=1)), np.flatnonzero(owned.any(axis=0))
    if not len(rows):
        return np.empty(0, dtype=np.int64)
    r0, r1, c0, c1 = rows[0], rows[-1], cols[0], cols[-1]
    i0 = np.clip(np.floor((bounds[:, 0] - ox) / side + _EPS), c0, c1).astype(np.int64)
    i1 = np.clip(np.ceil((bounds[:, 2] - ox) / side - _EPS) - 1, c0, c1).astype(np.int64)
    j0 = np.clip(np.floor((bounds[:, 1] - oy) / side + _EPS), r0, r1).astype(np.int64)
    j1 = np.clip(np.ceil((bounds[:, 3] - oy) / side - _EPS) - 1, r0, r1).astype(np.int64)
    table = np.zeros((r1 - r0 + 2, c1 - c0 + 2), dtype=np.int32)  # at most 60 M buckets: int32 holds the sums
    table[1:, 1:] = owned[r0:r1 + 1, c0:c1 + 1].cumsum(0, dtype=np.int32).cumsum(1, dtype=np.int32)
    a0, a1, b0, b1 = i0 - c0, i1 - c0 + 1, j0 - r0, j1 - r0 + 1
    count = table[b1, a1] - table[b0, a1] - table[b1, a0] + table[b0, a0]
    # A box wholly off the window was clipped onto its edge: left out.
    near = ((bounds[:, 2] - ox) / side > c0) & ((bounds[:, 0] - ox) / side < c1 + 1) \
        & ((bounds[:, 3] - oy) / side > r0) & ((bounds[:, 1] - oy) / side < r1 + 1)
    k = np.flatnonzero((count > own) & near)
    pick, bi, bj = _expand(i0[k], i1[k], j0[k], j1[k])
    k, bucket = k[pick], bj * nx + bi
    keep = (code[bucket] >= 0) & (k < code[bucket])
    k, bi, bj, bucket = k[keep], bi[keep], bj[keep], bucket[keep]
    squares = shapely.box(ox + bi * side, oy + bj * side, ox + (bi + 1) * side, oy + (bj + 1) * side)
    inside = shapely.area(shapely.intersection(geoms[k], squares)) > _EPS * side * side
    return np.unique(bucket[inside])


def _expand(i0, i1, j0, j1):
    """All (cell, i, j) triples of the per-cell rectangles of bucket indices."""
    nx_, ny_ = i1 - i0 + 1, j1 - j0 + 1
    counts = nx_ * ny_
    cell = np.repeat(np.arange(len(i0)), counts)
    start = np.cumsum(counts) - counts
    k = np.arange(counts.sum()) - np.repeat(start, counts)
    return cell, i0[cell] + k % nx_[cell], j0[cell] + k // nx_[cell]


class Locator:
    """Find the cell of points, from any layout.

    Cells whose polygon is invalid (a ring crossing itself) are located as
    ``make_valid`` repairs them, with a warning naming them. ``invalid`` keeps
    the record, or None: ``{"what": "cell", "count": n, "first": [[row, ID]]}``
    (the first five). :meth:`from_package` repeats the warning whenever it loads
    the saved index.

    Parameters
    ----------
    cells : GeoDataFrame
        The layout in a projected (metric) CRS, with ``grid_id`` and, when known,
        the hierarchy columns (community, street, county codes and names).
    tolerance : float
        Points outside every cell but within this many metres of one go to the
        nearest (status ``nearest``). Default 0: outside is outside.
    micro : GeoDataFrame, optional
        Micro-grids nested in the cells (a household package's ``micro_grids``:
        ``micro_id`` and the ``grid_id`` of the cell holding each). Answers then
        name the micro-grid too, always one of the answer's cell (on an edge
        between two cells, the micro-grid follows the cell).
    check_overlaps : bool
        Find the cells that overlap (a file digitised by hand), as located: then
        ``overlaps`` is ``{"pairs": n, "first": [grid ID, grid ID, m²]}``, or None
        when none do. Default False: ``overlaps`` is None unchecked (about 0.4 s
        per 100,000 cells).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> cells = gpd.GeoDataFrame({"grid_id": ["990101900600001", "990101900600002"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=32619)
    >>> loc = Locator(cells, tolerance=5)
    >>> loc.locate(100, 50).grid_id       # on the shared edge: the east cell
    '990101900600002'
    >>> loc.locate(-3, 50).status, loc.locate(-3, 50).distance_m
    ('nearest', 3.0)
    """

    def __init__(self, cells, *, tolerance: float = 0.0, id_field: str = "grid_id", micro=None,
                 check_overlaps: bool = False):
        require_frame(cells, "the cells", polygons=CELL_KINDS, fix="read them with gridkit.read_package(), or "
                      "make the Locator with Locator.from_package(path)")
        if cells.crs is None:
            raise CRSError("the layout has no CRS; set one (cells.set_crs(...)) before indexing it")
        if len(cells) and not measures_in_metres(cells.crs, cells.total_bounds):
            unit = unit_of(cells.crs)
            what = ("not a projected CRS" if unit == "degree" else f"whose unit is the {unit}"
                    if unit not in METRE else "which stretches areas by over 1 % there (Web Mercator)")
            raise CRSError(f"the layout is in {cells.crs.to_string()}, {what}; project it "
                           "(cells.to_crs(gridkit.metric_crs_for(lon, lat))) so distances are metres")
        if id_field not in cells.columns:
            raise InputError(f"the layout has no {id_field!r} column")
        if not len(cells):
            raise InputError("the layout has no cells")
        _refuse_blank(cells[id_field], id_field, "the cells" if id_field == "grid_id" else "the micro-grids")
        self.crs = cells.crs
        self.tolerance = metres(tolerance)
        # The hierarchy is kept once per distinct (community … county) combination:
        # each cell points at its row of ``_units``.
        self._ids = cells[id_field].astype(str).to_numpy(dtype=object)
        self._names = ["grid_id"] + [name for name in _HIERARCHY[1:] if name in cells.columns]
        hierarchy = cells[self._names[1:]].astype(object).where(cells[self._names[1:]].notna(), None)
        if len(self._names) > 1:
            unit = hierarchy.groupby(self._names[1:], dropna=False, sort=False).ngroup().to_numpy()
        else:
            unit = np.zeros(len(cells), dtype=np.int64)
        first = np.unique(unit, return_index=True)[1]
        self._unit = unit.astype(np.int32)
        self._units = [tuple(row) for row in hierarchy.iloc[first].itertuples(index=False)]
        self._record = _records(self._ids, self._unit)
        geoms = np.asarray(cells.geometry.values, dtype=object)
        _refuse_missing(geoms, self._ids, "cell", "the cells")
        geoms, self.invalid = _repaired(geoms, self._ids, "micro-grid" if id_field == "micro_id" else "cell")
        _warn_invalid(self.invalid)
        _warn_repeated(self, "micro-grid" if id_field == "micro_id" else "cell")
        self._build(geoms)
        self._read_from = geoms  # every cell's polygon, for near_edge; a package's are read again instead
        self.overlaps = _overlaps(geoms, self._ids) if check_overlaps else None
        self.read_warnings = []  # from_package's: what reading the file warned of
        self.micro, self._micro_parent = None, None
        if micro is not None:
            self._nest(micro)
        self._prepare()

    def _nest(self, micro):
        """Index the micro-grids ``micro`` as a locator of their own, each knowing its cell's row."""
        missing = {"micro_id", "grid_id"} - set(micro.columns)
        if missing:
            raise InputError(f"the micro-grids have no {', '.join(sorted(missing))} column")
        if not len(micro):  # all deleted (in QGIS, say): a layout without micro-grids
            return
        if micro.crs is None:
            raise CRSError("the micro-grids have no CRS; set one (micro.set_crs(...)) before indexing them")
        _refuse_missing(np.asarray(micro.geometry.values, dtype=object), micro["micro_id"].astype(str).to_numpy(),
                        "micro-grid", "the micro-grids")
        if not micro.crs.equals(self.crs):
            micro = micro.to_crs(self.crs)
        self.micro = Locator(micro[["micro_id", micro.geometry.name]], id_field="micro_id",
                             tolerance=self.tolerance)
        self.micro._read_from = None  # near_edge is the cells'; their polygons need not be kept
        # A micro-grid whose grid is not among the cells (a package edited by hand) has
        # parent -1: no answer ever names it. The parent is its grid's place among the
        # distinct IDs: both parts of a cell split in QGIS hold its micro-grids.
        self._micro_parent = rows_by_id(micro["grid_id"].astype(str), self.values("grid_id"))

    @classmethod
    def from_package(cls, path, *, tolerance: float = 0.0, cache: bool = True, layer=None,
                     id_field: str = "grid_id", micro: bool = True, crs=None):
        """The locator of a grid package (its ``cells`` layer), or of any polygon file.

        A file that is not a grid package works too: give its ``layer`` (default:
        ``cells`` if there is one, else the first layer) and the column holding the
        cell IDs (``id_field``); a layer in lon/lat, in feet, or in a CRS that
        stretches areas by over 1 % there (Web Mercator) is projected to the local
        metric CRS (:func:`gridkit.coords.metric_crs_for`), so that the tolerance and
        the distances are metres on the ground. ``crs`` says what such a file's
        coordinates are in when it has no CRS, or the wrong one: ``"gcj02"`` for cells
        from Amap or a Chinese platform labelled EPSG:4326, ``"bd09"``, or an EPSG
        code. A grid package says its own, and is refused one.

        With ``micro`` (the default), a package's ``micro_grids`` layer (household
        grids made with micro-grids) is indexed too, and answers name the
        micro-grid (``micro_id``) as well as the grid.

        A file that is not a grid package is checked for cells that overlap, once
        when its index is built (``check_overlaps``; a package is left to
        ``gridkit check``), and a warning names the first pair each time the
        locator is made. A point in two cells goes to the first in the file. The
        warnings of reading the file (a layer labelled EPSG:4326 in China, which may
        be GCJ-02) are given each time too, from the index's record.

        With ``cache`` (the default) the index is kept beside the file in
        ``<file>.locator`` and loaded from there (well under a second, even for
        1.6 M cells) as long as the file has not changed since; otherwise it is
        built from the cells and the index file written anew.
        """
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such grid package")
        sidecar = index_path(path)
        stamp = f"{_stamp(path)}:{layer or ''}:{id_field}:{'micro' if micro else ''}:{crs or ''}"
        if cache and sidecar.exists():
            try:
                loc = cls.load(sidecar, tolerance=tolerance)
            except InputError:
                loc = None  # unreadable or from another gridkit: rebuild
            if loc is not None and loc.source == stamp:
                for each, what in ((loc, "cell"), (loc.micro, "micro-grid")):
                    if each is not None:
                        _warn_invalid(each.invalid)
                        _warn_repeated(each, what)
                _warn_overlaps(path, loc.overlaps)
                for name, message in loc.read_warnings:
                    logging.getLogger(name).warning(message)
                loc._read_from = (path, layer, id_field, crs)
                return loc
        with _warnings_kept() as read_warnings:
            cells, micro_grids, package = _read_cells(path, layer, id_field, micro, crs)
        try:
            loc = cls(cells, tolerance=tolerance, micro=micro_grids, check_overlaps=not package)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        loc.source, loc.read_warnings = stamp, read_warnings
        _warn_overlaps(path, loc.overlaps)
        loc._read_from = (path, layer, id_field, crs)  # not kept in memory: near_edge alone needs them
        if cache:
            try:
                loc.save(sidecar)
            except OSError as exc:  # a read-only folder: work without the cache
                warnings.warn(f"could not keep the locator index beside {path}: {exc}", stacklevel=2)
        return loc

    def __len__(self):
        return len(self._ids)

    @functools.cached_property
    def _distinct_ids(self):
        """``(code of each cell's ID, the distinct IDs)``; the code is None (each cell's
        row) unless an ID repeats: a cell split in QGIS, both parts of which answer
        with its ID until ``gridkit check --fix-ids`` gives one a new one."""
        of_cell, ids = pd.factorize(self._ids)
        return (None, self._ids) if len(ids) == len(self._ids) else (of_cell.astype(np.int32), ids.astype(object))

    @property
    def attributes(self):
        """The hierarchy columns this layout has (``grid_id`` first)."""
        return tuple(self._names)

    def values(self, name) -> np.ndarray:
        """The distinct values of one attribute (every grid ID, every county code …)."""
        return self._distinct_ids[1] if name == "grid_id" else self._unit_values[name][1]

    def codes(self, name, index):
        """``(codes, distinct values)`` of attribute ``name`` for the cells at ``index`` (code -1 for none)."""
        if name == "grid_id":
            of_cell, ids = self._distinct_ids
            return (index if of_cell is None else np.where(index >= 0, of_cell[np.maximum(index, 0)], -1)), ids
        of_unit, categories = self._unit_values[name]
        return np.where(index >= 0, of_unit[self._unit[np.maximum(index, 0)]], -1), categories

    def cells_in(self, units):
        """Which cells lie in ``units``: codes or names of the layout's communities,
        streets or districts, in any mix. Returns ``(mask, found)``: a boolean per
        cell, and each unit as ``"code name"``. A code or name the layout does not
        have, or a name two units share, is an :class:`InputError` saying what it
        has, or which codes to choose from.

        Remembered per locator: a run asks first, to refuse an unknown unit before
        any point is read, and again when it counts (the mask is read-only)."""
        key = tuple(str(unit).strip() for unit in units)
        known = self.__dict__.setdefault("_units_in", {})
        if key not in known:
            mask, found = self._cells_in(key)
            mask.flags.writeable = False
            known[key] = mask, found
        return known[key][0], list(known[key][1])

    def _cells_in(self, units):
        from .counts import LEVELS

        rows = np.arange(len(self))
        table = {}  # level: each cell's (code, name)
        for level, (code, name, _) in LEVELS.items():
            if level != "cell" and code in self._names:
                table[level] = [self._text(column, rows) if column in self._names else np.full(len(rows), None)
                                for column in (code, name)]
        if not table:
            raise InputError("the layout names no community, street or district: every cell has only its ID")
        mask, found = np.zeros(len(rows), dtype=bool), []
        for key in units:
            hits = {(level, c, n) for level, (codes, names) in table.items()
                    for c, n in zip(*(v[(codes == key) | (names == key)] for v in (codes, names)))}
            if not hits:
                level, (codes, names) = next(iter(table.items()))
                have = pd.unique(pd.Series([f"{c} {n}" if n else f"{c}" for c, n in zip(codes, names)]))
                raise InputError(f"no community, street or district of the layout has the code or name {key!r}; "
                                 f"its {level} codes and names: {', '.join(have[:8])}"
                                 + (f" … ({len(have):,} in all)" if len(have) > 8 else ""))
            if len(hits) > 1:
                raise InputError(f"{key!r} names {len(hits)} units: "
                                 + ", ".join(f"{level} {c}" for level, c, _ in sorted(hits)) + "; give the code")
            level, c, n = hits.pop()
            mask |= table[level][0] == c
            found.append(f"{c} {n}" if n else str(c))
        return mask, found

    def _text(self, name, rows):
        """Attribute ``name`` of the cells at ``rows`` as an object array (None for none)."""
        of_cell, values = self.codes(name, rows)
        values = np.asarray(values, dtype=object)
        return np.where(of_cell >= 0, values[np.maximum(of_cell, 0)] if len(values) else None, None)

    # -- the index -------------------------------------------------------------------
    def _build(self, geoms):
        bounds = shapely.bounds(geoms)
        lattice, rect = _lattice(geoms, bounds)
        minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
        maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
        if lattice:
            side, ox, oy = lattice
            ox -= np.ceil((ox - minx) / side) * side
            oy -= np.ceil((oy - miny) / side) * side
        else:
            side = float(np.sqrt(np.median(shapely.area(geoms)))) / _BUCKETS_PER_SIDE or 1.0
            ox, oy = minx, miny
        while True:
            # One empty bucket of margin on every side, so the buckets along the
            # layout's outer edge all list the cells there (the nearest-cell search
            # relies on it).
            nx = int(np.floor((maxx - ox) / side)) + 3
            ny = int(np.floor((maxy - oy) / side)) + 3
            if nx * ny <= _MAX_BUCKETS:
                break
            side *= 2
        ox, oy = ox - side, oy - side
        self.side, self.origin, self.shape = float(side), (float(ox), float(oy)), (ny, nx)
        # Rectangles (lattice cells) own the buckets inside them by arithmetic and list
        # themselves in the buckets they only touch.
        r = np.flatnonzero(rect)
        i0, i1 = _bucket_ranges(bounds[r, 0], bounds[r, 2], ox, side, nx)
        j0, j1 = _bucket_ranges(bounds[r, 1], bounds[r, 3], oy, side, ny)
        k, bi, bj = _expand(i0, i1, j0, j1)
        cell, b = r[k], bounds[r[k]]
        bx0, by0 = ox + bi * side, oy + bj * side
        tol = _EPS * side * 10
        covered = ((bx0 >= b[:, 0] - tol) & (bx0 + side <= b[:, 2] + tol)
                   & (by0 >= b[:, 1] - tol) & (by0 + side <= b[:, 3] + tol))
        code = np.full(nx * ny, -1, dtype=np.int64)
        # Overlapping cells: the first in the layout wins (here, the lowest rectangle).
        order = np.argsort(cell[covered], kind="stable")[::-1]
        code[(bj * nx + bi)[covered][order]] = cell[covered][order]
        pair_bucket, pair_cell = [(bj * nx + bi)[~covered]], [cell[~covered]]
        # Other cells list themselves in every bucket their boundary passes through
        # (the boundary, cut into pieces shorter than half a bucket, is rasterised).
        other = np.flatnonzero(~rect)
        if len(other):
            # One line per ring, so no segment jumps from a ring (or an island) to the next.
            rings, owner = shapely.get_parts(shapely.boundary(geoms[other]), return_index=True)
            xy, part = shapely.get_coordinates(shapely.segmentize(rings, side / 2), return_index=True)
            fx, fy = (xy[:, 0] - ox) / side, (xy[:, 1] - oy) / side
            lo_x, hi_x = np.floor(fx - _EPS).astype(np.int64), np.floor(fx + _EPS).astype(np.int64)
            lo_y, hi_y = np.floor(fy - _EPS).astype(np.int64), np.floor(fy + _EPS).astype(np.int64)
            a = np.flatnonzero(part[:-1] == part[1:])  # segment a → a + 1 of one ring
            k, bi, bj = _expand(np.clip(np.minimum(lo_x[a], lo_x[a + 1]), 0, nx - 1),
                                np.clip(np.maximum(hi_x[a], hi_x[a + 1]), 0, nx - 1),
                                np.clip(np.minimum(lo_y[a], lo_y[a + 1]), 0, ny - 1),
                                np.clip(np.maximum(hi_y[a], hi_y[a + 1]), 0, ny - 1))
            pair_bucket.append(bj * nx + bi)
            pair_cell.append(other[owner[part[a[k]]]])
        mb, mc = np.concatenate(pair_bucket), np.concatenate(pair_cell)
        # A bucket owned by a rectangle that an earlier cell reaches into (overlapping
        # cells) is tested point by point instead: the earlier cell wins there. Its
        # candidates: the rectangle, the cells whose boundaries or boxes list it (kept
        # below), and those holding its centre (the grazed buckets' test).
        shared = _reaching(geoms, bounds, code, np.bincount(cell[covered], minlength=len(geoms)),
                           (ox, oy, side, nx, ny))
        if len(shared):
            mb, mc = np.concatenate([mb, shared]), np.concatenate([mc, code[shared]])
            code[shared] = -1
        keep = code[mb] < 0
        mb, mc = mb[keep], mc[keep]
        # A bucket no boundary passes through lies inside one cell or outside all of
        # them, and so does every bucket joined to it the same way: label those
        # regions and test one bucket centre per region.
        # A bucket that boundaries only graze (along its edge, at a corner) may lie
        # wholly inside a cell that no boundary lists: the cell holding its centre.
        free = code < 0
        free[mb] = False
        if len(other):
            from scipy import ndimage

            labels, n_regions = ndimage.label(free.reshape(ny, nx))
            labels = labels.ravel()
            regions, first = np.unique(labels, return_index=True)
            first = first[regions > 0]
            grazed = np.unique(mb)
            centres = np.concatenate([first, grazed])
            point, hit = shapely.STRtree(geoms[other]).query(
                shapely.points(ox + (centres % nx + 0.5) * side, oy + (centres // nx + 0.5) * side),
                predicate="within")
            owner = np.full(n_regions + 1, -1, dtype=np.int64)
            in_region = point < len(first)
            # Overlapping cells: the first in the layout wins (written last).
            last = np.argsort(other[hit[in_region]], kind="stable")[::-1]
            owner[labels[first[point[in_region][last]]]] = other[hit[in_region][last]]
            code[free] = owner[labels[free]]
            mb = np.concatenate([mb, centres[point[~in_region]]])
            mc = np.concatenate([mc, other[hit[~in_region]]])
        order = np.lexsort((mc, mb))
        mb, mc = mb[order], mc[order]
        distinct = np.ones(len(mb), dtype=bool)
        distinct[1:] = (mb[1:] != mb[:-1]) | (mc[1:] != mc[:-1])
        mb, mc = mb[distinct], mc[distinct]
        ub, first = np.unique(mb, return_index=True)
        code[ub] = -2 - np.arange(len(ub))
        self._code = code.astype(np.int32)
        self._mixed_ptr = np.append(first, len(mb)).astype(np.int64)
        # Only the cells of mixed buckets keep their polygons: they are the only ones
        # a point is ever tested against, and (the margin sees to it) they include
        # every cell on the layout's outer edge, where the nearest cell is found.
        self._mixed_ids, local = np.unique(mc, return_inverse=True)
        self._mixed_cells = local.astype(np.int32)
        self._mixed_geoms = geoms[self._mixed_ids]
        self.source = None
        self.stats = {"cells": len(geoms), "buckets": nx * ny, "bucket_side_m": self.side,
                      "lattice": bool(lattice), "owned_buckets": int((code >= 0).sum()),
                      "mixed_buckets": len(ub), "mixed_cells": len(self._mixed_ids)}

    def __getstate__(self):
        """Pickled without the lock and the cached transforms (closures); unpickled
        with a lock of its own and its polygons prepared again."""
        state = dict(self.__dict__, _transforms={})
        for rebuilt in ("_geos_lock", "_tree", "_polygons", "_cell_tree", "_units_in"):  # again when first needed
            state.pop(rebuilt, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        shapely.prepare(self._mixed_geoms)
        self._geos_lock = threading.Lock()

    def _prepare(self):
        shapely.prepare(self._mixed_geoms)
        # GEOS builds a prepared polygon's index on its first test, and two threads
        # doing that at once corrupt the heap (libgeos/geos#825): every GEOS call on
        # the locator's polygons holds this lock, so a Locator may be shared by the
        # threads of a web server or a dask worker. The owned-bucket path (most
        # points) never takes it.
        self._geos_lock = threading.Lock()
        self._transforms = {}
        self._grid = (self.origin[0], self.origin[1], self.side, self.shape[1], self.shape[0])
        # Per hierarchy column: the code of each unit row into that column's distinct values.
        self._unit_values = {}
        for k, name in enumerate(self._names[1:]):
            codes, categories = pd.factorize(pd.Series([u[k] for u in self._units], dtype=object))
            self._unit_values[name] = (codes.astype(np.int32), np.asarray(categories, dtype=object))
        # The single-point path reads a whole Location row of the unit at once.
        slot = {name: k for k, name in enumerate(self._names[1:])}
        self._unit_rows = [tuple(u[slot[name]] if name in slot else None for name in _HIERARCHY[1:])
                           for u in self._units]

    @functools.cached_property
    def _tree(self):
        return shapely.STRtree(self._mixed_geoms)

    @functools.cached_property
    def _polygons(self):
        """Every cell's polygon, in the order of its rows: the index keeps only the
        cells of mixed buckets, so a package's are read again."""
        geoms = self.__dict__.get("_read_from")
        if isinstance(geoms, tuple):
            path, layer, id_field, crs = geoms
            with _warnings_quiet():  # said when the locator was made
                cells = _read_cells(path, layer, id_field, crs=crs)[0]
            if len(cells) != len(self) or not (cells["grid_id"].to_numpy(dtype=object) == self._ids).all():
                raise InputError(f"{path} changed since its locator was made: make it again")
            geoms = _repaired(np.asarray(cells.geometry.to_crs(self.crs).values, dtype=object), self._ids, "cell")[0]
        elif geoms is None:
            raise InputError("this locator was loaded from an index file alone; near_edge needs the cells' "
                             "polygons: make it with Locator.from_package")
        return geoms

    @functools.cached_property
    def _cell_tree(self):
        """An STRtree of every cell's polygon (:attr:`_polygons`), for near_edge."""
        return shapely.STRtree(self._polygons)

    def near_edge(self, x, y, index, within, *, crs=None):
        """Per point, the nearest other cell within ``within`` metres of it, and how far
        it is: ``(near, distance)`` arrays, -1 and NaN where there is none or
        ``index`` (the point's cell, as :meth:`cell_index` gives it) is -1. A
        position good to ``within`` metres could lie in that cell: a GPS fix (±10 m),
        or a component surveyed to accuracy class A, B or C (±0.5, 1, 10 m). A cell
        holding the point's own ID (a cell split in QGIS) is not another. On a tie,
        the lowest row.
        """
        within = metres(within, "within")
        index = np.asarray(index, dtype=np.int64)
        near = np.full(len(index), -1, dtype=np.int64)
        distance = np.full(len(index), np.nan)
        rows = np.flatnonzero(index >= 0)  # positions the cell index found a cell for
        if not len(rows):
            return near, distance
        tree, geoms = self._cell_tree, self._polygons
        x, y = self.to_layout_xy(np.asarray(x, dtype=float)[rows], np.asarray(y, dtype=float)[rows], crs)
        maybe = ~self._alone_within(x, y, index[rows], within) if np.isfinite(within) else np.ones(len(x), bool)
        rows, points = rows[maybe], shapely.points(x[maybe], y[maybe])
        with self._geos_lock:
            point, cand = tree.query(points, predicate="dwithin", distance=within)
            dist = shapely.distance(geoms[cand], points[point])
        ids = self._distinct_ids[0]
        own = index[rows[point]]
        other = cand != own if ids is None else ids[cand] != ids[own]
        point, cand, dist = _nearest_per_point(point[other], cand[other], dist[other])
        near[rows[point]], distance[rows[point]] = cand, dist
        return near, distance

    # -- keeping the index -------------------------------------------------------------
    def save(self, path):
        """Write the index to ``path`` (numpy ``.npz`` format), atomically."""
        arrays, meta = self._state()
        if self.micro is not None:
            micro_arrays, meta["micro"] = self.micro._state()
            arrays.update({_MICRO + name: value for name, value in micro_arrays.items()})
            arrays["micro_parent"] = self._micro_parent
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        with atomic_path(path, overwrite=True) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)

    def _state(self):
        """The arrays and the JSON-able meta that :meth:`save` writes and :meth:`_restore` reads."""
        arrays = {"code": self._code, "mixed_ptr": self._mixed_ptr, "mixed_cells": self._mixed_cells,
                  "mixed_ids": self._mixed_ids}
        wkb = shapely.to_wkb(self._mixed_geoms)
        arrays["wkb_offsets"] = np.cumsum([0] + [len(w) for w in wkb]).astype(np.int64)
        arrays["wkb"] = np.frombuffer(b"".join(wkb), dtype=np.uint8)
        arrays["ids"] = self._ids.astype(str)
        arrays["unit"] = self._unit
        if self._record is not None:
            arrays["record"] = self._record
        meta = {"format": _INDEX_FORMAT, "crs": self.crs.to_wkt(), "side": self.side, "origin": self.origin,
                "shape": self.shape, "stats": self.stats, "attributes": self._names, "units": self._units,
                "source": self.source, "overlaps": self.overlaps, "invalid": self.invalid,
                "read_warnings": self.read_warnings}
        return arrays, meta

    @classmethod
    def load(cls, path, *, tolerance: float = 0.0):
        """Read an index written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(data["meta"].tobytes())
                if meta.get("format") != _INDEX_FORMAT:
                    raise InputError(f"{path}: a locator index of another format ({meta.get('format')}); "
                                     "rebuild it from the package")
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path}: not a readable locator index ({exc})") from exc
        loc = cls._restore(arrays, meta, tolerance)
        if "micro" in meta:
            loc.micro = cls._restore({name[len(_MICRO):]: value for name, value in arrays.items()
                                      if name.startswith(_MICRO)}, meta["micro"], tolerance)
            loc._micro_parent = arrays["micro_parent"]
        return loc

    @classmethod
    def _restore(cls, arrays, meta, tolerance):
        loc = cls.__new__(cls)
        loc.crs = pyproj.CRS.from_wkt(meta["crs"])
        loc.tolerance = metres(tolerance)
        loc.side, loc.origin, loc.shape = meta["side"], tuple(meta["origin"]), tuple(meta["shape"])
        loc.stats, loc.source, loc.overlaps = meta["stats"], meta["source"], meta["overlaps"]
        loc.invalid, loc.read_warnings = meta["invalid"], [tuple(said) for said in meta["read_warnings"]]
        loc._code, loc._mixed_ptr = arrays["code"], arrays["mixed_ptr"]
        loc._mixed_cells, loc._mixed_ids = arrays["mixed_cells"], arrays["mixed_ids"]
        offsets, blob = arrays["wkb_offsets"], arrays["wkb"].tobytes()
        loc._mixed_geoms = shapely.from_wkb(
            np.array([blob[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())], dtype=object))
        loc._ids, loc._unit = arrays["ids"].astype(object), arrays["unit"]
        loc._record = arrays.get("record")
        loc._names, loc._units = meta["attributes"], [tuple(u) for u in meta["units"]]
        loc.micro, loc._micro_parent = None, None
        loc._prepare()
        return loc

    # -- queries ---------------------------------------------------------------------
    def to_layout_xy(self, x, y, crs=None):
        """Transform coordinates into the layout's CRS; check they are usable."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        if x.ndim > 1 or y.ndim > 1:  # a one-column frame (df[["lon"]]) or a stacked pair: not broadcast
            raise InputError(f"x and y take one number per point, in 1-D arrays; these are shaped {x.shape} and "
                             f"{y.shape}: give columns (df['lon'], not df[['lon']]), or .ravel() them")
        if x.shape != y.shape:
            raise InputError(f"x and y differ in length ({x.shape} vs {y.shape})")
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            raise InputError(f"{int(bad.sum())} point(s) have NaN or infinite coordinates (first at "
                             f"position {int(np.flatnonzero(bad)[0])}); drop or fix them first")
        if crs is None:
            return x, y
        parsed = coords.parse_crs(crs)
        geographic = coords.is_geographic(parsed)
        if geographic:
            out = (np.abs(x) > 180) | (np.abs(y) > 90)
            if out.any():
                i = int(np.flatnonzero(out)[0])
                raise InputError(f"{int(out.sum())} point(s) are not lon/lat (first at position {i}: "
                                 f"x={x[i]}, y={y[i]}); longitude runs -180..180 and latitude -90..90 — "
                                 "are x and y swapped, or is the CRS wrong?")
        if isinstance(parsed, str):
            x, y = coords._TO_WGS84[parsed](x, y)
            parsed = pyproj.CRS.from_epsg(4326)
        if len(x) <= _CHUNK:
            return _transformer(parsed, self.crs).transform(x, y)
        # PROJ lets go of the GIL: chunks on two threads, each with its own transformer.
        out_x, out_y = np.empty(len(x)), np.empty(len(x))

        def work(part):
            out_x[part], out_y[part] = _transformer(parsed, self.crs).transform(x[part], y[part])

        _in_chunks(len(x), work)
        return out_x, out_y

    def cell_index(self, x, y, *, crs=None, tolerance=None, micro=False):
        """The low-level query: ``(index, status, distance)`` arrays.

        ``index`` is the row of the cell (-1 outside), ``status`` 0 inside /
        1 nearest / 2 outside, ``distance`` metres to the cell (0 inside). With
        ``micro``, a fourth array: the row of the micro-grid in :attr:`micro`
        (-1 outside, or when the layout has no micro-grids).
        """
        x, y = self.to_layout_xy(x, y, crs)
        tolerance = self.tolerance if tolerance is None else metres(tolerance)
        index, status, distance = self._lookup(x, y, tolerance)
        if not micro:
            return index, status, distance
        return index, status, distance, self._micro_of(x, y, index, distance, tolerance)

    def _micro_of(self, x, y, index, distance, tolerance):
        """The micro-grid of each point (layout coordinates) whose cell is ``index``.

        The micro-grids are located on their own; where that answer is not a
        micro-grid of the point's cell (a point on the edge between two cells, or
        nearest to both), the nearest of the cell's own micro-grids is taken
        (the lowest row on a tie), so an answer never names a micro-grid of
        another cell.
        """
        if self.micro is None:
            return np.full(len(index), -1, dtype=np.int64)
        found = np.where(index >= 0, self.micro._lookup(x, y, tolerance)[0], -1)
        parent = np.append(self._micro_parent, -1)  # found -1 → no parent
        cell = self.codes("grid_id", index)[0]
        wrong = np.flatnonzero((index >= 0) & (parent[found] != cell))
        if len(wrong):
            reach = np.nan_to_num(distance[wrong]) + _MICRO_REACH_M
            found[wrong] = self.micro._nearest_within(x[wrong], y[wrong], reach, self._micro_parent, cell[wrong])
        return found

    def _nearest_within(self, x, y, reach, owner, wanted):
        """Per point, the nearest cell within ``reach`` metres whose ``owner`` is
        ``wanted`` (the lowest row on a tie), or -1."""
        points = shapely.points(x, y)
        with self._geos_lock:
            point, cand = self._tree.query(points, predicate="dwithin", distance=reach)
            dist = shapely.distance(self._mixed_geoms[cand], points[point])
        cell = self._mixed_ids[cand]
        own = owner[cell] == wanted[point]
        point, cell, _ = _nearest_per_point(point[own], cell[own], dist[own])
        found = np.full(len(x), -1, dtype=np.int64)
        found[point] = cell
        return found

    def swapped(self, x, y, crs, *, tolerance=None):
        """Which points land in the layout (or within the tolerance) with x and y
        swapped: a file whose columns are the wrong way round. Lon/lat as lat/lon,
        or a survey table's northing X (X坐标) taken for the easting.

        A boolean array; all False for ``crs`` None (the layout's own
        coordinates). Only points whose swapped position falls in the layout's
        box in ``crs`` (with a margin of a tenth of a degree, or a hundredth of the
        box, and the tolerance) are located again, so files far from the layout
        cost a comparison.
        """
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if crs is None:
            return np.zeros(len(x), dtype=bool)
        return self._lands_in(y, x, crs, tolerance)

    def in_degrees(self, x, y, crs, *, tolerance=None):
        """Which points given in a projected ``crs`` land in the layout (or within
        the tolerance) read as lon/lat (EPSG:4326): GPS positions said to be in
        metres (``--crs EPSG:3857`` for a file of degrees), which lie near the
        projection's origin, far from any city. All False for a lon/lat ``crs``,
        and for None (the layout's own coordinates). As cheap as :meth:`swapped`."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if crs is None or coords.is_geographic(crs):
            return np.zeros(len(x), dtype=bool)
        return self._lands_in(x, y, "EPSG:4326", tolerance)

    def in_zone_twin(self, x, y, crs, *, tolerance=None):
        """Which points given in a Gauss–Krüger ``crs`` land in the layout (or within
        the tolerance) read in its twin with (or without) the zone number in front
        of x (:func:`gridkit.coords.zone_twin`): 39,450,000 read in CM 117°E, or
        450,000 read in zone 39. All False for any other CRS."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        twin = None if crs is None else coords.zone_twin(crs)
        if twin is None:
            return np.zeros(len(x), dtype=bool)
        return self._lands_in(x, y, twin, tolerance)

    def in_baidu_mercator(self, x, y, crs, *, tolerance=None):
        """Which points land in the layout (or within the tolerance) read as BD-09
        Mercator (``bd09mc``): Baidu's metres (12,959,801, 4,824,788 in Beijing)
        given a lon/lat CRS, where they cannot be positions, or taken for Web
        Mercator (EPSG:3857), which puts them some 30 km south. All False for
        ``bd09mc`` itself and for None (the layout's own coordinates)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if crs is None or coords.is_baidu_mercator(crs):
            return np.zeros(len(x), dtype=bool)
        return self._lands_in(x, y, "bd09mc", tolerance)

    def in_degree_forms(self, x, y, crs, *, tolerance=None):
        """``(form, found)`` for each way but decimal of writing lon/lat degrees
        (:data:`gridkit.coords.DEGREE_FORMS`: JT/T 808's millionths, NMEA's degrees
        and minutes): which points given in the lon/lat ``crs`` land in the layout
        (or within the tolerance) read in that form. Nothing for a projected ``crs``
        or None. Only values beyond ±180 or ±90 can be in such a form near a city,
        and only those in the layout's box read so are located again."""
        if crs is None or not coords.is_geographic(crs):
            return
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        beyond = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
        for form in list(coords.DEGREE_FORMS)[1:] if len(beyond) else ():  # all but decimal
            found = np.zeros(len(x), dtype=bool)
            found[beyond[self._lands_in(*coords.read_degrees(x[beyond], y[beyond], form, crs), crs, tolerance)]] = True
            yield form, found

    def _alone_within(self, x, y, cells, within):
        """Which points (layout coordinates) are farther than ``within`` metres from
        any cell but their own (``cells``), as the buckets show: every bucket the disc
        around the point touches is wholly in its cell. The others (all, when the
        disc spans over 6 buckets a side) are measured."""
        return self._box_in_cell(x - within, y - within, x + within, y + within, cells)

    def _box_in_cell(self, x0, y0, x1, y1, cells, *, most=6):
        """Which boxes (layout coordinates) lie wholly in their cell (``cells``), as
        the buckets show: every bucket the box touches is wholly in that cell. A box
        over ``most`` buckets a side is not looked at (False)."""
        ny, nx = self.shape
        ox, oy = self.origin
        bx0, bx1 = (np.floor((v - ox) / self.side).astype(np.int64) for v in (x0, x1))
        by0, by1 = (np.floor((v - oy) / self.side).astype(np.int64) for v in (y0, y1))
        alone = (bx1 - bx0 < most) & (by1 - by0 < most)
        span = int(max((bx1 - bx0).max(initial=0), (by1 - by0).max(initial=0))) + 1
        for dx in range(min(span, most)):
            bx = np.minimum(bx0 + dx, bx1)  # past the box: its last bucket again
            for dy in range(min(span, most)):
                by = np.minimum(by0 + dy, by1)
                inside = (bx >= 0) & (bx < nx) & (by >= 0) & (by < ny)
                alone &= inside & (self._code[np.where(inside, by * nx + bx, 0)] == cells)
        return alone

    def _lands_in(self, x, y, crs, tolerance):
        """Which of ``x``, ``y`` (in ``crs``) land in the layout or within the
        tolerance; only those in its box in ``crs`` are located."""
        found = np.zeros(len(x), dtype=bool)
        tolerance = self.tolerance if tolerance is None else metres(tolerance)
        minx, miny, maxx, maxy, margin, per_metre = self._box_in(crs)
        margin += tolerance * per_metre
        maybe = np.flatnonzero((x >= minx - margin) & (x <= maxx + margin) & (y >= miny - margin)
                               & (y <= maxy + margin))
        if len(maybe):
            _, status, _ = self.cell_index(x[maybe], y[maybe], crs=crs, tolerance=tolerance)
            found[maybe[status != OUTSIDE]] = True
        return found

    def _box_in(self, crs):
        """The layout's box in ``crs``, a margin around it, and the units of ``crs`` a
        metre of tolerance adds to the margin (cached per CRS): a tenth of a degree
        for lon/lat (GCJ-02 and BD-09 lie within a kilometre of WGS84), a hundredth
        of the box for a projected CRS, and for BD-09 Mercator the lon/lat box with
        its margin, in Baidu's metres. A degree of longitude is over 50 km up to
        63° N/S, so 1/50,000 of a degree covers a metre; a projected CRS's unit is a
        metre or a foot, so 1 unit does (with the hundredth of the box)."""
        boxes = self.__dict__.setdefault("_boxes", {})
        key = crs if isinstance(crs, str) else str(crs)
        if key not in boxes:
            ox, oy = self.origin
            ny, nx = self.shape
            parsed = coords.parse_crs(crs)
            target = pyproj.CRS.from_epsg(4326) if isinstance(parsed, str) else parsed
            box = _transformer(self.crs, target).transform_bounds(ox, oy, ox + nx * self.side,
                                                                  oy + ny * self.side)
            geographic = coords.is_geographic(parsed)
            if coords.is_baidu_mercator(parsed):
                (west, east), (south, north) = coords.wgs84_to_bd09mc([box[0] - 0.1, box[2] + 0.1],
                                                                     [box[1] - 0.1, box[3] + 0.1])
                boxes[key] = (west, south, east, north, 0.0, 1.0)
            else:
                boxes[key] = (*box, 0.1 if geographic else max(box[2] - box[0], box[3] - box[1]) / 100,
                              1 / 50_000 if geographic else 1.0)
        return boxes[key]

    def mark_misread(self, x, y, crs, reason, detail, status, *, tolerance=None, degrees_fix="give --degrees {}",
                     degrees=None, decimal_fix="leave out --degrees {}"):
        """Give the rows whose coordinates were misread the reason that names the fix
        (``reason`` and ``detail`` arrays, in place), of those rejected as
        ``impossible_coordinates`` or answered outside (``status``): ``latlon_swapped``
        where the swapped position is in the layout (:meth:`swapped`; ``xy_swapped``
        for a projected ``crs``),
        ``degrees_in_projected_crs`` where, given a projected ``crs``, the position
        read as lon/lat is (:meth:`in_degrees`), ``zone_prefix`` where the position
        read in the Gauss–Krüger CRS with (or without) the zone number in front of x
        is (:meth:`in_zone_twin`), ``baidu_mercator`` where the position read as
        Baidu's metres is (:meth:`in_baidu_mercator`), ``scaled_degrees`` and
        ``degrees_minutes`` where, given a lon/lat ``crs``, the position read as
        degrees × 10⁵, 10⁶ or 10⁷ or as degrees and minutes run together is
        (:meth:`in_degree_forms`; the detail names the form, as ``degrees_fix`` says
        it: ``gridkit serve`` asks for ``degrees=e6``), ``decimal_degrees`` where
        ``x``, ``y`` were read from the form ``degrees`` (``e6``, ``ddmm`` …) and the
        numbers as given, decimal degrees, are in the layout (the detail says the fix
        as ``decimal_fix`` words it), ``zero_coordinates`` where none
        of those does and x or y is exactly 0 (a position never filled in). An answer
        "outside" would not name the fix.
        Nothing for ``crs`` None (layout coordinates)."""
        if crs is None:
            return
        suspect = np.flatnonzero((reason == "impossible_coordinates") | ((reason == "") & (status == OUTSIDE)))
        swapped = suspect[self.swapped(x[suspect], y[suspect], crs, tolerance=tolerance)]
        if coords.is_geographic(crs):
            reason[swapped], detail[swapped] = "latlon_swapped", SWAPPED_DETAIL
        else:
            reason[swapped], detail[swapped] = "xy_swapped", XY_SWAPPED_DETAIL
        lonlat = suspect[self.in_degrees(x[suspect], y[suspect], crs, tolerance=tolerance)]
        reason[lonlat], detail[lonlat] = "degrees_in_projected_crs", DEGREES_DETAIL
        zoned = suspect[self.in_zone_twin(x[suspect], y[suspect], crs, tolerance=tolerance)]
        if len(zoned):
            reason[zoned] = "zone_prefix"
            detail[zoned] = f"read in {coords.twin_named(coords.zone_twin(crs))}, it is inside the layout"
        baidu = suspect[self.in_baidu_mercator(x[suspect], y[suspect], crs, tolerance=tolerance)]
        reason[baidu], detail[baidu] = "baidu_mercator", BAIDU_MERCATOR_DETAIL
        for form, found in self.in_degree_forms(x[suspect], y[suspect], crs, tolerance=tolerance):
            found = suspect[found & np.isin(reason[suspect], ["", "impossible_coordinates"])]
            reason[found] = "degrees_minutes" if form == "ddmm" else "scaled_degrees"
            detail[found] = f"read as {coords.DEGREE_FORMS[form]}, it is inside the layout: {degrees_fix.format(form)}"
        if degrees not in (None, "decimal") and coords.is_geographic(crs):  # 116.41 sent as e6: 0.000116°
            given = (np.array(coords.write_degrees(x[suspect], y[suspect], "ddmm")) if degrees == "ddmm" else
                     np.array([x[suspect], y[suspect]]) * 10.0 ** int(degrees[1:]))  # not rounded, as write_degrees
            found = suspect[self._lands_in(given[0], given[1], crs, tolerance)
                            & np.isin(reason[suspect], ["", "impossible_coordinates"])]
            reason[found] = "decimal_degrees"
            detail[found] = f"as given, in decimal degrees, it is inside the layout: {decimal_fix.format(degrees)}"
        zero = suspect[((x[suspect] == 0) | (y[suspect] == 0))
                       & np.isin(reason[suspect], ["", "impossible_coordinates"])]
        reason[zero], detail[zero] = "zero_coordinates", ZERO_DETAIL

    def offset_hint(self, x, y, crs, *, tolerance=None, option="--crs", sample=20_000, stated=True) -> str:
        """Whether lon/lat ``x``, ``y`` (a file's positions, in ``crs``) were read in
        the wrong one of China's three lon/lat systems (:data:`gridkit.coords.LONLAT_SYSTEMS`):
        read in another, at least half of those outside the layout would lie inside
        (net: no more of the others pushed out). A row 500 m off in a city is still
        inside, in a cell it does not lie in, so the rows outside near the edge are
        the sign; the hint says too how many of those inside would lie in another
        cell. An evenly spaced ``sample`` of the rows is read again. "" when no other
        reading does, or the rows are not lon/lat in China (``crs`` None: the
        layout's own coordinates).

        ``stated=False``: nothing said which system the rows are in (a table's lon/lat
        with no ``--crs`` and no ``.prj``, read as WGS84). When no row outside gives
        the sign (a patrol inside one district), the hint still says how many of them
        would lie in another cell read as GCJ-02 (Amap's, Tencent's), when at least
        :data:`UNSTATED_SHARE` would, and how to say which it is."""
        read = None if crs is None else coords.lonlat_system(crs)
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        rows = np.flatnonzero(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
        if read is None or len(rows) < 10:
            return ""
        rows = rows[evenly_spaced(len(rows), sample)]
        x, y = x[rows], y[rows]
        if coords.is_in_china(x, y).mean() < 0.5:
            return ""

        def cells(system):  # each row's cell read in ``system``; -1 outside
            index, status, _ = self.cell_index(x, y, crs=coords.LONLAT_SYSTEMS[system][0], tolerance=tolerance)
            return np.where(status == OUTSIDE, -1, index)

        here = cells(read)
        inside = here >= 0
        outside = int((~inside).sum())
        if outside >= 3:
            best, there = min(((other, cells(other)) for other in coords.LONLAT_SYSTEMS if other != read),
                              key=lambda reading: int((reading[1] < 0).sum()))
            gained = outside - int((there < 0).sum())
            if gained >= max(3, outside / 2):
                moved = (f" and {(there[inside] != here[inside]).mean():.0%} of those inside would lie in another "
                         "cell" if inside.any() else "")
                value, name, _ = coords.LONLAT_SYSTEMS[best]
                return (f"{outside / len(x):.0%} of the positions lie outside the layout, and read as "
                        f"{coords.read_as_said(best, option)}, {gained / outside:.0%} of them would lie inside{moved}: "
                        f"if the file is in {name}, give {option} {value}")
        if stated or read != "wgs84" or not inside.any():
            return ""
        there = cells("gcj02")
        both = inside & (there >= 0)
        moved = float((there[both] != here[both]).mean()) if both.any() else 0.0
        if moved < UNSTATED_SHARE:
            return ""
        return (f"the file does not say which system its lon/lat are in, so they were read as GPS (WGS84); read as "
                f"GCJ-02 (Amap's, Tencent's), {moved:.0%} of them would lie in another cell: give {option} gcj02 if "
                f"they come from an app on such a map ({option} bd09 on Baidu's), or {option} EPSG:4326 if from GPS")

    def misread(self, x, y, crs, *, tolerance=None, degrees=None) -> str:
        """How one point outside the layout was misread, as :meth:`mark_misread` names
        it (``latlon_swapped``, ``xy_swapped``, ``degrees_in_projected_crs``,
        ``zone_prefix``, ``baidu_mercator``, ``decimal_degrees`` when read from the form
        ``degrees``), or "" when no reading puts it inside: for the hint of an
        answer "outside" (``gridkit locate --at``, ``gridkit serve``)."""
        reason, detail = np.array([""], dtype=object), np.array([""], dtype=object)
        self.mark_misread(np.array([x], dtype=float), np.array([y], dtype=float), crs, reason, detail,
                          np.array([OUTSIDE]), tolerance=tolerance, degrees=degrees)
        return reason[0]

    def _lookup(self, x, y, tolerance):
        """:meth:`cell_index` for coordinates in the layout's CRS.

        The bucket lookup is pure numpy, so large arrays go through it in chunks of
        2¹⁸ points (their temporaries stay in cache) shared between two threads.
        The polygon tests that follow stay in one thread: GEOS's prepared
        geometries are not thread-safe (libgeos/geos#825), and threads did
        corrupt memory here.
        """
        ny, nx = self.shape
        ox, oy = self.origin
        n = len(x)
        index = np.empty(n, dtype=np.int64)  # a cell, -1 outside, ≤ -2 a mixed bucket to test
        status = np.empty(n, dtype=np.int8)
        distance = np.empty(n)

        def work(part):
            ix = np.floor((x[part] - ox) / self.side)
            iy = np.floor((y[part] - oy) / self.side)
            inside_box = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
            flat = np.where(inside_box, iy * nx + ix, 0).astype(np.int64)
            code = np.where(inside_box, self._code[flat], -1)
            index[part] = code
            status[part] = np.where(code >= 0, INSIDE, OUTSIDE)
            distance[part] = np.where(code >= 0, 0.0, np.nan)

        _in_chunks(n, work)
        pending = np.flatnonzero(index <= -2)
        if len(pending):
            found = self._test_mixed(x[pending], y[pending], -2 - index[pending])
            index[pending] = found
            hit = pending[found >= 0]
            status[hit], distance[hit] = INSIDE, 0.0
        if tolerance > 0:
            missing = np.flatnonzero(index < 0)
            if len(missing):
                found, dist = self._nearest(x[missing], y[missing], tolerance)
                hit = found >= 0
                index[missing[hit]] = found[hit]
                status[missing[hit]] = NEAREST
                distance[missing[hit]] = dist[hit]
        return index, status, distance

    def _resolve(self, point, cand, x, y):
        """One cell per point from (point, local candidate) pairs, by the edge rule
        (the caller holds the GEOS lock)."""
        result = np.full(len(x), -1, dtype=np.int64)
        geoms = self._mixed_geoms[cand]
        inside = shapely.contains_xy(geoms, x[point], y[point])
        # A point is in at most one interior, unless cells overlap: then the first in
        # the layout (the lowest index, written last) wins.
        last = np.flatnonzero(inside)[np.argsort(cand[inside], kind="stable")[::-1]]
        result[point[last]] = cand[last]
        rest = ~inside & (result[point] < 0)
        if rest.any():
            p, c = point[rest], cand[rest]
            edge = shapely.intersects_xy(self._mixed_geoms[c], x[p], y[p])
            p, c = p[edge], c[edge]
            if len(p):
                nudged = shapely.contains_xy(self._mixed_geoms[c], x[p] + EDGE_NUDGE_M, y[p] + EDGE_NUDGE_M / 2)
                # Nudged winners first, then the lowest cell index.
                order = np.lexsort((c, ~nudged, p))
                p, c = p[order], c[order]
                first = np.ones(len(p), dtype=bool)
                first[1:] = p[1:] != p[:-1]
                result[p[first]] = c[first]
        found = result >= 0
        result[found] = self._mixed_ids[result[found]]
        return result

    def _test_mixed(self, x, y, mixed):
        start, stop = self._mixed_ptr[mixed], self._mixed_ptr[mixed + 1]
        counts = stop - start
        point = np.repeat(np.arange(len(x)), counts)
        offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = self._mixed_cells[np.repeat(start, counts) + offset].astype(np.int64)
        with self._geos_lock:
            return self._resolve(point, cand, x, y)

    def _nearest(self, x, y, tolerance):
        with self._geos_lock:
            (point, cand), dist = self._tree.query_nearest(
                shapely.points(x, y), max_distance=tolerance, return_distance=True, all_matches=True)
        found = np.full(len(x), -1, dtype=np.int64)
        distance = np.full(len(x), np.nan)
        order = np.lexsort((cand, point))[::-1]  # last write wins: the lowest index
        found[point[order]] = self._mixed_ids[cand[order]]
        distance[point[order]] = dist[order]
        return found, distance

    def locate_many(self, x, y, *, crs=None, tolerance=None) -> pd.DataFrame:
        """Locate arrays of points; one row per point with the hierarchy.

        Columns: ``grid_id``, ``micro_id`` (with micro-grids), ``community_code``, ``community_name``,
        ``street_code``, ``street_name``, ``county_code``, ``county_name`` (those
        the layout has, as pandas categoricals; missing outside), ``status``
        (inside / nearest / outside) and ``distance_m``.

        When ``x`` or ``y`` is a pandas Series, the frame has its index, so it
        joins back onto the frame the points came from (``df.join(loc.locate_many(
        df.lon, df.lat, crs="EPSG:4326"))``), filtered or not; otherwise rows are
        numbered from 0.

        Without ``crs`` the points are in the layout's own CRS (metres); lon/lat
        given so are all outside, and a warning says so.
        """
        labels = _index_of(x, y)
        index, status, distance, micro = self.cell_index(x, y, crs=crs, tolerance=tolerance, micro=True)
        if crs is None and (status == OUTSIDE).any():
            outside = np.flatnonzero(status == OUTSIDE)
            xs, ys = (np.atleast_1d(np.asarray(v, dtype=float))[outside[:_HINT_SAMPLE]] for v in (x, y))
            self._hint_crs(xs, ys, len(status), sampled=len(outside) > _HINT_SAMPLE)
        located = self.describe(index, status, distance, micro)
        if labels is not None:
            located.index = labels
        return located

    def _hint_crs(self, x, y, given, sampled=False):
        """Warn (once per locator) when points answered outside in the layout's own
        coordinates (no ``crs``) land inside read as longitude/latitude: a call that
        forgot ``crs="EPSG:4326"``, whose every answer would be "outside". The reading
        allows a kilometre, so GCJ-02 and BD-09 positions are caught too. ``sampled``:
        ``x``, ``y`` are only the first of the points outside."""
        if self.__dict__.get("_hinted"):
            return
        inside = self._lands_in(x, y, "EPSG:4326", 1000.0)
        if inside.any():
            self._hinted = True
            first = int(np.flatnonzero(inside)[0])
            what = (f"({x[first]}, {y[first]}) is" if given == 1 else
                    f"{'at least ' if sampled else ''}{int(inside.sum()):,} of {given:,} points (the first: "
                    f"{x[first]}, {y[first]}) are")
            warnings.warn(f"{what} outside the layout in its own coordinates ({self.crs.to_string()}, metres: no "
                          "crs was given) but inside read as longitude/latitude: pass crs=\"EPSG:4326\" (GPS), "
                          "\"gcj02\" (Amap, Tencent) or \"bd09\" (Baidu)", UserWarning, stacklevel=3)

    def describe(self, index, status, distance, micro=None) -> pd.DataFrame:
        """The frame of :meth:`locate_many` from :meth:`cell_index` arrays (``micro``:
        the micro-grid rows; its column is there when the layout has micro-grids).

        The hierarchy columns are categoricals built from integer codes, so
        describing ten million points costs no string work at all: one gather
        of each point's unit row, then small per-column tables.
        """
        index = np.asarray(index)
        names = self._names[1:]
        of_unit = [np.append(self._unit_values[name][0], -1) for name in names]  # last row: no unit
        codes = np.empty((len(names), len(index)), dtype=np.int32)

        def work(part):
            found = index[part] >= 0
            unit = np.where(found, self._unit[np.where(found, index[part], 0)], len(self._units))
            for k, table in enumerate(of_unit):
                codes[k, part] = table[unit]

        _in_chunks(len(index), work)
        # Codes are in range by construction: skip pandas's min/max pass over each column.
        columns = {"grid_id": pd.Categorical.from_codes(self.codes("grid_id", index)[0].astype(np.int32),
                                                        dtype=self._dtype("grid_id"), validate=False)}
        if self.micro is not None:
            micro = np.full(len(index), -1) if micro is None else np.asarray(micro)
            columns["micro_id"] = pd.Categorical.from_codes(self.micro.codes("grid_id", micro)[0].astype(np.int32),
                                                            dtype=self.micro._dtype("grid_id"), validate=False)
        for k, name in enumerate(names):
            columns[name] = pd.Categorical.from_codes(codes[k], dtype=self._dtype(name), validate=False)
        columns["status"] = pd.Categorical.from_codes(np.asarray(status, dtype=np.int8), dtype=_STATUS_DTYPE,
                                                      validate=False)
        columns["distance_m"] = distance
        return pd.DataFrame(columns)

    def cell_frame(self, rows):
        """The cells at ``rows`` as a GeoDataFrame in the layout's CRS: ``grid_id``
        and the hierarchy's codes and names (as :meth:`describe` gives them, as
        text), and their polygons."""
        import geopandas as gpd

        rows = np.asarray(rows, dtype=np.int64)
        described = self.describe(rows, np.zeros(len(rows), dtype=np.int8), np.zeros(len(rows)))
        table = described.drop(columns=["status", "distance_m", "micro_id"], errors="ignore").astype(object)
        return gpd.GeoDataFrame(table, geometry=np.asarray(self._polygons)[rows], crs=self.crs)

    def _dtype(self, name):
        cache = self.__dict__.setdefault("_dtypes", {})
        if name not in cache:
            cache[name] = pd.CategoricalDtype(pd.Index(self.values(name), dtype=object))
        return cache[name]

    # -- one point at a time -----------------------------------------------------------
    def locate(self, x, y, *, crs=None, tolerance=None) -> Location:
        """Locate one point; the fast path for one call at a time.

        A point that falls in a bucket owned by one cell (most of them) costs a
        coordinate transform, two divisions and a lookup; one in a mixed bucket adds
        a polygon test per candidate. Edges and points outside take the array path.

        ``x`` and ``y`` are numbers in ``crs`` (``"EPSG:4326"``, ``"gcj02"``,
        ``"bd09"`` …), or without it in the layout's own CRS (metres): lon/lat given
        so are outside, and a warning says so, once.
        """
        if tolerance is not None:
            tolerance = metres(tolerance)
        if crs is not None:
            given = x, y
            try:
                x, y = self._transforms[crs](x, y)
            except (KeyError, TypeError):
                try:
                    x, y = self._scalar_transform(crs)(x, y)
                except TypeError:
                    _refuse_not_numbers(x, y)
                    raise
        if self.micro is None and self._record is not None:
            # The common case inline (a call saved is a tenth of a microsecond): an
            # owned bucket, numeric IDs, no micro-grids. The rest: _find.
            ox, oy, side, nx, ny = self._grid
            try:
                ix, iy = math.floor((x - ox) / side), math.floor((y - oy) / side)
                code = self._code.item(iy * nx + ix) if 0 <= ix < nx and 0 <= iy < ny else -1
            except (ValueError, OverflowError, TypeError):  # NaN, infinite or no number: _find says so
                code = -1
            if code >= 0:
                number, unit = self._record.item(code)
                return Location(str(number), *self._unit_rows[unit], "inside", 0.0)
        if crs is not None and not (math.isfinite(x) and math.isfinite(y)) and all(map(math.isfinite, given)):
            return self._location(-1, "outside", math.nan)  # PROJ cannot transform it: far outside the CRS's zone
        try:
            i, status, distance = self._find(x, y, tolerance)
        except TypeError:
            _refuse_not_numbers(x, y)
            raise
        if self.micro is not None and i >= 0:
            return self._location(i, status, distance, self._micro_at(x, y, i, distance, tolerance))
        if i < 0 and crs is None and not self.__dict__.get("_hinted"):
            west, south, east, north, margin, _ = self._box_in("EPSG:4326")
            if west - margin <= x <= east + margin and south - margin <= y <= north + margin:  # else it costs nothing
                self._hint_crs(np.array([x], dtype=float), np.array([y], dtype=float), 1)
        return self._location(i, status, distance)

    def _find(self, x, y, tolerance):
        """``(row, status, distance)`` of one point in layout coordinates."""
        # The same floor-of-quotient as the array path, so a point on a bucket edge
        # lands in the same bucket either way.
        ox, oy, side, nx, ny = self._grid
        try:
            ix, iy = math.floor((x - ox) / side), math.floor((y - oy) / side)
        except (ValueError, OverflowError):  # NaN or infinite: the array path says so
            ix = iy = -1
        if 0 <= ix < nx and 0 <= iy < ny:
            code = self._code.item(iy * nx + ix)
            if code >= 0:
                return code, "inside", 0.0
            if code <= -2:  # a mixed bucket: its candidates' polygons
                i = self._in_mixed(-2 - code, float(x), float(y))
                if i >= 0:
                    return i, "inside", 0.0
        index, status, distance = self.cell_index(np.array([x], dtype=float), np.array([y], dtype=float),
                                                  tolerance=tolerance)
        return int(index[0]), str(STATUS_NAMES[status[0]]), float(distance[0])

    def _micro_at(self, x, y, i, distance, tolerance):
        """The micro-grid ID of one point (layout coordinates) in cell ``i`` (see :meth:`_micro_of`)."""
        j = self.micro._find(x, y, tolerance)[0]
        of_cell = self._distinct_ids[0]
        if j < 0 or self._micro_parent.item(j) != (i if of_cell is None else of_cell.item(i)):
            j = int(self._micro_of(np.array([x], dtype=float), np.array([y], dtype=float), np.array([i]),
                                   np.array([distance]), self.tolerance if tolerance is None else tolerance)[0])
        return self.micro._ids.item(j) if j >= 0 else None

    def _scalar_transform(self, crs):
        try:
            return self._transforms[crs]
        except (KeyError, TypeError):
            pass
        parsed = coords.parse_crs(crs)
        if isinstance(parsed, str):  # gcj02 / bd09: through the array path
            def transform(x, y):
                tx, ty = self.to_layout_xy([x], [y], parsed)
                return float(tx[0]), float(ty[0])
        elif parsed.is_geographic:
            forward = _transformer(parsed, self.crs).transform

            def transform(x, y):
                if not (-180 <= x <= 180 and -90 <= y <= 90):
                    self.to_layout_xy([x], [y], parsed)  # raises the clear error
                return forward(x, y)
        else:
            transform = _transformer(parsed, self.crs).transform
        try:
            self._transforms[crs] = transform
        except TypeError:  # an unhashable CRS object: no caching
            pass
        return transform

    def _in_mixed(self, m, x, y):
        """The cell of mixed bucket ``m`` whose interior holds one point, or -1 (edges: the array path)."""
        cand = self._mixed_cells[self._mixed_ptr.item(m):self._mixed_ptr.item(m + 1)]
        with self._geos_lock:
            inside = shapely.contains_xy(self._mixed_geoms[cand], x, y)
        if inside.any():
            return self._mixed_ids.item(cand.item(int(inside.argmax())))
        return -1

    def _location(self, i, status, distance, micro_id=None):
        if i < 0:
            return Location(None, None, None, None, None, None, None, status, distance)
        if self._record is not None:  # one memory read for both (see _records)
            number, unit = self._record.item(i)
            return Location(str(number), *self._unit_rows[unit], status, distance, micro_id)
        return Location(self._ids.item(i), *self._unit_rows[self._unit.item(i)], status, distance, micro_id)


def require_locator(locator):
    """An error unless ``locator`` is a :class:`Locator`: a package's path given
    for one was an AttributeError deep in the call."""
    if not isinstance(locator, Locator):
        raise InputError(f"locator is a {type(locator).__name__}, not a gridkit Locator: make one with "
                         "Locator.from_package(path)")


def metres(value, name="tolerance") -> float:
    """``value`` as a distance in metres: a number 0 or above (infinite: without
    limit). A negative or NaN tolerance located no point near any cell, and a
    negative ``within`` found no cell near any point, without a word.

    >>> metres(5), metres(float("inf"))
    (5.0, inf)
    >>> metres(-1)
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: tolerance must be a number of metres, 0 or above, not -1
    """
    return checked_number(value, name, "metres", zero=True, infinite=True)


def _refuse_not_numbers(x, y):
    """The clear error for :meth:`Locator.locate` given something other than two
    numbers (a string from a form, None, a list); returns when both are numbers."""
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"Locator.locate takes two numbers; {name} is {type(value).__name__} {value!r}"
                            + (": convert it with float()" if isinstance(value, str) else
                               ": give arrays of points to locate_many" if np.ndim(value) else "")) from None


def _refuse_missing(geoms, ids, what, layer):
    """Refuse cells (or micro-grids) with no geometry or an empty one: a feature
    left without its polygon in an edited package, which no point can be in."""
    missing = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(missing):
        listed = ", ".join(f"row {i + 1} ({what} {ids[i]})" for i in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(f"{len(missing)} of {layer} {'has' if len(missing) == 1 else 'have'} no geometry: "
                         f"{listed}{more}; draw {'it' if len(missing) == 1 else 'them'} again or delete "
                         f"{'it' if len(missing) == 1 else 'them'} (gridkit check then lists what the layout lacks)")


def _refuse_blank(ids, id_field, layer, fix="`gridkit check --fix-ids PACKAGE` gives each one"):
    """Refuse cells (or micro-grids) without an ID (drawn anew in QGIS): a point in
    one would be located to no code, and a component catalogued in none."""
    blank = np.flatnonzero(ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy())
    if len(blank):
        listed = ", ".join(f"row {i + 1}" for i in blank[:5]) + (f" and {len(blank) - 5} more" if len(blank) > 5
                                                                 else "")
        raise InputError(f"{len(blank)} of {layer} {'has' if len(blank) == 1 else 'have'} no {id_field} ({listed}; "
                         f"drawn anew in QGIS?): {fix}")


def _nearest_per_point(point, cell, dist):
    """Of (point, cell, distance) pairs, each point's nearest cell (the lowest on a
    tie): ``(points, cells, distances)``, one row per point that has any."""
    order = np.lexsort((cell, dist, point))
    point, cell, dist = point[order], cell[order], dist[order]
    first = np.ones(len(point), dtype=bool)
    first[1:] = point[1:] != point[:-1]
    return point[first], cell[first], dist[first]


def _repaired(geoms, ids, what):
    """``geoms`` with the invalid ones (a ring crossing itself, drawn by hand)
    repaired by ``make_valid`` (GEOS cannot cut them into buckets, and a point test
    on one answers by chance), and the record of them for :func:`_warn_invalid`
    (None when all are valid)."""
    bad = np.flatnonzero(~shapely.is_valid(geoms))
    if not len(bad):
        return geoms, None
    geoms = geoms.copy()
    geoms[bad] = made_valid(geoms[bad])
    return geoms, {"what": what, "count": len(bad), "first": [[int(i) + 1, str(ids[i])] for i in bad[:5]]}


def _warn_repeated(locator, what):
    """The warning naming the IDs that more than one cell (or micro-grid) holds: a
    cell split in QGIS, each part of which answers with its ID."""
    of_cell, ids = locator._distinct_ids
    if of_cell is None:
        return
    twice = ids[np.flatnonzero(np.bincount(of_cell) > 1)]
    listed = ", ".join(twice[:5]) + (f" and {len(twice) - 5} more" if len(twice) > 5 else "")
    log.warning(f"{len(twice)} ID(s) held by more than one {what} (split in QGIS?): {listed}; each part answers "
                "with the ID until `gridkit check --fix-ids PACKAGE` gives all but one a new one")


def _warn_invalid(invalid):
    """The warning naming the invalid cells :func:`_repaired` repaired: when the
    index is built, and each time it is loaded again from its file."""
    if not invalid:
        return
    what, n = invalid["what"], invalid["count"]
    listed = ", ".join(f"row {row} ({what} {grid_id})" for row, grid_id in invalid["first"])
    more = f" and {n - len(invalid['first'])} more" if n > len(invalid["first"]) else ""
    log.warning(f"{n} {what}{'s' if n > 1 else ''} with an invalid polygon (a ring crossing itself, "
                f"say): {listed}{more}; located as repaired by make_valid. Fix {'them' if n > 1 else 'it'} "
                "in QGIS (Fix Geometries, or gridkit check on a grid package)")


def _records(ids, unit):
    """Grid IDs as numbers beside their unit row, when every ID is a plain number.

    A single-point query on a big layout is bound by memory reads at random
    places; one 12-byte record per cell answers in one read what an object array
    of strings and a separate unit array answer in three.
    """
    text = pd.Series(ids, dtype=object)
    if not text.str.fullmatch(r"[1-9][0-9]{0,17}", na=False).all():  # a blank ID (a cell drawn anew) too
        return None
    record = np.empty(len(ids), dtype=[("id", "<i8"), ("unit", "<i4")])
    record["id"] = text.astype(np.int64).to_numpy()
    record["unit"] = unit
    return record


@functools.lru_cache(maxsize=1)
def _pool():
    return ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="gridkit-locate")


def _index_of(x, y):
    """The index of ``x`` or ``y`` when they are pandas Series (None for arrays); two
    Series must share it, or each point would be paired with the wrong one's row."""
    labels = [v.index for v in (x, y) if isinstance(v, pd.Series)]
    if len(labels) == 2 and not labels[0].equals(labels[1]):
        raise InputError("x and y are Series with different indexes; take both from the same frame, or pass "
                         "arrays (.to_numpy()) to pair them by position")
    return labels[0] if labels else None


def _in_chunks(n, work):
    """``work(slice)`` over chunks of ``_CHUNK`` items, on the thread pool when there are several."""
    if n <= _CHUNK:
        work(slice(0, n))
        return
    list(_pool().map(lambda start: work(slice(start, min(start + _CHUNK, n))), range(0, n, _CHUNK)))


def _read_cells(path, layer, id_field, micro=False, crs=None):
    """``(cells, micro_grids, package)``: the cells of a package or polygon file,
    with ``grid_id``, in a metric CRS; with ``micro`` its micro-grids (``micro_id``,
    ``grid_id``; None when it has none); whether they are a grid package's cells.
    ``crs``: what a polygon file's coordinates are in, instead of its label."""
    import pyogrio

    from .io import (TABLE_SUFFIXES, _apply_crs, empty_file, from_pseudo_crs, gdal_path, input_suffix, marked_crs,
                     refuse_layer, warn_if_gcj02)

    micro_grids = None
    refuse_layer(path, layer, "--grid-layer")
    if said := empty_file(path):
        raise InputError(said)
    # GeoParquet (gridkit export's .parquet) through geopandas: GDAL builds differ on
    # Parquet (pyogrio's wheels hand it to an ADBC driver that wants DuckDB). A table
    # of WKT (gridkit export's .csv or .xlsx) as `grid adopt` reads it, CRS label too.
    parquet = input_suffix(path) in (".parquet", ".geoparquet")
    table = Path(path).suffix.lower() in TABLE_SUFFIXES
    try:
        if parquet:
            from .batch import _parquet_columns

            geometry, _, _, names = _parquet_columns(path)
            layers, layer, package, fields = [], Path(path).stem, False, set(names) - {geometry}
        elif table:
            from .catalogue import _names_wkt_column, read_wkt_table

            whole = read_wkt_table(path, layer=layer) if _names_wkt_column(path, layer) else None
            geometry = None if whole is None else whole.geometry.name
            layers, layer, package = [], layer or Path(path).stem, False
            fields = set() if whole is None else set(whole.columns) - {geometry}
        else:  # a zip's Shapefile, in a folder of the zip too (gdal_path), as grid adopt reads it
            source = gdal_path(path)
            layers = [name for name, _ in pyogrio.list_layers(source)]
            layer = layer or ("cells" if "cells" in layers else layers[0])
            package = layer == "cells" and "gridkit_metadata" in layers
            info = pyogrio.read_info(source, layer=layer)
            fields, geometry = set(info["fields"]), info["geometry_type"]
        if crs is not None and package:
            raise InputError(f"{path}: a grid package says what CRS its cells are in; leave out the grid's CRS "
                             f"(--grid-crs {crs}), which is for polygon files without a CRS or with a wrong one")
        if geometry is None:  # points, a report table: not a layout
            raise InputError(f"{path} (layer {layer}): a table without geometry, not a grid layout; --grid takes "
                             "a grid package (gridkit grid units BOUNDARIES -o layout.gpkg) or a file of cell polygons")
        if id_field not in fields:
            raise InputError(f"{path} (layer {layer}): no {id_field!r} column{near_column(id_field, fields)} for "
                             "the cell IDs; columns are "
                             f"{', '.join(sorted(fields))} — name the ID column (--id-field)"
                             + ("" if "gridkit_metadata" in layers else
                                f". If these are boundaries (communities, districts), grid them first: gridkit grid "
                                f"units {path} -o layout.gpkg, and pass that as --grid"))
        # The hierarchy by its names, or by the 10-character ones `gridkit export` gives
        # them in a Shapefile (comm_code …): such cells located to grid IDs alone.
        from .export import SHAPEFILE_NAMES

        named = {name: name if name in fields else SHAPEFILE_NAMES.get(name) for name in _HIERARCHY[1:]}
        named = {name: column for name, column in named.items() if column in fields and column != id_field}
        columns = [id_field, *named.values()]
        # Through Arrow: 3× faster (Beijing's 1.6 M cells: 2.8 s instead of 8.3 s); a
        # column with no value comes back as NaN, which the Locator reads as None.
        if parquet:
            import geopandas as gpd

            cells = gpd.read_parquet(path, columns=[*columns, geometry])
        elif table:
            cells = _table_in_crs(whole[[*columns, geometry]], path, crs)
        else:
            cells = pyogrio.read_dataframe(source, layer=layer, columns=columns, use_arrow=True)
        cells = cells.rename(columns={column: name for name, column in named.items() if column != name})
        if micro and layer == "cells" and "micro_grids" in layers:
            layer = "micro_grids"
            fields = set(pyogrio.read_info(source, layer=layer)["fields"])
            if not {"micro_id", "grid_id"} <= fields:
                raise InputError(f"{path} (layer micro_grids): no micro_id and grid_id columns, so the "
                                 "micro-grids cannot be told apart; give the layer its columns back, or "
                                 "locate without the micro-grids (micro=False)")
            micro_grids = pyogrio.read_dataframe(source, layer=layer, columns=["micro_id", "grid_id"],
                                                 use_arrow=True)
    except (InputError, CRSError):
        raise
    except Exception as exc:  # missing layer, unreadable file: say which
        in_layer = f" (layer {layer})" if layer is not None else ""  # None: the file could not be opened
        raise InputError(f"{path}: cannot read the cells{in_layer} ({exc})") from exc
    kinds = shapely.get_type_id(cells.geometry.values)
    other = np.flatnonzero((kinds >= 0) & ~np.isin(kinds, CELL_KINDS))  # not (multi)polygons, nor missing
    if len(other):
        kind = cells.geometry.iloc[other[0]].geom_type
        raise InputError(f"{path} (layer {layer}): {len(other):,} of the cells {'is' if len(other) == 1 else 'are'} "
                         f"no polygon (row {other[0] + 1} is a {kind}), and a point lies in no {kind}; give the "
                         "layer of cell polygons (--grid-layer)")
    if not package:  # the ID column as named, and a fix for a file --fix-ids does not take
        _refuse_blank(cells[id_field], repr(id_field), f"the cells of {path}",
                      "give each cell its ID (QGIS: Field Calculator), or delete the cells that are no cells")
    cells = codes_as_text(cells.rename(columns={id_field: "grid_id"}))
    if micro_grids is not None:
        micro_grids = codes_as_text(micro_grids)
        rounded = rounded_ids(micro_grids, "micro_id")
        if rounded:
            raise InputError(f"{path} (layer micro_grids): {rounded}; or locate "
                             "without the micro-grids (micro=False)")
    if crs is not None:
        if not table:  # (a table's was applied as it was read)
            cells = _apply_crs(cells, path, crs)
    elif cells.crs is None:
        raise CRSError(f"{path}: the cells have no CRS; say what their coordinates are in with --grid-crs: "
                       "EPSG:4326 (GPS/WGS84 lon/lat), gcj02 (Amap, Tencent, a Chinese platform's web map), bd09 "
                       "(Baidu) or the projected CRS's EPSG code")
    elif pseudo := marked_crs(path, layer) if cells.crs.equals(4326) else None:  # (a table has no mark)
        cells = from_pseudo_crs(cells, pseudo)  # gridkit export's copy for Amap or Baidu: by its label, 100–700 m off
    elif not package and not table:  # (a table's reader warned) say how to read a GCJ-02 layer as such
        warn_if_gcj02(path, cells.crs, cells.total_bounds, cells.columns, fix=GCJ02_GRID_FIX)
    # Distances and --tolerance are metres: a layer in lon/lat, US feet or Web Mercator
    # (1.3 of its metres to one on the ground in Beijing) is located in the metric CRS.
    if not measures_in_metres(cells.crs, cells.total_bounds):
        cells = cells.to_crs(coords.metric_crs_for(*lonlat_centre(cells.crs, cells.total_bounds)))
    return cells, micro_grids, package


class _WarningsKept(logging.Handler):
    """Keeps ``(logger name, message)`` of each warning gridkit logs while it is attached."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.said = []

    def emit(self, record):
        self.said.append((record.name, record.getMessage()))


@contextlib.contextmanager
def _warnings_quiet():
    """No warning from gridkit within (a file read again, whose warnings were given)."""
    logger = logging.getLogger("gridkit")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _warnings_kept():
    """The warnings gridkit logs within, as a list of ``(logger name, message)``; they
    are logged as well. :meth:`Locator.from_package` keeps those of reading a file,
    to give them again when its index is loaded instead of the file read."""
    keeper, logger = _WarningsKept(), logging.getLogger("gridkit")
    logger.addHandler(keeper)
    try:
        yield keeper.said
    finally:
        logger.removeHandler(keeper)


def _table_in_crs(cells, path, crs=None):
    """A table of cells (WKT) in ``crs``, else in the CRS it is labelled with (a CSV's
    .prj, a workbook's property), or lon/lat read as EPSG:4326; a table of metres
    without either is refused with the option that says its CRS."""
    from .io import wkt_table_in_crs

    try:
        return wkt_table_in_crs(cells, path, crs, gcj02_fix=GCJ02_GRID_FIX)
    except CRSError:
        if crs is not None:
            raise
        raise CRSError(f"{path}: a table of cells has no CRS label (no .prj beside a CSV, no CRS property in a "
                       "workbook) and its coordinates are not lon/lat; say what they are in with --grid-crs "
                       "EPSG:… (the projected CRS's code)") from None


def _overlaps(geoms, ids):
    """The cells ``geoms`` (IDs ``ids``) that overlap by a square metre or more:
    ``{"pairs": n, "first": [grid ID, grid ID, m²]}`` (the pair of lowest rows), or
    None. Less is digitising noise, as :func:`gridkit.units.unit_hierarchy` takes it:
    Cambridge's neighbourhoods, as a layout, overlap by 0.004 m² at most, and were
    warned of as "6 pairs of cells overlap (… 0 m²)"."""
    a, b, area, _ = overlapping_pairs(geoms)
    over = np.flatnonzero(area >= DIGITISING_NOISE_M2)
    if not len(over):
        return None
    i = over[np.lexsort((b[over], a[over]))[0]]
    return {"pairs": int(len(over)), "first": [ids[a[i]], ids[b[i]], round(float(area[i]), 2)]}


def _warn_overlaps(path, overlaps):
    if overlaps:
        n, (one, two, m2) = overlaps["pairs"], overlaps["first"]
        pairs = f"{n:,} pairs of cells overlap" if n > 1 else "1 pair of cells overlaps"
        log.warning(f"{path}: {pairs} (the first: {one} and {two}, {m2:,g} m²); a point in both goes to the first in "
                    "the file. Find them with QGIS's Topology Checker (must not overlap) and fix the file")


def index_path(package) -> Path:
    """Where :meth:`Locator.from_package` keeps the index of ``package``."""
    package = Path(package)
    return package.with_name(package.name + ".locator")


def _stamp(path):
    """What identifies one state of a package file: its size and change time."""
    info = os.stat(path)
    return f"{info.st_size}:{info.st_mtime_ns}"


_THREAD = threading.local()


def _transformer(source, target):
    """A transformer of this thread's own (pyproj transformers are not shared across threads)."""
    cache = _THREAD.__dict__.setdefault("transformers", {})
    key = (source, target)
    if key not in cache:
        cache[key] = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return cache[key]
