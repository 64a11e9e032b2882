"""``gridkit grid recut`` against the geopandas recipe a GIS user would write, same package, same run.

The input: Cambridge's unit grid as ``grid units`` makes it from the samples (2,550
cells of ~10,000 m² in 13 neighbourhoods, along the street centrelines), whose units
layer is then edited as a planner would (made once): North Cambridge takes a bite of
150 m radius out of Cambridge Highlands, as a block handed to the next community.

* ``gridkit``: ``read_package``, :func:`gridkit.rebalance.communities_of`, the
  barriers read, :func:`gridkit.recut.recut` and ``write_package`` of the new
  package (cells, units, ended_grids, metadata): what ``grid recut`` runs. The cells
  tile the communities again (checked inside ``recut``), new land is divided along
  the streets, strips join the cells beside them, IDs are never issued twice.
* ``geopandas``: ``read_file`` of the cells and the units; ``overlay``
  (intersection) of the cells with the communities, keeping each cell's piece in its
  own community; the land left (``overlay``, difference) cut by a 100 m square
  lattice (``overlay`` again), each piece a new cell numbered after its
  community's highest; the cells written by ``to_file``. No sliver merge, no
  barriers, no ID record: what a script does in an afternoon.

Rows are the package's cells; notes: the cells written, and those new.

    python benchmarks/bench_recut.py
"""

from __future__ import annotations

import time
from pathlib import Path

from _children import run_benchmark

CASES = ("cambridge",)
DAY = "2026-11-25"
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def _moved():
    """The Cambridge package with a boundary moved in its units layer (made once)."""
    from bench_components import CACHE

    path = CACHE / "cambridge_moved.gpkg"
    if path.exists():
        return path
    import geopandas as gpd
    import pyogrio
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    CACHE.mkdir(parents=True, exist_ok=True)
    work = path.with_suffix(".part.gpkg")
    made = CliRunner().invoke(cli, ["grid", "units", str(SAMPLES / "cambridge_neighborhoods.gpkg"), "--provisional",
                                    "--parent-code", "990101", "--name-field", "NAME", "--barriers",
                                    str(SAMPLES / "cambridge_centerlines.gpkg"), "-o", str(work), "--overwrite"])
    assert made.exit_code == 0, made.output
    units = gpd.read_file(work, layer="units").set_index("code")
    north, highlands = units.geometry["990101900600"], units.geometry["990101900602"]
    bite = highlands.intersection(north.intersection(highlands).centroid.buffer(150))
    units.loc["990101900600", "geometry"] = north.union(bite)
    units.loc["990101900602", "geometry"] = highlands.difference(bite)
    pyogrio.write_dataframe(units.reset_index(), work, layer="units", driver="GPKG")
    work.rename(path)
    return path


def prepare(case):
    _moved()


def _out(peer):
    from bench_components import CACHE

    path = CACHE / f"recut_{peer}.gpkg"
    path.unlink(missing_ok=True)
    return path


def run_gridkit(case):
    import gridkit as gk
    from gridkit.io import read_vector
    from gridkit.rebalance import communities_of
    from gridkit.recut import recut

    source, out = _moved(), _out("gridkit")
    t = time.perf_counter()
    cells, units, meta = gk.read_package(source)
    communities = communities_of(cells, units)
    barriers = read_vector(SAMPLES / "cambridge_centerlines.gpkg")
    done = recut(cells, communities, barriers=barriers, start_date=DAY)
    gk.write_package(out, done.cells, communities, extra_layers={"ended_grids": done.ended},
                     extra_metadata={"highest_issued": done.issued})
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(cells), "written": len(done.cells), "new": len(done.summary["new_ids"])}


def run_geopandas(case):
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    source, out = _moved(), _out("geopandas")
    t = time.perf_counter()
    cells = gpd.read_file(source, layer="cells", engine="pyogrio", use_arrow=True)
    units = gpd.read_file(source, layer="units", engine="pyogrio", use_arrow=True)
    communities = units[units["level"] == "community"][["code", "geometry"]]
    cut = gpd.overlay(cells, communities, how="intersection", keep_geom_type=True)
    cut = cut[cut["community_code"] == cut["code"]].drop(columns="code")
    left = gpd.overlay(communities, cut.dissolve("community_code").reset_index()[["geometry"]], how="difference")
    left = left[left.area > 1]  # the overlay's crumbs along kept edges
    x0, y0, x1, y1 = left.total_bounds
    xs, ys = np.arange(x0 // 100 * 100, x1, 100), np.arange(y0 // 100 * 100, y1, 100)
    lattice = gpd.GeoDataFrame(geometry=[shapely.box(x, y, x + 100, y + 100) for x in xs for y in ys], crs=cells.crs)
    new = gpd.overlay(left, lattice, how="intersection", keep_geom_type=True)
    new = new.explode(ignore_index=True).rename(columns={"code": "community_code"})
    highest = cells.groupby("community_code")["grid_id"].max().astype("int64")
    new["grid_id"] = (highest.reindex(new["community_code"]).to_numpy()
                      + new.groupby("community_code").cumcount().to_numpy() + 1).astype(str)
    now = pd.concat([cut, new], ignore_index=True)
    now.to_file(out, layer="cells", driver="GPKG", engine="pyogrio")
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(cells), "written": len(now), "new": len(new)}


PEERS = {"gridkit": run_gridkit, "geopandas": run_geopandas}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("written", "new"))
