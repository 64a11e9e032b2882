"""The HTML map in a real headless browser (Debian's Chromium, driven by Playwright)."""

import shutil

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit.catalogue import import_components, write_catalogue
from gridkit.locator import Locator
from gridkit_cli.main import cli

from .conftest import community_frame

X0, Y0 = 500_000.0, 4_400_000.0
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (scripts/test.sh installs it)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture()
def mapped(tmp_path):
    """A 4 × 3 lattice in two communities, 5 components, 7 located points; its HTML map."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 300), shapely.box(X0 + 200, Y0, X0 + 400, Y0 + 300)])
    package = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)
    xs, ys = X0 + np.array([50, 150, 250, 350, 120.0]), Y0 + np.array([50, 150, 250, 50, 220.0])
    inventory = gpd.GeoDataFrame({"GLBJBSM": [f"11010101013{i:06d}" for i in range(1, 6)]},
                                 geometry=shapely.points(xs, ys), crs=4548).to_crs(4326)
    inventory.to_file(tmp_path / "hydrants.geojson")
    result = import_components(tmp_path / "hydrants.geojson", Locator.from_package(package), today="20261122")
    write_catalogue(package, result.catalogue)
    points = gpd.GeoDataFrame({"case": list("abcdefg")}, geometry=shapely.points(
        X0 + np.arange(7) * 55.0 + 10, np.full(7, Y0 + 120.0)), crs=4548).to_crs(4326)
    points.to_file(tmp_path / "reports.geojson")
    result = CliRunner().invoke(cli, ["locate", str(tmp_path / "reports.geojson"), "--grid", str(package),
                                      "-o", str(tmp_path / "located.gpkg")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["map", str(package), "--html", "-o", str(out),
                                      "--points", str(tmp_path / "located.gpkg")])
    assert result.exit_code == 0, result.output
    assert "cells 12, units 3, components 5, located 7" in result.output
    return out


def test_html_map_loads_offline_with_every_layer(mapped):
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        requests = []
        page.on("request", lambda req: requests.append(req.url))
        page.goto(mapped.as_uri())
        counts = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('svg g[id^=layer-]')]
            .map(g => [g.id.slice(6), g.querySelectorAll('.feature').length]))""")
        assert counts == {"cells": 12, "units": 3, "components": 5, "located": 7}
        # click a cell: its attributes, grid ID first
        page.locator("#layer-cells .feature").first.click(force=True)
        assert "110101001001" in page.inner_text("#popup")
        # a located point carries its cell and status
        page.locator("#layer-located .feature").nth(3).click(force=True)
        popup = page.inner_text("#popup")
        assert "gk_grid_id" in popup and "inside" in popup
        # layers toggle
        page.locator("input[data-layer=components]").uncheck()
        assert page.locator("#layer-components").is_hidden()
        # wheel zoom changes the view box
        before = page.get_attribute("#map", "viewBox")
        page.mouse.move(400, 300)
        page.mouse.wheel(0, -300)
        assert page.get_attribute("#map", "viewBox") != before
        # cells outlined while they span pixels; zoomed far out, not (they would grey the map)
        assert page.locator("#map.fine").count() == 0
        for _ in range(25):
            page.mouse.wheel(0, 300)
        assert page.locator("#map.fine").count() == 1
        browser.close()
    assert errors == []
    assert all(url.startswith("file://") for url in requests)  # nothing fetched from the network


def test_a_very_large_html_map_warns(monkeypatch, caplog, tmp_path):
    import gridkit.webmap as webmap

    comm = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 300)])
    cells = gk.unit_grid(comm)
    monkeypatch.setattr(webmap, "LARGE_MAP_CELLS", 5)
    with caplog.at_level("WARNING"):
        webmap.write_html_map(tmp_path / "map.html", cells)
    assert "6 cells make a page of about 0 MB, which a browser opens slowly if at all" in caplog.text
    caplog.clear()
    monkeypatch.setattr(webmap, "LARGE_MAP_CELLS", 6)
    webmap.write_html_map(tmp_path / "map.html", cells, overwrite=True)
    assert caplog.text == ""


