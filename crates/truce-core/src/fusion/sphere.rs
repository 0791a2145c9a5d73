//! Spherical helpers for fusion: azimuths, destinations and a local tangent plane, on the
//! Truce sphere (`truce_geo::EARTH_RADIUS_M`). Angles in degrees clockwise from true north.

use truce_geo::{EARTH_RADIUS_M, LonLat, UnitVector, central_angle_rad};

/// Great-circle distance, metres.
#[inline]
pub fn distance_m(a: LonLat, b: LonLat) -> f64 {
    EARTH_RADIUS_M * central_angle_rad(UnitVector::from_lon_lat(a), UnitVector::from_lon_lat(b))
}

/// The initial azimuth of the great circle from `from` to `to`, degrees in [0, 360).
pub fn azimuth_deg(from: LonLat, to: LonLat) -> f64 {
    let (phi1, phi2) = (from.lat_deg.to_radians(), to.lat_deg.to_radians());
    let dlon = (to.lon_deg - from.lon_deg).to_radians();
    let y = dlon.sin() * phi2.cos();
    let x = phi1.cos() * phi2.sin() - phi1.sin() * phi2.cos() * dlon.cos();
    normalize_deg(y.atan2(x).to_degrees())
}

/// The point `distance_m` from `from` along the great circle leaving it at `azimuth_deg`.
pub fn destination(from: LonLat, azimuth_deg: f64, distance_m: f64) -> LonLat {
    let delta = distance_m / EARTH_RADIUS_M;
    let theta = azimuth_deg.to_radians();
    let phi1 = from.lat_deg.to_radians();
    let lambda1 = from.lon_deg.to_radians();
    let sin_phi2 = phi1.sin() * delta.cos() + phi1.cos() * delta.sin() * theta.cos();
    let phi2 = sin_phi2.clamp(-1.0, 1.0).asin();
    let y = theta.sin() * delta.sin() * phi1.cos();
    let x = delta.cos() - phi1.sin() * sin_phi2;
    let lambda2 = lambda1 + y.atan2(x);
    LonLat::new(wrap_lon_deg(lambda2.to_degrees()), phi2.to_degrees())
}

/// `p` on the azimuthal equidistant plane centred at `origin`: (east, north) in metres.
pub fn to_plane(origin: LonLat, p: LonLat) -> (f64, f64) {
    let d = distance_m(origin, p);
    if d == 0.0 {
        return (0.0, 0.0);
    }
    let az = azimuth_deg(origin, p).to_radians();
    (d * az.sin(), d * az.cos())
}

/// The inverse of [`to_plane`].
pub fn from_plane(origin: LonLat, east_m: f64, north_m: f64) -> LonLat {
    let d = east_m.hypot(north_m);
    if d == 0.0 {
        return origin;
    }
    destination(origin, east_m.atan2(north_m).to_degrees(), d)
}

/// An angle in degrees brought into [0, 360).
pub fn normalize_deg(a: f64) -> f64 {
    let r = a.rem_euclid(360.0);
    if r >= 360.0 { 0.0 } else { r }
}

/// The signed difference `a - b` of two angles, in (-180, 180] degrees.
pub fn angle_diff_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 { d - 360.0 } else { d }
}

fn wrap_lon_deg(lon: f64) -> f64 {
    let r = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if r < -180.0 { -180.0 } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_and_azimuth_are_inverse() {
        let o = LonLat::new(37.0, 48.0);
        for az in [0.0, 45.0, 90.0, 135.0, 200.0, 359.0] {
            let p = destination(o, az, 10_000.0);
            assert!((distance_m(o, p) - 10_000.0).abs() < 1e-6);
            assert!(angle_diff_deg(azimuth_deg(o, p), az).abs() < 1e-9, "{az}");
            let (e, n) = to_plane(o, p);
            let back = from_plane(o, e, n);
            assert!(distance_m(back, p) < 1e-6);
        }
    }

    #[test]
    fn angle_difference_wraps() {
        assert_eq!(angle_diff_deg(10.0, 350.0), 20.0);
        assert_eq!(angle_diff_deg(350.0, 10.0), -20.0);
        assert_eq!(normalize_deg(-90.0), 270.0);
    }
}
