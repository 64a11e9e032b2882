"""gridkit grid recut: a unit grid's cells cut again after a community boundary moved."""

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit.recut import recut
from gridkit_cli.main import cli

from .conftest import community_frame

X0, Y0 = 500_000.0, 4_400_000.0  # EPSG:4548: two communities of 3 × 2 cells of 100 m


def _layout(boundary=X0 + 300):
    """The communities with their shared boundary at x = ``boundary``."""
    return community_frame([shapely.box(X0, Y0, boundary, Y0 + 200), shapely.box(boundary, Y0, X0 + 600, Y0 + 200)])


@pytest.fixture()
def cells():
    return gk.unit_grid(_layout(), start_date="2026-01-01")


def _unchanged(cells, done, ids):
    """The cells ``ids`` are in ``done`` exactly as they were."""
    before = cells.set_index("grid_id").loc[ids]
    after = done.cells.set_index("grid_id").loc[ids]
    return bool(shapely.equals_exact(before.geometry.values, after.geometry.values, tolerance=0).all()
                and before.drop(columns="geometry").equals(after.drop(columns="geometry")))


def test_a_boundary_moved_by_a_whole_column_ends_its_cells_and_numbers_new_ones(cells):
    """The boundary moved 100 m east: 002's west column (001, 004) lies in 001 now.
    They end, replaced by 001's new 007 (north) and 008 (south), numbered after 006;
    every other cell is as it was, and the cells tile the communities."""
    moved = _layout(X0 + 400)
    done = recut(cells, moved, start_date="2027-01-01")
    assert done.summary == {"communities": 2, "cut_ids": [], "ended_ids": ["110101001002001", "110101001002004"],
                            "new_ids": ["110101001001007", "110101001001008"], "merged": 0, "over": {}}
    assert done.ended[["grid_id", "end_date", "replaced_by"]].values.tolist() == [
        ["110101001002001", "2027-01-01", "110101001001007"], ["110101001002004", "2027-01-01", "110101001001008"]]
    new = done.cells.set_index("grid_id").loc[["110101001001007", "110101001001008"]]
    assert shapely.equals_exact(new.geometry.values, [shapely.box(X0 + 300, Y0 + 100, X0 + 400, Y0 + 200),
                                                      shapely.box(X0 + 300, Y0, X0 + 400, Y0 + 100)],
                                tolerance=1e-6).all()
    assert new[["sequence", "community_name", "area_m2", "start_date"]].values.tolist() == [
        [7, "c0", 10_000.0, "2027-01-01"], [8, "c0", 10_000.0, "2027-01-01"]]
    assert _unchanged(cells, done, [g for g in cells["grid_id"] if g not in done.summary["ended_ids"]])
    assert gk.check_partition(done.cells, moved).ok
    assert done.issued == {"110101001001": 8, "110101001002": 6}


def test_a_strip_below_the_sliver_size_widens_the_cells_beside_it(cells):
    """Moved 20 m east, 001 gains a strip of 20 × 200 m: its two pieces (2,000 m², below
    0.3 × 10,000) join 003 and 006, and 002's 001 and 004, cut to 8,000 m², keep their
    IDs (more than half of each is left). No cell ends, none is new. Moved back 10 m
    west of the old line, the 10 m strip left joins 002's cells beside it."""
    done = recut(cells, _layout(X0 + 320), start_date="2027-01-01")
    assert done.summary == {"communities": 2, "cut_ids": ["110101001001003", "110101001001006", "110101001002001",
                                                          "110101001002004"],
                            "ended_ids": [], "new_ids": [], "merged": 2, "over": {}}
    areas = done.cells.set_index("grid_id")["area_m2"]
    assert areas[done.summary["cut_ids"]].tolist() == [12_000.0, 12_000.0, 8_000.0, 8_000.0]
    assert _unchanged(cells, done, [g for g in cells["grid_id"] if g not in done.summary["cut_ids"]])
    assert len(done.ended) == 0 and gk.check_partition(done.cells, _layout(X0 + 320)).ok
    back = recut(cells, _layout(X0 + 290), start_date="2027-01-01")
    areas = back.cells.set_index("grid_id")["area_m2"]
    assert areas[back.summary["cut_ids"]].tolist() == [9_000.0, 9_000.0, 11_000.0, 11_000.0]


