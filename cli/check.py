"""``gridkit check``: a grid package's invariants, as it is on disk."""

from __future__ import annotations

import click

from .options import (FilePath, multipart_text, overwrite_opt, problem_lines, problems_path, refuse_existing,
                      write_problems)


@click.command("check")
@click.argument("package", type=FilePath(exists=True, dir_okay=False))
@click.option("--problems", "problems_out", type=FilePath(dir_okay=False), default=None, callback=problems_path,
              help="Write where each problem lies (the overlap, the gap, the stray cell) to this .gpkg, "
                   "layer 'problems', to open beside the cells and fix (empty when all holds).")
@click.option("--fix-ids", is_flag=True,
              help="First give each cell (and micro-grid) whose ID is blank or duplicated the next free ID of its "
                   "community (or grid), in place: of cells sharing an ID, one under its own community's code keeps "
                   "it, else the largest; and each cell its "
                   "community's name, street and county where blank. Then check.")
@click.option("--fix-names", is_flag=True,
              help="First give each cell the community name, street and county that the units layer says of its "
                   "community where they differ (a community renamed, or moved to another street, in the units "
                   "layer alone), in place. Then check.")
@overwrite_opt
def check_command(package, problems_out, fix_ids, fix_names, overwrite):
    """Check PACKAGE's partition after it was edited (in QGIS, say).

    Cells must be valid polygons with unique, well-formed 15-digit grid IDs under
    their community's code, overlap no other cell and no other community, and
    together cover each community exactly; micro-grids likewise within their grid,
    their IDs the grid's ID and 2 digits from 01. A duplicated ID (a cell split in
    QGIS) comes with the next free one, as does the ID of a grid or micro-grid
    that a rebalance ended (its ended_grids layers): an ID is issued once.
    The component catalogue, if the package has one, must say for each component
    in use the cell (and micro-grid) that holds it: an edited cell can leave
    components in another, which `gridkit components reassign` puts right.
    Prints what is wrong and exits with status 1 when anything is; 0 when all
    holds. Cells of several parts are noted, not failed: an island may be meant,
    a piece far off is a slip. Cells beyond their community (a boundary moved in
    the units layer) or of one it no longer holds (merged into another) come with
    the command that follows the units layer: `gridkit grid recut`, or `grid
    rebalance` for a household package.

    With --fix-ids, the IDs a hand edit leaves blank (a cell drawn anew) or
    twice (Split Features) are issued first: north to south, then west to east,
    after the highest ever issued in the community, so an ID is never issued
    twice. The micro-grids in a split cell's new part follow it, with new micro
    IDs. A cell drawn anew also takes its community's code, name, street and
    county from the units layer, a micro-grid drawn anew its grid's ID (locate
    answers with the cells' names: the check names a cell whose names are not
    the units layer's). The package is written in place, atomically. In a
    household package both parts keep the grid's household count; `gridkit grid
    rebalance` recounts them, and --fix-ids says so. With --fix-names, the units
    layer's names win over the cells' (locate and the service answer with the
    cells'), and `gridkit components reassign` then gives them to the
    catalogue's components.

    \b
    Examples:
      gridkit check dongcheng.gpkg
      gridkit check demo-output/cincinnati.gpkg --problems problems.gpkg   # grids and micro-grids
      gridkit check dongcheng.gpkg --fix-ids   # after Split Features: the new part's ID
      gridkit check dongcheng.gpkg --fix-names   # after renaming a community in the units layer
    """
    from pathlib import Path

    from gridkit.errors import GridkitError
    from gridkit.package import check_package, fill_unit_fields, issue_missing_ids

    refuse_existing(problems_out, overwrite=overwrite, inputs={"PACKAGE": package})
    name = Path(package).name
    try:
        if fix_ids:
            changes = issue_missing_ids(package)
            click.echo(_issued_lines(name, changes))
        if fix_ids or fix_names:
            filled = fill_unit_fields(package, differing=fix_names)
            if filled:
                click.echo(f"{name}  cells: {filled:,} cell(s) given their community's name, street and county "
                           "from the units layer, in place")
        if fix_ids:
            recount = _recount_hint(package, changes)
            if recount:
                click.echo(recount)
        reports = check_package(package)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    for layer, report in reports.items():
        if layer == "components":
            click.echo(_components_lines(name, package, report, problems_out))
            continue
        what, parent = ("micro-grids", "grid") if layer == "micro_grids" else ("cells", "community")
        parents = parent if report.units == 1 else ("communities" if parent == "community" else "grids")
        head = f"{name}  {layer}: {report.cells:,} {what} in {report.units:,} {parents}"
        if report.ok:
            click.echo(f"{head}: ok (largest overlap {report.max_overlap_m2:.2g} m², "
                       f"largest coverage error {report.max_coverage_error:.2g} of a {parent}'s area)")
        else:
            click.echo("\n".join([f"{head}: {len(report.problems):,} problem(s)",
                                   *problem_lines(report.problems, problems_out),
                                   *(_moved_hint(package) if layer == "cells" else [])]))
        parts = multipart_text(report.multipart, what[:-1])
        if parts:
            click.echo(f"  note: {parts}")
    total = sum(len(r.problems) for r in reports.values())
    if problems_out:
        try:
            write_problems(reports, problems_out, overwrite=overwrite)
        except (GridkitError, FileExistsError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{problems_out}: {total:,} problem(s)" + (", where each lies" if total else " (an empty layer)"))
    if total:
        raise click.ClickException(f"{name}: {total:,} problem(s); the package breaks the grid invariants")


def _components_lines(name, package, report, problems_out):
    """What check says of the catalogue: each component in use in the cell that
    holds it, or where it is not, and the command that puts it right."""
    head = f"{name}  components: {report.cells:,} in use in {report.units:,} cells"
    if report.ok:
        return f"{head}: ok (each in the cell that holds it)"
    lines = [f"{head}: {len(report.problems):,} problem(s)", *problem_lines(report.problems, problems_out)]
    if not all(p.startswith("the components were not checked") for p in report.problems):
        lines.append(f"  fix: gridkit components reassign {package} puts each in the cell that holds it now, "
                     "with that cell's names")
    return "\n".join(lines)


def _moved_hint(package):
    """The fix lines when cells lie beyond their community (a boundary moved in
    the units layer), or name one it no longer holds while each lies wholly in
    one it does (merged into another): the command that puts them right, for the
    package's kind. A cell whose community_code was typed over (it lies in the
    community its ID names) gets its own line instead. No line when none."""
    import shapely

    from gridkit.errors import GridkitError
    from gridkit.package import holds_households, read_package
    from gridkit.rebalance import communities_of
    from gridkit.recut import cells_relabelled, communities_merged, communities_overrun

    try:
        cells, units, _ = read_package(package)
        # Cells the problems name already (broken, of no community) say nothing of a boundary.
        cells = cells[cells["community_code"].notna() & shapely.is_valid(cells.geometry.values)]
        communities = communities_of(cells, units)
        # A code typed over makes a cell seem beyond its community, or of one merged away.
        relabelled = cells_relabelled(cells, communities)
        cells = cells[~cells["grid_id"].astype(str).isin(relabelled["grid_id"])]
        merged = communities_merged(cells, communities)
        held = cells["community_code"].astype(str).isin(communities["community_code"].astype(str))
        moved = communities_overrun(cells[held], communities)
    except GridkitError:  # a community with no cell: the problems say so
        return []
    lines = [_relabelled_line(relabelled)] if len(relabelled) else []
    if not moved and not merged:
        return lines
    households = holds_households(package, cells)
    command = (f"`gridkit grid rebalance {package} --households FILE -o OUT.gpkg`" if households
               else f"`gridkit grid recut {package} -o OUT.gpkg`")
    if moved:
        lines.append(f"  fix: cells of {_communities(moved)} lie beyond {'it' if len(moved) == 1 else 'them'} now (a "
                     f"boundary moved in the units layer?): {command} cuts the {'grids' if households else 'cells'} "
                     "to the communities and "
                     + ("counts them again" if households else "divides the land they gained"))
    if merged:
        lines.append(f"  fix: the cells of {_communities(merged)}, which the units layer does not hold, each lie "
                     f"in one community of it (merged into another?): {command} gives them to it, with its next "
                     "IDs" + (", and counts them again" if households else ""))
    return lines


def _relabelled_line(relabelled, shown=3):
    """The fix line for cells whose community_code was typed over: each lies in the
    community its ID names, so the code goes back (recut would end the cell)."""
    if len(relabelled) == 1:
        cell, said, lies = relabelled.iloc[0]
        return (f"  fix: cell {cell} lies in community {lies}, which its ID names, but its community_code says "
                f"{said} (typed over?): set community_code back to {lies} in QGIS")
    cells = ", ".join(relabelled["grid_id"][:shown]) + (" …" if len(relabelled) > shown else "")
    return (f"  fix: {len(relabelled):,} cells ({cells}) lie in the community their ID names, but their "
            "community_code says another (typed over?): set each back to its ID's community code in QGIS")


def _communities(codes):
    """"community X" or "communities X, Y, Z …"."""
    one = len(codes) == 1
    return f"communit{'y' if one else 'ies'} {', '.join(codes[:3])}{' …' if len(codes) > 3 else ''}"


def _recount_hint(package, changes):
    """After --fix-ids split a household package's grid: the parts each still carry
    the grid's household count, which `grid rebalance` recounts (None otherwise)."""
    import json

    from gridkit.package import read_metadata

    if not any(old for old, _ in changes.get("cells", [])):
        return None
    try:
        households = json.loads(read_metadata(package).get("parameters") or "{}").get("households")
    except (ValueError, AttributeError):
        return None
    if not households:
        return None
    return (f"  households: the parts of a split grid each carry its count; `gridkit grid rebalance {package} "
            f"--households {households} -o NEW.gpkg` recounts them, and divides again those out of the band")


def _issued_lines(name, changes, shown=20):
    """What --fix-ids did: the IDs given, per layer."""
    lines = []
    for layer, changed in changes.items():
        what = {"micro_grids": "micro-grid(s)", "components": "component(s)"}.get(layer, "cell(s)")
        lines.append(f"{name}  {layer}: {len(changed):,} {what} given a new ID" + (", in place" if changed else ""))
        lines += [f"  {old or '(blank)'} → {new}" for old, new in changed[:shown]]
        if len(changed) > shown:
            lines.append(f"  … and {len(changed) - shown:,} more")
    return "\n".join(lines)
