//! `sources.csv` → a source registry, bad rows as diagnostics.

use truce_core::fusion::{Discipline, Reliability, SourceInfo};
use truce_formats::sources;

use crate::diagnostics;

/// `input` gives exactly these entries (pattern, grade letter, discipline) and diagnostics.
fn check(input: &str, entries: &[(&str, &str, &str)], expected_diagnostics: &[&str]) {
    let parsed = sources::parse("sources.csv", input.as_bytes());
    let got: Vec<(String, &str, &str)> = parsed
        .registry
        .entries
        .iter()
        .map(|(p, i)| (p.clone(), i.reliability.as_str(), i.discipline.as_str()))
        .collect();
    let want: Vec<(String, &str, &str)> = entries
        .iter()
        .map(|(p, r, d)| ((*p).to_owned(), *r, *d))
        .collect();
    assert_eq!(got, want);
    let batch = truce_formats::ParsedBatch {
        observations: Vec::new(),
        diagnostics: parsed.diagnostics.clone(),
    };
    assert_eq!(diagnostics(&batch), expected_diagnostics);
    if expected_diagnostics.is_empty() {
        // What is written reads back the same.
        let again = sources::parse("again.csv", sources::to_csv(&parsed.registry).as_bytes());
        assert_eq!(again, parsed);
    }
}

#[test]
fn a_registry_with_prefixes() {
    check(
        "\u{feff}source,reliability,discipline\r\nfirms:*,B,satellite\r\n\r\nacoustic:*, C ,acoustic\r\nacoustic:array-7,A,acoustic\r\nua-liaison,D,party\r\n",
        &[
            ("firms:*", "B", "satellite"),
            ("acoustic:*", "C", "acoustic"),
            ("acoustic:array-7", "A", "acoustic"),
            ("ua-liaison", "D", "party"),
        ],
        &[],
    );
}

#[test]
fn columns_are_found_by_name() {
    check(
        "discipline,source,note,reliability\nuav,drone-1,x,A\n",
        &[("drone-1", "A", "uav")],
        &[],
    );
}

#[test]
fn bad_rows_are_diagnosed_and_the_good_ones_kept() {
    check(
        "source,reliability,discipline\nsat,G,satellite\nsat,b,satellite\ncam,A,cctv\n,A,camera\nbad source,A,camera\nok,A,camera\nok,B,camera\n",
        &[("ok", "A", "camera")],
        &[
            "sources.csv:2: field `reliability`: `G` is not a reliability grade: expected one of A, B, C, D, E, F",
            "sources.csv:3: field `reliability`: `b` is not a reliability grade: expected one of A, B, C, D, E, F",
            "sources.csv:4: field `discipline`: `cctv` is not a discipline: expected one of satellite, uav, camera, acoustic, patrol, observation_post, party, osint, other",
            "sources.csv:5: field `source`: empty",
            "sources.csv:6: field `source`: ` ` is not allowed in a source: use A-Z a-z 0-9 . _ : - (and a final * for a prefix)",
            "sources.csv:8: field `source`: `ok` is already graded on line 7",
        ],
    );
}

#[test]
fn a_bad_header_reads_nothing() {
    check(
        "name,grade\nsat,A\n",
        &[],
        &[
            "sources.csv:1: the header has no `source` column: expected source,reliability,discipline",
        ],
    );
    check(
        "",
        &[],
        &["sources.csv: empty: expected the header source,reliability,discipline"],
    );
}

#[test]
fn the_longest_pattern_wins_and_the_unmatched_are_f_other() {
    let parsed = sources::parse("s.csv", b"source,reliability,discipline\nacoustic:*,C,acoustic\nacoustic:array-*,B,acoustic\nacoustic:array-7,A,acoustic\n");
    let r = &parsed.registry;
    let info = |reliability, discipline| SourceInfo {
        reliability,
        discipline,
    };
    assert_eq!(
        r.lookup("acoustic:array-7"),
        info(Reliability::A, Discipline::Acoustic)
    );
    assert_eq!(
        r.lookup("acoustic:array-8"),
        info(Reliability::B, Discipline::Acoustic)
    );
    assert_eq!(
        r.lookup("acoustic:mic"),
        info(Reliability::C, Discipline::Acoustic)
    );
    assert_eq!(r.lookup("patrol-1"), SourceInfo::UNREGISTERED);
}
