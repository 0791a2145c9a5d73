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
    pub agreement_id: String,
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

/// Summarises `observations` (in file order) under `agreement`, assessing each located one
/// with `assess` (which must agree with [`Agreement::assess_exact`]).
pub fn summarise(
    agreement: &Agreement,
    observations: &[Observation],
    assess: impl Fn(LonLat) -> Assessment,
) -> ReplaySummary {
    let zone_slots = agreement.zones.len() + 1;
    let empty_day = || {
        vec![
            PartyCounts {
                by_zone: vec![0; zone_slots],
                incidents: 0
            };
            agreement.parties.len()
        ]
    };
    let slot = |zone: ZoneRef| match zone {
        ZoneRef::Band(i) => i,
        ZoneRef::Outside => zone_slots - 1,
    };
    let party_of = |side: PartySide| agreement.party_index(side);

    let mut counted: Vec<CountedObservation> = last_revisions(observations)
        .into_iter()
        .filter(|&i| agreement.is_in_force_at(observations[i].observed_at))
        .map(|i| CountedObservation {
            input_index: i,
            assessment: observations[i].position().map(&assess),
            incident_id: None,
        })
        .collect();

    let mut by_day: BTreeMap<NaiveDate, Vec<PartyCounts>> = BTreeMap::new();
    for c in &counted {
        let day = by_day
            .entry(observations[c.input_index].observed_at.date_naive())
            .or_insert_with(empty_day);
        if let Some(a) = c.assessment {
            day[party_of(a.side)].by_zone[slot(a.zone)] += 1;
        }
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
            let day = observations[rep.input_index].observed_at.date_naive();
            by_day.entry(day).or_insert_with(empty_day)[party_of(a.side)].incidents += 1;
        }
    }

    let mut totals = empty_day();
    for day in by_day.values() {
        for (total, party) in totals.iter_mut().zip(day) {
            for (t, n) in total.by_zone.iter_mut().zip(&party.by_zone) {
                *t += n;
            }
            total.incidents += party.incidents;
        }
    }

    ReplaySummary {
        agreement_id: agreement.id.clone(),
        observations_total: counted.len() as u64,
        by_day,
        totals,
        counted,
        incidents,
    }
}
