"""``gridkit grid adopt`` and ``adopted_grid``: a grid layer drawn elsewhere, brought into a grid package."""

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
import shapely.affinity
from click.testing import CliRunner

import gridkit as gk
from gridkit.adopt import (_without_pinholes, adopted_grid, adopted_micro_grids, community_boundaries, fitted_cells,
                           snapped_cells)
from gridkit.errors import CodeError, InputError
from gridkit.invariants import check_micro_grids
from gridkit.locator import Locator
from gridkit_cli.main import cli

from .conftest import SAMPLES, community_frame, micro_halves

X0, Y0 = 500_000.0, 4_400_000.0  # EPSG:4548


def _run(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


@pytest.fixture(scope="module")
def made(dongcheng):
    """Dongcheng's unit grid as gridkit makes it: the layout a city's platform holds."""
    return gk.unit_grid(dongcheng, start_date="2020-05-01")


def _platform_file(cells, path, **changes):
    """``cells`` as another platform keeps them: a GBK Shapefile with the ID as a
    number (WGBM), community and street names in Chinese (SQMC, JDMC), a column
    of its own (GLY, the grid manager), in lon/lat. ``changes``: column → values."""
    frame = gpd.GeoDataFrame({
        "WGBM": cells["grid_id"].astype("int64").to_numpy(),
        "SQMC": [f"社区{c[-3:]}" for c in cells["community_code"]],
        "JDMC": "东华门街道",
        "GLY": [f"网格员{i % 7}" for i in range(len(cells))],
    }, geometry=cells.geometry.to_crs(4326).values, crs=4326)
    for column, values in changes.items():
        frame[column] = values
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    return path


def test_a_platform_shapefile_becomes_the_package_gridkit_would_have_made(made, tmp_path):
    source = _platform_file(made, tmp_path / "wg.shp")
    out = tmp_path / "city.gpkg"
    result = _run("grid", "adopt", source, "--metric-crs", "EPSG:4548", "-o", out, "--preview", tmp_path / "c.png")
    assert result.exit_code == 0, result.output
    assert f"cells        {len(made):,} (grid IDs from WGBM; names from SQMC (community), JDMC (street))" \
        in result.output
    assert "units        1 county, 1 street, 8 communities (each the union of its cells)" in result.output
    assert "check        ok" in result.output and "kept         columns GLY" in result.output
    assert f"\nmap          {tmp_path / 'c.png'}\noutput       {out}\n" in result.output
    cells, units, meta = gk.read_package(out)
    assert cells["grid_id"].tolist() == made["grid_id"].tolist()  # made sorts by ID too
    assert (cells["sequence"] == made["sequence"]).all()
    assert cells["community_name"].tolist() == [f"社区{c[-3:]}" for c in made["community_code"]]
    assert set(cells["street_name"]) == {"东华门街道"} and cells["provisional"].all()
    assert cells["GLY"].tolist()[:8] == [f"网格员{i}" for i in range(7)] + ["网格员0"]
    # Through lon/lat and a Shapefile the cells move by float noise only.
    assert shapely.hausdorff_distance(cells.geometry.values, made.geometry.values).max() < 1e-6
    communities = units[units["level"] == "community"].reset_index(drop=True)
    assert communities["code"].tolist() == _community_codes(made)
    differ = shapely.area(shapely.symmetric_difference(communities.geometry.values,
                                                       _own_communities(made)))
    assert differ.max() < 1e-3
    assert all(report.ok for report in gk.check_package(out).values())
    info = gk.package.describe_package(out)
    assert info["layout"] == "adopted grids" and info["parameters"]["id_field"] == "WGBM"
    assert (tmp_path / "c.png").stat().st_size > 10_000
    # Every cell's centre is located in its own cell.
    centres = shapely.point_on_surface(cells.geometry.values)
    index, status, _ = Locator.from_package(out).cell_index(shapely.get_x(centres), shapely.get_y(centres))
    assert (index == np.arange(len(cells))).all() and (status == 0).all()


def _community_codes(cells):
    return sorted(set(cells["community_code"]))


def _own_communities(cells):
    geoms, codes = cells.geometry.values, cells["community_code"].to_numpy()
    return [shapely.union_all(geoms[codes == c]) for c in _community_codes(cells)]


def test_cells_without_a_well_formed_id_stop_the_run_each_named(made, tmp_path):
    ids = made["grid_id"].astype(object).to_numpy().copy()
    ids[[4, 40, 400]] = ["11010190060001", None, ids[400][:12] + "000"]
    source = tmp_path / "wg.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"WGBM": ids}, geometry=made.geometry.values, crs=made.crs), source)
    result = _run("grid", "adopt", source, "-o", tmp_path / "out.gpkg")
    assert result.exit_code == 1
    assert (f"3 of {len(made):,} cells have no well-formed grid ID in 'WGBM': feature 5: grid ID '11010190060001' "
            f"is not 15 digits; feature 41: no grid ID; feature 401: grid ID '{ids[400]}': sequence 000 is not "
            "used") in result.output
    assert not (tmp_path / "out.gpkg").exists()


def test_ids_in_full_width_digits_are_adopted_as_their_digits():
    squares = [shapely.box(X0 + i * 100, Y0, X0 + (i + 1) * 100, Y0 + 100) for i in range(2)]
    frame = gpd.GeoDataFrame({"WGBM": ["１１０１０１００１００１００１", "110101001001002"]}, geometry=squares, crs=4548)
    cells, units = adopted_grid(frame)
    assert cells["grid_id"].tolist() == ["110101001001001", "110101001001002"]
    assert units["community_code"].tolist() == ["110101001001"]


def test_the_id_column_is_found_or_asked_for(tmp_path):
    square = [shapely.box(X0, Y0, X0 + 100, Y0 + 100)]
    frame = gpd.GeoDataFrame({"BH": ["x"], "code": ["110101001001001"]}, geometry=square, crs=4548)
    cells, _ = adopted_grid(frame)
    assert cells.attrs["summary"]["id_field"] == "code" and cells["grid_id"].tolist() == ["110101001001001"]
    with pytest.raises(InputError, match="no column of 15-digit grid IDs found; name it \\(--id-field\\). "
                                         "Columns are: BH"):
        adopted_grid(frame.drop(columns="code"))
    with pytest.raises(InputError, match="no column 'WGBM' for the grid IDs; columns are: BH, code"):
        adopted_grid(frame, id_field="WGBM")
    with pytest.raises(InputError, match=r"no column 'Code' \(did you mean 'code'\?\) for the grid IDs"):
        adopted_grid(frame, id_field="Code")


def test_duplicated_ids_and_overlaps_are_reported_and_the_package_written(made, tmp_path):
    cells = made.iloc[:6].copy()
    geoms = cells.geometry.values.copy()
    x0, y0, x1, y1 = geoms[2].bounds
    halves = [shapely.clip_by_rect(geoms[2], x0, y0, (x0 + x1) / 2, y1),
              shapely.clip_by_rect(geoms[2], (x0 + x1) / 2, y0, x1, y1)]
    geoms[2] = halves[0]
    geoms[4] = shapely.affinity.translate(geoms[4], xoff=-3)  # 3 m into its western neighbour
    split = gpd.GeoDataFrame({"grid_id": [*cells["grid_id"], cells["grid_id"].iloc[2]]},
                             geometry=[*geoms, halves[1]], crs=made.crs)
    source = tmp_path / "wg.gpkg"
    pyogrio.write_dataframe(split, source)
    out, problems = tmp_path / "out.gpkg", tmp_path / "problems.gpkg"
    result = _run("grid", "adopt", source, "-o", out, "--problems", problems)
    assert result.exit_code == 0, result.output
    first = cells["grid_id"].iloc[2]
    assert "check        2 problem(s); fix them (QGIS) and run gridkit check" in result.output
    assert f"grid_id {first} is used by 2 cells: give all but one a free ID ({int(cells['grid_id'].max()) + 1} " \
        "is the next after its unit's highest)" in result.output
    assert f"cells {cells['grid_id'].iloc[3]} and {cells['grid_id'].iloc[4]} overlap by 300 m²" in result.output
    assert len(pyogrio.read_dataframe(problems, layer="problems")) == 2
    checked = _run("check", out)
    assert checked.exit_code == 1 and f"grid_id {first} is used by 2 cells" in checked.output
    # The platform's next version, fixed, adopted over both files: the problems layer is emptied.
    pyogrio.write_dataframe(cells, source)
    again = _run("grid", "adopt", source, "-o", out, "--problems", problems, "--overwrite")
    assert again.exit_code == 0 and "check        ok" in again.output, again.output
    assert len(pyogrio.read_dataframe(problems, layer="problems")) == 0


def test_community_boundaries_find_gaps_and_communities_the_file_lacks(tmp_path):
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200), shapely.box(X0 + 300, Y0, X0 + 600, Y0 + 200)])
    cells = gk.unit_grid(comm)
    source = tmp_path / "wg.gpkg"
    kept = (cells["grid_id"] != "110101001001004").to_numpy()  # a cell missing: a gap in community 001
    pyogrio.write_dataframe(cells[kept].drop(columns=["community_name"]), source)
    boundaries = tmp_path / "sq.gpkg"  # community 002's boundary is missing from the file
    pyogrio.write_dataframe(comm.iloc[:1].assign(SQBM=comm["community_code"].iloc[:1], NAME="东四")[
        ["SQBM", "NAME", "geometry"]], boundaries)
    out = tmp_path / "out.gpkg"
    result = _run("grid", "adopt", source, "--units", boundaries, "--units-code-field", "SQBM", "-o", out)
    assert result.exit_code == 0, result.output
    assert ("units        1 county, 1 street, 2 communities (1 from --units, 1 made from their cells: not in "
            "--units)") in result.output
    assert "check        1 problem(s)" in result.output
    assert "unit 110101001001: its cells differ from it by 1e+04 m² (0.167 of its area" in result.output
    cells_out, units, _ = gk.read_package(out)
    named = cells_out.loc[cells_out["community_code"] == "110101001001", "community_name"]
    assert named.unique().tolist() == ["东四"]
    assert units.loc[units["level"] == "community", "code"].tolist() == ["110101001001", "110101001002"]
    # The communities of a grid package, as --units without --units-code-field: the
    # same gap found against the package's community 001 (002 comes from the package too).
    package = gk.write_package(tmp_path / "made.gpkg", cells, comm)
    from_package = _run("grid", "adopt", source, "--units", package, "-o", tmp_path / "out2.gpkg")
    assert from_package.exit_code == 0, from_package.output
    assert (f"note: {package} is a grid package: its 2 communities are read (--units-layer units --units-where "
            "\"level = 'community'\" --units-code-field code; give --units-layer to read another layer)"
            ) in from_package.output
    assert "units        1 county, 1 street, 2 communities (boundaries from --units)" in from_package.output
    assert "unit 110101001001: its cells differ from it by 1e+04 m² (0.167 of its area" in from_package.output


