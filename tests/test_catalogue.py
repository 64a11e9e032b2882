import json
import logging
import shutil
import sqlite3
from contextlib import closing

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyarrow.parquet as pq
import pyproj
import pytest
import shapely

import gridkit as gk
from gridkit.batch import locate_dask
from gridkit.catalogue import Mapping, catalogue_stats, import_components, read_catalogue, write_catalogue
from gridkit.classes import ClassTable, class_table, convert_ids
from gridkit.errors import InputError
from gridkit.locator import Locator
from gridkit_cli.main import cli
from click.testing import CliRunner

from .conftest import community_frame, micro_halves

X0, Y0 = 500_000.0, 4_400_000.0  # EPSG:4548 (CGCS2000 GK CM 117°E)


@pytest.fixture()
def package(tmp_path):
    """A 3 × 2 lattice of 100 m cells in community 110101001001, as a grid package."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200)])
    cells = gk.unit_grid(comm)
    return gk.write_package(tmp_path / "grid.gpkg", cells, comm)


def _lonlat(x, y):
    pts = gpd.GeoSeries(shapely.points(np.asarray(x, float), np.asarray(y, float)), crs=4548).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def _csv(tmp_path, rows, name="inv.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_every_reject_reason_from_crafted_rows(tmp_path, package):
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 - 5, X0 - 500], [Y0 + 50] * 5)
    rows = [
        dict(GLBJBSM="11010101001000001", lon=lon[0], lat=lat[0], BZ="ok with ID"),
        dict(GLBJBSM="", lon=lon[1], lat=lat[1], BZ="ok, gets an ID"),
        dict(GLBJBSM="", lon="", lat=lat[1], BZ="no x"),
        dict(GLBJBSM="", lon=200.0, lat=lat[1], BZ="impossible"),
        dict(GLBJBSM="", lon=lat[2], lat=lon[2], BZ="swapped"),
        dict(GLBJBSM="1101010100100001", lon=lon[2], lat=lat[2], BZ="legacy length"),
        dict(GLBJBSM="11010101016000001", lon=lon[2], lat=lat[2], BZ="retired class"),
        dict(GLBJBSM="32050801001000001", lon=lon[2], lat=lat[2], BZ="other county"),
        dict(GLBJBSM="11010101001000001", lon=lon[2], lat=lat[2], BZ="same ID, moved"),
        dict(GLBJBSM="", lon=lon[1], lat=lat[1], BZ="ok, gets an ID"),
        dict(GLBJBSM="", lon=lon[3], lat=lat[3], BZ="5 m outside: nearest"),
        dict(GLBJBSM="", lon=lon[4], lat=lat[4], BZ="500 m outside"),
        dict(GLBJBSM="", lon=0.0, lat=0.0, BZ="blank, written as zeros"),
    ]
    path = _csv(tmp_path, rows)
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                               today="20260701")
    s = result.summary
    assert s["rows"] == 13 and s["imported"] == 2 and s["rejected"] == 11
    assert s["rejected_by_reason"] == {"missing_coordinates": 1, "impossible_coordinates": 1, "latlon_swapped": 1,
                                       "bad_id": 3, "duplicate_id": 2, "duplicate_row": 1, "outside": 1,
                                       "zero_coordinates": 1}
    assert s["assigned_nearest"] == 1
    rejects = result.rejects.set_index("row")
    assert rejects.loc[10, "detail"] == "exact duplicate of row 2"
    # one ID on two rows that differ: neither is taken (which is the component?)
    assert rejects.loc[[1, 9], "detail"].tolist() == [
        f"ID also on row {r}, with different attributes: keep the row that is the component, and give the others "
        "their own ID (or none, for a new one)" for r in (9, 1)]
    assert "retired" in rejects.loc[7, "detail"] and "not the layout's" in rejects.loc[8, "detail"]
    cat = result.catalogue.set_index("BZ")
    assert cat.loc["5 m outside: nearest", "SZDYWGBSM"] == "110101001001004"  # the cell 5 m off
    # new IDs: county + class + the next sequence after 000001, which the rejected rows
    # hold: once one of them is put right and imported, it is that component, no other
    assert cat.loc["ok, gets an ID", "GLBJBSM"] == "11010101001000002"
    assert cat.loc["5 m outside: nearest", "GLBJBSM"] == "11010101001000003"
    assert cat.loc["5 m outside: nearest", "assign_status"] == "nearest"
    assert cat.loc["5 m outside: nearest", "assign_distance_m"] == pytest.approx(5.0, abs=0.01)
    assert (cat["GLBJMC"] == "供水井盖").all() and (cat["GLBJZT"] == "完好").all()


def test_an_excel_workbook_imports_as_its_csv_and_ids_typed_as_numbers_are_rejected(tmp_path, package, caplog):
    """An inventory kept in Excel (a sheet chosen by --layer, or the one sheet naming
    coordinate columns when a cover sheet comes first) gives the same catalogue and
    rejects as the same rows in a CSV. A 17-digit ID typed into a number cell has
    lost its last digits in Excel (11010101001000001 reads back as ...000000, which
    looks like a real ID): it is rejected as bad_id with the reason, and a warning
    says how to fix the column."""
    import openpyxl

    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 - 5], [Y0 + 50] * 4)
    rows = pd.DataFrame([
        dict(GLBJBSM="11010101001000001", lon=lon[0], lat=lat[0], BZ="ok with ID", SL=2),
        dict(GLBJBSM=None, lon=lon[1], lat=lat[1], BZ="ok, gets an ID", SL=1),
        dict(GLBJBSM=None, lon=None, lat=lat[1], BZ="no x", SL=1),
        dict(GLBJBSM="11010101016000001", lon=lon[2], lat=lat[2], BZ="retired class", SL=1),
        dict(GLBJBSM=None, lon=lon[3], lat=lat[3], BZ="5 m outside: nearest", SL=1),
    ])
    csv, xlsx = tmp_path / "inv.csv", tmp_path / "inv.xlsx"
    rows.to_csv(csv, index=False)
    with pd.ExcelWriter(xlsx) as book:
        pd.DataFrame({"说明": ["an earlier sheet"]}).to_excel(book, sheet_name="说明", index=False)
        rows.to_excel(book, sheet_name="台账", index=False, startrow=2)
    book = openpyxl.load_workbook(xlsx)  # a ledger's title above the header: skipped
    book["台账"]["A1"] = "东城区井盖台账"
    book["台账"]["A2"], book["台账"]["B2"] = "制表日期", "2026-11-01"
    book.save(xlsx)

    def imported(path, **kw):
        return import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                                 today="20261123", source="inv", **kw)

    a, b = imported(csv), imported(xlsx, layer="台账")
    assert a.catalogue.drop(columns=["geometry", "source_row"]).equals(b.catalogue.drop(columns=["geometry",
                                                                                                   "source_row"]))
    # a CSV's rows count from the first below its header, a sheet's as Excel shows them
    assert a.catalogue["source_row"].tolist() == [1, 2, 5] and b.catalogue["source_row"].tolist() == [4, 5, 8]
    # Excel keeps 15 significant digits of a coordinate too: positions agree to 1 µm.
    assert a.catalogue.geometry.geom_equals_exact(b.catalogue.geometry, tolerance=1e-6).all()
    # The rejects keep the coordinate columns as each file writes them.
    assert a.rejects.drop(columns=["row", "lon", "lat"]).equals(b.rejects.drop(columns=["row", "lon", "lat"]))
    assert a.rejects["row"].tolist() == [3, 4] and b.rejects["row"].tolist() == [6, 7]
    assert a.summary == b.summary and "x" not in a.rejects.columns
    assert np.allclose(a.rejects[["lon", "lat"]].apply(pd.to_numeric), b.rejects[["lon", "lat"]].apply(pd.to_numeric),
                       rtol=1e-14, equal_nan=True)
    assert a.summary["imported"] == 3 and a.rejects["reason"].tolist() == ["missing_coordinates", "bad_id"]
    titled = tmp_path / "titled.csv"  # the ledger saved as a GBK CSV with its title lines: skipped too
    titled.write_bytes("东城区井盖台账\n制表日期,2026-11-01\n\n".encode("gbk") + csv.read_text().encode("gbk"))
    c = imported(titled)
    assert c.catalogue.drop(columns="geometry").equals(a.catalogue.drop(columns="geometry")) and c.summary == a.summary
    assert c.rejects.equals(a.rejects)  # rows numbered from the first below the header, as in a workbook
    with pytest.raises(InputError, match=r"the sheets are \['说明', '台账'\] \(choose one with --layer\)"):
        imported(xlsx, layer="Sheet1")
    with caplog.at_level("WARNING", logger="gridkit.catalogue"):
        found = imported(xlsx)  # no --layer: the cover sheet names no coordinates, 台账 does
    assert found.catalogue.drop(columns="geometry").equals(b.catalogue.drop(columns="geometry"))
    assert ("inv.xlsx: the first sheet '说明' does not name coordinate columns (lon/lat, x/y …); reading sheet "
            "'台账', which does (choose another with --layer)") in caplog.text
    with pytest.raises(InputError, match=r"none of the sheets \['说明', '台账'\] names the columns lon and 纬度 in "
                                         r"its first 20 rows; choose the sheet with --layer"):
        imported(xlsx, x_field="lon", y_field="纬度")
    with pd.ExcelWriter(xlsx, mode="a", engine="openpyxl") as book:
        rows.to_excel(book, sheet_name="台账 (copy)", index=False)
    with pytest.raises(InputError, match=r"the sheets \['台账', '台账 \(copy\)'\] all name coordinate columns"):
        imported(xlsx)

    numbers = rows.assign(GLBJBSM=[11010101001000001, None, None, 11010101016000001, None])
    numbers.to_excel(xlsx, index=False)
    with caplog.at_level("WARNING", logger="gridkit.catalogue"):
        c = imported(xlsx)
    assert "column 'GLBJBSM' holds 2 number(s) of 16 or more digits (sheet rows 2, 5" in caplog.text
    assert c.rejects["reason"].tolist() == ["bad_id", "missing_coordinates", "bad_id"]
    assert c.rejects["detail"].str.contains("an Excel number: digits past the 15th lost").sum() == 2
    assert c.summary["imported"] == 2 and "11010101001000000" not in c.catalogue["GLBJBSM"].tolist()


def test_unknown_class_and_missing_class(tmp_path, package):
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50, Y0 + 50])
    path = _csv(tmp_path, [dict(kind="hydrant", lon=lon[0], lat=lat[0]), dict(kind="bench?", lon=lon[1], lat=lat[1])])
    result = import_components(path, Locator.from_package(package),
                               mapping=Mapping(class_field="kind", classes={"hydrant": "01013"}))
    assert result.summary["rejected_by_reason"] == {"unknown_class": 1}
    assert result.rejects["detail"].tolist() == [
        "kind 'bench?' is no class code or name, nor in the mapping's classes (it maps hydrant): add it there, "
        "\"bench?\" = \"CODE\" (`gridkit components classes WORD` finds a code)"]
    result = import_components(path, Locator.from_package(package))
    assert result.summary["rejected_by_reason"] == {"unknown_class": 2}
    assert "--mapping" in result.rejects["detail"].iloc[0]


def test_ids_and_classes_in_full_width_digits_are_read_as_their_digits(tmp_path, package):
    """Typed with a Chinese input method in full-width mode: the ID, the class and a
    department code are the codes; a name keeps its characters."""
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50] * 2)
    path = _csv(tmp_path, [dict(GLBJBSM="１１０１０１０１００１０００００１", ZGBMDM="１１０１", GLBJMC="１号井盖",
                                kind="", lon=lon[0], lat=lat[0]),
                           dict(GLBJBSM="", ZGBMDM="", GLBJMC="", kind="０１０１３", lon=lon[1], lat=lat[1])])
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_field="kind"),
                               today="20261124")
    assert result.summary["rejected"] == 0
    cat = result.catalogue
    assert cat["GLBJBSM"].tolist() == ["11010101001000001", "11010101013000001"]
    assert cat["ZGBMDM"].tolist()[0] == "1101" and cat["GLBJMC"].tolist()[0] == "１号井盖"


def test_points_on_shared_edges_go_east_then_north(tmp_path, package):
    lon, lat = _lonlat([X0 + 100, X0 + 150, X0 + 200], [Y0 + 50, Y0 + 100, Y0 + 100])
    path = _csv(tmp_path, [dict(lon=a, lat=b) for a, b in zip(lon, lat)])
    cells = import_components(path, Locator.from_package(package),
                              mapping=Mapping(class_code="01037")).catalogue["SZDYWGBSM"].tolist()
    # grid sequence runs west→east, north→south: 001 002 003 / 004 005 006
    assert cells == ["110101001001005", "110101001001002", "110101001001003"]


def test_reimport_changes_nothing_and_updates_keep_history(tmp_path, package):
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50, Y0 + 150, Y0 + 150])
    rows = [dict(key=k, lon=a, lat=b, status="intact") for k, a, b in zip("abc", lon, lat)]
    mapping = Mapping(class_code="01013", source_key="key", fields={"GLBJZT": "status"})
    loc = Locator.from_package(package)
    first = import_components(_csv(tmp_path, rows), loc, mapping=mapping, today="20260701", source="hydrants")
    write_catalogue(package, first.catalogue)
    before = pyogrio.read_dataframe(package, layer="components")
    again = import_components(_csv(tmp_path, rows), loc, catalogue=read_catalogue(package), mapping=mapping,
                              today="20260801", source="hydrants")
    assert (again.summary["added"], again.summary["updated"], again.summary["unchanged"]) == (0, 0, 3)
    write_catalogue(package, again.catalogue)
    assert pyogrio.read_dataframe(package, layer="components").equals(before)
    # the same rows from a GeoPackage in Web Mercator come back nanometres off: not moved
    merc = gpd.GeoDataFrame(pd.DataFrame(rows)[["key", "status"]], geometry=gpd.points_from_xy(lon, lat),
                            crs=4326).to_crs(3857)
    merc.to_file(tmp_path / "hydrants.gpkg")
    read_back = import_components(tmp_path / "hydrants.gpkg", loc, catalogue=read_catalogue(package),
                                  mapping=mapping, today="20260801", source="hydrants")
    off = shapely.distance(gpd.read_file(tmp_path / "hydrants.gpkg").to_crs(before.crs).geometry.values,
                           before.sort_values("source_key").geometry.values)
    assert 0 < off.max() < 1e-6
    assert (read_back.summary["updated"], read_back.summary["unchanged"]) == (0, 3)
    # Degrees to 7 decimals (a GeoJSON copy) are millimetres off: not moved; a is moved 5 mm, b 2 cm
    shifted = [dict(row, lon=round(row["lon"], 7), lat=round(row["lat"], 7)) for row in rows]
    (a_lon, b_lon), (a_lat, b_lat) = _lonlat([X0 + 50.005, X0 + 150.02], [Y0 + 50, Y0 + 150])
    shifted[0].update(lon=a_lon, lat=a_lat)
    shifted[1].update(lon=b_lon, lat=b_lat)
    rounded = import_components(_csv(tmp_path, shifted), loc, catalogue=read_catalogue(package), mapping=mapping,
                                today="20260801", source="hydrants")
    assert (rounded.summary["updated"], rounded.summary["unchanged"]) == (1, 2)
    assert rounded.catalogue.set_index("source_key")["BGRQ"].to_dict() == {"k:a": None, "k:b": "20260801",
                                                                          "k:c": None}
    # b damaged, c gone, d new
    rows[1]["status"] = "damaged"
    d_lon, d_lat = _lonlat([X0 + 250], [Y0 + 50])
    update = [rows[0], rows[1], dict(key="d", lon=d_lon[0], lat=d_lat[0], status="intact")]
    result = import_components(_csv(tmp_path, update), loc, catalogue=read_catalogue(package), mapping=mapping,
                               today="20260901", source="hydrants")
    s = result.summary
    assert (s["added"], s["updated"], s["unchanged"], s["removed"], s["catalogue_size"]) == (1, 1, 1, 1, 4)
    cat = result.catalogue.set_index("source_key")
    assert cat.loc["k:b", ["GLBJZT", "BGRQ", "CSRQ"]].tolist() == ["破损", "20260901", "20260701"]
    assert cat.loc["k:c", ["GLBJZT", "end_date"]].tolist() == ["移除", "20260901"]
    # the removed c keeps 000003; the new d gets 000004, never a reused number
    assert cat.loc["k:c", "GLBJBSM"] == "11010101013000003" and cat.loc["k:d", "GLBJBSM"] == "11010101013000004"


def test_an_inventory_renamed_is_not_added_beside_itself(tmp_path, package):
    """signals.csv imported again as signals_2027.csv: its rows are rejected as
    already catalogued (naming the component and its source), not added a second
    time; --source signals updates signals' components from it. A row its own
    source holds (by key) is an update even where another source has one."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    rows = [dict(lon=a, lat=b) for a, b in zip(lon, lat)]
    first = _csv(tmp_path, rows[:2], name="signals.csv")
    args = ["components", "import", "--grid", str(package), "--class", "02014", "--date", "20260701"]
    assert CliRunner().invoke(cli, [*args, str(first)]).exit_code == 0
    renamed = _csv(tmp_path, rows, name="signals_2027.csv")  # the two, and one new
    result = CliRunner().invoke(cli, [*args, str(renamed)])
    assert result.exit_code == 0, result.output
    assert "signals_2027: 3 rows → 1 imported, 2 rejected" in result.output
    assert ("  hint: 2 already in the catalogue from signals: if this is the inventory imported as signals, renamed, "
            "import it with --source signals to update those components") in result.output
    rejects = pd.read_csv(tmp_path / "signals_2027.rejects.csv", dtype=str)
    assert rejects["reason"].tolist() == ["already_catalogued"] * 2
    assert rejects["detail"].iloc[0] == ("component 11010102014000001 of signals has this class at this place; to "
                                         "update the components of signals from this file, import it as source "
                                         "signals")
    cat = read_catalogue(package)
    assert cat.groupby("source")["GLBJBSM"].apply(sorted).to_dict() == {
        "signals": ["11010102014000001", "11010102014000002"], "signals_2027": ["11010102014000003"]}
    again = CliRunner().invoke(cli, [*args, str(renamed), "--source", "signals", "--json"])
    assert again.exit_code == 0, again.output
    s = json.loads(again.stdout)[0]
    assert (s["source"], s["added"], s["unchanged"], s["rejected"], s["already_catalogued_from"]) == (
        "signals", 0, 2, 1, {"signals_2027": 1})
    both = CliRunner().invoke(cli, [*args, str(first), str(renamed), "--source", "signals"])
    assert both.exit_code == 2 and "--source names one inventory; import the 2 one at a time" in both.output
    # lamps keyed by their own IDs: a lamp moved onto another source's lamp is its source's update
    loc, mapping = Locator.from_package(package), Mapping(class_code="01037", source_key="key")
    north = import_components(_csv(tmp_path, [dict(key="n1", lon=lon[0], lat=lat[0])]), loc, mapping=mapping,
                              source="north", catalogue=read_catalogue(package))
    south = import_components(_csv(tmp_path, [dict(key="s1", lon=lon[1], lat=lat[1])]), loc, mapping=mapping,
                              source="south", catalogue=north.catalogue)
    moved = import_components(_csv(tmp_path, [dict(key="s1", lon=lon[0], lat=lat[0])]), loc, mapping=mapping,
                              source="south", catalogue=south.catalogue, today="20260901")
    assert (moved.summary["updated"], moved.summary["rejected"]) == (1, 0)
    stray = import_components(_csv(tmp_path, [dict(key="s1", lon=lon[0], lat=lat[0]),
                                              dict(key="s2", lon=lon[0], lat=lat[0])]), loc, mapping=mapping,
                              source="south", catalogue=south.catalogue)
    assert stray.summary["rejected_by_reason"] == {"already_catalogued": 1}
    assert stray.rejects["row"].tolist() == [2]




def test_a_rejects_file_fixed_imports_again_and_keeps_the_values_as_written(tmp_path, package):
    """The rejects keep a table's coordinate columns as the file writes them ("abc",
    not a blank x), the detail naming the column. Fixed and imported again, the rejects
    file is an inventory like any other: its row/reason/detail columns are the last
    run's and are replaced (a crash before); another file's own "detail" is kept."""
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50] * 2)
    ledger = _csv(tmp_path, [dict(PointX=lon[0], PointY=lat[0], detail="north gate"),
                             dict(PointX="abc", PointY=lat[1], detail="by the pond"),
                             dict(PointX=lon[1], PointY="", detail="")], name="ledger.csv")
    loc, mapping = Locator.from_package(package), Mapping(class_code="01037")
    first = import_components(ledger, loc, mapping=mapping, crs="EPSG:4326")
    assert first.rejects.columns.tolist() == ["row", "reason", "detail", "input_detail", "PointX", "PointY"]
    assert first.rejects.fillna("").astype(str).values.tolist() == [
        ["2", "missing_coordinates", "PointX is blank or not a number", "by the pond", "abc", str(float(lat[1]))],
        ["3", "missing_coordinates", "PointY is blank or not a number", "", str(float(lon[1])), ""]]
    fixed = tmp_path / "ledger.rejects.csv"
    first.rejects.assign(PointX=[lon[1], lon[1]]).to_csv(fixed, index=False)  # row 3 still has no PointY
    again = import_components(fixed, loc, catalogue=first.catalogue, mapping=mapping, crs="EPSG:4326")
    assert (again.summary["imported"], again.summary["rejected"]) == (1, 1)
    assert again.rejects.columns.tolist() == ["row", "reason", "detail", "input_detail", "PointX", "PointY"]
    assert again.rejects[["row", "detail"]].values.tolist() == [[2, "PointY is blank or not a number"]]
    located = CliRunner().invoke(cli, ["locate", str(fixed), "--crs", "EPSG:4326", "--grid", str(package), "-o",
                                       str(tmp_path / "l.csv")])
    assert located.exit_code == 0, located.output
    assert pd.read_csv(tmp_path / "l.rejects.csv")[["row", "detail"]].values.tolist() == [
        [2, "PointY is blank or not a number"]]



def test_importing_locates_output_leaves_locates_rejects_beside_it(tmp_path, package):
    """`gridkit locate lamps.csv -o located.csv` beside the package writes
    located.rejects.csv; importing located.csv then wrote its own rejects over it (the
    row without coordinates gone, only the import's `outside` row left). The import's
    go to located.import-rejects.csv; a plain inventory's are still INVENTORY.rejects.csv."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 5000], [Y0 + 50] * 3)
    lamps = _csv(tmp_path, [dict(id="L1", lon=lon[0], lat=lat[0]), dict(id="L2", lon="abc", lat=lat[1]),
                            dict(id="L3", lon=lon[1], lat=lat[1]), dict(id="L4", lon=lon[2], lat=lat[2])],
                 name="lamps.csv")
    located = tmp_path / "located.csv"
    run = CliRunner().invoke(cli, ["locate", str(lamps), "--grid", str(package), "-o", str(located)])
    assert run.exit_code == 0, run.output
    locates = (tmp_path / "located.rejects.csv").read_bytes()
    assert pd.read_csv(tmp_path / "located.rejects.csv")[["row", "id", "reason"]].values.tolist() == [
        [2, "L2", "missing_coordinates"]]
    other = shutil.copy(package, tmp_path / "other.gpkg")  # lamps.csv's components go in package next
    args = ["components", "import", "--grid", str(package), "--class", "01037"]
    for _ in range(2):  # imported again: the same files
        run = CliRunner().invoke(cli, [*args, str(located)])
        assert run.exit_code == 0, run.output
        assert f"rejects → {tmp_path / 'located.import-rejects.csv'}" in run.output
        assert (tmp_path / "located.rejects.csv").read_bytes() == locates
        assert pd.read_csv(tmp_path / "located.import-rejects.csv")[["row", "id", "reason"]].values.tolist() == [
            [3, "L4", "outside"]]
    run = CliRunner().invoke(cli, ["components", "import", "--grid", str(other), "--class", "01037", str(lamps)])
    assert run.exit_code == 0, run.output
    assert pd.read_csv(tmp_path / "lamps.rejects.csv")[["row", "reason"]].values.tolist() == [
        [2, "missing_coordinates"], [4, "outside"]]
    elsewhere = tmp_path / "rejects"
    run = CliRunner().invoke(cli, [*args, str(located), "--rejects-dir", str(elsewhere)])
    assert run.exit_code == 0, run.output
    assert (elsewhere / "located.rejects.csv").exists() and not (elsewhere / "located.import-rejects.csv").exists()
    # the import's rejects, fixed, given with located.csv would be written over: refused, the file unchanged
    fixed = (tmp_path / "located.import-rejects.csv").read_bytes()
    run = CliRunner().invoke(cli, [*args, str(located), str(tmp_path / "located.import-rejects.csv")])
    assert run.exit_code == 2 and "located.import-rejects.csv is where the rejects of" in run.output
    assert (tmp_path / "located.import-rejects.csv").read_bytes() == fixed


def test_a_gcj02_copy_read_as_wgs84_is_refused_before_it_moves_the_catalogue(tmp_path):
    """The catalogue exported for Amap (--crs gcj02) and imported back without
    --crs gcj02 was read as EPSG:4326: 6 of 6 components "updated", each moved
    ~500 m, in place. Refused when every component it holds lies where GCJ-02 (or
    BD-09) puts the catalogue's; --crs EPSG:4326 says it is WGS84 and goes on. A
    GeoJSON copy carries the export's mark, and is read as GCJ-02 (BD-09) unasked;
    a Shapefile has no place for the mark."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 4000, Y0 + 4000)])
    package = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm, cell_area=40_000.0), comm)
    lon, lat = _lonlat(X0 + 1500 + 200 * np.arange(6), Y0 + 1500 + 200 * np.arange(6))
    glon, glat = gk.coords.wgs84_to_gcj02(lon, lat)
    ledger = _csv(tmp_path, [dict(lon=a, lat=b) for a, b in zip(glon, glat)], name="lamps.csv")
    args = ["components", "import", "--grid", str(package), "--class", "01037"]
    assert CliRunner().invoke(cli, [*args, str(ledger), "--crs", "gcj02"]).exit_code == 0
    for crs in ("gcj02", "bd09"):
        out, marked = tmp_path / f"lamps_{crs}.shp", tmp_path / f"lamps_{crs}.geojson"
        for copy in (out, marked):
            assert CliRunner().invoke(cli, ["export", str(package), "--layer", "components", "--crs", crs, "-o",
                                            str(copy)]).exit_code == 0
        back = CliRunner().invoke(cli, [*args, str(marked)])
        assert "catalogue: 0 added, 0 updated, 6 unchanged, 0 removed" in back.output, back.output
        before = package.read_bytes()
        refused = CliRunner().invoke(cli, [*args, str(out)])
        label = {"gcj02": "GCJ-02", "bd09": "BD-09"}[crs]
        assert refused.exit_code == 1 and (f"{out}: the 6 of its components the catalogue holds lie where {label} "
                                           f"puts them") in refused.output
        assert f"Import it with --crs {crs} (or --crs EPSG:4326 if it really is WGS84" in refused.output
        assert package.read_bytes() == before
        back = CliRunner().invoke(cli, [*args, str(out), "--crs", crs])
        assert "catalogue: 0 added, 0 updated, 6 unchanged, 0 removed" in back.output, back.output
    said = CliRunner().invoke(cli, [*args, str(tmp_path / "lamps_gcj02.shp"), "--crs", "EPSG:4326"])
    assert "catalogue: 0 added, 6 updated, 0 unchanged, 0 removed" in said.output, said.output


