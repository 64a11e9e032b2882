"""``gridkit check`` and ``check_package``: a package edited by hand, checked on disk."""

import json
import sqlite3
from contextlib import closing

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit.invariants import overlapping_pairs
from gridkit.locator import Locator
from gridkit_cli.main import cli

from .conftest import community_frame

X0, Y0 = 500_000.0, 4_400_000.0  # EPSG:4548


@pytest.fixture()
def package(tmp_path):
    """Two communities of 3 × 2 cells of 100 m, as a grid package."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200), shapely.box(X0 + 300, Y0, X0 + 600, Y0 + 200)])
    return gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)


def _edit(path, change):
    """Rewrite the package's cells as an editor would: read, change (in place, or
    returning the changed frame), save in place."""
    cells = gpd.read_file(path, layer="cells")
    changed = change(cells)
    cells = cells if changed is None else changed
    pyogrio.write_dataframe(cells, path, layer="cells", driver="GPKG")
    return cells


def _run(*args):
    return CliRunner().invoke(cli, ["check", *map(str, args)])


def test_a_fresh_package_checks_ok(package):
    result = _run(package)
    assert result.exit_code == 0, result.output
    assert result.output == ("grid.gpkg  cells: 12 cells in 2 communities: ok (largest overlap 0 m², "
                             "largest coverage error 0 of a community's area)\n")


def test_a_cell_of_two_parts_is_noted_not_failed(package):
    """Cells 001 and 003 (with 002 between them) merged into one, as QGIS's Merge
    Selected Features does: the partition holds, but the stray part is named."""
    def change(cells):
        ids = cells["grid_id"].tolist()
        first, third = ids.index("110101001001001"), ids.index("110101001001003")
        g = cells.geometry.values.copy()
        g[first] = shapely.union(g[first], g[third])
        cells.geometry = g
        return cells.drop(index=third)

    _edit(package, change)
    result = _run(package)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "  note: 1 cell(s) of several parts (110101001001001: 2 parts, 100 m apart): an island may be meant, a stray "
        "piece is not; look at them in QGIS"]


def test_gaps_overlaps_and_bad_ids_are_named_and_located(package, tmp_path):
    def change(cells):
        g = cells.geometry.values.copy()
        ids = cells["grid_id"].tolist()
        first, second = ids.index("110101001001001"), ids.index("110101001001002")
        # Cells run west → east from the north-west corner: 001 is X0..X0+100, Y0+100..Y0+200.
        g[first] = shapely.box(X0, Y0 + 100, X0 + 90, Y0 + 200)  # a 10 × 100 m gap at its east side
        g[second] = shapely.box(X0 + 100, Y0 + 90, X0 + 200, Y0 + 200)  # 100 × 10 m into 005, south of it
        cells.geometry = g
        cells.loc[ids.index("110101001002006"), "grid_id"] = "11010100100200"  # a digit lost

    original = gpd.read_file(package, layer="cells")
    cells = _edit(package, change)
    out = tmp_path / "problems.gpkg"
    result = _run(package, "--problems", out)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "grid.gpkg  cells: 12 cells in 2 communities: 3 problem(s)", lines
    assert lines[1:4] == [
        "  cells 110101001001002 and 110101001001005 overlap by 1e+03 m²",
        "  unit 110101001001: its cells differ from it by 1e+03 m² (0.0167 of its area: gaps, or cells beyond it)",
        "  grid ID '11010100100200' is not 15 digits",
    ]
    assert "Error: grid.gpkg: 3 problem(s); the package breaks the grid invariants" in result.output
    problems = gpd.read_file(out, layer="problems")
    assert problems["area_m2"].tolist() == [1000.0, 1000.0, 10000.0]
    # Where: the overlap is the strip inside the neighbour, the gap the strip it left.
    assert problems.geometry.iloc[0].equals(shapely.box(X0 + 100, Y0 + 90, X0 + 200, Y0 + 100))
    assert problems.geometry.iloc[1].equals(shapely.box(X0 + 90, Y0 + 100, X0 + 100, Y0 + 200))
    assert set(problems.geom_type) == {"MultiPolygon"} and problems.crs == cells.crs
    assert "problems" in set(pyogrio.read_dataframe(out, layer="layer_styles")["f_table_name"])  # styled red
    # An existing file is a usage error (2), refused before checking: not "broken" (1).
    refused = _run(package, "--problems", out)
    assert refused.exit_code == 2 and "exists; pass --overwrite" in refused.output and out.exists()
    # Fixed, checked again over the same file: it no longer shows what was fixed.
    _edit(package, lambda _: original)
    fixed = _run(package, "--problems", out, "--overwrite")
    assert fixed.exit_code == 0 and fixed.output.endswith(f"{out}: 0 problem(s) (an empty layer)\n"), fixed.output
    info = pyogrio.read_info(out, layer="problems")
    assert info["features"] == 0 and info["geometry_type"] == "MultiPolygon" and info["crs"] == "EPSG:4548"


def test_every_problem_is_counted_and_written_not_the_first_twenty(tmp_path):
    """A platform's cells digitised apart overlap along every edge (Dongcheng's, each
    vertex moved up to 0.5 m: 8,693 pairs): the check said "40 problem(s)" and wrote
    40, the first 20 of two kinds. Here 25 × 25 cells of 10 m, each grown by 1 m:
    1,200 pairs overlap along an edge (24 m²), 1,152 at a corner (4 m²), and the 96
    cells on the edge lie outside the community."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 250, Y0 + 250)])
    package = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm, cell_area=100), comm)
    _edit(package, lambda cells: cells.set_geometry(cells.buffer(1, join_style="mitre")))
    out = tmp_path / "problems.gpkg"
    result = _run(package, "--problems", out)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "grid.gpkg  cells: 625 cells in 1 community: 2,449 problem(s)"
    assert lines[21] == "  … and 2,429 more"
    assert lines[-1] == "Error: grid.gpkg: 2,449 problem(s); the package breaks the grid invariants"
    problems = gpd.read_file(out, layer="problems")
    kinds = problems["problem"].str.extract(r"(overlap by|outside|differ)")[0]
    assert kinds.value_counts().to_dict() == {"overlap by": 2352, "outside": 96, "differ": 1}
    pairs = problems[kinds == "overlap by"]
    assert pairs["area_m2"].round(6).value_counts().to_dict() == {24.0: 1200, 4.0: 1152}


