//! The synthetic scene of the fusion benches (`truce-core`'s `fusion`, `truce`'s
//! `fusion_store`), one definition for both: a 1,000 km front (47.5–48.5 N, 30–43.5 E) over
//! 180 days. Each event (an exchange of fire) is seen as heat spots by satellites, by a UAV or
//! camera, sometimes by a patrol with a coarse position, an acoustic array's bearing or a
//! party's claim; field fires, equipment sightings and monitor restrictions come on top.

use chrono::{TimeZone, Utc};
use truce_core::fusion::{Discipline, Reliability, SourceInfo, SourceRegistry};
use truce_core::{Bearing, Equipment, EquipmentClass, Kind, Location, Observation, ObservationKey};
use truce_geo::LonLat;

/// The number of observations a bench runs on: `FUSION_BENCH_N`, default 10⁷.
pub fn count() -> usize {
    std::env::var("FUSION_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// The registry of the scene's sources.
pub fn sources() -> SourceRegistry {
    let info = |reliability, discipline| SourceInfo {
        reliability,
        discipline,
    };
    SourceRegistry {
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
    }
}

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

/// `n` observations of the scene (the same ones for the same `n`).
pub fn scene(n: usize) -> Vec<Observation> {
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
