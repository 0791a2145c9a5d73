//! The truth files of a scenario (`shared/spec/evaluation.md`): `truth/events.ndjson` (what
//! really happened, one event a line) and `truth/links.csv` (which report is about which
//! event), read into a checked [`Truth`] and written back.
//!
//! Events are read leniently in one respect: fields the spec does not name are ignored, so
//! that scenarios from other simulators that carry extra information can still be scored.
//! Everything the spec names is checked (kinds and equipment classes from the vocabulary of
//! `observation.md`, RFC 3339 times, valid coordinates).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use truce_core::evaluation::{Truth, TruthError, TruthEvent, TruthLink};
use truce_core::{Equipment, EquipmentClass, Kind, ObservationKey};
use truce_geo::LonLat;

use crate::Diagnostic;

/// The header of `truth/links.csv`.
pub const LINKS_HEADER: [&str; 3] = ["source", "source_ref", "truth_id"];

/// Reads both truth files and checks them together: event ids unique, each report linked at
/// most once, every `truth_id` naming an event. Every problem found is returned.
pub fn parse_truth(
    events_file: &str,
    events_bytes: &[u8],
    links_file: &str,
    links_bytes: &[u8],
) -> Result<Truth, Vec<Diagnostic>> {
    let (events, mut diagnostics) = parse_events(events_file, events_bytes);
    let (links, link_diagnostics) = parse_links(links_file, links_bytes);
    diagnostics.extend(link_diagnostics);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let (event_lines, events): (Vec<usize>, Vec<TruthEvent>) = events.into_iter().unzip();
    let (link_lines, links): (Vec<usize>, Vec<TruthLink>) = links.into_iter().unzip();
    Truth::new(events, links).map_err(|error| {
        let diagnostic = match &error {
            TruthError::DuplicateEventId { index, .. } => {
                Diagnostic::field(events_file, event_lines[*index], "id", error.to_string())
            }
            TruthError::DuplicateLink { index, .. } => {
                Diagnostic::line(links_file, link_lines[*index], error.to_string())
            }
            TruthError::UnknownTruthId { index, .. } => Diagnostic::field(
                links_file,
                link_lines[*index],
                "truth_id",
                error.to_string(),
            ),
        };
        vec![diagnostic]
    })
}

/// Parses `truth/events.ndjson`: the events that parsed, each with its 1-based line, and one
/// diagnostic per rejected line. A leading BOM, `\r\n` line ends and one final newline are
/// accepted; a blank line is an error.
pub fn parse_events(file: &str, bytes: &[u8]) -> (Vec<(usize, TruthEvent)>, Vec<Diagnostic>) {
    let mut events = Vec::new();
    let mut diagnostics = Vec::new();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.is_empty() {
        return (events, diagnostics);
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (index, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match event_from_line(raw) {
            Ok(event) => events.push((line, event)),
            Err((None, reason)) => diagnostics.push(Diagnostic::line(file, line, reason)),
            Err((Some(field), reason)) => {
                diagnostics.push(Diagnostic::field(file, line, field, reason))
            }
        }
    }
    (events, diagnostics)
}

/// A problem on a line: the field at fault (if one is) and why.
type Problem = (Option<&'static str>, String);

fn field_problem(field: &'static str, reason: impl Into<String>) -> Problem {
    (Some(field), reason.into())
}

fn event_from_line(raw: &[u8]) -> Result<TruthEvent, Problem> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err((None, "blank line: one JSON object a line expected".into()));
    }
    let value: Value = serde_json::from_slice(raw)
        .map_err(|e| (None, format!("invalid JSON at column {}: {e}", e.column())))?;
    let Value::Object(object) = value else {
        return Err((None, "not a JSON object".into()));
    };

    let id = required_string(&object, "id")?;
    if id.is_empty() {
        return Err(field_problem("id", "must not be empty"));
    }
    let kind_name = required_string(&object, "kind")?;
    let kind = Kind::from_wire(kind_name).ok_or_else(|| {
        field_problem(
            "kind",
            format!("`{kind_name}` is not a kind of the observation vocabulary"),
        )
    })?;
    let started_at = timestamp(required_string(&object, "started_at")?, "started_at")?;
    let ended_at = match optional(&object, "ended_at") {
        None => None,
        Some(Value::String(text)) => {
            let t = timestamp(text, "ended_at")?;
            if t < started_at {
                return Err(field_problem("ended_at", "is earlier than started_at"));
            }
            Some(t)
        }
        Some(_) => return Err(field_problem("ended_at", "must be a string")),
    };
    let location = location(&object)?;
    let party = match optional(&object, "party") {
        None => None,
        Some(Value::String(p)) if !p.is_empty() => Some(p.clone()),
        Some(_) => return Err(field_problem("party", "must be a non-empty string")),
    };
    let equipment = match optional(&object, "equipment") {
        None => None,
        Some(value) => Some(equipment(value)?),
    };
    Ok(TruthEvent {
        id: id.to_owned(),
        kind,
        started_at,
        ended_at,
        location,
        party,
        equipment,
    })
}

