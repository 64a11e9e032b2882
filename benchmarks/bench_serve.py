"""gridkit serve against the geopandas handler a team would write: same server, same points, same run.

Both answer on the standard library's ``ThreadingHTTPServer`` (HTTP/1.1, kept-alive
connections), started in the peer's own process on a free port, with a client
in that process asking over one connection; so the difference is what each does
with a request. No routing: the answer is the cell and its hierarchy.

Peers (each in its own process: its time and peak RSS are its own)
-----
``gridkit_get``     ``GET /locate?x=…&y=…``, one point a request (``gridkit.service``).
``geopandas_get``   the same request to a handler that transforms the lon/lat with
                    pyproj and asks ``cells.sindex.query(point, predicate="within")``,
                    answering the first cell's hierarchy columns.
``gridkit_post``    ``POST /locate`` with every batch point in one body.
``geopandas_post``  the same body to a handler running the recipe:
                    ``points_from_xy`` + ``to_crs`` + ``sjoin``, answered as a list of
                    records (as ``gridkit_post`` answers).

Single requests report the median and p99 of 5,000 (seconds: their sum); batches the
best of three. Layouts and points are bench_locate's (``benchmarks/results/cache``);
``inside`` counts the answers with a cell, the same for both when they agree.

    python benchmarks/bench_serve.py                  # cambridge and beijing
    python benchmarks/bench_serve.py --only cambridge
"""

from __future__ import annotations

import http.client
import json
import threading
import time

from _children import best_of, by_case, run_benchmark
from bench_locate import HIERARCHY, _layout, _peer_cells, _points, _prepare

CASES = {"cambridge": 2_000_000, "beijing": 4_000_000}
REQUESTS = 5_000
BATCH = 100_000


def _served(handler_or_service):
    """Start a server for a gridkit ``Service`` or a handler class on a free port;
    its port, and the server (to stop)."""
    from http.server import ThreadingHTTPServer

    from gridkit.service import Service, make_server

    if isinstance(handler_or_service, Service):
        server = make_server(handler_or_service, port=0)
    else:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_or_service)
        server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], server


def _ask_each(port, lon, lat):
    """One GET a point over one kept-alive connection: per-request seconds, answers with a cell."""
    import numpy as np

    connection = http.client.HTTPConnection("127.0.0.1", port)
    times, inside = np.empty(len(lon)), 0
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist())):
        t = time.perf_counter()
        connection.request("GET", f"/locate?x={x!r}&y={y!r}")
        body = json.loads(connection.getresponse().read())
        times[i] = time.perf_counter() - t
        inside += body.get("grid_id") is not None
    return times, inside


def _single(case, start):
    import numpy as np

    _, _, lon, lat = _points(case)
    port, server = start()
    _ask_each(port, lon[:200], lat[:200])  # warm both sides
    times, inside = _ask_each(port, lon[:REQUESTS], lat[:REQUESTS])
    server.shutdown()
    us = times * 1e6
    return float(times.sum()), {"rows": REQUESTS, "inside": inside, "median_us": float(np.median(us)),
                                "p99_us": float(np.percentile(us, 99))}


def _batch(case, start):
    lon, lat, _, _ = _points(case)
    lon, lat = lon[:BATCH], lat[:BATCH]
    body = json.dumps({"points": [[x, y] for x, y in zip(lon.tolist(), lat.tolist())]}).encode()
    port, server = start()
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def ask():
        connection.request("POST", "/locate", body=body, headers={"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())["results"]

    seconds, results = best_of(3, ask)
    server.shutdown()
    return seconds, {"rows": BATCH, "inside": sum(r.get("grid_id") is not None for r in results)}


def _gridkit(case):
    from gridkit.locator import Locator
    from gridkit.service import Service

    return lambda: _served(Service(Locator.from_package(_layout(case))))


def _geopandas_handler(case):
    """The handler a team writes around geopandas: the cells and their hierarchy,
    their spatial index, a pyproj transformer."""
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import parse_qs, urlsplit

    import geopandas as gpd
    import pyproj
    import shapely

    cells = _peer_cells(case)
    cells.sindex  # built before the first request, as gridkit's index is
    to_layout = pyproj.Transformer.from_crs(4326, cells.crs, always_xy=True)
    columns = [c for c in ["micro_id", *HIERARCHY] if c in cells]
    table = cells[columns].astype(object).where(cells[columns].notna(), None)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as gridkit's: else 40 ms a request waiting for a delayed ACK

        def do_GET(self):
            query = parse_qs(urlsplit(self.path).query)
            x, y = to_layout.transform(float(query["x"][0]), float(query["y"][0]))
            hits = cells.sindex.query(shapely.Point(x, y), predicate="within")
            self._reply(dict(zip(columns, table.iloc[hits.min()].tolist())) if len(hits) else
                        dict.fromkeys(columns))

        def do_POST(self):
            points = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["points"]
            lon, lat = zip(*points)
            pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat, crs=4326)).to_crs(cells.crs)
            joined = gpd.sjoin(pts, cells[[*columns, "geometry"]], how="left", predicate="within")
            joined = joined[~joined.index.duplicated()]
            records = joined[columns].astype(object).where(joined[columns].notna(), None).to_dict("records")
            self._reply({"results": records})

        def _reply(self, obj):
            data = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return lambda: _served(Handler)


PEERS = {
    "gridkit_get": lambda case: _single(case, _gridkit(case)),
    "geopandas_get": lambda case: _single(case, _geopandas_handler(case)),
    "gridkit_post": lambda case: _batch(case, _gridkit(case)),
    "geopandas_post": lambda case: _batch(case, _geopandas_handler(case)),
}


def main():
    rows = run_benchmark(__doc__, __file__, CASES, PEERS, prepare=_prepare, rate="M pts/s",
                         notes=("inside", "median_us", "p99_us"))
    if rows is None:
        return
    for case, get in by_case(rows):
        if "gridkit_get" in get and "geopandas_get" in get:
            g, p = get["gridkit_get"], get["geopandas_get"]
            print(f"{case}: one point a request, median {g['median_us']:.0f} µs vs {p['median_us']:.0f} µs "
                  f"({p['median_us'] / g['median_us']:.1f}×), p99 {g['p99_us']:.0f} vs {p['p99_us']:.0f} µs; "
                  f"answers with a cell {g['inside']:,} and {p['inside']:,}")
        if "gridkit_post" in get and "geopandas_post" in get:
            g, p = get["gridkit_post"], get["geopandas_post"]
            print(f"{case}: {BATCH:,} points in one request, {g['seconds']:.2f} s vs {p['seconds']:.2f} s "
                  f"({p['seconds'] / g['seconds']:.1f}×); answers with a cell {g['inside']:,} and {p['inside']:,}")


if __name__ == "__main__":
    main()
