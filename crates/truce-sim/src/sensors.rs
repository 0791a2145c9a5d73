//! The sensor mix of a scenario and when each sensor is looking: fixed acoustic arrays along
//! the line, satellite overpasses under a cloud field, patrol teams by day, UAV sorties.

use truce_core::PartySide;
use truce_geo::LonLat;

use crate::front::{Along, Front};
use crate::rng::{Rng, hash_unit};

pub const DAY_S: i64 = 86_400;
pub const HOUR_S: i64 = 3_600;
pub const MINUTE_S: i64 = 60;

/// An acoustic array: fixed, hears explosions and launches up to [`ACOUSTIC_RANGE_M`] and
/// reports a bearing with its own noise σ.
#[derive(Clone, Debug)]
pub struct Array {
    pub source: String,
    pub position: LonLat,
    pub sigma_deg: f64,
}

/// What every array reports as `max_range_m`.
pub const ACOUSTIC_RANGE_M: f64 = 20_000.0;
/// The speed of sound the arrival times follow, in metres per second.
pub const SOUND_M_PER_S: f64 = 340.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instrument {
    /// 375 m pixels, sensitive.
    Viirs,
    /// 1 km pixels, less sensitive.
    Modis,
}

/// A thermal-anomaly satellite (NASA FIRMS) and its daily overpasses.
#[derive(Clone, Copy, Debug)]
pub struct Satellite {
    pub source: &'static str,
    /// FIRMS `satellite` column value.
    pub satellite: &'static str,
    pub instrument: Instrument,
    /// Overpasses, minutes after 00:00 UTC; the second of a pair is an "edge" pass that sees
    /// only part of the area, at a larger scan angle.
    pub passes_min: &'static [(i64, bool)],
    /// Probability that a fire burning under a clear sky during a pass is detected.
    pub detect_p: f64,
}

pub const SATELLITES: [Satellite; 5] = [
    Satellite {
        source: "firms:viirs:n21",
        satellite: "N21",
        instrument: Instrument::Viirs,
        passes_min: &[(-85, false), (15, true), (570, false), (675, true)],
        detect_p: 0.75,
    },
    Satellite {
        source: "firms:viirs:n20",
        satellite: "N20",
        instrument: Instrument::Viirs,
        passes_min: &[(-85 + 50, false), (35, true), (620, false), (725, true)],
        detect_p: 0.75,
    },
    Satellite {
        source: "firms:viirs:npp",
        satellite: "N",
        instrument: Instrument::Viirs,
        passes_min: &[(-85 + 100, false), (85, true), (670, false), (775, true)],
        detect_p: 0.7,
    },
    Satellite {
        source: "firms:modis:terra",
        satellite: "Terra",
        instrument: Instrument::Modis,
        passes_min: &[(525, false), (1210, false)],
        detect_p: 0.35,
    },
    Satellite {
        source: "firms:modis:aqua",
        satellite: "Aqua",
        instrument: Instrument::Modis,
        passes_min: &[(650, false), (1380, false)],
        detect_p: 0.35,
    },
];

/// One overpass.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    pub satellite: usize,
    pub time_s: i64,
    pub edge: bool,
    pub night: bool,
    /// Serial number, for stateless draws about this pass.
    pub serial: u64,
}

/// A patrol team's day: where it works and when.
#[derive(Clone, Debug)]
pub struct PatrolDay {
    pub team: usize,
    pub base: LonLat,
    pub start_s: i64,
    pub end_s: i64,
}

pub const PATROL_TEAMS: usize = 40;
/// A patrol hears fire up to this distance, in metres.
pub const PATROL_HEARING_M: f64 = 10_000.0;
/// A patrol sees equipment, columns and works up to this distance, in metres.
pub const PATROL_SIGHT_M: f64 = 4_000.0;

/// A UAV sortie over a disc.
#[derive(Clone, Debug)]
pub struct Sortie {
    pub uav: usize,
    pub center: LonLat,
    pub radius_m: f64,
    pub start_s: i64,
    pub end_s: i64,
}

