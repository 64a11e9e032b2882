"""Rebalancing a household layout as households change: gridkit.rebalance and
`gridkit grid rebalance`, on the shipped Cincinnati layout (134 grids of 100–150
households, micro-grids of 20–50, as the demo makes it)."""

import json
import re
import sqlite3
from contextlib import closing
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit.errors import InputError, LayoutError
from gridkit.households import balanced_grid
from gridkit.invariants import check_micro_grids, check_partition
from gridkit.package import added_by_hand
from gridkit.rebalance import communities_of, highest_issued, rebalance
from gridkit_cli.main import cli

from .conftest import community_frame

GROWN = 207  # a block of 60 households, grown by 400 (a new estate)
DAY = "2027-03-01"
X0, Y0 = 500_000.0, 4_400_000.0


@pytest.fixture(scope="module")
def layout(samples):
    comm = gk.unit_hierarchy(gk.read_vector(samples / "cincinnati_city.gpkg"), provisional=True, parent_code="990201")
    blocks = gk.read_vector(samples / "cincinnati_blocks.gpkg", layer="blocks")
    made = balanced_grid(comm, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                         split_polygons=True, micro=(20, 50), start_date="2026-01-01")
    return made, comm, blocks


def _grown(blocks, by=400):
    grown = blocks.copy()
    assert grown["HOUSEHOLDS"].iat[GROWN] == 60
    grown.loc[grown.index[GROWN], "HOUSEHOLDS"] += by
    return grown


def _rebalance(layout, households, **kw):
    made, comm, _ = layout
    return rebalance(made.grids, comm, households, min_households=100, max_households=150,
                     count_field="HOUSEHOLDS", split_polygons=True, micro_grids=made.micro, micro=(20, 50),
                     start_date=DAY, sized_for=made.sized_for, **kw)


def _same_outline(a, b):
    """The same polygon to a billionth of its area: a kept grid in a community where
    others changed is traced again from the atoms, whose vertices on its edge the
    overlay computed (a grid of 37 ha moves by 5e-5 m²)."""
    return shapely.area(shapely.symmetric_difference(a, b)) < 1e-9 * shapely.area(b)


def test_same_households_change_nothing(layout):
    made, comm, blocks = layout
    done = _rebalance(layout, blocks)
    s = done.layout.summary
    assert (s["out_before"], s["ended_ids"], s["new_ids"], len(done.ended)) == (0, [], [], 0)
    grids = done.layout.grids
    assert grids["grid_id"].tolist() == sorted(made.grids["grid_id"])
    before = made.grids.set_index("grid_id").loc[grids["grid_id"]]
    assert (grids["households"].to_numpy() == before["households"].to_numpy()).all()
    assert shapely.equals(grids.geometry.values, before.geometry.values).all()  # untouched, vertex for vertex
    assert (grids["start_date"] == "2026-01-01").all()
    assert (done.layout.micro["households"].to_numpy()
            == made.micro.set_index("micro_id").loc[done.layout.micro["micro_id"], "households"].to_numpy()).all()


def test_a_new_estate_ends_the_grids_around_it_and_numbers_new_ones(layout):
    made, comm, blocks = layout
    done = _rebalance(layout, _grown(blocks))
    grids, s = done.layout.grids, done.layout.summary
    assert s["out_before"] == 1  # the grown block's grid
    assert len(done.ended) == 5
    assert s["new_ids"] == [f"990201900600{k}" for k in range(135, 143)]  # after the highest, 134
    assert len(grids) == 134 - 5 + 8 and grids["in_band"].all()
    assert grids["households"].sum() == 16_766 + 400
    # Kept grids: their IDs, start dates and outlines; new ones start today.
    kept = grids[~grids["grid_id"].isin(s["new_ids"])]
    old = made.grids.set_index("grid_id")
    assert set(kept["grid_id"]) == set(old.index) - set(done.ended["grid_id"])
    assert (kept["start_date"] == "2026-01-01").all()
    assert all(_same_outline(g, old.geometry[i]) for i, g in zip(kept["grid_id"], kept.geometry.values))
    assert (grids.loc[grids["grid_id"].isin(s["new_ids"]), "start_date"] == DAY).all()
    # … and their households, and their micro-grids': the blocks that did not grow are
    # cut as they were (the lattice sized for the households the layout was divided
    # for, ``sized_for``), so they share their households among the grids as they did.
    # Sized for today's households instead, 57 of 127 kept grids' counts moved (by up
    # to 7 households), 2 grids were out, 7 ended, and 9 micro-grids left their band.
    assert (kept["households"].to_numpy() == old.loc[kept["grid_id"], "households"].to_numpy()).all()
    micro = done.layout.micro.set_index("micro_id")
    kept_micro = micro[micro["grid_id"].isin(kept["grid_id"])]
    assert len(kept_micro) == 459 and kept_micro["in_band"].all()
    assert (kept_micro["households"] == made.micro.set_index("micro_id").loc[kept_micro.index, "households"]).all()
    # Ended grids, as they were: the new ones cover exactly what they covered.
    assert (done.ended["end_date"] == DAY).all()
    assert set(", ".join(done.ended["replaced_by"]).split(", ")) == set(s["new_ids"])
    new = grids[grids["grid_id"].isin(s["new_ids"])]
    assert _same_outline(shapely.union_all(done.ended.geometry.values), shapely.union_all(new.geometry.values))
    gk.assert_partition(grids, comm)
    gk.assert_partition(done.layout.micro, grids, unit_key="grid_id", id_field="micro_id")
    assert done.layout.micro["households"].sum() == 16_766 + 400
    assert set(done.ended_micro["grid_id"]) == set(done.ended["grid_id"])


def test_a_large_estate_gets_as_many_more_grids_as_it_needs(layout):
    """2,000 households more in one block of 60 need about 16 more grids: the
    neighbourhood around the grid is divided into as many as the band gives its
    households. Trying only one grid more or fewer left the grown grid as it was,
    2,105 households, flagged heavy."""
    made, comm, blocks = layout
    done = _rebalance(layout, _grown(blocks, by=2000))
    grids, s = done.layout.grids, done.layout.summary
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"])) == (1, 6, 22)
    assert len(grids) == 134 - 6 + 22 and grids["in_band"].all()
    assert grids["households"].sum() == 16_766 + 2000
    gk.assert_partition(grids, comm)
    gk.assert_partition(done.layout.micro, grids, unit_key="grid_id", id_field="micro_id")


def test_many_grids_out_at_once_all_come_in(layout):
    """Three blocks grow at once (two empty ones to 200 households each, one of 238
    to 557): 7 grids are out of the band once recounted. A round of repairs skips
    a grid next to a neighbourhood it re-divided, and the exhaustive searches after
    it reach 60 atoms, too few for split blocks' neighbourhoods, so rounds of
    repairs run again while they bring grids in. Found by fuzzing chained
    rebalances: this left 2 grids heavy, where a division from scratch has every
    grid in the band."""
    made, comm, blocks = layout
    now = blocks.copy()
    for i, households in ((77, 200), (24, 200), (48, 557)):
        now.loc[now.index[i], "HOUSEHOLDS"] = households
    done = _rebalance(layout, now)
    grids, s = done.layout.grids, done.layout.summary
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"])) == (7, 25, 28)
    assert grids["in_band"].all() and grids["households"].sum() == 16_766 + 719
    gk.assert_partition(grids, comm)
    gk.assert_partition(done.layout.micro, grids, unit_key="grid_id", id_field="micro_id")


def test_kept_grids_keep_their_outlines_at_300_to_500(layout):
    """Grids of 300–500 without micro-grids: the atoms differ from the layout's (the
    lattice of cut blocks is sized by the households, which grew), so many are cut
    where they cross a grid. A piece of 110 m² whose point_on_surface fell on the
    edge between grids 039 and 041 once went to the wrong one."""
    _, comm, blocks = layout
    made = balanced_grid(comm, blocks, min_households=300, max_households=500, count_field="HOUSEHOLDS",
                         split_polygons=True)
    done = rebalance(made.grids, comm, _grown(blocks), min_households=300, max_households=500,
                     count_field="HOUSEHOLDS", split_polygons=True)
    grids, s = done.layout.grids, done.layout.summary
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"])) == (1, 5, 5) and grids["in_band"].all()
    old = made.grids.set_index("grid_id")
    kept = grids[~grids["grid_id"].isin(s["new_ids"])]
    assert all(_same_outline(g, old.geometry[i]) for i, g in zip(kept["grid_id"], kept.geometry.values))
    gk.assert_partition(grids, comm)


def test_recount_only_flags_and_changes_nothing(layout):
    made, comm, blocks = layout
    done = _rebalance(layout, _grown(blocks), redivide=False)
    grids = done.layout.grids
    assert done.layout.summary["new_ids"] == [] and len(done.ended) == 0
    out = grids[~grids["in_band"]]
    assert len(out) == 1 and out["flag"].tolist() == ["heavy"]  # the grown block's grid alone
    assert out["households"].max() > 400 and out["flag_detail"].str.contains("households").all()
    assert shapely.equals(grids.geometry.values, made.grids.set_index("grid_id").loc[grids["grid_id"]].geometry.values).all()


def test_a_grid_merged_by_hand_is_divided_again(layout):
    """Two neighbouring grids merged in QGIS (one polygon, the first's ID) hold ~250
    households: that grid is divided again, and the rest keep their IDs."""
    made, comm, blocks = layout
    grids = made.grids.copy()
    a = 0
    b = int(np.flatnonzero(grids.geometry.touches(grids.geometry.iat[a]).to_numpy())[0])
    grids.loc[grids.index[a], "geometry"] = shapely.union_all([grids.geometry.iat[a], grids.geometry.iat[b]])
    merged_id, gone_id = grids["grid_id"].iat[a], grids["grid_id"].iat[b]
    grids = grids.drop(index=grids.index[b])
    # The micro-grids layer left as it was: the gone grid's micro-grids lie in no grid.
    done = rebalance(grids, comm, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                     split_polygons=True, micro_grids=made.micro, micro=(20, 50))
    s = done.layout.summary
    assert s["out_before"] == 1 and merged_id in s["ended_ids"]
    assert {merged_id, gone_id} <= set(done.ended_micro["grid_id"])
    assert len(s["new_ids"]) == len(s["ended_ids"]) + 1  # the two grids' households make two grids again
    assert done.layout.grids["in_band"].all() and done.layout.grids["households"].sum() == 16_766
    gk.assert_partition(done.layout.grids, comm)
    gk.assert_partition(done.layout.micro, done.layout.grids, unit_key="grid_id", id_field="micro_id")


def _merged_by_hand(made, gone):
    """The package as a planner leaves it after merging grid ``gone`` into the first
    grid it touches and deleting its micro-grids (QGIS keeps the package's metadata)."""
    grids, micro = made.grids.copy(), made.micro
    b = int(np.flatnonzero(grids["grid_id"] == gone)[0])
    a = int(np.flatnonzero(grids.geometry.touches(grids.geometry.iat[b]).to_numpy())[0])
    grids.loc[grids.index[a], "geometry"] = shapely.union_all([grids.geometry.iat[a], grids.geometry.iat[b]])
    return grids.drop(index=grids.index[b]), micro[micro["grid_id"] != gone]


def test_an_id_deleted_by_hand_is_not_issued_again(layout):
    """Grid 134, the highest, merged by hand into grid 127 with its micro-grids
    deleted: no layer holds its ID any more. With the package's record of the IDs
    issued (``highest_issued``, which ``grid households`` writes), the new grids
    start at 135; without it, at 134 again."""
    made, comm, blocks = layout
    grids, micro = _merged_by_hand(made, "990201900600134")
    issued = highest_issued(made.grids["grid_id"], made.micro["micro_id"])
    assert issued["990201900600"] == 134 and issued["990201900600134"] == len(
        made.micro[made.micro["grid_id"] == "990201900600134"])
    kw = dict(min_households=100, max_households=150, count_field="HOUSEHOLDS", split_polygons=True,
              micro_grids=micro, micro=(20, 50))
    blind = rebalance(grids, comm, blocks, **kw).layout.summary
    done = rebalance(grids, comm, blocks, issued=issued, **kw)
    s = done.layout.summary
    assert s["ended_ids"] == blind["ended_ids"] == [f"990201900600{k}" for k in (117, 126, 127, 128)]
    assert blind["new_ids"] == [f"990201900600{k}" for k in range(134, 139)]
    assert s["new_ids"] == [f"990201900600{k}" for k in range(135, 140)]
    assert done.issued["990201900600"] == 139 and done.issued["990201900600135"] == 3
    assert done.layout.grids["in_band"].all()
    # A grid's micro-grids deleted by hand: the new ones number on after the deleted ones.
    gid = made.grids["grid_id"].iat[5]
    mine = made.micro.loc[made.micro["grid_id"] == gid, "sequence"]
    again = rebalance(made.grids, comm, blocks, issued=issued, **{**kw, "micro_grids": made.micro[
        made.micro["grid_id"] != gid]})
    new = again.layout.micro.loc[again.layout.micro["grid_id"] == gid, "sequence"]
    assert new.tolist() == list(range(mine.max() + 1, mine.max() + 1 + len(new)))


