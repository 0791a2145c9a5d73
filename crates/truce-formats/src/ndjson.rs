//! Canonical NDJSON observation records (`observation.md`, "Wire format"): one JSON object a
//! line in, observations plus one diagnostic per rejected line out; and the way back, an
//! [`Observation`] as its canonical wire JSON.
//!
//! Canonical JSON is a JSON value written with every object's keys in byte order and no
//! whitespace. Two submissions are the same content exactly when their canonical JSON strings
//! are equal, whatever their key order or spacing; `content_sha256` hashes that string.

use std::cell::{Cell, OnceCell};
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDateTime, SecondsFormat, Timelike, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};
use truce_core::{
    Bearing, Equipment, EquipmentClass, Evidence, Kind, Location, Observation, ObservationKey,
};
use truce_geo::LonLat;

use crate::{Diagnostic, ParsedBatch, ParsedObservation};

/// `source`: 1–128 characters of `[A-Za-z0-9._:-]`.
pub const MAX_SOURCE_CHARS: usize = 128;
/// `source_ref`: 1–256 characters.
pub const MAX_SOURCE_REF_CHARS: usize = 256;
/// `text`: at most 10,000 characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

const TOP_LEVEL_FIELDS: &[&str] = &[
    "source",
    "source_ref",
    "kind",
    "observed_at",
    "observed_until",
    "location",
    "bearing",
    "party",
    "equipment",
    "credibility",
    "text",
    "evidence",
    "attributes",
];
const LOCATION_FIELDS: &[&str] = &["lon", "lat", "uncertainty_m"];
const BEARING_FIELDS: &[&str] = &["observer", "azimuth_deg", "sigma_deg", "max_range_m"];
const OBSERVER_FIELDS: &[&str] = &["lon", "lat"];
const EQUIPMENT_FIELDS: &[&str] = &["class", "count"];
const EVIDENCE_FIELDS: &[&str] = &["sha256", "media_type", "name", "captured_at"];

/// Parses an NDJSON batch: UTF-8, one JSON object a line, `\n` line ends (a trailing `\r` on a
/// line and one final newline are tolerated, as is a leading byte-order mark). A blank line
/// inside the batch is an error on its line. Every line is checked; each rejected line gives
/// one diagnostic (its first problem) and the good lines are still returned.
pub fn parse(file: &str, bytes: &[u8]) -> ParsedBatch {
    let mut batch = ParsedBatch::default();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.is_empty() {
        return batch;
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (index, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match parse_line(raw, line) {
            Ok(parsed) => batch.observations.push(parsed),
            Err(problem) => batch.diagnostics.push(problem.at(file, line)),
        }
    }
    batch
}

/// The canonical wire form of an observation: what an NDJSON line for it holds. Optional
/// fields that are absent (and an empty `evidence` or `attributes`) are left out; times are
/// RFC 3339 in UTC with `Z` (fractional seconds only when not zero). Parsing the canonical
/// JSON of this value with [`parse`] gives the observation back.
pub fn to_wire_json(o: &Observation) -> Value {
    // Cannot fail: every key is a string, and non-finite numbers would become `null`.
    serde_json::to_value(WireObservation::of(o)).unwrap_or(Value::Null)
}

/// The canonical JSON of an observation's wire form: `canonical_json(&to_wire_json(o))`,
/// written straight from the observation without building the `Value` (FIRMS files are
/// read at millions of rows a second).
pub fn wire_canonical_json(o: &Observation) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, &WireObservation::of(o))?;
    String::from_utf8(out).map_err(|e| de::Error::custom(e.utf8_error()))
}

/// A JSON value as canonical JSON: keys of every object in byte order, no whitespace.
///
/// Sorting is done here rather than left to `serde_json::Map`, whose order depends on a cargo
/// feature (`preserve_order`) that any crate in a build may switch on. Writing a `Value` to a
/// string cannot fail in practice; the `Result` only keeps every code path free of panics.
pub fn canonical_json(value: &Value) -> Result<String, serde_json::Error> {
    serde_json::to_string(&SortedKeys(value))
}

