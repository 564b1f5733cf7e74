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
    assert_eq!(store.applied_now(), vec![1, 2, 3, 4, 5]);
    assert_eq!(store.schema_version().await.unwrap(), 5);
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
    assert_eq!(store.applied_now(), vec![2, 3, 4, 5]);
    assert_eq!(store.schema_version().await.unwrap(), 5);
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
                known: 5,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "database {} has schema version 7, newer than the 5 this aurum knows; upgrade aurum (the database was left as is)",
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
                known: 5,
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
    assert_eq!((n, v), (1, vec![1, 2, 3, 4, 5, 9]));
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}

/// Rows of a version-3 database (a filled buy with a base-asset fee and its open position),
/// valid SQL in both dialects.
const V3_ROWS: &str = "
    INSERT INTO bots (bot_id, mode, strategy, quote_asset, config, created_at_ms)
        VALUES ('b', 'paper', NULL, 'USDT', NULL, 1);
    INSERT INTO orders (client_order_id, bot_id, exchange_order_id, symbol, side, order_type, time_in_force, quantity,
                        quote_quantity, price, stop_price, trailing_delta_bps, status, filled_qty, filled_quote,
                        created_at_ms, updated_at_ms)
        VALUES ('o1', 'b', 'x1', 'BTC/USDT', 'buy', 'market', NULL, '0.5', NULL, NULL, NULL, NULL, 'filled', '0.5', '15', 2, 3);
    INSERT INTO order_events (client_order_id, bot_id, status, exchange_order_id, detail, ts_ms)
        VALUES ('o1', 'b', 'new', NULL, 'intent stored', 2), ('o1', 'b', 'submitted', 'x1', NULL, 2),
               ('o1', 'b', 'filled', NULL, 'fill t1 0.5 @ 30', 3);
    INSERT INTO fills (client_order_id, trade_id, bot_id, symbol, side, price, quantity, fee, fee_asset, realised_pnl,
                       position_seq, ts_ms)
        VALUES ('o1', 't1', 'b', 'BTC/USDT', 'buy', '30', '0.5', '0.0005', 'BTC', '0', 1, 3);
    INSERT INTO positions (bot_id, symbol, seq, quantity, cost_basis, bought_qty, bought_quote, avg_entry_price,
                           realised_pnl, fees_quote, fill_count, opened_at_ms, closed_at_ms)
        VALUES ('b', 'BTC/USDT', 1, '0.4995', '15', '0.5', '15', '30', '0', '0.015', 1, 3, NULL);
    INSERT INTO ledger (bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms)
        VALUES ('b', 'USDT', '100', 'deposit', NULL, NULL, 'funding', 1), ('b', 'BTC', '0.5', 'trade', 'BTC/USDT', 't1', NULL, 3),
               ('b', 'USDT', '-15', 'trade', 'BTC/USDT', 't1', NULL, 3), ('b', 'BTC', '-0.0005', 'fee', 'BTC/USDT', 't1', NULL, 3);
    INSERT INTO balances (bot_id, asset, amount, updated_at_ms) VALUES ('b', 'USDT', '85', 3), ('b', 'BTC', '0.4995', 3);";

/// What a version-3 database upgraded to 4 (and on to 5) must show: every row kept, no dust, no
/// order meta, the check clean, and the new columns usable at once.
async fn assert_upgraded_from_v3(store: &Store) {
    use aurum_core::{ClientOrderId, Position};
    use aurum_store::{WriteOp, WriteOutcome};
    let b = store.backend();
    assert_eq!(store.applied_now(), vec![4, 5], "{b}");
    assert_eq!(store.schema_version().await.unwrap(), 5, "{b}");
    let positions = store.positions("b", false).await.unwrap();
    assert_eq!(positions.len(), 1, "{b}");
    assert_eq!(
        positions[0].position,
        Position {
            symbol: btc(),
            quantity: dec("0.4995"),
            cost_basis: dec("15"),
            bought_qty: dec("0.5"),
            bought_quote: dec("15"),
            realised_pnl: dec("0"),
            fees_quote: dec("0.015"),
            fill_count: 1,
            opened_at_ms: 3,
            closed_at_ms: None,
            dust: dec("0"),
        },
        "{b}"
    );
    let order = store
        .order(&ClientOrderId::new("o1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (order.filled_qty, order.filled_quote, order.meta),
        (dec("0.5"), dec("15"), None),
        "{b}"
    );
    assert_eq!(
        store
            .last_fill("b", &btc())
            .await
            .unwrap()
            .unwrap()
            .fill
            .trade_id,
        "t1",
        "{b}"
    );
    let report = store.check().await.unwrap();
    assert!(report.is_clean(), "{b}: {report}");
    assert_eq!(
        (
            report.orders,
            report.fills,
            report.positions,
            report.ledger_entries,
            report.balances
        ),
        (1, 1, 1, 4, 2),
        "{b}"
    );
    // The new column works on the upgraded rows: write the holding off as dust.
    let WriteOutcome::DustClosed(closed) = ok(
        store,
        WriteOp::CloseDust {
            bot_id: "b".into(),
            symbol: btc(),
            ts_ms: 10,
        },
    )
    .await
    else {
        panic!("{b}: expected a dust write-off")
    };
    assert_eq!(
        (
            closed.seq,
            closed.position.quantity,
            closed.position.dust,
            closed.position.realised_pnl,
            closed.position.closed_at_ms
        ),
        (1, dec("0"), dec("0.4995"), dec("-15"), Some(10)),
        "{b}"
    );
    assert_eq!(
        store.balances("b").await.unwrap()[&aurum_core::Asset::new("BTC").unwrap()],
        dec("0.4995"),
        "{b}: the dust stays in the balance"
    );
    let report = store.check().await.unwrap();
    assert!(report.is_clean(), "{b}: {report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_database_is_upgraded_to_4_keeping_its_rows() {
    use aurum_store::migrate::{Dialect, HISTORY_TABLE_SQL, MIGRATIONS};
    // SQLite.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(HISTORY_TABLE_SQL).unwrap();
        for m in &MIGRATIONS[..3] {
            c.execute_batch(m.sqlite).unwrap();
            c.execute(
                "INSERT INTO aurum_schema_migrations VALUES (?1, ?2, ?3, 0)",
                rusqlite::params![m.version, m.name, m.checksum(Dialect::Sqlite)],
            )
            .unwrap();
        }
        c.execute_batch(V3_ROWS).unwrap();
    }
    let store = Store::open(&config(path.display().to_string()))
        .await
        .unwrap();
    assert_upgraded_from_v3(&store).await;
    store.close().await;

    // PostgreSQL.
    let Some(base) = pg_url() else {
        return;
    };
    let schema = unique_schema("v3");
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\"; {HISTORY_TABLE_SQL}"
        ))
        .await
        .unwrap();
    for m in &MIGRATIONS[..3] {
        client.batch_execute(m.postgres).await.unwrap();
        client
            .execute(
                "INSERT INTO aurum_schema_migrations VALUES ($1, $2, $3, 0)",
                &[&m.version, &m.name, &m.checksum(Dialect::Postgres)],
            )
            .await
            .unwrap();
    }
    client.batch_execute(V3_ROWS).await.unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let store = Store::open(&config(format!("{base}{sep}schema={schema}")))
        .await
        .unwrap();
    assert_upgraded_from_v3(&store).await;
    store.close().await;
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}

