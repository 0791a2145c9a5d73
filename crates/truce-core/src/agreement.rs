//! An agreement: parties, time window, geometry, zones and fusion parameters
//! (`shared/spec/agreement.md`, version 1). Built and validated by `truce-formats`.

use chrono::{DateTime, Utc};
use truce_geo::{ContactLine, ControlArea};

/// Which side of the control polygon a party holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartySide {
    /// Inside or on the boundary of the control polygon.
    Inside,
    /// Everything else.
    Outside,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Party {
    pub id: String,
    pub name: String,
    pub side: PartySide,
}

/// A band of great-circle distance from the contact line, (lower_m, upper_m]; the first zone
/// of an agreement also includes its lower bound (0).
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    pub id: String,
    pub lower_m: f64,
    pub upper_m: f64,
    /// Equipment classes or activity groups prohibited in the zone, as written.
    pub prohibit: Vec<String>,
}

/// How observations are linked into incidents (`replay.md`, incidents).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FusionParams {
    /// Two observations within this great-circle distance (inclusive) may link, in metres.
    pub link_distance_m: f64,
    /// ... when their times differ by at most this (inclusive), in seconds.
    pub link_time_s: i64,
}

#[derive(Clone, Debug)]
pub struct AgreementGeometry {
    pub contact_line: ContactLine,
    pub control: ControlArea,
}

/// A validated agreement. Invariants (checked by the parser): exactly two parties, one per
/// side, unique ids; zones contiguous from 0 in increasing order with unique ids.
#[derive(Clone, Debug)]
pub struct Agreement {
    pub id: String,
    pub title: String,
    pub effective_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub parties: Vec<Party>,
    pub zones: Vec<Zone>,
    pub fusion: FusionParams,
    pub geometry: AgreementGeometry,
    /// The agreement version: lower-case hex SHA-256 over the agreement file and every
    /// geometry file it names. Every stored assessment records it.
    pub version: String,
}

impl Agreement {
    /// True when an observation made at `t` is covered: `effective_at ≤ t < expires_at`.
    pub fn is_in_force_at(&self, t: DateTime<Utc>) -> bool {
        self.effective_at <= t && self.expires_at.is_none_or(|end| t < end)
    }

    /// Index into `parties` of the party holding the given side.
    pub fn party_index(&self, side: PartySide) -> usize {
        self.parties
            .iter()
            .position(|p| p.side == side)
            .unwrap_or(0)
    }
}