/// A parsed observation with its canonical JSON and the content hash of that.
pub(crate) fn parsed_observation(
    observation: Observation,
    line: usize,
    canonical_json: String,
) -> ParsedObservation {
    let content_sha256 = content_sha256(&canonical_json);
    ParsedObservation {
        observation,
        line,
        canonical_json,
        content_sha256,
    }
}

/// SHA-256 of a canonical JSON string: the identity of the content.
pub fn content_sha256(canonical_json: &str) -> [u8; 32] {
    Sha256::digest(canonical_json.as_bytes()).into()
}

/// The one definition of the wire form. The fields of these structs are declared in byte
/// order of their names, so that serializing them writes canonical JSON directly; a unit
/// test checks that against [`canonical_json`], which sorts.
#[derive(Serialize)]
struct WireObservation<'o> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<SortedMap<'o>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bearing: Option<WireBearing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credibility: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    equipment: Option<WireEquipment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Vec<WireEvidence<'o>>>,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<WireLocation>,
    observed_at: WireTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_until: Option<WireTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    party: Option<&'o str>,
    source: &'o str,
    source_ref: &'o str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'o str>,
}

#[derive(Serialize)]
struct WireLonLat {
    lat: f64,
    lon: f64,
}

#[derive(Serialize)]
struct WireLocation {
    lat: f64,
    lon: f64,
    uncertainty_m: f64,
}

#[derive(Serialize)]
struct WireBearing {
    azimuth_deg: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_range_m: Option<f64>,
    observer: WireLonLat,
    sigma_deg: f64,
}

#[derive(Serialize)]
struct WireEquipment {
    class: &'static str,
    count: u32,
}

#[derive(Serialize)]
struct WireEvidence<'o> {
    #[serde(skip_serializing_if = "Option::is_none")]
    captured_at: Option<WireTime>,
    media_type: &'o str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'o str>,
    sha256: &'o str,
}

/// A time on the wire: RFC 3339 in UTC with `Z`, fractional seconds only when not zero.
pub(crate) struct WireTime(pub(crate) DateTime<Utc>);

impl Serialize for WireTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The common case written by hand (chrono's formatter allocates and is slow for a
        // million rows a second); the same text as `to_rfc3339_opts(AutoSi, true)`.
        let t = self.0;
        let (year, nanos) = (t.year(), t.nanosecond());
        if !(0..=9999).contains(&year) || nanos != 0 {
            return serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        let mut text = *b"0000-00-00T00:00:00Z";
        let parts = [
            (0, 4, year.unsigned_abs()),
            (5, 2, t.month()),
            (8, 2, t.day()),
            (11, 2, t.hour()),
            (14, 2, t.minute()),
            (17, 2, t.second()),
        ];
        for (start, width, mut value) in parts {
            for digit in text[start..start + width].iter_mut().rev() {
                // `value % 10` is below 10, so the cast cannot truncate.
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        serializer.serialize_str(&String::from_utf8_lossy(&text))
    }
}

impl<'o> WireObservation<'o> {
    fn of(o: &'o Observation) -> WireObservation<'o> {
        WireObservation {
            attributes: (!o.attributes.is_empty()).then_some(SortedMap(&o.attributes)),
            bearing: o.bearing.map(|b| WireBearing {
                azimuth_deg: b.azimuth_deg,
                max_range_m: b.max_range_m,
                observer: WireLonLat {
                    lat: b.observer.lat_deg,
                    lon: b.observer.lon_deg,
                },
                sigma_deg: b.sigma_deg,
            }),
            credibility: o.credibility,
            equipment: o.equipment.map(|e| WireEquipment {
                class: e.class.as_str(),
                count: e.count,
            }),
            evidence: (!o.evidence.is_empty()).then(|| {
                o.evidence
                    .iter()
                    .map(|e| WireEvidence {
                        captured_at: e.captured_at.map(WireTime),
                        media_type: &e.media_type,
                        name: e.name.as_deref(),
                        sha256: &e.sha256,
                    })
                    .collect()
            }),
            kind: o.kind.as_str(),
            location: o.location.map(|l| WireLocation {
                lat: l.position.lat_deg,
                lon: l.position.lon_deg,
                uncertainty_m: l.uncertainty_m,
            }),
            observed_at: WireTime(o.observed_at),
            observed_until: o.observed_until.map(WireTime),
            party: o.party.as_deref(),
            source: &o.key.source,
            source_ref: &o.key.source_ref,
            text: o.text.as_deref(),
        }
    }
}

/// An object serialized with its keys in byte order.
struct SortedMap<'v>(&'v Map<String, Value>);

impl Serialize for SortedMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let map = self.0;
        if map.keys().is_sorted() {
            serializer.collect_map(map.iter().map(|(k, v)| (k, SortedKeys(v))))
        } else {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            serializer.collect_map(entries.into_iter().map(|(k, v)| (k, SortedKeys(v))))
        }
    }
}

