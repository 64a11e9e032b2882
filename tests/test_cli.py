import json
import re
import shutil
import sqlite3
import warnings

import numpy as np
import pyogrio
import pyproj
import pytest
from click.testing import CliRunner

import gridkit as gk
from gridkit_cli.main import cli


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _params(command):
    """Every parameter of ``command`` and its subcommands."""
    yield from command.params
    for sub in getattr(command, "commands", {}).values():
        yield from _params(sub)


def test_grid_units_on_the_sample(samples, tmp_path):
    out, png = tmp_path / "dc.gpkg", tmp_path / "dc.png"
    result = _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "gcj02", "--code-field", "adcode",
                  "--provisional", "-o", out, "--preview", png)
    assert result.exit_code == 0, result.output
    assert re.search(r"^cells +4,278 \(square, target 10,000 m²\)$", result.stdout, re.M)
    assert re.search(r"^crs +EPSG:4548 \(input gcj02\)$", result.stdout, re.M)
    assert f"\nmap          {png}\noutput       {out}\n" in result.stdout  # where the --preview picture is
    # The time line: the whole command, and the gridding alone.
    assert re.search(r"^time +\d+\.\d\d s \(gridding \d+\.\d\d s\)$", result.stdout, re.M)
    assert "{" not in result.stdout  # the JSON is for --json
    assert {name for name, _ in pyogrio.list_layers(out)} == {"cells", "units", "gridkit_metadata", "layer_styles"}
    cells, units, meta = gk.read_package(out)
    assert len(cells) == 4278 and meta["crs"] == "EPSG:4548"
    assert json.loads(meta["parameters"])["cell_area"] == 10000.0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_cell_area_beyond_the_machines_memory_is_refused_before_cutting(dongcheng, tmp_path, monkeypatch):
    """Dongcheng's 8 communities at --cell-area 1 (a hectare typed as 1 m²) are 42
    million cells, about 50 GB: the old code cut them until memory ran out (with 16 GB
    allowed, GEOS's bad_alloc after 31 s). Now it is refused at once, with the fix,
    and nothing is written."""
    import gridkit.cells

    monkeypatch.setattr(gridkit.cells, "machine_memory", lambda: 24 * 10**9)
    units, out = tmp_path / "communities.gpkg", tmp_path / "dc.gpkg"
    dongcheng[["community_code", "geometry"]].to_file(units)
    result = _run("grid", "units", units, "--code-field", "community_code", "--provisional", "--cell-area", 1,
                  "-o", out)
    assert result.exit_code == 1 and not out.exists()
    assert result.output == (
        "Error: 42.0 km² in cells of 1 m² is about 42,025,754 cells, which would need about 50.4 GB of memory; this "
        "machine has 24.0 GB. The cell area is in m² (10000 is a hectare, the Beijing model's cell): raise "
        "--cell-area, or grid fewer boundaries at a time\n")


def test_baidu_metres_grid_as_their_place_and_web_mercator_is_not_cut_in(samples, tmp_path, caplog):
    """Dongcheng in Baidu's metres (bd09mc, a Shapefile without .prj) grids as the
    GCJ-02 sample does; without --crs, the error says what such numbers are. In Web
    Mercator (EPSG:3857), the old code cut 10,000 "m²" cells in it: 1.70 times too
    many, 5,900 m² each on the ground. Now it cuts in EPSG:4548 and says why."""
    import shapely

    from gridkit import coords

    dongcheng = gk.read_vector(samples / "dongcheng_gcj02.gpkg", crs="gcj02")
    baidu = dongcheng.set_geometry(shapely.transform(shapely.segmentize(dongcheng.geometry.values, 0.002),
                                                     lambda xy: np.column_stack(coords.wgs84_to_bd09mc(*xy.T))),
                                   crs=None)
    baidu.to_file(tmp_path / "baidu.shp")
    (tmp_path / "baidu.prj").unlink(missing_ok=True)
    args = ("--code-field", "adcode", "--provisional", "-o")
    result = _run("grid", "units", tmp_path / "baidu.shp", "--crs", "bd09mc", *args, tmp_path / "b.gpkg")
    assert result.exit_code == 0, result.output
    assert re.search(r"^cells +4,278 \(square", result.stdout, re.M)
    assert re.search(r"^crs +EPSG:4548 \(input bd09mc\)$", result.stdout, re.M)
    result = _run("grid", "units", tmp_path / "baidu.shp", *args, tmp_path / "c.gpkg")
    assert result.exit_code != 0 and not (tmp_path / "c.gpkg").exists()
    assert result.output.rstrip().endswith(
        "As Mercator metres they lie in China: Baidu's own (bd09mc, as Baidu Maps' pages and POI downloads give "
        "them) or Web Mercator (EPSG:3857)")
    dongcheng.to_crs(3857).to_file(tmp_path / "web.gpkg")
    result = _run("grid", "units", tmp_path / "web.gpkg", *args, tmp_path / "w.gpkg")
    assert result.exit_code == 0, result.output
    assert re.search(r"^cells +4,278 \(square", result.stdout, re.M)
    assert re.search(r"^crs +EPSG:4548 \(input EPSG:3857\)$", result.stdout, re.M)
    assert ("EPSG:3857 (WGS 84 / Pseudo-Mercator) stretches areas ×1.70 here: cells are cut in the metric CRS for "
            "the place instead") in caplog.text
    result = _run("grid", "units", tmp_path / "web.gpkg", "--metric-crs", "EPSG:3857", *args, tmp_path / "m.gpkg")
    assert result.exit_code == 0, result.output
    assert "cells will be about 59 % of their target area on the ground" in caplog.text
    # A --metric-crs in feet made cells of 10,000 ft² (929 m²), reported as m²: refused.
    for crs, unit in (("EPSG:2249", "US survey foot"), ("EPSG:4326", "degree")):
        result = _run("grid", "units", tmp_path / "web.gpkg", "--metric-crs", crs, *args, tmp_path / "f.gpkg")
        assert result.exit_code == 2 and not (tmp_path / "f.gpkg").exists()
        assert f"Invalid value for '--metric-crs': {crs} (" in result.output and (
            f"): its unit is the {unit}, not the metre") in result.output
    # One PROJ does not know (gcj02 is an offset of lon/lat) was a pyproj traceback.
    for command in (("grid", "units"), ("grid", "adopt")):
        result = _run(*command, tmp_path / "web.gpkg", "--metric-crs", "gcj02", "-o", tmp_path / "f.gpkg")
        assert result.exit_code == 2 and "Invalid value for '--metric-crs': 'gcj02': no CRS PROJ knows. Give a " \
                                         "projected CRS in metres" in result.output, result.output
    with pytest.raises(gk.CRSError, match="--metric-crs 'gcj02': no CRS PROJ knows"):
        gk.unit_hierarchy(dongcheng, code_field="adcode", provisional=True, metric_crs="gcj02")
    result = _run("export", tmp_path / "b.gpkg", "--crs", "bd09mc", "-o", tmp_path / "b.geojson")
    assert result.exit_code != 0 and not (tmp_path / "b.geojson").exists()
    assert "gridkit reads BD-09 Mercator (bd09mc, Baidu's metres) but does not write it" in result.output


def test_districts_without_codes_are_tiled_into_communities(shared, tmp_path):
    """Three of Shenzhen's districts, by name only: each holds 8,000 cells or more, so
    each becomes a provisional street tiled into provisional communities, instead of
    one community too large to number."""
    import geopandas as gpd

    districts = tmp_path / "three.geojson"
    gpd.read_file(shared / "shenzhen_futian" / "shenzhen_districts_wgs84.json").iloc[:3].to_file(districts)
    out, png = tmp_path / "sz.gpkg", tmp_path / "sz.png"
    result = _run("grid", "units", districts, "--name-field", "qh", "--provisional", "--parent-code", "990301",
                  "-o", out, "--preview", png)
    assert result.exit_code == 0, result.output
    assert ("3 input features → 41 communities (41 provisional; 3 features too large for one, tiled)"
            in result.output)
    cells, units, _ = gk.read_package(out)
    streets = units[units["level"] == "street"]
    assert streets[["code", "name"]].values.tolist() == [["990301900", "罗湖"], ["990301901", "盐田"],
                                                         ["990301902", "福田"]]
    assert cells.groupby("street_code").size().tolist() == [7985, 8708, 8061]
    assert cells.groupby("community_code").size().max() <= 999
    communities = units[units["level"] == "community"].rename(columns={"code": "community_code"})
    assert gk.check_partition(cells, communities).ok
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_where_picks_one_district_of_a_file(shared, tmp_path):
    """Dongcheng picked out of the Beijing/Zhoushan file grids as the shipped extract does."""
    out = tmp_path / "dc.gpkg"
    result = _run("grid", "units", shared / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg", "--crs", "gcj02",
                  "--code-field", "adcode", "--provisional", "--where", "adcode = '110101'", "-o", out)
    assert result.exit_code == 0, result.output
    assert "1 input feature → 8 communities" in result.output
    cells, _, meta = gk.read_package(out)
    assert len(cells) == 4278
    assert json.loads(meta["parameters"])["where"] == "adcode = '110101'"


def test_existing_output_needs_overwrite_and_is_kept(samples, tmp_path):
    out = tmp_path / "dc.gpkg"
    out.write_bytes(b"keep me")
    result = _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "gcj02",
                  "--code-field", "adcode", "--provisional", "-o", out)
    assert result.exit_code != 0 and "--overwrite" in result.output
    assert out.read_bytes() == b"keep me"


def test_bad_inputs_give_clear_errors(samples, tmp_path):
    r = _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--code-field", "nope", "-o", tmp_path / "a.gpkg")
    assert r.exit_code == 1 and "no code column 'nope'; columns are: adcode" in r.output
    r = _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--code-field", "adcode", "-o", tmp_path / "a.gpkg")
    assert r.exit_code == 1 and "county codes" in r.output and "--provisional" in r.output
    r = _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "wgs-85", "-o", tmp_path / "a.gpkg")
    assert r.exit_code == 2 and "unknown CRS" in r.output
    assert not (tmp_path / "a.gpkg").exists()


def test_map_command(samples, tmp_path):
    out = tmp_path / "c.gpkg"
    made = _run("grid", "units", samples / "cambridge_neighborhoods.gpkg", "--name-field", "NAME", "--provisional",
                "--parent-code", "990101", "-o", out)
    assert made.exit_code == 0, made.output
    assert re.search(r"^repairs +0 invalid geometries repaired; 8 unit overlaps resolved \(the largest 11\.7 m²\)$",
                     made.stdout, re.M)
    r = _run("map", out, "-o", tmp_path / "c.png")
    assert r.exit_code == 0 and (tmp_path / "c.png").stat().st_size > 10_000


