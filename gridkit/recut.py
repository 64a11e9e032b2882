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

The ended cells are returned as they were, with ``end_date`` and
``replaced_by``, for the package's ``ended_grids`` layer: an ID is issued once.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .cells import barrier_lines
from .codes import highest_issued
from .errors import InputError, LayoutError
from .grid import unit_grid
from .invariants import check_partition
from .package import _new_ids
from .rebalance import _replaced_by


@dataclass
class Recut:
    """What :func:`recut` returns."""

    cells: gpd.GeoDataFrame  # every cell now: kept (their IDs), cut, and new
    ended: gpd.GeoDataFrame  # the cells that ended, as they were, with end_date and replaced_by
    issued: dict  # the highest sequence issued in each community (gridkit.codes.highest_issued)
    summary: dict  # communities recut; the IDs of the cells cut, ended and new; new pieces merged


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
    day = start_date or _dt.date.today().isoformat()
    issued = highest_issued(cells["grid_id"].astype(str), before=issued)
    places = communities.set_index(communities["community_code"].astype(str))
    codes = cells["community_code"].astype(str)
    unknown = sorted(set(codes) - set(places.index))
    if unknown:
        raise InputError(f"cells of communities {', '.join(unknown[:5])}, which the units layer does not hold: "
                         "restore the community in the units layer, or give the cells another community_code")
    home = places.geometry.reindex(codes).values
    area = shapely.area(cells.geometry.values)
    inside = shapely.intersection(cells.geometry.values, home)
    beyond = area - shapely.area(inside) > tolerance * area
    covered = pd.Series(shapely.area(inside)).groupby(codes.to_numpy()).sum()
    short = shapely.area(places.geometry.values) - covered.reindex(places.index, fill_value=0).to_numpy()
    moved = sorted(set(codes[beyond]) | set(places.index[short > tolerance * shapely.area(places.geometry.values)]))
    if not moved:
        return Recut(cells, cells.iloc[:0].assign(replaced_by=pd.Series(dtype=object)), issued,
                     {"communities": 0, "cut_ids": [], "ended_ids": [], "new_ids": [], "merged": 0})

    lines = barrier_lines(barriers, cells.crs) if barriers is not None else np.empty(0, dtype=object)
    streets = shapely.STRtree(lines)
    geometry = cells.geometry.values.copy()
    kept = ~beyond
    cut = np.zeros(len(cells), dtype=bool)
    new, merged = [], 0
    for code in moved:
        rows = np.flatnonzero(codes.to_numpy() == code)
        for row in rows[beyond[rows]]:  # its largest piece inside its community, kept when at least half of it
            parts = shapely.get_parts(inside[row])
            parts = parts[shapely.get_type_id(parts) == 3]  # polygons: a cell touching the boundary leaves lines
            if len(parts) and shapely.area(parts).max() >= 0.5 * area[row]:
                geometry[row] = parts[np.argmax(shapely.area(parts))]
                kept[row] = True
                cut[row] = True
        mine = rows[kept[rows]]
        gap = shapely.get_parts(shapely.difference(places.geometry[code], shapely.union_all(geometry[mine])))
        gap = gap[shapely.area(gap) > tolerance * cell_area]  # not the crumbs of the overlay along kept edges
        if not len(gap):
            continue
        gap = shapely.union_all(gap)
        # Pieces below the sliver size are merged here, not by unit_grid: with the kept cells
        # too, a strip the boundary moved by joins the cells beside it, not one another.
        pieces = unit_grid(places.loc[[code]].set_geometry([gap], crs=cells.crs).reset_index(drop=True),
                           cell_area=cell_area, shape=shape, barriers=barriers, sliver_ratio=0, start_date=day)
        small = shapely.area(pieces.geometry.values) < sliver_ratio * cell_area
        shapes = np.concatenate([geometry[mine], pieces.geometry.values[~small]])  # the kept cells, then pieces
        tree = shapely.STRtree(shapes)
        joined = np.zeros(len(pieces), dtype=bool)
        for j in np.flatnonzero(small):  # into the cell it shares the longest edge with, across no barrier
            piece = pieces.geometry.values[j]
            near = tree.query(piece, predicate="intersects")
            edges = shapely.intersection(shapely.boundary(piece), shapes[near])
            along = lines[streets.query(piece)]
            if len(along):  # the barriers by it, 1 cm wide: an edge along one joins nothing
                edges = shapely.difference(edges, shapely.buffer(shapely.union_all(along), 0.01))
            shared = shapely.length(edges)
            if not len(near) or shared.max() <= 0:
                continue  # an island of its own: a cell, small as it is
            at = near[np.argmax(shared)]
            shapes[at] = shapely.union(shapes[at], piece)
            joined[j] = True
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
    gone = cells[~kept].copy()
    gone["end_date"] = day
    gone["replaced_by"] = _replaced_by(gone, out)
    report = check_partition(out, communities)
    if not report.ok:
        raise LayoutError("the cells cut again break the partition invariants, so nothing was written: "
                          + "; ".join(report.problems[:5]) + " (please report it with the package)")
    return Recut(out, gone, issued, {"communities": len(moved), "cut_ids": cells["grid_id"][cut].tolist(),
                                     "ended_ids": gone["grid_id"].tolist(), "new_ids": sorted(fresh["grid_id"]),
                                     "merged": merged})