/// Serializes a `Value` with the keys of every object in byte order.
struct SortedKeys<'v>(&'v Value);

impl Serialize for SortedKeys<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => SortedMap(map).serialize(serializer),
            Value::Array(items) => serializer.collect_seq(items.iter().map(SortedKeys)),
            scalar => scalar.serialize(serializer),
        }
    }
}

/// What is wrong with one line (or a FIRMS header): the field at fault, as a dotted path
/// (`location.lat`) or a column name, if there is one, and why.
pub(crate) struct Problem {
    field: Option<String>,
    reason: String,
}

pub(crate) type Check<T> = Result<T, Problem>;

impl Problem {
    pub(crate) fn line(reason: impl Into<String>) -> Problem {
        Problem {
            field: None,
            reason: reason.into(),
        }
    }

    pub(crate) fn field(field: impl Into<String>, reason: impl Into<String>) -> Problem {
        Problem {
            field: Some(field.into()),
            reason: reason.into(),
        }
    }

    pub(crate) fn at(self, file: &str, line: usize) -> Diagnostic {
        match self.field {
            Some(field) => Diagnostic::field(file, line, field, self.reason),
            None => Diagnostic::line(file, line, self.reason),
        }
    }
}

fn parse_line(raw: &[u8], line: usize) -> Check<ParsedObservation> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::line(
            "blank line: every line of an NDJSON batch must hold one JSON object",
        ));
    }
    let text = std::str::from_utf8(raw).map_err(|e| {
        Problem::line(format!(
            "not valid UTF-8 (at byte {} of the line)",
            e.valid_up_to() + 1
        ))
    })?;
    let value = parse_json(text).map_err(|e| {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        Problem::line(format!("invalid JSON at column {}: {message}", e.column()))
    })?;
    let observation = observation_from_json(&value)?;
    let canonical = canonical_json(&value)
        .map_err(|e| Problem::line(format!("cannot write canonical JSON: {e}")))?;
    Ok(parsed_observation(observation, line, canonical))
}

