//! The evidence link rule: uncertainty-aware radii, kind compatibility, windows, coarse
//! reports that never bridge.

use truce_core::fusion::{Discipline, Reliability, fuse};
use truce_core::{EquipmentClass, Kind, Observation};

use super::{assert_exactly_once, located, partition, pos, registry, with_equipment};

/// Fusing `observations` gives exactly the partition `expected` (lists of source_refs).
fn check_partition(observations: &[Observation], expected: &[&[&str]]) {
    let sources = registry(&[
        ("sat", Reliability::B, Discipline::Satellite),
        ("uav", Reliability::A, Discipline::Uav),
        ("patrol", Reliability::C, Discipline::Patrol),
    ]);
    let fusion = fuse(observations, &sources);
    assert_exactly_once(&fusion, observations.len());
    let mut expected: Vec<Vec<String>> = expected
        .iter()
        .map(|set| {
            let mut v: Vec<String> = set.iter().map(|s| (*s).to_owned()).collect();
            v.sort();
            v
        })
        .collect();
    expected.sort();
    assert_eq!(partition(&fusion, observations), expected);
}

#[test]
fn radii_follow_each_reports_uncertainty() {
    // Two satellite pixels 1 km apart link (1.5·√2·375 + 300 m = 1095 m); at 1.2 km not.
    check_partition(
        &[
            located("sat", "a", Kind::ThermalAnomaly, 0.0, pos(0.0, 0.0), 375.0),
            located(
                "sat",
                "b",
                Kind::ThermalAnomaly,
                0.0,
                pos(1000.0, 0.0),
                375.0,
            ),
            located(
                "sat",
                "c",
                Kind::ThermalAnomaly,
                0.0,
                pos(20_000.0, 0.0),
                375.0,
            ),
            located(
                "sat",
                "d",
                Kind::ThermalAnomaly,
                0.0,
                pos(21_200.0, 0.0),
                375.0,
            ),
        ],
        &[&["a", "b"], &["c"], &["d"]],
    );
    // A patrol's "within 5 km" reaches an explosion 6 km off.
    check_partition(
        &[
            located("uav", "x", Kind::Explosion, 0.0, pos(0.0, 0.0), 50.0),
            located(
                "patrol",
                "p",
                Kind::Explosion,
                1200.0,
                pos(6000.0, 0.0),
                5000.0,
            ),
        ],
        &[&["x", "p"]],
    );
}

#[test]
fn kinds_must_be_compatible() {
    check_partition(
        &[
            located("uav", "boom", Kind::Explosion, 0.0, pos(0.0, 0.0), 50.0),
            located(
                "sat",
                "heat",
                Kind::ThermalAnomaly,
                1800.0,
                pos(200.0, 0.0),
                375.0,
            ),
            located(
                "patrol",
                "denied",
                Kind::MonitorRestriction,
                0.0,
                pos(100.0, 0.0),
                100.0,
            ),
            with_equipment(
                located(
                    "uav",
                    "tanks",
                    Kind::EquipmentSighting,
                    0.0,
                    pos(0.0, 100.0),
                    50.0,
                ),
                EquipmentClass::Tank,
                4,
            ),
            with_equipment(
                located(
                    "sat",
                    "tanks2",
                    Kind::EquipmentSighting,
                    3600.0,
                    pos(0.0, 150.0),
                    50.0,
                ),
                EquipmentClass::Tank,
                3,
            ),
            with_equipment(
                located(
                    "uav",
                    "guns",
                    Kind::EquipmentSighting,
                    0.0,
                    pos(0.0, 120.0),
                    50.0,
                ),
                EquipmentClass::ArtilleryGe100mm,
                2,
            ),
        ],
        &[
            &["boom", "heat"],
            &["denied"],
            &["tanks", "tanks2"],
            &["guns"],
        ],
    );
}

#[test]
fn windows_and_intervals_decide_time() {
    // Explosions 15 and 33 minutes apart: windows of ±15 min overlap at 15, not at 33.
    check_partition(
        &[
            located("uav", "a", Kind::Explosion, 0.0, pos(0.0, 0.0), 50.0),
            located("uav", "b", Kind::Explosion, 900.0, pos(0.0, 0.0), 50.0),
            located(
                "uav",
                "c",
                Kind::Explosion,
                900.0 + 2000.0,
                pos(0.0, 0.0),
                50.0,
            ),
        ],
        &[&["a", "b"], &["c"]],
    );
    // An interval report covers what happens during it.
    let mut long = located("uav", "long", Kind::SmallArmsFire, 0.0, pos(0.0, 0.0), 50.0);
    long.observed_until = Some(super::at(3600.0));
    check_partition(
        &[
            long,
            located(
                "uav",
                "late",
                Kind::Explosion,
                3600.0 + 500.0,
                pos(0.0, 0.0),
                50.0,
            ),
        ],
        &[&["long", "late"]],
    );
}

