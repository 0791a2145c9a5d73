#!/usr/bin/env python3
"""Helpers for run.sh: record one timed run, and build the report.

    runlib.py record --tool T --n N --rep R --rc RC --time-file F --out-file F [--err-file F]
        appends nothing itself: prints one JSON line (the raw run) on stdout
    runlib.py report RAW.jsonl --out RESULTS.json [--meta META.json]
        prints the Markdown table on stdout and writes RESULTS.json

A run's stdout is a peer line (`{"tool", "n", "load_s", "query_s", "counts", ...}`), or Truce's
`assess --json` document (`totals`, `timing.read_s/build_s/assess_s`, `observations_total`), or
Truce's `ingest --json` document (timed end to end by the wall clock of /usr/bin/time).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path


def parse_time_v(text: str) -> dict:
    out: dict = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        out["max_rss_kib"] = int(m.group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if m:
        secs = 0.0
        for part in m.group(1).split(":"):
            secs = secs * 60 + float(part)
        out["wall_s"] = secs
    for key, pat in (("user_s", r"User time \(seconds\): ([\d.]+)"), ("sys_s", r"System time \(seconds\): ([\d.]+)")):
        m = re.search(pat, text)
        if m:
            out[key] = float(m.group(1))
    m = re.search(r"Percent of CPU this job got: (\d+)%", text)
    if m:
        out["cpu_pct"] = int(m.group(1))
    return out


def zone_counts(totals: dict) -> dict:
    """Drop keys that are not zone counts (e.g. `incidents`) from Truce's totals."""
    return {party: {k: v for k, v in zones.items() if k != "incidents"} for party, zones in totals.items()}


def normalise(tool: str, doc: dict, timing: dict) -> dict:
    if tool == "truce":
        t = doc.get("timing", {})
        return {
            "n": doc.get("observations_total"),
            "load_s": t.get("read_s"),
            "build_s": t.get("build_s"),
            "query_s": t.get("assess_s"),
            "counts": zone_counts(doc.get("totals", {})),
        }
    if tool == "truce-ingest":
        total = doc.get("total") if isinstance(doc.get("total"), dict) else {}
        return {
            "n": doc.get("observations_total", total.get("records")),
            "self_reported_s": total.get("seconds"),
            "load_s": None,
            "build_s": None,
            "query_s": timing.get("wall_s"),  # end to end
            "counts": zone_counts(doc["totals"]) if isinstance(doc.get("totals"), dict) else None,
        }
    return {
        "n": doc.get("n"),
        "load_s": doc.get("load_s"),
        "build_s": doc.get("build_s"),
        "query_s": doc.get("query_s"),
        "counts": doc.get("counts"),
        "details": {k: v for k, v in doc.items() if k not in ("tool", "n", "load_s", "build_s", "query_s", "counts")},
    }


def cmd_record(a) -> None:
    timing = parse_time_v(Path(a.time_file).read_text()) if a.time_file and Path(a.time_file).exists() else {}
    raw_out = Path(a.out_file).read_text() if Path(a.out_file).exists() else ""
    if a.wall_ns is not None:
        timing["wall_s"] = a.wall_ns / 1e9  # finer than /usr/bin/time's 10 ms
    rec = {"tool": a.tool, "n_points": a.n, "rep": a.rep, "rc": a.rc, **timing}
    if a.idle_before >= 0:
        rec["idle_pct_before"] = a.idle_before
    doc = None
    for line in reversed(raw_out.strip().splitlines()):
        try:
            doc = json.loads(line)
            break
        except json.JSONDecodeError:
            continue
    if doc is None:
        try:
            doc = json.loads(raw_out)
        except json.JSONDecodeError:
            doc = None
    if (doc is None or not isinstance(doc, dict)) and a.tool == "truce-ingest" and a.rc == 0:
        doc = {}  # timed end to end by the wall clock either way
        rec["warning"] = "no JSON on stdout"
    if doc is None or not isinstance(doc, dict):
        rec["error"] = "no JSON on stdout: " + raw_out[-500:]
    else:
        rec.update(normalise(a.tool, doc, timing))
        if a.tool.startswith("truce"):
            rec["output"] = {k: v for k, v in doc.items() if k != "by_day"}
    print(json.dumps(rec))


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def compare(counts: dict | None, ref: dict | None):
    """(exact, max relative difference in %, max absolute difference) over party x zone."""
    if counts is None or ref is None:
        return None, None, None
    exact = True
    rel = 0.0
    ab = 0
    for party, zones in ref.items():
        for zone, r in zones.items():
            c = counts.get(party, {}).get(zone)
            if c is None:
                return False, math.inf, None
            if c != r:
                exact = False
            ab = max(ab, abs(c - r))
            rel = max(rel, 0.0 if c == r else (math.inf if r == 0 else abs(c - r) / r * 100))
    return exact, rel, ab


def fmt(x, spec="{:.3f}"):
    if x is None:
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return spec.format(x)


