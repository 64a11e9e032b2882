import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gridkit as gk
from gridkit.errors import CRSError, InputError
from gridkit.io import atomic_path, detect_dbf_encoding

from .conftest import SAMPLES


def test_no_crs_is_an_error_that_says_how(tmp_path):
    path = tmp_path / "nocrs.shp"  # a shapefile without .prj: the usual case
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="--crs EPSG:4326"):
        gk.read_vector(path)
    assert gk.read_vector(path, crs="EPSG:4326").crs.to_epsg() == 4326


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"a": []}, geometry=[], crs=4326).to_file(path)
    with pytest.raises(InputError, match="no features"):
        gk.read_vector(path)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        gk.read_vector(tmp_path / "nope.gpkg")
    (tmp_path / "x.dwg").write_text("hello")
    with pytest.raises(InputError, match=r"x\.dwg: unknown format '\.dwg'; use one of"):
        gk.read_vector(tmp_path / "x.dwg")
    (tmp_path / "x.txt").write_text("hello")  # a table: read when it has a WKT column
    with pytest.raises(InputError, match=r"x\.txt: no column of WKT geometry \(named wkt, wkt_geom, geometry …\) among "
                                         "hello; a table of points"):
        gk.read_vector(tmp_path / "x.txt")


def test_a_missing_layer_names_the_layers_there_are(tmp_path):
    path = tmp_path / "two.gpkg"
    for name in ("streets", "districts"):
        gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(path, layer=name)
    with pytest.raises(InputError, match="no layer 'blocks'; the file's layers are: streets, districts"):
        gk.read_vector(path, layer="blocks")
    assert len(gk.read_vector(path, layer="districts")) == 1



def test_a_layer_asked_of_a_file_without_layers_is_refused_not_ignored(tmp_path):
    """A CSV or Parquet holds one table: --households-layer blocks on one was ignored,
    and the table read as though it were the blocks. Its own name (GDAL's name for
    its one layer) still passes."""
    from gridkit.catalogue import read_inventory, read_points
    from gridkit.locator import Locator

    cells = gpd.GeoDataFrame({"grid_id": ["110101001001001"]}, geometry=[shapely.box(116.3, 39.8, 116.5, 40.0)],
                             crs=4326)
    cells.to_parquet(tmp_path / "cells.parquet")
    cells.to_wkt().to_csv(tmp_path / "cells.csv", index=False)
    pd.DataFrame({"lon": [116.4], "lat": [39.9]}).to_csv(tmp_path / "homes.csv", index=False)
    pd.DataFrame({"lon": [116.4], "lat": [39.9]}).to_parquet(tmp_path / "homes.parquet")
    (tmp_path / "parts").mkdir()
    pd.DataFrame({"lon": [116.4], "lat": [39.9]}).to_parquet(tmp_path / "parts" / "part-0.parquet")
    reads = {"cells.parquet": gk.read_vector, "cells.csv": gk.read_vector, "homes.csv": read_points,
             "homes.parquet": read_points, "parts": read_inventory}
    for name, read in reads.items():
        kind = "CSV" if name.endswith("csv") else "Parquet"
        with pytest.raises(InputError, match=rf"{name}: a {kind} file holds one table and no layers, so "
                                             "--households-layer blocks names none; leave --households-layer out"):
            read(tmp_path / name, layer="blocks", where_option="--households-where")
        read_whole = read(tmp_path / name, layer=name.split(".")[0])
        assert len(read_whole[0] if isinstance(read_whole, tuple) else read_whole) == 1
    from gridkit.catalogue import read_table  # components convert --layer

    with pytest.raises(InputError, match="homes.csv: a CSV file holds one table and no layers, so --layer blocks"):
        read_table(tmp_path / "homes.csv", layer="blocks")
    for name in ("cells.parquet", "cells.csv"):
        with pytest.raises(InputError, match="--grid-layer blocks names none"):
            Locator.from_package(tmp_path / name, layer="blocks")
        found = Locator.from_package(tmp_path / name, layer="cells").locate(116.4, 39.9, crs=4326)
        assert found.grid_id == "110101001001001"

def test_where_keeps_the_file_s_feature_numbers(shared, tmp_path):
    """The Beijing/Zhoushan file holds the province and city outlines around its
    districts (codes ending in 00): ``where`` leaves them out, and a message about a
    feature still gives the number it has in the file (Zhoushan city is its 19th)."""
    path = shared / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg"
    districts = gk.read_vector(path, crs="gcj02", where="adcode NOT LIKE '%00'")
    assert len(districts) == 20 and not districts["adcode"].str.endswith("00").any()
    assert districts.attrs["source_rows"].tolist() == [*range(3, 19), *range(20, 24)]
    two = gk.read_vector(path, crs="gcj02", where="adcode IN ('110101', '330900')")
    with pytest.raises(gk.errors.CodeError, match=r"^1 feature\(s\) with a missing or malformed 'adcode': feature 19: "
                                                   r"330900 is a province or prefecture code.*--where \"adcode NOT LIKE"):
        gk.unit_hierarchy(two, code_field="adcode")
    geojson = tmp_path / "d.geojson"  # GeoJSON numbers its features from 0: rows still count from 1
    districts.iloc[:3].to_file(geojson)
    assert gk.read_vector(geojson, where="adcode <> '110102'").attrs["source_rows"].tolist() == [1, 3]
    with pytest.raises(InputError, match=r"--where 'levle = 1' is not a filter GDAL understands .*columns \(adcode, "
                                         r"province, city, district, level, source\)"):
        gk.read_vector(path, where="levle = 1")
    with pytest.raises(InputError, match=r"\(Invalid SQL query for layer 'd': 'levle = 1'\)"):  # pyogrio: 'b'd''
        gk.read_vector(geojson, where="levle = 1")
    with pytest.raises(InputError, match=r"no feature matches --where \"level = 'x'\""):
        gk.read_vector(path, where="level = 'x'")


def test_where_on_geoparquet_means_what_it_means_on_a_geopackage(shared, tmp_path):
    """GDAL here reads no Parquet, so a GeoParquet's ``where`` goes through an
    in-memory GeoPackage: the same features, numbers and messages as the file it
    came from; a column called fid stays a column."""
    path = shared / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg"
    parquet = tmp_path / "districts.parquet"
    every = gk.read_vector(path)
    every.assign(fid=np.arange(len(every))[::-1]).to_parquet(parquet)
    for where in ("adcode NOT LIKE '%00'", "level = '区县' AND adcode < '110110'", "fid IN (0, 1)"):
        if where.startswith("fid"):
            expected = [len(every) - 1, len(every)]  # the last two rows, by the user's column
        else:
            expected = gk.read_vector(path, where=where).attrs["source_rows"].tolist()
        got = gk.read_vector(parquet, where=where)
        assert got.attrs["source_rows"].tolist() == expected
        assert got["adcode"].tolist() == every["adcode"].iloc[np.array(expected) - 1].tolist()
    assert len(gk.read_vector(parquet, where="adcode NOT LIKE '%00'")) == 20
    with pytest.raises(InputError, match=rf"{parquet}: --barriers-where 'levle = 1' is not a filter GDAL understands "
                                         r".*columns \(adcode, province, city, district, level, source, fid\)"):
        gk.read_vector(parquet, where="levle = 1", where_option="--barriers-where")
    with pytest.raises(InputError, match=r"no feature matches --where \"level = 'x'\""):
        gk.read_vector(parquet, where="level = 'x'")


