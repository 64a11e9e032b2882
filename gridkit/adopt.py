"""Adopt a grid layer drawn elsewhere as a grid package.

Most cities drew their unit grids years ago, on another platform, and keep them
as a Shapefile or a GeoPackage of cells with a 15-digit grid ID each. The ID holds
the hierarchy (county 6 digits, street 9, community 12, then a 3-digit sequence),
so :func:`adopted_grid` builds the cells and the communities of a grid package from
the cells alone: each community is the union of its cells, unless the communities'
own boundaries are given, against which the cells are then checked. The package
then takes a component catalogue, locates and routes, and is checked, as a layout
gridkit made.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import codes
from .errors import CodeError, InputError, checked_number, near_column
from .grid import CELL_COLUMNS
from .invariants import NOISE_M2, multipart_cells
from .io import describe_feature, repair_polygons, require_frame, unprojected, unprojected_message
from .units import HIERARCHY_COLUMNS, choose_metric_crs, given_metric_crs

__all__ = ["adopted_grid", "adopted_micro_grids", "community_boundaries", "fitted_cells", "ID_CANDIDATES",
           "MICRO_ID_CANDIDATES", "NAME_CANDIDATES"]

log = logging.getLogger(__name__)

#: Columns that usually hold a cell's grid ID, tried in this order when no
#: ``id_field`` is given (``WGBM`` is 网格编码 in pinyin initials, as many platforms name it).
ID_CANDIDATES = ("grid_id", "GRID_ID", "WGBM", "wgbm", "网格编码", "网格编号", "WGBH", "wgbh", "grid_code",
                 "GRID_CODE", "gridcode", "GRIDCODE")
#: Columns that usually hold a micro-grid's 17-digit ID (``WWGBM``: 微网格编码 in pinyin initials).
MICRO_ID_CANDIDATES = ("micro_id", "MICRO_ID", "WWGBM", "wwgbm", "微网格编码", "微网格编号", "WWGBH", "wwgbh")
#: Columns that usually hold the names of a cell's community, street and county
#: (gridkit's own, their Shapefile short names, Chinese, pinyin initials).
NAME_CANDIDATES = {
    "community_name": ("community_name", "comm_name", "社区名称", "社区", "SQMC", "sqmc", "communit_1", "community_"),
    "street_name": ("street_name", "strt_name", "街道名称", "街道", "JDMC", "jdmc", "street_nam"),
    "county_name": ("county_name", "cnty_name", "区县名称", "区县", "QXMC", "qxmc", "county_nam"),
}
#: gridkit's columns as GDAL cuts them to a Shapefile's 10 characters, when a
#: package's layer is saved as one in QGIS (`gridkit export` gives the short names
#: of :data:`gridkit.export.SHAPEFILE_NAMES` instead): the first 10 characters, or,
#: where two would clash, the first 8 and "_1" (``community_code`` → ``community_``,
#: ``community_name`` → ``communit_1``). The names are found among
#: :data:`NAME_CANDIDATES`; a candidate whose every value is digits is a code, not a name.
GDAL_CUTS = {"community_": "community_code", "communit_1": "community_name", "street_cod": "street_code",
             "street_nam": "street_name", "county_cod": "county_code", "county_nam": "county_name",
             "provisiona": "provisional", "polsby_pop": "polsby_popper", "flag_detai": "flag_detail",
             "crosses_ba": "crosses_barrier", "replaced_b": "replaced_by", "parent_cod": "parent_code",
             "assign_sta": "assign_status", "assign_dis": "assign_distance_m", "convert_no": "convert_note"}
#: gridkit's own columns, and their Shapefile short names (gridkit's and GDAL's):
#: taken from the layer or made anew, never kept twice.
_OWN = {*CELL_COLUMNS, "comm_code", "strt_code", "cnty_code", "provisionl",
        *(cut for cut, name in GDAL_CUTS.items() if name in CELL_COLUMNS)}
_SHOWN = 10
PINHOLE_M2 = 1e-6  # a hole in a community made of its cells, smaller than this, is float noise (check's overlap_tol)
#: Each level's name column and the code column it names.
_LEVELS = (("community_name", "community_code"), ("street_name", "street_code"), ("county_name", "county_code"))


def adopted_grid(gdf, *, id_field=None, name_fields=None, communities=None, metric_crs=None,
                 start_date=None, snap=None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The cells and communities of a grid layer drawn elsewhere, for a grid package.

    Parameters
    ----------
    gdf : GeoDataFrame
        The cells, one polygon each, with a CRS (:func:`gridkit.read_vector`).
    id_field : str, optional
        The column of 15-digit grid IDs (default: the first of
        :data:`ID_CANDIDATES` present, else the first column whose every value is
        15 digits). Numbers are read as their digits.
    name_fields : dict, optional
        ``{"community_name": column, "street_name": …, "county_name": …}``: where
        the names are (default: :data:`NAME_CANDIDATES`). A level's name is the one
        most of its cells give.
    communities : GeoDataFrame, optional
        The communities' own boundaries (:func:`gridkit.unit_hierarchy` of
        community polygons with 12-digit codes): they become the package's
        communities, and their names win. A community the cells name and this
        lacks is made from its cells, as every community is without it.
    metric_crs : optional
        The projected CRS to work in (default: the communities', else
        :func:`gridkit.units.choose_metric_crs`).
    start_date : str, optional
        ``YYYY-MM-DD`` for cells without a ``start_date`` column (default: today).
    snap : float, optional
        Metres: clean the cells into a coverage first (:func:`snapped_cells`), for
        a layer whose neighbours were digitised apart and overlap or leave slivers
        along their shared edges.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
        The cells with :data:`gridkit.grid.CELL_COLUMNS` and the layer's other
        columns, ordered by grid ID (``attrs["summary"]`` counts what was done), and
        the communities with :data:`gridkit.units.HIERARCHY_COLUMNS`; both in the
        metric CRS. Check them with :func:`gridkit.check_partition`: the layer is
        taken as it is, overlaps and gaps included.

    Raises
    ------
    CodeError
        A cell without a well-formed grid ID: every one is named (up to ten),
        by its feature number in the file.

    Examples
    --------
    >>> import shapely
    >>> layer = gpd.GeoDataFrame({"WGBM": [110101001001002, 110101001001001], "SQMC": ["A", "A"]},
    ...     geometry=[shapely.box(100, 0, 200, 100), shapely.box(0, 0, 100, 100)], crs=4548)
    >>> cells, communities = adopted_grid(layer, start_date="2026-01-01")
    >>> cells[["grid_id", "sequence", "community_name"]].values.tolist()
    [['110101001001001', 1, 'A'], ['110101001001002', 2, 'A']]
    >>> communities["community_code"].tolist(), communities.area.tolist()
    (['110101001001'], [20000.0])
    """
    t0 = time.perf_counter()
    require_frame(gdf, "the grid layer", fix="read it with gridkit.read_vector()", one=True)
    if gdf.crs is None:
        raise InputError(f"{_source(gdf)}: the cells have no CRS; read them with read_vector(path, crs=...)")
    if not len(gdf):
        raise InputError(f"{_source(gdf)}: no cells to adopt")
    start_date = codes.day_text(start_date)  # for the cells without one
    id_field = _id_field(gdf, id_field)
    ids = _grid_id_text(gdf[id_field])
    _refuse_bad_ids(gdf, ids, id_field)
    gdf, repaired = repair_polygons(gdf.reset_index(drop=True), what=f"{_source(gdf)} (cells)")
    metric = (given_metric_crs(metric_crs, gdf) if metric_crs is not None else
              pyproj.CRS(communities.crs) if communities is not None else choose_metric_crs(gdf))
    projected = gdf.to_crs(metric)
    lost = unprojected(projected.geometry.values)
    if lost.any():
        raise InputError(unprojected_message(gdf, gdf.geometry.values, lost, metric, "cells",
                                             "fix or remove them, or give the cells' real CRS (--crs)"))
    names = _names(gdf, name_fields)
    order = np.argsort(ids, kind="stable")
    ids, geoms = ids[order], projected.geometry.values[order]
    snapped = None
    if snap:
        geoms, snapped = snapped_cells(geoms, ids, snap, source=_source(gdf))
        if communities is not None:
            geoms, fitted = fitted_cells(geoms, ids, communities.to_crs(metric), snap, source=_source(gdf))
            snapped.update(fitted)
    names = {level: (field, values[order]) for level, (field, values) in names.items()}
    community = np.array([i[:12] for i in ids], dtype=object)
    provisional = {code: codes.is_provisional_code(code) for code in set(community)}
    cells = gpd.GeoDataFrame({
        "grid_id": ids,
        "sequence": np.array([int(i[12:]) for i in ids], dtype="int32"),
        "community_code": community,
        "community_name": "",
        "street_code": np.array([i[:9] for i in ids], dtype=object),
        "street_name": "",
        "county_code": np.array([i[:6] for i in ids], dtype=object),
        "county_name": "",
        "provisional": np.array([provisional[c] for c in community], dtype=bool),
        "area_m2": np.round(shapely.area(geoms), 2),
        "start_date": _dates(gdf, "start_date", order, start_date),
        "end_date": _dates(gdf, "end_date", order, None),
        "notes": _text(gdf["notes"])[order] if "notes" in gdf.columns else "",
    }, geometry=gpd.GeoSeries(geoms, crs=metric))
    made = _communities(cells, names, communities)
    for level, code in _LEVELS:
        cells[level] = cells[code].map(made.drop_duplicates(code).set_index(code)[level]).fillna("")
    kept = [c for c in gdf.columns if c != gdf.geometry.name and c != id_field and c not in _OWN
            and c not in {field for field, _ in names.values()}]
    kept_frame = _long_names(gdf[kept].iloc[order].reset_index(drop=True))
    kept = kept_frame.columns.tolist()
    cells = pd.concat([cells[CELL_COLUMNS], kept_frame, cells.geometry], axis=1)
    cells = gpd.GeoDataFrame(cells, geometry="geometry", crs=metric)
    area = cells["area_m2"].to_numpy()
    cells.attrs["summary"] = {
        "adopted": True, "id_field": id_field, "cells": len(cells),
        "communities": len(made), "streets": int(made["street_code"].nunique()),
        "counties": int(made["county_code"].nunique()),
        "communities_from_cells": int(made.attrs["from_cells"]),
        "communities_given": 0 if communities is None else len(communities),
        "name_fields": {level: field for level, (field, _) in names.items()},
        "repaired": repaired, "kept_columns": kept, "metric_crs": metric.to_string(),
        "source_crs": gdf.attrs.get("source_crs"),
        "area_mean": float(area.mean()), "area_min": float(area.min()), "area_max": float(area.max()),
        "multipart": multipart_cells(cells), "snapped": snapped,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    log.info("adopted %d cells in %d communities in %.2f s", len(cells), len(made), cells.attrs["summary"]["seconds"])
    return cells, made


def snapped_cells(geoms, ids, width, *, source="the grid", cell="cell") -> tuple[np.ndarray, dict]:
    """``geoms`` cleaned into a coverage by GEOS's coverage cleaner
    (:func:`shapely.coverage_clean`): vertices within ``width`` metres snap
    together, each overlap goes to the cell it shares the longest border with, and
    gaps narrower than ``width`` join the cell beside them along their longest border.

    Refuses (naming the cells) when a cell would vanish, or change by more area than
    its boundary moved ``width`` all round (``width`` × perimeter): a cell drawn
    over another, or narrower than ``width`` (its own edges snap together), is not
    edges digitised apart, and the user decides. (GEOS 3.14.1's
    cleaner also drops a whole cell now and then, one that overlaps little: in
    Dongcheng's cells shrunk by 0.55 m, one of 4,278 at 1 and 1.2 m, none at 0.5 or
    1.5 m; in Changping's 134,773 with each vertex moved 0.5 m, one at 0.9 and 1 m,
    none at 1.1 m. The message then suggests a width 10 % larger.) ``cell`` is what
    the refusal calls one (``"micro-grid"``).

    Returns the cells and what was done: ``{"width_m", "overlaps", "changed",
    "largest_m2", "largest"}``.

    Examples
    --------
    >>> cells, done = snapped_cells([shapely.box(0, 0, 100, 100), shapely.box(99.6, 0, 200, 100)],
    ...                             np.array(["A", "B"]), 1.0)
    >>> shapely.area(cells).tolist(), done["overlaps"], done["largest"]
    ([10000.0, 10000.0], 1, 'B')
    """
    from .invariants import overlapping_pairs

    checked_number(width, "the snapping width", "metres")
    geoms = np.asarray(geoms, dtype=object)
    a, b, shared, _ = overlapping_pairs(geoms)
    overlaps = len(a)
    under = (np.bincount(a, shared, len(geoms)) + np.bincount(b, shared, len(geoms))) / shapely.area(geoms)
    cleaned = shapely.coverage_clean(geoms, gap_width=width, snapping_distance=width)
    change = shapely.area(shapely.symmetric_difference(geoms, cleaned))
    wrong = np.flatnonzero(shapely.is_empty(cleaned) | (change > width * shapely.length(geoms)))
    if len(wrong):
        def reshaped(i):
            if not shapely.is_empty(cleaned[i]):
                return f"{ids[i]}: {change[i]:,.0f} m² of its {shapely.area(geoms[i]):,.0f} m² would change"
            if under[i] > 0.5:
                return f"{ids[i]} lies {min(under[i], 1):.0%} under other {cell}s and would vanish"
            thick = 2 * shapely.length(shapely.maximum_inscribed_circle(geoms[i], width / 100))
            if thick < width:  # its own edges snap together
                return f"{ids[i]} is {thick:.2g} m across at its widest, narrower than {width:g} m, and would vanish"
            # GEOS 3.14.1 drops such a cell at some widths
            return (f"{ids[i]} would vanish, though it lies only {under[i]:.0%} under other {cell}s (a fault of "
                    f"GEOS's cleaner at some widths: try {width * 1.1:.2g})")

        _refuse_reshaped(source, f"snapping within {width:g} m", wrong, reshaped, width,
                         f"a {cell} drawn over another, or inside it", cell)
    largest = int(np.argmax(change)) if len(change) else 0
    return cleaned, {"width_m": float(width), "overlaps": overlaps, "changed": int((change > 1e-6).sum()),
                     "largest_m2": float(change[largest]) if len(change) else 0.0,
                     "largest": str(ids[largest]) if len(change) else None}


def fitted_cells(geoms, ids, communities, width, *, source="the grid", code_field="community_code",
                 names=("community", "communities", "cell")) -> tuple[np.ndarray, dict]:
    """``geoms`` with their edges within ``width`` metres of their community's
    boundary moved onto it: the slivers of a cell beyond its community, each within
    ``width`` of the boundary, are cut off, and the gaps between the cells and the
    boundary, within ``width`` of both, join the cell beside them along an edge (in
    grid-ID order where two reach a gap). ``ids`` are sorted; ``communities`` has
    ``code_field`` (the first digits of ``ids``) and polygons in the cells' CRS, and
    cells of a community it lacks are left as they are. Micro-grids fit their cells
    so (``code_field="grid_id", names=("grid", "grids", "micro-grid")``: the parent,
    the parents and the child, as the refusal names them).

    :func:`snapped_cells` cleans the cells among themselves: the edges they then
    share along a community's boundary lie where the cells put them, up to
    ``width`` off the boundary the communities' own file draws, and the check finds
    a sliver there for every cell. Only the band within ``width`` of the boundary
    is touched: a cell reaching farther into its neighbour, or a wider gap, stays
    as drawn for the check to name. Refuses, as :func:`snapped_cells` does, a
    cell that would vanish (drawn beyond its community, within ``width`` of it) or
    change by more than ``width`` × its perimeter.

    Returns the cells and what was done: ``{"fitted", "fitted_m2"}``, the cells
    changed and the area that moved.

    Examples
    --------
    >>> cells, done = fitted_cells([shapely.box(0, 0, 50.4, 100), shapely.box(50.4, 0, 99.5, 100)],
    ...                            np.array(["110101001001001", "110101001001002"]),
    ...                            gpd.GeoDataFrame({"community_code": ["110101001001"]},
    ...                                             geometry=[shapely.box(0, 0, 100, 100)]), 1.0)
    >>> np.round(shapely.area(cells), 6).tolist(), done["fitted"]
    ([5040.0, 4960.0], 1)
    """
    checked_number(width, "the snapping width", "metres")
    geoms = np.array(geoms, dtype=object)
    fitted, touched = geoms.copy(), []
    unit_of = dict(zip(communities[code_field], communities.geometry.values))
    digits = len(next(iter(unit_of), ""))
    community = np.array([i[:digits] for i in ids], dtype=object)
    starts = np.r_[0, np.flatnonzero(community[1:] != community[:-1]) + 1, len(ids)]
    for start, stop in zip(starts[:-1], starts[1:]):
        unit = unit_of.get(community[start])
        if unit is None:
            continue
        band = shapely.buffer(shapely.boundary(unit), width, quad_segs=2)
        near = start + np.flatnonzero(shapely.intersects(geoms[start:stop], band))
        if not len(near):
            continue
        touched.append(near)
        current = geoms[near].copy()
        shapely.prepare(unit)
        over = np.flatnonzero(~shapely.covers(unit, current))
        current[over] = [_within_band_cut(g, unit, band) for g in current[over]]
        inner = shapely.intersection(band, unit)
        gaps = shapely.get_parts(shapely.difference(inner, shapely.union_all(current)))
        gaps = shapely.STRtree(gaps[shapely.area(gaps) > NOISE_M2])  # only a cell near one has any to take
        tree = shapely.STRtree(current)
        for k, i in enumerate(near):
            if not len(gaps.query(current[k], predicate="dwithin", distance=width)):
                fitted[i] = current[k]
                continue
            # What lies within reach of the cell, in the band and its community,
            # and in no other cell (the cells before it fitted already) is a gap it
            # takes. The reach overlaps the cell, so the union has no seam; a piece
            # meeting it at a corner only stays a gap, for a later cell to take.
            reach = shapely.intersection(shapely.buffer(current[k], width, quad_segs=2), inner)
            # A cell fitted before grew up to width beyond the box the tree holds for it.
            others = np.setdiff1d(tree.query(shapely.box(*(np.array(reach.bounds) + [-width, -width, width, width]))),
                                  [k])
            grown = shapely.union(current[k], shapely.difference(reach, shapely.union_all(current[others])))
            parts = shapely.get_parts(grown)
            if len(parts) > 1:
                parts = parts[shapely.area(shapely.intersection(parts, current[k])) > 0]
                grown = parts[0] if len(parts) == 1 else shapely.MultiPolygon(list(parts))
            current[k] = fitted[i] = grown
    change = np.zeros(len(geoms))
    touched = np.concatenate(touched) if touched else np.array([], dtype=int)
    change[touched] = shapely.area(shapely.symmetric_difference(geoms[touched], fitted[touched]))
    wrong = np.flatnonzero(shapely.is_empty(fitted) | (change > width * shapely.length(geoms)))
    if len(wrong):
        def reshaped(i):
            if shapely.is_empty(fitted[i]):
                return (f"{ids[i]} lies beyond its {names[0]} {ids[i][:digits]}, within {width:g} m of it, and would "
                        "vanish")
            return f"{ids[i]}: {change[i]:,.0f} m² of its {shapely.area(geoms[i]):,.0f} m² would change"

        _refuse_reshaped(source, f"fitting to the {names[1]}' boundaries within {width:g} m", wrong, reshaped,
                         width, f"a {names[2]} drawn in the wrong {names[0]}", names[2])
    return fitted, {"fitted": int((change > 1e-6).sum()), "fitted_m2": float(change.sum())}


def _within_band_cut(cell, unit, band):
    """``cell`` without the pieces of it beyond ``unit`` that lie wholly in ``band``:
    a sliver over the boundary, not a cell drawn deep into the neighbour (which is
    left whole, for the check to name, rather than cut into an island)."""
    beyond = shapely.get_parts(shapely.difference(cell, unit))
    slivers = beyond[shapely.area(shapely.difference(beyond, band)) < 1e-6]
    return shapely.difference(cell, shapely.union_all(slivers)) if len(slivers) else cell


def _refuse_reshaped(source, doing, wrong, reshaped, width, instead, cell="cell"):
    """Raise the refusal of :func:`snapped_cells` and :func:`fitted_cells`: the
    cells ``wrong`` (indices), each said by ``reshaped``, up to ten."""
    raise InputError(
        f"{source}: {doing} would reshape {len(wrong):,} {cell}(s) beyond their edges: "
        + "; ".join(reshaped(i) for i in wrong[:_SHOWN]) + (" …" if len(wrong) > _SHOWN else "")
        + f". A {cell} that would vanish, or change by more than its boundary moved {width:g} m all round, is not "
        f"a matter of edges digitised apart: look at it in QGIS ({instead}), or snap within another width"
    )


def adopted_micro_grids(gdf, cells, *, id_field=None, snap=None) -> gpd.GeoDataFrame:
    """The micro-grids (微网格) of a layer drawn elsewhere, nested in adopted ``cells``.

    Zhejiang's platforms divide each grid into micro-grids of 20–50 households and
    keep them as a second layer. A micro-grid's ID is its grid's 15-digit ID and a
    2-digit sequence from 01 (as ``grid households --micro`` numbers them), so the
    ID alone names the cell that holds it.

    Parameters
    ----------
    gdf : GeoDataFrame
        The micro-grids, one polygon each, with a CRS (:func:`gridkit.read_vector`).
    cells : GeoDataFrame
        :func:`adopted_grid`'s cells: the micro-grids are projected to their CRS.
    id_field : str, optional
        The column of 17-digit micro IDs (default: the first of
        :data:`MICRO_ID_CANDIDATES` present, else the first column whose every value
        is 17 digits). Numbers are read as their digits.
    snap : float, optional
        Metres: clean the micro-grids into a coverage (:func:`snapped_cells`), then
        move their edges within ``snap`` of their cell's boundary onto it
        (:func:`fitted_cells`), for micro-grids digitised apart, or drawn in cells
        that :func:`adopted_grid`'s ``snap`` has since moved.

    Returns
    -------
    GeoDataFrame
        ``micro_id``, ``grid_id`` and the layer's other columns, ordered by micro
        ID, in the cells' CRS (``attrs["summary"]`` counts them). Check them with
        ``check_micro_grids(micro, cells)`` (:mod:`gridkit.invariants`).

    Raises
    ------
    CodeError
        A micro-grid without a well-formed micro ID, or whose grid is not among the
        cells: every one named (up to ten), by its feature number in the file.

    Examples
    --------
    >>> import shapely
    >>> layer = gpd.GeoDataFrame({"WGBM": [110101001001001]}, geometry=[shapely.box(0, 0, 100, 100)], crs=4548)
    >>> cells, _ = adopted_grid(layer, start_date="2026-01-01")
    >>> micro = gpd.GeoDataFrame({"WWGBM": ["11010100100100102", "11010100100100101"]},
    ...     geometry=[shapely.box(50, 0, 100, 100), shapely.box(0, 0, 50, 100)], crs=4548)
    >>> adopted_micro_grids(micro, cells)[["micro_id", "grid_id"]].values.tolist()
    [['11010100100100101', '110101001001001'], ['11010100100100102', '110101001001001']]
    """
    require_frame(gdf, "the micro-grids", fix="read them with gridkit.read_vector()")
    require_frame(cells, "the cells", ("grid_id",), fix="adopted_grid() makes them")
    source = _source(gdf, "micro-grid")
    if gdf.crs is None:
        raise InputError(f"{source}: the micro-grids have no CRS; read them with read_vector(path, crs=...)")
    if not len(gdf):
        raise InputError(f"{source}: no micro-grids to adopt")
    id_field = _id_field(gdf, id_field, MICRO_ID_CANDIDATES, 17, "micro IDs", "--micro-id-field")
    ids = _grid_id_text(gdf[id_field])
    grid_ids = pd.Series(ids).str[:15].to_numpy(dtype=object)
    own = _grid_id_text(gdf["grid_id"]) if "grid_id" in gdf.columns and id_field != "grid_id" else grid_ids
    malformed = codes.malformed_micro_ids(ids)
    unknown = ~pd.Series(grid_ids).isin(cells["grid_id"]).to_numpy()
    elsewhere = (own != "") & (own != grid_ids)
    problems = {}  # feature → its first problem, in this order
    for i in np.flatnonzero(malformed | unknown | elsewhere):
        micro_id = ids[i]
        problems[i] = ("no micro ID" if not micro_id else
                       f"micro ID {micro_id!r} is not {codes.MICRO_ID_FORM}" if malformed[i] else
                       f"micro ID {micro_id!r}: grid {grid_ids[i]} is not among the cells" if unknown[i] else
                       f"micro ID {micro_id!r} is not under its grid_id {own[i]}")
    if problems:
        shown = [f"{describe_feature(gdf, i)}: {problem}" for i, problem in list(problems.items())[:_SHOWN]]
        raise CodeError(
            f"{source}: {len(problems):,} of {len(gdf):,} micro-grids have no well-formed micro ID of an adopted "
            f"cell in {id_field!r}: " + "; ".join(shown) + (" …" if len(problems) > _SHOWN else "")
            + ". A micro ID is its grid's 15-digit ID and a 2-digit sequence from 01: fix these in the file, name "
            "the column that holds them (--micro-id-field), or read only the micro-grids of the cells adopted "
            "(--micro-where).")
    gdf, repaired = repair_polygons(gdf.reset_index(drop=True), what=f"{source} (micro-grids)")
    projected = gdf.to_crs(cells.crs)
    lost = unprojected(projected.geometry.values)
    if lost.any():
        raise InputError(unprojected_message(gdf, gdf.geometry.values, lost, cells.crs, "micro-grids",
                                             "fix or remove them, or give the micro-grids' real CRS (--micro-crs)"))
    order = np.argsort(ids, kind="stable")
    kept = [c for c in gdf.columns if c != gdf.geometry.name and c not in (id_field, "micro_id", "grid_id")]
    kept_frame = _long_names(gdf[kept].iloc[order].reset_index(drop=True))
    kept = kept_frame.columns.tolist()
    micro = pd.concat([pd.DataFrame({"micro_id": ids[order], "grid_id": grid_ids[order]}), kept_frame], axis=1)
    geoms, snapped = projected.geometry.values[order], None
    if snap:
        geoms, snapped = snapped_cells(geoms, ids[order], snap, source=source, cell="micro-grid")
        geoms, fitted = fitted_cells(geoms, ids[order], cells, snap, source=source, code_field="grid_id",
                                     names=("grid", "grids", "micro-grid"))
        snapped.update(fitted)
    micro = gpd.GeoDataFrame(micro, geometry=gpd.GeoSeries(geoms, crs=cells.crs))
    micro.attrs["summary"] = {"micro_grids": len(micro), "id_field": id_field, "repaired": repaired,
                              "grids_with_micro": int(pd.unique(grid_ids).size), "kept_columns": kept,
                              "snapped": snapped}
    return micro


def community_boundaries(gdf, *, code_field, name_field=None, metric_crs=None) -> gpd.GeoDataFrame:
    """The communities frame of community polygons with 12-digit codes, to adopt a
    grid layer within (:func:`adopted_grid`'s ``communities``): a file of streets or
    counties is refused, since the cells' own IDs already give those levels.

    The frame is :func:`gridkit.unit_hierarchy`'s: codes checked (provisional ones
    too, as the grid IDs may carry them), overlaps between communities resolved,
    names (and the street and county names beside them) kept.
    """
    from .units import unit_hierarchy

    if code_field not in gdf.columns:
        raise InputError(f"{_source(gdf)}: no column {code_field!r}{near_column(code_field, gdf.columns)} for the "
                         "communities' codes; "
                         f"columns are: {_columns(gdf)}")
    lengths = pd.Series(_grid_id_text(gdf[code_field])).str.len()
    if (lengths != 12).any():
        i = int(np.flatnonzero((lengths != 12).to_numpy())[0])
        raise InputError(f"{_source(gdf)}: the communities' boundaries need 12-digit community codes in "
                         f"{code_field!r}; {describe_feature(gdf, i)} has {gdf[code_field].iloc[i]!r}. Give the "
                         "communities' polygons (streets and counties come from the grid IDs), or adopt without them")
    return unit_hierarchy(gdf, code_field=code_field, name_field=name_field, metric_crs=metric_crs, provisional=True)


def _source(gdf, layer="grid"):
    return gdf.attrs.get("source_path") or f"the {layer} layer"


def _columns(gdf) -> str:
    """'A, B': the layer's columns, for a message about one that is not there."""
    return ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)