def cmd_report(a) -> None:
    runs = [json.loads(line) for line in Path(a.raw).read_text().splitlines() if line.strip()]
    meta = json.loads(Path(a.meta).read_text()) if a.meta and Path(a.meta).exists() else {}
    groups: dict = {}
    for r in runs:
        groups.setdefault((r["n_points"], r["tool"]), []).append(r)
    rows = []
    for (n, tool), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != "truce", kv[0][1])):
        ok = [r for r in rs if r.get("rc") == 0 and "error" not in r and r.get("query_s") is not None]
        row = {"tool": tool, "n": n, "reps": len(ok), "failed": len(rs) - len(ok)}
        if ok:
            row["query_s"] = median(r["query_s"] for r in ok)
            row["query_s_all"] = [r["query_s"] for r in ok]
            row["load_s"] = median(r.get("load_s") for r in ok)
            row["build_s"] = median(r.get("build_s") for r in ok)
            row["wall_s"] = median(r.get("wall_s") for r in ok)
            rss = [r.get("max_rss_kib") for r in ok if r.get("max_rss_kib") is not None]
            row["peak_rss_mib"] = max(rss) / 1024 if rss else None
            row["points_per_s"] = n / row["query_s"] if row["query_s"] else None
            row["counts"] = ok[-1].get("counts")
            row["counts_stable"] = all(r.get("counts") == ok[0].get("counts") for r in ok)
            row["n_reported"] = ok[-1].get("n")
            row["details"] = ok[-1].get("details")
            idle = [r["idle_pct_before"] for r in ok if "idle_pct_before" in r]
            row["min_idle_pct_before"] = min(idle) if idle else None
        rows.append(row)

    out_lines = []
    for n in sorted({r["n"] for r in rows}):
        group = [r for r in rows if r["n"] == n]
        by_tool = {r["tool"]: r for r in group}
        truce = by_tool.get("truce")
        ref_name = None
        for cand in ("truce", "postgis"):
            if by_tool.get(cand, {}).get("counts"):
                ref_name = cand
                break
        ref = by_tool[ref_name]["counts"] if ref_name else None
        truce_pps = truce.get("points_per_s") if truce else None
        out_lines.append(f"\n### N = {n:,}\n")
        if ref_name != "truce":
            out_lines.append(
                f"Truce not measured: counts compared with **{ref_name or 'nothing'}**"
                + (" (exact per replay.md)" if ref_name == "postgis" else "") + "; no ratio.\n"
            )
        out_lines.append(
            "| tool | N | query s (median) | points/s | ratio Truce/tool | load s | build s | peak RSS MiB "
            f"| counts = {ref_name or 'ref'} | max rel diff % | max abs diff | idle % before |"
        )
        out_lines.append("|---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|")
        for r in group:
            if not r.get("reps"):
                out_lines.append(f"| {r['tool']} | {n:,} | failed | | | | | | | | | |")
                continue
            exact, rel, ab = compare(r.get("counts"), ref)
            r["exact_match"] = exact
            r["max_rel_diff_pct"] = "inf" if rel is not None and math.isinf(rel) else rel
            r["max_abs_diff"] = ab
            r["reference"] = ref_name
            ratio = truce_pps / r["points_per_s"] if truce_pps and r.get("points_per_s") else None
            r["ratio_truce_over_tool"] = ratio
            same = "–" if exact is None else ("yes" if exact else "no")
            if r["tool"] == ref_name:
                same = "(ref)"
            if not r.get("counts_stable", True):
                same += " (unstable)"
            label = r["tool"] + (" (end to end)" if r["tool"] == "truce-ingest" else "")
            out_lines.append(
                f"| {label} | {n:,} | {fmt(r['query_s'])} | {fmt(r.get('points_per_s'), '{:,.0f}')} "
                f"| {fmt(ratio, '{:.2f}')} | {fmt(r.get('load_s'))} | {fmt(r.get('build_s'))} "
                f"| {fmt(r.get('peak_rss_mib'), '{:.0f}')} | {same} | {fmt(rel, '{:.4f}')} | {fmt(ab, '{:d}')} "
                f"| {fmt(r.get('min_idle_pct_before'), '{:d}')} |"
            )
    text = "\n".join(out_lines).lstrip("\n") + "\n"
    notes = meta.get("notes") or []
    if notes:
        text += "\n" + "\n".join(f"- {x}" for x in notes) + "\n"
    print(text)
    result = {**meta, "rows": rows, "runs": runs, "markdown": text}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"results written to {a.out}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--tool", required=True)
    r.add_argument("--n", type=int, required=True)
    r.add_argument("--rep", type=int, required=True)
    r.add_argument("--rc", type=int, required=True)
    r.add_argument("--wall-ns", type=int, help="wall time measured around the command")
    r.add_argument("--idle-before", type=int, default=-1, help="idle CPU %% in the second before")
    r.add_argument("--time-file")
    r.add_argument("--out-file", required=True)
    p = sub.add_parser("report")
    p.add_argument("raw")
    p.add_argument("--out", required=True)
    p.add_argument("--meta")
    a = ap.parse_args()
    {"record": cmd_record, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
