//! Canonical NDJSON observation records.

use chrono::{DateTime, Utc};
use truce_core::{Bearing, Equipment, EquipmentClass, Evidence, Kind, Location, Observation};
use truce_formats::{ParsedBatch, ndjson};
use truce_geo::LonLat;

use crate::diagnostics;

/// A valid line to start from.
const MINIMAL: &str = r#"{"source":"patrol-7","source_ref":"r1","kind":"explosion","observed_at":"2025-09-07T08:45:00Z","location":{"lon":37.5,"lat":48.1,"uncertainty_m":500}}"#;

fn parse(input: &str) -> ParsedBatch {
    ndjson::parse("t.ndjson", input.as_bytes())
}

/// `input` gives exactly these diagnostics (Display strings) and this many observations.
fn check_errors(input: &str, expected: &[&str], good_observations: usize) {
    let batch = parse(input);
    assert_eq!(diagnostics(&batch), expected);
    assert_eq!(batch.observations.len(), good_observations);
}

/// `line` (one JSON object) is rejected with exactly `expected`, on line 1.
fn check_rejected(line: &str, expected: &str) {
    check_errors(line, &[expected], 0);
}

/// `input` is accepted; its observations are `expected`.
fn check_observations(input: &str, expected: &[Observation]) {
    let batch = parse(input);
    assert_eq!(diagnostics(&batch), Vec::<String>::new());
    let got: Vec<&Observation> = batch.observations.iter().map(|o| &o.observation).collect();
    assert_eq!(got, expected.iter().collect::<Vec<_>>());
}

/// Each input is one accepted line; `same` says whether all have one canonical JSON (and
/// hash) or all differ.
fn check_same_content(inputs: &[impl AsRef<str>], same: bool) {
    let parsed: Vec<(String, [u8; 32])> = inputs
        .iter()
        .map(|input| {
            let input = input.as_ref();
            let batch = parse(input);
            assert_eq!(diagnostics(&batch), Vec::<String>::new(), "{input}");
            let [p] = batch.observations.as_slice() else {
                panic!("expected one observation from {input}");
            };
            (p.canonical_json.clone(), p.content_sha256)
        })
        .collect();
    for (i, a) in parsed.iter().enumerate() {
        for b in &parsed[i + 1..] {
            assert_eq!(a == b, same, "{a:?} vs {b:?}");
        }
    }
}

fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("test timestamps are valid")
        .with_timezone(&Utc)
}

fn minimal() -> Observation {
    let key = truce_core::ObservationKey {
        source: "patrol-7".into(),
        source_ref: "r1".into(),
    };
    Observation::located(
        key,
        Kind::Explosion,
        utc("2025-09-07T08:45:00Z"),
        LonLat::new(37.5, 48.1),
        500.0,
    )
}

/// `MINIMAL` with `field` (a `"key": value` JSON member) added at the end.
fn with(member: &str) -> String {
    format!("{},{member}}}", &MINIMAL[..MINIMAL.len() - 1])
}

/// `MINIMAL` without the member `key`, and with `member` added instead (if not empty).
fn replacing(key: &str, member: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(MINIMAL).expect("MINIMAL is JSON");
    value
        .as_object_mut()
        .expect("MINIMAL is an object")
        .remove(key);
    let without = value.to_string();
    if member.is_empty() {
        without
    } else {
        format!("{},{member}}}", &without[..without.len() - 1])
    }
}

#[test]
fn minimal_record() {
    check_observations(&format!("{MINIMAL}\n"), &[minimal()]);
}

