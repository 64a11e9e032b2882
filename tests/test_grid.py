import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings, strategies as st

import gridkit as gk
from gridkit.errors import InputError, LayoutError
from gridkit.grid import street_blocks
from gridkit.households import balanced_grid
from gridkit.lattice import h3_pieces
from gridkit.merge import merge_slivers

from .conftest import community_frame

X0, Y0 = 500_000.0, 4_400_000.0  # a multiple of 100 m: lattice lines fall on round numbers


def test_id_order_west_east_then_north_south():
    comm = community_frame([shapely.box(X0, Y0, X0 + 300, Y0 + 200)])
    cells = gk.unit_grid(comm, start_date="2026-01-01")
    cx = cells.geometry.centroid.x.round().astype(int) - int(X0)
    cy = cells.geometry.centroid.y.round().astype(int) - int(Y0)
    assert list(zip(cells["grid_id"].str[-3:], cx, cy)) == [
        ("001", 50, 150), ("002", 150, 150), ("003", 250, 150),
        ("004", 50, 50), ("005", 150, 50), ("006", 250, 50),
    ]
    assert (cells["area_m2"] == 10_000).all()
    assert cells["start_date"].eq("2026-01-01").all() and cells["end_date"].isna().all()


def test_slivers_merge_into_the_longest_edge_neighbour():
    # 320 m wide: the last column is 20 m wide (2,000 m² < 30 %) and merges west.
    comm = community_frame([shapely.box(X0, Y0, X0 + 320, Y0 + 100)])
    cells = gk.unit_grid(comm)
    assert sorted(cells["area_m2"]) == [10_000, 10_000, 12_000]
    assert cells.attrs["summary"]["merges"] == 1
    assert cells.loc[cells["area_m2"] == 12_000, "notes"].item() == "merged 1 sliver"
    gk.assert_partition(cells, comm)


