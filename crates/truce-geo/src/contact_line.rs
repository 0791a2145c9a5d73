//! The contact line: a union of polylines whose segments are great-circle arcs.

use crate::sphere::{EARTH_RADIUS_M, UnitVector, central_angle_rad, cross, dot, norm};
use crate::{GeoError, LonLat};

/// One great-circle arc A→B with its unit normal precomputed.
#[derive(Clone, Copy, Debug)]
struct Arc {
    a: UnitVector,
    b: UnitVector,
    /// `(A × B) / |A × B|`; `None` when A and B coincide (a zero-length segment).
    normal: Option<[f64; 3]>,
}

/// The contact line as a set of great-circle arcs, built from one or more polylines of
/// (lon, lat) vertices. A closed ring is a line, not an area.
///
/// [`ContactLine::distance_m`] is the exact, obviously-correct definition of `replay.md`: it
/// visits every arc. Fast assessors are tested against it.
#[derive(Clone, Debug)]
pub struct ContactLine {
    arcs: Vec<Arc>,
    /// Per arc: its midpoint and half-length, for cheap lower bounds.
    bounds: Vec<ArcBound>,
    vertices: Vec<Vec<LonLat>>,
}

impl ContactLine {
    /// Builds the line from polylines of (lon, lat) vertices; each pair of consecutive vertices
    /// is one segment. A polyline of a single vertex contributes that point.
    pub fn new(polylines: Vec<Vec<LonLat>>) -> Result<ContactLine, GeoError> {
        let mut arcs = Vec::new();
        for line in &polylines {
            for p in line {
                if !p.is_valid() {
                    return Err(GeoError::InvalidCoordinate {
                        lon_deg: p.lon_deg,
                        lat_deg: p.lat_deg,
                    });
                }
            }
            if line.len() == 1 {
                let a = UnitVector::from_lon_lat(line[0]);
                arcs.push(Arc {
                    a,
                    b: a,
                    normal: None,
                });
            }
            for pair in line.windows(2) {
                let a = UnitVector::from_lon_lat(pair[0]);
                let b = UnitVector::from_lon_lat(pair[1]);
                let n = a.cross(b);
                let len = norm(n);
                let normal = if len > 0.0 {
                    Some([n[0] / len, n[1] / len, n[2] / len])
                } else if a.dot(b) < 0.0 {
                    return Err(GeoError::AntipodalSegment { index: arcs.len() });
                } else {
                    None
                };
                arcs.push(Arc { a, b, normal });
            }
        }
        if arcs.is_empty() {
            return Err(GeoError::EmptyLine);
        }
        let bounds = arcs.iter().map(ArcBound::new).collect();
        Ok(ContactLine {
            bounds,
            arcs,
            vertices: polylines,
        })
    }

    /// The polylines the line was built from, in (lon, lat) degrees.
    pub fn polylines(&self) -> &[Vec<LonLat>] {
        &self.vertices
    }

    /// Heap bytes held: arcs, their bounds, and the vertices.
    pub fn heap_bytes(&self) -> usize {
        self.arcs.len() * std::mem::size_of::<Arc>()
            + self.bounds.len() * std::mem::size_of::<ArcBound>()
            + self
                .vertices
                .iter()
                .map(|v| v.len() * std::mem::size_of::<LonLat>())
                .sum::<usize>()
    }

    /// Number of segments (arcs), zero-length ones included.
    pub fn segment_count(&self) -> usize {
        self.arcs.len()
    }

    /// Total great-circle length, in metres.
    pub fn length_m(&self) -> f64 {
        self.arcs
            .iter()
            .map(|arc| EARTH_RADIUS_M * central_angle_rad(arc.a, arc.b))
            .sum()
    }

    /// Exact great-circle distance from `p` to the nearest point of the line, in metres.
    pub fn distance_m(&self, p: LonLat) -> f64 {
        let p = UnitVector::from_lon_lat(p);
        let mut best = f64::INFINITY;
        for arc in &self.arcs {
            best = best.min(arc_angle_rad(arc, p));
        }
        EARTH_RADIUS_M * best
    }

    /// The same distance per arc, for callers that index the arcs themselves: the angle in
    /// radians from `p` to arc `index`.
    pub fn arc_angle_rad(&self, index: usize, p: UnitVector) -> f64 {
        arc_angle_rad(&self.arcs[index], p)
    }

    /// Whether the angle from `p` to arc `index` is at most `limit`'s angle, decided without
    /// trigonometry: `Some(answer)` when the answer is clear by a margin, `None` when it is
    /// too close to call and the caller must compute [`ContactLine::arc_angle_rad`].
    #[inline]
    pub fn arc_within(&self, index: usize, p: UnitVector, limit: &AngleLimit) -> Option<bool> {
        let arc = &self.arcs[index];
        if let Some(n) = arc.normal {
            let s = dot(p.0, n);
            let f = [p.0[0] - s * n[0], p.0[1] - s * n[1], p.0[2] - s * n[2]];
            if dot(cross(arc.a.0, f), n) >= 0.0 && dot(cross(f, arc.b.0), n) >= 0.0 {
                // atan2(|s|, |F|) ≤ θ  ⟺  |s| ≤ tan θ · |F|, for θ < π/2.
                let gap = limit.tan * norm(f) - s.abs();
                return clear(gap);
            }
        }
        // The nearer endpoint: angle ≤ θ  ⟺  P·A ≥ cos θ (unit vectors).
        let gap = p.dot(arc.a).max(p.dot(arc.b)) - limit.cos;
        clear(gap)
    }

