#!/usr/bin/env python3
"""Where fusion loses on a scenario with truth (docs/evaluation.md, "Diagnosing").

    scripts/diagnose.py FOLDER [--truce PATH] [--incidents FILE] [--show N]

Runs `truce incidents --folder FOLDER --json` (or reads FILE), scores it as
`shared/spec/evaluation.md` does, and classifies every loss:

- a *missed* event (reported, matched by no incident that is not dismissed), by where its
  reports went: into an incident that matches another event (`absorbed`), into dismissed
  incidents (`dismissed`), or into incidents that match nothing (`diluted`);
- a *double-counted* event (more than one matching incident), by what the extra incidents are
  made of (a triangulated fix, bearings without a location, located reports).

Each class is counted, and the first N cases of the largest classes are printed with their
observations (kind, source, time, location or bearing) and the incident each went to.
"""

import argparse
import collections
import csv
import glob
import json
import os
import subprocess
import sys


def load(folder, truce, incidents_file):
    obs = {}
    for path in sorted(glob.glob(os.path.join(folder, "observations", "*.ndjson"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    o = json.loads(line)
                    obs[(o["source"], o["source_ref"])] = o
    events = {}
    with open(os.path.join(folder, "truth", "events.ndjson"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                e = json.loads(line)
                events[e["id"]] = e
    links = {}
    with open(os.path.join(folder, "truth", "links.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            links[(row["source"], row["source_ref"])] = row["truth_id"] or None
    if incidents_file:
        with open(incidents_file, encoding="utf-8") as f:
            text = f.read()
    else:
        text = subprocess.run(
            [truce, "incidents", "--folder", folder, "--json"],
            check=True, capture_output=True, text=True).stdout
    incidents = [json.loads(line) for line in text.splitlines() if line.strip()]
    return obs, events, links, incidents


def matched_event(incident, links):
    counts = collections.Counter(
        links.get((m["source"], m["source_ref"])) for m in incident["members"])
    best, n = max(counts.items(), key=lambda kv: (kv[1], kv[0] or ""), default=(None, 0))
    if best is not None and 2 * n > len(incident["members"]):
        return best
    return None


def composition(incident, obs):
    bearings = sum(1 for m in incident["members"]
                   if "bearing" in obs.get((m["source"], m["source_ref"]), {})
                   and "location" not in obs.get((m["source"], m["source_ref"]), {}))
    located = len(incident["members"]) - bearings
    if located:
        return "located+bearings" if bearings else "located"
    if incident.get("location") is not None:
        return "fix"
    return "bearings-1" if bearings == 1 else "bearings-n"


def describe(o, key, event_of, incident_of, incidents):
    where = ""
    if "location" in o:
        l = o["location"]
        where = f"({l['lon']:.4f},{l['lat']:.4f}) ±{l['uncertainty_m']:.0f}m"
    elif "bearing" in o:
        b = o["bearing"]
        ob = b["observer"]
        where = (f"from ({ob['lon']:.4f},{ob['lat']:.4f}) az {b['azimuth_deg']:.1f}°"
                 f" σ {b['sigma_deg']:.1f}°")
    inc = incidents[incident_of[key]]
    return (f"    {o['observed_at']} {o['kind']:<20} {key[0]:<16} {where:<48} "
            f"-> {inc['id']} [{inc['status']}, {len(inc['members'])} members, "
            f"matches {inc['_match'] or '-'}] truth {event_of.get(key) or '-'}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder")
    p.add_argument("--truce", default=os.environ.get("TRUCE", "truce"))
    p.add_argument("--incidents", help="an `incidents --json` file instead of running truce")
    p.add_argument("--show", type=int, default=3, help="cases shown per class")
    args = p.parse_args()
    obs, events, links, incidents = load(args.folder, args.truce, args.incidents)

    incident_of = {}
    for i, inc in enumerate(incidents):
        inc["_match"] = matched_event(inc, links)
        for m in inc["members"]:
            incident_of[(m["source"], m["source_ref"])] = i
    reports = collections.defaultdict(list)
    for key, t in links.items():
        if t is not None and key in incident_of:
            reports[t].append(key)
    matching = collections.defaultdict(list)
    for i, inc in enumerate(incidents):
        if inc["status"] != "dismissed" and inc["_match"]:
            matching[inc["_match"]].append(i)

    missed = collections.defaultdict(list)
    for t, keys in reports.items():
        if matching.get(t):
            continue
        fates = [incidents[incident_of[k]] for k in keys]
        if any(f["status"] != "dismissed" and f["_match"] not in (None, t) for f in fates):
            cls = "absorbed"
        elif all(f["status"] == "dismissed" for f in fates):
            cls = "dismissed"
        else:
            cls = "diluted"
        kinds = "+".join(sorted({obs[k]["kind"] for k in keys}))
        missed[f"{cls} ({events[t]['kind']})"].append((t, kinds))
    doubles = collections.defaultdict(list)
    for t, found in matching.items():
        if len(found) < 2:
            continue
        comps = sorted(composition(incidents[i], obs) for i in found)
        doubles[" + ".join(comps)].append(t)

    reported = len(reports)
    n_missed = sum(len(v) for v in missed.values())
    n_match = sum(len(v) for v in matching.values())
    n_extra = sum(len(v) - 1 for v in matching.values())
    print(f"{args.folder}: {reported} reported events, {n_missed} missed "
          f"(recall {1 - n_missed / max(reported, 1):.4f}); {n_extra} extra of {n_match} "
          f"matching incidents (double counting {n_extra / max(n_match, 1):.4f})")

    def show(event_ids):
        for t in event_ids[:args.show]:
            e = events[t]
            loc = e["location"]
            print(f"  {t} {e['kind']} {e['started_at']}..{e.get('ended_at', '')} "
                  f"({loc['lon']:.4f},{loc['lat']:.4f})")
            for k in sorted(reports[t], key=lambda k: obs[k]["observed_at"]):
                print(describe(obs[k], k, links, incident_of, incidents))
            absorbers = {incident_of[k] for k in reports[t]}
            for i in sorted(absorbers):
                inc = incidents[i]
                if inc["_match"] not in (None, t):
                    o = events[inc["_match"]]
                    print(f"    ({inc['id']} matches {o['id']} {o['kind']} {o['started_at']} "
                          f"({o['location']['lon']:.4f},{o['location']['lat']:.4f}))")

    print("\nmissed events by class:")
    for cls, items in sorted(missed.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(items):5}  {cls}")
    print("\ndouble-counted events by the incidents that match them:")
    for cls, items in sorted(doubles.items(), key=lambda kv: -len(kv[1])):
        extra = sum(len(matching[t]) - 1 for t in items)
        print(f"  {len(items):5} events, {extra:5} extra  {cls}")
    if args.show > 0:
        for cls, items in sorted(missed.items(), key=lambda kv: -len(kv[1]))[:4]:
            print(f"\n== missed: {cls}")
            show([t for t, _ in items])
        for cls, items in sorted(doubles.items(), key=lambda kv: -len(kv[1]))[:4]:
            print(f"\n== double counted: {cls}")
            show(items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
