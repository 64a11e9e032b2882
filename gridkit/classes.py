"""Component and matter classes, and component IDs, in both schemes.

Schemes
-------
``"2026"``
    GB/T 47678.5-2026: 153 component classes with 5-digit codes (big 2 + small 3),
    17-digit component IDs = county 6 + class 5 + sequence 6. Matter classes share
    the 5-digit form; a matter code is county 6 + class 5 = 11 digits.
``"legacy"``
    CJ/T 214-2007 / GB/T 30428.2-2013, still in most live systems: 85 classes with
    4-digit codes (big 2 + small 2), 16-digit IDs = county 6 + class 4 + sequence 6.

The tables ship as package data (``gridkit/data/*.csv``, copied from the
standards' text). Retired 2026 codes (01016, 05001, 05004–05008, 06031, 07005,
09007) are reserved: an ID that uses one is invalid with its own reason.

Local extension classes (big class 21 is customary) come from a TOML file::

    [classes.21001]
    name = "共享单车停放区"
    name_en = "shared-bike parking zone"
    department = "城市管理局"

and are validated like built-in ones: the code must have the scheme's length and
must not fall in a built-in big class.

Legacy and 2026 small codes do not line up, so :func:`convert_class` maps by
meaning with the hand-made table ``legacy_2026_class_map.csv`` (one row per legacy
class; ``relation`` says whether the legacy class is the same as its 2026 class,
broader, narrower, or that there is none).
"""

from __future__ import annotations

import csv
import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import CodeError, InputError

__all__ = [
    "ComponentClass",
    "ClassTable",
    "SCHEMES",
    "RETIRED_2026",
    "class_table",
    "matter_classes",
    "convert_class",
    "classes_without_counterpart",
    "convert_ids",
]

#: scheme → (class code length, ID length)
SCHEMES = {"2026": (5, 17), "legacy": (4, 16)}
#: The words a ledger or a clerk uses for classes whose standard names they share no
#: two characters with (红绿灯 is 交通信号灯, 消火栓 a 消防设施), each with what the
#: names it means hold, in either scheme's table (the legacy table's 监控电子眼 is the
#: 2026 table's 监控电子眼设施). :meth:`ClassTable.near_names` and ``gridkit
#: components classes`` find the classes by them.
EVERYDAY_WORDS = {
    "红绿灯": ("交通信号灯",), "信号机": ("交通信号灯",),
    "消火栓": ("消防设施",), "灭火器": ("消防设施",),
    "垃圾桶": ("垃圾箱",), "果皮箱": ("垃圾箱",), "果壳箱": ("垃圾箱",),
    "摄像头": ("监控电子眼",), "探头": ("监控电子眼",),
    "电线杆": ("电力立杆",), "电杆": ("电力立杆",),
    "斑马线": ("交通标志牌及标线",), "隔离栏": ("交通护栏",), "隔离墩": ("柔性隔离体", "交通护栏"),
    "路牌": ("路名牌",), "门牌": ("门（楼号）牌",),
    "公告栏": ("宣传栏",), "橱窗": ("宣传栏",),
    "长椅": ("街头座椅",), "健身器材": ("户外健身设施",),
    "窨井盖": ("污水井盖", "雨水井盖"), "下水道井盖": ("污水井盖", "雨水井盖"),
}
SEQUENCE_DIGITS = 6
RETIRED_2026 = frozenset(
    ["01016", "05001", "05004", "05005", "05006", "05007", "05008", "06031", "07005", "09007"])

_TABLE_FILES = {
    "2026": "gbt47678.5-2026_component_classes.csv",
    "legacy": "cjt214_legacy_component_classes.csv",
}


@dataclass(frozen=True)
class ComponentClass:
    """One component class of a scheme."""

    code: str
    scheme: str
    big_code: str
    big_name: str
    name: str
    name_en: str = ""
    suggested_department: str = ""
    local: bool = False


def _read_rows(filename):
    with resources.files("gridkit.data").joinpath(filename).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@functools.cache
def _builtin(scheme):
    rows = _read_rows(_TABLE_FILES[scheme])
    return {r["code"]: ComponentClass(
        code=r["code"], scheme=scheme, big_code=r["big_code"], big_name=r["big_name"],
        name=r["name"], name_en=r.get("name_en", ""),
        suggested_department=r.get("suggested_department", "")) for r in rows}


