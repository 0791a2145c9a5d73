//! The fast assessor: a uniform lon/lat grid whose cells settle most points — side of the
//! control area and distance band from the contact line — without any arithmetic, and fall
//! back to exact tests on a few candidates only near a band edge or the area's boundary.
//!
//! Cells that a band edge or the area's boundary crosses are refined into [`SUB`] × [`SUB`]
//! sub-cells, and sub-cells still crossed into [`FINE`] × [`FINE`] fine cells, all settled by
//! the same proofs; only points in the fine cells that an edge still crosses need arithmetic.
//! Cells are powers of two in 10⁻⁷ degree, aligned to them, so that a [`LonLatE7`] point is
//! located exactly, by shifts.
//!
//! Every answer equals the exact definitions of [`ContactLine::distance_m`] and
//! [`ControlArea::covers`]: a cell is settled only when a conservative bound proves it, and
//! the fallbacks run the very same per-arc and per-edge arithmetic on a superset of the arcs
//! and edges that can matter.

use crate::arc_tree::ArcTree;
use crate::contact_line::{AngleLimit, ContactLine, NearestArc};
use crate::control_area::{ControlArea, RingPosition, ring_position_of_edges};
use crate::sphere::{EARTH_RADIUS_M, UnitVector, central_angle_rad};
use crate::{BulkPoint, LonLat, LonLatE7};

/// Side and distance band of a point. `band` is the index of the first threshold that is
/// ≥ the distance, or the number of thresholds when the point lies beyond them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Classification {
    /// Inside or on the boundary of the control area.
    pub inside: bool,
    pub band: u8,
}

impl Classification {
    /// The classification of a code of [`GridView::classify_codes`].
    #[inline(always)]
    pub fn from_code(code: u8) -> Classification {
        Classification {
            inside: code & INSIDE != 0,
            band: code >> 1,
        }
    }

    /// `band << 1 | inside`.
    #[inline(always)]
    pub fn code(self) -> u8 {
        code(u8::from(self.inside), self.band)
    }
}

/// How the grid answers for one point (for profiles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Settling {
    /// The point's cell is refined into sub-cells.
    pub refined: bool,
    /// The point's sub-cell is divided into fine cells.
    pub fine: bool,
    /// The side needs the exact edge test.
    pub exact_side: bool,
    /// The band needs exact tests against arcs.
    pub exact_band: bool,
}

/// Cell and sub-cell counts (for profiles and the assessor's report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellStats {
    pub cells: usize,
    /// Cells crossed by a band edge or the boundary, refined into sub-cells.
    pub refined_cells: usize,
    pub sub_cells: usize,
    /// Sub-cells whose points need an exact band or side: each is divided into fine cells.
    pub sub_cells_mixed: usize,
    pub fine_cells: usize,
    /// Fine cells whose points need an exact band.
    pub fine_cells_needing_distance: usize,
    /// Fine cells whose points need an exact side.
    pub fine_cells_needing_side_test: usize,
}

/// A cell's or sub-cell's code: bit 0 inside, bits 1–6 the band (63: mixed), bit 7 side
/// mixed. Codes below [`SETTLED_BELOW`] settle both, so the hot loop tests one comparison.
const INSIDE: u8 = 1;
const SIDE_MIXED: u8 = 0x80;
const OUTSIDE: u8 = 0;
/// The band of a code that needs the exact distance; bands 0..=62 settle.
const BAND_MIXED: u8 = 63;
const SETTLED_BELOW: u8 = BAND_MIXED << 1;
/// The code of a refined cell, once the grid is built: this plus the cell's rank among the
/// refined cells of its 64 (see `refined_rank`).
const REFINED: u8 = 128;
/// The code of a mixed cell that is not refined, once the grid is built.
const UNREFINED: u8 = 255;
/// Points located together by [`GridView::classify_codes`], in steps of a block of
/// [`COUNT_BLOCK`].
const CODE_BLOCK: usize = 256;
/// Sub-cells per side of a refined cell (a power of two).
const SUB: usize = 8;
/// Fine cells per side of a sub-cell that its cell's proofs leave mixed (a power of two).
const FINE: usize = 8;
/// How many cells the grid has at least (up to about twice as many, its sides being powers of
/// two): a few hundred KiB of codes. 2²⁰ was measured 2–5% faster with the fine cells, at
/// twice the assessor's state; a detailed line's state must stay within 64 MiB.
const TARGET_CELLS: f64 = (1u64 << 18) as f64;
/// Slack on every proof, in radians (about 6 mm): guards the bounds against rounding.
const SLACK_RAD: f64 = 1e-9;
/// A cell settles a band only if it stays this far inside it, in metres.
const BAND_MARGIN_M: f64 = 1.0;
/// Rectangles are widened by this much, in degrees, before testing edges against them:
/// guards the side proofs against the rounding of a point's cell.
const EDGE_EPS_DEG: f64 = 1e-9;

fn code(side: u8, band: u8) -> u8 {
    side | band << 1
}

fn band_of_code(code: u8) -> u8 {
    (code >> 1) & BAND_MIXED
}

/// Polygon edges that cross one grid row, grouped by ring.
#[derive(Clone, Copy, Debug)]
struct RingRun {
    polygon: u32,
    /// 0 for the exterior ring, 1.. for holes.
    ring: u32,
    start: u32,
    end: u32,
}

/// What the crossing-number test of one ring needs for the points of one refined cell. The
/// ring's edges that cross the cell's row are of three kinds: wholly west of the cell (their
/// crossing with a point's eastward ray, if any, is west of the point: they never count),
/// near it (tested exactly, edge by edge), and wholly east of it. An eastern edge
/// from latitude a to b counts for a point at latitude y exactly when (a > y) ≠ (b > y), i.e.
/// when [a ≤ y] xor [b ≤ y]: together they count as the parity of how many of their ends lie
/// at or below y. `east_parity` holds the ends below the cell (at or below any of its points),
/// `lats` the ends within its latitudes, compared with y one by one.
///
/// Stored in `side_data` (see [`BandedGrid`]) as two header words, then the near edges'
/// four coordinates each, then the latitudes, all of a cell's runs one after another: the
/// test of a point reads one run of memory after its cell's range rather than three tables
/// (the loads of those tables were half of the test's time, waiting on memory).
#[derive(Clone, Copy, Debug, PartialEq)]
struct SideRun {
    polygon: u32,
    /// 0 for the exterior ring, 1.. for holes.
    ring: u32,
    edges: u32,
    lats: u32,
    east_parity: bool,
}

impl SideRun {
    /// The words of a run's header in `side_data`.
    const HEADER: usize = 2;

    fn header(self) -> [u64; SideRun::HEADER] {
        [
            u64::from(self.polygon) << 32 | u64::from(self.ring),
            u64::from(self.edges) << 33 | u64::from(self.lats) << 1 | u64::from(self.east_parity),
        ]
    }

    #[inline]
    fn from_header([a, b]: [u64; SideRun::HEADER]) -> SideRun {
        SideRun {
            polygon: (a >> 32) as u32,
            ring: a as u32,
            edges: (b >> 33) as u32,
            lats: ((b >> 1) & 0xFFFF_FFFF) as u32,
            east_parity: b & 1 != 0,
        }
    }
}

/// The side list of a refined cell none of whose sub-cells needs the exact side.
const NO_SIDE_LIST: (u32, u32) = (u32::MAX, u32::MAX);
/// How far, in degrees, an edge must lie from a cell to be taken as west or east of it, and
/// a latitude below it to be counted as below every point of it: far beyond the rounding of a
/// point's cell (a point lies in its cell within about 10⁻¹⁴ degree).
const SIDE_MARGIN_DEG: f64 = 1e-6;

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

/// The candidate arcs of a refined cell and the bands its points can fall in (an empty span
/// when the cell's band is settled and only its side needed refining).
#[derive(Clone, Copy, Debug)]
struct ArcList {
    span: Span,
    lowest_band: u8,
    highest_band: u8,
}

