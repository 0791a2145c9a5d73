//! Agreement files, version 1 (`shared/spec/agreement.md`): TOML terms plus GeoJSON geometry.
//!
//! The parser reads no files itself: the caller passes a `load` function that returns the
//! bytes of a geometry file named in the agreement (relative to the agreement file).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use toml::Spanned;
use truce_core::{
    Agreement, AgreementGeometry, EquipmentClass, FusionParams, Party, PartySide, Zone,
};
use truce_geo::{ContactLine, ControlArea, LonLat, Polygon};

use crate::Diagnostic;

/// Activity groups an agreement may prohibit, besides equipment classes.
pub const ACTIVITY_GROUPS: [&str; 4] = ["fire", "heavy_weapons", "armour", "presence"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgreement {
    id: Spanned<String>,
    #[serde(default)]
    title: String,
    effective_at: Spanned<toml::Value>,
    expires_at: Option<Spanned<toml::Value>>,
    party: Spanned<Vec<Spanned<RawParty>>>,
    geometry: RawGeometry,
    zone: Spanned<Vec<Spanned<RawZone>>>,
    fusion: RawFusion,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    id: Spanned<String>,
    name: String,
    side: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeometry {
    contact_line: Spanned<String>,
    control: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    id: Spanned<String>,
    band_m: Spanned<[Number; 2]>,
    #[serde(default)]
    prohibit: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFusion {
    link_distance_m: Spanned<Number>,
    link_time_s: Spanned<i64>,
}

/// A TOML number written as an integer or a float.
#[derive(Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Integer(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Parses and validates an agreement file. `file` names it in messages; `load(name)` returns
/// the bytes of a geometry file it names (or a reason it cannot).
pub fn parse_agreement(
    file: &str,
    bytes: &[u8],
    mut load: impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Agreement, Diagnostic> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Diagnostic::line(
            file,
            line_of(bytes, e.valid_up_to()),
            "the agreement file is not UTF-8",
        )
    })?;
    let raw: RawAgreement = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(bytes, s.start)).unwrap_or(1);
        Diagnostic::line(file, line, e.message().trim().to_owned())
    })?;
    let at = |span: std::ops::Range<usize>, key: &str, reason: String| {
        Diagnostic::field(file, line_of(bytes, span.start), key, reason)
    };

    if raw.id.get_ref().trim().is_empty() {
        return Err(at(raw.id.span(), "id", "must not be empty".into()));
    }
    let effective_at =
        timestamp(&raw.effective_at).map_err(|r| at(raw.effective_at.span(), "effective_at", r))?;
    let expires_at = match &raw.expires_at {
        None => None,
        Some(v) => {
            let t = timestamp(v).map_err(|r| at(v.span(), "expires_at", r))?;
            if t <= effective_at {
                return Err(at(
                    v.span(),
                    "expires_at",
                    "must be later than effective_at".into(),
                ));
            }
            Some(t)
        }
    };

    let parties = parse_parties(&raw.party, &at)?;
    let zones = parse_zones(&raw.zone, &at)?;

    let link_distance_m = raw.fusion.link_distance_m.get_ref().as_f64();
    if !(link_distance_m.is_finite() && link_distance_m >= 0.0) {
        return Err(at(
            raw.fusion.link_distance_m.span(),
            "fusion.link_distance_m",
            "must be a finite number ≥ 0".into(),
        ));
    }
    let link_time_s = *raw.fusion.link_time_s.get_ref();
    if link_time_s < 0 {
        return Err(at(
            raw.fusion.link_time_s.span(),
            "fusion.link_time_s",
            "must be ≥ 0".into(),
        ));
    }

    let mut hasher = Sha256::new();
    hash_part(&mut hasher, "agreement", bytes);
    let mut load_geometry =
        |key: &str, name: &Spanned<String>| -> Result<(String, Vec<u8>), Diagnostic> {
            let content = load(name.get_ref()).map_err(|reason| {
                at(
                    name.span(),
                    key,
                    format!("cannot read `{}`: {reason}", name.get_ref()),
                )
            })?;
            hash_part(&mut hasher, name.get_ref(), &content);
            Ok((name.get_ref().clone(), content))
        };
    let (line_file, line_bytes) =
        load_geometry("geometry.contact_line", &raw.geometry.contact_line)?;
    let (control_file, control_bytes) = load_geometry("geometry.control", &raw.geometry.control)?;
    let contact_line = parse_contact_line(&line_file, &line_bytes)?;
    let control = parse_control_area(&control_file, &control_bytes)?;

    Ok(Agreement {
        id: raw.id.into_inner(),
        title: raw.title,
        effective_at,
        expires_at,
        parties,
        zones,
        fusion: FusionParams {
            link_distance_m,
            link_time_s,
        },
        geometry: AgreementGeometry {
            contact_line,
            control,
        },
        version: hex::encode(hasher.finalize()),
    })
}

