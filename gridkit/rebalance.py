"""Keeping a household layout as households change (动态调整).

A grid layout is drawn once and then lived with: residents, grid workers and
the component catalogue know its grid IDs. When the households change (a new
estate, a demolished block, a fresh census) or a grid was redrawn by hand, the
layout is recounted, and only the grids now out of the band are divided again,
with the grids around them; every other grid keeps its polygon, its ID and its
start date. A grid that changes ends: it goes to ``ended`` with an
``end_date`` and the IDs of the grids that took its place, which get the next
sequence numbers in their community. No ID is issued twice: the highest sequence
ever issued under each community (and each grid, for its micro-grids) is kept in
the package's metadata (:func:`highest_issued`), so a grid deleted or merged by hand
does not hand its ID to a new grid.

The re-division is the household partitioner's own repair (the grids around a
grid out of the band, merged and divided again into as many grids, one fewer or
one more) and its chains (households passed along a line of grids), on atoms
cut along the old grids' edges, so that new edges follow old ones where they
can. The grids that changed are then straightened and polished among
themselves only. With barriers, atoms are cut along them too and a new grid
keeps to one street block, or to the light blocks joined across a barrier as
:func:`~gridkit.households.balanced_grid` joins them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .cells import barrier_lines
from .codes import MAX_CELLS_PER_COMMUNITY, day_text, highest_issued, is_provisional_code
from .errors import InputError, LayoutError
from .households import (
    DEGENERATE_AREA, MAX_MICRO, HouseholdLayout, _adjacency, _Atoms, _divide, _Graph, _grid_record,
    _last_repairs, _micro_frame, _noded, _pass_along, _proven_out, _refine, _regions, _repair, _share_by_area,
    _straighten, _summary, _to_nearest, _too_many_grids, _unchanged, bands_of, community_atoms,
    name_heavy_features, place_households, polsby_popper, read_households, reject_counts, within_parents,
)
from .invariants import check_micro_grids, check_partition
from .io import require_frame
from .locator import _refuse_missing
from .package import _replaced_by, _units_say
from .recut import follow
from .units import HIERARCHY_COLUMNS, row_major_order

__all__ = ["rebalance", "Rebalanced", "communities_of", "highest_issued"]


@dataclass
class Rebalanced:
    """What :func:`rebalance` returns."""

    layout: HouseholdLayout  # the grids now (and micro-grids), rejects, summary
    ended: gpd.GeoDataFrame  # the grids that changed, as they were, with end_date and replaced_by
    ended_micro: gpd.GeoDataFrame | None  # the micro-grids of those grids, as they were
    issued: dict = field(default_factory=dict)  # :func:`highest_issued`, new IDs included


def communities_of(grids, units) -> gpd.GeoDataFrame:
    """The communities frame of a grid package (its ``units`` layer's communities,
    with the hierarchy columns its grids carry), as :func:`gridkit.unit_hierarchy`
    makes it, in the grids' CRS. A community no grid names (added in the units
    layer: a community split in two) takes its name, street and county from the
    units layer, and its ``provisional`` too (else its code's form)."""
    require_frame(grids, "the grids", ("community_code",), fix="read them with gridkit.read_package()")
    require_frame(units, "the units", ("level", "code"), fix="read them with gridkit.read_package(), whose "
                  "units layer holds them")
    if grids.crs is None:
        raise InputError("the grids have no CRS: give them their package's (grids.set_crs(...))")
    comm = units[units["level"] == "community"]
    attrs = grids.drop_duplicates("community_code").set_index(grids["community_code"].drop_duplicates())
    attrs = attrs[[c for c in HIERARCHY_COLUMNS if c in attrs.columns]]
    missing = sorted(set(comm["code"]) - set(attrs.index))
    if missing:
        said = _units_say(pd.DataFrame({"community_code": missing}), units)
        if said["street_code"].isna().any():
            lost = [c for c, s in zip(missing, said["street_code"]) if pd.isna(s)]
            raise InputError(f"communities {', '.join(lost[:5])} of the units layer hold no grid and name no street "
                             "of it (parent_code): give each its street's code, or delete it")
        rows = comm.drop_duplicates("code").set_index("code")
        held = rows["provisional"].reindex(missing) if "provisional" in rows.columns else [None] * len(missing)
        said["provisional"] = [bool(h) if pd.notna(h) else is_provisional_code(c) for c, h in zip(missing, held)]
        attrs = pd.concat([attrs, said.set_axis(missing).assign(community_code=missing)])
    frame = gpd.GeoDataFrame({c: attrs.loc[comm["code"].to_numpy(), c].to_numpy() for c in HIERARCHY_COLUMNS},
                             geometry=comm.geometry.values, crs=units.crs)
    return frame.to_crs(grids.crs)


def rebalance(grids, communities, households, *, min_households=None, max_households=None, target=None,
              tolerance=0.2, count_field=None, floors_field=None, area_per_household=None, default_floors=None,
              kind="auto", split_polygons=False, barriers=None, micro_grids=None, micro=None, redivide=True,
              start_date=None, issued=None, sized_for=None):
    """Recount a household layout's grids and divide again those out of the band.

    Parameters
    ----------
    grids : GeoDataFrame
        The layout's grids (a grid package's ``cells`` from ``gridkit grid
        households``, edited or not), in a metric CRS, tiling ``communities``.
    communities : GeoDataFrame
        The communities they tile (:func:`communities_of` a package's ``units``).
    households : GeoDataFrame
        The households now, as for :func:`gridkit.households.balanced_grid`
        (``count_field``, ``floors_field``…, ``kind``, ``split_polygons``).
    min_households, max_households, target, tolerance
        The band (as a rule, the package's).
    barriers : lines, optional
        Roads, rivers, rail (as a rule, those the layout was divided along): a new
        grid keeps to one street block, crossing a barrier only where blocks too
        light for the band are joined, as in
        :func:`~gridkit.households.balanced_grid`. Every grid's
        ``crosses_barrier`` is measured again.
    micro_grids : GeoDataFrame, optional
        The layout's micro-grids, with ``micro`` (min, max) their band: those of a
        grid that stays are kept and recounted; a new grid's are divided anew, as
        are those of a kept grid they no longer match (numbered on after its
        highest micro-grid; should two digits not hold them, the grid ends and is
        issued anew, as it is, its micro-grids numbered from 01 under the new ID).
    redivide : bool
        False: recount and flag only; no grid changes.
    start_date : str, optional
        The day the new grids start and the changed ones end (default: today).
    issued : dict, optional
        The highest sequences issued before (:func:`highest_issued` of the IDs on
        record: a package's ``highest_issued`` metadata and its ended layers). New
        grids and micro-grids number on after them as well as after the IDs in
        use, so an ID deleted by hand is not issued again.
    sized_for : dict, optional
        Each community's households (by code) that the layout's atoms were sized
        for: :func:`~gridkit.households.balanced_grid`'s ``sized_for`` (a package's
        ``atoms_sized_for`` metadata), carried from rebalance to rebalance. Blocks
        cut with ``split_polygons`` share their households by area among lattice
        pieces sized by it: sized alike, the blocks that did not change share them
        among the grids as they did. Without it, today's households size them, and
        an estate in one corner moves many grids' counts by a household or two.

    Returns
    -------
    Rebalanced
        ``layout``: the grids now, ordered by ID (the kept ones as they were but
        for their counts and flags), micro-grids, rejects (household features in
        no grid) and a summary with ``households_before`` (the grids' count
        column before), ``out_before`` (grids out of the band once recounted),
        ``ended_ids`` and ``new_ids`` (its ``barrier_crossings``, light blocks
        joined across a barrier, counts only the communities with a grid out of
        the band, the ones divided again; ``grids_crossing_barriers`` counts
        every grid); ``ended`` and ``ended_micro``:
        what changed, as it was; ``issued``: ``issued`` updated with the IDs
        in use and the new ones, for the package's metadata.

    A grid that no re-division brings into the band keeps its polygon and ID and
    is flagged as :func:`~gridkit.households.balanced_grid` flags it.
    """
    t0 = time.perf_counter()
    band, micro_band = bands_of(min_households, max_households, target, tolerance, micro)
    if (micro_grids is None) != (micro_band is None):
        raise InputError("give the micro-grids and their band together (micro_grids= and micro=)")
    require_frame(grids, "the grids", ("grid_id", "community_code"), fix="read them with gridkit.read_package()")
    if micro_grids is not None:
        require_frame(micro_grids, "the micro-grids", ("micro_id", "grid_id"), fix="read them from the "
                      "package's micro_grids layer")
    crs = grids.crs
    before = grids.reset_index(drop=True)
    _refuse_missing(before.geometry.values, before["grid_id"].astype(str).to_numpy(), "grid", "the grids")
    if micro_grids is not None:
        _refuse_missing(micro_grids.geometry.values, micro_grids["micro_id"].astype(str).to_numpy(), "micro-grid",
                        "the micro-grids")
    # New IDs number on after the highest issued: in use, on record, or remembered.
    issued = highest_issued(before["grid_id"].astype(str),
                            () if micro_grids is None else micro_grids["micro_id"].astype(str), before=issued)
    # A community boundary moved in the units layer: its grids are cut to it first.
    day = day_text(start_date)
    grids, _, followed = (follow(before, communities, barriers=barriers, issued=issued, start_date=day) if redivide
                          else (before, None, None))
    # Grids whose micro-grids no longer match them (a grid redrawn by hand) get new ones.
    stale = _stale_micro(grids, micro_grids) if micro_grids is not None else set()
    _check_layout(grids, micro_grids, communities, stale, followed=redivide)
    frame, kind = read_households(households, count_field=count_field, floors_field=floors_field,
                                  area_per_household=area_per_household, default_floors=default_floors,
                                  kind=kind, communities=communities)
    lines = None if barriers is None else barrier_lines(barriers, crs, grids.total_bounds)
    grid_geoms, grid_ids = grids.geometry.values, grids["grid_id"].astype(str).to_numpy()
    frame, rep, home, rejects = place_households(frame, grids, "grid")
    outside = home < 0
    counts = frame["households"].to_numpy()
    features = rep if kind == "points" else frame.geometry.values

    # Each grid's micro-grids, grouped once.
    micro_of = ({} if micro_grids is None else
                {g: frame for g, frame in micro_grids.groupby(micro_grids["grid_id"].astype(str), sort=False)})
    kept, new, ended, kept_micro, new_micro = [], [], [], [], []
    out_before = crossings = 0
    codes = grids["community_code"].astype(str).to_numpy()
    sized_for = dict(sized_for or {})
    grown = set(followed["communities"]) | {new[:12] for new in followed["over"].values()} if followed else set()
    if grown or (followed or {}).get("added"):
        # A community whose boundary moved (or that took a merged one's grids) keeps the
        # households per m² its lattice was sized at: sized for its count over its new
        # area, every block it cut was cut anew, and grids a kilometre from the move
        # gained or lost households by the shares.
        was = before.geometry.area.groupby(before["community_code"].astype(str).to_numpy()).sum()
        now_area = communities.geometry.area.set_axis(communities["community_code"].astype(str))
        # A community added (split from another) is sized at the one most of its land came from.
        for code, added in followed["added"].items():
            if added["from"] in sized_for:
                sized_for[code] = sized_for[added["from"]] * float(now_area[code]) / float(was[added["from"]])
        for code in grown & set(sized_for):
            sized_for[code] = sized_for[code] * float(now_area[code]) / float(was[code])
    for code, community in zip(communities["community_code"].astype(str), communities.geometry.values):
        idx = np.flatnonzero(codes == code)
        mine = np.flatnonzero(np.isin(home, idx))
        pieces = grid_geoms[idx]
        if micro_grids is not None:
            fresh = [g for g in grid_ids[idx] if g not in stale]
            redrawn = np.isin(grid_ids[idx], list(stale))
            pieces = np.array([*(m for g in fresh if g in micro_of for m in micro_of[g].geometry.values),
                               *grid_geoms[idx][redrawn]], dtype=object)
        # The lattice that cuts blocks is sized as it was for the layout: the blocks that
        # did not change are cut, and share their households among the grids, as they
        # were (sized by today's total, an estate in one corner moved every grid's count).
        sized_for.setdefault(code, int(counts[mine].sum()))
        # The atoms a division would use, cut where they cross a grid's (or a
        # micro-grid's) edge.
        atoms = community_atoms(community, features[mine], counts[mine], kind, band, micro_band, lines,
                                split_polygons, sized_for=sized_for[code])
        atoms = _cut(atoms, pieces, community)
        owner = _owner(atoms.geometry, grid_geoms[idx])
        if lines is None:  # with barriers an atom's zone is its street block; without, its grid
            atoms.zone, atoms.street_zones = owner, False
        done = _community(atoms, owner, len(idx), band, redivide)
        out_before += done.out_before
        crossings += done.crossings
        for j, part, record in done.kept:
            gid = grid_ids[idx[j]]
            if micro_grids is not None and gid in stale:
                made = _micro_divided(atoms, part, micro_band, gid)
                if issued.get(gid, 0) + len(made) > MAX_MICRO:
                    # Its micro-grids' two digits would run out: the grid ends and is
                    # issued anew, as it is, its micro-grids numbered from 01 under the
                    # new ID (an ID is issued once, a micro-grid's too).
                    done.ended.append(j)
                    done.new.append({**record, "atoms": part, "crosses_barrier": record.get("crosses_barrier", False),
                                     "geometry": record.get("geometry", grid_geoms[idx[j]])})
                    continue
                new_micro.extend(made)
            elif micro_grids is not None:
                kept_micro.append(_micro_recount(atoms, part, micro_of[grid_ids[idx[j]]], micro_band,
                                                 traced="geometry" in record))
            kept.append((idx[j], record))
        ended.extend(idx[done.ended].tolist())
        first = 1 + issued.get(code, 0)
        for record, sequence in zip(done.new, _sequences(done.new, first, code)):
            record["grid_id"] = f"{code}{sequence:03d}"
            new.append(record)
            if micro_band is not None:
                new_micro.extend(_micro_divided(atoms, record["atoms"], micro_band, record["grid_id"]))

    now = _grids_now(grids, kept, new, communities, crs, band, day)
    # As they were: the grids neither kept here nor by the boundary's move (one gone over
    # to another community under a new ID, then divided again, ends as it was before).
    gone = before[~before.index.isin(np.delete(grids.index.to_numpy(), ended))].copy()
    gone["end_date"] = day
    gone["replaced_by"] = _replaced_by(gone, now)
    total, held = int(counts[~outside].sum()), int(now["households"].sum())
    if held != total:  # never write a layout that lost or doubled households
        raise LayoutError(f"internal error: the grids hold {held} households of the {total} inside them; "
                          "please report it with the input")
    name_heavy_features(now, frame, rep, ~outside, band, kind)
    summary = _summary(now, band, kind, len(frame), int(outside.sum()), crossings)
    summary.update(reject_counts(rejects))
    micro_now = gone_micro = None
    if micro_band is not None:
        # A kept grid's micro-grids divided anew number on after its highest issued:
        # the ended ones keep their IDs to themselves.
        parent = micro_grids["grid_id"].astype(str)
        micro_now = _micro_now(kept_micro, new_micro, crs, micro_band, issued)
        name_heavy_features(micro_now, frame, rep, ~outside, micro_band, kind)
        # Those of the grids that ended, of grids whose micro-grids were divided anew,
        # and of grids no longer there (merged into another by hand).
        gone_micro = micro_grids[parent.isin(gone["grid_id"].astype(str)) | parent.isin(stale)
                                 | ~parent.isin(grid_ids)].copy()
        gone_micro["end_date"] = day
        summary["micro"] = _summary(micro_now, micro_band, kind, 0, 0, 0)
    summary.update({
        "households_before": int(before["households"].sum()) if "households" in before.columns else None,
        "followed": followed, "out_before": out_before, "micro_redrawn": sorted(stale),
        "ended_ids": gone["grid_id"].astype(str).tolist(),
        # New: the grids the re-division made, and those gone over to another community (or
        # to one added) that it kept.
        "new_ids": sorted([*(r["grid_id"] for r in new),
                           *now["grid_id"][now["grid_id"].isin(_followed_ids(followed))]]),
        "seconds": round(time.perf_counter() - t0, 3)})
    issued = highest_issued(now["grid_id"], () if micro_now is None else micro_now["micro_id"], before=issued)
    return Rebalanced(within_parents(HouseholdLayout(now, micro_now, rejects, summary, sized_for), communities),
                      gone, gone_micro, issued)


def _followed_ids(followed):
    """The IDs :func:`gridkit.recut.follow` gave: grids gone over to another
    community, and those of communities added."""
    if not followed:
        return []
    return [*followed["over"].values(), *(i for added in followed["added"].values() for i in added["ids"])]


def _stale_micro(grids, micro_grids):
    """IDs of the grids whose micro-grids do not match them: none, IDs not the
    grid's, or not the grid's area (a grid redrawn or merged by hand)."""
    micro = micro_grids.assign(_area=micro_grids.area, _id=micro_grids["micro_id"].astype(str),
                               _grid=micro_grids["grid_id"].astype(str))
    area = micro.groupby("_grid")["_area"].sum()
    wrong = set(micro.loc[micro["_id"].str[:15] != micro["_grid"], "_grid"])
    stale = set()
    for gid, geom in zip(grids["grid_id"].astype(str), grids.geometry.values):
        if gid not in area.index or gid in wrong or abs(area[gid] - geom.area) > 1e-6 * geom.area:
            stale.add(gid)
    return stale


def _check_layout(grids, micro_grids, communities, stale=(), followed=True):
    """Refuse a layout that cannot be recounted: not in metres, IDs repeated or not
    of their community, grids that do not tile their communities, or micro-grids
    (but those of ``stale`` grids, divided anew) that do not tile their grids.
    The grids were cut to a moved boundary first (:func:`gridkit.recut.follow`)
    unless not ``followed`` (a recount only): then the message names that fix."""
    if grids.crs is None or not grids.crs.is_projected:
        raise InputError("the grids must be in a projected (metric) CRS, as the package holds them")
    for what, frame, key in (("grids", grids, "grid_id"), ("micro-grids", micro_grids, "micro_id")):
        if frame is not None and frame[key].isna().any():
            raise InputError(f"{what} without a {key}: {int(frame[key].isna().sum())} (drawn by hand, say); give "
                             "each a free ID (`gridkit check --fix-ids` gives one), or delete it")
        if frame is not None and frame[key].duplicated().any():
            twice = frame.loc[frame[key].duplicated(), key].astype(str).tolist()
            raise InputError(f"the {what} repeat IDs ({', '.join(twice[:5])}): each needs its own; "
                             "`gridkit check --fix-ids` gives one to all but one")
    wrong = [g for g, c in zip(grids["grid_id"].astype(str), grids["community_code"].astype(str))
             if not (len(g) == 15 and g.isdigit() and g.startswith(c) and g[12:] != "000")]
    if wrong:
        raise InputError(f"grid IDs {', '.join(wrong[:5])} are not their community's code and a sequence "
                         "001–999: `gridkit check` names what is wrong with each")
    broken = check_partition(grids, communities).problems
    if broken:
        raise LayoutError("the grids do not tile their communities, so they cannot be recounted: "
                          + "; ".join(broken[:3]) + ". `gridkit check --problems` shows where"
                          + ("" if followed else "; a rebalance that divides (not --recount-only, redivide=True) "
                             "cuts the grids to a boundary moved in the units layer"))
    if micro_grids is not None:
        ids = grids["grid_id"].astype(str)
        fresh = ~ids.isin(stale).to_numpy()
        broken = check_micro_grids(micro_grids[micro_grids["grid_id"].astype(str).isin(ids[fresh])],
                                   grids[fresh]).problems
        if broken:
            raise LayoutError("the micro-grids do not tile their grids, so they cannot be recounted: "
                              + "; ".join(broken[:3]) + ". `gridkit check --problems` shows where")


def _cut(atoms, polygons, community):
    """``atoms`` cut along the edges of ``polygons`` (which tile ``community``): an
    atom inside one polygon stays as it is; one across several becomes its pieces,
    its households shared by area. By overlay, not by noding lines: an atom's edge
    and a grid's edge along the community's boundary are the same line drawn with
    different vertices, and noding them makes slivers on either side."""
    geoms = atoms.geometry
    tree = shapely.STRtree(polygons)
    # Most atoms lie within one polygon: they stay whole, with no overlay to compute.
    w_idx, _ = tree.query(geoms, predicate="within")
    rest = np.flatnonzero(np.bincount(w_idx, minlength=len(geoms)) != 1)
    a_idx, p_idx = tree.query(geoms[rest], predicate="intersects")
    a_idx = rest[a_idx]
    pieces = shapely.intersection(geoms[a_idx], polygons[p_idx])
    keep = shapely.area(pieces) > DEGENERATE_AREA
    a_idx, pieces = a_idx[keep], pieces[keep]
    across = np.bincount(a_idx, minlength=len(geoms)) > 1
    if not across.any():
        return atoms
    whole = np.flatnonzero(~across)
    split = across[a_idx]
    parts = pieces[split]
    owner = a_idx[split]
    parts, which = shapely.get_parts(parts, return_index=True)
    owner = owner[which]
    polygonal = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > DEGENERATE_AREA)
    parts, owner = parts[polygonal], owner[polygonal]
    cut_idx, group = np.unique(owner, return_inverse=True)
    weight = _share_by_area(atoms.weight[cut_idx], shapely.area(parts), group=group)
    merged = _Atoms(np.r_[geoms[whole], parts], np.r_[atoms.weight[whole], weight],
                    np.r_[atoms.zone[whole], atoms.zone[owner]],
                    np.r_[atoms.indivisible[whole], atoms.indivisible[owner]], atoms.street_zones)
    return _noded(merged, community)


