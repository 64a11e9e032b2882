import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings, strategies as st

import gridkit as gk
from gridkit.errors import CRSError, InputError
from gridkit.locator import Locator

from .conftest import SAMPLES, community_frame, micro_halves

X0, Y0 = 500_000.0, 4_400_000.0


def _layout():
    """Four 100 m squares, an L-shaped cell, a cell with a hole, a two-part island cell."""
    b = shapely.box
    geoms = [b(X0, Y0, X0 + 100, Y0 + 100), b(X0 + 100, Y0, X0 + 200, Y0 + 100),
             b(X0, Y0 + 100, X0 + 100, Y0 + 200), b(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200),
             shapely.union(b(X0 + 200, Y0, X0 + 300, Y0 + 200), b(X0 + 300, Y0, X0 + 400, Y0 + 50)),
             b(X0, Y0 + 200, X0 + 300, Y0 + 300).difference(b(X0 + 100, Y0 + 220, X0 + 150, Y0 + 260)),
             shapely.MultiPolygon([b(X0 + 500, Y0, X0 + 550, Y0 + 50), b(X0 + 600, Y0, X0 + 650, Y0 + 50)])]
    ids = [f"110101001001{i + 1:03d}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"grid_id": ids, "community_code": "110101001001"}, geometry=geoms, crs=4548)


@pytest.mark.parametrize("x, y, expected", [
    (50, 50, "001"), (100, 50, "002"),          # shared vertical edge → the east cell
    (50, 100, "003"),                           # shared horizontal edge → the north cell
    (100, 100, "004"),                          # four cells meet → the north-east one
    (200, 50, "005"), (200, 150, "005"),        # edge with the L → east
    (0, 50, "001"), (400, 25, "005"),           # the layout's outer edges → the cell they bound
    (120, 240, None),                           # in the hole
    (125, 220, "006"),                          # on the hole's edge
    (625, 25, "007"), (575, 25, None),          # the island's second part; the water between
])
def test_edges_vertices_holes_islands(x, y, expected):
    loc = Locator(_layout())
    got = loc.locate(X0 + x, Y0 + y)
    assert (got.grid_id[-3:] if got.grid_id else None) == expected
    assert got.status == ("inside" if expected else "outside")


def test_outside_tolerance_and_distance():
    loc = Locator(_layout(), tolerance=10)
    near = loc.locate(X0 - 4, Y0 + 50)
    assert (near.grid_id[-3:], near.status, near.distance_m) == ("001", "nearest", 4.0)
    far = loc.locate(X0 - 40, Y0 + 50)
    assert (far.grid_id, far.status) == (None, "outside") and np.isnan(far.distance_m)
    tie = loc.locate(X0 + 100, Y0 - 3)          # 3 m below the corner shared by 001 and 002
    assert (tie.grid_id[-3:], tie.distance_m) == ("001", 3.0)  # equal distances: the lower index


def test_bad_coordinates_are_clear_errors():
    loc = Locator(_layout())
    with pytest.raises(InputError, match="NaN or infinite.*position 1"):
        loc.locate_many([X0, np.nan], [Y0, Y0])
    with pytest.raises(InputError, match="not lon/lat.*swapped"):
        loc.locate_many([39.9], [116.4], crs="EPSG:4326")
    with pytest.raises(CRSError, match="not a projected CRS"):
        Locator(_layout().to_crs(4326))


def test_a_call_with_no_numbers_or_no_crs_for_lon_lat_says_so():
    """A string from a form, a list, None: a TypeError naming the fix, with or
    without a CRS. Lon/lat given without crs are outside the layout (in metres):
    a warning, once per locator, names the crs to pass; GCJ-02 positions too."""
    loc = Locator(_layout())
    (lon,), (lat,) = pyproj.Transformer.from_crs(4548, 4326, always_xy=True).transform([X0 + 150], [Y0 + 150])
    assert loc.locate(lon, lat, crs="EPSG:4326").grid_id[-3:] == "004"
    for crs in (None, "EPSG:4326"):
        with pytest.raises(TypeError, match=re.escape(f"x is str '{lon}': convert it with float()")):
            loc.locate(str(lon), lat, crs=crs)
        with pytest.raises(TypeError, match=r"y is list \[.*\]: give arrays of points to locate_many"):
            loc.locate(lon, [lat], crs=crs)
    with pytest.raises(TypeError, match="x is NoneType None$"):
        loc.locate(None, lat)
    with pytest.warns(UserWarning, match=re.escape(f"({lon}, {lat}) is outside the layout in its own coordinates "
                                                   "(EPSG:4548, metres: no crs was given)") + '.*crs="EPSG:4326"'):
        assert loc.locate(lon, lat).status == "outside"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loc.locate(lon, lat).status == "outside"  # said once
        fresh = Locator(_layout())
        assert fresh.locate(X0 - 5000, Y0).status == "outside"  # simply outside: no word
        assert list(fresh.locate_many([X0 - 5000, X0 + 50], [Y0, Y0 + 50])["status"]) == ["outside", "inside"]
    gx, gy = gk.wgs84_to_gcj02(lon, lat)
    with pytest.warns(UserWarning, match=r"2 of 3 points \(the first: .*\) are outside"):
        found = Locator(_layout()).locate_many([lon, X0 + 50, gx], [lat, Y0 + 50, gy])
    assert list(found["status"]) == ["outside", "inside", "outside"]
    with pytest.warns(UserWarning, match="^at least 1,000 of 1,001 points"):  # the first 1,000 outside read again
        assert Locator(_layout()).locate_many(np.full(1001, lon), np.full(1001, lat))["status"].eq("outside").all()
    with pytest.warns(UserWarning, match=r"^\(.*\) is outside the layout"):  # a scalar, as locate takes
        assert Locator(_layout()).locate_many(lon, lat)["status"].tolist() == ["outside"]


def test_points_from_a_filtered_frame_join_back_onto_their_rows():
    """Series in, the Series' index out: a frame filtered before locating (index 7,
    3, 12) joins its answers on the right rows, not on rows 0, 1, 2."""
    loc = Locator(_layout())
    frame = pd.DataFrame({"x": X0 + np.array([150.0, 9.0, 50.0, 625.0]), "y": Y0 + np.array([150.0, 9.0, 150.0, 25.0])},
                         index=[5, 7, 3, 12])
    kept = frame.drop(index=5)
    joined = kept.join(loc.locate_many(kept["x"], kept["y"]))
    assert joined["grid_id"].str[-3:].to_dict() == {7: "001", 3: "003", 12: "007"}
    assert list(loc.locate_many(kept["x"].to_numpy(), kept["y"].to_numpy()).index) == [0, 1, 2]
    with pytest.raises(InputError, match="different indexes"):
        loc.locate_many(kept["x"], frame["y"].iloc[1:].reset_index(drop=True))
    # one-column frames (shape (3, 1)) were a numpy broadcast error, and a row of two
    # points (shape (1, 2)) one too; a column of them is what is meant
    for x, y in [(kept[["x"]], kept[["y"]]), (kept["x"].to_numpy()[None, :2], kept["y"].to_numpy()[None, :2])]:
        said = f"x and y take one number per point, in 1-D arrays; these are shaped {x.shape} and {y.shape}: give " \
               "columns (df['lon'], not df[['lon']]), or .ravel() them"
        with pytest.raises(InputError, match=f"^{re.escape(said)}$"):
            loc.locate_many(x, y)


def test_a_locator_shared_by_threads_and_pickled_answers_as_one_alone():
    """Four threads on one fresh Locator (GEOS builds each prepared polygon's index
    on its first test, which two threads must not do at once), single points and
    arrays, near edges and outside (the tolerance's tree); then the Locator pickled
    after use (its cached transforms are closures) answers the same, prepared again."""
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    x, y = X0 + rng.uniform(-20, 670, 4000), Y0 + rng.uniform(-20, 320, 4000)
    alone = Locator(_layout(), tolerance=10).locate_many(x, y)["grid_id"].astype(object).fillna("-").tolist()
    shared = Locator(_layout(), tolerance=10)

    def run(k):
        part = slice(k * 1000, (k + 1) * 1000)
        one = [shared.locate(a, b).grid_id or "-" for a, b in zip(x[part], y[part])]
        many = shared.locate_many(x, y)["grid_id"].astype(object).fillna("-").tolist()
        return one, many

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert sum((one for one, _ in results), []) == alone and all(many == alone for _, many in results)
    assert shared.locate(116.4, 39.9, crs="EPSG:4326").status == "outside"  # caches a transform
    again = pickle.loads(pickle.dumps(shared))
    assert again.locate_many(x, y)["grid_id"].astype(object).fillna("-").tolist() == alone
    assert shapely.is_prepared(again._mixed_geoms).all()

def test_input_crs_gcj02_and_wgs84_agree():
    loc = Locator(_layout())
    lon, lat = gpd.GeoSeries(shapely.points([X0 + 150, X0 + 520], [Y0 + 150, Y0 + 20]), crs=4548).to_crs(4326).pipe(
        lambda s: (s.x.to_numpy(), s.y.to_numpy()))
    gx, gy = gk.wgs84_to_gcj02(lon, lat)
    a = loc.locate_many(lon, lat, crs="EPSG:4326")
    b = loc.locate_many(gx, gy, crs="gcj02")
    assert list(a["grid_id"].str[-3:]) == ["004", "007"] and a["grid_id"].equals(b["grid_id"])


def _reference(cells, x, y):
    """Shapely's answer: the cell whose interior holds the point."""
    tree = shapely.STRtree(cells.geometry.values)
    point, cell = tree.query(shapely.points(x, y), predicate="within")
    ref = np.full(len(x), -1)
    ref[point] = cell
    return ref


@pytest.fixture(scope="module")
def layouts(dongcheng, samples):
    square = gk.unit_grid(dongcheng)
    lines = gk.read_vector(samples / "cambridge_centerlines.gpkg")
    hood = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    comm = gk.unit_hierarchy(hood, name_field="NAME", provisional=True, parent_code="990101", barriers=lines)
    cells = {"square": square, "hex": gk.unit_grid(dongcheng, shape="hex"), "h3": gk.unit_grid(dongcheng, shape="h3"),
             "street-bounded": gk.unit_grid(comm, barriers=lines), "household": _household_layout()}
    return {kind: (layout, Locator(layout)) for kind, layout in cells.items()}


def _household_layout():
    """Household-balanced grids over 600 jittered homes in a 1 km community: irregular shapes."""
    from gridkit.households import balanced_grid

    rng = np.random.default_rng(11)
    homes = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(X0, X0 + 1000, 600), rng.uniform(Y0, Y0 + 1000, 600)),
                             crs=4548)
    comm = community_frame([shapely.box(X0, Y0, X0 + 1000, Y0 + 1000).difference(
        shapely.Point(X0 + 500, Y0 + 500).buffer(120))])  # with a hole, for good measure
    return balanced_grid(comm, homes, min_households=40, max_households=60).grids