/// A field's value, treating JSON `null` as absent.
fn optional<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn required_string<'v>(
    object: &'v Map<String, Value>,
    key: &'static str,
) -> Result<&'v str, Problem> {
    match optional(object, key) {
        None => Err(field_problem(key, "is required")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(field_problem(key, "must be a string")),
    }
}

fn timestamp(text: &str, field: &'static str) -> Result<DateTime<Utc>, Problem> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| field_problem(field, format!("`{text}` is not an RFC 3339 timestamp: {e}")))
}

fn location(object: &Map<String, Value>) -> Result<LonLat, Problem> {
    let Some(value) = optional(object, "location") else {
        return Err(field_problem("location", "is required"));
    };
    let Value::Object(location) = value else {
        return Err(field_problem("location", "must be an object {lon, lat}"));
    };
    let coordinate = |key: &'static str, field: &'static str| match location.get(key) {
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| field_problem(field, "must be a number")),
        None => Err(field_problem(field, "is required")),
        Some(_) => Err(field_problem(field, "must be a number")),
    };
    let position = LonLat::new(
        coordinate("lon", "location.lon")?,
        coordinate("lat", "location.lat")?,
    );
    if !(-180.0..=180.0).contains(&position.lon_deg) {
        return Err(field_problem("location.lon", "must be in [-180, 180]"));
    }
    if !(-90.0..=90.0).contains(&position.lat_deg) {
        return Err(field_problem("location.lat", "must be in [-90, 90]"));
    }
    Ok(position)
}

fn equipment(value: &Value) -> Result<Equipment, Problem> {
    let Value::Object(equipment) = value else {
        return Err(field_problem(
            "equipment",
            "must be an object {class, count}",
        ));
    };
    let class = match equipment.get("class") {
        Some(Value::String(name)) => EquipmentClass::from_wire(name).ok_or_else(|| {
            field_problem(
                "equipment.class",
                format!("`{name}` is not an equipment class of the vocabulary"),
            )
        })?,
        None => return Err(field_problem("equipment.class", "is required")),
        Some(_) => return Err(field_problem("equipment.class", "must be a string")),
    };
    let count = match equipment.get("count") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
            .ok_or_else(|| field_problem("equipment.count", "must be an integer 0–4294967295"))?,
        None => return Err(field_problem("equipment.count", "is required")),
        Some(_) => return Err(field_problem("equipment.count", "must be an integer")),
    };
    Ok(Equipment { class, count })
}