def test_an_exported_units_layer_is_read_as_its_communities(tmp_path):
    """`gridkit export --layer all` writes the units layer as one file of counties,
    streets and communities: as --units (adopt) or BOUNDARIES (grid households), its
    communities are read, as a package's are, in a Shapefile (renamed columns) or a
    KML (names in Name). Before, adopt asked for --units-code-field, then refused the
    county's 6-digit code; grid households refused the mixed levels."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200), shapely.box(X0 + 300, Y0, X0 + 600, Y0 + 200)])
    package = gk.write_package(tmp_path / "made.gpkg", gk.unit_grid(comm), comm)
    assert _run("export", package, "--layer", "all", "-o", tmp_path / "made.shp").exit_code == 0
    assert _run("export", package, "--layer", "units", "-o", tmp_path / "units.kml").exit_code == 0
    adopted = _run("grid", "adopt", tmp_path / "made_cells.shp", "--units", tmp_path / "made_units.shp",
                   "-o", tmp_path / "adopted.gpkg")
    assert adopted.exit_code == 0, adopted.output
    assert (f"note: {tmp_path / 'made_units.shp'} is a grid package's units layer: its 2 communities are read (as "
            "--units-where \"level = 'community'\" --units-code-field code; give --units-code-field to read every "
            "feature)\n") in adopted.output
    assert "units        1 county, 1 street, 2 communities (boundaries from --units)\n" in adopted.output
    assert "check        ok (largest overlap 0 m²" in adopted.output
    points = tmp_path / "homes.gpkg"
    xy = [(X0 + 15 + 30 * i, Y0 + 15 + 30 * j) for i in range(20) for j in range(7)]
    pyogrio.write_dataframe(gpd.GeoDataFrame(geometry=shapely.points(xy), crs=comm.crs), points)
    divided = _run("grid", "households", tmp_path / "units.kml", "--households", points, "--min-households", "10",
                   "--max-households", "20", "-o", tmp_path / "homes_grid.gpkg")
    assert divided.exit_code == 0, divided.output
    assert "grids        10 in 2 communities (band 10–20, points)\n" in divided.output
    cells, units, _ = gk.read_package(tmp_path / "homes_grid.gpkg")
    assert units[["level", "code", "name"]].values.tolist() == [
        ["county", "110101", ""], ["street", "110101001", ""], ["community", "110101001001", "c0"],
        ["community", "110101001002", "c1"]]
    assert cells.groupby("community_code")["households"].sum().tolist() == [70, 70]
    # Levels of another scheme are not taken for gridkit's: the code column is asked for.
    pyogrio.write_dataframe(comm.assign(level="区县", code=comm["community_code"])[["level", "code", "geometry"]],
                            tmp_path / "other.gpkg")
    asked = _run("grid", "adopt", tmp_path / "made_cells.shp", "--units", tmp_path / "other.gpkg",
                 "-o", tmp_path / "other_adopted.gpkg")
    assert asked.exit_code == 2 and "--units needs --units-code-field" in asked.output
    assert not (tmp_path / "other_adopted.gpkg").exists()


def test_community_boundaries_must_be_communities():
    street = gpd.GeoDataFrame({"code": ["110101001"]}, geometry=[shapely.box(X0, Y0, X0 + 300, Y0 + 200)], crs=4548)
    with pytest.raises(InputError, match="need 12-digit community codes in 'code'; feature 1 has '110101001'"):
        community_boundaries(street, code_field="code")
    provisional = street.assign(code="110101900600")
    assert community_boundaries(provisional, code_field="code")["provisional"].tolist() == [True]


def test_communities_made_of_street_bounded_cells_have_no_pinholes():
    """North Cambridge's street-bounded cells meet along edges with float noise: their
    union has 39 holes of 2e-8 m² at most, and against that union GEOS found 4 cells
    wholly outside the community they tile. The community is the union less such
    holes; a hole of a square metre (a courtyard no cell covers) stays."""
    lines = gk.read_vector(SAMPLES / "cambridge_centerlines.gpkg")
    hoods = gk.read_vector(SAMPLES / "cambridge_neighborhoods.gpkg")
    north = gk.unit_hierarchy(hoods[hoods["NAME"] == "North Cambridge"], name_field="NAME", provisional=True,
                              parent_code="990101", barriers=lines)
    cells = gk.unit_grid(north, barriers=lines)
    assert len(shapely.union_all(cells.geometry.values).interiors) == 39
    adopted, communities = adopted_grid(cells, start_date="2020-01-01")
    report = gk.check_partition(adopted, communities)
    assert report.ok, report.problems
    [community] = communities.geometry.values
    assert community.geom_type == "Polygon" and len(community.interiors) == 0
    yard = shapely.box(0, 0, 100, 100).difference(shapely.box(10, 10, 11, 11))
    pinhole = shapely.box(200, 0, 300, 100).difference(shapely.box(250, 50, 250.0001, 50.0001))
    kept = _without_pinholes(shapely.MultiPolygon([yard, pinhole]))
    assert [len(p.interiors) for p in kept.geoms] == [1, 0] and abs(kept.area - 19_999) < 1e-6
    assert _without_pinholes(yard) is yard


def test_adopting_anew_keeps_the_catalogue(made, tmp_path):
    """The city's platform sends a new version of its grids: adopted over the package,
    the components imported stay, each in the cell that holds it now."""
    out = tmp_path / "city.gpkg"
    assert _run("grid", "adopt", _platform_file(made, tmp_path / "v1.shp"), "-o", out).exit_code == 0
    result = _run("components", "import", SAMPLES / "legacy_inventory.csv", "--grid", out, "--scheme", "legacy",
                  "--crs", "gcj02")
    assert result.exit_code == 0 and "6 rows → 6 imported, 0 rejected" in result.output, result.output
    before = gk.catalogue.read_catalogue(out)
    # Version 2: cell 001 of each community takes the next free sequence.
    ids = made["grid_id"].to_numpy(dtype=object).copy()
    first = np.flatnonzero(made["sequence"].to_numpy() == 1)
    top = made.groupby("community_code")["sequence"].max()
    ids[first] = [c + f"{top[c] + 1:03d}" for c in made["community_code"].iloc[first]]
    source = _platform_file(made, tmp_path / "v2.shp", WGBM=np.array(ids, dtype="int64"))
    result = _run("grid", "adopt", source, "-o", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert "components   6 carried over (layer components)" in result.output
    after = gk.catalogue.read_catalogue(out)
    assert after["GLBJBSM"].tolist() == before["GLBJBSM"].tolist()
    cells, _, _ = gk.read_package(out)
    holder, _, _ = Locator.from_package(out).cell_index(shapely.get_x(after.geometry.values),
                                                  shapely.get_y(after.geometry.values), crs=after.crs)
    assert after["SZDYWGBSM"].tolist() == cells["grid_id"].to_numpy()[holder].tolist()


def test_an_exported_csv_or_kml_is_adopted_back(made, dongcheng, tmp_path):
    """The CSV ``gridkit export`` writes (WKT in the package's metres, its CRS in a .prj
    beside it) and its KML come back as the cells they were: the same IDs and shapes,
    numbers as numbers, no KML placemark columns. Without its .prj, a table of metres
    is refused unless --crs (--grid-crs to locate by it) says what they are."""
    package = tmp_path / "made.gpkg"
    gk.write_package(package, made.assign(households=np.arange(len(made)), ratio=0.5), dongcheng)
    for name in ("cells.csv", "cells.kml", "bare.csv"):
        assert _run("export", package, "-o", tmp_path / name).exit_code == 0
    assert gk.io.table_crs(tmp_path / "cells.csv") == made.crs == pyproj.CRS("EPSG:4548")
    at = shapely.point_on_surface(made.geometry.values[[0, -1]])
    # locate --grid cells.csv, in place; and the workbook (its CRS a document property),
    # which GDAL read as a table without geometry: WKT is read as `grid adopt` reads it
    assert _run("export", package, "-o", tmp_path / "cells.xlsx").exit_code == 0
    for name in ("cells.csv", "cells.xlsx"):
        locator = Locator.from_package(tmp_path / name, cache=False)
        assert locator.crs == made.crs and len(locator) == len(made)
        assert [locator.locate(p.x, p.y, crs=made.crs).grid_id for p in at] == \
            made["grid_id"].iloc[[0, -1]].tolist()
    (tmp_path / "bare.prj").unlink()
    refused = _run("grid", "adopt", tmp_path / "bare.csv", "-o", tmp_path / "no.gpkg")
    assert refused.exit_code != 0 and not (tmp_path / "no.gpkg").exists()
    assert ("bare.csv: the table has no CRS label (no .prj beside a CSV nor CRS property in a workbook, as "
            "gridkit export writes them) and its coordinates are not longitude/latitude") in refused.output
    with pytest.raises(gk.errors.CRSError, match=r"bare\.csv: a table of cells has no CRS label \(no \.prj beside "
                                                 r"a CSV, no CRS property in a workbook\) and its coordinates are "
                                                 r"not lon/lat; say what they are in with --grid-crs EPSG:"):
        Locator.from_package(tmp_path / "bare.csv", cache=False)  # what locate --grid bare.csv reads
    said = Locator.from_package(tmp_path / "bare.csv", cache=False, crs="EPSG:4548")  # locate --grid-crs EPSG:4548
    assert [said.locate(p.x, p.y, crs=made.crs).grid_id for p in at] == made["grid_id"].iloc[[0, -1]].tolist()
    for name, crs in (("cells.csv", []), ("bare.csv", ["--crs", "EPSG:4548"]), ("cells.kml", [])):
        out = tmp_path / f"{name}.gpkg"
        result = _run("grid", "adopt", tmp_path / name, *crs, "--metric-crs", "EPSG:4548", "-o", out)
        assert result.exit_code == 0, result.output
        assert "kept         columns households, ratio\n" in result.output
        cells = gk.read_package(out)[0]
        assert cells["grid_id"].tolist() == made["grid_id"].tolist()
        assert cells["households"].tolist() == list(range(len(made))) and cells["ratio"].eq(0.5).all()
        assert shapely.equals_exact(cells.geometry.values, made.geometry.values, tolerance=1e-3).all()


def test_cells_and_units_rounded_apart_are_named_as_slivers(made, dongcheng, tmp_path):
    """Cells and communities exported as GeoJSON (7 decimals of lon/lat, about 1 cm)
    and adopted together: where a cell's edge meets its community's edge between two
    of its vertices, the two round apart, and the check finds slivers. The summary
    says so, and what to do; without --units the same cells adopt clean."""
    package = tmp_path / "made.gpkg"
    gk.write_package(package, made, dongcheng)
    assert _run("export", package, "--layer", "cells", "--layer", "units", "-o", tmp_path / "x.geojson").exit_code == 0
    out = tmp_path / "adopted.gpkg"
    result = _run("grid", "adopt", tmp_path / "x_cells.geojson", "--units", tmp_path / "x_units.geojson",
                  "--units-where", "level = 'community'", "--units-code-field", "code", "--metric-crs", "EPSG:4548",
                  "-o", out)
    assert result.exit_code == 0, result.output
    problems = len(gk.check_package(out)["cells"].problems)
    assert problems > 0 and f"check        {problems} problem(s)" in result.output
    assert re.search(r"  hint: every problem is a sliver at most 0\.\d+ cm wide: the cells and --units were "
                     r"rounded apart \(a GeoJSON keeps 7 decimals", result.output)
    alone = _run("grid", "adopt", tmp_path / "x_cells.geojson", "--metric-crs", "EPSG:4548", "-o",
                 tmp_path / "alone.gpkg")
    assert alone.exit_code == 0 and "check        ok" in alone.output and "hint" not in alone.output


def test_a_table_of_wkt_is_read_as_a_layer(tmp_path):
    """read_vector reads a CSV's WKT column: lon/lat as EPSG:4326; a blank value is a
    feature without geometry; a value that is not WKT is named by its row."""
    path = tmp_path / "grids.csv"
    path.write_text("编码,wkt_geom\n0012,\"POLYGON ((116.4 39.9, 116.41 39.9, 116.41 39.91, 116.4 39.9))\"\n"
                    "0013,\n", encoding="utf-8")
    read = gk.read_vector(path)
    assert read.crs.equals(4326) and read["编码"].tolist() == ["0012", "0013"]  # codes keep their zeros
    assert read.geometry.is_empty.tolist() == [False, True] or read.geometry.isna().tolist() == [False, True]
    path.write_text("编码,WKT\n1,POINT (1 2)\n2,POLYGON ((1 2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"grids\.csv: 1 value\(s\) of column WKT are not WKT \(row 2: "
                                         r"'POLYGON \(\(1 2'\); fix or empty them"):
        gk.read_vector(path, crs="EPSG:4548")
    path.write_text("编码,x,y\n1,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"grids\.csv: no column of WKT geometry .* among 编码, x, y"):
        gk.read_vector(path)


def test_a_bad_id_column_is_codeerror(made):
    frame = made.iloc[:3][["grid_id", "geometry"]].assign(grid_id=["1", "2", "3"])
    with pytest.raises(CodeError, match="3 of 3 cells have no well-formed grid ID in 'grid_id'"):
        adopted_grid(frame)


def test_micro_grids_come_with_their_cells(tmp_path):
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200), shapely.box(X0 + 300, Y0, X0 + 600, Y0 + 200)])
    cells = gk.unit_grid(comm)
    source, micro_file = tmp_path / "wg.gpkg", tmp_path / "wwg.shp"
    pyogrio.write_dataframe(cells[["grid_id", "geometry"]], source)
    halves = micro_halves(cells)
    ids, geoms = halves["micro_id"].tolist(), list(halves.geometry.values)
    # A Shapefile as the platform keeps it: the micro ID as text (WWGBM), the manager's name, lon/lat.
    micro = gpd.GeoDataFrame({"WWGBM": ids[::-1], "GLY": [f"网格员{i}" for i in range(len(ids))][::-1]},
                             geometry=geoms[::-1], crs=cells.crs).to_crs(4326)
    pyogrio.write_dataframe(micro, micro_file)
    out = tmp_path / "out.gpkg"
    result = _run("grid", "adopt", source, "--micro", micro_file, "-o", out)
    assert result.exit_code == 0, result.output
    assert "micro-grids  24 in 12 cells (micro IDs from WWGBM)\n" in result.output
    assert "check        micro-grids ok (largest overlap" in result.output
    adopted = gpd.read_file(out, layer="micro_grids")
    assert adopted["micro_id"].tolist() == sorted(ids) and adopted.crs == cells.crs
    assert adopted["grid_id"].tolist() == [i[:15] for i in sorted(ids)] and adopted["GLY"].iloc[0] == "网格员0"
    assert shapely.equals_exact(adopted.geometry.values, np.array(geoms, dtype=object), tolerance=1e-6).all()
    assert set(gk.check_package(out)) == {"cells", "micro_grids"} and gk.check_package(out)["micro_grids"].ok
    loc = Locator.from_package(out)
    inside = shapely.get_coordinates(shapely.point_on_surface(np.array(geoms, dtype=object)))
    found = loc.locate_many(inside[:, 0], inside[:, 1], crs=cells.crs)
    assert found["micro_id"].tolist() == ids and found["grid_id"].tolist() == [i[:15] for i in ids]

    # One micro-grid 10 m into its neighbour, and a cell without any: both reported, the package written.
    shifted = [shapely.affinity.translate(g, xoff=10) if i == 0 else g for i, g in enumerate(geoms)]
    pyogrio.write_dataframe(gpd.GeoDataFrame({"micro_id": ids[:-2]}, geometry=shifted[:-2], crs=cells.crs),
                            micro_file)
    problems = tmp_path / "problems.gpkg"
    broken = _run("grid", "adopt", source, "--micro", micro_file, "-o", out, "--overwrite", "--problems", problems)
    assert broken.exit_code == 0, broken.output
    assert "micro-grids  22 in 11 cells (micro IDs from micro_id); 1 cell has none\n" in broken.output
    assert "check        ok (largest overlap 0 m²" in broken.output
    lines = broken.output.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("check        micro-grids")))
    assert lines[at].startswith("check        micro-grids 3 problem(s); fix them (QGIS) and run gridkit check")
    assert lines[at + 1:at + 4] == [
        f"  micro-grids {ids[0]} and {ids[1]} overlap by 1e+03 m²",  # check_micro_grids' words, as gridkit check's
        f"  grid {ids[0][:15]}: its micro-grids differ from it by 1e+03 m² (0.1 of its area: gaps, or micro-grids "
        "beyond it)",
        f"  grid {ids[-1][:15]} has no micro-grids"]
    written = pyogrio.read_dataframe(problems, layer="problems")
    assert written["layer"].tolist() == ["micro_grids"] * 3 and written["area_m2"].tolist() == [1000.0, 1000.0, 10000.0]
    assert _run("check", out).exit_code == 1


def test_micro_ids_that_name_no_adopted_cell_stop_the_run(tmp_path):
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200)])
    cells = gk.unit_grid(comm)
    source, micro_file = tmp_path / "wg.gpkg", tmp_path / "wwg.gpkg"
    pyogrio.write_dataframe(cells[["grid_id", "geometry"]], source)
    halves = micro_halves(cells)
    ids, geoms = halves["micro_id"].tolist(), list(halves.geometry.values)
    first = ids[0][:15]
    ids[1] = f"{first}00"  # sequence 00
    ids[2] = "110101001009001" + "01"  # a cell not adopted
    ids[3] = None
    owners = [i[:15] if i else None for i in ids]
    owners[4] = "110101001001006"  # its own grid_id column disagrees
    pyogrio.write_dataframe(gpd.GeoDataFrame({"micro_id": ids, "grid_id": owners}, geometry=geoms, crs=cells.crs),
                            micro_file)
    out = tmp_path / "out.gpkg"
    result = _run("grid", "adopt", source, "--micro", micro_file, "-o", out)
    assert result.exit_code == 1 and not out.exists()
    message = " ".join(result.output.split())
    assert (f"{micro_file}: 4 of 12 micro-grids have no well-formed micro ID of an adopted cell in 'micro_id': "
            f"feature 2: micro ID '{first}00' is not a grid ID and a 2-digit sequence from 01; "
            "feature 3: micro ID '11010100100900101': grid 110101001009001 is not among the cells; "
            "feature 4: no micro ID; "
            f"feature 5: micro ID '{ids[4]}' is not under its grid_id 110101001001006. ") in message, message
    assert "(--micro-where)" in message


def test_cells_of_several_parts_are_counted_with_how_far_apart(tmp_path):
    """A cell with a piece far from the rest (a digitising slip the partition check
    cannot see: the piece overlaps nothing) is counted and named with its parts and
    how far apart they lie; a layout of one-part cells has no such line."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200)])
    cells = gk.unit_grid(comm)
    source = tmp_path / "wg.gpkg"
    pyogrio.write_dataframe(cells[["grid_id", "geometry"]], source, promote_to_multi=True)
    plain = _run("grid", "adopt", source, "-o", tmp_path / "plain.gpkg")
    assert plain.exit_code == 0 and "parts " not in plain.output, plain.output
    slipped = cells[["grid_id", "geometry"]].copy()
    slipped.loc[1, "geometry"] = shapely.MultiPolygon([cells.geometry.iloc[1],
                                                       shapely.box(X0 + 2300, Y0 + 100, X0 + 2310, Y0 + 110)])
    pyogrio.write_dataframe(slipped, source, promote_to_multi=True)
    result = _run("grid", "adopt", source, "-o", tmp_path / "slipped.gpkg", "--json")
    assert result.exit_code == 0, result.output
    assert __import__("json").loads(result.stdout)["multipart"] == {
        "cells": 1, "examples": [[cells["grid_id"].iloc[1], 2, 2100.0]]}
    text = _run("grid", "adopt", source, "-o", tmp_path / "again.gpkg")
    assert (f"parts        1 cell(s) of several parts ({cells['grid_id'].iloc[1]}: 2 parts, 2,100 m apart): an "
            "island may be meant, a stray piece is not; look at them in QGIS") in text.output