def test_two_inventories_of_one_name_are_refused_before_anything_is_imported(tmp_path, package):
    """north/lamps.csv and south/lamps.csv in one import would both be source lamps:
    south would remove north's lamps as an update and write over lamps.rejects.csv.
    Refused before the package is touched; each under its own --source, both stay."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    (tmp_path / "north").mkdir(), (tmp_path / "south").mkdir()
    north = _csv(tmp_path, [dict(lon=lon[0], lat=lat[0]), dict(lon=lon[1], lat=lat[1])], name="north/lamps.csv")
    south = _csv(tmp_path, [dict(lon=lon[2], lat=lat[2]), dict(lon="", lat=lat[2])], name="south/lamps.csv")
    args = ["components", "import", "--grid", str(package), "--class", "01037"]
    before = package.read_bytes()
    both = CliRunner().invoke(cli, [*args, str(north), str(south)])
    assert both.exit_code == 2
    assert (f"{north} and {south} would both be the source 'lamps' in the catalogue: the second would be taken for "
            f"an update of the first") in both.output
    assert package.read_bytes() == before and not (tmp_path / "lamps.rejects.csv").exists()
    twice = CliRunner().invoke(cli, [*args, str(north), str(tmp_path / "north" / ".." / "north" / "lamps.csv")])
    assert twice.exit_code == 2 and "north/../north/lamps.csv is given twice" in twice.output
    for inventory, name in ((north, "lamps"), (south, "lamps_south")):
        result = CliRunner().invoke(cli, [*args, str(inventory), "--source", name])
        assert result.exit_code == 0, result.output
    assert read_catalogue(package)["source"].value_counts().to_dict() == {"lamps": 2, "lamps_south": 1}


def test_a_ledger_kept_a_sheet_per_street_is_a_source_a_sheet(tmp_path, package, caplog):
    """A workbook with a sheet per street (and a cover sheet 说明) is imported a sheet
    at a time, each the source NAME/SHEET with its own rejects. One sheet imported
    again alone, a row fewer, removes that row's component and none of the other
    sheet's: before, both sheets were the source "streets", and the second sheet's
    import removed the first's components."""
    import openpyxl

    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 50, X0 + 150], [Y0 + 50] * 3 + [Y0 + 150] * 2)
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["东城区部件台账，一个街道一页"])
    sheets = {"东华门街道": [0, 1, 2], "景山街道": [3, 4]}
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(["名称", "经度", "纬度"])
        for i in rows:
            sheet.append([f"灯{i}", lon[i], lat[i]])
        sheet.append(["坏行", "", ""])  # a reject on each sheet
    path = tmp_path / "streets.xlsx"
    book.save(path)
    assert gk.catalogue.inventory_layers(path) == ["东华门街道", "景山街道"]
    args = ["components", "import", "--grid", str(package), "--class", "01037"]
    run = CliRunner().invoke(cli, [*args, str(path), "--json"])
    assert run.exit_code == 0, run.output
    summaries = json.loads(run.output)
    assert [(s["source"], s["layer"], s["imported"], s["rejected"]) for s in summaries] == [
        ("streets/东华门街道", "东华门街道", 3, 1), ("streets/景山街道", "景山街道", 2, 1)]
    for name in sheets:
        assert pd.read_csv(tmp_path / f"streets.{name}.rejects.csv")["名称"].tolist() == ["坏行"]
    assert not (tmp_path / "streets.rejects.csv").exists()

    book = openpyxl.load_workbook(path)
    book["景山街道"].delete_rows(3)  # 灯4, gone from the street's sheet
    book.save(path)
    again = CliRunner().invoke(cli, [*args, str(path), "--layer", "景山街道", "--json"])
    assert again.exit_code == 0, again.output
    (summary,) = json.loads(again.output)
    assert (summary["source"], summary["unchanged"], summary["removed"]) == ("streets/景山街道", 1, 1)
    cat = read_catalogue(package)
    assert cat.groupby("source")["GLBJZT"].apply(lambda s: sorted(s)).to_dict() == {
        "streets/东华门街道": ["完好"] * 3, "streets/景山街道": ["完好", "移除"]}
    one = CliRunner().invoke(cli, [*args, str(path), "--source", "streets"])
    assert one.exit_code == 2 and "--source names one inventory; import the 2 one at a time (with --layer: " \
        "东华门街道, 景山街道)" in one.output
    # the commands that read one sheet of points ask which
    with pytest.raises(InputError, match=r"the sheets \['东华门街道', '景山街道'\] all name coordinate columns"):
        gk.catalogue.read_points(path)
    del book["说明"]
    book.save(path)
    with caplog.at_level(logging.WARNING, logger="gridkit.catalogue"):
        assert len(gk.catalogue.read_points(path)) == 4
    assert ("streets.xlsx holds 2 sheets of points (东华门街道, 景山街道): reading 东华门街道 alone; choose another "
            "with --layer") in caplog.text


def test_a_geopackage_s_point_layers_are_sources_mapped_by_their_own_sections(tmp_path, package):
    """Hydrants and lamps as two layers of one GeoPackage: each layer imported as
    the source NAME/LAYER, with the mapping's [files.LAYER] section (its class)."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    path = tmp_path / "things.gpkg"
    for layer, rows in (("hydrants", [0]), ("lamps", [1, 2])):
        gpd.GeoDataFrame({"name": [f"{layer}{i}" for i in rows]}, geometry=shapely.points(lon[rows], lat[rows]),
                         crs=4326).to_file(path, layer=layer)
    gpd.GeoDataFrame({"name": ["area"]}, geometry=[shapely.box(*lon[:2], *lat[:2])], crs=4326).to_file(
        path, layer="area")  # a polygon layer: not components
    mapping = tmp_path / "m.toml"
    mapping.write_text('[files.hydrants]\nclass = "01013"\n[files.lamps]\nclass = "01037"\n', encoding="utf-8")
    run = CliRunner().invoke(cli, ["components", "import", "--grid", str(package), "--mapping", str(mapping),
                                   str(path), "--json"])
    assert run.exit_code == 0, run.output
    assert [(s["source"], s["imported"]) for s in json.loads(run.output)] == [("things/hydrants", 1),
                                                                           ("things/lamps", 2)]
    cat = read_catalogue(package)
    assert cat.groupby("source")["class_code"].apply(lambda s: sorted(set(s))).to_dict() == {
        "things/hydrants": ["01013"], "things/lamps": ["01037"]}


def test_a_mapping_s_constants_the_field_table_refuses_are_warned_of_at_import(tmp_path, package, caplog):
    """A [values] constant goes into every row: a 5-character credit code, a status
    not among the standard's words, a date that is no day, an SJLY past its 30
    characters are each named as the import reads the mapping, with what `gridkit
    components check` will say of every row; a good constant, and the fields the
    cell gives, are not."""
    from gridkit.conformance import field_problems

    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50] * 2)
    path = _csv(tmp_path, [dict(lon=lon[0], lat=lat[0]), dict(lon=lon[1], lat=lat[1])])
    values = {"ZGBMDM": "12345", "GLBJZT": "正常", "CSRQ": "2026-02-30", "SJLY": "城市部件普查" * 6,
              "QSDWDM": "91110000100000000R", "BZ": "好", "SZDYWGBSM": "1"}
    mapping = Mapping(class_code="01037", values=values, origin="m.toml")
    with caplog.at_level(logging.WARNING, logger="gridkit.catalogue"):
        result = import_components(path, Locator.from_package(package), mapping=mapping, today="20261126")
    said = [r.getMessage() for r in caplog.records if "[values]" in r.getMessage()]
    tail = "Every row takes it, and `gridkit components check` flags each: put it right in the mapping file, or leave"
    assert said == [
        f"m.toml: [values] ZGBMDM = '12345' is not a unified social credit code (has 5 characters, not 18). {tail} "
        "ZGBMDM out",
        f"m.toml: [values] GLBJZT = '正常' is not one of 完好 破损 丢失 废弃 移除. {tail} GLBJZT out",
        f"m.toml: [values] CSRQ = '2026-02-30' is not a real YYYYMMDD date (no such day). {tail} CSRQ out",
        f"m.toml: [values] SJLY = '{'城市部件普查' * 6}' is longer than the field holds (36 characters; the field "
        f"holds 30). {tail} SJLY out"]
    assert result.summary["imported"] == 2
    flagged = field_problems(result.catalogue)
    assert flagged[flagged["field"].isin(values)].groupby("field")["row"].count().to_dict() == {
        "ZGBMDM": 2, "GLBJZT": 2, "CSRQ": 2, "SJLY": 2}


def test_a_catalogue_exported_and_edited_comes_back_as_edits(tmp_path, package):
    """The components layer exported to Excel, edited there (a status changed, a row
    deleted, a row added) and imported back: each component keeps its own source
    (two here), the edit is the one update, the added row is added with its class
    from class_code, and the deleted row's component is kept, not removed. Before,
    every component moved to the copy's source (3 updated), and its own inventory
    could then no longer update it."""
    import openpyxl

    from gridkit.export import export_package

    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    args = ["components", "import", "--grid", str(package), "--date", "20260701"]
    signals = _csv(tmp_path, [dict(lon=lon[0], lat=lat[0]), dict(lon=lon[1], lat=lat[1])], name="signals.csv")
    lamps = _csv(tmp_path, [dict(lon=lon[2], lat=lat[2])], name="lamps.csv")
    assert CliRunner().invoke(cli, [*args, "--class", "02014", str(signals)]).exit_code == 0
    assert CliRunner().invoke(cli, [*args, "--class", "01037", str(lamps)]).exit_code == 0
    export_package(package, tmp_path / "book.xlsx", layers=["components"])
    book = openpyxl.load_workbook(tmp_path / "book.xlsx")
    sheet = book["components"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("GLBJZT") + 1).value = "破损"  # 11010102014000001 damaged
    added = [c.value for c in sheet[4]]  # the lamp, copied 50 m north without its ID: a new lamp
    for name in ("GLBJBSM", "source", "source_key"):
        added[header.index(name)] = None
    added[header.index("Y")] += 50
    sheet.delete_rows(3)  # 11010102014000002 left out
    sheet.append(added)
    book.save(tmp_path / "edited.xlsx")  # its document property CRS kept, as Excel keeps it: no --crs needed
    result = CliRunner().invoke(cli, [*args[:-2], "--date", "20260801", str(tmp_path / "edited.xlsx")])
    assert result.exit_code == 0, result.output
    assert ("  a copy of a catalogue (gridkit export): each component keeps its own source, and none is removed for "
            "a row the copy lacks\n  catalogue: 1 added, 1 updated, 1 unchanged, 0 removed;") in result.output
    cat = read_catalogue(package).set_index("GLBJBSM")
    assert cat[["source", "GLBJZT", "BGRQ"]].to_dict("index") == {
        "11010102014000001": {"source": "signals", "GLBJZT": "破损", "BGRQ": "20260801"},
        "11010102014000002": {"source": "signals", "GLBJZT": "完好", "BGRQ": None},
        "11010101037000001": {"source": "lamps", "GLBJZT": "完好", "BGRQ": None},
        "11010101037000002": {"source": "edited", "GLBJZT": "完好", "BGRQ": None}}
    # The lamps' own inventory still syncs its component, not the copy's.
    again = CliRunner().invoke(cli, [*args, "--class", "01037", str(lamps), "--json"])
    s = json.loads(again.stdout)[0]
    assert (s["added"], s["updated"], s["unchanged"], s["removed"], s["rejected"]) == (0, 0, 1, 0, 0)


def _save_ledger(path, rows, merged):
    """A one-sheet workbook of ``rows`` with the ranges ``merged`` ("A1:H1") merged,
    as Excel saves it (.xlsx, by openpyxl) or as Excel 97–2003 and WPS save it
    (.xls, by xlwt)."""
    from openpyxl.utils.cell import range_boundaries

    if path.suffix == ".xls":
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("台账")
        ranges = [range_boundaries(cells) for cells in merged]
        inside = {(r, c) for c0, r0, c1, r1 in ranges for r in range(r0 - 1, r1) for c in range(c0 - 1, c1)}
        for c0, r0, c1, r1 in ranges:
            sheet.write_merge(r0 - 1, r1 - 1, c0 - 1, c1 - 1, rows[r0 - 1][c0 - 1])
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None and (r, c) not in inside:
                    sheet.write(r, c, value)
    else:
        import openpyxl

        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        for cells in merged:
            book.active.merge_cells(cells)
    book.save(path)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_ledger_s_merged_cells_read_as_excel_shows_them(tmp_path, package, caplog, suffix):
    """A ledger kept in Excel the way offices keep them: a title merged across the
    sheet, a header of two rows (序号 and 部件名称 merged down both, 坐标 merged across
    经度 and 纬度), and the class and owner merged down the rows they cover. Each
    merged cell reads as Excel shows it: every row has its class and owner, and the
    header names 经度 and 纬度, which pandas alone reads as empty cells under 坐标.
    The same ledger saved as an Excel 97–2003 .xls (WPS's default) reads alike."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 50], [Y0 + 50, Y0 + 50, Y0 + 150, Y0 + 150])
    rows = [["东城区部件台账"],
            ["填报单位：东华门街道", None, None, None, "填报日期：2026年11月20日"],
            ["序号", "部件名称", "部件类型", "坐标", None, "权属单位", "备注", "备注"],
            [None, None, None, "经度", "纬度"]]
    for i in range(4):
        rows.append([i + 1, f"部件{i + 1}", ["消防栓", None, "井盖", None][i], lon[i], lat[i],
                     ["水务局", None, None, None][i], f"甲{i}", f"乙{i}"])
    rows += [[], ["合计", None, None, None, None, "共4处"], [None, "制表人：张三", None, None, "审核人：李四"]]
    path = tmp_path / f"ledger{suffix}"
    _save_ledger(path, rows, ["A1:H1", "A3:A4", "B3:B4", "C3:C4", "D3:E3", "F3:F4", "G3:G4", "H3:H4", "C5:C6",
                              "C7:C8", "F5:F8"])

    table = gk.catalogue.read_table(path)
    assert list(table.columns) == ["序号", "部件名称", "部件类型", "经度", "纬度", "权属单位", "备注", "备注.1"]
    assert table["部件类型"].fillna("").tolist() == ["消防栓", "消防栓", "井盖", "井盖", "", "", ""]
    mapping = Mapping(class_field="部件类型", classes={"消防栓": "01013", "井盖": "01002"},
                      fields={"GLBJMC": "部件名称", "QSDWMC": "权属单位", "BZ": "备注.1"})
    with caplog.at_level(logging.INFO, logger="gridkit.catalogue"):
        result = import_components(path, Locator.from_package(package), mapping=mapping, today="20261126")
    assert "the header is rows 3–4; the 2 row(s) above it skipped" in caplog.text
    cat = result.catalogue.set_index("GLBJMC").sort_index()
    assert cat["GLBJBSM"].str[6:11].tolist() == ["01013", "01013", "01002", "01002"]
    assert (cat["QSDWMC"] == "水务局").all() and cat["BZ"].tolist() == ["乙0", "乙1", "乙2", "乙3"]
    assert cat["SZDYWGBSM"].str[-3:].tolist() == ["004", "005", "003", "001"]  # numbered from the top left
    # the lines below the rows are rejects that say what they are, not lost components
    # (a reason of their own: counted as missing_coordinates, they read as components lost)
    assert result.summary["rows"] == 7 and result.summary["rejected_by_reason"] == {"not_a_row": 3}
    # each row numbered as the sheet numbers it, below the header's rows 3–4: the number a
    # clerk finds beside the row in Excel
    assert result.rejects[["row", "reason", "detail"]].values.tolist() == [
        [9, "not_a_row", "the row is blank"], [10, "not_a_row", "the ledger's 合计 line, not a row of its table"],
        [11, "not_a_row", "the ledger's 制表人 line, not a row of its table"]]
    assert sorted(result.catalogue["source_row"].tolist()) == [5, 6, 7, 8]
    assert result.rejects["权属单位"].tolist()[1] == "共4处"
    # located, the same words and rows
    located = CliRunner().invoke(cli, ["locate", str(path), "--grid", str(package), "-o", str(tmp_path / "l.csv")])
    assert located.exit_code == 0, located.output
    assert pd.read_csv(tmp_path / "l.rejects.csv")[["row", "detail"]].values.tolist() == \
        result.rejects[["row", "detail"]].values.tolist()
    assert pd.read_csv(tmp_path / "l.csv", dtype=str)["gk_grid_id"].str[-3:].tolist() == ["004", "005", "003", "001"]


@pytest.mark.parametrize("kind, name", [("xls with a cover sheet", "ledger.xls"), ("ods", "ledger.ods"),
                                        ("xlsx named xls", "ledger.xls"), ("xlsx from C3", "ledger.xlsx")])
def test_a_workbook_reads_however_the_office_saved_it(tmp_path, kind, name):
    """The same ledger saved as the offices save it: Excel 97–2003 (.xls, WPS's
    default) with a cover sheet 说明 before its table, LibreOffice's .ods, an .xlsx
    renamed .xls, and an .xlsx whose table starts at C3. Each reads the same two
    points, the code 0012 kept as text."""
    import openpyxl

    rows = [["编号", "名称", "经度", "纬度"], ["0012", "井盖", 116.41, 39.91], ["7", "路灯", 116.42, 39.92]]
    path = tmp_path / name
    if kind == "xls with a cover sheet":
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        book.add_sheet("说明").write(0, 0, "部件台账：经纬度为 WGS84")
        sheet = book.add_sheet("台账")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        book.save(path)
    elif kind == "ods":
        pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path, engine="odf", index=False)
    else:
        book = openpyxl.Workbook()
        offset = 2 if kind == "xlsx from C3" else 0
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                book.active.cell(r + 1 + offset, c + 1 + offset, value)
        book.save(path)
    points = gk.catalogue.read_points(path, crs="EPSG:4326")
    assert points["编号"].tolist() == ["0012", "7"] and points["名称"].tolist() == ["井盖", "路灯"]
    assert shapely.get_coordinates(points.geometry.values).tolist() == [[116.41, 39.91], [116.42, 39.92]]


