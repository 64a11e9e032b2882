"""The component catalogue: import inventories, validate codes, assign cells.

An inventory (CSV, Excel .xlsx, Shapefile, GeoPackage, GeoJSON, GeoParquet)
becomes rows of the catalogue, a ``components`` layer inside the grid package
with the fields of GB/T 47678.5-2026 (``tables/gbt47678.5-2026_fields.csv``)
under their pinyin abbreviations, plus gridkit's own columns. Every input row
is either imported or rejected with a reason; the summary adds up to the input
row count.

Fields
------
Input columns are matched, case-insensitively, by the standard's abbreviation
(``GLBJBSM``), its Chinese name (``管理部件标识码``), the legacy name (``ObjID``)
or a mapping file (TOML)::

    class = "01013"               # every row is this class (or class_field + [classes])
    source_key = "GlobalID"       # the inventory's own stable key, if it has one
    [fields]                      # standard field = inventory column
    QSDWMC = "ContractAuthority"
    [values]                      # standard field = constant
    ZGBMMC = "Cambridge Water Department"
    [files.INFRA_StreetLights]    # overrides for one inventory (by file stem)
    class = "01037"
    source_key = "PoleID"

Points are used as they are; a line is represented by its midpoint along its
length (``line_interpolate_point(0.5, normalized=True)``) and a polygon by
``point_on_surface`` — both always lie on the feature, unlike a centroid.

Identity and IDs
----------------
A row with a component ID is that component. A row without one is matched to the
catalogue by its source (file stem) and ``source_key``; without a source key, by
class and position (1 cm) within its source. A row without an ID where another
source already has a component of its class (1 cm) is rejected as
``already_catalogued``: most likely the same inventory under a new file name, whose
rows would otherwise all be added again. Unmatched rows get new IDs: county
(from their cell) + class + the next sequence number of that county and class
after every ID the catalogue has ever held, in input order. So re-importing the
same inventory changes nothing and an ID is never reused.

Updates
-------
Importing an inventory again syncs its source: changed rows are updated and get
the change date ``BGRQ`` (a component moved less than :data:`MOVED_M`, 1 cm, has
not moved: the same inventory read from another CRS comes back nanometres off, a
GeoJSON copy with 7 decimals of a degree millimetres off);
components of that source missing from the new inventory are kept with status
``移除`` (removed) and an ``end_date``. A component
whose row is there but rejected (by its ID or source key) is kept as it was, and when
every row is rejected (a wrong CRS or layout, most likely) nothing is removed. A copy
of the catalogue (:data:`COPY_COLUMNS`: the components layer exported, edited) is no
inventory: each component it holds keeps its own source, it removes nothing, and the
dates typed in it are taken (a survey date put right; a change date later than the
one held, as the day of the change).

Reject reasons
--------------
``missing_coordinates``, ``not_a_row`` (a ledger's blank row, its 合计 or 制表人
line), ``impossible_coordinates``, ``latlon_swapped``,
``xy_swapped`` (a projected CRS's x and y swapped: a survey table's northing X),
``zone_prefix`` (Gauss–Krüger x with the zone number in front, read in a CRS
without it, or the other way round), ``baidu_mercator`` (Baidu's metres, read in
another CRS), ``zero_coordinates`` (outside, with an x or y of exactly 0: a blank
position written as zeros),
``degrees_in_projected_crs``,
``bad_id``, ``unknown_class``, ``class_mismatch`` (a class column naming another
class than the row's ID), ``duplicate_id`` (the same ID on rows that differ: each
rejected),
``duplicate_row`` (an exact duplicate of an earlier row), ``outside`` (farther
than the tolerance from every cell).
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import difflib
import functools
import itertools
import json
import logging
import math
import re
import shutil
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import pyproj
import shapely

from . import coords
from .batch import rejects_table
from .classes import SCHEMES, SEQUENCE_DIGITS, ClassTable, _load_toml
from .codes import codes_as_text, day_text, half_width, half_width_column, rounded_ids
from .errors import CRSError, InputError, near_column
from .io import (INPUT_SUFFIXES, NO_TABLE_LABEL, NOT_A_ROW, ONE_LAYER_SUFFIXES, POINT_WKB, PRIVATE_SQLITE,
                 TABLE_SUFFIXES, WORKBOOK_SUFFIXES, _apply_crs, atomic_path, crs_hint, file_layers, gdal_options,
                 gdal_path, geoparquet_crs, input_suffix, marked_crs, number_rows, point_wkb, read_vector, refuse_layer,
                 require_frame, rows_where, say_blank_rows, source_rows, table_crs, text_encoding, warn_if_gcj02,
                 warn_if_private_use, wkt_table_in_crs)
from .locator import (BAIDU_MERCATOR_REASON, DECIMAL_DEGREES_REASON, DEGREES_MINUTES_REASON, DEGREES_REASON, NEAREST,
                      OUTSIDE, SCALED_DEGREES_REASON, STATUS_NAMES, SWAPPED_REASON, XY_SWAPPED_REASON, ZERO_REASON,
                      ZONE_REASON, Locator, require_locator)
from .nmea import REASONS as NMEA_REASONS
from .nmea import is_nmea, read_nmea
from .package import _package_layers, _text, metadata_frame, read_layer, read_metadata
from .routing import _blank
from .styles import write_styles
from .workbook import file_version, read_sheet, sheet_names

__all__ = [
    "STANDARD_FIELDS", "LEGACY_NAMES", "LEGACY_FIELDS", "STATUS_VALUES", "REJECT_REASONS",
    "Mapping", "ImportResult", "read_inventory", "read_table", "import_components", "read_catalogue",
    "write_catalogue", "reassign_catalogue", "misplaced_components", "route_departments", "catalogue_stats",
    "issue_component_ids", "highest_component_ids", "in_use", "without_position", "COMPONENT_RECORD",
    "COMPONENT_CLASSES", "package_classes", "MOVED_OUT", "of_class", "layout_areas", "components_near_edge",
]

log = logging.getLogger(__name__)

#: the 2026 component fields, abbreviation → Chinese name (table order)
STANDARD_FIELDS = {
    "GLBJBSM": "管理部件标识码", "GLBJMC": "管理部件名称", "ZGBMDM": "主管部门代码",
    "ZGBMMC": "主管部门名称", "QSDWDM": "权属单位代码", "QSDWMC": "权属单位名称",
    "YHDWDM": "养护单位代码", "YHDWMC": "养护单位名称", "SZDYWGBSM": "所在单元网格标识码",
    "GLBJZT": "管理部件状态", "CSRQ": "初始日期", "BGRQ": "变更日期", "SJLY": "数据来源",
    "BZ": "备注", "SZJDDM": "所在街道（镇、乡）代码", "SZJDMC": "所在街道（镇、乡）名称",
    "SZSQDM": "所在社区（村）代码", "SZSQMC": "所在社区（村）名称",
}
#: 2026 abbreviation → the column legacy (CJ/T 214) systems name it
LEGACY_NAMES = {
    "GLBJBSM": "ObjID", "GLBJMC": "ObjName", "ZGBMDM": "DeptCode1", "ZGBMMC": "DeptName1",
    "QSDWDM": "DeptCode2", "QSDWMC": "DeptName2", "YHDWDM": "DeptCode3", "YHDWMC": "DeptName3",
    "SZDYWGBSM": "BGID", "GLBJZT": "ObjState", "CSRQ": "ORDate", "BGRQ": "CHDate",
    "SJLY": "DataSource", "BZ": "Note",
}
#: legacy column, lower case → 2026 abbreviation
LEGACY_FIELDS = {name.lower(): abbr for abbr, name in LEGACY_NAMES.items()}
#: status words accepted on input → the standard's word
STATUS_VALUES = {
    "完好": "完好", "intact": "完好", "good": "完好", "active": "完好", "act": "完好",
    "破损": "破损", "damaged": "破损", "丢失": "丢失", "lost": "丢失", "missing": "丢失",
    "废弃": "废弃", "scrapped": "废弃", "abandoned": "废弃", "移除": "移除", "removed": "移除",
}
REJECT_REASONS = {
    "missing_coordinates": "no coordinates (empty geometry or blank x/y)",
    NOT_A_ROW: "a ledger's blank row, or a line below its table (合计, 制表人): no component",
    "impossible_coordinates": "coordinates that cannot be a position in the input CRS",
    "latlon_swapped": SWAPPED_REASON,
    "xy_swapped": XY_SWAPPED_REASON,
    "zone_prefix": ZONE_REASON,
    "baidu_mercator": BAIDU_MERCATOR_REASON,
    "scaled_degrees": SCALED_DEGREES_REASON,
    "degrees_minutes": DEGREES_MINUTES_REASON,
    "decimal_degrees": DECIMAL_DEGREES_REASON,
    "zero_coordinates": ZERO_REASON,
    "degrees_in_projected_crs": DEGREES_REASON,
    **NMEA_REASONS,  # an NMEA log's epoch with no fix, a damaged sentence
    "bad_id": "a component ID of the wrong form, a retired class or another county",
    "unknown_class": "no class, or a class the scheme's table (and the local extensions) lack",
    "class_mismatch": "a class column that names another class than the row's ID (its class is part of it)",
    "duplicate_id": "the same component ID on rows that differ (none of them taken: which is the component?)",
    "duplicate_row": "an exact duplicate of an earlier row",
    "outside": "farther than the tolerance from every cell of the layout",
    "already_catalogued": "a component of the same class at the same place (1 cm) is in the catalogue from "
                          "another source (the same inventory under another name?)",
}
_COORD_PAIRS = [("lon", "lat", True), ("longitude", "latitude", True), ("lng", "lat", True),
                ("经度", "纬度", True), ("經度", "緯度", True), ("pointx", "pointy", False), ("point_x", "point_y", False),
                ("easting", "northing", False), ("东坐标", "北坐标", False), ("x", "y", False)]
#: Single columns that hold both coordinates (:func:`_pairs`), each with whether its name
#: says lon/lat: "116.48,39.99" as Amap's and Baidu's place APIs give a ``location``, or
#: WKT as QGIS and databases export it.
_COORD_COLUMNS = [("location", True), ("lnglat", True), ("lonlat", True), ("经纬度", True), ("經緯度", True),
                  ("坐标", False), ("座標", False), ("coordinates", False), ("position", False), ("wkt", False),
                  ("geometry", False), ("geom", False), ("the_geom", False)]
#: The responsible department: its unified social credit code, its name.
DEPARTMENT_FIELDS = ("ZGBMDM", "ZGBMMC")
#: The standard's fields that say where a component is → the layout's column each comes from.
PLACE_FIELDS = {"SZDYWGBSM": "grid_id", "SZJDDM": "street_code", "SZSQDM": "community_code",
                "SZJDMC": "street_name", "SZSQMC": "community_name"}
_GRIDKIT_COLUMNS = ["class_code", "class_name", "end_date", "county_code", "micro_id", "source", "source_key",
                    "source_row", "assign_status", "assign_distance_m"]
CATALOGUE_COLUMNS = list(STANDARD_FIELDS) + _GRIDKIT_COLUMNS
# The micro-grid follows from the position and the layout, both compared already: it
# is not compared itself, so a catalogue from before it was kept gains it on a
# re-import without every component counting as updated. The distance from the layout
# (and so the status) is compared by :func:`_differs`, to a tolerance, not as text.
_COMPARED = [c for c in CATALOGUE_COLUMNS if c not in ("BGRQ", "CSRQ", "source_row", "micro_id", "assign_status",
                                                        "assign_distance_m")]
#: The columns that make an inventory a copy of a catalogue (``gridkit export --layer
#: components``, edited in Excel and imported back): its rows carry the components'
#: own sources, so each keeps its own, and none is removed for a row left out.
COPY_COLUMNS = ("GLBJBSM", "source", "source_key")
#: A component moved less than this (metres, in the layout's CRS) has not moved: the
#: same inventory read from another CRS (a Shapefile in feet, a GeoParquet in a local
#: grid) comes back nanometres off, and a copy written in degrees to 7 decimals (GeoJSON,
#: as RFC 7946 suggests; gridkit's export too) up to 7 mm off; neither is an update.
#: No survey places a manhole cover to the centimetre.
MOVED_M = 0.01


@dataclass
class Mapping:
    """How an inventory's columns and classes map onto the standard (see module doc)."""

    class_code: str | None = None
    class_field: str | None = None
    classes: dict = field(default_factory=dict)
    source_key: str | None = None
    fields: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    origin: str = ""  # where it was read (a file, and its [files.STEM] section), for messages
    section: str | None = None  # the [files.STEM] section read, if any
    near_section: str | None = None  # a section giving a class, named close to the inventory (a typo?)

    @classmethod
    def load(cls, path, *, inventory=None, layer=None):
        """Read a mapping file; ``inventory`` picks its ``[files.STEM]`` section, or
        ``[files.LAYER]`` for its layer ``layer`` (a sheet, a GeoPackage's layer) when
        the file has such a section.

        A section's ``class`` or ``class_field`` replaces the top level's (a file of one
        class among files of mixed ones); both at once is an error. Fields are named as
        an inventory's columns may be (the abbreviation in any case, the Chinese name,
        the legacy name).
        """
        raw = _load_toml(path)
        if not raw:  # read as no mapping: every row then rejected for want of a class, the file unnamed
            raise InputError(f"{path}: the mapping file says nothing (it is empty, or comments alone); give its "
                             "class or class_field and [fields] (as data/samples/cambridge_mapping.toml does), or "
                             "leave --mapping out")
        spec = {k: v for k, v in raw.items() if k != "files"}
        origin = str(path)
        if inventory is not None:
            files, stem, of = _file_sections(path, raw), Path(inventory).stem, rejects_of(inventory)
            if of and not any(_names_file(name, stem) for name in files):
                stem = of  # a rejects file, fixed: its inventory's section
            if layer is not None and any(_names_file(name, str(layer)) for name in files):
                stem = str(layer)  # [files.hydrants] for a GeoPackage's layer hydrants
            name, section, near = _file_section(path, files, stem)
            if name is not None:
                origin = f"{path} [files.{_toml_key(name)}]"
            if {"class", "class_field"} & set(section):
                spec.pop("class", None)
                spec.pop("class_field", None)
            for key, value in section.items():
                spec[key] = {**spec.get(key, {}), **value} if isinstance(value, dict) else value
        unknown = set(spec) - {"class", "class_field", "classes", "source_key", "fields", "values"}
        if unknown:
            raise InputError(f"{origin}: unknown key(s) {sorted(unknown)}; use class, class_field, classes, "
                             "source_key, fields, values and [files.STEM] sections")
        if "class" in spec and "class_field" in spec:
            raise InputError(f"{origin}: both class (one class for every row) and class_field (the column that "
                             "gives each row's class): keep one")
        return cls(class_code=_mapping_code(origin, "class", spec.get("class")),
                   class_field=_mapping_name(origin, "class_field", spec.get("class_field")),
                   classes={str(k).strip(): _mapping_code(origin, f"classes.{k}", v)
                            for k, v in _mapping_table(origin, "classes", spec).items()},
                   source_key=_mapping_name(origin, "source_key", spec.get("source_key")),
                   fields={abbr: _mapping_name(origin, f"fields.{key}", column)
                           for abbr, key, column in _mapping_fields(origin, "fields", spec)},
                   values={abbr: _mapping_value(origin, f"values.{key}", value)
                           for abbr, key, value in _mapping_fields(origin, "values", spec)},
                   origin=origin, section=name if inventory is not None else None,
                   near_section=near if inventory is not None else None)

    def with_codes(self, table):
        """This mapping with each class it gives by name (``class = "消防设施"``, a
        ``[classes]`` value ``"路灯"``) given by its code (:meth:`ClassTable.by_name`)."""
        return replace(self, class_code=table.code_of(self.class_code),
                       classes={k: table.code_of(v) for k, v in self.classes.items()})

    def class_problem(self, table):
        """What is wrong with the classes this mapping gives (its ``class``, its
        ``[classes]``) in ``table``, naming where it was read; None when nothing is."""
        given = ([("class", self.class_code)] if self.class_code is not None else []) + [
            (f"classes.{k}", v) for k, v in self.classes.items()]
        for key, code in given:
            problem = table.class_problem(code, typed=True)
            if not problem:
                continue
            near = table.near_names(code)
            if near:  # 消防栓, the everyday word, for 消防设施
                return (f"{self.origin or 'mapping'}: {key} = {code!r} is no class's code or name; classes near it "
                        f"by name: {table.listed(near)}: give the "
                        f"code, {key} = \"{near[0].code if len(near) == 1 else 'CODE'}\"")
            if "zeros" in problem:
                problem += " (a code goes in quotes in TOML, zeros and all: \"01013\")"
            return (f"{self.origin or 'mapping'}: {key} = {code!r}: {problem}; `gridkit components classes WORD` "
                    "finds a code")
        return None

    def value_problems(self, scheme="2026"):
        """Where the constants this mapping's ``[values]`` gives every row break the
        standard's field table (a credit code of 5 characters, an SJLY of 61, a
        status not among its words), each a line naming where it was read and the
        fix; [] when none does. ``gridkit components check`` would flag every row."""
        from .conformance import PROBLEMS, field_problems

        given = {k: v for k, v in self.values.items() if k in STANDARD_FIELDS and k not in _PLACED}
        if not given:
            return []
        row = pd.DataFrame({k: [str(v)] for k, v in given.items()})
        for k in set(DATE_FIELDS) & set(given):  # 2026-07-01 (a TOML date, too) as import writes it
            row[k] = yyyymmdd(pd.Series([given[k]], dtype=object))
        found = field_problems(row, scheme=scheme)
        found = found[found["field"].isin(list(given)) & (found["problem"] != "empty")]
        return [f"{self.origin or 'mapping'}: [values] {f} = {given[f]!r} is {PROBLEMS[problem]}"
                + (f" ({detail})" if problem != "bad_status" else "") + f". Every row takes it, and `gridkit "
                f"components check` flags each: put it right in the mapping file, or leave {f} out"
                for f, problem, detail in found[["field", "problem", "detail"]].itertuples(index=False)]

    @staticmethod
    def sections(path):
        """The inventories (file stems) a mapping file has a ``[files.STEM]`` section for."""
        return sorted(_file_sections(path, _load_toml(path)))


#: The fields a component's ID and place give it, not a mapping's [values]: not checked there.
_PLACED = ("GLBJBSM", "SZDYWGBSM", "SZJDDM", "SZJDMC", "SZSQDM", "SZSQMC")

#: How the rejects files of ``gridkit components import`` and ``gridkit locate`` end
#: their inventory's name (lamps.rejects.csv, located.import-rejects.csv).
REJECTS_ENDINGS = (".rejects", ".import-rejects")


def rejects_of(path):
    """The inventory a rejects file is named after (``lamps`` for lamps.rejects.csv,
    or .xlsx once edited in Excel), or None for a file not so named."""
    stem = Path(path).stem
    for ending in REJECTS_ENDINGS:
        if stem.lower().endswith(ending) and len(stem) > len(ending):
            return stem[:-len(ending)]
    return None


def _names_file(name, stem):
    """Whether a ``[files.NAME]`` section is for the inventory named ``stem``: NAME is
    the stem in any case (``traffic_signals.csv`` for ``TRAFFIC_Signals``, as Windows
    does not tell them apart), or its name with a suffix (``[files."lamps.csv"]``, for
    lamps.csv and for lamps.xlsx, the same inventory saved from Excel, alike)."""
    name, stem = name.casefold(), stem.casefold()
    return name == stem or (name.startswith(stem + ".") and name[len(stem) + 1:].isalnum())


