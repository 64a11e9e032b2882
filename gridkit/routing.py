"""Who owns the problem: the routing table, from a class and a place to a department.

The standard makes the responsible department a field of each component, not a
property of its class (``STANDARDS.md`` §4), so the table is configuration a city
owns. It is a TOML file::

    [departments."东城区水务局"]            # the key is how rules name it
    code = "11110101000012345X"           # 18-character unified social credit code
    [departments."东华门街道办事处"]
    code = "11110101000067890Y"
    [departments."{street_name}街道办事处"]  # a name may use {street_name}, {street_code},
    code = ""                             # {community_name}, {county_name} … (a unit
                                          # with no name in the package: its code)

    [territorial]                         # 属地兜底: who answers when no rule does
    "*" = "{street_name}街道办事处"         # the whole city: required
    "110101001" = "东华门街道办事处"         # an area (county 6, street 9, community 12,
                                          # cell 15, micro-grid 17 digits) names its own authority
    [[rule]]
    classes = ["01001", "01002", "01"]    # 5-digit classes, 2-digit big classes, "*"
    department = "东城区水务局"
    [[rule]]                              # an override for one area (or a list of areas)
    area = "110101001001"
    classes = ["04"]
    department = "景山公园管理处"
    note = "景山公园 is its own"          # free text, for the people who keep the table

A key other than these is an error naming it (``areas`` for ``area``), as a
misspelt key ignored would route the whole city by a rule meant for one area.

Class keys: a GB/T 47678.5-2026 class (5 digits: component classes 01–05 and the
"X abnormal" matters that share their codes, matter classes 06–10), a big class
(2 digits), ``"*"`` for every class, and legacy CJ/T 214 event classes as
``"event:0101"`` or ``"event:01"``. Codes handed to :meth:`RoutingTable.route` may
also be an 11-digit matter code, a 17-digit component ID, a legacy 4-digit class or
a 16-digit legacy ID (legacy components route by their 2026 counterpart). A class's
name, in a rule or handed to ``route``, is its code (:func:`named_class`: 路灯,
上水井盖, 暴露垃圾).

Precedence (most specific wins)
-------------------------------
1. The most specific **area** first: micro-grid (17 digits: a household layout's
   ``micro_id``, the grid ID and two digits), cell, then community, street,
   county, then rules without an area (the whole city).
2. Within one area, the most specific **class**: the class, its big class, ``"*"``.
3. Two rules with the same area and class key are a conflict; the first in the
   file is used and ``gridkit route check`` lists it.
4. No rule at all: the territorial authority (属地兜底) of the most specific area
   that names one, ending at ``"*"`` — never nothing.
"""

from __future__ import annotations

import functools
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .classes import (RETIRED_2026, _load_toml, _name_key, _read_rows, class_table, convert_class, lost_leading_zeros,
                      matter_classes)
from .codes import half_width
from .errors import InputError

__all__ = ["RoutingTable", "Route", "class_keys", "Department", "starter_table", "uscc_problem", "uscc_check_character",
           "CheckReport"]

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_AREA_LEVELS = {6: "county", 9: "street", 12: "community", 15: "cell", 17: "micro-grid"}
_PLACEHOLDERS = {"micro_id", "grid_id", "community_code", "community_name", "street_code", "street_name",
                 "county_code", "county_name"}
