//! The SQLite writer thread: group commit with one savepoint per request.

use super::batch_write::write_batch;
use super::sql::{SqliteState, run_op};
use crate::error::{Result, StoreError};
use crate::ops::WriteOutcome;
use crate::plan::Overlay;
use crate::plan::plan;
use crate::writer::{Request, WriterConfig, WriterMetrics, acknowledge, complete_group};
use rusqlite::{Connection, ErrorCode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long the writer keeps retrying `BEGIN IMMEDIATE` against another process's lock before
/// failing the batch (each attempt already waits `busy_timeout`).
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

/// Rows the writer keeps cached between batches (see `Overlay::trim`): a few MiB, so a bot
/// that runs for months keeps a flat memory profile.
const CACHE_LIMIT: usize = 10_000;

/// Batches after which the writer checkpoints even while busy (it checkpoints whenever it is
/// idle anyway). SQLite's own autocheckpoint is off so checkpoints never land inside a COMMIT;
/// this bound keeps the WAL from growing without end under sustained load.
const CHECKPOINT_EVERY_BATCHES: u32 = 256;

/// Batches since the last checkpoint that make an idle moment worth a checkpoint.
const CHECKPOINT_IDLE_BATCHES: u32 = 16;

/// How long the writer waits for more requests when recent batches showed concurrency and the
/// queue is still filling: producers woken by the last acknowledgements are sending their next
/// request right now, and one more fsync costs far more than this wait. A lone producer
/// (recent batches of one) never waits.
const LINGER: Duration = Duration::from_micros(250);

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
///
/// The writer is the only connection that writes this file (another one would show up in
/// `PRAGMA data_version`), so it keeps the rows it has loaded or written cached between
/// batches; the cache is dropped whenever another connection committed or a batch failed, and
/// trimmed to [`CACHE_LIMIT`] rows after every batch.
pub(crate) fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Request>,
    metrics: Arc<WriterMetrics>,
    config: WriterConfig,
) {
    let max_batch = config.max_batch.max(1);
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    let mut cache = Overlay::default();
    let mut known_version = data_version(&conn).unwrap_or(0);
    let mut peak_batch = 1usize;
    let mut since_checkpoint = 0u32;
    loop {
        let first = match next_request(&mut rx) {
            Some(r) => r,
            None => {
                // Idle (nothing arrived within the linger): a good moment to checkpoint, when
                // enough was written since the last one to be worth an fsync of the database.
                if since_checkpoint >= CHECKPOINT_IDLE_BATCHES {
                    checkpoint(&conn);
                    since_checkpoint = 0;
                }
                match rx.blocking_recv() {
                    Some(r) => r,
                    None => break,
                }
            }
        };
        batch.push(first);
        drain(&mut rx, &mut batch, max_batch);
        complete_group(&mut rx, &mut batch, max_batch);
        // Aim for the concurrency seen recently (a slowly decaying peak of batch sizes).
        let want = peak_batch.min(max_batch);
        if peak_batch > 1 && batch.len() < want {
            let until = Instant::now() + LINGER;
            while batch.len() < want && Instant::now() < until {
                std::thread::yield_now();
                drain(&mut rx, &mut batch, max_batch);
            }
            complete_group(&mut rx, &mut batch, max_batch);
        }
        peak_batch = batch.len().max(peak_batch.saturating_sub(1));
        metrics
            .queue_depth
            .fetch_sub(batch.len() as i64, Ordering::Relaxed);
        let results = run_batch(
            &conn,
            &batch,
            &metrics,
            &config,
            &mut cache,
            &mut known_version,
        );
        if results
            .iter()
            .any(|r| matches!(r, Err(StoreError::Commit(_))))
        {
            cache.clear();
        }
        cache.trim(CACHE_LIMIT);
        acknowledge(&metrics, std::mem::take(&mut batch), results);
        since_checkpoint += 1;
        if since_checkpoint >= CHECKPOINT_EVERY_BATCHES {
            checkpoint(&conn);
            since_checkpoint = 0;
        }
    }
    // Leave the WAL small for the next opener; failure here loses nothing.
    if since_checkpoint > 0 {
        checkpoint(&conn);
    }
}