def _toml_key(name):
    """A section name as TOML writes it: bare, or quoted when it holds a dot or more."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


def _file_section(path, files, stem):
    """``(name, section, near)``: the ``[files.STEM]`` section for an inventory named
    ``stem`` (:func:`_names_file`). Two such are read as one, the one named exactly as
    the stem first (a class under ``[files."lamps.csv"]``, the fields under
    ``[files.lamps.fields]``, which makes a section ``lamps`` of its own); a key that
    both give, differently, is an error. ``near``: a section whose name is close (a
    typo) when the file has none, or one giving a class when the file's gives none; it
    is not used, but is logged.
    ``(None, {}, near)`` when no section is the file's: the top-level keys map it."""
    names = sorted((name for name in files if _names_file(name, stem)), key=lambda name: name != stem)
    section = {}
    for name in names:
        for key, value in files[name].items():
            if isinstance(value, dict) and isinstance(section.get(key, {}), dict):
                given = section.get(key, {})
                clash = next((k for k in value if k in given and given[k] != value[k]), None)
                if clash is not None:
                    raise InputError(f"{path}: [files.{_toml_key(names[0])}] and [files.{_toml_key(name)}] both "
                                     f"map {stem}, with {key}.{clash} = {given[clash]!r} and {value[clash]!r}: "
                                     "keep one")
                section[key] = {**given, **value}
            elif key in section and section[key] != value:
                raise InputError(f"{path}: [files.{_toml_key(names[0])}] and [files.{_toml_key(name)}] both map "
                                 f"{stem}, with {key} = {section[key]!r} and {value!r}: keep one")
            else:
                section[key] = value
    near = None
    if not {"class", "class_field"} & set(section):  # none, or one made by [files.STEM.fields] alone
        others = [name for name in files if name not in names and (not names or {"class", "class_field"} & set(
            files[name]))]
        near = next(iter(difflib.get_close_matches(stem, others, n=1, cutoff=0.8)), None)
    if near:
        log.warning("%s has no [files.%s] section%s, only [files.%s], which is not used for %s: if it is meant "
                    "for this file, name it as the file is", path, stem, " giving a class" if names else "",
                    _toml_key(near), stem)
    return (names[0] if names else None), section, near


def _mapping_name(origin, key, value):
    """A column name a mapping file gives (None when it gives none)."""
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"{origin}: {key} = {value!r}: name one column, in quotes ({key} = \"TYPE\")")


def _mapping_code(origin, key, value):
    """A class code a mapping file gives, as text: spaces and full-width digits as
    a code column's are read. A number (class = 1013) is kept as its text, which
    :meth:`Mapping.class_problem` names when its leading zero is gone."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"{origin}: {key} = {value!r}: give one class code, in quotes (\"01013\")")
    return half_width(str(value).strip())


def _file_sections(path, raw):
    """The ``[files.STEM]`` sections of a mapping file read as ``raw``, each checked to
    be a table: ``files = "x"`` was ignored, and ``[files] signals = 5`` an
    AttributeError traceback."""
    files = _mapping_table(str(path), "files", raw)
    for name, section in files.items():
        if not isinstance(section, dict):
            raise InputError(f"{path}: files.{_toml_key(name)} = {section!r} is not a table: write it as a "
                             f"[files.{_toml_key(name)}] section")
    return files


def _mapping_table(origin, key, spec):
    table = spec.get(key, {})
    if not isinstance(table, dict):
        raise InputError(f"{origin}: {key} = {table!r} is not a table: write it as a [{key}] section")
    return table


def _mapping_fields(origin, key, spec):
    """``(abbreviation, key as written, value)`` of a mapping's ``[fields]`` or
    ``[values]``, each key named as a column may name a field (:func:`standard_field`)."""
    out = []
    for name, value in _mapping_table(origin, key, spec).items():
        abbr = standard_field(name)
        if abbr is None:
            raise InputError(f"{origin}: {key}.{name} is not a field of the standard; use one of the abbreviations "
                             f"{', '.join(STANDARD_FIELDS)}, or a field's Chinese name")
        out.append((abbr, name, value))
    return out


def _mapping_value(origin, key, value):
    """A constant a mapping's ``[values]`` gives a field, as text."""
    if isinstance(value, (dict, list)):
        raise InputError(f"{origin}: {key} = {value!r}: give one value, as text in quotes")
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class ImportResult:
    """What :func:`import_components` did."""

    catalogue: gpd.GeoDataFrame
    rejects: pd.DataFrame
    summary: dict


# -- reading --------------------------------------------------------------------------
def _find_coordinate_columns(path, columns, x_field, y_field):
    """``(x column, y column, whether the names say lon/lat)``: the two the user
    named, else the first known pair, else the first known column of both (given
    as x and y alike: :func:`coordinate_values` reads it as pairs)."""
    if x_field or y_field:
        missing = [f for f in (x_field, y_field) if f not in columns]
        if missing or not (x_field and y_field):
            raise InputError(f"{path}: coordinate column(s) {missing or [x_field, y_field]} not found"
                             + "".join(near_column(f, columns) for f in missing) + "; the "
                             f"columns are {list(columns)}")
        return x_field, y_field, False
    found = _known_coordinates(columns)
    if found:
        for column in dict.fromkeys(found[:2]):
            alike = [c for c in columns if _bare(c) == _bare(column)]
            if len(alike) > 1:
                raise InputError(f"{path}: {len(alike)} columns could be the coordinate {_bare(column)}: "
                                 f"{', '.join(map(repr, alike))}; name the ones to use with --x-field and --y-field")
        return found
    survey = {_bare(c).upper(): c for c in columns if _bare(c).upper() in ("X坐标", "Y坐标")}
    hint = (f"; a survey table's {survey['X坐标']} is the northing: --x-field {survey['Y坐标']} --y-field "
            f"{survey['X坐标']}" if len(survey) == 2 else "")
    raise InputError(f"{path}: no coordinate columns found (looked for lon/lat, longitude/latitude, lng/lat, "
                     "经度/纬度 (經度/緯度), PointX/PointY, POINT_X/POINT_Y, easting/northing, 东坐标/北坐标, x/y, "
                     f"or one column of both: location, 经纬度, 坐标, position, WKT, geometry) among {list(columns)}; name "
                     f"them with --x-field and --y-field (one column of both as each){hint}")


def _xy_bounds(x, y):
    """The box of the finite points as one row of minx, miny, maxx, maxy (none without any)."""
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return np.empty((0, 4))
    return np.array([[x[finite].min(), y[finite].min(), x[finite].max(), y[finite].max()]])


_UNIT = re.compile(r"\s*[(\[（【][^()\[\]（）【】]*[)\]）】]\s*$")


def _bare(name) -> str:
    """A column's name as :func:`_known_coordinates` matches it: in lower case, without
    the unit a ledger writes after it (经度(°), 纬度（N）, Easting [m], Longitude (deg)).

    >>> [_bare(n) for n in ["经度(°)", "纬度（N）", " Easting [m] ", "Longitude (deg)", "X坐标【米】", "lon"]]
    ['经度', '纬度', 'easting', 'longitude', 'x坐标', 'lon']
    """
    return _UNIT.sub("", str(name)).strip().lower()


def _known_coordinates(names):
    """``(x column, y column, whether the names say lon/lat)`` of the first pair of
    ``names`` that gridkit knows (:data:`_COORD_PAIRS`), else of the first column of
    both (:data:`_COORD_COLUMNS`, as x and y alike); None when there is none. A name
    is matched without case or a unit after it (:func:`_bare`)."""
    lower = {}
    for name in names:
        lower.setdefault(_bare(name), name)
    for xs, ys, geographic in _COORD_PAIRS:
        if xs in lower and ys in lower:
            return lower[xs], lower[ys], geographic
    for name, geographic in _COORD_COLUMNS:
        if name in lower:
            return lower[name], lower[name], geographic
    return None


def coordinate_values(frame, x_field, y_field):
    """The coordinates in ``frame``'s columns ``x_field`` and ``y_field`` as two
    float arrays (NaN where a row has none); the same column given as both holds
    both (:func:`_pairs`)."""
    if x_field == y_field:
        return _pairs(frame[x_field])
    return _coordinates(frame[x_field]), _coordinates(frame[y_field])


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _pairs(column):
    """x and y of a column that holds both: "116.48,39.99" (as Amap's and Baidu's
    place APIs give a location; a semicolon, spaces or a full-width comma or
    semicolon, as typed in Chinese, may separate them, brackets enclose them,
    and the digits may be full-width; degrees, minutes and seconds), or WKT
    ("POINT (116.48 39.99)", "SRID=4326;POINT(…)";
    other geometries stand for a point on them, as in a vector file). NaN where
    a row has neither.

    >>> import pandas as pd
    >>> x, y = _pairs(pd.Series(["116.48,39.99", "POINT (1 2)", " (3; 4) ", "SRID=4326;POINT Z(5 6 7)", "8，9", "x",
    ...                          None, "（１１６．４８，３９．９９）"]))
    >>> x.tolist(), y.tolist()
    ([116.48, 1.0, 3.0, 5.0, 8.0, nan, nan, 116.48], [39.99, 2.0, 4.0, 6.0, 9.0, nan, nan, 39.99])

    Degrees, minutes and seconds too (or decimal degrees with hemispheres), the two
    separated by a comma, a semicolon or spaces. A pair whose first is marked a
    latitude (N, S, 北纬, 南纬), as Google Maps copies a place, is read the other way
    round:

    >>> x, y = _pairs(pd.Series(["116°24′36″E, 39°54′N", "东经116度24分36秒，北纬39度54分", "71°6′20″W,x",
    ...                          "39°54'00.0\\"N 116°24'36.0\\"E", "N39.9, E116.41", "S33°52.5' E151°12'"]))
    >>> x.round(4).tolist(), y.round(4).tolist()
    ([116.41, 116.41, nan, 116.41, 116.41, 151.2], [39.9, 39.9, nan, 39.9, 39.9, -33.875])

    Spaced (Garmin's N39 54.600 E116 24.600) or by colons. Without hemispheres, both
    must have seconds or neither: 116 24 36 39 54 splits two ways, so it is none:

    >>> x, y = _pairs(pd.Series(["N39 54.600 E116 24.600", "116:24:36, 39:54:00", "116 24 39 54", "116 24 36 39 54"]))
    >>> x.round(4).tolist(), y.round(4).tolist()
    ([116.41, 116.41, 116.4, nan], [39.91, 39.9, 39.9, nan])
    """
    text = _full_width(column.astype("string").str.strip())
    pair = text.str.extract(rf"^[(\[（]?\s*({_NUMBER})\s*(?:[,;，；]|\s)\s*({_NUMBER})\s*[)\]）]?$")
    x = pd.to_numeric(pair[0], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    y = pd.to_numeric(pair[1], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rest = np.flatnonzero(np.isnan(x) & text.notna().to_numpy())
    if len(rest):  # WKT, or nothing: only the rows that are no pair are parsed as it
        wkt = text.iloc[rest].str.replace(r"^SRID=\d+;", "", regex=True).to_numpy(dtype=object)
        x[rest], y[rest] = representative_xy(shapely.from_wkt(wkt, on_invalid="ignore"))
    for pattern in (_DMS_PAIR, _SPACED_PAIR):  # marked degrees (or with hemispheres), then spaced ones
        rest = np.flatnonzero(np.isnan(x) & text.notna().to_numpy())
        if not len(rest):
            break
        found = text.iloc[rest].str.extract(pattern)
        (a, a_lat), (b, b_lat) = _degrees(found, "_1"), _degrees(found, "_2")
        both = ~np.isnan(a) & ~np.isnan(b)
        if pattern is _SPACED_PAIR:  # 116 24 44 39 54: 116°24′44″ and 39°54′, or 116°24′ and 44°39′54″?
            marked = found[["before_1", "after_1", "before_2", "after_2"]].notna().any(axis=1).to_numpy()
            both &= marked | (found["s_1"].isna() == found["s_2"].isna()).to_numpy()
        swap = a_lat & ~b_lat & found["d_2"].notna().to_numpy()  # 39°54′N 116°24′E: the latitude first
        x[rest[both]] = np.where(swap, b, a)[both]
        y[rest[both]] = np.where(swap, a, b)[both]
    return x, y


def read_inventory(path, *, layer=None, crs=None, x_field=None, y_field=None, encoding=None, keep_xy=False,
                   where=None, where_option="--where", crs_option="--crs"):
    """Read an inventory into ``(frame, x, y, crs)`` with one row per input row.

    ``x``/``y`` are float arrays in ``crs`` (NaN where a row has no usable
    position); ``crs`` is a :class:`pyproj.CRS` or ``"gcj02"``/``"bd09"``.
    Lines and polygons are represented by a point on them (module doc). A table's
    coordinates are in ``crs``, else in its label (:func:`gridkit.io.table_crs`, a
    CSV's ``.prj``; kept as ``frame.attrs["crs_label"]``), else lon/lat columns in
    EPSG:4326. A CSV's
    coordinate columns are dropped from ``frame`` unless ``keep_xy``. ``where``
    (an OGR SQL ``WHERE``, over a table's columns too: :func:`gridkit.io.rows_where`)
    keeps the features it selects; ``frame.attrs["source_rows"]`` then numbers
    them as in the file. Its messages call it ``where_option``, and ``crs`` ``crs_option``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    refuse_layer(path, layer, where_option.replace("where", "layer"))
    # A workbook's first sheet of several is read (else the sheet is asked for); a vector
    # file's first layer of several, read_vector warns.
    layers = inventory_layers(path, (x_field, y_field)) if layer is None and _is_workbook(path) else []
    if layers and layers[0] == _layer_names(path)[0]:
        log.warning("%s holds %d sheets of points (%s): reading %s alone; choose another with %s (`gridkit "
                    "components import` without it imports each)", path, len(layers), ", ".join(layers), layers[0],
                    where_option.replace("where", "layer"))
    if is_nmea(path):  # a GPS receiver's log: one row per fix, WGS84 lon/lat
        frame = read_nmea(path)
        other = frame.attrs["nmea_skipped"].get("lines that are no NMEA sentence")
        if other:
            log.warning("%s: %s no NMEA sentence; read the sentences around %s", path,
                        f"{other:,} lines are" if other > 1 else "1 line is", "them" if other > 1 else "it")
        if where is not None:
            frame = _rows_where(frame, where, path, where_option)
        frame.attrs["xy_fields"] = ("lon", "lat")
        x, y = frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)
        return (frame if keep_xy else frame.drop(columns=["lon", "lat"])), x, y, coords.parse_crs(crs or "EPSG:4326")
    plain = _plain_parquet(path)
    if path.suffix.lower() in TABLE_SUFFIXES or plain is not None:
        frame = plain if plain is not None else read_table(path, layer=layer, encoding=encoding,
                                                           fields=(x_field, y_field), find_sheet=True)
        if not len(frame):  # said, not refused: a rejects file of no rejects is imported again so
            log.warning("%s: a header line and no rows: nothing to read", path)
        if where is not None:
            frame = _rows_where(frame, where, path, where_option)
        xf, yf, geographic = _find_coordinate_columns(path, frame.columns, x_field, y_field)
        label = table_crs(path) if crs is None else None
        x, y = coordinate_values(frame, xf, yf)
        if crs is None and label is None and not geographic:
            named = f"column {xf} does not say its" if xf == yf else f"columns {xf}/{yf} do not say their"
            raise InputError(f"{path}: {named} CRS; pass {crs_option} (EPSG:4326 for GPS lon/lat, gcj02, bd09, "
                             f"EPSG:4490, or the projected CRS's EPSG code). It has no CRS label: {NO_TABLE_LABEL}"
                             f"{crs_hint(_xy_bounds(x, y))}")
        if xf == yf and not x_field and len(frame) and np.isnan(x).all():  # a "location" of addresses, say
            raise InputError(f"{path}: column {xf} holds no coordinates (\"lon,lat\" or WKT) in any row; name "
                             "the coordinate columns with --x-field and --y-field")
        parsed = label if label is not None else coords.parse_crs(crs if crs is not None else "EPSG:4326")
        frame.attrs["crs_label"] = label  # for an output that keeps the columns (locate -o .csv)
        frame.attrs["crs_stated"] = crs is not None or label is not None  # else GPS by default (offset_hint)
        frame.attrs["xy_fields"] = (xf, yf)
        return (frame if keep_xy else frame.drop(columns=list({xf, yf}))), x, y, parsed
    if input_suffix(path) not in INPUT_SUFFIXES:
        raise InputError(f"{path}: unknown inventory format; use .csv, .xlsx (.xls, .ods), .gpkg, .shp (or its "
                         ".zip), .geojson, .kml, .gpx, .parquet or .nmea")
    if x_field is not None or y_field is not None:  # named for a batch of files, a table among them
        log.warning("%s: its features have geometry, which is read; --x-field and --y-field name a table's "
                    "coordinate columns (CSV, Excel, Parquet without geometry; `locate --dask` reads a GeoParquet by "
                    "them) and are not used for it", path)
    fast = _read_points_arrow(path, layer, crs, crs_option) if where is None else None
    if fast is not None:
        return fast
    gdf = read_vector(path, layer=layer, crs=None if coords.is_pseudo_crs(crs) else crs, encoding=encoding,
                      where=where, where_option=where_option)
    x, y = representative_xy(gdf.geometry.values)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame.attrs = {"source_rows": gdf.attrs["source_rows"]} if where is not None else {}
    source = coords.parse_crs(crs) if coords.is_pseudo_crs(crs) else gdf.crs
    return frame, x, y, source


def _plain_parquet(path):
    """A Parquet file with no GeoParquet metadata (pandas' or Spark's ``to_parquet`` of
    a table with lon/lat columns) as a frame, its coordinate columns found as a
    CSV's (as ``gridkit locate --dask`` reads it); None for any other file.

    A folder of such files (Spark's ``points.parquet/`` of ``part-*.parquet``, with
    ``_SUCCESS`` beside them, perhaps in ``month=…`` subfolders) is read whole, with
    the partition columns, after the checks the dask path makes: no stray file, the
    same column types in every file. A folder of GeoParquet gives None (read as a
    GeoParquet dataset)."""
    if not _is_plain_parquet(path):
        return None
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if path.is_dir():
        return ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pandas()
    return pq.read_table(path).to_pandas()


def _is_plain_parquet(path) -> bool:
    """Whether ``path`` is Parquet without GeoParquet metadata (:func:`_plain_parquet`),
    from the schema alone. A folder is checked as the dask path checks it; a file
    named .parquet that is none is refused by name."""
    if input_suffix(path) not in (".parquet", ".geoparquet"):
        return False
    if path.is_dir():
        from .batch import _parquet_columns

        return _parquet_columns(path)[0] is None
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # not Parquet at all: said by name
        raise InputError(f"{path}: not a Parquet file ({exc.__class__.__name__}: {exc})") from exc
    return b"geo" not in (schema.metadata or {})


def representative_xy(geoms):
    """``(x, y)`` of a point standing for each geometry (module doc): a point as it
    is, a multi-point's first, the middle of a line, a point inside a polygon; NaN
    for a missing or empty geometry."""
    geoms = np.asarray(geoms, dtype=object)
    kind = shapely.get_type_id(geoms)
    points = geoms.copy()
    lines = np.isin(kind, (1, 2, 5))
    polys = np.isin(kind, (3, 6))
    if lines.any():
        points[lines] = shapely.line_interpolate_point(shapely.line_merge(geoms[lines]), 0.5, normalized=True)
    if polys.any():
        points[polys] = shapely.point_on_surface(geoms[polys])
    multi = kind == 4
    if multi.any():
        points[multi] = shapely.get_geometry(geoms[multi], 0)
    empty = shapely.is_missing(points) | shapely.is_empty(points)
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    x[~empty] = shapely.get_x(points[~empty])
    y[~empty] = shapely.get_y(points[~empty])
    return x, y


#: The separators a CSV may use: the comma; the semicolon Excel writes where the comma
#: is the decimal mark; the tab and the pipe of database exports.
CSV_SEPARATORS = ",;\t|"


def read_table(path, *, layer=None, encoding=None, fields=(None, None), find_sheet=False) -> pd.DataFrame:
    """A table of rows (CSV, TSV, TXT, or a workbook: .xlsx, .xls, .ods …) as text columns, as
    :func:`read_inventory` reads it before it looks for coordinates.

    A CSV is read with the separator its header line holds most of (``,;\\t|``: a
    comma when it holds none; a tab in a .tsv), kept in ``attrs["csv_separator"]``
    so that a copy can be written in the same dialect; its text as UTF-8, else as
    GB18030 (which GBK is part of: the ledgers Excel and WPS save in China), unless
    ``encoding`` is given. An Excel workbook's sheet is ``layer`` (the first by
    default; with ``find_sheet``, the one sheet naming the coordinate columns when
    the first does not), its header the first row that names ``fields`` (or a
    coordinate pair gridkit knows) in the first rows, else the first row, with the
    row below when the two are one header (坐标 over 经度 and 纬度); so is a CSV's
    (:func:`_csv_header_line`). A workbook's merged cells read as Excel shows them,
    each cell the range's value.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "ledger.csv"
    >>> _ = path.write_bytes("编号;名称\\n0101;上水井盖\\n".encode("gbk"))
    >>> table = read_table(path)
    >>> table.to_dict("records"), table.attrs["csv_separator"]
    ([{'编号': '0101', '名称': '上水井盖'}], ';')
    """
    path = Path(path)
    if _is_workbook(path):
        return _read_excel(path, layer, fields, find_sheet=find_sheet)
    refuse_layer(path, layer)
    return _read_csv(path, encoding, fields)


def _is_workbook(path):
    """Is ``path`` named as a workbook (:data:`gridkit.io.WORKBOOK_SUFFIXES`)?"""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


#: The columns a table's geometry is read from, as WKT: what QGIS, GDAL, gridkit's own
#: CSV export and databases' exports name it.
WKT_COLUMNS = ("wkt", "wkt_geom", "geometry", "geom", "the_geom", "shape", "几何", "空间范围")


def read_wkt_table(path, *, layer=None, encoding=None, where=None, where_option="--where",
                   not_wkt="raise") -> gpd.GeoDataFrame:
    """A table (CSV, Excel) whose rows hold their geometry as WKT text, in a column
    named as in :data:`WKT_COLUMNS` (``gridkit export -o cells.csv`` writes ``WKT``),
    as a GeoDataFrame with no CRS (:func:`gridkit.io.wkt_table_in_crs` gives it
    one). A blank value is a row with no geometry; a value that is not WKT
    is an error naming its rows (with ``not_wkt="keep"``, a row with no geometry,
    the error's text kept in ``attrs["not_wkt"]``). ``where`` keeps the rows an OGR
    SQL ``WHERE`` clause matches, numbered as in the file (``attrs["source_rows"]``).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "cells.csv"
    >>> _ = path.write_text('grid_id,WKT\\n990101900601001,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\\n')
    >>> read_wkt_table(path).geometry.area.tolist()
    [0.5]
    """
    path = Path(path)
    frame = read_table(path, layer=layer, encoding=encoding)
    found = {str(c).strip().lower(): c for c in frame.columns}
    column = next((found[name] for name in WKT_COLUMNS if name in found), None)
    if column is None:
        raise InputError(f"{path}: no column of WKT geometry (named {', '.join(WKT_COLUMNS[:3])} …) among "
                         f"{', '.join(map(str, frame.columns))}; a table of points with coordinate columns is read "
                         "by components import, locate and grid households, and boundaries are best kept as a "
                         "GeoPackage or Shapefile")
    if where is not None:
        frame = _rows_where(frame, where, path, where_option)
    text = frame[column].str.strip()
    present = (text.notna() & text.ne("")).to_numpy()
    wkt = np.full(len(text), None, dtype=object)
    wkt[present] = text[present].to_numpy(dtype=object)
    geoms = shapely.from_wkt(wkt, on_invalid="ignore")
    bad = np.flatnonzero(present & shapely.is_missing(geoms))
    problem = None
    if len(bad):
        numbers = source_rows(frame)
        shown = "; ".join(f"row {numbers[i]}: {text.iloc[i][:40]!r}" for i in bad[:5])
        problem = (f"{path}: {len(bad)} value(s) of column {column} are not WKT ({shown}"
                   f"{' …' if len(bad) > 5 else ''}); fix or empty them")
        if not_wkt == "raise":
            raise InputError(problem)
    gdf = gpd.GeoDataFrame(_typed(frame.drop(columns=column)), geometry=geoms)
    gdf.attrs = {k: v for k, v in frame.attrs.items() if k == "source_rows"}
    if problem:
        gdf.attrs["not_wkt"] = problem
    return gdf


def _typed(frame):
    """A table's text columns as the types they hold, as a GIS file has them: whole
    numbers of up to 9 digits and no leading zero as integers (a code of 10 digits or
    more stays text, as does 0012), decimals as floats, True/False as booleans; a
    column with blanks as nullable.

    >>> import pandas as pd
    >>> t = _typed(pd.DataFrame({"n": ["150", None], "pp": ["0.69", "1e-3"], "ok": ["True", "false"],
    ...                          "code": ["990201900600", "7"], "seq": ["0012", "1"]}))
    >>> [str(d) for d in t.dtypes[:3]], t["code"].tolist(), t["seq"].tolist()
    (['Int64', 'float64', 'bool'], ['990201900600', '7'], ['0012', '1'])
    """
    typed = {}
    for name, column in frame.items():
        text = column.dropna().astype(str).str.strip()
        if not len(text):
            continue
        if text.str.fullmatch(r"[+-]?(?:0|[1-9]\d{0,8})").all():
            typed[name] = pd.to_numeric(column).astype("Int64" if column.isna().any() else "int64")
        elif text.str.fullmatch(r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+)").all():
            typed[name] = pd.to_numeric(column)
        elif text.str.lower().isin(["true", "false"]).all() and not column.isna().any():
            typed[name] = column.str.strip().str.lower().eq("true")
    return frame.assign(**typed)


def _separator(line, path):
    """The separator a CSV's header ``line`` holds most of (a tab in a .tsv)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    counts = [line.count(sep) for sep in CSV_SEPARATORS]
    return CSV_SEPARATORS[counts.index(max(counts))]


def _csv_header_line(path, encoding, fields):
    """The line (from 0) of a CSV's header, and its text: the first of its first
    HEADER_ROWS lines to name the coordinate columns (``fields``, or a pair gridkit
    knows), so that a ledger's title rows above it (东城区部件普查表, a date) are
    skipped, as in a workbook; else the first line."""
    with open(path, "rb") as file:  # lines ended by \r\n, \n, or \r alone (Excel for Mac's "CSV (Macintosh)")
        lines = file.read(HEADER_BYTES).splitlines(keepends=True)[:HEADER_ROWS]
    texts = []
    for raw in lines:
        try:
            texts.append(raw.decode(encoding or "utf-8", errors="strict" if encoding is None else "replace"))
        except UnicodeDecodeError:
            texts.append(raw.decode("gb18030", errors="replace"))
    stripped = [text.lstrip("\ufeff").rstrip("\r\n") for text in texts]
    top = _header_row((_csv_cells(text, path) for text in stripped), fields)
    return (top, stripped[top]) if top is not None else (0, stripped[0] if stripped else "")  # "": empty


def _csv_cells(line, path):
    """The cells of one CSV line; none for a line the csv module cannot split (a
    stray carriage return, a NUL: a binary file named .csv), which is then no header."""
    try:
        return next(csv.reader([line], delimiter=_separator(line, path)), [])
    except csv.Error:
        return []


def _read_csv(path, encoding, fields=(None, None)):
    top, header = _csv_header_line(path, encoding, fields)
    sep = _separator(header, path)
    if top:
        log.info("%s: the header is line %d; the %d line(s) above it skipped", path, top + 1, top)

    def read(text_encoding):
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], sep=sep, encoding=text_encoding,
                           skiprows=top)

    gbk = encoding is None and not _is_utf8(path, SNIFF_BYTES)  # a GBK header: no UTF-8 read to fail first
    frame = None if gbk else _read_csv_arrow(path, top, header, sep, encoding or "utf8")
    if frame is None and encoding is None and (gbk or not _is_utf8(path)):
        frame = _read_csv_arrow(path, top, header, sep, "gb18030")
        if frame is not None:
            _read_as_gbk(path)
    try:
        try:
            frame = read(encoding or "utf-8-sig") if frame is None else frame
        except UnicodeDecodeError:
            if encoding is not None:
                raise
            frame = read("gb18030")
            _read_as_gbk(path)
    except UnicodeDecodeError as exc:
        what = f"is not {encoding} text" if encoding else "is neither UTF-8 nor GB18030 (GBK) text"
        raise InputError(f"{path}: {what} ({exc.reason}); if it is a CSV, save it as UTF-8 or give the "
                         "encoding it was saved in (--encoding BIG5, CP1252, UTF-16 …)") from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: cannot be read as CSV ({str(exc).strip()}); a value that holds the "
                         f"separator {sep!r}, a quote or a line break must be in double quotes") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: is empty (no header line, no rows); export the table again with its "
                         "header row") from exc
    except Exception as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from exc
    frame.attrs["csv_separator"] = sep  # a located copy is written with it
    return frame


