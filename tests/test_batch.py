"""gridkit locate (CLI and library), the cached index, the single-point path, dask."""

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit import batch, coords
from gridkit.batch import locate_dask, locate_file, locate_frame
from gridkit.catalogue import read_points
from gridkit.counts import cell_counts
from gridkit.errors import InputError
from gridkit.locator import STATUS_NAMES, Locator, index_path
from gridkit.routing import RoutingTable, starter_table
from gridkit_cli.main import cli

from .conftest import community_frame, micro_halves

X0, Y0 = 500_000.0, 4_400_000.0  # EPSG:4548 (CGCS2000 GK CM 117°E)


@pytest.fixture()
def package(tmp_path):
    """A 3 × 2 lattice of 100 m cells (community 110101001001) beside a clipped one (…002)."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200),
                            shapely.Polygon([(X0 + 300, Y0), (X0 + 450, Y0), (X0 + 300, Y0 + 200)])])
    return gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)


def _lonlat(x, y):
    pts = gpd.GeoSeries(shapely.points(np.asarray(x, float), np.asarray(y, float)), crs=4548).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def _points(tmp_path):
    """Ten report points: inside, on edges, just outside, far outside, one blank, classes."""
    x = np.array([50, 100, 150, 250, 310, 299.99, -5, 1000, 50, 150.0]) + X0
    y = np.array([50, 50, 100, 150, 20, 199.99, 50, 1000, 150, 10.0]) + Y0
    lon, lat = _lonlat(x, y)
    lon = np.where(np.arange(10) == 8, np.nan, lon)
    frame = pd.DataFrame({"case": [f"c{i}" for i in range(10)], "lon": lon, "lat": lat,
                          "matter": ["06010", "01001", "11010106010", "0114", "01001", "09001", "01001",
                                     "01001", "01001", "12345"]})
    path = tmp_path / "reports.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_cli_locates_routes_and_rejects(tmp_path, package):
    points, _ = _points(tmp_path)
    routes = tmp_path / "routing.toml"
    routes.write_text(starter_table(), encoding="utf-8")
    out = tmp_path / "located.csv"
    args = ["locate", str(points), "--grid", str(package), "-o", str(out), "--routes", str(routes),
            "--class-field", "matter", "--tolerance", "10"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "10 rows → 8 located, 2 rejected" in result.output
    assert "6 inside a cell, 1 nearest within 10 m, 1 outside the layout" in result.output
    got = pd.read_csv(out, dtype=str)
    assert got["case"].tolist() == ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    assert got["gk_grid_id"].fillna("").tolist() == [
        "110101001001004", "110101001001005", "110101001001002", "110101001001003",
        "110101001002002", "110101001001003", "110101001001004", ""]
    assert got["gk_status"].tolist() == ["inside"] * 6 + ["nearest", "outside"]
    assert got["gk_department_name"].fillna("").tolist() == [
        "城市管理局", "供水企业/水务局", "城市管理局", "110101001街道办事处", "供水企业/水务局", "城市管理综合行政执法局",
        "供水企业/水务局", ""]
    assert float(got["gk_distance_m"][6]) == pytest.approx(5, abs=1e-6)
    rejects = pd.read_csv(tmp_path / "located.rejects.csv", dtype=str)
    assert rejects[["row", "reason", "case"]].values.tolist() == [
        ["9", "missing_coordinates", "c8"], ["10", "bad_class", "c9"]]
    # UTF-8 with a byte-order mark, which Excel needs to show the Chinese text
    assert out.read_bytes().startswith(b"\xef\xbb\xbfcase,")
    assert (tmp_path / "located.rejects.csv").read_bytes().startswith(b"\xef\xbb\xbfrow,")
    assert "城市管理局" in out.read_text(encoding="utf-8-sig")
    # a second run without --overwrite fails and leaves the output as it was
    before = out.read_bytes()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and f"{out} exists; pass --overwrite" in result.output
    assert out.read_bytes() == before
    # --json: the same summary as one JSON object, for a script
    result = CliRunner().invoke(cli, [*args, "--overwrite", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {k: summary[k] for k in ("rows", "located", "rejected", "inside", "nearest", "outside", "routed",
                                    "rejected_by_reason", "output")} == {
        "rows": 10, "located": 8, "rejected": 2, "inside": 6, "nearest": 1, "outside": 1, "routed": 7,
        "rejected_by_reason": {"missing_coordinates": 1, "bad_class": 1}, "output": str(out)}
    assert summary["rejects_file"] == str(tmp_path / "located.rejects.csv")


def test_a_class_column_of_names_routes_as_its_codes(tmp_path, package):
    """A hotline's export names each report's matter (暴露垃圾), a ledger its
    component (供水井盖, or CJ/T 214's 上水井盖, 无主井盖): each such row was rejected as
    bad_class ("'暴露垃圾' is not a class code (digits only)"). A class's name now routes
    as its code: the same departments as the codes of test_cli_locates_routes_and_rejects.
    The summary says what each name was read as (as components import does), on
    dask too, and a word that is no name is told as such, not as "not a class code
    (digits only)"."""
    points, frame = _points(tmp_path)
    frame["matter"] = ["暴露垃圾", "供水井盖", "暴露垃圾", "无主井盖", "上水井盖", "无照经营游商", "供水井盖异常",
                       "供水井盖", "供水井盖", "消防栓"]
    frame.to_csv(points, index=False)
    routes = tmp_path / "routing.toml"
    routes.write_text(starter_table(), encoding="utf-8")
    out = tmp_path / "located.csv"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out), "--routes",
                                      str(routes), "--class-field", "matter", "--tolerance", "10"])
    assert result.exit_code == 0, result.output
    read = ("  classes read by name: 暴露垃圾 → 06010, 供水井盖 → 01001, 无主井盖 → 01023 不明井盖 (its CJ/T 214 "
            "name), 上水井盖 → 01001 供水井盖 (its CJ/T 214 name), 无照经营游商 → 09001, 供水井盖异常 → 01001")
    assert read in result.output.splitlines(), result.output
    assert "bad_class: the class column holds no class code or name gridkit can route" in result.output
    got = pd.read_csv(out, dtype=str)
    assert got["gk_department_name"].fillna("").tolist() == [
        "城市管理局", "供水企业/水务局", "城市管理局", "110101001街道办事处", "供水企业/水务局", "城市管理综合行政执法局",
        "供水企业/水务局", ""]
    assert got["matter"].tolist() == frame["matter"].iloc[:8].tolist()  # the file's words, as they were
    rejects = pd.read_csv(tmp_path / "located.rejects.csv", dtype=str)
    assert rejects[["row", "reason", "detail"]].values.tolist() == [
        ["9", "missing_coordinates", "lon is blank or not a number"],
        ["10", "bad_class", "'消防栓' is no class code or name; classes near it by name: 01013 消防设施, "
                            "01068 水鹤: give the code"]]
    parts = tmp_path / "parts"  # on dask: the names among the located rows (all the names here)
    parts.mkdir()
    frame.iloc[:5].to_parquet(parts / "a.parquet")
    frame.iloc[5:].to_parquet(parts / "b.parquet")
    on_dask = CliRunner().invoke(cli, ["locate", str(parts), "--grid", str(package), "-o", str(tmp_path / "d.parquet"),
                                       "--routes", str(routes), "--class-field", "matter", "--tolerance", "10",
                                       "--dask", "--workers", "1", "--json", "--counts", str(tmp_path / "d.xlsx"),
                                       "--counts-per", "community"])
    assert on_dask.exit_code == 0, on_dask.output
    summary = json.loads(on_dask.output.splitlines()[-1])
    # the counts on dask: the seven rows located in a cell (c8 and c9 rejected, c7 outside), per community
    assert (summary["counts"]["points"], summary["counts"]["cells_with_points"]) == (7, 5)
    per_community = pd.read_excel(tmp_path / "d.xlsx", engine="calamine", dtype={"community_code": str})
    assert per_community[["community_code", "cells", "points"]].values.tolist() == [["110101001001", 6, 6],
                                                                                   ["110101001002", 2, 1]]
    named = summary["classes_by_name"]
    assert list(named) == ["暴露垃圾", "供水井盖", "无主井盖", "上水井盖", "无照经营游商", "供水井盖异常"]
    assert named["上水井盖"] == ["01001", "供水井盖", "CJ/T 214"] and named["暴露垃圾"][0] == "06010"


def test_cli_counts_the_points_per_cell_by_a_column_and_draws_them(tmp_path, package):
    """--counts: every cell of the layout with the points located in it (the one
    nearest within --tolerance too; the outside and the rejected in none), by
    --counts-by; --map: the picture. The counts agree with the located rows."""
    points, _ = _points(tmp_path)
    out, counts, picture = tmp_path / "located.csv", tmp_path / "counts.csv", tmp_path / "counts.png"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out), "--tolerance",
                                      "10", "--counts", str(counts), "--counts-by", "matter", "--map", str(picture)])
    assert result.exit_code == 0, result.output
    assert "  per cell: 8 points in 5 of 8 cells (62 %)" in result.output
    assert "    most: 110101001001003 (2), 110101001001004 (2), 110101001001005 (2), 110101001001002 (1), " \
           "110101001002002 (1)" in result.output
    got = pd.read_csv(counts, dtype={"grid_id": str, "community_code": str})
    cells = pyogrio.read_dataframe(package, layer="cells", read_geometry=False)
    assert got["grid_id"].tolist() == cells["grid_id"].tolist()  # every cell, in the layout's order
    held = got.set_index("grid_id")[lambda t: t["points"] > 0]
    assert held["points"].to_dict() == {"110101001001002": 1, "110101001001003": 2, "110101001001004": 2,
                                        "110101001001005": 2, "110101001002002": 1}
    located = pd.read_csv(out, dtype=str)
    assert held["points"].to_dict() == located["gk_grid_id"].value_counts().sort_index().to_dict()
    assert held.loc["110101001001004", "per_km2"] == 200.0  # a whole 100 m cell: 0.01 km²
    # 01001 three times; the others once each, in the order of their codes
    assert list(got.columns[9:]) == ["01001", "0114", "06010", "09001", "11010106010", "12345"]
    assert held["01001"].to_dict() == {"110101001001002": 0, "110101001001003": 0, "110101001001004": 1,
                                       "110101001001005": 1, "110101001002002": 1}
    assert (got.iloc[:, 9:].sum(axis=1) == got["points"]).all()
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the counts alone, with no located file: the rejects beside them
    alone = tmp_path / "alone.gpkg"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "--tolerance", "10",
                                      "--counts", str(alone), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert (summary["output"], summary["rejects_file"]) == (None, str(tmp_path / "alone.rejects.csv"))
    assert pd.read_csv(tmp_path / "alone.rejects.csv")["reason"].tolist() == ["missing_coordinates"]
    layer = gpd.read_file(alone, layer="counts")
    assert layer["points"].tolist() == got["points"].tolist() and layer.crs == pyproj.CRS(4548)


def test_cli_counts_refuse_before_writing_anything(tmp_path, package):
    """A --counts-by column the file lacks, a --counts format gridkit cannot write,
    --counts-by alone and an existing counts file stop the run; nothing is written
    (an existing counts file stays as it was)."""
    points, _ = _points(tmp_path)
    out, counts = tmp_path / "located.csv", tmp_path / "counts.gpkg"
    base = ["locate", str(points), "--grid", str(package), "-o", str(out)]
    unknown = CliRunner().invoke(cli, base + ["--counts", str(counts), "--counts-by", "mater"])
    assert unknown.exit_code == 1
    assert "no column 'mater' (did you mean 'matter'?) to count by" in unknown.output
    shp = CliRunner().invoke(cli, base + ["--counts", str(tmp_path / "counts.shp")])
    assert shp.exit_code == 1 and "counts.shp: the points per cell are written to .gpkg, .geojson, .csv, .xlsx" \
        in shp.output
    alone = CliRunner().invoke(cli, base + ["--counts-by", "matter"])
    assert alone.exit_code == 2 and "--counts-by goes with --counts (the table" in alone.output
    assert not out.exists() and not counts.exists() and not (tmp_path / "located.rejects.csv").exists()
    counts.write_bytes(b"kept")
    again = CliRunner().invoke(cli, base + ["--counts", str(counts)])
    assert again.exit_code == 2 and "counts.gpkg exists; pass --overwrite" in again.output
    assert counts.read_bytes() == b"kept" and not out.exists()


