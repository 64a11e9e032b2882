"""gridkit export: formats, GCJ-02/BD-09, Shapefile names and encodings, atomic writes."""

import json
import shutil
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit.catalogue import read_catalogue, read_inventory
from gridkit.coords import bd09_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from gridkit.errors import InputError
from gridkit.export import SHAPEFILE_NAMES, export_package
from gridkit.locator import Locator
from gridkit_cli.main import cli

from .conftest import community_frame

# A 5 km × 200 m strip (long straight edges) and a 300 × 200 m square north of it, in Beijing (EPSG:4548).
STRIP = shapely.box(500_000, 4_400_000, 505_000, 4_400_200)
SQUARE = shapely.box(500_000, 4_400_200, 500_300, 4_400_400)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    communities = community_frame([STRIP, SQUARE])
    communities["community_name"] = ["东华门社区", "景山社区"]
    cells = gk.unit_grid(communities)
    components = gpd.GeoDataFrame({"GLBJBSM": ["11010101001000001", "11010101001000002"],
                                   "class_name": ["上水井盖", "路灯"]},
                                  geometry=[shapely.Point(500_050, 4_400_050), shapely.Point(500_150, 4_400_300)],
                                  crs=4548)
    path = tmp_path_factory.mktemp("export") / "pkg.gpkg"
    return gk.write_package(path, cells, communities, extra_layers={"components": components})


def _lonlat(frame):
    return frame.to_crs(4326)


def test_gcj02_geojson_is_the_forward_conversion_and_reads_back(package, tmp_path):
    cells = gpd.read_file(package, layer="cells")
    out = tmp_path / "amap.geojson"
    [done] = export_package(package, out, crs="gcj02")
    assert (done.layer, done.features, done.crs) == ("cells", len(cells), "GCJ-02, labelled EPSG:4326")
    got = gpd.read_file(out)
    assert got.crs.equals(4326) and got["grid_id"].tolist() == cells["grid_id"].tolist()
    # Cells' edges (≤ 100 m) are not cut: every vertex is the forward conversion of the package's, to 1e-7°
    want = shapely.get_coordinates(_lonlat(cells).geometry.values)
    have = shapely.get_coordinates(got.geometry.values)
    assert have.shape == want.shape
    gx, gy = wgs84_to_gcj02(want[:, 0], want[:, 1])
    assert np.abs(have - np.column_stack([gx, gy])).max() < 1e-7
    assert np.abs(have - want).max() > 1e-3  # and it moved: ~500 m in Beijing
    assert shapely.is_ccw(shapely.get_exterior_ring(got.geometry.values)).all()  # RFC 7946's winding
    # Read back as GCJ-02, the cells are where they were (to the 7 decimals RFC 7946 keeps: ~1 cm)
    back = gk.read_vector(out, crs="gcj02").to_crs(4548)
    assert shapely.hausdorff_distance(back.geometry.values, cells.geometry.values).max() < 0.02


@pytest.mark.parametrize("crs, convert, bound", [("gcj02", wgs84_to_gcj02, 0.015), ("bd09", wgs84_to_bd09, 0.08)])
def test_long_edges_are_cut_before_converting(package, tmp_path, crs, convert, bound):
    out = tmp_path / "units.geojson"
    export_package(package, out, layers=["units"], crs=crs)
    units = gpd.read_file(package, layer="units")
    strip = units.geometry[units["code"] == "110101001001"].iloc[0]
    got = gpd.read_file(out)
    exported = got.geometry[got["code"] == "110101001001"].iloc[0]
    # the 5 km edges are cut into 25 pieces of 200 m, the 200 m ones stay whole: 52 vertices and the closing one
    assert len(shapely.get_coordinates(exported.exterior)) == 53
    # the middle of the south edge is as near the conversion of the true middle as the module says
    # (GCJ-02: 5 mm, and up to 5.5 mm more from the 7 decimals RFC 7946 GeoJSON keeps)
    middle = gpd.GeoSeries([shapely.Point(502_500, 4_400_000)], crs=4548).to_crs(4326)[0]
    bx, by = convert(np.array([middle.x]), np.array([middle.y]))
    metres = gpd.GeoSeries([exported.exterior, shapely.Point(bx[0], by[0])], crs=4326).to_crs(4548)
    assert metres[0].distance(metres[1]) < bound
    # converted by its corners alone, the edge would be metres off there
    corners = shapely.get_coordinates(gpd.GeoSeries([strip], crs=4548).to_crs(4326)[0].exterior)
    cx, cy = convert(corners[:, 0], corners[:, 1])
    naive = gpd.GeoSeries([shapely.LineString(np.column_stack([cx, cy])), shapely.Point(bx[0], by[0])],
                          crs=4326).to_crs(4548)
    assert naive[0].distance(naive[1]) > 1


