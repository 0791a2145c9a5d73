//! Points assessed in bulk, and their counts per day, zone and side.
//!
//! The columns `truce assess` reads a file into (see `truce_formats::points`), laid out for
//! counting: grouped by UTC day, positions as whole multiples of 10⁻⁷ degree when that is
//! exact. Counting is pure and parallel (rayon); the result does not depend on the number of
//! threads.

use rayon::prelude::*;
use truce_geo::{BulkPoint, Classification, CodeCounts, GridView, LonLat, LonLatE7};

use crate::agreement::{Agreement, PartySide};
use crate::assess::{Assessor, ZoneRef};

/// Points as columns, grouped by the UTC day of their time: `positions` item `i` was observed
/// at `observed_at_s[i]` (Unix seconds, UTC); `days` lists the runs of one day each, in
/// increasing order of day; within a day, points keep the order of the file.
///
/// Grouped so that counting per day needs no time at all for the days wholly in an
/// agreement's force, and held as whole multiples of 10⁻⁷ degree when that is exact for
/// every point (half the bytes to stream when they are assessed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Points {
    pub positions: Positions,
    pub observed_at_s: Vec<i64>,
    pub days: Vec<DayRun>,
    /// Observations without a location (bearing-only), by time: counted, but in no zone.
    pub unlocated_at_s: Vec<i64>,
}

/// The positions of [`Points`]: exact multiples of 10⁻⁷ degree when every coordinate is one
/// (any file whose coordinates have at most seven decimals), otherwise the doubles as read.
#[derive(Clone, Debug, PartialEq)]
pub enum Positions {
    E7(Vec<LonLatE7>),
    Degrees(Vec<LonLat>),
}

impl Default for Positions {
    fn default() -> Positions {
        Positions::E7(Vec::new())
    }
}

