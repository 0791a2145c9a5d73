//! `truce ingest`: observation files into the store, one atomic batch per file, streamed.
//!
//! A file is read in chunks of lines by one thread, parsed and assessed by workers, and
//! written in order by this thread into one open transaction, so memory stays bounded
//! whatever the file's size. A problem anywhere in the file rolls the whole batch back.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use serde_json::json;
use truce_core::{Agreement, Assessment, Assessor};
use truce_formats::{
    ObservationFormat, ParsedBatch, StoreRows, detect_format, parse_rows_for_store,
};
use truce_store::{AgreementRef, NewAssessment, NewRecord, Store, StoreError};

use crate::exit::Refusal;
use crate::load::{self, LoadedFile};

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Observation files: NASA FIRMS CSV or NDJSON (recognised by content, not by name).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Also assess every located observation under this agreement (TOML) and store the
    /// assessments with the agreement's version, in the same transaction.
    #[arg(long)]
    pub agreement: Option<PathBuf>,
    /// Print one JSON object per file and a total, instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// How long a writer waits for another by default, in seconds.
pub const DEFAULT_WAIT_S: u64 = 600;

/// Where the store is and how long to wait for another writer.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// The store (created on first use).
    #[arg(long, env = "TRUCE_DB", default_value = crate::DEFAULT_DB)]
    pub db: PathBuf,
    /// How long to wait for another process writing to the store before giving up, in
    /// seconds (a long import holds the store for its whole batch).
    #[arg(long, env = "TRUCE_WAIT_S", default_value_t = DEFAULT_WAIT_S)]
    pub wait_s: u64,
}

impl StoreArgs {
    pub fn open(&self) -> Result<Store> {
        let options = truce_store::StoreOptions {
            busy_timeout: Duration::from_secs(self.wait_s),
            ..Default::default()
        };
        Store::open_with(&self.db, &options).map_err(store_refusal)
    }
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
    pub timing: Timing,
}

/// Where the time went, summed over the file's chunks (parse and assess are summed over the
/// worker threads, so they may exceed the wall time).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    pub parse: Duration,
    pub assess: Duration,
    /// The writer thread inside SQLite, commit included.
    pub store: Duration,
}

impl Timing {
    fn add(&mut self, other: Timing) {
        self.parse += other.parse;
        self.assess += other.assess;
        self.store += other.store;
    }
}

/// Lines per chunk handed to a worker: big enough to amortise the hand-over, small enough to
/// keep memory flat (about 1.5 MiB parsed a chunk: the allocator reuses blocks of that size,
/// where with 16,384 lines each chunk's vectors were fresh pages from the system; peak RSS
/// on 10^6 FIRMS rows went from 340 to 186 MiB).
const CHUNK_LINES: usize = 4_096;
/// Chunks in flight between the stages.
const IN_FLIGHT: usize = 8;
/// Diagnostics kept per rejected file.
const MAX_DIAGNOSTICS: usize = 1000;

pub fn run(args: IngestArgs) -> Result<()> {
    let started = Instant::now();
    let agreement = args.agreement.as_deref().map(load::agreement).transpose()?;
    let assessor = PendingAssessor::default();
    std::thread::scope(|scope| {
        if let Some(agreement) = &agreement {
            scope.spawn(|| assessor.build(agreement));
        }
        let assessed = agreement.as_ref().map(|a| (a, &assessor));
        ingest_files(&args, started, agreement.as_ref(), assessed)
    })
}

/// The assessor of the agreement, built on a thread of its own while the store opens and the
/// first chunks are read and parsed: building takes a few tenths of a second, which would
/// otherwise be spent before any of that starts.
#[derive(Default)]
struct PendingAssessor(OnceLock<Option<Assessor>>);

impl PendingAssessor {
    fn build(&self, agreement: &Agreement) {
        // A panic must not leave the workers waiting for ever: it becomes `None`, and the
        // writer refuses to commit a batch without its assessments.
        let built = std::panic::catch_unwind(AssertUnwindSafe(|| Assessor::new(agreement)));
        // Only this thread sets it.
        let _ = self.0.set(built.ok());
    }

    /// Waits for the build; `None` if it failed.
    fn wait(&self) -> Option<&Assessor> {
        self.0.wait().as_ref()
    }
}

