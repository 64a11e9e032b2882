"""Cut a unit grid's cells again to its communities after a boundary moved.

A community boundary moved in a grid package's units layer (a block handed to the
next community, a boundary put right after a survey) leaves cells beyond their
community and land that no cell of it covers: ``gridkit check`` names both.
:func:`recut` puts the cells right in the communities whose cells no longer tile
them, and leaves every other community's cells as they are:

- each cell is cut to its community; its largest piece keeps its ID when that is
  at least half the cell (the same place, as :func:`gridkit.package.reissued_ids`
  judges it), and the cell ends otherwise;
- the land of the community no kept cell covers is divided as the layout was
  (:func:`gridkit.grid.unit_grid` at the layout's cell area, shape and barriers;
  the square lattice has its origin at 0, 0, so the new cells keep to the old
  lines), into new cells numbered after the highest ID ever issued in the
  community, north to south, then west to east;
- a new piece smaller than the sliver size joins the cell of its community (kept
  or new) it shares the longest edge with, across no barrier: a strip the
  boundary moved by a few metres widens the cells beside it.

A community added to the units layer (one split in two) is divided so too; the
cells of a community deleted from it (merged into another) go over to the
community they lie in, outlines kept, with its next IDs.

The ended cells are returned as they were, with ``end_date`` and
``replaced_by``, for the package's ``ended_grids`` layer: an ID is issued once.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .cells import barrier_lines, check_cell_area
from .codes import day_text, highest_issued
from .errors import InputError, LayoutError, checked_number
from .grid import unit_grid
from .invariants import GRID_SIZE, OVERLAP_TOL, check_partition, measured
from .io import require_frame
from .locator import _refuse_missing
from .package import _new_ids, _replaced_by
from .units import HIERARCHY_COLUMNS, check_communities


@dataclass
class Recut:
    """What :func:`recut` returns."""

    cells: gpd.GeoDataFrame  # every cell now: kept (their IDs), cut, and new
    ended: gpd.GeoDataFrame  # the cells that ended, as they were, with end_date and replaced_by
    issued: dict  # the highest sequence issued in each community (gridkit.codes.highest_issued)
    summary: dict  # communities recut; the IDs of the cells cut, ended and new; new pieces merged; given over


def recut(cells, communities, *, cell_area=10_000.0, shape="square", barriers=None, sliver_ratio=0.3,
          issued=None, start_date=None, tolerance=1e-6) -> Recut:
    """Cut ``cells`` again to ``communities`` where a community boundary moved.

    Parameters
    ----------
    cells : GeoDataFrame
        A unit grid package's cells (``gridkit.read_package``), in a metric CRS.
    communities : GeoDataFrame
        The communities as they are now (:func:`gridkit.rebalance.communities_of`
        the package's units layer), in the cells' CRS.
    cell_area, shape, barriers, sliver_ratio
        As the layout was made (:func:`gridkit.grid.unit_grid`; a package's
        metadata records them): the land a community gained is divided so.
    issued : dict, optional
        The package's ``highest_issued`` record: no ID issued before is issued again.
    start_date : str, optional
        ``YYYY-MM-DD`` of the new cells and the end of the ended ones (default: today).
    tolerance : float
        A community counts as moved when its cells differ from it by more than this
        share of its area (or a cell lies beyond it by more than this share of the
        cell's), as ``gridkit check`` judges it: the overlay leaves far less on
        the cells of a boundary that did not move, and those stay as they were.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from gridkit import unit_grid, unit_hierarchy
    >>> comm = unit_hierarchy(gpd.GeoDataFrame({"code": ["110101001001", "110101001002"]},
    ...     geometry=[shapely.box(0, 0, 200, 100), shapely.box(200, 0, 400, 100)], crs=4548), code_field="code")
    >>> cells = unit_grid(comm, start_date="2026-01-01")
    >>> moved = comm.assign(geometry=[shapely.box(0, 0, 300, 100), shapely.box(300, 0, 400, 100)])
    >>> done = recut(cells, moved, start_date="2027-01-01")
    >>> done.cells["grid_id"].tolist(), done.ended["grid_id"].tolist()
    (['110101001001001', '110101001001002', '110101001001003', '110101001002002'], ['110101001002001'])
    """
    _given_layout(cells, communities, "cells")
    check_cell_area(cell_area)
    checked_number(sliver_ratio, "sliver_ratio", "cell areas", zero=True)
    kw = dict(cell_area=cell_area, shape=shape, barriers=barriers, sliver_ratio=sliver_ratio, issued=issued,
              start_date=start_date, tolerance=tolerance)
    try:
        return _recut(cells, communities, **kw)
    except _Broken:  # GEOS's floating overlay went wrong on near-coincident vertices: snap-rounded
        return _recut(cells, communities, **kw, grid_size=GRID_SIZE)


class _Broken(LayoutError):
    """The cells cut again break the partition invariants."""


def _given_layout(cells, communities, what):
    """An error naming what makes ``cells`` (``what``: "cells", "grids") and
    ``communities`` no layout to cut again: not frames with the columns needed, the
    two in different CRSs (cells in degrees all ended, as if every boundary had
    moved), a cell without its polygon (deleted in QGIS: it would throw the
    overlays' indices off) or with a point or line for one."""
    require_frame(cells, f"the {what}", ("grid_id", "community_code"), fix="read them with gridkit.read_package()")
    require_frame(cells, f"the {what}", polygons=True)
    check_communities(communities)
    if cells.crs != communities.crs:
        names = [crs.to_string() if crs is not None else "none" for crs in (cells.crs, communities.crs)]
        raise InputError(f"the {what}' CRS is {names[0]}, the communities' {names[1]}: give both in the "
                         f"communities' CRS ({what}.to_crs(communities.crs), or .set_crs() where it is none)")
    # The IDs as they are (named only for a cell without a polygon): not each one made text, as recut's
    # check runs after communities_overrun's and communities_merged's in `grid recut`.
    _refuse_missing(cells.geometry.values, cells["grid_id"].to_numpy(), what[:-1], f"the {what}")


def _recut(cells, communities, *, cell_area, shape, barriers, sliver_ratio, issued, start_date, tolerance,
           grid_size=None):
    """:func:`recut`, its overlays at ``grid_size`` (None: full floating point)."""
    day = day_text(start_date)
    issued = highest_issued(cells["grid_id"].astype(str), before=issued)
    cells, merged_away, over = _merged(cells, communities, issued, day, tolerance, grid_size)
    places, moved, geometry, kept, cut = _cut_to_communities(cells, communities, tolerance, grid_size)
    if not moved and not over:
        return Recut(cells, cells.iloc[:0].assign(replaced_by=pd.Series(dtype=object)), issued,
                     {"communities": 0, "cut_ids": [], "ended_ids": [], "new_ids": [], "merged": 0, "over": {}})
    lines = barrier_lines(barriers, cells.crs) if barriers is not None else np.empty(0, dtype=object)

    codes = cells["community_code"].astype(str).to_numpy()
    new, merged = [], 0
    for code in moved:
        rows = np.flatnonzero(codes == code)
        mine = rows[kept[rows]]
        gap = _land_left(places.geometry[code], geometry[mine], tolerance * cell_area, grid_size)
        if not len(gap):
            continue
        # Pieces below the sliver size are merged here, not by unit_grid: with the kept cells
        # too, a strip the boundary moved by joins the cells beside it, not one another.
        pieces = unit_grid(places.loc[[code]].set_geometry([shapely.union_all(gap)], crs=cells.crs)
                           .reset_index(drop=True),
                           cell_area=cell_area, shape=shape, barriers=barriers, sliver_ratio=0, start_date=day)
        small = shapely.area(pieces.geometry.values) < sliver_ratio * cell_area
        shapes = np.concatenate([geometry[mine], pieces.geometry.values[~small]])  # the kept cells, then pieces
        joined = np.zeros(len(pieces), dtype=bool)
        joined[small] = _join(pieces.geometry.values[small], shapes, lines)
        grew = ~shapely.equals_exact(geometry[mine], shapes[:len(mine)], tolerance=0)
        cut[mine[grew]] = True
        geometry[mine] = shapes[:len(mine)]
        merged += int(joined.sum())
        outlines = pieces.geometry.values.copy()
        outlines[~small] = shapes[len(mine):]
        pieces = pieces.set_geometry(gpd.GeoSeries(outlines, index=pieces.index, crs=cells.crs))
        new.append(pieces[~joined])

    now = cells.set_geometry(gpd.GeoSeries(geometry, index=cells.index, crs=cells.crs))
    fresh = pd.concat(new, ignore_index=True) if new else cells.iloc[:0]
    fresh, _ = _new_ids(fresh.assign(grid_id=None), "grid_id", "community_code", 3, issued)
    fresh = fresh.assign(sequence=fresh["grid_id"].str[-3:].astype("int32"), start_date=day)
    out = pd.concat([now[kept], fresh[[c for c in now.columns if c in fresh.columns]]], ignore_index=True)
    changed = np.concatenate([cut[kept], np.ones(len(fresh), dtype=bool)])
    out.loc[changed, "area_m2"] = np.round(shapely.area(out.geometry.values[changed]), 2)
    out = out.sort_values("grid_id", kind="stable").reset_index(drop=True)
    gone = pd.concat([merged_away, cells[~kept]])
    gone["end_date"] = day
    gone["replaced_by"] = _replaced_by(gone, out)
    report = check_partition(out, communities)
    if not report.ok:
        raise _Broken("the cells cut again break the partition invariants, so nothing was written: "
                      + "; ".join(report.problems[:5]) + " (please report it with the package)")
    return Recut(out, gone, issued, {"communities": len(moved), "cut_ids": cells["grid_id"][cut].tolist(),
                                     "ended_ids": gone["grid_id"].tolist(),
                                     "new_ids": sorted([*fresh["grid_id"], *over.values()]),
                                     "merged": merged, "over": over})


def follow(grids, communities, *, barriers=None, issued=None, start_date=None, tolerance=1e-6):
    """A household layout's grids cut again to its communities where a boundary
    moved: :func:`gridkit.rebalance.rebalance` does this before it recounts.

    In each community whose grids no longer tile it, each grid is cut to it as
    :func:`recut` cuts cells: it keeps its ID when its largest piece there is at
    least half of it, and ends otherwise. Each piece of land left that grids
    covered (land the community took from another's grids, the rest of an ended
    grid) joins the grid of the community it shares the longest edge with,
    across no barrier where a grid beside it on its side will do. No grid is
    drawn here: household grids follow their households, and the recount divides
    again a grid that the land put out of the band. Land no grid covered (a grid
    deleted by hand) is left as it is, for the rebalance to refuse. The grids of
    a community the units layer no longer holds (merged into another) go over to
    the community they lie in, outline and households together, with its next
    IDs (``issued``, updated in place) from ``start_date``. A community the
    units layer added (one split in two) takes the grids whose larger part lies
    in it, cut to it, with its IDs; the smaller parts of grids in it join them
    as land left does (:func:`_added`).

    Returns
    -------
    (grids, ended, summary)
        The grids now (the rows that stay, cut or grown, and those gone over or
        added, indexed after the highest label), the rows that ended as they
        were, and ``{"communities": [codes moved], "cut_ids", "ended_ids",
        "over": {old: new}, "added": {code: {"from": the community most of its
        land came from, "ids": [its grids' IDs]}}}``.
    """
    _given_layout(grids, communities, "grids")
    issued = highest_issued(grids["grid_id"].astype(str)) if issued is None else issued
    day = day_text(start_date)
    given = dict(issued)  # updated in place by the try that stands
    now, ended, summary = _follow(grids, communities, barriers, given, day, tolerance)
    touched = [*summary["communities"], *summary["added"], *{new[:12] for new in summary["over"].values()}]
    if touched:
        places = communities[communities["community_code"].astype(str).isin(touched)]
        if not check_partition(now[now["community_code"].astype(str).isin(touched)], places).ok:
            # GEOS's floating overlay went wrong (see GRID_SIZE): snap-rounded. Still broken,
            # the rebalance's check of the layout refuses it, saying where.
            given = dict(issued)
            now, ended, summary = _follow(grids, communities, barriers, given, day, tolerance, GRID_SIZE)
    issued.update(given)
    return now, ended, summary


def _follow(grids, communities, barriers, issued, day, tolerance, grid_size=None):
    """:func:`follow`, its overlays at ``grid_size`` (None: full floating point)."""
    grids, merged_away, over = _merged(grids, communities, issued, day, tolerance, grid_size)
    places, moved, geometry, kept, cut = _cut_to_communities(grids, communities, tolerance, grid_size)
    if not moved and not over:
        return grids, grids.iloc[:0], {"communities": [], "cut_ids": [], "ended_ids": [], "over": {}, "added": {}}
    lines = barrier_lines(barriers, grids.crs) if barriers is not None else np.empty(0, dtype=object)
    codes = grids["community_code"].astype(str).to_numpy()
    was = grids.geometry.values
    tree = shapely.STRtree(was)
    added = [code for code in moved if code not in set(codes)]
    new = [_added(grids, places.loc[[code]], was, tree, lines, tolerance, grid_size) for code in added]
    for code in sorted(set(moved) - set(added)):
        rows = np.flatnonzero(codes == code)
        mine = rows[kept[rows]]
        crumbs = tolerance * places.geometry[code].area
        gap = _land_left(places.geometry[code], geometry[mine], crumbs, grid_size)
        if len(gap):
            # Only land that grids covered (the land taken from another community's grids,
            # the rest of an ended grid): a hole no grid covered, a grid deleted by hand,
            # is left for the check of the layout to refuse.
            gap = shapely.union_all(gap)
            gap = shapely.get_parts(shapely.intersection(gap, shapely.union_all(was[tree.query(gap)]),
                                                         grid_size=grid_size))
            gap = gap[(shapely.get_type_id(gap) == 3) & (shapely.area(gap) > crumbs)]
        if not len(gap):
            continue
        shapes = geometry[mine].copy()
        joined = _join_near(gap, shapes, lines)
        if not joined.all():
            left = gap[~joined][0]
            at = shapely.point_on_surface(left)
            raise InputError(
                f"community {code} now holds {shapely.area(left):,.0f} m² around ({at.x:.0f}, {at.y:.0f}) that "
                f"touches none of its grids{'' if len(mine) else ' (none is left in it)'}: draw a grid over that "
                "land in QGIS (`gridkit check --fix-ids` gives it a free ID), then rebalance")
        cut[mine] |= ~shapely.equals_exact(geometry[mine], shapes, tolerance=0)
        geometry[mine] = shapes
    now = grids.set_geometry(gpd.GeoSeries(geometry, index=grids.index, crs=grids.crs))[kept]
    if new:
        new = [_given(frame, issued, day, start) for frame, start in
               zip(new, grids.index.max() + 1 + np.cumsum([0, *map(len, new[:-1])]))]
        now = pd.concat([now, *new])
    if "area_m2" in now.columns:
        now["area_m2"] = np.round(shapely.area(now.geometry.values), 2)
    ended = pd.concat([merged_away, grids[~kept]])
    return now, ended, {
        "communities": sorted(set(moved) - set(added)), "cut_ids": grids["grid_id"][cut].astype(str).tolist(),
        "ended_ids": ended["grid_id"].astype(str).tolist(), "over": over,
        "added": {code: {"from": frame.attrs["from"], "ids": sorted(frame["grid_id"])}
                  for code, frame in zip(added, new)}}


def _added(grids, place, was, tree, lines, tolerance, grid_size=None):
    """The grids of a community the units layer added (``place``, one row): the
    pieces of the old grids (``was``) in it, each a grid of its own where it is at
    least half of the grid it was cut from (that grid ends from its community),
    the smaller ones joined to the grid beside them along the longest edge (as
    :func:`_join_near`), and a piece that touches none a grid of its own too.
    Returns the rows (each its largest piece's old row, with the community's
    hierarchy columns and no ID), ``attrs["from"]`` the community most of its
    land came from."""
    region = place.geometry.values[0]
    near = tree.query(region, predicate="intersects")
    parts, of = shapely.get_parts(shapely.intersection(was[near], region, grid_size=grid_size), return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > tolerance * shapely.area(region))
    parts, of = parts[keep], near[of[keep]]
    if not len(parts):  # no grid covers it (its grids deleted by hand): land left, for the rebalance to refuse
        rows = grids.iloc[:0].copy()
        rows.attrs["from"] = None
        return rows
    parts = _disjoint(parts, np.ones(len(parts), dtype=bool), grid_size)
    whole = shapely.area(parts) >= 0.5 * shapely.area(was[of])
    if not whole.any():  # a community smaller than half a grid: its largest piece
        whole[np.argmax(shapely.area(parts))] = True
    shapes, source = parts[whole], of[whole]
    left, left_of = parts[~whole], of[~whole]
    while len(left):
        joined = _join_near(left, shapes, lines)
        left, left_of = left[~joined], left_of[~joined]
        if len(left):  # touches no grid of the community yet: the largest becomes one
            i = int(np.argmax(shapely.area(left)))
            shapes, source = np.append(shapes, left[i:i + 1]), np.append(source, left_of[i])
            left, left_of = np.delete(left, i), np.delete(left_of, i)
    rows = grids.iloc[source].copy()
    for column in HIERARCHY_COLUMNS:
        if column in rows.columns:
            rows[column] = place[column].iat[0]
    rows = rows.set_geometry(gpd.GeoSeries(shapes, index=rows.index, crs=grids.crs))
    whence = pd.Series(shapely.area(parts)).groupby(grids["community_code"].astype(str).to_numpy()[of]).sum()
    rows.attrs["from"] = str(whence.idxmax())
    return rows


def _disjoint(geometry, changed, grid_size=None):
    """``geometry`` with each overlap between a ``changed`` outline and another
    taken from the changed one (of two changed, from the later). Cut along a new
    boundary, two grids that share an edge where it runs almost along theirs can
    overlap by a sliver a micrometre wide (the overlay's rounding: 5·10⁻⁶ m² in a
    Cincinnati cut), which the partition check refuses."""
    geometry = geometry.copy()
    rows = np.flatnonzero(changed)
    at, other = shapely.STRtree(geometry).query(geometry[rows], predicate="intersects")
    at = rows[at]
    keep = (at != other) & ~(changed[other] & (other > at))  # the later of two changed loses
    for i, j in zip(at[keep], other[keep]):
        if shapely.area(shapely.intersection(geometry[i], geometry[j], grid_size=grid_size)) > 0:
            rest = shapely.get_parts(shapely.difference(geometry[i], geometry[j], grid_size=grid_size))
            rest = rest[shapely.get_type_id(rest) == 3]  # not the lines a sliver leaves
            geometry[i] = rest[0] if len(rest) == 1 else shapely.multipolygons(rest)
    return geometry


def _given(rows, issued, day, start):
    """``rows`` given to the community each now names: the next IDs there
    (``issued`` is updated), sequences, ``start_date`` ``day``, and index labels
    from ``start`` (after those of the grids that stay)."""
    attrs = dict(rows.attrs)
    rows, _ = _new_ids(rows.assign(grid_id=None), "grid_id", "community_code", 3, issued)
    rows["grid_id"] = rows["grid_id"].astype(str)
    if "sequence" in rows.columns:
        rows["sequence"] = rows["grid_id"].str[-3:].astype("int32")
    rows["start_date"] = day
    rows.index = np.arange(len(rows)) + start
    rows.attrs.update(attrs)
    return rows


def communities_overrun(cells, communities, *, tolerance=1e-6) -> list:
    """The codes of the communities whose cells lie beyond them now (by more than
    ``tolerance`` of a cell's area): a boundary moved in the units layer, or a
    cell drawn beyond its community. :func:`recut` and :func:`follow` cut them
    again."""
    _given_layout(cells, communities, "cells")
    _, _, _, kept, cut = _cut_to_communities(cells, communities, tolerance)
    return sorted(set(cells["community_code"].astype(str)[~kept | cut]))


def cells_relabelled(cells, communities) -> pd.DataFrame:
    """The cells whose ``community_code`` names another community than their
    ``grid_id`` does, while they lie in the one their ID names (a code typed over
    in the attribute table): ``grid_id``, ``community_code`` (what the cell says)
    and ``lies_in`` (its ID's community). Such a cell seems to lie beyond its
    community; cutting it to the code it says would end it for nothing."""
    ids = cells["grid_id"].fillna("").astype(str).to_numpy()
    said = cells["community_code"].fillna("").astype(str).to_numpy()
    named = np.array([i[:len(c)] for i, c in zip(ids, said)], dtype=object)
    places = communities.set_index(communities["community_code"].astype(str)).geometry
    rows = np.flatnonzero((named != said) & pd.Series(named).isin(places.index).to_numpy())
    inner = shapely.point_on_surface(cells.geometry.values[rows])
    lies = shapely.within(inner, places.reindex(named[rows]).to_numpy()) if len(rows) else np.zeros(0, bool)
    rows = rows[lies]
    return pd.DataFrame({"grid_id": ids[rows], "community_code": said[rows], "lies_in": named[rows]})


def communities_merged(cells, communities, *, tolerance=1e-6) -> list:
    """The codes of the communities ``cells`` name that ``communities`` (the units
    layer) does not hold, when each of their cells lies wholly in one it does
    (merged into another): :func:`recut` and :func:`follow` give those cells to it.
    None (``[]``) when some lie in no one community: restore the row."""
    _given_layout(cells, communities, "cells")
    try:
        _, gone, _ = _merged(cells, communities, {}, "", tolerance)
    except InputError:
        return []
    return sorted(set(gone["community_code"].astype(str)))


def _merged(cells, communities, issued, day, tolerance, grid_size=None):
    """The cells of communities the units layer no longer holds (merged into
    another), each given to the community it lies in now, outline and all, with
    that community's next ID and names, starting ``day``: ``(cells now, the rows
    that ended as they were, {old ID: new ID})``. The cells given over take new
    index labels, after the highest. A cell in no one community refuses them."""
    places = communities.set_index(communities["community_code"].astype(str))
    gone = ~cells["community_code"].astype(str).isin(places.index).to_numpy()
    if not gone.any():
        return cells, cells.iloc[:0], {}
    geoms = cells.geometry.values[gone]
    c_idx, p_idx = shapely.STRtree(places.geometry.values).query(geoms, predicate="intersects")
    share = (shapely.area(shapely.intersection(geoms[c_idx], places.geometry.values[p_idx], grid_size=grid_size))
             / shapely.area(geoms[c_idx]))
    whole = share >= 1 - tolerance
    to = np.full(len(geoms), None, dtype=object)
    to[c_idx[whole]] = places.index.to_numpy()[p_idx[whole]]
    if any(t is None for t in to):
        stray = cells[gone].iloc[[i for i, t in enumerate(to) if t is None]]
        raise InputError(f"cells of communities {', '.join(sorted(set(stray['community_code'].astype(str)))[:5])}, "
                         f"which the units layer does not hold, lie in no one community of it (e.g. "
                         f"{stray['grid_id'].iat[0]}): restore the community in the units layer, or draw the "
                         "community they were merged into over them")
    over = cells[gone].copy()
    for column in HIERARCHY_COLUMNS:
        if column in over.columns:
            over[column] = places[column].reindex(to).to_numpy()
    over = _given(over, issued, day, cells.index.max() + 1)
    return (pd.concat([cells[~gone], over]), cells[gone],
            dict(zip(cells["grid_id"][gone].astype(str), over["grid_id"])))


def _cut_to_communities(cells, communities, tolerance, grid_size=None):
    """Each cell of a community whose cells no longer tile it cut to it:
    ``(places, moved, geometry, kept, cut)``: the communities by code, the codes
    of those moved, every cell's outline now, whether it stays (a cell beyond its
    community keeps its largest piece there when that is at least half of it) and
    whether it was cut."""
    places = communities.set_index(communities["community_code"].astype(str))
    codes = cells["community_code"].astype(str)
    unknown = sorted(set(codes) - set(places.index))
    if unknown:
        raise InputError(f"cells of communities {', '.join(unknown[:5])}, which the units layer does not hold: "
                         "restore the community in the units layer, or give the cells another community_code")
    shapely.prepare(places.geometry.values)  # for the covers test below, as check_partition prepares its units
    home = places.geometry.reindex(codes).values
    area = shapely.area(cells.geometry.values)
    inside = shapely.intersection(cells.geometry.values, home, grid_size=grid_size)
    beyond = area - shapely.area(inside) > tolerance * area
    # Or by what the check of the partition names, measured as it measures it (a split
    # line 7 µm beside a cell's edge leaves 7·10⁻⁴ m² of it beyond, under ``tolerance`` of
    # it; area less area inside is float noise of 10⁻⁵ m² on a grid of many vertices).
    doubt = np.flatnonzero(~beyond & ~shapely.covers(home, cells.geometry.values))
    _, stray = measured(shapely.difference, cells.geometry.values[doubt], home[doubt], OVERLAP_TOL)
    beyond[doubt] = stray > OVERLAP_TOL
    covered = pd.Series(shapely.area(inside)).groupby(codes.to_numpy()).sum()
    short = shapely.area(places.geometry.values) - covered.reindex(places.index, fill_value=0).to_numpy()
    moved = sorted(set(codes[beyond]) | set(places.index[short > tolerance * shapely.area(places.geometry.values)]))
    geometry = cells.geometry.values.copy()
    kept = ~beyond
    cut = np.zeros(len(cells), dtype=bool)
    for row in np.flatnonzero(beyond):  # its largest piece inside its community, kept when at least half of it
        parts = shapely.get_parts(inside[row])
        parts = parts[shapely.get_type_id(parts) == 3]  # polygons: a cell touching the boundary leaves lines
        if len(parts) and shapely.area(parts).max() >= 0.5 * area[row]:
            geometry[row] = parts[np.argmax(shapely.area(parts))]
            kept[row] = cut[row] = True
    if cut.any():  # nothing to take from when no cell was cut (every rebalance, every check's hint)
        geometry[kept] = _disjoint(geometry[kept], cut[kept], grid_size)
    return places, moved, geometry, kept, cut


def _land_left(community, outlines, crumbs, grid_size=None):
    """The pieces of ``community`` that none of ``outlines`` covers, larger than
    ``crumbs`` m² (not the overlay's crumbs along the kept edges)."""
    gap = shapely.get_parts(shapely.difference(community, shapely.union_all(outlines), grid_size=grid_size))
    return gap[shapely.area(gap) > crumbs]


def _join_near(pieces, shapes, lines):
    """:func:`_join` ``pieces`` to ``shapes`` across no barrier, then those left
    across one, rather than into no shape. Returns which were joined."""
    joined = _join(pieces, shapes, lines)
    if not joined.all() and len(lines):
        joined[~joined] = _join(pieces[~joined], shapes, np.empty(0, dtype=object))
    return joined


def _join(pieces, shapes, lines):
    """Each of ``pieces`` joined (in place) to the one of ``shapes`` it shares the
    longest edge with, across none of ``lines`` (an edge along a barrier, within
    1 cm of it, joins nothing). Returns which pieces were joined: one that shares
    no edge with any is left, an island of its own."""
    tree = shapely.STRtree(shapes)
    streets = shapely.STRtree(lines)
    joined = np.zeros(len(pieces), dtype=bool)
    for j, piece in enumerate(pieces):
        near = tree.query(piece, predicate="intersects")
        edges = shapely.intersection(shapely.boundary(piece), shapes[near])
        along = lines[streets.query(piece)]
        if len(along):
            edges = shapely.difference(edges, shapely.buffer(shapely.union_all(along), 0.01))
        shared = shapely.length(edges)
        if not len(near) or shared.max() <= 0:
            continue
        at = near[np.argmax(shared)]
        shapes[at] = shapely.union(shapes[at], piece)
        joined[j] = True
    return joined
