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

use truce_core::Observation;

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
    let (mut batch, shift) = match format {
        ObservationFormat::FirmsCsv => {
            let mut bytes = Vec::with_capacity(header.len() + rows.len());
            bytes.extend_from_slice(header);
            bytes.extend_from_slice(rows);
            // The rows start on line 2 of the buffer.
            (firms::parse(file, &bytes), first_line.saturating_sub(2))
        }
        ObservationFormat::Ndjson => (ndjson::parse(file, rows), first_line.saturating_sub(1)),
    };
    for o in &mut batch.observations {
        o.line += shift;
    }
    for d in &mut batch.diagnostics {
        if let Some(line) = &mut d.line {
            *line += shift;
        }
    }
    batch
}
