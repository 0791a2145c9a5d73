//! A bounding-volume hierarchy over the contact line's arcs, for the exact distance from any
//! point in a few node visits instead of a visit to every arc.
//!
//! Nodes are spherical caps (a centre and an angular radius) that contain their arcs. A
//! subtree is skipped only when its cap's lower bound exceeds the best angle found so far by
//! more than the rounding slack, so the arc that the exhaustive search would pick is always
//! visited and the result equals [`ContactLine::distance_m`] bit for bit.

use crate::contact_line::{ContactLine, NearestArc};
use crate::sphere::{UnitVector, central_angle_rad};

const LEAF_ARCS: usize = 4;
const SLACK_RAD: f64 = 1e-9;

#[derive(Clone, Copy, Debug)]
struct Node {
    center: UnitVector,
    radius_rad: f64,
    /// Leaves: a range of `order`; inner nodes: `start` is the first child, `end` the second.
    start: u32,
    end: u32,
    leaf: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct ArcTree {
    nodes: Vec<Node>,
    /// Arc indices, grouped by leaf.
    order: Vec<u32>,
}

impl ArcTree {
    pub(crate) fn new(line: &ContactLine) -> ArcTree {
        let mut order: Vec<u32> = (0..line.segment_count() as u32).collect();
        let mut tree = ArcTree {
            nodes: Vec::new(),
            order: Vec::new(),
        };
        let n = order.len();
        tree.build(line, &mut order, 0, n);
        tree.order = order;
        tree
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>() + self.order.len() * 4
    }

    /// Builds the subtree over `order[start..end]`, returns its node index.
    fn build(&mut self, line: &ContactLine, order: &mut [u32], start: usize, end: usize) -> u32 {
        let arcs = &mut order[start..end];
        let mut sum = [0.0f64; 3];
        for &i in arcs.iter() {
            let (a, b) = line.arc_endpoints(i as usize);
            for (k, total) in sum.iter_mut().enumerate() {
                *total += a.0[k] + b.0[k];
            }
        }
        let len = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]).sqrt();
        let center = if len > 0.0 {
            UnitVector([sum[0] / len, sum[1] / len, sum[2] / len])
        } else {
            line.arc_endpoints(arcs[0] as usize).0
        };
        let mut radius_rad = arcs
            .iter()
            .map(|&i| {
                let (a, b) = line.arc_endpoints(i as usize);
                central_angle_rad(center, a).max(central_angle_rad(center, b))
            })
            .fold(0.0f64, f64::max);
        // A cap wider than a hemisphere is not convex: it no longer contains its arcs.
        radius_rad = if radius_rad < std::f64::consts::FRAC_PI_2 {
            radius_rad * (1.0 + 1e-12) + SLACK_RAD
        } else {
            std::f64::consts::PI
        };

        let index = self.nodes.len() as u32;
        self.nodes.push(Node {
            center,
            radius_rad,
            start: start as u32,
            end: end as u32,
            leaf: true,
        });
        if arcs.len() <= LEAF_ARCS {
            return index;
        }
        // Split at the median along the axis where the arcs' midpoints spread most.
        let mid = |i: u32| {
            let (a, b) = line.arc_endpoints(i as usize);
            [a.0[0] + b.0[0], a.0[1] + b.0[1], a.0[2] + b.0[2]]
        };
        let mut lo = [f64::MAX; 3];
        let mut hi = [f64::MIN; 3];
        for &i in arcs.iter() {
            let m = mid(i);
            for (k, &v) in m.iter().enumerate() {
                lo[k] = lo[k].min(v);
                hi[k] = hi[k].max(v);
            }
        }
        let axis = (0..3)
            .max_by(|&x, &y| (hi[x] - lo[x]).total_cmp(&(hi[y] - lo[y])))
            .unwrap_or(0);
        let half = arcs.len() / 2;
        arcs.select_nth_unstable_by(half, |&x, &y| mid(x)[axis].total_cmp(&mid(y)[axis]));
        let left = self.build(line, order, start, start + half);
        let right = self.build(line, order, start + half, end);
        self.nodes[index as usize] = Node {
            center,
            radius_rad,
            start: left,
            end: right,
            leaf: false,
        };
        index
    }

    /// The smallest angle from `p` to any arc, in radians: the same value as the exhaustive
    /// minimum over every arc.
    pub(crate) fn nearest_angle_rad(&self, line: &ContactLine, p: UnitVector) -> f64 {
        let mut search = NearestArc::new(p);
        let mut stack: [(u32, f64); 64] = [(0, 0.0); 64];
        let mut depth = 1;
        while depth > 0 {
            depth -= 1;
            let (node_index, bound) = stack[depth];
            if bound > search.best_rad() + SLACK_RAD {
                continue;
            }
            let node = self.nodes[node_index as usize];
            if node.leaf {
                for &arc in &self.order[node.start as usize..node.end as usize] {
                    search.offer(line, arc as usize);
                }
                continue;
            }
            let bound_of = |child: u32| {
                let c = self.nodes[child as usize];
                (central_angle_rad(p, c.center) - c.radius_rad).max(0.0)
            };
            let (l, r) = (bound_of(node.start), bound_of(node.end));
            // Visit the nearer child first: push it last.
            let (first, second) = if l <= r {
                ((node.start, l), (node.end, r))
            } else {
                ((node.end, r), (node.start, l))
            };
            if depth + 2 > stack.len() {
                // Deeper than any balanced tree over 2^32 arcs; fall back to the exhaustive answer.
                return (0..line.segment_count())
                    .map(|i| line.arc_angle_rad(i, p))
                    .fold(f64::INFINITY, f64::min);
            }
            if second.1 <= search.best_rad() + SLACK_RAD {
                stack[depth] = second;
                depth += 1;
            }
            if first.1 <= search.best_rad() + SLACK_RAD {
                stack[depth] = first;
                depth += 1;
            }
        }
        search.best_rad()
    }
}
