"""``gridkit map``: a picture of a grid package."""

from __future__ import annotations

import click

from .options import FilePath, crs_opt, overwrite_opt, picture_path, refuse_existing, x_field_opt, y_field_opt


@click.command("map")
@click.argument("package", type=FilePath(exists=True, dir_okay=False))
@click.option("-o", "--output", type=FilePath(dir_okay=False), default=None,
              help="Picture to write: .png (default: PACKAGE with .png), .svg or .pdf to print (vector), .jpg; "
                   "with --html, the .html.")
@click.option("--labels", default=12, show_default=True, type=click.IntRange(min=0),
              help="How many cell IDs to label.")
@click.option("--html", "as_html", is_flag=True,
              help="Write a self-contained interactive web map (.html) instead: cells, units, components and "
                   "--points as toggleable layers, click for codes and departments; opens offline.")
@click.option("--points", multiple=True, type=FilePath(exists=True),
              help="With --html: a point file to add as a layer (the output of gridkit locate, or any file "
                   "locate reads: CSV or Excel with coordinate columns, GeoJSON, GeoPackage …); repeatable.")
@crs_opt("--points-crs", help="What the coordinates of the --points files are, as locate's --crs: EPSG:4326, "
                              "gcj02, bd09, bd09mc, EPSG:4490 or an EPSG code. It applies to every --points file; "
                              "without it a table's lon/lat columns are EPSG:4326 and a file that records its "
                              "CRS is read in its own (locate's output is WGS84: give it in a run of its own).")
@x_field_opt
@y_field_opt
@click.option("--where", default=None, metavar="SQL",
              help="Draw only the cells matching this OGR SQL filter over the cells' columns, e.g. "
                   "\"street_code = '110101001'\" (one street), with the units and components they hold: a part "
                   "of a layout too big to draw whole.")
@click.option("--components", "with_components", is_flag=True,
              help="Draw the catalogue's components over the cells, as dots coloured by class with a legend "
                   "counting each (the web map has them always).")
@click.option("--class", "class_code", default=None, metavar="CODE",
              help="Only the components of this class (01037: street lights) or big class (01), in the picture "
                   "(implies --components) or the web map. `gridkit components classes WORD` finds the code.")