/// Checks a parsed JSON line against the table of `observation.md` and builds the observation.
fn observation_from_json(value: &Value) -> Check<Observation> {
    if !value.is_object() {
        return Err(Problem::line(format!(
            "expected a JSON object, found {}",
            json_type(value)
        )));
    }
    let top = Fields::open(value, "", TOP_LEVEL_FIELDS)?;

    let source = top.need("source", top.string("source")?)?;
    check_source(source).map_err(|reason| Problem::field("source", reason))?;
    let source_ref = top.need("source_ref", top.string("source_ref")?)?;
    let source_ref_chars = source_ref.chars().count();
    if !(1..=MAX_SOURCE_REF_CHARS).contains(&source_ref_chars) {
        return Err(Problem::field(
            "source_ref",
            format!("must be 1–{MAX_SOURCE_REF_CHARS} characters, found {source_ref_chars}"),
        ));
    }

    let kind_name = top.need("kind", top.string("kind")?)?;
    let kind = Kind::from_wire(kind_name).ok_or_else(|| {
        Problem::field(
            "kind",
            format!(
                "unknown kind {} (expected one of: {})",
                quoted(kind_name),
                Kind::ALL.map(Kind::as_str).join(", ")
            ),
        )
    })?;

    let observed_at = top.need("observed_at", top.timestamp("observed_at")?)?;
    let observed_until = top.timestamp("observed_until")?;
    if let Some(until) = observed_until
        && until < observed_at
    {
        return Err(Problem::field(
            "observed_until",
            "is before `observed_at`: an interval must not end before it starts",
        ));
    }

    let location = match top.get("location") {
        None => None,
        Some(v) => Some(location_from_json(v, &top.path("location"))?),
    };
    let bearing = match top.get("bearing") {
        None => None,
        Some(v) => Some(bearing_from_json(v, &top.path("bearing"))?),
    };
    if location.is_none() && bearing.is_none() {
        return Err(Problem::field(
            "location",
            "missing required field (a location is needed unless a `bearing` is given)",
        ));
    }

    let party = top.string("party")?.map(str::to_owned);

    let equipment = match top.get("equipment") {
        None => None,
        Some(v) => Some(equipment_from_json(v, &top.path("equipment"))?),
    };
    if kind == Kind::EquipmentSighting && equipment.is_none() {
        return Err(Problem::field(
            "equipment",
            "missing required field (kind `equipment_sighting` needs `equipment`)",
        ));
    }

    let credibility = match top.get("credibility") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|c| (1..=6).contains(c))
                .and_then(|c| u8::try_from(c).ok())
                .ok_or_else(|| {
                    Problem::field(
                        "credibility",
                        format!("expected an integer 1–6, found {}", shown(v)),
                    )
                })?,
        ),
    };

    let text = top.string("text")?;
    if let Some(text) = text {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(Problem::field(
                "text",
                format!("must be at most {MAX_TEXT_CHARS} characters, found {chars}"),
            ));
        }
    }

    let evidence = match top.get("evidence") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| evidence_from_json(item, &format!("evidence[{i}]")))
            .collect::<Check<Vec<Evidence>>>()?,
        Some(other) => return Err(top.wrong_type("evidence", "an array", other)),
    };

    let attributes = match top.get("attributes") {
        None => Map::new(),
        Some(Value::Object(attributes)) => attributes.clone(),
        Some(other) => return Err(top.wrong_type("attributes", "an object", other)),
    };

    Ok(Observation {
        key: ObservationKey {
            source: source.to_owned(),
            source_ref: source_ref.to_owned(),
        },
        kind,
        observed_at,
        observed_until,
        location,
        bearing,
        party,
        equipment,
        credibility,
        text: text.map(str::to_owned),
        evidence,
        attributes,
    })
}

/// Checks a `source` name: 1–128 characters of `[A-Za-z0-9._:-]`. The reason on failure.
pub(crate) fn check_source(source: &str) -> Result<(), String> {
    if let Some(bad) = source
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(format!(
            "character {} is not allowed (use only A-Z a-z 0-9 . _ : -)",
            quoted(&bad.to_string())
        ));
    }
    if !(1..=MAX_SOURCE_CHARS).contains(&source.len()) {
        return Err(format!(
            "must be 1–{MAX_SOURCE_CHARS} characters, found {}",
            source.len()
        ));
    }
    Ok(())
}

fn location_from_json(value: &Value, path: &str) -> Check<Location> {
    let fields = Fields::open(value, path, LOCATION_FIELDS)?;
    let position = fields.lon_lat()?;
    let uncertainty_m = fields.need("uncertainty_m", fields.number("uncertainty_m")?)?;
    fields.positive("uncertainty_m", uncertainty_m)?;
    Ok(Location {
        position,
        uncertainty_m,
    })
}

