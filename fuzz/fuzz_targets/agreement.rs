//! Fuzz target: any bytes as an agreement file (with fixed, valid geometry files) give an
//! agreement or a diagnostic, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const LINE: &[u8] = br#"{"type": "LineString", "coordinates": [[30.0, 48.0], [31.0, 48.5]]}"#;
const CONTROL: &[u8] =
    br#"{"type": "Polygon", "coordinates": [[[30.0, 48.0], [31.0, 48.0], [31.0, 49.0], [30.0, 48.0]]]}"#;

fuzz_target!(|bytes: &[u8]| {
    let _ = truce_formats::agreement::parse_agreement("fuzz.toml", bytes, |name| {
        if name.contains("control") { Ok(CONTROL.to_vec()) } else { Ok(LINE.to_vec()) }
    });
});