def test_a_grid_without_its_micro_grids_gets_new_ones(layout):
    made, comm, blocks = layout
    gid = made.grids["grid_id"].iat[5]
    micro = made.micro[made.micro["grid_id"] != gid]  # deleted by hand
    done = rebalance(made.grids, comm, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                     split_polygons=True, micro_grids=micro, micro=(20, 50))
    s = done.layout.summary
    assert (s["ended_ids"], s["new_ids"], s["micro_redrawn"]) == ([], [], [gid])
    mine = done.layout.micro[done.layout.micro["grid_id"] == gid]
    assert len(mine) >= 3 and mine["micro_id"].tolist() == [f"{gid}{k:02d}" for k in range(1, len(mine) + 1)]
    assert mine["households"].sum() == made.grids["households"].iat[5]
    gk.assert_partition(done.layout.micro, done.layout.grids, unit_key="grid_id", id_field="micro_id")


def test_a_grid_whose_micro_ids_run_out_is_issued_anew(layout):
    """Grid 006's micro-grids deleted by hand, and the record says 97 of its 99
    micro-grid sequences were issued: its new micro-grids would run past 99 (they
    used to number from 01 again, issuing IDs twice). The grid ends and comes back
    as it is under the next free grid ID, its micro-grids numbered from 01 there."""
    made, comm, blocks = layout
    gid = made.grids["grid_id"].iat[5]
    issued = {**highest_issued(made.grids["grid_id"], made.micro["micro_id"]), gid: 97}
    kw = dict(min_households=100, max_households=150, count_field="HOUSEHOLDS", split_polygons=True,
              micro=(20, 50), micro_grids=made.micro[made.micro["grid_id"] != gid])
    done = rebalance(made.grids, comm, blocks, issued=issued, **kw)
    s, grids, micro = done.layout.summary, done.layout.grids, done.layout.micro
    anew = "990201900600135"
    assert (s["ended_ids"], s["new_ids"], s["micro_redrawn"]) == ([gid], [anew], [gid])
    assert done.ended["replaced_by"].tolist() == [anew]
    was, now = made.grids.set_index("grid_id").loc[gid], grids.set_index("grid_id").loc[anew]
    assert now["households"] == was["households"] and _same_outline(now.geometry, was.geometry)
    mine = micro[micro["grid_id"] == anew]
    assert len(mine) >= 3 and mine["micro_id"].tolist() == [f"{anew}{k:02d}" for k in range(1, len(mine) + 1)]
    assert gid not in set(micro["grid_id"]) and done.issued[anew] == len(mine) and done.issued[gid] == 97
    gk.assert_partition(micro, grids, unit_key="grid_id", id_field="micro_id")
    # With just room for them (99 less their count issued), the grid keeps its ID and numbers on to 99.
    again = rebalance(made.grids, comm, blocks, issued={**issued, gid: 99 - len(mine)}, **kw)
    assert again.layout.summary["ended_ids"] == []
    assert again.layout.micro.loc[again.layout.micro["grid_id"] == gid, "sequence"].tolist() == list(
        range(100 - len(mine), 100))


def test_micro_grids_divided_anew_take_new_ids(layout):
    """Micro-grid 04 of grid 002 given to grid 005 by hand (both stay in the band):
    both grids' micro-grids are divided anew, numbered on after each grid's
    highest, so no ID of an ended micro-grid comes back."""
    made, comm, blocks = layout
    a, b, mid = "990201900600002", "990201900600005", "99020190060000204"
    piece = made.micro.set_index("micro_id").geometry[mid]
    grids = made.grids.copy().set_index("grid_id")
    grids.loc[a, "geometry"] = shapely.difference(grids.geometry[a], piece)
    grids.loc[b, "geometry"] = shapely.union(grids.geometry[b], piece)
    grids = grids.reset_index()
    done = rebalance(grids, comm, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                     split_polygons=True, micro_grids=made.micro, micro=(20, 50))
    s, micro = done.layout.summary, done.layout.micro
    assert (s["ended_ids"], s["new_ids"], s["micro_redrawn"]) == ([], [], [a, b])
    for gid in (a, b):
        old = made.micro.loc[made.micro["grid_id"] == gid, "sequence"]
        new = micro.loc[micro["grid_id"] == gid, "sequence"]
        assert new.tolist() == list(range(old.max() + 1, old.max() + 1 + len(new)))
    assert set(done.ended_micro["micro_id"]) == set(made.micro.loc[made.micro["grid_id"].isin([a, b]), "micro_id"])
    assert not set(done.ended_micro["micro_id"]) & set(micro["micro_id"])
    gk.assert_partition(micro, done.layout.grids, unit_key="grid_id", id_field="micro_id")


def test_bad_layouts_are_refused(layout):
    made, comm, blocks = layout
    twice = made.grids.copy()
    twice.loc[twice.index[1], "grid_id"] = twice["grid_id"].iat[0]
    with pytest.raises(InputError, match="repeat IDs.*990201900600001"):
        rebalance(twice, comm, blocks, min_households=100, max_households=150)
    blank = made.grids.copy()
    blank.loc[blank.index[1], "grid_id"] = None  # was a TypeError (len of NaN)
    with pytest.raises(InputError, match=r"^grids without a grid_id: 1 \(drawn by hand, say\); give each a free ID"):
        rebalance(blank, comm, blocks, min_households=100, max_households=150)
    wrong = made.grids.copy()
    wrong.loc[wrong.index[0], "grid_id"] = "990201900600000"
    with pytest.raises(InputError, match="990201900600000 are not their community's code"):
        rebalance(wrong, comm, blocks, min_households=100, max_households=150)
    with pytest.raises(LayoutError, match="do not tile their communities.*gridkit check --problems"):
        rebalance(made.grids.iloc[1:], comm, blocks, min_households=100, max_households=150)
    away = blocks.copy()
    away["geometry"] = away.geometry.translate(50_000, 0)
    with pytest.raises(InputError, match="none of the 457 household features lies inside a grid"):
        rebalance(made.grids, comm, away, min_households=100, max_households=150, count_field="HOUSEHOLDS")


def test_a_grid_or_micro_grid_without_geometry_is_refused_by_row(layout):
    """A grid whose polygon was deleted in QGIS ended in an AttributeError ("'NoneType'
    object has no attribute 'area'") while its micro-grids were matched to it; a
    micro-grid's, in the same place. Each is named by row and ID, as locate names it."""
    made, comm, blocks = layout
    grids, micro = made.grids.copy(), made.micro.copy()
    grids.loc[grids.index[1], "geometry"] = None
    kw = dict(min_households=100, max_households=150, count_field="HOUSEHOLDS", micro=(20, 50))
    with pytest.raises(InputError, match=rf"^1 of the grids has no geometry: row 2 \(grid {grids['grid_id'].iat[1]}"
                                         r"\); draw it again or delete it"):
        rebalance(grids, comm, blocks, micro_grids=made.micro, **kw)
    micro.loc[micro.index[2], "geometry"] = None
    with pytest.raises(InputError, match=rf"^1 of the micro-grids has no geometry: row 3 \(micro-grid "
                                         rf"{micro['micro_id'].iat[2]}\)"):
        rebalance(made.grids, comm, blocks, micro_grids=micro, **kw)


def test_households_outside_every_grid_are_rejected_not_dropped(layout):
    made, comm, blocks = layout
    points = gpd.GeoDataFrame({"HOUSEHOLDS": [3, 4]}, geometry=[blocks.geometry.iat[0].representative_point(),
                                                                  shapely.Point(700_000, 4_300_000)], crs=blocks.crs)
    done = rebalance(made.grids, comm, points, min_households=1, max_households=1000, count_field="HOUSEHOLDS",
                     kind="points", redivide=False)
    assert done.layout.summary["outside"] == 1
    assert done.layout.rejects["reason"].tolist() == ["outside every grid"]
    assert done.layout.rejects["households"].tolist() == [4] and done.layout.grids["households"].sum() == 3


def test_cli_rebalance_writes_a_package_with_the_ended_grids(layout, tmp_path):
    made, comm, blocks = layout
    package = tmp_path / "layout.gpkg"
    gk.write_package(package, made.grids, comm, parameters={
        "band": [100, 150], "micro": [20, 50], "split_polygons": True, "count_field": "HOUSEHOLDS", "kind": "blocks"},
        extra_layers={"micro_grids": made.micro})
    households = tmp_path / "blocks_2027.gpkg"
    _grown(blocks).to_file(households, layer="blocks")
    out = tmp_path / "now.gpkg"
    args = ["grid", "rebalance", str(package), "--households", str(households), "-o", str(out),
            "--preview", str(tmp_path / "now.png")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    # A package written without atoms_sized_for (as before gridkit recorded it) is
    # sized for today's households, as before, and says so.
    assert "does not record the households its blocks' pieces were sized for" in result.output
    assert "recounted    134 grids: 2 out of the band 100–150" in result.output
    assert "changed      7 ended, 10 new (990201900600135 … 990201900600144); 127 kept with their IDs" in result.output
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"cells", "units", "micro_grids", "ended_grids", "ended_micro_grids"} <= layers
    assert len(gpd.read_file(out, layer="ended_grids")) == 7
    # In QGIS the ended grids are grey dashed outlines, not opaque fills over the new ones
    styles = pyogrio.read_dataframe(out, layer="layer_styles", read_geometry=False).set_index("f_table_name")
    assert sorted(styles.index) == ["cells", "ended_grids", "ended_micro_grids", "micro_grids", "units"]
    assert re.search(r'<Option (?=[^>]*name="outline_style")[^>]*value="dash"', styles.loc["ended_grids", "styleQML"])
    reports = gk.check_package(out)
    assert all(report.ok for report in reports.values())
    cells, units, _ = gk.read_package(out)
    again_comm = communities_of(cells, units)
    assert again_comm[["community_code", "street_code", "provisional"]].values.tolist() == \
        comm[["community_code", "street_code", "provisional"]].values.tolist()
    meta = json.loads(dict(zip(*pyogrio.read_dataframe(out, layer="gridkit_metadata")[["key", "value"]].T.values))
                      ["parameters"])
    assert meta["rebalanced_from"] == str(package) and meta["band"] == [100, 150]
    assert (tmp_path / "now.png").stat().st_size > 10_000
    # An existing output is not replaced without --overwrite, and is left as it was.
    before = out.read_bytes()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "exists" in again.output and out.read_bytes() == before
    # The package given as its own households: its grids are no households, and the
    # error says so (it said the count column was missing); a layer of them added to it is read.
    again = ["grid", "rebalance", str(out), "--households", str(out), "-o", str(tmp_path / "x.gpkg")]
    itself = CliRunner().invoke(cli, again)
    assert itself.exit_code == 2 and (f"--households {out} is PACKAGE itself, whose layers are grids, not "
                                      f"households: give the households file it was made from ({households})"
                                      ) in " ".join(itself.output.split()), itself.output
    _grown(blocks).to_file(out, layer="blocks_2028")
    inside = CliRunner().invoke(cli, [*again, "--households-layer", "blocks_2028"])
    assert inside.exit_code == 0 and ("households   17,166 in grids (before: 17,166)" in inside.output
                                      and "kept         blocks_2028 (added by hand)" in inside.output), inside.output


def _square_with_roads(tmp_path=None):
    """A community of 1 km² with a road across it each way (x = 500 m, y = 400 m),
    1,200 households at random (seeded), and the same with an estate of 250 more
    in the north-west block."""
    crs = 32650
    box = shapely.box(500_000, 4_400_000, 501_000, 4_401_000)
    comm = gk.unit_hierarchy(gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=[box], crs=crs),
                             code_field="code")
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(500_500, 4_399_000), (500_500, 4_402_000)]),
                                       shapely.LineString([(499_000, 4_400_400), (502_000, 4_400_400)])], crs=crs)
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 1000, (1200, 2)) + [500_000, 4_400_000]
    grown = np.r_[xy, rng.uniform(0, 200, (250, 2)) + [500_100, 4_400_600]]
    homes = [gpd.GeoDataFrame(geometry=shapely.points(p), crs=crs) for p in (xy, grown)]
    blocks = [shapely.box(500_000, 4_400_000, 500_500, 4_400_400), shapely.box(500_500, 4_400_000, 501_000, 4_400_400),
              shapely.box(500_000, 4_400_400, 500_500, 4_401_000), shapely.box(500_500, 4_400_400, 501_000, 4_401_000)]
    return comm, roads, homes, blocks


def _blocks_met(geoms, blocks):
    """How many of the street ``blocks`` each polygon overlaps (by more than 1 m²)."""
    return [sum(shapely.area(shapely.intersection(b, g)) > 1 for b in blocks) for g in geoms]


