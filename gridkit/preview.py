"""A map picture of a layout: what a planner looks at before accepting it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import shapely

from .codes import rows_by_id
from .errors import InputError
from .io import atomic_path, require_frame, without_geometry

__all__ = ["PICTURE_FORMATS", "picture_format", "plot_layout"]

#: Fonts that draw Chinese, by the start of the name matplotlib gives them, the
#: first installed one taken: Linux's, then Windows' and macOS', sans-serif first.
CJK_FONTS = ("Noto Sans CJK", "Noto Sans SC", "Source Han Sans", "WenQuanYi", "Microsoft YaHei", "DengXian",
             "SimHei", "PingFang", "Hiragino Sans GB", "Heiti", "STHeiti", "Sarasa", "Droid Sans Fallback",
             "Arial Unicode MS", "Noto Serif CJK", "Source Han Serif", "SimSun", "Songti", "AR PL")

#: Chinese characters (and the CJK punctuation and full-width forms among them), with
#: the space before them: what a map drops from its texts when no font draws them.
_HAN = re.compile(r"\s*[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")

#: The formats a map picture is written in, by the file's suffix: PNG to look at,
#: SVG and PDF to print or edit (vector: the lines stay sharp at any size), JPEG.
PICTURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg"}


def picture_format(path) -> str:
    """The format a map picture at ``path`` is written in, from its suffix.

    >>> picture_format("dongcheng.PDF"), picture_format("a.jpg")
    ('pdf', 'jpeg')
    >>> picture_format("dongcheng.gif")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gridkit.errors.InputError: dongcheng.gif: a map picture is .png, .svg, .pdf, .jpg or .jpeg (an interactive ...
    """
    suffix = Path(path).suffix.lower()
    if suffix not in PICTURE_FORMATS:
        *first, last = PICTURE_FORMATS
        raise InputError(f"{path}: a map picture is {', '.join(first)} or {last} (an interactive map: "
                         "gridkit map --html)")
    return PICTURE_FORMATS[suffix]


def plot_layout(cells, units=None, path=None, *, labels: int = 12, title=None, overwrite=True,
                colour_by: str = "community_code", components=None, outlined=None, outlined_label="new grids",
                micro=None):
    """Draw cells coloured by community, unit boundaries on top, a few labels.

    Grids with a ``flag`` (household grids out of the band) are hatched in red, with
    a legend counting them by flag. ``micro`` (a household layout's micro-grids) are
    drawn as dashed outlines inside the grids, those with a ``flag`` (out of their
    band) hatched in orange, each counted in the legend. ``components`` (a catalogue frame) are drawn as
    dots coloured by class, with removed ones left out and a legend of class code
    and name. ``outlined`` (a boolean per cell) draws those cells' edges in black,
    counted in the legend as ``outlined_label`` (the grids a rebalance made).
    Counties far apart (Beijing's and Zhoushan's in one layout) are drawn a panel
    each, west to east (:func:`_regions`).

    Returns the matplotlib figure; with ``path``, also writes it atomically, in the
    format its suffix names (:data:`PICTURE_FORMATS`: .png, .svg, .pdf, .jpg).
    """
    picture = None if path is None else picture_format(path)  # a wrong suffix before the drawing
    require_frame(cells, "the cells", dict.fromkeys(("grid_id", "community_code", colour_by)), polygons=True,
                  fix="read them with gridkit.read_package()")
    for name, frame in (("units", units), ("micro-grids", micro), ("components", components)):
        if frame is not None:
            require_frame(frame, f"the {name}")
    if (cells.geometry.isna() | cells.geometry.is_empty).all():
        raise InputError("no cell to draw: the layout is empty")
    missing = without_geometry(cells, "cells", "a gap in the picture")
    # A bare Figure, not pyplot: no GUI backend is touched (the CLI runs headless),
    # and in a notebook the returned figure displays itself.
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    regions = _regions(cells)
    fig, axes = _panels(Figure, cells, regions)
    comm = cells[colour_by].astype("category").cat.codes.to_numpy()
    colours = colormaps["tab20"](comm % 20)
    if units is not None and len(units) and "level" in units:  # communities thin, the levels above thick
        units = (units[units["level"] == "community"], units[units["level"] != "community"])
    elif units is not None:
        units = (units.iloc[:0], units)
    named = ~np.asarray(missing) & cells["grid_id"].notna().to_numpy()  # edited by hand: either lost
    for ax, region in zip(axes, regions):
        shown = cells[region]
        # Cell outlines only where a cell spans a few pixels: finer, they would only grey
        # the picture over (the 800-pixel axes hold the region's longer side).
        minx, miny, maxx, maxy = shown.total_bounds
        cell_px = np.sqrt(shown.area.mean()) * 800 / max(maxx - minx, maxy - miny, 1e-9) if len(shown) else 0
        _fill(ax, shown.geometry.values, colours[region], edgecolor="white", linewidth=0.15 if cell_px >= 3 else 0,
              alpha=0.3 if components is not None else 0.85)
        for level, width in zip(units or (), (0.6, 1.4)):
            if len(level):
                level.boundary.plot(ax=ax, color="0.2" if width < 1 else "black", linewidth=width)
        labelled = cells[region & named] if labels else cells.iloc[:0]
        if len(labelled):
            step = max(1, len(labelled) // labels)
            sample = labelled.iloc[np.arange(0, len(labelled), step)[:labels]]
            for pt, gid in zip(sample.geometry.representative_point(), sample["grid_id"]):
                ax.annotate(gid, (pt.x, pt.y), fontsize=6, ha="center",
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", alpha=0.7, lw=0))
        handles = _overlays(ax, cells, components, micro, outlined, outlined_label)
        if handles and ax is _widest(axes):  # one legend: components, micro-grids, flags, outlines
            ax.legend(handles=handles, loc="lower left", fontsize=7, markerscale=3, framealpha=0.85)
    s = cells.attrs.get("summary", {})
    area = cells["area_m2"] if "area_m2" in cells else cells.area
    noun = "grids" if "households" in cells else "cells"  # household grids, or unit cells
    n_units = cells["community_code"].nunique()
    title = title or (f"{len(cells):,} {noun} in {n_units} {'community' if n_units == 1 else 'communities'} · "
                      f"mean {area.mean():,.0f} m²" + (f" · {s['merges']:,} merges" if "merges" in s else ""))
    return _framed(fig, *_titled(fig, axes, cells, regions, title), path, picture, overwrite)


def _titled(fig, axes, cells, regions, title):
    """``title`` over the one axes, or over the figure with each panel titled by its
    region's counties; ``(axes, cells of each)`` for :func:`_framed`."""
    if len(axes) == 1:
        axes[0].set_title(title)
    else:
        fig.suptitle(title)
        for ax, region in zip(axes, regions):
            ax.set_title(_counties(cells[region]), fontsize=9)
    return axes, [cells[region] for region in regions]


def _overlays(ax, cells, components, micro, outlined, outlined_label):
    """Components, micro-grids, grids out of the band and outlined grids drawn over
    the cells on ``ax``; their legend handles."""
    handles = []
    if components is not None and len(components):
        handles.extend(_plot_components(ax, components))
    if micro is not None and len(micro):
        handles.extend(_plot_micro(ax, micro.to_crs(cells.crs) if micro.crs != cells.crs else micro, cells))
    flags = cells["flag"].fillna("").astype(str) if "flag" in cells else None  # a Shapefile's empty text is None
    if flags is not None and (flags != "").any():
        handles.append(_plot_flagged(ax, cells[flags != ""].assign(flag=flags[flags != ""])))
    if outlined is not None and np.any(outlined):
        from matplotlib.lines import Line2D

        chosen = cells[np.asarray(outlined, dtype=bool)]
        chosen.boundary.plot(ax=ax, color="black", linewidth=1.6, zorder=2)
        handles.append(Line2D([], [], color="black", linewidth=1.6, label=f"{len(chosen)} {outlined_label}"))
    return handles


def _regions(cells, most=4):
    """Row masks of the parts of a layout that lie far apart, one map panel each, west
    to east: Beijing's Dongcheng and Zhoushan's Shengsi in one package are 1,000 km
    apart, and one frame around both drew two specks in a white page. Counties whose
    boxes lie within the larger one's size of each other stay together. One mask (all
    rows) when the layout is one region, when its regions would fill a quarter of the
    frame around them anyway, or when there would be more than ``most``."""
    everything = [np.ones(len(cells), dtype=bool)]
    if "county_code" not in cells or len(cells) < 2:
        return everything
    keys, county = np.unique(cells["county_code"].astype(str).to_numpy(), return_inverse=True)
    if len(keys) < 2:
        return everything
    import pandas as pd
    from scipy.sparse.csgraph import connected_components

    bounds = pd.DataFrame(shapely.bounds(cells.geometry.values)).groupby(county.ravel())
    x0, y0, x1, y1 = (bounds[0].min().to_numpy(), bounds[1].min().to_numpy(), bounds[2].max().to_numpy(),
                      bounds[3].max().to_numpy())
    if not np.isfinite([x0, y0, x1, y1]).all():  # a county whose cells all lost their geometry (edited by hand)
        return everything
    side = np.maximum(x1 - x0, y1 - y0)
    gap = np.maximum(np.maximum(x0[None, :] - x1[:, None], x0[:, None] - x1[None, :]),
                     np.maximum(y0[None, :] - y1[:, None], y0[:, None] - y1[None, :]))
    near = gap <= np.maximum(side[:, None], side[None, :])
    n, label = connected_components(near, directed=False)
    if n == 1 or n > most:
        return everything
    boxes = [(x0[label == k].min(), y0[label == k].min(), x1[label == k].max(), y1[label == k].max())
             for k in range(n)]
    fx0, fy0, fx1, fy1 = cells.total_bounds
    if sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) > 0.25 * (fx1 - fx0) * (fy1 - fy0):
        return everything
    west_to_east = sorted(range(n), key=lambda k: boxes[k][0])
    return [label[county.ravel()] == k for k in west_to_east]


def _panels(Figure, cells, regions):
    """A figure with one axes per region, side by side, each as wide as its region asks."""
    if len(regions) == 1:
        minx, miny, maxx, maxy = cells.total_bounds
        fig = Figure(figsize=_figsize(maxx - minx, maxy - miny), dpi=110)
        return fig, [fig.subplots()]
    ratios = []
    for region in regions:
        minx, miny, maxx, maxy = cells[region].total_bounds
        ratios.append(min(max((maxx - minx) / max(maxy - miny, 1e-9), 0.4), 2.5))
    width = min(14.0, max(9.0, 4.5 * len(regions)))
    height = min(max((width - 0.9 * len(regions)) / sum(ratios) + 1.5, 3.5), 9.0)
    fig = Figure(figsize=(width, height), dpi=110, layout="compressed")  # equal-aspect panels packed close
    return fig, list(fig.subplots(1, len(regions), width_ratios=ratios))


def _widest(axes):
    """The panel with the most room, for the legend."""
    return max(axes, key=lambda ax: ax.get_position().width)


def _counties(cells):
    """The counties of ``cells`` as a panel's title: code and name, three at most."""
    names = cells["county_name"].fillna("").astype(str) if "county_name" in cells else ""
    pairs = (cells["county_code"].astype(str) + " " + names).str.strip().drop_duplicates().tolist()
    return ", ".join(pairs[:3]) + (f" and {len(pairs) - 3} more" if len(pairs) > 3 else "")


def cjk_font():
    """The name of an installed font that draws Chinese (the first of
    :data:`CJK_FONTS` matplotlib knows), or None when there is none."""
    from matplotlib import font_manager

    names = sorted({f.name for f in font_manager.fontManager.ttflist})
    return next((name for start in CJK_FONTS for name in names if name.startswith(start)), None)


def _chinese_drawn(fig):
    """Texts of ``fig`` with Chinese in them (a community's name in a title) drawn
    in :func:`cjk_font`, falling back to the usual font for the rest; with no such
    font, written without their Chinese words, rather than as empty boxes."""
    from matplotlib.text import Text

    font = cjk_font()
    for text in fig.findobj(Text):
        said = text.get_text()
        if not _HAN.search(said):
            continue
        if font is None:
            text.set_text(_HAN.sub("", said).strip())
        else:  # on the text itself, so the figure draws the same once returned (a notebook shows it later)
            text.set_fontfamily([font, "sans-serif"])


def _framed(fig, axes, shown, path, picture, overwrite):
    """A map's axes (a panel each: :func:`_regions`) in metres around their cells
    (``shown``, a frame each), the figure written to ``path`` (atomically, in the
    format ``picture``) when one is given; returns ``fig``. Chinese texts get a
    font that draws them (:func:`_chinese_drawn`)."""
    from matplotlib.ticker import MaxNLocator

    _chinese_drawn(fig)
    crs = (shown[0].crs.name if shown[0].crs else "") if len(axes) > 1 else None
    if crs:  # once under the panels: a narrow one cannot hold it
        crs_label = fig.supxlabel(crs, fontsize=9)
    for ax, cells in zip(axes, shown):
        minx, miny, maxx, maxy = cells.total_bounds
        ax.set_xlabel("x (m)" if crs is not None else f"x (m) — {cells.crs.name if cells.crs else ''}")
        ax.set_ylabel("y (m)")  # geopandas would label it from the CRS ("Northing [metre]"), unlike x
        ax.set_aspect("equal")
        # The view is the cells': units reach beyond them when only some are drawn
        # (gridkit map --where: one community of a city-wide street or district).
        pad = 0.02 * max(maxx - minx, maxy - miny, 1.0)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        ax.ticklabel_format(style="plain", useOffset=False)
        # Seven-digit metre ticks take about an inch and a quarter each.
        width = fig.get_figwidth() * (ax.get_position().width if crs is not None else 1.0)
        ax.xaxis.set_major_locator(MaxNLocator(max(2, int(width * 0.7))))
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    elif crs:
        _without_white_bands(fig, axes, crs_label)
    if path is not None:
        with atomic_path(Path(path), overwrite=overwrite) as tmp:
            fig.savefig(tmp, format=picture)
    return fig


def _without_white_bands(fig, axes, bottom, margin=12):
    """The figure of panels cut to their height. Panels of equal aspect side by side
    fill its width, and :func:`_panels` only estimates the height that leaves them:
    the rest was white bands above the title and above ``bottom`` (the text under
    the panels), 90 of 428 pixels for Dongcheng beside Shengsi. Cut down to
    ``margin`` pixels each, the panels keep their size."""
    fig.draw_without_rendering()  # lays the panels out (about 0.2 s: every text is measured)
    height = fig.get_figheight() * fig.dpi
    lowest = min(ax.get_tightbbox().y0 for ax in axes)
    spare = (lowest - bottom.get_window_extent().y1 - margin) + (height - fig.get_tightbbox().y1 * fig.dpi - margin)
    if spare > 1:
        fig.set_figheight((height - spare) / fig.dpi)


def _figsize(width, height, side=9.0):
    """Inches for a map of ``width`` × ``height``: the longer side ``side`` inches, the
    shorter as the layout asks, plus room for the title and the axis labels, so a
    wide district is not drawn in a square of white. A tall one keeps at least 7
    inches of width: the title and the x ticks need them.

    >>> _figsize(8000, 6000), _figsize(6500, 12000)
    ((9.0, 6.97), (7.0, 9.0))
    """
    ratio = min(width, height) / max(width, height, 1e-9)
    if width >= height:
        return side, round(max(ratio, 0.5) * (side - 0.9) + 0.9, 2)
    return round(max(ratio * (side - 1.2) + 1.2, 7.0), 2), side


def _fill(ax, polygons, colours, **style):
    """Polygons filled with ``colours`` (RGBA rows), as one compound path per colour.

    geopandas' ``plot`` makes a matplotlib patch per polygon: about 75 µs each in
    Python, so 215,000 cells (Shenzhen's ten districts) took 16 s to draw, and
    Beijing's 1.6 million would take minutes. The paths here are built from
    shapely's coordinate arrays in numpy: the same picture (rings oriented so
    that holes stay empty) in a fraction of the time.
    """
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as MplPath

    parts, owner = shapely.get_parts(polygons, return_index=True)
    parts = _oriented(parts)
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    starts = np.r_[True, vertex_ring[1:] != vertex_ring[:-1]]
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[starts] = MplPath.MOVETO
    codes[np.r_[starts[1:], True]] = MplPath.CLOSEPOLY
    palette, colour = np.unique(np.asarray(colours), axis=0, return_inverse=True)
    colour = colour.ravel()[owner[ring_owner[vertex_ring]]]
    order = np.argsort(colour, kind="stable")  # each ring's vertices stay in order
    bounds = np.searchsorted(colour[order], np.arange(len(palette) + 1))
    paths = [MplPath(xy[order[a:b]], codes[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]
    ax.add_collection(PathCollection(paths, facecolors=palette, **style))
    ax.autoscale_view()


def _oriented(polygons):
    """Exteriors counter-clockwise, holes clockwise (matplotlib fills by winding)."""
    orient = getattr(shapely, "orient_polygons", None)  # shapely ≥ 2.1
    if orient is not None:
        return orient(polygons)
    from shapely.geometry.polygon import orient as orient_one

    return np.array([orient_one(p) for p in polygons], dtype=object)


def _plot_flagged(ax, flagged, *, colour="red", what="out of the band", hatch="////"):
    """Grids out of the band hatched in red; the legend entry counting them by flag."""
    from matplotlib.patches import Patch

    style = dict(facecolor="none", edgecolor=colour, hatch=hatch)
    flagged.plot(ax=ax, linewidth=1.0, **style)
    counts = flagged["flag"].value_counts()
    label = f"{what}: " + ", ".join(f"{n} {flag}" for flag, n in zip(counts.index, counts.to_numpy()))
    return Patch(label=label, **style)


def _plot_micro(ax, micro, cells):
    """Micro-grids as dashed lines where they divide a grid (a grid's own edge stays
    as the fills draw it), those out of their band hatched in orange; the legend
    entries."""
    import geopandas as gpd
    from matplotlib.lines import Line2D

    style = dict(color="0.15", linewidth=0.5, linestyle=(0, (3, 2)))
    lines = micro.boundary.values
    if "grid_id" in micro and "grid_id" in cells:
        # Less each grid's edge (within 0.5 m: the two layers are drawn separately,
        # so their vertices may differ by a hair).
        parent = rows_by_id(micro["grid_id"].astype(str), cells["grid_id"].astype(str))
        known = parent >= 0
        edges = shapely.buffer(shapely.boundary(cells.geometry.values), 0.5)
        lines = np.array(lines, dtype=object)
        lines[known] = shapely.difference(lines[known], edges[parent[known]])
    # Each divider once (it bounds the micro-grids on both sides): drawn twice, the
    # two dash patterns need not line up and the line reads as solid.
    lines = [shapely.line_merge(shapely.union_all(lines))]
    gpd.GeoSeries(lines, crs=micro.crs).plot(ax=ax, zorder=2, **style)
    handles = [Line2D([], [], label=f"{len(micro):,} micro-grids", **style)]
    flags = micro["flag"].fillna("").astype(str) if "flag" in micro else None
    if flags is not None and (flags != "").any():
        out = micro[flags != ""].assign(flag=flags[flags != ""])
        handles.append(_plot_flagged(ax, out, colour="darkorange", what="micro-grids out of their band",
                                     hatch="\\\\"))
    return handles


def _plot_components(ax, components):
    """Dots coloured by class, removed components left out; their legend handles
    (code, Chinese name, English name, count)."""
    from matplotlib import colormaps

    from .classes import class_table

    live = components[components["GLBJZT"] != "移除"]
    palette = colormaps["Set1"]
    handles = []
    for k, (code, group) in enumerate(live.groupby("class_code")):
        name = group["class_name"].iloc[0]
        known = class_table("2026" if len(code) == 5 else "legacy").classes.get(code)
        english = known.name_en if known else ""  # local classes have no English gloss
        handles.append(ax.scatter(group.geometry.x, group.geometry.y, s=3, color=palette(k % 9), zorder=3,
                                  label=" ".join(w for w in (code, name, english,
                                                              f"({len(group):,})") if w)))
    return handles


#: Classes of the patrol map: minutes in a cell (or metres, for tracks with no times).
PATROL_CLASSES = {"minutes": (1, 5, 15, 30), "metres": (50, 200, 500, 1000)}


def plot_coverage(cells, tracks=None, path=None, *, title=None, where=None, overwrite=True):
    """Draw patrol coverage (:func:`gridkit.patrol.coverage_cells`): cells no track
    ran in grey, the others in five classes of minutes (of metres, for tracks with
    no times: :data:`PATROL_CLASSES`), and ``tracks`` (:func:`gridkit.patrol.track_lines`)
    on top; ``where`` (the units the coverage was kept to) begins the title. Returns
    the figure; with ``path``, also writes it atomically."""
    from matplotlib.lines import Line2D

    picture = None if path is None else picture_format(path)
    made = "gridkit.patrol.coverage_cells() makes them"
    require_frame(cells, "the cells", polygons=True, fix=made)
    require_frame(cells, "the cells", ("patrolled", "minutes" if "minutes" in cells else "metres"), fix=made)
    if not len(cells):
        raise InputError("no cell to draw: the coverage is empty")
    measure = "minutes" if "minutes" in cells and cells["minutes"].notna().any() and cells["minutes"].sum() > 0 \
        else "metres"
    breaks = PATROL_CLASSES[measure]
    values = cells[measure].fillna(0).to_numpy(dtype=float)
    patrolled = cells["patrolled"].to_numpy(dtype=bool)
    unit = "min" if measure == "minutes" else "m"
    edges = (0, *breaks)
    labels = [f"{low:g}–{high:g} {unit}" for low, high in zip(edges, breaks)] + [f"≥ {breaks[-1]:g} {unit}"]
    share = patrolled.mean() * 100
    fig, axes, regions, handles = _classed(cells, np.searchsorted(breaks, values, side="right"), patrolled, labels,
                                           "not patrolled")
    if tracks is not None and len(tracks):
        walked = tracks.to_crs(cells.crs)  # once, drawn on every panel
        for ax in axes:
            walked.plot(ax=ax, color="black", linewidth=0.5, alpha=0.7)
        handles.append(Line2D([], [], color="black", linewidth=0.8, label=f"{len(tracks):,} tracks walked"))
    _widest(axes).legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.85)
    title = title or (f"{where}: " if where else "") + f"{patrolled.sum():,} of {len(cells):,} cells patrolled " \
        f"({share:.0f} %)"
    return _framed(fig, *_titled(fig, axes, cells, regions, title), path, picture, overwrite)


def count_classes(counts):
    """Classes for a map of counts per cell: ``(class of each count, labels)``,
    up to five classes of the cells that hold any, split at the quintiles of their
    counts (0 is class 0 too: the caller greys it out).

    >>> count_classes([0, 1, 1, 2, 3, 5, 8, 13, 40])
    (array([0, 0, 0, 0, 1, 2, 2, 3, 4]), ['1–2', '3', '4–8', '9–13', '≥ 14'])
    >>> count_classes([0, 4, 4])[1]
    ['4']
    """
    counts = np.asarray(counts, dtype=np.int64)
    held = counts[counts > 0]
    if not len(held):
        return np.zeros(len(counts), dtype=np.int64), []
    uppers = np.unique(np.quantile(held, [0.2, 0.4, 0.6, 0.8], method="higher"))
    uppers = uppers[uppers < held.max()]
    lows = np.r_[held.min(), uppers + 1]
    highs = np.r_[uppers, held.max()]
    labels = [f"{low:,}" if low == high else f"{low:,}–{high:,}" for low, high in zip(lows, highs)]
    if len(uppers):
        labels[-1] = f"≥ {lows[-1]:,}"
    return np.searchsorted(uppers, counts, side="left"), labels


def plot_counts(cells, path=None, *, column="points", what="points", per="cell", title=None, where=None,
                overwrite=True):
    """Draw ``cells`` (:func:`gridkit.counts.cell_counts`, or the communities,
    streets or districts of :func:`gridkit.counts.unit_counts` with ``per``) shaded
    by ``column``, how many points each holds: those with none in grey, the others
    in up to five classes (:func:`count_classes`). Communities, streets or
    districts (up to 100) are each written with their name and count; ``where``
    (the units counted) begins the title. Returns the figure; with ``path``, also
    writes it atomically."""
    from .counts import LEVELS

    picture = None if path is None else picture_format(path)
    require_frame(cells, "the cells", (column,), polygons=True,
                  fix="gridkit.counts.cell_counts() counts the points in each cell")
    if not len(cells):
        raise InputError("no cell to draw: the layout is empty")
    counts = cells[column].to_numpy(dtype=np.int64)
    klass, labels = count_classes(counts)
    held = counts > 0
    fig, axes, regions, handles = _classed(cells, klass, held, labels, f"no {what}")
    _widest(axes).legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.85, title=f"{what} per {per}",
                         title_fontsize=7)
    title = title or (f"{where}: " if where else "") + \
        f"{counts.sum():,} {what} in {held.sum():,} of {len(cells):,} {LEVELS[per][2]}"
    if per != "cell" and len(cells) <= 100:  # communities, streets: few and large enough to write each one's count
        name = LEVELS[per][1]
        names = cells[name].fillna("").astype(str).str.strip() if name in cells else [""] * len(cells)
        points = cells.geometry.representative_point()
        for ax, region in zip(axes, regions):
            for point, count, named in zip(points[region], counts[region], np.asarray(names)[region]):
                ax.annotate(f"{named}\n{count:,}" if named else f"{count:,}", (point.x, point.y), ha="center",
                            va="center", fontsize=7,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", alpha=0.6, lw=0))
    return _framed(fig, *_titled(fig, axes, cells, regions, title), path, picture, overwrite)


def _classed(cells, klass, active, labels, none_label):
    """A figure of ``cells`` filled by class: ``active`` cells in YlOrRd by
    ``klass`` (an index into ``labels``), the others light grey, a panel per region
    (:func:`_regions`). Returns ``(fig, axes, regions, legend handles)``, each
    handle counting its cells."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    grey = np.array([0.9, 0.9, 0.9, 1.0])
    palette = colormaps["YlOrRd"](np.linspace(0.2, 0.95, max(len(labels), 2)))[-len(labels):] if labels \
        else np.empty((0, 4))
    colours = np.where(active[:, None], palette[np.minimum(klass, max(len(labels) - 1, 0))] if labels else grey, grey)
    regions = _regions(cells)
    fig, axes = _panels(Figure, cells, regions)
    for ax, region in zip(axes, regions):
        _fill(ax, cells.geometry.values[region], colours[region], edgecolor="white", linewidth=0.2)
    handles = [Patch(facecolor=grey, label=f"{none_label} ({(~active).sum():,})")]
    handles += [Patch(facecolor=colour, label=f"{label} ({int((active & (klass == k)).sum()):,})")
                for k, (colour, label) in enumerate(zip(palette, labels))]
    return fig, axes, regions, handles
