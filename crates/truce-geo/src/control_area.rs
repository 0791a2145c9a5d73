//! The control area: (Multi)Polygons in the planar lon/lat plane, holes excluded.

use crate::{GeoError, LonLat};

/// A polygon: one exterior ring and any number of holes, each ring closed (first = last).
#[derive(Clone, Debug)]
pub struct Polygon {
    pub exterior: Vec<LonLat>,
    pub holes: Vec<Vec<LonLat>>,
}

/// The union of polygons on the `inside` side. Edges are straight lines in lon/lat, as in
/// GeoJSON; a point on any ring is on the boundary and counts as inside.
#[derive(Clone, Debug)]
pub struct ControlArea {
    polygons: Vec<Polygon>,
}

impl ControlArea {
    pub fn new(polygons: Vec<Polygon>) -> Result<ControlArea, GeoError> {
        if polygons.is_empty() {
            return Err(GeoError::EmptyArea);
        }
        for polygon in &polygons {
            for ring in std::iter::once(&polygon.exterior).chain(&polygon.holes) {
                if ring.len() < 4 {
                    return Err(GeoError::ShortRing {
                        vertices: ring.len(),
                    });
                }
                for p in ring {
                    if !p.is_valid() {
                        return Err(GeoError::InvalidCoordinate {
                            lon_deg: p.lon_deg,
                            lat_deg: p.lat_deg,
                        });
                    }
                }
            }
        }
        Ok(ControlArea { polygons })
    }

    pub fn polygons(&self) -> &[Polygon] {
        &self.polygons
    }

    /// True when `p` is inside or on the boundary of any polygon (and not strictly inside one
    /// of its holes). This visits every edge: it is the reference the fast path is tested against.
    pub fn covers(&self, p: LonLat) -> bool {
        self.polygons
            .iter()
            .any(|polygon| polygon_covers(polygon, p))
    }
}

fn polygon_covers(polygon: &Polygon, p: LonLat) -> bool {
    match ring_position(&polygon.exterior, p) {
        RingPosition::Outside => false,
        RingPosition::OnBoundary => true,
        RingPosition::Inside => polygon
            .holes
            .iter()
            .all(|hole| ring_position(hole, p) != RingPosition::Inside),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RingPosition {
    Inside,
    OnBoundary,
    Outside,
}

/// Crossing-number test with an exact on-edge check.
pub(crate) fn ring_position(ring: &[LonLat], p: LonLat) -> RingPosition {
    ring_position_of_edges(
        ring.windows(2)
            .map(|e| [e[0].lon_deg, e[0].lat_deg, e[1].lon_deg, e[1].lat_deg]),
        p,
    )
}

/// The same test over edges (x1, y1, x2, y2) given in any order: the crossings' parity and
/// the on-edge check do not depend on it.
pub(crate) fn ring_position_of_edges(
    edges: impl IntoIterator<Item = [f64; 4]>,
    p: LonLat,
) -> RingPosition {
    let mut inside = false;
    for [x1, y1, x2, y2] in edges {
        match edge_position(x1, y1, x2, y2, p.lon_deg, p.lat_deg) {
            Some(true) => inside = !inside,
            Some(false) => {}
            None => return RingPosition::OnBoundary,
        }
    }
    if inside {
        RingPosition::Inside
    } else {
        RingPosition::Outside
    }
}

/// What one edge (x1, y1)–(x2, y2) says about (x, y): `None` when the point lies on it,
/// `Some(true)` when the ray from the point towards +x crosses it, `Some(false)` otherwise.
#[inline]
pub(crate) fn edge_position(x1: f64, y1: f64, x2: f64, y2: f64, x: f64, y: f64) -> Option<bool> {
    if point_on_segment(x, y, x1, y1, x2, y2) {
        return None;
    }
    if (y1 > y) != (y2 > y) {
        let x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
        return Some(x < x_cross);
    }
    Some(false)
}

#[inline]
fn point_on_segment(x: f64, y: f64, x1: f64, y1: f64, x2: f64, y2: f64) -> bool {
    if x < x1.min(x2) || x > x1.max(x2) || y < y1.min(y2) || y > y1.max(y2) {
        return false;
    }
    (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, size: f64) -> Vec<LonLat> {
        vec![
            LonLat::new(x0, y0),
            LonLat::new(x0 + size, y0),
            LonLat::new(x0 + size, y0 + size),
            LonLat::new(x0, y0 + size),
            LonLat::new(x0, y0),
        ]
    }

    #[test]
    fn inside_boundary_hole_and_outside() {
        let area = ControlArea::new(vec![Polygon {
            exterior: square(0.0, 0.0, 10.0),
            holes: vec![square(4.0, 4.0, 2.0)],
        }])
        .expect("valid polygon");
        assert!(area.covers(LonLat::new(1.0, 1.0)));
        assert!(area.covers(LonLat::new(0.0, 5.0)), "on the exterior edge");
        assert!(area.covers(LonLat::new(10.0, 10.0)), "on a vertex");
        assert!(!area.covers(LonLat::new(5.0, 5.0)), "in the hole");
        assert!(area.covers(LonLat::new(4.0, 5.0)), "on the hole's edge");
        assert!(!area.covers(LonLat::new(11.0, 5.0)));
        assert!(!area.covers(LonLat::new(-0.000001, 5.0)));
    }
}
