#!/usr/bin/env bash
# The test suite: formatting, lints, and every crate's tests (release build: the geometry
# oracles and the end-to-end tests run on real data). Works on a fresh machine with the Rust
# toolchain; it installs nothing else because nothing else is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not installed; install Rust (https://rustup.rs) and run this again" >&2
    exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --release --locked