def test_cli_counts_per_community_add_up_the_cells_and_name_the_busiest(tmp_path, package):
    """--counts-per community: one row per community with its cells, the points in
    them (by --counts-by) and its outline, the union of its cells; the summary
    names the busiest communities. A level the layout lacks, and --counts-per
    without --counts or --map, are refused before anything is written."""
    points, _ = _points(tmp_path)
    counts, picture = tmp_path / "communities.gpkg", tmp_path / "communities.png"
    base = ["locate", str(points), "--grid", str(package), "--tolerance", "10"]
    result = CliRunner().invoke(cli, base + ["--counts", str(counts), "--counts-by", "matter", "--counts-per",
                                             "community", "--map", str(picture)])
    assert result.exit_code == 0, result.output
    assert "  per cell: 8 points in 5 of 8 cells (62 %)\n  per community: in 2 of 2 communities\n" \
           "    most: 110101001001 c0 (7), 110101001002 c1 (1)\n" in result.output
    got = gpd.read_file(counts, layer="counts")
    assert got["community_code"].tolist() == ["110101001001", "110101001002"]
    assert got[["cells", "cells_with_points", "points"]].to_numpy().tolist() == [[6, 4, 7], [2, 1, 1]]
    assert got["01001"].tolist() == [2, 1] and (got.loc[:, "01001":"12345"].sum(axis=1) == got["points"]).all()
    units = gpd.read_file(package, layer="units").set_index("code")
    for _, row in got.iterrows():  # the union of the community's cells is the community
        assert row.geometry.symmetric_difference(units.geometry[row["community_code"]]).area < 1e-3
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    streets = CliRunner().invoke(cli, base + ["--counts", str(tmp_path / "streets.csv"), "--counts-per", "street",
                                              "--json"])
    assert streets.exit_code == 0, streets.output
    summary = json.loads(streets.output.splitlines()[-1])["counts"]
    assert {k: summary[k] for k in ("per", "cells", "cells_with_points", "streets", "streets_with_points",
                                    "points")} == {"per": "street", "cells": 8, "cells_with_points": 5,
                                                   "streets": 1, "streets_with_points": 1, "points": 8}
    bare = tmp_path / "bare.gpkg"
    pyogrio.write_dataframe(gpd.read_file(package, layer="cells")[["grid_id", "geometry"]], bare, layer="cells")
    lacking = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(bare), "--counts",
                                       str(tmp_path / "x.csv"), "--counts-per", "community"])
    assert lacking.exit_code == 1 and "the layout names no communities" in lacking.output
    alone = CliRunner().invoke(cli, base + ["-o", str(tmp_path / "located.csv"), "--counts-per", "district"])
    assert alone.exit_code == 2 and "--counts-per goes with --counts or --map" in alone.output
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.rejects.csv").exists()
    assert not (tmp_path / "located.csv").exists()


def test_counts_of_one_unit_count_its_cells_alone_and_say_how_many_lie_elsewhere(tmp_path, package):
    """--unit: a street office counts its own cases out of the district's export (the
    counts listed every cell of the layout). Its cells alone, by code or name; the
    summary says how many points lie in the other cells. A unit the layout lacks is
    refused before anything is read or written, and --unit needs --counts or --map."""
    points, _ = _points(tmp_path)
    counts, picture = tmp_path / "c1.csv", tmp_path / "c1.png"
    base = ["locate", str(points), "--grid", str(package), "--tolerance", "10"]
    result = CliRunner().invoke(cli, base + ["--counts", str(counts), "--unit", "c1", "--map", str(picture)])
    assert result.exit_code == 0, result.output
    assert "  per cell of 110101001002 c1: 1 points in 1 of 2 cells (50 %)\n" \
           "    7 more in the layout's other cells, not counted\n" in result.output
    got = pd.read_csv(counts, dtype={"grid_id": str})
    assert got["grid_id"].tolist() == ["110101001002001", "110101001002002"]
    assert got["points"].tolist() == [0, 1]  # the point at (310, 20) is in the south one
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    both = CliRunner().invoke(cli, base + ["--counts", str(tmp_path / "both.csv"), "--counts-per", "community",
                                           "--unit", "110101001001", "--unit", "c1", "--json"])
    summary = json.loads(both.output.splitlines()[-1])["counts"]
    assert summary["units"] == {"units": ["110101001001 c0", "110101001002 c1"], "points_elsewhere": 0}
    assert (summary["points"], summary["cells"], summary["communities"]) == (8, 8, 2)
    unknown = CliRunner().invoke(cli, base + ["--counts", str(tmp_path / "x.csv"), "--unit", "c9"])
    assert unknown.exit_code == 1
    assert "no community, street or district of the layout has the code or name 'c9'; its community codes and " \
           "names: 110101001001 c0, 110101001002 c1" in unknown.output
    alone = CliRunner().invoke(cli, base + ["-o", str(tmp_path / "located.csv"), "--unit", "c1"])
    assert alone.exit_code == 2 and "--unit goes with --counts or --map" in alone.output
    assert not any((tmp_path / name).exists() for name in ("x.csv", "x.rejects.csv", "located.csv"))


def test_a_plain_parquet_table_is_read_by_its_coordinate_columns_as_a_csv_is(tmp_path, package):
    """pandas' or Spark's Parquet of a table with lon/lat columns (no GeoParquet
    metadata): `gridkit locate` stopped at pandas' "Missing geo metadata in
    Parquet/Feather file", though --dask read the same file. It is read as the CSV
    of the same rows is: the same cells, the same rejects by row, its own columns
    typed. A file named .parquet that is no Parquet is refused by name."""
    points, frame = _points(tmp_path)
    table = tmp_path / "reports.parquet"
    frame.to_parquet(table, index=False)
    from_csv = locate_file(points, package, tmp_path / "a.csv")
    from_parquet = locate_file(table, package, tmp_path / "b.csv")
    assert {k: from_parquet[k] for k in ("rows", "located", "rejected", "inside", "outside")} == \
           {k: from_csv[k] for k in ("rows", "located", "rejected", "inside", "outside")} == \
           {"rows": 10, "located": 9, "rejected": 1, "inside": 7, "outside": 2}
    a, b = (pd.read_csv(tmp_path / name, dtype=str) for name in ("a.csv", "b.csv"))
    assert b["gk_grid_id"].tolist() == a["gk_grid_id"].tolist()
    assert b["case"].tolist() == a["case"].tolist() == [f"c{i}" for i in range(10) if i != 8]
    rejects = [pd.read_csv(tmp_path / name)[["row", "reason"]].values.tolist() for name in ("a.rejects.csv",
                                                                                         "b.rejects.csv")]
    assert rejects[1] == rejects[0] == [[9, "missing_coordinates"]]
    fake = tmp_path / "fake.parquet"
    fake.write_text("case,lon,lat\n")
    with pytest.raises(InputError, match=r"fake.parquet: not a Parquet file \(ArrowInvalid"):
        locate_file(fake, package, tmp_path / "c.csv")


def test_a_folder_of_plain_parquet_as_spark_writes_it_is_read_whole_with_its_partitions(tmp_path, package):
    """Spark writes `points.parquet/` as a folder: part files in `month=…` subfolders,
    `_SUCCESS` and `.crc` files beside them. Locally it was read as GeoParquet and
    stopped at "Missing geo metadata", though --dask read it. It is read whole, with
    its partition column, as the CSV of the same rows is; an empty folder and a
    stray file in it are refused by name."""
    points, frame = _points(tmp_path)
    folder = tmp_path / "reports.parquet"
    frame.assign(month=["2026-01"] * 4 + ["2026-02"] * 6).to_parquet(folder, partition_cols=["month"], index=False)
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-0.parquet.crc").write_text("crc")
    from_csv = locate_file(points, package, tmp_path / "a.csv")
    from_folder = locate_file(folder, package, tmp_path / "b.csv")
    assert {k: from_folder[k] for k in ("rows", "located", "rejected", "inside", "outside")} == \
           {k: from_csv[k] for k in ("rows", "located", "rejected", "inside", "outside")}
    a, b = (pd.read_csv(tmp_path / name, dtype=str) for name in ("a.csv", "b.csv"))
    assert b["gk_grid_id"].tolist() == a["gk_grid_id"].tolist()
    assert b["case"].tolist() == [f"c{i}" for i in range(10) if i != 8]
    assert b["month"].tolist() == ["2026-01"] * 4 + ["2026-02"] * 5
    (tmp_path / "empty.parquet").mkdir()
    with pytest.raises(InputError, match=r"empty.parquet: no Parquet files in it"):
        locate_file(tmp_path / "empty.parquet", package, tmp_path / "c.csv")
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match=r"reports.parquet/notes.txt is not a readable Parquet file .*; remove it"):
        locate_file(folder, package, tmp_path / "c.csv")
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("geo", [False, True], ids=["plain", "geoparquet"])
def test_a_folder_of_parquet_parts_is_read_whatever_its_name(tmp_path, package, geo, caplog):
    """dask's and Spark's to_parquet("reports") write a folder with no suffix:
    reports/part.0.parquet, …. --dask read it; locally it was "unknown inventory
    format", and `components import` (and `patrol`) refused it as "a directory".
    Both read it as the CSV of the same rows; a folder holding no Parquet is
    refused as such, not as of an "unknown format ''"."""
    points, frame = _points(tmp_path)
    folder = tmp_path / "reports"
    folder.mkdir()
    if geo:
        frame = gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), crs=4326,
                                 geometry=gpd.points_from_xy(frame["lon"], frame["lat"]))
    for part, rows in enumerate((slice(0, 4), slice(4, None))):
        frame.iloc[rows].to_parquet(folder / f"part.{part}.parquet", index=False)
    from_csv = locate_file(points, package, tmp_path / "a.csv")
    from_folder = locate_file(folder, package, tmp_path / "b.csv")
    keys = ("rows", "located", "rejected", "inside", "outside")
    assert {k: from_folder[k] for k in keys} == {k: from_csv[k] for k in keys}
    a, b = (pd.read_csv(tmp_path / name, dtype=str) for name in ("a.csv", "b.csv"))
    assert b["gk_grid_id"].tolist() == a["gk_grid_id"].tolist()
    assert b["case"].tolist() == [f"c{i}" for i in range(10) if i != 8]
    result = CliRunner().invoke(cli, ["components", "import", str(folder), "--grid", str(package),
                                      "--class", "01037", "--json"])
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.output)
    assert (summary["source"], summary["imported"], summary["rejected_by_reason"]) == \
           ("reports", 8, {"missing_coordinates": 1, "outside": 1})
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    said = "notes: a folder with no Parquet file in it; give a file, or a folder of Parquet parts"
    with pytest.raises(InputError, match=said):
        locate_file(tmp_path / "notes", package, tmp_path / "c.csv")
    with pytest.raises(InputError, match=said):
        read_points(tmp_path / "notes")
    result = CliRunner().invoke(cli, ["patrol", str(tmp_path / "notes"), "--grid", str(package), "-o",
                                      str(tmp_path / "p.csv")])
    assert result.exit_code == 1 and said in result.output  # a folder taken, as locate takes it
    if geo:
        return
    # Households and map layers are read so too (read_points): `locate --dask` writes
    # such a table, lon/lat columns and no geo metadata; it stopped at "Missing geo metadata".
    with caplog.at_level("WARNING", logger="gridkit.io"):
        read = read_points(folder)
    assert caplog.messages[-1].startswith(f"{folder} is read as EPSG:4326 and lies in China")  # not "labelled"
    assert read.crs == "EPSG:4326" and len(read) == 10
    assert read.geometry.geom_equals_exact(read_points(points).geometry, 1e-9).sum() == 9
    result = CliRunner().invoke(cli, ["map", str(package), "--html", "-o", str(tmp_path / "m.html"),
                                      "--points", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{tmp_path / 'm.html'}: cells 8, units 3, components 8, reports 9\n"


def test_counts_by_a_column_of_dates_count_per_month_the_latest_twelve_in_order(tmp_path, package):
    """A hotline's export counted by its time column (受理时间): --counts-by gave a
    column per timestamp, the 12 most common, the rest in other, which says nothing.
    Dates, and dates with times in the forms exports write them, now count per
    month: the latest 12 months a column each, in order; the earlier months and the
    values that are no date in other, the blanks in blank. A column of datetimes (a
    workbook's, a GeoPackage's) counts the same way from Python."""
    written = ["2025-10-05 08:00:00", "2025/11/5 9:30", "2025年12月5日 9:30", "2026-01-05", "2026.2.5 10:00",
               "2026-03-05 08:00:00", "2026-04-05 08:00:00", "2026-05-05 08:00:00", "2026-06-05 08:00:00",
               "2026-07-05 08:00:00", "2026-08-05 08:00:00", "2026-09-05 08:00:00", "2026-10-05 08:00:00",
               "2026-11-05 08:00:00", "2026-11-20 17:45:00", "", "不详"]
    lon, lat = _lonlat(np.where(np.arange(17) < 15, X0 + 50, X0 + 150), np.full(17, Y0 + 50))
    points = tmp_path / "hotline.csv"
    pd.DataFrame({"工单号": [f"G{i:03d}" for i in range(17)], "lon": lon, "lat": lat, "受理时间": written}).to_csv(
        points, index=False)
    counts = tmp_path / "months.csv"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "--crs", "EPSG:4326",
                                      "--counts", str(counts), "--counts-by", "受理时间", "--counts-per", "community"])
    assert result.exit_code == 0, result.output
    assert "    by month of 受理时间: 2025-12 … 2026-11, a column each; 3 earlier or not a date, in other\n" \
           in result.output
    got = pd.read_csv(counts, dtype={"community_code": str}, encoding="utf-8-sig")
    months = [f"2025-{m}" for m in ("12",)] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert list(got.columns[got.columns.get_loc("per_km2") + 1:]) == months + ["other", "blank"]
    first = got.set_index("community_code").loc["110101001001"]
    assert first[months].tolist() == [1] * 11 + [2] and (first["other"], first["blank"]) == (3, 1)
    assert first["points"] == 17 and got["points"].sum() == 17
    locator = Locator.from_package(package)
    ids = locator.locate_many(lon, lat, crs="EPSG:4326")["grid_id"]
    dated = pd.Series([pd.Timestamp(2025, 10, 5) + pd.DateOffset(months=k) for k in range(14)]
                      + [pd.Timestamp("2026-11-20 17:45"), pd.NaT, pd.NaT])
    by = cell_counts(locator, ids, by=dated)
    assert list(by.columns[by.columns.get_loc("per_km2") + 1:-1]) == months + ["other", "blank"]
    assert (by[months].sum().tolist(), by["other"].sum(), by["blank"].sum()) == ([1] * 11 + [2], 2, 2)


