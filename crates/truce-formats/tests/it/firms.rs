//! NASA FIRMS CSV → `thermal_anomaly` observations.

use truce_formats::{ParsedBatch, firms, ndjson};

use crate::{data_file, diagnostics};

/// The VIIRS header of `observation.md`.
const VIIRS_HEADER: &str = "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight,instrument";
/// The example row of `observation.md`.
const VIIRS_ROW: &str =
    "48.56341,38.93948,367,0.69,0.74,2025-09-07,08:45:00,N20,high,2.0NRT,295.08,33.58,D,VIIRS";

fn parse(input: &[u8]) -> ParsedBatch {
    firms::parse("t.csv", input)
}

/// `input` parses without diagnostics into observations with exactly these canonical JSONs.
fn check_canonical(input: &str, expected: &[&str]) {
    let batch = parse(input.as_bytes());
    assert_eq!(diagnostics(&batch), Vec::<String>::new());
    let canonical: Vec<&str> = batch
        .observations
        .iter()
        .map(|o| o.canonical_json.as_str())
        .collect();
    assert_eq!(canonical, expected);
}

/// `input` gives exactly these diagnostics (Display strings) and this many observations.
fn check_errors(input: &str, expected: &[&str], good_observations: usize) {
    let batch = parse(input.as_bytes());
    assert_eq!(diagnostics(&batch), expected);
    assert_eq!(batch.observations.len(), good_observations);
}

/// One VIIRS row whose `acq_time` is `acq_time` is observed at `observed_at` (RFC 3339).
fn check_acq_time(acq_time: &str, observed_at: &str) {
    let row = VIIRS_ROW.replace("08:45:00", acq_time);
    let batch = parse(format!("{VIIRS_HEADER}\n{row}\n").as_bytes());
    assert_eq!(diagnostics(&batch), Vec::<String>::new());
    let [parsed] = batch.observations.as_slice() else {
        panic!("expected one observation, got {}", batch.observations.len());
    };
    assert_eq!(parsed.observation.observed_at.to_rfc3339(), observed_at);
    assert_eq!(
        parsed.observation.key.source_ref,
        format!("2025-09-07T{acq_time}@48.56341,38.93948")
    );
}

