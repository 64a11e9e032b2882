"""The unit hierarchy: county → street → community, with codes and names.

:func:`unit_hierarchy` turns boundary features and a code column into the
*communities* frame every layout is built in: one row per community, in a metric
CRS, with the code and name of every level above. When the finest level given is
a street or a county, provisional communities (and streets) are made from the
lattice's tiles — only if the caller asks for provisional codes.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import codes, coords
from .errors import CodeError, CRSError, InputError, near_column
from .io import (POLYGON_KINDS, crs_hint, describe_feature, feature_label, repair_polygons, require_frame,
                 source_rows, unprojected, unprojected_message)
from .cells import barrier_lines, cell_counts, check_cell_count
from .lattice import TILE_CELLS, boxes, expand_ranges
from .merge import merge_slivers

__all__ = ["unit_hierarchy", "choose_metric_crs", "HIERARCHY_COLUMNS"]

log = logging.getLogger(__name__)

HIERARCHY_COLUMNS = [
    "community_code", "community_name", "street_code", "street_name",
    "county_code", "county_name", "provisional",
]
NAME_CANDIDATES = ("name", "NAME", "Name", "名称", "community", "street", "district")
#: Columns that may carry the names of the levels above the given one.
PARENT_NAME_CANDIDATES = {
    "county": ("county_name", "district", "区县", "county"),
    "street": ("street_name", "street", "街道", "乡镇"),
}
#: Overlaps (and the crumbs a cut leaves) under this many m² between neighbouring
#: polygons are digitising noise: resolved without a warning, not reported.
DIGITISING_NOISE_M2 = 1.0
MAX_PROVISIONAL_TILE_SHARE = 0.3  # tile pieces below this share of a tile are merged
#: A provisional community never grows beyond this many cells' area by merging, so
#: with its boundary pieces it stays under the 999-cell limit.
MAX_PROVISIONAL_CELLS = 800
#: A projected input CRS is worked in when it stretches areas by at most this share
#: (Gauss–Krüger and UTM: 0.1 % at a zone's edge; Web Mercator: 17 % in Shenzhen).
MAX_AREAL_STRETCH = 0.01


def choose_metric_crs(gdf, name_field=None) -> pyproj.CRS:
    """The metric CRS for a frame: CGCS2000 Gauss-Krüger in China, UTM elsewhere.

    A projected input CRS in metres is kept as it is (the caller chose it on
    purpose), unless it stretches areas (:func:`areal_scale`) by over 1 % there:
    Web Mercator's "metres" (EPSG:3857) are 0.77 m in Beijing, where its cells of
    10,000 m² would be 5,900 m² on the ground. One in feet (US State Plane) is
    replaced too, so areas are m².

    Features so far apart that the CRS stretches areas by over 1 % at some of them
    are refused (:func:`refuse_far_apart`), naming ``name_field``'s names.
    """
    metric = _metric_crs(gdf)
    refuse_far_apart(gdf, metric, name_field)
    return metric


def _metric_crs(gdf):
    if gdf.crs is not None and unit_of(gdf.crs) in METRE:
        scale = areal_scale(gdf.crs, gdf.total_bounds)
        if abs(scale - 1) <= MAX_AREAL_STRETCH:
            return gdf.crs
        log.warning("%s (%s) stretches areas ×%.2f here: cells are cut in the metric CRS for the place instead, "
                    "where a square metre is one on the ground (--metric-crs to choose)", gdf.crs.to_string(),
                    gdf.crs.name, scale)
    source = str(gdf.attrs.get("source_crs") or "")
    china = True if source in ("gcj02", "bd09", "bd09mc") or "4490" in source else None
    if gdf.crs is not None and gdf.crs.is_geographic:
        x0, y0, x1, y1 = gdf.total_bounds
        if abs(x0 + x1) > 360 or abs(y0 + y1) > 180:  # the centre is no lon/lat: metres read as degrees
            path = gdf.attrs.get("source_path")
            raise CRSError(f"{path + ': ' if path else ''}the boundaries' CRS is {gdf.crs.to_string()} (longitude/"
                           f"latitude), but their coordinates span {x0:.8g}..{x1:.8g}, {y0:.8g}..{y1:.8g}: a "
                           "projected file labelled as lon/lat? Give the CRS they are really in (--crs EPSG:…)"
                           f"{crs_hint(np.array([[x0, y0, x1, y1]]))}")
    minx, miny, maxx, maxy = gdf.to_crs(4326).total_bounds
    return coords.metric_crs_for((minx + maxx) / 2, (miny + maxy) / 2, china=china)


def refuse_far_apart(gdf, metric, name_field=None):
    """A :class:`CRSError` when ``metric`` stretches areas by over
    :data:`MAX_AREAL_STRETCH` at some of ``gdf``'s features: one CRS cannot hold
    them all (cells there would not have their area on the ground). The features
    farthest from the others are named: one that far off is usually a mistake in its
    coordinates. Checks the corners of the extent first, then, if one is stretched,
    each feature's centroid."""
    if gdf.crs is None or not len(gdf):
        return
    to_lonlat = pyproj.Transformer.from_crs(gdf.crs, 4326, always_xy=True)
    x0, y0, x1, y1 = gdf.total_bounds
    factors = pyproj.Proj(metric).get_factors
    if _within_stretch(factors(*to_lonlat.transform([x0, x0, x1, x1], [y0, y1, y0, y1])).areal_scale).all():
        return
    centre = shapely.get_coordinates(shapely.centroid(gdf.geometry.values))
    lon, lat = (np.asarray(v) for v in to_lonlat.transform(centre[:, 0], centre[:, 1]))
    off = ~_within_stretch(factors(lon, lat).areal_scale)
    if not off.any():
        return
    n = len(gdf)
    mid_lon, mid_lat = np.median(lon), np.median(lat)
    km = pyproj.Geod(ellps="WGS84").inv(lon, lat, np.full(n, mid_lon), np.full(n, mid_lat))[2] / 1000
    # The strays: those the CRS for the most features' middle cannot hold either.
    stray = ~_within_stretch(pyproj.Proj(coords.metric_crs_for(mid_lon, mid_lat)).get_factors(lon, lat).areal_scale)
    order = [i for i in np.argsort(-km, kind="stable") if stray[i]] or [int(np.argmax(km))]
    rows = source_rows(gdf)
    names = gdf[name_field].tolist() if name_field in gdf.columns else [None] * n
    far = [f"{feature_label(rows[i], names[i])}, {km[i]:,.0f} km away at lon {lon[i]:.2f}, lat {lat[i]:.2f}"
           for i in order[:3]] + ([f"{len(order) - 3:,} more"] if len(order) > 3 else [])
    path = gdf.attrs.get("source_path")
    raise CRSError(
        f"{path + ': ' if path else ''}the features lie too far apart to be cut in one metric CRS: "
        f"{metric.to_string()} ({metric.name}), chosen for their middle, stretches areas by over "
        f"{MAX_AREAL_STRETCH * 100:g} % at {int(off.sum()):,} of the {n:,} features, so cells there would not have "
        f"their area on the ground. Far from the others: {'; '.join(far)}. A feature that far off is usually a "
        "mistake in its coordinates (a lost minus sign, another CRS): fix or delete it. Places this far apart "
        "are gridded in separate runs (--where), or in one CRS you choose (--metric-crs)")


