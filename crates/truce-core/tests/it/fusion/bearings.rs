//! Bearings in fusion: triangulated when independent bearings cross, joined to located
//! reports in their sector, and a single bearing stays a bearing.

use truce_core::fusion::{Discipline, Fusion, IncidentStatus, Reliability, SourceRegistry, fuse};
use truce_core::{Kind, Observation};
use truce_geo::{LonLat, great_circle_distance_m};

use super::{assert_exactly_once, at, bearing, located, pos, registry};

fn sources() -> SourceRegistry {
    registry(&[
        ("array-w", Reliability::B, Discipline::Acoustic),
        ("array-s", Reliability::B, Discipline::Acoustic),
        ("array-e", Reliability::B, Discipline::Acoustic),
        ("patrol", Reliability::C, Discipline::Patrol),
        ("sat", Reliability::B, Discipline::Satellite),
        ("uav", Reliability::B, Discipline::Uav),
        ("party", Reliability::D, Discipline::Party),
    ])
}

/// An acoustic report of a sound made at `event` at time `t_s`: heard when it arrives
/// (range / 340 m/s later), at the true azimuth plus `error_deg`.
fn heard(
    source: &str,
    r: &str,
    observer: LonLat,
    event: LonLat,
    t_s: f64,
    error_deg: f64,
) -> Observation {
    let range = great_circle_distance_m(observer, event);
    let az = azimuth(observer, event) + error_deg;
    bearing(
        source,
        r,
        Kind::Explosion,
        t_s + range / 340.0,
        observer,
        az.rem_euclid(360.0),
        1.5,
    )
}

fn azimuth(from: LonLat, to: LonLat) -> f64 {
    let (p1, p2) = (from.lat_deg.to_radians(), to.lat_deg.to_radians());
    let dl = (to.lon_deg - from.lon_deg).to_radians();
    (dl.sin() * p2.cos())
        .atan2(p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos())
        .to_degrees()
}

fn check(observations: &[Observation]) -> Fusion {
    let fusion = fuse(observations, &sources());
    assert_exactly_once(&fusion, observations.len());
    fusion
}

#[test]
fn two_arrays_triangulate_an_explosion_and_date_it_by_the_sound() {
    let event = pos(2_000.0, 3_000.0);
    let fusion = check(&[
        heard("array-w", "w1", pos(-10_000.0, 0.0), event, 1000.0, 0.8),
        heard("array-s", "s1", pos(0.0, -12_000.0), event, 1000.0, -0.5),
    ]);
    let [incident] = fusion.incidents.as_slice() else {
        panic!("one incident expected: {:#?}", fusion.incidents);
    };
    let (p, u) = incident.location.expect("a fix");
    let ellipse = incident.fix.as_deref().expect("an ellipse");
    let error = great_circle_distance_m(p, event);
    assert!(
        error < ellipse.semi_major_m && error < 600.0,
        "{error} m off, {ellipse:?}"
    );
    assert!(
        (u - ellipse.semi_major_m).abs() < 1e-6 * u + 1e-6,
        "{u} vs {ellipse:?}"
    );
    // The event time is the arrival minus the travel time, within the fix's error.
    let dt = (incident.first_at - at(1000.0)).num_milliseconds().abs();
    assert!(dt < 2000, "{dt} ms");
    // Two acoustic arrays are one discipline: not independent for grading.
    assert_eq!(incident.status, IncidentStatus::Reported);
    assert!(incident.sector.is_none());
}

#[test]
fn three_arrays_with_noise_and_a_ghost_from_another_time() {
    let event = pos(0.0, 0.0);
    let other = pos(6_000.0, 6_000.0);
    let fusion = check(&[
        heard("array-w", "w1", pos(-12_000.0, 2_000.0), event, 0.0, 1.2),
        heard("array-s", "s1", pos(1_000.0, -14_000.0), event, 0.0, -1.9),
        heard("array-e", "e1", pos(16_000.0, 1_000.0), event, 0.0, 0.7),
        // The same arrays hear another shot ten minutes later elsewhere.
        heard("array-w", "w2", pos(-12_000.0, 2_000.0), other, 600.0, 0.3),
        heard("array-s", "s2", pos(1_000.0, -14_000.0), other, 600.0, -0.4),
    ]);
    assert_eq!(fusion.incidents.len(), 2, "{:#?}", fusion.incidents);
    let first = &fusion.incidents[0];
    assert_eq!(first.members, vec![0, 1, 2]);
    let (p, _) = first.location.expect("a fix");
    assert!(great_circle_distance_m(p, event) < 700.0);
    assert_eq!(first.status, IncidentStatus::Reported);
    let (q, _) = fusion.incidents[1].location.expect("a fix");
    assert!(great_circle_distance_m(q, other) < 700.0);
}