fn parse_parties(
    raw: &Spanned<Vec<Spanned<RawParty>>>,
    at: &impl Fn(std::ops::Range<usize>, &str, String) -> Diagnostic,
) -> Result<Vec<Party>, Diagnostic> {
    if raw.get_ref().len() != 2 {
        return Err(at(
            raw.span(),
            "party",
            format!(
                "exactly two parties are needed, found {}",
                raw.get_ref().len()
            ),
        ));
    }
    let mut parties: Vec<Party> = Vec::with_capacity(2);
    for p in raw.get_ref() {
        let p = p.get_ref();
        let side = match p.side.get_ref().as_str() {
            "inside" => PartySide::Inside,
            "outside" => PartySide::Outside,
            other => {
                return Err(at(
                    p.side.span(),
                    "party.side",
                    format!("`{other}` is not a side: expected `inside` or `outside`"),
                ));
            }
        };
        if p.id.get_ref().trim().is_empty() {
            return Err(at(p.id.span(), "party.id", "must not be empty".into()));
        }
        if parties.iter().any(|q| q.id == *p.id.get_ref()) {
            return Err(at(
                p.id.span(),
                "party.id",
                format!("party `{}` is listed twice", p.id.get_ref()),
            ));
        }
        if parties.iter().any(|q| q.side == side) {
            return Err(at(
                p.side.span(),
                "party.side",
                format!(
                    "both parties hold side `{}`: one must be inside, the other outside",
                    p.side.get_ref()
                ),
            ));
        }
        parties.push(Party {
            id: p.id.get_ref().clone(),
            name: p.name.clone(),
            side,
        });
    }
    Ok(parties)
}

fn parse_zones(
    raw: &Spanned<Vec<Spanned<RawZone>>>,
    at: &impl Fn(std::ops::Range<usize>, &str, String) -> Diagnostic,
) -> Result<Vec<Zone>, Diagnostic> {
    if raw.get_ref().is_empty() {
        return Err(at(raw.span(), "zone", "at least one zone is needed".into()));
    }
    let max_zones = truce_geo::BandedGrid::MAX_BANDS;
    if raw.get_ref().len() > max_zones {
        return Err(at(
            raw.span(),
            "zone",
            format!(
                "{} zones; at most {max_zones} are supported",
                raw.get_ref().len()
            ),
        ));
    }
    let mut zones: Vec<Zone> = Vec::new();
    for z in raw.get_ref() {
        let z = z.get_ref();
        let id = z.id.get_ref();
        if id.trim().is_empty() || id == "outside" || id == "incidents" {
            return Err(at(
                z.id.span(),
                "zone.id",
                format!(
                    "`{id}` cannot be a zone id (empty, `outside` and `incidents` are reserved)"
                ),
            ));
        }
        if zones.iter().any(|q| q.id == *id) {
            return Err(at(
                z.id.span(),
                "zone.id",
                format!("zone `{id}` is listed twice"),
            ));
        }
        let [lower, upper] = z.band_m.get_ref().map(Number::as_f64);
        let band = |reason: String| {
            at(
                z.band_m.span(),
                "zone.band_m",
                format!("zone `{id}`: {reason}"),
            )
        };
        if !(lower.is_finite() && upper.is_finite()) {
            return Err(band("bounds must be finite numbers of metres".into()));
        }
        if upper <= lower {
            return Err(band(format!(
                "band [{lower}, {upper}] is empty: the upper bound must exceed the lower"
            )));
        }
        match zones.last() {
            None if lower != 0.0 => {
                return Err(band(format!("the first band must start at 0, not {lower}")));
            }
            Some(prev) if lower < prev.upper_m => {
                return Err(band(format!(
                    "band [{lower}, {upper}] overlaps zone `{}` [{}, {}]",
                    prev.id, prev.lower_m, prev.upper_m
                )));
            }
            Some(prev) if lower > prev.upper_m => {
                return Err(band(format!(
                    "band [{lower}, {upper}] leaves a gap after zone `{}`, which ends at {}",
                    prev.id, prev.upper_m
                )));
            }
            _ => {}
        }
        for item in &z.prohibit {
            let name = item.get_ref();
            if EquipmentClass::from_wire(name).is_none()
                && !ACTIVITY_GROUPS.contains(&name.as_str())
            {
                return Err(at(
                    item.span(),
                    "zone.prohibit",
                    format!(
                        "`{name}` is neither an equipment class nor an activity group (fire, heavy_weapons, armour, presence)"
                    ),
                ));
            }
        }
        zones.push(Zone {
            id: id.clone(),
            lower_m: lower,
            upper_m: upper,
            prohibit: z.prohibit.iter().map(|p| p.get_ref().clone()).collect(),
        });
    }
    Ok(zones)
}

