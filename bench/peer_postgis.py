#!/usr/bin/env python3
"""PostGIS peer: classifies the points of a CSV (lon, lat, time) under the agreement.

    peer_postgis.py POINTS.csv [--agreement agreement.toml] [--variant dwithin|distance]
                    [--explain] [--no-install] [--keep]

Starts a private PostgreSQL cluster (initdb into a temporary folder, listening on 127.0.0.1 at a
free port, unix socket in that folder), loads the points with COPY and the geometry, runs the
classification once and prints one JSON line. The cluster is stopped and its folder removed at
the end, also on errors and signals. Only the classification query is timed (query_s); load_s
covers COPY, building the point table, VACUUM ANALYZE and loading the geometry.

Definitions (see README.md):
  side     ST_Covers(control, point) on planar geometry, SRID 4326 (exact per replay.md)
  distance geography on PostGIS's sphere (use_spheroid = false: radius (2a+b)/3 of WGS 84 =
           6,371,008.771 m; replay.md says 6,371,008.8 m: 4.5e-9 relative, 0.2 mm at 50 km);
           geography edges are great-circle arcs, as in replay.md.
  zone     --variant distance (default): ST_Distance(line, point, false) compared with the
           bands; --variant dwithin: ST_DWithin(line, point, upper_m, false) per band, first band
           that holds. Both are exact; distance is the faster here (one tree walk per point).

If PostgreSQL or PostGIS is missing and cannot be installed with apt-get, exits with code 3.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TOOL = "postgis"
APT_PACKAGES = ["postgresql", "postgresql-15-postgis-3"]


def log(msg: str) -> None:
    print(f"{TOOL}: {msg}", file=sys.stderr, flush=True)


def pg_bindir() -> Path | None:
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if cands:
        return Path(cands[-1]).parent
    exe = shutil.which("postgres")
    return Path(exe).resolve().parent if exe else None


def has_postgis(bindir: Path) -> bool:
    try:
        share = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        share = str(Path("/usr/share/postgresql") / bindir.parts[-2])
    return (Path(share) / "extension" / "postgis.control").is_file()


def ensure_installed(allow_install: bool) -> Path:
    bindir = pg_bindir()
    if bindir and (bindir / "initdb").exists() and has_postgis(bindir):
        return bindir
    if not allow_install:
        common.unavailable(TOOL, "PostgreSQL with PostGIS not installed (and --no-install)")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        common.unavailable(TOOL, f"PostgreSQL/PostGIS missing; install Debian packages {' '.join(APT_PACKAGES)}")
    log(f"installing {' '.join(APT_PACKAGES)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_PACKAGES]
    r = subprocess.run(cmd, env=env, stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=sys.stderr, stderr=sys.stderr)
        r = subprocess.run(cmd, env=env, stdout=sys.stderr, stderr=sys.stderr)
    bindir = pg_bindir()
    if r.returncode != 0 or not bindir or not has_postgis(bindir):
        common.unavailable(TOOL, f"apt-get install {' '.join(APT_PACKAGES)} failed")
    return bindir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throw-away cluster; the postmaster runs in the foreground as our child, so that
    /usr/bin/time around this script sees the server processes' peak RSS too."""

    def __init__(self, bindir: Path, keep: bool = False):
        self.bindir = bindir
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="truce-bench-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.user_prefix: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            import pwd

            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                common.unavailable(TOOL, "running as root but there is no 'postgres' user to run the server")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.user_prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--"]

    def start(self) -> None:
        subprocess.run(
            [*self.user_prefix, str(self.bindir / "initdb"), "-D", str(self.data), "-U", "bench",
             "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"],
            check=True, stdout=subprocess.DEVNULL, stderr=sys.stderr,
        )
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.dir),
            "shared_buffers": "2GB",
            "work_mem": "256MB",
            "maintenance_work_mem": "1GB",
            "max_wal_size": "8GB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "wal_level": "minimal",
            "max_wal_senders": "0",
            "autovacuum": "off",
            "jit": "off",
            "max_worker_processes": "8",
            "max_parallel_workers": "8",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        args = [x for k, v in settings.items() for x in ("-c", f"{k}={v}")]
        self.proc = subprocess.Popen(
            [*self.user_prefix, str(self.bindir / "postgres"), "-D", str(self.data), *args],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "server.log", "wb"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.dir / 'server.log').read_text()[-2000:]}")
            r = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", str(self.dir), "-p", str(self.port)])
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not become ready in 60 s")

    def psql(self, sql: str) -> str:
        r = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1",
             "-h", str(self.dir), "-p", str(self.port), "-U", "bench", "-d", "postgres"],
            input=sql, capture_output=True, text=True,
        )
        if r.returncode != 0:
            raise RuntimeError(f"psql failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.keep:
            log(f"kept cluster folder {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def load_sql(points: Path, agreement: common.Agreement) -> str:
    header = common.csv_header(points)
    for c in ("lon", "lat", "time"):
        if c not in header:
            raise SystemExit(f"{points}: header must have lon, lat, time columns, has {header}")
    types = {"lon": "float8", "lat": "float8", "time": "timestamptz"}
    cols = ", ".join(f'"{c}" {types.get(c, "text")}' for c in header)
    path = str(points.resolve()).replace("'", "''")
    return f"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE UNLOGGED TABLE stage ({cols});
\\copy stage FROM '{path}' WITH (FORMAT csv, HEADER true)
CREATE UNLOGGED TABLE pts AS
  SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geometry(Point, 4326) AS g, "time" AS t FROM stage;
DROP TABLE stage;
ALTER TABLE pts SET (parallel_workers = 2);
VACUUM ANALYZE pts;
CREATE TABLE geo (control geometry(MultiPolygon, 4326), line geography(MultiLineString, 4326));
INSERT INTO geo VALUES (
  ST_SetSRID(ST_GeomFromGeoJSON({sql_str(agreement.control_geojson())}), 4326),
  ST_SetSRID(ST_GeomFromGeoJSON({sql_str(agreement.contact_line_geojson())}), 4326)::geography);
ANALYZE geo;
SELECT count(*) FROM pts;
"""


def query_sql(agreement: common.Agreement, variant: str) -> str:
    agreement.check_zones_contiguous()
    inside, outside = (sql_str(p) for p in agreement.party_ids)
    control = "(SELECT control FROM geo)"
    line = "(SELECT line FROM geo)"
    where = f"p.t >= {sql_str(agreement.effective_at.isoformat())}"
    if agreement.expires_at:
        where += f" AND p.t < {sql_str(agreement.expires_at.isoformat())}"
    if variant == "dwithin":
        arms = " ".join(
            f"WHEN ST_DWithin({line}, p.g::geography, {z.upper_m!r}, false) THEN {sql_str(z.id)}"
            for z in agreement.zones
        )
        return f"""
SELECT side, zone, count(*) FROM (
  SELECT CASE WHEN ST_Covers({control}, p.g) THEN {inside} ELSE {outside} END AS side,
         CASE {arms} ELSE 'outside' END AS zone
  FROM pts p WHERE {where}
) s GROUP BY side, zone"""
    if variant == "distance":
        arms = " ".join(f"WHEN d <= {z.upper_m!r} THEN {sql_str(z.id)}" for z in agreement.zones)
        # OFFSET 0 keeps the subquery from being flattened, which would copy ST_Distance into
        # every CASE arm.
        return f"""
SELECT side, zone, count(*) FROM (
  SELECT CASE WHEN inside THEN {inside} ELSE {outside} END AS side,
         CASE {arms} ELSE 'outside' END AS zone
  FROM (SELECT ST_Covers({control}, p.g) AS inside, ST_Distance({line}, p.g::geography, false) AS d
        FROM pts p WHERE {where} OFFSET 0) x
) s GROUP BY side, zone"""
    raise ValueError(variant)


SESSION = """
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = {leader};
SET jit = off;
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("points")
    ap.add_argument("--agreement", default=None)
    ap.add_argument("--variant", choices=["dwithin", "distance"], default="distance")
    ap.add_argument("--leader", choices=["on", "off"], default="on", help="parallel_leader_participation")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the query on stderr")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the cluster folder (debugging)")
    args = ap.parse_args()

    agreement = common.load_agreement(args.agreement)
    points = Path(args.points)
    bindir = ensure_installed(not args.no_install)
    cluster = Cluster(bindir, keep=args.keep)

    def on_signal(signum, _frame):
        cluster.stop()
        sys.exit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        cluster.start()
        t0 = time.perf_counter()
        n = int(cluster.psql(load_sql(points, agreement)).split()[-1])
        load_s = time.perf_counter() - t0
        session = SESSION.format(leader=args.leader)
        q = query_sql(agreement, args.variant)
        if args.explain:
            log("plan:\n" + cluster.psql(session + "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF) " + q + ";"))
        out = cluster.psql(
            session
            + "SELECT clock_timestamp() AS t0 \\gset q_\n"
            + q + ";\n"
            + "SELECT 'elapsed', extract(epoch FROM clock_timestamp() - :'q_t0'::timestamptz);\n"
        )
        counts = agreement.empty_counts()
        query_s = None
        for line in out.splitlines():
            parts = line.split("|")
            if parts[0] == "elapsed":
                query_s = float(parts[1])
            elif len(parts) == 3:
                counts[parts[0]][parts[1]] = int(parts[2])
        if query_s is None:
            raise RuntimeError(f"no timing in psql output: {out!r}")
        version = cluster.psql("SELECT postgis_lib_version() || ' / ' || current_setting('server_version');").strip()
    finally:
        cluster.stop()
    common.emit(TOOL, n, load_s, query_s, counts, variant=args.variant, version=version)


if __name__ == "__main__":
    main()
