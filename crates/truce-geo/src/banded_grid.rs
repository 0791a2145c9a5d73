//! The fast assessor: a uniform lon/lat grid whose cells settle most points — side of the
//! control area and distance band from the contact line — without any arithmetic, and fall
//! back to exact tests on a few candidates only near a band edge or the area's boundary.
//!
//! Every answer equals the exact definitions of [`ContactLine::distance_m`] and
//! [`ControlArea::covers`]: a cell is settled only when a conservative bound proves it, and
//! the fallbacks run the very same per-arc and per-edge arithmetic on a superset of the arcs
//! and edges that can matter.

use crate::LonLat;
use crate::arc_tree::ArcTree;
use crate::contact_line::{AngleLimit, ContactLine, NearestArc};
use crate::control_area::{ControlArea, RingPosition, ring_position_of_edges};
use crate::sphere::{EARTH_RADIUS_M, UnitVector, central_angle_rad};

/// Side and distance band of a point. `band` is the index of the first threshold that is
/// ≥ the distance, or the number of thresholds when the point lies beyond them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Classification {
    /// Inside or on the boundary of the control area.
    pub inside: bool,
    pub band: u8,
}

const SIDE_OUTSIDE: u8 = 0;
const SIDE_INSIDE: u8 = 1;
const SIDE_MIXED: u8 = 2;
/// The band code of a cell that needs the exact distance; bands 0..=62 settle in a cell.
const BAND_MIXED: u8 = 63;
/// How many cells the grid aims for: about 4 MiB of codes.
const TARGET_CELLS: f64 = (1u64 << 20) as f64;
/// Slack on every proof, in radians (about 6 mm): guards the bounds against rounding.
const SLACK_RAD: f64 = 1e-9;
/// A cell settles a band only if it stays this far inside it, in metres.
const BAND_MARGIN_M: f64 = 1.0;

/// Polygon edges that cross one grid row, grouped by ring.
#[derive(Clone, Copy, Debug)]
struct RingRun {
    polygon: u32,
    /// 0 for the exterior ring, 1.. for holes.
    ring: u32,
    start: u32,
    end: u32,
}

/// Candidate arcs for the points of a block of cells: a range of `arc_arena`, ordered by
/// angle from the block's centre, and the block's angular radius. A point of the block is at
/// least (centre angle − radius) from an arc, so a scan can stop at the first arc whose
/// bound exceeds the best angle found.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: u32,
    end: u32,
    radius_rad: f64,
}

/// The candidate arcs of a mixed-band cell and the bands its points can fall in.
#[derive(Clone, Copy, Debug)]
struct ArcList {
    span: Span,
    lowest_band: u8,
    highest_band: u8,
}

/// The grid, built once per agreement version and shared read-only across threads.
#[derive(Clone, Debug)]
pub struct BandedGrid {
    lon0_deg: f64,
    lat0_deg: f64,
    cols: usize,
    rows: usize,
    cell_lon_deg: f64,
    cell_lat_deg: f64,
    inv_cell_lon: f64,
    inv_cell_lat: f64,
    /// Per cell: bits 0–1 side, bits 2–7 band (63: mixed). One byte a cell, so that a
    /// million cells stay in one core's L2 cache.
    cells: Vec<u8>,
    /// The mixed-band cells, ascending, and for each a range of `arc_arena`.
    mixed_cells: Vec<u32>,
    arc_lists: Vec<ArcList>,
    /// Per [`LIST_BLOCK`]² block of cells: a range of `arc_arena` holding every arc that can
    /// be nearest to a point of the block, nearest to its centre first.
    block_lists: Vec<Span>,
    arc_arena: Vec<u32>,
    /// Per entry of `arc_arena`: the arc's angle from its list's block centre, radians.
    arc_center_rad: Vec<f32>,
    /// Per grid row: a range of `ring_runs`.
    row_runs: Vec<(u32, u32)>,
    ring_runs: Vec<RingRun>,
    /// Edges (x1, y1, x2, y2) in lon/lat degrees, referenced by `ring_runs`.
    row_edges: Vec<[f64; 4]>,
    thresholds_m: Vec<f64>,
    /// `thresholds_m` as angles on the sphere (`None` beyond 1.5 rad, where the
    /// trigonometry-free test does not apply).
    limits: Vec<Option<AngleLimit>>,
    line: ContactLine,
    arc_tree: ArcTree,
}

