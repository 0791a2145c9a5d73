//! Bulk-ingest benchmark: synthetic FIRMS records through `ingest_batch` against a plain
//! INSERT loop into the same schema, both committed with the store's settings.
//!
//! `cargo run --release -p truce-store --example bulk -- [RECORDS] [BATCH_SIZE]`
//! (default 1,000,000 records in one batch).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use truce_core::{Kind, PartySide};
use truce_geo::LonLat;
use truce_store::{AgreementRef, NewAssessment, NewBatch, NewRecord, Store, StoreError};

/// One synthetic FIRMS VIIRS detection, as the formats crate would hand it to the store.
struct Synthetic {
    source: &'static str,
    source_ref: String,
    body: String,
    hash: [u8; 32],
    observed_at: DateTime<Utc>,
    position: LonLat,
}

fn synthesize(count: usize) -> Vec<Synthetic> {
    const SATELLITES: [&str; 3] = ["firms:viirs:n20", "firms:viirs:n21", "firms:viirs:snpp"];
    let start = 1_757_000_000_i64;
    (0..count)
        .map(|i| {
            let step = i64::try_from(i).unwrap_or(i64::MAX);
            // Deterministic scatter over eastern Ukraine; time advances like a real file.
            let lon = 36.0 + (step * 7919 % 40_000) as f64 / 10_000.0;
            let lat = 47.0 + (step * 104_729 % 30_000) as f64 / 10_000.0;
            let seconds = start + step / 4;
            let observed_at = DateTime::from_timestamp(seconds, 0).unwrap_or_default();
            let date = observed_at.format("%Y-%m-%d");
            let time = observed_at.format("%H:%M:%S");
            let source = SATELLITES[i % SATELLITES.len()];
            let source_ref = format!("{date}T{time}@{lat:.5},{lon:.5}");
            let body = format!(
                concat!(
                    r#"{{"attributes":{{"bright_ti4":"{ti4}","bright_ti5":"295.08","#,
                    r#""confidence":"n","daynight":"D","frp":"{frp}","scan":"0.39","#,
                    r#""track":"0.36","version":"2.0NRT"}},"kind":"thermal_anomaly","#,
                    r#""location":{{"lat":{lat:.5},"lon":{lon:.5},"uncertainty_m":265.3}},"#,
                    r#""observed_at":"{at}","source":"{source}","source_ref":"{source_ref}"}}"#,
                ),
                ti4 = 300 + i % 90,
                frp = (i % 5000) as f64 / 100.0,
                lat = lat,
                lon = lon,
                at = observed_at.to_rfc3339(),
                source = source,
                source_ref = source_ref,
            );
            let hash = Sha256::digest(body.as_bytes()).into();
            Synthetic {
                source,
                source_ref,
                body,
                hash,
                observed_at,
                position: LonLat::new(lon, lat),
            }
        })
        .collect()
}

const AGREEMENT: AgreementRef<'static> = AgreementRef {
    version: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    id: "bench",
    text: None,
};

fn records(rows: &[Synthetic], assessed: bool) -> Vec<NewRecord<'_>> {
    rows.iter()
        .enumerate()
        .map(|(i, s)| NewRecord {
            source: s.source,
            source_ref: &s.source_ref,
            content_sha256: s.hash,
            canonical_json: &s.body,
            kind: Kind::ThermalAnomaly,
            observed_at: s.observed_at,
            position: Some(s.position),
            assessment: assessed.then_some(NewAssessment {
                side: if i % 2 == 0 {
                    PartySide::Inside
                } else {
                    PartySide::Outside
                },
                distance_m: (i % 50_000) as f64,
                zone_id: "security",
            }),
        })
        .collect()
}

/// Ingests everything through the store, `batch_size` records per batch; returns the time
/// and the number of records reported on.
fn via_store(
    path: &Path,
    rows: &[Synthetic],
    batch_size: usize,
    assessed: bool,
) -> Result<(Duration, usize), StoreError> {
    let mut store = Store::open(path)?;
    let records = records(rows, assessed);
    let started = Instant::now();
    let mut seen = 0;
    for chunk in records.chunks(batch_size) {
        let report = store.ingest_batch(&NewBatch {
            label: "bench.csv",
            received_at: DateTime::from_timestamp(1_758_000_000, 0).unwrap_or_default(),
            records: chunk,
            agreement: assessed.then_some(AGREEMENT),
        })?;
        seen += report.records.len();
    }
    Ok((started.elapsed(), seen))
}

/// The baseline: the same schema (created by the store), the same connection settings, a
/// plain prepared INSERT per row and one transaction per batch; no idempotency logic.
fn plain_insert(
    path: &Path,
    rows: &[Synthetic],
    batch_size: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    drop(Store::open(path)?);
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -64 * 1024)?;
    let started = Instant::now();
    for chunk in rows.chunks(batch_size) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO batches (label, received_at_s, record_count, new_count, \
             revised_count, duplicate_count) VALUES ('bench.csv', 1758000000, ?1, ?1, 0, 0)",
            [i64::try_from(chunk.len()).unwrap_or(i64::MAX)],
        )?;
        let batch_id = tx.last_insert_rowid();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO observations (source, source_ref, revision, content_sha256, \
                 body, kind, observed_at_s, lon, lat, batch_id) \
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for s in chunk {
                insert.execute((
                    s.source,
                    &s.source_ref,
                    &s.hash[..],
                    &s.body,
                    Kind::ThermalAnomaly.as_str(),
                    s.observed_at.timestamp(),
                    s.position.lon_deg,
                    s.position.lat_deg,
                    batch_id,
                ))?;
            }
        }
        tx.commit()?;
    }
    Ok(started.elapsed())
}

fn rate(rows: usize, took: Duration) -> String {
    format!(
        "{:>9.0} rows/s ({:.2} s)",
        rows as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let batch_size: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(count)
        .max(1);
    let rows = synthesize(count);
    let mean_body = rows.iter().map(|s| s.body.len()).sum::<usize>() / rows.len().max(1);
    println!("{count} synthetic FIRMS records, {batch_size} per batch, mean body {mean_body} B");

    let dir = tempfile::tempdir()?;
    let mut best_plain = Duration::MAX;
    let mut best_store = Duration::MAX;
    for round in 1..=2 {
        let plain = plain_insert(
            &dir.path().join(format!("plain{round}.db")),
            &rows,
            batch_size,
        )?;
        println!(
            "round {round}: plain INSERT loop        {}",
            rate(count, plain)
        );
        let path = dir.path().join(format!("store{round}.db"));
        let (store, _) = via_store(&path, &rows, batch_size, false)?;
        println!(
            "round {round}: ingest_batch (new)       {}",
            rate(count, store)
        );
        best_plain = best_plain.min(plain);
        best_store = best_store.min(store);
        if round == 2 {
            let (again, seen) = via_store(&path, &rows, batch_size, false)?;
            assert_eq!(seen, count);
            println!(
                "round {round}: ingest_batch (all dup)   {}",
                rate(count, again)
            );
            let path = dir.path().join("assessed.db");
            let (assessed, _) = via_store(&path, &rows, batch_size, true)?;
            println!(
                "round {round}: ingest_batch + assess    {}",
                rate(count, assessed)
            );
        }
    }
    println!(
        "best: ingest_batch {} vs plain {}: {:.2}x the plain time",
        rate(count, best_store),
        rate(count, best_plain),
        best_store.as_secs_f64() / best_plain.as_secs_f64()
    );
    Ok(())
}
