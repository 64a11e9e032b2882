"""A map picture of a layout: what a planner looks at before accepting it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import atomic_path

__all__ = ["plot_layout"]


def plot_layout(cells, units=None, path=None, *, labels: int = 12, title=None, overwrite=True,
                colour_by: str = "community_code", components=None):
    """Draw cells coloured by community, unit boundaries on top, a few labels.

    Grids with a ``flag`` (household grids out of the band) are hatched in red, with
    a legend counting them by flag. ``components`` (a catalogue frame) are drawn as
    dots coloured by class, with removed ones left out and a legend of class code
    and name.

    Returns the matplotlib figure; with ``path``, also writes a PNG atomically.
    """
    # A bare Figure, not pyplot: no GUI backend is touched (the CLI runs headless),
    # and in a notebook the returned figure displays itself.
    from matplotlib import colormaps, font_manager, rcParams
    from matplotlib.figure import Figure

    cjk = [f.name for f in font_manager.fontManager.ttflist
           if any(k in f.name for k in ("Noto Sans CJK", "WenQuanYi", "SimHei", "Source Han"))]
    if cjk:
        rcParams["font.sans-serif"] = cjk[:1] + rcParams["font.sans-serif"]
    fig = Figure(figsize=(9, 9), dpi=110)
    ax = fig.subplots()
    comm = cells[colour_by].astype("category").cat.codes.to_numpy()
    colours = colormaps["tab20"](comm % 20)
    cells.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.15,
               alpha=0.3 if components is not None else 0.85)
    if units is not None and len(units):
        if "level" in units:  # communities thin, the levels above thick
            units[units["level"] == "community"].boundary.plot(ax=ax, color="0.2", linewidth=0.6)
            units = units[units["level"] != "community"]
        units.boundary.plot(ax=ax, color="black", linewidth=1.4)
    if labels and len(cells):
        step = max(1, len(cells) // labels)
        sample = cells.iloc[np.arange(0, len(cells), step)[:labels]]
        for pt, gid in zip(sample.geometry.representative_point(), sample["grid_id"]):
            ax.annotate(gid, (pt.x, pt.y), fontsize=6, ha="center",
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", alpha=0.7, lw=0))
    if components is not None and len(components):
        _plot_components(ax, components, chinese=bool(cjk))
    if "flag" in cells and (cells["flag"] != "").any():
        _plot_flagged(ax, cells[cells["flag"] != ""])
    s = cells.attrs.get("summary", {})
    area = cells["area_m2"] if "area_m2" in cells else cells.area
    noun = "grids" if "households" in cells else "cells"  # household grids, or unit cells
    units = cells["community_code"].nunique()
    ax.set_title(title or f"{len(cells):,} {noun} in {units} {'community' if units == 1 else 'communities'} · "
                 f"mean {area.mean():,.0f} m²" + (f" · {s.get('merges', 0)} merges" if s else ""))
    ax.set_xlabel(f"x (m) — {cells.crs.name if cells.crs else ''}")
    ax.set_ylabel("y (m)")  # geopandas would label it from the CRS ("Northing [metre]"), unlike x
    ax.set_aspect("equal")
    ax.ticklabel_format(style="plain", useOffset=False)
    fig.tight_layout()
    if path is not None:
        with atomic_path(Path(path), overwrite=overwrite) as tmp:
            fig.savefig(tmp, format="png")
    return fig


def _plot_flagged(ax, flagged):
    """Grids out of the band hatched in red, a legend counting them by flag."""
    from matplotlib.patches import Patch

    style = dict(facecolor="none", edgecolor="red", hatch="////")
    flagged.plot(ax=ax, linewidth=1.0, **style)
    counts = flagged["flag"].value_counts()
    label = "out of the band: " + ", ".join(f"{n} {flag}" for flag, n in zip(counts.index, counts.to_numpy()))
    ax.legend(handles=[Patch(label=label, **style)], loc="lower left", fontsize=7, framealpha=0.85)


def _plot_components(ax, components, *, chinese):
    from matplotlib import colormaps

    from .classes import class_table

    live = components[components["GLBJZT"] != "移除"]
    palette = colormaps["Set1"]
    for k, (code, group) in enumerate(live.groupby("class_code")):
        name = group["class_name"].iloc[0]
        known = class_table("2026" if len(code) == 5 else "legacy").classes.get(code)
        english = known.name_en if known else ""  # local classes have no English gloss
        ax.scatter(group.geometry.x, group.geometry.y, s=3, color=palette(k % 9), zorder=3,
                   label=f"{code} {name if chinese else ''} {english} ({len(group):,})")
    ax.legend(loc="lower left", fontsize=7, markerscale=3, framealpha=0.85)