fn ingest_files(
    args: &IngestArgs,
    started: Instant,
    agreement: Option<&Agreement>,
    assessed: Option<(&Agreement, &PendingAssessor)>,
) -> Result<()> {
    let mut store = args.store.open()?;

    let total_bytes: u64 = args
        .files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let progress = progress_bar(
        args.json,
        total_bytes,
        "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
    );
    let mut outcomes = Vec::with_capacity(args.files.len());
    for path in &args.files {
        progress.set_message(path.display().to_string());
        let outcome = stream_file(&mut store, path, assessed, &progress)?;
        outcomes.push(outcome);
    }
    progress.finish_and_clear();
    let elapsed_s = started.elapsed().as_secs_f64();

    let records: usize = outcomes
        .iter()
        .map(|o| o.new + o.duplicate + o.revised)
        .sum();
    let rejected_files = outcomes.iter().filter(|o| !o.rejected.is_empty()).count();
    let mut timing = Timing::default();
    outcomes.iter().for_each(|o| timing.add(o.timing));
    let rate = |seconds: f64| records as f64 / seconds.max(1e-9);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for (path, o) in args.files.iter().zip(&outcomes) {
            let line = json!({
                "file": path.display().to_string(),
                "status": if o.rejected.is_empty() { "ingested" } else { "rejected" },
                "new": o.new, "duplicate": o.duplicate, "revised": o.revised,
                "assessments_written": o.assessments_written,
                "rejected": o.rejected,
            });
            writeln!(out, "{line}")?;
        }
        let total = json!({"total": {
            "files": args.files.len(), "rejected_files": rejected_files, "records": records,
            "seconds": elapsed_s, "records_per_s": rate(elapsed_s),
            "parse_s": timing.parse.as_secs_f64(), "assess_s": timing.assess.as_secs_f64(),
            "store_s": timing.store.as_secs_f64(),
            "agreement_version": agreement.map(|a| a.version.clone()),
        }});
        writeln!(out, "{total}")?;
    } else {
        writeln!(
            out,
            "{:<50} {:>8} {:>9} {:>8} {:>10}",
            "file", "new", "duplicate", "revised", "rejected"
        )?;
        for (path, o) in args.files.iter().zip(&outcomes) {
            let rejected = if o.rejected.is_empty() {
                "-"
            } else {
                "whole file"
            };
            writeln!(
                out,
                "{:<50} {:>8} {:>9} {:>8} {:>10}",
                shorten(&path.display().to_string(), 50),
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
            rate(elapsed_s),
            args.store.db.display()
        )?;
        writeln!(
            out,
            "  time in parsing {:.2} s, assessing {:.2} s (both summed over threads), storing {:.2} s",
            timing.parse.as_secs_f64(),
            timing.assess.as_secs_f64(),
            timing.store.as_secs_f64()
        )?;
        if let Some(a) = agreement {
            writeln!(
                out,
                "assessed under agreement {} (version {})",
                a.id,
                &a.version[..16]
            )?;
        }
    }
    if rejected_files > 0 {
        let message = format!(
            "{rejected_files} of {} files rejected; nothing of them was stored",
            args.files.len()
        );
        return Err(Refusal::InvalidInput(message).into());
    }
    Ok(())
}

/// A chunk of whole lines of a file, and the file line its first line is.
struct Chunk {
    seq: usize,
    first_line: usize,
    bytes: Vec<u8>,
}

/// A chunk parsed and assessed.
struct Parsed {
    seq: usize,
    /// The worker that parsed it, which frees it once it is written.
    worker: usize,
    batch: StoreRows,
    assessments: Vec<Option<Assessment>>,
    timing: Timing,
    bytes: u64,
}

