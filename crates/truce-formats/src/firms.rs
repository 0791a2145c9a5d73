//! NASA FIRMS active-fire CSV (VIIRS 375 m and MODIS) → `thermal_anomaly` observations, as
//! `observation.md` ("NASA FIRMS CSV") maps them.
//!
//! Columns are found by header name, in any order. `latitude`, `longitude`, `acq_date`,
//! `acq_time`, `satellite` and `instrument` become the observation's source, source_ref, time
//! and location; every other column is kept in `attributes` under its own name. That includes
//! `scan` and `track`: `uncertainty_m` is derived from them but does not keep them apart.
//!
//! Attribute values: a cell whose text is a JSON number (`367`, `-1.5`, `2e3`; not `+1`,
//! `.5`, `007`, `inf`) is stored as that number (an integer when it has no fraction or
//! exponent and fits `i64`, else an `f64`), any other cell as a string (`nominal`, `2.0NRT`,
//! `N`, and integers too large for `i64`, which an `f64` would round). Numbers keep their
//! value but not their spelling (`0.50` is stored as `0.5`); the location's spelling is kept
//! in `source_ref`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use csv::ByteRecord;
use serde_json::{Map, Number, Value};
use truce_core::{Kind, Observation, ObservationKey};
use truce_geo::LonLat;

use crate::ndjson::{self, Check, Problem, check_source, quoted};
use crate::{Diagnostic, ParsedBatch, StoreRow, StoreRows};

/// Pixel size assumed when a file has no `scan`/`track` columns: the ~95% radius, in metres.
pub const VIIRS_DEFAULT_UNCERTAINTY_M: f64 = 375.0;
/// See [`VIIRS_DEFAULT_UNCERTAINTY_M`].
pub const MODIS_DEFAULT_UNCERTAINTY_M: f64 = 1000.0;

const REQUIRED_COLUMNS: [&str; 5] = ["latitude", "longitude", "acq_date", "acq_time", "satellite"];

/// Parses a FIRMS CSV file (header line first; a UTF-8 byte-order mark and CRLF line ends are
/// accepted; blank lines are skipped). Line numbers are 1-based lines of the file, the
/// header being line 1. A header problem (a required column missing, a duplicated or unnamed
/// column) is reported on the header line and no row is read; otherwise every row is read,
/// each bad row giving one diagnostic and the good rows their observations.
pub fn parse(file: &str, bytes: &[u8]) -> ParsedBatch {
    let (observations, diagnostics) = parse_rows(file, bytes, |columns, record, sources, line| {
        let observation = columns.observation(record, sources)?;
        let canonical = ndjson::wire_canonical_json(&observation)
            .map_err(|e| Problem::line(format!("cannot write canonical JSON: {e}")))?;
        Ok(ndjson::parsed_observation(observation, line, canonical))
    });
    ParsedBatch {
        observations,
        diagnostics,
    }
}

/// Parses a FIRMS CSV file as [`parse`] does, into what the store takes of each row: the
/// same keys, times, positions, canonical JSON and content hashes, and the same diagnostics,
/// but no [`Observation`] with its attributes map (the attributes are in the canonical JSON,
/// written straight from the cells). For the bulk ingest, where building and freeing the
/// map was a fifth of the parse.
pub fn parse_for_store(file: &str, bytes: &[u8]) -> StoreRows {
    let (rows, diagnostics) = parse_rows(file, bytes, |columns, record, sources, line| {
        let fields = columns.fields(record, sources)?;
        let canonical_json = columns.canonical_json(&fields, record)?;
        let content_sha256 = ndjson::content_sha256(&canonical_json);
        Ok(StoreRow {
            key: fields.key,
            kind: Kind::ThermalAnomaly,
            observed_at: fields.observed_at,
            position: Some(fields.position),
            line,
            canonical_json,
            content_sha256,
        })
    });
    StoreRows { rows, diagnostics }
}