def _digitised_apart(n=4, side=100.0, slop=0.4, seed=7, x0=X0, community="110101001001"):
    """n × n cells of ``side`` metres, each drawn on its own: every corner moved up
    to ``slop`` m (seeded), so neighbours overlap along some edges and leave
    slivers along others, as cells digitised apart do."""
    rng = np.random.default_rng(seed)
    geoms, ids = [], []
    for row in range(n):
        for col in range(n):
            x, y = x0 + col * side, Y0 + (n - row) * side
            corners = np.array([(x, y - side), (x + side, y - side), (x + side, y), (x, y)])
            geoms.append(shapely.Polygon(corners + rng.uniform(-slop, slop, corners.shape)))
            ids.append(f"{community}{row * n + col + 1:03d}")
    return gpd.GeoDataFrame({"grid_id": ids}, geometry=geoms, crs=4548)


def test_snap_cleans_cells_digitised_apart_into_a_partition():
    """Without --snap, the check names every overlap of cells digitised apart;
    with it, GEOS's coverage cleaner settles them: no overlap, no sliver between
    cells, and no cell moved more than the snapping width from where it was drawn."""
    layer = _digitised_apart()
    cells, communities = adopted_grid(layer, start_date="2026-01-01")
    drawn = gk.check_partition(cells, communities)
    overlaps = [p for p in drawn.problems if " overlap by " in p]
    assert len(overlaps) >= 10 and cells.attrs["summary"]["snapped"] is None
    cells, communities = adopted_grid(layer, start_date="2026-01-01", snap=1.0)
    done = cells.attrs["summary"]["snapped"]
    assert done["overlaps"] == len(overlaps) and done["changed"] >= 12 and 0 < done["largest_m2"] < 1.0 * 400
    assert gk.check_partition(cells, communities).ok
    assert shapely.get_num_interior_rings(communities.geometry.iloc[0]) == 0  # the slivers between cells filled
    assert cells["grid_id"].tolist() == layer["grid_id"].tolist()
    assert (shapely.hausdorff_distance(cells.geometry.values, layer.geometry.values) <= 1.0).all()