def _owner(atoms, polygons):
    """The polygon holding the most of each atom (after :func:`_cut`, all of it). By
    area, not by a point on the atom: GEOS's ``point_on_surface`` of a small piece
    can fall on its edge, on the line between two grids (a piece of 110 m² went to
    the wrong one). An atom overlapping none (a sliver along the edge) goes to
    the polygon nearest it."""
    tree = shapely.STRtree(polygons)
    # Most atoms' point lies inside one polygon, away from its edge: that one.
    probe = shapely.point_on_surface(atoms)
    p_idx, g_idx = tree.query(probe, predicate="within")
    inside = np.bincount(p_idx, minlength=len(atoms)) == 1
    inside[p_idx] &= shapely.contains_properly(atoms[p_idx], probe[p_idx])
    owner = np.full(len(atoms), -1)
    sure = inside[p_idx]
    owner[p_idx[sure]] = g_idx[sure]
    rest = np.flatnonzero(owner < 0)
    a_idx, p_idx = tree.query(atoms[rest], predicate="intersects")
    a_idx = rest[a_idx]
    area = shapely.area(shapely.intersection(atoms[a_idx], polygons[p_idx]))
    order = np.lexsort((p_idx, -area, a_idx))  # per atom: the largest overlap, ties to the lowest polygon
    a_idx, p_idx, area = a_idx[order], p_idx[order], area[order]
    first = np.r_[True, a_idx[1:] != a_idx[:-1]] if len(a_idx) else np.zeros(0, bool)
    hit = first & (area > 0)
    owner[a_idx[hit]] = p_idx[hit]
    _to_nearest(tree, atoms, owner)
    return owner