/// A rectangle of cells under consideration while building.
/// A square of `size` × `size` cells (a power of two, aligned to its size), clipped to the grid.
#[derive(Clone, Copy)]
struct Block {
    col0: usize,
    row0: usize,
    size: usize,
}

/// Blocks of this many cells a side keep a list of the arcs that can be nearest to any of
/// their points, for exact distances anywhere in the grid.
const LIST_BLOCK: usize = 8;
/// The blocks the build starts from.
const ROOT_BLOCK: usize = 64;

impl BandedGrid {
    /// Builds the grid for a line, an area and increasing band thresholds in metres (each band
    /// is (previous, threshold], the first from 0 inclusive).
    pub fn new(line: &ContactLine, area: &ControlArea, thresholds_m: &[f64]) -> BandedGrid {
        let max_threshold_m = thresholds_m.iter().copied().fold(0.0f64, f64::max);
        let (lon_min, lon_max, lat_min, lat_max) = extent(line, area, max_threshold_m);
        let mid_lat = ((lat_min + lat_max) / 2.0).to_radians();
        let aspect = mid_lat.cos().max(0.1);
        let area_deg2 = (lon_max - lon_min) * (lat_max - lat_min) * aspect;
        let cell_lat_deg = (area_deg2 / TARGET_CELLS).sqrt().max(1e-4);
        let cell_lon_deg = cell_lat_deg / aspect;
        let cols = (((lon_max - lon_min) / cell_lon_deg).ceil() as usize).max(1);
        let rows = (((lat_max - lat_min) / cell_lat_deg).ceil() as usize).max(1);

        let mut grid = BandedGrid {
            lon0_deg: lon_min,
            lat0_deg: lat_min,
            cols,
            rows,
            cell_lon_deg,
            cell_lat_deg,
            inv_cell_lon: 1.0 / cell_lon_deg,
            inv_cell_lat: 1.0 / cell_lat_deg,
            cells: vec![0; cols * rows],
            mixed_cells: Vec::new(),
            arc_lists: Vec::new(),
            block_lists: vec![
                Span::default();
                cols.div_ceil(LIST_BLOCK) * rows.div_ceil(LIST_BLOCK)
            ],
            arc_arena: Vec::new(),
            arc_center_rad: Vec::new(),
            row_runs: Vec::new(),
            ring_runs: Vec::new(),
            row_edges: Vec::new(),
            thresholds_m: thresholds_m.to_vec(),
            limits: thresholds_m
                .iter()
                .map(|&t| (t / EARTH_RADIUS_M < 1.5).then(|| AngleLimit::new(t / EARTH_RADIUS_M)))
                .collect(),
            line: line.clone(),
            arc_tree: ArcTree::new(line),
        };
        grid.build_rows(area);

        let all_arcs: Vec<u32> = (0..line.segment_count() as u32).collect();
        let all_edges: Vec<[f64; 4]> = area
            .polygons()
            .iter()
            .flat_map(|p| std::iter::once(&p.exterior).chain(&p.holes))
            .flat_map(|ring| {
                ring.windows(2)
                    .map(|e| [e[0].lon_deg, e[0].lat_deg, e[1].lon_deg, e[1].lat_deg])
            })
            .collect();
        for row0 in (0..rows).step_by(ROOT_BLOCK) {
            for col0 in (0..cols).step_by(ROOT_BLOCK) {
                let block = Block {
                    col0,
                    row0,
                    size: ROOT_BLOCK,
                };
                grid.settle(block, &all_arcs, &all_edges, false);
            }
        }
        // Cells were settled in tree order; lookups want them by index.
        let mut order: Vec<usize> = (0..grid.mixed_cells.len()).collect();
        order.sort_unstable_by_key(|&k| grid.mixed_cells[k]);
        grid.mixed_cells = order.iter().map(|&k| grid.mixed_cells[k]).collect();
        grid.arc_lists = order.iter().map(|&k| grid.arc_lists[k]).collect();
        grid
    }

