"""``gridkit demo``: the whole job on the shipped samples."""

from __future__ import annotations

import click

from .options import FilePath


@click.command()
@click.option("--out", "out_dir", default="demo-output", show_default=True,
              type=FilePath(file_okay=False), help="Folder for the GeoPackages and PNG maps.")
@click.option("--samples", type=FilePath(file_okay=False),
              help="The samples folder of a gridkit checkout.  [default: data/samples here, else in the "
                   "checkout gridkit is installed from]")
def demo(out_dir, samples):
    """Grid Dongcheng (GCJ-02) and Cambridge (street-bounded), divide Cincinnati by
    households and rebalance it, catalogue, locate.

    Writes a grid package (.gpkg, opens in QGIS) and a PNG map for each, and
    checks every layout against the partition invariants; Dongcheng's cells are
    also exported as GCJ-02 GeoJSON for Amap, and 300 case reports are counted
    per cell (dongcheng_reports.gpkg, .png). Cincinnati's census
    blocks become grids of 100–150 households with micro-grids of 20–50 inside,
    and then one block gains an estate of 400 households: the layout is
    rebalanced (cincinnati_2027.gpkg, the new grids outlined in its map); one home
    is located to its grid and micro-grid. Then
    it imports two Cambridge component inventories into the Cambridge package
    (rejects to CSV, a map of components over cells) and locates 10,000 GPS points,
    and measures three patrols' coverage of Cambridge's cells (simulated along its
    real streets: data/samples/cambridge_patrol.gpx).

    \b
    Example:
      gridkit demo --out demo-output
    """
    from pathlib import Path

    import gridkit as gk
    from gridkit.package import units_layer
    from gridkit.preview import plot_layout

    root = _samples(samples)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        ("dongcheng", dict(path=root / "dongcheng_gcj02.gpkg", crs="gcj02"),
         dict(code_field="adcode", name_field="district", provisional=True), None),
        ("cambridge", dict(path=root / "cambridge_neighborhoods.gpkg"),
         dict(name_field="NAME", provisional=True, parent_code="990101"),
         root / "cambridge_centerlines.gpkg"),
    ]
    for name, read, hierarchy, barriers in jobs:
        lines = gk.read_vector(barriers) if barriers else None
        communities = gk.unit_hierarchy(gk.read_vector(**read), barriers=lines, **hierarchy)
        cells = gk.unit_grid(communities, barriers=lines)
        report = gk.check_partition(cells, communities)
        package = gk.write_package(out / f"{name}.gpkg", cells, communities, overwrite=True,
                                   parameters={**hierarchy, "barriers": str(barriers) if barriers else None})
        plot_layout(cells, units_layer(communities), out / f"{name}.png")
        s = cells.attrs["summary"]
        click.echo(f"{name:10s} {s['cells']:6,d} cells in {s['units']:3d} communities, mean "
                   f"{s['area_mean']:,.0f} m², {s['merges']:,} merges, invariants "
                   f"{'ok' if report.ok else 'FAILED'} → {package}, {out / (name + '.png')}")
        if not report.ok:
            raise click.ClickException("; ".join(report.problems[:5]))
    _export(out)
    _reports_per_cell(root, out)
    _households(root, out)
    _catalogue_and_locate(root, out)


def _reports_per_cell(root, out):
    """Dongcheng's 300 case reports (GCJ-02) counted per cell, by matter, with a map."""
    from gridkit.batch import locate_file

    counts, picture = out / "dongcheng_reports.gpkg", out / "dongcheng_reports.png"
    s = locate_file(root / "dongcheng_reports.csv", out / "dongcheng.gpkg", None, crs="gcj02", counts=counts,
                    counts_by="matter_code", counts_map=picture, overwrite=True)
    c = s["counts"]
    click.echo(f"counts     {s['rows']} case reports over Dongcheng → {c['points']} in {c['cells_with_points']} of "
               f"{c['cells']:,} cells (most {c['most'][0]['points']}, in {c['most'][0]['grid_id']}), "
               f"{s['outside']} outside → {counts}, {picture}")


def _export(out):
    """Dongcheng's cells for an Amap-based platform: GCJ-02 GeoJSON."""
    from gridkit.export import export_package

    [done] = export_package(out / "dongcheng.gpkg", out / "dongcheng_amap.geojson", crs="gcj02", overwrite=True)
    click.echo(f"export     {done.features:,} cells → {done.path} ({done.crs}, for Amap and Tencent maps; "
               f"gridkit export --help for Shapefile, CSV, KML, BD-09)")