def test_shapefile_names_encoding_and_codes(package, tmp_path):
    out = tmp_path / "grids.shp"
    [done] = export_package(package, out, encoding="GBK")
    assert done.renamed == {name: SHAPEFILE_NAMES[name] for name in
                            ("community_code", "community_name", "street_code", "street_name", "county_code",
                             "county_name", "provisional")}
    assert out.with_suffix(".cpg").read_text() == "GBK"
    assert "东华门社区".encode("gbk") in out.with_suffix(".dbf").read_bytes()
    got = gpd.read_file(out)
    cells = gpd.read_file(package, layer="cells")
    assert got["grid_id"].tolist() == cells["grid_id"].tolist()  # 15 digits kept as text
    assert got["comm_name"].tolist() == cells["community_name"].tolist()
    assert got.crs.equals(cells.crs)


def test_a_shapefile_named_in_capitals_is_written_as_named_and_never_replaced_unasked(package, tmp_path):
    """GDAL writes out.SHP's files as out.shp, out.dbf …: the summary named a file
    that was not there, and a second export replaced them without --overwrite (it
    looked for out.SHP). Now the files are OUT.SHP, OUT.DBF … as the name asks."""
    out = tmp_path / "GRIDS.SHP"
    export_package(package, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GRIDS.CPG", "GRIDS.DBF", "GRIDS.PRJ", "GRIDS.SHP",
                                                           "GRIDS.SHX"]
    assert gpd.read_file(out)["comm_name"].tolist() == gpd.read_file(package, layer="cells")["community_name"].tolist()
    with pytest.raises(FileExistsError, match="GRIDS.SHP exists; pass --overwrite"):
        export_package(package, out)


def test_a_value_the_encoding_cannot_hold_names_its_feature_and_writes_nothing(package, tmp_path):
    frame = gpd.read_file(package, layer="cells")
    frame.loc[3, "notes"] = "井盖 ⛲"  # no GBK code for the fountain
    bad = tmp_path / "bad.gpkg"
    gk.write_package(bad, frame, community_frame([STRIP, SQUARE]))
    out = tmp_path / "bad.shp"
    with pytest.raises(InputError, match=r"layer cells, feature 4, column notes: '井盖 ⛲' has '⛲', which GBK "
                                         r"cannot hold; export as UTF-8"):
        export_package(bad, out, layers=["units", "cells"], encoding="GBK")
    assert list(tmp_path.glob("bad_*")) == [] and not out.exists()  # the units' file is not left either


def test_layers_formats_and_file_names(package, tmp_path):
    out = tmp_path / "all.gpkg"
    written = export_package(package, out, layers=["all"], crs="gcj02")
    assert [(w.layer, w.path) for w in written] == [("cells", out), ("units", out), ("components", out)]
    layers = pyogrio.list_layers(out)[:, 0].tolist()
    assert layers[:3] == ["cells", "units", "components"] and "gridkit_metadata" not in layers  # not a package
    assert "layer_styles" in layers  # opens styled in QGIS
    csv = tmp_path / "x.csv"
    written = export_package(package, csv, layers=["cells", "components"])
    assert [w.path.name for w in written] == ["x_cells.csv", "x_components.csv"] and not csv.exists()
    assert (tmp_path / "x_cells.csv").read_bytes().startswith(b"\xef\xbb\xbfgrid_id,")
    points = pd.read_csv(tmp_path / "x_components.csv", dtype={"GLBJBSM": str})
    assert points[["GLBJBSM", "X", "Y"]].values.tolist() == [["11010101001000001", 500_050, 4_400_050],
                                                             ["11010101001000002", 500_150, 4_400_300]]
    polygons = pd.read_csv(tmp_path / "x_cells.csv", dtype=str)
    cells = gpd.read_file(package, layer="cells")
    assert shapely.equals(shapely.from_wkt(polygons["WKT"].to_numpy()), cells.geometry.values).all()
    assert sorted(p.name for p in tmp_path.glob("x_*")) == ["x_cells.csv", "x_cells.prj", "x_components.csv",
                                                          "x_components.prj"]
    # Each CSV's CRS in a .prj beside it, read by GDAL (as QGIS opens the CSV) and by gridkit
    assert gpd.read_file(tmp_path / "x_cells.csv").crs == "EPSG:4548"
    assert gk.read_vector(tmp_path / "x_cells.csv").crs == "EPSG:4548"
    assert gk.io.table_crs(tmp_path / "x_components.csv") == "EPSG:4548"
    assert gk.catalogue.read_points(tmp_path / "x_components.csv").geometry.tolist() == \
        gpd.read_file(package, layer="components").geometry.tolist()
    kml = tmp_path / "cells.kml"
    export_package(package, kml)
    assert gpd.read_file(kml)["Name"].tolist() == cells["grid_id"].tolist()  # placemarks named by grid ID
    # 64-bit integers (a household layout's counts) stay numbers: GDAL's KML writer types them as text
    counted = cells.assign(households=np.arange(len(cells), dtype=np.int64) * 40)
    gk.write_package(tmp_path / "counted.gpkg", counted, community_frame([STRIP, SQUARE]))
    export_package(tmp_path / "counted.gpkg", tmp_path / "counted.kml")
    back = gpd.read_file(tmp_path / "counted.kml")
    assert (back["households"].dtype.kind, back["sequence"].dtype.kind) == ("i", "i")
    assert back["households"].tolist() == counted["households"].tolist()
    # KMZ: zipped KML with every field, read back by GDAL (LIBKML) as gridkit reads any .kmz
    export_package(tmp_path / "counted.gpkg", tmp_path / "counted.kmz")
    with zipfile.ZipFile(tmp_path / "counted.kmz") as kmz:
        assert sorted(kmz.namelist()) == ["doc.kml", "layers/", "layers/cells.kml"]
    zipped = gk.read_vector(tmp_path / "counted.kmz")
    assert zipped["grid_id"].tolist() == cells["grid_id"].tolist() and zipped.crs == "EPSG:4326"
    assert zipped["households"].tolist() == counted["households"].tolist()
    assert shapely.equals_exact(zipped.geometry.values, back.geometry.values, tolerance=1e-9).all()
    with pytest.raises(InputError, match="KMZ holds longitude/latitude"):
        export_package(package, tmp_path / "m.kmz", crs="EPSG:4548")


