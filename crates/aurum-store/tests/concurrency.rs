//! Many concurrent writers on each backend: no errors, every row present, books consistent.
//! And PostgreSQL connections killed under load: writes are retried, none lost or doubled.

mod common;

use aurum_core::{Asset, Side};
use aurum_store::loadtest::{self, LoadMode, LoadSpec};
use aurum_store::{Store, StoreConfig, WriteOutcome};
use common::*;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

async fn sixty_four_writers(url: String, mode: LoadMode) {
    // Only SQLite's default writer flushes on the durability thread.
    let flushes_apart = url.starts_with("sqlite") && mode == LoadMode::Group;
    let config = StoreConfig {
        url,
        ..StoreConfig::default()
    };
    let spec = LoadSpec {
        writers: 64,
        fills_per_writer: 60,
        mode,
    };
    let progress = Arc::new(AtomicU64::new(0));
    let report = loadtest::run(&config, &spec, progress.clone())
        .await
        .unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.error_kinds);
    assert_eq!(report.fills_ok, 64 * 60);
    assert_eq!(progress.load(std::sync::atomic::Ordering::Relaxed), 64 * 60);
    assert!(report.rows_verified, "{}", report.verification);
    let w = report.writer.unwrap();
    assert_eq!(
        (w.failed_total, w.rejected_total, w.busy_errors_total),
        (0, 0, 0)
    );
    assert_eq!(w.sync_ms.count > 0, flushes_apart, "{:?}", w.sync_ms);
    // Group commit actually grouped: fewer transactions than requests.
    assert!(
        w.batches_total < w.requests_total,
        "{} batches for {} requests",
        w.batches_total,
        w.requests_total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lt.db").display());
    sixty_four_writers(url, LoadMode::Group).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_on_sqlite_with_the_flush_inside_commit() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lt.db").display());
    sixty_four_writers(url, LoadMode::GroupInlineFlush).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_on_postgres() {
    let Some(url) = pg_schema_url("lt64") else {
        return;
    };
    sixty_four_writers(url, LoadMode::Group).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_designs_write_correct_rows_when_they_succeed() {
    // The baselines may fail writes ("database is locked") but what they commit must be sound.
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![format!("sqlite://{}", dir.path().join("base.db").display())];
    if let Some(pg) = pg_schema_url("base") {
        urls.push(pg);
    }
    for url in urls {
        for mode in [LoadMode::PerFillTx, LoadMode::ConnectPerOp] {
            let config = StoreConfig {
                url: url.clone(),
                ..StoreConfig::default()
            };
            let spec = LoadSpec {
                writers: 8,
                fills_per_writer: 20,
                mode,
            };
            let report = loadtest::run(&config, &spec, Arc::new(AtomicU64::new(0)))
                .await
                .unwrap();
            assert!(report.rows_verified, "{mode}: {}", report.verification);
            assert_eq!(report.fills_ok + report.errors, 160, "{mode}");
        }
    }
}

/// Kills every other connection of the test database's aurum sessions, repeatedly, while 8
/// tasks write fills; every write must still be acknowledged exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writer_survives_killed_connections() {
    let Some(url) = pg_schema_url("kill") else {
        return;
    };
    // A name of its own, so the killer below touches this test's connections only.
    let app = format!("aurum_kill_{}", std::process::id());
    let url = format!("{url}&application_name={app}");
    let store = Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    ok(&store, bot("b")).await;
    ok(&store, deposit("b", "100000000")).await;
    for t in 0..8 {
        ok(&store, place("b", &format!("o{t}"), Side::Buy, "1000000")).await;
        ok(&store, ack("b", &format!("o{t}"), &format!("x{t}"))).await;
    }
    let (killer, conn) = tokio_postgres::connect(&pg_url().unwrap(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let kills = {
        let stop = stop.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let mut killed = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                let rows = killer
                    .query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                         WHERE application_name = $1 AND pid <> pg_backend_pid()",
                        &[&app],
                    )
                    .await
                    .unwrap();
                killed += rows.len() as i64;
            }
            killed
        })
    };
    let mut tasks = Vec::new();
    for t in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = 0;
            for i in 0..60 {
                let out = s
                    .write(fill(
                        "b",
                        &format!("o{t}"),
                        &format!("t{t}-{i}"),
                        Side::Buy,
                        "1",
                        "1",
                        "0",
                    ))
                    .await;
                match out {
                    Ok(WriteOutcome::Fill(_)) => acked += 1,
                    other => panic!("fill t{t}-{i}: {other:?}"),
                }
            }
            acked
        }));
    }
    let mut acked = 0;
    for t in tasks {
        acked += t.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let killed = kills.await.unwrap();
    assert!(
        killed > 0,
        "the test killed no connection, so it proved nothing"
    );
    assert_eq!(acked, 480);
    assert_eq!(store.fills("b", 10_000).await.unwrap().len(), 480);
    assert_eq!(
        store.balances("b").await.unwrap()[&Asset::usdt()],
        dec("99999520")
    );
    assert!(store.check().await.unwrap().is_clean());
    assert!(store.writer_status().retries_total > 0);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_ping_replaces_a_terminated_postgres_connection() {
    let Some(url) = pg_schema_url("ping") else {
        return;
    };
    let store = Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    let Store::Postgres(pg) = &store else {
        panic!()
    };
    let pid: i32 = {
        let c = pg.pool().get().await.unwrap();
        c.query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0)
    };
    let (killer, conn) = tokio_postgres::connect(&pg_url().unwrap(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let killed: bool = killer
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);
    // Idle for longer than the 500 ms pre-ping threshold: the next checkout pings, finds the
    // connection dead, and hands out a fresh one.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let before = pg.pool_status();
    let c = pg.pool().get().await.unwrap();
    let new_pid: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(new_pid, pid);
    drop(c);
    let after = pg.pool_status();
    assert_eq!(
        after.closed_total_by_reason.pre_ping_failed,
        before.closed_total_by_reason.pre_ping_failed + 1
    );
    assert_eq!(after.created_total, before.created_total + 1);
    store.close().await;
}

/// A group of writes (the intents of one tick) is committed in one transaction, the results
/// come back in order, and a refused request fails alone without taking the others down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_group_is_one_transaction_and_a_bad_member_fails_alone() {
    let (stores, _dir) = stores("group").await;
    for store in stores {
        ok(&store, bot("g")).await;
        ok(&store, deposit("g", "1000")).await;
        let before = store.writer_status();
        let results = store
            .write_group(vec![
                place("g", "au-g-1", Side::Buy, "0.001"),
                place("g", "au-g-2", Side::Buy, "0.002"),
                // Same client order id with other terms: refused by the store.
                place("g", "au-g-1", Side::Sell, "0.005"),
                place("g", "au-g-3", Side::Buy, "0.003"),
            ])
            .await;
        let after = store.writer_status();
        let backend = store.backend();
        assert_eq!(results.len(), 4, "{backend}");
        assert!(results[0].is_ok(), "{backend}: {:?}", results[0]);
        assert!(results[1].is_ok(), "{backend}: {:?}", results[1]);
        assert!(results[2].is_err(), "{backend}: {:?}", results[2]);
        assert!(results[3].is_ok(), "{backend}: {:?}", results[3]);
        assert_eq!(after.requests_total - before.requests_total, 4, "{backend}");
        assert_eq!(
            after.batches_total - before.batches_total,
            1,
            "{backend}: the group took more than one transaction"
        );
        let open = store.open_orders("g").await.unwrap();
        let mut ids: Vec<String> = open
            .iter()
            .map(|o| o.intent.client_order_id.to_string())
            .collect();
        ids.sort();
        assert_eq!(ids, ["au-g-1", "au-g-2", "au-g-3"], "{backend}");
        let first = open
            .iter()
            .find(|o| o.intent.client_order_id.as_str() == "au-g-1")
            .unwrap();
        assert_eq!(first.intent.side, Side::Buy, "{backend}");
        assert!(store.write_group(Vec::new()).await.is_empty());
    }
}

/// A group larger than the writer's queue cannot reserve its slots at once: its requests go
/// one by one instead, and every one is still written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_group_larger_than_the_queue_is_written_request_by_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig {
        url: format!("sqlite://{}", dir.path().join("small.db").display()),
        ..StoreConfig::default()
    };
    config.writer.queue_capacity = 2;
    let store = Store::open(&config).await.unwrap();
    ok(&store, bot("q")).await;
    let ops = (1..=5)
        .map(|i| place("q", &format!("au-q-{i}"), Side::Buy, "0.001"))
        .collect();
    let results = store.write_group(ops).await;
    assert_eq!(results.len(), 5);
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(store.open_orders("q").await.unwrap().len(), 5);
}
