"""``gridkit grid …``: make layouts."""

from __future__ import annotations

import datetime
import json
import math
import re
import time
from pathlib import Path

import click

from .options import (BLANK_OK, BOTH_COORDINATES, DETECTED, OSM_STREETS, SHARE_OR_COUNT, Day, Encoding, FilePath,
                      Number, Steps, added_text, crs_opt, echo_summary, input_crs, layout_overwrite_opt,
                      metric_crs_value, multipart_text, overwrite_opt, package_output, percent, preview_opt,
                      problem_lines, problems_path, progress_enabled, refuse_existing, require_with, summary_json_opt,
                      where_opt, write_problems)


#: --encoding of the boundary (or grid) file a layout command reads.
encoding_opt = click.option("--encoding", type=Encoding(), default=None, metavar="NAME",
                            help=f"Shapefile text encoding (default: {DETECTED}).")


@click.group()
def grid():
    """Make grid layouts from boundary files."""


def write_household_package(output, layout, communities, parameters, *, overwrite=False, issued=None, ended=None,
                            ended_micro=None, components=None, component_metadata=None, carry=None):
    """A household layout as a grid package: grids as ``cells``, plus ``micro_grids``
    and ``household_rejects``, and after a rebalance ``ended_grids`` and
    ``ended_micro_grids`` (``ended``, ``ended_micro``), the catalogue carried over
    (``components``, its metadata rows ``component_metadata``) and what the user
    added to the old package (``carry``: layers, tables, QGIS styles and projects).
    Its metadata keeps the highest grid and micro-grid sequences issued
    (``highest_issued``: ``issued``, else those of the layout): a rebalance numbers
    new grids after them, so an ID deleted by hand is not issued again; and the
    households each community's atoms were sized for (``atoms_sized_for``): a
    rebalance sizes them alike."""
    import gridkit as gk
    from gridkit.rebalance import highest_issued

    if issued is None:
        issued = highest_issued(layout.grids["grid_id"], () if layout.micro is None else layout.micro["micro_id"])
    layers = {"micro_grids": layout.micro, "household_rejects": layout.rejects}
    layout.grids.attrs["summary"] = layout.summary  # kept in the metadata, for `gridkit info`
    if ended is not None:
        layers.update(ended_grids=ended, ended_micro_grids=ended_micro)
    if components is not None:
        layers["components"] = components
    return gk.write_package(output, layout.grids, communities, parameters=parameters, overwrite=overwrite,
                            extra_layers=layers, carry=carry,
                            extra_metadata={"highest_issued": issued, "atoms_sized_for": layout.sized_for,
                                            **(component_metadata or {})})


def carried_from(package, meta=None) -> tuple:
    """What a package written to replace ``package`` takes from it: ``(added,
    catalogue, component_metadata)``, what the user added (layers, tables, QGIS
    styles and projects: :func:`gridkit.package.added_by_hand`), the component
    catalogue (``None`` without one) and its metadata rows (from ``meta``, its
    metadata when already read)."""
    from gridkit.catalogue import COMPONENT_CLASSES, COMPONENT_RECORD, read_catalogue
    from gridkit.package import added_by_hand, read_metadata

    meta = read_metadata(package) if meta is None else meta
    return (added_by_hand(package), read_catalogue(package),
            {key: meta[key] for key in ("component_scheme", "component_imports", COMPONENT_RECORD, COMPONENT_CLASSES)
             if key in meta})


def replaced(output, overwrite) -> tuple:
    """:func:`carried_from` the grid package that ``--overwrite`` replaces at
    ``output``: a new layout keeps what the user added to the old one and its
    component catalogue. ``(None, None, {})`` when there is none to replace (no
    file, or a file that is not a grid package: replaced as asked)."""
    return _from_replaced(output, overwrite, carried_from) or (None, None, {})


def warn_reissued(output, overwrite, cells):
    """Warn when the layout about to replace the grid package at ``output`` gives
    one of its grid IDs to another place (:func:`gridkit.package.reissued_ids`)."""
    from gridkit.package import reissued_ids

    ids = _from_replaced(output, overwrite, lambda path: reissued_ids(path, cells))
    if ids:
        click.echo(f"warning: {len(ids):,} grid ID{'s' if len(ids) > 1 else ''} of the replaced {output} now "
                   f"name{'' if len(ids) > 1 else 's'} another place (first {ids[0]}): records kept elsewhere by "
                   "grid ID would point at the wrong grid. To keep IDs, let `gridkit grid rebalance` divide a "
                   "household layout again, or write the new layout to another file.", err=True)