def test_a_workbook_holds_a_sheet_per_layer_with_codes_as_text_and_is_adopted_back(package, tmp_path, caplog):
    """Excel opens a CSV's 17-digit IDs as numbers of 15 digits (…000000); a workbook's
    text cells keep them, and its cells sheet is adopted back as the cells it was. A
    polygon longer as WKT than a cell holds is refused, naming it, and nothing is written."""
    import openpyxl

    book = tmp_path / "pkg.xlsx"
    written = export_package(package, book, layers=["cells", "components"])
    assert [(w.layer, w.path, w.features) for w in written] == [("cells", book, 106), ("components", book, 2)]
    sheets = openpyxl.load_workbook(book, read_only=True)
    assert sheets.sheetnames == ["cells", "components"]
    rows = list(sheets["components"].iter_rows(values_only=True))
    assert rows == [("GLBJBSM", "class_name", "X", "Y"), ("11010101001000001", "上水井盖", 500_050, 4_400_050),
                    ("11010101001000002", "路灯", 500_150, 4_400_300)]
    cells = gpd.read_file(package, layer="cells")
    assert [row[0] for row in sheets["cells"].iter_rows(min_row=2, values_only=True)] == cells["grid_id"].tolist()
    assert [(p.name, p.value) for p in sheets.custom_doc_props] == [("CRS", "EPSG:4548")]  # the CRS, said inside
    sheets.close()
    adopted = CliRunner().invoke(cli, ["grid", "adopt", str(book), "--layer", "cells",
                                       "-o", str(tmp_path / "adopted.gpkg")])
    assert adopted.exit_code == 0, adopted.output
    back = gk.read_package(tmp_path / "adopted.gpkg")[0]
    assert back["grid_id"].tolist() == cells["grid_id"].tolist()
    assert shapely.equals_exact(back.geometry.values, cells.geometry.values, tolerance=1e-6).all()
    # imported back, its components sheet is read, not the cells before it (polygons as WKT: no points)
    # (into a copy of the package, whose two components were added by hand: no source, no source row,
    # which the import into pandas's integers once failed on)
    grid = shutil.copy(package, tmp_path / "grid.gpkg")
    imported = CliRunner().invoke(cli, ["components", "import", str(book), "--grid", str(grid), "--json"])
    assert imported.exit_code == 0, imported.output
    assert "the first sheet 'cells' holds shapes, not points; reading sheet 'components'" in caplog.text
    (summary,) = json.loads(imported.stdout)
    assert (summary["rows"], summary["imported"], summary["rejected"]) == (2, 2, 0)
    assert read_catalogue(grid)[["GLBJBSM", "source", "source_row"]].values.tolist() == [
        ["11010101001000001", "pkg", 2], ["11010101001000002", "pkg", 3]]  # the sheet's rows, below its header
    wavy = community_frame([shapely.Point(500_000, 4_400_000).buffer(100, quad_segs=300)])
    gk.write_package(tmp_path / "wavy.gpkg", gk.unit_grid(wavy), wavy)
    with pytest.raises(InputError, match=r"wavy\.gpkg: units feature 1 \(110101\) is longer as WKT than an Excel "
                                         r"cell holds \(32,767 characters; 3 feature\(s\) of the layer\): export the "
                                         r"layer as \.csv, \.gpkg or \.geojson, or leave it out"):
        export_package(tmp_path / "wavy.gpkg", tmp_path / "wavy.xlsx", layers=["all"])
    assert not (tmp_path / "wavy.xlsx").exists() and not list(tmp_path.glob(".wavy*"))


