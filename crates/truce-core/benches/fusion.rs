//! Benchmark: fusion of 10⁷ synthetic observations in memory (`cargo bench -p truce-core
//! --bench fusion`; `FUSION_BENCH_N` sets another count, `FUSION_BENCH_DIGEST=1` prints a
//! fingerprint of the result). Not a test: it prints the time.
//!
//! The scene: see `scene/mod.rs`.

use std::time::Instant;

use truce_core::fusion::fuse;

mod scene;

/// This process's minor page faults and user and system CPU seconds so far (Linux:
/// `/proc/self/stat`, times in clock ticks of 1/100 s); `None` elsewhere.
fn cpu_s() -> Option<(f64, f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) and its closing parenthesis:
    // the 10th (minflt) and the 14th and 15th (utime, stime) of the whole line.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let field = |k: usize| fields.get(k - 3)?.parse::<f64>().ok();
    Some((field(10)?, field(14)? / 100.0, field(15)? / 100.0))
}

fn main() {
    // The allocator of the `truce` binary, set up as `truce` sets it up, so that the bench
    // measures what `truce` runs.
    truce_alloc::keep_freed_memory();
    let n = scene::count();
    let sources = scene::sources();
    let started = Instant::now();
    let observations = scene::scene(n);
    println!(
        "generated {} observations in {:.1} s",
        observations.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let cpu_before = cpu_s();
    let fusion = if std::env::var("FUSION_BENCH_PHASES").is_ok() {
        let mut fuser = truce_core::fusion::Fuser::new(sources.clone(), Default::default());
        let mut order: Vec<(i64, usize)> = observations
            .iter()
            .enumerate()
            .map(|(i, o)| (o.observed_at.timestamp(), i))
            .collect();
        order.sort_unstable();
        println!("sorted in {:.2} s", started.elapsed().as_secs_f64());
        for (_, i) in order {
            fuser.add(i, &observations[i]);
        }
        println!("added in {:.2} s", started.elapsed().as_secs_f64());
        fuser.finish()
    } else {
        fuse(&observations, &sources)
    };
    let seconds = started.elapsed().as_secs_f64();
    if let (Some((f0, u0, s0)), Some((f1, u1, s1))) = (cpu_before, cpu_s()) {
        println!(
            "cpu of the fusion: user {:.1} s, system {:.1} s, {:.0} thousand page faults",
            u1 - u0,
            s1 - s0,
            (f1 - f0) / 1e3
        );
    }
    let mut by_status = std::collections::BTreeMap::new();
    for i in &fusion.incidents {
        *by_status.entry(i.status.as_str()).or_insert(0usize) += 1;
    }
    println!(
        "fused {} observations into {} incidents in {seconds:.2} s ({:.0} observations/s); {by_status:?}; {} equipment estimates",
        observations.len(),
        fusion.incidents.len(),
        observations.len() as f64 / seconds,
        fusion.equipment.len()
    );
    // A fingerprint of the whole result, to check that a faster fusion gives the same one.
    if std::env::var("FUSION_BENCH_DIGEST").is_ok() {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for incident in &fusion.incidents {
            format!("{incident:?}").hash(&mut hasher);
            incident.reasons().hash(&mut hasher);
        }
        format!("{:?}", fusion.equipment).hash(&mut hasher);
        println!("digest {:016x}", hasher.finish());
    }
}
