//! `truce ingest`: observation files into the store, one atomic batch per file.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::Utc;
use serde_json::json;
use truce_core::{Agreement, Assessment, Assessor};
use truce_store::{AgreementRef, NewAssessment, NewBatch, NewRecord, Store, StoreError};

use crate::exit::Refusal;
use crate::load::{self, LoadedFile};

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Observation files: NASA FIRMS CSV or NDJSON (recognised by content, not by name).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The store (created on first use).
    #[arg(long, env = "TRUCE_DB", default_value = crate::DEFAULT_DB)]
    pub db: PathBuf,
    /// Also assess every located observation under this agreement (TOML) and store the
    /// assessments with the agreement's version, in the same transaction.
    #[arg(long)]
    pub agreement: Option<PathBuf>,
    /// Print one JSON object per file and a total, instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What happened to one file.
#[derive(Debug, Default)]
pub struct FileOutcome {
    pub new: usize,
    pub duplicate: usize,
    pub revised: usize,
    pub assessments_written: usize,
    /// Why the file was rejected (nothing of it stored); empty when it was ingested.
    pub rejected: Vec<String>,
}

pub fn run(args: IngestArgs) -> Result<()> {
    let started = Instant::now();
    let agreement = args.agreement.as_deref().map(load::agreement).transpose()?;
    let files = load::observation_files(&args.files)?;
    let assessor = agreement.as_ref().map(Assessor::new);
    let assessments: Vec<Vec<Option<Assessment>>> = match &assessor {
        Some(assessor) => files
            .iter()
            .map(|f| load::assess_batch(assessor, &f.batch))
            .collect(),
        None => Vec::new(),
    };
    let assessed = agreement.as_ref().map(|a| (a, assessments.as_slice()));
    let outcomes = store_files(&args.db, &files, assessed, args.json)?;
    let elapsed_s = started.elapsed().as_secs_f64();

    let records: usize = outcomes
        .iter()
        .map(|o| o.new + o.duplicate + o.revised)
        .sum();
    let rejected_files = outcomes.iter().filter(|o| !o.rejected.is_empty()).count();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for (file, o) in files.iter().zip(&outcomes) {
            let line = json!({
                "file": file.path.display().to_string(),
                "status": if o.rejected.is_empty() { "ingested" } else { "rejected" },
                "new": o.new, "duplicate": o.duplicate, "revised": o.revised,
                "assessments_written": o.assessments_written,
                "rejected": o.rejected,
            });
            writeln!(out, "{line}")?;
        }
        let total = json!({"total": {
            "files": files.len(), "rejected_files": rejected_files, "records": records,
            "seconds": elapsed_s, "records_per_s": records as f64 / elapsed_s.max(1e-9),
            "agreement_version": agreement.as_ref().map(|a| a.version.clone()),
        }});
        writeln!(out, "{total}")?;
    } else {
        writeln!(
            out,
            "{:<50} {:>8} {:>9} {:>8} {:>9}",
            "file", "new", "duplicate", "revised", "rejected"
        )?;
        for (file, o) in files.iter().zip(&outcomes) {
            let name = file.path.display().to_string();
            let rejected = if o.rejected.is_empty() {
                "-".to_owned()
            } else {
                "whole file".to_owned()
            };
            writeln!(
                out,
                "{:<50} {:>8} {:>9} {:>8} {:>9}",
                shorten(&name, 50),
                o.new,
                o.duplicate,
                o.revised,
                rejected
            )?;
            for reason in o.rejected.iter().take(20) {
                writeln!(out, "    {reason}")?;
            }
            if o.rejected.len() > 20 {
                writeln!(out, "    … and {} more problems", o.rejected.len() - 20)?;
            }
        }
        writeln!(
            out,
            "{records} records in {elapsed_s:.2} s ({:.0} records/s) into {}",
            records as f64 / elapsed_s.max(1e-9),
            args.db.display()
        )?;
        if let Some(a) = &agreement {
            writeln!(
                out,
                "assessed under agreement {} (version {})",
                a.id,
                &a.version[..16]
            )?;
        }
    }
    if rejected_files > 0 {
        return Err(Refusal::InvalidInput(format!(
            "{rejected_files} of {} files rejected; nothing of them was stored",
            files.len()
        ))
        .into());
    }
    Ok(())
}

/// Stores each file as one atomic batch (with its assessments, when given). A file with any
/// diagnostic is not stored and comes back rejected. `quiet` hides the progress bar.
pub fn store_files(
    db: &Path,
    files: &[LoadedFile],
    assessed: Option<(&Agreement, &[Vec<Option<Assessment>>])>,
    quiet: bool,
) -> Result<Vec<FileOutcome>> {
    let mut store = Store::open(db).map_err(store_refusal)?;
    let agreement_text = assessed
        .map(|(a, _)| json!({"id": a.id, "title": a.title, "version": a.version}).to_string());
    let progress = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(
            files
                .iter()
                .map(|f| f.batch.observations.len() as u64)
                .sum(),
        )
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records ({per_sec}) {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );

    let mut outcomes = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        if !file.batch.diagnostics.is_empty() {
            outcomes.push(FileOutcome {
                rejected: file
                    .batch
                    .diagnostics
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                ..Default::default()
            });
            continue;
        }
        progress.set_message(file.path.display().to_string());
        let file_assessments = assessed.map(|(_, all)| &all[index]);
        let zone_ids: Vec<Option<&str>> = match assessed {
            Some((agreement, all)) => all[index]
                .iter()
                .map(|a| a.map(|a| a.zone.id(agreement)))
                .collect(),
            None => Vec::new(),
        };
        let records: Vec<NewRecord<'_>> = file
            .batch
            .observations
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut record = NewRecord::from_observation(
                    &p.observation,
                    &p.canonical_json,
                    p.content_sha256,
                );
                if let (Some(assessments), Some(Some(zone_id))) =
                    (file_assessments, zone_ids.get(i))
                {
                    record.assessment = assessments[i]
                        .as_ref()
                        .map(|a| NewAssessment::new(a, zone_id));
                }
                record
            })
            .collect();
        let label = file.path.display().to_string();
        let batch = NewBatch {
            label: &label,
            received_at: Utc::now(),
            records: &records,
            agreement: assessed.map(|(a, _)| AgreementRef {
                version: &a.version,
                id: &a.id,
                text: agreement_text.as_deref(),
            }),
        };
        let report = store
            .ingest_batch(&batch)
            .map_err(store_refusal)
            .with_context(|| format!("cannot store {label}"))?;
        progress.inc(records.len() as u64);
        outcomes.push(FileOutcome {
            new: report.new,
            duplicate: report.duplicate,
            revised: report.revised,
            assessments_written: report.assessments_written,
            rejected: Vec::new(),
        });
    }
    progress.finish_and_clear();
    Ok(outcomes)
}

/// Store errors that mean "this store is not for this truce" get their own exit code.
fn store_refusal(error: StoreError) -> anyhow::Error {
    match error {
        StoreError::SchemaTooNew { .. }
        | StoreError::NotAStore { .. }
        | StoreError::BadSchemaVersion { .. } => Refusal::Store(error.to_string()).into(),
        other => other.into(),
    }
}

fn shorten(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        text.to_owned()
    } else {
        format!(
            "…{}",
            text.chars().skip(count - width + 1).collect::<String>()
        )
    }
}
