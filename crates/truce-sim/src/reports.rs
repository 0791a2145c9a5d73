//! What the sensors report about an event: satellites (heat of fires at overpass times),
//! acoustic arrays (bearings, arriving at the speed of sound), patrols (coarse positions,
//! times to the minute, written up later), UAVs (precise sightings), party claims and OSINT.
//!
//! Reports carry no hint of whether they are true: a false claim (see `noise`) is written by
//! the same code with the same distributions as a true one.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use truce_core::{Bearing, Equipment, EquipmentClass, Evidence, Kind};
use truce_geo::{LonLat, great_circle_distance_m};

use crate::earth::{azimuth_deg, compass, jitter, normalise_deg, offset, rounded, sigma_for};
use crate::events::{Event, Template};
use crate::rng::Rng;
use crate::sensors::{
    ACOUSTIC_RANGE_M, DAY_S, HOUR_S, Instrument, MINUTE_S, PATROL_HEARING_M, PATROL_SIGHT_M,
    SATELLITES, SOUND_M_PER_S, Sensors,
};

/// One report before it gets its `source_ref` (given in time order when the scenario is
/// written).
#[derive(Clone, Debug)]
pub struct Draft {
    pub source: String,
    pub kind: Kind,
    pub at_s: i64,
    pub until_s: Option<i64>,
    pub location: Option<(LonLat, f64)>,
    pub bearing: Option<Bearing>,
    pub party: Option<String>,
    pub equipment: Option<Equipment>,
    pub credibility: Option<u8>,
    pub text: Option<String>,
    pub evidence: Vec<Evidence>,
    pub attributes: Map<String, Value>,
    /// Index of the event it is about; `None` for noise and false claims.
    pub truth: Option<usize>,
    /// Breaks ties between reports of the same source and second.
    pub tiebreak: u64,
}

impl Draft {
    fn new(rng: &mut Rng, source: impl Into<String>, kind: Kind, at_s: i64) -> Draft {
        Draft {
            source: source.into(),
            kind,
            at_s,
            until_s: None,
            location: None,
            bearing: None,
            party: None,
            equipment: None,
            credibility: None,
            text: None,
            evidence: Vec::new(),
            attributes: Map::new(),
            truth: None,
            tiebreak: rng.next_u64(),
        }
    }

    /// True for the sources that observe directly and are graded A–C (satellites, acoustic
    /// arrays, patrols, UAVs), as opposed to claims and open sources.
    pub fn is_direct(&self) -> bool {
        ["firms:", "acoustic:", "patrol:", "uav:"]
            .iter()
            .any(|p| self.source.starts_with(p))
    }
}

/// Everything the reporters need to know about the scenario.
pub struct Reporter<'a> {
    pub sensors: &'a Sensors,
    /// `party:<id>` per agreement party.
    pub party_sources: Vec<String>,
    pub party_ids: Vec<String>,
    pub seed: u64,
}

pub const OSINT_CHANNELS: usize = 24;

fn osint_source(channel: usize) -> String {
    format!("osint:ch{:02}", channel + 1)
}

fn equipment_phrase(e: Equipment) -> String {
    let name = match e.class {
        EquipmentClass::Tank => "tanks",
        EquipmentClass::ApcIfv => "APCs/IFVs",
        EquipmentClass::ArtilleryGe100mm => "artillery pieces (100 mm or more)",
        EquipmentClass::ArtilleryLt100mm => "artillery pieces (under 100 mm)",
        EquipmentClass::Mortar => "mortars",
        EquipmentClass::Mlrs => "multiple rocket launchers",
        EquipmentClass::MlrsHeavy => "heavy multiple rocket launchers",
        EquipmentClass::TacticalMissile => "tactical missile launchers",
        EquipmentClass::AirDefence => "air-defence systems",
        EquipmentClass::CombatAircraft => "combat aircraft",
        EquipmentClass::Helicopter => "helicopters",
        EquipmentClass::Uav => "UAVs",
        EquipmentClass::Other => "vehicles",
    };
    format!("{} {name}", e.count)
}

