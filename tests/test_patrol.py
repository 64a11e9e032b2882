"""Patrol coverage (gridkit.patrol, gridkit patrol): metres and minutes per cell."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit.errors import InputError
from gridkit.locator import Locator
from gridkit.patrol import WALKED, coverage_cells, patrol_coverage, track_pieces
from gridkit_cli.main import cli

from .conftest import community_frame

IDS = ["990101900600001", "990101900600002", "990101900600003"]


@pytest.fixture()
def three():
    """Three 100 m cells in a row, x 0–300, y 0–100 (UTM 19N)."""
    cells = gpd.GeoDataFrame({"grid_id": IDS, "community_code": ["990101900600"] * 3},
                             geometry=[shapely.box(100 * k, 0, 100 * (k + 1), 100) for k in range(3)], crs=32619)
    return Locator(cells)


def test_a_track_is_cut_exactly_where_it_crosses_cells_and_timed_by_length(three):
    """A walk west → east over three cells and back into the first, with a stand
    in place, a break and a jump: exact metres, minutes, entries, times."""
    x = [50, 250, 250, 150, 150, 5000, 160, 50]
    y = [50, 50, 50, 50, 50, 50, 60, 50]
    t = pd.to_datetime(["08:00:00", "08:04:00", "08:06:00", "08:07:00", "09:00:00", "09:00:10", "09:00:20",
                        "09:01:00"], format="%H:%M:%S")
    table, summary = patrol_coverage(three, x, y, times=t)
    # 50→250 (4 min over 200 m): 50 m in cell 0, 100 in 1, 50 in 2; stand at 250 for 2 min; 250→150 in 1 min;
    # 150→150 over 53 min is a break; 150→5000 and 5000→160 are jumps; 160,60→50,50 (40 s) ends the walk.
    back = np.hypot(110, 10)
    assert table.index.tolist() == [0, 1, 2]
    # The last walk crosses x = 100 60/110 of the way along: 60/110 of it in cell 1, 50/110 in cell 0.
    assert table["metres"].to_numpy() == pytest.approx([50 + back * 50 / 110, 100 + 50 + back * 60 / 110, 50 + 50])
    assert table["minutes"].to_numpy() == pytest.approx([1 + 40 / 60 * 50 / 110, 2 + 0.5 + 40 / 60 * 60 / 110,
                                                         1 + 2 + 0.5])
    assert table["entries"].tolist() == [2, 3, 1]  # back into cell 1 after the jumps: entered again
    assert [str(v.time()) for v in table["first_at"]] == ["08:00:00", "08:01:00", "08:03:00"]
    assert str(table["last_at"].iloc[0].time()) == "09:01:00"
    assert (summary["breaks"], summary["jumps"], summary["minutes_in_breaks"]) == (1, 2, 53.0)
    assert summary["metres_walked"] == pytest.approx(200 + 100 + back)
    assert summary["metres_in_cells"] == pytest.approx(summary["metres_walked"])
    assert summary["minutes_walked"] == pytest.approx(4 + 2 + 1 + 40 / 60)


def test_a_walk_along_a_shared_edge_is_credited_once_and_outside_to_no_cell(three):
    """Along the edge x = 100 between cells 0 and 1: once, to the cell a point on
    it is located in (the east one); the stretch beyond the layout to none."""
    pieces = track_pieces(three, [100, 100, 100], [10, 90, 150])
    assert pieces.cell.tolist() == [1, 1]
    assert pieces.metres.tolist() == pytest.approx([80, 10])
    table, summary = patrol_coverage(three, [100, 100, 100], [10, 90, 150])
    assert table["metres"].tolist() == pytest.approx([90])
    assert table["minutes"].isna().all() and "first_at" not in table
    assert summary["metres_walked"] == pytest.approx(140) and summary["metres_in_cells"] == pytest.approx(90)


def test_fixes_are_sorted_by_time_within_each_track_and_tracks_kept_apart(three):
    """Two workers' fixes interleaved and out of order: each track on its own."""
    x, y = [250, 50, 50, 250], [50, 50, 60, 60]
    t = pd.to_datetime(["08:02", "08:00", "08:00", "08:02"], format="%H:%M")
    table, summary = patrol_coverage(three, x, y, times=t, tracks=["A", "A", "B", "B"])
    assert summary["tracks"] == 2 and summary["jumps"] == 0
    assert table["metres"].to_numpy() == pytest.approx([100, 200, 100])
    assert table["tracks"].tolist() == [2, 2, 2] and table["entries"].tolist() == [2, 2, 2]


