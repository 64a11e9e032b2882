"""Reading vector inputs and writing outputs atomically.

One front over pyogrio (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, KML/KMZ, and
a zip archive of one) and geopandas' GeoParquet reader. CRS handling happens
here, once: a file without a CRS is an error that says how to set one, and the
pseudo-CRSs ``gcj02``/``bd09`` are converted to WGS84 on the way in.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import tempfile
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import coords
from .errors import CRSError, InputError, near_column

__all__ = [
    "read_vector",
    "detect_dbf_encoding",
    "repair_polygons",
    "atomic_path",
    "refuse_replacing_input",
    "write_vector",
    "write_points",
    "point_wkb",
    "labelled_crs",
    "VECTOR_SUFFIXES",
    "INPUT_SUFFIXES",
    "gdal_path",
    "CSV_ENCODING",
]

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".parquet": "Parquet",
    ".geoparquet": "Parquet",
}
#: GDAL options for a new file, by driver. GeoPackages are written as version 1.2,
#: as GDAL wrote them before 3.11: the 1.4 it writes now adds nothing gridkit uses,
#: and QGIS 3.22 (GDAL 3.6) logs "may only be partially supported" for every layer
#: of a 1.4 file.
CREATION_OPTIONS = {"GPKG": {"VERSION": "1.2"}}
#: GDAL's SQLite settings for a GeoPackage that no one else can see yet (the
#: temporary file of :func:`atomic_path`, synced whole before its rename): no
#: journal, no sync per transaction, a bigger page cache. With Arrow, a million
#: located points are written in 3.1 s instead of 7.2 s (docs/design.md).
PRIVATE_SQLITE = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_JOURNAL": "OFF", "OGR_SQLITE_CACHE": "512"}


def layer_options(frame, driver, what) -> dict:
    """GDAL's options for writing ``frame`` (named ``what`` in a warning) with
    ``driver``. FlatGeobuf's spatial index cannot hold a feature with no geometry
    (a cell whose polygon was deleted in QGIS): pyogrio's "NULL geometry not
    supported with spatial index" ended the write. Such a layer is written without
    the index, with a warning; QGIS reads it all the same."""
    if driver != "FlatGeobuf":
        return {}
    if not without_geometry(frame, f"features of {what}", "FlatGeobuf's spatial index cannot hold them, so it is "
                            "written without one", empty=False).any():
        return {}
    return {"SPATIAL_INDEX": "NO"}


#: shapely's type ids of a polygon and a multipolygon: the cells of a layout.
POLYGON_KINDS = (3, 6)


def require_frame(frame, what, columns=(), *, fix="", polygons=False, one=False, geometry=True):
    """An error unless ``frame`` is a GeoDataFrame with a geometry column (any
    DataFrame, without ``geometry``) and the
    ``columns`` (and, with ``polygons``, a polygon or no geometry in every row;
    ``polygons`` may name the shapely type ids taken, :data:`POLYGON_KINDS` if True):
    what a library function taking ``what`` ("the cells"; ``one``: a singular,
    "the catalogue") says instead of an AttributeError or KeyError from deep in
    pandas or matplotlib. ``fix`` ends the message (how to make such a frame).

    >>> require_frame([1, 2], "the cells", fix="read them with gridkit.read_package()")
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: the cells are a list, not a GeoDataFrame; read them with gridkit.read_package()
    >>> require_frame(gpd.GeoDataFrame({"code": ["1"]}, geometry=[None]), "the units", ["community_code"])
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: the units have no column 'community_code'; their columns are: code
    """
    hint = f"; {fix}" if fix else ""
    are, have, their = ("is", "has", "its") if one else ("are", "have", "their")
    kind = gpd.GeoDataFrame if geometry else pd.DataFrame
    if not isinstance(frame, kind):
        raise InputError(f"{what} {are} a {type(frame).__name__}, not a {kind.__name__}{hint}")
    if geometry and frame._geometry_column_name not in frame.columns:
        raise InputError(f"{what} {have} no geometry column (set one with .set_geometry()){hint}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        held = ", ".join(str(c) for c in frame.columns if not geometry or c != frame.geometry.name) or "none"
        names = ("column " if len(missing) == 1 else "columns ") + ", ".join(f"{c!r}" for c in missing)
        raise InputError(f"{what} {have} no {names}{near_column(missing[0], frame.columns)}; {their} columns "
                         f"are: {held}{hint}")
    kinds = shapely.get_type_id(frame.geometry.values) if polygons else np.zeros(0)
    taken = POLYGON_KINDS if polygons is True else polygons
    bad = np.flatnonzero((kinds >= 0) & ~np.isin(kinds, taken))  # missing: -1
    if len(bad):
        raise InputError(f"{len(bad):,} of {what} are no polygon: the first (row {bad[0] + 1}) is a "
                         f"{frame.geometry.values[bad[0]].geom_type}{hint or '; give each its (multi)polygon'}")


def without_geometry(frame, what, consequence, *, empty=True) -> np.ndarray:
    """Which rows of ``frame`` have no geometry (null, or ``empty`` too): a polygon
    deleted in QGIS. When any has none, one warning says how many of the ``what``
    ("cells") and the ``consequence`` ("not drawn"); `gridkit check` names them."""
    geoms = frame.geometry.values
    missing = shapely.is_missing(geoms) | (shapely.is_empty(geoms) if empty else False)
    n = int(missing.sum())
    if n:
        log.warning("%s of the %s %s no geometry: %s (`gridkit check` names them)", f"{n:,}", what,
                    "has" if n == 1 else "have", consequence)
    return missing


#: Formats read but not written as packages or located files: KML and KMZ, as
#: Google Earth and the field apps (奥维 Ovital, 两步路) save what was surveyed or
#: drawn (longitude/latitude by the KML standard, with an altitude, dropped).
READ_ONLY_SUFFIXES = {".kml": "LIBKML", ".kmz": "LIBKML", ".gpx": "GPX"}
#: GPX, as GPS units (a Garmin's marked waypoints) and the field apps save a survey's
#: points and a patrol's track: its layers that hold points, in the order the first
#: with any is read when no layer is named (the waypoints: the places marked).
GPX_POINT_LAYERS = ("waypoints", "route_points", "track_points")
#: The columns GDAL's GPX reader gives every point, whatever the file holds; each is
#: left out of what is read where no point sets it (as KML's furniture is).
_GPX_FURNITURE = ("ele", "time", "magvar", "geoidheight", "name", "cmt", "desc", "src", "link1_href",
                  "link1_text", "link1_type", "link2_href", "link2_text", "link2_type", "sym", "type", "fix", "sat",
                  "hdop", "vdop", "pdop", "ageofdgpsdata", "dgpsid")
#: The columns GDAL's KML reader gives every placemark, whatever the file holds
#: (its id, name, style and time elements), each with the value meaning "not set".
#: Those that are never set are left out of what is read (:func:`_without_kml_furniture`).
_KML_FURNITURE = {"id": None, "Name": None, "description": None, "snippet": None, "timestamp": None,
                  "begin": None, "end": None, "altitudeMode": None, "tessellate": -1, "extrude": 0,
                  "visibility": -1, "drawOrder": None, "icon": None}
#: The suffixes read as vector inputs: the formats above, and a zip archive of one
#: (a Shapefile's parts zipped, as data portals and e-mail deliver them), which GDAL
#: reads inside the archive, as QGIS opens it.
INPUT_SUFFIXES = (*VECTOR_SUFFIXES, *READ_ONLY_SUFFIXES, ".zip")
#: Formats that hold one layer, so none is listed to look for others (GDAL lists a
#: GeoJSON's by parsing it all again: 0.02 s for Cambridge's 6,117 street lights).
ONE_LAYER_SUFFIXES = (".geojson", ".json", ".shp", ".fgb")
#: Workbooks (:mod:`gridkit.workbook`): Excel's, LibreOffice's, and WPS's .et, read
#: when it holds an Excel 97–2003 workbook (else the error says to save it as .xlsx).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".et", ".ods")
#: Tables (CSV, workbooks): read by :func:`read_vector` when a column holds WKT geometry.
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", *WORKBOOK_SUFFIXES)
#: Formats that hold one table and no layers, read without GDAL's layer names
#: (:func:`refuse_layer`).
NO_LAYER_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".geoparquet")


#: The reject reason of a ledger's blank row and of the lines below its table (:func:`say_blank_rows`).
NOT_A_ROW = "not_a_row"
#: How the lines below a ledger's rows begin: its total, who drew it up and checked it, a note.
FOOTER_WORDS = ("合计", "总计", "小计", "共计", "制表人", "填表人", "填报人", "审核人", "负责人", "制表", "填表", "审核",
                "说明", "注：", "注:")


def say_blank_rows(frame, reason, detail, coordinates=None):
    """A reject for want of a position (``reason``, ``detail``: arrays, changed in
    place) that is a ledger's blank row, or its 合计 or 制表人 line, is a reject of
    its own, :data:`NOT_A_ROW`, whose detail says which: "the row is blank" (every
    cell, the coordinate columns' too: in ``frame``, as its ``attrs["xy_fields"]``
    names them, or in ``coordinates``), or "the ledger's 合计 line, not a row of its
    table" (the first text in the row begins with one of FOOTER_WORDS), so that a
    summary does not count them as components whose position is missing. Only the
    rejects for want of a position are looked at. An NMEA log's epoch with no fix, or
    a damaged sentence, gets its own reason (:func:`gridkit.nmea.say_problems`)."""
    from .nmea import say_problems

    say_problems(frame, reason, detail)
    rows = np.flatnonzero(reason == "missing_coordinates")
    if not len(rows):
        return
    cells = frame.iloc[rows]
    if coordinates is not None:
        cells = cells.join(coordinates.iloc[rows])  # columns the frame no longer has
    whole = coordinates is not None or set(frame.attrs.get("xy_fields") or [None]) <= set(frame.columns)
    for i, values in zip(rows.tolist(), cells.itertuples(index=False)):
        first = next((str(v).strip() for v in values if not pd.isna(v) and str(v).strip()), "")
        word = next((w for w in FOOTER_WORDS if first.startswith(w)), None)
        if word:
            reason[i], detail[i] = NOT_A_ROW, f"the ledger's {word.rstrip('：:')} line, not a row of its table"
        elif not first and whole:
            reason[i], detail[i] = NOT_A_ROW, "the row is blank"


def unread_workbook(path, error) -> str:
    """What to do with a workbook (by its suffix) that calamine cannot read, its
    ``error`` said, told by the file's first bytes: the HTML page or the text that a
    web system's 导出Excel writes as .xls, or an Excel or WPS workbook that is
    damaged, protected by a password or of a version no reader knows."""
    path = Path(path)
    suffix = path.suffix.lower()
    with open(path, "rb") as file:
        head = file.read(512)
    save = f"as an Excel workbook, {path.stem}.xlsx (文件 › 另存为), or as CSV UTF-8"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<")):
        return (f"{path}: a web page named {suffix} (a system's 导出Excel writes its table so), not a workbook: "
                f"open it in Excel or WPS and save it {save}")
    if b"\t" in head and b"\x00" not in head and not head.startswith(b"PK"):
        return f"{path}: a table of text named {suffix}, its columns split by tabs: rename it {path.stem}.tsv"
    if not head:
        return f"{path}: the file is empty (0 bytes), not a workbook"
    return f"{path}: cannot be read as a workbook ({error}); if Excel or WPS opens it, save it from there {save}"


def empty_file(path) -> str | None:
    """The error for an input file of 0 bytes (a copy or download cut short, which
    GDAL reports as a format it does not recognise); none for any other."""
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        return f"{path}: the file is empty (0 bytes); copy or export it again"
    return None


def input_suffix(path) -> str:
    """``path``'s suffix, lower case, by which its reader is chosen; ``.parquet`` for a
    folder of Parquet files whatever its name (``to_parquet("reports")`` of dask or
    Spark writes ``reports/part-….parquet``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".geoparquet") and path.is_dir():
        if any(not part.name.startswith((".", "_")) for part in path.rglob("*.parquet")):
            return ".parquet"
        raise InputError(f"{path}: a folder with no Parquet file in it; give a file, or a folder of Parquet parts "
                         "(as Spark's or dask's to_parquet writes)")
    return suffix