def test_a_header_of_two_rows_without_merged_cells_names_its_columns_uniquely(tmp_path):
    """坐标 typed over 经度 and 纬度 (not merged) is the header's first row; a name
    under two group headings is joined to them, and one still repeated is numbered
    as pandas numbers a CSV's."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["序号", "名称", "坐标", None, "权属单位", None, "养护单位", None, "代码", "代码"])
    book.active.append([None, None, "经度", "纬度", "名称", "代码", "名称", "代码"])
    book.active.append([1, "消防栓", 116.41, 39.91, "水务局", "111", "自来水", "222", "a", "b"])
    book.save(tmp_path / "two.xlsx")
    table = gk.catalogue.read_table(tmp_path / "two.xlsx")
    assert list(table.columns) == ["序号", "名称", "经度", "纬度", "权属单位/名称", "代码", "养护单位/名称", "代码.1",
                                   "代码.2", "代码.3"]
    assert table.iloc[0].tolist() == ["1", "消防栓", "116.41", "39.91", "水务局", "111", "自来水", "222", "a", "b"]


def test_an_exported_catalogue_s_class_ids_and_removals_edited_in_excel(tmp_path, package):
    """Stop 90's round trip of the components layer through Excel. Before: a class
    changed in class_code was undone by the ID without a word; an ID typed over with
    another's took the first row's place and position (the real component's row was
    the reject); a row whose ID was cleared was told to import the file under the
    component's source; a component typed 移除 had no end date; a new ID could be one
    a rejected row holds; and the same unedited copy imported again cleared every
    removed component's end date (each counted as updated)."""
    import openpyxl

    from gridkit.export import export_package

    args = _six_lamps(tmp_path, package)  # 11010101037000001 … 006
    short = pd.read_csv(args[-1]).iloc[:5]
    short.to_csv(args[-1], index=False)
    assert CliRunner().invoke(cli, [*args, "--date", "20260801"]).exit_code == 0  # 000006 removed on 20260801
    export_package(package, tmp_path / "book.xlsx", layers=["components"])
    book = openpyxl.load_workbook(tmp_path / "book.xlsx")
    sheet = book["components"]
    header = [c.value for c in sheet[1]]
    column = {name: header.index(name) + 1 for name in header}
    sheet.cell(row=2, column=column["class_code"]).value = "02014"  # 000001 a traffic signal now?
    sheet.cell(row=3, column=column["GLBJBSM"]).value = "11010101037000003"  # 000002 typed over with 000003
    sheet.cell(row=5, column=column["GLBJZT"]).value = "移除"  # 000004 taken away
    sheet.cell(row=6, column=column["GLBJBSM"]).value = None  # 000005's ID cleared
    sheet.cell(row=7, column=column["SZDYWGBSM"]).value = "110101001001001"  # 000006 "moved" by its cell
    new = [c.value for c in sheet[4]]
    for name in ("GLBJBSM", "source", "source_key", "end_date"):
        new[header.index(name)] = None
    new[header.index("Y")] += 60  # a new lamp, in the cell north of 000003
    outside = list(new)
    outside[header.index("GLBJBSM")], outside[header.index("Y")] = "11010101037000009", new[header.index("Y")] + 900
    sheet.append(new)
    sheet.append(outside)
    book.save(tmp_path / "edited.xlsx")
    imported = ["components", "import", "--grid", str(package), "--date", "20260901", str(tmp_path / "edited.xlsx"),
                "--rejects-dir", str(tmp_path), "--json"]
    result = CliRunner().invoke(cli, imported)
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)[0]
    assert s["rejected_by_reason"] == {"class_mismatch": 1, "duplicate_id": 2, "already_catalogued": 1, "outside": 1}
    assert (s["added"], s["updated"], s["unchanged"], s["removed"]) == (1, 1, 1, 0)
    # the cell is where a component lies: a cell typed over is not taken, and is counted
    # (the new lamp's too: the row copied from 000003 says 000003's cell)
    assert (s["cells_not_taken"], s["cells_not_taken_first"]) == (2, [7, "110101001001001", "110101001001003"])
    rejects = pd.read_csv(tmp_path / "edited.rejects.csv", dtype=str).set_index("row")["detail"].to_dict()
    # numbered as the sheet numbers its rows (the header is row 1)
    assert rejects["2"] == (
        "class_code 02014 (交通信号灯) is not the class of ID 11010101037000001, 01037 (路灯): a component's class is "
        "part of its ID. To reclassify it, mark this row removed (GLBJZT 移除) and add one without an ID, "
        "class_code 02014, for the component it becomes")
    assert (rejects["3"], rejects["4"]) == tuple(
        f"ID also on row {r}, with different attributes: keep the row that is the component, and give the others "
        "their own ID (or none, for a new one)" for r in (4, 3))
    assert rejects["6"] == ("component 11010101037000005 of inv has this class at this place; a row of a copy "
                            "without its ID is a new component: put its ID back (11010101037000005) to update it")
    cat = read_catalogue(package).set_index("GLBJBSM")
    held = cat[["class_code", "GLBJZT", "end_date"]].to_dict("index")
    assert held == {**{f"11010101037{k:06d}": {"class_code": "01037", "GLBJZT": "完好", "end_date": None}
                       for k in (1, 2, 3, 5)},
                    "11010101037000004": {"class_code": "01037", "GLBJZT": "移除", "end_date": "20260901"},
                    "11010101037000006": {"class_code": "01037", "GLBJZT": "移除", "end_date": "20260801"},
                    # after 000009, which the rejected row holds (before: 000007)
                    "11010101037000010": {"class_code": "01037", "GLBJZT": "完好", "end_date": None}}
    assert cat.loc[["11010101037000002", "11010101037000003"], "SZDYWGBSM"].tolist() == [
        "110101001001005", "110101001001006"]  # where they were
    # The copy exported again and imported as it is changes nothing, the end dates included.
    export_package(package, tmp_path / "again.xlsx", layers=["components"])
    again = json.loads(CliRunner().invoke(cli, [*imported[:6], str(tmp_path / "again.xlsx"), "--json"]).stdout)[0]
    assert (again["added"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 7, 0)
    assert read_catalogue(package).set_index("GLBJBSM")[["class_code", "GLBJZT", "end_date"]].to_dict("index") == held
    # The inventory imported again lists 000004, removed in the copy: it is back in use,
    # and a hint says so, with what to do if it was removed by hand (it was: stop 92).
    back = CliRunner().invoke(cli, [*args, "--date", "20261001"])
    assert back.exit_code == 0, back.output
    assert ("catalogue: 0 added, 1 updated, 4 unchanged, 0 removed; rejects" in back.output
            and "hint: 1 update brings back into use a component the catalogue held removed (11010101037000004, "
            "removed 20260901): the inventory lists it again. If it was removed by hand (in a copy or in QGIS: "
            "reclassified, say), delete the row from the inventory or mark it removed there (GLBJZT 移除), and import "
            "it again") in " ".join(back.output.split()), back.output
    assert read_catalogue(package).set_index("GLBJBSM").loc["11010101037000004", ["GLBJZT", "end_date"]].tolist() == [
        "完好", None]
    # The copy with its source columns deleted would move every component to its own
    # source: refused. A file of IDs that is no copy takes them, and says from where.
    frame = pd.read_excel(tmp_path / "again.xlsx", engine="calamine", dtype=str)
    frame.drop(columns=["source", "source_key"]).to_excel(tmp_path / "trimmed.xlsx", index=False)
    trimmed = CliRunner().invoke(cli, [*imported[:6], str(tmp_path / "trimmed.xlsx"), "--crs", "EPSG:4548"])
    assert trimmed.exit_code == 1 and (
        "trimmed.xlsx: a copy of a catalogue (gridkit export: it has class_code, class_name, county_code, source_row, "
        "assign_status) without its columns source and source_key, which keep each component's own source: imported "
        "so, every component it holds would move to this file's source. Put them back from the export, then import "
        "it") in " ".join(trimmed.output.split())
    frame[["GLBJBSM", "BZ", "X", "Y"]].iloc[:2].to_excel(tmp_path / "ledger.xlsx", index=False)
    ledger = CliRunner().invoke(cli, [*imported[:6], str(tmp_path / "ledger.xlsx"), "--crs", "EPSG:4548"])
    assert ledger.exit_code == 0, ledger.output
    assert ("hint: 2 of the rows' IDs were components of inv (2); they now belong to ledger, whose next import "
            "removes those it lacks") in ledger.output
    assert read_catalogue(package)["source"].tolist().count("ledger") == 2


def test_dates_typed_in_an_exported_catalogue_are_taken(tmp_path, package):
    """In the Excel copy of the catalogue, a survey date put right (typed as an Excel
    date) and a change date typed were left as they were: the row with only its
    change date typed came back unchanged. Now a copy's survey date is taken, and a
    change date later than the one held is the day of the change (today when it is
    before the survey date, as the import's own rule has it). The same copy
    imported again changes nothing."""
    import datetime

    import openpyxl

    from gridkit.export import export_package

    args = _six_lamps(tmp_path, package)  # surveyed 20260701, no change date
    export_package(package, tmp_path / "book.xlsx", layers=["components"])
    book = openpyxl.load_workbook(tmp_path / "book.xlsx")
    sheet = book["components"]
    header = [c.value for c in sheet[1]]
    survey, change = header.index("CSRQ") + 1, header.index("BGRQ") + 1
    sheet.cell(row=2, column=survey).value = datetime.datetime(2026, 3, 1)  # 000001: surveyed in March
    sheet.cell(row=3, column=change).value = "20260910"  # 000002: changed in September
    sheet.cell(row=4, column=change).value = "20260601"  # 000003: a change before its survey
    book.save(tmp_path / "edited.xlsx")
    imported = [*args[:-3], "--date", "20261001", str(tmp_path / "edited.xlsx"), "--json"]
    result = CliRunner().invoke(cli, imported)
    assert (json.loads(result.output)[0]["updated"], json.loads(result.output)[0]["unchanged"]) == (3, 3)
    dates = read_catalogue(package).set_index("GLBJBSM")[["CSRQ", "BGRQ"]].to_dict("index")
    assert dates == {f"11010101037{k:06d}": {"CSRQ": "20260301" if k == 1 else "20260701",
                                             "BGRQ": {1: "20261001", 2: "20260910", 3: "20261001"}.get(k)}
                     for k in range(1, 7)}
    again = CliRunner().invoke(cli, imported)
    assert (json.loads(again.output)[0]["updated"], json.loads(again.output)[0]["unchanged"]) == (0, 6)
    assert read_catalogue(package).set_index("GLBJBSM")[["CSRQ", "BGRQ"]].to_dict("index") == dates


def test_a_catalogue_exported_by_its_chinese_or_legacy_names(tmp_path, package, caplog):
    """``export --fields chinese`` heads the standard's fields by their Chinese names,
    as a department's ledger does, and the copy comes back as edits: nothing changes.
    ``--fields legacy`` names them as CJ/T 214 systems do, with 16-digit IDs converted
    by class meaning: a class with no legacy counterpart (01014) leaves ObjID empty and
    says why, and two 2026 classes folding into one legacy class (01030, 01031 → 0117)
    do not make one ID twice."""
    from gridkit.export import export_package

    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 250], [Y0 + 50, Y0 + 50, Y0 + 50, Y0 + 150])
    ids = ["11010101001000001", "11010101014000001", "11010101030000001", "11010101031000001"]
    inventory = _csv(tmp_path, [dict(GLBJBSM=i, lon=a, lat=b) for i, a, b in zip(ids, lon, lat)], name="covers.csv")
    args = ["components", "import", "--grid", str(package), "--date", "20260701"]
    assert CliRunner().invoke(cli, [*args, str(inventory)]).exit_code == 0
    ledger = tmp_path / "ledger.xlsx"
    result = CliRunner().invoke(cli, ["export", str(package), "--layer", "components", "--fields", "chinese",
                                      "-o", str(ledger)])
    assert result.exit_code == 0, result.output
    header = pd.read_excel(ledger, engine="calamine", dtype=str).columns.tolist()
    assert header[:4] == ["管理部件标识码", "管理部件名称", "主管部门代码", "主管部门名称"] and "GLBJBSM" not in header
    again = CliRunner().invoke(cli, [*args, str(ledger)])
    assert again.exit_code == 0, again.output
    assert "a copy of a catalogue" in again.output and "catalogue: 0 added, 0 updated, 4 unchanged, 0 removed" \
        in again.output

    with caplog.at_level(logging.WARNING, logger="gridkit.export"):
        export_package(package, tmp_path / "objects.csv", layers=["components"], fields="legacy", crs="EPSG:4326")
    assert ("1 of 4 components have no CJ/T 214 ID, so an empty ObjID (convert_note says why): 2026 class 01014 "
            "has no CJ/T 214 counterpart (1)") in caplog.text
    table = pd.read_csv(tmp_path / "objects.csv", dtype=str, keep_default_na=False)
    assert table.columns[:4].tolist() == ["ObjID", "ObjID_2026", "ObjName", "DeptCode1"]
    assert {"BGID", "ObjState", "ORDate", "PointX", "PointY"} <= set(table.columns) and "X" not in table
    assert table[["ObjID", "ObjID_2026", "BGID", "ObjState", "ORDate"]].values.tolist() == [
        ["1101010101000001", ids[0], "110101001001004", "完好", "20260701"],
        ["", ids[1], "110101001001005", "完好", "20260701"],
        ["1101010117000001", ids[2], "110101001001006", "完好", "20260701"],
        ["1101010117000002", ids[3], "110101001001003", "完好", "20260701"]]
    assert table["convert_note"].tolist() == [
        "", "2026 class 01014 has no CJ/T 214 counterpart", "",
        "renumbered: 11010101031000001 folds into the same legacy class as another ID"]
    assert np.allclose(table[["PointX", "PointY"]].astype(float).to_numpy(), np.c_[lon, lat], atol=1e-9)
    export_package(package, tmp_path / "platform.shp", layers=["components"], fields="legacy")
    fields = pyogrio.read_info(tmp_path / "platform.shp")["fields"].tolist()
    assert fields[:3] == ["ObjID", "ObjID_2026", "ObjName"] and "conv_note" in fields
    # A Shapefile cannot name a field in Chinese; the fields are the components' only
    for kind, out, layers, message in (
            ("chinese", "ledger.shp", ["components"], "a Shapefile's field names hold 10 bytes"),
            ("legacy", "cells.csv", ["cells"], "--fields legacy .fields=. names the components' fields")):
        with pytest.raises(InputError, match=message):
            export_package(package, tmp_path / out, layers=layers, fields=kind)
        assert not (tmp_path / out).exists()


LAMPS, OFFICE = "12110101MB12345674", "111101010000678902"  # credit codes with their check characters
ROUTES = f"""
[departments."路灯所"]
code = "{LAMPS}"
[departments."东华门街道办事处"]
code = "{OFFICE}"
[departments."城管"]
code = ""
[territorial]
"*" = "东华门街道办事处"
[[rule]]
classes = ["01037"]
department = "路灯所"
[[rule]]
area = "110101001001001"
classes = ["01"]
department = "城管"
"""


def test_departments_come_from_the_routing_table_and_stay_through_imports(tmp_path, package):
    """`components import --routes` fills the responsible department (ZGBMDM, ZGBMMC)
    of rows naming none by class and place, and the code of one named by name; an
    import without the table keeps the departments held while class and cell stay;
    `components departments` fills those left with the import's default name, and
    writes nothing when nothing changes."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 250], [Y0 + 150, Y0 + 150, Y0 + 150, Y0 + 50])
    names = ["", "", "", "东华门街道办事处"]
    inventory = _csv(tmp_path, [dict(lon=a, lat=b, ZGBMMC=n, BZ=str(i), class_code="01037") for i, (a, b, n) in
                                enumerate(zip(lon, lat, names))])
    routes = tmp_path / "routing.toml"
    routes.write_text(ROUTES, encoding="utf-8")
    mapping = tmp_path / "mapping.toml"  # rows known by their BZ, so that one can change its class
    mapping.write_text('class_field = "class_code"\nsource_key = "BZ"\n', encoding="utf-8")
    args = ["components", "import", str(inventory), "--grid", str(package), "--mapping", str(mapping), "--date",
            "20260101"]
    first = CliRunner().invoke(cli, [*args, "--routes", str(routes)])
    assert first.exit_code == 0, first.output
    assert (f"  departments: from {routes}: 3 routed by class and place, 1 took the code of the department they name,"
            " 0 the name of their code; 1 left without a credit code (城管 1: give their code in the table)\n"
            in first.output)
    held = read_catalogue(package)
    assert held["SZDYWGBSM"].tolist() == [f"110101001001{i:03d}" for i in (1, 2, 3, 6)]
    assert held["ZGBMMC"].tolist() == ["城管", "路灯所", "路灯所", "东华门街道办事处"]
    assert held["ZGBMDM"].tolist() == [None, LAMPS, LAMPS, OFFICE]
    # Imported again without the table: kept; one row's class changed: its class's suggested name.
    again = CliRunner().invoke(cli, [*args, "--date", "20260201"])
    assert "0 added, 0 updated, 4 unchanged" in again.output, again.output
    assert read_catalogue(package)["ZGBMDM"].tolist() == [None, LAMPS, LAMPS, OFFICE]
    table = pd.read_csv(inventory, dtype=str).assign(class_code=["01037", "01001", "01037", "01037"])
    table.to_csv(inventory, index=False)
    moved = CliRunner().invoke(cli, [*args, "--date", "20260301"])
    assert "0 added, 1 updated, 3 unchanged" in moved.output, moved.output
    held = read_catalogue(package)
    assert held["ZGBMMC"].tolist() == ["城管", "供水企业/水务局", "路灯所", "东华门街道办事处"]
    assert held["ZGBMDM"].tolist() == [None, None, LAMPS, OFFICE]
    # The held catalogue filled: the default name counts as none (01001 has no rule: territorial).
    fill = ["components", "departments", str(package), "--routes", str(routes), "--date", "20260401"]
    result = CliRunner().invoke(cli, fill)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith("4 components in use; from " + str(routes) + ": 1 routed by class "
                                                  "and place, 0 took the code of the department they name, 0 the "
                                                  "name of their code; 1 left without a credit code (城管 1: give "
                                                  "their code in the table)")
    assert "catalogue    1 changed (change date 20260401)" in result.output
    held = read_catalogue(package)
    assert held["ZGBMDM"].tolist() == [None, OFFICE, LAMPS, OFFICE]
    assert held["ZGBMMC"].tolist() == ["城管", "东华门街道办事处", "路灯所", "东华门街道办事处"]
    assert held["BGRQ"].tolist() == [None, "20260401", None, None]
    before = package.read_bytes()
    assert "0 changed (change date today), nothing written" in CliRunner().invoke(cli, fill[:5]).output
    assert package.read_bytes() == before
    # --every: the row that named its department is routed afresh, by its class.
    every = CliRunner().invoke(cli, [*fill, "--every", "--json"])
    assert json.loads(every.output) == {"in_use": 4, "routed": 4, "by_name": 0, "by_code": 0, "no_code": 1,
                                        "no_code_by_department": {"城管": 1}, "changed": 1}
    assert read_catalogue(package)["ZGBMMC"].tolist() == ["城管", "东华门街道办事处", "路灯所", "路灯所"]
    # A table that does not load: the error names it, and the package is as it was.
    before = package.read_bytes()
    routes.write_text(ROUTES.replace("classes = [\"01037\"]", "class = [\"01037\"]"), encoding="utf-8")
    bad = CliRunner().invoke(cli, [*fill, "--every"])
    assert bad.exit_code == 1 and f"{routes}: rule 1" in bad.output, bad.output
    assert package.read_bytes() == before
    # One that loads with errors `route check` lists (a check character typed wrong):
    # its code was written into every component it routed. Refused, by import too.
    routes.write_text(ROUTES.replace(LAMPS, LAMPS[:-1] + "5"), encoding="utf-8")
    for wrong in ([*fill, "--every"], [*args, "--routes", str(routes)]):
        refused = CliRunner().invoke(cli, wrong)
        assert refused.exit_code == 1 and refused.output == (
            f"Error: {routes}: department '路灯所': code {LAMPS[:-1]}5 check character is 5, should be 4. Fix the "
            f"table (`gridkit route check {routes}` checks it), then route with it\n"), refused.output
        assert package.read_bytes() == before


def test_components_check_names_each_field_the_standard_refuses(tmp_path, package):
    """The import keeps the inventory's names, department codes and status words as
    written, and its dates as YYYYMMDD where a ledger writes them otherwise (2026/7/1);
    `components check` says which break GB/T 47678.5-2026's field table (with exit
    status 1), one row per component and problem in --problems. An inventory fixed
    and imported again repairs the survey date held (which an update otherwise keeps),
    and a change date before it becomes the day of the repair."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 250], [Y0 + 50, Y0 + 50, Y0 + 50, Y0 + 150])
    good = "91350100M000100Y43"
    rows = [dict(ZGBMDM=good, GLBJMC="路灯", CSRQ="2026/7/1", BGRQ="", GLBJZT="完好"),
            dict(ZGBMDM="91350100M000100Y44", GLBJMC="路灯" * 16, CSRQ="20260230", BGRQ="", GLBJZT="坏了"),
            dict(ZGBMDM="", GLBJMC="路灯", CSRQ="July 2026", BGRQ="", GLBJZT="完好"),
            dict(ZGBMDM=good, GLBJMC="路灯", CSRQ="20260701", BGRQ="20250101", GLBJZT="完好")]
    inventory = _csv(tmp_path, [dict(lon=a, lat=b, **r) for a, b, r in zip(lon, lat, rows)])
    args = ["components", "import", "--grid", str(package), "--class", "01037"]
    assert CliRunner().invoke(cli, [*args, str(inventory)]).exit_code == 0
    assert read_catalogue(package)["CSRQ"].tolist() == ["20260701", "20260230", "July 2026", "20260701"]
    out = tmp_path / "problems.csv"
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--problems", str(out)])
    assert result.exit_code == 1, result.output
    assert "4 components (0 removed) against GB/T 47678.5-2026's fields" in result.output
    assert "3 of 4 components have a problem (8 in all); each in" in result.output
    found = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert found[["GLBJBSM", "field", "problem", "detail"]].values.tolist() == [
        ["11010101037000002", "GLBJMC", "too_long", "32 characters; the field holds 30"],
        ["11010101037000002", "ZGBMDM", "bad_credit_code", "check character is 4, should be 3"],
        ["11010101037000002", "GLBJZT", "bad_status", "the standard's words: 完好 破损 丢失 废弃 移除"],
        ["11010101037000002", "CSRQ", "bad_date", "no such day"],
        ["11010101037000003", "ZGBMDM", "empty", "mandatory: fill it from the routing table (gridkit components "
         "departments --routes TABLE), or give it (a mapping file's [values] ZGBMDM = …) and import again"],
        ["11010101037000003", "CSRQ", "too_long", "9 characters; the field holds 8"],
        ["11010101037000003", "CSRQ", "bad_date", "not 8 digits, YYYYMMDD"],
        ["11010101037000004", "BGRQ", "bad_date", "before the survey date CSRQ 20260701"]]
    assert found["field_name"].tolist()[:2] == ["管理部件名称", "主管部门代码"]
    # Fixed in the inventory and imported again: all holds, exit status 0
    fixed = _csv(tmp_path, [dict(lon=a, lat=b, **rows[0]) for a, b in zip(lon, lat)])
    assert CliRunner().invoke(cli, [*args, "--date", "20261201", str(fixed)]).exit_code == 0
    held = read_catalogue(package)
    assert held["CSRQ"].tolist() == ["20260701"] * 4
    assert held["BGRQ"].tolist() == [None, "20261201", "20261201", "20261201"]
    again = CliRunner().invoke(cli, ["components", "check", "--grid", str(package), "--problems", str(out),
                                     "--overwrite"])
    assert again.exit_code == 0, again.output
    assert "every component meets the standard's field table" in again.output
    assert len(pd.read_csv(out)) == 0


def _six_lamps(tmp_path, package):
    """Six street lights imported, one in each cell of the first community (IDs
    11010101037000001 … 006, surveyed 20260701, a department each); the import's
    arguments, to run it again."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 50, X0 + 150, X0 + 250],
                       [Y0 + 50] * 3 + [Y0 + 150] * 3)
    good = "91350100M000100Y43"
    inventory = _csv(tmp_path, [dict(lon=a, lat=b, ZGBMDM=good, CSRQ="20260701") for a, b in zip(lon, lat)])
    args = ["components", "import", "--grid", str(package), "--class", "01037", str(inventory)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    return args


def test_components_check_names_ids_edited_by_hand(tmp_path, package):
    """The catalogue's attribute table edited in QGIS: an ID typed over with
    another's (both holders named, a removed one too: an ID is one component's),
    a digit lost, a class the table does not know, a county not the layout's.
    Each is named in --problems; the sound ID (000005) is not."""
    _six_lamps(tmp_path, package)
    catalogue = read_catalogue(package)
    assert catalogue["GLBJBSM"].tolist() == [f"11010101037{k:06d}" for k in range(1, 7)]
    catalogue.loc[0, "GLBJZT"] = "移除"
    catalogue["GLBJBSM"] = ["11010101037000001", "11010101037000001", "1101010103700003", "11010199999000004",
                            "11010101037000005", "12010101037000006"]
    write_catalogue(package, catalogue)
    out = tmp_path / "problems.csv"
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--problems", str(out)])
    assert result.exit_code == 1, result.output
    assert "5 of 6 components have a problem (5 in all)" in result.output
    found = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert found[["GLBJBSM", "problem", "detail"]].values.tolist() == [
        ["11010101037000001", "duplicate_id", "2 components hold it: --fix-ids gives all but one a new ID"],
        ["11010101037000001", "duplicate_id", "2 components hold it: --fix-ids gives all but one a new ID"],
        ["1101010103700003", "bad_id", "has 16 characters; a GB/T 47678.5-2026 component ID has 17 digits (a "
         "16-digit ID is legacy CJ/T 214: use --scheme legacy or convert it)"],
        ["11010199999000004", "bad_id", ClassTable("2026").class_problem("99999")],
        ["12010101037000006", "bad_id", "county 120101 is not the layout's (110101)"]]
    assert set(found["field"]) == {"GLBJBSM"}


def test_components_check_fix_ids_gives_shared_and_blank_ids_new_ones_and_import_then_works(tmp_path, package):
    """IDs pasted over in QGIS: 000001 on a removed component and one in use (the
    one in use keeps it, though surveyed later), 000003 on two in use (the earlier
    surveyed keeps it), 000005's blanked. An import refuses the catalogue (it
    matches rows by ID); --fix-ids gives the others 000007, 000008, 000009 (after
    the highest, 000006), in the catalogue's order, with a change date; then the
    import runs and check finds no ID problem."""
    args = _six_lamps(tmp_path, package)
    catalogue = read_catalogue(package)
    catalogue.loc[0, ["GLBJZT", "end_date"]] = ["移除", "20260801"]
    catalogue["CSRQ"] = ["20260101", "20260901", "20260801", "20260701", None, "20260701"]
    catalogue["GLBJBSM"] = ["11010101037000001", "11010101037000001", "11010101037000003", "11010101037000003",
                            None, "11010101037000006"]
    write_catalogue(package, catalogue)
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1
    assert "holds 2 ID(s) on more than one component (e.g. 11010101037000001 on 2" in refused.output
    assert "`gridkit components check PACKAGE --fix-ids`" in refused.output
    before = package.read_bytes()
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--fix-ids", "--date", "20261201"])
    assert result.output.splitlines()[:4] == [
        f"{package}  components: 3 component(s) given a new ID, in place",
        "  11010101037000001 → 11010101037000007", "  11010101037000003 → 11010101037000008",
        "  (blank) → 11010101037000009"]
    assert package.read_bytes() != before
    held = read_catalogue(package)
    assert held["GLBJBSM"].tolist() == ["11010101037000007", "11010101037000001", "11010101037000008",
                                        "11010101037000003", "11010101037000009", "11010101037000006"]
    assert held["BGRQ"].tolist() == ["20261201", None, "20261201", None, "20261201", None]
    assert "GLBJBSM" not in result.output
    assert CliRunner().invoke(cli, args).exit_code == 0


def test_components_added_by_hand_then_listed_by_an_inventory_are_its_updates(tmp_path, package):
    """Points added in QGIS (given their IDs there) have no source row; an inventory
    listing them by ID, each with a note, then takes them in as updates of its own,
    with its row numbers. The import once failed here with pandas's "Invalid value
    '[]' for dtype 'int64'": no row was unchanged, and the rows to keep came from a
    column holding nothing but gaps."""
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50, Y0 + 50])
    ids = ["11010101037000001", "11010101037000002"]
    crs = pyogrio.read_info(package, layer="cells")["crs"]  # a layer begun in QGIS
    added = gpd.GeoDataFrame({"GLBJBSM": ids, "GLBJMC": ["路灯"] * 2, "class_code": ["01037"] * 2},
                             geometry=shapely.points([X0 + 50, X0 + 150], [Y0 + 50] * 2), crs=4548).to_crs(crs)
    pyogrio.write_dataframe(added, package, layer="components")
    inventory = _csv(tmp_path, [dict(GLBJBSM=i, lon=a, lat=b, BZ="普查") for i, a, b in zip(ids, lon, lat)],
                     name="lamps.csv")
    run = CliRunner().invoke(cli, ["components", "import", "--grid", str(package), "--class", "01037", "--json",
                                   str(inventory)])
    assert run.exit_code == 0, run.output
    (summary,) = json.loads(run.stdout)
    assert (summary["updated"], summary["unchanged"], summary["added"]) == (2, 0, 0)
    cat = read_catalogue(package)
    assert cat[["GLBJBSM", "BZ", "source", "source_row"]].values.tolist() == [
        [ids[0], "普查", "lamps", 1], [ids[1], "普查", "lamps", 2]]


def test_a_component_added_by_hand_in_qgis_gets_its_cell_then_an_id(tmp_path, package):
    """A point added to the components layer in QGIS with a name and a class only:
    components check names the ID it lacks and how to give it; reassign gives it its
    cell (and writes its blank source row as blank, not as -2**63); --fix-ids then
    gives it the next ID of the grid's county and its class."""
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50, Y0 + 50])
    inventory = _csv(tmp_path, [dict(lon=a, lat=b) for a, b in zip(lon, lat)])
    assert CliRunner().invoke(cli, ["components", "import", "--grid", str(package), "--class", "01037",
                                    str(inventory)]).exit_code == 0
    crs = pyogrio.read_info(package, layer="components")["crs"]
    added = gpd.GeoDataFrame({"GLBJMC": ["路灯"], "class_code": ["01037"]},
                             geometry=[shapely.Point(X0 + 250, Y0 + 150)], crs=4548).to_crs(crs)
    pyogrio.write_dataframe(added, package, layer="components", append=True)
    out = tmp_path / "problems.csv"
    CliRunner().invoke(cli, ["components", "check", str(package), "--problems", str(out)])
    found = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("field")
    assert found.loc["GLBJBSM", "detail"] == ("mandatory: --fix-ids gives the next ID of its county and class (a "
                                              "component added in QGIS: `gridkit components reassign` first, for "
                                              "its grid)")
    # no inventory of its own to give it through and import again: typed in, or filled by reassign
    assert found.loc["CSRQ", "detail"] == ("mandatory: type it in (a component added by hand has no inventory to "
                                           "import again)")
    assert found.loc["SZDYWGBSM", "detail"] == ("mandatory: `gridkit components reassign` fills it (and the street "
                                                "and community) from the cell holding the component")
    assert CliRunner().invoke(cli, ["components", "reassign", str(package)]).exit_code == 0
    held = read_catalogue(package)
    assert held["SZDYWGBSM"].tolist() == ["110101001001004", "110101001001005", "110101001001003"]
    assert held["source_row"].iloc[:2].tolist() == [1, 2] and pd.isna(held["source_row"].iloc[2])
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--fix-ids"])
    assert result.output.splitlines()[:2] == [f"{package}  components: 1 component(s) given a new ID, in place",
                                              "  (blank) → 11010101037000003"]
    held = read_catalogue(package)
    assert held["county_code"].tolist() == ["110101"] * 3
    # its blank class name: counted with its class; alone, named by the class table
    assert catalogue_stats(held)[["class_code", "class_name", "components"]].values.tolist() == [["01037", "路灯", 3]]
    assert catalogue_stats(held.iloc[2:])["class_name"].tolist() == [ClassTable("2026").classes["01037"].name]
    assert gk.package.describe_package(package)["components"]["classes"] == {"01037 路灯": 3}


