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

/// The store's rows against the oracle, `parse_observation_rows`: the same keys, kinds,
/// times, positions, lines, canonical JSON and hashes, and the same diagnostics, chunk by
/// chunk.
fn check_rows_for_store(format: truce_formats::ObservationFormat, text: &str, chunk_lines: usize) {
    use truce_formats::{ObservationFormat, parse_observation_rows, parse_rows_for_store};
    let (header, rows) = match format {
        ObservationFormat::FirmsCsv => text.split_at(text.find('\n').expect("header") + 1),
        ObservationFormat::Ndjson => ("", text),
    };
    let first = if format == ObservationFormat::FirmsCsv {
        2
    } else {
        1
    };
    let lines: Vec<&str> = rows.split_inclusive('\n').collect();
    let mut compared = 0;
    for (k, chunk) in lines.chunks(chunk_lines).enumerate() {
        let bytes = chunk.concat();
        let at = first + chunk_lines * k;
        let oracle = parse_observation_rows("f", format, header.as_bytes(), bytes.as_bytes(), at);
        let fast = parse_rows_for_store("f", format, header.as_bytes(), bytes.as_bytes(), at);
        assert_eq!(fast.diagnostics, oracle.diagnostics);
        assert_eq!(fast.rows.len(), oracle.observations.len());
        for (row, parsed) in fast.rows.iter().zip(&oracle.observations) {
            let o = &parsed.observation;
            assert_eq!(row.canonical_json, parsed.canonical_json);
            assert_eq!(
                (&row.key, row.kind, row.observed_at, row.position, row.line),
                (&o.key, o.kind, o.observed_at, o.position(), parsed.line)
            );
            assert_eq!(row.content_sha256, parsed.content_sha256);
        }
        compared += fast.rows.len();
    }
    assert!(compared > 0, "nothing compared");
}

#[test]
fn rows_for_the_store_equal_the_parsed_observations() {
    use truce_formats::ObservationFormat::{FirmsCsv, Ndjson};
    let name = "J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025244.txt.csv";
    let Ok(text) = String::from_utf8(data_file(name)) else {
        panic!("{name} is not UTF-8");
    };
    check_rows_for_store(FirmsCsv, &text, 37);
    // MODIS, with and without `scan`/`track` and `instrument`; CRLF line ends.
    let modis = concat!(
        "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_t31,frp,daynight\r\n",
        "48.5,38.9,320.5,1.2,1.1,2025-09-07,0845,Aqua,MODIS,77,6.1NRT,290.1,25.3,D\r\n",
        "48.6,38.8,330,1,1,2025-09-07,0846,Terra,MODIS,100,6.1NRT,291,2,N\r\n",
    );
    check_rows_for_store(FirmsCsv, modis, 1);
    let bare = "latitude,longitude,brightness,acq_date,acq_time,satellite\n48.5,38.9,320.5,2025-09-07,0845,Aqua\n";
    check_rows_for_store(FirmsCsv, bare, 1);
    // Cells that are numbers, almost numbers, text that needs escaping, and bad rows; a
    // header with odd names (sorted bytewise in the JSON, one needing an escape).
    let odd = concat!(
        "longitude,latitude,acq_date,acq_time,satellite,instrument,\"q\"\"uote\",Zeta,alpha,é,frp\n",
        "38.9,48.5,2025-09-07,0845,N20,VIIRS,\"a,b\",-0,007,\"tab\there\",0.50\n",
        "38.9,48.5,2025-09-07,845,N20,VIIRS,\"say \"\"hi\"\"\",1e400,9223372036854775808,ü\\,-1.5E-3\n",
        "38.90000,48.50,2025-09-07,08:45,N20,VIIRS,x,2e3,-0.0,,12345678901234567890.5\n",
        "east,48.5,2025-09-07,0845,N20,VIIRS,x,1,2,3,4\n",
        "38.9,48.5,2025-09-07,0845,N20,VIIRS,x,1,2,3\n",
        "38.9,91,2025-09-07,0845,N20,VIIRS,x,1,2,3,4\n",
        "38.9,48.5,2025-13-07,0845,N20,VIIRS,x,1,2,3,4\n",
        "38.9,48.5,2025-09-07,0845,,VIIRS,x,1,2,3,4\n",
        "38.9,48.5,2025-09-07,0845,N20,MODIS,x,1,2,3,4\n",
        "-180,-90,2025-09-07,23:59:59,Aqua,MODIS,\u{7f},1,2,3,4\n",
    );
    for chunk_lines in [1, 3, 100] {
        check_rows_for_store(FirmsCsv, odd, chunk_lines);
    }
    let ndjson = concat!(
        r#"{"source":"s","source_ref":"r","kind":"thermal_anomaly","observed_at":"2025-09-07T08:46:00Z","location":{"lon":38.9,"lat":48.5,"uncertainty_m":375}}"#,
        "\n",
        r#"{"source":"s","source_ref":"b","kind":"other","observed_at":"2025-09-07T08:46:00Z","bearing":{"observer":{"lon":38.9,"lat":48.5},"azimuth_deg":90,"sigma_deg":5}}"#,
        "\n{\"source\":1}\n",
    );
    check_rows_for_store(Ndjson, ndjson, 2);
}
