#!/usr/bin/env python3
"""Checks the peers against the sample scenario's reference results.

    check_scenario.py [PEER ...]      (default: postgis shapely duckdb)

Runs each peer on the scenario's `expected_detections.csv` (the 4,173 counted real FIRMS
detections, columns lon, lat, time among others) and compares its counts with `totals` of
`expected.json`. PostGIS must match exactly; the projected peers may differ on the detections
that the README of the scenario lists as near a band edge (`near_boundary`). Exit code 1 when a
peer is off by more than that, 0 otherwise (a peer that is not available is reported, not failed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def main() -> int:
    peers = sys.argv[1:] or ["postgis", "shapely", "duckdb"]
    scen = common.scenario_dir()
    expected = json.loads((scen / "expected.json").read_text())
    points = scen / "expected_detections.csv"
    near = int(expected.get("near_boundary", 0)) + int(expected.get("near_control_boundary", 0))
    bad = 0
    for peer in peers:
        r = subprocess.run(
            [sys.executable, str(common.BENCH_DIR / f"peer_{peer}.py"), str(points), "--agreement", str(scen / "agreement.toml")],
            capture_output=True, text=True,
        )
        if r.returncode == common.EXIT_UNAVAILABLE:
            print(f"{peer}: not available: {r.stderr.strip()}")
            continue
        if r.returncode != 0:
            print(f"{peer}: FAILED (exit {r.returncode}): {r.stderr.strip()[-500:]}")
            bad += 1
            continue
        got = json.loads(r.stdout.strip().splitlines()[-1])["counts"]
        diffs = []
        off = 0
        for party, zones in expected["totals"].items():
            for zone, want in zones.items():
                if zone == "incidents":
                    continue
                have = got[party][zone]
                if have != want:
                    diffs.append(f"{party}/{zone} {have} (expected {want})")
                    off += abs(have - want)
        # a point that moves between two zones shows in two cells
        moved = off // 2 if off % 2 == 0 else off
        if not diffs:
            print(f"{peer}: exact match with expected.json totals")
        elif peer != "postgis" and moved <= near:
            print(f"{peer}: {moved} detection(s) in another zone, within the {near} near-edge ones: " + "; ".join(diffs))
        else:
            print(f"{peer}: MISMATCH: " + "; ".join(diffs))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
