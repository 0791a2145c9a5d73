//! Ingesting a batch of observations: idempotent per record, atomic per batch.

use chrono::{DateTime, Utc};
use truce_core::{Kind, Observation};
use truce_geo::LonLat;

use crate::assessments::{
    AgreementRef, INSERT_ASSESSMENT, NewAssessment, insert_assessment, invalid_assessment_reason,
    upsert_agreement,
};
use crate::error::StoreError;
use crate::store::{BatchId, ObservationId, Store};

/// A batch to ingest: a file, an HTTP submission. It borrows everything.
#[derive(Clone, Copy, Debug)]
pub struct NewBatch<'a> {
    /// The file name or another label for the batch.
    pub label: &'a str,
    /// When the batch was received; the ingest time of the observations it brings. The
    /// store reads no clock.
    pub received_at: DateTime<Utc>,
    pub records: &'a [NewRecord<'a>],
    /// The agreement that the records' assessments were made under; required when any
    /// record carries an assessment.
    pub agreement: Option<AgreementRef<'a>>,
}

/// One observation to ingest, already validated and canonicalised by the caller.
#[derive(Clone, Copy, Debug)]
pub struct NewRecord<'a> {
    /// With `source_ref`, the idempotency key.
    pub source: &'a str,
    pub source_ref: &'a str,
    /// SHA-256 of `canonical_json`: the identity of the content.
    pub content_sha256: [u8; 32],
    /// The canonical JSON of the observation, stored verbatim.
    pub canonical_json: &'a str,
    pub kind: Kind,
    /// Stored floored to the second.
    pub observed_at: DateTime<Utc>,
    /// `None` for an unlocated (bearing-only) report.
    pub position: Option<LonLat>,
    /// The assessment of this record under the batch's agreement, if the caller made one.
    pub assessment: Option<NewAssessment<'a>>,
}

impl<'a> NewRecord<'a> {
    /// The record of a parsed observation whose canonical JSON (and its hash) the caller
    /// computed.
    pub fn from_observation(
        observation: &'a Observation,
        canonical_json: &'a str,
        content_sha256: [u8; 32],
    ) -> NewRecord<'a> {
        NewRecord {
            source: &observation.key.source,
            source_ref: &observation.key.source_ref,
            content_sha256,
            canonical_json,
            kind: observation.kind,
            observed_at: observation.observed_at,
            position: observation.position(),
            assessment: None,
        }
    }
}

/// What happened to one record of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The key was not stored: revision 1 was written.
    New,
    /// The current revision of the key has the same content hash: nothing was written.
    Duplicate,
    /// The content differs from the current revision: revision n + 1 was written, the
    /// earlier ones are kept.
    Revised,
}

/// The outcome of one record and the revision it ended up as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordOutcome {
    pub outcome: Outcome,
    /// The row written (new, revised) or the current row it duplicates.
    pub observation_id: ObservationId,
    pub revision: i64,
}

/// The result of [`Store::ingest_batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchReport {
    /// `None` when the batch wrote nothing (every record a duplicate, no new assessment).
    pub batch_id: Option<BatchId>,
    pub new: usize,
    pub revised: usize,
    pub duplicate: usize,
    /// Assessments written (an assessment already stored is not counted).
    pub assessments_written: usize,
    /// One per record, in the order of the batch.
    pub records: Vec<RecordOutcome>,
}

/// Revision 1 of a key, or the next revision: the unique index on (source, source_ref,
/// revision) makes a conflict the sign that the key is already stored. One statement
/// serves the common case (a new key) with a single index probe.
const INSERT_OBSERVATION: &str = "INSERT INTO observations \
     (source, source_ref, revision, content_sha256, body, kind, observed_at_s, lon, lat, \
      batch_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
     ON CONFLICT (source, source_ref, revision) DO NOTHING";

const CURRENT_REVISION: &str = "SELECT id, revision, content_sha256 FROM observations \
     WHERE source = ?1 AND source_ref = ?2 ORDER BY revision DESC LIMIT 1";

/// A batch being written: one open write transaction that records are added to in chunks,
/// so that a file of any size streams through in bounded memory. Nothing is visible to
/// other connections until [`BatchWriter::commit`]; dropping the writer (or an error on the
/// way) rolls everything back.
pub struct BatchWriter<'s> {
    store: &'s Store,
    tx: rusqlite::Transaction<'s>,
    batch_id: i64,
    agreement_row: Option<i64>,
    agreement_written: bool,
    /// Records added so far: the batch index of the next one.
    added: usize,
    report: BatchReport,
}

impl std::fmt::Debug for BatchWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("batch_id", &self.batch_id)
            .field("added", &self.added)
            .finish()
    }
}

