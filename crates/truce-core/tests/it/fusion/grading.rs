//! Grading: reported, corroborated, confirmed, dismissed, with reasons; re-grading after a
//! source's grade changes.

use truce_core::fusion::{Discipline, Fusion, IncidentStatus, Reliability, SourceRegistry, fuse};
use truce_core::{Kind, Observation};

use super::{assert_exactly_once, located, pos, registry};

use Discipline::*;
use Reliability::*;

fn sources() -> SourceRegistry {
    registry(&[
        ("sat", B, Satellite),
        ("sat-c", C, Satellite),
        ("patrol", C, Patrol),
        ("array", C, Acoustic),
        ("osint", D, Osint),
        ("uav", B, Uav),
        ("ua-liaison", C, Party),
        ("ru-liaison", C, Party),
    ])
}

/// Fuses and returns the statuses of the incidents, in id order.
fn check_statuses(
    observations: &[Observation],
    sources: &SourceRegistry,
    expected: &[IncidentStatus],
) -> Fusion {
    let fusion = fuse(observations, sources);
    assert_exactly_once(&fusion, observations.len());
    let got: Vec<IncidentStatus> = fusion.incidents.iter().map(|i| i.status).collect();
    assert_eq!(
        got,
        expected,
        "{:#?}",
        fusion
            .incidents
            .iter()
            .map(|i| i.reasons())
            .collect::<Vec<_>>()
    );
    for i in &fusion.incidents {
        assert!((0.0..=1.0).contains(&i.confidence));
        assert!(!i.reasons().is_empty());
    }
    fusion
}

#[test]
fn one_discipline_is_reported_two_corroborated_three_confirmed() {
    let boom = |source: &str, r: &str, t: f64| {
        located(source, r, Kind::Explosion, t, pos(0.0, 0.0), 300.0)
    };
    // C-graded patrol and OSINT: two disciplines.
    check_statuses(
        &[boom("patrol", "p", 0.0), boom("patrol", "p2", 60.0)],
        &sources(),
        &[IncidentStatus::Reported],
    );
    let f = check_statuses(
        &[boom("patrol", "p", 0.0), boom("osint", "o", 60.0)],
        &sources(),
        &[IncidentStatus::Corroborated],
    );
    assert!(
        f.incidents[0]
            .reasons()
            .iter()
            .any(|r| r == "corroborated: 2 independent disciplines (patrol, osint)"),
        "{:?}",
        f.incidents[0].reasons()
    );
    assert!(
        f.incidents[0]
            .reasons()
            .iter()
            .any(|r| r.starts_with("source patrol (C, patrol): 1 report (explosion)"))
    );
    // Two party sources are one discipline: still reported.
    check_statuses(
        &[boom("ua-liaison", "u", 0.0), boom("ru-liaison", "r", 60.0)],
        &sources(),
        &[IncidentStatus::Reported],
    );
    check_statuses(
        &[
            boom("patrol", "p", 0.0),
            boom("osint", "o", 60.0),
            boom("ua-liaison", "u", 120.0),
        ],
        &sources(),
        &[IncidentStatus::Confirmed],
    );
    // A direct observation by a B source confirms on its own; a C satellite does not.
    check_statuses(
        &[located(
            "uav",
            "v",
            Kind::Explosion,
            0.0,
            pos(0.0, 0.0),
            30.0,
        )],
        &sources(),
        &[IncidentStatus::Confirmed],
    );
    let mut doubtful = located("uav", "v", Kind::Explosion, 0.0, pos(0.0, 0.0), 30.0);
    doubtful.credibility = Some(5);
    check_statuses(&[doubtful], &sources(), &[IncidentStatus::Reported]);
}

#[test]
fn confidence_grows_with_independent_sources() {
    let fusion = fuse(
        &[
            located("patrol", "a", Kind::Explosion, 0.0, pos(0.0, 0.0), 300.0),
            located(
                "patrol",
                "b",
                Kind::Explosion,
                0.0,
                pos(50_000.0, 0.0),
                300.0,
            ),
            located(
                "osint",
                "c",
                Kind::Explosion,
                60.0,
                pos(50_000.0, 0.0),
                300.0,
            ),
        ],
        &sources(),
    );
    let alone = fusion
        .incidents
        .iter()
        .find(|i| i.members == [0])
        .map(|i| i.confidence);
    let both = fusion
        .incidents
        .iter()
        .find(|i| i.members == [1, 2])
        .map(|i| i.confidence);
    // patrol C: 0.6 × 0.8; osint D: 0.4 × 0.8.
    assert_eq!(alone.map(|c| (c * 1e6).round()), Some(480_000.0));
    assert_eq!(
        both.map(|c| (c * 1e6).round()),
        Some(((1.0 - 0.52 * 0.68) * 1e6_f64).round())
    );
}

