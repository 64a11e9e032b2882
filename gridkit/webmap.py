"""A self-contained interactive map of a grid package: one HTML file that opens offline.

Why by hand, not folium/Leaflet: those load their scripts and base tiles from the
web, and the map must open on a planner's machine with no network (and a GCJ-02
tile layer under CGCS2000 cells would be off by hundreds of metres anyway). The
page is plain SVG in the layout's own metric CRS with ~100 lines of script:
wheel to zoom, drag to pan, a checkbox per layer, click a feature for its
attributes (codes, names, department). Cells spanning fewer than 4 pixels are
drawn without outlines, which would otherwise grey a large layout over.

Layers: ``cells`` (coloured by community; household grids each by its own),
``micro_grids`` (a household layout's, dashed; click one for its households),
``units`` (street and community outlines), ``components`` (the catalogue, when
the package has one) and any point files given (e.g. the output of ``gridkit
locate``).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import numpy as np
import shapely

from .errors import InputError
from .io import atomic_path, require_frame, without_geometry

__all__ = ["write_html_map"]

_PALETTE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
            "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"]
_POINT_COLOURS = {"components": "#d62728", "points": "#1f77b4"}
_MAX_PROPERTIES = 30  # attributes shown in a popup
#: Above this many cells the page is hundreds of MB of SVG, which browsers open slowly
#: or not at all (Shenzhen's 215,219 cells: 65 MB, 6 s to load in Chromium).
LARGE_MAP_CELLS = 300_000

log = logging.getLogger(__name__)


def _path(geom, decimals):
    """SVG path data of a polygon or multipolygon (y flipped by the SVG transform)."""
    parts = []
    polygons = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.round(np.asarray(ring.coords)[:-1, :2], decimals)
            parts.append("M" + "L".join(f"{x:g} {y:g}" for x, y in xy) + "Z")
    return "".join(parts)


def _properties(frame, columns):
    records = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    return [{k: v for k, v in r.items() if v not in (None, "")} for r in records]


def _layer(name, frame, crs, decimals, colour_by=None):
    frame = frame.to_crs(crs) if frame.crs is not None and frame.crs != crs else frame
    missing = without_geometry(frame, name.replace("_", "-"), "not drawn")
    frame = frame[~missing] if missing.any() else frame
    columns = [c for c in frame.columns if c != frame.geometry.name][:_MAX_PROPERTIES]
    props = _properties(frame, columns)
    geoms = frame.geometry.values
    if name in ("cells", "micro_grids", "units"):
        shapes = [_path(g, decimals) for g in geoms]
        kind = "area"
    else:
        pts = shapely.get_coordinates(shapely.point_on_surface(geoms))
        shapes = np.round(pts, decimals).tolist()
        kind = "point"
    colours = None
    if colour_by and colour_by in frame.columns:
        group = np.unique(frame[colour_by].astype(object).fillna("").astype(str), return_inverse=True)[1]
        colours = [_PALETTE[i % len(_PALETTE)] for i in group.tolist()]
    return {"name": name, "kind": kind, "shapes": shapes, "props": props, "colours": colours,
            "colour": _POINT_COLOURS.get(name, "#444")}


def write_html_map(path, cells, units=None, *, micro=None, components=None, points=None, title="gridkit map",
                   overwrite=False, decimals=1):
    """Write the map to ``path`` atomically.

    ``micro``: a household layout's micro-grids, a layer of their own.
    ``points`` is a dict ``layer name → GeoDataFrame`` (any CRS with one) of
    extra point layers. Coordinates are rounded to ``decimals`` of a metre.
    """
    require_frame(cells, "the cells", polygons=True, fix="read them with gridkit.read_package()")
    for name, frame in (("units", units), ("micro-grids", micro), ("components", components),
                        *((f"points {key!r}", frame) for key, frame in (points or {}).items())):
        if frame is not None:
            require_frame(frame, f"the {name}", polygons=name in ("units", "micro-grids"))
    crs = cells.crs
    if crs is None:  # the page is drawn in longitude and latitude
        raise InputError("the cells have no CRS, so the map cannot place them: give them their package's "
                         "(cells.set_crs(...))")
    if len(cells) > LARGE_MAP_CELLS:
        log.warning("%s: %d cells make a page of about %d MB, which a browser opens slowly if at all; for a "
                    "layout this large, the PNG (gridkit map without --html) or QGIS serve better, or a part "
                    "of it (gridkit map --where \"street_code = '…'\")", path,
                    len(cells), len(cells) * 300 // 1_000_000)
    household = "households" in cells.columns  # one colour per grid: a community holds many
    layers = [_layer("cells", cells, crs, decimals, colour_by="grid_id" if household else "community_code")]
    if micro is not None and len(micro):
        layers.append(_layer("micro_grids", micro, crs, decimals))
    if units is not None and len(units):
        layers.append(_layer("units", units[units["level"] != "county"] if "level" in units else units,
                             crs, decimals))
    if components is not None and len(components):
        from .catalogue import without_position

        live = components[components["GLBJZT"] != "移除"] if "GLBJZT" in components else components
        lost = without_position(live)
        if lost.any():  # no dot to draw; left in, each dot would open the next one's popup
            example = f" (e.g. {live['GLBJBSM'].iloc[lost.argmax()]})" if "GLBJBSM" in live else ""
            log.warning("%s: %d component(s) without a position%s are not on the map; `gridkit check` names "
                        "them", path, int(lost.sum()), example)
        layers.append(_layer("components", live[~lost], crs, decimals))
    for name, frame in (points or {}).items():
        layers.append(_layer(name, frame, crs, decimals))
    minx, miny, maxx, maxy = cells.total_bounds
    page = _TEMPLATE.replace("__TITLE__", html.escape(title)).replace(
        "__DATA__", json.dumps({"layers": layers, "bounds": [minx, miny, maxx, maxy],
                                "cell": float(np.sqrt(cells.area.mean())) if len(cells) else 0.0},
                               ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/"))
    with atomic_path(Path(path), overwrite=overwrite) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return {layer["name"]: len(layer["shapes"]) for layer in layers}


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
html,body{margin:0;height:100%;font:13px sans-serif}
#map{position:fixed;top:0;left:0;width:100%;height:100%;background:#f4f4f0;cursor:grab}
#panel{position:fixed;z-index:2;top:8px;left:8px;background:#fffe;padding:8px 10px;border-radius:4px;box-shadow:0 1px 4px #0004}
#panel h1{font-size:14px;margin:0 0 6px}
#popup{position:fixed;z-index:2;right:8px;top:8px;max-width:340px;background:#fffe;padding:8px;border-radius:4px;
box-shadow:0 1px 4px #0004;display:none}
#popup table{border-collapse:collapse}#popup td{padding:1px 6px;border-bottom:1px solid #eee;vertical-align:top}
path.area{stroke:#555;stroke-width:1px;vector-effect:non-scaling-stroke}
g#layer-units path{fill:none;stroke:#000;stroke-width:2px}
g#layer-micro_grids path{fill:#0000;stroke:#222;stroke-dasharray:4 3}
#map.fine #layer-cells path{stroke:none}
circle{stroke:#fff;stroke-width:.5px;vector-effect:non-scaling-stroke}
.selected{stroke:#e00!important;stroke-width:3px!important}
</style></head><body>
<svg id="map" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="panel"><h1>__TITLE__</h1><div id="layers"></div><div style="color:#666;margin-top:4px">wheel: zoom · drag: pan · click: attributes</div></div>
<div id="popup"></div>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const svg = document.getElementById("map"), NS = "http://www.w3.org/2000/svg";
const [x0, y0, x1, y1] = data.bounds;
let view = {x: x0, y: y0, w: x1 - x0, h: y1 - y0};
const root = document.createElementNS(NS, "g");
root.setAttribute("transform", `matrix(1 0 0 -1 0 ${y0 + y1})`);  // metres, north up
svg.appendChild(root);
function fit() {
  svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  // Cell outlines only where a cell spans a few pixels: finer, they would grey the map over.
  const r = svg.getBoundingClientRect();
  svg.classList.toggle("fine", data.cell / Math.max(view.w / r.width, view.h / r.height) < 4);
}
const radius = Math.max(x1 - x0, y1 - y0) / 600;
const popup = document.getElementById("popup");
let selected = null;
function show(el, props, name) {
  if (selected) selected.classList.remove("selected");
  selected = el; el.classList.add("selected");
  const rows = Object.entries(props).map(([k, v]) =>
    `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`).join("");
  popup.innerHTML = `<b>${esc(name)}</b><table>${rows}</table>`;
  popup.style.display = "block";
}
function esc(s) { return s.replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
for (const layer of data.layers) {
  const g = document.createElementNS(NS, "g");
  g.id = "layer-" + layer.name;
  g.dataset.count = layer.shapes.length;
  layer.shapes.forEach((shape, i) => {
    let el;
    if (layer.kind === "area") {
      el = document.createElementNS(NS, "path");
      el.setAttribute("d", shape); el.setAttribute("class", "area feature");
      el.setAttribute("fill-rule", "evenodd");
      if (layer.colours) el.setAttribute("fill", layer.colours[i]);
    } else {
      el = document.createElementNS(NS, "circle");
      el.setAttribute("cx", shape[0]); el.setAttribute("cy", shape[1]); el.setAttribute("r", radius);
      el.setAttribute("fill", layer.colour); el.setAttribute("class", "feature");
    }
    el.addEventListener("click", ev => { ev.stopPropagation(); show(el, layer.props[i], layer.name); });
    g.appendChild(el);
  });
  root.appendChild(g);
  const label = document.createElement("label");
  label.innerHTML = `<input type="checkbox" checked data-layer="${layer.name}"> ${layer.name} (${layer.shapes.length})`;
  label.style.display = "block";
  label.querySelector("input").addEventListener("change", ev => { g.style.display = ev.target.checked ? "" : "none"; });
  document.getElementById("layers").appendChild(label);
}
svg.addEventListener("wheel", ev => {
  ev.preventDefault();
  const f = ev.deltaY > 0 ? 1.25 : 0.8, r = svg.getBoundingClientRect();
  const scale = Math.max(view.w / r.width, view.h / r.height);
  const cx = view.x + (ev.clientX - r.left - (r.width - view.w / scale) / 2) * scale;
  const cy = view.y + (ev.clientY - r.top - (r.height - view.h / scale) / 2) * scale;
  view = {x: cx - (cx - view.x) * f, y: cy - (cy - view.y) * f, w: view.w * f, h: view.h * f}; fit();
}, {passive: false});
let drag = null;
svg.addEventListener("mousedown", ev => { drag = {x: ev.clientX, y: ev.clientY, v: {...view}}; });
window.addEventListener("mouseup", () => { drag = null; });
window.addEventListener("mousemove", ev => {
  if (!drag) return;
  const r = svg.getBoundingClientRect(), scale = Math.max(view.w / r.width, view.h / r.height);
  view = {...drag.v, x: drag.v.x - (ev.clientX - drag.x) * scale, y: drag.v.y - (ev.clientY - drag.y) * scale}; fit();
});
svg.addEventListener("click", () => { popup.style.display = "none"; if (selected) selected.classList.remove("selected"); });
fit();
</script></body></html>
"""
