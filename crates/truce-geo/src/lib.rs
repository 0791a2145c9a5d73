//! Geometry for Truce: points in (lon, lat) degrees, great-circle distances on a sphere, and
//! point-in-polygon in the planar lon/lat plane, exactly as `shared/spec/replay.md` defines them.
//!
//! Axis order is always (lon, lat); angles are degrees unless a name says `_rad`; distances
//! are metres (`_m`). This crate knows nothing of agreements, parties or observations.

mod arc_tree;
mod banded_grid;
mod contact_line;
mod control_area;
mod sphere;

pub use banded_grid::{BandedGrid, CellStats, Classification, CodeCounts, GridView, Settling};
pub use contact_line::{ContactLine, NearestArc};
pub use control_area::{ControlArea, Polygon};
pub use sphere::{EARTH_RADIUS_M, UnitVector, central_angle_rad, great_circle_distance_m};

/// A WGS84 position in degrees, longitude first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LonLat {
    pub lon_deg: f64,
    pub lat_deg: f64,
}

impl LonLat {
    pub const fn new(lon_deg: f64, lat_deg: f64) -> LonLat {
        LonLat { lon_deg, lat_deg }
    }

    /// True when both coordinates are finite and within [-180, 180] × [-90, 90].
    pub fn is_valid(self) -> bool {
        self.lon_deg.is_finite()
            && self.lat_deg.is_finite()
            && (-180.0..=180.0).contains(&self.lon_deg)
            && (-90.0..=90.0).contains(&self.lat_deg)
    }
}

/// A position in units of 10⁻⁷ degree (about 1 cm), longitude first: half the bytes of a
/// [`LonLat`], for points assessed in bulk. It holds exactly every coordinate written with
/// seven decimals or fewer: [`LonLatE7::from_lon_lat`] refuses the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LonLatE7 {
    pub lon_e7: i32,
    pub lat_e7: i32,
}

impl LonLatE7 {
    const PER_DEG: f64 = 1e7;

    /// The position that is exactly `p`, if there is one: the nearest multiple of 10⁻⁷ degree
    /// reads back as the very same double (division by 10⁷ is correctly rounded, as parsing
    /// the decimal is, so a coordinate of at most seven decimals always comes back).
    pub fn from_lon_lat(p: LonLat) -> Option<LonLatE7> {
        // Rounded to a whole number by adding and removing 1.5 × 2⁵² (exact below 2⁵¹ in
        // magnitude, which any coordinate of the range is; `round` is a libm call on baseline
        // x86-64). The comparison below rejects whatever does not come back exactly.
        const ROUNDING_MAGIC: f64 = 6_755_399_441_055_744.0;
        let to = |deg: f64| {
            let units = (deg * Self::PER_DEG + ROUNDING_MAGIC) - ROUNDING_MAGIC;
            // |deg| ≤ 180 keeps the units within i32 (±1.8 × 10⁹).
            (deg.abs() <= 180.0 && units / Self::PER_DEG == deg).then_some(units as i32)
        };
        Some(LonLatE7 {
            lon_e7: to(p.lon_deg)?,
            lat_e7: to(p.lat_deg)?,
        })
    }

    /// The position in degrees, exactly as [`LonLatE7::from_lon_lat`] was given it.
    #[inline(always)]
    pub fn lon_lat(self) -> LonLat {
        LonLat::new(
            f64::from(self.lon_e7) / Self::PER_DEG,
            f64::from(self.lat_e7) / Self::PER_DEG,
        )
    }
}

/// A point that the grid can classify in bulk (see [`GridView::classify_codes`]): its exact
/// position, and the same position in 10⁻⁷ degree when it is one, which the grid locates in
/// integer arithmetic.
pub trait BulkPoint: Copy {
    fn exact(self) -> LonLat;
    fn e7(self) -> Option<LonLatE7>;
}

impl BulkPoint for LonLat {
    #[inline(always)]
    fn exact(self) -> LonLat {
        self
    }
    #[inline(always)]
    fn e7(self) -> Option<LonLatE7> {
        None
    }
}

impl BulkPoint for LonLatE7 {
    #[inline(always)]
    fn exact(self) -> LonLat {
        self.lon_lat()
    }
    #[inline(always)]
    fn e7(self) -> Option<LonLatE7> {
        Some(self)
    }
}

/// Why geometry could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GeoError {
    #[error("the contact line has no segment")]
    EmptyLine,
    #[error("coordinate ({lon_deg}, {lat_deg}) is not a valid lon/lat in degrees")]
    InvalidCoordinate { lon_deg: f64, lat_deg: f64 },
    #[error("segment {index} joins antipodal points: its great-circle arc is undefined")]
    AntipodalSegment { index: usize },
    #[error("a polygon ring has {vertices} vertices; at least 4 (closed) are needed")]
    ShortRing { vertices: usize },
    #[error("the control area has no polygon")]
    EmptyArea,
}