def test_with_barriers_new_grids_keep_to_their_street_block():
    """The layout was divided along two roads; an estate of 250 households in the
    north-west block puts 3 of its grids above the band. With the roads, all
    three are divided again within that block (into 5); without them, the
    neighbourhood spreads across the road and one new grid straddles it."""
    comm, roads, (homes, grown), blocks = _square_with_roads()
    made = balanced_grid(comm, homes, min_households=100, max_households=150, barriers=roads)
    assert len(made.grids) == 10 and made.grids["in_band"].all() and made.summary["grids_crossing_barriers"] == 0
    done = rebalance(made.grids, comm, grown, min_households=100, max_households=150, barriers=roads, start_date=DAY)
    grids, s = done.layout.grids, done.layout.summary
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"])) == (3, 3, 5)
    assert grids["in_band"].all() and grids["households"].sum() == 1450
    new = grids[grids["grid_id"].isin(s["new_ids"])]
    assert _blocks_met(new.geometry.values, blocks) == [1] * 5 and not new["crosses_barrier"].any()
    assert _same_outline(shapely.union_all(new.geometry.values),
                         shapely.union_all(done.ended.geometry.values))  # all within the north-west block
    assert s["grids_crossing_barriers"] == 0
    gk.assert_partition(grids, comm)
    free = rebalance(made.grids, comm, grown, min_households=100, max_households=150, start_date=DAY)
    s = free.layout.summary
    assert (len(s["ended_ids"]), len(s["new_ids"])) == (4, 5)
    new = free.layout.grids[free.layout.grids["grid_id"].isin(s["new_ids"])]
    assert sorted(_blocks_met(new.geometry.values, blocks)) == [1, 1, 1, 1, 2]


def test_grids_astride_a_road_whose_light_strip_grew_are_divided_again():
    """A road cuts a 1 km² community 800 m from its west edge. The east strip held
    60 households, too few for a grid, so it was joined across the road: 4 of the
    24 grids cross it. An estate of 400 in the strip makes it a street block of its
    own, and the 5 grids now out of the band lie astride a barrier their grids may
    not cross: the repairs divide them piece by piece (a bisection of the
    neighbourhood as one left grids in two pieces), round after round (a repair
    skips grids whose neighbourhood another re-divided). Before, 2 grids stayed
    above the band, flagged heavy (4 without the division piece by piece)."""
    crs = 32650
    box = shapely.box(500_000, 4_400_000, 501_000, 4_401_000)
    comm = gk.unit_hierarchy(gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=[box], crs=crs),
                             code_field="code")
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(500_800, 4_399_000), (500_800, 4_402_000)])], crs=crs)
    rng = np.random.default_rng(3)
    west = rng.uniform(0, 1, (3000, 2)) * [800, 1000] + [500_000, 4_400_000]
    east = rng.uniform(0, 1, (460, 2)) * [200, 1000] + [500_800, 4_400_000]  # 60 at first, then 400 more
    homes, grown = (gpd.GeoDataFrame(geometry=shapely.points(np.r_[west, east[:n]]), crs=crs) for n in (60, 460))
    kw = dict(min_households=100, max_households=150, barriers=roads)
    made = balanced_grid(comm, homes, **kw)
    assert (len(made.grids), made.summary["grids_crossing_barriers"]) == (24, 4) and made.grids["in_band"].all()
    done = rebalance(made.grids, comm, grown, start_date=DAY, **kw)
    grids, s = done.layout.grids, done.layout.summary
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"])) == (5, 11, 15)
    assert grids["in_band"].all() and grids["households"].sum() == 3460
    blocks = [shapely.box(500_000, 4_400_000, 500_800, 4_401_000), shapely.box(500_800, 4_400_000, 501_000, 4_401_000)]
    assert _blocks_met(grids.geometry.values, blocks) == [1] * len(grids)
    assert s["grids_crossing_barriers"] == 0 and not grids["crosses_barrier"].any()
    assert set(made.grids.loc[made.grids["crosses_barrier"], "grid_id"]) <= set(s["ended_ids"])
    gk.assert_partition(grids, comm)


def test_crosses_barrier_is_measured_again_on_real_streets(samples, shared):
    """Cambridge's 13 neighbourhoods, its 6,117 street lights standing in for
    households (100–150 a grid), its 284 major-road segments as barriers: a grid
    crosses one where light street blocks are joined. After an estate of 300 in
    the first neighbourhood, every grid's crosses_barrier says whether it
    overlaps more than one street block."""
    from gridkit.cells import barrier_lines, street_blocks

    comm = gk.unit_hierarchy(gk.read_vector(samples / "cambridge_neighborhoods.gpkg"), name_field="NAME",
                             provisional=True, parent_code="990301")
    roads = gk.read_vector(samples / "cambridge_centerlines.gpkg")
    roads = roads[roads["MajorRoad"] == 1]
    lights = gk.read_vector(shared / "cambridge_ma" / "INFRA_StreetLights.geojson").to_crs(comm.crs)
    made = balanced_grid(comm, lights, min_households=100, max_households=150, barriers=roads)
    at = shapely.point_on_surface(comm.geometry.values[0])
    estate = shapely.points(np.random.default_rng(0).normal(0, 60, (300, 2)) + [at.x, at.y])
    now = gpd.GeoDataFrame(geometry=np.r_[lights.geometry.values, estate], crs=comm.crs)
    done = rebalance(made.grids, comm, now, min_households=100, max_households=150, barriers=roads)
    grids, s = done.layout.grids, done.layout.summary
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"])) == (2, 3, 5)
    assert grids["households"].sum() == 6_117 - 8 + 300  # 8 lights stand outside every neighbourhood
    gk.assert_partition(grids, comm)
    streets, owner = street_blocks(comm.geometry.values, barrier_lines(roads, comm.crs))
    home = grids["community_code"].map(dict(zip(comm["community_code"], range(len(comm)))))
    met = [_blocks_met([g], streets[owner == c])[0] for g, c in zip(grids.geometry.values, home)]
    assert grids["crosses_barrier"].tolist() == [m > 1 for m in met]
    assert s["grids_crossing_barriers"] == sum(m > 1 for m in met) > 0


def test_cli_rebalance_keeps_to_the_barriers_the_package_was_divided_along(tmp_path):
    """`grid households --barriers` records them; `grid rebalance` uses them again
    unless told otherwise, and warns when their file is gone."""
    comm, roads, (homes, grown), _ = _square_with_roads()
    paths = {name: tmp_path / f"{name}.gpkg" for name in ("boundary", "roads", "homes", "grown")}
    gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=comm.geometry.values, crs=comm.crs).to_file(paths["boundary"])
    for name, frame in (("roads", roads), ("homes", homes), ("grown", grown)):
        frame.to_file(paths[name])
    package, out = tmp_path / "layout.gpkg", tmp_path / "now.gpkg"
    made = CliRunner().invoke(cli, ["grid", "households", str(paths["boundary"]), "--code-field", "code",
                                    "--households", str(paths["homes"]), "--min-households", "100",
                                    "--max-households", "150", "--barriers", str(paths["roads"]), "-o", str(package)])
    assert made.exit_code == 0, made.output
    args = ["grid", "rebalance", str(package), "--households", str(paths["grown"]), "-o", str(out), "--overwrite"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "changed      3 ended, 5 new" in result.output
    assert f"barriers     0 grids cross one (column crosses_barrier); {paths['roads']}" in result.output
    meta = json.loads(dict(zip(*pyogrio.read_dataframe(out, layer="gridkit_metadata")[["key", "value"]].T.values))
                      ["parameters"])
    assert meta["barriers"] == str(paths["roads"])
    paths["roads"].unlink()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"warning: {package} was divided along the barriers in {paths['roads']}, which is not there" in result.output
    assert "changed      4 ended, 5 new" in result.output and "barriers     " not in result.output


def test_cli_barriers_where_keeps_only_the_streets_asked_for(tmp_path):
    """An OpenStreetMap network holds footpaths, which bound no street block.
    --barriers-where reads only the lines it matches: with a footway at x = 250 m
    as a barrier too, the west half's blocks of about 300 households make 9 grids,
    2 of them out of the band (forced); without it, 10, all in the band, the grids
    the library makes from the two roads alone. The package records the filter,
    and `grid rebalance` reads the barriers through it again."""
    comm, roads, (homes, grown), _ = _square_with_roads()
    footway = shapely.LineString([(500_250, 4_399_000), (500_250, 4_402_000)])
    network = gpd.GeoDataFrame({"highway": ["primary", "secondary", "footway"]},
                               geometry=[*roads.geometry.values, footway], crs=roads.crs)
    paths = {name: tmp_path / f"{name}.gpkg" for name in ("boundary", "network", "homes", "grown")}
    gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=comm.geometry.values, crs=comm.crs).to_file(paths["boundary"])
    for name, frame in (("network", network), ("homes", homes), ("grown", grown)):
        frame.to_file(paths[name])

    def households(out, *more):
        return CliRunner().invoke(cli, ["grid", "households", str(paths["boundary"]), "--code-field", "code",
                                        "--households", str(paths["homes"]), "--min-households", "100",
                                        "--max-households", "150", "--barriers", str(paths["network"]), *more,
                                        "-o", str(out)])

    every, streets = tmp_path / "every.gpkg", tmp_path / "streets.gpkg"
    result = households(every)
    assert result.exit_code == 0, result.output
    assert "grids        9 in 1 community" in result.output and "2 × forced" in result.output
    result = households(streets, "--barriers-where", "highway <> 'footway'")
    assert result.exit_code == 0, result.output
    assert "grids        10 in 1 community" in result.output and "in band      10 (100 %)" in result.output
    made = balanced_grid(comm, homes, min_households=100, max_households=150, barriers=roads)
    grids = gpd.read_file(streets, layer="cells")
    assert shapely.equals_exact(grids.geometry.values, made.grids.geometry.values, tolerance=1e-6).all()
    meta = json.loads(dict(zip(*pyogrio.read_dataframe(streets, layer="gridkit_metadata")[["key", "value"]].T.values))
                      ["parameters"])
    assert meta["barriers_where"] == "highway <> 'footway'"

    out = tmp_path / "now.gpkg"
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(streets), "--households", str(paths["grown"]),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "changed      3 ended, 5 new" in result.output
    assert f"barriers     0 grids cross one (column crosses_barrier); {paths['network']} where highway <> 'footway'" \
        in result.output
    done = rebalance(made.grids, comm, grown, min_households=100, max_households=150, barriers=roads,
                     sized_for=made.sized_for)  # as the package records them
    now = gpd.read_file(out, layer="cells")
    assert shapely.equals_exact(now.geometry.values, done.layout.grids.geometry.values, tolerance=1e-6).all()

    # A filter that matches nothing, or that GDAL cannot read, is an error naming it; no package is written.
    bad = tmp_path / "bad.gpkg"
    result = households(bad, "--barriers-where", "highway = 'primay'")
    assert result.exit_code == 1 and not bad.exists()
    assert f"{paths['network']}: no feature matches --barriers-where \"highway = 'primay'\"" in result.output
    result = households(bad, "--barriers-where", "highway = primary'")
    assert result.exit_code == 1 and not bad.exists()
    assert "--barriers-where \"highway = primary'\" is not a filter GDAL understands" in result.output
    assert "over the file's columns (highway)" in result.output


def test_cli_rebalance_issues_no_id_twice(layout, tmp_path):
    """`grid households` records the IDs it issued; grid 134 and its micro-grids are
    deleted in QGIS (the layers rewritten, the metadata kept); `grid rebalance` numbers
    the new grids from 135 and records them, and a second rebalance reads the record."""
    from gridkit_cli.grid import write_household_package

    made, comm, blocks = layout
    package = tmp_path / "layout.gpkg"
    write_household_package(package, made, comm, {"band": [100, 150], "micro": [20, 50], "split_polygons": True,
                                                  "count_field": "HOUSEHOLDS", "kind": "blocks"})
    assert json.loads(gk.read_package(package)[2]["highest_issued"])["990201900600"] == 134
    grids, micro = _merged_by_hand(made, "990201900600134")
    for frame, name in ((grids, "cells"), (micro, "micro_grids")):
        pyogrio.write_dataframe(frame, package, layer=name, layer_options={"OVERWRITE": "YES"})
    households = tmp_path / "blocks.gpkg"
    blocks.to_file(households, layer="blocks")
    out = tmp_path / "now.gpkg"
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(households),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 ended, 5 new (990201900600135 … 990201900600139)" in result.output
    issued = json.loads(gk.read_package(out)[2]["highest_issued"])
    assert issued["990201900600"] == 139
    # The households the atoms were sized for, carried on for the next rebalance.
    assert json.loads(gk.read_package(out)[2]["atoms_sized_for"]) == made.sized_for == {"990201900600": 16_766}
    assert issued["990201900600134"] == (made.micro["grid_id"] == "990201900600134").sum()  # its micro-grids
    # The new grids' IDs are on record: deleting 139 by hand, a rebalance starts at 140.
    cells = gpd.read_file(out, layer="cells")
    again_micro = gpd.read_file(out, layer="micro_grids")
    merged, merged_micro = _merged_by_hand(SimpleNamespace(grids=cells, micro=again_micro), "990201900600139")
    for frame, name in ((merged, "cells"), (merged_micro, "micro_grids")):
        pyogrio.write_dataframe(frame, out, layer=name, layer_options={"OVERWRITE": "YES"})
    final = tmp_path / "final.gpkg"
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(out), "--households", str(households),
                                      "-o", str(final)])
    assert result.exit_code == 0, result.output
    new = gk.read_package(final)[2]
    ended = gpd.read_file(final, layer="ended_grids")["grid_id"]
    assert ended.tolist()[:4] == [f"990201900600{k}" for k in (117, 126, 127, 128)]  # the first one's
    assert len(ended) > 4 and ended.is_unique
    assert min(json.loads(new["summary"])["new_ids"]) == "990201900600140"
    # A record broken by hand is refused with the package and the row named, not a traceback.
    original = pyogrio.read_dataframe(final, layer="gridkit_metadata")
    for key, value in (("highest_issued", "{'990201900600': 150"), ("atoms_sized_for", '{"990201900600": "many"}')):
        meta = original.copy()
        meta.loc[meta["key"] == key, "value"] = value
        pyogrio.write_dataframe(meta, final, layer="gridkit_metadata", layer_options={"OVERWRITE": "YES"})
        broken = CliRunner().invoke(cli, ["grid", "rebalance", str(final), "--households", str(households),
                                          "-o", str(tmp_path / "never.gpkg")])
        assert broken.exit_code == 1 and not (tmp_path / "never.gpkg").exists()
        assert f"{final}: the {key} row of its gridkit_metadata table is not what gridkit wrote" in broken.output


