"""Reading a GPS receiver's NMEA log into fixes (``gridkit locate/patrol LOG.nmea``)
against the pynmea2 script, same run.

Case:

``day``  a day's log at one fix a second: the sample patrol walk
         (``data/samples/cambridge_patrol.gpx``, its first worker) walked again
         and again, its 10 s fixes interpolated to 1 s, 86,400 epochs of
         ``$GNRMC``, ``$GNGGA`` and a ``$GPGSV`` each: 259,200 lines (seeded,
         built once under ``results/cache``).
``week`` the same walk on for a week: 604,800 epochs, 1,814,400 lines (127 MB).

Both peers read the log and give a frame of one fix per epoch with its UTC time,
lon/lat in decimal degrees, fix quality and satellites, the checksums checked:

* ``gridkit``: :func:`gridkit.nmea.read_nmea`, what ``gridkit locate`` and
  ``gridkit patrol`` read a ``.nmea`` with.
* ``pynmea2``: the script a GIS analyst writes: ``pynmea2.parse(line,
  check=True)`` line by line, RMC and GGA kept as dicts, then a pandas merge of
  the two on their time (``pip install pynmea2``; in the ``bench`` extra).

``fixes`` is the fixes given a position: the same in both when they agree.

    python benchmarks/bench_nmea.py
    python benchmarks/bench_nmea.py --only week
"""

from __future__ import annotations

import time
from functools import reduce
from pathlib import Path

from _children import run_benchmark

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / "results" / "cache"
CASES = {"day": "day", "week": "week"}
DAYS = {"day": 1, "week": 7}


def _log(case):
    return CACHE / f"nmea_{case}.nmea"


def _sentence(body):
    return f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}"


def prepare(case):
    """The case's log, built once."""
    import numpy as np
    import pandas as pd
    import pyogrio

    if _log(case).exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    track = pyogrio.read_dataframe(ROOT / "data" / "samples" / "cambridge_patrol.gpx", layer="track_points")
    track = track[track["track_fid"] == 0]
    step = np.arange(len(track) * 10 - 9) / 10  # the 10 s fixes at 1 s
    walk_x = np.interp(step, np.arange(len(track)), track.geometry.x.to_numpy())
    walk_y = np.interp(step, np.arange(len(track)), track.geometry.y.to_numpy())
    k = np.arange(86_400 * DAYS[case])
    there = np.where((k // len(step)) % 2 == 0, k % len(step), len(step) - 1 - k % len(step))  # there and back
    x, y = walk_x[there], walk_y[there]
    times = pd.Timestamp("2026-11-20 00:00:00") + pd.to_timedelta(k, unit="s")
    lines = []
    for lon, lat, hms, date in zip(x, y, times.strftime("%H%M%S") + ".00", times.strftime("%d%m%y")):
        la = f"{int(lat):02d}{(lat - int(lat)) * 60:07.4f},N"
        lo = f"{int(-lon):03d}{(-lon - int(-lon)) * 60:07.4f},W"
        lines.append(_sentence(f"GNRMC,{hms},A,{la},{lo},2.7,85.3,{date},,,A"))
        lines.append(_sentence(f"GNGGA,{hms},{la},{lo},1,12,0.9,15.2,M,-33.1,M,,"))
        lines.append(_sentence("GPGSV,3,1,12,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45"))
    _log(case).write_text("\r\n".join(lines) + "\r\n")


def run_gridkit(case):
    from gridkit.nmea import read_nmea

    t = time.perf_counter()
    fixes = read_nmea(_log(case))
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(fixes), "fixes": int(fixes["lon"].notna().sum())}


def run_pynmea2(case):
    import pandas as pd
    import pynmea2

    t = time.perf_counter()
    rmc, gga = [], []
    with open(_log(case), encoding="ascii", errors="replace") as f:
        for line in f:
            try:
                sentence = pynmea2.parse(line.strip(), check=True)
            except pynmea2.ParseError:
                continue
            if sentence.sentence_type == "RMC" and sentence.status == "A":
                rmc.append({"time": sentence.datetime, "lon": sentence.longitude, "lat": sentence.latitude})
            elif sentence.sentence_type == "GGA":
                gga.append({"timestamp": sentence.timestamp, "quality": sentence.gps_qual,
                            "satellites": sentence.num_sats})
    rmc, gga = pd.DataFrame(rmc), pd.DataFrame(gga)
    rmc["timestamp"] = rmc["time"].dt.time
    fixes = rmc.merge(gga.drop_duplicates("timestamp"), on="timestamp", how="left")
    seconds = time.perf_counter() - t
    return seconds, {"rows": len(fixes), "fixes": int(fixes["lon"].notna().sum())}


PEERS = {"gridkit": run_gridkit, "pynmea2": run_pynmea2}

if __name__ == "__main__":
    run_benchmark(__doc__, __file__, CASES, PEERS, prepare=prepare, notes=("fixes",), rate="M fixes/s")
