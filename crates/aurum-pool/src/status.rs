//! What a pool reports about itself: SQLAlchemy's figures and HikariCP-style metrics.

use crate::histogram::DurationSummary;
use serde::{Deserialize, Serialize};

/// A pool's figures at one moment, for `aurum db status`, the API and Prometheus.
///
/// The connection counts follow SQLAlchemy's `QueuePool`: `connections` counts every open
/// connection including one being opened right now, `checked_out = connections − checked_in`,
/// and `overflow = connections − pool_size` (negative while fewer than `pool_size` are open).
/// Read while other tasks use the pool, the counts are each exact but not taken at the same
/// instant; at rest they are consistent (`created_total − closed_total == connections`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolStatus {
    /// Configured `pool_size`.
    pub pool_size: usize,
    /// Configured `max_overflow`.
    pub max_overflow: usize,
    /// Configured `pool_timeout`, seconds.
    pub timeout_s: f64,
    /// Idle connections in the pool.
    pub checked_in: usize,
    /// Connections in use (including one being opened or pinged for a caller).
    pub checked_out: usize,
    /// `connections − pool_size`, SQLAlchemy's `overflow()`.
    pub overflow: i64,
    /// Open connections.
    pub connections: usize,
    /// Callers waiting for a connection right now.
    pub pending_acquires: usize,
    /// `get` calls that failed with the timeout error.
    pub timeouts_total: u64,
    /// Connections opened successfully.
    pub created_total: u64,
    /// Connections closed, by why.
    pub closed_total_by_reason: ClosedByReason,
    /// Time from calling `get` to holding a connection (including opening or pinging one),
    /// for successful calls.
    pub acquire_wait_ms: DurationSummary,
    /// Time from checkout to return.
    pub usage_ms: DurationSummary,
}

impl PoolStatus {
    /// SQLAlchemy's `QueuePool.status()` text, character for character (note the two spaces
    /// after the size):
    /// `Pool size: 10  Connections in pool: 3 Current Overflow: -7 Current Checked out connections: 0`.
    pub fn sqlalchemy_line(&self) -> String {
        format!(
            "Pool size: {}  Connections in pool: {} Current Overflow: {} Current Checked out connections: {}",
            self.pool_size, self.checked_in, self.overflow, self.checked_out
        )
    }
}

/// Connections closed so far, per reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedByReason {
    /// Returned while `pool_size` connections were already idle.
    pub overflow: u64,
    /// Older than `pool_recycle` at checkout.
    pub recycle: u64,
    /// Failed the pre-ping at checkout.
    pub pre_ping_failed: u64,
    /// The manager's `is_broken` said so on return, the holder panicked while holding it, or
    /// a checkout was cancelled while pinging it (its state is then unknown).
    pub broken: u64,
    /// Closed on the user's request: `PooledConnection::discard`, or `Pool::close`.
    pub discarded: u64,
}

impl ClosedByReason {
    /// All closed connections.
    pub fn total(&self) -> u64 {
        self.overflow + self.recycle + self.pre_ping_failed + self.broken + self.discarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::Histogram;

    fn status(pool_size: usize, checked_in: usize, connections: usize) -> PoolStatus {
        let empty = DurationSummary::from_nanos(&Histogram::latency().snapshot());
        PoolStatus {
            pool_size,
            max_overflow: 20,
            timeout_s: 30.0,
            checked_in,
            checked_out: connections - checked_in,
            overflow: connections as i64 - pool_size as i64,
            connections,
            pending_acquires: 0,
            timeouts_total: 0,
            created_total: connections as u64,
            closed_total_by_reason: ClosedByReason::default(),
            acquire_wait_ms: empty.clone(),
            usage_ms: empty,
        }
    }

    #[test]
    fn sqlalchemy_line_matches_queuepool_status() {
        assert_eq!(
            status(10, 3, 3).sqlalchemy_line(),
            "Pool size: 10  Connections in pool: 3 Current Overflow: -7 Current Checked out connections: 0"
        );
        assert_eq!(
            status(10, 8, 8).sqlalchemy_line(),
            "Pool size: 10  Connections in pool: 8 Current Overflow: -2 Current Checked out connections: 0"
        );
        assert_eq!(
            status(10, 0, 30).sqlalchemy_line(),
            "Pool size: 10  Connections in pool: 0 Current Overflow: 20 Current Checked out connections: 30"
        );
    }

    #[test]
    fn closed_total_adds_every_reason() {
        let c = ClosedByReason {
            overflow: 1,
            recycle: 2,
            pre_ping_failed: 3,
            broken: 4,
            discarded: 5,
        };
        assert_eq!(c.total(), 15);
    }

    #[test]
    fn serializes_with_the_documented_field_names() {
        let json = serde_json::to_value(status(2, 1, 1)).unwrap();
        for key in [
            "pool_size",
            "max_overflow",
            "timeout_s",
            "checked_in",
            "checked_out",
            "overflow",
            "connections",
            "pending_acquires",
            "timeouts_total",
            "created_total",
            "closed_total_by_reason",
            "acquire_wait_ms",
            "usage_ms",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["overflow"], -1);
        assert_eq!(
            json["closed_total_by_reason"],
            serde_json::json!({"overflow": 0, "recycle": 0, "pre_ping_failed": 0, "broken": 0, "discarded": 0})
        );
        let summary = &json["usage_ms"];
        for key in [
            "count",
            "p50",
            "p90",
            "p99",
            "max",
            "sum_seconds",
            "bucket_bounds_seconds",
            "bucket_counts",
        ] {
            assert!(summary.get(key).is_some(), "missing usage_ms.{key}");
        }
    }
}