#[test]
fn a_single_bearing_stays_a_bearing() {
    let fusion = check(&[bearing(
        "patrol",
        "heard-se",
        Kind::Explosion,
        0.0,
        pos(0.0, 0.0),
        135.0,
        10.0,
    )]);
    let [incident] = fusion.incidents.as_slice() else {
        panic!("one incident expected");
    };
    assert_eq!(incident.location, None);
    assert_eq!(incident.fix, None);
    assert_eq!(
        incident.sector.as_deref().map(|b| b.azimuth_deg),
        Some(135.0)
    );
    assert_eq!(incident.status, IncidentStatus::Reported);
}

#[test]
fn parallel_bearings_make_no_fix() {
    // Two arrays 3 km apart looking the same way see the same thing, somewhere: one
    // incident without a location, shown by its first sector.
    let fusion = check(&[
        bearing(
            "array-w",
            "a",
            Kind::Explosion,
            0.0,
            pos(0.0, 0.0),
            0.0,
            1.0,
        ),
        bearing(
            "array-s",
            "b",
            Kind::Explosion,
            0.0,
            pos(3000.0, 0.0),
            0.0,
            1.0,
        ),
        bearing(
            "array-e",
            "c",
            Kind::Explosion,
            0.0,
            pos(20_000.0, 0.0),
            0.0,
            1.0,
        ),
    ]);
    // Ids follow the earliest member: array-e sorts first.
    assert_eq!(fusion.incidents.len(), 2);
    assert_eq!(fusion.incidents[1].members, vec![0, 1]);
    assert!(
        fusion
            .incidents
            .iter()
            .all(|i| i.location.is_none() && i.fix.is_none() && i.sector.is_some())
    );
}

#[test]
fn a_bearing_joins_the_located_report_in_its_sector() {
    let event = pos(5_000.0, 5_000.0);
    let fusion = check(&[
        located("sat", "heat", Kind::ThermalAnomaly, 1200.0, event, 375.0),
        located(
            "sat",
            "elsewhere",
            Kind::ThermalAnomaly,
            1200.0,
            pos(-5_000.0, 5_000.0),
            375.0,
        ),
        heard("array-w", "w1", pos(0.0, 0.0), event, 1000.0, 1.0),
    ]);
    let joined = fusion
        .incidents
        .iter()
        .find(|i| i.members.contains(&2))
        .expect("placed");
    assert_eq!(joined.members, vec![0, 2]);
    assert_eq!(joined.status, IncidentStatus::Confirmed);
    // The location is the heat spot's, not moved by the bearing.
    let (p, _) = joined.location.expect("located");
    assert!(great_circle_distance_m(p, event) < 1.0);
}

#[test]
fn a_bearing_further_off_joins_a_report_only_when_heard_at_its_time() {
    // A UAV sees an explosion 10 km north of an array at t = 0; the array's bearing misses
    // it by 2.3σ (beyond the 2σ of a bearing alone, within the 3σ of a fix).
    let event = pos(0.0, 10_000.0);
    let scene = |sound_left_s: f64| {
        check(&[
            located("uav", "seen", Kind::Explosion, 0.0, event, 100.0),
            heard("array-w", "w1", pos(0.0, 0.0), event, sound_left_s, 4.0),
        ])
    };
    // The sound left 30 s after the UAV saw it: the same shot.
    let same_time = scene(30.0);
    assert_eq!(same_time.incidents.len(), 1);
    assert_eq!(same_time.incidents[0].members, vec![0, 1]);
    // Ten minutes later (within the explosion's window, not the shot's time): the bearing
    // stays a sector of its own.
    let later = scene(600.0);
    assert_eq!(later.incidents.len(), 2);
    let lone = later
        .incidents
        .iter()
        .find(|i| i.members == vec![1])
        .expect("the bearing alone");
    assert!(lone.location.is_none() && lone.sector.is_some());
    // Within 2σ it joins at either time.
    let near = check(&[
        located("uav", "seen", Kind::Explosion, 0.0, event, 100.0),
        heard("array-w", "w1", pos(0.0, 0.0), event, 600.0, 2.0),
    ]);
    assert_eq!(near.incidents.len(), 1);
}