def _households(root, out):
    """Cincinnati's census blocks as grids of 100–150 households, micro-grids of 20–50."""
    import gridkit as gk
    from gridkit.households import balanced_grid

    from .grid import draw_household_grids, household_problems, write_household_package
    from .options import percent

    hierarchy = dict(provisional=True, parent_code="990201")
    communities = gk.unit_hierarchy(gk.read_vector(root / "cincinnati_city.gpkg"), **hierarchy)
    blocks = gk.read_vector(root / "cincinnati_blocks.gpkg", layer="blocks")
    layout = balanced_grid(communities, blocks, min_households=100, max_households=150, count_field="HOUSEHOLDS",
                           split_polygons=True, micro=(20, 50))
    problems = household_problems(layout, communities)
    s = layout.summary
    params = {**hierarchy, "households": "cincinnati_blocks.gpkg", "count_field": "HOUSEHOLDS", "kind": s["kind"],
              "band": [100, 150], "micro": [20, 50], "split_polygons": True}
    package = write_household_package(out / "cincinnati.gpkg", layout, communities, overwrite=True,
                                      parameters=params)
    draw_household_grids(layout, communities, out / "cincinnati.png")
    m = s["micro"]
    ok = not problems
    click.echo(f"households {s['grids']} grids of 100–150 households ({percent(s['in_band_pct'])} % in band, "
               f"Polsby–Popper {s['polsby_popper_mean']:.2f}), {m['grids']} micro-grids of 20–50 "
               f"({percent(m['in_band_pct'])} % in band), invariants {'ok' if ok else 'FAILED'} → {package}, "
               f"{out / 'cincinnati.png'}")
    if not ok:
        raise click.ClickException("; ".join(problems[:5]))
    _locate_household(package, blocks)
    _rebalance(out, blocks, layout, communities, params)


def _locate_household(package, blocks):
    """One address (a point in the block with the most households) to its grid and micro-grid."""
    from gridkit.locator import Locator

    home = blocks.to_crs(4326).geometry.loc[blocks["HOUSEHOLDS"].idxmax()].representative_point()
    where = Locator.from_package(package).locate(home.x, home.y, crs="EPSG:4326")
    click.echo(f"locate     a home at {home.x:.5f}, {home.y:.5f} → grid {where.grid_id}, micro-grid "
               f"{where.micro_id} (gridkit locate --at {home.x:.5f},{home.y:.5f} --grid {package})")


def _rebalance(out, blocks, layout, communities, params):
    """The same layout after one block of 60 households gains an estate of 400
    (``params``: the layout's metadata, kept so the package can be rebalanced again)."""
    from gridkit.rebalance import rebalance

    from .grid import draw_household_grids, household_problems, write_household_package

    blocks = blocks.copy()
    blocks.loc[blocks.index[207], "HOUSEHOLDS"] += 400
    done = rebalance(layout.grids, communities, blocks, min_households=100, max_households=150,
                     count_field="HOUSEHOLDS", split_polygons=True, micro_grids=layout.micro, micro=(20, 50),
                     sized_for=layout.sized_for)
    now, s = done.layout, done.layout.summary
    problems = household_problems(now, communities)
    if problems:
        raise click.ClickException("; ".join(problems[:5]))
    package = write_household_package(
        out / "cincinnati_2027.gpkg", now, communities,
        {**params, "rebalanced_from": "cincinnati.gpkg", "households": "cincinnati_blocks.gpkg, block 207 +400"},
        overwrite=True, issued=done.issued, ended=done.ended, ended_micro=done.ended_micro)
    draw_household_grids(now, communities, out / "cincinnati_2027.png", outlined=s["new_ids"])
    out_before = f"{s['out_before']} grid" + ("" if s["out_before"] == 1 else "s")
    in_band = int(now.grids["in_band"].sum())
    click.echo(f"rebalance  +400 households in one block put {out_before} out of the band: "
               f"{len(s['ended_ids'])} ended, {len(s['new_ids'])} new, {s['grids'] - len(s['new_ids'])} kept with "
               f"their IDs; {in_band} of {s['grids']} in the band, invariants ok → {package}, "
               f"{out / 'cincinnati_2027.png'}")