def test_snap_refuses_a_cell_drawn_over_another_naming_it(tmp_path):
    layer = _digitised_apart(slop=0.0)
    layer.loc[len(layer)] = ["110101001001017", shapely.box(X0 + 30, Y0 + 330, X0 + 70, Y0 + 370)]
    with pytest.raises(InputError, match=r"^the grid layer: snapping within 1 m would reshape 1 cell\(s\) beyond "
                                         r"their edges: 110101001001017 lies 100% under other cells and would "
                                         r"vanish\. A cell that would vanish, or change "
                                         r"by more than its boundary moved 1 m all round, is not a matter of edges"):
        adopted_grid(layer, snap=1.0)


def test_adopt_names_the_snap_that_cleans_cells_digitised_apart(tmp_path):
    """The hint names the width that cleans them, --snap cleans, and the package checks ok."""
    path, out = tmp_path / "apart.gpkg", tmp_path / "adopted.gpkg"
    _digitised_apart().to_file(path)
    result = _run("grid", "adopt", path, "-o", out)
    assert result.exit_code == 0, result.output
    assert "  hint: every problem is a sliver at most 0.34 m wide: neighbours digitised apart. --snap 0.4 cleans " \
           "them into a coverage (and fills gaps as narrow)" in result.output.splitlines()
    result = _run("grid", "adopt", path, "-o", out, "--snap", 0.4, "--overwrite")
    assert result.exit_code == 0, result.output
    assert re.search(r"^snapped      within 0\.4 m: 22 overlapping pairs resolved, 1\d cells changed", result.output,
                     re.M)
    assert re.search(r"^check        ok ", result.output, re.M) and _run("check", out).exit_code == 0


