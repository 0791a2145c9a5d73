//! The store's SQLite schema and its numbered migrations.
//!
//! # Versioning
//!
//! `PRAGMA user_version` holds the number of migrations applied; [`MIGRATIONS`]`[i]` takes a
//! store from version `i` to `i + 1`, in one transaction together with the new
//! `user_version` (see `migrate.rs`). A store with a version above [`SCHEMA_VERSION`] is
//! refused unchanged. `PRAGMA application_id` is [`APPLICATION_ID`] (`TRUC`) so that a SQLite
//! file of some other program is recognised and refused too. Migrations are append-only: a
//! released one is never edited, a change is a new one.
//!
//! # Tables (version 1)
//!
//! Times are integer Unix seconds, UTC (`*_s` columns); the exact timestamp, sub-second part
//! included, stays in the observation's JSON body. Coordinates are WGS84 degrees, (lon, lat).
//!
//! `batches`: one row per ingested batch (a file, an HTTP submission) that wrote at least one
//! row. A batch made only of duplicates writes nothing, not even this row.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `id` | INTEGER PRIMARY KEY | batch id |
//! | `label` | TEXT NOT NULL | file name or other label given by the caller |
//! | `received_at_s` | INTEGER NOT NULL | when the batch was received; the ingest time of every observation it brought |
//! | `record_count` | INTEGER NOT NULL | records in the batch, duplicates included |
//! | `new_count`, `revised_count`, `duplicate_count` | INTEGER NOT NULL | the outcome counts |
//!
//! `observations`: append-only (triggers refuse UPDATE and DELETE). One row per revision.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `id` | INTEGER PRIMARY KEY | observation row id ([`crate::ObservationId`]) |
//! | `source`, `source_ref` | TEXT NOT NULL | the idempotency key (1–128 and 1–256 chars) |
//! | `revision` | INTEGER NOT NULL | 1 for the first report of a key, n + 1 for each correction |
//! | `content_sha256` | BLOB NOT NULL | SHA-256 (32 bytes) of `body`; equal hash ⇒ duplicate |
//! | `body` | TEXT NOT NULL | the canonical JSON of the observation |
//! | `kind` | TEXT NOT NULL | the wire name of the kind, e.g. `thermal_anomaly` |
//! | `observed_at_s` | INTEGER NOT NULL | when it happened (start), floored to the second |
//! | `lon`, `lat` | REAL | position in degrees, both NULL for an unlocated (bearing-only) report |
//! | `batch_id` | INTEGER NOT NULL → `batches` | the batch that brought this revision |
//!
//! The unique index `observations_key (source, source_ref, revision)` is the idempotency
//! index; the current revision of a key is the one with the highest `revision`, which the
//! view `current_observations` selects.
//!
//! `agreements`: the agreements that assessments were made under.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `row_id` | INTEGER PRIMARY KEY | internal: assessments refer to it rather than repeat the long version hash |
//! | `version` | TEXT NOT NULL UNIQUE | the agreement's version hash |
//! | `agreement_id` | TEXT NOT NULL | the agreement's id |
//! | `text` | TEXT | the agreement file's text, if given |
//!
//! `assessments`: the geometry of one observation revision under one agreement version;
//! primary key (`agreement_row`, `observation_id`), WITHOUT ROWID.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `agreement_row` | INTEGER NOT NULL → `agreements.row_id` | the agreement version |
//! | `observation_id` | INTEGER NOT NULL → `observations` | the revision assessed |
//! | `side` | TEXT NOT NULL | `inside` or `outside` the control polygon |
//! | `distance_m` | REAL NOT NULL | distance to the contact line, metres, ≥ 0 |
//! | `zone` | TEXT NOT NULL | the zone id (a band's id, or `outside`) |
//!
//! # Version 2: the same tables without per-row constraints
//!
//! Migration 2 rebuilds `observations` and `assessments` with the same columns, the same
//! idempotency index, triggers and view, but without the `CHECK` constraints and foreign keys
//! of version 1. SQLite evaluated them on every inserted row (a length, a range, a parent
//! lookup in `batches`, `agreements` and `observations` for each row): about a quarter of the
//! writer's time in a bulk ingest. The store is the only writer and guarantees the same by
//! construction: the batch writer checks every record before it reaches SQLite (lengths of
//! `source` and `source_ref`, finite coordinates in range, a finite distance ≥ 0; see
//! `batch.rs`), the references it writes are rows of its own transaction, and
//! `record_assessments` looks each observation id up before storing its assessment.
//!
//! # Version 3: fusions
//!
//! A fusion is one run of the fusion engine over a set of stored observations, kept with
//! what it concluded; fusions are append-only, like observations (triggers refuse UPDATE and
//! DELETE), so that a finding can always be traced to the run it came from.
//!
//! `fusions`: one row per stored fusion.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `id` | INTEGER PRIMARY KEY | fusion id ([`crate::FusionId`]) |
//! | `made_at_s` | INTEGER NOT NULL | when it was made |
//! | `label` | TEXT NOT NULL | what was fused, e.g. `current observations` |
//! | `sources` | TEXT | the sources registry (`sources.csv`) it graded with; NULL: none (every source F) |
//! | `agreement_row` | INTEGER | the agreement (`agreements.row_id`) equipment was counted under, if any |
//! | `observation_count`, `incident_count`, `equipment_count` | INTEGER NOT NULL | its size |
//! | `content_sha256` | BLOB NOT NULL | SHA-256 of its content (its rows in the tables below, `sources` and the agreement's version; not `made_at_s` or `label`): equal ⇒ the same fusion, stored once |
//!
//! `incidents`: the incidents of a fusion; primary key (`fusion_id`, `number`), WITHOUT
//! ROWID, written in `number` order.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `fusion_id` | INTEGER NOT NULL | the fusion |
//! | `number` | INTEGER NOT NULL | 1, 2, … in the fusion's order |
//! | `id` | TEXT NOT NULL | the incident's id, e.g. `I42` |
//! | `status` | TEXT NOT NULL | `reported`, `corroborated`, `confirmed` or `dismissed` |
//! | `confidence` | REAL NOT NULL | 0..=1 |
//! | `first_at_s`, `last_at_s` | INTEGER NOT NULL | its first and last member's time, floored to the second |
//! | `lon`, `lat`, `uncertainty_m` | REAL | its location, all NULL for an incident known only by a bearing |
//! | `kinds` | TEXT NOT NULL | its members' kinds, wire names joined by `,` |
//! | `member_ids` | TEXT NOT NULL | its members' observation ids, ascending, as a JSON array |
//! | `detail` | TEXT NOT NULL | JSON: the reasons, the sources with their grades, the fix or sector (the export of `incidents --json` without its members) |
//!
//! `incident_members`: which incident of a fusion each observation is in; primary key
//! (`fusion_id`, `observation_id`), WITHOUT ROWID, so an observation is in at most one
//! incident of a fusion (the writer checks it is in exactly one: every observation fused is
//! a member). Written in `observation_id` order.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `fusion_id` | INTEGER NOT NULL | the fusion |
//! | `observation_id` | INTEGER NOT NULL | the observation revision fused |
//! | `incident_number` | INTEGER NOT NULL | its incident's `number` |
//!
//! `fusion_equipment`: the equipment estimates of a fusion; primary key (`fusion_id`,
//! `number`), WITHOUT ROWID.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `fusion_id`, `number` | INTEGER NOT NULL | the fusion; 1, 2, … in its order |
//! | `zone`, `party`, `class` | TEXT NOT NULL | where, whose, what (an equipment class's wire name) |
//! | `lower`, `upper` | INTEGER NOT NULL | the bounds of the count |
//! | `evidence_ids` | TEXT NOT NULL | the sightings' observation ids, as a JSON array |