def _read_as_gbk(path):
    """Say that ``path`` was read as GB18030, and warn if its first megabyte looks
    like another encoding (BIG5)."""
    log.info("%s: not UTF-8, read as GB18030 (GBK); if its text looks wrong, give --encoding", path)
    with open(path, "rb") as file:  # the first megabyte, not the whole file again
        warn_if_private_use(path, file.read(SNIFF_BYTES).decode("gb18030", errors="ignore"))


def _is_utf8(path, size=None):
    """Whether ``path`` is UTF-8 text: its first ``size`` bytes (a character cut
    short at the end is allowed), or all of it, decoded 16 MB at a time (100 MB:
    0.05 s), so that a file Arrow could not read for another reason is not read
    again as GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as file:
            if size is not None:
                decoder.decode(file.read(size))
                return True
            while chunk := file.read(1 << 24):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_csv_arrow(path, top, header, sep, encoding="utf8"):
    """A CSV read by Arrow's reader, every column as text, as
    ``pd.read_csv(dtype=str)`` reads it (a blank field or "" missing): two million
    rows in 0.2 s where pandas' takes 1.6 s. Text in another ``encoding`` (GBK, as
    Excel saves a CSV on a Chinese Windows) is decoded to UTF-8 as it is read: 0.7 s
    where a failed UTF-8 try, then pandas' reader, took 2.2 s. None for anything else (a header with a repeated or
    empty name, which pandas renames; rows of other lengths; text that is not in
    ``encoding``): pandas' reader then reads it, and says what is wrong."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = next(csv.reader([header.lstrip("\ufeff")], delimiter=sep), [])
    if not names or len(set(names)) < len(names) or "" in names:
        return None
    try:
        table = pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(skip_rows=top, encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                 null_values=[""], strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True))
        if table.column_names != names:  # a header Arrow split otherwise than csv did
            return None
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None  # not UTF-8 (its header's names either), ragged rows …
    return pd.DataFrame({name: pd.Series(table.column(name), dtype="str") for name in names})


#: Bytes of a CSV read as GB18030 that :func:`gridkit.io.warn_if_private_use` checks.
SNIFF_BYTES = 1 << 20


def _full_width(text):
    """A text column with full-width characters (１１６．４１, typed in a Chinese
    input method's full-width mode) as their ASCII forms (NFKC); only the rows that
    are not ASCII go through Python."""
    wide = ~text.str.isascii().fillna(True).astype(bool)
    if not wide.any():
        return text
    out = text.copy()
    out[wide] = text[wide].map(lambda t: unicodedata.normalize("NFKC", t))
    return out


#: The hemisphere of a coordinate, before or after it: a letter (N39.9, 116.4E) or a word
#: (北纬39.9, 116度24分东经). N and S mark a latitude, E and W a longitude.
_HEMISPHERE = r"东经|西经|北纬|南纬|[NSEW]"
_SOUTH_WEST = ("S", "W", "南纬", "西经")
_LATITUDE = ("N", "S", "北纬", "南纬")


def _degrees_pattern(n=""):
    """One coordinate in degrees, minutes and seconds as surveyors' ledgers write them
    (116°24′38.5″E, 东经116度24分38.5秒, N39°54'27"; after NFKC ″ is ′′; PROJ's cs2cs
    writes 116d24'38.5"E), or in
    decimal degrees beside a hemisphere (E116.4122, 39.9008N, 北纬39.9008), as a
    regular expression whose groups end in ``n``. A hemisphere stands before the
    number or after it, not both."""
    number = r"\d+(?:\.\d+)?"
    return (rf"(?P<before{n}>{_HEMISPHERE})?\s*(?P<sign{n}>[-+])?(?P<d{n}>{number})\s*"
            rf"(?:(?:°|度|º|d)\s*(?:(?P<m{n}>{number})\s*(?:′′|''|[′'分])?\s*)?"
            rf"(?:(?P<s{n}>{number})\s*(?:″|′′|''|\"|秒)\s*)?)?"
            rf"(?(before{n})|(?P<after{n}>{_HEMISPHERE})?)")


def _spaced_pattern(n=""):
    """One coordinate in degrees and minutes (and seconds) with no marks, the parts
    separated by spaces or colons, as GPS units export them (Garmin's N39 54.052,
    hddd mm ss.s's 116 24 44.0E) and as a time typed into Excel shows it
    (116:24:44): whole degrees, then minutes under 60, then seconds under 60 if the
    minutes are whole. The groups are :func:`_degrees_pattern`'s, ending in ``n``.
    A lone number is no such coordinate: it has been read as a number before."""
    sixty = r"[0-5]?\d(?!\d)"  # under 60: 116 cannot be minutes, so a pair's split is found
    return (rf"(?P<before{n}>{_HEMISPHERE})?\s*(?P<sign{n}>[-+])?(?P<d{n}>\d{{1,3}})(?:\s+|\s*:\s*)"
            rf"(?P<m{n}>{sixty}(?P<mf{n}>\.\d+)?)"
            rf"(?(mf{n})|(?:(?:\s+|\s*:\s*)(?P<s{n}>{sixty}(?:\.\d+)?))?)"
            rf"(?(before{n})|\s*(?P<after{n}>{_HEMISPHERE})?)")


_DMS = re.compile(rf"^{_degrees_pattern()}$", re.IGNORECASE)
_SPACED = re.compile(rf"^{_spaced_pattern()}$", re.IGNORECASE)
#: Two of them, separated by a comma, a semicolon or spaces: 39°54′03″N 116°24′44″E.
_DMS_PAIR = re.compile(rf"^[(\[（]?\s*{_degrees_pattern('_1')}\s*(?:[,;，；]|\s)\s*{_degrees_pattern('_2')}"
                       r"\s*[)\]）]?$", re.IGNORECASE)
_SPACED_PAIR = re.compile(rf"^[(\[（]?\s*{_spaced_pattern('_1')}\s*(?:[,;，；]|\s)\s*{_spaced_pattern('_2')}"
                          r"\s*[)\]）]?$", re.IGNORECASE)


def _degrees(found, n=""):
    """The values (NaN where none) and whether each is marked a latitude (N, S), from
    the groups of :func:`_degrees_pattern` that ``str.extract`` found. A number
    without a degree sign or a hemisphere is none: a plain number was read before."""
    d, m, s = (pd.to_numeric(found[k + n]).fillna(0).to_numpy(dtype=float) for k in ("d", "m", "s"))
    hemisphere = (found["before" + n].fillna("") + found["after" + n].fillna("")).str.upper()
    marked = found["d" + n].notna().to_numpy(dtype=bool) & ((m < 60) & (s < 60))  # 61′ is no position: rejected
    value = np.where(marked, d + m / 60 + s / 3600, np.nan)
    minus = found["sign" + n].fillna("").eq("-").to_numpy(dtype=bool)
    south_west = hemisphere.isin(_SOUTH_WEST).to_numpy(dtype=bool) | minus
    return np.where(south_west, -value, value), hemisphere.isin(_LATITUDE).to_numpy(dtype=bool)


def _plain_numbers(column):
    """A text column of plain numbers (and blanks) as floats, parsed by Arrow,
    or None when some value is no plain number (" 116.4", "116,4", "E116.4"):
    :func:`_coordinates` then takes its own path. Arrow's cast parses two million
    coordinates in 0.03 s where ``pd.to_numeric`` takes 0.5 s.

    >>> import pandas as pd
    >>> _plain_numbers(pd.Series(["116.41", None, "-7.1e1"], dtype="string[pyarrow]")).tolist()
    [116.41, nan, -71.0]
    >>> _plain_numbers(pd.Series(["116.41", "116,41"], dtype="string[pyarrow]")) is None
    True
    """
    dtype = column.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        numbers = pc.cast(pa.array(column.array), pa.float64())  # the column's own Arrow data, no copy
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if isinstance(numbers, pa.ChunkedArray):
        numbers = numbers.combine_chunks()
    return np.array(numbers.to_numpy(zero_copy_only=False), dtype=float)  # nulls as NaN; a copy to write in


def _coordinates(column):
    """A coordinate column's numbers (NaN where blank or not a number); a decimal
    comma ("116,4105", as a semicolon CSV from Excel writes it) reads as a point,
    and so do full-width digits (１１６．４１０５) and degrees, minutes and seconds
    (116°24′38.5″E, 东经116度24分38.5秒; S and W, 南纬 and 西经 negative), and
    decimal degrees beside a hemisphere (E116.41, 北纬39.9, as GPS apps write them).

    >>> import pandas as pd
    >>> _coordinates(pd.Series(["116.41", "116,41", "１１６．４１", " －７１．１ ", "x", None])).tolist()
    [116.41, 116.41, 116.41, -71.1, nan, nan]
    >>> dms = ["116°24′36″E", "东经116度24分36秒", "71°6′20″W", "S33°52.5'", "39°", "39°61′"]
    >>> _coordinates(pd.Series(dms)).round(4).tolist()
    [116.41, 116.41, -71.1056, -33.875, 39.0, nan]
    >>> _coordinates(pd.Series(["E116.41", "116.41E", "W71.1", "北纬39.9", "39度54分北纬", "N 39.9 E"])).round(4).tolist()
    [116.41, 116.41, -71.1, 39.9, 39.9, nan]

    Spaced or by colons, as GPS units export them and Excel shows a time; PROJ's d:

    >>> _coordinates(pd.Series(["116 24 36E", "N39 54.6", "116:24:36", "116d24'36\\"E", "116 61", "116 24.5 30"])
    ...              ).round(4).tolist()
    [116.41, 39.91, 116.41, 116.41, nan, nan]
    """
    x = _plain_numbers(column)
    if x is None:
        x = np.array(pd.to_numeric(column, errors="coerce"), dtype=float)  # a copy: written below
    retry = np.flatnonzero(np.isnan(x) & column.notna().to_numpy())
    if len(retry):  # only the rows that did not parse: a plain file costs nothing more
        text = _full_width(column.iloc[retry].astype(str)).str.strip().reset_index(drop=True)  # by position
        x[retry] = pd.to_numeric(text, errors="coerce")
        comma = text.str.fullmatch(r"[-+]?\d+,\d+") & np.isnan(x[retry])
        x[retry[comma.to_numpy()]] = text[comma].str.replace(",", ".", regex=False).astype(float).to_numpy()
        rest = np.flatnonzero(np.isnan(x[retry]))
        for pattern in (_DMS, _SPACED):  # marked degrees (or with a hemisphere), then spaced ones
            if len(rest):
                x[retry[rest]] = _degrees(text.iloc[rest].str.extract(pattern))[0]
                rest = rest[np.isnan(x[retry[rest]])]
    return x


def _read_excel(path, sheet, fields=(None, None), *, find_sheet=False):
    """A workbook's sheet (the first unless ``sheet``, or with ``find_sheet``
    :func:`_coordinate_sheet`'s) as text columns, as a CSV reads: whole numbers
    without ".0", dates as ISO dates.

    The header is the first row naming the coordinate columns (``fields``, or a
    pair that :func:`_find_coordinate_columns` knows) among the first HEADER_ROWS,
    so that a ledger's title rows above it (东城区井盖台账, a date) are skipped;
    else the first row. ``attrs["source_rows"]`` numbers the rows as the sheet does
    (from its row 1, above the header). Excel keeps numbers to 15 significant digits, so a 16- or
    17-digit component ID typed into a number cell has already lost its last digits
    (11010101013000001 reads back as 11010101013000000, which looks like a real
    ID): such cells are kept as "1.1010101013e+16 (…)", which no ID check passes,
    and a warning names them."""
    if sheet is None:
        names = sheet_names(path)
        sheet = _coordinate_sheet(path, names, fields) if find_sheet and len(names) > 1 else 0
    _, cells, merged = read_sheet(path, sheet)
    raw = pd.DataFrame(_fill_merged(cells, merged, path))
    top = _header_row(cells, fields) or 0
    bottom = _header_bottom(raw, top, merged, fields)
    if top or bottom > top:
        log.info("%s: the header is %s; the %d row(s) above it skipped", path,
                 f"rows {top + 1}–{bottom + 1}" if bottom > top else f"row {top + 1}", top)
    names = _header_names(raw.iloc[top:bottom + 1])
    raw = raw.iloc[bottom + 1:].set_axis(names, axis=1).reset_index(drop=True)
    # dtype=str as read_csv's: pandas 3's string dtype, object before it (missing stays NaN)
    frame = pd.DataFrame({str(c): pd.Series([_excel_text(v) for v in raw[c].tolist()], index=raw.index, dtype=str)
                          for c in raw.columns}, index=raw.index)
    # Each row numbered as Excel shows it beside the sheet (the ledger's first row below a
    # header in rows 3–4 is row 5): the number the rejects and messages give is the one
    # found in the sheet.
    number_rows(frame, np.arange(len(frame)) + bottom + 2)
    for column in frame.columns:
        long = frame[column].str.endswith(_LOST_DIGITS, na=False).to_numpy()
        if long.any():
            rows = ", ".join(map(str, source_rows(frame)[np.flatnonzero(long)[:10]]))
            log.warning("%s: column %r holds %d number(s) of 16 or more digits (sheet rows %s): "
                        "Excel keeps 15 significant digits, so they have lost their last digits and no ID "
                        "check will pass them. Format the column as Text and re-enter them, or export the "
                        "table as CSV from the system it came from", path, column, int(long.sum()), rows)
    return frame