def test_a_cell_split_in_two_gets_the_next_free_id_as_a_hint(package):
    def change(cells):  # QGIS's Split Features: two halves, both with the cell's ID
        i = cells.index[cells["grid_id"] == "110101001001003"][0]
        left = shapely.box(X0 + 200, Y0 + 100, X0 + 250, Y0 + 200)
        right = shapely.box(X0 + 250, Y0 + 100, X0 + 300, Y0 + 200)
        half = cells.loc[[i]].copy()
        cells.geometry = cells.geometry.where(cells.index != i, left)
        cells.loc[len(cells)] = half.iloc[0]
        cells.loc[len(cells) - 1, "geometry"] = right

    _edit(package, change)
    result = _run(package)
    assert result.exit_code == 1
    # The community's cells end at 006: 007 is free (the other community's 006 is not).
    assert result.output.splitlines()[1] == ("  grid_id 110101001001003 is used by 2 cells: give all but one a free "
                                             "ID (110101001001007 is the next after its unit's highest)")


def test_a_cell_without_an_id_is_named_as_such_and_offered_one(package):
    """A cell drawn by hand (Add Polygon Feature, the ID left blank) was "cell nan"
    in three problems, "grid ID 'nan' is not 15 digits" among them."""
    def change(cells):
        cells.loc[cells["grid_id"] == "110101001001002", "grid_id"] = None
        drawn = cells.iloc[[0]].copy()
        drawn["grid_id"], drawn["geometry"] = None, [shapely.box(X0 - 100, Y0, X0, Y0 + 100)]  # beside the layout
        return gpd.GeoDataFrame(pd.concat([cells, drawn], ignore_index=True), crs=cells.crs)

    _edit(package, change)
    result = _run(package)
    assert result.exit_code == 1
    assert result.output.splitlines()[:4] == [
        "grid.gpkg  cells: 13 cells in 2 communities: 3 problem(s)",
        '  2 cell(s) have no grid_id (select them in QGIS with "grid_id" IS NULL): give each a free ID '
        "(110101001001007 is the next after its unit's highest)",
        "  cell without grid_id lies 1e+04 m² outside its unit",
        "  unit 110101001001: its cells differ from it by 1e+04 m² (0.167 of its area: gaps, or cells beyond it)"]


