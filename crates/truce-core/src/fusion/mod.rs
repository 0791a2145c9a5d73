//! Fusion: from many reports to graded incidents (issue: fusion and verification).
//!
//! Every observation ends up in exactly one [`FusedIncident`] (dismissed ones included), so
//! nothing a source reported silently disappears. The partition does not depend on the order
//! observations arrive in. Pure: no IO, no clock.
//!
//! The public types below are the contract between the fusion engine and its users (the
//! `incidents` export, `evaluate`, later the server). How the engine links, triangulates,
//! grades and dismisses is documented in `fuser.rs` (linking), `config.rs` (the parameters
//! and the kind compatibility table), `bearings.rs` (triangulation) and `grading.rs`.

mod bearings;
mod config;
mod equipment;
mod fuser;
mod grading;
mod index;
mod sphere;

pub use bearings::{BearingLine, ErrorEllipse, Fix, triangulate};
pub use config::{
    Assess, Compatibility, EvidenceRule, FusionConfig, KindWindow, LinkRule, kinds_compatible,
};
pub use equipment::EquipmentGroup;
pub use fuser::Fuser;
pub use grading::{GradingRules, grade};

use chrono::{DateTime, Utc};
use smol_str::SmolStr;
use truce_geo::LonLat;

use crate::observation::{Bearing, EquipmentClass, KindSet, Observation};

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

impl Reliability {
    pub const ALL: [Reliability; 6] = [
        Reliability::A,
        Reliability::B,
        Reliability::C,
        Reliability::D,
        Reliability::E,
        Reliability::F,
    ];

    /// The letter, `A` … `F`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reliability::A => "A",
            Reliability::B => "B",
            Reliability::C => "C",
            Reliability::D => "D",
            Reliability::E => "E",
            Reliability::F => "F",
        }
    }

    /// Parses a grade letter (upper case only); `None` for anything else.
    pub fn from_letter(letter: &str) -> Option<Reliability> {
        Reliability::ALL.into_iter().find(|r| r.as_str() == letter)
    }
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

impl Discipline {
    pub const ALL: [Discipline; 9] = [
        Discipline::Satellite,
        Discipline::Uav,
        Discipline::Camera,
        Discipline::Acoustic,
        Discipline::Patrol,
        Discipline::ObservationPost,
        Discipline::Party,
        Discipline::Osint,
        Discipline::Other,
    ];

    /// The wire name of `observation.md` ("Sources"), e.g. `observation_post`.
    pub fn as_str(self) -> &'static str {
        match self {
            Discipline::Satellite => "satellite",
            Discipline::Uav => "uav",
            Discipline::Camera => "camera",
            Discipline::Acoustic => "acoustic",
            Discipline::Patrol => "patrol",
            Discipline::ObservationPost => "observation_post",
            Discipline::Party => "party",
            Discipline::Osint => "osint",
            Discipline::Other => "other",
        }
    }

    pub fn from_wire(name: &str) -> Option<Discipline> {
        Discipline::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// Disciplines whose located reports are first-hand observations of the place: a
    /// satellite, a UAV, a camera, a patrol or an observation post saw it. Acoustic bearings,
    /// parties' claims, OSINT and unknown collectors are not (see `grading.rs`).
    pub fn is_direct(self) -> bool {
        matches!(
            self,
            Discipline::Satellite
                | Discipline::Uav
                | Discipline::Camera
                | Discipline::Patrol
                | Discipline::ObservationPost
        )
    }
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
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::Reported,
        IncidentStatus::Corroborated,
        IncidentStatus::Confirmed,
        IncidentStatus::Dismissed,
    ];

    pub fn from_wire(name: &str) -> Option<IncidentStatus> {
        IncidentStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Reported => "reported",
            IncidentStatus::Corroborated => "corroborated",
            IncidentStatus::Confirmed => "confirmed",
            IncidentStatus::Dismissed => "dismissed",
        }
    }
}

/// One source's part in an incident, with the grade it had when the incident was graded.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceEvidence {
    /// (Inline up to 23 bytes; a longer name is shared, not copied.)
    pub source: SmolStr,
    pub info: SourceInfo,
    /// How many members came from this source.
    pub reports: usize,
    /// Of those, how many are located first-hand reports (not bearing-only).
    pub located_reports: usize,
    /// The best (lowest) information credibility among its members, if any gave one.
    pub best_credibility: Option<u8>,
    /// The distinct kinds it reported.
    pub kinds: KindSet,
}