#[test]
fn a_downgraded_source_regrades_what_depended_on_it() {
    let observations = [
        located(
            "sat",
            "heat",
            Kind::ThermalAnomaly,
            0.0,
            pos(0.0, 0.0),
            375.0,
        ),
        located(
            "patrol",
            "boom",
            Kind::Explosion,
            300.0,
            pos(100.0, 0.0),
            500.0,
        ),
        located(
            "patrol",
            "other",
            Kind::Explosion,
            10.0,
            pos(80_000.0, 0.0),
            500.0,
        ),
    ];
    let mut fusion = check_statuses(
        &observations,
        &sources(),
        &[IncidentStatus::Confirmed, IncidentStatus::Reported],
    );
    assert!(
        fusion.incidents[0]
            .reasons()
            .iter()
            .any(|r| r == "confirmed: direct observation by B source sat (satellite)")
    );
    let before = fusion.incidents[0].confidence;

    let downgraded = registry(&[("sat", E, Satellite), ("patrol", C, Patrol)]);
    let changed = fusion.regrade(&downgraded);
    assert_eq!(changed, vec![0]);
    assert_eq!(fusion.incidents[0].status, IncidentStatus::Corroborated);
    assert_eq!(fusion.incidents[0].sources[1].info.reliability, E);
    assert!(fusion.incidents[0].confidence < before);
    assert!(
        fusion.incidents[0]
            .reasons()
            .iter()
            .any(|r| r.starts_with("source sat (E, satellite)"))
    );
    // Re-grading with the first registry gives the first result back.
    fusion.regrade(&sources());
    assert_eq!(fusion, fuse(&observations, &sources()));
}

#[test]
fn an_isolated_heat_spot_is_dismissed_as_a_field_fire() {
    let observations = [
        // Far from everything: a field fire.
        located(
            "sat",
            "field",
            Kind::ThermalAnomaly,
            0.0,
            pos(0.0, 0.0),
            375.0,
        ),
        located(
            "sat",
            "field-2",
            Kind::ThermalAnomaly,
            60.0,
            pos(400.0, 0.0),
            375.0,
        ),
        // 10 km from a patrol's report of shelling: kept. The patrol is 40 km from the
        // field: the area is watched.
        located(
            "sat",
            "near-shelling",
            Kind::ThermalAnomaly,
            0.0,
            pos(30_000.0, 0.0),
            375.0,
        ),
        located(
            "patrol",
            "shelling",
            Kind::Explosion,
            1800.0,
            pos(40_000.0, 0.0),
            300.0,
        ),
    ];
    let fusion = check_statuses(
        &observations,
        &sources(),
        &[
            IncidentStatus::Dismissed,
            IncidentStatus::Confirmed,
            IncidentStatus::Reported,
        ],
    );
    assert_eq!(fusion.incidents[0].members, vec![0, 1]);
    assert!(
        fusion.incidents[0]
            .reasons()
            .iter()
            .any(|r| r.starts_with("dismissed: field fire?")),
        "{:?}",
        fusion.incidents[0].reasons()
    );
    assert!(
        fusion.incidents[0]
            .reasons()
            .iter()
            .any(|r| r
                == "evidence alone: confirmed: direct observation by B source sat (satellite)")
    );
}

/// A report of an explosion by `near` while a B-graded UAV watched 3 km away and reported
/// only movement, and one by `far` 60 km off, where nobody better was: the first is dismissed
/// as not borne out, the second kept as reported.
fn not_borne_out(near: &str, far: &str) -> Fusion {
    let observations = [
        located(near, "o1", Kind::Explosion, 0.0, pos(0.0, 0.0), 1000.0),
        located(
            "uav",
            "watch",
            Kind::Movement,
            600.0,
            pos(3000.0, 0.0),
            50.0,
        ),
        located(far, "o2", Kind::Explosion, 0.0, pos(60_000.0, 0.0), 1000.0),
    ];
    let fusion = check_statuses(
        &observations,
        &sources(),
        &[
            IncidentStatus::Dismissed,
            IncidentStatus::Reported,
            IncidentStatus::Confirmed,
        ],
    );
    assert_eq!(fusion.incidents[0].members, vec![0]);
    assert_eq!(
        fusion.incidents[0].context.observers_nearby,
        vec!["uav".to_owned()]
    );
    assert!(fusion.incidents[1].context.observers_nearby.is_empty());
    fusion
}

