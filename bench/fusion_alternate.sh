#!/usr/bin/env bash
# The fusion bench (`crates/truce-core/benches/fusion.rs`) of several git revisions, run in
# turn, so that their times are compared within one run of a noisy machine
# (docs/benchmarks.md, Fusion):
#
#   bench/fusion_alternate.sh ROUNDS REV [REV ...]       # e.g. 5 d57b95b HEAD
#   FUSION_BENCH_N=3000000 bench/fusion_alternate.sh 3 HEAD~1 HEAD
#
# Each revision's bench is built in a worktree under target/fusion-alternate/ (its executable
# kept there, named by revision), then the executables run one after another, ROUNDS times:
# the page cache dropped (when root) and 2 s idle before each run. Prints every run (time of
# the fusion, user and system CPU, page faults, peak RSS) and each revision's median.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -lt 2 ]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
rounds="$1"
shift
command -v cargo >/dev/null 2>&1 || { echo "error: cargo is not installed" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq time >/dev/null
    else
        echo "error: /usr/bin/time is missing (apt-get install time)" >&2
        exit 1
    fi
fi

work="$(pwd)/target/fusion-alternate"
mkdir -p "$work"
names=()
for rev in "$@"; do
    commit="$(git rev-parse --short "$rev^{commit}")"
    tree="$work/tree-$commit"
    if [ ! -x "$work/fusion-$commit" ]; then
        [ -d "$tree" ] || git worktree add --detach --quiet "$tree" "$commit"
        built="$(cd "$tree" && CARGO_TARGET_DIR="$work/target" \
            cargo bench -p truce-core --bench fusion --no-run 2>&1 |
            sed -n 's/.*Executable benches\/fusion.rs (\(.*\))/\1/p')"
        [ -n "$built" ] || { echo "error: no bench executable built at $rev" >&2; exit 1; }
        case "$built" in /*) ;; *) built="$tree/$built" ;; esac
        cp "$built" "$work/fusion-$commit"
        git worktree remove --force "$tree"
    fi
    names+=("$commit")
done

runs="$work/runs.txt"
: >"$runs"
for _ in $(seq "$rounds"); do
    for commit in "${names[@]}"; do
        sync
        if [ "$(id -u)" = 0 ]; then echo 3 >/proc/sys/vm/drop_caches; fi
        sleep 2
        out="$(FUSION_BENCH_N="${FUSION_BENCH_N:-10000000}" /usr/bin/time -f "peak %M kB" \
            "$work/fusion-$commit" 2>&1)"
        seconds="$(sed -n 's/^fused .* in \([0-9.]*\) s (.*/\1/p' <<<"$out")"
        cpu="$(sed -n 's/^cpu of the fusion: //p' <<<"$out")"
        peak="$(sed -n 's/^peak \([0-9]*\) kB/\1/p' <<<"$out")"
        line="$commit $seconds s; $cpu; peak RSS $((peak / 1024)) MiB; $(date -u +%H:%M:%S)"
        echo "$line"
        echo "$line" >>"$runs"
    done
done
echo
for commit in "${names[@]}"; do
    awk -v c="$commit" '$1 == c { print $2 }' "$runs" | sort -n |
        awk -v c="$commit" '{ t[NR] = $1 } END {
            m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            printf "%s: median %.2f s of %d runs\n", c, m, NR }'
done