def test_a_unit_without_a_code_is_named_once():
    units = gpd.GeoDataFrame({"u": ["A", None]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    cells = gpd.GeoDataFrame({"u": ["A", None], "id": ["A1", "B1"]}, geometry=list(units.geometry))
    assert gk.check_partition(cells, units, unit_key="u", id_field="id").problems == [
        "1 unit(s) have no u", "cell B1 has no u"]


def test_a_duplicated_id_does_not_hide_the_gap_beside_it(package):
    """One run names every problem an editor made: before, a duplicated ID stopped the
    check before the geometry, and the deleted cell's gap showed only after the ID
    was fixed."""
    def change(cells):
        ids = cells["grid_id"].tolist()
        cells.loc[ids.index("110101001001002"), "grid_id"] = "110101001001001"
        return cells.drop(index=ids.index("110101001002006"))

    _edit(package, change)
    result = _run(package)
    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == [
        "grid.gpkg  cells: 11 cells in 2 communities: 2 problem(s)",
        "  grid_id 110101001001001 is used by 2 cells: give all but one a free ID (110101001001007 is the next "
        "after its unit's highest)",
        "  unit 110101001002: its cells differ from it by 1e+04 m² (0.167 of its area: gaps, or cells beyond it)"]


def test_a_broken_cell_does_not_hide_the_problems_of_other_units(package):
    """A self-intersecting cell (a slip of the vertex tool) is named, and the other
    community's overlap is still found (before, the broken cell stopped the check);
    its own community's coverage leaves out the bow tie's hull, which would only
    repeat the broken cell."""
    def change(cells):
        ids = cells["grid_id"].tolist()
        g = cells.geometry.values.copy()
        g[ids.index("110101001001001")] = shapely.Polygon(  # a bow tie
            [(X0, Y0 + 100), (X0 + 100, Y0 + 200), (X0 + 100, Y0 + 100), (X0, Y0 + 200)])
        g[ids.index("110101001002001")] = shapely.box(X0 + 300, Y0 + 100, X0 + 420, Y0 + 200)  # 20 m into 002
        cells.geometry = g

    _edit(package, change)
    result = _run(package)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "grid.gpkg  cells: 12 cells in 2 communities: 2 problem(s)"
    assert lines[1].startswith("  cell 110101001001001 is invalid: Self-intersection")
    assert lines[2] == "  cells 110101001002001 and 110101001002002 overlap by 2e+03 m²"


def test_a_broken_cell_does_not_hide_the_other_gaps_of_its_own_unit(package):
    """Four slips in one community: a cell's geometry cleared (empty), a bow tie, a
    cell 20 m short, an ID pasted with spaces. Each is named once: the community's
    coverage leaves out what lies in the bow tie's hull (a repeat) but counts the
    gap by the short cell and where the empty cell lay (before, a broken cell kept
    its community from being measured, and the gap went unnamed)."""
    def change(cells):
        ids = cells["grid_id"].tolist()
        g = cells.geometry.values.copy()
        g[ids.index("110101001001002")] = None
        g[ids.index("110101001001001")] = shapely.Polygon(  # a bow tie over the cell
            [(X0, Y0 + 100), (X0 + 100, Y0 + 200), (X0 + 100, Y0 + 100), (X0, Y0 + 200)])
        g[ids.index("110101001001005")] = shapely.box(X0 + 100, Y0, X0 + 180, Y0 + 100)
        cells.geometry = g
        cells.loc[ids.index("110101001001003"), "grid_id"] = "  110101001001003"

    _edit(package, change)
    result = _run(package)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "grid.gpkg  cells: 12 cells in 2 communities: 4 problem(s)"
    assert lines[1:] == [
        "  cell 110101001001002 is empty",
        "  cell 110101001001001 is invalid: Self-intersection[500050 4400150]",
        "  unit 110101001001: its cells differ from it by 1.2e+04 m² (0.2 of its area: gaps, or cells beyond it; "
        "the empty cell 110101001001002 lay there)",
        "  grid ID '  110101001001003' is not 15 digits (spaces around it: type 110101001001003)",
        "Error: grid.gpkg: 4 problem(s); the package breaks the grid invariants"]


def test_a_package_with_every_cell_deleted_is_checked_and_refused_as_a_map(package, tmp_path):
    """Every cell deleted in QGIS: check names each community without cells (it was
    an IndexError), and map says there is nothing to draw (a matplotlib ValueError)."""
    _edit(package, lambda cells: cells.iloc[:0])
    result = _run(package)
    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == ["grid.gpkg  cells: 0 cells in 2 communities: 2 problem(s)",
                                              "  unit 110101001001 has no cells", "  unit 110101001002 has no cells"]
    drawn = CliRunner().invoke(cli, ["map", str(package), "-o", str(tmp_path / "map.png")])
    assert drawn.exit_code == 1 and not (tmp_path / "map.png").exists()
    assert drawn.output == f"Error: {package}: its cells layer holds no cell to draw; `gridkit check {package}` says " \
                           "what else is wrong\n"


def test_no_hint_for_ids_that_are_not_numbers_of_one_length():
    units = gpd.GeoDataFrame({"u": ["A"]}, geometry=[shapely.box(0, 0, 2, 1)])
    cells = gpd.GeoDataFrame({"u": ["A", "A"], "id": ["A1", "A1"]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    assert gk.check_partition(cells, units, unit_key="u", id_field="id").problems == ["id A1 is used by 2 cells"]
    cells["id"] = ["99", "99"]  # 99 + 1 needs a third digit (and neither starts with its unit's code)
    assert gk.check_partition(cells, units, unit_key="u", id_field="id").problems == [
        "id 99 is used by 2 cells: give all but one a free ID (its unit has no number left after the highest)",
        *["cell 99 does not start with its unit code A"] * 2]


def test_micro_grids_are_checked_within_their_grid(tmp_path):
    from gridkit.households import balanced_grid

    comm = community_frame([shapely.box(X0, Y0, X0 + 600, Y0 + 400)])
    xy = np.array([(X0 + 15 + 30 * i, Y0 + 15 + 30 * j) for i in range(20) for j in range(13)], dtype=float)
    layout = balanced_grid(comm, gpd.GeoDataFrame(geometry=shapely.points(xy), crs=comm.crs),
                           min_households=40, max_households=60, micro=(10, 20))
    package = gk.write_package(tmp_path / "homes.gpkg", layout.grids, comm, extra_layers={"micro_grids": layout.micro})
    reports = gk.check_package(package)
    assert [(k, r.ok, r.cells, r.units) for k, r in reports.items()] == [
        ("cells", True, len(layout.grids), 1), ("micro_grids", True, len(layout.micro), len(layout.grids))]
    said = _run(package).output.splitlines()
    assert said[1].startswith(f"homes.gpkg  micro_grids: {len(layout.micro)} micro-grids in {len(layout.grids)} "
                              "grids: ok (largest overlap 0 m², largest coverage error ")
    assert said[1].endswith(" of a grid's area)")
    micro = gpd.read_file(package, layer="micro_grids")
    micro = micro.drop(index=0)  # a micro-grid deleted: a hole in its grid
    pyogrio.write_dataframe(micro, package, layer="micro_grids", driver="GPKG")
    report = gk.check_package(package)["micro_grids"]
    hole = layout.micro.geometry.iloc[0]
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"grid {layout.micro['grid_id'].iloc[0]}: its micro-grids differ from it by "
                                         f"{hole.area:.3g} m²")
    assert report.where[0].symmetric_difference(hole).area < 1e-6  # located: the deleted micro-grid's place

    # IDs typed by hand: a sequence of 00, a letter; and the column renamed.
    micro = gpd.read_file(package, layer="micro_grids")
    grid_id = micro["grid_id"].iloc[0]
    micro.loc[micro.index[:2], "micro_id"] = [grid_id + "00", grid_id + "0x"]
    pyogrio.write_dataframe(micro, package, layer="micro_grids", driver="GPKG")
    problems = gk.check_package(package)["micro_grids"].problems
    assert problems[-2:] == [f"micro ID '{grid_id}00' is not a grid ID and a 2-digit sequence from 01",
                             f"micro ID '{grid_id}0x' is not a grid ID and a 2-digit sequence from 01"]
    pyogrio.write_dataframe(micro.rename(columns={"micro_id": "id"}), package, layer="micro_grids", driver="GPKG")
    with pytest.raises(gk.errors.InputError, match="the micro_grids layer has no micro_id column"):
        gk.check_package(package)


def test_code_fields_made_numbers_in_qgis_read_as_their_digits(tmp_path):
    """QGIS's field editor (or a spreadsheet) made the code fields numbers: grid IDs
    integers, community codes reals. They read as their digits: the package checks
    ok and locates as before. A 17-digit micro ID made a real is rounded: one problem
    says so, not one per ID, and the locator refuses the micro-grids."""
    from gridkit.households import balanced_grid

    comm = community_frame([shapely.box(X0, Y0, X0 + 600, Y0 + 400)])
    xy = np.array([(X0 + 15 + 30 * i, Y0 + 15 + 30 * j) for i in range(20) for j in range(13)], dtype=float)
    layout = balanced_grid(comm, gpd.GeoDataFrame(geometry=shapely.points(xy), crs=comm.crs),
                           min_households=40, max_households=60, micro=(10, 20))
    package = gk.write_package(tmp_path / "homes.gpkg", layout.grids, comm, extra_layers={"micro_grids": layout.micro})
    numbers = {"cells": {"grid_id": "int64", "community_code": float, "street_code": "int64"},
               "units": {"code": float, "parent_code": float}, "micro_grids": {"grid_id": float}}
    for layer, types in numbers.items():
        frame = gpd.read_file(package, layer=layer)
        pyogrio.write_dataframe(frame.astype(types), package, layer=layer, driver="GPKG")
    info = pyogrio.read_info(package, layer="cells")
    assert dict(zip(info["fields"], info["dtypes"]))["community_code"] == "float64"  # as QGIS saves a Real
    assert [(k, r.ok) for k, r in gk.check_package(package).items()] == [("cells", True), ("micro_grids", True)]
    here = (X0 + 100, Y0 + 100)
    located = Locator.from_package(package, micro=True).locate(*here)
    assert located.grid_id == layout.grids["grid_id"].iloc[layout.grids.contains(shapely.Point(here)).argmax()]
    assert located.community_code == comm["community_code"].iloc[0] and len(located.micro_id) == 17

    micro = gpd.read_file(package, layer="micro_grids")
    pyogrio.write_dataframe(micro.astype({"micro_id": float}), package, layer="micro_grids", driver="GPKG")
    report = gk.check_package(package)["micro_grids"]
    assert len(report.problems) == 1
    assert report.problems[0].startswith("micro_id is a field of real numbers (its type changed in QGIS, or by a "
                                         "spreadsheet?), which holds 15 or 16 digits exactly, not 17: the IDs are "
                                         f"rounded ({int(float(micro['micro_id'].iloc[0]))} …)")
    with pytest.raises(gk.errors.InputError, match=r"homes\.gpkg \(layer micro_grids\): micro_id is a field of real"):
        Locator.from_package(package, micro=True, cache=False)


def test_a_package_saved_in_degrees_is_measured_in_its_metric_crs(package):
    cells = gpd.read_file(package, layer="cells").to_crs(4326)
    pyogrio.write_dataframe(cells, package, layer="cells", driver="GPKG")
    units = gpd.read_file(package, layer="units").to_crs(4326)
    pyogrio.write_dataframe(units, package, layer="units", driver="GPKG")
    reports = gk.check_package(package)
    assert reports["cells"].ok and reports["cells"].crs == "EPSG:4548"  # the package's, from its metadata


def test_problems_must_go_to_a_geopackage(package, tmp_path):
    result = _run(package, "--problems", tmp_path / "p.csv")
    assert result.exit_code == 2 and "give a .gpkg file" in result.output


def test_a_column_lost_in_editing_is_named(package):
    _edit(package, lambda cells: cells.insert(0, "comm", cells.pop("community_code")))
    result = _run(package)
    assert result.exit_code == 1
    assert "the cells layer has no community_code column(s), which gridkit wrote; restore them" in result.output


def test_cells_of_a_deleted_community_are_one_problem_naming_the_fix(package, tmp_path):
    """A community's row deleted from the units layer: its 6 cells are one problem
    (a Cambridge community's 318 cells were 318 lines), located where they lie; a
    cell blanked of its community is its own."""
    with closing(sqlite3.connect(package)) as db, db:
        db.execute("DELETE FROM units WHERE code = '110101001001'")
    _edit(package, lambda cells: cells.__setitem__("community_code", cells["community_code"].where(
        cells["grid_id"] != "110101001002006")))
    result = _run(package, "--problems", tmp_path / "p.gpkg")
    assert result.exit_code == 1
    assert result.output.splitlines()[:4] == [
        "grid.gpkg  cells: 12 cells in 1 community: 3 problem(s)",
        "  6 cells (110101001001001 … 110101001001006) name unit '110101001001', which is not among the units "
        "(restore its row, or give the cells another community_code)",
        "  cell 110101001002006 has no community_code",
        "  unit 110101001002: its cells differ from it by 1e+04 m² (0.167 of its area: gaps, or cells beyond it)"]
    where = gpd.read_file(tmp_path / "p.gpkg", layer="problems")
    assert where["area_m2"].tolist() == [60_000.0, 10_000.0, 10_000.0]


@pytest.mark.parametrize("shift, found", [(1e-5, ["cell 1_01 lies 0.001 m² outside its unit"]), (1e-10, [])])
def test_a_micro_grid_beyond_its_box_shaped_grid_is_found_down_to_the_tolerance(shift, found):
    # The box bounds skip the exact difference only where it cannot reach the
    # tolerance (1e-6 m²): a sliver of 100 m × 10 µm (0.001 m²) is still found,
    # one of 100 m × 1e-10 m (float noise) is not.
    cells = gpd.GeoDataFrame({"grid_id": ["1"]}, geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)], crs=4548)
    micro = gpd.GeoDataFrame({"micro_id": ["1_01", "1_02"], "grid_id": ["1", "1"]},
                             geometry=[shapely.box(X0 - shift, Y0, X0 + 50, Y0 + 100),
                                       shapely.box(X0 + 50, Y0, X0 + 100, Y0 + 100)], crs=4548)
    report = gk.check_partition(micro, cells, unit_key="grid_id", id_field="micro_id")
    assert [p for p in report.problems if "outside" in p] == found


def _split_003(cells, at=250):
    """QGIS's Split Features on cell 003 at x + ``at``: both parts keep its ID."""
    i = cells.index[cells["grid_id"] == "110101001001003"][0]
    part = cells.loc[[i]].copy()
    cells.geometry = cells.geometry.where(cells.index != i, shapely.box(X0 + 200, Y0 + 100, X0 + at, Y0 + 200))
    part["geometry"] = [shapely.box(X0 + at, Y0 + 100, X0 + 300, Y0 + 200)]
    return gpd.GeoDataFrame(pd.concat([cells, part], ignore_index=True), crs=cells.crs)


def test_fix_ids_gives_the_smaller_part_of_a_split_cell_the_next_free_id(package):
    """The larger part keeps the ID (the original, most likely); the other takes the
    community's next: 007. The package then checks ok; a second run changes nothing."""
    _edit(package, lambda cells: _split_003(cells, at=220))  # the east part is the larger
    result = _run(package, "--fix-ids")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == ["grid.gpkg  cells: 1 cell(s) given a new ID, in place",
                                              "  110101001001003 → 110101001001007",
                                              "grid.gpkg  cells: 13 cells in 2 communities: ok (largest overlap 0 m², "
                                              "largest coverage error 0 of a community's area)"]
    cells = gpd.read_file(package, layer="cells").set_index("grid_id")
    assert cells.geometry["110101001001003"].bounds == (X0 + 220, Y0 + 100, X0 + 300, Y0 + 200)
    assert cells.geometry["110101001001007"].bounds == (X0 + 200, Y0 + 100, X0 + 220, Y0 + 200)
    assert cells.loc["110101001001007", "community_code"] == "110101001001"
    written = package.read_bytes()
    again = _run(package, "--fix-ids")
    assert again.exit_code == 0 and again.output.splitlines()[0] == "grid.gpkg  cells: 0 cell(s) given a new ID"
    assert package.read_bytes() == written


def test_fix_ids_issues_north_to_south_west_to_east_after_the_highest_ever_issued(package):
    """Two cells drawn anew without an ID or a community (the community is the one
    holding them), and a split: issued in reading order, after the highest sequence
    the package's highest_issued records (a grid ended at 009), which is updated."""
    def change(cells):
        cells = _split_003(cells)  # equal halves: the first keeps the ID, the east half (north row) needs one
        for box in (shapely.box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200), shapely.box(X0, Y0, X0 + 100, Y0 + 100)):
            i = cells.index[cells.geometry.apply(lambda g, b=box: g.equals(b))][0]
            cells.loc[i, ["grid_id", "community_code"]] = None  # 002 (north row), 004 (south row)
        return cells

    _edit(package, change)
    meta = pyogrio.read_dataframe(package, layer="gridkit_metadata")
    meta = pd.concat([meta, pd.DataFrame({"key": ["highest_issued"], "value": ['{"110101001001": 9}']})])
    pyogrio.write_dataframe(meta, package, layer="gridkit_metadata", driver="GPKG")
    changes = gk.package.issue_missing_ids(package)
    # reading order: 002 (x + 150, north), the split half (x + 275, north), then 004 (south)
    assert changes == {"cells": [(None, "110101001001010"), ("110101001001003", "110101001001011"),
                                 (None, "110101001001012")]}
    cells = gpd.read_file(package, layer="cells").set_index("grid_id")
    assert cells.geometry["110101001001012"].symmetric_difference(shapely.box(X0, Y0, X0 + 100, Y0 + 100)).area == 0
    assert cells.loc[["110101001001010", "110101001001012"], "community_code"].tolist() == ["110101001001"] * 2
    assert json.loads(gk.read_package(package)[2]["highest_issued"])["110101001001"] == 12
    assert gk.check_package(package)["cells"].ok


