//! Integration tests of `truce-sim` on the real sample agreement (`data/scenario-2025-09`):
//! the simulator is deterministic, its files parse with `truce-formats` without a single
//! diagnostic, its truth is consistent with its reports, and its sizes are what was asked.
//!
//! `simulated` is the one caller of the simulator; each test states what it checks of the
//! files it returns.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use truce_core::evaluation::{ScoredIncident, Truth, TruthEvent, evaluate};
use truce_core::fusion::{Discipline, IncidentStatus, Reliability};
use truce_core::{Agreement, Assessor, Kind, Observation, ObservationKey};
use truce_geo::great_circle_distance_m;

/// The sample agreement of the repository, parsed once.
fn agreement() -> &'static Agreement {
    static AGREEMENT: OnceLock<Agreement> = OnceLock::new();
    AGREEMENT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenario-2025-09");
        let bytes = std::fs::read(dir.join("agreement.toml")).expect("the sample agreement");
        truce_formats::agreement::parse_agreement("agreement.toml", &bytes, |name| {
            std::fs::read(dir.join(name)).map_err(|e| e.to_string())
        })
        .expect("the sample agreement parses")
    })
}

/// A simulated folder read back through the parsers, as `evaluate` reads it.
struct Folder {
    files: Vec<(String, Vec<u8>)>,
    observations: Vec<Observation>,
    truth: Truth,
    sources: truce_core::fusion::SourceRegistry,
}

fn simulated(seed: u64, days: u32, observations: usize) -> Folder {
    let config = truce_sim::Config {
        seed,
        days,
        observations,
    };
    let scenario = truce_sim::simulate(agreement(), &config).expect("simulates");
    let files = scenario.files().expect("writes");
    let file = |name: &str| -> &[u8] {
        &files
            .iter()
            .find(|(path, _)| path == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .1
    };
    let mut parsed = Vec::new();
    for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with("observations/")) {
        assert!(path.ends_with(".ndjson"), "{path}");
        let batch = truce_formats::parse_observations(path, bytes);
        let problems: Vec<String> = batch.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(problems, Vec::<String>::new(), "{path}");
        parsed.extend(batch.observations.into_iter().map(|p| p.observation));
    }
    let truth = truce_formats::truth::parse_truth(
        "truth/events.ndjson",
        file("truth/events.ndjson"),
        "truth/links.csv",
        file("truth/links.csv"),
    )
    .unwrap_or_else(|d| panic!("truth files: {d:?}"));
    let sources = truce_formats::sources::parse("sources.csv", file("sources.csv"));
    assert_eq!(sources.diagnostics, vec![], "sources.csv");
    Folder {
        files,
        observations: parsed,
        truth,
        sources: sources.registry,
    }
}

/// The month-long scenario of the evaluation (50,000 observations over 30 days), once.
fn full() -> &'static Folder {
    static FULL: OnceLock<Folder> = OnceLock::new();
    FULL.get_or_init(|| simulated(7, 30, 50_000))
}

fn small() -> &'static Folder {
    static SMALL: OnceLock<Folder> = OnceLock::new();
    SMALL.get_or_init(|| simulated(3, 4, 6_000))
}

#[test]
fn the_same_seed_gives_the_same_files_byte_for_byte() {
    let a = simulated(11, 3, 3_000);
    let b = simulated(11, 3, 3_000);
    assert!(a.files == b.files, "two runs with seed 11 differ");
    let c = simulated(12, 3, 3_000);
    assert!(a.files != c.files, "seeds 11 and 12 give the same scenario");
}

#[test]
fn the_folder_has_the_files_of_the_spec() {
    let names: Vec<&str> = small().files.iter().map(|(p, _)| p.as_str()).collect();
    assert!(names.contains(&"sources.csv"));
    assert!(names.contains(&"truth/events.ndjson"));
    assert!(names.contains(&"truth/links.csv"));
    // One observation file per UTC day: the 4 days, and the days before and after that a few
    // reports spill into (a patrol's clock, sound still travelling at midnight).
    let days = names
        .iter()
        .filter(|n| n.starts_with("observations/"))
        .count();
    assert!((4..=6).contains(&days), "{names:?}");
    let links = String::from_utf8_lossy(
        &small()
            .files
            .iter()
            .find(|(p, _)| p == "truth/links.csv")
            .expect("links")
            .1,
    )
    .into_owned();
    assert!(links.starts_with("source,source_ref,truth_id\n"));
}

#[test]
fn exactly_the_requested_number_of_observations() {
    assert_eq!(full().observations.len(), 50_000);
    assert_eq!(small().observations.len(), 6_000);
}

#[test]
fn keys_are_unique_and_every_report_is_linked_exactly_once() {
    for folder in [small(), full()] {
        let keys: HashSet<&ObservationKey> = folder.observations.iter().map(|o| &o.key).collect();
        assert_eq!(keys.len(), folder.observations.len(), "duplicate keys");
        let linked: HashSet<&ObservationKey> =
            folder.truth.links().iter().map(|l| &l.key).collect();
        assert_eq!(linked, keys, "links and observations differ");
    }
}