impl Positions {
    pub fn len(&self) -> usize {
        match self {
            Positions::E7(v) => v.len(),
            Positions::Degrees(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Position `i` in degrees, exactly as read.
    pub fn get(&self, i: usize) -> Option<LonLat> {
        match self {
            Positions::E7(v) => v.get(i).map(|p| p.lon_lat()),
            Positions::Degrees(v) => v.get(i).copied(),
        }
    }
}

/// The points `start..end` of [`Points`], all of UTC day `day` (days since 1970-01-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRun {
    pub day: i64,
    pub start: usize,
    pub end: usize,
}

impl Points {
    /// Groups located points, given in file order, by UTC day (file order kept within a
    /// day), and stores their positions as 10⁻⁷ degrees when that is exact for all.
    pub fn new(
        positions: Vec<LonLat>,
        observed_at_s: Vec<i64>,
        unlocated_at_s: Vec<i64>,
    ) -> Points {
        debug_assert_eq!(positions.len(), observed_at_s.len());
        let day_of = |t: i64| t.div_euclid(86_400);
        let (Some(first), Some(last)) = (
            observed_at_s.iter().map(|&t| day_of(t)).min(),
            observed_at_s.iter().map(|&t| day_of(t)).max(),
        ) else {
            return Points {
                unlocated_at_s,
                ..Points::default()
            };
        };
        // A stable counting sort by day when the span of days is modest (any real file),
        // otherwise a stable sort of the indices.
        let order: Vec<usize> = match usize::try_from(last - first) {
            Ok(span) if span < 1 << 20 => {
                let mut starts = vec![0usize; span + 2];
                for &t in &observed_at_s {
                    starts[(day_of(t) - first) as usize + 1] += 1;
                }
                for d in 1..starts.len() {
                    starts[d] += starts[d - 1];
                }
                let mut order = vec![0usize; observed_at_s.len()];
                for (i, &t) in observed_at_s.iter().enumerate() {
                    let slot = &mut starts[(day_of(t) - first) as usize];
                    order[*slot] = i;
                    *slot += 1;
                }
                order
            }
            _ => {
                let mut order: Vec<usize> = (0..observed_at_s.len()).collect();
                order.sort_by_key(|&i| day_of(observed_at_s[i]));
                order
            }
        };
        let times: Vec<i64> = order.iter().map(|&i| observed_at_s[i]).collect();
        let mut days: Vec<DayRun> = Vec::new();
        for (i, &t) in times.iter().enumerate() {
            match days.last_mut() {
                Some(run) if run.day == day_of(t) => run.end = i + 1,
                _ => days.push(DayRun {
                    day: day_of(t),
                    start: i,
                    end: i + 1,
                }),
            }
        }
        let e7: Option<Vec<LonLatE7>> = order
            .iter()
            .map(|&i| LonLatE7::from_lon_lat(positions[i]))
            .collect();
        let positions = match e7 {
            Some(e7) => Positions::E7(e7),
            None => Positions::Degrees(order.iter().map(|&i| positions[i]).collect()),
        };
        Points {
            positions,
            observed_at_s: times,
            days,
            unlocated_at_s,
        }
    }

    /// How many points were read, located or not.
    pub fn len(&self) -> usize {
        self.positions.len() + self.unlocated_at_s.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How points are classified when counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The assessor's grid.
    Grid,
    /// The exact reference definitions, point by point (thousands of times slower).
    Exact,
}

/// Counts of located points in force, per UTC day from the agreement's first day, per code
/// (`zone * 2 + side`, see [`Classification::code`]; zone = the number of zones for beyond
/// them all, side 1 for inside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayCounts {
    /// Days since 1970-01-01 of the first row: the day of `effective_at`.
    pub first_day: i64,
    /// Codes per day: 2 × (zones + 1).
    pub stride: usize,
    /// `counts[(day - first_day) * stride + code]`.
    pub counts: Vec<u64>,
}

/// Counts the located points of `points` in force under `agreement` (at or after
/// `effective_at`, before `expires_at`) by day, zone and side.
pub fn count_in_force(
    points: &Points,
    agreement: &Agreement,
    assessor: &Assessor,
    method: Method,
) -> DayCounts {
    let effective_s = agreement.effective_at.timestamp();
    let window = Window {
        effective_s,
        expires_s: agreement.expires_at.map_or(i64::MAX, |t| t.timestamp()),
        first_day: effective_s.div_euclid(86_400),
        slots: agreement.zones.len() + 1,
    };
    let counts = match &points.positions {
        Positions::E7(positions) => {
            count_by_method(positions, points, &window, agreement, assessor, method)
        }
        Positions::Degrees(positions) => {
            count_by_method(positions, points, &window, agreement, assessor, method)
        }
    };
    DayCounts {
        first_day: window.first_day,
        stride: 2 * window.slots,
        counts,
    }
}

/// Points per unit of parallel work.
const CHUNK: usize = 1 << 16;

/// Which points count, and how counts are laid out.
struct Window {
    effective_s: i64,
    expires_s: i64,
    first_day: i64,
    slots: usize,
}

/// [`count`] with the grid, or with the exact reference definitions point by point.
fn count_by_method<P: BulkPoint + Sync>(
    positions: &[P],
    points: &Points,
    w: &Window,
    agreement: &Agreement,
    assessor: &Assessor,
    method: Method,
) -> Vec<u64> {
    match method {
        Method::Exact => count(positions, points, w, &ByExactDefinitions(agreement)),
        Method::Grid => count(positions, points, w, &ByGrid(assessor.grid().view())),
    }
}

/// How a counting job classifies a block of points into their codes (see
/// [`Classification::code`]). A trait with an always-inlined method, rather than a closure,
/// so that the grid's loop is compiled into each instance of [`count_run`], including the one
/// for x86-64-v3.
trait ClassifyBlock<P>: Sync {
    fn classify(&self, block: &[P], codes: &mut [u8]);

    /// Adds the codes of `block` to `counts`.
    #[inline(always)]
    fn count(&self, block: &[P], counts: &mut CodeCounts) {
        let mut codes = [0u8; CODES];
        for block in block.chunks(CODES) {
            let codes = &mut codes[..block.len()];
            self.classify(block, codes);
            for &code in codes.iter() {
                counts.add(code);
            }
        }
    }
}

struct ByGrid<'a>(GridView<'a>);

impl<P: BulkPoint> ClassifyBlock<P> for ByGrid<'_> {
    #[inline(always)]
    fn classify(&self, block: &[P], codes: &mut [u8]) {
        self.0.classify_codes(block, codes);
    }

    #[inline(always)]
    fn count(&self, block: &[P], counts: &mut CodeCounts) {
        self.0.count_codes(block, counts);
    }
}

