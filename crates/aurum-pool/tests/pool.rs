//! Behaviour of the pool against a mock manager, mostly on tokio's paused clock so that
//! timeouts and idle times are exact and the tests take no real time.

mod common;

use aurum_pool::{Pool, PoolConfig, PoolError};
use common::{MockManager, mock};
use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::{Instant, advance, sleep};

fn config(pool_size: usize, max_overflow: usize, timeout_ms: u64) -> PoolConfig {
    PoolConfig {
        pool_size,
        max_overflow,
        pool_timeout: Duration::from_millis(timeout_ms),
        ..PoolConfig::default()
    }
}

/// Lets spawned tasks on the current-thread runtime run until they block.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn connections_are_created_lazily() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, PoolConfig::default()).unwrap();
    let s = pool.status();
    assert_eq!(
        (s.connections, s.created_total, stats.connects()),
        (0, 0, 0)
    );
    assert_eq!(
        s.sqlalchemy_line(),
        "Pool size: 10  Connections in pool: 0 Current Overflow: -10 Current Checked out connections: 0"
    );

    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    assert_eq!((a.id, b.id), (1, 2));
    assert_eq!(stats.connects(), 2);
    drop((a, b));
    // Both kept idle; a third get reuses one instead of connecting.
    let c = pool.get().await.unwrap();
    assert_eq!(stats.connects(), 2);
    drop(c);
    let s = pool.status();
    assert_eq!((s.connections, s.checked_in, s.checked_out), (2, 2, 0));
    assert_eq!(
        s.sqlalchemy_line(),
        "Pool size: 10  Connections in pool: 2 Current Overflow: -8 Current Checked out connections: 0"
    );
}

#[tokio::test(start_paused = true)]
async fn overflow_connections_are_closed_on_return() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(2, 3, 100)).unwrap();
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(pool.get().await.unwrap());
    }
    let s = pool.status();
    assert_eq!((s.connections, s.checked_out, s.overflow), (5, 5, 3));
    assert_eq!(
        s.sqlalchemy_line(),
        "Pool size: 2  Connections in pool: 0 Current Overflow: 3 Current Checked out connections: 5"
    );
    // pool_size + max_overflow are out: a sixth caller times out.
    let err = pool.get().await.unwrap_err();
    assert!(matches!(err, PoolError::Timeout { .. }), "{err}");

    drop(held);
    let s = pool.status();
    assert_eq!((s.connections, s.checked_in, s.checked_out), (2, 2, 0));
    assert_eq!(s.closed_total_by_reason.overflow, 3);
    assert_eq!(s.closed_total_by_reason.total(), 3);
    assert_eq!(
        (s.created_total, stats.connects(), stats.closes()),
        (5, 5, 3)
    );
    assert_eq!(
        s.sqlalchemy_line(),
        "Pool size: 2  Connections in pool: 2 Current Overflow: 0 Current Checked out connections: 0"
    );
}

#[tokio::test(start_paused = true)]
async fn timeout_has_sqlalchemys_message_and_is_counted() {
    let (manager, _stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 100)).unwrap();
    let _held = pool.get().await.unwrap();
    let started = Instant::now();
    let err = pool.get().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(
        err.to_string(),
        "pool limit of size 1 overflow 0 reached, connection timed out, timeout 0.10s"
    );
    let s = pool.status();
    assert_eq!((s.timeouts_total, s.pending_acquires), (1, 0));
    // A failed wait is not a successful acquisition.
    assert_eq!(s.acquire_wait_ms.count, 1);
}

#[tokio::test(start_paused = true)]
async fn timeout_message_uses_the_configured_numbers() {
    let (manager, _stats) = mock();
    let pool = Pool::new(manager, PoolConfig::default()).unwrap();
    let mut held = Vec::new();
    for _ in 0..30 {
        held.push(pool.get().await.unwrap());
    }
    let started = Instant::now();
    let err = pool.get().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(30));
    assert_eq!(
        err.to_string(),
        "pool limit of size 10 overflow 20 reached, connection timed out, timeout 30.00s"
    );
    assert_eq!(pool.status().timeouts_total, 1);
}