def test_where_on_a_frame_of_every_kind_of_column():
    """Nullable integers and booleans, categories, zoned dates, Parquet lists, bytes:
    each filtered as its values read, missing values as NULL."""
    import pandas as pd

    from gridkit.io import rows_where

    frame = pd.DataFrame({
        "a": pd.array([1, None, 3], dtype="Int64"), "b": pd.array([True, None, False], dtype="boolean"),
        "c": pd.Categorical(["x", "y", "x"]), "d": pd.to_datetime(["2020-01-01", "2021-01-01", None]).tz_localize("UTC"),
        "e": [[1, 2], [3], None], "f": [1.5, np.nan, 2.5], "g": pd.array(["p", None, "q"], dtype="string"),
        "h": [b"ab", b"c", None]})
    cases = {"a >= 1": [0, 2], "b = 1": [0], "c = 'x'": [0, 2], "d > '2020-06-01'": [1], "f > 2": [2],
             "g IS NULL": [1], "e LIKE '%3%'": [1], "h IS NOT NULL": [0, 1], "a IS NULL AND b IS NULL": [1]}
    assert {where: rows_where(frame, where, "t.parquet").tolist() for where in cases} == cases


def test_gbk_shapefile_without_cpg_is_detected(tmp_path, caplog):
    """GBK is detected (as GB18030) without a word; BIG5, which GB18030 also decodes,
    as other characters, is warned about, naming --encoding."""
    path = tmp_path / "gbk.shp"
    names = ["东城区", "东华门街道", "多福巷社区"]
    gpd.GeoDataFrame({"name": names}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)],
                     crs=4326).to_file(path, encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    raw = path.with_suffix(".dbf").read_bytes()
    assert "东城区".encode("gbk") in raw  # really GBK on disk
    with caplog.at_level("WARNING", logger="gridkit"):
        assert detect_dbf_encoding(path.with_suffix(".dbf")) == "GB18030"
        assert gk.read_vector(path)["name"].tolist() == names
        assert not caplog.records
        big5 = tmp_path / "big5.shp"
        gpd.GeoDataFrame({"名稱": ["中正區", "大安區", "信義區"]}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)],
                         crs=4326).to_file(big5, encoding="BIG5", engine="pyogrio")
        big5.with_suffix(".cpg").unlink(missing_ok=True)
        assert detect_dbf_encoding(big5.with_suffix(".dbf")) == "GB18030"
        [warning] = caplog.records
    assert warning.getMessage() == (f"{big5.with_suffix('.dbf')}: read as GB18030 (GBK), but 3 of its 11 non-ASCII "
                                    "characters are private-use ones, which GBK text rarely holds: it is likely in "
                                    "another encoding; give it with --encoding (BIG5 for Taiwan and Hong Kong)")
    assert list(gk.read_vector(big5, encoding="BIG5")["名稱"]) == ["中正區", "大安區", "信義區"]


def test_where_over_a_chinese_column_of_a_gbk_shapefile_says_to_quote_it(tmp_path):
    """OGR SQL reads a column named 名称 only in double quotes. Unquoted, the error
    listed a GBK Shapefile's (no .cpg) columns as GDAL read them, in mojibake
    ('Ãû³Æ'), and did not say to quote; it lists them as read and says so."""
    path = tmp_path / "zh.shp"
    gpd.GeoDataFrame({"名称": ["东城区", "西城区"], "adcode": ["110101", "110102"]}, crs=4326,
                     geometry=[shapely.box(i, 0, i + 1, 1) for i in range(2)]).to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    with pytest.raises(InputError) as raised:
        gk.read_vector(path, where="名称 = '西城区'")
    assert str(raised.value).endswith(
        "It is an OGR SQL WHERE clause over the file's columns (名称, adcode), e.g. \"level = '区县'\" or \"adcode NOT "
        "LIKE '%00'\"; quote text values with single quotes, and a column whose name is not Latin letters, digits "
        "and _ with double quotes: \"名称\"")
    assert gk.read_vector(path, where="\"名称\" = '西城区'")["adcode"].tolist() == ["110102"]
    with pytest.raises(InputError) as plain:
        gk.read_vector(path, where="adcode = ")
    assert str(plain.value).endswith("quote text values with single quotes")


def test_pseudo_crs_converts_to_wgs84(samples):
    labelled = gk.read_vector(samples / "dongcheng_gcj02.gpkg")
    fixed = gk.read_vector(samples / "dongcheng_gcj02.gpkg", crs="gcj02")
    assert fixed.attrs["source_crs"] == "gcj02"
    metric = 4548
    shift = labelled.to_crs(metric).centroid.distance(fixed.to_crs(metric).centroid).iloc[0]
    assert 400 < shift < 700  # GCJ-02 is ~550 m off WGS84 in Beijing




@pytest.mark.parametrize("pseudo", ["gcj02", "bd09"])
def test_pseudo_crs_long_edges_follow_the_offset(tmp_path, pseudo):
    # A 10 km straight edge over Beijing, as an Amap (Baidu) user drew it: each
    # point along it is converted, not only its ends, so its middle is where
    # converting the middle point itself puts it.
    west, east, lat = 116.30, 116.4195, 39.90
    path = tmp_path / f"edge_{pseudo}.gpkg"
    edge = shapely.LineString([(west, lat), (east, lat)])
    gpd.GeoDataFrame({"a": [1]}, geometry=[edge], crs=4326).to_file(path)
    read = gk.read_vector(path, crs=pseudo).geometry.iloc[0]
    to_wgs84 = gk.coords.gcj02_to_wgs84 if pseudo == "gcj02" else gk.coords.bd09_to_wgs84
    assert len(read.coords) == 61  # 0.1195° in 60 pieces of at most 0.002°
    mx, my = (float(v[0]) for v in to_wgs84(np.array([(west + east) / 2]), np.array([lat])))
    metric = gpd.GeoSeries([read, shapely.Point(mx, my)], crs=4326).to_crs(4548)
    assert metric.iloc[0].distance(metric.iloc[1]) < 0.01
    ends = shapely.LineString([read.coords[0], read.coords[-1]])
    ends_only = gpd.GeoSeries([ends, shapely.Point(mx, my)], crs=4326).to_crs(4548)
    assert ends_only.iloc[0].distance(ends_only.iloc[1]) > 0.5  # what cutting the edge saves


