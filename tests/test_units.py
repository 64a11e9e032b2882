import geopandas as gpd
import pytest
import shapely
import shapely.affinity

import gridkit as gk
from gridkit.errors import CodeError, CRSError, InputError, LayoutError


def _frame(codes, crs=4548):
    geoms = [shapely.box(400_000 + i * 1000, 4_400_000, 400_000 + (i + 1) * 1000, 4_401_000) for i in range(len(codes))]
    return gpd.GeoDataFrame({"code": codes, "name": [f"u{i}" for i in range(len(codes))]}, geometry=geoms, crs=crs)


def test_community_codes_give_the_hierarchy():
    comm = gk.unit_hierarchy(_frame(["110101001001", "110101001002"]), code_field="code")
    assert comm["street_code"].tolist() == ["110101001", "110101001"]
    assert comm["county_code"].tolist() == ["110101", "110101"]
    assert not comm["provisional"].any()


def test_codes_typed_in_full_width_digits_are_the_codes():
    comm = gk.unit_hierarchy(_frame(["１１０１０１００１００１", " 110101001002"]), code_field="code")
    assert comm["community_code"].tolist() == ["110101001001", "110101001002"]
    assert comm["street_code"].tolist() == ["110101001", "110101001"]


def test_bad_code_names_the_feature():
    with pytest.raises(CodeError, match=r"feature 2 \(u1\).*11 characters.*--provisional"):
        gk.unit_hierarchy(_frame(["110101001001", "11010100100"]), code_field="code")


def test_unknown_column_lists_the_columns():
    with pytest.raises(InputError, match=r"no code column 'adcode' \(did you mean 'code'\?\); columns are: code, name"):
        gk.unit_hierarchy(_frame(["110101001001"]), code_field="adcode")


def test_boundaries_whose_coordinates_are_not_their_crs_are_refused_naming_the_fix():
    """A projected file labelled EPSG:4326 (coordinates in metres read as degrees),
    and a polygon with a vertex at latitude 95, which has no position in any metric
    CRS: both are errors that say what is wrong and what to pass, instead of a
    failed CRS choice or a lattice of infinitely many cells."""
    labelled = _frame(["110101001001"]).set_crs(4326, allow_override=True)
    with pytest.raises(CRSError, match=r"the boundaries' CRS is EPSG:4326 \(longitude/latitude\), but their "
                                       r"coordinates span 400000\.\.401000, 4400000\.\.4401000: a projected file "
                                       r"labelled as lon/lat\? Give the CRS they are really in \(--crs EPSG:…\)"):
        gk.unit_hierarchy(labelled, code_field="code")
    lonlat = gpd.GeoDataFrame({"code": ["110101001001", "110101001002"]}, crs=4326, geometry=[
        shapely.box(116.40, 39.90, 116.41, 39.91), shapely.Polygon([(116.41, 39.90), (116.42, 39.90), (116.42, 95)])])
    with pytest.raises(InputError, match=r"^1 of the 2 boundaries do not project into EPSG:\d+ \(the first: feature "
                                         r"2, with a vertex at 116\.42, 95 in EPSG:4326\): fix or remove them"):
        gk.unit_hierarchy(lonlat, code_field="code")
    assert len(gk.unit_hierarchy(lonlat.iloc[:1], code_field="code")) == 1


def test_boundaries_that_are_not_polygons_name_their_kind(samples):
    """A file of lines given as boundaries is the wrong file, said once; a line among
    polygons is named by feature and kind."""
    lines = gk.read_vector(samples / "cambridge_centerlines.gpkg")
    with pytest.raises(InputError, match=r"^boundaries: .*cambridge_centerlines.gpkg holds MultiLineString features, "
                                         r"not polygons: give a file \(or --layer\) of polygons$"):
        gk.unit_hierarchy(lines, provisional=True, parent_code="990101")
    mixed = _frame(["110101001001", "110101001002"])
    mixed.geometry = [mixed.geometry.iloc[0], shapely.LineString([(0, 0), (1, 1)])]
    with pytest.raises(InputError, match=r"1 unusable feature\(s\): feature 2 \(u1\): a LineString where a "
                                         r"polygon is needed\."):
        gk.unit_hierarchy(mixed, code_field="code")