def test_snap_refuses_a_cell_the_cleaner_drops_and_suggests_another_width(monkeypatch):
    """GEOS 3.14.1's cleaner now and then returns a whole cell empty, one that
    overlaps little (Changping's 134,773 cells moved 0.5 m: one at 0.9 and 1 m).
    Simulated here: the message tells it from a cell drawn over another."""
    layer = _digitised_apart()
    clean = shapely.coverage_clean

    def dropping(geoms, **kwargs):
        cleaned = clean(geoms, **kwargs)
        cleaned[5] = shapely.Polygon()
        return cleaned

    monkeypatch.setattr(shapely, "coverage_clean", dropping)
    with pytest.raises(InputError, match=r"beyond their edges: 110101001001006 would vanish, though it lies only 1% "
                                         r"under other cells \(a fault of GEOS's cleaner at some widths: try 1\.1\)\."):
        adopted_grid(layer, snap=1.0)


def _two_communities_apart():
    """Two communities of 400 m side by side, as their own file draws them, and
    their cells digitised apart (:func:`_digitised_apart`): every edge along a
    community's boundary lies up to 0.4 m off it."""
    cells = pd.concat([_digitised_apart(), _digitised_apart(seed=8, x0=X0 + 400, community="110101001002")],
                      ignore_index=True)
    units = community_frame([shapely.box(X0, Y0, X0 + 400, Y0 + 400), shapely.box(X0 + 400, Y0, X0 + 800, Y0 + 400)])
    return cells, units