/// What the dismissal rules need to know about an incident's surroundings. Computed when
/// fusing (it does not depend on source grades), so that re-grading needs no re-linking.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DismissalContext {
    /// No located report of another kind than `thermal_anomaly`, outside this incident, lies
    /// within the isolation distance and time window of any member, while some does within
    /// the (larger) coverage distance and window: the area is watched, and quiet.
    pub isolated: bool,
    /// For an uncorroborated incident (one discipline) whose sources are all `party` sources
    /// or all graded `D`–`F` (when fused): the other sources (sorted, distinct, at most
    /// [`DismissalContext::MAX_OBSERVERS`]) that made located reports within the
    /// contradiction distance and window, outside this incident.
    pub observers_nearby: Vec<String>,
}

impl DismissalContext {
    pub const MAX_OBSERVERS: usize = 32;
}

/// One incident: the observations it groups and what fusion concluded.
#[derive(Clone, Debug, PartialEq)]
pub struct FusedIncident {
    /// Stable for the same input: `I1`, `I2`, … in the order of the incidents' earliest
    /// members (time, then source, then source_ref). (Names this short are kept inline: no
    /// allocation.)
    pub id: SmolStr,
    pub status: IncidentStatus,
    /// 0..=1.
    pub confidence: f64,
    /// Why the status and confidence are what they are, as facts: rendered, one reason a
    /// line, by [`FusedIncident::reasons`].
    pub grading: Grading,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Best estimate of where it happened and its ~95% radius in metres; `None` for an
    /// incident known only by a single bearing.
    pub location: Option<(LonLat, f64)>,
    /// The distinct kinds of its members.
    pub kinds: KindSet,
    /// Indices into the input slice of observations, ascending.
    pub members: Vec<usize>,
    /// Every source behind the members, sorted by name, with its grade.
    pub sources: Vec<SourceEvidence>,
    /// When the location rests on a triangulated fix of bearings: its error ellipse.
    /// (Boxed: few incidents have one, and each of millions of incidents would carry its
    /// room.)
    pub fix: Option<Box<ErrorEllipse>>,
    /// For an incident known only by bearings: the sector of its earliest bearing.
    /// (Boxed: few incidents have one.)
    pub sector: Option<Box<Bearing>>,
    pub context: DismissalContext,
}

impl FusedIncident {
    /// Why the status and confidence are what they are, one reason a line (see
    /// `grading.rs`).
    pub fn reasons(&self) -> Vec<String> {
        grading::reasons(self)
    }
}

/// What grading concluded about an incident, kept as facts (rendered by
/// [`FusedIncident::reasons`]: building the sentences of millions of incidents nobody reads
/// would cost more than fusing them).
#[derive(Clone, Debug, PartialEq)]
pub struct Grading {
    /// Per discipline: the worth of its best report and the position in `sources` of the
    /// source that made it.
    pub best_by_discipline: BestByDiscipline,
    /// The status the evidence alone gives, before any dismissal.
    pub evidence_status: IncidentStatus,
    /// When a direct observation by an `A`/`B` source confirms it: that source's position
    /// in `sources`.
    pub direct: Option<u32>,
    /// The confidence as computed (before it is kept within 0..=1).
    pub confidence: f64,
    /// (Boxed: few incidents are dismissed.)
    pub dismissal: Option<Box<Dismissal>>,
}

impl Default for Grading {
    fn default() -> Grading {
        Grading {
            best_by_discipline: BestByDiscipline::default(),
            evidence_status: IncidentStatus::Reported,
            direct: None,
            confidence: 0.0,
            dismissal: None,
        }
    }
}

/// Per discipline, the worth of its best report in an incident and the position in the
/// incident's `sources` of the source that made it (`None` for a discipline with no report).
/// Prints as the list of those nine options in [`Discipline::ALL`] order.
#[derive(Clone, Copy, PartialEq)]
pub struct BestByDiscipline {
    worth: [f64; 9],
    /// `u32::MAX` for none.
    source: [u32; 9],
}