fn timestamp(value: &Spanned<toml::Value>) -> Result<DateTime<Utc>, String> {
    let text = match value.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => {
            return Err(format!(
                "expected an RFC 3339 timestamp, found a {}",
                other.type_str()
            ));
        }
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!("`{text}` is not an RFC 3339 timestamp with offset (e.g. 2025-09-01T00:00:00Z)")
        })
}

fn hash_part(hasher: &mut Sha256, name: &str, bytes: &[u8]) {
    hasher.update((name.len() as u64).to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// 1-based line of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Parses the contact line: LineString / MultiLineString geometries, bare or in Features or a
/// FeatureCollection.
pub fn parse_contact_line(file: &str, bytes: &[u8]) -> Result<ContactLine, Diagnostic> {
    let mut lines: Vec<Vec<LonLat>> = Vec::new();
    for_each_geometry(file, bytes, &mut |path, kind, coords| match kind {
        "LineString" => {
            lines.push(positions(file, &format!("{path}.coordinates"), coords)?);
            Ok(())
        }
        "MultiLineString" => {
            for (i, line) in array(file, &format!("{path}.coordinates"), coords)?
                .iter()
                .enumerate()
            {
                lines.push(positions(file, &format!("{path}.coordinates[{i}]"), line)?);
            }
            Ok(())
        }
        other => Err(Diagnostic {
            file: file.into(),
            line: None,
            field: Some(format!("{path}.type")),
            reason: format!("a contact line must be LineString or MultiLineString, not {other}"),
        }),
    })?;
    ContactLine::new(lines).map_err(|e| Diagnostic::file(file, e.to_string()))
}

/// Parses the control area: Polygon / MultiPolygon geometries, bare or in Features or a
/// FeatureCollection.
pub fn parse_control_area(file: &str, bytes: &[u8]) -> Result<ControlArea, Diagnostic> {
    let mut polygons: Vec<Polygon> = Vec::new();
    for_each_geometry(file, bytes, &mut |path, kind, coords| {
        let mut polygon = |path: &str, rings: &Value| -> Result<(), Diagnostic> {
            let rings = array(file, path, rings)?;
            let mut parsed = Vec::with_capacity(rings.len());
            for (i, ring) in rings.iter().enumerate() {
                let ring_path = format!("{path}[{i}]");
                let ring = positions(file, &ring_path, ring)?;
                if ring.len() < 4 || ring.first() != ring.last() {
                    return Err(Diagnostic {
                        file: file.into(),
                        line: None,
                        field: Some(ring_path),
                        reason:
                            "a polygon ring needs at least 4 positions and must end where it starts"
                                .into(),
                    });
                }
                parsed.push(ring);
            }
            let mut rings = parsed.into_iter();
            let Some(exterior) = rings.next() else {
                return Err(Diagnostic {
                    file: file.into(),
                    line: None,
                    field: Some(path.into()),
                    reason: "a polygon needs an exterior ring".into(),
                });
            };
            polygons.push(Polygon {
                exterior,
                holes: rings.collect(),
            });
            Ok(())
        };
        match kind {
            "Polygon" => polygon(&format!("{path}.coordinates"), coords),
            "MultiPolygon" => {
                for (i, p) in array(file, &format!("{path}.coordinates"), coords)?
                    .iter()
                    .enumerate()
                {
                    polygon(&format!("{path}.coordinates[{i}]"), p)?;
                }
                Ok(())
            }
            other => Err(Diagnostic {
                file: file.into(),
                line: None,
                field: Some(format!("{path}.type")),
                reason: format!("a control area must be Polygon or MultiPolygon, not {other}"),
            }),
        }
    })?;
    ControlArea::new(polygons).map_err(|e| Diagnostic::file(file, e.to_string()))
}

type GeometryVisitor<'a> = dyn FnMut(&str, &str, &Value) -> Result<(), Diagnostic> + 'a;

/// Calls `visit(path, type, coordinates)` for every geometry of a GeoJSON document.
fn for_each_geometry(
    file: &str,
    bytes: &[u8],
    visit: &mut GeometryVisitor<'_>,
) -> Result<(), Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| Diagnostic {
        file: file.into(),
        line: Some(e.line().max(1)),
        field: None,
        reason: format!("not valid GeoJSON: {e}"),
    })?;
    check_crs(file, &doc)?;
    visit_object(file, "$", &doc, visit)
}

