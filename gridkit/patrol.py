"""Patrol coverage: how far and how long grid workers' GPS tracks ran in each cell.

A grid worker (网格员) patrols the cells of a community; the GPS unit or phone app
logs a fix every few seconds (a GPX track, or a table of positions and times). The
manager's questions are per cell: which cells were patrolled, for how long, how
far was walked in each, how often was each entered, which were never visited.

:func:`track_pieces` is the low level: the track cut into pieces, one per stretch
of a segment (two consecutive fixes) inside one cell, exact to the cells'
polygons. :func:`patrol_coverage` sums them per cell. A segment is walked
straight between its fixes at even speed, so a piece's time is the segment's
time in proportion to its length. Two fixes further apart in time than
``max_gap`` seconds are a break in the track (the unit was off, or lost the sky),
not a walk; two whose speed between them is over ``max_speed`` a jump (a
multipath fix 2 km away), not a walk either: neither is credited to any cell, and
the summary counts both.

Most segments of a walking patrol (7 m in 5 s) lie in one cell, and the
locator's buckets show it without a polygon test: both fixes in one bucket, or in
buckets wholly inside the same cell. The others are cut by the cells' polygons
with GEOS (``STRtree`` + ``intersection``).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from .errors import InputError, checked_number
from .io import LAYER_SUFFIXES, say_blank_rows

#: Default break in a track: two fixes more than this many seconds apart.
MAX_GAP_S = 300.0
#: Default jump: faster than this between two fixes (metres a second; 150 km/h).
MAX_SPEED_MS = 150 / 3.6
_EPS_M = 1e-6  # pieces this close along a segment are one


class Pieces(NamedTuple):
    """The pieces of a track (:func:`track_pieces`): per piece, the ``segment``
    (the row of its first fix, in the order given), the ``cell`` (a locator row),
    its ``start`` and ``end`` along the segment (metres), its ``metres`` and
    ``seconds`` (NaN without times); and per segment (by its first fix's row),
    ``kind`` (0 walked, 1 a break, 2 a jump, 3 none: the last fix of a track) and
    ``length`` (metres)."""
    segment: np.ndarray
    cell: np.ndarray
    start: np.ndarray
    end: np.ndarray
    metres: np.ndarray
    seconds: np.ndarray
    kind: np.ndarray
    length: np.ndarray


WALKED, BREAK, JUMP, LAST = 0, 1, 2, 3


def _check_fixes(x, y, times, tracks, max_gap, max_speed):
    """An error when ``y``, ``times`` or ``tracks`` is not one per fix of ``x`` (the
    fixes beyond the shortest were dropped unsaid), or ``max_gap`` or ``max_speed``
    is no number above 0 (a negative gap made every segment a break, unsaid)."""
    n = len(x)
    for name, given in (("y", y), ("times", times), ("tracks", tracks)):
        if given is not None and len(given) != n:
            raise InputError(f"{name} has {len(given):,} values for {n:,} fixes in x: give one per fix")
    checked_number(max_gap, "max_gap", "seconds", infinite=True)
    checked_number(max_speed, "max_speed", "metres a second", infinite=True)


def _seconds(times):
    """Times as float seconds (NaN where missing); zoned times by their instant."""
    times = pd.Series(times)
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    if not pd.api.types.is_datetime64_dtype(times.dtype):
        raise InputError(f"times must be datetimes, not {times.dtype}")
    ns = times.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)
    ns[times.isna().to_numpy()] = np.nan
    return ns / 1e9


def track_pieces(locator, x, y, *, crs=None, times=None, tracks=None, max_gap=MAX_GAP_S,
                 max_speed=MAX_SPEED_MS) -> Pieces:
    """Cut tracks of fixes ``x``, ``y`` (in ``crs``, default the layout's) by the
    locator's cells.

    The fixes are in track order; ``tracks`` labels which track each is in (a
    change of label starts a new track), ``times`` (datetimes) are when each was
    taken. With times, segments over ``max_gap`` seconds are breaks and those over
    ``max_speed`` m/s jumps, neither cut nor credited. A stretch of a segment
    along the edge between two cells is the cell a point there is located in.
    Segments are in the order given: sort by time first (:func:`patrol_coverage`
    does).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gridkit.locator import Locator
    >>> cells = gpd.GeoDataFrame({"grid_id": ["990101900600001", "990101900600002"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=32619)
    >>> p = track_pieces(Locator(cells), [50, 150, 150], [50, 50, 60])
    >>> p.segment.tolist(), p.cell.tolist(), p.metres.tolist()
    ([0, 0, 1], [0, 1, 1], [50.0, 50.0, 10.0])
    """
    x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
    _check_fixes(x, y, times, tracks, max_gap, max_speed)
    x, y = locator.to_layout_xy(x, y, crs)
    secs = None if times is None else _seconds(times)
    return _track_pieces(locator, x, y, secs, _labels(tracks, len(x)), max_gap, max_speed)


def _track_pieces(locator, x, y, secs, label, max_gap, max_speed) -> Pieces:
    """:func:`track_pieces` of fixes in the layout's CRS, their times as seconds
    (:func:`_seconds`) and their tracks as integer labels (:func:`_labels`)."""
    n = len(x)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("every fix needs a position: leave out those without one first")
    if secs is not None and np.isnan(secs).any():
        raise InputError("every fix needs a time (or pass no times): leave out those without one first")
    kind, length = _segments(x, y, secs, label, max_gap, max_speed)
    if n < 2:
        return _pieces([], [], [], [], kind, length, secs)
    walked = np.flatnonzero(kind == WALKED)
    cell = locator.cell_index(x, y)[0]
    a, b = cell[walked], cell[walked + 1]
    x0, x1 = np.minimum(x[walked], x[walked + 1]), np.maximum(x[walked], x[walked + 1])
    y0, y1 = np.minimum(y[walked], y[walked + 1]), np.maximum(y[walked], y[walked + 1])
    whole = (a == b) & (a >= 0) & ((length[walked] == 0) | locator._box_in_cell(x0, y0, x1, y1, a))
    rest = walked[~whole]
    seg, hit, start, end = _cut(locator, x, y, rest)
    seg = np.concatenate([walked[whole], seg])
    return _pieces(seg, np.concatenate([a[whole], hit]), np.concatenate([np.zeros(whole.sum()), start]),
                   np.concatenate([length[walked[whole]], end]), kind, length, secs)


def _labels(tracks, n):
    """Each fix's track as an integer (all 0 without ``tracks``)."""
    return np.zeros(n, dtype=np.int64) if tracks is None else pd.factorize(pd.Series(tracks), use_na_sentinel=False)[0]


def _in_track_order(label, secs):
    """The order of the fixes by track, then time (as given where times tie or are none)."""
    n = len(label)
    return np.lexsort((np.arange(n), label) if secs is None else (np.arange(n), secs, label))


def _segments(x, y, secs, label, max_gap, max_speed):
    """``(kind, length)`` of each segment, by the row of its first fix (:class:`Pieces`)."""
    n = len(x)
    kind = np.full(n, LAST, dtype=np.int8)
    length = np.append(np.hypot(np.diff(x), np.diff(y)), 0.0) if n else np.zeros(0)
    joined = label[1:] == label[:-1]
    kind[:-1] = np.where(joined, WALKED, LAST)
    if secs is not None and n:
        dt = np.diff(secs)
        kind[:-1][joined & (dt > max_gap)] = BREAK
        kind[:-1][joined & (dt <= max_gap) & (length[:-1] > max_speed * np.maximum(dt, 1.0))] = JUMP
    return kind, length


def _cut(locator, x, y, rest):
    """The pieces of segments ``rest`` (rows of their first fixes) between the
    places they cross a cell's edge: ``(segment, cell, start, end)``. Each piece's
    cell is the locator's answer at its middle, so a stretch along an edge shared
    by two cells goes to one of them, as a point there would."""
    tx0, ty0, tx1, ty1, tree = _edges(locator)
    px, py, qx, qy = x[rest], y[rest], x[rest + 1], y[rest + 1]
    rx, ry = qx - px, qy - py
    with locator._geos_lock:
        line, edge = tree.query(shapely.linestrings(np.stack([np.column_stack([px, py]), np.column_stack([qx, qy])],
                                                             axis=1)))
    # Where segment P + t·r meets edge E + u·s: t = (E − P) × s / (r × s), u = (E − P) × r / (r × s).
    sx, sy = tx1[edge] - tx0[edge], ty1[edge] - ty0[edge]
    ex, ey = tx0[edge] - px[line], ty0[edge] - py[line]
    denom = rx[line] * sy - ry[line] * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (ex * sy - ey * sx) / denom
        u = (ex * ry[line] - ey * rx[line]) / denom
    # An edge along the segment cuts nothing: the edges at its ends do.
    crossing = (denom != 0) & (t > 0) & (t < 1) & (u >= 0) & (u <= 1)
    k = len(rest)
    cut_line = np.concatenate([np.arange(k), np.arange(k), line[crossing]])
    cut_t = np.concatenate([np.zeros(k), np.ones(k), t[crossing]])
    order = np.lexsort((cut_t, cut_line))
    cut_line, cut_t = cut_line[order], cut_t[order]
    same = cut_line[1:] == cut_line[:-1]
    piece, t0, t1 = cut_line[:-1][same], cut_t[:-1][same], cut_t[1:][same]
    middle = (t0 + t1) / 2
    cell = locator.cell_index(px[piece] + middle * rx[piece], py[piece] + middle * ry[piece])[0]
    span = np.hypot(rx, ry)[piece]
    keep = (cell >= 0) & ((t1 - t0) * span > _EPS_M)
    return rest[piece[keep]], cell[keep], t0[keep] * span[keep], t1[keep] * span[keep]


def _edges(locator):
    """The edges of every cell's rings, as coordinate arrays ``(x0, y0, x1, y1)``,
    and an ``STRtree`` of them: made once per locator."""
    cached = locator.__dict__.get("_patrol_edges")
    if cached is None:
        xy, ring = shapely.get_coordinates(shapely.get_rings(locator._polygons), return_index=True)
        same = ring[1:] == ring[:-1]
        x0, y0, x1, y1 = xy[:-1, 0][same], xy[:-1, 1][same], xy[1:, 0][same], xy[1:, 1][same]
        tree = shapely.STRtree(shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])],
                                                            axis=1)))
        cached = locator.__dict__["_patrol_edges"] = (x0, y0, x1, y1, tree)
    return cached


