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
log at one fix a second is a quarter of a million lines. Here the file's bytes are
an Arrow array of lines (no Python string per line), the sentences are matched and
split by Arrow's compute functions at once, and the checksums taken with one
``numpy.bitwise_xor.reduceat`` over their bytes; only each epoch's text fields
become Python strings. The lines are split 4 MB of the file at a time
(:data:`BLOCK_BYTES`), which bounds the transient arrays (about ten times a block's
size); the position sentences' values are kept and joined into epochs at the end.
A day's log at one fix a second (259,200 lines) took 0.77 s here and 4.44 s by the
pynmea2 script, at 245 MB against 178 MB at peak, 151 MB of it the process with
pandas and Arrow loaded; a week's (1,814,400 lines, 127 MB) 5.2 s against 30.1 s, at
564 MB against 545 MB (``benchmarks/bench_nmea.py``). Split whole, the week took
7.3 s and 886 MB, the day 360 MB. When each line and field was a Python string:
1.92 s and 434 MB for the day, pynmea2 4.54 s.
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
_HALF_DAY_S = 12 * 3600
_BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark, which Notepad writes
#: What is wrong with a row that has no position (its ``problem``), and the reason a
#: rejects file gives it in place of ``missing_coordinates`` (:func:`say_problems`).
BAD_CHECKSUM = "checksum does not match the sentence: a damaged line"
CUT_SHORT = "no position in the sentence: cut short, or the receiver left it blank"
NO_FIX_GGA, NO_FIX_RMC = "no fix (GGA quality 0)", "no fix (status V: the receiver had not found its position)"
REASONS = {"no_fix": "an NMEA epoch with no fix: the receiver had not found its position (RMC status V, GGA quality 0)",
           "bad_checksum": "an NMEA sentence whose checksum does not match its text: damaged in the log",
           "cut_short": "an NMEA sentence with its position cut short or left blank"}
_REASON_OF = {BAD_CHECKSUM: "bad_checksum", CUT_SHORT: "cut_short", NO_FIX_GGA: "no_fix", NO_FIX_RMC: "no_fix"}
#: A sentence's problem as read: none, or one of those above (:data:`_PROBLEMS` by number).
_FINE, _BAD, _SHORT, _VOID_GGA, _VOID_RMC = range(5)
_PROBLEMS = np.array([None, BAD_CHECKSUM, CUT_SHORT, NO_FIX_GGA, NO_FIX_RMC], dtype=object)
#: How much of a log is split into lines at a time (:func:`_blocks`).
BLOCK_BYTES = 4 * 2**20
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
        head = f.read(4096).removeprefix(_BOM).decode("ascii", errors="replace").split("\n")
    first = next((line.strip() for line in head if line.strip()), "")
    return bool(_SENTENCE.match(first))


def read_nmea(path) -> pd.DataFrame:
    """The fixes of the NMEA log ``path``, one row per epoch (module doc), in the
    log's order: :data:`COLUMNS`. ``time`` is UTC (a datetime where RMC gives the
    date, else the time of day as text, ``13:00:05.00``); ``attrs["source_rows"]``
    numbers each row by the line of its first sentence, and
    ``attrs["nmea_skipped"]`` counts the lines that are no fix."""
    import pyarrow as pa

    kinds, other, lines_read, parts = {}, 0, 0, []
    for data in _blocks(path):
        lines = _lines(data)
        found, counted, nonsense = _position_sentences(lines, lines_read)
        for kind, count in counted:
            kinds[kind] = kinds.get(kind, 0) + count
        other += nonsense
        lines_read += len(lines)
        del lines, data
        pa.default_memory_pool().release_unused()  # a block's transient arrays: 60 MB less at peak on a day's log
        if found is not None:
            parts.append(found)
    skipped = {f"{kind} sentences (no position)": count for kind, count in
               sorted(kinds.items(), key=lambda kc: -kc[1])}  # most first; a tie in the log's order
    if other:
        skipped["lines that are no NMEA sentence"] = other
    if not parts:
        raise InputError(f"{path}: no position sentence (RMC, GGA or GLL) in {lines_read:,} lines; is it an NMEA "
                         "log?")
    values = {}
    for column in list(parts[0]):  # a column at a time, each block's let go as it is joined
        got = [part.pop(column) for part in parts]
        values[column] = pa.concat_arrays(got) if isinstance(got[0], pa.Array) else np.concatenate(got)
    del parts, got
    epochs = _epochs(values)
    del values
    return _as_rows(epochs, skipped)


