//! The pool: checkout, return, and the bookkeeping behind [`PoolStatus`].
//!
//! Capacity is a FIFO-fair tokio [`Semaphore`] with `pool_size + max_overflow` permits: a caller
//! holds one permit from the moment it gets past the wait until its connection is returned.
//! Every open connection is either idle (no permit) or held by a permit holder, and a new one is
//! only opened by a permit holder that found no idle connection, so at most
//! `pool_size + max_overflow` are ever open. Returning pushes the connection to the idle stack
//! *before* giving the permit back, so the next waiter finds it there.

use crate::config::{ConfigError, PoolConfig};
use crate::error::PoolError;
use crate::histogram::{DurationSummary, Histogram};
use crate::manager::Manager;
use crate::status::{ClosedByReason, PoolStatus};
use parking_lot::Mutex;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit, TryAcquireError};
use tokio::time::Instant;

/// A pool of connections made by a [`Manager`]. Cheap to clone (all clones share one pool).
///
/// See the [crate documentation](crate) for the checkout rules.
pub struct Pool<M: Manager> {
    inner: Arc<Inner<M>>,
}

impl<M: Manager> Clone for Pool<M> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<M: Manager> fmt::Debug for Pool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.inner.config)
            .field("status", &self.status().sqlalchemy_line())
            .finish_non_exhaustive()
    }
}

struct Inner<M: Manager> {
    manager: M,
    config: PoolConfig,
    /// One permit per connection that may be in use (held or being opened).
    semaphore: Semaphore,
    /// Idle connections; the last pushed is the first taken (LIFO).
    idle: Mutex<Vec<IdleConn<M::Connection>>>,
    metrics: Arc<Metrics>,
}

/// Counters shared with every open connection, so closing one is counted however it happens.
struct Metrics {
    /// Open connections, plus connections being opened (SQLAlchemy counts those too).
    open: AtomicUsize,
    pending: AtomicUsize,
    timeouts: AtomicU64,
    created: AtomicU64,
    /// Indexed by `CloseReason as usize`.
    closed: [AtomicU64; 5],
    acquire_wait: Histogram,
    usage: Histogram,
}

/// Why a connection was closed; indexes `Metrics::closed`.
#[derive(Debug, Clone, Copy)]
enum CloseReason {
    Overflow = 0,
    Recycle = 1,
    PrePingFailed = 2,
    Broken = 3,
    Discarded = 4,
}

/// An open connection. Dropping it closes it and counts the close under `close_reason`, which
/// stays `Broken` unless the pool sets a better one (a drop nobody planned, e.g. a checkout
/// cancelled while pinging, leaves the connection in an unknown state).
struct Conn<C> {
    raw: C,
    created_at: Instant,
    close_reason: CloseReason,
    metrics: Arc<Metrics>,
}

impl<C> Conn<C> {
    /// Closes the connection, counting it under `reason`.
    fn close(mut self, reason: CloseReason) {
        self.close_reason = reason;
        drop(self);
    }
}

impl<C> Drop for Conn<C> {
    fn drop(&mut self) {
        self.metrics.open.fetch_sub(1, Ordering::Relaxed);
        self.metrics.closed[self.close_reason as usize].fetch_add(1, Ordering::Relaxed);
    }
}

struct IdleConn<C> {
    conn: Conn<C>,
    idle_since: Instant,
}

/// A slot counted in `open` while a connection is being opened; released if that fails or
/// the caller gives up.
struct Opening<'a>(&'a Metrics);