@pytest.mark.parametrize("kind", ["square", "hex", "h3", "street-bounded", "household"])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_agrees_with_shapely_on_random_points(layouts, kind, seed):
    cells, loc = layouts[kind]
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = cells.total_bounds
    x, y = rng.uniform(minx - 50, maxx + 50, 3000), rng.uniform(miny - 50, maxy + 50, 3000)
    index, status, _ = loc.cell_index(x, y)
    assert np.array_equal(index, _reference(cells, x, y))
    assert np.array_equal(status == 0, index >= 0)


def test_every_point_in_exactly_one_cell_on_a_lattice_with_edges():
    comm = community_frame([shapely.box(X0, Y0, X0 + 430, Y0 + 310)])
    cells = gk.unit_grid(comm)
    loc = Locator(cells)
    assert loc.stats["lattice"] and loc.stats["bucket_side_m"] == 100
    # every lattice line crossing, every edge midpoint: each point resolves to one cell that covers it
    xs, ys = np.meshgrid(np.arange(0, 431, 10.0) + X0, np.arange(0, 311, 10.0) + Y0)
    index, status, _ = loc.cell_index(xs.ravel(), ys.ravel())
    assert (status == 0).all()
    assert shapely.intersects_xy(cells.geometry.values[index], xs.ravel(), ys.ravel()).all()