def _within_stretch(scale):
    return np.abs(np.asarray(scale) - 1) <= MAX_AREAL_STRETCH  # NaN, where the CRS does not reach: False


def areal_scale(crs, bounds) -> float:
    """How much the projected ``crs`` stretches areas in the middle of ``bounds``
    (minx, miny, maxx, maxy in ``crs``): 1.0001 for a Gauss–Krüger zone, 1.70 for
    Web Mercator at Beijing's latitude (PROJ's scale factors).

    >>> round(areal_scale(pyproj.CRS("EPSG:3857"), (12954351, 4845216, 12962732, 4861966)), 2)   # Dongcheng
    1.7
    """
    return float(pyproj.Proj(crs).get_factors(*lonlat_centre(crs, bounds)).areal_scale)


def lonlat_centre(crs, bounds):
    """The middle of ``bounds`` (minx, miny, maxx, maxy in ``crs``) as WGS84 (lon, lat):
    one point transformed, not the frame."""
    return pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform((bounds[0] + bounds[2]) / 2,
                                                                           (bounds[1] + bounds[3]) / 2)


#: The names PROJ gives the metre as a CRS's unit.
METRE = ("metre", "meter")


def unit_of(crs) -> str:
    """The unit of ``crs``'s coordinates: "degree" for lon/lat, else its first axis's
    ("metre", "US survey foot" …)."""
    return crs.axis_info[0].unit_name if crs.is_projected else "degree"


