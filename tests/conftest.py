import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run so CI is reproducible;
# HYPOTHESIS_PROFILE=explore searches afresh.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=400)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def samples():
    return SAMPLES


@pytest.fixture(scope="session")
def shared():
    if not SHARED.exists():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def dongcheng():
    import gridkit as gk

    boundaries = gk.read_vector(SAMPLES / "dongcheng_gcj02.gpkg", crs="gcj02")
    return gk.unit_hierarchy(boundaries, code_field="adcode", name_field="district", provisional=True)


def community_frame(geoms, codes=None, crs=4548):
    """A hand-made communities frame (metric CRS) for small exact tests."""
    import geopandas as gpd

    codes = codes or [f"110101001{i + 1:03d}" for i in range(len(geoms))]
    return gpd.GeoDataFrame(
        {"community_code": codes, "community_name": [f"c{i}" for i in range(len(geoms))],
         "street_code": [c[:9] for c in codes], "street_name": "", "county_code": [c[:6] for c in codes],
         "county_name": "", "provisional": False},
        geometry=list(geoms), crs=crs)


def micro_halves(cells):
    """Micro-grids for ``cells``: each cut in two at the middle of its x range,
    ``<grid_id>01`` (west) and ``<grid_id>02`` (east)."""
    import geopandas as gpd
    import shapely

    rows = []
    for gid, geom in zip(cells["grid_id"], cells.geometry):
        minx, miny, maxx, maxy = geom.bounds
        cut = (minx + maxx) / 2
        for k, half in enumerate((shapely.box(minx - 1, miny - 1, cut, maxy + 1),
                                  shapely.box(cut, miny - 1, maxx + 1, maxy + 1))):
            rows.append({"micro_id": f"{gid}{k + 1:02d}", "grid_id": gid, "geometry": geom.intersection(half)})
    return gpd.GeoDataFrame(rows, crs=cells.crs)
