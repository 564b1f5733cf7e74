//! The SQLite backend: exactly one read-write connection, owned by one writer thread for the
//! life of the store, and a pool of read-only connections for everything else.
//!
//! The writer blocks for the first queued request, drains what else is queued (up to
//! `max_batch`), runs them in one `BEGIN IMMEDIATE` transaction with each request in its own
//! SAVEPOINT (a refused request is rolled back alone), COMMITs, and only then acknowledges every
//! request of the batch, once its durability thread has flushed the WAL to disk (see
//! [`durability`]): an acknowledged write survives kill -9 and power loss. With a single writer there is no lock to wait for, so "database is locked" cannot
//! happen; `busy_timeout` stays only as a backstop against outside processes.

mod batch_write;
mod durability;
mod in_place;
mod reads;
pub(crate) mod sql;
mod text;
mod writer_thread;

use crate::error::{Result, StoreError};
use crate::migrate::{self, AppliedMigration, Dialect};
use crate::writer::{WriterConfig, WriterHandle, WriterMetrics, WriterStatus};
use aurum_pool::{Manager, Pool, PoolConfig, PoolStatus};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use writer_thread::begin_immediate;

/// How long SQLite itself retries a lock held by another process before reporting busy.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens read-only connections to one database file for the reader pool.
#[derive(Debug, Clone)]
pub(crate) struct ReadOnlyManager {
    pub path: PathBuf,
}

impl Manager for ReadOnlyManager {
    type Connection = Connection;
    type Error = rusqlite::Error;

    async fn connect(&self) -> std::result::Result<Connection, rusqlite::Error> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.set_prepared_statement_cache_capacity(64);
            Ok(conn)
        })
        .await
        .unwrap_or_else(|e| {
            Err(rusqlite::Error::InvalidPath(
                format!("opening a reader failed: {e}").into(),
            ))
        })
    }

    async fn ping(&self, conn: &mut Connection) -> std::result::Result<(), rusqlite::Error> {
        conn.query_row("SELECT 1", [], |_| Ok(()))
    }
}

/// The SQLite store. Cheap to clone; all clones share the writer and the reader pool.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: WriterHandle,
    thread: parking_lot::Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Pool<ReadOnlyManager>,
    applied_now: Vec<i64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// Checks an existing file before anything writes to it: it must be a SQLite database whose
/// schema is not newer than this binary, in a directory where SQLite can create its `-wal` and
/// `-shm` files. Nothing is written.
fn preflight(path: &Path) -> Result<()> {
    let shown = path.display().to_string();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(StoreError::Open {
            target: shown,
            reason: format!("directory {} does not exist", dir.display()),
        });
    }
    if path.is_dir() {
        return Err(StoreError::Open {
            target: shown,
            reason: "it is a directory, not a file".into(),
        });
    }
    if path.exists() {
        // Without a `-wal` file the database is fully in the main file: read it as immutable so
        // SQLite creates no `-shm`/`-wal` beside it (nothing at all changes on disk). With one,
        // a plain read-only open sees the committed WAL content and the files already exist.
        let wal = durability::wal_path(path);
        let mode = if wal.exists() {
            "mode=ro"
        } else {
            "immutable=1"
        };
        let uri = format!("file:{}?{mode}", uri_path(path));
        let conn = Connection::open_with_flags(
            &uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| StoreError::Open {
            target: shown.clone(),
            reason: e.to_string(),
        })?;
        let has_history: Option<String> = conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'aurum_schema_migrations'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => {
                    StoreError::NotADatabase { path: shown.clone(), reason: e.to_string() }
                }
                _ => StoreError::Open { target: shown.clone(), reason: e.to_string() },
            })?;
        if has_history.is_some() {
            let applied = applied_migrations(&conn)?;
            migrate::pending(Dialect::Sqlite, &applied, &shown)?;
        }
    }
    // SQLite needs to create `-wal` and `-shm` beside the file: prove the directory takes a new
    // file before the database is touched, so a read-only directory fails cleanly.
    let probe = dir.join(format!(".aurum-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(StoreError::Open {
            target: shown,
            reason: format!(
                "directory {} is not writable ({e}); SQLite needs to create its -wal and -shm files there",
                dir.display()
            ),
        }),
    }
}

