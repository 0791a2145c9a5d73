#!/usr/bin/env python3
"""Seeded synthetic observation points for the assessor benchmark.

    gen_points.py N SEED OUT.csv [--geometry PATH] [--firms] [--near-fraction F]

Writes N points. A fraction F (default 0.6) lies near the contact line: a segment is drawn at
random weighted by its length, a point uniformly along it (linear in lon/lat), then an offset of
uniform length 0..60 km in a uniform direction (spherical small-offset approximation). The rest
is uniform in lon 22.0..40.3, lat 44.3..52.4. Times are uniform whole seconds over the 30 days
from 2025-09-01T00:00:00Z. Coordinates are written with 5 decimals (about 1 m).

Default output: `lon,lat,time` (time RFC 3339 UTC, `2025-09-01T03:17:45Z`). With `--firms` the
same points (same N and SEED give the same points) are written, in time order as published FIRMS
files are, as a NASA FIRMS VIIRS CSV (`latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,
version,bright_ti5,frp,daynight,instrument`) with plausible made-up values for the other
columns; `acq_time` is `HH:MM:SS` as in the sample scenario's files.

The contact line is read from PATH (a contact_line.geojson, an agreement.toml or a scenario
folder), else from `$TRUCE_SCENARIO` (default: data/scenario-2025-09 under the repository root).
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NEAR_RADIUS_M = 60_000.0
BOX_LON = (22.0, 40.3)
BOX_LAT = (44.3, 52.4)
T0 = np.datetime64("2025-09-01T00:00:00", "s")
SPAN_S = 30 * 86400
CHUNK = 1_000_000
FILL = 0  # filler byte, removed before writing

FIRMS_HEADER = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,"
    "version,bright_ti5,frp,daynight,instrument"
)


def contact_line_path(arg: str | None) -> Path:
    p = Path(arg) if arg else common.scenario_dir()
    if p.is_dir():
        p = p / "agreement.toml"
    if p.suffix == ".toml":
        doc = tomllib.loads(p.read_text())
        p = p.parent / doc["geometry"]["contact_line"]
    if not p.is_file():
        raise SystemExit(f"contact line {p} not found (pass --geometry or set TRUCE_SCENARIO)")
    return p


def segments(lines) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = [], []
    for ls in lines:
        arr = np.asarray(ls, dtype=np.float64)
        if len(arr) >= 2:
            a.append(arr[:-1])
            b.append(arr[1:])
    a = np.concatenate(a)
    b = np.concatenate(b)
    # haversine length, weights only
    la1, la2 = np.radians(a[:, 1]), np.radians(b[:, 1])
    dla = la2 - la1
    dlo = np.radians(b[:, 0] - a[:, 0])
    h = np.sin(dla / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin(dlo / 2) ** 2
    length = 2 * np.arcsin(np.sqrt(h))
    return a, b, length


def generate(n: int, seed: int, line_path: Path, near_fraction: float):
    """(lon, lat, seconds since 2025-09-01T00:00:00Z), deterministic in (n, seed, line)."""
    rng = np.random.default_rng(seed)
    a, b, length = segments(common.load_contact_line(line_path))
    cdf = np.cumsum(length)
    cdf /= cdf[-1]
    near = rng.random(n) < near_fraction
    k = int(near.sum())
    lon = np.empty(n)
    lat = np.empty(n)
    # near the line
    seg = np.minimum(np.searchsorted(cdf, rng.random(k), side="right"), len(cdf) - 1)
    t = rng.random(k)
    plon = a[seg, 0] + t * (b[seg, 0] - a[seg, 0])
    plat = a[seg, 1] + t * (b[seg, 1] - a[seg, 1])
    r = rng.random(k) * (NEAR_RADIUS_M / common.EARTH_RADIUS_M)  # angular offset
    theta = rng.random(k) * (2 * np.pi)
    lat1 = np.radians(plat)
    lat2 = np.arcsin(np.sin(lat1) * np.cos(r) + np.cos(lat1) * np.sin(r) * np.cos(theta))
    dlon = np.arctan2(np.sin(theta) * np.sin(r) * np.cos(lat1), np.cos(r) - np.sin(lat1) * np.sin(lat2))
    lon[near] = plon + np.degrees(dlon)
    lat[near] = np.degrees(lat2)
    # uniform over the box
    m = n - k
    lon[~near] = rng.uniform(*BOX_LON, m)
    lat[~near] = rng.uniform(*BOX_LAT, m)
    secs = rng.integers(0, SPAN_S, n)
    return lon, lat, secs


# ---- vectorised fixed-point formatting into byte matrices -------------------------------------

def _digits(v: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative integers v, zero-padded."""
    out = np.empty((len(v), width), dtype=np.uint8)
    v = v.copy()
    for i in range(width - 1, -1, -1):
        out[:, i] = v % 10 + 48
        v //= 10
    return out


