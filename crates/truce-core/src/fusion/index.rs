//! The spatial–temporal index of fusion: a hash grid keyed by (latitude row, longitude
//! column, time bucket), so that finding the reports that may link with a new one costs a
//! few cell look-ups, never a scan of everything.
//!
//! Rows are `cell_deg` of latitude; each row has as many longitude columns as fit at its
//! poleward edge, so a column is at least `cell_m` wide. A query for every point within
//! `radius_m` visits the rows the radius reaches and, in each, the columns within the
//! longitude half-width `2·asin(sin(c/2) / cos φ)` (haversine; `φ` the most poleward latitude
//! reached, `c` the angular radius), which is conservative: nothing within the radius is
//! missed, across the antimeridian and at the poles too. An entry lives in every time bucket
//! its window touches and keeps its window, so that [`Grid::query`] filters by time without
//! touching the nodes and reports each node once (in the bucket of the later window start).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::ControlFlow;

use truce_geo::{EARTH_RADIUS_M, LonLat};

/// The FxHash mixing step: fast for small integer keys, deterministic (no random seed).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(SEED);
    }
    #[inline]
    fn write_i32(&mut self, i: i32) {
        self.write_u64(i as u32 as u64);
    }
    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

const END: u32 = u32::MAX;
/// Windows are indexed over at most this many buckets (longer ones are clamped by callers).
pub const MAX_BUCKETS_PER_ENTRY: i64 = 4096;
/// The cells a query keeps on the stack; more spill to the heap.
const QUERY_CELLS: usize = 32;

#[derive(Clone, Copy, Debug)]
struct Entry {
    node: u32,
    next: u32,
    t0: f64,
    t1: f64,
}

