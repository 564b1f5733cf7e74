//! Opening a store: migrations, and every kind of bad target refused with a clear error while
//! leaving what is there untouched.

mod common;

use aurum_store::{Store, StoreConfig, StoreError};
use common::*;
use sha2::{Digest, Sha256};
use std::path::Path;

fn config(url: String) -> StoreConfig {
    StoreConfig {
        url,
        ..StoreConfig::default()
    }
}

/// The bytes of the file and of its WAL/SHM companions, to prove nothing changed.
fn fingerprint(path: &Path) -> Vec<(String, Option<String>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let p = format!("{}{suffix}", path.display());
            let hash = std::fs::read(&p)
                .ok()
                .map(|b| format!("{:x}", Sha256::digest(&b)));
            (p, hash)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_gets_every_migration_and_reopening_applies_none() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let store = Store::open(&config(url.clone())).await.unwrap();
    assert_eq!(store.applied_now(), vec![1, 2, 3]);
    assert_eq!(store.schema_version().await.unwrap(), 3);
    store.close().await;
    let store = Store::open(&config(url)).await.unwrap();
    assert!(store.applied_now().is_empty());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_schema_is_upgraded_in_place_keeping_its_data() {
    use aurum_store::migrate::{Dialect, MIGRATIONS};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    // A version-1 database with data, as the first aurum release left it.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(aurum_store::migrate::HISTORY_TABLE_SQL)
            .unwrap();
        c.execute_batch(MIGRATIONS[0].sqlite).unwrap();
        c.execute(
            "INSERT INTO aurum_schema_migrations VALUES (1, 'initial', ?1, 0)",
            [MIGRATIONS[0].checksum(Dialect::Sqlite)],
        )
        .unwrap();
        c.execute_batch(
            "INSERT INTO bots VALUES ('b', 'test', NULL, 'USDT', NULL, 1);
             INSERT INTO orders VALUES ('o1', 'b', 'x1', 'BTC/USDT', 'buy', 'market', NULL, '1', NULL, NULL, NULL, NULL,
                                        'partially_filled', '0.5', '15', 1, 2);
             INSERT INTO fills VALUES ('b', 'BTC/USDT', 't1', 'o1', 'buy', '30', '0.5', '0', 'USDT', '0', 1, 3);",
        )
        .unwrap();
    }
    let store = Store::open(&config(path.display().to_string()))
        .await
        .unwrap();
    assert_eq!(store.applied_now(), vec![2, 3]);
    assert_eq!(store.schema_version().await.unwrap(), 3);
    let fills = store
        .fills_of_order(&aurum_core::ClientOrderId::new("o1").unwrap())
        .await
        .unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(
        (fills[0].fill.trade_id.as_str(), fills[0].fill.price),
        ("t1", dec("30"))
    );
    assert!(store.optimize_runs(5).await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_sqlite_schema_is_refused_and_left_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    let store = Store::open(&config(path.display().to_string()))
        .await
        .unwrap();
    ok(&store, bot("b")).await;
    store.close().await;
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute(
            "INSERT INTO aurum_schema_migrations VALUES (7, 'future', 'abc', 0)",
            [],
        )
        .unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    }
    let before = fingerprint(&path);
    let err = Store::open(&config(path.display().to_string()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 7,
                known: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "database {} has schema version 7, newer than the 3 this aurum knows; upgrade aurum (the database was left as is)",
            path.display()
        )
    );
    assert_eq!(fingerprint(&path), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are my trading notes, not a database\n".repeat(200),
    )
    .unwrap();
    let before = fingerprint(&path);
    let err = Store::open(&config(format!("sqlite://{}", path.display())))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "{} is not a SQLite database (left untouched)",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(fingerprint(&path), before);
    assert!(!Path::new(&format!("{}-wal", path.display())).exists());
}

/// Makes a directory unwritable even for root (`chattr +i`), or by mode bits for other users.
struct ReadOnlyDir<'a>(&'a Path);

impl<'a> ReadOnlyDir<'a> {
    fn new(dir: &'a Path) -> Self {
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        if root {
            let st = std::process::Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .expect("chattr is needed to make a directory read-only for root");
            assert!(st.success(), "chattr +i failed on {}", dir.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        ReadOnlyDir(dir)
    }
}

impl Drop for ReadOnlyDir<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(self.0)
            .status();
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(self.0, std::fs::Permissions::from_mode(0o755));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_directory_is_refused_and_the_file_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("ro");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("existing.db");
    let store = Store::open(&config(path.display().to_string()))
        .await
        .unwrap();
    ok(&store, bot("b")).await;
    store.close().await;
    let before = fingerprint(&path);
    {
        let _ro = ReadOnlyDir::new(&sub);
        let err = Store::open(&config(path.display().to_string()))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("directory {} is not writable", sub.display())),
            "{text}"
        );
        // A new file in a read-only directory cannot be created either.
        let err = Store::open(&config(sub.join("new.db").display().to_string()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is not writable"), "{err}");
    }
    assert_eq!(fingerprint(&path), before);
    assert!(!sub.join("new.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_unreachable_urls_give_clear_errors() {
    let err = Store::open(&config("mysql://root@localhost/db".into()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid database URL \"mysql://root@localhost/db\": unknown scheme \"mysql\"; use sqlite:// or postgres://"
    );
    let err = Store::open(&config("sqlite:///no/such/dir/a.db".into()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot open database /no/such/dir/a.db: directory /no/such/dir does not exist"
    );
    // Nothing listens on port 1.
    let err = Store::open(&config(
        "postgres://postgres:secret@127.0.0.1:1/test?connect_timeout=2".into(),
    ))
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("cannot open database postgres://postgres:***@127.0.0.1:1/test"),
        "{text}"
    );
    assert!(
        text.contains("could not open a new pooled connection"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_postgres_schema_is_refused_and_left_as_is() {
    let Some(url) = pg_schema_url("future") else {
        return;
    };
    let store = Store::open(&config(url.clone())).await.unwrap();
    ok(&store, bot("b")).await;
    let Store::Postgres(pg) = &store else {
        panic!()
    };
    {
        let c = pg.pool().get().await.unwrap();
        c.execute(
            "INSERT INTO aurum_schema_migrations VALUES (9, 'future', 'abc', 0)",
            &[],
        )
        .await
        .unwrap();
    }
    store.close().await;
    let err = Store::open(&config(url.clone())).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 9,
                known: 3,
                ..
            }
        ),
        "{err}"
    );
    // Left as is: the bot and the history row are still there, nothing else was added.
    let schema = url.rsplit("schema=").next().unwrap().to_string();
    let (client, conn) = tokio_postgres::connect(&pg_url().unwrap(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let n: i64 = client
        .query_one(&format!("SELECT COUNT(*) FROM \"{schema}\".bots"), &[])
        .await
        .unwrap()
        .get(0);
    let v: Vec<i64> = client
        .query(
            &format!("SELECT version FROM \"{schema}\".aurum_schema_migrations ORDER BY 1"),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!((n, v), (1, vec![1, 2, 3, 9]));
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}