/// A path written for a `file:` URI: anything but unreserved characters and `/` percent-encoded.
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for b in absolute.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(b) {
            out.push(*b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn applied_migrations(conn: &Connection) -> Result<Vec<AppliedMigration>> {
    sql::query_all(
        conn,
        "SELECT version, name, checksum FROM aurum_schema_migrations ORDER BY version",
        [],
        "reading the migration history",
        |r| {
            Ok(AppliedMigration {
                version: sql::get(r, 0, "aurum_schema_migrations")?,
                name: sql::get(r, 1, "aurum_schema_migrations")?,
                checksum: sql::get(r, 2, "aurum_schema_migrations")?,
            })
        },
    )
}

/// Opens the read-write connection with aurum's settings.
pub(crate) fn open_read_write(path: &Path) -> Result<Connection> {
    let shown = path.display().to_string();
    let open_err = |e: rusqlite::Error| StoreError::Open {
        target: shown.clone(),
        reason: e.to_string(),
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Open {
            target: shown,
            reason: format!("could not switch to WAL (journal mode is {mode})"),
        });
    }
    // The writer's page cache: 8 MiB holds the rows a trading bot or the load test keeps
    // touching (open orders, positions, balances, index pages) many times over; it is the
    // largest part of a long-running bot's memory, so it is not larger than that.
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA wal_autocheckpoint = 0;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8192;",
    )
    .map_err(open_err)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// Applies pending migrations on the read-write connection, each in its own transaction.
/// Returns the versions applied now.
pub(crate) fn apply_migrations(conn: &Connection, target: &str) -> Result<Vec<i64>> {
    conn.execute_batch(migrate::HISTORY_TABLE_SQL)
        .map_err(StoreError::sqlite("creating the migration history"))?;
    let mut applied_now = Vec::new();
    loop {
        begin_immediate(conn, None)?;
        let applied = applied_migrations(conn)?;
        let todo = match migrate::pending(Dialect::Sqlite, &applied, target) {
            Ok(t) => t,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        let Some(step) = todo.first() else {
            conn.execute_batch("COMMIT")
                .map_err(StoreError::sqlite("finishing migrations"))?;
            return Ok(applied_now);
        };
        let run = conn.execute_batch(step.sqlite).and_then(|_| {
            conn.execute(
                "INSERT INTO aurum_schema_migrations (version, name, checksum, applied_at_ms) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![step.version, step.name, step.checksum(Dialect::Sqlite), now_ms()],
            )
        });
        if let Err(e) = run {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(StoreError::sqlite(format!(
                "applying migration {} ({})",
                step.version, step.name
            ))(e));
        }
        conn.execute_batch("COMMIT")
            .map_err(StoreError::sqlite(format!(
                "committing migration {}",
                step.version
            )))?;
        applied_now.push(step.version);
    }
}

/// Milliseconds since the Unix epoch, from the system clock (IO edge, not used by the core).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, applies pending migrations and starts the
    /// writer thread. An existing file that is not a SQLite database, or has a newer schema, is
    /// refused and left untouched.
    pub async fn open(path: &Path, pool: PoolConfig, writer: WriterConfig) -> Result<Self> {
        let path = path.to_path_buf();
        let p = path.clone();
        let (conn, applied_now) = tokio::task::spawn_blocking(move || -> Result<_> {
            preflight(&p)?;
            let conn = open_read_write(&p)?;
            let applied = apply_migrations(&conn, &p.display().to_string())?;
            Ok((conn, applied))
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;

        let metrics = Arc::new(WriterMetrics::new(&writer));
        let durability = if writer.background_flush {
            let delay = Duration::from_millis(writer.commit_delay_ms);
            durability::attach(&conn, &path, metrics.clone(), delay)
        } else {
            None
        };
        let (tx, rx) = tokio::sync::mpsc::channel(writer.queue_capacity.max(1));
        let thread_metrics = metrics.clone();
        let thread = std::thread::Builder::new()
            .name("aurum-sqlite-writer".into())
            .spawn(move || writer_thread::run(conn, rx, thread_metrics, writer, durability))
            .map_err(|e| StoreError::Task(format!("cannot start the writer thread: {e}")))?;
        let readers = Pool::new(ReadOnlyManager { path: path.clone() }, pool).map_err(|e| {
            StoreError::Open {
                target: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: WriterHandle::new(tx, metrics),
                thread: parking_lot::Mutex::new(Some(thread)),
                readers,
                applied_now,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Migration versions applied when this store was opened.
    pub fn applied_now(&self) -> &[i64] {
        &self.inner.applied_now
    }

    /// Takes the bot's lock file, `<database file>.<bot id>.lock` beside the database (see
    /// [`crate::lock`]), or fails with [`StoreError::BotLocked`] when another process (or
    /// another open of it in this one) holds it.
    pub fn lock_bot(&self, bot_id: &str) -> Result<crate::lock::BotLock> {
        crate::lock::lock_file(&self.inner.path, bot_id)
    }

    /// Queues a write and waits for its durable acknowledgement.
    pub async fn write(&self, op: crate::ops::WriteOp) -> Result<crate::ops::WriteOutcome> {
        self.inner.writer.write(op).await
    }

    /// Queues writes to be committed together and waits for each one's acknowledgement.
    pub async fn write_group(
        &self,
        ops: Vec<crate::ops::WriteOp>,
    ) -> Vec<Result<crate::ops::WriteOutcome>> {
        self.inner.writer.write_group(ops).await
    }

    /// Runs `f` on a pooled read-only connection (on a blocking thread).
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let conn = self
            .inner
            .readers
            .get()
            .await
            .map_err(StoreError::from_pool)?;
        tokio::task::spawn_blocking(move || f(&conn))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// The reader pool's figures.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner.readers.status()
    }

    /// The writer's figures.
    pub fn writer_status(&self) -> WriterStatus {
        self.inner.writer.metrics.snapshot("sqlite")
    }

    /// Stops accepting writes, lets the writer finish what is queued, and waits for it. Only
    /// the last clone of a store closes it; earlier clones just let go.
    pub async fn close(self) {
        let Ok(inner) = Arc::try_unwrap(self.inner) else {
            return;
        };
        let Inner {
            writer,
            thread,
            readers,
            ..
        } = inner;
        drop(writer);
        readers.close();
        if let Some(t) = thread.into_inner() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}