def _id_field(gdf, id_field, candidates=ID_CANDIDATES, digits=15, what="grid IDs", option="--id-field"):
    """The column of IDs: ``id_field``, else a usual name (``candidates``), else the
    first whose every value has ``digits`` digits."""
    source = _source(gdf, "grid" if digits == 15 else "micro-grid")
    if id_field is not None:
        if id_field not in gdf.columns:
            raise InputError(f"{source}: no column {id_field!r}{near_column(id_field, gdf.columns)} for the {what}; "
                             f"columns are: {_columns(gdf)}")
        return id_field
    found = next((c for c in candidates if c in gdf.columns), None)
    if found is None:
        found = next((c for c in gdf.columns if c != gdf.geometry.name
                      and pd.Series(_grid_id_text(gdf[c])).str.fullmatch(rf"\d{{{digits}}}").all()), None)
    if found is None:
        raise InputError(f"{source}: no column of {digits}-digit {what} found; name it ({option}). "
                         f"Columns are: {_columns(gdf)}")
    return found


def _grid_id_text(values) -> np.ndarray:
    """IDs as text: numbers (a Shapefile's numeric field) as their digits, text stripped (full-width
    digits as ASCII: :func:`codes.half_width`), missing as ''."""
    values = pd.Series(values)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return codes.codes_as_text(pd.DataFrame({"id": values}), ["id"])["id"].fillna("").to_numpy(dtype=object)
    return codes.half_width_column(pd.Series(_text(values), dtype=object)).to_numpy(dtype=object)


