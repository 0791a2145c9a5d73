//! The sphere of `replay.md`: radius 6,371,008.8 m, points as unit vectors.

use crate::LonLat;

/// Mean Earth radius (IUGG), the sphere every Truce distance is measured on, in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A point on the unit sphere: `(cos φ cos λ, cos φ sin λ, sin φ)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitVector(pub [f64; 3]);

impl UnitVector {
    pub fn from_lon_lat(p: LonLat) -> UnitVector {
        let (sin_lat, cos_lat) = p.lat_deg.to_radians().sin_cos();
        let (sin_lon, cos_lon) = p.lon_deg.to_radians().sin_cos();
        UnitVector([cos_lat * cos_lon, cos_lat * sin_lon, sin_lat])
    }

    pub fn dot(self, o: UnitVector) -> f64 {
        dot(self.0, o.0)
    }

    pub fn cross(self, o: UnitVector) -> [f64; 3] {
        cross(self.0, o.0)
    }
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

/// The angle between two unit vectors, `atan2(|P × Q|, P · Q)`, in radians (stable near 0 and π).
pub fn central_angle_rad(p: UnitVector, q: UnitVector) -> f64 {
    norm(p.cross(q)).atan2(p.dot(q))
}

/// Great-circle distance between two positions on the Truce sphere, in metres.
pub fn great_circle_distance_m(a: LonLat, b: LonLat) -> f64 {
    EARTH_RADIUS_M * central_angle_rad(UnitVector::from_lon_lat(a), UnitVector::from_lon_lat(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_meridian_is_111_km() {
        let d = great_circle_distance_m(LonLat::new(30.0, 48.0), LonLat::new(30.0, 49.0));
        let expected = EARTH_RADIUS_M * 1f64.to_radians();
        assert!((d - expected).abs() < 1e-6, "{d} vs {expected}");
    }

    #[test]
    fn quarter_of_equator() {
        let d = great_circle_distance_m(LonLat::new(0.0, 0.0), LonLat::new(90.0, 0.0));
        assert!((d - EARTH_RADIUS_M * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
    }
}
