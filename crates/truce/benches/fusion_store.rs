//! Benchmark: the fusion bench's scene (`truce-core/benches/scene`) fused and stored, the
//! storing timed apart from the fusion:
//! `cargo bench -p truce --bench fusion_store [-- DB_DIR]` (`FUSION_BENCH_N` observations,
//! default 10⁷; `FUSION_STORE_ROUNDS` rounds, default 3; the stores are made in a new
//! temporary folder under `DB_DIR`, default the system's, and removed after: at 10⁷ and three
//! rounds they take some 17 GB there, and the process peaks near 10 GB of memory).
//!
//! Three steps, each timed: the observations stored as `truce ingest` stores them (canonical
//! JSON, SHA-256, batches of 100,000, one transaction each); the fusion, in memory; the
//! fusion stored as `truce incidents --save` stores it ([`Store::record_fusion`]: every
//! incident with its detail, the incident of every observation, the equipment estimates, in
//! one transaction), against its ceiling: the same incident and member rows, their details
//! made beforehand, inserted into the same schema of another new store with prepared
//! statements in one transaction, with no checks, no hash and nothing else. The two are run
//! in turn, a few rounds, each round's fusion stored as a new one. Not a test: it prints the
//! times and their medians.

use std::time::Instant;

use chrono::Utc;
use rayon::prelude::*;
use truce_core::fusion::{Fusion, fuse};
use truce_formats::incidents::incident_detail_text;
use truce_formats::ndjson::{content_sha256, wire_canonical_json};
use truce_store::{NewBatch, NewFusion, NewRecord, ObservationId, Store};

#[path = "../../truce-core/benches/scene/mod.rs"]
mod scene;

const BATCH: usize = 100_000;

fn main() {
    // The allocator set up as `truce` sets it up.
    truce_alloc::keep_freed_memory();
    let n = scene::count();
    let rounds: usize = std::env::var("FUSION_STORE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let db_dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(&db_dir).expect("a temporary folder for the store");
    let path = dir.path().join("truce.db");

    let observations = scene::scene(n);
    let started = Instant::now();
    let mut store = Store::open(&path).expect("a new store");
    let mut ids = Vec::with_capacity(n);
    for chunk in observations.chunks(BATCH) {
        let bodies: Vec<(String, [u8; 32])> = chunk
            .par_iter()
            .map(|o| {
                let body = wire_canonical_json(o).expect("an observation serialises");
                let hash = content_sha256(&body);
                (body, hash)
            })
            .collect();
        let records: Vec<NewRecord<'_>> = chunk
            .iter()
            .zip(&bodies)
            .map(|(o, (body, hash))| NewRecord::from_observation(o, body, *hash))
            .collect();
        let report = store
            .ingest_batch(&NewBatch {
                label: "scene",
                received_at: Utc::now(),
                records: &records,
                agreement: None,
            })
            .expect("the scene stored");
        ids.extend(report.records.iter().map(|r| r.observation_id));
    }
    println!(
        "stored {} observations in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let fusion = fuse(&observations, &scene::sources());
    println!(
        "fused them into {} incidents in {:.2} s",
        fusion.incidents.len(),
        started.elapsed().as_secs_f64()
    );

    // Rounds of both, in turn: the first large write of a process is slower than the next
    // (the page cache, fresh memory), whichever writer makes it.
    let (mut recorded, mut plain) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let plain_path = dir.path().join("plain.db");
        let seconds = plain_insert(&plain_path, &fusion, &ids);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", plain_path.display()));
        }
        println!(
            "round {round}: plain insert of the same incident and member rows: {seconds:.2} s"
        );
        plain.push(seconds);

        // Each round's fusion is another one for the store: its sources text names the round
        // (an identical fusion would be found stored and written no more).
        let sources_csv = format!("# fusion_store bench, round {round}\n");
        let started = Instant::now();
        let report = store
            .record_fusion(
                &NewFusion {
                    made_at: Utc::now(),
                    label: "current observations",
                    sources_csv: Some(&sources_csv),
                    agreement: None,
                },
                &fusion,
                &ids,
                incident_detail_text,
            )
            .expect("the fusion stored");
        let seconds = started.elapsed().as_secs_f64();
        assert!(!report.duplicate);
        println!(
            "round {round}: stored the fusion (fusion {}: {} incidents, {} memberships, {} \
             equipment estimates) in {seconds:.2} s ({:.0} incidents/s)",
            report.fusion_id.0,
            report.incidents,
            report.observations,
            report.equipment,
            report.incidents as f64 / seconds,
        );
        recorded.push(seconds);
    }
    let bytes = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    println!(
        "store {:.0} MB + WAL {:.0} MB",
        bytes(&path) as f64 / 1e6,
        bytes(&path.with_extension("db-wal")) as f64 / 1e6,
    );
    let (recorded, plain) = (median(&mut recorded), median(&mut plain));
    println!(
        "medians: record_fusion {recorded:.2} s, plain insert {plain:.2} s \
         (record_fusion {:.2}x that)",
        recorded / plain
    );
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// The incident and member rows of `fusion` inserted into a new store with prepared
/// statements in one transaction (details made before the clock starts); seconds taken.
fn plain_insert(path: &std::path::Path, fusion: &Fusion, ids: &[ObservationId]) -> f64 {
    drop(Store::open(path).expect("a second new store"));
    let details: Vec<String> = fusion
        .incidents
        .par_iter()
        .map(incident_detail_text)
        .collect();
    let mut conn = rusqlite::Connection::open(path).expect("open");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    conn.pragma_update(None, "cache_size", -64 * 1024)
        .expect("cache");
    let started = Instant::now();
    let tx = conn.transaction().expect("begin");
    {
        let mut incident = tx
            .prepare(
                "INSERT INTO incidents (fusion_id, number, id, status, confidence, first_at_s, \
                 last_at_s, lon, lat, uncertainty_m, kinds, member_ids, detail) \
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .expect("prepare");
        let mut member = tx
            .prepare(
                "INSERT INTO incident_members (fusion_id, observation_id, incident_number) \
                 VALUES (1, ?1, ?2)",
            )
            .expect("prepare");
        let mut members = Vec::with_capacity(ids.len());
        let (mut kinds, mut member_ids) = (String::new(), String::new());
        for ((number, i), detail) in (1_i64..).zip(&fusion.incidents).zip(&details) {
            kinds.clear();
            member_ids.clear();
            for kind in i.kinds.iter() {
                kinds.push_str(kind.as_str());
                kinds.push(',');
            }
            member_ids.push('[');
            for &m in &i.members {
                member_ids.push_str(&ids[m].0.to_string());
                member_ids.push(',');
                members.push((ids[m].0, number));
            }
            member_ids.push(']');
            let location = i.location.map(|(p, u)| (p.lon_deg, p.lat_deg, u));
            incident
                .execute(rusqlite::params![
                    number,
                    i.id.as_str(),
                    i.status.as_str(),
                    i.confidence,
                    i.first_at.timestamp(),
                    i.last_at.timestamp(),
                    location.map(|l| l.0),
                    location.map(|l| l.1),
                    location.map(|l| l.2),
                    kinds,
                    member_ids,
                    detail,
                ])
                .expect("insert an incident");
        }
        members.sort_unstable();
        for (observation, number) in members {
            member
                .execute((observation, number))
                .expect("insert a member");
        }
    }
    tx.commit().expect("commit");
    started.elapsed().as_secs_f64()
}
