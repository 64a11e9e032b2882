import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg

from gridkit.errors import InputError
from gridkit.lattice import boxes
from gridkit.preview import plot_layout


def _pixel(fig, ax, x, y):
    """The RGB of the picture at map coordinates (x, y)."""
    px, py = ax.transData.transform((x, y))
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return rgba[rgba.shape[0] - 1 - int(py), int(px), :3].tolist()


def test_cells_are_filled_and_holes_stay_empty():
    """One cell with a hole (and a second part), one inside the hole, one beside: drawn
    as compound paths, a hole must not be filled over, whichever way its ring runs."""
    donut = shapely.difference(shapely.box(0, 0, 300, 300), shapely.box(100, 100, 200, 200))
    reversed_hole = shapely.Polygon(donut.exterior.coords, [donut.interiors[0].coords[::-1]])
    geoms = [shapely.MultiPolygon([reversed_hole, shapely.box(0, 400, 100, 500)]), shapely.box(130, 130, 170, 170),
             shapely.box(300, 0, 600, 300)]
    cells = gpd.GeoDataFrame({"community_code": ["a", "b", "c"], "grid_id": ["1", "2", "3"]},
                             geometry=geoms, crs=4548)
    fig = plot_layout(cells, labels=0)
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    ring, part, inner, beside, hole = (_pixel(fig, ax, *xy) for xy in
                                       [(50, 50), (50, 450), (150, 150), (450, 150), (115, 115)])
    assert hole == [255, 255, 255]
    assert ring == part != [255, 255, 255]
    assert len({tuple(ring), tuple(inner), tuple(beside)}) == 3
    assert ax.collections[0].get_linewidths().tolist() == [0.15]  # cells span many pixels: outlined


def test_cells_finer_than_the_picture_are_not_outlined():
    cells = gpd.GeoDataFrame({"community_code": np.repeat(["a", "b"], 5000), "grid_id": np.arange(10_000).astype(str)},
                             geometry=boxes(np.arange(10_000) * 10.0, np.zeros(10_000), np.arange(10_000) * 10.0 + 10,
                                            np.full(10_000, 10.0)), crs=4548)
    ax = plot_layout(cells, labels=0).axes[0]
    assert ax.collections[0].get_linewidths().tolist() == [0.0]
    assert len(ax.collections[0].get_paths()) == 2  # a compound path per colour


def test_micro_grids_are_dashed_inside_their_grids_and_flagged():
    """A household layout's micro-grids: dashed where they divide a grid (not over the
    grid's own edge, which the fills draw), those out of their band hatched, both in
    the legend."""
    from matplotlib.collections import LineCollection

    from .conftest import micro_halves

    cells = gpd.GeoDataFrame({"community_code": ["a"] * 3, "grid_id": ["1", "2", "3"], "households": [120] * 3},
                             geometry=boxes(np.arange(3) * 100.0, np.zeros(3), np.arange(3) * 100.0 + 100,
                                            np.full(3, 100.0)), crs=4548)
    micro = micro_halves(cells).assign(flag=["", "light", "", "", "", ""])
    ax = plot_layout(cells, labels=0, colour_by="grid_id", micro=micro).axes[0]
    dashed = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_linestyle()[0][1] is not None]
    assert len(dashed) == 1
    length = sum(np.hypot(*np.diff(seg, axis=0).T).sum() for seg in dashed[0].get_segments())
    # x = 50, 150, 250, less 0.5 m at each grid edge, once (not once for each micro-grid it bounds)
    assert abs(length - 3 * 99.0) < 1e-6
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "6 micro-grids", "micro-grids out of their band: 1 light"]