#[test]
fn every_field() {
    let line = concat!(
        r#"{"source":"uav:team-3.cam_1","source_ref":"2025-09-07/0042","kind":"equipment_sighting","#,
        r#""observed_at":"2025-09-07T11:45:00.5+03:00","observed_until":"2025-09-07T09:05:00Z","#,
        r#""location":{"lon":-37,"lat":48.25,"uncertainty_m":25.5},"#,
        r#""bearing":{"observer":{"lon":37.4,"lat":48.0},"azimuth_deg":0,"sigma_deg":2.5,"max_range_m":8000},"#,
        r#""party":"RU","equipment":{"class":"mlrs_heavy","count":4},"credibility":2,"#,
        r#""text":"four TOS-1A moving \"east\"","#,
        r#""evidence":[{"sha256":"ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789","media_type":"image/jpeg","name":"p1.jpg","captured_at":"2025-09-07T08:46:00Z"},{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","media_type":"video/mp4"}],"#,
        r#""attributes":{"z":[1,{"b":null,"a":true}],"a":"x"}}"#
    );
    let mut expected = minimal();
    expected.key.source = "uav:team-3.cam_1".into();
    expected.key.source_ref = "2025-09-07/0042".into();
    expected.kind = Kind::EquipmentSighting;
    expected.observed_at = utc("2025-09-07T08:45:00.5Z");
    expected.observed_until = Some(utc("2025-09-07T09:05:00Z"));
    expected.location = Some(Location {
        position: LonLat::new(-37.0, 48.25),
        uncertainty_m: 25.5,
    });
    expected.bearing = Some(Bearing {
        observer: LonLat::new(37.4, 48.0),
        azimuth_deg: 0.0,
        sigma_deg: 2.5,
        max_range_m: Some(8000.0),
    });
    expected.party = Some("RU".into());
    expected.equipment = Some(Equipment {
        class: EquipmentClass::MlrsHeavy,
        count: 4,
    });
    expected.credibility = Some(2);
    expected.text = Some("four TOS-1A moving \"east\"".into());
    expected.evidence = vec![
        Evidence {
            sha256: "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789".into(),
            media_type: "image/jpeg".into(),
            name: Some("p1.jpg".into()),
            captured_at: Some(utc("2025-09-07T08:46:00Z")),
        },
        Evidence {
            sha256: "0".repeat(64),
            media_type: "video/mp4".into(),
            name: None,
            captured_at: None,
        },
    ];
    expected.attributes = serde_json::from_str(r#"{"z":[1,{"b":null,"a":true}],"a":"x"}"#)
        .expect("attributes are JSON");
    check_observations(line, &[expected]);
}

#[test]
fn bearing_instead_of_location() {
    let line = replacing(
        "location",
        r#""bearing":{"observer":{"lon":37.4,"lat":48.0},"azimuth_deg":359.9,"sigma_deg":5}"#,
    );
    let mut expected = minimal();
    expected.location = None;
    expected.bearing = Some(Bearing {
        observer: LonLat::new(37.4, 48.0),
        azimuth_deg: 359.9,
        sigma_deg: 5.0,
        max_range_m: None,
    });
    check_observations(&line, &[expected]);
}

#[test]
fn unknown_field() {
    check_rejected(
        &replacing("observed_at", r#""observed_on":"2025-09-07T08:45:00Z""#),
        "t.ndjson:1: field `observed_on`: unknown field (expected one of: source, source_ref, kind, observed_at, observed_until, location, bearing, party, equipment, credibility, text, evidence, attributes)",
    );
}

#[test]
fn unknown_nested_field() {
    check_rejected(
        &replacing(
            "location",
            r#""location":{"lon":37.5,"lat":48.1,"uncertainty_m":5,"alt_m":120}"#,
        ),
        "t.ndjson:1: field `location.alt_m`: unknown field (expected one of: lon, lat, uncertainty_m)",
    );
    check_rejected(
        &with(
            r#""evidence":[{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","media_type":"image/png","size":3}]"#,
        ),
        "t.ndjson:1: field `evidence[0].size`: unknown field (expected one of: sha256, media_type, name, captured_at)",
    );
}

#[test]
fn timestamp_without_offset() {
    check_rejected(
        &replacing("observed_at", r#""observed_at":"2025-09-01T00:52:00""#),
        "t.ndjson:1: field `observed_at`: timestamp `2025-09-01T00:52:00` has no UTC offset: RFC 3339 needs `Z` or an offset such as `+03:00`",
    );
    check_rejected(
        &with(r#""observed_until":"2025-09-07 09:00:00.25""#),
        "t.ndjson:1: field `observed_until`: timestamp `2025-09-07 09:00:00.25` has no UTC offset: RFC 3339 needs `Z` or an offset such as `+03:00`",
    );
}

#[test]
fn timestamp_is_stored_in_utc() {
    let line = replacing(
        "observed_at",
        r#""observed_at":"2025-09-07T11:45:00+03:00""#,
    );
    check_observations(&line, &[minimal()]);
}

#[test]
fn equipment_sighting_without_equipment() {
    check_rejected(
        &replacing("kind", r#""kind":"equipment_sighting""#),
        "t.ndjson:1: field `equipment`: missing required field (kind `equipment_sighting` needs `equipment`)",
    );
}

#[test]
fn location_or_bearing_required() {
    check_rejected(
        &replacing("location", ""),
        "t.ndjson:1: field `location`: missing required field (a location is needed unless a `bearing` is given)",
    );
}

#[test]
fn field_constraints() {
    let cases: &[(String, &str)] = &[
        (
            replacing("source", ""),
            "t.ndjson:1: field `source`: missing required field",
        ),
        (
            replacing("source", r#""source":"patrol 7""#),
            "t.ndjson:1: field `source`: character ` ` is not allowed (use only A-Z a-z 0-9 . _ : -)",
        ),
        (
            replacing("source", &format!(r#""source":"{}""#, "a".repeat(129))),
            "t.ndjson:1: field `source`: must be 1–128 characters, found 129",
        ),
        (
            replacing("source", r#""source":7"#),
            "t.ndjson:1: field `source`: expected a string, found a number",
        ),
        (
            replacing("source_ref", r#""source_ref":"""#),
            "t.ndjson:1: field `source_ref`: must be 1–256 characters, found 0",
        ),
        (
            replacing(
                "source_ref",
                &format!(r#""source_ref":"{}""#, "é".repeat(257)),
            ),
            "t.ndjson:1: field `source_ref`: must be 1–256 characters, found 257",
        ),
        (
            replacing("kind", r#""kind":"shelling""#),
            "t.ndjson:1: field `kind`: unknown kind `shelling` (expected one of: explosion, outgoing_fire, small_arms_fire, thermal_anomaly, equipment_sighting, troop_presence, movement, air_activity, monitor_restriction, civilian_harm, infrastructure_damage, notification)",
        ),
        (
            replacing("observed_at", r#""observed_at":"yesterday""#),
            "t.ndjson:1: field `observed_at`: expected an RFC 3339 timestamp with offset such as `2025-09-01T00:52:00Z`, found `yesterday`",
        ),
        (
            with(r#""observed_until":"2025-09-07T08:44:59Z""#),
            "t.ndjson:1: field `observed_until`: is before `observed_at`: an interval must not end before it starts",
        ),
        (
            replacing(
                "location",
                r#""location":{"lon":37.5,"lat":91,"uncertainty_m":5}"#,
            ),
            "t.ndjson:1: field `location.lat`: must be in [-90, 90], found 91",
        ),
        (
            replacing(
                "location",
                r#""location":{"lon":-180.5,"lat":48,"uncertainty_m":5}"#,
            ),
            "t.ndjson:1: field `location.lon`: must be in [-180, 180], found -180.5",
        ),
        (
            replacing("location", r#""location":{"lon":37.5,"lat":48}"#),
            "t.ndjson:1: field `location.uncertainty_m`: missing required field",
        ),
        (
            replacing(
                "location",
                r#""location":{"lon":37.5,"lat":48,"uncertainty_m":0}"#,
            ),
            "t.ndjson:1: field `location.uncertainty_m`: must be greater than 0, found 0",
        ),
        (
            replacing("location", r#""location":[37.5,48]"#),
            "t.ndjson:1: field `location`: expected an object, found an array",
        ),
        (
            with(r#""bearing":{"observer":{"lon":37,"lat":48},"azimuth_deg":360,"sigma_deg":1}"#),
            "t.ndjson:1: field `bearing.azimuth_deg`: must be in [0, 360), found 360",
        ),
        (
            with(r#""bearing":{"observer":{"lon":37,"lat":48},"azimuth_deg":-1,"sigma_deg":1}"#),
            "t.ndjson:1: field `bearing.azimuth_deg`: must be in [0, 360), found -1",
        ),
        (
            with(r#""bearing":{"observer":{"lon":37,"lat":48},"azimuth_deg":10,"sigma_deg":0}"#),
            "t.ndjson:1: field `bearing.sigma_deg`: must be greater than 0, found 0",
        ),
        (
            with(
                r#""bearing":{"observer":{"lon":37,"lat":48},"azimuth_deg":10,"sigma_deg":1,"max_range_m":-5.5}"#,
            ),
            "t.ndjson:1: field `bearing.max_range_m`: must be greater than 0, found -5.5",
        ),
        (
            with(r#""bearing":{"observer":{"lon":37},"azimuth_deg":10,"sigma_deg":1}"#),
            "t.ndjson:1: field `bearing.observer.lat`: missing required field",
        ),
        (
            with(r#""party":null"#),
            "t.ndjson:1: field `party`: expected a string, found null (leave the field out when it has no value)",
        ),
        (
            with(r#""equipment":{"class":"tanks","count":1}"#),
            "t.ndjson:1: field `equipment.class`: unknown equipment class `tanks` (expected one of: tank, apc_ifv, artillery_ge_100mm, artillery_lt_100mm, mortar, mlrs, mlrs_heavy, tactical_missile, air_defence, combat_aircraft, helicopter, uav, other)",
        ),
        (
            with(r#""equipment":{"class":"tank","count":-1}"#),
            "t.ndjson:1: field `equipment.count`: expected a whole number 0–4294967295, found -1",
        ),
        (
            with(r#""equipment":{"class":"tank","count":4294967296}"#),
            "t.ndjson:1: field `equipment.count`: expected a whole number 0–4294967295, found 4294967296",
        ),
        (
            with(r#""equipment":{"class":"tank"}"#),
            "t.ndjson:1: field `equipment.count`: missing required field",
        ),
        (
            with(r#""credibility":7"#),
            "t.ndjson:1: field `credibility`: expected an integer 1–6, found 7",
        ),
        (
            with(r#""credibility":2.0"#),
            "t.ndjson:1: field `credibility`: expected an integer 1–6, found 2.0",
        ),
        (
            with(r#""credibility":"2""#),
            "t.ndjson:1: field `credibility`: expected an integer 1–6, found `2`",
        ),
        (
            with(&format!(r#""text":"{}""#, "ж".repeat(10_001))),
            "t.ndjson:1: field `text`: must be at most 10000 characters, found 10001",
        ),
        (
            with(r#""evidence":{"sha256":"00"}"#),
            "t.ndjson:1: field `evidence`: expected an array, found an object",
        ),
        (
            with(r#""evidence":[{"sha256":"00","media_type":"image/png"}]"#),
            "t.ndjson:1: field `evidence[0].sha256`: expected 64 hexadecimal digits (a SHA-256), found `00`",
        ),
        (
            with(
                r#""evidence":[{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","media_type":""}]"#,
            ),
            "t.ndjson:1: field `evidence[0].media_type`: must not be empty (e.g. `image/jpeg`)",
        ),
        (
            with(
                r#""evidence":[{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","media_type":"a/b","captured_at":"2025-09-07"}]"#,
            ),
            "t.ndjson:1: field `evidence[0].captured_at`: expected an RFC 3339 timestamp with offset such as `2025-09-01T00:52:00Z`, found `2025-09-07`",
        ),
        (
            with(r#""attributes":[1]"#),
            "t.ndjson:1: field `attributes`: expected an object, found an array",
        ),
    ];
    for (line, expected) in cases {
        check_rejected(line, expected);
    }
}

#[test]
fn lines_that_are_not_records() {
    check_errors(
        "[1,2]\n{\"source\":\n\"text\"\n{\"kind\":\"a\",\"kind\":\"b\"}\n{} {}\n",
        &[
            "t.ndjson:1: expected a JSON object, found an array",
            "t.ndjson:2: invalid JSON at column 10: EOF while parsing a value",
            "t.ndjson:3: expected a JSON object, found a string",
            "t.ndjson:4: invalid JSON at column 18: duplicate key `kind`",
            "t.ndjson:5: invalid JSON at column 4: trailing characters",
        ],
        0,
    );
}

#[test]
fn invalid_utf8() {
    let batch = ndjson::parse("t.ndjson", b"{\"source\":\"\xff\"}\n");
    assert_eq!(
        diagnostics(&batch),
        ["t.ndjson:1: not valid UTF-8 (at byte 12 of the line)"]
    );
}

#[test]
fn line_ends_and_blank_lines() {
    // A trailing `\r` and one final newline are fine; a blank line inside is not, and every
    // bad line is reported while the good ones are kept.
    check_errors(&format!("{MINIMAL}\r\n{MINIMAL}"), &[], 2);
    check_errors(
        &format!("{MINIMAL}\n\n{MINIMAL}\n \n{}\n\n", replacing("kind", "")),
        &[
            "t.ndjson:2: blank line: every line of an NDJSON batch must hold one JSON object",
            "t.ndjson:4: blank line: every line of an NDJSON batch must hold one JSON object",
            "t.ndjson:5: field `kind`: missing required field",
            "t.ndjson:6: blank line: every line of an NDJSON batch must hold one JSON object",
        ],
        2,
    );
    check_errors("", &[], 0);
    let lines: Vec<usize> = parse(&format!("{MINIMAL}\n{MINIMAL}\n"))
        .observations
        .iter()
        .map(|o| o.line)
        .collect();
    assert_eq!(lines, [1, 2]);
}

#[test]
fn canonical_json_ignores_key_order_and_spacing() {
    check_same_content(
        &[
            MINIMAL,
            r#"{"location":{"uncertainty_m":500,"lat":48.1,"lon":37.5},"observed_at":"2025-09-07T08:45:00Z","kind":"explosion","source_ref":"r1","source":"patrol-7"}"#,
            "  { \"source\" : \"patrol-7\",\t\"kind\":\"explosion\", \"source_ref\":\"r1\",\n\"observed_at\":\"2025-09-07T08:45:00Z\", \"location\": {\"lat\": 48.10, \"lon\": 37.5, \"uncertainty_m\": 500} }  ",
        ]
        .map(|line| line.replace('\n', " ")),
        true,
    );
    check_same_content(
        &[
            with(r#""attributes":{"b":1,"a":{"y":2,"x":[3,{"q":0,"p":1}]}}"#),
            with(r#""attributes":{"a":{"x":[3,{"p":1,"q":0}],"y":2},"b":1}"#),
        ],
        true,
    );
    // Different values are different content, even when they mean the same instant.
    check_same_content(
        &[
            MINIMAL.to_owned(),
            replacing(
                "observed_at",
                r#""observed_at":"2025-09-07T11:45:00+03:00""#,
            ),
            with(r#""attributes":{"b":1}"#),
            with(r#""attributes":{"b":"1"}"#),
        ],
        false,
    );
}

#[test]
fn canonical_json_of_a_record() {
    let batch = parse(&with(r#""attributes":{"b":1,"a":"é\n"}"#));
    let canonical: Vec<&str> = batch
        .observations
        .iter()
        .map(|o| o.canonical_json.as_str())
        .collect();
    assert_eq!(
        canonical,
        [concat!(
            r#"{"attributes":{"a":"é\n","b":1},"kind":"explosion","#,
            r#""location":{"lat":48.1,"lon":37.5,"uncertainty_m":500},"#,
            r#""observed_at":"2025-09-07T08:45:00Z","source":"patrol-7","source_ref":"r1"}"#
        )]
    );
}

#[test]
fn wire_json_of_an_observation_reads_back() {
    // `to_wire_json` → canonical JSON → `parse` is the identity on observations.
    let batch = parse(&with(
        r#""observed_until":"2025-09-07T08:00:00.25-01:00","party":"UA","text":"t","credibility":6,"evidence":[{"sha256":"ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789","media_type":"image/jpeg","captured_at":"2025-09-07T08:46:00-02:30"}],"bearing":{"observer":{"lon":1,"lat":2},"azimuth_deg":3,"sigma_deg":4,"max_range_m":5},"equipment":{"class":"uav","count":0}"#,
    ));
    assert_eq!(diagnostics(&batch), Vec::<String>::new());
    let original = &batch.observations[0].observation;
    let wire = ndjson::canonical_json(&ndjson::to_wire_json(original)).expect("writes");
    check_observations(&wire, std::slice::from_ref(original));
}

#[test]
fn long_floats_are_read_exactly() {
    // serde_json's default float parsing can be one unit in the last place off for 17-digit
    // numbers; the parser reads them correctly rounded, so that they write back unchanged.
    // The string before them holds digits and an escaped quote that the number scan skips.
    let line = replacing(
        "location",
        r#""attributes":{"a":"x\"-1.5e3 ,2","b":[7,-0.0]},"location":{"lon":39.61979,"lat":48.52205,"uncertainty_m":404.01113846031524}"#,
    );
    let batch = parse(&line);
    assert_eq!(diagnostics(&batch), Vec::<String>::new());
    let parsed = &batch.observations[0];
    let location = parsed.observation.location.expect("located");
    assert_eq!(location.uncertainty_m, 404.011_138_460_315_24);
    assert_eq!(
        parsed.canonical_json,
        concat!(
            r#"{"attributes":{"a":"x\"-1.5e3 ,2","b":[7,-0.0]},"kind":"explosion","#,
            r#""location":{"lat":48.52205,"lon":39.61979,"uncertainty_m":404.01113846031524},"#,
            r#""observed_at":"2025-09-07T08:45:00Z","source":"patrol-7","source_ref":"r1"}"#
        )
    );
}