def test_snap_with_units_moves_the_cells_edges_onto_their_communitys_boundary():
    """Cleaned among themselves, cells digitised apart still leave a sliver along
    their community's boundary as its own file draws it, for every cell there;
    with the communities given, --snap moves those edges onto the boundary: the
    package checks ok, each community is exactly its cells, and no cell moved more
    than the snapping width from where it was drawn."""
    layer, units = _two_communities_apart()
    cells, communities = adopted_grid(layer, communities=units, start_date="2026-01-01")
    assert len(gk.check_partition(cells, communities).problems) >= 24
    cells, communities = adopted_grid(layer, communities=units, start_date="2026-01-01", snap=1.0)
    done = cells.attrs["summary"]["snapped"]
    assert done["fitted"] == 24 and 0 < done["fitted_m2"] < 24 * 400  # the 12 of each community along its boundary
    report = gk.check_partition(cells, communities)
    assert report.ok, report.problems
    for code, unit in zip(units["community_code"], units.geometry):
        union = shapely.union_all(cells.geometry[cells["community_code"] == code].values)
        assert shapely.area(shapely.symmetric_difference(union, unit)) < 1e-6
    assert (shapely.get_num_geometries(cells.geometry.values) == 1).all()
    cleaned, _ = snapped_cells(layer.geometry.values, layer["grid_id"].to_numpy(), 1.0)
    assert (shapely.hausdorff_distance(cells.geometry.values, cleaned) <= 1.0 + 1e-9).all()