#[test]
fn a_bearing_that_misses_its_incidents_location_leaves_it() {
    // A UAV sees an explosion 10 km north of an array; a party claims it ±3 km, 2 km east of
    // there. The array hears something 16.7° east of the UAV's point, which only the vague
    // claim's disc holds: it would join the claim, but the incident's location is the UAV's,
    // 10σ off its line. It stays a sector of its own.
    let seen = pos(0.0, 10_000.0);
    let fusion = check(&[
        located("uav", "seen", Kind::Explosion, 0.0, seen, 100.0),
        located(
            "party",
            "claim",
            Kind::Explosion,
            60.0,
            pos(2_000.0, 10_000.0),
            3_000.0,
        ),
        heard(
            "array-w",
            "w1",
            pos(0.0, 0.0),
            pos(3_000.0, 10_000.0),
            30.0,
            0.0,
        ),
    ]);
    let mut members: Vec<Vec<usize>> = fusion.incidents.iter().map(|i| i.members.clone()).collect();
    members.sort();
    assert_eq!(members, vec![vec![0, 1], vec![2]]);
    let lone = fusion
        .incidents
        .iter()
        .find(|i| i.members == vec![2])
        .expect("the bearing alone");
    assert!(lone.location.is_none() && lone.sector.is_some());
    // Heard from the UAV's point, it stays with the incident.
    let fusion = check(&[
        located("uav", "seen", Kind::Explosion, 0.0, seen, 100.0),
        located(
            "party",
            "claim",
            Kind::Explosion,
            60.0,
            pos(2_000.0, 10_000.0),
            3_000.0,
        ),
        heard("array-w", "w1", pos(0.0, 0.0), seen, 30.0, 0.5),
    ]);
    assert_eq!(fusion.incidents.len(), 1);
}

#[test]
fn a_bearing_that_leaves_its_incident_joins_the_one_whose_location_it_holds() {
    // A UAV sees a shelling 10 km north of an array, and a party claims it ±3 km. Another
    // shelling is seen 3 km east of there by a UAV and a satellite, 700 m apart across the
    // array's line of sight (one incident, its location between them). The array hears
    // that one (σ 0.4°): each of its reports lies 3.4σ off the line (their 100 m allowed
    // for), too far to join either, and the line first joins the vague claim, whose
    // incident's location, the first UAV's, it misses by 40σ. It leaves that incident and
    // joins the second, whose location, with the spread of its reports, lies on its line.
    let observer = pos(0.0, 0.0);
    let target = pos(3_000.0, 10_000.0);
    let across = |d: f64| pos(3_000.0 + 0.9578 * d, 10_000.0 - 0.2873 * d);
    let sound = |towards: LonLat| {
        bearing(
            "array-w",
            "w1",
            Kind::Explosion,
            great_circle_distance_m(observer, towards) / 340.0,
            observer,
            azimuth(observer, towards).rem_euclid(360.0),
            0.4,
        )
    };
    let scene = |heard: Observation| {
        vec![
            located(
                "uav",
                "first",
                Kind::Explosion,
                0.0,
                pos(0.0, 10_000.0),
                100.0,
            ),
            located(
                "party",
                "claim",
                Kind::Explosion,
                60.0,
                pos(500.0, 10_000.0),
                3_000.0,
            ),
            located("uav", "west", Kind::Explosion, 0.0, across(-350.0), 100.0),
            located("sat", "east", Kind::Explosion, 30.0, across(350.0), 100.0),
            heard,
        ]
    };
    let members = |fusion: &Fusion| {
        let mut m: Vec<Vec<usize>> = fusion.incidents.iter().map(|i| i.members.clone()).collect();
        m.sort();
        m
    };
    let fusion = check(&scene(sound(target)));
    assert_eq!(members(&fusion), vec![vec![0, 1], vec![2, 3, 4]]);
    // Heard from 5° west of the second shelling, it stays a sector of its own.
    let fusion = check(&scene(sound(pos(3_000.0 - 915.0, 10_000.0))));
    assert_eq!(members(&fusion), vec![vec![0, 1], vec![2, 3], vec![4]]);
}

