"""Handing a grid package to other systems: GeoJSON, Shapefile, CSV, KML, …

The package (a GeoPackage in a metric CRS) stays the master copy. What leaves it
goes where the receiving system wants it:

* **GCJ-02 or BD-09.** Amap and Tencent maps draw GCJ-02, Baidu draws BD-09;
  data in WGS84 lands 100–700 m off on them (``STANDARDS.md`` §6). The export
  converts with the published forward formulas. There is no EPSG code for either,
  so the file is labelled EPSG:4326, as those platforms expect. A GeoJSON,
  GeoPackage, FlatGeobuf or GeoParquet is also marked as GCJ-02 (BD-09)
  (:data:`gridkit.io.CRS_MARK`), and gridkit reads it back as such; a Shapefile or
  KML has no place for the mark: read it back with ``--crs gcj02`` (``bd09``).
* **Long edges are cut** into pieces of at most 200 m (0.002° in a lon/lat CRS)
  before any change of CRS, because the change bends them: a straight edge in the
  package's Gauss-Krüger CRS is a curve in lon/lat (5 km: 0.4 m off in the middle
  if only its ends move), and the offsets bend it more. Measured over Beijing, the
  middle of a straight edge converted by its ends alone is off by up to 10.7 m
  (10 km), 12 cm (1 km), 5 mm (200 m) in GCJ-02, and 79 m, 1.9 m, 8 cm in BD-09.
  Cells' edges are shorter and stay as they are, so neighbours keep their shared
  vertices exactly.
* **Shapefile.** Field names hold 10 characters: gridkit's long names get fixed
  short ones (:data:`SHAPEFILE_NAMES`, ``community_code`` → ``comm_code``), any
  other long name is cut, and every renaming is reported. The text encoding is
  UTF-8 with a ``.cpg`` file unless another is asked for (``GBK`` for older
  ArcGIS-era platforms); a value that encoding cannot hold is an error naming its
  feature, not a silent ``?``.
* **GeoJSON and KML** are longitude/latitude by their specifications (RFC 7946;
  KML); GeoJSON in lon/lat is written as RFC 7946 asks (exterior rings
  counter-clockwise, 7 decimals: about 1 cm). KMZ (zipped KML, a tenth of the
  size: Google Earth's own form) is written by GDAL's LIBKML driver, a
  ``doc.kml`` linking to each layer in ``layers/``.
* **CSV** (opens in Excel; QGIS reads it as delimited text): geometry as ``WKT``,
  points as ``X`` and ``Y`` columns, UTF-8 with a byte-order mark. Its CRS is a
  ``.prj`` beside it (GeoCSV's convention: GDAL reads it, so QGIS opens the CSV in
  place), and a workbook's its custom document property ``CRS``: gridkit reads both
  back without ``--crs`` (:func:`gridkit.io.table_crs`). GCJ-02 and BD-09 get
  neither: no label names them.

Every file is written to a temporary name and renamed when all are written: a
failed export leaves no file and replaces none.
"""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import coords
from .errors import CRSError, InputError
from .io import (CRS_MARK, CSV_ENCODING, PRIVATE_SQLITE, VECTOR_SUFFIXES, atomic_path, csv_prj, gdal_options,
                 layer_options, read_vector, refuse_replacing_input, require_frame, stale_prj, write_prj,
                 write_workbook)

__all__ = ["export_package", "Exported", "EXPORT_FORMATS", "FIELD_NAMINGS", "SHAPEFILE_NAMES", "component_fields",
           "shapefile_names", "to_crs"]

log = logging.getLogger(__name__)