#[test]
fn event_counts_fit_a_high_intensity_front() {
    let f = full();
    let events = f.truth.events();
    let reported: HashSet<&str> = f
        .truth
        .links()
        .iter()
        .filter_map(|l| l.truth_id.as_deref())
        .collect();
    // Thousands of reported events over the month, a few hundred a day on ordinary days.
    assert!(
        (6_000..16_000).contains(&reported.len()),
        "{} reported events",
        reported.len()
    );
    let mut per_day: BTreeMap<String, usize> = BTreeMap::new();
    for e in events {
        *per_day
            .entry(e.started_at.format("%Y-%m-%d").to_string())
            .or_default() += 1;
    }
    assert_eq!(per_day.len(), 30, "{per_day:?}");
    let mut counts: Vec<usize> = per_day.values().copied().collect();
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    assert!(median >= 200, "median {median} events a day");
    // Quiet days: at least three with under a quarter of the median.
    let quiet = counts.iter().filter(|&&c| c * 4 < median).count();
    assert!(quiet >= 3, "{counts:?}");
    // Every kind the brief names is there.
    let kinds: HashSet<Kind> = events.iter().map(|e| e.kind).collect();
    for kind in [
        Kind::Explosion,
        Kind::OutgoingFire,
        Kind::SmallArmsFire,
        Kind::EquipmentSighting,
        Kind::Movement,
        Kind::MonitorRestriction,
        Kind::CivilianHarm,
        Kind::InfrastructureDamage,
    ] {
        assert!(kinds.contains(&kind), "no {kind:?}");
    }
}

fn event_by_id(truth: &Truth) -> HashMap<&str, &TruthEvent> {
    truth.events().iter().map(|e| (e.id.as_str(), e)).collect()
}

fn reports_by_event(folder: &Folder) -> BTreeMap<&str, Vec<&Observation>> {
    let by_key: HashMap<&ObservationKey, &Observation> =
        folder.observations.iter().map(|o| (&o.key, o)).collect();
    let mut map: BTreeMap<&str, Vec<&Observation>> = BTreeMap::new();
    for link in folder.truth.links() {
        if let Some(id) = &link.truth_id {
            map.entry(id).or_default().push(by_key[&link.key]);
        }
    }
    map
}

#[test]
fn most_events_have_several_reports_some_only_one_and_each_a_direct_one() {
    let f = full();
    let by_event = reports_by_event(f);
    let direct = |o: &Observation| f.sources.lookup(&o.key.source).reliability <= Reliability::C;
    let mut single = 0;
    for (id, reports) in &by_event {
        assert!(
            reports.iter().any(|o| direct(o)),
            "{id} is known only from claims and posts"
        );
        if reports.len() == 1 {
            single += 1;
        }
    }
    let several = by_event.len() - single;
    assert!(single > 0, "no event has a single report");
    assert!(
        several * 100 >= by_event.len() * 75,
        "{several} of {} events have several reports",
        by_event.len()
    );
}

#[test]
fn false_reports_come_from_claims_posts_and_heat_far_from_the_line() {
    let f = full();
    let assessor = Assessor::new(agreement());
    let by_key: HashMap<&ObservationKey, &Observation> =
        f.observations.iter().map(|o| (&o.key, o)).collect();
    let mut by_discipline: BTreeMap<Discipline, usize> = BTreeMap::new();
    for link in f.truth.links().iter().filter(|l| l.truth_id.is_none()) {
        let o = by_key[&link.key];
        let discipline = f.sources.lookup(&o.key.source).discipline;
        *by_discipline.entry(discipline).or_default() += 1;
        if discipline == Discipline::Satellite {
            assert_eq!(o.kind, Kind::ThermalAnomaly);
            let position = o.position().expect("heat is located");
            let distance_m = assessor.assess(position).distance_m;
            assert!(distance_m >= 59_000.0, "{:?} at {distance_m} m", o.key);
        }
    }
    let total: usize = by_discipline.values().sum();
    assert_eq!(
        by_discipline.keys().copied().collect::<Vec<_>>(),
        [Discipline::Satellite, Discipline::Party, Discipline::Osint],
        "{by_discipline:?}"
    );
    // A few percent of the reports: noise, not the bulk.
    assert!(
        (1_500..6_000).contains(&total),
        "{total} unrelated reports: {by_discipline:?}"
    );
}