fn bearing_from_json(value: &Value, path: &str) -> Check<Bearing> {
    let fields = Fields::open(value, path, BEARING_FIELDS)?;
    let observer_json = fields.need("observer", fields.get("observer"))?;
    let observer = Fields::open(observer_json, &fields.path("observer"), OBSERVER_FIELDS)?;
    let observer = observer.lon_lat()?;
    let azimuth_deg = fields.need("azimuth_deg", fields.number("azimuth_deg")?)?;
    if !(0.0..360.0).contains(&azimuth_deg) {
        return Err(fields.out_of_range("azimuth_deg", "[0, 360)"));
    }
    let sigma_deg = fields.need("sigma_deg", fields.number("sigma_deg")?)?;
    fields.positive("sigma_deg", sigma_deg)?;
    let max_range_m = fields.number("max_range_m")?;
    if let Some(max_range_m) = max_range_m {
        fields.positive("max_range_m", max_range_m)?;
    }
    Ok(Bearing {
        observer,
        azimuth_deg,
        sigma_deg,
        max_range_m,
    })
}

fn equipment_from_json(value: &Value, path: &str) -> Check<Equipment> {
    let fields = Fields::open(value, path, EQUIPMENT_FIELDS)?;
    let class_name = fields.need("class", fields.string("class")?)?;
    let class = EquipmentClass::from_wire(class_name).ok_or_else(|| {
        Problem::field(
            fields.path("class"),
            format!(
                "unknown equipment class {} (expected one of: {})",
                quoted(class_name),
                EquipmentClass::ALL.map(EquipmentClass::as_str).join(", ")
            ),
        )
    })?;
    let count_json = fields.need("count", fields.get("count"))?;
    let count = count_json
        .as_u64()
        .and_then(|c| u32::try_from(c).ok())
        .ok_or_else(|| {
            Problem::field(
                fields.path("count"),
                format!(
                    "expected a whole number 0–{}, found {}",
                    u32::MAX,
                    shown(count_json)
                ),
            )
        })?;
    Ok(Equipment { class, count })
}

fn evidence_from_json(value: &Value, path: &str) -> Check<Evidence> {
    let fields = Fields::open(value, path, EVIDENCE_FIELDS)?;
    let sha256 = fields.need("sha256", fields.string("sha256")?)?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Problem::field(
            fields.path("sha256"),
            format!(
                "expected 64 hexadecimal digits (a SHA-256), found {}",
                quoted(sha256)
            ),
        ));
    }
    let media_type = fields.need("media_type", fields.string("media_type")?)?;
    if media_type.is_empty() {
        return Err(Problem::field(
            fields.path("media_type"),
            "must not be empty (e.g. `image/jpeg`)",
        ));
    }
    Ok(Evidence {
        sha256: sha256.to_ascii_lowercase(),
        media_type: media_type.to_owned(),
        name: fields.string("name")?.map(str::to_owned),
        captured_at: fields.timestamp("captured_at")?,
    })
}

/// The fields of one JSON object, known to hold only allowed keys; `prefix` is the object's
/// dotted path followed by `.` (empty at the top level).
struct Fields<'v> {
    map: &'v Map<String, Value>,
    prefix: String,
}

