"""``gridkit map``: a picture of a grid package."""

from __future__ import annotations

import click

from .options import overwrite_opt, refuse_existing


@click.command("map")
@click.argument("package", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="PNG to write (default: PACKAGE with .png).")
@click.option("--labels", default=12, show_default=True, help="How many cell IDs to label.")
@click.option("--html", "as_html", is_flag=True,
              help="Write a self-contained interactive web map (.html) instead: cells, units, components and "
                   "--points as toggleable layers, click for codes and departments; opens offline.")
@click.option("--points", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="With --html: a point file to add as a layer (e.g. the output of gridkit locate); repeatable.")
@overwrite_opt
def map_command(package, output, labels, as_html, points, overwrite):
    """Draw PACKAGE's cells by community with unit boundaries and a few IDs.

    \b
    Examples:
      gridkit map dongcheng.gpkg -o dongcheng.png --overwrite
      gridkit map demo-output/dongcheng.gpkg --html -o dongcheng.html --points located.parquet
    """
    from pathlib import Path

    from gridkit.errors import GridkitError
    from gridkit.package import read_package

    output = output or str(Path(package).with_suffix(".html" if as_html else ".png"))
    refuse_existing(output, overwrite=overwrite)  # before reading and drawing, not after
    try:
        cells, units, _ = read_package(package)
        if as_html:
            counts = _html(package, cells, units, points, output, overwrite)
            click.echo(f"{output}: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
            return
        from gridkit.preview import plot_layout

        plot_layout(cells, units, output, labels=labels, overwrite=overwrite)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(output)


def _html(package, cells, units, points, output, overwrite):
    from pathlib import Path

    import geopandas as gpd

    from gridkit.catalogue import read_catalogue
    from gridkit.webmap import write_html_map

    extra = {Path(p).stem: gpd.read_parquet(p) if Path(p).suffix == ".parquet"
             else gpd.read_file(p, layer=0, engine="pyogrio")  # 0: a located.gpkg also has layer_styles
             for p in points}
    return write_html_map(output, cells, units, components=read_catalogue(package), points=extra,
                          title=f"{Path(package).name}: {len(cells):,} cells", overwrite=overwrite)
