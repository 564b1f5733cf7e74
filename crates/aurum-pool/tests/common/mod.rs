//! A mock manager that counts what the pool does to it and can be told to fail.

#![allow(dead_code)] // each test file uses a different part

use aurum_pool::Manager;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// What the mock saw; shared between the manager (owned by the pool) and the test.
#[derive(Debug, Default)]
pub struct Stats {
    pub connects: AtomicUsize,
    pub failed_connects: AtomicUsize,
    pub closes: AtomicUsize,
    pub pings: AtomicUsize,
    pub live: AtomicUsize,
    pub max_live: AtomicUsize,
    pub fail_connect: AtomicBool,
    pub fail_ping: AtomicBool,
    /// Connection ids whose ping fails.
    pub dead: Mutex<HashSet<usize>>,
    /// How long `connect` takes (0: immediately).
    pub connect_delay_ms: AtomicUsize,
}

impl Stats {
    pub fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }
    pub fn closes(&self) -> usize {
        self.closes.load(Ordering::SeqCst)
    }
    pub fn pings(&self) -> usize {
        self.pings.load(Ordering::SeqCst)
    }
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("mock: {0}")]
pub struct MockError(pub &'static str);

/// A fake connection: a serial number, and a flag the test sets to make `is_broken` true.
#[derive(Debug)]
pub struct MockConn {
    pub id: usize,
    pub broken: bool,
    stats: Arc<Stats>,
}

impl Drop for MockConn {
    fn drop(&mut self) {
        self.stats.closes.fetch_add(1, Ordering::SeqCst);
        self.stats.live.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct MockManager {
    pub stats: Arc<Stats>,
}

pub fn mock() -> (MockManager, Arc<Stats>) {
    let stats = Arc::new(Stats::default());
    (
        MockManager {
            stats: Arc::clone(&stats),
        },
        stats,
    )
}

impl Manager for MockManager {
    type Connection = MockConn;
    type Error = MockError;

    async fn connect(&self) -> Result<MockConn, MockError> {
        let delay = self.stats.connect_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay as u64)).await;
        }
        if self.stats.fail_connect.load(Ordering::SeqCst) {
            self.stats.failed_connects.fetch_add(1, Ordering::SeqCst);
            return Err(MockError("connection refused"));
        }
        let id = self.stats.connects.fetch_add(1, Ordering::SeqCst) + 1;
        let live = self.stats.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.stats.max_live.fetch_max(live, Ordering::SeqCst);
        Ok(MockConn {
            id,
            broken: false,
            stats: Arc::clone(&self.stats),
        })
    }

    async fn ping(&self, conn: &mut MockConn) -> Result<(), MockError> {
        self.stats.pings.fetch_add(1, Ordering::SeqCst);
        if self.stats.fail_ping.load(Ordering::SeqCst) || self.stats.dead.lock().contains(&conn.id)
        {
            return Err(MockError("server closed the connection"));
        }
        Ok(())
    }

    fn is_broken(&self, conn: &mut MockConn) -> bool {
        conn.broken
    }
}