#: The layers of a grid package that can be exported, in the order ``"all"`` takes them.
EXPORT_LAYERS = ("cells", "units", "micro_grids", "components", "ended_grids", "ended_micro_grids")
#: Output suffix → GDAL driver: the formats gridkit reads and writes, and two only
#: written; and an Excel workbook (openpyxl, not GDAL: text cells for the codes).
EXPORT_FORMATS = {**VECTOR_SUFFIXES, ".csv": "CSV", ".kml": "KML", ".kmz": "KMZ", ".xlsx": "XLSX"}
#: Characters an Excel cell holds.
EXCEL_CELL = 32_767
#: Formats whose coordinates are longitude/latitude by specification: their default CRS.
_LONLAT_ONLY = {"GeoJSON", "KML", "KMZ"}
#: Shapefile field names (10 characters at most) for gridkit's longer column names.
SHAPEFILE_NAMES = {
    "community_code": "comm_code", "community_name": "comm_name", "street_code": "strt_code",
    "street_name": "strt_name", "county_code": "cnty_code", "county_name": "cnty_name",
    "provisional": "provisionl", "polsby_popper": "polsby_pp", "flag_detail": "flag_dtl",
    "crosses_barrier": "crosses_br", "replaced_by": "replacd_by", "parent_code": "parent_cd",
    "assign_status": "asgn_stat", "assign_distance_m": "asgn_dist", "convert_note": "conv_note",
}
#: How the components' standard fields are named (:func:`component_fields`).
FIELD_NAMINGS = ("standard", "chinese", "legacy")
#: The field a KML placemark is named by, per layer.
_KML_NAMES = {"cells": "grid_id", "units": "name", "micro_grids": "micro_id", "components": "GLBJBSM",
              "ended_grids": "grid_id", "ended_micro_grids": "micro_id"}
#: The components' ID field, as ``--fields chinese`` and ``legacy`` name it.
_ID_NAMES = ("管理部件标识码", "ObjID")
#: Features turned into GeoJSON text at a time.
_GEOJSON_CHUNK = 20_000


class Exported(NamedTuple):
    """One exported layer: its name, the file written, its features and the CRS said."""

    layer: str
    path: Path
    features: int
    crs: str
    renamed: dict
    #: A CSV's .prj, which says its CRS; None when a Shapefile of the same name has it,
    #: or for GCJ-02 and BD-09, which no CRS label names.
    prj: Path | None = None


