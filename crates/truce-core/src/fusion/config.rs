//! Fusion parameters: the link rule, per-kind time windows and extents, and the kind
//! compatibility table.
//!
//! # Kind compatibility (evidence rule)
//!
//! Two observations may belong to the same incident only when their kinds are compatible
//! (the relation is symmetric; `·` = not compatible):
//!
//! | kind                  | compatible with |
//! |-----------------------|-----------------|
//! | explosion             | explosion, outgoing_fire, small_arms_fire, thermal_anomaly, air_activity, civilian_harm, infrastructure_damage |
//! | outgoing_fire         | explosion, outgoing_fire, small_arms_fire, thermal_anomaly, air_activity, equipment_sighting¹ |
//! | small_arms_fire       | explosion, outgoing_fire, small_arms_fire, civilian_harm |
//! | thermal_anomaly       | explosion, outgoing_fire, thermal_anomaly, infrastructure_damage |
//! | equipment_sighting    | equipment_sighting¹, movement¹, outgoing_fire¹, air_activity¹, notification¹ |
//! | troop_presence        | troop_presence, movement, notification |
//! | movement              | movement², equipment_sighting¹, troop_presence, notification² |
//! | air_activity          | air_activity, explosion, outgoing_fire, equipment_sighting¹ |
//! | monitor_restriction   | monitor_restriction |
//! | civilian_harm         | civilian_harm, explosion, small_arms_fire, infrastructure_damage |
//! | infrastructure_damage | infrastructure_damage, explosion, thermal_anomaly, civilian_harm |
//! | notification          | notification², movement², troop_presence, equipment_sighting¹ |
//!
//! ¹ only when both carry `equipment` of the same class: an equipment sighting corroborates
//! only a report of the same class. ² when both carry `equipment`, the classes must be equal.
//!
//! A notification (a party's advance notice) is linked to the movements and presences it
//! announces, not to fire: notice of demining does not make an explosion the same event.
//! A monitor restriction is its own kind of incident.

use crate::agreement::FusionParams;
use crate::fusion::Discipline;
use crate::observation::{EquipmentClass, Kind};
use truce_geo::LonLat;

/// Zone and party of a position, as `(zone_id, party_id)`: how fusion learns the agreement's
/// geometry without depending on it (e.g. a closure over [`crate::Assessor`]).
pub type Assess<'a> = &'a (dyn Fn(LonLat) -> (String, String) + Sync);

/// Which kinds may link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compatibility {
    /// Every kind with every kind (the replay definition).
    All,
    /// The table of this module.
    Table,
}

/// How much time an observation's event may take around what the report says, in seconds:
/// the event is taken to lie in `[observed_at - before_s, (observed_until or observed_at) +
/// after_s]`. Two reports can be the same event only when these windows overlap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KindWindow {
    pub before_s: f64,
    pub after_s: f64,
    /// How far apart the reports of one such event may truly be (a shelling covers an
    /// area), in metres; a pair uses the larger of its two extents.
    pub extent_m: f64,
}