def test_a_lonlat_crs_given_for_a_file_in_metres_is_refused(tmp_path):
    """gcj02 or EPSG:4326 given for a file whose every feature is in metres names the
    file, its coordinates and its label; one feature that could be lon/lat is left to
    the checks that name features; a projected CRS given is the user's call."""
    path = tmp_path / "homes.gpkg"
    homes = gpd.GeoDataFrame({"n": [1, 2]}, crs=4548,
                             geometry=[shapely.Point(450000, 4420000), shapely.box(451000, 4421000, 451500, 4421500)])
    homes.to_file(path)
    for crs in ("gcj02", "EPSG:4326"):
        with pytest.raises(CRSError, match=rf"homes\.gpkg: its coordinates are not longitude/latitude \(x 450,000 to "
                                           rf"451,500, y 4,420,000 to 4,421,500\), so they cannot be in {crs}, the CRS "
                                           r"given for it; it is labelled EPSG:4548\. Give it the projected CRS's"):
            gk.read_vector(path, crs=crs)
    assert gk.read_vector(path, crs="EPSG:4547").crs.to_epsg() == 4547
    mixed = tmp_path / "mixed.gpkg"
    gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(116.4, 39.9), shapely.Point(450000, 4420000)],
                     crs=4326).to_file(mixed)
    assert len(gk.read_vector(mixed, crs="gcj02")) == 2


def test_longitude_and_latitude_the_wrong_way_round_are_named(tmp_path, samples):
    """Dongcheng with x and y swapped (x 39.9, y 116.4): given --crs gcj02, it was
    "not longitude/latitude … give the projected CRS's EPSG code"; labelled EPSG:4326,
    "a projected file labelled as lon/lat?". Both now say they are the wrong way round
    and how to swap them (the first, instead of asking for a projected CRS)."""
    dongcheng = gk.io.read_vector(samples / "dongcheng_gcj02.gpkg")
    dongcheng.geometry = shapely.transform(dongcheng.geometry.values, lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.gpkg"
    dongcheng.to_file(path)
    swapped = ("Its x values look like latitudes and its y values like longitudes: the coordinates are the wrong way "
               "round. Swap them (QGIS: Swap X and Y coordinates; for a table, give its x column as y and y as x)")
    with pytest.raises(CRSError) as given:
        gk.read_vector(path, crs="gcj02")
    assert str(given.value) == (f"{path}: its coordinates are not longitude/latitude (x 40 to 40, y 116 to 116), so "
                                "they cannot be in gcj02, the CRS given for it; it is labelled EPSG:4326. " + swapped)
    with pytest.raises(CRSError) as labelled:
        gk.unit_hierarchy(gk.read_vector(path), code_field="adcode", provisional=True)
    assert "a projected file labelled as lon/lat?" in str(labelled.value)
    assert str(labelled.value).endswith(". " + swapped)


def test_a_projected_crs_given_for_a_lonlat_file_is_refused(tmp_path, samples, caplog):
    """Dongcheng (labelled EPSG:4326, in degrees) with --crs EPSG:4548 was read as
    metres: a speck 0.1 m across, gridded into one cell of area 0 with no word.
    The file, its label and ranges are named, and --metric-crs as what was likely
    meant. A file with no label, or one whose label is wrong (a feature in metres),
    is still read in the CRS given: in degrees, with a warning that they lie far
    outside the area the CRS is for; in metres, with none."""
    with pytest.raises(CRSError, match=r"dongcheng_gcj02\.gpkg: it is labelled EPSG:4326 and its coordinates are "
                                       r"longitude/latitude \(x 116\.3771 to 116\.4524, y 39\.8586 to 39\.9740\), so "
                                       r"they cannot be in EPSG:4548, a projected CRS in metres, .* the CRS to work in "
                                       r"is --metric-crs"):
        gk.read_vector(samples / "dongcheng_gcj02.gpkg", crs="EPSG:4548")
    points = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(116.4, 39.9), shapely.Point(116.5, 39.8)])
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        points.to_file(tmp_path / "bare.shp")  # no .prj
    with caplog.at_level("WARNING", logger="gridkit"):
        assert gk.read_vector(tmp_path / "bare.shp", crs="EPSG:4548").crs.to_epsg() == 4548
        [warning] = caplog.records
        assert warning.getMessage() == (
            f"{tmp_path / 'bare.shp'}: its coordinates look like longitude/latitude (x 116.4000 to 116.5000, y 39.8000 "
            "to 39.9000) and, read in EPSG:4548, lie far outside the area that CRS is for (China - onshore between "
            "115°30'E and 118°30'E); it has no CRS label. If they are degrees, give a lon/lat CRS (EPSG:4326, gcj02, "
            "bd09) and work in EPSG:4548 with --metric-crs")
        caplog.clear()
        mislabelled = points.set_geometry([shapely.Point(116.4, 39.9), shapely.Point(450000, 4420000)], crs=4326)
        mislabelled.to_file(tmp_path / "mislabelled.gpkg")
        assert gk.read_vector(tmp_path / "mislabelled.gpkg", crs="EPSG:4548").crs.to_epsg() == 4548
        metres = points.set_geometry([shapely.Point(450000, 4420000), shapely.Point(451000, 4421000)])
        with pytest.warns(UserWarning, match="'crs' was not provided"):
            metres.to_file(tmp_path / "metres.shp")
        assert gk.read_vector(tmp_path / "metres.shp", crs="EPSG:4548").crs.to_epsg() == 4548
        assert not caplog.records


def test_a_lonlat_file_labelled_with_a_projected_crs_is_refused(tmp_path, samples, caplog):
    """Dongcheng's degrees labelled EPSG:3857 or EPSG:4547 (a wrong .prj, a CRS
    assigned by mistake) were read as metres: a speck at (0, 0), gridded into one
    cell of area 0 with no word. A registered CRS is refused, naming the file, its
    label and ranges, and the way round (--crs with the label, which is then read
    as given); a custom CRS (a city's own grid, origin in town) only warns."""
    dongcheng = gk.read_vector(samples / "dongcheng_gcj02.gpkg")
    for epsg in (3857, 4547):
        path = tmp_path / f"labelled{epsg}.gpkg"
        dongcheng.set_crs(epsg, allow_override=True).to_file(path)
        with pytest.raises(CRSError, match=rf"labelled{epsg}\.gpkg: it is labelled EPSG:{epsg}, a projected CRS in "
                                           r"metres, but its coordinates look like longitude/latitude \(x 116\.3771 to "
                                           r"116\.4524, y 39\.8586 to 39\.9740\): read as metres, the whole file lies "
                                           r"within 200 m of the point \(0, 0\)\. If they are degrees, .*gcj02 for "
                                           r"Amap"):
            gk.read_vector(path)
        assert gk.read_vector(path, crs=f"EPSG:{epsg}").crs.to_epsg() == epsg
        assert gk.read_vector(path, crs="gcj02").crs.to_epsg() == 4326
    local = dongcheng.set_crs("+proj=tmerc +lat_0=39.9 +lon_0=116.4 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m",
                              allow_override=True)
    local.to_file(tmp_path / "local.gpkg")
    caplog.clear()
    with caplog.at_level("WARNING", logger="gridkit"):
        assert len(gk.read_vector(tmp_path / "local.gpkg")) == 1
    [warning] = caplog.records
    assert "local.gpkg: it is labelled " in warning.getMessage()
    assert "within 200 m of the point (0, 0)" in warning.getMessage()
    metres = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(450000, 4420000)], crs=4547)
    metres.to_file(tmp_path / "metres.gpkg")
    assert gk.read_vector(tmp_path / "metres.gpkg").crs.to_epsg() == 4547


