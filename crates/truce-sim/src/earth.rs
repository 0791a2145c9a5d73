//! Positions on the Truce sphere for the simulator: moving a point by a distance and azimuth,
//! the azimuth from one point to another, position noise, and a coarse sea mask so that
//! nothing happens in the Sea of Azov or the Black Sea.

use truce_geo::{EARTH_RADIUS_M, LonLat};

use crate::rng::Rng;

/// The point `distance_m` from `p` along the great circle leaving it at `azimuth_deg`
/// (clockwise from true north).
pub fn destination(p: LonLat, azimuth_deg: f64, distance_m: f64) -> LonLat {
    let delta = distance_m / EARTH_RADIUS_M;
    let theta = azimuth_deg.to_radians();
    let (sin_lat, cos_lat) = p.lat_deg.to_radians().sin_cos();
    let (sin_delta, cos_delta) = delta.sin_cos();
    let sin_lat2 = sin_lat * cos_delta + cos_lat * sin_delta * theta.cos();
    let lat2 = sin_lat2.clamp(-1.0, 1.0).asin();
    let lon2 = p.lon_deg.to_radians()
        + (theta.sin() * sin_delta * cos_lat).atan2(cos_delta - sin_lat * sin_lat2);
    let lon_deg = (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    LonLat::new(lon_deg, lat2.to_degrees())
}

/// The initial azimuth of the great circle from `from` to `to`, in [0, 360) degrees.
pub fn azimuth_deg(from: LonLat, to: LonLat) -> f64 {
    let (sin_lat1, cos_lat1) = from.lat_deg.to_radians().sin_cos();
    let (sin_lat2, cos_lat2) = to.lat_deg.to_radians().sin_cos();
    let dlon = (to.lon_deg - from.lon_deg).to_radians();
    let y = dlon.sin() * cos_lat2;
    let x = cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * dlon.cos();
    normalise_deg(y.atan2(x).to_degrees())
}

/// An angle in degrees brought into [0, 360).
pub fn normalise_deg(a: f64) -> f64 {
    let a = a.rem_euclid(360.0);
    if a >= 360.0 { 0.0 } else { a }
}

/// `p` displaced by an isotropic Gaussian error of `sigma_m` per axis (in metres). With
/// σ = u / 2.45 the displacement is within `u` with 95% probability (the Rayleigh quantile),
/// which is what an observation's `uncertainty_m` promises.
pub fn jitter(rng: &mut Rng, p: LonLat, sigma_m: f64) -> LonLat {
    let east_m = sigma_m * rng.normal();
    let north_m = sigma_m * rng.normal();
    offset(p, east_m, north_m)
}

/// `p` moved by small east/north distances in metres (local flat approximation).
pub fn offset(p: LonLat, east_m: f64, north_m: f64) -> LonLat {
    let m_per_deg = EARTH_RADIUS_M.to_radians();
    let lat_deg = p.lat_deg + north_m / m_per_deg;
    let lon_deg = p.lon_deg + east_m / (m_per_deg * p.lat_deg.to_radians().cos().max(1e-6));
    LonLat::new(lon_deg, lat_deg)
}

/// The σ per axis for which a Gaussian error stays within `uncertainty_m` 95% of the time.
pub fn sigma_for(uncertainty_m: f64) -> f64 {
    uncertainty_m / 2.447_746_830_680_816 // √(−2 ln 0.05)
}

/// A position rounded to `decimals` decimal places (as sources write them).
pub fn rounded(p: LonLat, decimals: i32) -> LonLat {
    let f = 10f64.powi(decimals);
    LonLat::new((p.lon_deg * f).round() / f, (p.lat_deg * f).round() / f)
}

/// The 16-point compass name of an azimuth (N, NNE, …), as a patrol would say it.
pub fn compass(azimuth_deg: f64) -> &'static str {
    const NAMES: [&str; 16] = [
        "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW",
        "NW", "NNW",
    ];
    NAMES[((normalise_deg(azimuth_deg) / 22.5).round() as usize) % 16]
}

/// Coarse outlines (lon, lat) of the seas next to the front: the Sea of Azov and the
/// north-western Black Sea with the Dnipro–Buh estuary. Good to a few kilometres, which is
/// all the simulator needs to keep events and sensors on land.
const SEAS: [&[(f64, f64)]; 2] = [
    &[
        (34.85, 46.15),
        (35.40, 46.45),
        (36.00, 46.62),
        (36.80, 46.70),
        (37.50, 47.03),
        (38.20, 47.08),
        (39.25, 47.25),
        (38.90, 46.90),
        (38.20, 46.62),
        (37.80, 46.00),
        (37.60, 45.60),
        (37.00, 45.33),
        (36.45, 45.42),
        (35.50, 45.30),
        (35.10, 45.60),
        (34.85, 46.15),
    ],
    &[
        (29.50, 44.00),
        (29.60, 45.30),
        (30.60, 46.45),
        (31.50, 46.60),
        (32.20, 46.55),
        (31.95, 46.30),
        (32.90, 46.10),
        (33.60, 46.05),
        (33.20, 45.80),
        (33.00, 45.40),
        (32.50, 45.35),
        (33.40, 44.60),
        (34.40, 44.50),
        (35.50, 44.80),
        (36.50, 45.10),
        (37.00, 44.00),
        (29.50, 44.00),
    ],
];

/// True when `p` is in one of the seas of [`SEAS`].
pub fn is_sea(p: LonLat) -> bool {
    SEAS.iter().any(|ring| ring_contains(ring, p))
}

fn ring_contains(ring: &[(f64, f64)], p: LonLat) -> bool {
    let mut inside = false;
    for pair in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
        if (y1 > p.lat_deg) != (y2 > p.lat_deg) {
            let x = x1 + (p.lat_deg - y1) / (y2 - y1) * (x2 - x1);
            if p.lon_deg < x {
                inside = !inside;
            }
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use truce_geo::great_circle_distance_m;

    #[test]
    fn destination_and_azimuth_agree_with_distance() {
        let p = LonLat::new(37.5, 48.1);
        for azimuth in [0.0, 45.0, 135.0, 200.0, 359.0] {
            let q = destination(p, azimuth, 12_000.0);
            assert!((great_circle_distance_m(p, q) - 12_000.0).abs() < 1e-6);
            assert!((azimuth_deg(p, q) - azimuth).abs() < 1e-6, "{azimuth}");
        }
    }

    #[test]
    fn compass_names() {
        assert_eq!(compass(0.0), "N");
        assert_eq!(compass(359.0), "N");
        assert_eq!(compass(134.0), "SE");
        assert_eq!(compass(250.0), "WSW");
    }

    #[test]
    fn seas_and_land() {
        assert!(is_sea(LonLat::new(36.5, 46.2))); // Sea of Azov
        assert!(is_sea(LonLat::new(31.0, 45.5))); // Black Sea
        assert!(!is_sea(LonLat::new(37.55, 48.0))); // Donetsk region
        assert!(!is_sea(LonLat::new(35.2, 47.8))); // Zaporizhzhia
        assert!(!is_sea(LonLat::new(32.6, 46.65))); // Kherson
    }
}