_LOST_DIGITS = "(an Excel number: digits past the 15th lost)"


def _fill_merged(values, merged, path):
    """A sheet's cells as read (the first cell of a merged range holding its value,
    the others empty) with each merged cell holding the range's value, as Excel
    shows it: a ledger's 所在街道 or 部件类型 merged down the rows it covers is each
    row's, and a header merged down two rows names its column in both. Changed in
    place."""
    down = []
    for r0, c0, r1, c1 in merged:
        if r0 < values.shape[0] and c0 < values.shape[1]:
            values[r0:r1 + 1, c0:c1 + 1] = values[r0, c0]
            if r1 > r0:
                down.append(f"{_excel_column(c0)}{r0 + 1}:{_excel_column(c1)}{r1 + 1}")
    if down:
        log.info("%s: %d merged range(s) of rows, each cell taking the range's value: %s%s", path, len(down),
                 ", ".join(down[:5]), " …" if len(down) > 5 else "")
    return values


def _excel_column(index):
    """A 0-based column number as Excel's letters (0 → A, 27 → AB)."""
    from openpyxl.utils.cell import get_column_letter

    return get_column_letter(index + 1)


def _header_bottom(raw, top, merged, fields):
    """The last row of a header that starts in row ``top``: a ledger's header of two
    rows has cells merged down both (序号, 部件名称) and a heading merged across the
    columns of the row below (坐标 over 经度 and 纬度); a row below the header that
    names the coordinate columns itself is the header's too (坐标 typed over them,
    not merged)."""
    bottom = top
    for r0, c0, r1, c1 in merged:
        if r0 == top:
            bottom = max(bottom, r1, top + 1 if c1 > c0 else top)
    while bottom + 1 < min(len(raw), top + 3) and _names_coordinates(raw.iloc[bottom + 1], fields):
        bottom += 1
    return min(bottom, max(len(raw) - 1, top))


def _header_names(rows):
    """The column names of a header of one or more rows: each column's lowest name
    (经度 under 坐标), the names above it joined to it when two columns would
    otherwise share one (权属单位/名称, 养护单位/名称), and a name still repeated
    numbered as pandas numbers a CSV's (备注, 备注.1); a blank column "Unnamed: N"."""
    cells = [[_header_text(v) for v in column] for column in zip(*rows.to_numpy().tolist())] if len(rows) else []
    names = [next((v for v in reversed(column) if v), "") for column in cells]
    counts = pd.Series(names).value_counts()
    names = ["/".join(dict.fromkeys(v for v in column if v)) if name and counts[name] > 1 else name
             for name, column in zip(names, cells)]
    seen = {}
    unique = []
    for i, name in enumerate(names):
        name = name or f"Unnamed: {i}"
        seen[name] = seen.get(name, -1) + 1
        unique.append(f"{name}.{seen[name]}" if seen[name] else name)
    return unique


def _header_text(value):
    """A header cell's text, stripped ("" for an empty cell)."""
    return "" if pd.isna(value) else str(_excel_text(value)).strip()


#: How far down a sheet (or a CSV) the header row is looked for.
HEADER_ROWS = 20
#: The bytes at the start of a CSV its header is looked for in: title rows and a
#: header fit in far less, and a CSV's first lines may be polygons' WKT, megabytes each.
HEADER_BYTES = 1 << 16


def _coordinate_sheet(path, sheets, fields):
    """The sheet of a workbook of several to read points from: the first, unless it
    names no coordinate columns (``fields``, or a pair gridkit knows) in its first
    HEADER_ROWS rows and exactly one other sheet does (a ledger with a cover sheet,
    说明, before its table): that one, with a warning. Two or more such sheets are
    an error naming them, as no sheet naming any is."""
    def names(sheet):
        return _header_row(read_sheet(path, sheet, HEADER_ROWS)[1], fields) is not None

    first, *others = sheets
    if _sheet_of_points(path, first, fields):
        return first
    found = [sheet for sheet in others if _sheet_of_points(path, sheet, fields)]
    what = (f"the columns {' and '.join(f for f in fields if f)}" if any(fields)
            else "coordinate columns (lon/lat, x/y …)")
    if len(found) == 1:  # a cover sheet first, or the cells of a package exported before its components
        log.warning("%s: the first sheet %r %s; reading sheet %r, which %s (choose another with --layer)", path,
                    first, "holds shapes, not points" if names(first) else f"does not name {what}", found[0],
                    "holds points" if names(first) else "does")
        return found[0]
    if not found and names(first):  # shapes: each read as a point on it
        return first
    if found:
        raise InputError(f"{path}: the sheets {found} all name {what}; choose one with --layer")
    raise InputError(f"{path}: none of the sheets {sheets} names {what} in its first {HEADER_ROWS} "
                     "rows; choose the sheet with --layer and its columns with --x-field and --y-field")


def _header_row(rows, fields):
    """The first of the first HEADER_ROWS of ``rows`` (each a sequence of cells: a
    sheet's, a CSV line's) that names the coordinate columns, or None: a table's
    header, below a ledger's title rows."""
    return next((r for r, row in enumerate(itertools.islice(rows, HEADER_ROWS)) if _names_coordinates(row, fields)),
                None)


def _names_coordinates(row, fields):
    """Does a sheet's row (a sequence of cells) name the coordinate columns (``fields``, or a known pair)?"""
    names = {str(v).strip() for v in row if not pd.isna(v)}
    if any(fields):
        return all(f in names for f in fields if f)
    return _known_coordinates(names) is not None


def _excel_text(value):
    """One Excel cell as a CSV would hold it (NaN for an empty cell, as a CSV's)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) >= 1e15:
            return f"{float(value):.15g} {_LOST_DIGITS}"
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, _dt.timedelta):  # as Excel's [h]:mm:ss shows it: 116:24:44 typed into a cell
        minutes, seconds = divmod(round(abs(value.total_seconds()), 3), 60)
        seconds = f"{seconds:02.0f}" if seconds.is_integer() else f"{seconds:06.3f}".rstrip("0")
        return f"{'-' if value.total_seconds() < 0 else ''}{int(minutes) // 60}:{int(minutes) % 60:02d}:{seconds}"
    return str(value)


def read_points(path, *, layer=None, crs=None, x_field=None, y_field=None, where=None,
                where_option="--where", encoding=None, crs_option="--crs", keep_xy=False) -> gpd.GeoDataFrame:
    """A file of points as a GeoDataFrame with a real CRS, as :func:`gridkit.read_vector`
    gives: from a vector file, or from a CSV (TSV, TXT) or Excel workbook with
    coordinate columns, found by name as for inventories (lon/lat, 经度/纬度, x/y …)
    or given as ``x_field``/``y_field``. ``crs`` says what the coordinates are
    (default for lon/lat columns: EPSG:4326, with a warning when they lie in China,
    where they are often GCJ-02); ``gcj02`` and ``bd09`` positions become WGS84. A
    row without usable coordinates keeps its place with no geometry, for the caller
    to name it. ``where`` keeps the features an OGR SQL ``WHERE`` clause matches,
    as :func:`gridkit.read_vector` does (over a table's columns too); its messages
    call it ``where_option``, and the CRS ``crs_option``. ``encoding``: the text encoding of a CSV or of a
    Shapefile's attributes (default: detected, UTF-8 or GB18030). ``keep_xy``: a
    table keeps its coordinate columns.
    """
    path = Path(path)
    if not path.exists():  # before a CSV's header is read for a WKT column
        raise InputError(f"{path}: no such file")
    refuse_layer(path, layer, where_option.replace("where", "layer"))
    plain = _is_plain_parquet(path)  # lon/lat columns, read as a table's
    if path.suffix.lower() not in TABLE_SUFFIXES and not plain:
        return read_vector(path, layer=layer, crs=crs, where=where, where_option=where_option, encoding=encoding)
    if not plain and x_field is None and y_field is None and _names_wkt_column(path, layer):
        # Census blocks or buildings kept as a table of WKT: polygons, as from a vector
        # file, and a value among them that is no WKT (cut at an Excel cell's 32,767
        # characters) an error. Anything else (points, metres without a CRS) is read as
        # a table of points, row by row, with its messages. The kinds are read first,
        # without a CRS: the CRS step warns of lon/lat in China, points or not.
        try:
            table = read_wkt_table(path, layer=layer, encoding=encoding, where=where, where_option=where_option,
                                   not_wkt="keep")
        except InputError:
            table = None
        if table is not None and np.isin(shapely.get_type_id(table.geometry.values), (3, 6)).any():
            if "not_wkt" in table.attrs:
                raise InputError(table.attrs["not_wkt"] + (" (an Excel cell holds 32,767 characters, and cuts a "
                                                           "longer polygon: keep such blocks in a GeoPackage)"
                                                           if _is_workbook(path) else ""))
            try:
                return wkt_table_in_crs(table, path, crs)
            except CRSError:
                pass
    frame, x, y, source = read_inventory(path, layer=layer, crs=crs, x_field=x_field, y_field=y_field, where=where,
                                         where_option=where_option, encoding=encoding, crs_option=crs_option,
                                         keep_xy=keep_xy)
    if not len(frame):
        raise InputError(f"{path}: the file has no rows")
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(frame), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    # The CRS as read_vector applies it: gcj02/bd09 to WGS84; lon/lat read as
    # EPSG:4326 by default are checked for lying in China.
    points = _apply_crs(gpd.GeoDataFrame(frame, geometry=geoms, crs=None if crs is not None else source), path, crs)
    if not ok.all():  # why, for the caller that names them ("lon is blank or not a number")
        points.attrs["no_position"] = coords.position_problems(x, y, names=frame.attrs.get("xy_fields"))[1]
    return points


def inventory_layers(path, fields=(None, None)) -> list[str]:
    """The layers of an inventory file that each hold components, when it has more
    than one: an Excel workbook's sheets that name the coordinate columns (``fields``,
    or a pair gridkit knows; a sheet per street does, a cover sheet 说明 does not), a
    vector file's point layers (hydrants and lamps in one GeoPackage). [] for a file
    of one table (a CSV, a Shapefile, a workbook of one ledger): its rows are read as
    they are."""
    path = Path(path)
    if _is_workbook(path):
        sheets = sheet_names(path)
        if len(sheets) < 2:  # one sheet: nothing to choose, and no cell read
            return []
        found = [name for name in sheets if _sheet_of_points(path, name, fields)]
    elif path.suffix.lower() in (*TABLE_SUFFIXES, ".gpx"):  # a GPX's waypoints, not the track walked to them
        return []
    elif path.suffix.lower() in ONE_LAYER_SUFFIXES:
        return []
    else:
        found = [name for name, kind in file_layers(path) if kind and "point" in kind.lower()]
    return found if len(found) > 1 else []


def _sheet_of_points(path, sheet, fields):
    """Whether the sheet ``sheet`` of the workbook ``path`` names coordinate columns
    in its first HEADER_ROWS rows, and holds points: a sheet of polygons as WKT (the
    cells and units of a package exported to .xlsx) does not, as a vector file's
    polygon layer does not. Kept per version of the file (its time and size): an
    import asks to list its layers, to name its source and to warn."""
    return _head_of_points(*file_version(path), sheet, tuple(fields))


@functools.lru_cache(maxsize=32)
def _head_of_points(path, version, sheet, fields):
    """:func:`_sheet_of_points` for one version of the file."""
    try:
        rows = read_sheet(path, sheet, HEADER_ROWS + 1)[1].tolist()
    except InputError:  # not a workbook: reading it says why
        return False
    top = _header_row(rows, fields)
    if top is None:
        return False
    wkt = [c for c, name in enumerate(rows[top]) if str(name).strip().lower() in WKT_COLUMNS]
    first = next((row[c] for row in rows[top + 1:] for c in wkt if isinstance(row[c], str) and row[c].strip()), None)
    return first is None or first.strip().upper().startswith(("POINT", "MULTIPOINT"))


def _layer_source(path, layer, fields):
    """``(source, layer)``: the catalogue source of an inventory file's layer (the
    given one, else the one read by default), and the layer's name. The source is the
    file's name without its suffix, and ``NAME/LAYER`` when the file holds several
    layers of components (:func:`inventory_layers`), so that importing one sheet of a
    ledger kept a sheet per street does not remove the components of the others;
    the layer is then named (None for a file of one)."""
    path = Path(path)
    layers = inventory_layers(path, fields)
    if not layers:
        return path.stem, None
    if isinstance(layer, str):
        name = layer
    elif layer is None and _is_workbook(path):
        name = layers[0]  # its first sheet of points (the first sheet, or it is asked for)
    else:
        names = _layer_names(path)
        name = names[layer or 0] if -len(names) <= (layer or 0) < len(names) else None
    if name not in layers:  # a layer of no components, or none such: reading it says so
        return path.stem, None
    return f"{path.stem}/{name}", name


def _layer_names(path):
    """The names of a file's layers in order: an Excel workbook's sheets, a vector
    file's layers."""
    if not _is_workbook(path):
        return [name for name, _ in file_layers(path)]
    return sheet_names(path)


def _names_wkt_column(path, sheet=None):
    """Whether the header of the table ``path`` names a column of :data:`WKT_COLUMNS`:
    a CSV's (TSV's, TXT's) header line (:func:`_csv_header_line`, below its title
    lines), or any of an Excel sheet's first HEADER_ROWS rows (where
    :func:`_read_excel` looks for it; the first sheet unless ``sheet``). A polygon
    longer than an Excel cell's 32,767 characters is cut there, and then reads as no
    WKT."""
    if _is_workbook(path):
        return bool(set(map(str.lower, _excel_top_texts(path, sheet))) & set(WKT_COLUMNS))
    _, header = _csv_header_line(path, None, (None, None))
    names = next(csv.reader([header], delimiter=_separator(header, path)), [])
    return bool({name.strip().lower() for name in names} & set(WKT_COLUMNS))


def _excel_top_texts(path, sheet):
    """The text cells of the first HEADER_ROWS rows of a workbook's sheet (the first
    unless ``sheet``), stripped; none when it cannot be read (the full read then
    says why)."""
    try:
        cells = read_sheet(path, 0 if sheet is None else sheet, HEADER_ROWS)[1]
    except InputError:
        return []
    return [value.strip() for value in cells.ravel().tolist() if isinstance(value, str)]


def _rows_where(frame, where, path, option):
    """The rows of a table ``frame`` that ``where`` keeps, numbered as in the file."""
    rows = rows_where(_as_numbers(frame), where, path, option)
    if not len(rows):
        raise InputError(f"{path}: no row matches {option} {where!r}")
    return number_rows(frame.iloc[rows].reset_index(drop=True), source_rows(frame)[rows])


def _as_numbers(frame):
    """``frame`` with its columns of numbers as numbers, for a filter to compare.

    A table is read as text (so that IDs keep their leading zeros), and text
    compares with text: ``OBJECTID < 500`` would keep '1000'. A column becomes
    numbers when every value it has is one and none starts with a 0 before a digit
    (an ID such as 0012, which ``LIKE '00%'`` must still find).

    >>> import pandas as pd
    >>> t = _as_numbers(pd.DataFrame({"n": ["9", "1000", None], "id": ["0012", "7", "8"], "x": ["1.5", "a", "2"]}))
    >>> t["n"].tolist()[:2], t["id"].tolist(), t["x"].tolist()
    ([9.0, 1000.0], ['0012', '7', '8'], ['1.5', 'a', '2'])
    """
    numbers = {}
    for name, column in frame.items():
        if column.dtype.kind in "biufM":
            continue
        text = column.dropna().astype(str).str.strip()
        if not len(text) or text.str.match(r"[+-]?0\d").any():
            continue
        parsed = pd.to_numeric(text, errors="coerce")
        if parsed.notna().all() and parsed.dtype.kind in "if":
            numbers[name] = parsed.reindex(frame.index)  # the missing values back, as NaN
    return frame.assign(**numbers)


def _read_points_arrow(path, layer, crs, crs_option="--crs"):
    """``read_inventory`` for a layer of plain 2D points in GeoParquet, GeoPackage,
    GeoJSON or FlatGeobuf.

    Read through Arrow and the coordinates cut straight out of the WKB with numpy:
    no shapely object per row (ten million points would cost 2 GB and seconds).
    ``None`` when the file is anything else, for the general path.
    """
    suffix = input_suffix(path)
    try:
        if suffix in (".parquet", ".geoparquet"):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            meta = json.loads((table.schema.metadata or {}).get(b"geo", b"null"))
            if not meta:
                return None
            name = meta["primary_column"]
            column = meta["columns"][name]
            if column.get("encoding", "WKB").upper() != "WKB":
                return None
            file_crs = geoparquet_crs(column)
        elif suffix in (".gpkg", ".geojson", ".json", ".fgb"):  # GDAL's own readers; its text is UTF-8
            info, table = pyogrio.read_arrow(path, layer=0 if layer is None else layer)  # 0: beside layer_styles
            name, file_crs = info["geometry_name"] or "wkb_geometry", info["crs"]
            file_crs = pyproj.CRS.from_user_input(file_crs) if file_crs else None
        else:
            return None
    except Exception:  # anything unusual: the general path reports it properly
        return None
    xy = wkb_point_xy(table.column(name))
    if xy is None:
        return None
    x, y = xy
    if crs is not None:
        source = coords.parse_crs(crs)
    elif file_crs is None:
        raise CRSError(f"{path}: the file has no CRS. Say what its coordinates are in: {crs_option} EPSG:4326 (GPS), "
                       f"{crs_option} EPSG:4490 (CGCS2000), {crs_option} gcj02, {crs_option} bd09, or the projected "
                       f"CRS's EPSG code{crs_hint(_xy_bounds(x, y))}")
    else:
        marked = marked_crs(path, layer) if file_crs.equals(4326) else None  # gridkit export's copy for Amap …
        source = marked or file_crs
        finite = np.isfinite(x) & np.isfinite(y)
        if not marked and finite.any():
            warn_if_gcj02(path, file_crs, (x[finite].min(), y[finite].min(), x[finite].max(), y[finite].max()),
                          table.column_names)
    frame = table.drop_columns([name]).to_pandas()
    return frame, x, y, source


def wkb_point_xy(wkb):
    """``(x, y)`` of an Arrow binary array of little-endian 2D WKB points, cut
    straight out of the bytes with numpy: no shapely object per row (ten million
    points would cost 2 GB and seconds; GEOS parses 250,000 in 0.16 s, this in a
    few ms). ``None`` when any row is something else (or missing), for the general
    path."""
    if isinstance(wkb, pa.ChunkedArray):
        wkb = wkb.combine_chunks()
    if wkb.null_count or not len(wkb) or not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return None
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(wkb.type) else np.int32)
    offsets = offsets[wkb.offset:wkb.offset + len(wkb) + 1]
    if not (np.diff(offsets) == POINT_WKB).all():
        return None
    raw = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(-1, POINT_WKB)
    if not ((raw[:, 0] == 1).all() and (raw[:, 1:5].copy().view("<u4").ravel() == 1).all()):
        return None
    return raw[:, 5:13].copy().view("<f8").ravel(), raw[:, 13:21].copy().view("<f8").ravel()


_CHINESE_FIELDS = {name: abbr for abbr, name in STANDARD_FIELDS.items()}


def standard_field(column) -> str | None:
    """The standard's abbreviation of an input column named by it (any case), by its
    Chinese name or by its legacy name (any case); None for any other column.

    >>> standard_field("objid"), standard_field("管理部件标识码"), standard_field("glbjbsm"), standard_field("id")
    ('GLBJBSM', 'GLBJBSM', 'GLBJBSM', None)
    """
    key = str(column).strip()
    return key.upper() if key.upper() in STANDARD_FIELDS else (_CHINESE_FIELDS.get(key)
                                                              or LEGACY_FIELDS.get(key.lower()))