_AREA_FIELDS = ("micro_id", "grid_id", "community_code", "street_code", "county_code")
#: Where the package has no name for a unit (provisional units, a county nobody
#: named), its code stands in for the name: "990101900街道办事处", not "街道办事处".
_NAME_CODES = {"community_name": "community_code", "street_name": "street_code", "county_name": "county_code"}


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a unified social credit code (GB 32100-2015), or ``None``.

    >>> uscc_problem("91350100M000100Y43") is None
    True
    >>> uscc_problem("91350100M000100Y44")
    'check character is 4, should be 3'
    """
    if len(code) != 18:
        if re.fullmatch(r"[0-9A-Z]{8}-?[0-9X]", code):  # 12345678-9: characters 9–17 of the credit code
            return (f"has {len(code)} characters, not 18: an organisation code (组织机构代码), which the unified "
                    "social credit code replaced (it is its characters 9–17); give the 18-character code")
        if re.fullmatch(r"\d{15}", code):
            return ("has 15 characters, not 18: a business registration number (工商注册号), which the unified "
                    "social credit code replaced in 2015; give the 18-character code")
        return f"has {len(code)} characters, not 18"
    bad = sorted({c for c in code if c not in _USCC_CHARS})
    if bad:
        return f"has characters a credit code never uses ({''.join(bad)}; I, O, S, V, Z are excluded)"
    check = uscc_check_character(code[:17])
    if code[17] != check:
        return f"check character is {code[17]}, should be {check}"
    return None


def uscc_check_character(body: str) -> str:
    """The check character of a unified social credit code's first 17 characters
    (GB 32100-2015: weights 3^i mod 31 over the 31 characters it uses).

    >>> uscc_check_character("91350100M000100Y4")
    '3'
    """
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


@dataclass(frozen=True)
class Department:
    """A department the table can name; ``code`` is ``None`` until the city fills it in."""

    key: str
    code: str | None
    name: str


class Route(NamedTuple):
    """The department that owns a problem, and which rule said so."""

    department_code: str | None
    department_name: str
    rule: str
    territorial: bool


@dataclass
class CheckReport:
    """What ``gridkit route check`` finds; ``errors`` make the table unusable as is."""

    errors: list
    gaps: list
    warnings: list

    def lines(self):
        for kind, items in (("error", self.errors), ("gap", self.gaps), ("warning", self.warnings)):
            for item in items:
                yield f"{kind}: {item}"


class _Rule(NamedTuple):
    area: str
    classes: tuple
    department: str
    where: str


def _known_keys(entry, keys, where):
    """Refuse a key of a routing table's entry that is none of ``keys``, naming
    the nearest (a misspelt key would otherwise be ignored)."""
    import difflib

    for key in entry:
        if key not in keys:
            near = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            raise InputError(f"{where}: unknown key {key!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
                             + f"; it takes {', '.join(keys)}")


def _texts(value, what, example):
    """A rule's ``classes`` or ``area``: one text or a list of them (full-width digits
    read as digits). A number is refused: ``01001`` unquoted is no TOML, and ``1001``
    has lost its leading 0."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputError(f'{what} must be text in quotes, or a list of them ("{example[0]}", ["{example[0]}", '
                         f'"{example[1]}"]), not {value!r}')
    if not values:  # a rule that would match nothing, silently
        raise InputError(f"{what} is an empty list: name at least one (or, for an area, leave the key out for the "
                         "whole city)")
    # Full-width digits typed in a Chinese input method; "01013, 01012" (or 01013、01012)
    # in one pair of quotes is two codes, as no code holds a comma or a space.
    between = " \t\u3000,;、，；"
    return tuple(part for v in values for part in re.split(f"[{between}]+", half_width(v).strip(between)))


#: What a class code is read as: a component's (or a 2026 matter's), or a legacy CJ/T 214 event's.
KINDS = ("component", "event")


def check_kind(kind):
    """An error unless ``kind`` is one of :data:`KINDS`: any other was read as a
    component's, without a word."""
    if kind not in KINDS:
        raise InputError(f"kind {kind!r}: give {' or '.join(map(repr, KINDS))}")


