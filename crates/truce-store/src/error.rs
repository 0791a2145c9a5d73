//! The store's error type.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong in the store. Each variant names the store file; the
/// underlying SQLite or IO error, where there is one, is the [`std::error::Error::source`].
///
/// | variant | meaning | what the user can do |
/// |---|---|---|
/// | `CreateDir` | the store's directory could not be created | fix the path or permissions |
/// | `NoStore` | there is no store file to read | point at the right file |
/// | `NotAStore` | the file is not a Truce store (not SQLite, or another program's database) | point at the right file |
/// | `SchemaTooNew` | written by a newer Truce | upgrade Truce |
/// | `BadSchemaVersion` | a negative `user_version`: the file was tampered with | restore from backup |
/// | `NotWal` | the file cannot use WAL journaling (e.g. a network file system) | move it to a local disk |
/// | `Busy` | another writer held the store for longer than the busy timeout | retry, or raise the timeout |
/// | `InvalidRecord` | one record of a batch is invalid before SQLite sees it (a key of the wrong length, a coordinate out of range or NaN) | fix the input |
/// | `Record` | one record of a batch was refused (a constraint); nothing of the batch was written | fix the input |
/// | `AssessmentWithoutAgreement` | a record carries an assessment but the batch names no agreement | a caller bug |
/// | `AgreementMismatch` | an agreement version is already stored with another id | a caller bug or a hash collision |
/// | `UnknownObservation` | an assessment names an observation id that is not stored | a caller bug |
/// | `InvalidAssessment` | an assessment to record is invalid (a negative or non-finite distance) | a caller bug |
/// | `InvalidFusion` | a fusion to store is inconsistent (an observation in two incidents, a member not stored, a confidence out of range); nothing of it was written | a caller bug |
/// | `Corrupt` | a stored row does not read back as written | restore from backup |
/// | `Sqlite` | any other SQLite failure, with what the store was doing | see the source |
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory {path} for the store")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("no store at {path}")]
    NoStore { path: PathBuf },

    #[error("{path} is not a truce store: {reason}")]
    NotAStore { path: PathBuf, reason: String },

    #[error(
        "store {path} has schema version {found}, but this truce understands only up to \
         {supported}: upgrade truce"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("store {path} has the invalid schema version {found}")]
    BadSchemaVersion { path: PathBuf, found: i64 },

    #[error("store {path} cannot use WAL journaling (the journal mode stayed {mode:?})")]
    NotWal { path: PathBuf, mode: String },

    #[error(
        "store {path} is locked by another writer; gave up after waiting {} ms",
        waited.as_millis()
    )]
    Busy {
        path: PathBuf,
        waited: Duration,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "store {path}: batch record {index} ({key}) was refused, nothing of the batch was written"
    )]
    Record {
        path: PathBuf,
        /// Index of the record in the batch, from 0.
        index: usize,
        /// `source` and `source_ref` of the record, joined by a space.
        key: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "store {path}: batch record {index} ({key}) was refused, nothing of the batch was \
         written: {reason}"
    )]
    InvalidRecord {
        path: PathBuf,
        index: usize,
        key: String,
        reason: &'static str,
    },

    #[error(
        "store {path}: batch record {index} carries an assessment, but the batch names no \
         agreement"
    )]
    AssessmentWithoutAgreement { path: PathBuf, index: usize },

    #[error(
        "store {path}: agreement version {version} is stored with id {stored_id:?}, not \
         {given_id:?}"
    )]
    AgreementMismatch {
        path: PathBuf,
        version: String,
        stored_id: String,
        given_id: String,
    },

    #[error("store {path}: no observation with id {id} to assess")]
    UnknownObservation { path: PathBuf, id: i64 },

    #[error("store {path}: the assessment of observation {id} was refused: {reason}")]
    InvalidAssessment {
        path: PathBuf,
        id: i64,
        reason: &'static str,
    },

    #[error("store {path}: the fusion was refused, nothing of it was written: {reason}")]
    InvalidFusion { path: PathBuf, reason: String },

    #[error("store {path} is corrupt: {what}")]
    Corrupt { path: PathBuf, what: String },

    #[error("store {path}: {context}")]
    Sqlite {
        path: PathBuf,
        /// What the store was doing, e.g. "reading the schema version".
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Wraps a SQLite error with the store's path and what it was doing; a busy error (the
    /// busy timeout ran out) becomes [`StoreError::Busy`].
    pub(crate) fn sqlite(
        path: &std::path::Path,
        busy_timeout: Duration,
        context: &'static str,
        source: rusqlite::Error,
    ) -> StoreError {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
            return StoreError::Busy {
                path: path.to_path_buf(),
                waited: busy_timeout,
                source,
            };
        }
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
            return StoreError::NotAStore {
                path: path.to_path_buf(),
                reason: "not a SQLite database".to_owned(),
            };
        }
        StoreError::Sqlite {
            path: path.to_path_buf(),
            context,
            source,
        }
    }
}