def test_locate_encoding_reads_a_big5_csv(tmp_path, package):
    """A BIG5 CSV (Taiwan, Hong Kong) is not UTF-8, and read as GB18030 its names are
    mojibake; --encoding BIG5 reads them as written (the output is UTF-8). --at
    refuses it, like the other options for files."""
    _, frame = _points(tmp_path)
    path, out = tmp_path / "big5.csv", tmp_path / "out.csv"
    frame.assign(case=["東區報告"] * 10).to_csv(path, index=False, encoding="big5")
    args = ["locate", str(path), "--grid", str(package), "-o", str(out)]
    assert CliRunner().invoke(cli, [*args, "--encoding", "big5"]).exit_code == 0
    assert pd.read_csv(out, encoding="utf-8-sig")["case"].tolist() == ["東區報告"] * 9  # row 9 has no lon
    assert CliRunner().invoke(cli, [*args, "--overwrite"]).exit_code == 0
    assert pd.read_csv(out, encoding="utf-8-sig")["case"][0] != "東區報告"
    at = CliRunner().invoke(cli, ["locate", "--at", "116.4,39.9", "--grid", str(package), "--encoding", "big5"])
    assert at.exit_code == 2 and "--encoding" in at.output


def test_a_semicolon_csv_is_located_into_a_semicolon_csv(tmp_path, package):
    """A CSV from Excel where the comma is the decimal mark (semicolons, "116,4105")
    comes back in the same dialect, rejects included: a comma-separated output
    would open there as one column. Other separators keep theirs, with decimal
    points; located again, the output gives the same answers."""
    _, frame = _points(tmp_path)
    text = frame.assign(lon=frame["lon"].map(lambda v: "" if np.isnan(v) else f"{v:.7f}".replace(".", ",")),
                        lat=frame["lat"].map(lambda v: f"{v:.7f}".replace(".", ",")))
    semi = tmp_path / "semi.csv"
    text.to_csv(semi, sep=";", index=False)
    out = tmp_path / "semi_located.csv"
    result = CliRunner().invoke(cli, ["locate", str(semi), "--grid", str(package), "-o", str(out),
                                      "--tolerance", "10"])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("case;lon;lat;matter;gk_grid_id;")
    assert lines[1].startswith(f"c0;{text['lon'][0]};{text['lat'][0]};06010;110101001001004;")
    last = [line.rsplit(";", 2)[1:] for line in lines[1:]]  # status and distance
    assert [status for status, _ in last] == ["inside"] * 6 + ["nearest", "outside", "inside"]
    assert [distance for _, distance in last if distance != "0,0"] == ["4,997689421928953", ""]
    rejects = (tmp_path / "semi_located.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects == ["row;reason;detail;case;lon;lat;matter",
                       f"9;missing_coordinates;lon is blank or not a number;c8;;{text['lat'][8]};01001"]
    again = tmp_path / "again.csv"
    assert CliRunner().invoke(cli, ["locate", str(out), "--grid", str(package), "-o", str(again),
                                    "--tolerance", "10"]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()
    tabs = tmp_path / "tabs.tsv"
    frame.to_csv(tabs, sep="\t", index=False)
    out = tmp_path / "tabs_located.csv"
    assert CliRunner().invoke(cli, ["locate", str(tabs), "--grid", str(package), "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].endswith("\tinside\t0.0")  # tabs, a point


def test_cli_routes_every_point_by_one_class(tmp_path, package):
    """--class: a file of one kind (street lights, hydrants) routed without a class
    column, as a column holding that class everywhere would route it; a class the
    table cannot route stops the run before anything is read."""
    from gridkit.batch import _locate_partition

    points, frame = _points(tmp_path)
    routes = tmp_path / "routing.toml"
    routes.write_text(starter_table(), encoding="utf-8")
    out = tmp_path / "located.csv"
    args = ["locate", str(points), "--grid", str(package), "-o", str(out), "--routes", str(routes)]
    result = CliRunner().invoke(cli, [*args, "--class", "01001"])
    assert result.exit_code == 0, result.output
    assert "10 rows → 9 located, 1 rejected" in result.output
    assert "7 routed to a department" in result.output  # all but the two outside the layout
    got = pd.read_csv(out, dtype=str)
    assert got["gk_department_name"].fillna("").tolist() == ["供水企业/水务局"] * 6 + ["", "", "供水企业/水务局"]
    frame.assign(matter="01001").to_csv(points, index=False)
    column = CliRunner().invoke(cli, [*args, "--class-field", "matter", "-o", str(tmp_path / "column.csv")])
    assert column.exit_code == 0, column.output
    assert pd.read_csv(tmp_path / "column.csv", dtype=str).drop(columns="matter").equals(got.drop(columns="matter"))
    bad = CliRunner().invoke(cli, [*args, "--class", "99999", "--overwrite"])
    assert bad.exit_code == 2 and "Invalid value for --class: 99999 is no GB/T 47678.5-2026" in bad.output
    both = CliRunner().invoke(cli, [*args, "--class", "01001", "--class-field", "matter", "--overwrite"])
    assert both.exit_code == 2 and "not both" in both.output
    # the dask workers' step takes it as the local path does
    part = frame.drop(columns="matter").dropna()
    done = _locate_partition(part, package, 0.0, (None, "grid_id", None), "lon", "lat", "EPSG:4326",
                             RoutingTable.load(routes), None, "component", "01001")
    assert done["gk_department_name"].fillna("").tolist() == ["供水企业/水务局"] * 6 + ["", "", "供水企业/水务局"]


def test_an_excel_output_holds_the_csv_rows_with_codes_as_text(tmp_path, package, monkeypatch):
    import openpyxl

    import gridkit.batch as batch

    points, _ = _points(tmp_path)
    outputs = {suffix: tmp_path / f"located{suffix}" for suffix in (".csv", ".xlsx")}
    for out in outputs.values():
        result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out)])
        assert result.exit_code == 0, result.output
    csv = pd.read_csv(outputs[".csv"], dtype=str, keep_default_na=False)
    sheet = pd.read_excel(outputs[".xlsx"], engine="calamine", sheet_name="located", dtype=str, keep_default_na=False)
    assert sheet.drop(columns="gk_distance_m").equals(csv.drop(columns="gk_distance_m"))
    assert np.allclose(pd.to_numeric(sheet["gk_distance_m"]), pd.to_numeric(csv["gk_distance_m"]), equal_nan=True)
    cells = openpyxl.load_workbook(outputs[".xlsx"])["located"]
    column = [c.value for c in cells[1]].index("gk_grid_id")
    assert [(row[column].value, row[column].data_type) for row in cells.iter_rows(min_row=2, max_row=3)] == [
        ("110101001001004", "s"), ("110101001001005", "s")]  # text: Excel keeps all 15 digits
    # more rows than a sheet holds: refused, nothing written
    monkeypatch.setattr(batch, "EXCEL_ROWS", 5)
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(tmp_path / "big.xlsx")])
    assert result.exit_code == 1 and "9 rows do not fit in an Excel sheet (4 at most)" in result.output
    assert not list(tmp_path.glob("*big*.xlsx"))


def test_a_located_table_keeps_the_crs_its_input_said(tmp_path, package):
    """A located CSV or workbook keeps the input's coordinate columns, so it keeps
    their CRS label when one was said (the input's .prj, or --crs): it is read back,
    located again and drawn without --crs. Lon/lat read as EPSG:4326 by default get
    no label, and an earlier run's .prj beside the output goes with it."""
    from gridkit.io import table_crs

    x, y = np.array([50.0, 250.0]) + X0, np.array([50.0, 150.0]) + Y0
    pd.DataFrame({"case": ["a", "b"], "x": x, "y": y}).to_csv(tmp_path / "xy.csv", index=False)
    (tmp_path / "xy.prj").write_text(pyproj.CRS("EPSG:4548").to_wkt("WKT1_ESRI"))  # as ArcGIS writes it
    for out in ("located.csv", "located.xlsx"):
        result = CliRunner().invoke(cli, ["locate", str(tmp_path / "xy.csv"), "--grid", str(package),
                                          "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        assert table_crs(tmp_path / out) == pyproj.CRS("EPSG:4548")
        again = locate_file(tmp_path / out, package, tmp_path / f"again_{out}")  # no crs: the label's
        assert (again["inside"], again["rejected"]) == (2, 0)
    assert pd.read_csv(tmp_path / "located.csv", dtype=str)["gk_grid_id"].tolist() == [
        "110101001001004", "110101001001003"]
    points, _ = _points(tmp_path)  # lon/lat, no label
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o",
                                      str(tmp_path / "located.csv"), "--overwrite"])
    assert result.exit_code == 0 and not (tmp_path / "located.prj").exists()


def test_a_control_character_excel_cannot_store_is_named_before_writing(tmp_path, package):
    """A BEL (\\x07) in a text column made openpyxl raise IllegalCharacterError, a
    traceback from inside the half-written sheet. It is named by input row and
    column, with the fix; the earlier output is untouched. A tab and a line break,
    which Excel stores, pass."""
    points, frame = _points(tmp_path)
    frame.assign(case=["ok", "tab\there", "line\nbreak", "bell\x07", "a", "b", "bell\x07", "c", "d", "e"]).to_csv(
        points, index=False)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"an earlier sheet")
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out), "--overwrite"])
    assert result.exit_code == 1
    assert (f"{points}: row 4, column 'case': 'bell\\x07' holds the control character '\\x07', which Excel cannot "
            "store (2 row(s) of that column hold one); write out.csv (or .gpkg, .parquet) instead") in result.output
    assert out.read_bytes() == b"an earlier sheet"
    frame.assign(case=["tab\there", "line\nbreak"] * 5).to_csv(points, index=False)
    assert CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out),
                                    "--overwrite"]).exit_code == 0
    assert pd.read_excel(out, engine="calamine")["case"][:2].tolist() == ["tab\there", "line\nbreak"]