#[tokio::test(start_paused = true)]
async fn zero_timeout_fails_at_once_when_full() {
    let (manager, _stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 0)).unwrap();
    let held = pool.get().await.unwrap();
    let err = pool.get().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "pool limit of size 1 overflow 0 reached, connection timed out, timeout 0.00s"
    );
    drop(held);
    assert!(pool.get().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_returned_connection_goes_to_the_waiter() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 1_000)).unwrap();
    let held = pool.get().await.unwrap();
    let waiter = tokio::spawn({
        let pool = pool.clone();
        async move {
            let conn = pool.get().await.unwrap();
            conn.id
        }
    });
    settle().await;
    assert_eq!(pool.status().pending_acquires, 1);
    sleep(Duration::from_millis(40)).await;
    drop(held);
    assert_eq!(waiter.await.unwrap(), 1);
    assert_eq!(stats.connects(), 1);
    let s = pool.status();
    assert_eq!((s.pending_acquires, s.timeouts_total), (0, 0));
    // Two acquisitions: one at once, one after exactly 40 ms of (paused) waiting.
    assert_eq!(s.acquire_wait_ms.count, 2);
    assert_eq!(s.acquire_wait_ms.max, 40.0);
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_first_come_first_served() {
    let (manager, _stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 10_000)).unwrap();
    let held = pool.get().await.unwrap();
    let order = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for name in ["first", "second", "third", "fourth"] {
        let pool = pool.clone();
        let order = Arc::clone(&order);
        tasks.push(tokio::spawn(async move {
            let conn = pool.get().await.unwrap();
            order.lock().push(name);
            sleep(Duration::from_millis(5)).await;
            drop(conn);
        }));
        // Each waiter is queued before the next one is started.
        settle().await;
    }
    assert_eq!(pool.status().pending_acquires, 4);
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*order.lock(), ["first", "second", "third", "fourth"]);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_reused_last_in_first_out() {
    let (manager, _stats) = mock();
    let pool = Pool::new(manager, config(5, 0, 100)).unwrap();
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    let c = pool.get().await.unwrap();
    drop(b);
    drop(a);
    drop(c);
    let ids: Vec<usize> = [
        pool.get().await.unwrap(),
        pool.get().await.unwrap(),
        pool.get().await.unwrap(),
    ]
    .iter()
    .map(|conn| conn.id)
    .collect();
    assert_eq!(ids, [3, 1, 2]);
}

fn ping_config(after_idle_ms: u64) -> PoolConfig {
    PoolConfig {
        pre_ping_after_idle: Duration::from_millis(after_idle_ms),
        ..config(5, 5, 1_000)
    }
}

#[tokio::test(start_paused = true)]
async fn pre_ping_only_after_the_idle_threshold() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, ping_config(500)).unwrap();
    drop(pool.get().await.unwrap());
    advance(Duration::from_millis(400)).await;
    drop(pool.get().await.unwrap());
    assert_eq!(stats.pings(), 0, "idle 400 ms <= 500 ms: no ping");
    advance(Duration::from_millis(501)).await;
    let conn = pool.get().await.unwrap();
    assert_eq!(stats.pings(), 1, "idle 501 ms > 500 ms: pinged");
    assert_eq!(conn.id, 1);
    // The idle clock restarts on return.
    drop(conn);
    advance(Duration::from_millis(100)).await;
    drop(pool.get().await.unwrap());
    assert_eq!(stats.pings(), 1);
    assert_eq!(stats.connects(), 1);
}

