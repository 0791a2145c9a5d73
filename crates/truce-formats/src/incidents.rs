//! Fused incidents as the NDJSON of `shared/spec/evaluation.md` ("What the system exports"):
//! one JSON object an incident, one incident a line.
//!
//! Keys of the contract: `id`, `status`, `confidence`, `first_at`, `last_at`, `location`
//! (`{"lon", "lat", "uncertainty_m"}`, or `null` for an incident known only by bearings),
//! `kinds`, `members` (`[{"source", "source_ref"}]`, ascending input order). Extra keys, so
//! that every status can be traced: `reasons` (one line each), `sources` (each source with
//! its `reliability`, `discipline`, `reports` and best `credibility`), `fix` (the error
//! ellipse when the location rests on triangulated bearings), `sector` (the bearing of a
//! bearing-only incident); equipment estimates in [`equipment_json`]. Positions are rounded
//! to 1e-7 degrees, uncertainties to 0.1 m, confidences to 4 decimals.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use truce_core::Observation;
use truce_core::fusion::{EquipmentEstimate, FusedIncident, Fusion};

/// RFC 3339 in UTC with `Z`, fractional seconds only when there are some.
fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `x` rounded to `decimals` places (for numbers whose last digits mean nothing).
fn rounded(x: f64, decimals: i32) -> Value {
    let scale = 10f64.powi(decimals);
    json!((x * scale).round() / scale)
}

/// What explains an incident, as a JSON object: `reasons`, `sources`, and `fix` or `sector`
/// when it has one (the keys of [`incident_json`] beyond those of the contract; what the
/// store keeps beside an incident's columns).
pub fn incident_detail_json(incident: &FusedIncident) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("reasons".into(), json!(incident.reasons()));
    o.insert(
        "sources".into(),
        incident
            .sources
            .iter()
            .map(|s| {
                json!({
                    "source": s.source.as_str(),
                    "reliability": s.info.reliability.as_str(),
                    "discipline": s.info.discipline.as_str(),
                    "reports": s.reports,
                    "credibility": s.best_credibility,
                })
            })
            .collect(),
    );
    if let Some(fix) = incident.fix.as_deref() {
        o.insert(
            "fix".into(),
            json!({
                "semi_major_m": rounded(fix.semi_major_m, 1),
                "semi_minor_m": rounded(fix.semi_minor_m, 1),
                "orientation_deg": rounded(fix.orientation_deg, 2),
            }),
        );
    }
    if let Some(b) = incident.sector.as_deref() {
        let mut sector = Map::new();
        sector.insert(
            "observer".into(),
            json!({"lon": b.observer.lon_deg, "lat": b.observer.lat_deg}),
        );
        sector.insert("azimuth_deg".into(), json!(b.azimuth_deg));
        sector.insert("sigma_deg".into(), json!(b.sigma_deg));
        if let Some(r) = b.max_range_m {
            sector.insert("max_range_m".into(), json!(r));
        }
        o.insert("sector".into(), Value::Object(sector));
    }
    o
}

/// [`incident_detail_json`] as text: what the store keeps as an incident's `detail`.
pub fn incident_detail_text(incident: &FusedIncident) -> String {
    Value::Object(incident_detail_json(incident)).to_string()
}

/// One incident as its JSON object. `observations` is the slice the incident's member
/// indices refer to.
pub fn incident_json(incident: &FusedIncident, observations: &[Observation]) -> Value {
    let mut o = incident_detail_json(incident);
    o.insert("id".into(), json!(incident.id.as_str()));
    o.insert("status".into(), json!(incident.status.as_str()));
    o.insert("confidence".into(), rounded(incident.confidence, 4));
    o.insert("first_at".into(), json!(time(incident.first_at)));
    o.insert("last_at".into(), json!(time(incident.last_at)));
    o.insert(
        "location".into(),
        match incident.location {
            // 1e-7 degrees is about a centimetre: the digits beyond are arithmetic noise.
            Some((p, u)) => json!({
                "lon": rounded(p.lon_deg, 7),
                "lat": rounded(p.lat_deg, 7),
                "uncertainty_m": rounded(u, 1),
            }),
            None => Value::Null,
        },
    );
    o.insert(
        "kinds".into(),
        incident.kinds.iter().map(|k| json!(k.as_str())).collect(),
    );
    o.insert(
        "members".into(),
        incident
            .members
            .iter()
            .filter_map(|&m| observations.get(m))
            .map(|obs| json!({"source": obs.key.source, "source_ref": obs.key.source_ref}))
            .collect(),
    );
    Value::Object(o)
}

/// Every incident of `fusion`, one JSON object a line, each line ending in `\n`.
pub fn incidents_ndjson(fusion: &Fusion, observations: &[Observation]) -> String {
    let mut out = String::new();
    for incident in &fusion.incidents {
        // A `Value` always serialises.
        out.push_str(&incident_json(incident, observations).to_string());
        out.push('\n');
    }
    out
}

