"""``gridkit map``: a picture of a grid package."""

from __future__ import annotations

import click

from .options import overwrite_opt


@click.command("map")
@click.argument("package", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="PNG to write (default: PACKAGE with .png).")
@click.option("--labels", default=12, show_default=True, help="How many cell IDs to label.")
@overwrite_opt
def map_command(package, output, labels, overwrite):
    """Draw PACKAGE's cells by community with unit boundaries and a few IDs.

    \b
    Example:
      gridkit map dongcheng.gpkg -o dongcheng.png --overwrite
    """
    from pathlib import Path

    from gridkit.errors import GridkitError
    from gridkit.package import read_package
    from gridkit.preview import plot_layout

    output = output or str(Path(package).with_suffix(".png"))
    try:
        cells, units, _ = read_package(package)
        plot_layout(cells, units, output, labels=labels, overwrite=overwrite)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(output)
