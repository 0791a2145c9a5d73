//! Benchmark: the fusion bench's scene (`truce-core/benches/scene`) fused and stored, the
//! storing timed apart from the fusion:
//! `cargo bench -p truce --bench fusion_store [-- DB_DIR]` (`FUSION_BENCH_N` observations,
//! default 10⁷; the store is made in a new temporary folder under `DB_DIR`, default the
//! system's, and removed after).
//!
//! Three steps, each timed: the observations stored as `truce ingest` stores them (canonical
//! JSON, SHA-256, batches of 100,000, one transaction each); the fusion, in memory; the
//! fusion stored as `truce incidents --save` stores it ([`Store::record_fusion`]: every
//! incident with its detail, the incident of every observation, the equipment estimates, in
//! one transaction). Not a test: it prints the times.

use std::time::Instant;

use chrono::Utc;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use truce_core::fusion::fuse;
use truce_formats::incidents::incident_detail_text;
use truce_formats::ndjson::wire_canonical_json;
use truce_store::{NewBatch, NewFusion, NewRecord, Store};

#[path = "../../truce-core/benches/scene/mod.rs"]
mod scene;

const BATCH: usize = 100_000;

fn main() {
    // The allocator set up as `truce` sets it up.
    truce_alloc::keep_freed_memory();
    let n: usize = std::env::var("FUSION_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
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
                let hash = Sha256::digest(body.as_bytes()).into();
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

    let started = Instant::now();
    let report = store
        .record_fusion(
            &NewFusion {
                made_at: Utc::now(),
                label: "current observations",
                sources_csv: None,
                agreement: None,
            },
            &fusion,
            &ids,
            incident_detail_text,
        )
        .expect("the fusion stored");
    let seconds = started.elapsed().as_secs_f64();
    let bytes = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let wal = path.with_extension("db-wal");
    println!(
        "stored the fusion (fusion {}: {} incidents, {} memberships, {} equipment estimates) \
         in {seconds:.2} s ({:.0} incidents/s); store {:.0} MB + WAL {:.0} MB",
        report.fusion_id.0,
        report.incidents,
        report.observations,
        report.equipment,
        report.incidents as f64 / seconds,
        bytes(&path) as f64 / 1e6,
        bytes(&wal) as f64 / 1e6,
    );
}
