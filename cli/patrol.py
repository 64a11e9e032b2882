"""``gridkit patrol``: how far and how long grid workers' GPS tracks ran in each cell."""

from __future__ import annotations

import time

import click

from .options import (FilePath, Number, Steps, crs_opt, degrees_opt, echo_summary, grid_crs_opt, grid_layer_opt,
                      id_field_opt, nmea_line, overwrite_opt, picture_path, refuse_existing, text_encoding_opt,
                      x_field_opt, y_field_opt)

#: Why a fix is rejected for its time, as the summary says it (for its position: as locate's rows).
TIME_REASONS = {"missing_time": "the time is blank", "bad_time": "the time is no date and time gridkit can read"}


def _duration(minutes) -> str:
    """``2 h 52 min`` (or ``7 min``)."""
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


@click.command("patrol")
@click.argument("tracks", nargs=-1, required=True, type=FilePath(exists=True))
@click.option("--grid", "package", required=True, type=FilePath(exists=True, dir_okay=False),
              help="The grid package (or any polygon file: --grid-layer, --id-field) whose cells are patrolled.")
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False),
              help="Where to write the coverage: .gpkg (layers coverage and tracks, for QGIS), .geojson, .csv or "
                   ".xlsx (the table of cells).")
@click.option("--map", "picture", type=FilePath(dir_okay=False), default=None, callback=picture_path,
              help="Also draw the coverage: .png, .svg, .pdf or .jpg.")
@click.option("--scope", type=click.Choice(["community", "all", "patrolled"]), default=None,
              help="Which cells the coverage lists: those of every community a track ran in, every cell of the "
                   "layout (of --unit's units), or only those patrolled. Default: community; all with --unit.")
@click.option("--unit", "units", multiple=True, metavar="CODE|NAME",
              help="Only this community's, street's or district's cells (its code or name, as in the package; "
                   "repeat it for more): a community's patrol coverage, without the cells of the communities next "
                   "door a worker stepped into.")
@click.option("--time-field", default=None,
              help="Column with each fix's time (default: found by name: time, timestamp, 时间, 定位时间, 采集时间 …; "
                   "a GPX's own). Without one, only metres are counted.")
@click.option("--date-field", default=None,
              help="Column with each fix's date, when the time column holds only the time of day (default: found "
                   "by name: date, 日期, 定位日期 …). Without one, times of day are read in the file's order, a day "
                   "later each time they go back past midnight.")
@click.option("--track-field", default=None,
              help="Column telling the tracks apart: a worker's or device's ID. Default: a GPX's tracks; else "
                   "found by name (worker, device_id, imei, 设备号, 巡查员, 姓名, 车牌号 …); else each file is one track.")
@click.option("--time-zone", default=None, metavar="ZONE",
              help="Show times in this zone (Asia/Shanghai); times with no zone are taken to be in it. Default: as "
                   "read (a GPX's in UTC).")
@click.option("--max-gap", default=5.0, show_default=True, type=Number(min=0, infinite=True), metavar="MINUTES",
              help="Two fixes further apart in time are a break (the unit off, or under a roof), not a walk: "
                   "credited to no cell.")
@click.option("--max-speed", default=150.0, show_default=True, type=Number(min=0, min_open=True, infinite=True),
              metavar="KM/H",
              help="Two fixes further apart than this speed allows are a jump (a fix reflected off a tower block), "
                   "not a walk: credited to no cell.")
@crs_opt("--crs", help="What the coordinates are: EPSG:4326 (GPS; a GPX's always), gcj02 (Amap, Tencent), bd09 "
                       "(Baidu) or any CRS. A table's lon/lat default to EPSG:4326, with a hint when, read as "
                       "gcj02, they would lie in other cells.")
