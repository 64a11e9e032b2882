"""``gridkit locate`` and ``gridkit route …``: from points to cells and departments."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from .options import (FilePath, Number, Steps, crs_opt, degrees_opt, echo_summary, grid_crs_opt, grid_layer_opt,
                      id_field_opt, json_text, names_read, near_line, nmea_line, overwrite_opt, picture_path,
                      progress_enabled, refuse_existing, require_with, text_encoding_opt, within, x_field_opt,
                      y_field_opt)


def _routes(path):
    if path is None:
        return None
    from gridkit.routing import RoutingTable

    return RoutingTable.load(path).checked()


def _misread(locator, x, y, crs, degrees):
    """How a point --at outside the layout (read from the form ``degrees``) would be
    in it: "" when no way is known."""
    from gridkit.coords import DEGREE_FORMS

    misread = locator.misread(x, y, crs, degrees=degrees)
    if misread.endswith("_swapped"):
        return f"; swapped, --at {y},{x} is in it"
    if misread == "degrees_in_projected_crs":
        return "; as longitude/latitude (--crs EPSG:4326) it is in it"
    if misread == "zone_prefix":
        from gridkit.coords import zone_twin

        twin = zone_twin(crs)
        return f"; read in --crs EPSG:{twin.to_epsg()} ({twin.name}) it is in it"
    if misread == "baidu_mercator":
        return "; read as Baidu's metres (--crs bd09mc) it is in it"
    if misread == "zero_coordinates":
        return "; x or y is 0: a position never filled in, most likely"
    if misread == "decimal_degrees":
        return f"; as given, in decimal degrees, it is in it: leave out --degrees {degrees}"
    for form, found in locator.in_degree_forms([x], [y], crs):
        if found[0]:
            return f"; it is in the layout read as {DEGREE_FORMS[form]}: --degrees {form}"
    return ""


@click.command("locate")
@click.argument("points", type=FilePath(exists=True), required=False)
@click.option("--at", "at", default=None, metavar="X,Y",
              help="One point instead of POINTS (lon,lat with the default --crs EPSG:4326; a full-width "
                   "comma ， or a space separates them too, as copied, and \"(x, y)\", WKT POINT (x y), degrees "
                   "with hemispheres, 39°54'27\"N 116°24'38\"E as Google Maps copies a place or N39.9 E116.41, "
                   "and spaced as GPS units show them, N39 54.052 E116 24.733, are read): print its cell, "
                   "community, street, district and, with --routes --class, department. Lon/lat in China given "
                   "with no --crs get a hint naming the cell they are in read as GCJ-02 (copied from Amap) or BD-09 "
                   "(Baidu) where that differs. Exit status 1 when it is outside the layout (with a hint when "
                   "lat,lon, or lon/lat read as EPSG:4326, would be inside), 2 when it cannot be lon/lat (latitude "
                   "116).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the answer (--at) or the summary (POINTS: rows, located, rejected by reason, inside, "
                   "nearest, outside, routed, the files) as one JSON object, for scripts.")
@click.option("--grid", "package", required=True, type=FilePath(exists=True, dir_okay=False),
              help="The grid package (.gpkg), or any polygon file of cells (see --id-field): an export's "
                   ".shp, .geojson, .parquet, or .csv/.xlsx of WKT. Its index is "
                   "kept beside it as GRID.gpkg.locator and reused while the file is unchanged.")
@click.option("-o", "--output", default=None, type=FilePath(dir_okay=False),
              help="Output: .csv (input columns + results; their CRS, when said, in a .prj beside it), .xlsx "
                   "(the same; codes as text cells), "
                   ".gpkg / .geojson / .parquet / .shp (WGS84 points; a .gpkg opens in QGIS styled by gk_status; "
                   "a .shp has 10-character names: gk_comm_cd …). Required with POINTS, unless --counts or --map "
                   "is all you want.")
@click.option("--routes", type=FilePath(exists=True, dir_okay=False), default=None,
              help="Routing table (TOML; `gridkit route starter` writes one) to add the responsible department; "
                   "one with errors (`gridkit route check`) is refused.")
@click.option("--class-field", default=None,
              help="Column with the class of each point (5-digit class, 11-digit matter code, component ID, "
                   "legacy class, or a class's name: 路灯, 暴露垃圾), by which it is routed: --routes needs it (or "
                   "--class), and it needs --routes.")
@click.option("--class", "class_code", default=None, metavar="CODE",
              help="Instead of --class-field, one class for every point (a file of one kind: --class 01037 for "
                   "street lights); needs --routes.")
@click.option("--events", is_flag=True, help="The class column holds legacy CJ/T 214 event classes.")
@crs_opt("--crs", help="What the coordinates are: EPSG:4326 (GPS), EPSG:4490 (CGCS2000), gcj02 (Amap, Tencent), "
                       "bd09 (Baidu; bd09mc for its metres), or the layout's EPSG code. CSV lon/lat columns default to "
                       "EPSG:4326 (a hint says when, read as gcj02, they would lie in other cells); a file that "
                       "records its CRS (GeoPackage, GeoParquet, also with --dask; a CSV with a .prj, as gridkit "
                       "export writes one) is read in its own.")
@click.option("--layer", default=None,
              help="Layer of a multi-layer input, or sheet of an Excel workbook (default: the first, "
                   "or the only sheet naming coordinate columns).")
@grid_layer_opt
@id_field_opt
@grid_crs_opt
@x_field_opt
@y_field_opt
@degrees_opt
@text_encoding_opt
@click.option("--tolerance", default=0.0, show_default=True, type=Number(min=0, infinite=True),
              help="Metres: points this close outside the layout get the nearest cell (status 'nearest').")
@click.option("--near-edge", default=None, type=Number(min=0, infinite=True), metavar="M",
              help="Metres: also name the nearest other cell within M m of each point (gk_near_grid_id, "
                   "gk_near_m) and what lies between (gk_near_across: cell, community, street, district). A "
                   "position good to ±M m could lie in it: a GPS fix (±10 m), a component surveyed to accuracy "
                   "class A, B or C (±0.5, 1, 10 m). The summary counts them: the cases a boundary may bounce "
                   "between communities or streets.")
@click.option("--counts", default=None, type=FilePath(dir_okay=False), metavar="FILE",
              help="Also count the points per cell, as QGIS's Count points in polygon does: every cell of the "
                   "layout with its codes and names, points (those inside it or nearest it), per_km2 and, with "
                   "--counts-by, a count per value. .gpkg (layer counts, for QGIS), .geojson, .csv or .xlsx.")
@click.option("--counts-by", default=None, metavar="COLUMN",
              help="With --counts: also count each cell's points by this column (matter_code, "
                   "gk_department_name): a column per value, the 12 most common, the rest in other. A column "
                   "of dates (受理时间: 2026-11-03 09:12, 2026年11月3日) counts per month: the latest 12, in order.")
@click.option("--counts-per", type=click.Choice(["cell", "community", "street", "district"]), default="cell",
              show_default=True,
              help="With --counts or --map: add the points up per community, street or district instead (the "
                   "monthly table of cases per community): one row each with its cells, cells_with_points, "
                   "points, per_km2 and the --counts-by columns, and the union of its cells.")
@click.option("--unit", "units", multiple=True, metavar="CODE|NAME",
              help="With --counts or --map: count only this community's, street's or district's cells (its code "
                   "or name, as in the package; repeat it for more): one street's cases out of the district's. "
                   "The summary says how many points lie in the other cells.")
@click.option("--map", "picture", default=None, type=FilePath(dir_okay=False), callback=picture_path,
              help="Also draw the points per cell: the cells shaded by how many each holds, in up to five classes "
                   "(.png, .svg, .pdf or .jpg).")
@click.option("--dask", "use_dask", is_flag=True,
              help="Run on dask: POINTS is (partitioned) Parquet; a local cluster unless --scheduler.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Address of a running dask scheduler (tcp://host:8786); implies --dask.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Worker processes of the local dask cluster.")
@overwrite_opt
def locate_command(points, at, as_json, package, output, routes, class_field, class_code, events, crs, layer,
                   grid_layer, id_field, grid_crs, x_field, y_field, degrees, encoding, tolerance, near_edge, counts,
                   counts_by, counts_per, units, picture, use_dask, scheduler, workers, overwrite):
    """Find the cell, community, street and district of every point in POINTS
    (or of one point, --at X,Y).

    POINTS is CSV or a workbook, .xlsx, .xls or .ods (lon/lat or x/y columns), GeoJSON, GeoPackage,
    Shapefile (zipped too), KML/KMZ, GPX (its waypoints; --layer track_points for a
    patrol's track), GeoParquet, plain Parquet (lon/lat columns; a file, or the folder
    of parts that Spark's or dask's to_parquet writes, however named) or a GPS
    receiver's NMEA log (.nmea: a row per fix). Each row gets gk_grid_id
    (and gk_micro_id when the package has micro-grids), the gk_ area codes and names,
    gk_status (inside / nearest / outside), gk_distance_m and, with --routes and
    --class-field (or --class), gk_department_code and gk_department_name. Rows whose
    coordinates or class cannot be used (blank, not lon/lat, x and y swapped)
    go to OUTPUT.rejects.csv with the reason and the bad value; the summary adds up
    to the input rows.

    \b
    --counts and --map add up the points per cell: how many reports (or cases,
    components) each cell holds, as a table and a map; --counts-per community
    adds them up per community (street, district); --unit keeps them to one
    community's (street's, district's) cells.

    \b
    Edge rule: a point on a shared edge belongs to the cell east of it (north of
    it on an east–west edge).

    \b
    Examples:
      gridkit locate data/samples/dongcheng_reports.csv --crs gcj02 \\
          --grid demo-output/dongcheng.gpkg -o located.csv
      gridkit locate data/samples/dongcheng_reports.csv --crs gcj02 \\
          --grid demo-output/dongcheng.gpkg --routes routing.toml \\
          --class-field matter_code --tolerance 25 -o located.parquet
      gridkit locate data/samples/TRAFFIC_Signals.geojson --grid demo-output/cambridge.gpkg \\
          --routes routing.toml --class 02014 -o signals.csv
      gridkit locate data/samples/dongcheng_reports.csv --crs gcj02 \\
          --grid demo-output/dongcheng.gpkg -o located.csv --overwrite \\
          --counts counts.gpkg --counts-by matter_code --map counts.png
      gridkit locate data/samples/TRAFFIC_Signals.geojson --grid demo-output/cambridge.gpkg \\
          --counts signals_per_community.csv --counts-per community
      gridkit locate located.parquet --grid demo-output/dongcheng.gpkg --dask \\
          -o relocated.parquet
      gridkit locate --at 116.4105,39.9289 --crs gcj02 --grid demo-output/dongcheng.gpkg
    """
    from gridkit.batch import REJECT_REASONS, rejects_file
    from gridkit.classes import class_table
    from gridkit.errors import GridkitError

    t0 = time.perf_counter()
    if at is not None:
        grid = {"layer": grid_layer, "id_field": id_field, "crs": grid_crs}
        _locate_one(at, as_json, package, routes, class_field, class_code, events, crs, grid,
                    tolerance, degrees, near_edge, points=points, output=output,
                    batch_only=(layer, x_field, y_field, encoding, counts, counts_by, picture, use_dask, scheduler,
                                None if counts_per == "cell" else counts_per, units or None,
                                overwrite))
        return
    if points is None:
        raise click.UsageError("give POINTS (a file of points) or --at X,Y (one point)")
    if output is None and counts is None and picture is None:
        raise click.UsageError("POINTS needs -o/--output (the located file), or --counts or --map (the points per "
                               "cell alone)")
    require_with(events=("class_field", class_field or class_code), class_field=("routes", routes),
                 class_code=("routes", routes), workers=("use_dask", use_dask or scheduler))
    if counts_by is not None and counts is None:
        raise click.UsageError("--counts-by goes with --counts (the table of points per cell), which is not given")
    for said, given in (("--counts-per", counts_per != "cell"), ("--unit", units)):
        if given and counts is None and picture is None:
            raise click.UsageError(f"{said} goes with --counts or --map (the points per cell), neither of which is "
                                   "given")
    if class_field and class_code:
        raise click.UsageError("give --class-field (a column with each point's class) or --class (one class for "
                               "every point), not both")
    if (use_dask or scheduler) and (layer or encoding):
        raise click.UsageError(f"{'--layer' if layer else '--encoding'} is for a file read in one process: with "
                               "--dask, POINTS is (partitioned) Parquet, which has no layers and holds its text "
                               "as UTF-8")
    inputs = {"POINTS": points, "--grid": package}
    refuse_existing(output, counts, picture, overwrite=overwrite, inputs=inputs)
    beside = output or counts or picture  # the rejects go beside it, written anew each run
    refuse_existing(rejects_file(beside), overwrite=True, inputs=inputs)
    per_cell = {"counts": counts, "counts_by": counts_by, "counts_map": picture, "counts_per": counts_per,
                "counts_units": units or None}
    try:
        table = _routes(routes)
        if table is not None and class_field is None and class_code is None:
            raise click.UsageError("--routes needs --class-field (the column with each point's class) or --class "
                                   "(one class for every point)")
        kind = "event" if events else "component"
        if class_code is not None:
            try:
                table.class_keys(class_code, kind)
            except GridkitError as exc:
                raise click.BadParameter(str(exc), param_hint="--class") from None
        classes = {"class_field": class_field, "class_code": class_code}
        grid = {"grid_layer": grid_layer, "id_field": id_field, "grid_crs": grid_crs,
                "near_edge": near_edge}  # what each row is told
        read_as = {"crs": crs, "degrees": degrees}  # what the coordinates are
        if use_dask or scheduler:
            summary = _run_dask(points, package, output, table, classes, kind, read_as, x_field, y_field,
                                tolerance, scheduler, workers, overwrite, grid, per_cell)
        else:
            summary = _run_local(points, package, output, table, classes, kind, read_as, layer, x_field,
                                 y_field, encoding, tolerance, overwrite, grid, per_cell)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    seconds = time.perf_counter() - t0
    lines = [f"{points}: {summary['rows']:,} rows → {summary['located']:,} located, "
             f"{summary['rejected']:,} rejected ({seconds:.1f} s)"]
    if tolerance:
        lines.append(f"  {summary['inside']:,} inside a cell, {summary['nearest']:,} nearest {within(tolerance)}, "
                     f"{summary['outside']:,} outside the layout")
    else:
        lines.append(f"  {summary['inside']:,} inside a cell, {summary['outside']:,} outside the layout"
                     + (" (--tolerance M gives those within M metres the nearest cell)" if summary["outside"] else ""))
    if "routed" in summary:
        lines.append(f"  {summary['routed']:,} routed to a department")
    if "near_edge" in summary:
        lines.append(near_line(summary["near_edge"], near_edge, "gk_near_grid_id"))
    lines += [f"  {n:6,d} × {reason}: {REJECT_REASONS[reason]}" for reason, n in summary["rejected_by_reason"].items()]
    if summary.get("nmea_skipped"):
        lines.append(nmea_line(summary["nmea_skipped"]))
    if summary.get("offset_hint"):
        lines.append(f"  hint: {summary['offset_hint']}")
    if summary.get("classes_by_name"):
        lines.append(names_read(summary["classes_by_name"], class_table("2026").label))
    if "counts" in summary:
        lines += _counts_lines(summary["counts"])
    lines.append(f"  → {output}; rejects → {summary['rejects_file']}" if output
                 else f"  rejects → {summary['rejects_file']}")
    echo_summary(lines, {"input": str(points), "output": output and str(output), **summary,
                         "seconds": round(seconds, 3)}, as_json)


def _counts_lines(counts):
    """The summary's lines on the points per cell, community … (--counts, --map, --counts-per)."""
    from gridkit.counts import LEVELS

    c = counts
    lines = [f"  per cell: {c['points']:,} points in {c['cells_with_points']:,} of {c['cells']:,} cells "
             f"({c['cells_with_points'] / max(c['cells'], 1) * 100:.0f} %)"]
    if c.get("units"):
        lines[0] = lines[0].replace("per cell:", f"per cell of {', '.join(c['units']['units'])}:")
        lines.append(f"    {c['units']['points_elsewhere']:,} more in the layout's other cells, not counted")
    code, name, plural = LEVELS[c["per"]]
    if c["per"] != "cell":
        lines.append(f"  per {c['per']}: in {c[plural + '_with_points']:,} of {c[plural]:,} {plural}")
    if c.get("by_month"):
        m = c["by_month"]
        span = " … ".join(dict.fromkeys(m["months"][:1] + m["months"][-1:])) or "none"
        lines.append(f"    by month of {m['column']}: {span}, a column each"
                     + (f"; {m['other']:,} earlier or not a date, in other" if m["other"] else ""))
    if c["most"]:
        lines.append("    most: " + ", ".join(" ".join(filter(None, (m[code] or "(no code)", m.get(name))))
                                             + f" ({m['points']:,})" for m in c["most"]))
    written = [f"counts → {c['file']}"] if c["file"] else []
    written += [f"map → {c['map']}"] if c["map"] else []
    lines.append("    " + ", ".join(written))
    return lines