def test_gauss_krueger_metres_read_in_the_other_zone_crs_are_refused_and_unlabelled_ones_named(tmp_path, samples):
    """Survey data writes Gauss–Krüger x with the zone number in front (39,448,929:
    zone 39, EPSG:4527) or without (448,929: CM 117°E, EPSG:4548). Read in the other
    CRS (given, or a wrong .prj), a district became a package 39,000 km from Earth
    ("extent inf°E–inf°W"), gridded without a word. Now it is refused, naming the
    CRS that places it; a file without a CRS is told which CRS its numbers look like."""
    dongcheng = gk.read_vector(samples / "dongcheng_gcj02.gpkg").to_crs(4548)
    bare = dongcheng.set_crs(None, allow_override=True)
    zoned = bare.set_geometry(bare.geometry.translate(39_000_000, 0))
    for frame, name, wrong, right in ((zoned, "zoned", 4548, 4527), (bare, "bare", 4527, 4548)):
        path = tmp_path / f"{name}.shp"
        frame.set_crs(wrong).to_file(path)
        path.with_suffix(".prj").unlink()  # a Shapefile without .prj: no CRS
        has = "has the" if right == 4527 else "has no"
        with pytest.raises(CRSError, match=rf"{name}\.shp: read in EPSG:{wrong} \(it has no CRS label\), its "
                                           rf"coordinates \(x .*\) lie far outside the area that CRS is for, and in "
                                           rf"EPSG:{right} \(CGCS2000 / 3-degree Gauss-Kruger .*\), whose x {has} "
                                           rf"zone number in front, they lie inside it: give --crs EPSG:{right} "):
            gk.read_vector(path, crs=f"EPSG:{wrong}")
        assert gk.read_vector(path, crs=f"EPSG:{right}").crs.to_epsg() == right
        labelled = tmp_path / f"{name}_labelled.gpkg"
        frame.set_crs(wrong).to_file(labelled)
        with pytest.raises(CRSError, match=rf"read in EPSG:{wrong} \(it is labelled EPSG:{wrong}\)"):
            gk.read_vector(labelled)
        assert gk.read_vector(labelled, crs=f"EPSG:{right}").crs.to_epsg() == right
    hints = {"zoned": r"\. Its x has the zone number 39 in front: EPSG:4527 \(CGCS2000 / 3-degree Gauss-Kruger zone "
                      r"39\) or EPSG:2363 \(Xian 1980 / 3-degree Gauss-Kruger zone 39\)$",
             "bare": r"\. Its coordinates look like Gauss–Krüger metres without the zone number \(x 500,000 on the "
                     r"central meridian\): CGCS2000's 3-degree zones are EPSG:4534 \(75°E\) to EPSG:4554 \(135°E\)"}
    for name, hint in hints.items():
        with pytest.raises(CRSError, match=r"the file has no CRS\. .*" + hint):
            gk.read_vector(tmp_path / f"{name}.shp")
    # A survey table's X (northing) and Y (easting): the hint says they are swapped.
    from gridkit.io import crs_hint

    box = np.array([[4_413_852.0, 39_446_175.0, 4_426_661.0, 39_452_634.0]])
    assert crs_hint(box) == (
        ". Its x looks like a northing and its y like an easting, the other way round from GIS (a survey table's X "
        "is the northing): give them swapped. Its y has the zone number 39 in front: EPSG:4527 (CGCS2000 / "
        "3-degree Gauss-Kruger zone 39) or EPSG:2363 (Xian 1980 / 3-degree Gauss-Kruger zone 39)")
    assert crs_hint(np.array([[0.0, 0.0, 1.0, 1.0]])) == ""  # degrees, or a local grid: nothing to say


def test_baidu_mercator_given_for_other_coordinates_is_refused_and_baidus_metres_are_named(tmp_path, samples):
    """--crs bd09mc for Gauss–Krüger metres put the district in the Atlantic, for
    degrees in the Gulf of Guinea: refused, saying what the numbers look like. Baidu's
    metres given a lon/lat CRS, or none, are named as such."""
    from gridkit import coords
    from gridkit.io import crs_hint

    dongcheng = gk.read_vector(samples / "dongcheng_gcj02.gpkg", crs="gcj02")
    for frame, name in ((dongcheng.to_crs(4548), "gk"), (dongcheng, "degrees")):
        with pytest.warns(UserWarning, match="'crs' was not provided"):  # a file with no CRS, as meant
            frame.set_crs(None, allow_override=True).to_file(tmp_path / f"{name}.shp")
        (tmp_path / f"{name}.prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match=r"gk\.shp: read in bd09mc \(Baidu's Mercator metres\), its coordinates \(x "
                                       r"446,175 to 452,634, y 4,413,852 to 4,426,661\) lie around 4\.04°, 37\.05°, "
                                       r"outside China, "
                                       r"where Baidu's coordinates are; it has no CRS label\. Give the CRS they are "
                                       r"in\. "
                                       r"Its coordinates look like Gauss–Krüger metres without the zone number"):
        gk.read_vector(tmp_path / "gk.shp", crs="bd09mc")
    with pytest.raises(CRSError, match=r"lie around 0\.00°, 0\.00°, outside China, where Baidu's coordinates are; it "
                                       r"has no CRS label\. They look like longitude/latitude: --crs bd09 for "
                                       r"Baidu's$"):
        gk.read_vector(tmp_path / "degrees.shp", crs="bd09mc")
    mx, my = coords.wgs84_to_bd09mc(*dongcheng.total_bounds.reshape(2, 2).T)
    box = np.array([[mx[0], my[0], mx[1], my[1]]])
    assert crs_hint(box) == ". " + coords.MERCATOR_HINT
    assert crs_hint(box - [0, 0, 0, 3_000_000]) == ""  # y 1.8 M above x: no box
    middle = shapely.centroid(dongcheng.geometry.values)
    baidu = dongcheng.set_geometry(
        shapely.points(*coords.wgs84_to_bd09mc(shapely.get_x(middle), shapely.get_y(middle))), crs=None)
    baidu.to_file(tmp_path / "baidu.shp")
    (tmp_path / "baidu.prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match=r"so they cannot be in gcj02, the CRS given for it; .* or no CRS to read it as "
                                       r"labelled\. As Mercator metres they lie in China: Baidu's own \(bd09mc"):
        gk.read_vector(tmp_path / "baidu.shp", crs="gcj02")
    back = gk.read_vector(tmp_path / "baidu.shp", crs="bd09mc").geometry.values
    assert shapely.distance(back, middle).max() < 1e-8  # degrees: under a millimetre


def test_labelled_crs_reads_the_header_alone(tmp_path):
    """A GeoPackage's label; a GeoParquet's, where no ``crs`` key means lon/lat and a
    null one none; nothing for a table or a file that is not there."""
    import json

    import pyarrow.parquet as pq

    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(450000, 4420000)], crs=4548)
    frame.to_file(tmp_path / "a.gpkg")
    frame.to_parquet(tmp_path / "a.parquet")
    assert gk.io.labelled_crs(tmp_path / "a.gpkg").to_epsg() == 4548
    assert gk.io.labelled_crs(tmp_path / "a.parquet").to_epsg() == 4548
    table = pq.read_table(tmp_path / "a.parquet")
    geo = json.loads(table.schema.metadata[b"geo"])
    for crs, expected in (("absent", 4326), ("null", None)):
        column = geo["columns"]["geometry"]
        column.pop("crs", None)
        if crs == "null":
            column["crs"] = None
        pq.write_table(table.replace_schema_metadata({"geo": json.dumps(geo)}), tmp_path / f"{crs}.parquet")
        got = gk.io.labelled_crs(tmp_path / f"{crs}.parquet")
        assert (got.to_epsg() if got is not None else None) == expected
    (tmp_path / "t.csv").write_text("lon,lat\n116.4,39.9\n")
    assert gk.io.labelled_crs(tmp_path / "t.csv") is None and gk.io.labelled_crs(tmp_path / "none.gpkg") is None


