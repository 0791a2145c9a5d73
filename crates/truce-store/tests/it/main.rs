//! Integration tests of truce-store: real files in temporary directories.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use truce_core::fusion::{
    Discipline, FusedIncident, Fusion, IncidentStatus, Reliability, SourceInfo, SourceRegistry,
    fuse,
};
use truce_core::{
    Equipment, EquipmentClass, Kind, KindSet, Location, Observation, ObservationKey, PartySide,
};
use truce_geo::LonLat;
use truce_store::{
    AgreementRef, BatchReport, NewAssessment, NewBatch, NewEquipment, NewFusion, NewIncident,
    NewRecord, ObservationId, Outcome, Store, StoreError, StoreOptions,
};

// ---- harness -------------------------------------------------------------------------------

/// A record fixture: the key, a body, and a position; the hash is computed from the body.
#[derive(Clone)]
struct Rec {
    source: &'static str,
    source_ref: &'static str,
    body: String,
    position: Option<LonLat>,
}

fn rec(source_ref: &'static str, body: &str) -> Rec {
    Rec {
        source: "firms:viirs:n20",
        source_ref,
        body: body.to_owned(),
        position: Some(LonLat::new(38.9, 48.5)),
    }
}

fn sha256(body: &str) -> [u8; 32] {
    Sha256::digest(body.as_bytes()).into()
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_757_000_000 + seconds, 0)
        .single()
        .expect("valid time")
}

fn new_record<'a>(r: &'a Rec, hash: &[u8; 32]) -> NewRecord<'a> {
    NewRecord {
        source: r.source,
        source_ref: r.source_ref,
        content_sha256: *hash,
        canonical_json: &r.body,
        kind: Kind::ThermalAnomaly,
        observed_at: at(0),
        position: r.position,
        assessment: None,
    }
}

/// Ingests `recs` as one batch received at `at(received_s)`.
fn ingest(store: &mut Store, received_s: i64, recs: &[Rec]) -> Result<BatchReport, StoreError> {
    let hashes: Vec<[u8; 32]> = recs.iter().map(|r| sha256(&r.body)).collect();
    let records: Vec<NewRecord<'_>> = recs
        .iter()
        .zip(&hashes)
        .map(|(r, h)| new_record(r, h))
        .collect();
    store.ingest_batch(&NewBatch {
        label: "batch.ndjson",
        received_at: at(received_s),
        records: &records,
        agreement: None,
    })
}

/// The one checker of batch ingest: the outcomes, in order, as `new`/`dup`/`rev` words with
/// the revision they ended up as, e.g. `"new:1 dup:1 rev:2"`.
fn check_ingest(store: &mut Store, recs: &[Rec], expected: &str) -> BatchReport {
    let report = ingest(store, 100, recs).expect("ingest");
    let actual: Vec<String> = report
        .records
        .iter()
        .map(|r| {
            let word = match r.outcome {
                Outcome::New => "new",
                Outcome::Duplicate => "dup",
                Outcome::Revised => "rev",
            };
            format!("{word}:{}", r.revision)
        })
        .collect();
    assert_eq!(actual.join(" "), expected);
    let count = |o| report.records.iter().filter(|r| r.outcome == o).count();
    assert_eq!(
        (report.new, report.duplicate, report.revised),
        (
            count(Outcome::New),
            count(Outcome::Duplicate),
            count(Outcome::Revised)
        )
    );
    report
}

fn temp_store() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("truce.db");
    let store = Store::open(&path).expect("open");
    (dir, path, store)
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("raw open")
}

// ---- opening -------------------------------------------------------------------------------

#[test]
fn open_creates_the_file_and_its_directory_in_wal_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/deeper/truce.db");
    let store = Store::open(&path).expect("open");
    assert!(path.is_file());
    assert_eq!(
        store.schema_version().expect("version"),
        truce_store::schema::SCHEMA_VERSION
    );

    let settings = store.settings().expect("settings");
    assert_eq!(settings.journal_mode, "wal");
    assert_eq!(settings.synchronous, 2, "FULL");
    assert!(settings.foreign_keys);
    assert_eq!(settings.busy_timeout, Duration::from_secs(60));

    // WAL is a property of the file, so another connection sees it too.
    let mode: String = raw(&path)
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");

    // Opening again is a no-op.
    drop(store);
    let again = Store::open(&path).expect("reopen");
    assert_eq!(again.fingerprint().expect("fp").batches, 0);
}

#[test]
fn a_newer_schema_is_refused_with_an_exact_message_and_left_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("future.db");
    raw(&path)
        .pragma_update(None, "user_version", 99)
        .expect("set user_version");

    let err = Store::open(&path).expect_err("must refuse");
    let supported = truce_store::schema::SCHEMA_VERSION;
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99,
                supported: s,
                ..
            } if s == supported
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "store {} has schema version 99, but this truce understands only up to \
             {supported}: upgrade truce",
            path.display()
        )
    );

    let conn = raw(&path);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("mode");
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .expect("count");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("v");
    assert_eq!((mode.as_str(), objects, version), ("delete", 0, 99));
}

#[test]
fn a_foreign_database_or_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other.db");
    raw(&other)
        .execute_batch("CREATE TABLE t (x)")
        .expect("create");
    let err = Store::open(&other).expect_err("must refuse");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, it is a text file of some length\n".repeat(20),
    )
    .expect("write");
    let err = Store::open(&text).expect_err("must refuse");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");
}

