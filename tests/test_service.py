"""gridkit serve: locate and route over HTTP (gridkit.service), and the CLI."""

import http.client
import json
import re
import socket
import threading
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import gridkit as gk
from gridkit import service as service_module
from gridkit.errors import GridkitError, InputError
from gridkit.locator import Locator
from gridkit.routing import RoutingTable, starter_table
from gridkit.service import Service, answer, make_server
from gridkit_cli.main import cli

from .conftest import community_frame

X0, Y0 = 500_000.0, 4_400_000.0  # EPSG:4548 (CGCS2000 GK CM 117°E)


@pytest.fixture()
def package(tmp_path):
    """Two communities of 2 × 2 100 m cells side by side: 110101001001 (west), …002 (east)."""
    comm = community_frame([shapely.box(X0, Y0, X0 + 200, Y0 + 200), shapely.box(X0 + 200, Y0, X0 + 400, Y0 + 200)])
    return gk.write_package(tmp_path / "grid.gpkg", gk.unit_grid(comm), comm)


@pytest.fixture()
def routes(tmp_path):
    path = tmp_path / "routing.toml"
    path.write_text(starter_table(), encoding="utf-8")
    return path


def _lonlat(x, y):
    point = gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y)], crs=4548).to_crs(4326)[0]
    return point.x, point.y


def test_one_point_its_cell_areas_and_department(package, routes):
    service = Service(Locator.from_package(package), RoutingTable.load(routes))
    lon, lat = _lonlat(250, 150)  # the east community's north-west cell
    got = service.one({"x": str(lon), "y": str(lat), "class": "06010"})
    assert got == {"grid_id": "110101001002001", "community_code": "110101001002", "community_name": "c1",
                   "street_code": "110101001", "street_name": "", "county_code": "110101", "county_name": "",
                   "status": "inside", "distance_m": 0.0, "department_code": None, "department_name": "城市管理局",
                   "territorial": False}
    # lon=/lat= name the same; a legacy event class by kind=event; no class: no department
    assert service.one({"lon": str(lon), "lat": str(lat)})["grid_id"] == "110101001002001"
    assert "department_name" not in service.one({"lon": str(lon), "lat": str(lat)})
    legacy = service.one({"x": str(lon), "y": str(lat), "class": "0101", "kind": "event"})
    assert (legacy["department_name"], legacy["territorial"]) == ("110101001街道办事处", True)
    # the layout's own CRS
    assert service.one({"x": str(X0 + 50), "y": str(Y0 + 150), "crs": "EPSG:4548"})["grid_id"] == "110101001001001"