/// The grid, built once per agreement version and shared read-only across threads.
#[derive(Clone, Debug)]
pub struct BandedGrid {
    /// The south-west corner of the grid, in degrees and as whole cells from (0°, 0°): a cell
    /// is 2^`shift_lon` × 2^`shift_lat` units of 10⁻⁷ degree, so that a point given in those
    /// units is located by shifts (see [`GridView::cell_of`]).
    lon0_deg: f64,
    lat0_deg: f64,
    col0: i32,
    row0: i32,
    shift_lon: u32,
    shift_lat: u32,
    cols: usize,
    rows: usize,
    /// Grid coordinates are clamped to [−½, cols + ½] × [−½, rows + ½] (see [`GridView`]).
    x_max: f64,
    y_max: f64,
    cell_lon_deg: f64,
    cell_lat_deg: f64,
    inv_cell_lon: f64,
    inv_cell_lat: f64,
    /// Per cell, row by row, the code (see [`SETTLED_BELOW`]); one byte a cell, so that the
    /// cells stay in one core's L2 cache. A ring of border cells around the grid,
    /// settled outside and beyond every band, holds every point outside it (NaN too): rows
    /// and columns are numbered from −1, and the hot loop needs no test of the bounds.
    cells: Vec<u8>,
    /// Per 64 cells: the refined cells before them. A refined cell's code is [`REFINED`] plus
    /// its rank among the refined cells of its 64: the two give its index without a search.
    refined_rank: Vec<u32>,
    /// Per refined cell, in cell order: [`SUB`]² sub-cell codes, row by row.
    sub_codes: Vec<u8>,
    /// Per refined cell: which of its sub-cells (bit `sy * SUB + sx`) are divided into fine
    /// cells, and the index in `fine_codes`, in blocks of [`FINE`]², of its first such
    /// sub-cell's; the others follow in the order of their bits.
    fine_index: Vec<(u64, u32)>,
    /// Per mixed sub-cell, in cell order then sub-cell order: [`FINE`]² codes, row by row.
    fine_codes: Vec<u8>,
    /// Per refined cell, in cell order: its candidate arcs.
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
    /// Per refined cell, in cell order: a range of `side_data` holding what the exact side
    /// test needs for the cell's points ([`NO_SIDE_LIST`] when no sub-cell of it needs that).
    side_lists: Vec<(u32, u32)>,
    /// The [`SideRun`]s of the refined cells, each a header followed by its edges near the
    /// cell (x1, y1, x2, y2 in degrees) and the ends, within the cell's latitudes, of its
    /// edges wholly east of the cell; numbers as their bits (`f64::to_bits`, exact).
    side_data: Vec<u64>,
    thresholds_m: Vec<f64>,
    /// `thresholds_m` as angles on the sphere (`None` beyond 1.5 rad, where the
    /// trigonometry-free test does not apply).
    limits: Vec<Option<AngleLimit>>,
    line: ContactLine,
    arc_tree: ArcTree,
}

/// A square of `size` × `size` cells (a power of two, aligned to its size), clipped to the grid.
#[derive(Clone, Copy)]
struct Block {
    col0: usize,
    row0: usize,
    size: usize,
}

/// A square divided into [`SUB`]² leaves by [`BandedGrid::refine`]: its south-west corner
/// in grid coordinates (cells), the row of the cell it lies in, and a leaf's side in cells.
#[derive(Clone, Copy)]
struct Leaves {
    col: f64,
    row: f64,
    cell_row: usize,
    unit: f64,
}

/// The sub-cell (sx, sy) of its cell that holds a located point, and the fine cell (fx, fy)
/// of that sub-cell. x − col is exact, in [0, 1]; scaling by a power of two too, so the
/// sub-cell is the one the fine cell lies in. Sub-cells and fine cells are closed as cells
/// are: a point on an edge between two may go to either.
#[inline(always)]
fn fine_position(at: Located) -> ((usize, usize), (usize, usize)) {
    let n = SUB * FINE;
    let fx = (((at.x - at.col as f64) * n as f64) as usize).min(n - 1);
    let fy = (((at.y - at.row as f64) * n as f64) as usize).min(n - 1);
    ((fx / FINE, fy / FINE), (fx % FINE, fy % FINE))
}

/// Edges (x1, y1, x2, y2) stored as the bits of their numbers, four a edge.
fn edges_of_bits(bits: &[u64]) -> impl Iterator<Item = [f64; 4]> + '_ {
    bits.chunks_exact(4)
        .map(|e| std::array::from_fn(|i| f64::from_bits(e[i])))
}

/// A lon/lat rectangle in degrees.
#[derive(Clone, Copy)]
struct Rect {
    lon_a: f64,
    lon_b: f64,
    lat_a: f64,
    lat_b: f64,
}

/// How many points have each code (see [`Classification::code`]), as
/// [`GridView::count_codes`] adds them up.
#[derive(Clone, Debug)]
pub struct CodeCounts {
    /// Per code, four interleaved counters, so that consecutive points of one code counted
    /// one by one do not wait on each other's increment; a row for every byte, so that such a
    /// count needs no branch.
    tables: Box<[[u64; 4]; 256]>,
}

impl Default for CodeCounts {
    fn default() -> CodeCounts {
        CodeCounts {
            tables: Box::new([[0; 4]; 256]),
        }
    }
}

/// Codes compared at once by [`CodeCounts::add_codes`] (one AVX2 register of bytes).
const LANES: usize = 32;
/// [`CodeCounts::add_codes`] compares every code with each code below this one; above it,
/// it counts code by code.
const COMPARED_CODES: u8 = 16;
/// Points classified together by [`GridView::classify_codes`], and codes counted by one call
/// of [`CodeCounts::add_codes`]: each byte lane counts at most `COUNT_BLOCK / LANES` ≤ 255 of
/// them; indices of a block's points fit in 16 bits.
const COUNT_BLOCK: usize = 4096;

impl CodeCounts {
    /// The points counted with `code`.
    pub fn get(&self, code: u8) -> u64 {
        if code < SETTLED_BELOW {
            self.tables[usize::from(code)].iter().sum()
        } else {
            0
        }
    }

    /// Counts one point of `code`.
    #[inline(always)]
    pub fn add(&mut self, code: u8) {
        self.tables[usize::from(code)][0] += 1;
    }

    /// Counts at most [`COUNT_BLOCK`] codes, each below `codes_below`. For few codes (any
    /// agreement of up to seven zones), each code is compared with all of them 32 at a time
    /// and the matches summed in byte lanes: a few vector instructions for 32 points instead
    /// of a load, an add and a store for each.
    #[inline(always)]
    fn add_codes(&mut self, codes: &[u8], codes_below: u8) {
        debug_assert!(codes.len() <= COUNT_BLOCK);
        if codes_below > COMPARED_CODES {
            for (i, &code) in codes.iter().enumerate() {
                self.tables[usize::from(code)][i % 4] += 1;
            }
            return;
        }
        let chunks = codes.chunks_exact(LANES);
        let rest = chunks.remainder();
        let mut lanes = [[0u8; LANES]; COMPARED_CODES as usize];
        for chunk in chunks {
            for (code, lanes) in (0..codes_below).zip(lanes.iter_mut()) {
                for (lane, &c) in lanes.iter_mut().zip(chunk) {
                    *lane = lane.wrapping_add(u8::from(c == code));
                }
            }
        }
        for (code, lanes) in (0..codes_below).zip(&lanes) {
            self.tables[usize::from(code)][1] += lanes.iter().map(|&n| u64::from(n)).sum::<u64>();
        }
        for &code in rest {
            self.add(code);
        }
    }

    /// Every code with a point, and how many, in increasing order of code.
    pub fn iter(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        (0..SETTLED_BELOW)
            .map(|code| (code, self.get(code)))
            .filter(|&(_, n)| n > 0)
    }
}

/// A point's place in the grid (see [`GridView::locate`]).
#[derive(Clone, Copy)]
struct Located {
    /// Grid coordinates, in cells from the grid's south-west corner.
    x: f64,
    y: f64,
    /// The cell's column and row, from 0 (the border ring is −1, wrapped, and the number
    /// of columns or rows), and its index in `cells`.
    col: usize,
    row: usize,
    cell: usize,
}