def _pieces(seg, cell, start, end, kind, length, secs):
    """:class:`Pieces` in track order, each with its metres and its share of its
    segment's seconds."""
    seg, cell = np.asarray(seg, dtype=np.int64), np.asarray(cell, dtype=np.int64)
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    order = np.lexsort((start, seg))
    seg, cell, start, end = seg[order], cell[order], start[order], end[order]
    metres = end - start
    if secs is None:
        seconds = np.full(len(seg), np.nan)
    else:
        dt = np.append(np.diff(secs), 0.0)
        span = length[seg]
        # a fix repeated in place (standing still) gives its whole time to its cell
        seconds = np.where(span > 0, dt[seg] * metres / np.where(span > 0, span, 1.0), dt[seg])
    return Pieces(seg, cell, start, end, metres, seconds, kind, length)


def patrol_coverage(locator, x, y, *, crs=None, times=None, tracks=None, max_gap=MAX_GAP_S,
                    max_speed=MAX_SPEED_MS):
    """Per cell, how far and how long the tracks of fixes ``x``, ``y`` ran in it:
    ``(table, summary)``.

    ``table`` has a row per cell a track ran in (its index the locator's row):
    ``metres``, ``minutes`` (NaN without ``times``), ``entries`` (how many times a
    track came into the cell), ``tracks`` (how many tracks did) and, with times,
    ``first_at`` and ``last_at`` (when a track was first and last in it, to the
    second, in the times' own zone). The fixes are sorted by time within each
    track (``tracks`` labels them: a worker's ID, a GPX's track); see :func:`track_pieces` for
    breaks and jumps. ``summary`` counts the fixes, tracks, metres and minutes
    walked, inside the cells and outside every one, and the breaks and jumps.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gridkit.locator import Locator
    >>> cells = gpd.GeoDataFrame({"grid_id": ["990101900600001", "990101900600002"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=32619)
    >>> times = pd.to_datetime(["08:00", "08:02", "08:03", "09:00"], format="%H:%M")
    >>> table, summary = patrol_coverage(Locator(cells), [50, 150, 50, 60], [50, 50, 50, 50], times=times)
    >>> table[["metres", "minutes", "entries"]]
       metres  minutes  entries
    0   100.0      1.5        2
    1   100.0      1.5        1
    >>> summary["breaks"], summary["minutes_walked"]
    (1, 3.0)
    """
    x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
    _check_fixes(x, y, times, tracks, max_gap, max_speed)
    n = len(x)
    label = _labels(tracks, n)
    secs = None if times is None else _seconds(times)
    order = _in_track_order(label, secs)
    x, y = locator.to_layout_xy(x[order], y[order], crs)
    label = label[order]
    secs = None if secs is None else secs[order]
    p = _track_pieces(locator, x, y, secs, label, max_gap, max_speed)  # the times as seconds, converted once
    seg, cell = p.segment, p.cell
    # A piece carries on the stay of the piece before it in the same cell when it
    # starts where that one ended: further along its segment, or at the start of
    # the next segment walked.
    prev = np.arange(len(seg)) - 1  # none before the first (and no piece at all: every step a jump or a break)
    ok = prev >= 0
    pv = np.where(ok, prev, 0)
    carried = ok & (cell == cell[pv]) & (
        ((seg == seg[pv]) & (p.start - p.end[pv] < _EPS_M)) |
        ((seg == seg[pv] + 1) & (p.end[pv] >= p.length[seg[pv]] - _EPS_M) & (p.start < _EPS_M)))
    table = pd.DataFrame({"cell": cell, "metres": p.metres, "seconds": p.seconds, "entry": ~carried,
                          "track": label[seg]})
    dt = np.append(np.diff(secs), 0.0) if secs is not None else None
    if secs is not None:
        span = np.where(p.length[seg] > 0, p.length[seg], np.inf)
        table["first_at"] = secs[seg] + dt[seg] * p.start / span
        table["last_at"] = np.where(p.length[seg] > 0, secs[seg] + dt[seg] * p.end / span, secs[seg + 1])
    groups = table.groupby("cell", sort=True)
    out = pd.DataFrame({"metres": groups["metres"].sum(), "minutes": groups["seconds"].sum(min_count=1) / 60,
                        "entries": groups["entry"].sum().astype(np.int64),
                        "tracks": groups["track"].nunique().astype(np.int64)})
    if secs is not None:
        out["first_at"] = _as_times(groups["first_at"].min().to_numpy(), pd.Series(times))
        out["last_at"] = _as_times(groups["last_at"].max().to_numpy(), pd.Series(times))
    out.index.name = None
    walked = p.kind == WALKED
    summary = {
        "fixes": n, "tracks": int(len(np.unique(label))),
        "metres_walked": float(p.length[walked].sum()), "metres_in_cells": float(p.metres.sum()),
        "minutes_walked": float(dt[walked].sum() / 60) if secs is not None else None,
        "minutes_in_cells": float(np.nansum(p.seconds) / 60) if secs is not None else None,
        "breaks": int((p.kind == BREAK).sum()), "jumps": int((p.kind == JUMP).sum()),
        "jump_metres": float(p.length[p.kind == JUMP].sum()),
        "minutes_in_breaks": float(dt[p.kind == BREAK].sum() / 60) if secs is not None else None,
        "cells_patrolled": int(len(out)),
    }
    return out, summary


