//! # aurum-store
//!
//! aurum's persistence: one store API at the level of the domain (order intents and events,
//! fills with their position and ledger effects, balances, engine state, market data, backtest
//! runs) over two backends.
//!
//! - [`SqliteStore`] (the default, a file, no set-up): exactly one read-write connection owned by
//!   a writer thread that group-commits queued requests (one `BEGIN IMMEDIATE`, one SAVEPOINT per
//!   request), WAL with `synchronous=FULL`, and a pool of read-only connections.
//! - [`PgStore`] (many bots, one history): an async pool and a batching writer that writes each
//!   batch with set-based statements, retrying serialization failures and lost connections.
//!
//! Every write is acknowledged only after the transaction holding it committed. The rules of a
//! write (spot accounting, the order state machine, idempotent retries) live in one planner
//! shared by both backends, so they cannot drift apart.
//!
//! A bot runs in one process at a time: [`Store::lock_bot`] hands out a [`BotLock`] (a lock
//! file beside a SQLite database, a session advisory lock in PostgreSQL) that a second process
//! cannot take while the first holds it.

#![warn(missing_docs)]

mod batch;
mod check;
pub mod config;
pub mod error;
pub mod loadtest;
pub mod lock;
pub mod migrate;
pub mod model;
pub mod ops;
pub mod pg;
mod plan;
mod rows;
pub mod sqlite;
mod writer;

pub use check::{CheckReport, Finding};
pub use config::{DbUrl, StoreConfig};
pub use error::{Result, StoreError};
pub use lock::BotLock;
pub use model::*;
pub use ops::{FillOutcome, WriteOp, WriteOutcome};
pub use pg::PgStore;
pub use sqlite::SqliteStore;
pub use writer::{ValueSummary, WriterConfig, WriterStatus};

use aurum_core::{Asset, Candle, ClientOrderId, Money, Symbol, Timeframe};
use aurum_pool::PoolStatus;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Row counts of the trading tables (for load-test verification and status).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RowCounts {
    /// Bots.
    pub bots: i64,
    /// Orders.
    pub orders: i64,
    /// Order events.
    pub order_events: i64,
    /// Fills.
    pub fills: i64,
    /// Positions (open and closed).
    pub positions: i64,
    /// Ledger entries.
    pub ledger: i64,
    /// Balance rows.
    pub balances: i64,
}

/// Everything `aurum db status` shows about a store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreStatus {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// File path or URL (password hidden).
    pub target: String,
    /// Applied schema version.
    pub schema_version: i64,
    /// The connection pool (SQLite: the read-only pool).
    pub pool: PoolStatus,
    /// The writer.
    pub writer: WriterStatus,
    /// Row counts.
    pub rows: RowCounts,
}

/// A store on either backend.
#[derive(Debug, Clone)]
pub enum Store {
    /// A SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database (or schema).
    Postgres(PgStore),
}