pub const UAVS: usize = 16;

/// Every sensor of a scenario and its schedule.
pub struct Sensors {
    pub arrays: Vec<Array>,
    /// Sorted by time.
    pub passes: Vec<Pass>,
    /// Per day.
    pub patrols: Vec<Vec<PatrolDay>>,
    /// Per day.
    pub sorties: Vec<Vec<Sortie>>,
    /// Cloud cover fraction per 12-hour window (window 0 starts 6 h before day 0).
    cloud_cover: Vec<f64>,
    day0_s: i64,
    seed: u64,
}

impl Sensors {
    pub fn new(front: &Front, seed: u64, day0_s: i64, days: u32) -> Sensors {
        let mut rng = Rng::stream(seed, 0x5e45_0001);
        let arrays = lay_out_arrays(front, &mut rng);
        let passes = overpasses(&mut rng, day0_s, days);
        let mut cloud_cover = Vec::with_capacity(2 * days as usize + 4);
        let mut z: f64 = rng.normal();
        for _ in 0..2 * days + 4 {
            z = 0.8 * z + 0.6 * rng.normal();
            cloud_cover.push((0.35 + 0.25 * z).clamp(0.02, 0.95));
        }
        let patrols = (0..days)
            .map(|d| patrol_days(front, &mut rng, day0_s + i64::from(d) * DAY_S))
            .collect();
        let sorties = (0..days)
            .map(|d| sorties(front, &mut rng, day0_s + i64::from(d) * DAY_S))
            .collect();
        Sensors {
            arrays,
            passes,
            patrols,
            sorties,
            cloud_cover,
            day0_s,
            seed,
        }
    }

    /// Whether clouds hide `p` from a pass at `time_s`: cover is drawn per 12-hour window and
    /// half-degree cell, so passes of the same night or day see the same gaps.
    pub fn cloudy(&self, time_s: i64, p: LonLat) -> bool {
        let window = (time_s - self.day0_s + 6 * HOUR_S).div_euclid(12 * HOUR_S);
        let cover = usize::try_from(window)
            .ok()
            .and_then(|w| self.cloud_cover.get(w))
            .copied()
            .unwrap_or(0.35);
        let cell_x = (p.lon_deg * 2.0).floor() as i64;
        let cell_y = (p.lat_deg * 2.0).floor() as i64;
        hash_unit(&[
            self.seed,
            0xc10d,
            window as u64,
            cell_x as u64,
            cell_y as u64,
        ]) < cover
    }

    /// Whether pass `pass` sees `p` at all (an edge pass covers about half of the area, in
    /// two-degree cells).
    pub fn covers(&self, pass: &Pass, p: LonLat) -> bool {
        if !pass.edge {
            return true;
        }
        let cell_x = (p.lon_deg / 2.0).floor() as i64;
        let cell_y = (p.lat_deg / 2.0).floor() as i64;
        hash_unit(&[self.seed, 0xed9e, pass.serial, cell_x as u64, cell_y as u64]) < 0.5
    }

    /// The passes in [from_s, to_s].
    pub fn passes_between(&self, from_s: i64, to_s: i64) -> &[Pass] {
        let lo = self.passes.partition_point(|p| p.time_s < from_s);
        let hi = self.passes.partition_point(|p| p.time_s <= to_s);
        &self.passes[lo..hi.max(lo)]
    }

    /// The scenario day of a time, if it is inside the scenario.
    pub fn day_of(&self, time_s: i64) -> Option<usize> {
        usize::try_from((time_s - self.day0_s).div_euclid(DAY_S))
            .ok()
            .filter(|&d| d < self.patrols.len())
    }
}