    /// Number of cells, and how many of them need exact arithmetic (band, side).
    pub fn cell_stats(&self) -> (usize, usize, usize) {
        let band_mixed = self.mixed_cells.len();
        let side_mixed = self.cells.iter().filter(|&&c| c & 3 == SIDE_MIXED).count();
        (self.cells.len(), band_mixed, side_mixed)
    }

    /// Heap bytes held by the grid (cells, candidate lists, row edges), excluding the line.
    pub fn heap_bytes(&self) -> usize {
        self.cells.len()
            + self.mixed_cells.len() * 4
            + self.arc_lists.len() * std::mem::size_of::<ArcList>()
            + self.block_lists.len() * std::mem::size_of::<Span>()
            + self.arc_arena.len() * 8
            + self.line.heap_bytes()
            + self.row_runs.len() * 8
            + self.ring_runs.len() * std::mem::size_of::<RingRun>()
            + self.row_edges.len() * 32
            + self.arc_tree.heap_bytes()
    }

    #[inline]
    fn cell_of(&self, p: LonLat) -> Option<(usize, usize)> {
        let x = (p.lon_deg - self.lon0_deg) * self.inv_cell_lon;
        let y = (p.lat_deg - self.lat0_deg) * self.inv_cell_lat;
        // Written so that NaN fails too.
        if x >= 0.0 && y >= 0.0 && x < self.cols as f64 && y < self.rows as f64 {
            Some((x as usize, y as usize))
        } else {
            None
        }
    }

    /// Side and band of `p`, exactly as the reference definitions give them.
    #[inline]
    pub fn classify(&self, p: LonLat) -> Classification {
        let Some((col, row)) = self.cell_of(p) else {
            return Classification {
                inside: false,
                band: self.thresholds_m.len() as u8,
            };
        };
        let cell = row * self.cols + col;
        let code = self.cells[cell];
        let side = code & 3;
        let band = code >> 2;
        let inside = if side == SIDE_MIXED {
            self.covers_in_row(row, p)
        } else {
            side == SIDE_INSIDE
        };
        let band = if band == BAND_MIXED {
            self.band_in_cell(cell, p)
        } else {
            band
        };
        Classification { inside, band }
    }

    /// Whether `p`'s cell leaves the side, the band, to exact arithmetic (for profiles).
    pub fn needs_exact(&self, p: LonLat) -> (bool, bool) {
        match self.cell_of(p) {
            Some((col, row)) => {
                let code = self.cells[row * self.cols + col];
                (code & 3 == SIDE_MIXED, code >> 2 == BAND_MIXED)
            }
            None => (false, false),
        }
    }

    /// Classifies `points` into `out` (same length; extra entries of either are ignored):
    /// the same answers as [`BandedGrid::classify`], in a loop the compiler can keep
    /// branch-free for the settled cells that most points fall in.
    pub fn classify_slice(&self, points: &[LonLat], out: &mut [Classification]) {
        let (cols, rows) = (self.cols as f64, self.rows as f64);
        let outside = Classification {
            inside: false,
            band: self.thresholds_m.len() as u8,
        };
        for (p, o) in points.iter().zip(out.iter_mut()) {
            let x = (p.lon_deg - self.lon0_deg) * self.inv_cell_lon;
            let y = (p.lat_deg - self.lat0_deg) * self.inv_cell_lat;
            let in_grid = x >= 0.0 && y >= 0.0 && x < cols && y < rows;
            // Outside the grid: cell 0 is read but not used (no branch on the common path).
            let cell = if in_grid {
                y as usize * self.cols + x as usize
            } else {
                0
            };
            let code = self.cells[cell];
            let settled = code & 3 != SIDE_MIXED && code >> 2 != BAND_MIXED;
            *o = if !in_grid {
                outside
            } else if settled {
                Classification {
                    inside: code & 3 == SIDE_INSIDE,
                    band: code >> 2,
                }
            } else {
                self.classify_mixed(cell, y as usize, *p)
            };
        }
    }