/// The row loop of a FIRMS file: the header, then `build` for each row (with its 1-based
/// line), collecting what it builds and a diagnostic for each row it refuses.
fn parse_rows<T>(
    file: &str,
    bytes: &[u8],
    mut build: impl FnMut(&Columns, &Cells<'_>, &mut SourceCache, usize) -> Check<T>,
) -> (Vec<T>, Vec<Diagnostic>) {
    let mut built = Vec::new();
    let mut diagnostics = Vec::new();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = ByteRecord::new();

    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            diagnostics.push(Diagnostic::file(
                file,
                "empty file: expected a FIRMS header line (latitude,longitude,...,acq_date,acq_time,satellite,...)",
            ));
            return (built, diagnostics);
        }
        Err(e) => {
            diagnostics.push(Diagnostic::line(file, 1, format!("unreadable CSV: {e}")));
            return (built, diagnostics);
        }
    }
    let mut lines = LineCounter::new(bytes);
    let header_line = lines.line_of(&record);
    let columns = match Columns::from_header(&record) {
        Ok(columns) => columns,
        Err(problems) => {
            diagnostics.extend(problems.into_iter().map(|p| p.at(file, header_line)));
            return (built, diagnostics);
        }
    };

    // Room for every row up front: growing a vector of a million observations copies it
    // over and over. A row is at least ~20 bytes, which bounds the guess for odd input.
    let line_ends = bytes.iter().filter(|&&b| b == b'\n').count();
    built.reserve(line_ends.min(bytes.len() / 20));
    let mut sources = SourceCache::default();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Reading from memory with `flexible` on, only IO can fail: not expected.
                let line = lines.line_at(e.position().map_or(0, |p| to_usize(p.byte())));
                diagnostics.push(Diagnostic::line(file, line, format!("unreadable CSV: {e}")));
                break;
            }
        }
        let line = lines.line_of(&record);
        match build(&columns, &Cells::of(&record), &mut sources, line) {
            Ok(item) => built.push(item),
            Err(problem) => diagnostics.push(problem.at(file, line)),
        }
    }
    (built, diagnostics)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The 1-based line a record starts on. The CSV reader's own line count is off after CRLF
/// and skipped blank lines, so lines are counted here from the record's byte offset, in one
/// forward scan over the file. A line ends at `\n`, `\r\n` or a lone `\r`, as for the reader.
struct LineCounter<'b> {
    bytes: &'b [u8],
    scanned_to: usize,
    line: usize,
}

