//! Scoring fused incidents against ground truth, exactly as `shared/spec/evaluation.md` defines.
//!
//! The truth of a scenario is a list of events (what really happened) and links (which report
//! is about which event; a report linked to nothing is noise or a false claim). An incident
//! *matches* event T when more than half of its members link to T. Dismissed incidents take no
//! part in precision, recall or double counting; they are counted apart, with how many of them
//! match an event (wrongly dismissed).
//!
//! Pure: the incidents come in as member keys, status, location and first time, so anything
//! that produces incidents (the fusion engine, a hand-made list, another system's export) can
//! be scored the same way.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use truce_geo::{LonLat, great_circle_distance_m};

use crate::fusion::IncidentStatus;
use crate::observation::{Equipment, Kind, ObservationKey};

/// One ground-truth event (a line of `truth/events.ndjson`).
#[derive(Clone, Debug, PartialEq)]
pub struct TruthEvent {
    pub id: String,
    pub kind: Kind,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub location: LonLat,
    /// The party that carried it out, when known.
    pub party: Option<String>,
    pub equipment: Option<Equipment>,
}

/// One row of `truth/links.csv`: the report `key` is about event `truth_id`, or about no event
/// at all (`None`: noise, a field fire, a false claim).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruthLink {
    pub key: ObservationKey,
    pub truth_id: Option<String>,
}

/// Why events and links do not make a consistent truth. Indices are positions in the lists
/// given to [`Truth::new`], so a parser can name the line at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TruthError {
    #[error("event id `{id}` is used by an earlier event")]
    DuplicateEventId { index: usize, id: String },
    #[error("report ({}, {}) is linked by an earlier row", .key.source, .key.source_ref)]
    DuplicateLink { index: usize, key: ObservationKey },
    #[error("truth_id `{truth_id}` names no event")]
    UnknownTruthId { index: usize, truth_id: String },
}

/// A consistent truth: event ids unique, each report linked at most once, every `truth_id`
/// naming an event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Truth {
    events: Vec<TruthEvent>,
    links: Vec<TruthLink>,
}

impl Truth {
    /// Checks the invariants; the first violation found (in list order) is the error.
    pub fn new(events: Vec<TruthEvent>, links: Vec<TruthLink>) -> Result<Truth, TruthError> {
        let mut ids: HashMap<&str, usize> = HashMap::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            if ids.insert(event.id.as_str(), index).is_some() {
                return Err(TruthError::DuplicateEventId {
                    index,
                    id: event.id.clone(),
                });
            }
        }
        let mut keys: HashMap<&ObservationKey, usize> = HashMap::with_capacity(links.len());
        for (index, link) in links.iter().enumerate() {
            if keys.insert(&link.key, index).is_some() {
                return Err(TruthError::DuplicateLink {
                    index,
                    key: link.key.clone(),
                });
            }
            if let Some(id) = &link.truth_id
                && !ids.contains_key(id.as_str())
            {
                return Err(TruthError::UnknownTruthId {
                    index,
                    truth_id: id.clone(),
                });
            }
        }
        Ok(Truth { events, links })
    }

    pub fn events(&self) -> &[TruthEvent] {
        &self.events
    }

    pub fn links(&self) -> &[TruthLink] {
        &self.links
    }
}

/// What scoring needs of one incident.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredIncident {
    pub members: Vec<ObservationKey>,
    pub status: IncidentStatus,
    /// The incident's best position; `None` for one known only by a single bearing.
    pub location: Option<LonLat>,
    pub first_at: DateTime<Utc>,
    /// True when every member is a direction-only report (a bearing without a location):
    /// its location, if any, is a bearing fix, and its errors are reported apart.
    pub bearings_only: bool,
}

/// Which errors a matching incident contributes to: those of its event's kind, or — when all
/// its members are bearings — the bearing-only group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorGroup {
    EventKind(Kind),
    BearingsOnly,
}

impl ErrorGroup {
    /// `explosion`, …, or `bearings_only`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorGroup::EventKind(kind) => kind.as_str(),
            ErrorGroup::BearingsOnly => "bearings_only",
        }
    }
}

/// Median, 90th percentile and maximum of a set of non-negative errors, by the nearest-rank
/// definition: the p-th percentile of n sorted values is the value at rank ⌈p·n/100⌉ (1-based),
/// so every statistic is one of the values (the median of two values is the smaller).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorStats {
    pub count: usize,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
}