    #[cold]
    #[inline(never)]
    fn classify_mixed(&self, cell: usize, row: usize, p: LonLat) -> Classification {
        let code = self.cells[cell];
        let inside = if code & 3 == SIDE_MIXED {
            self.covers_in_row(row, p)
        } else {
            code & 3 == SIDE_INSIDE
        };
        let band = if code >> 2 == BAND_MIXED {
            self.band_in_cell(cell, p)
        } else {
            code >> 2
        };
        Classification { inside, band }
    }

    /// Exact great-circle distance to the contact line, in metres, using the grid's
    /// candidate lists where it can.
    pub fn distance_m(&self, p: LonLat) -> f64 {
        match self.cell_of(p) {
            Some((col, row)) => {
                let cell = row * self.cols + col;
                if self.cells[cell] >> 2 == BAND_MIXED {
                    self.distance_in_cell(cell, p)
                } else {
                    let block =
                        (row / LIST_BLOCK) * self.cols.div_ceil(LIST_BLOCK) + col / LIST_BLOCK;
                    match self.block_lists[block] {
                        span if span.start < span.end => self.distance_over_m(span, p),
                        _ => self.distance_by_tree_m(p),
                    }
                }
            }
            None => self.distance_by_tree_m(p),
        }
    }

    /// Exact side of `p` (inside or on the boundary).
    pub fn covers(&self, p: LonLat) -> bool {
        match self.cell_of(p) {
            Some((col, row)) => match self.cells[row * self.cols + col] & 3 {
                SIDE_MIXED => self.covers_in_row(row, p),
                side => side == SIDE_INSIDE,
            },
            None => false,
        }
    }

    fn distance_by_tree_m(&self, p: LonLat) -> f64 {
        EARTH_RADIUS_M
            * self
                .arc_tree
                .nearest_angle_rad(&self.line, UnitVector::from_lon_lat(p))
    }

    fn band_of(&self, distance_m: f64) -> u8 {
        self.thresholds_m
            .iter()
            .position(|&t| distance_m <= t)
            .unwrap_or(self.thresholds_m.len()) as u8
    }

    /// The band of a point in a mixed-band cell: for each threshold the cell straddles, is
    /// some candidate arc within it? Trigonometry only when a test is too close to call.
    fn band_in_cell(&self, cell: usize, p: LonLat) -> u8 {
        let Ok(k) = self.mixed_cells.binary_search(&(cell as u32)) else {
            return self.band_of(self.distance_by_tree_m(p));
        };
        let list = self.arc_lists[k];
        let arcs = &self.arc_arena[list.span.start as usize..list.span.end as usize];
        let v = UnitVector::from_lon_lat(p);
        for band in list.lowest_band..list.highest_band {
            let Some(limit) = &self.limits[usize::from(band)] else {
                return self.band_of(self.distance_in_cell(cell, p));
            };
            let mut undecided = false;
            for &arc in arcs {
                match self.line.arc_within(arc as usize, v, limit) {
                    Some(true) => return band,
                    Some(false) => {}
                    None => undecided = true,
                }
            }
            if undecided {
                return self.band_of(self.distance_in_cell(cell, p));
            }
        }
        list.highest_band
    }

    fn distance_in_cell(&self, cell: usize, p: LonLat) -> f64 {
        let Ok(k) = self.mixed_cells.binary_search(&(cell as u32)) else {
            return self.distance_by_tree_m(p);
        };
        self.distance_over_m(self.arc_lists[k].span, p)
    }

    /// The smallest distance from `p` (a point of the span's block) to the span's arcs, in
    /// metres. Arcs are visited nearest to the block's centre first; the scan stops when the
    /// remaining ones provably cannot be nearer than the best so far.
    fn distance_over_m(&self, span: Span, p: LonLat) -> f64 {
        let mut search = NearestArc::new(UnitVector::from_lon_lat(p));
        let range = span.start as usize..span.end as usize;
        let arcs = self.arc_arena[range.clone()].iter();
        for (&arc, &center_rad) in arcs.zip(&self.arc_center_rad[range]) {
            let center_rad = f64::from(center_rad);
            if center_rad - span.radius_rad > search.best_rad() + SLACK_RAD {
                break;
            }
            search.offer(&self.line, arc as usize);
        }
        EARTH_RADIUS_M * search.best_rad()
    }