def _check_suffix(path: Path, suffixes=VECTOR_SUFFIXES, *, read=False) -> str:
    """``path``'s suffix, lower case; an error unless it is one of ``suffixes``
    (those written; INPUT_SUFFIXES for a file ``read``, where a folder of Parquet
    files is taken as ``.parquet``: :func:`input_suffix`)."""
    suffix = input_suffix(path) if read else path.suffix.lower()
    if suffix not in suffixes:
        raise InputError(f"{path}: unknown format {suffix!r}; use one of " + ", ".join(sorted(suffixes)))
    if suffix == ".zip":
        gdal_path(path)
    return suffix


def gdal_path(path) -> str:
    """The name to give GDAL (pyogrio) for the input ``path``: the path itself, or
    for a zip archive the vector data inside it (``/vsizip/…``): its one file, or
    the folder of its Shapefiles (a zip made from a folder has them in a
    subfolder, where GDAL does not look by itself). An error names the archive
    when it holds no vector file, or vector files in several folders."""
    path = Path(path)
    if path.suffix.lower() == ".kmz":
        return _kmz_path(path)
    if path.suffix.lower() != ".zip":
        return str(path)
    drivers = {**VECTOR_SUFFIXES, **READ_ONLY_SUFFIXES}
    readable = [n for n in _zip_members(path) if drivers.get(Path(n).suffix.lower(), "Parquet") != "Parquet"]
    folders = sorted({str(Path(name).parent) for name in readable})
    if not readable or len(folders) > 1:
        names = readable or _zip_members(path)
        shown = ", ".join(names[:8]) + (f" … ({len(names)} files)" if len(names) > 8 else "")
        said = ("holds no vector file gridkit reads inside one" if not readable
                else f"holds vector files in {len(folders)} folders")
        raise InputError(f"{path}: the zip archive {said} ({shown or 'empty'}); unzip it and give the file itself "
                         "(a .shp with its .dbf, .shx and .prj, a .gpkg, a .geojson; a CSV or .xlsx of points as "
                         "it is)")
    inside = readable[0] if len(readable) == 1 else folders[0]
    return f"/vsizip/{path.resolve()}" + ("" if inside == "." else f"/{inside}")


def _kmz_path(path):
    """A KMZ of one KML document (with its icons, say: Google Earth's, a field app's,
    any KML zipped by hand) as that document inside it. GDAL's LIBKML driver given
    the .kmz itself reads such a document's placemarks without their fields when
    they are a Schema's SimpleData (as GDAL's own KML writer puts them), and the
    same document unzipped with every field. A KMZ of several documents (LIBKML's
    own: a doc.kml linking to layers/*.kml) is read as it is."""
    documents = [name for name in _zip_members(path) if name.lower().endswith(".kml")]
    return f"/vsizip/{path.resolve()}/{documents[0]}" if len(documents) == 1 else str(path)


def _zip_members(path):
    """The file names in the zip archive ``path``."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return [name for name in archive.namelist() if not name.endswith("/")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a zip archive that can be read ({exc})") from None


def warn_if_private_use(path, text):
    """Warn when ``text``, ``path``'s text read as GB18030, is likely in another
    encoding. GB18030 decodes almost any bytes, so BIG5 text reads without an error,
    as other characters; but about one in five of them lands in Unicode's
    private-use area (U+E000–U+F8FF), which GBK text holds only for rare
    user-defined characters. Over 1 % of the non-ASCII characters there: a warning
    with the fix."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")  # a megabyte: 9 ms, not 75 ms by a loop
    wide, private = int((codes > 127).sum()), int(((codes >= 0xE000) & (codes <= 0xF8FF)).sum())
    if private and private > 0.01 * wide:
        log.warning("%s: read as GB18030 (GBK), but %d of its %d non-ASCII characters are private-use ones, "
                    "which GBK text rarely holds: it is likely in another encoding; give it with --encoding "
                    "(BIG5 for Taiwan and Hong Kong)", path, private, wide)


def detect_dbf_encoding(dbf_path, data=None) -> str:
    """Guess the text encoding of a shapefile's ``.dbf`` from its bytes.

    Shapefiles from China often carry GBK/GB18030 text with no ``.cpg`` file,
    and GDAL then decodes them as Latin-1, which turns every Chinese name into
    mojibake without a warning. Written by hand because neither pyogrio nor GDAL
    guesses: the character fields are read raw and must decode strictly as UTF-8
    (preferred) or GB18030; otherwise the caller must say. GB18030 text that looks
    like another encoding (BIG5) gets a warning (:func:`warn_if_private_use`).

    Returns ``"UTF-8"`` or ``"GB18030"``; raises :class:`InputError` when neither fits.
    ``data``: the file's bytes when it is not on disk (in a zip archive), with
    ``dbf_path`` the name the messages give it.
    """
    dbf_path = Path(dbf_path)
    data = dbf_path.read_bytes() if data is None else data
    if len(data) < 32:
        raise InputError(f"{dbf_path}: not a dBASE file (only {len(data)} bytes)")
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields, offset, pos = [], 1, 32  # each record starts with a deletion flag byte
    names = []  # not decoded strictly: a tool may have cut a name inside a character
    while pos + 32 <= header_len and data[pos] != 0x0D:
        names.append(data[pos : pos + 11].rstrip(b"\x00"))
        ftype, flen = chr(data[pos + 11]), data[pos + 16]
        if ftype in "CM":
            fields.append((offset, flen))
        offset += flen
        pos += 32
    chunks = []
    for r in range(min(n_records, 5000)):
        start = header_len + r * record_len
        for off, flen in fields:
            chunks.append(data[start + off : start + off + flen].rstrip(b" \x00"))
    text = b"\n".join(chunks)
    if all(b < 0x80 for b in text):
        return "UTF-8"
    for encoding in ("UTF-8", "GB18030"):
        try:
            decoded = text.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "GB18030":
            warn_if_private_use(dbf_path, b"\n".join(names).decode(encoding, errors="ignore") + decoded)
        return encoding
    raise InputError(
        f"{dbf_path}: the attribute text is neither UTF-8 nor GB18030 and there is no "
        ".cpg file; give the encoding (--encoding CP1252, BIG5, …)"
    )


def file_layers(path) -> list[tuple[str, str | None]]:
    """A file's layers as ``(name, geometry type)`` (None for a table without
    geometry); [] when GDAL cannot list them (not readable, GeoParquet)."""
    import pyogrio

    try:
        layers = pyogrio.list_layers(gdal_path(path))
        return [(str(name), None if kind in (None, "None") else str(kind)) for name, kind in layers]
    except Exception:  # not readable at all: reading it says why
        return []


def gpx_layer(path) -> str:
    """The layer of the GPX file ``path`` read when none is named: the first of
    :data:`GPX_POINT_LAYERS` that holds a point. A warning names the others that do
    (a survey's waypoints with the track walked between them); an error says when
    none does."""
    import pyogrio

    try:
        held = {name: pyogrio.read_info(path, layer=name, force_feature_count=True)["features"]
                for name in GPX_POINT_LAYERS}
    except Exception as exc:  # not GPX at all
        raise InputError(empty_file(path) or f"{path}: cannot be read as GPX ({exc})") from exc
    named = {"waypoints": "waypoint", "route_points": "route point", "track_points": "track point"}
    found = [name for name in GPX_POINT_LAYERS if held[name]]
    if not found:
        raise InputError(f"{path}: the GPX file holds no waypoint, route point or track point")
    if len(found) > 1:
        log.warning("%s holds %s: reading the %ss; name another with the command's --layer option (%s)", path,
                    " and ".join(f"{held[name]:,} {named[name]}{'' if held[name] == 1 else 's'}" for name in found),
                    named[found[0]], ", ".join(found[1:]))
    return found[0]


def _check_layer(path, layer):
    """A missing layer is named with the layers the file does have (asked only once
    reading has failed)."""
    names = [name for name, _ in file_layers(path)]
    if not names:  # not readable at all: the caller's error says so
        return
    if not isinstance(layer, int) and str(layer) not in names:
        raise InputError(f"{path}: no layer {layer!r}; the file's layers are: {', '.join(names)}")


def refuse_layer(path, layer, layer_option="--layer"):
    """An error naming ``layer_option`` when ``layer`` is asked of a file that holds no
    layers (CSV, Parquet): read anyway, the one table would pass for that layer, as
    though ``--households-layer blocks`` had found the blocks. The file's own name,
    GDAL's name for its one layer, passes, as GDAL lets it."""
    if layer is None or str(layer) == Path(path).stem:
        return
    suffix = input_suffix(path)  # a folder of Parquet parts too
    if suffix not in NO_LAYER_SUFFIXES:
        return
    kind = "Parquet" if "parquet" in suffix else suffix[1:].upper()
    raise InputError(f"{path}: a {kind} file holds one table and no layers, so {layer_option} {layer} names none; "
                     f"leave {layer_option} out")


