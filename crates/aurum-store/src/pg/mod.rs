//! The PostgreSQL backend: an async pool of connections (with SQLAlchemy's knobs) for reads and
//! one batching writer task for every write.

pub(crate) mod rows;

use crate::rows as records;
mod writer;

use crate::RowCounts;
use crate::check::{CheckBuilder, CheckReport};
use crate::error::{Result, StoreError};
use crate::migrate::{self, AppliedMigration, Dialect};
use crate::model::{
    BacktestRunRecord, BacktestRunSummary, BotSpec, DailyPerformance, EquityPointRecord,
    FillRecord, LedgerRecord, OptimizeResult, OptimizeRunRecord, OrderEventRecord, OrderRecord,
    PositionRecord,
};
use crate::ops::{WriteOp, WriteOutcome};
use crate::writer::{WriterConfig, WriterHandle, WriterMetrics, WriterStatus};
use aurum_core::{Asset, Candle, ClientOrderId, Money, Symbol, Timeframe};
use aurum_pool::{Manager, Pool, PoolConfig, PoolStatus};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{Client, NoTls};

pub(crate) use writer::{StatementCache, prefetch, write_changes};

/// Opens PostgreSQL connections for the pool, each working in the store's schema, with a
/// statement timeout so no query can hang a caller forever.
#[derive(Debug, Clone)]
pub struct PgManager {
    config: tokio_postgres::Config,
    schema: Option<String>,
}

impl PgManager {
    /// A manager for a connection URL and an optional schema.
    pub fn new(conninfo: &str, schema: Option<String>) -> Result<Self> {
        let mut config: tokio_postgres::Config =
            conninfo.parse().map_err(|e| StoreError::BadUrl {
                url: crate::config::redact(conninfo),
                reason: format!("not a PostgreSQL URL: {e}"),
            })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("aurum");
        }
        Ok(PgManager { config, schema })
    }
}

impl Manager for PgManager {
    type Connection = Client;
    type Error = tokio_postgres::Error;

    async fn connect(&self) -> std::result::Result<Client, tokio_postgres::Error> {
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            // Ends when the client is dropped or the server goes away; the pool notices through
            // `is_broken`/pre-ping, so there is nothing to do with the error here.
            let _ = connection.await;
        });
        // Custom plans for every execution: a generic plan of the batch statements cannot know
        // how many keys an array holds and falls back to hash joins over whole tables.
        let mut setup = String::from(
            "SET statement_timeout = '60s'; SET idle_in_transaction_session_timeout = '120s'; \
             SET plan_cache_mode = force_custom_plan;",
        );
        if let Some(s) = &self.schema {
            setup.push_str(&format!(" SET search_path TO \"{s}\";"));
        }
        client.batch_execute(&setup).await?;
        Ok(client)
    }

    async fn ping(&self, conn: &mut Client) -> std::result::Result<(), tokio_postgres::Error> {
        conn.simple_query("SELECT 1").await.map(|_| ())
    }

    fn is_broken(&self, conn: &mut Client) -> bool {
        conn.is_closed()
    }
}

/// The PostgreSQL store. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<PgInner>,
}

struct PgInner {
    target: String,
    schema: Option<String>,
    pool: Pool<PgManager>,
    writer: WriterHandle,
    task: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
    applied_now: Vec<i64>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.inner.target)
            .field("schema", &self.inner.schema)
            .finish()
    }
}

fn pg_err(context: &str) -> impl FnOnce(tokio_postgres::Error) -> StoreError + '_ {
    move |source| StoreError::Postgres {
        context: context.to_string(),
        source,
    }
}