def _overlapping(case):
    """Layouts whose cells overlap (a file gridkit did not make): each a list of polygons."""
    lattice = [shapely.box(X0 + i * 100, Y0 + j * 100, X0 + (i + 1) * 100, Y0 + (j + 1) * 100)
               for j in range(4) for i in range(4)]
    quad = shapely.Polygon([(X0 + 150, Y0 + 120), (X0 + 330, Y0 + 90), (X0 + 310, Y0 + 290), (X0 + 170, Y0 + 260)])
    return {
        # a polygon reaching into lattice squares after it, and before them
        "polygon first": [quad, *lattice],
        "polygon last": [*lattice, quad],
        # a polygon holding whole squares without its boundary touching them
        "holds squares": [shapely.box(X0 + 50, Y0 + 50, X0 + 350, Y0 + 350).union(quad), *lattice],
        # a square reaching into others, off the lattice
        "square off the lattice": [shapely.box(X0 + 130, Y0 + 170, X0 + 230, Y0 + 270), *lattice],
        "two polygons": [quad, shapely.Polygon([(X0, Y0), (X0 + 250, Y0 + 30), (X0 + 200, Y0 + 200)])],
    }[case]


@pytest.mark.parametrize("case", ["polygon first", "polygon last", "holds squares", "square off the lattice",
                                  "two polygons"])
def test_overlapping_cells_the_first_in_the_layout_wins_on_every_path(case):
    geoms = np.array(_overlapping(case), dtype=object)
    cells = gpd.GeoDataFrame({"grid_id": [f"c{i}" for i in range(len(geoms))]}, geometry=geoms, crs=4548)
    loc = Locator(cells)
    rng = np.random.default_rng(5)
    x, y = rng.uniform(X0 - 20, X0 + 420, 4000), rng.uniform(Y0 - 20, Y0 + 420, 4000)
    inside = shapely.contains_xy(geoms[:, None], x, y)  # cells × points; random points miss the edges
    assert (inside.sum(axis=0) > 1).sum() > 50  # the case has overlaps to settle
    expected = np.where(inside.any(axis=0), inside.argmax(axis=0), -1)
    index, _, _ = loc.cell_index(x, y)
    assert np.array_equal(index, expected)
    single = [loc.locate(p, q).grid_id for p, q in zip(x.tolist(), y.tolist())]
    assert single == [None if i < 0 else f"c{i}" for i in expected.tolist()]