def read_vector(path, *, layer=None, crs=None, encoding=None, where=None,
                where_option="--where", arrow=False) -> gpd.GeoDataFrame:
    """Read a vector file into a GeoDataFrame with a real CRS.

    Parameters
    ----------
    path : str or Path
        GeoPackage, Shapefile, GeoJSON, FlatGeobuf, KML/KMZ or GeoParquet; or a zip
        archive of one (a zipped Shapefile, read inside the archive:
        :func:`gdal_path`); or a table (CSV, Excel) with WKT geometry
        (:func:`gridkit.catalogue.read_wkt_table`). Heights (z) are dropped.
    layer : str, optional
        Layer name for multi-layer files (default: the first layer).
    crs : str, int or pyproj.CRS, optional
        The CRS the coordinates are *really* in, overriding the file's label.
        ``"gcj02"`` or ``"bd09"`` converts the coordinates to WGS84 (EPSG:4326),
        edges longer than 0.002° (about 200 m) cut first, as the export does: the
        offsets bend a straight edge (over Beijing's districts a GCJ-02 edge
        converted by its ends alone is up to 1 m off in the middle; BD-09 more).
        Required when the file has no CRS.
    encoding : str, optional
        Text encoding of a Shapefile's attributes; detected when omitted.
    where : str, optional
        Keep only the features matching this OGR SQL ``WHERE`` clause over the
        file's columns, e.g. ``"level = '区县'"`` or ``"adcode NOT LIKE '%00'"``
        (GeoParquet too: see :func:`rows_where`). Messages still number
        features as the file does.
    where_option : str, optional
        What the messages about ``where`` call it: the command-line option that
        gave it (``"--barriers-where"``); ``"--where"`` by default.
    arrow : bool, optional
        Read through Arrow (pyogrio's ``use_arrow``): about 4× faster on a big
        layer (Shenzhen's 215,219 cells: 0.3 s instead of 1.3 s). A column with
        no value at all comes back as text (NaN) rather than objects (None).

    The result's ``attrs["source_crs"]`` records what the input was in; with
    ``where``, ``attrs["source_rows"]`` the kept features' numbers in the file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    refuse_layer(path, layer, where_option.replace("where", "layer"))
    if path.suffix.lower() in TABLE_SUFFIXES:
        return _read_wkt_table(path, layer, crs, encoding, where, where_option)
    suffix = _check_suffix(path, INPUT_SUFFIXES, read=True)
    if layer is None and suffix == ".gpx":
        layer = gpx_layer(path)
    if layer is None and suffix in (".kml", ".kmz"):
        folders = [name for name, kind in file_layers(path) if kind]
        if len(folders) > 1:
            return _read_kml_folders(path, folders, crs=crs, encoding=encoding, where=where,
                                     where_option=where_option, arrow=arrow)
    try:
        if suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
            if where is not None:  # GDAL here has no Parquet driver: filter what pandas read
                rows = rows_where(gdf, where, path, where_option)
                gdf = number_rows(gdf.iloc[rows].reset_index(drop=True), rows + 1)
        else:
            kwargs = {}
            encoding = text_encoding(path, encoding)
            if encoding is not None:
                kwargs["encoding"] = encoding
            # Layer 0, not None: pyogrio warns about every GeoPackage with a styles table.
            layer_arg = 0 if layer is None else layer
            if where is not None:
                kwargs.update(where=where, fid_as_index=True)
            if arrow:
                kwargs["use_arrow"] = True
            gdf = gpd.read_file(gdal_path(path), layer=layer_arg, engine="pyogrio", **kwargs)
            gdf.attrs["source_layer"] = layer_arg
            if where is not None:
                gdf = _numbered_as_in_file(gdf, path, layer_arg)
            if suffix in (".kml", ".kmz"):
                gdf = _without_kml_furniture(gdf)
            elif suffix == ".gpx":
                gdf = gdf.drop(columns=[c for c in _GPX_FURNITURE if c in gdf and gdf[c].isna().all()])
            if layer is None and suffix not in ONE_LAYER_SUFFIXES:
                _warn_if_more_layers(path)
    except InputError:
        raise
    except Exception as exc:  # pyogrio/GDAL/arrow errors: name the file and keep the cause
        if layer is not None:
            _check_layer(path, layer)
        message = _bad_where(path, layer, where, exc, where_option, encoding) if where is not None else None
        if message:
            raise InputError(message) from exc
        raise InputError(empty_file(path) or f"{path}: cannot be read ({exc})") from exc
    if len(gdf) == 0:
        if where is not None:
            in_layer = f" in layer {layer}" if layer is not None else ""
            raise InputError(f"{path}: no feature{in_layer} matches {where_option} {where!r}")
        raise InputError(f"{path}: the file (layer {layer or 'first'}) has no features")
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise InputError(f"{path}: no geometry column")
    return _apply_crs(_in_the_plane(gdf, path), path, crs)


def _read_kml_folders(path, folders, **kwargs):
    """A KML/KMZ file of several folders (GDAL's layers: Google Earth's or Ovital's
    folders, 东片 and 西片) read as one layer, each feature's folder in a ``folder``
    column, as the file is one drawing of them; ``--layer`` reads one. Features are
    numbered through the folders in file order (``attrs["source_rows"]`` with a
    ``where``). A folder with no feature (or none that ``where`` keeps) is skipped."""
    import pyogrio

    parts, rows, offset, first_error = [], [], 0, None
    for name in folders:
        try:
            part = read_vector(path, layer=name, **kwargs)
        except InputError as exc:
            if "no feature" not in str(exc):
                raise
            first_error = first_error or exc
        else:
            rows.append(source_rows(part) + offset)
            parts.append(part.assign(folder=name))
        offset += pyogrio.read_info(gdal_path(path), layer=name)["features"]
    if not parts:
        raise first_error
    gdf = pd.concat(parts, ignore_index=True)
    gdf.attrs = {**parts[0].attrs, "source_layer": None}
    if kwargs.get("where") is not None:
        number_rows(gdf, np.concatenate(rows))
    log.info("%s: its %d folders read as one layer (%s); the command's --layer option reads one", path,
             len(folders), ", ".join(f"{p['folder'].iat[0]} {len(p):,}" for p in parts))
    return gdf


def _in_the_plane(gdf, path):
    """``gdf`` without heights (z): KML's altitudes, a survey's or CAD's heights, a
    table's POLYGON Z. Gridding is in the plane."""
    geoms = gdf.geometry.values
    if not shapely.has_z(geoms).any():
        return gdf
    log.info("%s: heights (z) dropped; the grids are drawn in the plane", path)
    return gdf.set_geometry(gpd.GeoSeries(shapely.force_2d(geoms), index=gdf.index, crs=gdf.crs))


def _read_wkt_table(path, layer, crs, encoding, where, where_option):
    """:func:`read_vector` for a table with WKT geometry (CSV, Excel: what ``gridkit
    export -o cells.csv`` writes, or a platform's table of grids), in ``crs``, else
    in the CRS it is labelled with (:func:`table_crs`). One without a label whose
    every coordinate is lon/lat is read as EPSG:4326 (warned about in China, where it
    is often GCJ-02), as a table of lon/lat points is; metres need ``crs``."""
    from .catalogue import read_wkt_table

    return wkt_table_in_crs(read_wkt_table(path, layer=layer, encoding=encoding, where=where,
                                           where_option=where_option), path, crs)


def wkt_table_in_crs(gdf, path, crs, gcj02_fix=None):
    """A table ``gdf`` that :func:`gridkit.catalogue.read_wkt_table` read from
    ``path``, without heights and in its CRS: ``crs``, else its label
    (:func:`table_crs`), else EPSG:4326 when every coordinate is lon/lat; a
    :class:`CRSError` otherwise. ``gcj02_fix``: as :func:`warn_if_gcj02`'s ``fix``."""
    if not len(gdf):
        raise InputError(f"{path}: the file has no rows")
    gdf = _in_the_plane(gdf, path)
    bounds, lonlat, ranges = _extent(gdf)
    label = table_crs(path) if crs is None else None
    if label is not None:
        gdf = gdf.set_crs(label)
    elif crs is None and len(bounds) and lonlat.all():
        log.info("%s: the table has no CRS label; its coordinates are longitude/latitude, read as EPSG:4326 "
                 "(give --crs if they are not)", path)
        gdf = gdf.set_crs(4326)
    elif crs is None:
        raise CRSError(f"{path}: the table has no CRS label ({NO_TABLE_LABEL}) and its coordinates are not "
                       f"longitude/latitude ({ranges}). Say what they are in with --crs: the projected CRS's EPSG "
                       "code (`gridkit export` printed the one it wrote, `gridkit info PACKAGE` shows it)")
    return _apply_crs(gdf, path, crs, gcj02_fix)


#: Where a table's CRS label would be, for messages about a table without one.
NO_TABLE_LABEL = "no .prj beside a CSV nor CRS property in a workbook, as gridkit export writes them"


def _without_kml_furniture(gdf):
    """``gdf`` read from KML without the placemark columns that no placemark sets
    (:data:`_KML_FURNITURE`), nor an empty ``Name2`` (GDAL's KML writer declares
    ``Name`` again in the schema): with them, an adopted package and located points
    carried a dozen empty columns. So do ``id`` values of GDAL's own making
    (``cells.1``, ``cells.2`` …: the layer's name and feature number), and names
    that repeat a column (the IDs gridkit's export names placemarks by)."""
    unset = []
    for column in gdf.columns:
        if column == gdf.geometry.name:
            continue
        furniture = re.sub(r"(?<=^Name)\d+$", "", column)  # Name2 as Name
        if furniture not in _KML_FURNITURE:
            continue
        default = _KML_FURNITURE[furniture]
        values = gdf[column]
        blank = values.isna() | values.astype(str).str.strip().eq("")
        if default is not None:
            blank |= values.eq(default)
        if column == "id":
            blank |= values.astype(str).str.fullmatch(r"[^.\s]+\.\d+")
        if blank.all() or (furniture == "Name" and _repeats_a_column(gdf, column)):
            unset.append(column)
    return gdf.drop(columns=unset) if unset else gdf


def _repeats_a_column(gdf, column):
    """Whether ``column`` (a placemark's name) holds another column's values, as the
    IDs of gridkit's KML export do (each placemark named by its ID, kept as a column)."""
    values = gdf[column].astype(str)
    return any(values.equals(gdf[other].astype(str)) for other in gdf.columns
               if other not in (column, gdf.geometry.name) and gdf[other].dtype == gdf[column].dtype)


def text_encoding(path, encoding=None):
    """The encoding to read ``path``'s attribute text with: ``encoding`` when given;
    for a Shapefile without a .cpg file, the one its DBF's bytes suggest; else
    None (GDAL's own choice)."""
    path = Path(path)
    if path.suffix.lower() == ".shp" and encoding is None and not path.with_suffix(".cpg").exists():
        dbf = path.with_suffix(".dbf")
        if dbf.exists():
            encoding = detect_dbf_encoding(dbf)
            log.info("%s: no .cpg file; attribute text detected as %s", path, encoding)
    if path.suffix.lower() == ".zip" and encoding is None:
        encoding = _zipped_dbf_encoding(path)
    return encoding