/// `PRAGMA application_id` of a Truce store: the bytes `TRUC`.
pub const APPLICATION_ID: i64 = 0x5452_5543;

/// The schema version this build writes and understands: the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `MIGRATIONS[i]` takes a store from schema version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[MIGRATION_1, MIGRATION_2, MIGRATION_3];

const MIGRATION_1: &str = "
PRAGMA application_id = 1414681923;

CREATE TABLE batches (
    id              INTEGER PRIMARY KEY,
    label           TEXT    NOT NULL,
    received_at_s   INTEGER NOT NULL,
    record_count    INTEGER NOT NULL CHECK (record_count >= 0),
    new_count       INTEGER NOT NULL CHECK (new_count >= 0),
    revised_count   INTEGER NOT NULL CHECK (revised_count >= 0),
    duplicate_count INTEGER NOT NULL CHECK (duplicate_count >= 0)
);

CREATE TABLE observations (
    id             INTEGER PRIMARY KEY,
    source         TEXT    NOT NULL CHECK (length(source) BETWEEN 1 AND 128),
    source_ref     TEXT    NOT NULL CHECK (length(source_ref) BETWEEN 1 AND 256),
    revision       INTEGER NOT NULL CHECK (revision >= 1),
    content_sha256 BLOB    NOT NULL CHECK (length(content_sha256) = 32),
    body           TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    observed_at_s  INTEGER NOT NULL,
    lon            REAL    CHECK (lon BETWEEN -180.0 AND 180.0),
    lat            REAL    CHECK (lat BETWEEN -90.0 AND 90.0),
    batch_id       INTEGER NOT NULL REFERENCES batches (id),
    CHECK ((lon IS NULL) = (lat IS NULL))
);