#: What --at prints, by Location field (code, name): those the answer has.
_AT_LINES = (("micro-grid", "micro_id", None), ("community", "community_code", "community_name"),
             ("street", "street_code", "street_name"), ("district", "county_code", "county_name"))


def _locate_one(at, as_json, package, routes, class_field, class_code, events, crs, grid, tolerance, degrees,
                near_edge, *, points, output, batch_only):
    """``--at X,Y``: one point's cell, areas and department, printed (exit 1 outside).
    ``grid``: :meth:`Locator.from_package`'s layer, id_field and crs."""
    import numpy as np
    import pandas as pd

    from gridkit.catalogue import coordinate_values
    from gridkit.coords import position_problems, read_degrees
    from gridkit.errors import GridkitError
    from gridkit.locator import Locator
    from gridkit.service import answer

    if points is not None or output is not None or any(v not in (None, False) for v in batch_only):
        raise click.UsageError("--at locates one point: POINTS, -o, --layer, --x-field, --y-field, --encoding, "
                               "--counts, --counts-by, --counts-per, --unit, --map, --dask, --scheduler and "
                               "--overwrite are for files")
    if class_field is not None:
        raise click.UsageError("--at takes --class CODE (the point's class), not --class-field")
    require_with(class_code=("routes", routes), events=("class_code", class_code))
    (x,), (y,) = coordinate_values(pd.DataFrame({"at": [at]}), "at", "at")  # as a column of both: x,y or WKT
    if np.isnan(x):
        raise click.BadParameter(f"{at!r}: expected X,Y, e.g. 116.4105,39.9289", param_hint="--at")
    unsaid, crs = crs is None, crs or "EPSG:4326"
    try:
        (x,), (y,) = read_degrees([x], [y], degrees, crs)
    except GridkitError as exc:
        raise click.UsageError(str(exc)) from None
    _, problem = position_problems([x], [y], crs)
    try:
        if problem[0]:
            locator = Locator.from_package(package, tolerance=tolerance, **grid)
            raise click.BadParameter(f"{at!r} ({crs}): {problem[0]}{_misread(locator, x, y, crs, degrees)}",
                                     param_hint="--at")
        table = _routes(routes)
        if table is not None and class_code is None:
            raise click.UsageError("--routes needs --class (the point's class) with --at")
        locator = Locator.from_package(package, tolerance=tolerance, **grid)
        found = answer(locator, x, y, crs=crs, routes=table, class_code=class_code,
                       kind="event" if events else "component", near=near_edge)
        hint = _other_readings(locator, x, y, found["grid_id"]) if unsaid else ""
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    if hint:
        found["hint"] = hint
    if as_json:
        click.echo(json_text(found))
    elif found["grid_id"] is None:
        click.echo(f"{x}, {y} ({crs}): outside the layout"
                   + (f" (more than {tolerance:g} m from every cell)" if tolerance else "")
                   + _misread(locator, x, y, crs, degrees))
    else:
        how = "inside" if found["status"] == "inside" else f"nearest, {found['distance_m']:.1f} m away"
        click.echo(f"{round(x, 7)}, {round(y, 7)} ({crs}) → cell {found['grid_id']} ({how})")
        for label, code, name in _AT_LINES:
            if found.get(code):
                click.echo(f"  {label:<10} {found[code]} {found.get(name) or ''}".rstrip())
        if "near_grid_id" in found:
            click.echo(f"  {'near':<10} " + (f"no other cell {within(near_edge)}" if found["near_grid_id"] is None
                                              else f"{found['near_grid_id']}, {found['near_m']:.1f} m away"
                                              + ("" if found["near_across"] == "cell"
                                                 else f" (another {found['near_across']})")))
        if "department_name" in found:
            click.echo(f"  {'department':<10} {found['department_name']}"
                       + (f" ({found['department_code']})" if found["department_code"] else "")
                       + (" — territorial (no rule for the class)" if found["territorial"] else ""))
    if hint and not as_json:
        click.echo(f"  hint: {hint}")
    if found["grid_id"] is None:
        raise SystemExit(1)