def test_check_flags_an_ended_id_given_again_by_hand(layout, tmp_path):
    """After a rebalance, a planner types an ended grid's ID (and an ended
    micro-grid's) onto grids in QGIS: `gridkit check` names both and offers the next
    free IDs."""
    from gridkit_cli.grid import write_household_package

    made, comm, blocks = layout
    done = _rebalance(layout, _grown(blocks))
    package = tmp_path / "now.gpkg"
    write_household_package(package, done.layout, comm, {"band": [100, 150], "micro": [20, 50]}, issued=done.issued,
                            ended=done.ended, ended_micro=done.ended_micro)
    assert all(report.ok for report in gk.check_package(package).values())
    cells, micro = done.layout.grids.copy(), done.layout.micro.copy()
    cells.loc[cells["grid_id"] == "990201900600140", "grid_id"] = "990201900600018"  # ended at this rebalance
    ended_micro = done.ended_micro["micro_id"].iat[0]
    kept_micro = micro.loc[micro["grid_id"] == "990201900600001", "micro_id"].iat[0]
    micro.loc[micro["micro_id"] == kept_micro, "micro_id"] = ended_micro
    for frame, name in ((cells, "cells"), (micro, "micro_grids")):
        pyogrio.write_dataframe(frame, package, layer=name, layer_options={"OVERWRITE": "YES"})
    reports = gk.check_package(package)
    assert [p for p in reports["cells"].problems if "ended one's" in p] == [
        "grid_id 990201900600018 is an ended one's (ended_grids layer of now.gpkg): an ID is issued once; give "
        "this one a new ID, 990201900600143 is the next free"]
    highest = done.issued["990201900600001"]  # the micro-grid lies in grid 001
    assert highest == (micro["grid_id"] == "990201900600001").sum()
    assert [p for p in reports["micro_grids"].problems if "ended one's" in p] == [
        f"micro_id {ended_micro} is an ended one's (ended_micro_grids layer of now.gpkg): an ID is issued once; "
        f"give this one a new ID, 990201900600001{highest + 1:02d} is the next free"]


def test_check_offers_no_id_issued_before_for_a_duplicate(layout, tmp_path):
    """Grid 134 merged away by hand, then grid 003 given 002's ID: `gridkit check`
    offers 135 for one of the two (134 was issued), where a package without the
    record offers 134."""
    from gridkit_cli.grid import write_household_package

    made, comm, _ = layout
    grids, micro = _merged_by_hand(made, "990201900600134")
    grids.loc[grids["grid_id"] == "990201900600003", "grid_id"] = "990201900600002"
    hint = ("grid_id 990201900600002 is used by 2 cells: give all but one a free ID ({} is the next after its "
            "unit's highest)")
    for record, offered in ((None, "990201900600134"), (highest_issued(made.grids["grid_id"]), "990201900600135")):
        package = tmp_path / f"{offered}.gpkg"
        write_household_package(package, made, comm, {"band": [100, 150]}, issued=record)
        pyogrio.write_dataframe(grids, package, layer="cells", layer_options={"OVERWRITE": "YES"})
        if record is None:  # a package from before the record
            meta = pyogrio.read_dataframe(package, layer="gridkit_metadata")
            pyogrio.write_dataframe(meta[meta["key"] != "highest_issued"], package, layer="gridkit_metadata",
                                    layer_options={"OVERWRITE": "YES"})
        assert hint.format(offered) in gk.check_package(package)["cells"].problems


def test_cli_rebalance_reads_the_households_as_the_package_recorded(tmp_path):
    """A layout made from GCJ-02 points labelled EPSG:4326 (--crs gcj02) in a named
    layer: `grid rebalance` reads the same file the same way unless told otherwise,
    and says so. Read as the file labels them, the households would lie some 500 m
    east of where they are, and those past the community's edge would be rejected."""
    from gridkit.coords import gcj02_to_wgs84

    rng = np.random.default_rng(2)
    box = shapely.box(116.400, 39.900, 116.410, 39.908)  # about 850 × 890 m, in GCJ-02
    xy = rng.uniform(0, 1, (1200, 2)) * [0.010, 0.008] + [116.400, 39.900]
    boundary, homes = tmp_path / "boundary.gpkg", tmp_path / "homes.gpkg"
    gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=[box], crs=4326).to_file(boundary)
    # The first layer, which a file is read by without --households-layer, holds shops.
    gpd.GeoDataFrame(geometry=shapely.points(xy[:5]), crs=4326).to_file(homes, layer="shops")
    gpd.GeoDataFrame(geometry=shapely.points(xy), crs=4326).to_file(homes, layer="homes")
    package, out = tmp_path / "layout.gpkg", tmp_path / "now.gpkg"
    made = CliRunner().invoke(cli, ["grid", "households", str(boundary), "--code-field", "code", "--crs", "gcj02",
                                    "--households", str(homes), "--households-layer", "homes",
                                    "--min-households", "100", "--max-households", "150", "-o", str(package)])
    assert made.exit_code == 0, made.output
    grids = len(gpd.read_file(package, layer="cells"))
    assert grids == 10
    args = ["grid", "rebalance", str(package), "--households", str(homes), "-o", str(out), "--overwrite"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (f"note: reading {homes} with {package}'s --households-layer homes and --households-crs gcj02"
            in result.output)
    assert f"recounted    {grids} grids: 0 out of the band 100–150" in result.output
    assert "changed      0 ended, 0 new" in result.output
    assert "rejects      0 household features outside every grid" in result.output
    meta = json.loads(dict(zip(*pyogrio.read_dataframe(out, layer="gridkit_metadata")[["key", "value"]].T.values))
                      ["parameters"])
    assert (meta["households_layer"], meta["households_crs"]) == ("homes", "gcj02")

    # Given, either is taken as given: the label, EPSG:4326, leaves the households
    # east of the community (in WGS84, where gridkit works) by the GCJ-02 offset.
    result = CliRunner().invoke(cli, [*args, "--households-crs", "EPSG:4326"])
    assert result.exit_code == 0, result.output
    assert "with layout.gpkg's --households-layer homes (give" in result.output.replace(str(tmp_path) + "/", "")
    community = shapely.box(*gcj02_to_wgs84(*box.bounds[:2]), *gcj02_to_wgs84(*box.bounds[2:]))
    outside = int((~shapely.contains_xy(community, xy[:, 0], xy[:, 1])).sum())
    assert 300 < outside < 1200
    assert f"rejects      {outside} household features outside every grid" in result.output


def _square_community(tmp_path):
    """A community of 0.010° × 0.008° in Beijing (boundary.gpkg, WGS84) and 600
    random positions in it (lon, lat)."""
    boundary = tmp_path / "boundary.gpkg"
    gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=[shapely.box(116.400, 39.900, 116.410, 39.908)],
                     crs=4326).to_file(boundary)
    return boundary, np.random.default_rng(3).uniform(0, 1, (600, 2)) * [0.010, 0.008] + [116.400, 39.900]


def test_households_encoding_reads_a_big5_csv_and_a_rebalance_reads_it_again(tmp_path):
    """A households CSV in BIG5 (as Taiwan and Hong Kong offices save it): GB18030,
    the fallback, turns its column names into other characters, so 經度/緯度 are
    not found. --households-encoding BIG5 reads it, and `grid rebalance` reads it
    the same way unless told otherwise. The boundary, a BIG5 Shapefile without its
    .cpg, is read with --encoding BIG5, as `grid units` reads one."""
    square, xy = _square_community(tmp_path)
    boundary = tmp_path / "boundary.shp"
    gpd.read_file(square).assign(名稱="中正里").to_file(boundary, encoding="big5")
    boundary.with_suffix(".cpg").unlink()
    homes = tmp_path / "homes.csv"
    homes.write_bytes(("門牌,經度,緯度,戶數\n" + "".join(f"臺北路{i}號,{x:.6f},{y:.6f},{1 + i % 2}\n"
                                                for i, (x, y) in enumerate(xy))).encode("big5"))
    package, out = tmp_path / "layout.gpkg", tmp_path / "now.gpkg"
    args = ["grid", "households", str(boundary), "--encoding", "BIG5", "--code-field", "code", "--name-field", "名稱",
            "--households", str(homes), "--count-field", "戶數", "--min-households", "100", "--max-households", "150",
            "-o", str(package)]
    unread = CliRunner().invoke(cli, args)
    assert unread.exit_code == 1 and "homes.csv: no coordinate columns found" in unread.output
    made = CliRunner().invoke(cli, [*args, "--households-encoding", "BIG5"])
    assert made.exit_code == 0, made.output
    grids = gpd.read_file(package, layer="cells")
    assert (len(grids), grids["households"].sum(), set(grids["community_name"])) == (7, 900, {"中正里"})
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(homes), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "with " + str(package) + "'s --households-encoding BIG5 (give" in result.output
    assert f"recounted    {len(grids)} grids: 0 out of the band 100–150" in result.output


def test_cli_rebalance_reads_a_csv_by_the_columns_the_package_recorded(tmp_path):
    """Households in a CSV whose coordinate columns no name detects (east, north),
    named with --x-field/--y-field: `grid rebalance` reads the same CSV by the same
    columns unless told otherwise (before, it could not read it at all)."""
    boundary, xy = _square_community(tmp_path)
    homes = tmp_path / "homes.csv"
    homes.write_text("id,east,north\n" + "".join(f"{i},{x:.6f},{y:.6f}\n" for i, (x, y) in enumerate(xy)))
    package, out = tmp_path / "layout.gpkg", tmp_path / "now.gpkg"
    made = CliRunner().invoke(cli, ["grid", "households", str(boundary), "--code-field", "code",
                                    "--households", str(homes), "--x-field", "east", "--y-field", "north",
                                    "--households-crs", "EPSG:4326", "--min-households", "100",
                                    "--max-households", "150", "-o", str(package)])
    assert made.exit_code == 0, made.output
    grids = len(gpd.read_file(package, layer="cells"))
    assert grids == 5
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(homes), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "--households-crs EPSG:4326 and --x-field east --y-field north (give" in result.output
    assert f"recounted    {grids} grids: 0 out of the band 100–150" in result.output
    assert "changed      0 ended, 0 new" in result.output
    meta = json.loads(dict(zip(*pyogrio.read_dataframe(out, layer="gridkit_metadata")[["key", "value"]].T.values))
                      ["parameters"])
    assert (meta["x_field"], meta["y_field"]) == ("east", "north")