def class_keys(code, kind="component", local=frozenset()):
    """The class keys a code matches, most specific first (without ``"*"``).

    Raises :class:`InputError` for a code that names no class. ``local`` holds
    the codes of local extension classes (and their big classes) that a table
    accepts besides the standard's.

    >>> class_keys("11010106010"), class_keys("0114"), class_keys("0101", "event")
    (['06010', '06'], ['01023', '01'], ['event:0101', 'event:01'])
    """
    check_kind(kind)
    code = half_width(str(code).strip())  # ０１０１３, typed in a Chinese input method's full-width mode
    if kind != "event" and not code.isdigit():
        code = named_class(code) or code  # 路灯, 暴露垃圾: a class's name
    if kind == "event":
        if len(code) != 4 or not code.isdigit():
            raise InputError(f"{code!r} is not a legacy CJ/T 214 event class (4 digits)")
        return [f"event:{code}", f"event:{code[:2]}"]
    if not code.isdigit():
        number = code[:-2] if code.endswith(".0") and code[:-2].isdigit() else None  # 1013.0, as Excel gives it
        if number or not code or any(c.isdigit() for c in code):
            raise InputError(f"{code!r} is not a class code (digits only)"
                             + (f": a number as a spreadsheet writes one{_lost_zero(number)}" if number else "")
                             + _by_name(code))
        elsewhere = class_table("2026").named_elsewhere(code)  # 立杆: CJ/T 214's, which 2026 splits
        raise InputError(f"{code!r} is no class code or name" + (f": {elsewhere}" if elsewhere else "")
                         + _by_name(code))
    if len(code) == 16:
        code = code[6:10]
    if len(code) == 4:
        converted = convert_class(code)
        if converted is None and code not in class_table("legacy").classes:
            raise InputError(f"{code} is no legacy CJ/T 214 class (4 digits){_lost_zero(code)}")
        if converted is None:
            raise InputError(f"legacy class {code} has no GB/T 47678.5-2026 counterpart; route it by a "
                             "rule on its 2026 matter class instead")
        code = converted
    elif len(code) in (11, 17):
        code = code[6:11]
    if len(code) != 5:
        raise InputError(f"{code!r}: a class code has 5 digits (2026), 4 (legacy), or comes inside an "
                         "11-digit matter code or a 16/17-digit component ID")
    if code not in _known_classes() and code not in local and code[:2] not in local:
        raise InputError(f"{code} is no GB/T 47678.5-2026 component or matter class, nor a local class "
                         "the routing table names")
    return [code, code[:2]]


def _lost_zero(digits):
    """'; 01013 (消防设施) with its leading 0 lost? …' when ``digits`` with a 0 before
    them is a 2026 class (Excel reads 01013 as the number 1013), else ''."""
    code = lost_leading_zeros(digits, _known_classes())
    if code is None:
        return ""
    name = class_table("2026").classes[code].name if code in class_table("2026").classes else matter_classes()[code]
    return f"; {code} ({name}) with its leading 0 lost? Excel drops it: keep the column as text"


def named_class(word):
    """The GB/T 47678.5-2026 class code ``word`` names, or None: a component class's
    name as an import reads it (:meth:`ClassTable.by_name`: 路灯, 上水井盖), or a
    matter class's (暴露垃圾 → 06010; 供水井盖异常, the matter of a water-supply cover,
    is 01001 as the cover is: the same key to route by).

    >>> named_class("上水井盖"), named_class("暴露垃圾"), named_class("消防栓")
    ('01001', '06010', None)
    """
    found = class_table("2026").by_name(word)
    return found[0].code if found else _matter_names().get(_name_key(word))


def read_by_name(values):
    """The classes named among ``values`` (a class column): each distinct value that
    is a class's name, not its code, → ``[code, name, whose name]``, a component
    class's name as :meth:`ClassTable.by_name` reads it or a matter class's, for a
    run's summary to say what each name was read as. Codes, and words that name no
    class, are left out.

    >>> read_by_name(["上水井盖", "暴露垃圾", "01001", "上水井盖", "消防栓", None])
    {'上水井盖': ['01001', '供水井盖', 'CJ/T 214'], '暴露垃圾': ['06010', '暴露垃圾', 'GB/T 47678.5-2026']}
    """
    import pandas as pd

    table, found = class_table("2026"), {}
    for value in pd.unique(pd.Series(values, dtype=object)):  # each distinct value once, in order
        word = half_width(value.strip()) if isinstance(value, str) else ""
        if not word or word.isdigit():
            continue
        if named := table.by_name(word):
            found[value] = [named[0].code, named[0].name, named[1]]
        elif code := _matter_names().get(_name_key(word)):
            found[value] = [code, matter_classes()[code], table.label]
    return found


@functools.cache
def _matter_names():
    return {_name_key(name): code for code, name in matter_classes().items()}


def _by_name(word):
    """'; classes near it by name: …' naming the classes ``word`` may mean
    (:meth:`ClassTable.near_names`: 消防栓, the everyday word); else ''."""
    table = class_table("2026")
    near = table.near_names(word)
    return f"; classes near it by name: {table.listed(near)}: give the code" if near else ""