@pytest.mark.parametrize("shape", ["square", "hex", "h3"])
def test_a_strip_narrower_than_a_cell_merges_into_cells_of_at_least_the_sliver_size(shape):
    """A 5 m × 3 km strip (a path, a river bank): every lattice piece is a sliver, and
    they merge along the strip. Hexagons' neighbours once differed in the last digit
    of their shared vertices, so the pieces did not touch: 24 slivers of 537 m²."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 3000, Y0 + 5)])
    cells = gk.unit_grid(comm, shape=shape)
    gk.assert_partition(cells, comm)
    assert cells["area_m2"].min() >= 0.3 * 10_000
    assert cells.attrs["summary"]["isolated_small_cells"] == 0


def test_small_unit_is_one_cell():
    comm = community_frame([shapely.box(X0 + 50, Y0 + 50, X0 + 90, Y0 + 120)])  # 2,800 m² across 2 cells
    cells = gk.unit_grid(comm)
    assert len(cells) == 1 and cells["area_m2"].item() == 2_800


def test_lattice_is_anchored_so_neighbours_line_up():
    a = community_frame([shapely.box(X0 + 30, Y0, X0 + 500, Y0 + 300)], ["110101001001"])
    b = community_frame([shapely.box(X0 + 500, Y0, X0 + 970, Y0 + 300)], ["110101001002"])
    xs = set(np.round(shapely.get_coordinates(gk.unit_grid(a).geometry.values)[:, 0]))
    xs_b = set(np.round(shapely.get_coordinates(gk.unit_grid(b).geometry.values)[:, 0]))
    assert {X0 + 200, X0 + 300, X0 + 400} <= xs and {X0 + 600, X0 + 700, X0 + 800} <= xs_b


def test_more_than_999_cells_in_a_community_is_a_clear_error():
    comm = community_frame([shapely.box(X0, Y0, X0 + 3200, Y0 + 3200)])  # 1,024 cells
    with pytest.raises(LayoutError, match="110101001001 would hold 1024 cells.*--provisional"):
        gk.unit_grid(comm)


@pytest.mark.parametrize("shape", ["square", "hex", "h3"])
def test_dongcheng_passes_the_invariants(dongcheng, shape):
    cells = gk.unit_grid(dongcheng, shape=shape)
    report = gk.assert_partition(cells, dongcheng)
    assert report.max_overlap_m2 < 1e-6 and report.max_coverage_error < 1e-6
    assert cells["grid_id"].str.len().eq(15).all()
    assert cells["provisional"].all()
    mean = cells["area_m2"].mean()
    assert 8_000 < mean < 12_000


def test_dongcheng_square_counts_and_determinism(dongcheng):
    a = gk.unit_grid(dongcheng, start_date="2026-11-22")
    b = gk.unit_grid(dongcheng.copy(), start_date="2026-11-22")
    assert len(a) == 4278
    assert a.attrs["summary"]["merges"] == 191
    assert a["grid_id"].iloc[0] == "110101900600001"
    assert a["grid_id"].tolist() == b["grid_id"].tolist()
    assert shapely.to_wkb(a.geometry.values).tolist() == shapely.to_wkb(b.geometry.values).tolist()


def test_communities_through_a_table_of_gcj02_wkt_give_the_same_cells(samples, tmp_path):
    """Dongcheng's communities, exported as a CSV of GCJ-02 WKT and gridded again: the
    round trip moves their edges by float noise, which grazes lattice lines and cut 11
    crumbs of 1e-12 m², each left a cell of its own ("small cell with no neighbour"),
    as its whole boundary was shorter than an edge must be to count as shared."""
    from click.testing import CliRunner
    from gridkit_cli.main import cli

    first, units, again = tmp_path / "dongcheng.gpkg", tmp_path / "units.csv", tmp_path / "again.gpkg"
    for args in (["grid", "units", samples / "dongcheng_gcj02.gpkg", "--crs", "gcj02", "--code-field", "adcode",
                  "--provisional", "-o", first],
                 ["export", first, "--layer", "units", "--crs", "gcj02", "-o", units],
                 ["grid", "units", units, "--crs", "gcj02", "--where", "level = 'community'", "--code-field", "code",
                  "--provisional", "-o", again]):
        result = CliRunner().invoke(cli, [*map(str, args)])
        assert result.exit_code == 0, result.output
    assert "merges       530 slivers merged; 0 small cells with no neighbour" in result.output  # 191 from the file
    made, _, _ = gk.read_package(first)
    cells, _, _ = gk.read_package(again)
    assert cells["grid_id"].tolist() == made["grid_id"].tolist() and cells["area_m2"].min() > 3_000
    assert shapely.hausdorff_distance(cells.geometry.values, made.geometry.values).max() < 0.01
    # The merge itself: a crumb on a cell's top edge joins it.
    crumb = shapely.Polygon([(5, 10), (5.0001, 10), (5.00005, 10.000000001)])
    merged = merge_slivers([shapely.box(0, 0, 10, 10), crumb, shapely.box(20, 0, 30, 10)], [0, 0, 0], 30)
    assert merged.label.tolist() == [0, 0, 1] and not merged.isolated.any()


def test_h3_pieces_cover_a_strip_h3s_overlap_mode_misses():
    """Land left between hexagons (a strip of Dongcheng that ``grid recut`` divided):
    it lies in one H3 cell, its vertices within 10⁻⁹° of that cell's edges, and H3
    4.5's overlap mode returned only a neighbour, which holds none of it: 1,461 m² in
    no cell. Given in lon/lat, as H3 is asked."""
    strip = shapely.from_wkt("POLYGON ((116.40597831342319 39.94834919347077, 116.4059056394577 39.94822321173408, "
                             "116.40518867729173 39.94811452590237, 116.40500026408012 39.948344177985426, "
                             "116.40597831342319 39.94834919347077))")
    same = pyproj.Transformer.from_crs(4326, 4326, always_xy=True)
    pieces = h3_pieces([strip], same, same, 10)
    assert len(pieces.geometry) == 1
    assert shapely.area(pieces.geometry).sum() == pytest.approx(strip.area, rel=1e-9)


def test_h3_uses_the_nearest_resolution(dongcheng):
    cells = gk.unit_grid(dongcheng.iloc[:1], shape="h3")
    assert cells.attrs["summary"]["h3_resolution"] == 10


# --- street-bounded ---------------------------------------------------------

def test_barriers_split_blocks_and_no_cell_crosses_them():
    square = shapely.box(X0, Y0, X0 + 400, Y0 + 400)
    road = gpd.GeoSeries([shapely.LineString([(X0 + 130, Y0 - 10), (X0 + 130, Y0 + 410)]),
                          shapely.LineString([(X0 + 130, Y0 + 250), (X0 + 410, Y0 + 250)])], crs=4548)
    comm = community_frame([square])
    cells = gk.unit_grid(comm, barriers=road)
    gk.assert_partition(cells, comm)
    assert cells.attrs["summary"]["blocks"] == 3
    interiors = np.asarray(shapely.buffer(np.asarray(cells.geometry.values), -0.01))
    roads = np.asarray(road.values)
    assert not shapely.intersects(interiors[:, None], roads[None, :]).any()


def test_a_river_drawn_as_an_area_bounds_blocks_on_both_banks():
    """A polygon barrier (a river 40 m wide across the community) gives its
    outlines: three blocks (west bank, river, east bank), each cell in one, and the
    cells cover the community. Before, the polygon was noded as it was and the
    cells covered only the river."""
    square = shapely.box(X0, Y0, X0 + 400, Y0 + 400)
    river = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 180, Y0 - 10, X0 + 220, Y0 + 410)], crs=4548)
    comm = community_frame([square])
    cells = gk.unit_grid(comm, barriers=river)
    gk.assert_partition(cells, comm)
    assert cells.attrs["summary"]["blocks"] == 3
    interiors = np.asarray(shapely.buffer(np.asarray(cells.geometry.values), -0.01))
    assert not shapely.intersects(interiors, river.boundary.iloc[0]).any()
    in_river = shapely.area(shapely.intersection(np.asarray(cells.geometry.values), river.geometry.iloc[0]))
    assert in_river.sum() == pytest.approx(40 * 400)


def test_points_as_barriers_are_refused_naming_the_layer_of_lines(shared):
    """An OpenStreetMap network's first layer is its nodes: read without a layer,
    the barriers are points, which would divide nothing. The error names the file
    and its layer of lines; a few points among lines are named by feature."""
    network = shared / "shenzhen_futian" / "futian_osm_network.gpkg"
    nodes = gk.read_vector(network)
    comm = community_frame([shapely.box(X0, Y0, X0 + 400, Y0 + 400)])
    with pytest.raises(InputError, match=r"futian_osm_network.gpkg: the 1,751 barriers are all points; .*"
                                         r"The file's layers of lines: edges; read one: --barriers-layer edges"):
        gk.unit_grid(comm, barriers=nodes)
    mixed = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0 - 10, Y0 + 200), (X0 + 410, Y0 + 200)]),
                                       shapely.Point(X0, Y0)], crs=4548)
    with pytest.raises(InputError, match=r"^1 of the 2 barriers are points \(the first: feature 2\)"):
        gk.unit_grid(comm, barriers=mixed)


def test_barriers_that_lie_elsewhere_are_refused_naming_both_places(samples):
    """Cambridge's centre lines given for its neighbourhoods with lon/lat swapped
    (or any barriers of another place or CRS) divided nothing: 965 cells, as with no
    barriers, and no word. Refused by the library's unit_hierarchy and unit_grid,
    and by balanced_grid, with where each lies; barriers that reach the area are
    used as before."""
    hoods = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    hoods.geometry = shapely.transform(hoods.geometry.values, lambda xy: xy[:, ::-1])
    lines = gk.read_vector(samples / "cambridge_centerlines.gpkg")
    elsewhere = (r"cambridge_centerlines.gpkg: none of the 2,643 barriers comes within the area to divide: they lie "
                 r"around lon -71\.1172, lat 42\.3787, and it around lon 42\.3790, lat -71\.1122, so they would "
                 r"divide nothing\. Is one of them in another CRS than its label \(--barriers-crs, --crs\), or are "
                 r"the barriers another place's file\?$")
    with pytest.raises(InputError, match=elsewhere):
        gk.unit_hierarchy(hoods, name_field="NAME", provisional=True, parent_code="990101", barriers=lines)
    comm = gk.unit_hierarchy(hoods, name_field="NAME", provisional=True, parent_code="990101")
    with pytest.raises(InputError, match=elsewhere):
        gk.unit_grid(comm, barriers=lines)
    with pytest.raises(InputError, match=elsewhere):
        balanced_grid(comm, gpd.GeoDataFrame(geometry=comm.representative_point(), crs=comm.crs), target=100,
                      barriers=lines)
    near = community_frame([shapely.box(X0, Y0, X0 + 400, Y0 + 400)])
    crossing = gpd.GeoSeries([shapely.LineString([(X0 - 10, Y0 + 300), (X0 + 410, Y0 + 300)])], crs=4548)
    assert len(gk.unit_grid(near, cell_area=40_000, barriers=crossing)) == 4 + 2  # strips of half a cell on both sides


def test_barriers_that_do_not_project_are_refused_naming_the_feature_and_vertex():
    """A line with a vertex at latitude 95 has no position in the communities'
    CRS: the error names the feature and the vertex (in the barriers' CRS), for
    unit grids and household grids alike, instead of GEOS failing on infinities."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 400, Y0 + 400)])
    lon, lat = gpd.GeoSeries([shapely.Point(X0, Y0 + 200)], crs=4548).to_crs(4326).iloc[0].coords[0]
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(lon - 0.01, lat), (lon + 0.01, lat)]),
                                       shapely.LineString([(lon, lat), (lon, 95)])], crs=4326)
    message = (r"^1 of the 2 barriers do not project into EPSG:4548 \(the first: feature 2, with a vertex at "
               r"[0-9.]+, 95 in EPSG:4326\): fix or remove them")
    with pytest.raises(InputError, match=message):
        gk.unit_grid(comm, barriers=lines)
    homes = gpd.GeoDataFrame(geometry=shapely.points(np.full(200, X0 + 100.0), np.full(200, Y0 + 100.0)), crs=4548)
    with pytest.raises(InputError, match=message):
        balanced_grid(comm, homes, min_households=90, max_households=110, barriers=lines)
    # without it, the line across the community divides it in two blocks
    assert gk.unit_grid(comm, barriers=lines.iloc[:1]).attrs["summary"]["blocks"] == 2