def _refuse_bad_ids(gdf, ids, id_field):
    """Every cell needs a well-formed grid ID: those without one, named, in one error."""
    wrong = codes.malformed_grid_ids(ids)
    if not wrong.any():
        return
    shown = np.flatnonzero(wrong)[:_SHOWN]
    problems = [f"{describe_feature(gdf, i)}: {_id_problem(ids[i])}" for i in shown]
    n = int(wrong.sum())
    raise CodeError(
        f"{_source(gdf)}: {n:,} of {len(gdf):,} cells have no well-formed grid ID in {id_field!r}: "
        + "; ".join(problems) + (" …" if n > _SHOWN else "")
        + ". A grid ID is the community's 12-digit code and a 3-digit sequence from 001: fix these in the file, "
        "or name the column that holds them (--id-field).")


def _id_problem(grid_id) -> str:
    """What is wrong with ``grid_id`` (one found wrong), in :func:`gridkit.codes.parse_grid_id`'s words."""
    if not grid_id:
        return "no grid ID"
    try:
        codes.parse_grid_id(grid_id)
    except CodeError as exc:
        return str(exc)
    return f"grid ID {grid_id!r} is not well-formed"


def _names(gdf, name_fields) -> dict:
    """level → (column, names as text) for the levels whose names the layer holds."""
    name_fields = name_fields or {}
    unknown = set(name_fields) - set(NAME_CANDIDATES)
    if unknown:
        raise InputError(f"name_fields: no level {sorted(unknown)}; the levels are {', '.join(NAME_CANDIDATES)}")
    out = {}
    for level, candidates in NAME_CANDIDATES.items():
        field = name_fields.get(level)
        if field is not None and field not in gdf.columns:
            raise InputError(f"{_source(gdf)}: no column {field!r}{near_column(field, gdf.columns)} for the "
                             f"{level.replace('_', ' ')}s; "
                             f"columns are: {_columns(gdf)}")
        field = field or next((c for c in candidates if c in gdf.columns and not _all_digits(gdf[c])), None)
        if field is not None:
            out[level] = (field, _text(gdf[field]))
    return out


