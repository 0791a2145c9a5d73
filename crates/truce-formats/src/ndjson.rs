//! ndjson (to be written)

use crate::ParsedBatch;

/// Parses a file.
pub fn parse(_file: &str, _bytes: &[u8]) -> ParsedBatch {
    ParsedBatch::default()
}