    /// The exact point-in-area test restricted to the edges that cross `p`'s row: edges that
    /// do not span `p`'s latitude can neither be crossed by its ray nor contain it.
    fn covers_in_row(&self, row: usize, p: LonLat) -> bool {
        let (start, end) = self.row_runs[row];
        let runs = &self.ring_runs[start as usize..end as usize];
        let mut i = 0;
        while i < runs.len() {
            let polygon = runs[i].polygon;
            let mut exterior = RingPosition::Outside;
            let mut in_hole = false;
            while i < runs.len() && runs[i].polygon == polygon {
                let run = runs[i];
                let position = ring_position_of_edges(
                    self.row_edges[run.start as usize..run.end as usize]
                        .iter()
                        .copied(),
                    p,
                );
                if run.ring == 0 {
                    exterior = position;
                } else if position == RingPosition::Inside {
                    in_hole = true;
                }
                i += 1;
            }
            match exterior {
                RingPosition::OnBoundary => return true,
                RingPosition::Inside if !in_hole => return true,
                _ => {}
            }
        }
        false
    }

    fn build_rows(&mut self, area: &ControlArea) {
        let mut per_row: Vec<Vec<(u32, u32, [f64; 4])>> = vec![Vec::new(); self.rows];
        for (pi, polygon) in area.polygons().iter().enumerate() {
            for (ri, ring) in std::iter::once(&polygon.exterior)
                .chain(&polygon.holes)
                .enumerate()
            {
                for e in ring.windows(2) {
                    let (y_lo, y_hi) = (
                        e[0].lat_deg.min(e[1].lat_deg),
                        e[0].lat_deg.max(e[1].lat_deg),
                    );
                    let r0 = ((y_lo - self.lat0_deg) * self.inv_cell_lat - 1e-6)
                        .floor()
                        .max(0.0) as usize;
                    let r1 = ((y_hi - self.lat0_deg) * self.inv_cell_lat + 1e-6)
                        .floor()
                        .max(0.0) as usize;
                    for row in per_row.iter_mut().take(r1 + 1).skip(r0) {
                        row.push((
                            pi as u32,
                            ri as u32,
                            [e[0].lon_deg, e[0].lat_deg, e[1].lon_deg, e[1].lat_deg],
                        ));
                    }
                }
            }
        }
        for entries in per_row {
            let start = self.ring_runs.len() as u32;
            // Entries arrive grouped by polygon and ring already (built in that order).
            let mut k = 0;
            while k < entries.len() {
                let (polygon, ring) = (entries[k].0, entries[k].1);
                let edge_start = self.row_edges.len() as u32;
                while k < entries.len() && entries[k].0 == polygon && entries[k].1 == ring {
                    self.row_edges.push(entries[k].2);
                    k += 1;
                }
                self.ring_runs.push(RingRun {
                    polygon,
                    ring,
                    start: edge_start,
                    end: self.row_edges.len() as u32,
                });
            }
            self.row_runs.push((start, self.ring_runs.len() as u32));
        }
    }