def test_cli_rebalance_of_a_layout_made_from_blocks_reads_address_points_as_points(tmp_path):
    """The layout was made from census blocks; today the city counts households by
    address point. Rebalance took the layout's kind, blocks, and stopped: "kind
    'blocks' needs polygons with counts"."""
    boundary, xy = _square_community(tmp_path)
    blocks = tmp_path / "blocks.gpkg"
    cols = [shapely.box(116.400 + i * 0.001, 39.900, 116.401 + i * 0.001, 39.908) for i in range(10)]
    counts = [int(((xy[:, 0] >= c.bounds[0]) & (xy[:, 0] < c.bounds[2])).sum()) for c in cols]
    gpd.GeoDataFrame({"n": counts}, geometry=cols, crs=4326).to_file(blocks)
    homes = tmp_path / "homes.csv"
    homes.write_text("lon,lat\n" + "".join(f"{x:.6f},{y:.6f}\n" for x, y in xy))
    package, out = tmp_path / "layout.gpkg", tmp_path / "now.gpkg"
    made = CliRunner().invoke(cli, ["grid", "households", str(boundary), "--code-field", "code", "--households",
                                    str(blocks), "--count-field", "n", "--split-polygons", "--min-households", "100",
                                    "--max-households", "150", "-o", str(package)])
    assert made.exit_code == 0 and "(band 100–150, blocks)" in made.output, made.output
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(homes), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (f"note: the layout was made from blocks; {homes} holds points, read as points, each one household "
            f"({package} counted by 'n', which they lack; give --count-field if a column holds counts)") \
        in " ".join(result.output.split())
    assert "households   600 in grids (before: 600)" in result.output
    renamed = tmp_path / "renamed.gpkg"  # blocks whose count column is named otherwise now: not counted 1 each
    gpd.read_file(blocks).rename(columns={"n": "hh"}).to_file(renamed)
    lacking = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(renamed), "-o",
                                       str(tmp_path / "no.gpkg")])
    assert lacking.exit_code == 1 and (f"{renamed}: no column 'n', which {package} records as the households' "
                                       "count: give the column that holds them now (--count-field)"
                                       ) in " ".join(lacking.output.split())
    counted = tmp_path / "counted.csv"
    counted.write_text("lon,lat,n\n" + "".join(f"{x:.6f},{y:.6f},1\n" for x, y in xy))
    forced = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(counted), "--kind",
                                      "blocks", "-o", str(tmp_path / "no.gpkg")])
    assert forced.exit_code == 1 and ("counted.csv: kind 'blocks' needs polygons with counts, and it holds Point "
                                      "features: read them as points (--kind points)") in forced.output


def test_cli_info_says_what_a_rebalanced_package_holds(layout, tmp_path):
    """`gridkit info` on a rebalanced package: the band, the command and the package
    it came from, the grids in the band, the micro-grids and the grids ended, from
    the layers' columns."""
    from gridkit_cli.grid import write_household_package

    made, comm, blocks = layout
    package = tmp_path / "layout.gpkg"
    write_household_package(package, made, comm, {"band": [100, 150], "micro": [20, 50], "split_polygons": True,
                                                  "count_field": "HOUSEHOLDS", "kind": "blocks"})
    households = tmp_path / "blocks_2027.gpkg"
    _grown(blocks).to_file(households, layer="blocks")
    out = tmp_path / "now.gpkg"
    assert CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(households),
                                    "-o", str(out)]).exit_code == 0
    result = CliRunner().invoke(cli, ["info", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "now.gpkg  household grids, band 100–150, micro-grids 20–50"
    assert lines[1].endswith(f"(grid rebalance of {package})")
    ended_on = gpd.read_file(out, layer="ended_grids")["end_date"].max()
    for line in ("units        1 county, 1 street, 1 community",
                 "micro-grids  489 in 137 grids; 17,166 households, 489 in band 20–50 (100.0 %), 0 flagged",
                 f"ended        5 grids and 17 micro-grids by rebalances and recuts, the last on {ended_on}",
                 "layers       cells 137, units 3, micro_grids 489, ended_grids 5, ended_micro_grids 17, "
                 "gridkit_metadata 9, layer_styles 5"):
        assert line in lines
    assert any(line.startswith("cells        137 grids, 13.82 km²") and
               line.endswith("; 17,166 households, 137 in band 100–150 (100.0 %), 0 flagged") for line in lines)
    info = json.loads(CliRunner().invoke(cli, ["info", str(out), "--json"]).output)
    cells = gpd.read_file(out, layer="cells")
    assert info["cells"]["in_band"] == int(cells["households"].between(100, 150).sum()) == 137
    assert info["parameters"]["rebalanced_from"] == str(package)
    assert info["layers"] == {name: pyogrio.read_info(out, layer=name)["features"]
                              for name, _ in pyogrio.list_layers(out)}
    # The columns, not a summary: a grid edited to 90 households is counted out.
    cells.loc[0, "households"] = 90
    cells.to_file(out, layer="cells", engine="pyogrio")
    info = json.loads(CliRunner().invoke(cli, ["info", str(out), "--json"]).output)
    assert (info["cells"]["households"], info["cells"]["in_band"]) == (int(cells["households"].sum()), 136)


def _household_package(layout, tmp_path):
    """The layout (a fixture's: its layout and communities first) as `grid
    households` writes it, at tmp_path/layout.gpkg."""
    from gridkit_cli.grid import write_household_package

    made, comm = layout[:2]
    package = tmp_path / "layout.gpkg"
    write_household_package(package, made, comm, {"band": [100, 150], "micro": [20, 50], "split_polygons": True,
                                                  "count_field": "HOUSEHOLDS", "kind": "blocks"})
    return package


def _exported_and_adopted(layout, tmp_path, suffix, *options):
    """The layout as `grid households` writes it, exported with its micro-grids as
    another platform would hold them (tmp_path/platform_cells.SUFFIX, …) and adopted
    back with ``options``: (package, adopted package, adopt's result)."""
    package = _household_package(layout, tmp_path)
    assert CliRunner().invoke(cli, ["export", str(package), "--layer", "cells", "--layer", "micro_grids",
                                    "-o", str(tmp_path / f"platform{suffix}")]).exit_code == 0
    adopted = tmp_path / "adopted.gpkg"
    done = CliRunner().invoke(cli, ["grid", "adopt", str(tmp_path / f"platform_cells{suffix}"), *options,
                                    "--micro", str(tmp_path / f"platform_micro_grids{suffix}"), "-o", str(adopted)])
    assert done.exit_code == 0, done.output
    return package, adopted, done


def _rebalanced_by_cli(layout, package, tmp_path):
    """`gridkit grid rebalance` of ``package`` with the grown blocks: (output, result)."""
    households = tmp_path / "blocks_2027.gpkg"
    if not households.exists():
        _grown(layout[2]).to_file(households, layer="blocks")
    out = tmp_path / f"{package.stem}_now.gpkg"
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(households),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result


def test_cli_rebalance_reads_micro_grids_whose_id_fields_were_made_numbers_in_qgis(layout, tmp_path):
    """The micro_grids layer saved with micro_id and grid_id as integer fields, the
    household count as a real (QGIS's Refactor fields): the rebalance reads the IDs as
    text, as check and locate do, and makes the layout it makes of the package as
    written. It refused the package: every micro-grid named a grid 'not among the grids'."""
    package = _household_package(layout, tmp_path)
    as_written, expected = _rebalanced_by_cli(layout, package, tmp_path)
    as_written = as_written.rename(tmp_path / "as_written.gpkg")
    micro = gpd.read_file(package, layer="micro_grids")
    micro = micro.assign(micro_id=micro["micro_id"].astype("int64"), grid_id=micro["grid_id"].astype("int64"),
                         households=micro["households"].astype(float))
    pyogrio.write_dataframe(micro, package, layer="micro_grids", layer_options={"OVERWRITE": "YES"})
    out, result = _rebalanced_by_cli(layout, package, tmp_path)
    changed = "changed      5 ended, 8 new (990201900600135 … 990201900600142); 129 kept with their IDs"
    assert changed in result.output and changed in expected.output
    for name in ("micro_grids", "ended_micro_grids"):
        made, wanted = (pyogrio.read_dataframe(path, layer=name, read_geometry=False) for path in (out, as_written))
        assert made["micro_id"].tolist() == wanted["micro_id"].tolist() and made["micro_id"].str.len().eq(17).all()
        assert made["grid_id"].tolist() == wanted["grid_id"].tolist()


def test_cli_rebalance_of_grids_adopted_from_a_platform_takes_the_band_given(layout, tmp_path):
    """Grids and micro-grids another platform holds, adopted (`grid adopt --crs`),
    record no band: rebalance asks for one, and for the micro band, then recounts
    and divides as for a layout gridkit made. The adopted package's --crs was its
    grids': the households are read as labelled, not in it."""
    package, adopted, done = _exported_and_adopted(layout, tmp_path, ".shp", "--crs", "EPSG:32616")
    # gridkit's own columns, cut to 10 characters in the Shapefile, come back named as in a package.
    assert "kept         columns households, polsby_popper, flag, flag_detail, crosses_barrier, in_band" in done.output
    households = tmp_path / "blocks_2027.gpkg"
    _grown(layout[2]).to_file(households, layer="blocks")
    args = ["grid", "rebalance", str(adopted), "--households", str(households), "--count-field", "HOUSEHOLDS",
            "-o", str(tmp_path / "now.gpkg")]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1 and (f"{adopted}: its metadata holds no band (grids adopted from elsewhere); give "
                                       "the band to rebalance it to: --min-households and --max-households, or "
                                       "--target") in refused.output
    refused = CliRunner().invoke(cli, [*args, "--min-households", "100", "--max-households", "150"])
    assert refused.exit_code == 1 and (f"{adopted} has micro-grids but records no micro band: give it, --micro "
                                       "MIN,MAX") in refused.output
    band = ["--min-households", "100", "--max-households", "150"]
    refused = CliRunner().invoke(cli, [*args, *band, "--micro", "20,120"])
    assert refused.exit_code == 1 and "micro-grids of 20–120 households do not nest in grids of 100–150" \
        in refused.output
    # An adopted package records no count column: each block one household gave 4 grids of 100–150 blocks.
    refused = CliRunner().invoke(cli, [*args[:5], *args[7:], *band, "--micro", "20,50"])
    assert refused.exit_code == 1 and (f"{households}: census-style blocks (polygons covering the communities) hold "
                                       "the households they count: give the column holding them (--count-field "
                                       "HOUSEHOLDS)") in refused.output
    assert not (tmp_path / "now.gpkg").exists()
    result = CliRunner().invoke(cli, [*args, *band, "--micro", "20,50"])
    assert result.exit_code == 0, result.output
    # Whole blocks (the package records no splitting): the grown one and 4 grids of pieces are out.
    assert "recounted    134 grids: 5 out of the band 100–150" in result.output
    assert "changed      11 ended, 11 new (990201900600135 … 990201900600145); 123 kept" in result.output
    assert "households   17,166 in grids (before: 16,766)" in result.output
    assert not gk.check_package(tmp_path / "now.gpkg")["cells"].problems
    params = json.loads(gk.package.read_metadata(tmp_path / "now.gpkg")["parameters"])
    assert (params["band"], params["micro"], params["rebalanced_from"]) == ([100, 150], [20, 50], str(adopted))
    assert "adopted" not in params and params["count_field"] == "HOUSEHOLDS"  # the next rebalance reads as this one
    assert params["split_polygons"] is False
    # The blocks cut as the grids cut them: what the layout gridkit made gives (see
    # test_cli_rebalance_writes_a_package_with_the_ended_grids), not whole blocks' 5 out.
    result = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "split.gpkg"), *band, "--micro", "20,50",
                                      "--split-polygons"])
    assert result.exit_code == 0, result.output
    assert "recounted    134 grids: 2 out of the band 100–150" in result.output
    assert "changed      7 ended, 10 new (990201900600135 … 990201900600144); 127 kept" in result.output
    assert json.loads(gk.package.read_metadata(tmp_path / "split.gpkg")["parameters"])["split_polygons"] is True
    # A platform's file holds the IDs alone: no flag, shape or barrier columns; recounted only.
    plain = gpd.read_file(tmp_path / "platform_cells.shp")[["grid_id", "geometry"]]
    plain.to_file(tmp_path / "plain.shp")
    assert CliRunner().invoke(cli, ["grid", "adopt", str(tmp_path / "plain.shp"), "-o", str(tmp_path / "plain.gpkg")]
                              ).exit_code == 0
    layout[2].to_file(tmp_path / "blocks_2026.gpkg", layer="blocks")
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(tmp_path / "plain.gpkg"), "--households",
                                      str(tmp_path / "blocks_2026.gpkg"), "--count-field", "HOUSEHOLDS", *band,
                                      "--split-polygons", "--recount-only", "-o", str(tmp_path / "plain_now.gpkg")])
    assert result.exit_code == 0, result.output
    # 4 out by one or two households (151, 152, 99, 152): without the micro-grids' outlines the blocks are cut
    # into other pieces than the layout's, which share their households otherwise.
    assert "recounted    134 grids: 4 out of the band" in result.output
    assert "changed      0 ended, 0 new; 134 kept with their IDs" in result.output
    cells, _, _ = gk.read_package(tmp_path / "plain_now.gpkg")
    assert cells["polsby_popper"].between(0.3, 1).all() and not cells["crosses_barrier"].any()
    assert (cells["flag"] != "").sum() == (~cells["in_band"]).sum() == 4
    # A layout gridkit made, given a band of its own: a city moving to 200–300 households a grid.
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(households),
                                      "--target", "250", "-o", str(tmp_path / "wider.gpkg")])
    assert result.exit_code == 0, result.output
    assert "recounted    134 grids: 134 out of the band 200–300" in result.output
    assert json.loads(gk.package.read_metadata(tmp_path / "wider.gpkg")["parameters"])["band"] == [200, 300]
    cells_only = tmp_path / "cells_only.gpkg"
    assert CliRunner().invoke(cli, ["grid", "adopt", str(tmp_path / "platform_cells.shp"), "-o", str(cells_only)]
                              ).exit_code == 0
    refused = CliRunner().invoke(cli, ["grid", "rebalance", str(cells_only), "--households", str(households),
                                       "-o", str(tmp_path / "x.gpkg"), *band, "--micro", "20,50"])
    assert refused.exit_code == 1 and f"{cells_only} has no micro-grids for --micro to apply to" in refused.output


