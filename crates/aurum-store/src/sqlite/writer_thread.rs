//! The SQLite writer thread: group commit with one savepoint per request.

use super::sql::run_op;
use crate::error::{Result, StoreError};
use crate::ops::WriteOutcome;
use crate::plan::Overlay;
use crate::writer::{Request, WriterConfig, WriterMetrics, acknowledge};
use rusqlite::{Connection, ErrorCode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long the writer keeps retrying `BEGIN IMMEDIATE` against another process's lock before
/// failing the batch (each attempt already waits `busy_timeout`).
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Starts a write transaction, retrying while another process holds the write lock. With aurum's
/// single writer per file this succeeds at once; the retry is a backstop for outside writers.
pub(crate) fn begin_immediate(conn: &Connection, metrics: Option<&WriterMetrics>) -> Result<()> {
    let started = Instant::now();
    loop {
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => return Ok(()),
            Err(e) if is_busy(&e) && started.elapsed() < LOCK_PATIENCE => {
                if let Some(m) = metrics {
                    m.busy_errors_total.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => {
                return Err(StoreError::sqlite(
                    "starting a write transaction (another process may hold the write lock)",
                )(e));
            }
        }
    }
}

/// The writer loop: runs until every producer handle is gone and the queue is empty.
pub(crate) fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Request>,
    metrics: Arc<WriterMetrics>,
    config: WriterConfig,
) {
    let max_batch = config.max_batch.max(1);
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        metrics
            .queue_depth
            .fetch_sub(batch.len() as i64, Ordering::Relaxed);
        let results = run_batch(&conn, &batch, &metrics, &config);
        acknowledge(&metrics, std::mem::take(&mut batch), results);
    }
    // Leave the WAL small for the next opener; failure here loses nothing.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
}

/// One transaction for the whole batch, one savepoint per request.
fn run_batch(
    conn: &Connection,
    batch: &[Request],
    metrics: &WriterMetrics,
    config: &WriterConfig,
) -> Vec<Result<WriteOutcome>> {
    let fail_all = |why: String| {
        batch
            .iter()
            .map(|_| Err(StoreError::Commit(why.clone())))
            .collect()
    };
    if let Err(e) = begin_immediate(conn, Some(metrics)) {
        return fail_all(e.to_string());
    }
    let mut overlay = Overlay::default();
    let mut results = Vec::with_capacity(batch.len());
    for req in batch {
        if let Err(e) = savepoint(conn, "SAVEPOINT op") {
            rollback(conn);
            return fail_all(e.to_string());
        }
        let outcome = run_op(conn, &req.op, &mut overlay);
        let closed = if outcome.is_ok() {
            savepoint(conn, "RELEASE op")
        } else {
            savepoint(conn, "ROLLBACK TO op").and_then(|_| savepoint(conn, "RELEASE op"))
        };
        if let Err(e) = closed {
            rollback(conn);
            return fail_all(e.to_string());
        }
        if let Err(e) = &outcome
            && !e.is_rejection()
            && is_fatal(e)
        {
            // The connection is in trouble (disk full, I/O error): nothing of the batch is kept.
            rollback(conn);
            return fail_all(e.to_string());
        }
        results.push(outcome);
    }
    if config.commit_delay_ms > 0 {
        std::thread::sleep(Duration::from_millis(config.commit_delay_ms));
    }
    let started = Instant::now();
    let committed = conn.execute_batch("COMMIT");
    metrics.commit_time.record_duration(started.elapsed());
    match committed {
        Ok(()) => results,
        Err(e) => {
            if is_busy(&e) {
                metrics.busy_errors_total.fetch_add(1, Ordering::Relaxed);
            }
            rollback(conn);
            fail_all(format!("COMMIT failed: {e}"))
        }
    }
}

fn is_fatal(e: &StoreError) -> bool {
    match e {
        StoreError::Sqlite { source, .. } => matches!(
            source.sqlite_error_code(),
            Some(
                ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DatabaseCorrupt
                    | ErrorCode::ReadOnly
            )
        ),
        _ => false,
    }
}

fn savepoint(conn: &Connection, sql: &str) -> Result<()> {
    let mut st = conn
        .prepare_cached(sql)
        .map_err(StoreError::sqlite(sql.to_string()))?;
    st.execute([])
        .map(|_| ())
        .map_err(StoreError::sqlite(sql.to_string()))
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}
