//! Fuzz target: any bytes as GeoJSON give a contact line / control area or a diagnostic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = truce_formats::agreement::parse_contact_line("fuzz.geojson", bytes);
    let _ = truce_formats::agreement::parse_control_area("fuzz.geojson", bytes);
    let _ = truce_formats::points::parse_points("fuzz.csv", bytes);
});