/// Parses `truth/links.csv` (header `source,source_ref,truth_id`, columns found by name, other
/// columns ignored; RFC 4180 quoting, BOM and CRLF accepted): the links that parsed, each with
/// its 1-based line, and one diagnostic per rejected row. An empty `truth_id` links the report
/// to no event.
pub fn parse_links(file: &str, bytes: &[u8]) -> (Vec<(usize, TruthLink)>, Vec<Diagnostic>) {
    let mut links = Vec::new();
    let mut diagnostics = Vec::new();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = match reader.byte_headers() {
        Ok(header) => header.clone(),
        Err(e) => {
            diagnostics.push(Diagnostic::line(
                file,
                1,
                format!("cannot read the header: {e}"),
            ));
            return (links, diagnostics);
        }
    };
    let column = |name: &str| header.iter().position(|h| h == name.as_bytes());
    let (Some(source_at), Some(source_ref_at), Some(truth_id_at)) = (
        column(LINKS_HEADER[0]),
        column(LINKS_HEADER[1]),
        column(LINKS_HEADER[2]),
    ) else {
        diagnostics.push(Diagnostic::line(
            file,
            1,
            "the header must name the columns source, source_ref and truth_id",
        ));
        return (links, diagnostics);
    };

    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() as usize);
                diagnostics.push(Diagnostic::line(file, line, format!("unreadable row: {e}")));
                break;
            }
        }
        let line = record.position().map_or(line, |p| p.line() as usize);
        let text = |index: usize, name: &'static str| -> Result<&str, Diagnostic> {
            let bytes = record.get(index).ok_or_else(|| {
                Diagnostic::field(file, line, name, "is missing: the row is too short")
            })?;
            std::str::from_utf8(bytes)
                .map_err(|_| Diagnostic::field(file, line, name, "is not valid UTF-8"))
        };
        let row = (|| {
            let source = text(source_at, "source")?;
            let source_ref = text(source_ref_at, "source_ref")?;
            let truth_id = text(truth_id_at, "truth_id")?;
            if source.is_empty() {
                return Err(Diagnostic::field(file, line, "source", "must not be empty"));
            }
            if source_ref.is_empty() {
                return Err(Diagnostic::field(
                    file,
                    line,
                    "source_ref",
                    "must not be empty",
                ));
            }
            Ok(TruthLink {
                key: ObservationKey {
                    source: source.to_owned(),
                    source_ref: source_ref.to_owned(),
                },
                truth_id: (!truth_id.is_empty()).then(|| truth_id.to_owned()),
            })
        })();
        match row {
            Ok(link) => links.push((line, link)),
            Err(d) => diagnostics.push(d),
        }
    }
    (links, diagnostics)
}

/// `truth/events.ndjson` for `events`: one object a line with keys in the order of the spec
/// (`id`, `kind`, `started_at`, `ended_at`, `location`, `party`, `equipment`), absent optional
/// fields left out, times RFC 3339 in UTC with `Z`.
pub fn events_ndjson(events: &[TruthEvent]) -> Result<String, serde_json::Error> {
    let mut out = String::with_capacity(events.len() * 160);
    for event in events {
        out.push_str(&serde_json::to_string(&WireEvent::of(event))?);
        out.push('\n');
    }
    Ok(out)
}

