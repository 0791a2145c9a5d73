//! Triangulation of direction-only reports: where two or more bearings cross, and how sure.
//!
//! Method: an initial point from the weighted linear least squares of the bearing lines on the
//! azimuthal equidistant plane centred at the observers' centroid (no fix when the lines are
//! near parallel or the point lies behind an observer), then Gauss–Newton on the sphere:
//! residuals are the differences between each reported azimuth and the great-circle azimuth
//! from its observer to the current point, weighted by `1/σ²`; the Jacobian is taken on the
//! tangent plane at the current point, which moves at every iteration (iterated refinement).
//! The covariance `(JᵀWJ)⁻¹` at the solution gives the error ellipse, scaled to ~95%
//! (`√χ²₂(0.95) = 2.4477` standard deviations).

use truce_geo::{EARTH_RADIUS_M, LonLat};

use super::sphere::{angle_diff_deg, azimuth_deg, destination, distance_m, from_plane, to_plane};

/// The ~95% scale of a two-dimensional normal error: `√χ²₂(0.95)`.
pub const ELLIPSE_95: f64 = 2.447_746_830_680_816;
/// Bearing uncertainties below this are taken as this (degrees): no array is perfect.
const MIN_SIGMA_DEG: f64 = 0.05;

/// One bearing to triangulate: observer, azimuth clockwise from true north and its standard
/// deviation (degrees), and optionally how far the observer could perceive (metres).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BearingLine {
    pub observer: LonLat,
    pub azimuth_deg: f64,
    pub sigma_deg: f64,
    pub max_range_m: Option<f64>,
}

/// An error ellipse at ~95%: semi-axes in metres, the major axis' azimuth in [0, 180) degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorEllipse {
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    pub orientation_deg: f64,
}

impl ErrorEllipse {
    /// The ellipse as a covariance in (east, north), `[ee, en, nn]` in square metres at the
    /// ellipse's own ~95% scale (so that a circle of radius `u` is `[u², 0, u²]`).
    pub fn covariance_en(&self) -> [f64; 3] {
        let theta = self.orientation_deg.to_radians();
        let (me, mn) = (theta.sin(), theta.cos());
        let (a2, b2) = (self.semi_major_m.powi(2), self.semi_minor_m.powi(2));
        // Major axis along (me, mn), minor along (mn, −me).
        [
            a2 * me * me + b2 * mn * mn,
            (a2 - b2) * me * mn,
            a2 * mn * mn + b2 * me * me,
        ]
    }
}

/// How far the ellipse of covariance `[ee, en, nn]` (square metres, as
/// [`ErrorEllipse::covariance_en`]) reaches from its centre towards `azimuth_deg`, in metres:
/// `1 / √(nᵀ C⁻¹ n)` for the unit vector `n` of that direction. A degenerate covariance
/// reaches as far as its largest axis.
pub fn radius_towards_m(covariance: [f64; 3], azimuth_deg: f64) -> f64 {
    let [ee, en, nn] = covariance;
    let det = ee * nn - en * en;
    let largest = ((ee + nn) / 2.0 + (((ee - nn) / 2.0).powi(2) + en * en).sqrt()).sqrt();
    if det.is_nan() || det <= 0.0 {
        return largest;
    }
    let theta = azimuth_deg.to_radians();
    let (e, n) = (theta.sin(), theta.cos());
    let q = (nn * e * e - 2.0 * en * e * n + ee * n * n) / det;
    if q.is_nan() || q <= 0.0 {
        return largest;
    }
    (1.0 / q.sqrt()).min(largest)
}

/// A triangulated position.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    pub position: LonLat,
    pub ellipse: ErrorEllipse,
    /// Distance from each observer to the fix, metres (in input order).
    pub ranges_m: Vec<f64>,
    /// Reported minus computed azimuth for each bearing, degrees.
    pub residuals_deg: Vec<f64>,
}