def test_the_library_never_writes_over_the_points_or_the_grid(tmp_path, package):
    """locate_file and export_package refuse an output (or a rejects file) that is
    one of their inputs, overwrite or not, before reading anything; both files are
    kept byte for byte."""
    from gridkit.batch import locate_file
    from gridkit.export import export_package

    points, _ = _points(tmp_path)
    fixed = points.rename(tmp_path / "out.rejects.csv")  # rejects fixed by hand, located again
    kept = {path: path.read_bytes() for path in (fixed, package)}
    for output in (fixed, package, tmp_path / "out.csv"):  # the last: its rejects file would replace them
        with pytest.raises(InputError, match="the output would replace the file it is read from"):
            locate_file(fixed, package, output, overwrite=True)
    with pytest.raises(InputError, match=f"^{re.escape(str(package))} is the package: "):
        export_package(package, package, overwrite=True)
    assert {path: path.read_bytes() for path in kept} == kept


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".parquet"])
def test_vector_outputs_open_with_wgs84_points(tmp_path, package, suffix):
    points, frame = _points(tmp_path)
    out = tmp_path / f"located{suffix}"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out)])
    assert result.exit_code == 0, result.output
    got = gpd.read_parquet(out) if suffix == ".parquet" else pyogrio.read_dataframe(out, layer=0)
    assert got.crs.to_epsg() == 4326 and len(got) == 9
    keep = frame["lon"].notna().to_numpy()
    assert np.allclose(got.geometry.x, frame["lon"][keep]) and np.allclose(got.geometry.y, frame["lat"][keep])
    assert got["gk_grid_id"].iloc[4] == "110101001002002"


def test_a_shapefile_output_has_ten_character_names_that_say_what_they_hold(tmp_path, package):
    """GDAL's own cuts would give gk_communi and gk_commu_1 for the community's code
    and name; the input's long names are cut as the export cuts them."""
    points, frame = _points(tmp_path)
    frame.rename(columns={"case": "report_number_one", "matter": "report_number_two"}).to_csv(points, index=False)
    out = tmp_path / "located.shp"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out)])
    assert result.exit_code == 0, result.output
    got = pyogrio.read_dataframe(out)
    assert got.columns.tolist() == [
        "report_num", "lon", "lat", "report_n_2", "gk_grid_id", "gk_comm_cd", "gk_comm_nm", "gk_strt_cd",
        "gk_strt_nm", "gk_cnty_cd", "gk_cnty_nm", "gk_status", "gk_dist_m", "geometry"]
    assert got.crs.to_epsg() == 4326 and len(got) == 9 and got["gk_grid_id"].iloc[4] == "110101001002002"


def test_a_geopackage_output_opens_styled_by_status(tmp_path, package):
    points, _ = _points(tmp_path)
    out = tmp_path / "located.gpkg"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "--tolerance", "10",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert pyogrio.list_layers(out)[0, 0] == "located"  # the points stay the first layer
    got = pyogrio.read_dataframe(out, layer="located")
    assert got["gk_status"].value_counts().to_dict() == {"inside": 7, "nearest": 1, "outside": 1}
    styles = pyogrio.read_dataframe(out, layer="layer_styles", read_geometry=False)
    assert styles["f_table_name"].tolist() == ["located"] and styles["useAsDefault"].all()
    # One rule per status the points can have, on a column the layer has.
    rules = re.findall(r'filter="&quot;(\w+)&quot; = \'(\w+)\'"', styles["styleQML"].iloc[0])
    assert rules == [("gk_status", "inside"), ("gk_status", "nearest"), ("gk_status", "outside")]
    assert list(STATUS_NAMES) == [status for _, status in rules]


def test_gcj02_input_round_trip(tmp_path, package):
    _, frame = _points(tmp_path)
    # Points exactly on an edge may cross it by the inverse's ~0.1 mm: compare the others.
    frame = frame.drop(index=[1, 2]).dropna()
    gx, gy = coords.wgs84_to_gcj02(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    loc = Locator.from_package(package, tolerance=10)
    a = loc.locate_many(frame["lon"], frame["lat"], crs="EPSG:4326")
    b = loc.locate_many(gx, gy, crs="gcj02")
    assert a["grid_id"].astype(object).fillna("").tolist() == b["grid_id"].astype(object).fillna("").tolist()
    assert np.allclose(a["distance_m"].fillna(-1), b["distance_m"].fillna(-1), atol=0.05)


def test_index_is_kept_beside_the_package_and_rebuilt_when_it_changes(tmp_path, package):
    first = Locator.from_package(package)
    sidecar = index_path(package)
    assert sidecar.exists()
    again = Locator.from_package(package)
    assert again.source == first.source and again.stats == first.stats
    x = np.random.default_rng(3).uniform(X0 - 20, X0 + 470, 2000)
    y = np.random.default_rng(4).uniform(Y0 - 20, Y0 + 220, 2000)
    assert np.array_equal(first.cell_index(x, y)[0], again.cell_index(x, y)[0])
    # the package changes (a new layout written over it): the stale index is not used
    comm = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 200)])
    gk.write_package(package, gk.unit_grid(comm), comm, overwrite=True)
    fresh = Locator.from_package(package)
    assert len(fresh) == 4 and fresh.source != first.source
    # a damaged index file is rebuilt, not trusted
    sidecar.write_bytes(b"not an index")
    assert len(Locator.from_package(package)) == 4


def test_single_point_path_matches_the_array_path(package):
    loc = Locator.from_package(package, tolerance=3)
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(X0 - 10, X0 + 460, 3000), X0 + np.arange(0, 451, 50.0)])
    y = np.concatenate([rng.uniform(Y0 - 10, Y0 + 210, 3000), Y0 + np.full(10, 100.0)])
    many = loc.locate_many(x, y)
    for i in range(len(x)):
        one = loc.locate(x[i], y[i])
        assert one.grid_id == (None if pd.isna(many["grid_id"][i]) else many["grid_id"][i])
        assert one.status == many["status"][i]
    lon, lat = _lonlat([X0 + 150], [Y0 + 150])
    assert loc.locate(lon[0], lat[0], crs="EPSG:4326").grid_id == "110101001001002"
    assert loc.locate(lon[0], lat[0], crs="EPSG:4490").grid_id == "110101001001002"
    gx, gy = coords.wgs84_to_gcj02(lon, lat)
    bx, by = coords.gcj02_to_bd09(gx, gy)
    assert loc.locate(gx[0], gy[0], crs="gcj02").grid_id == "110101001001002"
    assert loc.locate(bx[0], by[0], crs="bd09").grid_id == "110101001001002"
    with pytest.raises(gk.errors.InputError, match="not lon/lat"):
        loc.locate(lat[0] + 100, lon[0], crs="EPSG:4326")
    with pytest.raises(gk.errors.InputError, match="NaN or infinite"):
        loc.locate(np.nan, lat[0], crs="EPSG:4326")
    with pytest.raises(gk.errors.InputError, match="NaN or infinite"):
        loc.locate(X0, np.inf)


