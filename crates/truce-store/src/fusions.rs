//! Fusions: the incidents and equipment estimates that one run of the fusion engine drew
//! from stored observations, written in one transaction and kept as they were made.

use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, Transaction};
use sha2::{Digest, Sha256};
use truce_core::fusion::{FusedIncident, Fusion, IncidentStatus};
use truce_core::{EquipmentClass, Kind, KindSet};
use truce_geo::LonLat;

use crate::assessments::{AgreementRef, upsert_agreement};
use crate::error::StoreError;
use crate::store::{ObservationId, Store, time_from_row};

/// A fusion row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FusionId(pub i64);

/// A fusion to store: what was fused, and with what. It borrows everything.
#[derive(Clone, Copy, Debug)]
pub struct NewFusion<'a> {
    /// When it was made. The store reads no clock.
    pub made_at: DateTime<Utc>,
    /// What was fused, e.g. `current observations`.
    pub label: &'a str,
    /// The sources registry (`sources.csv`) the incidents were graded with; `None`: none
    /// (every source graded F).
    pub sources_csv: Option<&'a str>,
    /// The agreement equipment was counted under, if any.
    pub agreement: Option<AgreementRef<'a>>,
}

/// One incident of a fusion, ready to store.
#[derive(Clone, Copy, Debug)]
pub struct NewIncident<'a> {
    /// E.g. `I42`.
    pub id: &'a str,
    pub status: IncidentStatus,
    /// 0..=1.
    pub confidence: f64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Where and its uncertainty in metres; `None` for an incident known only by a bearing.
    pub location: Option<(LonLat, f64)>,
    pub kinds: KindSet,
    /// Its members, stored observations, ascending.
    pub members: &'a [ObservationId],
    /// A JSON object: what explains the incident (reasons, sources and their grades),
    /// stored verbatim.
    pub detail_json: &'a str,
}

/// One equipment estimate of a fusion, ready to store.
#[derive(Clone, Copy, Debug)]
pub struct NewEquipment<'a> {
    pub zone: &'a str,
    pub party: &'a str,
    pub class: EquipmentClass,
    pub lower: u32,
    pub upper: u32,
    /// The sightings behind it: members of the fusion's incidents.
    pub evidence: &'a [ObservationId],
}

/// The result of [`FusionWriter::commit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FusionReport {
    /// The fusion stored, or the one already stored with the same content.
    pub fusion_id: FusionId,
    /// The same fusion (the same content, sources and agreement) was already stored: nothing
    /// was written.
    pub duplicate: bool,
    pub incidents: usize,
    /// Observations fused: the members of all incidents.
    pub observations: usize,
    pub equipment: usize,
}

/// A stored fusion, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFusion {
    pub id: FusionId,
    pub made_at: DateTime<Utc>,
    pub label: String,
    pub sources_csv: Option<String>,
    /// The version of the agreement equipment was counted under.
    pub agreement_version: Option<String>,
    pub observation_count: i64,
    pub incident_count: i64,
    pub equipment_count: i64,
    pub content_sha256: [u8; 32],
}

/// A stored incident, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredIncident {
    pub fusion_id: FusionId,
    /// 1, 2, … in the fusion's order.
    pub number: i64,
    pub id: String,
    pub status: IncidentStatus,
    pub confidence: f64,
    /// Floored to the second.
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub location: Option<(LonLat, f64)>,
    pub kinds: KindSet,
    pub members: Vec<ObservationId>,
    pub detail_json: String,
}

/// A stored equipment estimate, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEquipment {
    pub number: i64,
    pub zone: String,
    pub party: String,
    pub class: EquipmentClass,
    pub lower: i64,
    pub upper: i64,
    pub evidence: Vec<ObservationId>,
}