def _from_replaced(output, overwrite, read):
    """``read(output)`` when ``--overwrite`` replaces a grid package there, else None."""
    import pyogrio

    from gridkit.errors import InputError

    if overwrite and Path(output).suffix.lower() == ".gpkg" and Path(output).exists():
        try:
            return read(output)
        except (InputError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
            pass  # a GeoPackage, but no grid package: nothing of it to keep
    return None


def reassigned(catalogue, cells, step, *, micro=None, today=None, replacing=None) -> tuple:
    """``(catalogue, moved)``: the catalogue carried into ``cells`` (and its
    ``micro`` grids), each component in use in the cell that holds it now
    (``(None, 0)`` without one). ``replacing``:
    the package the layout replaces, named in the error when the components lie
    outside the new layout."""
    from gridkit.catalogue import reassign_catalogue
    from gridkit.errors import InputError

    if catalogue is None:
        return None, 0
    step("assigning the components to the grids now")
    try:
        return reassign_catalogue(catalogue, cells, micro=micro, today=today)
    except InputError as exc:
        if replacing is None:
            raise
        raise InputError(f"{replacing}: its {exc}; to start afresh without its catalogue, delete {replacing} "
                         "first, or write the new layout to another file") from None


def _picture(preview) -> list:
    """The summary's line naming the --preview map, when one was drawn."""
    return [f"map          {preview}"] if preview else []


def carried_lines(catalogue, moved, kept) -> list:
    """Summary lines of what a package took from the one it replaces: the
    catalogue, and what the user had added (``kept``: :func:`gridkit.package.added_by_hand`
    of the new package)."""
    lines = []
    if catalogue is not None:
        lines.append(f"components   {len(catalogue):,} carried over (layer components); {moved:,} now in a new "
                     "grid (SZDYWGBSM)")
    said = added_text(kept["layers"], kept["tables"], kept["projects"], kept["styles"]["f_table_name"]) if kept \
        else ""
    return lines + (["kept         " + said] if said else [])


def household_problems(layout, communities):
    """What breaks the partition invariants: grids that do not tile their communities,
    micro-grids that do not tile their grids (empty when all is well)."""
    import gridkit as gk
    from gridkit.invariants import check_micro_grids

    problems = gk.check_partition(layout.grids, communities).problems
    if layout.micro is not None:
        problems += check_micro_grids(layout.micro, layout.grids).problems
    return problems


def refuse_broken(layout, communities):
    """Stop before writing grids that do not tile their communities (or micro-grids
    their grids): a wrong layout is worse than none."""
    from gridkit.errors import GridkitError

    problems = household_problems(layout, communities)
    if problems:
        raise GridkitError("the grids break the partition invariants, so nothing was written: "
                           + "; ".join(problems[:5]) + " (please report it with the input)")


def draw_household_grids(layout, communities, path, outlined=None, outlined_label="new grids"):
    """A PNG of the grids over their communities, titled with the band and the shape;
    ``outlined``: grid IDs to draw with black edges (the new grids of a rebalance),
    counted in the legend as ``outlined_label``."""
    from gridkit.package import units_layer
    from gridkit.preview import plot_layout

    plot_layout(layout.grids, units_layer(communities), path, colour_by="grid_id", micro=layout.micro,
                outlined=None if outlined is None else layout.grids["grid_id"].isin(outlined).to_numpy(),
                outlined_label=outlined_label, title=household_title(layout.grids, layout.summary["band"]))


def household_title(grids, band):
    """A household layout's picture title, from its grids as they are: "134 grids ·
    100 % in 100–150 households · Polsby–Popper 0.69"."""
    import pandas as pd

    from gridkit.households import polsby_popper

    low, high = band
    households = pd.to_numeric(grids["households"], errors="coerce")
    in_band = 100.0 * float(households.between(low, high).mean()) if len(grids) else 0.0
    compact = float(polsby_popper(grids.geometry.values).mean()) if len(grids) else 0.0
    return f"{len(grids)} grids · {percent(in_band)} % in {low:g}–{high:g} households · Polsby–Popper {compact:.2f}"


def _household_input_options(counted, where="", layer="", xy="detected", encoding=DETECTED, every=False):
    """The options of :func:`household_input_opts`, in --help's order (``where``,
    ``layer``: more of --households-where's and --households-layer's help; ``xy``,
    ``encoding``: where --x-field and --y-field, and --households-encoding, come
    from when not given; ``every``: --households-where "" reads every feature)."""
    return [
        click.option("--households", "households_path", required=True, type=FilePath(exists=True),
                     help="Address points, building polygons or census-style blocks with household counts; "
                          "address points may be a CSV, a workbook (.xlsx, .xls, .ods) or plain Parquet (a file or "
                          "a folder of parts) with coordinate columns (lon/lat, 经度/纬度, x/y …), and blocks or "
                          "buildings a table with a WKT column."),
        click.option("--households-layer", default=None, help=f"Layer of --households to read.{layer}"),
        click.option("--households-where", default=None, metavar="SQL", type=BLANK_OK if every else None,
                     help="Read only the household features matching this OGR SQL WHERE clause over their columns, "
                          "e.g. \"building IN ('residential', 'apartments', 'house')\" for OpenStreetMap "
                          f"buildings with --floors-field. Messages still number features as the file does.{where}"),
        click.option("--households-encoding", type=Encoding(), default=None, metavar="NAME",
                     help="Text encoding of a CSV --households or of a Shapefile's attributes, e.g. BIG5 or "
                          f"CP1252 (default: {encoding})."),
        click.option("--x-field", default=None,
                     help=f"CSV/.xlsx --households: column with x / longitude (default: {xy}; "
                          f"{BOTH_COORDINATES})."),
        click.option("--y-field", default=None,
                     help=f"CSV/.xlsx --households: column with y / latitude (default: {xy})."),
        click.option("--count-field", default=None,
                     help=f"Column with households per feature (default: {counted})."),
        click.option("--floors-field", default=None,
                     help="Instead of --count-field, for building footprints: the column with each building's "
                          "floors; its households = footprint (m²) × floors ÷ --area-per-household, rounded."),
        click.option("--area-per-household", type=Number(min=0, min_open=True), default=None, metavar="M2",
                     help="Floor area per household in m² for --floors-field (e.g. 90)."),
        click.option("--default-floors", type=Number(min=0), default=None,
                     help="With --floors-field: floors of a building whose field is empty (counted in a warning); "
                          "without it an empty field is an error naming the rows. `grid rebalance` takes it on its "
                          "own: the package's floor rule, empty floors counted so."),
        click.option("--kind", type=click.Choice(["auto", "points", "blocks"]), default="auto", show_default=True,
                     help="points: points or buildings (by representative point, never split); blocks: areal "
                          "counts. auto: polygons covering half the area are blocks."),
    ]


def _stacked(options):
    """One decorator applying click ``options`` in --help's order."""
    def apply(command):
        for option in reversed(options):
            command = option(command)
        return command
    return apply


def household_input_opts(counted="1 each; blocks need one", where="", layer="", xy="detected", encoding=DETECTED,
                         every=False):
    """The options that read the households: the file, its layer, filter and text
    encoding, coordinate columns, count or floors, and kind (``grid households``,
    ``grid rebalance``); ``counted``: what --count-field's help gives as its
    default, ``where``, ``layer``: what --households-where's and
    --households-layer's help add, ``xy``, ``encoding``: --x-field's and
    --y-field's default, and --households-encoding's; ``every``: whether
    --households-where "" means every feature (rather than being refused as empty)."""
    return _stacked(_household_input_options(counted, where, layer, xy, encoding, every))


def barrier_opts(what, crs_default=None):
    """--barriers (``what`` its help), --barriers-layer, --barriers-where and
    --barriers-crs (``crs_default``: what its help gives as the default; None: --crs)."""
    crs_help = ("What the barriers' coordinates really are (default: --crs). OSM data is WGS84 even when the "
                "boundaries are gcj02." if crs_default is None else
                f"What the barriers' coordinates really are (default: {crs_default}).")
    return _stacked([
        click.option("--barriers", type=FilePath(dir_okay=False), default=None, help=what),
        click.option("--barriers-layer", default=None, help="Layer of --barriers to read."),
        click.option("--barriers-where", default=None, metavar="SQL",
                     help="Read only the barriers matching this OGR SQL WHERE clause over their columns. An "
                          "OpenStreetMap network holds footpaths and estate service roads, which bound no "
                          f"street block: --barriers-where \"{OSM_STREETS}\"."),
        crs_opt("--barriers-crs", help=crs_help),
    ])


def read_boundaries(path, *, layer, where, crs, encoding, code_field, name_field, provisional):
    """BOUNDARIES, with the --where, --code-field, --name-field and --provisional to
    build the unit hierarchy with, and the package's {code: name} of streets and
    counties (:func:`named_above`).

    As given, unless BOUNDARIES is a grid package and neither --layer nor
    --code-field is given: then its communities are the boundaries (layer units,
    level 'community', codes in code, names in name), provisional when theirs are,
    with a note. That is a layout gridded again: by households after by area, say,
    or at another cell size, in the same communities with the same codes."""
    import gridkit as gk
    from gridkit.package import read_layer

    if not package_communities(path, layer, code_field):
        gdf = gk.read_vector(path, layer=layer, crs=crs, encoding=encoding, where=where)
        exported = None if code_field else exported_communities(gdf)
        if exported is None:
            return gdf, where, code_field, name_field, provisional, {}
        communities, marked, above = exported
        where = communities_where(where)
        note_package_communities(path, len(communities), where, exported=True)
        return communities, where, "code", name_field or "name", provisional or marked, above
    where = communities_where(where)
    gdf = gk.read_vector(path, layer="units", crs=crs, where=where)
    note_package_communities(path, len(gdf), where)
    units = read_layer(path, "units", columns=["level", "code", "name"], geometry=False)
    above = units[units["level"] != "community"]
    return (gdf, where, "code", name_field or "name", provisional or bool(gdf["provisional"].any()),
            dict(zip(above["code"], above["name"].fillna(""))))


def package_communities(path, layer, code_field) -> bool:
    """Is ``path`` a grid package to read as its communities: given with neither a
    layer nor a code column (:func:`read_boundaries`, ``grid adopt --units``)?"""
    from gridkit.io import file_layers

    return (layer is None and code_field is None and Path(path).suffix.lower() == ".gpkg"
            and {"units", "gridkit_metadata"} <= {name for name, _ in file_layers(path)})


UNIT_LEVELS = ("county", "street", "community")


def exported_communities(gdf):
    """When ``gdf`` is a grid package's units layer exported (`gridkit export --layer
    units`: counties, streets and communities, coded in ``code``, in one file), its
    communities (numbered as in the file), whether any is provisional, and the
    {code: name} of its streets and counties; else None."""
    import pandas as pd

    from gridkit.io import source_rows

    if not {"level", "code"} <= set(gdf.columns):
        return None
    if "name" not in gdf.columns and "Name" in gdf.columns:  # a .kml's placemark names
        gdf = gdf.rename(columns={"Name": "name"})
    levels = gdf["level"].astype(str).str.strip()
    if not (levels.isin(UNIT_LEVELS).all() and (levels == "community").any()):
        return None
    keep = (levels == "community").to_numpy()
    communities = gdf[keep].copy()
    communities.attrs["source_rows"] = source_rows(gdf)[keep]
    # provisionl: a Shapefile's name for it (`gridkit export` lists the renaming)
    marked = next((communities[c] for c in ("provisional", "provisionl") if c in gdf.columns), None)
    marked = marked is not None and bool(marked.astype(str).str.strip().str.lower().isin(["true", "1"]).any())
    names = gdf["name"] if "name" in gdf.columns else pd.Series("", index=gdf.index)
    above = dict(zip(gdf["code"][~keep].astype(str), names[~keep].fillna("").astype(str)))
    return communities, marked, above


def communities_where(where):
    """A grid package's units layer's communities, and of them those ``where`` keeps."""
    community = "level = 'community'"
    return f"{community} AND ({where})" if where else community


def note_package_communities(path, n, where, prefix="--", exported=False):
    """Say that a grid package's ``n`` communities are read, and how to read otherwise
    (the options named with ``prefix``: "--units-" for ``grid adopt --units``); or,
    ``exported``, those of its units layer exported (:func:`exported_communities`)."""
    its = "its community is read" if n == 1 else f"its {n:,} communities are read"
    if exported:
        click.echo(f"note: {path} is a grid package's units layer: {its} (as {prefix}where \"{where}\" "
                   f"{prefix}code-field code; give {prefix}code-field to read every feature)", err=True)
        return
    click.echo(f"note: {path} is a grid package: {its} ({prefix}layer units {prefix}where \"{where}\" "
               f"{prefix}code-field code; give {prefix}layer to read another layer)", err=True)


def named_above(communities, names):
    """``communities`` (:func:`gridkit.unit_hierarchy`'s) with the street and county
    names of the package they came from (:func:`read_boundaries`) where theirs are
    blank: a hierarchy built from communities knows only their own names."""
    for level in ("street", "county"):
        blank = communities[f"{level}_name"].fillna("") == ""
        communities.loc[blank, f"{level}_name"] = [names.get(code, "") for code in
                                                   communities.loc[blank, f"{level}_code"]]
    return communities


def read_barriers(path, layer, crs, where):
    """The lines of --barriers (with --barriers-layer, -crs and -where), or None
    without --barriers."""
    import gridkit as gk

    if not path:
        return None
    return gk.read_vector(path, layer=layer, crs=crs, where=where or None, where_option="--barriers-where")


def check_household_inputs(households_path, x_field, y_field, count_field, floors_field, area_per_household,
                           default_floors):
    """Usage errors for household options that contradict each other."""
    from gridkit.catalogue import TABLE_SUFFIXES

    if (x_field or y_field) and Path(households_path).suffix.lower() not in TABLE_SUFFIXES:
        raise click.UsageError("--x-field and --y-field name the coordinate columns of a CSV or .xlsx "
                               f"--households; {households_path} is neither")
    if (floors_field is None) != (area_per_household is None):
        raise click.UsageError("--floors-field and --area-per-household go together (households = footprint "
                               "m² × floors ÷ area per household)")
    if floors_field and count_field:
        raise click.UsageError("give --count-field or --floors-field, not both")
    if default_floors is not None and not floors_field:
        raise click.UsageError("--default-floors goes with --floors-field")


@grid.command("units")
@click.argument("boundaries", type=FilePath(dir_okay=False))
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False),
              help="Output: .gpkg writes the grid package (cells, units, metadata; opens in QGIS "
                   "styled); .geojson/.fgb/.parquet/.shp write the cells only.")
@click.option("--layer", default=None,
              help="Layer of BOUNDARIES to read (default: the first; of a grid package, its communities).")
@where_opt
@click.option("--code-field", default=None,
              help="Column with each unit's code: 12-digit community, 9-digit street or 6-digit county.")
@click.option("--name-field", default=None, help="Column with the units' names (default: detected).")
@click.option("--provisional", is_flag=True,
              help="Allow provisional codes: provisional communities (and streets) when the finest "
                   "level is a street or county, and codes for features without one (needs --parent-code).")
@click.option("--parent-code", default=None,
              help="6- or 9-digit code of the unit containing features that have no code.")
@crs_opt("--crs", help="What BOUNDARIES' coordinates really are, overriding the file's label: EPSG:4326, "
                       "EPSG:4490, gcj02 (Amap/Tencent), bd09 (Baidu; bd09mc for its metres), or any EPSG code. "
                       "Chinese web-map data labelled EPSG:4326 is usually gcj02.")
@click.option("--metric-crs", default=None, metavar="CRS", callback=metric_crs_value,
              help="Work in this projected CRS, in metres (default: the boundaries' own when it is in metres "
                   "and does not stretch areas, as Web Mercator does; else CGCS2000 3° Gauss-Krüger zone in China, "
                   "UTM elsewhere).")
@encoding_opt
@click.option("--cell-area", default=10_000.0, show_default=True, type=Number(min=1, min_open=False),
              help="Target cell area in m² (10000 is a hectare). More cells than this machine's memory holds "
                   "(about 1.2 kB each) are refused before cutting.")
@click.option("--hex", "hexagons", is_flag=True, help="Planar hexagons instead of squares.")
@click.option("--h3", "h3_cells", is_flag=True, help="H3 hexagons at the resolution nearest --cell-area.")
@barrier_opts("Lines cells must not cross (street centre lines, OSM edges, rivers), or polygons (water areas) by "
              "their outlines.")
@click.option("--sliver-ratio", default=0.3, show_default=True, type=Number(0, 1),
              help="Pieces smaller than this share of --cell-area merge into a neighbour.")
@click.option("--merge-small-blocks", is_flag=True,
              help="Merge blocks below the sliver size (traffic islands) across their barrier.")
@click.option("--start-date", type=Day(), default=None, metavar="YYYY-MM-DD",
              help="Start date written to every cell (default: today).")
