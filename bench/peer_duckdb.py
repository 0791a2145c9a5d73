#!/usr/bin/env python3
"""DuckDB peer: classifies the points of a CSV (lon, lat, time) under the agreement.

    peer_duckdb.py POINTS.csv [--agreement agreement.toml] [--variant buffer|dwithin|distance]
                   [--quad-segs 256] [--threads K] [--explain]

DuckDB 1.4.4 with its spatial extension taken from the PyPI package `duckdb-ext-spatial`
(matching version), loaded from that package's file (`LOAD '<path>'`); nothing is downloaded
(`INSTALL spatial` would). In-memory database, all cores. load_s = read_csv into a table
(lon, lat, time as TIMESTAMPTZ); build_s = loading the geometry, projecting the contact line and,
for --variant buffer, buffering it; query_s = the classification query.

Definitions (see README.md):
  side     ST_Covers(control, ST_Point(lon, lat)), planar lon/lat (exact per replay.md).
  distance NOT the sphere: ST_Transform of points and line to an azimuthal equidistant
           projection on the sphere R = 6,371,008.8 m centred on the contact line's bounding box
           (always_xy), planar distances there (about +0.05 % scale error across the sample line;
           straight segments, not great-circle arcs).
  zone     --variant buffer (default, fastest): ST_Covers(ST_Buffer(line, upper_m, quad_segs),
           point) per band; the buffer's arcs are chords, inside the true band by at most
           upper_m * (1 - cos(pi / (4 * quad_segs))) (0.9 m at 50 km with 256);
           --variant dwithin: ST_DWithin(line, point, upper_m) per band;
           --variant distance: ST_Distance(line, point) compared with the bands.

If duckdb or the spatial extension package is missing, exits with code 3.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TOOL = "duckdb"
WANT = "1.4.4"

try:
    import duckdb
except ImportError as e:
    common.unavailable(TOOL, f"{e} (pip install duckdb=={WANT} duckdb-ext-spatial=={WANT}.*)")


def spatial_extension_path() -> str:
    """The extension file shipped by the PyPI package duckdb-ext-spatial: it installs
    `duckdb_ext/extensions/v<duckdb version>/<platform>/spatial.duckdb_extension` into
    site-packages (a namespace package `duckdb_ext`, no module code)."""
    try:
        import duckdb_ext
    except ImportError:
        common.unavailable(TOOL, f"spatial extension package missing (pip install duckdb-ext-spatial=={duckdb.__version__}.*)")
    version = duckdb.__version__ if duckdb.__version__.startswith("v") else "v" + duckdb.__version__
    for base in list(duckdb_ext.__path__):
        hits = sorted(glob.glob(os.path.join(base, "extensions", version, "*", "spatial.duckdb_extension")))
        if hits:
            return hits[0]
    common.unavailable(TOOL, f"no spatial.duckdb_extension for duckdb {version} in {list(duckdb_ext.__path__)}")


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("points")
    ap.add_argument("--agreement", default=None)
    ap.add_argument("--variant", choices=["buffer", "dwithin", "distance"], default="buffer")
    ap.add_argument("--quad-segs", type=int, default=256)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--explain", action="store_true")
    args = ap.parse_args()

    agreement = common.load_agreement(args.agreement)
    agreement.check_zones_contiguous()
    ext = spatial_extension_path()
    con = duckdb.connect(config={
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "threads": args.threads,
    })
    try:
        con.execute(f"LOAD {sql_str(ext)}")
    except duckdb.Error as e:
        common.unavailable(TOOL, f"cannot load {ext}: {e}")

    header = common.csv_header(Path(args.points))
    for c in ("lon", "lat", "time"):
        if c not in header:
            raise SystemExit(f"{args.points}: header must have lon, lat, time columns, has {header}")
    types = ", ".join(f"{sql_str(c)}: {sql_str({'lon': 'DOUBLE', 'lat': 'DOUBLE'}.get(c, 'VARCHAR'))}" for c in header)

    t0 = time.perf_counter()
    con.execute(
        f"CREATE TABLE pts AS SELECT lon, lat, CAST(\"time\" AS TIMESTAMPTZ) AS t "
        f"FROM read_csv({sql_str(str(Path(args.points).resolve()))}, header = true, columns = {{{types}}})"
    )
    n = con.execute("SELECT count(*) FROM pts").fetchone()[0]
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    proj = common.aeqd_proj4(agreement)
    con.execute(
        "CREATE TABLE geo AS SELECT ST_GeomFromGeoJSON(?) AS control, "
        "ST_Transform(ST_GeomFromGeoJSON(?), 'EPSG:4326', ?, always_xy := true) AS line",
        [agreement.control_geojson(), agreement.contact_line_geojson(), proj],
    )
    if args.variant == "buffer":
        bufs = ", ".join(f"ST_Buffer(line, {z.upper_m!r}, {args.quad_segs}) AS b{i}" for i, z in enumerate(agreement.zones))
        con.execute(f"CREATE TABLE buf AS SELECT {bufs} FROM geo")
    build_s = time.perf_counter() - t0

    inside, outside = (sql_str(p) for p in agreement.party_ids)
    where = f"t >= TIMESTAMPTZ {sql_str(agreement.effective_at.isoformat())}"
    if agreement.expires_at:
        where += f" AND t < TIMESTAMPTZ {sql_str(agreement.expires_at.isoformat())}"
    point_p = f"ST_Transform(ST_Point(lon, lat), 'EPSG:4326', {sql_str(proj)}, always_xy := true)"
    if args.variant == "buffer":
        arms = " ".join(f"WHEN ST_Covers(b.b{i}, p) THEN {sql_str(z.id)}" for i, z in enumerate(agreement.zones))
        zone = f"CASE {arms} ELSE 'outside' END"
        frm = "buf b"
    elif args.variant == "dwithin":
        arms = " ".join(f"WHEN ST_DWithin(g.line, p, {z.upper_m!r}) THEN {sql_str(z.id)}" for z in agreement.zones)
        zone = f"CASE {arms} ELSE 'outside' END"
        frm = "geo g"
    if args.variant in ("buffer", "dwithin"):
        q = f"""
