"""The partition invariants every layout must satisfy, checked by one helper.

:func:`check_partition` is public so tests, benchmarks and users check layouts
the same way:

* every cell valid, non-empty, polygonal, with a unique, non-null ID;
* every cell inside exactly one unit (its own), and its ID under that unit's code;
* no two cells overlap (pairwise intersection area < ``overlap_tol`` m²);
* the union of a unit's cells equals the unit (symmetric-difference area <
  ``rel_tol`` × the unit's area).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

__all__ = ["PartitionReport", "check_partition", "check_micro_grids", "assert_partition", "multipart_cells"]


@dataclass
class PartitionReport:
    """What :func:`check_partition` found; ``ok`` when ``problems`` is empty.

    ``where`` holds, for each problem, the geometry it concerns (the overlap, the
    gap, the stray cell; ``None`` for an ID without a cell): :meth:`problem_frame`
    makes them a layer to open beside the cells and fix.
    """

    cells: int
    units: int
    problems: list = field(default_factory=list)
    max_overlap_m2: float = 0.0
    max_coverage_error: float = 0.0  # symmetric-difference area / unit area
    where: list = field(default_factory=list)
    crs: object = None  # the cells' CRS, which ``where`` is in
    #: the cells of several parts (:func:`multipart_cells`): not a problem (an island
    #: may be meant), but a piece far off is a slip the other invariants cannot see
    multipart: dict = field(default_factory=lambda: {"cells": 0, "examples": []})

    @property
    def ok(self) -> bool:
        return not self.problems

    def flag(self, problem, geometry=None):
        self.problems.append(problem)
        self.where.append(geometry)

    def problem_frame(self):
        """The problems as a GeoDataFrame (``problem``, ``area_m2``, geometry): each
        geometry's polygons as one MultiPolygon (one geometry type, as GIS layers
        want), or none."""
        import geopandas as gpd

        where = list(self.where) + [None] * (len(self.problems) - len(self.where))
        geoms = np.array([None if g is None else _polygons(g) for g in where], dtype=object)
        return gpd.GeoDataFrame({"problem": np.array(self.problems, dtype=object),
                                 "area_m2": np.round(shapely.area(geoms), 3)}, geometry=geoms, crs=self.crs)


def multipart_cells(cells, id_field="grid_id", examples=5) -> dict:
    """The cells of several parts: how many, and the first ``examples`` as
    ``[ID, parts, metres from the largest part to the farthest other]``. A cell
    with islets may be meant; one with a piece 5 km off is a digitising slip the
    partition check cannot see (the piece overlaps nothing)."""
    geoms = cells.geometry.values
    several = np.flatnonzero(shapely.get_num_geometries(geoms) > 1)
    shown = []
    for i in several[:examples]:
        parts = shapely.get_parts(geoms[i])
        largest = parts[np.argmax(shapely.area(parts))]
        shown.append([cells[id_field].iloc[i], len(parts), round(float(shapely.distance(largest, parts).max()), 1)])
    return {"cells": len(several), "examples": shown}


def _polygons(geometry):
    """The polygons of ``geometry`` as a MultiPolygon, or ``None`` when it has none."""
    parts = shapely.get_parts(shapely.get_parts(geometry))  # twice: collections hold multipolygons
    parts = parts[shapely.get_type_id(parts) == 3]
    return shapely.multipolygons(parts) if len(parts) else None


def _free_id_hint(ids, units, unit, issued=None, whom="all but one"):
    """': give all but one a free ID (110101001001124 is the next after its
    unit's highest)' where ``unit``'s IDs are numbers of one length (a cell split
    in QGIS leaves two halves with its ID), else ''. ``issued`` (unit → highest
    sequence issued, as a household package records it) counts as in use."""
    same = [str(i) for i in ids[units == unit] if not pd.isna(i)]
    if not same or not all(i.isdigit() and len(i) == len(same[0]) for i in same):
        return ""
    width = len(same[0])
    prefix = str(unit) if all(i.startswith(str(unit)) for i in same) else ""  # the unit's code, when IDs carry it
    top = int(max(same))
    if prefix and str(unit) in (issued or {}):
        top = max(top, int(prefix + str(issued[str(unit)]).zfill(width - len(prefix))))
    free = str(top + 1).zfill(width)
    if len(free) > width or not free.startswith(prefix):
        return f": give {whom} a free ID (its unit has no number left after the highest)"
    return f": give {whom} a free ID ({free} is the next after its unit's highest)"


OVERLAP_TOL = 1e-6
"""m²: what two cells may share, or a cell may lie outside its unit, before
:func:`check_partition` names it (float noise leaves far less)."""


def check_partition(
    cells,
    units,
    *,
    unit_key: str = "community_code",
    id_field: str = "grid_id",
    rel_tol: float = 1e-6,
    overlap_tol: float = OVERLAP_TOL,
    issued: dict | None = None,
    names: tuple[str, str] = ("cell", "unit"),
) -> PartitionReport:
    """Check that ``cells`` partition ``units`` exactly.

    The report's ``multipart`` counts the cells of several parts
    (:func:`multipart_cells`): not a problem, but worth a look.

    Parameters
    ----------
    cells, units : GeoDataFrame
        In the same metric CRS; both carry ``unit_key``.
    unit_key : str
        The column naming each cell's unit (default ``community_code``).
    id_field : str
        The cells' ID column; IDs must be unique and start with the unit's code.
    issued : dict, optional
        Unit → the highest sequence ever issued in it
        (:func:`gridkit.rebalance.highest_issued`): a duplicated ID's hint offers
        an ID after it, never one issued before.
    names : (str, str)
        What the problems call a cell and a unit: ``("micro-grid", "grid")`` for
        micro-grids in their grids.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> units = gpd.GeoDataFrame({"u": ["A"]}, geometry=[shapely.box(0, 0, 2, 1)])
    >>> cells = gpd.GeoDataFrame({"u": ["A", "A"], "id": ["A1", "A2"]},
    ...     geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> check_partition(cells, units, unit_key="u", id_field="id").ok
    True
    >>> cells.geometry = [shapely.box(0, 0, 1, 1), shapely.box(1.2, 0, 2, 1)]  # a gap
    >>> report = check_partition(cells, units, unit_key="u", id_field="id")
    >>> report.problems, round(report.where[0].area, 6)
    (['unit A: its cells differ from it by 0.2 m² (0.1 of its area: gaps, or cells beyond it)'], 0.2)
    """
    from .io import require_frame

    cell, unit = names
    require_frame(cells, f"the {cell}s")
    require_frame(units, f"the {unit}s")
    require_frame(cells, f"the {cell}s", (id_field, unit_key), fix=f"id_field= and unit_key= name the columns of "
                  f"each {cell}'s ID and its {unit}'s code")
    require_frame(units, f"the {unit}s", (unit_key,), fix=f"unit_key= names the column of each {unit}'s code"
                  + (" (a grid package's units layer holds streets and districts too: its communities are "
                     "gridkit.rebalance.communities_of(cells, units))" if unit_key == "community_code" else ""))
    report = PartitionReport(cells=len(cells), units=len(units), crs=cells.crs)
    report.multipart = multipart_cells(cells, id_field)
    flag = report.flag
    cells_, units_ = cell + "s", unit + "s"
    if cells.crs != units.crs:
        flag(f"{cells_} are in {cells.crs}, {units_} in {units.crs}")
        return report
    geoms = cells.geometry.values
    ids = raw_ids = cells[id_field].to_numpy()
    blank = cells[id_field].isna().to_numpy()
    if blank.any():  # named as what they lack in every problem below, not as "nan"
        ids = ids.astype(object)
        ids[blank] = f"without {id_field}"
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(bad):
        flag(f"{cell} {ids[i]} is empty")
    invalid = ~bad & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        flag(f"{cell} {ids[i]} is invalid: {shapely.is_valid_reason(geoms[i])}", geoms[i])
    nonpoly = ~bad & ~np.isin(shapely.get_type_id(geoms), (3, 6))
    for i in np.flatnonzero(nonpoly):
        flag(f"{cell} {ids[i]} is not a polygon", geoms[i])
    ids_series = cells[id_field]
    units_of = cells[unit_key].to_numpy() if unit_key in cells.columns else np.full(len(cells), None)
    if blank.any():
        first = units_of[blank][0]
        flag(f"{int(blank.sum())} {cell}(s) have no {id_field} (select them in QGIS with \"{id_field}\" IS NULL)"
             + _free_id_hint(raw_ids, units_of, first, issued, "each"),
             shapely.geometrycollections(geoms[blank & ~bad]))
    # Every problem is named, however many (a platform's file digitised apart: 8,693
    # overlapping pairs); the CLI prints the first and writes all with --problems.
    duplicated = ids_series[ids_series.duplicated()].dropna().unique()
    twice = np.flatnonzero(ids_series.isin(duplicated).to_numpy())
    hints = {}  # unit → its free-ID hint (a scan of its IDs), for each of its duplicated IDs
    for d, at in pd.Series(twice).groupby(ids[twice], sort=False):
        at = at.to_numpy()
        unit_of = units_of[at[0]]
        if unit_of not in hints:
            hints[unit_of] = _free_id_hint(raw_ids, units_of, unit_of, issued)
        flag(f"{id_field} {d} is used by {len(at)} {cells_}{hints[unit_of]}", shapely.geometrycollections(geoms[at]))

    unit_geoms = units.geometry.values
    unit_codes = units[unit_key].to_numpy()
    uncoded = units[unit_key].isna().to_numpy()
    if uncoded.any():
        flag(f"{int(uncoded.sum())} {unit}(s) have no {unit_key}", shapely.geometrycollections(unit_geoms[uncoded]))
    position = {code: i for i, code in enumerate(unit_codes) if not pd.isna(code)}
    own = np.array([position.get(k, -1) for k in cells[unit_key].to_numpy()], dtype=np.int64)
    # One problem per unit named and missing (a community's row deleted: 318 cells),
    # not one per cell.
    orphans = np.flatnonzero(own < 0)
    named = cells[unit_key].iloc[orphans]
    for key, at in pd.Series(orphans).groupby(named.fillna("").astype(str).to_numpy(), sort=False):
        at = at.to_numpy()
        which = (f"{cell} {ids[at[0]]}" if len(at) == 1 else
                 f"{len(at)} {cells_} ({ids[at[0]]} … {ids[at[-1]]})")
        flag(f"{which} {'has' if len(at) == 1 else 'have'} no {unit_key}" if key == "" else
             f"{which} {'names' if len(at) == 1 else 'name'} {unit} {key!r}, which is not among the {units_} "
             f"(restore its row, or give the {cell if len(at) == 1 else cells_} another {unit_key})",
             geoms[at[0]] if len(at) == 1 else shapely.geometrycollections(geoms[at]))
    wrong_prefix = [i for i in range(len(ids))
                    if own[i] >= 0 and not blank[i] and not str(ids[i]).strip().startswith(str(unit_codes[own[i]]))]
    for i in wrong_prefix:
        flag(f"{cell} {ids[i]} does not start with its {unit} code {unit_codes[own[i]]}", geoms[i])

    # One run names every problem an editor made: a cell whose geometry or unit is
    # broken (flagged above) is left out of the checks below, but for its unit's
    # coverage: what lies within the broken cell's convex hull is not measured (a bow
    # tie over a square cell would only repeat it), and what else is wrong in that unit
    # is named too. An empty cell's place is a gap.
    geoms, unit_geoms = np.asarray(geoms), np.asarray(unit_geoms)
    broken = bad | invalid | nonpoly | (own < 0)
    mended = {}  # unit → its broken cells' convex hulls
    for i in np.flatnonzero(broken & ~bad & (own >= 0)):
        mended.setdefault(own[i], []).append(shapely.convex_hull(geoms[i]))
    emptied = {}  # unit → its empty cells' IDs
    for i in np.flatnonzero(bad & (own >= 0)):
        emptied.setdefault(own[i], []).append(str(ids[i]))
    if broken.any():
        geoms, ids, own = geoms[~broken], ids[~broken], own[~broken]

    # Prepared predicates settle most pairs (a cell covered by its unit, touching its
    # neighbours along edges); areas and shapes are computed only where they do not:
    # on Changping's 134,773 cells (4 problems) this takes 2.7 s instead of 9.7 s.
    # The units are prepared, not the cells: a prepared cell that is not an exact
    # rectangle (one that came through lon/lat) builds an index of its own, 900 MB
    # for Changping's, where GEOS's temporary one for each query is as fast.
    shapely.prepare(unit_geoms)
    off = np.zeros(len(unit_geoms), dtype=bool)  # units with a problem below: their union is drawn

    # Inside exactly one unit: outside its own unit, and inside no other, by < tol.
    u_idx, c_idx = shapely.STRtree(geoms).query(unit_geoms, predicate="intersects")
    order = np.lexsort((u_idx, c_idx))  # by cell, as the problems are listed
    c_idx, u_idx = c_idx[order], u_idx[order]
    foreign = u_idx != own[c_idx]
    c_idx, u_idx = c_idx[foreign], u_idx[foreign]
    # A cell whose box shares no more than the tolerance with the unit's cannot
    # overlap it by more (a micro-grid through lon/lat beside the next cell).
    near = box_shared(shapely.bounds(geoms[c_idx]), shapely.bounds(unit_geoms[u_idx])) > overlap_tol
    c_idx, u_idx = c_idx[near], u_idx[near]
    inner = ~shapely.touches(unit_geoms[u_idx], geoms[c_idx])  # their interiors meet
    c_idx, u_idx = c_idx[inner], u_idx[inner]
    shared, overlap = measured(shapely.intersection, geoms[c_idx], unit_geoms[u_idx], overlap_tol)
    into = overlap > overlap_tol
    off[own[c_idx[into]]] = off[u_idx[into]] = True
    for c, u, x, g in zip(c_idx[into], u_idx[into], overlap[into], shared[into]):
        flag(f"{cell} {ids[c]} overlaps {unit} {unit_codes[u]} by {x:.3g} m² besides its own", g)
    suspect = np.flatnonzero(~shapely.covers(unit_geoms[own], geoms))
    # Within a box-shaped unit (a lattice cell holding micro-grids), what of a cell
    # lies outside it lies beyond the unit's box in the cell's box, or between the
    # unit and its box: float noise leaves both near zero, and no difference is drawn.
    units_of_suspects = unit_geoms[own[suspect]]
    unit_bounds, cell_bounds = shapely.bounds(units_of_suspects), shapely.bounds(geoms[suspect])
    beyond = (np.prod(cell_bounds[:, 2:] - cell_bounds[:, :2], axis=1) - box_shared(cell_bounds, unit_bounds)
              + np.prod(unit_bounds[:, 2:] - unit_bounds[:, :2], axis=1) - shapely.area(units_of_suspects))
    suspect = suspect[~(boxes(units_of_suspects, unit_bounds) & (beyond <= overlap_tol))]
    stray, outside = measured(shapely.difference, geoms[suspect], unit_geoms[own[suspect]], overlap_tol)
    spill = outside > overlap_tol
    off[own[suspect[spill]]] = True
    for i, x, g in zip(suspect[spill], outside[spill], stray[spill]):
        flag(f"{cell} {ids[i]} lies {x:.3g} m² outside its {unit}", g)

    # No overlaps between cells.
    a, b, areas, both = overlapping_pairs(geoms)
    report.max_overlap_m2 = float(areas.max()) if len(areas) else 0.0
    over = areas >= overlap_tol
    off[own[a[over]]] = off[own[b[over]]] = True
    for i, j, x, g in zip(a[over], b[over], areas[over], both[over]):
        flag(f"{cells_} {ids[i]} and {ids[j]} overlap by {x:.3g} m²", g)

    # The union of a unit's cells is the unit. Where the cells overlap neither each
    # other nor the outside of the unit (by more than the tolerances, checked above),
    # the union's area is the sum of theirs, so the gap is the unit's area less that
    # sum (to about 1e-10 of it here); the union is drawn only for a unit whose
    # areas disagree, or with a problem above, to measure and show the difference.
    unit_area = shapely.area(unit_geoms)
    summed = np.bincount(own, weights=shapely.area(geoms), minlength=len(unit_geoms))
    counts = np.bincount(own, minlength=len(unit_geoms))
    order = np.argsort(own, kind="stable")
    bounds = np.searchsorted(own[order], np.arange(len(unit_geoms) + 1))
    for u in range(len(unit_geoms)):
        if pd.isna(unit_codes[u]):  # no cell can name it: flagged above
            continue
        if counts[u] == 0 and u not in mended and u not in emptied:
            flag(f"{unit} {unit_codes[u]} has no {cells_}", unit_geoms[u])
            continue
        err = abs(unit_area[u] - summed[u]) / unit_area[u] if u not in mended else 1.0
        if off[u] or err >= rel_tol / 10:
            differ = shapely.symmetric_difference(shapely.union_all(geoms[order[bounds[u] : bounds[u + 1]]]),
                                                  unit_geoms[u])
            if u in mended:
                differ = shapely.difference(differ, shapely.union_all(mended[u]))
            err = shapely.area(differ) / unit_area[u]
            if err >= rel_tol:
                gone = emptied.get(u, [])
                where = (f"; the empty {cell}{'s' * (len(gone) > 1)} {', '.join(gone[:3])}{' …' * (len(gone) > 3)} "
                         "lay there" if gone else "")
                flag(f"{unit} {unit_codes[u]}: its {cells_} differ from it by {shapely.area(differ):.3g} m² "
                     f"({err:.3g} of its area: gaps, or {cells_} beyond it{where})", differ)
        report.max_coverage_error = max(report.max_coverage_error, float(err))
    return report


def boxes(geoms, bounds):
    """Which of ``geoms`` (with their ``bounds``) are axis-aligned rectangles: four
    corners, as large as their bounding box."""
    w, h = bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]
    area = w * h
    return (shapely.get_num_coordinates(geoms) == 5) & (np.abs(shapely.area(geoms) - area) <= 1e-9 * area) \
        & (area > 0)


GRID_SIZE = 1e-8
"""The precision (m) of the overlays done again when those in full floating point
broke the partition, and of the check's overlaps and strays measured again: GEOS's
floating overlay can go wrong where vertices nearly coincide (a cell of 10,450 m²
inside a bite of Cambridge's units layer came out with 10⁻¹⁰ m² of it; two
micro-grids of Dongcheng that touch along a spiky edge came out sharing 1,177 m²),
and snap-rounding at this precision does not. At 10⁻⁹ m GEOS fails on Cambridge's
UTM coordinates ("Ring edge missing"); new vertices move by at most half of this."""

#: Two boxes whose ranges share less than this many m² only touch: float noise.
NOISE_M2 = 1e-7


def box_shared(bounds_a, bounds_b):
    """The area each pair of bounding boxes (rows of ``shapely.bounds``) shares: no
    less than the area the pair's polygons share."""
    low, high = np.maximum(bounds_a[:, :2], bounds_b[:, :2]), np.minimum(bounds_a[:, 2:], bounds_b[:, 2:])
    return np.prod(np.clip(high - low, 0, None), axis=1)


def overlapping_pairs(geoms):
    """The pairs of polygons in ``geoms`` whose interiors meet: ``(a, b, area,
    shared)``: their positions (a < b), the area they share and its geometry.
    Polygons that only touch, along an edge or at a corner, are no pair; nor are
    two whose bounding boxes share less than :data:`NOISE_M2` (float noise: their
    polygons can share no more)."""
    geoms = np.asarray(geoms, dtype=object)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    # Two boxes (a lattice's square cells) meet inside when their ranges overlap on
    # both axes: arithmetic instead of GEOS, which tests the other pairs (113,260
    # cells of Putuo and Dinghai: 0.4 s instead of 1.6 s for the pairs). Cells that
    # came through another CRS (a platform's file in lon/lat) are boxes to float
    # noise, so neighbours' ranges overlap by nanometres: boxes whose ranges share
    # less than NOISE_M2 touch (Changping's 134,773 such cells: 0.1 s instead of
    # 1.2 s of GEOS intersections, each of no area). So do any two polygons whose
    # boxes share that little: the quarters of those cells, or neighbours along a
    # straight edge (Dongcheng's 17,103 quarters through lon/lat: 0.12 → 0.03 s).
    bounds = shapely.bounds(geoms)
    box = boxes(geoms, bounds)
    inner = box_shared(bounds[a], bounds[b]) > NOISE_M2
    other = inner & ~(box[a] & box[b])
    inner[other] = ~shapely.touches(geoms[a[other]], geoms[b[other]])
    a, b = a[inner], b[inner]
    shared, areas = measured(shapely.intersection, geoms[a], geoms[b], NOISE_M2)
    return a, b, areas, shared


def measured(overlay, a, b, tol):
    """``overlay(a, b)`` (:func:`shapely.intersection` or :func:`shapely.difference`,
    pairwise) and the areas of the results, those over ``tol`` m² computed again
    snap-rounded at :data:`GRID_SIZE`: what the check reports is never a piece GEOS's
    floating overlay made up (two micro-grids of Dongcheng, touching along a spiky
    edge, came out sharing 1,177 m², and 0 snap-rounded). Where the snap-rounded
    overlay fails in its turn, the floating result stands."""
    out = overlay(a, b)
    areas = shapely.area(out)
    again = np.flatnonzero(areas > tol)
    if len(again):
        try:
            out[again] = overlay(a[again], b[again], grid_size=GRID_SIZE)
        except shapely.errors.GEOSException:
            return out, areas
        areas[again] = shapely.area(out[again])
    return out, areas


def check_micro_grids(micro, grids, **kwargs) -> PartitionReport:
    """:func:`check_partition` of micro-grids (``micro_id``) in their grids
    (``grid_id``), whose problems name them so: "grid … has no micro-grids"."""
    return check_partition(micro, grids, unit_key="grid_id", id_field="micro_id", names=("micro-grid", "grid"),
                           **kwargs)


def assert_partition(cells, units, **kwargs) -> PartitionReport:
    """:func:`check_partition`, raising ``AssertionError`` listing the problems."""
    report = check_partition(cells, units, **kwargs)
    if not report.ok:
        raise AssertionError(
            f"{len(report.problems):,} partition problem(s):\n  " + "\n  ".join(report.problems[:30])
        )
    return report
