//! The replay configuration reproduces `replay.md`'s incidents exactly
//! (`truce_core::incidents::link_incidents` is the reference).

use proptest::prelude::*;
use truce_core::FusionParams;
use truce_core::fusion::{FusionConfig, IncidentStatus, SourceRegistry, fuse_with};
use truce_core::incidents::{LinkPoint, link_incidents};
use truce_core::{Kind, KindSet, Observation};
use truce_geo::LonLat;

use super::{assert_exactly_once, at, located};

const PARAMS: FusionParams = FusionParams {
    link_distance_m: 1000.0,
    link_time_s: 10_800,
};

/// The zone of the test: `near` west of 37.03 E, `far` east of it.
fn zone_of(p: LonLat) -> (String, String) {
    let zone = if p.lon_deg < 37.03 { "near" } else { "far" };
    (zone.to_owned(), "UA".to_owned())
}

/// Fusing `observations` with the replay configuration restricted to zone `near` gives the
/// components of `link_incidents` over the observations in `near`, and every other one alone.
fn check_replay(observations: &[Observation], params: FusionParams) {
    let assess = zone_of;
    let mut config = FusionConfig::replay(params);
    config.assess = Some(&assess);
    config.link_zone = Some("near".into());
    let fusion = fuse_with(observations, &SourceRegistry::default(), &config);
    assert_exactly_once(&fusion, observations.len());

    let in_zone: Vec<usize> = (0..observations.len())
        .filter(|&i| {
            observations[i]
                .position()
                .is_some_and(|p| zone_of(p).0 == "near")
        })
        .collect();
    let points: Vec<LinkPoint> = in_zone
        .iter()
        .map(|&i| LinkPoint {
            observed_at_s: observations[i].observed_at.timestamp(),
            position: observations[i].position().unwrap_or(LonLat::new(0.0, 0.0)),
        })
        .collect();
    let mut expected: Vec<Vec<usize>> = link_incidents(&points, params)
        .into_iter()
        .map(|i| i.members.into_iter().map(|k| in_zone[k]).collect())
        .collect();
    for i in 0..observations.len() {
        if !in_zone.contains(&i) {
            expected.push(vec![i]);
        }
    }
    expected.sort();
    let mut got: Vec<Vec<usize>> = fusion.incidents.iter().map(|i| i.members.clone()).collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        fusion
            .incidents
            .iter()
            .all(|i| i.status != IncidentStatus::Dismissed
                || i.kinds == KindSet::of(Kind::ThermalAnomaly))
    );
}

fn observations_strategy() -> impl Strategy<Value = Vec<Observation>> {
    // Clustered points (links, chains and near misses), sub-second times, every kind,
    // uncertainties that the replay rule must ignore.
    prop::collection::vec(
        (
            0i64..40_000,
            0u32..1000,
            0.0f64..0.06,
            0.0f64..0.05,
            0usize..12,
            1.0f64..9000.0,
        ),
        0..70,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (t, ms, dx, dy, kind, u))| {
                let mut o = located(
                    "src",
                    &format!("r{i}"),
                    Kind::ALL[kind],
                    t as f64 + f64::from(ms) / 1000.0,
                    LonLat::new(37.0 + dx, 48.0 + dy),
                    u,
                );
                if i % 7 == 3 {
                    o.observed_until = Some(at(t as f64 + 50_000.0));
                }
                o
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn the_replay_configuration_equals_link_incidents(observations in observations_strategy()) {
        check_replay(&observations, PARAMS);
    }

    #[test]
    fn also_with_other_parameters(observations in observations_strategy(), d in 100.0f64..5000.0, t in 0i64..30_000) {
        check_replay(&observations, FusionParams { link_distance_m: d, link_time_s: t });
    }
}

/// Bounds are inclusive, linkage transitive, bearings and other zones alone.
#[test]
fn bounds_are_inclusive_and_linkage_is_transitive() {
    let north = |i: usize, t: f64, metres: f64| {
        located(
            "s",
            &format!("n{i}"),
            Kind::Explosion,
            t,
            LonLat::new(
                37.0,
                48.0 + (metres / truce_geo::EARTH_RADIUS_M).to_degrees(),
            ),
            50.0,
        )
    };
    let mut unlocated = super::bearing(
        "a",
        "b0",
        Kind::Explosion,
        0.0,
        LonLat::new(37.0, 48.0),
        0.0,
        2.0,
    );
    unlocated.key.source_ref = "b0".into();
    let observations = vec![
        north(0, 0.0, 0.0),
        north(1, 10_800.0, 999.0),
        north(2, 21_600.0, 1998.0),
        north(3, 40_000.0, 0.0),
        north(4, 0.0, 0.0),
        unlocated,
        located(
            "s",
            "far",
            Kind::Explosion,
            0.0,
            LonLat::new(37.1, 48.0),
            50.0,
        ),
    ];
    check_replay(&observations, PARAMS);
    let too_late = [north(0, 0.0, 0.0), north(1, 10_801.0, 0.0)];
    check_replay(&too_late, PARAMS);
}