def _zipped_dbf_encoding(path):
    """As :func:`text_encoding` for the Shapefiles in the zip archive ``path`` that
    have no .cpg in it: GB18030 when any of their .dbf files needs it, UTF-8 when
    they read as that, None when every Shapefile has its .cpg (GDAL reads it)."""
    import zipfile

    names = _zip_members(path)
    lower = {name.lower(): name for name in names}
    found = []
    with zipfile.ZipFile(path) as archive:
        for name in names:
            stem = name[:-4]
            dbf = lower.get(stem.lower() + ".dbf")
            if name.lower().endswith(".shp") and dbf and stem.lower() + ".cpg" not in lower:
                found.append(detect_dbf_encoding(f"{path}/{dbf}", data=archive.read(dbf)))
    if not found:
        return None
    encoding = "GB18030" if "GB18030" in found else "UTF-8"
    log.info("%s: a Shapefile with no .cpg file; attribute text detected as %s", path, encoding)
    return encoding


def _warn_if_more_layers(path):
    """Warn that a file read without a layer has other layers with geometry: the
    first was read, and it may not be the one meant (an OpenStreetMap network's
    first layer is its nodes, not its streets)."""
    layers = [(name, kind) for name, kind in file_layers(path) if kind]
    if len(layers) > 1:
        log.warning("%s has %d layers: %s. Read the first, %s; name the layer to read another (the command's "
                    "--layer option for this file, or layer= in Python)", path, len(layers),
                    ", ".join(f"{name} ({kind})" for name, kind in layers), layers[0][0])


def rows_where(frame, where, path, option="--where") -> np.ndarray:
    """The positions of ``frame``'s rows that the OGR SQL ``WHERE`` clause ``where``
    keeps, for a file GDAL does not filter itself (GeoParquet without GDAL's
    Parquet driver, a CSV or Excel table read by pandas). ``path`` and ``option``
    name the file and the option in the messages.

    The attributes go into an in-memory GeoPackage and GDAL filters them there, so
    a clause means what it means on a GeoPackage file (about 1 s per million rows):
    one language for every ``--where``, where pandas' ``query`` would be a second.

    >>> import pandas as pd
    >>> rows_where(pd.DataFrame({"kind": ["lamp", "hydrant", "lamp"], "n": [1, 2, 3]}),
    ...            "kind = 'lamp' AND n > 1", "inventory.csv").tolist()
    [2]
    """
    import uuid

    import pyogrio

    attributes = pd.DataFrame({name: _writable(column) for name, column in frame.items()
                               if not isinstance(column.dtype, gpd.array.GeometryDtype)})
    if attributes.columns.empty:
        attributes["row"] = np.arange(len(frame))
    memory = f"/vsimem/gridkit-where-{uuid.uuid4().hex}.gpkg"
    try:
        # Its own FID column, so that a column of the user's called fid stays a column.
        try:
            pyogrio.write_dataframe(attributes, memory, layer="rows", driver="GPKG",
                                    layer_options={"FID": "gridkit_row"}, use_arrow=True)
        except Exception as exc:
            raise InputError(f"{path}: its columns cannot be filtered with {option} ({exc})") from exc
        try:
            kept = pyogrio.read_dataframe(memory, layer="rows", where=where, read_geometry=False,
                                          columns=[attributes.columns[0]], fid_as_index=True, use_arrow=True).index
        except Exception as exc:  # GDAL's own message, as for a file it filters
            raise InputError(_where_message(path, where, str(exc), option, attributes.columns)) from exc
    finally:
        if memory in pyogrio.vsi_listtree("/vsimem/"):  # not when the write failed
            pyogrio.vsi_unlink(memory)
    return kept.to_numpy(dtype=np.int64) - 1  # a GeoPackage numbers its rows from 1


def _writable(column):
    """``column`` as a GeoPackage field can hold it: text, numbers, booleans and
    dates as they are; anything else (a Parquet list, mixed objects) as its text."""
    if column.dtype.kind in "biufM" or column.dtype == bool or isinstance(column.dtype, pd.StringDtype):
        return column
    text = column.astype(object).map(lambda v: v if isinstance(v, str) else str(v))
    return text.where(column.notna().to_numpy(), None)


def _numbered_as_in_file(gdf, path, layer):
    """The features a ``where`` kept (indexed by feature ID), with ``attrs["source_rows"]``: their numbers in the
    file (from 1), found by their feature IDs among all of the layer's."""
    import pyogrio

    every = pyogrio.read_dataframe(gdal_path(path), layer=layer, columns=[], read_geometry=False,
                                   fid_as_index=True).index
    rows = every.get_indexer(gdf.index) + 1
    return number_rows(gdf.reset_index(drop=True), rows)


def _bad_where(path, layer, where, exc, option, encoding=None):
    """The message for a ``where`` the file's driver refused, or None when the file
    itself cannot be read (the caller's error says so). ``encoding``: the
    Shapefile's, as read (a GBK one without .cpg listed its columns as mojibake)."""
    import pyogrio

    try:
        columns = pyogrio.read_info(gdal_path(path), layer=0 if layer is None else layer, encoding=encoding)["fields"]
    except Exception:
        return None
    return _where_message(path, where, str(exc), option, columns, layer)


def _where_message(path, where, said, option, columns, layer=None):
    """The message for a ``where`` GDAL refused (``said``: its words), listing the
    ``columns`` (of ``layer``, when one was named)."""
    # pyogrio quotes the layer name as bytes: "for layer 'b'roads''".
    said = re.sub(r"'b'([^']*)''", r"'\1'", said)
    whose = f"the columns of layer {layer!r}" if layer is not None else "the file's columns"
    # OGR SQL reads a name of other characters (名称) only in double quotes.
    bare = [c for c in map(str, columns) if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c)
            and re.search(rf'(?<!"){re.escape(c)}(?!")', where)]
    quote = (f", and a column whose name is not Latin letters, digits and _ with double quotes: \"{bare[0]}\""
             if bare else "")
    return (f"{path}: {option} {where!r} is not a filter GDAL understands ({said}). It is an OGR SQL WHERE "
            f"clause over {whose} ({', '.join(map(str, columns))}), e.g. \"level = '区县'\" or "
            f"\"adcode NOT LIKE '%00'\"; quote text values with single quotes{quote}")


#: The key under which ``gridkit export --crs gcj02`` (``bd09``) marks a file it labels
#: EPSG:4326 as holding GCJ-02 (BD-09) coordinates: a GeoPackage's or FlatGeobuf's
#: layer metadata, a GeoParquet's schema metadata (lower case), or the start of a
#: GeoJSON's ``description`` (``GRIDKIT_CRS=gcj02: …``). :func:`marked_crs` reads it.
CRS_MARK = "GRIDKIT_CRS"
#: How much of a GeoJSON's start :func:`marked_crs` looks in (the mark comes before the features).
_MARK_BYTES = 4096


def marked_crs(path, layer=None):
    """``"gcj02"`` or ``"bd09"`` when ``path`` (``layer``) is a file ``gridkit export``
    wrote in that system and marked (:data:`CRS_MARK`), else None.

    Such a file is labelled EPSG:4326, as Amap's and Baidu's platforms expect, and
    read by its label alone every cell would land 100–700 m off: gridkit's readers
    take the mark as ``--crs gcj02`` (``bd09``). A Shapefile, KML or table has no
    place for a mark (a table of GCJ-02 has no CRS label either, and is refused
    until given one). Anything unreadable here is unmarked: the reader says why. A
    mark found is logged (INFO).
    """
    path = Path(path)
    try:
        if path.is_dir():
            return None
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            import pyarrow.parquet as pq

            said = (pq.read_schema(path).metadata or {}).get(CRS_MARK.lower().encode(), b"").decode()
        elif path.suffix.lower() in (".geojson", ".json"):
            # From the file's head, where the export writes it: GDAL would parse the whole
            # file to give its metadata (a third of the time a read of it takes).
            with open(path, "rb") as file:
                head = file.read(_MARK_BYTES).decode("utf-8", errors="replace")
            found = re.search(rf'"description"\s*:\s*"{CRS_MARK}=(\w+)', head)
            said = found.group(1) if found else None
        elif path.suffix.lower() in (".gpkg", ".fgb"):
            import pyogrio

            said = (pyogrio.read_info(path, layer=0 if layer is None else layer).get("layer_metadata") or {}).get(
                CRS_MARK)
        else:
            return None
    except Exception:
        return None
    said = coords.parse_crs(said) if said and coords.is_pseudo_crs(said) else None
    if said not in ("gcj02", "bd09"):
        return None
    name = coords.PSEUDO_NAMES[said]
    log.info(f"{path}: marked by gridkit export as {name} coordinates (labelled EPSG:4326); read as {name}")
    return said


def from_pseudo_crs(gdf, parsed):
    """``gdf``, whose coordinates are in ``parsed`` (``"gcj02"``, ``"bd09"``, ``"bd09mc"``),
    converted to WGS84 (EPSG:4326), edges longer than about 200 m cut first (the
    offsets bend a straight edge: :func:`read_vector`)."""
    func = coords.pseudo_to_wgs84_func(parsed)
    geoms = gdf.geometry.values
    if (shapely.get_type_id(geoms) > 0).any():  # lines or polygons (points have no edges)
        geoms = shapely.segmentize(geoms, coords.MAX_SEGMENT["degree" if coords.is_geographic(parsed) else "metre"])
    geoms = shapely.transform(geoms, func)
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=4326))


def _apply_crs(gdf, path, crs, gcj02_fix=None):
    source = None
    if crs is None and gdf.crs is not None and gdf.crs.equals(4326):
        crs = marked_crs(path, gdf.attrs.get("source_layer"))
    if crs is not None:
        parsed = coords.parse_crs(crs)
        _check_given_crs(gdf, path, parsed)
        if isinstance(parsed, str):
            gdf = from_pseudo_crs(gdf, parsed)
            source = parsed
        else:
            gdf = gdf.set_crs(parsed, allow_override=True)
            source = parsed.to_string()
    elif gdf.crs is None:
        raise CRSError(
            f"{path}: the file has no CRS. Say what its coordinates are in: "
            "--crs EPSG:4326 (GPS/WGS84 lon/lat), --crs EPSG:4490 (CGCS2000), --crs gcj02 "
            "(Amap/Tencent), --crs bd09 (Baidu), or the projected CRS's EPSG code; in "
            f"Python, read_vector(path, crs=...){crs_hint(_extent(gdf)[0])}"
        )
    else:
        _check_labelled_crs(gdf, path)
        source = gdf.crs.to_string()
        # A table's lon/lat read as EPSG:4326 for want of a label (read_inventory's attrs)
        read_as = not gdf.attrs["crs_stated"] if "crs_stated" in gdf.attrs else None
        warn_if_gcj02(path, gdf.crs, gdf.total_bounds, gdf.columns, read_as=read_as, fix=gcj02_fix)
    gdf.attrs["source_crs"] = source
    gdf.attrs["source_path"] = str(path)
    return gdf


