//! SQLite's durability thread: a batch is acknowledged only after the write-ahead log is flushed
//! to disk, on a thread of its own (or inside COMMIT with `background_flush = false`); a
//! write-ahead log replaced under the store stops it writing, and what was acknowledged stays.

mod common;

use aurum_core::Asset;
use aurum_store::{Store, StoreConfig, WriterConfig, WriterStatus};
use common::*;
use std::path::Path;

async fn open(db: &Path, background_flush: bool) -> Store {
    Store::open(&StoreConfig {
        url: format!("sqlite://{}", db.display()),
        writer: WriterConfig {
            background_flush,
            ..WriterConfig::default()
        },
        ..StoreConfig::default()
    })
    .await
    .unwrap()
}

async fn usdt(store: &Store) -> Option<aurum_core::Decimal> {
    store
        .balances("b")
        .await
        .unwrap()
        .get(&Asset::usdt())
        .copied()
}

/// Registers a bot and deposits `amount` in two writes, one after the other (so two batches),
/// and returns the writer's figures; then checks that the deposit is there after a reopen.
async fn two_writes_survive_a_reopen(background_flush: bool, amount: &str) -> WriterStatus {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flush.db");
    let store = open(&db, background_flush).await;
    ok(&store, bot("b")).await;
    ok(&store, deposit("b", amount)).await;
    let w = store.writer_status();
    store.close().await;

    let store = open(&db, background_flush).await;
    assert_eq!(usdt(&store).await, Some(dec(amount)));
    store.close().await;
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_batch_is_acknowledged_after_a_flush_on_the_durability_thread() {
    let w = two_writes_survive_a_reopen(true, "100.5").await;
    // Each batch committed something and waited for its own flush.
    assert_eq!(w.batches_total, 2);
    assert_eq!(w.sync_ms.count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_background_flush_every_commit_flushes_by_itself() {
    let w = two_writes_survive_a_reopen(false, "7").await;
    assert_eq!(w.batches_total, 2);
    assert_eq!(w.sync_ms.count, 0, "no flush on a separate thread");
    assert_eq!(w.commit_ms.count, 2);
}

/// The error of a deposit the store does not acknowledge.
async fn failed_deposit(store: &Store, amount: &str) -> String {
    store
        .write(deposit("b", amount))
        .await
        .unwrap_err()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_write_ahead_log_stops_the_store_and_keeps_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("replaced.db");
    let wal = dir.path().join("replaced.db-wal");
    let moved = dir.path().join("replaced.db-wal.moved");
    let store = open(&db, true).await;
    ok(&store, bot("b")).await;
    ok(&store, deposit("b", "100")).await;

    // Another file now sits where the WAL was: a flush of the open one would prove nothing
    // about what a restart finds, so the write is not acknowledged.
    std::fs::rename(&wal, &moved).unwrap();
    std::fs::copy(&moved, &wal).unwrap();
    let err = failed_deposit(&store, "5").await;
    assert!(
        err.contains("write-ahead log") && err.contains("replaced") && err.contains("stops"),
        "{err}"
    );

    // Even with the original back, the store stays stopped: nothing is written any more.
    std::fs::remove_file(&wal).unwrap();
    std::fs::rename(&moved, &wal).unwrap();
    let again = failed_deposit(&store, "7").await;
    assert_eq!(again, err);
    assert_eq!(store.writer_status().failed_total, 2);
    store.close().await;
    // A stopped store does not copy its log into the database at close: the log is left for
    // the next opener's recovery.
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);

    // The acknowledged deposit is there; the refused-after-failure one never reached the file.
    // (The 5 was committed to the original log before its flush failed, so it may be there.)
    let store = open(&db, true).await;
    let balance = usdt(&store).await;
    assert!(
        balance == Some(dec("100")) || balance == Some(dec("105")),
        "{balance:?}"
    );
    assert!(store.check().await.unwrap().is_clean());
    store.close().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_opened_through_a_symbolic_link_flushes_the_log_sqlite_writes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    let real = dir.path().join("real").join("linked.db");
    open(&real, true).await.close().await;
    let link = dir.path().join("linked.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    // SQLite keeps the log beside the file the link points to; "linked.db-wal" beside the link
    // does not exist, so a store that looked there could not flush on its own thread.
    let store = open(&link, true).await;
    ok(&store, bot("b")).await;
    ok(&store, deposit("b", "3")).await;
    assert_eq!(store.writer_status().sync_ms.count, 2);
    assert!(!dir.path().join("linked.db-wal").exists());
    store.close().await;

    let store = open(&real, true).await;
    assert_eq!(usdt(&store).await, Some(dec("3")));
    store.close().await;
}
