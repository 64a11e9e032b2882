"""NMEA 0183 logs: the sentences a GPS or BeiDou receiver writes, read as fixes.

A receiver writes a burst of sentences each second (an epoch): ``$GNRMC`` (time,
status, position, speed, course, date), ``$GNGGA`` (time, position, fix quality,
satellites, HDOP, altitude), ``$GNGLL`` (position, time, status), and sentences
about the satellites (``GSV``, ``GSA``), which hold no position. The talker is
``GP`` for GPS, ``BD`` or ``GB`` for BeiDou, ``GN`` for several systems at once.

:func:`read_nmea` gives one row per epoch, as a GPX gives one track point: the
position sentences that share a time are one fix, with RMC's date, speed and
course, and GGA's quality, satellites, HDOP and altitude. Positions are WGS84
lon/lat (NMEA's ``dddmm.mmmm`` read by :func:`gridkit.coords.read_degrees`).

Nothing is dropped unsaid. An epoch with no fix (RMC status ``V``, GGA quality
0: the receiver had not found its position) and a position sentence whose
checksum does not match its text (a line damaged in the log) are rows with no
position and a ``problem`` saying why, which the rejects file then lists by its
reason (``no_fix``, ``bad_checksum``, ``cut_short``: :func:`say_problems`); the
satellite sentences and lines that are no NMEA sentence are counted in
``attrs["nmea_skipped"]``.

Hand-written, not pynmea2: pynmea2 parses one line per Python call, and a day's
log at one fix a second is a quarter of a million lines. Here the sentences are
matched and split by Arrow's compute functions at once, and the checksums taken
with one ``numpy.bitwise_xor.reduceat`` over their bytes. A day's log at one
fix a second (259,200 lines) took 1.48 s here and 3.41 s by the pynmea2 script,
though 451 MB against 179 MB at peak (``benchmarks/bench_nmea.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

#: What a log of NMEA sentences may be called; a .txt or .log is read as one when its first lines are sentences.
NMEA_SUFFIXES = (".nmea", ".nma")
SNIFFED_SUFFIXES = (".txt", ".log")
_SENTENCE = re.compile(r"^\$(?P<talker>[A-Z]{2})(?P<kind>[A-Z]{3}),(?P<body>[^*]*)(?:\*(?P<sum>[0-9A-Fa-f]{2}))?$")
#: The fields of each position sentence, by position after the sentence's name.
_FIELDS = {"RMC": {"time": 0, "status": 1, "lat": 2, "ns": 3, "lon": 4, "ew": 5, "knots": 6, "course": 7, "date": 8},
           "GGA": {"time": 0, "lat": 1, "ns": 2, "lon": 3, "ew": 4, "quality": 5, "satellites": 6, "hdop": 7,
                   "altitude_m": 8},
           "GLL": {"lat": 0, "ns": 1, "lon": 2, "ew": 3, "time": 4, "status": 5}}
_KNOT_KMH = 1.852
#: What is wrong with a row that has no position (its ``problem``), and the reason a
#: rejects file gives it in place of ``missing_coordinates`` (:func:`say_problems`).
BAD_CHECKSUM = "checksum does not match the sentence: a damaged line"
CUT_SHORT = "no position in the sentence: cut short, or the receiver left it blank"
NO_FIX_GGA, NO_FIX_RMC = "no fix (GGA quality 0)", "no fix (status V: the receiver had not found its position)"
REASONS = {"no_fix": "an NMEA epoch with no fix: the receiver had not found its position (RMC status V, GGA quality 0)",
           "bad_checksum": "an NMEA sentence whose checksum does not match its text: damaged in the log",
           "cut_short": "an NMEA sentence with its position cut short or left blank"}
_REASON_OF = {BAD_CHECKSUM: "bad_checksum", CUT_SHORT: "cut_short", NO_FIX_GGA: "no_fix", NO_FIX_RMC: "no_fix"}
#: The columns of :func:`read_nmea`'s rows.
COLUMNS = ["line", "sentences", "time", "lon", "lat", "status", "quality", "satellites", "hdop", "altitude_m",
           "speed_kmh", "course", "problem"]


def is_nmea(path) -> bool:
    """Whether ``path`` is a log of NMEA sentences: by its suffix (.nmea, .nma), or a
    .txt or .log whose first line that is not blank is one."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in NMEA_SUFFIXES:
        return True
    if suffix not in SNIFFED_SUFFIXES or not path.is_file():
        return False
    with open(path, "rb") as f:
        head = f.read(4096).decode("ascii", errors="replace").lstrip("\ufeff").split("\n")
    first = next((line.strip() for line in head if line.strip()), "")
    return bool(_SENTENCE.match(first))