def test_refusals(package, tmp_path):
    with pytest.raises(InputError, match=r"unknown format '\.txt'"):
        export_package(package, tmp_path / "a.txt")
    with pytest.raises(InputError, match=r"GeoJSON holds longitude/latitude, not EPSG:4548"):
        export_package(package, tmp_path / "a.geojson", crs="EPSG:4548")
    with pytest.raises(InputError, match=r"unknown encoding 'GB-2312x': give one Python knows"):
        export_package(package, tmp_path / "a.shp", encoding="GB-2312x")
    assert not (tmp_path / "a.shp").exists()
    with pytest.raises(InputError, match=r"an encoding is a Shapefile's choice"):
        export_package(package, tmp_path / "a.geojson", encoding="GBK")
    with pytest.raises(InputError, match=r"has no micro_grids layer \(it has cells, units, components\)"):
        export_package(package, tmp_path / "a.gpkg", layers=["micro_grids"])
    with pytest.raises(InputError, match=r"no feature in layer cells matches --where \"street_code = 'x'\""):
        export_package(package, tmp_path / "a.gpkg", where="street_code = 'x'")
    with pytest.raises(InputError, match=r"no such column: street_code\)\. It is an OGR SQL WHERE clause over the "
                                         r"columns of layer 'units' \(level, code, name, parent_code, provisional"):
        export_package(package, tmp_path / "a.gpkg", layers=["all"], where="street_code = '110101001'")
    with pytest.raises(InputError, match=r"single quotes\. The filter applies to every layer exported \(cells, units, "
                                         r"components\): name with --layer \(layers=\) those whose columns it uses$"):
        export_package(package, tmp_path / "a.gpkg", layers=["all"], where="street_code = '110101001'")
    assert not (tmp_path / "a.gpkg").exists()
    old = tmp_path / "old.geojson"
    old.write_text("keep me")
    with pytest.raises(FileExistsError):
        export_package(package, old)
    assert old.read_text() == "keep me"
    # A CSV's .prj replaces no Shapefile's, and another only with overwrite
    export_package(package, tmp_path / "old.shp", crs="EPSG:4326")
    shp_prj = (tmp_path / "old.prj").read_text()
    assert export_package(package, tmp_path / "old.csv", overwrite=True)[0].prj is None
    assert (tmp_path / "old.csv").exists() and (tmp_path / "old.prj").read_text() == shp_prj
    assert gpd.read_file(tmp_path / "old.shp").crs == "EPSG:4326"
    (tmp_path / "mine.prj").write_text("a note")
    with pytest.raises(FileExistsError, match=r"mine\.prj exists \(the CSV's CRS goes there\); pass --overwrite"):
        export_package(package, tmp_path / "mine.csv")
    assert not (tmp_path / "mine.csv").exists() and (tmp_path / "mine.prj").read_text() == "a note"


