//! Integration tests of `truce-formats`: bytes in, observations and diagnostics out.
//!
//! Each module has a few `check_*` helpers that are the only callers of the parser under
//! test; a test is an input and the exact output expected from it.

mod firms;
mod ndjson;
mod no_panic;
mod sources;

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

#[test]
fn rows_parsed_in_chunks_equal_the_whole_file_parsed_at_once() {
    use truce_formats::{ObservationFormat, parse_observation_rows, parse_observations};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025244.txt.csv");
    let mut text = std::fs::read_to_string(path).expect("sample");
    // A bad row in the middle, so that line numbers of diagnostics are checked too.
    let at = text
        .match_indices('\n')
        .nth(100)
        .map(|(i, _)| i + 1)
        .expect("101 lines");
    text.insert_str(
        at,
        "north,38.9,367,0.69,0.74,2025-09-07,08:45:00,N20,high,2.0NRT,295.08,33.58,D,VIIRS\n",
    );
    let whole = parse_observations("f.csv", text.as_bytes());
    let header_end = text.find('\n').expect("header") + 1;
    let (header, rows) = text.split_at(header_end);
    let lines: Vec<&str> = rows.split_inclusive('\n').collect();
    let mut chunked = truce_formats::ParsedBatch::default();
    for (k, chunk) in lines.chunks(37).enumerate() {
        let part = parse_observation_rows(
            "f.csv",
            ObservationFormat::FirmsCsv,
            header.as_bytes(),
            chunk.concat().as_bytes(),
            2 + 37 * k,
        );
        chunked.observations.extend(part.observations);
        chunked.diagnostics.extend(part.diagnostics);
    }
    assert_eq!(whole.diagnostics.len(), 1);
    assert_eq!(chunked, whole);
}