def metric_crs_given(metric_crs) -> pyproj.CRS:
    """The CRS given to work in (``--metric-crs``), refused when PROJ does not know it
    (``gcj02`` is an offset of lon/lat, no CRS PROJ has) or when it is not projected
    in metres (cells of 10,000 ft² are 929 m², reported as 10,000)."""
    fix = "Give a projected CRS in metres (UTM, a Gauss–Krüger zone), or none to let gridkit choose one"
    try:
        metric = pyproj.CRS.from_user_input(metric_crs)
    except pyproj.exceptions.CRSError:
        raise CRSError(f"--metric-crs {metric_crs!r}: no CRS PROJ knows. {fix}: EPSG:4534 to EPSG:4554 are "
                       "CGCS2000's 3° Gauss–Krüger zones, central meridians 75°E to 135°E (EPSG:4548 at 117°E: "
                       "Beijing), EPSG:326NN UTM zone NN north") from None
    unit = unit_of(metric)
    if unit not in METRE:
        raise CRSError(f"--metric-crs {metric.to_string()} ({metric.name}): its unit is the {unit}, not the metre, "
                       f"and cell areas, tolerances and distances are metres. {fix}")
    return metric


def given_metric_crs(metric_crs, gdf) -> pyproj.CRS:
    """The CRS given to work in (``--metric-crs``) for the frame ``gdf``
    (:func:`metric_crs_given`), with a warning when it stretches areas there
    (:func:`areal_scale`)."""
    metric = metric_crs_given(metric_crs)
    scale = areal_scale(metric, gdf.to_crs(metric).total_bounds)
    if abs(scale - 1) > MAX_AREAL_STRETCH:
        log.warning("--metric-crs %s (%s) stretches areas ×%.2f here: cells will be about %.0f %% of their "
                    "target area on the ground", metric.to_string(), metric.name, scale, 100 / scale)
    return metric


def measures_in_metres(crs, bounds) -> bool:
    """Whether lengths and areas can be measured in ``crs`` as they are around
    ``bounds`` (in ``crs``): projected, in metres, and stretching areas by at most
    :data:`MAX_AREAL_STRETCH`."""
    return crs is not None and unit_of(crs) in METRE and abs(areal_scale(crs, bounds) - 1) <= MAX_AREAL_STRETCH


def check_communities(communities):
    """An error saying what makes ``communities`` no frame that :func:`gridkit.unit_grid`
    and :func:`gridkit.households.balanced_grid` can divide: a missing hierarchy
    column, a CRS not in metres, a community without a polygon (none, an empty one,
    a point or a line: a point became a point cell, none a NaN error), or a code
    two communities share (their cells shared grid IDs). A frame from
    :func:`unit_hierarchy` passes; one built by hand is checked here."""
    require_frame(communities, "the communities", HIERARCHY_COLUMNS,
                  fix="build them with gridkit.unit_hierarchy() (from a grid package's cells and units: "
                      "gridkit.rebalance.communities_of(cells, units))")
    crs = communities.crs
    if crs is None or not crs.is_projected:
        raise InputError("the communities must be in a projected (metric) CRS; use unit_hierarchy()")
    code = communities["community_code"].astype(str).to_numpy()
    geoms = communities.geometry.values
    kinds = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(kinds, POLYGON_KINDS) | shapely.is_empty(geoms))
    if len(bad):
        i = bad[0]
        what = "no geometry" if kinds[i] < 0 else f"an empty {geoms[i].geom_type}" if geoms[i].is_empty \
            else f"a {geoms[i].geom_type}"
        raise InputError(f"{len(bad)} of the {len(geoms)} communities have no polygon to divide: the first, "
                         f"community {code[i]} (row {i + 1}), has {what}; give each its (multi)polygon")
    twice = pd.Series(code).duplicated(keep=False).to_numpy()
    if twice.any():
        first = code[twice][0]
        rows = np.flatnonzero(code == first) + 1
        raise InputError(f"community code {first} is given to {len(rows)} communities (rows "
                         f"{', '.join(map(str, rows))}): their cells would share grid IDs; give each community a "
                         "code of its own, or dissolve them into one (unit_hierarchy does)")