def _all_digits(values) -> bool:
    """Whether every value given is a number or digits: codes, which no column of names holds."""
    text = _text(values)
    given = text[text != ""]
    return bool(len(given)) and all(v.isdigit() for v in given)


def _text(values) -> np.ndarray:
    """Values as stripped text, missing as ''."""
    return np.array(["" if v is None or v != v else str(v).strip() for v in values], dtype=object)


def _dates(gdf, column, order, default):
    """A date column of the layer as ISO text (in ``order``), or ``default`` for every cell."""
    if column not in gdf.columns:
        return pd.Series([default] * len(gdf), dtype=object)
    values = gdf[column].iloc[order]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").astype(object).where(values.notna(), None).to_numpy()
    return np.array([None if v is None or v != v or v == "" else str(v)[:10] for v in values], dtype=object)


def _most_common(codes_, names) -> pd.Series:
    """code → the name most of its rows give (on a tie, the first in sorted order); codes with none left out."""
    frame = pd.DataFrame({"code": codes_, "name": names})
    frame = frame[frame["name"] != ""]
    if frame.empty:
        return pd.Series(dtype=object)
    counts = frame.groupby(["code", "name"], sort=True).size().reset_index(name="n")
    return counts.sort_values(["code", "n"], ascending=[True, False], kind="stable").drop_duplicates("code") \
        .set_index("code")["name"]


