//! Fusion: from many reports to graded incidents (issue: fusion and verification).
//!
//! Every observation ends up in exactly one [`FusedIncident`] (dismissed ones included), so
//! nothing a source reported silently disappears. The partition does not depend on the order
//! observations arrive in. Pure: no IO, no clock.
//!
//! The public types below are the contract between the fusion engine and its users (the
//! `incidents` export, `evaluate`, later the server).

use chrono::{DateTime, Utc};
use truce_geo::LonLat;

use crate::observation::{EquipmentClass, Kind, Observation};

/// Admiralty source reliability, `A` (completely reliable) … `F` (cannot be judged).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reliability {
    A,
    B,
    C,
    D,
    E,
    F,
}

/// How a source collects what it reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Discipline {
    Satellite,
    Uav,
    Camera,
    Acoustic,
    Patrol,
    ObservationPost,
    Party,
    Osint,
    Other,
}

/// What the registry says about one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    pub reliability: Reliability,
    pub discipline: Discipline,
}

impl SourceInfo {
    /// An unregistered source: reliability cannot be judged.
    pub const UNREGISTERED: SourceInfo = SourceInfo {
        reliability: Reliability::F,
        discipline: Discipline::Other,
    };
}

/// Sources and their grades (`sources.csv` of `observation.md`): exact names, or prefixes
/// ending in `*`; the longest match wins; anything unmatched is [`SourceInfo::UNREGISTERED`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceRegistry {
    /// (pattern, info); a pattern ending in `*` is a prefix.
    pub entries: Vec<(String, SourceInfo)>,
}

impl SourceRegistry {
    pub fn lookup(&self, source: &str) -> SourceInfo {
        let mut best: Option<(usize, SourceInfo)> = None;
        for (pattern, info) in &self.entries {
            let matched_len = match pattern.strip_suffix('*') {
                Some(prefix) if source.starts_with(prefix) => Some(prefix.len()),
                None if pattern == source => Some(usize::MAX),
                _ => None,
            };
            if let Some(len) = matched_len
                && best.is_none_or(|(l, _)| len > l)
            {
                best = Some((len, *info));
            }
        }
        best.map_or(SourceInfo::UNREGISTERED, |(_, info)| info)
    }
}

/// How sure the mechanism is that an incident happened as reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IncidentStatus {
    /// One source, unconfirmed.
    Reported,
    /// At least two independent sources (different source and different discipline).
    Corroborated,
    /// A direct observation by an A/B source, or three independent sources.
    Confirmed,
    /// Judged not an event of interest (e.g. a field fire far from any activity, a claim
    /// contradicted by better sources); kept with its reason, never deleted.
    Dismissed,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Reported => "reported",
            IncidentStatus::Corroborated => "corroborated",
            IncidentStatus::Confirmed => "confirmed",
            IncidentStatus::Dismissed => "dismissed",
        }
    }
}

/// One incident: the observations it groups and what fusion concluded.
#[derive(Clone, Debug, PartialEq)]
pub struct FusedIncident {
    /// Stable for the same input: derived from the incident's earliest member.
    pub id: String,
    pub status: IncidentStatus,
    /// 0..=1.
    pub confidence: f64,
    /// Why the status and confidence are what they are, one reason a line.
    pub reasons: Vec<String>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Best estimate of where it happened and its ~95% radius in metres; `None` for an
    /// incident known only by a single bearing.
    pub location: Option<(LonLat, f64)>,
    /// The distinct kinds of its members, sorted.
    pub kinds: Vec<Kind>,
    /// Indices into the input slice of observations, ascending.
    pub members: Vec<usize>,
}

/// A running estimate of how many of one equipment class are present in a zone for a party.
#[derive(Clone, Debug, PartialEq)]
pub struct EquipmentEstimate {
    pub zone: String,
    pub party: String,
    pub class: EquipmentClass,
    /// At least this many are there (the largest single group seen).
    pub lower: u32,
    /// At most this many (the sum over distinct groups).
    pub upper: u32,
    /// Indices of the sightings behind the estimate.
    pub evidence: Vec<usize>,
}

/// The result of fusing a set of observations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fusion {
    /// Every input observation is a member of exactly one incident.
    pub incidents: Vec<FusedIncident>,
    pub equipment: Vec<EquipmentEstimate>,
}

/// Fuses `observations` (any order) into incidents graded with `sources`.
pub fn fuse(_observations: &[Observation], _sources: &SourceRegistry) -> Fusion {
    Fusion::default()
}
