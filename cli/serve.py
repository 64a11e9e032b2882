"""``gridkit serve``: locate and route over HTTP."""

from __future__ import annotations

import json

import click

from .options import DEGREE_CHOICES, FilePath, Number, crs_opt, grid_crs_opt, grid_layer_opt, id_field_opt


@click.command("serve")
@click.argument("package", type=FilePath(exists=True, dir_okay=False))
@click.option("--routes", type=FilePath(exists=True, dir_okay=False), default=None,
              help="Routing table (TOML; `gridkit route starter` writes one): a request with a class gets the "
                   "department too. A table with errors (`gridkit route check`) is refused.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on: 0.0.0.0 for every network interface (put it behind your gateway).")
@click.option("--port", default=None, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free one, printed). Default: 8765; with --self-test any free one.")
@crs_opt("--crs", default="EPSG:4326", show_default=True,
         help="The CRS of points whose request names none: EPSG:4326 (GPS), gcj02 (Amap, Tencent), bd09 "
                   "(Baidu; bd09mc for its metres), EPSG:4490, or the layout's EPSG code.")
@click.option("--degrees", default="decimal", show_default=True, type=click.Choice(DEGREE_CHOICES),
              help="How the lon/lat numbers of requests naming none (degrees=) are written: e6 for millionths of a "
                   "degree as whole numbers (116412200), as JT/T 808 vehicle terminals send them (e5, e7 alike); "
                   "ddmm for NMEA's degrees and minutes (11624.7326).")
@click.option("--tolerance", default=0.0, show_default=True, type=Number(min=0, infinite=True),
              help="Metres: points this close outside the layout get the nearest cell (status 'nearest').")
@click.option("--cors", "cors", metavar="ORIGIN", multiple=True,
              help="Let web pages from ORIGIN (https://desk.example.gov.cn) call the server from a browser; "
                   "repeat for more, '*' for any page. Default: none (a browser keeps other sites' pages from "
                   "reading the answers; other programs are not affected).")
@grid_layer_opt
@id_field_opt
@grid_crs_opt
@click.option("--self-test", is_flag=True,
              help="Start, ask the server about a point of the layout over HTTP (GET /locate, then POST /locate), "
                   "print the answers and stop: checks a deployment.")
def serve_command(package, routes, host, port, crs, degrees, tolerance, cors, grid_layer, id_field, grid_crs,
                  self_test):
    """Answer locate-and-route requests over HTTP, for systems that are not Python.

    A city's case platform, a dispatch desk's web page or a phone app sends a
    point and gets its cell, community, street, district and, with --routes and
    a class, the responsible department, as JSON:

    \b
      GET  /locate?x=-71.1056&y=42.3736&class=01013     one point (lon=, lat= or
                                                          location=LON,LAT too;
                                                          crs=gcj02, degrees=e6,
                                                          kind=event, id= echoed)
      POST /locate  {"points": [[x, y], …], "classes": [...], "crs": "gcj02"}
                    (a point may be {"x": …, "y": …}, {"lon": …, "lat": …} or
                    {"location": "x,y"}, with an "id" that comes back in its
                    answer)
      GET  /health                                        what is served (HEAD
                                                          too)

    A point outside the layout is an answer ("status": "outside"); a request
    that cannot be answered gets status 400 and {"error": "…"} saying what to
    send instead. In a batch a point that cannot be a position, or whose class
    is no class, is answered "status": "rejected" with its reason, in its place. It serves until Ctrl-C;
    the index is kept beside the package (PACKAGE.locator), so a restart takes
    about a second even for Beijing's 1.6 million cells.

    \b
    Example (after `gridkit demo` and `gridkit route starter -o routing.toml`):
      gridkit serve demo-output/cambridge.gpkg --routes routing.toml --self-test
    Without --self-test it prints a curl command to try, and serves.
    """
    from gridkit.errors import GridkitError
    from gridkit.locator import Locator
    from gridkit.routing import RoutingTable
    from gridkit.service import Service, make_server

    if port is None:
        port = 0 if self_test else 8765
    try:
        locator = Locator.from_package(package, tolerance=tolerance, layer=grid_layer, id_field=id_field,
                                       crs=grid_crs)
        table = RoutingTable.load(routes).checked() if routes else None
        service = Service(locator, table, crs=crs, degrees=degrees, package=package)
        x, y = _inside_point(package, grid_layer, grid_crs, crs, degrees)
        server = make_server(service, host, port, cors=cors)
    except GridkitError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another "
                                   "--port, or stop what is using it") from None
    address, bound = server.server_address[:2]
    base = f"http://{'127.0.0.1' if address in ('0.0.0.0', '') else address}:{bound}"
    example = f"{base}/locate?x={x}&y={y}" + ("&class=01013" if table is not None else "")
    if self_test:
        _self_test(server, base, example, x, y, table is not None)
        return
    click.echo(f"serving {package} ({len(locator):,} cells"
               + (f", routes {routes}" if table else "") + f") on {base}; Ctrl-C stops", err=True)
    click.echo(f"  try: curl '{example}'", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.server_close()


def _inside_point(package, layer, grid_crs, crs, degrees):
    """A point inside the layout's first cell, in ``crs`` (for the example and the
    self-test), rounded to 6 decimals in degrees, 2 in metres, and written as
    ``degrees`` (116412200 for e6). ``layer``: the cells' (default: a grid package's
    cells, else the file's first layer, as the locator reads); ``grid_crs``: what
    their coordinates are in, when not as labelled (the locator has checked it)."""
    import pyogrio

    from gridkit.coords import is_geographic, parse_crs, write_degrees
    from gridkit.export import to_crs
    from gridkit.io import from_pseudo_crs

    if layer is None:
        names = [name for name, _ in pyogrio.list_layers(package)]
        layer = "cells" if "cells" in names else names[0]
    first = pyogrio.read_dataframe(package, layer=layer, max_features=1, columns=[])
    if grid_crs is not None:
        given = parse_crs(grid_crs)
        first = from_pseudo_crs(first, given) if isinstance(given, str) else first.set_crs(given, allow_override=True)
    point = to_crs(first.set_geometry(first.geometry.representative_point()), crs).geometry.iloc[0]
    digits = 6 if is_geographic(crs) else 2
    (x,), (y,) = write_degrees([round(point.x, digits)], [round(point.y, digits)], degrees)
    return x, y


def _self_test(server, base, example, x, y, routed):
    """Serve on a thread, ask ``example`` and a batch of the same point and one that
    cannot be a position, print both answers, stop."""
    import threading
    import urllib.request

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(example, timeout=30) as reply:
            one = json.loads(reply.read())
        body = {"points": [[x, y], [None, y]], **({"class": "01013"} if routed else {})}
        request = urllib.request.Request(f"{base}/locate", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            batch = json.loads(reply.read())
    finally:
        server.shutdown()
        server.server_close()
    click.echo(f"GET {example}\n  → {json.dumps(one, ensure_ascii=False)}")
    click.echo(f"POST {base}/locate {json.dumps(body)}\n  → {json.dumps(batch, ensure_ascii=False)}")
    if one.get("grid_id") is None or batch["rejected"] != 1:
        raise click.ClickException("the self-test's answers are not what the layout holds")