def test_cli_export(package, tmp_path):
    from gridkit.export import EXPORT_LAYERS, FIELD_NAMINGS
    from gridkit_cli.export import _LAYERS, export_command

    assert _LAYERS == (*EXPORT_LAYERS, "all")
    [fields] = [p for p in export_command.params if p.name == "fields"]
    assert tuple(fields.type.choices) == FIELD_NAMINGS
    out = tmp_path / "street.shp"
    result = CliRunner().invoke(cli, ["export", str(package), "--layer", "cells", "--layer", "units",
                                      "--where", "provisional = 0", "-o", str(out)])
    assert result.exit_code == 0, result.output
    cells = gpd.read_file(package, layer="cells")
    assert f"cells              {len(cells):>9,} → {tmp_path / 'street_cells.shp'} (EPSG:4548)" in result.output
    assert "community_code → comm_code" in result.output
    again = CliRunner().invoke(cli, ["export", str(package), "--layer", "cells", "-o", str(tmp_path / "street_cells.shp")])
    assert again.exit_code == 2 and "exists; pass --overwrite" in again.output
    csv = CliRunner().invoke(cli, ["export", str(package), "--layer", "cells", "-o", str(tmp_path / "street_cells.csv")])
    assert f"→ {tmp_path / 'street_cells.csv'} (EPSG:4548; no .prj: street_cells.prj is the Shapefile's; read it " \
        "back with --crs EPSG:4548 (as locate's grid, --grid-crs EPSG:4548))" in csv.output
    csv = CliRunner().invoke(cli, ["export", str(package), "--layer", "cells", "-o", str(tmp_path / "cells.csv")])
    assert f"→ {tmp_path / 'cells.csv'} (EPSG:4548, said in cells.prj)\n" in csv.output
    # GCJ-02 has no label that says it (EPSG:4326 would read it back 500 m off): none, and
    # an earlier export's goes
    assert export_package(package, tmp_path / "amap.csv", crs="EPSG:4326")[0].prj == tmp_path / "amap.prj"
    for out in ("amap.xlsx", "amap.csv"):
        csv = CliRunner().invoke(cli, ["export", str(package), "--crs", "gcj02", "-o", str(tmp_path / out),
                                       "--overwrite"])
        assert csv.exit_code == 0 and gk.io.table_crs(tmp_path / out) is None
    assert "amap.csv (GCJ-02, labelled EPSG:4326; no .prj, which cannot name it: read it back with --crs gcj02 " \
        "(as locate's grid, --grid-crs gcj02))" \
        in csv.output
    assert not (tmp_path / "amap.prj").exists()
    gcj = CliRunner().invoke(cli, ["export", str(package), "--crs", "gcj02", "-o", str(tmp_path / "amap.geojson")])
    assert gcj.exit_code == 0 and "(GCJ-02, labelled EPSG:4326)" in gcj.output
    back = gk.read_vector(tmp_path / "amap.geojson", crs="gcj02").to_crs(4548)
    assert shapely.hausdorff_distance(back.geometry.values, cells.geometry.values).max() < 0.02


def test_a_cell_without_geometry_goes_to_flatgeobuf_without_its_spatial_index(package, tmp_path, caplog):
    """A cell whose polygon was deleted in QGIS ended `export -o x.fgb` (and
    write_vector to .fgb) in pyogrio's "NULL geometry not supported with spatial
    index". The layer is written without the index, with a warning, every cell
    kept; a layer whose cells all have a polygon keeps its index."""
    edited = tmp_path / "edited.gpkg"
    edited.write_bytes(package.read_bytes())
    cells = gpd.read_file(edited, layer="cells")
    cells.loc[1, "geometry"] = None  # as QGIS saves a cell whose polygon was deleted
    pyogrio.write_dataframe(cells, edited, layer="cells", driver="GPKG")
    with caplog.at_level("WARNING"):
        [written] = export_package(edited, tmp_path / "cells.fgb")
        gk.io.write_vector(cells, tmp_path / "direct.fgb")
    assert [r.getMessage() for r in caplog.records] == [
        f"1 of the features of {name} has no geometry: FlatGeobuf's spatial index cannot hold them, so it is written "
        "without one (`gridkit check` names them)" for name in ("cells", "direct.fgb")]
    for path in (written.path, tmp_path / "direct.fgb"):
        back = gpd.read_file(path)
        assert back["grid_id"].tolist() == cells["grid_id"].tolist() and back.geometry.isna().tolist() == [
            i == 1 for i in range(len(cells))]
    export_package(package, tmp_path / "whole.fgb")
    assert pyogrio.read_info(tmp_path / "whole.fgb")["capabilities"]["fast_spatial_filter"]
    assert not pyogrio.read_info(tmp_path / "cells.fgb")["capabilities"]["fast_spatial_filter"]