fn fire_phrase(kind: Kind) -> &'static str {
    match kind {
        Kind::OutgoingFire => "outgoing rounds",
        Kind::SmallArmsFire => "bursts of small-arms fire",
        _ => "explosions",
    }
}

/// Whole minutes (patrols and claims give times to the minute, or to five minutes).
fn to_minutes(t_s: i64, step_min: i64) -> i64 {
    let step = step_min * MINUTE_S;
    (t_s + step / 2).div_euclid(step) * step
}

fn hhmm(t_s: i64) -> String {
    let in_day = t_s.rem_euclid(DAY_S);
    format!("{:02}:{:02}", in_day / HOUR_S, in_day % HOUR_S / MINUTE_S)
}

/// A content hash for a synthetic attachment, as a source would upload one.
fn evidence(seed: u64, salt: &str, media_type: &str, at_s: i64) -> Evidence {
    let digest = Sha256::digest(format!("truce-sim {seed} {salt} {at_s}").as_bytes());
    Evidence {
        sha256: hex::encode(digest),
        media_type: media_type.to_owned(),
        name: None,
        captured_at: chrono::DateTime::from_timestamp(at_s, 0),
    }
}

/// A located position for a report: the truth displaced by the source's error, rounded as
/// the source writes it.
fn located(rng: &mut Rng, truth: LonLat, uncertainty_m: f64, decimals: i32) -> (LonLat, f64) {
    (
        rounded(jitter(rng, truth, sigma_for(uncertainty_m)), decimals),
        uncertainty_m,
    )
}

