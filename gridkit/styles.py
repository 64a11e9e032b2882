"""QGIS styles inside the grid package, so that it opens as a readable map.

QGIS looks for a layer's default style in the GeoPackage's ``layer_styles`` table
(the table its "Save as default" writes). Without one, every polygon layer opens
in an opaque random colour and the county polygon of ``units`` hides the cells.
:func:`write_styles` adds gridkit's styles there: cells as outlines labelled with
their 3-digit sequence when zoomed in; household grids green in the band and orange
out of it, labelled with their households; micro-grids dashed; units from heavy
county to light community outlines, community names; the grids and micro-grids a
rebalance ended, grey dashed outlines; components as dots, a hue
per class; the problems ``gridkit check`` finds in red; the points ``gridkit locate``
writes to a GeoPackage by where they fell (inside blue, nearest amber, outside a red
cross); points per cell (``gridkit locate --counts``) from pale to dark red by their
count, against the most in the layer; patrol coverage green by minutes, the cells no
one entered red, and the tracks walked a hue each.

The styles (``gridkit/data/styles/*.qml``) were made by QGIS 3.22 itself
(``scripts/qgis_styles.py``), and checked in it. Styles a user saved into
the package are kept: gridkit replaces only its own rows (style name ``gridkit``),
and makes its style a layer's default only where no other style is.
"""

from __future__ import annotations

import datetime as _dt
from importlib import resources
from pathlib import Path

import pandas as pd
import pyogrio

from .errors import InputError

__all__ = ["STYLE_NAME", "style_for", "write_styles"]

STYLE_NAME = "gridkit"
TABLE = "layer_styles"
#: The style file for each layer gridkit writes (``cells`` of household grids,
#: which have a ``households`` column, get ``household_cells``).
STYLES = {"cells": "cells", "units": "units", "micro_grids": "micro_grids", "components": "components",
          "problems": "problems", "located": "located", "counts": "counts", "coverage": "coverage",
          "tracks": "tracks", "ended_grids": "ended_grids", "ended_micro_grids": "ended_micro_grids"}
COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
           "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]


def style_for(layer, fields):
    """The name of gridkit's style for ``layer`` with columns ``fields``, or ``None``.

    >>> style_for("cells", ["grid_id", "households"]), style_for("cells", ["grid_id"])
    ('household_cells', 'cells')
    >>> style_for("household_rejects", ["reason"]) is None
    True
    """
    name = STYLES.get(layer)
    if name == "cells" and "households" in fields:
        return "household_cells"
    return name


def _qml(name):
    return resources.files("gridkit.data").joinpath("styles", f"{name}.qml").read_text(encoding="utf-8")


def write_styles(path):
    """Add gridkit's QGIS style of every layer it styles to the package at ``path``.

    Call it on the package's temporary file, before the rename (the package's
    writers do), so a failure leaves the package as it was. Returns the layers styled.
    """
    if Path(path).suffix.lower() != ".gpkg" or not Path(path).is_file():  # a CSV was given a styles table
        raise InputError(f"{path}: no GeoPackage; styles are written into a grid package (.gpkg)")
    listed = pyogrio.list_layers(path)
    layers = [name for name, geometry in listed if geometry is not None]
    kept = pd.DataFrame(columns=COLUMNS)
    if TABLE in listed[:, 0]:
        old = pyogrio.read_dataframe(path, layer=TABLE, read_geometry=False)
        kept = old.loc[old["styleName"] != STYLE_NAME, [c for c in COLUMNS if c in old.columns]]
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    rows, styled = [], []
    for layer in layers:
        info = pyogrio.read_info(path, layer=layer)
        name = style_for(layer, list(info["fields"]))
        if name is None:
            continue
        theirs = kept.loc[kept["f_table_name"] == layer, "useAsDefault"]
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
                     "f_geometry_column": info["geometry_name"] or "geom", "styleName": STYLE_NAME,
                     "styleQML": _qml(name), "styleSLD": "",
                     "useAsDefault": not theirs.astype(bool).any(),
                     "description": f"gridkit's {name.replace('_', ' ')} style", "owner": "", "ui": "",
                     "update_time": now})
        styled.append(layer)
    if not rows and not len(kept):
        return styled
    table = pd.concat([kept.astype(object), pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True)
    table["useAsDefault"] = table["useAsDefault"].astype(bool)
    table["update_time"] = pd.to_datetime(table["update_time"], utc=True)
    # As the GeoPackage standard writes a DATETIME (2026-11-26T12:08:43.000Z): QGIS 3.22's
    # GDAL warns "non-conformant content" on opening a package with one that is not.
    pyogrio.write_dataframe(table, path, layer=TABLE, driver="GPKG",
                            layer_options={"DATETIME_PRECISION": "MILLISECOND"})
    return styled