def test_outside_is_an_answer_with_a_hint_when_swapped_and_a_batch_rejects_it(package, tmp_path):
    service = Service(Locator.from_package(package))
    lon, lat = _lonlat(50, 50)
    far = service.one({"x": str(lon + 1), "y": str(lat)})
    assert (far["grid_id"], far["status"], far["distance_m"], "hint" in far) == (None, "outside", None, False)
    # In Beijing lat, lon is no position (latitude 117): an error that says so
    with pytest.raises(InputError, match="are x and y swapped"):
        service.one({"x": str(lat), "y": str(lon)})
    # In Cambridge, MA (-71.1, 42.4) lat, lon is a position (42.4, -71.1): outside, with a hint
    comm = community_frame([shapely.box(327_000, 4_692_000, 327_200, 4_692_200)], crs=32619)
    cambridge = Service(Locator.from_package(gk.write_package(tmp_path / "ma.gpkg", gk.unit_grid(comm), comm)))
    point = gpd.GeoSeries([shapely.Point(327_100, 4_692_100)], crs=32619).to_crs(4326)[0]
    swapped = cambridge.one({"x": str(point.y), "y": str(point.x)})
    assert swapped["status"] == "outside" and swapped["hint"] == (
        f"x and y look swapped: x={point.x:g}&y={point.y:g} is inside the layout")
    # A batch rejects both kinds as gridkit locate does (latlon_swapped), in their places
    batch = cambridge.many({"points": [[point.y, point.x], [point.x, point.y], [point.x + 1, point.y]]})
    assert [(r["status"], r.get("reason")) for r in batch["results"]] == [
        ("rejected", "latlon_swapped"), ("inside", None), ("outside", None)]
    beijing = service.many({"points": [[lat, lon], [lon, lat]]})
    assert [(r["status"], r.get("reason")) for r in beijing["results"]] == [
        ("rejected", "latlon_swapped"), ("inside", None)] and beijing["rejected"] == 1
    # Lon/lat given a projected crs (Web Mercator for GPS degrees) lie by its origin:
    # a hint, and a batch's rejection, name the CRS; metres there stay outside.
    mercator = service.one({"x": str(lon), "y": str(lat), "crs": "EPSG:3857"})
    assert mercator["status"] == "outside" and mercator["hint"] == (
        "x and y look like longitude/latitude: with crs=EPSG:4326 the point is inside the layout")
    assert "hint" not in service.one({"x": str(lon + 1), "y": str(lat), "crs": "EPSG:3857"})
    batch = service.many({"points": [[lon, lat], [X0 + 50, Y0 + 50], [lon + 1, lat]], "crs": "EPSG:4548"})
    assert [(r["status"], r.get("reason")) for r in batch["results"]] == [
        ("rejected", "degrees_in_projected_crs"), ("inside", None), ("outside", None)]
    # Gauss–Krüger metres with the zone number in front of x (39 for CM 117°E), or the
    # northing and easting swapped (a survey table's X is the northing): hints name the fix.
    zoned = service.one({"x": str(39_000_000 + X0 + 50), "y": str(Y0 + 50), "crs": "EPSG:4548"})
    assert zoned["status"] == "outside" and zoned["hint"] == (
        "x looks with the zone number in front: with crs=EPSG:4527 the point is inside the layout")
    bare = service.one({"x": str(X0 + 50), "y": str(Y0 + 50), "crs": "EPSG:4527"})
    assert bare["status"] == "outside" and bare["hint"] == (
        "x looks without the zone number in front: with crs=EPSG:4548 the point is inside the layout")
    assert service.one({"x": str(Y0 + 50), "y": str(X0 + 50), "crs": "EPSG:4548"})["hint"] == (
        f"x and y look swapped: x={X0 + 50:g}&y={Y0 + 50:g} is inside the layout")
    survey = service.many({"points": [[39_000_000 + X0 + 50, Y0 + 50], [Y0 + 50, X0 + 50]], "crs": "EPSG:4548"})
    assert [(r["status"], r.get("reason")) for r in survey["results"]] == [
        ("rejected", "zone_prefix"), ("rejected", "xy_swapped")]
    assert batch["results"][0]["detail"] == ("read as longitude/latitude (EPSG:4326) it is inside the layout; the "
                                             "CRS given is projected")
    # Baidu's metres (bd09mc): answered with crs=bd09mc; taken for Web Mercator, a hint
    # and a batch's rejection name it.
    from gridkit.coords import wgs84_to_bd09mc

    mx, my = (float(v) for v in wgs84_to_bd09mc(*_lonlat(50, 50)))
    assert service.one({"x": str(mx), "y": str(my), "crs": "bd09mc"})["grid_id"] == "110101001001003"
    assert service.one({"x": str(mx), "y": str(my), "crs": "EPSG:3857"})["hint"] == (
        "x and y look like Baidu's metres: with crs=bd09mc the point is inside the layout")
    baidu = service.many({"points": [[mx, my]], "crs": "EPSG:3857"})
    assert [(r["status"], r.get("reason")) for r in baidu["results"]] == [("rejected", "baidu_mercator")]


