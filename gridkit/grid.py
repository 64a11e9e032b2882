"""Unit grids (单元网格): cells of about 10,000 m² tiling every community.

:func:`unit_grid` takes the communities frame from
:func:`gridkit.units.unit_hierarchy` and returns the cells: square (default),
planar hexagons, or H3 hexagons; street-bounded when barrier lines are given.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import codes
from ._arrow import string_array, take_strings
from .cells import barrier_lines, check_cell_area, make_cells, street_blocks
from .errors import InputError, LayoutError, checked_number
from .lattice import h3_resolution_for_area
from .units import HIERARCHY_COLUMNS, check_communities

__all__ = ["unit_grid", "street_blocks", "CELL_COLUMNS", "SHAPES"]

log = logging.getLogger(__name__)

SHAPES = ("square", "hex", "h3")
CELL_COLUMNS = [
    "grid_id", "sequence", *HIERARCHY_COLUMNS, "area_m2", "start_date", "end_date", "notes",
]


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
        hierarchy columns, in a metric CRS. One built by hand is checked first
        (:func:`gridkit.units.check_communities`: a polygon and a code of its own each).
    cell_area : float
        Target cell area in m² (default 10,000, the Dongcheng model). More cells
        than this machine's memory holds are refused before any is cut
        (:func:`gridkit.cells.check_cell_count`).
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
    check_cell_area(cell_area)
    checked_number(sliver_ratio, "sliver_ratio", "cell areas", zero=True)  # -1 and NaN merged nothing, unsaid
    start_date = codes.day_text(start_date)  # checked before the work it would date
    check_communities(communities)
    crs = communities.crs
    comm_geoms = communities.geometry.values
    summary = {"shape": shape, "cell_area": cell_area, "sliver_ratio": sliver_ratio}

    barrier_geoms = None if barriers is None else barrier_lines(barriers, crs, communities.total_bounds)
    made = make_cells(comm_geoms, crs, cell_area=cell_area, shape=shape, barriers=barrier_geoms,
                      sliver_ratio=sliver_ratio, merge_small_blocks=merge_small_blocks)
    summary.update(made.summary)

    # 4. Codes: per community, west→east within rows, rows north→south.
    cell_geom, cell_comm, notes = made.geometry, made.community, made.notes
    cx, cy = _centres(cell_geom, made.symmetric)
    row = np.floor(cy / made.row_height + made.row_offset)
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
        uncoded = ("; one made from a feature without a code is tiled into provisional communities by "
                   "unit_hierarchy(..., tile_large=True), as `gridkit grid units` does"
                   if communities["provisional"].to_numpy(dtype=bool)[k] else "")
        raise LayoutError(
            f"community {comm_codes[k]} would hold {counts[too_many][0]} cells; a community "
            "holds at most 999 (a 3-digit sequence). Supply smaller communities, pass a "
            "street or county boundary with --provisional to get provisional communities, "
            f"or raise --cell-area{uncoded}."
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
            "start_date": start_date,
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
