//! Where the store lives (`--db URL`) and how its pool and writer are tuned (`[store]`).

use crate::error::{Result, StoreError};
use crate::writer::WriterConfig;
use aurum_pool::PoolConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_URL: &str = "sqlite://aurum.db";

/// The `[store]` section of `aurum.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://path/to/file.db` (or a plain path), or `postgres://user@host:port/db[?schema=name]`.
    pub url: String,
    /// Pool knobs (`[store.pool]`), with SQLAlchemy's names and meaning.
    pub pool: PoolConfig,
    /// Writer knobs (`[store.writer]`).
    pub writer: WriterConfig,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: DEFAULT_URL.to_string(),
            pool: PoolConfig::default(),
            writer: WriterConfig::default(),
        }
    }
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres {
        /// The connection URL as tokio-postgres takes it (aurum's own parameters removed).
        conninfo: String,
        /// The schema to work in (created if missing); `public` when not given.
        schema: Option<String>,
    },
}

impl DbUrl {
    /// Reads `sqlite://file.db`, `sqlite:file.db`, `sqlite:///abs/file.db`, a plain path, or
    /// `postgres://...` / `postgresql://...` with an optional `schema=` query parameter.
    pub fn parse(url: &str) -> Result<DbUrl> {
        let bad = |reason: &str| StoreError::BadUrl {
            url: redact(url),
            reason: reason.to_string(),
        };
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(bad("empty"));
        }
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            let (base, query) = match trimmed.split_once('?') {
                Some((b, q)) => (b, q),
                None => (trimmed, ""),
            };
            let mut schema = None;
            let mut kept = Vec::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("schema", v)) => {
                        if v.is_empty()
                            || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        {
                            return Err(bad("schema must be letters, digits and _"));
                        }
                        schema = Some(v.to_string());
                    }
                    _ => kept.push(pair),
                }
            }
            let conninfo = if kept.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", kept.join("&"))
            };
            conninfo
                .parse::<tokio_postgres::Config>()
                .map_err(|e| bad(&format!("not a PostgreSQL URL: {e}")))?;
            return Ok(DbUrl::Postgres { conninfo, schema });
        }
        if let Some((scheme, _)) = trimmed.split_once("://")
            && scheme != "sqlite"
        {
            return Err(bad(&format!(
                "unknown scheme {scheme:?}; use sqlite:// or postgres://"
            )));
        }
        let path = trimmed
            .strip_prefix("sqlite://")
            .or_else(|| trimmed.strip_prefix("sqlite:"))
            .unwrap_or(trimmed);
        if path.is_empty() || path == ":memory:" {
            return Err(bad(
                "a SQLite URL needs a file path (in-memory databases are not durable)",
            ));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(path)))
    }
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((creds, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match creds.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_url_form() {
        assert_eq!(
            DbUrl::parse("aurum.db").unwrap(),
            DbUrl::Sqlite("aurum.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite://data/a.db").unwrap(),
            DbUrl::Sqlite("data/a.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/a.db").unwrap(),
            DbUrl::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:a.db").unwrap(),
            DbUrl::Sqlite("a.db".into())
        );
        assert_eq!(
            DbUrl::parse("postgres://postgres@127.0.0.1:5432/test?schema=t1&connect_timeout=5")
                .unwrap(),
            DbUrl::Postgres {
                conninfo: "postgres://postgres@127.0.0.1:5432/test?connect_timeout=5".into(),
                schema: Some("t1".into())
            }
        );
    }

    #[test]
    fn refuses_bad_urls_without_showing_passwords() {
        let e = DbUrl::parse("mysql://root:hunter2@x/db")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid database URL \"mysql://root:***@x/db\": unknown scheme \"mysql\"; use sqlite:// or postgres://"
        );
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse(":memory:").is_err());
        assert!(DbUrl::parse("postgres://u@h/db?schema=a;drop").is_err());
        let e = DbUrl::parse("postgres://u:secret@h:notaport/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }
}
