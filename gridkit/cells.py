"""Cells before numbering: street blocks, the lattice, sliver merges.

The low layer under :func:`gridkit.grid.unit_grid`, over geometry arrays, with no
codes. :mod:`gridkit.units` uses it too, to count the cells a provisional
community would hold between barriers.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .errors import InputError, checked_number
from .io import file_layers, source_rows, unprojected, unprojected_message
from .lattice import h3_pieces, h3_resolution_for_area, hex_pieces, square_pieces
from .merge import merge_slivers

__all__ = ["make_cells", "MadeCells", "barrier_lines", "street_blocks", "cell_counts", "NOISE_FACE_AREA",
           "check_cell_area", "check_cell_count"]

log = logging.getLogger(__name__)


#: Faces smaller than this (m²) between nearly coincident lines are noding noise,
#: not blocks (e.g. a centre line drawn a few cm beside a community boundary).
NOISE_FACE_AREA = 1.0
#: Faces narrower than this on average (m; twice the area over the perimeter) are
#: noise too, however long: the strip between a centre line and a community
#: boundary drawn a few centimetres to a metre apart along a street. Traffic
#: islands and medians, the narrowest real blocks, are metres wide.
NOISE_FACE_WIDTH = 1.0

#: Peak memory per cell of `gridkit grid units` (cutting, numbering and writing the
#: GeoPackage), cells counted as area / cell area. On Dongcheng: 1.4, 1.2 and 1.0 kB
#: at 2.1, 4.2 and 21 million square cells (20, 10 and 2 m²), 1.1 kB for H3 at 20 m².
BYTES_PER_CELL = 1_200
#: Above this many cells, :func:`check_cell_count` warns (Beijing's 16,400 km² in
#: cells of a hectare is 1.6 million).
MANY_CELLS = 2_000_000


def machine_memory() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_cell_area(cell_area):
    """An error unless ``cell_area`` is a number of m² above 0 and finite (an
    infinite one made each community a single cell, 0 a division by zero).

    >>> check_cell_area(float("inf"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: cell_area must be a number of m² above 0 (10000 is a hectare, ...), not inf
    """
    checked_number(cell_area, "cell_area", "m²", hint=" (10000 is a hectare, the Beijing model's cell)")


def check_cell_count(area, cell_area, *, warn=False) -> int:
    """About how many cells of ``cell_area`` m² an ``area`` of m² is cut into.

    Refuses, before any cutting, when they would need more memory than this machine
    has (:data:`BYTES_PER_CELL` each): a cell area typed as 1 for a hectare makes
    tens of millions of cells, cut until memory runs out (GEOS's ``bad_alloc``, or
    the system kills the run). With ``warn``, logs a warning above :data:`MANY_CELLS`.
    """
    check_cell_area(cell_area)
    cells = int(round(area / cell_area))
    need, have = cells * BYTES_PER_CELL, machine_memory()
    size = f"{area / 1e6:,.1f} km² in cells of {cell_area:,g} m² is about {cells:,} cells"
    if have and need > have:
        raise InputError(
            f"{size}, which would need about {need / 1e9:,.1f} GB of memory; this machine has {have / 1e9:,.1f} GB. "
            "The cell area is in m² (10000 is a hectare, the Beijing model's cell): raise --cell-area, or grid "
            "fewer boundaries at a time"
        )
    if warn and cells > MANY_CELLS:
        log.warning("%s, which needs about %.1f GB of memory (the cell area is in m²; 10000 is a hectare)",
                    size, need / 1e9)
    return cells


def street_blocks(communities, barriers):
    """Split each community into blocks along barrier lines.

    Returns ``(geometry, community_index)`` arrays. Barrier lines are clipped to
    each community, noded together with its boundary and polygonized; faces that
    lie in a hole of the community are dropped. Dangling lines (that separate
    nothing) do not make blocks. Faces below :data:`NOISE_FACE_AREA`, or narrower
    than :data:`NOISE_FACE_WIDTH` on average, merge into the neighbouring face with
    which they share the longest edge.
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
        # GEOS's point on the surface of a face with a spike can be a vertex, on the
        # boundary (a gap recut divides, where a bite was taken from a cell): such a
        # face is kept when most of it lies in the community, not dropped as a hole.
        doubt = np.flatnonzero(~keep)
        keep[doubt] = shapely.area(shapely.intersection(faces[doubt], community)) > 0.5 * shapely.area(faces[doubt])
        out_geoms.extend(faces[keep])
        out_owner.extend([k] * int(keep.sum()))
    geoms, owner = np.asarray(out_geoms, dtype=object), np.asarray(out_owner, dtype="int64")
    thin = 2 * shapely.area(geoms) < NOISE_FACE_WIDTH * shapely.length(geoms)  # mean width 2A/P
    noise = merge_slivers(geoms, owner, NOISE_FACE_AREA, also=thin)
    return noise.geometry, owner[noise.first]


NO_NEIGHBOUR_NOTE = "below the sliver size with no neighbour to merge into"


def _merge_notes(merged_counts):
    """'merged 1 sliver', 'merged 3 slivers' or '' per cell, by table lookup."""
    counts = np.asarray(merged_counts)
    table = np.array([""] + ["merged 1 sliver"] + [f"merged {k} slivers" for k in range(2, counts.max(initial=0) + 1)],
                     dtype=object)
    return table[counts]


def _pieces(shape, zones, cell_area, crs):
    if shape == "square":
        return square_pieces(zones, float(np.sqrt(cell_area)))
    if shape == "hex":
        return hex_pieces(zones, cell_area)
    to_ll = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    from_ll = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    return h3_pieces(zones, to_ll, from_ll, h3_resolution_for_area(cell_area))


def barrier_lines(barriers, crs, within=None):
    """Barrier lines (GeoSeries or GeoDataFrame) as a geometry array in ``crs``.

    Polygons (a river or a railway yard drawn as an area) give their outlines: a
    grid keeps to the water's edge on either side. Points are refused, naming the
    file and its layers: an OpenStreetMap network's first layer is its nodes, and
    points as barriers would divide nothing, silently. So are barriers of which none
    comes within the bounds ``within`` (minx, miny, maxx, maxy in ``crs``) of what
    they are to divide: another place's file, or one read in the wrong CRS, which
    would divide nothing either."""
    if isinstance(barriers, (str, os.PathLike)):  # a TypeError from GeoSeries: "Non geometry data passed"
        raise InputError(f"barriers {str(barriers)!r} is a path: read the file first, "
                         "barriers=gridkit.read_vector(path)")
    geoms = gpd.GeoSeries(barriers.geometry if hasattr(barriers, "geometry") else barriers)
    if geoms.crs is None:
        raise InputError("the barriers have no CRS; read them with read_vector(path, crs=...)")
    types = shapely.get_type_id(geoms.values)
    points = np.flatnonzero(np.isin(types, (0, 4)))  # Point, MultiPoint
    if len(points):
        raise InputError(_points_as_barriers(barriers, len(points), len(geoms), int(points[0])))
    lines = geoms.to_crs(crs).values
    lost = unprojected(lines)
    if lost.any():
        raise InputError(unprojected_message(barriers, geoms.values, lost, crs, "barriers",
                                             "fix or remove them (--barriers-where can leave them out), or give "
                                             "the barriers' real CRS (--barriers-crs)"))
    areas = np.isin(types, (3, 6))  # Polygon, MultiPolygon
    if areas.any():  # the outlines of the areas only
        lines = np.array(lines)  # a copy: never the caller's geometries
        lines[areas] = shapely.boundary(lines[areas])
    if within is not None and len(lines) and not shapely.intersects(lines, shapely.box(*within)).any():
        raise InputError(_barriers_elsewhere(barriers, lines, crs, within))
    return lines


def _barriers_elsewhere(barriers, lines, crs, within):
    """The error for barriers none of which comes within ``within``: where each lies."""
    to_lonlat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    x0, y0, x1, y1 = shapely.total_bounds(lines)
    where = [to_lonlat.transform((a + c) / 2, (b + d) / 2) for a, b, c, d in ((x0, y0, x1, y1), within)]
    source = getattr(barriers, "attrs", {}).get("source_path")
    return (f"{source + ': ' if source else ''}none of the {len(lines):,} barriers comes within the area to divide: "
            f"they lie around lon {where[0][0]:.4f}, lat {where[0][1]:.4f}, and it around lon {where[1][0]:.4f}, "
            f"lat {where[1][1]:.4f}, so they would divide nothing. Is one of them in another CRS than its label "
            "(--barriers-crs, --crs), or are the barriers another place's file?")


def _points_as_barriers(barriers, n, total, first):
    """The error for barriers that hold points: how many and the first (numbered as
    in the file), and the file's layers of lines when it has any."""
    source = getattr(barriers, "attrs", {}).get("source_path")
    named = f"{source}: " if source else ""
    kind = "barriers are lines (roads, rivers, rail) or polygons (their outlines are used)"
    if n < total:
        number = int(source_rows(barriers)[first])
        return (f"{named}{n:,} of the {total:,} barriers are points (the first: feature {number}); {kind}. "
                "Drop the points from the file, or read only the lines (--barriers-where over a column that "
                "tells them apart)")
    message = f"{named}the {total:,} barriers are all points; {kind}"
    if source:
        lines = [name for name, geometry_type in file_layers(source) if geometry_type and "Line" in geometry_type]
        if lines:
            message += (f". The file's layers of lines: {', '.join(lines)}; read one: --barriers-layer {lines[0]} "
                        f"(read_vector(path, layer={lines[0]!r}))")
    return message


@dataclass
class MadeCells:
    """Cells before numbering: parallel arrays plus the lattice's row banding."""

    geometry: np.ndarray
    community: np.ndarray  # index into the communities
    zone: np.ndarray  # index of the street block (or community) each cell lies in
    notes: np.ndarray
    symmetric: np.ndarray  # whole squares / planar hexagons: centroid = bbox centre
    row_height: float
    row_offset: float
    summary: dict


def make_cells(comm_geoms, crs, *, cell_area, shape="square", barriers=None, sliver_ratio=0.3,
               merge_small_blocks=False) -> MadeCells:
    """Steps 1–3 of :func:`unit_grid` (blocks, lattice, sliver merges), unnumbered.

    Also used to count the cells a provisional community would hold.
    """
    threshold = sliver_ratio * cell_area
    summary = {}
    # 1. Zones: blocks between barriers, or the communities themselves.
    if barriers is not None:
        zones, zone_comm = street_blocks(comm_geoms, barriers)
        summary["blocks"] = len(zones)
    else:
        zones, zone_comm = np.asarray(comm_geoms, dtype=object), np.arange(len(comm_geoms))
    zone_area = shapely.area(zones)
    check_cell_count(zone_area.sum(), cell_area)

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

    return MadeCells(cell_geom, zone_comm[cell_zone], cell_zone, notes, cell_full & (shape != "h3"),
                     pieces.row_height, pieces.row_offset, summary)


def cell_counts(zones, *, cell_area, barriers=None, sliver_ratio=0.3) -> np.ndarray:
    """How many square cells :func:`make_cells` would cut from each zone.

    Examples
    --------
    >>> cell_counts([shapely.box(0, 0, 300, 200), shapely.box(0, 0, 50, 50)], cell_area=10_000).tolist()
    [6, 1]
    """
    zones = np.asarray(zones, dtype=object)
    made = make_cells(zones, None, cell_area=cell_area, barriers=barriers, sliver_ratio=sliver_ratio)
    return np.bincount(made.community, minlength=len(zones))