def _rename_columns(frame, mapping):
    """Input columns → the standard's abbreviations; returns the standard frame."""
    lower = {c.lower(): c for c in frame.columns}
    out = {}
    for column in frame.columns:
        abbr = standard_field(column)
        if abbr and abbr not in out:
            out[abbr] = frame[column]
    for abbr, column in mapping.fields.items():
        if column not in frame.columns:
            column = lower.get(str(column).lower())
        if column is None:
            raise InputError(f"mapping: field {abbr} = {mapping.fields[abbr]!r}, but the inventory has no "
                             f"such column{near_column(mapping.fields[abbr], frame.columns)} (it has "
                             f"{list(frame.columns)})")
        out[abbr] = frame[column]
    for abbr in DATE_FIELDS:  # a column of dates as such (a GeoPackage's, Excel's): its days
        if abbr in out and pd.api.types.is_datetime64_any_dtype(out[abbr]):
            out[abbr] = out[abbr].dt.strftime("%Y%m%d")
    columns = {abbr: _clean_text(column, codes=abbr.endswith(("DM", "BSM"))) for abbr, column in out.items()}
    for abbr in DATE_FIELDS:
        if abbr in columns:
            columns[abbr] = yyyymmdd(columns[abbr])
    for abbr, value in mapping.values.items():
        if abbr in DATE_FIELDS:  # 2026-07-01 (a TOML date, too) → 20260701
            value = yyyymmdd(pd.Series([value], dtype=object)).iloc[0]
        columns[abbr] = columns[abbr].fillna(value) if abbr in columns else value
    # A field the inventory lacks: a categorical of no value, a byte per row (a column
    # of missing text still costs 8 bytes per row in offsets: 80 MB at ten million).
    missing = _category([], np.full(len(frame), -1)).set_axis(frame.index)
    return pd.DataFrame({abbr: columns.get(abbr, missing) for abbr in STANDARD_FIELDS}, index=frame.index)


#: The standard's date fields (YYYYMMDD): the survey date and the change date.
DATE_FIELDS = ("CSRQ", "BGRQ")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0?0:00(?::00(?:\.0+)?)?)?$")


def yyyymmdd(column):
    """Dates as a ledger writes them (2026-07-01, 2026/7/1, 2026.07.01, 2026年7月1日, an
    Excel date read as 2026-07-01 00:00:00, 20260701 in a column of numbers read as
    20260701.0) as the standard's ``YYYYMMDD``; any other text stays as written
    (``gridkit components check`` names it).

    >>> yyyymmdd(pd.Series(["2026-07-01", "2026/7/1", "2026年7月1日", "20260701.0", "July", None], dtype=object)).tolist()
    ['20260701', '20260701', '20260701', '20260701', 'July', None]
    """
    codes, uniques = pd.factorize(column.astype(object))  # each distinct date parsed once, as real_dates does
    if not len(uniques):
        return column
    text = pd.Series(uniques, dtype=object).astype(str)
    parts = text.str.extract(_DATE)
    found = parts[0].notna().to_numpy()
    dates = np.asarray(uniques, dtype=object).copy()
    number = text.str.fullmatch(r"\d{8}\.0+").to_numpy()  # 20260701.0: a column of numbers, read as such
    dates[number] = text[number].str.slice(0, 8).to_numpy(dtype=object)
    dates[found] = (parts[0] + parts[1].str.zfill(2) + parts[2].str.zfill(2)).to_numpy(dtype=object)[found]
    return pd.Series(np.append(dates, None)[codes], index=column.index, dtype=object)


def real_dates(values) -> np.ndarray:
    """Whether each value is a real day written ``YYYYMMDD`` (20260230 is not).
    Each distinct value is parsed once: a catalogue's dates repeat (0.59 s for a
    million of them parsed one by one, 0.02 s so)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))  # a missing value: -1, the False appended
    text = pd.Series(uniques, dtype=object).astype(str)
    real = text.str.fullmatch(r"\d{8}") & pd.to_datetime(text, format="%Y%m%d", errors="coerce").notna()
    return np.append(real.to_numpy(dtype=bool), False)[codes]


def _clean_text(column, *, codes=False):
    """Strip text; blanks (and the text "nan") become missing. A column of ``codes``
    (IDs, department codes) has its full-width digits read as ASCII (:func:`codes.half_width`)."""
    text = column.astype(str).str.strip()
    if codes:
        text = half_width_column(text)
    return text.where(column.notna() & ~text.isin(["", "nan"]), None)


# -- the import -----------------------------------------------------------------------
def import_components(inventory, locator, *, units=None, catalogue=None, mapping=None,
                      table=None, crs=None, layer=None, x_field=None, y_field=None, encoding=None,
                      tolerance=25.0, today=None, source=None, where=None, routes=None, degrees=None):
    """Import one inventory against a layout; returns the updated catalogue.

    Parameters
    ----------
    inventory : path, or ``(frame, x, y, crs)`` as from :func:`read_inventory`
    locator : Locator of the layout (:meth:`Locator.from_package`)
    units : the package's units layer (names of streets and communities), optional
    catalogue : the existing catalogue (``None``: a new one)
    mapping : :class:`Mapping`, optional
    table : :class:`ClassTable` (default: GB/T 47678.5-2026)
    tolerance : metres; points this close outside the layout go to the nearest cell
    today : ``YYYYMMDD`` for survey/change/end dates (default: today)
    source : name of this inventory in the catalogue (default: the file stem)
    where : OGR SQL ``WHERE`` keeping part of a vector inventory. The import is then
        partial: the source's components that the filter leaves out are kept as they
        are (``kept_unselected``), not removed; rows keep their numbers in the file.
    routes : :class:`~gridkit.routing.RoutingTable`, optional. The responsible
        department (``ZGBMDM``, ``ZGBMMC``) of rows that leave it empty comes from the
        table, as :func:`route_departments` fills it (counted as ``departments``).
        Without it, a row with neither gets its class's suggested department name;
        a component already held, with the same class and cell, then keeps the
        department it has (from a routing table, or an edited copy).
    degrees : how the lon/lat numbers are written, when not as decimal degrees
        (:data:`gridkit.coords.DEGREE_FORMS`: ``"e6"``, ``"ddmm"`` …)
    """
    require_locator(locator)
    table = table or ClassTable("2026")
    mapping = (mapping or Mapping()).with_codes(table)
    problem = mapping.class_problem(table)
    if problem:
        raise InputError(problem)
    for line in mapping.value_problems(table.scheme):
        log.warning("%s", line)
    if routes is not None:  # refused before the inventory is read, not after
        routes.checked()
    today = day_text(today, compact=True, name="today")
    _refuse_shared_ids(catalogue)
    layer_read = None
    if isinstance(inventory, (str, Path)):
        if source is None:
            source, layer_read = _layer_source(inventory, layer, (x_field, y_field))
        frame, x, y, in_crs = read_inventory(inventory, layer=layer, crs=crs, x_field=x_field,
                                             y_field=y_field, encoding=encoding, where=where, keep_xy=True)
    else:
        if where is not None:
            raise InputError("where filters an inventory read from a file; filter the frame itself instead")
        if not (isinstance(inventory, tuple) and len(inventory) == 4 and isinstance(inventory[0], pd.DataFrame)):
            raise InputError(f"the inventory is a {type(inventory).__name__}: give a file's path, or (frame, x, y, "
                             "crs) as read_inventory(path, keep_xy=True) returns them (a GeoDataFrame of points: "
                             "(gdf, gdf.geometry.x, gdf.geometry.y, gdf.crs))")
        frame, x, y, in_crs = inventory
        source = source or "inventory"
    x, y = coords.read_degrees(x, y, degrees, in_crs)
    stated = frame.attrs.get("crs_stated", True)  # a table's lon/lat, read as GPS when nothing said
    n = len(frame)
    numbers = source_rows(frame)  # each row's number in the file, for the rejects and source_row
    frame = frame.reset_index(drop=True)
    xy = frame.attrs.get("xy_fields")  # a table's coordinate columns, as written: for its rejects alone
    written = None
    if xy is not None:
        written = frame[list(dict.fromkeys(xy))]  # one column of both ("location") once
        frame = frame.drop(columns=written.columns)
    # The components layer exported (edited in Excel, say), its fields named any way export names them.
    fields = {standard_field(c) or c for c in frame.columns}
    copy = set(COPY_COLUMNS) <= fields
    _refuse_copy_without_sources(fields, copy, inventory if isinstance(inventory, (str, Path)) else source)
    if copy and mapping.class_code is None and mapping.class_field is None and "class_code" in frame.columns:
        mapping = replace(mapping, class_field="class_code")  # a row added to the copy: its class
    reason, detail = coords.position_problems(x, y, in_crs, names=xy)  # 1. positions, the first checks
    say_blank_rows(frame, reason, detail, coordinates=written)

    def reject(mask, code, text):
        """Mark rows not yet rejected; ``text`` is a string, or a function of their positions."""
        rows = np.flatnonzero(mask & (reason == ""))
        reason[rows] = code
        detail[rows] = text if isinstance(text, str) else np.asarray(text(rows), dtype=object)

    std = _rename_columns(frame, mapping)
    if where is not None and mapping.source_key in frame.columns:
        # A repeated key is numbered in file order: over the whole file, as a full
        # import numbers it, not over the rows the filter selected.
        if Path(inventory).suffix.lower() in TABLE_SUFFIXES:  # read as read_inventory reads it
            every = read_table(inventory, layer=layer, encoding=encoding, fields=(x_field, y_field), find_sheet=True)
        elif input_suffix(inventory) in (".parquet", ".geoparquet"):  # GDAL may have no Parquet driver
            every = pd.read_parquet(inventory, columns=[mapping.source_key])
        else:
            every = pyogrio.read_dataframe(gdal_path(inventory), layer=0 if layer is None else layer,
                                           encoding=text_encoding(inventory, encoding),
                                           columns=[mapping.source_key], read_geometry=False)
        key = _source_keys(every, mapping, source)[pd.Index(source_rows(every)).get_indexer(numbers)]
    else:
        key = _source_keys(frame, mapping, source)

    # 1. positions (the missing and impossible ones are marked above)
    ok = reason == ""
    lx, ly = np.full(n, np.nan), np.full(n, np.nan)
    index = np.full(n, -1, dtype=np.int64)
    status = np.full(n, OUTSIDE, dtype=np.int8)
    distance = np.full(n, np.nan)
    micro = None if locator.micro is None else np.full(n, -1, dtype=np.int64)  # a layout with micro-grids
    if ok.any():
        lx[ok], ly[ok] = locator.to_layout_xy(x[ok], y[ok], in_crs)
        # A position PROJ cannot transform (far outside the CRS's zone: a survey table's
        # x read in the Gauss–Krüger CRS with the zone number in front) is outside.
        ok &= np.isfinite(lx) & np.isfinite(ly)
        found = locator.cell_index(lx[ok], ly[ok], tolerance=tolerance, micro=micro is not None)
        index[ok], status[ok], distance[ok] = found[:3]
        if micro is not None:
            micro[ok] = found[3]
        del found
    locator.mark_misread(x, y, in_crs, reason, detail, status, tolerance=tolerance, degrees=degrees)
    # Lon/lat in the wrong one of China's systems: most rows inside, in cells they do not lie in.
    offset = locator.offset_hint(x[ok], y[ok], in_crs, tolerance=tolerance, stated=stated)

    # 2. exact duplicates (every input column and the position). Two equal rows share
    # their position, so only rows whose position repeats are hashed whole; of those,
    # the rows whose hash repeats are compared in full (a collision rejects nothing).
    first = np.arange(n)
    shared = np.flatnonzero(pd.DataFrame({"x": x, "y": y}).duplicated(keep=False).to_numpy())
    if len(shared):
        rows_with_xy = frame.iloc[shared].assign(__x=x[shared], __y=y[shared])
        first[shared] = shared[_first_rows(pd.util.hash_pandas_object(rows_with_xy, index=False).to_numpy())]
    dup = np.flatnonzero(first != np.arange(n))
    if len(dup):
        whole = frame.assign(__x=x, __y=y)
        same = whole.iloc[dup].reset_index(drop=True).fillna("\x00").astype(str).eq(
            whole.iloc[first[dup]].reset_index(drop=True).fillna("\x00").astype(str)).all(axis=1)
        dup = dup[same.to_numpy()]
    is_dup = np.zeros(n, dtype=bool)
    is_dup[dup] = True
    reject(is_dup, "duplicate_row", lambda rows: [f"exact duplicate of row {first[i] + 1}" for i in rows])

    # 3. IDs and classes
    counties = None
    if "county_code" in locator.attributes:
        counties = set(locator.values("county_code"))
    given = std["GLBJBSM"].astype("str")  # Arrow strings: no Python object per ID
    has_id = given.notna().to_numpy()
    if has_id.any():
        with_id = np.flatnonzero(has_id)
        problems = np.asarray(table.id_problems(pa.array(given.iloc[with_id], type=pa.string()),
                                                counties=counties), dtype=object)
        bad = problems != ""
        text = {i: f"ID {given.iloc[i]}: {problem}" for i, problem in zip(with_id[bad].tolist(), problems[bad])}
        is_bad = np.zeros(n, dtype=bool)
        is_bad[with_id[bad]] = True
        reject(is_bad, "bad_id", lambda rows: [text[i] for i in rows])
    class_code, stated, by_name = _class_codes(frame, std, mapping, table, has_id)
    known = class_code.isin(set(table.classes)).to_numpy()
    # Rows of no class, none asked for: a column the classes are in, for the hint to name.
    class_column = (_class_column(frame, table) if mapping.class_code is None and mapping.class_field is None
                    and not known.all() else None)
    unmapped = functools.cache(lambda value: _unmapped(value, mapping, table))  # a value repeats down the file
    reject(~known, "unknown_class", lambda rows: [
        unmapped(class_code.iloc[i]) if mapping.class_field and pd.notna(class_code.iloc[i])
        and class_code.iloc[i] and not str(class_code.iloc[i]).isdigit()
        else table.class_problem(class_code.iloc[i]) if pd.notna(class_code.iloc[i]) and class_code.iloc[i]
        else f"no class: its {mapping.class_field} is blank" if mapping.class_field
        else "no class (give --class or --class-field, or class or class_field in a --mapping file)" for i in rows])
    # A row whose class column names another class than its ID: a class changed in an
    # exported copy, which the ID (its class is part of it) would silently undo.
    other = np.zeros(n, dtype=bool)
    if stated is not None and has_id.any():
        other = has_id & stated.isin(set(table.classes)).to_numpy() & (stated != class_code).to_numpy()
    reject(other, "class_mismatch", lambda rows, ids=given: [
        f"{mapping.class_field} {stated.iloc[i]} ({table.classes[stated.iloc[i]].name}) is not the class of ID "
        f"{ids.iloc[i]}, {class_code.iloc[i]} ({table.classes[class_code.iloc[i]].name}): a component's class "
        f"is part of its ID. To reclassify it, mark this row removed (GLBJZT 移除) and add one without an ID, "
        f"{mapping.class_field} {stated.iloc[i]}, for the component it becomes" for i in rows])
    # The same ID on rows that differ: which is the component? None of them is taken,
    # so neither a new component nor one in the catalogue takes the wrong row's place.
    if has_id.any():
        live = np.flatnonzero((reason == "") & has_id)
        ids = given.iloc[live].reset_index(drop=True)
        twice = ids.duplicated(keep=False).to_numpy()
        if twice.any():
            rows_of = pd.Series(numbers[live[twice]]).groupby(ids[twice].to_numpy()).agg(list)
            on = {i: [r for r in rows_of[given.iloc[i]] if r != numbers[i]] for i in live[twice].tolist()}
            clash = np.zeros(n, dtype=bool)
            clash[live[twice]] = True
            reject(clash, "duplicate_id", lambda rows: [
                f"ID also on row {', '.join(map(str, on[i]))}, with different attributes: "
                "keep the row that is the component, and give the others their own ID (or none, for a new one)"
                for i in rows])

    # 4. outside
    reject((reason == "") & (status == OUTSIDE), "outside",
           f"more than {tolerance:g} m from every cell")

    # 5. components another source holds: an inventory imported again under a new file
    # name would otherwise be added whole beside itself, with no import to undo it.
    twin = _held_elsewhere(catalogue, source, (reason == "") & ~has_id, class_code, lx, ly, key)
    elsewhere = {}
    if (twin >= 0).any():
        held_id, held_source = (catalogue[name].astype(str).to_numpy() for name in ("GLBJBSM", "source"))
        elsewhere = pd.Series(held_source[twin[twin >= 0]]).value_counts().sort_index().to_dict()
        reject(twin >= 0, "already_catalogued", lambda rows: [
            f"component {held_id[twin[i]]} of {held_source[twin[i]]} has this class at this place; "
            + (f"a row of a copy without its ID is a new component: put its ID back ({held_id[twin[i]]}) to update it"
               if copy else f"to update the components of {held_source[twin[i]]} from this file, import it as "
               f"source {held_source[twin[i]]}") for i in rows])

    keep = reason == ""
    # A table's rejects keep its coordinate columns as written ("abc" where x was not a
    # number); a file of geometries gets the x and y of the point it was read as.
    rejected = frame.loc[~keep].copy()
    for name, values in ({"x": x, "y": y} if written is None else written).items():
        rejected[name] = np.asarray(values)[~keep]
    rejects = rejects_table(rejected, numbers[~keep], reason[~keep], detail[~keep])
    if not isinstance(in_crs, str):  # a CRS a .prj can name (not gcj02, bd09): written beside the rejects
        rejects.attrs["crs"] = in_crs

    # Rejected rows are still in the inventory: the components they name (by ID or
    # source key) are not removed from the catalogue. When every row is rejected (a
    # wrong CRS or layout, most likely) no component of the source is.
    listed = None if not keep.any() else (set(given[~keep & has_id].tolist()),
                                          {k for k in key[~keep].tolist() if k is not None})
    counts = pd.Series(reason[~keep]).value_counts().to_dict()
    # Only the kept rows go on. What the checks held is let go first, and the kept
    # columns are taken one at a time: at ten million rows each copy is a gigabyte.
    kept_arrays = [a[keep] for a in (index, status, distance, lx, ly, key)]
    kept_micro = None if micro is None else micro[keep]
    # An exported copy's end dates: a component removed stays removed on that day.
    ended = (yyyymmdd(_clean_text(frame["end_date"].reset_index(drop=True)))[keep].reset_index(drop=True)
             if "end_date" in frame.columns else None)
    del frame, given, x, y, lx, ly, index, status, distance, key, micro
    _, kept_status, _, kept_x, kept_y, _ = kept_arrays
    assigned = {"assigned_inside": int((kept_status == 0).sum()),
                "assigned_nearest": int((kept_status == NEAREST).sum()), "ids_given": int(has_id[keep].sum())}
    if kept_micro is not None:  # a layout with micro-grids: how many components one holds
        assigned["assigned_micro"] = int((kept_micro >= 0).sum())
    shared_positions = int(pd.DataFrame({"x": kept_x, "y": kept_y}).duplicated(keep=False).sum())
    kept = pd.DataFrame({name: std.pop(name)[keep].reset_index(drop=True) for name in list(std.columns)})
    del std
    # Which rows name their department, where no table routes them: a held one may be kept (see _merge).
    named = None if routes is not None else kept[list(DEPARTMENT_FIELDS)].notna().to_numpy()
    said_cells = kept["SZDYWGBSM"].astype(object).to_numpy() if copy else None
    rows = _catalogue_rows(kept, class_code[keep].reset_index(drop=True), table, locator, units,
                           *kept_arrays, numbers[keep], source, today, micro=kept_micro, ended=ended)
    del kept, kept_arrays, kept_micro
    # A copy's cell typed over (or a layout recut since the export): the cell is where it lies.
    other_cell = [] if said_cells is None else np.flatnonzero(
        pd.notna(said_cells) & (said_cells.astype(str) != rows["SZDYWGBSM"].astype(str).to_numpy()))
    departments = {}
    if routes is not None:
        rows["ZGBMDM"], rows["ZGBMMC"], departments = _routed(rows, routes, table)
    if crs is None and not isinstance(in_crs, str) and in_crs.to_epsg() == 4326:
        _refuse_offset_copy(rows, catalogue, inventory)
    merged, changes = _merge(catalogue, rows, source, table, today, listed, partial=where is not None or copy,
                             copy=copy, named=named, issued=_issued_of(catalogue))
    merged.attrs[COMPONENT_RECORD] = highest_component_ids(merged["GLBJBSM"], before=_issued_of(catalogue))
    if changes["kept_rejected"]:
        log.warning("%s: %s components of this source are kept as they were: %s", source,
                    f"{changes['kept_rejected']:,}", "every row was rejected" if listed is None
                    else "their rows were rejected this time (see the rejects)")
    summary = {
        "source": source, "layer": layer_read, "rows": n, "imported": int(keep.sum()), "rejected": int((~keep).sum()),
        "rejected_by_reason": {r: int(counts.get(r, 0)) for r in REJECT_REASONS if counts.get(r)},
        **assigned, **changes, "shared_positions": shared_positions, "already_catalogued_from": elsewhere,
        "tolerance_m": tolerance, "scheme": table.scheme, "catalogue_copy": copy, "departments": departments,
        "cells_not_taken": int(len(other_cell)),
    }
    if n and not keep.any():  # the one reason, as the rejects file gives it, says what to fix in the file
        summary["first_reject"] = [int(numbers[0]), str(reason[0]), str(detail[0])]
    if offset:
        summary["offset_hint"] = offset
    if by_name:  # value → [code, name, the scheme whose name it is], for the summary to show
        summary["classes_by_name"] = {value: [c.code, c.name, label] for value, (c, label) in by_name.items()}
    if class_column:
        summary["class_column"] = class_column
    if len(other_cell):
        i = other_cell[0]
        summary["cells_not_taken_first"] = [int(numbers[keep][i]), str(said_cells[i]), str(rows["SZDYWGBSM"].iat[i])]
    assert summary["imported"] + summary["rejected"] == n
    return ImportResult(merged, rejects, summary)


def _first_rows(values):
    """For each position, the first position holding an equal value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    first = np.full(len(uniques), len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first[codes]


def _refuse_offset_copy(rows, catalogue, inventory):
    """Refuse ``rows`` read as EPSG:4326 (unsaid) when every one the catalogue holds
    by ID lies where GCJ-02 or BD-09 puts it: a copy exported for Amap (``gridkit
    export --crs gcj02``) read back without ``--crs gcj02`` would move every
    component 100–700 m, in place. ``--crs EPSG:4326`` says the file is WGS84 (the
    catalogue the one read wrong), and skips this."""
    if catalogue is None or not len(catalogue) or not rows["GLBJBSM"].notna().any():
        return
    held = pd.Index(catalogue["GLBJBSM"].astype(object)).get_indexer(rows["GLBJBSM"].astype(object))
    if not (held >= 0).any():
        return
    old = catalogue.geometry.values[held[held >= 0]]
    new = rows.geometry.values[held >= 0]
    moved = shapely.distance(old, new)
    if not (moved >= 1.0).all():  # what an update looks like: some in place
        return
    to_lonlat = pyproj.Transformer.from_crs(rows.crs, 4326, always_xy=True)
    back = pyproj.Transformer.from_crs(4326, rows.crs, always_xy=True)
    lon, lat = to_lonlat.transform(shapely.get_x(old), shapely.get_y(old))
    for name, label, convert in (("gcj02", "GCJ-02", coords.wgs84_to_gcj02), ("bd09", "BD-09", coords.wgs84_to_bd09)):
        shifted = shapely.points(*back.transform(*convert(lon, lat)))
        if (shapely.distance(shifted, new) < 1.0).all():
            raise InputError(
                f"{inventory}: the {len(new):,} of its components the catalogue holds lie where {label} puts them, "
                f"{np.median(moved):.0f} m from their places: {label} read as EPSG:4326, which would move "
                f"every one. Import it with --crs {name} (or --crs EPSG:4326 if it really is WGS84, and the catalogue "
                "was read wrong)")


#: Columns only gridkit's export writes: a file with three of them is a copy of a catalogue.
_EXPORT_MARKS = ("class_code", "class_name", "county_code", "source_row", "assign_status")


def _refuse_copy_without_sources(named, copy, what):
    """Refuse a copy of a catalogue (``named``: its columns, as standard fields) whose
    ``source`` or ``source_key`` column was deleted: imported so, every component it
    holds would move to the copy's own source (whose next import removes those it
    lacks), and importing the copy again could not move them back."""
    if copy or "GLBJBSM" not in named or sum(mark in named for mark in _EXPORT_MARKS) < 3:
        return
    lost = [c for c in COPY_COLUMNS if c not in named]
    columns = (f"column {lost[0]}, which keeps" if len(lost) == 1 else f"columns {' and '.join(lost)}, which keep")
    raise InputError(f"{what}: a copy of a catalogue (gridkit export: it has "
                     f"{', '.join(m for m in _EXPORT_MARKS if m in named)}) without its {columns} each "
                     "component's own source: imported so, every component it holds would move to this file's "
                     f"source. Put {'it' if len(lost) == 1 else 'them'} back from the export, then import it")


def _held_elsewhere(catalogue, source, rows, class_code, x, y, key):
    """For each row, the catalogue row of a component in use from another source
    with its class at its place (to the centimetre), else -1. Only ``rows`` are
    looked at, and not those their own source holds already (by key, or by class
    and place): those are updates."""
    out = np.full(len(x), -1, dtype=np.int64)
    if catalogue is None or not len(catalogue) or not rows.any():
        return out
    used = in_use(catalogue)
    theirs = used & (catalogue["source"].astype(str) != source).to_numpy()
    if not theirs.any():
        return out

    def places(codes, xs, ys):
        return pd.MultiIndex.from_arrays([np.asarray(codes, dtype=object), np.round(np.asarray(xs) * 100),
                                          np.round(np.asarray(ys) * 100)])

    def held(mask):
        at = np.flatnonzero(mask)
        points = catalogue.geometry.values[at]
        index = places(catalogue["class_code"].astype(str).to_numpy()[at], shapely.get_x(points),
                       shapely.get_y(points))
        first = ~index.duplicated()
        return index[first], at[first]

    look = np.flatnonzero(rows)
    wanted = places(class_code.astype(str).to_numpy()[look], x[look], y[look])
    index, at = held(theirs)
    found = index.get_indexer(wanted)
    mine = used & ~theirs
    if mine.any() and (found >= 0).any():
        own_index, _ = held(mine)
        own_keys = catalogue.loc[mine, "source_key"].astype(str).to_numpy()
        updates = (own_index.get_indexer(wanted) >= 0) | np.isin(key[look].astype(str), own_keys)
        found[updates] = -1
    out[look[found >= 0]] = at[found[found >= 0]]
    return out


def _source_keys(frame, mapping, source):
    if mapping.source_key:
        if mapping.source_key not in frame.columns:
            raise InputError(f"mapping: source_key {mapping.source_key!r} is not a column of {source}"
                             f"{near_column(mapping.source_key, frame.columns)} "
                             f"(it has {list(frame.columns)})")
        values = "k:" + frame[mapping.source_key].astype(str)
        repeat = values.groupby(values).cumcount()
        # A key that repeats within the inventory is numbered so each row keeps its own identity.
        values = values.where(repeat == 0, values + "#" + repeat.astype(str))
        return values.to_numpy(dtype=object)
    return np.full(len(frame), None, dtype=object)


def _unmapped(value, mapping, table):
    """Why a row whose ``class_field`` says ``value``, no code, has no class: the
    mapping's [classes] lacks it. Names what it maps, and the classes near it by name."""
    mapped = list(mapping.classes)
    near = table.near_names(value)
    line = f"\"{value}\" = \"{near[0].code if len(near) == 1 else 'CODE'}\""
    elsewhere = table.named_elsewhere(value)
    held = (f"the [classes] of {mapping.origin}" if mapping.origin else "the mapping's classes" if mapped else "")
    return (f"{mapping.class_field} {value!r} is no class code or name" + (f", nor in {held}" if held else "")
            + (f": {elsewhere}" if elsewhere else "")
            + (f" (it maps {', '.join(mapped[:5])}{' …' if len(mapped) > 5 else ''})" if mapped else "")
            + (f": add it there, {line}" if held else f": map it in a --mapping file, [classes] {line}")
            + (f" (classes near it by name: {table.listed(near)})" if near else
               " (`gridkit components classes WORD` finds a code)"))


def _class_column(frame, table, least=0.5):
    """``[column, [its first values that name a class]]`` for the column of ``frame``
    whose distinct values (the first 1,000) most often are a class's code or name, when
    at least ``least`` of them are; else ``None``."""
    best = None
    for column in frame.columns:
        if column == "geometry" or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = _clean_text(frame[column].head(100_000)).dropna().unique()[:1000].tolist()
        classes = [v for v in values if v in table or table.by_name(v)]
        if values and len(classes) >= least * len(values) and (best is None or len(classes) / len(values) > best[0]):
            best = (len(classes) / len(values), [str(column), classes[:3]])
    return None if best is None else best[1]


def _class_codes(frame, std, mapping, table, has_id):
    """Each row's class (from its ID where it has one), the class its ``class_field``
    column states (``None`` without one), and the values of that column read as class
    names (:meth:`ClassTable.by_name`: 路灯, 上水井盖), each → its code."""
    n = len(frame)
    out = pd.Series("", index=range(n), dtype="str")
    named = {}
    if mapping.class_field:
        if mapping.class_field not in frame.columns:
            said = (f"the class column {mapping.class_field!r} (class_field in {mapping.origin}, or --class-field)"
                    if mapping.origin else f"--class-field {mapping.class_field!r}")
            found = _class_column(frame, table)  # the column the classes are in, by its values
            raise InputError(f"{said} is not a column"
                             f"{near_column(mapping.class_field, frame.columns)} "
                             f"(the columns are {list(frame.columns)})"
                             + (f"; {found[0]} names classes ({', '.join(found[1])})" if found else ""))
        column = frame[mapping.class_field].reset_index(drop=True)
        if pd.api.types.is_float_dtype(column) and (column.dropna() % 1 == 0).all():
            column = column.astype("Int64")  # 1.0: a column of whole numbers with blanks, read as floats
        values = half_width_column(_clean_text(column))
        out = values.map(mapping.classes).astype(object).fillna(values)
        # A class's name, where [classes] maps it to no code: the name the standard gives it.
        for value in out[out.notna() & ~out.isin(set(table.classes))].unique().tolist():
            found = table.by_name(value)
            if found:
                named[value] = found
        if named:
            out = out.map({value: c.code for value, (c, _) in named.items()}).fillna(out)
    elif mapping.class_code:
        out = pd.Series(str(mapping.class_code), index=range(n), dtype="str")
    from_id = std["GLBJBSM"].reset_index(drop=True).astype("str").str.slice(6, 6 + table.class_digits)
    return from_id.where(pd.Series(has_id), out), (out if mapping.class_field else None), named


def _category(values, codes):
    """``values[codes]`` as a pandas categorical (missing where ``codes`` < 0).

    For the columns that repeat a few values down ten million rows (names and
    codes of streets, communities, classes, statuses): a small integer per row
    instead of a string per row.
    """
    codes = np.asarray(codes, dtype=np.int64)
    text = np.array(["" if v is None else str(v) for v in values] or [""], dtype=object)
    distinct, inverse = np.unique(text, return_inverse=True)
    mapped = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1) if len(values) else np.full(len(codes), -1)
    return pd.Series(pd.Categorical.from_codes(mapped, categories=pd.Index(distinct, dtype=object)))


