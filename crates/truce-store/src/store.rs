//! Opening a store, its connection settings, and the read-side queries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use truce_core::Kind;
use truce_geo::LonLat;

use crate::error::StoreError;
use crate::migrate;
use crate::schema::{MIGRATIONS, SCHEMA_VERSION};

/// How a store is opened. `StoreOptions::default()` is what [`Store::open`] uses.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreOptions {
    /// How long a writer waits for another writer to finish before giving up with
    /// [`StoreError::Busy`]. Default 60 s.
    pub busy_timeout: Duration,
    /// SQLite page cache of this connection, in KiB. Default 64 MiB: the idempotency index
    /// of a few million observations stays in memory during a batch.
    pub cache_kib: u32,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            busy_timeout: Duration::from_secs(60),
            cache_kib: 64 * 1024,
        }
    }
}

/// An observation row id: one revision of one observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObservationId(pub i64);

/// A batch row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchId(pub i64);

/// One stored revision of an observation, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredObservation {
    pub id: ObservationId,
    pub batch_id: BatchId,
    pub source: String,
    pub source_ref: String,
    /// 1 for the first report of the key, n + 1 for each correction.
    pub revision: i64,
    pub content_sha256: [u8; 32],
    pub canonical_json: String,
    pub kind: Kind,
    /// When it happened, floored to the second (the body has the exact time).
    pub observed_at: DateTime<Utc>,
    pub position: Option<LonLat>,
    /// When it was ingested: the `received_at` of its batch, to the second.
    pub ingested_at: DateTime<Utc>,
}

/// One stored batch.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredBatch {
    pub id: BatchId,
    pub label: String,
    pub received_at: DateTime<Utc>,
    /// Records in the batch, duplicates included.
    pub record_count: i64,
    pub new_count: i64,
    pub revised_count: i64,
    pub duplicate_count: i64,
}

/// How many observations the store holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObservationCounts {
    /// Every stored revision.
    pub revisions: i64,
    /// Distinct keys: the current revisions.
    pub current: i64,
}

/// A cheap summary of the store's content: equal before and after an operation means the
/// operation wrote nothing (the tables are append-only, so a write changes a count or a
/// maximum id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub schema_version: i64,
    pub batches: i64,
    pub last_batch_id: i64,
    pub observations: i64,
    pub last_observation_id: i64,
    pub agreements: i64,
    pub assessments: i64,
    pub fusions: i64,
}

/// The connection settings in force, as SQLite reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// `wal` for a store.
    pub journal_mode: String,
    /// `PRAGMA synchronous`: 2 is `FULL`.
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub busy_timeout: Duration,
}

/// The embedded store: one SQLite connection to one file.
///
/// Writes (`&mut self`) are each one `BEGIN IMMEDIATE` transaction, so a second writer, in
/// this process or another, waits for the first up to the busy timeout. Reads see the last
/// committed state and do not wait for writers (WAL).
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) busy_timeout: Duration,
}

const OBSERVATION_COLUMNS: &str = "o.id, o.batch_id, o.source, o.source_ref, o.revision, \
     o.content_sha256, o.body, o.kind, o.observed_at_s, o.lon, o.lat, b.received_at_s \
     FROM observations AS o JOIN batches AS b ON b.id = o.batch_id";

/// The page size of a new store, in bytes.
const PAGE_SIZE_BYTES: i64 = 65_536;

