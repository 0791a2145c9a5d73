//! Integration tests of `truce-formats`: bytes in, observations and diagnostics out.
//!
//! Each module has a few `check_*` helpers that are the only callers of the parser under
//! test; a test is an input and the exact output expected from it.

mod firms;
mod ndjson;
mod no_panic;

/// The Display strings of a batch's diagnostics, for comparing with exact expectations.
fn diagnostics(batch: &truce_formats::ParsedBatch) -> Vec<String> {
    batch.diagnostics.iter().map(ToString::to_string).collect()
}

/// A file of the test data folder (`tests/data/`).
fn data_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