/// One equipment estimate: `{"zone", "party", "class", "lower", "upper", "evidence":
/// [{"source", "source_ref"}]}`.
pub fn equipment_json(estimate: &EquipmentEstimate, observations: &[Observation]) -> Value {
    json!({
        "zone": estimate.zone,
        "party": estimate.party,
        "class": estimate.class.as_str(),
        "lower": estimate.lower,
        "upper": estimate.upper,
        "evidence": estimate
            .evidence
            .iter()
            .filter_map(|&m| observations.get(m))
            .map(|obs| json!({"source": obs.key.source, "source_ref": obs.key.source_ref}))
            .collect::<Vec<Value>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use truce_core::fusion::{Discipline, Reliability, SourceInfo, SourceRegistry, fuse};
    use truce_core::{Bearing, Kind, Location, ObservationKey};
    use truce_geo::LonLat;

    fn observation(source: &str, source_ref: &str, kind: Kind, minute: u32) -> Observation {
        Observation {
            key: ObservationKey {
                source: source.into(),
                source_ref: source_ref.into(),
            },
            kind,
            observed_at: Utc
                .with_ymd_and_hms(2025, 9, 7, 8, minute, 0)
                .single()
                .unwrap_or_default(),
            observed_until: None,
            location: Some(Location {
                position: LonLat::new(37.5, 48.1),
                uncertainty_m: 400.0,
            }),
            bearing: None,
            party: None,
            equipment: None,
            credibility: Some(2),
            text: None,
            evidence: Vec::new(),
            attributes: Default::default(),
        }
    }

    #[test]
    fn an_incident_has_the_keys_of_the_contract() {
        let mut heard = observation("array-1", "b1", Kind::Explosion, 46);
        heard.location = None;
        heard.bearing = Some(Bearing {
            observer: LonLat::new(37.0, 48.0),
            azimuth_deg: 300.0,
            sigma_deg: 2.0,
            max_range_m: Some(10_000.0),
        });
        let observations = [
            observation(
                "firms:viirs:n20",
                "2025-09-07T08:45:00@48.1,37.5",
                Kind::ThermalAnomaly,
                45,
            ),
            observation("patrol-7", "p-1", Kind::Explosion, 50),
            heard,
        ];
        let info = |reliability, discipline| SourceInfo {
            reliability,
            discipline,
        };
        let sources = SourceRegistry {
            entries: vec![
                (
                    "firms:*".into(),
                    info(Reliability::C, Discipline::Satellite),
                ),
                ("patrol-7".into(), info(Reliability::C, Discipline::Patrol)),
            ],
        };
        let fusion = fuse(&observations, &sources);
        let lines: Vec<Value> = incidents_ndjson(&fusion, &observations)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        assert_eq!(
            lines,
            vec![
                json!({
                    "id": "I1", "status": "corroborated", "confidence": 0.7884,
                    "first_at": "2025-09-07T08:45:00Z", "last_at": "2025-09-07T08:50:00Z",
                    "location": {"lon": 37.5, "lat": 48.1, "uncertainty_m": 282.8},
                    "kinds": ["explosion", "thermal_anomaly"],
                    "members": [
                        {"source": "firms:viirs:n20", "source_ref": "2025-09-07T08:45:00@48.1,37.5"},
                        {"source": "patrol-7", "source_ref": "p-1"},
                    ],
                    "reasons": [
                        "source firms:viirs:n20 (C, satellite): 1 report (thermal_anomaly), credibility 2",
                        "source patrol-7 (C, patrol): 1 report (explosion), credibility 2",
                        "corroborated: 2 independent disciplines (satellite, patrol)",
                        "confidence 0.79 = 1 − Π(1 − best report per discipline: satellite 0.54 by firms:viirs:n20; patrol 0.54 by patrol-7)",
                    ],
                    "sources": [
                        {"source": "firms:viirs:n20", "reliability": "C", "discipline": "satellite", "reports": 1, "credibility": 2},
                        {"source": "patrol-7", "reliability": "C", "discipline": "patrol", "reports": 1, "credibility": 2},
                    ],
                }),
                json!({
                    "id": "I2", "status": "reported", "confidence": 0.27,
                    "first_at": "2025-09-07T08:46:00Z", "last_at": "2025-09-07T08:46:00Z",
                    "location": null,
                    "kinds": ["explosion"],
                    "members": [{"source": "array-1", "source_ref": "b1"}],
                    "reasons": [
                        "source array-1 (F, other): 1 report (explosion), credibility 2",
                        "reported: one discipline only (other)",
                        "confidence 0.27 = 1 − Π(1 − best report per discipline: other 0.27 by array-1)",
                    ],
                    "sources": [{"source": "array-1", "reliability": "F", "discipline": "other", "reports": 1, "credibility": 2}],
                    "sector": {"observer": {"lon": 37.0, "lat": 48.0}, "azimuth_deg": 300.0, "sigma_deg": 2.0, "max_range_m": 10000.0},
                }),
            ]
        );
    }
}