def test_dask_from_a_script_without_the_main_guard_says_what_to_do(tmp_path, package):
    """dask's local cluster starts its workers by importing the calling script; a
    script calling locate_dask at its top level fails in them, and dask only says
    "Nanny failed to start". The error names the fix."""
    import subprocess
    import sys

    pd.DataFrame({"x": [X0 + 50.0], "y": [Y0 + 50.0]}).to_parquet(tmp_path / "points.parquet")
    script = tmp_path / "unguarded.py"
    script.write_text("from gridkit.batch import locate_dask\n"
                      f"locate_dask({str(tmp_path / 'points.parquet')!r}, {str(package)!r}, x_field='x', "
                      "y_field='y', crs='EPSG:4548')\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "GridkitError: the local dask cluster of 2 worker processes did not start" in run.stderr
    assert "if __name__ == \"__main__\":" in run.stderr


def test_a_rejects_file_that_cannot_be_written_leaves_the_last_runs_output(tmp_path, package, monkeypatch):
    """The output was written first: a run failing on its rejects left a new output
    beside the last run's rejects. Both are written, then both take their places."""
    points, _ = _points(tmp_path)
    output = tmp_path / "located.csv"
    locate_file(points, package, output)
    before = output.read_bytes(), (tmp_path / "located.rejects.csv").read_bytes()
    pd.read_csv(points).assign(case="changed").to_csv(points, index=False)

    real = pd.DataFrame.to_csv

    def full(frame, path=None, *args, **kwargs):  # the rejects' file, not the output's
        if ".rejects." in Path(path).name:
            raise OSError(28, "No space left on device")
        return real(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(OSError, match="No space left"):
        locate_file(points, package, output, overwrite=True)
    assert (output.read_bytes(), (tmp_path / "located.rejects.csv").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_dask_path_equals_the_local_path(tmp_path, package):
    import dask_geopandas

    points, frame = _points(tmp_path)
    frame = pd.concat([frame] * 30, ignore_index=True)
    gdf = gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(frame.lon, frame.lat),
                           crs=4326)
    dask_geopandas.from_geopandas(gdf, npartitions=3).to_parquet(tmp_path / "parts")
    table = tmp_path / "routing.toml"
    table.write_text(starter_table(), encoding="utf-8")
    routes = RoutingTable.load(table)
    located, rejects = locate_dask(tmp_path / "parts", package, routes=routes, class_field="matter",
                                   tolerance=10, n_workers=2)
    loc = Locator.from_package(package, tolerance=10)
    local, local_rejects = locate_frame(frame.drop(columns=["lon", "lat"]), frame["lon"], frame["lat"],
                                        "EPSG:4326", loc, routes=routes, classes=frame["matter"].to_numpy(object))
    assert len(located) == 240 and len(rejects) == 60
    left = local.astype(object).where(local.notna(), None).reset_index(drop=True)
    right = located[local.columns].astype(object).where(located[local.columns].notna(), None).reset_index(drop=True)
    assert left.equals(right)
    assert rejects["row"].tolist() == local_rejects["row"].tolist()


def test_locate_frame_on_a_filtered_frame_keeps_each_row_its_own(tmp_path, package):
    """A filtered frame (rows 1, 3, 5 … of ten) keeps its labels and each row its own
    cell and class; x, y or classes taken from another frame (another index) are
    refused, not paired with other rows."""
    _, frame = _points(tmp_path)
    table = tmp_path / "routing.toml"
    table.write_text(starter_table(), encoding="utf-8")
    routes, loc = RoutingTable.load(table), Locator.from_package(package, tolerance=10)
    whole, _ = locate_frame(frame, frame["lon"], frame["lat"], "EPSG:4326", loc, routes=routes,
                            classes=frame["matter"])
    odd = frame.iloc[1::2]
    part, rejects = locate_frame(odd, odd["lon"], odd["lat"], "EPSG:4326", loc, routes=routes, classes=odd["matter"])
    assert list(part.index) == [1, 3, 5, 7] and list(rejects["row"]) == [5]  # row 9 of frame: class 12345
    columns = ["gk_grid_id", "gk_department_name"]
    assert part[columns].astype(object).equals(whole.loc[[1, 3, 5, 7], columns].astype(object))
    other = odd.reset_index(drop=True)
    for name, values in {"classes": other["matter"], "x": other["lon"]}.items():
        args = {"classes": odd["matter"], "x": odd["lon"]} | {name: values}
        with pytest.raises(InputError, match=f"{name} is a Series whose index is not the frame's"):
            locate_frame(odd, args["x"], odd["lat"], "EPSG:4326", loc, routes=routes, classes=args["classes"])


def test_locate_at_lon_lat_with_no_crs_says_the_cell_it_is_in_read_as_gcj02_or_bd09(tmp_path, package):
    """A position copied from Amap is GCJ-02, 500 m off GPS here. Given to `--at`
    with no --crs it is read as GPS and falls outside this small layout; the hint
    names the cell it is in read as GCJ-02 (the one it was copied in) and the --crs
    to give (read as BD-09 it is outside too: not said). The GPS position itself
    gets a hint that names no cell either way; with --crs, none.
    Before, the answer was "outside the layout", and nothing more."""
    from gridkit.coords import wgs84_to_gcj02

    (lon,), (lat,) = _lonlat([X0 + 150], [Y0 + 50])  # in cell …005
    (ax,), (ay,) = wgs84_to_gcj02([lon], [lat])  # where Amap shows it
    grid = ["locate", "--grid", str(package), "--at", f"{float(ax)!r},{float(ay)!r}"]
    amap = CliRunner().invoke(cli, grid)
    assert amap.exit_code == 1 and "outside the layout" in amap.output
    assert amap.output.splitlines()[-1] == (
        "  hint: no --crs, so it was read as GPS (WGS84); copied from Amap or Tencent's maps (GCJ-02), in cell "
        "110101001001005 (--crs gcj02)")
    said = CliRunner().invoke(cli, grid + ["--crs", "gcj02", "--json"])
    assert said.exit_code == 0 and json.loads(said.output)["grid_id"] == "110101001001005"
    assert "hint" not in json.loads(said.output)
    gps = CliRunner().invoke(cli, ["locate", "--grid", str(package), "--at", f"{float(lon)!r},{float(lat)!r}",
                                   "--json"])
    answer = json.loads(gps.output)
    assert answer["grid_id"] == "110101001001005" and answer["hint"] == (
        "no --crs, so it was read as GPS (WGS84); copied from Amap or Tencent's maps (GCJ-02), in no cell "
        "(--crs gcj02); copied from Baidu's (BD-09), in no cell (--crs bd09)")


def test_locate_at_one_point_prints_its_cell_areas_and_department(tmp_path, package):
    """`locate --at X,Y`: the same cell and department as the file path gives (the
    first rows of test_cli_locates_routes_and_rejects), the nearest cell within the
    tolerance, JSON for scripts, exit status 1 outside; file options refused."""
    table = tmp_path / "routing.toml"
    table.write_text(starter_table(), encoding="utf-8")
    grid = ["locate", "--grid", str(package)]

    def run(*args):
        return CliRunner().invoke(cli, grid + [str(a) for a in args])

    inside = run("--at", f"{X0 + 100},{Y0 + 50}", "--crs", "EPSG:4548", "--routes", table, "--class", "01001")
    assert inside.exit_code == 0, inside.output
    assert inside.output.splitlines() == [
        f"{X0 + 100}, {Y0 + 50} (EPSG:4548) → cell 110101001001005 (inside)",
        "  community  110101001001 c0", "  street     110101001", "  district   110101",
        "  department 供水企业/水务局"]
    for spelled in (f"{X0 + 100}，{Y0 + 50}", f" {X0 + 100}  {Y0 + 50} ", f"{X0 + 100} , {Y0 + 50}",  # as copied
                    f"({X0 + 100}, {Y0 + 50})", f"（{X0 + 100}；{Y0 + 50}）", f"POINT ({X0 + 100} {Y0 + 50})"):
        again = run("--at", spelled, "--crs", "EPSG:4548", "--routes", table, "--class", "01001")
        assert again.exit_code == 0 and again.output == inside.output, spelled
    # In degrees, minutes and seconds, as a surveyor's ledger writes them (seconds to 0.1 mm)
    (lon,), (lat,) = _lonlat([X0 + 100], [Y0 + 50])

    def dms(value):
        return f"{int(value)}°{int(value * 60 % 60)}′{value * 3600 % 60:.6f}″"

    lon, lat = float(lon), float(lat)
    google = f"{dms(lat)}N {dms(lon)}E".replace("′", "'").replace("″", '"')  # as Google Maps copies a place
    for spelled in (f"{dms(lon)}E,{dms(lat)}N", f"东经{dms(lon)}，北纬{dms(lat)}".replace("°", "度"), google,
                    f"N{lat!r}, E{lon!r}", f"北纬{lat!r} 东经{lon!r}", f"{lon!r}E {lat!r}N"):  # as GPS apps write
        again = run("--at", spelled)
        assert again.exit_code == 0 and "→ cell 110101001001005 (inside)" in again.output, (spelled, again.output)
    # A file's columns in those forms: each row in the same cell
    points = tmp_path / "gps.csv"
    pd.DataFrame({"经度": [f"E{lon!r}", f"{lon!r}E", f"东经{lon!r}"], "纬度": [f"N{lat!r}", f"{lat!r}N", f"北纬{lat!r}"],
                  "位置": [google, f"N{lat!r} E{lon!r}", f"{dms(lon)}E {dms(lat)}N"]}).to_csv(points, index=False)
    for columns in (["--x-field", "经度", "--y-field", "纬度"], ["--x-field", "位置", "--y-field", "位置"]):
        located = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), *columns,
                                           "--crs", "EPSG:4326", "-o", str(tmp_path / "gps_out.csv"), "--overwrite"])
        assert located.exit_code == 0, located.output
        assert pd.read_csv(tmp_path / "gps_out.csv", dtype=str)["gk_grid_id"].tolist() == ["110101001001005"] * 3
    lon, lat = _lonlat([X0 - 5], [Y0 + 50])
    near = run("--at", f"{float(lon[0])!r},{float(lat[0])!r}", "--tolerance", 10)
    assert near.exit_code == 0 and "→ cell 110101001001004 (nearest, 5.0 m away)" in near.output
    far = run("--at", f"{X0 + 1000},{Y0 + 1000}", "--crs", "EPSG:4548", "--json")
    assert far.exit_code == 1
    assert json.loads(far.output) | {} == {"grid_id": None, "community_code": None, "community_name": None,
                                           "street_code": None, "street_name": None, "county_code": None,
                                           "county_name": None, "status": "outside", "distance_m": None}
    # Lon and lat the wrong way round: named before the package is read when it cannot
    # be lon/lat, a hint with the answer when the swapped point is in the layout.
    assert far.exit_code == 1 and "swapped" not in far.output
    impossible = run("--at", "39.9289,116.4105", "--crs", "gcj02")
    assert impossible.exit_code == 2 and ("'39.9289,116.4105' (gcj02): y = 116.4105 is not a latitude (-90..90): "
                                          "are x and y swapped, or is the CRS wrong?") in impossible.output
    # West of 90° E (Cambridge, MA) a swapped point is still lon/lat, only far off.
    comm = community_frame([shapely.box(322_000, 4_695_000, 322_300, 4_695_200)], codes=["990101900601"],
                           crs=32619)
    cambridge = gk.write_package(tmp_path / "cambridge.gpkg", gk.unit_grid(comm), comm)
    lon, lat = pyproj.Transformer.from_crs(32619, 4326, always_xy=True).transform(322_150, 4_695_100)
    swapped = CliRunner().invoke(cli, ["locate", "--grid", str(cambridge), "--at", f"{lat!r},{lon!r}"])
    assert swapped.exit_code == 1
    assert swapped.output == (f"{lat!r}, {lon!r} (EPSG:4326): outside the layout; swapped, --at {lon!r},{lat!r} "
                              "is in it\n")
    mercator = CliRunner().invoke(cli, ["locate", "--grid", str(cambridge), "--at", f"{lon!r},{lat!r}", "--crs",
                                        "EPSG:3857"])
    assert mercator.exit_code == 1
    assert mercator.output == (f"{lon!r}, {lat!r} (EPSG:3857): outside the layout; as longitude/latitude "
                               "(--crs EPSG:4326) it is in it\n")
    for args, message in {("--at", "1:2"): "expected X,Y", ("--at", "1,2,3"): "expected X,Y",
                          ("--at", "POINT EMPTY"): "expected X,Y", ("--at", "nan,nan"): "expected X,Y",
                          ("--at", "1,2", "-o", tmp_path / "x.csv"): "are for files",
                          ("--at", "1,2", "--routes", table, "--class-field", "c"): "not --class-field",
                          (): "give POINTS (a file of points) or --at X,Y"}.items():
        refused = run(*args)
        assert refused.exit_code == 2 and message in refused.output, refused.output
    assert not (tmp_path / "x.csv").exists()


def test_coordinate_rejects_name_the_bad_value_and_swapped_columns_are_caught(tmp_path, package):
    """Rows that cannot be located say which value is wrong; a row whose lon and lat
    are swapped is rejected as such, not answered 'outside' (its swap lands in a
    cell); a point simply far away stays 'outside'."""
    lon, lat = _lonlat([X0 + 50, X0 + 1000], [Y0 + 50, Y0 + 1000])
    frame = pd.DataFrame({"x": [lon[0], np.nan, np.nan, 200.0, 200.0, lat[0], lon[1]],
                          "y": [lat[0], lat[0], np.nan, lat[0], -95.0, lon[0], lat[1]]})
    loc = Locator.from_package(package)
    located, rejects = locate_frame(frame, frame["x"], frame["y"], "EPSG:4326", loc)
    assert located.index.tolist() == [0, 6] and located["gk_status"].tolist() == ["inside", "outside"]
    assert rejects["row"].tolist() == [2, 3, 4, 5, 6]
    assert rejects["reason"].tolist() == ["missing_coordinates"] * 2 + ["impossible_coordinates"] * 2 + [
        "latlon_swapped"]
    assert rejects["detail"].tolist() == [
        "x is blank or not a number", "no x or y: blank, not numbers, or an empty geometry",
        "x = 200 is not a longitude (-180..180): are x and y swapped, or is the CRS wrong?",
        "x = 200 is not a longitude (-180..180); y = -95 is not a latitude (-90..90): are x and y swapped, "
        "or is the CRS wrong?",
        "swapping x and y puts it inside the layout; the columns are swapped"]
    # A table's columns are named as the file names them; one "location" column as such.
    for names, texts in ((("PointX", "PointY"), ["PointX is blank or not a number",
                                                 "PointX and PointY are blank or not numbers"]),
                         (("location",) * 2, ["location is blank or not a number",
                                              "no x or y in location: blank, or not a pair of numbers"])):
        frame.attrs["xy_fields"] = names
        _, rejects = locate_frame(frame, frame["x"], frame["y"], "EPSG:4326", loc)
        assert rejects["detail"].tolist()[:2] == texts
    frame.attrs = {}
    # In a metric CRS, a survey table's X is the northing (X坐标 north, Y坐标 east): the
    # easting and northing swapped are caught too, as xy_swapped; within the tolerance
    # counts, a point far away does not.
    assert loc.swapped([Y0 + 50, Y0 + 1000, Y0 - 20, Y0 - 20], [X0 + 50, X0 + 1000, X0 + 50, X0 + 50],
                       "EPSG:4548", tolerance=25).tolist() == [True, False, True, True]
    assert loc.swapped([Y0 - 20], [X0 + 50], "EPSG:4548", tolerance=0).tolist() == [False]
    survey = pd.DataFrame({"X坐标": [Y0 + 50, Y0 + 1000, Y0 + 50], "Y坐标": [X0 + 50, X0 + 1000, X0 + 150]})
    located, rejects = locate_frame(survey, survey["X坐标"], survey["Y坐标"], "EPSG:4548", loc)
    assert located.index.tolist() == [1] and located["gk_status"].tolist() == ["outside"]
    assert rejects[["row", "reason", "detail"]].values.tolist() == [
        [row, "xy_swapped", "swapping x and y puts it inside the layout; x is the northing here, not the easting"]
        for row in (1, 3)]
    located, rejects = locate_frame(survey, survey["Y坐标"], survey["X坐标"], "EPSG:4548", loc)
    assert located["gk_grid_id"].notna().tolist() == [True, False, True] and rejects.empty
    # x with the zone number in front (39 for CM 117°E) read in the CRS without it, and
    # the other way round (PROJ gives inf for 450 km read in zone 39): zone_prefix,
    # naming the CRS; the library's one-point locate answers outside, not an error.
    for xs, crs, twin in (([39_000_000 + X0 + 50, X0 + 50], "EPSG:4548",
                           "EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger zone 39), whose x has the"),
                          ([X0 + 50, 39_000_000 + X0 + 50], "EPSG:4527",
                           "EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E), whose x has no")):
        table = pd.DataFrame({"x": xs, "y": [Y0 + 50] * 2})
        located, rejects = locate_frame(table, table["x"], table["y"], crs, loc)
        assert located["gk_grid_id"].tolist() == ["110101001001004"]
        assert rejects[["row", "reason", "detail"]].values.tolist() == [
            [1, "zone_prefix", f"read in {twin} zone number in front, it is inside the layout"]]
        assert loc.locate(xs[0], Y0 + 50, crs=crs).status == "outside"
    assert not loc.in_zone_twin([X0 + 50], [Y0 + 50], "EPSG:32650").any()
    assert loc.swapped([lat[0], lat[1], 0.0], [lon[0], lon[1], 0.0], "EPSG:4326").tolist() == [True, False, False]
    # Degrees given the layout's metric CRS: rejected as such; the metres they lie
    # among, and degrees outside the layout, are not.
    located, rejects = locate_frame(frame.iloc[[0, 6]], frame["x"].iloc[[0, 6]], frame["y"].iloc[[0, 6]],
                                    "EPSG:4548", loc)
    assert located.index.tolist() == [6] and located["gk_status"].tolist() == ["outside"]
    assert rejects[["row", "reason"]].values.tolist() == [[1, "degrees_in_projected_crs"]]
    assert loc.in_degrees([lon[0], lon[1], X0 + 50], [lat[0], lat[1], Y0 + 50], "EPSG:4548").tolist() == [
        True, False, False]
    assert not loc.in_degrees([lon[0]], [lat[0]], "EPSG:4326").any() and not loc.in_degrees([lon[0]], [lat[0]], None)