def test_cambridge_patrol_matches_a_geopandas_overlay_cell_by_cell(tmp_path, samples):
    """The shipped patrol (three simulated workers on Cambridge's real streets,
    1,039 fixes): every cell's metres as geopandas' overlay of the walked segments
    with the cells gives them; the coverage lists each cell of the communities
    walked in once, and its sums add up to the summary."""
    comm = gk.unit_hierarchy(gk.read_vector(samples / "cambridge_neighborhoods.gpkg"), provisional=True,
                             parent_code="990101900", name_field="NAME")
    locator = Locator(gk.unit_grid(comm).to_crs(32619))
    track = pyogrio.read_dataframe(samples / "cambridge_patrol.gpx", layer="track_points")
    x, y = pyproj.Transformer.from_crs(4326, 32619, always_xy=True).transform(track.geometry.x, track.geometry.y)
    table, summary = patrol_coverage(locator, x, y, times=track["time"], tracks=track["track_fid"])
    assert (summary["fixes"], summary["tracks"], summary["breaks"], summary["jumps"]) == (1039, 3, 1, 4)
    pieces = track_pieces(locator, x, y, times=track["time"], tracks=track["track_fid"])
    walked = np.flatnonzero(pieces.kind == WALKED)
    segments = gpd.GeoDataFrame(geometry=shapely.linestrings(np.stack([np.column_stack([x, y])[walked],
                                                                       np.column_stack([x, y])[walked + 1]], axis=1)),
                                crs=32619)
    every = coverage_cells(locator, table, scope="all")
    cells = every[["grid_id", "geometry"]]
    overlay = gpd.overlay(segments, cells, how="intersection", keep_geom_type=True)
    expected = overlay.assign(m=overlay.length).groupby("grid_id")["m"].sum()
    got = pd.Series(table["metres"].to_numpy(), index=locator.values("grid_id")[table.index.to_numpy()])
    assert sorted(got.index) == sorted(expected.index)
    assert np.abs(got.sort_index().to_numpy() - expected.sort_index().to_numpy()).max() < 1e-6
    coverage = coverage_cells(locator, table)
    assert coverage["grid_id"].is_unique and coverage["patrolled"].sum() == len(table) == 101
    walked_in = set(coverage.loc[coverage["patrolled"], "community_code"])
    assert set(coverage["community_code"]) == walked_in
    assert len(coverage) == every["community_code"].isin(walked_in).sum() == 1303
    assert coverage["metres"].sum() == pytest.approx(summary["metres_in_cells"])
    assert coverage["minutes"].sum() == pytest.approx(summary["minutes_in_cells"])


def _dongcheng_like(tmp_path):
    """A package of two 100 m cells in Dongcheng (CGCS2000 GK zone 39)."""
    comm = community_frame([shapely.box(39_500_000, 4_420_000, 39_500_200, 4_420_100)], codes=["110101001001"],
                           crs=4527)
    return gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)