def test_block_smaller_than_a_cell_stays_one_cell():
    square = shapely.box(X0, Y0, X0 + 300, Y0 + 300)
    # a 60 m x 60 m corner block (3,600 m²) straddling four lattice cells
    road = gpd.GeoSeries([shapely.LineString([(X0 + 60 + 90, Y0 + 300), (X0 + 150, Y0 + 240)]),
                          shapely.LineString([(X0 + 150, Y0 + 240), (X0 + 90, Y0 + 240), (X0 + 90, Y0 + 300)])], crs=4548)
    comm = community_frame([square])
    cells = gk.unit_grid(comm, barriers=road)
    gk.assert_partition(cells, comm)
    assert (cells["area_m2"] == 3_600).sum() == 1


def test_a_centre_line_drawn_beside_the_boundary_makes_no_strip_of_cells():
    """A street's centre line drawn 0.3 m inside the community boundary along it, as
    two layers digitised apart leave them: the strip between was a block of its own,
    below the sliver size with no neighbour it may merge into across its barrier, so
    cells 0.3 m wide (two of 45 m², the cross street cutting it). Cambridge had 46
    such cells (1–320 m², under 1 m wide). A
    face under NOISE_FACE_WIDTH wide on average is noise now, as one under 1 m² was:
    it joins the block beside it. A traffic island 4 m wide stays a block."""
    square = shapely.box(X0, Y0, X0 + 300, Y0 + 300)
    comm = community_frame([square])
    beside = shapely.LineString([(X0 + 0.3, Y0), (X0 + 0.3, Y0 + 300)])
    across = shapely.LineString([(X0, Y0 + 150), (X0 + 300, Y0 + 150)])
    island = shapely.box(X0 + 100, Y0 + 200, X0 + 104, Y0 + 230).exterior  # 4 m × 30 m, ringed by lanes
    lines = gpd.GeoSeries([beside, across, island], crs=4548)
    blocks, _ = street_blocks(comm.geometry.values, lines.geometry.values)
    assert sorted(np.round(shapely.area(blocks)).tolist()) == [120, 44_880, 45_000]
    cells = gk.unit_grid(comm, barriers=lines)
    gk.assert_partition(cells, comm)
    s = cells.attrs["summary"]
    assert s["blocks"] == 3 and s["small_blocks"] == 1  # the island, kept as its cell
    assert (cells["area_m2"] == 120).sum() == 1 and cells["area_m2"].min() == 120