CREATE UNIQUE INDEX observations_key ON observations (source, source_ref, revision);

CREATE TRIGGER observations_no_update BEFORE UPDATE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are immutable: a correction is a new revision');
END;

CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are immutable: a correction is a new revision');
END;

CREATE VIEW current_observations AS
SELECT o.*
FROM observations AS o
WHERE NOT EXISTS (
    SELECT 1 FROM observations AS later
    WHERE later.source = o.source
      AND later.source_ref = o.source_ref
      AND later.revision > o.revision
);

CREATE TABLE agreements (
    row_id       INTEGER PRIMARY KEY,
    version      TEXT    NOT NULL UNIQUE,
    agreement_id TEXT    NOT NULL,
    text         TEXT
);

CREATE TABLE assessments (
    agreement_row  INTEGER NOT NULL REFERENCES agreements (row_id),
    observation_id INTEGER NOT NULL REFERENCES observations (id),
    side           TEXT    NOT NULL CHECK (side IN ('inside', 'outside')),
    distance_m     REAL    NOT NULL CHECK (distance_m >= 0.0),
    zone           TEXT    NOT NULL,
    PRIMARY KEY (agreement_row, observation_id)
) WITHOUT ROWID;
";

/// Rebuilds `observations` and `assessments` without `CHECK` constraints and foreign keys
/// (see the module documentation), keeping every row and row id. `assessments` goes first:
/// with foreign keys on, dropping `observations` while `assessments` refers to it would fail.
const MIGRATION_2: &str = "
DROP VIEW current_observations;

CREATE TABLE assessments_v2 (
    agreement_row  INTEGER NOT NULL,
    observation_id INTEGER NOT NULL,
    side           TEXT    NOT NULL,
    distance_m     REAL    NOT NULL,
    zone           TEXT    NOT NULL,
    PRIMARY KEY (agreement_row, observation_id)
) WITHOUT ROWID;
INSERT INTO assessments_v2 (agreement_row, observation_id, side, distance_m, zone)
    SELECT agreement_row, observation_id, side, distance_m, zone FROM assessments;
DROP TABLE assessments;
ALTER TABLE assessments_v2 RENAME TO assessments;