@pytest.mark.parametrize("case", ["polygon first", "holds squares", "square off the lattice", "two polygons",
                                  "a square twice"])
def test_overlapping_pairs_are_the_pairs_whose_interiors_meet(case):
    """Boxes by arithmetic, other polygons by GEOS: the pairs are those of every pair
    whose interiors meet (DE-9IM), squares that share only an edge or a corner are none."""
    from gridkit.invariants import overlapping_pairs

    geoms = _overlapping("polygon first")[1:] + [_overlapping("polygon first")[6]] if case == "a square twice" \
        else _overlapping(case)
    geoms = np.array(geoms, dtype=object)
    a, b, area, shared = overlapping_pairs(geoms)
    expected = [(i, j) for i in range(len(geoms)) for j in range(i + 1, len(geoms))
                if shapely.relate_pattern(geoms[i], geoms[j], "T********")]
    assert expected and sorted(zip(a.tolist(), b.tolist())) == expected
    assert np.allclose(area, [shapely.intersection(geoms[i], geoms[j]).area for i, j in zip(a, b)])
    assert (area > 0).all() and np.allclose(shapely.area(shared), area)


def test_a_file_whose_cells_overlap_is_named_when_indexed_and_on_every_load(tmp_path, caplog):
    """The first pair in row order and the count; a grid package is left to `gridkit check`."""
    import logging

    import pyogrio

    cells = gpd.GeoDataFrame({"grid_id": [f"c{i}" for i in range(17)]},
                             geometry=_overlapping("square off the lattice"), crs=4548)
    path = tmp_path / "by_hand.geojson"
    cells.to_file(path)
    message = (f"{path}: 4 pairs of cells overlap (the first: c0 and c6, 2,100 m²); a point in both goes to "
               "the first in the file. Find them with QGIS's Topology Checker (must not overlap) and fix the file")
    for built in (True, False):  # built, then loaded from its index file
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="gridkit.locator"):
            loc = Locator.from_package(path)
        assert loc.overlaps == {"pairs": 4, "first": ["c0", "c6", 2100.0]} and caplog.messages == [message]
        assert gk.locator.index_path(path).exists()
    assert loc.locate(X0 + 150, Y0 + 180).grid_id == "c0"  # in c0 and c6: the first
    package = tmp_path / "package.gpkg"
    cells.to_file(package, layer="cells")
    pyogrio.write_dataframe(pd.DataFrame({"key": ["code_scheme"], "value": ["x"]}), package,
                            layer="gridkit_metadata")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gridkit.locator"):
        assert Locator.from_package(package).overlaps is None
    assert caplog.messages == []


def test_a_cell_whose_ring_crosses_itself_is_located_as_repaired_and_named(tmp_path, caplog):
    """A bow tie (two triangles meeting at a point) used to stop the index with a GEOS
    TopologyException; it is repaired as make_valid draws it, with a warning, and the
    repaired bow tie's overlap with its neighbour is reported too."""
    import logging

    bow = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    cells = gpd.GeoDataFrame({"grid_id": ["bow", "sq", "x"]}, crs=4548, geometry=[
        bow, shapely.box(X0 + 50, Y0, X0 + 150, Y0 + 100), shapely.box(X0 + 200, Y0, X0 + 300, Y0 + 100)])
    path = tmp_path / "bow.gpkg"
    cells.to_file(path)
    message = ("1 cell with an invalid polygon (a ring crossing itself, say): row 1 (cell bow); located as "
               "repaired by make_valid. Fix it in QGIS (Fix Geometries, or gridkit check on a grid package)")
    for _ in range(2):  # building the index, then loading it from its file: the same warnings
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="gridkit.locator"):
            loc = Locator.from_package(path)
        assert caplog.messages[0] == message and len(caplog.messages) == 2  # then the overlap
    assert loc.invalid == {"what": "cell", "count": 1, "first": [[1, "bow"]]}
    assert loc.overlaps == {"pairs": 1, "first": ["bow", "sq", 2500.0]}  # the right triangle in the square
    x = X0 + np.array([10, 50, 90, 120, 250, 50, 300.5])
    y = Y0 + np.array([50, 10, 50, 50, 50, 90, 50])
    expected = ["bow", "sq", "bow", "sq", "x", "sq", None]  # left triangle, below the tie, right triangle …
    assert [loc.locate(p, q).grid_id for p, q in zip(x, y)] == expected
    assert loc.locate_many(x, y)["grid_id"].astype(object).where(lambda s: s.notna(), None).tolist() == expected