def test_communities_whose_cells_tile_them_are_left_as_they_were(cells):
    done = recut(cells, _layout(), start_date="2027-01-01")
    assert done.summary["communities"] == 0 and done.cells is cells and len(done.ended) == 0


def test_a_barrier_keeps_a_strip_from_the_cell_across_it(cells):
    """A road along the old boundary (x + 300): the 20 m strip 001 gains east of it
    cannot join 003 or 006 across the road. It is a street block smaller than a cell,
    which `grid units` makes one cell: a new one, small as it is."""
    road = gpd.GeoSeries([shapely.LineString([(X0 + 300, Y0 - 50), (X0 + 300, Y0 + 250)])], crs=4548)
    done = recut(cells, _layout(X0 + 320), barriers=road, start_date="2027-01-01")
    assert done.summary["new_ids"] == ["110101001001007"] and done.summary["merged"] == 0
    areas = done.cells.set_index("grid_id")["area_m2"]
    assert areas[["110101001001003", "110101001001006", "110101001001007"]].tolist() == [10_000.0, 10_000.0, 4_000.0]
    assert gk.check_partition(done.cells, _layout(X0 + 320)).ok


def _package_with_lamps(tmp_path, cells):
    """The layout as a grid package with two lamps in the catalogue: one in 002's
    cell 001 (x + 350), one in 002's cell 005 (x + 450)."""
    from gridkit.catalogue import import_components, write_catalogue
    from gridkit.locator import Locator

    package = gk.write_package(tmp_path / "grid.gpkg", cells, _layout())
    lamps = gpd.GeoDataFrame({"GLBJBSM": ["11010101037000001", "11010101037000002"]},
                             geometry=[shapely.Point(X0 + 350, Y0 + 150), shapely.Point(X0 + 450, Y0 + 50)],
                             crs=4548).to_crs(4326)
    lamps.to_file(tmp_path / "lamps.geojson")
    write_catalogue(package, import_components(tmp_path / "lamps.geojson", Locator.from_package(package),
                                               today="20260101").catalogue)
    return package


def _move_boundary(package, x):
    """The boundary between the communities moved to ``x`` in the units layer, as in QGIS."""
    units = gpd.read_file(package, layer="units")
    moved = _layout(x).set_index("community_code").geometry
    at = units["level"] == "community"
    units.loc[at, "geometry"] = moved.loc[units.loc[at, "code"]].to_numpy()
    pyogrio.write_dataframe(units, package, layer="units", driver="GPKG")


