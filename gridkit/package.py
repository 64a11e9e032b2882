"""The grid package: one GeoPackage holding a layout.

Layers
------
``cells``
    One polygon per cell with its 15-digit ``grid_id`` and the hierarchy.
``units``
    The hierarchy's polygons: ``level`` (county / street / community), ``code``,
    ``name``, ``parent_code``, ``provisional``.
``gridkit_metadata``
    A plain table of ``key``/``value`` rows: gridkit version, CRS, parameters,
    code scheme, creation time (and, after a component import, the component
    scheme and the import summaries).
``components``
    The component catalogue, written by :func:`gridkit.catalogue.write_catalogue`.
``layer_styles``
    QGIS's table of layer styles, holding gridkit's default style for each layer
    (:mod:`gridkit.styles`): the package opens in QGIS as a readable map.

Any other layer was added by hand (dragged in with QGIS, written with ogr2ogr);
a package written anew from this one (``gridkit grid rebalance``) carries such
layers over, the styles a user saved into the package, and its plain SQLite tables
that GDAL does not list, such as QGIS's ``qgis_projects`` (a project saved with
Project → Save To → GeoPackage) (:func:`added_by_hand`). A carried project's layers
that read the old package read the new one (:func:`repoint_project`).

Written atomically: into a temporary file beside the target, renamed over it
only when complete, so a failed run never leaves a half-written package and
never damages an existing one.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import logging
import math
import os
import shutil
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from .errors import InputError
from .io import (CREATION_OPTIONS, PRIVATE_SQLITE, TABLE_SUFFIXES, VECTOR_SUFFIXES, atomic_path, empty_file,
                 gdal_options, require_frame, write_vector)
from .styles import COLUMNS as STYLE_COLUMNS
from .styles import STYLE_NAME, TABLE, write_styles

__all__ = ["units_layer", "write_package", "read_package", "read_metadata", "metadata_frame", "check_package",
           "describe_package", "added_by_hand", "repoint_project", "reissued_ids", "CODE_SCHEME", "GRIDKIT_LAYERS"]

log = logging.getLogger(__name__)

CODE_SCHEME = "GB/T 2260 + GB/T 10114 + DB11/T 2157-2023 15-digit grid ID"
#: The layers gridkit writes into a grid package (``grid units``, ``grid households``,
#: ``grid rebalance``, ``components import``); any other was added by hand.
GRIDKIT_LAYERS = ("cells", "units", "gridkit_metadata", "micro_grids", "household_rejects", "ended_grids",
                  "ended_micro_grids", "components", TABLE)


def units_layer(communities) -> gpd.GeoDataFrame:
    """The county/street/community polygons of a communities frame, one layer."""
    comm = communities.assign(level="community", code=communities["community_code"],
                              name=communities["community_name"],
                              parent_code=communities["street_code"])
    streets = communities.dissolve(by="street_code", aggfunc={
        "street_name": "first", "county_code": "first", "provisional": "all"}).reset_index()
    streets = streets.assign(level="street", code=streets["street_code"], name=streets["street_name"],
                             parent_code=streets["county_code"])
    counties = communities.dissolve(by="county_code", aggfunc={"county_name": "first"}).reset_index()
    counties = counties.assign(level="county", code=counties["county_code"], name=counties["county_name"],
                               parent_code=counties["county_code"].str[:4] + "00", provisional=False)
    cols = ["level", "code", "name", "parent_code", "provisional", "geometry"]
    out = pd.concat([counties[cols], streets[cols], comm[cols]], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=communities.crs)
    out["area_m2"] = out.area.round(2)
    return out


def write_package(path, cells, communities, *, parameters=None, overwrite=False, extra_layers=None,
                  extra_metadata=None, carry=None):
    """Write a layout to ``path``.

    A ``.gpkg`` path gets the full grid package (cells, units, metadata); any other
    vector extension (``.geojson``, ``.fgb``, ``.parquet``, ``.shp``) gets the cells
    only. ``extra_layers`` (name → GeoDataFrame, e.g. micro-grids, rejects) are
    written into the package too; ``extra_metadata`` (key → value, stored as JSON;
    a string as it is) into its metadata, e.g. a household layout's ``highest_issued``;
    ``carry`` (:func:`added_by_hand` of the package this one replaces) the layers,
    tables, QGIS styles and projects a user added to that one. Only a package holds
    these: given any of them with another extension, it raises :class:`InputError`
    and writes nothing.
    """
    from . import __version__

    path = Path(path)
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise InputError(f"{path}: unknown output format; use .gpkg (the grid package), "
                         ".geojson, .fgb, .parquet or .shp")
    if path.suffix.lower() != ".gpkg":
        held = [name for name, frame in (extra_layers or {}).items() if frame is not None and len(frame)]
        held += [f"metadata {key!r}" for key in extra_metadata or {}]
        if carry is not None:
            held += [f"{name!r} (added by hand)" for name in [*carry["layers"], *carry["tables"]]]
            held += ["QGIS styles saved by hand"] if len(carry["styles"]) else []
        if held:
            raise InputError(f"{path}: a {path.suffix} file holds the cells alone, so {', '.join(held)} "
                             f"would be lost; write a .gpkg (the grid package) and export the cells "
                             f"after if needed: gridkit export OUT.gpkg -o {path.name}")
        write_vector(cells, path, overwrite=overwrite)
        return path
    _writable_layout(cells, communities)
    own = sorted(set(extra_layers or {}) & {"cells", "units", "gridkit_metadata", "layer_styles"})
    if own:  # written after gridkit's own, each replaced what the package needs
        raise InputError(f"{path}: extra_layers {own} would replace the package's own layers of that name; name "
                         "them otherwise")
    metadata = {
        "gridkit_version": __version__,
        "crs": cells.crs.to_string(),
        "crs_wkt": cells.crs.to_wkt(),
        "code_scheme": CODE_SCHEME,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": json.dumps(parameters or {}, ensure_ascii=False, sort_keys=True),
        "summary": json.dumps(cells.attrs.get("summary", {}), ensure_ascii=False, sort_keys=True),
    }
    own = sorted(set(extra_metadata or {}) & set(metadata))
    if own:  # {"crs": …} made the package's CRS what every reader takes it to be
        raise InputError(f"{path}: extra_metadata {own} would replace what write_package records itself; name "
                         "them otherwise")
    metadata.update({key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
                     for key, value in (extra_metadata or {}).items()})
    meta = metadata_frame(metadata)
    # Through Arrow, into a file SQLite need not sync as it goes (atomic_path syncs
    # it whole): half the time on 113,260 cells.
    with atomic_path(path, overwrite=overwrite) as tmp, gdal_options(**PRIVATE_SQLITE):
        cells.to_file(tmp, layer="cells", driver="GPKG", engine="pyogrio", use_arrow=True, **CREATION_OPTIONS["GPKG"])
        units_layer(communities).to_file(tmp, layer="units", driver="GPKG", engine="pyogrio", use_arrow=True)
        pyogrio.write_dataframe(meta, tmp, layer="gridkit_metadata", driver="GPKG")
        for name, frame in (extra_layers or {}).items():
            if frame is not None and len(frame):
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", use_arrow=True)
        if carry is not None:
            _carry_over(carry, tmp, path)
        write_styles(tmp)
    return path


def _writable_layout(cells, communities):
    """An error when ``cells`` and ``communities`` would make a package that every
    reader refuses or misreads: not GeoDataFrames, cells without ``grid_id`` and
    ``community_code`` (what :func:`read_package` needs), or the two in different
    CRSs or one not in metres (the units layer in one CRS, the metadata naming the
    cells'). What the check finds (gaps, overlaps, IDs used twice) is written, as
    `grid adopt` writes cells drawn by hand, for the user to mend."""
    require_frame(cells, "the cells", ("grid_id", "community_code"), fix="every reader of a package needs them")
    require_frame(communities, "the communities")
    if cells.crs is None or not cells.crs.is_projected or cells.crs != communities.crs:
        crs = [frame.crs.to_string() if frame.crs is not None else "no CRS" for frame in (cells, communities)]
        raise InputError(f"the cells are in {crs[0]} and the communities in {crs[1]}; a package holds both in one "
                         "projected CRS in metres, as unit_grid makes them")


def added_by_hand(path) -> dict:
    """What a user added to the grid package at ``path``: ``layers``, those gridkit
    did not write (in file order); ``styles``, the rows of QGIS's ``layer_styles``
    table that are not gridkit's (a style saved with Layer Properties → Style →
    Save as Default), for gridkit's layers and those; ``tables``, the SQLite tables
    that are neither a layer nor part of the GeoPackage format, which GDAL does not
    list (``qgis_projects``, where QGIS saves projects into a GeoPackage);
    ``projects``, the names of those projects. With ``path`` itself: what
    :func:`write_package` carries over when given it."""
    path = Path(path)
    return _added(path, _package_layers(path))


def _added(path, listed) -> dict:
    """:func:`added_by_hand` of the package at ``path``, whose layers are ``listed``."""
    layers = [name for name in listed if name not in GRIDKIT_LAYERS]
    with closing(sqlite3.connect(_read_only(path), uri=True)) as db:
        tables = _plain_tables(db)
        projects = [row[0] for row in db.execute("SELECT name FROM qgis_projects ORDER BY name")] \
            if "qgis_projects" in tables else []
    styles = pd.DataFrame(columns=STYLE_COLUMNS)
    if TABLE in listed:
        table = pyogrio.read_dataframe(path, layer=TABLE, read_geometry=False)
        styles = table.loc[(table["styleName"] != STYLE_NAME)
                           & table["f_table_name"].isin([*GRIDKIT_LAYERS, *layers]),
                           [c for c in STYLE_COLUMNS if c in table.columns]].reset_index(drop=True)
    return {"path": path, "layers": layers, "styles": styles, "tables": tables, "projects": projects}


def _plain_tables(db) -> list:
    """The SQLite tables of the GeoPackage open as ``db`` that GDAL does not list:
    not registered in ``gpkg_contents``, and not the format's own (``gpkg_*``,
    ``gpkgext_*``, ``rtree_*`` spatial indexes, ``sqlite_*``)."""
    names = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
        "(SELECT table_name FROM gpkg_contents) ORDER BY rowid")]
    return [name for name in names if not name.lower().startswith(("gpkg_", "gpkgext_", "rtree_", "sqlite_"))]


def _read_only(path) -> str:
    """An SQLite URI opening ``path`` read-only."""
    return f"{Path(path).resolve().as_uri()}?mode=ro"


def _carry_over(added, tmp, target):
    """Copy the layers, styles and tables :func:`added_by_hand` found into the package
    being written at ``tmp`` (before gridkit's styles: :func:`write_styles` keeps the
    user's, and makes its own a layer's default only where the user's is not), for
    ``target``, the path it is renamed to: the QGIS projects' layers that read the old
    package are pointed at it (:func:`repoint_project`)."""
    for name in added["layers"]:
        try:
            info = pyogrio.read_info(added["path"], layer=name)
            frame = pyogrio.read_dataframe(added["path"], layer=name)
            spatial = {} if info["geometry_type"] is None else {
                "geometry_type": info["geometry_type"], "layer_options": {"GEOMETRY_NAME": info["geometry_name"]}}
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", **spatial)
        except (pyogrio.errors.DataLayerError, pyogrio.errors.DataSourceError, ValueError) as exc:
            raise InputError(f"{added['path']}: cannot carry over its layer {name!r}, added by hand ({exc}); "
                             "move it to a file of its own (ogr2ogr) and run again") from None
    present = {name for name, _ in pyogrio.list_layers(tmp)}
    styles = added["styles"][added["styles"]["f_table_name"].isin(present)]
    if len(styles):
        pyogrio.write_dataframe(styles, tmp, layer=TABLE, driver="GPKG")
    if added["tables"]:
        with closing(sqlite3.connect(tmp, uri=True)) as db, db:  # each table as made (its SQL), then its rows
            db.execute("ATTACH DATABASE ? AS old", (_read_only(added["path"]),))
            for name in added["tables"]:
                quoted = '"' + name.replace('"', '""') + '"'
                try:
                    (sql,) = db.execute("SELECT sql FROM old.sqlite_master WHERE type = 'table' AND name = ?",
                                        (name,)).fetchone()
                    db.execute(sql)
                    db.execute(f"INSERT INTO main.{quoted} SELECT * FROM old.{quoted}")
                except sqlite3.Error as exc:
                    raise InputError(f"{added['path']}: cannot carry over its table {name!r} ({exc}); "
                                     "move it to a file of its own and run again") from None
            if added["projects"] and Path(added["path"]).resolve() != Path(target).resolve():
                _repoint_projects(db, added["path"], target)


def _repoint_projects(db, old, new):
    """Point the layers of the QGIS projects in ``db`` (an open package) that read
    the package ``old`` at ``new``; a project gridkit cannot read is left as it was,
    with a warning."""
    for name, content in db.execute("SELECT name, content FROM qgis_projects").fetchall():
        moved = repoint_project(content, old, new)
        if moved is None:
            log.warning("%s: the QGIS project %r is not a project saved by QGIS as gridkit knows it (a zipped "
                        ".qgs, hex-encoded); carried as it was, so its layers still read %s: point them at %s "
                        "in QGIS (Layer → Change Data Source)", old, name, Path(old).name, Path(new).name)
        elif moved != content:
            db.execute("UPDATE qgis_projects SET content = ? WHERE name = ?", (moved, name))


#: QGIS data providers whose layer source is a file path, with options after "|"
#: ("./layout.gpkg|layername=cells").
FILE_PROVIDERS = ("ogr", "gdal")


def repoint_project(content, old, new):
    """A QGIS project saved in a GeoPackage (``qgis_projects.content``: a .qgz
    archive, hex-encoded, as Project → Save To → GeoPackage writes it) with its
    layers that read the file ``old`` reading ``new`` instead.

    QGIS keeps a layer's file in three places: the layer's ``<datasource>``, the
    layer tree's ``source`` and a print layout map's locked layers (``<Layer
    source=…>``); the first two relative to the package's folder when the project
    saves relative paths, the last absolute. Each stays in its form. Relative paths
    to other files are made relative to ``new``'s folder, so that they still find
    their file when ``new`` is in another folder. ``content`` itself when nothing
    changes; ``None`` when it is not such a project. By hand rather than through
    PyQGIS, which is a system package (Debian's ``python3-qgis``), not one pip
    installs.
    """
    old, new = Path(old).resolve(), Path(new).resolve()
    try:
        text = content.decode("ascii") if isinstance(content, bytes) else content
        archive = zipfile.ZipFile(io.BytesIO(bytes.fromhex(text)))
        (project,) = [info for info in archive.infolist() if info.filename.lower().endswith(".qgs")]
        xml = archive.read(project)
        root = ET.fromstring(xml)
    except (AttributeError, TypeError, ValueError, zipfile.BadZipFile, ET.ParseError):
        return None
    if root.tag != "qgis":
        return None

    def moved(source):
        path, bar, rest = source.partition("|")
        relative = path != "" and not os.path.isabs(path)
        was = Path(os.path.normpath(old.parent / path if relative else path))
        if path == "" or (was != old and not relative):
            return source
        now = new if was == old else was
        if not relative:
            return str(now) + bar + rest
        there = Path(os.path.relpath(now, new.parent)).as_posix()
        return (there if there.startswith("../") else "./" + there) + bar + rest

    changed = False
    for layer in root.iter("maplayer"):
        datasource = layer.find("datasource")
        if layer.findtext("provider") in FILE_PROVIDERS and datasource is not None and datasource.text:
            now = moved(datasource.text)
            changed |= now != datasource.text
            datasource.text = now
    for element in root.iter():
        source = element.get("source")
        if source and (element.get("providerKey") or element.get("provider")) in FILE_PROVIDERS:
            now = moved(source)
            changed |= now != source
            element.set("source", now)
    if not changed:
        return content
    # The DOCTYPE line QGIS writes before the root, which ElementTree drops.
    body = xml[: xml.index(b"<qgis")] + ET.tostring(root, encoding="unicode").encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as rezipped:
        for info in archive.infolist():
            rezipped.writestr(info, body if info is project else archive.read(info))
    return out.getvalue().hex()


def read_layer(path, layer, *, columns=None, geometry=True):
    """The layer ``layer`` of the grid package at ``path``, its codes and IDs as text
    (:func:`~gridkit.codes.codes_as_text`): a field made an integer or a real in QGIS
    (Refactor fields) or by a spreadsheet round trip reads as the package writes it,
    so that it matches the other layers' codes. ``columns``: only these fields;
    ``geometry``: False for a table without it."""
    from .codes import codes_as_text

    if geometry:
        frame = gpd.read_file(path, layer=layer, columns=columns, engine="pyogrio", use_arrow=True)
    else:
        frame = pyogrio.read_dataframe(path, layer=layer, columns=columns, read_geometry=False)
    return codes_as_text(frame)


def read_package(path, *, where=None):
    """Read a grid package: ``(cells, units, metadata dict)``.

    ``where``: an OGR SQL filter over the cells' columns (``"street_code =
    '110101001'"``, one street's cells); the units are then those holding a cell it
    keeps. An error names the filter when it is wrong or keeps no cell.
    """
    path = Path(path)
    _package_layers(path)
    # Through Arrow: 3× faster on a big layout (Beijing's 1.6 M cells: 3.6 s instead of
    # 9.9 s). A column with no value at all (end_date, while no cell has ended) comes
    # back as text NaN rather than None; both are missing to pandas and to the file.
    from .codes import codes_as_text
    from .io import read_vector

    if where is None:
        cells = read_layer(path, "cells")
    else:
        cells = codes_as_text(read_vector(path, layer="cells", where=where, arrow=True).reset_index(drop=True))
    units = read_layer(path, "units")
    if where is not None:
        columns = [c for c in ("community_code", "street_code", "county_code") if c in cells]
        held = pd.unique(cells[columns].to_numpy().ravel())
        units = units.loc[units["code"].isin(held)].reset_index(drop=True)
    return cells, units, read_metadata(path)


def holds_households(path, cells) -> bool:
    """Whether the grid package at ``path``, whose cells are ``cells``, is a
    household layout (``grid households``, ``grid rebalance``): its cells count
    households, or it holds micro-grids."""
    return "households" in cells.columns or "micro_grids" in {name for name, _ in pyogrio.list_layers(path)}


def reissued_ids(path, cells) -> list:
    """The grid IDs of ``cells`` that the grid package at ``path`` gave to another
    place: its cell of that ID shares less than half its area with the new one
    (intersection over union), or its ended grids (a rebalance's) held it. Sorted.

    A layout written over an old one numbers its cells afresh, so records kept
    elsewhere by grid ID (cases, inspections) would point at the wrong place;
    ``gridkit grid rebalance`` keeps the IDs of the grids that do not change.
    """
    path = Path(path)
    layers = _package_layers(path)
    old = pd.concat([gpd.read_file(path, layer=layer, columns=["grid_id"], engine="pyogrio", use_arrow=True)
                     .to_crs(cells.crs).assign(ended=layer != "cells")
                     for layer in ("cells", "ended_grids") if layer in layers])
    pairs = pd.DataFrame({"grid_id": cells["grid_id"].astype(str).to_numpy(), "new": cells.geometry.to_numpy()})
    pairs = pairs.merge(pd.DataFrame({"grid_id": old["grid_id"].astype(str).to_numpy(),
                                      "old": old.geometry.to_numpy(), "ended": old["ended"].to_numpy()}),
                        on="grid_id")
    if pairs.empty:
        return []
    new, was = pairs["new"].to_numpy(), pairs["old"].to_numpy()
    # A cell drawn again to the same vertices (the same layout written again) is the
    # same place: only the others are intersected, and the union's area is the two
    # areas less the intersection's (113,260 cells drawn the same: 0.25 s with the read, not 2.7 s).
    iou = np.ones(len(pairs))
    moved = ~shapely.equals_exact(new, was, tolerance=0.0)
    both = shapely.area(shapely.intersection(new[moved], was[moved]))
    union = shapely.area(new[moved]) + shapely.area(was[moved]) - both
    iou[moved] = np.divide(both, union, out=np.zeros(len(both)), where=union > 0)
    return sorted(set(pairs.loc[(iou < 0.5) | pairs["ended"].to_numpy(), "grid_id"]))


def _package_layers(path) -> list:
    """The layers of the grid package at ``path``, in file order; an error naming
    what is missing when it is none."""
    if not path.exists():
        raise InputError(f"{path}: no such grid package")
    try:
        listed = pyogrio.list_layers(path)
        layers = [name for name, _ in listed]
    except pyogrio.errors.DataSourceError:
        said = f"{path}: not a GeoPackage GDAL can open (a grid package is the .gpkg `gridkit grid units` or " \
               "`gridkit grid households` writes)"
        if path.suffix.lower() in (".parquet", ".geoparquet"):  # what `gridkit export` writes, given back
            said += f"; cells in a GeoParquet file become one with `gridkit grid adopt {path} -o PACKAGE.gpkg`"
        raise InputError(empty_file(path) or said) from None
    missing = {"cells", "units", "gridkit_metadata"} - set(layers)
    if missing == {"gridkit_metadata"}:  # cells and units, without the metadata: a copy
        raise InputError(f"{path}: not a gridkit grid package (missing layers ['gridkit_metadata']): a GeoPackage "
                         "`gridkit export` writes is a copy for other systems. Use the package it was exported "
                         f"from, or make a package of its cells: gridkit grid adopt {path} --layer cells "
                         "-o PACKAGE.gpkg")
    if missing:
        # GDAL types a CSV's WKT column "Unknown" (its geometry may be of any kind), and
        # a workbook's not at all: a sheet of `gridkit export`'s .xlsx is named cells
        if path.suffix.lower() in TABLE_SUFFIXES:
            from .catalogue import _names_wkt_column

            listed = [(name, "WKT geometry" if kind == "Unknown" or _names_wkt_column(path, name) else kind)
                      for name, kind in listed]
        held = ", ".join(f"{name} ({kind or 'table'})" for name, kind in listed) or "no layer"
        said = f"{path}: not a gridkit grid package (missing layers {sorted(missing)}); it holds {held}. "
        shapes = {"Unknown", "WKT geometry"}  # geometry of any kind, polygons perhaps
        if len(listed) and not any(kind and ("Polygon" in kind or kind in shapes) for _, kind in listed):
            raise InputError(said + f"Points are located in a package's cells with `gridkit locate {path} --grid "
                             f"PACKAGE.gpkg`, or catalogued into them with `gridkit components import {path} --grid "
                             "PACKAGE.gpkg`")  # points or a table, given where the package goes
        raise InputError(said + f"Boundaries become one with `gridkit grid units {path} … -o PACKAGE.gpkg` (or grid "
                         f"households), cells drawn elsewhere with `gridkit grid adopt {path} -o PACKAGE.gpkg`")
    return layers


def describe_package(path) -> dict:
    """What a grid package holds and how it was made, from its attributes and
    metadata alone (no geometry is read: fast on millions of cells).

    Returns a dict (JSON-ready): ``path``; ``layout`` (``"unit grids"``,
    ``"household grids"``, or ``"adopted grids"``, drawn elsewhere and brought in
    by ``gridkit grid adopt``); ``gridkit_version``, ``created``, ``crs``,
    ``crs_name``; ``extent_lonlat`` (minx, miny, maxx, maxy of the cells, in
    degrees); ``parameters`` (what the command was given); ``layers`` (name →
    feature count); ``units`` (level → count); ``cells`` (count, area in m²,
    for household grids the band, households, grids in the band and flags, and
    ``in_no_community``: cells naming a community the units lack, when any);
    and where the package has them ``micro_grids``, ``components`` (count, per
    class, per assignment status, and with micro-grids ``in_micro_grids``),
    ``ended`` (grids and micro-grids a rebalance ended, the last end date) and
    ``added_by_hand`` (``layers``, ``tables``, ``projects`` and ``styles``, the
    layer of each QGIS style the user saved: :func:`added_by_hand`, what a
    package written anew from this one carries).

    The figures are the layers' own columns (``households``, ``area_m2``,
    ``flag``) as gridkit wrote them: after editing by hand, :func:`check_package`
    checks the geometry and ``gridkit grid rebalance`` recounts.

    >>> import tempfile, shapely, geopandas as gpd, gridkit as gk
    >>> square = gpd.GeoDataFrame({"code": ["110101001001"]}, crs=4548,
    ...                           geometry=[shapely.box(500_000, 4_400_000, 500_300, 4_400_200)])
    >>> communities = gk.unit_hierarchy(square, code_field="code")
    >>> path = gk.write_package(Path(tempfile.mkdtemp()) / "square.gpkg", gk.unit_grid(communities), communities)
    >>> info = describe_package(path)
    >>> info["layout"], info["cells"]["count"], info["cells"]["area_m2"]["total"], info["units"]
    ('unit grids', 6, 60000.0, {'county': 1, 'street': 1, 'community': 1})
    """
    path = Path(path)
    # Each layer's info once: its feature count, fields, and for the cells CRS and bounds.
    listed = _package_layers(path)
    infos = {name: pyogrio.read_info(path, layer=name, force_total_bounds=name == "cells") for name in listed}
    metadata = read_metadata(path)
    parameters, summary = (_json_object(metadata, key) for key in ("parameters", "summary"))
    crs = pyproj.CRS(metadata.get("crs_wkt") or metadata.get("crs") or infos["cells"]["crs"])
    band = parameters.get("band")
    info = {
        "path": str(path),
        "layout": "household grids" if band else "adopted grids" if parameters.get("adopted") else "unit grids",
        "gridkit_version": metadata.get("gridkit_version"),
        "created": metadata.get("created"),
        "crs": crs.to_string(),
        "crs_name": crs.name,
        "extent_lonlat": _extent_lonlat(infos["cells"]),
        "parameters": parameters,
        "summary": summary,
        "layers": {name: int(layer_info["features"]) for name, layer_info in infos.items()},
    }

    def columns(layer, wanted):  # ``layer``'s attribute columns among ``wanted`` (those it has), no geometry
        have = [c for c in wanted if c in infos[layer]["fields"]]
        return pyogrio.read_dataframe(path, layer=layer, columns=have, read_geometry=False).drop(
            columns="geometry", errors="ignore")

    units = columns("units", ["level", "code"])
    levels = units["level"].astype(str).value_counts() if "level" in units else pd.Series(dtype=int)
    rank = {"county": 0, "street": 1, "community": 2}  # the hierarchy's order, any other level after
    info["units"] = {level: int(n) for level, n in sorted(levels.items(), key=lambda kv: (rank.get(kv[0], 3), kv[0]))}
    cells = columns("cells", ["area_m2", "households", "flag", "community_code"])
    info["cells"] = {"count": len(cells), **_areas(cells), **_households(cells, band)}
    if {"level", "code"} <= set(units) and "community_code" in cells:  # rows deleted by hand: check says more
        communities = units["code"][units["level"].astype(str) == "community"].astype(str)
        orphans = int((~cells["community_code"].astype(str).isin(communities)).sum())
        if orphans:
            info["cells"]["in_no_community"] = orphans
    if "micro_grids" in infos:
        micro = columns("micro_grids", ["grid_id", "households", "flag"])
        info["micro_grids"] = {"count": len(micro), "grids": int(micro["grid_id"].nunique()) if "grid_id" in micro
                               else None, **_households(micro, parameters.get("micro"))}
    if "components" in infos:
        components = columns("components", ["class_code", "class_name", "assign_status", "micro_id"])
        if {"class_code", "class_name"} <= set(components.columns):
            from .catalogue import _class_names

            components["class_name"] = _class_names(components["class_code"], components["class_name"])
        info["components"] = {"count": len(components),
                              "classes": _counts(components, "class_code", "class_name"),
                              "assign_status": _counts(components, "assign_status")}
        if "micro_grids" in infos:  # how many components a micro-grid holds (none before they were kept)
            info["components"]["in_micro_grids"] = int(components["micro_id"].notna().sum()) \
                if "micro_id" in components else 0
    ended = {}
    for layer, key in (("ended_grids", "grids"), ("ended_micro_grids", "micro_grids")):
        if layer in infos:
            frame = columns(layer, ["end_date"])
            ended[key] = len(frame)
            if "end_date" in frame and frame["end_date"].notna().any():
                ended["last_end_date"] = max(ended.get("last_end_date", ""), str(frame["end_date"].dropna().max()))
    if ended:
        info["ended"] = ended
    added = _added(path, listed)
    added = {"layers": added["layers"], "tables": added["tables"], "projects": added["projects"],
             "styles": added["styles"]["f_table_name"].tolist()}
    if any(added.values()):
        info["added_by_hand"] = added
    return info


def _json_object(metadata, key) -> dict:
    """A metadata value that holds a JSON object ({} when missing or not one)."""
    try:
        value = json.loads(metadata.get(key) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _extent_lonlat(info):
    """The bounds of a layer (its ``pyogrio.read_info``) in longitude/latitude (None
    for an empty or CRS-less layer)."""
    bounds = info.get("total_bounds")
    if bounds is None or not info["crs"] or not all(map(math.isfinite, bounds)):
        return None
    to_lonlat = pyproj.Transformer.from_crs(info["crs"], "EPSG:4326", always_xy=True)
    return [round(float(v), 6) for v in to_lonlat.transform_bounds(*bounds)]


def _areas(frame) -> dict:
    """Min, mean and max of the ``area_m2`` column, when there is one."""
    if "area_m2" not in frame or not len(frame):
        return {}
    area = pd.to_numeric(frame["area_m2"], errors="coerce")
    return {"area_m2": {"total": round(float(area.sum()), 1), "min": round(float(area.min()), 1),
                        "mean": round(float(area.mean()), 1), "max": round(float(area.max()), 1)}}


def _households(frame, band) -> dict:
    """Households, the count in the band ``band`` (low, high) and the flags, of a
    layer of household grids (nothing for a unit grid)."""
    if not band or "households" not in frame:
        return {}
    households = pd.to_numeric(frame["households"], errors="coerce")
    low, high = band
    flags = frame["flag"].fillna("").astype(str) if "flag" in frame else pd.Series("", index=frame.index)
    return {"band": [low, high], "households": int(households.sum()),
            "in_band": int(households.between(low, high).sum()),
            "flags": {str(k): int(v) for k, v in flags[flags != ""].value_counts().sort_index().items()}}


def _counts(frame, column, name_column=None) -> dict:
    """Rows per value of ``column`` (most first), keyed ``"value name"`` when ``name_column`` gives names."""
    if column not in frame:
        return {}
    keys = frame[column].astype(str)
    if name_column in frame:
        keys = keys + " " + frame[name_column].fillna("").astype(str)
    return {str(k).strip(): int(v) for k, v in keys.value_counts().items()}


def metadata_frame(values) -> pd.DataFrame:
    """The ``gridkit_metadata`` table of a dict: one ``key``/``value`` row each."""
    return pd.DataFrame({"key": list(values), "value": [str(v) for v in values.values()]})


def read_metadata(path) -> dict:
    """The ``gridkit_metadata`` table of a package as a dict."""
    try:
        meta = pyogrio.read_dataframe(path, layer="gridkit_metadata")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        _package_layers(Path(path))  # says what the file is, and what to do, when it is no package
        raise InputError(f"{path}: not a gridkit grid package (it has no gridkit_metadata table)") from None
    return dict(zip(meta["key"], meta["value"]))


def _require_columns(path, layer, frame, needed):
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise InputError(f"{path}: the {layer} layer has no {', '.join(missing)} column(s), which gridkit wrote; "
                         "restore them (renamed or deleted while editing?)")


def check_package(path, *, components=True) -> dict:
    """Check a grid package as it is on disk, after someone edited it (in QGIS, say):
    ``{layer: PartitionReport}`` for ``cells`` against the package's communities,
    when there are micro-grids, ``micro_grids`` against the cells, and when there is
    a component catalogue, ``components`` (:func:`gridkit.catalogue.misplaced_components`):
    each component in use in the cell and micro-grid that hold it now, as after
    cells are edited by hand they may not be (``gridkit components reassign`` puts
    them right). ``components=False`` leaves the catalogue out: the layout alone.

    Besides :func:`gridkit.check_partition`'s invariants, every ``grid_id`` must be
    a well-formed 15-digit grid ID, and no grid or micro-grid may carry the ID of
    one the package keeps as ended (``ended_grids``, ``ended_micro_grids``): an ID is
    issued once. Layers saved in a geographic CRS are measured in
    the package's metric CRS (its metadata), else in their UTM zone.
    """
    from .codes import MICRO_ID_FORM, malformed_grid_ids, malformed_micro_ids, parse_grid_id, rounded_ids
    from .errors import CodeError
    from .invariants import PartitionReport, check_micro_grids, check_partition

    cells, units, metadata = read_package(path)
    _require_columns(path, "cells", cells, ("grid_id", "community_code"))
    _require_columns(path, "units", units, ("level", "code"))
    if cells.crs is not None and cells.crs.is_geographic:
        metric = metadata.get("crs") or ""
        target = metric if metric and not pyproj.CRS(metric).is_geographic else cells.estimate_utm_crs()
        cells, units = cells.to_crs(target), units.to_crs(target)
    communities = units[units["level"] == "community"].rename(columns={"code": "community_code"})
    issued = _issued_record(metadata)
    reports = {"cells": check_partition(cells, communities, issued=issued)}
    ids = cells["grid_id"].astype(str)
    wrong = malformed_grid_ids(ids) & cells["grid_id"].notna().to_numpy()  # a blank one is flagged as such
    for grid_id, geometry in zip(ids[wrong], cells.geometry.values[wrong]):
        try:
            parse_grid_id(grid_id)
        except CodeError as exc:
            reports["cells"].flag(str(exc), geometry)
    _flag_unit_fields(reports["cells"], cells, units)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    _flag_ended(path, layers, issued, reports["cells"], ids, cells["community_code"].astype(str),
                cells.geometry.values, "ended_grids")
    micro = None
    if "micro_grids" in layers:
        micro = read_layer(path, "micro_grids").to_crs(cells.crs)
        _require_columns(path, "micro_grids", micro, ("micro_id", "grid_id"))
        rounded = rounded_ids(micro, "micro_id")
        if rounded:  # every ID would be named as a duplicate of its rounded neighbours
            reports["micro_grids"] = report = PartitionReport(cells=len(micro), units=len(cells), crs=micro.crs)
            report.flag(rounded)
            return reports
        reports["micro_grids"] = report = check_micro_grids(micro, cells, issued=issued)
        # The prefix (its grid's ID) is checked above.
        micro_ids = micro["micro_id"].astype(str)
        wrong = malformed_micro_ids(micro_ids) & micro["micro_id"].notna().to_numpy()
        for micro_id, geometry in zip(micro_ids[wrong], micro.geometry.values[wrong]):
            report.flag(f"micro ID {micro_id!r} is not {MICRO_ID_FORM}", geometry)
        _flag_ended(path, layers, issued, report, micro_ids, micro["grid_id"].astype(str), micro.geometry.values,
                    "ended_micro_grids")
    if components and "components" in layers:
        reports["components"] = _check_components(path, cells, micro)
    return reports


#: How many groups of misplaced components (by where the catalogue puts them and
#: where they lie) check names, a problem each; the rest are counted in one line.
_MISPLACED_SHOWN = 50


def _check_components(path, cells, micro):
    """The components layer's report: each component in use must be in the cell (and
    micro-grid) that holds it now. Problems are grouped by where the catalogue
    puts them and where they lie, each where they lie now (the cell, or the
    micro-grid); ``cells`` counts the components in use, ``units`` the cells."""
    from .catalogue import MOVED_OUT, in_use, misplaced_components, read_catalogue, without_position
    from .errors import GridkitError
    from .invariants import PartitionReport

    catalogue = read_catalogue(path)
    used = in_use(catalogue)
    report = PartitionReport(cells=int(used.sum()), units=len(cells), crs=cells.crs)
    if not used.any():
        return report
    lost = without_position(catalogue) & used
    if lost.any():
        ids = catalogue["GLBJBSM"].to_numpy(dtype=object)[lost]
        example = next((str(i) for i in ids if i is not None and str(i).strip()), "one without an ID")
        report.flag(f"{int(lost.sum()):,} component(s) in use (e.g. {example}) have no position (a point deleted in "
                    "QGIS, or a row added in the attribute table): give each its point in QGIS, or import its "
                    "inventory again")
    blank = int(_text(cells, "grid_id").eq("").sum())
    if blank:  # the components in such a cell would be said to lie in none
        report.flag(f"the components were not checked against the cells: {blank:,} cell(s) have no grid_id "
                    "(`gridkit check --fix-ids` gives each one)")
        return report
    _flag_place_names(report, catalogue, used, cells)
    catalogue = catalogue.to_crs(cells.crs)
    drawn = cells[~(cells.geometry.isna() | cells.geometry.is_empty).to_numpy()]  # the others are flagged above
    try:
        wrong = misplaced_components(catalogue, drawn, micro=micro)
    except GridkitError as exc:  # cells the locator cannot index: the cells' report says why
        report.flag(f"the components were not checked against the cells: {exc}")
        return report
    if not len(wrong):
        return report
    where = dict(zip(cells["grid_id"].astype(str), cells.geometry.values))
    if micro is not None:
        where.update(zip(micro["micro_id"].astype(str), micro.geometry.values))
    groups = (wrong.fillna("").groupby(["grid_id", "grid_now", "micro_id", "micro_now"], sort=False)
              .agg(n=("row", "size"), example=("GLBJBSM", "first")).reset_index()
              .sort_values(["n", "grid_now", "micro_now"], ascending=[False, True, True]))
    for said, now, said_micro, now_micro, n, example in groups.head(_MISPLACED_SHOWN).itertuples(index=False):
        what = f"{n:,} component(s) (e.g. {example or 'one without an ID'})"
        if not now:
            report.flag(f"{what} the catalogue puts in {said or 'no cell'} lie in no cell now, nor near one: "
                        + MOVED_OUT)
        elif said != now:
            report.flag(f"{what} the catalogue puts in {said or 'no cell'} lie in cell {now}", where.get(now))
        else:
            report.flag(f"{what} in {now} the catalogue puts in micro-grid {said_micro or 'none'} lie in "
                        f"{'micro-grid ' + now_micro if now_micro else 'none of its micro-grids'}",
                        where.get(now_micro or now))
    if len(groups) > _MISPLACED_SHOWN:
        rest = groups.iloc[_MISPLACED_SHOWN:]
        report.flag(f"{int(rest['n'].sum()):,} component(s) more, in {len(rest):,} more cells or micro-grids, lie "
                    "elsewhere than the catalogue says")
    return report


def _flag_place_names(report, catalogue, used, cells):
    """Flag on ``report`` the components in use whose street and community (codes and
    names: the standard's place fields) are not those of the cell the catalogue puts
    them in: the cells renamed (``check --fix-names``) since the import, say.
    ``components reassign`` gives them the cell's."""
    from .catalogue import PLACE_FIELDS

    grid = _text(catalogue, "SZDYWGBSM")
    held = cells.assign(key=_text(cells, "grid_id")).drop_duplicates("key").set_index("key")
    known = (used & grid.isin(held.index)).to_numpy()
    for field, column in PLACE_FIELDS.items():
        if field == "SZDYWGBSM" or field not in catalogue or column not in cells:
            continue
        has, says = _text(catalogue, field)[known], _text(held, column).reindex(grid[known]).to_numpy()
        differ = has.to_numpy() != says
        if not differ.any():
            continue
        found = pd.DataFrame({"has": has[differ], "says": says[differ], "grid": grid[known][differ],
                              "id": _text(catalogue, "GLBJBSM")[known][differ]})
        for (has_, says_), group in found.groupby(["has", "says"], sort=True):
            report.flag(f"{len(group):,} component(s) (e.g. {group['id'].iloc[0] or 'one without an ID'}) have "
                        f"{field} {has_ or '(blank)'!r} where their cell ({group['grid'].iloc[0]}) has "
                        f"{column} {says_ or '(blank)'!r}",
                        held.geometry.loc[group["grid"].iloc[0]])


def _issued_record(metadata) -> dict:
    """A household package's ``highest_issued`` metadata ({} when absent or not
    what gridkit wrote: it only sharpens the hints for a new ID)."""
    from .codes import highest_issued

    try:
        return highest_issued(before=json.loads(metadata.get("highest_issued") or "{}"))
    except (ValueError, TypeError, AttributeError):
        return {}


#: The cells' columns that repeat what the units layer says of their community.
UNIT_FIELDS = ("community_name", "street_code", "street_name", "county_code", "county_name")


def _text(frame, column):
    """``frame[column]`` as stripped text, "" where blank (or the column missing);
    the cells' and units' here, the catalogue's in :mod:`gridkit.catalogue` and
    :mod:`gridkit.conformance`."""
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def _units_say(cells, units):
    """What the ``units`` layer says of each cell's community (by its
    ``community_code``): :data:`UNIT_FIELDS` as text, missing where it says nothing
    (no such community, or no street or county row above it)."""
    table = pd.DataFrame({c: _text(units, k) for c, k in (("level", "level"), ("code", "code"), ("name", "name"),
                                                         ("parent", "parent_code"))})
    table = table.drop_duplicates(["level", "code"])

    def of(level, codes, column):
        return codes.map(table[table["level"] == level].set_index("code")[column])

    community = _text(cells, "community_code")
    street = of("community", community, "parent")
    street = street.where(street.isin(table.loc[table["level"] == "street", "code"]))
    county = of("street", street, "parent")
    return pd.DataFrame({"community_name": of("community", community, "name"), "street_code": street,
                         "street_name": of("street", street, "name"), "county_code": county,
                         "county_name": of("county", county, "name")}, index=cells.index)


def _flag_unit_fields(report, cells, units):
    """Flag on ``report`` the cells whose community name, street or county is not
    what the units layer says of their community: blank in a cell drawn anew in
    QGIS (``--fix-ids`` fills them), or a unit renamed on one side only. The
    cells' are what ``locate``, the service and the catalogue give."""
    said = _units_say(cells, units)
    community, grid = _text(cells, "community_code"), _text(cells, "grid_id")
    for column in UNIT_FIELDS:
        if column not in cells:
            continue
        has = _text(cells, column)
        wrong = (said[column].notna() & (has != said[column])).to_numpy()
        if not wrong.any():
            continue
        found = pd.DataFrame({"community": community[wrong], "has": has[wrong], "said": said[column][wrong],
                              "grid": grid[wrong], "row": np.flatnonzero(wrong)})
        for (code, has_, said_), group in found.groupby(["community", "has", "said"], sort=True):
            fix = ("`gridkit check --fix-ids` fills it from the units layer" if not has_ else
                   "locate and the catalogue give the cells' (renamed on one side only? `gridkit check "
                   "--fix-names` gives the cells the units layer's)" if said_ else
                   "locate and the catalogue give the cells' (type it in the units layer too)")
            example = group["grid"].iloc[0] or "one without an ID"
            report.flag(f"{len(group):,} cell(s) of community {code} (e.g. {example}) have {column} "
                        f"{has_ or '(blank)'!r} where the units layer has {said_ or '(blank)'!r}: {fix}",
                        cells.geometry.values[group["row"].iloc[0]])


def _fill_unit_fields(cells, units, *, differing=False) -> int:
    """Fill, in place, the blank :data:`UNIT_FIELDS` of ``cells`` with what the units
    layer says of their community (a cell drawn anew in QGIS has none), and with
    ``differing`` those that differ too (a unit renamed in the units layer alone);
    how many cells took something. A field the units layer leaves blank is kept."""
    said = _units_say(cells, units)
    taken = np.zeros(len(cells), dtype=bool)
    for column in UNIT_FIELDS:
        if column not in cells:
            continue
        has, says = _text(cells, column), said[column].fillna("")
        take = (says.ne("") & (has.ne(says) if differing else has.eq(""))).to_numpy()
        if take.any():
            values = cells[column].astype(object).to_numpy().copy()
            values[take] = says.to_numpy()[take]
            cells[column] = values
            taken |= take
    return int(taken.sum())


def _flag_ended(path, layers, issued, report, ids, owners, geometries, layer):
    """Flag on ``report`` the ``ids`` (of ``geometries``) that ``layer`` keeps as
    ended, each offered the next ID free under its owner (its community's code for
    a grid, its grid's ID for a micro-grid)."""
    from .codes import highest_issued

    column = "grid_id" if layer == "ended_grids" else "micro_id"
    if layer not in layers or column not in pyogrio.read_info(path, layer=layer)["fields"]:
        return
    ended = read_layer(path, layer, columns=[column], geometry=False)[column].astype(str)
    reused = ids.isin(set(ended)).to_numpy()
    if not reused.any():
        return
    issued = highest_issued(ids, ended, before=issued)
    width = 3 if column == "grid_id" else 2
    for taken, prefix, geometry in zip(ids[reused], owners[reused], geometries[reused]):
        issued[prefix] = issued.get(prefix, 0) + 1  # each one flagged is offered its own
        report.flag(f"{column} {taken} is an ended one's ({layer} layer of {Path(path).name}): an ID is issued "
                    f"once; give this one a new ID, {prefix}{issued[prefix]:0{width}d} is the next free", geometry)


def issue_missing_ids(path) -> dict:
    """Give each cell (and micro-grid) of the grid package at ``path`` whose ID is
    blank or duplicated a new ID, in place: ``{layer: [(old, new), …]}`` (old ``None``
    when blank; empty lists when none needed one, and then nothing is written).

    A cell split in QGIS leaves both parts with its ID; a cell drawn anew has none.
    Of the cells sharing an ID the one whose ID starts with its own community's
    code keeps it (an ID typed over from another community's cell does not), else
    the largest (on a tie, the first); the others, and the cells without one, take
    the next IDs free in their community (micro-grids: in their grid), north to
    south, then west to east, after the highest ever issued there: those in use,
    those the package keeps as ended, and a household package's ``highest_issued``
    record, which is updated. A blank ``community_code`` is taken from the
    community holding the cell, a micro-grid's blank ``grid_id`` from the cell
    holding it. The micro-grids in a split cell's part that takes a new ID follow
    it: that ``grid_id``, and new micro IDs under it; the IDs they leave stay
    issued (``highest_issued`` records them). The package is copied, changed and
    renamed over itself, so a failure leaves it as it was. Components the new IDs
    take in are then elsewhere than the catalogue says (``gridkit components
    reassign``).
    """
    from .codes import highest_issued

    path = Path(path)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    frames = {"cells": read_layer(path, "cells")}
    _require_columns(path, "cells", frames["cells"], ("grid_id", "community_code"))
    if "micro_grids" in layers:
        frames["micro_grids"] = read_layer(path, "micro_grids")
        _require_columns(path, "micro_grids", frames["micro_grids"], ("micro_id", "grid_id"))

    def communities():
        units = read_layer(path, "units")
        return units[units["level"] == "community"]

    _owners_of_blank(frames["cells"], "community_code", communities, "code")
    ended = [read_layer(path, layer, columns=[column], geometry=False)[column].astype(str)
             for layer, column in (("ended_grids", "grid_id"), ("ended_micro_grids", "micro_id")) if layer in layers
             and column in pyogrio.read_info(path, layer=layer)["fields"]]
    metadata = read_metadata(path)
    issued = highest_issued(frames["cells"]["grid_id"].dropna().astype(str),
                            *(f["micro_id"].dropna().astype(str) for k, f in frames.items() if k == "micro_grids"),
                            *ended, before=_issued_record(metadata))
    changes, moved = {}, np.zeros(0, dtype=bool)
    frames["cells"], changes["cells"] = _new_ids(frames["cells"], "grid_id", "community_code", 3, issued)
    if "micro_grids" in frames:
        _owners_of_blank(frames["micro_grids"], "grid_id", frames["cells"], "grid_id")
        moved = _follow_renamed_grids(frames["micro_grids"], frames["cells"], changes["cells"])
        frames["micro_grids"], changes["micro_grids"] = _new_ids(frames["micro_grids"], "micro_id", "grid_id", 2,
                                                                 issued, renew=moved)
    if not any(changes.values()):
        return changes
    written = {layer: frames[layer] for layer, changed in changes.items() if changed}
    # a moved micro-grid's old ID is no longer in use
    record = {"highest_issued": json.dumps(issued)} if "highest_issued" in metadata or moved.any() else None
    _write_layers(path, written, metadata, record)
    return changes


def fill_unit_fields(path, *, differing=False) -> int:
    """Give each cell of the grid package at ``path`` the community name, street and
    county (:data:`UNIT_FIELDS`) that the units layer says of its community, where
    the cell's are blank (a cell drawn anew in QGIS has none; ``locate`` would answer
    without them), in place and atomically; how many cells took something (0: nothing
    written). A field that differs is left (``check`` names it), unless ``differing``:
    then the units layer's is taken (a community renamed, or moved to another
    street, in the units layer alone)."""
    cells = read_layer(path, "cells")
    units = read_layer(path, "units", geometry=False)
    filled = _fill_unit_fields(cells, units, differing=differing)
    if filled:
        _write_layers(path, {"cells": cells})
    return filled


def _write_layers(path, frames, metadata=None, values=None):
    """Replace ``frames`` (``{layer: frame}``) in the package at ``path``, and with
    ``values`` its metadata (``metadata`` updated by them): on a copy, renamed over
    the package once all is written, so a failure leaves it as it was."""
    with atomic_path(Path(path), overwrite=True) as tmp:
        shutil.copyfile(path, tmp)
        with gdal_options(**PRIVATE_SQLITE):
            for layer, frame in frames.items():
                pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG", use_arrow=True)
            if values:
                pyogrio.write_dataframe(metadata_frame({**metadata, **values}), tmp, layer="gridkit_metadata",
                                        driver="GPKG")


def _owners_of_blank(frame, owner, parents, code):
    """Fill, in place, the blank ``owner`` field of ``frame``'s features (a cell's
    ``community_code``, a micro-grid's ``grid_id``: drawn anew in QGIS) with the
    ``code`` of the feature of ``parents`` holding each one's inner point; left
    blank when none holds it. ``parents``: a frame, or a callable giving it (read
    only when a feature needs it)."""
    blank = frame[owner].isna().to_numpy() | (frame[owner].astype(str).str.strip() == "").to_numpy()
    drawn = blank & ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    if not drawn.any():
        return
    parents = parents() if callable(parents) else parents
    parents = parents[~(parents.geometry.isna() | parents.geometry.is_empty).to_numpy()].to_crs(frame.crs)
    points = shapely.point_on_surface(frame.geometry.values[drawn])
    inside, which = shapely.STRtree(parents.geometry.values).query(points, predicate="within")
    codes = np.full(int(drawn.sum()), None, dtype=object)
    codes[inside] = parents[code].astype(str).to_numpy()[which]
    column = frame[owner].astype(object).to_numpy().copy()
    column[np.flatnonzero(drawn)] = codes
    frame[owner] = column


def _follow_renamed_grids(micro, cells, renamed):
    """Set, in place, the ``grid_id`` of each micro-grid whose grid was split and
    lies mostly in a part given a new ID (``renamed``: ``[(old, new), …]`` of
    :func:`_new_ids`) to that part's ID; a boolean mask of the micro-grids so moved,
    which need a new ``micro_id`` under it. A micro-grid the split cut in two
    follows the part holding most of it; ``check`` names the rest of it."""
    moved = np.zeros(len(micro), dtype=bool)
    split = {old for old, _ in renamed if old is not None}
    if not split:
        return moved
    owners = micro["grid_id"].astype(object).where(micro["grid_id"].notna(), "").astype(str).str.strip()
    drawn = ~(micro.geometry.isna() | micro.geometry.is_empty).to_numpy()
    rows = np.flatnonzero(owners.isin(split).to_numpy() & drawn)
    parts = cells[cells["grid_id"].isin(split | {new for old, new in renamed if old in split})]
    geometries = micro.geometry.values[rows]
    at, which = shapely.STRtree(parts.geometry.values).query(geometries, predicate="intersects")
    shared = pd.DataFrame({"at": at, "which": which,
                           "area": shapely.area(shapely.intersection(geometries[at], parts.geometry.values[which]))})
    most = shared.sort_values(["at", "area"], ascending=[True, False], kind="stable").drop_duplicates("at")
    rows, now = rows[most["at"].to_numpy()], parts["grid_id"].astype(str).to_numpy()[most["which"].to_numpy()]
    follow = now != owners.to_numpy()[rows]
    moved[rows[follow]] = True
    column = micro["grid_id"].astype(object).to_numpy().copy()
    column[rows[follow]] = now[follow]
    micro["grid_id"] = column
    return moved


def _replaced_by(gone, now):
    """For each ended grid, the IDs of the grids now covering part of it."""
    old, new = gone.geometry.values, now.geometry.values
    at, near = shapely.STRtree(new).query(old, predicate="intersects")  # in one call: 4,278 ended cells in 0.1 s
    shared = shapely.area(shapely.intersection(new[near], old[at])) > 1e-6 * shapely.area(old[at])
    ids = now["grid_id"].astype(str).to_numpy()
    covering = [[] for _ in range(len(old))]
    for row, grid in zip(at[shared], ids[near[shared]]):
        covering[row].append(grid)
    return [", ".join(sorted(grids)) for grids in covering]


def _used_up(prefix, id_field, width, needed, highest):
    """The error for ``needed`` new IDs under ``prefix`` that its ``width``-digit
    sequence, issued up to ``highest``, cannot hold, with the fix."""
    left = 10 ** width - 1 - highest
    what, parent = ("cells or grids", "community") if id_field == "grid_id" else ("micro-grids", "grid")
    fix = ("split it in two in the units layer (two community codes), or grid it again with larger cells or grids"
           if id_field == "grid_id" else "merge micro-grids rather than add more: the sequence starts again only "
           "under a new grid ID")
    return (f"{parent} {prefix} needs {needed} new {id_field}s, but its {width}-digit sequence has {left} left "
            f"({highest} issued; no ID is given twice, ended ones included): a {parent} numbers at most "
            f"{10 ** width - 1} {what} in its life; {fix}")


def _new_ids(frame, id_field, owner, width, issued, *, renew=None):
    """``(frame, changes)``: ``frame`` with a new ``id_field`` for each row whose ID is
    blank or taken by a row under its own owner's code, else by a larger row (equal:
    an earlier one), or that ``renew`` (a boolean mask) marks, the next free under
    its ``owner`` (``width`` digits of sequence after
    :func:`gridkit.codes.highest_issued`'s ``issued``, which is updated), north to
    south, then west to east."""
    ids = frame[id_field].astype(object).where(frame[id_field].notna(), None).to_numpy()
    ids = np.array([None if i is None or not str(i).strip() else str(i).strip() for i in ids], dtype=object)
    owners = frame[owner].astype(object).where(frame[owner].notna(), "").astype(str).to_numpy()
    area = np.nan_to_num(shapely.area(frame.geometry.values))
    # A copy typed over from another community's cell does not start with its owner's code.
    foreign = [i is not None and not i.startswith(o) for i, o in zip(ids, owners)]
    order = pd.DataFrame({"id": ids, "foreign": foreign, "area": -area, "row": np.arange(len(frame))})
    keeps = order.dropna(subset=["id"]).sort_values(["id", "foreign", "area", "row"]).drop_duplicates("id")["row"]
    need = np.ones(len(frame), dtype=bool)
    need[keeps.to_numpy()] = False
    if renew is not None:
        need |= renew
    need &= np.char.str_len(owners.astype(str)) > 0  # no owner: no ID to give (check names it)
    if not need.any():
        return frame, []
    at = shapely.point_on_surface(frame.geometry.values[need])
    y, x = np.nan_to_num(shapely.get_y(at)), np.nan_to_num(shapely.get_x(at))
    rows = np.flatnonzero(need)[np.lexsort((x, -y, owners[need]))]
    for prefix, n in zip(*np.unique(owners[rows], return_counts=True)):
        if issued.get(prefix, 0) + n >= 10 ** width:
            raise InputError(_used_up(prefix, id_field, width, n, issued.get(prefix, 0)))
    out = ids.copy()
    changes = []
    for row in rows:
        prefix = owners[row]
        issued[prefix] = issued.get(prefix, 0) + 1
        out[row] = f"{prefix}{issued[prefix]:0{width}d}"
        changes.append((ids[row], out[row]))
    frame = frame.copy()
    frame[id_field] = out
    return frame, changes