@functools.cache
def _known_classes():
    return frozenset(class_table("2026").classes) | frozenset(matter_classes())


def _areas(place):
    """Area codes of a place, most specific first; a 17-digit micro-grid ID implies
    its grid, and a 15-digit grid ID its units."""
    gid = str(place.get("grid_id") or place.get("micro_id") or "")[:15]
    numbered = len(gid) == 15 and gid.isdigit()
    areas = []
    for field, digits in zip(_AREA_FIELDS, (17, 15, 12, 9, 6)):
        code = place.get(field) or (gid[:digits] if numbered and digits < 17 else None)
        if code and code not in areas:
            areas.append(str(code))
    return areas + [""]


#: A routing table's sections, their TOML types, and how each is written.
_SECTION_FORMS = (
    ("departments", dict, '[departments."供电公司"] with code = "…" (a table per department)'),
    ("territorial", dict, '[territorial] with "*" = "{street_name}街道办事处" (a table of area = department)'),
    ("rule", list, '[[rule]] with classes = […] and department = "…" (an array of tables)'),
)


def _toml_text(value) -> str:
    """``value`` as TOML would show it, short, for a message."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "…"


class RoutingTable:
    """A city's routing table; see the module text for the file and the precedence.

    >>> table = RoutingTable.from_dict({
    ...     "departments": {"水务局": {"code": ""}, "公园": {"code": ""}, "{street_name}街道": {"code": ""}},
    ...     "territorial": {"*": "{street_name}街道"},
    ...     "rule": [{"classes": ["01001"], "department": "水务局"},
    ...              {"area": "110101001001", "classes": ["*"], "department": "公园"}]})
    >>> table.route({"grid_id": "110101001002003", "street_name": "东华门", "street_code": "110101001"}, "01001").department_name
    '水务局'
    >>> table.route({"grid_id": "110101001001003", "street_code": "110101001"}, "01001").department_name
    '公园'
    >>> table.route({"grid_id": "110101001002003", "street_name": "东华门"}, "06010").department_name
    '东华门街道'
    """

    def __init__(self, departments, territorial, rules, *, source="routing table"):
        self.source = source
        self.departments = departments
        self.territorial = territorial
        self.rules = rules
        self._lookup = {}
        self.conflicts = []
        # Local extension classes: 5-digit codes (or 2-digit big classes) in big
        # classes the standard does not use (21 is customary).
        standard_big = {c[:2] for c in _known_classes()}
        self.local = frozenset(key for rule in rules for key in rule.classes
                               if key.isdigit() and len(key) in (2, 5) and key[:2] not in standard_big)
        for rule in rules:
            for key in rule.classes:
                held = self._lookup.setdefault((rule.area, key), rule)
                if held is not rule and held.department != rule.department:
                    self.conflicts.append(f"area {rule.area or '*'} class {key}: {held.where} says "
                                          f"{held.department!r}, {rule.where} says {rule.department!r} "
                                          "(the first is used)")
        # What tells rows apart for route_many: the areas the table names, and the
        # place fields its departments' names use (a unit's code stands in for its name).
        self._named_areas = frozenset(r.area for r in rules if r.area) | frozenset(set(territorial) - {"*"})
        self._name_fields = sorted({field for dept in departments.values() for field in _fields_of(dept.name)})
        missing = sorted(({r.department for r in rules} | set(territorial.values())) - set(departments))
        if missing:
            raise InputError(f"{source}: rules name departments the [departments] table lacks: "
                             f"{', '.join(missing)}; add them (code may stay empty until known)")
        if "*" not in territorial:
            raise InputError(f"{source}: no territorial authority for the whole city; add "
                             '[territorial] "*" = "<department>" so every class has a fallback (属地兜底)')

    def checked(self):
        """This table, when :meth:`check` finds no error; else an :class:`InputError`
        naming the first. A table with errors routes wrongly (a department's credit
        code mistyped, a rule's class unknown and so never matched) or not at all (a
        name with an unknown placeholder): what routes with a table checks it first."""
        errors = self.check().errors
        if len(errors) == 1:
            raise InputError(f"{self.source}: {errors[0]}. Fix the table (`gridkit route check {self.source}` "
                             "checks it), then route with it")
        if errors:
            raise InputError(f"{self.source}: {len(errors)} errors (the first: {errors[0]}); `gridkit route check "
                             f"{self.source}` lists them: fix the table, then route with it")
        return self

    def class_keys(self, code, kind="component"):
        """:func:`class_keys`, accepting this table's local extension classes."""
        return class_keys(code, kind, self.local)

    @classmethod
    def load(cls, path):
        """Read a routing table from a TOML file."""
        return cls.from_dict(_load_toml(path), source=str(path))

    @classmethod
    def from_dict(cls, data, *, source="routing table"):
        unknown = set(data) - {"departments", "territorial", "rule"}
        if unknown:
            raise InputError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}; "
                             "a routing table has [departments], [territorial] and [[rule]]")
        # Each section of its TOML type: `territorial = "x"` or `rule = [1]` were tracebacks.
        for section, kind, form in _SECTION_FORMS:
            held = data.get(section, kind())
            if not isinstance(held, kind) or (section == "rule" and not all(isinstance(e, dict) for e in held)):
                raise InputError(f"{source}: {section} is written {form}, not as {_toml_text(held)}")
        for area, dept in data.get("territorial", {}).items():
            if not isinstance(dept, str):
                raise InputError(f"{source}: [territorial] {area!r} = {_toml_text(dept)}: give the department's "
                                 f"name in quotes, as \"*\" = \"{{street_name}}街道办事处\"")
        departments = {}
        for key, entry in data.get("departments", {}).items():
            if isinstance(entry, str):
                entry = {"code": entry}
            if not isinstance(entry, dict):
                raise InputError(f"{source}: department {key!r} must be a table with a code")
            _known_keys(entry, ("code", "name"), f"{source}: department {key!r}")
            code = str(entry.get("code", "")).strip().upper() or None
            departments[key] = Department(key, code, str(entry.get("name", key)))
        territorial = {str(area): str(dept) for area, dept in data.get("territorial", {}).items()}
        rules = []
        for n, entry in enumerate(data.get("rule", []), start=1):
            where = f"rule {n}"
            # A key misspelt ("areas", "class") was ignored: a rule meant for one area
            # then routed the whole city.
            _known_keys(entry, ("area", "classes", "department", "note"), f"{source}: {where}")
            if "department" not in entry or "classes" not in entry:
                raise InputError(f"{source}: {where} needs 'classes' and 'department'")
            classes = tuple(named_class(c) or c for c in  # 路灯: the code it names
                            _texts(entry["classes"], f"{source}: {where}: classes", ("01001", "02")))
            for area in _texts(entry.get("area", ""), f"{source}: {where}: area", ("110101001", "110101002")):
                rules.append(_Rule(area.strip(), classes, str(entry["department"]), where))
        return cls(departments, territorial, rules, source=source)

    def route(self, location, code, *, kind: str = "component") -> Route:
        """The department for a problem of class ``code`` at ``location``.

        ``location`` is a :class:`~gridkit.locator.Location` or any mapping with
        ``grid_id``, ``community_code``, ``street_code``, ``county_code`` (and the
        names, for departments named by template). ``kind`` is ``"component"``
        (also for 2026 matters) or ``"event"`` for legacy CJ/T 214 event classes.
        """
        place = location._asdict() if hasattr(location, "_asdict") else dict(location)
        return self._resolve(place, self.class_keys(code, kind) + ["*"])

    def _resolve(self, place, keys):
        """:meth:`route` for a place (a dict) and its class's keys, ``"*"`` last."""
        areas = _areas(place)
        for area in areas:
            for key in keys:
                rule = self._lookup.get((area, key))
                if rule is not None:
                    return self._route(rule.department, place, f"{rule.where} (area {area or '*'}, class {key})", False)
        for area in areas:
            dept = self.territorial.get(area or "*")
            if dept is not None:
                return self._route(dept, place, f"territorial authority of {area or '*'}", True)
        raise AssertionError("unreachable: the table always has a territorial '*'")

    def _route(self, key, place, rule, territorial):
        dept = self.departments[key]
        values = {name: place.get(name) or "" for name in _PLACEHOLDERS}
        for name, code in _NAME_CODES.items():
            if not str(values[name]).strip():
                values[name] = values[code]
        try:
            name = dept.name.format_map(values) if "{" in dept.name else dept.name
        except (KeyError, ValueError) as exc:  # {street}: a placeholder `route check` names as unknown
            raise InputError(f"{self.source}: department {dept.key!r}: its name cannot be filled in ({exc!r}); "
                             f"`gridkit route check {self.source}` says why") from None
        return Route(dept.code, name, rule, territorial)

    def route_many(self, locations, codes, *, kind="component"):
        """Route a frame of locations (from ``Locator.locate_many``) with a class per row.

        Returns two object arrays: department codes and names. Rows the table
        cannot tell apart are routed once: the same class, the same areas among
        those it names (in a rule or as a territorial authority; the others are
        all alike), the same place fields among those its departments' names use.
        ``codes`` pairs with the rows by
        index when it is a Series (it must then have the locations' index, as
        ``locate_many`` gives for points taken from the same frame), otherwise by
        position. A row without a class (None, NaN, blank) gets None for both.
        """
        import numpy as np
        import pandas as pd

        from .io import require_frame

        require_frame(locations, "the locations", fix="locate the points with Locator.locate_many()",
                      geometry=False)
        if isinstance(codes, pd.Series) and not codes.index.equals(locations.index):
            raise InputError("the classes' index is not the locations' index, so rows would get another row's "
                             "class; locate the points with locate_many(frame.x, frame.y) from the same frame, "
                             "or pass the classes as an array (.to_numpy()) to pair them by position")
        if len(codes) != len(locations):
            raise InputError(f"{len(codes)} classes for {len(locations)} locations: give one class per location")
        classes = np.asarray(codes, dtype=object)
        fields = [name for name in locations.columns if name in _PLACEHOLDERS]
        # Each row's group, from the integer codes of what decides its route, each
        # worked out once per distinct value (a categorical's categories, as
        # locate_many gives, else factorized): cheaper than grouping by strings.
        named = self._named_areas

        def area(value):
            return value if value in named else ""

        by = [(locations[c], area) for c in _AREA_FIELDS if c in fields]
        for grid in ("grid_id", "micro_id"):  # _areas falls back on the prefixes of a row's grid ID (or
            if grid in fields:  # micro-grid ID) where it lacks a unit's code
                by += [(locations[grid], lambda value, d=digits: area(_prefix(value, d))) for digits in (15, 12, 9, 6)]
        by += [(locations[c], None) for c in self._name_fields if c in fields]
        group = np.zeros(len(classes), dtype=np.int64)
        for values, decides in [*by, (classes, None)]:
            column, count = _value_codes(values, decides)
            group = pd.factorize(group * (count + 1) + column + 1)[0]  # missing (-1) is a group too
        first = np.empty(int(group.max(initial=-1)) + 1, dtype=np.int64)
        first[group[::-1]] = np.arange(len(group))[::-1]  # each group's first row
        places = {}
        for name in fields:
            values = locations[name].iloc[first].astype(object)
            places[name] = values.where(values.notna(), None).to_numpy()
        keys_of = {}  # each class's keys, checked once
        codes_out = np.full(len(first), None, dtype=object)
        names_out = np.full(len(first), None, dtype=object)
        for j, row in enumerate(first.tolist()):
            cls_code = classes[row]
            if pd.isna(cls_code) or not str(cls_code).strip():
                continue
            if cls_code not in keys_of:
                keys_of[cls_code] = self.class_keys(cls_code, kind) + ["*"]
            place = {name: values[j] for name, values in places.items()}
            codes_out[j], names_out[j], _, _ = self._resolve(place, keys_of[cls_code])
        return codes_out[group], names_out[group]

    def fill_departments(self, places, classes, code, name):
        """The responsible department of each row, from the table where the row leaves it empty.

        ``places`` is a frame of locations, as :meth:`route_many` takes; ``classes``
        a class per row; ``code`` and ``name`` the rows' department codes and names
        (a catalogue's ``ZGBMDM`` and ``ZGBMMC``), missing or blank where empty.

        - A row with neither is routed by its class and place.
        - A row with a name only takes the code of the table's department of that
          name (a literal name, or the name the row is routed to).
        - A row with a code only takes the name of the table's department of that code.
        - A row with both keeps them.

        Returns three object arrays, by position: codes, names, and how each was
        filled (``"routed"``, ``"by_name"``, ``"by_code"``, or ``""``: as given, or
        no department of the table matches). A routed department with no code in
        the table gives the name alone.
        """
        import numpy as np
        import pandas as pd

        code, name = (pd.Series(v, dtype=object).to_numpy(copy=True) for v in (code, name))
        empty_code, empty_name = _blank(code), _blank(name)
        how = np.full(len(code), "", dtype=object)
        need = np.flatnonzero(empty_code | empty_name)
        if not len(need):
            return code, name, how
        routed_code, routed_name = self.route_many(places.iloc[need], np.asarray(classes, dtype=object)[need])
        literal = [d for d in self.departments.values() if d.code and "{" not in d.name]
        directions = (("by_name", empty_code, name, code, routed_name, routed_code, {d.name: d.code for d in literal}),
                      ("by_code", empty_name, code, name, routed_code, routed_name, {d.code: d.name for d in literal}))
        for word, missing, given, filled, routed_given, routed_filled, directory in directions:
            rows = missing[need] & ~(empty_code & empty_name)[need]
            if not rows.any():
                continue
            held = given[need[rows]]
            found = pd.Series(held, dtype=object).map(directory).to_numpy(dtype=object)
            found = np.where(pd.isna(found) & (held == routed_given[rows]), routed_filled[rows], found)
            ok = ~pd.isna(found)
            filled[need[rows][ok]] = found[ok]
            how[need[rows][ok]] = word
        both = (empty_code & empty_name)[need] & pd.notna(routed_name)
        code[need[both]], name[need[both]] = routed_code[both], routed_name[both]
        how[need[both]] = "routed"
        return code, name, how

    def check(self, *, areas=None) -> CheckReport:
        """Validate the table: unknown classes and departments, bad codes, gaps, conflicts.

        ``areas`` (a set of grid IDs and unit codes, e.g. from a grid package)
        lets the check flag rules for areas the layout does not have.
        """
        errors, gaps, warnings = list(self.conflicts), [], []
        known = set(_known_classes())
        big = {c[:2] for c in known}
        events = {r["code"] for r in _read_rows("cjt214_legacy_event_classes.csv")}
        event_big = {c[:2] for c in events}
        for rule in self.rules:
            for key in rule.classes:
                ok = (key == "*" or key in known or key in big or key in self.local
                      or (key.startswith("event:") and (key[6:] in events or key[6:] in event_big)))
                if not ok:
                    errors.append(f"{rule.where}: unknown class {key!r} (not a GB/T 47678.5-2026 class or big "
                                  "class, nor event:<legacy event class>)")
            if rule.area and not (rule.area.isdigit() and len(rule.area) in _AREA_LEVELS):
                errors.append(f"{rule.where}: area {rule.area!r} is not a county (6), street (9), community "
                              "(12), cell (15) or micro-grid (17) code")
            elif rule.area and areas is not None and rule.area not in areas:
                warnings.append(f"{rule.where}: area {rule.area} is not in the layout")
        for area in self.territorial:
            if area != "*" and areas is not None and area not in areas:
                warnings.append(f"territorial {area}: not in the layout")
        used = {r.department for r in self.rules} | set(self.territorial.values())
        for dept in self.departments.values():
            if dept.code is None:
                warnings.append(f"department {dept.key!r} has no unified social credit code yet")
            elif (problem := uscc_problem(dept.code)) is not None:
                errors.append(f"department {dept.key!r}: code {dept.code} {problem}")
            if dept.key not in used:
                warnings.append(f"department {dept.key!r} is named by no rule")
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(dept.name) if f}
            except ValueError as exc:
                errors.append(f"department {dept.key!r}: name template {dept.name!r}: {exc}")
                continue
            if fields - _PLACEHOLDERS:
                errors.append(f"department {dept.key!r}: unknown placeholder(s) {', '.join(sorted(fields - _PLACEHOLDERS))}")
        citywide = {key for (area, key) in self._lookup if area == ""}
        if "*" not in citywide:
            for code in sorted(known - RETIRED_2026):
                if code not in citywide and code[:2] not in citywide:
                    name = class_table("2026").classes.get(code)
                    label = name.name if name else matter_classes().get(code, "")
                    gaps.append(f"class {code} {label}: no city-wide rule; goes to the territorial authority")
        return CheckReport(errors, gaps, warnings)