impl Reporter<'_> {
    /// Every report of `event` (index `index`); empty when no direct source noticed it (a claim
    /// or a post alone about a real event could not be told from a false one).
    pub fn report(&self, rng: &mut Rng, index: usize, event: &Event) -> Vec<Draft> {
        let mut drafts = Vec::new();
        let bursts = self.bursts(rng, event);
        match event.template {
            Template::Shelling | Template::Launch | Template::SmallArms => {
                self.acoustic(rng, event, &bursts, &mut drafts);
                self.satellites(rng, event, &mut drafts);
                self.patrol_hears(rng, event, &bursts, &mut drafts);
                self.uav_sees_fire(rng, event, &mut drafts);
                let (claim_p, osint_p) = match event.template {
                    Template::Shelling => (0.35, 0.10),
                    Template::Launch => (0.15, 0.05),
                    _ => (0.30, 0.03),
                };
                self.party_claim(rng, event, claim_p, &mut drafts);
                self.osint(rng, event, osint_p, 0.4, &mut drafts);
            }
            Template::Equipment | Template::Movement | Template::Troops => {
                let (uav_p, patrol_p, claim_p, osint_p) = match event.template {
                    Template::Equipment => (0.75, 0.6, 0.35, 0.2),
                    Template::Movement => (0.6, 0.5, 0.25, 0.25),
                    _ => (0.7, 0.5, 0.2, 0.1),
                };
                self.uav_sights(rng, event, uav_p, &mut drafts);
                self.patrol_sees(rng, event, patrol_p, &mut drafts);
                self.party_claim(rng, event, claim_p, &mut drafts);
                self.osint(rng, event, osint_p, 0.4, &mut drafts);
            }
            Template::PatrolRestriction => self.patrol_restricted(rng, event, &mut drafts),
            Template::UavJamming => self.uav_jammed(rng, event, &mut drafts),
            Template::CivilianHarm | Template::InfrastructureDamage => {
                self.acoustic(rng, event, &bursts, &mut drafts);
                self.satellites(rng, event, &mut drafts);
                self.patrol_visits(rng, event, &mut drafts);
                self.uav_sees_fire(rng, event, &mut drafts);
                self.party_claim(rng, event, 0.8, &mut drafts);
                self.osint(rng, event, 0.6, 0.5, &mut drafts);
            }
            Template::DeepStrike => {
                self.satellites(rng, event, &mut drafts);
                self.party_claim(rng, event, 0.9, &mut drafts);
                self.osint(rng, event, 0.95, 1.5, &mut drafts);
            }
        }
        if !drafts.iter().any(Draft::is_direct) {
            drafts.clear();
        }
        for d in &mut drafts {
            d.truth = Some(index);
        }
        drafts
    }

    /// The moments of an event loud enough to be heard: its start, and for longer exchanges
    /// further salvos inside it.
    fn bursts(&self, rng: &mut Rng, event: &Event) -> Vec<i64> {
        let mut times = vec![event.start_s];
        let extra_max = (event.duration_s() / (6 * MINUTE_S)).min(6);
        for _ in 0..extra_max {
            if rng.chance(0.6) {
                times.push(rng.int(event.start_s, event.end_s));
            }
        }
        times.sort_unstable();
        times
    }

    /// Arrays in range hear each burst with a probability falling with distance; the bearing
    /// has the array's noise and arrives after the sound's travel time. Launches and impacts
    /// are told apart, with 5% of them confused.
    fn acoustic(&self, rng: &mut Rng, event: &Event, bursts: &[i64], out: &mut Vec<Draft>) {
        let (range_m, p_max) = match event.template {
            Template::SmallArms => (8_000.0, 0.7),
            _ => (ACOUSTIC_RANGE_M, 0.92),
        };
        let heard_kind = match event.kind {
            Kind::OutgoingFire | Kind::SmallArmsFire => event.kind,
            _ => Kind::Explosion,
        };
        for array in &self.sensors.arrays {
            let r = great_circle_distance_m(array.position, event.position);
            if r > range_m {
                continue;
            }
            let p = p_max * (1.0 - (r / range_m).powi(2));
            for &t in bursts {
                if !rng.chance(p) {
                    continue;
                }
                let source_point = jitter(rng, event.position, 80.0);
                let true_azimuth = azimuth_deg(array.position, source_point);
                let azimuth = normalise_deg(true_azimuth + array.sigma_deg * rng.normal());
                let travel_s = (r / SOUND_M_PER_S).round() as i64;
                let kind = match heard_kind {
                    Kind::Explosion if rng.chance(0.05) => Kind::OutgoingFire,
                    Kind::OutgoingFire if rng.chance(0.05) => Kind::Explosion,
                    k => k,
                };
                let mut d = Draft::new(rng, array.source.clone(), kind, t + travel_s);
                d.bearing = Some(Bearing {
                    observer: array.position,
                    azimuth_deg: (azimuth * 10.0).round() / 10.0 % 360.0,
                    sigma_deg: array.sigma_deg,
                    max_range_m: Some(ACOUSTIC_RANGE_M),
                });
                d.attributes.insert(
                    "snr_db".into(),
                    json!((rng.range(6.0, 30.0) * 10.0).round() / 10.0),
                );
                out.push(d);
            }
        }
    }

    /// Each clear pass over a burning fire detects it with the satellite's probability, in
    /// one to three neighbouring pixels.
    fn satellites(&self, rng: &mut Rng, event: &Event, out: &mut Vec<Draft>) {
        let Some(burn_s) = event.fire_s else { return };
        let ignition_s = event.start_s + rng.int(0, event.duration_s().min(10 * MINUTE_S));
        let fire = jitter(rng, event.position, 60.0);
        for pass in self.sensors.passes_between(ignition_s, ignition_s + burn_s) {
            if !self.sensors.covers(pass, fire) || self.sensors.cloudy(pass.time_s, fire) {
                continue;
            }
            let satellite = SATELLITES[pass.satellite];
            if !rng.chance(satellite.detect_p) {
                continue;
            }
            firms_pixels(
                rng,
                pass.satellite,
                pass.time_s,
                pass.edge,
                pass.night,
                fire,
                out,
            );
        }
    }

    /// The patrol teams on duty within hearing report the event once: a coarse position
    /// (2–5 km, coarser the farther it was) or, one time in five, a compass direction.
    fn patrol_hears(&self, rng: &mut Rng, event: &Event, bursts: &[i64], out: &mut Vec<Draft>) {
        let Some(day) = self.sensors.day_of(event.start_s) else {
            return;
        };
        let hearing_m = match event.template {
            Template::SmallArms => PATROL_HEARING_M / 2.0,
            _ => PATROL_HEARING_M,
        };
        for patrol in &self.sensors.patrols[day] {
            if event.start_s < patrol.start_s || event.start_s > patrol.end_s {
                continue;
            }
            let r = great_circle_distance_m(patrol.base, event.position);
            if r > hearing_m || !rng.chance(0.8 * (1.0 - r / hearing_m)) {
                continue;
            }
            let at_s = to_minutes(event.start_s + (180.0 * rng.normal()) as i64, 1);
            let mut d = Draft::new(rng, patrol_source(patrol.team), event.kind, at_s);
            let azimuth = azimuth_deg(patrol.base, event.position);
            let heard = bursts.len() * (1 + rng.below(3));
            if rng.chance(0.2) {
                let said = (normalise_deg(azimuth + 5.0 * rng.normal()) / 22.5).round() * 22.5;
                d.bearing = Some(Bearing {
                    observer: rounded(patrol.base, 4),
                    azimuth_deg: normalise_deg(said),
                    sigma_deg: 15.0,
                    max_range_m: Some(10_000.0),
                });
                d.text = Some(format!(
                    "Patrol heard {heard} {} to the {} of its position",
                    fire_phrase(event.kind),
                    compass(said)
                ));
            } else {
                let uncertainty_m = ((r * 0.5 + 1_500.0) / 1000.0).ceil().clamp(2.0, 5.0) * 1000.0;
                d.location = Some(located(rng, event.position, uncertainty_m, 4));
                d.text = Some(format!(
                    "Patrol heard {heard} {} approx. {:.0} km {} of its position",
                    fire_phrase(event.kind),
                    (r / 1000.0).max(1.0),
                    compass(azimuth)
                ));
            }
            if event.duration_s() >= 10 * MINUTE_S && rng.chance(0.5) {
                d.until_s = Some(to_minutes(event.end_s + (180.0 * rng.normal()) as i64, 1));
                d.until_s = d.until_s.filter(|&u| u >= d.at_s);
            }
            d.credibility = Some(2);
            filed_after(&mut d, rng, patrol.end_s, 3);
            out.push(d);
        }
    }

    /// A UAV in the air over the event sees it now and then, precisely.
    fn uav_sees_fire(&self, rng: &mut Rng, event: &Event, out: &mut Vec<Draft>) {
        let Some(day) = self.sensors.day_of(event.start_s) else {
            return;
        };
        for sortie in &self.sensors.sorties[day] {
            if event.start_s < sortie.start_s
                || event.start_s > sortie.end_s
                || great_circle_distance_m(sortie.center, event.position) > sortie.radius_m
                || !rng.chance(0.3)
            {
                continue;
            }
            let at_s = event.start_s + rng.int(0, 30);
            let mut d = Draft::new(rng, uav_source(sortie.uav), event.kind, at_s);
            d.location = Some(located(rng, event.position, 100.0, 5));
            d.equipment = event.equipment;
            d.credibility = Some(2);
            d.text = Some(match event.equipment {
                Some(e) => format!("UAV observed {} firing", equipment_phrase(e)),
                None => format!("UAV observed {}", fire_phrase(event.kind)),
            });
            d.evidence
                .push(evidence(self.seed, &d.source, "video/mp4", at_s));
            out.push(d);
            break;
        }
    }

    /// Every sortie over equipment (or a column, or works) while it is there may sight it once,
    /// counting most of it.
    fn uav_sights(&self, rng: &mut Rng, event: &Event, p: f64, out: &mut Vec<Draft>) {
        for day in self.days_of(event) {
            for sortie in &self.sensors.sorties[day] {
                let from_s = sortie.start_s.max(event.start_s);
                let to_s = sortie.end_s.min(event.end_s);
                if from_s > to_s
                    || great_circle_distance_m(sortie.center, event.position) > sortie.radius_m
                    || !rng.chance(p)
                {
                    continue;
                }
                let at_s = rng.int(from_s, to_s);
                let mut d = Draft::new(rng, uav_source(sortie.uav), event.kind, at_s);
                d.location = Some(located(rng, event.position, 100.0, 5));
                d.equipment = event.equipment.map(|e| Equipment {
                    count: (0..e.count).filter(|_| !rng.chance(0.1)).count().max(1) as u32,
                    ..e
                });
                d.party = Some(self.party_ids[event.perpetrator].clone());
                d.credibility = Some(2);
                d.text = Some(match d.equipment {
                    Some(e) => format!("UAV imagery shows {}", equipment_phrase(e)),
                    None => "UAV imagery shows fresh trenches and dug-in positions".to_owned(),
                });
                d.evidence
                    .push(evidence(self.seed, &d.source, "image/jpeg", at_s));
                out.push(d);
            }
        }
    }

    /// Patrols on duty within sight of equipment, a column or works report it.
    fn patrol_sees(&self, rng: &mut Rng, event: &Event, p: f64, out: &mut Vec<Draft>) {
        for day in self.days_of(event) {
            for patrol in &self.sensors.patrols[day] {
                let from_s = patrol.start_s.max(event.start_s);
                let to_s = patrol.end_s.min(event.end_s);
                if from_s > to_s
                    || great_circle_distance_m(patrol.base, event.position) > PATROL_SIGHT_M
                    || !rng.chance(p)
                {
                    continue;
                }
                let at_s = to_minutes(rng.int(from_s, to_s), 1);
                let mut d = Draft::new(rng, patrol_source(patrol.team), event.kind, at_s);
                d.location = Some(located(rng, event.position, 2_000.0, 4));
                d.equipment = event.equipment.map(|e| Equipment {
                    count: if rng.chance(0.3) {
                        e.count.saturating_sub(1).max(1)
                    } else {
                        e.count
                    },
                    ..e
                });
                d.party = Some(self.party_ids[event.perpetrator].clone());
                d.credibility = Some(2);
                d.text = Some(match d.equipment {
                    Some(e) => format!("Patrol observed {}", equipment_phrase(e)),
                    None => "Patrol observed soldiers digging positions".to_owned(),
                });
                filed_after(&mut d, rng, patrol.end_s, 3);
                out.push(d);
            }
        }
    }

    /// A patrol visits the site of a strike the same or the next day, if one works within
    /// 25 km, and reports what residents say of the time.
    fn patrol_visits(&self, rng: &mut Rng, event: &Event, out: &mut Vec<Draft>) {
        let Some(day) = self.sensors.day_of(event.start_s) else {
            return;
        };
        let days = [day, day + 1];
        let visitor = days
            .iter()
            .filter_map(|&d| self.sensors.patrols.get(d))
            .flatten()
            .find(|p| {
                p.end_s > event.start_s + HOUR_S
                    && great_circle_distance_m(p.base, event.position) < 25_000.0
            });
        let Some(patrol) = visitor else { return };
        if !rng.chance(0.45) {
            return;
        }
        let at_s = to_minutes(event.start_s + (600.0 * rng.normal()) as i64, 5);
        let mut d = Draft::new(rng, patrol_source(patrol.team), event.kind, at_s);
        d.location = Some(located(rng, event.position, 500.0, 4));
        d.credibility = Some(2);
        d.text = Some(format!(
            "Patrol visited the site; residents say it was hit at about {}",
            hhmm(at_s)
        ));
        let visit_s = rng.int(
            patrol.start_s.max(event.start_s + HOUR_S),
            patrol.end_s.max(event.start_s + HOUR_S),
        );
        filed_after(&mut d, rng, visit_s, 4);
        out.push(d);
    }

    /// The patrol that was stopped reports it, to the minute and with its own position; a
    /// third of the time its daily report says it again.
    fn patrol_restricted(&self, rng: &mut Rng, event: &Event, out: &mut Vec<Draft>) {
        let Some(patrol) = event
            .subject
            .and_then(|(day, i)| self.sensors.patrols.get(day)?.get(i))
        else {
            return;
        };
        let party = self.party_ids[event.perpetrator].clone();
        let mut d = Draft::new(
            rng,
            patrol_source(patrol.team),
            event.kind,
            to_minutes(event.start_s, 1),
        );
        d.until_s = Some(to_minutes(event.end_s, 1));
        d.location = Some(located(rng, event.position, 100.0, 5));
        d.party = Some(party.clone());
        d.credibility = Some(1);
        d.text = Some("Patrol denied passage at a checkpoint by armed personnel".to_owned());
        out.push(d);
        if rng.chance(0.3) {
            let at_s = to_minutes(event.start_s + (120.0 * rng.normal()) as i64, 5);
            let mut d = Draft::new(rng, patrol_source(patrol.team), event.kind, at_s);
            d.location = Some(located(rng, event.position, 250.0, 4));
            d.party = Some(party);
            d.credibility = Some(2);
            d.text = Some(format!(
                "Daily report: the patrol was stopped at a checkpoint at about {}",
                hhmm(at_s)
            ));
            filed_after(&mut d, rng, patrol.end_s, 3);
            out.push(d);
        }
    }

    /// The jammed UAV reports where it lost its signals (its own position, degraded).
    fn uav_jammed(&self, rng: &mut Rng, event: &Event, out: &mut Vec<Draft>) {
        let Some(sortie) = event
            .subject
            .and_then(|(day, i)| self.sensors.sorties.get(day)?.get(i))
        else {
            return;
        };
        let mut d = Draft::new(rng, uav_source(sortie.uav), event.kind, event.start_s);
        d.until_s = Some(event.end_s);
        d.location = Some(located(rng, event.position, 1_000.0, 4));
        d.party = Some(self.party_ids[event.perpetrator].clone());
        d.credibility = Some(2);
        d.text = Some("UAV lost its satellite navigation and control link: jamming".to_owned());
        out.push(d);
    }

    /// The party that suffered (or, for equipment and launches, the other party) may claim it.
    fn party_claim(&self, rng: &mut Rng, event: &Event, p: f64, out: &mut Vec<Draft>) {
        if !rng.chance(p) {
            return;
        }
        let claimant = 1 - event.perpetrator.min(1);
        out.push(claim(
            rng,
            self,
            claimant,
            event.perpetrator,
            event.kind,
            event.position,
            event.start_s,
            event.end_s,
            event.equipment,
        ));
    }

    /// Open sources: one or more channels post about it, some geolocated precisely.
    fn osint(&self, rng: &mut Rng, event: &Event, p: f64, extra_mean: f64, out: &mut Vec<Draft>) {
        if !rng.chance(p) {
            return;
        }
        let channels = (1 + rng.poisson(extra_mean) as usize).min(OSINT_CHANNELS);
        let first = rng.below(OSINT_CHANNELS);
        for k in 0..channels {
            let channel = (first + k * 7) % OSINT_CHANNELS;
            out.push(post(
                rng,
                self,
                channel,
                event.perpetrator,
                event.kind,
                event.position,
                event.start_s,
                event.end_s,
                event.equipment,
            ));
        }
    }

    fn days_of(&self, event: &Event) -> impl Iterator<Item = usize> + use<> {
        let first = self.sensors.day_of(event.start_s);
        let last = self
            .sensors
            .day_of(event.end_s)
            .or(first.map(|_| self.sensors.patrols.len() - 1));
        match (first, last) {
            (Some(a), Some(b)) => a..b + 1,
            _ => 0..0,
        }
    }
}