@dataclass
class _Done:
    """One community rebalanced: grids kept ``(index, atoms, record)``, new grids
    (records), the indices of the grids that ended, how many were out of the
    band once recounted, and how many light street blocks were joined across a
    barrier for the re-division."""

    kept: list
    new: list
    ended: list
    out_before: int
    crossings: int = 0


def _community(atoms, owner, n, band, redivide):
    """Recount one community's ``n`` grids (``owner``: each atom's) and, with
    ``redivide``, divide again around those out of the band (all of them out: the
    community anew, as :func:`gridkit.households._divide` divides it).

    With street zones (barriers), the re-division sees only edges within a
    region (a street block, or light ones joined as :func:`_regions` joins them):
    a new grid, connected over those, crosses no other barrier. Cuts along a
    barrier or an old grid's edge are the cheap ones."""
    within = np.arange(len(atoms.geometry))
    parts = [np.flatnonzero(owner == j) for j in range(n)]
    weight = np.bincount(owner, atoms.weight, minlength=n).astype("int64")
    out = ~band.contains(weight)
    if not out.any():
        return _Done([(j, p, _plain(w, atoms, p)) for j, (p, w) in enumerate(zip(parts, weight.tolist()))],
                     [], [], 0)
    a, b, length = _adjacency(atoms)
    cheap = (owner[a] != owner[b]) | (atoms.zone[a] != atoms.zone[b])
    graph = _Graph(len(within), a, b, length, cheap, atoms.geometry, atoms.weight)
    whole_graph, crossings = graph, 0
    if atoms.street_zones:
        region, crossings = _regions(atoms, band, a, b, length)
        inside = region[a] == region[b]
        graph = _Graph(len(within), a[inside], b[inside], length[inside], cheap[inside], atoms.geometry,
                       atoms.weight)
    total = int(atoms.weight.sum())
    too_few = ("community", total) if total < band.low else None
    if redivide and too_few:  # every grid out of the band in any division: one a piece, as grid households makes
        n_pieces, piece = graph.components(within)
        now = [within[piece == c] for c in range(n_pieces)]
    elif redivide and out.all():  # no grid to keep: divided anew, as grid households divides a community
        now = [record["atoms"] for record in _divide(atoms, band)[0]]
    elif redivide and all(len(p) for p in parts):
        now = _redivided(graph, parts, band, atoms)
    else:
        now = parts
    n_whole, whole = whole_graph.components(within)
    detached = (np.bincount(whole, weights=atoms.weight)[whole] < band.low) & (n_whole > 1)
    still_out = [p for p in now if len(p) and not band.contains(graph.weight[p].sum())]
    proven = _proven_out(graph, now, within, band) if still_out and not too_few else {}  # as grid households
    before = {p.tobytes(): j for j, p in enumerate(parts)}
    done = _Done([], [], [], int(out.sum()), crossings)
    for p in now:
        j = before.pop(p.tobytes(), None)
        if j is None:
            done.new.append(_grid_record(atoms, p, within, band, bool(detached[p[0]]), proven, too_few))
        elif band.contains(weight[j]):
            done.kept.append((j, p, _plain(int(weight[j]), atoms, p)))
        else:  # flagged as a division would flag it; its outline stays as it was
            record = _grid_record(atoms, p, within, band, bool(len(p) and detached[p[0]]), proven, too_few)
            del record["geometry"]
            if not atoms.street_zones:
                del record["crosses_barrier"]
            done.kept.append((j, p, record))
    done.ended = sorted(before.values())
    if done.new:
        # New grids are unions of atoms, whose edges along a kept grid may lie 1e-8 m
        # off its own (the overlay's computed vertices): the kept grids of the
        # community are traced from the same atoms, so that all of them meet exactly.
        for _, p, record in done.kept:
            record["geometry"] = shapely.coverage_union_all(atoms.geometry[p])
    return done