#[test]
fn a_store_opened_read_only_is_read_as_it_is_and_never_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.db");
    let err = Store::open_read_only(&missing).expect_err("no file");
    assert_eq!(
        err.to_string(),
        format!("no store at {}", missing.display())
    );
    assert!(!missing.exists(), "nothing created");

    // A store of an older schema is read without being migrated.
    let old = dir.path().join("v1.db");
    version_1_store(&old);
    let store = Store::open_read_only(&old).expect("read only");
    assert_eq!(store.schema_version().expect("version"), 1);
    let mut current = Vec::new();
    let count = store
        .for_each_current_observation(|id, body| current.push((id.0, body.to_owned())))
        .expect("read");
    assert_eq!(count, current.len());
    let expected: Vec<(i64, String)> = raw(&old)
        .prepare("SELECT id, body FROM current_observations ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("raw");
    assert!(!expected.is_empty());
    assert_eq!(current, expected);
    drop(store);
    let version: i64 = raw(&old)
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("v");
    assert_eq!(version, 1);

    // Newer, foreign and empty files are refused as `open` refuses them.
    let future = dir.path().join("future.db");
    raw(&future)
        .execute_batch("CREATE TABLE t (x); PRAGMA user_version = 99;")
        .expect("future");
    let err = Store::open_read_only(&future).expect_err("newer");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
    let other = dir.path().join("other.db");
    raw(&other)
        .execute_batch("CREATE TABLE t (x)")
        .expect("other");
    let err = Store::open_read_only(&other).expect_err("foreign");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("empty");
    let err = Store::open_read_only(&empty).expect_err("empty");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");
}

