"""Locate and route over HTTP, for the systems that are not Python.

A city's case platform (often Java), a dispatch desk's web page or a phone app
asks, and gets JSON::

    GET  /locate?x=-71.1056&y=42.3736&class=01013
    → {"grid_id": "990101900612098", "community_code": …, "street_name": …,
       "status": "inside", "distance_m": 0.0, "department_code": …, "department_name": "消防救援机构", …}

    POST /locate   {"points": [[-71.1056, 42.3736], …], "crs": "gcj02", "classes": ["01013", …]}
    → {"results": [{…}, …], "count": 2, "rejected": 0}

    (a point may also be {"x": -71.1056, "y": 42.3736}, {"lon": …, "lat": …} or
    {"location": "-71.1056,42.3736"}, with an "id" that comes back first in its answer:
    {"id": "R0001", "lon": …, "lat": …})

    GET  /locate?location=116.481028,39.989643&crs=gcj02   (as Amap's and Baidu's APIs take a point)
    GET  /locate?x=…&y=…&id=R0001   → {"id": "R0001", "grid_id": …}   (the caller's id, echoed)

    GET  /health   → the package, its cells, the routing table, the default CRS

``x``/``y`` (or ``lon``/``lat``) are in ``crs`` (default: the server's, EPSG:4326
unless started otherwise; ``gcj02`` and ``bd09`` too), written as ``degrees``
(default: the server's, decimal unless started otherwise; ``e6`` for the
millionths of a degree a JT/T 808 vehicle terminal sends, ``e5``, ``e7``, ``ddmm``
for NMEA's degrees and minutes: :data:`gridkit.coords.DEGREE_FORMS`). ``class`` (or, in a batch,
``classes``: one per point, or ``class``: one for all) adds the department from
the routing table; ``kind=event`` reads legacy CJ/T 214 event classes. ``near=10``
(in a batch, ``"near": 10``) adds the nearest other cell within 10 m
(``near_grid_id``, ``near_m``, ``near_across``), as ``gridkit locate --near-edge`` does.

A point outside the layout is an answer (``"status": "outside"``, ``grid_id``
null, and a ``hint`` when y, x would be inside), not an error. A request that
cannot be answered (no ``x``, a latitude of 116, an unknown CRS or class, a class
but no routing table) gets status 400 and ``{"error": "…"}`` saying what to send
instead. In a batch, a point that cannot
be a position, or whose class is no class, is not dropped: its result says
``"status": "rejected"`` with the reason, in its place, and ``rejected`` counts
them. The reasons are ``gridkit locate``'s, ``latlon_swapped`` included (a point
outside, or no position, that is inside with x and y the other way round;
``xy_swapped`` when ``crs`` is projected; ``zone_prefix`` for Gauss–Krüger x
with the zone number in front, or without it, read in the other CRS;
``baidu_mercator`` for Baidu's metres read in another CRS; ``scaled_degrees`` and
``degrees_minutes`` for JT/T 808's millionths of a degree and NMEA's degrees and
minutes sent without ``degrees``, whose detail names the form to send;
``decimal_degrees`` for decimal degrees sent as ``"degrees": "e6"``, or to a
server started with ``--degrees e6``). One such
point sent alone is an error that names it: ``send degrees=e6``; decimal degrees
sent as e6 alone are answered outside, with the hint ``with degrees=decimal the
point is inside the layout``.

A dispatch desk's web page served from another origin may call it from a browser
when the server is started with its origin (``make_server(cors=…)``, ``gridkit
serve --cors``): answers then carry ``Access-Control-Allow-Origin`` and a
preflight (``OPTIONS``) is answered.

Written on the standard library's ``ThreadingHTTPServer``, not a web framework:
an answer takes microseconds, so the HTTP round trip is the cost either way, and
the package gains no dependency. Requests are read on threads, but the locator
and the routing are called under one lock: GEOS's prepared geometries are not
thread-safe (see ``docs/design.md``, "Threads in the locator").
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from .batch import PREFIX, _near_columns, mark_bad_classes
from .coords import DEGREE_FORMS, has_zone_number, is_geographic, parse_crs, position_problems, read_degrees, zone_twin
from .errors import GridkitError, InputError
from .locator import INSIDE, OUTSIDE, require_locator
from .routing import KINDS, require_routes

__all__ = ["Service", "make_server", "answer"]

log = logging.getLogger(__name__)

#: The largest request body taken (a batch of about a million points).
MAX_BODY = 64 * 1024 * 1024


def answer(locator, x, y, *, crs=None, routes=None, class_code=None, kind="component", near=None) -> dict:
    """One point's answer as a dict for JSON: the :class:`~gridkit.locator.Location`
    fields the layout has (no ``micro_id`` without micro-grids; ``distance_m``
    null outside), and with ``routes`` and ``class_code`` the department:
    ``department_code``, ``department_name``, ``territorial`` (no rule for the
    class: the area's territorial authority). With ``near`` (metres), inside the
    layout: ``near_grid_id``, ``near_m`` and ``near_across``, the nearest other
    cell within that distance (:meth:`~gridkit.locator.Locator.near_edge`; None
    where none is). ``gridkit locate --at --json`` prints this, and the service's
    ``GET /locate`` sends it."""
    require_locator(locator)
    require_routes(routes)
    if class_code is not None and routes is None:
        raise InputError(f"class_code {class_code!r} was given without routes, which name its department: give "
                         "routes=RoutingTable.load(path), or leave the class out")
    found = locator.locate(x, y, crs=crs)
    # The layout's own columns (no micro_id without micro-grids; a polygon file that is
    # no package may have no hierarchy): the keys a batch answers with too.
    has = {*locator.attributes, "status", "distance_m", *(("micro_id",) if locator.micro is not None else ())}
    out = {name: value for name, value in found._asdict().items() if name in has}
    if out["distance_m"] != out["distance_m"]:  # NaN outside: JSON has no NaN
        out["distance_m"] = None
    if routes is not None and class_code is not None and found.grid_id is not None:
        route = routes.route(found, class_code, kind=kind)
        out.update(department_code=route.department_code, department_name=route.department_name,
                   territorial=route.territorial)
    if near is not None and found.grid_id is not None:
        index = locator.cell_index([x], [y], crs=crs)[0]
        near_columns = _near_columns(locator, index, *locator.near_edge([x], [y], index, near, crs=crs))
        out.update(_records(pd.DataFrame({name[len(PREFIX):]: values for name, values in near_columns.items()}))[0])
    return out


class Service:
    """What the HTTP server answers, without the HTTP: usable (and tested) on its own.

    ``locator`` is a :class:`~gridkit.locator.Locator`, ``routes`` a
    :class:`~gridkit.routing.RoutingTable` or None, ``crs`` the CRS of points that
    name none. Every call to the locator and the table holds one lock.
    """

    def __init__(self, locator, routes=None, *, crs="EPSG:4326", degrees="decimal", package=None):
        require_locator(locator)
        require_routes(routes)
        self.locator, self.routes, self.package = locator, routes, package
        self.crs = _crs(crs)
        _in_degrees([], [], degrees, self.crs, "--degrees {}")  # a form, and a lon/lat CRS for it
        self.degrees = degrees
        self._lock = threading.Lock()

    def health(self) -> dict:
        return {"package": None if self.package is None else str(self.package), "cells": len(self.locator),
                "micro_grids": self.locator.micro is not None, "routes": self.routes is not None,
                "routes_source": getattr(self.routes, "source", None), "crs": self.crs, "degrees": self.degrees}

    def one(self, query: dict) -> dict:
        """``GET /locate``: ``query`` maps each parameter to its text."""
        unknown = sorted(set(query) - {"x", "y", "lon", "lat", "location", "crs", "degrees", "class", "kind", "id",
                                       "near"})
        if unknown:
            raise InputError(f"unknown parameter {', '.join(unknown)}: /locate takes x and y (or lon and lat, or "
                             "location=LON,LAT), crs, degrees, class, kind, near and id")
        if "location" in query:
            if set(query) & {"x", "y", "lon", "lat"}:
                raise InputError("both location and x/y (or lon/lat): send one of them")
            pair = _location(query["location"])
            if pair is None:
                raise InputError(f"location={query['location']!r} is not LON,LAT (as Amap's APIs write it: "
                                 "location=116.481028,39.989643)")
            query = {**query, "x": pair[0], "y": pair[1]}
        x, y = (_number(query, name, alias) for name, alias in (("x", "lon"), ("y", "lat")))
        crs = _crs(query.get("crs", self.crs))
        form = query.get("degrees", self.degrees)
        (x,), (y,) = _in_degrees([x], [y], form, crs, GET_DEGREES)
        class_code, kind = self._class(query.get("class")), _kind(query.get("kind"))
        reason, detail = position_problems([x], [y], crs)
        if reason[0]:  # millionths of a degree sent as degrees: the error names degrees=e6
            misread = detail.copy()
            self.locator.mark_misread(np.array([x]), np.array([y]), crs, reason, misread, np.array([OUTSIDE]),
                                      degrees_fix=f"send {GET_DEGREES}")
            said = misread[0] if reason[0] in ("scaled_degrees", "degrees_minutes") else detail[0]
            raise InputError(f"x={x:g}, y={y:g} ({crs}): {said}")
        with self._lock:
            out = answer(self.locator, x, y, crs=crs, routes=self.routes, class_code=class_code, kind=kind,
                         near=_metres(query.get("near")))
            misread = self.locator.misread(x, y, crs, degrees=form) if out["grid_id"] is None else ""
            if misread.endswith("_swapped"):
                out["hint"] = f"x and y look swapped: x={y:g}&y={x:g} is inside the layout"
            elif misread == "degrees_in_projected_crs":
                out["hint"] = "x and y look like longitude/latitude: with crs=EPSG:4326 the point is inside the layout"
            elif misread == "zone_prefix":
                twin = zone_twin(crs)
                out["hint"] = (f"x looks {'with' if has_zone_number(twin) else 'without'} the zone number in front: "
                               f"with crs=EPSG:{twin.to_epsg()} the point is inside the layout")
            elif misread == "baidu_mercator":
                out["hint"] = "x and y look like Baidu's metres: with crs=bd09mc the point is inside the layout"
            elif misread == "zero_coordinates":
                out["hint"] = "x or y is 0: a position never filled in, most likely"
            elif misread == "decimal_degrees":
                out["hint"] = (f"x and y look like decimal degrees, not {form}: with "
                               f"{GET_DEGREES.format('decimal')} the point is inside the layout")
        return {"id": query["id"], **out} if "id" in query else out  # the caller's, first, as a batch's

    def many(self, body: dict) -> dict:
        """``POST /locate``: ``body`` is the parsed JSON object."""
        if not isinstance(body, dict) or not isinstance(body.get("points"), list):
            raise InputError('the body is a JSON object with "points": [[x, y], …] (and optionally "crs", '
                             '"degrees", "classes" or "class", "kind", "near")')
        unknown = sorted(set(body) - {"points", "crs", "degrees", "classes", "class", "kind", "near"})
        if unknown:
            raise InputError(f"unknown key {', '.join(map(repr, unknown))}: the body takes points, crs, "
                             "degrees, classes (or class), kind and near")
        near = _metres(body.get("near"))
        x, y, shape, ids = _coordinates(body["points"])
        crs = _crs(body.get("crs", self.crs))
        form = body.get("degrees", self.degrees)
        x, y = _in_degrees(x, y, form, crs, BATCH_DEGREES)
        kind = _kind(body.get("kind"))
        classes = self._classes(body, len(x))
        reason, detail = position_problems(x, y, crs)
        detail = np.where(shape != "", shape, detail)
        if classes is not None:  # a class no rule can read: that point rejected, as gridkit locate does
            mark_bad_classes(self.routes, classes, kind, reason, detail)
        ok = reason == ""
        with self._lock:
            located = self.locator.locate_many(x[ok], y[ok], crs=crs)
            # Swapped lon/lat (outside, or no position, but inside the other way round),
            # or lon/lat given a projected crs: rejected as latlon_swapped or
            # degrees_in_projected_crs, as gridkit locate does.
            status = np.full(len(x), OUTSIDE, dtype=np.int8)
            status[ok] = np.where(located["status"].to_numpy() == "outside", OUTSIDE, INSIDE)
            self.locator.mark_misread(x, y, crs, reason, detail, status, degrees_fix=f"send {BATCH_DEGREES}",
                                      degrees=form, decimal_fix=f"send {BATCH_DEGREES.format('decimal')}")
            located = located[reason[ok] == ""]
            ok = reason == ""
            if classes is not None:
                classes = np.where(located["grid_id"].isna().to_numpy(), None, classes[ok])  # outside: no department
                codes, names = self.routes.route_many(located, classes, kind=kind)
                located["department_code"], located["department_name"] = codes, names
            if near is not None:  # the other cell near each point: its cell found again, by index
                index = self.locator.cell_index(x[ok], y[ok], crs=crs)[0]
                for name, values in _near_columns(self.locator, index, *self.locator.near_edge(
                        x[ok], y[ok], index, near, crs=crs)).items():
                    located[name[len(PREFIX):]] = values
        results = np.empty(len(x), dtype=object)
        results[ok] = _records(located)
        results[~ok] = [{"status": "rejected", "reason": r, "detail": d} for r, d in zip(reason[~ok], detail[~ok])]
        for i, point_id in enumerate(ids):  # a point's id comes back, first in its answer
            if point_id is not None:
                results[i] = {"id": point_id, **results[i]}
        return {"results": results.tolist(), "count": len(x), "rejected": int((~ok).sum())}

    def _class(self, code):
        if code is None or not str(code).strip():
            return None
        self._need_routes()
        return str(code).strip()

    def _need_routes(self):
        if self.routes is None:
            raise InputError("a class was given, but this server has no routing table: start it with "
                             "--routes routing.toml (gridkit route starter writes one), or leave the class out")

    def _classes(self, body, n):
        if "classes" in body and "class" in body:
            raise InputError('give "classes" (one per point) or "class" (one for all), not both')
        if "class" in body:
            return None if self._class(body["class"]) is None else np.full(n, self._class(body["class"]), dtype=object)
        if "classes" not in body:
            return None
        classes = body["classes"]
        if not isinstance(classes, list) or len(classes) != n:
            raise InputError(f'"classes" is a list with one class per point ({n}); null where a point has none')
        self._need_routes()
        return np.array([self._class(c) for c in classes], dtype=object)  # blank: no class, as in a file


def _crs(value):
    """The CRS as the service says it back: ``gcj02``/``bd09`` or an authority string."""
    parsed = parse_crs(value)
    return parsed if isinstance(parsed, str) else parsed.to_string()


#: How a request names the form of its degrees, in a GET's query and in a batch.
GET_DEGREES, BATCH_DEGREES = "degrees={}", '"degrees": "{}"'


def _in_degrees(x, y, form, crs, said):
    """``x``, ``y`` written as ``form`` (one of :data:`gridkit.coords.DEGREE_FORMS`)
    as decimal degrees (:func:`gridkit.coords.read_degrees`); a projected ``crs``
    takes none but decimal. ``said`` is how the request names the form
    (``degrees={}``, ``"degrees": "{}"`` in a batch), for the errors."""
    if form == "decimal":
        return x, y  # as given: a GET's answer takes 55 µs, and read_degrees' arrays would add 5 to 10
    if not isinstance(form, str) or form not in DEGREE_FORMS:  # a JSON list is no key
        raise InputError(f"{said.format(form)}: one of {', '.join(DEGREE_FORMS)} (e6: millionths of a degree as "
                         "whole numbers, as JT/T 808 vehicle terminals send them; ddmm: NMEA's degrees and minutes)")
    if not is_geographic(crs):
        raise InputError(f"{said.format(form)} reads longitude/latitude, and the CRS {crs} is projected: use "
                         f"{said.format('decimal')}, or the lon/lat CRS the points are in")
    return read_degrees(x, y, form, crs)


def _kind(value):
    if value is None:
        return "component"
    if value not in KINDS:
        raise InputError(f"kind={value!r}: use component (components and 2026 matters) or event (legacy CJ/T 214 "
                         "event classes)")
    return value


def _utf8(path):
    """The request's path as sent: http.server decodes the request line as Latin-1, so a
    client that sends UTF-8 unescaped (curl, or a desk's script: ?id=工单7) gets its
    text back as UTF-8. A path that is not UTF-8 is left as decoded."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return path


def _query(text) -> dict:
    """A GET request's parameters, each to its text. A parameter given twice
    (x=1&x=2) is an error: which one was meant cannot be known."""
    pairs = parse_qs(text, keep_blank_values=True)
    twice = [f"{name} ({', '.join(map(repr, values))})" for name, values in pairs.items() if len(values) > 1]
    if twice:
        raise InputError(f"given more than once: {'; '.join(twice)}; send each parameter once")
    return {name: values[0] for name, values in pairs.items()}


_LOCATION = re.compile(r"\s*([^\s,，;]+)\s*[,，;]\s*([^\s,，;]+)\s*")


def _location(text):
    """A location as Amap's and Baidu's APIs write one, "116.481028,39.989643", as
    its two texts; None when it is not two parts (a number's text is checked after)."""
    match = _LOCATION.fullmatch(text) if isinstance(text, str) else None
    return match.groups() if match else None


def _float(value):
    """``float(value)``, a text in full-width characters (１１６．４１, from a Chinese
    input method's full-width mode) read as its ASCII form; Python's float reads
    full-width digits but not the full-width point."""
    try:
        return float(value)
    except ValueError:
        if isinstance(value, str) and not value.isascii():
            return float(unicodedata.normalize("NFKC", value))
        raise


def _metres(value):
    """``near``'s metres (a number ≥ 0, or its text), None when not given."""
    if value is None:
        return None
    try:
        metres = _float(value)
    except (TypeError, ValueError):
        metres = -1.0
    if isinstance(value, bool) or not metres >= 0:  # NaN, negative, not a number
        raise InputError(f"near={value!r}: metres, a number ≥ 0 (near=10: the other cell within 10 m)")
    return metres


def _number(query, name, alias):
    if name in query and alias in query:
        raise InputError(f"both {name}={query[name]!r} and {alias}={query[alias]!r}: send one of them")
    text = query.get(name, query.get(alias))
    if text is None:
        raise InputError(f"{name} is missing: /locate?x=LON&y=LAT (or lon= and lat=, or location=LON,LAT), in crs "
                         "(default EPSG:4326)")
    try:
        value = _float(text)
    except ValueError:
        raise InputError(f"{name}={text!r} is not a number") from None
    return value


def _coordinates(points):
    """``points`` ([[x, y], …], or objects {"x": …, "y": …} / {"lon": …, "lat": …},
    which may carry an "id") as two float arrays, what is wrong with each point that
    has no such shape ("" for the others), and the ids (None where none). Such a
    point is NaN, rejected in its place as a missing coordinate, with a detail that
    shows it; so is true or false, which Python would read as 1 or 0."""
    x, y = np.full(len(points), np.nan), np.full(len(points), np.nan)
    shape = np.full(len(points), "", dtype=object)
    ids = np.full(len(points), None, dtype=object)
    for i, point in enumerate(points):
        pair = point
        if type(point) is dict:
            ids[i] = point.get("id")
            keys = set(point) - {"id"}
            pair = next(((point[a], point[b]) for a, b in (("x", "y"), ("lon", "lat")) if keys == {a, b}), None)
            if keys == {"location"}:
                pair = _location(point["location"])
            if type(ids[i]) not in (str, int, float, type(None)):
                pair, ids[i] = None, None  # an id to echo must be a text or a number
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            a, b = pair
            if a is not True and a is not False and b is not True and b is not False:
                try:
                    x[i], y[i] = _float(a), _float(b)
                except (TypeError, ValueError):
                    pass
                continue
        shown = json.dumps(point, ensure_ascii=False)
        shape[i] = (f"{shown if len(shown) <= 60 else shown[:57] + '…'} is not a point: send [x, y], "
                    '{"x": …, "y": …}, {"lon": …, "lat": …} or {"location": "x,y"}, numbers or their text (an '
                    'object may add an "id", a text or a number)')
    return x, y, shape, ids


class _RepeatedKey(ValueError):
    """A JSON object of the body names a key twice."""


def _json_object(pairs):
    """A JSON object of a POST body as a dict. A key given twice ({"x": 1, "x": 2})
    is an error, as a GET parameter given twice is: Python would keep the last, and
    which was meant cannot be known."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    keys = [key for key, _ in pairs]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    raise _RepeatedKey(f"key {', '.join(map(repr, twice))} given more than once in one object of the body; send "
                       "each key once")


def _records(frame):
    """A located frame as a list of dicts for JSON: text, or None where missing."""
    columns = {}
    for name in frame.columns:
        values = frame[name].astype(object).to_numpy()
        if name == "distance_m":
            values = np.where(np.isnan(frame[name].to_numpy(dtype=float)), None, values)
        else:
            values = np.where(pd.isna(values), None, values)
        columns[name] = values.tolist()
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]


#: The methods the server answers, for the Allow header of OPTIONS and of 405.
METHODS = "GET, HEAD, POST, OPTIONS"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client asking point after point keeps its connection
    # The headers and the body go out as two writes; with Nagle's algorithm the second
    # waits for the client's delayed ACK: 40 ms a request instead of a fraction of one.
    disable_nagle_algorithm = True
    # A connection that sends nothing for this long is closed, so idle kept-alive
    # clients (or a client that stalls mid-request) do not hold a thread for ever.
    timeout = 60
    service: Service
    cors: tuple = ()  # origins whose web pages may call (Access-Control-Allow-Origin); "*": any
    _head = False  # a HEAD request: the reply's headers alone

    def do_OPTIONS(self):
        """A browser's preflight before a cross-origin POST with a JSON body."""
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Allow", METHODS)
        if self._allow_origin():
            self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _allow_origin(self):
        """Send Access-Control-Allow-Origin when the request's page may read the
        answer (started with ``cors``); True when sent."""
        origin = self.headers.get("Origin")
        if "*" in self.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
            return True
        if self.cors:
            self.send_header("Vary", "Origin")
        if origin and origin in self.cors:
            self.send_header("Access-Control-Allow-Origin", origin)
            return True
        return False

    def do_GET(self):
        url = urlsplit(_utf8(self.path))
        if url.path in ("/", "/health"):
            return self._reply(HTTPStatus.OK, self.service.health())
        if url.path != "/locate":
            return self._reply(HTTPStatus.NOT_FOUND,
                               {"error": f"no {url.path}: GET /locate, POST /locate, GET /health"})
        self._answer(lambda text: self.service.one(_query(text)), url.query)

    def do_HEAD(self):
        """GET's status and headers without its body: what a load balancer's or an
        uptime monitor's health check may ask (http.server answered 501, in HTML)."""
        self._head = True  # one handler serves a kept-alive connection's requests, one after another
        try:
            self.do_GET()
        finally:
            self._head = False

    def do_POST(self):
        if urlsplit(self.path).path != "/locate":
            return self._reply(HTTPStatus.NOT_FOUND, {"error": f"no POST {self.path}: POST /locate"})
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._reply(HTTPStatus.LENGTH_REQUIRED, {"error": "send the body with a Content-Length"})
        if length > MAX_BODY:
            self.close_connection = True
            return self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               {"error": f"the body is {length:,} bytes; send at most {MAX_BODY:,} "
                                         "(about a million points) a request"})
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw, object_pairs_hook=_json_object)
        except _RepeatedKey as exc:
            return self._reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except UnicodeDecodeError as exc:
            return self._reply(HTTPStatus.BAD_REQUEST, {"error": f"the body is not UTF-8 (byte {exc.start}): JSON is "
                                                                 "sent in UTF-8; encode the text so, not as GBK"})
        except ValueError as exc:
            return self._reply(HTTPStatus.BAD_REQUEST, {"error": f"the body is not JSON ({exc})"})
        self._answer(self.service.many, body)

    def _not_allowed(self):
        """PUT, DELETE, PATCH: 405 naming the methods served, in JSON as every other
        answer (http.server answered 501, in HTML). A body sent is read, so that a
        kept-alive connection's next request starts where it should."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:  # a body of unknown length: the connection cannot go on
            length = -1
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)
        elif length:
            self.close_connection = True
        self._reply(HTTPStatus.METHOD_NOT_ALLOWED,
                    {"error": f"no {self.command}: GET /locate, POST /locate, GET /health"},
                    allow=METHODS)

    do_PUT = do_DELETE = do_PATCH = _not_allowed

    def _answer(self, work, request):
        """Reply with ``work(request)``: 400 with what a GridkitError says is wrong
        with the request, 500 (logged) for anything else."""
        try:
            self._reply(HTTPStatus.OK, work(request))
        except GridkitError as exc:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # a bug, not the request: say so, keep serving
            log.exception("%s %s", self.command, self.path)
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {exc}"})

    def _reply(self, status, obj, allow=None):
        data = json.dumps(obj, ensure_ascii=False, allow_nan=False).encode()
        self.send_response(status)
        if allow is not None:  # the methods served, with 405
            self.send_header("Allow", allow)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self._allow_origin()
        self.end_headers()
        if not self._head:
            self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        log.info("%s %s", self.address_string(), format % args)


def make_server(service: Service, host="127.0.0.1", port=8765, *, cors=()) -> ThreadingHTTPServer:
    """An HTTP server answering for ``service`` (``serve_forever()`` to run it; port 0
    takes a free one, ``server.server_address`` says which).

    ``cors``: the origins (``https://desk.example.gov.cn``) whose web pages may call
    the server from a browser, or ``"*"`` for any; by default none, and a browser
    keeps a page of another origin from reading the answers."""
    if not isinstance(service, Service):  # a Locator: every request an AttributeError, logged, answered 500
        raise InputError(f"service is a {type(service).__name__}, not a gridkit Service: make one with "
                         "Service(locator, routes)")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError(f"port {port!r}: give a whole number from 0 (any free port) to 65535")
    cors = (cors,) if isinstance(cors, str) else tuple(cors)
    handler = type("Handler", (_Handler,), {"service": service, "cors": cors})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server

