//! Pipelined durability: the writer thread commits a batch without waiting for the disk, and
//! this thread makes the WAL durable with `fdatasync` and only then acknowledges the batch.
//!
//! With `synchronous=FULL` the writer spent about half of its time inside COMMIT waiting for the
//! fsync, during which it could not prepare the next batch. The writer's connection now runs
//! with `synchronous=NORMAL`: COMMIT writes the batch's frames to the WAL (the page cache) and
//! returns; SQLite still syncs the WAL before every checkpoint and the database file after it,
//! and syncs the WAL header whenever the log restarts. The durability thread then calls
//! `fdatasync` on the WAL file, which covers every frame written before the call, and only then
//! sends the batch's acknowledgements. So an acknowledged write is on disk exactly as before,
//! and the writer plans and writes batch N+1 while the disk flushes batch N.
//!
//! One difference remains, and it is on purpose: readers of this file can see a batch for the
//! fraction of a millisecond between its COMMIT and its flush. A power cut in that window loses
//! the batch (it was never acknowledged); a killed process does not (the kernel holds the
//! pages).
//!
//! A failed `fdatasync` is fatal for the store: after one the kernel may have dropped the dirty
//! pages, so nothing written since can be trusted to be on disk. Every batch not yet
//! acknowledged fails with the reason, and the writer refuses every later batch.

use crate::error::Result;
use crate::ops::WriteOutcome;
use crate::writer::{Request, WriterMetrics, acknowledge, all_failed};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A batch whose transaction has ended, waiting for its acknowledgement.
pub(crate) struct Ended {
    /// The requests of the batch.
    pub batch: Vec<Request>,
    /// One result per request.
    pub results: Vec<Result<WriteOutcome>>,
}

impl Ended {
    /// Whether the batch committed something that must reach the disk before it is
    /// acknowledged (a batch that failed or was refused whole has nothing to flush).
    fn committed(&self) -> bool {
        self.results.iter().any(|r| r.is_ok())
    }
}

/// The writer's handle on the durability thread.
pub(crate) struct Durability {
    tx: Option<mpsc::Sender<Ended>>,
    thread: Option<JoinHandle<()>>,
    failure: Arc<OnceLock<String>>,
    /// Batches handed over and not yet acknowledged.
    pending: Arc<AtomicUsize>,
}

/// The WAL file of the database at `db`, as SQLite's default VFS names it.
pub(crate) fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

impl Durability {
    /// Opens the WAL file of `db` (the writer's connection must already be in WAL mode, which
    /// creates it) and starts the durability thread. `flush_delay` is the `commit_delay_ms`
    /// test hook: a sleep before every flush.
    pub fn start(
        db: &Path,
        metrics: Arc<WriterMetrics>,
        flush_delay: Duration,
    ) -> std::io::Result<Durability> {
        let path = wal_path(db);
        // Write access, though nothing is written through it: some platforms (Windows) flush
        // only handles that may write.
        let wal = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        let (tx, rx) = mpsc::channel();
        let failure = Arc::new(OnceLock::new());
        let pending = Arc::new(AtomicUsize::new(0));
        let shared = Shared {
            metrics,
            flush_delay,
            failure: failure.clone(),
            pending: pending.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("aurum-sqlite-sync".into())
            .spawn(move || run(wal, path, rx, shared))?;
        Ok(Durability {
            tx: Some(tx),
            thread: Some(thread),
            failure,
            pending,
        })
    }

    /// Why the store stopped writing, once a flush has failed.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }

    /// Whether every batch handed over has been acknowledged: only then is the writer really
    /// idle (its producers are not just waiting for a flush), a moment for a checkpoint.
    pub fn is_idle(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0
    }

    /// Hands a batch whose transaction has ended to the durability thread, which acknowledges
    /// it once the disk holds it.
    pub fn submit(&self, metrics: &WriterMetrics, ended: Ended) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        let sent = match &self.tx {
            Some(tx) => tx.send(ended).map_err(|mpsc::SendError(e)| e),
            None => Err(ended),
        };
        if let Err(ended) = sent {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            // The thread is gone (it cannot panic on its own; this is a backstop): nothing
            // flushed this batch, so it must not be acknowledged as durable.
            let why = "the durability thread stopped; the write may not be on disk";
            let results = all_failed(ended.results.len(), why);
            acknowledge(metrics, ended.batch, results);
        }
    }

