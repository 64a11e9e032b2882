"""``gridkit components …``: the component catalogue of a grid package."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import time
from pathlib import Path

import click

from .options import (DETECTED, Day, Encoding, FilePath, Number, Steps, crs_opt, degrees_opt, echo_summary, json_text,
                      names_read, near_line, overwrite_opt, preview_opt, refuse_existing, summary_json_opt,
                      text_encoding_opt, within, x_field_opt, y_field_opt)


@click.group()
def components():
    """Import component inventories into a grid package and query the catalogue.

    \b
    Classes and IDs follow GB/T 47678.5-2026 (17-digit IDs, 5-digit classes) or
    the legacy CJ/T 214 scheme (16-digit IDs, 4-digit classes).
    """


@components.command("import")
@click.argument("inventories", nargs=-1, required=True, type=FilePath(exists=True))
@click.option("--grid", "package", required=True, type=FilePath(exists=True, dir_okay=False),
              help="The grid package (.gpkg from `gridkit grid units|households`); its components layer "
                   "is created or updated in place, atomically.")
@click.option("--mapping", type=FilePath(exists=True, dir_okay=False), default=None,
              help="TOML file mapping the inventory's columns and classes onto the standard "
                   "(see data/samples/cambridge_mapping.toml).")
@click.option("--class", "class_code", default=None, metavar="CODE",
              help="One class for every row without an ID of its own, instead of a --mapping file's class or "
                   "class_field: a file of one kind (--class 02014 for traffic signals, or the class's name, "
                   "--class 交通信号灯; `gridkit components classes signal` finds the code). A row's ID still "
                   "gives its own class.")
@click.option("--class-field", default=None, metavar="COLUMN",
              help="The column giving each row's class, instead of a --mapping file's class or class_field: a "
                   "code, or a class's name as GB/T 47678.5-2026 or CJ/T 214 gives it (路灯, 上水井盖; the "
                   "summary says which names it read). Other words go in the mapping file's [classes].")
@click.option("--scheme", type=click.Choice(["2026", "legacy"]), default="2026", show_default=True,
              help="ID and class scheme: GB/T 47678.5-2026, or legacy CJ/T 214.")
@click.option("--extensions", type=FilePath(exists=True, dir_okay=False), default=None,
              help="TOML file of local extension classes ([classes.21001] name = …).")
@crs_opt("--crs", help="What the coordinates really are: EPSG:4326, EPSG:4490, gcj02, bd09, bd09mc (Baidu's "
                       "metres), or an EPSG code. "
                       "Needed for CSV x/y columns without a .prj (gridkit export writes one; a workbook it writes "
                       "says its CRS inside); lon/lat columns are read as EPSG:4326 (a hint says "
                       "when, read as gcj02, they would lie in other cells).")
@click.option("--layer", default=None,
              help="Layer of a multi-layer inventory, or sheet of an Excel workbook, to import alone (default: "
                   "each of its point layers, or sheets naming coordinate columns, as a source NAME/LAYER of its "
                   "own; a file of one: that one).")
@x_field_opt
@y_field_opt
@degrees_opt
@text_encoding_opt
@click.option("--tolerance", default=25.0, show_default=True, type=Number(min=0, infinite=True),
              help="Metres: points this close outside the layout go to the nearest cell (marked "
                   "'nearest'); farther ones are rejected as 'outside'.")
@click.option("--date", "today", type=Day(compact=True), default=None, metavar="YYYYMMDD",
              help="Date written as survey / change / end date (default: today).")
@click.option("--rejects-dir", type=FilePath(file_okay=False), default=None,
              help="Folder for INVENTORY.rejects.csv (default: beside the grid package).")
@click.option("--where", default=None, metavar="SQL",
              help="Import only the rows matching this OGR SQL WHERE clause over the inventory's columns (any "
                   "format, CSV and Excel too), "
                   "e.g. \"Status = 'Active'\". A partial import: the components of the inventory that the filter "
                   "leaves out are kept as they are, not removed. Rejects still number rows as the file does.")
@click.option("--source", default=None, metavar="NAME",
              help="The inventory's name in the catalogue (default: its file name without the suffix). Rows "
                   "without IDs are matched to the components of the same source: give a renamed inventory "
                   "the name it was imported under (signals_2027.csv as --source signals) to update them. One "
                   "inventory at a time.")
@click.option("--routes", type=FilePath(exists=True, dir_okay=False), default=None,
              help="A routing table (TOML; `gridkit route starter` writes one): rows that name no responsible "
                   "department take the one it gives for their class and place, with its credit code (ZGBMDM) "
                   "and name (ZGBMMC); a row naming one by name alone takes the table's code for it.")
@click.option("--near-edge", default=None, type=Number(min=0, infinite=True), metavar="M",
              help="Metres: list the inventory's components that lie within M m of another cell in "
                   "INVENTORY.near-edge.csv (beside the rejects): ID, class, cell, the other cell, how far, what "
                   "lies between (cell, community, street, district), lon/lat. Surveyed to ±M m (a handheld GPS's "
                   "5-10 m), each could lie in that cell: the ones to check on the ground. The summary counts them.")
@preview_opt("the components over the cells")
@click.option("--overwrite", is_flag=True,
              help="Replace the --preview picture if it exists (otherwise an error, before anything is imported). "
                   "The package is always updated in place, and the rejects files written anew.")
@summary_json_opt
def import_command(inventories, package, mapping, class_code, class_field, scheme, extensions, crs, layer, x_field,
                   y_field, degrees, encoding, tolerance, today, rejects_dir, where, source, routes, near_edge, preview,
                   overwrite, as_json):
    """Import INVENTORIES (CSV, Excel .xlsx or .xls, .ods, Shapefile or its .zip, GeoPackage, GeoJSON, KML, GPX
    waypoints, GeoParquet or plain Parquet: a file, or a folder of parts as Spark or dask write) into the catalogue.

    Every row is imported or written to INVENTORY.rejects.csv with its reason;
    the summary adds up to the input rows (a file `gridkit locate` wrote has its
    rejects of that name beside it: the import's are then
    INVENTORY.import-rejects.csv). Rows without IDs get new ones
    (county + class + next sequence); re-importing the same file changes nothing.
    Each inventory is a source, named by its file name without the suffix (and
    NAME/LAYER for each layer of a file of several: a ledger's sheet per street,
    a GeoPackage of hydrants and lamps): an
    updated file of that name updates by ID, and components it no longer has are kept as
    removed (移除) with an end date (not those whose rows it has but rejects,
    and none when it rejects every row: a wrong --crs, most likely); a removed
    component whose row it has again is back in use, and a hint says so. Two
    inventories of one name (north/lamps.csv, south/lamps.csv) are imported one
    at a time, each with its own --source. The
    components layer exported (`gridkit export --layer components -o c.xlsx`)
    and edited comes back as edits: each component keeps its own source, and a
    row deleted from the copy removes nothing. With --routes, the responsible
    department comes from the city's routing table; without it, a component
    keeps the department it holds while its class and cell stay the same. Then
    `gridkit components check` says which fields a platform would refuse.
    Exit status 1 when an inventory has every row rejected (the summary's hint
    gives the first reject's reason), so that a script stops there.

    \b
    Example (Cambridge, MA, after `gridkit demo`):
      gridkit components import data/samples/TRAFFIC_Signals.geojson \\
          data/samples/DPW_LitterBarrels.geojson \\
          --grid demo-output/cambridge.gpkg --mapping data/samples/cambridge_mapping.toml \\
          --routes data/samples/cambridge_routing.toml
    """
    import dataclasses

    from gridkit.batch import rejects_written
    from gridkit.catalogue import (COMPONENT_CLASSES, REJECT_REASONS, Mapping, components_near_edge, import_components,
                                   inventory_layers, package_classes, read_catalogue, write_catalogue)
    from gridkit.errors import GridkitError
    from gridkit.locator import Locator
    from gridkit.package import read_metadata, read_package
    from gridkit.routing import RoutingTable

    if class_code is not None and class_field is not None:
        raise click.UsageError("--class (one class for every row) and --class-field (the column giving each row's) "
                               "exclude each other: give one")
    refuse_existing(preview, overwrite=overwrite)
    # A file of several layers of components (a ledger's sheet per street, a GeoPackage
    # of hydrants and lamps) is imported a layer at a time, each its own source.
    try:
        jobs = [(inventory, found) for inventory in inventories
                for found in (inventory_layers(inventory, (x_field, y_field)) if layer is None else []) or [layer]]
    except GridkitError as exc:  # a workbook that is none (a web page named .xls, a file cut short)
        raise click.ClickException(str(exc)) from None
    if source is not None and len(jobs) > 1:
        raise click.UsageError(f"--source names one inventory; import the {len(jobs)} one at a time"
                               + (f" (with --layer: {', '.join(str(found) for _, found in jobs)})"
                                  if len(inventories) == 1 else ""))
    _refuse_same_source(inventories)
    _refuse_rejects_written_over(inventories, rejects_dir or Path(package).parent)
    t0 = time.perf_counter()
    try:
        with Steps() as step:
            step(f"indexing {package}")
            meta = read_metadata(package)  # first: it says when PACKAGE is no package
            held = meta.get("component_scheme")
            locator = Locator.from_package(package)
            if held and held != scheme:
                raise click.UsageError(f"{package} holds a {held} catalogue; import with --scheme {held}, "
                                       f"or convert the inventory first (gridkit components convert)")
            table = package_classes(package, extensions, scheme=scheme, metadata=meta)
            class_code = table.code_of(class_code)  # --class 路灯
            problem = table.class_problem(class_code, typed=True) if class_code is not None else None
            if problem:
                raise click.BadParameter(f"{problem} (`gridkit components classes WORD` finds the code)",
                                         param_hint="--class")
            catalogue = read_catalogue(package)
            table_of_routes = RoutingTable.load(routes) if routes else None
            summaries, specs = [], []
            # Each inventory's rejects are written aside and take their place only once the
            # catalogue has: a run that fails on a later inventory leaves the earlier ones' as they were.
            with contextlib.ExitStack() as written:
                for inventory, layer in jobs:
                    step(f"importing {inventory}" + (f", layer {layer}" if layer is not None else ""))
                    spec = Mapping.load(mapping, inventory=inventory, layer=layer) if mapping else None
                    if class_code is not None:  # the mapping's class_field and [classes] give way to it too
                        spec = dataclasses.replace(spec or Mapping(), class_code=class_code, class_field=None,
                                                   classes={})
                    elif class_field is not None:  # the mapping's [classes] still name its values' classes
                        spec = dataclasses.replace(spec or Mapping(), class_code=None, class_field=class_field)
                    result = import_components(inventory, locator, catalogue=catalogue, mapping=spec, table=table,
                                               crs=crs, layer=layer, x_field=x_field, y_field=y_field,
                                               encoding=encoding, tolerance=tolerance, today=today, where=where,
                                               source=source, routes=table_of_routes, degrees=degrees)
                    catalogue = result.catalogue
                    rejects_path = _import_rejects_path(inventory, rejects_dir or Path(package).parent, result.rejects,
                                                        result.summary["layer"])
                    written.enter_context(rejects_written(result.rejects, rejects_path))
                    result.summary["rejects_file"] = str(rejects_path)
                    if near_edge is not None:  # a copy of the catalogue: its rows keep their own sources
                        near = components_near_edge(catalogue, locator, near_edge, sources=None if result.summary[
                            "catalogue_copy"] else [result.summary["source"]])
                        near_path = _near_edge_path(rejects_path)
                        written.enter_context(rejects_written(near.drop(columns="row"), near_path))
                        result.summary["near_edge"] = {level: int(n) for level, n in
                                                       near["near_across"].value_counts(sort=False).items()}
                        result.summary["near_edge_file"] = str(near_path)
                    summaries.append(result.summary)
                    specs.append(spec)
                step(f"writing the catalogue into {package}")
                imports = json.dumps(summaries, ensure_ascii=False)
                metadata = {"component_scheme": scheme, "component_imports": imports}
                if table.local_classes():
                    metadata[COMPONENT_CLASSES] = json.dumps(table.local_classes(), ensure_ascii=False)
                write_catalogue(package, catalogue, metadata=metadata)
            if preview:
                step(f"drawing {preview}")
                from gridkit.preview import plot_layout

                cells, units, _ = read_package(package)
                plot_layout(cells, units, preview, labels=0, components=catalogue, overwrite=overwrite,
                            title=f"{(catalogue['GLBJZT'] != '移除').sum():,} components in {len(cells):,} cells")
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    lines = []
    for s, spec in zip(summaries, specs):
        rows = f"{s['rows']:,} row{'' if s['rows'] == 1 else 's'}" + (" that --where selects" if where else "")
        lines.append(f"{s['source']}: {rows} → {s['imported']:,} imported, {s['rejected']:,} rejected")
        for reason, n in s["rejected_by_reason"].items():
            lines.append(f"  {n:6,d} × {reason}: {REJECT_REASONS[reason]}")
        if s.get("class_column"):
            column, names = s["class_column"]
            word = column if re.fullmatch(r"[\w.-]+", column) else shlex.quote(column)  # 类别 bare, 'Asset Type'
            lines.append(f"  hint: its column {column} names classes ({', '.join(names)}): give --class-field "
                         f"{word} to read each row's class from it")
        elif s["rows"] and s["rejected_by_reason"].get("unknown_class") == s["rows"] and not (
                mapping is None and spec is not None and spec.class_field):  # else: the first reject's detail
            lines.append("  hint: " + _no_class_hint(s["source"], mapping, spec))
        elif s.get("first_reject"):
            row, reason, detail = s["first_reject"]
            lines.append(f"  hint: {'the row was' if s['rows'] == 1 else 'every row was'} rejected; the first, "
                         f"row {row} ({reason}): {detail}")
        if s.get("offset_hint"):
            lines.append(f"  hint: {s['offset_hint']}")
        if s.get("classes_by_name"):
            lines.append(names_read(s["classes_by_name"], table.label))
        if s.get("cells_not_taken"):
            row, said, cell = s["cells_not_taken_first"]
            n = s["cells_not_taken"]
            lines.append(f"  hint: {n:,} {'row of the copy names' if n == 1 else 'rows of the copy name'} another "
                         f"cell than the one {'it lies' if n == 1 else 'they lie'} in (the first: row {row}, {said}, "
                         f"lies in {cell}); a component's cell is where it lies: to move one, change its position")
        if s.get("taken_from"):
            taken = s["taken_from"]
            lines.append(f"  hint: {sum(taken.values()):,} of the rows' IDs were components of "
                         + ", ".join(f"{other} ({n:,})" for other, n in taken.items())
                         + f"; they now belong to {s['source']}, whose next import removes those it lacks")
        for other, n in s["already_catalogued_from"].items():
            lines.append(f"  hint: {n:,} already in the catalogue from {other}: " + (
                "rows of the copy whose ID was cleared? put their IDs back (the rejects name them) to update them"
                if s["catalogue_copy"] else f"if this is the inventory imported as {other}, renamed, import it with "
                f"--source {other} to update those components"))
        lines.append(f"  assigned {s['assigned_inside']:,} inside a cell, {s['assigned_nearest']:,} to the nearest "
                     f"cell {within(s['tolerance_m'])}"
                     + (f", {s['assigned_micro']:,} in a micro-grid" if "assigned_micro" in s else "")
                     + f"; {s['shared_positions']:,} share a position with another")
        if "near_edge" in s:
            lines.append(near_line(s["near_edge"], near_edge, s["near_edge_file"]))
        if s["departments"]:
            lines.append("  departments: " + _departments_said(s["departments"], routes))
        if s["catalogue_copy"]:
            lines.append("  a copy of a catalogue (gridkit export): each component keeps its own source, and none is "
                         "removed for a row the copy lacks")
        lines.append(f"  catalogue: {s['added']:,} added, {s['updated']:,} updated, {s['unchanged']:,} unchanged, "
                     f"{s['removed']:,} removed"
                     + (f", {s['kept_rejected']:,} kept as they were (their rows rejected)"
                        if s["kept_rejected"] else "")
                     + (f", {s['kept_unselected']:,} kept as they were (left out by "
                        f"{'the copy' if s['catalogue_copy'] else '--where'})" if s["kept_unselected"] else "")
                     + f"; rejects → {s['rejects_file']}")
        if s.get("revived") and not s["catalogue_copy"]:
            ident, ended = s["revived_first"]
            n = s["revived"]
            lines.append(f"  hint: {n:,} {'update brings' if n == 1 else 'updates bring'} back into use "
                         f"{'a component' if n == 1 else 'components'} the catalogue held removed ("
                         f"{'' if n == 1 else 'the first: '}{ident}, removed {ended or 'without an end date'}): the "
                         "inventory lists "
                         f"{'it' if n == 1 else 'them'} again. If {'it was' if n == 1 else 'they were'} removed by "
                         "hand (in a copy or in QGIS: reclassified, say), delete the row from the inventory or mark "
                         "it removed there (GLBJZT 移除), and import it again")
    lines.append(f"catalogue    {len(catalogue):,} rows in {package} ({time.perf_counter() - t0:.2f} s)")
    echo_summary(lines, summaries, as_json)
    if any(s["rows"] and s["rejected"] == s["rows"] for s in summaries):  # nothing of it imported: a wrong --crs…
        raise SystemExit(1)


def _departments_said(counts, routes):
    """How the routing table filled the departments, in words."""
    said = (f"from {routes}: {counts['routed']:,} routed by class and place, {counts['by_name']:,} took the code "
            f"of the department they name, {counts['by_code']:,} the name of their code")
    if counts["no_code"]:
        departments = counts["no_code_by_department"]
        named = "; ".join(f"{name} {n:,}" for name, n in list(departments.items())[:3])
        said += (f"; {counts['no_code']:,} left without a credit code"
                 + (f" ({named}{' …' if len(departments) > 3 else ''}: give their code in the table)"
                    if departments else ""))
    return said


def _near_edge_path(rejects_path):
    """Where an inventory's components near another cell are listed: beside its
    rejects, INVENTORY.near-edge.csv (INVENTORY.LAYER.near-edge.csv …)."""
    name = re.sub(r"[.-]rejects\.csv$", "", rejects_path.name)
    return rejects_path.with_name(f"{name}.near-edge.csv")


def _import_rejects_path(inventory, folder, rejects, layer=None):
    """Where an inventory's rejects go: INVENTORY.rejects.csv in ``folder``, or
    INVENTORY.LAYER.rejects.csv for a layer of a file of several. But an
    inventory that `gridkit locate` wrote (it carries gk_status) has locate's own
    rejects of that name beside it: when ``folder`` is its folder, the import's are
    INVENTORY.import-rejects.csv, which leaves locate's as they were."""
    from gridkit.batch import PREFIX, rejects_file

    if layer is not None:
        named = re.sub(r'[\\/:*?"<>|]', "_", str(layer))  # a layer name may hold what a file name may not
        return rejects_file(Path(folder) / f"{Path(inventory).stem}.{named}{Path(inventory).suffix}")
    path, located = _rejects_names(inventory, folder)
    if PREFIX + "status" in rejects.columns and path.resolve() == rejects_file(inventory).resolve():
        return located
    return path


def _rejects_names(inventory, folder):
    """The two files an inventory's import rejects may go to in ``folder``:
    INVENTORY.rejects.csv, and INVENTORY.import-rejects.csv for a locate output."""
    from gridkit.batch import rejects_file

    path = rejects_file(Path(folder) / Path(inventory).name)
    return path, path.with_name(f"{Path(inventory).stem}.import-rejects.csv")


def _refuse_rejects_written_over(inventories, folder):
    """Refuse an inventory that is the rejects file another of INVENTORIES writes
    (lamps.rejects.csv, fixed, given with lamps.csv; located.import-rejects.csv
    given with located.csv, a locate output): that one's rejects would be written
    over it."""
    read = {Path(inventory).resolve(): inventory for inventory in inventories}
    for inventory in inventories:
        fixed = next(filter(None, (read.get(path.resolve()) for path in _rejects_names(inventory, folder))), None)
        if fixed:
            raise click.UsageError(f"{fixed} is where the rejects of {inventory} are written: importing both at once "
                                   f"would write them over it. Import {fixed} on its own first, then {inventory}.")


def _refuse_same_source(inventories):
    """Refuse two INVENTORIES of the same file name without the suffix (north/lamps.csv,
    south/lamps.csv): both would be the catalogue source ``lamps``, so the second would
    be taken for an update of the first, removing its components, and would write
    over its rejects file."""
    seen = {}
    for inventory in inventories:
        stem = Path(inventory).stem
        if stem not in seen:
            seen[stem] = inventory
            continue
        first = seen[stem]
        if Path(first).resolve() == Path(inventory).resolve():
            raise click.UsageError(f"{inventory} is given twice")
        raise click.UsageError(
            f"{first} and {inventory} would both be the source {stem!r} in the catalogue: the second would be "
            f"taken for an update of the first, removing the components it lacks, and would write over "
            f"{stem}.rejects.csv. Import them one at a time, each under its own name (--source {stem}_2 for the "
            f"second), or rename one.")


def _no_class_hint(stem, mapping, spec):
    """What to do about an inventory none of whose rows has a class: most likely a
    file that is not an inventory (a boundary, the centre lines) in a glob, or one
    the mapping file has no section for, or a section giving no class (its name
    mistyped in its header, as ``spec``, the :class:`Mapping` read for it, says)."""
    from gridkit.catalogue import Mapping

    if mapping is None:
        return ("no row has a class: give --class CODE (one class for every row) or a --mapping file that sets "
                "it ([files.STEM] class = \"01013\"; `gridkit components classes WORD` finds the code)")
    near = (f"; [files.{spec.near_section}] does: if it is meant for this file, name it as the file is"
            if spec.near_section else "")
    if spec.class_code is None and spec.class_field is None:
        where = f"[files.{spec.section}] in {mapping}" if spec.section else mapping
        if spec.section or near:
            return (f"{where} gives no class (class = \"01013\", or class_field = the column giving each row's; "
                    f"`gridkit components classes WORD` finds a code){near}")
    if spec.section:
        return (f"no class that [files.{spec.section}] in {mapping} gives is in the scheme's table: check its class, "
                "or its class_field and [classes]")
    sections = Mapping.sections(mapping)
    return (f"{mapping} has no [files.{stem}] section (it maps {', '.join(sections) or 'no file by name'}): if "
            "this is an inventory, add one with its class; if not (a boundary, centre lines), leave it out")


def _catalogue_or_fail(package, where=None):
    from gridkit.catalogue import read_catalogue
    from gridkit.errors import GridkitError

    try:
        catalogue = read_catalogue(package, where=where)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    if catalogue is None:
        raise click.ClickException(f"{package} has no components yet; run `gridkit components import` first")
    return catalogue


@components.command("show")
@click.argument("component_id")
@click.option("--grid", "package", required=True, type=FilePath(exists=True, dir_okay=False),
              help="The grid package holding the catalogue.")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def show_command(component_id, package, as_json):
    """Show one component: name, class, location, cell, community, street, department, status.

    \b
    Example:
      gridkit components show 99010102014000001 --grid demo-output/cambridge.gpkg
    """
    from gridkit.catalogue import STANDARD_FIELDS, without_position
    from gridkit.codes import half_width

    component_id = half_width(component_id.strip())  # full-width digits, as import reads them
    quoted = component_id.replace("'", "''")
    rows = _catalogue_or_fail(package, where=f"GLBJBSM = '{quoted}'")
    if not len(rows):
        raise click.ClickException(f"no component {component_id} in {package}{_why_not_found(component_id, package)}")
    row = rows.iloc[0]
    record = {k: (None if v is None or v != v else v) for k, v in row.drop("geometry").items()}
    placed = not without_position(rows.iloc[:1])[0]
    lon, lat = rows.to_crs(4326).geometry.iloc[0].coords[0] if placed else (None, None)
    record.update({"x": row.geometry.x if placed else None, "y": row.geometry.y if placed else None,
                   "lon": None if lon is None else round(lon, 7), "lat": None if lat is None else round(lat, 7)})
    if as_json:
        click.echo(json_text(record))
        return
    lines = [
        f"ID           {record['GLBJBSM']}  {record['GLBJMC']}",
        f"class        {record['class_code']} {record['class_name']}",
        f"status       {record['GLBJZT']}" + (f" (ended {record['end_date']})" if record.get("end_date") else ""),
        f"location     lon {record['lon']}, lat {record['lat']}  (layout x {record['x']:.2f}, y {record['y']:.2f})"
        if placed else "location     none: its point was deleted, or it was added without one (give it one in QGIS)",
        f"cell         {record['SZDYWGBSM']} ({record['assign_status']}"
        + (f", {record['assign_distance_m']:.1f} m outside" if record["assign_status"] == "nearest" else "") + ")",
        *([f"micro-grid   {record['micro_id']}"] if record.get("micro_id") else []),
        f"community    {record['SZSQDM']} {record.get('SZSQMC') or ''}",
        f"street       {record['SZJDDM']} {record.get('SZJDMC') or ''}",
        f"department   {record.get('ZGBMDM') or '(no code)'} {record.get('ZGBMMC') or ''}",
        f"dates        surveyed {record['CSRQ']}, changed {record.get('BGRQ') or '-'}",
        f"source       {record['source']} row {record['source_row']}",
    ]
    click.echo("\n".join(lines))
    extra = {k: record[k] for k in ("QSDWMC", "YHDWMC", "SJLY", "BZ") if record.get(k)}
    for k, v in extra.items():
        click.echo(f"{STANDARD_FIELDS[k]:12s} {v}")


def _why_not_found(component_id, package):
    """Why no component has ``component_id``, when the ID says: ": it is a legacy ID;
    its 2026 form is …" or ": the ID has 14 characters; …"; else ""."""
    from gridkit.classes import class_table, convert_ids

    table = _classes(package)
    scheme = table.scheme
    problem = table.id_problems([component_id])[0]
    if not problem:
        return ""
    other = "legacy" if scheme == "2026" else "2026"
    if not class_table(other).id_problems([component_id])[0]:
        converted, note = (v[0] for v in convert_ids([component_id], to=scheme))
        held = converted and len(_catalogue_or_fail(package, where=f"GLBJBSM = '{converted}'"))
        return (f": it is a {other} ID, and the catalogue holds {scheme} ones; "
                + (f"its {scheme} form is {converted}: gridkit components show {converted} --grid {package}"
                   if held else f"its {scheme} form {converted} is not held either (a {scheme} ID with a digit "
                                "missing?)" if converted else note))
    return f": the ID {problem.split(' (')[0]}"


@components.command("stats")
@click.argument("package_arg", metavar="[PACKAGE]", required=False, type=FilePath(exists=True, dir_okay=False))
@click.option("--grid", "package", type=FilePath(exists=True, dir_okay=False),
              help="The grid package holding the catalogue (or give it as PACKAGE).")
@click.option("--by", type=click.Choice(["cell", "micro", "community", "street", "class"]), default="class",
              show_default=True, help="Group components by this (micro: the micro-grids of a household layout "
              "made with --micro).")
@click.option("--class", "class_code", default=None, metavar="CODE",
              help="Count only the components of this class (01037: street lights), or of this big class (01). "
                   "`gridkit components classes WORD` finds the code.")
@click.option("--per-class", is_flag=True,
              help="A column for each class too, its components in each row (headed \"02014 交通信号灯\"): the "
                   "census table of classes per community or street. Not with --by class.")
@click.option("-o", "--output", "--csv", "csv_path", type=FilePath(dir_okay=False), default=None,
              help="Also write the table to this file: .csv (UTF-8, which Excel opens as such) or .xlsx (a sheet; "
                   "codes stay text). --csv is its older name.")
@overwrite_opt
def stats_command(package_arg, package, by, class_code, per_class, csv_path, overwrite):
    """Count components per cell, micro-grid, community, street or class (removed ones apart).

    Every cell, micro-grid, community or street of the layout is listed, 0 where
    it holds no component, so that the -o table joins to the layer in QGIS
    (on grid_id = SZDYWGBSM, say) and maps the ones without any: with --class,
    the communities without a street light, say. With --per-class, each class
    has its column: the census table, one row per community.

    \b
    Examples:
      gridkit components stats --grid demo-output/cambridge.gpkg --by community -o per-community.csv
      gridkit components stats --grid demo-output/cambridge.gpkg --by community --class 02014
      gridkit components stats --grid demo-output/cambridge.gpkg --by community --per-class -o census.xlsx
    """

    from gridkit.catalogue import STATS_BY, catalogue_stats, layout_areas
    from gridkit.errors import GridkitError

    package = _one_package(package_arg, package)
    _table_file(csv_path, "--output")
    if per_class and by == "class":
        raise click.UsageError("--per-class gives each class a column, and with --by class the rows are classes "
                               "already: give --by community (or cell, micro, street)")
    refuse_existing(csv_path, overwrite=overwrite, inputs={"--grid": package})
    catalogue = _catalogue_or_fail(package)
    if class_code is not None:
        _known_class(class_code, catalogue, package)
    try:
        areas = layout_areas(package, by)
        table = catalogue_stats(catalogue, by=by, areas=areas, class_code=class_code, per_class=per_class)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(table.to_string(index=False))
    total = (f"total        {int(table['components'].sum()):,} components"
             + (f" of {class_named(class_code)}" if class_code else "")
             + f", {int(table['removed'].sum()):,} removed")
    if areas is not None:
        empty = int((table["components"].eq(0) & table[STATS_BY[by]].isin(areas[STATS_BY[by]])).sum())
        what = {"cell": "cells", "micro": "micro-grids", "community": "communities", "street": "streets"}[by]
        total += f"; {empty:,} of {len(areas):,} {what} hold none"
    click.echo(total)
    if csv_path:
        _write_table(table, csv_path, f"by {by}")


def _table_file(path, option):
    """Refuse a table file ``path`` (given as ``option``) that is neither .csv nor .xlsx."""
    if path and Path(path).suffix.lower() not in (".csv", ".xlsx"):
        raise click.UsageError(f"{option} {path}: a table is written as .csv or .xlsx; name the file so")


def _write_table(table, path, sheet):
    """Write ``table`` to ``path`` atomically: a CSV (UTF-8 with a byte-order mark, so
    that Excel reads Chinese right), or one ``sheet`` of an Excel workbook."""
    from gridkit.io import CSV_ENCODING, atomic_path, write_workbook

    with atomic_path(path, overwrite=True) as tmp:
        if Path(path).suffix.lower() == ".xlsx":
            write_workbook([(sheet, table)], tmp)
        else:
            table.to_csv(tmp, index=False, encoding=CSV_ENCODING)


def _change_date_opt(which):
    """--date: the change date (BGRQ) written on the components ``which`` says."""
    return click.option("--date", "today", type=Day(compact=True), default=None, metavar="YYYYMMDD",
                        help=f"Change date (BGRQ) of the components {which} (default: today).")


def _classes(package):
    """The class table of ``package``'s catalogue: its scheme's (2026 unless imported
    as legacy) and the local extension classes its imports were given."""
    from gridkit.catalogue import package_classes
    from gridkit.errors import GridkitError

    try:
        return package_classes(package)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None


def _layout_counties(package):
    """The county codes of ``package``'s cells, which a component ID may carry (None
    when the cells name none: any)."""
    import pyogrio

    if "county_code" not in pyogrio.read_info(package, layer="cells")["fields"]:
        return None
    counties = pyogrio.read_dataframe(package, layer="cells", columns=["county_code"], read_geometry=False)
    return set(counties["county_code"].dropna().astype(str)) or None


def _one_package(package_arg, package):
    """The package given as PACKAGE or as --grid (both: the same file)."""
    if package_arg and package and Path(package_arg).resolve() != Path(package).resolve():
        raise click.UsageError(f"two packages: PACKAGE {package_arg} and --grid {package}; give one")
    if (package or package_arg) is None:
        raise click.UsageError("no grid package: give it as PACKAGE or --grid")
    return package or package_arg


@components.command("check")
@click.argument("package_arg", metavar="[PACKAGE]", required=False, type=FilePath(exists=True, dir_okay=False))
@click.option("--grid", "package", type=FilePath(exists=True, dir_okay=False),
              help="The grid package holding the catalogue (or give it as PACKAGE).")
@click.option("--problems", "problems_path", type=FilePath(dir_okay=False), default=None,
              help="Write every problem to this .csv or .xlsx: the component's ID, the field (abbreviation and "
                   "Chinese name), the value, the problem and what it should be; to sort and fix in Excel.")
@click.option("--fix-ids", is_flag=True,
              help="First give each component whose ID is blank, held by another or of another class than its "
                   "class_code a new one, in place: the next sequence of its county and class.")
@_change_date_opt("--fix-ids gives a new ID")
@overwrite_opt
def check_command(package_arg, package, problems_path, fix_ids, today, overwrite):
    """Check the catalogue against the standard's component fields, before it goes to the platform.

    GB/T 47678.5-2026 gives each field of a component record a length and says
    which are mandatory. The import validates IDs and classes and fills the
    grid, street and community; the other fields come from the inventories as
    written, and a platform refuses a record that breaks the table. Reported:
    mandatory fields left empty (the responsible department's credit code,
    ZGBMDM, most often), values longer than the field, department codes that
    are no unified social credit code, dates that are no real YYYYMMDD day (or
    a change date before the survey date), statuses other than the five words,
    component IDs of the wrong form, class or county, or that two components
    hold (an attribute table edited in QGIS: an ID typed over, a row pasted
    twice), gridkit's class code (class_code) left empty, of no class of the
    table, or of another class than the ID's (typed over), components without
    a point (deleted in QGIS, or a row added without one), and provisional
    grid IDs (a layout made with --provisional: the platform needs the real
    codes). The package's local extension classes (import --extensions) are
    classes of the table. Exit status 1 when anything is reported, 0 when all
    holds.

    With --fix-ids, the IDs that are blank or that several components hold
    are issued first: of those sharing one, one in use keeps it (then the
    earliest surveyed, then the first); the others take the next sequences of
    their county and class after the highest ever issued (the package records
    it: a component deleted by hand does not give its ID back), and a change
    date. A component whose class code was typed over with another class is
    classed anew and takes an ID of that class; a blank class code is filled
    from the ID. The catalogue is written in place, atomically. An import
    refuses a catalogue with a shared ID: it matches rows by ID.

    Fill the departments from the city's routing table (gridkit components
    departments --routes routing.toml). Fix a field for a whole inventory with a
    mapping file's [values] and import it again, or export the catalogue (gridkit export --layer
    components -o c.xlsx), edit it and import it back.

    \b
    Examples:
      gridkit components check demo-output/cambridge.gpkg
      gridkit components check demo-output/cambridge.gpkg --problems problems.csv
      gridkit components check demo-output/cambridge.gpkg --fix-ids   # an ID pasted twice in QGIS
    """
    from gridkit.conformance import PROBLEMS, field_problems

    package = _one_package(package_arg, package)
    _table_file(problems_path, "--problems")
    refuse_existing(problems_path, overwrite=overwrite, inputs={"--grid": package})
    catalogue = _catalogue_or_fail(package)
    classes = _classes(package)
    if fix_ids:
        from gridkit.catalogue import issue_component_ids, write_catalogue
        from gridkit.errors import GridkitError

        from .check import _issued_lines

        try:
            fixed, changes = issue_component_ids(catalogue, today=today, classes=classes)
            filled = _changed_rows(catalogue, fixed, ("class_code",))
            if changes or filled:
                write_catalogue(package, fixed)
        except GridkitError as exc:
            raise click.ClickException(str(exc)) from None
        catalogue = fixed
        lines = [_issued_lines(package, {"components": changes})]
        if filled:
            lines.append(f"  {filled:,} blank class code(s) filled from the ID, in place")
        left = int(catalogue["GLBJBSM"].fillna("").astype(str).str.strip().eq("").sum())
        if left:
            lines.append(f"  {left:,} component(s) left without an ID: no class code of the table, or no grid "
                         "(the problems below name them)")
        click.echo("\n".join(lines))
    problems = field_problems(catalogue, classes=classes, counties=_layout_counties(package))
    removed = int(catalogue["GLBJZT"].eq("移除").sum())
    click.echo(f"{package}: {len(catalogue):,} components ({removed:,} removed) against GB/T 47678.5-2026's fields")
    if len(problems):
        groups = problems.groupby(["field", "problem"], sort=False)
        table = groups.agg(name=("field_name", "first"), components=("row", "size"), example=("GLBJBSM", "first"),
                           value=("value", "first"), detail=("detail", "first")).reset_index()
        table["problem"] = table["problem"].map(PROBLEMS)
        table["components"] = table["components"].map("{:,}".format)
        table = table[["field", "name", "problem", "components", "example", "value", "detail"]]
        click.echo(table.to_string(index=False))
        click.echo(f"{problems['row'].nunique():,} of {len(catalogue):,} components have a problem "
                   f"({len(problems):,} in all)" + (f"; each in {problems_path}" if problems_path else
                                                   "; --problems FILE.csv lists each"))
    else:
        click.echo("every component meets the standard's field table")
    if problems_path:
        _write_table(problems.drop(columns="row"), problems_path, "problems")
    if len(problems):
        raise SystemExit(1)


@components.command("departments")
@click.argument("package_arg", metavar="[PACKAGE]", required=False, type=FilePath(exists=True, dir_okay=False))
@click.option("--grid", "package", type=FilePath(exists=True, dir_okay=False),
              help="The grid package holding the catalogue (or give it as PACKAGE); updated in place, atomically.")
@click.option("--routes", required=True, type=FilePath(exists=True, dir_okay=False),
              help="The routing table (TOML; `gridkit route starter` writes one, `gridkit route check` checks it).")
@click.option("--every", is_flag=True,
              help="Route every component in use afresh, whatever department it holds: after the table changed "
                   "who answers for a class or an area.")
@_change_date_opt("whose department changes")
@summary_json_opt
def departments_command(package_arg, package, routes, every, today, as_json):
    """Fill each component's responsible department from the city's routing table.

    GB/T 47678.5-2026 makes the responsible department (主管部门: its unified
    social credit code ZGBMDM, mandatory, and its name ZGBMMC) a field of every
    component, and inventories rarely have it. The routing table that routes
    reports (gridkit locate --routes) says who answers for a class, where: each
    component in use that names no department gets the one the table gives for
    its class and place. One named by name alone gets the table's code for that
    name, one named by code alone its name; the import's default, the class
    table's suggested department name, counts as no name. Removed components
    keep theirs. A component whose department changes gets a new change date.

    The same filling happens on import with `gridkit components import --routes`;
    an import without it keeps a component's department while its class and
    cell stay the same.

    \b
    Examples:
      gridkit components departments demo-output/cambridge.gpkg --routes data/samples/cambridge_routing.toml
      gridkit components departments demo-output/cambridge.gpkg --routes data/samples/cambridge_routing.toml --every
    """
    from gridkit.catalogue import route_departments, write_catalogue
    from gridkit.errors import GridkitError
    from gridkit.routing import RoutingTable

    package = _one_package(package_arg, package)
    t0 = time.perf_counter()
    try:
        table = RoutingTable.load(routes)
        catalogue = _catalogue_or_fail(package)
        filled, summary = route_departments(catalogue, table, table=_classes(package), every=every, today=today)
        if summary["changed"]:
            write_catalogue(package, filled)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    lines = [f"{package}: {summary['in_use']:,} components in use; " + _departments_said(summary, routes),
             f"catalogue    {summary['changed']:,} changed (change date {today or 'today'})"
             + ("" if summary["changed"] else ", nothing written") + f" ({time.perf_counter() - t0:.2f} s)"]
    echo_summary(lines, summary, as_json)


@components.command("reassign")
@click.argument("package_arg", metavar="[PACKAGE]", required=False, type=FilePath(exists=True, dir_okay=False))
@click.option("--grid", "package", type=FilePath(exists=True, dir_okay=False),
              help="The grid package holding the catalogue (or give it as PACKAGE); updated in place, atomically.")
@_change_date_opt("whose cell changes")
@summary_json_opt
def reassign_command(package_arg, package, today, as_json):
    """Put each component back in the cell that holds it, after cells were edited.

    A cell split, merged or reshaped by hand (in QGIS, say) can leave
    components in another cell than the catalogue says; `gridkit check` names
    them. Each component in use gets the cell (and micro-grid) holding it now,
    with its community and street; one assigned to the nearest cell from
    outside the layout gets the nearest again. A component whose cell changes
    gets a new change date (BGRQ). Removed components keep the cell they were
    in when removed: that is their history. Departments are kept:
    `gridkit components departments --every` routes them afresh if the new
    cells have other authorities.

    The cells must pass `gridkit check` first (no overlap, no gap), so that
    each component has one cell; the package is refused, unchanged, when they
    do not.

    \b
    Examples:
      gridkit components reassign demo-output/cambridge.gpkg
      gridkit components reassign demo-output/cambridge.gpkg --date 20270301 --json
    """
    import pyogrio

    from gridkit.catalogue import in_use, reassign_catalogue, without_position, write_catalogue
    from gridkit.errors import GridkitError
    from gridkit.package import check_package, read_layer, read_package

    package = _one_package(package_arg, package)
    t0 = time.perf_counter()
    try:
        broken = {layer: len(report.problems) for layer, report in check_package(package, components=False).items()
                  if not report.ok}
        if broken:
            said = ", ".join(f"{layer} {n:,} problem(s)" for layer, n in broken.items())
            raise click.ClickException(f"{package}: its layout breaks the grid invariants ({said}), so a component "
                                       f"may lie in two cells or none; `gridkit check {package}` names them. Fix "
                                       "them first; the package is unchanged")
        catalogue = _catalogue_or_fail(package)
        cells = read_package(package)[0]
        layers = {name for name, _ in pyogrio.list_layers(package)}
        micro = read_layer(package, "micro_grids") if "micro_grids" in layers else None
        placed, moved = reassign_catalogue(catalogue, cells, micro=micro, today=today)
        used = in_use(catalogue)
        summary = {"in_use": int(used.sum()), "moved": moved,
                   "without_position": int((used & without_position(catalogue)).sum()),
                   "micro_moved": _changed_rows(catalogue, placed, ("micro_id",)),
                   "changed": _changed_rows(catalogue, placed, _PLACED_COLUMNS)}
        if summary["changed"]:
            write_catalogue(package, placed)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    lines = [f"{package}: {summary['in_use']:,} components in use; {moved:,} in another cell now"
             + (f" (change date {today or 'today'})" if moved else "")
             + f", {summary['micro_moved']:,} in another micro-grid"
             + (f"; {summary['without_position']:,} without a position left as they were (`gridkit check` names "
                "them)" if summary["without_position"] else ""),
             f"catalogue    {summary['changed']:,} changed" + ("" if summary["changed"] else ", nothing written")
             + f" ({time.perf_counter() - t0:.2f} s)"]
    echo_summary(lines, summary, as_json)


#: The catalogue's columns that say where a component is in the layout.
_PLACED_COLUMNS = ("SZDYWGBSM", "SZJDDM", "SZJDMC", "SZSQDM", "SZSQMC", "micro_id", "assign_status",
                   "assign_distance_m")


def _changed_rows(before, after, columns) -> int:
    """The number of rows whose value in any of ``columns`` differs between the two
    frames (missing values equal to each other)."""
    import numpy as np

    changed = np.zeros(len(before), dtype=bool)
    for column in columns:
        if column in before and column in after:
            old, new = before[column].astype(object), after[column].astype(object)
            changed |= (old.where(old.notna(), "").astype(str) != new.where(new.notna(), "").astype(str)).to_numpy()
    return int(changed.sum())


def _known_class(code, catalogue, package):
    """Refuse ``code`` (``stats --class``) when it is no class or big class of the
    catalogue's scheme, nor of a component in the catalogue (a local class)."""
    from gridkit.classes import lost_leading_zeros

    table = _classes(package)
    classes = set(table.classes) | set(catalogue["class_code"].dropna().astype(str))  # local classes too
    bigs = {c[:2] for c in classes}
    if code not in classes | bigs:
        padded = lost_leading_zeros(code, classes, table.class_digits)
        big = lost_leading_zeros(code, bigs, 2)
        hint = (f"; leading zero lost? {padded} is {_class_name(table, padded)}" if padded else
                f"; leading zero lost? {big} is a big class" if big else "")
        raise click.BadParameter(f"{code!r} is no class or big class of the {table.label} table, nor of a component "
                                 f"in the catalogue{hint} (`gridkit components classes WORD` finds the code)",
                                 param_hint="--class")


def class_named(code):
    """How messages name a --class CODE: "class 01037", or "big class 01"."""
    return f"{'big ' if len(code) == 2 else ''}class {code}"


def _class_name(table, code):
    """``code``'s name in ``table``, or "a class in the catalogue" for a local one."""
    return table.classes[code].name if code in table.classes else "a class in the catalogue"


@components.command("convert")
@click.argument("inventory", type=FilePath(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False),
              help="CSV to write: the inventory's columns and the two added, with its separator.")
@click.option("--to", "to", type=click.Choice(["2026", "legacy"]), default="2026", show_default=True,
              help="Scheme to convert the IDs (and class codes) to.")
@click.option("--id-field", default=None, help="Column with the component IDs (default: GLBJBSM / ObjID).")
@click.option("--layer", default=None, help="Sheet of an Excel workbook (default: the first).")
@click.option("--encoding", type=Encoding(), default=None, metavar="NAME",
              help=f"Text encoding of a CSV (default: {DETECTED}).")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
def convert_command(inventory, output, to, id_field, layer, encoding, overwrite):
    """Convert an inventory's component IDs between the legacy and 2026 schemes.

    INVENTORY is a CSV (any of , ; tab | as separator; UTF-8 or GBK text,
    detected) or a workbook's sheet (.xlsx, .xls, .ods). Classes are mapped by meaning
    (gridkit/data/legacy_2026_class_map.csv), not by number; the county and
    sequence are kept. Adds converted_id and convert_note columns; rows
    whose class has no counterpart keep an empty converted_id and say why.

    \b
    Example:
      gridkit components convert data/samples/legacy_inventory.csv --to 2026 -o converted.csv
    """
    import pandas as pd

    from gridkit.batch import csv_dialect
    from gridkit.catalogue import TABLE_SUFFIXES, read_table
    from gridkit.classes import class_table, convert_ids
    from gridkit.codes import half_width_column
    from gridkit.errors import GridkitError
    from gridkit.io import CSV_ENCODING, atomic_path

    refuse_existing(output, overwrite=overwrite, inputs={"INVENTORY": inventory})
    if not inventory.lower().endswith(TABLE_SUFFIXES):
        raise click.BadParameter(f"{inventory}: convert reads a table of rows ({', '.join(TABLE_SUFFIXES)})",
                                 param_hint="INVENTORY")
    try:
        frame = read_table(inventory, layer=layer, encoding=encoding)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    column = id_field or next((c for c in frame.columns if c.lower() in ("glbjbsm", "objid")), None)
    if column is None or column not in frame.columns:
        raise click.ClickException(f"{inventory}: no ID column; name it with --id-field (columns: {list(frame.columns)})")
    # spaces pasted around an ID, and full-width digits, as import reads them
    ids = half_width_column(frame[column].astype("string").str.strip())
    ids = [None if pd.isna(i) or not i else i for i in ids]
    new, notes = convert_ids(ids, to=to)
    frame["converted_id"] = [n or "" for n in new]
    frame["convert_note"] = notes
    with atomic_path(output, overwrite=overwrite) as tmp:
        frame.to_csv(tmp, index=False, encoding=CSV_ENCODING, **csv_dialect(frame.attrs.get("csv_separator", ",")))
    source = "legacy" if to == "2026" else "2026"
    malformed = sum(bool(p) for p in class_table(source).id_problems(ids))
    failed = sum(n is None for n in new)
    click.echo(f"{len(frame):,} rows: {len(frame) - failed:,} converted, {failed - malformed:,} without a counterpart, "
               f"{malformed:,} not {source} IDs (blank or malformed; convert_note says why) → {output}")


@components.command("classes")
@click.argument("words", nargs=-1)
@click.option("--scheme", type=click.Choice(["2026", "legacy"]), default="2026", show_default=True)
@click.option("--unmapped", is_flag=True, help="Only the classes with no counterpart in the other scheme.")
def classes_command(words, scheme, unmapped):
    """List the class table of a scheme (code, big class, name, English name, the
    other scheme's class, suggested department), or the classes whose line holds
    every one of WORDS (any case): a name in Chinese or English, a code, a
    department, an everyday word for one (红绿灯 → 交通信号灯, 垃圾桶 → 垃圾箱), or the
    other scheme's name of one (上水井盖, CJ/T 214's name of 01001 供水井盖). Exit
    status 1 when none does (a Chinese word of three characters or more then offers
    the classes sharing two of them: 消防栓 → 消防设施). The examples find the class of
    hydrants for --class, the street lights' classes, the 2026 class of legacy
    class 0103, and the legacy classes 2026 has none for.

    \b
    Examples:
      gridkit components classes hydrant
      gridkit components classes 路灯
      gridkit components classes "legacy: 0103"
      gridkit components classes --scheme legacy --unmapped
    """
    from gridkit.classes import EVERYDAY_WORDS, class_table, classes_without_counterpart, convert_class

    table = class_table(scheme)
    codes = classes_without_counterpart(scheme) if unmapped else sorted(table.classes)
    other = "legacy" if scheme == "2026" else "2026"
    lines = []
    for code in codes:
        c = table[code]
        lines.append(f"{code}\t{c.big_name}\t{c.name}\t{c.name_en}\t{other}: {convert_class(code, to=other) or '-'}"
                     f"\t{c.suggested_department}")
    said = {word: (word, *EVERYDAY_WORDS.get(word.strip(), ())) for word in words}  # 红绿灯: 交通信号灯
    found = [line for line in lines if all(any(w.casefold() in line.casefold() for w in ws) for ws in said.values())]
    for word, (_, *names) in said.items():
        if names and found:
            click.echo(f"{word}: an everyday word for {' or '.join(names)}", err=True)
    named = table.by_name(words[0]) if len(words) == 1 and not found else None
    if named and named[0].code in codes:  # 上水井盖, CJ/T 214's name of 01001 供水井盖, as import reads it
        found = [line for code, line in zip(codes, lines) if code == named[0].code]
        click.echo(f"{words[0]}: {named[1]}'s name of {named[0].code} {named[0].name}", err=True)
    if not found:
        near_codes = {c.code for c in table.near_names(*words)}
        near = [line for code, line in zip(codes, lines) if code in near_codes]
        nearby = ("; these share two characters with it:\n" + "\n".join(near[:10])
                  + ("\n…" if len(near) > 10 else "")) if near else ""
        raise click.ClickException(f"no class of the {scheme} table holds {' and '.join(map(repr, words))}: try "
                                   f"fewer words, the other language, or --scheme {other}{nearby}")
    click.echo("\n".join(found))
