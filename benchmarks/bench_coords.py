"""China's web-map coordinates to WGS84 on 1 M points: gridkit against TransBigData, same points, same run.

Cases (each peer in a fresh process, so time and peak memory are its own):

* ``gcj02``: GCJ-02 lon/lat → WGS84. gridkit's iterated inverse against
  ``transbigdata.gcj02towgs84`` (the one-step inverse).
* ``bd09mc``: BD-09 Mercator, Baidu's metres → WGS84. gridkit's ``bd09mc_to_wgs84``
  (PROJ's Mercator on Clarke 1866, then the iterated BD-09 inverse) against
  ``transbigdata.bd09mctobd09`` (Baidu's polynomial tables) then ``bd09towgs84``.

The points are uniform over China's box (73–135°E, 18–53°N), made in WGS84 and
converted forward by gridkit before any timing; the note is the worst distance in
metres from the WGS84 point each peer gives back to the one it started as.

    python benchmarks/bench_coords.py
    python benchmarks/bench_coords.py --only bd09mc
"""

from __future__ import annotations

import time

import numpy as np

from _children import run_benchmark

N = 1_000_000
M_PER_DEG = 111_320.0
CASES = {"gcj02": "GCJ-02 lon/lat", "bd09mc": "BD-09 Mercator metres"}


def _points(case):
    from gridkit import coords

    rng = np.random.default_rng(0)
    x, y = rng.uniform(73, 135, N), rng.uniform(18, 53, N)
    forward = coords.wgs84_to_gcj02 if case == "gcj02" else coords.wgs84_to_bd09mc
    return (x, y), forward(x, y)


def _timed(case, inverse):
    (x, y), (cx, cy) = _points(case)
    inverse(cx[:1000], cy[:1000])  # warm up
    t = time.perf_counter()
    wx, wy = inverse(cx, cy)
    seconds = time.perf_counter() - t
    error = np.max(np.hypot(np.asarray(wx) - x, np.asarray(wy) - y)) * M_PER_DEG
    return seconds, {"rows": N, "max_error_m": float(error)}


def run_gridkit(case):
    from gridkit import coords

    return _timed(case, coords.gcj02_to_wgs84 if case == "gcj02" else coords.bd09mc_to_wgs84)


def run_transbigdata(case):
    import transbigdata as tbd

    if case == "gcj02":
        return _timed(case, tbd.gcj02towgs84)
    import pandas as pd

    # bd09mctobd09 takes a Series or one number (a numpy array fails its branch on sign)
    return _timed(case, lambda x, y: tbd.bd09towgs84(*tbd.bd09mctobd09(pd.Series(x), pd.Series(y))))


if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, {"gridkit": run_gridkit, "transbigdata": run_transbigdata},
                  notes=("max_error_m",), rate="M pts/s")