def test_components_micro_grids_and_flags_share_one_legend_and_the_view_is_the_cells():
    """Components drawn over a household layout keep their legend entries beside the
    micro-grids' and the flags' (the components' legend was replaced by theirs); the
    view is the cells', not a unit reaching beyond them (one community drawn out of
    a street)."""
    from .conftest import micro_halves

    cells = gpd.GeoDataFrame({"community_code": ["a"] * 3, "grid_id": ["1", "2", "3"], "households": [120] * 3,
                              "flag": ["", "", "light"]},
                             geometry=boxes(np.arange(3) * 100.0, np.zeros(3), np.arange(3) * 100.0 + 100,
                                            np.full(3, 100.0)), crs=4548)
    components = gpd.GeoDataFrame({"class_code": ["02014", "03005", "03005", "03005"],
                                   "class_name": ["交通信号灯", "垃圾箱", "垃圾箱", "垃圾箱"],
                                   "GLBJZT": ["完好", "完好", "移除", "完好"]},
                                  geometry=shapely.points([[10, 10], [150, 50], [160, 50], [250, 90]]), crs=4548)
    street = gpd.GeoDataFrame({"level": ["street"]}, geometry=[shapely.box(-1000, -1000, 1000, 1000)], crs=4548)
    ax = plot_layout(cells, street, labels=0, colour_by="grid_id", micro=micro_halves(cells),
                     components=components).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[2:] == ["6 micro-grids", "out of the band: 1 light"]
    # the Chinese name where a CJK font is installed
    assert re.fullmatch(r"02014 (交通信号灯 )?traffic signal light \(1\)", labels[0]), labels
    assert re.fullmatch(r"03005 (垃圾箱 )?litter bin \(2\)", labels[1]), labels
    assert ax.get_xlim() == (-6.0, 306.0) and ax.get_ylim() == (-6.0, 106.0)


def test_a_flag_column_of_empty_values_hatches_nothing():
    """A household layout that came back through a Shapefile (grid adopt) reads its
    empty flags as None: no grid is out of the band, so none is hatched."""
    cells = gpd.GeoDataFrame({"community_code": ["a"] * 3, "grid_id": ["1", "2", "3"],
                              "flag": [None, "light", None]},
                             geometry=boxes(np.arange(3) * 100.0, np.zeros(3), np.arange(3) * 100.0 + 100,
                                            np.full(3, 100.0)), crs=4548)
    ax = plot_layout(cells, labels=0).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["out of the band: 1 light"]
    ax = plot_layout(cells.assign(flag=None), labels=0).axes[0]
    assert ax.get_legend() is None


def test_the_picture_is_written_in_the_format_its_suffix_names(tmp_path, samples):
    """`-o map.pdf` (or .svg, .jpg) was written as PNG bytes under that name, and
    `-o map.txt` too. Each suffix now gets its format (a vector PDF or SVG to print);
    any other is refused before the drawing, by the library and by the commands,
    and no file is written."""
    import pytest
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    cells = gpd.GeoDataFrame({"community_code": ["a", "b"], "grid_id": ["1", "2"]},
                             geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4548)
    magic = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF", ".jpg": b"\xff\xd8\xff", ".JPEG": b"\xff\xd8\xff"}
    for suffix, start in magic.items():
        plot_layout(cells, path=tmp_path / f"map{suffix}")
        assert (tmp_path / f"map{suffix}").read_bytes().startswith(start), suffix
    assert b"<svg" in (tmp_path / "map.svg").read_bytes()[:500]
    with pytest.raises(InputError, match=r"map\.gif: a map picture is \.png, \.svg, \.pdf, \.jpg or \.jpeg"):
        plot_layout(cells, path=tmp_path / "map.gif")
    package = tmp_path / "p.gpkg"
    grid = CliRunner().invoke(cli, ["grid", "units", str(samples / "cambridge_neighborhoods.gpkg"), "--provisional",
                                    "--parent-code", "990101", "-o", str(package), "--preview", str(tmp_path / "p.txt")])
    assert grid.exit_code == 2 and "Invalid value for '--preview': " in grid.output
    drawn = CliRunner().invoke(cli, ["map", str(samples / "dongcheng_gcj02.gpkg"), "-o", str(tmp_path / "m.tif")])
    assert drawn.exit_code == 2 and "Invalid value for '-o' / '--output'" in drawn.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"map{s}" for s in magic)