struct ByExactDefinitions<'a>(&'a Agreement);

impl<P: BulkPoint> ClassifyBlock<P> for ByExactDefinitions<'_> {
    fn classify(&self, block: &[P], codes: &mut [u8]) {
        let agreement = self.0;
        for (p, code) in block.iter().zip(codes.iter_mut()) {
            let a = agreement.assess_exact(p.exact());
            let band = match a.zone {
                ZoneRef::Band(i) => i as u8,
                ZoneRef::Outside => agreement.zones.len() as u8,
            };
            *code = Classification {
                inside: a.side == PartySide::Inside,
                band,
            }
            .code();
        }
    }
}

/// Codes a counting job classifies at a time.
const CODES: usize = 4096;

/// Counts points per (day, zone, side) in parallel: `counts[(day - first_day) * 2 * slots +
/// code]`, where a point's code is `zone * 2 + side` (see [`Classification::code`]). Work is
/// split into runs of one day; a day wholly in force is counted without looking at a time,
/// the first and last days of the agreement's force point by point. No allocation per point.
fn count<P: Sync>(
    positions: &[P],
    points: &Points,
    w: &Window,
    classify: &impl ClassifyBlock<P>,
) -> Vec<u64> {
    let stride = 2 * w.slots;
    let jobs: Vec<DayRun> = points
        .days
        .iter()
        .filter(|run| run.day >= w.first_day && run.day * 86_400 < w.expires_s)
        .flat_map(|run| {
            (run.start..run.end)
                .step_by(CHUNK)
                .map(move |start| DayRun {
                    day: run.day,
                    start,
                    end: (start + CHUNK).min(run.end),
                })
        })
        .collect();
    let per_job: Vec<(i64, [u64; CODE_SLOTS])> = jobs
        .par_iter()
        .map(|job| {
            let day_start_s = job.day * 86_400;
            let whole_day = w.effective_s <= day_start_s && day_start_s + 86_400 <= w.expires_s;
            let times = (!whole_day).then(|| &points.observed_at_s[job.start..job.end]);
            (
                job.day,
                count_run_dispatched(&positions[job.start..job.end], times, w, classify),
            )
        })
        .collect();
    let days = per_job
        .iter()
        .map(|&(day, _)| (day - w.first_day + 1) as usize)
        .max()
        .unwrap_or(0);
    let mut counts = vec![0u64; days * stride];
    for (day, job_counts) in per_job {
        let base = (day - w.first_day) as usize * stride;
        for (code, &n) in job_counts.iter().enumerate().filter(|&(_, &n)| n > 0) {
            // A code is zone * 2 + side, zone at most the number of zones: below `stride`.
            debug_assert!(code < stride, "code {code} of {stride}");
            counts[base + code] += n;
        }
    }
    counts
}

/// Every code a byte of [`Classification::code`] can hold below the grid's mixed codes.
const CODE_SLOTS: usize = 128;

/// [`count_run`], compiled for x86-64-v3 (AVX2, BMI1/2, LZCNT, POPCNT, MOVBE; not FMA, which
/// would change the arithmetic) when the processor has it: the same IEEE arithmetic, hence
/// the same counts, about 14% faster (measured on the benchmark's points).
fn count_run_dispatched<P>(
    positions: &[P],
    times_s: Option<&[i64]>,
    w: &Window,
    classify: &impl ClassifyBlock<P>,
) -> [u64; CODE_SLOTS] {
    #[cfg(target_arch = "x86_64")]
    if x86_64_v3() {
        // SAFETY: `count_run_v3` only requires the features `x86_64_v3` has just found on
        // this processor.
        #[allow(unsafe_code)]
        return unsafe { count_run_v3(positions, times_s, w, classify) };
    }
    count_run(positions, times_s, w, classify)
}

/// Whether this processor runs x86-64-v3 code; the answer is cached by the standard library.
#[cfg(target_arch = "x86_64")]
fn x86_64_v3() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("lzcnt")
        && std::arch::is_x86_feature_detected!("popcnt")
        && std::arch::is_x86_feature_detected!("movbe")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt,movbe")]
fn count_run_v3<P>(
    positions: &[P],
    times_s: Option<&[i64]>,
    w: &Window,
    classify: &impl ClassifyBlock<P>,
) -> [u64; CODE_SLOTS] {
    count_run(positions, times_s, w, classify)
}

