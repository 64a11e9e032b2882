"""Administrative and grid codes (GB/T 2260, GB/T 10114, DB11/T 2157-2023).

Chain: province 2 → prefecture 4 → county 6 → street/township 9 → community/village
12 → grid cell 15. Validation follows the ranges in ``shared/domain/STANDARDS.md``
§2–3.

Provisional codes
-----------------
When the input has no street or community level (a district outline only),
gridkit makes provisional units and gives them codes from ranges the standards
leave unassigned, so they can never be mistaken for real ones:

* provisional county: province part ``99`` (GB/T 2260 assigns 11–82), for
  territory outside China's code system (e.g. ``990101`` for Cambridge, MA);
* provisional street: ``900``–``999`` (GB/T 10114 assigns only 001–599);
* provisional community: ``600``–``999`` (the community table assigns up to 599).

Cells inside provisional units carry ``provisional = True``. Re-running with real
community boundaries replaces them.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd

from .errors import CodeError, InputError

__all__ = [
    "LEVELS",
    "highest_issued",
    "level_of_code",
    "validate_admin_code",
    "is_provisional_code",
    "provisional_street_code",
    "provisional_community_code",
    "grid_ids",
    "half_width",
    "half_width_column",
    "parse_grid_id",
    "malformed_grid_ids",
    "malformed_micro_ids",
    "MICRO_ID_FORM",
    "PROVISIONAL_STREET_START",
    "PROVISIONAL_COMMUNITY_START",
]

#: code length → level name
LEVELS = {6: "county", 9: "street", 12: "community"}
PROVISIONAL_STREET_START = 900
PROVISIONAL_COMMUNITY_START = 600
MAX_CELLS_PER_COMMUNITY = 999

_DIGITS = re.compile(r"^[0-9]+$")
#: full-width digits, as a Chinese input method types them in its full-width mode (全角)
_HALF_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def half_width(text):
    """``text`` with its full-width digits (０–９, typed in a Chinese input method's
    full-width mode) as ASCII digits; what is not text comes back as it is.

    Every column of codes or IDs gridkit reads goes through it, as it is stripped of
    spaces: a code typed ``１１０１０１`` is the code 110101.

    >>> half_width("１１０１０１００１"), half_width(7)
    ('110101001', 7)
    """
    return text.translate(_HALF_WIDTH) if isinstance(text, str) else text


def half_width_column(column: pd.Series) -> pd.Series:
    """:func:`half_width` over a column of text. Only the rows with a full-width digit
    go through Python: a column all ASCII is passed by one Arrow test (10 M IDs in 0.07 s).
    A column of numbers comes back as it is."""
    try:
        if column.dtype != object and column.str.isascii().all():
            return column
        wide = column.str.contains("[０-９]", regex=True, na=False)
    except AttributeError:  # numbers, or objects none of which is text
        return column
    if not wide.any():
        return column
    out = column.copy()
    out[wide] = column[wide].map(half_width)
    return out


#: The columns of a package's layers that hold codes and IDs (text of digits).
CODE_COLUMNS = ("grid_id", "micro_id", "community_code", "street_code", "county_code", "code", "parent_code")


def codes_as_text(frame, columns=CODE_COLUMNS):
    """``frame`` with those of ``columns`` it has that hold numbers turned back into
    text of their digits: a package whose ``grid_id`` or ``community_code`` field was
    made an integer (or a real) in QGIS's field editor or by a spreadsheet round trip.
    Compared with the text codes of the other layers, ``990101900600`` as a number
    matched none (``gridkit check`` named every cell's community as missing). A real
    that is a whole number loses its ``.0``; a code longer than a real holds exactly
    (a 17-digit micro ID) is beyond recovery and stays as read, for the check to name.

    >>> import pandas as pd
    >>> codes_as_text(pd.DataFrame({"grid_id": [990101900600001], "code": [990101900600.0],
    ...                             "name": [7]})).to_dict("records")
    [{'grid_id': '990101900600001', 'code': '990101900600', 'name': 7}]
    """
    numbers = {}
    for name in columns:
        if name not in frame.columns:
            continue
        values = frame[name]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        if values.dtype.kind == "f" and (values.abs() >= 2**53).any():  # rounded: left for the check to name
            continue
        text = pd.Series(None, index=values.index, dtype=object)
        present = values.notna()
        whole = present & (values % 1 == 0)
        text[whole] = values[whole].astype("int64").astype(str)
        text[present & ~whole] = values[present & ~whole].astype(str)
        numbers[name] = text
    return frame.assign(**numbers) if numbers else frame


def rounded_ids(frame, column) -> str:
    """The problem with ``frame``'s ``column`` of IDs when it is a field of real numbers
    holding values too long for one (:func:`codes_as_text` leaves them so): a 17-digit
    micro ID saved as a real is rounded, beyond reading back. Else ''."""
    values = frame[column]
    if values.dtype.kind != "f" or not (values.abs() >= 2**53).any():
        return ""
    return (f"{column} is a field of real numbers (its type changed in QGIS, or by a spreadsheet?), which holds "
            f"15 or 16 digits exactly, not 17: the IDs are rounded ({int(values.dropna().iloc[0])} …) and cannot "
            "be read back. Restore the layer from a copy, or make the field text (String) and type the IDs again")


def _full_width_hint(text):
    """What to type instead of ``text`` when it holds full-width digits or spaces
    around them (pasted), else ''."""
    ascii_text = half_width(text)
    if ascii_text != text:
        return f" (its digits are full-width: type {ascii_text.strip()})"
    return f" (spaces around it: type {text.strip()})" if text.strip() != text else ""


def level_of_code(code: str) -> str:
    """The level a code of this length names.

    Examples
    --------
    >>> level_of_code("110101001001")
    'community'
    """
    try:
        return LEVELS[len(code)]
    except KeyError:
        raise CodeError(
            f"code {code!r} has {len(code)} characters; a county code has 6 digits, a "
            "street 9 and a community 12"
        ) from None


def _county_problem(code: str, provisional: bool) -> str | None:
    province, prefecture, county = int(code[:2]), int(code[2:4]), int(code[4:6])
    if provisional and province == 99 and prefecture and county:
        return None
    if not 11 <= province <= 82:
        return f"province part {code[:2]} is outside GB/T 2260's 11–82"
    if prefecture == 0 or county == 0:
        return (
            f"{code} is a province or prefecture code (ends in 00); cells hang under a "
            "county-level code such as 110101"
        )
    if not (1 <= prefecture <= 70 or prefecture == 90):
        return f"prefecture part {code[2:4]} is outside GB/T 2260's 01–70 and 90"
    return None


def _street_problem(part: str, provisional: bool) -> str | None:
    n = int(part)
    if provisional and n >= PROVISIONAL_STREET_START:
        return None
    if not 1 <= n <= 599:
        return f"street/township part {part} is outside GB/T 10114's 001–599"
    return None


def _community_problem(part: str, provisional: bool) -> str | None:
    n = int(part)
    if provisional and n >= PROVISIONAL_COMMUNITY_START:
        return None
    if not 1 <= n <= 599:
        return f"community/village part {part} is outside the 001–599 ranges"
    return None


def code_problem(code, *, provisional: bool = False) -> str | None:
    """Why ``code`` is not a valid county/street/community code, or ``None``.

    Examples
    --------
    >>> code_problem("110101001001") is None
    True
    >>> code_problem("  ")
    'the code is blank'
    >>> code_problem("11010100100")
    "code '11010100100' has 11 characters; a county code has 6 digits, a street 9 and a community 12"
    """
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return "the code is missing"
    code = str(code).strip()
    if not code:
        return "the code is blank"
    if not _DIGITS.match(code):
        return f"code {code!r} is not all digits{_full_width_hint(code)}"
    try:
        level_of_code(code)
    except CodeError as exc:
        return str(exc)
    problem = _county_problem(code, provisional)
    if problem is None and len(code) >= 9:
        problem = _street_problem(code[6:9], provisional)
    if problem is None and len(code) == 12:
        problem = _community_problem(code[9:12], provisional)
    return problem


def validate_admin_code(code, *, where: str = "", provisional: bool = False) -> str:
    """Return ``code`` as a clean string, or raise :class:`CodeError` naming ``where``.

    Examples
    --------
    >>> validate_admin_code(110101)
    '110101'
    """
    problem = code_problem(code, provisional=provisional)
    if problem:
        prefix = f"{where}: " if where else ""
        raise CodeError(f"{prefix}{problem}")
    return str(code).strip()


def is_provisional_code(code: str) -> bool:
    """Whether a street or community code uses a provisional range.

    Examples
    --------
    >>> is_provisional_code("110101900600"), is_provisional_code("110101001001")
    (True, False)
    """
    code = str(code)
    if code.startswith("99"):
        return True
    if len(code) >= 9 and int(code[6:9]) >= PROVISIONAL_STREET_START:
        return True
    return len(code) == 12 and int(code[9:12]) >= PROVISIONAL_COMMUNITY_START


def provisional_street_code(county: str, n: int) -> str:
    """The ``n``-th (0-based) provisional street code under a county."""
    if not 0 <= n < 1000 - PROVISIONAL_STREET_START:
        raise CodeError(
            f"county {county}: more than {1000 - PROVISIONAL_STREET_START} provisional "
            "streets would be needed; supply street or community boundaries"
        )
    return f"{county}{PROVISIONAL_STREET_START + n:03d}"


def provisional_community_code(street: str, n: int) -> str:
    """The ``n``-th (0-based) provisional community code under a street."""
    if not 0 <= n < 1000 - PROVISIONAL_COMMUNITY_START:
        raise CodeError(
            f"street {street}: more than {1000 - PROVISIONAL_COMMUNITY_START} provisional "
            "communities would be needed; supply community boundaries"
        )
    return f"{street}{PROVISIONAL_COMMUNITY_START + n:03d}"


def grid_ids(community_codes, sequence, index=None):
    """15-digit grid IDs from 12-digit community codes and 1-based sequence numbers.

    With ``index``, ``community_codes`` is a table of codes and cell ``k`` belongs
    to ``community_codes[index[k]]``, which avoids materialising a code per cell.
    Returns a pandas string array (joined in Arrow: 1.6 M IDs in ~0.1 s).

    Examples
    --------
    >>> grid_ids(["110101001001", "110101001001"], [1, 2]).tolist()
    ['110101001001001', '110101001001002']
    >>> grid_ids(["110101001001", "110101001002"], [7, 1], index=[1, 0]).tolist()
    ['110101001002007', '110101001001001']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._arrow import string_array, take_strings

    seq = np.asarray(sequence, dtype="int64")
    if seq.size and (seq.min() < 1 or seq.max() > MAX_CELLS_PER_COMMUNITY):
        raise CodeError(
            f"cell sequence {int(seq.max())} is outside 001–999: a community holds at "
            "most 999 cells"
        )
    if index is None:
        index = np.arange(len(seq))
    sequence_text = [f"{k:03d}" for k in range(1, MAX_CELLS_PER_COMMUNITY + 1)]
    ids = pc.binary_join_element_wise(
        take_strings(community_codes, index), take_strings(sequence_text, seq - 1), pa.scalar("", pa.large_string())
    )
    return string_array(ids)


def parse_grid_id(grid_id: str) -> dict:
    """Split a 15-digit grid ID into its levels.

    Examples
    --------
    >>> parse_grid_id("110101001001001")["community"]
    '110101001001'
    """
    grid_id = str(grid_id)
    if len(grid_id) != 15 or not _DIGITS.match(grid_id):
        raise CodeError(f"grid ID {grid_id!r} is not 15 digits{_full_width_hint(grid_id)}")
    validate_admin_code(grid_id[:12], provisional=True)
    seq = int(grid_id[12:])
    if seq == 0:
        raise CodeError(f"grid ID {grid_id!r}: sequence 000 is not used; cells start at 001")
    return {
        "county": grid_id[:6],
        "street": grid_id[:9],
        "community": grid_id[:12],
        "sequence": seq,
        "provisional": is_provisional_code(grid_id[:12]),
    }


def malformed_grid_ids(ids) -> np.ndarray:
    """Which of ``ids`` are not well-formed grid IDs (:func:`parse_grid_id` would
    refuse them), by string operations and each community code checked once: fast
    on a million cells. ``parse_grid_id`` words the problem of those it finds.

    >>> malformed_grid_ids(["110101001001001", "11010100100100", "110101001001000", ""]).tolist()
    [False, True, True, True]
    """
    import pandas as pd

    ids = pd.Series(np.asarray(ids, dtype=object)).fillna("").astype(str)
    wrong = ~ids.str.fullmatch(r"\d{15}") | (ids.str[12:] == "000")
    community = ids.str[:12]
    wrong |= community.isin([c for c in community[~wrong].unique() if code_problem(c, provisional=True)])
    return wrong.to_numpy()


#: What a micro-grid's ID is, as messages say it.
MICRO_ID_FORM = "a grid ID and a 2-digit sequence from 01"


def malformed_micro_ids(ids) -> np.ndarray:
    """Which of ``ids`` are not micro IDs (:data:`MICRO_ID_FORM`: 15 digits, then
    01–99). The grid ID's own form is the cells' check.

    >>> malformed_micro_ids(["11010100100100101", "11010100100100100", "1101010010010011", None]).tolist()
    [False, True, True, True]
    """
    import pandas as pd

    ids = pd.Series(np.asarray(ids, dtype=object)).fillna("").astype(str)
    return (~ids.str.fullmatch(r"\d{15}(?!00)\d{2}")).to_numpy()


def rows_by_id(ids, among) -> np.ndarray:
    """The row in ``among`` (grid IDs, say) of each of ``ids``: the first where an
    ID repeats (a package edited by hand), -1 where it is missing.

    >>> rows_by_id(["b", "x", "a"], ["a", "b", "b"]).tolist()
    [1, -1, 0]
    """
    import pandas as pd

    among = pd.Index(np.asarray(among, dtype=str))
    first = pd.Series(np.arange(len(among)), index=among)
    first = first[~among.duplicated()]
    return pd.Series(np.asarray(ids, dtype=str)).map(first).fillna(-1).to_numpy(dtype=np.int64)


_DAY = re.compile(r"(\d{4})(-?)(\d{2})\2(\d{2})")  # 2026-11-26 or 20261126, not 2026-1126


def day_text(given=None, *, compact=False, name="start_date") -> str:
    """The date ``given`` (a ``datetime.date``, or text as ``YYYY-MM-DD`` or
    ``YYYYMMDD``), else today's, as a package writes it: ``YYYY-MM-DD`` for a grid's
    start and end dates, ``YYYYMMDD`` with ``compact`` for a component's (CSRQ,
    BGRQ, as GB/T 47678.5 writes them). Anything else is an InputError naming
    ``name``: it would be written as the date of every row it dates.

    >>> day_text("20261126"), day_text("2026-11-26", compact=True)
    ('2026-11-26', '20261126')
    >>> day_text("2026-1126")
    Traceback (most recent call last):
    gridkit.errors.InputError: start_date '2026-1126' is not a date: give YYYY-MM-DD or YYYYMMDD
    """
    if given is None:
        day = _dt.date.today()
    elif isinstance(given, _dt.date):
        day = given.date() if isinstance(given, _dt.datetime) else given
    else:
        found = _DAY.fullmatch(str(given).strip())
        try:
            day = _dt.date(int(found[1]), int(found[3]), int(found[4]))
        except (TypeError, ValueError):  # no match (None); no such day (2026-02-30)
            raise InputError(f"{name} {given!r} is not a date: give YYYY-MM-DD or YYYYMMDD") from None
    return day.strftime("%Y%m%d" if compact else "%Y-%m-%d")


def highest_issued(*ids, before=None) -> dict:
    """The highest sequence issued under each ID prefix: a community's 12-digit code
    → its grids' (the last 3 digits of a 15-digit grid ID), a grid's 15-digit ID →
    its micro-grids' (the last 2 of a 17-digit micro ID).

    ``ids``: lists of grid and micro-grid IDs (those in use, those on record as
    ended); ``before``: a map this function made earlier (a package's
    ``highest_issued`` metadata), which remembers IDs no layer holds any more.
    A micro-grid's ID shows its grid's was issued too. Anything not a 15- or
    17-digit ID is passed over.

    >>> highest_issued(["990201900600007", "99020190060000712"], ["990201900600003", "x"],
    ...                before={"990201900600": 5})
    {'990201900600': 7, '990201900600007': 12}
    """
    highest = {str(k): int(v) for k, v in (before or {}).items()}
    texts = pd.Series([str(i) for group in ids for i in group], dtype=object).drop_duplicates()
    texts = texts[texts.str.fullmatch(r"\d{15}|\d{17}")]
    micro = texts[texts.str.len() == 17]
    grids = pd.concat([texts[texts.str.len() == 15], micro.str[:15]])
    pairs = pd.DataFrame({"prefix": pd.concat([grids.str[:12], micro.str[:15]]),
                          "sequence": pd.concat([grids.str[12:], micro.str[15:]]).astype("int64")})
    for prefix, sequence in pairs.groupby("prefix")["sequence"].max().items():
        highest[prefix] = max(highest.get(prefix, 0), int(sequence))
    return dict(sorted(highest.items()))