/// A fusion being written: one open write transaction that incidents and estimates are
/// added to. Nothing is visible to other connections until [`FusionWriter::commit`];
/// dropping the writer (or an error on the way) rolls everything back.
pub struct FusionWriter<'s> {
    store: &'s Store,
    tx: Transaction<'s>,
    fusion_id: i64,
    made_at_s: i64,
    label: String,
    sources_csv: Option<String>,
    agreement_row: Option<i64>,
    incidents: i64,
    equipment: i64,
    /// (observation id, incident number) of every member so far.
    members: Vec<(i64, i64)>,
    /// Equipment evidence, checked against the members when committing.
    evidence: Vec<i64>,
    content: Sha256,
    /// Scratch for `member_ids` and `evidence_ids`.
    ids_json: String,
}

impl std::fmt::Debug for FusionWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FusionWriter")
            .field("fusion_id", &self.fusion_id)
            .field("incidents", &self.incidents)
            .finish()
    }
}

/// Incidents whose details are made at a time, while the previous ones are written.
const DETAIL_CHUNK: usize = 4096;

const INSERT_INCIDENT: &str = "INSERT INTO incidents (fusion_id, number, id, status, \
     confidence, first_at_s, last_at_s, lon, lat, uncertainty_m, kinds, member_ids, detail) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