@pytest.mark.filterwarnings("ignore:Self-intersection:RuntimeWarning")  # GDAL's, as it refuses the layer
def test_units_whose_sliver_holes_cross_themselves_in_degrees_export_to_kmz(tmp_path, samples, monkeypatch):
    """Cambridge's neighbourhoods do not quite meet: the street and county, their
    union, keep 11 sliver holes a few centimetres across, valid in metres but
    crossing themselves in degrees. GDAL's LIBKML writer refused them, and
    `export --layer all -o cambridge.kmz` ended in a traceback. Now such polygons
    are made valid again after reprojection, their area unchanged."""
    package = tmp_path / "cambridge.gpkg"
    made = CliRunner().invoke(cli, ["grid", "units", str(samples / "cambridge_neighborhoods.gpkg"), "--provisional",
                                    "--parent-code", "990101", "--name-field", "NAME", "-o", str(package)])
    assert made.exit_code == 0, made.output
    units = gpd.read_file(package, layer="units")
    assert shapely.is_valid(units.geometry.values).all()
    assert (~shapely.is_valid(units.to_crs(4326).geometry.values)).sum() == 2  # the street and the county
    export_package(package, tmp_path / "units.kmz", layers=["units"])
    back = gk.read_vector(tmp_path / "units.kmz")
    assert len(back) == len(units) == 15 and shapely.is_valid(back.geometry.values).all()
    assert np.allclose(shapely.area(back.to_crs(units.crs).geometry.values), shapely.area(units.geometry.values),
                       rtol=1e-6)
    # Any layer GDAL refuses (here the same units without the repair) is an error naming the file, the layer
    # and GDAL's words cut short, where a traceback printed the whole feature; nothing is left written.
    monkeypatch.setattr("gridkit.export._still_valid", lambda before, after: after)
    with pytest.raises(InputError) as error:
        export_package(package, tmp_path / "refused.kmz", layers=["units"])
    said = str(error.value)
    assert said.startswith(f"{tmp_path / 'refused.kmz'}: GDAL could not write layer units as KMZ (Error while "
                           "writing batch to OGR layer: Cannot translate feature:"), said
    assert len(said) < len(str(tmp_path)) + 350, said
    assert not (tmp_path / "refused.kmz").exists()


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".fgb", ".parquet"])
def test_a_gcj02_export_is_marked_and_read_back_as_gcj02_by_every_reader(package, tmp_path, suffix, caplog):
    caplog.set_level("INFO")
    cells = gpd.read_file(package, layer="cells")
    out, comps = tmp_path / f"amap{suffix}", tmp_path / f"amap_components{suffix}"
    export_package(package, out, crs="gcj02")
    export_package(package, comps, layers=["components"], crs="bd09")
    label = gpd.read_parquet(out).crs if suffix == ".parquet" else gpd.read_file(out, layer="cells").crs
    assert label.equals(4326)  # labelled as the platforms expect …
    assert (gk.io.marked_crs(out), gk.io.marked_crs(comps)) == ("gcj02", "bd09")  # … and marked
    # read_vector (grid adopt, map …) takes the mark as --crs gcj02: the cells where they were
    back = gk.read_vector(out).set_index("grid_id").loc[cells["grid_id"]]  # (FlatGeobuf's in its index's order)
    assert back.attrs["source_crs"] == "gcj02" and "marked by gridkit export as GCJ-02" in caplog.text
    assert shapely.hausdorff_distance(back.to_crs(4548).geometry.values, cells.geometry.values).max() < 0.02
    # --crs still overrides it: read as WGS84, the cells are ~500 m off
    wrong = gk.read_vector(out, crs="EPSG:4326").set_index("grid_id").loc[cells["grid_id"]].to_crs(4548)
    assert shapely.hausdorff_distance(wrong.geometry.values, cells.geometry.values).min() > 100
    # locate --grid: every cell's inner point in its own cell, as against the package
    inner = shapely.point_on_surface(cells.geometry.values)
    located = Locator.from_package(out, cache=False).locate_many(shapely.get_x(inner), shapely.get_y(inner), crs=4548)
    assert located.grid_id.tolist() == cells["grid_id"].tolist()
    # an exported components layer, located or imported: where the package has them
    frame, x, y, source = read_inventory(comps)
    order = np.argsort(frame["GLBJBSM"].to_numpy())
    assert source == "bd09" and frame["GLBJBSM"].to_numpy()[order].tolist() == ["11010101001000001",
                                                                              "11010101001000002"]
    wgs = gpd.GeoSeries(gpd.points_from_xy(*bd09_to_wgs84(x[order], y[order])), crs=4326).to_crs(4548)
    assert np.allclose(shapely.get_coordinates(wgs.values), [(500_050, 4_400_050), (500_150, 4_400_300)], atol=0.1)


def test_what_has_no_place_for_the_mark_is_not_marked(package, tmp_path):
    for name, crs in (("amap.shp", "gcj02"), ("amap.kml", "gcj02"), ("gps.geojson", "EPSG:4326"),
                      ("gps.gpkg", "EPSG:4326"), ("gps.parquet", "EPSG:4326")):
        export_package(package, tmp_path / name, crs=crs)
        assert gk.io.marked_crs(tmp_path / name) is None, name
    assert gk.read_vector(tmp_path / "gps.geojson").attrs["source_crs"] == "EPSG:4326"