#[tokio::test(start_paused = true)]
async fn no_pre_ping_when_disabled() {
    let (manager, stats) = mock();
    let config = PoolConfig {
        pool_pre_ping: false,
        ..ping_config(10)
    };
    let pool = Pool::new(manager, config).unwrap();
    drop(pool.get().await.unwrap());
    advance(Duration::from_secs(3600)).await;
    drop(pool.get().await.unwrap());
    assert_eq!((stats.pings(), stats.connects()), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn failed_pre_ping_replaces_the_connection() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, ping_config(500)).unwrap();
    drop(pool.get().await.unwrap());
    advance(Duration::from_secs(1)).await;
    stats.fail_ping.store(true, Ordering::SeqCst);
    let conn = pool.get().await.unwrap();
    // The dead one was closed and a fresh one (not pinged: it was just made) handed out.
    assert_eq!(conn.id, 2);
    assert_eq!((stats.pings(), stats.connects(), stats.closes()), (1, 2, 1));
    let s = pool.status();
    assert_eq!(s.closed_total_by_reason.pre_ping_failed, 1);
    assert_eq!((s.connections, s.checked_out), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn failed_pre_ping_tries_the_next_idle_connection() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, ping_config(500)).unwrap();
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    drop(a);
    drop(b); // top of the idle stack
    stats.dead.lock().insert(2);
    advance(Duration::from_secs(1)).await;
    let conn = pool.get().await.unwrap();
    assert_eq!(conn.id, 1);
    assert_eq!((stats.pings(), stats.connects()), (2, 2));
    let s = pool.status();
    assert_eq!(s.closed_total_by_reason.pre_ping_failed, 1);
    assert_eq!((s.connections, s.checked_in), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn old_connections_are_recycled_at_checkout() {
    let (manager, stats) = mock();
    let config = PoolConfig {
        pool_recycle: Some(Duration::from_secs(1)),
        pool_pre_ping: false,
        ..config(2, 0, 100)
    };
    let pool = Pool::new(manager, config).unwrap();
    drop(pool.get().await.unwrap());
    advance(Duration::from_millis(500)).await;
    let conn = pool.get().await.unwrap();
    assert_eq!(conn.id, 1, "500 ms old: kept");
    drop(conn);
    // Age counts from creation, not from the last return.
    advance(Duration::from_millis(600)).await;
    let conn = pool.get().await.unwrap();
    assert_eq!(conn.id, 2, "1.1 s old: replaced");
    assert_eq!((stats.connects(), stats.closes()), (2, 1));
    let s = pool.status();
    assert_eq!(s.closed_total_by_reason.recycle, 1);
    assert_eq!(s.connections, 1);
}

#[tokio::test(start_paused = true)]
async fn discard_closes_instead_of_returning() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 100)).unwrap();
    pool.get().await.unwrap().discard();
    let s = pool.status();
    assert_eq!((s.connections, s.checked_in, s.checked_out), (0, 0, 0));
    assert_eq!(s.closed_total_by_reason.discarded, 1);
    assert_eq!(stats.closes(), 1);
    // The slot is free again.
    assert_eq!(pool.get().await.unwrap().id, 2);
}

#[tokio::test(start_paused = true)]
async fn broken_connections_are_closed_on_return() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 100)).unwrap();
    let mut conn = pool.get().await.unwrap();
    conn.broken = true; // DerefMut reaches the connection
    drop(conn);
    let s = pool.status();
    assert_eq!((s.connections, s.closed_total_by_reason.broken), (0, 1));
    assert_eq!(stats.closes(), 1);
    assert_eq!(pool.get().await.unwrap().id, 2);
}

#[tokio::test(start_paused = true)]
async fn connect_failure_is_typed_and_leaks_nothing() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 100)).unwrap();
    stats.fail_connect.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let err = pool.get().await.unwrap_err();
        assert_eq!(err.to_string(), "could not open a new pooled connection");
        assert_eq!(
            err.source().map(|e| e.to_string()).as_deref(),
            Some("mock: connection refused")
        );
        assert!(matches!(err, PoolError::Connect(_)));
        let s = pool.status();
        assert_eq!((s.connections, s.checked_out, s.created_total), (0, 0, 0));
    }
    stats.fail_connect.store(false, Ordering::SeqCst);
    // With one slot, a leaked one would make this time out.
    let conn = pool.get().await.unwrap();
    assert_eq!(conn.id, 1);
    let s = pool.status();
    assert_eq!(
        (s.timeouts_total, s.created_total, s.connections),
        (0, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiter_leaks_nothing() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 60_000)).unwrap();
    let held = pool.get().await.unwrap();
    let gave_up = tokio::time::timeout(Duration::from_millis(50), pool.get()).await;
    assert!(gave_up.is_err(), "the caller's own timeout fired first");
    let s = pool.status();
    assert_eq!((s.pending_acquires, s.timeouts_total), (0, 0));
    drop(held);
    let started = Instant::now();
    let conn = pool.get().await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO, "served at once");
    assert_eq!((conn.id, stats.connects()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_get_dropped_while_connecting_leaks_nothing() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 60_000)).unwrap();
    stats.connect_delay_ms.store(1_000, Ordering::SeqCst);
    let gave_up = tokio::time::timeout(Duration::from_millis(10), pool.get()).await;
    assert!(gave_up.is_err());
    let s = pool.status();
    assert_eq!((s.connections, s.created_total), (0, 0));
    stats.connect_delay_ms.store(0, Ordering::SeqCst);
    let started = Instant::now();
    assert_eq!(pool.get().await.unwrap().id, 1);
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_get_dropped_while_pinging_closes_that_connection() {
    struct SlowPing;
    impl aurum_pool::Manager for SlowPing {
        type Connection = ();
        type Error = std::io::Error;
        async fn connect(&self) -> Result<(), std::io::Error> {
            Ok(())
        }
        async fn ping(&self, _: &mut ()) -> Result<(), std::io::Error> {
            sleep(Duration::from_secs(10)).await;
            Ok(())
        }
    }
    let pool = Pool::new(SlowPing, ping_config(0)).unwrap();
    drop(pool.get().await.unwrap());
    advance(Duration::from_millis(1)).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(10), pool.get())
            .await
            .is_err()
    );
    let s = pool.status();
    assert_eq!((s.connections, s.checked_out), (0, 0));
    assert_eq!(s.closed_total_by_reason.broken, 1);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_holder_leaks_nothing() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 100)).unwrap();
    let task = tokio::spawn({
        let pool = pool.clone();
        async move {
            let conn = pool.get().await.unwrap();
            if conn.id == 1 {
                panic!("user code failed while holding connection {}", conn.id);
            }
        }
    });
    assert!(task.await.unwrap_err().is_panic());
    let s = pool.status();
    assert_eq!((s.connections, s.checked_out), (0, 0));
    assert_eq!(s.closed_total_by_reason.broken, 1);
    assert_eq!(stats.closes(), 1);
    assert_eq!(pool.get().await.unwrap().id, 2);
}