def test_features_without_a_polygon_are_named_by_what_they_lack(caplog):
    """A row with no geometry, and a polygon whose vertices lie on one line (it
    encloses nothing, and make_valid leaves nothing of it), are named as such: the
    flat one was "a Polygon where a polygon is needed", after a warning that it had
    been repaired."""
    units = _frame(["110101001001", "110101001002", "110101001003"])
    units.loc[1, "geometry"] = None
    units.loc[2, "geometry"] = shapely.Polygon([(402_000, 4_400_000), (402_500, 4_400_000), (403_000, 4_400_000)])
    with caplog.at_level("WARNING"), pytest.raises(InputError) as raised:
        gk.unit_hierarchy(units, code_field="code")
    assert str(raised.value) == (
        "boundaries: 2 unusable feature(s): feature 2 (u1): no geometry; feature 3 (u2): a Polygon that encloses no "
        "area (its outline runs back along itself). Delete them or give them a polygon.")
    assert caplog.text == ""


def test_a_feature_far_from_the_others_is_refused_naming_it(samples):
    """Cambridge's neighbourhoods with one moved 180° east (a lost minus sign): the
    UTM zone for the middle of them all lies in Europe, where every cell would be cut
    in a CRS stretching areas many times over (4,220 cells instead of 1,974, with no
    word). Refused, naming the one that strayed, not its neighbours; alone, each
    part grids."""
    hoods = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    hoods.loc[4, "geometry"] = shapely.affinity.translate(hoods.geometry[4], 180)
    with pytest.raises(CRSError) as raised:
        gk.unit_hierarchy(hoods, name_field="NAME", provisional=True, parent_code="990101")
    path, message = str(raised.value).split(": ", 1)
    assert path.endswith("cambridge_neighborhoods.gpkg")
    assert message.startswith("the features lie too far apart to be cut in one metric CRS: EPSG:32634 (WGS 84 / UTM "
                              "zone 34N), chosen for their middle, stretches areas by over 1 % at 13 of the 13 "
                              "features, so cells there would not have their area on the ground. Far from the "
                              "others: feature 5 (North Cambridge), 10,615 km away at lon 108.86, lat 42.40. ")
    assert "(a lost minus sign, another CRS)" in message and "--where" in message and "--metric-crs" in message
    assert len(gk.unit_hierarchy(hoods.drop(index=4), name_field="NAME", provisional=True,
                                 parent_code="990101")) == 12
    assert len(gk.unit_hierarchy(hoods, name_field="NAME", provisional=True, parent_code="990101",
                                 metric_crs="EPSG:32619")) == 13  # the user's choice, with the warning


def test_the_whole_beijing_zhoushan_file_is_near_enough_for_one_crs(shared):
    """Beijing and Zhoushan, 1,100 km apart, in the zone for their middle (120°E):
    areas stretch by at most 0.4 %, under the 1 % that is refused."""
    districts = gk.read_vector(shared / "china_admin" / "beijing_zhoushan_districts_gcj02.gpkg", crs="gcj02")
    assert gk.units.choose_metric_crs(districts).to_epsg() == 4549


def test_a_crumb_an_overlap_cuts_off_is_not_a_community_s_cell():
    """Where a unit reaches over its neighbour, the overlap goes to the lower code;
    a crumb of the higher one left beyond the neighbour's edge (here 0.01 m², on
    Cambridge a 2e-10 m² triangle) was a community's part of its own, gridded into a
    cell with no neighbour to merge into. A small island away from the cut stays."""
    units = _frame(["110101001001", "110101001002"])
    island = shapely.box(402_500, 4_400_500, 402_500.5, 4_400_500.5)  # 0.25 m², away from the other unit
    units.loc[1, "geometry"] = shapely.union_all([shapely.box(400_500, 4_400_000, 402_000, 4_401_000),
                                                  shapely.box(399_999.9, 4_400_500, 400_500, 4_400_500.1), island])
    comm = gk.unit_hierarchy(units, code_field="code")
    assert comm.area.round(2).tolist() == [1e6, 1e6 + 0.25]
    assert [len(shapely.get_parts(g)) for g in comm.geometry] == [1, 2]
    cells = gk.unit_grid(comm, cell_area=250_000)
    assert len(cells) == 4 + 4 + 1 and cells.area.min() == pytest.approx(0.25)