/// The fields of a [`BandedGrid`] that classifying a point reads, copied out of it: a loop
/// that holds a view keeps them in registers, where through a reference to the grid the
/// compiler must reload them after every store the loop makes (e.g. to a count).
#[derive(Clone, Copy, Debug)]
pub struct GridView<'a> {
    lon0_deg: f64,
    lat0_deg: f64,
    col0: i32,
    row0: i32,
    shift_lon: u32,
    shift_lat: u32,
    /// The border ring's last row (`rows + 1`); its last column is `stride - 1`.
    last_row: i32,
    inv_cell_lon: f64,
    inv_cell_lat: f64,
    x_max: f64,
    y_max: f64,
    /// Cells per row of `cells`, border included.
    stride: usize,
    /// Every settled code is below this one: 2 × (bands + 1).
    codes_below: u8,
    cells: &'a [u8],
    grid: &'a BandedGrid,
}

impl GridView<'_> {
    /// Side and band of `p`, exactly as the reference definitions give them: one byte load
    /// and no branch for the settled cells that most points fall in.
    #[inline(always)]
    pub fn classify(&self, p: LonLat) -> Classification {
        let code = self.cells[self.locate(p).cell];
        if code < SETTLED_BELOW {
            Classification {
                inside: code & INSIDE != 0,
                band: code >> 1,
            }
        } else {
            self.grid.classify_refined(p)
        }
    }

    /// Classifies `points` into `codes` (same length; extra entries of either are ignored), one
    /// byte a point:
    /// `band << 1 | inside` (see [`Classification::from_code`]), the same answers as
    /// [`GridView::classify`], for a grid of at most [`BandedGrid::MAX_BANDS`] bands (the
    /// agreement's parser holds it to that). Faster on many points: a block of them is located and looked up
    /// first, then the few in refined cells are settled together, so that their look-ups of
    /// sub-cells wait on memory at the same time rather than one after another.
    #[inline(always)]
    pub fn classify_codes<P: BulkPoint>(&self, points: &[P], codes: &mut [u8]) {
        let n = points.len().min(codes.len());
        let (points, codes) = (&points[..n], &mut codes[..n]);
        for (block, out) in points
            .chunks(COUNT_BLOCK)
            .zip(codes.chunks_mut(COUNT_BLOCK))
        {
            self.codes_of_block(block, out);
        }
    }

    /// Adds the code of every point of `points` to `counts`: the codes of
    /// [`GridView::classify_codes`], written out a few thousand at a time and counted together.
    #[inline(always)]
    pub fn count_codes<P: BulkPoint>(&self, points: &[P], counts: &mut CodeCounts) {
        let mut codes = [0u8; COUNT_BLOCK];
        for block in points.chunks(COUNT_BLOCK) {
            let codes = &mut codes[..block.len()];
            self.codes_of_block(block, codes);
            counts.add_codes(codes, self.codes_below);
        }
    }

    /// The codes of at most [`COUNT_BLOCK`] points, into `codes` (of the same length).
    ///
    /// In steps over all of them, each branch-free: every point's cell code; then, for the
    /// points of unsettled cells, their sub-cells' codes; then, for those in mixed sub-cells,
    /// their fine cells' codes; only the points of mixed fine cells (or of cells that are not
    /// refined) go to exact arithmetic. Each step's look-ups are independent of each other,
    /// so that their cache misses (the sub-cells and fine cells do not stay in cache beside
    /// the streamed points) overlap; a few thousand points give each step enough of them.
    #[inline(always)]
    fn codes_of_block<P: BulkPoint>(&self, points: &[P], codes: &mut [u8]) {
        debug_assert!(self.grid.thresholds_m.len() <= BandedGrid::MAX_BANDS);
        debug_assert!(points.len() <= COUNT_BLOCK && codes.len() == points.len());
        let grid = self.grid;
        // Indices of the points still to settle, gathered without a branch.
        let mut pending = [0u16; COUNT_BLOCK];
        let mut n_pending = 0;
        for (b, (block, out)) in points
            .chunks(CODE_BLOCK)
            .zip(codes.chunks_mut(CODE_BLOCK))
            .enumerate()
        {
            let mut cells = [0u32; CODE_BLOCK];
            for (cell, &p) in cells.iter_mut().zip(block) {
                *cell = self.cell_of(p);
            }
            for (i, (&cell, out)) in cells.iter().zip(out.iter_mut()).enumerate() {
                let code = self.cells[cell as usize];
                *out = code;
                pending[n_pending] = (b * CODE_BLOCK + i) as u16;
                n_pending += usize::from(code >= SETTLED_BELOW);
            }
        }
        let mut mixed = [0u16; COUNT_BLOCK];
        let n_mixed = self.settle_step(
            points,
            &pending[..n_pending],
            &grid.sub_codes,
            |k, at| Some(grid.sub_index(k, at)),
            codes,
            &mut mixed,
        );
        // The points left for exact arithmetic, in `pending`'s place.
        let exact = &mut pending;
        let n_exact = self.settle_step(
            points,
            &mixed[..n_mixed],
            &grid.fine_codes,
            |k, at| grid.fine_index_of(k, at),
            codes,
            exact,
        );
        // The single-point path for these (about 1 in 1,000): it locates the exact position
        // again and looks its (hot) sub-cell and fine cell up once more, the price of one
        // definition of the exact fallback.
        for &i in &exact[..n_exact] {
            let i = usize::from(i);
            codes[i] = grid.classify_refined(points[i].exact()).code();
        }
    }

    /// A step of [`GridView::codes_of_block`]: each point of `from` (indices into `points`,
    /// each in a refined cell or one that is not refined) gets the code that `table` holds at
    /// `index_of(refined cell, location)` (sub-cells or fine cells; `UNREFINED` when there is
    /// none), written to `codes`; the points whose code is still mixed are gathered into
    /// `left`, without a branch, and counted. Looked up a block at a time, so that the
    /// look-ups' cache misses overlap.
    #[inline(always)]
    fn settle_step<P: BulkPoint>(
        &self,
        points: &[P],
        from: &[u16],
        table: &[u8],
        index_of: impl Fn(usize, Located) -> Option<usize>,
        codes: &mut [u8],
        left: &mut [u16; COUNT_BLOCK],
    ) -> usize {
        let mut n_left = 0;
        for from in from.chunks(CODE_BLOCK) {
            let mut at = [u32::MAX; CODE_BLOCK];
            for (at, &i) in at.iter_mut().zip(from) {
                let located = self.locate_bulk(points[usize::from(i)]);
                if let Some(index) = self
                    .grid
                    .refined_index(located.cell)
                    .and_then(|k| index_of(k, located))
                {
                    *at = index as u32;
                }
            }
            for (&at, &i) in at.iter().zip(from) {
                let code = table.get(at as usize).copied().unwrap_or(UNREFINED);
                codes[usize::from(i)] = code;
                left[n_left] = i;
                n_left += usize::from(code >= SETTLED_BELOW);
            }
        }
        n_left
    }

    /// The index in `cells` of the cell of a point given in bulk: for a point in 10⁻⁷ degree
    /// the cell that holds it, exactly (shifts, no rounding), anything outside the grid on the
    /// border ring; otherwise as [`GridView::locate`] finds it.
    #[inline(always)]
    fn cell_of<P: BulkPoint>(&self, p: P) -> u32 {
        match p.e7() {
            Some(p) => {
                let (col, row) = self.ring_position_e7(p);
                row as u32 * self.stride as u32 + col as u32
            }
            None => self.locate(p.exact()).cell as u32,
        }
    }

    /// The column and row, from 0 for the border ring's first, of the cell of `p`.
    #[inline(always)]
    fn ring_position_e7(&self, p: LonLatE7) -> (i32, i32) {
        (
            ((p.lon_e7 >> self.shift_lon) - self.col0 + 1).clamp(0, self.stride as i32 - 1),
            ((p.lat_e7 >> self.shift_lat) - self.row0 + 1).clamp(0, self.last_row),
        )
    }

    /// [`GridView::locate`] for a point given in bulk: in 10⁻⁷ degree, the cell of
    /// [`GridView::cell_of`] and the grid coordinates exactly (whole numbers scaled by a power
    /// of two).
    #[inline(always)]
    fn locate_bulk<P: BulkPoint>(&self, p: P) -> Located {
        let Some(e7) = p.e7() else {
            return self.locate(p.exact());
        };
        let units = |v: i32, first: i32, shift: u32| {
            let side = f64::from(1u32 << shift);
            (f64::from(v) - f64::from(first) * side) / side
        };
        let (col, row) = self.ring_position_e7(e7);
        Located {
            x: units(e7.lon_e7, self.col0, self.shift_lon),
            y: units(e7.lat_e7, self.row0, self.shift_lat),
            col: (col as usize).wrapping_sub(1),
            row: (row as usize).wrapping_sub(1),
            cell: row as usize * self.stride + col as usize,
        }
    }

    /// Where `p` falls, without a branch: grid coordinates clamped to [−½, cols + ½] ×
    /// [−½, rows + ½] (`max` and `min` with a number take the number when the coordinate is
    /// NaN), so that everything outside the grid lands on the border ring.
    #[inline(always)]
    fn locate(&self, p: LonLat) -> Located {
        let x = (p.lon_deg - self.lon0_deg) * self.inv_cell_lon;
        let y = (p.lat_deg - self.lat0_deg) * self.inv_cell_lat;
        let col = cell_coordinate(x.max(-0.5).min(self.x_max)) as usize;
        let row = cell_coordinate(y.max(-0.5).min(self.y_max)) as usize;
        Located {
            x,
            y,
            col: col.wrapping_sub(1),
            row: row.wrapping_sub(1),
            cell: row * self.stride + col,
        }
    }
}

