//! The ingest path stage by stage, on one FIRMS file:
//! `cargo bench -p truce --bench ingest -- FILE.csv [DB_DIR]`.
//!
//! Prints rows/s for: parsing alone (one thread, as `truce ingest` parses: rows for the store,
//! canonical JSON and SHA-256), assessing alone (one thread), the store's `ingest_batch` of
//! the parsed rows with their assessments, and a plain bulk insert of the same rows and
//! assessments into the same schema (one transaction, prepared statements, no idempotency
//! logic) — the ceiling the store is measured against. The end-to-end `truce ingest` is timed
//! by `bench/run.sh`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use truce_core::{Assessor, PartySide};
use truce_store::{AgreementRef, NewAssessment, NewBatch, NewRecord, Store};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(file) = args.first() else {
        eprintln!("usage: cargo bench -p truce --bench ingest -- FILE.csv [DB_DIR]");
        std::process::exit(2);
    };
    let db_dir = args.get(1).map_or_else(std::env::temp_dir, PathBuf::from);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenario-2025-09");
    let bytes = std::fs::read(root.join("agreement.toml")).expect("sample agreement");
    let agreement = truce_formats::agreement::parse_agreement("agreement.toml", &bytes, |name| {
        std::fs::read(root.join(name)).map_err(|e| e.to_string())
    })
    .expect("valid sample agreement");
    let assessor = Assessor::new(&agreement);

    let bytes = std::fs::read(file).expect("the FIRMS file");
    let started = Instant::now();
    let batch = truce_formats::firms::parse_for_store(file, &bytes);
    let parse_s = started.elapsed().as_secs_f64();
    assert!(
        batch.diagnostics.is_empty(),
        "{:?}",
        batch.diagnostics.first()
    );
    let n = batch.rows.len();

    let started = Instant::now();
    let assessments: Vec<_> = batch
        .rows
        .iter()
        .map(|row| row.position.map(|pos| assessor.assess(pos)))
        .collect();
    let assess_s = started.elapsed().as_secs_f64();

    let records: Vec<NewRecord<'_>> = batch
        .rows
        .iter()
        .zip(&assessments)
        .map(|(row, a)| NewRecord {
            source: &row.key.source,
            source_ref: &row.key.source_ref,
            content_sha256: row.content_sha256,
            canonical_json: &row.canonical_json,
            kind: row.kind,
            observed_at: row.observed_at,
            position: row.position,
            assessment: a
                .as_ref()
                .map(|a| NewAssessment::new(a, a.zone.id(&agreement))),
        })
        .collect();
    let agreement_ref = AgreementRef {
        version: &agreement.version,
        id: &agreement.id,
        text: None,
    };

    let fresh = |name: &str| {
        let path = db_dir.join(format!("truce-bench-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        path
    };

    // The store: idempotency index lookups, revisions, outcomes, assessments.
    let store_path = fresh("store");
    let mut store = Store::open(&store_path).expect("store");
    let started = Instant::now();
    let report = store
        .ingest_batch(&NewBatch {
            label: file,
            received_at: Utc::now(),
            records: &records,
            agreement: Some(agreement_ref),
        })
        .expect("ingest");
    let store_s = started.elapsed().as_secs_f64();
    assert_eq!(report.new, n);
    drop(store);

    // The plain bulk insert: the same schema (created by the store), the same rows.
    let plain_path = fresh("plain");
    drop(Store::open(&plain_path).expect("schema"));
    let mut conn = rusqlite::Connection::open(&plain_path).expect("open");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("pragma");
    conn.pragma_update(None, "cache_size", -65536)
        .expect("pragma");
    let started = Instant::now();
    let tx = conn.transaction().expect("transaction");
    tx.execute("INSERT INTO batches (label, received_at_s, record_count, new_count, revised_count, duplicate_count) VALUES (?1, 0, 0, 0, 0, 0)", [file])
        .expect("batch");
    let batch_id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO agreements (version, agreement_id) VALUES (?1, ?2)",
        (&agreement.version, &agreement.id),
    )
    .expect("agreement");
    let agreement_row = tx.last_insert_rowid();
    {
        let mut insert = tx
            .prepare("INSERT INTO observations (source, source_ref, revision, content_sha256, body, kind, observed_at_s, lon, lat, batch_id) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
            .expect("prepare");
        let mut assess = tx
            .prepare("INSERT INTO assessments (agreement_row, observation_id, side, distance_m, zone) VALUES (?1, ?2, ?3, ?4, ?5)")
            .expect("prepare");
        for r in &records {
            insert
                .execute((
                    r.source,
                    r.source_ref,
                    &r.content_sha256[..],
                    r.canonical_json,
                    r.kind.as_str(),
                    r.observed_at.timestamp(),
                    r.position.map(|p| p.lon_deg),
                    r.position.map(|p| p.lat_deg),
                    batch_id,
                ))
                .expect("insert");
            if let Some(a) = &r.assessment {
                let side = if a.side == PartySide::Inside {
                    "inside"
                } else {
                    "outside"
                };
                assess
                    .execute((
                        agreement_row,
                        tx.last_insert_rowid(),
                        side,
                        a.distance_m,
                        a.zone_id,
                    ))
                    .expect("insert");
            }
        }
    }
    tx.commit().expect("commit");
    let plain_s = started.elapsed().as_secs_f64();

    let rate = |s: f64| n as f64 / s;
    println!("rows: {n} from {file}");
    println!(
        "parse only (1 thread):   {:>10.0} rows/s ({parse_s:.2} s)",
        rate(parse_s)
    );
    println!(
        "assess only (1 thread):  {:>10.0} rows/s ({assess_s:.2} s)",
        rate(assess_s)
    );
    println!(
        "store ingest_batch:      {:>10.0} rows/s ({store_s:.2} s)",
        rate(store_s)
    );
    println!(
        "plain bulk insert:       {:>10.0} rows/s ({plain_s:.2} s)",
        rate(plain_s)
    );
    println!("store / plain time:      {:>10.2}", store_s / plain_s);
    for path in [store_path, plain_path] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