/// A store as version 1 of the schema left it: migration 1 only, 16 KiB pages, foreign keys
/// on, with two batches (a revision among them), an agreement and assessments.
fn version_1_store(path: &Path) {
    let conn = raw(path);
    conn.pragma_update(None, "page_size", 16_384)
        .expect("page size");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .expect("wal");
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "foreign_keys", true).expect("fk");
    conn.execute_batch(truce_store::schema::MIGRATIONS[0])
        .expect("migration 1");
    conn.pragma_update(None, "user_version", 1)
        .expect("version");
    conn.execute_batch(
        "INSERT INTO batches VALUES (1, 'a.csv', 1757000000, 2, 2, 0, 0);
         INSERT INTO batches VALUES (2, 'b.csv', 1757000100, 1, 0, 1, 0);
         INSERT INTO agreements VALUES (1, 'sha256:0f0f', 'minsk-2', NULL);",
    )
    .expect("version 1 rows");
    let rows = [
        (1, "a", 1, r#"{"v":1}"#, Some((38.9, 48.5)), 1),
        (2, "b", 1, r#"{"v":2}"#, None, 1),
        (7, "a", 2, r#"{"v":3}"#, Some((38.8, 48.4)), 2),
    ];
    for (id, source_ref, revision, body, position, batch) in rows {
        conn.execute(
            "INSERT INTO observations VALUES (?1, 'firms:viirs:n20', ?2, ?3, ?4, ?5, \
             'thermal_anomaly', 1757000000, ?6, ?7, ?8)",
            rusqlite::params![
                id,
                source_ref,
                revision,
                &sha256(body)[..],
                body,
                position.map(|p: (f64, f64)| p.0),
                position.map(|p| p.1),
                batch
            ],
        )
        .expect("version 1 observation");
    }
    conn.execute_batch(
        "INSERT INTO assessments VALUES (1, 1, 'inside', 1200.5, 'security'),
                                        (1, 7, 'outside', 60000.0, 'outside');",
    )
    .expect("version 1 assessments");
}

/// Every object's SQL, in a stable order: the shape of a schema.
fn schema_sql(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT type || ' ' || name || ': ' || sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY type, name")
        .expect("schema");
    stmt.query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("sql")
}

#[test]
fn a_version_1_store_is_upgraded_with_every_row_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v1.db");
    version_1_store(&path);
    let before = rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.query_row(
                "SELECT group_concat(id || ' ' || source_ref || ' ' || revision || ' ' || \
                 hex(content_sha256) || ' ' || body || ' ' || ifnull(lon, '-'), '; ') \
                 FROM (SELECT * FROM observations ORDER BY id)",
                [],
                |row| row.get::<_, String>(0),
            )
        })
        .expect("v1 rows");

    let mut store = Store::open(&path).expect("upgrade");
    assert_eq!(
        store.schema_version().expect("version"),
        truce_store::schema::SCHEMA_VERSION
    );
    let fp = store.fingerprint().expect("fp");
    assert_eq!(
        (
            fp.batches,
            fp.observations,
            fp.last_observation_id,
            fp.agreements,
            fp.assessments
        ),
        (2, 3, 7, 1, 2)
    );
    let conn = raw(&path);
    let after: String = conn
        .query_row(
            "SELECT group_concat(id || ' ' || source_ref || ' ' || revision || ' ' || \
             hex(content_sha256) || ' ' || body || ' ' || ifnull(lon, '-'), '; ') \
             FROM (SELECT * FROM observations ORDER BY id)",
            [],
            |row| row.get(0),
        )
        .expect("v2 rows");
    assert_eq!(after, before);
    let page_size: i64 = conn
        .pragma_query_value(None, "page_size", |row| row.get(0))
        .expect("page size");
    assert_eq!(page_size, 16_384, "an existing store keeps its page size");

    // The upgraded schema is the one a new store gets, without per-row constraints.
    let fresh_dir = tempfile::tempdir().expect("tempdir");
    let fresh = fresh_dir.path().join("new.db");
    drop(Store::open(&fresh).expect("new store"));
    let upgraded = schema_sql(&conn);
    assert_eq!(upgraded, schema_sql(&raw(&fresh)));
    let per_row = upgraded
        .iter()
        .filter(|sql| sql.contains("observations") || sql.contains("assessments"));
    assert!(
        per_row
            .clone()
            .all(|sql| !sql.contains("CHECK") && !sql.contains("REFERENCES")),
        "{upgraded:#?}"
    );
    assert_eq!(
        per_row.count(),
        6,
        "table, index, view, triggers: {upgraded:#?}"
    );

    // Revisions, the current view, assessments and immutability carry over.
    let a = store
        .current_revision("firms:viirs:n20", "a")
        .expect("lookup")
        .expect("a");
    assert_eq!(
        (a.id, a.revision, a.canonical_json.as_str()),
        (ObservationId(7), 2, r#"{"v":3}"#)
    );
    let stored = store
        .assessment(ObservationId(7), "sha256:0f0f")
        .expect("read")
        .expect("assessment");
    assert_eq!(
        (stored.side, stored.distance_m),
        (PartySide::Outside, 60000.0)
    );
    let current: i64 = conn
        .query_row("SELECT count(*) FROM current_observations", [], |row| {
            row.get(0)
        })
        .expect("view");
    assert_eq!(current, 2);
    let err = conn
        .execute("DELETE FROM observations", [])
        .expect_err("immutable");
    assert!(
        err.to_string().contains("observations are immutable"),
        "{err}"
    );
    check_ingest(
        &mut store,
        &[
            rec("a", r#"{"v":3}"#),
            rec("b", r#"{"v":4}"#),
            rec("c", "{}"),
        ],
        "dup:2 rev:2 new:1",
    );
    assert_eq!(store.fingerprint().expect("fp").last_observation_id, 9);
}

#[test]
fn a_record_the_schema_no_longer_checks_is_refused_by_the_store() {
    let (_dir, _path, mut store) = temp_store();
    check_ingest(&mut store, &[rec("a", "{}")], "new:1");
    let before = store.fingerprint().expect("fp");
    let long_ref: &'static str = "r".repeat(257).leak();
    let wide_ref: &'static str = "é".repeat(256).leak(); // 512 bytes, 256 characters: fine
    let cases: [(Rec, &str); 5] = [
        (
            Rec {
                source: "",
                ..rec("b", "{}")
            },
            "its source is not 1 to 128 characters long",
        ),
        (
            rec("", "{}"),
            "its source_ref is not 1 to 256 characters long",
        ),
        (
            rec(long_ref, "{}"),
            "its source_ref is not 1 to 256 characters long",
        ),
        (
            Rec {
                position: Some(LonLat::new(180.5, 48.0)),
                ..rec("b", "{}")
            },
            "its longitude is outside [-180, 180]",
        ),
        (
            Rec {
                position: Some(LonLat::new(38.0, -90.5)),
                ..rec("b", "{}")
            },
            "its latitude is outside [-90, 90]",
        ),
    ];
    for (bad, expected) in cases {
        let err = ingest(&mut store, 300, &[rec("ok", "{}"), bad]).expect_err(expected);
        assert!(
            matches!(&err, StoreError::InvalidRecord { index: 1, reason, .. } if *reason == expected),
            "{expected}: {err:?}"
        );
        assert_eq!(store.fingerprint().expect("fp"), before, "{expected}");
    }

    // A distance that is not a number, through record_assessments (in a batch: see
    // `ingest_and_assess_are_one_transaction`).
    let id = store
        .current_revision("firms:viirs:n20", "a")
        .expect("lookup")
        .expect("a")
        .id;
    let row = NewAssessment {
        side: PartySide::Inside,
        distance_m: f64::NAN,
        zone_id: "security",
    };
    let err = store
        .record_assessments(&AGREEMENT, &[(id, row)])
        .expect_err("NaN distance");
    assert!(
        matches!(err, StoreError::InvalidAssessment { id: i, .. } if i == id.0),
        "{err:?}"
    );
    assert_eq!(store.fingerprint().expect("fp"), before);

    // 256 two-byte characters are within the limit.
    check_ingest(&mut store, &[rec(wide_ref, "{}")], "new:1");
}

// ---- idempotent batches --------------------------------------------------------------------

#[test]
fn re_ingesting_a_batch_is_all_duplicates_and_writes_nothing() {
    let (_dir, _path, mut store) = temp_store();
    let batch = [
        rec("a", r#"{"n":1}"#),
        rec("b", r#"{"n":2}"#),
        rec("c", r#"{"n":3}"#),
    ];
    let first = check_ingest(&mut store, &batch, "new:1 new:1 new:1");
    assert!(first.batch_id.is_some());
    let before = store.fingerprint().expect("fp");
    assert_eq!((before.batches, before.observations), (1, 3));

    let second = check_ingest(&mut store, &batch, "dup:1 dup:1 dup:1");
    assert_eq!(second.batch_id, None);
    let ids = |r: &BatchReport| {
        r.records
            .iter()
            .map(|o| o.observation_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&second),
        ids(&first),
        "duplicates point at the stored rows"
    );
    assert_eq!(store.fingerprint().expect("fp"), before);
    assert_eq!(store.batches().expect("batches").len(), 1);
}

#[test]
fn changed_content_is_a_new_revision_and_the_old_one_is_kept() {
    let (_dir, _path, mut store) = temp_store();
    check_ingest(
        &mut store,
        &[rec("a", r#"{"v":1}"#), rec("b", r#"{"v":1}"#)],
        "new:1 new:1",
    );
    let report = check_ingest(
        &mut store,
        &[rec("a", r#"{"v":2}"#), rec("b", r#"{"v":1}"#)],
        "rev:2 dup:1",
    );
    // Back to the first content: compared with the current revision only, so revision 3.
    check_ingest(&mut store, &[rec("a", r#"{"v":1}"#)], "rev:3");

    let history = store.revisions("firms:viirs:n20", "a").expect("revisions");
    let bodies: Vec<(i64, &str)> = history
        .iter()
        .map(|o| (o.revision, o.canonical_json.as_str()))
        .collect();
    assert_eq!(
        bodies,
        [(1, r#"{"v":1}"#), (2, r#"{"v":2}"#), (3, r#"{"v":1}"#)]
    );
    assert_eq!(history[1].id, report.records[0].observation_id);
    assert_eq!(history[1].content_sha256, sha256(r#"{"v":2}"#));

    let current = store
        .current_revision("firms:viirs:n20", "a")
        .expect("lookup")
        .expect("some");
    assert_eq!(current.revision, 3);
    assert_eq!(current.kind, Kind::ThermalAnomaly);
    assert_eq!(current.position, Some(LonLat::new(38.9, 48.5)));
    assert_eq!(current.observed_at, at(0));
    assert_eq!(current.ingested_at, at(100));
    assert_eq!(
        store
            .current_revision("firms:viirs:n20", "zzz")
            .expect("lookup"),
        None
    );

    let counts = store.observation_counts().expect("counts");
    assert_eq!((counts.revisions, counts.current), (4, 2));
    let batches = store.batches().expect("batches");
    let summary: Vec<_> = batches
        .iter()
        .map(|b| {
            (
                b.record_count,
                b.new_count,
                b.revised_count,
                b.duplicate_count,
            )
        })
        .collect();
    assert_eq!(summary, [(2, 2, 0, 0), (2, 0, 1, 1), (1, 0, 1, 0)]);
}

#[test]
fn the_same_key_twice_in_one_batch_follows_the_same_rules_in_order() {
    let (_dir, _path, mut store) = temp_store();
    let report = check_ingest(
        &mut store,
        &[
            rec("a", r#"{"v":1}"#),
            rec("a", r#"{"v":1}"#),
            rec("a", r#"{"v":2}"#),
            rec("a", r#"{"v":2}"#),
        ],
        "new:1 dup:1 rev:2 dup:2",
    );
    assert_eq!(
        report.records[0].observation_id,
        report.records[1].observation_id
    );
    assert_eq!(
        report.records[2].observation_id,
        report.records[3].observation_id
    );
    assert_eq!(store.observation_counts().expect("counts").revisions, 2);
}

#[test]
fn a_batch_failing_mid_way_leaves_the_store_unchanged() {
    let (_dir, _path, mut store) = temp_store();
    check_ingest(&mut store, &[rec("a", r#"{"v":1}"#)], "new:1");
    let before = store.fingerprint().expect("fp");

    let mut bad = rec("c", r#"{"v":1}"#);
    bad.position = Some(LonLat::new(38.9, 95.0));
    let batch = [
        rec("a", r#"{"v":2}"#),
        rec("b", r#"{"v":1}"#),
        bad,
        rec("d", r#"{"v":1}"#),
    ];
    let err = ingest(&mut store, 200, &batch).expect_err("latitude 95 is refused");
    assert!(
        matches!(
            &err,
            StoreError::InvalidRecord { index: 2, key, reason: "its latitude is outside [-90, 90]", .. }
                if key == "firms:viirs:n20 c"
        ),
        "{err:?}"
    );
    assert_eq!(store.fingerprint().expect("fp"), before);
    assert_eq!(
        store
            .current_revision("firms:viirs:n20", "b")
            .expect("lookup"),
        None
    );
    let a = store
        .current_revision("firms:viirs:n20", "a")
        .expect("lookup")
        .expect("a");
    assert_eq!(a.revision, 1);

    // A non-finite coordinate never reaches SQLite (which would store NaN as NULL).
    let mut nan = rec("e", r#"{"v":1}"#);
    nan.position = Some(LonLat::new(f64::NAN, f64::NAN));
    let err = ingest(&mut store, 200, &[rec("f", "{}"), nan]).expect_err("NaN is refused");
    assert!(
        matches!(err, StoreError::InvalidRecord { index: 1, .. }),
        "{err:?}"
    );
    assert_eq!(store.fingerprint().expect("fp"), before);

    // The store is still usable afterwards.
    check_ingest(&mut store, &batch[..2], "rev:2 new:1");
}

#[test]
fn an_unlocated_record_is_stored_without_a_position() {
    let (_dir, _path, mut store) = temp_store();
    let mut bearing_only = rec("a", r#"{"bearing":{}}"#);
    bearing_only.position = None;
    check_ingest(&mut store, &[bearing_only], "new:1");
    let stored = store
        .current_revision("firms:viirs:n20", "a")
        .expect("lookup")
        .expect("a");
    assert_eq!(stored.position, None);
}

// ---- concurrency ---------------------------------------------------------------------------

/// Holds a write transaction on its own connection for `hold`, then commits.
fn hold_write_lock(path: &Path, hold: Duration) -> std::thread::JoinHandle<()> {
    let (locked_tx, locked_rx) = mpsc::channel();
    let path = path.to_path_buf();
    let handle = std::thread::spawn(move || {
        let conn = raw(&path);
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        locked_tx.send(()).expect("signal");
        std::thread::sleep(hold);
        conn.execute_batch("COMMIT").expect("commit");
    });
    locked_rx.recv().expect("the holder took the lock");
    handle
}

#[test]
fn a_second_writer_waits_for_the_first() {
    let (_dir, path, _) = temp_store();
    let options = StoreOptions {
        busy_timeout: Duration::from_secs(5),
        ..StoreOptions::default()
    };
    let mut store = Store::open_with(&path, &options).expect("open");
    let holder = hold_write_lock(&path, Duration::from_millis(300));
    let started = Instant::now();
    let report = ingest(&mut store, 100, &[rec("a", "{}")]).expect("waits, then succeeds");
    let waited = started.elapsed();
    holder.join().expect("holder thread");
    assert_eq!(report.new, 1);
    assert!(
        waited >= Duration::from_millis(200),
        "waited only {waited:?}"
    );
}

#[test]
fn a_writer_gives_up_after_the_busy_timeout() {
    let (_dir, path, mut store) = temp_store();
    store
        .set_busy_timeout(Duration::from_millis(50))
        .expect("timeout");
    let holder = hold_write_lock(&path, Duration::from_millis(500));
    let err = ingest(&mut store, 100, &[rec("a", "{}")]).expect_err("gives up");
    holder.join().expect("holder thread");
    assert!(
        matches!(err, StoreError::Busy { waited, .. } if waited == Duration::from_millis(50)),
        "{err:?}"
    );
    assert_eq!(store.fingerprint().expect("fp").observations, 0);
}

// ---- assessments ---------------------------------------------------------------------------

const AGREEMENT: AgreementRef<'static> = AgreementRef {
    version: "sha256:0f0f",
    id: "minsk-2",
    text: Some("id = \"minsk-2\"\n"),
};

#[test]
fn assessments_are_recorded_with_their_agreement_version() {
    let (_dir, _path, mut store) = temp_store();
    let report = check_ingest(&mut store, &[rec("a", "{}"), rec("b", "{}")], "new:1 new:1");
    let (a, b) = (
        report.records[0].observation_id,
        report.records[1].observation_id,
    );
    let rows = [
        (
            a,
            NewAssessment {
                side: PartySide::Inside,
                distance_m: 1200.5,
                zone_id: "security",
            },
        ),
        (
            b,
            NewAssessment {
                side: PartySide::Outside,
                distance_m: 60000.0,
                zone_id: "outside",
            },
        ),
    ];
    assert_eq!(
        store.record_assessments(&AGREEMENT, &rows).expect("record"),
        2
    );

    let stored = store
        .assessment(a, AGREEMENT.version)
        .expect("read")
        .expect("some");
    assert_eq!(
        (stored.side, stored.distance_m, stored.zone_id.as_str()),
        (PartySide::Inside, 1200.5, "security")
    );
    assert_eq!(store.assessment(a, "sha256:other").expect("read"), None);
    let agreement = store
        .agreement(AGREEMENT.version)
        .expect("read")
        .expect("some");
    assert_eq!(
        (agreement.id.as_str(), agreement.text.as_deref()),
        ("minsk-2", AGREEMENT.text)
    );

    // Again: nothing new, nothing written.
    let before = store.fingerprint().expect("fp");
    assert_eq!(
        store.record_assessments(&AGREEMENT, &rows).expect("record"),
        0
    );
    assert_eq!(store.fingerprint().expect("fp"), before);

    // An unknown observation fails the whole call.
    let unknown = [rows[0], (ObservationId(999), rows[1].1)];
    let other = AgreementRef {
        version: "sha256:1111",
        ..AGREEMENT
    };
    let err = store
        .record_assessments(&other, &unknown)
        .expect_err("unknown id");
    assert!(
        matches!(err, StoreError::UnknownObservation { id: 999, .. }),
        "{err:?}"
    );
    assert_eq!(store.fingerprint().expect("fp"), before);

    // An agreement first stored without its text gets it later; nothing else changes.
    let textless = AgreementRef {
        version: "sha256:3333",
        text: None,
        ..AGREEMENT
    };
    assert_eq!(store.record_assessments(&textless, &[]).expect("record"), 0);
    let stored = store
        .agreement(textless.version)
        .expect("read")
        .expect("some");
    assert_eq!(stored.text, None);
    let with_text = AgreementRef {
        text: Some("later"),
        ..textless
    };
    store.record_assessments(&with_text, &[]).expect("record");
    store.record_assessments(&textless, &[]).expect("record");
    let stored = store
        .agreement(textless.version)
        .expect("read")
        .expect("some");
    assert_eq!(stored.text.as_deref(), Some("later"));

    // The same version under another id is a caller bug.
    let clash = AgreementRef {
        id: "other",
        ..AGREEMENT
    };
    let err = store
        .record_assessments(&clash, &rows)
        .expect_err("mismatch");
    assert!(
        matches!(err, StoreError::AgreementMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn ingest_and_assess_are_one_transaction() {
    let (_dir, _path, mut store) = temp_store();
    let recs = [rec("a", r#"{"v":1}"#), rec("b", r#"{"v":1}"#)];
    let hashes: Vec<[u8; 32]> = recs.iter().map(|r| sha256(&r.body)).collect();
    let zone = String::from("security");
    let assessed = |distance_m| NewAssessment {
        side: PartySide::Inside,
        distance_m,
        zone_id: &zone,
    };
    let mut records: Vec<NewRecord<'_>> = recs
        .iter()
        .zip(&hashes)
        .map(|(r, h)| new_record(r, h))
        .collect();
    records[0].assessment = Some(assessed(10.0));
    records[1].assessment = Some(assessed(-1.0)); // refused by the store: distance < 0
    let batch = NewBatch {
        label: "x",
        received_at: at(1),
        records: &records,
        agreement: Some(AGREEMENT),
    };
    let err = store.ingest_batch(&batch).expect_err("negative distance");
    assert!(
        matches!(err, StoreError::InvalidRecord { index: 1, .. }),
        "{err:?}"
    );
    assert_eq!(store.fingerprint().expect("fp").observations, 0);

    records[1].assessment = Some(assessed(20.0));
    let batch = NewBatch {
        label: "x",
        received_at: at(1),
        records: &records,
        agreement: Some(AGREEMENT),
    };
    let report = store.ingest_batch(&batch).expect("ingest");
    assert_eq!((report.new, report.assessments_written), (2, 2));
    let b = store
        .assessment(report.records[1].observation_id, AGREEMENT.version)
        .expect("read");
    assert_eq!(b.map(|a| a.distance_m), Some(20.0));

    // The same batch again, same agreement: nothing written, no batch row.
    let before = store.fingerprint().expect("fp");
    let again = store.ingest_batch(&batch).expect("ingest");
    assert_eq!(
        (again.batch_id, again.duplicate, again.assessments_written),
        (None, 2, 0)
    );
    assert_eq!(store.fingerprint().expect("fp"), before);

    // Under a new agreement version the duplicates get new assessments.
    let v2 = AgreementRef {
        version: "sha256:2222",
        ..AGREEMENT
    };
    let report = store
        .ingest_batch(&NewBatch {
            agreement: Some(v2),
            ..batch
        })
        .expect("ingest");
    assert_eq!((report.duplicate, report.assessments_written), (2, 2));

    // An assessment without an agreement is refused up front.
    let err = store
        .ingest_batch(&NewBatch {
            agreement: None,
            ..batch
        })
        .expect_err("no agreement");
    assert!(
        matches!(err, StoreError::AssessmentWithoutAgreement { index: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn observations_cannot_be_updated_or_deleted() {
    let (_dir, path, mut store) = temp_store();
    check_ingest(&mut store, &[rec("a", "{}")], "new:1");
    let conn = raw(&path);
    for sql in [
        "UPDATE observations SET body = '[]'",
        "DELETE FROM observations",
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(
            err.to_string().contains("observations are immutable"),
            "{sql}: {err}"
        );
    }
}

// ---- fusions -------------------------------------------------------------------------------

/// Four reports, fused: an explosion seen by a UAV and a satellite and heard of by a patrol
/// (one incident), a heat spot far away (another), and a tank sighting (a third, counted as
/// equipment); stored as observations, so that the fusion can be stored against their ids.
fn fused_scene(store: &mut Store) -> (Vec<Observation>, Fusion, Vec<ObservationId>) {
    let located = |source: &str, source_ref: &str, kind, seconds, lon, lat, u_m| {
        let mut o = Observation::new(
            ObservationKey {
                source: source.to_owned(),
                source_ref: source_ref.to_owned(),
            },
            kind,
            at(seconds),
        );
        o.location = Some(Location {
            position: LonLat::new(lon, lat),
            uncertainty_m: u_m,
        });
        o
    };
    let mut tank = located("uav-2", "t1", Kind::EquipmentSighting, 0, 37.2, 47.9, 50.0);
    tank.equipment = Some(Equipment {
        class: EquipmentClass::Tank,
        count: 3,
    });
    let observations = vec![
        located("uav-1", "e1", Kind::Explosion, 0, 38.0, 48.0, 50.0),
        located(
            "firms:viirs:n20",
            "h1",
            Kind::ThermalAnomaly,
            600,
            38.001,
            48.0,
            375.0,
        ),
        located("patrol-7", "p1", Kind::Explosion, 900, 38.01, 48.01, 5000.0),
        located(
            "firms:viirs:n20",
            "h2",
            Kind::ThermalAnomaly,
            0,
            36.0,
            46.0,
            375.0,
        ),
        tank,
    ];
    let info = |reliability, discipline| SourceInfo {
        reliability,
        discipline,
    };
    let sources = SourceRegistry {
        entries: vec![
            ("uav-*".into(), info(Reliability::A, Discipline::Uav)),
            (
                "firms:*".into(),
                info(Reliability::B, Discipline::Satellite),
            ),
            ("patrol-*".into(), info(Reliability::C, Discipline::Patrol)),
        ],
    };
    let fusion = fuse(&observations, &sources);
    let recs: Vec<Rec> = observations
        .iter()
        .map(|o| Rec {
            source: o.key.source.clone().leak(),
            source_ref: o.key.source_ref.clone().leak(),
            body: format!("{{\"ref\":\"{}\"}}", o.key.source_ref),
            position: o.position(),
        })
        .collect();
    let report = ingest(store, 10, &recs).expect("ingest");
    let ids = report.records.iter().map(|r| r.observation_id).collect();
    (observations, fusion, ids)
}

fn new_fusion(sources_csv: Option<&str>) -> NewFusion<'_> {
    NewFusion {
        made_at: at(3600),
        label: "current observations",
        sources_csv,
        agreement: None,
    }
}

/// The detail the tests store: the incident's id and reasons.
fn detail(incident: &FusedIncident) -> String {
    format!(
        "{{\"id\":\"{}\",\"reasons\":{:?}}}",
        incident.id,
        incident.reasons()
    )
}

#[test]
fn a_fusion_is_stored_with_every_observation_in_one_incident() {
    let (_dir, _path, mut store) = temp_store();
    let (observations, fusion, ids) = fused_scene(&mut store);
    assert_eq!(fusion.incidents.len(), 3, "{:#?}", fusion.incidents);
    assert_eq!(fusion.equipment.len(), 1);
    let report = store
        .record_fusion(
            &new_fusion(Some("source,reliability\n")),
            &fusion,
            &ids,
            detail,
        )
        .expect("record");
    assert_eq!(
        (
            report.duplicate,
            report.incidents,
            report.observations,
            report.equipment
        ),
        (false, 3, 5, 1)
    );
    let stored = store.fusions().expect("fusions");
    assert_eq!(stored.len(), 1);
    let f = &stored[0];
    assert_eq!(f.id, report.fusion_id);
    assert_eq!(
        (f.made_at, f.label.as_str(), f.sources_csv.as_deref()),
        (
            at(3600),
            "current observations",
            Some("source,reliability\n")
        )
    );
    assert_eq!(
        (f.observation_count, f.incident_count, f.equipment_count),
        (5, 3, 1)
    );
    assert_eq!(store.fingerprint().expect("fp").fusions, 1);

    for (number, incident) in (1..).zip(&fusion.incidents) {
        let read = store.incident(f.id, number).expect("read").expect("stored");
        let members: Vec<ObservationId> = incident.members.iter().map(|&m| ids[m]).collect();
        assert_eq!(read.id, incident.id.as_str());
        assert_eq!(read.status, incident.status);
        assert_eq!(read.confidence, incident.confidence);
        assert_eq!(read.first_at.timestamp(), incident.first_at.timestamp());
        assert_eq!(read.last_at.timestamp(), incident.last_at.timestamp());
        assert_eq!(read.location, incident.location);
        assert_eq!(read.kinds, incident.kinds);
        assert_eq!(read.members, members);
        assert_eq!(read.detail_json, detail(incident));
        for m in &members {
            let of = store
                .incident_of(f.id, *m)
                .expect("read")
                .expect("a member");
            assert_eq!(of.number, number);
        }
    }
    assert_eq!(store.incident(f.id, 4).expect("read"), None);
    assert_eq!(
        store.incident_of(f.id, ObservationId(999)).expect("read"),
        None
    );
    let equipment = store.fusion_equipment(f.id).expect("equipment");
    let estimate = &fusion.equipment[0];
    assert_eq!(equipment.len(), 1);
    assert_eq!(
        (
            equipment[0].zone.as_str(),
            equipment[0].class,
            equipment[0].lower,
            equipment[0].upper
        ),
        (
            estimate.zone.as_str(),
            EquipmentClass::Tank,
            i64::from(estimate.lower),
            i64::from(estimate.upper)
        )
    );
    assert_eq!(equipment[0].evidence, vec![ids[4]]);
    assert_eq!(observations[4].kind, Kind::EquipmentSighting);
}

#[test]
fn the_same_fusion_again_is_a_duplicate_and_writes_nothing() {
    let (_dir, _path, mut store) = temp_store();
    let (_, fusion, ids) = fused_scene(&mut store);
    let first = store
        .record_fusion(&new_fusion(None), &fusion, &ids, detail)
        .expect("first");
    let before = store.fingerprint().expect("fp");
    let again = store
        .record_fusion(&new_fusion(None), &fusion, &ids, detail)
        .expect("again");
    assert_eq!((again.fusion_id, again.duplicate), (first.fusion_id, true));
    assert_eq!(store.fingerprint().expect("fp"), before);
    // Graded with another registry, it is another fusion.
    let other = store
        .record_fusion(&new_fusion(Some("source\n")), &fusion, &ids, detail)
        .expect("other");
    assert_eq!(
        (other.fusion_id.0, other.duplicate),
        (first.fusion_id.0 + 1, false)
    );
    assert_eq!(store.fusions().expect("fusions").len(), 2);
}

#[test]
fn an_inconsistent_fusion_is_refused_and_writes_nothing() {
    let (_dir, _path, mut store) = temp_store();
    let (_, fusion, ids) = fused_scene(&mut store);
    let before = store.fingerprint().expect("fp");
    let incident = |id, members, confidence| NewIncident {
        id,
        status: IncidentStatus::Reported,
        confidence,
        first_at: at(0),
        last_at: at(60),
        location: Some((LonLat::new(38.0, 48.0), 100.0)),
        kinds: KindSet::of(Kind::Explosion),
        members,
        detail_json: "{}",
    };
    let refused = |store: &mut Store, incidents: &[NewIncident<'_>]| {
        let mut writer = store.begin_fusion(&new_fusion(None)).expect("begin");
        for i in incidents {
            if let Err(e) = writer.add_incident(i) {
                return e.to_string();
            }
        }
        writer.commit().expect_err("refused").to_string()
    };
    let twice = [ids[0], ids[1]];
    let descending = [ids[1], ids[0]];
    let backwards = NewIncident {
        last_at: at(-60),
        ..incident("I1", &twice, 0.5)
    };
    let nowhere = NewIncident {
        location: Some((LonLat::new(f64::NAN, 48.0), 100.0)),
        ..incident("I1", &twice, 0.5)
    };
    let cases: [(&[NewIncident<'_>], &str); 7] = [
        (
            &[
                incident("I1", &twice, 0.5),
                incident("I2", &twice[1..], 0.5),
            ],
            &format!("observation {} is a member of incidents 1 and 2", ids[1].0),
        ),
        (
            &[incident("I1", &[ObservationId(999)], 0.5)],
            "incident 1 has a member 999 that is not a stored observation",
        ),
        (
            &[incident("I1", &descending, 0.5)],
            "incident I1 (1) has members that are not ascending",
        ),
        (
            &[incident("I1", &[], 0.5)],
            "incident I1 (1) has no members",
        ),
        (
            &[incident("I1", &twice, 1.5)],
            "incident I1 (1) has a confidence outside 0..=1",
        ),
        (&[backwards], "incident I1 (1) ends before it begins"),
        (
            &[nowhere],
            "incident I1 (1) has a location or uncertainty that is not finite",
        ),
    ];
    for (incidents, expected) in cases {
        let message = refused(&mut store, incidents);
        assert!(
            message.ends_with(&format!("nothing of it was written: {expected}")),
            "{message}"
        );
        assert_eq!(store.fingerprint().expect("fp"), before);
    }
    // Equipment must rest on the fusion's members.
    let mut writer = store.begin_fusion(&new_fusion(None)).expect("begin");
    writer
        .add_incident(&incident("I1", &twice[..1], 0.5))
        .expect("incident");
    writer
        .add_equipment(&NewEquipment {
            zone: "outside",
            party: "RU",
            class: EquipmentClass::Tank,
            lower: 1,
            upper: 2,
            evidence: &twice[1..],
        })
        .expect("estimate");
    let message = writer.commit().expect_err("refused").to_string();
    assert!(
        message.ends_with(&format!(
            "equipment evidence {} is not a member of any incident",
            ids[1].0
        )),
        "{message}"
    );
    assert_eq!(store.fingerprint().expect("fp"), before);
    let short = store
        .record_fusion(&new_fusion(None), &fusion, &ids[..2], detail)
        .expect_err("ids missing");
    assert!(
        short.to_string().contains("of the fusion has no stored id"),
        "{short}"
    );
    assert_eq!(store.fingerprint().expect("fp"), before);
    assert!(store.fusions().expect("fusions").is_empty());
}

#[test]
fn stored_fusions_cannot_be_updated_or_deleted() {
    let (_dir, path, mut store) = temp_store();
    let (_, fusion, ids) = fused_scene(&mut store);
    store
        .record_fusion(&new_fusion(None), &fusion, &ids, detail)
        .expect("record");
    let conn = raw(&path);
    for table in [
        "fusions",
        "incidents",
        "incident_members",
        "fusion_equipment",
    ] {
        for sql in [
            format!("UPDATE {table} SET fusion_id = 7"),
            format!("DELETE FROM {table}"),
        ] {
            let sql = sql.replace("UPDATE fusions SET fusion_id", "UPDATE fusions SET id");
            let err = conn.execute(&sql, []).expect_err(&sql);
            assert!(
                err.to_string()
                    .contains("a stored fusion is kept as it was made"),
                "{sql}: {err}"
            );
        }
    }
}

#[test]
fn each_incident_is_stored_with_its_own_detail_however_many_there_are() {
    // More incidents than the writer makes details for at a time (4096), so that chunks
    // meet: 5,000 heat spots 0.1° apart, each an incident of its own.
    let (_dir, _path, mut store) = temp_store();
    let observations: Vec<Observation> = (0..5000_i32)
        .map(|k| {
            let mut o = Observation::new(
                ObservationKey {
                    source: "firms:viirs:n20".into(),
                    source_ref: format!("h{k}"),
                },
                Kind::ThermalAnomaly,
                at(i64::from(k)),
            );
            o.location = Some(Location {
                position: LonLat::new(
                    30.0 + f64::from(k % 100) * 0.1,
                    45.0 + f64::from(k / 100) * 0.1,
                ),
                uncertainty_m: 375.0,
            });
            o
        })
        .collect();
    let fusion = fuse(&observations, &SourceRegistry::default());
    assert_eq!(fusion.incidents.len(), 5000);
    let recs: Vec<Rec> = observations
        .iter()
        .map(|o| Rec {
            source: "firms:viirs:n20",
            source_ref: o.key.source_ref.clone().leak(),
            body: o.key.source_ref.clone(),
            position: o.position(),
        })
        .collect();
    let report = ingest(&mut store, 10, &recs).expect("ingest");
    let ids: Vec<ObservationId> = report.records.iter().map(|r| r.observation_id).collect();
    let stored = store
        .record_fusion(&new_fusion(None), &fusion, &ids, detail)
        .expect("record");
    for (number, incident) in (1..).zip(&fusion.incidents) {
        let read = store
            .incident(stored.fusion_id, number)
            .expect("read")
            .expect("stored");
        assert_eq!(read.detail_json, detail(incident), "incident {number}");
        let members: Vec<ObservationId> = incident.members.iter().map(|&m| ids[m]).collect();
        assert_eq!(read.members, members, "incident {number}");
    }
}