def test_atomic_path_leaves_existing_file_untouched_on_failure(tmp_path):
    target = tmp_path / "out.gpkg"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="--overwrite"):
        with atomic_path(target):
            pass
    with pytest.raises(RuntimeError):
        with atomic_path(target, overwrite=True) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"]


def test_atomic_path_takes_a_shapefile_as_all_its_files(tmp_path):
    """A .dbf without its .shp is refused as existing; a Shapefile replaced loses
    the side files the new one lacks (QGIS's .qix index of the old features, an
    OUT.DBF beside the new out.dbf), and keeps its style."""
    target = tmp_path / "out.shp"
    (tmp_path / "out.dbf").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match=r"out.dbf \(a part of the Shapefile out.shp\) exists; pass --overwrite"):
        with atomic_path(target):
            pass
    for name in ("out.shp", "out.qix", "OUT.DBF", "out.qml", "out.cpg", "outer.dbf"):
        (tmp_path / name).write_bytes(b"old")
    with atomic_path(target, overwrite=True) as tmp:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            tmp.with_suffix(suffix).write_bytes(b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.dbf", "out.prj", "out.qml", "out.shp", "out.shx",
                                                          "outer.dbf"]
    assert (tmp_path / "out.dbf").read_bytes() == b"new" and (tmp_path / "out.qml").read_bytes() == b"old"


def _located_frame():
    """Five rows as a located file has them: input text, categoricals (one missing),
    a column with no value at all, numbers."""
    return pd.DataFrame({
        "id": pd.Series(["a", "b", "c", "d", "e"], dtype="str"),
        "gk_grid_id": pd.Categorical(["110101001001004", None, "110101001001005", "110101001001004",
                                      "110101001001005"]),
        "note": [None] * 5,
        "count": np.array([1, 2, 3, 4, 5], dtype="int64"),
        "gk_distance_m": [0.0, np.nan, 2.5, 0.0, 1.0],
    })


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".parquet"])
def test_write_points_streams_batches_into_one_layer(tmp_path, monkeypatch, suffix):
    """Three batches of two rows make one layer with every row, value and point, as
    if written at once; the Parquet's bounding box covers every batch."""
    import json

    import pyarrow.parquet as pq
    import pyogrio

    monkeypatch.setattr(gk.io, "WRITE_BATCH", 2)
    frame = _located_frame()
    x, y = np.array([116.40, 116.41, 116.42, 116.43, 116.44]), np.array([39.90, 39.91, 39.92, 39.93, 39.94])
    out = tmp_path / f"located{suffix}"
    gk.io.write_points(frame, x, y, out, crs=4326, layer="located")
    got = gpd.read_parquet(out) if suffix == ".parquet" else pyogrio.read_dataframe(out, layer=0)
    assert got.crs.to_epsg() == 4326 and len(got) == 5
    assert got["id"].tolist() == ["a", "b", "c", "d", "e"]
    assert got["gk_grid_id"].astype(object).where(got["gk_grid_id"].notna(), None).tolist() == [
        "110101001001004", None, "110101001001005", "110101001001004", "110101001001005"]
    assert got["note"].isna().all() and got["count"].tolist() == [1, 2, 3, 4, 5]
    assert np.array_equal(got["gk_distance_m"].to_numpy(), frame["gk_distance_m"].to_numpy(), equal_nan=True)
    assert np.array_equal(got.geometry.x, x) and np.array_equal(got.geometry.y, y)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    if suffix == ".parquet":
        geo = json.loads(pq.read_schema(out).metadata[b"geo"])["columns"]["geometry"]
        assert geo["bbox"] == [116.40, 39.90, 116.44, 39.94] and geo["geometry_types"] == ["Point"]
    if suffix == ".gpkg":
        assert pyogrio.list_layers(out)[:, 0].tolist() == ["located"]


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_write_points_failing_in_a_later_batch_leaves_the_old_file(tmp_path, monkeypatch, suffix):
    """The first batch is already in the temporary file when the second fails: the
    file there before is untouched, and no temporary file is left."""
    monkeypatch.setattr(gk.io, "WRITE_BATCH", 2)
    out = tmp_path / f"located{suffix}"
    out.write_bytes(b"precious")
    made = []

    def point_wkb(x, y):
        made.append(len(x))
        if len(made) == 2:
            raise RuntimeError("disk full")
        return gk.io.point_wkb.__wrapped__(x, y)

    point_wkb.__wrapped__ = gk.io.point_wkb
    monkeypatch.setattr(gk.io, "point_wkb", point_wkb)
    with pytest.raises(RuntimeError, match="disk full"):  # the batch's own error, not GDAL's
        gk.io.write_points(_located_frame(), np.zeros(5), np.zeros(5), out, crs=4326, overwrite=True)
    assert made == [2, 2] and out.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_file_read_without_its_layer_warns_when_it_has_more(shared, samples, caplog):
    """The first layer is read, and the warning names every layer with geometry."""
    with caplog.at_level(logging.WARNING, logger="gridkit.io"):
        nodes = gk.read_vector(shared / "shenzhen_futian" / "futian_osm_network.gpkg")
        assert len(nodes) == 1751 and set(nodes.geom_type) == {"Point"}
        gk.read_vector(samples / "cincinnati_blocks.gpkg")  # one layer: nothing to say
    more = [r.getMessage() for r in caplog.records if "layers" in r.getMessage()]
    assert more == [f"{shared / 'shenzhen_futian' / 'futian_osm_network.gpkg'} has 2 layers: nodes (Point), edges "
                    "(LineString). Read the first, nodes; name the layer to read another (the command's --layer "
                    "option for this file, or layer= in Python)"]


def _zip(path, files, names=None):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for i, file in enumerate(files):
            archive.write(file, names[i] if names else file.name)
    return path