def test_a_shapefile_gridkit_exported_locates_to_its_communities(tmp_path):
    """`gridkit export -o cells.shp` names the hierarchy in 10 characters (comm_code,
    strt_name …): located against it, a point gets its community and street, not
    its grid ID alone."""
    from gridkit.export import SHAPEFILE_NAMES

    cells = _layout().assign(community_name="东四", street_code="110101001", street_name="东华门")
    cells.rename(columns=SHAPEFILE_NAMES).to_file(tmp_path / "cells.shp", encoding="UTF-8")
    found = Locator.from_package(tmp_path / "cells.shp", cache=False).locate(X0 + 50, Y0 + 50)
    assert (found.grid_id, found.community_code, found.community_name, found.street_code, found.street_name) == (
        "110101001001001", "110101001001", "东四", "110101001", "东华门")
    # Zipped from its folder (Windows' "Send to › Compressed folder"), the Shapefile sits in
    # grid/ inside the zip: GDAL found no layer there ("not recognized as being in a
    # supported file format"), though grid adopt read it
    import zipfile

    with zipfile.ZipFile(tmp_path / "grid.zip", "w") as archive:
        for part in tmp_path.glob("cells.*"):
            archive.write(part, f"grid/{part.name}")
    zipped = Locator.from_package(tmp_path / "grid.zip", cache=False).locate(X0 + 50, Y0 + 50)
    assert zipped == found
    # A file GDAL cannot open is said to be so, with no "(layer None)" for the layer it never reached
    (tmp_path / "notes.gpkg").write_text("not a GeoPackage")
    with pytest.raises(InputError, match=r"notes.gpkg: cannot read the cells \('.*notes.gpkg' not recognized"):
        Locator.from_package(tmp_path / "notes.gpkg", cache=False)


def test_cells_gridkit_exported_to_geoparquet_locate_as_the_package_does(tmp_path):
    """`gridkit export -o cells.parquet` writes GeoParquet; as --grid it stopped at
    "cannot read the cells (libduckdb.so: cannot open shared object file)": the GDAL
    of pyogrio's wheels hands .parquet to an ADBC driver that wants DuckDB. Read by
    geopandas, the cells locate as the package's do, hierarchy included; a plain
    Parquet table is told it is no layout, and a wrong --id-field lists the columns."""
    cells = _layout().assign(community_name="东四", street_code="110101001", street_name="东华门")
    package = tmp_path / "cells.gpkg"
    cells.to_file(package)
    cells.to_parquet(tmp_path / "cells.parquet")
    x, y = X0 + np.array([10, 150, 250, 299.5, 400]), Y0 + np.array([50, 50, 150, 199, 50])
    found = Locator.from_package(tmp_path / "cells.parquet", cache=False).locate_many(x, y)
    assert found.astype(str).values.tolist() == \
        Locator.from_package(package, cache=False).locate_many(x, y).astype(str).values.tolist()
    assert found["grid_id"].tolist()[:4] == ["110101001001001", "110101001001002", "110101001001005",
                                             "110101001001005"]
    assert found["street_name"].tolist()[:4] == ["东华门"] * 4
    pd.DataFrame({"grid_id": ["a"], "x": [1.0]}).to_parquet(tmp_path / "table.parquet")
    with pytest.raises(InputError, match=r"table.parquet \(layer table\): a table without geometry, not a grid"):
        Locator.from_package(tmp_path / "table.parquet", cache=False)
    with pytest.raises(InputError, match=r"cells.parquet \(layer cells\): no 'gid' column for the cell IDs; "
                                         r"columns are community_code, community_name, .*grid_id"):
        Locator.from_package(tmp_path / "cells.parquet", id_field="gid", cache=False)


def test_boundaries_or_a_table_passed_as_the_grid_say_what_to_pass(tmp_path):
    """`--grid districts.gpkg` (the boundaries, not their layout) only asked for
    --id-field, and `--grid reports.csv` too, as if the ID column were all it
    lacked. The boundaries are told to be gridded first; a table without geometry
    is told it is no layout. A package's own cells keep the plain message."""
    with pytest.raises(InputError, match=r"dongcheng_gcj02.gpkg \(layer districts\): no 'grid_id' column.*"
                                         r"--id-field\)\. If these are boundaries \(communities, districts\), grid "
                                         r"them first: gridkit grid units .*dongcheng_gcj02.gpkg -o layout.gpkg"):
        Locator.from_package(SAMPLES / "dongcheng_gcj02.gpkg", cache=False)
    with pytest.raises(InputError, match=r"dongcheng_reports.csv \(layer dongcheng_reports\): a table without "
                                         r"geometry, not a grid layout; --grid takes a grid package"):
        Locator.from_package(SAMPLES / "dongcheng_reports.csv", cache=False)
    comm = community_frame([shapely.box(0, 0, 300, 200)])
    package = gk.write_package(tmp_path / "p.gpkg", gk.unit_grid(comm), comm)
    with pytest.raises(InputError, match=r"no 'gid' column.*name the ID column \(--id-field\)$"):
        Locator.from_package(package, id_field="gid", cache=False)


