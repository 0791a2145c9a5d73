//! Ground-truth events: what kinds happen where and when on a high-intensity front, and the
//! separation rule that keeps the truth decidable from the evidence.

use std::collections::{BTreeMap, HashMap};

use truce_core::agreement::Zone;
use truce_core::{Agreement, Equipment, EquipmentClass, Kind, PartySide};
use truce_geo::{LonLat, great_circle_distance_m};

use crate::front::{Along, Front};
use crate::rng::Rng;
use crate::sensors::{DAY_S, HOUR_S, MINUTE_S, Sensors};

/// The kinds of happening the simulator knows, each with its own geography, timing and
/// sensors that can notice it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// Artillery or mortar impacts in an area near the line (an exchange of fire).
    Shelling,
    /// Launches from a firing position behind the line.
    Launch,
    /// Small-arms or machine-gun fire at the line.
    SmallArms,
    /// Heavy weapons parked in a zone where the agreement prohibits them.
    Equipment,
    /// A column moving.
    Movement,
    /// Fortification work or troops dug in near the line.
    Troops,
    /// A monitoring patrol denied passage.
    PatrolRestriction,
    /// A monitoring UAV jammed.
    UavJamming,
    /// A strike that hurts civilians.
    CivilianHarm,
    /// A strike on a civilian object.
    InfrastructureDamage,
    /// A missile or drone strike far behind the line.
    DeepStrike,
}

/// (template, share of events).
const MIX: [(Template, f64); 11] = [
    (Template::Shelling, 0.40),
    (Template::Launch, 0.14),
    (Template::SmallArms, 0.15),
    (Template::Equipment, 0.09),
    (Template::Movement, 0.04),
    (Template::Troops, 0.02),
    (Template::PatrolRestriction, 0.03),
    (Template::UavJamming, 0.015),
    (Template::CivilianHarm, 0.045),
    (Template::InfrastructureDamage, 0.045),
    (Template::DeepStrike, 0.015),
];

/// Relative intensity by UTC hour.
pub const FIRE_HOURS: [f64; 24] = [
    1.0, 1.2, 1.5, 2.0, 2.4, 2.4, 2.0, 1.5, 1.2, 1.0, 0.9, 0.9, 1.0, 1.1, 1.3, 1.6, 1.9, 2.0, 1.8,
    1.5, 1.2, 1.0, 0.9, 0.9,
];
const NIGHT_HOURS: [f64; 24] = [
    2.0, 2.0, 2.0, 1.8, 1.4, 1.0, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5,
    1.8, 2.0, 2.0, 2.0, 2.0,
];
const STRIKE_HOURS: [f64; 24] = [
    2.0, 2.5, 2.5, 2.5, 2.0, 1.5, 1.0, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.8, 1.0,
    1.2, 1.5, 1.8, 2.0, 2.0,
];
const EVEN_HOURS: [f64; 24] = [1.0; 24];

/// One thing that really happened.
#[derive(Clone, Debug)]
pub struct Event {
    pub template: Template,
    pub kind: Kind,
    pub start_s: i64,
    /// Equal to `start_s` for an instantaneous event.
    pub end_s: i64,
    pub position: LonLat,
    /// The side of the line the event is on.
    pub side: PartySide,
    /// Index into the agreement's parties of the party that carried it out.
    pub perpetrator: usize,
    pub equipment: Option<Equipment>,
    /// A fire visible from space starts with the event and burns this long, in seconds.
    pub fire_s: Option<i64>,
    /// For restrictions: (day, index) of the patrol day or UAV sortie it happened to.
    pub subject: Option<(usize, usize)>,
}

impl Event {
    pub fn duration_s(&self) -> i64 {
        self.end_s - self.start_s
    }

    /// When evidence of the event can appear: from its start to its end or, when later, to
    /// the end of the fire it started.
    pub fn evidence_span_s(&self) -> (i64, i64) {
        (
            self.start_s,
            self.end_s.max(self.start_s + self.fire_s.unwrap_or(0)),
        )
    }
}

/// The scenario window and how busy each day is.
pub struct Calendar {
    pub day0_s: i64,
    pub start_s: i64,
    pub end_s: i64,
    pub day_weights: Vec<f64>,
    pub quiet_days: Vec<usize>,
}