def test_an_existing_output_is_named_after_the_options_and_before_any_work(samples, tmp_path, monkeypatch):
    """`grid units` names a wrong option before an existing output (fixing --overwrite
    first would only lead to the other error); `map` refuses an existing picture
    before reading the package, not after drawing it; so do the --preview of the
    layout commands and of `components import`, `grid rebalance`, `check
    --problems`, `locate`, `components convert` and `route starter` (exit status 2
    from every command). The old files are untouched."""
    import gridkit
    import gridkit.package

    out, png = tmp_path / "o.gpkg", tmp_path / "o.png"
    out.write_bytes(b"an earlier layout")
    png.write_bytes(b"an earlier map")
    monkeypatch.setattr(gridkit, "read_vector", lambda *a, **k: pytest.fail("read a file"))
    monkeypatch.setattr(gridkit.package, "read_package", lambda *a, **k: pytest.fail("read a package"))
    args = ("grid", "units", samples / "cambridge_neighborhoods.gpkg", "-o", out)
    wrong = _run(*args, "--parent-code", "990101")
    assert wrong.exit_code == 2 and "--parent-code gives provisional codes: add --provisional" in wrong.output
    both = _run(*args, "--hex", "--h3")
    assert both.exit_code == 2 and "not both" in both.output
    exists = _run(*args)
    assert exists.exit_code == 2 and "exists; pass --overwrite" in exists.output
    drawn = _run("map", out, "-o", png)
    assert drawn.exit_code == 2 and f"{png} exists; pass --overwrite" in drawn.output
    # The --preview picture of the commands that make layouts, and the outputs of
    # rebalance and check, are refused the same way, before any work.
    monkeypatch.setattr(gridkit, "read_package", lambda *a, **k: pytest.fail("read a package"))
    monkeypatch.setattr(gridkit.package, "check_package", lambda *a, **k: pytest.fail("checked a package"))
    blocks = samples / "cincinnati_blocks.gpkg"
    refused = {
        png: [_run("grid", "units", samples / "cambridge_neighborhoods.gpkg", "-o", tmp_path / "new.gpkg",
                   "--preview", png),
              _run("grid", "households", samples / "cincinnati_city.gpkg", "--households", blocks,
                   "--min-households", "100", "--max-households", "150", "-o", tmp_path / "new.gpkg",
                   "--preview", png),
              _run("components", "import", samples / "DPW_LitterBarrels.geojson", "--grid", out, "--preview", png)],
        out: [_run("grid", "rebalance", out, "--households", blocks, "-o", out),
              _run("check", out, "--problems", out),
              _run("locate", samples / "dongcheng_reports.csv", "--crs", "gcj02", "--grid", out, "-o", out),
              _run("components", "convert", samples / "legacy_inventory.csv", "--to", "2026", "-o", out),
              _run("route", "starter", "-o", out)]}
    for path, results in refused.items():
        for result in results:
            assert result.exit_code == 2 and f"{path} exists; pass --overwrite" in result.output, result.output
    assert out.read_bytes() == b"an earlier layout" and png.read_bytes() == b"an earlier map"
    assert not (tmp_path / "new.gpkg").exists()


def test_an_output_that_is_one_of_its_inputs_is_refused_even_with_overwrite(samples, tmp_path):
    """A run never writes over a file it reads, under any spelling (./, a link):
    `export city.gpkg -o city.gpkg --overwrite` left the cells alone, the package's
    units and metadata gone, and `locate … --grid city.gpkg -o city.gpkg` left the
    points. Every input is kept byte for byte. (`grid rebalance PACKAGE -o PACKAGE`
    replaces its package by design, keeping the ended grids.)"""
    boundaries, points, ledger = tmp_path / "b.gpkg", tmp_path / "r.csv", tmp_path / "ledger.csv"
    boundaries.write_bytes((samples / "cambridge_neighborhoods.gpkg").read_bytes())
    points.write_text("lon,lat\n-71.1,42.37\n")
    ledger.write_bytes((samples / "legacy_inventory.csv").read_bytes())
    package, link, rejected = tmp_path / "p.gpkg", tmp_path / "link.csv", tmp_path / "r.rejects.csv"
    link.symlink_to(points)
    rejected.write_text("lon,lat\n-71.1,42.37\n")
    units = ("grid", "units", boundaries, "--name-field", "NAME", "--provisional", "--parent-code", "990101")
    assert _run(*units, "-o", package).exit_code == 0
    kept = {path: path.read_bytes() for path in (boundaries, points, ledger, package, rejected)}
    said = "the output would replace the file it is read from; write to another file"
    refused = [
        (_run(*units, "-o", boundaries, "--overwrite"), 2, f"{boundaries} is BOUNDARIES: {said}"),
        (_run("grid", "households", boundaries, "--households", package, "--min-households", "1",
              "--max-households", "2", "-o", package, "--overwrite"), 2, f"{package} is --households: {said}"),
        (_run("locate", points, "--grid", package, "-o", package, "--overwrite"), 2, f"{package} is --grid: {said}"),
        (_run("locate", points, "--grid", package, "-o", link, "--overwrite"), 2, f"{link} is POINTS: {said}"),
        # fixed rejects located again: their own rejects file would replace them
        (_run("locate", rejected, "--grid", package, "-o", tmp_path / "r.gpkg"), 2, f"{rejected} is POINTS: {said}"),
        (_run("check", package, "--problems", f"{tmp_path}/./p.gpkg", "--overwrite"), 2,
         f"{package} is PACKAGE: {said}"),
        (_run("components", "convert", ledger, "--to", "2026", "-o", ledger, "--overwrite"), 2,
         f"{ledger} is INVENTORY: {said}"),
        (_run("export", package, "-o", package, "--overwrite"), 1, f"{package} is the package: {said}")]
    for result, status, message in refused:
        assert (result.exit_code, message in result.output) == (status, True), result.output
    assert {path: path.read_bytes() for path in kept} == kept
    assert {p.name for p in tmp_path.iterdir()} == {"b.gpkg", "r.csv", "ledger.csv", "p.gpkg", "link.csv",
                                                      "r.rejects.csv"}


def test_overwrite_replaces_a_geopackage_that_is_no_grid_package(samples, tmp_path):
    """--overwrite over a GeoPackage of other layers replaces it as asked: there is no
    catalogue or hand-added layer of a grid package to carry over (it was a traceback,
    'Layer gridkit_metadata could not be opened')."""
    out = tmp_path / "other.gpkg"
    out.write_bytes((samples / "futian_wgs84.gpkg").read_bytes())
    result = _run("grid", "units", samples / "cambridge_neighborhoods.gpkg", "--name-field", "NAME",
                  "--provisional", "--parent-code", "990101", "-o", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert {name for name, _ in pyogrio.list_layers(out)} == {"cells", "units", "gridkit_metadata", "layer_styles"}


def test_info_names_a_file_that_is_no_grid_package(samples, tmp_path):
    result = _run("info", samples / "cincinnati_blocks.gpkg")
    assert result.exit_code == 1
    assert (f"{samples / 'cincinnati_blocks.gpkg'}: not a gridkit grid package (missing layers ['cells', "
            "'gridkit_metadata', 'units']); it holds blocks (Polygon). Boundaries become one with `gridkit grid "
            f"units {samples / 'cincinnati_blocks.gpkg'} … -o PACKAGE.gpkg`") in " ".join(result.output.split())
    # points given where the package goes: how to locate or catalogue them, not to grid them
    result = _run("components", "import", samples / "TRAFFIC_Signals.geojson", "--class", "02014",
                  "--grid", samples / "TRAFFIC_Signals.geojson")
    assert result.exit_code == 1 and (
        "it holds TRAFFIC_Signals (Point). Points are located in a package's cells with `gridkit locate "
        f"{samples / 'TRAFFIC_Signals.geojson'} --grid PACKAGE.gpkg`") in " ".join(result.output.split())
    table = tmp_path / "cells.csv"  # GDAL types its WKT "Unknown"
    table.write_text("grid_id,WKT\n110101001001001,\"POLYGON ((0 0,1 0,1 1,0 0))\"\n")
    result = _run("info", table)
    assert result.exit_code == 1 and "it holds cells (WKT geometry). " in " ".join(result.output.split())
    # `gridkit export`'s .xlsx (a sheet of WKT, GDAL types it not at all) and .parquet, given
    # back: a package is made of cells with grid adopt (they were "a table", to locate as points)
    import pandas as pd

    pd.read_csv(table).to_excel(tmp_path / "cells.xlsx", sheet_name="cells", index=False)
    gk.read_vector(table, crs=4548).to_parquet(tmp_path / "cells.parquet")
    for name, said in [("cells.xlsx", "it holds cells (WKT geometry). Boundaries become one with"),
                       ("cells.parquet", "cells in a GeoParquet file become one with `gridkit grid adopt")]:
        result = _run("info", tmp_path / name)
        assert result.exit_code == 1 and said in " ".join(result.output.split()), result.output
    text = tmp_path / "notes.gpkg"
    text.write_text("not a GeoPackage")
    result = _run("info", text)
    assert result.exit_code == 1 and f"{text}: not a GeoPackage GDAL can open" in result.output
    # the catalogue's commands say the same (they were a traceback, and "no component" or "no components yet")
    for args in [("stats", "--grid"), ("show", "99010101013000001", "--grid"),
                 ("import", samples / "TRAFFIC_Signals.geojson", "--class", "02014", "--grid")]:
        for path, said in [(text, "not a GeoPackage GDAL can open"),
                           (samples / "cincinnati_blocks.gpkg", "not a gridkit grid package (missing layers")]:
            result = _run("components", *args, path)
            assert result.exit_code == 1 and f"Error: {path}: {said}" in result.output, (args, result.output)
    # and so does map where it reads the catalogue (--html, --components): it was a traceback
    for args in [("--html", "-o", tmp_path / "m.html"), ("--components", "-o", tmp_path / "m.png")]:
        for path, said in [(text, "not a GeoPackage GDAL can open"),
                           (samples / "cincinnati_blocks.gpkg", "not a gridkit grid package (missing layers")]:
            result = _run("map", path, *args)
            assert result.exit_code == 1 and f"Error: {path}: {said}" in result.output, (args, result.output)
    # A copy `gridkit export` wrote: cells and units, no metadata. Named as such, and
    # the way to a package that the message gives works.
    package, copy = tmp_path / "c.gpkg", tmp_path / "copy.gpkg"
    assert _run("grid", "units", samples / "cambridge_neighborhoods.gpkg", "--name-field", "NAME", "--provisional",
                "--parent-code", "990101", "-o", package).exit_code == 0
    assert _run("export", package, "--layer", "cells", "--layer", "units", "-o", copy).exit_code == 0
    result = _run("check", copy)
    assert result.exit_code == 1 and (
        f"{copy}: not a gridkit grid package (missing layers ['gridkit_metadata']): a GeoPackage `gridkit export` "
        "writes is a copy for other systems. Use the package it was exported from, or make a package of its cells: "
        f"gridkit grid adopt {copy} --layer cells -o PACKAGE.gpkg") in result.output
    adopted = _run("grid", "adopt", copy, "--layer", "cells", "-o", tmp_path / "again.gpkg")
    assert adopted.exit_code == 0 and "check        ok" in adopted.output, adopted.output
    assert _run("check", tmp_path / "again.gpkg").exit_code == 0


def test_a_number_option_refuses_nan_and_takes_inf_only_where_it_means_no_limit(samples, tmp_path):
    """click's FloatRange lets "nan" through every bound: --cell-area nan was a
    ValueError traceback, --tolerance nan went unremarked. Refused now, by option;
    inf only where it means no limit (a tolerance, a gap)."""
    grid = samples / "dongcheng_gcj02.gpkg"
    for args, said in [(("grid", "units", grid, "--cell-area", "nan"), "'--cell-area': 'nan' is not a finite number"),
                       (("grid", "units", grid, "--cell-area", "inf"), "'--cell-area': 'inf' is not a finite number"),
                       (("grid", "units", grid, "--cell-area", "big"), "'--cell-area': 'big' is not a valid number."),
                       (("grid", "households", grid, "--households", grid, "--target", "nan"),
                        "'--target': 'nan' is not a finite number"),
                       (("locate", samples / "dongcheng_reports.csv", "--grid", grid, "--tolerance", "nan"),
                        "'--tolerance': 'nan' is not a finite number")]:
        result = _run(*args, "-o", tmp_path / "out.gpkg")
        assert result.exit_code == 2 and said in result.output, (args, result.output)
    assert not (tmp_path / "out.gpkg").exists()
    package = tmp_path / "dc.gpkg"
    assert _run("grid", "units", grid, "--crs", "gcj02", "--code-field", "adcode", "--provisional", "--parent-code",
                "110101", "--cell-area", "1e6", "-o", package).exit_code == 0
    located = _run("locate", samples / "dongcheng_reports.csv", "--grid", package, "--tolerance", "inf", "-o",
                   tmp_path / "located.csv")
    assert located.exit_code == 0 and "nearest at any distance, 0 outside the layout" in located.output, located.output
    # --json is strict JSON, no limit as null (Python's json wrote Infinity, which
    # JSON.parse refuses); --near-edge inf measures with no bucket arithmetic on inf.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        at = _run("locate", "--at", "116.4,39.9", "--grid", package, "--tolerance", "inf", "--near-edge", "inf",
                  "--json")
    found = json.loads(at.output, parse_constant=lambda name: pytest.fail(f"{name} in --json"))
    assert at.exit_code == 0 and found["near_grid_id"] is not None and found["near_m"] > 0, at.output
    from gridkit_cli.options import json_text  # every --json summary (components import's tolerance_m)

    assert json_text({"tolerance_m": float("inf"), "m": [np.float64("nan"), 1.5], "p": tmp_path}) == (
        f'{{"tolerance_m": null, "m": [null, 1.5], "p": "{tmp_path}"}}')