def test_any_polygon_file_in_lon_lat_with_its_own_id_column(tmp_path, layouts):
    cells, _ = layouts["street-bounded"]
    path = tmp_path / "imported.geojson"
    cells[["grid_id", "geometry"]].rename(columns={"grid_id": "GRIDCODE"}).to_crs(4326).to_file(path)
    with pytest.raises(InputError, match="no 'grid_id' column.*GRIDCODE"):
        Locator.from_package(path)
    loc = Locator.from_package(path, id_field="GRIDCODE")
    assert loc.crs.to_epsg() == 32619 and len(loc) == len(cells)  # projected to UTM 19N
    reread = gpd.read_file(path).to_crs(loc.crs)
    rng = np.random.default_rng(8)
    minx, miny, maxx, maxy = reread.total_bounds
    x, y = rng.uniform(minx, maxx, 5000), rng.uniform(miny, maxy, 5000)
    index, _, _ = loc.cell_index(x, y)
    assert np.array_equal(index, _reference(reread, x, y))
    assert loc.locate_many(x, y)["grid_id"].astype(object).fillna("").tolist() == [
        reread["GRIDCODE"].iloc[i] if i >= 0 else "" for i in index]


@pytest.mark.parametrize("crs", ["EPSG:3857", "+proj=tmerc +lon_0=117 +x_0=500000 +ellps=GRS80 +units=us-ft"])
def test_a_file_in_feet_or_web_mercator_is_located_in_metres(tmp_path, crs):
    """--tolerance and distance_m are metres. A cells file in US feet measured them in
    feet (25 was 7.6 m), one in Web Mercator in its stretched metres (1.3 to a metre of
    ground here): a point 20 m outside was 'outside' with --tolerance 25 in both. Now
    such a file is located in the metric CRS, as one in lon/lat is."""
    path = tmp_path / "cells.gpkg"
    _layout().to_crs(crs).to_file(path)
    loc = Locator.from_package(path, tolerance=25, cache=False)
    assert loc.crs.to_epsg() == 4548
    lon, lat = gpd.GeoSeries([shapely.Point(X0 - 20, Y0 + 50)], crs=4548).to_crs(4326)[0].coords[0]
    near = loc.locate(lon, lat, crs="EPSG:4326")
    assert (near.grid_id, near.status) == ("110101001001001", "nearest") and abs(near.distance_m - 20) < 0.01
    with pytest.raises(CRSError, match=r"the layout is in .*, (whose unit is the US survey foot|which stretches "
                                       r"areas by over 1 % there \(Web Mercator\)); project it"):
        Locator(_layout().to_crs(crs))  # a frame: the library says how to project it


def test_micro_grids_are_named_with_their_grid_on_every_path(tmp_path):
    """Two 100 m cells, each in two micro-grids: the single and array paths name the
    micro-grid of the answer's cell, on edges, nearest and outside; the index file
    and a pickle keep them."""
    import pickle

    cells = _layout().iloc[:2]
    loc = Locator(cells, tolerance=10, micro=micro_halves(cells))
    # inside; on the edges between micro-grids and between cells; on the layout's
    # outer edge and corner; nearest (west, east, north of the corner); outside
    x = X0 + np.array([25, 75, 50, 100, 100, 100, -4, 204, 100, -40.0])
    y = Y0 + np.array([50, 50, 50, 50, 0, 100, 50, 50, 103, 50.0])
    grid = ["001", "001", "001", "002", "002", "001", "001", "002", "001", None]
    micro = ["00101", "00102", "00102", "00201", "00201", "00102", "00101", "00202", "00102", None]
    found = loc.locate_many(x, y)
    assert list(found.columns[:2]) == ["grid_id", "micro_id"]
    assert [g[-3:] if isinstance(g, str) else None for g in found["grid_id"]] == grid
    assert [m[-5:] if isinstance(m, str) else None for m in found["micro_id"]] == micro
    path = tmp_path / "index.locator"
    loc.save(path)
    for again in (loc, Locator.load(path, tolerance=10), pickle.loads(pickle.dumps(loc))):
        one = [again.locate(a, b) for a, b in zip(x, y)]
        assert [o.micro_id[-5:] if o.micro_id else None for o in one] == micro
    # Without micro-grids there is no column, and micro_id is None.
    plain = Locator(cells)
    assert "micro_id" not in plain.locate_many(x, y).columns and plain.locate(x[0], y[0]).micro_id is None


def test_a_micro_grid_of_another_cell_is_never_the_answer():
    """Micro-grids drawn with other vertices than the cells (as every tiling of a
    household package is, by 10⁻⁸ m) can disagree with them on an edge: a micro-grid
    that reaches a hair past the cells' shared edge must not answer for the cell
    east of it; the east cell's own micro-grid does."""
    cells = _layout().iloc[:2]
    micro = micro_halves(cells)
    west, east = micro.index[1], micro.index[2]  # 00102 and 00201, on either side of x = 100
    micro.loc[west, "geometry"] = shapely.box(X0 + 50, Y0, X0 + 100.000001, Y0 + 100)
    micro.loc[east, "geometry"] = shapely.box(X0 + 100.000001, Y0, X0 + 200, Y0 + 100).difference(
        shapely.box(X0 + 150, Y0, X0 + 200, Y0 + 100))
    loc = Locator(cells, micro=micro)
    on_edge = loc.locate(X0 + 100, Y0 + 50)
    assert (on_edge.grid_id[-3:], on_edge.micro_id[-5:]) == ("002", "00201")
    assert loc.locate_many([X0 + 100], [Y0 + 50])["micro_id"].tolist() == [on_edge.micro_id]
    assert loc.micro.locate(X0 + 100, Y0 + 50).grid_id[-5:] == "00102"  # alone, the micro-grids disagree


