//! The migration runner: brings a store's schema up to date, one migration per transaction.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreError;
use crate::schema::APPLICATION_ID;

/// What `PRAGMA user_version` and `PRAGMA application_id` say about a file, read without
/// taking any lock or changing anything.
pub(crate) fn check_header(
    conn: &Connection,
    path: &Path,
    busy_timeout: Duration,
    supported: i64,
) -> Result<i64, StoreError> {
    let err = |context| move |e| StoreError::sqlite(path, busy_timeout, context, e);
    let application_id: i64 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(err("reading the application id"))?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(StoreError::NotAStore {
            path: path.to_path_buf(),
            reason: format!("its SQLite application_id is {application_id:#x}"),
        });
    }
    let found = check_version(conn, path, busy_timeout, supported)?;
    if found == 0 {
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .map_err(err("reading the schema"))?;
        if objects > 0 {
            return Err(StoreError::NotAStore {
                path: path.to_path_buf(),
                reason: format!(
                    "it is a SQLite database with {objects} objects but no truce schema"
                ),
            });
        }
    }
    Ok(found)
}

fn check_version(
    conn: &Connection,
    path: &Path,
    busy_timeout: Duration,
    supported: i64,
) -> Result<i64, StoreError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| StoreError::sqlite(path, busy_timeout, "reading the schema version", e))?;
    if found > supported {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    if found < 0 {
        return Err(StoreError::BadSchemaVersion {
            path: path.to_path_buf(),
            found,
        });
    }
    Ok(found)
}

/// Applies `migrations[v..]` to a store at version `v`, each with its new `user_version` in
/// one `BEGIN IMMEDIATE` transaction. The version is read again inside each transaction, so
/// two processes opening a new store at once apply every migration exactly once.
pub(crate) fn migrate(
    conn: &mut Connection,
    path: &Path,
    busy_timeout: Duration,
    migrations: &[&str],
) -> Result<i64, StoreError> {
    let supported = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    let err = |context| move |e| StoreError::sqlite(path, busy_timeout, context, e);
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a migration"))?;
        let found = check_version(&tx, path, busy_timeout, supported)?;
        let Some(migration) = usize::try_from(found).ok().and_then(|i| migrations.get(i)) else {
            // Up to date (someone else may have migrated meanwhile); nothing was written.
            return Ok(found);
        };
        tx.execute_batch(migration)
            .map_err(err("applying a schema migration"))?;
        tx.pragma_update(None, "user_version", found + 1)
            .map_err(err("setting the schema version"))?;
        tx.commit().map_err(err("committing a schema migration"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("user_version")
    }

    #[test]
    fn applies_each_migration_once_in_order() {
        let mut conn = Connection::open_in_memory().expect("open");
        let migrations = ["CREATE TABLE a (x)", "CREATE TABLE b (y)"];
        let path = Path::new(":memory:");
        let timeout = Duration::from_secs(1);
        assert_eq!(
            migrate(&mut conn, path, timeout, &migrations[..1]).ok(),
            Some(1)
        );
        assert_eq!(migrate(&mut conn, path, timeout, &migrations).ok(), Some(2));
        assert_eq!(migrate(&mut conn, path, timeout, &migrations).ok(), Some(2));
        assert_eq!(user_version(&conn), 2);
    }

    #[test]
    fn a_failing_migration_leaves_neither_its_tables_nor_its_version() {
        let mut conn = Connection::open_in_memory().expect("open");
        let migrations = [
            "CREATE TABLE a (x)",
            "CREATE TABLE b (y); CREATE TABLE a (z)",
        ];
        let path = Path::new(":memory:");
        let result = migrate(&mut conn, path, Duration::from_secs(1), &migrations);
        assert!(
            matches!(
                result,
                Err(StoreError::Sqlite {
                    context: "applying a schema migration",
                    ..
                })
            ),
            "{result:?}"
        );
        assert_eq!(user_version(&conn), 1);
        let b_exists: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'b'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(b_exists, 0);
    }
}