def test_a_geometry_collection_gives_its_polygons(caplog):
    """A polygon written with its outline as one GeometryCollection (as some tools
    export a feature) is its polygon, with a warning; one of no polygon is refused."""
    frame = _frame(["110101001001", "110101001002"])
    square = frame.geometry.iloc[1]
    frame.geometry = [frame.geometry.iloc[0], shapely.GeometryCollection([square, square.boundary])]
    comm = gk.unit_hierarchy(frame, code_field="code")
    assert comm.set_index("community_code").geometry["110101001002"].equals(square)
    assert ("boundaries: feature 2 (u1) is a GeometryCollection; its 1 polygon(s) are used, not its 1 other part(s) "
            "(lines, points)") in caplog.text
    frame.geometry = [frame.geometry.iloc[0], shapely.GeometryCollection([square.boundary])]
    with pytest.raises(InputError, match=r"feature 2 \(u1\): a GeometryCollection where a polygon is needed"):
        gk.unit_hierarchy(frame, code_field="code")


def test_county_needs_provisional_then_gets_tile_communities():
    with pytest.raises(InputError, match="--provisional"):
        gk.unit_hierarchy(_frame(["110101"]), code_field="code")
    comm = gk.unit_hierarchy(_frame(["110101"]), code_field="code", provisional=True)
    assert comm["community_code"].str.startswith("110101900").all()
    assert comm["provisional"].all()


def test_uncoded_features_under_a_parent(samples):
    hoods = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    comm = gk.unit_hierarchy(hoods, name_field="NAME", provisional=True, parent_code="990101")
    assert len(comm) == 13
    assert comm["community_code"].tolist() == [f"990101900{600 + i}" for i in range(13)]
    assert comm.crs.to_epsg() == 32619
    # The city's polygons overlap slightly: 8 times, by 11.7 m² at most (North Cambridge
    # and Cambridge Highlands), the others by digitising noise.
    assert comm.attrs["report"]["overlaps_resolved"] == 8
    assert round(comm.attrs["report"]["overlap_max_m2"], 1) == 11.7


def _small_and_large():
    """A feature of 100 cells and one of 7 × 4 whole lattice tiles (28 × 28 cells of
    100 m each, so 21,952 cells: far more than a community's 999)."""
    small = shapely.box(400_000, 4_400_000, 401_000, 4_401_000)
    large = shapely.box(144 * 2800, 1572 * 2800, 151 * 2800, 1576 * 2800)
    return gpd.GeoDataFrame({"name": ["Small", "Big"]}, geometry=[small, large], crs=4548)


def test_an_uncoded_feature_too_large_for_a_community_is_tiled():
    units = _small_and_large()
    # Kept whole (the default, as household grids need), the large one fails as cells.
    whole = gk.unit_hierarchy(units, name_field="name", provisional=True, parent_code="990101")
    assert whole[["community_code", "community_name"]].values.tolist() == [["990101900600", "Big"],
                                                                            ["990101900601", "Small"]]
    with pytest.raises(LayoutError, match=r"community 990101900600 would hold 21952 cells.*"
                                          r"unit_hierarchy\(\.\.\., tile_large=True\)"):
        gk.unit_grid(whole)
    # Tiled: a provisional street of its own, named after it, one community per tile.
    comm = gk.unit_hierarchy(units, name_field="name", provisional=True, parent_code="990101", tile_large=True)
    assert comm.attrs["report"]["tiled_features"] == 1
    assert comm["community_code"].tolist() == ["990101900600"] + [f"990101901{600 + i}" for i in range(28)]
    assert comm["community_name"].tolist() == ["Small"] + [""] * 28
    assert comm["street_name"].tolist() == [""] + ["Big"] * 28
    # Row-major: the first tile is the north-west one.
    first = comm.geometry.iloc[1].centroid
    assert (first.x, first.y) == (144 * 2800 + 1400, 1576 * 2800 - 1400)
    cells = gk.unit_grid(comm)
    assert cells.groupby("community_code").size().tolist() == [100] + [784] * 28
    assert gk.check_partition(cells, comm).ok


