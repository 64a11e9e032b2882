"""Options shared by several commands, defined once."""

from __future__ import annotations

import unicodedata

import click

overwrite_opt = click.option("--overwrite", is_flag=True,
                             help="Replace the outputs if they exist (otherwise an error).")
#: ``--overwrite`` of the commands that make a layout: the package it replaces hands on
#: what is not the layout's own.
layout_overwrite_opt = click.option(
    "--overwrite", is_flag=True,
    help="Replace OUTPUT and the --preview picture if they exist (otherwise an error). A grid package replaced "
         "hands on its component catalogue (each component in the cell that holds it now) and what you added to "
         "it: layers, tables, QGIS styles and projects. Delete it first to start afresh.")


#: ``--json`` of the commands that end with a summary (grid units, grid households, grid
#: rebalance, components import).
summary_json_opt = click.option(
    "--json", "as_json", is_flag=True,
    help="Print the summary as one JSON object (for scripts), not as lines. Progress and warnings still go to "
         "standard error.")


class Number(click.FloatRange):
    """click's ``FloatRange``, refusing ``nan``, which every comparison with its
    bounds lets through (``--cell-area nan`` was a ValueError traceback), and
    ``inf`` unless ``infinite`` (a tolerance or a gap without limit means something;
    an infinite cell area or band does not). Named a number: in --help (NUMBER, not
    click's FLOAT RANGE) and in its message ("'abc' is not a valid number")."""

    name = "number"

    def __init__(self, *args, infinite=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.infinite = infinite

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number != number or (number in (float("inf"), float("-inf")) and not self.infinite):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class FilePath(click.Path):
    """click's ``Path``, refusing an empty value: ``-o ''`` was read as the current
    folder (a traceback in locate, patrol and route starter), ``--barriers ''`` and
    ``map -o ''`` as not given, ``grid adopt ''`` as a folder of Parquet parts."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            what = "a file's name" if self.file_okay else "a folder's name"
            self.fail(f"{value!r} is no path: give {what}", param, ctx)
        return super().convert(value, param, ctx)


class Text(click.types.StringParamType):
    """click's text, refusing an empty value: ``--x-field ''``, ``--grid-layer ''``,
    ``--where ''`` or ``--crs ''`` (a shell variable left unset) were read as not
    given, so the columns, layer, rows or CRS were guessed without a word.
    :func:`refuse_blank_text` gives it to every text option."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            if isinstance(param, click.Argument):  # `components show ''`: "no component  in …"
                self.fail(f"{value!r} is empty: give a value", param, ctx)
            name = param.opts[0] if param is not None and param.opts else "the option"
            self.fail(f"{value!r} is empty: give a value, or leave {name} out", param, ctx)
        return super().convert(value, param, ctx)


#: Text that may be empty, where '' means something of its own (`grid rebalance
#: --households-where ""` reads every feature, not the filter the package records):
#: :func:`refuse_blank_text` leaves it be.
BLANK_OK = click.types.StringParamType()


def refuse_blank_text(command):
    """Give every text option of ``command`` and its subcommands the :class:`Text`
    type, once, where the commands are registered (rather than ``type=Text()`` on
    a hundred options, and any added later), and every text argument taken once
    (`components show ID`; not the words of `components classes`, where a blank
    one filters nothing)."""
    for param in command.params:
        option = isinstance(param, click.Option) and not param.is_flag
        argument = isinstance(param, click.Argument) and param.nargs == 1
        if (option or argument) and param.type is click.STRING:
            param.type = Text()
    for sub in getattr(command, "commands", {}).values():
        refuse_blank_text(sub)


class Day(click.ParamType):
    """A date, as ``YYYY-MM-DD`` or ``YYYYMMDD``, checked before any work and given on
    as the package writes it (:func:`gridkit.codes.day_text`): ``compact``
    (``YYYYMMDD``) for the components' dates. Any text was written as the date of
    every cell or component it dated (``--start-date soon``)."""

    name = "date"

    def __init__(self, compact=False):
        self.compact = compact

    def convert(self, value, param, ctx):
        from gridkit.codes import day_text
        from gridkit.errors import InputError

        try:
            return day_text(value, compact=self.compact)
        except InputError:
            self.fail(f"{value!r} is not a date: give YYYY-MM-DD or YYYYMMDD", param, ctx)


def picture_path(ctx, param, value):
    """A map picture's path (--preview, map -o): its suffix must name a format the
    picture can be written in, checked before any work."""
    if value is not None:
        from gridkit.errors import GridkitError
        from gridkit.preview import picture_format

        try:
            picture_format(value)
        except GridkitError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def preview_opt(what="the layout"):
    """--preview: a map of ``what``, written beside the main output."""
    return click.option("--preview", type=FilePath(dir_okay=False), default=None, callback=picture_path,
                        help=f"Also write a map of {what}: .png, or .svg / .pdf to print (vector), .jpg.")


#: How a CSV or Shapefile's text encoding is found when none is given.
DETECTED = "detected, UTF-8 or GBK/GB18030"
#: How --x-field's help says that one column may hold both coordinates.
BOTH_COORDINATES = ('a column of both, "lon,lat" as Amap\'s location or WKT, is found by name (location, 经纬度, '
                    "WKT …) or given as --x-field and --y-field alike")
#: The coordinate columns of a CSV or Excel inventory (locate, components).
x_field_opt = click.option("--x-field", default=None,
                           help=f"CSV column with x / longitude / easting (default: detected; {BOTH_COORDINATES}; "
                                "a Chinese survey table's X坐标 is the northing, so --x-field Y坐标).")
y_field_opt = click.option("--y-field", default=None,
                           help="CSV column with y / latitude / northing (default: detected).")
#: How lon/lat numbers are written, when not as decimal degrees (locate, components, patrol).
DEGREE_CHOICES = ["decimal", "e5", "e6", "e7", "ddmm"]  # gridkit.coords.DEGREE_FORMS, without importing it
degrees_opt = click.option(
    "--degrees", default="decimal", show_default=True, type=click.Choice(DEGREE_CHOICES),
    help="How the lon/lat numbers are written: e6 for millionths of a degree as whole numbers (116412200, as JT/T "
         "808 vehicle terminals send them; e5, e7 alike), ddmm for degrees and minutes run together (11624.7326 is "
         "116°24.7326′, NMEA's dddmm.mmmm, as GPS receivers log them). Rows in such a form read as decimal are "
         "rejected as scaled_degrees or degrees_minutes, naming the form; decimal degrees read in another form "
         "that are inside as written, as decimal_degrees.")


class Encoding(click.ParamType):
    """A text encoding's name, checked before any work: an unknown one was a Python
    LookupError traceback, raised where the first text was read or written."""

    name = "encoding"

    def convert(self, value, param, ctx):
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            self.fail(f"unknown text encoding {value!r}: give one such as UTF-8, GB18030 (which holds GBK), BIG5 or "
                      "CP1252", param, ctx)
        return value


#: Inputs with text (locate, components).
text_encoding_opt = click.option(
    "--encoding", type=Encoding(), default=None, metavar="NAME",
    help=f"Text encoding of a CSV or a Shapefile's attributes (default: {DETECTED}).")

#: Layouts that are not grid packages, for the commands that locate (locate, serve).
grid_layer_opt = click.option(
    "--grid-layer", default=None,
    help="When the grid is not a grid package but any polygon file: its layer (default: the first).")
id_field_opt = click.option("--id-field", default="grid_id", show_default=True,
                            help="When the grid is any polygon file: the column with the cell IDs.")


def grid_crs_opt(command):
    """--grid-crs, for the commands that locate (locate, serve, patrol)."""
    return crs_opt("--grid-crs", help="When the grid is any polygon file without a CRS, or with a wrong one: what "
                                      "its coordinates are in: gcj02 for cells from Amap or a Chinese platform's web "
                                      "map (often labelled EPSG:4326), bd09 (Baidu), EPSG:4326, or the projected "
                                      "CRS's EPSG code. A grid package says its own.")(command)


def echo_summary(lines, data, as_json):
    """End a command: its summary ``lines`` for a person, or with ``--json`` the same
    ``data`` as one JSON object for a script."""
    if as_json:
        click.echo(json_text(data))
    else:
        click.echo("\n".join(lines))


def json_text(data) -> str:
    """``data`` as strict JSON for a script (--json): a number JSON cannot write
    (``--tolerance inf``, no limit; NaN) as null, where Python's json wrote
    ``Infinity``, which JSON.parse and jq refuse; any other object as its text."""
    import json
    import math

    def finite(value):
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [finite(item) for item in value]
        if isinstance(value, float) and not math.isfinite(value):  # numpy's floats are floats too
            return None
        return value

    return json.dumps(finite(data), ensure_ascii=False, default=str, allow_nan=False)


def names_read(by_name, label, most=8):
    """The summary line of the classes a run read by name (``classes_by_name``: value
    → [code, name, whose name]): "  classes read by name: 路灯 → 01037, 上水井盖 → 01001
    供水井盖 (its CJ/T 214 name)", the name of a scheme other than ``label`` said."""
    return "  classes read by name: " + ", ".join(
        f"{value} → {code}" + ("" if name == value else f" {name}") + ("" if whose == label else f" (its {whose} name)")
        for value, (code, name, whose) in list(by_name.items())[:most]) + (" …" if len(by_name) > most else "")


def refuse_existing(*paths, overwrite, inputs=None):
    """A usage error when one of ``paths`` (None: not asked for) exists and
    ``--overwrite`` is not given, or when one is an input (``inputs``: option or
    argument name → path, as :func:`gridkit.io.refuse_replacing_input` takes):
    checked after the other options (fixing this first would only lead to them)
    and before any file is read."""
    from gridkit.errors import InputError
    from gridkit.io import existing_output, refuse_replacing_input

    for path in filter(None, paths):
        held = None if overwrite else existing_output(path)
        if held:
            raise click.UsageError(f"{held} exists; pass --overwrite to replace it")
        try:
            refuse_replacing_input(path, inputs or {})
        except InputError as exc:
            raise click.UsageError(str(exc)) from None


def added_text(layers, tables, projects, styled) -> str:
    """What a user added to a grid package (:func:`gridkit.package.added_by_hand`:
    its ``layers``, ``tables``, ``projects``, and ``styled``, the layer of each
    style), as a summary says it; "" when nothing."""
    named = [*layers, *(name for name in tables if name != "qgis_projects")]
    styles = sorted(set(styled))
    said = ([f"{', '.join(named)} (added by hand)"] if named else []) + [
        f"{len(found)} QGIS {what}{'' if len(found) == 1 else 's'} saved in the package ({', '.join(names)})"
        for what, found, names in (("style", list(styled), styles), ("project", projects, projects)) if len(found)]
    return "; ".join(said)


def percent(value):
    """A share in % for a title or a line: 97.56 → '97.6', but never rounded up to
    '100' unless it is 100 (one grid out of 2,000 is 99.95: '99.9', not "100 %")."""
    return "100" if value >= 100 else f"{min(round(value, 1), 99.9):.1f}"


#: An OGR SQL filter (``--barriers-where``; ``gridkit.read_vector(..., where=OSM_STREETS)``) keeping the ways of
#: an OpenStreetMap network (osmnx's ``edges``) that bound street blocks: not footpaths, steps, cycleways or the
#: service roads inside estates.
OSM_STREETS = ("highway NOT IN ('footway', 'service', 'path', 'steps', 'pedestrian', 'cycleway', 'track', "
               "'corridor')")

where_opt = click.option(
    "--where", default=None, metavar="SQL",
    help="Read only the BOUNDARIES features matching this OGR SQL WHERE clause, e.g. \"level = '区县'\" or "
         "\"adcode NOT LIKE '%00'\" (a file that also holds the province or city outline around its "
         "districts). Messages still number features as the file does.")


def parse_crs_value(ctx, param, value):
    """Click callback: validate a CRS early, as a bad parameter."""
    if value is None:
        return None
    from gridkit.coords import parse_crs
    from gridkit.errors import CRSError

    try:
        parse_crs(value)
    except CRSError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def metric_crs_value(ctx, param, value):
    """Click callback for --metric-crs: a projected CRS in metres, checked before any
    work (an unknown one was a pyproj traceback)."""
    if value is None:
        return None
    from gridkit.errors import CRSError
    from gridkit.units import metric_crs_given

    try:
        metric_crs_given(value)
    except CRSError as exc:
        raise click.BadParameter(str(exc).removeprefix("--metric-crs ")) from None
    return value


def crs_opt(name="--crs", *, help, default=None, **extra):
    """A CRS option (``--crs``, ``--households-crs`` …), checked as it is parsed
    (:func:`parse_crs_value`)."""
    return click.option(name, default=default, callback=parse_crs_value, metavar="CRS", help=help, **extra)


def package_output(ctx, param, value):
    """Click callback: a household layout's output must be a grid package (.gpkg).
    Any other format holds the grids alone: the micro-grids, the rejected households
    and the record a rebalance reads (band, highest IDs issued, ended grids) would
    be lost without a word."""
    if value is not None and not value.lower().endswith(".gpkg"):
        raise click.BadParameter(f"{value}: give a .gpkg (the grid package: the grids with their micro-grids, "
                                 "rejected households and the record a rebalance reads); for the grids alone in "
                                 "another format, export them after: gridkit export OUT.gpkg -o grids.geojson")
    return value


def problems_path(ctx, param, value):
    """Click callback: ``--problems`` (where each problem a check finds lies) is a
    GeoPackage, layer 'problems'."""
    if value is not None and not value.lower().endswith(".gpkg"):
        raise click.BadParameter(f"{value}: give a .gpkg file")
    return value


def multipart_text(multipart, what="cell") -> str:
    """``multipart`` (:func:`gridkit.invariants.multipart_cells`: ``cells``,
    ``examples``) as a line of a summary or check says it: "" when there is none."""
    if not multipart["cells"]:
        return ""
    shown = "; ".join(f"{cell_id}: {n} parts, {apart:,.0f} m apart" for cell_id, n, apart in multipart["examples"])
    more = " …" if multipart["cells"] > len(multipart["examples"]) else ""
    return (f"{multipart['cells']:,} {what}(s) of several parts ({shown}{more}): an island may be meant, a stray "
            "piece is not; look at them in QGIS")


def problem_lines(problems, problems_out, shown=20) -> list:
    """A check's ``problems`` as indented lines, the first ``shown`` of them, then how
    many more (and where to see them all, without ``problems_out``)."""
    lines = [f"  {problem}" for problem in problems[:shown]]
    if len(problems) > shown:
        lines.append(f"  … and {len(problems) - shown:,} more" + ("" if problems_out else " (--problems FILE)"))
    return lines


def write_problems(reports, problems_out, *, overwrite):
    """Write where each problem of ``reports`` (layer → check report) lies to
    ``problems_out``, layer 'problems' (styled red, a column naming the checked
    layer); with no problem, an empty layer, so a file from an earlier run does not
    still show what has since been fixed."""
    import pandas as pd

    from gridkit.io import write_vector

    frame = pd.concat([report.problem_frame().assign(layer=layer) for layer, report in reports.items()],
                      ignore_index=True)
    write_vector(frame, problems_out, layer="problems", overwrite=overwrite, styles=True,
                 geometry_type="MultiPolygon")


def require_with(**anchors):
    """Usage errors for options given on the command line that mean nothing without
    another: ``require_with(tolerance=("target", target))`` stops ``--tolerance``
    given without ``--target``, instead of silently ignoring it."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    for name, (anchor, value) in anchors.items():
        if value in (None, False) and ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE,
                                                                         ParameterSource.ENVIRONMENT):
            flags = {p.name: p.opts[0] for p in ctx.command.params}
            raise click.UsageError(f"{flags[name]} goes with {flags[anchor]}, which is not given")


def progress_enabled():
    import sys

    return sys.stderr.isatty()


class Steps:
    """Step-by-step progress on stderr when it is a terminal."""

    def __enter__(self):
        self.enabled = progress_enabled()
        return self.step

    def step(self, text):
        if self.enabled:
            click.echo(f"… {text}", err=True)

    def __exit__(self, *exc):
        return False


def input_crs(path, layer, own, shared, option):
    """The CRS to read an input other than the boundaries in: its own option's
    (``own``) when given, else ``--crs`` (``shared``). A lon/lat ``--crs`` (EPSG:4326,
    gcj02, bd09 …) is not laid on a file labelled with a projected CRS, nor a
    projected one on a file labelled lon/lat (a GPS survey beside boundaries in
    metres): that file is read as labelled (None), and a note says so. ``option`` is
    the input's own CRS option, named in the note."""
    from gridkit import coords
    from gridkit.io import labelled_crs

    if own is not None or shared is None or path is None:
        return own if own is not None else shared
    parsed = coords.parse_crs(shared)
    lonlat = coords.is_geographic(parsed)
    label = labelled_crs(path, layer)
    if label is None or not (label.is_projected if lonlat else label.is_geographic):
        return shared
    kind = "a projected CRS" if lonlat else "a longitude/latitude CRS"
    click.echo(f"note: {path} is labelled {label.to_string()} ({label.name}), {kind}: read as labelled, "
               f"not in --crs {shared} (give {option} to say otherwise)", err=True)
    return None


class _ShareOrCount(click.ParamType):
    """A number ≥ 0, or a percentage as people write one (20%, ２０％): its share."""

    name = "share"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        text = unicodedata.normalize("NFKC", str(value)).strip()
        percent = text.endswith("%")
        try:
            number = float(text[:-1] if percent else text)
        except ValueError:
            self.fail(f"{value!r} is not a number: give a share (0.2), a percentage (20%) or households (30)",
                      param, ctx)
        if not number >= 0 or (percent and number >= 100):
            self.fail(f"{value!r}: give a share below 1 (0.2, or 20%) or a number of households, not below 0",
                      param, ctx)
        return number / 100 if percent else number


SHARE_OR_COUNT = _ShareOrCount()


def within(metres) -> str:
    """"within 25 m"; "at any distance" for a distance given as inf, no limit."""
    return "at any distance" if metres == float("inf") else f"within {metres:g} m"


def near_line(counts, metres, where):
    """The summary's line on the points (components) within ``metres`` of another
    cell, by what lies between (``counts``: level → number), saying ``where`` they are named."""
    near = sum(counts.values())
    across = [f"{counts[level]:,} of another {level}" for level in ("community", "street", "district")
              if counts.get(level)]
    return f"  {near:,} {within(metres)} of another cell ({where})" + (f": {', '.join(across)}" if across else "")


def nmea_line(skipped):
    """The summary's line of an NMEA log's lines that are no fix (satellite sentences, noise)."""
    return "  NMEA lines that are no fix: " + ", ".join(f"{what} {n:,}" for what, n in skipped.items())