def test_fix_ids_gives_a_micro_grid_typed_twice_the_next_of_its_grid(package):
    """Micro-grid 00101's ID typed over 00102's (a copy and paste in the attribute
    table): the first keeps it, the other takes its grid's next after the highest in
    use, 02 (a package without a highest_issued record knows of no other)."""
    from .conftest import micro_halves

    micro = micro_halves(gpd.read_file(package, layer="cells"))
    micro.loc[micro["micro_id"] == "11010100100100102", "micro_id"] = "11010100100100101"
    pyogrio.write_dataframe(micro, package, layer="micro_grids", driver="GPKG")
    assert gk.package.issue_missing_ids(package) == {"cells": [],
                                                      "micro_grids": [("11010100100100101", "11010100100100102")]}
    micro = gpd.read_file(package, layer="micro_grids")
    assert sorted(micro.loc[micro["grid_id"] == "110101001001001", "micro_id"]) == ["11010100100100101",
                                                                                   "11010100100100102"]
    assert gk.check_package(package)["micro_grids"].ok


def test_fix_ids_gives_a_micro_grid_drawn_anew_its_grid_and_an_id(package):
    """A micro-grid drawn anew, its ID and its grid's ID blank: --fix-ids left it as
    it was, while locate (refusing it) sent the user to --fix-ids. Its grid is the
    cell holding it, and its ID that grid's next."""
    from .conftest import micro_halves

    micro = micro_halves(gpd.read_file(package, layer="cells"))
    micro.loc[micro["micro_id"] == "11010100100100502", ["micro_id", "grid_id"]] = None
    pyogrio.write_dataframe(micro, package, layer="micro_grids", driver="GPKG")
    assert gk.package.issue_missing_ids(package) == {"cells": [], "micro_grids": [(None, "11010100100100502")]}
    micro = gpd.read_file(package, layer="micro_grids").set_index("micro_id")
    assert micro.loc["11010100100100502", "grid_id"] == "110101001001005"
    assert gk.check_package(package)["micro_grids"].ok