/// `x.floor() as i64` (saturating, NaN to 0) without the call to libm's `floor` that the
/// baseline x86-64 target makes: truncate, then step down when that rounded up.
#[inline]
fn floor_i64(x: f64) -> i64 {
    let t = x as i64;
    if (t as f64) > x {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// The number of columns of `row` in a grid of rows `cell_deg` high: as many as fit at its
/// poleward edge.
fn columns_of(cell_deg: f64, row: i32) -> i32 {
    let south = -90.0 + f64::from(row) * cell_deg;
    let north = (south + cell_deg).min(90.0);
    let poleward = south.abs().max(north.abs());
    if poleward >= 89.999_999 {
        return 1;
    }
    let width = 360.0 * poleward.to_radians().cos() / cell_deg;
    (width.floor() as i32).clamp(1, 1 << 24)
}

/// A hash grid of nodes (small integers chosen by the caller).
///
/// Buckets first, then cells: when nodes arrive roughly in time order (as `fuse` adds
/// them), the cells of the current buckets and their entries stay in cache.
#[derive(Clone, Debug)]
pub struct Grid {
    cell_m: f64,
    cell_deg: f64,
    rows: i32,
    /// The number of columns of each row from `first_row` that holds an entry or lies between
    /// two that do (computed once; rows outside hold nothing and are never visited).
    first_row: i32,
    cols: Vec<i32>,
    bucket_s: f64,
    buckets: FxHashMap<i64, FxHashMap<(i32, i32), u32>>,
    entries: Entries,
}

/// The grid's entries in segments of a fixed size: growing never copies what is there (a
/// vector doubling would write every entry again into fresh memory, and a grid of 10⁷
/// reports holds tens of millions of entries).
#[derive(Clone, Debug, Default)]
struct Entries {
    segments: Vec<Vec<Entry>>,
}

impl Entries {
    /// 2¹⁶ entries (1.5 MiB) a segment.
    const SEGMENT_BITS: u32 = 16;
    const SEGMENT: usize = 1 << Self::SEGMENT_BITS;

    fn push(&mut self, entry: Entry) {
        match self.segments.last_mut() {
            Some(last) if last.len() < Self::SEGMENT => last.push(entry),
            _ => {
                // The first grows as a vector does (a small grid stays small), the others
                // are made whole.
                let mut segment = if self.segments.is_empty() {
                    Vec::new()
                } else {
                    Vec::with_capacity(Self::SEGMENT)
                };
                segment.push(entry);
                self.segments.push(segment);
            }
        }
    }

    /// Every segment but the last is full.
    fn len(&self) -> usize {
        self.segments.last().map_or(0, |last| {
            (self.segments.len() - 1) * Self::SEGMENT + last.len()
        })
    }

    #[inline]
    fn get(&self, i: u32) -> Entry {
        self.segments[(i >> Self::SEGMENT_BITS) as usize][i as usize & (Self::SEGMENT - 1)]
    }
}

impl Grid {
    /// A grid of cells at least `cell_m` across and time buckets of `bucket_s` seconds.
    pub fn new(cell_m: f64, bucket_s: f64) -> Grid {
        let cell_m = if cell_m.is_finite() && cell_m > 1.0 {
            cell_m
        } else {
            1.0
        };
        let cell_deg = (cell_m / EARTH_RADIUS_M).to_degrees().min(180.0);
        let rows = ((180.0 / cell_deg).ceil() as i32).max(1);
        let bucket_s = if bucket_s.is_finite() && bucket_s >= 1.0 {
            bucket_s
        } else {
            1.0
        };
        Grid {
            cell_m,
            cell_deg,
            rows,
            first_row: 0,
            cols: Vec::new(),
            bucket_s,
            buckets: FxHashMap::default(),
            entries: Entries::default(),
        }
    }

    /// An empty grid of the same cells and time buckets.
    pub fn empty_like(&self) -> Grid {
        Grid::new(self.cell_m, self.bucket_s)
    }

    pub fn cell_m(&self) -> f64 {
        self.cell_m
    }

    pub fn is_empty(&self) -> bool {
        self.entries.segments.is_empty()
    }

    #[inline]
    pub fn bucket_of(&self, t_s: f64) -> i64 {
        floor_i64(t_s / self.bucket_s)
    }

    #[inline]
    fn row_of(&self, lat_deg: f64) -> i32 {
        floor_i64((lat_deg + 90.0) / self.cell_deg).clamp(0, i64::from(self.rows - 1)) as i32
    }

    /// Columns of a row of [`Grid::indexed_rows`].
    #[inline]
    fn cols(&self, row: i32) -> i32 {
        self.cols[(row - self.first_row) as usize]
    }

    /// The rows whose columns are known: every row holding an entry lies in them.
    fn indexed_rows(&self) -> std::ops::Range<i32> {
        self.first_row..self.first_row + self.cols.len() as i32
    }

    /// Makes `row` one of [`Grid::indexed_rows`].
    fn index_row(&mut self, row: i32) {
        let rows = self.indexed_rows();
        if self.cols.is_empty() {
            self.first_row = row;
            self.cols.push(columns_of(self.cell_deg, row));
        } else if row < rows.start {
            let before: Vec<i32> = (row..rows.start)
                .map(|r| columns_of(self.cell_deg, r))
                .collect();
            self.cols.splice(0..0, before);
            self.first_row = row;
        } else if row >= rows.end {
            self.cols
                .extend((rows.end..=row).map(|r| columns_of(self.cell_deg, r)));
        }
    }

    #[inline]
    fn col_of(&self, row: i32, lon_deg: f64) -> i32 {
        let cols = self.cols(row);
        let width = 360.0 / f64::from(cols);
        floor_i64((lon_deg + 180.0) / width).rem_euclid(i64::from(cols)) as i32
    }

    /// Indexes `node` at `p` for every bucket of the window `[t0_s, t1_s]`.
    pub fn insert(&mut self, node: u32, p: LonLat, t0_s: f64, t1_s: f64) {
        let row = self.row_of(p.lat_deg);
        self.index_row(row);
        let col = self.col_of(row, p.lon_deg);
        let (b0, b1) = self.buckets(t0_s, t1_s);
        for bucket in b0..=b1 {
            let next = self.entries.len() as u32;
            let cells = self.buckets.entry(bucket).or_default();
            let head = cells.entry((row, col)).or_insert(END);
            self.entries.push(Entry {
                node,
                next: *head,
                t0: t0_s,
                t1: t1_s,
            });
            *head = next;
        }
    }

    fn buckets(&self, t0_s: f64, t1_s: f64) -> (i64, i64) {
        let b0 = self.bucket_of(t0_s);
        let b1 = self.bucket_of(t1_s.max(t0_s));
        (b0, b1.min(b0 + MAX_BUCKETS_PER_ENTRY - 1))
    }

    /// Calls `found(node)` for every node indexed within `radius_m` of `p` (and maybe some
    /// farther) whose window overlaps `[t0_s, t1_s]`, each once.
    pub fn query(
        &self,
        p: LonLat,
        radius_m: f64,
        t0_s: f64,
        t1_s: f64,
        mut found: impl FnMut(u32),
    ) {
        let _ = self.query_until(p, radius_m, t0_s, t1_s, |node| {
            found(node);
            ControlFlow::Continue(())
        });
    }

    /// Whether `wanted(node)` holds for some node of [`Grid::query`]: the nodes are asked in
    /// the same order, and the scan stops at the first that is.
    pub fn any(
        &self,
        p: LonLat,
        radius_m: f64,
        t0_s: f64,
        t1_s: f64,
        mut wanted: impl FnMut(u32) -> bool,
    ) -> bool {
        self.query_until(p, radius_m, t0_s, t1_s, |node| {
            if wanted(node) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .is_break()
    }

    /// [`Grid::query`], stopping when `found` breaks.
    fn query_until(
        &self,
        p: LonLat,
        radius_m: f64,
        t0_s: f64,
        t1_s: f64,
        found: impl FnMut(u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        // Nothing to find when no bucket of the window holds an entry (a grid of few nodes,
        // such as the fixes'): the cells are not worth working out.
        let (b0, b1) = self.buckets(t0_s, t1_s);
        if !(b0..=b1).any(|b| self.buckets.contains_key(&b)) {
            return ControlFlow::Continue(());
        }
        // The cells of most queries fit on the stack: no allocation per query.
        let mut stack = [(0, 0); QUERY_CELLS];
        let mut len = 0;
        let mut spilled = Vec::new();
        self.each_cell_within(p, radius_m, |cell| {
            if len < QUERY_CELLS {
                stack[len] = cell;
                len += 1;
            } else {
                if spilled.is_empty() {
                    spilled.extend_from_slice(&stack);
                }
                spilled.push(cell);
            }
        });
        let cells = if spilled.is_empty() {
            &stack[..len]
        } else {
            &spilled[..]
        };
        self.scan_until(cells, t0_s, t1_s, found)
    }

    /// Adds to `cells` the (row, column) of every cell that may hold entries within
    /// `radius_m` of `p` (maybe more; rows without entries are left out): the cells a query
    /// visits.
    pub fn cells_within(&self, p: LonLat, radius_m: f64, cells: &mut Vec<(i32, i32)>) {
        self.each_cell_within(p, radius_m, |cell| cells.push(cell));
    }

    /// Calls `cell` with each cell of [`Grid::cells_within`], in the same order.
    fn each_cell_within(&self, p: LonLat, radius_m: f64, mut cell: impl FnMut((i32, i32))) {
        let c_rad = (radius_m.max(0.0) / EARTH_RADIUS_M) * (1.0 + 1e-9) + 1e-12;
        let c_deg = c_rad.to_degrees();
        let lat_lo = (p.lat_deg - c_deg).max(-90.0);
        let lat_hi = (p.lat_deg + c_deg).min(90.0);
        let poleward = lat_lo.abs().max(lat_hi.abs());
        let ratio = if poleward >= 89.999_999 {
            2.0
        } else {
            (c_rad / 2.0).sin() / poleward.to_radians().cos()
        };
        let half_lon_deg = if ratio >= 1.0 {
            360.0
        } else {
            2.0 * ratio.asin().to_degrees() + 1e-9
        };
        let rows = self.indexed_rows();
        for row in self.row_of(lat_lo).max(rows.start)..=self.row_of(lat_hi).min(rows.end - 1) {
            let cols = self.cols(row);
            let width = 360.0 / f64::from(cols);
            let k0 = floor_i64((p.lon_deg - half_lon_deg + 180.0) / width);
            let k1 = floor_i64((p.lon_deg + half_lon_deg + 180.0) / width);
            let (k0, k1) = if k1 - k0 + 1 >= i64::from(cols) {
                (0, i64::from(cols) - 1)
            } else {
                (k0, k1)
            };
            for k in k0..=k1 {
                cell((row, k.rem_euclid(i64::from(cols)) as i32));
            }
        }
    }

    /// Calls `found(node)` for every node in `cells` (distinct cells) whose window overlaps
    /// `[t0_s, t1_s]`, each once.
    pub fn scan(&self, cells: &[(i32, i32)], t0_s: f64, t1_s: f64, mut found: impl FnMut(u32)) {
        let _ = self.scan_until(cells, t0_s, t1_s, |node| {
            found(node);
            ControlFlow::Continue(())
        });
    }

    /// [`Grid::scan`], stopping when `found` breaks.
    fn scan_until(
        &self,
        cells: &[(i32, i32)],
        t0_s: f64,
        t1_s: f64,
        mut found: impl FnMut(u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        if self.is_empty() {
            return ControlFlow::Continue(());
        }
        let (b0, b1) = self.buckets(t0_s, t1_s);
        for bucket in b0..=b1 {
            // Each node once: in the bucket of its window's start, or in the first bucket
            // queried when it started before.
            let first = bucket == b0;
            let Some(by_cell) = self.buckets.get(&bucket) else {
                continue;
            };
            for cell in cells {
                let Some(&head) = by_cell.get(cell) else {
                    continue;
                };
                let mut e = head;
                while e != END {
                    let entry = self.entries.get(e);
                    e = entry.next;
                    if entry.t0 > t1_s || t0_s > entry.t1 {
                        continue;
                    }
                    if first || self.bucket_of(entry.t0) == bucket {
                        found(entry.node)?;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Entries beyond the first segments (2¹⁶ each) are found like the first, each once.
    #[test]
    fn many_entries_in_one_cell_are_all_found_once() {
        let mut grid = Grid::new(10_000.0, 3600.0);
        let p = LonLat::new(30.0, 48.0);
        let n = 3 * Entries::SEGMENT as u32 + 17;
        for node in 0..n {
            // Windows over two buckets: two entries a node.
            grid.insert(node, p, 3000.0, 4000.0);
        }
        let mut found = vec![0u32; n as usize];
        grid.query(p, 100.0, 0.0, 10_000.0, |m| found[m as usize] += 1);
        assert!(found.iter().all(|&k| k == 1));
        let mut none = 0;
        grid.query(p, 100.0, 5000.0, 6000.0, |_| none += 1);
        assert_eq!(none, 0);
    }

    proptest! {
        /// Every point within the radius is found, wherever it is on the sphere.
        #[test]
        fn nothing_within_the_radius_is_missed(
            lon in -180.0f64..180.0, lat in -90.0f64..=90.0,
            az in 0.0f64..360.0, frac in 0.0f64..=1.0, radius in 10.0f64..50_000.0,
            cell in 100.0f64..20_000.0,
        ) {
            let p = LonLat::new(lon, lat);
            let q = crate::fusion::sphere::destination(p, az, radius * frac);
            let mut grid = Grid::new(cell, 60.0);
            grid.insert(7, q, 0.0, 10.0);
            let mut hits = 0;
            grid.query(p, radius, 5.0, 6.0, |n| { assert_eq!(n, 7); hits += 1; });
            prop_assert_eq!(hits, 1);
        }
    }

    #[test]
    fn floor_i64_is_floor_then_a_saturating_cast() {
        let xs = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999_999,
            -2.000_001,
            1e15 + 0.5,
            -1e15 - 0.5,
            9.3e18,
            -9.3e18,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            -4_503_599_627_370_495.5,
        ];
        for x in xs {
            assert_eq!(floor_i64(x), x.floor() as i64, "{x}");
        }
    }

    proptest! {
        #[test]
        fn floor_i64_matches_floor(x in proptest::num::f64::ANY) {
            prop_assert_eq!(floor_i64(x), x.floor() as i64);
        }
    }

    #[test]
    fn any_asks_in_query_order_and_stops_at_the_first_wanted() {
        let p = LonLat::new(37.0, 48.0);
        let mut grid = Grid::new(1000.0, 100.0);
        for node in 0..10 {
            grid.insert(
                node,
                p,
                f64::from(node) * 30.0,
                f64::from(node) * 30.0 + 200.0,
            );
        }
        let mut all = Vec::new();
        grid.query(p, 10.0, 0.0, 400.0, |n| all.push(n));
        let mut asked = Vec::new();
        let wanted = all[3];
        assert!(grid.any(p, 10.0, 0.0, 400.0, |n| {
            asked.push(n);
            n == wanted
        }));
        assert_eq!(asked, all[..4]);
        assert!(!grid.any(p, 10.0, 0.0, 400.0, |_| false));
        assert!(!grid.any(p, 10.0, 1000.0, 2000.0, |_| true));
    }

    #[test]
    fn windows_meet_in_the_buckets_they_share() {
        let p = LonLat::new(37.0, 48.0);
        let mut grid = Grid::new(1000.0, 100.0);
        grid.insert(1, p, 0.0, 250.0);
        grid.insert(2, p, 150.0, 450.0);
        let mut found = Vec::new();
        grid.query(p, 10.0, 140.0, 400.0, |n| found.push(n));
        found.sort_unstable();
        assert_eq!(found, vec![1, 2]);
        found.clear();
        grid.query(p, 10.0, 300.0, 400.0, |n| found.push(n));
        assert_eq!(found, vec![2]);
    }
}
