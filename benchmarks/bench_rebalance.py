"""gridkit.rebalance against dividing again from scratch: same layout, same new households.

A planner whose households changed can divide the whole city again (gridkit's own
``balanced_grid``, the fastest divider here, or a peer such as spopt max-p; either
renumbers the city) or rebalance the layout they have. Input: Cincinnati's 457
census blocks (the shipped sample), divided into grids (blocks split, micro-grids
of 20–50 at 100–150 as the demo makes them, none at 300–500); then one block of 60
households grows by 400 (a new estate), or by 2,000; or, the city split into two
communities at the middle of its extent, their boundary moves 300 m east in the
units layer, or East's eastern half is made a community of its own (Split Features
and a new code), the households as they were. Cases:

``estate 100-150``        band 100–150, micro-grids 20–50
``estate 300-500``        band 300–500
``large estate 100-150``  band 100–150, micro-grids 20–50, the block grown by 2,000
``moved 100-150``         band 100–150, micro-grids 20–50, two communities, the
                          boundary moved (the rebalance follows it first)
``split 100-150``         band 100–150, micro-grids 20–50, two communities, the
                          eastern half of East (602) made a third (603)

Peers, each in a fresh subprocess (time and peak memory its own; the layout and the
households read before the clock starts):

* ``rebalance``: :func:`gridkit.rebalance.rebalance` of the layout;
* ``redivide``: :func:`gridkit.households.balanced_grid` on the new households (and
  communities), from scratch;
* ``spopt_maxp``: PySAL spopt ``MaxPHeuristic`` from scratch (the lower bound as
  threshold), on the new blocks kept whole, as ``bench_households.py`` runs it.

Reported: time, peak memory, grids, in-band %, mean Polsby–Popper, and how many
of the layout's grids survive: ``kept_ids`` (same ID, same outline to a billionth
of its area) and ``kept_outlines`` (same outline, any ID). A time is the fastest of
up to 3 runs (spopt runs once).

    python benchmarks/bench_rebalance.py
    python benchmarks/bench_rebalance.py --only "estate 300-500"
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _children import best_of, case_args, print_child_row, run_cases

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "data" / "samples"
CASES = {"estate 100-150": (100, 150, (20, 50), 400, 0), "estate 300-500": (300, 500, None, 400, 0),
         "large estate 100-150": (100, 150, (20, 50), 2000, 0),
         "moved 100-150": (100, 150, (20, 50), 0, 300),
         "split 100-150": (100, 150, (20, 50), 0, "split")}  # band, micro band, households added, metres moved
PEERS = ("rebalance", "redivide", "spopt_maxp")
GROWN = 207
CACHE = Path(tempfile.gettempdir()) / "gridkit_bench_rebalance"


def _inputs(by, moved):
    """(communities as divided, communities now, blocks, blocks now): the city as one
    community, or, with ``moved`` metres, as two whose boundary moved east by it
    (``"split"``: the eastern half of the eastern one made a third)."""
    import geopandas as gpd
    import shapely

    import gridkit as gk

    city = gk.read_vector(SAMPLES / "cincinnati_city.gpkg")
    blocks = gk.read_vector(SAMPLES / "cincinnati_blocks.gpkg", layer="blocks")
    grown = blocks.copy()
    grown.loc[grown.index[GROWN], "HOUSEHOLDS"] += by
    if not moved:
        comm = gk.unit_hierarchy(city, provisional=True, parent_code="990201")
        return comm, comm, blocks, grown
    whole = city.to_crs(32616).geometry.union_all()
    x0, y0, x1, y1 = whole.bounds
    mid = (x0 + x1) / 2
    halves = [whole & shapely.box(x0, y0, mid, y1), whole & shapely.box(mid, y0, x1, y1)]
    comm = gk.unit_hierarchy(gpd.GeoDataFrame({"code": ["990201900601", "990201900602"]}, geometry=halves,
                                              crs=32616), code_field="code", provisional=True)
    if moved == "split":
        east = halves[1] & shapely.box((mid + x1) / 2, y0, x1, y1)
        split = gk.unit_hierarchy(gpd.GeoDataFrame({"code": ["990201900601", "990201900602", "990201900603"]},
                                                   geometry=[halves[0], halves[1] - east, east], crs=32616),
                                  code_field="code", provisional=True)
        return comm, split, blocks, grown
    strip = whole & shapely.box(mid, y0, mid + moved, y1)
    return comm, comm.assign(geometry=[halves[0] | strip, halves[1] - strip]), blocks, grown


def _path(case):
    return CACHE / (case.replace(" ", "_") + ".gpkg")


def prepare(case):
    """The layout before the estate, divided once and kept as a package, with the
    households its atoms were sized for (``atoms_sized_for``, as `grid households`
    records them)."""
    import gridkit as gk
    from gridkit.households import balanced_grid
    from gridkit.package import read_metadata

    if _path(case).exists() and "atoms_sized_for" in read_metadata(_path(case)):
        return
    CACHE.mkdir(exist_ok=True)
    low, high, micro, by, moved = CASES[case]
    comm, _, blocks, _ = _inputs(by, moved)
    made = balanced_grid(comm, blocks, min_households=low, max_households=high, count_field="HOUSEHOLDS",
                         split_polygons=True, micro=micro, start_date="2026-01-01")
    gk.write_package(_path(case), made.grids, comm, extra_layers={"micro_grids": made.micro},
                     extra_metadata={"atoms_sized_for": made.sized_for}, overwrite=True)


def _survivors(old, new):
    """(kept_ids, kept_outlines): the old grids found in ``new`` with their ID and
    outline, and with their outline under any ID."""
    import numpy as np
    import shapely

    tree = shapely.STRtree(new.geometry.values)
    ids, outlines = 0, 0
    for gid, geom in zip(old["grid_id"], old.geometry.values):
        near = tree.query(geom, predicate="intersects")
        diff = shapely.area(shapely.symmetric_difference(new.geometry.values[near], geom))
        same = near[diff < 1e-9 * geom.area]
        outlines += bool(len(same))
        ids += bool(np.isin(new["grid_id"].to_numpy()[same], [gid]).any())
    return ids, outlines


def child(case, peer):
    import json

    import geopandas as gpd
    import numpy as np

    from gridkit.package import read_metadata

    low, high, micro, by, moved = CASES[case]
    _, comm, _, grown = _inputs(by, moved)  # the communities now
    cells = gpd.read_file(_path(case), layer="cells")
    micro_grids = gpd.read_file(_path(case), layer="micro_grids") if micro else None
    if peer == "rebalance":
        from gridkit.rebalance import rebalance

        sized_for = json.loads(read_metadata(_path(case))["atoms_sized_for"])

        def run():
            return rebalance(cells, comm, grown, min_households=low, max_households=high,
                             count_field="HOUSEHOLDS", split_polygons=True, micro_grids=micro_grids,
                             micro=micro, sized_for=sized_for).layout.grids
        seconds, grids = best_of(3, run, within=10)
    elif peer == "redivide":
        from gridkit.households import balanced_grid

        def run():
            return balanced_grid(comm, grown, min_households=low, max_households=high, count_field="HOUSEHOLDS",
                                 split_polygons=True, micro=micro).grids
        seconds, grids = best_of(3, run, within=10)
    else:
        sys.path.insert(0, str(HERE))
        from bench_households import run_spopt

        blocks = grown.to_crs(cells.crs).reset_index(drop=True)[["HOUSEHOLDS", "geometry"]]
        seconds, (geoms, households) = best_of(1, lambda: run_spopt(blocks, low, high))
        grids = gpd.GeoDataFrame({"grid_id": [f"spopt{k}" for k in range(len(geoms))], "households": households},
                                 geometry=list(geoms), crs=cells.crs)
    hh = grids["households"].to_numpy()
    pp = 4 * np.pi * grids.area / grids.length**2
    kept_ids, kept_outlines = _survivors(cells, grids)
    print_child_row(case, peer, round(seconds, 3), grids=len(grids),
                    in_band_pct=round(100 * float(((hh >= low) & (hh <= high)).mean()), 1),
                    polsby_popper=round(float(pp.mean()), 4), kept_ids=kept_ids, kept_outlines=kept_outlines,
                    of=len(cells))


def main():
    args = case_args(__doc__, CASES)
    if args.child:
        child(*args.child)
        return
    rows = run_cases(__file__, CASES, PEERS, only=args.only, prepare=prepare)
    print(f"{'case':20s} {'peer':11s} {'seconds':>8s} {'× rebalance':>11s} {'peak MB':>8s} {'grids':>6s} "
          f"{'in band %':>9s} {'PP':>7s} {'kept IDs':>9s} {'kept outlines':>14s}")
    base = {r["case"]: r["seconds"] for r in rows if r.get("peer") == "rebalance" and "seconds" in r}
    for r in rows:
        if "error" in r:
            print(f"{r['case']:20s} {r['peer']:11s} {r['error']}")
            continue
        ratio = r["seconds"] / base[r["case"]] if r["case"] in base else float("nan")
        print(f"{r['case']:20s} {r['peer']:11s} {r['seconds']:8.2f} {ratio:11.1f} {r['peak_mb']:8.0f} "
              f"{r['grids']:6d} {r['in_band_pct']:9.1f} {r['polsby_popper']:7.3f} "
              f"{r['kept_ids']:>5d}/{r['of']:<3d} {r['kept_outlines']:>10d}/{r['of']:<3d}")


if __name__ == "__main__":
    main()