@preview_opt()
@layout_overwrite_opt
@summary_json_opt
def units_command(boundaries, output, layer, where, code_field, name_field, provisional, parent_code, crs,
                  metric_crs, encoding, cell_area, hexagons, h3_cells, barriers, barriers_layer, barriers_where,
                  barriers_crs, sliver_ratio, merge_small_blocks, start_date, preview, overwrite, as_json):
    """Divide BOUNDARIES into coded unit cells of about --cell-area m².

    Every cell lies in one community, gets a 15-digit grid ID (community code +
    3-digit sequence, west→east then north→south) and passes the partition
    invariants (no gaps, no overlaps). When the boundaries are districts or
    streets, --provisional divides them into provisional communities whose codes
    use unassigned ranges (street 900–999, community 600–999) and are flagged.
    Features without a code (--provisional --parent-code) are one community
    each; one too large for a community (over 999 cells) becomes a provisional
    street of its own, tiled into provisional communities.

    \b
    Examples:
      gridkit grid units data/samples/dongcheng_gcj02.gpkg --crs gcj02 \\
          --code-field adcode --provisional -o dongcheng.gpkg --preview dongcheng.png
      gridkit grid units data/samples/cambridge_neighborhoods.gpkg --provisional \\
          --parent-code 990101 --name-field NAME \\
          --barriers data/samples/cambridge_centerlines.gpkg -o cambridge.gpkg

    With --barriers and --provisional, provisional communities are sized by the
    cells they will hold (every small block is a cell), not by area.

    BOUNDARIES may be a grid package (with neither --layer nor --code-field), or
    its units layer exported (`gridkit export --layer units`): its communities are
    gridded again, with their codes, shapes and names:

    \b
      gridkit grid units demo-output/cambridge.gpkg --cell-area 20000 -o cambridge_20k.gpkg
    """
    import gridkit as gk
    from gridkit.errors import GridkitError

    t0 = time.perf_counter()
    if parent_code and not provisional:
        raise click.UsageError("--parent-code gives provisional codes: add --provisional")
    require_with(barriers_layer=("barriers", barriers), barriers_crs=("barriers", barriers),
                 barriers_where=("barriers", barriers), merge_small_blocks=("barriers", barriers))
    if hexagons and h3_cells:
        raise click.UsageError("--hex (planar hexagons) or --h3 (H3 cells), not both")
    refuse_existing(output, preview, overwrite=overwrite, inputs={"BOUNDARIES": boundaries, "--barriers": barriers})
    shape = "hex" if hexagons else "h3" if h3_cells else "square"
    try:
        with Steps() as step:
            step("reading boundaries")
            gdf, where, code_field, name_field, provisional, names = read_boundaries(
                boundaries, layer=layer, where=where, crs=crs, encoding=encoding, code_field=code_field,
                name_field=name_field, provisional=provisional)
            lines = None
            if barriers:
                step("reading barriers")
                lines = read_barriers(barriers, barriers_layer,
                                      input_crs(barriers, barriers_layer, barriers_crs, crs, "--barriers-crs"),
                                      barriers_where)
            step("building the unit hierarchy")
            communities = named_above(gk.unit_hierarchy(gdf, code_field=code_field, name_field=name_field,
                                                        provisional=provisional, parent_code=parent_code,
                                                        cell_area=cell_area, metric_crs=metric_crs,
                                                        barriers=lines, tile_large=True), names)
            step("making cells")
            cells = gk.unit_grid(communities, cell_area=cell_area, shape=shape,
                                 barriers=lines, sliver_ratio=sliver_ratio,
                                 merge_small_blocks=merge_small_blocks, start_date=start_date)
            added, catalogue, component_metadata = replaced(output, overwrite)
            catalogue, moved = reassigned(catalogue, cells, step, replacing=output)
            warn_reissued(output, overwrite, cells)
            step(f"writing {output}")
            params = {"boundaries": str(boundaries), "where": where, "code_field": code_field, "crs": crs,
                      "cell_area": cell_area, "shape": shape, "barriers": barriers,
                      "barriers_layer": barriers_layer, "barriers_where": barriers_where, "barriers_crs": barriers_crs,
                      "sliver_ratio": sliver_ratio, "provisional": provisional,
                      "parent_code": parent_code, "merge_small_blocks": merge_small_blocks}
            gk.write_package(output, cells, communities, parameters=params, overwrite=overwrite, carry=added,
                             extra_layers={"components": catalogue}, extra_metadata=component_metadata)
            kept = gk.package.added_by_hand(output) if added is not None else None
            if preview:
                step(f"drawing {preview}")
                from gridkit.package import units_layer
                from gridkit.preview import plot_layout

                plot_layout(cells, units_layer(communities), preview)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    _summary(communities, cells, output, time.perf_counter() - t0,
             carried_lines(catalogue, moved, kept) + _picture(preview), as_json)


def _summary(communities, cells, output, seconds, carried, as_json):
    s = cells.attrs["summary"]
    r = communities.attrs["report"]
    lines = [
        f"units        {r['input_features']} input feature{'' if r['input_features'] == 1 else 's'} → "
        f"{r['communities']} {'community' if r['communities'] == 1 else 'communities'} "
        f"({r['provisional_communities']} provisional"
        + (f"; {r['tiled_features']} feature{'' if r['tiled_features'] == 1 else 's'} too large for one, tiled"
           if r.get("tiled_features") else "") + ")",
        f"cells        {s['cells']:,} ({s['shape']}, target {s['cell_area']:,.0f} m²)",
        f"area m²      mean {s['area_mean']:,.0f}  min {s['area_min']:,.0f}  max {s['area_max']:,.0f}",
        f"merges       {s['merges']:,} slivers merged; {s['isolated_small_cells']:,} small cells with no neighbour",
        f"repairs      {r['repaired']} invalid geometries repaired; {r['overlaps_resolved']} unit overlaps resolved"
        + (f" (the largest {r['overlap_max_m2']:.3g} m²)" if r["overlaps_resolved"] else ""),
    ]
    if "blocks" in s:
        lines.append(f"blocks       {s['blocks']:,} street blocks ({s['small_blocks']} below the sliver size)")
    lines += [f"crs          {r['metric_crs']} (input {r['source_crs']})", *carried,
              f"output       {output}", f"time         {seconds:.2f} s (gridding {s['seconds']:.2f} s)"]
    echo_summary(lines, {**s, **r}, as_json)


@grid.command("adopt")
@click.argument("grids", type=FilePath(dir_okay=False))
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False), callback=package_output,
              help="The grid package to write (.gpkg: cells, units, metadata; opens in QGIS styled).")
@click.option("--layer", default=None, help="Layer of GRIDS to read (default: the first).")
@click.option("--where", default=None, metavar="SQL",
              help="Adopt only the cells matching this OGR SQL WHERE clause, e.g. \"WGBM LIKE '110101001%'\" (one "
                   "street). Messages still number features as the file does.")
@click.option("--id-field", default=None,
              help="Column with each cell's 15-digit grid ID (default: grid_id, WGBM, 网格编码 … or the first "
                   "column whose every value is 15 digits). Numbers are read as their digits.")
@click.option("--community-name-field", default=None,
              help="Column with the community's name (default: community_name, comm_name, 社区名称, SQMC, communit_1 …).")
@click.option("--street-name-field", default=None,
              help="Column with the street's name (default: street_name, strt_name, 街道名称, JDMC …).")
@click.option("--county-name-field", default=None,
              help="Column with the county's name (default: county_name, cnty_name, 区县名称, QXMC …).")
@crs_opt("--crs", help="What GRIDS' coordinates really are, overriding the file's label: EPSG:4326, EPSG:4490, "
                       "gcj02 (Amap/Tencent), bd09 (Baidu), or any EPSG code.")
@click.option("--metric-crs", default=None, metavar="CRS", callback=metric_crs_value,
              help="Keep the package in this projected CRS, in metres (default: GRIDS' own when it is in metres "
                   "and does not stretch areas; else CGCS2000 3° Gauss-Krüger zone in China, UTM elsewhere).")
@encoding_opt
@click.option("--units", "units_path", default=None, type=FilePath(dir_okay=False),
              help="The communities' own boundaries (polygons with 12-digit codes): they become the package's "
                   "communities, and the cells are checked against them (gaps, cells beyond their community). "
                   "Without it each community is the union of its cells. A grid package, or its units layer "
                   "exported (`gridkit export --layer all`): its communities.")
@click.option("--units-code-field", default=None,
              help="Column of --units with the 12-digit community codes (a grid package's: code).")
@click.option("--units-name-field", default=None, help="Column of --units with the names (default: detected).")
@click.option("--units-layer", default=None, help="Layer of --units (default: the first).")
@click.option("--units-where", default=None, metavar="SQL",
              help="Read only the --units features matching this OGR SQL WHERE clause, e.g. \"level = 'community'\" "
                   "(a units layer gridkit exported is read as its communities without it).")
@crs_opt("--units-crs", help="What --units' coordinates really are (default: --crs, unless one of them is "
                             "lon/lat and the other projected: then --units as labelled).")
@click.option("--micro", "micro_path", default=None, type=FilePath(dir_okay=False),
              help="The micro-grids (微网格) drawn in the cells, as a second file: polygons with 17-digit micro IDs "
                   "(the grid's ID and 2 digits from 01). They are checked against their cells, and locate, "
                   "components and route then answer the micro-grid too.")
@click.option("--micro-id-field", default=None,
              help="Column of --micro with the 17-digit micro IDs (default: micro_id, WWGBM, 微网格编码 … or the "
                   "first column whose every value is 17 digits).")
@click.option("--micro-layer", default=None, help="Layer of --micro (default: the first).")
@click.option("--micro-where", default=None, metavar="SQL",
              help="Read only the --micro features matching this OGR SQL WHERE clause (those of the cells --where "
                   "kept, say).")
@crs_opt("--micro-crs", help="What --micro's coordinates really are (default: --crs, unless one of them is "
                             "lon/lat and the other projected: then --micro as labelled).")
@click.option("--start-date", type=Day(), default=None, metavar="YYYY-MM-DD",
              help="Start date for cells without a start_date column (default: today).")
@click.option("--snap", type=Number(min=0, min_open=True), default=None, metavar="METRES",
              help="First clean the cells into a coverage (GEOS's coverage cleaner), for cells whose neighbours "
                   "were digitised apart (the check finds thousands of narrow overlaps): vertices within METRES "
                   "snap together, each overlap goes to the cell sharing the longest border with it, and gaps "
                   "narrower than METRES are filled. With --units, the cells' edges within METRES of their "
                   "community's boundary are then moved onto it (cut off beyond it, filled up to it). A cell that "
                   "would vanish, or change by more than its boundary moved METRES all round, stops the run, named. "
                   "With --micro, the micro-grids are cleaned so too, and fitted to their cells.")
@click.option("--problems", "problems_out", type=FilePath(dir_okay=False), default=None, callback=problems_path,
              help="Write where each problem the check finds lies (overlap, gap, stray cell) to this .gpkg, "
                   "layer 'problems', to open beside the cells and fix (empty when all holds).")