def _blocks(path, size=None):
    """The bytes of ``path`` in blocks of about ``size`` (:data:`BLOCK_BYTES`), each
    ending at a line's end (an LF; a lone CR in a log with old Mac line ends), so
    that a log is never held whole while its lines are split: a block's transient
    Arrow arrays take about ten times its size. A UTF-8 byte-order mark before the
    first sentence is dropped. Writable ``bytearray``s."""
    size = size or BLOCK_BYTES
    with open(path, "rb") as f:
        head = bytearray(f.read(size).removeprefix(_BOM))
        while head:
            more = f.read(size)
            cut = head.rfind(b"\n") + 1 or head.rfind(b"\r", 0, len(head) - 1) + 1  # not a CR an LF may follow
            if not more:
                yield head
                return
            if not cut:  # a line longer than a block: read on
                head += more
                continue
            yield head[:cut]
            head = head[cut:] + more


def _position_sentences(lines, before):
    """The position sentences among ``lines`` (an Arrow string array, the log's lines
    after its first ``before``): ``(values, counted, other)``, the arrays
    :func:`_epochs` takes, one entry per position sentence (None when there is
    none), the other sentences as ``(kind, count)`` pairs in the order met, and how
    many lines are no sentence (blank lines not counted)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import coords

    parts = pc.extract_regex(lines, _SENTENCE.pattern)  # RE2, in Arrow: null where a line is no sentence
    kind = pc.struct_field(parts, "kind")
    position = pc.fill_null(pc.is_in(kind, pa.array(list(_FIELDS), type=kind.type)), False)
    counted = [(c["values"], int(c["counts"])) for c in
               pc.value_counts(pc.filter(kind, pc.and_(pc.invert(position), pc.is_valid(kind)))).to_pylist()]
    other = int(pc.sum(pc.and_(pc.is_null(kind), pc.greater(pc.utf8_length(lines), 0))).as_py() or 0)
    rows = np.flatnonzero(position.to_numpy(zero_copy_only=False))
    if not len(rows):
        return None, counted, other
    found = parts.take(pa.array(rows))
    del parts, kind, position
    talker, kind, body, given = (pc.struct_field(found, name) for name in ("talker", "kind", "body", "sum"))
    matched = _checksums_match(_joined(_joined(talker, kind), body, sep=","), given)
    problem = np.where(matched, _FINE, _BAD).astype(np.int8)
    padded = pc.split_pattern(_joined(body, ",,,,,,,,,,"), ",")  # every field there, in a sentence cut short too
    del found, body, given
    rank = np.full(len(rows), -1, dtype=np.int8)
    for r, name in enumerate(_FIELDS):
        rank[pc.equal(kind, name).to_numpy(zero_copy_only=False)] = r
    field = {}  # each column over every position sentence, from the sentences that have it; "" as null
    for r, where in enumerate(_FIELDS.values()):
        mine = pa.array(rank == r)
        for column, k in where.items():
            got = pc.list_element(padded, k)
            field[column] = pc.if_else(mine, got, field.get(column, pa.nulls(len(rows), got.type)))
    del padded
    field = {c: pc.if_else(pc.equal(v, ""), pa.scalar(None, v.type), v) for c, v in field.items()}
    has = {c: pc.is_valid(field[c]).to_numpy(zero_copy_only=False) for c in ("status", "ns", "ew")}
    said = {(c, v): pc.fill_null(pc.equal(field[c], v), False).to_numpy(zero_copy_only=False)
            for c, v in (("status", "A"), ("status", "V"), ("quality", "0"), ("ns", "S"), ("ew", "W"))}
    lat, lon = (_number(field[c]) for c in ("lat", "lon"))
    short = (problem == _FINE) & (np.isnan(lat) | np.isnan(lon) | ~has["ns"] | ~has["ew"]) \
        & (~has["status"] | said["status", "A"]) & ~said["quality", "0"]
    problem[short] = _SHORT
    void = (problem == _FINE) & (said["status", "V"] | said["quality", "0"])
    problem[void] = np.where(rank[void] == 1, _VOID_GGA, _VOID_RMC)
    lat, lon = lat * np.where(said["ns", "S"], -1, 1), lon * np.where(said["ew", "W"], -1, 1)
    lon, lat = coords.read_degrees(lon, lat, "ddmm", "EPSG:4326")
    lon[problem != _FINE], lat[problem != _FINE] = np.nan, np.nan
    values = {"line": before + rows + 1, "talker": talker, "rank": rank, "problem": problem, "lon": lon, "lat": lat,
              "time": _number(field["time"]), "date": field["date"], "status": field["status"],
              **{c: _number(field[c]) for c in ("quality", "satellites", "hdop", "altitude_m", "knots", "course")}}
    return values, counted, other


def _lines(data):
    """The lines of ``data`` (a writable block of a log's bytes) as an Arrow string
    array, trimmed, built on those bytes (no Python string per line): a line ends at
    LF, CRLF or a lone CR; a byte that is not ASCII reads as ``?``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = np.frombuffer(data, dtype=np.uint8)
    data[data >= 0x80] = ord("?")
    cr = np.flatnonzero(data == ord("\r"))  # a line's end where no LF follows it
    cr = cr[(cr + 1 == len(data)) | (data[np.minimum(cr + 1, len(data) - 1)] != ord("\n"))]
    ends = np.union1d(np.flatnonzero(data == ord("\n")), cr) + 1
    offsets = np.r_[0, ends, len(data)] if len(data) and (not len(ends) or ends[-1] < len(data)) else np.r_[0, ends]
    large = len(data) >= 2**31
    lines = (pa.LargeStringArray if large else pa.StringArray).from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets.astype(np.int64 if large else np.int32)), pa.py_buffer(data))
    return pc.utf8_trim_whitespace(lines)


