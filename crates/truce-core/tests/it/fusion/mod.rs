//! Fusion: observations in, graded incidents out (`truce_core::fusion`).
//!
//! The helpers here build observations tersely; each test module has one `check_*` helper
//! that is the only caller of the API under test.

mod bearings;
mod equipment;
mod grading;
mod linking;
mod order;
mod replay;

use chrono::{DateTime, TimeZone, Utc};
use truce_core::fusion::{Discipline, Fusion, Reliability, SourceInfo, SourceRegistry};
use truce_core::{Bearing, Equipment, EquipmentClass, Kind, Observation, ObservationKey};
use truce_geo::LonLat;

/// 2025-09-07T00:00:00Z plus `s` seconds.
pub fn at(s: f64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2025, 9, 7, 0, 0, 0)
        .single()
        .expect("a valid date");
    base + chrono::Duration::milliseconds((s * 1000.0).round() as i64)
}

/// A point `east_m`, `north_m` from (37.5 E, 48.1 N) on a local plane (good to < 1 m
/// over tens of kilometres).
pub fn pos(east_m: f64, north_m: f64) -> LonLat {
    let lat0 = 48.1f64;
    let r = truce_geo::EARTH_RADIUS_M;
    LonLat::new(
        37.5 + (east_m / (r * lat0.to_radians().cos())).to_degrees(),
        lat0 + (north_m / r).to_degrees(),
    )
}

/// A located observation.
pub fn located(
    source: &str,
    source_ref: &str,
    kind: Kind,
    t_s: f64,
    p: LonLat,
    u_m: f64,
) -> Observation {
    let key = ObservationKey {
        source: source.into(),
        source_ref: source_ref.into(),
    };
    Observation::located(key, kind, at(t_s), p, u_m)
}

/// A bearing-only observation.
pub fn bearing(
    source: &str,
    source_ref: &str,
    kind: Kind,
    t_s: f64,
    observer: LonLat,
    azimuth_deg: f64,
    sigma_deg: f64,
) -> Observation {
    Observation {
        location: None,
        bearing: Some(Bearing {
            observer,
            azimuth_deg,
            sigma_deg,
            max_range_m: None,
        }),
        ..located(source, source_ref, kind, t_s, observer, 1.0)
    }
}

pub fn with_equipment(mut o: Observation, class: EquipmentClass, count: u32) -> Observation {
    o.equipment = Some(Equipment { class, count });
    o
}

/// A registry of exact names.
pub fn registry(entries: &[(&str, Reliability, Discipline)]) -> SourceRegistry {
    SourceRegistry {
        entries: entries
            .iter()
            .map(|(name, reliability, discipline)| {
                (
                    (*name).to_owned(),
                    SourceInfo {
                        reliability: *reliability,
                        discipline: *discipline,
                    },
                )
            })
            .collect(),
    }
}

/// The partition as sorted lists of `source_ref`s, sorted.
pub fn partition(fusion: &Fusion, observations: &[Observation]) -> Vec<Vec<String>> {
    let mut sets: Vec<Vec<String>> = fusion
        .incidents
        .iter()
        .map(|i| {
            let mut refs: Vec<String> = i
                .members
                .iter()
                .map(|&m| observations[m].key.source_ref.clone())
                .collect();
            refs.sort();
            refs
        })
        .collect();
    sets.sort();
    sets
}

/// Every input index is in exactly one incident.
pub fn assert_exactly_once(fusion: &Fusion, n: usize) {
    let mut seen = vec![0usize; n];
    for incident in &fusion.incidents {
        assert!(!incident.members.is_empty(), "{} is empty", incident.id);
        assert!(
            incident.members.windows(2).all(|w| w[0] < w[1]),
            "members ascending"
        );
        for &m in &incident.members {
            seen[m] += 1;
        }
    }
    assert!(seen.iter().all(|&c| c == 1), "membership counts {seen:?}");
}