#[test]
fn bearings_whose_lines_give_no_fix_but_whose_sectors_meet_are_one_incident() {
    // Two arrays 6 km apart, one behind the other, hear an explosion 12 km north of the
    // first, each 1° off (σ 1.5°): the lines cross behind the second array, so no fix, but
    // both sectors hold the event at a time consistent with the sound's travel. One incident,
    // without a location; heard 15 minutes apart, two.
    let event = pos(0.0, 12_000.0);
    let (south, north) = (pos(0.0, 0.0), pos(0.0, 6_000.0));
    let fusion = check(&[
        heard("array-s", "s1", south, event, 0.0, 1.0),
        heard("array-e", "n1", north, event, 0.0, -1.0),
    ]);
    assert_eq!(fusion.incidents.len(), 1, "{:?}", fusion.incidents);
    assert!(fusion.incidents[0].location.is_none() && fusion.incidents[0].sector.is_some());
    let fusion = check(&[
        heard("array-s", "s1", south, event, 0.0, 1.0),
        heard("array-e", "n1", north, event, 900.0, -1.0),
    ]);
    assert_eq!(fusion.incidents.len(), 2, "{:?}", fusion.incidents);
}

#[test]
fn a_fix_of_a_launch_and_an_impact_heard_is_compatible_with_what_either_is() {
    // Two arrays hear one strike; the first to hear it takes it for a launch. A party reports harm to
    // civilians there (±3 km): harm goes with an impact, not a launch, and the fix of both
    // bearings is either, so the claim joins it.
    let event = pos(0.0, 10_000.0);
    let mut launch = heard("array-w", "w1", pos(0.0, 0.0), event, 0.0, 0.5);
    launch.kind = Kind::OutgoingFire;
    let fusion = check(&[
        launch,
        heard("array-e", "e1", pos(10_000.0, 10_000.0), event, 5.0, -0.5),
        located(
            "party",
            "harm",
            Kind::CivilianHarm,
            120.0,
            pos(300.0, 10_000.0),
            3_000.0,
        ),
    ]);
    assert_eq!(fusion.incidents.len(), 1, "{:?}", fusion.incidents);
    assert!(fusion.incidents[0].fix.is_some());
}

#[test]
fn a_fix_links_along_its_ellipse_not_across_it() {
    // Two arrays 4 km apart hear an explosion 10 km north of them (σ 1.5°): their lines
    // cross at 22.6°, so the fix is long north–south (~2.4 km at 95%) and narrow east–west
    // (~0.5 km). A UAV sees an explosion ten minutes later (within an explosion's window)
    // east of the fix: 800 m east is within the ellipse's reach, 2.5 km east only within
    // the circle of its semi-major axis. The UAV's point lies more than 2σ off both lines,
    // so neither bearing joins it directly.
    let event = pos(0.0, 10_000.0);
    let arrays = [
        ("array-w", pos(-2_000.0, 0.0)),
        ("array-e", pos(2_000.0, 0.0)),
    ];
    let scene = |uav_east_m: f64| {
        let mut observations: Vec<Observation> = arrays
            .iter()
            .map(|&(source, observer)| heard(source, "shot", observer, event, 0.0, 0.0))
            .collect();
        observations.push(located(
            "uav",
            "seen",
            Kind::Explosion,
            600.0,
            pos(uav_east_m, 10_000.0),
            100.0,
        ));
        check(&observations)
    };
    let near = scene(800.0);
    let [incident] = near.incidents.as_slice() else {
        panic!("one incident expected: {:#?}", near.incidents);
    };
    let ellipse = incident.fix.as_deref().expect("the fix");
    assert!(
        ellipse.semi_major_m > 2_000.0 && ellipse.semi_minor_m < 600.0,
        "{ellipse:?}"
    );
    assert!(
        ellipse.orientation_deg < 1.0 || ellipse.orientation_deg > 179.0,
        "{ellipse:?}"
    );
    let far = scene(2_500.0);
    assert_eq!(far.incidents.len(), 2, "{:#?}", far.incidents);
    let fix = far
        .incidents
        .iter()
        .find(|i| i.members == vec![0, 1])
        .expect("the fix alone");
    assert!(fix.fix.is_some());
}