    /// Decides a block of cells: settles it whole if bounds allow, else splits it. Blocks
    /// that an ancestor settled (`settled`) are still split down to [`LIST_BLOCK`] to give
    /// every list block its candidate arcs.
    fn settle(&mut self, block: Block, arcs: &[u32], edges: &[[f64; 4]], settled: bool) {
        let cols = block.size.min(self.cols - block.col0);
        let rows = block.size.min(self.rows - block.row0);
        let lon_a = self.lon0_deg + block.col0 as f64 * self.cell_lon_deg;
        let lon_b = self.lon0_deg + (block.col0 + cols) as f64 * self.cell_lon_deg;
        let lat_a = self.lat0_deg + block.row0 as f64 * self.cell_lat_deg;
        let lat_b = self.lat0_deg + (block.row0 + rows) as f64 * self.cell_lat_deg;
        let center = LonLat::new((lon_a + lon_b) / 2.0, (lat_a + lat_b) / 2.0);
        let c = UnitVector::from_lon_lat(center);
        // The farthest point of a lon/lat rectangle from its centre is a corner.
        let radius_rad = [
            (lon_a, lat_a),
            (lon_a, lat_b),
            (lon_b, lat_a),
            (lon_b, lat_b),
        ]
        .iter()
        .map(|&(x, y)| central_angle_rad(c, UnitVector::from_lon_lat(LonLat::new(x, y))))
        .fold(0.0f64, f64::max)
            * (1.0 + 1e-9)
            + SLACK_RAD;

        // Arcs that can be nearest for some point of the block.
        let angles: Vec<f64> = arcs
            .iter()
            .map(|&a| self.line.arc_angle_rad(a as usize, c))
            .collect();
        let center_rad = angles.iter().copied().fold(f64::INFINITY, f64::min);
        let keep_rad = center_rad + 2.0 * radius_rad + SLACK_RAD;
        let near_arcs: Vec<u32> = arcs
            .iter()
            .zip(&angles)
            .filter(|&(_, &a)| a <= keep_rad)
            .map(|(&i, _)| i)
            .collect();
        let list = |grid: &mut BandedGrid| -> Span {
            let mut pairs: Vec<(f64, u32)> = arcs
                .iter()
                .zip(&angles)
                .filter(|&(_, &a)| a <= keep_rad)
                .map(|(&i, &a)| (a, i))
                .collect();
            pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
            let start = grid.arc_arena.len() as u32;
            grid.arc_arena.extend(pairs.iter().map(|&(_, i)| i));
            grid.arc_center_rad
                .extend(pairs.iter().map(|&(a, _)| f32_at_most(a)));
            Span {
                start,
                end: grid.arc_arena.len() as u32,
                radius_rad,
            }
        };
        if block.size == LIST_BLOCK {
            let index = (block.row0 / LIST_BLOCK) * self.cols.div_ceil(LIST_BLOCK)
                + block.col0 / LIST_BLOCK;
            self.block_lists[index] = list(self);
        }
        if settled {
            if block.size > LIST_BLOCK {
                self.split(block, &near_arcs, &[], true);
            }
            return;
        }

        let lo_m = EARTH_RADIUS_M * (center_rad - radius_rad).max(0.0);
        let hi_m = EARTH_RADIUS_M * (center_rad + radius_rad);
        let band = self.settled_band(lo_m, hi_m);

        // Edges that may cross the block.
        let eps = 1e-9;
        let near_edges: Vec<[f64; 4]> = edges
            .iter()
            .copied()
            .filter(|e| segment_meets_rect(e, lon_a - eps, lat_a - eps, lon_b + eps, lat_b + eps))
            .collect();
        let side = if near_edges.is_empty() {
            let row = ((center.lat_deg - self.lat0_deg) * self.inv_cell_lat) as usize;
            if self.covers_in_row(row.min(self.rows - 1), center) {
                SIDE_INSIDE
            } else {
                SIDE_OUTSIDE
            }
        } else {
            SIDE_MIXED
        };

        if (band.is_some() && side != SIDE_MIXED) || block.size == 1 {
            let mut code = side;
            match band {
                Some(b) => code |= b << 2,
                None => {
                    code |= BAND_MIXED << 2;
                    let span = list(self);
                    self.mixed_cells
                        .push((block.row0 * self.cols + block.col0) as u32);
                    self.arc_lists.push(ArcList {
                        span,
                        lowest_band: self.band_of(lo_m - BAND_MARGIN_M),
                        highest_band: self.band_of(hi_m + BAND_MARGIN_M),
                    });
                }
            }
            for row in block.row0..block.row0 + rows {
                let at = row * self.cols;
                self.cells[at + block.col0..at + block.col0 + cols].fill(code);
            }
            if block.size > LIST_BLOCK {
                self.split(block, &near_arcs, &[], true);
            }
            return;
        }
        self.split(block, &near_arcs, &near_edges, false);
    }

