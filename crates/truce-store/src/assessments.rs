//! Agreements and the assessments of observations under them.

use rusqlite::{Connection, OptionalExtension, Statement};
use truce_core::{Assessment, PartySide};

use crate::error::StoreError;
use crate::store::{ObservationId, Store};

/// The agreement an assessment was made under. `version` is the agreement's version hash
/// and the key; `text`, the agreement file, is stored when given (and kept when a later
/// call omits it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgreementRef<'a> {
    pub version: &'a str,
    pub id: &'a str,
    pub text: Option<&'a str>,
}

/// The assessment of one observation, ready to store. The store does not know agreements,
/// so the zone is given by its id (see [`truce_core::ZoneRef::id`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewAssessment<'a> {
    pub side: PartySide,
    /// Distance to the contact line, metres, ≥ 0.
    pub distance_m: f64,
    /// The band's id, or `outside`.
    pub zone_id: &'a str,
}

impl<'a> NewAssessment<'a> {
    /// `zone_id` is `assessment.zone.id(&agreement)`.
    pub fn new(assessment: &Assessment, zone_id: &'a str) -> NewAssessment<'a> {
        NewAssessment {
            side: assessment.side,
            distance_m: assessment.distance_m,
            zone_id,
        }
    }
}

/// An assessment as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAssessment {
    pub observation_id: ObservationId,
    pub agreement_version: String,
    pub side: PartySide,
    pub distance_m: f64,
    pub zone_id: String,
}

/// An agreement as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAgreement {
    pub version: String,
    pub id: String,
    pub text: Option<String>,
}

/// The assessment of an observation under an agreement version is a pure function of the
/// two, so storing it again changes nothing: the first write stands.
pub(crate) const INSERT_ASSESSMENT: &str = "INSERT INTO assessments \
     (agreement_row, observation_id, side, distance_m, zone) VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT DO NOTHING";

pub(crate) fn side_name(side: PartySide) -> &'static str {
    match side {
        PartySide::Inside => "inside",
        PartySide::Outside => "outside",
    }
}

/// Stores one assessment; whether a row was written (false: it was already there).
pub(crate) fn insert_assessment(
    stmt: &mut Statement<'_>,
    agreement_row: i64,
    observation_id: ObservationId,
    assessment: &NewAssessment<'_>,
) -> rusqlite::Result<bool> {
    let written = stmt.execute((
        agreement_row,
        observation_id.0,
        side_name(assessment.side),
        assessment.distance_m,
        assessment.zone_id,
    ))?;
    Ok(written == 1)
}

/// The stored agreement row for `agreement`, added if new (its text added if it was
/// missing), and whether anything was written.
pub(crate) fn upsert_agreement(
    conn: &Connection,
    store: &Store,
    agreement: &AgreementRef<'_>,
) -> Result<(i64, bool), StoreError> {
    let err = store.err("storing an agreement");
    let stored: Option<(i64, String, bool)> = conn
        .prepare_cached(
            "SELECT row_id, agreement_id, text IS NULL FROM agreements WHERE version = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([agreement.version], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()
        })
        .map_err(&err)?;
    match stored {
        Some((_, stored_id, _)) if stored_id != agreement.id => {
            Err(StoreError::AgreementMismatch {
                path: store.path.clone(),
                version: agreement.version.to_owned(),
                stored_id,
                given_id: agreement.id.to_owned(),
            })
        }
        Some((row_id, _, text_missing)) => {
            let Some(text) = agreement.text.filter(|_| text_missing) else {
                return Ok((row_id, false));
            };
            conn.prepare_cached("UPDATE agreements SET text = ?2 WHERE row_id = ?1")
                .and_then(|mut stmt| stmt.execute((row_id, text)))
                .map_err(&err)?;
            Ok((row_id, true))
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO agreements (version, agreement_id, text) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute((agreement.version, agreement.id, agreement.text)))
            .map_err(&err)?;
            Ok((conn.last_insert_rowid(), true))
        }
    }
}

/// Why an assessment cannot be stored, if it cannot (the schema no longer checks it).
pub(crate) fn invalid_assessment_reason(assessment: &NewAssessment<'_>) -> Option<&'static str> {
    (!(assessment.distance_m.is_finite() && assessment.distance_m >= 0.0))
        .then_some("its distance is not a finite number of metres >= 0")
}

impl Store {
    /// Stores the assessments of already stored observations under `agreement`, in one
    /// transaction; returns how many were new. An assessment already stored for the same
    /// observation and agreement version is left as it is.
    pub fn record_assessments(
        &mut self,
        agreement: &AgreementRef<'_>,
        rows: &[(ObservationId, NewAssessment<'_>)],
    ) -> Result<usize, StoreError> {
        let tx = self.begin_write()?;
        let (agreement_row, mut wrote_anything) = upsert_agreement(&tx, self, agreement)?;
        let mut written = 0;
        {
            let mut stmt = tx
                .prepare_cached(INSERT_ASSESSMENT)
                .map_err(self.err("storing an assessment"))?;
            // The ids come from the caller: each is looked up (the schema has no foreign key).
            let mut known = tx
                .prepare_cached("SELECT 1 FROM observations WHERE id = ?1")
                .map_err(self.err("looking up an observation"))?;
            for (observation_id, assessment) in rows {
                if let Some(reason) = invalid_assessment_reason(assessment) {
                    return Err(StoreError::InvalidAssessment {
                        path: self.path.clone(),
                        id: observation_id.0,
                        reason,
                    });
                }
                if !known
                    .exists([observation_id.0])
                    .map_err(self.err("looking up an observation"))?
                {
                    return Err(StoreError::UnknownObservation {
                        path: self.path.clone(),
                        id: observation_id.0,
                    });
                }
                if insert_assessment(&mut stmt, agreement_row, *observation_id, assessment)
                    .map_err(self.err("storing an assessment"))?
                {
                    written += 1;
                }
            }
        }
        wrote_anything |= written > 0;
        if wrote_anything {
            tx.commit().map_err(self.err("committing assessments"))?;
        } else {
            tx.rollback().map_err(self.err("rolling back"))?;
        }
        Ok(written)
    }

    /// The assessment of one observation revision under one agreement version.
    pub fn assessment(
        &self,
        observation_id: ObservationId,
        agreement_version: &str,
    ) -> Result<Option<StoredAssessment>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT a.side, a.distance_m, a.zone FROM assessments AS a \
                 JOIN agreements AS g ON g.row_id = a.agreement_row \
                 WHERE g.version = ?1 AND a.observation_id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row((agreement_version, observation_id.0), |row| {
                    let side = match row.get_ref(0)?.as_str()? {
                        "inside" => PartySide::Inside,
                        _ => PartySide::Outside,
                    };
                    Ok(StoredAssessment {
                        observation_id,
                        agreement_version: agreement_version.to_owned(),
                        side,
                        distance_m: row.get(1)?,
                        zone_id: row.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(self.err("reading an assessment"))
    }

    /// The stored agreement with this version.
    pub fn agreement(&self, version: &str) -> Result<Option<StoredAgreement>, StoreError> {
        self.conn
            .prepare_cached("SELECT version, agreement_id, text FROM agreements WHERE version = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([version], |row| {
                    Ok(StoredAgreement {
                        version: row.get(0)?,
                        id: row.get(1)?,
                        text: row.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(self.err("reading an agreement"))
    }
}