def test_a_date_option_refuses_what_is_no_date_and_writes_either_form_as_the_package_does(samples, tmp_path):
    """--start-date soon was written as the start date of every cell, and a
    components --date as every change date; now each date option refuses it before
    any work, and takes YYYY-MM-DD or YYYYMMDD alike."""
    grid = samples / "dongcheng_gcj02.gpkg"
    units = ("grid", "units", grid, "--crs", "gcj02", "--code-field", "adcode", "--provisional", "--parent-code",
             "110101", "--cell-area", "1e6")
    package = tmp_path / "dc.gpkg"
    for args in [(*units, "--start-date", "soon", "-o", package), (*units, "--start-date", "20260230", "-o", package),
                 ("grid", "adopt", grid, "--start-date", "soon", "-o", package),
                 ("grid", "recut", grid, "--date", "soon", "-o", package),
                 ("components", "import", samples / "dongcheng_reports.csv", "--grid", grid, "--date", "soon"),
                 ("components", "reassign", grid, "--date", "soon"),
                 ("components", "departments", grid, "--routes", grid, "--date", "soon")]:
        result = _run(*args)
        option = args[-4] if "-o" in args else args[-2]
        assert result.exit_code == 2 and (
            f"Invalid value for '{option}': '{args[args.index(option) + 1]}' is not a date: give YYYY-MM-DD or "
            "YYYYMMDD") in result.output, (args, result.output)
    assert not package.exists()
    assert _run(*units, "--start-date", "20260227", "-o", package).exit_code == 0
    assert set(gk.read_package(package)[0]["start_date"]) == {"2026-02-27"}
    with pytest.raises(gk.InputError, match="start_date 'soon' is not a date: give YYYY-MM-DD or YYYYMMDD"):
        gk.unit_grid(gk.read_package(package)[0], start_date="soon")  # refused before any cell is made


def test_an_unknown_text_encoding_is_refused_by_option_before_any_work(samples, tmp_path):
    """An encoding Python does not know was a LookupError traceback from wherever the
    first text was read (locate, components import) or written (export)."""
    grid, reports = samples / "dongcheng_gcj02.gpkg", samples / "dongcheng_reports.csv"
    for args in [("locate", reports, "--grid", grid, "-o", tmp_path / "out.csv"),
                 ("components", "import", reports, "--grid", grid),
                 ("components", "convert", reports, "-o", tmp_path / "out.csv"),
                 ("grid", "units", grid, "-o", tmp_path / "out.gpkg"),
                 ("grid", "households", grid, "--households", reports, "--target", "120", "-o", tmp_path / "o.gpkg"),
                 ("export", grid, "-o", tmp_path / "out.shp")]:
        option = "--households-encoding" if "households" in args else "--encoding"
        result = _run(*args, option, "klingon")
        assert result.exit_code == 2 and (f"Invalid value for '{option}': unknown text encoding 'klingon': give one "
                                          "such as UTF-8, GB18030") in result.output, (args, result.output)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_path_is_refused_by_every_path_option_and_argument(samples, tmp_path, monkeypatch):
    """'' was read as the current folder: `locate -o ''`, `patrol -o ''` and `route starter
    -o ''` were tracebacks, `grid adopt ''` read the folder as Parquet parts; and
    `--barriers ''`, `grid adopt --units ''` and `--rejects-dir ''` were read as not given."""
    import click

    from gridkit_cli.options import FilePath

    paths = [param for param in _params(cli) if isinstance(param.type, click.Path)]
    assert len(paths) > 50 and all(isinstance(param.type, FilePath) for param in paths)
    monkeypatch.chdir(tmp_path)
    grid, reports = samples / "dongcheng_gcj02.gpkg", samples / "dongcheng_reports.csv"
    for args, name, what in [
            (("locate", reports, "--crs", "gcj02", "--grid", grid, "-o", ""), "'-o' / '--output'", "a file's"),
            (("patrol", samples / "cambridge_patrol.gpx", "--grid", grid, "-o", ""), "'-o' / '--output'", "a file's"),
            (("route", "starter", "-o", ""), "'-o' / '--output'", "a file's"),
            (("grid", "adopt", "", "-o", "a.gpkg"), "'GRIDS'", "a file's"),
            (("grid", "adopt", grid, "--units", " ", "-o", "a.gpkg"), "'--units'", "a file's"),
            (("grid", "units", grid, "--crs", "gcj02", "--barriers", "", "-o", "u.gpkg"), "'--barriers'", "a file's"),
            (("components", "import", reports, "--grid", grid, "--rejects-dir", ""), "'--rejects-dir'", "a folder's")]:
        result = _run(*args)
        assert result.exit_code == 2 and f"Invalid value for {name}: '" in result.output \
            and f"' is no path: give {what} name" in result.output, (args, result.output)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_text_option_is_refused_not_read_as_not_given(samples, tmp_path, monkeypatch):
    """--crs '', --x-field ' ', --where '', --grid-layer '' (a shell variable left
    unset) were read as not given: the CRS, columns, rows or layer were guessed
    without a word. rebalance's --households-where "" reads every feature."""
    import click

    from gridkit_cli.options import BLANK_OK, Text

    texts = [param for param in _params(cli) if isinstance(param, click.Option) and not param.is_flag
             and isinstance(param.type, click.types.StringParamType)]
    assert len(texts) > 100 and all(isinstance(param.type, Text) or param.type is BLANK_OK for param in texts)
    assert [param.opts[0] for param in texts if param.type is BLANK_OK] == ["--households-where"]
    monkeypatch.chdir(tmp_path)
    grid, reports = samples / "dongcheng_gcj02.gpkg", samples / "dongcheng_reports.csv"
    for args, option in [(("locate", reports, "--crs", "", "--grid", grid, "-o", "o.csv"), "--crs"),
                         (("locate", reports, "--x-field", " ", "--grid", grid, "-o", "o.csv"), "--x-field"),
                         (("locate", reports, "--grid", grid, "--grid-layer", "", "-o", "o.csv"), "--grid-layer"),
                         (("export", grid, "--where", "", "-o", "o.geojson"), "--where"),
                         (("grid", "units", grid, "--parent-code", "", "-o", "u.gpkg"), "--parent-code"),
                         (("components", "convert", samples / "legacy_inventory.csv", "--id-field", "", "-o",
                           "c.csv"), "--id-field")]:
        result = _run(*args)
        assert result.exit_code == 2 and (f"Invalid value for '{option}': '" in result.output and
                                          f"' is empty: give a value, or leave {option} out") in result.output, \
            (args, result.output)
    assert list(tmp_path.iterdir()) == []
    # A text argument taken once too: `components show ''` said "no component  in …".
    arguments = [param for param in _params(cli) if isinstance(param, click.Argument) and param.nargs == 1
                 and isinstance(param.type, click.types.StringParamType)]
    assert [param.name for param in arguments] == ["component_id"] and isinstance(arguments[0].type, Text)
    result = _run("components", "show", " ", "--grid", grid)
    assert result.exit_code == 2 and "Invalid value for 'COMPONENT_ID': ' ' is empty: give a value\n" in result.output


