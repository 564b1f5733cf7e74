//! `aurum loadtest`: many concurrent writers recording fills, in aurum's design and in the two
//! designs it replaces, measured in the same run.
//!
//! A fill is one transaction that updates the order (status, filled quantity), inserts the fill
//! row, upserts the position and appends ledger entries (and the balance rows they move).
//!
//! - `group`: aurum's writer (SQLite: one writer thread with group commit; PostgreSQL: the
//!   batching writer).
//! - `group-inline-flush`: the same writer with the SQLite WAL flushed inside every COMMIT
//!   instead of on the durability thread (`[store.writer] background_flush = false`); on
//!   PostgreSQL it is the same as `group`.
//! - `per-fill-tx`: the Python original's last design: a pool of 10 + 20 connections, each fill
//!   its own transaction on a pooled connection (SQLite: deferred `BEGIN`, 5 s busy timeout, as
//!   Python's `sqlite3` does).
//! - `connect-per-op`: the design before that: a new connection for every fill.
//!
//! Each writer alternates a buy and a sell of one unit on its own pair, so positions open and
//! close, and every writer shares the USDT balance row (the hot row of a real account).

use crate::config::{DbUrl, StoreConfig};
use crate::error::{Result, StoreError};
use crate::model::BotSpec;
use crate::ops::{WriteOp, WriteOutcome};
use crate::plan::{NeededRows, Overlay, SeededOnly, plan};
use crate::{Store, WriterStatus};
use aurum_core::{
    Asset, ClientOrderId, Decimal, Fill, LedgerEntry, LedgerKind, OrderIntent, OrderStatus,
    OrderType, Side, Symbol,
};
use aurum_pool::{Manager, Pool, PoolConfig, PoolStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Which write design to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadMode {
    /// aurum's writer: group commit (SQLite) / batching writer (PostgreSQL).
    Group,
    /// aurum's writer with the flush inside every COMMIT (`background_flush = false`).
    GroupInlineFlush,
    /// One transaction per fill on a pooled connection (pool 10 + 20), the original's design.
    PerFillTx,
    /// A new connection per fill, the design before that.
    ConnectPerOp,
}

impl std::str::FromStr for LoadMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "group" => Ok(LoadMode::Group),
            "group-inline-flush" => Ok(LoadMode::GroupInlineFlush),
            "per-fill-tx" => Ok(LoadMode::PerFillTx),
            "connect-per-op" => Ok(LoadMode::ConnectPerOp),
            other => Err(format!(
                "unknown load-test mode {other:?}; expected group, group-inline-flush, per-fill-tx or connect-per-op"
            )),
        }
    }
}

impl std::fmt::Display for LoadMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LoadMode::Group => "group",
            LoadMode::GroupInlineFlush => "group-inline-flush",
            LoadMode::PerFillTx => "per-fill-tx",
            LoadMode::ConnectPerOp => "connect-per-op",
        })
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Concurrent writer tasks.
    pub writers: usize,
    /// Fills per writer.
    pub fills_per_writer: usize,
    /// The design to measure.
    pub mode: LoadMode,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The design measured.
    pub mode: LoadMode,
    /// Concurrent writers.
    pub writers: usize,
    /// Fills attempted.
    pub fills_attempted: u64,
    /// Fills acknowledged as committed.
    pub fills_ok: u64,
    /// Fills that failed.
    pub errors: u64,
    /// Failures by message (e.g. `database is locked`).
    pub error_kinds: BTreeMap<String, u64>,
    /// Wall time of the timed phase, seconds.
    pub elapsed_s: f64,
    /// Acknowledged fills per second.
    pub fills_per_s: f64,
    /// Median fill latency (request to durable acknowledgement), ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// True when the rows in the database match exactly the acknowledged fills and `db check`
    /// finds nothing wrong.
    pub rows_verified: bool,
    /// What was verified, or what did not match.
    pub verification: String,
    /// Pool figures at the end (the pool the measured design used).
    pub pool: Option<PoolStatus>,
    /// Writer figures at the end (group mode).
    pub writer: Option<WriterStatus>,
}

struct WriterPlan {
    symbol: Symbol,
    buy: ClientOrderId,
    sell: ClientOrderId,
}

const UNIT_PRICE_BUY: i64 = 100;
const UNIT_PRICE_SELL: i64 = 101;

fn now_ms() -> i64 {
    crate::sqlite::now_ms()
}