def _other_readings(locator, x, y, cell):
    """For a lon/lat given with no --crs (read as GPS) in China: the cells it lies in
    read as GCJ-02 (copied from Amap or Tencent's maps, 500 m off in Beijing) and as
    BD-09 (from Baidu's), where they differ from ``cell``, and the --crs to give; ""
    when neither does (or it is not in China)."""
    from gridkit.coords import LONLAT_SYSTEMS, is_in_china

    if not is_in_china([x], [y])[0]:
        return ""
    where = {system: locator.locate(x, y, crs=LONLAT_SYSTEMS[system][0]).grid_id for system in ("gcj02", "bd09")}
    said = [f"copied from {maps} ({LONLAT_SYSTEMS[system][1]}), in "
            + (f"cell {where[system]}" if where[system] else "no cell") + f" (--crs {system})"
            for system, maps in (("gcj02", "Amap or Tencent's maps"), ("bd09", "Baidu's")) if where[system] != cell]
    if not said:
        return ""
    return "no --crs, so it was read as GPS (WGS84); " + "; ".join(said)


def _run_local(points, package, output, table, classes, kind, read_as, layer, x_field, y_field, encoding, tolerance,
               overwrite, grid, per_cell):
    from gridkit.batch import locate_file

    with Steps() as step:
        step(f"reading {points} and indexing {package}")
        bar = []

        def progress(done, total):
            if not progress_enabled():
                return
            if not bar:  # the row count is known once the file is read
                bar.append(click.progressbar(length=total, label="locating", file=click.get_text_stream("stderr")))
            bar[0].update(done - bar[0].pos)

        summary = locate_file(points, package, output, routes=table, **classes, kind=kind,
                              **read_as, layer=layer, x_field=x_field, y_field=y_field, encoding=encoding,
                              tolerance=tolerance, overwrite=overwrite, progress=progress, **grid, **per_cell)
        if bar:
            bar[0].render_finish()
    return summary