def test_cambridge_street_bounded(samples):
    hoods = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    comm = gk.unit_hierarchy(hoods, name_field="NAME", provisional=True, parent_code="990101")
    lines = gk.read_vector(samples / "cambridge_centerlines.gpkg")
    cells = gk.unit_grid(comm, barriers=lines)
    gk.assert_partition(cells, comm)
    s = cells.attrs["summary"]
    assert s["cells"] == 2550 and s["blocks"] == 753
    # no cell is a strip between two lines drawn apart (under 1 m wide on average)
    assert (2 * shapely.area(cells.geometry.values) >= shapely.length(cells.geometry.values)).all()
    # no cell crosses a barrier: each cell overlaps exactly one street block
    blocks, _ = street_blocks(comm.geometry.values, lines.to_crs(comm.crs).geometry.values)
    geoms = np.asarray(cells.geometry.values)
    c, b = shapely.STRtree(blocks).query(geoms, predicate="intersects")
    overlap = shapely.area(shapely.intersection(geoms[c], blocks[b]))
    per_cell = np.bincount(c[overlap > 1e-3], minlength=len(geoms))
    assert (per_cell == 1).all()


def test_street_blocks_drop_faces_in_holes():
    ring = shapely.box(0, 0, 100, 100).difference(shapely.box(40, 40, 60, 60))
    blocks, owner = street_blocks([ring], [shapely.LineString([(50, -1), (50, 101)])])
    assert len(blocks) == 2 and abs(shapely.area(blocks).sum() - ring.area) < 1e-9