impl<'b> LineCounter<'b> {
    fn new(bytes: &'b [u8]) -> LineCounter<'b> {
        LineCounter {
            bytes,
            scanned_to: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, record: &ByteRecord) -> usize {
        self.line_at(record.position().map_or(0, |p| to_usize(p.byte())))
    }

    /// The line of the first byte at or after `offset` that is not a line end.
    fn line_at(&mut self, offset: usize) -> usize {
        // The offset may point at line ends before the record (a skipped blank line, the
        // `\n` of a `\r\n`): the record starts after them.
        let start = self.bytes[offset.min(self.bytes.len())..]
            .iter()
            .position(|b| !matches!(b, b'\r' | b'\n'))
            .map_or(self.bytes.len(), |skipped| offset + skipped);
        if start > self.scanned_to {
            let scanned = &self.bytes[self.scanned_to..start];
            let line_ends = scanned
                .iter()
                .enumerate()
                .filter(|&(i, &b)| {
                    b == b'\n'
                        || (b == b'\r' && self.bytes.get(self.scanned_to + i + 1) != Some(&b'\n'))
                })
                .count();
            self.line += line_ends;
            self.scanned_to = start;
        }
        self.line
    }
}

/// Where the columns the mapping needs are, found once from the header.
struct Columns {
    count: usize,
    latitude: usize,
    longitude: usize,
    acq_date: usize,
    acq_time: usize,
    satellite: usize,
    instrument: Option<usize>,
    /// `scan` and `track`, when the file has both.
    scan_track: Option<(usize, usize)>,
    /// The instrument a file without an `instrument` column is from, told by its columns.
    instrument_by_columns: Option<&'static str>,
    /// Every column that is not mapped to a field: (index, name), kept as attributes.
    attributes: Vec<(usize, String)>,
    /// The same in byte order of the names, each with its JSON key (`"name":`): the order
    /// of the canonical JSON.
    sorted_attributes: Vec<(usize, String, String)>,
}

impl Columns {
    fn from_header(header: &ByteRecord) -> Result<Columns, Vec<Problem>> {
        let mut names: Vec<String> = Vec::with_capacity(header.len());
        let mut problems = Vec::new();
        for (index, raw) in header.iter().enumerate() {
            let position = index + 1;
            let Ok(name) = std::str::from_utf8(raw) else {
                problems.push(Problem::line(format!(
                    "header: column {position} has a name that is not valid UTF-8"
                )));
                names.push(String::new());
                continue;
            };
            let name = name.trim();
            if name.is_empty() {
                problems.push(Problem::line(format!(
                    "header: column {position} has no name"
                )));
            } else if let Some(first) = names.iter().position(|n| n == name) {
                problems.push(Problem::field(
                    name.to_owned(),
                    format!(
                        "column appears twice in the header (columns {} and {position})",
                        first + 1
                    ),
                ));
            }
            names.push(name.to_owned());
        }
        let find = |name: &str| names.iter().position(|n| n == name);
        for required in REQUIRED_COLUMNS {
            if find(required).is_none() {
                problems.push(Problem::field(
                    required,
                    "required column is missing from the header",
                ));
            }
        }
        let instrument = find("instrument");
        let instrument_by_columns = if find("bright_ti4").is_some() {
            Some("viirs")
        } else if find("brightness").is_some() {
            Some("modis")
        } else {
            None
        };
        if instrument.is_none() && instrument_by_columns.is_none() {
            problems.push(Problem::field(
                "instrument",
                "cannot tell the instrument: the header has no `instrument` column, and neither `bright_ti4` (VIIRS) nor `brightness` (MODIS)",
            ));
        }
        let (
            false,
            Some(latitude),
            Some(longitude),
            Some(acq_date),
            Some(acq_time),
            Some(satellite),
        ) = (
            !problems.is_empty(),
            find("latitude"),
            find("longitude"),
            find("acq_date"),
            find("acq_time"),
            find("satellite"),
        )
        else {
            return Err(problems);
        };
        let scan_track = find("scan").zip(find("track"));
        let mapped = [
            Some(latitude),
            Some(longitude),
            Some(acq_date),
            Some(acq_time),
            Some(satellite),
            instrument,
        ];
        let attributes: Vec<(usize, String)> = names
            .iter()
            .enumerate()
            .filter(|(index, _)| !mapped.contains(&Some(*index)))
            .map(|(index, name)| (index, name.clone()))
            .collect();
        let mut sorted_attributes: Vec<(usize, String, String)> = attributes
            .iter()
            .map(|(index, name)| {
                let mut key = serde_json::to_string(name).unwrap_or_default();
                key.push(':');
                (*index, name.clone(), key)
            })
            .collect();
        sorted_attributes.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        Ok(Columns {
            count: names.len(),
            latitude,
            longitude,
            acq_date,
            acq_time,
            satellite,
            instrument,
            scan_track,
            instrument_by_columns,
            attributes,
            sorted_attributes,
        })
    }

    fn observation(&self, row: &Cells<'_>, sources: &mut SourceCache) -> Check<Observation> {
        let fields = self.fields(row, sources)?;
        let mut attributes = Map::new();
        for (index, name) in &self.attributes {
            let text = attribute_text(row, *index, name)?;
            attributes.insert(name.clone(), attribute_value(text));
        }
        Ok(Observation {
            attributes,
            ..Observation::located(
                fields.key,
                Kind::ThermalAnomaly,
                fields.observed_at,
                fields.position,
                fields.uncertainty_m,
            )
        })
    }

    /// The canonical JSON of the observation [`Columns::observation`] makes of this row,
    /// written from the cells: `ndjson::wire_canonical_json` of that observation, byte for
    /// byte (the tests compare them). Every piece is written by `serde_json`, as there.
    fn canonical_json(&self, fields: &Fields, row: &Cells<'_>) -> Check<String> {
        let write_error =
            |e: serde_json::Error| Problem::line(format!("cannot write canonical JSON: {e}"));
        let mut out: Vec<u8> = Vec::with_capacity(512);
        out.push(b'{');
        if !self.sorted_attributes.is_empty() {
            out.extend_from_slice(b"\"attributes\":{");
            for (k, (index, name, key)) in self.sorted_attributes.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key.as_bytes());
                match attribute_cell(attribute_text(row, *index, name)?) {
                    AttributeCell::Integer(n) => serde_json::to_writer(&mut out, &n),
                    AttributeCell::Float(n) => serde_json::to_writer(&mut out, &n),
                    AttributeCell::Text(text) => serde_json::to_writer(&mut out, text),
                }
                .map_err(write_error)?;
            }
            out.extend_from_slice(b"},");
        }
        out.extend_from_slice(b"\"kind\":");
        serde_json::to_writer(&mut out, Kind::ThermalAnomaly.as_str()).map_err(write_error)?;
        out.extend_from_slice(b",\"location\":{\"lat\":");
        serde_json::to_writer(&mut out, &fields.position.lat_deg).map_err(write_error)?;
        out.extend_from_slice(b",\"lon\":");
        serde_json::to_writer(&mut out, &fields.position.lon_deg).map_err(write_error)?;
        out.extend_from_slice(b",\"uncertainty_m\":");
        serde_json::to_writer(&mut out, &fields.uncertainty_m).map_err(write_error)?;
        out.extend_from_slice(b"},\"observed_at\":");
        serde_json::to_writer(&mut out, &ndjson::WireTime(fields.observed_at))
            .map_err(write_error)?;
        out.extend_from_slice(b",\"source\":");
        serde_json::to_writer(&mut out, &fields.key.source).map_err(write_error)?;
        out.extend_from_slice(b",\"source_ref\":");
        serde_json::to_writer(&mut out, &fields.key.source_ref).map_err(write_error)?;
        out.push(b'}');
        String::from_utf8(out)
            .map_err(|e| Problem::line(format!("cannot write canonical JSON: {e}")))
    }

