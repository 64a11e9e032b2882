"""Household-balanced grids (按户数划分的网格): contiguous, compact, within a band.

:func:`balanced_grid` divides every community into grids whose household counts
lie in a band (100–150 households in rural Zhoushan, ~250 in Yichang), each grid
one contiguous polygon, the grids tiling the community exactly.

How it works
------------
1. **Atoms.** The community is cut into small pieces that are never divided:
   with household *points* (or buildings, by their representative point) the
   street-bounded cells of :func:`gridkit.cells.make_cells` at a size holding about
   a tenth of the lower bound each at the community's mean density (with
   micro-grids, at most a sixth of theirs), cells holding more than two such shares
   (a dense estate) cut by the lattice of half, a quarter… the side, as their own
   density asks; with household *blocks* (census-style polygons with counts) the
   blocks themselves, clipped to the community, the uncovered rest
   as empty atoms, and — only with ``split_polygons`` — blocks above two atoms'
   worth of households or of area (at the community's mean density) cut by a
   lattice, their count shared by area. Block atoms come from one polygonize of
   the block edges and lattice lines, so neighbours share every vertex.
2. **Regions.** Atoms in one street block form a zone. A zone too light to reach
   the lower bound joins a neighbouring zone (so the grid crosses that street;
   counted as ``barrier_crossings``): one with which its households make a whole
   number of grids in the band if any, the one with the longest shared boundary
   among those; zones joined and still light look again, along all their boundary.
   An indivisible atom above the band is a grid of its own.
3. **Balanced power diagram.** A region of weight W becomes k grids, k the number
   nearest W / mid-band for which the band is reachable. Seeds come from a
   recursive coordinate bisection; each round assigns every atom to the seed with
   the least squared distance minus the seed's offset, raises the offsets of seeds
   short of households, and moves seeds to their cells' area centroids (a Lloyd
   step, which rounds the cells). Pieces cut off from their grid join a neighbour.
4. **Settling.** Single boundary atoms move to a neighbouring grid when that
   brings grids into the band or, band kept, raises the two grids' Polsby–Popper
   sum, never disconnecting a grid. Then each grid still out of the band (and not
   proved to be, below) has its neighbourhood (the grids around it, one ring, then
   two) merged and divided again into as many grids, one fewer or one more, as its
   households allow, when that leaves fewer grids out of the band: by exhaustive
   search over connected groups in the band (each grown by the atoms nearest its
   first, so compact groups come first; a group that cuts off a piece unable to make
   whole grids in the band is dropped at once) for up to 24 atoms, else by recursive
   bisection. This passes households along a chain of grids all at a bound, and
   drops a grid too light to keep, which single moves cannot. (The bisections cut
   straight; cuts along barriers count a quarter, and both sides must stay
   connected.)
5. **Straightening.** Pairs of neighbouring grids, the least
   compact first, are merged and re-cut by the best straight cut (most grids in
   the band, then the highest Polsby–Popper sum) when that beats the pair as it
   was — this straightens grids that wrap around a neighbour, which single moves
   cannot — and the moves run again around the re-cut grids (up to six rounds,
   pairs with a grid below 0.7). Re-cutting moves grids into the band too, so the
   neighbourhood repair runs once more after it. Grids still out of the band get
   last repairs by exhaustive search alone, in neighbourhoods of up to 60 atoms
   (the first repairs bisect those above 24), round after round while they bring
   grids in; what they re-divide is straightened again.
6. **Redrawing.** Each grid below 0.55 Polsby–Popper and the grids around it are
   drawn again as a small power diagram when that is more compact in sum and puts
   no more grids out of the band.
7. **Passing along.** A grid still out of the band takes a few atoms from a
   neighbour, which takes from its own, along a chain of grids, until one can
   spare them (a heavy grid passes them on); a grid left too light may be shared
   out, and towers (out of the band anyway) take what no other grid has room for.
   Then the pairs are re-cut and single atoms moved once more (step 5's rules),
   starting from the grids the redraws and the chains changed.
8. **Windows.** Each grid in the band below 0.55 Polsby–Popper, with one
   neighbour and then with two (all in the band, at most 12 atoms), is divided
   again into as many grids by exhaustive search for the connected grids in the
   band with the highest Polsby–Popper sum, when that beats them as they are: a
   dynamic program over the sets of atoms left, small in a window this size.
9. Grids outside the band (an island of 12 households, one building of 600) are
   kept and flagged with the reason. A grid holding a feature that no connected
   group of features within the band can hold is out of the band in any division:
   a bounded search over those groups proves it, and the flag says
   ``unplaceable`` instead of ``light`` or ``heavy`` (none found, none proved).
   Otherwise the same kind of search asks whether disjoint connected groups
   within the band can hold the households of the grid, then of the grid and the
   grids around it; when none can, some grid there is out of the band in any
   division, and the flag says ``forced``. So it does, without a search, for the
   only grid out in a region whose households make no whole number of grids in
   the band (330 between streets, grids of 200–300).

Everything is deterministic: ties break by index, there is no random seed.
The partitioner is written by hand because none of the peers (spopt max-p,
GerryChain, METIS, SKATER) returns street-bounded polygons that tile the
community; ``benchmarks/bench_households.py`` compares them on the same input.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import numbers
import os
import pickle
import re
import time
from collections import deque
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from . import coords
from .cells import barrier_lines, make_cells, street_blocks
from .codes import MAX_CELLS_PER_COMMUNITY, day_text, half_width_column
from .errors import GridkitError, InputError, LayoutError, near_column
from .io import TABLE_SUFFIXES, repair_polygons, require_frame, source_rows, unprojected
from .lattice import expand_ranges, square_pieces
from .merge import merge_slivers
from .units import (HIERARCHY_COLUMNS, MAX_AREAL_STRETCH, areal_scale, check_communities, lonlat_centre,
                    row_major_order)

__all__ = ["FLAGS", "Band", "HouseholdLayout", "balanced_grid", "households_from_floors", "read_households",
           "polsby_popper"]

log = logging.getLogger(__name__)

#: Directions (degrees) of the straight cuts a bisection sweeps across a region.
SWEEP_DIRECTIONS = tuple(range(0, 180, 15))
#: How many of the shortest straight cuts are checked for connected sides.
SWEEP_CHECKS = 24
#: Directions (degrees) in which a bisection grows its first side when no straight cut works.
DIRECTIONS = tuple(range(0, 360, 45))
#: Refinement passes over the grid boundaries, and the least Polsby–Popper gain a move must bring.
REFINE_PASSES = 12
MIN_PP_GAIN = 1e-4
KMEANS_ITERATIONS = 40
KMEANS_STEP = 0.2
#: Each atom weighs this many nearest seeds, re-found every CANDIDATE_REFRESH rounds.
CANDIDATE_SEEDS = 12
CANDIDATE_REFRESH = 4
#: Pairs of grids with one below this Polsby–Popper are re-cut, in up to this many rounds.
RECOMBINE_BELOW = 0.7
RECOMBINE_ROUNDS = 6
#: Pairs whose straight cuts are swept in one go (numpy's per-call cost, shared).
CUTS_AT_ONCE = 16
#: A grid out of the band is re-divided with up to this many rings of grids around it.
REPAIR_RINGS = 2
#: Neighbourhoods of up to this many atoms are re-divided by exhaustive search first,
#: looking at up to this many groups of atoms.
EXACT_ATOMS = 24
EXACT_SETS = 1000
#: The last repairs search neighbourhoods of up to this many atoms (the first ones bisect above EXACT_ATOMS).
LAST_EXACT_ATOMS = 60
#: A grid brought into the band outweighs any Polsby–Popper sum of two grids (≤ 2).
IN_BAND_SCORE = 10.0
#: Orientations (degrees) of the coordinate bisections that seed the power diagrams.
SEED_ANGLES = (0,)
#: A cut edge along a barrier counts this much of its length.
BARRIER_CUT_DISCOUNT = 0.25
#: Atoms aim to hold this share of the band's lower bound (blocks cut with
#: ``split_polygons``; with micro-grids, of the micro lower bound) …
ATOM_SHARE = 1 / 6
#: … and point atoms this share: finer (more compact grids; Dongcheng's 200,000 points
#: at 100–150 Polsby–Popper 0.706 → 0.731 for 2.6 → 3.5 s).
POINT_ATOM_SHARE = 1 / 10
#: With ``split_polygons``, blocks holding more than this many atoms' worth are cut (and so
#: are point atoms, always).
SPLIT_ABOVE = 2
#: Point atoms in dense places are cut no finer than this side (m).
MIN_ATOM_SIDE = 5.0
#: Lattice lines cutting a block reach this far (m) past its edge, so noding meets it.
STUB = 1e-6
#: Redrawing (:func:`_redraw`): each grid below REDRAW_BELOW Polsby–Popper and the
#: grids around it (at most REDRAW_GRIDS in all) are drawn again as a power diagram of
#: REDRAW_ITERATIONS rounds, seeded in each of REDRAW_ANGLES (degrees); up to
#: REDRAW_ROUNDS times while any redraw gains.
REDRAW_BELOW = 0.55
REDRAW_GRIDS = 12
REDRAW_ITERATIONS = 20
REDRAW_ANGLES = (0, 90)
REDRAW_ROUNDS = 4
#: Windows (:func:`_exact_windows`): each grid below WINDOW_BELOW Polsby–Popper with one or
#: two of its neighbours (WINDOW_GRIDS grids at most, holding WINDOW_ATOMS atoms at most)
#: is divided again, the most compact way, by exhaustive search; up to WINDOW_ROUNDS
#: rounds while any window gains.
WINDOW_BELOW = 0.55
WINDOW_GRIDS = 3
WINDOW_ATOMS = 12
WINDOW_ROUNDS = 6
#: Chains of moves (:func:`_pass_along`): groups of up to CHAIN_GROUP atoms passed along
#: up to CHAIN_DEPTH grids after the first, looking at up to CHAIN_GROUPS groups per grid
#: out of the band and choosing among the first CHAIN_OPTIONS chains found.
CHAIN_GROUP = 3
CHAIN_DEPTH = 8
CHAIN_GROUPS = 20000
CHAIN_OPTIONS = 50
#: How many groups of atoms the proof that an atom fits in no grid in the band may look at.
PROOF_SETS = 5000
#: How many rings of grids around a grid out of the band the proof that some grid
#: there must be out (:func:`_cannot_cover`) takes in, after the grid alone, and
#: how many groups it may look at for each. The proofs found on Cincinnati took
#: 2–1,250 groups (the pieces' grid of 99 at 100–150: 660); one left unsettled costs
#: the whole budget, and in a band too narrow for the data most are.
PROOF_RINGS = 1
PROOF_COVER_SETS = 1000
#: Faces of noding smaller than this (m²) are no atom: a polygon of no area.
DEGENERATE_AREA = 1e-6
#: Block vertices this close (metres) to their community's edge are snapped onto it
#: (:func:`_block_atoms`).
SNAP_M = 1e-3
#: Micro-grids get 2 more digits: at most 99 per grid.
MAX_MICRO = 99


@dataclass(frozen=True)
class Band:
    """A household band ``[low, high]``.

    Examples
    --------
    >>> Band(100, 150).parts_for(1000)
    8
    >>> Band(100, 150).parts_for(160) is None  # one grid is too many, two too few
    True
    >>> Band(46, 64.97).parts_for(193)  # whole households: at most 64 a grid
    4
    """

    low: float
    high: float
    what: str = field(default="household band", compare=False, repr=False)  # how errors name it

    def __post_init__(self):
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (self.low, self.high)):
            raise InputError(f"{self.what} {self.low!r}–{self.high!r}: give two numbers of households")
        if not (0 < self.low <= self.high < math.inf):  # nan fails every comparison
            raise InputError(f"{self.what} {self.low:g}–{self.high:g}: need 0 < min ≤ max, finite numbers")
        if self.whole[1] < self.whole[0]:
            raise InputError(f"{self.what} {self.low:g}–{self.high:g} holds no whole number of households; "
                             "widen it")

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2

    def contains(self, w) -> np.ndarray:
        return (np.asarray(w) >= self.low) & (np.asarray(w) <= self.high)

    def parts_for(self, weight: float):
        """The number of grids nearest ``weight / mid`` with the band reachable, or None.

        Households are whole, so a band of 46–64.97 holds 46–64: 193 households make
        4 grids, not 3 (3 × 64 = 192).
        """
        low, high = self.whole
        k_lo, k_hi = math.ceil(weight / high), math.floor(weight / low)
        if k_lo > k_hi or k_hi < 1:
            return None
        return int(min(max(round(weight / self.mid), k_lo), k_hi))

    @property
    def whole(self) -> tuple[int, int]:
        """The band in whole households: ``(ceil(low), floor(high))``."""
        return math.ceil(self.low - 1e-9), math.floor(self.high + 1e-9)

    @classmethod
    def from_target(cls, target: float, tolerance: float) -> Band:
        """``target ± tolerance`` (a share below 1, or households)."""
        delta = tolerance * target if tolerance < 1 else tolerance
        if delta >= target:
            raise InputError(f"target {target:g} ± tolerance {tolerance:g} households reaches down to "
                             f"{target - delta:g}: give a tolerance below the target (a share such as 0.2, or "
                             f"fewer than {target:g} households)")
        return cls(target - delta, target + delta, f"household band (target {target:g} ± {tolerance:g})")


@dataclass
class HouseholdLayout:
    """What :func:`balanced_grid` returns."""

    grids: gpd.GeoDataFrame
    micro: gpd.GeoDataFrame | None
    rejects: gpd.GeoDataFrame  # household features outside every community, with a reason
    summary: dict = field(default_factory=dict)
    #: Each community's households (by code) that its atoms were sized for: a
    #: rebalance sizes them alike (``rebalance(sized_for=)``), so that blocks that did
    #: not change are cut, and share their households among the grids, as they were.
    sized_for: dict = field(default_factory=dict)


def polsby_popper(geometry) -> np.ndarray:
    """4πA / P² per polygon: 1 for a disc, 0.785 for a square.

    Examples
    --------
    >>> polsby_popper([shapely.box(0, 0, 1, 1)]).round(3).tolist()
    [0.785]
    """
    geometry = np.asarray(geometry, dtype=object)
    perimeter = shapely.length(geometry)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * shapely.area(geometry) / perimeter**2, 0.0)


# --- reading --------------------------------------------------------------------

def read_households(households, *, count_field=None, floors_field=None, area_per_household=None,
                    default_floors=None, kind="auto", communities=None):
    """Validate a household layer: geometry, a non-negative whole count per feature.

    The count is ``count_field``, or 1 per feature (not for blocks, an error naming
    the column that looks like their count), or — for building polygons with
    ``floors_field`` — the building's floor area (footprint in m² × floors) divided by
    ``area_per_household`` (m² of floor area per household), rounded to the nearest
    whole household (:func:`households_from_floors`; ``default_floors`` for
    buildings with none given).

    A point feature with no geometry (a CSV row whose coordinates are blank:
    :func:`gridkit.catalogue.read_points` says why in ``attrs["no_position"]``) is
    kept, a warning naming its row, for :func:`place_households` to reject; a
    polygon without one is an error.

    Returns ``(frame, kind)`` with columns ``households`` and ``geometry``; ``kind``
    is ``"points"`` (points, or buildings by their representative point) or
    ``"blocks"`` (areal counts). ``auto`` picks blocks for polygons that cover
    at least half of the communities, points otherwise.
    """
    require_frame(households, "the households", fix="read them with gridkit.read_vector(path)")
    if households.crs is None:
        raise InputError("the households have no CRS; read them with read_vector(path, crs=...)")
    source = households.attrs.get("source_path", "households")
    geoms = households.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = set(shapely.get_type_id(geoms[~empty]).tolist())
    polygonal = bool(types) and types <= {3, 6}
    if empty.any() and not types <= {0, 4}:
        # A block or building without its shape is a broken layer. A point without
        # one, an address a ledger could not place (blank lon/lat, a total row), is a
        # reject with its reason, as one outside every community is.
        listed = _listed_rows(households, empty, "has no geometry", "have no geometry")
        raise InputError(f"{source}: {listed} (rows count from 1); fix or remove them")
    if polygonal and not shapely.is_valid(geoms).all():
        # A self-crossing building or block is repaired (a warning names it) rather
        # than failing deep inside the union of the features.
        households, _ = repair_polygons(households, what=source)
        geoms = households.geometry.values
    if floors_field is not None or area_per_household is not None:
        if count_field is not None:
            raise InputError("give a count field or a floors field with an area per household, not both")
        counts = households_from_floors(households, floors_field, area_per_household, default_floors)
    elif count_field is None:
        counts = np.ones(len(households), dtype="int64")
    else:
        if count_field not in households.columns:
            cols = ", ".join(c for c in households.columns if c != households.geometry.name)
            raise InputError(f"{source}: no count column {count_field!r}"
                             f"{near_column(count_field, households.columns)}; columns are: {cols}")
        raw = pd.Series(_numbers(households[count_field], _COUNT_UNITS, source, count_field))
        bad = ~np.isfinite(raw) | (raw < 0) | (raw != np.floor(raw))  # NaN, inf ("inf" in a CSV) too
        raw[bad & empty] = 0  # a reject: a blank row, a header repeated, counts nothing
        bad &= ~empty
        if bad.any():
            shown, n = _shown_rows(households, count_field, bad.to_numpy()), int(bad.sum())
            counts_are = (f"count in {count_field!r} is not a whole number" if n == 1 else
                          f"counts in {count_field!r} are not whole numbers")
            raise InputError(f"{source}: {n} household {counts_are} ≥ 0: {shown}. Fix the values (a household "
                             "count is a non-negative integer).")
        counts = raw.to_numpy().astype("int64")
    if not polygonal and not types <= {0, 4}:
        found = ", ".join(sorted(set(households.geom_type)))
        raise InputError(f"{source}: holds {found} features; household features are points, or polygons "
                         "(buildings, blocks), of one kind")
    if kind == "auto":
        kind = "points"
        if polygonal and communities is not None:
            covered = shapely.area(shapely.union_all(geoms)) if len(geoms) else 0.0
            total = shapely.area(communities.to_crs(households.crs).geometry.values).sum()
            kind = "blocks" if covered >= 0.5 * total else "points"
    if kind not in ("points", "blocks"):
        raise InputError(f"households kind {kind!r}: choose points, blocks or auto")
    if kind == "blocks" and not polygonal:
        found = ", ".join(sorted(set(households.geom_type)))
        raise InputError(f"{source}: kind 'blocks' needs polygons with counts, and it holds {found} features: "
                         "read them as points (--kind points)")
    if kind == "blocks" and count_field is None and floors_field is None and area_per_household is None:
        # A block counted as one household gives grids of 100–150 blocks, which look right.
        named = [str(c) for c in households.columns if re.search("household|户", str(c), re.IGNORECASE)]
        raise InputError(f"{source}: census-style blocks (polygons covering the communities) hold the households "
                         "they count: give the column holding them (--count-field"
                         + (f" {named[0]}" if len(named) == 1 else f": one of {', '.join(named)}" if named else "")
                         + "); buildings of one household each are read as points (--kind points)")
    if polygonal or count_field is not None or floors_field is not None:
        _warn_repeated_rows(households, source)
    frame = gpd.GeoDataFrame({"households": counts, "source_row": source_rows(households)},
                             geometry=households.geometry.values, crs=households.crs)
    frame.attrs.update(source_path=source, source_crs=households.attrs.get("source_crs"))
    if empty.any():
        frame["no_position"] = why = _no_position(households.attrs.get("no_position"), empty, counts,
                                                  _header_again(households, empty))
        listed = _listed_rows(households, empty, "has no position", "have no position")
        first = why[np.flatnonzero(empty)[0]].removeprefix("no position: ")
        log.warning("%s: %s (%s%s). %s, %s households in no grid", source, listed,
                    "the first: " if empty.sum() > 1 else "", first,
                    "It is a reject" if empty.sum() == 1 else "They are rejects", f"{int(counts[empty].sum()):,}")
    return frame, kind


def _no_position(why, empty, counts, header=None):
    """Why each feature of ``empty`` has no position (None for the others): ``why``,
    :func:`gridkit.catalogue.read_points`' reasons, or that it has no geometry; a
    count that is the sum of all the others' is a ledger's total row, and a row of
    ``header`` the header repeated (two ledgers pasted one under the other)."""
    why = np.full(len(empty), "no geometry", dtype=object) if why is None else np.asarray(why, dtype=object)
    reason = np.full(len(empty), None, dtype=object)
    total = int(counts.sum())
    for i in np.flatnonzero(empty).tolist():
        total_row = len(counts) > 2 and counts[i] > 0 and 2 * counts[i] == total
        reason[i] = f"no position: {why[i]}" + (f", and its count, {counts[i]:,}, is the sum of all the others' "
                                                "(a total row?)" if total_row else "")
        if header is not None and header[i]:
            reason[i] += ", and it holds the column names: the header repeated?"
    return reason


def _header_again(table, rows):
    """Which of ``rows`` (a mask) of ``table`` repeat its header: at least one of the
    row's values, and half, are the names of their columns ("lon", "lat", "hh")."""
    columns = [c for c in table.columns if c != table.geometry.name]
    named = np.zeros(len(table), dtype="int64")
    at = np.flatnonzero(rows)
    for c in columns:
        named[at] += (table[c].iloc[at].astype(str).str.strip() == str(c)).to_numpy()
    return (named >= 1) & (2 * named >= len(columns))