def test_a_zipped_shapefile_is_read_inside_its_archive(tmp_path, samples, caplog):
    """As portals and e-mail deliver them, and as QGIS opens them: a GBK Shapefile
    with no .cpg, zipped from its folder (so in a subfolder, where GDAL does not look
    by itself), reads with its Chinese names and its label; a zip of two Shapefiles
    is two layers; where=, the layer named and the point inventory reader work on it."""
    from gridkit.catalogue import read_inventory
    from gridkit.io import labelled_crs

    dongcheng = gk.read_vector(samples / "dongcheng_gcj02.gpkg")
    dongcheng.to_file(tmp_path / "dc.shp", encoding="GBK")
    (tmp_path / "dc.cpg").unlink()
    parts = sorted(tmp_path.glob("dc.*"))
    archive = _zip(tmp_path / "dongcheng.zip", parts, [f"东城/{p.name}" for p in parts])
    read = gk.read_vector(archive, crs="gcj02")
    assert read["district"].tolist() == ["东城区"] and read.attrs["source_crs"] == "gcj02"
    assert shapely.equals_exact(read.geometry[0], gk.read_vector(samples / "dongcheng_gcj02.gpkg", crs="gcj02")
                                .geometry[0], tolerance=1e-9)
    assert labelled_crs(archive).to_epsg() == 4326

    homes = gpd.GeoDataFrame({"n": [1, 2, 3]}, crs=4548, geometry=[shapely.Point(450000 + 10 * i, 4420000)
                                                                   for i in range(3)])
    homes.to_file(tmp_path / "a.shp")
    homes.iloc[:1].to_file(tmp_path / "b.shp")
    two = _zip(tmp_path / "two.zip", sorted(tmp_path.glob("a.*")) + sorted(tmp_path.glob("b.*")))
    with caplog.at_level("WARNING", logger="gridkit"):
        assert len(gk.read_vector(two)) == 3
    assert "two.zip has 2 layers: a (Point), b (Point). Read the first, a" in caplog.text
    assert len(gk.read_vector(two, layer="b")) == 1
    assert gk.read_vector(two, layer="a", where="n >= 2").attrs["source_rows"].tolist() == [2, 3]
    with pytest.raises(InputError, match=r"two\.zip: no layer 'c'; the file's layers are: a, b"):
        gk.read_vector(two, layer="c")
    frame, x, y, crs = read_inventory(two, layer="a")
    assert (len(frame), x.tolist(), crs.to_epsg()) == (3, [450000, 450010, 450020], 4548)


def test_a_zip_that_holds_no_vector_data_is_named(tmp_path):
    (tmp_path / "points.csv").write_text("lon,lat\n116.4,39.9\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"csv\.zip: the zip archive holds no vector file gridkit reads inside one "
                                         r"\(points\.csv\); unzip it and give the file itself"):
        gk.read_vector(_zip(tmp_path / "csv.zip", [tmp_path / "points.csv"]))
    (tmp_path / "fake.zip").write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputError, match=r"fake\.zip: not a zip archive that can be read"):
        gk.read_vector(tmp_path / "fake.zip")
    homes = gpd.GeoDataFrame({"n": [1]}, crs=4548, geometry=[shapely.Point(450000, 4420000)])
    homes.to_file(tmp_path / "a.shp")
    parts = sorted(tmp_path.glob("a.*"))
    folders = _zip(tmp_path / "folders.zip", parts * 2, [f"{d}/{p.name}" for d in ("x", "y") for p in parts])
    with pytest.raises(InputError, match=r"folders\.zip: the zip archive holds vector files in 2 folders \(x/a\.shp, "
                                         r"y/a\.shp\); unzip it"):
        gk.read_vector(folders)
    # read, not written: a .zip or .kml output is an unknown format, as before
    from gridkit.io import write_vector

    for name in ("out.zip", "out.kml"):
        with pytest.raises(InputError, match=rf"out\.{name[4:]}: unknown format '\.{name[4:]}'; use one of \.fgb"):
            write_vector(homes, tmp_path / name)


def test_kml_kmz_and_heights(tmp_path):
    """KML and KMZ (Google Earth, the field apps) are read as lon/lat; heights (KML's
    altitude, a surveyed or CAD Shapefile's z) are dropped, the features kept."""
    import pyogrio

    square = shapely.box(116.40, 39.90, 116.41, 39.91)
    frame = gpd.GeoDataFrame({"Name": ["东四", "朝阳门"]}, crs=4326,  # a placemark's name
                             geometry=shapely.force_3d([square, shapely.Point(116.43, 39.92)], 44.0))
    pyogrio.write_dataframe(frame, tmp_path / "drawn.kml", driver="LIBKML")
    _zip(tmp_path / "drawn.kmz", [tmp_path / "drawn.kml"], ["doc.kml"])
    for name in ("drawn.kml", "drawn.kmz"):
        read = gk.read_vector(tmp_path / name)
        assert read.crs.to_epsg() == 4326 and not shapely.has_z(read.geometry.values).any()
        assert read["Name"].tolist() == ["东四", "朝阳门"]
        assert read.columns.tolist() == ["Name", "geometry"]  # not GDAL's dozen placemark columns, none set
        assert shapely.equals_exact(read.geometry.values, np.array([square, shapely.Point(116.43, 39.92)]),
                                    tolerance=1e-9).all()
    # A KMZ of one document with its fields (a Schema's SimpleData, as GDAL's KML writer and Google Earth
    # put them) and an icon: LIBKML given the .kmz read no field but Name; the document inside has them all
    coded = frame.assign(code=["110101001001", "110101001002"], households=np.array([120, 0], dtype=np.int32))
    pyogrio.write_dataframe(coded, tmp_path / "coded.kml", driver="KML")
    (tmp_path / "icon.png").write_bytes(b"\x89PNG")
    _zip(tmp_path / "coded.kmz", [tmp_path / "coded.kml", tmp_path / "icon.png"], ["doc.kml", "files/icon.png"])
    read = gk.read_vector(tmp_path / "coded.kmz")
    assert read[["Name", "code", "households"]].values.tolist() == [["东四", "110101001001", 120],
                                                                    ["朝阳门", "110101001002", 0]]
    # LIBKML's own KMZ (a doc.kml linking to layers/LAYER.kml) is read as it is
    pyogrio.write_dataframe(coded, tmp_path / "linked.kmz", driver="LIBKML", layer="coded")
    assert gk.read_vector(tmp_path / "linked.kmz")["code"].tolist() == ["110101001001", "110101001002"]
    # a placemark column that one placemark sets is kept; GDAL's own ids (layer.N) are not
    noted = frame.assign(description=["", "东门外"], id=["drawn.1", "drawn.2"])
    pyogrio.write_dataframe(noted, tmp_path / "noted.kml", driver="LIBKML")
    assert gk.read_vector(tmp_path / "noted.kml").columns.tolist() == ["Name", "description", "geometry"]
    points = frame.assign(geometry=shapely.force_3d(shapely.points([(116.42, 39.92), (116.43, 39.92)]), 44.0))
    points.to_crs(4548).to_file(tmp_path / "survey.shp", encoding="UTF-8")
    survey = gk.read_vector(tmp_path / "survey.shp", where="Name = '朝阳门'")
    assert not survey.has_z.any() and survey.attrs["source_rows"].tolist() == [2]