impl Store {
    /// Ingests a batch in one transaction: all of it or nothing.
    ///
    /// Each record is [`Outcome::New`], [`Outcome::Duplicate`] or [`Outcome::Revised`]
    /// against the current revision of its key, including earlier records of the same
    /// batch. A record's assessment is stored for the row written or, for a duplicate, the
    /// current row. A batch that would write nothing at all is rolled back, so the store
    /// stays unchanged and no batch row is added; a batch that brings only new assessments
    /// keeps its batch row.
    ///
    /// A record that cannot be stored (a `source` or `source_ref` of the wrong length, a
    /// position that is not finite or out of range, a negative distance) fails the whole
    /// batch with [`StoreError::InvalidRecord`], naming the record and the reason; one the
    /// schema refuses fails it with [`StoreError::Record`].
    pub fn ingest_batch(&mut self, batch: &NewBatch<'_>) -> Result<BatchReport, StoreError> {
        let mut writer = self.begin_batch(batch.label, batch.received_at, batch.agreement)?;
        let outcomes = writer.add(batch.records)?;
        let mut report = writer.commit()?;
        report.records = outcomes;
        Ok(report)
    }

    /// Starts a batch: takes the write lock (waiting for another writer up to the busy
    /// timeout) and opens its transaction. Records carrying assessments need `agreement`.
    pub fn begin_batch<'s>(
        &'s mut self,
        label: &str,
        received_at: DateTime<Utc>,
        agreement: Option<AgreementRef<'_>>,
    ) -> Result<BatchWriter<'s>, StoreError> {
        let store: &'s Store = self;
        let tx = store.begin_write()?;
        let (agreement_row, agreement_written) = match &agreement {
            Some(agreement) => {
                let (row, written) = upsert_agreement(&tx, store, agreement)?;
                (Some(row), written)
            }
            None => (None, false),
        };
        tx.prepare_cached(
            "INSERT INTO batches (label, received_at_s, record_count, new_count, \
             revised_count, duplicate_count) VALUES (?1, ?2, 0, 0, 0, 0)",
        )
        .and_then(|mut stmt| stmt.execute((label, received_at.timestamp())))
        .map_err(store.err("storing a batch"))?;
        let batch_id = tx.last_insert_rowid();
        Ok(BatchWriter {
            store,
            tx,
            batch_id,
            agreement_row,
            agreement_written,
            added: 0,
            report: BatchReport {
                batch_id: Some(BatchId(batch_id)),
                new: 0,
                revised: 0,
                duplicate: 0,
                assessments_written: 0,
                records: Vec::new(),
            },
        })
    }
}