/// `input` parses without diagnostics; its observations have these (source, source_ref,
/// observed_at, lon, lat, uncertainty_m).
fn check_mapping(input: &str, expected: &[(&str, &str, &str, f64, f64, f64)]) {
    let batch = parse(input.as_bytes());
    assert_eq!(diagnostics(&batch), Vec::<String>::new());
    let got: Vec<(&str, &str, String, f64, f64, f64)> = batch
        .observations
        .iter()
        .map(|p| {
            let o = &p.observation;
            let location = o.location.expect("FIRMS observations are located");
            (
                o.key.source.as_str(),
                o.key.source_ref.as_str(),
                o.observed_at.to_rfc3339(),
                location.position.lon_deg,
                location.position.lat_deg,
                location.uncertainty_m,
            )
        })
        .collect();
    let expected: Vec<(&str, &str, String, f64, f64, f64)> = expected
        .iter()
        .map(|&(s, r, t, lon, lat, u)| (s, r, t.to_owned(), lon, lat, u))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn spec_example_row() {
    check_canonical(
        &format!("{VIIRS_HEADER}\n{VIIRS_ROW}\n"),
        &[concat!(
            r#"{"attributes":{"bright_ti4":367,"bright_ti5":295.08,"confidence":"high","daynight":"D","#,
            r#""frp":33.58,"scan":0.69,"track":0.74,"version":"2.0NRT"},"kind":"thermal_anomaly","#,
            r#""location":{"lat":48.56341,"lon":38.93948,"uncertainty_m":505.89030431507575},"#,
            r#""observed_at":"2025-09-07T08:45:00Z","source":"firms:viirs:n20","#,
            r#""source_ref":"2025-09-07T08:45:00@48.56341,38.93948"}"#
        )],
    );
}

#[test]
fn content_sha256_is_the_hash_of_the_canonical_json() {
    // Computed independently: Python's hashlib.sha256 of the canonical JSON above.
    let batch = parse(format!("{VIIRS_HEADER}\n{VIIRS_ROW}\n").as_bytes());
    let hashes: Vec<String> = batch
        .observations
        .iter()
        .map(|o| hex::encode(o.content_sha256))
        .collect();
    assert_eq!(
        hashes,
        ["cc10ecb9a48406ba903e467206cc5935842cf69f1ed966e098eae9d4311f480a"]
    );
}

#[test]
fn row_with_too_few_fields() {
    check_errors(
        &format!(
            "{VIIRS_HEADER}\n{VIIRS_ROW}\n48.56341,38.93948,367,0.69,0.74,2025-09-07,08:45:00,N20,high,2.0NRT,295.08,33.58,D\n"
        ),
        &["t.csv:3: expected 14 fields as in the header, found 13"],
        1,
    );
}

#[test]
fn row_with_too_many_fields() {
    check_errors(
        &format!("{VIIRS_HEADER}\n{VIIRS_ROW},extra\n"),
        &["t.csv:2: expected 14 fields as in the header, found 15"],
        0,
    );
}

#[test]
fn latitude_not_a_number() {
    check_errors(
        &format!(
            "{VIIRS_HEADER}\n{}\n",
            VIIRS_ROW.replace("48.56341", "north")
        ),
        &["t.csv:2: field `latitude`: expected a number, found `north`"],
        0,
    );
}

#[test]
fn latitude_out_of_range() {
    check_errors(
        &format!("{VIIRS_HEADER}\n{}\n", VIIRS_ROW.replace("48.56341", "91")),
        &["t.csv:2: field `latitude`: must be in [-90, 90], found 91"],
        0,
    );
}

#[test]
fn bad_coordinates() {
    check_errors(
        &format!(
            "{VIIRS_HEADER}\n{}\n{}\n{}\n{}\n",
            VIIRS_ROW.replace("48.56341", "NaN"),
            VIIRS_ROW.replace("48.56341", ""),
            VIIRS_ROW.replace("38.93948", "-180.5"),
            VIIRS_ROW.replace("48.56341", "-90"),
        ),
        &[
            "t.csv:2: field `latitude`: expected a finite number, found `NaN`",
            "t.csv:3: field `latitude`: expected a number, found ``",
            "t.csv:4: field `longitude`: must be in [-180, 180], found -180.5",
        ],
        1,
    );
}

#[test]
fn bad_dates_and_times() {
    check_errors(
        &format!(
            "{VIIRS_HEADER}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            VIIRS_ROW.replace("2025-09-07", "2025/09/07"),
            VIIRS_ROW.replace("2025-09-07", "2025-02-30"),
            VIIRS_ROW.replace("08:45:00", "2460"),
            VIIRS_ROW.replace("08:45:00", "8:45"),
            VIIRS_ROW.replace("08:45:00", "08:45:60"),
            VIIRS_ROW.replace("08:45:00", "12345"),
        ),
        &[
            "t.csv:2: field `acq_date`: expected a date YYYY-MM-DD, found `2025/09/07`",
            "t.csv:3: field `acq_date`: `2025-02-30` is not a calendar date",
            "t.csv:4: field `acq_time`: `2460` is not a time of day",
            "t.csv:5: field `acq_time`: expected a time HH:MM:SS, HH:MM or HHMM (1–4 digits), found `8:45`",
            "t.csv:6: field `acq_time`: `08:45:60` is not a time of day",
            "t.csv:7: field `acq_time`: expected a time HH:MM:SS, HH:MM or HHMM (1–4 digits), found `12345`",
        ],
        0,
    );
}

#[test]
fn acq_time_forms() {
    check_acq_time("52", "2025-09-07T00:52:00+00:00");
    check_acq_time("5", "2025-09-07T00:05:00+00:00");
    check_acq_time("130", "2025-09-07T01:30:00+00:00");
    check_acq_time("1045", "2025-09-07T10:45:00+00:00");
    check_acq_time("0052", "2025-09-07T00:52:00+00:00");
    check_acq_time("10:45", "2025-09-07T10:45:00+00:00");
    check_acq_time("10:45:00", "2025-09-07T10:45:00+00:00");
    check_acq_time("23:59:59", "2025-09-07T23:59:59+00:00");
}

#[test]
fn missing_required_columns() {
    check_errors(
        "latitude,bright_ti4,acq_date,acq_time,instrument\n48.5,300,2025-09-07,0845,VIIRS\n",
        &[
            "t.csv:1: field `longitude`: required column is missing from the header",
            "t.csv:1: field `satellite`: required column is missing from the header",
        ],
        0,
    );
}

#[test]
fn header_problems() {
    check_errors(
        "latitude,longitude,acq_date,acq_time,satellite,frp,frp,\n",
        &[
            "t.csv:1: field `frp`: column appears twice in the header (columns 6 and 7)",
            "t.csv:1: header: column 8 has no name",
            "t.csv:1: field `instrument`: cannot tell the instrument: the header has no `instrument` column, and neither `bright_ti4` (VIIRS) nor `brightness` (MODIS)",
        ],
        0,
    );
    check_errors(
        "",
        &[
            "t.csv: empty file: expected a FIRMS header line (latitude,longitude,...,acq_date,acq_time,satellite,...)",
        ],
        0,
    );
}

#[test]
fn header_only_is_an_empty_batch() {
    check_errors(&format!("{VIIRS_HEADER}\n"), &[], 0);
}

#[test]
fn every_bad_row_is_reported_and_good_rows_kept() {
    let input = format!(
        "{VIIRS_HEADER}\n{VIIRS_ROW}\n{}\n{VIIRS_ROW}\n{}\n",
        VIIRS_ROW.replace("N20", ""),
        VIIRS_ROW.replace("VIIRS", "VI/IRS"),
    );
    check_errors(
        &input,
        &[
            "t.csv:3: field `satellite`: empty: expected e.g. `N20` or `Aqua`",
            "t.csv:5: field `instrument`: character `/` is not allowed (use only A-Z a-z 0-9 . _ : -)",
        ],
        2,
    );
}

#[test]
fn source_source_ref_and_uncertainty() {
    // Columns in another order, a satellite in mixed case, numbers spelled unusually: the
    // source is lower case, source_ref keeps the text exactly as written.
    check_mapping(
        "acq_time,satellite,instrument,longitude,scan,track,latitude,acq_date,bright_ti4\n\
         0052,Noaa21,VIIRS,038.939480,0.4,0.3,-0.50,2025-09-01,300\n",
        &[(
            "firms:viirs:noaa21",
            "2025-09-01T0052@-0.50,038.939480",
            "2025-09-01T00:52:00+00:00",
            38.93948,
            -0.5,
            250.0,
        )],
    );
}

#[test]
fn modis_column_set() {
    check_canonical(
        "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_t31,frp,daynight\n\
         48.1,37.5,320.5,1.2,1.1,2025-09-07,845,Aqua,MODIS,78,6.1NRT,290.1,25.3,D\n",
        &[concat!(
            r#"{"attributes":{"bright_t31":290.1,"brightness":320.5,"confidence":78,"daynight":"D","#,
            r#""frp":25.3,"scan":1.2,"track":1.1,"version":"6.1NRT"},"kind":"thermal_anomaly","#,
            r#""location":{"lat":48.1,"lon":37.5,"uncertainty_m":813.9410298049854},"#,
            r#""observed_at":"2025-09-07T08:45:00Z","source":"firms:modis:aqua","#,
            r#""source_ref":"2025-09-07T845@48.1,37.5"}"#
        )],
    );
}

#[test]
fn instrument_and_pixel_size_from_the_columns() {
    // No `instrument` column: told by `brightness` (MODIS) or `bright_ti4` (VIIRS); no
    // `scan`/`track`: the instrument's pixel size.
    check_mapping(
        "latitude,longitude,brightness,acq_date,acq_time,satellite,confidence\n\
         48.1,37.5,320.5,2025-09-07,08:45,Terra,78\n",
        &[(
            "firms:modis:terra",
            "2025-09-07T08:45@48.1,37.5",
            "2025-09-07T08:45:00+00:00",
            37.5,
            48.1,
            1000.0,
        )],
    );
    check_mapping(
        "latitude,longitude,bright_ti4,acq_date,acq_time,satellite,confidence\n\
         48.1,37.5,320.5,2025-09-07,08:45,N,n\n",
        &[(
            "firms:viirs:n",
            "2025-09-07T08:45@48.1,37.5",
            "2025-09-07T08:45:00+00:00",
            37.5,
            48.1,
            375.0,
        )],
    );
}

#[test]
fn unknown_instrument_without_pixel_size() {
    check_errors(
        "latitude,longitude,acq_date,acq_time,satellite,instrument\n48.1,37.5,2025-09-07,0845,L8,OLI\n",
        &[
            "t.csv:2: field `instrument`: the file has no `scan` and `track` columns and instrument `OLI` has no default pixel size (VIIRS 375 m, MODIS 1000 m)",
        ],
        0,
    );
}

#[test]
fn bad_pixel_size() {
    check_errors(
        &format!("{VIIRS_HEADER}\n{}\n", VIIRS_ROW.replace("0.74", "0")),
        &["t.csv:2: field `track`: expected a pixel size in km greater than 0, found 0"],
        0,
    );
}

#[test]
fn attribute_values_numbers_and_strings() {
    check_canonical(
        "latitude,longitude,bright_ti4,acq_date,acq_time,satellite,a,b,c,d,e,f,g,h,i\n\
         1,2,-1.5,2025-09-07,0845,N20,007,+1,.5,1e3,0.50,12345678901234567890,nominal,,-0\n",
        &[concat!(
            r#"{"attributes":{"a":"007","b":"+1","bright_ti4":-1.5,"c":".5","d":1000.0,"e":0.5,"#,
            r#""f":"12345678901234567890","g":"nominal","h":"","i":0},"kind":"thermal_anomaly","#,
            r#""location":{"lat":1.0,"lon":2.0,"uncertainty_m":375.0},"#,
            r#""observed_at":"2025-09-07T08:45:00Z","source":"firms:viirs:n20","#,
            r#""source_ref":"2025-09-07T0845@1,2"}"#
        )],
    );
}

#[test]
fn byte_order_mark_and_crlf() {
    let input = format!("\u{feff}{VIIRS_HEADER}\r\n{VIIRS_ROW}\r\n{VIIRS_ROW}\r\n");
    let crlf = parse(input.as_bytes());
    let lf = parse(format!("{VIIRS_HEADER}\n{VIIRS_ROW}\n{VIIRS_ROW}\n").as_bytes());
    assert_eq!(diagnostics(&crlf), Vec::<String>::new());
    assert_eq!(crlf, lf);
    let lines: Vec<usize> = crlf.observations.iter().map(|o| o.line).collect();
    assert_eq!(lines, [2, 3]);
    assert_eq!(
        crlf.observations[0].observation.key.source,
        "firms:viirs:n20"
    );
}

#[test]
fn line_numbers_count_blank_lines_and_quoted_cells() {
    let quoted_row = VIIRS_ROW.replace("high", "\"hi\ngh\"");
    let input = format!("{VIIRS_HEADER}\n\n{VIIRS_ROW}\n{quoted_row}\n{VIIRS_ROW},x\n");
    let batch = parse(input.as_bytes());
    let lines: Vec<usize> = batch.observations.iter().map(|o| o.line).collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(
        diagnostics(&batch),
        ["t.csv:6: expected 14 fields as in the header, found 15"]
    );
}

#[test]
fn real_sample_noaa20_2025_09_01() {
    let bytes = data_file("J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025244.txt.csv");
    let batch = firms::parse("J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025244.txt.csv", &bytes);
    assert_eq!(diagnostics(&batch), Vec::<String>::new());
    assert_eq!(batch.observations.len(), 283);
    let first = &batch.observations[0];
    assert_eq!(first.line, 2);
    assert_eq!(
        first.canonical_json,
        concat!(
            r#"{"attributes":{"bright_ti4":305.95,"bright_ti5":289.34,"confidence":"nominal","#,
            r#""daynight":"N","frp":1.45,"scan":0.47,"track":0.64,"version":"2.0NRT"},"#,
            r#""kind":"thermal_anomaly","location":{"lat":48.53234,"lon":34.64774,"#,
            r#""uncertainty_m":397.0201506221063},"observed_at":"2025-09-01T00:52:00Z","#,
            r#""source":"firms:viirs:n20","source_ref":"2025-09-01T00:52:00@48.53234,34.64774"}"#
        )
    );
    assert_eq!(batch.observations[282].line, 284);
}

#[test]
fn canonical_json_reads_back_as_ndjson() {
    // The wire form of every FIRMS observation is a valid NDJSON line that gives the same
    // observation and the same canonical JSON: FIRMS and NDJSON agree on what content is.
    let bytes = data_file("J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025244.txt.csv");
    let from_firms = firms::parse("firms.csv", &bytes);
    let lines: String = from_firms
        .observations
        .iter()
        .map(|o| format!("{}\n", o.canonical_json))
        .collect();
    let from_ndjson = ndjson::parse("firms.ndjson", lines.as_bytes());
    assert_eq!(diagnostics(&from_ndjson), Vec::<String>::new());
    assert_eq!(
        from_ndjson.observations.len(),
        from_firms.observations.len()
    );
    for (f, n) in from_firms
        .observations
        .iter()
        .zip(&from_ndjson.observations)
    {
        assert_eq!(f.observation, n.observation);
        assert_eq!(f.canonical_json, n.canonical_json);
        assert_eq!(f.content_sha256, n.content_sha256);
    }
}

#[test]
fn cells_that_are_not_utf8() {
    // The `confidence` cell's bytes and the diagnostic, or none: an attribute cell that is
    // not UTF-8 is refused by name, whether or not it spoils the rest of the row.
    let cases: [(&[u8], Option<&str>); 5] = [
        (b"high", None),
        (
            b"h\xffgh",
            Some("t.csv:2: field `confidence`: not valid UTF-8"),
        ),
        (
            b"\xC3",
            Some("t.csv:2: field `confidence`: not valid UTF-8"),
        ),
        (b"caf\xC3\xA9", None),
        (
            b"\xC3\xA9\xC3",
            Some("t.csv:2: field `confidence`: not valid UTF-8"),
        ),
    ];
    for (confidence, expected) in cases {
        let (before, after) = VIIRS_ROW.split_once("high").expect("confidence");
        let mut input = format!("{VIIRS_HEADER}\n{before}").into_bytes();
        input.extend_from_slice(confidence);
        input.extend_from_slice(after.as_bytes());
        input.push(b'\n');
        let batch = parse(&input);
        assert_eq!(
            diagnostics(&batch),
            expected.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "{confidence:?}"
        );
        assert_eq!(batch.observations.len(), usize::from(expected.is_none()));
    }
    // A character split by a delimiter: the row's cells, one after the other, are UTF-8
    // (`N\xC3` `\xA9igh` make `Né` `igh`), but the satellite's cell is not.
    let (before, after) = VIIRS_ROW.split_once("N20,high").expect("satellite");
    let mut input = format!("{VIIRS_HEADER}\n{before}").into_bytes();
    input.extend_from_slice(b"N\xC3,\xA9igh");
    input.extend_from_slice(after.as_bytes());
    input.push(b'\n');
    let batch = parse(&input);
    assert_eq!(
        diagnostics(&batch),
        ["t.csv:2: field `satellite`: not valid UTF-8"]
    );
}
