"""``gridkit map``: a picture of a grid package."""

from __future__ import annotations

import click

from .options import overwrite_opt, picture_path, refuse_existing


@click.command("map")
@click.argument("package", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Picture to write: .png (default: PACKAGE with .png), .svg or .pdf to print (vector), .jpg; "
                   "with --html, the .html.")
@click.option("--labels", default=12, show_default=True, help="How many cell IDs to label.")
@click.option("--html", "as_html", is_flag=True,
              help="Write a self-contained interactive web map (.html) instead: cells, units, components and "
                   "--points as toggleable layers, click for codes and departments; opens offline.")
@click.option("--points", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="With --html: a point file to add as a layer (e.g. the output of gridkit locate); repeatable.")
@overwrite_opt
def map_command(package, output, labels, as_html, points, overwrite):
    """Draw PACKAGE's cells by community with unit boundaries and a few IDs.

    A household package is drawn as `grid households --preview` draws it: each
    grid its own colour, grids out of the band hatched, micro-grids dashed, and
    the band, the share in it and Polsby–Popper in the title.

    \b
    Examples:
      gridkit map dongcheng.gpkg -o dongcheng.png --overwrite
      gridkit map demo-output/dongcheng.gpkg --html -o dongcheng.html --points located.parquet
    """
    from pathlib import Path

    from gridkit.errors import GridkitError
    from gridkit.package import read_package

    output = output or str(Path(package).with_suffix(".html" if as_html else ".png"))
    if not as_html:  # a suffix no picture has: named before any work
        ctx = click.get_current_context()
        picture_path(ctx, next(p for p in ctx.command.params if p.name == "output"), output)
    refuse_existing(output, overwrite=overwrite)  # before reading and drawing, not after
    try:
        cells, units, meta = read_package(package)
        micro = _micro_grids(package)
        if as_html:
            counts = _html(package, cells, units, micro, points, output, overwrite)
            click.echo(f"{output}: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
            return
        from gridkit.preview import plot_layout

        band = _band(meta)
        if band is None:
            plot_layout(cells, units, output, labels=labels, overwrite=overwrite, micro=micro)  # adopted ones
        else:  # household grids: as grid households --preview draws them
            from .grid import household_title

            plot_layout(cells, units, output, labels=labels, overwrite=overwrite, colour_by="grid_id", micro=micro,
                        title=household_title(cells, band))
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(output)


def _band(meta):
    """A household package's band (low, high) from its recorded parameters; None
    for unit grids."""
    from gridkit.package import _json_object

    band = _json_object(meta, "parameters").get("band")
    return tuple(band) if isinstance(band, list) and len(band) == 2 else None


def _micro_grids(package):
    """A package's micro-grids (grid households --micro, grid adopt --micro), or None."""
    import geopandas as gpd
    import pyogrio

    if "micro_grids" not in pyogrio.list_layers(package)[:, 0]:
        return None
    return gpd.read_file(package, layer="micro_grids", engine="pyogrio")


def _html(package, cells, units, micro, points, output, overwrite):
    from pathlib import Path

    import geopandas as gpd

    from gridkit.catalogue import read_catalogue
    from gridkit.webmap import write_html_map

    extra = {Path(p).stem: gpd.read_parquet(p) if Path(p).suffix == ".parquet"
             else gpd.read_file(p, layer=0, engine="pyogrio")  # 0: a located.gpkg also has layer_styles
             for p in points}
    return write_html_map(output, cells, units, micro=micro, components=read_catalogue(package), points=extra,
                          title=f"{Path(package).name}: {len(cells):,} cells", overwrite=overwrite)