def test_many_cells_are_announced_and_too_many_for_memory_refused(monkeypatch, caplog):
    """Before tiling, the cells are counted by area: above MANY_CELLS a warning says
    how many and the memory they need; beyond the machine's memory, unit_hierarchy
    (and unit_grid, for communities built elsewhere) refuse before cutting any."""
    import gridkit.cells

    units = _small_and_large()
    monkeypatch.setattr(gridkit.cells, "MANY_CELLS", 20_000)
    monkeypatch.setattr(gridkit.cells, "machine_memory", lambda: 10**9)
    comm = gk.unit_hierarchy(units, name_field="name", provisional=True, parent_code="990101", tile_large=True)
    assert len(comm) == 29
    assert caplog.messages == ["220.5 km² in cells of 10,000 m² is about 22,052 cells, which needs about 0.0 GB of "
                               "memory (the cell area is in m²; 10000 is a hectare)"]
    with pytest.raises(InputError, match=r"^220\.5 km² in cells of 100 m² is about 2,205,200 cells, which would "
                                         r"need about 2\.6 GB of memory; this machine has 1\.0 GB\. The cell area "):
        gk.unit_hierarchy(units, name_field="name", provisional=True, parent_code="990101", cell_area=100,
                          tile_large=True)
    with pytest.raises(InputError, match=r"^1\.0 km² in cells of 1 m² is about 1,000,000 cells, which would need "
                                         r"about 1\.2 GB of memory; this machine has 1\.0 GB\."):
        gk.unit_grid(comm.iloc[[0]], cell_area=1)


def test_under_a_street_the_tiles_continue_its_communities():
    comm = gk.unit_hierarchy(_small_and_large(), name_field="name", provisional=True, parent_code="990101001",
                             tile_large=True)
    assert comm["community_code"].tolist() == [f"990101001{600 + i}" for i in range(29)]
    assert comm["community_name"].tolist() == ["Small"] + [f"Big {i}" for i in range(1, 29)]
    assert set(comm["street_code"]) == {"990101001"}


def test_tile_large_keeps_features_a_community_can_hold(samples):
    hoods = gk.read_vector(samples / "cambridge_neighborhoods.gpkg")
    comm = gk.unit_hierarchy(hoods, name_field="NAME", provisional=True, parent_code="990101", tile_large=True)
    assert comm["community_code"].tolist() == [f"990101900{600 + i}" for i in range(13)]
    assert comm.attrs["report"]["tiled_features"] == 0


def test_overlapping_uncoded_units_are_named_by_their_row(caplog):
    units = _frame([None, None, None])
    units.loc[2, "geometry"] = shapely.box(401_500, 4_400_000, 403_000, 4_401_000)  # half over the second
    with caplog.at_level("WARNING"):
        comm = gk.unit_hierarchy(units, name_field="name", provisional=True, parent_code="110101")
    assert "units feature 2 (u1) and feature 3 (u2) overlap by 5e+05 m²; the overlap stays with feature 2" \
        in caplog.text
    assert sorted(comm.area.round().tolist()) == [1e6, 1e6, 1e6]


def test_a_code_shared_by_features_of_other_names_is_merged_with_a_warning(caplog):
    """An island's rows share its code and name: merged quietly into one community.
    Features of other names under one code are more likely a typo (two places made
    one): still merged, but named in a warning (it was an INFO line, unseen)."""
    units = _frame(["110101001001", "110101001001", "110101001002", "110101001002"])
    units.loc[1, "name"] = "u0"  # the second part of u0
    with caplog.at_level("WARNING"):
        comm = gk.unit_hierarchy(units, code_field="code", name_field="name")
    assert comm["community_code"].tolist() == ["110101001001", "110101001002"]
    assert comm.area.round().tolist() == [2e6, 2e6]
    assert [r.getMessage() for r in caplog.records] == [
        "feature 3 (u2) and feature 4 (u3) share the code 110101001002 but not a name: they are merged into one "
        "unit. If the code is a typo, fix it"]