def _drawn_texts(fig):
    """Every text of ``fig`` as drawn: Chinese in a font missing from the machine warns."""
    import warnings

    from matplotlib.text import Text

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 19996 missing from font(s) DejaVu Sans"
        FigureCanvasAgg(fig).draw()
    return {t.get_text(): t.get_fontfamily() for t in fig.findobj(Text) if t.get_text()}


@pytest.mark.filterwarnings("ignore:Glyph")  # DejaVu Sans standing in for a Chinese font misses the glyphs
def test_chinese_names_are_drawn_in_a_chinese_font_or_left_out(monkeypatch):
    """A map's title with a community's Chinese name (`patrol --unit 东华门 --map`) and the
    components' legend: in a font that draws Chinese where one is installed (the
    coverage map used to get none, even on Windows); with none, written without the
    Chinese words, not as empty boxes."""
    import gridkit.preview as preview
    from gridkit.preview import plot_coverage

    cells = gpd.GeoDataFrame({"community_code": ["a"] * 2, "grid_id": ["1", "2"], "patrolled": [True, False],
                              "minutes": [3.0, 0.0]}, geometry=boxes(np.arange(2) * 100.0, np.zeros(2),
                                                                    np.arange(2) * 100.0 + 100, np.full(2, 100.0)),
                             crs=4548)
    components = gpd.GeoDataFrame({"class_code": ["03005"], "class_name": ["垃圾箱"], "GLBJZT": ["完好"]},
                                  geometry=shapely.points([[10, 10]]), crs=4548)
    monkeypatch.setattr(preview, "cjk_font", lambda: None)
    texts = _drawn_texts(plot_coverage(cells, where="110101001001 东华门社区"))
    assert "110101001001: 1 of 2 cells patrolled (50 %)" in texts
    assert "03005 litter bin (1)" in _drawn_texts(plot_layout(cells, labels=0, components=components))
    monkeypatch.setattr(preview, "cjk_font", lambda: "DejaVu Sans")  # as if it drew Chinese: the font is chosen
    texts = plot_coverage(cells, where="110101001001 东华门社区").findobj(lambda a: hasattr(a, "get_fontfamily"))
    families = {t.get_text(): t.get_fontfamily() for t in texts}
    assert families["110101001001 东华门社区: 1 of 2 cells patrolled (50 %)"][0] == "DejaVu Sans"
    assert families["0–1 min (0)"] == ["sans-serif"]  # the rest as they were
    texts = plot_layout(cells, labels=0, components=components).findobj(lambda a: hasattr(a, "get_fontfamily"))
    assert {t.get_text(): t.get_fontfamily() for t in texts}["03005 垃圾箱 litter bin (1)"][0] == "DejaVu Sans"


def test_the_chinese_font_is_the_first_installed_of_the_list(monkeypatch):
    """Windows' Microsoft YaHei and macOS' PingFang count, not only Linux's Noto and
    WenQuanYi; the list's order decides, not the alphabet."""
    from matplotlib import font_manager

    from gridkit.preview import cjk_font

    def installed(*names):
        fonts = [font_manager.FontEntry(fname=f"/fonts/{n}.ttf", name=n) for n in names]
        monkeypatch.setattr(font_manager.fontManager, "ttflist", fonts)

    installed("DejaVu Sans", "Arial")
    assert cjk_font() is None
    installed("DejaVu Sans", "SimSun", "Microsoft YaHei")
    assert cjk_font() == "Microsoft YaHei"
    installed("Arial Unicode MS", "PingFang SC", "Heiti TC")
    assert cjk_font() == "PingFang SC"