    /// Waits until every submitted batch is acknowledged and stops the thread; true when a
    /// flush failed (the store stopped writing).
    pub fn finish(mut self) -> bool {
        self.stop();
        self.failure().is_some()
    }

    fn stop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Durability {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the durability thread for the writer's connection `conn` to `db` and switches the
/// connection to `synchronous=NORMAL`. Should that not work (the WAL file cannot be opened), the
/// connection stays at `synchronous=FULL`, every COMMIT flushes by itself, and `None` tells the
/// writer to acknowledge batches right after their COMMIT.
pub(crate) fn attach(
    conn: &rusqlite::Connection,
    db: &Path,
    metrics: Arc<WriterMetrics>,
    flush_delay: Duration,
) -> Option<Durability> {
    // SQLite names the WAL after the database's full path with symbolic links resolved; a
    // path built from what the user typed could name another file.
    let resolved = match conn.path() {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            tracing::warn!(
                "cannot learn where SQLite keeps {}; every COMMIT flushes instead",
                db.display()
            );
            return None;
        }
    };
    let durability = match Durability::start(&resolved, metrics, flush_delay) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(
                "cannot open the write-ahead log of {} to flush it from a separate thread ({e}); \
                 every COMMIT flushes it instead",
                db.display()
            );
            return None;
        }
    };
    match conn.execute_batch("PRAGMA synchronous = NORMAL") {
        Ok(()) => Some(durability),
        Err(e) => {
            tracing::warn!("cannot set synchronous=NORMAL ({e}); every COMMIT flushes instead");
            None
        }
    }
}

/// What the durability thread shares with the writer.
struct Shared {
    metrics: Arc<WriterMetrics>,
    flush_delay: Duration,
    failure: Arc<OnceLock<String>>,
    pending: Arc<AtomicUsize>,
}

fn run(wal: File, path: PathBuf, rx: mpsc::Receiver<Ended>, shared: Shared) {
    let Shared {
        metrics,
        flush_delay,
        failure,
        pending,
    } = shared;
    while let Ok(first) = rx.recv() {
        // Everything queued now was committed before this flush starts, so one `fdatasync`
        // covers it all.
        let mut ended = vec![first];
        ended.extend(rx.try_iter());
        if failure.get().is_none() && ended.iter().any(Ended::committed) {
            let started = Instant::now();
            if !flush_delay.is_zero() {
                std::thread::sleep(flush_delay);
            }
            if let Err(why) = flush(&wal, &path) {
                let _ = failure.set(why);
            }
            metrics.sync_time.record_duration(started.elapsed());
        }
        let n = ended.len();
        for e in ended {
            let results = match failure.get() {
                None => e.results,
                Some(why) => all_failed(e.results.len(), why),
            };
            acknowledge(&metrics, e.batch, results);
        }
        pending.fetch_sub(n, Ordering::AcqRel);
    }
}

/// `fdatasync` of the WAL. The WAL file keeps its inode while the writer's connection is open
/// (SQLite deletes it only when the last connection closes); a file at its path that is not the
/// one opened means something outside SQLite replaced it, and the frames just committed are not
/// in it, so that is a failure too.
fn flush(wal: &File, path: &Path) -> std::result::Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let same = match (wal.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if !same {
            return Err(format!(
                "the write-ahead log {} was removed or replaced while the store had it open; \
                 writes since the last flush may be lost and the store stops writing",
                path.display()
            ));
        }
    }
    wal.sync_data().map_err(|e| {
        format!(
            "flushing the write-ahead log {} to disk failed ({e}); writes since the last \
             flush may be lost and the store stops writing",
            path.display()
        )
    })
}
