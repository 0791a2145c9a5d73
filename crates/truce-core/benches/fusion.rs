//! Benchmark: fusion of 10⁷ synthetic observations in memory (`cargo bench -p truce-core
//! --bench fusion`; `FUSION_BENCH_N` sets another count, `FUSION_BENCH_DIGEST=1` prints a
//! fingerprint of the result). Not a test: it prints the time.
//!
//! The scene: a 1,000 km front (47.5–48.5 N, 30–43.5 E) over 180 days. Each event (an
//! exchange of fire) is seen as heat spots by satellites, by a UAV or camera, sometimes by a
//! patrol with a coarse position, an acoustic array's bearing or a party's claim; field fires,
//! equipment sightings and monitor restrictions come on top.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use truce_core::fusion::{Discipline, Reliability, SourceInfo, SourceRegistry, fuse};
use truce_core::{Bearing, Equipment, EquipmentClass, Kind, Location, Observation, ObservationKey};
use truce_geo::LonLat;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn observation(source: &str, n: usize, kind: Kind, t_s: f64) -> Observation {
    let base = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let key = ObservationKey {
        source: source.to_owned(),
        source_ref: format!("r{n}"),
    };
    Observation::new(
        key,
        kind,
        base + chrono::Duration::milliseconds((t_s * 1000.0) as i64),
    )
}

fn offset(p: LonLat, sigma_m: f64, rng: &mut Rng) -> LonLat {
    let m_per_deg = 111_195.0;
    LonLat::new(
        p.lon_deg + sigma_m * rng.normal() / (m_per_deg * p.lat_deg.to_radians().cos()),
        p.lat_deg + sigma_m * rng.normal() / m_per_deg,
    )
}

fn located(mut o: Observation, p: LonLat, u_m: f64) -> Observation {
    o.location = Some(Location {
        position: p,
        uncertainty_m: u_m,
    });
    o
}

fn scene(n: usize) -> Vec<Observation> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(n + 16);
    let days = 180.0;
    while out.len() < n {
        let t = rng.unit() * days * 86_400.0;
        let p = LonLat::new(30.0 + 13.5 * rng.unit(), 47.5 + rng.unit());
        let k = out.len();
        match rng.next() % 20 {
            // Field fires.
            0 | 1 => out.push(located(
                observation("firms:viirs:n20", k, Kind::ThermalAnomaly, t),
                p,
                375.0,
            )),
            // Equipment sightings.
            2 => {
                let mut o = located(
                    observation("uav-3", k, Kind::EquipmentSighting, t),
                    p,
                    100.0,
                );
                o.equipment = Some(Equipment {
                    class: EquipmentClass::Tank,
                    count: 1 + (rng.next() % 6) as u32,
                });
                out.push(o);
            }
            3 => out.push(located(
                observation("patrol-2", k, Kind::MonitorRestriction, t),
                p,
                200.0,
            )),
            // An exchange of fire and its reports.
            _ => {
                out.push(located(
                    observation("uav-1", k, Kind::Explosion, t + 30.0 * rng.unit()),
                    offset(p, 30.0, &mut rng),
                    50.0,
                ));
                for _ in 0..(1 + rng.next() % 2) {
                    let k = out.len();
                    out.push(located(
                        observation(
                            "firms:viirs:n20",
                            k,
                            Kind::ThermalAnomaly,
                            t + 3600.0 * rng.unit(),
                        ),
                        offset(p, 200.0, &mut rng),
                        375.0,
                    ));
                }
                let roll = rng.next() % 10;
                let k = out.len();
                if roll < 4 {
                    out.push(located(
                        observation("patrol-7", k, Kind::Explosion, t + 1800.0 * rng.unit()),
                        offset(p, 1500.0, &mut rng),
                        5000.0,
                    ));
                } else if roll < 6 {
                    let observer = offset(p, 8000.0, &mut rng);
                    let array = format!("acoustic:array-{}", rng.next() % 50);
                    let mut o = observation(&array, k, Kind::Explosion, t + 30.0);
                    // Plane azimuth: east scaled by cos(latitude).
                    let az = ((p.lon_deg - observer.lon_deg) * p.lat_deg.to_radians().cos())
                        .atan2(p.lat_deg - observer.lat_deg)
                        .to_degrees();
                    o.bearing = Some(Bearing {
                        observer,
                        azimuth_deg: (az + 2.0 * rng.normal()).rem_euclid(360.0),
                        sigma_deg: 2.0,
                        max_range_m: None,
                    });
                    out.push(o);
                } else if roll < 7 {
                    let mut o = located(
                        observation("ru-liaison", k, Kind::Explosion, t + 600.0 * rng.unit()),
                        offset(p, 800.0, &mut rng),
                        1000.0,
                    );
                    o.party = Some("UA".into());
                    out.push(o);
                }
            }
        }
    }
    out.truncate(n);
    out
}

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
    let n: usize = std::env::var("FUSION_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let info = |reliability, discipline| SourceInfo {
        reliability,
        discipline,
    };
    let sources = SourceRegistry {
        entries: vec![
            (
                "firms:*".into(),
                info(Reliability::B, Discipline::Satellite),
            ),
            ("uav-*".into(), info(Reliability::A, Discipline::Uav)),
            ("patrol-*".into(), info(Reliability::C, Discipline::Patrol)),
            (
                "acoustic:*".into(),
                info(Reliability::B, Discipline::Acoustic),
            ),
            ("ru-liaison".into(), info(Reliability::D, Discipline::Party)),
        ],
    };
    let started = Instant::now();
    let observations = scene(n);
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