def test_fix_ids_moves_the_micro_grids_of_a_split_cells_new_part_to_it(package):
    """Cell 003 in four micro-grids (old IDs 01 north-west, 04 north-east, 03 south-
    west, 02 south-east), split down the middle: the west part keeps 003 and its two,
    the east part becomes 007 and its two follow it, numbered afresh in reading order
    (north-east 01, south-east 02). The IDs they leave stay issued: the package records
    them (highest_issued), so 003's next micro-grid is 05, never 02 or 04 again."""
    from .conftest import micro_halves

    cells = gpd.read_file(package, layer="cells")
    micro = micro_halves(cells[cells["grid_id"] != "110101001001003"])
    quarters = {"01": (200, 150), "04": (250, 150), "03": (200, 100), "02": (250, 100)}
    micro = pd.concat([micro, gpd.GeoDataFrame(
        {"micro_id": [f"110101001001003{k}" for k in quarters], "grid_id": "110101001001003"},
        geometry=[shapely.box(X0 + x, Y0 + y, X0 + x + 50, Y0 + y + 50) for x, y in quarters.values()],
        crs=cells.crs)], ignore_index=True)
    pyogrio.write_dataframe(micro, package, layer="micro_grids", driver="GPKG")
    assert gk.check_package(package)["micro_grids"].ok
    _edit(package, _split_003)  # equal halves: the first, the west, keeps the ID

    assert gk.package.issue_missing_ids(package) == {
        "cells": [("110101001001003", "110101001001007")],
        "micro_grids": [("11010100100100304", "11010100100100701"), ("11010100100100302", "11010100100100702")]}
    micro = gpd.read_file(package, layer="micro_grids").set_index("micro_id")
    assert micro.loc["11010100100100701", "grid_id"] == micro.loc["11010100100100702", "grid_id"] == "110101001001007"
    assert micro.geometry["11010100100100701"].equals(shapely.box(X0 + 250, Y0 + 150, X0 + 300, Y0 + 200))
    assert micro.loc[["11010100100100301", "11010100100100303"], "grid_id"].tolist() == ["110101001001003"] * 2
    assert json.loads(gk.read_package(package)[2]["highest_issued"])["110101001001003"] == 4
    reports = gk.check_package(package)
    assert reports["cells"].ok and reports["micro_grids"].ok


