"""Shared helpers for the benchmark scripts: locating the scenario, reading the agreement and
its geometry, reading the points CSV, and printing a peer's result line.

Only the standard library is imported here (numpy is imported lazily), so that every peer can
report a missing dependency itself with exit code 3.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent

# Exit code of a peer that cannot run here (tool not installable); the runner goes on.
EXIT_UNAVAILABLE = 3

# The sphere of replay.md.
EARTH_RADIUS_M = 6_371_008.8


def scenario_dir() -> Path:
    """`$TRUCE_SCENARIO`, else `data/scenario-2025-09` under the repository root."""
    env = os.environ.get("TRUCE_SCENARIO")
    if env:
        return Path(env).resolve()
    return REPO_ROOT / "data" / "scenario-2025-09"


def default_agreement() -> Path:
    return scenario_dir() / "agreement.toml"


def unavailable(tool: str, why: str) -> "NoReturn":  # noqa: F821
    print(f"{tool}: not available: {why}", file=sys.stderr)
    sys.exit(EXIT_UNAVAILABLE)


def parse_rfc3339(s: str) -> dt.datetime:
    s = s.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise ValueError(f"timestamp without offset: {s!r}")
    return t.astimezone(dt.timezone.utc)


@dataclass
class Zone:
    id: str
    lower_m: float
    upper_m: float


@dataclass
class Agreement:
    path: Path
    id: str
    effective_at: dt.datetime
    expires_at: dt.datetime | None
    inside_party: str
    outside_party: str
    zones: list[Zone]  # in file order; the first zone's lower bound is inclusive
    contact_line: list[list[tuple[float, float]]]  # LineStrings, lon/lat
    control: dict  # GeoJSON geometry (Polygon or MultiPolygon)

    @property
    def zone_ids(self) -> list[str]:
        return [z.id for z in self.zones] + ["outside"]

    @property
    def party_ids(self) -> list[str]:
        return [self.inside_party, self.outside_party]

    @property
    def effective_epoch(self) -> int:
        return int(self.effective_at.timestamp())

    def empty_counts(self) -> dict:
        return {p: {z: 0 for z in self.zone_ids} for p in self.party_ids}

    def check_zones_contiguous(self) -> None:
        """The peers' CASE expressions assume bands (0, u1], (u1, u2], ... as in the sample."""
        lo = 0.0
        for z in self.zones:
            if z.lower_m != lo or z.upper_m <= z.lower_m:
                raise ValueError(f"zone bands are not contiguous from 0: {self.zones}")
            lo = z.upper_m

    def control_geojson(self) -> str:
        return json.dumps(self.control)

    def contact_line_geojson(self) -> str:
        return json.dumps({"type": "MultiLineString", "coordinates": self.contact_line})


def _lines_of(geom: dict) -> list[list[tuple[float, float]]]:
    t = geom["type"]
    if t == "LineString":
        return [[(float(x), float(y)) for x, y, *_ in geom["coordinates"]]]
    if t == "MultiLineString":
        return [[(float(x), float(y)) for x, y, *_ in ls] for ls in geom["coordinates"]]
    if t == "GeometryCollection":
        return [ls for g in geom["geometries"] for ls in _lines_of(g)]
    raise ValueError(f"contact line geometry {t} is not a line")


def _geometry_of(doc: dict) -> list[dict]:
    t = doc["type"]
    if t == "FeatureCollection":
        return [f["geometry"] for f in doc["features"] if f.get("geometry")]
    if t == "Feature":
        return [doc["geometry"]]
    return [doc]


def load_contact_line(path: Path) -> list[list[tuple[float, float]]]:
    doc = json.loads(Path(path).read_text())
    return [ls for g in _geometry_of(doc) for ls in _lines_of(g)]


def load_control(path: Path) -> dict:
    doc = json.loads(Path(path).read_text())
    polys: list = []
    for g in _geometry_of(doc):
        if g["type"] == "Polygon":
            polys.append(g["coordinates"])
        elif g["type"] == "MultiPolygon":
            polys.extend(g["coordinates"])
        else:
            raise ValueError(f"control geometry {g['type']} is not a polygon")
    return {"type": "MultiPolygon", "coordinates": polys}