def test_grids_adopted_from_geojson_are_divided_and_rebalanced_inside_their_community(layout, tmp_path):
    """Grids exported as GeoJSON (lon/lat to 7 decimals) and adopted: each community
    is the union of the rounded cells, whose edge runs 1e-7 m beside the blocks'.
    Noding those by snapping moved the edge outward, and every grid traced along it
    lay up to 5e-4 m² beyond its community: the rebalance, and a new division of the
    same community, refused to write (49 grids "outside their unit")."""
    _, adopted, _ = _exported_and_adopted(layout, tmp_path, ".geojson")
    households = tmp_path / "blocks_2027.gpkg"
    _grown(layout[2]).to_file(households, layer="blocks")
    now = tmp_path / "now.gpkg"
    result = CliRunner().invoke(cli, [
        "grid", "rebalance", str(adopted), "--households", str(households), "--count-field", "HOUSEHOLDS",
        "--min-households", "100", "--max-households", "150", "--micro", "20,50", "--split-polygons",
        "-o", str(now)])
    assert result.exit_code == 0, result.output
    assert "recounted    134 grids: 3 out of the band 100–150" in result.output
    assert "in band      137 of 137 (100 %)" in result.output
    reports = gk.check_package(now)
    assert [r.problems for r in reports.values()] == [[], []]
    assert [r.multipart["cells"] for r in reports.values()] == [0, 0]  # no speck left as a part
    community = gpd.read_file(adopted, layer="units").query("level == 'community'")
    beyond = shapely.area(shapely.difference(gpd.read_file(now, layer="cells").geometry.values,
                                             community.geometry.values[0]))
    assert beyond.max() <= 1e-6
    divided = tmp_path / "divided.gpkg"
    result = CliRunner().invoke(cli, [
        "grid", "households", str(adopted), "--layer", "units", "--where", "level = 'community'",
        "--code-field", "code", "--provisional", "--households", str(households), "--households-layer", "blocks",
        "--count-field", "HOUSEHOLDS", "--split-polygons", "--min-households", "100", "--max-households", "150",
        "--micro", "20,50", "-o", str(divided)])
    assert result.exit_code == 0, result.output
    assert [r.problems for r in gk.check_package(divided).values()] == [[], []]


def test_cli_rebalance_carries_the_component_catalogue_into_the_new_grids(layout, tmp_path):
    """Hydrants catalogued into a household layout come along when it is rebalanced:
    the same components and IDs, each in the grid that now holds it; those in kept
    grids keep theirs, and one just outside the city stays with the nearest grid.
    Before, the rebalanced package had no components layer at all."""
    _, comm, _ = layout
    package = _household_package(layout, tmp_path)
    rng = np.random.default_rng(7)
    city = comm.geometry.values[0]
    xmin, ymin, xmax, ymax = city.bounds
    points = shapely.points(rng.uniform(xmin, xmax, 2000), rng.uniform(ymin, ymax, 2000))
    points = points[shapely.contains(city, points)][:400]
    edge = shapely.get_exterior_ring(shapely.get_parts(city)[0])
    outside = shapely.line_interpolate_point(edge, 0.3, normalized=True)
    ring = shapely.buffer(outside, 10).boundary  # a point 10 m from the edge, off the city
    off = [p for p in shapely.get_coordinates(ring) if not city.covers(shapely.Point(p))][0]
    hydrants = gpd.GeoSeries([*points, shapely.Point(off)], crs=comm.crs).to_crs(4326)
    pd.DataFrame({"lon": hydrants.x, "lat": hydrants.y}).to_csv(tmp_path / "hydrants.csv", index=False)
    (tmp_path / "hydrants.toml").write_text('class = "01013"\n')
    imported = CliRunner().invoke(cli, ["components", "import", str(tmp_path / "hydrants.csv"), "--grid", str(package),
                                        "--mapping", str(tmp_path / "hydrants.toml")])
    assert imported.exit_code == 0, imported.output
    before = gpd.read_file(package, layer="components").set_index("GLBJBSM")
    assert len(before) == len(points) + 1 and (before["assign_status"] == "nearest").sum() == 1
    assert (before["micro_id"].str[:15] == before["SZDYWGBSM"]).all()  # each in one of its grid's micro-grids

    out, result = _rebalanced_by_cli(layout, package, tmp_path)
    after = gpd.read_file(out, layer="components").set_index("GLBJBSM")
    assert sorted(after.index) == sorted(before.index)
    cells = gpd.read_file(out, layer="cells")
    inside = after[after["assign_status"] == "inside"]
    holder = gpd.sjoin(inside[["geometry"]], cells[["grid_id", "geometry"]], predicate="within")
    assert len(holder) == len(inside) == len(points)
    assert (holder["grid_id"] == inside.loc[holder.index, "SZDYWGBSM"]).all()
    micro = gpd.read_file(out, layer="micro_grids")
    in_micro = gpd.sjoin(inside[["geometry"]], micro[["micro_id", "geometry"]], predicate="within")
    assert len(in_micro) == len(inside)
    assert (in_micro["micro_id"] == inside.loc[in_micro.index, "micro_id"]).all()  # the new micro-grids
    assert not set(after["micro_id"]) - set(micro["micro_id"])
    near = after[after["assign_status"] == "nearest"]
    nearest = cells["grid_id"].iat[int(np.argmin(cells.distance(near.geometry.iat[0])))]
    assert near["SZDYWGBSM"].tolist() == [nearest]
    mine = micro[micro["grid_id"] == nearest]
    assert near["micro_id"].tolist() == [mine["micro_id"].iat[int(np.argmin(mine.distance(near.geometry.iat[0])))]]
    assert near["assign_distance_m"].iat[0] == before.loc[near.index[0], "assign_distance_m"]
    new_ids = json.loads(gk.read_package(out)[2]["summary"])["new_ids"]
    moved = after["SZDYWGBSM"] != before.loc[after.index, "SZDYWGBSM"]
    assert after.loc[moved, "SZDYWGBSM"].isin(new_ids).all() and moved.sum() > 0
    assert not after.loc[~moved, "SZDYWGBSM"].isin(new_ids).any()  # the rest are in kept grids, as they were
    today = gpd.read_file(out, layer="ended_grids")["end_date"].iat[0].replace("-", "")
    assert (after.loc[moved, "BGRQ"] == today).all()  # a change of record: its grid
    assert (after.loc[~moved, "BGRQ"].fillna("") == before.loc[after.index[~moved], "BGRQ"].fillna("")).all()
    assert (f"components   {len(after)} carried over (layer components); {int(moved.sum())} now in a new grid "
            "(SZDYWGBSM)") in result.output
    assert gk.read_package(out)[2]["component_scheme"] == gk.read_package(package)[2]["component_scheme"]
    stats = CliRunner().invoke(cli, ["components", "stats", "--grid", str(out)])
    assert stats.exit_code == 0 and f"total        {len(after)} components, 0 removed" in stats.output


