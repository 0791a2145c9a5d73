//! `truce ingest`: observation files into the store, one atomic batch per file.

use std::path::{Path, PathBuf};

use anyhow::Result;
use truce_core::{Agreement, Assessment};

use crate::load::LoadedFile;

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Observation files: NASA FIRMS CSV or NDJSON (recognised by content).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, env = "TRUCE_DB", default_value = crate::DEFAULT_DB)]
    pub db: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: IngestArgs) -> Result<()> {
    Ok(())
}

pub fn store_files(
    _db: &Path,
    _files: &[LoadedFile],
    _assessed: Option<(&Agreement, &[Vec<Option<Assessment>>])>,
    _quiet: bool,
) -> Result<()> {
    Ok(())
}