def test_regions_far_apart_are_drawn_a_panel_each_west_to_east(tmp_path):
    """Beijing's Dongcheng and Zhoushan's Shengsi in one package lie 1,000 km apart:
    one frame around both drew two specks on a white page. Counties far apart get a
    panel each, west to east, titled by county, framed on their own cells, with one
    legend in the widest; counties side by side stay one frame. So do the maps of
    counts and of patrol coverage. The figure is cut to the panels' height."""
    from gridkit.preview import plot_counts

    def county(code, x0, y0, n=3, wide=1):
        xs, ys = np.meshgrid(np.arange(n * wide) * 100.0 + x0, np.arange(n) * 100.0 + y0)
        return gpd.GeoDataFrame({"county_code": code, "county_name": f"c{code}", "community_code": code + "001001",
                                 "flag": ["too_few"] + [""] * (n * n * wide - 1)},
                                geometry=boxes(xs.ravel(), ys.ravel(), xs.ravel() + 100, ys.ravel() + 100), crs=4548)

    def drawn(*parts):
        cells = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4548)
        cells["grid_id"] = [f"{i:015d}" for i in range(len(cells))]
        return cells, plot_layout(cells, path=tmp_path / "p.png", labels=2)

    cells, fig = drawn(county("330922", 600_000, 3_400_000, wide=2), county("110101", 190_000, 4_420_000, n=4))
    assert len(fig.axes) == 2
    west, east = fig.axes
    assert (west.get_title(), east.get_title()) == ("110101 c110101", "330922 c330922")
    assert west.get_xlim() == pytest.approx((190_000 - 8, 190_400 + 8))
    assert east.get_xlim() == pytest.approx((600_000 - 12, 600_600 + 12))
    assert fig.get_suptitle() == "34 cells in 2 communities · mean 10,000 m²"
    assert [ax.get_legend() is not None for ax in fig.axes] == [False, True]
    assert east.get_legend().get_texts()[0].get_text() == "out of the band: 2 too_few"
    assert (tmp_path / "p.png").stat().st_size > 0
    # Cut to the panels: no white band above the title, nor between the panels and the CRS under them (was 20 and
    # 29 pixels; 53 and 61 for a wider panel)
    for wide in (2, 6):
        _, fig = drawn(county("330922", 600_000, 3_400_000, wide=wide), county("110101", 190_000, 4_420_000, n=4))
        fig.draw_without_rendering()
        height = fig.get_figheight() * fig.dpi
        assert height - fig.get_tightbbox().y1 * fig.dpi < 14, wide
        assert min(ax.get_tightbbox().y0 for ax in fig.axes) - fig._supxlabel.get_window_extent().y1 < 22, wide
    counted = plot_counts(cells.assign(points=np.arange(len(cells)) % 3))
    assert [ax.get_title() for ax in counted.axes] == ["110101 c110101", "330922 c330922"]
    assert counted.get_suptitle() == "33 points in 22 of 34 cells"
    assert counted.axes[1].get_xlim() == east.get_xlim() and counted.axes[1].get_legend() is not None
    _, beside = drawn(county("110101", 0, 0), county("110102", 400, 0))  # 100 m apart
    assert len(beside.axes) == 1 and beside.axes[0].get_title().startswith("18 cells in 2 communities")
    lost = county("330921", 600_000, 3_300_000).assign(geometry=None)  # a county's cells all without geometry
    cells = gpd.GeoDataFrame(pd.concat([cells, lost], ignore_index=True), crs=4548).assign(grid_id="1")
    assert len(plot_layout(cells, labels=0).axes) == 1


def test_plot_layout_and_plot_counts_name_a_frame_they_cannot_draw():
    """Point cells were an IndexError from the drawing ("boolean index did not
    match"), cells without grid_id a KeyError, counts without their column
    KeyError 'points'. Each is named now."""
    from gridkit.preview import plot_counts

    cells = gpd.GeoDataFrame({"community_code": ["a", "a"], "grid_id": ["1", "2"]},
                             geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4548)
    with pytest.raises(InputError, match=r"^2 of the cells are no polygon: the first \(row 1\) is a Point"):
        plot_layout(cells.assign(geometry=cells.centroid))
    with pytest.raises(InputError, match=r"^the cells have no column 'grid_id'; their columns are: community_code; "
                                         r"read them with gridkit\.read_package\(\)$"):
        plot_layout(cells.drop(columns="grid_id"))
    with pytest.raises(InputError, match=r"^the cells have no column 'points'; .*gridkit\.counts\.cell_counts\(\) "
                                         r"counts the points in each cell$"):
        plot_counts(cells)
    assert len(plot_counts(cells.assign(points=[0, 3])).axes) >= 1
