"""One exception family for gridkit.

Every error is also the builtin a caller would naturally catch (``ValueError``,
``FileNotFoundError`` …), so ``except ValueError`` keeps working. Messages name
the file, row or feature, the bad value, and the fix.
"""

from __future__ import annotations

__all__ = [
    "GridkitError",
    "CRSError",
    "CodeError",
    "InputError",
    "LayoutError",
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