def _plain(households, atoms, part):
    """The record of a grid kept as it was, in the band; with barriers (street
    zones), whether it crosses one, measured again."""
    record = {"households": households, "flag": "", "flag_detail": ""}
    if atoms.street_zones:
        record["crosses_barrier"] = bool(len(np.unique(atoms.zone[part])) > 1)
    return record


def _redivided(graph, parts, band, atoms):
    """The partitioner's repairs and chains around the grids out of the band
    (those it leaves alone come back as the same arrays), then the grids that
    changed straightened and polished among themselves."""
    def chained(now):
        towers = {j for j, p in enumerate(now) if (atoms.indivisible[p] & (atoms.weight[p] > band.high)).any()}
        return _pass_along(graph, now, band, sinks=towers)

    # The repairs, the last repairs (as :func:`_best_division` ends) and the chains;
    # again while a round of repairs brings grids in: one skips a grid whose
    # neighbourhood another re-divided in its round (every change brings grids in).
    now = chained(_last_repairs(graph, _repair(graph, parts, band, any_count=True), band, any_count=True))
    while not _unchanged(now, again := _repair(graph, now, band, any_count=True)):
        now = chained(_last_repairs(graph, again, band, any_count=True))
    old = {id(p) for p in parts}
    changed = [j for j, p in enumerate(now) if id(p) not in old]
    if changed:
        polished = _refine(graph, _straighten(graph, [now[j] for j in changed], band), band)
        for j, p in zip(changed, polished):
            now[j] = p
    return now