/// Registers the bot, funds it and places one huge buy and sell order per writer (not timed).
async fn setup(store: &Store, bot: &str, writers: usize) -> Result<Vec<WriterPlan>> {
    let ts = now_ms();
    store
        .write(WriteOp::UpsertBot(BotSpec {
            bot_id: bot.to_string(),
            mode: "loadtest".into(),
            strategy: None,
            quote_asset: Asset::usdt(),
            config: None,
            created_at_ms: ts,
        }))
        .await?;
    store
        .write(WriteOp::Cash {
            bot_id: bot.to_string(),
            entry: LedgerEntry {
                asset: Asset::usdt(),
                amount: Decimal::new(1_000_000_000_000, 0),
                kind: LedgerKind::Deposit,
                ts_ms: ts,
            },
            note: Some("load test funding".into()),
        })
        .await?;
    let mut plans = Vec::with_capacity(writers);
    for w in 0..writers {
        let symbol = Symbol::new(&format!("LT{w}"), "USDT")
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        let mut ids = Vec::new();
        for side in [Side::Buy, Side::Sell] {
            let id = ClientOrderId::new(&format!("{bot}-{w}-{}", side.as_str()))
                .map_err(|e| StoreError::Rejected(e.to_string()))?;
            store
                .write(WriteOp::OrderIntent {
                    bot_id: bot.to_string(),
                    intent: OrderIntent {
                        client_order_id: id.clone(),
                        symbol: symbol.clone(),
                        side,
                        order_type: OrderType::Market,
                        time_in_force: None,
                        quantity: Some(Decimal::new(1_000_000_000_000, 0)),
                        quote_quantity: None,
                        price: None,
                        stop_price: None,
                        trailing_delta_bps: None,
                        created_at_ms: ts,
                    },
                    meta: None,
                })
                .await?;
            store
                .write(WriteOp::OrderEvent {
                    bot_id: bot.to_string(),
                    client_order_id: id.clone(),
                    status: OrderStatus::Submitted,
                    exchange_order_id: Some(format!("x-{id}")),
                    detail: None,
                    ts_ms: ts,
                })
                .await?;
            ids.push(id);
        }
        let sell = ids.pop().ok_or_else(|| StoreError::Task("setup".into()))?;
        let buy = ids.pop().ok_or_else(|| StoreError::Task("setup".into()))?;
        plans.push(WriterPlan { symbol, buy, sell });
    }
    Ok(plans)
}

fn fill_op(bot: &str, plan: &WriterPlan, w: usize, i: usize, holding: bool) -> WriteOp {
    let (side, order, price) = if holding {
        (Side::Sell, &plan.sell, UNIT_PRICE_SELL)
    } else {
        (Side::Buy, &plan.buy, UNIT_PRICE_BUY)
    };
    WriteOp::Fill {
        bot_id: bot.to_string(),
        fill: Fill {
            client_order_id: order.clone(),
            trade_id: format!("{w}-{i}"),
            symbol: plan.symbol.clone(),
            side,
            price: Decimal::new(price, 0),
            quantity: Decimal::ONE,
            fee: Decimal::new(price, 3),
            fee_asset: Asset::usdt(),
            ts_ms: now_ms(),
        },
    }
}

/// Opens read-write SQLite connections like Python's `sqlite3` did for the original (deferred
/// transactions, 5 s busy timeout), on the same durable settings as aurum's writer.
#[derive(Debug, Clone)]
struct ReadWriteManager {
    path: PathBuf,
}

impl Manager for ReadWriteManager {
    type Connection = rusqlite::Connection;
    type Error = rusqlite::Error;
    async fn connect(&self) -> std::result::Result<rusqlite::Connection, rusqlite::Error> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || open_like_python(&path))
            .await
            .unwrap_or_else(|e| Err(rusqlite::Error::InvalidPath(e.to_string().into())))
    }
    async fn ping(
        &self,
        conn: &mut rusqlite::Connection,
    ) -> std::result::Result<(), rusqlite::Error> {
        conn.query_row("SELECT 1", [], |_| Ok(()))
    }
}