/// The evidence-based link rule: each observation's own uncertainty, kind and discipline.
///
/// Two located observations `a`, `b` link when their kinds are compatible, their windows
/// overlap and their great-circle distance is at most
/// `min(max_link_distance_m, k · √(u_a² + u_b²) + max(extent_a, extent_b))`, with `u` the
/// ~95% radii: `√(u_a² + u_b²)` is the ~95% radius of the difference of two independent
/// errors, `k = 1.5` takes it to ~99.9%.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceRule {
    pub k: f64,
    pub max_link_distance_m: f64,
    /// Indexed by `Kind as usize`.
    pub windows: [KindWindow; 12],
    /// Added to a report's window by its source's discipline (indexed by `Discipline as
    /// usize`): patrols and parties report late and coarsely.
    pub discipline_slack_s: [(f64, f64); 9],
    /// A report is an *anchor* (links transitively with every anchor it matches) when its
    /// uncertainty is at most this and its window at most [`EvidenceRule::anchor_max_window_s`];
    /// any other report is *coarse*: it joins the single best-matching incident and never
    /// bridges two (see `fuser.rs`).
    pub anchor_max_uncertainty_m: f64,
    pub anchor_max_window_s: f64,
    /// Uncertainty bands of the index levels (each level a grid sized for its band).
    pub level_bounds_m: Vec<f64>,
    /// Speed of sound for acoustic bearings, m/s.
    pub sound_speed_m_s: f64,
    /// Range of a bearing that gives none, in metres.
    pub bearing_default_range_m: f64,
    /// How many standard deviations a bearing may miss a point or another bearing by.
    pub bearing_sigmas: f64,
    /// How many standard deviations a single bearing may miss a located report by and still
    /// join its incident (tighter: one bearing is weak evidence of which event it heard).
    pub bearing_attach_sigmas: f64,
    /// Two acoustic bearings triangulate only when their event times (arrival minus
    /// propagation) agree within this, in seconds (other bearings: their windows).
    pub triangulation_time_s: f64,
    /// A fix whose ellipse's semi-major axis is at most this (metres) links like an anchor
    /// (with anchors and such fixes); a longer one joins the best match or stays alone.
    pub fix_anchor_max_m: f64,
    /// A fix whose ~95% ellipse is longer than this (metres) is no fix.
    pub max_fix_semi_major_m: f64,
}

impl Default for EvidenceRule {
    fn default() -> EvidenceRule {
        let w = |before_s: f64, after_s: f64, extent_m: f64| KindWindow {
            before_s,
            after_s,
            extent_m,
        };
        let mut windows = [w(600.0, 600.0, 200.0); 12];
        // An exchange of fire lasts; its shots are reported minutes apart.
        windows[Kind::Explosion as usize] = w(900.0, 900.0, 500.0);
        windows[Kind::OutgoingFire as usize] = w(900.0, 900.0, 500.0);
        windows[Kind::SmallArmsFire as usize] = w(900.0, 900.0, 300.0);
        // A heat spot is seen at the overpass, possibly hours after the fire started (a fire
        // burns on after the shelling that lit it, and an overpass may come hours later).
        windows[Kind::ThermalAnomaly as usize] = w(6.0 * 3600.0, 300.0, 300.0);
        // Weapons and troops stay where they are for hours to days: the same class seen again
        // at the same place within half a day either side is the group seen before.
        windows[Kind::EquipmentSighting as usize] = w(12.0 * 3600.0, 12.0 * 3600.0, 500.0);
        windows[Kind::TroopPresence as usize] = w(12.0 * 3600.0, 12.0 * 3600.0, 500.0);
        windows[Kind::Movement as usize] = w(1800.0, 1800.0, 1000.0);
        windows[Kind::AirActivity as usize] = w(600.0, 600.0, 2000.0);
        windows[Kind::MonitorRestriction as usize] = w(1800.0, 1800.0, 300.0);
        // Harm and damage are found and reported after the event.
        windows[Kind::CivilianHarm as usize] = w(3.0 * 3600.0, 900.0, 500.0);
        windows[Kind::InfrastructureDamage as usize] = w(3.0 * 3600.0, 900.0, 500.0);
        // Advance notice: the activity follows the notice.
        windows[Kind::Notification as usize] = w(1800.0, 12.0 * 3600.0, 2000.0);
        let mut discipline_slack_s = [(0.0, 0.0); 9];
        discipline_slack_s[Discipline::Patrol as usize] = (3600.0, 600.0);
        discipline_slack_s[Discipline::Party as usize] = (3600.0, 1800.0);
        discipline_slack_s[Discipline::Osint as usize] = (3600.0, 1800.0);
        discipline_slack_s[Discipline::ObservationPost as usize] = (600.0, 300.0);
        EvidenceRule {
            k: 1.5,
            max_link_distance_m: 15_000.0,
            windows,
            discipline_slack_s,
            anchor_max_uncertainty_m: 2000.0,
            anchor_max_window_s: 2400.0,
            level_bounds_m: vec![600.0, 2000.0, 6000.0],
            sound_speed_m_s: 340.0,
            bearing_default_range_m: 20_000.0,
            bearing_sigmas: 3.0,
            bearing_attach_sigmas: 2.0,
            triangulation_time_s: 300.0,
            fix_anchor_max_m: 5000.0,
            max_fix_semi_major_m: 15_000.0,
        }
    }
}