impl BatchWriter<'_> {
    /// Adds records to the batch, in order; returns the outcome of each.
    pub fn add(&mut self, records: &[NewRecord<'_>]) -> Result<Vec<RecordOutcome>, StoreError> {
        let store = self.store;
        let tx = &self.tx;
        let batch_id = self.batch_id;
        let report = &mut self.report;
        let first_index = self.added;
        if self.agreement_row.is_none()
            && let Some(k) = records.iter().position(|r| r.assessment.is_some())
        {
            return Err(StoreError::AssessmentWithoutAgreement {
                path: store.path.clone(),
                index: first_index + k,
            });
        }
        let mut outcomes = Vec::with_capacity(records.len());
        let mut insert = tx
            .prepare_cached(INSERT_OBSERVATION)
            .map_err(store.err("preparing the observation insert"))?;
        let mut current = tx
            .prepare_cached(CURRENT_REVISION)
            .map_err(store.err("preparing the revision lookup"))?;
        let mut assess = match self.agreement_row {
            Some(row) => Some((
                tx.prepare_cached(INSERT_ASSESSMENT)
                    .map_err(store.err("preparing the assessment insert"))?,
                row,
            )),
            None => None,
        };
        for (k, record) in records.iter().enumerate() {
            let index = first_index + k;
            let refused = |e| store.record_error(index, record, e);
            let insert_revision = |insert: &mut rusqlite::CachedStatement<'_>, revision| {
                insert.execute((
                    record.source,
                    record.source_ref,
                    revision,
                    &record.content_sha256[..],
                    record.canonical_json,
                    record.kind.as_str(),
                    record.observed_at.timestamp(),
                    record.position.map(|p| p.lon_deg),
                    record.position.map(|p| p.lat_deg),
                    batch_id,
                ))
            };
            if let Some(reason) = invalid_record_reason(record) {
                return Err(StoreError::InvalidRecord {
                    path: store.path.clone(),
                    index,
                    key: record_key(record),
                    reason,
                });
            }
            let outcome = if insert_revision(&mut insert, 1).map_err(refused)? == 1 {
                report.new += 1;
                RecordOutcome {
                    outcome: Outcome::New,
                    observation_id: ObservationId(tx.last_insert_rowid()),
                    revision: 1,
                }
            } else {
                let (id, revision, content_sha256) = current
                    .query_row((record.source, record.source_ref), |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get::<_, [u8; 32]>(2)?))
                    })
                    .map_err(store.err("looking up the current revision"))?;
                if content_sha256 == record.content_sha256 {
                    report.duplicate += 1;
                    RecordOutcome {
                        outcome: Outcome::Duplicate,
                        observation_id: ObservationId(id),
                        revision,
                    }
                } else {
                    let next = revision + 1;
                    if insert_revision(&mut insert, next).map_err(refused)? != 1 {
                        return Err(StoreError::Corrupt {
                            path: store.path.clone(),
                            what: format!(
                                "revision {next} of {} exists, but {revision} is the highest",
                                record_key(record)
                            ),
                        });
                    }
                    report.revised += 1;
                    RecordOutcome {
                        outcome: Outcome::Revised,
                        observation_id: ObservationId(tx.last_insert_rowid()),
                        revision: next,
                    }
                }
            };
            if let (Some(assessment), Some((assess, agreement_row))) =
                (&record.assessment, assess.as_mut())
                && insert_assessment(assess, *agreement_row, outcome.observation_id, assessment)
                    .map_err(store.err("storing an assessment"))?
            {
                report.assessments_written += 1;
            }
            outcomes.push(outcome);
        }
        self.added += records.len();
        Ok(outcomes)
    }

    /// Commits the batch: durable (synced) when this returns. A batch that wrote nothing
    /// (every record a duplicate, no new assessment or agreement) is rolled back instead, so
    /// the store stays unchanged, and its report has no batch id.
    pub fn commit(self) -> Result<BatchReport, StoreError> {
        let BatchWriter {
            store,
            tx,
            batch_id,
            agreement_written,
            added,
            mut report,
            ..
        } = self;
        if report.new + report.revised == 0 && report.assessments_written == 0 && !agreement_written
        {
            tx.rollback()
                .map_err(store.err("rolling back a batch of duplicates"))?;
            report.batch_id = None;
            return Ok(report);
        }
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        tx.prepare_cached(
            "UPDATE batches SET record_count = ?2, new_count = ?3, revised_count = ?4, \
             duplicate_count = ?5 WHERE id = ?1",
        )
        .and_then(|mut stmt| {
            stmt.execute((
                batch_id,
                count(added),
                count(report.new),
                count(report.revised),
                count(report.duplicate),
            ))
        })
        .map_err(store.err("storing a batch"))?;
        tx.commit().map_err(store.err("committing a batch"))?;
        Ok(report)
    }
}

impl Store {
    /// A constraint failure is the record's fault; anything else is the store's.
    fn record_error(&self, index: usize, record: &NewRecord<'_>, e: rusqlite::Error) -> StoreError {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
            return StoreError::Record {
                path: self.path.clone(),
                index,
                key: record_key(record),
                source: e,
            };
        }
        self.err("storing an observation")(e)
    }
}

/// Maximum lengths of the idempotency key's parts, in characters (`observation.md`).
const MAX_SOURCE_CHARS: usize = 128;
const MAX_SOURCE_REF_CHARS: usize = 256;

/// Why a record cannot be stored, if it cannot: the checks the schema no longer makes per
/// row (see [`crate::schema`], version 2), made here before anything reaches SQLite.
fn invalid_record_reason(record: &NewRecord<'_>) -> Option<&'static str> {
    // A string has at most as many characters as bytes: count only when the bytes say it
    // may be too long.
    let too_long = |text: &str, max: usize| text.len() > max && text.chars().count() > max;
    if record.source.is_empty() || too_long(record.source, MAX_SOURCE_CHARS) {
        return Some("its source is not 1 to 128 characters long");
    }
    if record.source_ref.is_empty() || too_long(record.source_ref, MAX_SOURCE_REF_CHARS) {
        return Some("its source_ref is not 1 to 256 characters long");
    }
    if let Some(p) = record.position {
        if !(p.lon_deg.is_finite() && p.lat_deg.is_finite()) {
            return Some("its position is not finite");
        }
        if !(-180.0..=180.0).contains(&p.lon_deg) {
            return Some("its longitude is outside [-180, 180]");
        }
        if !(-90.0..=90.0).contains(&p.lat_deg) {
            return Some("its latitude is outside [-90, 90]");
        }
    }
    record
        .assessment
        .as_ref()
        .and_then(invalid_assessment_reason)
}

fn record_key(record: &NewRecord<'_>) -> String {
    format!("{} {}", record.source, record.source_ref)
}