impl Calendar {
    /// Days of ordinary intensity (log-normal around 1) with about one quiet day a week
    /// (a tenth of the activity), from the UTC midnight of `effective_at`.
    pub fn new(agreement: &Agreement, days: u32, rng: &mut Rng) -> Calendar {
        let effective_s = agreement.effective_at.timestamp();
        let day0_s = effective_s.div_euclid(DAY_S) * DAY_S;
        let mut end_s = day0_s + i64::from(days) * DAY_S;
        if let Some(expires) = agreement.expires_at {
            end_s = end_s.min(expires.timestamp());
        }
        let mut day_weights: Vec<f64> = (0..days).map(|_| rng.log_normal(1.0, 0.25)).collect();
        let mut quiet_days = Vec::new();
        let quiet = (days as usize + 3) / 7;
        while quiet_days.len() < quiet.min(days.saturating_sub(1) as usize) {
            let d = rng.below(days as usize);
            if !quiet_days.contains(&d) {
                quiet_days.push(d);
                day_weights[d] = 0.1;
            }
        }
        quiet_days.sort_unstable();
        Calendar {
            day0_s,
            start_s: effective_s,
            end_s,
            day_weights,
            quiet_days,
        }
    }

    /// A time drawn by day weight and `hours` profile, inside the window.
    pub fn draw_time(&self, rng: &mut Rng, hours: &[f64; 24]) -> Option<i64> {
        (0..8).find_map(|_| {
            let day = rng.weighted(&self.day_weights) as i64;
            let hour = rng.weighted(hours) as i64;
            let t = self.day0_s + day * DAY_S + hour * HOUR_S + rng.int(0, HOUR_S - 1);
            (t >= self.start_s && t < self.end_s).then_some(t)
        })
    }

    pub fn contains(&self, t_s: i64) -> bool {
        t_s >= self.start_s && t_s < self.end_s
    }
}

/// Two events closer than this in space ...
pub const SAME_PLACE_M: f64 = 2_000.0;
/// ... are at least this far apart in time (the gap between their intervals).
pub const SAME_PLACE_GAP_S: i64 = 6 * HOUR_S;
/// Two events closer than this ...
pub const NEARBY_M: f64 = 5_000.0;
/// ... are at least this far apart in time.
pub const NEARBY_GAP_S: i64 = 30 * MINUTE_S;
/// Two events within acoustic reach of the same arrays ...
pub const SAME_ARRAYS_M: f64 = 40_000.0;
/// ... start at least this far apart, so that their bearings can be told apart by time.
pub const SAME_ARRAYS_GAP_S: i64 = 90;

/// The events accepted so far, indexed by place (0.1° cells) and start time.
#[derive(Default)]
pub struct EventIndex {
    cells: HashMap<(i64, i64), Vec<usize>>,
    by_start: BTreeMap<i64, Vec<usize>>,
}

fn cell_of(p: LonLat) -> (i64, i64) {
    (
        (p.lon_deg * 10.0).floor() as i64,
        (p.lat_deg * 10.0).floor() as i64,
    )
}

fn gap_s(a: (i64, i64), b: (i64, i64)) -> i64 {
    (a.0.max(b.0) - a.1.min(b.1)).max(0)
}

impl EventIndex {
    pub fn insert(&mut self, index: usize, event: &Event) {
        self.cells
            .entry(cell_of(event.position))
            .or_default()
            .push(index);
        self.by_start.entry(event.start_s).or_default().push(index);
    }