impl EvidenceRule {
    /// The link radius of a pair with uncertainties `u_a`, `u_b` and extents, in metres.
    #[inline]
    pub fn radius_m(&self, u_a_m: f64, u_b_m: f64, extent_m: f64) -> f64 {
        (self.k * (u_a_m * u_a_m + u_b_m * u_b_m).sqrt() + extent_m).min(self.max_link_distance_m)
    }

    /// The largest extent of any kind, in metres.
    pub fn max_extent_m(&self) -> f64 {
        self.windows.iter().map(|w| w.extent_m).fold(0.0, f64::max)
    }
}

/// How observations link into incidents.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // built once per fusion
pub enum LinkRule {
    /// `replay.md`: distance ≤ `link_distance_m` and `|Δt| ≤ link_time_s` (whole seconds of
    /// `observed_at`), every kind with every kind, uncertainty and intervals ignored,
    /// bearings never triangulated (each bearing-only report is its own incident).
    Fixed(FusionParams),
    /// The evidence rule.
    Evidence(EvidenceRule),
}

/// Everything fusion is configured with.
#[derive(Clone)]
pub struct FusionConfig<'a> {
    pub link: LinkRule,
    pub compatibility: Compatibility,
    /// Zone and party of a position; without it equipment estimates are in zone
    /// `unassessed` and party `unknown` (unless the reports assert a party).
    pub assess: Option<Assess<'a>>,
    /// When set, only located observations whose zone (by `assess`) is this one take part in
    /// linking; every other observation is an incident of its own (the replay restriction
    /// to the first zone). Ignored without `assess`.
    pub link_zone: Option<String>,
    /// Isolation distance and window for dismissing field fires, metres and seconds.
    pub isolation_m: f64,
    pub isolation_s: f64,
    /// ... but only where some report of another kind lies within this distance and window
    /// (metres, seconds): in a satellite-only picture, silence around a heat spot says
    /// nothing.
    pub coverage_m: f64,
    pub coverage_s: f64,
    /// Distance and window within which other sources' reports contradict a lone claim.
    pub contradiction_m: f64,
    pub contradiction_s: f64,
}

impl std::fmt::Debug for FusionConfig<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FusionConfig")
            .field("link", &self.link)
            .field("compatibility", &self.compatibility)
            .field("assess", &self.assess.map(|_| "fn"))
            .field("link_zone", &self.link_zone)
            .field("isolation_m", &self.isolation_m)
            .field("isolation_s", &self.isolation_s)
            .field("coverage_m", &self.coverage_m)
            .field("coverage_s", &self.coverage_s)
            .field("contradiction_m", &self.contradiction_m)
            .field("contradiction_s", &self.contradiction_s)
            .finish()
    }
}

impl Default for FusionConfig<'_> {
    /// The evidence rule with the compatibility table, no assessor.
    fn default() -> Self {
        FusionConfig {
            link: LinkRule::Evidence(EvidenceRule::default()),
            compatibility: Compatibility::Table,
            assess: None,
            link_zone: None,
            isolation_m: 15_000.0,
            isolation_s: 6.0 * 3600.0,
            coverage_m: 60_000.0,
            coverage_s: 86_400.0,
            contradiction_m: 10_000.0,
            contradiction_s: 3.0 * 3600.0,
        }
    }
}

