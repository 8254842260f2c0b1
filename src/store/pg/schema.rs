//! The database schema and its versioned migrations.
//!
//! Migrations are SQL files compiled into the crate, applied in order, each
//! in the transaction that records it in `certexport_migrations`. Two
//! processes migrating at once take turns on an advisory lock, so each
//! migration runs once. A store opens a database only at the version it
//! was built for: an older one needs `certexport db migrate` (or
//! [`Migrations::Apply`]), and a newer one, written by a later certexport,
//! is refused rather than misread.

use postgres::GenericClient;

use crate::error::ExportError;

/// What opening a database does about its schema version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Migrations {
    /// The schema must be at this build's version already; an older one is
    /// [`ExportError::SchemaOutdated`] (the default: reading never changes
    /// a database's schema unasked).
    #[default]
    Require,
    /// Apply the migrations the database lacks (creating the schema in an
    /// empty database).
    Apply,
}

/// One migration: its version, a description, and its SQL.
struct Migration {
    version: i32,
    description: &'static str,
    sql: &'static str,
}

/// Every migration, in order; versions count up from 1 without gaps.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "certificate inventory",
        sql: include_str!("migrations/0001_inventory.sql"),
    },
    Migration {
        version: 2,
        description: "certificate search",
        sql: include_str!("migrations/0002_search.sql"),
    },
];

/// The version that added the search columns, which certexport fills
/// from the DER of the rows already there when it applies it.
const SEARCH_VERSION: i32 = 2;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Serializes concurrent migrations (an arbitrary constant: "certexpt").
const MIGRATION_LOCK: i64 = 0x6365_7274_6578_7074;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS certexport_migrations (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// Applies the migrations the database lacks and returns how many ran.
pub(super) fn migrate(client: &mut postgres::Client) -> Result<usize, ExportError> {
    let mut tx = client.transaction().map_err(ExportError::backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(ExportError::backend)?;
    tx.batch_execute(CREATE_LEDGER).map_err(ExportError::backend)?;
    let found = version(&mut tx)?;
    if found > SCHEMA_VERSION {
        return Err(ExportError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.batch_execute(migration.sql).map_err(ExportError::backend)?;
        tx.execute(
            "INSERT INTO certexport_migrations (version, description) VALUES ($1, $2)",
            &[&migration.version, &migration.description],
        )
        .map_err(ExportError::backend)?;
        applied += 1;
    }
    if found < SEARCH_VERSION {
        super::search::backfill(&mut tx)?;
    }
    tx.commit().map_err(ExportError::backend)?;
    Ok(applied)
}

/// Checks that the database's schema is this build's.
pub(super) fn check(client: &mut postgres::Client) -> Result<(), ExportError> {
    let ledger = client
        .query_one("SELECT to_regclass('certexport_migrations') IS NOT NULL", &[])
        .and_then(|row| row.try_get::<_, bool>(0))
        .map_err(ExportError::backend)?;
    let found = if ledger { version(client)? } else { 0 };
    match found {
        v if v == SCHEMA_VERSION => Ok(()),
        v if v > SCHEMA_VERSION => Err(ExportError::SchemaTooNew {
            found: v,
            supported: SCHEMA_VERSION,
        }),
        v => Err(ExportError::SchemaOutdated {
            found: v,
            required: SCHEMA_VERSION,
        }),
    }
}

/// The highest migration applied (0 for none).
fn version(client: &mut impl GenericClient) -> Result<i32, ExportError> {
    client
        .query_one("SELECT coalesce(max(version), 0) FROM certexport_migrations", &[])
        .and_then(|row| row.try_get(0))
        .map_err(ExportError::backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, i + 1);
            assert!(!migration.sql.trim().is_empty());
        }
    }
}