def test_baidu_mercator_metres_locate_with_bd09mc_and_are_named_in_another_crs(package):
    """Baidu's metres (bd09mc) locate as the point they stand for. Read as Web
    Mercator (about 30 km south) or given a lon/lat CRS, they were answered outside
    or impossible, naming no fix; now they are rejected as baidu_mercator."""
    lon, lat = _lonlat([X0 + 50, X0 + 1000], [Y0 + 50, Y0 + 1000])
    mx, my = coords.wgs84_to_bd09mc(lon, lat)
    table = pd.DataFrame({"x": mx, "y": my})
    loc = Locator.from_package(package)
    located, rejects = locate_frame(table, table["x"], table["y"], "bd09mc", loc)
    assert located["gk_grid_id"].notna().tolist() == [True, False] and rejects.empty
    assert located["gk_grid_id"].iloc[0] == "110101001001004"
    assert loc.locate(mx[0], my[0], crs="bd09mc").grid_id == "110101001001004"
    detail = "read as BD-09 Mercator (--crs bd09mc, Baidu's metres) it is inside the layout"
    located, rejects = locate_frame(table, table["x"], table["y"], "EPSG:3857", loc)
    assert located.index.tolist() == [1] and located["gk_status"].tolist() == ["outside"]
    assert rejects[["row", "reason", "detail"]].values.tolist() == [[1, "baidu_mercator", detail]]
    located, rejects = locate_frame(table, table["x"], table["y"], "bd09", loc)
    assert located.empty and rejects["reason"].tolist() == ["baidu_mercator", "impossible_coordinates"]
    assert rejects["detail"].iloc[1] == (
        f"x = {mx[1]:.12g} is not a longitude (-180..180); y = {my[1]:.12g} is not a latitude (-90..90): is the CRS "
        "wrong? As Mercator metres they lie in China: Baidu's own (bd09mc, as Baidu Maps' pages and POI downloads "
        "give them) or Web Mercator (EPSG:3857)")
    assert loc.misread(mx[0], my[0], "EPSG:3857") == "baidu_mercator"
    assert not loc.in_baidu_mercator(mx, my, "bd09mc").any() and not loc.in_baidu_mercator(mx, my, None).any()


def test_without_a_tolerance_the_summary_says_how_to_give_one(tmp_path, package):
    points, _ = _points(tmp_path)
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 0, result.output
    assert ("  7 inside a cell, 2 outside the layout (--tolerance M gives those within M metres the nearest cell)"
            in result.output.splitlines())


@pytest.fixture()
def micro_package(package):
    """The package with micro-grids: each cell cut in two at the middle of its x range."""
    pyogrio.write_dataframe(micro_halves(gpd.read_file(package, layer="cells")), package, layer="micro_grids")
    return package


def test_micro_grids_are_named_in_files_at_one_point_and_on_dask(tmp_path, micro_package):
    """A package with micro-grids (a household package made with --micro): the file
    path adds gk_micro_id beside gk_grid_id, --at prints it, dask gives the same rows."""
    # In the layout's CRS, so points on edges are exactly there: (50,50) between 004's
    # halves → the east one; (150,100) on 002's south edge → 002, at its middle → east;
    # (310,20) in the triangle's south cell; (-5,50) nearest 004's west half; far off.
    frame = pd.DataFrame({"case": [f"p{i}" for i in range(6)], "x": X0 + np.array([50, 100, 150, 310, -5, 1000.0]),
                          "y": Y0 + np.array([50, 50, 100, 20, 50, 1000.0])})
    frame.to_csv(tmp_path / "points.csv", index=False)
    out = tmp_path / "located.csv"
    run = CliRunner().invoke(cli, ["locate", str(tmp_path / "points.csv"), "--grid", str(micro_package), "--crs",
                                   "EPSG:4548", "-o", str(out), "--tolerance", "10"])
    assert run.exit_code == 0, run.output
    located = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(located.columns[3:5]) == ["gk_grid_id", "gk_micro_id"]
    assert located[["gk_grid_id", "gk_micro_id"]].values.tolist() == [
        ["110101001001004", "11010100100100402"], ["110101001001005", "11010100100100501"],
        ["110101001001002", "11010100100100202"], ["110101001002002", "11010100100200201"],
        ["110101001001004", "11010100100100401"], ["", ""]]
    at = CliRunner().invoke(cli, ["locate", "--grid", str(micro_package), "--at", f"{X0 + 50},{Y0 + 50}",
                                  "--crs", "EPSG:4548"])
    assert at.exit_code == 0 and at.output.splitlines()[:2] == [
        f"{X0 + 50}, {Y0 + 50} (EPSG:4548) → cell 110101001001004 (inside)", "  micro-grid 11010100100100402"]
    as_json = CliRunner().invoke(cli, ["locate", "--grid", str(micro_package), "--at", f"{X0 + 50},{Y0 + 50}",
                                       "--crs", "EPSG:4548", "--json"])
    assert json.loads(as_json.output)["micro_id"] == "11010100100100402"
    # Plain Parquet (no geometry): its coordinate columns are found by name, as in a CSV.
    frame.to_parquet(tmp_path / "points.parquet")
    on_dask, _ = locate_dask(tmp_path / "points.parquet", micro_package, crs="EPSG:4548", tolerance=10, n_workers=1)
    assert on_dask["gk_micro_id"].astype(object).fillna("").tolist() == located["gk_micro_id"].tolist()
    # Else the error names the columns it has (before any cluster starts).
    frame.rename(columns={"x": "east", "y": "north"}).to_parquet(tmp_path / "unnamed.parquet")
    with pytest.raises(InputError, match=r"no coordinate columns found .* among \['case', 'east', 'north'\]; name "
                                         "them with --x-field and --y-field"):
        locate_dask(tmp_path / "unnamed.parquet", micro_package, crs="EPSG:4548")


MICRO_ROUTES = """
[departments."水务局"]
code = ""
[departments."网格员 {micro_id}"]
code = ""
[departments."{street_name}街道办事处"]
code = ""
[territorial]
"*" = "{street_name}街道办事处"
"11010100100100501" = "网格员 {micro_id}"
[[rule]]
classes = ["01001"]
department = "水务局"
[[rule]]
area = "11010100100100402"
classes = ["01001"]
department = "网格员 {micro_id}"
"""


def test_micro_grids_route_to_their_own_department(tmp_path, micro_package):
    """A routing table may name a micro-grid (17 digits) as a rule's area or a
    territorial authority: the file path, --at and dask route by it, per micro-grid
    (two points in one cell's two halves get two departments), and route check
    finds the micro-grids in the package."""
    # The points of the test above: 004's east and west halves (p0, p4), 005's west
    # half (p1, a class no rule names), 002 and 002002 (no micro-grid rule), far off.
    frame = pd.DataFrame({"x": X0 + np.array([50, 100, 150, 310, -5, 1000.0]),
                          "y": Y0 + np.array([50, 50, 100, 20, 50, 1000.0]),
                          "matter": ["01001", "09001", "01001", "０１００１", "01001", "01001"]})  # full-width too
    frame.to_csv(tmp_path / "points.csv", index=False)
    (tmp_path / "routing.toml").write_text(MICRO_ROUTES, encoding="utf-8")
    out = tmp_path / "located.csv"
    routed = ["--routes", str(tmp_path / "routing.toml"), "--crs", "EPSG:4548", "--tolerance", "10"]
    run = CliRunner().invoke(cli, ["locate", str(tmp_path / "points.csv"), "--grid", str(micro_package),
                                   "--class-field", "matter", "-o", str(out), *routed])
    assert run.exit_code == 0, run.output
    located = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = ["网格员 11010100100100402", "网格员 11010100100100501", "水务局", "水务局", "水务局", ""]
    assert located["gk_department_name"].tolist() == expected
    at = CliRunner().invoke(cli, ["locate", "--grid", str(micro_package), "--at", f"{X0 + 50},{Y0 + 50}",
                                  "--class", "01001", "--json", *routed])
    assert at.exit_code == 0 and json.loads(at.output)["department_name"] == expected[0]
    frame.to_parquet(tmp_path / "points.parquet")
    on_dask, _ = locate_dask(tmp_path / "points.parquet", micro_package, crs="EPSG:4548", x_field="x", y_field="y",
                             tolerance=10, n_workers=1, routes=RoutingTable.load(tmp_path / "routing.toml"),
                             class_field="matter")
    assert on_dask["gk_department_name"].fillna("").tolist() == expected
    check = CliRunner().invoke(cli, ["route", "check", str(tmp_path / "routing.toml"), "--grid", str(micro_package)])
    assert check.exit_code == 0 and "not in the layout" not in check.output


def test_dask_takes_the_geoparquets_crs_and_any_geometry_as_the_file_path_does(tmp_path, package):
    """GeoParquet in the layout's projected CRS, without --crs: the dask path reads the
    file's CRS (it used to take lon/lat and reject every row), points are cut from
    the WKB, and a polygon, a line, a multi-point and a missing geometry are taken as
    the file path takes them (a point standing for each; the missing one rejected)."""
    from gridkit.catalogue import read_inventory

    geoms = [shapely.Point(X0 + 50, Y0 + 50), shapely.box(X0 + 110, Y0 + 10, X0 + 190, Y0 + 90),
             shapely.LineString([(X0 + 210, Y0 + 150), (X0 + 290, Y0 + 150)]),
             shapely.MultiPoint([(X0 + 150, Y0 + 150), (X0 + 50, Y0 + 150)]), None,
             shapely.Point(X0 + 1000, Y0 + 1000)]
    gdf = gpd.GeoDataFrame({"case": [f"g{i}" for i in range(6)]}, geometry=geoms, crs=4548)
    gdf.to_parquet(tmp_path / "mixed.parquet")
    gdf.iloc[[0, 5]].to_parquet(tmp_path / "points.parquet")  # points only: cut from the WKB
    loc = Locator.from_package(package)
    expected = {"mixed": (["110101001001004", "110101001001005", "110101001001003", "110101001001002", ""], [5]),
                "points": (["110101001001004", ""], [])}
    for name, (cells, rejected) in expected.items():
        on_dask, rejects = locate_dask(tmp_path / f"{name}.parquet", package, n_workers=1)
        assert on_dask["gk_grid_id"].astype(object).where(on_dask["gk_grid_id"].notna(), "").tolist() == cells
        assert rejects["row"].tolist() == rejected
        frame, x, y, crs = read_inventory(tmp_path / f"{name}.parquet")  # the file path's reading
        local, local_rejects = locate_frame(frame, x, y, crs, loc)
        columns = ["case", "gk_grid_id", "gk_status"]
        assert on_dask[columns].astype(str).values.tolist() == local[columns].astype(str).values.tolist()
        assert rejects[["row", "reason"]].values.tolist() == local_rejects[["row", "reason"]].values.tolist()


def test_locate_reads_its_own_geopackage_without_warnings(package, tmp_path, caplog, recwarn):
    """Locating located.gpkg again warned twice: pyogrio's "More than one layer found"
    (its layer_styles), and "labelled EPSG:4326 and lies in China … often GCJ-02",
    though locate writes WGS84 whatever it read."""
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50, Y0 + 150])
    east, north = coords.wgs84_to_gcj02(lon, lat)
    pd.DataFrame({"lon": east, "lat": north}).to_csv(tmp_path / "reports.csv", index=False)
    first = CliRunner().invoke(cli, ["locate", str(tmp_path / "reports.csv"), "--crs", "gcj02", "--grid", str(package),
                                     "-o", str(tmp_path / "located.gpkg")])
    assert first.exit_code == 0, first.output
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "located.gpkg")] == ["located", "layer_styles"]
    caplog.clear()
    recwarn.clear()
    with caplog.at_level("WARNING"):
        again = CliRunner().invoke(cli, ["locate", str(tmp_path / "located.gpkg"), "--grid", str(package),
                                         "-o", str(tmp_path / "again.csv")])
    assert again.exit_code == 0, again.output
    assert pd.read_csv(tmp_path / "again.csv", dtype=str)["gk_grid_id"].tolist() == ["110101001001004",
                                                                                   "110101001001002"]
    assert caplog.messages == [] and [str(w.message) for w in recwarn] == []
    # A file of lon/lat in China that gridkit did not write is still warned about.
    pd.DataFrame({"lon": lon, "lat": lat}).pipe(
        lambda f: gpd.GeoDataFrame(f, geometry=gpd.points_from_xy(f.lon, f.lat), crs=4326)).to_file(
        tmp_path / "gps.gpkg")
    with caplog.at_level("WARNING"):
        CliRunner().invoke(cli, ["locate", str(tmp_path / "gps.gpkg"), "--grid", str(package), "-o",
                                 str(tmp_path / "gps.csv")])
    assert any("lies in China" in m for m in caplog.messages)