def read_nmea(path) -> pd.DataFrame:
    """The fixes of the NMEA log ``path``, one row per epoch (module doc), in the
    log's order: :data:`COLUMNS`. ``time`` is UTC (a datetime where RMC gives the
    date, else the time of day as text, ``13:00:05.00``); ``attrs["source_rows"]``
    numbers each row by the line of its first sentence, and
    ``attrs["nmea_skipped"]`` counts the lines that are no fix."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import coords

    text = Path(path).read_bytes().decode("ascii", errors="replace").lstrip("\ufeff")
    lines = pc.utf8_trim_whitespace(pa.array(text.splitlines(), type=pa.string()))
    parts = pc.extract_regex(lines, _SENTENCE.pattern)  # RE2, in Arrow: null where a line is no sentence
    kind = pc.struct_field(parts, "kind").to_numpy(zero_copy_only=False)
    position = np.isin(kind, list(_FIELDS))
    skipped = {f"{k} sentences (no position)": int(n) for k, n in
               pd.Series(kind[~position]).dropna().value_counts().items()}
    other = int((pd.isna(kind) & (pc.utf8_length(lines).to_numpy(zero_copy_only=False) > 0)).sum())
    if other:
        skipped["lines that are no NMEA sentence"] = other
    if not position.any():
        raise InputError(f"{path}: no position sentence (RMC, GGA or GLL) in {len(lines):,} lines; is it an NMEA "
                         "log?")
    rows = np.flatnonzero(position)
    found = parts.take(pa.array(rows))
    talker, body, given = (pc.struct_field(found, name) for name in ("talker", "body", "sum"))
    named = pc.binary_join_element_wise(talker, pc.struct_field(found, "kind"), "")
    checked = _checksums_match(pc.binary_join_element_wise(named, body, ","), given)
    values = pd.DataFrame({"line": rows + 1, "kind": kind[rows], "talker": talker.to_numpy(zero_copy_only=False)})
    values["problem"] = np.where(checked, None, BAD_CHECKSUM)
    for column in dict.fromkeys(c for where in _FIELDS.values() for c in where):  # GGA alone: no date
        values[column] = None
    padded = pc.split_pattern(pc.binary_join_element_wise(body, ",,,,,,,,,,", ""), ",")  # every field there
    for name, where in _FIELDS.items():
        mine = np.flatnonzero(values["kind"].to_numpy() == name)
        if not len(mine):
            continue
        lists = padded.take(pa.array(mine))
        for column, k in where.items():
            got = pc.list_element(lists, k).to_numpy(zero_copy_only=False)
            values.loc[mine, column] = np.where(got == "", None, got)
    short = values["problem"].isna() & values[["lat", "lon", "ns", "ew"]].isna().any(axis=1) \
        & (values["status"].fillna("A") == "A") & (values["quality"].fillna("1") != "0")
    values.loc[short, "problem"] = CUT_SHORT
    void = values["problem"].isna() & ((values["status"] == "V") | (values["quality"] == "0"))
    values.loc[void, "problem"] = np.where(values.loc[void, "kind"] == "GGA", NO_FIX_GGA, NO_FIX_RMC)
    lat = pd.to_numeric(values["lat"], errors="coerce") * np.where(values["ns"] == "S", -1, 1)
    lon = pd.to_numeric(values["lon"], errors="coerce") * np.where(values["ew"] == "W", -1, 1)
    values["lon"], values["lat"] = coords.read_degrees(lon.to_numpy(), lat.to_numpy(), "ddmm", "EPSG:4326")
    values.loc[values["problem"].notna().to_numpy(), ["lon", "lat"]] = np.nan
    return _as_rows(_epochs(values), skipped)


def say_problems(frame, reason, detail):
    """The rows of :func:`read_nmea`'s ``frame`` rejected for want of a position
    (``reason``, ``detail``: arrays, changed in place) that have a ``problem``: its
    reason (:data:`REASONS`: ``no_fix``, ``bad_checksum``, ``cut_short``), and the
    problem as the detail, so that a summary counts a void epoch apart from a damaged
    line. Nothing for a frame that is not an NMEA log's."""
    if "nmea_skipped" not in frame.attrs or "problem" not in frame.columns:
        return
    problem = frame["problem"].to_numpy(dtype=object)
    rows = np.flatnonzero((reason == "missing_coordinates") & pd.notna(problem))
    for i in rows.tolist():
        reason[i], detail[i] = _REASON_OF.get(problem[i], "missing_coordinates"), problem[i]