@preview_opt()
@layout_overwrite_opt
@summary_json_opt
def adopt_command(grids, output, layer, where, id_field, community_name_field, street_name_field, county_name_field,
                  crs, metric_crs, encoding, units_path, units_code_field, units_name_field, units_layer, units_where,
                  units_crs, micro_path, micro_id_field, micro_layer, micro_where, micro_crs, start_date, snap,
                  problems_out, preview, overwrite, as_json):
    """Bring GRIDS, cells drawn elsewhere (another platform's Shapefile, say, or a CSV with WKT), into a grid package.

    Each cell keeps its geometry and its 15-digit grid ID, which gives its
    community, street and county; each community is the union of its cells, or
    its own boundary from --units. The package is then checked like any other
    (`gridkit check`: overlaps, duplicated IDs and, with --units, gaps and cells
    beyond their community) and the problems printed; it is written all the same,
    so that you can fix them in QGIS and check again. From there, components
    import, locate, serve, export and map work on it as on a layout gridkit made.
    A cell without a well-formed grid ID stops the run, with every such cell named.

    \b
    Examples (the files `gridkit export` wrote, as another platform would hold them):
      gridkit grid adopt dongcheng_amap.geojson --crs gcj02 -o dongcheng_adopted.gpkg
      gridkit grid adopt cincinnati_cells.shp --units cincinnati_units.shp \\
          -o cincinnati_adopted.gpkg --problems adopt_problems.gpkg   # both from export --layer all
      gridkit grid adopt c601.shp --id-field grid_id --encoding GBK -o c601.gpkg   # one community, GBK
      gridkit grid adopt cincinnati_cells.shp --micro cincinnati_micro_grids.shp -o cincinnati_micro.gpkg
      gridkit grid adopt cincinnati_table.csv -o cincinnati_from_csv.gpkg   # WKT, in the CRS of its .prj
      gridkit grid adopt dongcheng_amap.geojson --crs gcj02 --snap 1 -o dongcheng_snapped.gpkg   # cells drawn apart
    """
    import gridkit as gk
    from gridkit.adopt import adopted_grid, adopted_micro_grids, community_boundaries
    from gridkit.invariants import check_micro_grids
    from gridkit.errors import GridkitError

    t0 = time.perf_counter()
    require_with(units_code_field=("units_path", units_path), units_name_field=("units_path", units_path),
                 units_layer=("units_path", units_path), units_where=("units_path", units_path),
                 units_crs=("units_path", units_path), micro_id_field=("micro_path", micro_path),
                 micro_layer=("micro_path", micro_path), micro_where=("micro_path", micro_path),
                 micro_crs=("micro_path", micro_path))
    units_package = bool(units_path) and package_communities(units_path, units_layer, units_code_field)
    if units_package:
        units_layer, units_where, units_code_field = "units", communities_where(units_where), "code"
        units_name_field = units_name_field or "name"
    refuse_existing(output, preview, problems_out, overwrite=overwrite,
                    inputs={"GRIDS": grids, "--units": units_path, "--micro": micro_path})
    names = {"community_name": community_name_field, "street_name": street_name_field,
             "county_name": county_name_field}
    try:
        with Steps() as step:
            step(f"reading {grids}")
            gdf = gk.read_vector(grids, layer=layer, crs=crs, encoding=encoding, where=where, arrow=True)
            communities = None
            if units_path:
                step(f"reading {units_path}")
                units = gk.read_vector(units_path, layer=units_layer, encoding=encoding,
                                       crs=input_crs(units_path, units_layer, units_crs, crs, "--units-crs"),
                                       where=units_where, where_option="--units-where")
                exported = None if units_code_field else exported_communities(units)
                if exported:
                    units, units_where, units_code_field = exported[0], communities_where(units_where), "code"
                    units_name_field = units_name_field or "name"
                    note_package_communities(units_path, len(units), units_where, "--units-", exported=True)
                elif not units_code_field:
                    raise click.UsageError("--units needs --units-code-field, the column with the communities' "
                                           "12-digit codes (or a grid package, or its units layer exported, whose "
                                           "communities are read)")
                if units_package:
                    note_package_communities(units_path, len(units), units_where, "--units-")
                communities = community_boundaries(units, code_field=units_code_field, name_field=units_name_field,
                                                   metric_crs=metric_crs)
            step("adopting the cells")
            cells, communities = adopted_grid(gdf, id_field=id_field, name_fields=names, communities=communities,
                                              metric_crs=metric_crs, start_date=start_date, snap=snap)
            micro = None
            if micro_path:
                step(f"reading {micro_path}")
                micro_read_crs = input_crs(micro_path, micro_layer, micro_crs, crs, "--micro-crs")
                micro = adopted_micro_grids(gk.read_vector(micro_path, layer=micro_layer, crs=micro_read_crs,
                                                           encoding=encoding, where=micro_where,
                                                           where_option="--micro-where", arrow=True),
                                            cells, id_field=micro_id_field, snap=snap)
            step("checking the partition")
            reports = {"cells": gk.check_partition(cells, communities)}
            if micro is not None:
                reports["micro_grids"] = check_micro_grids(micro, cells)
            added, catalogue, component_metadata = replaced(output, overwrite)
            catalogue, moved = reassigned(catalogue, cells, step, micro=micro, replacing=output)
            warn_reissued(output, overwrite, cells)
            step(f"writing {output}")
            params = {"adopted": str(grids), "layer": layer, "where": where,
                      "id_field": cells.attrs["summary"]["id_field"], "crs": crs, "snap": snap,
                      "units": units_path and str(units_path), "units_code_field": units_code_field,
                      "units_layer": units_layer, "units_where": units_where,
                      "micro_grids": micro_path and str(micro_path), "micro_layer": micro_layer,
                      "micro_where": micro_where,
                      "micro_id_field": micro is not None and micro.attrs["summary"]["id_field"] or None}
            gk.write_package(output, cells, communities, parameters=params, overwrite=overwrite, carry=added,
                             extra_layers={"micro_grids": micro, "components": catalogue},
                             extra_metadata=component_metadata)
            kept = gk.package.added_by_hand(output) if added is not None else None
            if problems_out:
                write_problems(reports, problems_out, overwrite=overwrite)
            if preview:
                step(f"drawing {preview}")
                from gridkit.package import units_layer
                from gridkit.preview import plot_layout

                plot_layout(cells, units_layer(communities), preview, micro=micro)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    _adopt_summary(cells, micro, reports, output, problems_out, time.perf_counter() - t0,
                   carried_lines(catalogue, moved, kept) + _picture(preview), as_json)


def _adopt_summary(cells, micro, reports, output, problems_out, seconds, carried, as_json):
    s = cells.attrs["summary"]
    named = ", ".join(f"{field} ({level.split('_')[0]})" for level, field in s["name_fields"].items())
    lines = [
        f"cells        {s['cells']:,} (grid IDs from {s['id_field']}; names from {named or 'no column'})",
        f"units        {s['counties']} {'county' if s['counties'] == 1 else 'counties'}, {s['streets']} "
        f"{'street' if s['streets'] == 1 else 'streets'}, {s['communities']} "
        f"{'community' if s['communities'] == 1 else 'communities'}"
        + (" (each the union of its cells)" if not s["communities_given"] else
           " (boundaries from --units)" if not s["communities_from_cells"] else
           f" ({s['communities'] - s['communities_from_cells']} from --units, {s['communities_from_cells']} "
           "made from their cells: not in --units)"),
        f"area m²      mean {s['area_mean']:,.0f}  min {s['area_min']:,.0f}  max {s['area_max']:,.0f}",
    ]
    if s["repaired"]:
        lines.append(f"repairs      {s['repaired']} invalid cell{'' if s['repaired'] == 1 else 's'} repaired "
                     "(make_valid)")
    if s["snapped"]:
        done = s["snapped"]
        lines.append(f"snapped      within {done['width_m']:g} m: {done['overlaps']:,} overlapping pairs resolved, "
                     f"{done['changed']:,} cells changed (largest {done['largest_m2']:,.0f} m², {done['largest']})"
                     + (f"; {done['fitted']:,} fitted to their community's boundary ({done['fitted_m2']:,.0f} m² "
                        "moved)" if "fitted" in done else ""))
    if s["multipart"]["cells"]:
        lines.append(f"parts        {multipart_text(s['multipart'])}")
    if s["kept_columns"]:
        lines.append(f"kept         columns {', '.join(map(str, s['kept_columns']))}")
    if micro is not None:
        m = micro.attrs["summary"]
        bare = s["cells"] - m["grids_with_micro"]
        none = f"; {bare:,} {'cell has' if bare == 1 else 'cells have'} none" if bare else ""
        lines.append(f"micro-grids  {m['micro_grids']:,} in {m['grids_with_micro']:,} cells (micro IDs from "
                     f"{m['id_field']}){none}"
                     + (f"; {m['repaired']} invalid repaired (make_valid)" if m["repaired"] else ""))
        if m["snapped"]:
            done = m["snapped"]
            lines.append(f"snapped      micro-grids within {done['width_m']:g} m: {done['overlaps']:,} overlapping "
                         f"pairs resolved, {done['changed']:,} changed; {done['fitted']:,} fitted to their grid's "
                         f"boundary ({done['fitted_m2']:,.0f} m² moved)")
    for layer, report in reports.items():
        head = "check        " + ("micro-grids " if layer == "micro_grids" else "")
        parent = "a grid's" if layer == "micro_grids" else "a community's"
        if report.ok:
            lines.append(f"{head}ok (largest overlap {report.max_overlap_m2:.2g} m², largest coverage error "
                         f"{report.max_coverage_error:.2g} of {parent} area)")
        else:
            lines.append(f"{head}{len(report.problems):,} problem(s); fix them (QGIS) and run gridkit check "
                         f"{output}" + (f"; where each lies: {problems_out}" if problems_out else ""))
            lines += problem_lines(report.problems, problems_out)
            width = _sliver_width(report) if layer == "cells" and s["communities_given"] else None
            if width is not None:
                lines.append(f"  hint: every problem is a sliver at most {width * 100:.2g} cm wide: the cells and "
                             "--units were rounded apart (a GeoJSON keeps 7 decimals of lon/lat, about 1 cm). Adopt "
                             "without --units (each community the union of its cells), or take --units from a "
                             "file of full precision (GeoPackage, Shapefile)")
            apart = _sliver_width(report, widest=5.0) if layer == "cells" and not s["communities_given"] else None
            if apart is not None and not s["snapped"]:
                # Centimetres: a vertex of one cell on its neighbour's edge, rounded off it (an export of
                # gridkit's own cells to GeoJSON comes back so); wider: edges drawn twice
                cause = "rounded apart (a GeoJSON keeps 7 decimals of lon/lat, about 1 cm)" if apart <= 0.05 \
                    else "digitised apart"
                lines.append(f"  hint: every problem is a sliver at most {apart:.2g} m wide: neighbours {cause}. "
                             f"--snap {math.ceil(apart * 10) / 10:g} cleans them into a coverage (and fills gaps as "
                             "narrow)")
    lines += [f"crs          {s['metric_crs']} (input {s['source_crs']})", *carried,
              f"output       {output}", f"time         {seconds:.2f} s"]
    details = {**s, "problems": reports["cells"].problems}
    if micro is not None:
        details.update(micro_grids=micro.attrs["summary"], micro_problems=reports["micro_grids"].problems)
    echo_summary(lines, details, as_json)


