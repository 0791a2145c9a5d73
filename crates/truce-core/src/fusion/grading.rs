//! Grading: the status, confidence and reasons of an incident from its sources' grades.
//!
//! # Status
//!
//! Independence is a different source *and* a different collection discipline, so the number
//! of mutually independent sources of an incident is the number of distinct disciplines among
//! its sources (a source has one discipline; `other`, the discipline of unregistered
//! sources, counts once however many such sources there are).
//!
//! - `confirmed`: a *direct* observation by an `A`/`B` source — a located report from a
//!   satellite, UAV, camera, patrol or observation post ([`Discipline::is_direct`]) whose
//!   information credibility is at most [`GradingRules::confirm_max_credibility`] (or not
//!   given) — or three independent sources.
//! - `corroborated`: two independent sources.
//! - `reported`: otherwise (one discipline).
//! - `dismissed` (checked first; the evidence grade stays in the reasons):
//!   - *field fire*: every member is a `thermal_anomaly` and no located report of any other
//!     kind lies within the isolation distance and window, although such reports are made
//!     within the coverage distance and window ([`DismissalContext::isolated`]): a
//!     satellite-only picture dismisses nothing;
//!   - *not borne out*: nothing independent corroborates it (one discipline) and either
//!     every source is a `party` source (a claim) while an `A`/`B` source of another
//!     discipline reported from within the contradiction distance and window, or every
//!     source is graded `D`–`F` while a better source, graded `A`–`C`, of another discipline
//!     did: better sources were watching the area at the time and saw something else, or
//!     nothing like it ([`DismissalContext::observers_nearby`]).
//!
//! # Confidence
//!
//! Each report is worth `reliability_weight[grade] × credibility_factor[credibility]`; a
//! discipline is worth its best report; disciplines are independent, so the confidence is
//! `1 − Π (1 − worth)`. A dismissed incident keeps a fifth of it.

use std::fmt::Write as _;

use super::{
    BestByDiscipline, Discipline, Dismissal, DismissalContext, FusedIncident, Grading,
    IncidentStatus, Reliability, SourceEvidence, SourceInfo, SourceRegistry,
};
use crate::observation::{Kind, KindSet};

/// The grading parameters (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct GradingRules {
    /// Worth of a report by reliability, `A` … `F`.
    pub reliability_weight: [f64; 6],
    /// Factor by information credibility `1` … `6`; a report without one counts as `6`.
    pub credibility_factor: [f64; 6],
    /// A direct `A`/`B` report confirms when its credibility is at most this.
    pub confirm_max_credibility: u8,
    /// Independent sources that confirm without a direct `A`/`B` report.
    pub confirm_independent: usize,
    /// Shown in reasons: the isolation and contradiction distances and windows.
    pub isolation_m: f64,
    pub isolation_s: f64,
    pub contradiction_m: f64,
    pub contradiction_s: f64,
}

impl Default for GradingRules {
    fn default() -> GradingRules {
        GradingRules {
            reliability_weight: [0.9, 0.8, 0.6, 0.4, 0.2, 0.3],
            credibility_factor: [1.0, 0.9, 0.75, 0.5, 0.25, 0.8],
            confirm_max_credibility: 3,
            confirm_independent: 3,
            isolation_m: 15_000.0,
            isolation_s: 6.0 * 3600.0,
            contradiction_m: 10_000.0,
            contradiction_s: 3.0 * 3600.0,
        }
    }
}

impl GradingRules {
    fn worth(&self, r: Reliability, credibility: Option<u8>) -> f64 {
        let c = usize::from(credibility.unwrap_or(6).clamp(1, 6)) - 1;
        self.reliability_weight[r as usize] * self.credibility_factor[c]
    }
}