def _joined(*strings, sep=""):
    """Arrow's ``binary_join_element_wise`` of ``strings`` (arrays of one string
    type, or ``str``, given as scalars of that type: large strings for a log over
    2 GB) with ``sep`` between."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = next(s.type for s in strings if not isinstance(s, str))
    return pc.binary_join_element_wise(*(pa.scalar(s, kind) if isinstance(s, str) else s for s in strings),
                                       pa.scalar(sep, kind))


def _text(values):
    """An Arrow string array as a NumPy object array, None where null."""
    return values.to_numpy(zero_copy_only=False)


def _number(values):
    """An Arrow string array as floats: NaN where null or no decimal number (a
    damaged field), as ``pandas.to_numeric(errors="coerce")`` reads them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = pc.fill_null(pc.match_substring_regex(values, r"^[+-]?(\d+\.?\d*|\.\d+)$"), False)
    numbers = pc.cast(pc.if_else(plain, pc.utf8_ltrim(values, "+"), pa.scalar(None, values.type)), pa.float64())
    return numbers.to_numpy(zero_copy_only=False).astype(float)


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
    """Per sentence: its checksum (``*hh``, ``sums``) is the XOR of the bytes
    between ``$`` and ``*`` (``payload``), or it has none (older receivers wrote
    none): one ``reduceat`` over the array's bytes. Both are Arrow string arrays."""
    payload, ends, data = _bytes_of(payload)
    xor = np.zeros(len(payload), dtype=np.int64)
    some = np.flatnonzero(np.diff(ends) > 0)
    if len(some):
        # reduceat over each sentence's start: a sentence's XOR runs to the next start given, so
        # empty ones (none: a sentence always has its name) cannot run into the next
        xor[some] = np.bitwise_xor.reduceat(data[:ends[-1]], ends[some])
    sums, starts, digits = _bytes_of(sums)
    given = np.diff(starts) == 2  # the pattern's two hex digits, or none ("")
    hexes = np.full(256, 0, dtype=np.int64)
    hexes[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
    for letters in (b"ABCDEF", b"abcdef"):
        hexes[np.frombuffer(letters, dtype=np.uint8)] = np.arange(10, 16)
    at = starts[:-1][given]
    expected = hexes[digits[at]] * 16 + hexes[digits[at + 1]]
    match = ~given
    match[given] = xor[given] == expected
    return match


def _bytes_of(strings):
    """An Arrow string array (or large string, or chunked) as ``(array, offsets,
    bytes)``: its offsets (int64, one more than its length) and its data as uint8."""
    import pyarrow as pa

    strings = pa.concat_arrays(strings.chunks) if isinstance(strings, pa.ChunkedArray) else strings
    _, offsets, data = strings.buffers()[:3]
    width = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width)[strings.offset:strings.offset + len(strings) + 1].astype(np.int64)
    return strings, ends, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8))