def test_micro_grids_are_a_layer_that_answers_a_click(tmp_path):
    """A household layout's micro-grids: a layer of their own over the grids (each
    grid its own colour), a click inside one gives its micro-grid; unticked, the
    click reaches the grid."""
    from playwright.sync_api import sync_playwright

    from gridkit.webmap import write_html_map

    from .conftest import micro_halves

    comm = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 100)])
    grids = gk.unit_grid(comm).assign(households=120)
    out = tmp_path / "map.html"
    assert write_html_map(out, grids, micro=micro_halves(grids)) == {"cells": 2, "micro_grids": 4}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(out.as_uri())
        fills = page.evaluate("() => [...document.querySelectorAll('#layer-cells path')].map(p => p.getAttribute('fill'))")
        assert len(set(fills)) == 2  # one community, two grids: two colours
        page.locator("#layer-micro_grids .feature").nth(1).click(force=True)
        assert "11010100100100102" in page.inner_text("#popup")
        page.locator("input[data-layer=micro_grids]").uncheck()
        page.locator("#layer-cells .feature").nth(0).click(force=True)
        popup = page.inner_text("#popup")
        assert "110101001001001" in popup and "11010100100100101" not in popup
        browser.close()


def test_a_component_without_a_position_is_left_off_the_map_and_said(tmp_path, caplog):
    """A component whose point was deleted in QGIS: its attributes went into the
    page with no dot, so every dot after it opened the next component's popup
    (the third hydrant's dot said 000002). It is left off, and the warning names it."""
    from playwright.sync_api import sync_playwright

    comm = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 300)])
    package = gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)
    xs, ys = X0 + np.array([50, 150, 50]), Y0 + np.array([50, 150, 250])
    inventory = gpd.GeoDataFrame({"GLBJBSM": [f"11010101013{i:06d}" for i in range(1, 4)]},
                                 geometry=shapely.points(xs, ys), crs=4548).to_crs(4326)
    inventory.to_file(tmp_path / "hydrants.geojson")
    catalogue = import_components(tmp_path / "hydrants.geojson", Locator.from_package(package)).catalogue
    catalogue.loc[1, "geometry"] = None
    write_catalogue(package, catalogue)
    out = tmp_path / "map.html"
    with caplog.at_level("WARNING"):
        result = CliRunner().invoke(cli, ["map", str(package), "--html", "-o", str(out)])
    assert result.exit_code == 0 and "components 2" in result.output
    assert ("map.html: 1 component(s) without a position (e.g. 11010101013000002) are not on the map; `gridkit "
            "check` names them") in caplog.text
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(out.as_uri())
        said = []
        for k in range(2):
            page.locator("#layer-components .feature").nth(k).dispatch_event("click")
            said.append(next(w for w in page.inner_text("#popup").split() if w.startswith("110101010130")))
        assert said == ["11010101013000001", "11010101013000003"]
        browser.close()


def test_the_map_names_cells_it_cannot_draw_before_writing_anything(tmp_path):
    """Point cells were an AttributeError ('Point' object has no attribute
    'exterior'), cells without a CRS pandas' "Must pass either crs or epsg", and a
    list an AttributeError; each is named now, and no page is written."""
    from gridkit.webmap import write_html_map

    cells = gk.unit_grid(community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 300)]))
    page = tmp_path / "map.html"
    with pytest.raises(gk.InputError, match=r"^6 of the cells are no polygon: the first \(row 1\) is a Point; read "
                                            r"them with gridkit\.read_package\(\)$"):
        write_html_map(page, cells.assign(geometry=cells.centroid))
    with pytest.raises(gk.InputError, match=r"^the cells have no CRS, so the map cannot place them"):
        write_html_map(page, cells.set_crs(None, allow_override=True))
    with pytest.raises(gk.InputError, match=r"^the units are a list, not a GeoDataFrame$"):
        write_html_map(page, cells, [1, 2])
    assert not page.exists()