/// The next request if one arrives within [`LINGER`] (producers that were just acknowledged are
/// about to send again), or `None` when the writer is really idle.
fn next_request(rx: &mut mpsc::Receiver<Request>) -> Option<Request> {
    if let Ok(r) = rx.try_recv() {
        return Some(r);
    }
    let until = Instant::now() + LINGER;
    while Instant::now() < until {
        std::thread::yield_now();
        if let Ok(r) = rx.try_recv() {
            return Some(r);
        }
    }
    None
}

fn drain(rx: &mut mpsc::Receiver<Request>, batch: &mut Vec<Request>, max_batch: usize) {
    while batch.len() < max_batch {
        match rx.try_recv() {
            Ok(r) => batch.push(r),
            Err(_) => break,
        }
    }
}

fn data_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()
}

fn checkpoint(conn: &Connection) {
    // PASSIVE never waits for readers; frames still in use are copied by a later checkpoint.
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

/// One transaction for the whole batch. Every request is planned first (a refusal stays with its
/// request); the accepted changes are then written with multi-row statements. Should a write
/// fail anyway, the batch is rolled back and replayed with each request in its own SAVEPOINT,
/// so one bad request fails alone.
fn run_batch(
    conn: &Connection,
    batch: &[Request],
    metrics: &WriterMetrics,
    config: &WriterConfig,
    overlay: &mut Overlay,
    known_version: &mut i64,
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
    // Inside the write transaction nobody else can commit: if the version moved since our last
    // batch, another connection wrote and the cache may be stale.
    match data_version(conn) {
        Some(v) if v == *known_version => {}
        Some(v) => {
            overlay.clear();
            *known_version = v;
        }
        None => overlay.clear(),
    }
    let mut results = Vec::with_capacity(batch.len());
    let mut changes = Vec::new();
    for req in batch {
        match plan(&req.op, &mut SqliteState { conn }, overlay) {
            Ok(planned) => {
                overlay.absorb(&planned.changes);
                changes.extend(planned.changes);
                results.push(Ok(planned.outcome));
            }
            Err(e) if e.is_rejection() => results.push(Err(e)),
            Err(e) => {
                // A read failed: the connection is in trouble, nothing of the batch is kept.
                rollback(conn);
                overlay.clear();
                return fail_all(e.to_string());
            }
        }
    }
    if let Err(e) = write_batch(conn, &changes) {
        tracing::warn!("batch write failed ({e}); replaying the batch one request per savepoint");
        metrics.replays_total.fetch_add(1, Ordering::Relaxed);
        rollback(conn);
        overlay.clear();
        if is_fatal(&e) {
            return fail_all(e.to_string());
        }
        match replay_isolated(conn, batch, metrics, overlay) {
            Ok(r) => results = r,
            Err(why) => {
                overlay.clear();
                return fail_all(why);
            }
        }
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
            overlay.clear();
            fail_all(format!("COMMIT failed: {e}"))
        }
    }
}

/// The slow path: a new transaction with each request in its own SAVEPOINT.
fn replay_isolated(
    conn: &Connection,
    batch: &[Request],
    metrics: &WriterMetrics,
    overlay: &mut Overlay,
) -> std::result::Result<Vec<Result<WriteOutcome>>, String> {
    begin_immediate(conn, Some(metrics)).map_err(|e| e.to_string())?;
    let mut results = Vec::with_capacity(batch.len());
    for req in batch {
        if let Err(e) = savepoint(conn, "SAVEPOINT op") {
            rollback(conn);
            return Err(e.to_string());
        }
        let outcome = run_op(conn, &req.op, overlay);
        let closed = if outcome.is_ok() {
            savepoint(conn, "RELEASE op")
        } else {
            savepoint(conn, "ROLLBACK TO op").and_then(|_| savepoint(conn, "RELEASE op"))
        };
        if let Err(e) = closed {
            rollback(conn);
            return Err(e.to_string());
        }
        if let Err(e) = &outcome
            && !e.is_rejection()
            && is_fatal(e)
        {
            // The connection is in trouble (disk full, I/O error): nothing of the batch is kept.
            rollback(conn);
            return Err(e.to_string());
        }
        results.push(outcome);
    }
    Ok(results)
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