fn visit_object(
    file: &str,
    path: &str,
    v: &Value,
    visit: &mut GeometryVisitor<'_>,
) -> Result<(), Diagnostic> {
    let err = |field: String, reason: String| Diagnostic {
        file: file.into(),
        line: None,
        field: Some(field),
        reason,
    };
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| err(format!("{path}.type"), "missing GeoJSON `type`".into()))?;
    match kind {
        "FeatureCollection" => visit_members(file, path, v, "features", visit),
        "Feature" => match v.get("geometry") {
            Some(Value::Null) | None => Err(err(
                format!("{path}.geometry"),
                "a feature without geometry".into(),
            )),
            Some(g) => visit_object(file, &format!("{path}.geometry"), g, visit),
        },
        "GeometryCollection" => visit_members(file, path, v, "geometries", visit),
        geometry => {
            let coords = v
                .get("coordinates")
                .ok_or_else(|| err(format!("{path}.coordinates"), "missing".into()))?;
            visit(path, geometry, coords)
        }
    }
}

/// Visits every object of the array `v[key]` (a collection's features or geometries).
fn visit_members(
    file: &str,
    path: &str,
    v: &Value,
    key: &str,
    visit: &mut GeometryVisitor<'_>,
) -> Result<(), Diagnostic> {
    let members_path = format!("{path}.{key}");
    let members = v.get(key).ok_or_else(|| Diagnostic {
        file: file.into(),
        line: None,
        field: Some(members_path.clone()),
        reason: "missing".into(),
    })?;
    for (i, member) in array(file, &members_path, members)?.iter().enumerate() {
        visit_object(file, &format!("{members_path}[{i}]"), member, visit)?;
    }
    Ok(())
}

/// RFC 7946 has no `crs`; a legacy one is accepted only when it names CRS84 / WGS 84 lon/lat.
fn check_crs(file: &str, doc: &Value) -> Result<(), Diagnostic> {
    let Some(crs) = doc.get("crs") else {
        return Ok(());
    };
    let name = crs
        .get("properties")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let accepted = [
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "CRS84",
        "OGC:CRS84",
        "WGS84",
        "EPSG:4326",
        "urn:ogc:def:crs:EPSG::4326",
    ];
    if crs.is_null() || accepted.contains(&name) {
        Ok(())
    } else {
        Err(Diagnostic {
            file: file.into(),
            line: None,
            field: Some("crs".into()),
            reason: format!(
                "coordinates must be CRS84 (lon, lat in degrees); this file declares `{name}`"
            ),
        })
    }
}

fn array<'v>(file: &str, path: &str, v: &'v Value) -> Result<&'v Vec<Value>, Diagnostic> {
    v.as_array().ok_or_else(|| Diagnostic {
        file: file.into(),
        line: None,
        field: Some(path.into()),
        reason: "expected an array".into(),
    })
}