def test_micro_grids_of_a_household_layout_hold_every_point_in_its_grid():
    """Random points over household grids with micro-grids: each point's micro-grid
    is the one shapely finds it in, and lies in the point's grid."""
    from gridkit.households import balanced_grid

    rng = np.random.default_rng(3)
    homes = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(X0, X0 + 600, 300), rng.uniform(Y0, Y0 + 600, 300)),
                             crs=4548)
    layout = balanced_grid(community_frame([shapely.box(X0, Y0, X0 + 600, Y0 + 600)]), homes,
                           min_households=40, max_households=60, micro=(10, 20))
    loc = Locator(layout.grids, micro=layout.micro)
    x, y = rng.uniform(X0 - 20, X0 + 620, 5000), rng.uniform(Y0 - 20, Y0 + 620, 5000)
    found = loc.locate_many(x, y)
    inside = found["grid_id"].notna().to_numpy()
    assert inside.sum() > 4000 and found["micro_id"].notna().to_numpy().tolist() == inside.tolist()
    ref = _reference(layout.micro, x, y)
    assert (ref >= 0).sum() == inside.sum()
    assert found["micro_id"].astype(object).to_numpy()[inside].tolist() == \
        layout.micro["micro_id"].to_numpy()[ref[inside]].tolist()
    parent = layout.micro.set_index("micro_id")["grid_id"]
    assert (parent[found["micro_id"][inside].astype(str)].to_numpy() == found["grid_id"][inside].astype(str)).all()


def test_a_cell_without_geometry_is_named_and_deleted_micro_grids_are_none(tmp_path):
    """A package edited by hand: a cell whose polygon was deleted is refused with its
    file, row and ID (it used to fail deep in the index with "cannot convert float
    NaN to integer"); a micro_grids layer emptied is a layout without micro-grids."""
    import pyogrio

    cells = _layout()
    cells.loc[[2, 5], "geometry"] = None
    path = tmp_path / "edited.gpkg"
    pyogrio.write_dataframe(cells, path, layer="cells")
    with pytest.raises(InputError, match=r"^.*edited\.gpkg: 2 of the cells have no geometry: row 3 \(cell "
                                         r"110101001001003\), row 6 \(cell 110101001001006\); draw them again"):
        Locator.from_package(path)
    micro = micro_halves(_layout().iloc[:2])
    micro.loc[1, "geometry"] = shapely.Polygon()
    with pytest.raises(InputError, match=r"^1 of the micro-grids has no geometry: row 2 \(micro-grid "
                                         r"11010100100100102\)"):
        Locator(_layout(), micro=micro)
    assert Locator(_layout(), micro=micro.iloc[:0]).micro is None


def test_a_cell_split_in_qgis_answers_with_its_id_from_both_parts(caplog):
    """Split Features leaves both parts of cell 001 with its ID, and a micro-grid's
    ID typed over its neighbour's leaves two 00101. locate_many, the service and
    `gridkit locate` ended in pandas' "Categorical categories must be unique"; and
    a micro-grid knew its grid by the first part's row, so a point in the other
    part had none. Each part answers with the ID and its micro-grid, and a warning
    names the IDs and the fix."""
    cells = _layout()
    micro = micro_halves(cells.iloc[:4])
    micro.loc[micro["micro_id"] == "11010100100100102", "micro_id"] = "11010100100100101"
    west, east = shapely.box(X0, Y0, X0 + 50, Y0 + 100), shapely.box(X0 + 50, Y0, X0 + 100, Y0 + 100)
    cells.loc[0, "geometry"] = west
    cells = gpd.GeoDataFrame(pd.concat([cells, cells.iloc[[0]].set_geometry([east], crs=cells.crs)],
                                       ignore_index=True), crs=cells.crs)
    with caplog.at_level("WARNING", logger="gridkit.locator"):
        loc = Locator(cells, micro=micro)
    assert [r.getMessage() for r in caplog.records] == [
        "1 ID(s) held by more than one cell (split in QGIS?): 110101001001001; each part answers with the ID until "
        "`gridkit check --fix-ids PACKAGE` gives all but one a new one",
        "1 ID(s) held by more than one micro-grid (split in QGIS?): 11010100100100101; each part answers with the ID "
        "until `gridkit check --fix-ids PACKAGE` gives all but one a new one"]
    found = loc.locate_many(np.array([X0 + 25, X0 + 75, X0 + 125, X0 + 900]), np.full(4, Y0 + 50))
    assert found["grid_id"].astype(object).fillna("none").tolist() == [
        "110101001001001", "110101001001001", "110101001001002", "none"]
    assert found["micro_id"].astype(object).fillna("none").tolist() == [
        "11010100100100101", "11010100100100101", "11010100100100201", "none"]
    assert loc.locate(X0 + 75, Y0 + 50).grid_id == "110101001001001"
    assert loc.values("grid_id").tolist() == [f"110101001001{i:03d}" for i in range(1, 8)]
    codes, ids = loc.codes("grid_id", np.array([7, 0, -1]))
    assert codes.tolist() == [0, 0, -1] and len(ids) == 7