fn open_like_python(
    path: &std::path::Path,
) -> std::result::Result<rusqlite::Connection, rusqlite::Error> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// One fill in its own deferred transaction on an ordinary connection.
fn sqlite_fill_tx(conn: &rusqlite::Connection, op: &WriteOp) -> Result<WriteOutcome> {
    conn.execute_batch("BEGIN")
        .map_err(StoreError::sqlite("BEGIN"))?;
    let out = crate::sqlite::sql::run_op(conn, op, &mut Overlay::default());
    match out {
        Ok(o) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(o),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(StoreError::sqlite("COMMIT")(e))
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// One fill in its own transaction on a PostgreSQL connection.
async fn pg_fill_tx(client: &mut tokio_postgres::Client, op: &WriteOp) -> Result<WriteOutcome> {
    let tx = client
        .transaction()
        .await
        .map_err(StoreError::pg("BEGIN"))?;
    let mut ov = Overlay::default();
    let cache = crate::pg::StatementCache::default();
    crate::pg::prefetch(&tx, &cache, &NeededRows::of([op]), &mut ov).await?;
    let planned = plan(op, &mut SeededOnly, &mut ov)?;
    crate::pg::write_changes(&tx, &cache, &planned.changes)
        .await
        .map_err(StoreError::pg("writing a fill"))?;
    tx.commit().await.map_err(StoreError::pg("COMMIT"))?;
    Ok(planned.outcome)
}

/// The design-specific way to record one fill.
#[derive(Clone)]
enum Engine {
    Group(Store),
    SqlitePool(Pool<ReadWriteManager>),
    SqliteConnect(PathBuf),
    PgPool(Pool<crate::pg::PgManager>),
    PgConnect(Box<crate::pg::PgManager>),
}

impl Engine {
    async fn record(&self, op: WriteOp) -> Result<WriteOutcome> {
        match self {
            Engine::Group(store) => store.write(op).await,
            Engine::SqlitePool(pool) => {
                let conn = pool.get().await.map_err(StoreError::from_pool)?;
                tokio::task::spawn_blocking(move || sqlite_fill_tx(&conn, &op))
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))?
            }
            Engine::SqliteConnect(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    let conn = open_like_python(&path).map_err(StoreError::sqlite("connecting"))?;
                    sqlite_fill_tx(&conn, &op)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
            }
            Engine::PgPool(pool) => {
                let mut conn = pool.get().await.map_err(StoreError::from_pool)?;
                pg_fill_tx(&mut conn, &op).await
            }
            Engine::PgConnect(manager) => {
                let mut client = manager
                    .connect()
                    .await
                    .map_err(StoreError::pg("connecting"))?;
                pg_fill_tx(&mut client, &op).await
            }
        }
    }

    fn pool_status(&self) -> Option<PoolStatus> {
        match self {
            Engine::Group(s) => Some(s.pool_status()),
            Engine::SqlitePool(p) => Some(p.status()),
            Engine::PgPool(p) => Some(p.status()),
            _ => None,
        }
    }
}

/// A short, stable name for an error, so thousands of them group into a few kinds.
fn error_kind(e: &StoreError) -> String {
    match e {
        StoreError::Sqlite { source, .. } => match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) => "database is locked (SQLITE_BUSY)".into(),
            Some(rusqlite::ErrorCode::DatabaseLocked) => {
                "database table is locked (SQLITE_LOCKED)".into()
            }
            _ => source.to_string(),
        },
        StoreError::Postgres { source, .. } => match source.code() {
            Some(code) => format!("SQLSTATE {}", code.code()),
            None => source.to_string(),
        },
        StoreError::Pool { timeout: true, .. } => "pool timeout".into(),
        other => other.to_string(),
    }
}

