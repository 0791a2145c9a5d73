//! Bare points for bulk assessment: CSV with a `lon,lat,time` header (time RFC 3339), or any
//! observation file (FIRMS CSV, NDJSON) reduced to its located observations.

use chrono::{DateTime, NaiveDate, Utc};
use truce_geo::LonLat;

pub use truce_core::points::{DayRun, Points, Positions};

use crate::{Diagnostic, ObservationFormat, detect_format, parse_observations};

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
    use truce_geo::LonLatE7;

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