    /// Whether an event lies within `radius_m` of `p` with its evidence span (see
    /// [`Event::evidence_span_s`]) less than `within_gap_s` from [`from_s`, `to_s`].
    pub fn any_near(
        &self,
        events: &[Event],
        p: LonLat,
        radius_m: f64,
        (from_s, to_s): (i64, i64),
        within_gap_s: i64,
    ) -> bool {
        let (cx, cy) = cell_of(p);
        let reach_lat = (radius_m / 11_000.0).ceil() as i64 + 1;
        let reach_lon =
            (radius_m / (11_100.0 * p.lat_deg.to_radians().cos().max(0.1))).ceil() as i64 + 1;
        for x in cx - reach_lon..=cx + reach_lon {
            for y in cy - reach_lat..=cy + reach_lat {
                let Some(list) = self.cells.get(&(x, y)) else {
                    continue;
                };
                for &i in list {
                    let e = &events[i];
                    if gap_s((from_s, to_s), e.evidence_span_s()) < within_gap_s
                        && great_circle_distance_m(p, e.position) < radius_m
                    {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether `candidate` keeps its distance from every accepted event (the module's rule).
    pub fn separated(&self, events: &[Event], candidate: &Event) -> bool {
        let span = candidate.evidence_span_s();
        if self.any_near(
            events,
            candidate.position,
            SAME_PLACE_M,
            span,
            SAME_PLACE_GAP_S,
        ) || self.any_near(events, candidate.position, NEARBY_M, span, NEARBY_GAP_S)
        {
            return false;
        }
        let window =
            candidate.start_s - SAME_ARRAYS_GAP_S + 1..=candidate.start_s + SAME_ARRAYS_GAP_S - 1;
        !self.by_start.range(window).any(|(_, list)| {
            list.iter().any(|&i| {
                great_circle_distance_m(candidate.position, events[i].position) < SAME_ARRAYS_M
            })
        })
    }
}

/// Draws candidate events; the caller checks separation.
pub struct EventDrawer<'a> {
    pub agreement: &'a Agreement,
    pub front: &'a Front,
    pub sensors: &'a Sensors,
    pub calendar: &'a Calendar,
    weights: Vec<f64>,
}

fn other(side: PartySide) -> PartySide {
    match side {
        PartySide::Inside => PartySide::Outside,
        PartySide::Outside => PartySide::Inside,
    }
}

fn random_side(rng: &mut Rng) -> PartySide {
    if rng.chance(0.5) {
        PartySide::Inside
    } else {
        PartySide::Outside
    }
}

/// Whether `zone` prohibits `class`, by name or by activity group (`agreement.md`).
pub fn zone_prohibits(zone: &Zone, class: EquipmentClass) -> bool {
    use EquipmentClass as C;
    zone.prohibit.iter().any(|p| match p.as_str() {
        "heavy_weapons" => matches!(
            class,
            C::ArtilleryGe100mm | C::Mortar | C::Mlrs | C::MlrsHeavy | C::TacticalMissile
        ),
        "armour" => matches!(class, C::Tank | C::ApcIfv),
        name => name == class.as_str(),
    })
}

impl<'a> EventDrawer<'a> {
    pub fn new(
        agreement: &'a Agreement,
        front: &'a Front,
        sensors: &'a Sensors,
        calendar: &'a Calendar,
    ) -> EventDrawer<'a> {
        EventDrawer {
            agreement,
            front,
            sensors,
            calendar,
            weights: MIX.iter().map(|(_, w)| *w).collect(),
        }
    }

    fn party(&self, side: PartySide) -> usize {
        self.agreement.party_index(side)
    }

    /// One candidate event, or `None` when the drawn place or time did not work out.
    pub fn draw(&self, rng: &mut Rng) -> Option<Event> {
        let template = MIX[rng.weighted(&self.weights)].0;
        match template {
            Template::Shelling => {
                let band = if rng.chance(0.7) {
                    (300.0, 6_000.0)
                } else {
                    (6_000.0, 15_000.0)
                };
                let duration_s = minutes(rng.log_normal(8.0, 0.8).clamp(1.0, 60.0));
                let fire = rng.chance(0.55).then(|| burn_s(rng, 15.0, 60.0, 240.0));
                self.near_line(
                    rng,
                    template,
                    Kind::Explosion,
                    band,
                    duration_s,
                    &FIRE_HOURS,
                )
                .map(|e| Event {
                    perpetrator: self.party(other(e.side)),
                    fire_s: fire,
                    ..e
                })
            }
            Template::Launch => {
                let (class, band) = match rng.weighted(&[0.45, 0.2, 0.2, 0.1, 0.05]) {
                    0 => (EquipmentClass::ArtilleryGe100mm, (5_000.0, 25_000.0)),
                    1 => (EquipmentClass::Mlrs, (5_000.0, 25_000.0)),
                    2 => (EquipmentClass::Mortar, (1_000.0, 6_000.0)),
                    3 => (EquipmentClass::ArtilleryLt100mm, (3_000.0, 12_000.0)),
                    _ => (EquipmentClass::MlrsHeavy, (15_000.0, 40_000.0)),
                };
                let duration_s = minutes(rng.log_normal(4.0, 0.7).clamp(1.0, 30.0));
                let fire = rng.chance(0.08).then(|| burn_s(rng, 10.0, 20.0, 60.0));
                let count = 1 + rng.poisson(1.0).min(5);
                self.near_line(
                    rng,
                    template,
                    Kind::OutgoingFire,
                    band,
                    duration_s,
                    &FIRE_HOURS,
                )
                .map(|e| Event {
                    equipment: Some(Equipment { class, count }),
                    fire_s: fire,
                    ..e
                })
            }
            Template::SmallArms => {
                let duration_s = minutes(rng.log_normal(10.0, 0.7).clamp(2.0, 90.0));
                self.near_line(
                    rng,
                    template,
                    Kind::SmallArmsFire,
                    (0.0, 2_500.0),
                    duration_s,
                    &FIRE_HOURS,
                )
            }
            Template::Equipment => {
                let class = [
                    EquipmentClass::Tank,
                    EquipmentClass::ArtilleryGe100mm,
                    EquipmentClass::Mlrs,
                    EquipmentClass::MlrsHeavy,
                    EquipmentClass::ApcIfv,
                ][rng.weighted(&[0.3, 0.3, 0.2, 0.05, 0.15])];
                let band = self.prohibited_band(rng, class);
                let count = (1 + rng.poisson(2.5)).min(12);
                let duration_s = (rng.log_normal(10.0, 0.8).clamp(2.0, 48.0) * 3600.0) as i64;
                self.near_line(
                    rng,
                    template,
                    Kind::EquipmentSighting,
                    band,
                    duration_s,
                    &NIGHT_HOURS,
                )
                .map(|e| Event {
                    equipment: Some(Equipment { class, count }),
                    ..e
                })
            }
            Template::Movement => {
                let class = [
                    EquipmentClass::Tank,
                    EquipmentClass::ApcIfv,
                    EquipmentClass::ArtilleryGe100mm,
                    EquipmentClass::Mlrs,
                ][rng.weighted(&[0.3, 0.4, 0.2, 0.1])];
                let count = (3 + rng.poisson(5.0)).min(30);
                let duration_s = minutes(rng.range(30.0, 180.0));
                self.near_line(
                    rng,
                    template,
                    Kind::Movement,
                    (3_000.0, 50_000.0),
                    duration_s,
                    &EVEN_HOURS,
                )
                .map(|e| Event {
                    equipment: Some(Equipment { class, count }),
                    ..e
                })
            }
            Template::Troops => {
                let duration_s = minutes(rng.range(4.0, 24.0) * 60.0);
                self.near_line(
                    rng,
                    template,
                    Kind::TroopPresence,
                    (500.0, 10_000.0),
                    duration_s,
                    &EVEN_HOURS,
                )
            }
            Template::PatrolRestriction => self.patrol_restriction(rng),
            Template::UavJamming => self.uav_jamming(rng),
            Template::CivilianHarm | Template::InfrastructureDamage => {
                let (kind, fire_p) = if template == Template::CivilianHarm {
                    (Kind::CivilianHarm, 0.45)
                } else {
                    (Kind::InfrastructureDamage, 0.7)
                };
                let fire = rng.chance(fire_p).then(|| burn_s(rng, 30.0, 90.0, 360.0));
                self.near_line(rng, template, kind, (1_000.0, 25_000.0), 0, &EVEN_HOURS)
                    .map(|e| Event {
                        perpetrator: self.party(other(e.side)),
                        fire_s: fire,
                        ..e
                    })
            }
            Template::DeepStrike => {
                let kind = if rng.chance(0.6) {
                    Kind::InfrastructureDamage
                } else {
                    Kind::Explosion
                };
                let side = if rng.chance(0.7) {
                    PartySide::Outside
                } else {
                    PartySide::Inside
                };
                let start_s = self.calendar.draw_time(rng, &STRIKE_HOURS)?;
                let (position, _) =
                    self.front
                        .place(rng, Along::Anywhere, Some(side), (60_000.0, 200_000.0))?;
                Some(Event {
                    template,
                    kind,
                    start_s,
                    end_s: start_s,
                    position,
                    side,
                    perpetrator: self.party(other(side)),
                    equipment: None,
                    fire_s: rng.chance(0.9).then(|| burn_s(rng, 60.0, 120.0, 480.0)),
                    subject: None,
                })
            }
        }
    }

    /// An event of `duration_s` at a distance in `band_m` from the line, on a random side,
    /// mostly in hot sectors; carried out by the party of its side unless the caller says
    /// otherwise.
    fn near_line(
        &self,
        rng: &mut Rng,
        template: Template,
        kind: Kind,
        band_m: (f64, f64),
        duration_s: i64,
        hours: &[f64; 24],
    ) -> Option<Event> {
        let start_s = self.calendar.draw_time(rng, hours)?;
        let side = random_side(rng);
        let (position, assessment) = self
            .front
            .place(rng, Along::Hot(0.85), Some(side), band_m)?;
        Some(Event {
            template,
            kind,
            start_s,
            end_s: start_s + duration_s,
            position,
            side: assessment.side,
            perpetrator: self.party(assessment.side),
            equipment: None,
            fire_s: None,
            subject: None,
        })
    }

    /// A band of a zone that prohibits `class` (weapons moved where they must not be), or
    /// 15–50 km when no zone does.
    fn prohibited_band(&self, rng: &mut Rng, class: EquipmentClass) -> (f64, f64) {
        let zones: Vec<&Zone> = self
            .agreement
            .zones
            .iter()
            .filter(|z| zone_prohibits(z, class) && z.lower_m < 60_000.0)
            .collect();
        if zones.is_empty() {
            return (15_000.0, 50_000.0);
        }
        let zone = zones[rng.below(zones.len())];
        (zone.lower_m + 500.0, zone.upper_m.min(60_000.0))
    }

    fn patrol_restriction(&self, rng: &mut Rng) -> Option<Event> {
        let day = rng.weighted(&self.calendar.day_weights);
        let patrols = self.sensors.patrols.get(day)?;
        if patrols.is_empty() {
            return None;
        }
        let index = rng.below(patrols.len());
        let patrol = &patrols[index];
        let start_s = rng.int(patrol.start_s + 30 * MINUTE_S, patrol.end_s - HOUR_S);
        let (position, assessment) = self.front.place_near(rng, patrol.base, 6_000.0)?;
        Some(Event {
            template: Template::PatrolRestriction,
            kind: Kind::MonitorRestriction,
            start_s,
            end_s: start_s + minutes(rng.range(20.0, 180.0)),
            position,
            side: assessment.side,
            perpetrator: self.party(assessment.side),
            equipment: None,
            fire_s: None,
            subject: Some((day, index)),
        })
        .filter(|e| self.calendar.contains(e.start_s))
    }

    fn uav_jamming(&self, rng: &mut Rng) -> Option<Event> {
        let day = rng.weighted(&self.calendar.day_weights);
        let sorties = self.sensors.sorties.get(day)?;
        if sorties.is_empty() {
            return None;
        }
        let index = rng.below(sorties.len());
        let sortie = &sorties[index];
        let start_s = rng.int(sortie.start_s, sortie.end_s - 10 * MINUTE_S);
        let (position, assessment) = self.front.place_near(rng, sortie.center, sortie.radius_m)?;
        Some(Event {
            template: Template::UavJamming,
            kind: Kind::MonitorRestriction,
            start_s,
            end_s: start_s + minutes(rng.range(10.0, 40.0)),
            position,
            side: assessment.side,
            perpetrator: self.party(assessment.side),
            equipment: None,
            fire_s: None,
            subject: Some((day, index)),
        })
        .filter(|e| self.calendar.contains(e.start_s))
    }
}

/// Whole seconds of `m` minutes.
pub fn minutes(m: f64) -> i64 {
    (m * 60.0).round() as i64
}

/// A fire's burning time: `min_minutes` plus an exponential of mean `mean_minutes`, at most
/// `max_minutes`, in seconds.
fn burn_s(rng: &mut Rng, min_minutes: f64, mean_minutes: f64, max_minutes: f64) -> i64 {
    minutes((min_minutes + rng.exponential(mean_minutes)).min(max_minutes))
}
