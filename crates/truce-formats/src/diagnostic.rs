//! A problem found in input: where it is and why it is wrong.

use std::fmt;

/// One problem in an input file. Displayed as `file:line: field `name`: reason`, omitting
/// the parts that do not apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line number, when the problem is on one line.
    pub line: Option<usize>,
    /// The field, column or key at fault (a dotted path for nested fields, e.g. `location.lat`).
    pub field: Option<String>,
    pub reason: String,
}

impl Diagnostic {
    /// A problem with the file as a whole.
    pub fn file(file: &str, reason: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line: None,
            field: None,
            reason: reason.into(),
        }
    }

    /// A problem on one line, not tied to a field.
    pub fn line(file: &str, line: usize, reason: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line: Some(line),
            field: None,
            reason: reason.into(),
        }
    }

    /// A problem with one field on one line.
    pub fn field(
        file: &str,
        line: usize,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line: Some(line),
            field: Some(field.into()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for Diagnostic {}