SELECT side, zone, count(*) FROM (
  SELECT CASE WHEN ST_Covers(c.control, ST_Point(lon, lat)) THEN {inside} ELSE {outside} END AS side,
         {zone} AS zone
  FROM (SELECT lon, lat, {point_p} AS p FROM pts WHERE {where}) x, geo c, {frm}
) s GROUP BY side, zone"""
    else:
        # one ST_Distance per point, then the bands
        arms = " ".join(f"WHEN d <= {z.upper_m!r} THEN {sql_str(z.id)}" for z in agreement.zones)
        q = f"""
SELECT side, zone, count(*) FROM (
  SELECT side, CASE {arms} ELSE 'outside' END AS zone FROM (
    SELECT CASE WHEN ST_Covers(c.control, ST_Point(lon, lat)) THEN {inside} ELSE {outside} END AS side,
           ST_Distance(c.line, {point_p}) AS d
    FROM pts, geo c WHERE {where}
  ) y
) s GROUP BY side, zone"""
    if args.explain:
        print(con.execute("EXPLAIN " + q).fetchall()[0][1], file=sys.stderr)

    t0 = time.perf_counter()
    rows = con.execute(q).fetchall()
    query_s = time.perf_counter() - t0
    counts = agreement.empty_counts()
    for side, zone, k in rows:
        counts[side][zone] = int(k)
    spatial_version = con.execute(
        "SELECT extension_version FROM duckdb_extensions() WHERE extension_name = 'spatial'"
    ).fetchone()[0]
    common.emit(
        TOOL, n, load_s, query_s, counts, build_s=round(build_s, 6), variant=args.variant,
        quad_segs=args.quad_segs if args.variant == "buffer" else None, threads=args.threads,
        projection=proj, version=f"duckdb {duckdb.__version__}, spatial {spatial_version}",
    )


if __name__ == "__main__":
    main()