impl Store {
    /// Starts storing a fusion: takes the write lock (waiting for another writer up to the
    /// busy timeout) and opens its transaction.
    pub fn begin_fusion<'s>(
        &'s mut self,
        fusion: &NewFusion<'_>,
    ) -> Result<FusionWriter<'s>, StoreError> {
        let store: &'s Store = self;
        let tx = store.begin_write()?;
        let agreement_row = match &fusion.agreement {
            Some(agreement) => Some(upsert_agreement(&tx, store, agreement)?.0),
            None => None,
        };
        // The fusion's row is written last (its counts and hash are known then, and stored
        // fusions are never updated); holding the write lock, the next id is ours.
        let fusion_id: i64 = tx
            .query_row("SELECT coalesce(max(id), 0) + 1 FROM fusions", [], |row| {
                row.get(0)
            })
            .map_err(store.err("numbering a fusion"))?;
        let mut content = Sha256::new();
        hash_option(&mut content, fusion.sources_csv);
        hash_option(&mut content, fusion.agreement.map(|a| a.version));
        Ok(FusionWriter {
            store,
            tx,
            fusion_id,
            made_at_s: fusion.made_at.timestamp(),
            label: fusion.label.to_owned(),
            sources_csv: fusion.sources_csv.map(str::to_owned),
            agreement_row,
            incidents: 0,
            equipment: 0,
            members: Vec::new(),
            evidence: Vec::new(),
            content,
            ids_json: String::new(),
        })
    }

    /// Stores `fusion` in one transaction ([`Store::begin_fusion`], each incident and
    /// estimate added in its order, [`FusionWriter::commit`]). Its observation `i` (a member
    /// index) is the stored observation `ids[i]`; `detail` gives each incident's
    /// [`NewIncident::detail_json`] (called on another thread, ahead of the writer).
    pub fn record_fusion(
        &mut self,
        new: &NewFusion<'_>,
        fusion: &Fusion,
        ids: &[ObservationId],
        detail: impl Fn(&FusedIncident) -> String + Sync,
    ) -> Result<FusionReport, StoreError> {
        let path = self.path.clone();
        let stored = |indices: &[usize], out: &mut Vec<ObservationId>| {
            out.clear();
            for &i in indices {
                let Some(&id) = ids.get(i) else {
                    return Err(invalid_fusion(
                        &path,
                        format!("observation {i} of the fusion has no stored id"),
                    ));
                };
                out.push(id);
            }
            out.sort_unstable();
            Ok(())
        };
        let mut writer = self.begin_fusion(new)?;
        let mut members = Vec::new();
        // The details are made on a thread of their own, a chunk ahead of the writer.
        std::thread::scope(|scope| {
            let (chunks, details) = std::sync::mpsc::sync_channel::<Vec<String>>(2);
            let detail = &detail;
            scope.spawn(move || {
                for chunk in fusion.incidents.chunks(DETAIL_CHUNK) {
                    // The writer stopped (an error): so does this.
                    if chunks.send(chunk.iter().map(detail).collect()).is_err() {
                        break;
                    }
                }
            });
            for (chunk, details) in fusion.incidents.chunks(DETAIL_CHUNK).zip(details) {
                for (incident, detail_json) in chunk.iter().zip(&details) {
                    stored(&incident.members, &mut members)?;
                    writer.add_incident(&NewIncident {
                        id: &incident.id,
                        status: incident.status,
                        confidence: incident.confidence,
                        first_at: incident.first_at,
                        last_at: incident.last_at,
                        location: incident.location,
                        kinds: incident.kinds,
                        members: &members,
                        detail_json,
                    })?;
                }
            }
            Ok::<(), StoreError>(())
        })?;
        for estimate in &fusion.equipment {
            stored(&estimate.evidence, &mut members)?;
            writer.add_equipment(&NewEquipment {
                zone: &estimate.zone,
                party: &estimate.party,
                class: estimate.class,
                lower: estimate.lower,
                upper: estimate.upper,
                evidence: &members,
            })?;
        }
        writer.commit()
    }

    /// The stored fusions, oldest first.
    pub fn fusions(&self) -> Result<Vec<StoredFusion>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT f.id, f.made_at_s, f.label, f.sources, g.version, f.observation_count, \
                 f.incident_count, f.equipment_count, f.content_sha256 FROM fusions AS f \
                 LEFT JOIN agreements AS g ON g.row_id = f.agreement_row ORDER BY f.id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok(StoredFusion {
                        id: FusionId(row.get(0)?),
                        made_at: time_from_row(row, 1)?,
                        label: row.get(2)?,
                        sources_csv: row.get(3)?,
                        agreement_version: row.get(4)?,
                        observation_count: row.get(5)?,
                        incident_count: row.get(6)?,
                        equipment_count: row.get(7)?,
                        content_sha256: row.get(8)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("listing fusions"))
    }

    /// Incident `number` of a fusion.
    pub fn incident(
        &self,
        fusion: FusionId,
        number: i64,
    ) -> Result<Option<StoredIncident>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT fusion_id, number, id, status, confidence, first_at_s, last_at_s, lon, \
                 lat, uncertainty_m, kinds, member_ids, detail FROM incidents \
                 WHERE fusion_id = ?1 AND number = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row((fusion.0, number), incident_from_row)
                    .optional()
            })
            .map_err(self.err("reading an incident"))
    }

    /// The incident of a fusion that an observation is a member of (`None`: it was not
    /// fused in that fusion).
    pub fn incident_of(
        &self,
        fusion: FusionId,
        observation: ObservationId,
    ) -> Result<Option<StoredIncident>, StoreError> {
        let number: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT incident_number FROM incident_members \
                 WHERE fusion_id = ?1 AND observation_id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row((fusion.0, observation.0), |row| row.get(0))
                    .optional()
            })
            .map_err(self.err("reading an incident's members"))?;
        match number {
            Some(number) => self.incident(fusion, number),
            None => Ok(None),
        }
    }

    /// The equipment estimates of a fusion, in its order.
    pub fn fusion_equipment(&self, fusion: FusionId) -> Result<Vec<StoredEquipment>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT number, zone, party, class, lower, upper, evidence_ids \
                 FROM fusion_equipment WHERE fusion_id = ?1 ORDER BY number",
            )
            .and_then(|mut stmt| {
                stmt.query_map([fusion.0], |row| {
                    let class_name = row.get_ref(3)?.as_str()?;
                    let class = EquipmentClass::from_wire(class_name).ok_or_else(|| {
                        conversion_error(3, Type::Text, format!("unknown class {class_name:?}"))
                    })?;
                    Ok(StoredEquipment {
                        number: row.get(0)?,
                        zone: row.get(1)?,
                        party: row.get(2)?,
                        class,
                        lower: row.get(4)?,
                        upper: row.get(5)?,
                        evidence: ids_from_json(row, 6)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading equipment estimates"))
    }
}

impl FusionWriter<'_> {
    /// Adds the next incident (numbered 1, 2, … in the order added).
    ///
    /// An incident that cannot be stored (no members, members not ascending, a confidence
    /// outside 0..=1, a location that is not finite or out of range, a last time before its
    /// first) fails the fusion with [`StoreError::InvalidFusion`].
    pub fn add_incident(&mut self, incident: &NewIncident<'_>) -> Result<(), StoreError> {
        let number = self.incidents + 1;
        if let Some(reason) = invalid_incident_reason(incident) {
            return Err(self.invalid(format!("incident {} ({number}) {reason}", incident.id)));
        }
        write_ids(&mut self.ids_json, incident.members);
        let kinds = kinds_text(incident.kinds);
        let (lon, lat, uncertainty_m) = match incident.location {
            Some((p, u)) => (Some(p.lon_deg), Some(p.lat_deg), Some(u)),
            None => (None, None, None),
        };
        let (first_at_s, last_at_s) = (incident.first_at.timestamp(), incident.last_at.timestamp());
        self.tx
            .prepare_cached(INSERT_INCIDENT)
            .and_then(|mut stmt| {
                stmt.execute(rusqlite::params![
                    self.fusion_id,
                    number,
                    incident.id,
                    incident.status.as_str(),
                    incident.confidence,
                    first_at_s,
                    last_at_s,
                    lon,
                    lat,
                    uncertainty_m,
                    kinds,
                    self.ids_json,
                    incident.detail_json,
                ])
            })
            .map_err(self.store.err("storing an incident"))?;
        let content = &mut self.content;
        hash_field(content, "incident");
        hash_field(content, incident.id);
        hash_field(content, incident.status.as_str());
        content.update(incident.confidence.to_bits().to_le_bytes());
        content.update(first_at_s.to_le_bytes());
        content.update(last_at_s.to_le_bytes());
        for x in [lon, lat, uncertainty_m] {
            content.update(x.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        }
        hash_field(content, &kinds);
        hash_field(content, &self.ids_json);
        hash_field(content, incident.detail_json);
        self.members
            .extend(incident.members.iter().map(|m| (m.0, number)));
        self.incidents = number;
        Ok(())
    }

    /// Adds the next equipment estimate (numbered 1, 2, … in the order added). Its evidence
    /// must be members of the fusion's incidents (checked when committing).
    pub fn add_equipment(&mut self, estimate: &NewEquipment<'_>) -> Result<(), StoreError> {
        let number = self.equipment + 1;
        if estimate.lower > estimate.upper {
            return Err(self.invalid(format!(
                "equipment estimate {number} has a lower bound {} above its upper bound {}",
                estimate.lower, estimate.upper
            )));
        }
        write_ids(&mut self.ids_json, estimate.evidence);
        self.tx
            .prepare_cached(
                "INSERT INTO fusion_equipment (fusion_id, number, zone, party, class, lower, \
                 upper, evidence_ids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    self.fusion_id,
                    number,
                    estimate.zone,
                    estimate.party,
                    estimate.class.as_str(),
                    estimate.lower,
                    estimate.upper,
                    &self.ids_json,
                ))
            })
            .map_err(self.store.err("storing an equipment estimate"))?;
        let content = &mut self.content;
        hash_field(content, "equipment");
        hash_field(content, estimate.zone);
        hash_field(content, estimate.party);
        hash_field(content, estimate.class.as_str());
        content.update(estimate.lower.to_le_bytes());
        content.update(estimate.upper.to_le_bytes());
        hash_field(content, &self.ids_json);
        self.evidence.extend(estimate.evidence.iter().map(|e| e.0));
        self.equipment = number;
        Ok(())
    }

    /// Checks that every member is a stored observation, in one incident only, and every
    /// piece of equipment evidence a member; then commits: durable (synced) when this
    /// returns. A fusion whose content, sources and agreement are those of a stored one is
    /// rolled back instead, and the report names the stored one.
    pub fn commit(self) -> Result<FusionReport, StoreError> {
        let FusionWriter {
            store,
            tx,
            fusion_id,
            made_at_s,
            label,
            sources_csv,
            agreement_row,
            incidents,
            equipment,
            mut members,
            mut evidence,
            content,
            ..
        } = self;
        let invalid = |reason| invalid_fusion(&store.path, reason);
        // A fusion already stored (its content, members included, hashed as it was added) is
        // not written again.
        let content_sha256: [u8; 32] = content.finalize().into();
        let report = |fusion_id, duplicate, observations| FusionReport {
            fusion_id: FusionId(fusion_id),
            duplicate,
            incidents: incidents as usize,
            observations,
            equipment: equipment as usize,
        };
        let stored: Option<i64> = tx
            .prepare_cached("SELECT min(id) FROM fusions WHERE content_sha256 = ?1")
            .and_then(|mut stmt| stmt.query_row([&content_sha256[..]], |row| row.get(0)))
            .map_err(store.err("looking up a fusion"))?;
        if let Some(stored) = stored {
            tx.rollback()
                .map_err(store.err("rolling back a fusion already stored"))?;
            return Ok(report(stored, true, members.len()));
        }
        // In observation order, the members table is written front to back.
        members.sort_unstable();
        if let Some(pair) = members.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(invalid(format!(
                "observation {} is a member of incidents {} and {}",
                pair[0].0, pair[0].1, pair[1].1
            )));
        }
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO incident_members (fusion_id, observation_id, incident_number) \
                     VALUES (?1, ?2, ?3)",
                )
                .map_err(store.err("storing an incident's members"))?;
            for &(observation, number) in &members {
                insert
                    .execute((fusion_id, observation, number))
                    .map_err(store.err("storing an incident's members"))?;
            }
        }
        // Every member a stored observation (the schema has no foreign key): one statement,
        // which walks both tables in id order. It reads the observations' pages, bodies and
        // all (some 1.5 s at 3×10⁶ members, `docs/benchmarks.md`).
        let unknown: Option<(i64, i64)> = tx
            .prepare_cached(
                "SELECT m.observation_id, m.incident_number FROM incident_members AS m \
                 WHERE m.fusion_id = ?1 AND NOT EXISTS \
                 (SELECT 1 FROM observations AS o WHERE o.id = m.observation_id) LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([fusion_id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(store.err("looking up the members"))?;
        if let Some((observation, number)) = unknown {
            return Err(invalid(format!(
                "incident {number} has a member {observation} that is not a stored observation"
            )));
        }
        evidence.sort_unstable();
        evidence.dedup();
        if let Some(e) = evidence
            .iter()
            .find(|&&e| members.binary_search_by_key(&e, |m| m.0).is_err())
        {
            return Err(invalid(format!(
                "equipment evidence {e} is not a member of any incident"
            )));
        }
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        tx.prepare_cached(
            "INSERT INTO fusions (id, made_at_s, label, sources, agreement_row, \
             observation_count, incident_count, equipment_count, content_sha256) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut stmt| {
            stmt.execute(rusqlite::params![
                fusion_id,
                made_at_s,
                label,
                sources_csv,
                agreement_row,
                count(members.len()),
                incidents,
                equipment,
                &content_sha256[..],
            ])
        })
        .map_err(store.err("storing a fusion"))?;
        tx.commit().map_err(store.err("committing a fusion"))?;
        Ok(report(fusion_id, false, members.len()))
    }

    fn invalid(&self, reason: String) -> StoreError {
        invalid_fusion(&self.store.path, reason)
    }
}

