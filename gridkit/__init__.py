"""gridkit: grid management (网格化管理) — coded unit grids, catalogues, locate-and-route.

The flow: :func:`read_vector` → :func:`unit_hierarchy` (communities with codes) →
:func:`unit_grid` (cells) → :func:`write_package` (the grid package), checked by
:func:`check_partition` (and, once edited by hand, :func:`check_package`).
"""

__version__ = "0.1.0"

from .coords import (  # noqa: E402
    bd09_to_gcj02, bd09_to_wgs84, bd09mc_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, metric_crs_for,
    wgs84_to_bd09, wgs84_to_bd09mc, wgs84_to_gcj02,
)
from .errors import CodeError, CRSError, GridkitError, InputError, LayoutError  # noqa: E402
from .grid import unit_grid  # noqa: E402
from .invariants import assert_partition, check_partition  # noqa: E402
from .io import read_vector  # noqa: E402
from .package import check_package, read_package, write_package  # noqa: E402
from .units import unit_hierarchy  # noqa: E402

__all__ = [
    "__version__", "read_vector", "unit_hierarchy", "unit_grid", "write_package", "read_package",
    "check_partition", "assert_partition", "check_package",
    "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09", "bd09_to_gcj02", "wgs84_to_bd09",
    "bd09_to_wgs84", "bd09mc_to_wgs84", "wgs84_to_bd09mc", "metric_crs_for",
    "GridkitError", "CRSError", "CodeError", "InputError", "LayoutError",
]
