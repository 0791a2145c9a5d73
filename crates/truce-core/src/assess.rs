//! Assessment of one position against an agreement: side, distance to the line, zone.

use truce_geo::{BandedGrid, Classification, LonLat};

use crate::agreement::{Agreement, PartySide, Zone};

/// Which zone a distance falls in: a band of the agreement (by index) or beyond them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZoneRef {
    Band(usize),
    Outside,
}

impl ZoneRef {
    /// The zone id as printed: the band's id, or `outside`.
    pub fn id(self, agreement: &Agreement) -> &str {
        match self {
            ZoneRef::Band(i) => &agreement.zones[i].id,
            ZoneRef::Outside => "outside",
        }
    }
}

/// What the geometry says about a position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assessment {
    pub side: PartySide,
    /// Great-circle distance to the nearest point of the contact line, in metres.
    pub distance_m: f64,
    pub zone: ZoneRef,
}

/// The zone whose band (lower, upper] holds `distance_m`; the first band includes its lower
/// bound. Beyond the last band, [`ZoneRef::Outside`].
pub fn zone_for_distance(zones: &[Zone], distance_m: f64) -> ZoneRef {
    for (i, zone) in zones.iter().enumerate() {
        let above_lower = if i == 0 {
            distance_m >= zone.lower_m
        } else {
            distance_m > zone.lower_m
        };
        if above_lower && distance_m <= zone.upper_m {
            return ZoneRef::Band(i);
        }
    }
    ZoneRef::Outside
}

impl Agreement {
    /// The exact assessment of `replay.md`, visiting every arc and edge. The reference
    /// implementation: fast assessors must agree with it.
    pub fn assess_exact(&self, p: LonLat) -> Assessment {
        let side = if self.geometry.control.covers(p) {
            PartySide::Inside
        } else {
            PartySide::Outside
        };
        let distance_m = self.geometry.contact_line.distance_m(p);
        Assessment {
            side,
            distance_m,
            zone: zone_for_distance(&self.zones, distance_m),
        }
    }
}

/// The fast assessor of an agreement version: built once, shared read-only across threads,
/// and equal to [`Agreement::assess_exact`] on every point.
#[derive(Clone, Debug)]
pub struct Assessor {
    grid: BandedGrid,
    zones: Vec<Zone>,
}

impl Assessor {
    pub fn new(agreement: &Agreement) -> Assessor {
        let thresholds_m: Vec<f64> = agreement.zones.iter().map(|z| z.upper_m).collect();
        let grid = BandedGrid::new(
            &agreement.geometry.contact_line,
            &agreement.geometry.control,
            &thresholds_m,
        );
        Assessor {
            grid,
            zones: agreement.zones.clone(),
        }
    }

    /// Side and zone without the distance: most points need no arithmetic at all.
    #[inline]
    pub fn classify(&self, p: LonLat) -> (PartySide, ZoneRef) {
        let c = self.grid.classify(p);
        (side_of(c), self.zone_of(c))
    }

    /// The raw classification: `inside`, and the zone index (`zones.len()` for outside).
    #[inline]
    pub fn classify_raw(&self, p: LonLat) -> Classification {
        self.grid.classify(p)
    }

    /// Side, exact distance and zone.
    pub fn assess(&self, p: LonLat) -> Assessment {
        let side = if self.grid.covers(p) {
            PartySide::Inside
        } else {
            PartySide::Outside
        };
        let distance_m = self.grid.distance_m(p);
        Assessment {
            side,
            distance_m,
            zone: zone_for_distance(&self.zones, distance_m),
        }
    }

    pub fn grid(&self) -> &BandedGrid {
        &self.grid
    }

    fn zone_of(&self, c: Classification) -> ZoneRef {
        if usize::from(c.band) < self.zones.len() {
            ZoneRef::Band(usize::from(c.band))
        } else {
            ZoneRef::Outside
        }
    }
}

fn side_of(c: Classification) -> PartySide {
    if c.inside {
        PartySide::Inside
    } else {
        PartySide::Outside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Vec<Zone> {
        vec![
            Zone {
                id: "a".into(),
                lower_m: 0.0,
                upper_m: 15000.0,
                prohibit: vec![],
            },
            Zone {
                id: "b".into(),
                lower_m: 15000.0,
                upper_m: 50000.0,
                prohibit: vec![],
            },
        ]
    }

    #[test]
    fn band_edges_belong_to_the_lower_band() {
        let z = zones();
        assert_eq!(zone_for_distance(&z, 0.0), ZoneRef::Band(0));
        assert_eq!(zone_for_distance(&z, 15000.0), ZoneRef::Band(0));
        assert_eq!(zone_for_distance(&z, 15000.000001), ZoneRef::Band(1));
        assert_eq!(zone_for_distance(&z, 50000.0), ZoneRef::Band(1));
        assert_eq!(zone_for_distance(&z, 50000.5), ZoneRef::Outside);
    }
}