fn invalid_fusion(path: &std::path::Path, reason: String) -> StoreError {
    StoreError::InvalidFusion {
        path: path.to_path_buf(),
        reason,
    }
}

/// Why an incident cannot be stored, if it cannot.
fn invalid_incident_reason(incident: &NewIncident<'_>) -> Option<&'static str> {
    if incident.members.is_empty() {
        return Some("has no members");
    }
    if incident.members.windows(2).any(|w| w[0] >= w[1]) {
        return Some("has members that are not ascending");
    }
    if !(0.0..=1.0).contains(&incident.confidence) {
        return Some("has a confidence outside 0..=1");
    }
    if incident.last_at < incident.first_at {
        return Some("ends before it begins");
    }
    if let Some((p, u)) = incident.location {
        if !(p.lon_deg.is_finite() && p.lat_deg.is_finite() && u.is_finite() && u >= 0.0) {
            return Some("has a location or uncertainty that is not finite");
        }
        if !(-180.0..=180.0).contains(&p.lon_deg) || !(-90.0..=90.0).contains(&p.lat_deg) {
            return Some("has a location out of range");
        }
    }
    None
}

/// A field of the content hash: its length, then its bytes (so that no two sequences of
/// fields hash alike).
fn hash_field(content: &mut Sha256, text: &str) {
    content.update((text.len() as u64).to_le_bytes());
    content.update(text.as_bytes());
}

/// An optional field of the content hash: whether it is there, then the field.
fn hash_option(content: &mut Sha256, text: Option<&str>) {
    content.update([u8::from(text.is_some())]);
    hash_field(content, text.unwrap_or_default());
}

/// `ids` as a JSON array, into `out`.
fn write_ids(out: &mut String, ids: &[ObservationId]) {
    use std::fmt::Write;
    out.clear();
    out.push('[');
    for (k, id) in ids.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{}", id.0);
    }
    out.push(']');
}