def to_crs(gdf: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs``: any CRS pyproj knows, or the pseudo-CRS ``"gcj02"`` /
    ``"bd09"`` (labelled EPSG:4326).

    Edges longer than about 200 m (:data:`gridkit.coords.MAX_SEGMENT`) are cut first, in
    ``gdf``'s own CRS: a straight edge there is a curve in the other (a 5 km edge
    of a Gauss-Krüger polygon is 0.4 m off in lon/lat if only its ends move, and
    GCJ-02 bends it by metres more: see the module).

    >>> import shapely, geopandas as gpd
    >>> tiananmen = gpd.GeoDataFrame(geometry=[shapely.Point(116.391275, 39.906217)], crs=4326)
    >>> [round(v, 6) for v in to_crs(tiananmen, "gcj02").geometry[0].coords[0]]
    [116.397516, 39.907618]
    """
    require_frame(gdf, "the layer", one=True)
    if gdf.crs is None:  # nothing to convert from
        raise CRSError("the layer has no CRS: give it the one its coordinates are in (gdf.set_crs(...))")
    target = coords.parse_crs(crs)
    if not isinstance(target, str) and gdf.crs.equals(target):
        return gdf
    step = coords.MAX_SEGMENT["degree" if gdf.crs.is_geographic else "metre"]
    cut = gdf.set_geometry(shapely.segmentize(gdf.geometry.values, step))
    if not isinstance(target, str):
        return _still_valid(gdf, cut.to_crs(target))
    lonlat = cut.to_crs(4326)
    minx, miny, maxx, maxy = lonlat.total_bounds
    if len(lonlat) and not coords.is_in_china((minx + maxx) / 2, (miny + maxy) / 2):
        log.warning("the layer lies outside China, where %s adds no offset: its coordinates stay WGS84", target)
    converted = shapely.transform(lonlat.geometry.values, coords.wgs84_to_pseudo_func(target))
    return _still_valid(gdf, lonlat.set_geometry(gpd.GeoSeries(converted, index=lonlat.index, crs=4326)))


def _still_valid(before, after):
    """``after`` (``before`` reprojected) with the polygons that were valid before and
    are not now made valid again. A union's sliver holes, a few centimetres across
    (a street or county of communities that do not quite meet), cross themselves
    once in degrees: GDAL's LIBKML writer then refused the whole file (``export
    --layer all -o cambridge.kmz`` ended in a traceback), and a GIS reading the
    file flags them. The area changes by a few parts in 10¹³."""
    was, now = before.geometry.values, after.geometry.values
    polygons = np.isin(shapely.get_type_id(now), (3, 6))
    broken = polygons & ~shapely.is_valid(now)
    broken[broken] &= shapely.is_valid(was[broken])
    if not broken.any():
        return after
    log.info("%d polygons no longer valid in the new CRS (sliver holes crossing themselves) made valid again",
             int(broken.sum()))
    fixed = now.copy()
    fixed[broken] = shapely.make_valid(now[broken], method="structure", keep_collapsed=False)
    return after.set_geometry(gpd.GeoSeries(fixed, index=after.index, crs=after.crs))


def export_package(package, output, *, layers=("cells",), crs=None, encoding=None, where=None, fields="standard",
                   overwrite=False) -> list[Exported]:
    """Write layers of the grid package ``package`` to ``output`` for other systems.

    Parameters
    ----------
    package : str or Path
        A grid package (``gridkit grid units`` / ``households``).
    output : str or Path
        The file to write; its suffix chooses the format (:data:`EXPORT_FORMATS`).
        A GeoPackage takes every layer; in another format, more than one layer
        makes a file per layer, ``<stem>_<layer><suffix>`` beside ``output``.
    layers : sequence of str
        Package layers (:data:`EXPORT_LAYERS`), or ``["all"]``: those the package has.
    crs : optional
        Output CRS: an EPSG code, ``"gcj02"`` (Amap, Tencent) or ``"bd09"`` (Baidu).
        By default EPSG:4326 for GeoJSON and KML, else the package's own CRS.
    encoding : str, optional
        Shapefile text encoding (default UTF-8), e.g. ``"GBK"``.
    where : str, optional
        An OGR SQL filter over each layer's columns, e.g. ``"street_code = '110101001'"``.
    fields : {"standard", "chinese", "legacy"}
        How the components layer names the standard's fields (:func:`component_fields`):
        ``GLBJBSM`` …, ``管理部件标识码`` …, or ``ObjID`` … with 16-digit IDs.

    Returns
    -------
    list of Exported
        One per layer, in the order written.

    The export is not a grid package: it carries no gridkit metadata (a GCJ-02
    copy read as a package would put every cell 500 m off).
    """
    package, output = Path(package), Path(output)
    driver = _driver(output)
    if encoding is not None and driver != "ESRI Shapefile":
        raise InputError(f"{output}: an encoding is a Shapefile's choice; {driver} is always UTF-8")
    names = _layers(package, layers)
    _check_fields(fields, names, driver, output)
    target = crs if crs is not None else ("EPSG:4326" if driver in _LONLAT_ONLY else None)
    if coords.is_baidu_mercator(target):
        raise InputError(f"{output}: gridkit reads BD-09 Mercator (bd09mc, Baidu's metres) but does not write it, "
                         "which no label could name: Baidu's map APIs take BD-09 lon/lat, --crs bd09")
    if driver in _LONLAT_ONLY and not coords.is_geographic(target):
        raise InputError(f"{output}: {driver} holds longitude/latitude, not {crs}; give --crs EPSG:4326 (WGS84), "
                         "gcj02 (Amap, Tencent) or bd09 (Baidu), or another format (.gpkg, .shp) for a projected CRS")
    paths = _paths(output, names, driver)
    for path in paths:  # before reading: a big package takes a while
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass --overwrite (overwrite=True) to replace it")
        refuse_replacing_input(path, {"the package": package})
    # GCJ-02 and BD-09 are no CRS a label can name: a table of them says none, and is
    # read back with --crs gcj02 (bd09), not as WGS84 500 m off, as EPSG:4326 would be.
    pseudo = isinstance(target, str) and coords.is_pseudo_crs(target)
    prjs = {path: csv_prj(path, overwrite) for path in paths} if driver == "CSV" and not pseudo else {}
    stale = [stale_prj(path) for path in paths if driver == "CSV" and pseudo]  # an earlier export's label
    frames = []
    for name in names:
        try:
            frame = read_vector(package, layer=name, where=where, arrow=True)
        except InputError as exc:
            if where is None or len(names) == 1:
                raise
            raise InputError(f"{exc}. The filter applies to every layer exported ({', '.join(names)}): name with "
                             "--layer (layers=) those whose columns it uses") from None
        frame = to_crs(frame, target) if target is not None else frame
        frames.append((name, component_fields(frame, fields, package) if name == "components" else frame))
    crs_said = _crs_said(target, frames[0][1])
    written = []
    with ExitStack() as stack:
        temps = {path: stack.enter_context(atomic_path(path, overwrite=overwrite)) for path in set(paths)}
        stack.enter_context(gdal_options(**PRIVATE_SQLITE))  # the files are private until renamed
        sheets = []
        for (name, frame), path in zip(frames, paths):
            frame, renamed = _fields(frame, driver, package, name, encoding, path)
            if driver == "XLSX":  # every sheet checked before the workbook is written
                sheets.append((name, frame))
            else:
                try:
                    _write(frame, temps[path], name, driver, encoding, coords.parse_crs(target) if pseudo else None)
                except pyogrio.errors.DataLayerError as exc:  # GDAL's words, cut: it prints the whole feature
                    said = " ".join(str(exc).split())
                    raise InputError(f"{path}: GDAL could not write layer {name} as {driver} ("
                                     f"{said[:200]}{' …' if len(said) > 200 else ''}); another format (.gpkg, "
                                     ".geojson) may take it, and please report it with the package") from None
            if prjs.get(path):  # moved into place with the CSV by atomic_path, before it
                write_prj(temps[path], frame.crs)
            written.append(Exported(name, path, len(frame), crs_said, renamed, prjs.get(path)))
        if sheets:
            write_workbook([(name, _as_table(frame)) for name, frame in sheets], temps[output],
                           crs=None if pseudo else frames[0][1].crs)
        if driver == "GPKG":  # outlined and labelled in QGIS, as the package is
            from .styles import write_styles

            write_styles(temps[output])
    for prj in filter(None, stale):
        prj.unlink()
    return written


def _driver(output):
    driver = EXPORT_FORMATS.get(output.suffix.lower())
    if driver is None:
        raise InputError(f"{output}: unknown format {output.suffix!r}; use one of {', '.join(EXPORT_FORMATS)}")
    return driver


def _check_fields(fields, names, driver, output):
    if fields not in FIELD_NAMINGS:
        raise InputError(f"fields {fields!r}: use one of {', '.join(FIELD_NAMINGS)}")
    if fields == "standard":
        return
    if "components" not in names:
        raise InputError(f"--fields {fields} (fields=) names the components' fields; export --layer components "
                         f"(this export has {', '.join(names)})")
    if fields == "chinese" and driver == "ESRI Shapefile":
        raise InputError(f"{output}: a Shapefile's field names hold 10 bytes, three Chinese characters: export "
                         "--fields chinese as .xlsx, .csv or .gpkg, or --fields legacy (ObjID …) as a Shapefile")


def component_fields(frame, fields, package="components"):
    """The components layer ``frame`` with the standard's fields named for another system.

    ``"standard"``: as the package holds them, by the 2026 standard's abbreviations
    (``GLBJBSM`` …). ``"chinese"``: by its Chinese names (``管理部件标识码`` …), as a
    department's ledger heads them. ``"legacy"``: as CJ/T 214 systems, still most live
    platforms, name them (``ObjID``, ``ObjName``, ``DeptCode1`` … ``BGID``,
    ``ObjState``, ``ORDate``), with the position as ``PointX`` and ``PointY`` too.
    Those systems hold 16-digit IDs: a 17-digit ID is converted by its class's meaning
    (:func:`gridkit.classes.convert_ids`; the county and sequence kept), the 2026 ID
    kept beside it as ``ObjID_2026``; a class with no legacy counterpart leaves
    ``ObjID`` empty, and ``convert_note`` says why (a warning counts the reasons). The street
    and community fields, which legacy systems lack, and gridkit's own columns keep
    their names. An import reads every naming back (a copy comes back as edits).

    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame({"GLBJBSM": ["11010101037000001"], "SZDYWGBSM": ["110101001001001"]},
    ...                      geometry=[shapely.Point(116.4, 39.9)], crs=4326)
    >>> component_fields(c, "legacy").drop(columns="geometry").iloc[0].to_dict()
    {'ObjID': '1101010118000001', 'ObjID_2026': '11010101037000001', 'BGID': '110101001001001', \
'PointX': 116.4, 'PointY': 39.9, 'convert_note': ''}
    >>> list(component_fields(c, "chinese").columns)
    ['管理部件标识码', '所在单元网格标识码', 'geometry']
    """
    from .catalogue import LEGACY_NAMES, STANDARD_FIELDS

    if fields == "standard":
        return frame
    if fields == "chinese":
        return frame.rename(columns=STANDARD_FIELDS)
    ids = frame["GLBJBSM"].astype(object)
    new = frame.rename(columns=LEGACY_NAMES)

    def before_geometry(name, values):
        new.insert(new.columns.get_loc(new.geometry.name), name, values)

    # a component whose point was deleted in QGIS: empty coordinates, not a shifted column
    before_geometry("PointX", shapely.get_x(frame.geometry.values))
    before_geometry("PointY", shapely.get_y(frame.geometry.values))
    long = ids.str.len().eq(17).to_numpy()
    if not long.any():
        return new
    from .classes import convert_ids

    converted, reasons = convert_ids(ids[long].tolist(), to="legacy")
    legacy, notes = ids.to_numpy(copy=True), np.full(len(frame), "", dtype=object)
    legacy[long], notes[long] = converted, reasons
    new["ObjID"] = legacy
    new.insert(new.columns.get_loc("ObjID") + 1, "ObjID_2026", ids.where(long))
    before_geometry("convert_note", notes)
    why = pd.Series(notes[pd.isna(legacy)], dtype=object).value_counts()
    if len(why):
        log.warning("%s: %d of %d components have no CJ/T 214 ID, so an empty ObjID (convert_note says why): %s",
                    package, why.sum(), len(frame), "; ".join(f"{text} ({n:,})" for text, n in why.head(3).items()))
    return new


def _layers(package, layers):
    """The package layers to export, checked against what ``package`` holds."""
    from .package import _package_layers

    have = _package_layers(package)
    layers = [layers] if isinstance(layers, str) else list(layers)  # "cells" was read as 'c', 'e', …
    if not layers:
        raise InputError(f"no layer to export: name one or more of {', '.join(EXPORT_LAYERS)}, or all")
    if layers == ["all"]:
        return [name for name in EXPORT_LAYERS if name in have]
    for name in layers:
        if name not in EXPORT_LAYERS:
            raise InputError(f"layer {name!r} is not a layer gridkit exports; use one of "
                             f"{', '.join(EXPORT_LAYERS)} or all")
        if name not in have:
            raise InputError(f"{package}: has no {name} layer (it has {', '.join(n for n in have if n in EXPORT_LAYERS)})")
    if len(set(layers)) != len(layers):
        raise InputError(f"a layer is named twice: {', '.join(layers)}")
    return list(layers)


def _paths(output, names, driver):
    """Each layer's file: all in ``output`` for a GeoPackage, a workbook (a sheet
    each) or a single layer, else ``<stem>_<layer><suffix>``."""
    if driver in ("GPKG", "XLSX") or len(names) == 1:
        return [output] * len(names)
    return [output.with_name(f"{output.stem}_{name}{output.suffix}") for name in names]


def _crs_said(target, frame):
    if isinstance(target, str) and coords.is_pseudo_crs(target):
        name = coords.PSEUDO_NAMES[coords.parse_crs(target)]
        return f"{name}, labelled EPSG:4326"
    return frame.crs.to_string()


def _fields(frame, driver, package, layer, encoding, path):
    """``frame`` with the columns ``driver`` can hold, and what was renamed; one a
    workbook cannot hold (:func:`_check_sheet`) is an error, before any is written."""
    renamed = {}
    if driver == "XLSX":
        _check_sheet(frame, package, layer, path)
    if driver == "ESRI Shapefile":
        _check_encoding(frame, encoding or "UTF-8", package, layer)  # naming the package's columns
        renamed = shapefile_names(frame.columns.drop(frame.geometry.name))
        frame = frame.rename(columns=renamed)
    return frame, renamed


def shapefile_names(columns, names=SHAPEFILE_NAMES):
    """``{column: field}`` for the ``columns`` a Shapefile cannot hold as named: the
    short name ``names`` gives, else the first 10 characters, made unique with
    ``_2``, ``_3`` … (a .dbf field name has 10 at most, and GDAL's own cuts make
    ``community_`` and ``communit_1``).

    Examples
    --------
    >>> shapefile_names(["grid_id", "community_code", "a_very_long_name", "a_very_long_other"])
    {'community_code': 'comm_code', 'a_very_long_name': 'a_very_lon', 'a_very_long_other': 'a_very_l_2'}
    """
    renamed, taken = {}, set()
    for column in columns:
        short = names.get(column, column)[:10]
        stem, n = short, 1
        while short.lower() in taken:
            n += 1
            short = f"{stem[:10 - len(str(n)) - 1]}_{n}"
        taken.add(short.lower())
        if short != column:
            renamed[column] = short
    return renamed


def _check_encoding(frame, encoding, package, layer):
    """An error naming the first value ``encoding`` cannot hold (GDAL would write ``?``)."""
    import codecs

    try:
        if codecs.lookup(encoding).name == "utf-8":
            return  # holds any text
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}: give one Python knows, e.g. GBK, GB18030, UTF-8") from None
    for column in frame.columns.drop(frame.geometry.name):
        values = frame[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        for value in pd.unique(values.dropna()):  # each distinct text once
            try:
                str(value).encode(encoding)
            except UnicodeEncodeError as exc:
                row = int(np.flatnonzero((values == value).to_numpy())[0])
                raise InputError(f"{package}: layer {layer}, feature {row + 1}, column {column}: {value!r} has "
                                 f"{str(value)[exc.start:exc.end]!r}, which {encoding} cannot hold; export as "
                                 "UTF-8 (leave out --encoding), or change the value") from None


def _write(frame, path, layer, driver, encoding, pseudo=None):
    """One layer into the temporary ``path`` (a GeoPackage's layers all into one);
    one in GCJ-02 or BD-09 (``pseudo``) marked so where the format has a place for
    it (:data:`gridkit.io.CRS_MARK`), so that gridkit reads it back in that system."""
    if driver == "Parquet":
        frame.to_parquet(path)
        if pseudo:  # geopandas writes no metadata of ours: the schema's, rewritten
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            pq.write_table(table.replace_schema_metadata({**table.schema.metadata, CRS_MARK.lower(): pseudo}), path)
        return
    if driver == "CSV":
        _as_table(frame).to_csv(path, index=False, encoding=CSV_ENCODING)
        return
    if driver == "GeoJSON" and frame.crs.equals(4326):
        _write_geojson(frame, path, layer, pseudo)
        return
    dataset = {}
    if driver in ("KML", "KMZ"):
        frame = _int32_where_they_fit(frame)
        named = _KML_NAMES[layer]
        named = next((n for n in (named, *_ID_NAMES) if n in frame), named) if layer == "components" else named
        if named in frame and layer != "units":
            # GDAL moves a NameField out of the columns into <name>: an ID is copied to Name
            # (the default NameField) instead, so that a copy imports or adopts back by it.
            frame = frame.assign(Name=frame[named])
        elif named in frame and driver == "KML":  # LIBKML's name field is "name" already
            dataset = {"NameField": named}
    elif driver == "GPKG":
        from .io import CREATION_OPTIONS

        dataset = dict(CREATION_OPTIONS["GPKG"])
    # KMZ through GDAL's LIBKML driver: the KML driver's file zipped by hand reads back
    # (through LIBKML, as GDAL reads any .kmz) without its fields.
    pyogrio.write_dataframe(frame, path, layer=layer, driver="LIBKML" if driver == "KMZ" else driver,
                            append=driver == "GPKG" and path.exists(), encoding=encoding,
                            dataset_options=dataset or None, layer_options=layer_options(frame, driver, layer) or None,
                            layer_metadata={CRS_MARK: pseudo} if pseudo and driver in ("GPKG", "FlatGeobuf") else None,
                            use_arrow=True)  # through Arrow: a quarter faster


def _int32_where_they_fit(frame):
    """``frame`` with its 64-bit integer columns as 32-bit ones where every value
    fits: GDAL's KML writer types a 64-bit integer as text (``households`` would
    come out a string in Google Earth and in the GIS that reads the file back)."""
    small = [c for c in frame.columns if frame[c].dtype == np.int64 and (frame[c].abs() < 2**31).all()]
    return frame.astype(dict.fromkeys(small, np.int32)) if small else frame


def _as_table(frame):
    """``frame`` as a table: points as ``X`` and ``Y``, other geometry as ``WKT``, as
    QGIS reads delimited text. A CSV of it is UTF-8 with a byte-order mark, which
    Excel needs to show Chinese text; a workbook's sheet keeps every code a text cell,
    where Excel turns a CSV's 17-digit IDs into numbers of 15 digits."""
    geoms = frame.geometry.values
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if {"PointX", "PointY"} <= set(table.columns):  # a legacy system's own (component_fields)
        pass
    elif len(types := frame.geom_type.dropna()) and bool((types == "Point").all()):  # none: a deleted point
        table["X"], table["Y"] = shapely.get_x(geoms), shapely.get_y(geoms)  # no point: empty cells
    else:
        table["WKT"] = shapely.to_wkt(geoms, rounding_precision=-1)
    return table