def _sliver_width(report, widest=0.05):
    """The widest of the report's problems, in metres (2 × area / perimeter), when
    every problem lies somewhere and none is wider than ``widest``: slivers that
    rounding leaves, not a cell drawn wrong. None otherwise."""
    import numpy as np
    import shapely

    where = np.array(report.where, dtype=object)
    if len(where) < len(report.problems) or not len(where) or shapely.is_missing(where).any():
        return None
    length = shapely.length(where)
    width = np.where(length > 0, 2 * shapely.area(where) / np.maximum(length, 1e-12), 0.0)
    return float(width.max()) if width.max() <= widest else None


def band_opts(rebalance=False):
    """The band options of `grid households`, and of `grid rebalance`, where they
    change the package's band or give one to grids made elsewhere."""
    was = (" Default: the package's band (its metadata); give the band to change it, or to rebalance grids "
           "adopted from another platform (`grid adopt`), which have none.") if rebalance else ""
    options = [
        click.option("--min-households", type=Number(min=1), default=None, help="Band: lower bound." + was),
        click.option("--max-households", type=Number(min=1), default=None, help="Band: upper bound."),
        click.option("--target", type=Number(min=1), default=None, help="Band as a target …"),
        click.option("--tolerance", type=SHARE_OR_COUNT, default=0.2, show_default=True,
                     help="… ± this share (below 1, or as 20%) or this many households."),
        click.option("--micro", default=None, metavar="MIN,MAX",
                     help="Nested micro-grids of MIN–MAX households (20,50; also 20–50 or 20，50)."
                     + (" Default: the package's micro band; needed for micro-grids adopted with their cells."
                        if rebalance else "")),
    ]

    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def given_bands(min_households, max_households, target, tolerance, micro, *, required=True):
    """The band options, checked before any file is read (a mistake is named at
    once): ``(band, micro_band)``, each a (low, high) pair, or None when not given
    (and not ``required``)."""
    from gridkit.errors import GridkitError
    from gridkit.households import bands_of

    given = target is not None or min_households is not None or max_households is not None
    if (required or given) and target is None and (min_households is None or max_households is None):
        raise click.UsageError("give --min-households and --max-households, or --target")
    require_with(tolerance=("target", target))
    if target is not None and (min_households is not None or max_households is not None):
        raise click.UsageError("give the band one way: --min-households and --max-households, or --target "
                               "(with --tolerance)")
    micro_band = None
    if micro is not None:
        # 20,50 or as the band is printed (20–50), typed in Chinese (20，50) or with a tilde.
        from gridkit.codes import half_width

        pair = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*[,，、~～\-–—]\s*(\d+(?:\.\d*)?)\s*", half_width(micro))
        if pair is None:
            raise click.BadParameter(f"{micro!r}: expected MIN,MAX, e.g. 20,50", param_hint="--micro")
        micro_band = (float(pair[1]), float(pair[2]))
    if not given:
        return None, micro_band
    try:
        band, _ = bands_of(min_households, max_households, target, tolerance, micro_band)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    return (band.low, band.high), micro_band


@grid.command("households")
@click.argument("boundaries", type=FilePath(dir_okay=False))
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False), callback=package_output,
              help="Output .gpkg: grids (as the package's cells layer), units, micro_grids, "
                   "household_rejects, metadata; opens in QGIS styled (grids by band).")
@click.option("--layer", default=None,
              help="Layer of BOUNDARIES to read (default: the first; of a grid package, its communities).")
@where_opt
@encoding_opt
@household_input_opts()
@band_opts()
@click.option("--split-polygons", is_flag=True,
              help="Allow cutting household blocks into lattice pieces (count shared by area) so that "
                   "grids can hit the band and stay compact: blocks holding many households, or large "
                   "sparse ones, are cut. Without it every block stays whole.")
@click.option("--code-field", default=None, help="Column with each unit's code (as in `grid units`).")
@click.option("--name-field", default=None, help="Column with the units' names.")
@click.option("--provisional", is_flag=True, help="Allow provisional codes (as in `grid units`).")
@click.option("--parent-code", default=None, help="6- or 9-digit code containing features with no code.")
@crs_opt("--crs", help="What BOUNDARIES' coordinates really are (EPSG:4326, EPSG:4490, gcj02, bd09, bd09mc, …), and "
                       "the other inputs' unless given their own. A lon/lat --crs leaves an input labelled with a "
                       "projected CRS as labelled (its coordinates are metres), and a projected one an input "
                       "labelled lon/lat.")
@crs_opt("--households-crs", help="What the households' coordinates really are (default: --crs): GPS-surveyed "
                                  "addresses are WGS84 even when the boundaries are gcj02.")
@barrier_opts("Roads, rivers, rail: grids follow them, crossing only where a block is too light.")
@preview_opt("the grids")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes dividing communities side by side; the grids are the same. Each takes ~1 s to "
                   "start: worth it for several large communities (Dongcheng's 8 with 200,000 households and "
                   "--micro 20,50: 17 s on 1, 10.5 s on 2), not for one.")
@layout_overwrite_opt
@summary_json_opt
def households_command(boundaries, households_path, output, layer, where, encoding, households_layer,
                       households_where, households_encoding, x_field, y_field, count_field, floors_field,
                       area_per_household, default_floors, kind, min_households, max_households, target, tolerance,
                       micro, split_polygons, code_field, name_field, provisional, parent_code, crs, households_crs,
                       barriers, barriers_layer, barriers_where, barriers_crs, preview, workers, overwrite, as_json):
    """Divide BOUNDARIES into grids holding a band of households.

    Each grid is one contiguous polygon, the grids tile each community exactly,
    and every grid's household count lies in the band wherever the data allows;
    where it does not (an island of 12, one building of 600) the grid is flagged
    with the reason. Households outside every community, or with no position
    (blank coordinates in a CSV), go to the household_rejects layer and are
    counted.

    The flag column: too_few (the whole community holds fewer households than
    the lower bound), island, indivisible, unplaceable and forced grids are out
    of the band in any division (forced: no division of the households of the
    grid and the grids around it fits the band, proved by search, or those of
    the area between barriers make no whole number of grids: 330 at 200–300);
    light and heavy ones are out because no division in the band was found,
    though none was proved impossible. flag_detail gives the numbers. Street
    blocks too light for a grid join a neighbour across the street (counted; the
    column crosses_barrier marks such grids). Barriers work with points,
    buildings and blocks alike.

    \b
    Example (Cincinnati's census blocks, 100–150 households):
      gridkit grid households data/samples/cincinnati_city.gpkg --provisional \\
          --parent-code 990201 --households data/samples/cincinnati_blocks.gpkg \\
          --households-layer blocks --count-field HOUSEHOLDS \\
          --min-households 100 --max-households 150 --split-polygons \\
          -o cincinnati.gpkg --preview cincinnati.png

    Building footprints with storeys instead of counts: --floors-field FLOORS
    --area-per-household 90 gives each building footprint × floors ÷ 90 m².
    Address points from a CSV (or .xlsx): --households addresses.csv --count-field hh
    (coordinate columns lon/lat, 经度/纬度, x/y … found by name, or --x-field
    and --y-field; --households-crs gcj02 for positions from Amap or Tencent).
    BOUNDARIES may be a grid package (a unit-grid layout, say), or its units layer
    exported: its communities are divided, with their codes and shapes (--where
    "code = '…'" for some).
    """
    import gridkit as gk
    from gridkit.catalogue import read_points
    from gridkit.errors import GridkitError
    from gridkit.households import balanced_grid

    t0 = time.perf_counter()
    check_household_inputs(households_path, x_field, y_field, count_field, floors_field, area_per_household,
                           default_floors)
    require_with(barriers_layer=("barriers", barriers), barriers_where=("barriers", barriers),
                 barriers_crs=("barriers", barriers))
    _, micro_band = given_bands(min_households, max_households, target, tolerance, micro)
    refuse_existing(output, preview, overwrite=overwrite,
                    inputs={"BOUNDARIES": boundaries, "--households": households_path, "--barriers": barriers})
    try:
        with Steps() as step:
            step("reading inputs")
            gdf, where, code_field, name_field, provisional, names = read_boundaries(
                boundaries, layer=layer, where=where, crs=crs, encoding=encoding, code_field=code_field,
                name_field=name_field, provisional=provisional)
            homes = read_points(households_path, layer=households_layer,
                                crs=input_crs(households_path, households_layer, households_crs, crs,
                                              "--households-crs"),
                                x_field=x_field, y_field=y_field, where=households_where or None,
                                where_option="--households-where", encoding=households_encoding,
                                crs_option="--households-crs")
            lines = read_barriers(barriers, barriers_layer,
                                  input_crs(barriers, barriers_layer, barriers_crs, crs, "--barriers-crs"),
                                  barriers_where)
            added, catalogue, component_metadata = replaced(output, overwrite)
            step("building the unit hierarchy")
            # With the barriers, as `grid units` does: the same provisional communities
            # (and codes) for the same district in both layouts.
            communities = named_above(gk.unit_hierarchy(gdf, code_field=code_field, name_field=name_field,
                                                        provisional=provisional, parent_code=parent_code,
                                                        barriers=lines), names)
            step("dividing by households")
            bar = []

            def progress(done, total):  # one bar over the communities, by households
                if progress_enabled() and len(communities) > 1:
                    if not bar:
                        bar.append(click.progressbar(length=total, label="communities",
                                                     file=click.get_text_stream("stderr")))
                    bar[0].update(done - bar[0].pos)

            layout = balanced_grid(communities, homes, min_households=min_households,
                                   max_households=max_households, target=target, tolerance=tolerance,
                                   count_field=count_field, floors_field=floors_field,
                                   area_per_household=area_per_household, default_floors=default_floors,
                                   kind=kind, barriers=lines,
                                   split_polygons=split_polygons, micro=micro_band, progress=progress,
                                   workers=workers)
            if bar:
                bar[0].render_finish()
            step("checking the invariants")
            refuse_broken(layout, communities)
            params = {"boundaries": str(boundaries), "where": where, "encoding": encoding,
                      "households": str(households_path),
                      "households_layer": households_layer, "households_where": households_where,
                      "households_encoding": households_encoding, "x_field": x_field, "y_field": y_field,
                      "count_field": count_field, "floors_field": floors_field,
                      "area_per_household": area_per_household, "default_floors": default_floors,
                      "kind": layout.summary["kind"],
                      "band": layout.summary["band"], "micro": micro_band, "split_polygons": split_polygons,
                      "barriers": barriers, "barriers_layer": barriers_layer, "barriers_where": barriers_where,
                      "crs": crs, "households_crs": households_crs, "barriers_crs": barriers_crs}
            catalogue, moved = reassigned(catalogue, layout.grids, step, micro=layout.micro, replacing=output)
            warn_reissued(output, overwrite, layout.grids)
            step(f"writing {output}")
            write_household_package(output, layout, communities, params, overwrite=overwrite, components=catalogue,
                                    component_metadata=component_metadata, carry=added)
            kept = gk.package.added_by_hand(output) if added is not None else None
            if preview:
                step(f"drawing {preview}")
                draw_household_grids(layout, communities, preview)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    s = layout.summary
    lines_out = [
        f"grids        {s['grids']} in {len(communities)} {'community' if len(communities) == 1 else 'communities'} "
        f"(band {s['band'][0]:g}–{s['band'][1]:g}, {s['kind']})",
        f"in band      {s['in_band']} ({percent(s['in_band_pct'])} %)",
        f"households   {s['households']:,} in grids; per grid min {s['households_min']:,}  "
        f"max {s['households_max']:,}  CV {s['households_cv']:.3f}",
        f"shape        mean Polsby–Popper {s['polsby_popper_mean']:.3f}; {s['contiguous']} of {s['grids']} "
        "single polygons",
        "invariants   ok: the grids tile every community (no gap, no overlap)"
        + (", the micro-grids every grid" if "micro" in s else ""),
        (f"barriers     {s['barrier_crossings']} light blocks joined across a barrier; "
         f"{s['grids_crossing_barriers']} grids cross one (column crosses_barrier)" if barriers else
         "barriers     none given (--barriers: streets, rivers or rail for the grids to follow)"),
        f"flagged      {s['flagged']}",
    ]
    from gridkit.households import FLAGS

    lines_out += [f"  {n:4d} × {flag}: {FLAGS[flag]}" for flag, n in s["flags"].items()]
    of_whole_blocks = sum(n for flag, n in s["flags"].items() if flag not in ("island", "too_few"))
    if s["kind"] == "blocks" and not split_polygons and of_whole_blocks:
        grids_word = "grid" if of_whole_blocks == 1 else "grids"
        lines_out.append(f"hint         {of_whole_blocks} flagged {grids_word} of whole blocks: --split-polygons lets "
                         "gridkit cut blocks (households shared by area) to reach the band")
    lines_out += _light_tiles_hint(layout, communities, parent_code)
    lines_out += carried_lines(catalogue, moved, kept)
    _echo_summary(lines_out, s, "community", output, preview, t0, as_json)


