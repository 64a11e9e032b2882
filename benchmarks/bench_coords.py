"""GCJ-02 → WGS84 on 1 M points: gridkit's iterated inverse against TransBigData's.

    python benchmarks/bench_coords.py
Reports points/s and the worst round-trip error in metres for each.
"""

import time

import numpy as np

from gridkit import coords

M_PER_DEG = 111_320.0


def main(n=1_000_000):
    import transbigdata as tbd

    rng = np.random.default_rng(0)
    x, y = rng.uniform(73, 135, n), rng.uniform(18, 53, n)
    gx, gy = coords.wgs84_to_gcj02(x, y)
    rows = []
    for name, inverse in [("gridkit.gcj02_to_wgs84", coords.gcj02_to_wgs84),
                          ("transbigdata.gcj02towgs84", tbd.gcj02towgs84)]:
        inverse(gx[:1000], gy[:1000])  # warm up
        t = time.perf_counter()
        wx, wy = inverse(gx, gy)
        seconds = time.perf_counter() - t
        err = np.max(np.hypot(np.asarray(wx) - x, np.asarray(wy) - y)) * M_PER_DEG
        rows.append((name, n / seconds / 1e6, err))
    print(f"{'inverse':28s} {'M points/s':>10s} {'max error m':>12s}")
    for name, rate, err in rows:
        print(f"{name:28s} {rate:10.2f} {err:12.6f}")


if __name__ == "__main__":
    main()