#[test]
fn a_coarse_report_never_bridges_two_incidents() {
    // Two shellings 6 km apart; a patrol report ±5 km between them joins the nearer one.
    check_partition(
        &[
            located("uav", "west", Kind::Explosion, 0.0, pos(0.0, 0.0), 50.0),
            located(
                "sat",
                "west-heat",
                Kind::ThermalAnomaly,
                600.0,
                pos(100.0, 0.0),
                375.0,
            ),
            located("uav", "east", Kind::Explosion, 0.0, pos(6000.0, 0.0), 50.0),
            located(
                "patrol",
                "between",
                Kind::Explosion,
                300.0,
                pos(3500.0, 0.0),
                5000.0,
            ),
        ],
        &[&["west", "west-heat"], &["east", "between"]],
    );
    // Coarse reports that match no precise one link with each other.
    check_partition(
        &[
            located(
                "patrol",
                "p1",
                Kind::SmallArmsFire,
                0.0,
                pos(0.0, 0.0),
                4000.0,
            ),
            located(
                "patrol",
                "p2",
                Kind::SmallArmsFire,
                1200.0,
                pos(3000.0, 0.0),
                4000.0,
            ),
        ],
        &[&["p1", "p2"]],
    );
}

#[test]
fn a_fire_seen_at_later_overpasses_stays_with_its_shelling() {
    // A shelling seen by a UAV; its fire by satellites 2 h, 7 h and 12 h later, each pixel
    // within the window of the one before but the later ones not of the shelling's: one
    // incident. A vague claim at the same place 8 h later is coarse in place and joins
    // nothing by such a chain: its own incident.
    let fire = |name: &str, t_s: f64, east_m: f64| {
        located(
            "sat",
            name,
            Kind::ThermalAnomaly,
            t_s,
            pos(east_m, 0.0),
            375.0,
        )
    };
    check_partition(
        &[
            located("uav", "shelling", Kind::Explosion, 0.0, pos(0.0, 0.0), 50.0),
            fire("pass-1", 7_200.0, 100.0),
            fire("pass-2", 25_200.0, 150.0),
            fire("pass-3", 43_200.0, -100.0),
            located(
                "patrol",
                "vague",
                Kind::Explosion,
                28_800.0,
                pos(0.0, 0.0),
                5000.0,
            ),
        ],
        &[&["shelling", "pass-1", "pass-2", "pass-3"], &["vague"]],
    );
}

#[test]
fn a_heat_spot_hours_after_a_shelling_is_its_fire() {
    // The fire a shelling lit, seen at an overpass 5 h later, is the shelling's; 7 h later
    // it is no longer taken for it.
    let shelling = located("uav", "shelling", Kind::Explosion, 0.0, pos(0.0, 0.0), 50.0);
    let heat = |name: &str, t_s: f64| {
        located(
            "sat",
            name,
            Kind::ThermalAnomaly,
            t_s,
            pos(200.0, 0.0),
            375.0,
        )
    };
    check_partition(
        &[shelling.clone(), heat("5h", 5.0 * 3600.0)],
        &[&["shelling", "5h"]],
    );
    check_partition(
        &[shelling, heat("7h", 7.0 * 3600.0)],
        &[&["shelling"], &["7h"]],
    );
}

#[test]
fn weapons_seen_again_at_their_place_within_a_day_are_one_group() {
    // Tanks seen by UAVs at one place 20 h apart are one group; 25 h apart, two.
    let tanks = |name: &str, t_s: f64| {
        with_equipment(
            located(
                "uav",
                name,
                Kind::EquipmentSighting,
                t_s,
                pos(30.0, 0.0),
                100.0,
            ),
            EquipmentClass::Tank,
            4,
        )
    };
    check_partition(
        &[tanks("evening", 0.0), tanks("next-day", 20.0 * 3600.0)],
        &[&["evening", "next-day"]],
    );
    check_partition(
        &[tanks("evening", 0.0), tanks("day-after", 25.0 * 3600.0)],
        &[&["evening"], &["day-after"]],
    );
}