def geoparquet_crs(column):
    """The CRS of a GeoParquet geometry column's metadata: no ``crs`` key means
    OGC:CRS84 (lon/lat, read as EPSG:4326), a null one no CRS at all (None)."""
    if column.get("crs") is not None:
        return pyproj.CRS.from_user_input(column["crs"])
    return None if "crs" in column else pyproj.CRS.from_epsg(4326)


def labelled_crs(path, layer=None):
    """The CRS ``path`` (its ``layer``) is labelled with, from its header alone (a
    table's from :func:`table_crs`); None for a file with no label, or one that
    cannot be opened (its reader says why when it reads it)."""
    import json

    path = Path(path)
    try:
        if path.suffix.lower() in TABLE_SUFFIXES:
            return table_crs(path)
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            import pyarrow.parquet as pq

            geo = json.loads(pq.read_schema(path).metadata[b"geo"])
            return geoparquet_crs(geo["columns"][geo["primary_column"]])
        if path.suffix.lower() not in INPUT_SUFFIXES:
            return None
        import pyogrio

        label = pyogrio.read_info(gdal_path(path), layer=0 if layer is None else layer)["crs"]
        return pyproj.CRS.from_user_input(label) if label else None
    except Exception:
        return None


#: A workbook's custom document property that says its coordinates' CRS, as
#: ``gridkit export -o book.xlsx`` sets it (Excel lists it under File › Info ›
#: Properties › Advanced › Custom, and keeps it when the book is saved).
WORKBOOK_CRS = "CRS"


