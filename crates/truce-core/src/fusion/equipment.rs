//! Equipment accounting: sightings of one class in one incident are one group (the same
//! vehicles seen by several sources), counted once at its largest reported count; groups are
//! then summed per zone, party and class into a lower bound (the largest group: at least
//! those are there) and an upper bound (every distinct group: at most that many).
//!
//! Only `equipment_sighting` and `movement` reports carrying `equipment` count (a notice of a
//! movement is not a sighting; a launch is counted by the fire rules, not as presence).
//! Dismissed incidents do not count. Zone and party come from the configured assessor at the
//! incident's location; a party the reports assert (the most frequent, ties by name) takes
//! precedence over the territory's holder. Without an assessor the zone is `unassessed` and
//! the party, when no report asserts one, `unknown`.

use std::collections::BTreeMap;

use super::{EquipmentEstimate, FusedIncident, IncidentStatus};
use crate::observation::EquipmentClass;

/// One group: the sightings of one class in one incident.
#[derive(Clone, Debug, PartialEq)]
pub struct EquipmentGroup {
    /// Position of the incident in [`super::Fusion::incidents`].
    pub incident: usize,
    pub zone: String,
    pub party: String,
    pub class: EquipmentClass,
    /// The largest count reported by any member.
    pub count: u32,
    /// The members behind it, ascending.
    pub evidence: Vec<usize>,
}

/// The estimates of the groups whose incidents are not dismissed, sorted by (zone, party,
/// class).
pub fn estimates(groups: &[EquipmentGroup], incidents: &[FusedIncident]) -> Vec<EquipmentEstimate> {
    let mut by_key: BTreeMap<(&str, &str, EquipmentClass), EquipmentEstimate> = BTreeMap::new();
    for g in groups {
        if incidents
            .get(g.incident)
            .is_none_or(|i| i.status == IncidentStatus::Dismissed)
        {
            continue;
        }
        let e = by_key
            .entry((g.zone.as_str(), g.party.as_str(), g.class))
            .or_insert_with(|| EquipmentEstimate {
                zone: g.zone.clone(),
                party: g.party.clone(),
                class: g.class,
                lower: 0,
                upper: 0,
                evidence: Vec::new(),
            });
        e.lower = e.lower.max(g.count);
        e.upper = e.upper.saturating_add(g.count);
        e.evidence.extend_from_slice(&g.evidence);
    }
    by_key
        .into_values()
        .map(|mut e| {
            e.evidence.sort_unstable();
            e.evidence.dedup();
            e
        })
        .collect()
}