impl<'v> Fields<'v> {
    /// `value` as an object at `path` (empty for the top level) whose keys are all `allowed`.
    fn open(value: &'v Value, path: &str, allowed: &[&str]) -> Check<Fields<'v>> {
        let Value::Object(map) = value else {
            return Err(Problem::field(
                path,
                format!("expected an object, found {}", json_type(value)),
            ));
        };
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        };
        let fields = Fields { map, prefix };
        if let Some(unknown) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(Problem::field(
                fields.path(unknown),
                format!("unknown field (expected one of: {})", allowed.join(", ")),
            ));
        }
        Ok(fields)
    }

    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn get(&self, key: &str) -> Option<&'v Value> {
        self.map.get(key)
    }

    fn need<T>(&self, key: &str, value: Option<T>) -> Check<T> {
        value.ok_or_else(|| Problem::field(self.path(key), "missing required field"))
    }

    fn wrong_type(&self, key: &str, expected: &str, found: &Value) -> Problem {
        let hint = if found.is_null() {
            " (leave the field out when it has no value)"
        } else {
            ""
        };
        Problem::field(
            self.path(key),
            format!("expected {expected}, found {}{hint}", json_type(found)),
        )
    }

    fn string(&self, key: &str) -> Check<Option<&'v str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    /// A number (JSON numbers are always finite).
    fn number(&self, key: &str) -> Check<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(Problem::field(
                    self.path(key),
                    format!("expected a finite number, found {n}"),
                )),
            },
            Some(other) => Err(self.wrong_type(key, "a number", other)),
        }
    }

    fn out_of_range(&self, key: &str, range: &str) -> Problem {
        let found = self.get(key).map_or_else(String::new, shown);
        Problem::field(self.path(key), format!("must be in {range}, found {found}"))
    }

    fn positive(&self, key: &str, x: f64) -> Check<()> {
        if x > 0.0 {
            return Ok(());
        }
        let found = self.get(key).map_or_else(String::new, shown);
        Err(Problem::field(
            self.path(key),
            format!("must be greater than 0, found {found}"),
        ))
    }

    /// `lon` and `lat`: WGS84 degrees, lon in [-180, 180], lat in [-90, 90].
    fn lon_lat(&self) -> Check<LonLat> {
        let lon_deg = self.need("lon", self.number("lon")?)?;
        if !(-180.0..=180.0).contains(&lon_deg) {
            return Err(self.out_of_range("lon", "[-180, 180]"));
        }
        let lat_deg = self.need("lat", self.number("lat")?)?;
        if !(-90.0..=90.0).contains(&lat_deg) {
            return Err(self.out_of_range("lat", "[-90, 90]"));
        }
        Ok(LonLat::new(lon_deg, lat_deg))
    }

    /// An RFC 3339 timestamp with an offset (`Z` or `±hh:mm`), in UTC.
    fn timestamp(&self, key: &str) -> Check<Option<DateTime<Utc>>> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        parse_timestamp(text)
            .map(Some)
            .map_err(|reason| Problem::field(self.path(key), reason))
    }
}

/// An RFC 3339 timestamp with offset, in UTC; the reason on failure, saying so when only the
/// offset is missing.
fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let without_offset = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .any(|format| NaiveDateTime::parse_from_str(text, format).is_ok());
    if without_offset {
        Err(format!(
            "timestamp {} has no UTC offset: RFC 3339 needs `Z` or an offset such as `+03:00`",
            quoted(text)
        ))
    } else {
        Err(format!(
            "expected an RFC 3339 timestamp with offset such as `2025-09-01T00:52:00Z`, found {}",
            quoted(text)
        ))
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A found value for a message: numbers as written, anything else by its type.
fn shown(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        other => json_type(other).to_owned(),
    }
}

/// Input text for a message, in backticks and cut to a readable length.
pub(crate) fn quoted(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

/// Parses one JSON text like `serde_json::from_str::<Value>`, with two differences: an
/// object with a repeated key is an error (`{"kind": "a", "kind": "b"}` would otherwise keep
/// one of them silently), and numbers with a fraction or exponent are parsed exactly (correctly
/// rounded), where serde_json's default parser may be one unit in the last place off for
/// long ones: `404.01113846031524` must read back as the `f64` that was written.
fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    let literals = NumberLiterals {
        text,
        all: OnceCell::new(),
        seen: Cell::new(0),
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = StrictSeed(&literals).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// The number literals of a JSON text in document order, which is the order in which the
/// parser hands numbers to the visitor; found only when a float needs its literal.
struct NumberLiterals<'t> {
    text: &'t str,
    all: OnceCell<Vec<&'t str>>,
    /// Numbers visited so far.
    seen: Cell<usize>,
}

impl<'t> NumberLiterals<'t> {
    /// Counts an integer: its exact value comes from the parser.
    fn skip(&self) {
        self.seen.set(self.seen.get() + 1);
    }

    /// The exact value of the next number, a float the parser read as `approximate`.
    fn exact(&self, approximate: f64) -> f64 {
        let index = self.seen.get();
        self.seen.set(index + 1);
        self.all
            .get_or_init(|| number_literals(self.text))
            .get(index)
            .and_then(|literal| literal.parse::<f64>().ok())
            .filter(|exact| exact.is_finite())
            .unwrap_or(approximate)
    }
}

/// The number literals of `text`, scanning outside strings. Only the prefix the parser has
/// accepted so far is relied on, and in valid JSON a number is the only token that starts
/// with `-` or a digit.
fn number_literals(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut literals = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                literals.push(&text[start..i]);
            }
            _ => i += 1,
        }
    }
    literals
}