    /// The mapped fields of a row, checked; the attributes are checked by whoever reads them.
    fn fields(&self, row: &Cells<'_>, sources: &mut SourceCache) -> Check<Fields> {
        if row.len() != self.count {
            return Err(Problem::line(format!(
                "expected {} fields as in the header, found {}",
                self.count,
                row.len()
            )));
        }
        let latitude_text = cell(row, self.latitude, "latitude")?;
        let latitude = coordinate(latitude_text, "latitude", 90.0)?;
        let longitude_text = cell(row, self.longitude, "longitude")?;
        let longitude = coordinate(longitude_text, "longitude", 180.0)?;
        let acq_date_text = cell(row, self.acq_date, "acq_date")?;
        let acq_date = acq_date(acq_date_text)?;
        let acq_time_text = cell(row, self.acq_time, "acq_time")?;
        let acq_time = acq_time(acq_time_text)?;

        let satellite = cell(row, self.satellite, "satellite")?;
        let instrument = match self.instrument {
            Some(index) => cell(row, index, "instrument")?,
            None => self.instrument_by_columns.unwrap_or_default(),
        };
        let source = sources.source(instrument, satellite)?;

        let uncertainty_m = match self.scan_track {
            Some((scan, track)) => {
                let scan_km = pixel_km(cell(row, scan, "scan")?, "scan")?;
                let track_km = pixel_km(cell(row, track, "track")?, "track")?;
                500.0 * (scan_km * scan_km + track_km * track_km).sqrt()
            }
            None if instrument.eq_ignore_ascii_case("viirs") => VIIRS_DEFAULT_UNCERTAINTY_M,
            None if instrument.eq_ignore_ascii_case("modis") => MODIS_DEFAULT_UNCERTAINTY_M,
            None => {
                return Err(Problem::field(
                    "instrument",
                    format!(
                        "the file has no `scan` and `track` columns and instrument {} has no default pixel size (VIIRS 375 m, MODIS 1000 m)",
                        quoted(instrument)
                    ),
                ));
            }
        };

        let source_ref = [
            acq_date_text,
            "T",
            acq_time_text,
            "@",
            latitude_text,
            ",",
            longitude_text,
        ]
        .concat();
        let source_ref_chars = source_ref.chars().count();
        if source_ref_chars > ndjson::MAX_SOURCE_REF_CHARS {
            return Err(Problem::line(format!(
                "source_ref (acq_date T acq_time @ latitude , longitude) is {source_ref_chars} characters, more than {}",
                ndjson::MAX_SOURCE_REF_CHARS
            )));
        }

        Ok(Fields {
            key: ObservationKey { source, source_ref },
            observed_at: NaiveDateTime::new(acq_date, acq_time).and_utc(),
            position: LonLat::new(longitude, latitude),
            uncertainty_m,
        })
    }
}