CREATE TABLE observations_v2 (
    id             INTEGER PRIMARY KEY,
    source         TEXT    NOT NULL,
    source_ref     TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    content_sha256 BLOB    NOT NULL,
    body           TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    observed_at_s  INTEGER NOT NULL,
    lon            REAL,
    lat            REAL,
    batch_id       INTEGER NOT NULL
);
INSERT INTO observations_v2 (id, source, source_ref, revision, content_sha256, body, kind,
                             observed_at_s, lon, lat, batch_id)
    SELECT id, source, source_ref, revision, content_sha256, body, kind,
           observed_at_s, lon, lat, batch_id
    FROM observations ORDER BY id;
DROP TABLE observations;
ALTER TABLE observations_v2 RENAME TO observations;

CREATE UNIQUE INDEX observations_key ON observations (source, source_ref, revision);

CREATE TRIGGER observations_no_update BEFORE UPDATE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are immutable: a correction is a new revision');
END;

CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are immutable: a correction is a new revision');
END;

CREATE VIEW current_observations AS
SELECT o.*
FROM observations AS o
WHERE NOT EXISTS (
    SELECT 1 FROM observations AS later
    WHERE later.source = o.source
      AND later.source_ref = o.source_ref
      AND later.revision > o.revision
);
";

/// Adds the fusions and what they concluded (see the module documentation).
const MIGRATION_3: &str = "
CREATE TABLE fusions (
    id                INTEGER PRIMARY KEY,
    made_at_s         INTEGER NOT NULL,
    label             TEXT    NOT NULL,
    sources           TEXT,
    agreement_row     INTEGER,
    observation_count INTEGER NOT NULL,
    incident_count    INTEGER NOT NULL,
    equipment_count   INTEGER NOT NULL,
    content_sha256    BLOB    NOT NULL
);

CREATE INDEX fusions_content ON fusions (content_sha256);

CREATE TABLE incidents (
    fusion_id     INTEGER NOT NULL,
    number        INTEGER NOT NULL,
    id            TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    confidence    REAL    NOT NULL,
    first_at_s    INTEGER NOT NULL,
    last_at_s     INTEGER NOT NULL,
    lon           REAL,
    lat           REAL,
    uncertainty_m REAL,
    kinds         TEXT    NOT NULL,
    member_ids    TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    PRIMARY KEY (fusion_id, number)
) WITHOUT ROWID;

CREATE TABLE incident_members (
    fusion_id       INTEGER NOT NULL,
    observation_id  INTEGER NOT NULL,
    incident_number INTEGER NOT NULL,
    PRIMARY KEY (fusion_id, observation_id)
) WITHOUT ROWID;

CREATE TABLE fusion_equipment (
    fusion_id    INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    zone         TEXT    NOT NULL,
    party        TEXT    NOT NULL,
    class        TEXT    NOT NULL,
    lower        INTEGER NOT NULL,
    upper        INTEGER NOT NULL,
    evidence_ids TEXT    NOT NULL,
    PRIMARY KEY (fusion_id, number)
) WITHOUT ROWID;

CREATE TRIGGER fusions_no_update BEFORE UPDATE ON fusions
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;

CREATE TRIGGER fusions_no_delete BEFORE DELETE ON fusions
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;

CREATE TRIGGER incidents_no_update BEFORE UPDATE ON incidents
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;

CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;

CREATE TRIGGER incident_members_no_update BEFORE UPDATE ON incident_members
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;

CREATE TRIGGER incident_members_no_delete BEFORE DELETE ON incident_members
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;

CREATE TRIGGER fusion_equipment_no_update BEFORE UPDATE ON fusion_equipment
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;

CREATE TRIGGER fusion_equipment_no_delete BEFORE DELETE ON fusion_equipment
BEGIN
    SELECT RAISE(ABORT, 'a stored fusion is kept as it was made');
END;
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_1_sets_the_application_id_constant() {
        assert!(MIGRATION_1.contains(&format!("application_id = {APPLICATION_ID};")));
    }
}