/// The counts per code of one run of one day's points; with `times_s`, only of the points in
/// force (whose codes are written out, then counted).
#[inline(always)]
fn count_run<P>(
    positions: &[P],
    times_s: Option<&[i64]>,
    w: &Window,
    classify: &impl ClassifyBlock<P>,
) -> [u64; CODE_SLOTS] {
    let mut counts = CodeCounts::default();
    match times_s {
        None => classify.count(positions, &mut counts),
        Some(times_s) => {
            let mut codes = [0u8; CODES];
            for (block, times_s) in positions.chunks(CODES).zip(times_s.chunks(CODES)) {
                let codes = &mut codes[..block.len()];
                classify.classify(block, codes);
                for (&code, &t) in codes.iter().zip(times_s) {
                    if w.effective_s <= t && t < w.expires_s {
                        counts.add(code);
                    }
                }
            }
        }
    }
    std::array::from_fn(|code| counts.get(code as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day_s(day: i64, s: i64) -> i64 {
        day * 86_400 + s
    }

    #[test]
    fn points_are_grouped_by_day_in_file_order_within_a_day() {
        let positions = vec![
            LonLat::new(30.0, 48.0),
            LonLat::new(31.0, 48.0),
            LonLat::new(32.0, 48.0),
            LonLat::new(33.0, 48.0),
            LonLat::new(34.0, 48.0),
        ];
        // Days 3, 1, 3, -2 (before 1970), 1.
        let times = vec![
            day_s(3, 5),
            day_s(1, 9),
            day_s(3, 1),
            day_s(-2, 7),
            day_s(1, 0),
        ];
        let p = Points::new(positions, times, vec![17]);
        let lons: Vec<f64> = (0..5)
            .map(|i| p.positions.get(i).expect("a point").lon_deg)
            .collect();
        assert_eq!(lons, vec![33.0, 31.0, 34.0, 30.0, 32.0]);
        assert_eq!(
            p.observed_at_s,
            vec![
                day_s(-2, 7),
                day_s(1, 9),
                day_s(1, 0),
                day_s(3, 5),
                day_s(3, 1)
            ]
        );
        let runs: Vec<(i64, usize, usize)> =
            p.days.iter().map(|r| (r.day, r.start, r.end)).collect();
        assert_eq!(runs, vec![(-2, 0, 1), (1, 1, 3), (3, 3, 5)]);
        assert_eq!((p.len(), p.unlocated_at_s.clone()), (6, vec![17]));
        // Days far apart take the other sort, with the same result.
        let far = Points::new(
            vec![
                LonLat::new(1.0, 2.0),
                LonLat::new(3.0, 4.0),
                LonLat::new(5.0, 6.0),
            ],
            vec![day_s(5_000_000, 0), day_s(0, 0), day_s(5_000_000, 1)],
            Vec::new(),
        );
        let runs: Vec<(i64, usize, usize)> =
            far.days.iter().map(|r| (r.day, r.start, r.end)).collect();
        assert_eq!(runs, vec![(0, 0, 1), (5_000_000, 1, 3)]);
        assert_eq!(far.positions.get(1), Some(LonLat::new(1.0, 2.0)));
    }

    #[test]
    fn positions_stay_doubles_when_a_coordinate_has_more_than_seven_decimals() {
        let exact = LonLat::new(30.123_456_789_1, 48.0);
        let p = Points::new(
            vec![LonLat::new(30.5, 48.25), exact],
            vec![0, 1],
            Vec::new(),
        );
        assert!(matches!(p.positions, Positions::Degrees(_)));
        assert_eq!(p.positions.get(1), Some(exact));
        let e7 = Points::new(
            vec![LonLat::new(30.1234567, -48.0000001)],
            vec![0],
            Vec::new(),
        );
        assert!(matches!(e7.positions, Positions::E7(_)));
        assert_eq!(
            e7.positions.get(0),
            Some(LonLat::new(30.1234567, -48.0000001))
        );
    }

    /// A small agreement: a zigzag line, a square control area astride it, bands of 5 and
    /// 20 km, in force from the middle of a day.
    fn small_agreement() -> Agreement {
        use crate::agreement::{AgreementGeometry, FusionParams, Party, Zone};
        use chrono::{TimeZone, Utc};
        let line = truce_geo::ContactLine::new(vec![vec![
            LonLat::new(30.0, 48.0),
            LonLat::new(30.5, 48.4),
            LonLat::new(31.0, 48.1),
            LonLat::new(31.6, 48.6),
        ]])
        .expect("line");
        let square = |x0: f64, y0: f64, x1: f64, y1: f64| {
            vec![
                LonLat::new(x0, y0),
                LonLat::new(x1, y0),
                LonLat::new(x1, y1),
                LonLat::new(x0, y1),
                LonLat::new(x0, y0),
            ]
        };
        let control = truce_geo::ControlArea::new(vec![truce_geo::Polygon {
            exterior: square(30.2, 48.2, 31.3, 49.0),
            holes: vec![square(30.6, 48.5, 30.8, 48.7)],
        }])
        .expect("area");
        let zone = |id: &str, lower_m: f64, upper_m: f64| Zone {
            id: id.into(),
            lower_m,
            upper_m,
            prohibit: Vec::new(),
        };
        Agreement {
            id: "small".into(),
            title: "small".into(),
            effective_at: Utc
                .with_ymd_and_hms(2025, 9, 1, 12, 0, 0)
                .single()
                .expect("time"),
            expires_at: None,
            parties: vec![
                Party {
                    id: "A".into(),
                    name: "A".into(),
                    side: PartySide::Outside,
                },
                Party {
                    id: "B".into(),
                    name: "B".into(),
                    side: PartySide::Inside,
                },
            ],
            zones: vec![zone("near", 0.0, 5_000.0), zone("far", 5_000.0, 20_000.0)],
            fusion: FusionParams {
                link_distance_m: 1000.0,
                link_time_s: 3600,
            },
            geometry: AgreementGeometry {
                contact_line: line,
                control,
            },
            version: String::new(),
        }
    }

    #[test]
    fn counts_are_the_same_by_grid_and_by_exact_definitions_on_every_processor() {
        let agreement = small_agreement();
        let assessor = Assessor::new(&agreement);
        let effective_s = agreement.effective_at.timestamp();
        // A lattice of points with five decimals over the line and the area, over three days
        // from the day before the agreement's first.
        let (mut positions, mut times) = (Vec::new(), Vec::new());
        for i in 0..120 {
            for j in 0..90 {
                let lon = ((29.8 + f64::from(i) * 0.0173) * 1e5).round() / 1e5;
                let lat = ((47.9 + f64::from(j) * 0.0131) * 1e5).round() / 1e5;
                positions.push(LonLat::new(lon, lat));
                times.push(effective_s - 86_400 + i64::from(i * 90 + j) * 23);
            }
        }
        let points = Points::new(positions, times, Vec::new());
        let grid = count_in_force(&points, &agreement, &assessor, Method::Grid);
        let exact = count_in_force(&points, &agreement, &assessor, Method::Exact);
        assert_eq!(grid, exact);
        let in_force = points
            .observed_at_s
            .iter()
            .filter(|&&t| t >= effective_s)
            .count();
        assert_eq!(grid.counts.iter().sum::<u64>(), in_force as u64);
        assert!(
            grid.counts.iter().filter(|&&n| n > 0).count() >= 8,
            "{grid:?}"
        );
        // The portable loop and the one this processor runs (x86-64-v3 where it can) agree.
        let Positions::E7(e7) = &points.positions else {
            panic!("five decimals are whole multiples of 10⁻⁷ degree");
        };
        let w = Window {
            effective_s,
            expires_s: i64::MAX,
            first_day: effective_s.div_euclid(86_400),
            slots: 3,
        };
        let by = ByGrid(assessor.grid().view());
        for run in &points.days {
            let (positions, times) = (
                &e7[run.start..run.end],
                &points.observed_at_s[run.start..run.end],
            );
            for times in [None, Some(times)] {
                assert_eq!(
                    count_run(positions, times, &w, &by),
                    count_run_dispatched(positions, times, &w, &by)
                );
            }
        }
    }

    #[test]
    fn no_points() {
        let p = Points::new(Vec::new(), Vec::new(), vec![5]);
        assert!(p.positions.is_empty() && p.days.is_empty());
        assert_eq!(p.len(), 1);
    }
}