def test_snap_with_units_cuts_a_sliver_beyond_the_boundary_not_a_cell_drawn_deep_over_it():
    """A cell 0.5 m over its community's boundary loses the sliver; one drawn 5 m
    over it stays whole, one part, for the check to name; a cell wholly beyond its
    community, within the width, would vanish: refused, named."""
    layer = _digitised_apart(slop=0.0)
    layer.loc[4, "geometry"] = shapely.box(X0 - 0.5, Y0 + 200, X0 + 100, Y0 + 300)  # 110101001001005, west edge
    layer.loc[8, "geometry"] = shapely.box(X0 - 5, Y0 + 100, X0 + 100, Y0 + 200)  # 110101001001009
    units = community_frame([shapely.box(X0, Y0, X0 + 400, Y0 + 400)])
    cells, communities = adopted_grid(layer, communities=units, snap=1.0)
    assert cells.attrs["summary"]["snapped"]["fitted"] == 1
    assert cells.geometry[4].equals(shapely.box(X0, Y0 + 200, X0 + 100, Y0 + 300))
    assert cells.geometry[8].equals(layer.geometry[8])
    assert gk.check_partition(cells, communities).problems == [
        "cell 110101001001009 lies 500 m² outside its unit",
        "unit 110101001001: its cells differ from it by 500 m² (0.00313 of its area: gaps, or cells beyond it)"]
    layer.loc[len(layer)] = ["110101001001017", shapely.box(X0 - 0.8, Y0 + 300, X0 - 0.1, Y0 + 400)]
    with pytest.raises(InputError, match=r"^the grid layer: snapping within 1 m would reshape 1 cell\(s\) beyond "
                                         r"their edges: 110101001001017 is 0\.7 m across at its widest, narrower "
                                         r"than 1 m, and would vanish\. A cell"):
        adopted_grid(layer, communities=units, snap=1.0)
    with pytest.raises(InputError, match=r"^the grid layer: fitting to the communities' boundaries within 1 m would "
                                         r"reshape 1 cell\(s\) beyond their edges: 110101001001017 lies beyond its "
                                         r"community 110101001001, within 1 m of it, and would vanish\. A cell"):
        fitted_cells(layer.geometry.values, layer["grid_id"].to_numpy(), units, 1.0, source="the grid layer")


def test_adopt_snap_with_units_says_how_many_cells_it_fitted(tmp_path):
    layer, units = _two_communities_apart()
    cells_path, units_path, out = tmp_path / "cells.gpkg", tmp_path / "units.gpkg", tmp_path / "adopted.gpkg"
    layer.to_file(cells_path)
    units.to_file(units_path)
    result = _run("grid", "adopt", cells_path, "--units", units_path, "--units-code-field", "community_code",
                  "--snap", 1, "-o", out)
    assert result.exit_code == 0, result.output
    assert re.search(r"^snapped      within 1 m: \d+ overlapping pairs resolved, \d+ cells changed \(largest "
                     r"[\d.]+ m², 1101010010\d{5}\); 24 fitted to their community's boundary \([\d,]+ m² moved\)$",
                     result.output, re.M), result.output
    assert re.search(r"^check        ok ", result.output, re.M) and _run("check", out).exit_code == 0


def test_fitting_gives_each_gap_to_one_cell_even_one_the_first_grew_into():
    """Two cells 1.5 m apart under a boundary 0.5 m above them: the first fitted
    takes the sliver up to 1 m past its east edge, beyond the box the cells were
    first indexed by, and the second must find it taken (on Changping's 134,773
    cells, 10 overlaps of up to 0.9 m² until it did)."""
    units = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 100)])
    geoms = [shapely.box(X0, Y0, X0 + 99, Y0 + 99.5), shapely.box(X0 + 100.5, Y0, X0 + 200, Y0 + 99.5)]
    fitted, done = fitted_cells(geoms, np.array(["110101001001001", "110101001001002"]), units, 1.0)
    assert done["fitted"] == 2 and (shapely.area(fitted) > shapely.area(geoms)).all()
    assert shapely.area(shapely.intersection(fitted[0], fitted[1])) == 0
    assert shapely.covers(fitted[0], shapely.box(X0, Y0 + 99.5, X0 + 99.5, Y0 + 100))


def test_a_package_layer_saved_as_a_shapefile_by_qgis_is_adopted_with_its_names(made, tmp_path):
    """QGIS's "Save Features As" a Shapefile lets GDAL cut the columns to 10
    characters: community_code and community_name clash at community_, and the
    second becomes communit_1. The names are read from the cut columns, the cut
    codes are not kept beside gridkit's own, and a household grid's columns get
    their names back."""
    cells = made.assign(community_name=[f"社区{c[-3:]}" for c in made["community_code"]], street_name="东华门街道",
                        county_name="东城区", polsby_popper=0.5, flag_detail="")
    path = tmp_path / "saved.shp"
    with pytest.warns(RuntimeWarning, match="Normalized/laundered field name"):  # GDAL cuts, as in QGIS
        pyogrio.write_dataframe(cells, path, encoding="UTF-8")
    fields = set(pyogrio.read_info(path)["fields"])
    assert {"community_", "communit_1", "street_nam", "county_nam", "polsby_pop"} <= fields
    adopted, communities = adopted_grid(gk.read_vector(path))
    summary = adopted.attrs["summary"]
    assert summary["name_fields"] == {"community_name": "communit_1", "street_name": "street_nam",
                                      "county_name": "county_nam"}
    assert summary["kept_columns"] == ["polsby_popper", "flag_detail"]
    assert adopted["community_name"].tolist() == cells.sort_values("grid_id")["community_name"].tolist()
    assert set(communities["street_name"]) == {"东华门街道"} and set(communities["county_name"]) == {"东城区"}
    only_names = tmp_path / "names.shp"  # a layer with names and no codes: the one cut column holds the names
    with pytest.warns(RuntimeWarning, match="Normalized/laundered field name"):
        pyogrio.write_dataframe(cells[["grid_id", "community_name", "geometry"]], only_names, encoding="UTF-8")
    adopted, _ = adopted_grid(gk.read_vector(only_names))
    assert adopted.attrs["summary"]["name_fields"] == {"community_name": "community_"}
    assert adopted["community_name"].iloc[0] == cells.sort_values("grid_id")["community_name"].iloc[0]