@overwrite_opt
def map_command(package, output, labels, as_html, points, points_crs, x_field, y_field, where, with_components,
                class_code, overwrite):
    """Draw PACKAGE's cells by community with unit boundaries and a few IDs.

    A household package is drawn as `grid households --preview` draws it: each
    grid its own colour, grids out of the band hatched, micro-grids dashed, and
    the band, the share in it and Polsby–Popper in the title.

    \b
    Examples:
      gridkit map dongcheng.gpkg -o dongcheng.png --overwrite
      gridkit map demo-output/dongcheng.gpkg --html -o dongcheng.html --points located.parquet
      gridkit map demo-output/dongcheng.gpkg --where "community_code = '110101900601'" -o c601.png
      gridkit map demo-output/cambridge.gpkg --class 02014 -o signals.png
    """
    from pathlib import Path

    from gridkit.errors import GridkitError
    from gridkit.package import read_package

    output = output or str(Path(package).with_suffix(".html" if as_html else ".png"))
    with_components = with_components or class_code is not None
    if (points or points_crs or x_field or y_field) and not as_html:
        raise click.UsageError("--points (and --points-crs, --x-field, --y-field) add layers to the web map: "
                               "give --html too")
    if as_html and not output.lower().endswith((".html", ".htm")):
        raise click.BadParameter(f"{output}: --html writes a web page; name it .html", param_hint="-o")
    if not as_html:  # a suffix no picture has: named before any work
        ctx = click.get_current_context()
        picture_path(ctx, next(p for p in ctx.command.params if p.name == "output"), output)
    refuse_existing(output, overwrite=overwrite)  # before reading and drawing, not after
    try:
        components = _components(package, class_code, with_components) if with_components or as_html else None
        cells, units, meta = read_package(package, where=where)
        if (cells.geometry.isna() | cells.geometry.is_empty).all():  # every cell deleted (in QGIS, say), or cleared
            raise GridkitError(f"{package}: its cells layer holds no cell to draw; `gridkit check {package}` "
                               "says what else is wrong")
        micro = _micro_grids(package, None if where is None else cells["grid_id"])
        if where is not None and components is not None:  # those in the cells drawn
            components = components.loc[components["SZDYWGBSM"].isin(cells["grid_id"])]
        if as_html:
            layers = _point_layers(points, points_crs, (x_field, y_field), cells)
            counts = _html(package, cells, units, micro, components, layers, output, overwrite, where)
            click.echo(f"{output}: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
            return
        from gridkit.preview import plot_layout

        drawn = components.to_crs(cells.crs) if with_components else None
        band = _band(meta)
        if band is None:  # unit cells, or adopted ones
            title = None if drawn is None else _components_title(drawn, class_code, cells)
            plot_layout(cells, units, output, labels=labels, overwrite=overwrite, micro=micro, components=drawn,
                        title=title)
        else:  # household grids: as grid households --preview draws them
            from .grid import household_title

            plot_layout(cells, units, output, labels=labels, overwrite=overwrite, colour_by="grid_id", micro=micro,
                        title=household_title(cells, band), components=drawn)
    except (GridkitError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(output)


def _band(meta):
    """A household package's band (low, high) from its recorded parameters; None
    for unit grids."""
    from gridkit.package import _json_object

    band = _json_object(meta, "parameters").get("band")
    return tuple(band) if isinstance(band, list) and len(band) == 2 else None


def _micro_grids(package, grid_ids=None):
    """A package's micro-grids (grid households --micro, grid adopt --micro), or None;
    with ``grid_ids``, those of these grids."""
    import pyogrio

    from gridkit.package import read_layer

    if "micro_grids" not in pyogrio.list_layers(package)[:, 0]:
        return None
    micro = read_layer(package, "micro_grids")
    if grid_ids is None:
        return micro
    return micro.loc[micro["grid_id"].isin(grid_ids)].reset_index(drop=True)


def _point_layers(paths, crs, fields, cells):
    """--points as layers named by their files, each read as `grid households` reads
    its households (:func:`gridkit.catalogue.read_points`: a CSV of reports is a
    layer too, not only locate's output), without the rows that have no position.
    A layer none of whose points falls within the layout's extent is logged: most
    likely its CRS is not what was said."""
    import logging
    from pathlib import Path

    import shapely

    from gridkit.catalogue import read_points

    log = logging.getLogger("gridkit.map")
    layers = {}
    for path in paths:
        read = read_points(path, crs=crs, x_field=fields[0], y_field=fields[1], crs_option="--points-crs",
                           keep_xy=True)
        kept = read.geometry.notna().to_numpy()
        if not kept.all():
            log.warning("%s: %d of %d rows have no position and are not drawn", path, int((~kept).sum()), len(read))
        layer = read[kept].reset_index(drop=True).to_crs(cells.crs)
        if len(layer) and not layer.intersects(shapely.box(*cells.total_bounds)).any():
            log.warning("%s: none of its %d points lies within the layout's extent: are its coordinates %s "
                        "(--points-crs)?", path, len(layer), read.attrs["source_crs"])
        name, n = Path(path).stem, 2
        while name in layers:  # a/located.csv and b/located.csv: two layers
            name, n = f"{Path(path).stem}_{n}", n + 1
        layers[name] = layer
    return layers


def _components(package, class_code, required):
    """The package's catalogue, of ``class_code`` only when given: ``required``
    (--components, --class), an error when the package has none; for the web map,
    None then. A class none of whose components is held is said."""
    from gridkit.catalogue import of_class, read_catalogue

    from .components import _catalogue_or_fail, _known_class, class_named

    if not required:
        return read_catalogue(package)
    catalogue = _catalogue_or_fail(package)
    if class_code is None:
        return catalogue
    _known_class(class_code, catalogue, package)
    chosen = of_class(catalogue, class_code)
    if not len(chosen):
        click.echo(f"Warning: {package} holds no component of {class_named(class_code)} (of its "
                   f"{len(catalogue):,}): `gridkit components stats {package}` lists the classes it holds", err=True)
    return chosen


def _components_title(components, class_code, cells):
    from .components import class_named

    live = int((components["GLBJZT"] != "移除").sum())
    what = "" if class_code is None else f" of {class_named(class_code)}"
    return f"{live:,} components{what} in {len(cells):,} cells"


def _html(package, cells, units, micro, components, points, output, overwrite, where):
    from pathlib import Path

    from gridkit.webmap import write_html_map

    return write_html_map(output, cells, units, micro=micro, components=components, points=points,
                          title=f"{Path(package).name}: {len(cells):,} cells" + (f" where {where}" if where else ""),
                          overwrite=overwrite)