def _long_names(frame):
    """``frame`` with gridkit's columns named as in a package again where a
    Shapefile had cut them (``polsby_pp`` → ``polsby_popper``: the names `gridkit
    export` gives, :data:`gridkit.export.SHAPEFILE_NAMES`; ``polsby_pop``: GDAL's,
    :data:`GDAL_CUTS`), unless the long name is there too: a layout exported to a
    Shapefile and adopted is the package it was."""
    from .export import SHAPEFILE_NAMES

    present = set(frame.columns)
    cuts = {**{short: long for long, short in SHAPEFILE_NAMES.items()}, **GDAL_CUTS}
    return frame.rename(columns={short: long for short, long in cuts.items()
                                 if short in present and long not in present})


def unions(parts) -> list:
    """The union of each array of polygons in ``parts``, on two threads when they are
    many (GEOS runs without the GIL): Changping's 134,773 cells in 192 communities,
    1.7 s instead of 2.3 s (measured beside a test run). ``union_all``, not the faster coverage union: a
    layer drawn elsewhere has overlaps and float-noise gaps, which that one
    assumes away."""
    if sum(len(p) for p in parts) < 20_000:
        return [_without_pinholes(shapely.union_all(p)) for p in parts]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gridkit-adopt") as pool:
        return list(pool.map(lambda p: _without_pinholes(shapely.union_all(p)), parts))