def _micro_grids_apart(seed=9, slop=0.3):
    """Two micro-grids in each cell of :func:`_digitised_apart` as drawn before the
    cells were moved (halves of the true cells), every corner moved up to ``slop`` m."""
    rng = np.random.default_rng(seed)
    micro = micro_halves(_digitised_apart(slop=0.0))
    micro["geometry"] = [shapely.Polygon(np.asarray(g.exterior.coords)[:-1] + rng.uniform(-slop, slop, (4, 2)))
                         for g in micro.geometry]
    return micro.rename(columns={"micro_id": "WWGBM"}).drop(columns="grid_id")


def test_snap_cleans_micro_grids_digitised_apart_and_fits_them_to_their_cells():
    """Cells and micro-grids both digitised apart: with snap, the cells are
    cleaned, then the micro-grids among themselves and onto their cells' new
    edges, and both layers check ok; without it, the micro-grids' check fails."""
    layer, micro_layer = _digitised_apart(), _micro_grids_apart()
    cells, _ = adopted_grid(layer, start_date="2026-01-01")
    assert not check_micro_grids(adopted_micro_grids(micro_layer, cells), cells).ok
    cells, communities = adopted_grid(layer, start_date="2026-01-01", snap=1.0)
    micro = adopted_micro_grids(micro_layer, cells, snap=1.0)
    done = micro.attrs["summary"]["snapped"]
    assert done["overlaps"] >= 16 and done["fitted"] == 32  # every micro-grid meets its cell's moved edge
    assert gk.check_partition(cells, communities).ok
    report = check_micro_grids(micro, cells)
    assert report.ok, report.problems
    assert (shapely.get_num_geometries(micro.geometry.values) == 1).all()
    assert (shapely.hausdorff_distance(micro.geometry.values, micro_layer.geometry.values) <= 2.0).all()


def test_adopt_snap_with_micro_says_what_it_did_to_the_micro_grids(tmp_path):
    cells_path, micro_path, out = tmp_path / "cells.gpkg", tmp_path / "micro.gpkg", tmp_path / "adopted.gpkg"
    _digitised_apart().to_file(cells_path)
    _micro_grids_apart().to_file(micro_path)
    result = _run("grid", "adopt", cells_path, "--micro", micro_path, "--snap", 1, "-o", out)
    assert result.exit_code == 0, result.output
    assert re.search(r"^snapped      micro-grids within 1 m: \d+ overlapping pairs resolved, \d+ changed; 32 fitted "
                     r"to their grid's boundary \([\d,]+ m² moved\)$", result.output, re.M), result.output
    assert re.search(r"^check        micro-grids ok ", result.output, re.M) and _run("check", out).exit_code == 0


def test_cells_rounded_apart_by_a_geojson_export_are_named_so(tmp_path):
    """gridkit's own cells, exported to GeoJSON (7 decimals, about 1 cm) and adopted
    back: where a cell's corner lies on its neighbour's edge between two of its
    vertices (streets' T-junctions), the corner rounds off the edge. The hint said
    the neighbours were "digitised apart"; it names the rounding, and --snap cleans."""
    from .conftest import community_frame

    x0, y0 = 500_123.4, 4_400_321.7  # EPSG:4548, Beijing
    comm = community_frame([shapely.box(x0, y0, x0 + 2000, y0 + 100)])
    left = [shapely.box(x0 + 200 * i, y0, x0 + 200 * i + 100, y0 + 100) for i in range(10)]
    right = [shapely.box(x0 + 200 * i + 100, y0 + lo, x0 + 200 * i + 200, y0 + hi)
             for i in range(10) for lo, hi in ((0, 43.21), (43.21, 100))]
    cells = gpd.GeoDataFrame({"grid_id": [f"110101001001{k + 1:03d}" for k in range(30)],
                              "community_code": "110101001001"}, geometry=left + right, crs=4548)
    package = gk.write_package(tmp_path / "t.gpkg", cells, comm)
    assert _run("export", package, "-o", tmp_path / "t.geojson").exit_code == 0
    result = _run("grid", "adopt", tmp_path / "t.geojson", "--metric-crs", "EPSG:4548", "-o", tmp_path / "a.gpkg")
    assert result.exit_code == 0 and "check        ok" not in result.output, result.output
    assert re.search(r"^  hint: every problem is a sliver at most 0\.00\d+ m wide: neighbours rounded apart "
                     r"\(a GeoJSON keeps 7 decimals of lon/lat, about 1 cm\)\. --snap 0\.1 cleans them", result.output,
                     re.M)
    result = _run("grid", "adopt", tmp_path / "t.geojson", "--metric-crs", "EPSG:4548", "--snap", 0.1, "-o",
                  tmp_path / "s.gpkg")
    assert result.exit_code == 0 and "check        ok" in result.output, result.output


def test_a_snapping_width_that_is_no_finite_number_above_0_and_frames_by_mistake_are_refused():
    """fitted_cells took a width of 0 or NaN (nothing moved, unsaid), and one of inf
    or "1" to a GEOS or numpy error; adopted_micro_grids took a list to an
    AttributeError."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 100)])
    cells = gk.unit_grid(comm)
    geoms, ids = cells.geometry.values, cells["grid_id"].to_numpy()
    for width in (0, float("nan"), float("inf"), "1", True):
        for fit in (lambda: fitted_cells(geoms, ids, comm, width), lambda: snapped_cells(geoms, ids, width)):
            with pytest.raises(InputError, match=rf"^the snapping width must be a number of metres above 0, not "
                                                 rf"{re.escape(repr(width))}$"):
                fit()
    with pytest.raises(InputError, match=r"^the micro-grids are a list, not a GeoDataFrame"):
        adopted_micro_grids([1], cells)
    with pytest.raises(InputError, match=r"^the cells have no column 'grid_id'"):
        adopted_micro_grids(cells, cells.drop(columns="grid_id"))
