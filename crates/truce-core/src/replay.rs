//! The replay summary of `replay.md`: counts per day, party and zone, and incidents in the
//! first zone, each number traceable to the observations behind it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use crate::agreement::{Agreement, PartySide};
use crate::assess::{Assessment, ZoneRef};
use crate::incidents::{Incident, LinkPoint, link_incidents};
use crate::observation::{Observation, ObservationKey};
use truce_geo::LonLat;

/// Counts for one party: one per zone of the agreement, then `outside`, then incidents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartyCounts {
    /// Indexed like the agreement's zones; the last entry is `outside`.
    pub by_zone: Vec<u64>,
    pub incidents: u64,
}

/// One counted observation and what the replay concluded about it.
#[derive(Clone, Debug, PartialEq)]
pub struct CountedObservation {
    /// Index into the replay's input slice.
    pub input_index: usize,
    /// `None` for unlocated (bearing-only) observations.
    pub assessment: Option<Assessment>,
    /// 1-based incident id, when the observation took part in an incident.
    pub incident_id: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct ReplaySummary {
    pub observations_total: u64,
    /// Per UTC day, per party (indexed like the agreement's parties).
    pub by_day: BTreeMap<NaiveDate, Vec<PartyCounts>>,
    pub totals: Vec<PartyCounts>,
    /// Counted observations in input order.
    pub counted: Vec<CountedObservation>,
    /// Incidents in id order; members index into `counted`.
    pub incidents: Vec<Incident>,
}

/// Keeps, for each (`source`, `source_ref`), the last revision in input order; returns the
/// indices of the kept observations, ascending.
pub fn last_revisions(observations: &[Observation]) -> Vec<usize> {
    let mut last: HashMap<&ObservationKey, usize> = HashMap::with_capacity(observations.len());
    for (i, o) in observations.iter().enumerate() {
        last.insert(&o.key, i);
    }
    let mut kept: Vec<usize> = last.into_values().collect();
    kept.sort_unstable();
    kept
}

/// Summarises `observations` (in file order) under `agreement`. `assessments[i]` is the
/// assessment of `observations[i]` (`None` when unlocated), as [`Agreement::assess_exact`]
/// defines it.
pub fn summarise(
    agreement: &Agreement,
    observations: &[Observation],
    assessments: &[Option<Assessment>],
) -> ReplaySummary {
    let mut tally = Tally::new(agreement);
    let mut counted: Vec<CountedObservation> = last_revisions(observations)
        .into_iter()
        .filter(|&i| agreement.is_in_force_at(observations[i].observed_at))
        .map(|i| CountedObservation {
            input_index: i,
            assessment: assessments.get(i).copied().flatten(),
            incident_id: None,
        })
        .collect();
    for c in &counted {
        tally.add_observation(
            observations[c.input_index].observed_at.date_naive(),
            c.assessment,
        );
    }

    // Incidents: counted, located observations in the first zone.
    let in_first_zone: Vec<usize> = (0..counted.len())
        .filter(|&k| {
            counted[k]
                .assessment
                .is_some_and(|a| a.zone == ZoneRef::Band(0))
        })
        .collect();
    let link_points: Vec<LinkPoint> = in_first_zone
        .iter()
        .map(|&k| {
            let o = &observations[counted[k].input_index];
            LinkPoint {
                observed_at_s: o.observed_at.timestamp(),
                position: o.position().unwrap_or(LonLat::new(0.0, 0.0)),
            }
        })
        .collect();
    let mut incidents = link_incidents(&link_points, agreement.fusion);
    for (id0, incident) in incidents.iter_mut().enumerate() {
        for member in &mut incident.members {
            *member = in_first_zone[*member];
            counted[*member].incident_id = Some(id0 + 1);
        }
        incident.representative = in_first_zone[incident.representative];
        let rep = &counted[incident.representative];
        if let Some(a) = rep.assessment {
            tally.add_incident(
                observations[rep.input_index].observed_at.date_naive(),
                a.side,
            );
        }
    }

    let (by_day, totals) = tally.finish();
    ReplaySummary {
        observations_total: counted.len() as u64,
        by_day,
        totals,
        counted,
        incidents,
    }
}

/// Counts per UTC day, party and zone, as the summary reports them.
#[derive(Clone, Debug)]
pub struct Tally<'a> {
    agreement: &'a Agreement,
    by_day: BTreeMap<NaiveDate, Vec<PartyCounts>>,
}

impl<'a> Tally<'a> {
    pub fn new(agreement: &'a Agreement) -> Tally<'a> {
        Tally {
            agreement,
            by_day: BTreeMap::new(),
        }
    }

    fn day(&mut self, day: NaiveDate) -> &mut Vec<PartyCounts> {
        let slots = self.agreement.zones.len() + 1;
        let parties = self.agreement.parties.len();
        self.by_day.entry(day).or_insert_with(|| {
            vec![
                PartyCounts {
                    by_zone: vec![0; slots],
                    incidents: 0
                };
                parties
            ]
        })
    }

    /// Counts one observation of `day`; an unlocated one (`None`) only makes the day appear.
    pub fn add_observation(&mut self, day: NaiveDate, assessment: Option<Assessment>) {
        self.add_observations(day, assessment.map(|a| (a.side, a.zone)), 1);
    }

    /// Counts `n` observations of `day` with the same side and zone.
    pub fn add_observations(
        &mut self,
        day: NaiveDate,
        side_zone: Option<(PartySide, ZoneRef)>,
        n: u64,
    ) {
        let agreement = self.agreement;
        let counts = self.day(day);
        if let Some((side, zone)) = side_zone {
            let slot = match zone {
                ZoneRef::Band(i) => i,
                ZoneRef::Outside => agreement.zones.len(),
            };
            counts[agreement.party_index(side)].by_zone[slot] += n;
        }
    }

    pub fn add_incident(&mut self, day: NaiveDate, side: PartySide) {
        let party = self.agreement.party_index(side);
        self.day(day)[party].incidents += 1;
    }

    /// The per-day counts and their totals per party.
    pub fn finish(self) -> (BTreeMap<NaiveDate, Vec<PartyCounts>>, Vec<PartyCounts>) {
        let slots = self.agreement.zones.len() + 1;
        let mut totals = vec![
            PartyCounts {
                by_zone: vec![0; slots],
                incidents: 0
            };
            self.agreement.parties.len()
        ];
        for day in self.by_day.values() {
            for (total, party) in totals.iter_mut().zip(day) {
                for (t, n) in total.by_zone.iter_mut().zip(&party.by_zone) {
                    *t += n;
                }
                total.incidents += party.incidents;
            }
        }
        (self.by_day, totals)
    }
}