#[tokio::test(start_paused = true)]
async fn usage_time_is_measured_from_checkout_to_return() {
    let (manager, _stats) = mock();
    let pool = Pool::new(manager, config(2, 0, 100)).unwrap();
    let conn = pool.get().await.unwrap();
    sleep(Duration::from_millis(250)).await;
    drop(conn);
    let conn = pool.get().await.unwrap();
    sleep(Duration::from_millis(3)).await;
    drop(conn);
    let usage = pool.status().usage_ms;
    assert_eq!(usage.count, 2);
    assert_eq!(usage.max, 250.0);
    assert_eq!(usage.sum_seconds, 0.253);
    // 3 ms falls in (2 ms, 5 ms], 250 ms in (200 ms, 500 ms].
    let le = |seconds: f64| {
        let i = usage
            .bucket_bounds_seconds
            .iter()
            .position(|&b| b == seconds)
            .unwrap();
        usage.bucket_counts[i]
    };
    assert_eq!((le(0.002), le(0.005), le(0.2), le(0.5)), (0, 1, 1, 2));
}

#[tokio::test(start_paused = true)]
async fn close_fails_waiters_and_closes_everything() {
    let (manager, stats) = mock();
    let pool = Pool::new(manager, config(2, 0, 10_000)).unwrap();
    let a = pool.get().await.unwrap();
    drop(pool.get().await.unwrap()); // one idle
    pool.close();
    assert!(pool.is_closed());
    assert_eq!(
        pool.status().closed_total_by_reason.discarded,
        1,
        "idle one closed now"
    );
    assert_eq!(stats.live(), 1);
    assert!(matches!(pool.get().await, Err(PoolError::Closed)));
    drop(a);
    let s = pool.status();
    assert_eq!((s.connections, s.checked_in), (0, 0));
    assert_eq!(
        s.closed_total_by_reason.discarded, 2,
        "held one closed on return"
    );
    assert_eq!(stats.live(), 0);

    // A caller waiting when the pool closes is told so at once.
    let (manager, _stats) = mock();
    let pool = Pool::new(manager, config(1, 0, 10_000)).unwrap();
    let held = pool.get().await.unwrap();
    let waiter = tokio::spawn({
        let pool = pool.clone();
        async move { pool.get().await.map(|c| c.id) }
    });
    settle().await;
    let started = Instant::now();
    pool.close();
    assert!(matches!(waiter.await.unwrap(), Err(PoolError::Closed)));
    assert_eq!(started.elapsed(), Duration::ZERO);
    drop(held);
    assert_eq!(pool.status().connections, 0);
}

#[test]
fn a_pool_refuses_an_invalid_config() {
    let (manager, _stats): (MockManager, _) = mock();
    let err = Pool::new(manager, config(0, 5, 100)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid pool setting `pool_size` = 0: must be at least 1"
    );
}
