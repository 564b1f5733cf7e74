//! Why a connection could not be had.

use std::time::Duration;

/// Why [`Pool::get`](crate::Pool::get) failed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError<E: std::error::Error + 'static> {
    /// Every allowed connection was in use for the whole `pool_timeout`. The text is
    /// SQLAlchemy's, with the configured numbers and the timeout to two decimals.
    #[error(
        "pool limit of size {pool_size} overflow {max_overflow} reached, connection timed out, timeout {:.2}s",
        .timeout.as_secs_f64()
    )]
    Timeout {
        /// The pool's `pool_size`.
        pool_size: usize,
        /// The pool's `max_overflow`.
        max_overflow: usize,
        /// The pool's `pool_timeout`.
        timeout: Duration,
    },
    /// The manager could not open a new connection; the error is the manager's, as its source.
    #[error("could not open a new pooled connection")]
    Connect(#[source] E),
    /// The pool was closed with [`Pool::close`](crate::Pool::close).
    #[error("the connection pool is closed")]
    Closed,
}