def test_a_kml_of_folders_is_read_whole_with_each_feature_s_folder(tmp_path, caplog):
    """Communities drawn in Google Earth (or Ovital) in two folders, 东片 and 西片:
    GDAL reads each folder as a layer, and only the first was read (with a warning),
    so `grid units` gridded half the area. Now every folder is read, and each feature
    keeps its folder; --layer still reads one, and a --where numbers features through
    the folders in file order."""
    boxes = [shapely.box(116.40 + 0.01 * k, 39.90, 116.41 + 0.01 * k, 39.91) for k in range(5)]
    folders = '<Folder><name>东片</name>{}</Folder><Folder><name>空</name></Folder><Folder><name>西片</name>{}</Folder>'
    placemarks = ["".join(f"<Placemark><name>c{k}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
                          + " ".join(f"{x},{y},0" for x, y in boxes[k].exterior.coords)
                          + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>" for k in ks)
                  for ks in ((0, 1, 2), (3, 4))]
    (tmp_path / "drawn.kml").write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/'
                                        f'kml/2.2"><Document>{folders.format(*placemarks)}</Document></kml>',
                                        encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="gridkit.io"):
        read = gk.read_vector(tmp_path / "drawn.kml")
    assert read[["Name", "folder"]].values.tolist() == [["c0", "东片"], ["c1", "东片"], ["c2", "东片"],
                                                        ["c3", "西片"], ["c4", "西片"]]
    assert shapely.equals_exact(read.geometry.values, np.array(boxes), tolerance=1e-9).all()
    assert read.crs.to_epsg() == 4326 and read.attrs["source_path"] == str(tmp_path / "drawn.kml")
    assert f"{tmp_path / 'drawn.kml'}: its 3 folders read as one layer (东片 3, 西片 2); the command's --layer " \
           "option reads one" in caplog.messages
    assert not [m for m in caplog.messages if "Read the first" in m]
    assert gk.read_vector(tmp_path / "drawn.kml", layer="西片")["Name"].tolist() == ["c3", "c4"]
    kept = gk.read_vector(tmp_path / "drawn.kml", where="Name IN ('c1', 'c4')")
    assert kept["Name"].tolist() == ["c1", "c4"] and kept.attrs["source_rows"].tolist() == [2, 5]


