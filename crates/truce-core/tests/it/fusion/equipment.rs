//! Equipment accounting: one group per place and class, however many sources saw it.

use truce_core::fusion::{Discipline, EquipmentEstimate, FusionConfig, Reliability, fuse_with};
use truce_core::{EquipmentClass, Kind, Observation};
use truce_geo::LonLat;

use super::{located, pos, registry, with_equipment};

fn zone_of(p: LonLat) -> (String, String) {
    if p.lon_deg < 37.5 {
        ("disengagement".into(), "UA".into())
    } else {
        ("heavy_weapons_withdrawal".into(), "RU".into())
    }
}

/// (zone, party, class, lower, upper, evidence).
type Expected<'a> = (&'a str, &'a str, EquipmentClass, u32, u32, &'a [usize]);

/// The estimates of fusing `observations` with the test zones.
fn check_estimates(observations: &[Observation], expected: &[Expected<'_>]) {
    let sources = registry(&[
        ("uav", Reliability::B, Discipline::Uav),
        ("patrol", Reliability::C, Discipline::Patrol),
        ("osint", Reliability::D, Discipline::Osint),
    ]);
    let assess = zone_of;
    let config = FusionConfig {
        assess: Some(&assess),
        ..FusionConfig::default()
    };
    let fusion = fuse_with(observations, &sources, &config);
    let expected: Vec<EquipmentEstimate> = expected
        .iter()
        .map(
            |(zone, party, class, lower, upper, evidence)| EquipmentEstimate {
                zone: (*zone).into(),
                party: (*party).into(),
                class: *class,
                lower: *lower,
                upper: *upper,
                evidence: evidence.to_vec(),
            },
        )
        .collect();
    assert_eq!(fusion.equipment, expected);
}

fn sighting(
    source: &str,
    r: &str,
    t_s: f64,
    east_m: f64,
    class: EquipmentClass,
    count: u32,
) -> Observation {
    with_equipment(
        located(
            source,
            r,
            Kind::EquipmentSighting,
            t_s,
            pos(east_m, 0.0),
            100.0,
        ),
        class,
        count,
    )
}

#[test]
fn several_sources_seeing_one_group_count_it_once() {
    use EquipmentClass::*;
    check_estimates(
        &[
            // Four tanks seen by a UAV, by a patrol (three of them) and by OSINT: one group of 4.
            sighting("uav", "a", 0.0, 10_000.0, Tank, 4),
            sighting("patrol", "b", 3600.0, 10_200.0, Tank, 3),
            sighting("osint", "c", 7200.0, 9_900.0, Tank, 4),
            // Three more tanks 20 km away: another group.
            sighting("uav", "d", 0.0, 30_000.0, Tank, 3),
            // Two guns beside the first group: another class.
            sighting("uav", "e", 0.0, 10_000.0, ArtilleryGe100mm, 2),
            // Mortars on the other side of 37.5 E, attributed by the reporter to UA.
            {
                let mut o = sighting("uav", "f", 0.0, -20_000.0, Mortar, 6);
                o.party = Some("UA".into());
                o
            },
        ],
        &[
            ("disengagement", "UA", Mortar, 6, 6, &[5]),
            ("heavy_weapons_withdrawal", "RU", Tank, 4, 7, &[0, 1, 2, 3]),
            (
                "heavy_weapons_withdrawal",
                "RU",
                ArtilleryGe100mm,
                2,
                2,
                &[4],
            ),
        ],
    );
}