def test_a_polygon_file_s_blank_ids_lines_and_noise_overlaps_are_told_as_such(tmp_path, caplog):
    """Cambridge's neighbourhoods as a layout (--id-field N_HOOD): a blank N_HOOD was
    "no grid_id … gridkit check --fix-ids PACKAGE" (a file --fix-ids does not take);
    their outlines as lines located all 785 signals outside without a word; and
    overlaps of 0.004 m² at most were warned of as "6 pairs of cells overlap (… 0 m²)"."""
    import logging

    hoods = gpd.read_file(SAMPLES / "cambridge_neighborhoods.gpkg")
    blank = tmp_path / "blank.gpkg"
    hoods.assign(N_HOOD=hoods["N_HOOD"].astype(str).where(hoods.index != 3, None)).to_file(blank)
    with pytest.raises(InputError) as error:
        Locator.from_package(blank, id_field="N_HOOD")
    assert str(error.value) == (f"1 of the cells of {blank} has no 'N_HOOD' (row 4; drawn anew in QGIS?): give each "
                                "cell its ID (QGIS: Field Calculator), or delete the cells that are no cells")
    lines = tmp_path / "lines.gpkg"
    hoods.assign(geometry=hoods.boundary).to_file(lines)
    with pytest.raises(InputError) as error:
        Locator.from_package(lines, id_field="N_HOOD")
    assert str(error.value) == (f"{lines} (layer lines): 13 of the cells are no polygon (row 1 is a LineString), and "
                                "a point lies in no LineString; give the layer of cell polygons (--grid-layer)")
    with caplog.at_level(logging.WARNING, logger="gridkit.locator"):
        loc = Locator.from_package(SAMPLES / "cambridge_neighborhoods.gpkg", id_field="N_HOOD", cache=False)
    assert loc.overlaps == {"pairs": 1, "first": ["11", "12", 11.7]}  # the one overlap the grid units summary names
    assert caplog.messages == [
        f"{SAMPLES / 'cambridge_neighborhoods.gpkg'}: 1 pair of cells overlaps (the first: 11 and 12, 11.7 m²); a "
        "point in both goes to the first in the file. Find them with QGIS's Topology Checker (must not overlap) and "
        "fix the file"]


def test_a_tolerance_or_distance_below_zero_and_cells_that_are_no_polygons_are_refused():
    """A tolerance of -1 or NaN located no point near any cell, a `within` of -1
    found no cell near any point, and a layout of points located nothing, each
    without a word; a list of cells was an AttributeError ('list' object has no
    attribute 'crs')."""
    cells = _layout()
    loc = Locator(cells)
    x, y = np.array([X0 + 50, X0 - 3]), np.array([Y0 + 50, Y0 + 50])
    for value in (-1, float("nan"), "5", True):
        said = rf"^tolerance must be a number of metres, 0 or above, not {re.escape(repr(value))}$"
        for call in (lambda: Locator(cells, tolerance=value), lambda: loc.locate_many(x, y, tolerance=value),
                     lambda: loc.locate(X0 - 3, Y0 + 50, tolerance=value),
                     lambda: loc.cell_index(x, y, tolerance=value)):
            with pytest.raises(InputError, match=said):
                call()
    with pytest.raises(InputError, match=r"^within must be a number of metres, 0 or above, not -1$"):
        loc.near_edge(x, y, loc.cell_index(x, y)[0], -1)
    assert loc.locate_many(x, y, tolerance=float("inf"))["status"].tolist() == ["inside", "nearest"]
    with pytest.raises(InputError, match=r"^7 of the cells are no polygon: the first \(row 1\) is a Point"):
        Locator(cells.assign(geometry=cells.centroid))
    # A collection of polygons is a cell still, as a polygon file's cells may be (a regression of 1f6fb2d).
    collected = cells.assign(geometry=[shapely.GeometryCollection([g]) if i == 1 else g
                                       for i, g in enumerate(cells.geometry)])
    assert Locator(collected).locate(X0 + 150, Y0 + 50).grid_id == "110101001001002"
    with pytest.raises(InputError, match=r"^the cells are a list, not a GeoDataFrame; read them with "
                                         r"gridkit\.read_package\(\), or make the Locator with "
                                         r"Locator\.from_package\(path\)$"):
        Locator(list(cells.geometry))