def test_class_codes_edited_by_hand_are_named_and_fix_ids_follows_them(tmp_path, package):
    """gridkit's class column edited in QGIS, the IDs left as they were: 000001's
    class typed out, 000002's typed over with no class, 000003's with the hydrant
    class (classed anew) and its county code a digit short, 000004's ID blanked and
    its class typed over with no class, and a point added with neither. components check names each; --fix-ids
    fills 000001's class from its ID, gives 000003 a hydrant's ID and name, and
    gives none to a component without a class of the table (it used to issue
    11010199999000001, an ID of no class)."""
    _six_lamps(tmp_path, package)
    catalogue = read_catalogue(package)
    catalogue["class_code"] = [None, "99999", "01013", "99999", "01037", "01037"]
    catalogue.loc[3, "GLBJBSM"] = None
    catalogue.loc[2, "county_code"] = "11010"  # a digit lost: the grid's county, not an ID of 16 digits
    write_catalogue(package, catalogue)
    crs = pyogrio.read_info(package, layer="components")["crs"]
    added = gpd.GeoDataFrame({"GLBJMC": ["路灯"]}, geometry=[shapely.Point(X0 + 250, Y0 + 150)], crs=4548)
    pyogrio.write_dataframe(added.to_crs(crs), package, layer="components", append=True)
    out = tmp_path / "problems.csv"
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--problems", str(out)])
    assert result.exit_code == 1, result.output
    found = pd.read_csv(out, dtype=str, keep_default_na=False)
    found = found[found["field"] == "class_code"]
    lamp, hydrant = (ClassTable("2026").classes[c].name for c in ("01037", "01013"))
    unknown = ClassTable("2026").class_problem("99999")
    assert found[["GLBJBSM", "field_name", "problem", "detail"]].values.tolist() == [
        ["11010101037000001", "部件类别代码 (gridkit)", "empty",
         f"gridkit's column: --fix-ids fills it from the ID, 01037 {lamp}"],
        ["11010101037000002", "部件类别代码 (gridkit)", "bad_class",
         f"{unknown}: type a class of the table (`gridkit components classes WORD` finds it)"],
        ["11010101037000003", "部件类别代码 (gridkit)", "other_class",
         f"the ID is of class 01037 {lamp}: --fix-ids gives it a new ID of class 01013 {hydrant} (classed anew, "
         "or an ID pasted over); if the ID is right, type 01037 back"],
        ["", "部件类别代码 (gridkit)", "bad_class",
         f"{unknown}: type a class of the table (`gridkit components classes WORD` finds it)"],
        ["", "部件类别代码 (gridkit)", "empty", "gridkit's column: type the component's class code (`gridkit "
         "components classes WORD` finds it); --fix-ids then gives its ID"]]
    assert CliRunner().invoke(cli, ["components", "reassign", str(package), "--date", "20261130"]).exit_code == 0
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--fix-ids", "--date", "20261201"])
    assert result.output.splitlines()[:4] == [
        f"{package}  components: 1 component(s) given a new ID, in place",
        "  11010101037000003 → 11010101013000001",
        "  1 blank class code(s) filled from the ID, in place",
        "  2 component(s) left without an ID: no class code of the table, or no grid (the problems below name them)"]
    held = read_catalogue(package)
    assert held["GLBJBSM"].tolist() == ["11010101037000001", "11010101037000002", "11010101013000001", None,
                                        "11010101037000005", "11010101037000006", None]
    assert held["class_code"].tolist() == ["01037", "99999", "01013", "99999", "01037", "01037", None]
    assert held["class_name"].tolist()[:3] == ["路灯", "路灯", hydrant]
    assert held["BGRQ"].tolist() == [None, None, "20261201", None, None, None, "20261130"]  # the added: its cell


def test_local_extension_classes_are_the_packages_after_the_import(tmp_path, package):
    """An import with --extensions records the local classes in the package:
    components check then knows 21001 (it named every such ID "unknown class"),
    the next import needs no --extensions for it, and a layout written over the
    package carries the record."""
    (tmp_path / "local.toml").write_text('[classes.21001]\nname = "共享单车停放区"\ndepartment = "城管局"\n',
                                          encoding="utf-8")
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50, Y0 + 50])
    bikes = _csv(tmp_path, [dict(lon=lon[0], lat=lat[0], ZGBMDM="91350100M000100Y43", CSRQ="20260701")],
                 name="bikes.csv")
    run = ["components", "import", "--grid", str(package), "--class", "21001"]
    assert CliRunner().invoke(cli, [*run, "--extensions", str(tmp_path / "local.toml"), str(bikes)]).exit_code == 0
    recorded = json.loads(gk.read_package(package)[2]["component_local_classes"])
    assert recorded == {"21001": {"name": "共享单车停放区", "name_en": "", "big_name": "本地扩展",
                                  "department": "城管局"}}
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--fix-ids"])
    assert result.output.splitlines()[0] == f"{package}  components: 0 component(s) given a new ID"
    assert "bad_id" not in result.output and "the class table lacks" not in result.output
    more = _csv(tmp_path, [dict(lon=lon[1], lat=lat[1])], name="more.csv")
    assert CliRunner().invoke(cli, [*run, str(more)]).exit_code == 0
    assert read_catalogue(package)["GLBJBSM"].tolist() == ["11010121001000001", "11010121001000002"]
    from gridkit_cli.grid import carried_from

    assert json.loads(carried_from(package)[2]["component_local_classes"]) == recorded


def test_a_component_whose_point_was_deleted_in_qgis_is_named_not_a_crash(tmp_path, package):
    """Two points deleted in QGIS (the rows kept): gridkit check said "2 point(s)
    have NaN or infinite coordinates" and sent the user to reassign, which failed
    with the same words; components show and the legacy export crashed. Now check
    names them, and so does components check; reassign leaves them and says so;
    show says there is no location; the export leaves their coordinates empty;
    importing the inventory again gives them their points back."""
    args = _six_lamps(tmp_path, package)
    layer = pyogrio.read_dataframe(package, layer="components")
    layer.loc[[1, 4], "geometry"] = None
    pyogrio.write_dataframe(layer, package, layer="components", driver="GPKG")
    result = CliRunner().invoke(cli, ["check", str(package)])
    assert result.exit_code == 1
    assert ("  2 component(s) in use (e.g. 11010101037000002) have no position (a point deleted in QGIS, or a row "
            "added in the attribute table): give each its point in QGIS, or import its inventory again"
            ) in result.output.splitlines()
    out = tmp_path / "problems.csv"
    CliRunner().invoke(cli, ["components", "check", str(package), "--problems", str(out)])
    found = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert found[["GLBJBSM", "field", "field_name", "problem"]].values.tolist() == [
        ["11010101037000002", "geometry", "空间位置", "no_position"],
        ["11010101037000005", "geometry", "空间位置", "no_position"]]
    result = CliRunner().invoke(cli, ["components", "reassign", str(package)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (f"{package}: 6 components in use; 0 in another cell now, 0 in another "
                                             "micro-grid; 2 without a position left as they were (`gridkit check` "
                                             "names them)")
    shown = CliRunner().invoke(cli, ["components", "show", "11010101037000005", "--grid", str(package)])
    assert shown.exit_code == 0, shown.output
    assert ("location     none: its point was deleted, or it was added without one (give it one in QGIS)"
            in shown.output.splitlines())
    legacy = tmp_path / "legacy.csv"  # the legacy export crashed (coordinates one short of the rows)
    exported = CliRunner().invoke(cli, ["export", str(package), "--layer", "components", "--fields", "legacy", "-o",
                                        str(legacy)])
    assert exported.exit_code == 0, exported.output
    table = pd.read_csv(legacy, dtype={"ObjID": str})
    assert table["PointX"].isna().tolist() == [False, True, False, False, True, False]
    assert table["ObjID"].tolist()[:2] == ["1101010118000001", "1101010118000002"]  # 01037 is legacy 0118
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert CliRunner().invoke(cli, ["check", str(package)]).exit_code == 0
    assert not gk.catalogue.without_position(read_catalogue(package)).any()


def test_a_point_moved_out_in_qgis_is_named_and_a_status_typed_removed_is_removed(tmp_path, package):
    """A street light dragged 5 km out of the layout in QGIS: check names it and
    what to do (it said only "lie in no cell now"), reassign refuses, naming it
    too. Its status then typed 移除 (removed) in the attribute table, end_date left
    blank: check, reassign and stats all count it removed (check and reassign went
    by end_date alone, stats by the status)."""
    _six_lamps(tmp_path, package)
    layer = pyogrio.read_dataframe(package, layer="components")
    layer.loc[2, "geometry"] = shapely.affinity.translate(layer.geometry[2], 5_000, 5_000)
    pyogrio.write_dataframe(layer, package, layer="components", driver="GPKG")
    hint = "moved out of the layout in QGIS? move it back, or mark it removed (GLBJZT 移除)"
    assert gk.check_package(package)["components"].problems == [
        "1 component(s) (e.g. 11010101037000003) the catalogue puts in 110101001001006 lie in no cell now, nor near "
        f"one: {hint}"]
    result = CliRunner().invoke(cli, ["components", "reassign", str(package)])
    assert result.exit_code == 1
    assert result.output == ("Error: component 11010101037000003 (row 2 of the catalogue) lies in no cell of the "
                             f"layout and near none (1 such; {hint}): the layouts do not cover the same ground\n")
    layer.loc[2, "GLBJZT"] = "移除"
    pyogrio.write_dataframe(layer, package, layer="components", driver="GPKG")
    report = gk.check_package(package)["components"]
    assert report.ok and report.cells == 5
    result = CliRunner().invoke(cli, ["components", "reassign", str(package), "--json"])
    assert json.loads(result.output)["in_use"] == 5
    assert catalogue_stats(read_catalogue(package))["components"].tolist() == [5]
    assert gk.catalogue.in_use(read_catalogue(package)).tolist() == [True, True, False, True, True, True]


def test_a_components_layer_saved_over_in_degrees_is_read_in_the_layouts_crs(tmp_path, package):
    """The components layer saved over in QGIS in EPSG:4326 (to share it): the next
    import wrote its new rows in the layout's metres beside the old rows' degrees,
    under one CRS, and check then found every old component far outside; reassign
    said the layout was in EPSG:4326. The catalogue is now read in the package's
    CRS in metres: the import finds every component unchanged, reassign and check
    pass, also once the cells are saved over in degrees."""
    args = _six_lamps(tmp_path, package)
    layer = pyogrio.read_dataframe(package, layer="components")
    pyogrio.write_dataframe(layer.to_crs(4326), package, layer="components", driver="GPKG")
    catalogue = read_catalogue(package)
    assert catalogue.crs.equals(pyproj.CRS(4548))
    assert np.allclose(shapely.get_coordinates(catalogue.geometry), shapely.get_coordinates(layer.geometry))
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert json.loads(result.output)[0]["unchanged"] == 6
    assert CliRunner().invoke(cli, ["components", "reassign", str(package)]).exit_code == 0
    assert CliRunner().invoke(cli, ["check", str(package)]).exit_code == 0
    assert pyproj.CRS(pyogrio.read_info(package, layer="components")["crs"]).equals(pyproj.CRS(4548))
    # the cells saved over in degrees too: the catalogue stays in the package's metres (its metadata's CRS)
    cells = pyogrio.read_dataframe(package, layer="cells")
    pyogrio.write_dataframe(cells.to_crs(4326), package, layer="cells", driver="GPKG")
    assert read_catalogue(package).crs.equals(pyproj.CRS(4548))
    assert CliRunner().invoke(cli, ["components", "reassign", str(package)]).exit_code == 0


def test_a_components_layer_with_fields_retyped_in_qgis_reads_as_text(tmp_path, package):
    """The components layer saved over with its IDs and codes as integer fields and
    its survey date as a Date (QGIS's Refactor fields, say; class 01037 then holds
    1037): the next import found all six lamps changed, gave them today's change
    date, and wrote "2026-07-01 00:00:00" as the date of rows it did not touch. The
    fields are read as the catalogue's text: nothing has changed. A decimal field
    has already lost the IDs' last digits: refused, with the field named."""
    args = _six_lamps(tmp_path, package)
    layer = pyogrio.read_dataframe(package, layer="components")
    layer.loc[5, "SZDYWGBSM"] = None  # a blank among the integers
    for column in ("GLBJBSM", "SZDYWGBSM", "class_code", "county_code"):
        layer[column] = layer[column].astype("Int64")
    layer["CSRQ"] = pd.to_datetime(layer["CSRQ"], format="%Y%m%d").dt.date
    pyogrio.write_dataframe(layer, package, layer="components", driver="GPKG", use_arrow=True)
    types = dict(zip(*map(pyogrio.read_info(package, layer="components").get, ("fields", "dtypes"))))
    assert (types["GLBJBSM"], types["class_code"], types["CSRQ"]) == ("int64", "int64", "datetime64[D]")
    catalogue = read_catalogue(package)
    assert catalogue["GLBJBSM"].tolist() == [f"11010101037{k:06d}" for k in range(1, 7)]
    assert catalogue["class_code"].tolist() == ["01037"] * 6 and catalogue["county_code"].tolist() == ["110101"] * 6
    assert catalogue["CSRQ"].tolist() == ["20260701"] * 6 and catalogue["SZDYWGBSM"][5] is None
    assert catalogue["source_row"].tolist() == [1, 2, 3, 4, 5, 6]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert json.loads(result.output)[0]["updated"] == 1  # the blanked grid ID, filled again
    written = pyogrio.read_dataframe(package, layer="components")
    assert written["CSRQ"].tolist() == ["20260701"] * 6 and written["BGRQ"].notna().sum() == 1
    layer["GLBJBSM"] = layer["GLBJBSM"].astype("float64")
    pyogrio.write_dataframe(layer, package, layer="components", driver="GPKG")
    with pytest.raises(InputError, match=r"components layer's GLBJBSM is a field of real numbers .* not 17: the IDs "
                                         r"are rounded \(11010101037000000 …\)"):
        read_catalogue(package)

def test_an_id_deleted_by_hand_is_not_issued_again(tmp_path, package):
    """The package records the highest component sequence issued per county and
    class. A component deleted in QGIS (not removed: its row is gone) does not give
    its ID, the highest, back: the next import issues 000004, and --fix-ids 000005."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    inventory = _csv(tmp_path, [dict(lon=a, lat=b) for a, b in zip(lon, lat)])
    run = ["components", "import", "--grid", str(package), "--class", "01037"]
    assert CliRunner().invoke(cli, [*run, str(inventory)]).exit_code == 0
    assert json.loads(gk.read_package(package)[2]["component_highest_issued"]) == {"11010101037": 3}
    layer = gpd.read_file(package, layer="components")
    pyogrio.write_dataframe(layer[layer["GLBJBSM"] != "11010101037000003"], package, layer="components",
                            driver="GPKG")
    more = _csv(tmp_path, [dict(lon=lon[2], lat=lat[2])], name="more.csv")
    assert CliRunner().invoke(cli, [*run, str(more)]).exit_code == 0
    held = read_catalogue(package)
    assert held.loc[held["source"] == "more", "GLBJBSM"].tolist() == ["11010101037000004"]
    held.loc[held["GLBJBSM"] == "11010101037000002", "GLBJBSM"] = None
    write_catalogue(package, held)
    result = CliRunner().invoke(cli, ["components", "check", str(package), "--fix-ids"])
    assert result.output.splitlines()[1] == "  (blank) → 11010101037000005"
    assert json.loads(gk.read_package(package)[2]["component_highest_issued"]) == {"11010101037": 5}


def test_rejected_rows_do_not_remove_their_components(tmp_path, package):
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50, Y0 + 150, Y0 + 150])
    rows = [dict(key=k, lon=a, lat=b) for k, a, b in zip("abc", lon, lat)]
    mapping = Mapping(class_code="01013", source_key="key")
    loc = Locator.from_package(package)
    first = import_components(_csv(tmp_path, rows), loc, mapping=mapping, today="20260701", source="hydrants")
    # b's row now has a bad position and c's row is gone: b stays as it was, c is removed
    far_lon, far_lat = _lonlat([X0 + 5_000], [Y0])
    update = [rows[0], dict(key="b", lon=far_lon[0], lat=far_lat[0])]
    result = import_components(_csv(tmp_path, update), loc, catalogue=first.catalogue, mapping=mapping,
                               today="20260901", source="hydrants")
    s = result.summary
    assert (s["rejected_by_reason"], s["unchanged"], s["removed"], s["kept_rejected"]) == ({"outside": 1}, 1, 1, 1)
    status = result.catalogue.set_index("source_key")["GLBJZT"].to_dict()
    assert status == {"k:a": "完好", "k:b": "完好", "k:c": "移除"}
    # every row rejected (here: all 5 km off, as with a wrong CRS): nothing is removed
    far_lon, far_lat = _lonlat([X0 + 5_000, X0 + 5_100, X0 + 5_200], [Y0] * 3)
    moved = [dict(key=k, lon=a, lat=b) for k, a, b in zip("xyz", far_lon, far_lat)]
    result = import_components(_csv(tmp_path, moved), loc, catalogue=first.catalogue, mapping=mapping,
                               today="20260901", source="hydrants")
    assert (result.summary["rejected"], result.summary["removed"], result.summary["kept_rejected"]) == (3, 0, 3)
    assert (result.catalogue["GLBJZT"] == "完好").all()


def test_lines_polygons_gcj02_and_a_gbk_shapefile(tmp_path, package):
    line = shapely.LineString([(X0 + 10, Y0 + 10), (X0 + 290, Y0 + 10)])          # midpoint in cell 005
    poly = shapely.box(X0 + 210, Y0 + 110, X0 + 290, Y0 + 190)                      # cell 003
    frame = gpd.GeoDataFrame({"名称": ["护栏", "绿地"], "GLBJBSM": ["11010102017000001", "11010104013000001"]},
                             geometry=[line, poly], crs=4548).to_crs(4326)
    shp = tmp_path / "inv.shp"
    frame.to_file(shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    result = import_components(shp, Locator.from_package(package))
    assert result.catalogue["SZDYWGBSM"].tolist() == ["110101001001005", "110101001001003"]
    # GCJ-02 coordinates, as a Chinese map SDK gives them
    lon, lat = _lonlat([X0 + 150], [Y0 + 150])
    gx, gy = gk.wgs84_to_gcj02(lon, lat)
    path = _csv(tmp_path, [dict(lon=gx[0], lat=gy[0])])
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01001"), crs="gcj02")
    assert result.catalogue["SZDYWGBSM"].tolist() == ["110101001001002"]
    with pytest.raises(InputError, match="--crs"):
        import_components(_csv(tmp_path, [dict(x=1.0, y=2.0)]), Locator.from_package(package))


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_point_geopackage_and_geoparquet_read_through_arrow_match_geojson(tmp_path, package, suffix):
    """Point layers take the Arrow fast path (coordinates cut from the WKB); the result
    must equal the general path's, rejects, edge points, GCJ-02 override and all."""
    from gridkit.catalogue import _read_points_arrow, read_inventory

    x = np.array([50, 100, 150, 250, 900, 50.0]) + X0
    y = np.array([50, 50, 100, 150, 900, 150.0]) + Y0
    frame = gpd.GeoDataFrame({"GLBJBSM": ["11010101001000001", "11010101001000002", "11010101001000002",
                                          "11010101016000001", "11010101001000009", None],
                              "GLBJMC": ["甲", "乙", "丙", None, "戊", "己"]},
                             geometry=shapely.points(x, y), crs=4548).to_crs(4326)
    general, fast = tmp_path / "inv.geojson", tmp_path / f"inv{suffix}"
    frame.to_file(general)
    frame.to_parquet(fast) if suffix == ".parquet" else frame.to_file(fast)
    assert _read_points_arrow(fast, None, None) is not None  # the fast path is taken
    a, b = read_inventory(general), read_inventory(fast)
    assert np.allclose(a[1], b[1]) and np.allclose(a[2], b[2]) and a[3] == b[3]
    results = [import_components(p, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                                 today="20261122", source="inv") for p in (general, fast)]
    for column in ("GLBJBSM", "SZDYWGBSM", "GLBJMC", "assign_status"):
        assert results[0].catalogue[column].astype(object).tolist() == results[1].catalogue[column].astype(object).tolist()
    assert results[0].rejects[["row", "reason"]].values.tolist() == results[1].rejects[["row", "reason"]].values.tolist()
    assert results[1].rejects["reason"].tolist() == ["duplicate_id", "duplicate_id", "bad_id", "outside"]
    # an explicit --crs overrides the file's label on the fast path too
    gx, gy = gk.wgs84_to_gcj02(*_lonlat(x, y))
    gcj = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=shapely.points(gx, gy), crs=4326)
    path = tmp_path / f"gcj{suffix}"
    gcj.to_parquet(path) if suffix == ".parquet" else gcj.to_file(path)
    assert read_inventory(path, crs="gcj02")[3] == "gcj02"


@pytest.mark.parametrize("name, text, encoding", [
    ("excel_fr.csv", "编号;经度;纬度\n1;116,4105;39,9289\n2;116.42;39.92\n3;abc;39,9\n4;;\n", "gb18030"),
    ("export.csv", "编号|经度|纬度\n1|116.4105|39.9289\n2|116.42|39.92\n3|abc|39.9\n4||\n", "utf-8"),
    ("export.txt", "编号\t经度\t纬度\n1\t116.4105\t39.9289\n2\t116.42\t39.92\n3\tabc\t39.9\n4\t\t\n", "utf-8"),
    ("plain.csv", '编号,经度,纬度\n1,"116,4105","39,9289"\n2,116.42,39.92\n3,abc,39.9\n4,,\n', "utf-8-sig"),
    # Excel for Mac's "CSV (Macintosh)": lines ended by a carriage return alone (a traceback before), title rows too
    ("mac.csv", '部件普查表\r2026-11\r编号,经度,纬度\r1,"116,4105","39,9289"\r2,116.42,39.92\r3,abc,39.9\r4,,\r',
     "utf-8"),
], ids=["semicolons-gb18030", "pipes", "tabs", "commas-quoted", "carriage-returns"])
def test_a_csv_reads_with_its_own_separator_and_decimal_commas(tmp_path, name, text, encoding):
    """A CSV from Excel where the comma is the decimal mark (semicolons, "116,4105"),
    or a database export with pipes or tabs, was one column: every row failed with
    "no coordinate columns found … name them with --x-field", which could not help.
    Now the separator is the header's and a decimal comma is a decimal point; what is
    not a number is still NaN (a reject), and IDs stay text."""
    from gridkit.catalogue import read_inventory

    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    frame, x, y, crs = read_inventory(path)
    assert frame["编号"].tolist() == ["1", "2", "3", "4"] and crs == pyproj.CRS("EPSG:4326")
    assert np.array_equal(x, [116.4105, 116.42, np.nan, np.nan], equal_nan=True)
    assert np.array_equal(y, [39.9289, 39.92, 39.9, np.nan], equal_nan=True)


def test_a_binary_file_named_csv_is_said_to_be_no_text(tmp_path):
    """Bytes that are no text (a .xlsx renamed .csv, a zip) were a traceback from the
    csv module ("new-line character seen in unquoted field") where the header was
    looked for."""
    from gridkit.catalogue import read_inventory

    path = tmp_path / "ledger.csv"
    path.write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(InputError, match="ledger.csv: is neither UTF-8 nor GB18030 \\(GBK\\) text"):
        read_inventory(path)


@pytest.mark.parametrize("header, values, crs", [
    ("location", ["116.4105,39.9289", "116.42, 39.92", "abc", ""], None),  # Amap's and Baidu's place APIs
    ("经纬度", ["116.4105;39.9289", "(116.42 39.92)", "116.4", ""], None),
    ("WKT", ["POINT (116.4105 39.9289)", "SRID=4326;POINT Z(116.42 39.92 45)", "POINT EMPTY", ""], "EPSG:4326"),
    ("坐标", ["[116.4105, 39.9289]", "116.42 39.92", "LINESTRING (1 2,", ""], "gcj02"),
], ids=["location", "经纬度", "WKT", "坐标"])
def test_one_column_of_both_coordinates(tmp_path, header, values, crs):
    """A column that holds both, "lon,lat" (Amap's `location`) or WKT, was "no
    coordinate columns found". It is read by its name, or as both --x-field and
    --y-field; what is neither is NaN (a reject). A name that does not say lon/lat
    needs the CRS, as x/y columns do; a CSV and an Excel sheet read alike."""
    from gridkit.catalogue import read_inventory

    frame = pd.DataFrame({"编号": ["1", "2", "3", "4"], header: values})
    for path in (tmp_path / "points.csv", tmp_path / "points.xlsx"):
        frame.to_csv(path, index=False) if path.suffix == ".csv" else frame.to_excel(path, index=False)
        if crs is not None:
            with pytest.raises(InputError, match=f"column {header} does not say its CRS; pass --crs"):
                read_inventory(path)
        for given in ({"crs": crs}, {"x_field": header, "y_field": header, "crs": crs or "EPSG:4326"}):
            read, x, y, _ = read_inventory(path, **given)
            assert read.columns.tolist() == ["编号"], path
            assert np.array_equal(x, [116.4105, 116.42, np.nan, np.nan], equal_nan=True), (path, given)
            assert np.array_equal(y, [39.9289, 39.92, np.nan, np.nan], equal_nan=True), (path, given)


def test_a_table_says_its_crs_in_a_prj_or_a_workbook_property(tmp_path):
    """A table of x/y in metres is read in the CRS its label gives: a .prj beside a
    CSV (ArcGIS writes ESRI WKT, which names no EPSG code: the code it matches is
    taken, axis order and all), a workbook's document property CRS; --crs overrides
    the label. A label that is no CRS is an error naming it."""
    import openpyxl
    from openpyxl.packaging.custom import StringProperty

    from gridkit.catalogue import read_inventory

    csv, xlsx = tmp_path / "pts.csv", tmp_path / "pts.xlsx"
    pd.DataFrame({"编号": ["1"], "x": ["500050"], "y": ["4400050"]}).to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"pts\.csv: columns x/y do not say their CRS; pass --crs .*\. It has no "
                                         r"CRS label: no \.prj beside a CSV nor CRS property in a workbook"):
        read_inventory(csv)
    csv.with_suffix(".prj").write_text(pyproj.CRS("EPSG:4548").to_wkt("WKT1_ESRI"))
    _, x, y, crs = read_inventory(csv)
    assert crs.to_string() == "EPSG:4548" and crs == pyproj.CRS("EPSG:4548") and (x[0], y[0]) == (500050, 4400050)
    assert read_inventory(csv, crs="EPSG:4549")[3] == pyproj.CRS("EPSG:4549")  # --crs wins
    csv.with_suffix(".prj").write_text("GEOGCS[broken")
    with pytest.raises(InputError, match=r"pts\.prj is not a CRS \(.*\): correct it or delete it, or give the CRS"):
        read_inventory(csv)
    book = openpyxl.Workbook()
    book.active.append(["编号", "x", "y"])
    book.active.append(["1", 500050, 4400050])
    book.custom_doc_props.append(StringProperty(name="CRS", value="EPSG:4548"))  # File › Info › Properties
    book.save(xlsx)
    assert read_inventory(xlsx)[3] == pyproj.CRS("EPSG:4548")