/// What a version-4 database (the version-3 rows, plus a closed order's meta) upgraded to 5
/// must show: every row kept, the check clean, an empty equity curve, and the new table usable
/// at once with exact amounts.
async fn assert_upgraded_from_v4(store: &Store) {
    use aurum_store::{EquityPointRecord, WriteOp};
    let b = store.backend();
    assert_eq!(store.applied_now(), vec![5], "{b}");
    assert_eq!(store.schema_version().await.unwrap(), 5, "{b}");
    let order = store
        .order(&aurum_core::ClientOrderId::new("o1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (order.filled_qty, order.meta),
        (dec("0.5"), Some(serde_json::json!({"purpose": "entry"}))),
        "{b}"
    );
    assert_eq!(store.balances("b").await.unwrap().len(), 2, "{b}");
    let report = store.check().await.unwrap();
    assert!(report.is_clean(), "{b}: {report}");
    assert!(
        store.equity_curve("b", None, 10).await.unwrap().is_empty(),
        "{b}"
    );
    ok(
        store,
        WriteOp::EquityPoint {
            bot_id: "b".into(),
            ts_ms: 4,
            equity: dec("100.000000000001"),
            cash: dec("85"),
        },
    )
    .await;
    assert_eq!(
        store.equity_curve("b", Some(4), 10).await.unwrap(),
        [EquityPointRecord {
            ts_ms: 4,
            equity: dec("100.000000000001"),
            cash: dec("85"),
        }],
        "{b}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_4_database_is_upgraded_to_5_keeping_its_rows() {
    use aurum_store::migrate::{Dialect, HISTORY_TABLE_SQL, MIGRATIONS};
    const V4_META: &str =
        "UPDATE orders SET meta = '{\"purpose\": \"entry\"}' WHERE client_order_id = 'o1';";
    // SQLite.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(HISTORY_TABLE_SQL).unwrap();
        for m in &MIGRATIONS[..4] {
            c.execute_batch(m.sqlite).unwrap();
            c.execute(
                "INSERT INTO aurum_schema_migrations VALUES (?1, ?2, ?3, 0)",
                rusqlite::params![m.version, m.name, m.checksum(Dialect::Sqlite)],
            )
            .unwrap();
        }
        c.execute_batch(V3_ROWS).unwrap();
        c.execute_batch(V4_META).unwrap();
    }
    let store = Store::open(&config(path.display().to_string()))
        .await
        .unwrap();
    assert_upgraded_from_v4(&store).await;
    store.close().await;

    // PostgreSQL.
    let Some(base) = pg_url() else {
        return;
    };
    let schema = unique_schema("v4");
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\"; {HISTORY_TABLE_SQL}"
        ))
        .await
        .unwrap();
    for m in &MIGRATIONS[..4] {
        client.batch_execute(m.postgres).await.unwrap();
        client
            .execute(
                "INSERT INTO aurum_schema_migrations VALUES ($1, $2, $3, 0)",
                &[&m.version, &m.name, &m.checksum(Dialect::Postgres)],
            )
            .await
            .unwrap();
    }
    client.batch_execute(V3_ROWS).await.unwrap();
    client.batch_execute(V4_META).await.unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let store = Store::open(&config(format!("{base}{sep}schema={schema}")))
        .await
        .unwrap();
    assert_upgraded_from_v4(&store).await;
    store.close().await;
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}
