#!/usr/bin/env bash
# The bundled real-data demo: builds truce and replays data/scenario-2025-09 into a local
# SQLite store (truce-demo.db), printing the per-day summary.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not installed; install Rust (https://rustup.rs) and run this again" >&2
    exit 1
fi
cargo run --release --locked -p truce -- demo "$@"
