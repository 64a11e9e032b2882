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

from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from .errors import InputError

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
    x, y = locator.to_layout_xy(np.asarray(x, dtype=float), np.asarray(y, dtype=float), crs)
    n = len(x)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("every fix needs a position: leave out those without one first")
    secs = None if times is None else _seconds(times)
    if secs is not None and np.isnan(secs).any():
        raise InputError("every fix needs a time (or pass no times): leave out those without one first")
    label = np.zeros(n, dtype=np.int64) if tracks is None else pd.factorize(pd.Series(tracks), use_na_sentinel=False)[0]
    kind = np.full(n, LAST, dtype=np.int8)
    if n < 2:
        return _pieces([], [], [], [], kind, np.zeros(n), secs)
    dx, dy = np.diff(x), np.diff(y)
    length = np.append(np.hypot(dx, dy), 0.0)
    joined = label[1:] == label[:-1]
    kind[:-1] = np.where(joined, WALKED, LAST)
    if secs is not None:
        dt = np.diff(secs)
        kind[:-1][joined & (dt > max_gap)] = BREAK
        kind[:-1][joined & (dt <= max_gap) & (length[:-1] > max_speed * np.maximum(dt, 1.0))] = JUMP
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
        xy, ring = shapely.get_coordinates(shapely.get_rings(locator._every_cell[1]), return_index=True)
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
    ``first`` and ``last`` (when a track was first and last in it, in the times'
    own zone). The fixes are sorted by time within each track (``tracks`` labels
    them: a worker's ID, a GPX's track number); see :func:`track_pieces` for
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
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    label = np.zeros(n, dtype=np.int64) if tracks is None else pd.factorize(pd.Series(tracks), use_na_sentinel=False)[0]
    secs = None if times is None else _seconds(times)
    order = np.lexsort((np.arange(n), label) if secs is None else (np.arange(n), secs, label))
    x, y, label = x[order], y[order], label[order]
    secs = None if secs is None else secs[order]
    times = None if times is None else pd.Series(times).iloc[order].reset_index(drop=True)
    p = track_pieces(locator, x, y, crs=crs, times=times, tracks=label, max_gap=max_gap, max_speed=max_speed)
    seg, cell = p.segment, p.cell
    # A piece carries on the stay of the piece before it in the same cell when it
    # starts where that one ended: further along its segment, or at the start of
    # the next segment walked.
    prev = np.r_[-1, np.arange(len(seg) - 1)]
    ok = prev >= 0
    pv = np.where(ok, prev, 0)
    carried = ok & (cell == cell[pv]) & (
        ((seg == seg[pv]) & (p.start - p.end[pv] < _EPS_M)) |
        ((seg == seg[pv] + 1) & (p.end[pv] >= p.length[seg[pv]] - _EPS_M) & (p.start < _EPS_M)))
    table = pd.DataFrame({"cell": cell, "metres": p.metres, "seconds": p.seconds, "entry": ~carried,
                          "track": label[seg]})
    if secs is not None:
        dt = np.append(np.diff(secs), 0.0)
        span = np.where(p.length[seg] > 0, p.length[seg], np.inf)
        table["first"] = secs[seg] + dt[seg] * p.start / span
        table["last"] = np.where(p.length[seg] > 0, secs[seg] + dt[seg] * p.end / span, secs[seg + 1])
    groups = table.groupby("cell", sort=True)
    out = pd.DataFrame({"metres": groups["metres"].sum(), "minutes": groups["seconds"].sum(min_count=1) / 60,
                        "entries": groups["entry"].sum().astype(np.int64),
                        "tracks": groups["track"].nunique().astype(np.int64)})
    if secs is not None:
        out["first"] = _as_times(groups["first"].min().to_numpy(), times)
        out["last"] = _as_times(groups["last"].max().to_numpy(), times)
    out.index.name = None
    walked = p.kind == WALKED
    dt_all = np.append(np.diff(secs), 0.0) if secs is not None else None
    summary = {
        "fixes": n, "tracks": int(len(np.unique(label))),
        "metres_walked": float(p.length[walked].sum()), "metres_in_cells": float(p.metres.sum()),
        "minutes_walked": float(dt_all[walked].sum() / 60) if secs is not None else None,
        "minutes_in_cells": float(np.nansum(p.seconds) / 60) if secs is not None else None,
        "breaks": int((p.kind == BREAK).sum()), "jumps": int((p.kind == JUMP).sum()),
        "jump_metres": float(p.length[p.kind == JUMP].sum()),
        "minutes_in_breaks": float(dt_all[p.kind == BREAK].sum() / 60) if secs is not None else None,
        "cells_patrolled": int(len(out)),
    }
    return out, summary


def _as_times(secs, like):
    """Float seconds back as datetimes, in the zone of ``like`` (naive if it is)."""
    out = pd.to_datetime(np.round(secs * 1e6).astype(np.int64), unit="us")
    zone = getattr(like.dt, "tz", None)
    return out.tz_localize("UTC").tz_convert(zone) if zone is not None else out