def _light_tiles_hint(layout, communities, parent_code):
    """A hint when provisional communities hold too few households for one grid. A
    street or county given without its communities is tiled by area, as for unit
    grids (at most 999 cells of 10,000 m²): in a rural district (Putuo's islands)
    most tiles then hold a few dozen households and end as too_few grids. (With
    --parent-code, provisional communities are the features themselves.)"""
    if parent_code:
        return []
    grids = layout.grids
    light = set(grids.loc[grids["flag"] == "too_few", "community_code"])
    provisional = communities[communities["provisional"].astype(bool)]
    tiles = provisional["community_code"]
    n = len(light & set(tiles))
    if len(tiles) < 2 or n < max(2, len(tiles) // 4):
        return []
    # The street's code, or the county's above a provisional street (9xx), and the
    # households it holds: as one community, it can number at most 999 grids.
    from gridkit.codes import MAX_CELLS_PER_COMMUNITY

    held = grids.groupby("community_code")["households"].sum()
    parents = {}
    for code, street, county in zip(tiles, provisional["street_code"], provisional["county_code"]):
        parent = county if street[6:9] >= "900" else street
        parents[parent] = parents.get(parent, 0) + int(held.get(code, 0))
    high = layout.summary["band"][1]
    said = (f"hint         {n} of {len(tiles)} provisional communities hold fewer households than the lower bound: "
            "they are cut by area, as for unit grids. Give the real communities (12-digit codes)")
    if len(parents) > 1:
        return [f"{said}, or divide each feature as one community: leave out --code-field and pass --provisional "
                f"--parent-code with the district's or street's code (a community of at most "
                f"{MAX_CELLS_PER_COMMUNITY} grids: {MAX_CELLS_PER_COMMUNITY * high:,g} households at most)"]
    ((parent, total),) = parents.items()
    least = math.ceil(total / high - 1e-9)
    if least > MAX_CELLS_PER_COMMUNITY:  # the whole as one community would be refused
        return [f"{said}: as one community (--parent-code {parent}), its {total:,} households would need at least "
                f"{least:,} grids of at most {high:g}, more than the {MAX_CELLS_PER_COMMUNITY} a community numbers"]
    return [f"{said}, or divide each feature as one community: leave out --code-field and pass --provisional "
            f"--parent-code {parent}"]


@grid.command("rebalance")
@click.argument("package", type=FilePath(exists=True, dir_okay=False))
@household_input_opts(counted="the package's, as its metadata records it",
                      where=" Default: the package's, as its metadata records it; \"\" reads every feature.",
                      layer=" Default: the package's (its metadata), when the file has a layer of that name.",
                      xy="the package's, when its metadata records them; else detected",
                      encoding=f"the package's, when its metadata records one; else {DETECTED}", every=True)
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False), callback=package_output,
              help="The new grid package (.gpkg): the grids now as cells, and ended_grids (and "
                   "ended_micro_grids): the grids that changed, as they were, with end_date and replaced_by.")
@crs_opt("--households-crs",
         help="What the households' coordinates really are (default: the package's, as its metadata records "
              "--households-crs or --crs; else the file's own label). gcj02 for Chinese web-map data labelled "
              "EPSG:4326.")
@barrier_opts("Roads, rivers, rail: a new grid keeps to them, as in `grid households` (default: the barriers "
              "the package was divided along, when that file is still there).", crs_default="the file's own label")
@band_opts(rebalance=True)
@click.option("--split-polygons/--whole-polygons", default=None,
              help="Cut household blocks (count shared by area among the pieces) or keep each whole, as "
                   "`grid households --split-polygons` does (default: as the package was made; whole for grids "
                   "adopted from another platform, whose outlines may well cut blocks: give --split-polygons).")
@click.option("--recount-only", is_flag=True,
              help="Recount and flag the grids out of the band; change none.")