def reject_counts(rejects) -> dict:
    """The summary's counts of the household ``rejects``: ``outside`` every
    community (or grid), of them ``unprojected`` (coordinates that do not project
    into the CRS), and ``no_position`` (no coordinates at all: not outside); and
    ``outside_hint`` when those outside would lie inside read in China's other lon/lat
    system (:func:`place_households`)."""
    placeless = rejects["reason"].str.startswith("no position").to_numpy(dtype=bool)
    hint = rejects.attrs.get("outside_hint")
    return {"outside": int((~placeless).sum()), "no_position": int(placeless.sum()),
            "unprojected": int((rejects.geometry.isna().to_numpy() & ~placeless).sum()),
            **({"outside_hint": hint} if hint else {})}


def _warn_repeated_rows(households, source):
    """Warn of the rows that repeat an earlier one in every column and in place: a
    ledger pasted twice counts its households twice. (Points without a count, one
    row per household, repeat where a building holds several: no warning then.)"""
    # Column by column into a frame of its own: the layer's attrs (its source rows, an
    # array) make pandas' frame-wide copies compare them, which fails.
    columns = [c for c in households.columns if c != households.geometry.name]
    values = pd.DataFrame({k: households[c].astype(str).to_numpy() for k, c in enumerate(columns)})
    values["_at"] = shapely.to_wkb(households.geometry.values)
    again = values.duplicated().to_numpy()
    if again.any():
        listed = _listed_rows(households, again, "repeats an earlier row", "repeat an earlier row")
        log.warning("%s: %s in every column and place; each is counted (a ledger pasted twice counts its "
                    "households twice: remove them if so)", source, listed)


#: The units a count or a floor number may be written with in a ledger ("12户", "6层").
_COUNT_UNITS = "户|戶|households?"
_FLOOR_UNITS = "层|層|楼|樓|F|floors?|storeys?|stories|levels?"


def _numbers(column, units, source, field):
    """A column of counts as floats (NaN where not a number), read as a ledger writes
    them: with a unit ("12户", "6层", "6F", ``units``), thousands separators ("1,200")
    or full-width digits ("１２"), which a log line notes.

    >>> counts = pd.Series([3, "12户", " 6 F", "1,200", "x", None, "1,20", "１２"])
    >>> _numbers(counts, _FLOOR_UNITS + "|户", "f", "n").tolist()
    [3.0, 12.0, 6.0, 1200.0, nan, nan, nan, 12.0]
    """
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, copy=True)
    retry = np.flatnonzero(np.isnan(values) & column.notna().to_numpy())
    if len(retry):  # only the rows that are no plain number: a clean column costs nothing more
        text = half_width_column(column.iloc[retry].astype(str).str.strip())
        number = text.str.extract(rf"^([+-]?\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|[+-]?\d+(?:\.\d+)?)\s*(?:{units})?$",
                                  flags=re.IGNORECASE)[0]
        parsed = pd.to_numeric(number.str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype=float)
        values[retry] = parsed
        read = np.flatnonzero(np.isfinite(parsed))
        if len(read):
            log.info("%s: %s values in %r read as numbers without their unit or separators (%r as %g)", source,
                     f"{len(read):,}", field, text.iloc[read[0]], parsed[read[0]])
    return values


def _shown_rows(frame, field, bad):
    """'row 2 (-3), row 5 ('x')': the first ten ``bad`` rows of ``frame[field]``, numbered
    as in the file (from 1, read with a ``where`` or not), their values as the user
    wrote them (Python values, not numpy reprs; "blank" where there is none)."""
    values, rows = frame[field].tolist(), source_rows(frame)
    return ", ".join(f"row {rows[r]} ({'blank' if pd.isna(values[r]) else repr(values[r])})"
                     for r in np.flatnonzero(bad)[:10].tolist())


def _listed_rows(frame, bad, one="", many=""):
    """'row 5 {one}', 'rows 2, 5 {many}' or '12 rows {many} (the first ten: 2, 5, …)':
    the ``bad`` rows of ``frame``, numbered as in the file (from 1)."""
    n = int(np.count_nonzero(bad))
    listed = ", ".join(map(str, source_rows(frame)[np.flatnonzero(bad)[:10]].tolist()))
    rows = f"row {listed}" if n == 1 else f"rows {listed}" if n <= 10 else f"{n:,} rows"
    said = " ".join(filter(None, (rows, one if n == 1 else many)))
    return said if n <= 10 else f"{said} (the first ten: {listed})"


def households_from_floors(buildings, floors_field, area_per_household, default_floors=None):
    """Households per building polygon from the floor-area rule: footprint area
    (m², measured in a metric CRS whatever the layer's CRS) × floors ÷
    ``area_per_household`` (m² of floor area per household), rounded to the nearest
    whole household (halves up). A shed too small for one household counts 0.

    A building with no floors given (empty, as OpenStreetMap's ``building:levels``
    often is) is an error naming the rows, unless ``default_floors`` is given: then
    it counts that many floors, and a warning says how many buildings did.
    """
    source = buildings.attrs.get("source_path", "households")
    if floors_field is None or area_per_household is None:
        raise InputError("the floor-area rule needs both a floors field and the floor area per household (m²)")
    if not (isinstance(area_per_household, (int, float)) and math.isfinite(area_per_household)
            and area_per_household > 0):
        raise InputError(f"floor area per household {area_per_household!r}: give a number of m² above 0, e.g. 90")
    if floors_field not in buildings.columns:
        cols = ", ".join(c for c in buildings.columns if c != buildings.geometry.name)
        raise InputError(f"{source}: no floors column {floors_field!r}"
                         f"{near_column(floors_field, buildings.columns)}; columns are: {cols}")
    geoms = buildings.geometry.values
    flat = ~np.isin(shapely.get_type_id(geoms), (3, 6))
    if flat.any():
        raise InputError(_not_footprints(buildings, flat, source))
    given = buildings[floors_field]
    floors = _numbers(given, _FLOOR_UNITS, source, floors_field)
    missing = (given.isna() | given.astype(str).str.strip().eq("")).to_numpy()
    if default_floors is not None:
        if not (isinstance(default_floors, (int, float)) and math.isfinite(default_floors) and default_floors >= 0):
            raise InputError(f"default floors {default_floors!r}: give a number ≥ 0, e.g. 1")
        floors[missing] = default_floors
        if missing.any():
            n = int(missing.sum())
            log.warning("%s: %s %s no floors in %r; each counted as %g floor%s", source,
                        f"{n:,} building" + ("" if n == 1 else "s"), "has" if n == 1 else "have", floors_field,
                        default_floors, "" if default_floors == 1 else "s")
    wrong = (~np.isfinite(floors) | (floors < 0)) & ~missing
    empty = missing & ~np.isfinite(floors)  # no default given
    if wrong.any() or empty.any():
        raise InputError(_bad_floors(buildings, floors_field, wrong, empty, source))
    crs = buildings.crs
    # Web Mercator's "m²" are 0.59 m² of ground in Beijing (units.areal_scale): measured as lon/lat are.
    stretched = not crs.is_geographic and abs(areal_scale(crs, buildings.total_bounds) - 1) > MAX_AREAL_STRETCH
    if crs.is_geographic or stretched:
        from .coords import metric_crs_for

        metric = metric_crs_for(*lonlat_centre(crs, buildings.total_bounds))
        area = shapely.area(buildings.geometry.to_crs(metric).values)
    else:  # a projected CRS's own unit: US feet for Ohio South, metres for most
        area = shapely.area(geoms) * crs.axis_info[0].unit_conversion_factor ** 2
    return np.floor(area * floors / area_per_household + 0.5).astype("int64")


def _bad_floors(buildings, field, wrong, empty, source):
    """The message for floors that are not numbers ≥ 0 (``wrong``) or not given
    (``empty``, with no default): the rows and values of the wrong ones, and for the
    empty ones the default that fills them; both numbered as in the file."""
    parts = []
    if wrong.any():
        n = int(wrong.sum())
        said = "floor count in {!r} is not a number" if n == 1 else "floor counts in {!r} are not numbers"
        parts.append(f"{n:,} {said.format(field)} ≥ 0: {_shown_rows(buildings, field, wrong)}. Fix the values "
                     "(storeys above ground, 0 for none)")
    if empty.any():
        said = f"{{}} no floors in {field!r}"
        parts.append(f"{_listed_rows(buildings, empty, said.format('has'), said.format('have'))}: give a default "
                     "for the empty ones (default_floors, --default-floors 1), or fill them in")
    return f"{source}: " + "; ".join(parts) + "."


def _not_footprints(buildings, flat, source):
    """The message for buildings given as points (or lines), which the floor-area rule
    cannot measure: their rows, and the filter that leaves them out of the file
    (OpenStreetMap exports hold buildings mapped as nodes among the footprints)."""
    kinds = {0: "point", 4: "point", 1: "line", 5: "line", 2: "line", 7: "collection"}
    found = dict.fromkeys(kinds.get(k, "empty geometry") for k in shapely.get_type_id(buildings.geometry.values[flat]))
    one, many = " or ".join(f"a {k}" for k in found), " or ".join(f"{k}s" for k in found)
    path = str(source).lower()
    if path.endswith(".gpkg"):
        column = _geometry_column(str(source), buildings.attrs.get("source_layer", 0))
        leave = f"--households-where \"ST_GeometryType({column}) LIKE '%POLYGON'\""
    elif path.endswith(TABLE_SUFFIXES):
        leave = "delete their rows"
    else:
        leave = "--households-where \"OGR_GEOMETRY LIKE '%POLYGON'\""
    listed = _listed_rows(buildings, flat, f"is {one}, not a building footprint",
                          f"are {many}, not building footprints")
    return (f"{source}: {listed} (rows count from 1): the floor-area rule measures each footprint. Leave them out "
            f"({leave}) or draw their footprints.")


def _geometry_column(gpkg, layer):
    """The name of ``layer``'s geometry column in the GeoPackage ``gpkg`` (GDAL and
    QGIS write "geom", ArcGIS "Shape"), for an SQL filter over it."""
    import pyogrio

    try:
        return pyogrio.read_info(gpkg, layer=layer).get("geometry_name") or "geom"
    except Exception:  # noqa: BLE001 - a hint in a message: the common name will do
        return "geom"


# --- atoms ----------------------------------------------------------------------

@dataclass
class _Atoms:
    geometry: np.ndarray
    weight: np.ndarray  # households (int)
    zone: np.ndarray  # street block (points) or source block (blocks): cuts between zones are cheap
    indivisible: np.ndarray  # bool: a single unsplittable feature (building, block)
    street_zones: bool = True  # zones are street blocks, grouped into regions before dividing

    def take(self, idx):
        return _Atoms(self.geometry[idx], self.weight[idx], self.zone[idx], self.indivisible[idx],
                      self.street_zones)


def _share_by_area(count, areas, group=None):
    """Split integer counts over pieces in proportion to ``areas`` (largest remainder).

    With ``group``, ``count`` is an array (one per group) and each group's count
    is split over its own pieces; ties break by piece index.

    Examples
    --------
    >>> _share_by_area(10, [1, 1, 1]).tolist()
    [4, 3, 3]
    >>> _share_by_area([5, 2], [1, 1, 3, 1], group=[0, 0, 1, 1]).tolist()
    [3, 2, 2, 0]
    """
    areas = np.asarray(areas, dtype=float)
    if group is None:
        group, count = np.zeros(len(areas), dtype="int64"), np.atleast_1d(count)
    group, count = np.asarray(group, dtype="int64"), np.asarray(count, dtype="int64")
    total = np.bincount(group, areas, minlength=len(count))
    mine = np.where(total > 0, count, 0)[group]
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(total[group] > 0, mine * areas / total[group], 0.0)
    base = np.floor(exact).astype("int64")
    rest = np.where(total > 0, count, 0) - np.bincount(group, base, minlength=len(count))
    order = np.lexsort((np.arange(len(areas)), -(exact - base), group))
    start = np.searchsorted(group[order], np.arange(len(count)))
    rank = np.empty(len(areas), dtype="int64")
    rank[order] = np.arange(len(areas)) - start[group[order]]
    return base + (rank < rest[group])


def _point_atoms(community, points, counts, band, barriers, piece=None, *, sized_for=None):
    """Atoms for household points: street-bounded lattice cells sized for the
    community's mean density to hold ``piece`` households each (default: ATOM_SHARE
    of the lower bound); cells holding more than SPLIT_ABOVE atoms' worth (a dense
    estate among sparse streets) are cut by the lattice of half, a quarter… their
    side (the same origin, so the pieces tile them), as fine as their own density
    asks, down to MIN_ATOM_SIDE."""
    area = community.area
    total = max(int(counts.sum() if sized_for is None else sized_for), 1)
    piece = band.low * ATOM_SHARE if piece is None else piece
    side = math.sqrt(area * piece / total)
    side = min(max(side, 10.0), 500.0)
    made = make_cells([community], None, cell_area=side * side, barriers=barriers)
    geoms, zone = made.geometry, made.zone
    weight, biggest = _point_weights(geoms, points, counts)
    # Halvings of the side that bring each cell to about one atom's households.
    level = np.ceil(np.log2(np.sqrt(np.maximum(weight, 1) / piece)) - 1e-9).astype("int64")
    level = np.where(weight > SPLIT_ABOVE * piece, np.minimum(level, int(math.log2(side / MIN_ATOM_SIDE))), 0)
    if (level > 0).any():  # dense cells are cut: count again over the pieces
        kept, new_geoms, new_zone = level <= 0, [], []
        for j in np.unique(level[level > 0]).tolist():
            cut = np.flatnonzero(level == j)
            pieces = square_pieces(geoms[cut], side / 2**j)
            new_geoms.append(pieces.geometry)
            new_zone.append(zone[cut][pieces.poly_index])
        geoms = np.concatenate([geoms[kept], *new_geoms])
        zone = np.concatenate([zone[kept], *new_zone])
        weight, biggest = _point_weights(geoms, points, counts)
    return _Atoms(geoms, weight, zone, biggest > band.high)


def _point_weights(geoms, points, counts):
    """Households in each atom, and the largest single feature in it; a point on a
    shared edge counts in the lowest-numbered atom."""
    weight = np.zeros(len(geoms), dtype="int64")
    biggest = np.zeros(len(geoms), dtype="int64")
    if len(points):
        # A point in no atom (a face the noding of the street blocks dropped) goes to
        # the atom nearest it: none is lost.
        home = first_hit(points, geoms, nearest=True)
        np.add.at(weight, home, counts)
        np.maximum.at(biggest, home, counts)
    return weight, biggest