fn positions(file: &str, path: &str, v: &Value) -> Result<Vec<LonLat>, Diagnostic> {
    let mut out = Vec::new();
    for (i, position) in array(file, path, v)?.iter().enumerate() {
        let pair = position.as_array().map(|a| {
            (
                a.first().and_then(Value::as_f64),
                a.get(1).and_then(Value::as_f64),
            )
        });
        match pair {
            Some((Some(lon), Some(lat))) if LonLat::new(lon, lat).is_valid() => {
                out.push(LonLat::new(lon, lat))
            }
            _ => {
                return Err(Diagnostic {
                    file: file.into(),
                    line: None,
                    field: Some(format!("{path}[{i}]")),
                    reason: format!("`{position}` is not a position [lon, lat] in degrees"),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"piece": 0},
        "geometry": {"type": "LineString", "coordinates": [[30.0, 48.0], [31.0, 48.5]]}}]}"#;
    const CONTROL: &str = r#"{"type": "FeatureCollection", "name": "x",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon",
        "coordinates": [[[[30.0, 48.0], [31.0, 48.0], [31.0, 49.0], [30.0, 48.0]]]]}}]}"#;

    const AGREEMENT: &str = r#"id = "test"
title = "A test agreement"
effective_at = "2025-09-01T00:00:00Z"

[[party]]
id = "UA"
name = "Ukraine"
side = "outside"

[[party]]
id = "RU"
name = "Russian Federation"
side = "inside"

[geometry]
contact_line = "line.geojson"
control = "control.geojson"

[[zone]]
id = "disengagement"
band_m = [0, 15000]
prohibit = ["fire", "heavy_weapons", "armour"]

[[zone]]
id = "heavy_weapons_withdrawal"
band_m = [15000, 50000]
prohibit = ["artillery_ge_100mm", "tank"]