@preview_opt("the grids")
@overwrite_opt
@summary_json_opt
def rebalance_command(package, households_path, output, households_layer, households_where, households_encoding,
                      x_field, y_field, count_field, floors_field, area_per_household, default_floors, kind,
                      households_crs, barriers, barriers_layer, barriers_where, barriers_crs, min_households,
                      max_households, target, tolerance, micro, split_polygons, recount_only, preview, overwrite,
                      as_json):
    """Recount PACKAGE's grids with the households now, and divide again only
    those out of the band (动态调整: adjusted as things change).

    PACKAGE is a grid package from `gridkit grid households`, edited in QGIS or
    not. Every grid is recounted; a grid now out of the band is divided again
    with the grids around it (the partitioner's repairs and chains), and every
    other grid keeps its ID, outline and start date (a community none of whose
    grids is in the band is divided anew, as grid households divides it). The
    grids that change end: the ended_grids layer keeps them as they were, with
    end_date and replaced_by; the grids that replace them take the community's
    next sequence numbers. No ID is issued twice, even one deleted by hand: the package's
    metadata keeps the highest issued (highest_issued). Micro-grids of a new
    grid are divided anew; those of a kept grid are recounted. The band, micro
    band, count field, splitting and barriers are the package's (its metadata),
    and the households are read with its layer, filter, CRS and coordinate
    columns unless told otherwise. A band given changes the package's (--target
    250: every grid out of 200–300 is divided again), and grids adopted from
    another platform (`grid adopt`), which record none, need one:
    --min-households and --max-households, --micro for their micro-grids, and
    --split-polygons where their outlines cut blocks. With barriers, a new grid
    keeps to one street block (or light ones joined, as `grid households` joins
    them), and every grid's crosses_barrier is measured again. A community
    boundary moved in the units layer is followed first: in the communities
    whose grids no longer tile them, each grid is cut to its community (kept
    when at least half of it stays, ended otherwise), and the land left that
    grids covered joins the grid beside it along the longest edge; the recount
    then divides again those out of the band; the grids of a community deleted
    from the units layer (merged into another) go over to the one they lie in,
    with its next IDs; a community added to it (one split in two) takes the
    grids whose larger part lies in it, cut to it, with its IDs. A component
    catalogue (`gridkit components import`) comes along: each component in the
    grid that now holds it, its change date (BGRQ) set where its grid changed.
    So do the layers and tables added to the package by hand and the QGIS styles
    and projects saved into it; a project's layers that read the old package
    read the new one.

    \b
    Example (the layout `grid households` made, recounted with the blocks as
    they are now; a block grown by 400 households ends 5 grids and makes 8):
      gridkit grid rebalance cincinnati.gpkg --households data/samples/cincinnati_blocks.gpkg \\
          --households-layer blocks -o cincinnati_now.gpkg --preview cincinnati_now.png
    """
    import pandas as pd
    import pyogrio

    import gridkit as gk
    from gridkit.catalogue import read_points
    from gridkit.errors import GridkitError
    from gridkit.package import GRIDKIT_LAYERS, read_layer
    from gridkit.rebalance import communities_of, highest_issued, rebalance

    t0 = time.perf_counter()
    # --default-floors alone is checked against the package's own counting, once read.
    alone = count_field is None and floors_field is None
    check_household_inputs(households_path, x_field, y_field, count_field, floors_field, area_per_household,
                           None if alone else default_floors)
    require_with(barriers_layer=("barriers", barriers), barriers_where=("barriers", barriers),
                 barriers_crs=("barriers", barriers))
    band, micro_band = given_bands(min_households, max_households, target, tolerance, micro, required=False)
    refuse_existing(output, preview, overwrite=overwrite, inputs={"--households": households_path,
                                                                  "--barriers": barriers})
    try:
        with Steps() as step:
            step("reading the package and the households")
            cells, units, meta = gk.read_package(package)
            added, catalogue, component_metadata = carried_from(package, meta)
            params = _metadata_json(package, meta, "parameters")
            layers = {name for name, _ in pyogrio.list_layers(package)}
            params["band"], micro = _rebalance_bands(package, params, layers, band, micro_band)
            micro_grids = read_layer(package, "micro_grids") if micro else None
            recorded = count_field is None and floors_field is None  # the counting the package records
            if recorded:
                if "count_field" not in params:
                    click.echo(f"warning: {package} does not record how its households were counted: each "
                               "household feature counts 1 (give --count-field if a column holds counts)", err=True)
                if default_floors is not None and not params.get("floors_field"):  # on its own: the package's rule
                    counted = f"--count-field {params['count_field']}" if params.get("count_field") else "one each"
                    raise click.UsageError("--default-floors goes with --floors-field: the package's households "
                                           f"were counted {counted}, not by the floor-area rule")
                count_field, floors_field = params.get("count_field"), params.get("floors_field")
                area_per_household = params.get("area_per_household")
                default_floors = params.get("default_floors") if default_floors is None else default_floors
            # An adopted package's parameters (its CRS, layer, filter) are its grids': none is the households'.
            made_with = {} if params.get("adopted") else params
            households_layer, households_where, households_crs, x_field, y_field, households_encoding = (
                _recorded_households(package, made_with, households_path, households_layer, households_where,
                                     households_crs, x_field, y_field, households_encoding))
            if Path(households_path).samefile(package) and households_layer in (None, *GRIDKIT_LAYERS):
                raise click.UsageError(
                    f"--households {households_path} is PACKAGE itself, whose layers are grids, not households: "
                    f"give the households file it was made from ({params.get('households', 'see gridkit info')}), "
                    "as it is now, or --households-layer for a layer of households added to it")
            homes = read_points(households_path, layer=households_layer, crs=households_crs, x_field=x_field,
                                y_field=y_field, where=households_where or None, where_option="--households-where",
                                encoding=households_encoding, crs_option="--households-crs")
            kind, recorded_field = _counted_as_made(params, kind, count_field if recorded else None, homes,
                                                    households_path, package)
            count_field = recorded_field if recorded else count_field
            barriers, barriers_layer, barriers_where, barriers_crs = _rebalance_barriers(
                package, made_with, barriers, barriers_layer, barriers_where, barriers_crs)
            lines = read_barriers(barriers, barriers_layer, barriers_crs, barriers_where)
            # The grids ended by earlier rebalances stay on record, and no ID issued comes back.
            history = {name: read_layer(package, name)
                       for name in ("ended_grids", "ended_micro_grids") if name in layers}
            issued = highest_issued(*(history[name][column].astype(str) for name, column in
                                      (("ended_grids", "grid_id"), ("ended_micro_grids", "micro_id"))
                                      if name in history and column in history[name].columns),
                                    before=_metadata_json(package, meta, "highest_issued"))
            sized_for = _metadata_json(package, meta, "atoms_sized_for")
            if split_polygons is None:
                split_polygons = bool(params.get("split_polygons"))
            if not sized_for and split_polygons and made_with.get("split_polygons"):
                click.echo(f"note: {package} does not record the households its blocks' pieces were sized for "
                           "(atoms_sized_for: made before gridkit recorded it); they are sized for today's, so a "
                           "kept grid's count may move by a few households where blocks are split", err=True)
            day = datetime.date.today()  # the new grids start, the changed ones and their components change
            step("recounting" if recount_only else "recounting and dividing again where out of the band")
            communities = communities_of(cells, units)
            done = rebalance(cells, communities, homes, min_households=params["band"][0],
                             max_households=params["band"][1], count_field=count_field, floors_field=floors_field,
                             area_per_household=area_per_household, default_floors=default_floors,
                             kind=kind, split_polygons=split_polygons, barriers=lines,
                             micro_grids=micro_grids, micro=micro, redivide=not recount_only, issued=issued,
                             sized_for=sized_for, start_date=day.isoformat())
            layout = done.layout
            ended, ended_micro = (pd.concat([history[name], frame], ignore_index=True)
                                  if name in history and frame is not None else frame
                                  for name, frame in (("ended_grids", done.ended),
                                                      ("ended_micro_grids", done.ended_micro)))
            step("checking the invariants")
            refuse_broken(layout, communities)
            # The component catalogue comes along, each component in the grid that now holds it.
            catalogue, moved = reassigned(catalogue, layout.grids, step, micro=layout.micro,
                                          today=day.strftime("%Y%m%d"))
            step(f"writing {output}")
            write_household_package(output, layout, communities, {
                **made_with, "band": params["band"], "micro": micro, "split_polygons": split_polygons,
                "rebalanced_from": str(package), "households": str(households_path),
                "households_layer": households_layer, "households_where": households_where or None,
                "households_crs": households_crs, "households_encoding": households_encoding,
                "x_field": x_field, "y_field": y_field,
                "count_field": count_field, "floors_field": floors_field, "recount_only": recount_only,
                "barriers": barriers, "barriers_layer": barriers_layer, "barriers_where": barriers_where,
                "barriers_crs": barriers_crs},
                overwrite=overwrite, issued=done.issued, ended=ended, ended_micro=ended_micro, components=catalogue,
                component_metadata=component_metadata, carry=added)
            kept = gk.package.added_by_hand(output)  # what the new package holds of it
            if preview:
                step(f"drawing {preview}")
                cut = (layout.summary["followed"] or {}).get("cut_ids", [])
                draw_household_grids(layout, communities, preview, outlined=[*layout.summary["new_ids"], *cut],
                                     outlined_label="new and cut grids" if cut else "new grids")
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    s = layout.summary
    lines_out = [
        f"recounted    {len(cells)} grids: {s['out_before']} out of the band {s['band'][0]:g}–{s['band'][1]:g}",
        *_followed(s["followed"]),
        _changed(s["ended_ids"], s["new_ids"]) + f"; {s['grids'] - len(s['new_ids'])} kept with their IDs",
        f"in band      {s['in_band']} of {s['grids']} ({percent(s['in_band_pct'])} %)",
        f"households   {s['households']:,} in grids (before: {_counted_before(s['households_before'])}); per grid min "
        f"{s['households_min']:,}  max {s['households_max']:,}  CV {s['households_cv']:.3f}",
        f"shape        mean Polsby–Popper {s['polsby_popper_mean']:.3f}",
        f"flagged      {s['flagged']}" + "".join(f"; {n} {flag}" for flag, n in s["flags"].items()),
    ]
    if barriers:
        lines_out.append(f"barriers     {s['grids_crossing_barriers']} grids cross one (column crosses_barrier); "
                         f"{barriers}" + (f" where {barriers_where}" if barriers_where else ""))
    lines_out += carried_lines(catalogue, moved, kept)
    _echo_summary(lines_out, s, "grid", output, preview, t0, as_json)



@grid.command("recut")
@click.argument("package", type=FilePath(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False), callback=package_output,
              help="The new grid package (.gpkg): the cells now, and ended_grids: the cells that ended, as they "
                   "were, with end_date and replaced_by.")
@barrier_opts("Roads, rivers, rail: the new cells keep to them, as in `grid units` (default: the barriers the "
              "package was divided along, when that file is still there).", crs_default="the file's own label")
@click.option("--cell-area", type=Number(min=1, min_open=False), default=None,
              help="Target cell area in m² of the new cells (default: the package's, as its metadata records it).")
@click.option("--date", "start_date", type=Day(), default=None, metavar="YYYY-MM-DD",
              help="The new cells' start_date, the ended ones' end_date and the moved components' change date "
                   "(default: today).")
@preview_opt("the cells, the changed ones outlined")
@overwrite_opt
@summary_json_opt
def recut_command(package, output, barriers, barriers_layer, barriers_where, barriers_crs, cell_area, start_date,
                  preview, overwrite, as_json):
    """Cut PACKAGE's cells again to its units layer, after a community boundary was
    moved in it (in QGIS, say: a block handed to the next community).

    `gridkit check` then names cells beyond their community and land no cell
    covers. In each community whose cells no longer tile it, a cell is cut to the
    community: its largest piece keeps its ID when that is at least half the cell,
    and the cell ends otherwise. The land no kept cell covers is divided as the
    layout was (the package's cell area, shape and barriers; square cells keep to
    the old lattice) into new cells, numbered after the highest ID ever issued in
    the community; a new piece smaller than the sliver size joins the cell it
    shares the longest edge with (across no barrier). Every other community's
    cells stay as they were. A community added to the units layer (one split in
    two: the new part given its own code, name and parent_code) is divided so
    too, its names, street and county from the units layer. The cells of a
    community deleted from it (merged into another, drawn over them) go over to
    the community they lie in, outlines kept, with its next IDs; cells in no
    community now are refused. No ID is issued twice: the ended cells go to the
    ended_grids layer, and the metadata keeps the highest issued. A component
    catalogue comes along, each component in the cell that now holds it, its
    change date (BGRQ) set where its cell changed; so do the layers, styles and
    projects added to the package.

    For unit grids (`grid units`, `grid adopt`); household grids follow their
    households, and a household package is refused: `grid rebalance` follows a
    moved boundary in one.

    \b
    Example (after moving a boundary in the units layer of cambridge.gpkg):
      gridkit check cambridge.gpkg   # cells beyond their community, land no cell covers
      gridkit grid recut cambridge.gpkg -o cambridge_recut.gpkg --preview recut.png
    """
    import pandas as pd
    import pyogrio

    import gridkit as gk
    from gridkit.errors import GridkitError
    from gridkit.package import read_layer
    from gridkit.rebalance import communities_of, highest_issued
    from gridkit.recut import recut

    t0 = time.perf_counter()
    require_with(barriers_layer=("barriers", barriers), barriers_where=("barriers", barriers),
                 barriers_crs=("barriers", barriers))
    refuse_existing(output, preview, overwrite=overwrite, inputs={"PACKAGE": package, "--barriers": barriers})
    day = datetime.date.fromisoformat(start_date) if start_date else datetime.date.today()  # checked by Day
    try:
        with Steps() as step:
            step("reading the package")
            cells, units, meta = gk.read_package(package)
            params = _metadata_json(package, meta, "parameters")
            made = _metadata_json(package, meta, "summary")
            if gk.package.holds_households(package, cells):
                raise GridkitError(f"{package} is a household layout: its grids follow its households, which "
                                   "recut does not count; `grid rebalance` cuts its grids to a moved boundary "
                                   "and counts them again (recut divides unit grids, from `grid units`)")
            cell_area = cell_area or made.get("cell_area")
            if not cell_area:
                raise GridkitError(f"{package}: its metadata records no cell area (grids adopted from elsewhere?): "
                                   "give --cell-area, the area in m² of the cells to divide new land into")
            added, catalogue, component_metadata = carried_from(package, meta)
            barriers, barriers_layer, barriers_where, barriers_crs = _rebalance_barriers(
                package, params, barriers, barriers_layer, barriers_where, barriers_crs)
            lines = read_barriers(barriers, barriers_layer, barriers_crs, barriers_where)
            layers = {name for name, _ in pyogrio.list_layers(package)}
            history = read_layer(package, "ended_grids") if "ended_grids" in layers else None
            issued = highest_issued(
                () if history is None else history["grid_id"].astype(str),
                before=_metadata_json(package, meta, "highest_issued"))
            communities = communities_of(cells, units)
            step("cutting the cells again to their communities")
            done = recut(cells, communities, cell_area=cell_area, shape=made.get("shape", "square"),
                         barriers=lines, sliver_ratio=made.get("sliver_ratio", 0.3), issued=issued,
                         start_date=day.isoformat())
            ended = done.ended if history is None else pd.concat([history, done.ended], ignore_index=True)
            catalogue, moved = reassigned(catalogue, done.cells, step, today=day.strftime("%Y%m%d"))
            step(f"writing {output}")
            area = done.cells["area_m2"]
            done.cells.attrs["summary"] = {**made, "cells": len(done.cells), "area_mean": float(area.mean()),
                                           "area_min": float(area.min()), "area_max": float(area.max()),
                                           "recut": done.summary}
            gk.write_package(output, done.cells, communities, parameters={
                **params, "recut_from": str(package), "barriers": barriers, "barriers_layer": barriers_layer,
                "barriers_where": barriers_where, "barriers_crs": barriers_crs}, overwrite=overwrite, carry=added,
                extra_layers={"components": catalogue, "ended_grids": ended},
                extra_metadata={"highest_issued": done.issued, **component_metadata})
            kept = gk.package.added_by_hand(output) if added is not None else None
            if preview:
                step(f"drawing {preview}")
                from gridkit.package import units_layer
                from gridkit.preview import plot_layout

                changed = done.cells["grid_id"].isin([*done.summary["new_ids"], *done.summary["cut_ids"]])
                plot_layout(done.cells, units_layer(communities), preview, outlined=changed.to_numpy(),
                            outlined_label="new and cut cells")
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    s = done.summary
    new, cut = s["new_ids"], s["cut_ids"]
    lines_out = [
        f"recut        {s['communities']} of {len(communities)} communities whose cells no longer tiled them",
        _changed(s["ended_ids"], new) + f", {len(cut)} cut; {len(done.cells) - len(new) - len(cut)} kept as they were",
        f"merges       {s['merged']} new piece(s) below the sliver size joined the cell beside them",
        *_given_over(s["over"], "cells"),
        *carried_lines(catalogue, moved, kept), *_picture(preview),
        f"output       {output}", f"time         {time.perf_counter() - t0:.2f} s"]
    echo_summary(lines_out, {**s, "cells": len(done.cells)}, as_json)

