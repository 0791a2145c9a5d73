//! Bytes → Truce values: NASA FIRMS CSV and canonical NDJSON observations, agreement files
//! (TOML + GeoJSON), and the replay summary JSON.
//!
//! No IO: callers hand in a file's name (for messages) and its bytes. Input that is wrong is
//! data, not a panic: every problem becomes a [`Diagnostic`] naming file, line, field and reason.

pub mod agreement;
mod diagnostic;
pub mod firms;
pub mod incidents;
pub mod ndjson;
pub mod points;
pub mod sources;
pub mod summary;
pub mod truth;

pub use diagnostic::Diagnostic;

use chrono::{DateTime, Utc};
use truce_core::{Kind, Observation, ObservationKey};
use truce_geo::LonLat;

/// One observation parsed from a file, with what the store needs for idempotency.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedObservation {
    pub observation: Observation,
    /// 1-based line of the file the observation came from.
    pub line: usize,
    /// The observation as canonical JSON: object keys sorted, no insignificant whitespace.
    /// Two submissions are the same content exactly when these strings are equal.
    pub canonical_json: String,
    /// SHA-256 of `canonical_json`.
    pub content_sha256: [u8; 32],
}

/// Everything read from one file: the observations that parsed and the problems found.
/// A batch with any diagnostic must not be ingested (unless partial ingest is asked for).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedBatch {
    pub observations: Vec<ParsedObservation>,
    pub diagnostics: Vec<Diagnostic>,
}

/// One row of a file as the store takes it ([`parse_rows_for_store`]): what it keeps of an
/// observation besides the canonical JSON, which holds all the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreRow {
    pub key: ObservationKey,
    pub kind: Kind,
    pub observed_at: DateTime<Utc>,
    /// `None` for an unlocated (bearing-only) report.
    pub position: Option<LonLat>,
    /// 1-based line of the file.
    pub line: usize,
    /// As [`ParsedObservation::canonical_json`].
    pub canonical_json: String,
    /// SHA-256 of `canonical_json`.
    pub content_sha256: [u8; 32],
}

impl StoreRow {
    fn of(parsed: ParsedObservation) -> StoreRow {
        let position = parsed.observation.position();
        let Observation {
            key,
            kind,
            observed_at,
            ..
        } = parsed.observation;
        StoreRow {
            key,
            kind,
            observed_at,
            position,
            line: parsed.line,
            canonical_json: parsed.canonical_json,
            content_sha256: parsed.content_sha256,
        }
    }
}

/// Rows for the store and the problems found: as [`ParsedBatch`], and under the same rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreRows {
    pub rows: Vec<StoreRow>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The observation formats Truce reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObservationFormat {
    FirmsCsv,
    Ndjson,
}

/// Recognises a file's format by its content (not its name): NDJSON when the first
/// non-blank byte (after an optional BOM) is `{`, FIRMS CSV when the header names the FIRMS
/// columns; `None` otherwise.
pub fn detect_format(bytes: &[u8]) -> Option<ObservationFormat> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace())?;
    if first == b'{' {
        return Some(ObservationFormat::Ndjson);
    }
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let header = String::from_utf8_lossy(&bytes[..header_end]);
    let columns: Vec<&str> = header
        .trim_end_matches('\r')
        .split(',')
        .map(str::trim)
        .collect();
    let has = |name: &str| columns.contains(&name);
    (has("latitude") && has("longitude") && has("acq_date")).then_some(ObservationFormat::FirmsCsv)
}

/// Parses a file of observations in whichever format its content shows.
pub fn parse_observations(file: &str, bytes: &[u8]) -> ParsedBatch {
    match detect_format(bytes) {
        Some(ObservationFormat::FirmsCsv) => firms::parse(file, bytes),
        Some(ObservationFormat::Ndjson) => ndjson::parse(file, bytes),
        None => ParsedBatch {
            observations: Vec::new(),
            diagnostics: vec![Diagnostic::file(
                file,
                "not a recognised observation file: expected NASA FIRMS CSV (a header with latitude, longitude, acq_date, ...) or NDJSON (one JSON object a line)",
            )],
        },
    }
}

/// Parses a run of complete lines of a larger file, for streaming: `rows` begins at line
/// `first_line` (1-based) of `file`; `header` is the file's first line, with its line end
/// (FIRMS CSV: the column names; NDJSON: empty). Line numbers in the result are the file's.
/// Problems with the header itself are the caller's to check once (parse the header alone).
pub fn parse_observation_rows(
    file: &str,
    format: ObservationFormat,
    header: &[u8],
    rows: &[u8],
    first_line: usize,
) -> ParsedBatch {
    let (mut batch, shift) = parse_run(format, header, rows, first_line, |bytes| match format {
        ObservationFormat::FirmsCsv => firms::parse(file, bytes),
        ObservationFormat::Ndjson => ndjson::parse(file, bytes),
    });
    for o in &mut batch.observations {
        o.line += shift;
    }
    shift_lines(&mut batch.diagnostics, shift);
    batch
}

/// [`parse_observation_rows`] for the store: the same rows, lines and diagnostics, as
/// [`StoreRow`]s. FIRMS rows are read by [`firms::parse_for_store`], which writes their
/// canonical JSON without building the observation's attributes map.
pub fn parse_rows_for_store(
    file: &str,
    format: ObservationFormat,
    header: &[u8],
    rows: &[u8],
    first_line: usize,
) -> StoreRows {
    let (mut batch, shift) = parse_run(format, header, rows, first_line, |bytes| match format {
        ObservationFormat::FirmsCsv => firms::parse_for_store(file, bytes),
        ObservationFormat::Ndjson => {
            let parsed = ndjson::parse(file, bytes);
            StoreRows {
                rows: parsed.observations.into_iter().map(StoreRow::of).collect(),
                diagnostics: parsed.diagnostics,
            }
        }
    });
    for row in &mut batch.rows {
        row.line += shift;
    }
    shift_lines(&mut batch.diagnostics, shift);
    batch
}

/// Parses a run of lines with `parse`, which sees them as a file of their own (FIRMS: after
/// the header); returns what it gave and how far its line numbers are from the file's.
fn parse_run<T>(
    format: ObservationFormat,
    header: &[u8],
    rows: &[u8],
    first_line: usize,
    parse: impl FnOnce(&[u8]) -> T,
) -> (T, usize) {
    match format {
        ObservationFormat::FirmsCsv => {
            let mut bytes = Vec::with_capacity(header.len() + rows.len());
            bytes.extend_from_slice(header);
            bytes.extend_from_slice(rows);
            // The rows start on line 2 of the buffer.
            (parse(&bytes), first_line.saturating_sub(2))
        }
        ObservationFormat::Ndjson => (parse(rows), first_line.saturating_sub(1)),
    }
}

fn shift_lines(diagnostics: &mut [Diagnostic], shift: usize) {
    for d in diagnostics {
        if let Some(line) = &mut d.line {
            *line += shift;
        }
    }
}