def test_cells_with_no_place_for_the_mark_given_as_grid_are_warned_of_with_the_way_to_read_them(package, tmp_path,
                                                                                                   caplog):
    """A GCJ-02 export to .shp (labelled EPSG:4326) or .csv (read as it) given as
    --grid: the Shapefile's cells were read ~500 m off without a word, and the CSV's
    warning said --crs gcj02, which is the points' CRS in locate; --grid has none.
    Each time: once the index was kept beside the file, the next run read no file and
    said nothing. Once: near_edge, which reads the cells again, said it twice."""
    for name in ("amap.shp", "amap.csv"):
        export_package(package, tmp_path / name, crs="gcj02")
        for built in (True, False):  # read, then loaded from the index kept beside it
            caplog.clear()
            loc = Locator.from_package(tmp_path / name)
            at = gpd.GeoSeries([shapely.Point(500_050, 4_400_050)], crs=4548).to_crs(4326)
            # where the cells read as labelled put that point: its GCJ-02 lon/lat
            x, y = loc.to_layout_xy(*wgs84_to_gcj02(at.x.to_numpy(), at.y.to_numpy()), "EPSG:4326")
            index = loc.cell_index(x, y)[0]
            assert index[0] >= 0 and loc.near_edge(x, y, index, 60)[0][0] >= 0  # (the cells read again)
            assert gk.locator.index_path(tmp_path / name).exists()
            assert caplog.text.count("lies in China") == 1 and (
                'If it came from Amap, Tencent or a Chinese boundary download, give --grid-crs gcj02 (in Python, '
                'Locator.from_package(path, crs="gcj02")).'
            ) in caplog.text, (built, caplog.text)
    caplog.clear()
    Locator.from_package(package, cache=False)  # a package is what it says
    assert "lies in China" not in caplog.text


def test_a_dask_worker_loads_the_grid_without_giving_its_warnings_again(package, tmp_path, caplog):
    """The run gives a file's warnings once, as it makes the index; each dask worker
    that loaded the index gave them again on its own stderr (locate --dask said the
    GCJ-02 warning twice, and more with more workers)."""
    from gridkit.batch import _locate_partition, _worker_locator

    path = tmp_path / "gps.geojson"
    export_package(package, path, crs="EPSG:4326")
    cells = gpd.read_file(package, layer="cells")
    inner = gpd.GeoSeries(shapely.point_on_surface(cells.geometry.values[:1]), crs=4548).to_crs(4326)
    caplog.clear()
    loc = Locator.from_package(path)  # the run, up front
    assert caplog.text.count("lies in China") == 1
    _worker_locator.cache_clear()  # as a worker process starts
    caplog.clear()
    part = pd.DataFrame({"lon": inner.x.to_numpy(), "lat": inner.y.to_numpy()})
    done = _locate_partition(part, path, 0.0, (None, "grid_id", None), "lon", "lat", "EPSG:4326", None, None,
                             "component")
    assert loc.values("grid_id")[done["gk_cell"]].tolist() == cells["grid_id"].iloc[:1].tolist()
    assert "lies in China" not in caplog.text, caplog.text


