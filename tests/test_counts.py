"""Points per cell (gridkit.counts, gridkit locate --counts/--map)."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridkit.counts import cell_counts, unit_counts
from gridkit.errors import InputError
from gridkit.locator import Locator

IDS = ["990101900600001", "990101900600002", "990101900600003"]


def _cells(ids, crs=32619):
    """100 m cells in a row from x = 0, one per ID."""
    return gpd.GeoDataFrame({"grid_id": ids, "community_code": ["990101900600"] * len(ids)},
                            geometry=[shapely.box(100 * k, 0, 100 * (k + 1), 100) for k in range(len(ids))], crs=crs)


def test_points_are_counted_per_cell_and_by_value_with_the_rest_and_the_blanks_apart():
    locator = Locator(_cells(IDS))
    grid_ids = [IDS[0], IDS[2], None, IDS[2], np.nan, IDS[2], IDS[0], IDS[2]]
    by = ["路灯", "井盖", "路灯", "井盖", "井盖", "", None, "树木"]
    cells = cell_counts(locator, grid_ids, by=by, top=1)
    assert cells["grid_id"].tolist() == IDS  # every cell, one with none among them
    assert cells["points"].tolist() == [2, 0, 4]  # the two points in no cell count for none
    assert cells["per_km2"].tolist() == [200.0, 0.0, 400.0]  # a 100 m cell is 0.01 km²
    # 井盖 is the commonest among the points in a cell (twice; the third is in none)
    assert list(cells.columns) == ["grid_id", "community_code", "points", "per_km2", "井盖", "other", "blank",
                                   "geometry"]
    assert cells["井盖"].tolist() == [0, 0, 2]
    assert cells["other"].tolist() == [1, 0, 1]  # 路灯 in the first, 树木 in the third
    assert cells["blank"].tolist() == [1, 0, 1]  # None in the first, "" in the third
    assert (cells[["井盖", "other", "blank"]].sum(axis=1) == cells["points"]).all()
    assert cells.crs == locator.crs and cells.geometry.area.tolist() == pytest.approx([10_000] * 3)


def test_ties_among_values_go_in_the_order_of_the_values():
    locator = Locator(_cells(IDS))
    cells = cell_counts(locator, IDS, by=["b", "c", "a"])
    assert list(cells.columns[4:-1]) == ["a", "b", "c"]
    numbered = cell_counts(locator, IDS * 2, by=["10", "2", "1", "10", "2", "x"])
    assert list(numbered.columns[4:-1]) == ["10", "2", "1", "x"]  # 10 and 2 twice; then 1 and x, as text
    numbers = cell_counts(locator, IDS, by=["10", "2", "1"])
    assert list(numbers.columns[4:-1]) == ["1", "2", "10"]  # all numbers: by their values
    codes = cell_counts(locator, IDS, by=["12345", "06010", "0114"])
    assert list(codes.columns[4:-1]) == ["0114", "06010", "12345"]  # codes (a leading zero): as text


def test_an_id_held_by_two_cells_is_one_row_with_its_parts_joined_and_its_points_added():
    """A cell cut in two in QGIS keeps its ID in both parts: one row, both parts."""
    locator = Locator(_cells([IDS[0], IDS[1], IDS[0]]))  # the third cell is a part of the first
    cells = cell_counts(locator, [IDS[0], IDS[1], IDS[0], IDS[0]])
    assert cells["grid_id"].tolist() == IDS[:2]
    assert cells["points"].tolist() == [3, 1]
    assert cells.geometry.area.tolist() == pytest.approx([20_000, 10_000])
    assert cells["per_km2"].tolist() == [150.0, 100.0]


def test_a_grid_id_the_layout_does_not_have_is_refused_by_its_point():
    locator = Locator(_cells(IDS))
    with pytest.raises(InputError, match=r"point 2: grid ID '990101900600009' is no cell of the layout "
                                         r"\(and 1 more\)"):
        cell_counts(locator, [IDS[0], "990101900600009", " 990101900600003 ", "x"])


def test_counts_per_community_add_up_the_cells_and_keep_a_row_for_cells_with_no_community():
    """unit_counts: one row per community in the order of the codes, each the sum
    of its cells (by-value columns too) over the union of their polygons; cells
    with no community code make a row of their own, so every point is counted."""
    ids = IDS + ["990101900601001", "990101900601002"]
    layout = _cells(ids).assign(community_code=["990101900601", "990101900600", "990101900601", "  ", None],
                                community_name=["乙", "甲", "乙", None, None])
    locator = Locator(layout)
    grid_ids = [ids[0], ids[0], ids[2], ids[1], ids[3], ids[4], None]
    cells = cell_counts(locator, grid_ids, by=["a", "b", "a", "a", "b", None, "a"])
    communities = unit_counts(cells, "community")
    assert communities["community_code"].tolist() == [None, "990101900600", "990101900601"]
    assert communities["community_name"].fillna("").tolist() == ["", "甲", "乙"]
    assert list(communities.columns) == ["community_code", "community_name", "cells", "cells_with_points", "points",
                                         "per_km2", "a", "b", "blank", "geometry"]
    assert communities["cells"].tolist() == [2, 1, 2]
    assert communities["cells_with_points"].tolist() == [2, 1, 2]
    assert communities["points"].tolist() == [2, 1, 3]  # the point in no cell counts for no community
    assert communities["a"].tolist() == [0, 1, 2] and communities["b"].tolist() == [1, 0, 1]
    assert communities["blank"].tolist() == [1, 0, 0]
    assert communities.geometry.area.tolist() == pytest.approx([20_000, 10_000, 20_000])
    assert communities.geometry.iloc[0].equals(shapely.box(300, 0, 500, 100))  # two cells side by side: one box
    assert communities["per_km2"].tolist() == [100.0, 100.0, 150.0]
    assert unit_counts(cells, "cell") is cells


def test_counts_per_a_level_the_layout_lacks_are_refused_naming_the_levels_it_has():
    cells = cell_counts(Locator(_cells(IDS)), IDS)
    with pytest.raises(InputError, match=r"the layout names no streets \(its cells have no street_code column\) "
                                         r"to count points per street; count them per cell or community"):
        unit_counts(cells, "street")
    with pytest.raises(InputError, match=r"points are counted per cell, community, street, district, not per 'town'"):
        unit_counts(cells, "town")


@pytest.mark.filterwarnings("ignore:Glyph")  # DejaVu Sans standing in for a Chinese font misses the glyphs
def test_the_map_per_community_writes_each_one_s_name_over_its_count(monkeypatch):
    """The monthly map of cases per community: a manager reads it by name (the map
    used to write the counts alone). A community with no name gets its count; with
    no font for Chinese, a Chinese name is left out rather than drawn as boxes."""
    import gridkit.preview as preview

    ids = IDS + ["990101900601001", "990101900602001"]
    layout = _cells(ids).assign(community_code=["990101900600"] * 3 + ["990101900601", "990101900602"],
                                community_name=["The Port"] * 3 + [None, "东华门"])
    locator = Locator(layout)
    communities = unit_counts(cell_counts(locator, [ids[0], ids[2], ids[3], ids[4], ids[4]]), "community")
    monkeypatch.setattr(preview, "cjk_font", lambda: None)
    fig = preview.plot_counts(communities, per="community", what="cases")
    assert [t.get_text() for t in fig.axes[0].texts] == ["The Port\n2", "1", "2"]
    monkeypatch.setattr(preview, "cjk_font", lambda: "DejaVu Sans")  # as if it drew Chinese
    fig = preview.plot_counts(communities, per="community", what="cases")
    assert [t.get_text() for t in fig.axes[0].texts] == ["The Port\n2", "1", "东华门\n2"]


def test_per_cell_of_points_not_located_says_to_locate_them_first():
    """A frame without gk_grid_id (points read, not located) was KeyError 'gk_grid_id'."""
    import pandas as pd

    from gridkit.counts import per_cell

    with pytest.raises(InputError, match=r"^the points: no gk_grid_id column: count the points "
                                         r"gridkit\.batch\.locate_frame\(\) located$"):
        per_cell(Locator(_cells(IDS)), pd.DataFrame({"x": [50.0], "y": [50.0]}))


def test_unit_counts_names_cells_that_were_not_counted():
    """A list, or cells without their points column, were AttributeError and KeyError."""
    locator = Locator(_cells(IDS))
    with pytest.raises(InputError, match=r"^the cells are a list, not a GeoDataFrame; count them with "
                                         r"gridkit\.counts\.cell_counts\(\)$"):
        unit_counts([1], "community")
    with pytest.raises(InputError, match=r"^the cells have no column 'points'"):
        unit_counts(_cells(IDS), "community")
    assert unit_counts(cell_counts(locator, [IDS[0]]), "community")["points"].tolist() == [1]