    /// The endpoints of arc `index`, as unit vectors.
    pub fn arc_endpoints(&self, index: usize) -> (UnitVector, UnitVector) {
        (self.arcs[index].a, self.arcs[index].b)
    }
}

/// Every point of an arc lies within `half_rad` of its midpoint.
#[derive(Clone, Copy, Debug)]
struct ArcBound {
    mid: [f64; 3],
    cos_half: f64,
    sin_half: f64,
}

impl ArcBound {
    fn new(arc: &Arc) -> ArcBound {
        let sum = [
            arc.a.0[0] + arc.b.0[0],
            arc.a.0[1] + arc.b.0[1],
            arc.a.0[2] + arc.b.0[2],
        ];
        let len = norm(sum);
        let mid = if len > 0.0 {
            [sum[0] / len, sum[1] / len, sum[2] / len]
        } else {
            arc.a.0
        };
        // Half the arc's angle, rounded up a little so that the bound stays a bound.
        let half_rad = central_angle_rad(arc.a, arc.b) / 2.0 * (1.0 + 1e-12) + 1e-12;
        ArcBound {
            mid,
            cos_half: half_rad.cos(),
            sin_half: half_rad.sin(),
        }
    }
}

/// A running search for the nearest arc: offers arcs one at a time and skips, by a cheap
/// lower bound (angle to the arc ≥ angle to its midpoint − half its length), those that cannot
/// beat the best so far. The minimum it returns is the exact per-arc angle of the nearest arc,
/// the same value the exhaustive minimum gives.
#[derive(Clone, Copy, Debug)]
pub struct NearestArc {
    p: UnitVector,
    best_rad: f64,
    /// cos and sin of `best_rad` plus the slack.
    cos_t: f64,
    sin_t: f64,
}

/// Rounding of the bound's arithmetic is far below this, in radians (about 6 mm).
const BOUND_SLACK_RAD: f64 = 1e-9;

impl NearestArc {
    pub fn new(p: UnitVector) -> NearestArc {
        NearestArc {
            p,
            best_rad: f64::INFINITY,
            cos_t: -1.0,
            sin_t: 0.0,
        }
    }

    /// The best angle so far, radians (infinite before the first arc).
    pub fn best_rad(&self) -> f64 {
        self.best_rad
    }

    #[inline]
    pub fn offer(&mut self, line: &ContactLine, index: usize) {
        if self.best_rad < 3.0 {
            let b = &line.bounds[index];
            // angle(p, mid) > t + h  ⟺  p·mid < cos(t + h) = cos t cos h − sin t sin h.
            let limit = self.cos_t * b.cos_half - self.sin_t * b.sin_half;
            if dot(self.p.0, b.mid) < limit - 1e-15 {
                return;
            }
        }
        let angle = arc_angle_rad(&line.arcs[index], self.p);
        if angle < self.best_rad {
            self.best_rad = angle;
            let t = angle + BOUND_SLACK_RAD;
            (self.sin_t, self.cos_t) = t.sin_cos();
        }
    }
}

/// An angle θ < π/2 prepared for [`ContactLine::arc_within`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AngleLimit {
    pub rad: f64,
    cos: f64,
    tan: f64,
}

impl AngleLimit {
    pub fn new(rad: f64) -> AngleLimit {
        AngleLimit {
            rad,
            cos: rad.cos(),
            tan: rad.tan(),
        }
    }
}

/// Rounding in the tests above is below 1e-15; anything within this is left to atan2.
const UNDECIDED: f64 = 1e-12;

#[inline]
fn clear(gap: f64) -> Option<bool> {
    if gap > UNDECIDED {
        Some(true)
    } else if gap < -UNDECIDED {
        Some(false)
    } else {
        None
    }
}

/// The angle from `p` to the arc, per `replay.md` §4: the perpendicular foot when it lies on the
/// minor arc, else the nearer endpoint.
fn arc_angle_rad(arc: &Arc, p: UnitVector) -> f64 {
    if let Some(n) = arc.normal {
        let s = dot(p.0, n);
        let f = [p.0[0] - s * n[0], p.0[1] - s * n[1], p.0[2] - s * n[2]];
        if dot(cross(arc.a.0, f), n) >= 0.0 && dot(cross(f, arc.b.0), n) >= 0.0 {
            return s.abs().atan2(norm(f));
        }
    }
    central_angle_rad(p, arc.a).min(central_angle_rad(p, arc.b))
}
