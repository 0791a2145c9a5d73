//! Reading files from disk into the pure parsers of `truce-formats`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use truce_core::{Agreement, Assessment, Assessor};
use truce_formats::ParsedBatch;

use crate::exit::Refusal;

/// Loads an agreement file and the geometry files it names (relative to it).
pub fn agreement(path: &Path) -> Result<Agreement> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read agreement {}", path.display()))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let shown = path.display().to_string();
    truce_formats::agreement::parse_agreement(&shown, &bytes, |name| {
        std::fs::read(dir.join(name)).map_err(|e| e.to_string())
    })
    .map_err(|d| Refusal::InvalidInput(format!("agreement rejected: {d}")).into())
}

/// One observation file, read and parsed.
pub struct LoadedFile {
    pub path: PathBuf,
    pub batch: ParsedBatch,
}

/// Reads and parses files (in parallel; the result keeps the given order).
pub fn observation_files(paths: &[PathBuf]) -> Result<Vec<LoadedFile>> {
    paths
        .par_iter()
        .map(|path| {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let batch = truce_formats::parse_observations(&path.display().to_string(), &bytes);
            Ok(LoadedFile {
                path: path.clone(),
                batch,
            })
        })
        .collect()
}

/// Assesses every located observation of a batch (in parallel), `None` for unlocated ones.
pub fn assess_batch(assessor: &Assessor, batch: &ParsedBatch) -> Vec<Option<Assessment>> {
    batch
        .observations
        .par_iter()
        .map(|p| p.observation.position().map(|pos| assessor.assess(pos)))
        .collect()
}

/// Fails with every diagnostic of every file, if there is any.
pub fn refuse_diagnostics(files: &[LoadedFile], limit: usize) -> Result<()> {
    let diagnostics: Vec<String> = files
        .iter()
        .flat_map(|f| f.batch.diagnostics.iter().map(ToString::to_string))
        .collect();
    if diagnostics.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "{} problem(s) in the input; nothing was ingested:",
        diagnostics.len()
    );
    for d in diagnostics.iter().take(limit) {
        message.push_str("\n  ");
        message.push_str(d);
    }
    if diagnostics.len() > limit {
        message.push_str(&format!("\n  … and {} more", diagnostics.len() - limit));
    }
    Err(Refusal::InvalidInput(message).into())
}