def _pick_name_field(gdf, name_field):
    if name_field is not None:
        if name_field not in gdf.columns:
            raise InputError(_unknown_column("name", name_field, gdf))
        return name_field
    return next((c for c in NAME_CANDIDATES if c in gdf.columns), None)


def _unknown_column(what, field, gdf):
    cols = ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
    return (f"{gdf.attrs.get('source_path', 'input')}: no {what} column {field!r}{near_column(field, gdf.columns)}; "
            f"columns are: {cols}")


def _text(values):
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def unit_hierarchy(
    gdf,
    *,
    code_field=None,
    name_field=None,
    provisional: bool = False,
    parent_code=None,
    cell_area: float = 10_000.0,
    metric_crs=None,
    barriers=None,
    tile_large: bool = False,
) -> gpd.GeoDataFrame:
    """Build the communities frame from boundary features.

    Parameters
    ----------
    gdf : GeoDataFrame
        Boundary polygons with a CRS (see :func:`gridkit.io.read_vector`).
    code_field : str, optional
        Column holding each feature's code: 12 digits (community), 9 (street) or 6
        (county). Codes are validated against the GB/T 2260 / GB/T 10114 ranges.
    name_field : str, optional
        Column with the features' names (default: the first of ``name``, ``NAME``,
        ``名称``, … present).
    provisional : bool
        Allow provisional codes: codes in the provisional ranges kept as given
        (street 900–999, community 600–999), communities made from tiles when the
        finest level is a street or county, and codes for features whose code is
        missing or malformed (these need ``parent_code``). Without it, all three
        are errors.
    parent_code : str, optional
        6- or 9-digit code of the unit containing all features, for features that
        have no code of their own (e.g. Cambridge's neighbourhoods).
    cell_area : float
        Target cell area (m²); sizes the provisional communities (tiles of
        28 × 28 cells, so none exceeds the 999-cell limit).
    metric_crs : optional
        The metric CRS to work in (default: :func:`choose_metric_crs`).
    barriers : GeoSeries or GeoDataFrame of lines, optional
        The barriers the cells will follow. Give the same ones as to
        :func:`gridkit.unit_grid` when communities are provisional: every small
        block becomes a cell, so provisional communities are then sized by counting
        cells, not by area, and stay under the 999-cell limit.
    tile_large : bool
        For unit grids: a feature without a code that would hold more than 999
        square cells of ``cell_area`` (a community's limit; e.g. a district given
        by name only) becomes a provisional street of its own (named after it),
        tiled into provisional communities as a coded street is; under a street
        ``parent_code``, its tiles become provisional communities of that street.
        (Only features of over 250 cells' area are counted.) Off by default: a
        household layout keeps every feature one community (there a community
        holds up to 999 grids, not cells).

    Returns
    -------
    GeoDataFrame
        One row per community with :data:`HIERARCHY_COLUMNS`, in the metric CRS;
        ``attrs["report"]`` counts repairs, overlaps and provisional units.
    """
    require_frame(gdf, "the boundaries", fix="read them with gridkit.read_vector(path)")
    if gdf.crs is None:
        raise CRSError("the boundaries have no CRS; read them with read_vector(path, crs=...)")
    if not len(gdf):  # else "cannot choose a metric CRS for lon=nan"
        raise InputError(f"{gdf.attrs.get('source_path', 'the boundaries')}: no boundary to divide")
    name_field = _pick_name_field(gdf, name_field)
    gdf, n_repaired = repair_polygons(gdf.reset_index(drop=True), what="boundaries",
                                      name_field=name_field)
    metric = given_metric_crs(metric_crs, gdf) if metric_crs is not None else choose_metric_crs(gdf, name_field)
    units = gdf.to_crs(metric)
    lost = unprojected(units.geometry.values)
    if lost.any():
        raise InputError(unprojected_message(gdf, gdf.geometry.values, lost, metric, "boundaries",
                                             "fix or remove them, or give the boundaries' real CRS (--crs)"))
    names = _text(units[name_field]) if name_field else [""] * len(units)
    unit_codes = _resolve_codes(units, code_field, name_field, provisional, parent_code)
    units = gpd.GeoDataFrame(
        {"code": unit_codes, "name": names, "source_row": source_rows(units)},
        geometry=units.geometry.values, crs=metric,
    )
    for level, candidates in PARENT_NAME_CANDIDATES.items():
        col = next((c for c in candidates if c in gdf.columns and c != name_field), None)
        units[f"{level}_parent_name"] = _text(gdf[col]) if col else ""
    units, overlaps = _dissolve_and_resolve_overlaps(units)
    if tile_large or provisional:  # tiles are cut at the cell size, and cells counted
        check_cell_count(shapely.area(units.geometry.values).sum(), cell_area, warn=tile_large)
    side = float(np.sqrt(cell_area))
    lines = None if barriers is None else barrier_lines(barriers, metric, units.total_bounds)
    communities = _to_communities(units, side, provisional, parent_code, lines, tile_large)
    communities.attrs["report"] = {
        "input_features": len(gdf),
        "repaired": n_repaired,
        "overlaps_resolved": len(overlaps),
        "overlap_max_m2": max(overlaps, default=0.0),
        "communities": len(communities),
        "provisional_communities": int(communities["provisional"].sum()),
        "tiled_features": communities.attrs.pop("tiled_features", 0),
        "metric_crs": metric.to_string(),
        "source_crs": gdf.attrs.get("source_crs"),
    }
    return communities


