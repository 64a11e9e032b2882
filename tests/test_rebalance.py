"""Rebalancing a household layout as households change: gridkit.rebalance and
`gridkit grid rebalance`, on the shipped Cincinnati layout (134 grids of 100–150
households, micro-grids of 20–50, as the demo makes it)."""

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit.errors import InputError, LayoutError
from gridkit.households import balanced_grid
from gridkit.rebalance import communities_of, rebalance
from gridkit_cli.main import cli

GROWN = 207  # a block of 60 households, grown by 400 (a new estate)
DAY = "2027-03-01"


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
                     start_date=DAY, **kw)


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
    assert s["out_before"] == 2  # the grown block's grid, and one its re-cut block pieces left light
    assert len(done.ended) == 13
    assert s["new_ids"] == [f"990201900600{k}" for k in range(135, 149)]  # after the highest, 134
    assert len(grids) == 134 - 13 + 14 and grids["in_band"].all()
    assert grids["households"].sum() == 16_766 + 400
    # Kept grids: their IDs, start dates and outlines; new ones start today.
    kept = grids[~grids["grid_id"].isin(s["new_ids"])]
    old = made.grids.set_index("grid_id")
    assert set(kept["grid_id"]) == set(old.index) - set(done.ended["grid_id"])
    assert (kept["start_date"] == "2026-01-01").all()
    assert all(_same_outline(g, old.geometry[i]) for i, g in zip(kept["grid_id"], kept.geometry.values))
    assert (grids.loc[grids["grid_id"].isin(s["new_ids"]), "start_date"] == DAY).all()
    # Ended grids, as they were: the new ones cover exactly what they covered.
    assert (done.ended["end_date"] == DAY).all()
    assert set(", ".join(done.ended["replaced_by"]).split(", ")) == set(s["new_ids"])
    new = grids[grids["grid_id"].isin(s["new_ids"])]
    assert _same_outline(shapely.union_all(done.ended.geometry.values), shapely.union_all(new.geometry.values))
    gk.assert_partition(grids, comm)
    gk.assert_partition(done.layout.micro, grids, unit_key="grid_id", id_field="micro_id")
    assert done.layout.micro["households"].sum() == 16_766 + 400
    assert set(done.ended_micro["grid_id"]) == set(done.ended["grid_id"])


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
    assert len(out) == 2 and sorted(out["flag"]) == ["heavy", "light"]
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


def test_bad_layouts_are_refused(layout):
    made, comm, blocks = layout
    twice = made.grids.copy()
    twice.loc[twice.index[1], "grid_id"] = twice["grid_id"].iat[0]
    with pytest.raises(InputError, match="repeat IDs.*990201900600001"):
        rebalance(twice, comm, blocks, min_households=100, max_households=150)
    wrong = made.grids.copy()
    wrong.loc[wrong.index[0], "grid_id"] = "990201900600000"
    with pytest.raises(InputError, match="990201900600000 are not their community's code"):
        rebalance(wrong, comm, blocks, min_households=100, max_households=150)
    with pytest.raises(LayoutError, match="do not tile their communities.*gridkit check --problems"):
        rebalance(made.grids.iloc[1:], comm, blocks, min_households=100, max_households=150)
    away = blocks.copy()
    away["geometry"] = away.geometry.translate(50_000, 0)
    with pytest.raises(InputError, match="none of the 457 household features lies in a grid"):
        rebalance(made.grids, comm, away, min_households=100, max_households=150, count_field="HOUSEHOLDS")


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
    assert "recounted    134 grids: 2 out of the band 100–150" in result.output
    assert "changed      13 ended, 14 new (990201900600135 … 990201900600148); 121 kept with their IDs" in result.output
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"cells", "units", "micro_grids", "ended_grids", "ended_micro_grids"} <= layers
    assert len(gpd.read_file(out, layer="ended_grids")) == 13
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