def test_an_empty_input_file_is_named_as_empty(samples, dongcheng, tmp_path):
    """A file of 0 bytes (a copy or download cut short): a CSV was an IndexError
    traceback; a workbook given to components import an InputError traceback; and
    GDAL's formats were "not recognized as being in a supported file format"."""
    package = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(dongcheng), dongcheng)
    empty = {name: tmp_path / f"e.{name}" for name in ("csv", "gpkg", "shp", "geojson", "xlsx")}
    for path in empty.values():
        path.write_bytes(b"")
    said = "the file is empty (0 bytes); copy or export it again"
    for args, message in [
            (("locate", empty["csv"], "--grid", package, "-o", tmp_path / "o.csv"), "e.csv: is empty (no header line"),
            (("components", "import", empty["csv"], "--grid", package), "e.csv: is empty (no header line, no rows)"),
            (("grid", "units", empty["csv"], "-o", tmp_path / "u.gpkg"), "e.csv: is empty (no header line, no rows)"),
            (("grid", "units", empty["gpkg"], "-o", tmp_path / "u.gpkg"), f"e.gpkg: {said}"),
            (("grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "gcj02", "--barriers", empty["geojson"],
              "-o", tmp_path / "u.gpkg"), f"e.geojson: {said}"),
            (("locate", samples / "dongcheng_reports.csv", "--crs", "gcj02", "--grid", empty["shp"], "-o",
              tmp_path / "o.csv"), f"e.shp: {said}"),
            (("info", empty["gpkg"]), f"e.gpkg: {said}"),
            (("components", "import", empty["xlsx"], "--grid", package), "e.xlsx: the file is empty (0 bytes), "
                                                                         "not a workbook")]:
        result = _run(*args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (args, result.output)
        assert f"Error: {tmp_path / 'e'}" in result.output and message in result.output, (args, result.output)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["e.csv", "e.geojson", "e.gpkg", "e.shp", "e.xlsx",
                                                                "grid.gpkg", "grid.gpkg.locator"]


def test_route_check_of_a_geopackage_that_is_no_package_says_so(samples, tmp_path):
    result = _run("route", "check", samples / "cambridge_routing.toml", "--grid", samples / "cincinnati_blocks.gpkg")
    assert result.exit_code == 1 and "cincinnati_blocks.gpkg: not a gridkit grid package (missing layers ['cells', " \
                                     "'gridkit_metadata', 'units']); it holds blocks (Polygon)" in result.output, \
        result.output


def test_help_teaches_with_examples():
    r = _run("grid", "units", "--help")
    assert "Examples:" in r.output and "--crs gcj02" in r.output


def test_grid_households_on_cincinnati(shared, tmp_path):
    import geopandas as gpd

    blocks_path = shared / "cincinnati_households" / "cincinnati_blocks.gpkg"
    blocks = gk.read_vector(blocks_path, layer="blocks")
    city = tmp_path / "city.gpkg"
    gpd.GeoDataFrame({"name": ["Cincinnati"]}, geometry=[blocks.union_all()], crs=blocks.crs).to_file(city)
    out, png = tmp_path / "cin.gpkg", tmp_path / "cin.png"
    result = _run("grid", "households", city, "--provisional", "--parent-code", "990201",
                  "--households", blocks_path, "--households-layer", "blocks", "--count-field", "HOUSEHOLDS",
                  "--min-households", 300, "--max-households", 500, "-o", out, "--preview", png)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == ["grids        41 in 1 community (band 300–500, blocks)", "in band      40 (97.6 %)",
                         "households   16,766 in grids; per grid min 301  max 745  CV 0.189"]
    assert "     1 × indivisible: above the band: one indivisible feature holds more than the upper bound" in lines
    assert re.search(r"^time +\d+\.\d\d s \(dividing \d+\.\d\d s\)$", result.stdout, re.M)
    assert f"\nmap          {png}\noutput       {out}\n" in result.stdout
    assert "hint         1 flagged grid of whole blocks: --split-polygons lets gridkit cut blocks" in result.output
    assert "invariants   ok: the grids tile every community (no gap, no overlap)\n" in result.output
    assert "barriers     none given (--barriers: streets, rivers or rail for the grids to follow)" in result.output
    grids, units, meta = gk.read_package(out)
    assert grids["households"].sum() == 16_766
    info = _run("info", out)
    assert "16,766 households, 40 in band 300–500 (97.6 %), 1 flagged (1 indivisible)" in info.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    bad = _run("grid", "households", city, "--households", blocks_path, "-o", tmp_path / "x.gpkg")
    assert bad.exit_code == 2 and "--min-households and --max-households, or --target" in bad.output


def test_demo_grids_catalogues_and_locates(samples, tmp_path, monkeypatch):
    result = _run("demo", "--out", tmp_path, "--samples", samples)
    assert result.exit_code == 0, result.output
    assert "TRAFFIC_Signals: 785 rows → 760 imported (22 to the nearest cell), 25 rejected" in result.output
    assert "DPW_LitterBarrels: 990 rows → 990 imported" in result.output
    assert "→ " + str(tmp_path / "TRAFFIC_Signals.rejects.csv") + "; departments coded 760 (" in result.output
    assert ("check      1,750 of 1,750 components break the standard's field table (SZDYWGBSM provisional "
            "1,750)") in result.output
    counts = pyogrio.read_info(tmp_path / "cambridge.gpkg", layer="components")["features"]
    assert counts == 1750
    assert (f"patrol     3 patrols (1,039 fixes, 13.6 km) → 141 of 1,717 cells of their communities patrolled → "
            f"{tmp_path / 'cambridge_patrol.gpkg'}") in result.output
    assert (f"counts     300 case reports over Dongcheng → 293 in 277 of 4,278 cells (most 3, in 110101900605211), "
            f"7 outside → {tmp_path / 'dongcheng_reports.gpkg'}") in result.output
    assert pyogrio.read_info(tmp_path / "dongcheng_reports.gpkg", layer="counts")["features"] == 4278
    for png in ("dongcheng.png", "cambridge.png", "cambridge_components.png", "cincinnati.png",
                "cincinnati_2027.png", "cambridge_patrol.png", "dongcheng_reports.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert "households 134 grids of 100–150 households (100 % in band" in result.output
    assert f"export     4,278 cells → {tmp_path / 'dongcheng_amap.geojson'} (GCJ-02, labelled EPSG:4326" in result.output
    assert pyogrio.read_info(tmp_path / "dongcheng_amap.geojson")["features"] == 4278
    assert "micro-grids of 20–50 (100 % in band), invariants ok" in result.output
    assert ("rebalance  +400 households in one block put 1 grid out of the band: 5 ended, 8 new, 129 kept with "
            "their IDs; 137 of 137 in the band, invariants ok") in result.output
    assert pyogrio.read_info(tmp_path / "cincinnati_2027.gpkg", layer="ended_grids")["features"] == 5
    # One home to its grid and micro-grid; the command the line quotes says the same.
    home = re.search(r"^locate     a home at .* → grid (\d{15}), micro-grid (\d{17}) \(gridkit (locate --at \S+) "
                     r"--grid (\S+)\)$", result.output, re.M)
    assert home and home[2].startswith(home[1])
    again = _run(*home[3].split(), "--grid", home[4])
    assert again.exit_code == 0 and f"→ cell {home[1]} (inside)\n  micro-grid {home[2]}\n" in again.output
    for name, highest, grids in (("cincinnati", 134, 134), ("cincinnati_2027", 142, 137)):  # the IDs issued
        meta = gk.read_package(tmp_path / f"{name}.gpkg")[2]
        assert json.loads(meta["highest_issued"])["990201900600"] == highest
        assert json.loads(meta["summary"])["grids"] == grids  # on record, as `gridkit info --json` shows
    layers = dict(pyogrio.list_layers(tmp_path / "cincinnati.gpkg"))
    assert {"cells", "micro_grids"} <= set(layers)
    assert pyogrio.read_info(tmp_path / "cincinnati.gpkg", layer="cells")["features"] == 134
    # `gridkit map` draws a household package as --preview did: grids by colour, the
    # band in the title, the micro-grids; the HTML map has them as a layer.
    import gridkit.preview

    drawn = []
    real = gridkit.preview.plot_layout
    monkeypatch.setattr(gridkit.preview, "plot_layout", lambda *a, **kw: drawn.append(kw) or real(*a, **kw))
    mapped = _run("map", tmp_path / "cincinnati.gpkg", "-o", tmp_path / "map.png")
    assert mapped.exit_code == 0 and (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    assert drawn[0]["title"] == "134 grids · 100 % in 100–150 households · Polsby–Popper 0.69"
    assert drawn[0]["colour_by"] == "grid_id" and len(drawn[0]["micro"]) == 476
    html = _run("map", tmp_path / "cincinnati.gpkg", "--html", "-o", tmp_path / "map.html")
    assert html.exit_code == 0 and "cells 134, micro_grids 476, units 2" in html.output
    assert _run("map", tmp_path / "dongcheng.gpkg", "-o", tmp_path / "unit.png").exit_code == 0
    assert set(drawn[1]) == {"labels", "overwrite", "micro", "components", "title"}
    assert drawn[1]["micro"] is drawn[1]["components"] is drawn[1]["title"] is None  # by community, usual title
    # --where draws a part: its cells, the units they lie in, their micro-grids and components.
    cells, units, _ = gk.read_package(tmp_path / "dongcheng.gpkg", where="community_code = '110101900601'")
    assert len(cells) == 780 and units["code"].tolist() == ["110101", "110101900", "110101900601"]
    part = _run("map", tmp_path / "dongcheng.gpkg", "--where", "community_code = '110101900601'", "-o",
                tmp_path / "c601.png")
    assert part.exit_code == 0 and (tmp_path / "c601.png").read_bytes()[:4] == b"\x89PNG"
    part = _run("map", tmp_path / "cincinnati.gpkg", "--html", "--where", "grid_id = '990201900600001'", "-o",
                tmp_path / "g001.html")
    assert part.exit_code == 0 and "cells 1, micro_grids 4, units 2" in part.output
    part = _run("map", tmp_path / "cambridge.gpkg", "--html", "--where", "community_code = '990101900603'", "-o",
                tmp_path / "c603.html")
    assert part.exit_code == 0 and "cells 423, units 2, components 226" in part.output
    # --class draws one class's components (--components all of them), within --where
    part = _run("map", tmp_path / "cambridge.gpkg", "--class", "02014", "--where", "community_code = '990101900612'",
                "-o", tmp_path / "signals.png")
    assert part.exit_code == 0 and (tmp_path / "signals.png").read_bytes()[:4] == b"\x89PNG"
    signals = drawn[-1]["components"]
    assert len(signals) == 129 and set(signals["class_code"]) == {"02014"}
    assert signals["SZDYWGBSM"].str.startswith("990101900612").all()
    assert drawn[-1]["title"] == "129 components of class 02014 in 268 cells"
    assert _run("map", tmp_path / "cambridge.gpkg", "--components", "-o", tmp_path / "all.png").exit_code == 0
    assert len(drawn[-1]["components"]) == 1750 and drawn[-1]["title"] == "1,750 components in 2,550 cells"
    bins = _run("map", tmp_path / "cambridge.gpkg", "--html", "--class", "03005", "-o", tmp_path / "bins.html")
    assert bins.exit_code == 0 and "cells 2,550, units 14, components 990" in bins.output
    lacking = _run("map", tmp_path / "cambridge.gpkg", "--class", "01", "-o", tmp_path / "big.png")
    assert lacking.exit_code == 0 and len(drawn[-1]["components"]) == 0
    assert "holds no component of big class 01 (of its 1,750): `gridkit components stats" in lacking.stderr
    for package, args, code, error in [("dongcheng", ["--components"], 1, "has no components yet"),
                                       ("cambridge", ["--class", "0201"], 2, "'0201' is no class or big class")]:
        refused = _run("map", tmp_path / f"{package}.gpkg", *args, "-o", tmp_path / "refused.png")
        assert refused.exit_code == code and error in refused.output and not (tmp_path / "refused.png").exists()
    none = _run("map", tmp_path / "dongcheng.gpkg", "--where", "community_code = '1'", "-o", tmp_path / "none.png")
    assert none.exit_code == 1 and "no feature in layer cells matches --where \"community_code = '1'\"" in none.output
    assert not (tmp_path / "none.png").exists()
    assert "class 01013 at 990101900612098 (East Cambridge) → 消防救援机构" in result.output
    assert "class 01023 at 990101900612098 (East Cambridge) → 990101900街道办事处 [territorial authority of *]" in result.output
    assert (tmp_path / "routing.toml").exists()
    # `gridkit info` on the packages the demo wrote: unit grids with components.
    info = _run("info", tmp_path / "cambridge.gpkg")
    assert info.exit_code == 0, info.output
    lines = info.output.splitlines()
    assert lines[0] == "cambridge.gpkg  unit grids (square cells of ~10,000 m²)"
    for line in ("parameters   barriers data/samples/cambridge_centerlines.gpkg; name_field NAME; parent_code 990101; "
                 "provisional True".replace("data/samples", str(samples)),
                 "crs          EPSG:32619 (WGS 84 / UTM zone 19N)",
                 "units        1 county, 1 street, 13 communities",
                 "components   1,750: 03005 垃圾箱 990, 02014 交通信号灯 760; assigned inside 1,728, nearest 22",
                 "layers       cells 2,550, units 15, components 1,750, gridkit_metadata 8, layer_styles 3"):
        assert line in lines
    assert any(line.startswith("cells        2,550 cells, 18.46 km²") for line in lines)
    assert not any("not among the units" in line for line in lines)
    edited = tmp_path / "edited.gpkg"
    shutil.copy(tmp_path / "cambridge.gpkg", edited)
    with sqlite3.connect(edited) as db:  # North Cambridge's row deleted in QGIS; its 317 cells kept
        db.execute("DELETE FROM units WHERE code = '990101900600'")
    assert "max 15,888 m²); 317 name a community not among the units (gridkit check names them)\n" in \
        _run("info", edited).output
    described = json.loads(_run("info", tmp_path / "dongcheng.gpkg", "--json").output)
    assert (described["layout"], described["cells"]["count"], described["units"]) == (
        "unit grids", 4278, {"county": 1, "street": 1, "community": 8})
    assert "barriers" not in described["parameters"] or described["parameters"]["barriers"] is None
    west, south, east, north = described["extent_lonlat"]  # Dongcheng, in degrees
    assert 116.3 < west < east < 116.5 and 39.8 < south < north < 40.0


def test_demo_finds_the_checkouts_samples_from_any_folder(samples, tmp_path, monkeypatch):
    from gridkit_cli.demo import _samples

    monkeypatch.chdir(tmp_path)  # no data/samples here: the checkout gridkit is installed from has them
    assert _samples(None).resolve() == samples.resolve()
    (tmp_path / "data" / "samples").mkdir(parents=True)
    (tmp_path / "data" / "samples" / "dongcheng_gcj02.gpkg").touch()
    assert _samples(None) == tmp_path.joinpath("data", "samples").relative_to(tmp_path)  # the working folder's first
    refused = _run("demo", "--samples", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert refused.exit_code == 2 and f"no samples in {tmp_path / 'nowhere'}: they come with a gridkit checkout" \
        in refused.output
    assert not (tmp_path / "out").exists()


def test_grid_households_from_building_floors(tmp_path):
    import geopandas as gpd
    import numpy as np
    import shapely

    x0, y0 = 500_000.0, 4_400_000.0
    comm = tmp_path / "comm.gpkg"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(x0, y0, x0 + 1000, y0 + 1000)], crs=4548).to_file(comm)
    xs, ys = np.meshgrid(x0 + 50 + 125 * np.arange(8), y0 + 50 + 200 * np.arange(5))
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 20, ys.ravel() + 20)  # 40 footprints of 400 m²
    homes = tmp_path / "buildings.gpkg"
    storeys = np.full(40, 3.0)
    storeys[7] = np.nan  # not given, as building:levels often is in OpenStreetMap
    gpd.GeoDataFrame({"storeys": storeys}, geometry=boxes, crs=4548).to_file(homes)
    out = tmp_path / "b.gpkg"
    args = ("grid", "households", comm, "--provisional", "--parent-code", "110101", "--households", homes,
            "--min-households", 100, "--max-households", 150, "-o", out)
    empty = _run(*args, "--floors-field", "storeys", "--area-per-household", 90)
    assert empty.exit_code == 1 and "row 8 has no floors in 'storeys': give a default" in empty.output
    assert "--default-floors" in empty.output and not out.exists()
    result = _run(*args, "--floors-field", "storeys", "--area-per-household", 90, "--default-floors", 3, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # one JSON object: progress and warnings go to standard error
    assert (summary["households"], summary["grids"], summary["in_band_pct"]) == (520, 4, 100.0)  # 40 × 13
    meta = gk.read_package(out)[2]
    assert json.loads(meta["parameters"])["area_per_household"] == 90.0
    assert json.loads(meta["parameters"])["default_floors"] == 3.0
    lone = _run(*args[:-1], tmp_path / "c.gpkg", "--floors-field", "storeys")
    assert lone.exit_code == 2 and "--floors-field and --area-per-household go together" in lone.output
    assert not (tmp_path / "c.gpkg").exists()


def test_grid_households_from_an_openstreetmap_style_building_layer(tmp_path, caplog):
    """An OpenStreetMap building layer holds buildings mapped as nodes (points) among
    the footprints, and storeys mostly not given. The points were "not polygons"
    with no way out; 14 empty floors listed only their first ten rows, each "blank",
    as "not numbers"; a warning said "counted as 1 floors". A building with a count
    far above the band (60 floors, a typo for 6) made an indivisible grid whose detail
    said "one feature holds 267 households", not which: now its row, in the grid, its
    micro-grid and a rebalanced grid alike."""
    import geopandas as gpd
    import numpy as np
    import shapely

    x0, y0 = 500_000.0, 4_400_000.0
    comm = tmp_path / "comm.gpkg"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(x0, y0, x0 + 1000, y0 + 1000)], crs=4548).to_file(comm)
    xs, ys = np.meshgrid(x0 + 50 + 125 * np.arange(8), y0 + 50 + 200 * np.arange(5))
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 20, ys.ravel() + 20)  # 40 footprints of 400 m²
    storeys = np.full(40, 3.0)  # 400 × 3 / 90 → 13 households each
    storeys[7] = 60  # 267 households
    storeys[20:34] = np.nan
    nodes = shapely.points([x0 + 900, x0 + 910], [y0 + 990, y0 + 990])
    homes = tmp_path / "buildings.gpkg"
    gpd.GeoDataFrame({"levels": [*storeys, 2, 2]}, geometry=[*boxes, *nodes], crs=4548).to_file(homes)
    out = tmp_path / "b.gpkg"
    args = ("grid", "households", comm, "--provisional", "--parent-code", "110101", "--households", homes,
            "--floors-field", "levels", "--area-per-household", 90, "--min-households", 100,
            "--max-households", 150, "--micro", "20,50", "-o", out)
    nodes_in = _run(*args)
    assert nodes_in.exit_code == 1 and not out.exists()
    assert ("buildings.gpkg: rows 41, 42 are points, not building footprints (rows count from 1): the floor-area "
            "rule measures each footprint. Leave them out (--households-where \"ST_GeometryType(geom) LIKE "
            "'%POLYGON'\") or draw their footprints.") in nodes_in.output
    keep = ("--households-where", "ST_GeometryType(geom) LIKE '%POLYGON'")
    empty = _run(*args, *keep)
    assert empty.exit_code == 1 and not out.exists()
    assert ("buildings.gpkg: 14 rows have no floors in 'levels' (the first ten: 21, 22, 23, 24, 25, 26, 27, 28, 29, "
            "30): give a default for the empty ones (default_floors, --default-floors 1), or fill them in.") \
        in empty.output
    made = _run(*args, *keep, "--default-floors", 1)
    assert made.exit_code == 0, made.output
    assert caplog.messages[-1].endswith("buildings.gpkg: 14 buildings have no floors in 'levels'; each counted as "
                                        "1 floor")
    grids = gpd.read_file(out, layer="cells")
    assert grids["households"].sum() == 39 * 13 - 14 * 9 + 267  # 1 floor: 400 / 90 → 4
    detail = "one feature, row 8 of buildings.gpkg, holds 267 households; check its count, or accept it"
    assert grids.loc[grids["flag"] == "indivisible", "flag_detail"].tolist() == [detail]
    micro = gpd.read_file(out, layer="micro_grids")
    assert micro.loc[micro["flag"] == "indivisible", "flag_detail"].tolist() == [detail]
    # The package's floor rule and filter, empty floors counted as 2 (400 × 2 / 90 → 9): --default-floors on
    # its own was "goes with --floors-field".
    again = _run("grid", "rebalance", out, "--households", homes, "--default-floors", 2, "-o", tmp_path / "2.gpkg")
    assert again.exit_code == 0, again.output
    grids = gpd.read_file(tmp_path / "2.gpkg", layer="cells")
    assert grids["households"].sum() == 648 + 14 * 5
    assert grids.loc[grids["flag"] == "indivisible", "flag_detail"].tolist() == [detail]
    gpd.GeoDataFrame({"n": [13] * 40}, geometry=boxes, crs=4548).to_file(tmp_path / "counted.gpkg")
    counted = _run(*args[:7], tmp_path / "counted.gpkg", "--count-field", "n", "--min-households", 100,
                   "--max-households", 150, "-o", tmp_path / "n.gpkg")
    assert counted.exit_code == 0, counted.output
    alone = _run(*args[:7], tmp_path / "counted.gpkg", "--default-floors", 2,  # with neither field: one each
                 "--min-households", 100, "--max-households", 150, "-o", tmp_path / "m.gpkg")
    assert alone.exit_code == 2 and "Error: --default-floors goes with --floors-field\n" in alone.output
    refused = _run("grid", "rebalance", tmp_path / "n.gpkg", "--households", tmp_path / "counted.gpkg",
                   "--default-floors", 2, "-o", tmp_path / "3.gpkg")
    assert refused.exit_code == 2 and ("--default-floors goes with --floors-field: the package's households were "
                                       "counted --count-field n, not by the floor-area rule") in refused.output