def load_agreement(path: str | os.PathLike | None = None) -> Agreement:
    path = Path(path) if path else default_agreement()
    if not path.is_file():
        raise SystemExit(
            f"agreement file {path} not found (set TRUCE_SCENARIO to the scenario folder "
            f"or pass --agreement)"
        )
    doc = tomllib.loads(path.read_text())
    parties = doc["party"]
    inside = [p["id"] for p in parties if p["side"] == "inside"]
    outside = [p["id"] for p in parties if p["side"] == "outside"]
    if len(inside) != 1 or len(outside) != 1:
        raise ValueError("agreement needs exactly one inside and one outside party")
    zones = [Zone(z["id"], float(z["band_m"][0]), float(z["band_m"][1])) for z in doc["zone"]]
    geo = doc["geometry"]
    base = path.parent
    expires = doc.get("expires_at")
    return Agreement(
        path=path,
        id=doc["id"],
        effective_at=parse_rfc3339(str(doc["effective_at"])),
        expires_at=parse_rfc3339(str(expires)) if expires else None,
        inside_party=inside[0],
        outside_party=outside[0],
        zones=zones,
        contact_line=load_contact_line(base / geo["contact_line"]),
        control=load_control(base / geo["control"]),
    )


def csv_header(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def read_points_numpy(path: Path):
    """(lon, lat, epoch_seconds) as numpy arrays from a CSV with columns lon, lat, time
    (found by header name; other columns are ignored). Times are RFC 3339 in UTC written as
    `YYYY-MM-DDTHH:MM:SSZ`, as gen_points.py writes them."""
    import numpy as np

    header = csv_header(path)
    try:
        ilon, ilat, itime = (header.index(c) for c in ("lon", "lat", "time"))
    except ValueError:
        raise SystemExit(f"{path}: header must have lon, lat, time columns, has {header}")
    lonlat = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(ilon, ilat), dtype=np.float64, ndmin=2)
    times = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(itime,), dtype="U32", ndmin=1)
    # 'Z' (or '+00:00') suffix: strip it and parse the rest as UTC; numpy refuses offsets.
    t = np.char.rstrip(np.char.replace(times, "+00:00", ""), "Zz")
    epoch = t.astype("datetime64[s]").astype(np.int64)
    return lonlat[:, 0].copy(), lonlat[:, 1].copy(), epoch


def counts_from_codes(agreement: Agreement, side_inside, zone_idx, counted=None) -> dict:
    """Counts from per-point arrays: side_inside (bool), zone_idx (0..len(zones), the last
    meaning outside), optional counted mask."""
    import numpy as np

    nz = len(agreement.zones) + 1
    side = np.asarray(side_inside, dtype=bool)
    zi = np.asarray(zone_idx, dtype=np.int64)
    if counted is not None:
        side = side[counted]
        zi = zi[counted]
    code = np.where(side, 0, nz) + zi
    bins = np.bincount(code, minlength=2 * nz)
    out = agreement.empty_counts()
    for pi, party in enumerate(agreement.party_ids):
        for z, zone in enumerate(agreement.zone_ids):
            out[party][zone] = int(bins[pi * nz + z])
    return out


def counted_mask(agreement: Agreement, epoch):
    m = epoch >= agreement.effective_epoch
    if agreement.expires_at is not None:
        m &= epoch < int(agreement.expires_at.timestamp())
    return m


def emit(tool: str, n: int, load_s: float, query_s: float, counts: dict, **extra) -> None:
    doc = {"tool": tool, "n": n, "load_s": round(load_s, 6), "query_s": round(query_s, 6), "counts": counts}
    doc.update(extra)
    print(json.dumps(doc), flush=True)


def projection_centre(agreement: Agreement) -> tuple[float, float]:
    """Centre (lon, lat) of the contact line's bounding box: the origin of the azimuthal
    equidistant projection that the planar peers measure distances in."""
    xs = [x for ls in agreement.contact_line for x, _ in ls]
    ys = [y for ls in agreement.contact_line for _, y in ls]
    return (round((min(xs) + max(xs)) / 2, 3), round((min(ys) + max(ys)) / 2, 3))


def aeqd_proj4(agreement: Agreement) -> str:
    lon0, lat0 = projection_centre(agreement)
    return f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +R={EARTH_RADIUS_M} +units=m +no_defs +type=crs"