def _load_toml(path):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: a folder, not a TOML file") from None
    try:
        # Windows Notepad saves UTF-8 with a byte order mark, which TOML forbids, and
        # "Unicode" as UTF-16: read both.
        text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig")
    except UnicodeDecodeError as exc:
        try:  # Notepad's "ANSI" on a Chinese Windows: GBK
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); TOML is UTF-8: save it so") from None
        logging.getLogger(__name__).warning(
            "%s is not UTF-8; read as GBK/GB18030 (a Chinese Windows' ANSI). TOML is UTF-8: save it so", path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}){_toml_hint(text, str(exc))}") from None


#: TOML's punctuation as a Chinese input method types it: full-width, which TOML reads as no punctuation.
_FULL_WIDTH_PUNCTUATION = {"＝": "=", "“": '"', "”": '"', "‘": "'", "’": "'", "＂": '"', "［": "[", "］": "]",
                           "，": ",", "：": ":", "．": ".", "。": ".", "＃": "#", "｛": "{", "｝": "}"}


def _toml_hint(text, error):
    """A hint for a TOML error: at a line with full-width punctuation (＝, “”, ，,
    typed in a Chinese input method), at a table [rule] that is [[rule]] elsewhere
    (one pair of brackets for an entry of a list), at a code with its leading zero
    unquoted (class = 01013), at a table declared a second time
    (the line of the first), or at a bare non-ASCII key (:func:`_bare_key_hint`);
    ``""`` for any other."""
    at = re.search(r"at line (\d+)", error)
    lines = text.splitlines()
    if not at or int(at.group(1)) > len(lines):
        return ""
    line = lines[int(at.group(1)) - 1]
    # Outside quotes (a name may hold a full-width comma): the line with its "…" and '…' removed.
    bare = re.sub(r'"[^"]*"|\'[^\']*\'', "", line.split("#")[0])
    typed = [c for c in dict.fromkeys(bare) if c in _FULL_WIDTH_PUNCTUATION]
    if typed:
        fixed = "".join(_FULL_WIDTH_PUNCTUATION.get(c, c) for c in line.strip())
        return (f": line {at.group(1)} has {' '.join(typed)}, typed in a Chinese input method's full-width mode; "
                f"TOML needs {' '.join(dict.fromkeys(_FULL_WIDTH_PUNCTUATION[c] for c in typed))}: {fixed}")
    zeros = re.findall(r"(?<![\w.:-])0\d+(?![\w.:-])", bare)
    if zeros:  # class = 01013: TOML's numbers have no leading zero
        fixed = re.sub(r"(?<![\w.:\"'-])0\d+(?![\w.:\"'-])", lambda m: f'"{m.group()}"', line.strip())
        return (f": line {at.group(1)} has {', '.join(zeros)} unquoted, and a TOML number has no leading zero: "
                f"a code goes in quotes, zeros and all: {fixed}")
    table = re.fullmatch(r"\[\[?\s*([A-Za-z_]+)\s*\]\]?", line.split("#")[0].strip())
    name = table and table.group(1)
    if name and error.startswith("Cannot") and (
            name == "rule" or re.search(rf"^\s*\[\[\s*{name}\s*\]\]", text, re.MULTILINE)):
        return (f": each entry of a list of tables is headed with two pairs of brackets, [[{name}]]; "
                f"[{name}] (one pair) declares a single table")
    twice = re.match(r"Cannot declare \(.*\) twice", error)
    first = next((n for n, earlier in enumerate(lines[:int(at.group(1)) - 1], 1) if earlier.strip() == line.strip()),
                 None) if twice else None
    if first:  # [departments."公安局"] pasted again further down
        return f": line {first} declares {line.strip()} first; keep one of the two, with what each holds"
    return _bare_key_hint(line)


def _bare_key_hint(line):
    """A hint for a TOML error at a ``line`` whose key is bare non-ASCII text (权属单位名称 =
    …, [department.路灯所]), which TOML reads only in quotes; ``""`` for any other error."""
    line = line.strip()
    header = re.fullmatch(r"(\[\[?)([^\]\"']+)(\]\]?)", line.split("#")[0].strip())
    key = header.group(2) if header else line.partition("=")[0] if "=" in line else ""
    parts = [part.strip() for part in key.split(".")]
    if all(part.isascii() or part.startswith(('"', "'")) for part in parts):
        return ""
    quoted = ".".join(part if part.isascii() else f'"{part}"' for part in parts)
    return (": a key of other than ASCII letters, digits, - and _ goes in double quotes: "
            + (f"{header.group(1)}{quoted}{header.group(3)}" if header else f"{quoted} = …"))