impl Store {
    /// Opens the store at `path` with the default options, creating the file (and its
    /// directory) on first use and bringing its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(path, &StoreOptions::default())
    }

    /// Opens the store at `path`. A store written by a newer Truce
    /// ([`StoreError::SchemaTooNew`]) or a file that is not a store
    /// ([`StoreError::NotAStore`]) is refused without any change to it.
    pub fn open_with(path: impl AsRef<Path>, options: &StoreOptions) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let timeout = options.busy_timeout;
        let path_ref = path.as_path();
        let err = |context| move |e| StoreError::sqlite(path_ref, timeout, context, e);
        let mut conn = Connection::open(&path).map_err(err("opening the file"))?;
        conn.busy_timeout(timeout)
            .map_err(err("setting the busy timeout"))?;

        // Refuse before changing anything: setting the journal mode writes the file header.
        let found = migrate::check_header(&conn, &path, timeout, SCHEMA_VERSION)?;

        if found == 0 {
            // Only a new, empty file takes a page size. Observation bodies are a few hundred
            // bytes: 64 KiB pages (SQLite's largest) keep the B-trees shallow and mean fewer
            // pages to balance, log and checkpoint per row (an older store keeps its size).
            conn.pragma_update(None, "page_size", PAGE_SIZE_BYTES)
                .map_err(err("setting the page size"))?;
        }
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(err("switching to WAL journaling"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotWal {
                path: path.clone(),
                mode,
            });
        }
        // FULL: a committed batch survives a power cut, not only a crash of the process.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err("setting synchronous = FULL"))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(err("enabling foreign keys"))?;
        conn.pragma_update(None, "cache_size", -i64::from(options.cache_kib))
            .map_err(err("setting the cache size"))?;
        // A large batch grows the WAL; truncate it back after checkpoints.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(err("setting the journal size limit"))?;

        if found < SCHEMA_VERSION {
            migrate::migrate(&mut conn, &path, timeout, MIGRATIONS)?;
        }
        Ok(Store {
            conn,
            path,
            busy_timeout: timeout,
        })
    }

    /// Opens an existing store for reading only: nothing in the file changes (no migration,
    /// no journal mode set), so a store of an older schema is read as it is. A missing file
    /// ([`StoreError::NoStore`]), a file that is not a store ([`StoreError::NotAStore`]) or a
    /// store of a newer Truce ([`StoreError::SchemaTooNew`]) is refused. Writes fail.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(StoreError::NoStore { path });
        }
        let timeout = StoreOptions::default().busy_timeout;
        let path_ref = path.as_path();
        let err = |context| move |e| StoreError::sqlite(path_ref, timeout, context, e);
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(err("opening the file"))?;
        conn.busy_timeout(timeout)
            .map_err(err("setting the busy timeout"))?;
        if migrate::check_header(&conn, &path, timeout, SCHEMA_VERSION)? == 0 {
            return Err(StoreError::NotAStore {
                path: path.clone(),
                reason: "it holds no truce schema".to_owned(),
            });
        }
        Ok(Store {
            conn,
            path,
            busy_timeout: timeout,
        })
    }

    /// Calls `f` with the id and canonical JSON of the current revision of every observation,
    /// in id order; returns how many there were.
    pub fn for_each_current_observation(
        &self,
        mut f: impl FnMut(ObservationId, &str),
    ) -> Result<usize, StoreError> {
        let err = self.err("reading the current observations");
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM current_observations ORDER BY id")
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(&err)? {
            let id = ObservationId(row.get(0).map_err(&err)?);
            f(
                id,
                row.get_ref(1).and_then(|v| Ok(v.as_str()?)).map_err(&err)?,
            );
            count += 1;
        }
        Ok(count)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// Sets how long a write waits for another writer before [`StoreError::Busy`].
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(timeout)
            .map_err(self.err("setting the busy timeout"))?;
        self.busy_timeout = timeout;
        Ok(())
    }

    /// Maps a SQLite error of this store, with what it was doing.
    /// Allocates nothing until there is an error: it is made once per row in hot loops.
    pub(crate) fn err(&self, context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
        move |e| StoreError::sqlite(&self.path, self.busy_timeout, context, e)
    }

    /// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock now, waiting for
    /// another writer up to the busy timeout, rather than failing at the first write.
    /// Callers hold `&mut self`, so transactions never nest.
    pub(crate) fn begin_write(&self) -> Result<Transaction<'_>, StoreError> {
        Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(self.err("starting a write transaction"))
    }

    /// The settings SQLite reports for this connection.
    pub fn settings(&self) -> Result<ConnectionSettings, StoreError> {
        let err = self.err("reading the connection settings");
        let pragma_i64 = |name| {
            self.conn
                .pragma_query_value(None, name, |row| row.get::<_, i64>(0))
        };
        let journal_mode: String = self
            .conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .map_err(&err)?;
        let busy_timeout_ms = pragma_i64("busy_timeout").map_err(&err)?;
        Ok(ConnectionSettings {
            journal_mode,
            synchronous: pragma_i64("synchronous").map_err(&err)?,
            foreign_keys: pragma_i64("foreign_keys").map_err(&err)? != 0,
            busy_timeout: Duration::from_millis(u64::try_from(busy_timeout_ms).unwrap_or(0)),
        })
    }

    /// `PRAGMA user_version`: the number of migrations applied.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(self.err("reading the schema version"))
    }

    /// Every key has exactly one revision 1, so counting those counts the keys.
    pub fn observation_counts(&self) -> Result<ObservationCounts, StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM observations), \
                        (SELECT count(*) FROM observations WHERE revision = 1)",
                [],
                |row| {
                    Ok(ObservationCounts {
                        revisions: row.get(0)?,
                        current: row.get(1)?,
                    })
                },
            )
            .map_err(self.err("counting observations"))
    }

    /// The current (highest) revision of the observation with this key.
    pub fn current_revision(
        &self,
        source: &str,
        source_ref: &str,
    ) -> Result<Option<StoredObservation>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {OBSERVATION_COLUMNS} WHERE o.source = ?1 AND o.source_ref = ?2 \
                 ORDER BY o.revision DESC LIMIT 1"
            ))
            .and_then(|mut stmt| {
                stmt.query_row((source, source_ref), observation_from_row)
                    .optional()
            })
            .map_err(self.err("looking up an observation"))
    }

    /// Every revision of the observation with this key, oldest first.
    pub fn revisions(
        &self,
        source: &str,
        source_ref: &str,
    ) -> Result<Vec<StoredObservation>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {OBSERVATION_COLUMNS} WHERE o.source = ?1 AND o.source_ref = ?2 \
                 ORDER BY o.revision"
            ))
            .and_then(|mut stmt| {
                stmt.query_map((source, source_ref), observation_from_row)?
                    .collect()
            })
            .map_err(self.err("listing the revisions of an observation"))
    }

    /// One observation revision by row id.
    pub fn observation(&self, id: ObservationId) -> Result<Option<StoredObservation>, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT {OBSERVATION_COLUMNS} WHERE o.id = ?1"))
            .and_then(|mut stmt| stmt.query_row([id.0], observation_from_row).optional())
            .map_err(self.err("reading an observation"))
    }

    /// Every batch, oldest first.
    pub fn batches(&self) -> Result<Vec<StoredBatch>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id, label, received_at_s, record_count, new_count, revised_count, \
                 duplicate_count FROM batches ORDER BY id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok(StoredBatch {
                        id: BatchId(row.get(0)?),
                        label: row.get(1)?,
                        received_at: time_from_row(row, 2)?,
                        record_count: row.get(3)?,
                        new_count: row.get(4)?,
                        revised_count: row.get(5)?,
                        duplicate_count: row.get(6)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("listing batches"))
    }

    /// Counts and maximum ids of every table: see [`Fingerprint`].
    pub fn fingerprint(&self) -> Result<Fingerprint, StoreError> {
        let schema_version = self.schema_version()?;
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM batches), \
                        (SELECT coalesce(max(id), 0) FROM batches), \
                        (SELECT count(*) FROM observations), \
                        (SELECT coalesce(max(id), 0) FROM observations), \
                        (SELECT count(*) FROM agreements), \
                        (SELECT count(*) FROM assessments), \
                        (SELECT count(*) FROM fusions)",
                [],
                |row| {
                    Ok(Fingerprint {
                        schema_version,
                        batches: row.get(0)?,
                        last_batch_id: row.get(1)?,
                        observations: row.get(2)?,
                        last_observation_id: row.get(3)?,
                        agreements: row.get(4)?,
                        assessments: row.get(5)?,
                        fusions: row.get(6)?,
                    })
                },
            )
            .map_err(self.err("computing the fingerprint"))
    }
}

fn observation_from_row(row: &Row<'_>) -> rusqlite::Result<StoredObservation> {
    let kind_name = row.get_ref(7)?.as_str()?;
    let kind = Kind::from_wire(kind_name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            7,
            Type::Text,
            format!("unknown observation kind {kind_name:?}").into(),
        )
    })?;
    let lon: Option<f64> = row.get(9)?;
    let lat: Option<f64> = row.get(10)?;
    Ok(StoredObservation {
        id: ObservationId(row.get(0)?),
        batch_id: BatchId(row.get(1)?),
        source: row.get(2)?,
        source_ref: row.get(3)?,
        revision: row.get(4)?,
        content_sha256: row.get(5)?,
        canonical_json: row.get(6)?,
        kind,
        observed_at: time_from_row(row, 8)?,
        position: lon.zip(lat).map(|(lon, lat)| LonLat::new(lon, lat)),
        ingested_at: time_from_row(row, 11)?,
    })
}

/// Reads an integer Unix-seconds column as a UTC time.
pub(crate) fn time_from_row(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    let seconds: i64 = row.get(index)?;
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            Type::Integer,
            format!("{seconds} is out of range for a timestamp").into(),
        )
    })
}