def test_a_share_in_a_title_is_never_rounded_up_to_100():
    """Four grids out of 1,440 (99.72 %) showed as "100 % in 200–300" in a preview title."""
    from gridkit_cli.options import percent

    assert [percent(v) for v in (100.0, 99.72, 99.96, 86.3, 0.0)] == ["100", "99.7", "99.9", "86.3", "0.0"]


def test_grid_units_and_households_share_communities_with_barriers(samples, shared, tmp_path):
    """Futian with its streets: `grid households --barriers` cuts the district into the
    same 16 provisional communities (codes and shapes) as `grid units --barriers`,
    so the two layouts of one district agree (without the barriers it made 13)."""
    import geopandas as gpd
    import shapely

    streets = shared / "shenzhen_futian" / "futian_osm_network.gpkg"
    common = ["--code-field", "adcode", "--provisional", "--barriers", streets, "--barriers-layer", "edges"]
    units_out, homes_out = tmp_path / "units.gpkg", tmp_path / "homes.gpkg"
    assert _run("grid", "units", samples / "futian_wgs84.gpkg", *common, "-o", units_out).exit_code == 0
    homes = tmp_path / "homes_in.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.Point(114.05, 22.54)], crs=4326).to_file(homes)
    result = _run("grid", "households", samples / "futian_wgs84.gpkg", *common, "--households", homes,
                  "--min-households", 1, "--max-households", 5, "--workers", 2, "-o", homes_out)
    assert result.exit_code == 0, result.output
    # One grid per community (the barriers go to both worker processes): 15 of them empty.
    grids = gpd.read_file(homes_out, layer="cells")
    assert len(grids) == 16 and grids["households"].tolist().count(1) == 1
    assert "barriers     1133 light blocks joined across a barrier; 8 grids cross one" in result.output
    a = gpd.read_file(units_out, layer="units").query("level == 'community'").sort_values("code")
    b = gpd.read_file(homes_out, layer="units").query("level == 'community'").sort_values("code")
    assert len(a) == 16 and a["code"].tolist() == b["code"].tolist()
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=1e-6).all()