impl Fix {
    /// The largest residual in standard deviations of its bearing.
    pub fn worst_residual(&self, lines: &[BearingLine]) -> Option<(usize, f64)> {
        self.residuals_deg
            .iter()
            .zip(lines)
            .map(|(r, l)| r.abs() / l.sigma_deg.max(MIN_SIGMA_DEG))
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Triangulates `lines`; `None` when there are fewer than two, they are (near) parallel, they
/// cross behind an observer, or the crossing is beyond an observer's `max_range_m` by more
/// than the fix's own uncertainty.
pub fn triangulate(lines: &[BearingLine]) -> Option<Fix> {
    if lines.len() < 2 {
        return None;
    }
    let origin = centroid(lines.iter().map(|l| l.observer));
    let sigma_rad = |l: &BearingLine| l.sigma_deg.max(MIN_SIGMA_DEG).to_radians();

    // Initial point: weighted least squares of the lines on the plane.
    let (mut a11, mut a12, mut a22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut observers = Vec::with_capacity(lines.len());
    for l in lines {
        let (oe, on) = to_plane(origin, l.observer);
        let theta = l.azimuth_deg.to_radians();
        let (ne, nn) = (theta.cos(), -theta.sin());
        let w = 1.0 / sigma_rad(l).powi(2);
        let c = ne * oe + nn * on;
        a11 += w * ne * ne;
        a12 += w * ne * nn;
        a22 += w * nn * nn;
        b1 += w * ne * c;
        b2 += w * nn * c;
        observers.push((oe, on, theta));
    }
    let det = a11 * a22 - a12 * a12;
    let trace = a11 + a22;
    // Near parallel: the normals span less than ~0.5° of angle.
    if det.is_nan() || det <= 1e-4 * trace * trace {
        return None;
    }
    let (pe, pn) = ((a22 * b1 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det);
    for &(oe, on, theta) in &observers {
        let ahead = theta.sin() * (pe - oe) + theta.cos() * (pn - on);
        if ahead <= 0.0 {
            return None;
        }
    }
    let mut p = from_plane(origin, pe, pn);

    // Gauss–Newton on the sphere, re-linearised at each new point.
    let mut normal = [0.0; 3];
    for _ in 0..30 {
        let (n, g) = normal_equations(lines, p, &sigma_rad);
        normal = n;
        let det = n[0] * n[2] - n[1] * n[1];
        if det.is_nan() || det <= 0.0 {
            return None;
        }
        let de = (n[2] * g[0] - n[1] * g[1]) / det;
        let dn = (n[0] * g[1] - n[1] * g[0]) / det;
        let step = de.hypot(dn);
        if !step.is_finite() {
            return None;
        }
        p = from_plane(p, de, dn);
        if step < 1e-3 {
            break;
        }
    }
    let (n, _) = normal_equations(lines, p, &sigma_rad);
    if n.iter().all(|v| v.is_finite()) {
        normal = n;
    }
    let det = normal[0] * normal[2] - normal[1] * normal[1];
    if det.is_nan() || det <= 0.0 {
        return None;
    }
    // Covariance = N⁻¹ in (east, north) metres².
    let (cee, cen, cnn) = (normal[2] / det, -normal[1] / det, normal[0] / det);
    let half_sum = (cee + cnn) / 2.0;
    let root = (((cee - cnn) / 2.0).powi(2) + cen * cen).sqrt();
    let (l1, l2) = (half_sum + root, (half_sum - root).max(0.0));
    let angle_from_east = 0.5 * (2.0 * cen).atan2(cee - cnn);
    let orientation_deg = (90.0 - angle_from_east.to_degrees()).rem_euclid(180.0);
    let ellipse = ErrorEllipse {
        semi_major_m: ELLIPSE_95 * l1.sqrt(),
        semi_minor_m: ELLIPSE_95 * l2.sqrt(),
        orientation_deg: if orientation_deg >= 180.0 {
            0.0
        } else {
            orientation_deg
        },
    };
    let mut ranges_m = Vec::with_capacity(lines.len());
    let mut residuals_deg = Vec::with_capacity(lines.len());
    for l in lines {
        let r = distance_m(l.observer, p);
        let residual = angle_diff_deg(l.azimuth_deg, azimuth_deg(l.observer, p));
        if residual.abs() >= 90.0 {
            return None;
        }
        if let Some(max) = l.max_range_m
            && r > max + ellipse.semi_major_m
        {
            return None;
        }
        ranges_m.push(r);
        residuals_deg.push(residual);
    }
    if !(ellipse.semi_major_m.is_finite() && p.is_valid()) {
        return None;
    }
    Some(Fix {
        position: p,
        ellipse,
        ranges_m,
        residuals_deg,
    })
}

/// `(N, g)` of the weighted normal equations at `p`: `N = Σ w JᵀJ` as `[ee, en, nn]`,
/// `g = Σ w Jᵀ r` as `[e, n]`, with `J` the gradient of the azimuth from the observer with
/// respect to an (east, north) displacement of `p`, in radians per metre.
fn normal_equations(
    lines: &[BearingLine],
    p: LonLat,
    sigma_rad: &dyn Fn(&BearingLine) -> f64,
) -> ([f64; 3], [f64; 2]) {
    let mut n = [0.0; 3];
    let mut g = [0.0; 2];
    for l in lines {
        let r = distance_m(l.observer, p).max(1.0);
        // The direction of travel at p along the great circle from the observer.
        let forward = (azimuth_deg(p, l.observer) + 180.0).to_radians();
        let scale = EARTH_RADIUS_M * (r / EARTH_RADIUS_M).sin();
        let (je, jn) = (forward.cos() / scale, -forward.sin() / scale);
        let residual = angle_diff_deg(l.azimuth_deg, azimuth_deg(l.observer, p)).to_radians();
        let w = 1.0 / sigma_rad(l).powi(2);
        n[0] += w * je * je;
        n[1] += w * je * jn;
        n[2] += w * jn * jn;
        g[0] += w * je * residual;
        g[1] += w * jn * residual;
    }
    (n, g)
}

/// The normalised mean of unit vectors (a point for nearby observers).
fn centroid(points: impl Iterator<Item = LonLat>) -> LonLat {
    let mut s = [0.0; 3];
    let mut first = None;
    for p in points {
        first.get_or_insert(p);
        let v = truce_geo::UnitVector::from_lon_lat(p).0;
        s = [s[0] + v[0], s[1] + v[1], s[2] + v[2]];
    }
    let norm = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    if norm.is_nan() || norm <= 1e-12 {
        return first.unwrap_or(LonLat::new(0.0, 0.0));
    }
    LonLat::new(
        s[1].atan2(s[0]).to_degrees(),
        (s[2] / norm).asin().to_degrees(),
    )
}

/// The smallest angle, in degrees, by which the sector of `line` (within `max_range_m`)
/// misses `p` once `p`'s own uncertainty `u_m` is allowed for; with the distance from the
/// observer. Points behind the observer or beyond the range give `None`.
pub fn sector_miss(line: &BearingLine, range_m: f64, p: LonLat, u_m: f64) -> Option<(f64, f64)> {
    let r = distance_m(line.observer, p);
    if r > range_m + u_m {
        return None;
    }
    if r <= u_m {
        return Some((0.0, r));
    }
    let off = angle_diff_deg(azimuth_deg(line.observer, p), line.azimuth_deg).abs();
    let allowance = (u_m / r).min(1.0).asin().to_degrees();
    if off >= 90.0 + allowance {
        return None;
    }
    Some(((off - allowance).max(0.0), r))
}

/// A point along a bearing, `distance_m` from its observer.
pub fn along(line: &BearingLine, distance_m: f64) -> LonLat {
    destination(line.observer, line.azimuth_deg, distance_m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: LonLat = LonLat::new(37.0, 48.0);

    fn at(east_m: f64, north_m: f64) -> LonLat {
        from_plane(ORIGIN, east_m, north_m)
    }

    fn line(observer: LonLat, target: LonLat, sigma_deg: f64, error_deg: f64) -> BearingLine {
        BearingLine {
            observer,
            azimuth_deg: azimuth_deg(observer, target) + error_deg,
            sigma_deg,
            max_range_m: None,
        }
    }

    /// Two perpendicular bearings at 10 km, σ = 1°: the fix is the crossing and the ellipse a
    /// circle of 2.4477 · 10 km · 1° (each bearing constrains the other's along-line error).
    #[test]
    fn two_perpendicular_bearings() {
        let target = at(0.0, 0.0);
        let a = line(at(-10_000.0, 0.0), target, 1.0, 0.0);
        let b = line(at(0.0, -10_000.0), target, 1.0, 0.0);
        let fix = triangulate(&[a, b]).expect("a fix");
        assert!(
            distance_m(fix.position, target) < 0.01,
            "{:?}",
            fix.position
        );
        let expected = ELLIPSE_95 * 10_000.0 * 1f64.to_radians();
        assert!((fix.ellipse.semi_major_m - expected).abs() / expected < 2e-3);
        assert!((fix.ellipse.semi_minor_m - expected).abs() / expected < 2e-3);
        assert!(fix.ranges_m.iter().all(|r| (r - 10_000.0).abs() < 1.0));
    }

    /// Unequal sigmas: the ellipse is elongated across the worse bearing, along east–west
    /// when the north-looking bearing (whose error is east–west) is the worse one.
    #[test]
    fn the_worse_bearing_sets_the_major_axis() {
        let target = at(0.0, 0.0);
        let a = line(at(-10_000.0, 0.0), target, 0.5, 0.0);
        let b = line(at(0.0, -10_000.0), target, 4.0, 0.0);
        let fix = triangulate(&[a, b]).expect("a fix");
        let major = ELLIPSE_95 * 10_000.0 * 4f64.to_radians();
        let minor = ELLIPSE_95 * 10_000.0 * 0.5f64.to_radians();
        assert!((fix.ellipse.semi_major_m - major).abs() / major < 5e-3);
        assert!((fix.ellipse.semi_minor_m - minor).abs() / minor < 5e-3);
        let o = fix.ellipse.orientation_deg;
        assert!((o - 90.0).abs() < 0.5, "{o}");
    }

    /// Three bearings with errors of about one sigma: the fix is within the ellipse.
    #[test]
    fn three_noisy_bearings_fix_near_the_truth() {
        let target = at(1_000.0, 2_000.0);
        let lines = [
            line(at(-8_000.0, -3_000.0), target, 2.0, 1.7),
            line(at(6_000.0, -9_000.0), target, 2.0, -2.2),
            line(at(9_000.0, 7_000.0), target, 2.0, 0.9),
        ];
        let fix = triangulate(&lines).expect("a fix");
        let error = distance_m(fix.position, target);
        assert!(error < fix.ellipse.semi_major_m, "{error} m");
        assert!(error > 10.0, "noise moves the fix: {error} m");
        let (_, worst) = fix.worst_residual(&lines).expect("residuals");
        assert!(worst < 3.0);
    }

    /// An ellipse reaches its semi-major axis along its orientation, its semi-minor across
    /// it, and a circle the same radius every way.
    #[test]
    fn an_ellipse_reaches_its_axes() {
        let e = ErrorEllipse {
            semi_major_m: 3_000.0,
            semi_minor_m: 400.0,
            orientation_deg: 30.0,
        };
        let c = e.covariance_en();
        assert!((radius_towards_m(c, 30.0) - 3_000.0).abs() < 1e-6);
        assert!((radius_towards_m(c, 210.0) - 3_000.0).abs() < 1e-6);
        assert!((radius_towards_m(c, 120.0) - 400.0).abs() < 1e-6);
        let between = radius_towards_m(c, 75.0);
        assert!(between > 400.0 && between < 3_000.0, "{between}");
        let circle = ErrorEllipse {
            semi_major_m: 700.0,
            semi_minor_m: 700.0,
            orientation_deg: 0.0,
        }
        .covariance_en();
        for az in [0.0, 45.0, 100.0, 300.0] {
            assert!((radius_towards_m(circle, az) - 700.0).abs() < 1e-6);
        }
        // A fix of two near-perpendicular bearings: its ellipse from `triangulate`.
        let target = at(0.0, 0.0);
        let a = line(at(-10_000.0, 0.0), target, 0.5, 0.0);
        let b = line(at(0.0, -10_000.0), target, 4.0, 0.0);
        let fix = triangulate(&[a, b]).expect("a fix");
        let c = fix.ellipse.covariance_en();
        assert!((radius_towards_m(c, 90.0) - fix.ellipse.semi_major_m).abs() < 1.0);
        assert!((radius_towards_m(c, 0.0) - fix.ellipse.semi_minor_m).abs() < 1.0);
        assert_eq!(radius_towards_m([0.0, 0.0, 0.0], 10.0), 0.0);
    }

    #[test]
    fn parallel_bearings_give_no_fix() {
        let a = BearingLine {
            observer: at(0.0, 0.0),
            azimuth_deg: 10.0,
            sigma_deg: 1.0,
            max_range_m: None,
        };
        let b = BearingLine {
            observer: at(1_000.0, 0.0),
            ..a
        };
        assert_eq!(triangulate(&[a, b]), None);
        // Diverging lines cross behind the observers.
        let c = BearingLine {
            azimuth_deg: 350.0,
            ..a
        };
        assert_eq!(triangulate(&[b, c]), None);
        assert_eq!(triangulate(&[a]), None);
    }

    #[test]
    fn a_crossing_beyond_the_range_is_no_fix() {
        let target = at(0.0, 0.0);
        let mut a = line(at(-30_000.0, 0.0), target, 0.5, 0.0);
        let b = line(at(0.0, -10_000.0), target, 0.5, 0.0);
        assert!(triangulate(&[a, b]).is_some());
        a.max_range_m = Some(15_000.0);
        assert_eq!(triangulate(&[a, b]), None);
    }

    #[test]
    fn sectors_allow_for_the_point_uncertainty() {
        let o = at(0.0, 0.0);
        let l = BearingLine {
            observer: o,
            azimuth_deg: 0.0,
            sigma_deg: 1.0,
            max_range_m: None,
        };
        let (miss, r) = sector_miss(&l, 20_000.0, at(1_000.0, 10_000.0), 0.0).expect("ahead");
        assert!((miss - (0.1f64).atan().to_degrees()).abs() < 0.01);
        assert!((r - 10_050.0).abs() < 5.0);
        let (miss, _) = sector_miss(&l, 20_000.0, at(1_000.0, 10_000.0), 1_100.0).expect("ahead");
        assert_eq!(miss, 0.0);
        assert_eq!(sector_miss(&l, 20_000.0, at(0.0, 25_000.0), 100.0), None);
        assert_eq!(sector_miss(&l, 20_000.0, at(0.0, -5_000.0), 100.0), None);
    }
}