/// Arrays every 14 km along the line on each side (7 km apart, alternating sides), 3–7 km
/// behind it.
fn lay_out_arrays(front: &Front, rng: &mut Rng) -> Vec<Array> {
    let mut arrays = Vec::new();
    let spacing_m = 7_000.0;
    let mut s_m = rng.range(0.0, spacing_m);
    let mut side = PartySide::Outside;
    while s_m < front.length_m {
        if let Some((position, _)) = front.place_at(rng, s_m, Some(side), (3_000.0, 7_000.0)) {
            arrays.push(Array {
                source: format!("acoustic:a{:03}", arrays.len() + 1),
                position,
                sigma_deg: (rng.range(2.0, 5.0) * 2.0).round() / 2.0,
            });
        }
        side = match side {
            PartySide::Outside => PartySide::Inside,
            PartySide::Inside => PartySide::Outside,
        };
        s_m += spacing_m;
    }
    arrays
}

/// The overpasses of every satellite on every day; pass times drift by up to ±40 minutes over
/// a 16-day cycle, as sun-synchronous orbits do.
fn overpasses(rng: &mut Rng, day0_s: i64, days: u32) -> Vec<Pass> {
    let mut passes = Vec::new();
    let phase: Vec<i64> = SATELLITES.iter().map(|_| rng.int(0, 15)).collect();
    for day in 0..i64::from(days) {
        for (index, satellite) in SATELLITES.iter().enumerate() {
            let cycle = (day + phase[index]).rem_euclid(16);
            let drift_min = (cycle - 8) * 5;
            for &(minute, edge) in satellite.passes_min {
                let time_s = day0_s + day * DAY_S + (minute + drift_min + rng.int(-2, 2)) * 60;
                let hour = (minute + drift_min).rem_euclid(1440) / 60;
                passes.push(Pass {
                    satellite: index,
                    time_s,
                    edge,
                    night: !(6..18).contains(&hour),
                    serial: 0,
                });
            }
        }
    }
    passes.sort_by_key(|p| (p.time_s, p.satellite));
    for (serial, pass) in passes.iter_mut().enumerate() {
        pass.serial = serial as u64;
    }
    passes
}

/// Each team works most days, 05:00–14:00 UTC (08:00–17:00 local), from a base 2–12 km
/// behind the line, most of them (80%) in hot sectors; a quarter of the teams verify the withdrawal zone
/// (15–45 km).
fn patrol_days(front: &Front, rng: &mut Rng, day_s: i64) -> Vec<PatrolDay> {
    let mut days = Vec::new();
    for team in 0..PATROL_TEAMS {
        if !rng.chance(0.85) {
            continue;
        }
        let band = if team % 4 == 3 {
            (15_000.0, 45_000.0)
        } else {
            (2_000.0, 12_000.0)
        };
        let Some((base, _)) = front.place(rng, Along::Hot(0.8), None, band) else {
            continue;
        };
        let start_s = day_s + 5 * HOUR_S + rng.int(-30, 30) * MINUTE_S;
        let end_s = start_s + 9 * HOUR_S + rng.int(-60, 30) * MINUTE_S;
        days.push(PatrolDay {
            team,
            base,
            start_s,
            end_s,
        });
    }
    days
}

/// Each UAV flies up to three sorties a day of 2–4 h over a 25 km disc, over hot sectors near
/// the line or over the withdrawal zone.
fn sorties(front: &Front, rng: &mut Rng, day_s: i64) -> Vec<Sortie> {
    let mut sorties = Vec::new();
    for uav in 0..UAVS {
        for _ in 0..3 {
            if !rng.chance(0.85) {
                continue;
            }
            let band = if rng.chance(0.5) {
                (0.0, 15_000.0)
            } else {
                (15_000.0, 50_000.0)
            };
            let Some((center, _)) = front.place(rng, Along::Hot(0.6), None, band) else {
                continue;
            };
            let start_s = day_s + rng.int(3 * 60, 16 * 60) * MINUTE_S;
            let end_s = start_s + rng.int(120, 240) * MINUTE_S;
            sorties.push(Sortie {
                uav,
                center,
                radius_m: 25_000.0,
                start_s,
                end_s,
            });
        }
    }
    sorties
}