/// Adding this to a double of magnitude below 2^51 leaves that double rounded to an integer
/// (to nearest, ties to even) in the low bits of its representation: 1.5 × 2^52.
const ROUNDING_MAGIC: f64 = 6_755_399_441_055_744.0;

/// For a clamped grid coordinate −½ ≤ v ≤ n + ½, the column (or row) of a cell, counted
/// from the border's −1 as 0, whose closed extent [k, k + 1] holds v: ⌊v⌋ + 1, or v when v
/// is a whole number (v + ½ is then a tie, rounded to even). Both cells hold v, and every
/// proof is about closed cells with a margin for rounding, so either is right. The sum
/// v + ½ is itself rounded, which may put v outside its cell by that rounding (at most
/// 2⁻⁵² (|v| + 1)): far below the proofs' margins, and the grid's extent has a margin so
/// that no point of it is that near the border ring. Cheaper than `v as u32`, which must
/// saturate and handle NaN.
#[inline(always)]
fn cell_coordinate(v: f64) -> u32 {
    ((v + 0.5) + ROUNDING_MAGIC).to_bits() as u32
}

/// Whether a point is in the area, from its positions relative to rings given polygon by
/// polygon (a polygon's rings together, any order): inside or on the boundary of an exterior
/// ring and inside none of that polygon's holes (on a hole's boundary is covered), or on an
/// exterior's boundary. Rings that are not listed are rings the point is outside of.
fn covered(rings: impl Iterator<Item = (u32, u32, RingPosition)>) -> bool {
    let covers = |exterior: RingPosition, in_hole: bool| match exterior {
        RingPosition::OnBoundary => true,
        RingPosition::Inside => !in_hole,
        RingPosition::Outside => false,
    };
    let mut polygon = None;
    let (mut exterior, mut in_hole) = (RingPosition::Outside, false);
    for (p, ring, position) in rings {
        if polygon != Some(p) {
            if covers(exterior, in_hole) {
                return true;
            }
            polygon = Some(p);
            (exterior, in_hole) = (RingPosition::Outside, false);
        }
        if ring == 0 {
            exterior = position;
        } else if position == RingPosition::Inside {
            in_hole = true;
        }
    }
    covers(exterior, in_hole)
}

/// The arcs that can be nearest to some point of a rectangle, with bounds on its distances.
struct NearArcs {
    /// The rectangle's angular radius around its centre (with slack).
    radius_rad: f64,
    /// (angle from the rectangle's centre, arc), unordered.
    arcs: Vec<(f64, u32)>,
    /// Every point of the rectangle is within [lo_m, hi_m] of the line.
    lo_m: f64,
    hi_m: f64,
}

impl NearArcs {
    fn ids(&self) -> Vec<u32> {
        self.arcs.iter().map(|&(_, i)| i).collect()
    }
}

/// A refined cell while building: its index, its arcs and its sub-cell codes.
struct Refined {
    cell: u32,
    arcs: ArcList,
    codes: [u8; SUB * SUB],
}

/// Blocks of this many cells a side keep a list of the arcs that can be nearest to any of
/// their points, for exact distances anywhere in the grid.
const LIST_BLOCK: usize = 4;
/// The blocks the build starts from.
const ROOT_BLOCK: usize = 64;

impl BandedGrid {
    /// The most bands whose codes [`GridView::classify_codes`] can hold (a band and a side in
    /// a byte, below the codes of mixed cells).
    pub const MAX_BANDS: usize = BAND_MIXED as usize - 1;