def test_a_survey_table_whose_x_is_the_northing_is_caught_with_the_fix(tmp_path, package):
    """Chinese survey tables (and Gauss–Krüger software) call the northing X: X坐标
    4,400,050 and Y坐标 500,050. Read as x and y, every row was rejected as
    ``outside``, which named no fix. Now the columns are not guessed, the error
    says which way round to give them, the rows given the wrong way are rejected
    as ``xy_swapped``, and easting/northing (东坐标/北坐标) columns are found by name."""
    from gridkit.catalogue import read_inventory

    survey = _csv(tmp_path, {"编号": [1, 2], "X坐标": [Y0 + 50, Y0 + 150], "Y坐标": [X0 + 50, X0 + 250]},
                  name="survey.csv")
    with pytest.raises(InputError, match=r"survey\.csv: no coordinate columns found .*one column of both as "
                                         r"each\); a survey table's X坐标 is the northing: --x-field Y坐标 "
                                         r"--y-field X坐标$"):
        read_inventory(survey)
    run = [*"components import --class 01001 --crs EPSG:4548 --grid".split(), str(package), str(survey)]
    wrong = CliRunner().invoke(cli, [*run, "--x-field", "X坐标", "--y-field", "Y坐标"])
    assert wrong.exit_code == 1 and "2 × xy_swapped" in wrong.output, wrong.output  # nothing imported
    assert pd.read_csv(tmp_path / "survey.rejects.csv")["reason"].tolist() == ["xy_swapped"] * 2
    right = CliRunner().invoke(cli, [*run, "--x-field", "Y坐标", "--y-field", "X坐标"])
    assert right.exit_code == 0 and "2 added" in right.output, right.output
    assert read_catalogue(package)["SZDYWGBSM"].tolist() == ["110101001001004", "110101001001003"]
    # x with the zone number in front (39: CM 117°E) read without it, and the other way
    # round: rejected as zone_prefix (the second crashed: "NaN or infinite coordinates").
    zoned = _csv(tmp_path, {"X坐标": [Y0 + 50], "Y坐标": [39_000_000 + X0 + 50]}, name="zoned.csv")
    for table, crs, twin in ((zoned, "EPSG:4548", "EPSG:4527"), (survey, "EPSG:4527", "EPSG:4548")):
        run = [*"components import --class 01001 --x-field Y坐标 --y-field X坐标 --grid".split(), str(package)]
        result = CliRunner().invoke(cli, [*run, "--crs", crs, str(table)])
        assert result.exit_code == 1 and f"{len(pd.read_csv(table))} × zone_prefix" in result.output, result.output
        assert pd.read_csv(table.with_suffix(".rejects.csv"))["detail"].str.startswith(f"read in {twin} (").all()
    at = CliRunner().invoke(cli, ["locate", "--at", f"{X0 + 50},{Y0 + 50}", "--crs", "EPSG:4527", "--grid",
                                  str(package)])
    assert at.output == (f"{X0 + 50}, {Y0 + 50} (EPSG:4527): outside the layout; read in --crs EPSG:4548 "
                         "(CGCS2000 / 3-degree Gauss-Kruger CM 117E) it is in it\n"), at.output
    for east, north in (("东坐标", "北坐标"), ("Easting", "Northing")):
        table = _csv(tmp_path, {north: [Y0 + 50], east: [X0 + 50]}, name="en.csv")
        frame, x, y, _ = read_inventory(table, crs="EPSG:4548")
        assert tuple(frame.attrs["xy_fields"]) == (east, north) and (x[0], y[0]) == (X0 + 50, Y0 + 50)


def test_baidu_metres_import_with_bd09mc_and_are_named_in_another_crs(tmp_path, package):
    """A POI download from Baidu's pages gives its metres (bd09mc). With --crs bd09mc
    they import into the cells they stand for; as Web Mercator every row was
    ``outside``, and with no CRS the error named nothing that fits."""
    from gridkit.coords import MERCATOR_HINT, wgs84_to_bd09mc

    lon, lat = pyproj.Transformer.from_crs(4548, 4326, always_xy=True).transform([X0 + 50, X0 + 250],
                                                                                 [Y0 + 50, Y0 + 150])
    mx, my = wgs84_to_bd09mc(lon, lat)
    table = _csv(tmp_path, {"uid": ["a", "b"], "x": mx, "y": my}, name="poi.csv")
    run = [*"components import --class 01001 --grid".split(), str(package), str(table)]
    missing = CliRunner().invoke(cli, run)
    assert missing.exit_code != 0 and missing.output.rstrip().endswith(MERCATOR_HINT), missing.output
    web = CliRunner().invoke(cli, [*run, "--crs", "EPSG:3857"])
    assert web.exit_code == 1 and "2 × baidu_mercator" in web.output, web.output
    assert pd.read_csv(tmp_path / "poi.rejects.csv")["reason"].tolist() == ["baidu_mercator"] * 2
    right = CliRunner().invoke(cli, [*run, "--crs", "bd09mc"])
    assert right.exit_code == 0 and "2 added" in right.output, right.output
    assert read_catalogue(package)["SZDYWGBSM"].tolist() == ["110101001001004", "110101001001003"]
    at = CliRunner().invoke(cli, ["locate", "--at", f"{mx[0]},{my[0]}", "--crs", "EPSG:3857", "--grid", str(package)])
    assert at.output == (f"{mx[0]}, {my[0]} (EPSG:3857): outside the layout; read as Baidu's metres (--crs "
                         "bd09mc) it is in it\n"), at.output


def test_a_location_column_of_addresses_is_no_coordinates(tmp_path):
    from gridkit.catalogue import read_inventory

    path = tmp_path / "addresses.csv"
    path.write_text("id,location\n1,东城区东四十条\n2,东直门内大街\n", encoding="utf-8")
    with pytest.raises(InputError, match=r'column location holds no coordinates \("lon,lat" or WKT\) in any row'):
        read_inventory(path)


@pytest.mark.parametrize("data, encoding, message", [
    (bytes(range(128, 256)) * 4, None, r"bad\.csv: is neither UTF-8 nor GB18030 \(GBK\) text .*--encoding BIG5"),
    ("编号,经度,纬度\n1,116.41,39.93\n".encode("gbk"), "utf-8", r"bad\.csv: is not utf-8 text"),
    (b"id,lon,lat\n1,116.41,39.93\n2,116.42,39.92,x\n", None,
     r"bad\.csv: cannot be read as CSV \(.*Expected 3 fields in line 3, saw 4\); a value that holds the "
     r"separator ',', a quote or a line break must be in double quotes"),
    (b"id;name\n1;a\n", None, r"bad\.csv: no coordinate columns found .* among \['id', 'name'\]"),
    (b"\r\n\r\n", None, r"bad\.csv: is empty \(no header line, no rows\); export the table again with its header row"),
], ids=["not-text", "wrong-encoding", "ragged-row", "no-coordinates", "empty"])
def test_a_table_that_cannot_be_read_is_named_with_the_fix(tmp_path, data, encoding, message):
    """A file that is not UTF-8 or GBK text (a binary file named .csv, or a BIG5
    one) ended in a traceback from pandas' second try; a wrong --encoding was
    silently replaced by GB18030; a ragged row said only pandas' words; the missing
    coordinate columns did not name the file. Each is an InputError naming the file
    and the fix."""
    from gridkit.catalogue import read_inventory

    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_inventory(path, encoding=encoding)


def test_a_big5_csv_read_as_gbk_is_warned_about(tmp_path, caplog):
    """GB18030 decodes BIG5 bytes without an error, as other characters, about a fifth
    of them private-use ones: a warning says so and names --encoding. GBK text, even
    with one user-defined (private-use) character among its names, gets none."""
    from gridkit.catalogue import read_table

    rows = "門牌,經度,緯度\n" + "".join(f"臺北市中正區重慶南路{i}號,121.51,25.04\n" for i in range(50))
    big5, gbk = tmp_path / "big5.csv", tmp_path / "gbk.csv"
    big5.write_bytes(rows.encode("big5"))
    gbk.write_bytes(rows.encode("gbk") + "\ue000先生,121.51,25.04\n".encode("gb18030"))
    with caplog.at_level("WARNING", logger="gridkit"):
        assert list(read_table(gbk).columns) == ["門牌", "經度", "緯度"]
        assert not caplog.records
        read_table(big5)
    [warning] = caplog.records
    assert warning.getMessage().startswith(f"{big5}: read as GB18030 (GBK), but 103 of its 556 non-ASCII "
                                           "characters are private-use ones")
    assert warning.getMessage().endswith("give it with --encoding (BIG5 for Taiwan and Hong Kong)")
    assert list(read_table(big5, encoding="big5").columns) == ["門牌", "經度", "緯度"]


@pytest.mark.parametrize("where", ["header", "late"])
def test_a_gbk_csv_is_read_by_arrow_as_pandas_reads_it(tmp_path, monkeypatch, caplog, where):
    """A GBK CSV (as Excel saves one on a Chinese Windows) went to pandas' reader,
    after a UTF-8 try: two million rows in 2.2 s, where a UTF-8 one took 0.2 s.
    Arrow reads it, decoding as it goes: the same frame as pandas' reader gives,
    with pandas' reader made to fail. The file's first non-UTF-8 byte is in its
    header, or past its first megabyte (a ledger of ASCII rows, then names); a
    --encoding given is read by Arrow too."""
    from gridkit.catalogue import read_table

    header = "编号,名称,经度,纬度,备注" if where == "header" else "id,name,lon,lat,note"
    rows = [f'{i:06d},"cover, rain",116.41,39.93,' for i in range(40_000)]
    rows += ['900001,"路灯\n东四",116.42,39.92,东城区', "900002,,116.43,39.91,"]
    path = tmp_path / "gbk.csv"
    path.write_bytes("\r\n".join([header, *rows]).encode("gbk") + b"\r\n")
    first_wide = int(np.argmax(np.frombuffer(path.read_bytes(), np.uint8) > 127))
    assert (first_wide > (1 << 20)) == (where == "late")
    expected = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="gb18030")

    def refused(*args, **kwargs):
        raise AssertionError("read by pandas' reader")

    monkeypatch.setattr(pd, "read_csv", refused)
    with caplog.at_level("INFO", logger="gridkit"):
        frame = read_table(path)
    pd.testing.assert_frame_equal(frame, expected)
    assert frame.iloc[-2].tolist() == ["900001", "路灯\n东四", "116.42", "39.92", "东城区"]
    assert frame.iloc[-1].isna().tolist() == [False, True, False, False, True]
    assert f"{path}: not UTF-8, read as GB18030 (GBK)" in caplog.text
    pd.testing.assert_frame_equal(read_table(path, encoding="gbk"), expected)


