//! `sources.csv` (`observation.md`, "Sources"): each source's Admiralty reliability grade and
//! collection discipline, into a [`SourceRegistry`].
//!
//! Header `source,reliability,discipline` (columns found by name, in any order; other columns
//! are ignored). `reliability` is one letter `A`–`F` (upper case), `discipline` one of
//! `satellite`, `uav`, `camera`, `acoustic`, `patrol`, `observation_post`, `party`, `osint`,
//! `other`. A `source` ending in `*` is a prefix pattern (`acoustic:*`); the longest match
//! wins. A pattern given twice is an error on its second line. A UTF-8 byte-order mark, CRLF
//! line ends and blank lines are accepted; cells are trimmed.

use truce_core::fusion::{Discipline, Reliability, SourceInfo, SourceRegistry};

use crate::Diagnostic;

const COLUMNS: [&str; 3] = ["source", "reliability", "discipline"];

/// A registry read from a file, with the rows that could not be read. The registry holds
/// every good row: a caller that must not act on a partly bad file checks `diagnostics`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedSources {
    pub registry: SourceRegistry,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `sources.csv`. Line numbers are 1-based lines of the file (the header is line 1).
pub fn parse(file: &str, bytes: &[u8]) -> ParsedSources {
    let mut parsed = ParsedSources::default();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut columns: Option<[usize; 3]> = None;
    let mut first_line_of: std::collections::HashMap<String, usize> = Default::default();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                parsed
                    .diagnostics
                    .push(Diagnostic::line(file, line, format!("not CSV: {e}")));
                break;
            }
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(|cell| cell.is_empty()) {
            continue;
        }
        let Some(cols) = columns else {
            match header(&record) {
                Ok(found) => columns = Some(found),
                Err(reason) => {
                    parsed
                        .diagnostics
                        .push(Diagnostic::line(file, line, reason));
                    return parsed;
                }
            }
            continue;
        };
        let cell = |k: usize| -> Result<&str, Diagnostic> {
            let raw = record.get(cols[k]).unwrap_or_default();
            std::str::from_utf8(raw)
                .map_err(|_| Diagnostic::field(file, line, COLUMNS[k], "not UTF-8"))
        };
        let row = (|| -> Result<(String, SourceInfo), Diagnostic> {
            let source = cell(0)?;
            check_pattern(source).map_err(|r| Diagnostic::field(file, line, "source", r))?;
            let letter = cell(1)?;
            let reliability = Reliability::from_letter(letter).ok_or_else(|| {
                Diagnostic::field(
                    file,
                    line,
                    "reliability",
                    format!(
                        "`{letter}` is not a reliability grade: expected one of A, B, C, D, E, F"
                    ),
                )
            })?;
            let name = cell(2)?;
            let discipline = Discipline::from_wire(name).ok_or_else(|| {
                let known: Vec<&str> = Discipline::ALL.iter().map(|d| d.as_str()).collect();
                Diagnostic::field(
                    file,
                    line,
                    "discipline",
                    format!(
                        "`{name}` is not a discipline: expected one of {}",
                        known.join(", ")
                    ),
                )
            })?;
            Ok((
                source.to_owned(),
                SourceInfo {
                    reliability,
                    discipline,
                },
            ))
        })();
        match row {
            Ok((source, info)) => {
                if let Some(first) = first_line_of.get(&source) {
                    parsed.diagnostics.push(Diagnostic::field(
                        file,
                        line,
                        "source",
                        format!("`{source}` is already graded on line {first}"),
                    ));
                } else {
                    first_line_of.insert(source.clone(), line);
                    parsed.registry.entries.push((source, info));
                }
            }
            Err(d) => parsed.diagnostics.push(d),
        }
    }
    if columns.is_none() {
        parsed.diagnostics.push(Diagnostic::file(
            file,
            "empty: expected the header source,reliability,discipline",
        ));
    }
    parsed
}

fn header(record: &csv::ByteRecord) -> Result<[usize; 3], String> {
    let names: Vec<String> = record
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut found = [0usize; 3];
    for (k, column) in COLUMNS.iter().enumerate() {
        let positions: Vec<usize> = (0..names.len()).filter(|&i| names[i] == *column).collect();
        match positions.as_slice() {
            [one] => found[k] = *one,
            [] => {
                return Err(format!(
                    "the header has no `{column}` column: expected source,reliability,discipline"
                ));
            }
            _ => return Err(format!("the header names `{column}` more than once")),
        }
    }
    Ok(found)
}

/// A source name as `observation.md` allows (1–128 of `[A-Za-z0-9._:-]`), optionally
/// followed by `*`; a lone `*` matches every source.
fn check_pattern(pattern: &str) -> Result<(), String> {
    let name = pattern.strip_suffix('*').unwrap_or(pattern);
    if pattern.is_empty() {
        return Err("empty".into());
    }
    if name.chars().count() > crate::ndjson::MAX_SOURCE_CHARS {
        return Err(format!(
            "longer than {} characters",
            crate::ndjson::MAX_SOURCE_CHARS
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(format!(
            "`{bad}` is not allowed in a source: use A-Z a-z 0-9 . _ : - (and a final * for a prefix)"
        ));
    }
    Ok(())
}

/// The registry as `sources.csv` text (header first, entries in registry order).
pub fn to_csv(registry: &SourceRegistry) -> String {
    let mut out = String::from("source,reliability,discipline\n");
    for (pattern, info) in &registry.entries {
        out.push_str(pattern);
        out.push(',');
        out.push_str(info.reliability.as_str());
        out.push(',');
        out.push_str(info.discipline.as_str());
        out.push('\n');
    }
    out
}
