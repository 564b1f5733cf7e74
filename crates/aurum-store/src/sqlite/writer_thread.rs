//! The SQLite writer thread: group commit with one savepoint per request.

use super::batch_write::{Statements, write_batch};
use super::durability::{Durability, Ended};
use super::sql::{SqliteState, run_op};
use crate::error::{Result, StoreError};
use crate::ops::WriteOutcome;
use crate::plan::Overlay;
use crate::plan::plan;
use crate::writer::{
    Request, WriterConfig, WriterMetrics, acknowledge, all_failed, complete_group,
};
use rusqlite::config::DbConfig;
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
/// With `durability`, a committed batch goes to the durability thread, which acknowledges it
/// once the WAL is on disk, while this thread goes on with the next batch; without, the
/// connection flushes in every COMMIT and the batch is acknowledged right after it.
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
    durability: Option<Durability>,
) {
    let max_batch = config.max_batch.max(1);
    // The slow-disk test hook sleeps where the flush happens: here only when COMMIT flushes.
    let commit_delay = match &durability {
        None => Duration::from_millis(config.commit_delay_ms),
        Some(_) => Duration::ZERO,
    };
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    let mut cache = Overlay::default();
    let mut statements = Statements::new(&conn);
    let mut known_version = data_version(&conn).unwrap_or(0);
    let mut peak_batch = 1usize;
    let mut since_checkpoint = 0u32;
    loop {
        let first = match next_request(&mut rx) {
            Some(r) => r,
            None => {
                // Idle (nothing arrived within the linger): a good moment to checkpoint, when
                // enough was written since the last one to be worth an fsync of the database
                // and every batch is flushed (producers still waiting for a flush would wait
                // for the checkpoint too).
                let mut early = None;
                if since_checkpoint >= CHECKPOINT_IDLE_BATCHES && !stopped(durability.as_ref()) {
                    match settle(&mut rx, durability.as_ref()) {
                        Settled::Quiet => {
                            checkpoint(&conn);
                            since_checkpoint = 0;
                        }
                        Settled::Request(r) => early = Some(*r),
                        Settled::StillFlushing => {}
                    }
                }
                match early {
                    Some(r) => r,
                    None => match rx.blocking_recv() {
                        Some(r) => r,
                        None => break,
                    },
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
        if let Some(why) = durability.as_ref().and_then(Durability::failure) {
            let results = all_failed(batch.len(), why);
            acknowledge(&metrics, std::mem::take(&mut batch), results);
            continue;
        }
        let results = run_batch(
            &mut statements,
            &batch,
            &metrics,
            commit_delay,
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
        let ended = Ended {
            batch: std::mem::take(&mut batch),
            results,
        };
        match &durability {
            Some(d) => d.submit(&metrics, ended),
            None => acknowledge(&metrics, ended.batch, ended.results),
        }
        since_checkpoint += 1;
        if since_checkpoint >= CHECKPOINT_EVERY_BATCHES && !stopped(durability.as_ref()) {
            checkpoint(&conn);
            since_checkpoint = 0;
        }
    }
    // Every acknowledgement is out once the durability thread has finished.
    let stopped = durability.is_some_and(Durability::finish);
    if stopped {
        // After a failed flush the page cache cannot be trusted: the log stays as it is for
        // the next opener's recovery instead of being copied into the database, also when the
        // connection closes.
        let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
    } else if since_checkpoint > 0 {
        // Leave the WAL small for the next opener; failure here loses nothing.
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

/// Whether a failed flush has stopped the store's writes.
fn stopped(durability: Option<&Durability>) -> bool {
    durability.is_some_and(|d| d.failure().is_some())
}

/// How long an idle writer waits for the durability thread to acknowledge everything before it
/// checkpoints; a flush slower than this leaves the checkpoint to a later idle moment.
const SETTLE_WAIT: Duration = Duration::from_millis(20);

/// How long the queue must then stay empty: producers just acknowledged send their next request
/// within a fraction of a millisecond, and a checkpoint started under their feet would make them
/// wait for its fsyncs.
const QUIET: Duration = Duration::from_millis(2);

/// What an idle writer found while waiting for the last flush.
enum Settled {
    /// Every batch is acknowledged and the queue stayed empty for [`QUIET`].
    Quiet,
    /// A request arrived first (it is the next batch's first).
    Request(Box<Request>),
    /// The flush took longer than [`SETTLE_WAIT`].
    StillFlushing,
}

fn settle(rx: &mut mpsc::Receiver<Request>, durability: Option<&Durability>) -> Settled {
    let started = Instant::now();
    let mut flushed_at = None;
    loop {
        if let Ok(r) = rx.try_recv() {
            return Settled::Request(Box::new(r));
        }
        let now = Instant::now();
        match flushed_at {
            None if durability.is_none_or(Durability::is_idle) => flushed_at = Some(now),
            None if now - started >= SETTLE_WAIT => return Settled::StillFlushing,
            None => {}
            Some(at) if now - at >= QUIET => return Settled::Quiet,
            Some(_) => {}
        }
        std::thread::sleep(Duration::from_micros(50));
    }
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
    statements: &mut Statements<'_>,
    batch: &[Request],
    metrics: &WriterMetrics,
    commit_delay: Duration,
    overlay: &mut Overlay,
    known_version: &mut i64,
) -> Vec<Result<WriteOutcome>> {
    let conn = statements.conn();
    let fail_all = |why: String| all_failed(batch.len(), &why);
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
    if let Err(e) = write_batch(statements, &changes) {
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
    if !commit_delay.is_zero() {
        std::thread::sleep(commit_delay);
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