def _fields_of(name):
    """The place fields a department's name uses, each with the unit code that
    stands in for a unit's missing name; every field for a template that does not parse."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(name) if f}
    except ValueError:  # `route check` names it; routed, it fails as it would with route()
        fields = set(_PLACEHOLDERS)
    return fields | {_NAME_CODES[f] for f in fields if f in _NAME_CODES}


def _prefix(value, digits):
    """The unit code of ``digits`` digits a grid (or micro-grid) ID starts with, as _areas takes it."""
    gid = str(value or "")[:15]
    return gid[:digits] if len(gid) == 15 and gid.isdigit() else None


def _value_codes(values, decides=None):
    """Integer codes of ``values`` (-1: missing) and their count, from each distinct
    value's ``decides(value)`` when given (values it makes equal share a code)."""
    import numpy as np
    import pandas as pd

    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(dtype=np.int64), values.cat.categories
    else:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    if decides is None or not len(uniques):
        return codes, len(uniques)
    merged, kinds = pd.factorize(np.array([decides(u) for u in uniques], dtype=object), use_na_sentinel=False)
    return np.where(codes >= 0, merged[np.maximum(codes, 0)], -1), len(kinds)


def _blank(values):
    """Which of ``values`` (an object array) are missing or blank."""
    import pandas as pd

    text = pd.Series(values, dtype=object)
    return (text.isna() | (text.astype(str).str.strip() == "")).to_numpy()


