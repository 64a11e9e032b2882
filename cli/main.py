"""The ``gridkit`` command group: only the group and -v/-q live here."""

from __future__ import annotations

import logging
import os
import signal

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", count=True, help="Less log output (errors only).")
@click.version_option(package_name="gridkit")
def cli(verbose, quiet):
    """gridkit: coded grid layouts for grid management (网格化管理).

    \b
    Turn boundary files into coded unit-grid layouts:
      gridkit grid units data/samples/dongcheng_gcj02.gpkg --crs gcj02 \\
          --code-field adcode --provisional -o dongcheng.gpkg --preview dongcheng.png
    Or into grids of 100–150 households (census blocks, address points or buildings):
      gridkit grid households data/samples/cincinnati_city.gpkg --provisional --parent-code 990201 \\
          --households data/samples/cincinnati_blocks.gpkg --households-layer blocks \\
          --count-field HOUSEHOLDS --min-households 100 --max-households 150 --split-polygons -o cincinnati.gpkg
    Draw a layout:
      gridkit map dongcheng.gpkg --html -o dongcheng.html
    Check a layout after editing it by hand (exit status 1 when broken):
      gridkit check dongcheng.gpkg --problems problems.gpkg
    Say what a package holds and how it was made:
      gridkit info dongcheng.gpkg
    Hand it to another system (GCJ-02 GeoJSON for Amap, Shapefile, CSV, KML):
      gridkit export dongcheng.gpkg --crs gcj02 -o dongcheng_amap.geojson
    Locate GPS points (and route them to a department):
      gridkit locate data/samples/dongcheng_reports.csv --crs gcj02 --grid dongcheng.gpkg -o located.csv
      gridkit route starter -o routing.toml && gridkit route check routing.toml
    Count them per cell, or per community (the monthly table of cases, and its map):
      gridkit locate data/samples/dongcheng_reports.csv --crs gcj02 --grid dongcheng.gpkg \\
          --counts per_community.xlsx --counts-per community --map per_community.png
    Run the whole demo on the shipped samples:
      gridkit demo --out demo-output
    Catalogue components (manhole covers, lamps, signals) into a layout's cells:
      gridkit components import data/samples/TRAFFIC_Signals.geojson --grid demo-output/cambridge.gpkg \\
          --mapping data/samples/cambridge_mapping.toml
    Patrol coverage: how long grid workers' GPS tracks ran in each cell:
      gridkit patrol data/samples/cambridge_patrol.gpx --grid demo-output/cambridge.gpkg -o coverage.gpkg
    Answer other systems over HTTP (point in; cell, areas, department out, as JSON):
      gridkit serve demo-output/cambridge.gpkg --routes routing.toml --self-test
    """
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")


def main():
    """The ``gridkit`` console script: :func:`cli`, with SIGTERM handled as Ctrl-C is.

    A scheduler's time limit, ``timeout``, ``kill`` or ``docker stop`` sends
    SIGTERM, which would end Python on the spot: an output being written would
    stay beside its destination as a hidden temporary file (``.city.x1y2.gpkg``,
    hundreds of MB for a city) and household workers would be left running. Here
    it is raised where the run is, as :class:`Terminated`, so that every
    ``finally`` runs (the temporary files go, an existing output stays as it was,
    the workers are stopped), and the process then ends by SIGTERM all the same,
    for whatever sent it (a shell prints 143)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli()
    except Terminated:
        click.echo("gridkit: terminated (SIGTERM)", err=True)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread by :func:`main`'s handler. A
    BaseException, as KeyboardInterrupt is: ``except Exception`` lets it through."""


def _terminate(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
    raise Terminated


def _register():
    from .check import check_command
    from .components import components
    from .demo import demo
    from .export import export_command
    from .grid import grid
    from .info import info_command
    from .locate import locate_command, route
    from .map import map_command
    from .options import refuse_blank_text
    from .patrol import patrol_command
    from .serve import serve_command

    cli.add_command(grid)
    cli.add_command(map_command)
    cli.add_command(check_command)
    cli.add_command(info_command)
    cli.add_command(export_command)
    cli.add_command(demo)
    cli.add_command(components)
    cli.add_command(locate_command)
    cli.add_command(route)
    cli.add_command(serve_command)
    cli.add_command(patrol_command)
    refuse_blank_text(cli)


_register()