def _run_dask(points, package, output, table, classes, kind, read_as, x_field, y_field, tolerance, scheduler,
              workers, overwrite, grid, per_cell):
    from pathlib import Path

    from gridkit.batch import _check_output, locate_dask, rejects_file, rejects_written, summarise
    from gridkit.counts import check_counts_outputs, write_per_cell
    from gridkit.counts import per_cell as counts_per_cell
    from gridkit.io import atomic_path
    from gridkit.locator import Locator
    from gridkit.routing import read_by_name

    output = None if output is None else Path(output)
    if output is not None:
        _check_output(output, overwrite)
        if output.suffix.lower() != ".parquet":
            raise click.UsageError("with --dask the output is Parquet (-o located.parquet)")
    check_counts_outputs(per_cell["counts"], per_cell["counts_map"], overwrite)
    beside = output or Path(per_cell["counts"] or per_cell["counts_map"])
    locator = None
    if per_cell["counts"] or per_cell["counts_map"]:  # read first: a unit the layout lacks is said before the work
        locator = Locator.from_package(package, tolerance=tolerance, layer=grid["grid_layer"],
                                       id_field=grid["id_field"], crs=grid["grid_crs"])
        if per_cell["counts_units"]:
            locator.cells_in(per_cell["counts_units"])
    with Steps() as step:
        step("locating on " + (scheduler or f"a local dask cluster of {workers} workers"))
        located, rejects = locate_dask(points, package, routes=table, **classes, kind=kind,
                                       **read_as, x_field=x_field, y_field=y_field,
                                       tolerance=tolerance, scheduler=scheduler, n_workers=workers, **grid)
    offset = located.attrs.pop("offset_hint", "")  # for the summary, not the Parquet's metadata
    counted = None
    if locator is not None:  # before anything is written: a bad --counts-by stops it
        counted = counts_per_cell(locator, located, per_cell["counts_by"], per=per_cell["counts_per"], source=points,
                                  units=per_cell["counts_units"])
    with rejects_written(rejects, rejects_file(beside)):  # in place once the output is
        if output is not None:
            with atomic_path(output, overwrite=overwrite) as tmp:
                located.to_parquet(tmp, index=False)
    summary = summarise(located, rejects, len(located) + len(rejects))
    summary["rejects_file"] = str(rejects_file(beside))
    if counted is not None:
        summary["counts"] = write_per_cell(counted, per_cell["counts"], per_cell["counts_map"],
                                           per=per_cell["counts_per"], overwrite=overwrite)
    if offset:
        summary["offset_hint"] = offset
    if table is not None and kind != "event":  # the names among the located rows' classes
        named = read_by_name([classes["class_code"]] if classes["class_code"] is not None
                             else located[classes["class_field"]] if classes["class_field"] in located else [])
        if named:
            summary["classes_by_name"] = named
    return summary


