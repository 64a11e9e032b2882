"""``gridkit export``: a grid package's layers for other systems."""

from __future__ import annotations

import click

from .options import Encoding, FilePath, crs_opt, overwrite_opt

#: gridkit.export.EXPORT_LAYERS and "all", written out: the CLI imports the library only
#: when a command runs (tests/test_export.py checks they agree).
_LAYERS = ("cells", "units", "micro_grids", "components", "ended_grids", "ended_micro_grids", "all")


@click.command("export")
@click.argument("package", type=FilePath(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=FilePath(dir_okay=False),
              help="The file to write; its suffix is the format: .geojson, .shp, .csv, .xlsx, .kml, .kmz, .gpkg, "
                   ".fgb, .parquet. With more than one --layer, a file per layer (OUTPUT's name + _LAYER), except a "
                   ".gpkg, which takes them all, and an .xlsx, a sheet each.")
@click.option("--layer", "layers", multiple=True, type=click.Choice(_LAYERS), default=("cells",), show_default=True,
              help="The package layer to export; repeatable, or all (every layer the package has).")
@crs_opt("--crs", help="The output CRS: gcj02 for Amap and Tencent maps, bd09 for Baidu, EPSG:4326 for GPS/WGS84, "
                       "EPSG:4490 for CGCS2000, or any EPSG code. Default: EPSG:4326 for .geojson, .kml and .kmz, else "
                       "the package's own metric CRS. GCJ-02 and BD-09 are written labelled EPSG:4326, as those "
                       "platforms expect, and marked as what they are (in .geojson, .gpkg, .fgb and .parquet; "
                       "not .shp or .kml), so that gridkit reads them back right.")
@click.option("--encoding", type=Encoding(), default=None, metavar="NAME",
              help="A Shapefile's text encoding (default UTF-8), e.g. GBK for older platforms; a value it cannot "
                   "hold is an error naming its feature.")
@click.option("--where", default=None, metavar="SQL",
              help="Export only the features matching this OGR SQL filter over the layer's columns, e.g. "
                   "\"street_code = '110101001'\" (one street's grids).")
@click.option("--fields", type=click.Choice(("standard", "chinese", "legacy")), default="standard",
              show_default=True,
              help="How the components layer names the standard's fields: by the 2026 abbreviations (GLBJBSM …), "
                   "by their Chinese names (管理部件标识码 …, a department's ledger), or as legacy CJ/T 214 systems "
                   "do (ObjID, ObjName, DeptCode1 … BGID, PointX/PointY), with the 17-digit IDs converted to 16 by "
                   "class meaning and kept as ObjID_2026. `components import` reads each back.")
@overwrite_opt
def export_command(package, output, layers, crs, encoding, where, fields, overwrite):
    """Write PACKAGE's layers where another system can take them.

    For web maps in China: GCJ-02 GeoJSON for Amap and Tencent, BD-09 for Baidu
    (WGS84 lands 100–700 m off on them). For platforms that import Shapefiles:
    10-character field names (community_code becomes comm_code; every renaming
    is listed), UTF-8 with a .cpg file, or --encoding GBK. CSV opens in Excel
    (WKT geometry, points as X and Y), but Excel makes numbers of 15 digits of
    its 17-digit component IDs: .xlsx keeps every code a text cell. A CSV's CRS
    is written beside it as a .prj (QGIS then opens it in place), a workbook's
    as its document property CRS (not GCJ-02 or BD-09's, which none names);
    gridkit reads them back without --crs. KML opens in Google Earth and field
    apps; .kmz is the same KML zipped, a tenth of the size. For a platform on the
    legacy component scheme (CJ/T 214): --fields legacy.

    The export is a copy for others, not a grid package: keep PACKAGE as the
    master, and edit it, not the copy. Files appear only when all are written; a
    failed export leaves none and replaces none.

    \b
    Examples:
      gridkit export demo-output/dongcheng.gpkg --crs gcj02 -o dongcheng_amap.geojson
      gridkit export demo-output/cincinnati.gpkg --layer all -o cincinnati.shp
      gridkit export dongcheng.gpkg --encoding GBK --where "community_code = '110101900601'" -o c601.shp
      gridkit export demo-output/cambridge.gpkg --layer components -o components.csv
      gridkit export demo-output/cambridge.gpkg --layer cells --layer components -o cambridge.xlsx
      gridkit export demo-output/cincinnati.gpkg -o cincinnati_table.csv   # polygons as WKT; CRS in its .prj
      gridkit export demo-output/cambridge.gpkg --layer components -o components.kmz   # Google Earth
      gridkit export demo-output/cambridge.gpkg --layer components --fields legacy -o objects.shp
    """
    from gridkit import coords
    from gridkit.errors import GridkitError
    from gridkit.export import export_package

    try:
        written = export_package(package, output, layers=list(layers), crs=crs, encoding=encoding, where=where,
                                 fields=fields, overwrite=overwrite)
    except FileExistsError as exc:
        raise click.UsageError(str(exc)) from None
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    for item in written:
        said = crs if coords.is_pseudo_crs(crs) else item.crs
        back = f"read it back with --crs {said} (as locate's grid, --grid-crs {said})"
        prj = ("" if item.path.suffix.lower() != ".csv" else f", said in {item.prj.name}" if item.prj else
               f"; no .prj, which cannot name it: {back}" if coords.is_pseudo_crs(crs) else
               f"; no .prj: {item.path.stem}.prj is the Shapefile's; {back}")
        click.echo(f"{item.layer:<18} {item.features:>9,} → {item.path} ({item.crs}{prj})")
    renamed = {old: new for item in written for old, new in item.renamed.items()}
    if renamed:
        click.echo("Shapefile field names (10 characters at most): "
                   + ", ".join(f"{old} → {new}" for old, new in renamed.items()))