async fn applied_migrations(
    client: &impl tokio_postgres::GenericClient,
) -> Result<Vec<AppliedMigration>> {
    let rows = client
        .query(
            "SELECT version, name, checksum FROM aurum_schema_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(pg_err("reading the migration history"))?;
    rows.iter()
        .map(|r| {
            Ok(AppliedMigration {
                version: rows::get(r, 0, "aurum_schema_migrations")?,
                name: rows::get(r, 1, "aurum_schema_migrations")?,
                checksum: rows::get(r, 2, "aurum_schema_migrations")?,
            })
        })
        .collect()
}

async fn migrate(client: &mut Client, schema: Option<&str>, target: &str) -> Result<Vec<i64>> {
    // Refuse a newer schema before changing anything.
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('aurum_schema_migrations') IS NOT NULL",
            &[],
        )
        .await
        .map_err(pg_err("reading the migration history"))?
        .get(0);
    if exists {
        migrate::pending(
            Dialect::Postgres,
            &applied_migrations(client).await?,
            target,
        )?;
    }
    let tx = client
        .transaction()
        .await
        .map_err(pg_err("starting migrations"))?;
    // Many bots may start at once against one database: one migrates, the others wait.
    let lock_key = format!("aurum-migrations:{}", schema.unwrap_or("public"));
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock_key])
        .await
        .map_err(pg_err("locking migrations"))?;
    if let Some(s) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{s}\""))
            .await
            .map_err(pg_err("creating the schema"))?;
    }
    tx.batch_execute(migrate::HISTORY_TABLE_SQL)
        .await
        .map_err(pg_err("creating the migration history"))?;
    let todo = migrate::pending(Dialect::Postgres, &applied_migrations(&tx).await?, target)?;
    let mut applied = Vec::new();
    for step in todo {
        tx.batch_execute(step.postgres)
            .await
            .map_err(|e| StoreError::Postgres {
                context: format!("applying migration {} ({})", step.version, step.name),
                source: e,
            })?;
        tx.execute(
            "INSERT INTO aurum_schema_migrations (version, name, checksum, applied_at_ms) VALUES ($1, $2, $3, $4)",
            &[&step.version, &step.name, &step.checksum(Dialect::Postgres), &crate::sqlite::now_ms()],
        )
        .await
        .map_err(pg_err("recording a migration"))?;
        applied.push(step.version);
    }
    tx.commit().await.map_err(pg_err("committing migrations"))?;
    Ok(applied)
}

impl PgStore {
    /// Connects, applies pending migrations (refusing a newer schema untouched) and starts the
    /// writer task. Must be called inside a tokio runtime.
    pub async fn open(
        conninfo: &str,
        schema: Option<String>,
        pool: PoolConfig,
        writer: WriterConfig,
    ) -> Result<Self> {
        let target = match &schema {
            Some(s) => format!("{} (schema {s})", crate::config::redact(conninfo)),
            None => crate::config::redact(conninfo),
        };
        let manager = PgManager::new(conninfo, schema.clone())?;
        let pool = Pool::new(manager, pool).map_err(|e| StoreError::Open {
            target: target.clone(),
            reason: e.to_string(),
        })?;
        let applied_now = {
            let mut conn = pool.get().await.map_err(|e| StoreError::Open {
                target: target.clone(),
                reason: StoreError::from_pool(e).to_string(),
            })?;
            migrate(&mut conn, schema.as_deref(), &target).await?
        };
        let metrics = Arc::new(WriterMetrics::new(&writer));
        let (tx, rx) = tokio::sync::mpsc::channel(writer.queue_capacity.max(1));
        let task = tokio::spawn(writer::run(pool.clone(), rx, metrics.clone(), writer));
        Ok(PgStore {
            inner: Arc::new(PgInner {
                target,
                schema,
                pool,
                writer: WriterHandle::new(tx, metrics),
                task: parking_lot::Mutex::new(Some(task)),
                applied_now,
            }),
        })
    }

    /// The server (password hidden) and schema, for messages.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// Migration versions applied when this store was opened.
    pub fn applied_now(&self) -> &[i64] {
        &self.inner.applied_now
    }

    /// The connection pool (reads, and the writer's connection).
    pub fn pool(&self) -> &Pool<PgManager> {
        &self.inner.pool
    }

    /// Queues a write and waits for its durable acknowledgement.
    pub async fn write(&self, op: WriteOp) -> Result<WriteOutcome> {
        self.inner.writer.write(op).await
    }