def test_cells_in_gcj02_or_without_a_crs_are_located_with_the_crs_given_for_them(package, tmp_path, caplog):
    """--grid-crs (from_package's crs): locate --grid had no CRS option, so cells
    exported for Amap (labelled EPSG:4326) were read ~500 m off, and a Shapefile
    without its .prj was refused with "set one (e.g. ogr2ogr -a_srs)", which cannot
    say GCJ-02. Given, each cell's inner point is located in that cell; a package,
    which says its own CRS, is refused one."""
    cells = gpd.read_file(package, layer="cells")
    inner = shapely.point_on_surface(cells.geometry.values)
    x, y = shapely.get_x(inner), shapely.get_y(inner)
    for name in ("amap.shp", "amap.csv"):
        export_package(package, tmp_path / name, crs="gcj02")
        as_labelled = Locator.from_package(tmp_path / name).locate_many(x, y, crs=4548)
        assert (as_labelled.grid_id != cells["grid_id"]).sum() > len(cells) / 2, name  # ~500 m off
        caplog.clear()
        given = Locator.from_package(tmp_path / name, crs="gcj02").locate_many(x, y, crs=4548)
        assert given.grid_id.tolist() == cells["grid_id"].tolist(), name
        assert "lies in China" not in caplog.text  # said what it is: no warning
    (tmp_path / "amap.prj").unlink()
    with pytest.raises(gk.CRSError, match="amap.shp: the cells have no CRS; say what their coordinates are in with "
                                          "--grid-crs: EPSG:4326 .GPS/WGS84 lon/lat., gcj02"):
        Locator.from_package(tmp_path / "amap.shp")
    unlabelled = Locator.from_package(tmp_path / "amap.shp", crs="gcj02")
    assert unlabelled.locate_many(x, y, crs=4548).grid_id.tolist() == cells["grid_id"].tolist()
    export_package(package, tmp_path / "gps.geojson", crs="EPSG:4326")
    with pytest.raises(gk.CRSError, match="its coordinates are longitude/latitude .* so they cannot be in EPSG:4548"):
        Locator.from_package(tmp_path / "gps.geojson", crs="EPSG:4548")  # labelled lon/lat: metres meant elsewhere
    with pytest.raises(InputError, match="pkg.gpkg: a grid package says what CRS its cells are in; leave out the "
                                         "grid's CRS .--grid-crs gcj02."):
        Locator.from_package(package, crs="gcj02")
    # the CLI, one point and a file: in the cell the package gives
    first = cells["grid_id"].iloc[0]
    lon, lat = gpd.GeoSeries(inner[:1], crs=4548).to_crs(4326).geometry.iloc[0].coords[0]
    one = CliRunner().invoke(cli, ["locate", "--at", f"{lon},{lat}", "--grid", str(tmp_path / "amap.shp"),
                                   "--grid-crs", "gcj02", "--json"])
    assert one.exit_code == 0 and json.loads(one.output)["grid_id"] == first, one.output
    pd.DataFrame({"lon": [lon], "lat": [lat]}).to_csv(tmp_path / "one.csv", index=False)
    file = CliRunner().invoke(cli, ["locate", str(tmp_path / "one.csv"), "--grid", str(tmp_path / "amap.shp"),
                                    "--grid-crs", "gcj02", "-o", str(tmp_path / "located.csv")])
    assert file.exit_code == 0, file.output
    assert pd.read_csv(tmp_path / "located.csv", dtype=str)["gk_grid_id"].tolist() == [first]
    # and a dask worker's step (locate --dask --grid-crs)
    from gridkit.batch import _locate_partition

    part = pd.DataFrame({"lon": [lon], "lat": [lat]})
    done = _locate_partition(part, tmp_path / "amap.shp", 0.0, (None, "grid_id", "gcj02"), "lon", "lat",
                             "EPSG:4326", None, None, "component")
    assert unlabelled.values("grid_id")[done["gk_cell"]].tolist() == [first]  # (its cell's row)


def test_layers_as_one_name_or_none_and_styles_written_to_no_geopackage(package, tmp_path):
    """layers="cells" was read letter by letter ("layer 'c' is not a layer gridkit
    exports"), layers=() an IndexError; write_styles gave a CSV a styles table
    and a missing file a DataSourceError."""
    from gridkit.styles import write_styles

    [done] = export_package(package, tmp_path / "cells.fgb", layers="cells")
    assert len(gpd.read_file(done.path)) == len(gpd.read_file(package, layer="cells"))
    with pytest.raises(InputError, match=r"^no layer to export: name one or more of cells, "):
        export_package(package, tmp_path / "none.fgb", layers=())
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    for path in (table, tmp_path / "nosuch.gpkg"):
        with pytest.raises(InputError, match=r": no GeoPackage; styles are written into a grid package \(\.gpkg\)$"):
            write_styles(path)
    assert table.read_text() == "a\n1\n"


def test_write_package_refuses_extra_names_that_replace_its_own(tmp_path):
    """extra_layers={"cells": …} replaced the cells just written, and
    extra_metadata={"crs": "junk"} the CRS every reader takes the package's to be."""
    communities = community_frame([STRIP])
    cells = gk.unit_grid(communities)
    with pytest.raises(InputError, match=r"extra_layers \['cells'\] would replace the package's own layers"):
        gk.write_package(tmp_path / "a.gpkg", cells, communities, extra_layers={"cells": cells.iloc[:1]})
    with pytest.raises(InputError, match=r"extra_metadata \['crs'\] would replace what write_package records"):
        gk.write_package(tmp_path / "b.gpkg", cells, communities, extra_metadata={"crs": "junk"})
    assert list(tmp_path.iterdir()) == []


def test_to_crs_names_a_layer_without_a_crs_or_no_frame():
    """A layer with no CRS was an AttributeError ('NoneType' object has no
    attribute 'equals'), a list another."""
    from gridkit.errors import CRSError
    from gridkit.export import to_crs

    layer = gpd.GeoDataFrame(geometry=[shapely.Point(116.391275, 39.906217)])
    with pytest.raises(CRSError, match=r"^the layer has no CRS: give it the one its coordinates are in"):
        to_crs(layer, "gcj02")
    with pytest.raises(InputError, match=r"^the layer is a list, not a GeoDataFrame$"):
        to_crs([1], "gcj02")
    assert to_crs(layer.set_crs(4326), "EPSG:4326").crs.equals(4326)
