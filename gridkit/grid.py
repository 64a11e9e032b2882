"""Unit grids (单元网格): cells of about 10,000 m² tiling every community.

:func:`unit_grid` takes the communities frame from
:func:`gridkit.units.unit_hierarchy` and returns the cells: square (default),
planar hexagons, or H3 hexagons; street-bounded when barrier lines are given.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import codes
from ._arrow import string_array, take_strings
from .errors import InputError, LayoutError
from .lattice import h3_pieces, h3_resolution_for_area, hex_pieces, square_pieces
from .merge import merge_slivers
from .units import HIERARCHY_COLUMNS

__all__ = ["unit_grid", "street_blocks", "CELL_COLUMNS", "SHAPES"]

log = logging.getLogger(__name__)

SHAPES = ("square", "hex", "h3")
CELL_COLUMNS = [
    "grid_id", "sequence", *HIERARCHY_COLUMNS, "area_m2", "start_date", "end_date", "notes",
]


#: Faces smaller than this (m²) between nearly coincident lines are noding noise,
#: not blocks (e.g. a centre line drawn a few cm beside a community boundary).
NOISE_FACE_AREA = 1.0


def street_blocks(communities, barriers):
    """Split each community into blocks along barrier lines.

    Returns ``(geometry, community_index)`` arrays. Barrier lines are clipped to
    each community, noded together with its boundary and polygonized; faces that
    lie in a hole of the community are dropped. Dangling lines (that separate
    nothing) do not make blocks. Faces below :data:`NOISE_FACE_AREA` merge into
    the neighbouring face with which they share the longest edge.
    """
    lines = np.asarray(barriers, dtype=object)
    lines = lines[~(shapely.is_missing(lines) | shapely.is_empty(lines))]
    tree = shapely.STRtree(lines)
    out_geoms, out_owner = [], []
    for k, community in enumerate(communities):
        near = lines[tree.query(community, predicate="intersects")]
        if len(near) == 0:
            out_geoms.append(community)
            out_owner.append(k)
            continue
        inside = shapely.intersection(near, community)
        noded = shapely.union_all(np.concatenate([[shapely.boundary(community)], inside]))
        faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
        if len(faces) == 0:
            out_geoms.append(community)
            out_owner.append(k)
            continue
        shapely.prepare(community)
        keep = shapely.contains_properly(community, shapely.point_on_surface(faces))
        out_geoms.extend(faces[keep])
        out_owner.extend([k] * int(keep.sum()))
    geoms, owner = np.asarray(out_geoms, dtype=object), np.asarray(out_owner, dtype="int64")
    noise = merge_slivers(geoms, owner, NOISE_FACE_AREA)
    return noise.geometry, owner[noise.first]


NO_NEIGHBOUR_NOTE = "below the sliver size with no neighbour to merge into"


def _merge_notes(merged_counts):
    """'merged 1 sliver', 'merged 3 slivers' or '' per cell, by table lookup."""
    counts = np.asarray(merged_counts)
    table = np.array([""] + ["merged 1 sliver"] + [f"merged {k} slivers" for k in range(2, counts.max(initial=0) + 1)],
                     dtype=object)
    return table[counts]


def _centres(geometry, symmetric):
    """Centroids rounded to mm; for ``symmetric`` cells (whole squares or planar
    hexagons) the centre of the bounding box, which is the centroid and ~8x cheaper."""
    x = np.empty(len(geometry))
    y = np.empty(len(geometry))
    b = shapely.bounds(geometry[symmetric])
    x[symmetric], y[symmetric] = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    c = shapely.centroid(geometry[~symmetric])
    x[~symmetric], y[~symmetric] = shapely.get_x(c), shapely.get_y(c)
    return np.round(x, 3), np.round(y, 3)


def _pieces(shape, zones, cell_area, crs):
    if shape == "square":
        return square_pieces(zones, float(np.sqrt(cell_area)))
    if shape == "hex":
        return hex_pieces(zones, cell_area)
    to_ll = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    from_ll = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    return h3_pieces(zones, to_ll, from_ll, h3_resolution_for_area(cell_area))


def unit_grid(
    communities,
    *,
    cell_area: float = 10_000.0,
    shape: str = "square",
    barriers=None,
    sliver_ratio: float = 0.3,
    merge_small_blocks: bool = False,
    start_date=None,
) -> gpd.GeoDataFrame:
    """Divide every community into coded unit cells.

    Parameters
    ----------
    communities : GeoDataFrame
        From :func:`gridkit.units.unit_hierarchy`: one row per community with the
        hierarchy columns, in a metric CRS.
    cell_area : float
        Target cell area in m² (default 10,000, the Dongcheng model).
    shape : {"square", "hex", "h3"}
        Square lattice (origin 0, 0 of the metric CRS), planar hexagons, or H3 at
        the resolution whose mean area is nearest ``cell_area``.
    barriers : GeoSeries or GeoDataFrame of lines, optional
        Roads, rivers, walls: no cell crosses them. A block smaller than
        ``cell_area`` stays one cell; larger blocks are divided.
    sliver_ratio : float
        Pieces smaller than ``sliver_ratio * cell_area`` merge into the neighbour in
        the same community and block with which they share the longest edge.
    merge_small_blocks : bool
        Also merge *blocks* below the sliver size (traffic islands, medians) into
        their longest-edge neighbour in the same community. Those cells then cross
        a barrier; they are counted and noted. Off by default.
    start_date : str, optional
        ``YYYY-MM-DD`` written to every cell (default: today).

    Returns
    -------
    GeoDataFrame
        Cells with :data:`CELL_COLUMNS`, in the communities' CRS, ordered by grid
        ID; ``attrs["summary"]`` has the counts (cells, merges, isolated pieces …).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> comm = gpd.GeoDataFrame({"community_code": ["110101001001"], "community_name": ["A"],
    ...     "street_code": ["110101001"], "street_name": [""], "county_code": ["110101"],
    ...     "county_name": [""], "provisional": [False]},
    ...     geometry=[shapely.box(0, 0, 300, 200)], crs=4548)
    >>> cells = unit_grid(comm, start_date="2026-01-01")
    >>> cells["grid_id"].tolist()
    ['110101001001001', '110101001001002', '110101001001003', '110101001001004', '110101001001005', '110101001001006']
    """
    t0 = time.perf_counter()
    if shape not in SHAPES:
        raise InputError(f"shape {shape!r}: choose one of {', '.join(SHAPES)}")
    if not cell_area > 0:
        raise InputError(f"cell_area must be positive, not {cell_area}")
    missing = [c for c in HIERARCHY_COLUMNS if c not in communities.columns]
    if missing:
        raise InputError(
            f"the communities frame lacks {missing}; build it with gridkit.unit_hierarchy()"
        )
    crs = communities.crs
    if crs is None or not crs.is_projected:
        raise InputError("the communities must be in a projected (metric) CRS; use unit_hierarchy()")
    threshold = sliver_ratio * cell_area
    comm_geoms = communities.geometry.values
    summary = {"shape": shape, "cell_area": cell_area, "sliver_ratio": sliver_ratio}

    # 1. Zones: blocks between barriers, or the communities themselves.
    if barriers is not None:
        barrier_geoms = gpd.GeoSeries(barriers.geometry if hasattr(barriers, "geometry") else barriers)
        if barrier_geoms.crs is None:
            raise InputError("the barriers have no CRS; read them with read_vector(path, crs=...)")
        barrier_geoms = barrier_geoms.to_crs(crs).values
        zones, zone_comm = street_blocks(comm_geoms, barrier_geoms)
        summary["blocks"] = len(zones)
    else:
        zones, zone_comm = np.asarray(comm_geoms, dtype=object), np.arange(len(comm_geoms))
    zone_area = shapely.area(zones)

    # 2. Small zones stay whole; the rest are cut by the lattice.
    whole = zone_area < (cell_area if barriers is not None else threshold)
    summary["small_blocks"] = int((zone_area < threshold).sum()) if barriers is not None else 0
    pieces = _pieces(shape, zones[~whole], cell_area, crs)
    cut_index = np.flatnonzero(~whole)
    piece_zone = np.concatenate([np.flatnonzero(whole), cut_index[pieces.poly_index]])
    piece_geom = np.concatenate([zones[whole], pieces.geometry])
    piece_full = np.concatenate([np.zeros(int(whole.sum()), dtype=bool), pieces.full])

    # 3. Slivers merge within their zone (and, if asked, tiny blocks across barriers).
    merged = merge_slivers(piece_geom, piece_zone, threshold)
    cell_geom = merged.geometry
    cell_zone = piece_zone[merged.first]
    cell_full = piece_full[merged.first] & (merged.merged == 0)
    notes = _merge_notes(merged.merged)
    summary["merges"] = merged.n_merges
    if merge_small_blocks and barriers is not None:
        across = merge_slivers(cell_geom, zone_comm[cell_zone], threshold)
        notes = np.where(across.merged > 0, "small block merged across a barrier", notes[across.first])
        cell_zone = cell_zone[across.first]
        cell_full = cell_full[across.first] & (across.merged == 0)
        isolated = across.isolated
        cell_geom = across.geometry
        summary["blocks_merged_across_barriers"] = across.n_merges
    else:
        isolated = merged.isolated
    notes = np.where(isolated & (notes == ""), NO_NEIGHBOUR_NOTE, notes)
    summary["isolated_small_cells"] = int(isolated.sum())

    # 4. Codes: per community, west→east within rows, rows north→south.
    cell_comm = zone_comm[cell_zone]
    cx, cy = _centres(cell_geom, cell_full if shape != "h3" else np.zeros(len(cell_geom), bool))
    row = np.floor(cy / pieces.row_height + pieces.row_offset)
    comm_codes = communities["community_code"].to_numpy().astype("U12")
    comm_rank = np.argsort(np.argsort(comm_codes, kind="stable"), kind="stable")
    order = np.lexsort((-cy, cx, -row, comm_rank[cell_comm]))
    cell_geom, cell_comm, notes = cell_geom[order], cell_comm[order], np.asarray(notes)[order]
    starts = np.r_[0, np.flatnonzero(np.diff(cell_comm)) + 1]
    counts = np.diff(np.r_[starts, len(cell_comm)])
    sequence = np.arange(len(cell_comm)) - np.repeat(starts, counts) + 1
    too_many = counts > codes.MAX_CELLS_PER_COMMUNITY
    if too_many.any():
        k = cell_comm[starts[np.flatnonzero(too_many)[0]]]
        raise LayoutError(
            f"community {comm_codes[k]} would hold {counts[too_many][0]} cells; a community "
            "holds at most 999 (a 3-digit sequence). Supply smaller communities, pass a "
            "street or county boundary with --provisional to get provisional communities, "
            "or raise --cell-area."
        )
    # Take from the small communities table, through Arrow for the text columns.
    attrs = {c: string_array(take_strings(communities[c].to_numpy(dtype=object), cell_comm))
             for c in HIERARCHY_COLUMNS if c != "provisional"}
    attrs["provisional"] = communities["provisional"].to_numpy(dtype=bool)[cell_comm]
    cells = gpd.GeoDataFrame(
        {
            "grid_id": codes.grid_ids(comm_codes, sequence, index=cell_comm),
            "sequence": sequence.astype("int32"),
            **attrs,
            "area_m2": np.round(shapely.area(cell_geom), 2),
            "start_date": start_date or _dt.date.today().isoformat(),
            "end_date": pd.Series([None] * len(cell_geom), dtype="object"),
            "notes": notes,
        },
        geometry=gpd.GeoSeries(cell_geom, crs=crs),
    )
    area = cells["area_m2"].to_numpy()
    summary.update(
        units=len(communities), cells=len(cells),
        area_mean=float(area.mean()) if len(area) else 0.0,
        area_min=float(area.min()) if len(area) else 0.0,
        area_max=float(area.max()) if len(area) else 0.0,
        seconds=round(time.perf_counter() - t0, 3),
    )
    if shape == "h3":
        summary["h3_resolution"] = h3_resolution_for_area(cell_area)
    cells.attrs["summary"] = summary
    log.info("unit grid: %d cells in %d communities (%d merges) in %.2f s",
             len(cells), len(communities), summary["merges"], summary["seconds"])
    return cells