[fusion]
link_distance_m = 1000
link_time_s = 10800
"#;

    /// The one caller of the parser in these tests: the agreement text and its geometry.
    fn parse(agreement: &str, line: &str, control: &str) -> Result<Agreement, String> {
        parse_agreement("agreement.toml", agreement.as_bytes(), |name| match name {
            "line.geojson" => Ok(line.as_bytes().to_vec()),
            "control.geojson" => Ok(control.as_bytes().to_vec()),
            other => Err(format!("no such file: {other}")),
        })
        .map_err(|d| d.to_string())
    }

    fn check_error(agreement: &str, expected: &str) {
        assert_eq!(
            parse(agreement, LINE, CONTROL).err().as_deref(),
            Some(expected)
        );
    }

    #[test]
    fn the_sample_shape_parses() {
        let a = parse(AGREEMENT, LINE, CONTROL).expect("valid");
        assert_eq!(a.id, "test");
        assert_eq!(
            a.parties
                .iter()
                .map(|p| (p.id.as_str(), p.side))
                .collect::<Vec<_>>(),
            vec![("UA", PartySide::Outside), ("RU", PartySide::Inside)]
        );
        assert_eq!(
            a.zones
                .iter()
                .map(|z| (z.lower_m, z.upper_m))
                .collect::<Vec<_>>(),
            vec![(0.0, 15000.0), (15000.0, 50000.0)]
        );
        assert_eq!(
            a.fusion,
            FusionParams {
                link_distance_m: 1000.0,
                link_time_s: 10800
            }
        );
        assert_eq!(a.version.len(), 64);
        // The version covers the geometry: another line gives another version.
        let other = parse(
            AGREEMENT,
            &LINE.replace("31.0, 48.5", "31.0, 48.6"),
            CONTROL,
        )
        .expect("valid");
        assert_ne!(a.version, other.version);
    }

    #[test]
    fn more_zones_than_the_assessor_holds_are_rejected() {
        let zones: String = (0..63)
            .map(|i| {
                format!(
                    "\n[[zone]]\nid = \"z{i}\"\nband_m = [{}, {}]\n",
                    i * 1000,
                    (i + 1) * 1000
                )
            })
            .collect();
        let start = AGREEMENT.find("[[zone]]").expect("zones in the sample");
        let end = AGREEMENT.find("[fusion]").expect("fusion in the sample");
        let text = format!("{}{zones}{}", &AGREEMENT[..start], &AGREEMENT[end..]);
        let got = parse(&text, LINE, CONTROL).expect_err("63 zones");
        assert!(
            got.to_string()
                .contains("field `zone`: 63 zones; at most 62 are supported"),
            "{got}"
        );
    }

    #[test]
    fn overlapping_bands_are_rejected() {
        check_error(
            &AGREEMENT.replace("band_m = [15000, 50000]", "band_m = [10000, 50000]"),
            "agreement.toml:26: field `zone.band_m`: zone `heavy_weapons_withdrawal`: band [10000, 50000] overlaps zone `disengagement` [0, 15000]",
        );
    }

    #[test]
    fn gaps_empty_bands_and_a_first_band_off_zero_are_rejected() {
        check_error(
            &AGREEMENT.replace("band_m = [15000, 50000]", "band_m = [20000, 50000]"),
            "agreement.toml:26: field `zone.band_m`: zone `heavy_weapons_withdrawal`: band [20000, 50000] leaves a gap after zone `disengagement`, which ends at 15000",
        );
        check_error(
            &AGREEMENT.replace("band_m = [15000, 50000]", "band_m = [15000, 15000]"),
            "agreement.toml:26: field `zone.band_m`: zone `heavy_weapons_withdrawal`: band [15000, 15000] is empty: the upper bound must exceed the lower",
        );
        check_error(
            &AGREEMENT.replace("band_m = [0, 15000]", "band_m = [100, 15000]"),
            "agreement.toml:21: field `zone.band_m`: zone `disengagement`: the first band must start at 0, not 100",
        );
    }

    #[test]
    fn unknown_keys_bad_sides_and_bad_times_are_rejected() {
        let unknown = parse(&AGREEMENT.replace("title =", "titel ="), LINE, CONTROL)
            .err()
            .unwrap_or_default();
        assert!(
            unknown.starts_with("agreement.toml:2: unknown field `titel`"),
            "{unknown}"
        );
        check_error(
            &AGREEMENT.replace("side = \"inside\"", "side = \"north\""),
            "agreement.toml:13: field `party.side`: `north` is not a side: expected `inside` or `outside`",
        );
        check_error(
            &AGREEMENT.replace("2025-09-01T00:00:00Z", "2025-09-01 00:00"),
            "agreement.toml:3: field `effective_at`: `2025-09-01 00:00` is not an RFC 3339 timestamp with offset (e.g. 2025-09-01T00:00:00Z)",
        );
        check_error(
            &AGREEMENT.replace("\"tank\"", "\"tanks\""),
            "agreement.toml:27: field `zone.prohibit`: `tanks` is neither an equipment class nor an activity group (fire, heavy_weapons, armour, presence)",
        );
    }

    #[test]
    fn a_geometry_file_that_does_not_parse_is_rejected() {
        let broken = parse(
            AGREEMENT,
            "{\"type\": \"FeatureCollection\",\n \"features\": [",
            CONTROL,
        )
        .err();
        assert_eq!(
            broken.as_deref(),
            Some("line.geojson:2: not valid GeoJSON: EOF while parsing a list at line 2 column 14")
        );
        let wrong_type = parse(AGREEMENT, LINE, LINE).err();
        assert_eq!(
            wrong_type.as_deref(),
            Some(
                "control.geojson: field `$.features[0].geometry.type`: a control area must be Polygon or MultiPolygon, not LineString"
            )
        );
        let other_crs = CONTROL.replace("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:3857");
        assert_eq!(
            parse(AGREEMENT, LINE, &other_crs).err().as_deref(),
            Some(
                "control.geojson: field `crs`: coordinates must be CRS84 (lon, lat in degrees); this file declares `EPSG:3857`"
            )
        );
        let missing = parse(
            &AGREEMENT.replace("line.geojson", "nowhere.geojson"),
            LINE,
            CONTROL,
        )
        .err();
        assert_eq!(
            missing.as_deref(),
            Some(
                "agreement.toml:16: field `geometry.contact_line`: cannot read `nowhere.geojson`: no such file: nowhere.geojson"
            )
        );
    }
}
