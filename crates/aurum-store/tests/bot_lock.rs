//! One process per bot: a bot's lock is refused while another holder lives and free again
//! once it is dropped or released, on both backends.

mod common;

use aurum_store::{Store, StoreConfig, StoreError};
use common::*;
use std::time::{Duration, Instant};

async fn open(url: &str) -> Store {
    Store::open(&StoreConfig {
        url: url.to_string(),
        ..StoreConfig::default()
    })
    .await
    .unwrap()
}

fn locked_holder(result: aurum_store::Result<aurum_store::BotLock>, bot: &str) -> String {
    match result {
        Err(StoreError::BotLocked { bot_id, holder }) => {
            assert_eq!(bot_id, bot);
            holder
        }
        Err(e) => panic!("expected the bot to be locked, got {e}"),
        Ok(l) => panic!("expected the bot to be locked, got {l:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_bot_lock_is_exclusive_until_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bots.db");
    let url = format!("sqlite://{}", db.display());
    let store = open(&url).await;
    // A second store on the same file: another open of the lock file, as another process has.
    let second = open(&url).await;
    let lock_path = dir.path().join("bots.db.main.lock");

    let lock = store.lock_bot("main").await.unwrap();
    assert_eq!(lock.bot_id(), "main");
    assert_eq!(
        lock.location(),
        format!("lock file {}", lock_path.display())
    );
    assert!(lock.is_held());
    assert_eq!(
        std::fs::read_to_string(&lock_path).unwrap(),
        format!("pid {}\n", std::process::id())
    );
    for s in [&store, &second] {
        let err = s.lock_bot("main").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "bot main is already running: pid {} (lock file {}) holds its lock",
                std::process::id(),
                lock_path.display()
            )
        );
        assert_eq!(
            locked_holder(s.lock_bot("main").await, "main"),
            format!(
                "pid {} (lock file {})",
                std::process::id(),
                lock_path.display()
            )
        );
    }
    // Other bots are independent.
    let other = second.lock_bot("paper/btc 2").await.unwrap();
    assert!(dir.path().join("bots.db.paper%2Fbtc%202.lock").exists());
    assert!(matches!(
        store.lock_bot("paper/btc 2").await,
        Err(StoreError::BotLocked { .. })
    ));
    assert!(matches!(
        store.lock_bot(" ").await,
        Err(StoreError::Rejected(_))
    ));

    drop(lock);
    let again = second.lock_bot("main").await.unwrap();
    assert!(store.lock_bot("main").await.is_err());
    again.release().await.unwrap();
    other.release().await.unwrap();
    let third = store.lock_bot("main").await.unwrap();
    let _fourth = second.lock_bot("paper/btc 2").await.unwrap();
    drop(third);
    store.close().await;
    second.close().await;
    // The lock files stay (removing them would race with a process opening them).
    assert!(lock_path.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_bot_lock_is_exclusive_until_dropped() {
    let Some(url) = pg_schema_url("lock") else {
        return;
    };
    let store = open(&url).await;
    let second = open(&url).await;
    let schema = url.rsplit("schema=").next().unwrap().to_string();
    let Store::Postgres(pg) = &store else {
        panic!()
    };
    let connections = pg.pool_status().connections;

    let lock = store.lock_bot("main").await.unwrap();
    assert!(lock.is_held());
    let key = aurum_store::lock::pg_advisory_key(&schema, "main");
    assert_eq!(
        lock.location(),
        format!("PostgreSQL advisory lock {key} on {}", store.target())
    );
    // Its connection is its own, not one of the pool's.
    assert_eq!(pg.pool_status().connections, connections);

    // The server shows the lock held by one session, under the documented key.
    let (client, conn) = tokio_postgres::connect(&pg_url().unwrap(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let holders = |client: tokio_postgres::Client| async move {
        let pids: Vec<i32> = client
            .query(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                 AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid",
                &[&key],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        (client, pids)
    };
    let (client, pids) = holders(client).await;
    assert_eq!(pids.len(), 1);
    let pid = pids[0];

    for s in [&store, &second] {
        // The message names the session that holds the lock (its address depends on the URL).
        let holder = locked_holder(s.lock_bot("main").await, "main");
        assert!(
            holder.starts_with(&format!("PostgreSQL session pid {pid} (aurum, from "))
                && holder.ends_with(&format!(" on {}", s.target())),
            "{holder}"
        );
        let text = s.lock_bot("main").await.unwrap_err().to_string();
        assert_eq!(
            text,
            format!("bot main is already running: {holder} holds its lock")
        );
    }
    // Another bot, and the same bot in another schema, are independent.
    let other = second.lock_bot("other").await.unwrap();
    let elsewhere_url = pg_schema_url("lock2").unwrap();
    let elsewhere = open(&elsewhere_url).await;
    let same_name_elsewhere = elsewhere.lock_bot("main").await.unwrap();

    // Released explicitly: free at once.
    other.release().await.unwrap();
    let other = store.lock_bot("other").await.unwrap();
    // Dropped: free once the server has seen the connection close.
    drop(lock);
    let started = Instant::now();
    let again = loop {
        match second.lock_bot("main").await {
            Ok(l) => break l,
            Err(StoreError::BotLocked { .. }) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the dropped lock was not released: {e}"),
        }
    };
    assert!(store.lock_bot("main").await.is_err());
    let (client, pids) = holders(client).await;
    assert_eq!(pids.len(), 1);
    assert_ne!(pids[0], pid, "a new session holds it");
    again.release().await.unwrap();
    let (client, pids) = holders(client).await;
    assert!(pids.is_empty(), "{pids:?}");
    drop((other, same_name_elsewhere));
    store.close().await;
    second.close().await;
    elsewhere.close().await;
    let elsewhere_schema = elsewhere_url.rsplit("schema=").next().unwrap();
    client
        .batch_execute(&format!(
            "DROP SCHEMA \"{schema}\" CASCADE; DROP SCHEMA \"{elsewhere_schema}\" CASCADE"
        ))
        .await
        .unwrap();
}
