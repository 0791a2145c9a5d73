//! Incidents as `replay.md` defines them: connected components of the "close in space and
//! time" relation (single linkage, both bounds inclusive).

use truce_geo::{EARTH_RADIUS_M, LonLat, UnitVector, central_angle_rad};

use crate::agreement::FusionParams;

/// A point taking part in linking: its time (UTC, seconds since the Unix epoch) and position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkPoint {
    pub observed_at_s: i64,
    pub position: LonLat,
}

/// One incident: indices of its members in the input slice (ascending) and its representative,
/// the earliest member (ties: smallest longitude, then latitude, then index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub members: Vec<usize>,
    pub representative: usize,
}

/// Links `points` into incidents, returned in ascending order of (representative time,
/// longitude, latitude, index): incident `k` of the result has id `k + 1`.
pub fn link_incidents(points: &[LinkPoint], params: FusionParams) -> Vec<Incident> {
    let n = points.len();
    let vectors: Vec<UnitVector> = points
        .iter()
        .map(|p| UnitVector::from_lon_lat(p.position))
        .collect();
    let mut by_time: Vec<usize> = (0..n).collect();
    by_time.sort_by_key(|&i| points[i].observed_at_s);

    let mut sets = DisjointSets::new(n);
    for (rank, &i) in by_time.iter().enumerate() {
        for &j in &by_time[rank + 1..] {
            if points[j].observed_at_s - points[i].observed_at_s > params.link_time_s {
                break;
            }
            // A cheap bound first: the latitude difference never exceeds the central angle.
            let dlat_rad = (points[j].position.lat_deg - points[i].position.lat_deg)
                .abs()
                .to_radians();
            if dlat_rad * EARTH_RADIUS_M > params.link_distance_m + 1.0 {
                continue;
            }
            if EARTH_RADIUS_M * central_angle_rad(vectors[i], vectors[j]) <= params.link_distance_m
            {
                sets.union(i, j);
            }
        }
    }

    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..n {
        groups.entry(sets.find(i)).or_default().push(i);
    }
    let earlier = |a: usize, b: usize| {
        let (pa, pb) = (&points[a], &points[b]);
        (
            pa.observed_at_s,
            pa.position.lon_deg,
            pa.position.lat_deg,
            a,
        )
            .partial_cmp(&(
                pb.observed_at_s,
                pb.position.lon_deg,
                pb.position.lat_deg,
                b,
            ))
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let mut incidents: Vec<Incident> = groups
        .into_values()
        .map(|members| {
            let representative = members
                .iter()
                .copied()
                .min_by(|&a, &b| earlier(a, b))
                .unwrap_or(members[0]);
            Incident {
                members,
                representative,
            }
        })
        .collect();
    incidents.sort_by(|a, b| earlier(a.representative, b.representative));
    incidents
}

/// Union–find with path halving and union by size.
struct DisjointSets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}