def test_fix_ids_on_a_household_package_names_the_recount(package):
    """A household package (its parameters name the households file) split by hand:
    both parts carry the grid's household count, so --fix-ids names the recount."""
    meta = pyogrio.read_dataframe(package, layer="gridkit_metadata")
    meta.loc[meta["key"] == "parameters", "value"] = '{"households": "blocks.gpkg"}'
    pyogrio.write_dataframe(meta, package, layer="gridkit_metadata", driver="GPKG")
    _edit(package, _split_003)
    result = _run(package, "--fix-ids")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2] == (
        f"  households: the parts of a split grid each carry its count; `gridkit grid rebalance {package} "
        "--households blocks.gpkg -o NEW.gpkg` recounts them, and divides again those out of the band")


def test_a_cell_drawn_anew_takes_its_communitys_names_and_a_rename_on_one_side_is_named(package, tmp_path):
    """A cell deleted and drawn anew in QGIS, every attribute blank, in a package
    with components: check crashed (a traceback: the locator read the blank ID as a
    number); --fix-ids gave it an ID and its community's code, but no name, street
    or county, so locate answered without them and check said all was well. Now
    check names the blank fields, says the components wait for the IDs, locate and
    the import refuse the cell until it has one, --fix-ids fills them from the units
    layer, and a community renamed in the units layer alone is named."""
    from gridkit.catalogue import import_components, read_catalogue, write_catalogue

    lamps = gpd.GeoDataFrame({"GLBJBSM": ["11010101037000001"]}, geometry=[shapely.Point(X0 + 150, Y0 + 150)],
                             crs=4548).to_crs(4326)
    lamps.to_file(tmp_path / "lamps.geojson")
    write_catalogue(package, import_components(tmp_path / "lamps.geojson", Locator.from_package(package)).catalogue)

    def change(cells):
        cells["provisional"] = cells["provisional"].astype(object)
        at = cells.index[cells["grid_id"] == "110101001001002"]
        cells.loc[at, [c for c in cells.columns if c != "geometry"]] = None

    _edit(package, change)
    result = _run(package)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines()[-3:-1] == [
        "grid.gpkg  components: 1 in use in 12 cells: 1 problem(s)",
        "  the components were not checked against the cells: 1 cell(s) have no grid_id (`gridkit check --fix-ids` "
        "gives each one)"]
    # locate and the import refuse it: a point in it was "cell nan", a component given no grid ID
    with pytest.raises(gk.errors.InputError, match=r"1 of the cells has no grid_id \(row 2; drawn anew in QGIS\?\): "
                                                    r"`gridkit check --fix-ids PACKAGE` gives each one"):
        Locator.from_package(package)
    result = _run(package, "--fix-ids")
    assert result.output.splitlines()[:3] == [
        "grid.gpkg  cells: 1 cell(s) given a new ID, in place", "  (blank) → 110101001001007",
        "grid.gpkg  cells: 1 cell(s) given their community's name, street and county from the units layer, in place"]
    cells = gpd.read_file(package, layer="cells").set_index("grid_id")
    assert cells.loc["110101001001007", list(gk.package.UNIT_FIELDS)].fillna("").tolist() == [
        "c0", "110101001", "", "110101", ""]
    assert "lie in cell 110101001001007" in result.output  # the lamp: reassign puts it right
    assert CliRunner().invoke(cli, ["components", "reassign", str(package)]).exit_code == 0
    assert _run(package).exit_code == 0
    located = Locator.from_package(package).locate(X0 + 150, Y0 + 150)
    assert (located.grid_id, located.community_name) == ("110101001001007", "c0")
    # the community renamed in the units layer only
    units = gpd.read_file(package, layer="units")
    units.loc[units["code"] == "110101001002", "name"] = "东华门"
    pyogrio.write_dataframe(units, package, layer="units", driver="GPKG")
    result = _run(package)
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "grid.gpkg  cells: 12 cells in 2 communities: 1 problem(s)",
        "  6 cell(s) of community 110101001002 (e.g. 110101001002001) have community_name 'c1' where the units "
        "layer has '东华门': locate and the catalogue give the cells' (renamed on one side only? `gridkit check "
        "--fix-names` gives the cells the units layer's)"]
    assert gk.package.fill_unit_fields(package) == 0  # a name that differs is not overwritten
    # --fix-names overwrites it; the lamp's community renamed too, its catalogue row is named, and reassign renames it
    units.loc[units["code"] == "110101001001", "name"] = "东华门北"
    pyogrio.write_dataframe(units, package, layer="units", driver="GPKG")
    result = _run(package, "--fix-names")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "grid.gpkg  cells: 12 cell(s) given their community's name, street and county from the units layer, in place",
        "grid.gpkg  cells: 12 cells in 2 communities: ok (largest overlap 0 m², largest coverage error 0 of a "
        "community's area)",
        "grid.gpkg  components: 1 in use in 12 cells: 1 problem(s)",
        "  1 component(s) (e.g. 11010101037000001) have SZSQMC 'c0' where their cell (110101001001007) has "
        "community_name '东华门北'",
        f"  fix: gridkit components reassign {package} puts each in the cell that holds it now, "
        "with that cell's names",
        "Error: grid.gpkg: 1 problem(s); the package breaks the grid invariants"]
    assert Locator.from_package(package).locate(X0 + 450, Y0 + 50).community_name == "东华门"
    changed = read_catalogue(package)["BGRQ"].tolist()  # the day the lamp took cell 007
    assert CliRunner().invoke(cli, ["components", "reassign", str(package)]).exit_code == 0
    assert read_catalogue(package)[["SZSQMC", "BGRQ"]].values.tolist() == [["东华门北", changed[0]]]
    assert _run(package).exit_code == 0