struct StrictSeed<'a, 't>(&'a NumberLiterals<'t>);

impl<'de> DeserializeSeed<'de> for StrictSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor(self.0))
    }
}

struct StrictVisitor<'a, 't>(&'a NumberLiterals<'t>);

impl<'de> Visitor<'de> for StrictVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        self.0.skip();
        Ok(Value::Number(i.into()))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        self.0.skip();
        Ok(Value::Number(u.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Number::from_f64(self.0.exact(f)).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(StrictSeed(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {}",
                    quoted(&key)
                )));
            }
            let value = access.next_value_seed(StrictSeed(self.0))?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire structs are declared in key order: writing them directly gives the same
    /// text as sorting the keys of the `Value`.
    #[test]
    fn wire_structs_write_keys_in_canonical_order() {
        let line = concat!(
            r#"{"source":"s","source_ref":"r","kind":"equipment_sighting","#,
            r#""observed_at":"2025-09-07T08:45:00.5Z","observed_until":"2025-09-07T09:00:00Z","#,
            r#""location":{"lon":1.5,"lat":2.5,"uncertainty_m":3},"#,
            r#""bearing":{"observer":{"lon":4,"lat":5},"azimuth_deg":6,"sigma_deg":7,"max_range_m":8},"#,
            r#""party":"p","equipment":{"class":"tank","count":9},"credibility":1,"text":"t","#,
            r#""evidence":[{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","media_type":"m","name":"n","captured_at":"2025-09-07T08:46:00Z"}],"#,
            r#""attributes":{"z":{"y":1,"x":[{"b":2,"a":3}]},"a":null}}"#
        );
        let value = parse_json(line).expect("valid JSON");
        let Ok(observation) = observation_from_json(&value) else {
            panic!("the record is valid");
        };
        let direct = wire_canonical_json(&observation).expect("writes");
        let sorted = canonical_json(&to_wire_json(&observation)).expect("writes");
        assert_eq!(direct, sorted);
    }

    /// The hand-written time format agrees with chrono's.
    #[test]
    fn wire_time_is_rfc3339_utc() {
        for text in [
            "2025-09-01T00:52:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2025-09-01T00:52:00.25Z",
            "2025-09-01T00:52:00.000000001Z",
            "+10000-01-01T00:00:00Z",
            "-0001-12-31T23:59:59Z",
        ] {
            let t = chrono::DateTime::<Utc>::from_naive_utc_and_offset(
                chrono::NaiveDateTime::parse_from_str(
                    text.trim_end_matches('Z'),
                    "%Y-%m-%dT%H:%M:%S%.f",
                )
                .expect("test times parse"),
                Utc,
            );
            let expected = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            let written = serde_json::to_string(&WireTime(t)).expect("writes");
            assert_eq!(written, format!("\"{expected}\""), "{text}");
        }
    }

    #[test]
    fn number_literals_skip_strings_and_keywords() {
        assert_eq!(
            number_literals(r#"{"a\"1":-1.5e3,"b":[true,0,null,"2\\",3.25]}"#),
            ["-1.5e3", "0", "3.25"]
        );
    }
}