/// Streams one file into the store as one batch.
fn stream_file(
    store: &mut Store,
    path: &Path,
    assessed: Option<(&Agreement, &PendingAssessor)>,
    progress: &indicatif::ProgressBar,
) -> Result<FileOutcome> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {shown}"))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut first = Vec::new();
    reader
        .read_until(b'\n', &mut first)
        .with_context(|| format!("cannot read {shown}"))?;
    let rejected = |batch: ParsedBatch| FileOutcome {
        rejected: batch.diagnostics.iter().map(ToString::to_string).collect(),
        ..Default::default()
    };
    let (format, header, first_row) = match detect_format(&first) {
        Some(ObservationFormat::Ndjson) => (ObservationFormat::Ndjson, Vec::new(), first),
        Some(ObservationFormat::FirmsCsv) => {
            // The header alone: a missing column is the file's problem, reported once.
            let header_check = truce_formats::firms::parse(&shown, &first);
            if !header_check.diagnostics.is_empty() {
                return Ok(rejected(header_check));
            }
            (ObservationFormat::FirmsCsv, first, Vec::new())
        }
        None => return Ok(rejected(truce_formats::parse_observations(&shown, &first))),
    };
    let first_line = if format == ObservationFormat::FirmsCsv {
        2
    } else {
        1
    };

    let agreement = assessed.map(|(a, _)| a);
    let agreement_text = agreement.map(agreement_summary);
    let agreement_ref = agreement.map(|a| AgreementRef {
        version: &a.version,
        id: &a.id,
        text: agreement_text.as_deref(),
    });
    let mut writer = store
        .begin_batch(&shown, Utc::now(), agreement_ref)
        .map_err(store_refusal)?;

    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(IN_FLIGHT);
    let (parsed_tx, parsed_rx) = sync_channel::<Parsed>(IN_FLIGHT);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    // Written chunks go back to the worker that parsed them to be freed there: a chunk is
    // some 200,000 small allocations of that worker, and freeing them on the writer thread
    // (another thread's memory, the allocator's slow path) took a sixth of its time. A worker
    // frees what it got back before each chunk, so at most a few chunks wait there.
    let (spent_txs, spent_rxs): (Vec<_>, Vec<_>) = (0..workers)
        .map(|_| std::sync::mpsc::channel::<Parsed>())
        .unzip();

    let mut outcome = FileOutcome::default();
    let mut diagnostics: Vec<String> = Vec::new();
    let mut write_error: Option<StoreError> = None;
    let read_result = std::thread::scope(|scope| -> Result<()> {
        let reading = scope.spawn(move || read_chunks(reader, first_row, first_line, &chunk_tx));
        for (worker, spent) in spent_rxs.into_iter().enumerate() {
            let (rx, tx) = (Arc::clone(&chunk_rx), parsed_tx.clone());
            let (shown, header) = (&shown, &header);
            let assessor = assessed.map(|(_, s)| s);
            scope.spawn(move || {
                let stage = Stage {
                    worker,
                    file: shown,
                    format,
                    header,
                    assessor,
                };
                parse_chunks(&stage, &rx, &tx, &spent);
            });
        }
        drop(parsed_tx);

        // Write chunks in file order as they arrive.
        let mut pending: BTreeMap<usize, Parsed> = BTreeMap::new();
        let mut next = 0;
        for parsed in parsed_rx {
            pending.insert(parsed.seq, parsed);
            while let Some(chunk) = pending.remove(&next) {
                next += 1;
                progress.inc(chunk.bytes);
                outcome.timing.add(chunk.timing);
                if !chunk.batch.diagnostics.is_empty() {
                    let room = MAX_DIAGNOSTICS.saturating_sub(diagnostics.len());
                    diagnostics.extend(
                        chunk
                            .batch
                            .diagnostics
                            .iter()
                            .take(room)
                            .map(ToString::to_string),
                    );
                }
                if diagnostics.is_empty() && write_error.is_none() {
                    let started = Instant::now();
                    let records = rows_for(&chunk.batch, &chunk.assessments, agreement);
                    if let Err(e) = writer.add(&records) {
                        write_error = Some(e);
                    }
                    outcome.timing.store += started.elapsed();
                }
                // A worker that has stopped hands the chunk back, to be freed here.
                drop(spent_txs[chunk.worker].send(chunk));
            }
        }
        drop(spent_txs);
        reading
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread of {shown} panicked"))?
    });
    read_result?;
    if let Some(e) = write_error {
        return Err(store_refusal(e)).with_context(|| format!("cannot store {shown}"));
    }
    if !diagnostics.is_empty() {
        drop(writer); // rolls the batch back
        outcome.rejected = diagnostics;
        return Ok(outcome);
    }
    if let Some((a, assessor)) = assessed
        && assessor.wait().is_none()
    {
        drop(writer); // rolls the batch back
        anyhow::bail!(
            "cannot assess under agreement {}: building its assessor failed",
            a.id
        );
    }
    let started = Instant::now();
    let report = writer
        .commit()
        .map_err(store_refusal)
        .with_context(|| format!("cannot store {shown}"))?;
    outcome.timing.store += started.elapsed();
    outcome.new = report.new;
    outcome.duplicate = report.duplicate;
    outcome.revised = report.revised;
    outcome.assessments_written = report.assessments_written;
    Ok(outcome)
}

