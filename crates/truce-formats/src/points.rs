//! Bare points for bulk assessment: CSV with a `lon,lat,time` header (time RFC 3339), or any
//! observation file (FIRMS CSV, NDJSON) reduced to its located observations.

use chrono::{DateTime, NaiveDate, Utc};
use truce_geo::{LonLat, LonLatE7};

use crate::{Diagnostic, ObservationFormat, detect_format, parse_observations};

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

/// Reads points from a file of any supported kind: a `lon,lat,time` CSV, FIRMS CSV or NDJSON.
/// All problems are returned; the points are only returned when there is none.
pub fn parse_points(file: &str, bytes: &[u8]) -> Result<Points, Vec<Diagnostic>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let header: Vec<&[u8]> = body[..header_end]
        .strip_suffix(b"\r")
        .unwrap_or(&body[..header_end])
        .split(|&b| b == b',')
        .collect();
    if header == [b"lon".as_slice(), b"lat", b"time"] {
        return parse_lon_lat_time(file, body, header_end);
    }
    if detect_format(bytes).is_none() {
        return Err(vec![Diagnostic::line(
            file,
            1,
            "expected a `lon,lat,time` header, a FIRMS CSV header, or NDJSON",
        )]);
    }
    debug_assert!(matches!(
        detect_format(bytes),
        Some(ObservationFormat::FirmsCsv | ObservationFormat::Ndjson)
    ));
    let batch = parse_observations(file, bytes);
    if !batch.diagnostics.is_empty() {
        return Err(batch.diagnostics);
    }
    let (mut positions, mut times, mut unlocated) = (Vec::new(), Vec::new(), Vec::new());
    for p in &batch.observations {
        let t = p.observation.observed_at.timestamp();
        match p.observation.position() {
            Some(pos) => {
                positions.push(pos);
                times.push(t);
            }
            None => unlocated.push(t),
        }
    }
    Ok(Points::new(positions, times, unlocated))
}

fn parse_lon_lat_time(
    file: &str,
    body: &[u8],
    header_end: usize,
) -> Result<Points, Vec<Diagnostic>> {
    let rows = &body[(header_end + 1).min(body.len())..];
    let estimate = rows.len() / 40;
    let mut positions = Vec::with_capacity(estimate);
    let mut times = Vec::with_capacity(estimate);
    let mut diagnostics = Vec::new();
    for (i, line) in rows.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 2;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        match parse_row(line) {
            Ok((pos, t)) => {
                positions.push(pos);
                times.push(t);
            }
            Err((field, reason)) => {
                diagnostics.push(Diagnostic::field(file, line_no, field, reason));
                if diagnostics.len() >= 100 {
                    break;
                }
            }
        }
    }
    if diagnostics.is_empty() {
        Ok(Points::new(positions, times, Vec::new()))
    } else {
        Err(diagnostics)
    }
}

fn parse_row(line: &[u8]) -> Result<(LonLat, i64), (&'static str, String)> {
    let mut fields = line.splitn(3, |&b| b == b',');
    let mut next = |name: &'static str| fields.next().ok_or((name, "missing".to_owned()));
    let lon = number(next("lon")?).ok_or(("lon", "not a number".to_owned()))?;
    let lat = number(next("lat")?).ok_or(("lat", "not a number".to_owned()))?;
    let time = next("time")?;
    if !(-180.0..=180.0).contains(&lon) {
        return Err(("lon", format!("{lon} is outside [-180, 180]")));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(("lat", format!("{lat} is outside [-90, 90]")));
    }
    let t = timestamp_s(time).ok_or_else(|| {
        (
            "time",
            format!(
                "`{}` is not an RFC 3339 timestamp with offset",
                String::from_utf8_lossy(time)
            ),
        )
    })?;
    Ok((LonLat::new(lon, lat), t))
}

fn number(bytes: &[u8]) -> Option<f64> {
    std::str::from_utf8(bytes)
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// Unix seconds of an RFC 3339 timestamp; `YYYY-MM-DDTHH:MM:SSZ` without chrono's general parser.
pub fn timestamp_s(bytes: &[u8]) -> Option<i64> {
    if bytes.len() == 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes[19] == b'Z'
    {
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            bytes[r].iter().try_fold(0u32, |acc, &b| {
                b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
            })
        };
        let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
        let (h, m, s) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        if h > 23 || m > 59 || s > 59 {
            return None;
        }
        let days = i64::from(
            date.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
                .num_days() as i32,
        );
        return Some(days * 86_400 + i64::from(h * 3600 + m * 60 + s));
    }
    let text = std::str::from_utf8(bytes).ok()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_timestamps_match_chrono() {
        for text in [
            "2025-09-01T00:52:00Z",
            "1970-01-01T00:00:00Z",
            "2028-02-29T23:59:59Z",
        ] {
            let expected = DateTime::parse_from_rfc3339(text)
                .map(|t| t.timestamp())
                .ok();
            assert_eq!(timestamp_s(text.as_bytes()), expected, "{text}");
        }
        assert_eq!(
            timestamp_s(b"2025-09-01T03:00:00+03:00"),
            Some(1_756_684_800)
        );
        assert_eq!(timestamp_s(b"2025-09-01T00:00:00"), None, "no offset");
        assert_eq!(timestamp_s(b"2025-13-01T00:00:00Z"), None);
    }

    #[test]
    fn lon_lat_time_rows_and_errors() {
        let ok = parse_points(
            "p.csv",
            b"lon,lat,time\n30.5,48.25,2025-09-01T00:52:00Z\r\n31,49,2025-09-02T00:00:00Z\n",
        )
        .expect("valid");
        assert_eq!(
            ok.positions,
            Positions::E7(vec![
                LonLatE7 {
                    lon_e7: 305_000_000,
                    lat_e7: 482_500_000
                },
                LonLatE7 {
                    lon_e7: 310_000_000,
                    lat_e7: 490_000_000
                }
            ])
        );
        assert_eq!(ok.observed_at_s, vec![1_756_687_920, 1_756_771_200]);
        assert_eq!(
            ok.days,
            vec![
                DayRun {
                    day: 20_332,
                    start: 0,
                    end: 1
                },
                DayRun {
                    day: 20_333,
                    start: 1,
                    end: 2
                }
            ]
        );
        let bad = parse_points("p.csv", b"lon,lat,time\n30.5,91,2025-09-01T00:52:00Z\n")
            .expect_err("lat 91");
        assert_eq!(
            bad[0].to_string(),
            "p.csv:2: field `lat`: 91 is outside [-90, 90]"
        );
    }
}

#[cfg(test)]
mod grouping {
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

    #[test]
    fn no_points() {
        let p = Points::new(Vec::new(), Vec::new(), vec![5]);
        assert!(p.positions.is_empty() && p.days.is_empty());
        assert_eq!(p.len(), 1);
    }
}