    /// Builds the grid for a line, an area and increasing band thresholds in metres (each band
    /// is (previous, threshold], the first from 0 inclusive).
    pub fn new(line: &ContactLine, area: &ControlArea, thresholds_m: &[f64]) -> BandedGrid {
        let max_threshold_m = thresholds_m.iter().copied().fold(0.0f64, f64::max);
        let (lon_min, lon_max, lat_min, lat_max) = extent(line, area, max_threshold_m);
        let mid_lat = ((lat_min + lat_max) / 2.0).to_radians();
        let aspect = mid_lat.cos().max(0.1);
        let area_deg2 = (lon_max - lon_min) * (lat_max - lat_min) * aspect;
        // Square cells on the ground of about TARGET_CELLS over the extent, their sides
        // rounded to powers of two in 10⁻⁷ degree, then halved (the side longer on the
        // ground first) until there are at least TARGET_CELLS.
        let target_lat_deg = (area_deg2 / TARGET_CELLS).sqrt().max(1e-4);
        let units_log2 = |deg: f64| (deg * 1e7).log2().round().clamp(0.0, 24.0) as u32;
        let (mut shift_lon, mut shift_lat) = (
            units_log2(target_lat_deg / aspect),
            units_log2(target_lat_deg),
        );
        let first = |deg: f64, shift: u32| ((deg * 1e7).floor() as i64) >> shift;
        let count = |lo: f64, hi: f64, shift: u32| {
            (((hi * 1e7).ceil() as i64 >> shift) - first(lo, shift) + 1) as usize
        };
        while count(lon_min, lon_max, shift_lon) * count(lat_min, lat_max, shift_lat)
            < TARGET_CELLS as usize
            && shift_lon + shift_lat > 0
        {
            let lon_side = f64::from(1u32 << shift_lon) * aspect;
            if shift_lat == 0 || (shift_lon > 0 && lon_side >= f64::from(1u32 << shift_lat)) {
                shift_lon -= 1;
            } else {
                shift_lat -= 1;
            }
        }
        let (col0, row0) = (first(lon_min, shift_lon), first(lat_min, shift_lat));
        let (cols, rows) = (
            count(lon_min, lon_max, shift_lon),
            count(lat_min, lat_max, shift_lat),
        );
        let cell_lon_deg = f64::from(1u32 << shift_lon) / 1e7;
        let cell_lat_deg = f64::from(1u32 << shift_lat) / 1e7;
        let beyond = thresholds_m.len() as u8;
        let outside_code = if beyond < BAND_MIXED {
            code(OUTSIDE, beyond)
        } else {
            code(OUTSIDE, BAND_MIXED)
        };

        let mut grid = BandedGrid {
            lon0_deg: ((col0 << shift_lon) as f64) / 1e7,
            lat0_deg: ((row0 << shift_lat) as f64) / 1e7,
            col0: col0 as i32,
            row0: row0 as i32,
            shift_lon,
            shift_lat,
            cols,
            rows,
            x_max: cols as f64 + 0.5,
            y_max: rows as f64 + 0.5,
            cell_lon_deg,
            cell_lat_deg,
            inv_cell_lon: 1e7 / f64::from(1u32 << shift_lon),
            inv_cell_lat: 1e7 / f64::from(1u32 << shift_lat),
            cells: vec![outside_code; (cols + 2) * (rows + 2)],
            refined_rank: Vec::new(),
            sub_codes: Vec::new(),
            fine_index: Vec::new(),
            fine_codes: Vec::new(),
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
            side_lists: Vec::new(),
            side_data: Vec::new(),
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
        let mut refined = Vec::new();
        for row0 in (0..rows).step_by(ROOT_BLOCK) {
            for col0 in (0..cols).step_by(ROOT_BLOCK) {
                let block = Block {
                    col0,
                    row0,
                    size: ROOT_BLOCK,
                };
                grid.settle(block, &all_arcs, &all_edges, false, &mut refined);
            }
        }
        // Cells were refined in tree order; lookups want them by index.
        refined.sort_unstable_by_key(|r| r.cell);
        // Mixed cells that are not refined (only where there are too many bands for a code)
        // are settled exactly, point by point; their code must not read as a refined one.
        for code in grid.cells.iter_mut().filter(|c| **c >= SETTLED_BELOW) {
            *code = UNREFINED;
        }
        grid.refined_rank = vec![0; grid.cells.len().div_ceil(64)];
        for (k, r) in refined.iter().enumerate() {
            let word = r.cell as usize / 64;
            if k == 0 || refined[k - 1].cell as usize / 64 != word {
                grid.refined_rank[word] = k as u32;
            }
            let rank_in_word = k - grid.refined_rank[word] as usize;
            grid.cells[r.cell as usize] = REFINED + rank_in_word as u8;
        }
        grid.sub_codes = refined.iter().flat_map(|r| r.codes).collect();
        grid.arc_lists = refined.iter().map(|r| r.arcs).collect();
        grid.build_side_lists(&refined);
        grid.build_fine_cells(&refined);
        grid
    }

    /// How many cells and sub-cells there are, and how many need exact arithmetic.
    pub fn cell_stats(&self) -> CellStats {
        CellStats {
            cells: self.cols * self.rows,
            refined_cells: self.arc_lists.len(),
            sub_cells: self.sub_codes.len(),
            sub_cells_mixed: self.fine_codes.len() / (FINE * FINE),
            fine_cells: self.fine_codes.len(),
            fine_cells_needing_distance: self
                .fine_codes
                .iter()
                .filter(|&&c| band_of_code(c) == BAND_MIXED)
                .count(),
            fine_cells_needing_side_test: self
                .fine_codes
                .iter()
                .filter(|&&c| c & SIDE_MIXED != 0)
                .count(),
        }
    }

    /// The grid's extent, [lon_min, lat_min, lon_max, lat_max] in degrees (for tests).
    pub fn extent_deg(&self) -> [f64; 4] {
        let r = self.rect(0.0, 0.0, self.cols as f64, self.rows as f64);
        [r.lon_a, r.lat_a, r.lon_b, r.lat_b]
    }

    /// The extent of every refined cell, [lon_min, lat_min, lon_max, lat_max] in degrees, in
    /// cell order (for tests: its [`BandedGrid::SUB_CELLS`]² sub-cells divide it evenly).
    pub fn refined_cells_deg(&self) -> Vec<[f64; 4]> {
        let stride = self.cols + 2;
        (0..self.cells.len())
            .filter(|&cell| self.refined_index(cell).is_some())
            .map(|cell| {
                let (col, row) = (cell % stride - 1, cell / stride - 1);
                let r = self.rect(col as f64, row as f64, 1.0, 1.0);
                [r.lon_a, r.lat_a, r.lon_b, r.lat_b]
            })
            .collect()
    }

    /// Sub-cells per side of a refined cell.
    pub const SUB_CELLS: usize = SUB;

    /// Fine cells per side of a sub-cell divided into them.
    pub const FINE_CELLS: usize = FINE;

    /// The extent of every sub-cell divided into fine cells, [lon_min, lat_min, lon_max,
    /// lat_max] in degrees (for tests: its [`BandedGrid::FINE_CELLS`]² fine cells divide it evenly).
    pub fn divided_sub_cells_deg(&self) -> Vec<[f64; 4]> {
        let stride = self.cols + 2;
        let unit = 1.0 / SUB as f64;
        (0..self.cells.len())
            .filter_map(|cell| Some((cell, self.refined_index(cell)?)))
            .flat_map(|(cell, k)| {
                let (col, row) = ((cell % stride - 1) as f64, (cell / stride - 1) as f64);
                let divided = self.fine_index[k].0;
                (0..SUB * SUB)
                    .filter(move |s| divided >> s & 1 == 1)
                    .map(move |s| {
                        let (x, y) = ((s % SUB) as f64 * unit, (s / SUB) as f64 * unit);
                        let r = self.rect(col + x, row + y, unit, unit);
                        [r.lon_a, r.lat_a, r.lon_b, r.lat_b]
                    })
            })
            .collect()
    }

    /// Heap bytes held by the grid (cells, sub-cells, candidate lists, row edges, the line).
    pub fn heap_bytes(&self) -> usize {
        self.cells.len()
            + self.refined_rank.len() * 4
            + self.sub_codes.len()
            + self.fine_index.len() * std::mem::size_of::<(u64, u32)>()
            + self.fine_codes.len()
            + self.arc_lists.len() * std::mem::size_of::<ArcList>()
            + self.block_lists.len() * std::mem::size_of::<Span>()
            + self.arc_arena.len() * 4
            + self.arc_center_rad.len() * 4
            + self.line.heap_bytes()
            + self.row_runs.len() * 8
            + self.ring_runs.len() * std::mem::size_of::<RingRun>()
            + self.row_edges.len() * 32
            + self.side_lists.len() * 8
            + self.side_data.len() * 8
            + self.arc_tree.heap_bytes()
    }

    /// The hot fields of the grid, copied (see [`GridView`]).
    #[inline(always)]
    pub fn view(&self) -> GridView<'_> {
        GridView {
            lon0_deg: self.lon0_deg,
            lat0_deg: self.lat0_deg,
            col0: self.col0,
            row0: self.row0,
            shift_lon: self.shift_lon,
            shift_lat: self.shift_lat,
            last_row: self.rows as i32 + 1,
            inv_cell_lon: self.inv_cell_lon,
            inv_cell_lat: self.inv_cell_lat,
            x_max: self.x_max,
            y_max: self.y_max,
            stride: self.cols + 2,
            codes_below: 2 * (self.thresholds_m.len().min(BandedGrid::MAX_BANDS) as u8 + 1),
            cells: &self.cells,
            grid: self,
        }
    }

    /// The index in `cells` of cell (col, row) of the grid (both from 0).
    fn cell_index(&self, col: usize, row: usize) -> usize {
        (row + 1) * (self.cols + 2) + col + 1
    }

    #[inline(always)]
    fn locate(&self, p: LonLat) -> Located {
        self.view().locate(p)
    }

    /// Whether a located point lies in the grid (not in the border ring).
    fn in_grid(&self, at: Located) -> bool {
        at.col < self.cols && at.row < self.rows
    }

    /// The index of a refined cell among the refined cells, if `cell` is one.
    #[inline]
    fn refined_index(&self, cell: usize) -> Option<usize> {
        let code = self.cells[cell];
        (REFINED..REFINED + 64)
            .contains(&code)
            .then(|| self.refined_rank[cell / 64] as usize + usize::from(code - REFINED))
    }

    /// The code of the sub-cell of refined cell `k` (the cell of `at`) that holds `at`.
    #[inline]
    fn sub_code(&self, k: usize, at: Located) -> u8 {
        self.sub_codes[self.sub_index(k, at)]
    }