def _sequences(records, first, code):
    """Sequence numbers from ``first`` for a community's new grids, west→east in
    rows, rows north→south."""
    if not records:
        return []
    geoms = np.array([r["geometry"] for r in records], dtype=object)
    if first + len(records) - 1 > MAX_CELLS_PER_COMMUNITY:
        raise LayoutError(_too_many_grids(code, first + len(records) - 1)
                          + " (new grids take the numbers after the highest ever issued there)")
    side = math.sqrt(max(float(np.mean(shapely.area(geoms))), 1.0))
    seq = np.empty(len(records), dtype="int64")
    seq[row_major_order(geoms, side)] = np.arange(first, first + len(records))
    return seq.tolist()


def _grids_now(grids, kept, new, communities, crs, band, day):
    """The grids after rebalancing, by ID: the kept rows as they were (any column
    a user added included) with their new counts and flags, and the new grids."""
    rows = grids.iloc[[j for j, _ in kept]].copy()
    for column in ("households", "flag", "flag_detail", "crosses_barrier"):
        if kept and column in kept[0][1]:  # crosses_barrier: measured again only with barriers
            rows[column] = [record[column] for _, record in kept]
    for column, blank in (("flag", ""), ("flag_detail", ""), ("crosses_barrier", False)):
        if column not in rows.columns:  # grids adopted from another platform's file
            rows[column] = blank
    traced = np.array(["geometry" in record for _, record in kept], dtype=bool)
    if traced.any():
        geoms = rows.geometry.values.copy()
        geoms[traced] = [record["geometry"] for _, record in kept if "geometry" in record]
        rows = rows.set_geometry(gpd.GeoSeries(geoms, index=rows.index, crs=crs))
    frames = [rows]
    if new:
        geoms = np.array([r["geometry"] for r in new], dtype=object)
        codes = [r["grid_id"][:12] for r in new]
        comm = communities.set_index(communities["community_code"].astype(str))
        frames.append(gpd.GeoDataFrame({
            "grid_id": [r["grid_id"] for r in new],
            "sequence": np.array([int(r["grid_id"][12:]) for r in new], dtype="int32"),
            **{c: comm.loc[codes, c].to_numpy() for c in HIERARCHY_COLUMNS},
            "households": np.array([r["households"] for r in new], dtype="int64"),
            "area_m2": np.round(shapely.area(geoms), 2),
            "polsby_popper": np.round(polsby_popper(geoms), 4),
            "flag": [r["flag"] for r in new],
            "flag_detail": [r["flag_detail"] for r in new],
            "crosses_barrier": [r["crosses_barrier"] for r in new],
            "start_date": day,
            "end_date": None,
        }, geometry=gpd.GeoSeries(geoms, crs=crs)))
    now = pd.concat(frames, ignore_index=True).sort_values("grid_id", kind="stable").reset_index(drop=True)
    now = gpd.GeoDataFrame(now, geometry=grids.geometry.name, crs=crs)
    now["households"] = now["households"].astype("int64")
    # Measured for every grid: an adopted grid came without it, and one edited in QGIS changed.
    now["polsby_popper"] = np.round(polsby_popper(now.geometry.values), 4)
    now["in_band"] = band.contains(now["households"].to_numpy())
    return now


