//! The embedded store of Truce: observations, their revisions, batches, assessments and
//! fusions (the incidents drawn from observations) in one SQLite file.
//!
//! - One file per deployment, in WAL mode with `synchronous = FULL`: a committed batch is
//!   durable, readers never wait for the writer, a second writer waits for the first (the
//!   busy timeout, 60 s by default).
//! - (`source`, `source_ref`) is the idempotency key of `shared/spec/observation.md`: the
//!   same content again is a duplicate and writes nothing; different content is a new
//!   revision and the old one is kept. Observations are never updated or deleted.
//! - A batch is one transaction: all of it is stored or none of it.
//! - The store reads no clock: every time is a parameter.
//!
//! The schema and its migrations are described in [`schema`].

mod assessments;
mod batch;
mod error;
mod fusions;
mod migrate;
pub mod schema;
mod store;

pub use assessments::{AgreementRef, NewAssessment, StoredAgreement, StoredAssessment};
pub use batch::{BatchReport, BatchWriter, NewBatch, NewRecord, Outcome, RecordOutcome};
pub use error::StoreError;
pub use fusions::{
    FusionId, FusionReport, FusionWriter, NewEquipment, NewFusion, NewIncident, StoredEquipment,
    StoredFusion, StoredIncident,
};
pub use store::{
    BatchId, ConnectionSettings, Fingerprint, ObservationCounts, ObservationId, Store,
    StoreOptions, StoredBatch, StoredObservation,
};
