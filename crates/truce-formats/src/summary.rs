//! The replay summary as the JSON document of `shared/spec/replay.md`.

use serde_json::{Map, Value, json};
use truce_core::Agreement;
use truce_core::replay::{PartyCounts, ReplaySummary};

/// Whether the per-party objects carry an `incidents` count (`replay`) or not (`assess`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incidents {
    Included,
    Omitted,
}

/// `{"agreement", "agreement_version", "observations_total", "by_day", "totals", ...}`.
/// Zone keys are the agreement's zone ids plus `outside`; party keys are its party ids.
pub fn summary_json(agreement: &Agreement, summary: &ReplaySummary, incidents: Incidents) -> Value {
    let parties = |counts: &[PartyCounts]| -> Value {
        let mut by_party = Map::new();
        for (party, c) in agreement.parties.iter().zip(counts) {
            let mut zones = Map::new();
            for (i, zone) in agreement.zones.iter().enumerate() {
                zones.insert(zone.id.clone(), json!(c.by_zone[i]));
            }
            zones.insert("outside".into(), json!(c.by_zone[agreement.zones.len()]));
            if incidents == Incidents::Included {
                zones.insert("incidents".into(), json!(c.incidents));
            }
            by_party.insert(party.id.clone(), Value::Object(zones));
        }
        Value::Object(by_party)
    };
    let by_day: Map<String, Value> = summary
        .by_day
        .iter()
        .map(|(day, counts)| (day.format("%Y-%m-%d").to_string(), parties(counts)))
        .collect();
    let mut doc = json!({
        "agreement": agreement.id,
        "agreement_version": agreement.version,
        "observations_total": summary.observations_total,
        "by_day": by_day,
        "totals": parties(&summary.totals),
    });
    if incidents == Incidents::Included {
        doc["incidents_total"] = json!(summary.incidents.len());
    }
    doc
}
