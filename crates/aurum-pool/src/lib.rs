//! # aurum-pool
//!
//! A generic async connection pool with the semantics of SQLAlchemy's `QueuePool` and the
//! metrics of HikariCP. It knows no database: a [`Manager`] opens and pings connections (the
//! store plugs in SQLite and PostgreSQL).
//!
//! ## Why hand-written
//!
//! aurum keeps the pool knobs of the Python original (`pool_size`, `max_overflow`,
//! `pool_timeout`, `pool_recycle`, `pool_pre_ping`) with their exact meaning, its timeout error
//! text and its `status()` line, and reports HikariCP-style metrics. deadpool and bb8 have no
//! overflow concept (connections beyond `pool_size` that are closed on return), no pre-ping
//! that only checks a connection after it sat idle, and not these figures; the whole pool is
//! a few hundred lines over tokio's fair semaphore.
//!
//! ## Rules
//!
//! - Connections are opened lazily, when a caller finds none idle. At most
//!   `pool_size + max_overflow` are open at once (counting one being opened).
//! - Idle connections are kept up to `pool_size`; one returned while `pool_size` are already
//!   idle is closed (an overflow connection).
//! - [`Pool::get`] takes the most recently returned idle connection (LIFO: hot connections are
//!   reused, cold ones stay cold and are the ones that get pinged or recycled). One older than
//!   `pool_recycle` is closed and a new one opened; one idle longer than
//!   `pre_ping_after_idle` is pinged first when `pool_pre_ping` is on, and if the ping fails it
//!   is closed and the next idle one (or a new one) is tried. With none idle and room left, a
//!   new connection is opened; otherwise the caller waits, first come first served, up to
//!   `pool_timeout`, then gets [`PoolError::Timeout`]
//!   (`pool limit of size 10 overflow 20 reached, connection timed out, timeout 30.00s`).
//! - A [`PooledConnection`] goes back to the pool when dropped; [`PooledConnection::discard`]
//!   closes it instead, and so does a return while the manager's [`Manager::is_broken`] says
//!   so or while the holder is panicking.
//! - Nothing leaks: a failed connect, a `get` future dropped while waiting, connecting or
//!   pinging, and a panic while holding a connection all give their capacity back.
//! - Closing a connection is dropping it.
//! - Times use tokio's clock ([`tokio::time::Instant`]), so the pool needs a tokio runtime
//!   with the time driver, and tests can run it on paused time.
//!
//! ```
//! use aurum_pool::{Manager, Pool, PoolConfig};
//!
//! struct Numbers;
//! impl Manager for Numbers {
//!     type Connection = u32;
//!     type Error = std::io::Error;
//!     async fn connect(&self) -> Result<u32, std::io::Error> { Ok(7) }
//!     async fn ping(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let pool = Pool::new(Numbers, PoolConfig::default()).unwrap();
//! let conn = pool.get().await.unwrap();
//! assert_eq!(*conn, 7);
//! drop(conn);
//! assert_eq!(
//!     pool.status().sqlalchemy_line(),
//!     "Pool size: 10  Connections in pool: 1 Current Overflow: -9 Current Checked out connections: 0"
//! );
//! # });
//! ```
//!
//! [`Histogram`] is the lock-free histogram behind the wait and usage metrics, public so other
//! parts (the store's writer) can use it for their own latencies and values.

#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod histogram;
pub mod manager;
pub mod pool;
pub mod status;

pub use config::{ConfigError, PoolConfig};
pub use error::PoolError;
pub use histogram::{
    DurationSummary, Histogram, HistogramError, HistogramSnapshot, LATENCY_BOUNDS_NANOS,
};
pub use manager::Manager;
pub use pool::{Pool, PooledConnection};
pub use status::{ClosedByReason, PoolStatus};