def _as_times(secs, like):
    """Float seconds back as datetimes to the second (as GPS units log them), in the
    zone of ``like`` (naive if it is)."""
    out = pd.to_datetime(np.round(secs).astype(np.int64), unit="s")
    zone = getattr(like.dt, "tz", None)
    return out.tz_localize("UTC").tz_convert(zone) if zone is not None else out


#: Column names read as a fix's time when none is named (case and a bracketed unit aside).
TIME_NAMES = ("time", "timestamp", "datetime", "date_time", "gps_time", "gpstime", "fix_time", "utc_time",
              "时间", "定位时间", "采集时间", "上报时间", "轨迹时间", "时间戳", "gps时间")
#: Column names read as the one telling the tracks apart (a worker's or device's) when none
#: is named and the file is no GPX: as patrol apps and vehicle terminals export them.
TRACK_NAMES = ("track", "track_id", "track_name", "worker", "worker_id", "device", "device_id", "deviceid", "imei",
               "terminal", "terminal_id", "vehicle", "vehicle_id", "plate", "inspector", "inspector_id", "user_id",
               "user", "username", "设备号", "设备编号", "设备id", "设备名称", "终端号", "终端编号", "终端id", "车牌号",
               "车牌", "车辆编号", "巡查员", "巡查人", "巡查人员", "网格员", "人员", "人员编号", "人员id", "工号",
               "用户id", "用户名", "姓名", "人员姓名", "网格员姓名", "巡查员姓名", "巡查人姓名", "轨迹编号", "轨迹id")
