"""Locate acceptance on real points: Cambridge's GPS-surveyed inventories and Dongcheng.

Each point is located from WGS84 and again after a round trip through GCJ-02 (what
a Chinese map SDK hands out); inside points are checked against shapely, and the
counts are pinned.
"""

import numpy as np
import pyproj
import pytest
import shapely

import gridkit as gk
from gridkit import coords
from gridkit.locator import Locator


@pytest.fixture(scope="module")
def cambridge(samples):
    lines = gk.read_vector(samples / "cambridge_centerlines.gpkg")
    hood = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    comm = gk.unit_hierarchy(hood, name_field="NAME", provisional=True, parent_code="990101", barriers=lines)
    cells = gk.unit_grid(comm, barriers=lines)
    return cells, Locator(cells, tolerance=25)


def _check(cells, loc, lon, lat):
    """Counts by status; every inside answer is a cell that covers the point; GCJ-02 agrees."""
    found = loc.locate_many(lon, lat, crs="EPSG:4326")
    index, status, distance = loc.cell_index(lon, lat, crs="EPSG:4326")
    x, y = loc.to_layout_xy(lon, lat, "EPSG:4326")
    inside = status == 0
    assert shapely.intersects_xy(cells.geometry.values[index[inside]], x[inside], y[inside]).all()
    near = status == 1
    assert (distance[near] > 0).all() and (distance[near] <= 25).all()
    assert not shapely.intersects_xy(cells.geometry.values[index[near]], x[near], y[near]).any()
    gx, gy = coords.wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))
    back = loc.locate_many(gx, gy, crs="gcj02")
    moved = (found["grid_id"].astype(object).fillna("") != back["grid_id"].astype(object).fillna("")).sum()
    counts = found["status"].value_counts()
    return int(counts.get("inside", 0)), int(counts.get("nearest", 0)), int(counts.get("outside", 0)), int(moved)


def test_cambridge_shipped_inventories(cambridge, samples):
    cells, loc = cambridge
    results = {}
    for name in ("TRAFFIC_Signals", "DPW_LitterBarrels"):
        points = gk.read_vector(samples / f"{name}.geojson")
        results[name] = _check(cells, loc, points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    # (inside, nearest within 25 m, outside, cell changed by the GCJ-02 round trip)
    assert results == {"TRAFFIC_Signals": (738, 22, 25, 0), "DPW_LitterBarrels": (990, 0, 0, 0)}


def test_cambridge_hydrants_and_street_lights(cambridge, shared):
    cells, loc = cambridge
    results = {}
    for name in ("INFRA_Hydrants", "INFRA_StreetLights"):
        points = gk.read_vector(shared / "cambridge_ma" / f"{name}.geojson")
        results[name] = _check(cells, loc, points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    assert results == {"INFRA_Hydrants": (1943, 13, 4, 0), "INFRA_StreetLights": (6109, 8, 0, 0)}


def test_dongcheng_points_and_every_vertex(dongcheng):
    cells = gk.unit_grid(dongcheng)
    loc = Locator(cells, tolerance=25)
    rng = np.random.default_rng(2026)
    minx, miny, maxx, maxy = cells.total_bounds
    x, y = rng.uniform(minx - 300, maxx + 300, 50_000), rng.uniform(miny - 300, maxy + 300, 50_000)
    lon, lat = pyproj.Transformer.from_crs(cells.crs, 4326, always_xy=True).transform(x, y)
    assert _check(cells, loc, lon, lat) == (22_232, 611, 27_157, 0)
    # Edge cases: every vertex of every cell, in the layout's CRS, lies in exactly the cell the
    # edge rule picks, and that cell touches it.
    vx, vy = shapely.get_coordinates(cells.geometry.values).T
    index, status, _ = loc.cell_index(vx, vy)
    assert (status == 0).all()
    assert shapely.intersects_xy(cells.geometry.values[index], vx, vy).all()
    assert len(vx) == 22_379  # with the boundary's long edges cut as read (0.002°: 95 vertices more)