def _block_atoms(community, blocks, counts, band, split, barriers=None, *, sized_for=None):
    """Atoms of one community from household blocks: the blocks clipped to it, the
    uncovered rest as empty atoms, and — with ``split`` — blocks above two atoms'
    worth cut by a square lattice sized for one atom, their count shared by area.

    All atoms come out of one :func:`shapely.polygonize` of the block edges, the
    community edge and the lattice lines inside cut blocks, so neighbours share
    every vertex of their common edges (:func:`_adjacency` needs that) without a
    second noding pass over every atom.

    With ``barriers`` (lines), they are noded in too (a block a road crosses keeps
    its households in its largest face), and each atom's zone is the street block
    (:func:`gridkit.cells.street_blocks`) it lies in, as with points; without, its
    source block, whose edges make cheap cuts.
    """
    shapely.prepare(community)
    near = np.flatnonzero(shapely.intersects(community, blocks))
    clipped = blocks[near].copy()
    # Block edges a hair (under SNAP_M) from the community's, as rounded coordinates
    # leave them (a CSV of WKT), snapped onto it: noded as they were, they moved the
    # community's edge by a micrometre, and grids lay 1e-4 m² beyond their community.
    edge = shapely.boundary(community)
    hair = shapely.dwithin(clipped, edge, SNAP_M)
    clipped[hair] = shapely.snap(clipped[hair], edge, SNAP_M)
    crossing = ~shapely.covers(community, clipped)
    clipped[crossing] = shapely.intersection(clipped[crossing], community)
    parts, owner = shapely.get_parts(clipped, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    parts, owner = parts[keep], near[owner[keep]]
    area = shapely.area(parts)
    blocks_kept, block = np.unique(owner, return_inverse=True)
    # A block the community's edge cuts in two shares its one count over its parts.
    weight = _share_by_area(counts[blocks_kept].astype("int64"), area, group=block)
    piece = band.low * ATOM_SHARE
    # An atom's area at the community's mean density: large sparse blocks are cut too,
    # so grids in thin areas are not stuck with a few sprawling blocks.
    piece_area = community.area * piece / max(float(counts.sum() if sized_for is None else sized_for), 1.0)
    side = np.sqrt(np.minimum(area * piece / np.maximum(weight, 1), piece_area))
    cut = split & ((weight > SPLIT_ABOVE * piece) | (area > SPLIT_ABOVE * piece_area))
    side = side[cut]
    lines = np.r_[shapely.boundary(parts), [shapely.boundary(community)], _lattice_lines(parts[cut], side)]
    if barriers is not None:
        roads = barriers[shapely.STRtree(barriers).query(community, predicate="intersects")]
        lines = np.r_[lines, shapely.intersection(roads, community)]
    faces, probe = _faces(shapely.get_parts(shapely.union_all(lines)), community)
    f_idx, p_idx = shapely.STRtree(parts).query(probe, predicate="within")
    home = np.full(len(faces), -1)
    home[f_idx[::-1]] = p_idx[::-1]  # the lowest part wins where blocks overlap
    has = home >= 0
    f_area = shapely.area(faces)
    f_cut = np.r_[cut, False][home]  # faces in no block (home -1) read the appended False
    # A cut part shares its count by area; a whole one gives it all to its largest face.
    share = np.where(f_cut, f_area, 0.0)
    whole = np.flatnonzero(has & ~f_cut)
    largest = whole[np.lexsort((whole, -f_area[whole], home[whole]))]
    first = np.r_[True, home[largest][1:] != home[largest][:-1]] if len(largest) else np.zeros(0, bool)
    share[largest[first]] = 1.0
    f_weight = np.zeros(len(faces), dtype="int64")
    f_weight[has] = _share_by_area(weight, share[has], group=home[has])
    _keep_every_household(f_weight, faces, weight - np.bincount(home[has], f_weight[has], minlength=len(parts)),
                          parts, np.setdiff1d(near, owner), blocks, counts)
    if barriers is None:
        zone = np.r_[owner, -1][home]  # the source block; -1 for the uncovered rest
        return _Atoms(faces, f_weight, zone, has & ~f_cut, street_zones=False)
    streets = street_blocks([community], barriers)[0]
    f_idx, s_idx = shapely.STRtree(streets).query(probe, predicate="intersects")
    zone = np.full(len(faces), -1)
    zone[f_idx[::-1]] = s_idx[::-1]  # the lowest street block, should a point lie on an edge
    return _Atoms(faces, f_weight, zone, has & ~f_cut)


def _faces(lines, community):
    """The faces of noded lines (:func:`shapely.polygonize`) inside ``community`` (by
    a point on each), and those points. Faces of no area (below DEGENERATE_AREA)
    merge into the neighbour with which they share the longest edge
    (:func:`gridkit.merge.merge_slivers`), or go when they touch none: where lines
    run almost together, polygonize can return a valid sliver of 133 m and
    5·10⁻⁹ m² (Futian's OpenStreetMap streets), which no union of atoms can take
    (GEOS: "CoverageUnion cannot process overlapping inputs"). Merged, its far
    edge still meets the face beyond it."""
    faces = shapely.get_parts(shapely.polygonize(lines))
    shapely.prepare(community)
    faces = faces[shapely.contains(community, shapely.point_on_surface(faces))]
    if (shapely.area(faces) <= DEGENERATE_AREA).any():
        merged = merge_slivers(faces, np.zeros(len(faces), dtype="int64"), DEGENERATE_AREA)
        faces = merged.geometry[~merged.isolated]
    return faces, shapely.point_on_surface(faces)


def _keep_every_household(f_weight, faces, missing, parts, dropped, blocks, counts):
    """Households no face took go to the face nearest them (in place): a block
    wholly under another (overlapping blocks: the lower one keeps the faces), and
    a block whose part inside the community is not a polygon (a sliver along the
    edge). None is lost."""
    lost = np.r_[missing[missing > 0], counts[dropped]].astype("int64")
    if not lost.sum() or not len(faces):
        return
    where = np.r_[shapely.point_on_surface(parts[missing > 0]), shapely.point_on_surface(blocks[dropped])]
    at, face = shapely.STRtree(faces).query_nearest(where)
    first = np.r_[True, at[1:] != at[:-1]]  # ties: the lowest face
    np.add.at(f_weight, face[first], lost[at[first]])
    log.warning("%s households of %s blocks lie under other blocks or on the community's edge; each "
                "block's households went to the atom nearest it", f"{int(lost.sum()):,}", f"{int((lost > 0).sum()):,}")


def _lattice_lines(polygons, sides):
    """The lines of each polygon's square lattice (cell side ``sides[i]``, anchored
    at 0, 0) inside the polygon. Each piece reaches 1 µm past the polygon's edge,
    so noding always meets the edge (an end computed on it may sit 1e-10 short);
    the stubs outside are dangles, which polygonize drops."""
    if not len(polygons):
        return np.empty(0, dtype=object)
    b = shapely.bounds(polygons)
    segments = []
    for axis in (0, 1):  # 0: vertical lines x = k·side; 1: horizontal lines y = k·side
        at, owner = expand_ranges(np.floor(b[:, axis] / sides).astype("int64") + 1,
                                  np.ceil(b[:, axis + 2] / sides).astype("int64"))
        pos = at * sides[owner]
        ends = np.empty((len(at), 2, 2))
        ends[:, :, axis] = pos[:, None]
        ends[:, 0, 1 - axis] = b[owner, 1 - axis] - 1.0
        ends[:, 1, 1 - axis] = b[owner, 3 - axis] + 1.0
        inside = shapely.intersection(shapely.linestrings(ends), polygons[owner])
        pieces = shapely.get_parts(inside)
        pieces = pieces[shapely.get_type_id(pieces) == 1]
        xy, idx = shapely.get_coordinates(pieces, return_index=True)
        first = np.r_[True, idx[1:] != idx[:-1]]
        last = np.r_[idx[1:] != idx[:-1], True]
        lo = np.minimum(xy[first, 1 - axis], xy[last, 1 - axis]) - STUB
        hi = np.maximum(xy[first, 1 - axis], xy[last, 1 - axis]) + STUB
        ends = np.empty((len(pieces), 2, 2))
        ends[:, :, axis] = xy[first, axis][:, None]
        ends[:, 0, 1 - axis], ends[:, 1, 1 - axis] = lo, hi
        segments.append(shapely.linestrings(ends))
    return np.concatenate(segments)


def _noded(atoms, community):
    """Re-cut the atoms so neighbours share every vertex of their common edges.

    Used for point atoms: lattice cells clipped to one street block gain vertices
    on the block's edge that the cells across the street lack, and unions across
    such edges fall apart into multipolygons. Polygonizing the union of all atom
    boundaries gives faces that match exactly. Each atom's households go to its
    largest face; slivers between atoms become empty atoms of their own. (Block
    atoms are born noded: :func:`_block_atoms`.)
    """
    geoms = atoms.geometry
    lines = shapely.get_parts(shapely.union_all(shapely.boundary(geoms)))
    faces, probe = _faces(lines, community)
    f_idx, a_idx = shapely.STRtree(geoms).query(probe, predicate="within")
    owner = np.full(len(faces), -1)
    owner[f_idx[::-1]] = a_idx[::-1]  # the lowest atom index wins
    area = shapely.area(faces)
    weight = np.zeros(len(faces), dtype="int64")
    has = owner >= 0
    biggest = np.lexsort((-area[has], owner[has]))
    idx = np.flatnonzero(has)[biggest]
    first = np.r_[True, owner[idx][1:] != owner[idx][:-1]]
    weight[idx[first]] = atoms.weight[owner[idx[first]]]
    # An atom with no face of its own (itself of no area) gives its households to the
    # face nearest it: none is lost.
    lost = np.setdiff1d(np.flatnonzero(atoms.weight > 0), owner[has])
    if len(lost):
        at, face = shapely.STRtree(faces).query_nearest(shapely.get_point(shapely.get_exterior_ring(geoms[lost]), 0))
        first = np.r_[True, at[1:] != at[:-1]]  # ties: the lowest face
        np.add.at(weight, face[first], atoms.weight[lost[at[first]]])
    zone = np.where(has, atoms.zone[np.maximum(owner, 0)], -1)
    indivisible = has & atoms.indivisible[np.maximum(owner, 0)]
    return _Atoms(faces, weight, zone, indivisible, atoms.street_zones)


def _adjacency(atoms):
    """Edges (i < j) between atoms sharing a boundary, with their shared length.

    The atoms are noded (:func:`_noded`): neighbours share every vertex of their
    common edges, so a shared edge is a segment found in both atoms' rings.
    Matching segments by their end points is exact and needs no buffers.
    """
    geoms = atoms.geometry
    rings, ring_owner = shapely.get_rings(geoms, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring[:-1] == ring[1:]
    start, end = xy[:-1][same_ring], xy[1:][same_ring]
    owner = ring_owner[ring[:-1][same_ring]]
    flip = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    key = np.where(flip[:, None], np.c_[end, start], np.c_[start, end])
    _, segment, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    segment = segment.ravel()
    twice = counts[segment] == 2
    order = np.argsort(segment[twice], kind="stable")
    own = owner[twice][order].reshape(-1, 2)
    length = np.hypot(*(end - start)[twice][order][::2].T)
    a, b = own.min(axis=1), own.max(axis=1)
    keep = a != b
    pair = a[keep] * len(geoms) + b[keep]
    pairs, inverse = np.unique(pair, return_inverse=True)
    total = np.bincount(inverse, length[keep])
    return pairs // len(geoms), pairs % len(geoms), total


# --- the partitioner ------------------------------------------------------------

def _csr(n, a, b, value):
    """Undirected edges (a[k], b[k]) with ``value`` as CSR: ``(indptr, dst, value)``,
    each vertex's neighbours sorted by index."""
    src = np.r_[a, b]
    dst = np.r_[b, a]
    order = np.lexsort((dst, src))
    return np.searchsorted(src[order], np.arange(n + 1)), dst[order], np.r_[value, value][order]


class _Graph:
    """Atoms as a graph in CSR form, with the per-atom data the partitioner needs."""

    def __init__(self, n, a, b, length, crosses, geoms, weight):
        self.n = n
        self.indptr, self.dst, edge = _csr(n, a, b, np.arange(len(a)))  # each entry's edge
        self.src = np.repeat(np.arange(n), np.diff(self.indptr))  # each entry of dst's source
        self.length = length[edge]
        self.cost = np.where(crosses[edge], BARRIER_CUT_DISCOUNT, 1.0) * self.length
        centre = shapely.centroid(geoms)
        self.x, self.y = shapely.get_x(centre), shapely.get_y(centre)
        self.weight = weight.astype(float)
        self.area, self.perimeter = shapely.area(geoms), shapely.length(geoms)
        self._lists = self._cost_lists = self._coordinates = None
        self.searched = {}  # _exact_division's results, by its arguments
        self.cuts = {}  # _best_cuts's and _bisect's results, by their arguments

    def lists(self):
        """Each atom's neighbours and shared edge lengths as Python lists (for the
        refinement's per-atom loops), built once."""
        if self._lists is None:
            cut = self.indptr[1:-1]
            self._lists = ([a.tolist() for a in np.split(self.dst, cut)],
                           [a.tolist() for a in np.split(self.length, cut)],
                           self.weight.tolist(), self.area.tolist(), self.perimeter.tolist())
        return self._lists

    def coordinates(self):
        """The atoms' centroids as two Python lists (x, y), built once."""
        if self._coordinates is None:
            self._coordinates = (self.x.tolist(), self.y.tolist())
        return self._coordinates

    def cost_lists(self):
        """Each atom's cut costs to its neighbours (as :meth:`lists`), built once."""
        if self._cost_lists is None:
            self._cost_lists = [a.tolist() for a in np.split(self.cost, self.indptr[1:-1])]
        return self._cost_lists

    def edges_within(self, members):
        """Edges with both ends in ``members``, once each: positions in ``members``
        (``u < v``) and the edge's index (into ``dst``, ``cost``, ``length``)."""
        members = np.asarray(members)
        pos = np.full(self.n, -1)
        pos[members] = np.arange(len(members))
        edges, owner = expand_ranges(self.indptr[members], self.indptr[members + 1])
        dst = pos[self.dst[edges]]
        keep = dst > owner
        return owner[keep], dst[keep], edges[keep]

    def is_connected(self, members):
        """Do ``members`` form one connected piece? A breadth-first search over the
        Python adjacency lists: for the few dozen atoms of a grid it is ~20× faster
        than building a sparse matrix for scipy's ``connected_components``."""
        adjacency = self.lists()[0]
        todo = set(members.tolist())
        if not todo:
            return True
        stack = [todo.pop()]
        while stack:
            for j in adjacency[stack.pop()]:
                if j in todo:
                    todo.remove(j)
                    stack.append(j)
        return not todo

    def components(self, members, label=None):
        """Connected components of the subgraph on ``members``: how many, and each
        member's component (numbered in the members' order). With ``label`` (each
        member's part), edges between parts do not count: the pieces of each part.

        A search over the Python adjacency lists: it reads only the members' own
        edges, and for the few hundred atoms of a region it is several times faster
        than a sparse matrix for scipy's ``connected_components``.
        """
        adjacency = self.lists()[0]
        atoms = members.tolist()
        part = dict.fromkeys(atoms, 0) if label is None else dict(zip(atoms, label.tolist()))
        piece = {}
        n = 0
        for start in atoms:
            if start in piece:
                continue
            own, piece[start], stack = part[start], n, [start]
            while stack:
                for j in adjacency[stack.pop()]:
                    if j not in piece and part.get(j) == own:
                        piece[j] = n
                        stack.append(j)
            n += 1
        return n, np.array([piece[i] for i in atoms], dtype="int64")


def _grow(graph, members, angle):
    """Atoms of ``members`` in growth order from the edge facing ``angle``, with the
    cut cost after each prefix. Python sets and lists: one atom at a time."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    along = graph.x[members] * c + graph.y[members] * s
    proj = dict(zip(members.tolist(), along.tolist()))
    adjacency, costs = graph.lists()[0], graph.cost_lists()
    start = int(members[np.lexsort((members, along))[0]])
    taken = set()
    heap = [(proj[start], start)]
    order, cuts = [], []
    cut = 0.0
    while heap:
        _, i = heapq.heappop(heap)
        if i in taken:
            continue
        taken.add(i)
        order.append(i)
        for j, cost in zip(adjacency[i], costs[i]):
            if j not in proj:
                continue
            if j in taken:
                cut -= cost
            else:
                cut += cost
                heapq.heappush(heap, (proj[j], j))
        cuts.append(cut)
    return np.asarray(order), np.asarray(cuts)


def _sweeps(graph, groups, value):
    """Straight cuts swept across each of ``groups`` (sorted atom arrays) in every
    SWEEP_DIRECTIONS direction: all groups in one go, padded to the largest (numpy's
    cost per call, not the arithmetic, is what a few dozen atoms take).

    Returns ``order`` (groups × directions × largest: positions in the group along
    each direction, ties by atom index, padding last); for every proper prefix of
    each order, the sum of ``value`` (per edge of the graph) over the group's edges
    with both ends inside the prefix (``inside``) and with both after it
    (``outside``); each group's sum over all its edges; and ``pad``, which lays a
    per-atom array of the graph out as groups × largest, zeros after.
    Every sum adds the same numbers in the same order as one group alone would.
    """
    sizes = np.array([len(g) for g in groups])
    p, m, d = len(groups), int(sizes.max()), len(SWEEP_DIRECTIONS)
    flat = np.concatenate(groups)
    seg = np.repeat(np.arange(p), sizes)
    pos = np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    # Each group's edges, once each, in its atoms' order (as graph.edges_within).
    edges, owner = expand_ranges(graph.indptr[flat], graph.indptr[flat + 1])
    key = seg * graph.n + flat  # ascending: groups in turn, each sorted
    want = seg[owner] * graph.n + graph.dst[edges]
    at = np.minimum(np.searchsorted(key, want), len(key) - 1)
    keep = (key[at] == want) & (pos[at] > pos[owner])
    e_seg, u, v, val = seg[owner[keep]], pos[owner[keep]], pos[at[keep]], value[edges[keep]]
    angle = np.radians(SWEEP_DIRECTIONS)
    proj = np.full((p, d, m), np.inf)
    proj[seg, :, pos] = (np.cos(angle)[:, None] * graph.x[flat] + np.sin(angle)[:, None] * graph.y[flat]).T
    order = np.argsort(proj, axis=2, kind="stable")  # groups are sorted: ties go by atom index
    rank = np.empty_like(order)
    rank[np.arange(p)[:, None, None], np.arange(d)[:, None], order] = np.arange(m)
    ru, rv = rank[e_seg, :, u], rank[e_seg, :, v]  # edges × directions
    cell = (e_seg[:, None] * d + np.arange(d)) * m
    weights = np.broadcast_to(val[:, None], ru.shape).ravel()

    def cumulated(r):  # ``value`` summed at rank r, cumulated along each direction
        at = np.bincount((r + cell).ravel(), weights, minlength=p * d * m).reshape(p, d, m)
        return np.cumsum(at, axis=2)[..., :-1]

    count = np.bincount(e_seg, minlength=p)
    ends = np.cumsum(count)
    total = np.array([val[e - c : e].sum() for e, c in zip(ends.tolist(), count.tolist())])

    def pad(values):
        out = np.zeros((p, m))
        out[seg, pos] = values[flat]
        return out

    # An edge lies inside a prefix once its later end is in; after it until its earlier end is.
    inside, outside = cumulated(np.maximum(ru, rv)), total[:, None, None] - cumulated(np.minimum(ru, rv))
    return order, inside, outside, total, pad


def _feasible_splits(cum, total, k, band):
    """For prefix weights ``cum``: the grid counts (k1 of k) each prefix allows, or
    ``None`` where both sides cannot reach the band."""
    rest = total - cum
    low, high = band.whole
    k1_lo = np.maximum(np.ceil(cum / high - 1e-9), k - np.floor(rest / low + 1e-9))
    k1_hi = np.minimum(np.floor(cum / low + 1e-9), k - np.ceil(rest / high - 1e-9))
    k1_lo, k1_hi = np.maximum(k1_lo, 1), np.minimum(k1_hi, k - 1)
    feasible = k1_lo <= k1_hi
    k1 = np.clip(np.round(k * cum / total), k1_lo, k1_hi)
    return feasible, k1


def _remembered(store, key, compute):
    """``compute()``, kept in ``store`` (a dict on the graph) under ``key``, handed
    out as a copy (:func:`_copied`). The repairs and the straightening come back to
    the same regions and pairs while their atoms have not changed (a sixth to a
    third of the cuts on the Cincinnati cases at 100–150 repeat one already made)."""
    if key not in store:
        store[key] = compute()
    return _copied(store[key])


def _copied(found):
    """A kept result with its arrays copied (tuples and lists followed), so that no
    caller changes what is kept."""
    if isinstance(found, np.ndarray):
        return found.copy()
    if isinstance(found, (tuple, list)):
        return type(found)(_copied(v) for v in found)
    return found


def _bisect(graph, members, k, band):
    """:func:`_split_in_two`, remembered on the graph (:func:`_remembered`)."""
    return _remembered(graph.cuts, ("bisect", members.tobytes(), k, band.low, band.high),
                       lambda: _split_in_two(graph, members, k, band))


def _split_in_two(graph, members, k, band):
    """Split ``members`` (connected) for k ≥ 2 grids; returns (A, kA, B, kB).

    Straight cuts are swept across the region in 12 directions; any prefix whose
    weight lets both sides reach the band (k1 + (k - k1) grids) is a candidate,
    scored by its cut length, near-halves preferred (× 1 + |k1/k - 1/2|). The best
    candidate leaving both sides connected wins. If none does, sides are grown
    atom by atom from the region's edge (one side connected by construction).
    """
    w = graph.weight[members]
    total = w.sum()
    order, inside, outside, cost = (a[0] for a in _sweeps(graph, [members], graph.cost)[:4])
    cum = np.cumsum(w[order], axis=1)[:, :-1]
    feasible, k1 = _feasible_splits(cum, total, k, band)
    score = np.where(feasible, (cost - inside - outside) * (1 + np.abs(k1 / k - 0.5)), np.inf)
    for f in np.argsort(score, axis=None, kind="stable")[:SWEEP_CHECKS].tolist():
        if not np.isfinite(score.flat[f]):
            break
        di, j = divmod(f, len(members) - 1)
        side, rest = np.sort(members[order[di, : j + 1]]), np.sort(members[order[di, j + 1 :]])
        if graph.is_connected(side) and graph.is_connected(rest):
            return side, int(k1.flat[f]), rest, k - int(k1.flat[f])
    return _bisect_grown(graph, members, k, band)


def _bisect_grown(graph, members, k, band):
    """:func:`_bisect` by growing one side atom by atom in 8 directions."""
    w = graph.weight
    total = w[members].sum()
    best = None
    fallback = None
    for angle in DIRECTIONS:
        order, cuts = _grow(graph, members, angle)
        cum = np.cumsum(w[order])[:-1]  # proper prefixes only
        cuts = cuts[:-1]
        feasible, k1 = _feasible_splits(cum, total, k, band)
        if not feasible.any():
            gap = np.abs(cum - total * (k // 2) / k)
            if len(gap):
                j = int(np.argmin(gap))
                if fallback is None or gap[j] < fallback[0]:
                    fallback = (gap[j], order[: j + 1], k // 2)
            continue
        candidates = np.flatnonzero(feasible)
        k1 = k1[candidates]
        score = cuts[candidates] * (1 + np.abs(k1 / k - 0.5))
        ranked = np.lexsort((candidates, score))
        for r in ranked[:8]:
            if best is not None and score[r] >= best[0]:
                break
            j = candidates[r]
            side = order[: j + 1]
            if graph.is_connected(np.setdiff1d(members, side)):
                best = (score[r], side, int(k1[r]))
                break
    if best is not None:
        _, side, k1 = best
        side = np.sort(side)
        return side, k1, np.setdiff1d(members, side), k - k1
    # The band cannot be met at this split: cut near the middle, and keep both
    # sides connected (a detached piece of the remainder goes to the side it touches).
    _, side, k1 = fallback if fallback is not None else (0, members[:1], 1)
    side = np.sort(side)
    rest = np.setdiff1d(members, side)
    n_comp, labels = graph.components(rest)
    if n_comp > 1:
        main = np.argmax(np.bincount(labels, weights=w[rest]))
        side = np.sort(np.r_[side, rest[labels != main]])
        rest = rest[labels == main]
    return side, k1, rest, k - k1


def _grid_count(w, band):
    """How many grids a region of atom weights ``w`` becomes."""
    total = w.sum()
    k = band.parts_for(total)
    if k is None:  # the band cannot be met exactly: the nearest count, flagged later
        k = max(1, int(round(total / band.mid)))
    # An atom above the band fills a grid on its own; the rest can make at most
    # (rest / low) more grids — never cut empty grids around a tower.
    heavy = w > band.high
    return min(k, max(1, int(heavy.sum()) + int((total - w[heavy].sum()) // band.low)))


def _partition(graph, members, band, k, *, give_up_at=None):
    """Parts (arrays of atom indices) of one connected region: k grids, by
    recursive bisection; None as soon as ``give_up_at`` of them are out of the band
    (the caller would not take such a division, and the splits left are the cost)."""
    stack = [(members, k)]
    parts = []
    out = 0
    while stack:
        mem, kk = stack.pop()
        if kk <= 1 or len(mem) == 1:
            parts.append(mem)
            out += not band.contains(graph.weight[mem].sum())
            if give_up_at is not None and out >= give_up_at:
                return None
            continue
        a, ka, b, kb = _bisect(graph, mem, kk, band)
        stack.append((b, kb))
        stack.append((a, ka))
    return parts


def _coordinate_bisection(graph, members, k, angle=0.0):
    """First guess at k grids: split along the longer side of the bounding box (in
    axes turned by ``angle`` degrees) at the household share k1/k, recursively (no
    contiguity; the power diagram and the repairs after it see to that)."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    parts = []
    stack = [(np.asarray(members), k)]
    while stack:
        mem, kk = stack.pop()
        if kk <= 1 or len(mem) <= 1:
            parts.append(mem)
            continue
        x = graph.x[mem] * c + graph.y[mem] * s
        y = graph.y[mem] * c - graph.x[mem] * s
        along = x if np.ptp(x) >= np.ptp(y) else y
        order = np.lexsort((mem, along))
        w = graph.weight[mem][order] + 1e-9 * graph.area[mem][order]  # empty atoms count a little
        k1 = kk // 2
        j = int(np.searchsorted(np.cumsum(w), w.sum() * k1 / kk))
        j = min(max(j, 1), len(mem) - 1)
        stack.append((mem[order[j:]], kk - k1))
        stack.append((mem[order[:j]], k1))
    return parts


def _best_division(graph, members, band):
    """Divide one connected region: a power diagram grown from a coordinate
    bisection in each of SEED_ANGLES, then moves and repairs (:func:`_settle`). The
    fewest grids out of the band wins, then the highest mean Polsby–Popper, then
    the first; only the winner is re-cut in pairs (:func:`_straighten`), repaired
    again, and its least compact grids redrawn with their neighbours
    (:func:`_redraw`). Last, grids still out of the band get households passed
    along chains of grids (:func:`_pass_along`): after the redraw, which cannot
    then undo them and, with grids still out, has more room to move. The chains and
    redraws change grids the moves have not seen since: a last straightening and
    round of moves polish them (each change keeps every grid in the band that was,
    and raises Polsby–Popper). Last, the least compact grids are divided again with
    one or two neighbours by exhaustive search for the most compact division
    (:func:`_exact_windows`). ``docs/design.md`` says what was tried and dropped."""
    k = _grid_count(graph.weight[members], band)
    if k <= 1:
        return [members]
    best = None
    for angle in SEED_ANGLES:
        parts = _settle(graph, _power_cells(graph, members, _coordinate_bisection(graph, members, k, angle), band),
                        band)
        out, pp = _out_and_pp(graph, parts, band)
        key = (out, -float(pp.mean()))
        if best is None or key < best[0]:
            best = (key, parts)
    parts = _repair(graph, _straighten(graph, best[1], band), band)
    # What the last repairs re-divided is straightened again (the passing along
    # sees to any grid still out).
    last = _last_repairs(graph, parts, band)
    if last is not parts:
        parts = _straighten(graph, last, band)
    before = parts
    parts = _pass_along(graph, _redraw(graph, parts, band), band)
    # The last polish, around the grids the redraw and the chains changed (both
    # return the grids they leave alone as the same arrays).
    kept = {id(p) for p in before}  # ``before`` holds them: no id is reused
    changed = [j for j, p in enumerate(parts) if id(p) not in kept]
    parts = _refine(graph, _straighten(graph, parts, band, set(changed)), band, only=changed)
    return _exact_windows(graph, parts, band)


def _unchanged(before, after):
    """Did a step (repairs, chains) leave every grid as it was? Grids it leaves
    alone come back as the same arrays."""
    return len(before) == len(after) and all(p is q for p, q in zip(before, after))


def _last_repairs(graph, parts, band, *, any_count=False):
    """Grids still out of the band get exhaustive searches alone, in neighbourhoods
    of up to LAST_EXACT_ATOMS atoms, round after round while they bring grids in
    (each round that changes anything has fewer grids out, so this ends); ``parts``
    itself when the first round changes nothing."""
    while not _unchanged(parts, again := _repair(graph, parts, band, exact=range(LAST_EXACT_ATOMS + 1),
                                                  bisect=False, any_count=any_count)):
        parts = again
    return parts


def _redraw(graph, parts, band):
    """Draw the least compact grids again with the grids around them.

    Worst Polsby–Popper first, each grid below REDRAW_BELOW and its neighbours
    (REDRAW_GRIDS at most, the grid included) are merged and divided again into as
    many grids by :func:`_power_cells`, seeded by a coordinate bisection in each of
    REDRAW_ANGLES, then moved atom by atom (:func:`_refine`). The best redraw
    (fewest grids out of the band, then the highest Polsby–Popper sum), every grid
    connected, replaces the grids when it has no more of them out of the band and
    a higher sum. Pair re-cuts and single moves stop at a local optimum that this
    can leave: a grid squeezed between its neighbours gets room only when they all
    move at once. Grids redrawn in a round are not redrawn again in it; a later
    round skips groups none of whose grids changed, which would be drawn the same.
    """
    parts = list(parts)
    version = [0] * len(parts)  # bumped when a grid changes
    tried = set()  # groups already redrawn: the same grids would be drawn the same way again
    for _ in range(REDRAW_ROUNDS):
        label = _labels(graph, parts)
        weight, area, perimeter = _part_measures(graph, label, len(parts))
        pp = 4 * np.pi * area / perimeter**2
        around = _neighbours(graph, label, len(parts))
        done, gained = set(), False
        for x in np.lexsort((np.arange(len(parts)), pp)).tolist():
            if pp[x] >= REDRAW_BELOW:
                break
            grids = sorted({x, *around[x].tolist()})
            if len(grids) > REDRAW_GRIDS or done.intersection(grids):
                continue
            key = tuple((j, version[j]) for j in grids)
            if key in tried:
                continue
            tried.add(key)
            old = (int((~band.contains(weight[grids])).sum()), float(pp[grids].sum()))
            members = np.sort(np.concatenate([parts[j] for j in grids]))
            best = None
            for angle in REDRAW_ANGLES:
                seeds = _coordinate_bisection(graph, members, len(grids), angle)
                new = _refine(graph, _power_cells(graph, members, seeds, band, iterations=REDRAW_ITERATIONS), band)
                if len(new) != len(grids) or not all(graph.is_connected(q) for q in new):
                    continue
                out, pp_new = _out_and_pp(graph, new, band)
                score = (out, -float(pp_new.sum()))
                if best is None or score < best[0]:
                    best = (score, new)
            if best is None or best[0][0] > old[0] or -best[0][1] <= old[1] + MIN_PP_GAIN:
                continue
            for j, q in zip(grids, best[1]):
                parts[j] = q
                version[j] += 1
            done.update(grids)
            gained = True
        if not gained:
            break
    return parts


def _neighbours(graph, label, k):
    """Each of parts 0..k-1's neighbouring parts (arrays, ascending), from each
    atom's part (``label``; -1 for atoms in none)."""
    ls, ld = label[graph.src], label[graph.dst]
    cross = (ls != ld) & (ls >= 0) & (ld >= 0)
    pairs = np.unique(np.c_[ls[cross], ld[cross]], axis=0)
    return np.split(pairs[:, 1], np.searchsorted(pairs[:, 0], np.arange(1, k)))


def _exact_windows(graph, parts, band):
    """Divide the least compact grids again with one or two neighbours, the most
    compact way.

    Worst Polsby–Popper first, each grid in the band below WINDOW_BELOW is merged
    with one neighbour, then with two (every grid in the band, WINDOW_ATOMS atoms at
    most), and the window divided again into as many grids by exhaustive search for
    the connected grids in the band with the highest Polsby–Popper sum
    (:func:`_most_compact`); the first window that gains replaces its grids. Grids
    changed in a round are in no other window of it; a window is searched once
    (the same atoms give the same answer); rounds repeat while one gains. The
    redraw's power diagrams and the pairs' straight cuts leave divisions of three
    grids that neither reaches (on whole blocks at 100–150: 4 windows gain, mean
    Polsby–Popper 0.5974 → 0.6005). Every grid stays in the band and connected;
    grids left alone come back as the same arrays.
    """
    parts = list(parts)
    searched = set()
    for _ in range(WINDOW_ROUNDS):
        label = _labels(graph, parts)
        weight, area, perimeter = _part_measures(graph, label, len(parts))
        pp = 4 * np.pi * area / perimeter**2
        in_band = band.contains(weight)
        around = _neighbours(graph, label, len(parts))
        done, gained = set(), False
        for x in np.lexsort((np.arange(len(parts)), pp)).tolist():
            if pp[x] >= WINDOW_BELOW:
                break
            if not in_band[x] or x in done:
                continue
            near = [j for j in around[x].tolist() if in_band[j]]
            windows = itertools.chain.from_iterable(itertools.combinations(near, r) for r in range(1, WINDOW_GRIDS))
            for others in windows:
                grids = sorted((x, *others))
                members = np.sort(np.concatenate([parts[j] for j in grids]))
                key = members.tobytes()
                if done.intersection(grids) or len(members) > WINDOW_ATOMS or key in searched:
                    continue
                searched.add(key)
                found = _most_compact(graph, members, len(grids), band)
                if found is None or found[0] <= pp[grids].sum() + MIN_PP_GAIN:
                    continue
                for j, q in zip(grids, found[1]):
                    parts[j] = q
                done.update(grids)
                gained = True
                break
        if not gained:
            break
    return parts


def _most_compact(graph, members, k, band):
    """The k connected grids of ``members`` in the band with the highest
    Polsby–Popper sum, by exhaustive search: ``(sum, grids)``, or None if none.

    The grid holding the lowest free atom is each connected group in the band
    around it in turn (groups of it and higher atoms, each met once, with their
    area and perimeter summed as they grow); the rest is divided the same way while
    its households can make the grids left, and the last grid is what is left, when
    it is connected and in the band. The best division of each set of free atoms is
    remembered: a window of a dozen atoms has few such sets.
    """
    bits = _Bits(graph, members.tolist())  # members sorted: bit b is members[b]
    m = len(members)
    near, edges, weight = [bits.near(b) for b in range(m)], [bits.edges(b) for b in range(m)], bits.weight
    area, perimeter = graph.area[members].tolist(), graph.perimeter[members].tolist()
    low, high = band.whole
    if max(weight) > high:
        return None
    groups = {}

    def around(s):
        """Connected groups in the band holding bit s and no lower bit: (mask, households, PP)."""
        found = groups.get(s)
        if found is not None:
            return found
        found = groups[s] = []
        lower = (2 << s) - 1  # bit s and below
        first = 1 << s
        seen, stack = {first}, [(first, weight[s], area[s], perimeter[s], near[s] & ~lower)]
        while stack:
            group, w, a, p, frontier = stack.pop()
            if w >= low:
                found.append((group, w, _pp(a, p)))
            free = frontier
            while free:
                low_bit = free & -free
                free ^= low_bit
                j = low_bit.bit_length() - 1
                grown = group | low_bit
                if w + weight[j] > high or grown in seen:
                    continue
                seen.add(grown)
                shared = sum(length for c, length in edges[j] if group >> c & 1)
                stack.append((grown, w + weight[j], a + area[j], p + perimeter[j] - 2 * shared,
                              (frontier | near[j]) & ~grown & ~lower))
        return found

    def last(free, households):
        """``free`` as one grid: its Polsby–Popper when connected and in the band, else None."""
        if not low <= households <= high or bits.component(free) != free:
            return None
        a = p = 0.0
        for b in bits.bits(free):
            a += area[b]
            p += perimeter[b] - sum(length for c, length in edges[b] if free >> c & 1)
        return _pp(a, p)

    best = {}

    def divide(free, k, households):
        key = (free, k)
        if key in best:
            return best[key]
        found = None
        if k == 1:
            pp = last(free, households)
            found = None if pp is None else (pp, [free])
        else:
            for group, w, pp in around((free & -free).bit_length() - 1):
                rest = households - w
                if group & ~free or not (k - 1) * low <= rest <= (k - 1) * high:
                    continue
                sub = divide(free & ~group, k - 1, rest)
                if sub is not None and (found is None or pp + sub[0] > found[0]):
                    found = (pp + sub[0], [group, *sub[1]])
        best[key] = found
        return found

    found = divide((1 << m) - 1, k, sum(weight))
    if found is None:
        return None
    return found[0], [np.sort(np.array(bits.atoms(g), dtype="int64")) for g in found[1]]


def _pass_along(graph, parts, band, sinks=()):
    """Bring grids out of the band in by passing households along a chain of grids.

    A grid below the band takes a small connected group of atoms (up to
    CHAIN_GROUP) from a neighbour; when that leaves the neighbour below the band,
    the neighbour takes a group from one of its own neighbours, and so on, until a
    grid can spare the households. A grid above the band passes a group on in the
    same way. A neighbour left too light, or cut in two, may instead be shared out:
    each connected piece of what is left joins the grid around it with the most
    room (one grid fewer); so may the light grid itself. Grids in ``sinks`` (part
    indices: towers, out of the band anyway) take any households. The grids in a
    chain are all different and all stay connected; each ends in the band, but the
    last (the one with room) may stay out of it on the side it already was, no
    further out. The shortest chains are looked for first (up to CHAIN_DEPTH grids
    after the first), so that few grids change; of the first CHAIN_OPTIONS found,
    the one that raises the grids' Polsby–Popper sum most (a grid shared out loses
    its own) is taken. The repairs re-divide the grids within two rings of a grid
    out of the band; a chain reaches any distance and changes each grid it passes
    by a few atoms. Grids it leaves alone come back as the same arrays, in the same
    order.
    """
    adjacency, lengths, wt, ar, pe = graph.lists()
    low, high = band.whole
    parts = list(parts)
    members = [set(p.tolist()) for p in parts]
    label = _labels(graph, parts).tolist()
    weight = [sum(wt[i] for i in m) for m in members]
    budget = [0]

    def groups(pool, touching):
        """Connected groups of up to CHAIN_GROUP atoms of ``pool`` holding one of
        ``touching``, smallest first, then by their atoms."""
        found = set()
        stack = [frozenset([i]) for i in touching]
        while stack:
            g = stack.pop()
            if g not in found:
                found.add(g)
                if len(g) < CHAIN_GROUP:
                    stack.extend(g | {j} for i in g for j in adjacency[i] if j in pool and j not in g)
        return sorted(found, key=lambda g: (len(g), sorted(g)))

    def moves(pool, touching, lo, hi, held):
        """Groups of ``pool`` holding one of ``touching`` with lo..hi households
        (more than none), smaller than ``held``: (group, households, whether
        ``held`` without it is connected)."""
        for g in groups(pool, touching):
            budget[0] -= 1
            if budget[0] < 0:
                return
            w = sum(wt[i] for i in g)
            if 0 < w and lo <= w <= hi and len(g) < len(held):
                yield g, w, graph.is_connected(np.fromiter(held - g, dtype="int64", count=len(held) - len(g)))

    def take(grid, held, lo, hi, visited, depth):
        """Chains in which ``grid`` (now ``held``) takes lo..hi households from a neighbour."""
        near = {}
        for i in held:
            for j in adjacency[i]:
                if label[j] >= 0 and label[j] not in visited:
                    near.setdefault(label[j], set()).add(j)
        for b in sorted(near):
            for g, w, whole in moves(members[b], near[b], lo, hi, members[b]):
                left = weight[b] - w
                if whole and left >= low:
                    yield [(g, b, grid)]
                    continue
                shared = dissolve(b, members[b] - g, visited | {b})
                if shared:
                    yield [(g, b, grid), *shared]
                if whole and depth:
                    for chain in take(b, members[b] - g, low - left, high - left, visited | {b}, depth - 1):
                        yield [(g, b, grid), *chain]

    def dissolve(grid, held, visited):
        """``grid``'s atoms ``held`` shared out among neighbouring grids not in
        ``visited``, each connected piece to the one with the most room that stays
        within the band: the moves, or None."""
        n, piece = graph.components(np.fromiter(sorted(held), dtype="int64"))
        atoms = sorted(held)
        pieces = [frozenset(a for a, p in zip(atoms, piece.tolist()) if p == c) for c in range(n)]
        room = {}
        out = []
        for p in sorted(pieces, key=lambda p: (-sum(wt[i] for i in p), min(p))):
            w = sum(wt[i] for i in p)
            around = {label[j] for i in p for j in adjacency[i]} - visited - {-1}
            fits = [(weight[b] + room.get(b, 0.0) + w, b) for b in around
                    if weight[b] + room.get(b, 0.0) + w <= high or b in sinks]
            if not fits:
                return None
            b = min(fits)[1]
            room[b] = room.get(b, 0.0) + w
            out.append((p, grid, b))
        return out

    def give(grid, held, lo, hi, visited, depth):
        """Chains in which ``grid`` (now ``held``) passes lo..hi households to a neighbour."""
        for g, w, whole in moves(held, held, lo, hi, held):
            if not whole:
                continue
            for b in sorted({label[j] for i in g for j in adjacency[i]} - visited - {-1}):
                got = weight[b] + w
                if got <= high or b in sinks:
                    yield [(g, grid, b)]
                elif depth:
                    for chain in give(b, members[b] | g, got - high, got - low, visited | {b}, depth - 1):
                        yield [(g, grid, b), *chain]

    def gain(chain):
        """The chain's change to the Polsby–Popper sum of the grids it touches."""
        after = {}
        for g, a, b in chain:
            after[a] = after.get(a, members[a]) - g
            after[b] = after.get(b, members[b]) | g
        return sum((_pp(sum(ar[i] for i in m), perimeter(m)) if m else 0.0) - pp[j] for j, m in after.items())

    def perimeter(m):
        """Atoms' perimeters less their shared edges, each counted from both sides."""
        return sum(pe[i] for i in m) - sum(ln for i in m for j, ln in zip(adjacency[i], lengths[i]) if j in m)

    pp = [_pp(sum(ar[i] for i in m), perimeter(m)) for m in members]
    for x in range(len(parts)):
        w = weight[x]
        if low <= w <= high or x in sinks or not members[x]:
            continue
        budget[0], chain = CHAIN_GROUPS, None
        for depth in range(CHAIN_DEPTH + 1):
            if w < low:
                found = take(x, members[x], low - w, high - w, {x}, depth)
                if depth == 0:  # or the grid itself is shared out
                    found = itertools.chain(found, filter(None, [dissolve(x, members[x], {x})]))
            else:
                found = give(x, members[x], w - high, w - low, {x}, depth)
            options = list(itertools.islice(found, CHAIN_OPTIONS))
            if options:
                chain = max(options, key=gain)
            if chain or budget[0] < 0:
                break
        for g, a, b in chain or ():
            for i in g:
                label[i] = b
            members[a] -= g
            members[b] |= g
            w = sum(wt[i] for i in g)
            weight[a] -= w
            weight[b] += w
            parts[a] = parts[b] = None  # changed
        for j in {j for _, a, b in chain or () for j in (a, b)}:
            pp[j] = _pp(sum(ar[i] for i in members[j]), perimeter(members[j])) if members[j] else 0.0
    return [np.sort(np.fromiter(m, dtype="int64")) if p is None else p for p, m in zip(parts, members) if m]


def _out_and_pp(graph, parts, band):
    """How many of ``parts`` are out of the band, and each one's Polsby–Popper."""
    weight, area, perimeter = _part_measures(graph, _labels(graph, parts), len(parts))
    return int((~band.contains(weight)).sum()), 4 * np.pi * area / perimeter**2


def _settle(graph, parts, band):
    """Single-atom moves (:func:`_refine`), then neighbourhood repair (:func:`_repair`)."""
    return _repair(graph, _refine(graph, parts, band), band)


def _straighten(graph, parts, band, dirty=None):
    """Rounds of pair re-cutting (:func:`_recombine`), each followed by moves
    around the grids it re-cut (:func:`_refine`). With ``dirty`` (part indices),
    the first round re-cuts only pairs with one of those."""
    for _ in range(RECOMBINE_ROUNDS):
        before = parts
        parts, recut = _recombine(graph, parts, band, dirty)
        if not recut:
            break
        parts = _refine(graph, parts, band, only=recut)
        # A pair neither of whose grids changed would be re-cut no better than before.
        dirty = {j for j, (p, q) in enumerate(zip(before, parts)) if not np.array_equal(p, q)}
    return parts


def _repair(graph, parts, band, *, exact=range(EXACT_ATOMS + 1), bisect=True, any_count=False):
    """Bring grids out of the band in by re-dividing their neighbourhoods.

    For each grid out of the band (index order) that holds no atom proved to fit
    in no grid in the band (:func:`_unplaceable`), the grids around it, one ring and
    then more, are merged and divided again into as many grids, one fewer or one
    more, as the households allow: by exhaustive search (:func:`_exact_division`)
    when the neighbourhood's atom count is in ``exact`` (up to EXACT_ATOMS), else
    (with ``bisect``) by recursive bisection (:func:`_partition`). The
    division with the fewest grids out of the band is kept when it has fewer than
    before, every grid connected; where the search proved that no division puts
    them all in the band and only the one grid is out, bisection is not tried.
    With ``any_count``, when none of those does, the count the band gives the
    neighbourhood's households is tried too (a rebalance: a grid grown by a new
    estate may need several more grids around it, as may a street block), and a
    neighbourhood in pieces (grids astride a barrier that now bounds their street
    blocks: a light block joined across it has grown) is divided piece by piece
    (:func:`_by_piece`).
    Single-atom moves cannot pass households along a chain of grids all at a
    bound, nor drop a grid too light to keep; this can. Grids it leaves alone come
    back as the same arrays, which is how :func:`_best_division` sees that a
    round changed nothing.
    """
    parts = list(parts)
    label = _labels(graph, parts)
    weight = _part_measures(graph, label, len(parts))[0]
    low, high = band.whole
    touched = set()
    region = set(np.concatenate(parts).tolist())
    for x in np.flatnonzero(~band.contains(weight)).tolist():
        if x in touched or any(graph.weight[i] > 0 and _unplaceable(graph, i, region, band) for i in parts[x].tolist()):
            continue  # already re-divided, or out of the band in any division
        ring = {x}
        for _ in range(REPAIR_RINGS):
            members = np.concatenate([parts[j] for j in ring])
            near = label[graph.dst[expand_ranges(graph.indptr[members], graph.indptr[members + 1])[0]]]
            ring |= set(near[near >= 0].tolist())
            if ring & touched:
                break
            grids = sorted(ring)
            members = np.sort(np.concatenate([parts[j] for j in grids]))
            total = float(weight[grids].sum())
            best = (int((~band.contains(weight[grids])).sum()), None, None)
            counts = [len(grids), len(grids) - 1, len(grids) + 1]
            needed = band.parts_for(total) if any_count else None
            if needed not in (None, *counts):
                counts.append(needed)
            n_pieces, piece = graph.components(members) if any_count and bisect else (1, None)
            for k in counts if n_pieces == 1 else [None]:
                if k is None:
                    new = _by_piece(graph, members, piece, n_pieces, band)
                elif not (k >= 1 and k * low <= total <= k * high):
                    continue
                else:
                    new, settled = None, False
                    if len(members) in exact:
                        new, settled = _exact_division(graph, members, band, k)
                    if new is None:
                        if not bisect or (settled and best[0] <= 1):
                            continue  # none has every grid in the band, and only that would do better
                        new = _partition(graph, members, band, k, give_up_at=best[0])
                        if new is None:
                            continue
                new_weight = np.array([graph.weight[p].sum() for p in new])
                out = int((~band.contains(new_weight)).sum())
                if out < best[0] and all(graph.is_connected(p) for p in new):
                    best = (out, new, new_weight)
                if best[0] == 0:
                    break
            if best[1] is not None:
                slots = grids + list(range(len(parts), len(parts) + len(best[1]) - len(grids)))
                parts.extend([None] * (len(slots) - len(grids)))
                for j in grids:
                    parts[j] = None
                for j, p in zip(slots, best[1]):
                    parts[j] = p
                label = _labels(graph, [p if p is not None else [] for p in parts])
                weight = np.r_[weight, np.zeros(len(parts) - len(weight))]
                weight[slots] = 0.0
                weight[slots[: len(best[1])]] = best[2]
                touched |= set(slots)
                break
    return [p for p in parts if p is not None]


def _by_piece(graph, members, piece, n, band):
    """``members`` in ``n`` connected pieces (``piece``: each member's), divided
    piece by piece into the grids the band gives each piece's households (one where
    it gives none): by exhaustive search up to EXACT_ATOMS atoms, else by bisection."""
    new = []
    for c in range(n):
        group = members[piece == c]
        total = float(graph.weight[group].sum())
        k = band.parts_for(total) or max(1, round(total / band.mid))
        found = [group] if k == 1 else None
        if found is None and len(group) <= EXACT_ATOMS:
            found = _exact_division(graph, group, band, k)[0]
        new.extend(found if found is not None else _partition(graph, group, band, k))
    return new


def _exact_division(graph, members, band, k, *, limit=EXACT_SETS):
    """k connected grids of ``members``, every one in the band, found by search:
    ``(grids, True)``; ``(None, True)`` when the search proved there are none;
    ``(None, False)`` when it gave up after ``limit`` groups.

    The grid holding the lowest free atom is chosen among the connected groups
    around it in the band (:meth:`_Bits.groups_in_band`); the rest is divided the same
    way, as long as the households left can still make the grids left: every
    connected piece of what is left must make a whole number of grids in the band
    (at least one: no grid could reach a piece cut off), and the pieces together
    the grids left. (Grids are connected, so no grid spans two pieces.) The prune
    drops only groups that lead to no division, so the first division found is the
    one the plain search would find, sooner.

    The result is kept on the graph: the repairs come back to the same
    neighbourhood, round after round, while the grids in it have not changed.
    """
    return _remembered(graph.searched, (members.tobytes(), k, band.whole, limit),
                       lambda: _search_division(graph, members, band, k, limit))


def _search_division(graph, members, band, k, limit):
    """:func:`_exact_division`'s search, without the memory. Sets of atoms are
    :class:`_Bits` masks."""
    bits = _Bits(graph, members.tolist())  # members sorted: the lowest bit is the lowest atom
    near, weight = [bits.near(b) for b in range(len(members))], bits.weight
    low, high = band.whole
    budget = [limit]
    whole = (1 << len(members)) - 1

    def can_make(free, k, total):
        """Can ``free`` (a mask, ``total`` households) make k grids in the band,
        piece by piece?"""
        if not k * low <= total <= k * high:
            return False
        fewest = most = 0
        while free:
            # The connected piece holding free's lowest bit, and its households.
            frontier = free & -free
            free ^= frontier
            households = 0.0
            while frontier:
                grown = 0
                while frontier:
                    low_bit = frontier & -frontier
                    b = low_bit.bit_length() - 1
                    grown |= near[b]
                    households += weight[b]
                    frontier ^= low_bit
                frontier = grown & free
                free ^= frontier
            lo_k, hi_k = max(1, math.ceil(households / high - 1e-9)), math.floor(households / low + 1e-9)
            if lo_k > hi_k:
                return False
            fewest, most = fewest + lo_k, most + hi_k
            if fewest > k:
                return False
        return fewest <= k <= most

    def divide(free, k, total):
        if k == 1:
            return [free] if can_make(free, 1, total) else None
        start = (free & -free).bit_length() - 1
        for group, households in bits.groups_in_band(start, whole & ~free, low, high, budget):
            left, left_total = free & ~group, total - households
            if can_make(left, k - 1, left_total):
                rest = divide(left, k - 1, left_total)
                if rest is not None:
                    return [group, *rest]
        return None

    total = bits.households(whole)
    found = divide(whole, k, total) if can_make(whole, k, total) else None
    if found is None:
        return None, budget[0] > 0
    return [np.sort(np.array(bits.atoms(g), dtype="int64")) for g in found], True


class _Bits:
    """Atoms as the bits of Python ints, for the exhaustive searches: a set of
    atoms is one int, and its union, difference and hash are a few machine words.
    The searches look at thousands of groups of a few dozen atoms; written by hand
    because no library we use has small integer sets (the 38 searches of the pieces
    at 100–150 take 62 ms instead of 95 ms as frozensets).

    Atoms get their bit as the search meets them (``atoms`` first, in their order);
    only atoms in ``allowed`` (default: ``atoms``) are ever met, so a mask never
    holds one outside it.
    """

    def __init__(self, graph, atoms, allowed=None):
        self._adjacency, self._lengths, self._weight, _, _ = graph.lists()
        self._x, self._y = graph.coordinates()
        self._allowed = set(atoms) if allowed is None else allowed
        self.atom, self.weight, self._bit, self._near = [], [], {}, []
        for i in atoms:
            self.bit(i)

    def bit(self, i):
        """Atom ``i``'s bit number."""
        b = self._bit.get(i)
        if b is None:
            b = self._bit[i] = len(self.atom)
            self.atom.append(i)
            self.weight.append(self._weight[i])
            self._near.append(None)
        return b

    def near(self, b):
        """The mask of bit ``b``'s neighbours (in ``allowed``)."""
        mask = self._near[b]
        if mask is None:
            mask = 0
            for j in self._adjacency[self.atom[b]]:
                if j in self._allowed:
                    mask |= 1 << self.bit(j)
            self._near[b] = mask
        return mask

    def edges(self, b):
        """Bit ``b``'s neighbours (in ``allowed``) and the lengths of the edges it shares
        with them: ``[(bit, length), …]``."""
        i = self.atom[b]
        return [(self.bit(j), length) for j, length in zip(self._adjacency[i], self._lengths[i]) if j in self._allowed]

    def component(self, free):
        """The connected piece of ``free`` (a mask) holding its lowest bit."""
        piece = frontier = free & -free
        while frontier:
            grown = 0
            for b in self.bits(frontier):
                grown |= self.near(b)
            frontier = grown & free & ~piece
            piece |= frontier
        return piece

    @staticmethod
    def bits(mask):
        """The bit numbers of ``mask``, lowest first."""
        while mask:
            low = mask & -mask
            yield low.bit_length() - 1
            mask ^= low

    def atoms(self, mask):
        """The atoms of ``mask``, by bit."""
        return [self.atom[b] for b in self.bits(mask)]

    def households(self, mask):
        """The households of ``mask``'s atoms."""
        return sum(self.weight[b] for b in self.bits(mask))

    def groups_in_band(self, start, taken, low, high, budget):
        """Connected groups (masks) of atoms not in ``taken`` holding bit ``start``,
        with their household count in [low, high], as ``(mask, households)``: depth
        first, each group grown by its new neighbours nearest ``start`` first (ties:
        the lowest atom), so that compact groups come first; ``budget[0]`` (shared)
        counts down the groups looked at, and the search stops at 0."""
        weight, atom, x, y = self.weight, self.atom, self._x, self._y
        if weight[start] > high:
            return  # no group holding it is in the band
        sx, sy = x[atom[start]], y[atom[start]]
        near = {}  # squared distance to ``start``, per bit met
        first = 1 << start
        seen, stack = {first}, [(first, weight[start], self.near(start))]
        while stack and budget[0] > 0:
            budget[0] -= 1
            group, total, around = stack.pop()
            if total >= low:
                yield group, total
            grown = []
            free = around & ~group & ~taken
            while free:
                low_bit = free & -free
                free ^= low_bit
                j = low_bit.bit_length() - 1
                if total + weight[j] <= high:
                    g = group | low_bit
                    if g not in seen:
                        seen.add(g)
                        d = near.get(j)
                        if d is None:
                            i = atom[j]
                            d = near[j] = (x[i] - sx) ** 2 + (y[i] - sy) ** 2
                        grown.append((d, atom[j], j, g))
            grown.sort(reverse=True)  # the stack pops the nearest first (ties: the lowest atom)
            stack.extend((g, total + weight[j], around | self.near(j)) for _, _, j, g in grown)


def _labels(graph, parts):
    """Each atom's part (-1 for atoms in none)."""
    label = np.full(graph.n, -1)
    for j, p in enumerate(parts):
        label[p] = j
    return label


def _recombine(graph, parts, band, dirty=None):
    """Re-cut pairs of neighbouring grids, worst Polsby–Popper first: the two are
    merged and split again by the straight cut (:func:`_best_cuts`) that puts the
    most of the two in the band, then has the highest Polsby–Popper sum, when that
    beats the pair as it was. Single-atom moves (:func:`_refine`) cannot straighten
    a grid that wraps around its neighbour; this can. Each grid is re-cut at most
    once per call; with ``dirty`` (part indices), only pairs with one are tried.
    Returns the parts (same order) and the indices of those re-cut."""
    parts = list(parts)
    label = _labels(graph, parts)
    weight, area, perimeter = _part_measures(graph, label, len(parts))
    pp = 4 * np.pi * area / perimeter**2
    ls, ld = label[graph.src], label[graph.dst]
    cross = (ls < ld) & (ls >= 0)
    pairs = np.unique(np.c_[ls[cross], ld[cross]], axis=0)
    worst = np.minimum(pp[pairs[:, 0]], pp[pairs[:, 1]])
    todo = []
    for x, y in pairs[np.lexsort((pairs[:, 1], pairs[:, 0], worst))].tolist():
        if min(pp[x], pp[y]) >= RECOMBINE_BELOW:
            break
        if dirty is None or x in dirty or y in dirty:
            todo.append((x, y, int(band.contains([weight[x], weight[y]]).sum())))
    touched = set()
    while todo:
        # The next CUTS_AT_ONCE pairs no re-cut has touched are cut in one go: one
        # that a re-cut among them touches first is skipped, and one it does not
        # is unchanged, so cut as it is now.
        todo = [(x, y, now) for x, y, now in todo if x not in touched and y not in touched]
        batch, todo = todo[:CUTS_AT_ONCE], todo[CUTS_AT_ONCE:]
        cuts = _best_cuts(graph, [np.sort(np.r_[parts[x], parts[y]]) for x, y, _ in batch], band,
                          [now for _, _, now in batch])
        for (x, y, now), cut in zip(batch, cuts):
            if x in touched or y in touched:
                continue
            if cut is not None and cut[0] > IN_BAND_SCORE * now + pp[x] + pp[y] + MIN_PP_GAIN:
                parts[x], parts[y] = cut[1], cut[2]
                touched.update((x, y))
    return parts, sorted(touched)


def _best_cuts(graph, groups, band, leasts, *, checks=6):
    """:func:`_straight_cuts` of each group with its ``least``, remembered on the
    graph (:func:`_remembered`); those not met before are cut together."""
    keys = [("cut", g.tobytes(), least, checks, band.low, band.high) for g, least in zip(groups, leasts)]
    new = {key: (g, least) for key, g, least in zip(keys, groups, leasts) if key not in graph.cuts}
    if new:
        found = _straight_cuts(graph, [g for g, _ in new.values()], band, [n for _, n in new.values()], checks)
        graph.cuts.update(zip(new, found))
    return [_copied(graph.cuts[key]) for key in keys]


def _straight_cuts(graph, groups, band, leasts, checks):
    """For each group, the straight cut into two connected sides, at least ``least``
    of them in the band, that puts the most in the band, then has the highest
    Polsby–Popper sum: ``(score, side, rest)`` or None; the score is the sum plus
    IN_BAND_SCORE per side in the band.

    Cuts in the SWEEP_DIRECTIONS are scored all at once, for all groups
    (:func:`_sweeps`): a side's perimeter is its atoms' perimeters less twice the
    edges with both ends in it. Of each group's ``checks`` best, the first with both
    sides connected is the cut.
    """
    order, inside, outside, _, pad = _sweeps(graph, groups, graph.length)
    per_atom = np.stack([pad(graph.weight), pad(graph.area), pad(graph.perimeter)])
    cw, ca, cp = np.cumsum(np.take_along_axis(per_atom[:, :, None, :], order[None], axis=3), axis=3)[..., :-1]
    sizes = np.array([len(g) for g in groups])
    # Each group's totals summed alone, as a group's sum would be.
    tw, ta, tp = (np.array([row[:n].sum() for row, n in zip(a, sizes)])[:, None, None] for a in per_atom)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 4 * np.pi * (ca / (cp - 2 * inside) ** 2 + (ta - ca) / (tp - cp - 2 * outside) ** 2)
    in_band = band.contains(cw).astype(int) + band.contains(tw - cw)
    proper = np.arange(cw.shape[2]) < (sizes - 1)[:, None, None]  # not padding
    score = np.where(proper & (in_band >= np.asarray(leasts)[:, None, None]), score + IN_BAND_SCORE * in_band,
                     -np.inf)
    ranked = np.argsort(-score.reshape(len(groups), -1), axis=1, kind="stable")[:, :checks].tolist()
    found = []
    for members, n, o, s, best in zip(groups, sizes.tolist(), order, score, ranked):
        cut = None
        for f in best:
            if not np.isfinite(s.flat[f]):
                break
            di, j = divmod(f, s.shape[1])
            side, rest = members[o[di, : j + 1]], members[o[di, j + 1 : n]]
            if graph.is_connected(side) and graph.is_connected(rest):
                cut = (float(s.flat[f]), np.sort(side), np.sort(rest))
                break
        found.append(cut)
    return found


def _part_measures(graph, label, k):
    """Households, area and perimeter of parts 0..k-1 (atoms labelled -1 belong to
    none); a perimeter is its atoms' perimeters less twice their shared edges."""
    inside = label >= 0
    lab = label[inside]
    same = (label[graph.src] == label[graph.dst]) & (label[graph.src] >= 0)
    # Each shared edge appears once from either side: both count against the sum.
    shared = np.bincount(label[graph.src[same]], graph.length[same], minlength=k)
    return (np.bincount(lab, graph.weight[inside], minlength=k), np.bincount(lab, graph.area[inside], minlength=k),
            np.bincount(lab, graph.perimeter[inside], minlength=k) - shared)


def _power_cells(graph, members, parts, band, *, iterations=KMEANS_ITERATIONS):
    """Re-draw ``parts`` (a division of ``members``) as a balanced power diagram.

    Seeds start at the parts' centroids; each round assigns every atom to the
    seed minimising squared distance minus the seed's offset, raises the offset
    of seeds short of households (lowers it for those over), and moves each seed
    to its cell's area centroid (a Lloyd step, which rounds the cells). Detached
    pieces then join a neighbouring grid (:func:`_connect`).
    """
    k = len(parts)
    x, y = graph.x[members], graph.y[members]
    w, area = graph.weight[members], graph.area[members]
    pos = np.full(graph.n, -1)
    pos[members] = np.arange(len(members))
    label = np.empty(len(members), dtype="int64")
    for j, p in enumerate(parts):
        label[pos[p]] = j
    target = w.sum() / k
    scale = area.sum() / k  # a cell's area: offsets are in m²
    offset = np.zeros(k)
    sx, sy = np.zeros(k), np.zeros(k)
    ax, ay = area * x, area * y
    rows = np.arange(len(members))
    for step in range(iterations):
        cell_area = np.bincount(label, area, minlength=k)
        live = cell_area > 0
        sx[live] = np.bincount(label, ax, minlength=k)[live] / cell_area[live]
        sy[live] = np.bincount(label, ay, minlength=k)[live] / cell_area[live]
        if k <= CANDIDATE_SEEDS:  # few seeds: weigh them all
            label = np.argmin((x[:, None] - sx) ** 2 + (y[:, None] - sy) ** 2 - offset, axis=1)
        else:
            if step % CANDIDATE_REFRESH == 0:  # seeds move little per round: re-find the nearest now and then
                cand = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([x, y]), k=CANDIDATE_SEEDS)[1]
            d2 = (x[:, None] - sx[cand]) ** 2 + (y[:, None] - sy[cand]) ** 2 - offset[cand]
            label = cand[rows, np.argmin(d2, axis=1)]
        have = np.bincount(label, w, minlength=k)
        offset += KMEANS_STEP * scale * (target - have) / max(target, 1.0)
    _reseed(label, np.bincount(label, minlength=k) == 0, w, x, y, offset)
    label = _connect(graph, members, label, k)
    return [members[label == j] for j in range(k) if (label == j).any()]


def _reseed(label, empty, w, x, y, offset):
    """Give each emptied cell (``empty``: a seed that won no atom) half of the
    heaviest cell, cut across its longer side, and that cell's offset: a lost cell
    would leave the others a grid short (in place)."""
    for j in np.flatnonzero(empty).tolist():
        have = np.bincount(label, w, minlength=len(empty))
        have[np.bincount(label, minlength=len(empty)) < 2] = -1  # a single atom cannot be halved
        h = int(np.argmax(have))
        if have[h] < 0:
            return
        idx = np.flatnonzero(label == h)
        along = x[idx] if np.ptp(x[idx]) >= np.ptp(y[idx]) else y[idx]
        order = idx[np.lexsort((idx, along))]
        cut = int(np.searchsorted(np.cumsum(w[order] + 1e-9), (w[idx].sum() + 1e-9 * len(idx)) / 2))
        label[order[: min(max(cut, 1), len(idx) - 1)]] = j
        offset[j] = offset[h]


def _connect(graph, members, label, k):
    """Atoms cut off from the largest piece of their grid join the neighbouring
    grid most of their piece's neighbours belong to, until every grid is connected."""
    u, v, _ = graph.edges_within(members)
    m = len(members)
    area = graph.area[members]
    for _ in range(m):
        n_comp, comp = graph.components(members, label)
        if n_comp == k:
            break
        comp_area = np.bincount(comp, area, minlength=n_comp)
        comp_label = np.zeros(n_comp, dtype="int64")
        comp_label[comp] = label
        # The largest piece of each grid stays; the others move.
        order = np.lexsort((-comp_area, comp_label))
        keep = np.zeros(n_comp, dtype=bool)
        keep[order[np.r_[True, comp_label[order][1:] != comp_label[order][:-1]]]] = True
        # Edges from a stray piece to another grid vote for where the piece goes.
        cross = label[u] != label[v]
        votes_from = np.r_[comp[u[cross]], comp[v[cross]]]
        votes_to = np.r_[label[v[cross]], label[u[cross]]]
        ok = ~keep[votes_from]
        if not ok.any():
            break  # stray pieces with no other grid around: left as they are
        pairs = np.unique(np.c_[votes_from[ok], votes_to[ok]], axis=0, return_counts=True)
        (piece, target), count = pairs[0].T, pairs[1]
        best = np.lexsort((target, -count, piece))
        first = np.r_[True, piece[best][1:] != piece[best][:-1]]
        new_label = comp_label.copy()
        new_label[piece[best][first]] = target[best][first]
        label = new_label[comp]
    return label


def _pp(area, perimeter):
    return 4 * math.pi * area / perimeter**2 if perimeter > 0 else 0.0


def _connected_without(adjacency, members, i):
    """Is the set ``members`` still connected once atom ``i`` leaves it?"""
    inner = [j for j in adjacency[i] if j in members]
    if len(inner) <= 1:
        return True
    seen = {i, inner[0]}
    stack = [inner[0]]
    want = len(members)
    while stack:
        for j in adjacency[stack.pop()]:
            if j not in seen and j in members:
                seen.add(j)
                stack.append(j)
    return len(seen) == want


def _refine(graph, parts, band, *, only=None, max_passes=REFINE_PASSES):
    """Move single boundary atoms between neighbouring grids: first to bring grids
    into the band, then to make them more compact.

    A move of atom i from grid A to a neighbouring grid B is taken when it lowers
    the total distance to the band, or keeps it and raises the sum of the two
    grids' Polsby–Popper scores (perimeters kept exact from the atoms' shared
    edge lengths), and A stays connected. Atoms are visited in index order and
    each takes its best move, so the result is deterministic. Pure Python on
    lists and sets: each step touches a handful of atoms, too few for numpy.
    With ``only`` (part indices), the first pass visits only those parts' borders.
    """
    low, high = band.low, band.high

    def off(w):
        return (low - w if w < low else 0.0) + (w - high if w > high else 0.0)

    label = _labels(graph, parts)
    weight, area, perimeter = (v.tolist() for v in _part_measures(graph, label, len(parts)))
    pp = [_pp(s, p) for s, p in zip(area, perimeter)]
    adjacency, lengths, wt, ar, pe = graph.lists()
    members = [set(p.tolist()) for p in parts]
    src, dst = graph.src, graph.dst
    changed = np.zeros(len(parts) + 1, dtype=bool)  # grids touched in the last pass
    changed[list(range(len(parts))) if only is None else list(only)] = True
    for _ in range(max_passes):
        moved = 0
        ls, ld = label[src], label[dst]
        border = src[(ls != ld) & (ls >= 0) & (ld >= 0) & (changed[ls] | changed[ld])]
        changed[:] = False
        lab = label.tolist()
        for i in np.unique(border).tolist():
            a = lab[i]
            if len(members[a]) == 1:
                continue
            shared = {}
            for j, ln in zip(adjacency[i], lengths[i]):
                b = lab[j]
                if b >= 0:
                    shared[b] = shared.get(b, 0.0) + ln
            wi, ai, pi = wt[i], ar[i], pe[i]
            pa = perimeter[a] - pi + 2 * shared.pop(a, 0.0)
            if not shared:
                continue
            w_a, off_a = weight[a] - wi, off(weight[a])
            off_a_after = off(w_a)
            gain_a = _pp(area[a] - ai, pa) - pp[a]
            best = None
            for b in sorted(shared):
                w_b = weight[b]
                change = off_a_after + off(w_b + wi) - off_a - off(w_b)
                if change > 0:
                    continue
                pb = perimeter[b] + pi - 2 * shared[b]
                gain = gain_a + _pp(area[b] + ai, pb) - pp[b]
                if change == 0 and gain <= MIN_PP_GAIN:
                    continue
                if best is None or (change, -gain) < best[0]:
                    best = ((change, -gain), b, pb)
            if best is None or not _connected_without(adjacency, members[a], i):
                continue
            _, b, pb = best
            members[a].discard(i)
            members[b].add(i)
            lab[i] = b
            weight[a] -= wi
            weight[b] += wi
            area[a] -= ai
            area[b] += ai
            perimeter[a], perimeter[b] = pa, pb
            pp[a], pp[b] = _pp(area[a], pa), _pp(area[b], pb)
            changed[a] = changed[b] = True
            moved += 1
        label = np.asarray(lab)
        if not moved:
            break
    return [np.sort(np.fromiter(m, dtype="int64")) for m in members if m]


def _regions(atoms, band, a, b, length):
    """Zones (street blocks) too light for the band join a neighbour: one with which
    their households make a whole number of grids in the band, if any, the one with
    the longest boundary among those.

    Lightest zone first; a group of zones already joined counts the boundary of all
    its zones (two light blocks that joined each other still look past themselves),
    and rounds repeat until every group below the band touches no other.
    """
    zones = atoms.zone
    uz, zone = np.unique(zones, return_inverse=True)
    nz = len(uz)
    zw = np.bincount(zone, weights=atoms.weight, minlength=nz)
    cross = zone[a] != zone[b]
    indptr, z_dst, z_len = _csr(nz, zone[a[cross]], zone[b[cross]], length[cross])
    parent = np.arange(nz)
    members = {z: [z] for z in range(nz)}  # each group's zones, by its root

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def fits(w):
        return w < band.low or band.parts_for(w) is not None

    weight = zw.copy()
    crossings = 0
    order = np.lexsort((np.arange(nz), zw)).tolist()
    while order:
        again = {}  # groups still light after a join, in order (a dict: an ordered set)
        for z in order:
            root = find(z)
            if weight[root] >= band.low or root in again:
                continue
            best = {}
            for m in members[root]:
                for t, ln in zip(z_dst[indptr[m] : indptr[m + 1]].tolist(), z_len[indptr[m] : indptr[m + 1]].tolist()):
                    r = find(t)
                    if r != root:
                        best[r] = best.get(r, 0.0) + ln
            if best:
                # A join whose households make a whole number of grids in the band
                # (or that is still light, and looks again) first: 80 households joining
                # 250 make 330, which no count of grids of 200–300 holds; joining 330 they
                # make two grids.
                other = min(best, key=lambda r: (not fits(weight[r] + weight[root]), -best[r], r))
                parent[root] = other
                weight[other] += weight[root]
                members[other].extend(members.pop(root))
                crossings += 1
                if weight[other] < band.low:
                    again[other] = None  # still light: looks again, with its new boundary
        order = list(again)
    labels = np.array([find(z) for z in range(nz)])[zone]
    return labels, crossings


# --- the high level -------------------------------------------------------------

def balanced_grid(
    communities,
    households,
    *,
    min_households: float | None = None,
    max_households: float | None = None,
    target: float | None = None,
    tolerance: float = 0.2,
    count_field: str | None = None,
    floors_field: str | None = None,
    area_per_household: float | None = None,
    default_floors: float | None = None,
    kind: str = "auto",
    barriers=None,
    split_polygons: bool = False,
    micro: tuple[float, float] | None = None,
    start_date: str | None = None,
    progress=None,
    workers: int = 1,
) -> HouseholdLayout:
    """Divide every community into grids holding a band of households.

    Parameters
    ----------
    communities : GeoDataFrame
        From :func:`gridkit.unit_hierarchy` (metric CRS, hierarchy columns); one
        built by hand is checked first (:func:`gridkit.units.check_communities`).
    households : GeoDataFrame
        Address points (one household each, or ``count_field``), building polygons
        with counts, or census-style blocks with counts (``kind``).
    min_households, max_households : float
        The band; or ``target`` with ``tolerance`` (a share, e.g. 0.2, or households).
    count_field : str, optional
        Column with each feature's households (default: 1 each).
    floors_field, area_per_household, default_floors : str, float, float, optional
        Instead of a count, building polygons' households by the floor-area rule:
        footprint (m²) × floors ÷ ``area_per_household`` (m² of floor area per
        household), rounded; ``default_floors`` for buildings with no floors given
        (:func:`households_from_floors`).
    barriers : lines, optional
        Roads, rivers, rail: grids follow them, with points and blocks alike; a grid
        crosses one only where a street block alone cannot reach ``min_households``
        (counted, and marked in the ``crosses_barrier`` column).
    split_polygons : bool
        Blocks may be cut into lattice pieces (count shared by area): those holding
        more than two atoms' worth of households (an atom: a sixth of the lower
        bound) or of area at the mean density. Without it every block stays whole,
        and one above the band is a grid of its own, flagged ``indivisible``.
    micro : (min, max), optional
        A second band: micro-grids nested in every grid (IDs: grid ID + 2 digits).
    progress : callable, optional
        Called as ``progress(done, total)`` after each community, with the
        households divided so far and those in all communities (for a progress bar).
    workers : int
        Processes dividing communities side by side (default 1: here). The grids are
        the same; each process costs about 1 s to start, so more than one pays off
        with several communities of some size (Dongcheng's 8 communities with
        200,000 households and micro-grids of 20–50: 17 s on one, 10.5 s on two).
        Each process starts by importing the calling script, so a script must make
        the call under ``if __name__ == "__main__":`` (without it the run stops
        with an error saying so). After an error, processes still dividing are
        stopped.

    Returns
    -------
    HouseholdLayout
        ``grids`` (``grid_id``, hierarchy, ``households``, ``in_band``,
        ``polsby_popper``, ``flag``, ``crosses_barrier``…), ``micro``, ``rejects``
        (households outside every community or with no position, with a reason)
        and ``summary``.
    """
    t0 = time.perf_counter()
    band, micro_band = bands_of(min_households, max_households, target, tolerance, micro)
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InputError(f"workers must be a whole number ≥ 1 (processes), not {workers!r}")
    check_communities(communities)
    crs = communities.crs
    frame, kind = read_households(households, count_field=count_field, floors_field=floors_field,
                                  area_per_household=area_per_household, default_floors=default_floors,
                                  kind=kind, communities=communities)
    if split_polygons and kind == "points":
        log.warning("split_polygons cuts blocks; these households are points (or buildings, each kept whole), "
                    "so it changes nothing (kind='blocks' reads polygons as areal counts)")
    lines = None if barriers is None else barrier_lines(barriers, crs, communities.total_bounds)
    comm_geoms = communities.geometry.values
    start_date = day_text(start_date)  # checked before the work it would date

    # Which community each household feature belongs to (by representative point).
    frame, rep, home, rejects = place_households(frame, communities, "community")
    outside = home < 0

    rows, micro_rows = [], []
    crossings = 0
    counts = frame["households"].to_numpy()
    codes_ = communities["community_code"].to_numpy()
    _check_grid_counts(codes_, home, counts, band, indivisible=kind == "points" or not split_polygons)
    total, done = int(counts[~outside].sum()), 0
    task = _CommunityTask(comm_geoms, home, rep if kind == "points" else frame.geometry.values, counts, kind, band,
                          micro_band, lines, split_polygons)
    per_community = task.households()
    # Closed on the way out, an error included: communities not yet started are cancelled.
    with contextlib.closing(_each_community(task, workers)) as divided:
        for ci, (grids, micro_grids, n_cross) in enumerate(divided):
            if len(grids) > MAX_CELLS_PER_COMMUNITY:  # fail now, not after every other community
                raise LayoutError(_too_many_grids(codes_[ci], len(grids)))
            crossings += n_cross
            for g in grids:
                g["community"] = ci
            for m in micro_grids:
                m["parent"] += len(rows)
            micro_rows.extend(micro_grids)
            rows.extend(grids)
            done += int(per_community[ci])
            if progress:
                progress(done, total)

    kept = sum(r["households"] for r in rows)
    if kept != total:  # never write a layout that lost or doubled households
        raise LayoutError(f"internal error: the grids hold {kept} households of the {total} inside the "
                          "communities; please report it with the input")
    grids, row_ids = _grid_frame(rows, communities, crs, band, start_date)
    name_heavy_features(grids, frame, rep, ~outside, band, kind)
    summary = _summary(grids, band, kind, len(frame), int(outside.sum()), crossings)
    summary.update(reject_counts(rejects))
    micro_frame = None
    if micro_band:
        micro_frame = _micro_frame(micro_rows, row_ids, crs, micro_band)
        name_heavy_features(micro_frame, frame, rep, ~outside, micro_band, kind)
        summary["micro"] = _summary(micro_frame, micro_band, kind, 0, 0, 0)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    log.info("balanced grid: %d grids, %.1f %% in band, in %.2f s",
             summary["grids"], summary["in_band_pct"], summary["seconds"])
    sized_for = {str(code): int(n) for code, n in zip(codes_, per_community)}
    return within_parents(HouseholdLayout(grids, micro_frame, rejects, summary, sized_for), communities)


@dataclass(frozen=True)
class _CommunityTask:
    """What dividing one community needs: every community and household feature
    (``features``: representative points of point households, else their polygons),
    sent to each worker process once."""

    communities: np.ndarray
    home: np.ndarray  # each feature's community (-1: outside every one)
    features: np.ndarray
    counts: np.ndarray
    kind: str
    band: Band
    micro_band: Band | None
    lines: object
    split_polygons: bool

    # Pickled for the worker processes with the geometries as WKB: pickling shapely
    # objects one by one takes 1.4 s for 200,000 points, WKB 0.1 s.
    _GEOMETRIES = ("communities", "features", "lines")

    def __getstate__(self):
        state = dict(self.__dict__)
        for name in self._GEOMETRIES:
            if state[name] is not None:
                state[name] = shapely.to_wkb(np.asarray(state[name]))
        return state

    def __setstate__(self, state):
        for name in self._GEOMETRIES:
            if state[name] is not None:
                state[name] = shapely.from_wkb(state[name])
        self.__dict__.update(state)

    def households(self):
        """Each community's households."""
        inside = self.home >= 0
        return np.bincount(self.home[inside], weights=self.counts[inside], minlength=len(self.communities))

    def divide(self, ci):
        """Community ``ci``'s grids, its micro-grids (``parent``: a grid's position
        among these grids) and its barrier crossings."""
        band, micro_band = self.band, self.micro_band
        mine = np.flatnonzero(self.home == ci)
        atoms = community_atoms(self.communities[ci], self.features[mine], self.counts[mine], self.kind, band,
                                micro_band, self.lines, self.split_polygons)
        grids, n_cross = _divide(atoms, band)
        micro_grids = []
        if micro_band and len(grids) <= MAX_CELLS_PER_COMMUNITY:
            for k, g in enumerate(grids):
                for m in _divide(atoms, micro_band, within=g["atoms"])[0]:
                    m["parent"] = k
                    micro_grids.append(m)
        return grids, micro_grids, n_cross


def bands_of(min_households, max_households, target, tolerance, micro=None):
    """The grid band and the micro band (None without ``micro``, a (min, max) pair),
    checked: the micro-grids must nest in the grids, and a grid can number at most
    MAX_MICRO of them."""
    band = band_of(min_households, max_households, target, tolerance)
    if micro is not None and (isinstance(micro, str) or np.ndim(micro) != 1 or len(micro) != 2):
        raise InputError(f"micro {micro!r}: give the micro band as two numbers, (min, max): (20, 50)")
    micro_band = Band(*micro, "micro band") if micro else None
    if micro_band and micro_band.high > band.low:
        raise InputError(f"micro-grids of {micro_band.low:g}–{micro_band.high:g} households do not nest "
                         f"in grids of {band.low:g}–{band.high:g}: the micro maximum must be ≤ the grid minimum")
    if micro_band and math.ceil(band.whole[1] / micro_band.whole[1]) > MAX_MICRO:
        raise InputError(f"a grid of {band.whole[1]} households needs at least "
                         f"{math.ceil(band.whole[1] / micro_band.whole[1])} micro-grids of at most "
                         f"{micro_band.whole[1]}, and a grid numbers at most {MAX_MICRO} (2 digits): raise the "
                         "micro band or lower the grid band")
    return band, micro_band


def band_of(min_households, max_households, target, tolerance):
    """The band given as bounds or as ``target`` ± ``tolerance`` (one way only)."""
    if target is not None and (min_households is not None or max_households is not None):
        raise InputError("give the band one way: min_households and max_households, or target (and tolerance)")
    if target is not None:
        return Band.from_target(target, tolerance)
    if min_households is not None and max_households is not None:
        return Band(min_households, max_households)
    raise InputError("give the band: min_households and max_households, or target (and tolerance)")


def place_households(frame, polygons, what):
    """Put household features in ``polygons`` (communities, or grids): ``(frame,
    rep, home, rejects)``, the features in the polygons' CRS, each one's
    representative point, the polygon it lies in (-1 for none) and the features in
    none, with a reason. A feature whose coordinates do not project into the CRS (a
    longitude of 200; a GPS fix at 0, 0, far outside the area a local CRS covers)
    is a reject too, its geometry null and its coordinates in the reason. Raises
    when no feature lies in a polygon, saying where both are."""
    crs = polygons.crs
    source = frame.geometry.values
    frame = frame.to_crs(crs)
    lost = unprojected(frame.geometry.values)
    if lost.any():
        frame.loc[lost, frame.geometry.name] = None
    rep = shapely.point_on_surface(frame.geometry.values)
    home = first_hit(rep, polygons.geometry.values)
    outside = home < 0
    if outside.all():
        found = (f"households around {_where(frame)}" if not lost.all() else
                 f"none of them projects into {crs.to_string()}")
        boundaries = "--crs gives the CRS the boundaries really are in, " if what == "community" else ""
        offset = _offset_hint(source, frame.attrs.get("source_crs"), polygons)
        raise InputError(f"none of the {len(frame)} household features lies inside a {what} ({found}, "
                         f"{what} polygons around {_where(polygons)}): is one of the files in the wrong place or "
                         f"CRS? ({boundaries}--households-crs the households': gcj02 for Chinese web-map data "
                         f"labelled EPSG:4326){_misread(source, polygons) or (f'. {offset}' if offset else '')}")
    reason = np.full(len(frame), f"outside every {what}", dtype=object)
    if "no_position" in frame:
        why = frame.pop("no_position").to_numpy()
        placeless = pd.notna(why)
        reason[placeless] = why[placeless]  # read_households warned of them
    else:
        placeless = np.zeros(len(frame), dtype=bool)
    # Each lost feature's lower left corner (a point's own x, y), as the file has it.
    reason[lost] = [f"its coordinates ({x:.8g}, {y:.8g}) do not project into {crs.to_string()}: not "
                    "longitude/latitude, or far outside the area that CRS covers"
                    for x, y in shapely.bounds(source[lost])[:, :2]]
    rejects = frame[outside].assign(reason=reason[outside])
    outside &= ~placeless
    if outside.any():
        # The summary says it too (reject_counts): the warning scrolls away over a long run.
        hint = rejects.attrs["outside_hint"] = _offset_hint(source[outside & ~lost], frame.attrs.get("source_crs"),
                                                            polygons)
        log.warning("%s household features (%s households) lie outside every %s%s; see rejects%s",
                    f"{int(outside.sum()):,}", f"{int(frame['households'][outside].sum()):,}", what,
                    f" ({int(lost.sum()):,} with coordinates that do not project)" if lost.any() else "",
                    f". {hint}" if hint else "")
    return frame, rep, home, rejects


def first_hit(points, polygons, *, nearest=False):
    """For each point, the lowest-numbered polygon it lies in (on an edge counts), or
    -1; with ``nearest``, the polygon nearest it instead of -1."""
    tree = shapely.STRtree(polygons)
    p_idx, g_idx = tree.query(points, predicate="intersects")
    order = np.lexsort((g_idx, p_idx))
    p_idx, g_idx = p_idx[order], g_idx[order]
    first = np.r_[True, p_idx[1:] != p_idx[:-1]] if len(p_idx) else np.zeros(0, bool)
    home = np.full(len(points), -1)
    home[p_idx[first]] = g_idx[first]
    if nearest:
        _to_nearest(tree, points, home)
    return home


def _to_nearest(tree, geoms, owner):
    """Give each of ``geoms`` whose ``owner`` is -1 the geometry of ``tree`` nearest
    it (of equally near ones, the first the tree gives), in place."""
    stray = np.flatnonzero(owner < 0)
    if len(stray):
        at, near = tree.query_nearest(geoms[stray])
        keep = np.r_[True, at[1:] != at[:-1]]
        owner[stray[at[keep]]] = near[keep]


def community_atoms(community, features, counts, kind, band, micro_band, lines, split_polygons, *, sized_for=None):
    """One community's atoms: lattice cells around household points (``features``:
    their representative points), or the household blocks (polygons), cut along
    ``lines`` (barriers). The lattice is sized for the community's households,
    ``sized_for`` (default: ``counts``' sum); a rebalance gives the count its grids
    were divided for, so that the blocks that did not change are cut as they were,
    and share their households among the grids as they did."""
    if kind == "points":
        # Finer atoms for points (more compact grids); with micro-grids, no finer
        # than those need (twice the time for +0.002 Polsby–Popper).
        piece = band.low * POINT_ATOM_SHARE
        if micro_band:
            piece = min(piece, micro_band.low * ATOM_SHARE)
        return _noded(_point_atoms(community, features, counts, band, lines, piece, sized_for=sized_for), community)
    atom_band = Band(min(band.low, micro_band.low) if micro_band else band.low, band.high)
    return _block_atoms(community, features, counts, atom_band, split_polygons, lines, sized_for=sized_for)


_WORKER_TASK = None  # the task, in a worker process


def _start_worker(path):
    global _WORKER_TASK
    with open(path, "rb") as file:
        _WORKER_TASK = pickle.load(file)


def _divide_in_worker(ci):
    return _WORKER_TASK.divide(ci)


def _each_community(task, workers):
    """Each community's :meth:`_CommunityTask.divide`, in order: here, or on
    ``workers`` processes (started fresh, "spawn": about 1 s to import gridkit, so
    worth it for many communities, not for one). Communities are independent, so
    the grids are the same either way."""
    n = len(task.communities)
    workers = min(workers, n)
    if workers <= 1:
        yield from (task.divide(ci) for ci in range(n))
        return
    import os
    import tempfile

    # The heaviest communities first, so that no worker is left with a big one at the end.
    order = np.argsort(-task.households(), kind="stable")
    # The task reaches the workers as a file, not as the initializer's argument: that
    # goes down the pipe that starts each worker, and a worker that dies before it
    # has read it all (a script without the ``__main__`` guard) leaves the parent
    # blocked on the pipe for ever instead of seeing the pool broken.
    fd, path = tempfile.mkstemp(prefix="gridkit-task-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as file:
            pickle.dump(task, file, protocol=pickle.HIGHEST_PROTOCOL)
        yield from _in_workers(task, order, workers, path)
    finally:
        os.unlink(path)


def _in_workers(task, order, workers, path):
    """:func:`_each_community` on ``workers`` processes, each loading the task from
    ``path``."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    n = len(task.communities)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(path,)) as pool:
        # One BLAS thread per worker, set before it loads numpy: with a thread per core
        # in each, two workers on 2 cores took 13.7 s instead of 10.5 (micro-grids,
        # Dongcheng). The workers start at the first submits (were they later, they
        # would only be slower); the variables are restored after them.
        saved = {name: os.environ.get(name) for name in _BLAS_THREADS}
        os.environ.update(dict.fromkeys(_BLAS_THREADS, "1"))
        try:
            futures = {ci: pool.submit(_divide_in_worker, ci) for ci in order.tolist()}
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name)
                else:
                    os.environ[name] = value
        try:
            for ci in range(n):
                try:
                    result = futures[ci].result()
                except BrokenProcessPool as exc:
                    raise GridkitError(_BROKEN_WORKER.format(ci=ci + 1, n=n)) from exc
                yield result
        finally:  # stopped early (an error here or in a worker): stop the workers; what is left fails
            # Not cancelled first: Python 3.11's executor then fails the cancelled
            # futures of the broken pool with a traceback (InvalidStateError).
            if not all(future.done() for future in futures.values()):
                _stop_workers(pool)


def _stop_workers(pool):
    """Kill ``pool``'s worker processes (a ProcessPoolExecutor): after an error, a
    community still being divided on one would otherwise run to its end before the
    error reaches the user (Futian as one community: 31 s). Its futures then fail
    with ``BrokenProcessPool``; the pool is of no further use. ``kill_workers`` is
    public from Python 3.14; before it, the executor's own table of processes."""
    kill = getattr(pool, "kill_workers", None)
    if kill is not None:
        kill()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):  # copied under the GIL
        process.kill()


#: What went wrong when a worker process stopped.
_BROKEN_WORKER = (
    "a worker process stopped before it had divided community {ci} of {n}: it could not start, ran out of "
    "memory or was killed. From a Python script, call balanced_grid(workers=...) under "
    "'if __name__ == \"__main__\":' (each worker starts by importing the script, and the script's own call "
    "then fails in it: that error is printed above); or use workers=1.")

#: The variables that set how many threads numpy's BLAS starts.
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _misread(source, polygons, sample=1000):
    """How household features (``source``, a GeometryArray in the file's CRS) none of
    which lies in ``polygons`` would: their x and y swapped (lon/lat the wrong way
    round, or a survey table's X, the northing, taken for the easting), or a
    Gauss–Krüger x read in the CRS with (or without) the zone number in front
    (:func:`gridkit.coords.zone_twin`). "" when neither puts most of a sample in."""
    points = shapely.point_on_surface(np.asarray(source[~source.isna()])[:sample])
    x, y = shapely.get_x(points), shapely.get_y(points)
    twin = coords.zone_twin(source.crs) if source.crs is not None else None
    tries = [(y, x, source.crs, ": with x and y swapped they do; give the columns the other way round (a "
              "survey table's X坐标 is the northing: --x-field Y坐标 --y-field X坐标)"
              if source.crs is not None and source.crs.is_projected else ": with longitude and latitude swapped "
              "they do; give the columns the other way round")]
    if twin is not None:
        tries.append((x, y, twin, f": read in --households-crs EPSG:{twin.to_epsg()} ({twin.name}) they do"))
    for tx, ty, crs, hint in tries:
        if len(points) and _share_inside(tx, ty, crs, polygons) > 0.5:
            return hint
    return ""


def _share_inside(x, y, crs, polygons):
    """The share of the points ``x``, ``y`` (in ``crs``) that lie in one of ``polygons``:
    how many of a sample of households a way of reading them puts inside."""
    with np.errstate(invalid="ignore"):
        moved = gpd.GeoSeries(shapely.points(x, y), crs=crs).to_crs(polygons.crs).values
    return (first_hit(moved, polygons.geometry.values) >= 0).mean()


def _offset_hint(source, read_as, polygons, sample=1000):
    """Whether household features outside every polygon would lie inside read in
    another of China's three lon/lat systems: GCJ-02 labelled EPSG:4326 (as Chinese
    web-map data often is) read as WGS84, Baidu's BD-09 read as either, GPS positions
    read as GCJ-02: most of a sample of ``source`` (lon/lat, as read), its file's
    coordinates read in the other system (100 m–1 km off), falls in a ``polygons``.
    ``read_as``: the CRS the households were read in ("gcj02", "bd09" or an EPSG
    name). "" when none would, or the features are not lon/lat in China."""
    if source.crs is None or not source.crs.is_geographic or len(source) < 10:  # not a few near an edge
        return ""
    points = shapely.point_on_surface(np.asarray(source)[:sample])
    x, y = shapely.get_x(points), shapely.get_y(points)
    if not coords.is_in_china(x, y).all():
        return ""
    read = coords.lonlat_system(read_as)
    if read is None:  # Baidu's metres: no lon/lat in the file
        return ""
    own = (x, y) if read == "wgs84" else coords._FROM_WGS84[read](x, y)  # the file's coordinates, as it has them
    shares = {other: _share_inside(*(own if other == "wgs84" else coords._TO_WGS84[other](*own)), 4326, polygons)
              for other in coords.LONLAT_SYSTEMS if other != read}
    best = max(shares, key=shares.get)
    if shares[best] <= 0.5:
        return ""
    return f"Read as {coords.read_as_said(best, '--households-crs')}, {shares[best]:.0%} of them would lie inside"


def _where(frame):
    """The centre of a frame's extent as 'lon, lat', for messages (null geometries left out);
    in the frame's CRS when it has no lon/lat (39,450,000 m east in a Gauss–Krüger zone)."""
    x0, y0, x1, y1 = frame.geometry.dropna().total_bounds
    centre = gpd.GeoSeries([shapely.Point((x0 + x1) / 2, (y0 + y1) / 2)], crs=frame.crs)
    lon, lat = centre.to_crs(4326).get_coordinates().to_numpy()[0]
    if np.isfinite(lon) and np.isfinite(lat):
        return f"{lon:.4f}, {lat:.4f}"
    return f"{centre.x[0]:.8g}, {centre.y[0]:.8g} in {frame.crs.to_string()}"


def _divide(atoms, band, within=None):
    """Grids (dicts: atoms, geometry, households, flag) of one community or grid."""
    whole_unit = within is None
    if within is None:
        within = np.arange(len(atoms.geometry))
    sub = atoms.take(within)
    a, b, length = _adjacency(sub)
    graph = _Graph(len(within), a, b, length, sub.zone[a] != sub.zone[b], sub.geometry, sub.weight)
    if sub.street_zones:
        labels, crossings = _regions(sub, band, a, b, length)
    else:  # source blocks: their edges only make cheap cuts
        labels, crossings = np.zeros(len(within), dtype="int64"), 0
    out = []
    proven = {}  # why grids out of the band must be: {atom: (flag, detail)}
    # Parts of the community that touch no other part (along an edge) and are too
    # light for a grid: their grids are islands, whatever region they fall in.
    n_whole, whole = graph.components(np.arange(len(within)))
    detached = (np.bincount(whole, weights=sub.weight)[whole] < band.low) & (n_whole > 1)
    # A community (or, for micro-grids, a grid) too light for one grid in the band.
    total = int(sub.weight.sum())
    too_few = ("community" if whole_unit else "grid", total) if total < band.low else None
    for region in np.unique(labels):
        members = np.flatnonzero(labels == region)
        n_comp, comp = graph.components(members)
        # A region may still fall apart (islands): each piece is divided on its own.
        for c in range(n_comp):
            piece = members[comp == c]
            # An indivisible atom above the band is a grid of its own; the rest is
            # divided around it, piece by piece.
            heavy = sub.indivisible[piece] & (sub.weight[piece] > band.high)
            towers = piece[heavy]
            parts = [[h] for h in towers]
            rest = piece[~heavy]
            n_rest, rest_comp = graph.components(rest) if len(rest) else (0, None)
            for r in range(n_rest):
                region = rest[rest_comp == r]
                if graph.weight[region].sum() < band.low:
                    # Too light for a grid of its own: it joins the tower it touches.
                    touching = np.flatnonzero(np.isin(towers, graph.dst[expand_ranges(
                        graph.indptr[region], graph.indptr[region + 1])[0]]))
                    if len(touching):
                        parts[touching[0]].extend(region.tolist())
                        continue
                divided = _best_division(graph, region, band)
                if not too_few:  # else every grid is too_few, which no proof changes
                    proven.update(_proven_out(graph, divided, region, band))
                parts.extend(divided)
            parts = [np.sort(np.asarray(p)) for p in parts]
            if heavy.any():  # towers and the divisions around them meet only here
                # Chains may end in a tower, which is out of the band anyway.
                parts = _pass_along(graph, _refine(graph, parts, band), band, sinks=set(range(len(towers))))
            for part in parts:
                out.append(_grid_record(sub, part, within, band, n_comp > 1 or detached[part[0]], proven, too_few))
    return out, crossings


#: What to do about a community with more grids than its IDs can number.
_GRID_LIMIT = (f"a community holds at most {MAX_CELLS_PER_COMMUNITY} grids (the 3-digit sequence of the 15-digit "
               "grid ID). Raise the band or supply smaller units (communities, not a whole district).")


def _too_many_grids(code, n):
    return f"community {code} would hold {n:,} grids; {_GRID_LIMIT}"


def _check_grid_counts(codes, home, counts, band, *, indivisible):
    """Before any division: refuse a community that needs more grids than it can number
    (a grid within the band holds at most ``band.high``; a feature above the band that
    is never cut, ``indivisible``, is a grid of its own), and warn when about that many
    grids (households / mid-band) are expected, so that a run does not fail only after
    minutes of work. :func:`balanced_grid` checks each community's count after its
    division too."""
    inside = home >= 0
    big = inside & (counts > band.high) if indivisible else np.zeros(len(home), bool)
    total = np.bincount(home[inside], weights=counts[inside], minlength=len(codes))
    n_big = np.bincount(home[big], minlength=len(codes))
    small = total - np.bincount(home[big], weights=counts[big], minlength=len(codes))
    least = n_big + np.ceil(small / band.high - 1e-9)
    about = n_big + small / ((band.low + band.high) / 2)
    for c in np.flatnonzero(least > MAX_CELLS_PER_COMMUNITY)[:1]:
        raise LayoutError(f"community {codes[c]} holds {int(total[c]):,} households: at least {int(least[c]):,} "
                          f"grids of at most {band.high:g}; {_GRID_LIMIT}")
    for c in np.flatnonzero(np.round(about) > MAX_CELLS_PER_COMMUNITY):
        log.warning("community %s holds %s households: about %s grids of %g–%g, so the run will likely fail; %s",
                    codes[c], f"{int(total[c]):,}", f"{round(about[c]):,}", band.low, band.high, _GRID_LIMIT)


def _proven_out(graph, parts, region, band):
    """Why the grids out of the band could be no better, where that is proved:
    {atom: (flag, detail)} for the atoms of those grids.

    ``unplaceable``: the grid holds an atom that no connected group within the band
    can hold (:func:`_unplaceable`). ``forced``: the grid's atoms with households,
    alone or with those of the grids around it (PROOF_RINGS rings), cannot all lie
    in disjoint connected grids within the band (:func:`_cannot_cover`), so in any
    division some grid holding one of them is out of the band; or, when it is the
    only grid out, the households of ``region`` make no whole number of grids in the
    band (a street block of 348 households, grids of 200–300). Grids never leave
    ``region`` (its street region).
    """
    proven = {}
    allowed = set(region.tolist())
    label = _labels(graph, parts)
    adjacency = graph.lists()[0]
    low, high = band.low, band.high
    out = [part for part in parts if not band.contains([graph.weight[part].sum()])[0]]
    total = int(graph.weight[region].sum())
    for part in out:
        stuck = [i for i in part.tolist() if graph.weight[i] > 0 and _unplaceable(graph, i, allowed, band)]
        for i in stuck:
            proven[i] = ("unplaceable", f"a feature of {int(graph.weight[i])} households is in no contiguous "
                                        f"group of {low:g}–{high:g} households")
        if stuck:
            continue
        if len(out) == 1 and total >= low and band.parts_for(total) is None:
            # The region's households make no whole number of grids in the band
            # (348 in grids of 200–300: one is too many, two too few).
            detail = (f"the {total} households of the area it lies in (bounded by barriers, the community's edge "
                      f"and features above the band) make no whole number of grids of {low:g}–{high:g}: one grid "
                      "there is out in any division that keeps to the barriers")
            proven.update(dict.fromkeys(part.tolist(), ("forced", detail)))
            continue
        grids = {int(label[part[0]])}
        for _ in range(PROOF_RINGS + 1):
            atoms = np.concatenate([parts[j] for j in sorted(grids)])
            cover = atoms[graph.weight[atoms] > 0]  # empty atoms can join any grid
            if len(cover) and _cannot_cover(graph, cover.tolist(), allowed, band, limit=PROOF_COVER_SETS):
                around = f" and the {len(grids) - 1} around it" if len(grids) > 1 else ""
                detail = (f"no division puts the households of this grid{around} ({len(cover)} features) in "
                          f"contiguous grids of {low:g}–{high:g} (an exhaustive search proves it): one grid here is "
                          "out in any division")
                proven.update(dict.fromkeys(part.tolist(), ("forced", detail)))
                break
            grids |= {int(label[j]) for i in atoms.tolist() for j in adjacency[i] if label[j] >= 0}
    return proven


def _cannot_cover(graph, cover, allowed, band, *, limit=PROOF_SETS):
    """Is it proved that no set of disjoint connected groups of ``allowed`` atoms (a
    set), each within the band, holds every atom of ``cover`` (a non-empty list)?

    Then every division of ``allowed`` has a grid out of the band among those
    holding atoms of ``cover``: its grids holding them would be such groups. Atoms
    outside ``cover`` need not be held, so this is a fact about the whole of
    ``allowed``, not only about the grids around ``cover``. A depth-first search:
    the heaviest atom not yet held takes each connected group within the band around
    it (:meth:`_Bits.groups_in_band`, never grown past the upper bound) in turn, from the
    atoms no group holds yet. True when it runs out of groups, False when it finds
    such a set or has looked at ``limit`` groups (gave up: nothing proved)."""
    low, high = band.whole
    bits = _Bits(graph, cover, allowed)  # cover's atoms are bits 0, 1, …
    budget = [limit]

    def held(todo, taken):
        # The heaviest atom not yet held first (the lowest of equals): it fits in
        # the fewest groups, so dead ends show soonest.
        start = max(bits.bits(todo), key=lambda b: (bits.weight[b], -bits.atom[b]))
        for group, _ in bits.groups_in_band(start, taken, low, high, budget):
            rest = todo & ~group
            if not rest or held(rest, taken | group):
                return True
        return False

    return not held((1 << len(cover)) - 1, 0) and budget[0] > 0


def _unplaceable(graph, start, allowed, band, *, limit=PROOF_SETS):
    """Is it proved that every connected set of ``allowed`` atoms (a set) holding atom
    ``start`` has a household count outside the band (:func:`_cannot_cover` with
    that atom alone)? Whatever grid holds such an atom is out of the band, in any
    division (grids never leave ``allowed``, the atom's street region): the flag
    can say so. Most atoms are no such atom, and :func:`_grows_into_band` shows it
    in a few steps, before any search."""
    grows, whole = _grows_into_band(graph, start, allowed, band, whole=True)
    return not grows and (whole or _cannot_cover(graph, [start], allowed, band, limit=limit))


def _grows_into_band(graph, start, allowed, band, *, whole=False):
    """Does a greedy breadth-first growth from atom ``start`` over ``allowed`` atoms
    (each one taken while it keeps the group at most the upper bound) reach the
    band? Then ``start`` fits in a grid within it. A quick sufficient test: the
    search :func:`_cannot_cover` runs to its first group in the band costs about
    1 ms on fine atoms (split blocks, points: a few households each), where this
    takes a few dozen steps; rebalance asks it of every atom of a grid out of the
    band (1,099 times when an estate of 2,000 households lands on Cincinnati's
    split blocks).

    With ``whole``, ``(grows, whole)``: whether, short of the band, the growth took
    every atom it met, so that the whole connected area of ``start`` holds fewer
    households than the lower bound, and no group holding it can reach the band
    (a proof in as many steps: the search to prove it over a community of 535 light
    atoms, Dongcheng's unit cells rebalanced into grids of 100–150 households, took
    0.08 s an atom, 80 s in all).
    """
    low, high = band.whole
    adjacency, _, weight, _, _ = graph.lists()
    total, skipped = weight[start], False
    if total > high:
        return (False, False) if whole else False
    seen, queue = {start}, deque([start])
    while total < low and queue:
        for j in adjacency[queue.popleft()]:
            if j not in seen and j in allowed:
                seen.add(j)
                if total + weight[j] <= high:
                    total += weight[j]
                    queue.append(j)
                    if total >= low:
                        break
                else:
                    skipped = True
    grows = total >= low
    return (grows, not grows and not skipped) if whole else grows


#: Why a grid is outside the band (the ``flag`` column); the ``flag_detail``
#: column gives the numbers.
FLAGS = {
    "too_few": ("the whole community (for micro-grids, the whole grid) holds fewer households than the lower "
                "bound: an island village, a park"),
    "island": "an island or detached part too light for the band",
    "light": ("below the band: no contiguous division found here reaches the lower bound "
              "(too few households around, or blocks too coarse)"),
    "indivisible": "above the band: one indivisible feature holds more than the upper bound",
    "heavy": "above the band: no contiguous division found here reaches the band (blocks too coarse: allow splitting)",
    "unplaceable": ("out of the band in any division: one feature in it fits in no contiguous grid within "
                    "the band (with the features around it, always too few or too many households)"),
    "forced": ("out of the band because some grid here must be, in any division: the households of this grid "
               "(and of the grids around it, or of the area between barriers it lies in) cannot all lie in "
               "contiguous grids within the band (proved by an exhaustive search, or by the count)"),
}


def _grid_record(atoms, part, within, band, island, proven=None, too_few=None):
    """A grid (dict) from its atoms, flagged when out of the band. ``too_few``: the
    unit divided (a community, or a grid for micro-grids) and its households, when
    they are fewer than the lower bound."""
    households = int(atoms.weight[part].sum())
    flag, detail = "", ""
    if households < band.low and too_few:
        unit, total = too_few
        flag = "too_few"
        detail = f"{households} households; the whole {unit} holds {total}, fewer than {band.low:g}"
    elif households < band.low:
        flag = "island" if island else "light"
        detail = f"{households} households < {band.low:g}"
    elif households > band.high:
        heavy = atoms.indivisible[part] & (atoms.weight[part] > band.high)
        flag = "indivisible" if heavy.any() else "heavy"
        detail = (f"one feature holds {int(atoms.weight[part][heavy].max())} households; "
                  "allow splitting (split_polygons) or accept it") if heavy.any() else (
                  f"{households} households > {band.high:g}")
    if proven and flag in ("light", "heavy"):
        why = [proven[i] for i in part.tolist() if i in proven]
        if why:  # the first unplaceable feature (the plainer reason), else the first proof
            flag, reason = min(why, key=lambda fd: fd[0] != "unplaceable")
            detail = f"{households} households; {reason}"
    return {"atoms": within[part], "geometry": shapely.coverage_union_all(atoms.geometry[part]),
            "households": households, "flag": flag, "flag_detail": detail,
            # Atoms of more than one street block: the grid crosses a barrier.
            "crosses_barrier": bool(atoms.street_zones and len(np.unique(atoms.zone[part])) > 1)}


def name_heavy_features(grids, frame, rep, inside, band, kind):
    """Name the features that make ``grids``' ``indivisible`` grids: their rows in the
    households' file and their counts, in ``flag_detail``, so that a count typed wrong
    (a building of 300 floors) is found. ``rep``: each feature's representative
    point; ``inside``: the features placed in a grid. In place."""
    flagged = np.flatnonzero(grids["flag"].to_numpy() == "indivisible")
    counts = frame["households"].to_numpy()
    big = np.flatnonzero(inside & (counts > band.high))
    if not len(flagged) or not len(big):
        return
    grid_of = first_hit(rep[big], grids.geometry.values[flagged])
    rows = frame["source_row"].to_numpy()
    name = os.path.basename(frame.attrs.get("source_path", "households"))
    fix = "check its count, or accept it" if kind == "points" else "allow splitting (split_polygons) or accept it"
    column = grids.columns.get_loc("flag_detail")
    for k, g in enumerate(flagged.tolist()):
        mine = big[grid_of == k]
        if len(mine) == 1:
            grids.iat[g, column] = f"one feature, row {rows[mine[0]]} of {name}, holds {counts[mine[0]]:,} " \
                                   f"households; {fix}"
        elif len(mine):
            held = ", ".join(f"{n:,}" for n in counts[mine][:10].tolist())
            listed = ", ".join(map(str, rows[mine][:10].tolist())) + (", …" if len(mine) > 10 else "")
            grids.iat[g, column] = f"{len(mine)} features, rows {listed} of {name}, hold {held} households; " \
                                   f"{fix.replace('its count', 'their counts')}"


def _number_within(groups, geoms, limit, too_many):
    """1-based sequence per group, west→east in rows, rows north→south (rows as
    high as the grids' mean side); more than ``limit`` in a group raises
    ``too_many(group, count)``."""
    seq = np.zeros(len(groups), dtype="int64")
    order = []
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        side = math.sqrt(max(float(np.mean(shapely.area(geoms[idx]))), 1.0))
        idx = idx[row_major_order(geoms[idx], side)]
        if len(idx) > limit:
            raise LayoutError(too_many(g, len(idx)))
        seq[idx] = np.arange(1, len(idx) + 1)
        order.extend(idx)
    return seq, np.asarray(order, dtype="int64")


def _measures(rows, geoms):
    """The columns grids and micro-grids share."""
    return {
        "households": np.array([r["households"] for r in rows], dtype="int64"),
        "area_m2": np.round(shapely.area(geoms), 2),
        "polsby_popper": np.round(polsby_popper(geoms), 4),
        "flag": [r["flag"] for r in rows],
        "flag_detail": [r["flag_detail"] for r in rows],
        "crosses_barrier": np.array([r["crosses_barrier"] for r in rows], dtype=bool),
    }


def within_parents(layout, communities) -> HouseholdLayout:
    """``layout`` with each grid clipped to its community, and each micro-grid to
    its grid, where one strays beyond by a hair.

    Atoms are noded with their community's edge, and where lines run a hair apart
    (block edges 1e-7 m inside a community edge of rounded coordinates, as a
    GeoJSON export, or the union of cells adopted from one, leaves it) GEOS nodes
    them by snapping, which can move that edge outward: grids traced from the atoms
    lay up to 5e-4 m² beyond their community, and the layout was refused. Only
    what strays is clipped; every other edge stays as traced. Clipping the atoms
    themselves would unnode neighbours, which the grids are the unions of."""
    grids = _clipped(layout.grids, "community_code", communities.set_index(
        communities["community_code"].astype(str)).geometry)
    micro = layout.micro
    if micro is not None:
        micro = _clipped(micro, "grid_id", grids.set_index(grids["grid_id"].astype(str)).geometry)
    if grids is layout.grids and micro is layout.micro:
        return layout
    return HouseholdLayout(grids, micro, layout.rejects, layout.summary, layout.sized_for)


def _clipped(frame, key, parents):
    """``frame`` with the polygons that lie more than DEGENERATE_AREA beyond their
    ``parents`` (by ``key``) cut to them, and parts of no more than that dropped
    from the others, their area and Polsby–Popper measured again; ``frame`` itself
    when nothing changes.

    A polygon is cut only when that takes it nearer inside: on such near-coincident
    edges, GEOS's intersection can itself return a polygon further out (a grid 0 m²
    beyond by ``difference`` came back 4e-5 m² beyond)."""
    geoms = frame.geometry.values
    parent = parents.reindex(frame[key].astype(str)).values
    known = np.flatnonzero(~shapely.is_missing(parent))
    stray = known[~shapely.covers(parent[known], geoms[known])]
    beyond = shapely.area(shapely.difference(geoms[stray], parent[stray]))
    stray, beyond = stray[beyond > DEGENERATE_AREA], beyond[beyond > DEGENERATE_AREA]
    clipped = _polygonal(shapely.intersection(geoms[stray], parent[stray]))
    nearer = shapely.area(shapely.difference(clipped, parent[stray])) < beyond
    stray, clipped = stray[nearer], clipped[nearer]
    # A speck of a part (4.5e-10 m², a face the snapping left) goes as well.
    specked = np.flatnonzero(shapely.get_num_geometries(geoms) > 1)
    specked = np.setdiff1d(specked, stray)
    trimmed = _polygonal(geoms[specked])
    changed = ~shapely.is_missing(trimmed) & (shapely.get_num_geometries(trimmed)
                                              < shapely.get_num_geometries(geoms[specked]))
    stray, clipped = np.r_[stray, specked[changed]], np.r_[clipped, trimmed[changed]]
    if not len(stray):
        return frame
    geoms = geoms.copy()
    geoms[stray] = clipped
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    at = frame.index[stray]
    for column, measure, digits in (("area_m2", shapely.area, 2), ("polsby_popper", polsby_popper, 4)):
        if column in frame.columns:  # grids adopted from a platform's file may lack them
            frame.loc[at, column] = np.round(measure(clipped), digits)
    return frame


def _polygonal(geoms):
    """Each geometry's polygons of more than DEGENERATE_AREA (no lines or points where
    an overlay touched, no specks), as a Polygon where one is left; None where none is."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > DEGENERATE_AREA)
    out = shapely.multipolygons(parts[keep], indices=owner[keep], out=np.empty(len(geoms), dtype=object))
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _grid_frame(rows, communities, crs, band, start_date):
    geoms = np.array([r["geometry"] for r in rows], dtype=object)
    comm = np.array([r["community"] for r in rows], dtype="int64")
    codes_ = communities["community_code"].to_numpy()[comm]
    seq, order = _number_within(comm, geoms, MAX_CELLS_PER_COMMUNITY,
                                lambda c, n: _too_many_grids(codes_[comm == c][0], n))
    frame = gpd.GeoDataFrame(
        {
            "grid_id": [f"{c}{s:03d}" for c, s in zip(codes_, seq)],
            "sequence": seq.astype("int32"),
            **{c: communities[c].to_numpy()[comm] for c in HIERARCHY_COLUMNS},
            **_measures(rows, geoms),
            "start_date": start_date,
            "end_date": None,
        },
        geometry=gpd.GeoSeries(geoms, crs=crs),
    )
    frame["in_band"] = band.contains(frame["households"].to_numpy())
    row_ids = dict(zip(range(len(rows)), frame["grid_id"]))
    return frame.iloc[order].reset_index(drop=True), row_ids


def _micro_frame(rows, parent_ids, crs, band):
    geoms = np.array([r["geometry"] for r in rows], dtype=object)
    parents = np.array([parent_ids[r["parent"]] for r in rows], dtype=object)
    seq, _ = _number_within(parents, geoms, MAX_MICRO,
                            lambda p, n: f"grid {p} would hold {n} micro-grids; at most {MAX_MICRO}")
    frame = gpd.GeoDataFrame(
        {
            "micro_id": [f"{p}{s:02d}" for p, s in zip(parents, seq)],
            "grid_id": parents,
            "sequence": seq.astype("int32"),
            **_measures(rows, geoms),
        },
        geometry=gpd.GeoSeries(geoms, crs=crs),
    )
    frame["in_band"] = band.contains(frame["households"].to_numpy())
    return frame.sort_values("micro_id", kind="stable").reset_index(drop=True)


def _summary(grids, band, kind, features, outside, crossings):
    hh = grids["households"].to_numpy()
    flagged = grids["flag"].astype(bool)
    mean = float(hh.mean()) if len(hh) else 0.0
    return {
        "band": [band.low, band.high],
        "kind": kind,
        "features": features,
        "outside": outside,
        "grids": len(grids),
        "in_band": int(grids["in_band"].sum()),
        "in_band_pct": round(100.0 * float(grids["in_band"].mean()), 2) if len(grids) else 0.0,
        "households": int(hh.sum()),
        "households_min": int(hh.min()) if len(hh) else 0,
        "households_max": int(hh.max()) if len(hh) else 0,
        "households_cv": round(float(hh.std() / mean), 4) if mean else 0.0,
        "polsby_popper_mean": round(float(grids["polsby_popper"].mean()), 4) if len(grids) else 0.0,
        "contiguous": int((shapely.get_type_id(grids.geometry.values) == 3).sum()),
        "flagged": int(flagged.sum()),
        "flags": grids.loc[flagged, "flag"].value_counts().to_dict(),
        "barrier_crossings": crossings,
        "grids_crossing_barriers": int(grids["crosses_barrier"].sum()),
    }
