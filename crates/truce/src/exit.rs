//! Exit codes, chosen on purpose, and how failures are printed.

use std::process::ExitCode;

/// A failure that picks its exit code. Anything else that goes wrong exits with 1.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Input that does not parse or validate; nothing was stored.
    #[error("{0}")]
    InvalidInput(String),
    /// The store cannot be used by this version.
    #[error("{0}")]
    Store(String),
}

pub const INVALID_INPUT: u8 = 3;
pub const STORE_REFUSED: u8 = 4;

pub fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = match error.downcast_ref::<Refusal>() {
                Some(Refusal::InvalidInput(_)) => INVALID_INPUT,
                Some(Refusal::Store(_)) => STORE_REFUSED,
                None => 1,
            };
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(code)
        }
    }
}