/// Sets `status`, `confidence` and `grading` (what [`FusedIncident::reasons`] renders) of
/// `incident` from its `sources` (whose `info` the caller has set) and `context`;
/// `registry` grades the observers of `context`. Builds no text: this runs for every
/// incident, the reasons are read for few.
pub fn grade(incident: &mut FusedIncident, registry: &SourceRegistry, rules: &GradingRules) {
    // Best worth per discipline (in discipline order).
    let mut best_by_discipline = BestByDiscipline::default();
    for (k, s) in incident.sources.iter().enumerate() {
        let worth = rules.worth(s.info.reliability, s.best_credibility);
        best_by_discipline.offer(s.info.discipline, worth, k as u32);
    }
    let independent = best_by_discipline.iter().count();
    let evidence: f64 = 1.0
        - best_by_discipline
            .iter()
            .map(|(_, w, _)| 1.0 - w)
            .product::<f64>();

    let direct = incident.sources.iter().position(|s| {
        matches!(s.info.reliability, Reliability::A | Reliability::B)
            && s.info.discipline.is_direct()
            && s.located_reports > 0
            && s.best_credibility
                .is_none_or(|c| c <= rules.confirm_max_credibility)
    });
    let evidence_status = if direct.is_some() || independent >= rules.confirm_independent {
        IncidentStatus::Confirmed
    } else if independent >= 2 {
        IncidentStatus::Corroborated
    } else {
        IncidentStatus::Reported
    };

    let dismissal = dismissal(incident, &incident.context, registry, rules).map(Box::new);
    let mut confidence = evidence;
    let mut status = evidence_status;
    if dismissal.is_some() {
        status = IncidentStatus::Dismissed;
        confidence *= 0.2;
    }
    incident.status = status;
    incident.confidence = confidence.clamp(0.0, 1.0);
    incident.grading = Grading {
        best_by_discipline,
        evidence_status,
        direct: direct.map(|k| k as u32),
        confidence,
        dismissal,
    };
}

/// The reasons of `incident`'s status and confidence, one a line: each source with its
/// grade, the status from the evidence, the dismissal if any, how the confidence is made.
pub(super) fn reasons(incident: &FusedIncident) -> Vec<String> {
    let g = &incident.grading;
    let sources = &incident.sources;
    let mut reasons = Vec::with_capacity(sources.len() + 3);
    for s in sources {
        reasons.push(describe_source(s));
    }
    let by_discipline: Vec<(Discipline, f64, &str)> = g
        .best_by_discipline
        .iter()
        .map(|(d, w, k)| {
            let name = sources.get(k as usize).map_or("", |s| s.source.as_str());
            (d, w, name)
        })
        .collect();
    let independent = by_discipline.len();
    let disciplines: Vec<&str> = by_discipline.iter().map(|(d, ..)| d.as_str()).collect();
    let direct = g.direct.and_then(|k| sources.get(k as usize));
    let status_reason = match (g.evidence_status, direct) {
        (IncidentStatus::Confirmed, Some(s)) => format!(
            "confirmed: direct observation by {} source {} ({})",
            s.info.reliability.as_str(),
            s.source,
            s.info.discipline.as_str()
        ),
        (IncidentStatus::Confirmed, None) => format!(
            "confirmed: {independent} independent disciplines ({})",
            disciplines.join(", ")
        ),
        (IncidentStatus::Corroborated, _) => format!(
            "corroborated: {independent} independent disciplines ({})",
            disciplines.join(", ")
        ),
        _ => format!(
            "reported: one discipline only ({})",
            disciplines.first().copied().unwrap_or("none")
        ),
    };
    if let Some(dismissal) = &g.dismissal {
        reasons.push(format!("evidence alone: {status_reason}"));
        reasons.push(dismissal.to_string());
    } else {
        reasons.push(status_reason);
    }
    let mut line = format!(
        "confidence {:.2} = 1 − Π(1 − best report per discipline:",
        g.confidence
    );
    for (d, w, source) in &by_discipline {
        let _ = write!(line, " {} {w:.2} by {source};", d.as_str());
    }
    line.pop();
    line.push(')');
    if g.dismissal.is_some() {
        line.push_str(" × 0.2 (dismissed)");
    }
    reasons.push(line);
    reasons
}