def test_grid_households_writes_nothing_that_breaks_the_invariants(monkeypatch, tmp_path):
    """Should the grids ever fail the partition check, the command says so and writes
    no package (an existing one stays as it was)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from gridkit.invariants import PartitionReport

    boundary, homes = tmp_path / "b.gpkg", tmp_path / "h.gpkg"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(500_000, 4_400_000, 501_000, 4_401_000)],
                     crs=4548).to_file(boundary)
    xs = 500_000 + 25 + 50 * (np.arange(400) % 20)
    ys = 4_400_000 + 25 + 50 * (np.arange(400) // 20)
    gpd.GeoDataFrame(geometry=shapely.points(xs, ys), crs=4548).to_file(homes)
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"an earlier package")
    monkeypatch.setattr(gk, "check_partition", lambda *a, **k: PartitionReport(1, 1, problems=["unit X: a gap"]))
    result = _run("grid", "households", boundary, "--provisional", "--parent-code", "110101", "--households",
                  homes, "--min-households", 40, "--max-households", 60, "-o", out, "--overwrite")
    assert result.exit_code == 1
    assert "the grids break the partition invariants, so nothing was written: unit X: a gap" in result.output
    assert out.read_bytes() == b"an earlier package"


@pytest.mark.parametrize("survey", ["wgs84", "metric"])
def test_grid_households_reads_each_file_in_its_own_crs(samples, tmp_path, survey):
    """GCJ-02 boundaries (Amap) with household points of a GPS survey: in WGS84
    (given as --households-crs), or in metres (labelled EPSG:4548, which a lon/lat
    --crs leaves alone, with a note). Each file is read in its own CRS, so every
    household lands in the community it lies in."""
    import geopandas as gpd
    import numpy as np
    import shapely

    boundaries = samples / "dongcheng_gcj02.gpkg"
    comm = gk.unit_hierarchy(gk.read_vector(boundaries, crs="gcj02"), code_field="adcode", provisional=True)
    x0, y0, x1, y1 = comm.total_bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 110.0), np.arange(y0, y1, 110.0))
    xy = np.c_[xs.ravel(), ys.ravel()]
    inside = [shapely.contains_xy(g, xy[:, 0], xy[:, 1]) for g in comm.geometry.values]
    xy = xy[np.any(inside, axis=0)]
    homes = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=comm.crs)
    path = tmp_path / "survey.gpkg"
    (homes.to_crs(4326) if survey == "wgs84" else homes).to_file(path)  # true WGS84, or metres

    def per_community(points):
        return [int(shapely.contains_xy(g, *points.T).sum()) for g in comm.geometry.values]

    expected = per_community(xy)
    # Read as GCJ-02 (the boundaries' CRS), the same points move ~500 m: other counts.
    if survey == "wgs84":
        shifted = gk.read_vector(path, crs="gcj02").to_crs(comm.crs).get_coordinates().to_numpy()
        assert per_community(shifted) != expected
    own = ["--households-crs", "EPSG:4326"] if survey == "wgs84" else []
    out = tmp_path / "dc.gpkg"
    result = _run("grid", "households", boundaries, "--crs", "gcj02", "--code-field", "adcode", "--provisional",
                  "--households", path, *own, "--min-households", 100, "--max-households", 150, "-o", out)
    assert result.exit_code == 0, result.output
    note = (f"note: {path} is labelled EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E), a projected CRS: "
            "read as labelled, not in --crs gcj02 (give --households-crs to say otherwise)")
    assert (note in result.output) == (survey == "metric")
    cells, _, meta = gk.read_package(out)
    got = cells.groupby("community_code")["households"].sum()
    assert got.reindex(comm["community_code"]).tolist() == expected
    assert json.loads(meta["parameters"])["households_crs"] == ("EPSG:4326" if survey == "wgs84" else None)
    if survey == "metric":  # a rebalance reads the survey as the first run did, with the same note
        again = _run("grid", "rebalance", out, "--households", path, "-o", tmp_path / "again.gpkg")
        assert again.exit_code == 0, again.output
        assert note in again.output and "changed      0 ended, 0 new" in again.output


def test_a_gps_survey_beside_boundaries_in_metres_is_read_as_labelled(samples, tmp_path):
    """Boundaries with no CRS label, in metres (--crs EPSG:4548), and a GPS survey
    labelled EPSG:4326: --crs is not laid on the survey (its degrees read as metres
    would be a speck, refused), which is read as labelled with a note; every
    household lands in its community."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    districts = gk.read_vector(samples / "dongcheng_gcj02.gpkg", crs="gcj02").to_crs(4548)
    boundaries = tmp_path / "dongcheng_metres.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(districts.set_crs(None, allow_override=True), boundaries)
    comm = gk.unit_hierarchy(gk.read_vector(boundaries, crs="EPSG:4548"), code_field="adcode", provisional=True)
    x0, y0, x1, y1 = comm.total_bounds
    xs, ys = np.meshgrid(np.arange(x0 + 1, x1, 150.0), np.arange(y0 + 1, y1, 150.0))
    xy = np.c_[xs.ravel(), ys.ravel()]
    xy = xy[shapely.contains_xy(shapely.union_all(comm.geometry.values), *xy.T)]
    survey = tmp_path / "survey.gpkg"
    gpd.GeoDataFrame(geometry=shapely.points(xy), crs=4548).to_crs(4326).to_file(survey)
    out = tmp_path / "dc.gpkg"
    result = _run("grid", "households", boundaries, "--crs", "EPSG:4548", "--code-field", "adcode", "--provisional",
                  "--households", survey, "--min-households", 100, "--max-households", 150, "-o", out)
    assert result.exit_code == 0, result.output
    assert (f"note: {survey} is labelled EPSG:4326 (WGS 84), a longitude/latitude CRS: read as labelled, not in "
            "--crs EPSG:4548 (give --households-crs to say otherwise)") in result.output
    cells, _, _ = gk.read_package(out)
    expected = [int(shapely.contains_xy(g, *xy.T).sum()) for g in comm.geometry.values]
    assert cells.groupby("community_code")["households"].sum().reindex(comm["community_code"]).tolist() == expected
    assert sum(expected) == len(xy)


def test_grid_households_reads_address_points_from_a_csv(samples, tmp_path, caplog):
    """An address list with Amap (GCJ-02) positions in 经度/纬度 columns and a count
    column: every household lands in its community, a row outside goes to the
    rejects, and so do a row with no position and a ledger's total row, each saying so."""
    import numpy as np
    import pandas as pd
    import pyogrio
    import pyproj
    import shapely

    from gridkit import coords

    boundaries = samples / "dongcheng_gcj02.gpkg"
    comm = gk.unit_hierarchy(gk.read_vector(boundaries, crs="gcj02"), code_field="adcode", provisional=True)
    x0, y0, x1, y1 = comm.total_bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 150.0), np.arange(y0, y1, 150.0))
    xy = np.c_[xs.ravel(), ys.ravel()]
    inside = np.array([shapely.contains_xy(g, xy[:, 0], xy[:, 1]) for g in comm.geometry.values])
    xy = np.r_[xy[inside.any(axis=0)], [[x1 + 5000, y1 + 5000]]]  # the last one 5 km outside
    households = np.arange(len(xy)) % 3 + 1
    lon, lat = pyproj.Transformer.from_crs(comm.crs, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    table = pd.DataFrame({"地址": [f"门牌 {i}" for i in range(len(xy))], "经度": glon, "纬度": glat, "户数": households})
    # and a row whose position is no longitude/latitude: a reject too, not a point at infinity
    table.loc[len(table)] = ["门牌 ?", 200.0, 95.0, 2]
    path = tmp_path / "addresses.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "dc.gpkg"
    common = ("grid", "households", boundaries, "--crs", "gcj02", "--code-field", "adcode", "--provisional",
              "--count-field", "户数", "--min-households", 100, "--max-households", 150)
    result = _run(*common, "--households", path, "-o", out)
    assert result.exit_code == 0, result.output
    cells, _, _ = gk.read_package(out)
    expected = [int(households[:-1][row[inside.any(axis=0)]].sum()) for row in inside]
    assert len(expected) == 8 and sum(expected) == households[:-1].sum() > 1000
    got = cells.groupby("community_code")["households"].sum()
    assert got.reindex(comm["community_code"]).tolist() == expected
    assert ("rejects      2 household features outside every community, 1 of them with coordinates that do not "
            "project (layer household_rejects)") in result.output
    rejects = pyogrio.read_dataframe(out, layer="household_rejects")
    assert rejects["source_row"].tolist() == [len(xy), len(xy) + 1]
    assert rejects["households"].tolist() == [households[-1], 2]
    assert rejects["reason"].tolist() == [
        "outside every community",
        f"its coordinates (200, 95) do not project into {cells.crs.to_string()}: not longitude/latitude, or far "
        "outside the area that CRS covers"]
    assert rejects.geometry.isna().tolist() == [False, True]
    # the same list as an Excel sheet (the workbook's second): the same grids
    with pd.ExcelWriter(tmp_path / "addresses.xlsx") as book:
        pd.DataFrame({"说明": ["东城区住户"]}).to_excel(book, sheet_name="说明", index=False)
        table.to_excel(book, sheet_name="住户", index=False)
    result = _run(*common, "--households", tmp_path / "addresses.xlsx", "--households-layer", "住户", "-o",
                  tmp_path / "xl.gpkg")
    assert result.exit_code == 0, result.output
    xl_cells = gk.read_package(tmp_path / "xl.gpkg")[0]
    assert xl_cells["households"].tolist() == cells["households"].tolist()
    assert xl_cells.geometry.geom_equals_exact(cells.geometry, tolerance=1e-6).all()

    # An address not geocoded (经度 blank) and the ledger's total row: rejects that say
    # why, counted apart from those outside; the grids hold the rest. (Stop 89 stopped
    # the run at the first: a ledger of 3,000 addresses with 40 not yet placed made no
    # grids at all.)
    table.loc[4, "经度"] = None
    table.loc[len(table)] = ["合计", None, None, int(table["户数"].sum())]
    total = table["户数"].iat[-1]
    table.to_csv(path, index=False)
    with open(path, "a", encoding="utf-8") as ledger:  # and the header again, below a second ledger pasted in
        ledger.write(",".join(table.columns) + "\n")
    placed = _run(*common, "--households", path, "-o", tmp_path / "placed.gpkg")
    assert placed.exit_code == 0, placed.output
    n = len(table) + 1
    assert (f"{path}: rows 5, {n - 1}, {n} have no position (the first: 经度 is blank or not a number). They are "
            f"rejects, {households[4] + total:,} households in no grid") in caplog.messages
    assert ("rejects      2 household features outside every community, 1 of them with coordinates that do not "
            "project, 3 with no position (layer household_rejects)") in placed.output
    rejects = pyogrio.read_dataframe(tmp_path / "placed.gpkg", layer="household_rejects")
    assert rejects["source_row"].tolist() == [5, n - 3, n - 2, n - 1, n]
    assert rejects["reason"].tolist()[0::3] == [
        "no position: 经度 is blank or not a number",
        f"no position: 经度 and 纬度 are blank or not numbers, and its count, {total:,}, is the sum of all the "
        "others' (a total row?)"]
    assert rejects["reason"].iat[-1] == ("no position: 经度 and 纬度 are blank or not numbers, and it holds the "
                                         "column names: the header repeated?")
    assert rejects.geometry.isna().tolist() == [True, False, True, True, True]
    assert gk.read_package(tmp_path / "placed.gpkg")[0]["households"].sum() == cells["households"].sum() - households[4]
    wrong = _run(*common, "--households", samples / "cincinnati_blocks.gpkg", "--x-field", "lon", "-o",
                 tmp_path / "w.gpkg")
    assert wrong.exit_code == 2 and "is neither" in wrong.output


def test_grid_households_over_a_rural_county_says_its_tiles_are_too_light(samples, tmp_path):
    """Putuo (a county code, no communities) with a household every 1.5 km: its
    provisional communities are tiles cut by area, as for unit grids, and nearly all
    end as too_few grids, with nothing saying why. A hint now says so and gives the
    command that divides the county as one community, which brings grids into the band."""
    import pandas as pd
    import shapely

    boundaries = samples / "putuo_gcj02.gpkg"
    county = gk.read_vector(boundaries, crs="gcj02")
    x0, y0, x1, y1 = county.total_bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 0.015), np.arange(y0, y1, 0.015))
    inside = shapely.contains_xy(county.geometry.iloc[0], xs.ravel(), ys.ravel())
    path = tmp_path / "homes.csv"
    pd.DataFrame({"lon": xs.ravel()[inside], "lat": ys.ravel()[inside], "hh": 40}).to_csv(path, index=False)
    common = ("grid", "households", boundaries, "--crs", "gcj02", "--provisional", "--households", path,
              "--households-crs", "EPSG:4326", "--count-field", "hh", "--min-households", 100, "--max-households", 150)
    tiled = _run(*common, "--code-field", "adcode", "-o", tmp_path / "tiled.gpkg")
    assert tiled.exit_code == 0, tiled.output
    hint = ("hint         {} of 151 provisional communities hold fewer households than the lower bound: they are cut "
            "by area, as for unit grids. Give the real communities (12-digit codes), or divide each feature as one "
            "community: leave out --code-field and pass --provisional --parent-code 330903\n")
    cells = gk.read_package(tmp_path / "tiled.gpkg")[0]
    light = cells.loc[cells["flag"] == "too_few", "community_code"].nunique()
    assert light == 116 and hint.format(light) in tiled.output
    assert "rejects      0 household features outside every community" in tiled.output
    whole = _run(*common, "--parent-code", "330903", "-o", tmp_path / "whole.gpkg")
    assert whole.exit_code == 0, whole.output
    assert "provisional communities hold fewer" not in whole.output
    again = gk.read_package(tmp_path / "whole.gpkg")[0]
    in_band = [int(c["households"].between(100, 150).sum()) for c in (cells, again)]
    assert again["community_code"].nunique() == 1 and in_band == [14, 53]