#: What a local extension class (``[classes.21001]``) may say of itself.
EXTENSION_KEYS = ("name", "name_en", "big_name", "department")


class ClassTable:
    """The component classes of one scheme, plus any local extensions.

    Parameters
    ----------
    scheme : {"2026", "legacy"}
    extensions : path to a TOML file, or a dict ``code → {name, name_en, department}``

    Examples
    --------
    >>> table = class_table("2026")
    >>> table["01013"].name_en
    'fire-fighting facility (hydrant etc.)'
    >>> table.build_ids("110101", "01013", [1, 2])
    ['11010101013000001', '11010101013000002']
    >>> table.id_problems(["11010101013000001", "11010101016000001", "1101010101300001"])
    ['', 'class 01016 is retired in GB/T 47678.5-2026 (reserved, not for new IDs)', 'has 16 characters; a GB/T 47678.5-2026 component ID has 17 digits (a 16-digit ID is legacy CJ/T 214: use --scheme legacy or convert it)']
    """

    def __init__(self, scheme="2026", extensions=None):
        if scheme not in SCHEMES:
            raise InputError(f"unknown scheme {scheme!r}; use '2026' (GB/T 47678.5-2026) or 'legacy' (CJ/T 214)")
        self.scheme = scheme
        self.class_digits, self.id_digits = SCHEMES[scheme]
        self.classes = dict(_builtin(scheme))
        self.extension_source = None
        if extensions is not None:
            self._add_extensions(extensions)

    @property
    def label(self):
        return "GB/T 47678.5-2026" if self.scheme == "2026" else "CJ/T 214"

    def _add_extensions(self, extensions):
        """Add the local classes ``extensions`` gives (a TOML file's path, or the
        ``code → {name, …}`` a package records), after checking each."""
        source = "extensions"
        if not isinstance(extensions, dict):
            source = str(extensions)
            raw = _load_toml(extensions)
            # `[class.21001]` (a typo) or `classes = 5` read as no local class, or a traceback
            form = "[classes.CODE] sections (name = \"…\", and name_en, big_name, department)"
            if set(raw) - {"classes"}:
                raise InputError(f"{source}: unknown key(s) {', '.join(sorted(set(raw) - {'classes'}))}; an "
                                 f"extensions file holds {form}")
            if not isinstance(raw.get("classes", {}), dict):
                raise InputError(f"{source}: classes = {raw['classes']!r} is not a table; write {form}")
            extensions = raw.get("classes", {})
        builtin_bigs = {c.big_code for c in _builtin(self.scheme).values()}
        problems = []
        for code, spec in extensions.items():
            code = str(code)
            unknown = sorted(set(spec) - set(EXTENSION_KEYS)) if isinstance(spec, dict) else []
            texts = isinstance(spec, dict) and all(isinstance(v, str) for v in spec.values())
            if len(code) != self.class_digits or not code.isdigit():
                problems.append(f"{code}: a {self.label} class code has {self.class_digits} digits")
            elif code[:2] in builtin_bigs:
                problems.append(f"{code}: big class {code[:2]} is built in; local classes use "
                                "another big class (21 is customary)")
            elif unknown:
                problems.append(f"{code}: unknown key(s) {', '.join(unknown)}; it takes {', '.join(EXTENSION_KEYS)}")
            elif not texts or not spec.get("name"):
                problems.append(f"{code}: needs a name, and its values as text in quotes (name = \"公共自行车桩\")")
            else:
                self.classes[code] = ComponentClass(
                    code=code, scheme=self.scheme, big_code=code[:2],
                    big_name=spec.get("big_name", "本地扩展"), name=spec["name"],
                    name_en=spec.get("name_en", ""), suggested_department=spec.get("department", ""),
                    local=True)
        if problems:
            raise InputError(f"{source}: bad local class(es): " + "; ".join(problems))
        self.extension_source = source

    def local_classes(self) -> dict:
        """The local extension classes, ``code → {name, name_en, big_name,
        department}``: what :class:`ClassTable` takes back as ``extensions`` (a
        package records them, :func:`gridkit.catalogue.package_classes`)."""
        return {c.code: {"name": c.name, "name_en": c.name_en, "big_name": c.big_name,
                         "department": c.suggested_department} for c in self.classes.values() if c.local}

    def __getitem__(self, code):
        try:
            return self.classes[code]
        except KeyError:
            raise CodeError(self.class_problem(code) or f"unknown class {code!r}") from None

    def __contains__(self, code):
        return code in self.classes

    def __len__(self):
        return len(self.classes)

    def by_name(self, word):
        """The class ``word`` names, and the label of the scheme whose name it is.

        A name of this table's (Chinese, or English in any case; brackets and spaces
        full- or half-width) is its class. So is the other scheme's name of a class
        whose class here covers all it does: 上水井盖, CJ/T 214's name, is 01001
        供水井盖, and 立杆 (any pole) is no 2026 class. ``None`` for other words.

        >>> c, label = class_table().by_name("上水井盖"); c.code, c.name, label
        ('01001', '供水井盖', 'CJ/T 214')
        >>> class_table().by_name("Street Light")[0].code, class_table().by_name("立杆")
        ('01037', None)
        """
        if not isinstance(word, str):
            return None
        found = self._names.get(_name_key(word))
        return None if found is None else (self.classes[found[0]], found[1])

    def code_of(self, value):
        """``value`` as a class code: the code of the class it names (:meth:`by_name`:
        ``"路灯"`` is ``"01037"``), else ``value`` as it is (a code, or no class's name)."""
        found = None if value is None or value in self.classes else self.by_name(value)
        return found[0].code if found else value

    def named_elsewhere(self, word) -> str:
        """Why ``word``, the other scheme's name of a class, is no class here, as a
        clause (立杆, CJ/T 214's any pole, which GB/T 47678.5-2026 splits by owner);
        ``""`` for any other word."""
        other = class_table("legacy" if self.scheme == "2026" else "2026")
        found = other.by_name(word)
        if not found or found[1] != other.label or self.by_name(word):
            return ""
        code = found[0].code
        _, _, note = _class_map()[0 if self.scheme == "2026" else 1].get(code, (None, "", ""))
        return (f"{word} is {other.label}'s class {code}, and no {self.label} class holds all of it"
                + (f" ({note})" if note else ""))

    @functools.cached_property
    def _names(self):
        """Each class name's key (:func:`_name_key`) → (code, label of the name's scheme)."""
        other = class_table("legacy" if self.scheme == "2026" else "2026")
        to_2026, to_legacy = _class_map()
        # A class of the other scheme maps here when the class here holds all of it.
        whole = ({"same", "narrower"} if self.scheme == "2026" else {"same", "broader", "to_legacy"})
        names = {}
        for code, (target, relation, _) in (to_2026 if self.scheme == "2026" else to_legacy).items():
            if target and relation in whole and target in self.classes and code in other.classes:
                names[_name_key(other.classes[code].name)] = (target, other.label)
        for c in self.classes.values():
            names[_name_key(c.name)] = names[_name_key(c.name_en)] = (c.code, self.label)
        names.pop("", None)
        return names

    @staticmethod
    def listed(classes, limit=5) -> str:
        """``"01013 消防设施, 01068 水鹤"``: the first ``limit`` of ``classes`` for a message."""
        return ", ".join(f"{c.code} {c.name}" for c in classes[:limit])

    def near_names(self, *words) -> list:
        """The classes everyday words may mean: those whose line (code, names, suggested
        department) holds, for each Chinese word, two of its characters side by side
        (消防栓 finds 消防设施 by 消防: Chinese words share two characters where English
        words share a word), or what :data:`EVERYDAY_WORDS` says its names hold
        (红绿灯: 交通信号灯), and each other word in any case (``street light``).
        ``[]`` when no class is such, or no word has two characters (a code is no word).

        >>> [c.code for c in class_table().near_names("消防栓")]
        ['01013', '01068']
        >>> [c.code for c in class_table().near_names("红绿灯")], [c.code for c in class_table("legacy").near_names("红绿灯")]
        (['02014'], ['0210'])
        >>> [c.code for c in class_table().near_names("Street Light")]
        ['01037']
        """
        lines = {c.code: f"{c.code}\t{c.big_name}\t{c.name}\t{c.name_en}\t{c.suggested_department}".casefold()
                 for c in self.classes.values()}
        names = {c.code: c.name for c in self.classes.values()}
        wanted = [(names, EVERYDAY_WORDS[w]) if w in EVERYDAY_WORDS  # in the name: 路灯杆 is no 地灯 of 路灯管理所
                  else (lines, {w[i:i + 2] for i in range(len(w) - 1)} if not w.isascii() else {w.casefold()})
                  for w in (str(w).strip() for w in words) if len(w) >= 2 and not w.isdigit()]
        return [self.classes[code] for code in sorted(lines)
                if wanted and all(any(p in text[code] for p in ps) for text, ps in wanted)]

    def class_problem(self, code, *, typed=False) -> str | None:
        """Why ``code`` is not a usable class code of this table, or ``None``
        (``typed``: given on the command line, not read from a file's column)."""
        code = str(code)
        if len(code) != self.class_digits or not code.isdigit():
            padded = lost_leading_zeros(code, self.classes, self.class_digits)
            if padded:
                # 01013 typed into a number cell (Excel, or a CSV saved from it) is 1013.
                return (f"class code {code!r} is not {self.class_digits} digits: leading zeros lost? "
                        f"{padded} is {self.classes[padded].name}"
                        + ("" if typed else "; keep the column as text (Excel drops them from numbers)"))
            return f"class code {code!r} is not {self.class_digits} digits" + self._other_scheme(code)
        if self.scheme == "2026" and code in RETIRED_2026:
            return f"class {code} is retired in {self.label} (reserved, not for new IDs)"
        if code not in self.classes:
            return f"unknown {self.label} class {code}"
        return None

    def _other_scheme(self, code):
        """What ``code`` is when it is a class of the other scheme (0113, a legacy
        class, given for GB/T 47678.5-2026), as a clause; ``""`` when it is not."""
        other = class_table("legacy" if self.scheme == "2026" else "2026")
        if code not in other.classes:
            return ""
        same = convert_class(code, to=self.scheme)
        return (f": it is {other.label} class {code} ({other.classes[code].name}), "
                + (f"which is {same} ({self.classes[same].name}) in {self.label}" if same in self.classes
                   else f"which has no class of the same meaning in {self.label}")
                + f"; or import with --scheme {other.scheme}")

    def build_ids(self, county, class_code, sequence):
        """Component IDs for a county, a class and sequence numbers (1–999999)."""
        problem = self.class_problem(class_code)
        if problem:
            raise CodeError(problem)
        seq = np.asarray(sequence, dtype=np.int64)
        if seq.size and (seq.min() < 1 or seq.max() > 999_999):
            raise CodeError(f"sequence numbers run 1–999999; got {seq.min()}–{seq.max()} for class {class_code}")
        prefix = f"{county}{class_code}"
        return [f"{prefix}{s:06d}" for s in seq.tolist()]

    def parse_id(self, component_id) -> dict:
        """Split a valid component ID into county, class and sequence.

        >>> class_table("legacy").parse_id("3205080101000001")
        {'county': '320508', 'class_code': '0101', 'sequence': 1, 'class_name': '上水井盖'}
        """
        problem = self.id_problems([component_id])[0]
        if problem:
            raise CodeError(f"component ID {component_id!r}: {problem}")
        county, cls = component_id[:6], component_id[6:6 + self.class_digits]
        return {"county": county, "class_code": cls, "sequence": int(component_id[-SEQUENCE_DIGITS:]),
                "class_name": self.classes[cls].name}

    def id_problems(self, ids, *, counties=None) -> list:
        """The reason each ID is invalid, ``""`` where it is valid.

        Vectorised through Arrow (10 M IDs in about a second). ``counties``, when
        given, is the set of county codes an ID may carry (the layout's).
        """
        if isinstance(ids, (pa.Array, pa.ChunkedArray)):
            arr = ids
        else:
            try:
                arr = pa.array(ids, type=pa.string())
            except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers among them (a column read as integers)
                arr = pa.array(id_texts(ids), type=pa.string())
        n = len(arr)
        reasons = np.full(n, "", dtype=object)
        length = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
        digits = pc.match_substring_regex(arr, r"^[0-9]+$").to_numpy(zero_copy_only=False)
        missing = arr.is_null().to_numpy(zero_copy_only=False)
        wrong_len = ~missing & (length != self.id_digits)
        for i in np.flatnonzero(wrong_len):
            reasons[i] = self._length_reason(int(length[i]), arr[i].as_py())
        not_digits = ~missing & ~wrong_len & ~np.asarray(digits, dtype=bool)
        reasons[not_digits] = "contains characters other than digits"
        reasons[missing] = "missing"
        ok = reasons == ""
        if not ok.any():
            return reasons.tolist()
        cls = pc.utf8_slice_codeunits(arr, 6, 6 + self.class_digits)
        known = pc.is_in(cls, value_set=pa.array(sorted(self.classes))).to_numpy(zero_copy_only=False)
        seq = pc.utf8_slice_codeunits(arr, self.id_digits - SEQUENCE_DIGITS, self.id_digits)
        zero_seq = pc.equal(seq, "0" * SEQUENCE_DIGITS).to_numpy(zero_copy_only=False)
        bad_class = ok & ~np.asarray(known, dtype=bool)
        if bad_class.any():
            rows = np.flatnonzero(bad_class)
            for i, code in zip(rows, cls.take(pa.array(rows)).to_pylist()):
                reasons[i] = self.class_problem(code)
        bad_seq = (reasons == "") & np.asarray(zero_seq, dtype=bool)
        reasons[bad_seq] = "sequence 000000 (sequences start at 000001)"
        if counties is not None:
            county = pc.utf8_slice_codeunits(arr, 0, 6)
            inside = pc.is_in(county, value_set=pa.array(sorted(counties), type=pa.string()))
            foreign = (reasons == "") & ~np.asarray(inside.to_numpy(zero_copy_only=False), dtype=bool)
            if foreign.any():
                allowed = ", ".join(sorted(counties))
                rows = np.flatnonzero(foreign)
                for i, code in zip(rows, county.take(pa.array(rows)).to_pylist()):
                    reasons[i] = f"county {code} is not the layout's ({allowed})"
        return reasons.tolist()

    def _length_reason(self, length, text):
        if re.match(r"\d(\.\d+)?[eE]\+\d+(\s|$)", text.strip()):  # also as read_table marks an Excel number
            return ("is a number in scientific notation, as Excel shows a long one: its last digits are lost; "
                    "format the column as text where the file was made, and export it again")
        whole = text.strip().removesuffix(".0")
        if whole != text.strip() and whole.isdigit() and len(whole) in (16, 17):
            return (f"ends in .0: a {len(whole)}-digit ID written as a decimal number by a program that read the "
                    "IDs as numbers, which keeps 16 digits exactly but may change a 17th; read the column as text "
                    "where the file was made (pandas: dtype=str), and export it again")
        other = {17: ("2026", "GB/T 47678.5-2026", "--scheme 2026"),
                 16: ("legacy", "legacy CJ/T 214", "--scheme legacy")}.get(length)
        text = f"has {length} characters; a {self.label} component ID has {self.id_digits} digits"
        if other and other[0] != self.scheme:
            text += f" (a {length}-digit ID is {other[1]}: use {other[2]} or convert it)"
        return text