    /// Settles the (up to four) children of a block that lie within the grid.
    fn split(&mut self, block: Block, arcs: &[u32], edges: &[[f64; 4]], settled: bool) {
        let half = block.size / 2;
        for (dc, dr) in [(0, 0), (half, 0), (0, half), (half, half)] {
            let child = Block {
                col0: block.col0 + dc,
                row0: block.row0 + dr,
                size: half,
            };
            if child.col0 < self.cols && child.row0 < self.rows {
                self.settle(child, arcs, edges, settled);
            }
        }
    }

    /// The band that holds every distance in [lo_m, hi_m] with a margin, if there is one.
    fn settled_band(&self, lo_m: f64, hi_m: f64) -> Option<u8> {
        if self.thresholds_m.len() >= usize::from(BAND_MIXED) {
            return None;
        }
        let mut lower = f64::NEG_INFINITY;
        for (i, &upper) in self.thresholds_m.iter().enumerate() {
            if lo_m > lower + BAND_MARGIN_M && hi_m < upper - BAND_MARGIN_M {
                return Some(i as u8);
            }
            lower = upper;
        }
        (lo_m > lower + BAND_MARGIN_M).then_some(self.thresholds_m.len() as u8)
    }
}

/// The largest `f32` not above `x`: a lower bound stays a lower bound in half the memory.
fn f32_at_most(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x { f.next_down() } else { f }
}

/// Whether the segment meets the closed rectangle (separating-axis test).
fn segment_meets_rect(e: &[f64; 4], x0: f64, y0: f64, x1: f64, y1: f64) -> bool {
    let [ax, ay, bx, by] = *e;
    if ax.max(bx) < x0 || ax.min(bx) > x1 || ay.max(by) < y0 || ay.min(by) > y1 {
        return false;
    }
    let side = |x: f64, y: f64| (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    let s = [side(x0, y0), side(x0, y1), side(x1, y0), side(x1, y1)];
    !(s.iter().all(|&v| v > 0.0) || s.iter().all(|&v| v < 0.0))
}

/// The lon/lat box holding the control area and every point within `max_threshold_m` of the
/// line (with a margin), clamped to the globe.
fn extent(line: &ContactLine, area: &ControlArea, max_threshold_m: f64) -> (f64, f64, f64, f64) {
    let (mut lon_min, mut lon_max, mut lat_min, mut lat_max) =
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    let mut grow = |p: &LonLat| {
        lon_min = lon_min.min(p.lon_deg);
        lon_max = lon_max.max(p.lon_deg);
        lat_min = lat_min.min(p.lat_deg);
        lat_max = lat_max.max(p.lat_deg);
    };
    line.polylines().iter().flatten().for_each(&mut grow);
    // Arcs bulge poleward of their endpoints' box; bound the bulge by the longest arc.
    let longest_rad = (0..line.segment_count())
        .map(|i| {
            let (a, b) = line.arc_endpoints(i);
            central_angle_rad(a, b)
        })
        .fold(0.0f64, f64::max);
    let reach_rad = max_threshold_m / EARTH_RADIUS_M + longest_rad * longest_rad + 2e-4;
    lat_min = (lat_min - reach_rad.to_degrees()).max(-90.0);
    lat_max = (lat_max + reach_rad.to_degrees()).min(90.0);
    let max_cos = lat_min.abs().max(lat_max.abs()).to_radians().cos();
    let lon_reach_deg = if max_cos > reach_rad.sin() && reach_rad < 1.0 {
        (reach_rad.sin() / max_cos).asin().to_degrees()
    } else {
        360.0
    };
    lon_min = (lon_min - lon_reach_deg).max(-180.0);
    lon_max = (lon_max + lon_reach_deg).min(180.0);
    if lon_reach_deg >= 360.0 {
        lat_min = -90.0;
        lat_max = 90.0;
    }
    area.polygons()
        .iter()
        .flat_map(|p| &p.exterior)
        .for_each(|p| {
            lon_min = lon_min.min(p.lon_deg);
            lon_max = lon_max.max(p.lon_deg);
            lat_min = lat_min.min(p.lat_deg);
            lat_max = lat_max.max(p.lat_deg);
        });
    // A hair beyond, so the maxima fall inside the last cell.
    (lon_min, lon_max + 1e-9, lat_min, lat_max + 1e-9)
}