def _resolve_codes(units, code_field, name_field, provisional, parent_code):
    n = len(units)
    if code_field is None:
        if not (provisional and parent_code):
            raise InputError(
                "name the column with each unit's code (--code-field; 12-digit community, "
                "9-digit street or 6-digit county codes), or, if the features have no "
                "codes, pass --provisional with --parent-code (the 6- or 9-digit code of "
                "the county or street containing them)"
            )
        return [None] * n
    if code_field not in units.columns:
        raise InputError(_unknown_column("code", code_field, units))
    raw = units[code_field].tolist()
    out, problems = [], []
    outlines = False  # province or prefecture codes (ending in 00) among the problems
    kept = 0  # codes valid as provisional ones (a provisional layout's units, given back)
    for i, value in enumerate(map(codes.half_width, raw)):
        if isinstance(value, (float, np.floating)) and value == value and float(value).is_integer():
            value = int(value)  # codes stored as numbers
        problem = codes.code_problem(value, provisional=provisional)  # a provisional code given is kept
        if problem:
            problems.append(f"{describe_feature(units, i, name_field)}: {problem}")
            text = str(value).strip()
            outlines = outlines or (len(text) == 6 and text.isdigit() and text.endswith("00"))
            kept += not provisional and codes.code_problem(value, provisional=True) is None
            out.append(None)
        else:
            out.append(str(value).strip())
    if problems and not (provisional and parent_code):
        raise CodeError(
            f"{len(problems)} feature(s) with a missing or malformed {code_field!r}: "
            + "; ".join(problems[:10]) + (" …" if len(problems) > 10 else "")
            + ". Fix the codes, or pass --provisional with --parent-code to give these "
            "features provisional codes."
            + (f" {'All' if kept == len(problems) else kept} of them are provisional codes (a street part "
               f"{codes.PROVISIONAL_STREET_START}–999 or community part {codes.PROVISIONAL_COMMUNITY_START}–999, "
               "as gridkit gives): pass --provisional alone to keep them as they are." if kept else "")
            + (f" If they are the outlines of the province or city around the others, leave them out: "
               f"--where \"{code_field} NOT LIKE '%00'\"" if outlines else "")
        )
    for p in problems:
        log.warning("%s; a provisional code will be given", p)
    lengths = {len(c) for c in out if c}
    if len(lengths) > 1:
        raise CodeError(
            f"{code_field!r} mixes levels ({sorted(lengths)} digits); give all features "
            "codes of one level (communities 12, streets 9, counties 6)"
        )
    if parent_code:
        parent = codes.validate_admin_code(parent_code, where="--parent-code", provisional=True)
        stray = [c for c in out if c and not c.startswith(parent)]
        if stray:
            raise CodeError(f"codes {stray[:5]} do not lie under --parent-code {parent}")
    return out