def starter_table() -> str:
    """A starter routing table (TOML text) from the class table's suggested departments.

    Every department comes without a credit code (the city fills them in) and the
    territorial authority is the street office of the point's street.
    """
    rows = _read_rows("gbt47678.5-2026_component_classes.csv")
    by_dept = {}
    for r in rows:
        dept = r["suggested_department"].strip()
        if dept and "属地兜底" not in dept:
            by_dept.setdefault(dept, []).append(r["code"])
    out = ["# gridkit routing table — starter, built from the suggested departments of",
           "# GB/T 47678.5-2026's component class table. Those are defaults only [I]:",
           "# edit names, fill in the 18-character unified social credit codes, add",
           "# overrides by area, then run `gridkit route check` on it.",
           "# Precedence: most specific area (micro-grid > cell > community > street > county",
           "# > city), then most specific class (class > big class > \"*\"); no rule → territorial.",
           "", "[territorial]", '"*" = "{street_name}街道办事处"', ""]
    for name in [*by_dept, *_MATTER_DEFAULTS.values(), "{street_name}街道办事处"]:
        if f'[departments."{name}"]' not in out:
            out += [f'[departments."{name}"]', 'code = ""', ""]
    for dept, codes in by_dept.items():
        out += ["[[rule]]", f"classes = [{', '.join(repr(c).replace(chr(39), chr(34)) for c in codes)}]",
                f'department = "{dept}"', ""]
    for big, dept in _MATTER_DEFAULTS.items():
        out += ["[[rule]]", f'classes = ["{big}"]', f'department = "{dept}"', ""]
    return "\n".join(out)


# Matter big classes 06–09 have no suggested department in the standard's table;
# these are the usual owners [I]. 10 (other matters) is left to the territorial authority.
_MATTER_DEFAULTS = {"06": "城市管理局", "07": "城市管理局", "08": "住房和城乡建设局", "09": "城市管理综合行政执法局"}


def write_starter(path, *, overwrite=False):
    """Write :func:`starter_table` to ``path`` atomically."""
    from .io import atomic_path

    with atomic_path(Path(path), overwrite=overwrite) as tmp:
        tmp.write_text(starter_table(), encoding="utf-8")


def require_routes(routes):
    """An error unless ``routes`` is None or a :class:`RoutingTable`: a TOML file's
    path given for one was an AttributeError deep in the call."""
    if routes is not None and not isinstance(routes, RoutingTable):
        raise InputError(f"routes is a {type(routes).__name__}, not a RoutingTable: read one with "
                         "RoutingTable.load(path)")