def test_cli_rebalance_carries_what_the_user_added_to_the_package(layout, tmp_path):
    """A layer dragged into the package in QGIS, a table, and a style saved as the
    cells' default come along into the rebalanced package; gridkit's own style of
    the cells stays, not as the default. Before, the new package had none of them."""
    from gridkit.styles import STYLE_NAME

    made, comm, _ = layout
    package = _household_package(layout, tmp_path)
    city = comm.geometry.values[0]
    schools = gpd.GeoDataFrame({"name": ["North", "South"], "pupils": [412, 380]},
                               geometry=[city.representative_point(), city.centroid], crs=comm.crs)
    schools.to_file(package, layer="schools", engine="pyogrio")
    notes = pd.DataFrame({"grid_id": made.grids["grid_id"].iloc[:3], "note": ["a", "b", "c"]})
    pyogrio.write_dataframe(notes, package, layer="visit_notes", driver="GPKG")
    styles = pyogrio.read_dataframe(package, layer="layer_styles", read_geometry=False)
    mine = styles[styles["f_table_name"] == "cells"].assign(styleName="mine", styleQML="<qgis/>", useAsDefault=True)
    pyogrio.write_dataframe(pd.concat([styles, mine], ignore_index=True), package, layer="layer_styles",
                            driver="GPKG")
    # Tables GDAL does not list: a project saved with Project → Save To → GeoPackage
    # (as QGIS makes it) and one made in an SQLite tool.
    with closing(sqlite3.connect(package)) as db, db:
        db.execute("CREATE TABLE qgis_projects(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
        db.execute("INSERT INTO qgis_projects VALUES ('my map', '{}', x'504b030414')")
        db.execute("CREATE TABLE survey_log(day TEXT, grid_id TEXT, households INTEGER)")
        db.executemany("INSERT INTO survey_log VALUES (?, ?, ?)", [("2026-11-02", "A", 12), ("2026-11-03", "B", 7)])

    out, result = _rebalanced_by_cli(layout, package, tmp_path)
    kept = ("kept         schools, visit_notes, survey_log (added by hand); 1 QGIS style saved in the package "
            "(cells); 1 QGIS project saved in the package (my map)")
    assert kept in result.output
    assert {"schools", "visit_notes", "cells"} <= {name for name, _ in pyogrio.list_layers(out)}
    carried = gpd.read_file(out, layer="schools")
    assert carried[["name", "pupils"]].values.tolist() == [["North", 412], ["South", 380]]
    assert carried.crs == comm.crs and carried.geom_equals(schools.geometry).all()
    assert pyogrio.read_dataframe(out, layer="visit_notes")[["grid_id", "note"]].values.tolist() == \
        notes.values.tolist()
    after = pyogrio.read_dataframe(out, layer="layer_styles", read_geometry=False)
    cells = after[after["f_table_name"] == "cells"].set_index("styleName")
    assert sorted(cells.index) == ["gridkit", "mine"] and cells.loc["mine", "styleQML"] == "<qgis/>"
    assert cells.loc["mine", "useAsDefault"] and not cells.loc[STYLE_NAME, "useAsDefault"]
    assert set(after.loc[after["styleName"] == STYLE_NAME, "f_table_name"]) >= {"cells", "units", "micro_grids"}
    with closing(sqlite3.connect(out)) as db:
        assert db.execute("SELECT * FROM qgis_projects").fetchall() == [("my map", "{}", b"PK\x03\x04\x14")]
        assert db.execute("SELECT * FROM survey_log").fetchall() == [("2026-11-02", "A", 12), ("2026-11-03", "B", 7)]
    # `gridkit info` says what the package holds that a rebalance will carry.
    info = CliRunner().invoke(cli, ["info", str(out)])
    assert "\nadded        " + kept.split("kept         ", 1)[1] + "\n" in info.output
    assert gk.package.describe_package(out)["added_by_hand"] == {
        "layers": ["schools", "visit_notes"], "tables": ["qgis_projects", "survey_log"], "projects": ["my map"],
        "styles": ["cells"]}
    # Rebalanced again, they come along again, once each.
    again, result = _rebalanced_by_cli(layout, out, tmp_path)
    assert kept in result.output
    assert len(pyogrio.read_dataframe(again, layer="layer_styles", read_geometry=False)) == len(after)


#: A QGIS project as Project → Save To → GeoPackage saves it (the shapes QGIS 3.22
#: writes, cut down): each layer's file in its <datasource> and the layer tree, both
#: relative to the package's folder, and absolute in a print layout's locked layers.
QGIS_PROJECT = """<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis projectname="" version="3.22.16-Białowieża">
  <layer-tree-group>
    <layer-tree-layer id="cells_1" name="cells" providerKey="ogr" source="./layout.gpkg|layername=cells"/>
    <layer-tree-layer id="roads_1" name="roads" providerKey="ogr" source="../other/roads.gpkg|layername=roads"/>
    <layer-tree-layer id="wards_1" name="wards" providerKey="postgres" source="dbname='city' table=&quot;wards&quot;"/>
  </layer-tree-group>
  <projectlayers>
    <maplayer type="vector"><id>cells_1</id><datasource>./layout.gpkg|layername=cells</datasource><provider encoding="UTF-8">ogr</provider></maplayer>
    <maplayer type="vector"><id>roads_1</id><datasource>../other/roads.gpkg|layername=roads</datasource><provider encoding="UTF-8">ogr</provider></maplayer>
    <maplayer type="vector"><id>wards_1</id><datasource>dbname='city' table="wards"</datasource><provider>postgres</provider></maplayer>
  </projectlayers>
  <Layouts><Layout name="A4 survey"><LayoutItem><LayerSet>
    <Layer name="cells" provider="ogr" source="{package}|layername=cells">cells_1</Layer>
  </LayerSet></LayoutItem></Layout></Layouts>
  <properties><Paths><Absolute type="bool">false</Absolute></Paths></properties>
</qgis>
"""


def _qgz_hex(qgs):
    """A project's .qgs as ``qgis_projects.content`` holds it: zipped (a .qgz), hex."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("{6b302b7e-8531-4206-be6b-3c8941138670}.qgs", qgs.encode("utf-8"))
    return out.getvalue().hex()


def _qgs_of(content):
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(bytes.fromhex(content)))
    (name,) = archive.namelist()
    return archive.read(name).decode("utf-8")


def test_a_carried_qgis_project_reads_the_new_package(layout, tmp_path):
    """A QGIS project saved in the package read the old package after a rebalance
    into another file: opened from the new package, it showed (and edited) the old
    grids. Now its layers read the new package, a relative path to another file
    still finds that file from the new package's folder, and a database layer and
    the old package's own project are as they were."""
    import xml.etree.ElementTree as ET

    (tmp_path / "a").mkdir()
    package = _household_package(layout, tmp_path / "a")
    qgs = QGIS_PROJECT.replace("{package}", str(package))
    with closing(sqlite3.connect(package)) as db, db:
        db.execute("CREATE TABLE qgis_projects(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
        db.execute("INSERT INTO qgis_projects VALUES ('survey map', '{}', ?)", (_qgz_hex(qgs),))
    households = tmp_path / "blocks_2027.gpkg"
    _grown(layout[2]).to_file(households, layer="blocks")
    out = tmp_path / "b" / "2027" / "layout_2027.gpkg"  # another folder: every relative path moves
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(households),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(out)) as db:
        (content,) = db.execute("SELECT content FROM qgis_projects WHERE name = 'survey map'").fetchone()
    moved = ET.fromstring(_qgs_of(content))
    assert [(e.get("name"), e.get("source")) for e in moved.iter("layer-tree-layer")] == [
        ("cells", "./layout_2027.gpkg|layername=cells"), ("roads", "../../other/roads.gpkg|layername=roads"),
        ("wards", "dbname='city' table=\"wards\"")]
    assert [e.findtext("datasource") for e in moved.iter("maplayer")] == [
        "./layout_2027.gpkg|layername=cells", "../../other/roads.gpkg|layername=roads",
        "dbname='city' table=\"wards\""]
    assert [e.get("source") for e in moved.iter("Layer")] == [f"{out.resolve()}|layername=cells"]
    # The rest of the project as it was; the old package's project untouched.
    original = ET.fromstring(qgs)
    for before, after in zip(original.iter(), moved.iter(), strict=True):
        assert (before.tag, before.text, {k: v for k, v in before.attrib.items() if k != "source"}) == \
            (after.tag, after.text, {k: v for k, v in after.attrib.items() if k != "source"}) or \
            before.tag == "datasource"
    assert _qgs_of(content).startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis ")
    with closing(sqlite3.connect(package)) as db:
        assert _qgs_of(db.execute("SELECT content FROM qgis_projects").fetchone()[0]) == qgs
    # Beside the old package (same folder, another name): relative paths stay as they were.
    beside = gk.package.repoint_project(content, out, tmp_path / "a" / "now.gpkg")
    assert [e.get("source") for e in ET.fromstring(_qgs_of(beside)).iter("layer-tree-layer")][:2] == [
        "./now.gpkg|layername=cells", "../other/roads.gpkg|layername=roads"]
    # Written over the same path: the project is left byte for byte.
    assert gk.package.repoint_project(content, out, out) is content


def test_only_a_package_holds_what_a_household_layout_writes(layout, tmp_path):
    """The library wrote the cells alone to a .geojson and dropped the micro-grids,
    the metadata and what the user had added, without a word; now it refuses, names
    what would be lost, and writes nothing. The cells alone still go to any format."""
    made, comm, _ = layout
    package = _household_package(layout, tmp_path)
    schools = gpd.GeoDataFrame({"name": ["North"]}, geometry=[comm.geometry.values[0].centroid], crs=comm.crs)
    schools.to_file(package, layer="schools", engine="pyogrio")
    out = tmp_path / "grids.geojson"
    with pytest.raises(InputError) as error:
        gk.write_package(out, made.grids, comm, extra_layers={"micro_grids": made.micro, "household_rejects": None},
                         extra_metadata={"highest_issued": {}}, carry=added_by_hand(package))
    assert str(error.value) == (
        f"{out}: a .geojson file holds the cells alone, so micro_grids, metadata 'highest_issued', 'schools' "
        "(added by hand) would be lost; write a .gpkg (the grid package) and export the cells after if needed: "
        "gridkit export OUT.gpkg -o grids.geojson")
    assert not out.exists()
    gk.write_package(out, made.grids, comm, parameters={"band": [100, 150]})
    assert len(gpd.read_file(out)) == len(made.grids)


@pytest.fixture(scope="module")
def halves(samples):
    """Cincinnati as two communities (West 601, East 602, split at the middle of its
    extent), divided into 100–150 households with micro-grids of 20–50; and the two
    with their boundary moved 300 m east, as a planner would move it in the units
    layer: (layout, communities, moved communities, blocks)."""
    city = gk.read_vector(samples / "cincinnati_city.gpkg").to_crs(32616).geometry.union_all()
    x0, y0, x1, y1 = city.bounds
    mid = (x0 + x1) / 2
    two = gpd.GeoDataFrame({"code": ["990201900601", "990201900602"], "name": ["West", "East"]},
                           geometry=[city & shapely.box(x0, y0, mid, y1), city & shapely.box(mid, y0, x1, y1)],
                           crs=32616)
    comm = gk.unit_hierarchy(two, code_field="code", name_field="name", provisional=True)
    blocks = gk.read_vector(samples / "cincinnati_blocks.gpkg", layer="blocks")
    made = balanced_grid(comm, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                         split_polygons=True, micro=(20, 50), start_date="2026-01-01")
    bite = city & shapely.box(mid, y0, mid + 300, y1)
    moved = comm.assign(geometry=[comm.geometry[0] | bite, comm.geometry[1] - bite])
    return made, comm, moved, blocks


def test_a_community_boundary_moved_in_the_units_layer_is_followed(halves):
    """West takes a 300 m strip of East: East's grids are cut to it (kept when at
    least half of them stays), the strip joins West's grids beside it, and the
    recount divides again those it put out of the band. Before, the rebalance
    refused the layout ("the grids do not tile their communities")."""
    made, comm, moved, blocks = halves
    assert made.grids["community_code"].value_counts().to_dict() == {"990201900601": 72, "990201900602": 62}
    done = rebalance(made.grids, moved, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                     split_polygons=True, micro_grids=made.micro, micro=(20, 50), start_date=DAY,
                     sized_for=made.sized_for)
    grids, s = done.layout.grids, done.layout.summary
    followed = s["followed"]
    assert followed["communities"] == ["990201900601", "990201900602"]
    assert (len(followed["cut_ids"]), len(followed["ended_ids"])) == (10, 13)
    assert (len(s["ended_ids"]), len(s["new_ids"]), len(grids)) == (39, 38, 133)
    assert s["new_ids"][0] == "990201900601073" and s["new_ids"][-1] == "990201900602078"  # after 072 and 062
    assert not set(s["new_ids"]) & set(made.grids["grid_id"])
    assert (s["in_band_pct"], s["micro"]["in_band_pct"], s["households"]) == (100.0, 100.0, 16_766)
    assert check_partition(grids, moved).ok and check_micro_grids(done.layout.micro, grids).ok
    # The ended grids are kept as they were, the ones the strip cut too.
    was = made.grids.set_index("grid_id").loc[done.ended["grid_id"]]
    assert shapely.equals_exact(done.ended.geometry.values, was.geometry.values, tolerance=0).all()
    assert set(followed["ended_ids"]) <= set(done.ended["grid_id"])
    assert (done.ended["end_date"] == DAY).all() and done.ended["replaced_by"].str.len().gt(0).all()
    # A grid the move did not cut keeps its outline, traced again or not.
    kept = grids[grids["grid_id"].isin(made.grids["grid_id"]) & ~grids["grid_id"].isin(followed["cut_ids"])]
    assert len(kept) == 95
    before = made.grids.set_index("grid_id").loc[kept["grid_id"]]
    assert all(_same_outline(a, b) for a, b in zip(kept.geometry.values, before.geometry.values))


def test_a_moved_boundary_keeps_the_households_per_m2_the_blocks_were_cut_at(halves):
    """The lattice that cuts blocks is sized for a community's households over its
    area: West grown by the strip is sized for its count times its new area over
    the old (East's shrinks alike), so the blocks away from the move are cut, and
    their households shared, as they were. Sized for the count alone, 13 more of
    the grids the move did not cut changed their count (36, not 11, some by 18)
    and 3 micro-grids went out of their band."""
    made, comm, moved, blocks = halves
    done = rebalance(made.grids, moved, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                     split_polygons=True, micro_grids=made.micro, micro=(20, 50), start_date=DAY,
                     sized_for=made.sized_for)
    for code, old, new in zip(comm["community_code"], comm.geometry.values, moved.geometry.values):
        assert done.layout.sized_for[code] == pytest.approx(made.sized_for[code] * new.area / old.area, rel=1e-9)
    grids = done.layout.grids.set_index("grid_id")
    before = made.grids.set_index("grid_id")
    same = grids.index.intersection(before.index)
    assert int((grids.loc[same, "households"] != before.loc[same, "households"]).sum()) == 11
    assert done.layout.summary["micro"]["flagged"] == 0


def test_a_moved_boundary_is_refused_where_a_rebalance_cannot_follow_it(halves):
    """A recount only changes no grid, so it cannot cut them to the boundary: it says
    how. Land that touches none of its community's grids (East's grid handed to
    West as an exclave) is named, with where it lies and the fix."""
    made, comm, moved, blocks = halves
    kw = dict(min_households=100, max_households=150, count_field="HOUSEHOLDS", split_polygons=True)
    with pytest.raises(LayoutError, match=r"not --recount-only, redivide=True\) cuts the grids to a boundary moved"):
        rebalance(made.grids, moved, blocks, redivide=False, **kw)
    east = made.grids[made.grids["community_code"] == "990201900602"]
    far = east.geometry.values[np.argmax(east.geometry.centroid.x)]  # East's easternmost grid
    exclave = comm.assign(geometry=[comm.geometry[0] | far, comm.geometry[1] - far])
    with pytest.raises(InputError, match=r"^community 990201900601 now holds [\d,]+ m² around \(\d+, \d+\) that "
                                         r"touches none of its grids: draw a grid over that land in QGIS"):
        rebalance(made.grids, exclave, blocks, **kw)


def test_cli_check_names_the_fix_and_rebalance_follows_a_moved_boundary(halves, tmp_path):
    made, comm, moved, blocks = halves
    package = _household_package(halves, tmp_path)
    blocks.to_file(tmp_path / "blocks.gpkg", layer="blocks")
    units = gpd.read_file(package, layer="units")
    at = units["level"] == "community"
    units.loc[at, "geometry"] = moved.set_index("community_code").geometry.loc[units.loc[at, "code"]].to_numpy()
    pyogrio.write_dataframe(units, package, layer="units", driver="GPKG")  # as in QGIS
    checked = CliRunner().invoke(cli, ["check", str(package)])
    assert checked.exit_code == 1
    assert (f"  fix: cells of community 990201900602 lie beyond it now (a boundary moved in the units layer?): "
            f"`gridkit grid rebalance {package} --households FILE -o OUT.gpkg` cuts the grids to the communities "
            "and counts them again") in checked.output.splitlines()
    out = tmp_path / "now.gpkg"
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(tmp_path / "blocks.gpkg"),
                                      "-o", str(out), "--preview", str(tmp_path / "now.png")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == [
        "recounted    134 grids: 13 out of the band 100–150",
        "followed     the units layer: 2 communities moved (990201900601, 990201900602); 10 grids cut or grown to "
        "them, 13 ended (most of each beyond its community)",
        "changed      39 ended, 38 new (990201900601073 … 990201900602078); 95 kept with their IDs"]
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    assert len(gpd.read_file(out, layer="ended_grids")) == 39
    assert (tmp_path / "now.png").stat().st_size > 10_000


def _split_east(comm, part):
    """``comm`` with ``part`` of East made a community of its own in the units layer
    (990201900603, "East end"), as Split Features and a new code leave it."""
    return pd.concat([comm.assign(geometry=[comm.geometry[0], comm.geometry[1] - part]),
                      comm.iloc[[1]].assign(community_code="990201900603", community_name="East end",
                                            geometry=[part])], ignore_index=True)


def test_a_community_added_in_the_units_layer_takes_the_grids_that_lie_in_it(halves):
    """East's eastern half made a community of its own (603): the 9 grids whose
    larger part lies in it go over to it, cut to it, with its IDs (001–009), the
    smaller parts of grids there join them, and East keeps the rest; then all are
    recounted, 603's blocks cut at East's households per m². Three of 603's ten
    grids keep an old grid's outline; West is as it was. Before, the rebalance
    refused ("community 990201900603 holds no grid")."""
    made, comm, _, blocks = halves
    x0, y0, x1, y1 = comm.geometry[1].bounds
    split = _split_east(comm, comm.geometry[1] & shapely.box((x0 + x1) / 2, y0, x1, y1))
    done = rebalance(made.grids, split, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                     split_polygons=True, micro_grids=made.micro, micro=(20, 50), start_date=DAY,
                     sized_for=made.sized_for)
    grids, s = done.layout.grids, done.layout.summary
    followed = s["followed"]
    assert followed["communities"] == ["990201900602"]
    assert followed["added"] == {"990201900603": {"from": "990201900602",
                                                  "ids": [f"990201900603{k:03d}" for k in range(1, 10)]}}
    assert (len(followed["cut_ids"]), len(followed["ended_ids"])) == (3, 9)
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"]), len(grids)) == (6, 16, 17, 135)
    assert grids["community_code"].value_counts().to_dict() == {
        "990201900601": 72, "990201900602": 53, "990201900603": 10}
    assert (s["in_band_pct"], s["micro"]["in_band_pct"], s["households"]) == (100.0, 100.0, 16_766)
    assert check_partition(grids, split).ok and check_micro_grids(done.layout.micro, grids).ok
    end = grids[grids["community_code"] == "990201900603"]
    assert (end["community_name"] == "East end").all() and (end["start_date"] == DAY).all()
    was = made.grids.geometry.values
    assert sum(any(_same_outline(g, w) for w in was) for g in end.geometry.values) == 3
    west = made.grids[made.grids["community_code"] == "990201900601"].set_index("grid_id")
    now = grids.set_index("grid_id").loc[west.index]
    assert all(_same_outline(a, b) for a, b in zip(now.geometry.values, west.geometry.values))
    assert done.layout.sized_for["990201900603"] == pytest.approx(
        made.sized_for["990201900602"] * split.geometry[2].area / comm.geometry[1].area, rel=1e-9)


def test_a_community_smaller_than_a_grid_added_in_the_units_layer_is_one_grid_flagged(halves):
    """A 200 m square in the middle of East made a community: the piece of the grid
    it lies in is its one grid (the grid keeps its ID, holed), too light for the band
    and flagged with why, not refused or hidden."""
    made, comm, _, blocks = halves
    c = comm.geometry[1].centroid
    split = _split_east(comm, shapely.box(c.x - 100, c.y - 100, c.x + 100, c.y + 100))
    done = rebalance(made.grids, split, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                     split_polygons=True, start_date=DAY, sized_for=made.sized_for)
    grids, s = done.layout.grids, done.layout.summary
    assert s["followed"]["added"] == {"990201900603": {"from": "990201900602", "ids": ["990201900603001"]}}
    assert (len(s["followed"]["cut_ids"]), s["followed"]["ended_ids"], s["flagged"]) == (1, [], 1)
    one = grids[grids["community_code"] == "990201900603"].iloc[0]
    assert (one["grid_id"], one["households"], one["area_m2"], one["flag"]) == ("990201900603001", 29, 40_000.0,
                                                                             "too_few")
    assert check_partition(grids, split).ok


def test_grids_cut_along_a_new_boundary_overlap_by_no_sliver(halves):
    """East's eastern tenth made a community: East's grid 037, cut to East, overlapped
    its neighbour 028, which the cut did not touch, by 5·10⁻⁶ m² (the overlay's
    rounding), and the partition check refused the rebalance. The overlap is taken
    from the cut grid: 028 keeps its outline, and the grids tile the communities."""
    from gridkit.recut import follow

    made, comm, _, _ = halves
    x0, y0, x1, y1 = comm.geometry[1].bounds
    split = _split_east(comm, comm.geometry[1] & shapely.box(x0 + 0.9 * (x1 - x0), y0, x1, y1))
    grids, _, followed = follow(made.grids, split)
    assert followed["cut_ids"] == ["990201900602021", "990201900602037"]
    same = made.grids.set_index("grid_id").geometry["990201900602028"]
    assert shapely.equals_exact(grids.set_index("grid_id").geometry["990201900602028"], same, tolerance=0)
    report = check_partition(grids, split)
    assert report.ok and report.max_overlap_m2 < 1e-9


def test_cli_rebalance_divides_a_community_split_in_the_units_layer(halves, tmp_path):
    """As a planner does it in QGIS: East's eastern half cut off with Split Features,
    given its own code and name; `check` names the fix, `grid rebalance` says what it
    added, and `check` passes on what it wrote."""
    made, comm, _, blocks = halves
    package = _household_package(halves, tmp_path)
    blocks.to_file(tmp_path / "blocks.gpkg", layer="blocks")
    units = gpd.read_file(package, layer="units")
    east = units["code"] == "990201900602"
    x0, y0, x1, y1 = units.geometry[east].iat[0].bounds
    part = units.geometry[east].iat[0] & shapely.box((x0 + x1) / 2, y0, x1, y1)
    units.loc[east, "geometry"] = units.geometry[east].iat[0] - part
    units = pd.concat([units, units[east].assign(code="990201900603", name="East end", geometry=[part])],
                      ignore_index=True)
    pyogrio.write_dataframe(units, package, layer="units", driver="GPKG")
    checked = CliRunner().invoke(cli, ["check", str(package)])
    assert checked.exit_code == 1 and "fix: cells of community 990201900602 lie beyond it now" in checked.output
    out = tmp_path / "now.gpkg"
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(tmp_path / "blocks.gpkg"),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:4] == [
        "followed     the units layer: 1 community moved (990201900602); 3 grids cut or grown to it, 9 ended "
        "(most of each beyond its community)",
        "added        community 990201900603 (new in the units layer, most of it 990201900602's before): 9 grids "
        "cut from the grids in it, with its IDs",
        "changed      16 ended, 17 new (990201900602063 … 990201900603016); 118 kept with their IDs"]
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    held = gpd.read_file(out, layer="cells")
    assert sorted(held.loc[held["community_code"] == "990201900603", "community_name"].unique()) == ["East end"]