def _dissolve_and_resolve_overlaps(units):
    """One feature per code; overlapping units lose the overlap to the lower code.
    Returns the units and the area of each overlap resolved (m²)."""
    coded = units[units["code"].notna()]
    if coded["code"].duplicated().any():
        dup = sorted(set(coded.loc[coded["code"].duplicated(), "code"]))
        log.info("codes %s appear in several features; their parts are merged", dup[:5])
        # The parts of one unit (an island's rows) share its name; features of other
        # names are more likely a code typed twice, which merges two places into one.
        shared = coded[coded["code"].isin(dup)]
        for code, rows in shared.groupby("code", sort=True):
            if rows["name"].fillna("").nunique() > 1:
                named = [feature_label(r, n) for r, n in zip(rows["source_row"], rows["name"])]
                log.warning("%s and %s share the code %s but not a name: they are merged into one unit. If the "
                            "code is a typo, fix it", ", ".join(named[:-1]), named[-1], code)
        agg = {c: "first" for c in units.columns if c not in ("code", units.geometry.name)}
        merged = coded.dissolve(by="code", aggfunc=agg, sort=False).reset_index()
        units = pd.concat([merged, units[units["code"].isna()]], ignore_index=True)
        units = gpd.GeoDataFrame(units, geometry="geometry", crs=coded.crs)
    order = np.lexsort((np.arange(len(units)), units["code"].fillna("~").to_numpy()))
    units = units.iloc[order].reset_index(drop=True)
    geoms = units.geometry.values.copy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    overlaps = []
    # A unit by its code, or by its row in the boundary file when it has none.
    label = [code or feature_label(row, name) for code, row, name in zip(units["code"], units["source_row"],
                                                                          units["name"])]
    taken_by = {}  # unit → the units that took its overlaps
    for i, j in zip(a[keep], b[keep]):
        overlap = shapely.area(shapely.intersection(geoms[i], geoms[j]))
        if overlap <= 0:
            continue
        overlaps.append(float(overlap))
        # Digitising noise (< 1 m²) is routine between neighbouring polygons.
        log.log(logging.WARNING if overlap >= DIGITISING_NOISE_M2 else logging.INFO,
                "units %s and %s overlap by %.3g m²; the overlap stays with %s",
                label[i], label[j], overlap, label[i])
        geoms[j] = _without_crumbs(shapely.difference(geoms[j], geoms[i]), geoms[i])
        taken_by.setdefault(j, []).append(label[i])
    # A unit wholly under others would vanish, and its code with it: the user decides.
    gone = [j for j in sorted(taken_by) if shapely.area(geoms[j]) <= 0]
    if gone:
        raise InputError(
            "boundaries: " + "; ".join(f"{label[j]} lies wholly under {', '.join(taken_by[j])}" for j in gone[:10])
            + ". Overlaps stay with the lower code (or the earlier feature), so nothing of it would be left: "
            "delete the duplicate, or fix its boundary.")
    units = units.set_geometry(gpd.GeoSeries(geoms, crs=units.crs))
    return units, overlaps


def _without_crumbs(rest, taker):
    """``rest`` (what a unit keeps of itself after ``taker`` took an overlap) without the
    crumbs the cut leaves along ``taker``: parts under 1 m², as the overlaps of
    digitising noise are. Each would become a cell of its own, with no neighbour in
    its community to merge into (one of 2e-10 m² was). A small island of the unit
    away from the cut is kept."""
    parts = shapely.get_parts(rest)
    crumb = (shapely.area(parts) < DIGITISING_NOISE_M2) & shapely.dwithin(parts, taker, 0.01)
    return shapely.union_all(parts[~crumb]) if crumb.any() and not crumb.all() else rest


def row_major_order(geoms, side):
    """Order west→east within rows of height ``side``, rows north→south."""
    c = shapely.centroid(geoms)
    x = np.round(shapely.get_x(c), 3)
    y = np.round(shapely.get_y(c), 3)
    return np.lexsort((-y, x, -np.floor(y / side)))