impl Default for BestByDiscipline {
    fn default() -> BestByDiscipline {
        BestByDiscipline {
            worth: [0.0; 9],
            source: [u32::MAX; 9],
        }
    }
}

impl BestByDiscipline {
    /// The worth of `discipline`'s best report and the position of its source.
    pub fn get(&self, discipline: Discipline) -> Option<(f64, u32)> {
        let d = discipline as usize;
        (self.source[d] != u32::MAX).then(|| (self.worth[d], self.source[d]))
    }

    /// Keeps a report of `worth` by the source at `position` if it is `discipline`'s first
    /// or worth more than its best so far.
    pub fn offer(&mut self, discipline: Discipline, worth: f64, position: u32) {
        if self.get(discipline).is_none_or(|(w, _)| worth > w) {
            let d = discipline as usize;
            (self.worth[d], self.source[d]) = (worth, position);
        }
    }

    /// The disciplines with a report, in [`Discipline::ALL`] order, each with its best
    /// report's worth and source position.
    pub fn iter(&self) -> impl Iterator<Item = (Discipline, f64, u32)> + '_ {
        Discipline::ALL
            .into_iter()
            .filter_map(|d| self.get(d).map(|(w, k)| (d, w, k)))
    }
}

impl std::fmt::Debug for BestByDiscipline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(Discipline::ALL.into_iter().map(|d| self.get(d)))
            .finish()
    }
}

/// Why an incident was dismissed (its `Display` is the reason's line).
#[derive(Clone, Debug, PartialEq)]
pub enum Dismissal {
    /// Only thermal anomalies, and no report of another kind within the isolation distance
    /// (metres) and window (seconds), in an area that is watched.
    FieldFire { isolation_m: f64, isolation_s: f64 },
    /// A claim by party sources only (`claim_only`), or a report by sources graded D–F only,
    /// that nothing independent corroborates, while `better` sources (with their grades)
    /// reported from within the contradiction distance (metres) and window (seconds).
    NotBorneOut {
        claim_only: bool,
        better: Vec<(String, SourceInfo)>,
        contradiction_m: f64,
        contradiction_s: f64,
    },
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
    /// The groups behind `equipment` (one per incident and class), kept so that
    /// [`Fusion::regrade`] can recount them.
    pub equipment_groups: Vec<EquipmentGroup>,
    /// The rules the incidents were graded with (kept for [`Fusion::regrade`]).
    pub grading: GradingRules,
}

impl Fusion {
    /// Grades every incident again under `sources` (e.g. after a source was downgraded),
    /// without re-linking: the partition stays (it depends on disciplines only through the
    /// time slack of a few, see `config.rs`), statuses, confidences, reasons and the grades
    /// shown per source change, and equipment is recounted without the incidents now
    /// dismissed. Returns the positions in `incidents` whose status changed.
    pub fn regrade(&mut self, sources: &SourceRegistry) -> Vec<usize> {
        let mut changed = Vec::new();
        for (position, incident) in self.incidents.iter_mut().enumerate() {
            let before = incident.status;
            for evidence in &mut incident.sources {
                evidence.info = sources.lookup(&evidence.source);
            }
            grade(incident, sources, &self.grading);
            if incident.status != before {
                changed.push(position);
            }
        }
        self.equipment = equipment::estimates(&self.equipment_groups, &self.incidents);
        changed
    }
}

/// Fuses `observations` (any order) into incidents graded with `sources`, with the default
/// evidence-based configuration ([`FusionConfig::default`]).
pub fn fuse(observations: &[Observation], sources: &SourceRegistry) -> Fusion {
    fuse_with(observations, sources, &FusionConfig::default())
}

/// Fuses `observations` under `config`: every observation is added to a [`Fuser`] (with
/// [`Fuser::add_all`]: prepared in parallel, linked in time order, which only helps
/// locality: the result does not depend on it).
pub fn fuse_with(
    observations: &[Observation],
    sources: &SourceRegistry,
    config: &FusionConfig<'_>,
) -> Fusion {
    let mut fuser = Fuser::new(sources.clone(), config.clone());
    fuser.reserve(observations.len());
    fuser.add_all(observations);
    fuser.finish()
}