def _micro_recount(atoms, part, mine, band, traced):
    """A kept grid's micro-grids (``mine``) as they were, recounted over its atoms
    and flagged (``light`` or ``heavy``) when out of their band; ``traced``:
    outlined from the atoms, as their grid is."""
    mine = mine.copy()
    owner = _owner(atoms.geometry[part], mine.geometry.values)
    households = np.bincount(owner, atoms.weight[part], minlength=len(mine)).astype("int64")
    if traced:
        mine = mine.set_geometry(gpd.GeoSeries(
            [shapely.coverage_union_all(atoms.geometry[part[owner == k]]) for k in range(len(mine))],
            index=mine.index, crs=mine.crs))
    mine["households"] = households
    mine["flag"] = np.where(households < band.low, "light", np.where(households > band.high, "heavy", ""))
    mine["flag_detail"] = [f"{h} households < {band.low:g}" if h < band.low else
                           f"{h} households > {band.high:g}" if h > band.high else "" for h in households.tolist()]
    return mine


def _micro_divided(atoms, part, band, grid_id):
    """A grid's micro-grids divided anew from its atoms (records, ``parent`` its ID)."""
    made = _divide(atoms, band, within=part)[0]
    for m in made:
        m["parent"] = grid_id
    return made


def _micro_now(kept, new, crs, band, highest):
    """The micro-grids after rebalancing: the kept grids' (recounted) and the new
    grids' (divided anew), by ID. A grid's new micro-grids number on after
    ``highest[grid]`` (the highest sequence issued under it, :func:`highest_issued`;
    :func:`rebalance` issues a grid anew before its two digits would run out)."""
    frames = list(kept)
    if new:
        fresh = _micro_frame(new, {r["parent"]: r["parent"] for r in new}, crs, band)
        count = fresh.groupby("grid_id")["sequence"].transform("max")
        after = fresh["grid_id"].map(highest).fillna(0).astype("int32")
        if (after + count > MAX_MICRO).any():  # never numbered from 01 again: an ID is issued once
            raise LayoutError("internal error: micro-grid sequences past 99 under "
                              f"{sorted(set(fresh['grid_id'][after + count > MAX_MICRO]))}; please report it")
        fresh["sequence"] = (fresh["sequence"] + after).astype("int32")
        fresh["micro_id"] = [f"{g}{q:02d}" for g, q in zip(fresh["grid_id"], fresh["sequence"])]
        frames.append(fresh)
    now = pd.concat(frames, ignore_index=True).sort_values("micro_id", kind="stable").reset_index(drop=True)
    now = gpd.GeoDataFrame(now, geometry=frames[0].geometry.name, crs=crs)
    now["in_band"] = band.contains(now["households"].to_numpy())
    return now
