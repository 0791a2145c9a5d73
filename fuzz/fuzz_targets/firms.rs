//! Fuzz target: any bytes as a FIRMS CSV file give observations and diagnostics, no panic;
//! the store's rows (`parse_for_store`) have the same canonical JSON and diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let parsed = truce_formats::firms::parse("fuzz.csv", bytes);
    let for_store = truce_formats::firms::parse_for_store("fuzz.csv", bytes);
    assert_eq!(for_store.diagnostics, parsed.diagnostics);
    let fast: Vec<&str> = for_store.rows.iter().map(|r| r.canonical_json.as_str()).collect();
    let slow: Vec<&str> = parsed.observations.iter().map(|o| o.canonical_json.as_str()).collect();
    assert_eq!(fast, slow);
});