def _to_communities(units, side, provisional, parent_code, barriers=None, tile_large=False):
    level_len = {len(c) for c in units["code"] if c}
    level = level_len.pop() if level_len else None
    rows = []
    if level == 12:
        for u in units.itertuples():
            if u.code:
                rows.append(_row(u.code, u.name, u.street_parent_name, u.county_parent_name, u.geometry,
                                 codes.is_provisional_code(u.code)))
    else:
        if not provisional:
            what = {9: "street", 6: "county"}[level]
            raise InputError(
                f"the codes are {what} codes ({level} digits), but cells must lie in a "
                "community: supply community boundaries with 12-digit codes, or pass "
                "--provisional to divide each unit into provisional communities "
                f"(codes {codes.PROVISIONAL_COMMUNITY_START}–999 under provisional or real "
                "streets, flagged provisional = True)"
            )
        coded = units[units["code"].notna()]
        for u in coded.itertuples():
            rows.extend(_tile_communities(u, side, barriers))
    uncoded = units[units["code"].isna()]
    tiled = 0
    if len(uncoded):
        made, tiled = _provisional_features(uncoded, parent_code, side, barriers, tile_large)
        rows.extend(made)
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=units.crs)
    frame = frame.sort_values("community_code", kind="stable").reset_index(drop=True)
    frame = frame[HIERARCHY_COLUMNS + ["geometry"]]
    frame.attrs["tiled_features"] = tiled
    return frame


def _row(code, name, street_name, county_name, geometry, provisional, street_code=None):
    return {
        "community_code": code,
        "community_name": name,
        "street_code": street_code or code[:9],
        "street_name": street_name,
        "county_code": code[:6],
        "county_name": county_name,
        "provisional": provisional,
        "geometry": geometry,
    }


def _tile_communities(unit, side, barriers=None):
    """Divide one street or county into provisional communities along lattice tiles
    (:func:`_tiles`)."""
    out = []
    per_street = 1000 - codes.PROVISIONAL_COMMUNITY_START
    for n, geom in enumerate(_tiles(unit.geometry, side, barriers)):
        if len(unit.code) == 9:
            street = unit.code
            community = codes.provisional_community_code(street, n)
            street_name = unit.name
        else:
            street = codes.provisional_street_code(unit.code, n // per_street)
            community = codes.provisional_community_code(street, n % per_street)
            street_name = ""
        county_name = unit.name if len(unit.code) == 6 else unit.county_parent_name
        out.append(_row(community, "", street_name, county_name, geom, True, street))
    return out


def _tiles(geometry, side, barriers=None):
    """``geometry`` cut into provisional communities along lattice tiles, in row-major
    order.

    Without barriers a community is sized by area (at most
    :data:`MAX_PROVISIONAL_CELLS` cells' worth). Between barriers every small
    block is a cell of its own, so a dense tile can hold far more cells than its
    area suggests: the cells are counted, tiles holding too many are split into
    quarters (28 → 14 → 7 cells a side), and merging stops at the same count.
    """
    tsize = TILE_CELLS * side
    parts = _clip_to_tiles(geometry, tsize)
    limits = {"max_area": MAX_PROVISIONAL_CELLS * side**2}
    if barriers is not None:
        parts, counts = _split_dense_tiles(parts, side, barriers)
        limits = {"weight": counts, "max_weight": MAX_PROVISIONAL_CELLS}
    # Tile corners clipped by the boundary would make tiny communities: merge them.
    merged = merge_slivers(parts, np.zeros(len(parts), int), MAX_PROVISIONAL_TILE_SHARE * tsize**2, **limits)
    return merged.geometry[row_major_order(merged.geometry, tsize)]


def _clip_to_tiles(geometry, tsize):
    """The polygon parts of ``geometry`` cut along square tiles of side ``tsize``."""
    minx, miny, maxx, maxy = geometry.bounds
    c0, c1 = int(np.floor(minx / tsize)), int(np.ceil(maxx / tsize))
    r0, r1 = int(np.floor(miny / tsize)), int(np.ceil(maxy / tsize))
    col, owner = expand_ranges(np.full(r1 - r0, c0), np.full(r1 - r0, c1))
    row = r0 + owner
    tiles = boxes(col * tsize, row * tsize, (col + 1) * tsize, (row + 1) * tsize)
    # Only tiles crossing the boundary need the (costly, unprepared) intersection.
    shapely.prepare(geometry)
    inside = shapely.covers(geometry, tiles)
    crossing = ~inside & shapely.intersects(geometry, tiles)
    pieces = np.concatenate([tiles[inside], shapely.intersection(geometry, tiles[crossing])])
    pieces = pieces[np.argsort(np.r_[np.flatnonzero(inside), np.flatnonzero(crossing)], kind="stable")]
    parts = shapely.get_parts(pieces)
    return parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)]