    /// The index in `sub_codes` of the sub-cell of refined cell `k` (the cell of `at`) that
    /// holds `at`.
    #[inline]
    fn sub_index(&self, k: usize, at: Located) -> usize {
        let ((sx, sy), _) = fine_position(at);
        k * SUB * SUB + sy * SUB + sx
    }

    /// For `at`, a point of refined cell `k` (the cell of `at`): the code of its sub-cell, or
    /// of its fine cell when the sub-cell is mixed and divided, and whether it is the latter.
    fn finest_code(&self, k: usize, at: Located) -> (u8, bool) {
        match self.sub_code(k, at) {
            sub if sub >= SETTLED_BELOW => match self.fine_index_of(k, at) {
                Some(f) => (self.fine_codes[f], true),
                None => (sub, false),
            },
            sub => (sub, false),
        }
    }

    /// The index in `fine_codes` of the fine cell that holds `at`, a point of refined cell
    /// `k` (the cell of `at`), if its sub-cell is divided into fine cells.
    #[inline]
    fn fine_index_of(&self, k: usize, at: Located) -> Option<usize> {
        let ((sx, sy), (fx, fy)) = fine_position(at);
        let (divided, first) = self.fine_index[k];
        let bit = 1u64 << (sy * SUB + sx);
        if divided & bit == 0 {
            return None;
        }
        let block = first as usize + (divided & (bit - 1)).count_ones() as usize;
        Some(block * FINE * FINE + fy * FINE + fx)
    }

    /// Side and band of `p`, exactly as the reference definitions give them.
    #[inline(always)]
    pub fn classify(&self, p: LonLat) -> Classification {
        self.view().classify(p)
    }

    /// Classifies `points` into `out` (same length; extra entries of either are ignored):
    /// the same answers as [`BandedGrid::classify`].
    pub fn classify_slice(&self, points: &[LonLat], out: &mut [Classification]) {
        let view = self.view();
        for (p, o) in points.iter().zip(out.iter_mut()) {
            *o = view.classify(*p);
        }
    }

    /// The points of a refined cell (or of any cell when there are 63 bands or more).
    #[cold]
    #[inline(never)]
    fn classify_refined(&self, p: LonLat) -> Classification {
        let at = self.locate(p);
        let Some(k) = self.refined_index(at.cell) else {
            return Classification {
                inside: self.covers(p),
                band: self.band_of(self.distance_m(p)),
            };
        };
        let (sub, _) = self.finest_code(k, at);
        let inside = if sub & SIDE_MIXED != 0 {
            self.covers_in_cell(k, at.row, p)
        } else {
            sub & INSIDE != 0
        };
        let band = match band_of_code(sub) {
            BAND_MIXED => self.band_in_list(self.arc_lists[k], p),
            band => band,
        };
        Classification { inside, band }
    }

    /// How the grid answers for `p`: in a refined cell or not, and whether side and band need
    /// exact arithmetic there (for profiles).
    pub fn settling(&self, p: LonLat) -> Settling {
        let at = self.locate(p);
        if self.cells[at.cell] < SETTLED_BELOW {
            return Settling::default();
        }
        match self.refined_index(at.cell) {
            Some(k) => {
                let (sub, fine) = self.finest_code(k, at);
                Settling {
                    refined: true,
                    fine,
                    exact_side: sub & SIDE_MIXED != 0,
                    exact_band: band_of_code(sub) == BAND_MIXED,
                }
            }
            None => Settling {
                refined: false,
                fine: false,
                exact_side: false,
                exact_band: true,
            },
        }
    }

    /// Exact great-circle distance to the contact line, in metres, using the grid's
    /// candidate lists where it can.
    pub fn distance_m(&self, p: LonLat) -> f64 {
        let at = self.locate(p);
        if !self.in_grid(at) {
            return self.distance_by_tree_m(p);
        }
        // A refined cell whose band is not settled has its candidate arcs (the others, none).
        if let Some(k) = self.refined_index(at.cell)
            && self.arc_lists[k].span.start < self.arc_lists[k].span.end
        {
            return self.distance_over_m(self.arc_lists[k].span, p);
        }
        let block = (at.row / LIST_BLOCK) * self.cols.div_ceil(LIST_BLOCK) + at.col / LIST_BLOCK;
        match self.block_lists[block] {
            span if span.start < span.end => self.distance_over_m(span, p),
            _ => self.distance_by_tree_m(p),
        }
    }

