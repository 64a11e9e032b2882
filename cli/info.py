"""``gridkit info``: what a grid package holds and how it was made."""

from __future__ import annotations


import click

from .options import FilePath, added_text, json_text

#: Components' classes shown by name before "… and N more".
SHOWN_CLASSES = 5


@click.command("info")
@click.argument("package", type=FilePath(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print it as one JSON object (for scripts), not as lines.")
def info_command(package, as_json):
    """What PACKAGE holds and how it was made, like ogrinfo for a grid package.

    The layout (unit grids or household grids and their band), when and by which
    gridkit it was made and from what (the files and options on record), its CRS
    and extent, the units by level, the cells (count, area, and for household
    grids the households, how many grids are in the band, the flags), micro-grids,
    components by class, grids ended by rebalances and recuts, what you added to it (layers,
    tables, QGIS styles and projects, which a new layout written over it or a
    rebalance carries along), and every layer's feature count. It reads
    attributes only, so it is quick on millions of cells; the figures are the
    columns as gridkit wrote them (after editing by hand, `gridkit check` checks
    the geometry and `gridkit grid rebalance` recounts); cells naming a
    community whose row was deleted from the units are counted.

    \b
    Examples:
      gridkit info demo-output/cincinnati.gpkg
      gridkit info demo-output/cambridge.gpkg --json
    """
    from pathlib import Path

    from gridkit.errors import GridkitError
    from gridkit.package import describe_package

    try:
        info = describe_package(package)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json_text(info))
        return
    click.echo(f"{Path(package).name}  {_layout(info)}")
    for label, text in _lines(info):
        click.echo(f"{label:<12} {text}")


def _layout(info):
    """The kind of layout, with its bands."""
    p, s = info["parameters"], info["summary"]
    if info["layout"] == "adopted grids":
        return "adopted grids (drawn elsewhere)"
    if info["layout"] == "unit grids":
        shape = {"hex": "hexagonal", "h3": "H3"}.get(p.get("shape") or s.get("shape"), "square")
        area = p.get("cell_area") or s.get("cell_area")
        return f"unit grids ({shape} cells" + (f" of ~{area:,.0f} m²)" if area else ")")
    text = f"household grids, band {_band(p['band'])}"
    return text + (f", micro-grids {_band(p['micro'])}" if p.get("micro") else "")


def _lines(info):
    """(label, text) for each line after the first."""
    p = info["parameters"]
    created = (info.get("created") or "?").replace("T", " ").replace("+00:00", " UTC")
    command = (f"grid recut of {p['recut_from']}" if p.get("recut_from") else
               "grid units" if info["layout"] == "unit grids" else
               f"grid adopt of {p['adopted']}" if info["layout"] == "adopted grids" else
               f"grid rebalance of {p['rebalanced_from']}" if p.get("rebalanced_from") else "grid households")
    yield "made", f"{created} by gridkit {info.get('gridkit_version') or '?'} ({command})"
    given = [f"{key} {_value(value)}" for key, value in sorted(p.items())
             if key not in ("band", "micro", "rebalanced_from", "recut_from", "adopted")
             and value not in (None, False, "", [], "None")]
    yield "parameters", "; ".join(given) or "none on record"
    yield "crs", f"{info['crs']} ({info['crs_name']})"
    if info.get("extent_lonlat"):
        w, s, e, n = info["extent_lonlat"]
        yield "extent", (f"{_degrees(w, 'E', 'W')}–{_degrees(e, 'E', 'W')}, "
                         f"{_degrees(s, 'N', 'S')}–{_degrees(n, 'N', 'S')}")
    yield "units", ", ".join(f"{n:,} {_plural(level, n)}" for level, n in info["units"].items()) or "none"
    cells = info["cells"]
    text = f"{cells['count']:,} {'grids' if 'band' in cells else 'cells'}"
    if "area_m2" in cells:
        a = cells["area_m2"]
        text += (f", {a['total'] / 1e6:,.2f} km² (per cell min {a['min']:,.0f}, mean {a['mean']:,.0f}, "
                 f"max {a['max']:,.0f} m²)")
    if cells.get("in_no_community"):
        text += f"; {cells['in_no_community']:,} name a community not among the units (gridkit check names them)"
    yield "cells", text + _in_band(cells)
    if "micro_grids" in info:
        m = info["micro_grids"]
        yield "micro-grids", f"{m['count']:,}" + (f" in {m['grids']:,} grids" if m.get("grids") is not None else "") + \
            _in_band(m)
    if "components" in info:
        c = info["components"]
        classes = list(c["classes"].items())
        text = f"{c['count']:,}: " + ", ".join(f"{name} {n:,}" for name, n in classes[:SHOWN_CLASSES])
        if len(classes) > SHOWN_CLASSES:
            text += f", … and {len(classes) - SHOWN_CLASSES} more classes"
        if c["assign_status"]:
            text += "; assigned " + ", ".join(f"{status} {n:,}" for status, n in c["assign_status"].items())
        if "in_micro_grids" in c:
            text += f"; {c['in_micro_grids']:,} in a micro-grid"
        yield "components", text
    if "ended" in info:
        e = info["ended"]
        parts = [f"{e[key]:,} {what}" for key, what in (("grids", "grids"), ("micro_grids", "micro-grids")) if key in e]
        yield "ended", " and ".join(parts) + " by rebalances and recuts" + (
            f", the last on {e['last_end_date']}" if e.get("last_end_date") else "")
    if "added_by_hand" in info:
        a = info["added_by_hand"]
        yield "added", added_text(a["layers"], a["tables"], a["projects"], a["styles"])
    yield "layers", ", ".join(f"{name} {n:,}" for name, n in info["layers"].items())


def _in_band(frame):
    """"; H households, N in band (P %), F flagged …" for a layer of household grids."""
    if "band" not in frame:
        return ""
    count = frame.get("count") or 0
    pct = 100 * frame["in_band"] / count if count else 0.0
    flags = frame["flags"]
    text = f"; {frame['households']:,} households, {frame['in_band']:,} in band {_band(frame['band'])} ({pct:.1f} %)"
    text += f", {sum(flags.values()):,} flagged"
    if flags:
        text += " (" + ", ".join(f"{n:,} {flag}" for flag, n in flags.items()) + ")"
    return text


def _band(band):
    low, high = band
    return f"{low:g}–{high:g}"


def _value(value):
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) if isinstance(value, list) else \
        str(value)


def _degrees(value, positive, negative):
    return f"{abs(value):.4f}°{positive if value >= 0 else negative}"


def _plural(level, n):
    if n == 1:
        return level
    return {"community": "communities", "county": "counties"}.get(level, level + "s")
