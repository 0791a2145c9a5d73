#!/usr/bin/env bash
# Scores fusion on simulated scenarios (docs/evaluation.md): for each seed (1..10 unless given),
# `truce simulate` writes 50,000 observations over 30 days on the sample agreement into a
# temporary folder, then `truce evaluate` prints one row per seed, their mean, and the
# location and time errors by event kind.
#
#   scripts/evaluate.sh            # seeds 1..10
#   scripts/evaluate.sh 3 7        # seeds 3 and 7
#   OBSERVATIONS=100000 DAYS=30 KEEP=1 scripts/evaluate.sh   # other sizes; keep the folders
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not installed; install Rust (https://rustup.rs) and run this again" >&2
    exit 1
fi
observations="${OBSERVATIONS:-50000}"
days="${DAYS:-30}"
if [ "$#" -gt 0 ]; then seeds=("$@"); else seeds=(1 2 3 4 5 6 7 8 9 10); fi

cargo build --release --locked -p truce >&2
truce="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)/truce"
agreement="$(pwd)/data/scenario-2025-09/agreement.toml"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/truce-evaluate.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
    echo "scenarios kept in $tmp" >&2
else
    trap 'rm -rf "$tmp"' EXIT
fi

folders=()
for seed in "${seeds[@]}"; do
    "$truce" simulate --agreement "$agreement" --seed "$seed" --days "$days" \
        --observations "$observations" --out "$tmp/seed-$seed" | tail -n 1 | sed "s/^/seed $seed: /" >&2
    folders+=("seed-$seed")
done
cd "$tmp"
"$truce" evaluate "${folders[@]}"