def test_components_convert_reads_a_gbk_semicolon_ledger_and_keeps_its_dialect(tmp_path):
    """`components convert` read its inventory with a bare pandas read_csv: a GBK
    ledger (as Excel and WPS save it in China) stopped with a UnicodeDecodeError
    traceback, and a semicolon one was one column ("no ID column"). It now reads as
    every other command does, and writes semicolons back; --encoding and an Excel
    sheet work too."""
    ledger = "ObjID;ObjName;PointX\n1101010101000001;上水井盖;116,41\n1101010102000002;污水井盖;\n"
    path, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    path.write_bytes(ledger.encode("gbk"))
    result = CliRunner().invoke(cli, ["components", "convert", str(path), "--to", "2026", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 rows: 2 converted, 0 without a counterpart, 0 not legacy IDs" in result.output
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "ObjID;ObjName;PointX;converted_id;convert_note",
        "1101010101000001;上水井盖;116,41;11010101001000001;",
        "1101010102000002;污水井盖;;11010101002000002;"]
    big5 = tmp_path / "big5.csv"
    big5.write_bytes("ObjID,名稱\n1101010101000001,東城\n".encode("big5"))
    args = ["components", "convert", str(big5), "-o", str(tmp_path / "b.csv")]
    assert CliRunner().invoke(cli, [*args, "--encoding", "big5"]).exit_code == 0
    assert (tmp_path / "b.csv").read_text(encoding="utf-8-sig").splitlines()[1] == "1101010101000001,東城,11010101001000001,"
    pd.DataFrame({"ObjID": ["1101010101000001"]}).to_excel(tmp_path / "l.xlsx", index=False)
    excel = CliRunner().invoke(cli, ["components", "convert", str(tmp_path / "l.xlsx"), "-o", str(tmp_path / "x.csv")])
    assert excel.exit_code == 0 and "1 rows: 1 converted" in excel.output
    refused = CliRunner().invoke(cli, ["components", "convert", str(tmp_path / "l.xlsx"), "-o", str(tmp_path / "y.csv"),
                                       "--layer", "nosuch"])
    assert refused.exit_code == 1 and "the sheets are ['Sheet1']" in refused.output
    assert not (tmp_path / "y.csv").exists()


def test_components_convert_strips_ids_and_counts_malformed_ones_apart(tmp_path):
    """A padded ID was "has 18 characters", a blank one "has 0 characters", an ID
    Excel wrote as 1.10101E+15 "has 11 characters", and all were counted "without a
    counterpart", as a class the other scheme lacks is."""
    path, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    path.write_text("ObjID,n\n 1101010101000001 ,a\n,b\n1.10101E+15,c\n3205080602000001,d\n１１０１０１０１０１０００００２,e\n",
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["components", "convert", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == (f"5 rows: 2 converted, 1 without a counterpart, 2 not legacy IDs (blank or malformed; "
                             f"convert_note says why) → {out}\n")
    notes = pd.read_csv(out, dtype=str, keep_default_na=False)[["converted_id", "convert_note"]].values.tolist()
    assert notes[4] == ["11010101001000002", ""]  # typed in full-width digits
    assert notes[:3] == [
        ["11010101001000001", ""], ["", "missing"],
        ["", "is a number in scientific notation, as Excel shows a long one: its last digits are lost; format the "
             "column as text where the file was made, and export it again"]]
    assert notes[3][1].startswith("legacy class 0602 has no GB/T 47678.5-2026 counterpart")


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_lon_lat_read_in_the_wrong_chinese_system_is_told_with_the_fix(tmp_path, system):
    """An inventory of Amap's GCJ-02 (or Baidu's BD-09) positions, read as WGS84 (a
    table's lon/lat, by default): most rows lie inside the layout, in cells 500 m from
    their own, and only those near its edge are outside. Nothing said so. The import's
    and locate's summaries now say that read in the other system those outside would
    lie inside and the rest in other cells, and name the --crs that reads it; read with
    it, every row lies in its own cell and nothing is said."""
    from gridkit.coords import wgs84_to_bd09, wgs84_to_gcj02

    comm = community_frame([shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)])
    package = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)
    centres = np.arange(50, 2000, 100.0)
    gx, gy = _lonlat(X0 + np.repeat(centres, 20), Y0 + np.tile(centres, 20))  # each of the 400 cells' centre
    x, y = (wgs84_to_gcj02 if system == "gcj02" else wgs84_to_bd09)(gx, gy)
    inventory = _csv(tmp_path, {"name": [f"p{i}" for i in range(400)], "lon": x, "lat": y})
    loc, mapping = Locator.from_package(package), Mapping(class_code="01001")
    as_wgs84 = import_components(inventory, loc, mapping=mapping, today="20261126")
    out, name, said = {"gcj02": (115, "GCJ-02", "as Chinese web-map data labelled EPSG:4326 often is"),
                       "bd09": (292, "BD-09", "as Baidu Maps gives positions")}[system]
    hint = (f"{out / 400:.0%} of the positions lie outside the layout, and read as {name} (--crs {system}), {said}, "
            f"100% of them would lie inside and 100% of those inside would lie in another cell: if the file is in "
            f"{name}, give --crs {system}")
    assert as_wgs84.summary["rejected_by_reason"] == {"outside": out} and as_wgs84.summary["offset_hint"] == hint
    result = CliRunner().invoke(cli, ["components", "import", str(inventory), "--grid", str(package), "--class",
                                      "01001"])
    assert result.exit_code == 0 and f"  hint: {hint}\n" in result.output
    located = CliRunner().invoke(cli, ["locate", str(inventory), "--grid", str(package), "-o", str(tmp_path / "l.csv")])
    assert located.exit_code == 0 and f"  hint: {hint}\n" in located.output
    # On dask too (it said nothing): a sample spread over the partitions, read with the rows.
    parts = tmp_path / "parts"
    parts.mkdir()
    table = pd.read_csv(inventory)
    table.iloc[:150].to_parquet(parts / "0.parquet")
    table.iloc[150:].to_parquet(parts / "1.parquet")
    on_dask = CliRunner().invoke(cli, ["locate", str(parts), "--grid", str(package), "--dask", "--workers", "1",
                                       "-o", str(tmp_path / "d.parquet")])
    assert on_dask.exit_code == 0 and f"  hint: {hint}\n" in on_dask.output
    assert not any(b"offset_hint" in value for value in pq.read_schema(tmp_path / "d.parquet").metadata.values())
    if system == "gcj02":
        located, _ = locate_dask(parts, package, crs=system, n_workers=1)
        assert located.attrs["offset_hint"] == "" and set(located["gk_status"]) == {"inside"}
    right = import_components(inventory, loc, mapping=mapping, today="20261126", crs=system)
    assert right.summary["imported"] == 400 and "offset_hint" not in right.summary
    assert sorted(right.catalogue["SZDYWGBSM"].str[-3:].astype(int).tolist()) == list(range(1, 401))


def test_an_inventory_whose_every_row_is_rejected_says_why_in_the_summary(tmp_path, package):
    """A CSV saved from Excel, its IDs shown as 1.10101E+16, imported nothing: the
    summary said "2 × bad_id: a component ID of the wrong form, a retired class or
    another county", and the fix (format the column as text) was only in the
    rejects file. When every row is rejected the summary gives the first one's detail,
    and the exit status is 1, for a script to stop (it was 0: nothing imported,
    and the script went on)."""
    lon, lat = _lonlat([X0 + 50, X0 + 150], [Y0 + 50] * 2)
    path = tmp_path / "ids.csv"
    path.write_text(f"GLBJBSM,lon,lat\n1.10101E+16,{lon[0]:.7f},{lat[0]:.7f}\n1.10101E+16,{lon[1]:.7f},{lat[1]:.7f}\n",
                    encoding="utf-8")
    args = ["components", "import", "--grid", str(package), "--class", "01037", "--date", "20260701"]
    result = CliRunner().invoke(cli, [*args, str(path)])
    assert result.exit_code == 1, result.output
    assert ("ids: 2 rows → 0 imported, 2 rejected\n       2 × bad_id: a component ID of the wrong form, a retired "
            "class or another county\n  hint: every row was rejected; the first, row 1 (bad_id): ID 1.10101E+16: is "
            "a number in scientific notation, as Excel shows a long one: its last digits are lost; format the column "
            "as text where the file was made, and export it again\n") in result.output
    far = tmp_path / "far.csv"
    lon, lat = _lonlat([X0 + 5000], [Y0 + 50])
    far.write_text(f"lon,lat\n{lon[0]:.7f},{lat[0]:.7f}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [*args, str(far), "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)[0]
    assert summary["first_reject"][:2] == [1, "outside"] and summary["imported"] == 0
    # with another inventory that imports, the status is still 1: one of them imported nothing
    near = tmp_path / "near.csv"
    lon, lat = _lonlat([X0 + 50], [Y0 + 50])
    near.write_text(f"lon,lat\n{lon[0]:.7f},{lat[0]:.7f}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [*args, str(near), str(far), "--json"])
    assert result.exit_code == 1 and [s["imported"] for s in json.loads(result.stdout)] == [1, 0]
    assert CliRunner().invoke(cli, [*args, str(near)]).exit_code == 0
    text = CliRunner().invoke(cli, [*args, str(far)]).output
    assert "  hint: the row was rejected; the first, row 1 (outside): " in text


def test_rejects_of_a_semicolon_csv_are_written_with_semicolons(tmp_path, package):
    """The rejects file of an inventory from Excel with decimal commas opens in the
    same Excel: semicolons and decimal commas; a comma CSV's rejects keep commas."""
    from gridkit.batch import write_rejects

    lon, lat = _lonlat([X0 + 50, X0 - 500], [Y0 + 50] * 2)
    cells = [f"{v:.7f}".replace(".", ",") for v in (lon[0], lat[0], lon[1], lat[1])]
    path = tmp_path / "excel.csv"
    path.write_text(f"编号;经度;纬度\n1;{cells[0]};{cells[1]}\n2;{cells[2]};{cells[3]}\n", encoding="utf-8")
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                               today="20261122", tolerance=0)
    assert result.rejects["reason"].tolist() == ["outside"]
    lines = write_rejects(result.rejects, None, tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("row;reason;detail;") and lines[1].startswith("2;outside;")
    assert lines[1].endswith(f";{cells[2]};{cells[3]}")  # x and y as read, with decimal commas
    plain = _csv(tmp_path, [{"编号": 2, "经度": lon[1], "纬度": lat[1]}])
    again = import_components(plain, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                              today="20261122", tolerance=0)
    assert write_rejects(again.rejects, None, tmp_path / "p.csv").read_text(encoding="utf-8-sig").startswith(
        "row,reason,detail,")


def test_fields_the_inventory_lacks_cost_a_byte_a_row_and_stay_empty(tmp_path, package):
    """Ten million rows must fit in memory: a standard field the inventory lacks is a
    categorical of no value (a column of missing text would cost 8 bytes a row in
    offsets), and so is a field filled for every row (department, source, survey
    date); a field given for some rows keeps those and fills the rest. All of them
    are written as NULL or text, never as "nan"."""
    n = 3000
    rng = np.random.default_rng(1)
    x, y = X0 + rng.uniform(1, 299, n), Y0 + rng.uniform(1, 199, n)
    names = np.where(np.arange(n) % 2 == 0, "甲", None)
    path = tmp_path / "inv.parquet"
    gpd.GeoDataFrame({"GLBJMC": names}, geometry=shapely.points(x, y), crs=4548).to_crs(4326).to_parquet(path)
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                               today="20261122", source="inv")
    cat = result.catalogue
    assert result.summary["imported"] == n and cat["source_row"].tolist() == list(range(1, n + 1))
    assert cat["GLBJMC"].astype(object).tolist() == ["甲" if i % 2 == 0 else "供水井盖" for i in range(n)]
    assert (cat["SJLY"] == "inv").all() and (cat["CSRQ"] == "20261122").all()
    assert cat["ZGBMMC"].nunique() == 1 and cat["ZGBMMC"].notna().all()
    lacking = ["BZ", "QSDWDM", "QSDWMC", "YHDWDM", "YHDWMC", "ZGBMDM", "BGRQ", "end_date"]
    assert all(cat[c].isna().all() for c in lacking)
    size = cat.drop(columns="geometry").memory_usage(deep=True, index=False)
    assert (size[lacking + ["ZGBMMC", "SJLY", "CSRQ"]] < 2 * n).all(), size.to_dict()
    write_catalogue(package, cat)
    back = pyogrio.read_dataframe(package, layer="components")
    assert all(back[c].isna().all() for c in lacking)
    assert back["GLBJMC"].tolist()[:2] == ["甲", "供水井盖"] and set(back["SJLY"]) == {"inv"}


def test_legacy_scheme(tmp_path, package):
    lon, lat = _lonlat([X0 + 50], [Y0 + 50])
    path = _csv(tmp_path, [dict(ObjID="1101010118000007", ObjName="路灯", PointX=lon[0], PointY=lat[0])])
    result = import_components(path, Locator.from_package(package), table=ClassTable("legacy"), crs="EPSG:4326")
    row = result.catalogue.iloc[0]
    assert (row["GLBJBSM"], row["class_code"], row["class_name"]) == ("1101010118000007", "0118", "路灯")


def test_cli_on_the_cambridge_inventories(shared, samples, tmp_path):
    comm = gk.unit_hierarchy(gk.read_vector(samples / "cambridge_neighborhoods.gpkg"), name_field="NAME",
                             provisional=True, parent_code="990101")
    grid = gk.write_package(tmp_path / "cambridge.gpkg", gk.unit_grid(comm), comm)
    d = shared / "cambridge_ma"
    inventories = [d / f"{n}.geojson" for n in ("INFRA_Hydrants", "INFRA_StreetLights", "DPW_LitterBarrels",
                                                 "TRAFFIC_Signals")]
    args = ["components", "import", *map(str, inventories), "--grid", str(grid),
            "--mapping", str(samples / "cambridge_mapping.toml"), "--preview", str(tmp_path / "c.png")]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summaries = {s["source"]: s for s in json.loads(result.stdout)}
    counts = {k: (s["rows"], s["imported"], s["rejected_by_reason"].get("outside", 0), s["assigned_nearest"])
              for k, s in summaries.items()}
    assert counts == {"INFRA_Hydrants": (1960, 1956, 4, 13), "INFRA_StreetLights": (6117, 6117, 0, 8),
                      "DPW_LitterBarrels": (990, 990, 0, 0), "TRAFFIC_Signals": (785, 760, 25, 22)}
    assert len(pd.read_csv(tmp_path / "TRAFFIC_Signals.rejects.csv")) == 25
    again = CliRunner().invoke(cli, [*args, "--overwrite"])  # the --preview picture is there now
    for s in summaries.values():  # re-imported: every component unchanged
        assert f"  catalogue: 0 added, 0 updated, {s['imported']:,} unchanged, 0 removed; rejects → " in again.stdout
    shown = CliRunner().invoke(cli, ["components", "show", "99010101013000001", "--grid", str(grid), "--json"])
    record = json.loads(shown.output)
    assert record["class_code"] == "01013" and record["ZGBMMC"] == "Cambridge Fire Department"
    assert record["SZDYWGBSM"].startswith("990101900")
    stats = CliRunner().invoke(cli, ["components", "stats", "--grid", str(grid), "--by", "class",
                                     "--csv", str(tmp_path / "s.csv")])
    table = pd.read_csv(tmp_path / "s.csv", dtype={"class_code": str})
    assert dict(zip(table["class_code"], table["components"])) == {"01013": 1956, "01037": 6117, "02014": 760,
                                                                     "03005": 990}
    assert "9,823 components" in stats.output
    # Against the standard's field table: no inventory has the responsible department's credit
    # code, and the layout's codes are provisional; nothing else (the mapping's SJLY fits its 30)
    checked = CliRunner().invoke(cli, ["components", "check", str(grid), "--problems", str(tmp_path / "p.csv")])
    assert checked.exit_code == 1
    assert "9,823 of 9,823 components have a problem (19,646 in all)" in checked.output
    problems = pd.read_csv(tmp_path / "p.csv", dtype=str)
    assert problems.groupby(["field", "problem"]).size().to_dict() == {("SZDYWGBSM", "provisional"): 9823,
                                                                      ("ZGBMDM", "empty"): 9823}
    # The same tables as Excel sheets, for the staff who fix them there: codes stay text (17 digits, a
    # leading zero), the counts numbers.
    CliRunner().invoke(cli, ["components", "check", str(grid), "--problems", str(tmp_path / "p.xlsx")])
    sheet = pd.read_excel(tmp_path / "p.xlsx", engine="calamine", sheet_name="problems", dtype=str)
    pd.testing.assert_frame_equal(sheet.fillna(""), problems.fillna(""))
    CliRunner().invoke(cli, ["components", "stats", str(grid), "--by", "class", "-o", str(tmp_path / "s.xlsx")])
    sheet = pd.read_excel(tmp_path / "s.xlsx", engine="calamine", sheet_name="by class", dtype={"class_code": str})
    pd.testing.assert_frame_equal(sheet, table)
    # The sample routing table knows each department the mapping names: their codes fill ZGBMDM.
    filled = CliRunner().invoke(cli, ["components", "departments", str(grid), "--routes",
                                      str(samples / "cambridge_routing.toml"), "--json"])
    assert json.loads(filled.output) == {"in_use": 9823, "routed": 0, "by_name": 9823, "by_code": 0, "no_code": 0,
                                         "no_code_by_department": {}, "changed": 9823}
    assert read_catalogue(grid).groupby("class_code")["ZGBMDM"].unique().map(list).to_dict() == {
        "01013": ["11990101000000005G"], "01037": ["11990101000000003A"], "02014": ["11990101000000004D"],
        "03005": ["119901010000000027"]}
    checked = CliRunner().invoke(cli, ["components", "check", str(grid)])
    assert "9,823 of 9,823 components have a problem (9,823 in all)" in checked.output, checked.output
    # A GeoJSON copy (7 decimals of a degree: millimetres off) imported back changes nothing (9,489 "updated"
    # before), nor does a KML copy (each placemark named by its ID, which GDAL took out of the columns: all
    # 9,823 were rejected as unknown_class, the file not seen as a copy)
    for copy in (tmp_path / "components.geojson", tmp_path / "components.kml", tmp_path / "components.kmz"):
        assert CliRunner().invoke(cli, ["export", str(grid), "--layer", "components", "-o", str(copy)]).exit_code == 0
        back = CliRunner().invoke(cli, ["components", "import", str(copy), "--grid", str(grid)])
        assert "  catalogue: 0 added, 0 updated, 9,823 unchanged, 0 removed" in back.output, back.output
    assert gpd.read_file(tmp_path / "components.kml")["Name"].str.fullmatch(r"99010\d{12}").all()
    # --class: one class per community (every community listed), a big class, and a code that is neither
    lights = CliRunner().invoke(cli, ["components", "stats", str(grid), "--by", "community", "--class", "01037",
                                      "--csv", str(tmp_path / "lights.csv")])
    assert lights.exit_code == 0, lights.output
    per = pd.read_csv(tmp_path / "lights.csv", dtype={"SZSQDM": str}).set_index("SZSQDM")["components"]
    cat = read_catalogue(grid)
    assert per.to_dict() == cat.loc[cat["class_code"] == "01037"].groupby("SZSQDM").size().to_dict()
    assert len(per) == 13 and per.sum() == 6117
    assert "total        6,117 components of class 01037, 0 removed; 0 of 13 communities hold none" in lights.output
    # --per-class: the census table, a column per class of the big class, rows adding up to the total
    census = CliRunner().invoke(cli, ["components", "stats", str(grid), "--by", "community", "--class", "01",
                                      "--per-class", "--csv", str(tmp_path / "census.csv")])
    assert census.exit_code == 0, census.output
    table = pd.read_csv(tmp_path / "census.csv", dtype={"SZSQDM": str}).set_index("SZSQDM")
    assert list(table.columns) == ["SZSQMC", "components", "all_rows", "removed", "01013 消防设施", "01037 路灯"]
    expected = pd.crosstab(cat["SZSQDM"], cat["class_code"]).loc[:, ["01013", "01037"]]
    assert (table[["01013 消防设施", "01037 路灯"]].to_numpy() == expected.loc[table.index].to_numpy()).all()
    assert (table["01013 消防设施"] + table["01037 路灯"]).equals(table["components"])
    assert len(table) == 13 and table["components"].sum() == 8073 and "01013 消防设施" in census.output
    refused = CliRunner().invoke(cli, ["components", "stats", str(grid), "--per-class"])  # --by class
    assert refused.exit_code == 2 and "with --by class the rows are classes already" in refused.output
    big = CliRunner().invoke(cli, ["components", "stats", str(grid), "--class", "01"])
    assert [line.split()[0] for line in big.output.splitlines()[1:-1]] == ["01013", "01037"]
    assert "total        8,073 components of big class 01, 0 removed" in big.output
    refused = CliRunner().invoke(cli, ["components", "stats", str(grid), "--class", "0103"])
    assert refused.exit_code == 2 and ("'0103' is no class or big class of the GB/T 47678.5-2026 table, nor of a "
                                       "component in the catalogue") in refused.output
    # A code typed without its leading zero (as a spreadsheet keeps it) is named with it.
    for typed, hint in (("1037", "01037 is 路灯"), ("1", "01 is a big class")):
        refused = CliRunner().invoke(cli, ["components", "stats", str(grid), "--class", typed])
        assert refused.exit_code == 2 and (f"'{typed}' is no class or big class of the GB/T 47678.5-2026 table, nor "
                                           f"of a component in the catalogue; leading zero lost? {hint} "
                                           "(`gridkit components classes WORD`") in refused.output, refused.output
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    # the table is an output like any other: not over an existing file unasked, never over the package
    before = grid.read_bytes()
    (tmp_path / "link.csv").symlink_to(grid)
    for csv, overwrite, refusal in [
            ("s.csv", [], "s.csv exists; pass --overwrite"),
            (grid, ["--overwrite"], "a table is written as .csv or .xlsx; name the file so"),
            ("link.csv", ["--overwrite"], "link.csv is --grid: the output would replace the file it is read from")]:
        refused = CliRunner().invoke(cli, ["components", "stats", str(grid), "--csv", str(tmp_path / csv), *overwrite])
        assert refused.exit_code == 2 and refusal in refused.output, refused.output
    assert grid.read_bytes() == before and len(pd.read_csv(tmp_path / "s.csv")) == 4


def test_per_class_counts_active_components_and_lists_every_area():
    """A column per class counts the components not removed; a community holding
    none has its row of zeros, a class of removed components only its column of
    zeros, and components in no community (no cell) their row, as the totals do."""
    catalogue = gpd.GeoDataFrame({
        "class_code": ["01037", "01037", "02014", "01013", "01037"],
        "class_name": ["路灯", "路灯", "交通信号灯", "消防设施", "路灯"],
        "GLBJZT": ["完好", "完好", "完好", "移除", "完好"],
        "SZSQDM": ["110101001001", "110101001002", "110101001001", "110101001002", None],
        "SZSQMC": ["甲", "乙", "甲", "乙", None]}, geometry=shapely.points(np.zeros((5, 2))))
    areas = pd.DataFrame({"SZSQDM": ["110101001001", "110101001002", "110101001003"], "SZSQMC": ["甲", "乙", "丙"]})
    table = catalogue_stats(catalogue, by="community", areas=areas, per_class=True)
    assert list(table.columns) == ["SZSQDM", "SZSQMC", "components", "all_rows", "removed", "01013 消防设施",
                                   "01037 路灯", "02014 交通信号灯"]
    assert table.drop(columns="SZSQMC").astype(object).where(table.notna(), None).values.tolist() == [
        ["110101001001", 2, 2, 0, 0, 1, 1], ["110101001002", 1, 2, 1, 0, 1, 0], ["110101001003", 0, 0, 0, 0, 0, 0],
        [None, 1, 1, 0, 0, 1, 0]]
    with pytest.raises(InputError, match="the rows are classes already"):
        catalogue_stats(catalogue, by="class", per_class=True)


def test_cli_says_what_to_do_about_a_file_with_no_class_at_all(tmp_path, package):
    """A glob that takes in a file that is not an inventory (or one the mapping file
    has no section for): every row is rejected as unknown_class, and a hint names the
    sections the mapping file has."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    lamps = _csv(tmp_path, [dict(lon=lon[2], lat=lat[2])], name="lamps.csv")
    lon, lat = lon[:2], lat[:2]
    outline = _csv(tmp_path, [dict(lon=x, lat=y, name="city") for x, y in zip(lon, lat)], name="outline.csv")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[files.lamps]\nclass = "01037"\n')
    args = ["components", "import", str(lamps), str(outline), "--grid", str(package), "--crs", "EPSG:4326"]
    result = CliRunner().invoke(cli, [*args, "--mapping", str(mapping)])
    assert result.exit_code == 1, result.output  # outline imported nothing
    assert "lamps: 1 row → 1 imported, 0 rejected" in result.output
    assert "outline: 2 rows → 0 imported, 2 rejected" in result.output
    assert (f"  hint: {mapping} has no [files.outline] section (it maps lamps): if this is an inventory, add one "
            "with its class") in result.output
    assert result.output.count("hint:") == 1
    bare = CliRunner().invoke(cli, ["components", "import", str(outline), "--grid", str(package), "--crs", "EPSG:4326"])
    assert bare.exit_code == 1, bare.output
    assert "  hint: no row has a class: give --class CODE (one class for every row) or a --mapping file" in bare.output
    # --class: one class for every row, over the mapping's (which names no class for it)
    one = CliRunner().invoke(cli, [*args[:2], str(outline), *args[4:], "--class", "01037", "--mapping", str(mapping),
                                   "--json"])
    assert one.exit_code == 0, one.output
    summary = json.loads(one.stdout)[0]
    assert summary["imported"] == 2 and summary["rejected"] == 0
    assert set(gk.catalogue.read_catalogue(package).query("source == 'outline'")["class_code"]) == {"01037"}
    for code, message in {"1037": "class code '1037' is not 5 digits: leading zeros lost? 01037 is ",
                          "99999": "unknown GB/T 47678.5-2026 class 99999"}.items():
        refused = CliRunner().invoke(cli, [*args[:2], str(outline), *args[4:], "--class", code])
        assert refused.exit_code == 2 and f"Invalid value for --class: {message}" in refused.output, refused.output
        assert "keep the column as text" not in refused.output
    mapping.write_text('[files.outline]\nclass_field = "name"\n')  # a column, but not of classes
    names = CliRunner().invoke(cli, ["components", "import", str(outline), "--grid", str(package), "--crs",
                                     "EPSG:4326", "--mapping", str(mapping)])
    assert names.exit_code == 1, names.output
    assert f"  hint: no class that [files.outline] in {mapping} gives is in the scheme's table" in names.output
    # The section's header mistyped, its fields' not: that section is the file's, and gives no class.
    mapping.write_text('[files.outlin]\nclass = "01037"\n[files.outline.fields]\nBZ = "name"\n')
    typo = CliRunner().invoke(cli, ["components", "import", str(outline), "--grid", str(package), "--crs",
                                    "EPSG:4326", "--mapping", str(mapping)])
    assert typo.exit_code == 1, typo.output
    assert (f"  hint: [files.outline] in {mapping} gives no class (class = \"01013\", or class_field = the column "
            "giving each row's; `gridkit components classes WORD` finds a code); [files.outlin] does: if it is meant "
            "for this file, name it as the file is") in typo.output


def test_a_failed_import_leaves_the_package_untouched(tmp_path, package):
    before = package.read_bytes()
    path = _csv(tmp_path, [dict(lon=1, lat=2)])
    result = CliRunner().invoke(cli, ["components", "import", str(path), "--grid", str(package),
                                      "--mapping", str(tmp_path / "missing.toml")])
    assert result.exit_code != 0
    bad = tmp_path / "bad.toml"
    bad.write_text('class = "01001"\n[fields]\nNOPE = "x"\n')
    result = CliRunner().invoke(cli, ["components", "import", str(path), "--grid", str(package), "--mapping", str(bad)])
    assert result.exit_code == 1 and "NOPE" in result.output and "abbreviations" in result.output
    assert package.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_rejects_file_fixed_takes_its_inventorys_mapping_section(tmp_path, package):
    """signals.rejects.csv, fixed, looked for a [files.signals.rejects] section: every
    row was rejected as unknown_class, the hint asking for a section of that name.
    It takes [files.signals] (its own section first, when the file has one). Given with
    signals.csv, whose rejects would be written over it, it is refused."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 5000], [Y0 + 50] * 3)
    signals = _csv(tmp_path, [dict(lon=a, lat=b, Location=f"corner {i}") for i, (a, b) in enumerate(zip(lon, lat))],
                   name="signals.csv")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[files.signals]\nclass = "02014"\n[files.signals.fields]\nBZ = "Location"\n')
    args = ["components", "import", "--grid", str(package), "--mapping", str(mapping)]
    assert CliRunner().invoke(cli, [*args, str(signals)]).exit_code == 0
    fixed = tmp_path / "signals.rejects.csv"
    rejects = pd.read_csv(fixed)
    assert rejects[["row", "reason", "Location"]].values.tolist() == [[3, "outside", "corner 2"]]
    assert Mapping.load(mapping, inventory=fixed).class_code == "02014"
    assert Mapping.load(mapping, inventory=tmp_path / "signals.import-rejects.csv").class_code == "02014"
    assert Mapping.load(mapping, inventory=tmp_path / "other.rejects.csv").class_code is None
    with_own = tmp_path / "own.toml"
    with_own.write_text('[files.signals]\nclass = "02014"\n[files."SIGNALS.rejects"]\nclass = "01037"\n')
    assert Mapping.load(with_own, inventory=fixed).class_code == "01037"

    rejects.assign(lon=lon[1] + 1e-4).to_csv(fixed, index=False)  # moved inside, by hand
    result = CliRunner().invoke(cli, [*args, str(signals), str(fixed)])
    assert result.exit_code == 2 and f"{fixed} is where the rejects of {signals} are written" in result.output
    assert pd.read_csv(fixed)["lon"].tolist() == [lon[1] + 1e-4]
    result = CliRunner().invoke(cli, [*args, str(fixed)])
    assert result.exit_code == 0, result.output
    assert "signals.rejects: 1 row → 1 imported, 0 rejected" in result.output
    catalogue = read_catalogue(package)
    assert catalogue[["source", "class_code", "BZ"]].values.tolist() == [
        ["signals", "02014", "corner 0"], ["signals", "02014", "corner 1"], ["signals.rejects", "02014", "corner 2"]]


def test_rejects_of_geometries_say_their_crs_so_they_come_back_fixed_without_crs(tmp_path, package):
    """Rows read from geometries get x and y in their file's CRS; the rejects CSV
    said none, so the file fixed stopped with "columns x/y do not say their CRS".
    Its .prj says it now (a rejects file without a CRS, of gcj02 rows, loses an
    earlier one)."""
    lamps = tmp_path / "lamps.gpkg"
    gpd.GeoDataFrame({"name": ["in", "out"]}, geometry=shapely.points([X0 + 50, X0 + 900], [Y0 + 50] * 2),
                     crs=4548).to_file(lamps)
    args = ["components", "import", "--grid", str(package), "--class", "01037"]
    assert CliRunner().invoke(cli, [*args, str(lamps)]).exit_code == 0
    fixed = tmp_path / "lamps.rejects.csv"
    rejects = pd.read_csv(fixed)
    assert rejects[["row", "reason", "name", "x", "y"]].values.tolist() == [[2, "outside", "out", X0 + 900, Y0 + 50]]
    assert pyproj.CRS((tmp_path / "lamps.rejects.prj").read_text()).to_epsg() == 4548
    rejects.assign(x=X0 + 250).to_csv(fixed, index=False)  # moved inside, by hand
    result = CliRunner().invoke(cli, [*args, str(fixed)])
    assert result.exit_code == 0 and "lamps.rejects: 1 row → 1 imported, 0 rejected" in result.output
    catalogue = read_catalogue(package)
    assert catalogue.loc[catalogue["source"] == "lamps.rejects", "SZDYWGBSM"].tolist() == ["110101001001006"]  # SE
    lon, lat = gk.coords.wgs84_to_gcj02(*_lonlat([X0 + 5000], [Y0]))
    _csv(tmp_path, [dict(lon=lon[0], lat=lat[0])], name="lamps.csv")
    assert CliRunner().invoke(cli, [*args, str(tmp_path / "lamps.csv"), "--crs", "gcj02"]).exit_code == 1
    assert pd.read_csv(fixed)["reason"].tolist() == ["outside"] and not (tmp_path / "lamps.rejects.prj").exists()


def test_an_import_failing_on_its_second_inventory_leaves_the_firsts_rejects_as_they_were(tmp_path, package):
    """The first inventory's rejects file was written anew before the second failed:
    rejects of an import that never happened over those of the last one that did."""
    lon, lat = _lonlat([X0 + 50], [Y0 + 50])
    good = _csv(tmp_path, [dict(id="L1", lon="abc", lat=lat[0])], name="good.csv")
    args = ["components", "import", "--grid", str(package), "--class", "01037"]
    assert CliRunner().invoke(cli, [*args, str(good)]).exit_code == 1  # its one row rejected
    rejects = (tmp_path / "good.rejects.csv").read_bytes()
    assert b"missing_coordinates" in rejects
    before = package.read_bytes()
    good = _csv(tmp_path, [dict(id="L1", lon=lon[0], lat=lat[0])], name="good.csv")  # fixed
    bad = _csv(tmp_path, [dict(id="X", foo=1, bar=2)], name="bad.csv")
    result = CliRunner().invoke(cli, [*args, str(good), str(bad)])
    assert result.exit_code == 1 and "bad.csv: no coordinate columns found" in result.output
    assert (tmp_path / "good.rejects.csv").read_bytes() == rejects
    assert package.read_bytes() == before
    assert not (tmp_path / "bad.rejects.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _overwritten(tmp_path, boundaries, *more):
    """`grid units BOUNDARIES -o grid.gpkg --overwrite` with ``more`` options."""
    args = ["grid", "units", str(boundaries), "--code-field", "code", "-o", str(tmp_path / "grid.gpkg"), *more]
    return CliRunner().invoke(cli, [*args, "--overwrite"])


def test_a_layout_written_over_a_package_keeps_its_catalogue_and_what_the_user_added(tmp_path):
    """Gridding again with --overwrite (other cells, or household grids) used to
    replace the package whole: the imported components, a layer dragged in from
    QGIS and a project saved into the package were gone. Now they come along, each
    component in the cell that holds it now; a layout that would leave components
    outside it stops, naming the package, and leaves it as it was."""
    boundaries = tmp_path / "community.gpkg"
    gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=[shapely.box(X0, Y0, X0 + 400, Y0 + 300)],
                     crs=4548).to_file(boundaries)
    package = tmp_path / "grid.gpkg"
    assert CliRunner().invoke(cli, ["grid", "units", str(boundaries), "--code-field", "code", "-o",
                                    str(package)]).exit_code == 0
    xs, ys = np.array([20, 130, 260, 390, 50, 210]) + X0, np.array([20, 60, 110, 280, 250, 150]) + Y0
    lon, lat = _lonlat(xs, ys)
    lamps = _csv(tmp_path, [dict(lon=a, lat=b) for a, b in zip(lon, lat)], name="lamps.csv")
    (tmp_path / "mapping.toml").write_text('[files.lamps]\nclass = "01037"\n')
    imported = CliRunner().invoke(cli, ["components", "import", str(lamps), "--grid", str(package), "--crs",
                                        "EPSG:4326", "--mapping", str(tmp_path / "mapping.toml")])
    assert imported.exit_code == 0, imported.output
    before = read_catalogue(package)
    gpd.GeoDataFrame({"name": ["school"]}, geometry=[shapely.Point(X0 + 99, Y0 + 99)], crs=4548).to_file(
        package, layer="schools")
    with closing(sqlite3.connect(package)) as db, db:
        db.execute("CREATE TABLE qgis_projects(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
        db.execute("INSERT INTO qgis_projects VALUES ('survey map', '{}', x'504b0304')")

    result = _overwritten(tmp_path, boundaries, "--cell-area", "2500")
    assert result.exit_code == 0, result.output
    assert "components   6 carried over (layer components); 6 now in a new grid (SZDYWGBSM)" in result.output
    assert ("kept         schools (added by hand); 1 QGIS project saved in the package (survey map)"
            in result.output)
    cells = gk.read_package(package)[0]
    assert len(cells) == 48
    after = read_catalogue(package)
    assert after["GLBJBSM"].tolist() == before["GLBJBSM"].tolist()
    holding = gpd.sjoin(after[["geometry"]].to_crs(4548), cells[["grid_id", "geometry"]], predicate="within")
    assert after["SZDYWGBSM"].tolist() == holding["grid_id"].tolist()
    assert json.loads(gk.read_package(package)[2]["component_imports"])[0]["source"] == "lamps"
    assert len(gpd.read_file(package, layer="schools")) == 1

    # Household grids over it: the same again.
    homes = tmp_path / "homes.gpkg"
    gpd.GeoDataFrame(geometry=shapely.points(np.array([(X0 + 10 + 20 * i, Y0 + 10 + 20 * j) for i in range(20)
                                                       for j in range(15)], float)), crs=4548).to_file(homes)
    result = CliRunner().invoke(cli, ["grid", "households", str(boundaries), "--code-field", "code", "--households",
                                      str(homes), "--min-households", "40", "--max-households", "60", "-o",
                                      str(package), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "components   6 carried over (layer components)" in result.output
    assert "kept         schools (added by hand); 1 QGIS project" in result.output
    grids = gk.read_package(package)[0]
    holding = gpd.sjoin(read_catalogue(package)[["geometry"]].to_crs(4548), grids[["grid_id", "geometry"]],
                        predicate="within")
    assert read_catalogue(package)["SZDYWGBSM"].tolist() == holding["grid_id"].tolist()

    # A layout that leaves the lamp at (390, 280) outside: stopped, the package as it was.
    gpd.GeoDataFrame({"code": ["110101001001"]}, geometry=[shapely.box(X0, Y0, X0 + 300, Y0 + 200)],
                     crs=4548).to_file(boundaries)
    kept = package.read_bytes()
    result = _overwritten(tmp_path, boundaries)
    assert result.exit_code == 1
    assert (f"{package}: its component 11010101037000004 (row 3 of the catalogue) lies in no cell of the layout "
            f"and near none (2 such; moved out of the layout in QGIS? move it back, or mark it removed (GLBJZT 移除)): "
            f"the layouts do not cover the same ground; to start afresh without its catalogue, delete {package} "
            "first, or write the new layout to another file") in result.output
    assert package.read_bytes() == kept


def test_a_row_far_off_the_globe_is_rejected_not_the_whole_import(tmp_path, package):
    """A projected row in a lon/lat file (x ≤ 90, y in millions) is one reject; the
    check for swapped columns used to raise on it and stop the whole import."""
    lon, lat = _lonlat([X0 + 50], [Y0 + 50])
    path = _csv(tmp_path, [dict(lon=lon[0], lat=lat[0]), dict(lon=50.0, lat=3_000_000.0)])
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                               today="20260701")
    assert result.summary["imported"] == 1 and result.summary["rejected_by_reason"] == {"impossible_coordinates": 1}
    assert result.rejects["detail"].tolist() == [
        "y = 3000000 is not a latitude (-90..90): are x and y swapped, or is the CRS wrong?"]


def test_a_table_s_filter_compares_numbers_as_numbers(tmp_path):
    """A CSV or an Excel table is read as text; its filter still compares a column of
    numbers as numbers (OBJECTID < 500 does not keep '1000'), and an ID column with
    leading zeros as text."""
    from gridkit.catalogue import read_inventory

    n = np.arange(1, 1201)
    frame = pd.DataFrame({"OBJECTID": n, "code": [f"{i:05d}" for i in n], "status": np.where(n % 2, "ACT", "RET"),
                          "lon": 116.4 + n * 1e-5, "lat": 39.9})
    csv, xlsx = tmp_path / "t.csv", tmp_path / "t.xlsx"
    frame.to_csv(csv, index=False)
    frame.to_excel(xlsx, index=False)
    for path, first in ((csv, 1), (xlsx, 2)):  # a sheet's rows numbered as Excel shows them: the header is row 1
        kept, x, _, _ = read_inventory(path, where="OBJECTID < 500 AND status = 'ACT'")
        assert kept.attrs["source_rows"].tolist() == list(range(first, first + 499, 2))  # 250 odd OBJECTIDs < 500
        assert np.allclose(x, 116.4 + np.arange(1, 500, 2) * 1e-5) and kept["code"].iloc[0] == "00001"
        assert read_inventory(path, where="code LIKE '0000%'")[0].attrs["source_rows"].tolist() == list(
            range(first, first + 9))


def test_a_filtered_import_removes_nothing_it_left_out_and_keeps_file_numbers(tmp_path, package):
    """--where imports part of an inventory: the components it leaves out are kept
    (counted), not removed; rejects and source_row number rows as the file does; a
    source key repeated in the file is numbered over the file, so the selected
    second 'A' updates the second A's component, not the first's."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 60, X0 - 500], [Y0 + 50] * 5)
    inventory = tmp_path / "lamps.gpkg"
    frame = gpd.GeoDataFrame({"key": ["A", "B", "A", "C", "D"], "kind": ["old", "old", "new", "new", "new"],
                              "BZ": ["a1", "b", "a2", "c", "far"]},
                             geometry=gpd.points_from_xy(lon, lat), crs=4326)
    frame.to_file(inventory, layer="lamps", engine="pyogrio")
    loc, mapping = Locator.from_package(package), Mapping(class_code="01001", source_key="key")
    full = import_components(inventory, loc, mapping=mapping, today="20260701")
    assert (full.summary["imported"], full.summary["rejected"]) == (4, 1)
    frame.loc[2, "BZ"] = "a2, repainted"
    frame.to_file(inventory, layer="lamps", engine="pyogrio")
    part = import_components(inventory, loc, catalogue=full.catalogue, mapping=mapping, today="20260801",
                             where="kind = 'new'")
    s = part.summary
    assert (s["rows"], s["imported"], s["rejected"]) == (3, 2, 1)
    assert (s["updated"], s["unchanged"], s["added"], s["removed"], s["kept_unselected"]) == (1, 1, 0, 0, 2)
    assert part.rejects["row"].tolist() == [5] and part.rejects["reason"].tolist() == ["outside"]
    cat = part.catalogue.set_index("source_key")
    assert cat.loc["k:A#1", "BZ"] == "a2, repainted" and cat.loc["k:A", "BZ"] == "a1"
    assert cat.loc["k:A#1", "BGRQ"] == "20260801" and pd.isna(cat.loc["k:A", "BGRQ"])  # the first A: untouched
    assert cat["source_row"].to_dict() == {"k:A": 1, "k:B": 2, "k:A#1": 3, "k:C": 4}
    assert (cat["GLBJZT"] != "移除").all()
    # Without the filter the same file removes nothing either: every row is there.
    again = import_components(inventory, loc, catalogue=part.catalogue, mapping=mapping, today="20260901")
    assert (again.summary["removed"], again.summary["unchanged"], again.summary["kept_unselected"]) == (0, 4, 0)
    # The same inventory as a CSV, imported whole, then changed and filtered the same way: the same import.
    def table(bz):
        return _csv(tmp_path, [dict(key=k, kind=kind, BZ=b, lon=x, lat=y) for k, kind, b, x, y in
                               zip(frame["key"], frame["kind"], bz, lon, lat)])

    first = import_components(table(["a1", "b", "a2", "c", "far"]), loc, mapping=mapping, today="20260701")
    table = table(frame["BZ"])
    from_table = import_components(table, loc, catalogue=first.catalogue, mapping=mapping, today="20260801",
                                   where="kind = 'new'")
    assert from_table.summary == {**part.summary, "source": "inv"}  # the source: the file's name
    assert from_table.rejects["row"].tolist() == [5]
    assert from_table.catalogue.set_index("source_key")["source_row"].to_dict() == cat["source_row"].to_dict()
    # The same as GeoParquet: its keys were read over the file through GDAL, whose build
    # here has no Parquet driver (libduckdb.so: cannot open shared object file)
    geoparquet = tmp_path / "lamps.parquet"
    frame.to_parquet(geoparquet)
    first = import_components(geoparquet, loc, mapping=mapping, today="20260701")
    from_parquet = import_components(geoparquet, loc, catalogue=first.catalogue, mapping=mapping,
                                     today="20260801", where="kind = 'new'")
    assert from_parquet.summary == {**part.summary, "unchanged": 2, "updated": 0}  # imported as it is now
    assert from_parquet.catalogue.set_index("source_key")["source_row"].to_dict() == cat["source_row"].to_dict()
    # The same as a ledger's sheet, below a title row: its keys numbered over the sheet the same
    # way, its rows as the sheet numbers them (the header is row 2)
    ledger = tmp_path / "inv.xlsx"
    rows = pd.read_csv(table, dtype=str)
    _save_ledger(ledger, [["路灯台账"], list(rows.columns), *rows.values.tolist()], [])
    first = import_components(ledger, loc, mapping=mapping, today="20260701")
    from_sheet = import_components(ledger, loc, catalogue=first.catalogue, mapping=mapping, today="20260801",
                                   where="kind = 'new'")
    s = from_sheet.summary
    assert (s["rows"], s["imported"], s["unchanged"], s["removed"], s["kept_unselected"]) == (3, 2, 2, 0, 2)
    assert from_sheet.rejects["row"].tolist() == [7]
    assert from_sheet.catalogue.set_index("source_key")["source_row"].to_dict() == {
        key: row + 2 for key, row in cat["source_row"].to_dict().items()}
    with pytest.raises(InputError, match=r"inv.csv: --where 'knd = 1' is not a filter GDAL understands .*columns "
                                         r"\(key, kind, BZ, lon, lat\)"):
        import_components(table, loc, mapping=mapping, where="knd = 1")
    with pytest.raises(InputError, match=r"inv.csv: no row matches --where \"kind = 'x'\""):
        import_components(table, loc, mapping=mapping, where="kind = 'x'")
    # The command line says the rows counted are those the filter selects.
    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text('[files.lamps]\nclass = "01001"\nsource_key = "key"\n')
    args = ["components", "import", str(inventory), "--grid", str(package), "--mapping", str(mapping_file)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "--where", "kind = 'old'"])
    assert result.exit_code == 0, result.output
    assert "lamps: 2 rows that --where selects → 2 imported, 0 rejected" in result.output
    assert "2 unchanged, 0 removed, 2 kept as they were (left out by --where)" in result.output


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_filtered_table_rejects_a_row_without_coordinates_by_its_number(tmp_path, package, suffix):
    """--where on a table whose selected rows include one with blank coordinates:
    the row is a reject numbered as the file numbers it (a CSV from the first row
    below its header; a sheet as Excel shows it, here below a title row), for
    import and locate alike. (The frame's row numbers and the coordinate columns
    joined to it for the reject's detail stopped the import with a traceback.)"""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    rows = [["key", "kind", "lon", "lat"], ["a", "new", lon[0], lat[0]], ["b", "old", lon[1], lat[1]],
            ["c", "new", None, None], ["d", "new", lon[2], lat[2]]]
    path = tmp_path / f"lamps{suffix}"
    if suffix == ".csv":
        pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    else:
        _save_ledger(path, [["路灯台账"], *rows], [])
    first = 1 if suffix == ".csv" else 3  # the number of the file's row "a"
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01001"),
                               today="20261126", where="kind = 'new'")
    assert (result.summary["imported"], result.summary["rejected"]) == (2, 1)
    assert result.rejects[["row", "reason", "key"]].values.tolist() == [[first + 2, "missing_coordinates", "c"]]
    assert sorted(result.catalogue["source_row"].tolist()) == [first, first + 3]
    located = CliRunner().invoke(cli, ["locate", str(path), "--grid", str(package), "-o", str(tmp_path / "l.csv")])
    assert located.exit_code == 0, located.output
    assert pd.read_csv(tmp_path / "l.rejects.csv")[["row", "key"]].values.tolist() == [[first + 2, "c"]]


def test_a_layout_with_micro_grids_names_each_components_micro_grid(tmp_path, package):
    """A household package made with --micro: each component gets the micro-grid
    holding it (micro_id), one of its own grid's, also when it is assigned to the
    nearest cell from outside; stats count per micro-grid and show names it. A
    catalogue written before gridkit kept micro_id gains it on a re-import, with
    nothing counted as updated."""
    cells = gpd.read_file(package, layer="cells")
    pyogrio.write_dataframe(micro_halves(cells), package, layer="micro_grids")  # each cell cut at its middle x
    # 004's west half, 002's east half twice, and 5 m west of the layout (nearest: 004, its west half)
    lon, lat = _lonlat([X0 + 25, X0 + 175, X0 + 190, X0 - 5], [Y0 + 50, Y0 + 150, Y0 + 120, Y0 + 50])
    path = _csv(tmp_path, [dict(key=k, lon=a, lat=b) for k, a, b in zip("abcd", lon, lat)], name="lamps.csv")
    (tmp_path / "lamps.toml").write_text('class = "01037"\nsource_key = "key"\n')
    args = ["components", "import", str(path), "--grid", str(package), "--mapping", str(tmp_path / "lamps.toml")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "  assigned 3 inside a cell, 1 to the nearest cell within 25 m, 4 in a micro-grid;" in result.output
    cat = read_catalogue(package).set_index("source_key")
    assert cat["SZDYWGBSM"].to_dict() == {"k:a": "110101001001004", "k:b": "110101001001002",
                                          "k:c": "110101001001002", "k:d": "110101001001004"}
    assert cat["micro_id"].to_dict() == {"k:a": "11010100100100401", "k:b": "11010100100100202",
                                         "k:c": "11010100100100202", "k:d": "11010100100100401"}
    stats = CliRunner().invoke(cli, ["components", "stats", "--grid", str(package), "--by", "micro"])
    assert stats.exit_code == 0, stats.output
    rows = [line.split() for line in stats.output.splitlines()[1:-1]]  # every micro-grid, 0 where none
    assert [row for row in rows if row[1] != "0"] == [["11010100100100202", "2", "2", "0"],
                                                      ["11010100100100401", "2", "2", "0"]]
    assert len(rows) == 2 * len(cells) and [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert stats.output.splitlines()[-1] == (f"total        4 components, 0 removed; {2 * len(cells) - 2} of "
                                             f"{2 * len(cells)} micro-grids hold none")
    shown = CliRunner().invoke(cli, ["components", "show", cat.loc["k:d", "GLBJBSM"], "--grid", str(package)])
    assert shown.exit_code == 0 and "\nmicro-grid   11010100100100401\n" in shown.output
    # an ID that names no component says why when it can: typed in full-width digits
    # it is found; too short, or in the legacy scheme (with the 2026 form to ask for)
    component = cat.loc["k:d", "GLBJBSM"]
    wide = component.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert CliRunner().invoke(cli, ["components", "show", wide, "--grid", str(package)]).output == shown.output
    legacy = convert_ids([component], to="legacy")[0][0]
    for asked, said in [(component[:14], "the ID has 14 characters; a GB/T 47678.5-2026 component ID has 17 digits"),
                        (legacy, f"it is a legacy ID, and the catalogue holds 2026 ones; its 2026 form is "
                                 f"{component}: gridkit components show {component} --grid {package}"),
                        # 17 digits less one reads as a legacy ID, whose 2026 form no component has
                        (component[:-1], "it is a legacy ID, and the catalogue holds 2026 ones; its 2026 form "
                                         f"{convert_ids([component[:-1]])[0][0]} is not held either (a 2026 ID with a "
                                         "digit missing?)")]:
        missing = CliRunner().invoke(cli, ["components", "show", asked, "--grid", str(package)])
        assert (missing.exit_code, missing.output) == (1, f"Error: no component {asked} in {package}: {said}\n")
    info = CliRunner().invoke(cli, ["info", str(package)])
    assert "components   4: 01037 路灯 4; assigned inside 3, nearest 1; 4 in a micro-grid\n" in info.output

    # As an older gridkit wrote it: no micro_id column. Read, it has an empty one;
    # imported again, every component is unchanged and has its micro-grid.
    old = gpd.read_file(package, layer="components").drop(columns="micro_id")
    pyogrio.write_dataframe(old, package, layer="components")
    assert read_catalogue(package)["micro_id"].isna().all()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "catalogue: 0 added, 0 updated, 4 unchanged, 0 removed" in result.output
    again = read_catalogue(package).set_index("source_key")
    assert again["micro_id"].to_dict() == cat["micro_id"].to_dict()
    assert again["BGRQ"].isna().all()


def test_a_layout_without_micro_grids_leaves_micro_id_empty_and_says_so(tmp_path, package):
    lon, lat = _lonlat([X0 + 25], [Y0 + 50])
    path = _csv(tmp_path, [dict(lon=lon[0], lat=lat[0])])
    result = import_components(path, Locator.from_package(package), mapping=Mapping(class_code="01037"))
    assert result.catalogue["micro_id"].isna().all() and "assigned_micro" not in result.summary
    write_catalogue(package, result.catalogue)
    assert read_catalogue(package)["micro_id"].isna().all()
    stats = CliRunner().invoke(cli, ["components", "stats", "--grid", str(package), "--by", "micro"])
    assert stats.exit_code == 1
    assert "Error: --by micro: no component is in a micro-grid; the layout has none" in stats.output


def test_a_mapping_section_is_found_in_any_case_and_a_misspelt_one_is_logged(tmp_path, caplog):
    path = tmp_path / "mapping.toml"
    path.write_text('class = "03005"\n[files.TRAFFIC_Signals]\nclass = "02014"\n[files.INFRA_Hydrant]\n'
                    'class = "01013"\n', encoding="utf-8")
    assert Mapping.load(path, inventory="TRAFFIC_Signals.geojson").class_code == "02014"
    assert Mapping.load(path, inventory="exports/traffic_signals.csv").class_code == "02014"  # renamed on Windows
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="gridkit.catalogue"):
        assert Mapping.load(path, inventory="INFRA_Hydrants.geojson").class_code == "03005"  # the top level's
    assert caplog.messages == [f"{path} has no [files.INFRA_Hydrants] section, only [files.INFRA_Hydrant], which is "
                               "not used for INFRA_Hydrants: if it is meant for this file, name it as the file is"]
    caplog.clear()
    assert Mapping.load(path, inventory="DPW_LitterBarrels.geojson").class_code == "03005"
    assert not caplog.records  # no section near its name: the top level maps it, as meant
    # A section named as the file, suffix and all, is the file's; with the fields under
    # the stem's (a section of its own, made by [files.STEM.fields]) it is read as one.
    path.write_text('[files."lamps.csv"]\nclass = "01037"\n[files.lamps.fields]\nBZ = "note"\n', encoding="utf-8")
    mapping = Mapping.load(path, inventory="lamps.csv")
    assert (mapping.class_code, mapping.fields, mapping.origin) == ("01037", {"BZ": "note"}, f"{path} [files.lamps]")
    assert Mapping.load(path, inventory="lamps.rejects.csv").class_code == "01037"  # its rejects, fixed
    assert Mapping.load(path, inventory="lamps.xlsx").class_code == "01037"  # saved from Excel: the same
    path.write_text('[files."lamps.csv"]\nclass = "01037"\n[files.lamps]\nclass = "01038"\n', encoding="utf-8")
    with pytest.raises(InputError) as error:
        Mapping.load(path, inventory="lamps.csv")
    assert str(error.value) == (f"{path}: [files.lamps] and [files.\"lamps.csv\"] both map lamps, with class = "
                                "'01038' and '01037': keep one")
    # The header mistyped, the fields' headers not: the section of the file's name gives no class.
    path.write_text('[files.INFRA_Hydrant]\nclass = "01013"\n[files.INFRA_Hydrants.fields]\nBZ = "note"\n')
    with caplog.at_level(logging.WARNING, logger="gridkit.catalogue"):
        mapping = Mapping.load(path, inventory="INFRA_Hydrants.geojson")
    assert (mapping.class_code, mapping.section, mapping.near_section) == (None, "INFRA_Hydrants", "INFRA_Hydrant")
    assert caplog.messages == [f"{path} has no [files.INFRA_Hydrants] section giving a class, only "
                               "[files.INFRA_Hydrant], which is not used for INFRA_Hydrants: if it is meant for this "
                               "file, name it as the file is"]


def _lamps(tmp_path, package, micro=False):
    """Four lamps imported into ``package`` (with each cell's micro halves, when
    ``micro``): a in 004, b and c in 002 (its east half), d 5 m west of the layout
    (the nearest cell: 004). The catalogue, indexed by source key."""
    if micro:
        pyogrio.write_dataframe(micro_halves(gpd.read_file(package, layer="cells")), package, layer="micro_grids")
    lon, lat = _lonlat([X0 + 25, X0 + 175, X0 + 190, X0 - 5], [Y0 + 50, Y0 + 150, Y0 + 120, Y0 + 50])
    path = _csv(tmp_path, [dict(key=k, lon=a, lat=b) for k, a, b in zip("abcd", lon, lat)], name="lamps.csv")
    (tmp_path / "lamps.toml").write_text('class = "01037"\nsource_key = "key"\n')
    args = ["components", "import", str(path), "--grid", str(package), "--mapping", str(tmp_path / "lamps.toml"),
            "--date", "20260101"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return read_catalogue(package).set_index("source_key")


def test_cells_edited_by_hand_leave_components_check_finds_and_reassign_puts_right(tmp_path, package):
    """A cell boundary moved in QGIS puts a component in another cell than the
    catalogue says: check names it (where it lies now, and the fix) and fails;
    reassign gives it the cell holding it, with a change date, and nothing else;
    check then passes, and a second reassign writes nothing."""
    ids = _lamps(tmp_path, package)["GLBJBSM"]
    check = CliRunner().invoke(cli, ["check", str(package)])
    assert check.exit_code == 0, check.output
    assert check.output.splitlines()[1] == ("grid.gpkg  components: 4 in use in 6 cells: ok (each in the cell that "
                                            "holds it)")

    def move_edge(cells):  # 001 takes the west 80 m of 002: lamp b (x + 175) with it, not c (x + 190)
        cells.geometry = cells.geometry.where(cells.grid_id != "110101001001001",
                                              shapely.box(X0, Y0 + 100, X0 + 180, Y0 + 200))
        cells.geometry = cells.geometry.where(cells.grid_id != "110101001001002",
                                              shapely.box(X0 + 180, Y0 + 100, X0 + 200, Y0 + 200))

    cells = gpd.read_file(package, layer="cells")
    move_edge(cells)
    pyogrio.write_dataframe(cells, package, layer="cells", driver="GPKG")
    report = gk.check_package(package)
    assert report["cells"].ok
    assert report["components"].problems == [
        f"1 component(s) (e.g. {ids['k:b']}) the catalogue puts in 110101001001002 lie in cell 110101001001001"]
    assert report["components"].where[0].symmetric_difference(shapely.box(X0, Y0 + 100, X0 + 180, Y0 + 200)).area < 1e-6
    check = CliRunner().invoke(cli, ["check", str(package)])
    assert check.exit_code == 1
    assert check.output.splitlines()[1:4] == [
        "grid.gpkg  components: 4 in use in 6 cells: 1 problem(s)",
        f"  1 component(s) (e.g. {ids['k:b']}) the catalogue puts in 110101001001002 lie in cell 110101001001001",
        f"  fix: gridkit components reassign {package} puts each in the cell that holds it now, "
        "with that cell's names"]

    before = read_catalogue(package)
    result = CliRunner().invoke(cli, ["components", "reassign", str(package), "--date", "20270301", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"in_use": 4, "without_position": 0, "moved": 1, "micro_moved": 0, "changed": 1}
    after = read_catalogue(package)
    assert after["SZDYWGBSM"].tolist() == ["110101001001004", "110101001001001", "110101001001002",
                                           "110101001001004"]
    assert after["BGRQ"].tolist() == [before["BGRQ"][0], "20270301", before["BGRQ"][2], before["BGRQ"][3]]
    unchanged = [c for c in after.columns if c not in ("SZDYWGBSM", "BGRQ", "geometry")]
    pd.testing.assert_frame_equal(after[unchanged], before[unchanged])
    assert CliRunner().invoke(cli, ["check", str(package)]).exit_code == 0
    written = package.read_bytes()
    again = CliRunner().invoke(cli, ["components", "reassign", "--grid", str(package)])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[0] == (f"{package}: 4 components in use; 0 in another cell now, 0 in another "
                                            "micro-grid")
    assert again.output.splitlines()[1].startswith("catalogue    0 changed, nothing written (")
    assert package.read_bytes() == written


def test_reassign_refuses_a_broken_layout_and_check_names_the_components_in_no_cell(tmp_path, package):
    """A cell deleted leaves a gap, and one left without a geometry another: check
    names the components in the first (in no cell, near none) besides the gaps;
    reassign refuses, naming check, and leaves the package as it was."""
    ids = _lamps(tmp_path, package)["GLBJBSM"]
    cells = gpd.read_file(package, layer="cells")
    cells.geometry = cells.geometry.where(cells.grid_id != "110101001001003", None)
    pyogrio.write_dataframe(cells[cells.grid_id != "110101001001004"], package, layer="cells", driver="GPKG")
    report = gk.check_package(package)
    assert len(report["cells"].problems) == 2
    assert report["components"].problems == [
        f"2 component(s) (e.g. {ids['k:a']}) the catalogue puts in 110101001001004 lie in no cell now, nor near one: "
        "moved out of the layout in QGIS? move it back, or mark it removed (GLBJZT 移除)"]
    written = package.read_bytes()
    result = CliRunner().invoke(cli, ["components", "reassign", str(package)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {package}: its layout breaks the grid invariants (cells 2 problem(s)), so a "
                             "component may lie in two cells or none; `gridkit check " f"{package}` names them. Fix "
                             "them first; the package is unchanged\n")
    assert package.read_bytes() == written


def test_a_micro_grid_edited_by_hand_moves_a_component_without_a_change_of_record(tmp_path, package):
    """Grid 002's micro-grids re-cut at x + 180 instead of x + 150: lamp b (x + 175)
    is in micro-grid 01 now. Check names it, where it lies; reassign gives it the
    micro-grid, and no change date (the standard's fields name the grid only)."""
    ids = _lamps(tmp_path, package, micro=True)["GLBJBSM"]
    micro = gpd.read_file(package, layer="micro_grids")
    west = shapely.box(X0 + 100, Y0 + 100, X0 + 180, Y0 + 200)
    micro.geometry = micro.geometry.where(micro.micro_id != "11010100100100201", west)
    micro.geometry = micro.geometry.where(micro.micro_id != "11010100100100202",
                                          shapely.box(X0 + 180, Y0 + 100, X0 + 200, Y0 + 200))
    pyogrio.write_dataframe(micro, package, layer="micro_grids", driver="GPKG")
    report = gk.check_package(package)
    assert report["cells"].ok and report["micro_grids"].ok
    assert report["components"].problems == [
        f"1 component(s) (e.g. {ids['k:b']}) in 110101001001002 the catalogue puts in micro-grid 11010100100100202 "
        "lie in micro-grid 11010100100100201"]
    assert report["components"].where[0].symmetric_difference(west).area < 1e-6
    before = read_catalogue(package)
    result = CliRunner().invoke(cli, ["components", "reassign", str(package), "--json"])
    assert json.loads(result.output) == {"in_use": 4, "without_position": 0, "moved": 0, "micro_moved": 1, "changed": 1}
    after = read_catalogue(package)
    assert after["micro_id"].tolist() == ["11010100100100401", "11010100100100201", "11010100100100202",
                                          "11010100100100401"]
    assert after["BGRQ"].tolist() == before["BGRQ"].tolist()
    assert gk.check_package(package)["components"].ok


def test_micro_grids_whose_id_fields_were_made_integers_in_qgis_reassign_as_text(tmp_path, package):
    """The micro_grids layer saved with micro_id and grid_id as integer fields (QGIS's
    Refactor fields): reassign reads them as the catalogue's text, and moves nothing:
    every component is in the micro-grid the catalogue says."""
    _lamps(tmp_path, package, micro=True)
    before = read_catalogue(package)
    micro = gpd.read_file(package, layer="micro_grids")
    micro = micro.assign(micro_id=micro["micro_id"].astype("int64"), grid_id=micro["grid_id"].astype("int64"))
    pyogrio.write_dataframe(micro, package, layer="micro_grids", driver="GPKG")
    assert gk.check_package(package)["components"].ok
    result = CliRunner().invoke(cli, ["components", "reassign", str(package), "--json"])
    assert json.loads(result.output) == {"in_use": 4, "without_position": 0, "moved": 0, "micro_moved": 0, "changed": 0}
    after = read_catalogue(package)
    assert after["micro_id"].tolist() == before["micro_id"].tolist() == [
        "11010100100100401", "11010100100100202", "11010100100100202", "11010100100100401"]


def test_misplaced_components_leaves_out_removed_ones_and_names_those_without_a_cell():
    """A removed component keeps the cell it was in when removed (its history): not
    misplaced. One the catalogue gives no cell, or a cell no longer there, is."""
    from gridkit.catalogue import misplaced_components

    cells = gpd.GeoDataFrame({"grid_id": ["110101001001001", "110101001001002"]},
                             geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                                       shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100)], crs=4548)
    catalogue = gpd.GeoDataFrame({"GLBJBSM": [f"1101010103700000{i}" for i in range(1, 5)],
                                  "SZDYWGBSM": ["110101001001001", "110101001001001", None, "110101001001009"],
                                  "end_date": [None, "20260501", None, None]},
                                 geometry=shapely.points([(X0 + 150, Y0 + 50)] * 3 + [(X0 + 50, Y0 + 50)]), crs=4548)
    wrong = misplaced_components(catalogue, cells)
    assert wrong[["row", "GLBJBSM", "grid_id", "grid_now"]].to_dict("records") == [
        {"row": 0, "GLBJBSM": "11010101037000001", "grid_id": "110101001001001", "grid_now": "110101001001002"},
        {"row": 2, "GLBJBSM": "11010101037000003", "grid_id": None, "grid_now": "110101001001002"},
        {"row": 3, "GLBJBSM": "11010101037000004", "grid_id": "110101001001009", "grid_now": "110101001001001"}]
    assert wrong["micro_id"].isna().all() and wrong["micro_now"].isna().all()


def test_a_mapping_file_s_mistakes_are_named_with_what_to_write(tmp_path, package):
    """A class typed as a TOML number, as a word that is no class's name or as a legacy class, a field given
    two columns, class and class_field both, a bare Chinese key: refused before any
    row is read, naming the file, its section and the key."""
    path = tmp_path / "mapping.toml"
    inventory = _csv(tmp_path, [dict(kind=1, lon=116.4, lat=39.9)], name="hydrants.csv")

    def refusal(text):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as error:
            import_components(inventory, Locator.from_package(package), mapping=Mapping.load(path, inventory=inventory))
        return str(error.value)

    where = f"{path} [files.hydrants]"
    assert refusal("[files.hydrants]\nclass = 1013\n") == (
        f"{where}: class = '1013': class code '1013' is not 5 digits: leading zeros lost? 01013 is 消防设施 (a code "
        "goes in quotes in TOML, zeros and all: \"01013\"); `gridkit components classes WORD` finds a code")
    assert refusal('[files.hydrants]\nclass = "01013"\nsource_key = "Kind"\n').startswith(
        "mapping: source_key 'Kind' is not a column of hydrants (did you mean 'kind'?) (it has ['kind'")
    assert refusal('[files.hydrants]\nclass = "消防栓"\n') == (  # the everyday word
        f"{where}: class = '消防栓' is no class's code or name; classes near it by name: 01013 消防设施, "
        "01068 水鹤: give the code, class = \"CODE\"")
    assert refusal('[files.hydrants]\nclass = "hydrant"\n').endswith(  # the word English names it by
        "classes near it by name: 01013 消防设施, 01068 水鹤: give the code, class = \"CODE\"")
    with pytest.raises(InputError) as error:
        path.write_text('[files.hydrants]\nclass = 01013  # 消防设施\n', encoding="utf-8")
        Mapping.load(path, inventory=inventory)
    assert str(error.value) == (
        f"{path}: not valid TOML (Expected newline or end of document after a statement (at line 2, column 10)): "
        "line 2 has 01013 unquoted, and a TOML number has no leading zero: a code goes in quotes, zeros and all: "
        "class = \"01013\"  # 消防设施")
    assert refusal('[files.hydrants]\nclass_field = "kind"\n[files.hydrants.classes]\n1 = "0113"\n') == (
        f"{where}: classes.1 = '0113': class code '0113' is not 5 digits: it is CJ/T 214 class 0113 (消防设施), which "
        "is 01013 (消防设施) in GB/T 47678.5-2026; or import with --scheme legacy; `gridkit components classes WORD` "
        "finds a code")
    with pytest.raises(InputError) as error:
        path.write_text('[files.hydrants]\nclass = "01013"\n[files.hydrants.fields]\nBZ = ["a", "b"]\n')
        Mapping.load(path, inventory=inventory)
    assert str(error.value) == f"{where}: fields.BZ = ['a', 'b']: name one column, in quotes (fields.BZ = \"TYPE\")"
    with pytest.raises(InputError) as error:
        path.write_text('[files.hydrants]\nclass = "01013"\nclass_field = "kind"\n')
        Mapping.load(path, inventory=inventory)
    assert str(error.value) == (f"{where}: both class (one class for every row) and class_field (the column that "
                                "gives each row's class): keep one")
    with pytest.raises(InputError) as error:
        path.write_text('[files.hydrants]\nclass = "01013"\n[files.hydrants.fields]\n权属单位名称 = "owner"\n',
                        encoding="utf-8")
        Mapping.load(path, inventory=inventory)
    assert str(error.value) == (f"{path}: not valid TOML (Invalid statement (at line 4, column 1)): a key of other "
                                "than ASCII letters, digits, - and _ goes in double quotes: \"权属单位名称\" = …")
    # What is meant is read so: a section's class over the top level's class_field; fields
    # named as columns may name them; a class with spaces, in full-width digits.
    path.write_text('class_field = "kind"\n[files.hydrants]\nclass = " ０１０１３ "\n[files.hydrants.fields]\n'
                    '"权属单位名称" = "owner"\nbz = "note"\n', encoding="utf-8")
    mapping = Mapping.load(path, inventory=inventory)
    assert (mapping.class_code, mapping.class_field, mapping.fields) == ("01013", None,
                                                                        {"QSDWMC": "owner", "BZ": "note"})


def test_a_class_column_s_words_the_mapping_lacks_are_named_with_the_classes_they_may_mean(tmp_path, package):
    """A class column of everyday words, some not in the mapping's [classes]: each
    such row was rejected as "class code '垃圾桶' is not 5 digits", which sent the user
    to the codes, not to the [classes] table. Now the detail says what [classes] maps
    and which classes the word may mean."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250, X0 + 50], [Y0 + 50] * 3 + [Y0 + 150])
    kinds = ["消防栓", "垃圾桶", "Hydrant", " ０１０３７ "]
    inventory = _csv(tmp_path, [dict(类型=k, lon=a, lat=b) for k, a, b in zip(kinds, lon, lat)], name="things.csv")
    mapping = tmp_path / "m.toml"
    mapping.write_text('class_field = "类型"\n[classes]\n"消防栓" = "01013"\n', encoding="utf-8")
    result = import_components(inventory, Locator.from_package(package),
                               mapping=Mapping.load(mapping, inventory=inventory))
    assert result.catalogue["class_code"].tolist() == ["01013", "01037"]
    assert result.rejects[["row", "reason", "detail"]].values.tolist() == [
        [2, "unknown_class", f"类型 '垃圾桶' is no class code or name, nor in the [classes] of {mapping} (it maps "
                             "消防栓): add it there, \"垃圾桶\" = \"03005\" (classes near it by name: 03005 垃圾箱)"],
        [3, "unknown_class", f"类型 'Hydrant' is no class code or name, nor in the [classes] of {mapping} (it maps "
                             "消防栓): add it there, \"Hydrant\" = \"CODE\" (classes near it by name: 01013 消防设施, "
                             "01068 水鹤)"]]


def test_a_class_column_of_the_standard_s_names_is_read_by_name(tmp_path, package):
    """A ledger's class column holds the standard's names (路灯), CJ/T 214's (上水井盖,
    still in most live systems) or the English ones: each row was rejected as
    "class code '路灯' is not 5 digits" unless a [classes] table spelled out what the
    standard already says. Now a name is its class, where the class holds all the
    name covers (立杆, any pole, is no one 2026 class); the summary says which names it
    read, and a file imported with no class at all is told its class column."""
    kinds = ["路灯", "STREET LIGHT", "上水井盖", "输油（气）井盖", "交通标志牌", " ０１０３７ ", "立杆", "路灯"]
    lon, lat = _lonlat([X0 + 10 + 30 * i for i in range(len(kinds))], [Y0 + 50] * len(kinds))
    inventory = _csv(tmp_path, [dict(类别=k, lon=a, lat=b) for k, a, b in zip(kinds, lon, lat)], name="ledger.csv")
    args = ["components", "import", str(inventory), "--grid", str(package), "--date", "20261126"]

    run = CliRunner().invoke(cli, args)  # no class given: the hint names the column
    assert run.exit_code == 1, run.output
    assert "  hint: its column 类别 names classes (路灯, STREET LIGHT, 上水井盖): give --class-field 类别 to read " \
           "each row's class from it" in run.output.splitlines()

    run = CliRunner().invoke(cli, [*args, "--class-field", "类别", "--json"])
    assert run.exit_code == 0, run.output
    [summary] = json.loads(run.output)
    catalogue = read_catalogue(package)
    assert catalogue.sort_values("source_row")["class_code"].tolist() == [
        "01037", "01037", "01001", "01021", "02010", "01037", "01037"]
    assert summary["classes_by_name"] == {
        "路灯": ["01037", "路灯", "GB/T 47678.5-2026"], "STREET LIGHT": ["01037", "路灯", "GB/T 47678.5-2026"],
        "上水井盖": ["01001", "供水井盖", "CJ/T 214"], "输油（气）井盖": ["01021", "输油（气）井盖", "GB/T 47678.5-2026"],
        "交通标志牌": ["02010", "交通标志牌及标线", "CJ/T 214"]}
    rejects = pd.read_csv(tmp_path / "ledger.rejects.csv", dtype=str)
    assert rejects[["row", "reason", "detail"]].values.tolist() == [[
        "7", "unknown_class", "类别 '立杆' is no class code or name: 立杆 is CJ/T 214's class 0117, and no "
        "GB/T 47678.5-2026 class holds all of it (legacy 立杆 is any pole; 2026 splits poles by owner (01030 power … "
        "01033 special); 01034 unidentified is the default; pick the owner's class when known): map it in a --mapping "
        "file, [classes] \"立杆\" = \"CODE\" (classes near it by name: 01030 电力立杆, 01031 通信立杆, 01032 公交立杆, "
        "01033 特殊立杆, 01034 不明立杆)"]]
    run = CliRunner().invoke(cli, [*args, "--class-field", "类别"])
    assert "  classes read by name: 路灯 → 01037, STREET LIGHT → 01037 路灯, 上水井盖 → 01001 供水井盖 (its CJ/T 214 " \
           "name), 输油（气）井盖 → 01021, 交通标志牌 → 02010 交通标志牌及标线 (its CJ/T 214 name)" in run.output.splitlines()

    # A mapping's [classes] says what a name means there (by a code, or a class's name);
    # its class, and --class, take a name too.
    mapping = tmp_path / "m.toml"
    mapping.write_text('[classes]\n"路灯" = "地灯"\n"立杆" = "01030"\n', encoding="utf-8")
    run = CliRunner().invoke(cli, [*args, "--class-field", "类别", "--mapping", str(mapping), "--json"])
    assert run.exit_code == 0, run.output
    catalogue = read_catalogue(package, where="GLBJZT <> '移除'")  # 路灯 became 01038 (two removed, two added)
    assert catalogue.sort_values("source_row")["class_code"].tolist() == [
        "01038", "01037", "01001", "01021", "02010", "01037", "01030", "01038"]
    assert list(json.loads(run.output)[0]["classes_by_name"]) == ["STREET LIGHT", "上水井盖", "输油（气）井盖", "交通标志牌"]
    result = import_components(inventory, Locator.from_package(package), mapping=Mapping(class_code="消防设施"))
    assert result.rejects["detail"].tolist() == [] and set(result.catalogue["class_code"]) == {"01013"}
    run = CliRunner().invoke(cli, [*args, "--class", "交通信号灯", "--source", "signals", "--json"])
    assert run.exit_code == 0, run.output
    assert set(read_catalogue(package, where="source = 'signals'")["class_code"]) == {"02014"}
    run = CliRunner().invoke(cli, [*args, "--class", "路灯", "--class-field", "类别"])
    assert run.exit_code == 2 and "--class (one class for every row) and --class-field" in run.output
    run = CliRunner().invoke(cli, [*args, "--class-field", "类型"])
    assert run.exit_code == 1
    assert ("Error: --class-field '类型' is not a column (the columns are ['类别']); 类别 names classes (路灯, "
            "STREET LIGHT, 上水井盖)") in run.output

    # In the legacy scheme, 2026's names read the other way: 供水井盖 is 0101 上水井盖, and
    # 立杆 is its own class; 交通标志牌及标线 holds more than 0209 交通标志牌, so it is none.
    inventory = _csv(tmp_path, [dict(类别=k, lon=a, lat=b) for k, a, b in zip(
        ["供水井盖", "立杆", "交通标志牌及标线"], lon, lat)], name="old.csv")
    result = import_components(inventory, Locator.from_package(package), table=class_table("legacy"),
                               mapping=Mapping(class_field="类别"))
    assert result.catalogue["class_code"].tolist() == ["0101", "0117"]
    assert result.summary["classes_by_name"] == {"供水井盖": ["0101", "上水井盖", "GB/T 47678.5-2026"],
                                                 "立杆": ["0117", "立杆", "CJ/T 214"]}
    assert result.rejects["detail"].str.startswith(
        "类别 '交通标志牌及标线' is no class code or name: 交通标志牌及标线 is GB/T 47678.5-2026's class 02010, and no "
        "CJ/T 214 class holds all of it (2026 adds markings (标线) to the signs class)").tolist() == [True]


def test_classes_and_dates_from_columns_of_numbers_and_a_mapping_s_values(tmp_path, package):
    """A class column of whole numbers with a blank (read as floats, 1.0), a survey
    date column of numbers (20260701.0), a column of dates, and a TOML date in
    [values]: each is read as what it says."""
    lon, lat = _lonlat([X0 + 50, X0 + 150, X0 + 250], [Y0 + 50] * 3)
    frame = gpd.GeoDataFrame({"kind": [1.0, 2.0, None], "surveyed": [20260701.0, None, 20250102.0],
                              "edited": pd.to_datetime(["2026-03-04 13:45", None, "2026-05-06 00:00"])},
                             geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    inventory = tmp_path / "hydrants.gpkg"
    frame.to_file(inventory)
    assert pyogrio.read_dataframe(inventory)["kind"].dtype == float
    path = tmp_path / "mapping.toml"
    path.write_text('class_field = "kind"\n[classes]\n1 = "01013"\n2 = "01068"\n[fields]\nCSRQ = "surveyed"\n'
                    'BGRQ = "edited"\n[values]\nCSRQ = 2026-07-02\n')
    result = import_components(inventory, Locator.from_package(package), mapping=Mapping.load(path),
                               today="20261125")
    assert result.catalogue["class_code"].tolist() == ["01013", "01068"]
    assert result.catalogue["CSRQ"].tolist() == ["20260701", "20260702"]
    assert result.catalogue["BGRQ"].tolist() == ["20260304", None]
    assert result.rejects[["row", "reason", "detail"]].values.tolist() == [
        [3, "unknown_class", "no class: its kind is blank"]]


def test_two_columns_that_could_be_one_coordinate_are_refused(tmp_path):
    """lon and LON (a column fixed beside the raw one): the later was taken as the
    longitude, silently, and every Dongcheng report fell outside the layout."""
    from gridkit.catalogue import read_inventory

    path = _csv(tmp_path, [dict(lon=116.41, LON=117.41, lat=39.91)])
    with pytest.raises(InputError) as error:
        read_inventory(path)
    assert str(error.value) == (f"{path}: 2 columns could be the coordinate lon: 'lon', 'LON'; name the ones to use "
                                "with --x-field and --y-field")
    _, x, y, _ = read_inventory(path, x_field="lon", y_field="lat", crs="EPSG:4326")
    assert (x.tolist(), y.tolist()) == ([116.41], [39.91])


def test_a_mapping_whose_files_section_is_no_table_is_named(tmp_path):
    """`files = "x"` was ignored (every inventory read with the top level alone), and
    `[files] signals = 5` an AttributeError traceback."""
    cases = [('files = "x"\n', "files = 'x' is not a table: write it as a [files] section"),
             ('class = "02014"\n[files]\nsignals = 5\n', "files.signals = 5 is not a table: write it as a "
                                                          "[files.signals] section")]
    for text, said in cases:
        mapping = tmp_path / "m.toml"
        mapping.write_text(text, encoding="utf-8")
        for read in (lambda: Mapping.load(mapping, inventory=tmp_path / "signals.csv"),
                     lambda: Mapping.sections(mapping)):
            with pytest.raises(InputError) as caught:
                read()
            assert str(caught.value) == f"{mapping}: {said}"
    mapping.write_text('class = "02014"\n[files.signals]\nclass = "01013"\n', encoding="utf-8")
    assert Mapping.load(mapping, inventory=tmp_path / "signals.csv").class_code == "01013"
    assert Mapping.sections(mapping) == ["signals"]


def test_import_components_names_an_inventory_or_locator_it_cannot_use(package):
    """A GeoDataFrame given as the inventory was "not enough values to unpack
    (expected 4, got 2)", and None for the locator an AttributeError ('NoneType'
    object has no attribute 'micro')."""
    from gridkit.locator import Locator

    points = gpd.GeoDataFrame({"class_code": ["01001"]}, geometry=[shapely.Point(X0 + 50, Y0 + 50)], crs=4548)
    with pytest.raises(gk.InputError, match=r"^the inventory is a GeoDataFrame: give a file's path, or \(frame, x, "
                                            r"y, crs\) as read_inventory\(path, keep_xy=True\) returns them"):
        import_components(points, Locator.from_package(package))
    with pytest.raises(gk.InputError, match=r"^locator is a NoneType, not a gridkit Locator"):
        import_components((points, points.geometry.x, points.geometry.y, points.crs), None)
    done = import_components((points, points.geometry.x, points.geometry.y, points.crs),
                             Locator.from_package(package), source="points", mapping=Mapping(class_code="01001"))
    assert done.catalogue["SZDYWGBSM"].tolist() == ["110101001001004"]


def test_write_catalogue_and_catalogue_stats_refuse_a_frame_that_is_no_catalogue(package):
    """A frame without GLBJBSM was a KeyError, a list an AttributeError; a frame
    with no CRS an AttributeError after the package was copied."""
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(X0, Y0)], crs=4548)
    before = package.read_bytes()
    with pytest.raises(gk.InputError, match=r"^the catalogue has no columns 'GLBJBSM', 'SZDYWGBSM', 'GLBJZT'; "
                                            r"its columns are: a; read it with read_catalogue\(package\)"):
        write_catalogue(package, frame)
    with pytest.raises(gk.InputError, match=r"^the catalogue is a list, not a GeoDataFrame; read it with "
                                            r"read_catalogue\(package\)$"):
        catalogue_stats([1])
    catalogue = frame.assign(GLBJZT=["在用"], SZDYWGBSM=["110101001001003"])
    with pytest.raises(gk.InputError, match=r"^the areas are a list, not a DataFrame; list them with "
                                            r"layout_areas\(package, 'cell'\)$"):
        catalogue_stats(catalogue, by="cell", areas=[1])
    with pytest.raises(gk.InputError, match=r"^the areas have no column 'SZDYWGBSM'; their columns are: grid_id; "):
        catalogue_stats(catalogue, by="cell", areas=pd.DataFrame({"grid_id": ["1"]}))
    assert package.read_bytes() == before


def test_an_empty_mapping_file_is_refused_and_a_table_of_no_rows_is_said(package, tmp_path, caplog):
    """An empty --mapping file (or one of comments) read as no mapping: every row
    rejected for want of a class, the file not named. A table of a header line
    alone imported 0 of 0 rows without a word; it is said, not refused, as a
    rejects file of no rejects is imported again so."""
    for text in ("", "# the classes are to come\n"):
        (tmp_path / "m.toml").write_text(text)
        with pytest.raises(gk.InputError, match=r"m\.toml: the mapping file says nothing \(it is empty, or comments "
                                                r"alone\); give its class or class_field"):
            Mapping.load(tmp_path / "m.toml")
    table = tmp_path / "none.csv"
    table.write_text("x,y,class\n")
    from gridkit.locator import Locator

    with caplog.at_level("WARNING"):
        done = import_components(table, Locator.from_package(package), crs="EPSG:4548",
                                 mapping=Mapping(class_code="01001"))
    assert done.summary["rows"] == 0 and "none.csv: a header line and no rows: nothing to read" in caplog.text
