"""Coordinate systems: China's obfuscated web-map systems and the metric CRS.

GCJ-02 (Amap, Tencent, most Chinese boundary downloads) and BD-09 (Baidu) have no
EPSG code and PROJ does not implement them, so they are handled here as named
*pseudo-CRSs* at the input/output edge: converted once to WGS84 and never used for
metric work. Data in them is routinely mislabelled EPSG:4326 — the Beijing
districts in ``shared/data/china_admin`` are GCJ-02 although the file says 4326.

The forward formulas are the published GCJ-02 / BD-09 algorithms. Written by hand
because no maintained, vectorised library implements them *and* an exact inverse:
the popular one-step inverse (``wgs = 2*gcj - f(gcj)``) is off by up to ~5 m;
here the inverse is a fixed-point iteration that converges to < 1e-9 degrees.

``bd09mc`` is BD-09 in Baidu's own metres (Baidu Mercator: its web pages, tiles and
POI downloads, such as 12959801.66, 4824788.74 in Beijing). It is the Mercator
projection on the Clarke 1866 ellipsoid of BD-09 lon/lat, so PROJ does it: the
polynomial tables Baidu's JavaScript converts with agree with it to 4 mm over China
(measured on a 40 × 200 lon/lat grid; to 3 mm on the pairs published with
bd09convertor and coord-transform). It is metres, not lon/lat, and only read.

All functions take and return (x, y) = (lon, lat) numpy arrays.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Union

import numpy as np
import pyproj

from .errors import CRSError

__all__ = [
    "PSEUDO_CRS",
    "PSEUDO_NAMES",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "bd09mc_to_wgs84",
    "wgs84_to_bd09mc",
    "parse_crs",
    "is_pseudo_crs",
    "metric_crs_for",
    "is_in_china",
    "position_problems",
    "read_degrees",
    "write_degrees",
    "DEGREE_FORMS",
    "zone_twin",
]

log = logging.getLogger(__name__)

#: Names accepted for the pseudo-CRSs (case-insensitive).
PSEUDO_CRS = {"gcj02": "gcj02", "gcj-02": "gcj02", "bd09": "bd09", "bd-09": "bd09", "bd09mc": "bd09mc",
              "bd-09mc": "bd09mc"}
#: How messages name each of them.
PSEUDO_NAMES = {"gcj02": "GCJ-02", "bd09": "BD-09", "bd09mc": "BD-09 Mercator"}

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 algorithm
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# The rectangle inside which the published algorithm applies the offset; outside
# it, GCJ-02 equals WGS84 (what Amap and every common implementation do).
_CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
# The offsets' gradient is below 3e-3 (measured over China), so a step whose
# correction is < 1e-6 degrees leaves an error < 3e-9 degrees (0.3 mm): stop there.
_INVERSE_STEP_TOL_DEG = 1e-6
_INVERSE_MAX_ITER = 20
_CHUNK = 1 << 16  # points per block: keeps numpy's temporaries in cache
#: Longest straight piece before a change of CRS, by the unit of the CRS it is cut in:
#: the change bends a straight edge (see :mod:`gridkit.export`), and the offsets most.
MAX_SEGMENT = {"metre": 200.0, "degree": 0.002}


def _as_xy(x, y):
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    return np.broadcast_arrays(x, y)


def is_in_china(x, y):
    """Whether (lon, lat) lies in the rectangle where GCJ-02 applies an offset.

    Examples
    --------
    >>> is_in_china([116.4, -71.1], [39.9, 42.4]).tolist()
    [True, False]
    """
    x, y = _as_xy(x, y)
    minx, miny, maxx, maxy = _CHINA_BOX
    return (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)


def _gcj02_offset(x, y):
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to a WGS84 point."""
    u = x - 105.0
    v = y - 35.0
    s6u = np.sin(6.0 * np.pi * u)
    s2u = np.sin(2.0 * np.pi * u)
    common = (20.0 * s6u + 20.0 * s2u) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * np.sqrt(np.abs(u))
        + common
        + (20.0 * np.sin(v * np.pi) + 40.0 * np.sin(v / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(v / 12.0 * np.pi) + 320.0 * np.sin(v * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * np.sqrt(np.abs(u))
        + common
        + (20.0 * np.sin(u * np.pi) + 40.0 * np.sin(u / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(u / 12.0 * np.pi) + 300.0 * np.sin(u / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = ~is_in_china(x, y)
    if outside.any():
        dlon = np.where(outside, 0.0, dlon)
        dlat = np.where(outside, 0.0, dlat)
    return dlon, dlat


def wgs84_to_gcj02(x, y):
    """Convert WGS84 lon/lat to GCJ-02 (the published forward algorithm).

    Examples
    --------
    >>> gx, gy = wgs84_to_gcj02(116.397, 39.909)
    >>> round(float(gx - 116.397), 5), round(float(gy - 39.909), 5)
    (0.00624, 0.0014)
    """
    x, y = _as_xy(x, y)
    dx, dy = _gcj02_offset(x, y)
    return x + dx, y + dy


def _invert(forward, guess, x, y, *, step_tol=_INVERSE_STEP_TOL_DEG):
    """Solve forward(w) = (x, y) for w by fixed-point iteration, block by block.

    The offsets vary slowly (gradient < 3e-3), so each step shrinks the error
    ~300-fold; from the one-step guess (error <= ~7 m) two steps reach < 1 mm.
    """
    x, y = _as_xy(x, y)
    shape = x.shape
    x = x.ravel()
    y = y.ravel()
    out_x = np.empty_like(x)
    out_y = np.empty_like(y)
    for start in range(0, x.size, _CHUNK):
        cx = x[start : start + _CHUNK]
        cy = y[start : start + _CHUNK]
        wx, wy = guess(cx, cy)
        for _ in range(_INVERSE_MAX_ITER):
            fx, fy = forward(wx, wy)
            ex = fx - cx
            ey = fy - cy
            wx = wx - ex
            wy = wy - ey
            if np.abs(ex).max(initial=0.0) < step_tol and np.abs(ey).max(initial=0.0) < step_tol:
                break
        out_x[start : start + _CHUNK] = wx
        out_y[start : start + _CHUNK] = wy
    return out_x.reshape(shape), out_y.reshape(shape)


def _gcj02_guess(x, y):
    dx, dy = _gcj02_offset(x, y)
    return x - dx, y - dy


def _bd09_guess(x, y):
    u = x - 0.0065
    v = y - 0.006
    z = np.sqrt(u * u + v * v) - 0.00002 * np.sin(v * _X_PI)
    theta = np.arctan2(v, u) - 0.000003 * np.cos(u * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_wgs84(x, y):
    """Convert GCJ-02 lon/lat to WGS84 with an iterated (exact) inverse.

    Round-trips :func:`wgs84_to_gcj02` to better than 1 mm.

    Examples
    --------
    >>> wx, wy = gcj02_to_wgs84(*wgs84_to_gcj02(116.397, 39.909))
    >>> abs(float(wx) - 116.397) < 1e-9 and abs(float(wy) - 39.909) < 1e-9
    True
    """
    return _invert(wgs84_to_gcj02, _gcj02_guess, x, y)


def gcj02_to_bd09(x, y):
    """Convert GCJ-02 lon/lat to BD-09 (Baidu's published forward formula).

    Outside China a point stays as it is, as GCJ-02 leaves it: Baidu's maps and
    SDKs use WGS84 abroad (its SDK documentation), where the formula would put it
    some 700 m off. The inverse (:func:`bd09_to_gcj02`, iterating this) follows.

    >>> [round(float(v), 4) for v in gcj02_to_bd09([116.4, -71.1], [39.9, 42.37])[0]]
    [116.4064, -71.1]
    """
    x, y = _as_xy(x, y)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    inside = is_in_china(x, y)
    return np.where(inside, z * np.cos(theta) + 0.0065, x), np.where(inside, z * np.sin(theta) + 0.006, y)


def bd09_to_gcj02(x, y):
    """Convert BD-09 lon/lat to GCJ-02 with an iterated (exact) inverse."""
    # BD-09's own terms vary ~50x faster than GCJ-02's: stop on a smaller step.
    return _invert(gcj02_to_bd09, _bd09_guess, x, y, step_tol=1e-8)


def wgs84_to_bd09(x, y):
    """Convert WGS84 lon/lat to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(x, y))


def bd09_to_wgs84(x, y):
    """Convert BD-09 lon/lat to WGS84 (exact inverse of :func:`wgs84_to_bd09`)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(x, y))


@functools.lru_cache(maxsize=None)
def _baidu_mercator():
    return pyproj.Transformer.from_crs("+proj=longlat +ellps=clrk66 +no_defs", "+proj=merc +ellps=clrk66 +no_defs",
                                       always_xy=True)


def bd09mc_to_wgs84(x, y):
    """Convert BD-09 Mercator metres (Baidu's own, module doc) to WGS84 lon/lat.

    >>> [round(float(v), 6) for v in bd09mc_to_wgs84(12959801.66, 4824788.74)]
    [116.405967, 39.899465]

    Longitude and latitude given by mistake (each of them within ±180, ±90) are
    refused: read as Baidu's metres they lie within 20 m of 0°, 0°.
    """
    x, y = _as_xy(x, y)
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.any() and (np.abs(x[finite]) <= 180).all() and (np.abs(y[finite]) <= 90).all():
        raise CRSError("x and y look like longitude and latitude, not BD-09 Mercator metres (Beijing is about "
                       "12,959,802, 4,824,789): for Baidu's longitude and latitude, use bd09_to_wgs84")
    return _bd09mc_to_wgs84(x, y)


def _bd09mc_to_wgs84(x, y):
    """:func:`bd09mc_to_wgs84` of any numbers: the readers' checks, which try
    coordinates as Baidu's metres to say what a file's are, convert degrees too."""
    x, y = _as_xy(x, y)
    return bd09_to_wgs84(*_baidu_mercator().transform(x, y, direction="INVERSE"))


def wgs84_to_bd09mc(x, y):
    """Convert WGS84 lon/lat to BD-09 Mercator metres."""
    return _baidu_mercator().transform(*wgs84_to_bd09(x, y))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84, "bd09mc": _bd09mc_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09, "bd09mc": wgs84_to_bd09mc}

#: China's three lon/lat systems, as a hint that a file was read in the wrong one names
#: each: the ``--crs`` value that reads a file in it, its name, and where such files come from.
LONLAT_SYSTEMS = {"wgs84": ("EPSG:4326", "WGS84", "as GPS positions are"),
                  "gcj02": ("gcj02", "GCJ-02", "as Chinese web-map data labelled EPSG:4326 often is"),
                  "bd09": ("bd09", "BD-09", "as Baidu Maps gives positions")}


def lonlat_system(crs) -> str | None:
    """Which of :data:`LONLAT_SYSTEMS` a file read in ``crs`` (parsed or not; None:
    EPSG:4326) was taken to be in: ``"gcj02"``, ``"bd09"``, ``"wgs84"`` for a
    geographic CRS (CGCS2000's lon/lat differ from WGS84's by centimetres), None for
    projected metres and Baidu's."""
    parsed = parse_crs("EPSG:4326" if crs is None else crs)
    if isinstance(parsed, str):
        return parsed if parsed in LONLAT_SYSTEMS else None
    return "wgs84" if parsed.is_geographic else None


def read_as_said(system, option="--crs") -> str:
    """How a hint tells a file to be read in ``system`` (:data:`LONLAT_SYSTEMS`):
    'GCJ-02 (--crs gcj02), as Chinese web-map data labelled EPSG:4326 often is'."""
    value, name, why = LONLAT_SYSTEMS[system]
    return f"{name} ({option} {value}), {why}"


CRSLike = Union[str, int, pyproj.CRS]


def is_pseudo_crs(crs) -> bool:
    """Whether ``crs`` names GCJ-02, BD-09 or BD-09 Mercator."""
    return isinstance(crs, str) and crs.strip().lower() in PSEUDO_CRS


def is_baidu_mercator(crs) -> bool:
    """Whether ``crs`` (parsed or not) is ``bd09mc``, Baidu's metres. Compared as text
    only: ``pyproj.CRS == "bd09mc"`` would ask PROJ to parse it (0.1 s, each time)."""
    return isinstance(crs, str) and PSEUDO_CRS.get(crs.strip().lower()) == "bd09mc"


def parse_crs(crs: CRSLike):
    """Turn a user's CRS into ``"gcj02"``, ``"bd09"``, ``"bd09mc"`` or a :class:`pyproj.CRS`.

    Examples
    --------
    >>> parse_crs("GCJ-02")
    'gcj02'
    >>> parse_crs("EPSG:4490").name
    'China Geodetic Coordinate System 2000'
    """
    if is_pseudo_crs(crs):
        return PSEUDO_CRS[crs.strip().lower()]
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"unknown CRS {crs!r}: give an EPSG code (EPSG:4326, EPSG:4490), a PROJ/WKT "
            "string, or one of the pseudo-CRSs 'gcj02' / 'bd09' / 'bd09mc' (Baidu's metres)"
        ) from exc


def pseudo_to_wgs84_func(name: str):
    """The (N, 2) → (N, 2) coordinate function for :func:`shapely.transform`."""
    convert = _TO_WGS84[name]

    def _func(coords):
        x, y = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return _func


def wgs84_to_pseudo_func(name: str):
    """The inverse of :func:`pseudo_to_wgs84_func`."""
    convert = _FROM_WGS84[name]

    def _func(coords):
        x, y = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return _func


def metric_crs_for(lon: float, lat: float, *, china: bool | None = None) -> pyproj.CRS:
    """Choose the metric CRS for work around (lon, lat).

    In China the CGCS2000 3-degree Gauss-Krüger zone without zone prefix
    (EPSG:4534–4554, central meridian the multiple of 3° nearest ``lon``);
    elsewhere the WGS84 UTM zone. ``china`` overrides the test (by default: the
    point lies in the GCJ-02 rectangle, which also covers some neighbours — a
    Gauss-Krüger zone is as good a conformal metric CRS there as UTM).

    Examples
    --------
    >>> metric_crs_for(116.41, 39.93).to_epsg()   # Beijing: CM 117°E
    4548
    >>> metric_crs_for(-71.11, 42.38).to_epsg()   # Cambridge MA: UTM 19N
    32619
    """
    if not (np.isfinite(lon) and np.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 180:
        raise CRSError(f"cannot choose a metric CRS for lon={lon}, lat={lat}: not a lon/lat point")
    if china is None:
        china = bool(is_in_china(lon, lat))
    if china:
        cm = int(round(lon / 3.0)) * 3
        cm = min(max(cm, 75), 135)
        return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def is_geographic(crs) -> bool:
    """Whether ``crs`` (parsed or not) takes lon/lat degrees: the pseudo-CRSs do, but
    for BD-09 Mercator (metres)."""
    parsed = crs if isinstance(crs, pyproj.CRS) else parse_crs(crs)
    return not is_baidu_mercator(parsed) if isinstance(parsed, str) else parsed.is_geographic


#: A Gauss–Krüger CRS's name: with the zone number in front of x ("… zone 39"), or
#: without it ("… CM 117E"), as EPSG names the Chinese datums' (CGCS2000, Xian 1980,
#: Beijing 1954) and Pulkovo's.
_GAUSS_KRUGER = re.compile(r"^(?P<family>.+ / (?P<three>3-degree )?Gauss-Kruger) "
                           r"(?:zone (?P<zone>\d+)|CM (?P<cm>\d+)E)$")


def zone_twin(crs) -> pyproj.CRS | None:
    """The Gauss–Krüger CRS that reads x with the zone number in front when ``crs``
    reads it without (39,450,000 against 450,000 in 3-degree zone 39), or the other
    way round; None for any other CRS.

    Survey tables write x either way, and the two CRSs have different EPSG codes
    (CGCS2000's 3-degree zones: 4534–4554 without the prefix, 4513–4533 with it), so
    a table read in the wrong one lies 39,000 km east of its city, or west of it.

    >>> zone_twin("EPSG:4548").to_epsg(), zone_twin("EPSG:4527").to_epsg()   # CM 117°E, zone 39
    (4527, 4548)
    >>> zone_twin("EPSG:32650") is None   # UTM has no zone number in x
    True
    """
    parsed = crs if isinstance(crs, pyproj.CRS) else parse_crs(crs)
    match = None if isinstance(parsed, str) else _GAUSS_KRUGER.match(parsed.name)
    if match is None:
        return None
    width = 3 if match["three"] else 6
    if match["zone"]:
        twin = f"{match['family']} CM {int(match['zone']) * width - (0 if width == 3 else 3)}E"
    else:
        twin = f"{match['family']} zone {(int(match['cm']) + (0 if width == 3 else 3)) // width}"
    code = _projected_crs_codes().get(twin)
    if code is None:
        return None
    twin = pyproj.CRS.from_epsg(code)
    return twin if _central_meridian(twin) == _central_meridian(parsed) else None


def twin_named(twin) -> str:
    """How messages name a CRS that :func:`zone_twin` gave: 'EPSG:4527 (CGCS2000 /
    3-degree Gauss-Kruger zone 39), whose x has the zone number in front'."""
    has = "has the" if has_zone_number(twin) else "has no"
    return f"EPSG:{twin.to_epsg()} ({twin.name}), whose x {has} zone number in front"


def has_zone_number(crs) -> bool:
    """Whether the Gauss–Krüger ``crs`` (as :func:`zone_twin` gives it) writes the zone
    number in front of x: EPSG names it "… zone 39", not "… CM 117E"."""
    return " zone " in crs.name


def _central_meridian(crs):
    return next((p.value for p in crs.coordinate_operation.params if p.name == "Longitude of natural origin"), None)


@functools.lru_cache(maxsize=1)
def _projected_crs_codes() -> dict:
    """EPSG's projected CRSs in use, by name (5,000 of them: read once, 0.1 s)."""
    from pyproj.database import query_crs_info

    return {info.name: int(info.code) for info in query_crs_info(auth_name="EPSG", pj_types="PROJECTED_CRS")
            if not info.deprecated}


#: How a file may write its longitudes and latitudes (``--degrees``): each form, and
#: what it is. Vehicle terminals on JT/T 808 (sanitation trucks, muck carriers) send
#: millionths of a degree as integers; GPS receivers' NMEA sentences write degrees and
#: minutes run together. Neither can be told apart from a wrong CRS by its numbers
#: alone in every file, so a file in them is read only when told.
DEGREE_FORMS = {
    "decimal": "decimal degrees (116.4122)",
    "e5": "degrees × 100,000 (11641220)",
    "e6": "degrees × 1,000,000 (116412200, JT/T 808)",
    "e7": "degrees × 10,000,000 (1164122000)",
    "ddmm": "degrees and minutes (11624.7326, NMEA's dddmm.mmmm)",
}


def read_degrees(x, y, form, crs):
    """``x``, ``y`` written in ``form`` (:data:`DEGREE_FORMS`) as decimal degrees.

    Only lon/lat is written so: a projected ``crs`` is refused. In ``ddmm``, a value
    whose minutes reach 60 cannot be read and is kept as written: over 180 (or 90)
    it is then rejected as not lon/lat, and a smaller one (99.5) lands far outside.

    >>> x, y = read_degrees([116412209, np.nan], [39900868, 39.9], "e6", "EPSG:4326")
    >>> x.tolist(), y.tolist()
    ([116.412209, nan], [39.900868, 3.99e-05])
    >>> x, y = read_degrees([11624.7326, -7359.5], [3954.0521, 3975.0], "ddmm", "gcj02")
    >>> x.round(6).tolist(), y.round(6).tolist()
    ([116.41221, -73.991667], [39.900868, 3975.0])
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if form in (None, "decimal"):
        return x, y
    if form not in DEGREE_FORMS:
        raise CRSError(f"--degrees {form}: not a form of degrees; one of {', '.join(DEGREE_FORMS)}")
    if crs is None or not is_geographic(crs):
        raise CRSError(f"--degrees {form} reads longitude/latitude, and the positions are in "
                       f"{getattr(crs, 'name', crs) or 'the layout CRS'} (projected): leave --degrees out, "
                       "or give --crs the lon/lat system they are in")
    if form != "ddmm":
        scale = 10.0 ** int(form[1:])
        return x / scale, y / scale
    return _from_ddmm(x), _from_ddmm(y)


def write_degrees(x, y, form):
    """Decimal degrees ``x``, ``y`` written in ``form`` (:data:`DEGREE_FORMS`), as
    :func:`read_degrees` reads them: whole numbers for ``e5``–``e7``, degrees and
    minutes (4 decimals, NMEA's) for ``ddmm``. For an example to send, as a
    terminal would (``gridkit serve --degrees e6``'s self-test).

    >>> write_degrees([116.412209, -71.1056], [39.900868, 42.3736], "e6")
    ([116412209, -71105600], [39900868, 42373600])
    >>> write_degrees([116.412209], [39.900868], "ddmm")
    ([11624.7325], [3954.0521])
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if form in (None, "decimal"):
        return x.tolist(), y.tolist()
    if form != "ddmm":
        return tuple(np.rint(v * 10.0 ** int(form[1:])).astype(np.int64).tolist() for v in (x, y))
    return tuple((np.sign(v) * np.round(np.trunc(np.abs(v)) * 100 + np.abs(v) % 1 * 60, 4)).tolist() for v in (x, y))


def _from_ddmm(values):
    whole = np.abs(values)
    degrees = np.floor(whole / 100)
    minutes = whole - degrees * 100
    with np.errstate(invalid="ignore"):
        return np.where(minutes < 60, np.sign(values) * (degrees + minutes / 60), values)


def position_problems(x, y, crs=None, names=None):
    """Why each point cannot be a position: ``(reason, detail)`` arrays ("" = usable).

    ``missing_coordinates`` where x or y is NaN (blank, not a number, an empty
    geometry); ``impossible_coordinates`` where ``crs`` takes lon/lat and x lies
    outside -180..180 or y outside -90..90. ``detail`` names the bad value and the fix,
    for a rejects file; ``names``, a table's x and y columns, name them there.

    Examples
    --------
    >>> reason, detail = position_problems([116.4, np.nan, 39.9], [39.9, 39.9, 116.4], "gcj02")
    >>> list(reason)
    ['', 'missing_coordinates', 'impossible_coordinates']
    >>> detail[2]
    'y = 116.4 is not a latitude (-90..90): are x and y swapped, or is the CRS wrong?'
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    reason = np.full(len(x), "", dtype=object)
    detail = np.full(len(x), "", dtype=object)
    no_x, no_y = ~np.isfinite(x), ~np.isfinite(y)
    xn, yn = names or ("x", "y")
    neither = (f"no x or y in {xn}: blank, or not a pair of numbers" if xn == yn else
               f"{xn} and {yn} are blank or not numbers" if names else
               "no x or y: blank, not numbers, or an empty geometry")
    for mask, text in ((no_x & no_y, neither),
                       (no_x & ~no_y, f"{xn} is blank or not a number"),
                       (no_y & ~no_x, f"{yn} is blank or not a number")):
        reason[mask], detail[mask] = "missing_coordinates", text
    if crs is not None and is_geographic(crs):
        bad = np.flatnonzero((reason == "") & ((np.abs(x) > 180) | (np.abs(y) > 90)))
        reason[bad] = "impossible_coordinates"
        detail[bad] = [_not_lonlat(x[i], y[i]) for i in bad]
    return reason, detail


def _not_lonlat(x, y) -> str:
    # Up to 12 digits, so a value reads as the file has it (116.4105, not 116.41).
    wrong = [f"x = {x:.12g} is not a longitude (-180..180)"] if abs(x) > 180 else []
    wrong += [f"y = {y:.12g} is not a latitude (-90..90)"] if abs(y) > 90 else []
    if looks_like_mercator(x, y, x, y):
        return "; ".join(wrong) + f": is the CRS wrong? {MERCATOR_HINT}"
    return "; ".join(wrong) + ": are x and y swapped, or is the CRS wrong?"


#: What to say of coordinates :func:`looks_like_mercator` finds.
MERCATOR_HINT = ("As Mercator metres they lie in China: Baidu's own (bd09mc, as Baidu Maps' pages and POI "
                 "downloads give them) or Web Mercator (EPSG:3857)")


def looks_like_mercator(minx, miny, maxx, maxy) -> bool:
    """Whether an extent could be Mercator metres in China (72–136°E, 1–55°N), Baidu's
    (``bd09mc``) or the web's (EPSG:3857): no number tells those two apart.

    >>> looks_like_mercator(12959801.66, 4824788.74, 12961447.31, 4832049.55)   # Dongcheng, Baidu's metres
    True
    """
    return bool(8_000_000 <= minx <= maxx <= 15_200_000 and 100_000 <= miny <= maxy <= 7_400_000)