def test_cli_recut_ends_cells_moves_components_and_issues_no_id_twice(tmp_path, cells):
    from gridkit.catalogue import read_catalogue

    package = _package_with_lamps(tmp_path, cells)
    _move_boundary(package, X0 + 400)
    checked = CliRunner().invoke(cli, ["check", str(package)])
    assert checked.exit_code == 1
    assert (f"  fix: cells of community 110101001002 lie beyond it now (a boundary moved in the units layer?): "
            f"`gridkit grid recut {package} -o OUT.gpkg` cuts the cells to the communities and divides the land "
            "they gained") in checked.output.splitlines()
    out = tmp_path / "recut.gpkg"
    args = ["grid", "recut", str(package), "-o", str(out), "--date", "2027-01-01", "--preview", str(tmp_path / "r.png")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:4] == [
        "recut        2 of 2 communities whose cells no longer tiled them",
        "changed      2 ended, 2 new (110101001001007 … 110101001001008), 0 cut; 10 kept as they were",
        "merges       0 new piece(s) below the sliver size joined the cell beside them",
        "components   2 carried over (layer components); 1 now in a new grid (SZDYWGBSM)"]
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    catalogue = read_catalogue(out)
    assert catalogue[["SZDYWGBSM", "SZSQDM", "SZSQMC", "BGRQ"]].values.tolist() == [
        ["110101001001007", "110101001001", "c0", "20270101"], ["110101001002005", "110101001002", "c1", None]]
    ended = gpd.read_file(out, layer="ended_grids")
    assert ended[["grid_id", "end_date", "replaced_by"]].values.tolist() == [
        ["110101001002001", "2027-01-01", "110101001001007"], ["110101001002004", "2027-01-01", "110101001001008"]]
    assert json.loads(gk.read_package(out)[2]["highest_issued"]) == {"110101001001": 8, "110101001002": 6}
    assert (tmp_path / "r.png").stat().st_size > 10_000
    # The boundary moved back: 001's new cells end, and 002 takes new IDs, never its ended 001 and 004.
    _move_boundary(out, X0 + 300)
    again = CliRunner().invoke(cli, ["grid", "recut", str(out), "-o", str(tmp_path / "back.gpkg"), "--date",
                                     "2027-06-01"])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[1] == ("changed      2 ended, 2 new (110101001002007 … 110101001002008), 0 cut; "
                                            "10 kept as they were")
    assert gpd.read_file(tmp_path / "back.gpkg", layer="ended_grids")["grid_id"].tolist() == [
        "110101001002001", "110101001002004", "110101001001007", "110101001001008"]
    # Nothing moved: nothing changes. An existing output is not replaced without --overwrite.
    same = CliRunner().invoke(cli, ["grid", "recut", str(tmp_path / "back.gpkg"), "-o", str(tmp_path / "same.gpkg")])
    assert same.output.splitlines()[:2] == [
        "recut        0 of 2 communities whose cells no longer tiled them",
        "changed      0 ended, 0 new, 0 cut; 12 kept as they were"]
    before = out.read_bytes()
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2 and "exists" in refused.output and out.read_bytes() == before


def test_cli_recut_refuses_a_household_package(tmp_path, cells):
    from .conftest import micro_halves

    package = gk.write_package(tmp_path / "grid.gpkg", cells, _layout(),
                               extra_layers={"micro_grids": micro_halves(cells)})
    result = CliRunner().invoke(cli, ["grid", "recut", str(package), "-o", str(tmp_path / "out.gpkg")])
    assert result.exit_code == 1 and not (tmp_path / "out.gpkg").exists()
    assert result.output == (f"Error: {package} is a household layout: its grids follow its households, which recut "
                             "does not count; `grid rebalance` cuts its grids to a moved boundary and counts them "
                             "again (recut divides unit grids, from `grid units`)\n")