def table_crs(path):
    """The CRS a table's (CSV, Excel) coordinates are labelled with, None when it has
    no label. A CSV's label is a ``.prj`` file beside it, the GeoCSV convention that
    GDAL reads (and so QGIS, opening the CSV), unless a Shapefile of the same name
    owns it; a workbook's is its custom document property :data:`WORKBOOK_CRS`.
    ``gridkit export`` writes both. A label that is no CRS is an error naming it."""
    path = Path(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        label, where = _workbook_property(path, WORKBOOK_CRS), f"{path}: its document property {WORKBOOK_CRS!r}"
    else:  # a .prj beside a Shapefile of the same name (roads.shp, roads.csv) is the Shapefile's
        prj = next((p for p in (path.with_suffix(".prj"), path.with_suffix(".PRJ")) if p.is_file()), None)
        if prj is not None and _shapefile_owns(path):
            log.info("%s: %s is the Shapefile %s's, not taken as the CSV's CRS", path, prj.name,
                     path.with_suffix(".shp").name)
            prj = None
        label, where = (None, None) if prj is None else (prj.read_text(errors="replace"), str(prj))
    if not label or not label.strip():
        return None
    try:
        crs = pyproj.CRS.from_user_input(label.strip())
    except pyproj.exceptions.CRSError as exc:
        raise InputError(f"{where} is not a CRS ({exc}): correct it or delete it, or give the CRS (--crs)") from None
    # As GDAL reads a Shapefile's .prj: an ESRI WKT has no axis order, and the EPSG
    # CRS it matches is the one meant (EPSG:4548 is northing first).
    authority = crs.to_authority(min_confidence=90)
    return pyproj.CRS.from_authority(*authority) if authority else crs


def csv_prj(path, overwrite):
    """The ``.prj`` to write beside the CSV ``path`` to say its CRS (:func:`table_crs`):
    None where a Shapefile of the same name has its own (an export to cells.shp, then
    to cells.csv), which stays. Another is replaced only with ``overwrite``."""
    prj = path.with_suffix(".prj")
    if _shapefile_owns(path):
        return None
    if prj.exists() and not overwrite:
        raise FileExistsError(f"{prj} exists (the CSV's CRS goes there); pass --overwrite (overwrite=True) to "
                              "replace it")
    return prj


def stale_prj(path):
    """The ``.prj`` beside the CSV ``path`` that would go on labelling a new CSV written
    over it without one (its CRS unsaid): remove it once the new CSV is in place.
    None when there is no CSV to replace, no .prj, or a Shapefile owns it."""
    path = Path(path)
    prj = path.with_suffix(".prj")
    return prj if path.exists() and prj.exists() and not _shapefile_owns(path) else None


def _shapefile_owns(path):
    """Whether a Shapefile of the same name as the CSV ``path`` owns the .prj beside it."""
    return any(path.with_suffix(suffix).is_file() for suffix in (".shp", ".SHP"))


def write_prj(path, crs):
    """``crs`` in a ``.prj`` beside ``path``, a CSV's temporary file in :func:`atomic_path`
    (which moves it into place with the CSV, before it). As WKT 2, which names the
    EPSG code: GDAL's CSV reader looks none up for an ESRI WKT, and pyproj finds none
    in GDAL's WKT 1 of a northing-first CRS (EPSG:4548)."""
    Path(path).with_suffix(".prj").write_text(pyproj.CRS(crs).to_wkt())


def _workbook_property(path, name):
    """The custom document property ``name`` of the workbook ``path`` (None if it has
    none, or is no workbook: its read says why). Read from ``docProps/custom.xml``
    directly: openpyxl would read the workbook's shared strings first, every ID in it."""
    import zipfile
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as book:
            root = ElementTree.fromstring(book.read("docProps/custom.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return next(("".join(prop.itertext()) for prop in root if prop.get("name") == name), None)


def _check_given_crs(gdf, path, crs):
    """Refuse a CRS (``crs``, parsed) given for a file whose coordinates cannot be in
    it. A lon/lat CRS (gcj02, bd09, or geographic) for a file none of whose features
    has lon/lat coordinates: they are metres, and the CRS was meant for another
    input (the boundaries). A projected CRS for a file labelled lon/lat whose every
    feature has lon/lat coordinates: read as metres, a district of degrees is a
    speck a few metres across (gridded into one empty cell, say), and the CRS was
    most likely meant as the one to work in."""
    bounds, lonlat, ranges = _extent(gdf)
    if not len(bounds):
        return
    name = crs if isinstance(crs, str) else crs.to_string()
    label = f"it is labelled {gdf.crs.to_string()}" if gdf.crs is not None else "it has no CRS label"
    if coords.is_geographic(crs):
        if lonlat.any():
            return
        fix = ("" if lonlat_swapped(bounds) else ". Give it the projected CRS's EPSG code (--crs, or the input's "
               "own option: --households-crs, --grid-crs …), or no CRS to read it as labelled")
        raise CRSError(f"{path}: its coordinates are not longitude/latitude ({ranges}), so they cannot be in {name}, "
                       f"the CRS given for it; {label}{fix}{crs_hint(bounds)}")
    if gdf.crs is not None and gdf.crs.is_geographic and lonlat.all():
        raise CRSError(
            f"{path}: {label} and its coordinates are longitude/latitude ({ranges}), so they cannot be in {name}, "
            "a projected CRS in metres, the CRS given for it: read so, the whole file would be a few metres across. "
            "Give no CRS to read it as labelled (or gcj02 / bd09 for a Chinese web map's coordinates); the CRS to "
            "work in is --metric-crs")
    if coords.is_baidu_mercator(crs):
        _check_baidu_mercator(path, bounds, lonlat, ranges, label)
        return
    _check_zone_number(path, bounds, ranges, crs, label)
    if lonlat.all() and not _in_area_of_use(bounds, crs):
        # Unlabelled (a Shapefile without .prj) or mislabelled: a local CRS with small
        # coordinates cannot be told apart for sure, so a warning, not an error.
        log.warning("%s: its coordinates look like longitude/latitude (%s) and, read in %s, lie far outside the "
                    "area that CRS is for (%s); %s. If they are degrees, give a lon/lat CRS (EPSG:4326, gcj02, "
                    "bd09) and work in %s with --metric-crs",
                    path, ranges, name, crs.area_of_use.name.rstrip("."), label, name)


def _check_labelled_crs(gdf, path):
    """Refuse a file labelled with a registered projected CRS (metres) whose every
    feature has lon/lat coordinates: degrees read as metres put a whole district
    within 200 m of the point (0, 0) (Null Island for EPSG:3857, the equator 500 km
    west of the zone for Gauss–Krüger), and gridded, it is one empty cell. Such a label
    is a wrong .prj, or a CRS assigned in QGIS by mistake. A custom CRS (a city's
    local grid has its origin in town) only warns; the CRS given with --crs is
    checked by :func:`_check_given_crs` instead, so giving it is the way round."""
    crs = gdf.crs
    if crs is None or not crs.is_projected:
        return
    if not _extent(gdf.iloc[:1000])[1].all():  # metres among the first: the usual case, decided cheaply
        if coords.zone_twin(crs) is not None:
            bounds, _, ranges = _extent(gdf)
            if len(bounds):
                _check_zone_number(path, bounds, ranges, crs, f"it is labelled {crs.to_string()}")
        return
    bounds, lonlat, ranges = _extent(gdf)
    if not len(bounds) or not lonlat.all():
        return
    name = crs.to_string()
    said = (f"{path}: it is labelled {name}, a projected CRS in metres, but its coordinates look like longitude/"
            f"latitude ({ranges}): read as metres, the whole file lies within 200 m of the point (0, 0). If they "
            "are degrees, give the CRS they are in (--crs EPSG:4326 for GPS, gcj02 for Amap/Tencent, bd09 for Baidu; "
            "or the input's own option: --households-crs, --grid-crs …); if they really are metres in "
            f"{name}, give --crs {name} to say so")
    if crs.to_authority() is None:
        log.warning("%s", said)
        return
    raise CRSError(said)


def _check_baidu_mercator(path, bounds, lonlat, ranges, label):
    """Refuse coordinates given as BD-09 Mercator (Baidu's metres) that read so lie
    outside China: Baidu's coordinates are China's, and Gauss–Krüger metres read so
    lie in the Atlantic, degrees in the Gulf of Guinea."""
    x = (bounds[:, 0].min() + bounds[:, 2].max()) / 2
    y = (bounds[:, 1].min() + bounds[:, 3].max()) / 2
    lon, lat = (float(v) for v in coords._bd09mc_to_wgs84(x, y))
    if coords.is_in_china(lon, lat):
        return
    fix = ("They look like longitude/latitude: --crs bd09 for Baidu's" if lonlat.all() else
           f"Give the CRS they are in{crs_hint(bounds)}")
    raise CRSError(f"{path}: read in bd09mc (Baidu's Mercator metres), its coordinates ({ranges}) lie around "
                   f"{lon:.2f}°, {lat:.2f}°, outside China, where Baidu's coordinates are; {label}. {fix}")


def _check_zone_number(path, bounds, ranges, crs, label):
    """Refuse Gauss–Krüger metres read in the CRS for the other way of writing x:
    with the zone number in front (39,448,929 in zone 39, EPSG:4527) or without it
    (448,929 for CM 117°E, EPSG:4548; :func:`gridkit.coords.zone_twin`). Read in the
    wrong one, the file lies 39,000 km from its zone, and the package made from it
    has no position on Earth (its extent "inf°E")."""
    twin = coords.zone_twin(crs)
    if twin is None or _in_area_of_use(bounds, crs) or not _in_area_of_use(bounds, twin):
        return
    raise CRSError(f"{path}: read in {crs.to_string()} ({label}), its coordinates ({ranges}) lie far outside the "
                   f"area that CRS is for, and in {coords.twin_named(twin)}, they lie inside it: give --crs "
                   f"EPSG:{twin.to_epsg()} (or the input's own option: --households-crs, --grid-crs …)")


def lonlat_swapped(bounds) -> bool:
    """Whether an extent (rows of minx, miny, maxx, maxy) is longitude and latitude
    the wrong way round: every x a latitude, every y a longitude, some y none."""
    if not len(bounds):
        return False
    (minx, miny), (maxx, maxy) = bounds[:, :2].min(axis=0), bounds[:, 2:].max(axis=0)
    return bool(-90 <= minx <= maxx <= 90 and -180 <= miny <= maxy <= 180 and max(-miny, maxy) > 90)


def crs_hint(bounds) -> str:
    """For the error about a file with no CRS (or a lon/lat one given for metres): ""
    or a sentence naming the CRSs its extent (rows of minx, miny, maxx, maxy) looks
    like: Gauss–Krüger metres (:func:`_gauss_kruger_hint`), or Mercator metres in
    China, Baidu's (``bd09mc``) or the web's (EPSG:3857), which no number tells apart.
    A Gauss–Krüger zone 13–15 with its number in front can be either. Longitude and
    latitude the wrong way round (y of 116.4, x of 39.9: :func:`lonlat_swapped`)
    are named as that.

    >>> crs_hint(np.array([[39.86, 116.38, 39.97, 116.45]])).split(":")[0]
    '. Its x values look like latitudes and its y values like longitudes'
    """
    if lonlat_swapped(bounds):
        return (". Its x values look like latitudes and its y values like longitudes: the coordinates are the wrong "
                "way round. Swap them (QGIS: Swap X and Y coordinates; for a table, give its x column as y and y as x)")
    hint = _gauss_kruger_hint(bounds)
    if len(bounds) and coords.looks_like_mercator(*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0)):
        hint += ". " + coords.MERCATOR_HINT
    return hint


def _gauss_kruger_hint(bounds, swapped=False) -> str:
    """"" or a sentence naming the Gauss–Krüger CRS an extent (rows of minx, miny,
    maxx, maxy) looks like. x with a zone number in
    front (25–45 for 3° zones, 13–23 for 6°) names that zone's CGCS2000 and Xian 1980
    codes; x of 0–1,000 km with a northing in China names the 3° zones without it.
    And so for y and x, said to be swapped: a survey table's X is the northing."""
    if not len(bounds):
        return ""
    (minx, miny), (maxx, maxy) = bounds[:, :2].min(axis=0), bounds[:, 2:].max(axis=0)
    easting = "y" if swapped else "x"
    if not 1_500_000 <= miny <= maxy <= 6_200_000:  # China's northings, 15°–55° N
        if swapped:
            return ""
        hint = _gauss_kruger_hint(bounds[:, [1, 0, 3, 2]], swapped=True)
        return hint and (". Its x looks like a northing and its y like an easting, the other way round from GIS "
                         "(a survey table's X is the northing): give them swapped" + hint)
    zone = int(minx // 1_000_000)
    if zone == int(maxx // 1_000_000) and (13 <= zone <= 23 or 25 <= zone <= 45):
        kind = "3-degree " if zone >= 25 else ""
        codes = coords._projected_crs_codes()
        found = [f"EPSG:{codes[name]} ({name})" for name in (f"{datum} / {kind}Gauss-Kruger zone {zone}"
                                                             for datum in ("CGCS2000", "Xian 1980")) if name in codes]
        return f". Its {easting} has the zone number {zone} in front: " + " or ".join(found) if found else ""
    if 0 <= minx and maxx <= 1_000_000:
        return (f". Its coordinates look like Gauss–Krüger metres without the zone number ({easting} 500,000 on "
                "the central meridian): CGCS2000's 3-degree zones are EPSG:4534 (75°E) to EPSG:4554 (135°E), one per "
                "3° (Beijing, 117°E: EPSG:4548); or UTM")
    return ""


def _extent(gdf):
    """The finite bounds of ``gdf``'s features (rows of minx, miny, maxx, maxy), which
    of them could be lon/lat (within ±180, ±90), and their ranges as text: in degrees
    when all could be, in metres otherwise."""
    bounds = shapely.bounds(gdf.geometry.values)
    bounds = bounds[np.isfinite(bounds).all(axis=1)]
    lonlat = (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    if not len(bounds):
        return bounds, lonlat, ""
    d = 4 if lonlat.all() else 0  # decimals: degrees, metres
    ranges = (f"x {bounds[:, 0].min():,.{d}f} to {bounds[:, 2].max():,.{d}f}, "
              f"y {bounds[:, 1].min():,.{d}f} to {bounds[:, 3].max():,.{d}f}")
    return bounds, lonlat, ranges


def _in_area_of_use(bounds, crs, margin=1.0) -> bool:
    """Whether the middle of ``bounds`` (rows of minx, miny, maxx, maxy in ``crs``)
    lies within ``margin`` degrees of the area ``crs`` is meant for (True when its
    definition gives none). Degrees read as metres of a Gauss–Krüger or UTM zone
    land near the equator, thousands of kilometres from it."""
    area = crs.area_of_use
    if area is None:
        return True
    x = (bounds[:, 0].min() + bounds[:, 2].max()) / 2
    y = (bounds[:, 1].min() + bounds[:, 3].max()) / 2
    lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    west, east = area.west - margin, area.east + margin
    across = west > east  # an area across the antimeridian: west 98.69, east -101.73
    return (lon >= west or lon <= east if across else west <= lon <= east) and (
        area.south - margin <= lat <= area.north + margin)


def warn_if_gcj02(path, crs, bounds, columns=(), read_as=None, fix=None):
    """Warn when a file labelled EPSG:4326 lies in China: it is often really GCJ-02.
    Not for the points `gridkit locate` wrote (they carry ``gk_status``): it writes
    WGS84, whatever the input was in, so they are what they say. Nor for GPX: a GPS
    receiver writes it, in WGS84 by the GPX standard (the offset hint after locating
    still looks at where its points fall). ``read_as``: whether the file has no label
    and its lon/lat are read as EPSG:4326 (default: so for a table, by its suffix).
    ``fix``: how to read it as GCJ-02 (default: pass --crs gcj02)."""
    if crs is None or crs.to_epsg() != 4326 or "gk_status" in columns or str(path).lower().endswith(".gpx"):
        return
    minx, miny, maxx, maxy = bounds
    if coords.is_in_china((minx + maxx) / 2, (miny + maxy) / 2):
        # A table (CSV, Excel) without a label: its lon/lat are read as EPSG:4326.
        if read_as is None:
            read_as = str(path).lower().endswith(TABLE_SUFFIXES)
        said = "is read as EPSG:4326" if read_as else "is labelled EPSG:4326"
        log.warning(
            "%s %s and lies in China: Chinese web-map data "
            "labelled EPSG:4326 is often GCJ-02 (offset 100–700 m). If it came "
            "from Amap, Tencent or a Chinese boundary download, %s.",
            path, said, fix or "pass --crs gcj02",
        )


def describe_feature(gdf, i, name_field=None) -> str:
    """'feature 3 (Dongcheng)' — how messages name row ``i`` (0-based) of a file:
    features count from 1, as rows do in every message and rejects file."""
    name = gdf[name_field].iloc[i] if name_field and name_field in gdf.columns else None
    rows = _filtered_rows(gdf)
    return feature_label(i + 1 if rows is None else int(rows[i]), name)


def unprojected(geoms) -> np.ndarray:
    """Which of ``geoms`` (just projected) hold a coordinate that did not project:
    infinite or NaN, from a latitude of 95 or a point 90° from a transverse
    Mercator's meridian. Missing and empty geometries are not counted."""
    geoms = np.asarray(geoms)
    return ~np.isfinite(shapely.bounds(geoms)).all(axis=1) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def unprojected_message(frame, source, lost, crs, what, fix) -> str:
    """The error for ``what`` (rows of ``frame``, geometries ``source`` in
    ``frame``'s CRS) that do not project into ``crs`` where ``lost``: how many,
    the first one's feature number and a vertex that does not project (in the
    source CRS, as the file has it), then ``fix``."""
    path = getattr(frame, "attrs", {}).get("source_path")
    first = int(np.flatnonzero(lost)[0])
    xy = shapely.get_coordinates(source[first])
    moved = gpd.GeoSeries(shapely.points(xy), crs=frame.crs).to_crs(crs).get_coordinates().to_numpy()
    x, y = xy[int(np.argmin(np.isfinite(moved).all(axis=1)))]
    number = int(source_rows(frame)[first])
    return (f"{path + ': ' if path else ''}{int(lost.sum()):,} of the {len(lost):,} {what} do not project into "
            f"{crs.to_string()} (the first: feature {number}, with a vertex at {x:.8g}, {y:.8g} in "
            f"{frame.crs.to_string()}): {fix}")


def source_rows(gdf) -> np.ndarray:
    """Each row's feature number in its file (from 1): its position, or, for a frame
    read with ``where`` or from a workbook's sheet, the number the file gives it
    (:func:`number_rows`)."""
    rows = _filtered_rows(gdf)
    return np.arange(1, len(gdf) + 1) if rows is None else np.array(rows, dtype=np.int64)


def number_rows(frame, numbers):
    """``frame`` (returned) with ``numbers``, its rows' numbers in the file where they
    are not their positions from 1, kept in ``attrs["source_rows"]``
    (:func:`source_rows` reads them) as :class:`RowNumbers`."""
    frame.attrs["source_rows"] = RowNumbers(numbers)
    return frame


class RowNumbers:
    """The rows' numbers of :func:`number_rows`: read-only, equal to another of the
    same numbers, and not copied when pandas copies a frame's attrs. pandas compares
    the attrs of the frames it joins or concatenates, which a bare array cannot answer
    (a frame read with ``--where`` then failed to join its coordinate columns)."""

    __slots__ = ("_values",)

    def __init__(self, values):
        self._values = np.array(values, dtype=np.int64)
        self._values.flags.writeable = False

    def __array__(self, dtype=None, copy=None):
        values = self._values if dtype is None else self._values.astype(dtype)
        return values.copy() if copy else values

    def __len__(self):
        return len(self._values)

    def __getitem__(self, index):
        return self._values[index]

    def tolist(self):
        return self._values.tolist()

    def __eq__(self, other):
        return isinstance(other, RowNumbers) and np.array_equal(self._values, other._values)

    __hash__ = None

    def __deepcopy__(self, memo):
        return self  # read-only


def _filtered_rows(gdf):
    """The file's numbers of ``gdf``'s rows (:func:`number_rows`), if they still fit ``gdf``."""
    rows = gdf.attrs.get("source_rows")
    return rows if rows is not None and len(rows) == len(gdf) else None


def feature_label(row, name=None) -> str:
    """'feature 3 (Dongcheng)': row ``row`` (counted from 1), with its name if it has one."""
    has_name = name is not None and name == name and name != ""  # not missing, NaN or empty
    return f"feature {row}" + (f" ({name})" if has_name else "")


def made_valid(geoms) -> np.ndarray:
    """Invalid polygons ``geoms`` repaired by ``make_valid``, keeping only their area
    (the lines and points a repair can leave beside it are dropped)."""
    return np.array([shapely.union_all([p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)])
                     for g in shapely.make_valid(geoms)], dtype=object)


def _polygons_of_collections(geoms, gdf, what, name_field):
    """``geoms`` with each GeometryCollection that holds polygons (as some tools
    write a polygon with its outline) replaced by their union, with a warning; a
    collection of no polygon is left to be refused."""
    collections = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if not len(collections):
        return geoms
    geoms = geoms.copy()
    for i in collections:
        parts = shapely.get_parts(geoms[i])
        polygonal = np.isin(shapely.get_type_id(parts), (3, 6))
        if polygonal.any() and not shapely.is_empty(geoms[i]):
            geoms[i] = shapely.union_all(parts[polygonal])
            log.warning("%s: %s is a GeometryCollection; its %d polygon(s) are used%s", what,
                        describe_feature(gdf, i, name_field), polygonal.sum(),
                        f", not its {(~polygonal).sum()} other part(s) (lines, points)" if (~polygonal).any() else "")
    return geoms


def repair_polygons(gdf, *, what: str, name_field=None):
    """Repair invalid polygons (with a warning), reject empty or non-polygonal ones.

    Returns the repaired frame and the number of repaired features. Empty or
    non-polygonal features raise :class:`InputError` naming every one of them.
    """
    geoms = gdf.geometry.values
    bad = []
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    for i in np.flatnonzero(empty):
        bad.append(f"{describe_feature(gdf, i, name_field)}: {'no' if missing[i] else 'empty'} geometry")
    geoms = _polygons_of_collections(geoms, gdf, what, name_field)
    invalid = ~empty & ~shapely.is_valid(geoms)
    n_repaired = int(invalid.sum())
    if n_repaired:
        geoms = geoms.copy()
        geoms[invalid] = made_valid(geoms[invalid])
    # A polygon whose outline encloses nothing (its vertices on one line) repairs to nothing.
    void = invalid & shapely.is_empty(geoms)
    for i in np.flatnonzero(invalid & ~void):
        log.warning("%s: %s had an invalid geometry; repaired with make_valid",
                    what, describe_feature(gdf, i, name_field))
    for i in np.flatnonzero(void):
        bad.append(f"{describe_feature(gdf, i, name_field)}: a {gdf.geom_type.iloc[i]} that encloses no area "
                   "(its outline runs back along itself)")
    flat = ~empty & ~void & ~np.isin(shapely.get_type_id(geoms), (3, 6))
    if flat.any() and flat.all():  # not one polygon: the wrong file or layer, not a few bad features
        found = ", ".join(sorted(set(gdf.geom_type[flat])))
        source = gdf.attrs.get("source_path")
        raise InputError(f"{what}: {f'{source} holds' if source else 'the features are'} {found} features, not "
                         "polygons: give a file (or --layer) of polygons")
    for i in np.flatnonzero(flat):
        bad.append(f"{describe_feature(gdf, i, name_field)}: a {gdf.geom_type.iloc[i]} where a polygon is needed")
    if bad:
        raise InputError(
            f"{what}: {len(bad)} unusable feature(s): " + "; ".join(bad[:10])
            + (" …" if len(bad) > 10 else "")
            + ". Delete them or give them a polygon."
        )
    out = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    out.attrs = dict(gdf.attrs)
    return out, n_repaired


#: The text encoding of every CSV gridkit writes: UTF-8 with a byte-order mark. Excel,
#: which is where most users open a CSV, shows UTF-8 Chinese text as mojibake without
#: it; pandas, GDAL (QGIS) and gridkit's own readers skip it.
CSV_ENCODING = "utf-8-sig"


def refuse_replacing_input(output, inputs):
    """An :class:`InputError` when ``output`` is already one of the files ``inputs``
    (what to call it → its path; None: not given) under any spelling (``./``, a
    link). Written atomically, the output would still replace the very file it is
    made from: ``gridkit export city.gpkg -o city.gpkg --overwrite`` would leave the
    cells alone, without the package's units and metadata.

    >>> refuse_replacing_input("city.gpkg", {"the package": None})  # nothing to compare
    """
    output = Path(output)
    if not output.exists():
        return
    for name, path in inputs.items():
        if path is not None and Path(path).exists() and output.samefile(path):
            raise InputError(f"{output} is {name}: the output would replace the file it is read from; "
                             "write to another file")


#: The files of a Shapefile beside its .shp: GDAL's, and the spatial indexes QGIS and
#: ArcGIS build (a style or metadata file, .qml or .shp.xml, is the user's and stays).
SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def shapefile_parts(path) -> list:
    """The files beside ``path``, if a .shp, that belong to it, whatever the case of
    their names (out.DBF for out.shp): empty for any other file."""
    path = Path(path)
    if path.suffix.lower() != ".shp" or not path.parent.is_dir():
        return []
    names = {(path.stem + suffix).lower() for suffix in SHAPEFILE_PARTS}
    return sorted(p for p in path.parent.iterdir() if p.name.lower() in names)


def existing_output(path) -> str | None:
    """What an output ``path`` would replace: its name if it exists, else the name of
    an existing file of the Shapefile it names (out.dbf for out.shp), else None."""
    path = Path(path)
    if path.exists():
        return str(path)
    part = next(iter(shapefile_parts(path)), None)
    return None if part is None else f"{part} (a part of the Shapefile {path.name})"


@contextmanager
def atomic_path(path, *, overwrite: bool = False):
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    A failure inside the block removes the temporary file and leaves any existing
    ``path`` untouched. The file (and a shapefile's side files) is synced to disk
    before the rename, so a crash after it cannot leave a half-written ``path``.
    For a Shapefile, any of its files (:func:`shapefile_parts`) counts as ``path``
    existing, and those of the one replaced that the new one lacks are removed.
    """
    path = Path(path)
    held = None if overwrite else existing_output(path)
    if held:
        raise FileExistsError(f"{held} exists; pass --overwrite (overwrite=True) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL wants to create the file itself
    tmp = Path(tmp)
    try:
        yield tmp
        # Side files first (.dbf, .shx, .prj of a shapefile), the main file last. GDAL
        # writes a Shapefile's files with lower-case suffixes even for out.SHP: the main
        # file takes the name asked for, and the side files its case (out.DBF …).
        main = tmp.suffix.lower()
        parts = sorted(tmp.parent.glob(tmp.stem + ".*"), key=lambda p: p.suffix.lower() == main)
        for part in filter(Path.is_file, parts):
            with open(part, "rb+") as fh:
                os.fsync(fh.fileno())
        before, written = shapefile_parts(path), set()
        for part in parts:
            suffix = part.suffix.upper() if path.suffix.isupper() else part.suffix
            target = path if part.suffix.lower() == main else path.with_suffix(suffix)
            os.replace(part, target)
            written.add(target)
        for old in set(before) - written:  # the replaced Shapefile's: out.DBF beside out.dbf, an index of old data
            old.unlink(missing_ok=True)
    finally:
        for leftover in tmp.parent.glob(tmp.stem + ".*"):
            leftover.unlink()


#: Rows per Arrow batch when :func:`write_points` streams a table to GDAL or Parquet.
WRITE_BATCH = 250_000
#: Bytes of a little-endian 2D WKB point: byte order 1, type 4, x 8, y 8.
POINT_WKB = 21


def point_wkb(x, y):
    """2D points as an Arrow binary array of little-endian WKB, built with numpy.

    Written by hand rather than through ``shapely.to_wkb(shapely.points(x, y))``:
    a point's WKB is fixed (byte order 1, type 1, x, y), and this is about 20×
    faster with no Python object per point (100,000 points: 3 ms against 70 ms).

    Examples
    --------
    >>> import shapely
    >>> point_wkb([116.4], [39.9]).to_pylist()[0] == shapely.to_wkb(shapely.Point(116.4, 39.9), byte_order=1)
    True
    """
    import pyarrow as pa

    x, y = np.asarray(x, dtype="<f8"), np.asarray(y, dtype="<f8")
    record = np.zeros(len(x), dtype=[("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
    record["order"], record["type"], record["x"], record["y"] = 1, 1, x, y
    offsets = np.arange(0, POINT_WKB * (len(x) + 1), POINT_WKB, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(record.view(np.uint8))]
    return pa.Array.from_buffers(pa.binary(), len(x), buffers)


def write_points(frame, x, y, path, *, crs, layer=None, overwrite=False, styles=False):
    """Write ``frame``'s rows as points at ``x``, ``y`` (in ``crs``), atomically,
    a batch of WRITE_BATCH rows at a time (the format follows the extension, as
    :func:`write_vector`'s).

    Only one batch is ever turned into Arrow and WKB: two million located points
    go to a GeoPackage with half the peak memory of a GeoDataFrame's ``to_file``
    and no shapely object per row. Categorical columns are written as their
    values; a column with no value at all as text. A Parquet file is GeoParquet,
    its ``geo`` metadata as geopandas writes it (with the bounding box of all the
    points).
    """
    import pyarrow as pa

    path = Path(path)
    suffix = _check_suffix(path)
    driver = VECTOR_SUFFIXES[suffix]
    fields = [pa.field(str(name), _arrow_type(frame[name])) for name in frame.columns]
    schema = pa.schema(fields + [pa.field("geometry", pa.binary())])
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    failed = []  # GDAL reports an error in a batch as "Error while accessing batch from stream" only

    def batches():
        try:
            for start in range(0, len(frame), WRITE_BATCH):
                part = pa.Table.from_pandas(frame.iloc[start:start + WRITE_BATCH], preserve_index=False)
                rows = slice(start, start + WRITE_BATCH)
                yield from part.append_column("geometry", point_wkb(x[rows], y[rows])).cast(schema).to_batches()
        except Exception as exc:
            failed.append(exc)
            raise

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    crs = pyproj.CRS.from_user_input(crs)
    with atomic_path(path, overwrite=overwrite) as tmp:
        if driver == "Parquet":
            _write_geoparquet(reader, tmp, crs, (x.min(), y.min(), x.max(), y.max()) if len(x) else None)
            return
        import pyogrio

        with gdal_options(**PRIVATE_SQLITE):
            try:
                pyogrio.write_arrow(reader, tmp, layer=layer or path.stem, driver=driver, geometry_name="geometry",
                                    geometry_type="Point", crs=crs.to_wkt(), **CREATION_OPTIONS.get(driver, {}))
            except Exception:
                if failed:
                    raise failed[0] from None
                raise
        if styles and driver == "GPKG":
            from .styles import write_styles

            write_styles(tmp)


def _arrow_type(column):
    """The Arrow type ``column`` is written as: a categorical's values' type, text
    for a column of nothing but missing values (GDAL has no null type)."""
    import pyarrow as pa

    if isinstance(column.dtype, pd.CategoricalDtype):
        kind = pa.array(column.cat.categories.to_numpy(dtype=object)).type if len(column.cat.categories) else pa.null()
    else:
        kind = pa.array(column, from_pandas=True).type
    return pa.string() if pa.types.is_null(kind) else kind


def _write_geoparquet(reader, path, crs, bbox):
    """Stream ``reader``'s batches (geometry as WKB points) to a GeoParquet file.
    The ``geo`` metadata is taken from what geopandas writes for one point in
    ``crs``, so it follows the GeoParquet version geopandas does."""
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    sample = io.BytesIO()
    gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]), crs=crs).to_parquet(sample)
    geo = json.loads(pq.read_schema(pa.BufferReader(sample.getvalue())).metadata[b"geo"])
    column = geo["columns"]["geometry"]
    column.pop("bbox", None)
    if bbox is not None:
        column["bbox"] = [float(v) for v in bbox]
    with pq.ParquetWriter(path, reader.schema.with_metadata({"geo": json.dumps(geo)})) as writer:
        for batch in reader:
            writer.write_batch(batch)


#: What :func:`write_layers` writes, by suffix.
LAYER_SUFFIXES = (".gpkg", ".geojson", ".csv", ".xlsx")


def write_layers(layers, path, *, overwrite=False):
    """Write ``layers``, ``(name, GeoDataFrame)`` pairs, atomically to ``path``: a
    GeoPackage gets every layer, with gridkit's QGIS style of each it has one for
    (:mod:`gridkit.styles`), an Excel workbook every table (a sheet
    each, without the geometry); a GeoJSON gets the first layer (in WGS84, as the
    format asks) and a CSV the first table."""
    suffix = Path(path).suffix.lower()
    if suffix not in LAYER_SUFFIXES:
        raise InputError(f"{path}: write {', '.join(LAYER_SUFFIXES)}")
    tables = [(name, pd.DataFrame(layer.drop(columns=layer.geometry.name))) for name, layer in layers]
    with atomic_path(Path(path), overwrite=overwrite) as tmp:
        if suffix == ".gpkg":
            from .styles import write_styles

            for k, (name, layer) in enumerate(layers):  # version 1.2, as the package (CREATION_OPTIONS)
                layer.to_file(tmp, layer=name, driver="GPKG", mode="a" if k else "w",
                              **({} if k else CREATION_OPTIONS["GPKG"]))
            write_styles(tmp)  # counts, patrol coverage and tracks open in QGIS as maps
        elif suffix == ".geojson":
            layers[0][1].to_crs(4326).to_file(tmp, driver="GeoJSON")
        elif suffix == ".csv":
            tables[0][1].to_csv(tmp, index=False, encoding=CSV_ENCODING)
        else:
            write_workbook(tables, tmp)


def write_workbook(sheets, path, *, crs=None):
    """``sheets``, ``(name, table)`` pairs, as the sheets of one Excel workbook at
    ``path``: a row a line, by XlsxWriter in constant-memory mode, each row written out
    as it comes (Dongcheng's 167,217 catalogued components: 13.0 s, where openpyxl's
    write-only mode took 19.5 s). Text stays text, never read as a number, a formula
    or a link (an ID keeps its 17 digits; "=1+1" stays as typed); missing values are
    empty cells. ``crs``, the CRS of the sheets' coordinates, is kept as the document
    property :data:`WORKBOOK_CRS` (``EPSG:32650``), which :func:`table_crs` reads. A
    row past a sheet's last or a text longer than a cell holds is an error, and no
    file is written (XlsxWriter would drop the row, or cut the text)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    if crs is not None:
        # An EPSG code when it has one: Excel keeps 255 characters of a property.
        book.set_custom_property(WORKBOOK_CRS, pyproj.CRS(crs).to_string())
    for name, table in sheets:
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, [str(column) for column in table.columns])
        table, dates = _workbook_dates(table)
        dates = [(c, book.add_format({"num_format": shown})) for c, shown in dates.items()]
        table = table.astype(object)
        for row, values in enumerate(table.where(table.notna(), None).itertuples(index=False, name=None), start=1):
            error = sheet.write_row(row, 0, values)  # XlsxWriter's way of saying a row did not fit
            for column, shown in dates:  # the row's dates again, shown as dates, not as Excel's day numbers
                if values[column] is not None and not error:
                    sheet.write_datetime(row, column, values[column], shown)
            if error:  # raised before close(), which alone writes the file: none is written
                raise InputError(f"{path}: sheet {name}, row {row + 1}: " + (
                    f"{row + 1:,} rows are more than a sheet holds (1,048,576)" if error == -1 else
                    "a text longer than the 32,767 characters an Excel cell holds") +
                    "; write .csv, .gpkg or .parquet instead")
    book.close()


def _workbook_dates(table):
    """``(table, {column position: Excel number format})``: the columns of dates and
    times, each with the format it is shown in: yyyy-mm-dd where every value is a
    day, yyyy-mm-dd hh:mm:ss where some have a time, hh:mm:ss for times of day and
    [h]:mm:ss for durations. XlsxWriter writes them with no format as Excel's day
    numbers (46346.33, 0.35), and refuses a date with a time zone, which Excel has
    no place for: such a column (a GPX track's UTC times) is written as the text a
    CSV holds, 2026-11-20 08:00:00+00:00, its offset kept.

    >>> import datetime as dt
    >>> _workbook_dates(pd.DataFrame({"at": [dt.time(8, 30), None], "for": pd.to_timedelta(["1h", "2h"]),
    ...                               "on": [dt.date(2026, 1, 1), dt.datetime(2026, 1, 2, 8)]}))[1]
    {0: 'hh:mm:ss', 1: '[h]:mm:ss', 2: 'yyyy-mm-dd hh:mm:ss'}
    """
    dates, zoned = {}, {}
    for c, (name, column) in enumerate(table.items()):
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            zoned[c] = column.astype(str).where(column.notna(), None)
        elif pd.api.types.is_datetime64_dtype(column.dtype):
            days = bool((column.dropna() == column.dropna().dt.normalize()).all())
            dates[c] = "yyyy-mm-dd" if days else "yyyy-mm-dd hh:mm:ss"
        elif pd.api.types.is_timedelta64_dtype(column.dtype):
            dates[c] = "[h]:mm:ss"
        elif column.dtype == object:
            kinds = {_time_kind(v) for v in column if v is not None and v is not pd.NaT and v == v}
            if "zoned" in kinds:  # offsets that differ, which pandas keeps as objects: text, as in a CSV
                zoned[c] = column.map(lambda v: None if v is None or v is pd.NaT or v != v else str(v))
            elif kinds and kinds <= {"datetime", "day"}:
                dates[c] = "yyyy-mm-dd" if kinds == {"day"} else "yyyy-mm-dd hh:mm:ss"
            elif kinds == {"time"} or kinds == {"duration"}:
                dates[c] = "hh:mm:ss" if kinds == {"time"} else "[h]:mm:ss"
    if zoned:  # by position: a column's name may be no keyword (a number, a repeated name)
        table = pd.DataFrame({c: zoned.get(c, table.iloc[:, c]) for c in range(table.shape[1])},
                             index=table.index).set_axis(table.columns, axis=1)
    return table, dates


def _time_kind(value):
    """What an object column's value is to Excel: ``"day"``, ``"datetime"``,
    ``"zoned"`` (a date or time with a time zone), ``"time"`` (of day),
    ``"duration"``, or None (no date or time)."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return "zoned" if value.tzinfo is not None else "datetime"
    if isinstance(value, dt.date):
        return "day"
    if isinstance(value, dt.time):
        return "zoned" if value.tzinfo is not None else "time"
    return "duration" if isinstance(value, dt.timedelta) else None


@contextmanager
def gdal_options(**options):
    """GDAL configuration options for the duration of a block."""
    import pyogrio

    before = {key: pyogrio.get_gdal_config_option(key) for key in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def write_vector(gdf, path, *, layer=None, overwrite=False, styles=False, geometry_type=None):
    """Write one layer atomically; the format follows the extension (a GeoPackage's
    layer is named ``layer``, else after the file). With ``styles``, a GeoPackage
    gets gridkit's QGIS style for its layer, if it has one (:mod:`gridkit.styles`).
    ``geometry_type`` (``"MultiPolygon"``) declares the layer's type when the rows
    alone cannot (an empty layer)."""
    path = Path(path)
    suffix = _check_suffix(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        if VECTOR_SUFFIXES[suffix] == "Parquet":
            gdf.to_parquet(tmp)
        else:
            driver = VECTOR_SUFFIXES[suffix]
            if driver == "GPKG" and layer is None:
                layer = path.stem  # GDAL would name it after the temporary file (".name.x1y2z3": refused)
            typed = {} if geometry_type is None else {"geometry_type": geometry_type}
            with gdal_options(**PRIVATE_SQLITE):
                gdf.to_file(tmp, layer=layer, driver=driver, engine="pyogrio", use_arrow=True,
                            **CREATION_OPTIONS.get(driver, {}), **layer_options(gdf, driver, path.name), **typed)
            if styles and driver == "GPKG":
                from .styles import write_styles

                write_styles(tmp)