#: Columns holding the date of a fix whose time column holds only the time of day (日期 beside 时间).
DATE_NAMES = ("date", "gps_date", "fix_date", "utc_date", "日期", "定位日期", "采集日期", "上报日期", "轨迹日期")
_TIME_OF_DAY = r"\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?\s*"
#: Which cells the coverage lists: those of every community a track ran in, every cell, or those patrolled.
SCOPES = ("community", "all", "patrolled")


def check_time_zone(time_zone):
    """An error unless ``time_zone`` is an IANA time zone (``Asia/Shanghai``, ``UTC``):
    'Mars/Olympus' was a ZoneInfoNotFoundError from pandas, '' an IndexError, once
    the file was read."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(f"{time_zone!r} is no time zone: give an IANA name, Asia/Shanghai or UTC") from None


def read_fixes(path, *, layer=None, crs=None, x_field=None, y_field=None, time_field=None, track_field=None,
               encoding=None, time_zone=None, date_field=None, degrees=None, locator=None):
    """One file of GPS fixes: ``(fixes, rejects)``.

    ``fixes`` has ``x``, ``y`` (in the file's CRS, ``fixes.attrs["crs"]``),
    ``time`` (when the file has a time column: ``time_field``, or one of
    :data:`TIME_NAMES`), ``track`` (the file's name, then ``track_field``'s value,
    a GPX track's name or number, or the value of a column named as in
    :data:`TRACK_NAMES`, which ``fixes.attrs["track_guessed"]`` names) and
    ``row`` (the file's row number). A GPX is read
    from its track points unless ``layer`` names another. ``rejects`` holds the
    rows with no position or no readable time, with ``row``, ``reason`` and
    ``detail``. ``time_zone`` (``Asia/Shanghai``): times with a zone are shown in
    it, and times without one are taken to be in it.

    A time column of times of day alone (``08:15:03``, a workbook's time cells)
    takes its dates from ``date_field``, or from a column named as in
    :data:`DATE_NAMES` (日期). With no date column, each track's times are read
    as one day's in the file's order, a day later each time they go back by more
    than 12 hours (a walk past midnight). ``fixes.attrs`` says which: ``date_field``
    and ``past_midnight`` (how many times a day was added); ``times_of_day``
    whether the times were times of day alone.

    ``degrees``: how the lon/lat numbers are written, when not as decimal degrees
    (:func:`gridkit.coords.read_degrees`). With the ``locator`` of the layout, a
    fix outside it whose coordinates were misread (latitude and longitude swapped,
    millionths of a degree, 0) is rejected with the reason that names the fix, as
    ``gridkit locate`` rejects a point (:meth:`Locator.mark_misread`).
    """
    from . import coords
    from .batch import rejects_table
    from .catalogue import _bare, read_inventory
    from .io import source_rows
    from .locator import require_locator

    if time_zone is not None:
        check_time_zone(time_zone)
    if locator is not None:
        require_locator(locator)

    path = Path(path)
    if layer is None and path.suffix.lower() == ".gpx":
        layer = "track_points"
    frame, x, y, in_crs = read_inventory(path, layer=layer, crs=crs, x_field=x_field, y_field=y_field,
                                         encoding=encoding, keep_xy=True)
    x, y = coords.read_degrees(x, y, degrees, in_crs)
    reason, detail = coords.position_problems(x, y, in_crs, names=frame.attrs.get("xy_fields"))
    say_blank_rows(frame, reason, detail)  # a table's 合计 line, an NMEA log's epoch with no fix …
    if locator is not None and in_crs is not None:
        _misread(locator, x, y, in_crs, reason, detail, degrees)
    names = {_bare(str(c)): c for c in frame.columns}
    found = time_field if time_field is not None else next((names[n] for n in TIME_NAMES if n in names), None)
    if found is not None and found not in frame.columns:
        raise InputError(f"{path}: --time-field {found!r} is not a column (the columns: "
                         f"{', '.join(map(str, frame.columns))})")
    if date_field is not None and date_field not in frame.columns:
        raise InputError(f"{path}: --date-field {date_field!r} is not a column (the columns: "
                         f"{', '.join(map(str, frame.columns))})")
    fixes = pd.DataFrame({"x": x, "y": y, "row": source_rows(frame)})
    unnamed = track_field is None and "track_fid" not in frame.columns  # no GPX: a worker's column, found by name
    guessed = next((names[n] for n in TRACK_NAMES if n in names), None) if unnamed else None
    _track_labels(fixes, frame, path, track_field if guessed is None else guessed)
    dated, rolled, of_day = None, 0, None
    if found is not None:
        column, of_day = frame[found], _time_of_day(frame[found])
        if of_day is not None:
            dated = date_field if date_field is not None else next((names[n] for n in DATE_NAMES if n in names),
                                                                   None)
            if dated is not None:
                column = _on_dates(frame[dated], of_day)
            else:
                column, rolled = _past_midnight(of_day, fixes["track"].to_numpy())
        times, unread = _fix_times(column, time_zone)
        fixes["time"] = times.to_numpy()
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            fixes["time"] = times.set_axis(fixes.index)
        given = frame[found].notna().to_numpy() & (frame[found].astype(str).str.strip() != "").to_numpy()
        blank = unread & ~given & (reason == "")
        wrong = unread & ~blank & (reason == "")
        reason[blank], detail[blank] = "missing_time", f"{found} is blank"
        reason[wrong] = "bad_time"
        detail[wrong] = [f"{found} = {v!r} is no date and time" for v in frame[found].to_numpy()[wrong]]
        if dated is not None:
            undated = wrong & frame[dated].notna().to_numpy()
            detail[wrong] = [f"{dated} = {d!r} with {found} = {t!r} is no date and time" if u else
                             f"{dated} is blank (the date of {found} = {t!r})" for d, t, u in
                             zip(frame[dated].to_numpy()[wrong], frame[found].to_numpy()[wrong], undated[wrong])]
    one_track = unnamed and guessed is None and "nmea_skipped" not in frame.attrs  # a receiver's log: one receiver's
    candidates = _track_candidates(frame, {found, dated, *(frame.attrs.get("xy_fields") or ())}) if one_track else []
    bad = reason != ""
    rejects = rejects_table(frame.drop(columns="geometry", errors="ignore").loc[bad], fixes["row"].to_numpy()[bad],
                            reason[bad], detail[bad])
    fixes = fixes.loc[~bad].reset_index(drop=True)
    fixes.attrs.update(crs=in_crs, time_field=found, times_of_day=of_day is not None, date_field=dated,
                       past_midnight=rolled, nmea_skipped=frame.attrs.get("nmea_skipped"), track_guessed=guessed,
                       track_candidates=candidates, crs_stated=frame.attrs.get("crs_stated", True))
    return fixes, rejects


def _track_candidates(frame, taken, most=3):
    """Columns of ``frame`` (not those ``taken``: position, time, date) that could
    tell several workers' fixes apart, for the hint of a file read as one track: text
    or whole numbers, from 2 to 50 values, each repeated (a twentieth of the rows at
    most), in an evenly spaced sample of 20,000 rows; at most ``most``."""
    from .locator import evenly_spaced

    sample = frame.iloc[evenly_spaced(len(frame), 20_000)]
    rows = max(len(sample), 1)
    found = []
    for column in frame.columns:
        values = sample[column]
        if column in taken or column == "geometry" or pd.api.types.is_float_dtype(values.dtype) \
                or pd.api.types.is_datetime64_any_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        distinct = values.nunique(dropna=True)
        if 2 <= distinct <= min(50, rows / 20):
            found.append(str(column))
    return found[:most]


def _misread(locator, x, y, crs, reason, detail, degrees):
    """Give the fixes whose coordinates were misread the reason that names the fix
    (in place): those rejected as not lon/lat, and those outside the layout's box
    in ``crs``, whose other reading (swapped, scaled, in degrees and minutes; as
    written, when read from the form ``degrees``) lies in the layout, or that are
    0. A fix outside the layout otherwise stays: a worker may walk out of it."""
    from .locator import INSIDE, OUTSIDE

    minx, miny, maxx, maxy, margin, _ = locator._box_in(crs)
    far = (reason == "") & ~((x >= minx - margin) & (x <= maxx + margin) & (y >= miny - margin)
                             & (y <= maxy + margin))
    locator.mark_misread(x, y, crs, reason, detail, np.where(far, OUTSIDE, INSIDE), degrees=degrees)


def _track_labels(fixes, frame, path, track_field):
    """``fixes["track"]``: the file's name, then ``track_field``'s value or a GPX
    track's name or number."""
    if track_field is not None:
        if track_field not in frame.columns:
            raise InputError(f"{path}: --track-field {track_field!r} is not a column (the columns: "
                             f"{', '.join(map(str, frame.columns))})")
        fixes["track"] = frame[track_field].astype(str).to_numpy()
    elif "track_fid" in frame.columns:  # a GPX's track points: each track by its name (a worker's), else number
        fixes["track"] = _gpx_track_names(path, frame["track_fid"])
    else:
        fixes["track"] = ""
    fixes["track"] = path.name + (":" + fixes["track"]).where(fixes["track"] != "", "")


def _time_of_day(column):
    """The column as times since midnight when every value given is a time of day
    alone (``08:15``, ``08:15:03.5``, a workbook's time cell), else None."""
    import datetime

    values = pd.Series(column).reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(values.dtype):
        return None
    clock = values.dropna().head(1).map(lambda v: v.isoformat() if isinstance(v, datetime.time) else str(v))
    if len(clock) and not re.fullmatch(_TIME_OF_DAY, clock.iloc[0]):  # the first says: a whole file unread
        return None
    text = values.map(lambda v: v.isoformat() if isinstance(v, datetime.time) else v, na_action="ignore")
    text = text.astype(object).where(text.notna(), None)
    given = text.notna() & (text.astype(str).str.strip() != "")
    if not given.any() or not text[given].astype(str).str.fullmatch(_TIME_OF_DAY).all():
        return None
    clock = text[given].astype(str).str.strip()
    clock = clock.where(clock.str.count(":") == 2, clock + ":00")  # 08:15 → 08:15:00
    out = pd.Series(pd.NaT, index=values.index, dtype="timedelta64[ns]")
    out[given] = pd.to_timedelta(clock, errors="coerce").where(lambda t: t < pd.Timedelta(days=1))
    return out


def _on_dates(dates, of_day):
    """The dates of ``dates`` (text, or a workbook's dates) at the times ``of_day``."""
    day = pd.Series(dates).reset_index(drop=True)
    if not pd.api.types.is_datetime64_any_dtype(day.dtype):
        day = pd.to_datetime(day.astype(object).where(day.notna(), None), errors="coerce", format="mixed")
    return day.dt.tz_localize(None).dt.normalize() + of_day if isinstance(day.dtype, pd.DatetimeTZDtype) \
        else day.dt.normalize() + of_day


def _past_midnight(of_day, track):
    """``(times, rolled)``: the times of day ``of_day`` as one day's (today's, as a
    time alone reads), in the file's order per ``track``, a day later each time
    they go back by more than 12 hours: 23:59:50 then 00:00:00 is ten seconds on."""
    from .nmea import days_past_midnight

    seconds = of_day.dt.total_seconds().to_numpy()
    order = np.lexsort((np.arange(len(seconds)), track))
    days, rolled = days_past_midnight(seconds[order], track[order])
    out = np.empty(len(seconds))
    out[order] = seconds[order] + days * 86400
    today = pd.Timestamp.today().normalize()
    return pd.Series(today + pd.to_timedelta(out, unit="s")), rolled


def _gpx_track_names(path, track_fid):
    """Each GPX track point's track, by the track's ``<name>`` where it has one,
    else by its number."""
    import pyogrio

    names = pyogrio.read_dataframe(path, layer="tracks", read_geometry=False, columns=["name"])["name"]
    number = track_fid.to_numpy(dtype=np.int64)
    named = names.reindex(number).to_numpy(dtype=object)
    return np.where(pd.isna(named), number.astype(str), named.astype(str))


def _fix_times(column, time_zone=None):
    """``(times, unread)``: a column of times as datetimes (NaT where ``unread``):
    dates and times already, text in any of the usual forms, or seconds (or
    milliseconds) since 1970 as numbers."""
    values = pd.Series(column).reset_index(drop=True)
    if not (pd.api.types.is_datetime64_any_dtype(values.dtype)):
        if pd.api.types.is_numeric_dtype(values.dtype):
            unit = "ms" if values.abs().max() > 1e11 else "s"
            values = pd.to_datetime(values, unit=unit, errors="coerce", utc=True)
        else:
            text = values.astype(object).where(values.notna(), None)
            try:
                values = pd.to_datetime(text, errors="coerce", format="mixed")
            except (ValueError, TypeError):
                values = None
            if values is None or values.dtype == object:  # offsets that differ: by their instant
                values = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    if time_zone is not None:
        values = (values.dt.tz_convert(time_zone) if isinstance(values.dtype, pd.DatetimeTZDtype)
                  else values.dt.tz_localize(time_zone))
    return values, values.isna().to_numpy()


def coverage_cells(locator, table, *, scope="community", units=None):
    """The cells of ``scope`` (:data:`SCOPES`) as a GeoDataFrame in the layout's
    CRS: ``grid_id`` and the hierarchy, then ``patrolled`` and ``table``'s
    columns (:func:`patrol_coverage`; 0 metres, minutes and entries for a cell no
    track ran in). ``community``: the cells of every community a track ran in (all
    cells when the layout names no communities). ``units``: codes or names of
    communities, streets or districts (:meth:`Locator.cells_in`); the scope is
    taken among their cells alone."""
    from .io import require_frame
    from .locator import require_locator

    if scope not in SCOPES:
        raise InputError(f"scope is one of {', '.join(SCOPES)}, not {scope!r}")
    require_locator(locator)
    require_frame(table, "the coverage table", fix="give the table patrol_coverage() returns first", one=True,
                  geometry=False)
    rows = np.arange(len(locator))
    patrolled = np.isin(rows, table.index.to_numpy())
    if units:
        rows = rows[locator.cells_in(units)[0]]
    if scope == "patrolled":
        rows = rows[patrolled[rows]]
    elif scope == "community" and "community_code" in locator.attributes:
        community = locator.codes("community_code", rows)[0]
        rows = rows[np.isin(community, np.unique(community[patrolled[rows]]))]
    out = locator.cell_frame(rows)
    out.insert(len(out.columns) - 1, "patrolled", patrolled[rows])
    joined = table.reindex(rows)
    counted = {"metres", "entries", "tracks"} | ({"minutes"} if table["minutes"].notna().any() else set())
    for name in table.columns:  # a cell not patrolled: 0 of what was counted; no first or last time
        values = joined[name].fillna(0).to_numpy() if name in counted else joined[name].to_numpy()
        out.insert(len(out.columns) - 1, name, values)
    out["entries"], out["tracks"] = out["entries"].astype(np.int64), out["tracks"].astype(np.int64)
    return out


def track_lines(locator, fixes, *, crs=None, max_gap=MAX_GAP_S, max_speed=MAX_SPEED_MS):
    """The walked part of each track of ``fixes`` (:func:`read_fixes`'s columns,
    ``x``/``y`` in ``crs``) as lines in the layout's CRS, one row per track with
    ``fixes``, ``metres``, ``minutes``, ``breaks`` and ``jumps``."""
    import geopandas as gpd

    _check_fixes(fixes["x"], fixes["y"], None, None, max_gap, max_speed)
    secs = _seconds(fixes["time"]) if "time" in fixes else None
    order = _in_track_order(_labels(fixes["track"], len(fixes)), secs)
    fixes = fixes.iloc[order].reset_index(drop=True)
    secs = None if secs is None else secs[order]
    x, y = locator.to_layout_xy(fixes["x"].to_numpy(dtype=float), fixes["y"].to_numpy(dtype=float), crs)
    label = _labels(fixes["track"], len(fixes))
    kind, length = _segments(x, y, secs, label, max_gap, max_speed)  # the lines need no cutting
    walked = np.flatnonzero(kind == WALKED)
    segs = shapely.linestrings(np.stack([np.column_stack([x[walked], y[walked]]),
                                         np.column_stack([x[walked + 1], y[walked + 1]])], axis=1))
    names = pd.unique(fixes["track"])
    lines = np.full(len(names), None, dtype=object)
    if len(walked):
        merged = shapely.multilinestrings(segs, indices=label[walked])
        lines[np.unique(label[walked])] = shapely.line_merge(merged)
    dt = np.append(np.diff(secs), 0.0) if secs is not None else None
    per = pd.DataFrame({"label": label, "metres": np.where(kind == WALKED, length, 0),
                        "seconds": np.where(kind == WALKED, dt, 0) if dt is not None else np.nan,
                        "breaks": kind == BREAK, "jumps": kind == JUMP}).groupby("label")
    out = pd.DataFrame({"track": names, "fixes": per.size().to_numpy(), "metres": per["metres"].sum().to_numpy(),
                        "minutes": per["seconds"].sum(min_count=1).to_numpy() / 60,
                        "breaks": per["breaks"].sum().to_numpy(), "jumps": per["jumps"].sum().to_numpy()})
    return gpd.GeoDataFrame(out, geometry=lines, crs=locator.crs)


def patrol_file(tracks, package, output, *, layer=None, crs=None, x_field=None, y_field=None, time_field=None,
                track_field=None, encoding=None, time_zone=None, max_gap=MAX_GAP_S, max_speed=MAX_SPEED_MS,
                scope="community", rejects_path=None, overwrite=False, grid_layer=None, id_field="grid_id",
                grid_crs=None, date_field=None, degrees=None, units=None):
    """Patrol coverage of the track files ``tracks`` against a grid package, written
    to ``output``: a GeoPackage (layers ``coverage``, the cells of ``scope`` with
    :func:`coverage_cells`' columns, and ``tracks``, the walked lines of
    :func:`track_lines`), GeoJSON (the coverage, WGS84), CSV or .xlsx (the coverage
    table). Rows with no position or time, or whose position was misread (swapped,
    ``degrees`` not given: :func:`read_fixes`), go to ``rejects_path`` (default
    ``<output stem>.rejects.csv``) with the reason. Times of day alone take their
    dates from ``date_field`` (:func:`read_fixes`); the summary's ``times_of_day`` says how
    the times were read, and its ``track_fields_found`` the columns found by name that
    told the tracks apart; ``track_candidates``, in a file read as one track, the
    columns that could (a few values, each repeated). ``units``: the coverage lists
    only these communities', streets' or districts' cells (codes or names), and the
    summary's ``units`` says them and the metres and minutes walked in them.
    ``package`` may be any polygon file (``grid_layer``, ``id_field``, ``grid_crs``:
    :meth:`Locator.from_package`'s ``layer``, ``id_field`` and ``crs``).
    Returns ``(summary, cells, lines)``.
    """
    from .batch import rejects_file, rejects_written
    from .io import refuse_replacing_input, write_layers
    from .locator import Locator

    output = Path(output)
    if output.suffix.lower() not in LAYER_SUFFIXES:
        raise InputError(f"{output}: patrol coverage is written to {', '.join(LAYER_SUFFIXES)}")
    if output.exists() and not overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it")
    tracks = [Path(t) for t in ([tracks] if isinstance(tracks, (str, Path)) else tracks)]
    for written in (output, rejects_file(output, rejects_path)):
        refuse_replacing_input(written, {**{"a track file": t for t in tracks}, "the grid": package})
    locator = Locator.from_package(package, layer=grid_layer, id_field=id_field, crs=grid_crs)
    chosen = locator.cells_in(units)[1] if units else None  # a unit the layout lacks: said before any reading
    read, rejected, hints = [], [], []
    for path in tracks:
        fixes, rejects = read_fixes(path, layer=layer, crs=crs, x_field=x_field, y_field=y_field,
                                    time_field=time_field, track_field=track_field, encoding=encoding,
                                    time_zone=time_zone, date_field=date_field, degrees=degrees, locator=locator)
        hint = locator.offset_hint(fixes["x"], fixes["y"], fixes.attrs["crs"], stated=fixes.attrs["crs_stated"])
        if hint:  # lon/lat in the wrong one of China's systems (an app on Amap's GCJ-02 read as GPS)
            hints.append(hint if len(tracks) == 1 else f"{path.name}: {hint}")
        fixes["x"], fixes["y"] = locator.to_layout_xy(fixes["x"].to_numpy(), fixes["y"].to_numpy(), fixes.attrs["crs"])
        read.append(fixes)
        rejected.append(rejects.assign(file=path.name) if len(tracks) > 1 else rejects)
    timed = {"time" in f for f in read}
    if len(timed) > 1:
        raise InputError(f"{', '.join(t.name for t, f in zip(tracks, read) if 'time' not in f)} "
                         "has no time column and the others have: name it with --time-field, or patrol them apart")
    zoned = {isinstance(f["time"].dtype, pd.DatetimeTZDtype) for f in read if "time" in f}
    if len(zoned) > 1:
        raise InputError("some files' times have a time zone (a GPX's are UTC) and some have none: pass "
                         "--time-zone (Asia/Shanghai) to say which zone those without one are in")
    fixes = pd.concat(read, ignore_index=True)
    rejects = pd.concat(rejected, ignore_index=True)
    if not len(fixes) and not len(rejects):  # a CSV's header alone (it was an IndexError)
        raise InputError(f"{', '.join(t.name for t in tracks)}: no rows, no fixes: nothing was patrolled")
    if not len(fixes):
        first = rejects.iloc[0]
        raise InputError(f"{', '.join(t.name for t in tracks)}: no fix has a position"
                         + (" and a time" if True in timed else "") + f": row {first['row']}: {first['detail']}"
                         + (f" (and {len(rejects) - 1:,} more)" if len(rejects) > 1 else ""))
    times = fixes["time"] if "time" in fixes else None
    of_day = [f.attrs for f in read if f.attrs["times_of_day"]]
    read_times = {"date_fields": sorted({a["date_field"] for a in of_day if a["date_field"] is not None}),
                  "files_without_dates": sum(a["date_field"] is None for a in of_day),
                  "past_midnight": sum(a["past_midnight"] for a in of_day)}
    table, summary = patrol_coverage(locator, fixes["x"].to_numpy(), fixes["y"].to_numpy(), times=times,
                                     tracks=fixes["track"], max_gap=max_gap, max_speed=max_speed)
    cells = coverage_cells(locator, table, scope=scope, units=units)
    lines = track_lines(locator, fixes, max_gap=max_gap, max_speed=max_speed)
    summary.update(files=len(tracks), rejected=int(len(rejects)),
                   rejected_by_reason={k: int(v) for k, v in rejects["reason"].value_counts().items()},
                   scope=scope, cells_in_scope=int(len(cells)), times_of_day=read_times,
                   track_fields_found=sorted({f.attrs["track_guessed"] for f in read} - {None}),
                   track_candidates=list(dict.fromkeys(c for f in read for c in f.attrs["track_candidates"])),
                   communities=_per_community(cells) if "community_code" in cells else [])
    if chosen:  # what the walk gave the units chosen
        timed = summary["minutes_walked"] is not None
        summary["units"] = {"units": chosen, "metres": float(cells["metres"].sum()),
                            "minutes": float(cells["minutes"].sum()) if timed else None}
    if hints:  # the first file's, as the others' say the same of theirs
        more = len(hints) - 1
        summary["offset_hint"] = hints[0] + (f" ({more} more file{'s' if more > 1 else ''} alike)" if more else "")
    skipped = [f.attrs["nmea_skipped"] for f in read if f.attrs["nmea_skipped"] is not None]
    if skipped:  # an NMEA log's lines that are no fix (satellite sentences, noise), over every log
        summary["nmea_skipped"] = dict(sum(map(Counter, skipped), Counter()))
    with rejects_written(rejects, rejects_file(output, rejects_path)):
        write_layers([("coverage", cells), ("tracks", lines)], output, overwrite=overwrite)
    summary["rejects_file"] = str(rejects_file(output, rejects_path))
    return summary, cells, lines


def _per_community(cells):
    """Per community of ``cells``: code, name (None in a layout without names),
    cells, cells patrolled."""
    names = cells["community_name"] if "community_name" in cells else pd.Series(None, index=cells.index, dtype=object)
    groups = cells.assign(community_name=names).groupby(["community_code", "community_name"], dropna=False,
                                                        sort=True)["patrolled"]
    return [{"code": code, "name": None if pd.isna(name) else name, "cells": int(n), "patrolled": int(k)}
            for (code, name), n, k in zip(groups.size().index, groups.size(), groups.sum())]