def test_a_zero_coordinate_is_rejected_as_never_filled_in(package):
    """An inventory's blank position written as zeros (0,0, or a 0 longitude)
    was answered outside like any far point; now it is rejected, naming why. A
    far point with no zero stays an answer outside."""
    lon, lat = _lonlat([X0 + 50], [Y0 + 50])
    table = pd.DataFrame({"x": [lon[0], 0.0, 0.0, 100.0], "y": [lat[0], 0.0, lat[0], 10.0]})
    loc = Locator.from_package(package)
    located, rejects = locate_frame(table, table["x"], table["y"], "EPSG:4326", loc)
    assert located.index.tolist() == [0, 3] and located["gk_status"].tolist() == ["inside", "outside"]
    assert rejects[["row", "reason", "detail"]].values.tolist() == [
        [2, "zero_coordinates", "x or y is 0: a position never filled in"],
        [3, "zero_coordinates", "x or y is 0: a position never filled in"]]
    assert loc.misread(0.0, 0.0, "EPSG:4326") == "zero_coordinates"


def test_a_partitioned_dataset_that_dask_cannot_read_whole_is_refused_naming_the_file(tmp_path, package):
    """Partitions that disagree on a column's type (lon as text in one) ended in an
    ArrowInvalid traceback when the output was written; a file that is no Parquet,
    in one from a worker; a folder with no Parquet in it was "no coordinate columns
    found … among []". A blank that made a column of whole numbers floats in one
    file is no disagreement, nor are Spark's _SUCCESS and .crc files."""
    rows = pd.DataFrame({"lon": [116.40, 116.41], "lat": [39.90, 39.91], "n": [1, 2]})
    cases = {"mixed": [rows, rows.astype({"lon": str})], "broken": [rows, b"PAR1 cut short"], "empty": [],
             "blank": [rows, rows.assign(n=[1.0, None])]}
    for name, parts in cases.items():
        (tmp_path / name).mkdir()
        for i, part in enumerate(parts):
            path = tmp_path / name / f"part-{i}.parquet"
            path.write_bytes(part) if isinstance(part, bytes) else part.to_parquet(path, index=False)
    (tmp_path / "blank" / "_SUCCESS").write_bytes(b"")
    (tmp_path / "blank" / ".part-0.parquet.crc").write_bytes(b"crc")
    messages = {
        "mixed": f"{tmp_path / 'mixed'}: its files disagree on column 'lon': double in {tmp_path}/mixed/part-0"
                 f".parquet, large_string in {tmp_path}/mixed/part-1.parquet. Write the partitions with one schema "
                 "(pandas: the same dtypes in each; pyarrow: one schema=) and locate them again",
        "broken": f"{tmp_path / 'broken'}: {tmp_path}/broken/part-1.parquet is not a readable Parquet file (",
        "empty": f"{tmp_path / 'empty'}: no Parquet files in it (files whose names begin with . or _, as Spark's "
                 "_SUCCESS, are not read)"}
    for name, message in messages.items():
        with pytest.raises(InputError) as error:
            locate_dask(tmp_path / name, package, n_workers=1)
        assert str(error.value).startswith(message), str(error.value)
    assert batch._parquet_columns(tmp_path / "blank")[3] == ["lon", "lat", "n"]


def test_dask_rejects_name_the_coordinate_columns_as_the_file_path_does(tmp_path, package):
    """A blank lon in plain Parquet was "x is blank or not a number" on dask, and
    "lon is blank or not a number" from the same rows as a CSV."""
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50, Y0 + 50])
    rows = pd.DataFrame({"id": ["a", "b", "c"], "lon": [lon[0], None, lon[1]], "lat": [lat[0], lat[1], np.inf]})
    (tmp_path / "parts").mkdir()
    rows.to_parquet(tmp_path / "parts" / "part-0.parquet", index=False)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    _, on_dask = locate_dask(tmp_path / "parts", package, n_workers=1)
    locate_file(tmp_path / "rows.csv", package, tmp_path / "located.csv")
    from_file = pd.read_csv(tmp_path / "located.rejects.csv", encoding="utf-8-sig")
    assert on_dask[["row", "reason", "detail"]].values.tolist() == [
        [2, "missing_coordinates", "lon is blank or not a number"],
        [3, "missing_coordinates", "lat is blank or not a number"]]
    columns = ["row", "reason", "detail"]
    assert from_file[columns].values.tolist() == on_dask[columns].values.tolist()


def test_dask_beside_another_cluster_does_not_warn_of_the_dashboards_port(tmp_path, package):
    """With another dask cluster running (a notebook's, or a second run), every
    `locate --dask` warned "Port 8787 is already in use. Perhaps you already have a
    cluster running?": dashboard_address=None does not turn the dashboard off
    (dask/distributed#8136). It takes a free port now, and says nothing."""
    import socket
    import warnings

    lon, lat = _lonlat([X0 + 50], [Y0 + 50])
    (tmp_path / "parts").mkdir()
    pd.DataFrame({"id": ["a"], "lon": lon, "lat": lat}).to_parquet(tmp_path / "parts" / "part-0.parquet")
    with socket.socket() as taken:
        try:
            taken.bind(("", 8787))  # as a running cluster's dashboard holds it
            taken.listen()
        except OSError:  # another test's cluster holds it already: as good
            pass
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            located, _ = locate_dask(tmp_path / "parts", package, n_workers=1)
    assert located["gk_grid_id"].tolist() == ["110101001001004"]  # the south-west cell
    assert [str(w.message) for w in caught if "already in use" in str(w.message)] == []


def _ids(column):
    """A column of grid IDs as a list, None where there is none."""
    return column.astype(object).where(column.notna(), None).tolist()


def _ddmm(degrees):
    """Decimal degrees as NMEA writes them: degrees and minutes run together."""
    whole = np.floor(degrees)
    return np.round(whole * 100 + (degrees - whole) * 60, 6)


def test_a_latitude_typed_into_excel_as_a_time_of_day_reads_as_degrees(tmp_path):
    """South of 24°N (Hainan, Guangdong's tip), 18:15:30.5 typed into a cell is a
    time of day to Excel, not a duration: it reads as degrees all the same."""
    import datetime as dt

    import xlsxwriter

    from gridkit.catalogue import read_points

    book = xlsxwriter.Workbook(tmp_path / "sanya.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["name", "经度", "纬度"])
    sheet.write(1, 0, "hydrant")
    sheet.write_datetime(1, 1, dt.timedelta(hours=109, minutes=30, seconds=44),
                         book.add_format({"num_format": "[h]:mm:ss"}))
    sheet.write_datetime(1, 2, dt.time(18, 15, 30, 500000), book.add_format({"num_format": "hh:mm:ss.000"}))
    book.close()
    point = read_points(tmp_path / "sanya.xlsx").geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((109 + 30 / 60 + 44 / 3600, 18 + 15 / 60 + 30.5 / 3600), abs=1e-9)


def test_degrees_minutes_seconds_spaced_or_by_colons_are_read_as_gps_units_and_excel_write_them(tmp_path, package):
    """Degrees, minutes and seconds with no marks were rejected as missing: spaced, as
    GPS units export them (Garmin's N39 54.052 E116 24.733, hddd mm ss.s), by colons,
    as typed into a workbook (where Excel makes 116:24:44 a duration), and as PROJ's
    cs2cs writes them (116d24'44"E). Each now reads to the same cell; a run of numbers
    that splits two ways is still rejected, not guessed."""
    (lon,), (lat,) = _lonlat([X0 + 150], [Y0 + 50])  # the middle of cell …005

    def parts(value, sep=" ", seconds=True):
        minutes = value % 1 * 60
        return (f"{int(value)}{sep}{int(minutes):02d}{sep}{minutes % 1 * 60:06.3f}" if seconds
                else f"{int(value)}{sep}{minutes:06.3f}")

    points = tmp_path / "gps.csv"
    pd.DataFrame({"lon": [parts(lon) + "E", parts(lon, ":"), f"E{parts(lon, seconds=False)}",
                          parts(lon).replace(" ", "d", 1).replace(" ", "'") + '"E', f"+{parts(lon)} E"],
                  "lat": [parts(lat) + "N", parts(lat, ":"), f"N{parts(lat, seconds=False)}",
                          parts(lat).replace(" ", "d", 1).replace(" ", "'") + '"N', f"{parts(lat)} N"],
                  "position": [f"N{parts(lat, seconds=False)} E{parts(lon, seconds=False)}",
                               f"{parts(lon, ':')}, {parts(lat, ':')}", f"{parts(lon)} {parts(lat)}",
                               f"{parts(lon, seconds=False)} {parts(lat, seconds=False)}",
                               f"{parts(lat)}N {parts(lon)}E"]}).to_csv(points, index=False)
    assert pd.read_csv(points)["position"][0] == "N39 44.070 E117 00.105"  # as a Garmin unit shows it
    out = tmp_path / "out.csv"
    for columns in (["--x-field", "lon", "--y-field", "lat"], []):  # without: position, a column of both
        result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), *columns, "--crs",
                                          "EPSG:4326", "-o", str(out), "--overwrite", "--json"])
        assert result.exit_code == 0 and json.loads(result.output)["located"] == 5, result.output
        assert pd.read_csv(out, dtype=str)["gk_grid_id"].tolist() == ["110101001001005"] * 5, columns
    result = CliRunner().invoke(cli, ["locate", "--at", f"N{parts(lat, seconds=False)} E{parts(lon, seconds=False)}",
                                      "--grid", str(package)])
    assert result.exit_code == 0 and "→ cell 110101001001005 (inside)" in result.output, result.output
    # A workbook: 117:00:06.3 typed into a cell is a duration of that many hours
    book = tmp_path / "gps.xlsx"
    with pd.ExcelWriter(book, engine="xlsxwriter") as writer:
        sheet = writer.book.add_worksheet("points")
        duration = writer.book.add_format({"num_format": "[h]:mm:ss.000"})
        sheet.write_row(0, 0, ["no", "lon", "lat"])
        sheet.write_row(1, 0, [1, lon / 24, lat / 24], duration)
    result = CliRunner().invoke(cli, ["locate", str(book), "--grid", str(package), "-o", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    located = pd.read_csv(out, dtype=str)
    assert located["gk_grid_id"].tolist() == ["110101001001005"] and located["lon"][0] == parts(lon, ":")
    # Five numbers split two ways (116°24′44″ and 39°54′, or 116°24′ and 44°39′54″); 61 is no minute
    odd = tmp_path / "odd.csv"
    pd.DataFrame({"position": ["116 24 44 39 54", f"{int(lon)} 61 {int(lat)} 30", "N39 54 E116 24 44"]}).to_csv(
        odd, index=False)
    result = CliRunner().invoke(cli, ["locate", str(odd), "--grid", str(package), "-o", str(out), "--overwrite",
                                      "--crs", "EPSG:4326", "--json"])
    summary = json.loads(result.output)
    assert summary["rejected_by_reason"] == {"missing_coordinates": 2} and summary["outside"] == 1  # Beijing
    assert pd.read_csv(tmp_path / "out.rejects.csv")["row"].tolist() == [1, 2]


def test_coordinate_columns_are_found_with_a_unit_after_their_names(tmp_path, package):
    """Ledgers write the unit after a column's name (经度(°), Easting [m]): such a file
    had "no coordinate columns found". Now the names match without the unit; two
    columns that then match one coordinate are refused, naming both."""
    (lon,), (lat,) = _lonlat([X0 + 150], [Y0 + 50])  # the middle of cell …005
    tables = {"ledger.csv": ({"编号": ["J1"], "经度（°）": [lon], "纬度（°）": [lat]}, []),
              "survey.csv": ({"id": [1], "Easting [m]": [X0 + 150], "Northing [m]": [Y0 + 50]},
                             ["--crs", "EPSG:4548"]),
              "gps.csv": ({"id": [1], "Longitude (deg)": [lon], "Latitude (deg)": [lat]}, [])}
    out = tmp_path / "out.csv"
    for name, (table, crs) in tables.items():
        pd.DataFrame(table).to_csv(tmp_path / name, index=False)
        result = CliRunner().invoke(cli, ["locate", str(tmp_path / name), "--grid", str(package), *crs,
                                          "-o", str(out), "--overwrite"])
        assert result.exit_code == 0, (name, result.output)
        assert pd.read_csv(out, dtype=str)["gk_grid_id"].tolist() == ["110101001001005"], name
    pd.DataFrame({"经度": [lon], "经度(°)": [lon], "纬度": [lat]}).to_csv(tmp_path / "two.csv", index=False)
    result = CliRunner().invoke(cli, ["locate", str(tmp_path / "two.csv"), "--grid", str(package), "-o", str(out),
                                      "--overwrite"])
    assert result.exit_code == 1 and ("2 columns could be the coordinate 经度: '经度', '经度(°)'; name the ones to "
                                      "use with --x-field and --y-field") in result.output, result.output


def test_a_gpx_patrol_is_located_and_its_waypoints_imported(tmp_path, package):
    """A GPX file (a patrol's track, a survey's marked waypoints) was refused as an
    unknown format. Its waypoints are read by default, the track with --layer; an
    .xlsx output keeps the track's UTC times as text with their offset (they crashed
    the writer), and components import takes the waypoints alone, not the track."""
    lon, lat = (v.tolist() for v in _lonlat(X0 + np.array([50, 150, 250.0]), Y0 + np.array([150, 50, 150.0])))
    points = "\n".join(f'<trkpt lat="{b!r}" lon="{a!r}"><time>2026-11-20T00:3{i}:00Z</time></trkpt>'
                       for i, (a, b) in enumerate(zip(lon, lat)))
    gpx = tmp_path / "patrol.gpx"
    gpx.write_text('<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
                   f'<wpt lat="{lat[1]!r}" lon="{lon[1]!r}"><name>lamp</name></wpt>'
                   f"<trk><trkseg>{points}</trkseg></trk></gpx>", encoding="utf-8")
    out = tmp_path / "patrol.xlsx"
    run = CliRunner().invoke
    result = run(cli, ["locate", str(gpx), "--grid", str(package), "-o", str(out), "--json"])
    assert result.exit_code == 0 and json.loads(result.output.splitlines()[-1])["located"] == 1, result.output
    result = run(cli, ["locate", str(gpx), "--layer", "track_points", "--grid", str(package), "-o", str(out),
                       "--overwrite"])
    assert result.exit_code == 0, result.output
    located = pd.read_excel(out, dtype=str, engine="calamine")
    assert located["gk_grid_id"].tolist() == ["110101001001001", "110101001001005", "110101001001003"]
    assert located["time"].tolist() == [f"2026-11-20 00:3{i}:00+00:00" for i in range(3)]
    result = run(cli, ["components", "import", str(gpx), "--grid", str(package), "--class", "01037", "--json"])
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.output.splitlines()[-1])
    assert summary["imported"] == 1 and summary["source"] == "patrol"


def test_components_import_lists_those_within_so_many_metres_of_another_cell(tmp_path, package):
    """components import --near-edge M lists the inventory's components within M m
    of another cell (what a position good to ±M m could be in), with what lies
    between, in INVENTORY.near-edge.csv beside the rejects, and counts them. A
    component on the layout's outer edge has no other cell to be in."""
    lamps = tmp_path / "lamps.csv"
    pd.DataFrame({"no": [1, 2, 3, 4], "x": X0 + np.array([50, 98, 297, 150.0]),
                  "y": Y0 + np.array([50, 50, 20, 199.0])}).to_csv(lamps, index=False)
    args = ["components", "import", str(lamps), "--grid", str(package), "--class", "01037", "--crs", "EPSG:4548",
            "--json"]
    result = CliRunner().invoke(cli, args + ["--near-edge", "5"])
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.output)
    near_file = tmp_path / "lamps.near-edge.csv"
    assert summary["near_edge"] == {"cell": 1, "community": 1, "street": 0, "district": 0}
    assert summary["near_edge_file"] == str(near_file)
    near = pd.read_csv(near_file, dtype=str)
    assert near[["GLBJBSM", "grid_id", "near_grid_id", "near_m", "near_across", "source_row"]].values.tolist() == [
        ["11010101037000002", "110101001001004", "110101001001005", "2.0", "cell", "2"],
        ["11010101037000003", "110101001001006", "110101001002002", "3.0", "community", "3"]]
    lon, lat = _lonlat([X0 + 98], [Y0 + 50])
    assert near[["lon", "lat"]].astype(float).iloc[0].tolist() == [round(float(lon[0]), 7), round(float(lat[0]), 7)]
    text = CliRunner().invoke(cli, args[:-1] + ["--near-edge", "1"])
    assert text.exit_code == 0 and f"0 within 1 m of another cell ({near_file})" in text.output, text.output
    assert pd.read_csv(near_file).empty