def test_cli_recut_on_cambridge_with_a_block_handed_to_the_next_community(tmp_path, samples):
    """Real boundaries and streets: North Cambridge (600) takes a bite of 150 m radius
    out of Cambridge Highlands (602) in the units layer. The recut grids are checked
    whole, and the communities nobody moved keep every cell as it was."""
    package = tmp_path / "cambridge.gpkg"
    made = CliRunner().invoke(cli, ["grid", "units", str(samples / "cambridge_neighborhoods.gpkg"), "--provisional",
                                    "--parent-code", "990101", "--name-field", "NAME", "--barriers",
                                    str(samples / "cambridge_centerlines.gpkg"), "-o", str(package)])
    assert made.exit_code == 0, made.output
    units = gpd.read_file(package, layer="units").set_index("code")
    north, highlands = units.geometry["990101900600"], units.geometry["990101900602"]
    bite = highlands.intersection(north.intersection(highlands).centroid.buffer(150))
    units.loc["990101900600", "geometry"] = north.union(bite)
    units.loc["990101900602", "geometry"] = highlands.difference(bite)
    pyogrio.write_dataframe(units.reset_index(), package, layer="units", driver="GPKG")
    out = tmp_path / "recut.gpkg"
    result = CliRunner().invoke(cli, ["grid", "recut", str(package), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.output)
    assert (s["communities"], len(s["ended_ids"]), len(s["new_ids"]), len(s["cut_ids"]), s["merged"]) == (2, 5, 6, 7, 6)
    assert {i[:12] for i in s["new_ids"]} == {"990101900600", "990101900602"}
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    before, after = (gpd.read_file(p, layer="cells") for p in (package, out))
    others = ~before["community_code"].isin(["990101900600", "990101900602"])
    assert before[others].reset_index(drop=True).geom_equals_exact(
        after[~after["community_code"].isin(["990101900600", "990101900602"])].reset_index(drop=True),
        tolerance=0).all()


@pytest.fixture(scope="module")
def cambridge(samples):
    """Cambridge's unit grid along its street centrelines, as `grid units` makes it:
    (cells, communities, barriers)."""
    hoods = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    comm = gk.unit_hierarchy(hoods, provisional=True, parent_code="990101", name_field="NAME")
    streets = gk.read_vector(samples / "cambridge_centerlines.gpkg").to_crs(comm.crs)
    return gk.unit_grid(comm, barriers=streets, start_date="2026-01-01"), comm, streets


def _bite(comm, taker, giver, radius):
    """``giver`` loses to ``taker`` the land within ``radius`` m of their shared edge's middle."""
    at = comm.set_index("community_code").geometry
    middle = shapely.line_interpolate_point(shapely.line_merge(at[taker] & at[giver]), 0.5, normalized=True)
    bite = at[giver] & middle.buffer(radius)
    return comm.assign(geometry=[g | bite if c == taker else g - bite if c == giver else g
                                 for c, g in zip(comm["community_code"], comm.geometry.values)])


def _split(comm, code):
    """The eastern half of ``code``'s extent made a community of its own (990101900699)."""
    at = comm.set_index("community_code").geometry
    x0, y0, x1, y1 = at[code].bounds
    part = at[code] & shapely.box((x0 + x1) / 2, y0, x1, y1)
    return pd.concat([comm.assign(geometry=[g - part if c == code else g
                                            for c, g in zip(comm["community_code"], comm.geometry.values)]),
                      comm[comm["community_code"] == code].assign(community_code="990101900699", geometry=[part])],
                     ignore_index=True)


@pytest.mark.parametrize("edit, new", [
    # A bite leaves a gap with a spike: street_blocks dropped the face GEOS put its
    # interior point on the boundary of.
    (lambda comm: _bite(comm, "990101900606", "990101900610", 150), 7),
    # GEOS's floating overlay put a cell of 610 wholly inside 610 still (10⁻¹⁰ m² of it
    # in the bite that took it): done again snap-rounded.
    (lambda comm: _bite(comm, "990101900611", "990101900612", 150), 3),
    # A sliver taken from a cut cell left it a polygon and a line (ca3a031).
    (lambda comm: _bite(comm, "990101900607", "990101900610", 150), 8),
    (lambda comm: _split(comm, "990101900601"), 53),  # a spiked face, as the first
    (lambda comm: _split(comm, "990101900606"), 112),  # the split 7 µm beside a cell's edge
    (lambda comm: _split(comm, "990101900612"), 89),  # the overlay, as the second
], ids=["bite 610 spike", "bite 612 overlay", "bite 610 sliver", "split 601", "split 606 near an edge",
        "split 612 overlay"])
def test_recut_follows_cambridge_edits_that_broke_it(cambridge, edit, new):
    """Five of 49 bites and splits of Cambridge's communities (a sweep over its
    neighbours and halves) broke the partition (recut refused: "please report it"),
    and one more once cut grids were made disjoint (ca3a031). Each is cut and divided
    now, and the grids tile the communities."""
    cells, comm, streets = cambridge
    moved = edit(comm)
    done = recut(cells, moved, barriers=streets, start_date="2027-01-01")
    assert len(done.summary["new_ids"]) == new
    report = gk.check_partition(done.cells, moved)
    assert report.ok, report.problems[:3]


def test_recut_of_an_h3_grid_covers_the_land_left_between_hexagons(dongcheng):
    """Dongcheng's H3 grid, 601's land within 37 m of 600 handed to it: what 601 kept
    of its cut hexagons leaves strips, one inside a single cell, which H3's overlap
    mode missed (7 of 60 such edits were refused: "please report it")."""
    cells = gk.unit_grid(dongcheng, shape="h3", start_date="2026-01-01")
    at = dongcheng.set_index("community_code").geometry
    strip = at["110101900601"] & at["110101900600"].buffer(37)
    moved = dongcheng.assign(geometry=[g | strip if c == "110101900600" else g - strip if c == "110101900601" else g
                                       for c, g in zip(dongcheng["community_code"], dongcheng.geometry.values)])
    done = recut(cells, moved, shape="h3", start_date="2027-01-01")
    assert (len(done.summary["new_ids"]), len(done.ended), len(done.cells)) == (47, 22, 4136)
    report = gk.check_partition(done.cells, moved)
    assert report.ok, report.problems[:3]


def test_a_merge_the_3_digit_sequence_cannot_number_names_the_fix():
    """Two communities of 500 cells merged: the one left has issued 500 IDs and
    can give 499 more. A sweep merging Putuo's communities into their neighbours hit
    it 13 times, with only "its 3-digit sequence is used up (999 issued)"."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 2000, Y0 + 2500),
                            shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 2500)])
    cells = gk.unit_grid(comm, start_date="2026-01-01")
    merged = comm.iloc[[0]].assign(geometry=[shapely.box(X0, Y0, X0 + 4000, Y0 + 2500)])
    with pytest.raises(gk.InputError) as error:
        recut(cells, merged)
    assert str(error.value) == (
        "community 110101001001 needs 500 new grid_ids, but its 3-digit sequence has 499 left (500 issued; no ID is "
        "given twice, ended ones included): a community numbers at most 999 cells or grids in its life; split it in "
        "two in the units layer (two community codes), or grid it again with larger cells or grids")


def test_cli_recut_divides_a_community_added_in_the_units_layer(tmp_path, cells):
    """Community 002 split in two in the units layer (Split Features, the east half
    given the new code 003 and the name c2): 002's cells across the line keep their
    western half, those beyond it end, and 003 is divided anew, its names, street
    and county from the units layer. Before, recut refused it: "communities
    110101001003 hold no grid"."""
    package = gk.write_package(tmp_path / "grid.gpkg", cells, _layout())
    units = gpd.read_file(package, layer="units")
    at = units.index[units["code"] == "110101001002"][0]
    added = units.loc[[at]].assign(code="110101001003", name="c2",
                                   geometry=[shapely.box(X0 + 450, Y0, X0 + 600, Y0 + 200)])
    units.loc[at, "geometry"] = shapely.box(X0 + 300, Y0, X0 + 450, Y0 + 200)
    pyogrio.write_dataframe(gpd.GeoDataFrame(pd.concat([units, added], ignore_index=True), crs=units.crs),
                            package, layer="units", driver="GPKG")
    checked = CliRunner().invoke(cli, ["check", str(package)])
    assert "  unit 110101001003 has no cells" in checked.output.splitlines()
    assert f"`gridkit grid recut {package} -o OUT.gpkg`" in checked.output
    out = tmp_path / "recut.gpkg"
    result = CliRunner().invoke(cli, ["grid", "recut", str(package), "-o", str(out), "--date", "2027-01-01"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "recut        2 of 3 communities whose cells no longer tiled them",
        "changed      2 ended, 4 new (110101001003001 … 110101001003004), 2 cut; 8 kept as they were"]
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    now = gpd.read_file(out, layer="cells")
    new = now[now["community_code"] == "110101001003"]
    columns = ["grid_id", "community_name", "street_code", "county_code", "provisional", "area_m2"]
    assert new[columns].values.tolist() == [
        ["110101001003001", "c2", "110101001", "110101", False, 5000.0],
        ["110101001003002", "c2", "110101001", "110101", False, 10000.0],
        ["110101001003003", "c2", "110101001", "110101", False, 5000.0],
        ["110101001003004", "c2", "110101001", "110101", False, 10000.0]]
    assert now.loc[now["grid_id"].isin(["110101001002002", "110101001002005"]), "area_m2"].tolist() == [5000.0] * 2
    assert gpd.read_file(out, layer="ended_grids")["grid_id"].tolist() == ["110101001002003", "110101001002006"]


def test_cli_recut_gives_the_cells_of_a_merged_community_to_the_one_they_lie_in(tmp_path, cells):
    """Community 002 merged into 001 in the units layer (its row deleted, 001 drawn
    over both): 002's six cells keep their outlines and go over to 001 with its next
    IDs, 007–012, north to south, then west to east. Before, recut refused: "cells
    of communities 110101001002, which the units layer does not hold". A community
    deleted by mistake, its land in no community now, is still refused."""
    package = gk.write_package(tmp_path / "grid.gpkg", cells, _layout())
    units = gpd.read_file(package, layer="units")
    units.loc[units["code"] == "110101001001", "geometry"] = shapely.box(X0, Y0, X0 + 600, Y0 + 200)
    pyogrio.write_dataframe(units[units["code"] != "110101001002"], package, layer="units", driver="GPKG")
    checked = CliRunner().invoke(cli, ["check", str(package)])
    assert checked.exit_code == 1 and (
        "  fix: the cells of community 110101001002, which the units layer does not hold, each lie in one community "
        f"of it (merged into another?): `gridkit grid recut {package} -o OUT.gpkg` gives them to it, with its next IDs"
    ) in checked.output.splitlines()
    out = tmp_path / "recut.gpkg"
    result = CliRunner().invoke(cli, ["grid", "recut", str(package), "-o", str(out), "--date", "2027-01-01"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:4] == [
        "changed      6 ended, 6 new (110101001001007 … 110101001001012), 0 cut; 6 kept as they were",
        "merges       0 new piece(s) below the sliver size joined the cell beside them",
        "given over   6 cells of 110101001002 (not in the units layer now) to the community each lies in, with its "
        "next IDs"]
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    before, now = gpd.read_file(package, layer="cells"), gpd.read_file(out, layer="cells")
    assert now["grid_id"].tolist() == [f"1101010010010{k:02d}" for k in range(1, 13)]
    assert (now["community_name"] == "c0").all()
    assert now.geometry.iloc[6:].reset_index(drop=True).geom_equals_exact(before.geometry.iloc[6:].reset_index(
        drop=True), tolerance=0).all()
    ended = gpd.read_file(out, layer="ended_grids")
    assert ended[["grid_id", "replaced_by"]].values.tolist() == [
        [f"1101010010020{k:02d}", f"1101010010010{k + 6:02d}"] for k in range(1, 7)]
    lost = tmp_path / "lost.gpkg"
    gk.write_package(lost, cells, _layout())
    units = gpd.read_file(lost, layer="units")
    pyogrio.write_dataframe(units[units["code"] != "110101001002"], lost, layer="units", driver="GPKG")
    assert "fix:" not in CliRunner().invoke(cli, ["check", str(lost)]).output  # restore the row, the problem says
    refused = CliRunner().invoke(cli, ["grid", "recut", str(lost), "-o", str(tmp_path / "x.gpkg")])
    assert refused.exit_code == 1 and not (tmp_path / "x.gpkg").exists()
    assert ("cells of communities 110101001002, which the units layer does not hold, lie in no one community of it "
            "(e.g. 110101001002001)") in refused.output


def test_a_cell_without_geometry_is_refused_by_row(cells):
    """Two cells whose polygons were deleted in QGIS: recut refused its own result
    as a fault to report ("cell … is empty (please report it with the package)";
    on Dongcheng's H3 cells a neighbour also came out "not a polygon"). They are
    named by row and ID before anything is cut, as locate names them."""
    cells.loc[[1, 4], "geometry"] = None
    with pytest.raises(gk.InputError, match=r"^2 of the cells have no geometry: row 2 \(cell 110101001001002\), "
                                            r"row 5 \(cell 110101001001005\); draw them again or delete them"):
        recut(cells, _layout(), start_date="2027-01-01")


def test_replaced_by_lists_the_grids_sharing_area_not_those_touching_an_edge_or_a_sliver():
    from gridkit.package import _replaced_by

    gone = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 2, 1), shapely.box(5, 5, 6, 6), shapely.box(2, 0, 3, 1)])
    now = gpd.GeoDataFrame({"grid_id": ["B", "A", "C", "D"]},
                           geometry=[shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1),
                                     shapely.box(1.9999999, 0, 2.5, 1)])
    # D overlaps the first by 1e-7 of its area (under a millionth: a sliver) and C only
    # touches it; the second is covered by none.
    assert _replaced_by(gone, now) == ["A, B", "", "C, D"]