/// Calls the same method on whichever backend the store is.
macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Opens the store a URL names (see [`DbUrl::parse`]), applying pending migrations.
    pub async fn open(config: &StoreConfig) -> Result<Store> {
        match DbUrl::parse(&config.url)? {
            DbUrl::Sqlite(path) => Ok(Store::Sqlite(
                SqliteStore::open(&path, config.pool.clone(), config.writer.clone()).await?,
            )),
            DbUrl::Postgres { conninfo, schema } => Ok(Store::Postgres(
                PgStore::open(
                    &conninfo,
                    schema,
                    config.pool.clone(),
                    config.writer.clone(),
                )
                .await?,
            )),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// File path or URL (password hidden).
    pub fn target(&self) -> String {
        match self {
            Store::Sqlite(s) => s.path().display().to_string(),
            Store::Postgres(s) => s.target().to_string(),
        }
    }

    /// Migration versions applied when the store was opened.
    pub fn applied_now(&self) -> Vec<i64> {
        both!(self, s => s.applied_now().to_vec())
    }

    /// Queues a write and waits until it is durable (or refused).
    pub async fn write(&self, op: WriteOp) -> Result<WriteOutcome> {
        both!(self, s => s.write(op).await)
    }

    /// Queues several writes to be committed in one transaction (each still in its own
    /// savepoint, failing alone) and waits until every one is durable (or refused); the
    /// results come in the order of `ops`. For writes that belong together in time, such as
    /// the intents of one tick.
    pub async fn write_group(&self, ops: Vec<WriteOp>) -> Vec<Result<WriteOutcome>> {
        both!(self, s => s.write_group(ops).await)
    }

    /// Pool figures.
    pub fn pool_status(&self) -> PoolStatus {
        both!(self, s => s.pool_status())
    }

    /// Writer figures.
    pub fn writer_status(&self) -> WriterStatus {
        both!(self, s => s.writer_status())
    }

    /// Everything `aurum db status` shows.
    pub async fn status(&self) -> Result<StoreStatus> {
        Ok(StoreStatus {
            backend: self.backend(),
            target: self.target(),
            schema_version: self.schema_version().await?,
            rows: self.row_counts().await?,
            pool: self.pool_status(),
            writer: self.writer_status(),
        })
    }

    /// Stops the writer after the queued writes and closes the pool.
    pub async fn close(self) {
        both!(self, s => s.close().await)
    }

    /// Every registered bot.
    pub async fn bots(&self) -> Result<Vec<BotSpec>> {
        both!(self, s => s.bots().await)
    }

    /// One order by client order id.
    pub async fn order(&self, id: &ClientOrderId) -> Result<Option<OrderRecord>> {
        both!(self, s => s.order(id).await)
    }

    /// A bot's orders, newest first; only non-final ones when `open_only`.
    pub async fn orders(
        &self,
        bot_id: &str,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<OrderRecord>> {
        both!(self, s => s.orders(bot_id, open_only, limit).await)
    }

    /// A bot's open (non-final) orders.
    pub async fn open_orders(&self, bot_id: &str) -> Result<Vec<OrderRecord>> {
        self.orders(bot_id, true, i64::MAX).await
    }

    /// An order's events, oldest first.
    pub async fn order_events(&self, id: &ClientOrderId) -> Result<Vec<OrderEventRecord>> {
        both!(self, s => s.order_events(id).await)
    }

    /// A bot's fills, newest first.
    pub async fn fills(&self, bot_id: &str, limit: i64) -> Result<Vec<FillRecord>> {
        both!(self, s => s.fills(bot_id, limit).await)
    }

    /// The fills of one order, oldest first.
    pub async fn fills_of_order(&self, id: &ClientOrderId) -> Result<Vec<FillRecord>> {
        both!(self, s => s.fills_of_order(id).await)
    }

    /// The bot's newest fill in a pair: the highest `ts_ms`; among fills of that same
    /// millisecond the highest trade id, compared as numbers when both are integers (the
    /// venue's trade ids) and as text otherwise. `None` when the bot never traded the pair.
    /// Meant for a bot's start (it walks the bot's fills from the newest through the
    /// `(bot_id, ts_ms)` index until it meets the pair), not for the hot path.
    pub async fn last_fill(&self, bot_id: &str, symbol: &Symbol) -> Result<Option<FillRecord>> {
        both!(self, s => s.last_fill(bot_id, symbol).await)
    }

    /// A bot's positions.
    pub async fn positions(&self, bot_id: &str, open_only: bool) -> Result<Vec<PositionRecord>> {
        both!(self, s => s.positions(bot_id, open_only).await)
    }

    /// A bot's balances.
    pub async fn balances(&self, bot_id: &str) -> Result<BTreeMap<Asset, Money>> {
        both!(self, s => s.balances(bot_id).await)
    }

    /// A bot's ledger, newest first.
    pub async fn ledger(&self, bot_id: &str, limit: i64) -> Result<Vec<LedgerRecord>> {
        both!(self, s => s.ledger(bot_id, limit).await)
    }

    /// A bot's engine state.
    pub async fn engine_state(&self, bot_id: &str) -> Result<BTreeMap<String, serde_json::Value>> {
        both!(self, s => s.engine_state(bot_id).await)
    }

    /// Stored candles in `[from_ms, to_ms)`.
    pub async fn candles(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Candle>> {
        both!(self, s => s.candles(symbol, timeframe, from_ms, to_ms).await)
    }

    /// A bot's daily performance.
    pub async fn performance_daily(&self, bot_id: &str) -> Result<Vec<DailyPerformance>> {
        both!(self, s => s.performance_daily(bot_id).await)
    }

    /// A bot's equity curve ([`WriteOp::EquityPoint`]): the last `limit` points with
    /// `ts_ms >= since_ms` (over all of the bot's points when `since_ms` is `None`), in
    /// ascending `ts_ms` order, amounts exactly as written. A `limit` of 0 or less gives no
    /// points; an unknown bot gives none.
    pub async fn equity_curve(
        &self,
        bot_id: &str,
        since_ms: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EquityPointRecord>> {
        both!(self, s => s.equity_curve(bot_id, since_ms, limit).await)
    }

    /// The newest backtest runs.
    pub async fn backtest_runs(&self, limit: i64) -> Result<Vec<BacktestRunSummary>> {
        both!(self, s => s.backtest_runs(limit).await)
    }

    /// One backtest run with trades and days.
    pub async fn backtest_run(&self, run_id: &str) -> Result<Option<BacktestRunRecord>> {
        both!(self, s => s.backtest_run(run_id).await)
    }

    /// The newest optimization runs with their rankings.
    pub async fn optimize_runs(&self, limit: i64) -> Result<Vec<OptimizeRunRecord>> {
        both!(self, s => s.optimize_runs(limit).await)
    }

    /// Row counts.
    pub async fn row_counts(&self) -> Result<RowCounts> {
        both!(self, s => s.row_counts().await)
    }

    /// The applied schema version.
    pub async fn schema_version(&self) -> Result<i64> {
        both!(self, s => s.schema_version().await)
    }

    /// Takes the bot's lock, so no other process can run the same bot against this store until
    /// the returned [`BotLock`] is dropped. SQLite: an exclusive lock on the file
    /// `<database file>.<bot id>.lock` beside the database; PostgreSQL: a session advisory lock
    /// on a dedicated connection (see [`lock`]). Fails with [`StoreError::BotLocked`] at once
    /// when it is held elsewhere; it does not wait.
    pub async fn lock_bot(&self, bot_id: &str) -> Result<BotLock> {
        match self {
            Store::Sqlite(s) => s.lock_bot(bot_id),
            Store::Postgres(s) => s.lock_bot(bot_id).await,
        }
    }

    /// [`lock_bot`](Self::lock_bot), asked again for up to `patience` while another holder
    /// has it: the PostgreSQL session of a process that was just killed can hold the lock a
    /// moment longer (the server ends it only when it notices the closed socket, which a busy
    /// backend does after its current statement). A bot restarted after a crash waits for
    /// that; a bot really running elsewhere is still refused, `patience` later.
    pub async fn lock_bot_waiting(&self, bot_id: &str, patience: Duration) -> Result<BotLock> {
        let started = std::time::Instant::now();
        loop {
            match self.lock_bot(bot_id).await {
                Err(StoreError::BotLocked { .. }) if started.elapsed() < patience => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return other,
            }
        }
    }

    /// Verifies the stored state (`aurum db check`).
    pub async fn check(&self) -> Result<CheckReport> {
        both!(self, s => s.check().await)
    }
}