    /// Exact side of `p` (inside or on the boundary).
    pub fn covers(&self, p: LonLat) -> bool {
        let at = self.locate(p);
        let code = self.cells[at.cell];
        if code & SIDE_MIXED == 0 {
            return code & INSIDE != 0;
        }
        match self.refined_index(at.cell) {
            Some(k) => {
                let sub = self.sub_code(k, at);
                if sub & SIDE_MIXED == 0 {
                    sub & INSIDE != 0
                } else {
                    self.covers_in_cell(k, at.row, p)
                }
            }
            None => self.covers_in_row(at.row, p),
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

    /// The band of a point of a refined cell whose sub-cell straddles a band edge: for each
    /// threshold the cell straddles, is some candidate arc within it? Trigonometry only when
    /// a test is too close to call.
    fn band_in_list(&self, list: ArcList, p: LonLat) -> u8 {
        let arcs = &self.arc_arena[list.span.start as usize..list.span.end as usize];
        if arcs.is_empty() {
            return self.band_of(self.distance_by_tree_m(p));
        }
        let v = UnitVector::from_lon_lat(p);
        for band in list.lowest_band..list.highest_band {
            let Some(limit) = &self.limits[usize::from(band)] else {
                return self.band_of(self.distance_over_m(list.span, p));
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
                return self.band_of(self.distance_over_m(list.span, p));
            }
        }
        list.highest_band
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
        covered(
            self.ring_runs[start as usize..end as usize]
                .iter()
                .map(|run| {
                    let edges = &self.row_edges[run.start as usize..run.end as usize];
                    (
                        run.polygon,
                        run.ring,
                        ring_position_of_edges(edges.iter().copied(), p),
                    )
                }),
        )
    }

    /// The exact point-in-area test for a point of refined cell `k` (of row `row`), by the
    /// cell's side list: the same answer as [`BandedGrid::covers_in_row`] (see [`SideRun`]),
    /// from a few edges and latitudes instead of every edge of the row.
    fn covers_in_cell(&self, k: usize, row: usize, p: LonLat) -> bool {
        let (start, end) = self.side_lists[k];
        if (start, end) == NO_SIDE_LIST {
            return self.covers_in_row(row, p);
        }
        covered(self.side_runs(start, end).map(|(run, edges, lats)| {
            let below = lats
                .iter()
                .filter(|&&lat| f64::from_bits(lat) <= p.lat_deg)
                .count();
            let east = run.east_parity ^ (below % 2 == 1);
            let position = match ring_position_of_edges(edges_of_bits(edges), p) {
                RingPosition::OnBoundary => RingPosition::OnBoundary,
                near => {
                    if (near == RingPosition::Inside) ^ east {
                        RingPosition::Inside
                    } else {
                        RingPosition::Outside
                    }
                }
            };
            (run.polygon, run.ring, position)
        }))
    }

    /// The [`SideRun`]s of `side_data[start..end]`, each with its near edges and eastern
    /// latitudes (as bits).
    fn side_runs(&self, start: u32, end: u32) -> impl Iterator<Item = (SideRun, &[u64], &[u64])> {
        let mut data = &self.side_data[start as usize..end as usize];
        std::iter::from_fn(move || {
            let (&header, rest) = data.split_first_chunk::<{ SideRun::HEADER }>()?;
            let run = SideRun::from_header(header);
            let (edges, rest) = rest.split_at(run.edges as usize * 4);
            let (lats, rest) = rest.split_at(run.lats as usize);
            data = rest;
            Some((run, edges, lats))
        })
    }

    /// The side lists of the refined cells (see [`SideRun`]), in cell order.
    fn build_side_lists(&mut self, refined: &[Refined]) {
        let stride = self.cols + 2;
        for r in refined {
            if !r.codes.iter().any(|&c| c & SIDE_MIXED != 0) {
                self.side_lists.push(NO_SIDE_LIST);
                continue;
            }
            let (col, row) = (r.cell as usize % stride - 1, r.cell as usize / stride - 1);
            let rect = self.rect(col as f64, row as f64, 1.0, 1.0);
            let start = self.side_data.len() as u32;
            let (run_start, run_end) = self.row_runs[row];
            for run in &self.ring_runs[run_start as usize..run_end as usize] {
                let (mut near_edges, mut lats) = (Vec::new(), Vec::new());
                let mut east_parity = false;
                for &e in &self.row_edges[run.start as usize..run.end as usize] {
                    let [x1, y1, x2, y2] = e;
                    if x1.max(x2) < rect.lon_a - SIDE_MARGIN_DEG {
                        continue;
                    }
                    if x1.min(x2) > rect.lon_b + SIDE_MARGIN_DEG {
                        for lat in [y1, y2] {
                            if lat < rect.lat_a - SIDE_MARGIN_DEG {
                                east_parity = !east_parity;
                            } else if lat <= rect.lat_b + SIDE_MARGIN_DEG {
                                lats.push(lat);
                            }
                        }
                    } else {
                        near_edges.push(e);
                    }
                }
                // A ring with nothing near and an even count to the east is one the cell's
                // points are outside of: it cannot change the answer.
                if !near_edges.is_empty() || !lats.is_empty() || east_parity {
                    let header = SideRun {
                        polygon: run.polygon,
                        ring: run.ring,
                        edges: near_edges.len() as u32,
                        lats: lats.len() as u32,
                        east_parity,
                    }
                    .header();
                    self.side_data.extend(header);
                    self.side_data
                        .extend(near_edges.iter().flatten().map(|v| v.to_bits()));
                    self.side_data.extend(lats.iter().map(|v| v.to_bits()));
                }
            }
            self.side_lists.push((start, self.side_data.len() as u32));
        }
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

    /// The rectangle of grid coordinates [x0, x0 + w] × [y0, y0 + h], in cells.
    fn rect(&self, x0: f64, y0: f64, w: f64, h: f64) -> Rect {
        Rect {
            lon_a: self.lon0_deg + x0 * self.cell_lon_deg,
            lon_b: self.lon0_deg + (x0 + w) * self.cell_lon_deg,
            lat_a: self.lat0_deg + y0 * self.cell_lat_deg,
            lat_b: self.lat0_deg + (y0 + h) * self.cell_lat_deg,
        }
    }

    /// The arcs among `arcs` that can be nearest to some point of `rect` (all of them are,
    /// if `arcs` holds every arc that can be nearest to a point of an enclosing rectangle),
    /// and the range of the rectangle's distances to the line.
    fn near_arcs(&self, rect: Rect, arcs: &[u32]) -> NearArcs {
        let center = LonLat::new(
            (rect.lon_a + rect.lon_b) / 2.0,
            (rect.lat_a + rect.lat_b) / 2.0,
        );
        let c = UnitVector::from_lon_lat(center);
        // The farthest point of a lon/lat rectangle from its centre is a corner.
        let radius_rad = [
            (rect.lon_a, rect.lat_a),
            (rect.lon_a, rect.lat_b),
            (rect.lon_b, rect.lat_a),
            (rect.lon_b, rect.lat_b),
        ]
        .iter()
        .map(|&(x, y)| central_angle_rad(c, UnitVector::from_lon_lat(LonLat::new(x, y))))
        .fold(0.0f64, f64::max)
            * (1.0 + 1e-9)
            + SLACK_RAD;
        let angles: Vec<(f64, u32)> = arcs
            .iter()
            .map(|&a| (self.line.arc_angle_rad(a as usize, c), a))
            .collect();
        let center_rad = angles.iter().map(|a| a.0).fold(f64::INFINITY, f64::min);
        // A point of the rectangle is within center_rad + radius of the nearest arc to the
        // centre, and more than that from any arc beyond center_rad + 2 radius of it.
        let keep_rad = center_rad + 2.0 * radius_rad + SLACK_RAD;
        NearArcs {
            radius_rad,
            arcs: angles.into_iter().filter(|a| a.0 <= keep_rad).collect(),
            lo_m: EARTH_RADIUS_M * (center_rad - radius_rad).max(0.0),
            hi_m: EARTH_RADIUS_M * (center_rad + radius_rad),
        }
    }

    /// Stores `near` in the arena, nearest to the centre first.
    fn store_list(&mut self, near: &NearArcs) -> Span {
        let mut pairs = near.arcs.clone();
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
        let start = self.arc_arena.len() as u32;
        self.arc_arena.extend(pairs.iter().map(|&(_, i)| i));
        self.arc_center_rad
            .extend(pairs.iter().map(|&(a, _)| f32_at_most(a)));
        Span {
            start,
            end: self.arc_arena.len() as u32,
            radius_rad: near.radius_rad,
        }
    }

    /// The edges among `edges` that may cross `rect`, and the rectangle's side: settled when
    /// none does (decided at its centre, `row` being the centre's row), else mixed.
    fn side_of_rect(&self, rect: Rect, row: usize, edges: &[[f64; 4]]) -> (u8, Vec<[f64; 4]>) {
        let near: Vec<[f64; 4]> = edges
            .iter()
            .copied()
            .filter(|e| {
                segment_meets_rect(
                    e,
                    rect.lon_a - EDGE_EPS_DEG,
                    rect.lat_a - EDGE_EPS_DEG,
                    rect.lon_b + EDGE_EPS_DEG,
                    rect.lat_b + EDGE_EPS_DEG,
                )
            })
            .collect();
        if !near.is_empty() {
            return (SIDE_MIXED, near);
        }
        let center = LonLat::new(
            (rect.lon_a + rect.lon_b) / 2.0,
            (rect.lat_a + rect.lat_b) / 2.0,
        );
        let side = if self.covers_in_row(row.min(self.rows - 1), center) {
            INSIDE
        } else {
            OUTSIDE
        };
        (side, near)
    }

    /// Decides a block of cells: settles it whole if bounds allow, else splits it. Blocks
    /// that an ancestor settled (`settled`) are still split down to [`LIST_BLOCK`] to give
    /// every list block its candidate arcs. Single cells that stay mixed are refined.
    fn settle(
        &mut self,
        block: Block,
        arcs: &[u32],
        edges: &[[f64; 4]],
        settled: bool,
        refined: &mut Vec<Refined>,
    ) {
        let cols = block.size.min(self.cols - block.col0);
        let rows = block.size.min(self.rows - block.row0);
        let rect = self.rect(
            block.col0 as f64,
            block.row0 as f64,
            cols as f64,
            rows as f64,
        );
        let near = self.near_arcs(rect, arcs);
        if block.size == LIST_BLOCK {
            let index = (block.row0 / LIST_BLOCK) * self.cols.div_ceil(LIST_BLOCK)
                + block.col0 / LIST_BLOCK;
            self.block_lists[index] = self.store_list(&near);
        }
        if settled {
            if block.size > LIST_BLOCK {
                self.split(block, &near.ids(), &[], true, refined);
            }
            return;
        }

        let band = self.settled_band(near.lo_m, near.hi_m);
        let center_row = block.row0 + rows / 2;
        let (side, near_edges) = self.side_of_rect(rect, center_row, edges);

        if (band.is_some() && side != SIDE_MIXED) || block.size == 1 {
            let cell_code = code(side, band.unwrap_or(BAND_MIXED));
            if cell_code >= SETTLED_BELOW {
                let arcs = match band {
                    Some(_) => ArcList {
                        span: Span::default(),
                        lowest_band: 0,
                        highest_band: 0,
                    },
                    None => ArcList {
                        span: self.store_list(&near),
                        lowest_band: self.band_of(near.lo_m - BAND_MARGIN_M),
                        highest_band: self.band_of(near.hi_m + BAND_MARGIN_M),
                    },
                };
                let mut codes = [cell_code; SUB * SUB];
                self.refine(
                    Leaves {
                        col: block.col0 as f64,
                        row: block.row0 as f64,
                        cell_row: block.row0,
                        unit: 1.0 / SUB as f64,
                    },
                    (0, 0, SUB),
                    &near.ids(),
                    &near_edges,
                    band,
                    side,
                    &mut codes,
                );
                refined.push(Refined {
                    cell: self.cell_index(block.col0, block.row0) as u32,
                    arcs,
                    codes,
                });
            }
            for row in block.row0..block.row0 + rows {
                let at = self.cell_index(block.col0, row);
                self.cells[at..at + cols].fill(cell_code);
            }
            if block.size > LIST_BLOCK {
                self.split(block, &near.ids(), &[], true, refined);
            }
            return;
        }
        self.split(block, &near.ids(), &near_edges, false, refined);
    }

    /// Settles the (up to four) children of a block that lie within the grid.
    fn split(
        &mut self,
        block: Block,
        arcs: &[u32],
        edges: &[[f64; 4]],
        settled: bool,
        refined: &mut Vec<Refined>,
    ) {
        let half = block.size / 2;
        for (dc, dr) in [(0, 0), (half, 0), (0, half), (half, half)] {
            let child = Block {
                col0: block.col0 + dc,
                row0: block.row0 + dr,
                size: half,
            };
            if child.col0 < self.cols && child.row0 < self.rows {
                self.settle(child, arcs, edges, settled, refined);
            }
        }
    }

    /// Settles the leaves (x, y)..+size of the square `leaves` divides into [`SUB`]² (the
    /// sub-cells of a cell, or the fine cells of a sub-cell) into `codes`, by the same proofs
    /// as cells: `band` and `side` are what the enclosing square settled already (`None`,
    /// [`SIDE_MIXED`] when it did not), `arcs` and `edges` the ones that may matter in it.
    #[allow(clippy::too_many_arguments)]
    fn refine(
        &self,
        leaves: Leaves,
        (x0, y0, size): (usize, usize, usize),
        arcs: &[u32],
        edges: &[[f64; 4]],
        band: Option<u8>,
        side: u8,
        codes: &mut [u8; SUB * SUB],
    ) {
        let half = size / 2;
        for (dx, dy) in [(0, 0), (half, 0), (0, half), (half, half)] {
            let (x, y) = (x0 + dx, y0 + dy);
            let rect = self.rect(
                leaves.col + x as f64 * leaves.unit,
                leaves.row + y as f64 * leaves.unit,
                half as f64 * leaves.unit,
                half as f64 * leaves.unit,
            );
            let (band, near_arcs) = match band {
                Some(b) => (Some(b), Vec::new()),
                None => {
                    let near = self.near_arcs(rect, arcs);
                    (self.settled_band(near.lo_m, near.hi_m), near.ids())
                }
            };
            let (side, near_edges) = if side == SIDE_MIXED {
                self.side_of_rect(rect, leaves.cell_row, edges)
            } else {
                (side, Vec::new())
            };
            if (band.is_some() && side != SIDE_MIXED) || half == 1 {
                let c = code(side, band.unwrap_or(BAND_MIXED));
                for r in y..y + half {
                    codes[r * SUB + x..r * SUB + x + half].fill(c);
                }
            } else {
                self.refine(
                    leaves,
                    (x, y, half),
                    &near_arcs,
                    &near_edges,
                    band,
                    side,
                    codes,
                );
            }
        }
    }

    /// Divides every mixed sub-cell of the refined cells into [`FINE`]² fine cells, settled
    /// by the same proofs from the cell's candidate arcs and the edges near it.
    fn build_fine_cells(&mut self, refined: &[Refined]) {
        const { assert!(FINE == SUB, "refine fills blocks of SUB² codes") };
        let stride = self.cols + 2;
        let mut fine_index = Vec::with_capacity(refined.len());
        let mut fine_codes = Vec::new();
        for (k, r) in refined.iter().enumerate() {
            let first = (fine_codes.len() / (FINE * FINE)) as u32;
            let mut divided = 0u64;
            if r.codes.iter().any(|&c| c >= SETTLED_BELOW) {
                let (col, row) = (r.cell as usize % stride - 1, r.cell as usize / stride - 1);
                let span = self.arc_lists[k].span;
                let arcs = &self.arc_arena[span.start as usize..span.end as usize];
                let edges = self.side_edges(k);
                for (s, &sub) in r
                    .codes
                    .iter()
                    .enumerate()
                    .filter(|&(_, &c)| c >= SETTLED_BELOW)
                {
                    divided |= 1 << s;
                    let band = match band_of_code(sub) {
                        BAND_MIXED => None,
                        band => Some(band),
                    };
                    let side = if sub & SIDE_MIXED != 0 {
                        SIDE_MIXED
                    } else {
                        sub & INSIDE
                    };
                    let mut codes = [sub; FINE * FINE];
                    let unit = 1.0 / SUB as f64;
                    self.refine(
                        Leaves {
                            col: col as f64 + (s % SUB) as f64 * unit,
                            row: row as f64 + (s / SUB) as f64 * unit,
                            cell_row: row,
                            unit: unit / FINE as f64,
                        },
                        (0, 0, FINE),
                        arcs,
                        &edges,
                        band,
                        side,
                        &mut codes,
                    );
                    fine_codes.extend(codes);
                }
            }
            fine_index.push((divided, first));
        }
        self.fine_index = fine_index;
        self.fine_codes = fine_codes;
    }

    /// The edges that refined cell `k`'s side list holds as near it (none without a list).
    fn side_edges(&self, k: usize) -> Vec<[f64; 4]> {
        match self.side_lists[k] {
            NO_SIDE_LIST => Vec::new(),
            (start, end) => self
                .side_runs(start, end)
                .flat_map(|(_, edges, _)| edges_of_bits(edges))
                .collect(),
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
    // A hair beyond on every side: the maxima fall inside the last cell, and a point of the
    // grid is never so near its edge that the rounding of [`cell_coordinate`] could put it
    // on the border ring.
    (
        lon_min - 1e-9,
        lon_max + 1e-9,
        lat_min - 1e-9,
        lat_max + 1e-9,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_side_run_header_reads_back_as_written() {
        for run in [
            SideRun {
                polygon: 0,
                ring: 0,
                edges: 0,
                lats: 0,
                east_parity: false,
            },
            SideRun {
                polygon: u32::MAX,
                ring: u32::MAX,
                edges: u32::MAX >> 1,
                lats: u32::MAX,
                east_parity: true,
            },
            SideRun {
                polygon: 7,
                ring: 2,
                edges: 3,
                lats: 75,
                east_parity: true,
            },
        ] {
            assert_eq!(SideRun::from_header(run.header()), run);
        }
    }

    /// The cell `cell_coordinate` picks holds the coordinate (closed), up to the rounding
    /// of v + ½, and is a cell of the grid or of its border.
    #[test]
    fn cell_coordinate_picks_a_cell_that_holds_the_point() {
        let n = 1000.0;
        let mut values = vec![-0.5, -0.25, -1e-300, -0.0, 0.0, 1e-300, 1e-17, 0.3, 0.5];
        values.extend([n, n + 0.5, 3e-9]);
        for k in [1.0f64, 2.0, 3.0, 511.0, 512.0, 999.0] {
            values.extend([k, k.next_down(), k.next_up(), k + 0.5, k - 0.5]);
            values.extend([
                k + 1e-12,
                k - 1e-12,
                k + 0.5f64.next_up(),
                k + 0.5f64.next_down(),
            ]);
        }
        for v in values {
            let col = f64::from(cell_coordinate(v)) - 1.0;
            let rounding = (v.abs() + 1.0) * f64::EPSILON;
            assert!(
                col - rounding <= v && v <= col + 1.0 + rounding,
                "{v} in cell {col}"
            );
            assert!((-1.0..=n).contains(&col), "{v} put in cell {col}");
            // Exactly, away from the cells' edges.
            if (v - v.round()).abs() > 1e-9 {
                assert!(col <= v && v <= col + 1.0, "{v} put in cell {col}");
            }
        }
    }
}
