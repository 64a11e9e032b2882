"""Simulated patrols along real streets: grid workers walking Cambridge's centre lines.

No real patrol logs are public, so the patrol sample and the patrol benchmark walk
the city's real street centre lines (``data/samples/cambridge_centerlines.gpkg``):
each worker starts at a random junction and walks at 1.2–1.6 m/s, turning at each
junction onto a random other street (back only at a dead end), and the GPS logs a
fix every few seconds with 3 m of noise. Some units lose the sky for a while (a
break) and log one fix hundreds of metres off (a jump), as real ones do.

    python benchmarks/_tracks.py            # writes data/samples/cambridge_patrol.gpx
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
CENTRE_LINES = HERE.parent / "data" / "samples" / "cambridge_centerlines.gpkg"


def street_graph(lines):
    """``(ends, edges)``: each line's two end junctions (rows of rounded end points) and, per junction, the
    lines that meet there."""
    starts = shapely.get_coordinates(shapely.get_point(lines, 0))
    stops = shapely.get_coordinates(shapely.get_point(lines, -1))
    keys, junction = np.unique(np.round(np.vstack([starts, stops]), 1), axis=0, return_inverse=True)
    ends = junction.reshape(2, -1).T
    meeting = [[] for _ in range(len(keys))]
    for line, (a, b) in enumerate(ends):
        meeting[a].append(line)
        meeting[b].append(line)
    return ends, meeting


def street_walks(lines, *, workers, hours, every_s=5.0, seed=0, start="2026-11-20 08:00:00"):
    """A DataFrame of fixes (``worker``, ``time``, ``x``, ``y`` in the lines' metric CRS), ``workers``
    walks of ``hours`` each along ``lines`` (a numpy array of LineStrings)."""
    rng = np.random.default_rng(seed)
    ends, meeting = street_graph(lines)
    length = shapely.length(lines)
    frames = []
    for worker in range(workers):
        speed = rng.uniform(1.2, 1.6)
        junction = int(rng.choice(np.flatnonzero([len(m) > 0 for m in meeting])))
        came, walked, path = -1, 0.0, []
        total = hours * 3600 * speed
        while walked < total:
            options = [line for line in meeting[junction] if line != came] or meeting[junction]
            line = int(rng.choice(options))
            forward = ends[line, 0] == junction
            path.append((line, forward, walked))
            walked += length[line]
            junction, came = int(ends[line, 1] if forward else ends[line, 0]), line
        t = np.arange(0.0, hours * 3600, every_s)
        at = t * speed
        leg = np.searchsorted([p[2] for p in path], at, side="right") - 1
        legs = np.array([p[0] for p in path])[leg]
        forward = np.array([p[1] for p in path])[leg]
        into = at - np.array([p[2] for p in path])[leg]
        into = np.where(forward, into, length[legs] - into)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(lines[legs], into))
        xy += rng.normal(0.0, 3.0, xy.shape)
        keep = np.ones(len(t), dtype=bool)
        if rng.random() < 0.5:  # the unit loses the sky for 6–15 minutes
            off = rng.uniform(0.2, 0.7) * hours * 3600
            keep &= (t < off) | (t > off + rng.uniform(360, 900))
        if rng.random() < 0.5:  # one multipath fix hundreds of metres off
            xy[rng.integers(len(t))] += rng.uniform(300, 800, 2) * rng.choice([-1, 1], 2)
        frames.append(pd.DataFrame({"worker": f"W{worker + 1:03d}", "time": pd.Timestamp(start) + pd.to_timedelta(
            t[keep], unit="s"), "x": xy[keep, 0], "y": xy[keep, 1]}))
    return pd.concat(frames, ignore_index=True)


def cambridge_walks(**walks):
    """:func:`street_walks` along Cambridge's centre lines; x/y in its metric CRS (EPSG:32619)."""
    import geopandas as gpd

    lines = gpd.read_file(CENTRE_LINES).to_crs(32619)
    lines = shapely.get_parts(shapely.line_merge(lines.geometry.values))
    return street_walks(lines[shapely.length(lines) > 0], **walks)


def write_gpx(fixes, path, crs=32619):
    """``fixes`` as a GPX file: a track per worker, times in UTC (Cambridge: UTC−5 in November)."""
    import pyproj

    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(fixes["x"], fixes["y"])
    utc = (fixes["time"] + pd.Timedelta(hours=5)).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gpx version="1.1" creator="gridkit benchmarks/_tracks.py (simulated along real streets)" '
           'xmlns="http://www.topografix.com/GPX/1/1">']
    for worker, rows in fixes.groupby("worker", sort=True).groups.items():
        out.append(f"  <trk><name>{worker}</name><trkseg>")
        out += [f'    <trkpt lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"><time>{utc[i]}</time></trkpt>' for i in rows]
        out.append("  </trkseg></trk>")
    out.append("</gpx>")
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sample = HERE.parent / "data" / "samples" / "cambridge_patrol.gpx"
    write_gpx(cambridge_walks(workers=3, hours=1.0, every_s=10.0, seed=2028), sample)
    print(sample, f"{sample.stat().st_size:,} bytes")