impl<'a> FusionConfig<'a> {
    /// The incident definition of `replay.md` under an agreement's fusion parameters:
    /// reproduces [`crate::incidents::link_incidents`] exactly. With `assess` and
    /// `link_zone` (the first zone's id) it is restricted to that zone as replay is.
    pub fn replay(params: FusionParams) -> FusionConfig<'a> {
        FusionConfig {
            link: LinkRule::Fixed(params),
            compatibility: Compatibility::All,
            ..FusionConfig::default()
        }
    }
}

/// Whether reports of kinds `a` and `b` (with the class of their equipment, if any) may be of
/// the same event under the table of this module.
pub fn kinds_compatible(
    a: Kind,
    ea: Option<EquipmentClass>,
    b: Kind,
    eb: Option<EquipmentClass>,
) -> bool {
    let (a, ea, b, eb) = if a <= b {
        (a, ea, b, eb)
    } else {
        (b, eb, a, ea)
    };
    let same_class = || matches!((ea, eb), (Some(x), Some(y)) if x == y);
    let classes_agree = || match (ea, eb) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    use Kind::*;
    // `a <= b` in declaration order: Explosion, OutgoingFire, SmallArmsFire, ThermalAnomaly,
    // EquipmentSighting, TroopPresence, Movement, AirActivity, MonitorRestriction,
    // CivilianHarm, InfrastructureDamage, Notification.
    match (a, b) {
        (Explosion, Explosion | OutgoingFire | SmallArmsFire | ThermalAnomaly | AirActivity) => {
            true
        }
        (Explosion, CivilianHarm | InfrastructureDamage) => true,
        (OutgoingFire, OutgoingFire | SmallArmsFire | ThermalAnomaly | AirActivity) => true,
        (OutgoingFire, EquipmentSighting) => same_class(),
        (SmallArmsFire, SmallArmsFire | CivilianHarm) => true,
        (ThermalAnomaly, ThermalAnomaly | InfrastructureDamage) => true,
        (EquipmentSighting, EquipmentSighting | Movement | AirActivity | Notification) => {
            same_class()
        }
        (TroopPresence, TroopPresence | Movement | Notification) => true,
        (Movement, Movement | Notification) => classes_agree(),
        (AirActivity, AirActivity) => true,
        (MonitorRestriction, MonitorRestriction) => true,
        (CivilianHarm, CivilianHarm | InfrastructureDamage) => true,
        (InfrastructureDamage, InfrastructureDamage) => true,
        (Notification, Notification) => classes_agree(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(class: EquipmentClass) -> Option<EquipmentClass> {
        Some(class)
    }

    #[test]
    fn the_table_is_symmetric_and_reflexive_for_plain_kinds() {
        for a in Kind::ALL {
            for b in Kind::ALL {
                for (ea, eb) in [
                    (None, None),
                    (eq(EquipmentClass::Tank), eq(EquipmentClass::Tank)),
                    (eq(EquipmentClass::Tank), eq(EquipmentClass::Mlrs)),
                    (eq(EquipmentClass::Tank), None),
                ] {
                    assert_eq!(
                        kinds_compatible(a, ea, b, eb),
                        kinds_compatible(b, eb, a, ea),
                        "{a:?} {b:?}"
                    );
                }
            }
            let with = eq(EquipmentClass::Tank);
            assert!(kinds_compatible(a, with, a, with), "{a:?}");
        }
    }

    #[test]
    fn sightings_corroborate_only_the_same_class() {
        let s = Kind::EquipmentSighting;
        assert!(kinds_compatible(
            s,
            eq(EquipmentClass::Tank),
            s,
            eq(EquipmentClass::Tank)
        ));
        assert!(!kinds_compatible(
            s,
            eq(EquipmentClass::Tank),
            s,
            eq(EquipmentClass::Mlrs)
        ));
        assert!(!kinds_compatible(
            s,
            eq(EquipmentClass::Tank),
            Kind::Movement,
            None
        ));
        assert!(kinds_compatible(
            Kind::ThermalAnomaly,
            None,
            Kind::Explosion,
            None
        ));
        assert!(!kinds_compatible(
            Kind::ThermalAnomaly,
            None,
            Kind::MonitorRestriction,
            None
        ));
    }
}