def _catalogue_and_locate(root, out):
    """Import the Cambridge inventories into its package (departments from its
    routing table), draw them, locate GPS points."""
    import numpy as np

    from gridkit.batch import write_rejects
    from gridkit.catalogue import Mapping, import_components, read_catalogue, write_catalogue
    from gridkit.locator import Locator
    from gridkit.package import read_package
    from gridkit.preview import plot_layout
    from gridkit.routing import RoutingTable

    package = out / "cambridge.gpkg"
    routes = RoutingTable.load(root / "cambridge_routing.toml")
    locator = Locator.from_package(package)
    catalogue = read_catalogue(package)
    for name in ("TRAFFIC_Signals", "DPW_LitterBarrels"):
        inventory = root / f"{name}.geojson"
        result = import_components(inventory, locator, catalogue=catalogue,
                                   mapping=Mapping.load(root / "cambridge_mapping.toml", inventory=inventory),
                                   routes=routes)
        catalogue = result.catalogue
        write_rejects(result.rejects, None, out / f"{name}.rejects.csv")
        s = result.summary
        click.echo(f"catalogue  {name}: {s['rows']} rows → {s['imported']} imported "
                   f"({s['assigned_nearest']} to the nearest cell), {s['rejected']} rejected "
                   f"{s['rejected_by_reason']} → {out / (name + '.rejects.csv')}; departments coded "
                   f"{s['imported'] - s['departments']['no_code']} (cambridge_routing.toml)")
    write_catalogue(package, catalogue)
    _fields(catalogue, package)
    cells, units, _ = read_package(package)
    plot_layout(cells, units, out / "cambridge_components.png", labels=0, components=catalogue,
                title=f"{len(catalogue):,} components in {len(cells):,} cells")
    rng = np.random.default_rng(1)
    lon = rng.uniform(-71.16, -71.06, 10_000)
    lat = rng.uniform(42.35, 42.41, 10_000)
    loc = Locator.from_package(package, tolerance=25)
    found = loc.locate_many(lon, lat, crs="EPSG:4326")
    counts = found["status"].value_counts().to_dict()
    click.echo(f"locate     10,000 GPS points over Cambridge → {counts.get('inside', 0):,} inside a cell, "
               f"{counts.get('nearest', 0):,} within 25 m, {counts.get('outside', 0):,} outside; "
               f"map → {out / 'cambridge_components.png'}")
    first = int(np.flatnonzero((found["status"] == "inside").to_numpy())[0])
    _route(out, loc, lon[first], lat[first])
    _patrol(root, out, package)


def _patrol(root, out, package):
    """Three grid workers' simulated patrols: the coverage of their communities' cells."""
    from gridkit.patrol import patrol_file
    from gridkit.preview import plot_coverage

    coverage = out / "cambridge_patrol.gpkg"
    s, cells, lines = patrol_file([root / "cambridge_patrol.gpx"], package, coverage, overwrite=True)
    plot_coverage(cells, lines, out / "cambridge_patrol.png")
    click.echo(f"patrol     {s['tracks']} patrols ({s['fixes']:,} fixes, {s['metres_walked'] / 1000:.1f} km) → "
               f"{s['cells_patrolled']:,} of {s['cells_in_scope']:,} cells of their communities patrolled → "
               f"{coverage}, {out / 'cambridge_patrol.png'}")


def _fields(catalogue, package):
    """One line of ``components check``: what a platform would refuse, and why."""
    from gridkit.conformance import field_problems

    problems = field_problems(catalogue)
    counts = problems.groupby(["field", "problem"], sort=False).size()
    said = "; ".join(f"{field} {problem} {n:,}" for (field, problem), n in counts.items())
    click.echo(f"check      {problems['row'].nunique():,} of {len(catalogue):,} components break the standard's "
               f"field table ({said or 'none'}) (gridkit components check {package})")


def _route(out, loc, lon, lat):
    """Write the starter routing table and route one report of each kind."""
    from gridkit.routing import RoutingTable, write_starter

    table = out / "routing.toml"
    write_starter(table, overwrite=True)
    routes = RoutingTable.load(table)
    where = loc.locate(float(lon), float(lat), crs="EPSG:4326")
    for code in ("01013", "06010", "01023"):  # a hydrant, exposed garbage, an unidentified cover
        r = routes.route(where, code)
        click.echo(f"route      class {code} at {where.grid_id} ({where.community_name}) → {r.department_name} "
                   f"[{r.rule}]")
    click.echo(f"route      starter routing table → {table} (gridkit route check {table})")


def _samples(given):
    """The samples folder: ``given``, else ``data/samples`` in the working folder,
    else in the checkout gridkit is installed from (an editable install run from
    another folder). The samples are not in the installed package."""
    from pathlib import Path

    import gridkit

    tried = [Path(given)] if given else [Path("data/samples"),
                                         Path(gridkit.__file__).resolve().parents[1] / "data" / "samples"]
    for root in tried:
        if (root / "dongcheng_gcj02.gpkg").exists():
            return root
    raise click.UsageError(f"no samples in {' or '.join(map(str, tried))}: they come with a gridkit checkout "
                           "(its data/samples folder), not with the installed package; pass --samples DIR")