pub fn patrol_source(team: usize) -> String {
    format!("patrol:t{:02}", team + 1)
}

pub fn uav_source(uav: usize) -> String {
    format!("uav:u{:02}", uav + 1)
}

/// Records when a patrol actually filed its report: one to `max_hours` hours after `done_s`.
fn filed_after(d: &mut Draft, rng: &mut Rng, done_s: i64, max_hours: i64) {
    let filed_s = done_s + rng.int(HOUR_S, max_hours * HOUR_S);
    d.attributes
        .insert("reported_at".into(), json!(rfc3339(filed_s)));
}

pub fn rfc3339(t_s: i64) -> String {
    chrono::DateTime::from_timestamp(t_s, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A party's claim that `perpetrator` did `kind` near `position` about `start_s`: a
/// settlement-level position (1–5 km), a time rounded to five minutes, a handler's
/// credibility of 3–5. Used for true and false claims alike.
#[allow(clippy::too_many_arguments)]
pub fn claim(
    rng: &mut Rng,
    reporter: &Reporter<'_>,
    claimant: usize,
    perpetrator: usize,
    kind: Kind,
    position: LonLat,
    start_s: i64,
    end_s: i64,
    equipment: Option<Equipment>,
) -> Draft {
    let at_s = match kind {
        Kind::EquipmentSighting | Kind::Movement | Kind::TroopPresence => {
            to_minutes(rng.int(start_s, end_s) + rng.int(-30, 30) * MINUTE_S, 5)
        }
        _ => to_minutes(start_s + (600.0 * rng.normal()) as i64, 5),
    };
    let uncertainty_m = match kind {
        Kind::EquipmentSighting | Kind::Movement | Kind::OutgoingFire => rng.range(2.0, 5.0),
        _ => rng.range(1.0, 3.0),
    }
    .round()
        * 1000.0;
    let mut d = Draft::new(rng, reporter.party_sources[claimant].clone(), kind, at_s);
    d.location = Some(located(rng, position, uncertainty_m, 3));
    let accused = reporter.party_ids[perpetrator].clone();
    d.equipment = equipment.map(|e| Equipment {
        count: e.count + rng.below(3) as u32,
        ..e
    });
    d.credibility = Some(rng.int(3, 5) as u8);
    d.text = Some(match kind {
        Kind::EquipmentSighting | Kind::Movement => format!(
            "{accused} moved {} into the area, in breach of the agreement",
            d.equipment
                .map_or_else(|| "heavy weapons".to_owned(), equipment_phrase)
        ),
        Kind::OutgoingFire => format!("{accused} fired on our positions from this area"),
        Kind::SmallArmsFire => format!("{accused} opened fire on our positions"),
        Kind::CivilianHarm => format!("{accused} shelling killed or wounded civilians"),
        Kind::InfrastructureDamage => format!("{accused} strike damaged civilian buildings"),
        Kind::TroopPresence => format!("{accused} is fortifying positions in the zone"),
        _ => format!("{accused} shelled the area"),
    });
    d.party = Some(accused);
    d
}

/// An open-source post: geolocated to ~300 m a third of the time, else to the town (3–5 km);
/// posted up to an hour after the fact, with the time it was posted, not always the time it
/// happened. Used for true and false posts alike.
#[allow(clippy::too_many_arguments)]
pub fn post(
    rng: &mut Rng,
    reporter: &Reporter<'_>,
    channel: usize,
    perpetrator: usize,
    kind: Kind,
    position: LonLat,
    start_s: i64,
    end_s: i64,
    equipment: Option<Equipment>,
) -> Draft {
    let at_s = to_minutes(rng.int(start_s, end_s) + rng.int(-5, 45) * MINUTE_S, 1);
    let mut d = Draft::new(rng, osint_source(channel), kind, at_s);
    let geolocated = rng.chance(0.35);
    let uncertainty_m = if geolocated {
        300.0
    } else {
        rng.range(3.0, 5.0).round() * 1000.0
    };
    d.location = Some(located(rng, position, uncertainty_m, 4));
    if rng.chance(0.6) {
        d.party = Some(reporter.party_ids[perpetrator].clone());
    }
    d.equipment = equipment;
    d.credibility = Some(rng.int(4, 6) as u8);
    d.text = Some(match kind {
        Kind::EquipmentSighting | Kind::Movement => format!(
            "Video of {} on a road nearby",
            equipment.map_or_else(|| "military vehicles".to_owned(), equipment_phrase)
        ),
        Kind::CivilianHarm => "Locals report casualties after a strike".to_owned(),
        Kind::InfrastructureDamage => "Photos of damaged houses after a strike".to_owned(),
        Kind::TroopPresence => "Footage of trench digging".to_owned(),
        k => format!("Video of {} in the area", fire_phrase(k)),
    });
    if geolocated {
        d.evidence
            .push(evidence(reporter.seed, &d.source, "video/mp4", at_s));
    }
    d
}

/// The FIRMS rows of one detection: one to three neighbouring pixels around `fire`, each
/// with the pixel's size (`scan`, `track` in km) and `uncertainty_m` = 500 × √(scan² + track²)
/// as `observation.md` defines for FIRMS. The same code writes the heat of field fires.
pub fn firms_pixels(
    rng: &mut Rng,
    satellite: usize,
    pass_time_s: i64,
    edge: bool,
    night: bool,
    fire: LonLat,
    out: &mut Vec<Draft>,
) {
    let sat = SATELLITES[satellite];
    let (scan_km, track_km) = match (sat.instrument, edge) {
        (Instrument::Viirs, false) => (rng.range(0.36, 0.46), rng.range(0.36, 0.42)),
        (Instrument::Viirs, true) => (rng.range(0.5, 0.8), rng.range(0.45, 0.75)),
        (Instrument::Modis, _) => (rng.range(1.0, 2.0), rng.range(1.0, 1.4)),
    };
    let scan_km = (scan_km * 100.0).round() / 100.0;
    let track_km = (track_km * 100.0).round() / 100.0;
    let uncertainty_m = 500.0 * (scan_km * scan_km + track_km * track_km).sqrt();
    let pixels = match sat.instrument {
        Instrument::Viirs => 1 + usize::from(rng.chance(0.35)) + usize::from(rng.chance(0.1)),
        Instrument::Modis => 1,
    };
    // The granule is scanned south to north over a few minutes.
    let at_s = to_minutes(pass_time_s + ((fire.lat_deg - 47.5) * 72.0) as i64, 1);
    // Where the fire falls inside the first pixel.
    let east_m = rng.range(-0.5, 0.5) * scan_km * 1000.0 + 50.0 * rng.normal();
    let north_m = rng.range(-0.5, 0.5) * track_km * 1000.0 + 50.0 * rng.normal();
    let first = offset(fire, -east_m, -north_m);
    for k in 0..pixels {
        let center = match k {
            0 => first,
            1 => offset(
                first,
                scan_km * 1000.0 * if rng.chance(0.5) { 1.0 } else { -1.0 },
                0.0,
            ),
            _ => offset(
                first,
                0.0,
                track_km * 1000.0 * if rng.chance(0.5) { 1.0 } else { -1.0 },
            ),
        };
        let mut d = Draft::new(rng, sat.source, Kind::ThermalAnomaly, at_s);
        d.location = Some((rounded(center, 5), uncertainty_m));
        let frp = (rng.log_normal(4.0, 0.9) * 100.0).round() / 100.0;
        let a = &mut d.attributes;
        match sat.instrument {
            Instrument::Viirs => {
                let ti4 = (rng.range(300.0, 367.0) * 100.0).round() / 100.0;
                a.insert("bright_ti4".into(), json!(ti4));
                a.insert(
                    "bright_ti5".into(),
                    json!((rng.range(280.0, 305.0) * 100.0).round() / 100.0),
                );
                let confidence = if ti4 > 355.0 {
                    "h"
                } else if ti4 > 310.0 {
                    "n"
                } else {
                    "l"
                };
                a.insert("confidence".into(), json!(confidence));
                a.insert("instrument".into(), json!("VIIRS"));
                a.insert("version".into(), json!("2.0NRT"));
            }
            Instrument::Modis => {
                a.insert(
                    "brightness".into(),
                    json!((rng.range(305.0, 360.0) * 10.0).round() / 10.0),
                );
                a.insert(
                    "bright_t31".into(),
                    json!((rng.range(280.0, 300.0) * 10.0).round() / 10.0),
                );
                a.insert("confidence".into(), json!(rng.int(30, 100)));
                a.insert("instrument".into(), json!("MODIS"));
                a.insert("version".into(), json!("6.1NRT"));
            }
        }
        a.insert("daynight".into(), json!(if night { "N" } else { "D" }));
        a.insert("frp".into(), json!(frp));
        a.insert("satellite".into(), json!(sat.satellite));
        a.insert("scan".into(), json!(scan_km));
        a.insert("track".into(), json!(track_km));
        out.push(d);
    }
}