impl<'a> Opening<'a> {
    fn new(metrics: &'a Metrics) -> Self {
        metrics.open.fetch_add(1, Ordering::Relaxed);
        Self(metrics)
    }
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a caller in `pending_acquires` while it waits, including when its future is dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(pending: &'a AtomicUsize) -> Self {
        pending.fetch_add(1, Ordering::Relaxed);
        Self(pending)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<M: Manager> Pool<M> {
    /// A pool with no connections yet; they are opened on demand.
    pub fn new(manager: M, config: PoolConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let metrics = Arc::new(Metrics {
            open: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            timeouts: AtomicU64::new(0),
            created: AtomicU64::new(0),
            closed: Default::default(),
            acquire_wait: Histogram::latency(),
            usage: Histogram::latency(),
        });
        Ok(Self {
            inner: Arc::new(Inner {
                semaphore: Semaphore::new(config.max_connections()),
                idle: Mutex::new(Vec::with_capacity(config.pool_size)),
                manager,
                config,
                metrics,
            }),
        })
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// The manager that makes the connections.
    pub fn manager(&self) -> &M {
        &self.inner.manager
    }

    /// Checks out a connection, waiting up to `pool_timeout` (FIFO with other waiters) when
    /// `pool_size + max_overflow` are in use. The timeout bounds the wait for a free slot only;
    /// opening or pinging a connection is bounded by the manager's own timeouts.
    ///
    /// Cancel safe: dropping the future at any point gives back everything it took.
    pub async fn get(&self) -> Result<PooledConnection<M>, PoolError<M::Error>> {
        let started = Instant::now();
        let permit = self.acquire_permit().await?;
        // On error or cancellation the permit is dropped here, so no capacity leaks.
        let conn = self.inner.checkout().await?;
        // From here on the permit is given back by `PooledConnection`'s drop.
        permit.forget();
        self.inner
            .metrics
            .acquire_wait
            .record_duration(started.elapsed());
        Ok(PooledConnection {
            pool: Arc::clone(&self.inner),
            conn: Some(conn),
            checked_out_at: Instant::now(),
            discard: false,
        })
    }

    /// Waits for the right to hold a connection.
    async fn acquire_permit(&self) -> Result<SemaphorePermit<'_>, PoolError<M::Error>> {
        let inner = &*self.inner;
        // Fast path without a timer. It never overtakes a waiter: tokio hands released
        // permits straight to queued waiters, so none are free while anyone waits.
        match inner.semaphore.try_acquire() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(PoolError::Closed),
            Err(TryAcquireError::NoPermits) => {}
        }
        let _waiting = Waiting::new(&inner.metrics.pending);
        match tokio::time::timeout(inner.config.pool_timeout, inner.semaphore.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(PoolError::Closed),
            Err(_elapsed) => {
                inner.metrics.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(PoolError::Timeout {
                    pool_size: inner.config.pool_size,
                    max_overflow: inner.config.max_overflow,
                    timeout: inner.config.pool_timeout,
                })
            }
        }
    }

    /// The pool's figures now.
    pub fn status(&self) -> PoolStatus {
        let inner = &*self.inner;
        let m = &*inner.metrics;
        let (checked_in, connections) = {
            let idle = inner.idle.lock();
            (idle.len(), m.open.load(Ordering::Relaxed))
        };
        let closed = |reason: CloseReason| m.closed[reason as usize].load(Ordering::Relaxed);
        let signed = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        PoolStatus {
            pool_size: inner.config.pool_size,
            max_overflow: inner.config.max_overflow,
            timeout_s: inner.config.pool_timeout.as_secs_f64(),
            checked_in,
            checked_out: connections.saturating_sub(checked_in),
            overflow: signed(connections) - signed(inner.config.pool_size),
            connections,
            pending_acquires: m.pending.load(Ordering::Relaxed),
            timeouts_total: m.timeouts.load(Ordering::Relaxed),
            created_total: m.created.load(Ordering::Relaxed),
            closed_total_by_reason: ClosedByReason {
                overflow: closed(CloseReason::Overflow),
                recycle: closed(CloseReason::Recycle),
                pre_ping_failed: closed(CloseReason::PrePingFailed),
                broken: closed(CloseReason::Broken),
                discarded: closed(CloseReason::Discarded),
            },
            acquire_wait_ms: DurationSummary::from_nanos(&m.acquire_wait.snapshot()),
            usage_ms: DurationSummary::from_nanos(&m.usage.snapshot()),
        }
    }

    /// Shuts the pool: waiting and later `get` calls fail with [`PoolError::Closed`], idle
    /// connections are closed now and checked-out ones when they are returned (all counted as
    /// `discarded`).
    pub fn close(&self) {
        // Close first: a return that takes the idle lock after this sees the pool closed.
        self.inner.semaphore.close();
        let idle = std::mem::take(&mut *self.inner.idle.lock());
        for entry in idle {
            entry.conn.close(CloseReason::Discarded);
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.semaphore.is_closed()
    }
}

impl<M: Manager> Inner<M> {
    /// Finds a usable connection for a permit holder: an idle one that is young enough and
    /// answers its ping if it needs one, otherwise a new one.
    async fn checkout(&self) -> Result<Conn<M::Connection>, PoolError<M::Error>> {
        loop {
            let popped = self.idle.lock().pop();
            let Some(IdleConn {
                mut conn,
                idle_since,
            }) = popped
            else {
                break;
            };
            if let Some(max_age) = self.config.pool_recycle
                && conn.created_at.elapsed() > max_age
            {
                conn.close(CloseReason::Recycle);
                break;
            }
            if self.config.pool_pre_ping && idle_since.elapsed() > self.config.pre_ping_after_idle {
                // If this future is dropped mid-ping, `conn` is dropped and counted as broken.
                if self.manager.ping(&mut conn.raw).await.is_err() {
                    conn.close(CloseReason::PrePingFailed);
                    continue;
                }
            }
            return Ok(conn);
        }
        self.connect().await
    }

    async fn connect(&self) -> Result<Conn<M::Connection>, PoolError<M::Error>> {
        let opening = Opening::new(&self.metrics);
        let raw = self.manager.connect().await.map_err(PoolError::Connect)?;
        // The slot counted by `opening` now belongs to the connection (released by its drop).
        std::mem::forget(opening);
        self.metrics.created.fetch_add(1, Ordering::Relaxed);
        Ok(Conn {
            raw,
            created_at: Instant::now(),
            close_reason: CloseReason::Broken,
            metrics: Arc::clone(&self.metrics),
        })
    }

    /// Puts a returned connection back, or hands it back to be closed (outside the lock).
    fn check_in(
        &self,
        mut conn: Conn<M::Connection>,
        close: Option<CloseReason>,
    ) -> Option<Conn<M::Connection>> {
        if let Some(reason) = close {
            conn.close_reason = reason;
            return Some(conn);
        }
        let now = Instant::now();
        let mut idle = self.idle.lock();
        if self.semaphore.is_closed() {
            conn.close_reason = CloseReason::Discarded;
            return Some(conn);
        }
        if idle.len() >= self.config.pool_size {
            conn.close_reason = CloseReason::Overflow;
            return Some(conn);
        }
        idle.push(IdleConn {
            conn,
            idle_since: now,
        });
        None
    }
}

/// A checked-out connection; derefs to the manager's connection and goes back to the pool
/// when dropped.
///
/// On return the connection is closed instead of kept when: it was [`discard`](Self::discard)ed,
/// the manager's [`is_broken`](Manager::is_broken) says so, the holder is panicking (the
/// connection may be mid-transaction), the pool is closed, or `pool_size` connections are
/// already idle (an overflow connection).
pub struct PooledConnection<M: Manager> {
    pool: Arc<Inner<M>>,
    /// Always `Some` until drop.
    conn: Option<Conn<M::Connection>>,
    checked_out_at: Instant,
    discard: bool,
}

impl<M: Manager> PooledConnection<M> {
    /// Closes the connection instead of returning it, e.g. after it saw a fatal error.
    pub fn discard(mut self) {
        self.discard = true;
    }

    fn conn(&self) -> &Conn<M::Connection> {
        // Invariant: only `drop` takes the connection out.
        self.conn.as_ref().expect("connection present until drop")
    }

    fn conn_mut(&mut self) -> &mut Conn<M::Connection> {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl<M: Manager> Deref for PooledConnection<M> {
    type Target = M::Connection;

    fn deref(&self) -> &M::Connection {
        &self.conn().raw
    }
}

impl<M: Manager> DerefMut for PooledConnection<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        &mut self.conn_mut().raw
    }
}

impl<M: Manager> fmt::Debug for PooledConnection<M>
where
    M::Connection: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("conn", &self.conn.as_ref().map(|c| &c.raw))
            .finish_non_exhaustive()
    }
}

/// Gives one permit back when dropped, so it happens even if `is_broken` panics.
struct PermitReturn<'a>(&'a Semaphore);

impl Drop for PermitReturn<'_> {
    fn drop(&mut self) {
        self.0.add_permits(1);
    }
}

impl<M: Manager> Drop for PooledConnection<M> {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let pool = &*self.pool;
        // Declared first, dropped last: after the connection is idle again or closed.
        let _permit = PermitReturn(&pool.semaphore);
        pool.metrics
            .usage
            .record_duration(self.checked_out_at.elapsed());
        let close = if self.discard {
            Some(CloseReason::Discarded)
        } else if std::thread::panicking() || pool.manager.is_broken(&mut conn.raw) {
            Some(CloseReason::Broken)
        } else {
            None
        };
        drop(pool.check_in(conn, close));
    }
}