def test_jtt808_millionths_and_nmea_minutes_are_named_then_read_with_degrees(tmp_path, package):
    """A vehicle terminal's millionths of a degree (JT/T 808: 116412209) and a GPS
    receiver's degrees and minutes (NMEA: 11624.7326) were rejected as "not lon/lat",
    naming no fix. Now those that land in the layout read so are rejected as
    scaled_degrees or degrees_minutes, naming the form; --degrees reads them, in a
    file (locally and on dask), --at and components import."""
    lon, lat = _lonlat(X0 + np.array([50, 150, 250, 350, 1000.0]), Y0 + np.array([50, 150, 50, 20, 1000.0]))
    loc = Locator.from_package(package)
    ids = _ids(locate_frame(pd.DataFrame({"lon": lon}), lon, lat, "EPSG:4326", loc)[0]["gk_grid_id"])
    assert ids[0] == "110101001001004" and ids[3] == "110101001002002" and ids[4] is None
    runner = CliRunner()
    forms = {"e6": (np.round(lon * 1e6), np.round(lat * 1e6), "scaled_degrees"),
             "e7": (np.round(lon * 1e7), np.round(lat * 1e7), "scaled_degrees"),
             "ddmm": (_ddmm(lon), _ddmm(lat), "degrees_minutes")}
    for form, (x, y, reason) in forms.items():
        points = tmp_path / f"{form}.csv"
        pd.DataFrame({"no": range(5), "lon": x, "lat": y}).to_csv(points, index=False)
        out = tmp_path / f"{form}_located.csv"
        args = ["locate", str(points), "--grid", str(package), "-o", str(out), "--json", "--overwrite"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["rejected_by_reason"] == {reason: 4, "impossible_coordinates": 1}
        rejects = pd.read_csv(tmp_path / f"{form}_located.rejects.csv")
        assert rejects["detail"].iloc[0] == (f"read as {coords.DEGREE_FORMS[form]}, it is inside the layout: "
                                             f"give --degrees {form}")
        result = runner.invoke(cli, args + ["--degrees", form])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["located"] == 5
        located = pd.read_csv(out, dtype={"gk_grid_id": str})
        assert _ids(located["gk_grid_id"]) == ids
    parts = tmp_path / "ddmm.parquet"
    pd.read_csv(tmp_path / "ddmm.csv").to_parquet(parts)
    located, rejects = locate_dask(parts, package, degrees="ddmm", n_workers=1)
    assert rejects.empty and _ids(located["gk_grid_id"]) == ids
    at = f"{forms['e7'][0][0]:.0f},{forms['e7'][1][0]:.0f}"
    result = runner.invoke(cli, ["locate", "--at", at, "--grid", str(package)])
    assert result.exit_code == 2 and "it is in the layout read as degrees × 10,000,000 (1164122000): --degrees e7" \
        in result.output
    result = runner.invoke(cli, ["locate", "--at", at, "--grid", str(package), "--degrees", "e7"])
    assert result.exit_code == 0 and "→ cell 110101001001004 (inside)" in result.output
    result = runner.invoke(cli, ["locate", str(tmp_path / "e6.csv"), "--grid", str(package), "-o", str(out),
                                 "--overwrite", "--crs", "EPSG:4548", "--degrees", "e6"])
    assert result.exit_code == 1 and ("--degrees e6 reads longitude/latitude, and the positions are in "
                                      "CGCS2000 / 3-degree Gauss-Kruger CM 117E (projected)") in result.output
    result = runner.invoke(cli, ["components", "import", str(tmp_path / "e6.csv"), "--grid", str(package),
                                 "--class", "01037", "--degrees", "e6", "--tolerance", "0", "--json"])
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.output)  # one per inventory
    assert (summary["imported"], summary["rejected_by_reason"]) == (4, {"outside": 1})


def test_near_edge_names_the_other_cell_a_position_could_be_in(tmp_path, package):
    """--near-edge M: each point also names the nearest other cell within M metres,
    how far it is and what lies between (another cell of its community, another
    community, another street), in a file, on dask, at one point and from the
    library; the summary counts them."""
    x = X0 + np.array([50, 50, 297, 1000, 50.0])
    y = Y0 + np.array([50, 97, 20, 1000, np.nan])
    lon, lat = _lonlat(x, y)
    points = tmp_path / "near.csv"
    pd.DataFrame({"no": range(5), "lon": lon, "lat": lat}).to_csv(points, index=False)
    out = tmp_path / "near_located.csv"
    result = CliRunner().invoke(cli, ["locate", str(points), "--grid", str(package), "-o", str(out),
                                      "--near-edge", "10"])
    assert result.exit_code == 0, result.output
    assert "  2 within 10 m of another cell (gk_near_grid_id): 1 of another community" in result.output.splitlines()
    located = pd.read_csv(out, dtype={"gk_grid_id": str, "gk_near_grid_id": str})
    assert _ids(located["gk_grid_id"]) == ["110101001001004", "110101001001004", "110101001001006", None]
    assert _ids(located["gk_near_grid_id"]) == [None, "110101001001001", "110101001002002", None]
    assert np.allclose(located["gk_near_m"].to_numpy(), [np.nan, 3, 3, np.nan], equal_nan=True, atol=1e-6)
    assert _ids(located["gk_near_across"]) == [None, "cell", "community", None]
    parts = tmp_path / "near.parquet"
    pd.read_csv(points).to_parquet(parts)
    on_dask, rejects = locate_dask(parts, package, near_edge=10, n_workers=1)
    assert rejects["reason"].tolist() == ["missing_coordinates"]
    for column in ("gk_near_grid_id", "gk_near_across"):
        assert _ids(on_dask[column]) == _ids(located[column])
    result = CliRunner().invoke(cli, ["locate", "--at", f"{lon[2]},{lat[2]}", "--grid", str(package),
                                      "--near-edge", "10"])
    assert result.exit_code == 0 and "  near       110101001002002, 3.0 m away (another community)" \
        in result.output.splitlines()
    # Two communities of two streets, from the library: a locator made from the frame
    # holds its polygons; one from the package reads them again.
    comm = community_frame([shapely.box(X0, Y0, X0 + 100, Y0 + 100), shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
                           codes=["110101001001", "110101002001"])
    two = gk.write_package(tmp_path / "two.gpkg", gk.unit_grid(comm), comm)
    for loc in (Locator(gpd.read_file(two, layer="cells")), Locator.from_package(two)):
        frame = pd.DataFrame({"x": X0 + np.array([98.0, 50]), "y": Y0 + np.array([50.0, 50])})
        near, _ = locate_frame(frame, frame["x"], frame["y"], None, loc, near_edge=2.5)
        assert _ids(near["gk_near_grid_id"]) == ["110101002001001", None]
        assert _ids(near["gk_near_across"]) == ["street", None]
        assert np.allclose(near["gk_near_m"].to_numpy(), [2, np.nan], equal_nan=True)


def test_locate_frame_refuses_arguments_it_would_have_misread(package):
    """A package's path for the locator was an AttributeError; a path for routes,
    kind='events', degrees='e8', classes for one row of three (with no routes) and
    a negative near_edge were taken without a word; rows for one row of three an
    IndexError. Each is named now."""
    loc = Locator.from_package(package)
    frame = pd.DataFrame({"x": [X0 + 50, X0 + 150, X0 + 250], "y": [Y0 + 50] * 3})
    x, y = frame["x"], frame["y"]
    cases = [(dict(locator=str(package)), r"^locator is a str, not a gridkit Locator: make one with "
                                          r"Locator\.from_package\(path\)$"),
             (dict(routes="routes.toml"), r"^routes is a str, not a RoutingTable: read one with "
                                          r"RoutingTable\.load\(path\)$"),
             (dict(kind="events"), r"^kind 'events': give 'component' or 'event'$"),
             (dict(degrees="e8"), r"^degrees 'e8': give one of decimal, e5, e6, e7, ddmm$"),
             (dict(classes=["01001"]), r"^classes has 1 values for the frame's 3 rows: give one per row$"),
             (dict(rows=[1]), r"^rows has 1 values for the frame's 3 rows: give one per row$"),
             (dict(near_edge=-5), r"^near_edge must be a number of metres, 0 or above, not -5$")]
    for given, said in cases:
        kw = {"locator": loc, **given}
        with pytest.raises(InputError, match=said):
            locate_frame(frame, x, y, "EPSG:4548", kw.pop("locator"), **kw)
    located, rejects = locate_frame(frame, x, y, "EPSG:4548", loc, rows=[10, 11, 12], near_edge=0)
    assert located["gk_grid_id"].tolist() == ["110101001001004", "110101001001005", "110101001001006"]
