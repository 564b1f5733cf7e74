//! What both backends' writers share: the request queue with acknowledgements, the settings, and
//! the figures they report (queue depth, batch sizes, commit time, busy errors).

use crate::error::{Result, StoreError};
use crate::ops::{WriteOp, WriteOutcome};
use aurum_pool::{DurationSummary, Histogram, HistogramSnapshot};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Writer settings (`[store]` keys `writer_max_batch`, `writer_queue_capacity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WriterConfig {
    /// Most requests committed in one transaction.
    pub max_batch: usize,
    /// Requests that may wait in the queue before producers wait for room.
    pub queue_capacity: usize,
    /// Test hook, to rehearse a slow disk: every durable flush takes this much longer (a sleep
    /// before each COMMIT; with SQLite's `background_flush`, before each flush of the
    /// durability thread instead).
    pub commit_delay_ms: u64,
    /// SQLite: flush the write-ahead log to disk on a separate thread, which acknowledges each
    /// batch after the flush, so the writer prepares the next batch meanwhile (default). With
    /// `false` every COMMIT flushes by itself (`synchronous=FULL`), and readers never see a
    /// write before it is on disk. Acknowledged writes are on disk either way.
    pub background_flush: bool,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: 1024,
            queue_capacity: 65_536,
            commit_delay_ms: 0,
            background_flush: true,
        }
    }
}

/// One queued request and where its acknowledgement goes.
pub(crate) struct Request {
    pub op: WriteOp,
    pub ack: oneshot::Sender<Result<WriteOutcome>>,
    /// Requests of the same group still to come right behind this one (see
    /// [`WriterHandle::write_group`]); 0 for a lone request.
    pub follows: usize,
}

impl Request {
    /// Whether more of its group is on its way: the writer waits for it before committing.
    pub fn group_open(&self) -> bool {
        self.follows > 0
    }
}

/// Longest wait for the rest of a group whose first requests arrived. The group's requests are
/// sent back to back with their queue slots reserved beforehand and no await between them, so
/// the rest always comes, nanoseconds later unless the sending thread is descheduled (a CI
/// machine under load showed more than 1 ms); the bound only guards against the unforeseen.
pub(crate) const GROUP_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Counters and histograms of a writer; shared between the writer and status readers.
#[derive(Debug)]
pub(crate) struct WriterMetrics {
    pub queue_depth: AtomicI64,
    pub queue_capacity: usize,
    pub max_batch: usize,
    pub batches_total: AtomicU64,
    pub requests_total: AtomicU64,
    pub rejected_total: AtomicU64,
    pub failed_total: AtomicU64,
    pub busy_errors_total: AtomicU64,
    pub retries_total: AtomicU64,
    pub replays_total: AtomicU64,
    pub batch_size: Histogram,
    pub commit_time: Histogram,
    pub sync_time: Histogram,
}

/// Bucket bounds for batch sizes: powers of two up to 4096.
const BATCH_BOUNDS: [u64; 13] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

impl WriterMetrics {
    pub fn new(config: &WriterConfig) -> Self {
        WriterMetrics {
            queue_depth: AtomicI64::new(0),
            queue_capacity: config.queue_capacity,
            max_batch: config.max_batch,
            batches_total: AtomicU64::new(0),
            requests_total: AtomicU64::new(0),
            rejected_total: AtomicU64::new(0),
            failed_total: AtomicU64::new(0),
            busy_errors_total: AtomicU64::new(0),
            retries_total: AtomicU64::new(0),
            replays_total: AtomicU64::new(0),
            batch_size: Histogram::with_bounds(BATCH_BOUNDS.to_vec())
                .unwrap_or_else(|_| Histogram::latency()),
            commit_time: Histogram::latency(),
            sync_time: Histogram::latency(),
        }
    }

    /// Counts the outcome of one request.
    pub fn count(&self, result: &Result<WriteOutcome>) {
        self.requests_total.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(_) => {}
            Err(e) if e.is_rejection() => {
                self.rejected_total.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.failed_total.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn snapshot(&self, backend: &'static str) -> WriterStatus {
        let sizes = self.batch_size.snapshot();
        WriterStatus {
            backend,
            queue_depth: self.queue_depth.load(Ordering::Relaxed).max(0) as u64,
            queue_capacity: self.queue_capacity,
            max_batch: self.max_batch,
            batches_total: self.batches_total.load(Ordering::Relaxed),
            requests_total: self.requests_total.load(Ordering::Relaxed),
            rejected_total: self.rejected_total.load(Ordering::Relaxed),
            failed_total: self.failed_total.load(Ordering::Relaxed),
            busy_errors_total: self.busy_errors_total.load(Ordering::Relaxed),
            retries_total: self.retries_total.load(Ordering::Relaxed),
            replays_total: self.replays_total.load(Ordering::Relaxed),
            batch_size: ValueSummary::from_snapshot(&sizes),
            commit_ms: DurationSummary::from_nanos(&self.commit_time.snapshot()),
            sync_ms: DurationSummary::from_nanos(&self.sync_time.snapshot()),
        }
    }
}

/// Percentiles of a plain value (batch sizes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueSummary {
    /// How many values.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median (estimated from buckets).
    pub p50: f64,
    /// 99th percentile (estimated from buckets).
    pub p99: f64,
    /// Largest.
    pub max: u64,
    /// Bucket upper bounds.
    pub bucket_bounds: Vec<u64>,
    /// Cumulative counts per bucket.
    pub bucket_counts: Vec<u64>,
    /// Sum of all values.
    pub sum: u64,
}

impl ValueSummary {
    fn from_snapshot(s: &HistogramSnapshot) -> Self {
        let count = s.count();
        ValueSummary {
            count,
            mean: if count == 0 {
                0.0
            } else {
                s.sum as f64 / count as f64
            },
            p50: s.quantile(0.5).unwrap_or(0.0),
            p99: s.quantile(0.99).unwrap_or(0.0),
            max: s.max,
            bucket_bounds: s.bounds.clone(),
            bucket_counts: s.cumulative_counts(),
            sum: s.sum,
        }
    }
}

/// A writer's figures, for `aurum db status --json`, the API and Prometheus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriterStatus {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Requests waiting now.
    pub queue_depth: u64,
    /// Queue capacity.
    pub queue_capacity: usize,
    /// Most requests per transaction.
    pub max_batch: usize,
    /// Transactions committed (or attempted).
    pub batches_total: u64,
    /// Requests handled.
    pub requests_total: u64,
    /// Requests refused by the domain rules.
    pub rejected_total: u64,
    /// Requests that failed for an infrastructure reason.
    pub failed_total: u64,
    /// Times the database answered "busy"/"locked" (SQLite); stays 0 with one writer.
    pub busy_errors_total: u64,
    /// Batches retried after a serialization failure, deadlock or lost connection.
    pub retries_total: u64,
    /// Batches whose set-based write failed and were replayed one request per savepoint.
    pub replays_total: u64,
    /// Requests per transaction.
    pub batch_size: ValueSummary,
    /// Time to COMMIT, ms. On PostgreSQL this includes the durable flush; on SQLite it is the
    /// writing of the batch to the write-ahead log, and the flush is `sync_ms`.
    pub commit_ms: DurationSummary,
    /// Time of each flush of the write-ahead log to disk by SQLite's durability thread, which
    /// acknowledges batches only after it (one flush covers every batch committed before it);
    /// empty on PostgreSQL.
    pub sync_ms: DurationSummary,
}

/// The producers' side of a writer: sends requests, awaits acknowledgements.
#[derive(Debug, Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Request>,
    pub metrics: Arc<WriterMetrics>,
}

impl WriterHandle {
    pub fn new(tx: mpsc::Sender<Request>, metrics: Arc<WriterMetrics>) -> Self {
        WriterHandle { tx, metrics }
    }

    /// Queues a request and waits until its transaction has committed (or it failed).
    pub async fn write(&self, op: WriteOp) -> Result<WriteOutcome> {
        let (ack, done) = oneshot::channel();
        self.metrics.queue_depth.fetch_add(1, Ordering::Relaxed);
        if self
            .tx
            .send(Request {
                op,
                ack,
                follows: 0,
            })
            .await
            .is_err()
        {
            self.metrics.queue_depth.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::WriterGone("the store was closed".into()));
        }
        wait_ack(done).await
    }

    /// Queues several requests so that the writer commits them in one transaction (unless
    /// they exceed its batch size), and waits for every acknowledgement; the results are in
    /// the order of `ops`, each request still succeeding or failing alone.
    pub async fn write_group(&self, ops: Vec<WriteOp>) -> Vec<Result<WriteOutcome>> {
        let n = ops.len();
        if n == 0 {
            return Vec::new();
        }
        if n > self.tx.max_capacity() {
            // More than the queue holds at once: no group, each request on its own.
            let writes = ops.into_iter().map(|op| self.write(op));
            return futures_util::future::join_all(writes).await;
        }
        // Every slot first, then the sends back to back: the writer sees the group whole.
        let permits = match self.tx.reserve_many(n).await {
            Ok(p) => p,
            Err(_) => {
                return (0..n)
                    .map(|_| Err(StoreError::WriterGone("the store was closed".into())))
                    .collect();
            }
        };
        self.metrics
            .queue_depth
            .fetch_add(n as i64, Ordering::Relaxed);
        let mut acks = Vec::with_capacity(n);
        for ((i, op), permit) in ops.into_iter().enumerate().zip(permits) {
            let (ack, done) = oneshot::channel();
            permit.send(Request {
                op,
                ack,
                follows: n - 1 - i,
            });
            acks.push(done);
        }
        futures_util::future::join_all(acks.into_iter().map(wait_ack)).await
    }
}

async fn wait_ack(done: oneshot::Receiver<Result<WriteOutcome>>) -> Result<WriteOutcome> {
    done.await
        .map_err(|_| StoreError::WriterGone("the writer stopped before acknowledging".into()))?
}

/// Receives what is queued behind `batch`'s last request while that request's group is still
/// arriving (at most [`GROUP_WAIT`]), up to `max_batch` requests.
pub(crate) fn complete_group(
    rx: &mut mpsc::Receiver<Request>,
    batch: &mut Vec<Request>,
    max_batch: usize,
) {
    let until = std::time::Instant::now() + GROUP_WAIT;
    while batch.len() < max_batch && batch.last().is_some_and(Request::group_open) {
        match rx.try_recv() {
            Ok(r) => batch.push(r),
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                if std::time::Instant::now() >= until {
                    break;
                }
                std::thread::yield_now();
            }
        }
    }
}

/// The same failure, `why`, for each of `n` requests (a batch that could not be committed, or
/// not be made durable).
pub(crate) fn all_failed(n: usize, why: &str) -> Vec<Result<WriteOutcome>> {
    (0..n)
        .map(|_| Err(StoreError::Commit(why.to_string())))
        .collect()
}

/// Sends each request its result and records the batch.
pub(crate) fn acknowledge(
    metrics: &WriterMetrics,
    batch: Vec<Request>,
    results: Vec<Result<WriteOutcome>>,
) {
    metrics.batches_total.fetch_add(1, Ordering::Relaxed);
    metrics.batch_size.record(batch.len() as u64);
    for (req, result) in batch.into_iter().zip(results) {
        metrics.count(&result);
        // A producer that gave up waiting is not an error of the write.
        let _ = req.ack.send(result);
    }
}