def _without_pinholes(union, max_area: float = PINHOLE_M2):
    """``union`` without its holes of less than ``max_area`` m²: the float-noise gaps
    between cells that met along an edge. Cambridge's cells, exported to a Shapefile
    and adopted, leave 349 such holes in their 13 communities (1e-8 m² at most), and
    against them GEOS found 17 cells wholly outside the community they tile (the
    difference gave the whole cell)."""
    polygons = shapely.get_parts(union)
    kept = [shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.area(shapely.Polygon(r)) >= max_area])
            for p in polygons]
    if all(len(k.interiors) == len(p.interiors) for k, p in zip(kept, polygons)):
        return union
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def _communities(cells, names, given) -> gpd.GeoDataFrame:
    """The communities: ``given``'s where it has them, the union of their cells for the others."""
    codes_ = cells["community_code"].to_numpy()
    wanted = pd.unique(codes_)
    given = None if given is None else given.to_crs(cells.crs)
    have = set() if given is None else set(given["community_code"])
    missing = [c for c in wanted if c not in have]
    rows = cells[cells["community_code"].isin(missing)]
    starts = np.r_[0, np.flatnonzero(rows["community_code"].to_numpy()[1:] != rows["community_code"].to_numpy()[:-1])
                   + 1] if len(rows) else np.array([], dtype=int)
    parts = np.split(rows.geometry.values, starts[1:]) if len(rows) else []
    made = gpd.GeoDataFrame({
        "community_code": rows["community_code"].to_numpy()[starts],
        "street_code": rows["street_code"].to_numpy()[starts],
        "county_code": rows["county_code"].to_numpy()[starts],
        "provisional": rows["provisional"].to_numpy()[starts],
    }, geometry=gpd.GeoSeries(unions(parts), crs=cells.crs))
    for level, _ in _LEVELS:
        made[level] = ""
    frame = made if given is None else pd.concat([given[HIERARCHY_COLUMNS + ["geometry"]], made], ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=cells.crs)
    for level, code in _LEVELS:
        from_cells = (_most_common(cells[code].to_numpy(), names[level][1]) if level in names
                      else pd.Series(dtype=object))
        own = frame[level].fillna("").astype(str)
        frame[level] = own.where(own != "", frame[code].map(from_cells).astype(object)).fillna("")
        if level != "community_name":  # one name per street and county, whichever row gave it
            first = frame[frame[level] != ""].drop_duplicates(code).set_index(code)[level]
            frame[level] = frame[code].map(first).astype(object).fillna("")
    frame = frame.sort_values("community_code", kind="stable").reset_index(drop=True)
    frame = frame[HIERARCHY_COLUMNS + ["geometry"]]
    frame.attrs["from_cells"] = len(made)
    return frame