/// The fields of a row that are mapped to the observation's own fields.
struct Fields {
    key: ObservationKey,
    observed_at: DateTime<Utc>,
    position: LonLat,
    uncertainty_m: f64,
}

/// An attribute cell's text, which must be UTF-8.
fn attribute_text<'r>(row: &Cells<'r>, index: usize, name: &str) -> Check<&'r str> {
    row.text(index)
        .ok_or_else(|| Problem::field(name.to_owned(), "not valid UTF-8"))
}

/// The cells of a row, checked for UTF-8 once for the whole row rather than cell by cell.
struct Cells<'r> {
    record: &'r ByteRecord,
    /// The row's cells, one after the other, when they are all UTF-8.
    text: Option<&'r str>,
}

impl<'r> Cells<'r> {
    fn of(record: &'r ByteRecord) -> Cells<'r> {
        Cells {
            record,
            text: std::str::from_utf8(record.as_slice()).ok(),
        }
    }

    fn len(&self) -> usize {
        self.record.len()
    }

    /// A cell's text (empty past the last cell); `None` if it is not UTF-8.
    fn text(&self, index: usize) -> Option<&'r str> {
        let Some(range) = self.record.range(index) else {
            return Some("");
        };
        match self.text {
            Some(text) => text.get(range),
            // Some cell is not UTF-8: this one may still be. (A cell of a row that is UTF-8
            // as a whole is UTF-8 exactly when it starts and ends on character boundaries.)
            None => self
                .record
                .as_slice()
                .get(range)
                .and_then(|bytes| std::str::from_utf8(bytes).ok()),
        }
    }
}

/// `firms:<instrument>:<satellite>` in lower case, remembered for the next row: a file
/// usually has one instrument and one satellite.
#[derive(Default)]
struct SourceCache {
    instrument: String,
    satellite: String,
    source: String,
}

impl SourceCache {
    fn source(&mut self, instrument: &str, satellite: &str) -> Check<String> {
        if self.source.is_empty() || instrument != self.instrument || satellite != self.satellite {
            source_part(instrument, "instrument", "`VIIRS` or `MODIS`")?;
            source_part(satellite, "satellite", "`N20` or `Aqua`")?;
            let source = format!("firms:{instrument}:{satellite}").to_ascii_lowercase();
            check_source(&source).map_err(|reason| {
                Problem::field("satellite", format!("source {}: {reason}", quoted(&source)))
            })?;
            instrument.clone_into(&mut self.instrument);
            satellite.clone_into(&mut self.satellite);
            self.source = source;
        }
        Ok(self.source.clone())
    }
}

/// `instrument` or `satellite`, which name the source: not empty, and only characters a
/// source may hold.
fn source_part(text: &str, field: &'static str, example: &str) -> Check<()> {
    if text.is_empty() {
        return Err(Problem::field(
            field,
            format!("empty: expected e.g. {example}"),
        ));
    }
    check_source(text).map_err(|reason| Problem::field(field, reason))
}

fn cell<'r>(row: &Cells<'r>, index: usize, field: &'static str) -> Check<&'r str> {
    row.text(index)
        .ok_or_else(|| Problem::field(field, "not valid UTF-8"))
}

/// A coordinate in degrees within [-limit, limit].
fn coordinate(text: &str, field: &'static str, limit: f64) -> Check<f64> {
    let degrees = number(text, field)?;
    if !(-limit..=limit).contains(&degrees) {
        return Err(Problem::field(
            field,
            format!("must be in [-{limit}, {limit}], found {}", shown(text)),
        ));
    }
    Ok(degrees)
}

/// `scan` or `track`: a pixel dimension, a positive number of km.
fn pixel_km(text: &str, field: &'static str) -> Check<f64> {
    let km = number(text, field)?;
    if km <= 0.0 {
        return Err(Problem::field(
            field,
            format!(
                "expected a pixel size in km greater than 0, found {}",
                shown(text)
            ),
        ));
    }
    Ok(km)
}

fn number(text: &str, field: &'static str) -> Check<f64> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(Problem::field(
            field,
            format!("expected a finite number, found {}", quoted(text)),
        )),
        Err(_) => Err(Problem::field(
            field,
            format!("expected a number, found {}", quoted(text)),
        )),
    }
}

