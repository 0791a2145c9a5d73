#!/usr/bin/env python3
"""Shapely 2 peer: classifies the points of a CSV (lon, lat, time) under the agreement.

    peer_shapely.py POINTS.csv [--agreement agreement.toml] [--workers K]
                    [--variant buffer|dwithin] [--quad-segs 256] [--side intersects_xy|covers]

Vectorised GEOS through Shapely 2, prepared geometries; the points are split into K chunks run
in K forked worker processes (default: all cores; threads do not scale here because
shapely.points and shapely.dwithin hold the GIL). load_s = reading the CSV into numpy arrays;
build_s = preparing the geometry (projection of the line and, for --variant buffer, buffering
it); query_s = everything from the arrays to the counts, including the workers' start.

Definitions (see README.md):
  side     planar lon/lat, prepared control MultiPolygon. Default `intersects_xy` (GEOS
           prepared intersects on raw x/y, no point objects), which for a point and a polygon
           is the same predicate as `covers` (interior or boundary); `--side covers` builds
           point geometries and calls shapely.covers. Exact per replay.md.
  distance NOT the sphere: points and contact line are projected (pyproj) to an azimuthal
           equidistant projection on the sphere R = 6,371,008.8 m centred on the contact line's
           bounding box, and the planar distance is used. Scale error grows with the distance
           from the centre (about +0.05 % across the sample line, i.e. metres at the 15/50 km
           edges); projected segments are straight lines, not great-circle arcs.
  zone     --variant buffer (default, fastest): prepared shapely.intersects_xy(buffer(line,
           upper_m, quad_segs), x, y) per band, on the projected coordinates without building
           point objects; the buffer's arcs are chords, inside the true band by at most
           upper_m * (1 - cos(pi / (4 * quad_segs))) (0.9 m at 50 km with 256);
           --variant dwithin: prepared shapely.dwithin(line, point, upper_m) per band.
           Either way a point is tested against the next band only if not yet placed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TOOL = "shapely"
_WORK = None


def _run(sl):
    return _WORK(sl)

try:
    import numpy as np
    import pyproj
    import shapely
except ImportError as e:  # pragma: no cover
    common.unavailable(TOOL, f"{e} (pip install numpy shapely pyproj)")

if tuple(int(x) for x in shapely.__version__.split(".")[:2]) < (2, 1):
    common.unavailable(TOOL, f"shapely {shapely.__version__} is too old (need >= 2.1 for dwithin)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("points")
    ap.add_argument("--agreement", default=None)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--side", choices=["intersects_xy", "covers"], default="intersects_xy")
    ap.add_argument("--variant", choices=["buffer", "dwithin"], default="buffer")
    ap.add_argument("--quad-segs", type=int, default=256)
    args = ap.parse_args()

    agreement = common.load_agreement(args.agreement)
    agreement.check_zones_contiguous()

    t0 = time.perf_counter()
    lon, lat, epoch = common.read_points_numpy(Path(args.points))
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    proj = common.aeqd_proj4(agreement)
    control = shapely.from_geojson(agreement.control_geojson())
    shapely.prepare(control)
    line = shapely.from_geojson(agreement.contact_line_geojson())
    to_plane = pyproj.Transformer.from_crs("EPSG:4326", proj, always_xy=True)
    line_p = shapely.transform(line, lambda c: np.column_stack(to_plane.transform(c[:, 0], c[:, 1])))
    shapely.prepare(line_p)
    uppers = [z.upper_m for z in agreement.zones]
    nz = len(uppers)
    buffers = []
    if args.variant == "buffer":
        buffers = [shapely.buffer(line_p, u, quad_segs=args.quad_segs) for u in uppers]
        for b in buffers:
            shapely.prepare(b)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()

    def work(sl: slice):
        x, y = lon[sl], lat[sl]
        if args.side == "covers":
            inside = shapely.covers(control, shapely.points(x, y))
        else:
            inside = shapely.intersects_xy(control, x, y)
        px, py = to_plane.transform(x, y)
        zone = np.full(len(x), nz, dtype=np.int8)
        todo = np.arange(len(x))
        if args.variant == "buffer":
            for zi, b in enumerate(buffers):
                hit = shapely.intersects_xy(b, px[todo], py[todo])
                zone[todo[hit]] = zi
                todo = todo[~hit]
        else:
            pts = shapely.points(px, py)
            for zi, upper in enumerate(uppers):
                hit = shapely.dwithin(line_p, pts[todo], upper)
                zone[todo[hit]] = zi
                todo = todo[~hit]
        return inside, zone

    n = len(lon)
    k = max(1, min(args.workers, n // 10_000 or 1))
    bounds = np.linspace(0, n, k + 1).astype(int)
    slices = [slice(bounds[i], bounds[i + 1]) for i in range(k)]
    if k == 1:
        parts = [work(slices[0])]
    else:
        global _WORK
        _WORK = work  # inherited by the forked workers, with the arrays and geometries
        with multiprocessing.get_context("fork").Pool(k) as pool:
            parts = pool.map(_run, slices)
    inside = np.concatenate([p[0] for p in parts])
    zone = np.concatenate([p[1] for p in parts])
    counts = common.counts_from_codes(agreement, inside, zone, common.counted_mask(agreement, epoch))
    query_s = time.perf_counter() - t0
    common.emit(
        TOOL, n, load_s, query_s, counts, build_s=round(build_s, 6), variant=args.variant,
        quad_segs=args.quad_segs if args.variant == "buffer" else None, workers=k, side=args.side,
        projection=proj,
        version=f"shapely {shapely.__version__}, GEOS {shapely.geos_version_string}, pyproj {pyproj.__version__}",
    )


if __name__ == "__main__":
    main()