def _changed(ended, new):
    """The summary line's start naming what a rebalance or a recut changed:
    "changed      5 ended, 8 new (990201900600135 … 990201900600142)"."""
    return (f"changed      {len(ended)} ended, {len(new)} new"
            + (f" ({new[0]} … {new[-1]})" if len(new) > 1 else f" ({new[0]})" if new else ""))


def _followed(followed):
    """The summary lines on the communities whose boundary moved in the units layer,
    and on those it no longer holds (none: no line)."""
    if not followed:
        return []
    moved = followed["communities"]
    over = followed["over"]
    one = len(moved) == 1
    return [*([f"followed     the units layer: {len(moved)} communit{'y' if one else 'ies'} moved "
               f"({', '.join(moved[:3])}{' …' if len(moved) > 3 else ''}); {len(followed['cut_ids'])} grids cut or "
               f"grown to {'it' if one else 'them'}, {len(followed['ended_ids']) - len(over)} ended (most of each "
               "beyond its community)"] if moved else []),
            *_given_over(over, "grids"),
            *(f"added        community {code} (new in the units layer, most of it {added['from']}'s before): "
              f"{len(added['ids'])} grids cut from the grids in it, with its IDs"
              for code, added in followed["added"].items())]


def _given_over(over, what):
    """The summary line on the cells (or grids) of communities the units layer no
    longer holds, given to the one each lies in (none: no line)."""
    if not over:
        return []
    gone = sorted({old[:12] for old in over})
    return [f"given over   {len(over)} {what} of {', '.join(gone[:3])}{' …' if len(gone) > 3 else ''} (not in the "
            "units layer now) to the community each lies in, with its next IDs"]


def _counted_before(households):
    """The households the grids held before a rebalance, as its summary says it: the
    grids' households column, which grids adopted from elsewhere may lack."""
    return "not counted, no households column" if households is None else f"{households:,}"


def _rebalance_bands(package, params, layers, band, micro_band):
    """``(band, micro band)`` for `grid rebalance` of ``package``: those given, else
    the package's (``params``, its metadata). The micro band counts only when the
    package has micro-grids: None otherwise. Grids adopted from elsewhere record no
    band; without one given, or micro-grids without a micro band, the command stops
    rather than guess (micro-grids left undivided would be dropped)."""
    from gridkit.errors import GridkitError
    from gridkit.households import bands_of

    band = band or params.get("band")
    if not band:
        adopted = " (grids adopted from elsewhere)" if params.get("adopted") else ""
        raise GridkitError(f"{package}: its metadata holds no band{adopted}; give the band to rebalance it to: "
                           "--min-households and --max-households, or --target")
    if "micro_grids" not in layers:
        if micro_band:
            raise GridkitError(f"{package} has no micro-grids for --micro to apply to; `grid households --micro` "
                               "divides a layout with them")
        return list(band), None
    micro = micro_band or params.get("micro")
    if not micro:
        raise GridkitError(f"{package} has micro-grids but records no micro band: give it, --micro MIN,MAX "
                           "(20,50, say)")
    bands_of(*band, None, None, micro)  # they must nest, the band given or the package's
    return list(band), list(micro)


def _counted_as_made(params, kind, count_field, homes, path, package):
    """``(kind, count_field)`` for rebalance to read today's households ``homes`` by.

    The kind is ``kind``, or for auto the one the package ``params`` record the layout
    was made from; but points where that was blocks (a city that counts by address
    point now), with a note. ``count_field`` is the column the package records (None
    when one was given): points that lack it count one household each. A recorded
    column missing otherwise is an error, since counting each feature as one would be
    silently wrong."""
    from gridkit.errors import GridkitError

    made = params.get("kind", kind) if kind == "auto" else kind
    missing = count_field is not None and count_field not in homes.columns
    points = not homes.geom_type.isin(["Polygon", "MultiPolygon"]).any()
    if params.get("kind") == "blocks" and points and kind in ("auto", "points"):
        click.echo(f"note: the layout was made from blocks; {path} holds points, read as points"
                   + (f", each one household ({package} counted by {count_field!r}, which they lack; give "
                      "--count-field if a column holds counts)" if missing else ""), err=True)
        return "points", None if missing else count_field
    if missing:
        raise GridkitError(f"{path}: no column {count_field!r}, which {package} records as the households' count: "
                           "give the column that holds them now (--count-field)")
    return made, count_field


def _echo_summary(lines_out, s, within, output, preview, t0, as_json):
    """Echo a household summary: ``lines_out``, then the lines that end both
    commands' (micro-grids, rejects outside every ``within``, map, output, time); with
    ``as_json``, the summary ``s`` as one JSON object instead."""
    if "micro" in s:
        m = s["micro"]
        lines_out.append(f"micro-grids  {m['grids']} ({percent(m['in_band_pct'])} % in band "
                         f"{m['band'][0]:g}–{m['band'][1]:g})")
    lost = f", {s['unprojected']} of them with coordinates that do not project" if s.get("unprojected") else ""
    placeless = f", {s['no_position']} with no position" if s.get("no_position") else ""
    hint = f"\n             {s['outside_hint']}" if s.get("outside_hint") else ""
    lines_out += [f"rejects      {s['outside']} household features outside every {within}{lost}{placeless} "
                  f"(layer household_rejects){hint}",
                  *_picture(preview),
                  f"output       {output}",
                  f"time         {time.perf_counter() - t0:.2f} s (dividing {s['seconds']:.2f} s)"]
    echo_summary(lines_out, s, as_json)


def _metadata_json(package, meta, key):
    """A JSON object from a package's metadata ({} when the key is missing)."""
    from gridkit.rebalance import highest_issued

    try:
        value = json.loads(meta.get(key) or "{}")
        if key == "highest_issued":  # read as rebalance reads it, so that a bad row fails here, named
            value = highest_issued(before=value)
        elif key == "atoms_sized_for":  # households per community code
            value = {str(code): int(n) for code, n in value.items()}
    except (ValueError, TypeError, AttributeError):
        value = None
    if not isinstance(value, dict):
        raise click.ClickException(f"{package}: the {key} row of its gridkit_metadata table is not what gridkit "
                                   "wrote (edited by hand?); restore it from a copy, or make the layout again "
                                   "with `gridkit grid households`")
    return value


def _recorded_households(package, params, path, layer, where, crs, x_field, y_field, encoding):
    """How a rebalance reads the households, ``(layer, where, crs, x_field,
    y_field, encoding)``: as given, else as the package recorded, with a note
    saying so: its --households-where, its layer when ``path`` has one of that
    name, its CRS (--households-crs, else --crs), its --households-encoding, and
    for a table (CSV, .xlsx) its coordinate columns. A package made from GCJ-02
    points labelled EPSG:4326 would otherwise be recounted with every household
    100–700 m off, and a CSV whose columns --x-field/--y-field named would not be
    read at all."""
    from gridkit.catalogue import TABLE_SUFFIXES
    from gridkit.io import file_layers

    if where is None and params.get("households_where"):
        where = params["households_where"]
        click.echo(f"note: reading the households through {package}'s --households-where {where!r} (give "
                   "--households-where \"\" to read every feature)", err=True)
    used = []
    recorded = params.get("households_layer")
    if layer is None and recorded and recorded in {name for name, _ in file_layers(path)}:
        layer = recorded
        used.append(f"--households-layer {layer}")
    recorded = None if crs is not None else input_crs(path, layer, params.get("households_crs"), params.get("crs"),
                                                      "--households-crs")
    if recorded:
        crs = recorded
        used.append(f"--households-crs {crs}")
    recorded = params.get("x_field"), params.get("y_field")
    if (x_field, y_field) == (None, None) and all(recorded) and Path(path).suffix.lower() in TABLE_SUFFIXES:
        x_field, y_field = recorded
        used.append(f"--x-field {x_field} --y-field {y_field}")
    if encoding is None and params.get("households_encoding"):
        encoding = params["households_encoding"]
        used.append(f"--households-encoding {encoding}")
    if used:
        click.echo(f"note: reading {path} with {package}'s {' and '.join(used)} (give the option to "
                   "read it otherwise)", err=True)
    return layer, where, crs, x_field, y_field, encoding


def _rebalance_barriers(package, params, barriers, layer, where, crs):
    """The barriers a rebalance keeps to, ``(path, layer, where, crs)``: those given,
    else those the package was divided along (its metadata: the file, its layer and
    filter), when that file is still there; a warning when it is not."""
    recorded = params.get("barriers")
    if barriers or not recorded:
        return barriers, layer, where, crs
    if not Path(recorded).exists():
        click.echo(f"warning: {package} was divided along the barriers in {recorded}, which is not there: new "
                   "grids may cross them (give --barriers)", err=True)
        return None, None, None, None
    return (recorded, params.get("barriers_layer"), params.get("barriers_where"),
            input_crs(recorded, params.get("barriers_layer"), params.get("barriers_crs"), params.get("crs"),
                      "--barriers-crs"))