fn percentile(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

/// Runs a load test against the store `config` names. `progress` counts finished fills.
pub async fn run(
    config: &StoreConfig,
    spec: &LoadSpec,
    progress: Arc<AtomicU64>,
) -> Result<LoadReport> {
    let store = if spec.mode == LoadMode::GroupInlineFlush {
        let mut inline = config.clone();
        inline.writer.background_flush = false;
        Store::open(&inline).await?
    } else {
        Store::open(config).await?
    };
    let bot = format!("lt{}", now_ms());
    let plans = Arc::new(setup(&store, &bot, spec.writers).await?);
    let original_pool = PoolConfig {
        pool_size: 10,
        max_overflow: 20,
        ..config.pool.clone()
    };
    let engine = match (spec.mode, DbUrl::parse(&config.url)?) {
        (LoadMode::Group | LoadMode::GroupInlineFlush, _) => Engine::Group(store.clone()),
        (LoadMode::PerFillTx, DbUrl::Sqlite(path)) => Engine::SqlitePool(
            Pool::new(ReadWriteManager { path }, original_pool)
                .map_err(|e| StoreError::Task(e.to_string()))?,
        ),
        (LoadMode::ConnectPerOp, DbUrl::Sqlite(path)) => Engine::SqliteConnect(path),
        (LoadMode::PerFillTx, DbUrl::Postgres { conninfo, schema }) => Engine::PgPool(
            Pool::new(crate::pg::PgManager::new(&conninfo, schema)?, original_pool)
                .map_err(|e| StoreError::Task(e.to_string()))?,
        ),
        (LoadMode::ConnectPerOp, DbUrl::Postgres { conninfo, schema }) => {
            Engine::PgConnect(Box::new(crate::pg::PgManager::new(&conninfo, schema)?))
        }
    };

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(spec.writers);
    for w in 0..spec.writers {
        let (engine, plans, bot, progress) =
            (engine.clone(), plans.clone(), bot.clone(), progress.clone());
        let n = spec.fills_per_writer;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(n);
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            let mut holding = false;
            let mut ok = 0u64;
            for i in 0..n {
                let op = fill_op(&bot, &plans[w], w, i, holding);
                let t = Instant::now();
                let result = engine.record(op).await;
                let us = u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX);
                match result {
                    Ok(_) => {
                        ok += 1;
                        holding = !holding;
                        latencies.push(us);
                    }
                    Err(e) => *errors.entry(error_kind(&e)).or_default() += 1,
                }
                progress.fetch_add(1, Ordering::Relaxed);
            }
            (ok, latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(spec.writers * spec.fills_per_writer);
    let mut error_kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut fills_ok = 0;
    for t in tasks {
        let (ok, lat, errs) = t.await.map_err(|e| StoreError::Task(e.to_string()))?;
        fills_ok += ok;
        latencies.extend(lat);
        for (k, v) in errs {
            *error_kinds.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pool = engine.pool_status();
    let writer = matches!(spec.mode, LoadMode::Group | LoadMode::GroupInlineFlush)
        .then(|| store.writer_status());
    drop(engine);

    let (rows_verified, verification) = verify(&store, &bot, fills_ok, &plans).await?;
    store.close().await;
    let attempted = (spec.writers * spec.fills_per_writer) as u64;
    Ok(LoadReport {
        backend: if matches!(DbUrl::parse(&config.url)?, DbUrl::Sqlite(_)) {
            "sqlite"
        } else {
            "postgres"
        },
        mode: spec.mode,
        writers: spec.writers,
        fills_attempted: attempted,
        fills_ok,
        errors: error_kinds.values().sum(),
        error_kinds,
        elapsed_s: elapsed,
        fills_per_s: if elapsed > 0.0 {
            fills_ok as f64 / elapsed
        } else {
            0.0
        },
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        p999_ms: percentile(&latencies, 0.999),
        max_ms: latencies
            .last()
            .map(|v| f64::from(*v) / 1000.0)
            .unwrap_or(0.0),
        rows_verified,
        verification,
        pool,
        writer,
    })
}

/// Checks that the database holds exactly the acknowledged fills, with consistent books.
async fn verify(
    store: &Store,
    bot: &str,
    fills_ok: u64,
    plans: &[WriterPlan],
) -> Result<(bool, String)> {
    let stored = store.fills(bot, i64::MAX).await?.len() as u64;
    let mut problems = Vec::new();
    if stored != fills_ok {
        problems.push(format!("{stored} fills stored but {fills_ok} acknowledged"));
    }
    let mut expected_usdt = Decimal::new(1_000_000_000_000, 0);
    let positions = store.positions(bot, false).await?;
    let mut filled = Decimal::ZERO;
    for p in plans {
        let buy = store
            .order(&p.buy)
            .await?
            .map(|o| o.filled_qty)
            .unwrap_or_default();
        let sell = store
            .order(&p.sell)
            .await?
            .map(|o| o.filled_qty)
            .unwrap_or_default();
        filled += buy + sell;
        let held = buy - sell;
        let open: Decimal = positions
            .iter()
            .filter(|x| x.position.symbol == p.symbol && !x.position.is_closed())
            .map(|x| x.position.quantity)
            .sum();
        if open != held {
            problems.push(format!(
                "{}: position {open} but orders net {held}",
                p.symbol
            ));
        }
        // Each buy costs 100 + 0.1 fee, each sell brings 101 - 0.101.
        expected_usdt += sell
            * (Decimal::new(UNIT_PRICE_SELL, 0) - Decimal::new(UNIT_PRICE_SELL, 3))
            - buy * (Decimal::new(UNIT_PRICE_BUY, 0) + Decimal::new(UNIT_PRICE_BUY, 3));
    }
    if filled != Decimal::from(fills_ok) {
        problems.push(format!(
            "orders record {filled} filled units but {fills_ok} fills were acknowledged"
        ));
    }
    let usdt = store
        .balances(bot)
        .await?
        .get(&Asset::usdt())
        .copied()
        .unwrap_or_default();
    if usdt != expected_usdt {
        problems.push(format!(
            "USDT balance {usdt} but the acknowledged fills give {expected_usdt}"
        ));
    }
    let check = store.check().await?;
    if !check.is_clean() {
        problems.push(format!(
            "db check: {} finding(s), first: {}",
            check.findings.len(),
            check.findings[0].detail
        ));
    }
    if problems.is_empty() {
        Ok((
            true,
            format!(
                "{stored} fills stored = {fills_ok} acknowledged; USDT balance {usdt} exact; db check clean"
            ),
        ))
    } else {
        Ok((false, problems.join("; ")))
    }
}