def test_the_grids_of_a_merged_community_go_over_to_the_one_they_lie_in(halves, tmp_path):
    """East merged into West in the units layer (its row deleted, West drawn over the
    city): East's 62 grids go over to West as they are, with West's next IDs
    (073–134), and are recounted. West's blocks are cut at West's households per m²
    (sized for its count times its new area over its old), East's now too, and the
    blocks the old boundary split are whole: 6 grids come out of the band and are
    divided again with those around them. Before, the
    rebalance refused ("cells of communities 990201900602, which the units layer
    does not hold")."""
    made, comm, _, blocks = halves
    package = _household_package(halves, tmp_path)
    blocks.to_file(tmp_path / "blocks.gpkg", layer="blocks")
    units = gpd.read_file(package, layer="units")
    units.loc[units["code"] == "990201900601", "geometry"] = shapely.union_all(comm.geometry.values)
    pyogrio.write_dataframe(units[units["code"] != "990201900602"], package, layer="units", driver="GPKG")
    checked = CliRunner().invoke(cli, ["check", str(package)])
    assert (f"  fix: the cells of community 990201900602, which the units layer does not hold, each lie in one "
            f"community of it (merged into another?): `gridkit grid rebalance {package} --households FILE -o "
            "OUT.gpkg` gives them to it, with its next IDs, and counts them again") in checked.output.splitlines()
    out = tmp_path / "now.gpkg"
    result = CliRunner().invoke(cli, ["grid", "rebalance", str(package), "--households", str(tmp_path / "blocks.gpkg"),
                                      "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.output)
    over = s["followed"]["over"]
    east = made.grids["grid_id"][made.grids["community_code"] == "990201900602"]
    assert sorted(over) == sorted(east) and sorted(over.values()) == [f"990201900601{k:03d}" for k in range(73, 135)]
    assert (s["out_before"], len(s["ended_ids"]), len(s["new_ids"]), s["grids"], s["in_band_pct"]) == (
        6, 71, 71, 134, 100.0)
    assert sorted(s["ended_ids"])[-62:] == sorted(east)  # every East ID ends; 9 of West's too
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    now = gpd.read_file(out, layer="cells").set_index("grid_id")
    was = made.grids.set_index("grid_id")
    stayed = {old: new for old, new in over.items() if new in now.index}
    assert len(stayed) == 55
    assert all(_same_outline(now.geometry[new], was.geometry[old]) for old, new in stayed.items())
    assert (now["community_code"] == "990201900601").all()


def test_unit_cells_rebalanced_in_a_community_too_light_for_the_band_make_one_grid_without_a_search(monkeypatch):
    """A unit grid's 100 cells of 4 ha, 60 households in all, rebalanced into grids of
    100–150: every cell is out of the band, and so is any grid there (too_few). The
    community becomes one grid, as `grid households` makes it, without the repairs
    and proofs: on Dongcheng's 4,278 unit cells and the 250 sample reports as
    households, those took 50 s (a proof search per cell with households) to come
    to the same 8 grids."""
    import gridkit.households as households
    import gridkit.rebalance as rebalance_module

    def refuse(*args, **kwargs):
        raise AssertionError("searched")

    monkeypatch.setattr(rebalance_module, "_redivided", refuse)
    monkeypatch.setattr(households, "_cannot_cover", refuse)
    comm = community_frame([shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)])
    cells = gk.unit_grid(comm, cell_area=40_000.0)
    homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy(X0 + 10 + 33 * np.arange(60), Y0 + 10 + 33 * np.arange(60)),
                             crs=cells.crs)
    done = rebalance(cells, comm, homes, min_households=100, max_households=150, start_date=DAY)
    grids = done.layout.grids
    assert len(cells) == 100 and len(done.ended) == 100
    assert grids[["households", "flag"]].values.tolist() == [[60, "too_few"]]
    assert shapely.equals(grids.geometry.iloc[0].normalize(), shapely.union_all(cells.geometry.values).normalize())
    assert not check_partition(grids, comm).problems


def test_unit_cells_all_out_of_the_band_are_divided_anew_as_grid_households_divides_them(monkeypatch):
    """A unit grid's 100 cells of 4 ha with 1,000 households, about 10 a cell,
    rebalanced into grids of 100–150: every cell is out of the band, so no grid can
    keep its ID, and the community is divided anew by the divider `grid households`
    uses, not repaired cell by cell. The repairs and chains made 9 grids (Polsby–
    Popper 0.646); on Dongcheng's 4,278 cells with 20,000 households they took 4.6
    s to make 175 grids (0.672) where the divider takes 1.7 s to make 158 (0.712)."""
    import gridkit.rebalance as rebalance_module

    def refuse(*args, **kwargs):
        raise AssertionError("repaired")

    monkeypatch.setattr(rebalance_module, "_redivided", refuse)
    comm = community_frame([shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)])
    cells = gk.unit_grid(comm, cell_area=40_000.0)
    rng = np.random.default_rng(7)
    homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy(X0 + rng.uniform(0, 2000, 1000),
                                                         Y0 + rng.uniform(0, 2000, 1000)), crs=cells.crs)
    done = rebalance(cells, comm, homes, min_households=100, max_households=150, start_date=DAY)
    grids = done.layout.grids
    assert len(cells) == 100 and len(done.ended) == 100
    assert sorted(grids["households"].tolist()) == [110, 118, 119, 121, 123, 129, 131, 149]
    assert (grids["flag"] == "").all() and grids["polsby_popper"].mean() > 0.75
    assert not check_partition(grids, comm).problems


def test_the_quick_growth_proves_an_atom_unplaceable_when_its_whole_area_is_too_light():
    """The greedy growth takes every atom it meets (none skipped for the upper bound):
    the atom's whole connected area is below the band, which proves it unplaceable
    without the search; an atom skipped proves nothing."""
    from gridkit.households import Band, _grows_into_band

    from .test_households import _strip_graph

    band = Band(100, 150)
    assert _grows_into_band(_strip_graph([40, 0, 30, 20]), 0, set(range(4)), band, whole=True) == (False, True)
    assert _grows_into_band(_strip_graph([40, 0, 30, 20]), 0, {0, 1, 2}, band, whole=True) == (False, True)
    assert _grows_into_band(_strip_graph([40, 0, 120, 20]), 0, set(range(4)), band, whole=True) == (False, False)
    assert _grows_into_band(_strip_graph([40, 0, 70]), 0, set(range(3)), band, whole=True) == (True, False)


def test_rebalance_and_balanced_grid_name_a_frame_they_cannot_use(layout):
    """A list for the grids or the households, or micro-grids without micro_id,
    were AttributeErrors ('list' object has no attribute 'crs') or KeyErrors."""
    made, comm, blocks = layout
    with pytest.raises(gk.InputError, match=r"^the grids are a list, not a GeoDataFrame; read them with "
                                            r"gridkit\.read_package\(\)$"):
        rebalance(list(made.grids.geometry), comm, blocks, min_households=100, max_households=150)
    with pytest.raises(gk.InputError, match=r"^the micro-grids have no column 'micro_id'"):
        rebalance(made.grids, comm, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                  micro_grids=made.micro.drop(columns="micro_id"), micro=(20, 50))
    with pytest.raises(gk.InputError, match=r"^the households are a list, not a GeoDataFrame; read them with "
                                            r"gridkit\.read_vector\(path\)$"):
        balanced_grid(comm, list(blocks.geometry), min_households=100, max_households=150)