# --- property tests ---------------------------------------------------------

@st.composite
def polygons_with_holes(draw):
    # Jittered, evenly spaced angles keep the star-shaped ring simple and never degenerate.
    n = draw(st.integers(3, 9))
    jitter = np.array(draw(st.lists(st.floats(-0.4, 0.4), min_size=n, max_size=n)))
    angles = (np.arange(n) + jitter) * (2 * np.pi / n)
    radii = draw(st.lists(st.floats(150, 900), min_size=n, max_size=n))
    cx, cy = X0 + draw(st.floats(0, 100)), Y0 + draw(st.floats(0, 100))
    outer = shapely.Polygon(np.column_stack([cx + np.cos(angles) * radii, cy + np.sin(angles) * radii]))
    poly = shapely.make_valid(outer)
    if draw(st.booleans()):
        poly = poly.difference(shapely.Point(cx, cy).buffer(draw(st.floats(20, 120))))
    if draw(st.booleans()):  # an island: makes a multipolygon
        poly = poly.union(shapely.box(cx + 1200, cy, cx + 1200 + draw(st.floats(5, 300)), cy + 150))
    parts = [p for p in shapely.get_parts(poly) if p.geom_type == "Polygon" and p.area > 1]
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polygons_with_holes(), st.sampled_from(["square", "hex"]), st.floats(2_000, 20_000))
def test_random_polygons_partition_exactly(poly, shape, cell_area):
    comm = community_frame([poly])
    cells = gk.unit_grid(comm, shape=shape, cell_area=cell_area)
    gk.assert_partition(cells, comm)
    assert cells["sequence"].tolist() == list(range(1, len(cells) + 1))