def test_cells_and_communities_in_different_crss_or_not_polygons_are_refused_before_any_cut(cells):
    """Cells in degrees beside communities in metres: `follow` ended every grid and
    `recut` kept cells with no CRS, without a word; point cells were followed as if
    they were grids. Each is named now, as is a package's units layer given for the
    communities (a KeyError 'community_code')."""
    from gridkit.recut import follow

    comm = _layout()
    with pytest.raises(gk.InputError, match=r"^the grids' CRS is EPSG:4326, the communities' EPSG:4548: give both "
                                            r"in the communities' CRS \(grids\.to_crs\(communities\.crs\)"):
        follow(cells.to_crs(4326), comm)
    with pytest.raises(gk.InputError, match=r"^the cells' CRS is none, the communities' EPSG:4548"):
        recut(cells.set_crs(None, allow_override=True), comm)
    with pytest.raises(gk.InputError, match=r"^12 of the grids are no polygon: the first \(row 1\) is a Point; "
                                            r"give each its \(multi\)polygon"):
        follow(cells.assign(geometry=cells.centroid), comm)
    units = comm.rename(columns={"community_code": "code"})[["code", "geometry"]]
    with pytest.raises(gk.InputError, match=r"^the communities have no columns 'community_code', 'community_name'.*"
                                            r"their columns are: code; build them with gridkit\.unit_hierarchy\(\) "
                                            r"\(from a grid package's cells and units: gridkit\.rebalance\."
                                            r"communities_of\(cells, units\)\)$"):
        recut(cells, units)
    with pytest.raises(gk.InputError, match=r"^the cells are a list, not a GeoDataFrame; read them with "
                                            r"gridkit\.read_package\(\)$"):
        recut(list(cells.geometry), comm)
    with pytest.raises(gk.InputError, match=r"^cell_area must be a number of m² above 0 .*, not inf$"):
        recut(cells, comm, cell_area=float("inf"))


def test_a_community_no_grid_covers_is_land_left_not_a_traceback(cells):
    """Every grid of one community deleted (in QGIS, or a frame of some grids): the
    units layer's community then reads as one added, and cutting the old grids to it
    found none (ValueError: attempt to get argmax of an empty sequence). It has no
    grids now, and the rebalance's check of the layout refuses the land left."""
    from gridkit.recut import follow

    some = cells[cells["community_code"] == "110101001001"].reset_index(drop=True)
    now, ended, summary = follow(some, _layout())
    assert summary["added"] == {"110101001002": {"from": None, "ids": []}}
    assert sorted(now["grid_id"]) == sorted(some["grid_id"]) and len(ended) == 0


def test_communities_overrun_and_merged_refuse_cells_in_another_crs(cells):
    """Cells in degrees beside communities in metres: both said no community had
    moved ([]), without a word."""
    from gridkit.recut import communities_merged, communities_overrun

    moved = _layout(X0 + 200)
    assert communities_overrun(cells, moved) == ["110101001001"]
    for find in (communities_overrun, communities_merged):
        with pytest.raises(gk.InputError, match=r"^the cells' CRS is EPSG:4326, the communities' EPSG:4548"):
            find(cells.to_crs(4326), moved)