/// Reads whole lines in chunks of [`CHUNK_LINES`] and hands them on, in order.
fn read_chunks(
    mut reader: impl BufRead,
    mut pending: Vec<u8>,
    mut first_line: usize,
    tx: &std::sync::mpsc::SyncSender<Chunk>,
) -> Result<()> {
    let mut seq = 0;
    loop {
        let mut lines = pending.iter().filter(|&&b| b == b'\n').count();
        let mut at_end = false;
        while lines < CHUNK_LINES {
            if reader.read_until(b'\n', &mut pending)? == 0 {
                at_end = true;
                break;
            }
            lines += usize::from(pending.last() == Some(&b'\n'));
        }
        if !pending.is_empty() {
            // The next chunk is about as long: room for it up front, not grown line by line.
            let room = pending.len() + pending.len() / 8;
            let bytes = std::mem::replace(&mut pending, Vec::with_capacity(room));
            // Each line read ended with its newline, but a last one may not.
            let count = lines + usize::from(bytes.last() != Some(&b'\n'));
            if tx
                .send(Chunk {
                    seq,
                    first_line,
                    bytes,
                })
                .is_err()
            {
                return Ok(()); // the writer stopped; it reports why
            }
            seq += 1;
            first_line += count;
        }
        if at_end {
            return Ok(());
        }
    }
}

/// What a parse worker needs to know of the file.
struct Stage<'a> {
    worker: usize,
    file: &'a str,
    format: ObservationFormat,
    header: &'a [u8],
    assessor: Option<&'a PendingAssessor>,
}

/// A worker: parses and assesses chunks until there are none, freeing those written.
fn parse_chunks(
    stage: &Stage<'_>,
    rx: &Mutex<Receiver<Chunk>>,
    tx: &std::sync::mpsc::SyncSender<Parsed>,
    spent: &Receiver<Parsed>,
) {
    let Stage {
        worker,
        file,
        format,
        header,
        assessor,
    } = *stage;
    loop {
        spent.try_iter().for_each(drop);
        let chunk = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(chunk) = chunk else { return };
        let started = Instant::now();
        let batch = parse_rows_for_store(file, format, header, &chunk.bytes, chunk.first_line);
        let parse = started.elapsed();
        let started = Instant::now();
        // No assessments if the build failed: the writer refuses to commit then.
        let assessments = match assessor.and_then(PendingAssessor::wait) {
            Some(assessor) => batch
                .rows
                .iter()
                .map(|row| row.position.map(|pos| assessor.assess(pos)))
                .collect(),
            None => Vec::new(),
        };
        let timing = Timing {
            parse,
            assess: started.elapsed(),
            store: Duration::ZERO,
        };
        let parsed = Parsed {
            seq: chunk.seq,
            worker,
            batch,
            assessments,
            timing,
            bytes: chunk.bytes.len() as u64,
        };
        if tx.send(parsed).is_err() {
            return;
        }
    }
}

/// The store's records for a parsed batch, with their assessments when there are any.
fn records_for<'a>(
    batch: &'a ParsedBatch,
    assessments: &[Option<Assessment>],
    agreement: Option<&'a Agreement>,
) -> Vec<NewRecord<'a>> {
    batch
        .observations
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let record =
                NewRecord::from_observation(&p.observation, &p.canonical_json, p.content_sha256);
            assessed(record, assessments.get(i), agreement)
        })
        .collect()
}

/// The store's records for rows streamed from a file, with their assessments.
fn rows_for<'a>(
    batch: &'a StoreRows,
    assessments: &[Option<Assessment>],
    agreement: Option<&'a Agreement>,
) -> Vec<NewRecord<'a>> {
    batch
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let record = NewRecord {
                source: &row.key.source,
                source_ref: &row.key.source_ref,
                content_sha256: row.content_sha256,
                canonical_json: &row.canonical_json,
                kind: row.kind,
                observed_at: row.observed_at,
                position: row.position,
                assessment: None,
            };
            assessed(record, assessments.get(i), agreement)
        })
        .collect()
}

/// A record with its assessment under the agreement, if it has one.
fn assessed<'a>(
    mut record: NewRecord<'a>,
    assessment: Option<&Option<Assessment>>,
    agreement: Option<&'a Agreement>,
) -> NewRecord<'a> {
    if let (Some(agreement), Some(Some(a))) = (agreement, assessment) {
        record.assessment = Some(NewAssessment::new(a, a.zone.id(agreement)));
    }
    record
}