def test_a_communities_frame_built_by_hand_is_checked_before_dividing():
    """Communities built by hand, not by unit_hierarchy: two sharing a code made cells
    sharing grid IDs, a point community a point cell, a missing geometry a NaN
    ValueError; unit_grid and balanced_grid now say which community and why."""
    a, b = shapely.box(0, 0, 300, 200), shapely.box(300, 0, 600, 200)
    homes = gpd.GeoDataFrame(geometry=shapely.points(np.column_stack([np.arange(5, 600, 10), np.full(60, 100)])),
                             crs=4548)
    cases = [
        (community_frame([a, b], codes=["110101001001"] * 2),
         "community code 110101001001 is given to 2 communities (rows 1, 2): their cells would share grid IDs"),
        (community_frame([a, None]), "1 of the 2 communities have no polygon to divide: the first, community "
                                     "110101001002 (row 2), has no geometry"),
        (community_frame([a, shapely.Point(1, 2)]), "community 110101001002 (row 2), has a Point"),
        (community_frame([shapely.Polygon()]), "community 110101001001 (row 1), has an empty Polygon"),
        (community_frame([a]).drop(columns="provisional"), "the communities have no column 'provisional'"),
        (community_frame([a], crs=4326), "the communities must be in a projected (metric) CRS"),
        ([a], "the communities are a list, not a GeoDataFrame"),
    ]
    for communities, said in cases:
        for divide in (gk.unit_grid, lambda c: balanced_grid(c, homes, min_households=10, max_households=20)):
            with pytest.raises(InputError) as caught:
                divide(communities)
            assert said in str(caught.value), (said, str(caught.value))
    assert len(balanced_grid(community_frame([a, b]), homes, min_households=10, max_households=20).grids) == 4


@pytest.mark.parametrize("cell_area", [float("inf"), float("nan"), 0, -1, "10000", True])
def test_a_cell_area_that_is_no_positive_finite_number_is_refused(cell_area):
    """An infinite cell area made each community one cell, without a word, and
    check_cell_count of 0 was a ZeroDivisionError."""
    from gridkit.cells import check_cell_count

    comm = community_frame([shapely.box(500_000, 4_400_000, 500_200, 4_400_100)])
    with pytest.raises(InputError, match=r"^cell_area must be a number of m² above 0 \(10000 is a hectare, the "
                                         r"Beijing model's cell\), not "):
        gk.unit_grid(comm, cell_area=cell_area)
    with pytest.raises(InputError, match=r"^cell_area must be a number of m² above 0"):
        check_cell_count(1e6, cell_area)


def test_a_sliver_ratio_or_barriers_by_mistake_and_boundaries_of_nothing_are_refused(tmp_path):
    """sliver_ratio=-1 or NaN merged no sliver, unsaid; barriers given as a path
    were a TypeError from GeoSeries ("Non geometry data passed"); unit_hierarchy of
    a list was an AttributeError, of no feature "cannot choose a metric CRS for
    lon=nan"."""
    comm = community_frame([shapely.box(500_000, 4_400_000, 500_200, 4_400_100)])
    for ratio in (-1, float("nan")):
        with pytest.raises(InputError, match=rf"^sliver_ratio must be a number of cell areas, 0 or above, not "
                                             rf"{ratio!r}$"):
            gk.unit_grid(comm, sliver_ratio=ratio)
    with pytest.raises(InputError, match=r"^barriers 'roads\.gpkg' is a path: read the file first, "
                                         r"barriers=gridkit\.read_vector\(path\)$"):
        gk.unit_grid(comm, barriers="roads.gpkg")
    with pytest.raises(InputError, match=r"^the boundaries are a list, not a GeoDataFrame"):
        gk.unit_hierarchy([shapely.box(0, 0, 1, 1)])
    boundaries = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(116.40, 39.90, 116.41, 39.91)], crs=4326)
    with pytest.raises(InputError, match=r"^the boundaries: no boundary to divide$"):
        gk.unit_hierarchy(boundaries.iloc[:0], provisional=True, parent_code="990101")
    assert len(gk.unit_grid(comm, sliver_ratio=0)) == 2