def test_millionths_of_a_degree_as_vehicle_terminals_send_them(package):
    """A JT/T 808 terminal sends 116412200 for 116.4122°. The server stopped it as
    "not a longitude: are x and y swapped, or is the CRS wrong?", and a batch's
    rejection said "give --degrees e6", an option no HTTP caller has. degrees=e6
    (per request, or the server's --degrees) reads them; the error and the
    rejection name it."""
    from gridkit.coords import write_degrees

    service = Service(Locator.from_package(package))
    lon, lat = _lonlat(250, 150)
    (ex,), (ey,) = write_degrees([lon], [lat], "e6")
    (mx,), (my,) = write_degrees([lon], [lat], "ddmm")
    with pytest.raises(InputError) as raised:
        service.one({"x": str(ex), "y": str(ey)})
    assert str(raised.value).endswith("read as degrees × 1,000,000 (116412200, JT/T 808), it is inside the "
                                      "layout: send degrees=e6")
    with pytest.raises(InputError, match="it is inside the layout: send degrees=ddmm$"):
        service.one({"x": str(mx), "y": str(my)})
    assert service.one({"x": str(ex), "y": str(ey), "degrees": "e6"})["grid_id"] == "110101001002001"
    assert service.one({"x": str(mx), "y": str(my), "degrees": "ddmm"})["grid_id"] == "110101001002001"
    batch = service.many({"points": [[ex, ey], [lon, lat]]})
    assert [(r["status"], r.get("reason")) for r in batch["results"]] == [("rejected", "scaled_degrees"),
                                                                          ("inside", None)]
    assert batch["results"][0]["detail"].endswith('it is inside the layout: send "degrees": "e6"')
    batch = service.many({"points": [[ex, ey], {"x": ex + 100, "y": ey}], "degrees": "e6"})
    assert [r["grid_id"] for r in batch["results"]] == ["110101001002001", "110101001002001"]
    # A server for terminals: e6 unless a request says otherwise
    terminals = Service(Locator.from_package(package), degrees="e6")
    assert terminals.health()["degrees"] == "e6"
    assert terminals.one({"x": str(ex), "y": str(ey)})["grid_id"] == "110101001002001"
    assert terminals.one({"x": str(lon), "y": str(lat), "degrees": "decimal"})["grid_id"] == "110101001002001"
    with pytest.raises(InputError, match=r"^degrees=e9: one of decimal, e5, e6, e7, ddmm \(e6: millionths"):
        service.one({"x": str(ex), "y": str(ey), "degrees": "e9"})
    with pytest.raises(InputError, match=r"""^"degrees": "\['e6'\]": one of decimal"""):
        service.many({"points": [[ex, ey]], "degrees": ["e6"]})
    with pytest.raises(InputError, match=r'^"degrees": "e6" reads longitude/latitude, and the CRS EPSG:4548 is '
                                         r'projected: use "degrees": "decimal", or the lon/lat CRS'):
        service.many({"points": [[X0, Y0]], "crs": "EPSG:4548", "degrees": "e6"})
    with pytest.raises(InputError, match="^--degrees e6 reads longitude/latitude, and the CRS EPSG:4548"):
        Service(Locator.from_package(package), crs="EPSG:4548", degrees="e6")
    result = CliRunner().invoke(cli, ["serve", str(package), "--degrees", "e6", "--self-test"])
    assert result.exit_code == 0, result.output
    x, y = re.search(r"\?x=(\S+)&y=(\S+)$", result.stdout.splitlines()[0]).groups()
    assert x.isdigit() and y.isdigit() and abs(int(x) / 1e6 - _lonlat(50, 150)[0]) < 1e-3, result.stdout
    assert json.loads(result.stdout.splitlines()[1].removeprefix("  → "))["grid_id"] == "110101001001001"