def fmt_fixed(x: np.ndarray, int_width: int, decimals: int, strip: bool = True) -> np.ndarray:
    """Non-negative floats as `I.DDD` (rounded); leading zeros of the integer part (but the
    last) become filler bytes when strip."""
    scale = 10**decimals
    q = np.rint(x * scale).astype(np.int64)
    if (q < 0).any() or (q >= 10 ** (int_width + decimals)).any():
        raise ValueError("value out of formatting range")
    ip = _digits(q // scale, int_width)
    if strip and int_width > 1:
        lead = np.ones(len(q), dtype=bool)
        for i in range(int_width - 1):
            lead &= ip[:, i] == 48
            ip[lead, i] = FILL
    if decimals == 0:
        return ip
    fp = _digits(q % scale, decimals)
    dot = np.full((len(q), 1), ord("."), dtype=np.uint8)
    return np.hstack([ip, dot, fp])


def fmt_signed(x: np.ndarray, int_width: int, decimals: int) -> np.ndarray:
    body = fmt_fixed(np.abs(x), int_width, decimals)
    sign = np.where(np.rint(x * 10**decimals) < 0, ord("-"), FILL).astype(np.uint8)[:, None]
    return np.hstack([sign, body])


def const(n: int, s: str) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(s.encode(), dtype=np.uint8), (n, len(s)))


def choice(idx: np.ndarray, words: list[str]) -> np.ndarray:
    w = max(len(x) for x in words)
    table = np.zeros((len(words), w), dtype=np.uint8)
    for i, x in enumerate(words):
        table[i, : len(x)] = np.frombuffer(x.encode(), dtype=np.uint8)
    return table[idx]


def fmt_datetime(secs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(date `YYYY-MM-DD`, time `HH:MM:SS`) byte matrices for seconds since T0."""
    days = (T0 + secs.astype("timedelta64[s]")).astype("datetime64[D]")
    # Y, M, D from datetime64 without strings
    y = days.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    sod = (T0 + secs.astype("timedelta64[s]") - days.astype("datetime64[s]")).astype(np.int64)
    n = len(secs)
    dash = const(n, "-")
    colon = const(n, ":")
    date = np.hstack([_digits(y, 4), dash, _digits(mo, 2), dash, _digits(d, 2)])
    tod = np.hstack([_digits(sod // 3600, 2), colon, _digits(sod // 60 % 60, 2), colon, _digits(sod % 60, 2)])
    return date, tod


def rows_plain(lon, lat, secs) -> bytes:
    n = len(lon)
    date, tod = fmt_datetime(secs)
    comma = const(n, ",")
    m = np.hstack([
        fmt_signed(lon, 3, 5), comma, fmt_signed(lat, 2, 5), comma,
        date, const(n, "T"), tod, const(n, "Z\n"),
    ])
    flat = m.ravel()
    return flat[flat != FILL].tobytes()


def rows_firms(lon, lat, secs, rng) -> bytes:
    n = len(lon)
    date, tod = fmt_datetime(secs)
    comma = const(n, ",")
    scan = rng.uniform(0.32, 0.80, n)
    track = np.clip(scan * rng.uniform(0.75, 1.05, n), 0.36, 0.78)
    frp = np.minimum(rng.lognormal(1.0, 1.0, n), 999.0)
    ti4 = np.clip(295.0 + 8.0 * np.log1p(frp) + rng.normal(0, 6, n), 270.0, 367.0)
    ti5 = np.clip(ti4 - rng.uniform(10, 35, n), 250.0, 330.0)
    hour = secs // 3600 % 24
    day = (hour >= 4) & (hour < 18)  # roughly local daytime over Ukraine
    conf = np.where(ti4 > 340, 2, np.where(frp < 0.8, 0, 1))
    m = np.hstack([
        fmt_signed(lat, 2, 5), comma, fmt_signed(lon, 3, 5), comma,
        fmt_fixed(ti4, 3, 2), comma, fmt_fixed(scan, 1, 2), comma, fmt_fixed(track, 1, 2), comma,
        date, comma, tod, comma, const(n, "N20,"),
        choice(conf, ["low", "nominal", "high"]), const(n, ",2.0NRT,"),
        fmt_fixed(ti5, 3, 2), comma, fmt_fixed(frp, 3, 2), comma,
        choice(day.astype(np.int64), ["N", "D"]), const(n, ",VIIRS\n"),
    ])
    flat = m.ravel()
    return flat[flat != FILL].tobytes()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int)
    ap.add_argument("seed", type=int)
    ap.add_argument("out")
    ap.add_argument("--geometry", help="contact_line.geojson, agreement.toml or scenario folder")
    ap.add_argument("--firms", action="store_true", help="write NASA FIRMS VIIRS CSV columns")
    ap.add_argument("--near-fraction", type=float, default=0.6)
    args = ap.parse_args()
    started = time.perf_counter()
    lon, lat, secs = generate(args.n, args.seed, contact_line_path(args.geometry), args.near_fraction)
    if args.firms:
        # Published FIRMS files run in acquisition order: sort by time (stable), as they do.
        order = np.argsort(secs, kind="stable")
        lon, lat, secs = lon[order], lat[order], secs[order]
    extra_rng = np.random.default_rng([args.seed, 1])  # FIRMS-only columns: same points either way
    with open(args.out, "wb") as f:
        f.write(((FIRMS_HEADER if args.firms else "lon,lat,time") + "\n").encode())
        for s in range(0, args.n, CHUNK):
            e = min(s + CHUNK, args.n)
            if args.firms:
                f.write(rows_firms(lon[s:e], lat[s:e], secs[s:e], extra_rng))
            else:
                f.write(rows_plain(lon[s:e], lat[s:e], secs[s:e]))
    print(f"gen_points: {args.n} points -> {args.out} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