def test_the_light_tiles_hint_does_not_offer_one_community_too_big_to_number():
    """Putuo with 149,999 households at 100–150 tiles into 151 provisional communities,
    37 of them islands too light for a grid. The hint offered --parent-code 330903,
    one community, which the run then refuses: at least 1,000 grids, and a community
    numbers 999. It now says so; with households enough for 999 grids it still offers it."""
    from types import SimpleNamespace

    import pandas as pd

    from gridkit_cli.grid import _light_tiles_hint

    codes = [f"330903900{600 + i:03d}" for i in range(8)]
    communities = pd.DataFrame({"community_code": codes, "street_code": "330903900", "county_code": "330903",
                                "provisional": True})

    def hint(households):
        grids = pd.DataFrame({"community_code": codes, "households": households,
                              "flag": ["too_few" if n < 100 else "" for n in households]})
        return _light_tiles_hint(SimpleNamespace(grids=grids, summary={"band": [100, 150]}), communities, None)

    assert hint([12, 30, 50, 99, 149_808, 0, 0, 0]) == [
        "hint         7 of 8 provisional communities hold fewer households than the lower bound: they are cut by "
        "area, as for unit grids. Give the real communities (12-digit codes): as one community (--parent-code "
        "330903), its 149,999 households would need at least 1,000 grids of at most 150, more than the 999 a "
        "community numbers"]
    assert hint([12, 30, 50, 99, 149_659, 0, 0, 0])[0].endswith(  # 149,850: 999 grids of 150
        "(12-digit codes), or divide each feature as one community: leave out --code-field and pass --provisional "
        "--parent-code 330903")
    assert hint([12, 150, 150, 150, 150, 150, 150, 150]) == [] and hint([0] * 8)[0].startswith("hint         8 of 8")


def test_grid_households_takes_the_band_one_way(samples, tmp_path):
    args = ("grid", "households", samples / "cincinnati_city.gpkg", "--households", samples / "cincinnati_blocks.gpkg",
            "-o", tmp_path / "o.gpkg")
    both = _run(*args, "--min-households", 100, "--max-households", 150, "--target", 200)
    assert both.exit_code == 2 and "give the band one way: --min-households and --max-households, or --target" \
        in both.output
    neither = _run(*args, "--min-households", 100)
    assert neither.exit_code == 2 and "give --min-households and --max-households, or --target" in neither.output
    assert not (tmp_path / "o.gpkg").exists()


def test_grid_households_names_a_wrong_band_before_anything_else(samples, tmp_path, monkeypatch):
    """A band that cannot be (micro-grids that do not nest, min above max, a target
    ± tolerance reaching below zero) is named before any file is read, and before
    an existing output asks for --overwrite: fixing one would only lead to the other."""
    import gridkit

    out = tmp_path / "o.gpkg"
    out.write_bytes(b"an earlier layout")
    monkeypatch.setattr(gridkit, "read_vector", lambda *a, **k: pytest.fail("read a file"))
    args = ("grid", "households", samples / "cincinnati_city.gpkg", "--households", samples / "cincinnati_blocks.gpkg",
            "-o", out)
    wrong = {("--min-households", 100, "--max-households", 150, "--micro", "20,120"):
             "micro-grids of 20–120 households do not nest in grids of 100–150: the micro maximum must be ≤ the grid "
             "minimum",
             ("--min-households", 150, "--max-households", 100): "household band 150–100: need 0 < min ≤ max",
             ("--target", 250, "--tolerance", 300): "target 250 ± tolerance 300 households reaches down to -50"}
    # The micro band as it is printed (20–120), or typed in Chinese: the same band.
    nesting = next(iter(wrong.values()))
    for spelling in ("20–120", "２０，１２０", " 20 ~ 120"):
        wrong[("--min-households", 100, "--max-households", 150, "--micro", spelling)] = nesting
    # A tolerance as a percentage, as people write one: 20% of 100 is ± 20.
    for spelling in ("20%", "２０％", "0.2"):
        wrong[("--target", 100, "--tolerance", spelling, "--micro", "20,120")] = \
            "micro-grids of 20–120 households do not nest in grids of 80–120"
    for band, message in wrong.items():
        result = _run(*args, *band)
        assert result.exit_code == 1 and message in result.output, result.output
    for micro, said in [("20/120", "'20/120': expected MIN,MAX, e.g. 20,50"),
                        ("", "'' is empty: give a value, or leave --micro out")]:  # '' made none, without a word
        unread = _run(*args, "--min-households", 100, "--max-households", 150, "--micro", micro)
        assert unread.exit_code == 2 and said in unread.output, unread.output
    whole = _run(*args, "--target", 100, "--tolerance", "100%")  # 1.0 would read as one household
    assert whole.exit_code == 2 and ("Invalid value for '--tolerance': '100%': give a share below 1 (0.2, or 20%) or "
                                     "a number of households, not below 0") in whole.output
    assert _run(*args, "--min-households", 100, "--max-households", 150).exit_code == 2  # then: --overwrite
    assert out.read_bytes() == b"an earlier layout"


def test_a_household_layout_is_written_only_as_a_grid_package(samples, tmp_path):
    """A .geojson (or any format but .gpkg) would hold the grids alone: the rejected
    households, the micro-grids and the record a rebalance reads would be lost
    without a word. Both commands refuse it before reading anything."""
    out = tmp_path / "grids.geojson"
    made = _run("grid", "households", samples / "cincinnati_city.gpkg", "--households",
                samples / "cincinnati_blocks.gpkg", "--min-households", 100, "--max-households", 150, "-o", out)
    assert made.exit_code == 2 and f"{out}: give a .gpkg (the grid package" in made.output
    assert "export them after: gridkit export OUT.gpkg -o grids.geojson" in made.output
    again = _run("grid", "rebalance", samples / "cincinnati_city.gpkg", "--households",
                 samples / "cincinnati_blocks.gpkg", "-o", tmp_path / "now.fgb")
    assert again.exit_code == 2 and "now.fgb: give a .gpkg" in again.output
    assert list(tmp_path.iterdir()) == []


def test_grid_units_takes_one_cell_shape(samples, tmp_path):
    both = _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "gcj02", "--code-field", "adcode",
                "--provisional", "--hex", "--h3", "-o", tmp_path / "a.gpkg")
    assert both.exit_code == 2 and "--hex (planar hexagons) or --h3 (H3 cells), not both" in both.output
    assert not (tmp_path / "a.gpkg").exists()


def test_an_option_that_needs_another_is_not_silently_ignored(samples, tmp_path):
    out = tmp_path / "o.gpkg"
    tolerance = _run("grid", "households", samples / "cincinnati_city.gpkg", "--households",
                     samples / "cincinnati_blocks.gpkg", "--min-households", 100, "--max-households", 150,
                     "--tolerance", 0.1, "-o", out)
    assert tolerance.exit_code == 2 and "--tolerance goes with --target, which is not given" in tolerance.output
    layer = _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "gcj02", "--code-field", "adcode",
                 "--provisional", "--barriers-layer", "edges", "-o", out)
    assert layer.exit_code == 2 and "--barriers-layer goes with --barriers, which is not given" in layer.output
    where = _run("grid", "households", samples / "cincinnati_city.gpkg", "--households",
                 samples / "cincinnati_blocks.gpkg", "--min-households", 100, "--max-households", 150,
                 "--barriers-where", "highway <> 'footway'", "-o", out)
    assert where.exit_code == 2 and "--barriers-where goes with --barriers, which is not given" in where.output
    assert not out.exists()


def test_locate_options_that_need_another(samples, tmp_path):
    grid = tmp_path / "grid.gpkg"
    grid.write_bytes(b"")  # checked after the options, never read
    args = ("locate", samples / "dongcheng_reports.csv", "--crs", "gcj02", "--grid", grid, "-o", tmp_path / "out.csv")
    events = _run(*args, "--events")
    assert events.exit_code == 2 and "--events goes with --class-field, which is not given" in events.output
    klass = _run(*args, "--class-field", "matter_code")  # without --routes it would route nothing
    assert klass.exit_code == 2 and "--class-field goes with --routes, which is not given" in klass.output
    workers = _run(*args, "--workers", 4)
    assert workers.exit_code == 2 and "--workers goes with --dask, which is not given" in workers.output
    # and the other way round: --dask reads Parquet, where --layer and --encoding would be ignored
    for option, value in (("--encoding", "GBK"), ("--layer", "points")):
        dask = _run(*args, "--dask", option, value)
        assert dask.exit_code == 2 and (f"{option} is for a file read in one process: with --dask, POINTS is "
                                        "(partitioned) Parquet") in " ".join(dask.output.split())


def test_households_where_reads_only_the_features_asked_for(tmp_path):
    """--households-where keeps the features an OGR SQL filter matches (here the
    homes, not the shops): its grids hold only their households, a bad count is
    named by its row in the file, not in the filtered frame, and so is a reject.
    The package records the filter; `grid rebalance` applies it again unless told
    otherwise ("" reads every feature). A table cannot be filtered: an error."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    boundary, homes, out = tmp_path / "b.gpkg", tmp_path / "h.gpkg", tmp_path / "out.gpkg"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(500_000, 4_400_000, 501_000, 4_401_000)],
                     crs=4548).to_file(boundary)
    xs = 500_000 + 25 + 50 * (np.arange(400) % 20)
    ys = 4_400_000 + 25 + 50 * (np.arange(400) // 20)
    use = np.where(np.arange(400) % 4 == 3, "shop", "home")  # every fourth point a shop: 300 homes
    count = np.ones(400, dtype="int64")
    count[use == "shop"] = 5
    frame = gpd.GeoDataFrame({"use": use, "hh": count}, geometry=shapely.points(xs, ys), crs=4548)
    frame.to_file(homes)
    args = ["grid", "households", boundary, "--provisional", "--parent-code", "110101", "--households", homes,
            "--count-field", "hh", "--min-households", 60, "--max-households", 90]
    result = _run(*args, "--households-where", "use = 'home'", "-o", out)
    assert result.exit_code == 0, result.output
    assert "households   300 in grids" in result.output and "rejects      0 household features" in result.output
    meta = json.loads(dict(zip(*pyogrio.read_dataframe(out, layer="gridkit_metadata")[["key", "value"]].T.values))
                      ["parameters"])
    assert meta["households_where"] == "use = 'home'"

    # Row 9 of the file is the 7th home: the message names row 9. A home outside
    # the boundary (row 401, the 301st home) is rejected as row 401.
    bad, out2 = tmp_path / "bad.gpkg", tmp_path / "out2.gpkg"
    frame.assign(hh=np.where(np.arange(400) == 8, -2, count)).to_file(bad)
    result = _run(*args[:7], bad, *args[8:], "--households-where", "use = 'home'", "-o", out2)
    assert result.exit_code == 1 and not out2.exists()
    assert "1 household count in 'hh' is not a whole number ≥ 0: row 9 (-2)" in result.output
    outside = gpd.GeoDataFrame({"use": ["home"], "hh": [1]}, geometry=[shapely.Point(502_000, 4_400_500)], crs=4548)
    grown = tmp_path / "grown.gpkg"
    pd.concat([frame, outside], ignore_index=True).to_file(grown)
    result = _run(*args[:7], grown, *args[8:], "--households-where", "use = 'home'", "-o", out2)
    assert result.exit_code == 0, result.output
    rejects = gpd.read_file(out2, layer="household_rejects")
    assert rejects["source_row"].tolist() == [401]

    now = tmp_path / "now.gpkg"
    result = _run("grid", "rebalance", out, "--households", grown, "-o", now)
    assert result.exit_code == 0, result.output
    assert f"note: reading the households through {out}'s --households-where \"use = 'home'\"" in result.output
    assert "households   300 in grids (before: 300)" in result.output
    result = _run("grid", "rebalance", out, "--households", grown, "--households-where", "", "-o", now, "--overwrite",
                  "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["households"], summary["households_before"]) == (800, 300) and "note:" not in result.output

    table = tmp_path / "h.csv"
    pd.DataFrame({"x": xs, "y": ys, "use": use}).to_csv(table, index=False)
    result = _run(*args[:7], table, "--crs", "EPSG:4548", "--min-households", 60, "--max-households", 90,
                  "--households-where", "use = 'home'", "-o", out2, "--overwrite")
    assert result.exit_code == 0, result.output
    assert "households   300 in grids" in result.output and "rejects      0 household features" in result.output


def test_replacing_a_layout_warns_when_its_ids_would_name_other_places(samples, tmp_path):
    """--overwrite over a grid package: the same layout again says nothing; a layout
    whose IDs name other cells (here: 20,000 m² cells over 10,000 m² ones) warns with
    the count, which `reissued_ids` gives exactly; a rebalance's ended grids count too."""
    import geopandas as gpd

    from gridkit.package import reissued_ids

    out = tmp_path / "c.gpkg"
    args = ("grid", "units", samples / "cambridge_neighborhoods.gpkg", "--name-field", "NAME", "--provisional",
            "--parent-code", "990101", "-o", out, "--overwrite")
    assert _run(*args).exit_code == 0
    old = gpd.read_file(out, layer="cells")
    again = _run(*args)
    assert again.exit_code == 0 and "warning" not in again.output
    assert reissued_ids(out, old) == []
    shifted = old.assign(grid_id=np.roll(old["grid_id"].to_numpy(), 1))  # every ID on its neighbour's cell
    assert reissued_ids(out, shifted) == sorted(old["grid_id"])
    coarse = _run(*args, "--cell-area", "20000")
    new = gpd.read_file(out, layer="cells")
    iou = (new.set_index("grid_id").geometry.intersection(old.set_index("grid_id").geometry, align=True).area
           / new.set_index("grid_id").geometry.union(old.set_index("grid_id").geometry, align=True).area).dropna()
    moved = int((iou < 0.5).sum())
    assert 0 < moved < len(new)
    assert coarse.exit_code == 0 and f"warning: {moved:,} grid IDs of the replaced {out} now name" in coarse.output
    assert reissued_ids(out, new) == []
    new.iloc[:1].to_file(out, layer="ended_grids", engine="pyogrio")  # as if a rebalance had ended it
    assert reissued_ids(out, new) == [new["grid_id"].iloc[0]]


