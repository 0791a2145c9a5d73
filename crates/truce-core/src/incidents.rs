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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PARAMS: FusionParams = FusionParams {
        link_distance_m: 1000.0,
        link_time_s: 10_800,
    };

    /// The obvious definition: every pair compared, components by flooding.
    fn brute_force(points: &[LinkPoint], params: FusionParams) -> Vec<Vec<usize>> {
        let n = points.len();
        let linked = |i: usize, j: usize| {
            (points[i].observed_at_s - points[j].observed_at_s).abs() <= params.link_time_s
                && truce_geo::great_circle_distance_m(points[i].position, points[j].position)
                    <= params.link_distance_m
        };
        let mut component = vec![usize::MAX; n];
        let mut groups = Vec::new();
        for start in 0..n {
            if component[start] != usize::MAX {
                continue;
            }
            let mut members = vec![start];
            component[start] = groups.len();
            let mut k = 0;
            while k < members.len() {
                let i = members[k];
                let label = groups.len();
                for (j, c) in component.iter_mut().enumerate() {
                    if *c == usize::MAX && linked(i, j) {
                        *c = label;
                        members.push(j);
                    }
                }
                k += 1;
            }
            members.sort_unstable();
            groups.push(members);
        }
        groups.sort();
        groups
    }

    fn points_strategy() -> impl Strategy<Value = Vec<LinkPoint>> {
        // Clustered points so that links, chains and near misses all occur.
        prop::collection::vec((0i64..40_000, 0.0f64..0.05, 0.0f64..0.05), 0..60).prop_map(|raw| {
            raw.into_iter()
                .map(|(t, dx, dy)| LinkPoint {
                    observed_at_s: t,
                    position: LonLat::new(37.0 + dx, 48.0 + dy),
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn components_equal_the_brute_force_definition(points in points_strategy()) {
            let mut ours: Vec<Vec<usize>> = link_incidents(&points, PARAMS).into_iter().map(|i| i.members).collect();
            ours.sort();
            prop_assert_eq!(ours, brute_force(&points, PARAMS));
        }

        #[test]
        fn the_partition_does_not_depend_on_input_order(points in points_strategy(), seed in any::<u64>()) {
            let mut order: Vec<usize> = (0..points.len()).collect();
            // A seeded shuffle.
            let mut s = seed | 1;
            for i in (1..order.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                order.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let shuffled: Vec<LinkPoint> = order.iter().map(|&i| points[i]).collect();
            let as_sets = |incidents: Vec<Incident>, map: &dyn Fn(usize) -> usize| {
                let mut sets: Vec<Vec<usize>> = incidents.into_iter().map(|i| { let mut m: Vec<usize> = i.members.into_iter().map(map).collect(); m.sort_unstable(); m }).collect();
                sets.sort();
                sets
            };
            let a = as_sets(link_incidents(&points, PARAMS), &|i| i);
            let b = as_sets(link_incidents(&shuffled, PARAMS), &|i| order[i]);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn bounds_are_inclusive_and_linkage_is_transitive() {
        let at = |t: i64, lon: f64| LinkPoint {
            observed_at_s: t,
            position: LonLat::new(lon, 48.0),
        };
        // Points on a meridian, where metres convert to degrees exactly.
        let north = |t: i64, metres: f64| LinkPoint {
            observed_at_s: t,
            position: LonLat::new(
                37.0,
                48.0 + (metres / truce_geo::EARTH_RADIUS_M).to_degrees(),
            ),
        };
        let chain = [
            north(0, 0.0),
            north(10_800, 999.0),
            north(21_600, 1998.0),
            at(40_000, 37.0),
        ];
        let incidents = link_incidents(&chain, PARAMS);
        assert_eq!(
            incidents
                .iter()
                .map(|i| i.members.clone())
                .collect::<Vec<_>>(),
            vec![vec![0, 1, 2], vec![3]]
        );
        assert_eq!(incidents[0].representative, 0);
        let too_late = [north(0, 0.0), north(10_801, 0.0)];
        assert_eq!(link_incidents(&too_late, PARAMS).len(), 2);
    }
}
