import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import gridkit as gk
from gridkit.catalogue import Mapping, import_components, read_catalogue, write_catalogue
from gridkit.households import balanced_grid
from gridkit.locator import Locator
from gridkit.styles import STYLE_NAME, write_styles

from .conftest import community_frame

X0, Y0 = 500_000.0, 4_400_000.0  # EPSG:4548


def _styles(path):
    return pyogrio.read_dataframe(path, layer="layer_styles", read_geometry=False)


def _named_fields(qml):
    """Every field a style names: in its field list, and as "quoted" names in its
    rule filters, label expressions and data-defined properties."""
    names = set(re.findall(r'field="([^"]+)"', qml))
    expressions = re.findall(r'(?:filter|fieldName)="([^"]*)"', qml)
    expressions += re.findall(r'<Option (?=[^>]*name="expression")[^>]*value="([^"]*)"', qml)  # any attribute order
    for expression in expressions:
        names |= set(re.findall(r'&quot;([^&]+)&quot;', expression))
    return names


def _household_package(folder, name="homes.gpkg", carry=None):
    """A household layout of 260 homes at ``folder/name``, with ``carry`` (what a
    user added to a package it replaces)."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 600, Y0 + 400)])
    xy = np.array([(X0 + 15 + 30 * i, Y0 + 15 + 30 * j) for i in range(20) for j in range(13)], dtype=float)
    homes = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=comm.crs)
    layout = balanced_grid(comm, homes, min_households=40, max_households=60, micro=(10, 20))
    return gk.write_package(folder / name, layout.grids, comm, carry=carry,
                            extra_layers={"micro_grids": layout.micro, "household_rejects": layout.rejects})


@pytest.fixture()
def package(tmp_path):
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200)])
    return gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)


def test_geopackages_are_version_1_2(package, tmp_path):
    """Older QGIS (3.22, GDAL 3.6) warns about every layer of a GeoPackage 1.4, what
    GDAL 3.11+ writes unless told; the package and single-layer outputs are 1.2."""
    import sqlite3

    cells = gk.read_package(package)[0]
    gk.io.write_vector(cells, tmp_path / "cells.gpkg")  # no layer given: named after the file
    assert pyogrio.list_layers(tmp_path / "cells.gpkg")[:, 0].tolist() == ["cells"]
    for path in (package, tmp_path / "cells.gpkg"):
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == 10200, path


def test_unit_grid_package_has_a_default_style_per_layer(package):
    styles = _styles(package)
    assert sorted(styles["f_table_name"]) == ["cells", "units"]
    assert set(styles["styleName"]) == {STYLE_NAME} and styles["useAsDefault"].all()
    for row in styles.itertuples():
        info = pyogrio.read_info(package, layer=row.f_table_name)
        assert row.f_geometry_column == info["geometry_name"] == "geom"
        assert (row.f_table_catalog, row.f_table_schema) == ("", "")  # what QGIS matches on in a GeoPackage
        root = ET.fromstring(row.styleQML.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis" and root.find("renderer-v2") is not None
        assert _named_fields(row.styleQML) <= set(info["fields"]), row.f_table_name


def test_household_package_styles_grids_by_band_and_micro_grids(tmp_path):
    package = _household_package(tmp_path)
    styles = _styles(package).set_index("f_table_name")
    assert sorted(styles.index) == ["cells", "micro_grids", "units"]  # rejects (none here) are not styled
    cells = styles.loc["cells", "styleQML"]
    assert 'filter="&quot;in_band&quot;"' in cells and 'filter="NOT &quot;in_band&quot;"' in cells
    for layer, row in styles.iterrows():
        fields = set(pyogrio.read_info(package, layer=layer)["fields"])
        assert _named_fields(row["styleQML"]) <= fields, layer


def test_catalogue_adds_its_style_and_keeps_the_users(package, tmp_path):
    # A style the user saved from QGIS as the cells' default survives a component import.
    mine = _styles(package).iloc[[0]].assign(f_table_name="cells", styleName="mine", styleQML="<qgis/>",
                                             useAsDefault=True)
    pyogrio.write_dataframe(pd.concat([_styles(package), mine], ignore_index=True), package,
                            layer="layer_styles", driver="GPKG")
    inventory = tmp_path / "inv.csv"
    lon, lat = gpd.GeoSeries(shapely.points([X0 + 50, X0 + 250], [Y0 + 50, Y0 + 150]), crs=4548).to_crs(4326)\
        .get_coordinates().to_numpy().T
    pd.DataFrame({"lon": lon, "lat": lat}).to_csv(inventory, index=False)
    result = import_components(inventory, Locator.from_package(package), mapping=Mapping(class_code="01001"))
    write_catalogue(package, result.catalogue)
    assert len(read_catalogue(package)) == 2
    styles = _styles(package)
    ours = styles[styles["styleName"] == STYLE_NAME].set_index("f_table_name")
    assert sorted(ours.index) == ["cells", "components", "units"]
    assert _named_fields(ours.loc["components", "styleQML"]) == {"class_code"}  # a hue per class
    assert "class_code" in pyogrio.read_info(package, layer="components")["fields"]
    assert not ours.loc["cells", "useAsDefault"] and ours.loc["components", "useAsDefault"]
    theirs = styles[styles["styleName"] == "mine"]
    assert len(theirs) == 1 and theirs["useAsDefault"].all() and theirs["styleQML"].iloc[0] == "<qgis/>"
    write_styles(package)  # again: still one gridkit row per layer
    assert len(_styles(package)) == len(styles)


def _walked(package, tmp_path):
    """A worker's walk along the package's lower row of cells (15 fixes, 20 s apart):
    its points counted per cell (``locate --counts``) and its patrol coverage, as
    GeoPackages."""
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    walk = gpd.GeoSeries(shapely.points(X0 + np.arange(10, 300, 20), Y0 + 50), crs=4548).to_crs(4326)
    times = pd.date_range("2026-11-20 08:00", periods=len(walk), freq="20s", tz="Asia/Shanghai")
    pd.DataFrame({"worker": "w1", "time": times.strftime("%Y-%m-%dT%H:%M:%S%z"), "lon": walk.x,
                  "lat": walk.y}).to_csv(tmp_path / "walk.csv", index=False)
    counts, coverage = tmp_path / "counts.gpkg", tmp_path / "coverage.gpkg"
    located = CliRunner().invoke(cli, ["locate", str(tmp_path / "walk.csv"), "--grid", str(package),
                                       "--counts", str(counts)])
    assert located.exit_code == 0, located.output
    patrolled = CliRunner().invoke(cli, ["patrol", str(tmp_path / "walk.csv"), "--grid", str(package),
                                         "--track-field", "worker", "-o", str(coverage)])
    assert patrolled.exit_code == 0, patrolled.output
    return counts, coverage


def test_counts_and_patrol_geopackages_open_styled(package, tmp_path):
    """`locate --counts` and `patrol` wrote their GeoPackages bare: QGIS opened the
    counts and the coverage in one random opaque colour, and (as GeoPackage 1.4)
    warned of every layer. They carry gridkit's styles now (counts red by points,
    coverage green by minutes and red where no one went, a hue per track), as
    GeoPackage 1.2, and every style's time is one QGIS 3.22's GDAL reads without a
    warning (2026-11-26T12:08:43.000Z)."""
    import sqlite3

    counts, coverage = _walked(package, tmp_path)
    for path, layers in ((counts, ["counts"]), (coverage, ["coverage", "tracks"]), (package, ["cells", "units"])):
        styles = _styles(path).set_index("f_table_name")
        assert sorted(styles.index) == layers and styles["useAsDefault"].all(), path
        for layer in layers:
            fields = set(pyogrio.read_info(path, layer=layer)["fields"])
            assert _named_fields(styles.loc[layer, "styleQML"]) <= fields, layer
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == 10200, path
            times = [t for (t,) in db.execute("SELECT update_time FROM layer_styles")]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t) for t in times), times
    assert _named_fields(_styles(counts)["styleQML"].iloc[0]) == {"points"}
    assert _named_fields(_styles(coverage).set_index("f_table_name").loc["coverage", "styleQML"]) == {
        "patrolled", "minutes"}


def _pyqgis():
    python = shutil.which("python3", path="/usr/bin")
    if not python or subprocess.run([python, "-c", "import qgis.core"], capture_output=True).returncode:
        pytest.skip("PyQGIS not installed (Debian: apt-get install python3-qgis; scripts/test.sh --slow does)")
    return python


@pytest.mark.slow
def test_qgis_opens_the_package_with_its_styles(tmp_path):
    """In QGIS itself (PyQGIS, no screen): every layer's default style loads from the
    package, with the renderer gridkit chose, and the household grids draw."""
    python = _pyqgis()
    package = _household_package(tmp_path)
    script = textwrap.dedent(f"""
        from qgis.core import QgsApplication, QgsVectorLayer, QgsMapSettings, QgsMapRendererParallelJob
        from qgis.PyQt.QtCore import QSize
        from qgis.PyQt.QtGui import QColor
        app = QgsApplication([], False); app.initQgis()
        layers = []
        for name in ("cells", "micro_grids", "units"):
            layer = QgsVectorLayer("{package}|layername=" + name, name, "ogr")
            message, ok = layer.loadDefaultStyle()
            print(name, layer.isValid(), ok, type(layer.renderer()).__name__, layer.labelsEnabled(), flush=True)
            layers.append(layer)
        settings = QgsMapSettings(); settings.setLayers(layers); settings.setBackgroundColor(QColor("white"))
        settings.setDestinationCrs(layers[0].crs()); settings.setExtent(layers[0].extent())
        settings.setOutputSize(QSize(300, 200))
        job = QgsMapRendererParallelJob(settings); job.start(); job.waitForFinished()
        image = job.renderedImage()
        colours = {{image.pixel(x, y) for x in range(0, 300, 5) for y in range(0, 200, 5)}}
        print("colours", len(colours), flush=True)
        del image, job, settings, layers, layer  # before QGIS goes: Qt objects after it crash on exit
        app.exitQgis()
    """)
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.split(" ", 1)[0] in
                 ("cells", "micro_grids", "units", "colours"))
    assert lines["cells"] == "True True QgsRuleBasedRenderer True", out.stderr[-2000:]
    assert lines["micro_grids"] == "True True QgsSingleSymbolRenderer True"
    assert lines["units"] == "True True QgsRuleBasedRenderer True"
    assert int(lines["colours"]) > 3  # white, the grids' green fill, outlines, labels: drawn, not blank


@pytest.mark.slow
def test_qgis_opens_a_carried_project_on_the_new_package(tmp_path):
    """In QGIS itself: a project saved into a package (Project → Save To →
    GeoPackage) with its layers, a layer from another folder and a print layout,
    carried into a package in another folder and name (as a rebalance writes it),
    opens there reading the new package, the other file still found."""
    from gridkit.package import added_by_hand

    python = _pyqgis()
    (tmp_path / "a").mkdir()
    package = _household_package(tmp_path / "a")
    roads = tmp_path / "other" / "roads.gpkg"
    roads.parent.mkdir()
    gpd.GeoDataFrame({"name": ["Main St"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 600, Y0 + 400)])],
                     crs=gk.read_package(package)[0].crs).to_file(roads, layer="roads", engine="pyogrio")
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    start = "from qgis.core import *\napp = QgsApplication([], False); app.initQgis(); project = QgsProject.instance()\n"
    save = start + textwrap.dedent(f"""
        layers = [QgsVectorLayer(source, name, "ogr") for source, name in (
            ("{package}|layername=cells", "cells"), ("{package}|layername=micro_grids", "micro_grids"),
            ("{roads}|layername=roads", "roads"))]
        assert all(layer.isValid() for layer in layers)
        project.addMapLayers(layers)
        layout = QgsPrintLayout(project); layout.initializeDefaults(); layout.setName("A4 survey")
        frame = QgsLayoutItemMap(layout); frame.setLayers([layers[0], layers[2]]); frame.setKeepLayerSet(True)
        layout.addLayoutItem(frame); project.layoutManager().addLayout(layout)
        assert project.write("geopackage:{package}?projectName=survey map")
        app.exitQgis()
    """)
    out = subprocess.run([python, "-c", save], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    new = _household_package(tmp_path / "b", "homes_2027.gpkg", carry=added_by_hand(package))
    read = start + textwrap.dedent(f"""
        assert project.read("geopackage:{new}?projectName=survey map")
        for layer in sorted(project.mapLayers().values(), key=lambda layer: layer.name()):
            print("layer", layer.name(), layer.isValid(), layer.source(), flush=True)
        (frame,) = [item for item in project.layoutManager().layoutByName("A4 survey").items()
                    if isinstance(item, QgsLayoutItemMap)]
        print("layout", *[layer.source() for layer in frame.layers()], flush=True)
        app.exitQgis()
    """)
    out = subprocess.run([python, "-c", read], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith(("layer ", "layout "))]
    assert lines == [f"layer cells True {new}|layername=cells",
                     f"layer micro_grids True {new}|layername=micro_grids",
                     f"layer roads True {roads}|layername=roads",
                     f"layout {new}|layername=cells {roads}|layername=roads"], out.stdout + out.stderr[-2000:]


@pytest.mark.slow
def test_qgis_draws_located_points_in_their_status_colours(package, tmp_path):
    """``gridkit locate -o OUT.gpkg`` as QGIS draws it: blue dots inside, amber ones
    snapped to the nearest cell, red crosses outside (a cross is drawn by its stroke:
    a white one, as a first version had, vanishes on a white map)."""
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    python = _pyqgis()
    x = np.array([50, 150, 250, -5, 305, -40, 340, 150]) + X0
    y = np.array([50, 150, 100, 100, 100, 100, 100, 240]) + Y0
    lonlat = gpd.GeoSeries(shapely.points(x, y), crs=4548).to_crs(4326)
    pd.DataFrame({"lon": lonlat.x, "lat": lonlat.y}).to_csv(tmp_path / "points.csv", index=False)
    out = tmp_path / "located.gpkg"
    result = CliRunner().invoke(cli, ["locate", str(tmp_path / "points.csv"), "--grid", str(package),
                                      "--tolerance", "10", "-o", str(out)])
    assert "3 inside a cell, 2 nearest within 10 m, 3 outside the layout" in result.output, result.output
    script = textwrap.dedent(f"""
        from qgis.core import QgsApplication, QgsVectorLayer, QgsMapSettings, QgsMapRendererParallelJob
        from qgis.PyQt.QtCore import QSize
        from qgis.PyQt.QtGui import QColor
        app = QgsApplication([], False); app.initQgis()
        layer = QgsVectorLayer("{out}|layername=located", "located", "ogr")
        print("style", layer.loadDefaultStyle()[1], type(layer.renderer()).__name__, flush=True)
        settings = QgsMapSettings(); settings.setLayers([layer]); settings.setBackgroundColor(QColor("white"))
        settings.setDestinationCrs(layer.crs()); extent = layer.extent(); extent.grow(0.0002)
        settings.setExtent(extent); settings.setOutputSize(QSize(400, 300))
        job = QgsMapRendererParallelJob(settings); job.start(); job.waitForFinished()
        image = job.renderedImage()
        colours = {{QColor(image.pixel(x, y)).name() for x in range(400) for y in range(300)}}
        print("colours", " ".join(sorted(colours)), flush=True)
        del image, job, settings, layer
        app.exitQgis()
    """)
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.split(" ", 1)[0] in
                 ("style", "colours"))
    assert lines["style"] == "True QgsRuleBasedRenderer", out.stderr[-2000:]
    assert {"#1565c0", "#f9a825", "#d32f2f"} <= set(lines["colours"].split())  # each status drawn


@pytest.mark.slow
def test_qgis_draws_counts_red_and_coverage_green(package, tmp_path):
    """In QGIS itself: the counts' cells with points in shades of red, those without
    clear; the patrolled cells in shades of green, the others pale red; the track."""
    python = _pyqgis()
    counts, coverage = _walked(package, tmp_path)
    script = textwrap.dedent(f"""
        from qgis.core import QgsApplication, QgsVectorLayer, QgsMapSettings, QgsMapRendererParallelJob
        from qgis.PyQt.QtCore import QSize
        from qgis.PyQt.QtGui import QColor
        app = QgsApplication([], False); app.initQgis()
        for source in ("{counts}|layername=counts", "{coverage}|layername=coverage,tracks"):
            path, names = source.split("|layername=")
            layers = [QgsVectorLayer(path + "|layername=" + name, name, "ogr") for name in names.split(",")]
            for layer in layers:
                print("style", layer.name(), layer.loadDefaultStyle()[1], type(layer.renderer()).__name__,
                      flush=True)
            settings = QgsMapSettings(); settings.setLayers(layers[::-1])
            settings.setBackgroundColor(QColor("white")); settings.setDestinationCrs(layers[0].crs())
            settings.setExtent(layers[0].extent()); settings.setOutputSize(QSize(300, 200))
            job = QgsMapRendererParallelJob(settings); job.start(); job.waitForFinished()
            image = job.renderedImage()
            hues = {{QColor(image.pixel(x, y)).hue() // 30 for x in range(0, 300, 3) for y in range(0, 200, 3)
                    if QColor(image.pixel(x, y)).saturation() > 60}}
            print("hues", names, *sorted(hues), flush=True)
            del image, job, settings, layers, layer
        app.exitQgis()
    """)
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith(("style ", "hues "))]
    assert lines[:1] + lines[2:4] == ["style counts True QgsRuleBasedRenderer",
                                      "style coverage True QgsRuleBasedRenderer",
                                      "style tracks True QgsSingleSymbolRenderer"], out.stdout + out.stderr[-2000:]
    red, green = {0, 11}, {3, 4}  # hue // 30: reds about 0° (or 330°+), greens 90–150°
    counted, patrolled = (set(map(int, line.split()[2:])) for line in (lines[1], lines[4]))
    assert counted and counted <= red, lines  # the cells walked through, red; the others clear
    assert patrolled & green and patrolled & red, lines  # walked green, the row above pale red