def _split_dense_tiles(parts, side, barriers):
    """Quarter the tile pieces that would hold more than MAX_PROVISIONAL_CELLS cells."""
    counts = cell_counts(parts, cell_area=side**2, barriers=barriers)
    size = TILE_CELLS
    while size % 2 == 0 and (counts > MAX_PROVISIONAL_CELLS).any():
        size //= 2
        dense = counts > MAX_PROVISIONAL_CELLS
        quarters = np.concatenate([_clip_to_tiles(g, size * side) for g in parts[dense]])
        parts = np.concatenate([parts[~dense], quarters])
        counts = np.concatenate([counts[~dense], cell_counts(quarters, cell_area=side**2, barriers=barriers)])
        log.info("split %d dense provisional tiles into %d pieces of %d × %d cells",
                 int(dense.sum()), len(quarters), size, size)
    return parts, counts


def _provisional_features(uncoded, parent_code, side, barriers=None, tile_large=False):
    """Features without codes become provisional communities under ``parent_code``;
    with ``tile_large``, those that would hold more than a community's cells are
    tiled (:func:`_tiles`) into provisional communities of a provisional street of
    their own (of ``parent_code`` when it is a street). Returns the rows and how
    many features were tiled."""
    parent = codes.validate_admin_code(parent_code, where="--parent-code", provisional=True)
    if len(parent) == 12:
        raise CodeError("--parent-code must be a county (6 digits) or street (9 digits)")
    geoms = uncoded.geometry.values
    large = np.zeros(len(geoms), dtype=bool)
    cells = np.zeros(len(geoms), dtype=int)
    # Only features of over a quarter of a community's cells by area are counted (the
    # count costs a cutting of the cells): street blocks can make a place hold more
    # cells than its area, but not 4 times as many (Futian's densest tiles: 1.8).
    counted = shapely.area(geoms) > codes.MAX_CELLS_PER_COMMUNITY * side**2 / 4 if tile_large else large
    if counted.any():
        cells[counted] = cell_counts(geoms[counted], cell_area=side**2, barriers=barriers)
        large = cells > codes.MAX_CELLS_PER_COMMUNITY
        for i in np.flatnonzero(large).tolist():
            log.info("%s would hold %d cells, more than a community's %d: tiled into provisional communities",
                     feature_label(uncoded["source_row"].iloc[i], uncoded["name"].iloc[i]), cells[i],
                     codes.MAX_CELLS_PER_COMMUNITY)
    per_street = 1000 - codes.PROVISIONAL_COMMUNITY_START
    small, tiled = np.flatnonzero(~large), np.flatnonzero(large)
    side_rows = TILE_CELLS * side
    out = []
    # The features kept whole first, numbered as communities in row-major order …
    for n, i in enumerate(small[row_major_order(geoms[small], side_rows)].tolist()):
        u = uncoded.iloc[i]
        street = parent if len(parent) == 9 else codes.provisional_street_code(parent, n // per_street)
        community = codes.provisional_community_code(street, n % per_street if len(parent) == 6 else n)
        out.append(_row(community, u["name"], "", u["county_parent_name"], u.geometry, True, street))
    # … then the tiled ones: under a county, each on streets of its own (named after
    # it); under a street, its tiles go on numbering that street's communities.
    next_street, next_community = -(-len(small) // per_street), len(small)
    for i in tiled[row_major_order(geoms[tiled], side_rows)].tolist():
        u = uncoded.iloc[i]
        tiles = _tiles(u.geometry, side, barriers)
        for m, geom in enumerate(tiles):
            if len(parent) == 6:
                street = codes.provisional_street_code(parent, next_street + m // per_street)
                row = _row(codes.provisional_community_code(street, m % per_street), "", u["name"],
                           u["county_parent_name"], geom, True, street)
            else:
                name = f"{u['name']} {m + 1}" if u["name"] else ""
                row = _row(codes.provisional_community_code(parent, next_community), name, "",
                           u["county_parent_name"], geom, True, parent)
                next_community += 1
            out.append(row)
        next_street += -(-len(tiles) // per_street)
    return out, int(large.sum())
