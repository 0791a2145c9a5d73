//! The front as the simulator sees it: the contact line by arc length, the hot sectors where
//! most fighting happens, and placing a point at a wanted side and distance from the line.

use truce_core::{Agreement, Assessment, Assessor, PartySide};
use truce_geo::{LonLat, great_circle_distance_m};

use crate::earth::{azimuth_deg, destination, is_sea};
use crate::rng::Rng;

/// Polylines shorter than this (enclaves, islands of the control polygon) carry no activity.
const MIN_POLYLINE_M: f64 = 20_000.0;

#[derive(Clone, Copy, Debug)]
struct Segment {
    a: LonLat,
    b: LonLat,
    /// Arc length of the line before this segment, in metres.
    start_m: f64,
    length_m: f64,
    azimuth_deg: f64,
}

/// A stretch of the line where fighting concentrates.
#[derive(Clone, Copy, Debug)]
pub struct Sector {
    pub center_m: f64,
    pub half_width_m: f64,
    pub weight: f64,
}

/// The contact line by arc length, with the hot sectors of one scenario and the assessor of
/// the agreement (the truth of which side and zone a point is in).
pub struct Front {
    segments: Vec<Segment>,
    pub length_m: f64,
    pub sectors: Vec<Sector>,
    sector_weights: Vec<f64>,
    pub assessor: Assessor,
}

/// Where along the line a point should be put.
#[derive(Clone, Copy, Debug)]
pub enum Along {
    /// Anywhere, uniformly by length.
    Anywhere,
    /// In a hot sector with this probability, else anywhere.
    Hot(f64),
}

impl Front {
    /// `None` when the agreement's line has no polyline long enough to carry activity.
    pub fn new(agreement: &Agreement, rng: &mut Rng) -> Option<Front> {
        let mut segments = Vec::new();
        let mut length_m = 0.0;
        for line in agreement.geometry.contact_line.polylines() {
            let line_m: f64 = line
                .windows(2)
                .map(|w| great_circle_distance_m(w[0], w[1]))
                .sum();
            if line_m < MIN_POLYLINE_M {
                continue;
            }
            for w in line.windows(2) {
                let segment_m = great_circle_distance_m(w[0], w[1]);
                if segment_m <= 0.0 {
                    continue;
                }
                segments.push(Segment {
                    a: w[0],
                    b: w[1],
                    start_m: length_m,
                    length_m: segment_m,
                    azimuth_deg: azimuth_deg(w[0], w[1]),
                });
                length_m += segment_m;
            }
        }
        if segments.is_empty() {
            return None;
        }
        // Hot sectors: about one per 100 km of front, of 20–70 km, with uneven intensity.
        let count = ((length_m / 100_000.0).round() as usize).clamp(2, 14);
        let sectors: Vec<Sector> = (0..count)
            .map(|_| Sector {
                center_m: rng.range(0.0, length_m),
                half_width_m: rng.range(10_000.0, 35_000.0),
                weight: rng.log_normal(1.0, 0.6),
            })
            .collect();
        let sector_weights = sectors.iter().map(|s| s.weight).collect();
        Some(Front {
            segments,
            length_m,
            sectors,
            sector_weights,
            assessor: Assessor::new(agreement),
        })
    }

    /// An arc length drawn as `along` says.
    pub fn draw_along(&self, rng: &mut Rng, along: Along) -> f64 {
        match along {
            Along::Hot(p) if rng.chance(p) => {
                let sector = self.sectors[rng.weighted(&self.sector_weights)];
                (sector.center_m + rng.range(-sector.half_width_m, sector.half_width_m))
                    .clamp(0.0, self.length_m)
            }
            _ => rng.range(0.0, self.length_m),
        }
    }

    /// The point of the line at arc length `s_m` and the line's azimuth there.
    fn point_at(&self, s_m: f64) -> (LonLat, f64) {
        let i = self
            .segments
            .partition_point(|seg| seg.start_m + seg.length_m < s_m)
            .min(self.segments.len() - 1);
        let seg = self.segments[i];
        let f = ((s_m - seg.start_m) / seg.length_m).clamp(0.0, 1.0);
        let p = LonLat::new(
            seg.a.lon_deg + f * (seg.b.lon_deg - seg.a.lon_deg),
            seg.a.lat_deg + f * (seg.b.lat_deg - seg.a.lat_deg),
        );
        (p, seg.azimuth_deg)
    }

    /// A point on land, on `side` (either when `None`), whose assessed distance from the line is
    /// in `band_m`, near arc length `s_m`; `None` when none is found there.
    pub fn place_at(
        &self,
        rng: &mut Rng,
        s_m: f64,
        side: Option<PartySide>,
        band_m: (f64, f64),
    ) -> Option<(LonLat, Assessment)> {
        let (base, line_azimuth) = self.point_at(s_m);
        let first_left = rng.chance(0.5);
        for attempt in 0..4 {
            let left = (attempt % 2 == 0) == first_left;
            let distance_m = rng.range(band_m.0, band_m.1);
            let skew_deg = rng.range(-25.0, 25.0);
            let azimuth = line_azimuth + if left { -90.0 } else { 90.0 } + skew_deg;
            let p = destination(base, azimuth, distance_m);
            if is_sea(p) {
                continue;
            }
            let a = self.assessor.assess(p);
            if side.is_some_and(|s| s != a.side) {
                continue;
            }
            if a.distance_m >= band_m.0 && a.distance_m <= band_m.1 {
                return Some((p, a));
            }
        }
        None
    }

    /// Like [`Front::place_at`], drawing the arc length as `along` says; several tries.
    pub fn place(
        &self,
        rng: &mut Rng,
        along: Along,
        side: Option<PartySide>,
        band_m: (f64, f64),
    ) -> Option<(LonLat, Assessment)> {
        (0..12).find_map(|_| {
            let s_m = self.draw_along(rng, along);
            self.place_at(rng, s_m, side, band_m)
        })
    }

    /// A point within `radius_m` of `center` (uniform over the disc), on land.
    pub fn place_near(
        &self,
        rng: &mut Rng,
        center: LonLat,
        radius_m: f64,
    ) -> Option<(LonLat, Assessment)> {
        (0..12).find_map(|_| {
            let p = destination(center, rng.range(0.0, 360.0), radius_m * rng.unit().sqrt());
            (!is_sea(p)).then(|| (p, self.assessor.assess(p)))
        })
    }
}
