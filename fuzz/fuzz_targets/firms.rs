//! Fuzz target: any bytes as a FIRMS CSV file give observations and diagnostics, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = truce_formats::firms::parse("fuzz.csv", bytes);
});