@click.option("--layer", default=None, help="The layer of a multi-layer file (default for GPX: track_points).")
@grid_layer_opt
@id_field_opt
@grid_crs_opt
@degrees_opt
@x_field_opt
@y_field_opt
@text_encoding_opt
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@overwrite_opt
def patrol_command(tracks, package, output, picture, scope, units, time_field, date_field, track_field, time_zone,
                   max_gap, max_speed, crs, layer, grid_layer, id_field, grid_crs, degrees, x_field, y_field, encoding,
                   as_json, overwrite):
    """Patrol coverage: how far and how long grid workers' tracks ran in each
    cell, which cells they entered and how often, and which they never visited.

    TRACKS are GPX files (their track points), GPS or BeiDou receivers' NMEA logs
    (.nmea, or a .txt/.log of sentences: a fix per epoch), or tables or vector files of
    fixes: one file per worker, or one file of many workers, told apart by a
    column found by name (worker, 设备号, 巡查员 …) or named with --track-field. Each track
    is walked straight from fix to fix at even speed, cut exactly where it crosses
    a cell's edge; breaks (--max-gap) and jumps (--max-speed) are credited to no
    cell, and the summary counts them. Fixes with no position or no readable time
    go to OUTPUT.rejects.csv with the reason.

    \b
    Each cell of the coverage has: patrolled, metres, minutes, entries (times a
    track came in), tracks (how many did), first_at and last_at.

    \b
    Examples:
      gridkit patrol data/samples/cambridge_patrol.gpx --grid demo-output/cambridge.gpkg \\
          -o coverage.gpkg --map coverage.png
      gridkit patrol data/samples/cambridge_patrol.gpx --grid demo-output/cambridge.gpkg \\
          --time-zone America/New_York --scope patrolled -o coverage.xlsx
      gridkit patrol data/samples/cambridge_patrol.gpx --grid demo-output/cambridge.gpkg \\
          --unit "The Port" -o the_port.xlsx

    A table of fixes from several workers (设备号, 定位时间, 经度, 纬度 from an app
    on Amap) takes --crs gcj02 --time-zone Asia/Shanghai; its tracks are told
    apart by 设备号, found by name.
    """
    from gridkit.batch import REJECT_REASONS, rejects_file
    from gridkit.errors import GridkitError
    from gridkit.patrol import patrol_file
    from gridkit.preview import plot_coverage

    t0 = time.perf_counter()
    scope = scope or ("all" if units else "community")
    inputs = {"TRACKS": tracks[0], "--grid": package}
    refuse_existing(output, picture, overwrite=overwrite, inputs=inputs)
    refuse_existing(rejects_file(output), overwrite=True, inputs=inputs)  # written anew each run
    if time_zone is not None:
        from gridkit.errors import InputError
        from gridkit.patrol import check_time_zone

        try:
            check_time_zone(time_zone)
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="--time-zone") from None
    try:
        with Steps() as step:
            step(f"reading {len(tracks)} track file{'s' if len(tracks) > 1 else ''} and cutting them by {package}'s "
                 "cells")
            summary, cells, lines = patrol_file(
                tracks, package, output, layer=layer, crs=crs, x_field=x_field, y_field=y_field,
                time_field=time_field, date_field=date_field, track_field=track_field, encoding=encoding,
                time_zone=time_zone, degrees=degrees,
                max_gap=max_gap * 60, max_speed=max_speed / 3.6, scope=scope, overwrite=overwrite,
                grid_layer=grid_layer, id_field=id_field, grid_crs=grid_crs, units=units)
            if picture:
                step(f"drawing {picture}")
                where = ", ".join(summary["units"]["units"]) if units else None
                plot_coverage(cells, lines, picture, where=where, overwrite=overwrite)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    seconds = time.perf_counter() - t0
    s = summary
    named = tracks[0] if len(tracks) == 1 else f"{len(tracks)} files"
    plural = "s" if s["tracks"] != 1 else ""
    lines_out = [f"{named}: {s['fixes'] + s['rejected']:,} fixes in {s['tracks']:,} track{plural} → "
                 f"{s['cells_patrolled']:,} cells patrolled, {s['rejected']:,} rejected ({seconds:.1f} s)"]
    walked = f"  walked {s['metres_walked'] / 1000:,.1f} km"
    if s["minutes_walked"] is not None:
        walked += f" in {_duration(s['minutes_walked'])}"
    share = s["metres_in_cells"] / s["metres_walked"] * 100 if s["metres_walked"] else 0.0
    lines_out.append(walked + f", {share:.0f} % of it inside the cells")
    if s["breaks"] or s["jumps"]:
        lines_out.append(f"  not credited: {s['breaks']:,} break{'s' if s['breaks'] != 1 else ''}"
                         + (f" ({_duration(s['minutes_in_breaks'])})" if s["minutes_in_breaks"] else "")
                         + f" over {max_gap:g} min, {s['jumps']:,} jump{'s' if s['jumps'] != 1 else ''} "
                           f"({s['jump_metres'] / 1000:,.1f} km) over {max_speed:g} km/h")
        if s["tracks"] == 1 and s["jumps"] > 0.1 * s["fixes"]:
            maybe = s["track_candidates"]
            lines_out.append("  hint: so many jumps look like several workers' fixes in one track: name the column "
                             "that tells them apart with --track-field"
                             + (f" ({' or '.join(maybe)}?)" if maybe else ""))
    if s.get("offset_hint"):
        lines_out.append(f"  hint: {s['offset_hint']}")
    if s.get("units"):
        chosen = s["units"]
        lines_out.append(f"  in {', '.join(chosen['units'])}: {chosen['metres'] / 1000:,.1f} km"
                         + (f" in {_duration(chosen['minutes'])}" if chosen["minutes"] is not None else ""))
    covered = sum(c["patrolled"] for c in s["communities"]) if s["communities"] else s["cells_patrolled"]
    said = (f"{scope} of --unit" if units else scope if s["communities"] or scope != "community" else
            "community: no track ran in one" if not s["cells_in_scope"] else "all: the layout names no communities")
    lines_out.append(f"  coverage ({said}): {covered:,} of {s['cells_in_scope']:,} cells patrolled "
                     f"({covered / max(s['cells_in_scope'], 1) * 100:.0f} %)")
    for c in s["communities"][:12]:
        lines_out.append(f"    {c['code']}" + (f" {c['name']}" if c["name"] else "") + f": {c['patrolled']:,} of "
                         f"{c['cells']:,} ({c['patrolled'] / c['cells'] * 100:.0f} %)")
    if len(s["communities"]) > 12:
        lines_out.append(f"    … {len(s['communities']) - 12} communities more")
    if s["track_fields_found"]:
        lines_out.append(f"  tracks told apart by {', '.join(s['track_fields_found'])} (found by name; name another "
                         "column with --track-field)")
    days = s["times_of_day"]
    if days["date_fields"]:
        lines_out.append(f"  times of day on the dates in {', '.join(days['date_fields'])}")
    if days["files_without_dates"]:
        lines_out.append(f"  times of day with no date column: read in the file's order, "
                         f"{days['past_midnight']:,} past midnight (name a date column with --date-field)")
    said = {**REJECT_REASONS, **TIME_REASONS}
    lines_out += [f"  {n:6,d} × {reason}: {said[reason]}" for reason, n in s["rejected_by_reason"].items()]
    if s.get("nmea_skipped"):
        lines_out.append(nmea_line(s["nmea_skipped"]))
    lines_out.append(f"  → {output}" + (f", map → {picture}" if picture else "")
                     + f"; rejects → {s['rejects_file']}")
    echo_summary(lines_out, {"input": list(tracks), "output": str(output), **s, "seconds": round(seconds, 3)}, as_json)