def _checksums_match(payload, sums):
    """Per sentence: its checksum (``*hh``) is the XOR of the bytes between ``$``
    and ``*`` (``payload``, an Arrow string array), or it has none (older
    receivers wrote none): one ``reduceat`` over the array's bytes."""
    import pyarrow as pa

    payload = pa.concat_arrays([payload]) if isinstance(payload, pa.ChunkedArray) else payload
    _, offsets, data = payload.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[payload.offset:payload.offset + len(payload) + 1]
    data = np.frombuffer(data, dtype=np.uint8)
    xor = np.zeros(len(payload), dtype=np.int64)
    some = np.flatnonzero(np.diff(ends) > 0)
    if len(some):
        # reduceat over each sentence's start: a sentence's XOR runs to the next start given, so
        # empty ones (none: a sentence always has its name) cannot run into the next
        xor[some] = np.bitwise_xor.reduceat(data[:ends[-1]], ends[some])
    sums = pd.Series(sums.to_numpy(zero_copy_only=False)).replace("", None)
    expected = sums.fillna("00").map(lambda h: int(h, 16)).to_numpy()
    return sums.isna().to_numpy() | (xor == expected)


def _epochs(values):
    """One row per epoch: consecutive good position sentences with one time (or
    none) are one fix, RMC's fields first; a damaged sentence is a row of its own."""
    good = values["problem"].isna() | values["problem"].str.startswith("no fix").fillna(False)
    same = good & good.shift(fill_value=False) & (values["time"] == values["time"].shift()) \
        & values["time"].notna()
    epoch = (~same).cumsum().to_numpy() - 1
    rank = values["kind"].map({"RMC": 0, "GGA": 1, "GLL": 2}).to_numpy()
    ranked = values.assign(epoch=epoch, rank=rank).sort_values(["epoch", "rank"], kind="stable")
    first = ranked.groupby("epoch", sort=True).first()  # the first value given, RMC's before GGA's
    n, starts = len(first), np.r_[True, np.diff(epoch) > 0]  # the epochs are runs of the log's sentences
    first["line"] = values["line"].to_numpy()[starts]
    has = sum(np.bincount(epoch[rank == r], minlength=n).astype(bool) << r for r in range(3))
    names = np.array(["", "RMC", "GGA", "RMC+GGA", "GLL", "RMC+GLL", "GGA+GLL", "RMC+GGA+GLL"], dtype=object)
    first["sentences"] = values["talker"].to_numpy()[starts] + names[has]
    fixed = np.bincount(epoch[values["problem"].isna().to_numpy()], minlength=n).astype(bool)
    first.loc[fixed, "problem"] = None  # one sentence of the epoch has the position
    located = ranked[ranked["problem"].isna()].groupby("epoch")[["lon", "lat"]].first()
    first[["lon", "lat"]] = located.reindex(first.index).to_numpy()
    return first.reset_index(drop=True)


def _as_rows(epochs, skipped):
    """The epochs as :func:`read_nmea`'s rows: the date of the nearest RMC before
    (or after) for a GGA-only epoch; speed in km/h; numbers as numbers."""
    from .io import number_rows

    date = pd.to_datetime(epochs["date"], format="%d%m%y", errors="coerce").ffill().bfill()
    hhmmss = pd.to_numeric(epochs["time"], errors="coerce")
    hours, minutes, seconds = hhmmss // 10_000, hhmmss // 100 % 100, hhmmss % 100
    seconds = (hours * 3600 + minutes * 60 + seconds).where((hours < 24) & (minutes < 60) & (seconds < 61))
    of_day = pd.to_timedelta(seconds, unit="s")
    if date.notna().any():
        time = (date + of_day).dt.tz_localize("UTC")
    else:  # GGA alone: the time of day, as a patrol's table without a date has it
        time = (pd.Timestamp(0) + of_day).dt.strftime("%H:%M:%S.%f").str[:11]
    out = pd.DataFrame({
        "line": epochs["line"].to_numpy(dtype=np.int64), "sentences": epochs["sentences"], "time": time,
        "lon": epochs["lon"].astype(float), "lat": epochs["lat"].astype(float), "status": epochs["status"],
        "quality": pd.to_numeric(epochs["quality"], errors="coerce").astype("Int64"),
        "satellites": pd.to_numeric(epochs["satellites"], errors="coerce").astype("Int64"),
        "hdop": pd.to_numeric(epochs["hdop"], errors="coerce"),
        "altitude_m": pd.to_numeric(epochs["altitude_m"], errors="coerce"),
        "speed_kmh": (pd.to_numeric(epochs["knots"], errors="coerce") * _KNOT_KMH).round(3),
        "course": pd.to_numeric(epochs["course"], errors="coerce"), "problem": epochs["problem"]})
    out = number_rows(out, out["line"].to_numpy())
    out.attrs["nmea_skipped"] = skipped
    return out
