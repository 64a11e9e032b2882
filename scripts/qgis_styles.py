"""Regenerate the QGIS styles gridkit writes into every grid package.

The styles (``gridkit/data/styles/*.qml``) are made by QGIS itself, through its
Python API, so that they are QML as QGIS writes it, not a hand-written imitation.
This needs PyQGIS, which is not on PyPI: on Debian, ``apt-get install python3-qgis``,
then, with the system Python (no screen needed)::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis_styles.py

Each style's fields are the layer's columns as gridkit writes them; a test checks
that every field a style names is a column of its layer (``tests/test_styles.py``).
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsFillSymbol,
    QgsLineSymbol,
    QgsMapLayer,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsProperty,
    QgsRuleBasedLabeling,
    QgsRuleBasedRenderer,
    QgsSymbolLayer,
    QgsSingleSymbolRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor, QFont

OUT = Path(__file__).resolve().parents[1] / "gridkit" / "data" / "styles"


def outline(colour, width, style="solid"):
    """A polygon symbol with no fill, only its outline."""
    return QgsFillSymbol.createSimple({"style": "no", "outline_color": colour, "outline_width": str(width),
                                       "outline_width_unit": "MM", "outline_style": style})


def filled(fill, colour, width):
    return QgsFillSymbol.createSimple({"color": fill, "outline_color": colour, "outline_width": str(width),
                                       "outline_width_unit": "MM"})


def shaded(fill, colour, ramp, field, lowest):
    """A polygon filled from QGIS's colour ramp ``ramp`` by ``field``, against the
    layer's largest value: computed as the map draws, so one style fits any data
    (``fill`` is the colour shown where the expression cannot be evaluated)."""
    symbol = filled(fill, colour, 0.15)
    symbol.symbolLayer(0).setDataDefinedProperty(QgsSymbolLayer.PropertyFillColor, QgsProperty.fromExpression(
        f"ramp_color('{ramp}', scale_linear(\"{field}\", 0, maximum(\"{field}\"), {lowest}, 1))"))
    return symbol


def labels(expression, size, colour="#202020", *, max_scale=0.0, min_scale=0.0, italic=False):
    """Label settings: ``expression`` in a white halo, shown between the scales given
    (QGIS's "minimum" scale is the most zoomed-out one, as 1:min_scale)."""
    text = QgsTextFormat()
    font = QFont("Sans Serif")
    font.setItalic(italic)
    text.setFont(font)
    text.setSize(size)
    text.setColor(QColor(colour))
    halo = QgsTextBufferSettings()
    halo.setEnabled(True)
    halo.setSize(0.8)
    halo.setColor(QColor("white"))
    text.setBuffer(halo)
    settings = QgsPalLayerSettings()
    settings.fieldName = expression
    settings.isExpression = True
    settings.setFormat(text)
    settings.placement = QgsPalLayerSettings.OverPoint
    if min_scale or max_scale:
        settings.scaleVisibility = True
        settings.minimumScale, settings.maximumScale = min_scale, max_scale
    return settings


def layer(geometry, fields):
    spec = "&".join(f"field={name}:{kind}" for name, kind in fields)
    return QgsVectorLayer(f"{geometry}?{spec}", "style", "memory")


def rules(symbols):
    """A rule-based renderer from (label, filter, symbol) triples."""
    root = QgsRuleBasedRenderer.Rule(None)
    for label, expression, symbol in symbols:
        root.appendChild(QgsRuleBasedRenderer.Rule(symbol, 0, 0, expression, label))
    return QgsRuleBasedRenderer(root)


def save(lyr, name):
    OUT.mkdir(parents=True, exist_ok=True)
    doc_path = OUT / f"{name}.qml"
    # Symbology and labels only: the fields' forms and widgets stay QGIS's defaults.
    message, ok = lyr.saveNamedStyle(str(doc_path), categories=QgsMapLayer.Symbology | QgsMapLayer.Labeling)
    if not ok:
        raise SystemExit(f"{name}: {message}")
    print(f"{doc_path.relative_to(OUT.parents[2])}: {doc_path.stat().st_size:,} bytes")


def main():
    app = QgsApplication([], False)
    app.initQgis()

    # Unit cells: outlines only, so the basemap and the units show through; the
    # 3-digit sequence (the grid ID's last digits) once zoomed in past 1:6,000.
    cells = layer("Polygon", [("grid_id", "string"), ("community_name", "string")])
    cells.setRenderer(QgsSingleSymbolRenderer(outline("#2b6cb0", 0.2)))
    cells.setLabeling(QgsVectorLayerSimpleLabeling(labels('right("grid_id", 3)', 7, "#1a4480", min_scale=6000)))
    cells.setLabelsEnabled(True)
    save(cells, "cells")

    # Household grids: in the band pale green, out of it orange; the household count.
    grids = layer("Polygon", [("grid_id", "string"), ("households", "integer"), ("in_band", "boolean"),
                              ("flag", "string")])
    grids.setRenderer(rules([
        ("in the band", '"in_band"', filled("102,187,106,60", "#2e7d32", 0.3)),
        ("out of the band (see flag)", 'NOT "in_band"', filled("239,108,0,140", "#b34700", 0.4)),
    ]))
    grids.setLabeling(QgsVectorLayerSimpleLabeling(labels('"households"', 8, min_scale=40000)))
    grids.setLabelsEnabled(True)
    save(grids, "household_cells")

    # Micro-grids: thin dashed outlines inside their grid's outline.
    micro = layer("Polygon", [("micro_id", "string"), ("households", "integer")])
    micro.setRenderer(QgsSingleSymbolRenderer(outline("#1b5e20", 0.15, "dash")))
    micro.setLabeling(QgsVectorLayerSimpleLabeling(labels('"households"', 6, "#1b5e20", min_scale=8000)))
    micro.setLabelsEnabled(True)
    save(micro, "micro_grids")

    # Units: county, street, community outlines from heavy to light; community names.
    units = layer("Polygon", [("level", "string"), ("name", "string")])
    units.setRenderer(rules([
        ("county", "\"level\" = 'county'", outline("#111111", 0.9)),
        ("street", "\"level\" = 'street'", outline("#444444", 0.6, "dash")),
        ("community", "\"level\" = 'community'", outline("#6b6b6b", 0.35)),
    ]))
    root = QgsRuleBasedLabeling.Rule(None)
    community = QgsRuleBasedLabeling.Rule(labels('"name"', 9, "#404040", italic=True))
    community.setFilterExpression("\"level\" = 'community'")
    root.appendChild(community)
    units.setLabeling(QgsRuleBasedLabeling(root))
    units.setLabelsEnabled(True)
    save(units, "units")

    # Components: small dots with a white rim, a hue per class (from the 5-digit class
    # code, so hydrants and lamps differ in any catalogue; red where it has none).
    components = layer("Point", [("GLBJBSM", "string"), ("class_code", "string")])
    dot = QgsMarkerSymbol.createSimple({"name": "circle", "color": "#c62828", "outline_color": "white",
                                        "outline_width": "0.2", "size": "1.8"})
    dot.symbolLayer(0).setDataDefinedProperty(
        QgsSymbolLayer.PropertyFillColor,
        QgsProperty.fromExpression('color_hsv((to_int("class_code") * 67) % 360, 80, 80)'))
    components.setRenderer(QgsSingleSymbolRenderer(dot))
    save(components, "components")

    # gridkit locate -o OUT.gpkg: points by where they fell, inside a cell blue, snapped
    # to the nearest cell (within --tolerance) amber, outside the layout a red cross.
    located = layer("Point", [("gk_status", "string")])

    def point(shape, colour, size):
        if shape == "cross2":  # drawn by its stroke alone
            return QgsMarkerSymbol.createSimple({"name": shape, "outline_color": colour, "outline_width": "0.5",
                                                 "size": str(size)})
        return QgsMarkerSymbol.createSimple({"name": shape, "color": colour, "outline_color": "white",
                                             "outline_width": "0.2", "size": str(size)})

    located.setRenderer(rules([
        ("inside a cell", "\"gk_status\" = 'inside'", point("circle", "#1565c0", 1.6)),
        ("nearest cell (within the tolerance)", "\"gk_status\" = 'nearest'", point("circle", "#f9a825", 2.0)),
        ("outside the layout", "\"gk_status\" = 'outside'", point("cross2", "#d32f2f", 2.6)),
    ]))
    save(located, "located")

    # gridkit check --problems: what breaks the partition, hatched red over the cells.
    problems = layer("MultiPolygon", [("problem", "string"), ("area_m2", "double")])
    problems.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple({
        "style": "b_diagonal", "color": "#d32f2f", "outline_color": "#b71c1c", "outline_width": "0.6",
        "outline_width_unit": "MM"})))
    save(problems, "problems")

    # The grids and micro-grids a rebalance or a recut ended, kept in the package: grey
    # dashed (dotted) outlines with no fill, so they show under the grids that replaced
    # them and hide nothing; an ended grid's sequence marked so once zoomed in.
    ended = layer("Polygon", [("grid_id", "string"), ("end_date", "date")])
    ended.setRenderer(QgsSingleSymbolRenderer(outline("#757575", 0.35, "dash")))
    ended.setLabeling(QgsVectorLayerSimpleLabeling(
        labels('right("grid_id", 3) || \' ended\'', 7, "#616161", min_scale=6000, italic=True)))
    ended.setLabelsEnabled(True)
    save(ended, "ended_grids")
    ended_micro = layer("Polygon", [("micro_id", "string")])
    ended_micro.setRenderer(QgsSingleSymbolRenderer(outline("#9e9e9e", 0.15, "dot")))
    save(ended_micro, "ended_micro_grids")

    # gridkit locate --counts OUT.gpkg: cells (or communities, streets, districts) shaded
    # by their points, from pale to dark red against the most in the layer (whatever it
    # is: the shade is computed as the map draws), none left clear; the count on each.
    counts = layer("Polygon", [("grid_id", "string"), ("points", "integer")])
    counts.setRenderer(rules([
        ("points (darker: more)", '"points" > 0', shaded("#ef9a9a", "#9e9e9e", "Reds", "points", 0.2)),
        ("no points", 'NOT ("points" > 0)', outline("#9e9e9e", 0.15)),
    ]))
    counts.setLabeling(QgsVectorLayerSimpleLabeling(labels('if("points" > 0, "points", \'\')', 7, min_scale=40000)))
    counts.setLabelsEnabled(True)
    save(counts, "counts")

    # gridkit patrol OUT.gpkg: the cells patrolled green, darker for more minutes (against
    # the most in the layer), the cells no one entered red; minutes on each.
    coverage = layer("Polygon", [("grid_id", "string"), ("patrolled", "boolean"), ("minutes", "double")])
    coverage.setRenderer(rules([
        ("patrolled (darker: more minutes)", '"patrolled"', shaded("#a5d6a7", "#757575", "Greens", "minutes", 0.25)),
        ("not patrolled", 'NOT "patrolled"', filled("229,57,53,70", "#e57373", 0.15)),
    ]))
    coverage.setLabeling(QgsVectorLayerSimpleLabeling(
        labels('if("patrolled", format_number("minutes", 0), \'\')', 7, min_scale=15000)))
    coverage.setLabelsEnabled(True)
    save(coverage, "coverage")

    # … and the tracks walked: a line a track, a hue each.
    tracks = layer("MultiLineString", [("track", "string"), ("metres", "double")])
    line = QgsLineSymbol.createSimple({"line_color": "#1565c0", "line_width": "0.5", "line_width_unit": "MM"})
    line.symbolLayer(0).setDataDefinedProperty(
        QgsSymbolLayer.PropertyStrokeColor, QgsProperty.fromExpression("color_hsv(($id * 67) % 360, 85, 75)"))
    tracks.setRenderer(QgsSingleSymbolRenderer(line))
    save(tracks, "tracks")

    app.exitQgis()


if __name__ == "__main__":
    main()
