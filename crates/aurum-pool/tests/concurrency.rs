//! Many tasks on several threads hammering one pool; the books must balance afterwards.

mod common;

use aurum_pool::{Pool, PoolConfig};
use common::mock;
use std::sync::atomic::Ordering;
use std::time::Duration;

const TASKS: usize = 64;
const ROUNDS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_on_a_ten_plus_twenty_pool_keep_consistent_counters() {
    let (manager, stats) = mock();
    let config = PoolConfig {
        // Exercise every path: pings (any idle time counts), recycling and overflow closes.
        pre_ping_after_idle: Duration::ZERO,
        pool_recycle: Some(Duration::from_millis(20)),
        ..PoolConfig::default()
    };
    let pool = Pool::new(manager, config).unwrap();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let mut conn = pool.get().await.unwrap();
                match (task * ROUNDS + round) % 31 {
                    0 => conn.discard(),
                    1 => conn.broken = true,
                    2 => tokio::time::sleep(Duration::from_millis(1)).await,
                    _ => tokio::task::yield_now().await,
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let s = pool.status();
    let gets = (TASKS * ROUNDS) as u64;
    assert_eq!(s.checked_out, 0);
    assert_eq!(s.pending_acquires, 0);
    assert_eq!(s.timeouts_total, 0);
    assert!(
        s.connections <= 10,
        "only pool_size stay idle: {}",
        s.connections
    );
    assert_eq!(s.checked_in, s.connections);
    assert_eq!(
        s.created_total - s.closed_total_by_reason.total(),
        s.connections as u64
    );
    // The pool's books agree with what the manager saw.
    assert_eq!(s.created_total, stats.connects() as u64);
    assert_eq!(s.closed_total_by_reason.total(), stats.closes() as u64);
    assert_eq!(stats.live(), s.connections);
    assert!(stats.max_live.load(Ordering::SeqCst) <= 30);
    // Every 31st use was discarded, and every 31st (offset 1) marked broken.
    let every_31st = |offset| (0..TASKS * ROUNDS).filter(|i| i % 31 == offset).count() as u64;
    assert_eq!(s.closed_total_by_reason.discarded, every_31st(0));
    assert_eq!(s.closed_total_by_reason.broken, every_31st(1));
    assert_eq!(s.usage_ms.count, gets);
    assert_eq!(s.acquire_wait_ms.count, gets);
    assert_eq!(*s.acquire_wait_ms.bucket_counts.last().unwrap(), gets);
}