/// A number as written, for a message (cut when long).
fn shown(text: &str) -> String {
    let quoted = quoted(text);
    quoted[1..quoted.len() - 1].to_owned()
}

/// `acq_date`: `YYYY-MM-DD`.
fn acq_date(text: &str) -> Check<NaiveDate> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !shape_ok {
        return Err(Problem::field(
            "acq_date",
            format!("expected a date YYYY-MM-DD, found {}", quoted(text)),
        ));
    }
    let year = digits(&b[0..4]);
    let month = digits(&b[5..7]);
    let day = digits(&b[8..10]);
    i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or_else(|| {
            Problem::field(
                "acq_date",
                format!("{} is not a calendar date", quoted(text)),
            )
        })
}

/// `acq_time` in UTC: `HH:MM:SS`, `HH:MM`, or 1–4 digits `HHMM` left-padded with zeros
/// (`52` is 00:52, `1045` is 10:45).
fn acq_time(text: &str) -> Check<NaiveTime> {
    let b = text.as_bytes();
    let all_digits = |range: &[u8]| range.iter().all(u8::is_ascii_digit);
    let hms = match b.len() {
        8 if b[2] == b':' && b[5] == b':' && all_digits(&b[0..2]) && all_digits(&b[3..5]) => {
            all_digits(&b[6..8]).then(|| (digits(&b[0..2]), digits(&b[3..5]), digits(&b[6..8])))
        }
        5 if b[2] == b':' && all_digits(&b[0..2]) && all_digits(&b[3..5]) => {
            Some((digits(&b[0..2]), digits(&b[3..5]), 0))
        }
        1..=4 if all_digits(b) => {
            let hhmm = digits(b);
            Some((hhmm / 100, hhmm % 100, 0))
        }
        _ => None,
    };
    let Some((hour, minute, second)) = hms else {
        return Err(Problem::field(
            "acq_time",
            format!(
                "expected a time HH:MM:SS, HH:MM or HHMM (1–4 digits), found {}",
                quoted(text)
            ),
        ));
    };
    NaiveTime::from_hms_opt(hour, minute, second)
        .ok_or_else(|| Problem::field("acq_time", format!("{} is not a time of day", quoted(text))))
}

/// The value of a run of ASCII digits (at most 4 here, so no overflow).
fn digits(b: &[u8]) -> u32 {
    b.iter()
        .fold(0, |n, &d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// An attribute cell: a JSON number when its text is one, else the text (see the module doc).
fn attribute_value(text: &str) -> Value {
    match attribute_cell(text) {
        AttributeCell::Integer(n) => Value::from(n),
        AttributeCell::Float(n) => Value::Number(n),
        AttributeCell::Text(text) => Value::String(text.to_owned()),
    }
}

/// What an attribute cell holds: the one classification behind both [`attribute_value`] and
/// the canonical JSON written straight from the cells.
enum AttributeCell<'t> {
    Integer(i64),
    Float(Number),
    Text(&'t str),
}

fn attribute_cell(text: &str) -> AttributeCell<'_> {
    match json_number_shape(text) {
        Some(NumberShape::Integer) => text
            .parse::<i64>()
            .map_or(AttributeCell::Text(text), AttributeCell::Integer),
        Some(NumberShape::Float) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(AttributeCell::Text(text), AttributeCell::Float),
        None => AttributeCell::Text(text),
    }
}

enum NumberShape {
    Integer,
    Float,
}

/// Whether `text` follows the JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)?
/// ([eE] [+-]? [0-9]+)?`, and if so whether it has a fraction or exponent.
fn json_number_shape(text: &str) -> Option<NumberShape> {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let run = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_digits = run(i);
    if int_digits == 0 || (int_digits > 1 && b[i] == b'0') {
        return None;
    }
    i += int_digits;
    let mut shape = NumberShape::Integer;
    if b.get(i) == Some(&b'.') {
        let frac_digits = run(i + 1);
        if frac_digits == 0 {
            return None;
        }
        i += 1 + frac_digits;
        shape = NumberShape::Float;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = run(i);
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
        shape = NumberShape::Float;
    }
    (i == b.len()).then_some(shape)
}