/// `truth/links.csv` for `links`: the header, then one row a link (quoted where needed).
pub fn links_csv(links: &[TruthLink]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(links.len() * 48));
    writer.write_record(LINKS_HEADER)?;
    for link in links {
        writer.write_record([
            link.key.source.as_str(),
            link.key.source_ref.as_str(),
            link.truth_id.as_deref().unwrap_or(""),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

#[derive(Serialize)]
struct WireEvent<'e> {
    id: &'e str,
    kind: &'static str,
    started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<String>,
    location: WireLonLat,
    #[serde(skip_serializing_if = "Option::is_none")]
    party: Option<&'e str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    equipment: Option<WireEquipment>,
}

#[derive(Serialize)]
struct WireLonLat {
    lon: f64,
    lat: f64,
}

#[derive(Serialize)]
struct WireEquipment {
    class: &'static str,
    count: u32,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl<'e> WireEvent<'e> {
    fn of(e: &'e TruthEvent) -> WireEvent<'e> {
        WireEvent {
            id: &e.id,
            kind: e.kind.as_str(),
            started_at: rfc3339(e.started_at),
            ended_at: e.ended_at.map(rfc3339),
            location: WireLonLat {
                lon: e.location.lon_deg,
                lat: e.location.lat_deg,
            },
            party: e.party.as_deref(),
            equipment: e.equipment.map(|q| WireEquipment {
                class: q.class.as_str(),
                count: q.count,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(diagnostics: &[Diagnostic]) -> Vec<String> {
        diagnostics.iter().map(ToString::to_string).collect()
    }

    /// The one caller of `parse_truth` here: the events' ids and the links, or the messages.
    fn check(events: &str, links: &str) -> Result<(Vec<String>, Vec<TruthLink>), Vec<String>> {
        parse_truth("e.ndjson", events.as_bytes(), "l.csv", links.as_bytes())
            .map(|t| {
                (
                    t.events().iter().map(|e| e.id.clone()).collect(),
                    t.links().to_vec(),
                )
            })
            .map_err(|d| messages(&d))
    }

    fn link(source: &str, source_ref: &str, truth_id: Option<&str>) -> TruthLink {
        TruthLink {
            key: ObservationKey {
                source: source.into(),
                source_ref: source_ref.into(),
            },
            truth_id: truth_id.map(str::to_owned),
        }
    }

    const T17: &str = r#"{"id": "T17", "kind": "explosion", "started_at": "2025-09-07T08:45:00Z", "ended_at": "2025-09-07T09:05:00+00:00", "location": {"lon": 37.5, "lat": 48.1}, "party": "RU", "equipment": {"class": "tank", "count": 4}}"#;

    #[test]
    fn reads_the_example_of_the_spec() {
        let links = "source,source_ref,truth_id\nfirms:viirs:n20,\"2025-09-07T08:45@48.1,37.5\",T17\r\nparty:UA,c-1,\n";
        assert_eq!(
            check(&format!("\u{feff}{T17}\n"), links),
            Ok((
                vec!["T17".to_owned()],
                vec![
                    link("firms:viirs:n20", "2025-09-07T08:45@48.1,37.5", Some("T17")),
                    link("party:UA", "c-1", None)
                ]
            ))
        );
    }

    #[test]
    fn events_round_trip_through_the_writer() {
        let (events, diagnostics) = parse_events("e", T17.as_bytes());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let events: Vec<TruthEvent> = events.into_iter().map(|(_, e)| e).collect();
        let written = events_ndjson(&events).expect("writes");
        assert_eq!(
            written,
            "{\"id\":\"T17\",\"kind\":\"explosion\",\"started_at\":\"2025-09-07T08:45:00Z\",\"ended_at\":\"2025-09-07T09:05:00Z\",\"location\":{\"lon\":37.5,\"lat\":48.1},\"party\":\"RU\",\"equipment\":{\"class\":\"tank\",\"count\":4}}\n"
        );
        let (again, _) = parse_events("e", written.as_bytes());
        assert_eq!(
            again.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
            events
        );
    }

    #[test]
    fn links_round_trip_through_the_writer() {
        let links = vec![
            link("firms:viirs:n20", "2025-09-07T08:45@48.1,37.5", Some("T1")),
            link("party:UA", "say \"x\"", None),
        ];
        let bytes = links_csv(&links).expect("writes");
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "source,source_ref,truth_id\nfirms:viirs:n20,\"2025-09-07T08:45@48.1,37.5\",T1\nparty:UA,\"say \"\"x\"\"\",\n"
        );
        let (again, diagnostics) = parse_links("l", &bytes);
        assert!(diagnostics.is_empty());
        assert_eq!(again.into_iter().map(|(_, l)| l).collect::<Vec<_>>(), links);
    }

    #[test]
    fn unknown_fields_are_ignored_and_optional_ones_may_be_null() {
        let line = r#"{"id":"A","kind":"movement","started_at":"2025-09-07T08:45:00Z","ended_at":null,"location":{"lon":1,"lat":2,"uncertainty_m":5},"zone":"disengagement"}"#;
        let (events, diagnostics) = parse_events("e", line.as_bytes());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(events[0].1.ended_at, None);
        assert_eq!(events[0].1.location, LonLat::new(1.0, 2.0));
    }

    #[test]
    fn every_bad_event_line_is_reported_with_its_field() {
        let lines = [
            r#"{"id":"A","kind":"shelling","started_at":"2025-09-07T08:45:00Z","location":{"lon":1,"lat":2}}"#,
            r#"{"id":"B","kind":"explosion","started_at":"2025-09-07 08:45","location":{"lon":1,"lat":2}}"#,
            r#"{"id":"C","kind":"explosion","started_at":"2025-09-07T08:45:00Z","location":{"lon":181,"lat":2}}"#,
            r#"{"id":"D","kind":"explosion","started_at":"2025-09-07T08:45:00Z"}"#,
            r#"{"id":"E","kind":"explosion","started_at":"2025-09-07T08:45:00Z","ended_at":"2025-09-07T08:00:00Z","location":{"lon":1,"lat":2}}"#,
            r#"{"id":"F","kind":"equipment_sighting","started_at":"2025-09-07T08:45:00Z","location":{"lon":1,"lat":2},"equipment":{"class":"tank","count":-1}}"#,
            r#"{"kind":"explosion"}"#,
            "",
            "[1]",
            "{",
        ];
        let (events, diagnostics) = parse_events("e", lines.join("\n").as_bytes());
        assert!(events.is_empty());
        let got = messages(&diagnostics);
        let expected = [
            "e:1: field `kind`: `shelling` is not a kind of the observation vocabulary",
            "e:2: field `started_at`: `2025-09-07 08:45` is not an RFC 3339 timestamp: premature end of input",
            "e:3: field `location.lon`: must be in [-180, 180]",
            "e:4: field `location`: is required",
            "e:5: field `ended_at`: is earlier than started_at",
            "e:6: field `equipment.count`: must be an integer 0–4294967295",
            "e:7: field `id`: is required",
            "e:8: blank line: one JSON object a line expected",
            "e:9: not a JSON object",
        ];
        assert_eq!(got[..expected.len()], expected);
        assert!(
            got[9].starts_with("e:10: invalid JSON at column"),
            "{}",
            got[9]
        );
    }

    #[test]
    fn links_need_their_columns_and_values() {
        assert_eq!(
            check(T17, "source,ref,truth_id\na,b,T17\n"),
            Err(vec![
                "l.csv:1: the header must name the columns source, source_ref and truth_id".into()
            ])
        );
        assert_eq!(
            check(T17, "truth_id,source,source_ref\nT17,a,\n,,b\nT17\n"),
            Err(vec![
                "l.csv:2: field `source_ref`: must not be empty".into(),
                "l.csv:3: field `source`: must not be empty".into(),
                "l.csv:4: field `source`: is missing: the row is too short".into(),
            ])
        );
    }

    #[test]
    fn inconsistent_truth_names_the_line() {
        assert_eq!(
            check(&format!("{T17}\n{T17}\n"), "source,source_ref,truth_id\n"),
            Err(vec![
                "e.ndjson:2: field `id`: event id `T17` is used by an earlier event".into()
            ])
        );
        assert_eq!(
            check(T17, "source,source_ref,truth_id\na,1,T17\na,1,\n"),
            Err(vec![
                "l.csv:3: report (a, 1) is linked by an earlier row".into()
            ])
        );
        assert_eq!(
            check(T17, "source,source_ref,truth_id\na,1,T18\n"),
            Err(vec![
                "l.csv:2: field `truth_id`: truth_id `T18` names no event".into()
            ])
        );
    }
}