#[test]
fn a_claim_that_better_sources_do_not_bear_out_is_dismissed() {
    let mut fusion = not_borne_out("ru-liaison", "ua-liaison");
    assert!(
        fusion.incidents[0]
            .reasons()
            .iter()
            .any(|r| r.contains("while uav (B, uav) reported from within 10000 m"))
    );
    // If the UAV is downgraded, the claim is no longer contradicted.
    let changed = fusion.regrade(&registry(&[
        ("uav", D, Uav),
        ("ru-liaison", C, Party),
        ("ua-liaison", C, Party),
    ]));
    assert_eq!(changed, vec![0, 2]);
    assert_eq!(fusion.incidents[0].status, IncidentStatus::Reported);
}

/// Not only claims: a report by sources graded D–F alone, of one discipline.
#[test]
fn a_low_grade_report_that_better_sources_do_not_bear_out_is_dismissed() {
    let fusion = not_borne_out("osint", "osint");
    assert_eq!(fusion.incidents[0].sources[0].source, "osint");
}

#[test]
fn a_satellite_only_picture_dismisses_nothing() {
    check_statuses(
        &[
            located("sat", "a", Kind::ThermalAnomaly, 0.0, pos(0.0, 0.0), 375.0),
            located(
                "sat",
                "b",
                Kind::ThermalAnomaly,
                0.0,
                pos(50_000.0, 0.0),
                375.0,
            ),
            // Other kinds of report, but far away (200 km) and days later.
            located(
                "patrol",
                "c",
                Kind::Explosion,
                0.0,
                pos(200_000.0, 0.0),
                300.0,
            ),
            located(
                "patrol",
                "d",
                Kind::Explosion,
                5.0 * 86_400.0,
                pos(0.0, 0.0),
                300.0,
            ),
        ],
        &sources(),
        &[
            IncidentStatus::Reported,
            IncidentStatus::Confirmed,
            IncidentStatus::Confirmed,
            IncidentStatus::Reported,
        ],
    );
}

#[test]
fn a_kind_set_is_the_sorted_list_of_its_distinct_kinds() {
    use truce_core::KindSet;
    let kinds = [
        Kind::ThermalAnomaly,
        Kind::Explosion,
        Kind::ThermalAnomaly,
        Kind::Notification,
    ];
    let set: KindSet = kinds.into_iter().collect();
    let mut list = kinds.to_vec();
    list.sort_unstable();
    list.dedup();
    assert_eq!(set.iter().collect::<Vec<_>>(), list);
    assert_eq!(set.len(), 3);
    assert_eq!(format!("{set:?}"), format!("{list:?}"));
    assert!(set.contains(Kind::Explosion) && !set.contains(Kind::Movement));
    assert_eq!(set.without(Kind::Explosion).len(), 2);
    assert!(KindSet::EMPTY.is_empty());
    assert_eq!(
        KindSet::of(Kind::Movement).iter().collect::<Vec<_>>(),
        [Kind::Movement]
    );
}

#[test]
fn the_best_report_per_discipline_is_the_first_of_the_highest_worth() {
    use truce_core::fusion::BestByDiscipline;
    let mut best = BestByDiscipline::default();
    best.offer(Acoustic, 0.5, 0);
    best.offer(Satellite, 0.6, 1);
    best.offer(Acoustic, 0.7, 2);
    best.offer(Acoustic, 0.7, 3);
    best.offer(Acoustic, 0.4, 4);
    assert_eq!(best.get(Acoustic), Some((0.7, 2)));
    assert_eq!(best.get(Uav), None);
    // In discipline order, whatever the order of the offers.
    assert_eq!(
        best.iter().collect::<Vec<_>>(),
        [(Satellite, 0.6, 1), (Acoustic, 0.7, 2)]
    );
    let mut expected = [None; 9];
    expected[Satellite as usize] = Some((0.6, 1u32));
    expected[Acoustic as usize] = Some((0.7, 2u32));
    assert_eq!(format!("{best:?}"), format!("{expected:?}"));
}

#[test]
fn a_status_reads_back_from_its_wire_name() {
    for status in IncidentStatus::ALL {
        assert_eq!(IncidentStatus::from_wire(status.as_str()), Some(status));
    }
    assert_eq!(IncidentStatus::from_wire("Confirmed"), None);
    assert_eq!(IncidentStatus::from_wire(""), None);
}