# Two micro-grids of Dongcheng's, snapped and fitted to their cells: they touch
# along a spiky edge, and GEOS 3.14.1's floating intersection makes up 1,177 m² shared.
_TOUCHING_SPIKES = (
    "0103000000010000000C000000AC40075690651B41C85B66345DE25041B740075690651B410100008069E25041F7FFFFFF0F661B41"
    "0000008069E25041F7FFFFFF0F661B410000004069E2504188A2718110661B41EDE0594369E2504161BF9E7310661B41C2BC01BD69E2"
    "504162D07CE711661B41C75B66F45CE250411B4EE8A28C651B41C85B66F45CE250413A33260994651B41C85B66F45CE25041A0400756"
    "94651B41000000005DE25041AC40075690651B41010000005DE25041AC40075690651B41C85B66345DE25041",
    "0103000000010000000D000000F7FFFFFFD7661B41444758CB75E2504108000000D8661B410000008069E25041D701947A14661B41"
    "0000008069E250417B658D7A10661B410000008069E250410000000010661B41DA8484B66DE25041560AB10F0F661B41580D58F975E2"
    "50411100000010661B41C3946DF975E2504164378DB748661B41595F82FE75E25041D229505B59661B410000000076E25041D4639CB2"
    "DB661B415157AD0B76E25041F7FFFFFFDB661B410000000076E25041F7FFFFFFD7661B410000000076E25041F7FFFFFFD7661B414447"
    "58CB75E25041",
)


def test_an_overlap_geos_makes_up_between_polygons_that_touch_is_not_reported():
    """The check measures every overlap it would report again, snap-rounded
    (GRID_SIZE): two polygons sharing 10⁻⁹ m² are no problem, whatever the
    floating overlay said (on ffe68b7: "overlap by 1.18e+03 m²")."""
    a, b = (shapely.from_wkb(h) for h in _TOUCHING_SPIKES)
    assert shapely.area(a) + shapely.area(b) - shapely.area(shapely.union(a, b)) < 1e-6  # they only touch
    _, _, areas, _ = overlapping_pairs(np.array([a, b]))
    assert (areas < 1e-6).all()
    cells = gpd.GeoDataFrame({"grid_id": ["110101001001001", "110101001001002"], "community_code": "110101001001"},
                             geometry=[a, b], crs=4548)
    units = community_frame([shapely.union(a, b)])
    report = gk.check_partition(cells, units)
    assert report.ok, report.problems