def test_a_unit_wholly_under_others_is_an_error_not_a_crash():
    units = _frame(["110101001001", "110101001002", "110101001003"])
    units.loc[2, "geometry"] = shapely.box(400_500, 4_400_000, 401_500, 4_401_000)  # half on each of the others
    with pytest.raises(InputError, match=r"110101001003 lies wholly under 110101001001, 110101001002\. .*delete the "
                                         r"duplicate, or fix its boundary"):
        gk.unit_hierarchy(units, code_field="code")


def test_dongcheng_provisional_hierarchy(dongcheng, samples):
    assert dongcheng.crs.to_epsg() == 4548
    assert len(dongcheng) == 8
    assert dongcheng["community_code"].tolist() == [f"110101900{600 + i}" for i in range(8)]
    district = gk.read_vector(samples / "dongcheng_gcj02.gpkg", crs="gcj02").to_crs(4548)
    union = shapely.union_all(dongcheng.geometry.values)
    assert shapely.symmetric_difference(union, district.geometry.iloc[0]).area < 1e-6 * union.area
    assert 41.9e6 < union.area < 42.1e6
    # Those communities given back (a provisional layout's units, to grid again): their
    # codes are kept with --provisional alone; without it the error says so.
    again = dongcheng[["community_code", "geometry"]].rename(columns={"community_code": "code"})
    with pytest.raises(gk.errors.CodeError, match=r"^8 feature\(s\) .*feature 1: street/township part 900 is outside "
                                                  r"GB/T 10114's 001–599;.* All of them are provisional codes \(a street "
                                                  r"part 900–999 or community part 600–999, as gridkit gives\): pass "
                                                  r"--provisional alone to keep them as they are\.$"):
        gk.unit_hierarchy(again, code_field="code")
    kept = gk.unit_hierarchy(again, code_field="code", provisional=True)
    assert kept["community_code"].tolist() == dongcheng["community_code"].tolist()


def _dense_county():
    """One 2.8 km tile (aligned to the lattice tiles) cut by streets every 35 m:
    6,400 blocks of 1,225 m², each of which must be a cell of its own."""
    x0, y0, side = 400_400.0, 4_401_600.0, 2_800.0
    county = gpd.GeoDataFrame({"code": ["110101"]}, geometry=[shapely.box(x0, y0, x0 + side, y0 + side)], crs=4548)
    ticks = [35.0 * k for k in range(1, 80)]
    lines = [shapely.LineString([(x0 + t, y0 - 1), (x0 + t, y0 + side + 1)]) for t in ticks]
    lines += [shapely.LineString([(x0 - 1, y0 + t), (x0 + side + 1, y0 + t)]) for t in ticks]
    return county, gpd.GeoSeries(lines, crs=4548)


def test_dense_blocks_overflow_area_sized_provisional_communities():
    county, streets = _dense_county()
    comm = gk.unit_hierarchy(county, code_field="code", provisional=True)
    assert len(comm) == 1  # 784 cells' worth of area
    with pytest.raises(gk.LayoutError, match="would hold 6400 cells"):
        gk.unit_grid(comm, barriers=streets)


def test_barriers_size_provisional_communities_by_cell_count():
    county, streets = _dense_county()
    comm = gk.unit_hierarchy(county, code_field="code", provisional=True, barriers=streets)
    cells = gk.unit_grid(comm, barriers=streets)
    gk.assert_partition(cells, comm)
    # The tile is quartered twice (28 → 14 → 7 cells a side: 400 blocks each) and
    # neighbouring quarters pair up to the 800-cell limit.
    assert len(cells) == 6400
    assert cells.groupby("community_code").size().tolist() == [800] * 8
    assert comm["provisional"].all()
