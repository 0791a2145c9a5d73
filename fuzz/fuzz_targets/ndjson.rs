//! Fuzz target: any bytes as an NDJSON batch give observations and diagnostics, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = truce_formats::ndjson::parse("fuzz.ndjson", bytes);
});