def _epochs(values):
    """One row per epoch: consecutive good position sentences with one time (or
    none) are one fix, RMC's fields first; a damaged sentence is a row of its own.
    ``values``: :func:`read_nmea`'s arrays, one entry per position sentence; the
    epochs' are the same arrays, ``has`` (which sentences the epoch holds) added."""
    import pyarrow as pa
    import pyarrow.compute as pc

    problem, time = values["problem"], values["time"]
    good = (problem == _FINE) | (problem == _VOID_GGA) | (problem == _VOID_RMC)
    same = good & np.r_[False, good[:-1]] & (time == np.r_[np.nan, time[:-1]])  # NaN: no time, never the same
    epoch = np.cumsum(~same) - 1
    n, starts = int(epoch[-1]) + 1, np.flatnonzero(~same)  # the epochs are runs of the log's sentences
    order = np.lexsort((values["rank"], epoch))  # each epoch's sentences, RMC's before GGA's before GLL's
    out = {"line": values["line"][starts], "talker": _text(values["talker"].take(pa.array(starts)))}
    for column in ("problem", "lon", "lat", "time", "date", "status", "quality", "satellites", "hdop", "altitude_m",
                   "knots", "course"):
        given = values[column]
        if column == "problem":
            valid = given != _FINE
        elif column in ("lon", "lat"):  # from a sentence with the position
            valid = (problem == _FINE) & ~np.isnan(given)
        elif isinstance(given, pa.Array):  # text: taken as Python strings only here, one per epoch
            first = _first(order, epoch, pc.is_valid(given).to_numpy(zero_copy_only=False), n)
            out[column] = _text(given.take(pa.array(first, mask=first < 0)))
            continue
        else:
            valid = ~np.isnan(given)
        first = _first(order, epoch, valid, n)  # the first value given, RMC's before GGA's
        out[column] = np.where(first >= 0, given[first], _FINE if column == "problem" else np.nan)
    out["has"] = sum(np.bincount(epoch[values["rank"] == r], minlength=n).astype(bool) << r for r in range(3))
    fixed = np.bincount(epoch[problem == _FINE], minlength=n).astype(bool)
    out["problem"][fixed] = _FINE  # one sentence of the epoch has the position
    return out