#[test]
fn an_array_hearing_the_same_place_again_is_the_same_exchange() {
    // Two arrays triangulate a shelling 10 km north of the first at t = 0. Twenty minutes
    // later (beyond the fix's window, within an explosion's window of the first bearing) the
    // first array alone hears it again, 0.3° from its first line: the same array hearing the
    // same place, one exchange. Heard 30° away, or forty minutes later, it stays apart.
    let event = pos(0.0, 10_000.0);
    let (west, east) = (pos(0.0, 0.0), pos(10_000.0, 10_000.0));
    let scene = |later: Observation| {
        check(&[
            heard("array-w", "w1", west, event, 0.0, 0.5),
            heard("array-e", "e1", east, event, 0.0, -0.5),
            later,
        ])
    };
    let again = scene(heard("array-w", "w2", west, event, 1200.0, 0.8));
    let [incident] = again.incidents.as_slice() else {
        panic!("one incident expected: {:#?}", again.incidents);
    };
    assert_eq!(incident.members, vec![0, 1, 2]);
    assert!(incident.fix.is_some());
    // The later bearing dates nothing earlier than the shot.
    let dt = (incident.first_at - at(0.0)).num_milliseconds().abs();
    assert!(dt < 2000, "{dt} ms");
    for later in [
        heard("array-w", "w2", west, pos(5_800.0, 10_000.0), 1200.0, 0.0),
        heard("array-w", "w2", west, event, 2400.0, 0.8),
    ] {
        let apart = scene(later);
        assert_eq!(apart.incidents.len(), 2, "{:#?}", apart.incidents);
        assert!(apart.incidents.iter().any(|i| i.members == vec![2]));
    }
}

#[test]
fn a_bearing_joined_to_a_heat_spot_leaves_an_incident_dated_at_another_time() {
    // An array hears an explosion 10 km north of it at t = 0. Three hours later a UAV sees an
    // explosion there, and ten minutes after that a satellite sees the heat of a fire 200 m
    // away: a heat spot's window reaches six hours back, so the bearing's sector and time fit
    // it, and the heat spot joins the UAV's incident. The UAV dates that incident three hours
    // after the sound: the bearing leaves it, a sector of its own. Without the UAV nothing
    // dates the heat spot's incident and the bearing stays with it.
    let event = pos(0.0, 10_000.0);
    let uav = located("uav", "seen", Kind::Explosion, 10_800.0, event, 100.0);
    let heat = located(
        "sat",
        "heat",
        Kind::ThermalAnomaly,
        11_400.0,
        pos(200.0, 10_000.0),
        375.0,
    );
    let sound = heard("array-w", "w1", pos(0.0, 0.0), event, 0.0, 0.5);
    let dated = check(&[uav, heat.clone(), sound.clone()]);
    let mut members: Vec<Vec<usize>> = dated.incidents.iter().map(|i| i.members.clone()).collect();
    members.sort();
    assert_eq!(members, vec![vec![0, 1], vec![2]], "{:#?}", dated.incidents);
    let undated = check(&[heat, sound]);
    assert_eq!(undated.incidents.len(), 1, "{:#?}", undated.incidents);
    assert_eq!(undated.incidents[0].members, vec![0, 1]);
}

#[test]
fn a_bearing_heard_again_by_its_array_stays_with_the_exchange_its_array_heard() {
    // Two arrays triangulate a shelling 10 km north of the first at t = 0; a satellite sees
    // the fire there two hours later. The first array hears the place again 25 and 50
    // minutes after the shot; both bearings fit the heat spot. The one at 50 minutes lies
    // beyond the fix's window, but its array heard the same place 25 minutes before, within
    // the incident: one exchange, one incident. Without the bearing at 25 minutes nothing
    // dates it and it is a sector of its own.
    let event = pos(0.0, 10_000.0);
    let (west, east) = (pos(0.0, 0.0), pos(10_000.0, 10_000.0));
    let observations = [
        heard("array-w", "w1", west, event, 0.0, 0.5),
        heard("array-e", "e1", east, event, 0.0, -0.5),
        located(
            "sat",
            "heat",
            Kind::ThermalAnomaly,
            7_200.0,
            pos(100.0, 10_000.0),
            375.0,
        ),
        heard("array-w", "w3", west, event, 3_000.0, 0.4),
        heard("array-w", "w2", west, event, 1_500.0, 0.3),
    ];
    let fusion = check(&observations);
    assert_eq!(fusion.incidents.len(), 1, "{:#?}", fusion.incidents);
    let fusion = check(&observations[..4]);
    let mut members: Vec<Vec<usize>> = fusion.incidents.iter().map(|i| i.members.clone()).collect();
    members.sort();
    assert_eq!(
        members,
        vec![vec![0, 1, 2], vec![3]],
        "{:#?}",
        fusion.incidents
    );
}
