import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gridkit import coords
from gridkit.errors import CRSError

lon = st.floats(73.0, 135.0)
lat = st.floats(18.0, 53.0)
M_PER_DEG = 111_320.0


@pytest.mark.parametrize("forward,inverse", [
    (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84),
    (coords.wgs84_to_bd09, coords.bd09_to_wgs84),
    (coords.wgs84_to_bd09mc, coords.bd09mc_to_wgs84),
])
@settings(max_examples=200, deadline=None)
@given(x=lon, y=lat)
def test_round_trip_within_1mm(forward, inverse, x, y):
    wx, wy = inverse(*forward(x, y))
    assert np.hypot(wx - x, wy - y) * M_PER_DEG < 0.001


def test_round_trip_on_a_million_points_and_beats_the_one_step_inverse():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(73, 135, 1_000_000), rng.uniform(18, 53, 1_000_000)
    gx, gy = coords.wgs84_to_gcj02(x, y)
    wx, wy = coords.gcj02_to_wgs84(gx, gy)
    assert np.max(np.hypot(wx - x, wy - y)) * M_PER_DEG < 0.01
    # the popular one-step inverse is metres off somewhere in China
    fx, fy = coords.wgs84_to_gcj02(gx, gy)
    one_x, one_y = 2 * gx - fx, 2 * gy - fy
    assert np.max(np.hypot(one_x - x, one_y - y)) * M_PER_DEG > 1.0


def test_gcj02_offset_in_beijing_is_hundreds_of_metres_and_zero_abroad():
    gx, gy = coords.wgs84_to_gcj02(116.397, 39.909)
    offset = np.hypot((gx - 116.397) * M_PER_DEG * np.cos(np.radians(39.909)), (gy - 39.909) * M_PER_DEG)
    assert 100 < offset < 700
    assert coords.wgs84_to_gcj02(-71.1, 42.37) == (-71.1, 42.37)



def test_bd09_leaves_a_point_abroad_as_it_is():
    """Baidu's maps use WGS84 outside China; BD-09's formula was applied there all the
    same, so an export for Baidu of Cambridge's cells put them about 900 m off, under a
    warning that said they stayed WGS84."""
    assert [float(v) for v in coords.wgs84_to_bd09(-71.1, 42.37)] == [-71.1, 42.37]
    assert [float(v) for v in coords.bd09_to_wgs84(-71.1, 42.37)] == [-71.1, 42.37]
    bx, by = coords.wgs84_to_bd09(116.397, 39.909)  # in China, as before: about 1.4 km in Beijing
    assert 1300 < np.hypot((bx - 116.397) * M_PER_DEG * np.cos(np.radians(39.909)), (by - 39.909) * M_PER_DEG) < 1500


def test_bd09mc_is_baidus_metres_as_baidus_own_tables_give_them():
    """BD-09 Mercator through PROJ (Mercator on Clarke 1866) gives the pairs
    published with bd09convertor and coord-transform, which convert with the tables
    in Baidu's JavaScript, to 3 mm both ways (2e-8° of BD-09 lon/lat)."""
    to_bd09 = lambda x, y: coords.wgs84_to_bd09(*coords.bd09mc_to_wgs84(x, y))  # noqa: E731
    for mc, ll in (((12943772.884424742, 4832666.423350099), (116.27462499999993, 39.96162707324356)),
                   ((13135842.840674074, 3740459.445338771), (117.99999999999993, 32.00000001036519))):
        assert np.hypot(*np.subtract([float(v) for v in to_bd09(*mc)], ll)) < 2e-8
        back = coords.wgs84_to_bd09mc(*coords.bd09_to_wgs84(*ll))
        assert np.hypot(*np.subtract([float(v) for v in back], mc)) < 0.003
    assert coords.parse_crs(" BD09MC ") == "bd09mc" and coords.parse_crs("bd-09mc") == "bd09mc"
    assert not coords.is_geographic("bd09mc") and coords.is_geographic("bd09")


def test_bd09mc_to_wgs84_refuses_longitude_and_latitude_given_for_baidus_metres():
    """Degrees read as Baidu's metres lie within 20 m of 0°, 0°: BD-09's 116.4, 39.9
    came back as about 0.001°, 0.0004°, without a word."""
    with pytest.raises(CRSError, match=r"^x and y look like longitude and latitude, not BD-09 Mercator metres .*: "
                                       r"for Baidu's longitude and latitude, use bd09_to_wgs84$"):
        coords.bd09mc_to_wgs84([116.4, np.nan], [39.9, 0.0])
    lon, lat = coords.bd09mc_to_wgs84([12959801.66, np.nan], [4824788.74, np.nan])  # metres (and a NaN) pass
    assert round(float(lon[0]), 6) == 116.405967 and np.isnan(lon[1])


def test_metric_crs_choice():
    assert coords.metric_crs_for(116.4, 39.9).to_epsg() == 4548  # CGCS2000 GK CM 117E
    assert coords.metric_crs_for(122.3, 29.9).to_epsg() == 4550  # Zhoushan, CM 123E
    assert coords.metric_crs_for(114.05, 22.54).to_epsg() == 4547  # Shenzhen, CM 114E
    assert coords.metric_crs_for(-71.1, 42.37).to_epsg() == 32619


def test_parse_crs():
    assert coords.parse_crs("BD-09") == "bd09"
    with pytest.raises(CRSError, match="gcj02"):
        coords.parse_crs("not-a-crs")
