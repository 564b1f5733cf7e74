//! The store's errors: each names what was being done and, where there is one, the file or URL.

use aurum_core::order::IllegalTransition;
use aurum_core::portfolio::AccountingError;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The `--db` URL could not be understood.
    #[error("invalid database URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be opened or reached.
    #[error("cannot open database {target}: {reason}")]
    Open {
        /// File path or URL with any password removed.
        target: String,
        /// Why.
        reason: String,
    },
    /// The file exists but is not a SQLite database. It was not modified.
    #[error("{path} is not a SQLite database (left untouched): {reason}")]
    NotADatabase {
        /// The file.
        path: String,
        /// What SQLite said.
        reason: String,
    },
    /// The database was written by a newer aurum. Nothing was changed.
    #[error(
        "database {target} has schema version {found}, newer than the {known} this aurum knows; \
         upgrade aurum (the database was left as is)"
    )]
    SchemaTooNew {
        /// File path or URL.
        target: String,
        /// Version in the database.
        found: i64,
        /// Newest version this binary has.
        known: i64,
    },
    /// An applied migration differs from the one this binary has under the same version.
    #[error(
        "database {target}: migration {version} ({name}) was applied with checksum {found}, \
         but this aurum has {expected}; the schema history diverged"
    )]
    MigrationMismatch {
        /// File path or URL.
        target: String,
        /// Migration version.
        version: i64,
        /// Migration name.
        name: String,
        /// Checksum in the database.
        found: String,
        /// Checksum in the binary.
        expected: String,
    },
    /// A write was refused by the domain rules (spot accounting, order state machine...).
    #[error("{0}")]
    Rejected(String),
    /// Spot accounting refused a fill.
    #[error(transparent)]
    Accounting(#[from] AccountingError),
    /// The order state machine refused a status change.
    #[error("order {client_order_id}: {source}")]
    Transition {
        /// The order.
        client_order_id: String,
        /// The refused step.
        source: IllegalTransition,
    },
    /// A value read back from the database is not what aurum wrote (corruption or a foreign
    /// writer).
    #[error("corrupt row in {table}: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// SQLite reported an error.
    #[error("SQLite error while {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: String,
        /// The driver error.
        source: rusqlite::Error,
    },
    /// PostgreSQL reported an error.
    #[error("PostgreSQL error while {context}: {source}")]
    Postgres {
        /// What the store was doing.
        context: String,
        /// The driver error.
        source: tokio_postgres::Error,
    },
    /// The connection pool could not hand out a connection (timeout, connect failure, closed).
    #[error("{message}")]
    Pool {
        /// The pool's message, with the connection error when there is one.
        message: String,
        /// True when it was the `pool_timeout`.
        timeout: bool,
    },
    /// A batch was not committed (the whole transaction was rolled back).
    #[error("the write was not committed: {0}")]
    Commit(String),
    /// The writer stopped (the store was closed or its thread died).
    #[error("the database writer has stopped: {0}")]
    WriterGone(String),
    /// The bot's lock ([`crate::Store::lock_bot`]) is held by another process (or another
    /// handle of this one): the bot is already running. Nothing was changed.
    #[error("bot {bot_id} is already running: {holder} holds its lock")]
    BotLocked {
        /// The bot.
        bot_id: String,
        /// Who and where: the pid and lock file (SQLite), or the session and server
        /// (PostgreSQL).
        holder: String,
    },
    /// A blocking task failed.
    #[error("internal task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// Wraps a SQLite error with what was being done. The context is only turned into a
    /// `String` when there is an error (this runs on every statement).
    pub fn sqlite<C: Into<String>>(context: C) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sqlite {
            context: context.into(),
            source,
        }
    }

    /// Wraps a PostgreSQL error with what was being done (the context becomes a `String` only
    /// on error).
    pub fn pg<C: Into<String>>(context: C) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
        move |source| StoreError::Postgres {
            context: context.into(),
            source,
        }
    }

    /// Converts a pool error, keeping the connection error's text.
    pub fn from_pool<E: std::error::Error + 'static>(e: aurum_pool::PoolError<E>) -> StoreError {
        match e {
            aurum_pool::PoolError::Timeout { .. } => StoreError::Pool {
                message: e.to_string(),
                timeout: true,
            },
            aurum_pool::PoolError::Connect(source) => StoreError::Pool {
                message: format!("could not open a new pooled connection: {source}"),
                timeout: false,
            },
            aurum_pool::PoolError::Closed => StoreError::Pool {
                message: e.to_string(),
                timeout: false,
            },
        }
    }

    /// True for a domain refusal (the request was wrong), false for an infrastructure failure.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            StoreError::Rejected(_) | StoreError::Accounting(_) | StoreError::Transition { .. }
        )
    }
}

/// Shorthand for results of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
