"""One exception family for gridkit.

Every error is also the builtin a caller would naturally catch (``ValueError``,
``FileNotFoundError`` …), so ``except ValueError`` keeps working. Messages name
the file, row or feature, the bad value, and the fix.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "GridkitError",
    "CRSError",
    "CodeError",
    "InputError",
    "LayoutError",
    "near_column",
    "checked_number",
]


class GridkitError(Exception):
    """Base class of every error gridkit raises on purpose."""


class CRSError(GridkitError, ValueError):
    """A missing, unknown or unusable coordinate reference system."""


class CodeError(GridkitError, ValueError):
    """A malformed or out-of-range administrative or grid code."""


class InputError(GridkitError, ValueError):
    """An input file or table that cannot be used as given."""


class LayoutError(GridkitError, ValueError):
    """A layout that breaks a rule of the standard (e.g. > 999 cells in a community)."""


def near_column(field, columns) -> str:
    """``" (did you mean 'Name'?)"`` for a column name ``field`` that ``columns``
    lack: the column that is ``field`` in another case (``--name-field name`` for a
    KML's ``Name``), else the closest as typed (``ContractAuth``); ``""`` for none.

    >>> near_column("name", ["Name", "description"]), near_column("xyz", ["Name"])
    (" (did you mean 'Name'?)", '')
    """
    import difflib

    names = [str(c) for c in columns]
    same = [c for c in names if c.casefold() == str(field).casefold()]
    near = same or difflib.get_close_matches(str(field), names, n=1, cutoff=0.75)
    return f" (did you mean {near[0]!r}?)" if near else ""


def checked_number(value, name, unit, *, zero=False, infinite=False, hint="") -> float:
    """``value`` as a float when it is a number above 0 (0 too with ``zero``,
    infinity too with ``infinite``: a tolerance without limit), else an
    :class:`InputError` naming ``name``, its ``unit`` and the ``hint``. NaN,
    ``True`` and text are no numbers; each of them, and a negative, passed on
    used to make an answer of nothing, unsaid.

    >>> checked_number(5, "max_gap", "seconds"), checked_number(0, "tolerance", "metres", zero=True)
    (5.0, 0.0)
    >>> checked_number(float("nan"), "max_gap", "seconds", infinite=True)
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: max_gap must be a number of seconds above 0, not nan
    """
    number = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if not (number and (value >= 0 if zero else value > 0) and (infinite or value < math.inf)):
        raise InputError(f"{name} must be a number of {unit}{', 0 or above' if zero else ' above 0'}{hint}, "
                         f"not {value!r}")
    return float(value)