/// What the store keeps of an agreement besides its version.
/// What the store keeps of an agreement: its id, title and version.
pub(crate) fn agreement_summary(a: &Agreement) -> String {
    json!({"id": a.id, "title": a.title, "version": a.version}).to_string()
}

fn progress_bar(quiet: bool, len: u64, template: &str) -> indicatif::ProgressBar {
    let bar = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(len)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Stores files already parsed (and assessed, when given) in memory, each as one atomic
/// batch; a file with any diagnostic is not stored and comes back rejected. For replay,
/// which needs every observation in memory anyway. `quiet` hides the progress bar.
pub fn store_files(
    store_args: &StoreArgs,
    files: &[LoadedFile],
    assessed: Option<(&Agreement, &[Vec<Option<Assessment>>])>,
    quiet: bool,
) -> Result<Vec<FileOutcome>> {
    let mut store = store_args.open()?;
    let agreement = assessed.map(|(a, _)| a);
    let agreement_text = agreement.map(agreement_summary);
    let total = files
        .iter()
        .map(|f| f.batch.observations.len() as u64)
        .sum();
    let progress = progress_bar(
        quiet,
        total,
        "{bar:40} {pos}/{len} records ({per_sec}) {msg}",
    );
    let mut outcomes = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        if !file.batch.diagnostics.is_empty() {
            let rejected = file
                .batch
                .diagnostics
                .iter()
                .map(ToString::to_string)
                .collect();
            outcomes.push(FileOutcome {
                rejected,
                ..Default::default()
            });
            continue;
        }
        let label = file.path.display().to_string();
        progress.set_message(label.clone());
        let started = Instant::now();
        let assessments = assessed.map_or(&[][..], |(_, all)| &all[index]);
        let records = records_for(&file.batch, assessments, agreement);
        let agreement_ref = agreement.map(|a| AgreementRef {
            version: &a.version,
            id: &a.id,
            text: agreement_text.as_deref(),
        });
        let mut writer = store
            .begin_batch(&label, Utc::now(), agreement_ref)
            .map_err(store_refusal)?;
        writer
            .add(&records)
            .map_err(store_refusal)
            .with_context(|| format!("cannot store {label}"))?;
        let report = writer
            .commit()
            .map_err(store_refusal)
            .with_context(|| format!("cannot store {label}"))?;
        progress.inc(records.len() as u64);
        outcomes.push(FileOutcome {
            new: report.new,
            duplicate: report.duplicate,
            revised: report.revised,
            assessments_written: report.assessments_written,
            rejected: Vec::new(),
            timing: Timing {
                store: started.elapsed(),
                ..Timing::default()
            },
        });
    }
    progress.finish_and_clear();
    Ok(outcomes)
}

/// Store errors that mean "this store is not for this truce" get their own exit code.
pub(crate) fn store_refusal(error: StoreError) -> anyhow::Error {
    match error {
        StoreError::SchemaTooNew { .. }
        | StoreError::NoStore { .. }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunks of `text` after a first line of its own: (first line number, text) each.
    fn chunks_of(text: &str) -> Vec<(usize, String)> {
        let (tx, rx) = sync_channel(1000);
        read_chunks(text.as_bytes(), b"header\n".to_vec(), 1, &tx).expect("read");
        drop(tx);
        rx.iter()
            .enumerate()
            .map(|(k, chunk)| {
                assert_eq!(chunk.seq, k);
                let text = String::from_utf8(chunk.bytes).expect("UTF-8");
                (chunk.first_line, text)
            })
            .collect()
    }

    #[test]
    fn chunks_hold_whole_lines_numbered_as_in_the_file() {
        for last in ["", "no newline at the end"] {
            let body: String = (2..=2 * CHUNK_LINES + 5)
                .map(|n| format!("line {n}\n"))
                .collect();
            let text = body + last;
            let chunks = chunks_of(&text);
            assert_eq!(chunks.len(), 3);
            let mut next_line = 1;
            let mut joined = String::new();
            for (first_line, chunk) in &chunks {
                assert_eq!(*first_line, next_line);
                let first_text = if next_line == 1 {
                    "header".to_owned()
                } else {
                    format!("line {next_line}")
                };
                assert!(chunk.starts_with(&first_text), "{first_text}: {chunk:.20}");
                next_line += chunk.split_inclusive('\n').count();
                joined.push_str(chunk);
            }
            assert_eq!(joined, format!("header\n{text}"));
        }
    }
}