def _filled(column, values, codes):
    """``column`` with its missing rows filled from ``values[codes]``.

    A column the inventory lacks (every row missing) becomes a categorical, like the
    codes: ten million copies of a department's name would be 300 MB of text.
    """
    missing = column.isna().to_numpy()
    if not missing.any():
        return column
    if missing.all():
        return _category(values, codes)
    out = column.copy()
    out[missing] = np.array([str(v) for v in values], dtype=object)[np.asarray(codes)[missing]]
    return out


def _by_value(column, function):
    """``function`` applied to each distinct value of a column (missing too), spread back to its rows."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return _category([function(u) for u in uniques], codes)


def _plain(frame):
    """Categorical columns back to strings, for a catalogue about to be edited in place."""
    if frame is None:
        return None
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype("str")
    return frame


def _catalogue_rows(std, class_code, table, locator, units, index, status, distance, lx, ly, key,
                    source_row, source, today, *, micro=None, ended=None):
    """The catalogue's rows for the inventory's kept rows. A row marked removed
    (移除) ends on its ``ended`` date (an exported copy's ``end_date``) or ``today``;
    any other has no end date."""
    n = len(std)
    cols = {name: std[name].reset_index(drop=True) for name in STANDARD_FIELDS}
    cols["GLBJBSM"] = cols["GLBJBSM"].astype("str")  # text even when missing: new IDs are written into it
    for column, name in PLACE_FIELDS.items():
        if name in locator.attributes:
            cols[column] = _category(*reversed(locator.codes(name, index)))
    cls_codes, classes = pd.factorize(class_code)
    cols["class_code"] = _category(classes, cls_codes)
    cols["class_name"] = _category([table.classes[c].name for c in classes], cls_codes)
    cols["GLBJMC"] = _filled(cols["GLBJMC"], [table.classes[c].name for c in classes], cls_codes)
    cols["ZGBMMC"] = _filled(cols["ZGBMMC"], [table.classes[c].suggested_department for c in classes], cls_codes)
    state = cols["GLBJZT"]
    cols["GLBJZT"] = _by_value(state, lambda v: "完好" if pd.isna(v) else STATUS_VALUES.get(str(v).strip().lower(), v))
    cols["CSRQ"] = _filled(cols["CSRQ"], [today], np.zeros(n, dtype=np.int64))
    cols["SJLY"] = _filled(cols["SJLY"], [source], np.zeros(n, dtype=np.int64))
    removed = (cols["GLBJZT"].astype(object) == "移除").to_numpy()
    cols["end_date"] = _category([], np.full(n, -1))
    if removed.any():
        given = np.full(n, None, dtype=object) if ended is None else ended.to_numpy(dtype=object)
        days = np.where(pd.isna(given), today, given)
        cols["end_date"] = pd.Series(np.where(removed, days, None), dtype=object)
    cols["county_code"] = (_category(*reversed(locator.codes("county_code", index)))
                           if "county_code" in locator.attributes
                           else cols["SZDYWGBSM"].astype("str").str.slice(0, 6))
    cols["micro_id"] = _micro_ids(locator, micro, n)
    cols["source"] = _category([source], np.zeros(n))
    key = np.asarray(key, dtype=object)
    missing = np.flatnonzero(pd.isna(key) & cols["GLBJBSM"].isna().to_numpy())
    if len(missing):  # class + position to the centimetre, numbered within repeats
        base = pd.Series([f"p:{class_code.iloc[i]}:{lx[i]:.2f}:{ly[i]:.2f}" for i in missing])
        nth = base.groupby(base).cumcount().astype(str)
        key[missing] = (base + ":" + nth).to_numpy(dtype=object)
    cols["source_key"] = pd.Series(key, dtype="str")
    cols["source_row"] = np.asarray(source_row, dtype=np.int64)
    cols["assign_status"] = _category(STATUS_NAMES, status)
    cols["assign_distance_m"] = np.round(distance, 3)
    return gpd.GeoDataFrame({name: cols[name] for name in CATALOGUE_COLUMNS},
                            geometry=shapely.points(lx, ly), crs=locator.crs)


def _micro_ids(locator, micro, n):
    """The IDs of the micro-grids at rows ``micro`` of ``locator.micro`` (-1: none)
    as a categorical; ``n`` missing values, a byte each, when there are none."""
    if micro is None or locator.micro is None:
        return _category([], np.full(n, -1))
    return _category(*reversed(locator.micro.codes("grid_id", micro)))


def _comparable(frame):
    return pd.DataFrame({c: np.where(frame[c].isna().to_numpy(), "\x00", frame[c].astype(str).to_numpy())
                         for c in _COMPARED})


def _differs(old, fresh):
    """Whether each fresh row changes its component: an attribute, or its place or its
    distance from the layout by :data:`MOVED_M` or more (a point on the layout's edge,
    inside one time, is 'nearest' at 0.4 mm another; its cell is compared as an
    attribute)."""
    moved = ~(shapely.distance(old.geometry.values, fresh.geometry.values) < MOVED_M)
    was, now = (pd.to_numeric(f["assign_distance_m"]).to_numpy(dtype=float) for f in (old, fresh))
    nearer = ~(np.abs(was - now) < MOVED_M) & ~(np.isnan(was) & np.isnan(now))
    return (_comparable(old) != _comparable(fresh)).any(axis=1).to_numpy() | moved | nearer


def _merge(catalogue, rows, source, table, today, listed=None, *, partial=False, copy=False, named=None,
           issued=None):
    """Sync ``rows`` (one source) into ``catalogue``; returns (catalogue, counts).

    ``listed``: the IDs and source keys of the source's rejected rows, whose
    components are kept as they are rather than removed; ``None`` keeps every
    component of the source (every row was rejected). ``partial``: ``rows`` are
    the part of the source a filter selected, so none of the source's other
    components is removed (they are counted as ``kept_unselected``). ``copy``:
    ``rows`` come from a copy of the catalogue (:data:`COPY_COLUMNS`), so a
    component they hold keeps its own source and source key. ``issued``: the
    highest sequences issued before (:data:`COMPONENT_RECORD`); new IDs follow
    them. ``named``: whether each row gave a department code and a name (two
    bools per row), or ``None`` (a routing table filled them). A row with no code
    keeps the held department when it names the same one, or none while its
    class and cell are the same.
    """
    if catalogue is None or not len(catalogue):
        catalogue = rows.iloc[:0].copy()
    catalogue = _plain(_with_every_column(catalogue.reset_index(drop=True)))
    # Identity: the given ID, else the source key within this source.
    given = rows["GLBJBSM"].notna().to_numpy()
    if len(catalogue):
        match = pd.Index(catalogue["GLBJBSM"].astype(object)).get_indexer(rows["GLBJBSM"].astype(object))
    else:  # a first import: nothing to match
        match = np.full(len(rows), -1, dtype=np.int64)
    if len(catalogue) and (~given).any():
        held_keys = catalogue["source"].astype(str) + "\x1f" + catalogue["source_key"].astype(str)
        first = ~held_keys.duplicated().to_numpy()
        keys = source + "\x1f" + rows.loc[~given, "source_key"].astype(str)
        found = pd.Index(held_keys[first]).get_indexer(keys)
        match[~given] = np.append(np.flatnonzero(first), -1)[found]
    match = match.astype(np.int64)
    # New IDs for unmatched rows without one: next sequence after everything ever held,
    # and after the IDs of the rejected rows, which are the file's once they are put right.
    new = (match < 0) & ~given
    if new.any():
        prefix = (rows["county_code"].astype("str") + rows["class_code"].astype("str")).astype(object)[new]
        rejected = pd.Series(sorted(listed[0]) if listed else [], dtype=object)
        rows.loc[new, "GLBJBSM"] = _next_ids(prefix, highest_component_ids(
            pd.concat([catalogue["GLBJBSM"], rows.loc[given, "GLBJBSM"], rejected]), before=issued))
    matched = match >= 0
    updated = unchanged = 0
    revived = []  # (ID, end date) of the components held removed that the rows bring back into use
    taken = {}  # the components, by their source before, that the rows' IDs take into this one
    catalogue = catalogue.copy()
    if matched.any():
        old = catalogue.loc[match[matched]].reset_index(drop=True)
        fresh = rows.loc[matched].reset_index(drop=True)
        fresh["GLBJBSM"] = old["GLBJBSM"]
        # The survey date is the first one, except where it was no real day and now is,
        # or was put right in a copy of the catalogue; a change date that was no real
        # day, or before the survey date, becomes today's.
        surveyed = real_dates(fresh["CSRQ"])
        typed = (surveyed & (fresh["CSRQ"].astype(str) != old["CSRQ"].astype(str)).to_numpy() if copy
                 else np.zeros(len(fresh), dtype=bool))
        repaired = ~real_dates(old["CSRQ"]) & surveyed
        fresh["CSRQ"] = np.where(repaired | typed, fresh["CSRQ"].to_numpy(dtype=object),
                                 old["CSRQ"].to_numpy(dtype=object))
        change = old["BGRQ"].astype(object)
        before = (change.astype(str) < fresh["CSRQ"].astype(str)).to_numpy()
        repaired |= change.notna().to_numpy() & (~real_dates(change) | before)
        # A change date typed in a copy, later than the one held (an older copy's is
        # not), is a change: on that day, or today when before the survey date.
        stated = np.zeros(len(fresh), dtype=bool)
        held_by = old["source"].astype(str)
        taken = {} if copy else held_by[held_by != source].value_counts().sort_index().to_dict()
        if copy:
            fresh["source"], fresh["source_key"] = old["source"], old["source_key"]
            text = fresh["BGRQ"].astype(str)
            said = real_dates(fresh["BGRQ"]) & (text > change.fillna("").astype(str)).to_numpy()
            stated = said & (text >= fresh["CSRQ"].astype(str)).to_numpy()
            typed |= said
        if named is not None:
            code, name = named[matched].T
            same = (old["class_code"].astype(str) == fresh["class_code"].astype(str)).to_numpy() & (
                old["SZDYWGBSM"].astype(str) == fresh["SZDYWGBSM"].astype(str)).to_numpy()
            held = ~code & np.where(name, (old["ZGBMMC"].astype(str) == fresh["ZGBMMC"].astype(str)).to_numpy(), same)
            for column in DEPARTMENT_FIELDS:
                fresh[column] = np.where(held, old[column].to_numpy(dtype=object), fresh[column].to_numpy(dtype=object))
        differs = _differs(old, fresh) | repaired | typed
        fresh["BGRQ"] = np.where(stated, fresh["BGRQ"].to_numpy(dtype=object),
                                 np.where(differs, today, old["BGRQ"].to_numpy(dtype=object)))
        # An unchanged component keeps the row it was read from; one added in QGIS has none
        # (NaN: float, as read_catalogue reads a column with gaps). By position, as pandas
        # refuses an empty or None-holding object array set into integers.
        kept = np.where(~differs, pd.to_numeric(old["source_row"], errors="coerce").to_numpy(dtype=float),
                        fresh["source_row"].to_numpy(dtype=float))
        fresh["source_row"] = kept if np.isnan(kept).any() else kept.astype(np.int64)
        updated, unchanged = int(differs.sum()), int((~differs).sum())
        back = (old["GLBJZT"].astype(object) == "移除").to_numpy() & (fresh["GLBJZT"].astype(object) != "移除").to_numpy()
        revived = list(zip(old.loc[back, "GLBJBSM"].astype(str), old.loc[back, "end_date"].astype(object)))
        catalogue.loc[match[matched][differs], CATALOGUE_COLUMNS] = fresh.loc[differs, CATALOGUE_COLUMNS].to_numpy()
        catalogue.loc[match[matched][differs], "geometry"] = fresh.geometry.values[differs]
        # An unchanged component still takes its micro-grid (an older catalogue lacks
        # it); skipped when neither side has any, as in every layout without them.
        if fresh["micro_id"].notna().any() or catalogue["micro_id"].notna().any():
            catalogue.loc[match[matched], "micro_id"] = fresh["micro_id"].astype(object).to_numpy()
    # Components of this source that the inventory no longer has: removed, kept.
    seen = np.zeros(len(catalogue), dtype=bool)
    seen[match[matched]] = True
    gone = (catalogue["source"] == source).to_numpy() & ~seen & (catalogue["GLBJZT"] != "移除").to_numpy()
    still = gone.copy() if listed is None else np.zeros(len(catalogue), dtype=bool)
    if listed is not None and gone.any() and (listed[0] or listed[1]):
        held = catalogue.loc[gone]
        still[gone] = (held["GLBJBSM"].astype(str).isin(listed[0])
                       | held["source_key"].astype(str).isin(listed[1])).to_numpy()
    gone &= ~still
    unselected = int(gone.sum()) if partial else 0
    if partial:
        gone[:] = False
    catalogue.loc[gone, "GLBJZT"] = "移除"
    catalogue.loc[gone, "end_date"] = today
    catalogue.loc[gone, "BGRQ"] = today
    added = rows.loc[~matched] if matched.any() else rows
    if not len(catalogue):
        out = added.reset_index(drop=True)
    else:
        out = pd.concat([catalogue, added], ignore_index=True) if len(added) else catalogue
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=rows.crs)
    return out, {"added": int((~matched).sum()), "updated": updated, "unchanged": unchanged,
                 "removed": int(gone.sum()), "revived": len(revived),
                 "revived_first": [revived[0][0], None if pd.isna(revived[0][1]) else str(revived[0][1])]
                 if revived else None,
                 "kept_rejected": int(still.sum()), "kept_unselected": unselected,
                 "taken_from": {str(k): int(v) for k, v in taken.items()}, "catalogue_size": len(out)}


def route_departments(catalogue, routes, *, table=None, every=False, today=None):
    """The catalogue's components in use with their responsible department from a
    routing table: ``(catalogue, summary)``.

    A component with neither ``ZGBMDM`` (the department's credit code) nor
    ``ZGBMMC`` (its name) is routed by its class and place, as
    :meth:`~gridkit.routing.RoutingTable.route` routes a report of that class
    there. A name that is only the class table's suggested department (what an
    import writes for a row with none) counts as no name. A name alone takes the
    code of the table's department of that name, a code alone its name; both are
    kept as they are. ``every``: route every component in use afresh, whatever it
    holds (after the table has changed). Removed components keep theirs. A
    component whose department changes gets ``today`` as its change date
    (``BGRQ``; default today).

    ``summary``: ``in_use``, ``routed``, ``by_name``, ``by_code``, ``changed``,
    ``no_code`` (components left without a code) and ``no_code_by_department``
    (their count by department name: a code in the table for that name fills them).
    """
    table = table or ClassTable("2026")
    today = day_text(today, compact=True, name="today")
    routes.checked()
    out = _plain(_with_every_column(catalogue.copy(deep=False)))  # copy on write: columns copied as changed
    live = np.flatnonzero(in_use(out))
    held = out[[*DEPARTMENT_FIELDS, *PLACE_FIELDS, "class_code", "county_code", "micro_id"]].iloc[live]
    was = [held[name].astype(object).to_numpy() for name in DEPARTMENT_FIELDS]
    if every:
        held = held.assign(ZGBMDM=None, ZGBMMC=None)
    *now, counts = _routed(held, routes, table)
    changed = np.zeros(len(live), dtype=bool)
    for before, after in zip(was, now):
        changed |= np.where(pd.isna(before), "\x00", before) != np.where(pd.isna(after), "\x00", after)
    rows = live[changed]  # positions: a catalogue's index need not be unique
    for name, after in [*zip(DEPARTMENT_FIELDS, now), ("BGRQ", np.full(len(live), today, dtype=object))]:
        column = out[name].to_numpy(dtype=object, copy=True)
        column[rows] = after[changed]
        out[name] = column
    return out, {"in_use": len(live), **counts, "changed": int(changed.sum())}


def _routed(rows, routes, table):
    """The department codes and names of ``rows`` (catalogue rows), filled by
    :meth:`~gridkit.routing.RoutingTable.fill_departments`, and the counts of how.
    The callers refuse a table with errors first (``RoutingTable.checked``): its
    codes would be written into every component it routes."""
    classes = rows["class_code"].astype(object).to_numpy()
    name = rows["ZGBMMC"].astype(object).to_numpy(copy=True)
    suggested = pd.Series(classes).map({c: k.suggested_department for c, k in table.classes.items()}).to_numpy()
    name[(name == suggested) & rows["ZGBMDM"].isna().to_numpy()] = None  # the import's default is no name
    places = pd.DataFrame({place: rows[field].reset_index(drop=True) for field, place in PLACE_FIELDS.items()}
                          | {column: rows[column].reset_index(drop=True) for column in ("county_code", "micro_id")})
    code, name, how = routes.fill_departments(places, classes, rows["ZGBMDM"].to_numpy(), name)
    no_code = _blank(code)
    counts = {word: int((how == word).sum()) for word in ("routed", "by_name", "by_code")}
    by_department = pd.Series(name[no_code], dtype=object).value_counts()
    return code, name, {**counts, "no_code": int(no_code.sum()), "no_code_by_department": {
        str(k): int(v) for k, v in by_department.items()}}


def _refuse_shared_ids(catalogue):
    """Raise :class:`InputError` when components of ``catalogue`` share an ID: an
    import matches its rows by ID, and could not tell which one a row updates."""
    if catalogue is None or not len(catalogue):
        return
    ids = catalogue["GLBJBSM"].dropna().astype(str)
    shared = ids[ids.duplicated(keep=False)]
    if len(shared):
        counts = shared.value_counts(sort=False)
        raise InputError(f"the catalogue holds {len(counts):,} ID(s) on more than one component (e.g. "
                         f"{counts.index[0]} on {counts.iloc[0]}: its attribute table edited by hand?), and an import "
                         "matches its rows by ID; `gridkit components check PACKAGE --fix-ids` gives all but one "
                         "of each a new ID")


def _issued_of(catalogue) -> dict:
    """The record of IDs issued that :func:`read_catalogue` found in the package."""
    return {} if catalogue is None else catalogue.attrs.get(COMPONENT_RECORD, {})


def issue_component_ids(catalogue, *, today=None, classes=None):
    """The catalogue with a new ID for each component whose ID is blank, held by
    another or of another class than its ``class_code``: ``(catalogue, changes)``,
    ``changes`` ``[(old, new), …]`` (old ``None`` when blank), by county and class,
    then the catalogue's order. ``classes``: the class table (a package's, with its
    local classes: :func:`package_classes`); GB/T 47678.5-2026's when not given.

    Of the components sharing an ID one keeps it: one in use before a removed one,
    then the earliest survey date (``CSRQ``), then the first. The others take the
    next sequences of their county and class (``county_code``, ``class_code``) after
    the highest of any ID in the catalogue, removed ones included, or in the record
    :func:`read_catalogue` found (:data:`COMPONENT_RECORD`), so no ID is issued
    twice; and ``today`` as change date (``BGRQ``; default today).

    Edits by hand in QGIS: a component without a county code of 6 digits takes
    its grid's (``SZDYWGBSM``, which ``reassign_catalogue`` fills); a class code
    typed over with another class of the table is a component classed anew, and
    takes a new ID of that class (its class name follows); a blank class code is
    filled from the ID's class. A component whose class code is blank or none of the table's (or
    that has no county) keeps its ID, blank or not: ``components check`` names it.
    """
    today = day_text(today, compact=True, name="today")
    table = classes if classes is not None else ClassTable("2026")
    ids, county, cls, grid = (_text(catalogue, c) for c in ("GLBJBSM", "county_code", "class_code", "SZDYWGBSM"))
    id_class = ids.str[6:6 + table.class_digits].where(ids.str.fullmatch(rf"\d{{{table.id_digits}}}"), "")
    id_class = id_class.where(id_class.isin(set(table.classes)), "")
    from_id = (cls == "") & (id_class != "")  # typed out: the ID says it
    cls = cls.where(~from_id, id_class)
    usable = cls.isin([code for code in cls.unique() if code and table.class_problem(code) is None])
    classed_anew = (usable & (id_class != "") & (cls != id_class)).to_numpy()
    # added by hand, or typed over: its grid's county
    from_grid = ~county.str.fullmatch(r"\d{6}") & grid.str.fullmatch(r"\d{15}")
    county = county.where(~from_grid, grid.str[:6])
    prefix = (county + cls).to_numpy(dtype=object)
    order = pd.DataFrame({"id": ids.to_numpy(), "removed": ~in_use(catalogue),
                          "surveyed": catalogue["CSRQ"].fillna("").astype(str).replace("", "~").to_numpy(),
                          "row": np.arange(len(catalogue))})
    order = order[(order["id"] != "") & ~classed_anew]  # an ID of its old class is no longer its own
    keeps = order.sort_values(["id", "removed", "surveyed", "row"]).drop_duplicates("id")["row"]
    need = np.ones(len(catalogue), dtype=bool)
    need[keeps.to_numpy()] = False
    need &= ((county != "") & usable).to_numpy()
    if not need.any() and not from_id.any():
        return catalogue, []
    rows = np.flatnonzero(need)
    rows = rows[np.lexsort((rows, prefix[rows]))]
    new = _next_ids(pd.Series(prefix[rows], dtype=object), highest_component_ids(ids, before=_issued_of(catalogue)))
    out = _plain(catalogue.copy(deep=False))
    renamed = np.flatnonzero(from_id.to_numpy() | classed_anew)
    for name, at, values in (("GLBJBSM", rows, new), ("BGRQ", rows, np.full(len(rows), today, dtype=object)),
                             ("county_code", rows, county.to_numpy(dtype=object)[rows]),
                             ("class_code", renamed, cls.to_numpy(dtype=object)[renamed]),
                             ("class_name", renamed, None)):  # then named as the others of its class
        if not len(at):
            continue
        column = out[name].to_numpy(dtype=object, copy=True)
        column[at] = values
        out[name] = column
    if len(renamed):
        out["class_name"] = _class_names(out["class_code"], out["class_name"], table)
    was = ids.to_numpy()[rows]
    return out, [(old or None, fresh) for old, fresh in zip(was, new)]


# -- the package ----------------------------------------------------------------------
def reassign_catalogue(catalogue, cells, *, micro=None, today=None):
    """The catalogue's components in use assigned to ``cells``, a layout that
    replaces the one they were assigned to (a rebalance: same communities, other
    grids): ``(catalogue, moved)``, ``moved`` the number whose grid changed; their
    change date ``BGRQ`` becomes ``today`` (``YYYYMMDD``, default today).
    ``micro``: the new layout's micro-grids, if it has them; each component's
    ``micro_id`` is then the one holding it (always one of its grid's), and empty
    without them. A change of micro-grid alone is not a change of record: the
    standard's fields name the grid.

    Each component in use (:func:`in_use`) gets the cell holding it, or, if it was
    assigned to the nearest cell from outside the layout, the nearest cell again
    (the layout's outline is the same, so its ``assign_distance_m`` is too); with
    the grid ID (``SZDYWGBSM``), its community and street fields follow the cell.
    IDs, classes and everything else are kept. Removed components keep the grid
    they were in when they were removed: that is their history. Components
    :func:`without_position` keep theirs too: they need their point first.

    Raises :class:`~gridkit.errors.InputError` naming the first component that no
    cell holds or is near: the layouts do not cover the same ground.
    """
    out = catalogue.copy()
    live, locator, index, status, distance, in_micro = _placed(out, cells, micro)
    if not len(live):
        return out, 0
    lost = np.flatnonzero(status == OUTSIDE)
    if len(lost):
        row = live[lost[0]]
        raise InputError(f"component {out['GLBJBSM'].iat[row]} (row {row} of the catalogue) lies in no cell of the "
                         f"layout and near none ({len(lost)} such; {MOVED_OUT}): the layouts do not cover the same "
                         "ground")
    before = out["SZDYWGBSM"].astype(str).to_numpy()[live] if "SZDYWGBSM" in out else None
    for column, name in PLACE_FIELDS.items():
        if name in locator.attributes and column in out:
            codes, values = locator.codes(name, index)
            out[column] = out[column].astype(object)
            out.iloc[live, out.columns.get_loc(column)] = np.asarray(values, dtype=object)[codes]
    out = _with_every_column(out)
    out["micro_id"] = out["micro_id"].astype(object)
    out.iloc[live, out.columns.get_loc("micro_id")] = _micro_ids(locator, in_micro, len(live)).astype(object).to_numpy()
    for column, values in (("assign_status", STATUS_NAMES[status]), ("assign_distance_m", np.round(distance, 3))):
        if column in out:
            out[column] = out[column].astype(object if column == "assign_status" else float)
            out.iloc[live, out.columns.get_loc(column)] = values
    if before is None:
        return out, 0
    changed = live[out["SZDYWGBSM"].astype(str).to_numpy()[live] != before]
    if "BGRQ" in out:
        out["BGRQ"] = out["BGRQ"].astype(object)
        out.iloc[changed, out.columns.get_loc("BGRQ")] = day_text(today, compact=True, name="today")
    return out, len(changed)


def _placed(catalogue, cells, micro=None):
    """Where the components :func:`in_use` with a position (not
    :func:`without_position`) lie in ``cells`` and their
    ``micro`` grids: ``(live, locator, index, status, distance, in_micro)``, ``live``
    their rows, the rest :meth:`~gridkit.locator.Locator.cell_index`'s answers. A
    component assigned to the nearest cell from outside the layout is looked for
    as far out as the farthest such was (its ``assign_distance_m``)."""
    live = np.flatnonzero(in_use(catalogue) & ~without_position(catalogue))
    if not len(live):
        return live, None, None, None, None, None
    points = catalogue.geometry.values[live]
    reach = pd.to_numeric(catalogue["assign_distance_m"].iloc[live], errors="coerce").max() \
        if "assign_distance_m" in catalogue else 0.0
    locator = Locator(cells.to_crs(catalogue.crs), tolerance=float(np.nan_to_num(reach)) + 0.01, micro=micro)
    return live, locator, *locator.cell_index(shapely.get_x(points), shapely.get_y(points), micro=True)


#: What a component in use outside the layout, and near no cell, asks of the user.
MOVED_OUT = "moved out of the layout in QGIS? move it back, or mark it removed (GLBJZT 移除)"


def in_use(catalogue) -> np.ndarray:
    """Which components are in use: neither removed by an import (an ``end_date``)
    nor by hand (status ``GLBJZT`` 移除 typed in QGIS, the standard's word for it).

    >>> in_use(pd.DataFrame({"GLBJZT": ["完好", "移除", "完好"], "end_date": [None, None, "20261201"]}))
    array([ True, False, False])
    """
    used = np.ones(len(catalogue), dtype=bool)
    if "end_date" in catalogue:
        used &= catalogue["end_date"].isna().to_numpy()
    if "GLBJZT" in catalogue:
        used &= (catalogue["GLBJZT"].astype(object) != "移除").to_numpy()
    return used


def without_position(catalogue) -> np.ndarray:
    """Which components have no position: their point deleted in QGIS, or a row
    added in the attribute table without one (no geometry, an empty one, or not
    finite coordinates). No cell holds them: :func:`misplaced_components` and
    :func:`reassign_catalogue` leave them out, ``gridkit check`` and
    :func:`~gridkit.conformance.field_problems` name them."""
    points = catalogue.geometry.values
    return ~(np.isfinite(shapely.get_x(points)) & np.isfinite(shapely.get_y(points)))


def misplaced_components(catalogue, cells, *, micro=None) -> pd.DataFrame:
    """The components in use whose cell (``SZDYWGBSM``) or micro-grid (``micro_id``)
    in the catalogue is not the one of ``cells`` (and ``micro``) holding them now:
    after the cells were edited by hand, say (those :func:`without_position`
    are not placed, nor listed). One row each: ``row`` (in the
    catalogue), ``GLBJBSM``, ``grid_id`` and ``micro_id`` as the catalogue says, and
    ``grid_now`` and ``micro_now`` as the layout does (``None``: no cell holds it,
    nor is near). :func:`reassign_catalogue` puts them right; removed components
    keep the grid they were in when they were removed, and are not listed.

    >>> import geopandas as gpd, shapely
    >>> cells = gpd.GeoDataFrame({"grid_id": ["990101900001001", "990101900001002"]},
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=32650)
    >>> catalogue = gpd.GeoDataFrame({"GLBJBSM": ["99010101001000001", "99010101001000002"],
    ...     "SZDYWGBSM": ["990101900001001", "990101900001001"]},
    ...     geometry=[shapely.Point(5, 5), shapely.Point(15, 5)], crs=32650)
    >>> misplaced_components(catalogue, cells)[["GLBJBSM", "grid_id", "grid_now"]].to_dict("records")
    [{'GLBJBSM': '99010101001000002', 'grid_id': '990101900001001', 'grid_now': '990101900001002'}]
    """
    live, locator, index, _, _, in_micro = _placed(catalogue, cells, micro)
    columns = ["row", "GLBJBSM", "grid_id", "micro_id", "grid_now", "micro_now"]
    if not len(live):
        return pd.DataFrame(columns=columns)
    codes, ids = locator.codes("grid_id", index)
    said = pd.DataFrame({"row": live, "GLBJBSM": _text_or_none(catalogue, "GLBJBSM", live),
                         "grid_id": _text_or_none(catalogue, "SZDYWGBSM", live),
                         "micro_id": _text_or_none(catalogue, "micro_id", live),
                         "grid_now": np.asarray(ids, dtype=object)[codes],
                         "micro_now": _micro_ids(locator, in_micro, len(live)).astype(object).to_numpy()})
    said.loc[codes < 0, "grid_now"] = None
    differs = (said["grid_id"].fillna("") != said["grid_now"].fillna("")) | \
        (said["micro_id"].fillna("") != said["micro_now"].fillna(""))
    wrong = said.loc[differs.to_numpy(), columns].reset_index(drop=True)
    for column in columns[1:]:  # text, None where there is none (pandas would make it NaN)
        wrong[column] = wrong[column].astype(object).where(wrong[column].notna(), None)
    return wrong


def components_near_edge(catalogue, locator, within, *, sources=None) -> pd.DataFrame:
    """The components in use (of ``sources``, or every one) that lie in a cell and
    within ``within`` metres of another: surveyed to ±``within`` m (a handheld GPS's
    5–10 m, accuracy class C's 10 m), each could lie in that other cell, so they are
    the ones to look at on the ground before the catalogue goes to the platform. A
    cell holding the same grid ID (split by hand) is not another. One row each, in
    catalogue order: ``row`` (in the catalogue), ``GLBJBSM``, ``class_code``,
    ``grid_id`` (the cell it lies in), ``near_grid_id``, ``near_m``, ``near_across``
    (cell, community, street or district: the highest level at which the two cells
    differ), ``source``, ``source_row``, and its ``lon`` and ``lat`` (WGS84) to find it.
    Those assigned to the nearest cell from outside the layout are not listed."""
    from .batch import NEAR_ACROSS, PREFIX, _near_columns
    from .locator import _transformer

    used = in_use(catalogue) & ~without_position(catalogue)
    if sources is not None:
        used &= catalogue["source"].isin(list(sources)).to_numpy()
    live = np.flatnonzero(used)
    points = catalogue.geometry.values[live]
    x, y = shapely.get_x(points), shapely.get_y(points)
    index = locator.cell_index(x, y, crs=catalogue.crs, tolerance=0)[0]
    near, near_m = locator.near_edge(x, y, index, within, crs=catalogue.crs)
    close = np.flatnonzero(near >= 0)
    columns = _near_columns(locator, index[close], near[close], near_m[close])
    lon, lat = _transformer(catalogue.crs, "EPSG:4326").transform(x[close], y[close])  # this thread's, made once
    rows = live[close]
    codes, ids = locator.codes("grid_id", index[close])
    return pd.DataFrame({
        "row": rows, "GLBJBSM": _text_or_none(catalogue, "GLBJBSM", rows),
        "class_code": _text_or_none(catalogue, "class_code", rows),
        "grid_id": np.asarray(ids, dtype=object)[codes],
        "near_grid_id": columns[PREFIX + "near_grid_id"].astype(object),
        "near_m": np.round(columns[PREFIX + "near_m"], 2),
        "near_across": pd.Categorical(columns[PREFIX + "near_across"], categories=NEAR_ACROSS),
        "source": _text_or_none(catalogue, "source", rows),
        "source_row": catalogue["source_row"].to_numpy()[rows] if "source_row" in catalogue else None,
        "lon": np.round(lon, 7), "lat": np.round(lat, 7)})


def _text_or_none(catalogue, column, rows):
    """``catalogue[column]`` at ``rows`` as text, ``None`` where blank or missing."""
    if column not in catalogue:
        return np.full(len(rows), None, dtype=object)
    values = catalogue[column].iloc[rows]
    text = values.astype(object).where(values.notna(), None).to_numpy()
    return np.array([None if v is None or str(v).strip() == "" else str(v) for v in text], dtype=object)


def read_catalogue(package, *, where=None):
    """The ``components`` layer of a grid package (its rows matching the SQL
    ``where``, when given), or ``None`` when it has none; an error naming the
    file when it is no grid package. The frame is in the package's CRS in metres
    (its metadata's, else the cells'), whatever CRS the layer was saved in
    (:func:`write_catalogue` writes it so)."""
    if "components" not in _package_layers(Path(package)):
        return None
    # Through Arrow: the same frame, about 4× faster (167,217 components: 0.4 s, not 1.6 s).
    # Whole numbers stay exact with blanks among them (not floats: 17 digits are more
    # than a float holds), dates come as dates: see _as_catalogue_text.
    frame = _with_every_column(pyogrio.read_dataframe(
        package, layer="components", where=where, use_arrow=True,
        arrow_to_pandas_kwargs={"date_as_object": False, "types_mapper": _EXACT_INTEGERS.get}))
    meta = read_metadata(package)
    layout = _metric_crs(package, meta)
    if layout is not None and (frame.crs is None or not frame.crs.equals(layout)):
        # The layer saved over in QGIS in another CRS (to share it in degrees, say):
        # back in the layout's, so that rows added or compared are in one CRS.
        frame = frame.set_crs(layout) if frame.crs is None else frame.to_crs(layout)
    if "source_row" in frame and isinstance(frame["source_row"].dtype, pd.Int64Dtype):
        frame["source_row"] = frame["source_row"].astype("float64" if frame["source_row"].hasnans else "int64")
    frame = _as_catalogue_text(frame, package, SCHEMES[meta.get("component_scheme") or "2026"][0])
    for column in _TEXT_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame.attrs[COMPONENT_RECORD] = _component_record(meta)
    return frame


#: Arrow's integer types → pandas' nullable integers (read_catalogue).
_EXACT_INTEGERS = {t: pd.Int64Dtype() for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64())}


def _as_catalogue_text(frame, package, class_digits):
    """``frame`` with the text fields of the components layer that were saved over as
    other types (in QGIS: IDs and codes as integer fields, a date as a Date) as the
    catalogue's text again: digits (:func:`~gridkit.codes.codes_as_text`; a class
    code's leading zeros back), dates as ``YYYYMMDD``. Without this, the next import
    found every such component changed, and wrote the dates of the others as
    "2026-11-25 00:00:00". A decimal field holding 17-digit IDs has lost their last
    digits: an error names it.

    >>> t = _as_catalogue_text(pd.DataFrame({"class_code": pd.array([2014, None], dtype="Int64"),
    ...                                      "CSRQ": pd.to_datetime(["2026-11-25", None])}), "p.gpkg", 5)
    >>> t["class_code"].tolist(), t["CSRQ"].tolist()
    (['02014', nan], ['20261125', nan])
    """
    for column in _TEXT_COLUMNS:
        problem = rounded_ids(frame, column) if column in frame else ""
        if problem:
            raise InputError(f"{package}: the components layer's {problem}")
    frame = codes_as_text(frame, [c for c in _TEXT_COLUMNS if c != "class_code"])
    if "class_code" in frame and pd.api.types.is_numeric_dtype(frame["class_code"]):
        frame["class_code"] = codes_as_text(frame, ["class_code"])["class_code"].str.zfill(class_digits)
    for column in _TEXT_COLUMNS:
        if column in frame and pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y%m%d")
    return frame


#: The catalogue's columns of text (the others: the source row, the distance).
_TEXT_COLUMNS = [c for c in CATALOGUE_COLUMNS if c not in ("source_row", "assign_distance_m")]


def _metric_crs(package, meta):
    """The package's CRS in metres: its metadata's (``crs``), else its cells' when
    projected; ``None`` when neither is (a package from elsewhere: left as read)."""
    crs = pyproj.CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    if crs is None or crs.is_geographic:  # only then is the cells' layer opened
        crs = pyogrio.read_info(package, layer="cells")["crs"]
        crs = pyproj.CRS.from_user_input(crs) if crs else None
    return None if crs is None or crs.is_geographic else crs


def _with_every_column(catalogue):
    """``catalogue`` with the columns a catalogue from an older gridkit lacks
    (``micro_id``), empty; rows are filled on their next import or rebalance."""
    for column in CATALOGUE_COLUMNS:
        if column not in catalogue:
            catalogue[column] = None
    return catalogue


def write_catalogue(package, catalogue, *, metadata=None):
    """Replace the package's ``components`` layer, atomically.

    The package is copied beside itself, the layer and metadata are written into
    the copy, and the copy is renamed over the package only when both are
    complete: a failure leaves the package as it was. The layer goes to GDAL as
    one Arrow table, column by column, without a copy of the frame. The package's
    record of the highest sequences issued (:data:`COMPONENT_RECORD`) is raised to
    the catalogue's, never lowered.
    """
    require_frame(catalogue, "the catalogue", ("GLBJBSM", "SZDYWGBSM", "GLBJZT"),
                  fix="read it with read_catalogue(package); import_components() makes one", one=True)
    if catalogue.crs is None:
        raise InputError("the catalogue has no CRS: give it its package's (catalogue.set_crs(...))")
    batches = _arrow_batches(catalogue)
    held = read_metadata(package)
    record = json.dumps(highest_component_ids(catalogue["GLBJBSM"], before=_component_record(held)))
    with atomic_path(package, overwrite=True) as tmp:
        shutil.copyfile(package, tmp)
        # The copy is private until the rename, so SQLite need not sync as it goes
        # (about a sixth faster); atomic_path syncs the file once, whole, before the rename.
        with gdal_options(**PRIVATE_SQLITE):
            pyogrio.write_arrow(batches, tmp, layer="components", driver="GPKG", geometry_name="geometry",
                                geometry_type="Point", crs=catalogue.crs.to_wkt(), append=False)
        if metadata or held.get(COMPONENT_RECORD) != record:
            values = {**held, **{k: str(v) for k, v in (metadata or {}).items()}, COMPONENT_RECORD: record}
            pyogrio.write_dataframe(metadata_frame(values), tmp, layer="gridkit_metadata", driver="GPKG")
        write_styles(tmp)


#: The metadata key of the highest component sequence ever issued per county and
#: class (``{"11010101037": 12, …}``): a component deleted by hand, not removed, does
#: not give its ID back to the next import.
COMPONENT_RECORD = "component_highest_issued"


#: The metadata key of the local extension classes the catalogue's imports were
#: given (``{"21001": {"name": "共享单车停放区", …}, …}``, as
#: :meth:`~gridkit.classes.ClassTable.local_classes` gives them): the check, the
#: departments and the next import know them without the file.
COMPONENT_CLASSES = "component_local_classes"


def package_classes(package, extensions=None, *, scheme=None, metadata=None) -> ClassTable:
    """The class table of ``package``'s catalogue: its scheme's (``scheme`` when
    given), with the local extension classes its imports were given
    (:data:`COMPONENT_CLASSES`) and ``extensions`` (a TOML file or a dict, as
    :class:`~gridkit.classes.ClassTable` takes them; they win over the recorded
    ones). ``metadata``: the package's, when already read."""
    meta = read_metadata(package) if metadata is None else metadata
    given = ClassTable(scheme or meta.get("component_scheme") or "2026", extensions)  # a bad file is named
    try:
        recorded = json.loads(meta.get(COMPONENT_CLASSES) or "{}")
    except ValueError:
        raise InputError(f"{package}: its metadata row {COMPONENT_CLASSES} is not JSON; delete the row and "
                         "import with --extensions FILE again") from None
    if not recorded:
        return given
    return ClassTable(given.scheme, {**recorded, **given.local_classes()})


def highest_component_ids(ids, *, before=None) -> dict:
    """The highest sequence of ``ids`` (component IDs) per county and class, the
    ID less its last 6 digits, and at least ``before``'s (a package's record);
    IDs not all digits are left out.

    >>> highest_component_ids(["11010101037000004", "11010101037000002", "x"], before={"11010101013": 3})
    {'11010101013': 3, '11010101037': 4}
    """
    ids = pd.Series(ids, dtype=object).dropna().astype(str)
    ids = ids[ids.str.fullmatch(r"\d{7,}")]
    found = ids.str[-SEQUENCE_DIGITS:].astype(int).groupby(ids.str[:-SEQUENCE_DIGITS].to_numpy()).max()
    out = dict(before or {})
    for prefix, sequence in found.items():
        out[str(prefix)] = max(int(sequence), int(out.get(prefix, 0)))
    return dict(sorted(out.items()))


def _next_ids(prefixes, highest):
    """New component IDs for ``prefixes`` (a Series of county + class, in the order
    to issue them): each prefix's next sequences after ``highest[prefix]`` (0 when
    absent), as an object array; :class:`InputError` past 999999."""
    sequence = prefixes.map(highest).fillna(0).astype(np.int64) + prefixes.groupby(prefixes).cumcount() + 1
    if (sequence > 999_999).any():
        raise InputError("a class has run out of sequence numbers (999999) in "
                         + ", ".join(sorted(set(prefixes[sequence > 999_999]))))
    return (prefixes + sequence.astype(str).str.zfill(SEQUENCE_DIGITS)).to_numpy(dtype=object)


def _component_record(metadata) -> dict:
    """A package's :data:`COMPONENT_RECORD` ({} when absent or unreadable)."""
    try:
        record = json.loads(metadata.get(COMPONENT_RECORD) or "{}")
        return {str(k): int(v) for k, v in record.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


_WRITE_BATCH = 500_000


def _arrow_batches(catalogue):
    """The catalogue as a stream of Arrow record batches (text as strings, points as
    WKB), made one batch at a time as GDAL asks, so only one batch is ever expanded."""
    first = _arrow_table(catalogue.iloc[:0])

    def batches():
        for start in range(0, len(catalogue), _WRITE_BATCH):
            yield from _arrow_table(catalogue.iloc[start:start + _WRITE_BATCH]).cast(first.schema).to_batches()

    return pa.RecordBatchReader.from_batches(first.schema, batches())


def _arrow_table(catalogue):
    """The catalogue (or a slice of it) as an Arrow table."""
    columns = {}
    for name in CATALOGUE_COLUMNS:
        values = catalogue[name]
        if name == "source_row":  # none on a component added by hand in QGIS
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            columns[name] = pa.array(numbers, from_pandas=True).cast(pa.int64())
        elif name == "assign_distance_m":
            columns[name] = pa.array(values.to_numpy(dtype=float), from_pandas=True)
        elif values.dtype == object:  # read_catalogue's: text and None
            columns[name] = _text_array(values)
        elif values.dtype != "str" and (not len(values) or values.isna().all()):
            columns[name] = pa.nulls(len(values), pa.string())
        elif isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            columns[name] = pc.take(pa.array(values.cat.categories.astype(str).tolist(), type=pa.string()),
                                    pa.array(codes, mask=codes < 0))
        else:
            columns[name] = _text_array(values)
    columns["geometry"] = _point_wkb(catalogue.geometry.values)
    return pa.table(columns)


def _text_array(values):
    """A text column as an Arrow string array. An object column of text and missing
    values (read_catalogue's) goes to Arrow as it is, in a third of the time of a
    conversion to pandas' text first; anything else (a number) is made text."""
    if values.dtype == object:
        try:
            return pa.array(values.to_numpy(), type=pa.string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass
    text = values if values.dtype == "str" else values.astype("str")
    return pa.array(text, from_pandas=True).cast(pa.string())


def _point_wkb(geoms):
    """Little-endian WKB of points (:func:`gridkit.io.point_wkb`; other geometries through shapely)."""
    xy = shapely.get_coordinates(geoms)
    if len(xy) != len(geoms) or not (shapely.get_type_id(geoms) == 0).all():
        return pa.array(shapely.to_wkb(geoms, output_dimension=2), type=pa.binary())
    return point_wkb(xy[:, 0], xy[:, 1])


#: What ``components stats --by`` groups by → the catalogue's column of it.
STATS_BY = {"cell": "SZDYWGBSM", "micro": "micro_id", "community": "SZSQDM", "street": "SZJDDM",
            "class": "class_code"}
#: The catalogue's column of the names, for the groups that have them.
_STATS_NAMES = {"community": "SZSQMC", "street": "SZJDMC", "class": "class_name"}


def of_class(catalogue, class_code):
    """The components of ``catalogue`` of this class ("01037"), or of this big class
    (its first two digits: "01")."""
    codes = catalogue["class_code"].astype(str)
    return catalogue.loc[(codes.str[:2] if len(str(class_code)) == 2 else codes) == str(class_code)]


def catalogue_stats(catalogue, by="class", areas=None, class_code=None, per_class=False):
    """Counts of components per cell, micro-grid, community, street or class (active
    ones and all). ``areas`` (:func:`layout_areas`): every cell, micro-grid,
    community or street of the layout, those holding no component counted 0, so
    that the table joins to the layer and maps the ones without any.
    ``class_code``: count only the components of this class, or of this big class
    (its first two digits). ``per_class``: a column more for each class, its
    active components in the row, headed by its code and name ("02014 交通信号灯"):
    the census table of components per community, say."""
    require_frame(catalogue, "the catalogue", ("GLBJZT",), fix="read it with read_catalogue(package)", one=True)
    if class_code is not None:
        catalogue = of_class(catalogue, class_code)
    column = STATS_BY.get(by)
    if column is None:
        raise InputError(f"--by {by!r}: use cell, micro, community, street or class")
    if areas is not None:
        require_frame(areas, "the areas", (column,), fix=f"list them with layout_areas(package, {by!r})",
                      geometry=False)
    if by == "micro" and (column not in catalogue or catalogue[column].isna().all()):
        raise InputError("--by micro: no component is in a micro-grid; the layout has none (grid households "
                         "--micro MIN,MAX makes them), or the catalogue was imported before gridkit kept them "
                         "(import it again)")
    frame = pd.DataFrame(catalogue.drop(columns="geometry"))
    frame["active"] = frame["GLBJZT"] != "移除"
    if "class_name" in frame and "class_code" in frame:
        frame["class_name"] = _class_names(frame["class_code"], frame["class_name"])
    name = _STATS_NAMES.get(by)
    keys = [column] + ([name] if name else [])
    out = frame.groupby(keys, dropna=False).agg(components=("active", "sum"), all_rows=("active", "size"),
                                                 removed=("active", lambda s: int((~s).sum())))
    out = out.reset_index()
    if areas is not None and len(areas):
        missing = areas.loc[~areas[column].isin(out[column])]
        out = pd.concat([out, missing.assign(components=0, all_rows=0, removed=0)[out.columns]], ignore_index=True)
    out = out.sort_values(keys).reset_index(drop=True)
    for count in ("components", "all_rows", "removed"):
        out[count] = out[count].astype(int)
    if per_class:
        if by == "class":
            raise InputError("per class: the rows are classes already; count by cell, micro, community or street")
        out = _per_class(out, frame, keys)
    return out


def _class_names(codes, names, table=None):
    """``names`` with the blank ones (a component added by hand in QGIS, its class
    code typed in) filled: as other components of that class are named, else as
    ``table`` (a package's, with its local classes) or the built-in table names it
    (a 4-digit code is legacy CJ/T 214's)."""
    from .classes import class_table

    blank = names.isna() | (names.astype(str).str.strip() == "")
    if not blank.any():
        return names
    held = names[~blank].groupby(codes[~blank]).first()
    built_in = {code: c.name for scheme in ("legacy", "2026") for code, c in class_table(scheme).classes.items()}
    built_in.update({code: c.name for code, c in (table.classes.items() if table is not None else ())})
    fill = codes[blank].map(held)
    fill = fill.where(fill.notna(), codes[blank].astype(str).map(built_in))
    return names.where(~blank, fill)


def _per_class(out, frame, keys):
    """``out`` with a column for each class of ``frame``: its active components per
    row (a class whose components are all removed keeps its column, of zeros)."""
    names = frame.groupby("class_code")["class_name"].first()
    header = {code: f"{code} {name}" if isinstance(name, str) and name else code for code, name in names.items()}
    counts = (frame.loc[frame["active"]].groupby(keys + ["class_code"], dropna=False).size()
              .unstack("class_code", fill_value=0).reindex(columns=sorted(header), fill_value=0)
              .rename(columns=header).reset_index())
    counts.columns.name = None
    out = out.merge(counts, on=keys, how="left", validate="one_to_one")
    classes = [header[code] for code in sorted(header)]
    out[classes] = out[classes].fillna(0).astype(int)
    return out


def layout_areas(package, by):
    """Every cell, micro-grid, community or street of the grid package at ``package``
    (``by`` as in :func:`catalogue_stats`), keyed and named as the catalogue's columns;
    None for ``class``, or micro-grids in a layout without them."""
    column, name = STATS_BY.get(by), _STATS_NAMES.get(by)
    if by in ("cell", "micro"):
        layer, source = ("cells", "grid_id") if by == "cell" else ("micro_grids", "micro_id")
        if layer not in {found for found, _ in pyogrio.list_layers(package)}:
            return None
        table = read_layer(package, layer, columns=[source], geometry=False)
        return table.rename(columns={source: column}).dropna()
    if by in ("community", "street"):
        units = read_layer(package, "units", columns=["level", "code", "name"], geometry=False)
        units = units.loc[units["level"] == by, ["code", "name"]].dropna(subset=["code"])
        return units.rename(columns={"code": column, "name": name})
    return None
