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

pub use banded_grid::{BandedGrid, CellStats, Classification, GridView, Settling};
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