_TERMINATED_RUN = """
import os, signal, sys, time
from pathlib import Path
from gridkit.io import atomic_path
from gridkit_cli.main import cli, main

@cli.command("write-slowly")
def write_slowly():
    with atomic_path(Path(os.environ["OUT"]), overwrite=True) as tmp:
        tmp.write_text("half of the new output")
        os.kill(os.getpid(), signal.SIGTERM)  # a scheduler's time limit, mid-write
        time.sleep(60)
        print("not reached")

main()
"""


def test_sigterm_mid_write_removes_the_temporary_file_and_keeps_the_old_output(tmp_path):
    """SIGTERM (a scheduler's time limit, ``kill``) while an output is being written
    runs the clean-up as Ctrl-C does: the temporary file beside the output is
    removed, the existing output is untouched, and the process still ends by
    SIGTERM. Without the handler the hidden temporary file stays behind."""
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "city.gpkg"
    out.write_text("the old output")
    run = subprocess.run([sys.executable, "-c", _TERMINATED_RUN, "write-slowly"], capture_output=True, text=True,
                         env={**os.environ, "OUT": str(out)}, timeout=120)
    assert run.returncode == -signal.SIGTERM and "not reached" not in run.stdout
    assert run.stderr.strip().splitlines()[-1] == "gridkit: terminated (SIGTERM)"
    assert [p.name for p in tmp_path.iterdir()] == ["city.gpkg"] and out.read_text() == "the old output"


def test_a_grid_package_given_as_boundaries_is_gridded_again_in_its_communities(samples, tmp_path):
    """A layout gridded again (by households after by area, or at another cell size):
    a grid package given as BOUNDARIES, with neither --layer nor --code-field, is
    read as its communities, with their codes (provisional ones kept), shapes and
    the names of their street and county; --where picks among them."""
    import geopandas as gpd
    import numpy as np
    import shapely

    package = tmp_path / "dc.gpkg"
    assert _run("grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "gcj02", "--code-field", "adcode",
                "--name-field", "district", "--provisional", "-o", package).exit_code == 0
    before = gpd.read_file(package, layer="units").query("level == 'community'")
    community = before[before["code"] == "110101900603"]
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = community.total_bounds
    points = shapely.points(rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000))
    homes = tmp_path / "homes.gpkg"
    gpd.GeoDataFrame(geometry=points[shapely.contains_xy(community.geometry.iloc[0], *shapely.get_coordinates(points).T)],
                     crs=before.crs).to_file(homes)
    out = tmp_path / "hh.gpkg"
    result = _run("grid", "households", package, "--where", "code = '110101900603'", "--households", homes,
                  "--min-households", 100, "--max-households", 150, "-o", out)
    assert result.exit_code == 0, result.output
    assert (f"note: {package} is a grid package: its community is read (--layer units --where "
            "\"level = 'community' AND (code = '110101900603')\" --code-field code; give --layer to read another "
            "layer)") in result.output
    grids = gpd.read_file(out, layer="cells")
    assert set(grids["community_code"]) == {"110101900603"} and grids["provisional"].all()
    assert set(grids["county_name"]) == {"东城区"} and set(grids["street_code"]) == {"110101900"}
    after = gpd.read_file(out, layer="units").query("level == 'community'")
    assert shapely.equals_exact(after.geometry.values, community.geometry.values, tolerance=1e-6).all()

    again = tmp_path / "dc20k.gpkg"  # every community, at another cell size
    result = _run("grid", "units", package, "--cell-area", 20000, "-o", again)
    assert result.exit_code == 0, result.output
    assert "its 8 communities are read" in result.output
    assert re.search(r"^units +8 input features → 8 communities \(8 provisional\)$", result.stdout, re.M)
    units = gpd.read_file(again, layer="units")
    assert units.query("level == 'community'")["code"].tolist() == before["code"].tolist()
    assert units.query("level == 'county'")["name"].tolist() == ["东城区"]
    # --layer reads the layer named, as from any file: the cells carry no code column of their own
    result = _run("grid", "units", package, "--layer", "cells", "-o", tmp_path / "x.gpkg")
    assert result.exit_code == 1 and "name the column with each unit's code (--code-field" in result.output


def test_map_points_are_read_as_locate_reads_them(tmp_path, caplog):
    """`map --html --points` read a CSV with geopandas, which gave a frame without a
    CRS and a traceback; a second file of the same name replaced the first layer,
    --points without --html was ignored, and --html wrote a web page into a .png."""
    import shapely

    from gridkit.coords import wgs84_to_gcj02

    from .conftest import community_frame

    x0, y0 = 500_000.0, 4_400_000.0  # EPSG:4548, in Beijing
    comm = community_frame([shapely.box(x0, y0, x0 + 300, y0 + 200)])
    package = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)
    lon, lat = pyproj.Transformer.from_crs(4548, 4326, always_xy=True).transform([x0 + 50, x0 + 250], [y0 + 50] * 2)
    east, north = (v.tolist() for v in wgs84_to_gcj02(np.array(lon), np.array(lat)))
    (tmp_path / "b").mkdir()
    for folder in (tmp_path, tmp_path / "b"):  # as Amap gives them, under names of their own
        rows = f"E;N;case\n{east[0]!r};{north[0]!r};a\n;;blank\n{east[1]!r};{north[1]!r};b\n"
        (folder / "reports.csv").write_text(rows, encoding="utf-8")
    out = tmp_path / "map.html"
    args = ["map", package, "--html", "-o", out, "--points", tmp_path / "reports.csv", "--points",
            tmp_path / "b" / "reports.csv", "--x-field", "E", "--y-field", "N"]
    unsaid = _run(*args)
    assert unsaid.exit_code == 1 and "columns E/N do not say their CRS; pass --points-crs" in unsaid.output
    with caplog.at_level("WARNING", logger="gridkit.map"):
        result = _run(*args, "--points-crs", "gcj02")
    assert result.exit_code == 0, result.output
    assert result.output == f"{out}: cells 6, units 2, reports 2, reports_2 2\n"
    assert caplog.messages == [f"{tmp_path / 'reports.csv'}: 1 of 3 rows have no position and are not drawn",
                               f"{tmp_path / 'b' / 'reports.csv'}: 1 of 3 rows have no position and are not drawn"]
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', out.read_text(),
                                re.S).group(1).replace("<\\/", "</"))
    layers = {layer["name"]: layer for layer in data["layers"]}
    # Back from GCJ-02 to where they were put, to the 0.1 m the map rounds to.
    assert np.allclose(layers["reports"]["shapes"], [[x0 + 50, y0 + 50], [x0 + 250, y0 + 50]], atol=0.11)
    assert [p["case"] for p in layers["reports_2"]["props"]] == ["a", "b"]
    for extra, message in {("-o", tmp_path / "m.png"): "--html writes a web page; name it .html"}.items():
        refused = _run("map", package, "--html", *extra)
        assert refused.exit_code == 2 and message in refused.output
    refused = _run("map", package, "-o", tmp_path / "m.png", "--points", tmp_path / "reports.csv")
    assert refused.exit_code == 2 and "add layers to the web map: give --html too" in refused.output
    assert not (tmp_path / "m.png").exists()


def test_map_html_draws_a_package_edited_by_hand(tmp_path, caplog):
    """A cell whose polygon was deleted in QGIS ended `map --html` in an
    AttributeError ('NoneType' object has no attribute 'geom_type'); a household
    grid drawn anew without an ID, in a TypeError (NaN against text). The first is
    left out and named, the second drawn. The PNG ended in an AttributeError when it
    labelled the cell without a polygon, and drew the gap without a word."""
    import shapely

    from .conftest import community_frame

    x0, y0 = 500_000.0, 4_400_000.0
    comm = community_frame([shapely.box(x0, y0, x0 + 300, y0 + 200)])
    cells = gk.unit_grid(comm).assign(households=120)
    package = gk.write_package(tmp_path / "grid.gpkg", cells, comm)
    edited = pyogrio.read_dataframe(package, layer="cells")
    edited.loc[1, "geometry"] = None
    edited.loc[2, "grid_id"] = None
    pyogrio.write_dataframe(edited, package, layer="cells", driver="GPKG")
    out = tmp_path / "map.html"
    with caplog.at_level("WARNING", logger="gridkit"):
        result = _run("map", package, "--html", "-o", out)
        picture = _run("map", package, "-o", tmp_path / "map.png")  # it drew the gap without a word
    assert result.exit_code == 0, result.output
    assert picture.exit_code == 0, picture.output
    assert result.output == f"{out}: cells 5, units 2\n"
    assert caplog.messages == ["1 of the cells has no geometry: not drawn (`gridkit check` names them)",
                               "1 of the cells has no geometry: a gap in the picture (`gridkit check` names them)"]
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', out.read_text(),
                                re.S).group(1).replace("<\\/", "</"))
    cells = next(layer for layer in data["layers"] if layer["name"] == "cells")
    assert [p.get("grid_id") for p in cells["props"]] == [
        "110101001001001", None, "110101001001004", "110101001001005", "110101001001006"]
    assert len(cells["shapes"]) == len(cells["colours"]) == 5
