#!/usr/bin/env bash
# Benchmark Truce's assessor against peer GIS tools on the same synthetic points.
#
#   bench/run.sh [N ...]          (default N = 1000000)
#
# For each N: generates the points once (fixed seed), then times Truce (`truce assess`, and
# `truce ingest` end to end when it exists) and each peer, BENCH_REPS times each, under
# /usr/bin/time -v (peak RSS); prints a Markdown table (medians) and writes
# bench/results/<timestamp>.json. See bench/README.md.
#
# Environment:
#   TRUCE_SCENARIO   scenario folder (default: data/scenario-2025-09 under the repository root)
#   BENCH_REPS       repetitions per tool and N (default 3)
#   BENCH_SEED       seed of gen_points.py (default 20250901)
#   BENCH_PEERS      peers to run (default "postgis shapely duckdb"); PEER:VARIANT runs a peer's
#                    other formulation as its own row, e.g. "shapely:dwithin duckdb:distance"
#   BENCH_TRUCE      0 to skip Truce (default 1)
#   BENCH_BUILD      0 to skip `cargo build --release -p truce` (default 1)
#   BENCH_INGEST     0 to skip the end-to-end `truce ingest` rows (default 1)
#   TRUCE_BIN        Truce binary (default target/release/truce)
#   BENCH_INSTALL    0 to install nothing (pip, apt-get); default 1
#   BENCH_KEEP       1 to keep the work folder with the generated files
#   BENCH_WAIT_IDLE  wait up to this many seconds before each run for the machine to be idle
#                    (>= 90 % idle over 1 s); default 0. Each run records the idle share seen.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SCENARIO=${TRUCE_SCENARIO:-$ROOT/data/scenario-2025-09}
AGREEMENT=$SCENARIO/agreement.toml
REPS=${BENCH_REPS:-3}
SEED=${BENCH_SEED:-20250901}
PEERS=${BENCH_PEERS:-postgis shapely duckdb}
RUN_TRUCE=${BENCH_TRUCE:-1}
BUILD=${BENCH_BUILD:-1}
RUN_INGEST=${BENCH_INGEST:-1}
TRUCE=${TRUCE_BIN:-$ROOT/target/release/truce}
INSTALL=${BENCH_INSTALL:-1}
PY=${PYTHON:-python3}

if [ "$#" -gt 0 ]; then NS=("$@"); else NS=(1000000); fi

say() { printf '%s\n' "bench: $*" >&2; }

if [ ! -f "$AGREEMENT" ]; then
  say "no agreement at $AGREEMENT (set TRUCE_SCENARIO to the scenario folder)"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/truce-bench.XXXXXX")