@click.group()
def route():
    """The routing table: which department owns a class of problem, where.

    \b
    A TOML file a city owns: [departments] (18-character credit codes),
    [territorial] (属地兜底: who answers when no rule does) and [[rule]]s
    mapping classes, optionally in an area, to a department. Most specific area
    wins, then most specific class. See docs/guide.md, "Routing".
    """


@route.command("starter")
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False), help="Where to write the TOML.")
@overwrite_opt
def starter_command(output, overwrite):
    """Write a starter table from the class table's suggested departments.

    Departments come without credit codes; fill them in, add area overrides, and
    run `gridkit route check` on the result.

    \b
    Example:
      gridkit route starter -o routing.toml
    """
    from gridkit.routing import RoutingTable, write_starter

    refuse_existing(output, overwrite=overwrite)
    write_starter(output, overwrite=overwrite)
    table = RoutingTable.load(output)
    click.echo(f"{output}: {len(table.departments)} departments, {len(table.rules)} rules "
               "(credit codes empty: fill them in)")


@route.command("check")
@click.argument("table", type=FilePath(exists=True, dir_okay=False))
@click.option("--grid", "package", type=FilePath(exists=True, dir_okay=False), default=None,
              help="A grid package: also flag rules for areas the layout does not have.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_command(table, package, as_json):
    """List a routing table's errors, gaps and conflicts.

    Errors (exit status 1): unknown classes, departments named but not defined,
    malformed credit codes or areas, conflicting rules. Gaps: classes no
    city-wide rule covers (they go to the territorial authority). Warnings:
    departments without a code yet, unused departments, areas not in the layout.

    \b
    Example:
      gridkit route check routing.toml --grid demo-output/dongcheng.gpkg
    """
    from gridkit.errors import GridkitError
    from gridkit.routing import RoutingTable

    try:
        routes = RoutingTable.load(table)
        areas = None
        if package:
            areas = _package_areas(package)
        report = routes.check(areas=areas)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"errors": report.errors, "gaps": report.gaps, "warnings": report.warnings},
                              ensure_ascii=False, indent=2))
    else:
        for line in report.lines():
            click.echo(line)
        counts = ((len(report.errors), "error"), (len(report.gaps), "gap"), (len(report.warnings), "warning"))
        click.echo(f"{table}: " + ", ".join(f"{n} {what}{'' if n == 1 else 's'}" for n, what in counts))
    if report.errors:
        raise SystemExit(1)


def _package_areas(package):
    """The codes of ``package``'s cells, communities and micro-grids (route check --grid),
    after the check that it is a package (a GeoPackage of other layers was a traceback)."""
    import pyogrio

    from gridkit.codes import codes_as_text
    from gridkit.package import _package_layers

    layers = _package_layers(Path(package))

    def read(layer, column):  # a code field QGIS made a number: its digits
        table = pyogrio.read_dataframe(package, layer=layer, columns=[column], read_geometry=False)
        return set(codes_as_text(table, [column])[column].astype(str))

    areas = read("cells", "grid_id") | read("units", "code")
    if "micro_grids" in layers:  # a household layout made with --micro
        areas |= read("micro_grids", "micro_id")
    return areas