    /// Queues writes to be committed together and waits for each one's acknowledgement.
    pub async fn write_group(&self, ops: Vec<WriteOp>) -> Vec<Result<WriteOutcome>> {
        self.inner.writer.write_group(ops).await
    }

    /// The pool's figures.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner.pool.status()
    }

    /// The writer's figures.
    pub fn writer_status(&self) -> WriterStatus {
        self.inner.writer.metrics.snapshot("postgres")
    }

    /// Stops accepting writes, lets the writer finish what is queued, and closes the pool.
    /// Only the last clone closes the store.
    pub async fn close(self) {
        let Ok(inner) = Arc::try_unwrap(self.inner) else {
            return;
        };
        let PgInner {
            writer, task, pool, ..
        } = inner;
        drop(writer);
        if let Some(t) = task.into_inner() {
            let _ = t.await;
        }
        pool.close();
    }

    async fn query<T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        context: &str,
        map: impl Fn(&tokio_postgres::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let conn = self.inner.pool.get().await.map_err(StoreError::from_pool)?;
        let rows = conn.query(sql, params).await.map_err(pg_err(context))?;
        rows.iter().map(map).collect()
    }

    /// Every registered bot.
    pub async fn bots(&self) -> Result<Vec<BotSpec>> {
        self.query("SELECT bot_id, mode, strategy, quote_asset, config, created_at_ms FROM bots ORDER BY bot_id", &[], "reading bots", |r| records::bot(r))
            .await
    }

    /// One order by client order id.
    pub async fn order(&self, id: &ClientOrderId) -> Result<Option<OrderRecord>> {
        let sql = format!(
            "SELECT {} FROM orders WHERE client_order_id = $1",
            records::ORDER_COLS
        );
        Ok(self
            .query(&sql, &[&id.as_str()], "reading orders", |r| {
                records::order(r)
            })
            .await?
            .pop())
    }

    /// A bot's orders, newest first; only the non-final ones when `open_only`.
    pub async fn orders(
        &self,
        bot_id: &str,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<OrderRecord>> {
        let filter = if open_only {
            "AND status IN ('new', 'submitted', 'partially_filled')"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {} FROM orders WHERE bot_id = $1 {filter} ORDER BY created_at_ms DESC, client_order_id DESC LIMIT $2",
            records::ORDER_COLS
        );
        self.query(&sql, &[&bot_id, &limit], "reading orders", |r| {
            records::order(r)
        })
        .await
    }

    /// An order's events, oldest first.
    pub async fn order_events(&self, id: &ClientOrderId) -> Result<Vec<OrderEventRecord>> {
        self.query(
            "SELECT event_id, client_order_id, status, exchange_order_id, detail, ts_ms FROM order_events
             WHERE client_order_id = $1 ORDER BY event_id",
            &[&id.as_str()],
            "reading order events",
            |r| records::event(r),
        )
        .await
    }

    /// A bot's fills, newest first.
    pub async fn fills(&self, bot_id: &str, limit: i64) -> Result<Vec<FillRecord>> {
        let sql = format!(
            "SELECT {} FROM fills WHERE bot_id = $1 ORDER BY ts_ms DESC, trade_id DESC LIMIT $2",
            records::FILL_COLS
        );
        self.query(&sql, &[&bot_id, &limit], "reading fills", |r| {
            records::fill(r)
        })
        .await
    }

    /// The fills of one order, oldest first.
    pub async fn fills_of_order(&self, id: &ClientOrderId) -> Result<Vec<FillRecord>> {
        let sql = format!(
            "SELECT {} FROM fills WHERE client_order_id = $1 ORDER BY ts_ms, trade_id",
            records::FILL_COLS
        );
        self.query(&sql, &[&id.as_str()], "reading fills", |r| records::fill(r))
            .await
    }

    /// The bot's newest fill in a pair (see [`crate::Store::last_fill`]): every fill of the pair
    /// at its newest `ts_ms` (both lookups through `fills_by_time (bot_id, ts_ms)`), the tie
    /// broken in Rust by the shared rule.
    pub async fn last_fill(&self, bot_id: &str, symbol: &Symbol) -> Result<Option<FillRecord>> {
        let sql = format!(
            "SELECT {} FROM fills WHERE bot_id = $1 AND symbol = $2 AND ts_ms =
             (SELECT ts_ms FROM fills WHERE bot_id = $1 AND symbol = $2 ORDER BY ts_ms DESC LIMIT 1)",
            records::FILL_COLS
        );
        let candidates = self
            .query(
                &sql,
                &[&bot_id, &symbol.to_string()],
                "reading fills",
                |r| records::fill(r),
            )
            .await?;
        Ok(records::newest_fill(candidates))
    }

    /// Takes the bot's advisory lock on a connection of its own (see [`crate::lock`]), or fails
    /// with [`StoreError::BotLocked`] when another session holds it.
    pub async fn lock_bot(&self, bot_id: &str) -> Result<crate::lock::BotLock> {
        crate::lock::check_bot_id(bot_id)?;
        let client = self
            .inner
            .pool
            .manager()
            .connect()
            .await
            .map_err(|e| StoreError::Open {
                target: self.inner.target.clone(),
                reason: format!("cannot open the lock connection of bot {bot_id}: {e}"),
            })?;
        crate::lock::lock_pg(
            client,
            self.inner.schema.as_deref(),
            &self.inner.target,
            bot_id,
        )
        .await
    }

    /// A bot's positions (open ones only when `open_only`), by pair and holding period.
    pub async fn positions(&self, bot_id: &str, open_only: bool) -> Result<Vec<PositionRecord>> {
        let filter = if open_only {
            "AND closed_at_ms IS NULL"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {} FROM positions WHERE bot_id = $1 {filter} ORDER BY symbol, seq",
            records::POSITION_COLS
        );
        self.query(&sql, &[&bot_id], "reading positions", |r| {
            records::position(r)
        })
        .await
    }

    /// A bot's balances by asset.
    pub async fn balances(&self, bot_id: &str) -> Result<BTreeMap<Asset, Money>> {
        let rows = self
            .query(
                "SELECT asset, amount FROM balances WHERE bot_id = $1",
                &[&bot_id],
                "reading balances",
                |r| {
                    Ok((
                        rows::get::<&str>(r, 0, "balances")?
                            .parse::<Asset>()
                            .map_err(|e| StoreError::Corrupt {
                                table: "balances",
                                reason: e.to_string(),
                            })?,
                        rows::get(r, 1, "balances")?,
                    ))
                },
            )
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// A bot's ledger, newest first.
    pub async fn ledger(&self, bot_id: &str, limit: i64) -> Result<Vec<LedgerRecord>> {
        let sql = format!(
            "SELECT {} FROM ledger WHERE bot_id = $1 ORDER BY entry_id DESC LIMIT $2",
            records::LEDGER_COLS
        );
        self.query(&sql, &[&bot_id, &limit], "reading the ledger", |r| {
            records::ledger(r)
        })
        .await
    }

    /// A bot's engine state values.
    pub async fn engine_state(&self, bot_id: &str) -> Result<BTreeMap<String, serde_json::Value>> {
        let rows = self
            .query(
                "SELECT key, value FROM engine_state WHERE bot_id = $1",
                &[&bot_id],
                "reading engine state",
                |r| {
                    Ok((
                        rows::get(r, 0, "engine_state")?,
                        rows::get(r, 1, "engine_state")?,
                    ))
                },
            )
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Stored candles of a pair in `[from_ms, to_ms)`, oldest first.
    pub async fn candles(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Candle>> {
        self.query(
            "SELECT open_time_ms, open, high, low, close, volume FROM market_data
             WHERE symbol = $1 AND timeframe = $2 AND open_time_ms >= $3 AND open_time_ms < $4 ORDER BY open_time_ms",
            &[&symbol.to_string(), &timeframe.as_str(), &from_ms, &to_ms],
            "reading market data",
            |r| records::candle(r),
        )
        .await
    }

    /// A bot's daily performance rows, oldest first.
    pub async fn performance_daily(&self, bot_id: &str) -> Result<Vec<DailyPerformance>> {
        self.query(
            "SELECT day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses FROM performance_daily
             WHERE bot_id = $1 ORDER BY day",
            &[&bot_id],
            "reading daily performance",
            |r| records::daily(r, "performance_daily"),
        )
        .await
    }

    /// A bot's equity curve: the newest `limit` points with `ts_ms >= since_ms` (all of the
    /// bot's points without `since_ms`), oldest first (see [`crate::Store::equity_curve`]).
    pub async fn equity_curve(
        &self,
        bot_id: &str,
        since_ms: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EquityPointRecord>> {
        let (since, limit) = records::equity_curve_bounds(since_ms, limit);
        let newest_first = self
            .query(
                "SELECT ts_ms, equity, cash FROM equity_curve WHERE bot_id = $1 AND ts_ms >= $2
                 ORDER BY ts_ms DESC LIMIT $3",
                &[&bot_id, &since, &limit],
                "reading the equity curve",
                |r| records::equity_point(r),
            )
            .await?;
        Ok(records::equity_curve(newest_first))
    }

    /// The newest backtest runs.
    pub async fn backtest_runs(&self, limit: i64) -> Result<Vec<BacktestRunSummary>> {
        let sql = format!(
            "SELECT {} FROM backtest_runs ORDER BY finished_at_ms DESC, run_id DESC LIMIT $1",
            records::RUN_SUMMARY_COLS
        );
        self.query(&sql, &[&limit], "reading backtest runs", |r| {
            records::run_summary(r)
        })
        .await
    }

    /// One backtest run with its trades and daily rows.
    pub async fn backtest_run(&self, run_id: &str) -> Result<Option<BacktestRunRecord>> {
        const T: &str = "backtest_runs";
        let runs = self
            .query(
                "SELECT run_id, strategy, params, pairs, timeframe, data_sources, start_cash, final_equity, fee_rate, candles,
                 metrics, started_at_ms, finished_at_ms FROM backtest_runs WHERE run_id = $1",
                &[&run_id],
                "reading backtest runs",
                |r| {
                    let pairs: &str = rows::get(r, 3, T)?;
                    let sources: &str = rows::get(r, 5, T)?;
                    Ok(BacktestRunRecord {
                        run_id: rows::get(r, 0, T)?,
                        strategy: rows::get(r, 1, T)?,
                        params: rows::get(r, 2, T)?,
                        pairs: pairs.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                        timeframe: rows::get(r, 4, T)?,
                        data_sources: serde_json::from_str(sources)
                            .map_err(|e| StoreError::Corrupt { table: T, reason: e.to_string() })?,
                        start_cash: rows::get(r, 6, T)?,
                        final_equity: rows::get(r, 7, T)?,
                        fee_rate: rows::get(r, 8, T)?,
                        candles: rows::get(r, 9, T)?,
                        metrics: rows::get(r, 10, T)?,
                        started_at_ms: rows::get(r, 11, T)?,
                        finished_at_ms: rows::get(r, 12, T)?,
                        trades: Vec::new(),
                        daily: Vec::new(),
                    })
                },
            )
            .await?;
        let Some(mut run) = runs.into_iter().next() else {
            return Ok(None);
        };
        run.trades = self
            .query(
                "SELECT pair, entry_time_ms, entry_price, exit_time_ms, exit_price, quantity, pnl, fees, exit_reason
                 FROM backtest_trades WHERE run_id = $1 ORDER BY seq",
                &[&run_id],
                "reading backtest trades",
                |r| records::trade(r),
            )
            .await?;
        run.daily = self
            .query(
                "SELECT day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses FROM backtest_daily
                 WHERE run_id = $1 ORDER BY day",
                &[&run_id],
                "reading backtest days",
                |r| records::daily(r, "backtest_daily"),
            )
            .await?;
        Ok(Some(run))
    }

    /// The newest optimization runs with their stored rankings.
    pub async fn optimize_runs(&self, limit: i64) -> Result<Vec<OptimizeRunRecord>> {
        const T: &str = "optimize_runs";
        let mut runs = self
            .query(
                "SELECT run_id, strategy, metric, space, pairs, timeframe, data_sources, evaluated, failed, started_at_ms,
                 finished_at_ms FROM optimize_runs ORDER BY finished_at_ms DESC, run_id DESC LIMIT $1",
                &[&limit],
                "reading optimization runs",
                |r| {
                    let pairs: &str = rows::get(r, 4, T)?;
                    let sources: &str = rows::get(r, 6, T)?;
                    Ok(OptimizeRunRecord {
                        run_id: rows::get(r, 0, T)?,
                        strategy: rows::get(r, 1, T)?,
                        metric: rows::get(r, 2, T)?,
                        space: rows::get(r, 3, T)?,
                        pairs: pairs.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                        timeframe: rows::get(r, 5, T)?,
                        data_sources: serde_json::from_str(sources)
                            .map_err(|e| StoreError::Corrupt { table: T, reason: e.to_string() })?,
                        evaluated: rows::get(r, 7, T)?,
                        failed: rows::get(r, 8, T)?,
                        started_at_ms: rows::get(r, 9, T)?,
                        finished_at_ms: rows::get(r, 10, T)?,
                        results: Vec::new(),
                    })
                },
            )
            .await?;
        for run in &mut runs {
            const R: &str = "optimize_results";
            run.results = self
                .query(
                    "SELECT rank, params, metric_value, final_equity, return_pct, max_drawdown_pct, sharpe, trades
                     FROM optimize_results WHERE run_id = $1 ORDER BY rank",
                    &[&run.run_id],
                    "reading optimization results",
                    |r| {
                        Ok(OptimizeResult {
                            rank: rows::get(r, 0, R)?,
                            params: rows::get(r, 1, R)?,
                            metric_value: rows::get(r, 2, R)?,
                            final_equity: rows::get(r, 3, R)?,
                            return_pct: rows::get(r, 4, R)?,
                            max_drawdown_pct: rows::get(r, 5, R)?,
                            sharpe: rows::get(r, 6, R)?,
                            trades: rows::get(r, 7, R)?,
                        })
                    },
                )
                .await?;
        }
        Ok(runs)
    }

    /// Row counts of the trading tables.
    pub async fn row_counts(&self) -> Result<RowCounts> {
        let conn = self.inner.pool.get().await.map_err(StoreError::from_pool)?;
        let r = conn
            .query_one(
                "SELECT (SELECT COUNT(*) FROM bots), (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_events),
                 (SELECT COUNT(*) FROM fills), (SELECT COUNT(*) FROM positions), (SELECT COUNT(*) FROM ledger),
                 (SELECT COUNT(*) FROM balances)",
                &[],
            )
            .await
            .map_err(pg_err("counting rows"))?;
        Ok(RowCounts {
            bots: r.get(0),
            orders: r.get(1),
            order_events: r.get(2),
            fills: r.get(3),
            positions: r.get(4),
            ledger: r.get(5),
            balances: r.get(6),
        })
    }

    /// The newest applied schema version.
    pub async fn schema_version(&self) -> Result<i64> {
        let conn = self.inner.pool.get().await.map_err(StoreError::from_pool)?;
        Ok(applied_migrations(&*conn)
            .await?
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0))
    }

    /// Verifies the stored state (see [`crate::check`]) on one consistent snapshot.
    pub async fn check(&self) -> Result<CheckReport> {
        let mut conn = self.inner.pool.get().await.map_err(StoreError::from_pool)?;
        let tx = conn
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_err("starting the check"))?;
        let ctx = "checking the stored state";
        let mut b = CheckBuilder::new();
        for (sql, feed) in records::CHECK_QUERIES {
            for r in tx.query(sql, &[]).await.map_err(pg_err(ctx))? {
                feed(&r, &mut b)?;
            }
        }
        tx.commit().await.map_err(pg_err(ctx))?;
        Ok(b.finish())
    }
}