def test_fix_ids_gives_an_id_typed_over_from_another_communitys_cell_back(package):
    """Cell 001004's ID typed over with 002001's (a copy and paste in the attribute
    table across communities). The two are equal and the copy comes first, so the
    rule 'the largest, else the first' kept the copy and took 002001's ID from the
    cell that held it. Now the cell under its own community's code keeps it, and the
    copy takes its own community's next: 001007."""
    def change(cells):
        cells.loc[cells["grid_id"] == "110101001001004", "grid_id"] = "110101001002001"

    cells = _edit(package, change)
    assert cells["grid_id"].tolist().index("110101001002001") < cells["community_code"].tolist().index("110101001002")
    assert gk.package.issue_missing_ids(package) == {"cells": [("110101001002001", "110101001001007")]}
    cells = gpd.read_file(package, layer="cells").set_index("grid_id")
    assert cells.loc["110101001002001", "community_code"] == "110101001002"
    assert cells.loc["110101001001007", "community_code"] == "110101001001"
    assert gk.check_package(package)["cells"].ok


def test_a_community_code_typed_over_is_named_not_sent_to_recut(package):
    """Cell 001004's community_code typed over with the other community's. It seemed
    to lie beyond community 002, and the fix line sent it to `grid recut`, which ends
    the cell and issues its land a new ID. The line says to set the code back; with
    two such cells, the one line counts them. A code the units layer does not hold
    (009) was "merged into another?", with the same recut: now the same line."""
    def type_over(cell, code):
        def change(cells):
            cells.loc[cells["grid_id"] == cell, "community_code"] = code
        _edit(package, change)

    type_over("110101001001004", "110101001002")
    result = _run(package)
    assert result.exit_code == 1
    fixes = [line for line in result.output.splitlines() if line.startswith("  fix:")]
    assert fixes == ["  fix: cell 110101001001004 lies in community 110101001001, which its ID names, but its "
                     "community_code says 110101001002 (typed over?): set community_code back to 110101001001 in QGIS"]
    type_over("110101001002006", "110101001001")
    fixes = [line for line in _run(package).output.splitlines() if line.startswith("  fix:")]
    assert fixes == ["  fix: 2 cells (110101001001004, 110101001002006) lie in the community their ID names, but "
                     "their community_code says another (typed over?): set each back to its ID's community code "
                     "in QGIS"]
    type_over("110101001002003", "110101001009")
    fixes = [line for line in _run(package).output.splitlines() if line.startswith("  fix:")]
    assert fixes == ["  fix: 3 cells (110101001001004, 110101001002003, 110101001002006) lie in the community their "
                     "ID names, but their community_code says another (typed over?): set each back to its ID's "
                     "community code in QGIS"]


def test_write_package_refuses_a_layout_no_reader_could_use(tmp_path):
    """write_package wrote cells in EPSG:4326 beside communities in EPSG:4548 (the
    metadata naming the cells' CRS), and cells without grid_id, which every reader
    then refused. Gaps and IDs used twice are still written, for the check to name."""
    comm = community_frame([shapely.box(0, 0, 300, 200), shapely.box(300, 0, 600, 200)])
    cells = gk.unit_grid(comm)
    for bad, said in [
            ((cells.to_crs(4326), comm), "the cells are in EPSG:4326 and the communities in EPSG:4548; a package "
                                         "holds both in one projected CRS in metres"),
            ((cells.to_crs(4326), comm.to_crs(4326)), "the cells are in EPSG:4326 and the communities in EPSG:4326"),
            ((cells.drop(columns="grid_id"), comm), "the cells have no column 'grid_id'; their columns are: sequence"),
            ((pd.DataFrame(cells), comm), "the cells are a DataFrame, not a GeoDataFrame")]:
        with pytest.raises(gk.InputError) as caught:
            gk.write_package(tmp_path / "bad.gpkg", *bad)
        assert said in str(caught.value)
    assert list(tmp_path.iterdir()) == []
    twice = gk.write_package(tmp_path / "twice.gpkg", cells.assign(grid_id=cells["grid_id"].iloc[0]).iloc[1:], comm)
    report = gk.check_package(twice)["cells"]
    assert not report.ok and sum("is used by 11 cells" in problem for problem in report.problems) == 1, report.problems


def test_check_partition_names_what_it_was_given_instead_of_a_pandas_error():
    """A list, a frame without a column, and a grid package's units layer (coded in
    ``code``, with streets and districts) given as the units: AttributeError and
    KeyError 'community_code' from pandas before; each named now, with the fix."""
    units = gpd.GeoDataFrame({"community_code": ["A"]}, geometry=[shapely.box(0, 0, 2, 1)])
    cells = gpd.GeoDataFrame({"community_code": ["A"], "grid_id": ["A1"]}, geometry=[shapely.box(0, 0, 2, 1)])
    assert gk.check_partition(cells, units).ok
    with pytest.raises(gk.InputError, match=r"^the cells are a list, not a GeoDataFrame$"):
        gk.check_partition(list(cells.geometry), units)
    with pytest.raises(gk.InputError, match=r"^the cells have no column 'grid_id'; their columns are: "
                                            r"community_code; id_field= and unit_key= name the columns"):
        gk.check_partition(cells.drop(columns="grid_id"), units)
    layer = units.rename(columns={"community_code": "code"}).assign(level="community")
    with pytest.raises(gk.InputError, match=r"^the units have no column 'community_code'; their columns are: code, "
                                            r"level; .*its communities are gridkit\.rebalance\.communities_of"):
        gk.check_partition(cells, layer)
    with pytest.raises(gk.InputError, match=r"^the grids have no column 'grid_id' \(did you mean 'GRID_ID'\?\)"):
        gk.invariants.check_micro_grids(cells.assign(micro_id="A101"), units.rename(columns={"community_code":
                                                                                              "GRID_ID"}))