def _name_key(name):
    """A class name as :meth:`ClassTable.by_name` compares it: full-width brackets
    half-width, no spaces, any case (输油（气）井盖 is 输油(气)井盖)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def lost_leading_zeros(code, known, digits=5):
    """The code ``code`` most likely was before a spreadsheet made it a number, when
    that is one of ``known``: 01013 typed into a number cell (Excel, or a CSV saved
    from it) is 1013, or 1013.0. ``None`` otherwise.

    >>> lost_leading_zeros("1013.0", {"01013"}), lost_leading_zeros("1013", {"02014"})
    ('01013', None)
    """
    text = str(code).strip().removesuffix(".0")
    if not text.isdigit() or len(text) >= digits:
        return None
    padded = text.zfill(digits)
    return padded if padded in known else None


@functools.cache
def class_table(scheme="2026") -> ClassTable:
    """The built-in class table of a scheme (cached; no local extensions)."""
    return ClassTable(scheme)


@functools.cache
def matter_classes() -> dict:
    """GB/T 47678.5-2026 matter classes: code (5 digits) → name. 250 rows.

    >>> matter_classes()["06010"]
    '暴露垃圾'
    """
    return {r["code"]: r["name"] for r in _read_rows("gbt47678.5-2026_matter_classes.csv")}


@functools.cache
def _class_map():
    rows = _read_rows("legacy_2026_class_map.csv")
    to_2026 = {r["legacy_code"]: (r["code_2026"] or None, r["relation"], r["note"])
               for r in rows if r["relation"] != "to_legacy"}
    to_legacy = {}
    for r in rows:
        if r["code_2026"] and r["code_2026"] not in to_legacy:
            to_legacy[r["code_2026"]] = (r["legacy_code"], r["relation"], r["note"])
    return to_2026, to_legacy


def convert_class(code, *, to="2026"):
    """The class of the other scheme with the same meaning, or ``None``.

    >>> convert_class("0114")          # ownerless cover → unidentified cover
    '01023'
    >>> convert_class("01037", to="legacy")
    '0118'
    >>> convert_class("0602") is None  # construction sites are matters in 2026
    True
    """
    to_2026, to_legacy = _class_map()
    table = to_2026 if to == "2026" else to_legacy
    if to not in SCHEMES:
        raise InputError(f"unknown scheme {to!r}; use '2026' or 'legacy'")
    entry = table.get(str(code))
    return entry[0] if entry else None


def classes_without_counterpart(scheme) -> list:
    """Classes of ``scheme`` that have no class with the same meaning in the other."""
    to_2026, to_legacy = _class_map()
    if scheme == "legacy":
        return sorted(c for c, (target, _, _) in to_2026.items() if target is None)
    return sorted(set(_builtin("2026")) - set(to_legacy))


def id_texts(ids) -> list:
    """``ids`` as text: an integer (an ID column a spreadsheet or pandas read as
    numbers) as its digits, None and NaN as None, anything else as ``str`` gives it
    (a float's ``3200000000000000.0`` then fails as no ID, rather than passing
    rounded).

    >>> id_texts([3205080114000007, None, float("nan"), "32050801023000007", 3.2e15])
    ['3205080114000007', None, None, '32050801023000007', '3200000000000000.0']
    """
    def text(i):
        if i is None or (isinstance(i, float) and i != i):
            return None
        if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            return str(int(i))
        return i if isinstance(i, str) else str(i)
    return [text(i) for i in ids]


def convert_ids(ids, *, to="2026"):
    """Convert component IDs to the other scheme by class meaning.

    The county and the 6-digit sequence are kept. Several 2026 classes fold into
    one legacy class (poles), so converting to legacy can make two IDs equal; the
    later ones then get the next free sequence numbers of their class. An ID that
    repeats (one component listed twice) converts as its first row did.

    Returns ``(new_ids, reasons)``: ``new_ids[i]`` is ``None`` where
    ``reasons[i]`` says why the ID could not be converted.

    >>> convert_ids(["3205080114000007", "3205080602000001"])
    (['32050801023000007', None], ['', 'legacy class 0602 has no GB/T 47678.5-2026 counterpart: construction sites are matters in 2026 (big class 08 施工管理) not components'])
    """
    source = "legacy" if to == "2026" else "2026"
    table = class_table(source)
    ids = id_texts(ids)
    reasons = table.id_problems(ids)
    to_2026, to_legacy = _class_map()
    mapping = to_2026 if to == "2026" else to_legacy
    digits = table.class_digits
    out, used, clashes, first = [], set(), [], {}
    for i, (cid, reason) in enumerate(zip(ids, reasons)):
        if reason or cid in first:  # a repeat (one component listed twice) takes its first row's, below
            out.append(None)
            continue
        first[cid] = i
        target, _, note = mapping.get(cid[6:6 + digits], (None, "none", ""))
        if target is None:
            out.append(None)
            reasons[i] = (f"{table.scheme} class {cid[6:6 + digits]} has no "
                          f"{ClassTable(to).label} counterpart" + (f": {note}" if note else ""))
            continue
        new = cid[:6] + target + cid[-SEQUENCE_DIGITS:]
        if new in used:
            clashes.append(i)
        used.add(new)
        out.append(new)
    top = {}  # each county and class's highest sequence, found in one pass (not a scan of every ID per clash)
    for new in used:
        stem = new[:-SEQUENCE_DIGITS]
        top[stem] = max(top.get(stem, 0), int(new[-SEQUENCE_DIGITS:]))
    for i in clashes:
        stem = out[i][:-SEQUENCE_DIGITS]
        top[stem] += 1
        out[i] = f"{stem}{top[stem]:06d}"
        reasons[i] = f"renumbered: {ids[i]} folds into the same {to} class as another ID"
    for i, cid in enumerate(ids):
        if not reasons[i] and first.get(cid, i) != i:
            j = first[cid]
            out[i] = out[j]
            again = f"the ID of row {j + 1} again, converted as that row"
            reasons[i] = f"{again}: {reasons[j]}" if reasons[j] else again
    return out, reasons