def test_patrol_command_reads_a_table_of_workers_fixes_and_sends_bad_rows_to_rejects(tmp_path):
    """A phone app's table: 设备号, 定位时间 (Beijing time, no zone), 经度/纬度 in
    GCJ-02, two workers. A fix with no position, one with a blank time and one with
    a time that is no time are rejected by row, with the reason; the rest counted."""
    grid = _dongcheng_like(tmp_path)
    to_lonlat = pyproj.Transformer.from_crs(4527, 4326, always_xy=True)
    xs = [39_500_050, 39_500_150, 39_500_150, 39_500_050, 39_500_150, 39_500_060, 39_500_070]
    lon, lat = to_lonlat.transform(xs, [4_420_050] * 7)
    lon, lat = gk.wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))
    table = pd.DataFrame({"设备号": ["A", "A", "B", "B", "B", "A", "B"],
                          "定位时间": ["2026-11-20 08:00:00", "2026-11-20 08:02:00", "2026-11-20 08:00:00",
                                   "2026-11-20 08:01:00", "", "2026-11-20 8:03", "tomorrow"],
                          "经度": [f"{v:.8f}" for v in lon], "纬度": [f"{v:.8f}" for v in lat]})
    table.loc[5, "经度"] = ""
    table.to_csv(tmp_path / "fixes.csv", index=False, encoding="utf-8-sig")
    out = tmp_path / "coverage.xlsx"
    result = CliRunner().invoke(cli, ["patrol", str(tmp_path / "fixes.csv"), "--grid", str(grid), "--crs", "gcj02",
                                      "--track-field", "设备号", "--time-zone", "Asia/Shanghai", "-o", str(out),
                                      "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert (summary["fixes"], summary["rejected"], summary["tracks"]) == (4, 3, 2)
    assert summary["rejected_by_reason"] == {"missing_coordinates": 1, "missing_time": 1, "bad_time": 1}
    rejects = pd.read_csv(tmp_path / "coverage.rejects.csv", dtype=str)
    assert rejects[["row", "reason"]].values.tolist() == [["5", "missing_time"], ["6", "missing_coordinates"],
                                                         ["7", "bad_time"]]
    assert rejects["detail"].iloc[2] == "定位时间 = 'tomorrow' is no date and time"
    coverage = pd.read_excel(out, sheet_name="coverage", dtype={"grid_id": str}, engine="calamine")
    assert coverage["metres"].tolist() == pytest.approx([100.0, 100.0], abs=0.01)  # A: 50→150, B: 150→50
    assert coverage["minutes"].tolist() == pytest.approx([1.5, 1.5], abs=1e-3)
    # A walks 50 → 150 from 08:00 to 08:02, B 150 → 50 from 08:00 to 08:01: each starts in a cell of its own.
    assert coverage["first_at"].tolist() == ["2026-11-20 08:00:00+08:00"] * 2
    assert coverage["last_at"].tolist() == ["2026-11-20 08:01:00+08:00", "2026-11-20 08:02:00+08:00"]


def test_a_table_of_lon_lat_that_does_not_say_gps_or_gcj02_is_told_which_reading_would_move_it(tmp_path):
    """A patrol app's table of lon/lat (设备号, 定位时间, 经度, 纬度) says nothing of
    which of China's systems its positions are in. An app on Amap writes GCJ-02,
    500 m off GPS in Beijing; read as GPS by default, a walk in the middle of the
    layout stays inside it, in cells it never entered, and nothing was said: no fix
    outside gave the sign. Now the summary says how many would lie in another cell
    read as GCJ-02, and which --crs says what the file is. Said either way (or by a
    .prj beside the table), nothing is added; read as GCJ-02, the walk is credited to
    the cells it walked."""
    comm = community_frame([shapely.box(39_500_000, 4_420_000, 39_502_000, 4_422_000)], codes=["110101001001"],
                           crs=4527)
    grid = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)
    walk_x = np.r_[np.linspace(39_500_850, 39_501_150, 16), np.full(15, 39_501_150.0)]  # east, then north
    walk_y = np.r_[np.full(16, 4_420_850.0), np.linspace(4_420_870, 4_421_150, 15)]
    lon, lat = pyproj.Transformer.from_crs(4527, 4326, always_xy=True).transform(walk_x, walk_y)
    times = pd.date_range("2026-11-20 08:00", periods=31, freq="20s").strftime("%Y-%m-%d %H:%M:%S")
    for name, (x, y) in {"gps.csv": (lon, lat), "amap.csv": gk.wgs84_to_gcj02(lon, lat)}.items():
        pd.DataFrame({"设备号": "A", "定位时间": times, "经度": np.round(x, 7), "纬度": np.round(y, 7)}).to_csv(
            tmp_path / name, index=False)

    def patrol(name, *options):
        result = CliRunner().invoke(cli, ["patrol", *[str(tmp_path / n) for n in name.split()], "--grid",
                                          str(grid), "-o", str(tmp_path / "coverage.csv"), "--overwrite",
                                          *options, "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.splitlines()[-1])
        table = pd.read_csv(tmp_path / "coverage.csv", dtype={"grid_id": str})
        return summary, sorted(table.loc[table["patrolled"], "grid_id"])

    hint = ("the file does not say which system its lon/lat are in, so they were read as GPS (WGS84); read as "
            "GCJ-02 (Amap's, Tencent's), 100% of them would lie in another cell: give --crs gcj02 if they come "
            "from an app on such a map (--crs bd09 on Baidu's), or --crs EPSG:4326 if from GPS")
    walked, _ = patrol("gps.csv", "--crs", "EPSG:4326")
    assert "offset_hint" not in walked
    assert walked["metres_in_cells"] == pytest.approx(600.0, abs=0.5)
    _, cells = patrol("gps.csv", "--crs", "EPSG:4326", "--scope", "patrolled")
    assert len(cells) == 7  # 300 m east through 4 cells, then 300 m north through 3 more
    unsaid, moved = patrol("amap.csv", "--scope", "patrolled")
    assert unsaid["offset_hint"] == hint and unsaid["metres_in_cells"] == pytest.approx(unsaid["metres_walked"])
    assert not set(moved) & set(cells)  # every fix inside, in cells 500 m from those walked
    said, right = patrol("amap.csv", "--crs", "gcj02", "--scope", "patrolled")
    assert "offset_hint" not in said and right == cells
    assert patrol("gps.csv")[0]["offset_hint"] == hint  # GPS, but nothing said so either
    both, _ = patrol("amap.csv gps.csv")
    assert both["offset_hint"] == "amap.csv: " + hint + " (1 more file alike)"
    (tmp_path / "gps.prj").write_text(pyproj.CRS.from_epsg(4326).to_wkt())
    assert "offset_hint" not in patrol("gps.csv")[0]
    located = CliRunner().invoke(cli, ["locate", str(tmp_path / "amap.csv"), "--grid", str(grid), "-o",
                                       str(tmp_path / "located.csv")])
    assert located.exit_code == 0 and f"  hint: {hint}\n" in located.output
    imported = CliRunner().invoke(cli, ["components", "import", str(tmp_path / "amap.csv"), "--grid", str(grid),
                                        "--class", "01001"])
    assert imported.exit_code == 0 and f"  hint: {hint}\n" in imported.output


def test_patrol_command_refuses_what_it_cannot_read_and_keeps_an_existing_output(tmp_path, samples):
    grid = _dongcheng_like(tmp_path)
    pd.DataFrame({"lon": [116.4], "lat": [39.9], "when": ["08:00"]}).to_csv(tmp_path / "a.csv", index=False)
    out = tmp_path / "coverage.gpkg"
    out.write_bytes(b"an earlier run")
    run = CliRunner().invoke
    exists = run(cli, ["patrol", str(tmp_path / "a.csv"), "--grid", str(grid), "-o", str(out)])
    assert exists.exit_code != 0 and "exists; pass --overwrite" in exists.output
    unknown = run(cli, ["patrol", str(tmp_path / "a.csv"), "--grid", str(grid), "-o", str(out), "--overwrite",
                        "--time-field", "time"])
    assert unknown.exit_code == 1
    assert "a.csv: --time-field 'time' is not a column (the columns: lon, lat, when)" in unknown.output
    zone = run(cli, ["patrol", str(tmp_path / "a.csv"), "--grid", str(grid), "-o", str(out), "--overwrite",
                     "--time-zone", "Beijing"])
    assert zone.exit_code == 2 and "'Beijing' is no time zone" in zone.output
    gpx = str(samples / "cambridge_patrol.gpx")
    untimed = run(cli, ["patrol", gpx, str(tmp_path / "a.csv"), "--grid", str(grid), "-o", str(out), "--overwrite"])
    assert untimed.exit_code == 1
    assert ("a.csv has no time column and the others have: name it with --time-field, or patrol them apart"
            in untimed.output)
    pd.DataFrame({"lon": [116.4], "lat": [39.9], "time": ["2026-11-20 08:00"]}).to_csv(tmp_path / "b.csv", index=False)
    naive = run(cli, ["patrol", gpx, str(tmp_path / "b.csv"), "--grid", str(grid), "-o", str(out), "--overwrite"])
    assert naive.exit_code == 1 and "pass --time-zone (Asia/Shanghai) to say which zone" in naive.output
    assert out.read_bytes() == b"an earlier run"
    pd.DataFrame({"lon": ["", "x"], "lat": [39.9, 39.9]}).to_csv(tmp_path / "c.csv", index=False)
    nothing = run(cli, ["patrol", str(tmp_path / "c.csv"), "--grid", str(grid), "-o", str(out), "--overwrite"])
    assert nothing.exit_code == 1
    assert "c.csv: no fix has a position: row 1: lon is blank or not a number (and 1 more)" in nothing.output
    (tmp_path / "d.csv").write_text("lon,lat,time\n")  # a header alone: was an IndexError
    empty = run(cli, ["patrol", str(tmp_path / "d.csv"), "--grid", str(grid), "-o", str(out), "--overwrite"])
    assert empty.exit_code == 1 and "d.csv: no rows, no fixes: nothing was patrolled" in empty.output
    assert out.read_bytes() == b"an earlier run"
    with pytest.raises(InputError, match="patrol coverage is written to .gpkg, .geojson, .csv, .xlsx"):
        from gridkit.patrol import patrol_file
        patrol_file([tmp_path / "a.csv"], grid, tmp_path / "coverage.shp")


def test_patrol_command_on_any_polygon_file_counts_by_community_where_it_can(tmp_path, samples):
    """A layout of bare polygons: with community codes but no names, the
    communities are listed by code; with neither, the coverage is every cell."""
    comm = gk.unit_hierarchy(gk.read_vector(samples / "cambridge_neighborhoods.gpkg"), provisional=True,
                             parent_code="990101900", name_field="NAME")
    cells = gk.unit_grid(comm).to_crs(32619)
    cells[["grid_id", "community_code", "geometry"]].to_file(tmp_path / "coded.gpkg")
    cells[["grid_id", "geometry"]].to_file(tmp_path / "bare.gpkg")
    gpx = str(samples / "cambridge_patrol.gpx")
    coded = CliRunner().invoke(cli, ["patrol", gpx, "--grid", str(tmp_path / "coded.gpkg"), "-o",
                                     str(tmp_path / "coded.csv")])
    assert coded.exit_code == 0, coded.output
    assert "  coverage (community): 101 of 1,303 cells patrolled (8 %)" in coded.output
    assert "\n    990101900600: " in coded.output
    bare = CliRunner().invoke(cli, ["patrol", gpx, "--grid", str(tmp_path / "bare.gpkg"), "-o",
                                    str(tmp_path / "bare.csv")])
    assert bare.exit_code == 0, bare.output
    assert f"  coverage (all: the layout names no communities): 101 of {len(cells):,} cells patrolled" in bare.output
    assert len(pd.read_csv(tmp_path / "bare.csv")) == len(cells)
    # A Shapefile without its .prj: refused with the option that says its CRS (was "set one (e.g. ogr2ogr
    # -a_srs)"), and patrolled as the GeoPackage with it
    cells[["grid_id", "geometry"]].to_file(tmp_path / "bare.shp")
    (tmp_path / "bare.prj").unlink()
    unsaid = CliRunner().invoke(cli, ["patrol", gpx, "--grid", str(tmp_path / "bare.shp"), "-o",
                                      str(tmp_path / "unsaid.csv")])
    assert unsaid.exit_code == 1 and f"{tmp_path / 'bare.shp'}: the cells have no CRS; say what their coordinates " \
        "are in with --grid-crs" in unsaid.output, unsaid.output
    said = CliRunner().invoke(cli, ["patrol", gpx, "--grid", str(tmp_path / "bare.shp"), "--grid-crs", "EPSG:32619",
                                    "-o", str(tmp_path / "said.csv")])
    assert said.exit_code == 0, said.output
    assert f"  coverage (all: the layout names no communities): 101 of {len(cells):,} cells patrolled" in said.output


def test_unit_keeps_the_coverage_to_one_community_by_name_or_code_with_what_was_walked_in_it(tmp_path, samples):
    """--unit: one community's coverage (or a street's), by its name or its code;
    the cells of the communities next door that a worker stepped into are left out,
    and the summary says how far and how long the tracks ran in it. Before, the
    coverage was every community a track touched: 8 % of 1,303 cells. A unit the
    layout lacks is refused before anything is written."""
    grid, gpx = str(_cambridge(tmp_path, samples)), str(samples / "cambridge_patrol.gpx")

    def patrol(out, *extra):
        result = CliRunner().invoke(cli, ["patrol", gpx, "--grid", grid, "-o", str(tmp_path / out), *extra])
        assert result.exit_code == 0, result.output
        return result.output, pd.read_csv(tmp_path / out, dtype={"grid_id": str, "community_code": str})

    _, every = patrol("all.csv", "--scope", "all")
    port = every[every["community_name"] == "The Port"]
    code = port["community_code"].iloc[0]
    assert (len(port), int(port["patrolled"].sum()), code) == (82, 27, "990101900610")
    said, cells = patrol("port.csv", "--unit", "The Port", "--json")
    summary = json.loads(said.splitlines()[-1])
    assert cells["grid_id"].tolist() == port["grid_id"].tolist()  # every cell of it, patrolled or not
    assert (summary["scope"], summary["cells_in_scope"]) == ("all", 82)
    assert summary["communities"] == [{"code": code, "name": "The Port", "cells": 82, "patrolled": 27}]
    assert summary["units"] == {"units": ["990101900610 The Port"], "metres": pytest.approx(port["metres"].sum()),
                                "minutes": pytest.approx(port["minutes"].sum())}
    said, _ = patrol("port2.csv", "--unit", code)
    km, minutes = port["metres"].sum() / 1000, round(port["minutes"].sum())
    assert f"\n  in 990101900610 The Port: {km:,.1f} km in {minutes} min\n" \
           "  coverage (all of --unit): 27 of 82 cells patrolled (33 %)\n" in said, said
    _, two = patrol("two.csv", "--unit", code, "--unit", "Baldwin", "--scope", "patrolled")
    walked = every[every["community_name"].isin(["The Port", "Baldwin"]) & every["patrolled"]]
    assert two["grid_id"].tolist() == walked["grid_id"].tolist() and len(two) == 27 + 3
    _, street = patrol("street.csv", "--unit", "990101900")  # the street: every cell of the layout
    assert street["grid_id"].tolist() == every["grid_id"].tolist()
    result = CliRunner().invoke(cli, ["patrol", gpx, "--grid", grid, "-o", str(tmp_path / "none.csv"),
                                      "--unit", "Port"])
    assert result.exit_code == 1
    assert "no community, street or district of the layout has the code or name 'Port'; its community codes and " \
           "names: 990101900600 North Cambridge, " in result.output
    assert not (tmp_path / "none.csv").exists()
    twins = gpd.GeoDataFrame({"grid_id": IDS, "community_code": ["990101900600", "990101900601", "990101900601"],
                              "community_name": ["东华门", "东华门", "东华门"]},
                             geometry=[shapely.box(100 * k, 0, 100 * (k + 1), 100) for k in range(3)], crs=32619)
    with pytest.raises(InputError, match="'东华门' names 2 units: community 990101900600, community 990101900601; "
                                         "give the code"):
        Locator(twins).cells_in(["东华门"])
    assert Locator(twins).cells_in(["990101900601"])[0].tolist() == [False, True, True]


def test_a_gpx_s_tracks_are_named_as_the_file_names_them(samples):
    """A GPX's tracks keep their names (a worker's, as the unit saved it), read
    from its tracks layer, each point's track by its number there."""
    from gridkit.patrol import read_fixes

    fixes, rejects = read_fixes(samples / "cambridge_patrol.gpx")
    assert fixes["track"].value_counts().sort_index().to_dict() == {
        "cambridge_patrol.gpx:W001": 319, "cambridge_patrol.gpx:W002": 360, "cambridge_patrol.gpx:W003": 360}
    assert len(rejects) == 0 and str(fixes["time"].dtype) == "datetime64[ms, UTC]"



def _cambridge(tmp_path, samples):
    """Cambridge's neighbourhoods gridded (a lattice, in UTM 19N) as a package in ``tmp_path``."""
    path = tmp_path / "cambridge.gpkg"
    if not path.exists():
        comm = gk.unit_hierarchy(gk.read_vector(samples / "cambridge_neighborhoods.gpkg"), provisional=True,
                                 parent_code="990101900", name_field="NAME").to_crs(32619)
        gk.write_package(path, gk.unit_grid(comm), comm)
    return path


def _split_times(samples, shift=pd.Timedelta(0)):
    """The sample GPX's fixes as a table with the local date and time in two columns
    (日期, 时间), as patrol apps export them; ``shift`` moves every time."""
    track = pyogrio.read_dataframe(samples / "cambridge_patrol.gpx", layer="track_points")
    local = pd.to_datetime(track["time"]).dt.tz_convert("America/New_York") + shift
    return pd.DataFrame({"worker": track["track_fid"], "lon": track.geometry.x, "lat": track.geometry.y,
                         "日期": local.dt.strftime("%Y-%m-%d"), "时间": local.dt.strftime("%H:%M:%S")})


def test_a_time_of_day_takes_its_date_from_the_date_column_in_a_csv_and_a_workbook(tmp_path, samples):
    """日期 beside 时间: the fixes are those of the GPX they came from, so the
    coverage is the GPX's, cell for cell, first and last times included (before,
    the time alone was read as today's and the date column ignored)."""
    table = _split_times(samples)
    table.to_csv(tmp_path / "split.csv", index=False)
    workbook = table.assign(日期=pd.to_datetime(table["日期"]).dt.date,  # a workbook's date and time cells
                            时间=pd.to_datetime(table["时间"], format="%H:%M:%S").dt.time)
    workbook.to_excel(tmp_path / "split.xlsx", index=False)
    gpx = CliRunner().invoke(cli, ["patrol", str(samples / "cambridge_patrol.gpx"), "--grid",
                                   str(_cambridge(tmp_path, samples)), "-o", str(tmp_path / "gpx.csv")])
    assert gpx.exit_code == 0, gpx.output
    expected = pd.read_csv(tmp_path / "gpx.csv", dtype={"grid_id": str})
    for name in ("split.csv", "split.xlsx"):
        result = CliRunner().invoke(cli, ["patrol", str(tmp_path / name), "--grid", str(tmp_path / "cambridge.gpkg"),
                                          "--track-field", "worker", "--time-zone", "America/New_York",
                                          "-o", str(tmp_path / f"{name}.csv")])
        assert result.exit_code == 0, result.output
        assert "  times of day on the dates in 日期\n" in result.output
        got = pd.read_csv(tmp_path / f"{name}.csv", dtype={"grid_id": str})
        columns = ["grid_id", "metres", "minutes", "entries", "tracks"]
        pd.testing.assert_frame_equal(got[columns], expected[columns])
        for at in ("first_at", "last_at"):
            assert pd.to_datetime(got[at], utc=True).equals(pd.to_datetime(expected[at], utc=True))


def test_a_table_s_workers_are_told_apart_by_a_column_found_by_name(tmp_path, samples):
    """The split CSV without --track-field: its column worker (巡查员, 设备号, imei …)
    tells the three walks apart, and the coverage is the GPX's, cell for cell, as
    with --track-field worker; the summary names the column found. Before, the three
    walks were one track of 1,038 jumps, and nothing was credited. --track-field
    naming another column wins."""
    table = _split_times(samples)
    grid = str(_cambridge(tmp_path, samples))
    gpx = CliRunner().invoke(cli, ["patrol", str(samples / "cambridge_patrol.gpx"), "--grid", grid,
                                   "-o", str(tmp_path / "gpx.csv"), "--json"])
    assert gpx.exit_code == 0, gpx.output
    expected = pd.read_csv(tmp_path / "gpx.csv", dtype={"grid_id": str})
    assert json.loads(gpx.output.splitlines()[-1])["track_fields_found"] == []  # a GPX's tracks are its own
    for column in ("worker", "巡查员", "Device_ID", "设备号（终端）", "姓名"):
        table.rename(columns={"worker": column}).to_csv(tmp_path / "split.csv", index=False)
        out = tmp_path / f"{len(column)}.csv"
        result = CliRunner().invoke(cli, ["patrol", str(tmp_path / "split.csv"), "--grid", grid,
                                          "--time-zone", "America/New_York", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "1,039 fixes in 3 tracks → 101 cells patrolled, 0 rejected" in result.output
        assert (f"  tracks told apart by {column} (found by name; name another column with --track-field)\n"
                in result.output)
        got = pd.read_csv(out, dtype={"grid_id": str})
        columns = ["grid_id", "metres", "minutes", "entries", "tracks"]
        pd.testing.assert_frame_equal(got[columns], expected[columns])
    named = CliRunner().invoke(cli, ["patrol", str(tmp_path / "split.csv"), "--grid", grid, "--track-field", "日期",
                                     "-o", str(tmp_path / "named.csv"), "--json"])
    assert named.exit_code == 0, named.output
    summary = json.loads(named.output.splitlines()[-1])
    assert (summary["tracks"], summary["jumps"], summary["track_fields_found"]) == (1, 1038, [])


def test_three_workers_read_as_one_track_are_all_jumps_not_a_traceback(tmp_path, samples):
    """The split CSV without --track-field, its worker column named who: no name
    patrol knows, so the three walks are one track, and at the same times every step jumps
    between them. No piece was left to credit, and patrol_coverage stopped on an
    IndexError. It now says 0 cells patrolled, every step a jump, and the hint to name
    the track column; no community was reached, which it says too (it said the layout
    names none)."""
    from gridkit.patrol import read_fixes

    table = _split_times(samples).rename(columns={"worker": "who"})
    table.assign(日期=np.where(np.arange(len(table)) % 2, "2026-11-20", "2026-11-21")).to_csv(tmp_path / "days.csv",
                                                                                           index=False)
    assert read_fixes(tmp_path / "days.csv")[0].attrs["track_candidates"] == ["who"]  # two dates: no track
    table.to_csv(tmp_path / "split.csv", index=False)
    result = CliRunner().invoke(cli, ["patrol", str(tmp_path / "split.csv"), "--grid",
                                      str(_cambridge(tmp_path, samples)), "-o", str(tmp_path / "out.gpkg")])
    assert result.exit_code == 0, result.output
    assert "1,039 fixes in 1 track → 0 cells patrolled, 0 rejected" in result.output
    assert "  not credited: 0 breaks over 5 min, 1,038 jumps" in result.output
    assert ("hint: so many jumps look like several workers' fixes in one track: name the column that tells them "
            "apart with --track-field (who?)\n") in result.output  # 日期: one value, 时间: each its own
    assert "  coverage (community: no track ran in one): 0 of 0 cells patrolled (0 %)\n" in result.output
    assert len(gpd.read_file(tmp_path / "out.gpkg", layer="coverage")) == 0


def test_times_of_day_with_no_date_run_on_past_midnight_in_the_file_order(tmp_path, samples):
    """No date column, and the walks start at 23:30: each track's times go on past
    midnight into the next day (before, 00:00–00:29 sorted first and the walk was
    cut by a 23-hour break); the metres and minutes are the GPX's."""
    from gridkit.patrol import read_fixes

    table = _split_times(samples, pd.Timedelta(hours=15, minutes=30)).drop(columns="日期")
    assert (table["时间"].iloc[0], table["时间"].iloc[-1]) == ("23:30:00", "00:29:50")
    table.to_csv(tmp_path / "times.csv", index=False)
    fixes, rejects = read_fixes(tmp_path / "times.csv", track_field="worker")
    assert len(rejects) == 0 and fixes.attrs["past_midnight"] == 3  # once per worker
    assert fixes.attrs["times_of_day"] and fixes.attrs["date_field"] is None
    step = fixes.groupby("track")["time"].diff().dropna()
    assert step.min() > pd.Timedelta(0) and step.max() < pd.Timedelta(hours=1)  # in order, no day-long break
    result = CliRunner().invoke(cli, ["patrol", str(tmp_path / "times.csv"), "--grid",
                                      str(_cambridge(tmp_path, samples)), "--track-field", "worker",
                                      "-o", str(tmp_path / "times_cov.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["times_of_day"] == {"date_fields": [], "files_without_dates": 1, "past_midnight": 3}
    assert (summary["breaks"], round(summary["minutes_in_breaks"])) == (1, 7)  # the GPX's one break
    gpx, _ = read_fixes(samples / "cambridge_patrol.gpx")
    assert summary["fixes"] == len(gpx)


def test_a_date_or_time_that_cannot_be_read_is_rejected_naming_both(tmp_path):
    from gridkit.patrol import read_fixes

    table = pd.DataFrame({"lon": [116.40, 116.41, 116.42, 116.43, 116.44], "lat": [39.9] * 5,
                          "日期": ["2026-11-20", "2026-11-20", "", "someday", "2026-11-20"],
                          "时间": ["08:00", "08:00:10.5", "08:00:20", "08:00:30", "24:10:00"]})
    table.to_csv(tmp_path / "fixes.csv", index=False)
    fixes, rejects = read_fixes(tmp_path / "fixes.csv")
    assert fixes["time"].tolist() == [pd.Timestamp("2026-11-20 08:00:00"), pd.Timestamp("2026-11-20 08:00:10.5")]
    assert rejects[["row", "reason", "detail"]].values.tolist() == [
        [3, "bad_time", "日期 is blank (the date of 时间 = '08:00:20')"],
        [4, "bad_time", "日期 = 'someday' with 时间 = '08:00:30' is no date and time"],
        [5, "bad_time", "日期 = '2026-11-20' with 时间 = '24:10:00' is no date and time"]]
    with pytest.raises(InputError, match=r"--date-field 'day' is not a column"):
        read_fixes(tmp_path / "fixes.csv", date_field="day")


def test_misread_fixes_are_rejected_naming_the_fix_and_degrees_reads_a_vehicle_s_millionths(tmp_path, samples):
    """A fix at 0,0 and one with latitude and longitude swapped are rejected as
    locate rejects such points (before, they were kept and made 41,521 km of
    jumps); a vehicle terminal's millionths of a degree are refused naming
    --degrees e6, and with it read as the GPX's fixes."""
    grid = str(_cambridge(tmp_path, samples))
    table = _split_times(samples)
    bad = table.copy()
    bad.loc[5, ["lon", "lat"]] = [0.0, 0.0]
    bad.loc[6, ["lon", "lat"]] = [table.loc[6, "lat"], table.loc[6, "lon"]]
    bad.to_csv(tmp_path / "bad.csv", index=False)
    args = ["--grid", grid, "--track-field", "worker", "--json"]
    result = CliRunner().invoke(cli, ["patrol", str(tmp_path / "bad.csv"), *args, "-o", str(tmp_path / "bad.gpkg")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["rejected_by_reason"] == {"zero_coordinates": 1, "latlon_swapped": 1}
    gpx = CliRunner().invoke(cli, ["patrol", str(samples / "cambridge_patrol.gpx"), "--grid", grid, "--json",
                                   "-o", str(tmp_path / "gpx.gpkg")])
    walked = json.loads(gpx.output.splitlines()[-1])
    assert (walked["jumps"], round(walked["jump_metres"])) == (4, 3389)
    for key in ("jumps", "jump_metres", "cells_patrolled"):  # as the GPX's
        assert summary[key] == pytest.approx(walked[key], abs=0.01), key
    # the walk cuts the corner the two fixes left out made: under a metre shorter
    assert 0 < walked["metres_walked"] - summary["metres_walked"] < 1
    rejects = pd.read_csv(tmp_path / "bad.rejects.csv")
    assert rejects[["row", "reason"]].values.tolist() == [[6, "zero_coordinates"], [7, "latlon_swapped"]]
    e6 = table.assign(lon=(table["lon"] * 1e6).round().astype("int64"),
                      lat=(table["lat"] * 1e6).round().astype("int64"))
    e6.to_csv(tmp_path / "e6.csv", index=False)
    refused = CliRunner().invoke(cli, ["patrol", str(tmp_path / "e6.csv"), *args, "-o", str(tmp_path / "e6.gpkg")])
    assert refused.exit_code == 1
    assert "row 1: read as degrees × 1,000,000 (116412200, JT/T 808), it is inside the layout: give --degrees e6 " \
           "(and 1,038 more)" in refused.output
    read = CliRunner().invoke(cli, ["patrol", str(tmp_path / "e6.csv"), *args, "-o", str(tmp_path / "e6.gpkg"),
                                    "--degrees", "e6"])
    assert read.exit_code == 0, read.output
    summary = json.loads(read.output.splitlines()[-1])
    assert (summary["fixes"], summary["rejected"], summary["cells_patrolled"]) == (1039, 0, 101) \
        and walked["cells_patrolled"] == 101


def test_fixes_times_and_tracks_of_different_lengths_or_a_gap_below_zero_are_refused(three):
    """patrol_coverage took x of 1 fix and y of 2 (the second dropped), and tracks
    for 1 of 2 fixes (0 metres walked), and a max_gap of -1 (every segment a break),
    without a word; track_pieces took the tracks and the gap so too."""
    x, y = [50.0, 150.0], [50.0, 50.0]
    for run in (patrol_coverage, track_pieces):
        with pytest.raises(InputError, match=r"^y has 2 values for 1 fixes in x: give one per fix$"):
            run(three, [50.0], y)
        with pytest.raises(InputError, match=r"^tracks has 1 values for 2 fixes in x: give one per fix$"):
            run(three, x, y, tracks=["a"])
        with pytest.raises(InputError, match=r"^max_gap must be a number of seconds above 0, not -1$"):
            run(three, x, y, max_gap=-1)
        with pytest.raises(InputError, match=r"^max_speed must be a number of metres a second above 0, not nan$"):
            run(three, x, y, max_speed=float("nan"))
    table, summary = patrol_coverage(three, x, y, max_gap=float("inf"))  # no breaks at all: allowed
    assert table["metres"].tolist() == [50.0, 50.0] and summary["breaks"] == 0


def test_read_fixes_refuses_an_unknown_time_zone_and_a_locator_by_path(samples, tmp_path):
    """time_zone='Mars/Olympus' was a ZoneInfoNotFoundError and '' an IndexError,
    after the file was read; a package's path for the locator an AttributeError.
    The CLI's --time-zone says the same, before any reading."""
    from gridkit.patrol import read_fixes

    gpx = samples / "cambridge_patrol.gpx"
    for zone in ("Mars/Olympus", ""):
        with pytest.raises(InputError, match=rf"^{zone!r} is no time zone: give an IANA name, Asia/Shanghai or UTC$"):
            read_fixes(gpx, time_zone=zone)
    with pytest.raises(InputError, match=r"^locator is a str, not a gridkit Locator"):
        read_fixes(gpx, locator="cambridge.gpkg")
    from gridkit.patrol import coverage_cells  # a list for the table was "'builtin_function_or_method' object …"
    with pytest.raises(InputError, match=r"^the coverage table is a list, not a DataFrame; give the table "
                                         r"patrol_coverage\(\) returns first$"):
        coverage_cells(Locator(gk.read_vector(samples / "cambridge_neighborhoods.gpkg").rename(
            columns={"N_HOOD": "grid_id"}).to_crs(32619)), [1])
    fixes, rejects = read_fixes(gpx, time_zone="America/New_York")
    assert str(fixes["time"].dt.tz) == "America/New_York" and len(rejects) == 0
    result = CliRunner().invoke(cli, ["patrol", str(gpx), "--grid", str(samples / "cambridge_neighborhoods.gpkg"),
                                      "--time-zone", "Mars/Olympus", "-o", str(tmp_path / "x.gpkg")])
    assert result.exit_code == 2 and "'Mars/Olympus' is no time zone" in result.output
