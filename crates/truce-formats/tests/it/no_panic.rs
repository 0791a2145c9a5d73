//! Whatever the bytes, the parsers return observations and diagnostics: they never panic.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;
use sha2::Digest;
use truce_formats::{ParsedBatch, firms, ndjson, parse_observations};

/// Parses `bytes` with every observation parser and checks what always holds.
fn check_no_panic(bytes: &[u8]) {
    let from_firms = firms::parse("fuzz.csv", bytes);
    check_batch(&from_firms);
    // The store's rows, written without the observations, are the same rows.
    let for_store = firms::parse_for_store("fuzz.csv", bytes);
    assert_eq!(for_store.diagnostics, from_firms.diagnostics);
    assert_eq!(for_store.rows.len(), from_firms.observations.len());
    for (row, parsed) in for_store.rows.iter().zip(&from_firms.observations) {
        assert_eq!(row.canonical_json, parsed.canonical_json);
        assert_eq!(row.content_sha256, parsed.content_sha256);
        assert_eq!(
            (&row.key, row.observed_at, row.position, row.line),
            (
                &parsed.observation.key,
                parsed.observation.observed_at,
                parsed.observation.position(),
                parsed.line
            )
        );
    }
    let from_ndjson = ndjson::parse("fuzz.ndjson", bytes);
    check_batch(&from_ndjson);
    // NDJSON gives exactly one observation or one diagnostic per line.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let lines = if text.is_empty() {
        0
    } else {
        body.split(|&b| b == b'\n').count()
    };
    assert_eq!(
        from_ndjson.observations.len() + from_ndjson.diagnostics.len(),
        lines
    );
    check_batch(&parse_observations("fuzz", bytes));
}

fn check_batch(batch: &ParsedBatch) {
    for parsed in &batch.observations {
        assert!(parsed.line >= 1);
        let digest: [u8; 32] = sha2::Sha256::digest(parsed.canonical_json.as_bytes()).into();
        assert_eq!(parsed.content_sha256, digest);
        let reparsed: Value =
            serde_json::from_str(&parsed.canonical_json).expect("canonical JSON is JSON");
        assert!(reparsed.is_object());
    }
    for diagnostic in &batch.diagnostics {
        assert!(!diagnostic.to_string().is_empty());
    }
}

const FIRMS_COLUMNS: &[&str] = &[
    "latitude",
    "longitude",
    "acq_date",
    "acq_time",
    "satellite",
    "instrument",
    "bright_ti4",
    "bright_ti5",
    "brightness",
    "bright_t31",
    "scan",
    "track",
    "confidence",
    "version",
    "frp",
    "daynight",
];

const FIRMS_CELLS: &[&str] = &[
    "",
    "0",
    "-0",
    "48.56341",
    "-90",
    "91",
    "180.0000001",
    "NaN",
    "inf",
    "1e309",
    "2025-09-07",
    "2025-02-30",
    "2025-9-7",
    "52",
    "1045",
    "2460",
    "10:45",
    "10:45:00",
    "24:00:00",
    "N20",
    "Aqua",
    "VIIRS",
    "MODIS",
    "viirs",
    "n",
    "0.69",
    "\"",
    "\"a,b\"",
    "\"x\ny\"",
    "é",
    "12345678901234567890",
    "-1.5e-3",
];

/// Text shaped like a FIRMS file: a header of real and odd column names, rows of plausible
/// and broken cells, LF or CRLF, maybe a byte-order mark.
fn firms_like() -> impl Strategy<Value = String> {
    let name = prop_oneof![4 => select(FIRMS_COLUMNS).prop_map(str::to_owned), 1 => "[a-z_ ]{0,6}"];
    let cell = prop_oneof![4 => select(FIRMS_CELLS).prop_map(str::to_owned), 1 => "\\PC{0,8}"];
    (
        prop::collection::vec(name, 0..18),
        prop::collection::vec(prop::collection::vec(cell, 0..18), 0..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(header, rows, crlf, bom)| {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = String::from(if bom { "\u{feff}" } else { "" });
            text.push_str(&header.join(","));
            for row in rows {
                text.push_str(end);
                text.push_str(&row.join(","));
            }
            text
        })
}

const NDJSON_KEYS: &[&str] = &[
    "source",
    "source_ref",
    "kind",
    "observed_at",
    "observed_until",
    "location",
    "bearing",
    "observer",
    "lon",
    "lat",
    "uncertainty_m",
    "azimuth_deg",
    "sigma_deg",
    "max_range_m",
    "party",
    "equipment",
    "class",
    "count",
    "credibility",
    "text",
    "evidence",
    "sha256",
    "media_type",
    "name",
    "captured_at",
    "attributes",
    "other",
];

const NDJSON_STRINGS: &[&str] = &[
    "",
    "patrol-7",
    "equipment_sighting",
    "explosion",
    "tank",
    "2025-09-07T08:45:00Z",
    "2025-09-07T08:45:00+03:00",
    "2025-09-07T08:45:00",
    "2025-09-07 08:45:00",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "image/jpeg",
];

/// JSON values made of the record's field names and plausible and broken values.
fn json_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-400.0..400.0f64).prop_map(Value::from),
        select(&[0.0, 1.0, 6.0, 90.0, 180.0, 360.0, 4_294_967_296.0][..]).prop_map(Value::from),
        select(NDJSON_STRINGS).prop_map(Value::from),
        "\\PC{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((select(NDJSON_KEYS), inner), 0..8).prop_map(|members| {
                Value::Object(
                    members
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value))
                        .collect(),
                )
            }),
        ]
    })
}

/// Lines shaped like NDJSON: JSON values, some cut short or with a stray byte.
fn ndjson_like() -> impl Strategy<Value = Vec<u8>> {
    let line = (
        json_like(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..4u8,
    )
        .prop_map(|(value, at, stray, damage)| {
            let mut line = value.to_string().into_bytes();
            let at = at.index(line.len() + 1);
            match damage {
                0 => line.truncate(at),
                1 => line.insert(at, stray),
                _ => {}
            }
            line
        });
    prop::collection::vec(line, 0..6).prop_map(|lines| lines.join(&b'\n'))
}

proptest! {
    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check_no_panic(&bytes);
    }

    #[test]
    fn random_firms_like_text(text in firms_like()) {
        check_no_panic(text.as_bytes());
    }

    #[test]
    fn random_ndjson_like_lines(bytes in ndjson_like()) {
        check_no_panic(&bytes);
    }
}