cleanup() {
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

NOTES=()
note() { NOTES+=("$*"); say "$*"; }

# ---- tools of the harness itself -------------------------------------------------------------
TIMEV=(/usr/bin/time -v -o "$WORK/time.txt")
if [ ! -x /usr/bin/time ]; then
  if [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian package time"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >&2; } || true
  fi
  if [ -x /usr/bin/time ]; then
    TIMEV=(/usr/bin/time -v -o "$WORK/time.txt")
  else
    TIMEV=()
    note "/usr/bin/time missing: no peak RSS"
  fi
fi

if ! "$PY" -c 'import numpy, shapely, pyproj, duckdb, duckdb_ext' 2>/dev/null; then
  if [ "$INSTALL" = 1 ]; then
    say "installing Python packages from bench/requirements.txt"
    "$PY" -m pip install -q -r "$BENCH_DIR/requirements.txt" >&2 || say "pip install failed; peers that miss packages will be skipped"
  fi
fi
"$PY" -c 'import numpy' || { say "numpy is needed by gen_points.py (pip install numpy)"; exit 1; }

# ---- Truce -----------------------------------------------------------------------------------
HAVE_ASSESS=0
HAVE_INGEST=0
if [ "$RUN_TRUCE" = 1 ]; then
  if [ "$BUILD" = 1 ]; then
    if command -v cargo >/dev/null; then
      say "building Truce: cargo build --release -p truce"
      (cd "$ROOT" && cargo build --release -p truce >&2) || note "cargo build --release -p truce failed; using the binary if there is one"
    else
      note "cargo not found; not building Truce"
    fi
  fi
  if [ ! -x "$TRUCE" ]; then
    note "Truce skipped: no binary at $TRUCE"
  else
    if "$TRUCE" assess --help >/dev/null 2>&1; then HAVE_ASSESS=1; else note "Truce assess skipped: '$TRUCE assess' is not supported by this build"; fi
    INGEST_ARGS=()
    if INGEST_HELP=$("$TRUCE" ingest --help 2>/dev/null); then
      HAVE_INGEST=1
      if printf '%s' "$INGEST_HELP" | grep -q -- '--agreement'; then
        INGEST_ARGS=(--agreement "$AGREEMENT")
      else
        note "this build's 'truce ingest' takes no --agreement: ingest timed without assessment"
      fi
    else
      note "Truce ingest skipped: '$TRUCE ingest' is not supported by this build"
    fi
  fi
fi

# ---- runs ------------------------------------------------------------------------------------
RAW=$WORK/raw.jsonl
: >"$RAW"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

# cpu_idle_pct: share of idle CPU time over the next second, from /proc/stat
cpu_idle_pct() {
  local a b
  read -r -a a </proc/stat
  sleep 1
  read -r -a b </proc/stat
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  if [ "$total" -le 0 ]; then echo 100; else echo $(( 100 * idle / total )); fi
}

IDLE_PCT=""
wait_idle() {
  IDLE_PCT=""
  [ -r /proc/stat ] || return 0
  local deadline=$(( $(date +%s) + ${BENCH_WAIT_IDLE:-0} ))
  while :; do
    IDLE_PCT=$(cpu_idle_pct)
    if [ "$IDLE_PCT" -ge 90 ] || [ "$(date +%s)" -ge "$deadline" ]; then break; fi
  done
  if [ "$IDLE_PCT" -lt 90 ]; then say "machine busy before this run: ${IDLE_PCT}% idle"; fi
}

# run_tool TOOL N CMD... : BENCH_REPS timed runs; a peer that exits 3 is "not available here"
# (for Truce, exit 3 means "input rejected": a failure)
run_tool() {
  local tool=$1 n=$2
  shift 2
  local rep rc t0 t1
  for rep in $(seq 1 "$REPS"); do
    if [ "$tool" = truce-ingest ]; then rm -f "$WORK"/ingest.db*; fi
    wait_idle
    say "N=$n $tool rep $rep/$REPS"
    set +e
    rm -f "$WORK/time.txt"
    t0=$(date +%s%N)
    "${TIMEV[@]}" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
    rc=$?
    t1=$(date +%s%N)
    set -e
    if [ ${#TIMEV[@]} -eq 0 ]; then : >"$WORK/time.txt"; fi
    if [ "$rc" = 3 ] && [ "${tool#truce}" = "$tool" ]; then
      note "$tool skipped at N=$n: $(tail -n 3 "$WORK/err.txt" | tr '\n' ' ')"
      return 0
    fi
    if [ "$rc" != 0 ]; then
      say "$tool failed (exit $rc):"
      tail -n 20 "$WORK/err.txt" >&2
      note "$tool failed at N=$n (exit $rc)"
    fi
    "$PY" "$BENCH_DIR/runlib.py" record --tool "$tool" --n "$n" --rep "$rep" --rc "$rc" --wall-ns $((t1 - t0)) \
      --idle-before "${IDLE_PCT:--1}" --time-file "$WORK/time.txt" --out-file "$WORK/out.txt" >>"$RAW"
    if [ "$rc" != 0 ]; then return 0; fi
  done
}

for n in "${NS[@]}"; do
  POINTS=$WORK/points-$n.csv
  "$PY" "$BENCH_DIR/gen_points.py" "$n" "$SEED" "$POINTS" --geometry "$AGREEMENT"
  if [ "$HAVE_ASSESS" = 1 ]; then
    run_tool truce "$n" "$TRUCE" assess "$POINTS" --agreement "$AGREEMENT" --json
  fi
  if [ "$HAVE_INGEST" = 1 ] && [ "$RUN_INGEST" = 1 ]; then
    FIRMS=$WORK/firms-$n.csv
    "$PY" "$BENCH_DIR/gen_points.py" "$n" "$SEED" "$FIRMS" --geometry "$AGREEMENT" --firms
    run_tool truce-ingest "$n" "$TRUCE" ingest "$FIRMS" --db "$WORK/ingest.db" "${INGEST_ARGS[@]+"${INGEST_ARGS[@]}"}" --json
    rm -f "$FIRMS" "$WORK"/ingest.db*
  fi
  for spec in $PEERS; do
    peer=${spec%%:*}
    if [ ! -f "$BENCH_DIR/peer_$peer.py" ]; then note "unknown peer $peer"; continue; fi
    if [ "$spec" = "$peer" ]; then
      run_tool "$peer" "$n" "$PY" "$BENCH_DIR/peer_$peer.py" "$POINTS" --agreement "$AGREEMENT"
    else
      variant=${spec#*:}
      run_tool "$peer-$variant" "$n" "$PY" "$BENCH_DIR/peer_$peer.py" "$POINTS" --agreement "$AGREEMENT" --variant "$variant"
    fi
  done
  rm -f "$POINTS"
done

# ---- report ----------------------------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$BENCH_DIR/results/$STAMP.json
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain -- crates 2>/dev/null | head -c1 | wc -c)
"$PY" - "$WORK/meta.json" "$STAMP" "$SEED" "$REPS" "$SCENARIO" "$COMMIT" "$DIRTY" "$LOAD_BEFORE" "$LOAD_AFTER" "${NOTES[@]+"${NOTES[@]}"}" <<'EOF'
import json, os, platform, sys
out, stamp, seed, reps, scenario, commit, dirty, lb, la, *notes = sys.argv[1:]
json.dump({
    "timestamp": stamp, "seed": int(seed), "reps": int(reps), "scenario": scenario,
    "git_commit": commit, "crates_dirty": dirty != "0",
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                "loadavg_before": lb, "loadavg_after": la},
    "notes": notes,
}, open(out, "w"), indent=2)
EOF
"$PY" "$BENCH_DIR/runlib.py" report "$RAW" --out "$OUT" --meta "$WORK/meta.json"
