//! Reports about nothing: false party claims and open-source posts (placed where nothing
//! happened, so that nothing direct corroborates them), heat from industrial sites, and field
//! fires far behind the line — the heat spots a satellite sees that are no part of the conflict.

use truce_core::{Agreement, Kind};
use truce_geo::LonLat;

use crate::events::{Calendar, Event, EventIndex, FIRE_HOURS, minutes};
use crate::front::{Along, Front};
use crate::reports::{Draft, OSINT_CHANNELS, Reporter, claim, firms_pixels, post};
use crate::rng::Rng;
use crate::sensors::{DAY_S, HOUR_S, SATELLITES, Sensors};

/// A false report keeps this far from every real event ...
const FALSE_CLEARANCE_M: f64 = 5_000.0;
/// ... within this time of it.
const FALSE_CLEARANCE_S: i64 = 6 * HOUR_S;
/// Heat that is no part of the conflict is at least this far from the line ...
const HEAT_MIN_LINE_M: f64 = 60_000.0;
/// ... and this far from any real event within a day.
const HEAT_CLEARANCE_M: f64 = 15_000.0;

pub struct Noise<'a> {
    pub agreement: &'a Agreement,
    pub front: &'a Front,
    pub sensors: &'a Sensors,
    pub calendar: &'a Calendar,
    pub events: &'a [Event],
    pub index: &'a EventIndex,
}