impl std::fmt::Display for Dismissal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dismissal::FieldFire {
                isolation_m,
                isolation_s,
            } => write!(
                f,
                "dismissed: field fire? only thermal anomalies, and no report of any other kind within {:.0} m and {:.0} h",
                isolation_m,
                isolation_s / 3600.0
            ),
            Dismissal::NotBorneOut {
                claim_only,
                better,
                contradiction_m,
                contradiction_s,
            } => {
                let what = if *claim_only {
                    "a claim by party sources only"
                } else {
                    "a report by sources graded D–F only"
                };
                let better: Vec<String> = better
                    .iter()
                    .map(|(name, info)| {
                        format!(
                            "{name} ({}, {})",
                            info.reliability.as_str(),
                            info.discipline.as_str()
                        )
                    })
                    .collect();
                write!(
                    f,
                    "dismissed: {what}, corroborated by no independent source, while {} reported from within {:.0} m and {:.0} h",
                    better.join(", "),
                    contradiction_m,
                    contradiction_s / 3600.0
                )
            }
        }
    }
}

fn describe_source(s: &SourceEvidence) -> String {
    // Built by hand: this runs for every source of every incident.
    let mut line = String::with_capacity(64 + s.source.len());
    line.push_str("source ");
    line.push_str(&s.source);
    line.push_str(" (");
    line.push_str(s.info.reliability.as_str());
    line.push_str(", ");
    line.push_str(s.info.discipline.as_str());
    line.push_str("): ");
    let _ = write!(line, "{}", s.reports);
    line.push_str(if s.reports == 1 {
        " report ("
    } else {
        " reports ("
    });
    for (k, kind) in s.kinds.iter().enumerate() {
        if k > 0 {
            line.push_str(", ");
        }
        line.push_str(kind.as_str());
    }
    line.push_str("), credibility ");
    match s.best_credibility {
        Some(c) => {
            let _ = write!(line, "{c}");
        }
        None => line.push_str("not given"),
    }
    line
}

fn dismissal(
    incident: &FusedIncident,
    context: &DismissalContext,
    registry: &SourceRegistry,
    rules: &GradingRules,
) -> Option<Dismissal> {
    if incident.kinds == KindSet::of(Kind::ThermalAnomaly) && context.isolated {
        return Some(Dismissal::FieldFire {
            isolation_m: rules.isolation_m,
            isolation_s: rules.isolation_s,
        });
    }
    // Uncorroborated claims and low-grade reports that better sources do not bear out.
    let mut disciplines: Vec<Discipline> =
        incident.sources.iter().map(|s| s.info.discipline).collect();
    disciplines.sort_unstable();
    disciplines.dedup();
    let best = incident.sources.iter().map(|s| s.info.reliability).min()?;
    let claim_only = disciplines == [Discipline::Party];
    let low_grade = best >= Reliability::D;
    if disciplines.len() == 1 && (claim_only || low_grade) {
        let better: Vec<(String, SourceInfo)> = context
            .observers_nearby
            .iter()
            .filter_map(|name| {
                let info = registry.lookup(name);
                let good_enough = if low_grade {
                    info.reliability <= Reliability::C
                } else {
                    info.reliability <= Reliability::B
                };
                (good_enough
                    && info.reliability < best
                    && info.discipline != Discipline::Party
                    && !disciplines.contains(&info.discipline))
                .then(|| (name.clone(), info))
            })
            .collect();
        if !better.is_empty() {
            return Some(Dismissal::NotBorneOut {
                claim_only,
                better,
                contradiction_m: rules.contradiction_m,
                contradiction_s: rules.contradiction_s,
            });
        }
    }
    None
}