def test_decimal_degrees_sent_as_millionths_are_told_not_answered_outside_alone(package, tmp_path):
    """116.4122 sent with degrees=e6 (or to a server for terminals) reads as
    0.0001164°, off Africa: it was answered "outside", with no hint, and a batch's
    point too. Now the answer's hint, the batch's reason, the locate command's
    reject and its --at line say the numbers as given are inside."""
    service = Service(Locator.from_package(package))
    lon, lat = _lonlat(250, 150)
    alone = service.one({"x": str(lon), "y": str(lat), "degrees": "e6"})
    assert alone["grid_id"] is None and alone["hint"] == ("x and y look like decimal degrees, not e6: with "
                                                          "degrees=decimal the point is inside the layout")
    terminals = Service(Locator.from_package(package), degrees="e6")
    assert terminals.one({"x": str(lon), "y": str(lat)})["hint"].startswith("x and y look like decimal degrees")
    assert "hint" not in terminals.one({"x": "0.001", "y": "0.001"})  # tiny, but not decimal degrees inside either
    batch = terminals.many({"points": [[lon, lat], [lon + 1, lat]]})
    assert [(r["status"], r.get("reason")) for r in batch["results"]] == [("rejected", "decimal_degrees"),
                                                                          ("outside", None)]
    assert batch["results"][0]["detail"] == ('as given, in decimal degrees, it is inside the layout: send '
                                             '"degrees": "decimal"')
    pd.DataFrame({"lon": [lon, lon + 1], "lat": [lat, lat]}).to_csv(tmp_path / "points.csv", index=False)
    result = CliRunner().invoke(cli, ["locate", str(tmp_path / "points.csv"), "--grid", str(package), "--degrees",
                                      "e6", "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert "2 rows → 1 located, 1 rejected" in result.output and "1 × decimal_degrees" in result.output
    rejects = pd.read_csv(tmp_path / "out.rejects.csv")
    assert rejects[["row", "reason", "detail"]].values.tolist() == [
        [1, "decimal_degrees", "as given, in decimal degrees, it is inside the layout: leave out --degrees e6"]]
    at = CliRunner().invoke(cli, ["locate", "--at", f"{lon},{lat}", "--grid", str(package), "--degrees", "ddmm"])
    assert at.exit_code == 1 and at.output.rstrip().endswith(
        "outside the layout; as given, in decimal degrees, it is in it: leave out --degrees ddmm")


@pytest.mark.parametrize("query, message", [
    ({"y": "39.7"}, "x is missing: /locate?x=LON&y=LAT"),
    ({"x": "abc", "y": "39.7"}, "x='abc' is not a number"),
    ({"x": "39.7", "y": "117.0"}, "x=39.7, y=117 (EPSG:4326): y = 117 is not a latitude (-90..90)"),
    ({"x": "117.0", "y": "39.7", "crs": "foo"}, "unknown CRS 'foo'"),
    ({"x": "117.0", "y": "39.7", "class": "06010"}, "this server has no routing table: start it with --routes"),
    ({"x": "117.0", "y": "39.7", "kind": "matter"}, "kind='matter': use component"),
    ({"x": "117.0", "y": "39.7", "cls": "06010"}, "unknown parameter cls"),
    ({"x": "117.0", "lon": "116.0", "y": "39.7"}, "both x='117.0' and lon='116.0': send one of them"),
])
def test_a_request_that_cannot_be_answered_says_what_to_send(package, query, message):
    service = Service(Locator.from_package(package))
    with pytest.raises(GridkitError) as raised:  # an InputError, or a CRSError for the CRS
        service.one(query)
    assert message in str(raised.value)


def test_a_batch_answers_every_point_in_its_place(package, routes):
    service = Service(Locator.from_package(package), RoutingTable.load(routes))
    inside, east, outside = _lonlat(50, 150), _lonlat(350, 50), _lonlat(1000, 50)
    points = [list(inside), [None, 39.7], list(east), "here", list(outside), [117.0, 100.0]]
    got = service.many({"points": points, "classes": ["06010", "06010", "01001", None, "06010", None]})
    assert (got["count"], got["rejected"]) == (6, 3)
    results = got["results"]
    assert [r["status"] for r in results] == ["inside", "rejected", "inside", "rejected", "outside", "rejected"]
    assert [r.get("reason") for r in results] == [None, "missing_coordinates", None, "missing_coordinates", None,
                                                  "impossible_coordinates"]
    assert [r.get("grid_id") for r in results] == ["110101001001001", None, "110101001002004", None, None, None]
    assert [r.get("department_name") for r in results] == ["城市管理局", None, "供水企业/水务局", None, None,
                                                           None]
    # each located point as the single-point answer says it (which also says whether the rule was territorial)
    for point, result, code in ((inside, results[0], "06010"), (east, results[2], "01001")):
        one = answer(service.locator, *point, crs="EPSG:4326", routes=service.routes, class_code=code)
        assert {k: v for k, v in one.items() if k != "territorial"} == result
    # one class for every point
    every = service.many({"points": [list(inside), list(east)], "class": "01001"})
    assert [r["department_name"] for r in every["results"]] == ["供水企业/水务局"] * 2
    # a blank class is no class, as a blank cell of a file's class column is (it was rejected: "'' is not a class
    # code"); a class that is no class: that point rejected in its place, the others answered
    blank = service.many({"points": [list(inside), list(east)], "classes": ["", " "]})
    assert [(r["status"], r["department_name"]) for r in blank["results"]] == [("inside", None), ("inside", None)]
    mixed = service.many({"points": [list(inside), list(east)], "classes": ["12345", "01001"]})
    assert [r["status"] for r in mixed["results"]] == ["rejected", "inside"] and mixed["rejected"] == 1
    assert mixed["results"][0]["reason"] == "bad_class" and "12345" in mixed["results"][0]["detail"]


def test_a_batch_takes_points_as_objects_and_shows_a_point_of_another_shape(package):
    """{"x", "y"} and {"lon", "lat"} are points, as [x, y] is; [x, y, z], true for a
    number (read as 1 by Python) and one text "x,y" are rejected in their places, and
    the detail shows the point as sent."""
    service = Service(Locator.from_package(package))
    lon, lat = _lonlat(50, 150)
    got = service.many({"points": [{"x": lon, "y": lat}, {"lon": str(lon), "lat": str(lat)}, [lon, lat, 0.0],
                                   [True, lat], f"{lon},{lat}", {"x": lon, "lat": lat}, [lon, lat]]})
    results = got["results"]
    assert [r.get("grid_id") for r in results] == ["110101001001001"] * 2 + [None] * 4 + ["110101001001001"]
    assert [r["status"] for r in results[2:6]] == ["rejected"] * 4 and got["rejected"] == 4
    assert {r["reason"] for r in results[2:6]} == {"missing_coordinates"}
    assert results[3]["detail"] == (f'[true, {lat}] is not a point: send [x, y], {{"x": …, "y": …}}, '
                                    '{"lon": …, "lat": …} or {"location": "x,y"}, numbers or their text (an object '
                                    'may add an "id", a text or a number)')
    assert [r["detail"].split(" is not a point")[0] for r in results[2:6]] == [
        f"[{lon}, {lat}, 0.0]", f"[true, {lat}]", f'"{lon},{lat}"', f'{{"x": {lon}, "lat": {lat}}}']


def test_a_location_as_amap_writes_it(package):
    """Amap's and Baidu's APIs give and take a point as location=LON,LAT; a system
    that asked them may ask gridkit so, one point or a batch of objects."""
    service = Service(Locator.from_package(package))
    lon, lat = _lonlat(50, 150)
    assert service.one({"location": f"{lon},{lat}"})["grid_id"] == "110101001001001"
    assert service.one({"location": f" {lon} ， {lat} "})["grid_id"] == "110101001001001"
    got = service.many({"points": [{"id": "B0FFG", "location": f"{lon},{lat}"}, {"location": f"{lon};{lat}"},
                                   {"location": "abc,def"}, {"location": f"{lon}"}]})
    assert [(r.get("grid_id"), r["status"]) for r in got["results"]] == [
        ("110101001001001", "inside"), ("110101001001001", "inside"), (None, "rejected"), (None, "rejected")]
    assert got["results"][0]["id"] == "B0FFG"
    assert got["results"][3]["detail"].startswith(f'{{"location": "{lon}"}} is not a point')
    for query, message in (({"location": f"{lon}"}, f"location='{lon}' is not LON,LAT (as Amap's APIs write it"),
                           ({"location": f"{lon},{lat}", "x": "1"}, "both location and x/y (or lon/lat)"),
                           ({"location": "abc,39.7"}, "x='abc' is not a number")):
        with pytest.raises(InputError, match=re.escape(message)):
            service.one(query)


def test_a_point_object_s_id_comes_back_in_its_answer(package):
    """A dispatch system sends its report's ID with each point; it comes back first
    in that point's answer, located, outside or rejected. An id that is no text or
    number makes the point no point."""
    service = Service(Locator.from_package(package))
    lon, lat = _lonlat(50, 150)
    got = service.many({"points": [{"id": "R001", "lon": lon, "lat": lat}, {"x": lon + 1, "y": lat, "id": 7},
                                   {"id": "R003", "lon": "", "lat": lat}, [lon, lat], {"id": [1], "x": lon, "y": lat}]})
    results = got["results"]
    assert [list(r)[0] for r in results] == ["id", "id", "id", "grid_id", "status"]
    assert [r.get("id") for r in results] == ["R001", 7, "R003", None, None]
    assert [r["status"] for r in results] == ["inside", "outside", "rejected", "inside", "rejected"]
    assert results[0]["grid_id"] == "110101001001001" and got["rejected"] == 2
    one = service.one({"id": "R009", "lon": str(lon), "lat": str(lat)})  # GET /locate?…&id=R009
    assert list(one)[:2] == ["id", "grid_id"] and one["id"] == "R009" and one["grid_id"] == "110101001001001"
    assert "id" not in service.one({"lon": str(lon), "lat": str(lat)})
    assert results[4]["detail"].startswith('{"id": [1], "x": ') and "… is not a point" in results[4]["detail"]


@pytest.mark.parametrize("body, message", [
    ({"pts": []}, 'the body is a JSON object with "points"'),
    ({"points": [[117, 39]], "classes": ["06010", "06010"]}, '"classes" is a list with one class per point (1)'),
    ({"points": [[117, 39]], "classes": ["06010"], "class": "06010"}, 'give "classes" (one per point) or "class"'),
    ({"points": [[117, 39]], "crs": "gcj02", "where": "x"}, "unknown key 'where'"),
])
def test_a_batch_that_cannot_be_answered_says_what_to_send(package, routes, body, message):
    service = Service(Locator.from_package(package), RoutingTable.load(routes))
    with pytest.raises(InputError) as raised:
        service.many(body)
    assert message in str(raised.value)
    bare = Service(Locator.from_package(package))
    with pytest.raises(InputError, match="no routing table"):
        bare.many({"points": [[117, 39]], "classes": ["06010"]})


@pytest.fixture()
def served(package, routes):
    server = make_server(Service(Locator.from_package(package), RoutingTable.load(routes), package=package),
                         port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _ask(connection, method, path, body=None):
    connection.request(method, path, body=None if body is None else json.dumps(body).encode())
    reply = connection.getresponse()
    return reply.status, json.loads(reply.read())


def test_over_http_on_one_kept_alive_connection(served, package):
    lon, lat = _lonlat(50, 150)
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    status, one = _ask(connection, "GET", f"/locate?x={lon}&y={lat}&class=06010")
    assert (status, one["grid_id"], one["department_name"]) == (200, "110101001001001", "城市管理局")
    status, batch = _ask(connection, "POST", "/locate", {"points": [[lon, lat], [lon, 100]], "class": "06010"})
    assert status == 200 and [r["status"] for r in batch["results"]] == ["inside", "rejected"]
    assert _ask(connection, "GET", "/locate?x=abc&y=1") == (400, {"error": "x='abc' is not a number"})
    # a parameter given twice is not read as the last one (an outside answer, or the wrong cell)
    assert _ask(connection, "GET", f"/locate?x={lon}&y={lat}&x=3") == (
        400, {"error": f"given more than once: x ('{lon}', '3'); send each parameter once"})
    status, health = _ask(connection, "GET", "/health")
    assert (status, health["cells"], health["routes"], health["package"]) == (200, 8, True, str(package))
    status, missing = _ask(connection, "GET", "/nowhere")
    assert status == 404 and "GET /locate, POST /locate, GET /health" in missing["error"]
    connection.request("POST", "/locate", body=b"{not json")
    reply = connection.getresponse()
    assert reply.status == 400 and json.loads(reply.read())["error"].startswith("the body is not JSON")
    # a key given twice, in the body or in a point, likewise (Python kept the last)
    for body in ('{"points": [[1, 2]], "crs": "gcj02", "crs": "EPSG:4326"}', '{"points": [{"x": 1, "y": 2, "x": 3}]}'):
        connection.request("POST", "/locate", body=body.encode())
        reply = connection.getresponse()
        key = "crs" if "crs" in body else "x"
        assert (reply.status, json.loads(reply.read())) == (400, {
            "error": f"key '{key}' given more than once in one object of the body; send each key once"})
    # GBK text in the body (a Chinese Windows program's) is named as such
    connection.request("POST", "/locate", body='{"points": [[1, 2]], "class": "路灯"}'.encode("gbk"))
    reply = connection.getresponse()
    assert (reply.status, json.loads(reply.read())) == (400, {
        "error": "the body is not UTF-8 (byte 33): JSON is sent in UTF-8; encode the text so, not as GBK"})
    # HEAD, as a load balancer's health check asks: GET's status and headers, no body (it was 501, in HTML);
    # the GET after it on the same connection has its body
    for path, status in (("/health", 200), ("/nowhere", 404)):
        connection.request("HEAD", path)
        reply = connection.getresponse()
        assert (reply.status, reply.getheader("Content-Type"), reply.read()) == (
            status, "application/json; charset=utf-8", b"")
        assert int(reply.getheader("Content-Length")) > 0
    assert _ask(connection, "GET", "/health")[1]["cells"] == 8
    # PUT, DELETE, PATCH: 405 in JSON, naming what is served (they were 501, in HTML); a body
    # sent with one is read, so the next request on the connection is answered
    for method, body in (("PUT", {"points": [[lon, lat]]}), ("DELETE", None), ("PATCH", {})):
        connection.request(method, "/locate", body=None if body is None else json.dumps(body).encode())
        reply = connection.getresponse()
        assert (reply.status, reply.getheader("Allow"), json.loads(reply.read())) == (
            405, "GET, HEAD, POST, OPTIONS", {"error": f"no {method}: GET /locate, POST /locate, GET /health"})
    assert _ask(connection, "GET", "/health")[1]["cells"] == 8
    # the same connection served every request
    assert connection.sock is not None


def test_utf8_sent_unescaped_comes_back_as_sent_and_full_width_classes_and_coordinates_are_read(served):
    """curl and many scripts send ?id=工单 as raw UTF-8, which http.server decodes as
    Latin-1: the id came back as 'å·¥å\x8d\x95' and the class as mojibake."""
    lon, lat = _lonlat(50, 150)
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(f"GET /locate?x={lon}&y={lat}&id=工单7&class=０６０１０ HTTP/1.1\r\nHost: x\r\n"
                     "Connection: close\r\n\r\n".encode("utf-8"))
        reply = b"".join(iter(lambda: sock.recv(65536), b""))
    head, body = reply.split(b"\r\n\r\n", 1)
    answer = json.loads(body)
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head
    assert (answer["id"], answer["department_name"]) == ("工单7", "城市管理局")
    # Coordinates typed in full width, the point too (１１７．００４５): Python's float takes the digits alone.
    wide = {ord(c): ord(c) + 0xFEE0 for c in "0123456789."}
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    status, one = _ask(connection, "GET", f"/locate?x={quote(str(lon).translate(wide))}&y={lat}")
    assert (status, one["grid_id"]) == (200, "110101001001001"), one
    status, batch = _ask(connection, "POST", "/locate", {"points": [[str(lon).translate(wide), str(lat)],
                                                                    {"location": f"{lon},{lat}".translate(wide)}]})
    assert status == 200 and [r["grid_id"] for r in batch["results"]] == ["110101001001001"] * 2, batch


def test_a_body_too_large_is_refused_before_it_is_read(served, monkeypatch):
    monkeypatch.setattr(service_module, "MAX_BODY", 100)
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    status, refused = _ask(connection, "POST", "/locate", {"points": [[117.0, 39.7]] * 20})
    assert status == 413 and "send at most 100" in refused["error"]


def test_an_idle_connection_is_closed(package):
    server = make_server(Service(Locator.from_package(package)), port=0)
    server.RequestHandlerClass.timeout = 0.3  # 60 s in service
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(server.server_address[:2], timeout=10) as idle:
            idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # stalls before the blank line
            assert idle.recv(1024) == b""  # closed by the server, not by our 10 s timeout
    finally:
        server.shutdown()
        server.server_close()


def _headers(port, method, origin):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, "/locate?x=117&y=39.7", headers={"Origin": origin})
    reply = connection.getresponse()
    reply.read()
    return reply.status, {k: v for k, v in reply.getheaders() if k.startswith("Access-Control") or k == "Vary"}


@pytest.mark.parametrize("cors", [(), ("https://desk.example",), "*"])
def test_web_pages_of_the_origins_given_may_read_the_answers(package, cors):
    server = make_server(Service(Locator.from_package(package)), port=0, cors=cors)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        desk, other = _headers(port, "GET", "https://desk.example"), _headers(port, "GET", "https://evil.example")
        preflight = _headers(port, "OPTIONS", "https://desk.example")
    finally:
        server.shutdown()
        server.server_close()
    allowed = {"Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Allow-Headers": "Content-Type",
               "Access-Control-Max-Age": "86400"}
    if cors == ():  # the default: no page of another origin may read an answer
        assert (desk, other, preflight) == ((200, {}), (200, {}), (204, {}))
    elif cors == "*":
        assert desk == other == (200, {"Access-Control-Allow-Origin": "*"})
        assert preflight == (204, {"Access-Control-Allow-Origin": "*", **allowed})
    else:  # the origin named, and no other; caches keep answers per origin
        assert desk == (200, {"Vary": "Origin", "Access-Control-Allow-Origin": "https://desk.example"})
        assert other == (200, {"Vary": "Origin"})
        assert preflight == (204, {"Vary": "Origin", "Access-Control-Allow-Origin": "https://desk.example", **allowed})


def test_cli_self_test_and_a_taken_port(package, routes):
    result = CliRunner().invoke(cli, ["serve", str(package), "--routes", str(routes), "--self-test"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("GET http://127.0.0.1:") and "&class=01013" in lines[0]
    assert json.loads(lines[1].removeprefix("  → "))["grid_id"] == "110101001001001"
    assert json.loads(lines[3].removeprefix("  → "))["rejected"] == 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", str(package), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use); pick another --port" in result.output


def test_serve_and_locate_refuse_a_routing_table_with_errors(package, routes, tmp_path):
    """A table `route check` finds errors in was taken as it was: a department's
    name with an unknown placeholder ({street}) failed the first request with a
    KeyError traceback, and a credit code of 15 digits was handed out as the
    department's code. Each command that routes checks the table first."""
    from gridkit.errors import InputError

    bad = tmp_path / "bad.toml"
    bad.write_text(starter_table().replace("{street_name}街道办事处", "{street}街道办事处"), encoding="utf-8")
    first = "department '{street}街道办事处': unknown placeholder(s) street"
    for command in (["serve", str(package), "--routes", str(bad), "--self-test"],
                    ["locate", "--at", "{},{}".format(*_lonlat(50, 50)), "--grid", str(package), "--routes", str(bad),
                     "--class", "06010"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1 and result.output == (
            f"Error: {bad}: {first}. Fix the table (`gridkit route check {bad}` checks it), then route with it\n"
        ), result.output
    with pytest.raises(InputError, match=r"department '\{street\}街道办事处': its name cannot be filled in "
                                         r"\(KeyError\('street'\)\); `gridkit route check .*bad.toml` says why"):
        RoutingTable.load(bad).route({"grid_id": "110101001001001"}, "01023")  # no rule: territorial
    two = tmp_path / "two.toml"
    two.write_text(starter_table().replace('[departments."公安局"]\ncode = ""',
                                           '[departments."公安局"]\ncode = "110000012345678"') + (
        '[[rule]]\nclasses = ["01013"]\ndepartment = "公安局"\n'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", str(package), "--routes", str(two), "--self-test"])
    assert result.exit_code == 1 and result.output.startswith(
        f"Error: {two}: 2 errors (the first: area * class 01013: rule 11 says '消防救援机构', rule 66 says '公安局' "
        f"(the first is used)); `gridkit route check {two}` lists them: fix the table, then route with it"), \
        result.output
    assert CliRunner().invoke(cli, ["serve", str(package), "--routes", str(routes), "--self-test"]).exit_code == 0


def test_records_say_missing_as_null():
    frame = gpd.pd.DataFrame({"grid_id": gpd.pd.Categorical(["a", None]), "distance_m": [0.0, np.nan]})
    assert service_module._records(frame) == [{"grid_id": "a", "distance_m": 0.0},
                                              {"grid_id": None, "distance_m": None}]


def test_near_names_the_other_cell_within_so_many_metres(package):
    """GET near=M and a batch's "near": M add the nearest other cell within M metres,
    how far it is and what lies between, as gridkit locate --near-edge does; a point
    with none, or outside, says null. A near that is no distance is refused."""
    service = Service(Locator.from_package(package))
    lon, lat = _lonlat(197, 150)  # west community's north-east cell, 3 m from the east community
    got = service.one({"x": str(lon), "y": str(lat), "near": "10"})
    assert (got["grid_id"], got["near_grid_id"], got["near_across"]) == ("110101001001002", "110101001002001",
                                                                       "community")
    assert got["near_m"] == pytest.approx(3, abs=1e-6)
    assert "near_grid_id" not in service.one({"x": str(lon), "y": str(lat)})
    inner = _lonlat(50, 150)
    batch = service.many({"points": [[lon, lat], list(inner), [lon + 1, lat]], "near": 10})
    assert [(r["grid_id"], r["near_grid_id"], r["near_across"]) for r in batch["results"]] == [
        ("110101001001002", "110101001002001", "community"), ("110101001001001", None, None), (None, None, None)]
    for bad in ("-1", "ten", "nan"):
        with pytest.raises(InputError, match="metres, a number ≥ 0"):
            service.one({"x": str(lon), "y": str(lat), "near": bad})


def test_answer_service_and_make_server_name_what_they_cannot_serve(package, routes):
    """A package's path for the locator or a routing table's for routes were
    AttributeErrors (in the server, one per request, answered 500); a port of -5
    an OverflowError from socketserver, and a Locator for the service every
    request's AttributeError. A class without routes answered no department,
    unsaid (the server refuses such a request)."""
    loc = Locator.from_package(package)
    with pytest.raises(InputError, match=r"^locator is a PosixPath, not a gridkit Locator: make one with "
                                         r"Locator\.from_package\(path\)$"):
        answer(package, X0 + 50, Y0 + 50)
    with pytest.raises(InputError, match=r"^routes is a PosixPath, not a RoutingTable: read one with "
                                         r"RoutingTable\.load\(path\)$"):
        Service(loc, routes)
    with pytest.raises(InputError, match=r"^port -5: give a whole number from 0 \(any free port\) to 65535$"):
        make_server(Service(loc), port=-5)
    with pytest.raises(InputError, match=r"^service is a Locator, not a gridkit Service"):
        make_server(loc, port=0)
    with pytest.raises(InputError, match=r"^class_code '01013' was given without routes, which name its department: "
                                         r"give routes=RoutingTable\.load\(path\), or leave the class out$"):
        answer(loc, X0 + 50, Y0 + 50, class_code="01013")
    assert answer(loc, X0 + 50, Y0 + 50)["grid_id"] == "110101001001003"
    table = RoutingTable.load(routes)
    with pytest.raises(InputError, match=r"^the locations are a list, not a DataFrame; locate the points with "
                                         r"Locator\.locate_many\(\)$"):
        table.route_many([1], ["01013"])