fn kinds_text(kinds: KindSet) -> String {
    let mut text = String::new();
    for kind in kinds.iter() {
        if !text.is_empty() {
            text.push(',');
        }
        text.push_str(kind.as_str());
    }
    text
}

fn conversion_error(index: usize, t: Type, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, t, message.into())
}

/// A JSON array of ids, as [`write_ids`] writes them.
fn ids_from_json(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<ObservationId>> {
    let text = row.get_ref(index)?.as_str()?;
    let bad = || conversion_error(index, Type::Text, format!("not an array of ids: {text:?}"));
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(bad)?;
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|id| id.parse().map(ObservationId).map_err(|_| bad()))
        .collect()
}

fn incident_from_row(row: &Row<'_>) -> rusqlite::Result<StoredIncident> {
    let status_name = row.get_ref(3)?.as_str()?;
    let status = IncidentStatus::from_wire(status_name).ok_or_else(|| {
        conversion_error(3, Type::Text, format!("unknown status {status_name:?}"))
    })?;
    let kinds_name = row.get_ref(10)?.as_str()?;
    let kinds = kinds_name
        .split(',')
        .filter(|k| !k.is_empty())
        .map(|k| {
            Kind::from_wire(k)
                .ok_or_else(|| conversion_error(10, Type::Text, format!("unknown kind {k:?}")))
        })
        .collect::<rusqlite::Result<KindSet>>()?;
    let lon: Option<f64> = row.get(7)?;
    let lat: Option<f64> = row.get(8)?;
    let uncertainty_m: Option<f64> = row.get(9)?;
    let location = match (lon, lat, uncertainty_m) {
        (Some(lon), Some(lat), Some(u)) => Some((LonLat::new(lon, lat), u)),
        _ => None,
    };
    Ok(StoredIncident {
        fusion_id: FusionId(row.get(0)?),
        number: row.get(1)?,
        id: row.get(2)?,
        status,
        confidence: row.get(4)?,
        first_at: time_from_row(row, 5)?,
        last_at: time_from_row(row, 6)?,
        location,
        kinds,
        members: ids_from_json(row, 11)?,
        detail_json: row.get(12)?,
    })
}