impl Noise<'_> {
    fn clear_of_events(&self, p: LonLat, t_s: i64, radius_m: f64, within_s: i64) -> bool {
        !self
            .index
            .any_near(self.events, p, radius_m, (t_s, t_s), within_s)
    }

    /// A false claim by a random party: shelling, fire, harm on its own side near the line,
    /// or weapons of the other party in a zone.
    pub fn false_claim(&self, rng: &mut Rng, reporter: &Reporter<'_>) -> Option<Draft> {
        let claimant = rng.below(2);
        let accused = 1 - claimant;
        let (kind, band, side_of) = match rng.weighted(&[0.6, 0.15, 0.12, 0.05, 0.08]) {
            0 => (Kind::Explosion, (300.0, 15_000.0), claimant),
            1 => (Kind::SmallArmsFire, (0.0, 2_500.0), claimant),
            2 => (Kind::CivilianHarm, (1_000.0, 25_000.0), claimant),
            3 => (Kind::InfrastructureDamage, (1_000.0, 25_000.0), claimant),
            _ => (Kind::EquipmentSighting, (15_000.0, 50_000.0), accused),
        };
        let (position, start_s) = self.clear_spot(rng, band, Some(side_of))?;
        let (end_s, equipment) = if kind == Kind::EquipmentSighting {
            let class = [
                truce_core::EquipmentClass::Tank,
                truce_core::EquipmentClass::ArtilleryGe100mm,
                truce_core::EquipmentClass::Mlrs,
            ][rng.below(3)];
            let count = 1 + rng.poisson(2.5).min(11);
            (
                start_s + minutes(rng.range(2.0, 24.0) * 60.0),
                Some(truce_core::Equipment { class, count }),
            )
        } else {
            (start_s, None)
        };
        Some(claim(
            rng, reporter, claimant, accused, kind, position, start_s, end_s, equipment,
        ))
    }

    /// A false post (an old video, a wrong place) near the line.
    pub fn false_post(&self, rng: &mut Rng, reporter: &Reporter<'_>) -> Option<Draft> {
        let kind = [
            Kind::Explosion,
            Kind::CivilianHarm,
            Kind::EquipmentSighting,
            Kind::InfrastructureDamage,
        ][rng.weighted(&[0.5, 0.25, 0.15, 0.1])];
        let (position, start_s) = self.clear_spot(rng, (0.0, 20_000.0), None)?;
        let equipment = (kind == Kind::EquipmentSighting).then(|| truce_core::Equipment {
            class: truce_core::EquipmentClass::Tank,
            count: 1 + rng.poisson(3.0),
        });
        let channel = rng.below(OSINT_CHANNELS);
        let accused = rng.below(2);
        Some(post(
            rng, reporter, channel, accused, kind, position, start_s, start_s, equipment,
        ))
    }

    /// A place and time near the line with no real event within the clearance.
    fn clear_spot(
        &self,
        rng: &mut Rng,
        band_m: (f64, f64),
        side_of_party: Option<usize>,
    ) -> Option<(LonLat, i64)> {
        (0..20).find_map(|_| {
            let start_s = self.calendar.draw_time(rng, &FIRE_HOURS)?;
            let side = side_of_party.map(|p| self.agreement.parties[p].side);
            let (position, _) = self.front.place(rng, Along::Hot(0.7), side, band_m)?;
            self.clear_of_events(position, start_s, FALSE_CLEARANCE_M, FALSE_CLEARANCE_S)
                .then_some((position, start_s))
        })
    }

    /// A place far behind the line, away from every real event of the day.
    fn far_spot(&self, rng: &mut Rng, t_s: i64) -> Option<LonLat> {
        (0..20).find_map(|_| {
            let (p, _) =
                self.front
                    .place(rng, Along::Anywhere, None, (HEAT_MIN_LINE_M, 180_000.0))?;
            self.clear_of_events(p, t_s, HEAT_CLEARANCE_M, DAY_S)
                .then_some(p)
        })
    }

    /// Heat from a few industrial sites (steel works, gas flares) far behind the line: seen by
    /// most clear passes, on every day. At most `budget` rows.
    pub fn industrial_heat(&self, rng: &mut Rng, budget: usize) -> Vec<Draft> {
        let mut out = Vec::new();
        let sites: Vec<LonLat> = (0..6)
            .filter_map(|_| {
                self.front
                    .place(rng, Along::Anywhere, None, (HEAT_MIN_LINE_M, 180_000.0))
                    .map(|(p, _)| p)
            })
            .filter(|&p| {
                self.clear_of_events(p, self.calendar.start_s, HEAT_CLEARANCE_M, i64::MAX / 4)
            })
            .collect();
        for pass in &self.sensors.passes {
            if !self.calendar.contains(pass.time_s) {
                continue;
            }
            for &site in &sites {
                if out.len() >= budget {
                    return out;
                }
                if !self.sensors.covers(pass, site)
                    || self.sensors.cloudy(pass.time_s, site)
                    || !rng.chance(0.25)
                {
                    continue;
                }
                let mut pixels = Vec::new();
                firms_pixels(
                    rng,
                    pass.satellite,
                    pass.time_s,
                    pass.edge,
                    pass.night,
                    site,
                    &mut pixels,
                );
                pixels.truncate(budget - out.len());
                out.extend(pixels);
            }
        }
        out
    }

    /// Field and grass fires far behind the line, each burning an hour or a few and seen by
    /// the clear passes over it, until exactly `budget` rows are written (or the attempts run
    /// out).
    pub fn field_fires(&self, rng: &mut Rng, budget: usize) -> Vec<Draft> {
        let mut out = Vec::new();
        let mut attempts = 0;
        while out.len() < budget && attempts < budget * 50 + 100 {
            attempts += 1;
            // Farmers burn by day.
            let Some(start_s) = self.calendar.draw_time(rng, &DAY_HOURS) else {
                continue;
            };
            let Some(fire) = self.far_spot(rng, start_s) else {
                continue;
            };
            let burn_s = minutes(30.0 + rng.exponential(150.0).min(600.0));
            for pass in self.sensors.passes_between(start_s, start_s + burn_s) {
                if !self.sensors.covers(pass, fire)
                    || self.sensors.cloudy(pass.time_s, fire)
                    || !rng.chance(SATELLITES[pass.satellite].detect_p)
                {
                    continue;
                }
                let mut pixels = Vec::new();
                firms_pixels(
                    rng,
                    pass.satellite,
                    pass.time_s,
                    pass.edge,
                    pass.night,
                    fire,
                    &mut pixels,
                );
                pixels.truncate(budget - out.len());
                out.extend(pixels);
            }
        }
        out
    }
}

const DAY_HOURS: [f64; 24] = [
    0.2, 0.2, 0.2, 0.2, 0.3, 0.6, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0, 2.8, 2.5, 2.0, 1.5, 1.0, 0.6,
    0.4, 0.3, 0.2, 0.2, 0.2,
];