def _first(order, epoch, valid, n):
    """Per epoch (of ``n``), the index of its first sentence in ``order`` that is
    ``valid``, or -1."""
    rows = order[valid[order]]
    runs = epoch[rows]
    starts = np.r_[True, runs[1:] != runs[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    first = np.full(n, -1, dtype=np.int64)
    first[runs[starts]] = rows[starts]
    return first


def _as_rows(epochs, skipped):
    """The epochs as :func:`read_nmea`'s rows: a GGA-only epoch dated by the
    nearest RMC (:func:`_dates`); speed in km/h."""
    from .io import number_rows

    date = pd.to_datetime(pd.Series(epochs["date"], dtype=object), format="%d%m%y", errors="coerce")
    hhmmss = pd.Series(epochs["time"])
    hours, minutes, seconds = hhmmss // 10_000, hhmmss // 100 % 100, hhmmss % 100
    seconds = (hours * 3600 + minutes * 60 + seconds).where((hours < 24) & (minutes < 60) & (seconds < 61))
    of_day = pd.to_timedelta(seconds, unit="s")
    if date.notna().any():
        time = (_dates(date, seconds.to_numpy()) + of_day).dt.tz_localize("UTC")
    else:  # GGA alone: the time of day, as a patrol's table without a date has it
        time = (pd.Timestamp(0) + of_day).dt.strftime("%H:%M:%S.%f").str[:11]
    names = np.array(["", "RMC", "GGA", "RMC+GGA", "GLL", "RMC+GLL", "GGA+GLL", "RMC+GGA+GLL"], dtype=object)
    counts = {c: pd.Series(np.where(epochs[c] == np.floor(epochs[c]), epochs[c], np.nan)).astype("Int64")
              for c in ("quality", "satellites")}
    out = pd.DataFrame({
        "line": epochs["line"].astype(np.int64), "sentences": epochs["talker"] + names[epochs["has"]], "time": time,
        "lon": epochs["lon"].astype(float), "lat": epochs["lat"].astype(float),
        "status": pd.Series(epochs["status"], dtype=object),
        **counts, "hdop": epochs["hdop"].astype(float), "altitude_m": epochs["altitude_m"].astype(float),
        "speed_kmh": (epochs["knots"].astype(float) * _KNOT_KMH).round(3), "course": epochs["course"].astype(float),
        "problem": pd.Series(_PROBLEMS[epochs["problem"].astype(np.int64)], dtype=object)})
    out = number_rows(out, out["line"].to_numpy())
    out.attrs["nmea_skipped"] = skipped
    return out


def _dates(date, seconds):
    """Each epoch's date: its own (RMC's), else that of the nearest dated epoch
    before it (after it, for those before the first), a day on for each time the
    times of day (``seconds``) went forward past midnight in between: a GGA-only
    epoch at 00:00:05 after an RMC at 23:59:58 is on the next day, not 24 hours back.
    UTC midnight is 08:00 in Beijing, in a patrol's working day."""
    days, _ = days_past_midnight(seconds)
    dated = date.notna().to_numpy()
    anchor = np.maximum.accumulate(np.where(dated, np.arange(len(date)), -1))
    anchor[anchor < 0] = np.flatnonzero(dated)[0]
    return pd.Series(date.to_numpy()[anchor] + pd.to_timedelta(days - days[anchor], unit="D"))


def days_past_midnight(seconds, track=None):
    """``(days, rolled)``: per time of day in ``seconds`` (NaN where none), in the
    order given, the days passed since the first time of its ``track`` (runs of one
    label; default: one track), one more each time the times go back by more than
    12 hours (23:59:50, then 00:00:00 ten seconds on); and how many times they did.
    An NMEA log's GGA-only epochs (:func:`read_nmea`) and a patrol table's times of
    day alone (:func:`gridkit.patrol.read_fixes`) are dated by it.

    >>> days_past_midnight(np.array([86390.0, 0.0, np.nan, 60.0, 86000.0, 10.0]), np.array([1, 1, 1, 1, 2, 2]))
    (array([0, 1, 1, 1, 0, 1]), 2)
    """
    track = np.zeros(len(seconds)) if track is None else track
    known = np.flatnonzero(~np.isnan(seconds))
    back = np.zeros(len(seconds), dtype=np.int64)
    back[known[1:]] = (track[known[1:]] == track[known[:-1]]) & (np.diff(seconds[known]) < -_HALF_DAY_S)
    rolled = np.cumsum(back)
    starts = np.flatnonzero(np.r_[True, track[1:] != track[:-1]])
    return rolled - np.repeat(rolled[starts], np.diff(np.r_[starts, len(seconds)])), int(back.sum())