def _check_sheet(frame, package, layer, path):
    """Refuse a layer a sheet cannot hold: more rows than a sheet has, a polygon whose
    WKT is longer than a cell holds (:data:`EXCEL_CELL`; it would be cut, and read
    back as no polygon), a text with a control character Excel cannot store."""
    from .batch import EXCEL_ROWS, _check_excel_text

    if len(frame) >= EXCEL_ROWS:
        raise InputError(f"{package}: its {layer} layer has {len(frame):,} features; an Excel sheet holds "
                         f"{EXCEL_ROWS - 1:,}: export .csv, .gpkg or .parquet (or --where for a part)")
    polygons = frame.geom_type != "Point"
    if polygons.any():
        # A vertex takes under 60 characters of WKT: only a polygon of more vertices
        # than a cell holds 60-character vertices can be too long, and only those are written.
        size = shapely.get_num_coordinates(frame.geometry.values)
        big = np.flatnonzero(polygons.to_numpy() & (size > EXCEL_CELL // 60))
        length = shapely.to_wkt(frame.geometry.values[big], rounding_precision=-1).astype(str)
        long = big[np.char.str_len(length) > EXCEL_CELL] if len(big) else big
        if len(long):
            key = "code" if layer == "units" else _KML_NAMES[layer]
            named = f" ({frame[key].iloc[long[0]]})" if key in frame else ""
            raise InputError(f"{package}: {layer} feature {long[0] + 1}{named} is longer as WKT than an Excel cell "
                             f"holds ({EXCEL_CELL:,} characters; {len(long):,} feature(s) of the layer): export the "
                             f"layer as .csv, .gpkg or .geojson, or leave it out (--layer cells --layer components)")
    _check_excel_text(frame.drop(columns=frame.geometry.name), f"{package}: {layer}", path)


def _write_geojson(frame, path, layer, pseudo=None):
    """RFC 7946 GeoJSON: exterior rings counter-clockwise, holes clockwise, 7 decimals;
    GCJ-02 or BD-09 (``pseudo``) said at the start of its ``description``, which GDAL
    reads as the layer's metadata (:func:`gridkit.io.marked_crs`).

    Written by hand from GEOS's GeoJSON (:func:`shapely.to_geojson`) and pandas'
    JSON records, because GDAL's GeoJSON writer takes about 25 µs a feature (30 µs
    with ``RFC7946=YES``): 6.5 s for Shenzhen's 215,219 cells, against 2.4 s this
    way. The tests read the files back with GDAL.
    """
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    with open(path, "w", encoding="utf-8") as out:
        said = f', "description": "{CRS_MARK}={pseudo}: {coords.PSEUDO_NAMES[pseudo]} coordinates"' if pseudo else ""
        out.write('{"type": "FeatureCollection", "name": ' + json.dumps(layer) + said + ', "features": [\n')
        for start in range(0, len(frame), _GEOJSON_CHUNK):  # a chunk at a time: the text of all is big
            part = slice(start, start + _GEOJSON_CHUNK)
            geoms = shapely.orient_polygons(frame.geometry.values[part], exterior_cw=False)
            geoms = shapely.transform(geoms, lambda xy: np.round(xy, 7))
            shapes = np.where(pd.isna(geoms), "null", shapely.to_geojson(geoms))  # a missing geometry: null
            rows = table.iloc[part]
            records = rows.to_json(orient="records", lines=True, force_ascii=False, date_format="iso").splitlines() \
                if len(table.columns) else ["{}"] * len(rows)
            out.write(",\n" if start else "")
            out.write(",\n".join(f'{{"type": "Feature", "properties": {props}, "geometry": {shape}}}'
                                  for props, shape in zip(records, shapes)))
        out.write("\n]}\n")