def test_a_table_of_lon_lat_in_china_is_read_as_epsg4326_not_labelled(tmp_path, caplog):
    """A table has no CRS label: the GCJ-02 warning says its lon/lat are read as
    EPSG:4326 (it said the file "is labelled EPSG:4326"); a file with a label says so."""
    from gridkit.catalogue import read_points

    table = tmp_path / "reports.csv"
    table.write_text("id,lon,lat\n1,116.41,39.91\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="gridkit"):
        read_points(table)
        gk.read_vector(SAMPLES / "dongcheng_gcj02.gpkg")
    said = [m.split(" and lies in China")[0] for m in caplog.messages if "lies in China" in m]
    assert said == [f"{table} is read as EPSG:4326", f"{SAMPLES / 'dongcheng_gcj02.gpkg'} is labelled EPSG:4326"]


@pytest.mark.parametrize("name, head, said", [
    ("export.xls", "\ufeff<html><table><tr><td>经度</td></tr></table></html>".encode(),
     "a web page named .xls (a system's 导出Excel writes its table so), not a workbook: open it in Excel or WPS "
     "and save it as an Excel workbook, export.xlsx (文件 › 另存为), or as CSV UTF-8"),
    ("tabs.xls", "编号\t经度\t纬度\n1\t116.41\t39.91\n".encode("gbk"),
     "a table of text named .xls, its columns split by tabs: rename it tabs.tsv"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "cannot be read as a workbook ("),
    ("book.xlsx", b"PK\x03\x04" + bytes(60), "cannot be read as a workbook ("),
    ("book.et", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "cannot be read as a workbook ("),
    ("empty.ods", b"", "the file is empty (0 bytes), not a workbook"),
])
def test_a_spreadsheet_gridkit_cannot_read_is_named_by_what_it_is(tmp_path, name, head, said):
    """A file named as a workbook that is none, or one damaged, told by its first
    bytes: each error says what the file is and what to do, for points (locate,
    households) and for inventories alike."""
    from gridkit.catalogue import read_inventory, read_points

    path = tmp_path / name
    path.write_bytes(head)
    for read in (read_points, read_inventory):
        with pytest.raises(InputError) as error:
            read(path)
        assert str(error.value).startswith(f"{path}: {said}")


def test_a_workbook_written_shows_dates_as_dates_and_keeps_a_time_zone_as_text(tmp_path):
    """Dates and times were written as Excel's day numbers (46346.33), and a column
    with a time zone (a GPX track's UTC times) crashed the writer. Now dates show as
    dates (yyyy-mm-dd, with the time where there is one), and zoned times are the
    text a CSV holds, their offset kept."""
    import datetime as dt

    import openpyxl

    from gridkit.io import write_workbook

    times = pd.to_datetime(["2026-11-20 08:30:00", "2026-11-21 00:00:00"])
    table = pd.DataFrame({"time": times, "day": times.normalize(), "surveyed": [dt.date(2026, 7, 1), None],
                          "utc": times.tz_localize("UTC"), "n": [1, 2]})
    write_workbook([("points", table)], tmp_path / "dates.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "dates.xlsx")["points"].iter_rows(min_row=2))
    assert [[cell.value for cell in row] for row in rows] == [
        [dt.datetime(2026, 11, 20, 8, 30), dt.datetime(2026, 11, 20), dt.datetime(2026, 7, 1),
         "2026-11-20 08:30:00+00:00", 1],
        [dt.datetime(2026, 11, 21), dt.datetime(2026, 11, 21), None, "2026-11-21 00:00:00+00:00", 2]]
    assert [cell.number_format for cell in rows[0][:3]] == ["yyyy-mm-dd hh:mm:ss", "yyyy-mm-dd", "yyyy-mm-dd"]


def test_a_workbook_written_shows_times_of_day_and_durations_and_mixed_offsets_as_text(tmp_path):
    """A GeoJSON's time field (08:30:00) reads as times of day, and was written as
    Excel's fraction of a day (0.354); durations the same. A column of dates whose
    offsets differ, which pandas keeps as objects, crashed XlsxWriter. Now times
    show as hh:mm:ss, durations as [h]:mm:ss, and such dates are text, offsets kept."""
    import datetime as dt

    import openpyxl

    from gridkit.io import write_workbook

    east, utc = dt.timezone(dt.timedelta(hours=8)), dt.timezone.utc
    table = pd.DataFrame({"at": [dt.time(8, 30), None], "took": pd.to_timedelta(["1h30min", "26h"]),
                          "seen": [dt.datetime(2026, 11, 20, 8, tzinfo=east), dt.datetime(2026, 11, 20, tzinfo=utc)],
                          "note": ["late", dt.datetime(2026, 11, 20, tzinfo=utc)]})
    write_workbook([("patrol", table)], tmp_path / "times.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "times.xlsx")["patrol"].iter_rows(min_row=2))
    assert [[cell.value for cell in row] for row in rows] == [
        [dt.time(8, 30), dt.timedelta(hours=1, minutes=30), "2026-11-20 08:00:00+08:00", "late"],
        [None, dt.timedelta(hours=26), "2026-11-20 00:00:00+00:00", "2026-11-20 00:00:00+00:00"]]
    assert [cell.number_format for cell in rows[0][:2]] == ["hh:mm:ss", "[h]:mm:ss"]


def test_gpx_reads_its_waypoints_or_the_layer_named_without_gdal_s_empty_columns(tmp_path, caplog):
    """GPX, as GPS units and field apps save a survey's waypoints and a patrol's
    track, was an unknown format. The first point layer that holds points is read
    (the waypoints), a warning naming the others; --layer reads another. GDAL's GPX
    columns that no point sets are left out, and it is not warned as maybe GCJ-02:
    a receiver writes WGS84."""
    path = tmp_path / "patrol.gpx"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="gridkit test" xmlns="http://www.topografix.com/GPX/1/1">
  <wpt lat="39.9" lon="116.41"><name>消防栓 1</name></wpt>
  <wpt lat="39.91" lon="116.42"><name>消防栓 2</name></wpt>
  <trk><name>patrol</name><trkseg>
    <trkpt lat="39.9" lon="116.41"><ele>45</ele><time>2026-11-20T00:30:00Z</time></trkpt>
    <trkpt lat="39.905" lon="116.415"><ele>46</ele><time>2026-11-20T00:31:00Z</time></trkpt>
    <trkpt lat="39.91" lon="116.42"><ele>45</ele><time>2026-11-20T00:32:00Z</time></trkpt>
  </trkseg></trk>
</gpx>
""", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        marked = gk.io.read_vector(path)
    assert marked["name"].tolist() == ["消防栓 1", "消防栓 2"] and list(marked.columns) == ["name", "geometry"]
    assert marked.crs.to_epsg() == 4326
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "reading the waypoints; name another with the command's --layer option (track_points)"]
    assert "2 waypoints and 3 track points" in caplog.records[0].getMessage()
    walked = gk.io.read_vector(path, layer="track_points")
    assert len(walked) == 3 and list(walked.columns) == ["track_fid", "track_seg_id", "track_seg_point_id", "ele",
                                                         "time", "geometry"]
    path.write_text('<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
                    "</gpx>", encoding="utf-8")
    with pytest.raises(InputError, match="the GPX file holds no waypoint, route point or track point"):
        gk.io.read_vector(path)


def test_a_workbook_written_keeps_text_that_looks_like_a_formula_a_number_or_a_link(tmp_path):
    """A remark typed as "=1+1" (or "=HYPERLINK(…)" from an inventory) was written
    as a formula: Excel would run it, and the copy read back held an empty cell, the
    remark lost. Written now as the text it is, as are a code with leading zeros, a
    17-digit ID, a number-like text and a link; numbers stay numbers, blanks empty."""
    import openpyxl

    from gridkit.catalogue import read_table
    from gridkit.io import write_workbook

    table = pd.DataFrame({"GLBJBSM": ["11010101001000001", "11010101001000002"], "BZ": ["=1+1", "=HYPERLINK(\"x\")"],
                          "code": ["0012", "1e5"], "link": ["http://example.cn/a", None], "n": [3, 4.5]})
    path = tmp_path / "book.xlsx"
    write_workbook([("components", table)], path, crs="EPSG:4548")
    sheet = openpyxl.load_workbook(path)["components"]
    assert [[cell.data_type for cell in row] for row in sheet.iter_rows(min_row=2)] == [
        ["s", "s", "s", "s", "n"], ["s", "s", "s", "n", "n"]]  # openpyxl reads an empty cell as "n"
    back = read_table(path)
    assert back.fillna("").values.tolist() == [["11010101001000001", "=1+1", "0012", "http://example.cn/a", "3"],
                                               ["11010101001000002", "=HYPERLINK(\"x\")", "1e5", "", "4.5"]]
    assert gk.io.table_crs(path).to_epsg() == 4548
    # a text an Excel cell cannot hold is refused, not cut at 32,767 characters
    with pytest.raises(InputError, match=r"cut\.xlsx: sheet components, row 3: a text longer than the 32,767 "):
        write_workbook([("components", table.assign(BZ=["ok", "长" * 40_000]))], tmp_path / "cut.xlsx")
    assert not (tmp_path / "cut.xlsx").exists()


#: CSVs Arrow's reader reads (first) and those it leaves to pandas' reader.
ARROW_CSVS = {"codes": "id,lon,lat\n0123,116.4,39.9\n2,1e2,39.8\n",
              "quoted": 'id,name,lon,lat\n1,"a, b",116.4,39.9\n2,"line\nbreak",116.5,39.8\n3,"",1,2\n4,,1,2\n',
              "bom": "\ufeffid,lon,lat\n1,2,3\n", "crlf": "id,lon,lat\r\n1,2,3\r\n4,5,6\r\n",
              "cjk": "编号,经度,纬度\n井盖,116.4,39.9\n", "semicolon": "id;lon;lat\n1;116,4;39,9\n",
              "spaces": "id,lon,lat\n  a ,  116.4 ,39.9\n", "words": "id,lon,lat\nNA,null,N/A\nnan,NaN,-\n",
              "above": "report\nmade 2026\nid,lon,lat\n1,2,3\n", "header only": "id,lon,lat\n",
              "quote in": 'id,lon,lat\n1,"2""x",3\n', "blank end": "id,lon,lat\n1,2,3\n\n\n"}
PANDAS_CSVS = {"repeated name": "id,id,lat\n1,2,3\n", "short row": "id,lon,lat\n1,2\n4,5,6\n",
               "blank line": "id,lon,lat\n1,2,3\n   \n4,5,6\n"}


@pytest.mark.parametrize("name", [*ARROW_CSVS, *PANDAS_CSVS, "gb18030"])
def test_a_csv_reads_as_pandas_reads_it_every_column_as_text(tmp_path, name):
    """Arrow's reader gives the frame pandas' reader gives (``dtype=str``, a blank
    or "" missing); a file it cannot read so (a repeated name, a short row, a
    line of spaces, GB18030 text) is left to pandas' reader."""
    from pathlib import Path

    from gridkit.catalogue import _csv_header_line, _read_csv, _read_csv_arrow, _separator

    path = Path(tmp_path / "points.csv")
    text = {**ARROW_CSVS, **PANDAS_CSVS}.get(name)
    if text is None:
        path.write_bytes("编号,经度,纬度\n井盖,116.4,39.9\n".encode("gb18030"))
    else:
        path.write_text(text, encoding="utf-8", newline="")
    top, header = _csv_header_line(path, None, (None, None))
    sep = _separator(header, path)
    by_arrow = _read_csv_arrow(path, top, header, sep)
    assert (by_arrow is not None) == (name in ARROW_CSVS)
    encoding = "gb18030" if name == "gb18030" else "utf-8-sig"
    expected = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], sep=sep, encoding=encoding,
                           skiprows=top)
    pd.testing.assert_frame_equal(_read_csv(path, None), expected)
    if by_arrow is not None:
        pd.testing.assert_frame_equal(by_arrow, expected)


def test_coordinate_columns_named_for_a_file_with_geometry_are_said_to_go_unused(tmp_path, caplog):
    from gridkit.catalogue import read_inventory

    gpd.GeoDataFrame({"lon": [1.0]}, geometry=[shapely.Point(116.4, 39.9)], crs=4326).to_file(tmp_path / "p.geojson")
    frame, x, y, _ = read_inventory(tmp_path / "p.geojson", x_field="lon", y_field="lat")
    assert (x[0], y[0]) == (116.4, 39.9)
    assert "p.geojson: its features have geometry, which is read; --x-field and --y-field name a table's " \
           "coordinate columns" in caplog.text