impl ErrorStats {
    /// `None` for no values.
    pub fn of(mut values: Vec<f64>) -> Option<ErrorStats> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let rank = |percent: usize| values[(percent * n).div_ceil(100).max(1) - 1];
        Some(ErrorStats {
            count: n,
            median: rank(50),
            p90: rank(90),
            max: values[n - 1],
        })
    }
}

/// Location and time errors of the matching incidents of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupErrors {
    pub group: ErrorGroup,
    /// Matching (not dismissed) incidents in the group.
    pub matching: usize,
    /// Great-circle metres from the incident's location to its event's, over those that have
    /// a location.
    pub location_error_m: Option<ErrorStats>,
    /// Matching incidents without a location (single bearings).
    pub without_location: usize,
    /// |`first_at` − `started_at`| in seconds.
    pub time_error_s: Option<ErrorStats>,
}

/// The scores of `evaluation.md` and the counts behind them. A ratio is `None` when its
/// denominator is zero.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub incidents: usize,
    pub dismissed: usize,
    /// Dismissed incidents that match an event.
    pub wrongly_dismissed: usize,
    /// Incidents not dismissed: the denominator of precision.
    pub not_dismissed: usize,
    /// Incidents not dismissed that match an event.
    pub matching: usize,
    pub precision: Option<f64>,
    pub events: usize,
    /// Events that at least one report links to: the denominator of recall.
    pub events_reported: usize,
    /// Events matched by at least one incident not dismissed.
    pub events_matched: usize,
    pub recall: Option<f64>,
    /// Matching incidents beyond the first for the same event.
    pub duplicates: usize,
    /// `duplicates / matching`.
    pub double_counting: Option<f64>,
    /// Per group, in order: event kinds in vocabulary order, then bearings only. Groups with
    /// no matching incident are left out.
    pub errors: Vec<GroupErrors>,
    /// Location error over every matching incident with a location, bearing-only ones apart.
    pub location_error_m: Option<ErrorStats>,
    /// Time error over every matching incident, bearing-only ones apart.
    pub time_error_s: Option<ErrorStats>,
    /// Linked reports that are a member of no incident (a fusion must place every report).
    pub links_not_in_incidents: usize,
    /// Incident members that `links.csv` does not list (they count as linked to nothing).
    pub members_not_linked: usize,
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Scores `incidents` against `truth`.
pub fn evaluate(incidents: &[ScoredIncident], truth: &Truth) -> Evaluation {
    let event_index: HashMap<&str, usize> = truth
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    // Report → event index (`None`: linked to no event).
    let link_of: HashMap<&ObservationKey, Option<usize>> = truth
        .links
        .iter()
        .map(|l| {
            let event = l
                .truth_id
                .as_deref()
                .and_then(|id| event_index.get(id).copied());
            (&l.key, event)
        })
        .collect();

    let mut reported = vec![false; truth.events.len()];
    for event in link_of.values().flatten() {
        reported[*event] = true;
    }

    let mut dismissed = 0;
    let mut wrongly_dismissed = 0;
    let mut matching = 0;
    let mut matches_per_event = vec![0usize; truth.events.len()];
    let mut members_not_linked = 0;
    let mut in_incident: HashSet<&ObservationKey> = HashSet::new();
    let mut location_errors: BTreeMap<ErrorGroup, Vec<f64>> = BTreeMap::new();
    let mut time_errors: BTreeMap<ErrorGroup, Vec<f64>> = BTreeMap::new();
    let mut matching_per_group: BTreeMap<ErrorGroup, usize> = BTreeMap::new();
    let mut without_location: BTreeMap<ErrorGroup, usize> = BTreeMap::new();

    for incident in incidents {
        let mut votes: BTreeMap<usize, usize> = BTreeMap::new();
        for key in &incident.members {
            in_incident.insert(key);
            match link_of.get(key) {
                Some(Some(event)) => *votes.entry(*event).or_default() += 1,
                Some(None) => {}
                None => members_not_linked += 1,
            }
        }
        let matched = votes
            .into_iter()
            .find(|&(_, count)| 2 * count > incident.members.len())
            .map(|(event, _)| event);

        if incident.status == IncidentStatus::Dismissed {
            dismissed += 1;
            if matched.is_some() {
                wrongly_dismissed += 1;
            }
            continue;
        }
        let Some(event) = matched else { continue };
        matching += 1;
        matches_per_event[event] += 1;

        let truth_event = &truth.events[event];
        let group = if incident.bearings_only {
            ErrorGroup::BearingsOnly
        } else {
            ErrorGroup::EventKind(truth_event.kind)
        };
        *matching_per_group.entry(group).or_default() += 1;
        match incident.location {
            Some(position) => location_errors
                .entry(group)
                .or_default()
                .push(great_circle_distance_m(position, truth_event.location)),
            None => *without_location.entry(group).or_default() += 1,
        }
        let time_error_s = (incident.first_at - truth_event.started_at)
            .num_milliseconds()
            .unsigned_abs() as f64
            / 1000.0;
        time_errors.entry(group).or_default().push(time_error_s);
    }

    let events_reported = reported.iter().filter(|&&r| r).count();
    let events_matched = matches_per_event.iter().filter(|&&m| m > 0).count();
    let duplicates: usize = matches_per_event.iter().map(|&m| m.saturating_sub(1)).sum();
    let not_dismissed = incidents.len() - dismissed;

    let overall = |errors: &BTreeMap<ErrorGroup, Vec<f64>>| {
        ErrorStats::of(
            errors
                .iter()
                .filter(|(group, _)| **group != ErrorGroup::BearingsOnly)
                .flat_map(|(_, values)| values.iter().copied())
                .collect(),
        )
    };
    let location_error_m = overall(&location_errors);
    let time_error_s = overall(&time_errors);
    let errors = matching_per_group
        .iter()
        .map(|(&group, &count)| GroupErrors {
            group,
            matching: count,
            location_error_m: ErrorStats::of(location_errors.remove(&group).unwrap_or_default()),
            without_location: without_location.get(&group).copied().unwrap_or(0),
            time_error_s: ErrorStats::of(time_errors.remove(&group).unwrap_or_default()),
        })
        .collect();

    Evaluation {
        incidents: incidents.len(),
        dismissed,
        wrongly_dismissed,
        not_dismissed,
        matching,
        precision: ratio(matching, not_dismissed),
        events: truth.events.len(),
        events_reported,
        events_matched,
        recall: ratio(events_matched, events_reported),
        duplicates,
        double_counting: ratio(duplicates, matching),
        errors,
        location_error_m,
        time_error_s,
        links_not_in_incidents: truth
            .links
            .iter()
            .filter(|l| !in_incident.contains(&l.key))
            .count(),
        members_not_linked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 9, 7, 8, minute, 0)
            .single()
            .expect("valid time")
    }

    fn key(name: &str) -> ObservationKey {
        let (source, source_ref) = name.split_once('/').unwrap_or((name, "1"));
        ObservationKey {
            source: source.to_owned(),
            source_ref: source_ref.to_owned(),
        }
    }

    fn event(id: &str, kind: Kind, lon: f64, lat: f64, minute: u32) -> TruthEvent {
        TruthEvent {
            id: id.to_owned(),
            kind,
            started_at: at(minute),
            ended_at: None,
            location: LonLat::new(lon, lat),
            party: None,
            equipment: None,
        }
    }

    /// `links` as "source/ref=T1" or "source/ref=" (linked to nothing).
    fn truth(events: Vec<TruthEvent>, links: &[&str]) -> Truth {
        let links = links
            .iter()
            .map(|l| {
                let (k, id) = l.split_once('=').unwrap_or((l, ""));
                TruthLink {
                    key: key(k),
                    truth_id: (!id.is_empty()).then(|| id.to_owned()),
                }
            })
            .collect();
        Truth::new(events, links).expect("consistent truth")
    }

    fn incident(members: &[&str], status: IncidentStatus, minute: u32) -> ScoredIncident {
        ScoredIncident {
            members: members.iter().map(|m| key(m)).collect(),
            status,
            location: Some(LonLat::new(37.5, 48.1)),
            first_at: at(minute),
            bearings_only: false,
        }
    }

    /// The one caller of `evaluate` in these tests: (precision, recall, double counting,
    /// dismissed, wrongly dismissed).
    fn check(
        incidents: &[ScoredIncident],
        truth: &Truth,
        expected: (Option<f64>, Option<f64>, Option<f64>, usize, usize),
    ) -> Evaluation {
        let e = evaluate(incidents, truth);
        assert_eq!(
            (
                e.precision,
                e.recall,
                e.double_counting,
                e.dismissed,
                e.wrongly_dismissed
            ),
            expected,
            "{e:#?}"
        );
        e
    }

    fn two_events() -> Vec<TruthEvent> {
        vec![
            event("T1", Kind::Explosion, 37.5, 48.1, 0),
            event("T2", Kind::EquipmentSighting, 37.6, 48.2, 30),
        ]
    }

    #[test]
    fn perfect_incidents_score_one() {
        let t = truth(two_events(), &["a/1=T1", "b/1=T1", "c/1=T2"]);
        let e = check(
            &[
                incident(&["a/1", "b/1"], IncidentStatus::Corroborated, 0),
                incident(&["c/1"], IncidentStatus::Reported, 30),
            ],
            &t,
            (Some(1.0), Some(1.0), Some(0.0), 0, 0),
        );
        assert_eq!((e.matching, e.events_reported, e.events_matched), (2, 2, 2));
    }

    #[test]
    fn half_is_not_more_than_half() {
        // Two of four members link to T1: not a majority, so no match.
        let t = truth(two_events(), &["a/1=T1", "b/1=T1", "c/1=T2", "d/1="]);
        check(
            &[incident(
                &["a/1", "b/1", "c/1", "d/1"],
                IncidentStatus::Confirmed,
                0,
            )],
            &t,
            (Some(0.0), Some(0.0), None, 0, 0),
        );
        // Three of five is.
        let t = truth(
            two_events(),
            &["a/1=T1", "b/1=T1", "e/1=T1", "c/1=T2", "d/1="],
        );
        check(
            &[incident(
                &["a/1", "b/1", "e/1", "c/1", "d/1"],
                IncidentStatus::Confirmed,
                0,
            )],
            &t,
            (Some(1.0), Some(0.5), Some(0.0), 0, 0),
        );
    }

    #[test]
    fn members_missing_from_links_count_as_linked_to_nothing() {
        let t = truth(two_events(), &["a/1=T1"]);
        let e = check(
            &[incident(&["a/1", "x/1"], IncidentStatus::Reported, 0)],
            &t,
            (Some(0.0), Some(0.0), None, 0, 0),
        );
        assert_eq!(e.members_not_linked, 1);
    }

    #[test]
    fn a_second_incident_for_the_same_event_is_double_counting() {
        let t = truth(two_events(), &["a/1=T1", "b/1=T1", "c/1=T1", "d/1=T2"]);
        let e = check(
            &[
                incident(&["a/1"], IncidentStatus::Reported, 0),
                incident(&["b/1"], IncidentStatus::Reported, 0),
                incident(&["c/1"], IncidentStatus::Reported, 0),
                incident(&["d/1"], IncidentStatus::Reported, 30),
            ],
            &t,
            (Some(1.0), Some(1.0), Some(0.5), 0, 0),
        );
        assert_eq!((e.matching, e.duplicates), (4, 2));
    }

    #[test]
    fn recall_counts_only_events_some_report_links_to() {
        // T2 has no report: it is not in the denominator. T3 is linked but not matched.
        let mut events = two_events();
        events.push(event("T3", Kind::SmallArmsFire, 37.7, 48.3, 40));
        let t = truth(events, &["a/1=T1", "b/1=T3"]);
        let e = check(
            &[
                incident(&["a/1"], IncidentStatus::Reported, 0),
                incident(&["b/1"], IncidentStatus::Dismissed, 40),
            ],
            &t,
            (Some(1.0), Some(0.5), Some(0.0), 1, 1),
        );
        assert_eq!((e.events, e.events_reported, e.events_matched), (3, 2, 1));
    }

    #[test]
    fn dismissed_incidents_take_no_part_in_the_scores() {
        // A dismissed field fire (noise) and a dismissed real event: precision is over the one
        // incident left, recall loses T2, and only the second dismissal is wrong.
        let t = truth(two_events(), &["a/1=T1", "f/1=", "f/2=", "c/1=T2"]);
        let e = check(
            &[
                incident(&["a/1"], IncidentStatus::Confirmed, 0),
                incident(&["f/1", "f/2"], IncidentStatus::Dismissed, 0),
                incident(&["c/1"], IncidentStatus::Dismissed, 30),
            ],
            &t,
            (Some(1.0), Some(0.5), Some(0.0), 2, 1),
        );
        assert_eq!((e.not_dismissed, e.matching), (1, 1));
        // A dismissed incident matching an already matched event is no duplicate either.
        let t = truth(two_events(), &["a/1=T1", "b/1=T1"]);
        check(
            &[
                incident(&["a/1"], IncidentStatus::Reported, 0),
                incident(&["b/1"], IncidentStatus::Dismissed, 0),
            ],
            &t,
            (Some(1.0), Some(1.0), Some(0.0), 1, 1),
        );
    }

    #[test]
    fn unmatched_noise_lowers_precision() {
        let t = truth(two_events(), &["a/1=T1", "n/1=", "n/2="]);
        check(
            &[
                incident(&["a/1"], IncidentStatus::Reported, 0),
                incident(&["n/1"], IncidentStatus::Reported, 0),
                incident(&["n/2"], IncidentStatus::Reported, 0),
                incident(&["a/1", "n/1", "n/2"], IncidentStatus::Reported, 0),
            ],
            &t,
            (Some(0.25), Some(1.0), Some(0.0), 0, 0),
        );
    }

    #[test]
    fn no_incidents_and_no_truth_give_no_ratios() {
        check(&[], &Truth::default(), (None, None, None, 0, 0));
    }

    #[test]
    fn errors_by_event_kind_with_bearings_apart() {
        let t = truth(
            two_events(),
            &["a/1=T1", "b/1=T1", "s/1=T1", "c/1=T2", "c/2=T2"],
        );
        let one_km_north = LonLat::new(37.5, 48.1 + 1000.0 / 111_195.08);
        let incidents = [
            ScoredIncident {
                location: Some(one_km_north),
                ..incident(&["a/1"], IncidentStatus::Reported, 2)
            },
            ScoredIncident {
                location: None,
                bearings_only: true,
                ..incident(&["b/1"], IncidentStatus::Reported, 1)
            },
            ScoredIncident {
                bearings_only: true,
                ..incident(&["s/1"], IncidentStatus::Reported, 0)
            },
            ScoredIncident {
                location: Some(LonLat::new(37.6, 48.2)),
                ..incident(&["c/1", "c/2"], IncidentStatus::Reported, 25)
            },
        ];
        let e = evaluate(&incidents, &t);
        type Row<'a> = (&'a str, usize, usize, Option<f64>, Option<f64>);
        let groups: Vec<Row> = e
            .errors
            .iter()
            .map(|g| {
                (
                    g.group.name(),
                    g.matching,
                    g.without_location,
                    g.location_error_m.map(|s| s.max.round()),
                    g.time_error_s.map(|s| s.max),
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("explosion", 1, 0, Some(1000.0), Some(120.0)),
                ("equipment_sighting", 1, 0, Some(0.0), Some(300.0)),
                ("bearings_only", 2, 1, Some(0.0), Some(60.0)),
            ]
        );
        // The overall statistics leave bearing-only incidents out.
        assert_eq!(e.location_error_m.map(|s| s.count), Some(2));
        assert_eq!(
            e.time_error_s.map(|s| (s.count, s.median)),
            Some((2, 120.0))
        );
        assert_eq!(e.double_counting, Some(0.5));
    }

    #[test]
    fn nearest_rank_statistics() {
        assert_eq!(ErrorStats::of(vec![]), None);
        let s = ErrorStats::of(vec![4.0, 1.0, 3.0, 2.0]).expect("values");
        assert_eq!((s.count, s.median, s.p90, s.max), (4, 2.0, 4.0, 4.0));
        let s = ErrorStats::of((1..=10).map(f64::from).collect()).expect("values");
        assert_eq!((s.median, s.p90, s.max), (5.0, 9.0, 10.0));
        let s = ErrorStats::of(vec![7.0]).expect("values");
        assert_eq!((s.median, s.p90, s.max), (7.0, 7.0, 7.0));
    }

    #[test]
    fn inconsistent_truth_is_refused() {
        let link = |k: &str, id: Option<&str>| TruthLink {
            key: key(k),
            truth_id: id.map(str::to_owned),
        };
        let mut events = two_events();
        events.push(event("T1", Kind::Explosion, 0.0, 0.0, 0));
        assert_eq!(
            Truth::new(events, vec![]),
            Err(TruthError::DuplicateEventId {
                index: 2,
                id: "T1".into()
            })
        );
        assert_eq!(
            Truth::new(
                two_events(),
                vec![link("a/1", Some("T1")), link("a/1", None)]
            ),
            Err(TruthError::DuplicateLink {
                index: 1,
                key: key("a/1")
            })
        );
        assert_eq!(
            Truth::new(two_events(), vec![link("a/1", Some("T9"))]),
            Err(TruthError::UnknownTruthId {
                index: 0,
                truth_id: "T9".into()
            })
        );
    }
}