#[test]
fn sensors_report_with_their_own_errors() {
    let f = full();
    let events = event_by_id(&f.truth);
    let by_event = reports_by_event(f);
    let mut checked = BTreeMap::<Discipline, usize>::new();
    for (id, reports) in &by_event {
        let e = events[id];
        for o in reports {
            let discipline = f.sources.lookup(&o.key.source).discipline;
            *checked.entry(discipline).or_default() += 1;
            match discipline {
                Discipline::Acoustic => {
                    // A bearing only, heard after the sound travelled from the event.
                    let b = o.bearing.expect("acoustic reports are bearings");
                    assert!(o.location.is_none());
                    assert!((2.0..=5.0).contains(&b.sigma_deg));
                    let travel_s = great_circle_distance_m(b.observer, e.location) / 340.0;
                    let heard = (o.observed_at - e.started_at).num_seconds() as f64;
                    let end = e.ended_at.unwrap_or(e.started_at);
                    let last = (end - e.started_at).num_seconds() as f64;
                    assert!(
                        heard >= travel_s - 2.0 && heard <= last + travel_s + 2.0,
                        "{:?}: heard {heard} s after the start, travel {travel_s} s",
                        o.key
                    );
                }
                Discipline::Satellite => {
                    let l = o.location.expect("located");
                    assert!((250.0..=1_300.0).contains(&l.uncertainty_m), "{l:?}");
                    assert!(o.observed_at >= e.started_at - chrono::Duration::minutes(10));
                }
                Discipline::Uav => {
                    let l = o.location.expect("located");
                    assert!(l.uncertainty_m <= 1_000.0);
                }
                Discipline::Patrol if o.location.is_some() => {
                    let l = o.location.expect("located");
                    assert!(l.uncertainty_m <= 5_000.0);
                }
                _ => {}
            }
            if let Some(l) = o.location {
                // 95% radii: allow the few percent beyond, never wildly.
                let error_m = great_circle_distance_m(l.position, e.location);
                assert!(
                    error_m <= 3.0 * l.uncertainty_m + 500.0,
                    "{:?} is {error_m} m from {id}, uncertainty {}",
                    o.key,
                    l.uncertainty_m
                );
            }
        }
    }
    for discipline in [
        Discipline::Acoustic,
        Discipline::Satellite,
        Discipline::Patrol,
        Discipline::Uav,
        Discipline::Party,
        Discipline::Osint,
    ] {
        assert!(
            checked.get(&discipline).copied().unwrap_or(0) > 100,
            "{checked:?}"
        );
    }
}

#[test]
fn located_errors_mostly_stay_within_the_stated_uncertainty() {
    let f = full();
    let events = event_by_id(&f.truth);
    let (mut within, mut total) = (0, 0);
    for (id, reports) in reports_by_event(f) {
        for o in reports {
            if let Some(l) = o.location {
                total += 1;
                if great_circle_distance_m(l.position, events[id].location) <= l.uncertainty_m {
                    within += 1;
                }
            }
        }
    }
    let share = within as f64 / total as f64;
    assert!(
        (0.9..=1.0).contains(&share),
        "{share} within the 95% radius"
    );
}

/// An oracle fusion that groups reports exactly as the truth does (noise dismissed, one by
/// one) must score perfectly: the truth and the scoring agree.
#[test]
fn the_truth_itself_scores_perfectly() {
    let f = small();
    let by_key: HashMap<&ObservationKey, &Observation> =
        f.observations.iter().map(|o| (&o.key, o)).collect();
    let events = event_by_id(&f.truth);
    let mut incidents: Vec<ScoredIncident> = Vec::new();
    for (id, reports) in reports_by_event(f) {
        incidents.push(ScoredIncident {
            members: reports.iter().map(|o| o.key.clone()).collect(),
            status: IncidentStatus::Corroborated,
            location: Some(events[id].location),
            first_at: events[id].started_at,
            bearings_only: false,
        });
    }
    for link in f.truth.links().iter().filter(|l| l.truth_id.is_none()) {
        incidents.push(ScoredIncident {
            members: vec![link.key.clone()],
            status: IncidentStatus::Dismissed,
            location: by_key[&link.key].position(),
            first_at: by_key[&link.key].observed_at,
            bearings_only: false,
        });
    }
    let e = evaluate(&incidents, &f.truth);
    assert_eq!(
        (
            e.precision,
            e.recall,
            e.double_counting,
            e.wrongly_dismissed
        ),
        (Some(1.0), Some(1.0), Some(0.0), 0)
    );
    assert_eq!(e.location_error_m.map(|s| s.max), Some(0.0));
    assert_eq!(e.links_not_in_incidents, 0);
}

#[test]
fn refuses_sizes_out_of_range() {
    let config = |days, observations| truce_sim::Config {
        seed: 1,
        days,
        observations,
    };
    assert_eq!(
        truce_sim::simulate(agreement(), &config(0, 100)).err(),
        Some(truce_sim::SimError::InvalidConfig(
            "days must be 1–366, not 0".into()
        ))
    );
    assert_eq!(
        truce_sim::simulate(agreement(), &config(3, 0)).err(),
        Some(truce_sim::SimError::InvalidConfig(
            "observations must be 1–20,000,000, not 0".into()
        ))
    );
}
