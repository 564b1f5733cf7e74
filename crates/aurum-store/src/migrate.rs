//! Versioned migrations: one numbered history for both backends, each step written once per SQL
//! dialect. A database records what it has applied (version, name, checksum) in
//! `aurum_schema_migrations`; a database that has steps this binary does not know is refused
//! before anything is written, and an applied step whose text changed is reported as divergence.

use crate::error::{Result, StoreError};
use sha2::{Digest, Sha256};

/// The SQL dialect of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (rusqlite, bundled).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// One step of the schema history.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Position in the history, from 1, without holes.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    /// The step for SQLite.
    pub sqlite: &'static str,
    /// The step for PostgreSQL.
    pub postgres: &'static str,
}

impl Migration {
    /// The SQL of this step in a dialect.
    pub fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }

    /// A stable fingerprint of the step's SQL in a dialect (line endings normalised).
    pub fn checksum(&self, dialect: Dialect) -> String {
        let text = self.sql(dialect).replace("\r\n", "\n");
        let digest = Sha256::digest(text.as_bytes());
        digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
    }
}

/// The whole history, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sqlite: include_str!("../migrations/0001_initial.sqlite.sql"),
        postgres: include_str!("../migrations/0001_initial.postgres.sql"),
    },
    Migration {
        version: 2,
        name: "optimize_runs",
        sqlite: include_str!("../migrations/0002_optimize_runs.sqlite.sql"),
        postgres: include_str!("../migrations/0002_optimize_runs.postgres.sql"),
    },
    Migration {
        version: 3,
        name: "fills_by_order",
        sqlite: include_str!("../migrations/0003_fills_by_order.sqlite.sql"),
        postgres: include_str!("../migrations/0003_fills_by_order.postgres.sql"),
    },
    Migration {
        version: 4,
        name: "dust_and_order_meta",
        sqlite: include_str!("../migrations/0004_dust_and_order_meta.sqlite.sql"),
        postgres: include_str!("../migrations/0004_dust_and_order_meta.postgres.sql"),
    },
    Migration {
        version: 5,
        name: "equity_curve",
        sqlite: include_str!("../migrations/0005_equity_curve.sqlite.sql"),
        postgres: include_str!("../migrations/0005_equity_curve.postgres.sql"),
    },
];

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// The table that records applied steps (same shape in both dialects).
pub const HISTORY_TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS aurum_schema_migrations (
    version       BIGINT PRIMARY KEY,
    name          TEXT NOT NULL,
    checksum      TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL
)";

/// A step a database says it has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version.
    pub version: i64,
    /// Name.
    pub name: String,
    /// Checksum recorded when it was applied.
    pub checksum: String,
}

/// Decides which steps to apply, or refuses: a newer schema than this binary knows, or an
/// applied step that differs from this binary's. `target` names the database in errors.
pub fn pending(
    dialect: Dialect,
    applied: &[AppliedMigration],
    target: &str,
) -> Result<Vec<Migration>> {
    let newest_applied = applied.iter().map(|m| m.version).max().unwrap_or(0);
    if newest_applied > latest_version() {
        return Err(StoreError::SchemaTooNew {
            target: target.to_string(),
            found: newest_applied,
            known: latest_version(),
        });
    }
    for a in applied {
        if let Some(m) = MIGRATIONS.iter().find(|m| m.version == a.version) {
            let expected = m.checksum(dialect);
            if expected != a.checksum {
                return Err(StoreError::MigrationMismatch {
                    target: target.to_string(),
                    version: a.version,
                    name: a.name.clone(),
                    found: a.checksum.clone(),
                    expected,
                });
            }
        }
    }
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .copied()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_numbered_without_holes_in_both_dialects() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty());
            assert_ne!(m.checksum(Dialect::Sqlite), m.checksum(Dialect::Postgres));
        }
    }

    #[test]
    fn refuses_newer_and_diverged_histories() {
        let fresh = pending(Dialect::Sqlite, &[], "x.db").unwrap();
        assert_eq!(fresh.len(), MIGRATIONS.len());
        let newer = AppliedMigration {
            version: latest_version() + 1,
            name: "future".into(),
            checksum: "00".into(),
        };
        let err = pending(Dialect::Sqlite, &[newer], "x.db")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "database x.db has schema version {}, newer than the {} this aurum knows; upgrade aurum (the database was left as is)",
                latest_version() + 1,
                latest_version()
            )
        );
        let edited = AppliedMigration {
            version: 1,
            name: "initial".into(),
            checksum: "deadbeef".into(),
        };
        let err = pending(Dialect::Postgres, &[edited], "pg").unwrap_err();
        assert!(
            matches!(err, StoreError::MigrationMismatch { version: 1, .. }),
            "{err}"
        );
        let current: Vec<_> = MIGRATIONS
            .iter()
            .map(|m| AppliedMigration {
                version: m.version,
                name: m.name.into(),
                checksum: m.checksum(Dialect::Sqlite),
            })
            .collect();
        assert!(
            pending(Dialect::Sqlite, &current, "x.db")
                .unwrap()
                .is_empty()
        );
    }
}
