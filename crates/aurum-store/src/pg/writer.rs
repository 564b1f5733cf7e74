//! The PostgreSQL batching writer.
//!
//! Per batch, in one transaction: load every row the batch touches with a few `= ANY(...)`
//! queries (`FOR UPDATE`, in a fixed order), plan each request in memory with the shared
//! planner, then write all changes with one set-based statement per table (`unnest` arrays).
//! A batch whose set-based write hits an unexpected database error is re-run with each request
//! in its own SAVEPOINT, so one bad request fails alone. Serialization failures, deadlocks and
//! lost connections are retried with backoff, a bounded number of times; a batch whose COMMIT
//! outcome is unknown (connection lost during COMMIT) is looked up by its id before any retry,
//! so it is never applied twice.

use super::PgManager;
use crate::batch::group;
use crate::error::{Result, StoreError};
use crate::model::{BacktestRunRecord, FillRecord, OptimizeRunRecord, OrderRecord, PositionRecord};
use crate::ops::WriteOutcome;
use crate::plan::{Change, NeededRows, Overlay, PositionSlot, SeededOnly, plan};
use crate::writer::{GROUP_WAIT, Request, WriterConfig, WriterMetrics, acknowledge, all_failed};
use aurum_core::{ClientOrderId, Decimal};
use aurum_pool::{Pool, PooledConnection};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_postgres::error::SqlState;
use tokio_postgres::{GenericClient, Transaction};

/// How long the writer keeps retrying a batch that failed for a transient reason.
const RETRY_PATIENCE: Duration = Duration::from_secs(20);

/// Why a batch attempt failed.
enum Attempt {
    /// Try again (serialization failure, deadlock, lost connection).
    Retry(tokio_postgres::Error),
    /// Connection lost while COMMIT was in flight: the batch may or may not be in.
    Unknown(Vec<Result<WriteOutcome>>, tokio_postgres::Error),
    /// A database error the set-based path cannot isolate: re-run one request per savepoint.
    Isolate(tokio_postgres::Error),
    /// Give up on the whole batch.
    Fail(String),
}

fn transient(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08")
        }
        // No SQLSTATE: an I/O error on the socket.
        None => true,
    }
}

fn classify(e: tokio_postgres::Error) -> Attempt {
    if transient(&e) {
        Attempt::Retry(e)
    } else {
        Attempt::Isolate(e)
    }
}

/// Unique ids for batches of this process.
static BATCH_SEQ: AtomicU64 = AtomicU64::new(0);

fn batch_id() -> String {
    let n = BATCH_SEQ.fetch_add(1, Ordering::Relaxed);
    let boot = *BOOT_NANOS;
    format!("{}-{boot}-{n}", std::process::id())
}

static BOOT_NANOS: std::sync::LazyLock<u128> = std::sync::LazyLock::new(|| {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
});

/// The writer's connection and the statements prepared on it.
pub(crate) struct Conn(PooledConnection<PgManager>, StatementCache);

/// The writer task: owns one pooled connection while it is healthy, replaces it when not.
pub(crate) async fn run(
    pool: Pool<PgManager>,
    mut rx: mpsc::Receiver<Request>,
    metrics: Arc<WriterMetrics>,
    config: WriterConfig,
) {
    let max_batch = config.max_batch.max(1);
    let mut conn: Option<Conn> = None;
    let mut batch = Vec::with_capacity(max_batch);
    let mut since_prune = 0u32;
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        // The rest of a group on its way (see `WriterHandle::write_group`).
        let until = tokio::time::Instant::now() + GROUP_WAIT;
        while batch.len() < max_batch && batch.last().is_some_and(Request::group_open) {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(r)) => batch.push(r),
                _ => break,
            }
        }
        metrics
            .queue_depth
            .fetch_sub(batch.len() as i64, Ordering::Relaxed);
        let results = run_batch(&pool, &mut conn, &batch, &metrics, &config).await;
        acknowledge(&metrics, std::mem::take(&mut batch), results);
        since_prune += 1;
        if since_prune >= 1000 {
            since_prune = 0;
            if let Some(Conn(c, _)) = conn.as_mut() {
                // Batch ids only matter for minutes after a crash; keep a day.
                let cutoff = crate::sqlite::now_ms() - 86_400_000;
                let _ = c
                    .execute(
                        "DELETE FROM aurum_writer_batches WHERE created_at_ms < $1",
                        &[&cutoff],
                    )
                    .await;
            }
        }
    }
}

async fn run_batch(
    pool: &Pool<PgManager>,
    conn: &mut Option<Conn>,
    batch: &[Request],
    metrics: &WriterMetrics,
    config: &WriterConfig,
) -> Vec<Result<WriteOutcome>> {
    let fail_all = |why: String| all_failed(batch.len(), &why);
    let id = batch_id();
    let started = Instant::now();
    let mut backoff = Duration::from_millis(5);
    let mut isolate = false;
    let mut unknown: Option<Vec<Result<WriteOutcome>>> = None;
    loop {
        if conn.as_mut().is_some_and(|Conn(c, _)| c.is_closed())
            && let Some(Conn(c, _)) = conn.take()
        {
            c.discard();
        }
        if conn.is_none() {
            match pool.get().await {
                Ok(c) => *conn = Some(Conn(c, StatementCache::default())),
                Err(e) => {
                    if started.elapsed() < RETRY_PATIENCE {
                        metrics.retries_total.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_millis(500));
                        continue;
                    }
                    return fail_all(StoreError::from_pool(e).to_string());
                }
            }
        }
        let Some(Conn(client, cache)) = conn.as_mut() else {
            continue;
        };
        if let Some(results) = unknown.take() {
            // The last COMMIT's outcome is unknown: find out before doing anything again.
            match client
                .query_opt(
                    "SELECT 1 FROM aurum_writer_batches WHERE batch_id = $1",
                    &[&id],
                )
                .await
            {
                Ok(Some(_)) => return results,
                Ok(None) => {}
                Err(e) => {
                    unknown = Some(results);
                    if started.elapsed() < RETRY_PATIENCE && transient(&e) {
                        if let Some(Conn(c, _)) = conn.take() {
                            c.discard();
                        }
                        tokio::time::sleep(backoff).await;
                        continue;
                    }
                    return fail_all(format!("could not learn whether the batch committed: {e}"));
                }
            }
        }
        let attempt = attempt_batch(client, cache, batch, &id, isolate, config).await;
        let commit_time = started.elapsed();
        match attempt {
            Ok(results) => {
                metrics.commit_time.record_duration(commit_time);
                return results;
            }
            Err(Attempt::Isolate(e)) if !isolate => {
                tracing::debug!("batch hit {e}; re-running it one request per savepoint");
                metrics.replays_total.fetch_add(1, Ordering::Relaxed);
                isolate = true;
            }
            Err(Attempt::Isolate(e)) => return fail_all(e.to_string()),
            Err(Attempt::Fail(why)) => return fail_all(why),
            Err(Attempt::Retry(e)) | Err(Attempt::Unknown(_, e))
                if started.elapsed() >= RETRY_PATIENCE =>
            {
                return fail_all(format!(
                    "gave up after {:.1}s of retries: {e}",
                    started.elapsed().as_secs_f64()
                ));
            }
            Err(Attempt::Retry(e)) => {
                metrics.retries_total.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("PostgreSQL writer retrying a batch: {e}");
                let connection_lost = e.is_closed()
                    || e.code().is_none()
                    || e.code()
                        .is_some_and(|c| c.code().starts_with("57") || c.code().starts_with("08"));
                if connection_lost && let Some(Conn(c, _)) = conn.take() {
                    c.discard();
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
            Err(Attempt::Unknown(results, e)) => {
                metrics.retries_total.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    "PostgreSQL connection lost during COMMIT ({e}); checking whether the batch landed"
                );
                unknown = Some(results);
                if let Some(Conn(c, _)) = conn.take() {
                    c.discard();
                }
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

async fn attempt_batch(
    client: &mut tokio_postgres::Client,
    cache: &StatementCache,
    batch: &[Request],
    id: &str,
    isolate: bool,
    config: &WriterConfig,
) -> std::result::Result<Vec<Result<WriteOutcome>>, Attempt> {
    let mut tx = client.transaction().await.map_err(classify)?;
    tx.execute(
        "INSERT INTO aurum_writer_batches (batch_id, created_at_ms) VALUES ($1, $2)",
        &[&id, &crate::sqlite::now_ms()],
    )
    .await
    .map_err(classify)?;
    let mut results = Vec::with_capacity(batch.len());
    let mut overlay = Overlay::default();
    if isolate {
        for req in batch {
            let sp = tx.savepoint("op").await.map_err(classify)?;
            prefetch(&sp, cache, &NeededRows::of([&req.op]), &mut overlay)
                .await
                .map_err(prefetch_attempt)?;
            match plan(&req.op, &mut SeededOnly, &mut overlay) {
                Ok(planned) => match write_changes(&sp, cache, &planned.changes).await {
                    Ok(()) => {
                        sp.commit().await.map_err(classify)?;
                        overlay.absorb(&planned.changes);
                        results.push(Ok(planned.outcome));
                    }
                    Err(e) if transient(&e) => return Err(Attempt::Retry(e)),
                    Err(e) => {
                        sp.rollback().await.map_err(classify)?;
                        results.push(Err(StoreError::pg(format!("writing a {}", req.op.kind()))(
                            e,
                        )));
                    }
                },
                Err(e) => {
                    sp.rollback().await.map_err(classify)?;
                    results.push(Err(e));
                }
            }
        }
    } else {
        prefetch(
            &tx,
            cache,
            &NeededRows::of(batch.iter().map(|r| &r.op)),
            &mut overlay,
        )
        .await
        .map_err(prefetch_attempt)?;
        let mut all_changes = Vec::new();
        for req in batch {
            match plan(&req.op, &mut SeededOnly, &mut overlay) {
                Ok(planned) => {
                    overlay.absorb(&planned.changes);
                    all_changes.extend(planned.changes);
                    results.push(Ok(planned.outcome));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        write_changes(&tx, cache, &all_changes)
            .await
            .map_err(classify)?;
    }
    if config.commit_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(config.commit_delay_ms)).await;
    }
    match tx.commit().await {
        Ok(()) => Ok(results),
        Err(e) if e.is_closed() || e.code().is_none() => Err(Attempt::Unknown(results, e)),
        Err(e) if transient(&e) => Err(Attempt::Retry(e)),
        Err(e) => Err(Attempt::Fail(format!("COMMIT failed: {e}"))),
    }
}

/// Why rows could not be loaded.
#[derive(Debug)]
pub(crate) enum PrefetchError {
    /// The database failed (may be transient).
    Db(tokio_postgres::Error),
    /// A row could not be read back (corruption or a foreign writer): never guessed around.
    Corrupt(StoreError),
}

impl From<tokio_postgres::Error> for PrefetchError {
    fn from(e: tokio_postgres::Error) -> Self {
        PrefetchError::Db(e)
    }
}

impl From<PrefetchError> for StoreError {
    fn from(e: PrefetchError) -> Self {
        match e {
            PrefetchError::Db(e) => StoreError::pg("loading rows")(e),
            PrefetchError::Corrupt(e) => e,
        }
    }
}

fn prefetch_attempt(e: PrefetchError) -> Attempt {
    match e {
        PrefetchError::Db(e) => classify(e),
        PrefetchError::Corrupt(e) => Attempt::Fail(e.to_string()),
    }
}

/// The queries of [`prefetch`], built once.
struct PrefetchSql {
    orders: String,
    open_positions: String,
    fills: String,
}

static PREFETCH_SQL: std::sync::LazyLock<PrefetchSql> = std::sync::LazyLock::new(|| {
    PrefetchSql {
    orders: format!(
        "SELECT {} FROM orders WHERE client_order_id = ANY($1) ORDER BY client_order_id FOR UPDATE",
        crate::rows::ORDER_COLS
    ),
    open_positions: format!(
        "SELECT {} FROM positions WHERE closed_at_ms IS NULL AND (bot_id, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         ORDER BY bot_id, symbol FOR UPDATE",
        crate::rows::POSITION_COLS
    ),
    fills: format!(
        "SELECT {} FROM fills WHERE (client_order_id, trade_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        crate::rows::FILL_COLS
    ),
}
});

const BOTS_SQL: &str = "SELECT bot_id FROM bots WHERE bot_id = ANY($1)";
const LAST_SEQ_SQL: &str = "SELECT bot_id, symbol, MAX(seq) FROM positions
    WHERE (bot_id, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[])) GROUP BY bot_id, symbol";
const BALANCES_SQL: &str = "SELECT bot_id, asset, amount FROM balances
    WHERE (bot_id, asset) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY bot_id, asset FOR UPDATE";

/// Runs a prepared query, or answers no rows when there is nothing to ask.
async fn query_if(
    tx: &impl GenericClient,
    st: Option<tokio_postgres::Statement>,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> std::result::Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    match st {
        Some(st) => tx.query(&st, params).await,
        None => Ok(Vec::new()),
    }
}

/// Loads every row the batch needs, locking the ones it will change. The queries go out
/// together (PostgreSQL answers them in order: orders, positions, balances — the fixed lock
/// order that keeps concurrent writers free of deadlocks).
pub(crate) async fn prefetch(
    tx: &impl GenericClient,
    cache: &StatementCache,
    need: &NeededRows,
    ov: &mut Overlay,
) -> std::result::Result<(), PrefetchError> {
    let sql = &*PREFETCH_SQL;
    let bots: Vec<&str> = need.bots.iter().map(String::as_str).collect();
    let order_ids: Vec<&str> = need.orders.iter().map(|c| c.as_str()).collect();
    let slot_bots: Vec<&str> = need.slots.iter().map(|(b, _)| b.as_str()).collect();
    let slot_syms: Vec<String> = need.slots.iter().map(|(_, s)| s.to_string()).collect();
    let bal_bots: Vec<&str> = need.balances.iter().map(|(b, _)| b.as_str()).collect();
    let bal_assets: Vec<&str> = need.balances.iter().map(|(_, a)| a.as_str()).collect();
    let fill_orders: Vec<&str> = need.fills.iter().map(|(o, _)| o.as_str()).collect();
    let fill_trades: Vec<&str> = need.fills.iter().map(|(_, t)| t.as_str()).collect();

    // Prepare (cached after the first batch), then send every query before awaiting any.
    let st_bots = if bots.is_empty() {
        None
    } else {
        Some(cache.get(tx, BOTS_SQL).await?)
    };
    let st_orders = if order_ids.is_empty() {
        None
    } else {
        Some(cache.get(tx, &sql.orders).await?)
    };
    let st_open = if slot_bots.is_empty() {
        None
    } else {
        Some(cache.get(tx, &sql.open_positions).await?)
    };
    let st_last = if slot_bots.is_empty() {
        None
    } else {
        Some(cache.get(tx, LAST_SEQ_SQL).await?)
    };
    let st_bal = if bal_bots.is_empty() {
        None
    } else {
        Some(cache.get(tx, BALANCES_SQL).await?)
    };
    let st_fills = if fill_orders.is_empty() {
        None
    } else {
        Some(cache.get(tx, &sql.fills).await?)
    };
    let p_bots: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&bots];
    let p_orders: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&order_ids];
    let p_slots: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&slot_bots, &slot_syms];
    let p_bal: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&bal_bots, &bal_assets];
    let p_fills: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&fill_orders, &fill_trades];
    let (found_bots, orders, open, last, balances, fills) = futures_util::try_join!(
        query_if(tx, st_bots, &p_bots),
        query_if(tx, st_orders, &p_orders),
        query_if(tx, st_open, &p_slots),
        query_if(tx, st_last, &p_slots),
        query_if(tx, st_bal, &p_bal),
        query_if(tx, st_fills, &p_fills),
    )?;

    let found_bots: Vec<String> = found_bots.iter().map(|r| r.get(0)).collect();
    for b in &need.bots {
        ov.seed_bot(b.clone(), found_bots.contains(b));
    }
    let mut found: HashMap<String, OrderRecord> = HashMap::new();
    for r in &orders {
        let o = crate::rows::order(r).map_err(PrefetchError::Corrupt)?;
        found.insert(o.intent.client_order_id.to_string(), o);
    }
    for id in &need.orders {
        ov.seed_order(id.clone(), found.remove(id.as_str()));
    }
    let mut open_by: HashMap<(String, String), PositionRecord> = HashMap::new();
    for r in &open {
        let p = crate::rows::position(r).map_err(PrefetchError::Corrupt)?;
        open_by.insert((p.bot_id.clone(), p.position.symbol.to_string()), p);
    }
    let last: HashMap<(String, String), i64> = last
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    for (bot, sym) in &need.slots {
        let key = (bot.clone(), sym.to_string());
        let slot = PositionSlot {
            open: open_by.remove(&key).map(|p| (p.seq, p.position)),
            last_seq: last.get(&key).copied().unwrap_or(0),
        };
        ov.seed_position(bot.clone(), sym.clone(), slot);
    }
    let balances: HashMap<(String, String), Decimal> = balances
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    for (bot, asset) in &need.balances {
        let amount = balances
            .get(&(bot.clone(), asset.to_string()))
            .copied()
            .unwrap_or(Decimal::ZERO);
        ov.seed_balance(bot.clone(), asset.clone(), amount);
    }
    let mut found_fills: HashMap<(ClientOrderId, String), FillRecord> = HashMap::new();
    for r in &fills {
        let f = crate::rows::fill(r).map_err(PrefetchError::Corrupt)?;
        found_fills.insert((f.fill.client_order_id.clone(), f.fill.trade_id.clone()), f);
    }
    for (order, trade) in &need.fills {
        let f = found_fills
            .remove(&(order.clone(), trade.clone()))
            .map(|f| f.fill);
        ov.seed_fill(order.clone(), trade.clone(), f);
    }
    Ok(())
}

/// Statements prepared once per connection (PostgreSQL plans a prepared statement once; the
/// batch statements are the same every batch). Dropped with its connection.
#[derive(Default)]
pub(crate) struct StatementCache {
    map: parking_lot::Mutex<HashMap<String, tokio_postgres::Statement>>,
}

impl StatementCache {
    /// The prepared statement for `sql`, preparing it on first use.
    pub(crate) async fn get(
        &self,
        client: &impl GenericClient,
        sql: &str,
    ) -> std::result::Result<tokio_postgres::Statement, tokio_postgres::Error> {
        if let Some(st) = self.map.lock().get(sql) {
            return Ok(st.clone());
        }
        let st = client.prepare(sql).await?;
        self.map.lock().insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

type Param<'a> = Box<dyn tokio_postgres::types::ToSql + Sync + Send + 'a>;

/// The statements of one batch write, sent together: PostgreSQL runs them in the order sent, and
/// the client does not wait for one answer before sending the next (one round trip, not one per
/// statement). The first failure fails the transaction.
#[derive(Default)]
struct Pipeline<'a> {
    items: Vec<(String, Vec<Param<'a>>)>,
}

impl<'a> Pipeline<'a> {
    fn push(&mut self, sql: impl Into<String>, params: Vec<Param<'a>>) {
        self.items.push((sql.into(), params));
    }

    async fn run(
        self,
        tx: &Transaction<'_>,
        cache: &StatementCache,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        let mut statements = Vec::with_capacity(self.items.len());
        for (sql, _) in &self.items {
            statements.push(cache.get(tx, sql).await?);
        }
        let runs = self
            .items
            .iter()
            .zip(&statements)
            .map(|((_, params), st)| async move {
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                tx.execute(st, &refs).await
            });
        futures_util::future::try_join_all(runs).await?;
        Ok(())
    }
}

fn strs<T: ToString>(items: impl Iterator<Item = T>) -> Vec<String> {
    items.map(|x| x.to_string()).collect()
}

/// Writes a batch's changes with one statement per table.
pub(crate) async fn write_changes(
    tx: &Transaction<'_>,
    cache: &StatementCache,
    changes: &[Change],
) -> std::result::Result<(), tokio_postgres::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let g = group(changes);
    let mut p = Pipeline::default();
    for b in &g.bots {
        p.push("INSERT INTO bots (bot_id, mode, strategy, quote_asset, config, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (bot_id) DO UPDATE SET mode = excluded.mode, strategy = excluded.strategy,
             quote_asset = excluded.quote_asset, config = excluded.config", vec![Box::new(&b.bot_id), Box::new(&b.mode), Box::new(&b.strategy), Box::new(b.quote_asset.as_str()), Box::new(&b.config), Box::new(&b.created_at_ms)]);
    }
    if !g.new_orders.is_empty() {
        let os: Vec<&OrderRecord> = g
            .new_orders
            .iter()
            .filter_map(|id| g.orders.get(id).copied())
            .collect();
        let ids = strs(os.iter().map(|o| &o.intent.client_order_id));
        let bots: Vec<&str> = os.iter().map(|o| o.bot_id.as_str()).collect();
        let eids: Vec<Option<&str>> = os.iter().map(|o| o.exchange_order_id.as_deref()).collect();
        let syms = strs(os.iter().map(|o| &o.intent.symbol));
        let sides: Vec<&str> = os.iter().map(|o| o.intent.side.as_str()).collect();
        let types: Vec<&str> = os.iter().map(|o| o.intent.order_type.as_str()).collect();
        let tifs: Vec<Option<&str>> = os
            .iter()
            .map(|o| o.intent.time_in_force.map(|t| t.as_str()))
            .collect();
        let qty: Vec<Option<Decimal>> = os.iter().map(|o| o.intent.quantity).collect();
        let qqty: Vec<Option<Decimal>> = os.iter().map(|o| o.intent.quote_quantity).collect();
        let price: Vec<Option<Decimal>> = os.iter().map(|o| o.intent.price).collect();
        let stop: Vec<Option<Decimal>> = os.iter().map(|o| o.intent.stop_price).collect();
        let trail: Vec<Option<i32>> = os
            .iter()
            .map(|o| {
                o.intent
                    .trailing_delta_bps
                    .map(|v| v.min(i32::MAX as u32) as i32)
            })
            .collect();
        let status: Vec<&str> = os.iter().map(|o| o.status.as_str()).collect();
        let fq: Vec<Decimal> = os.iter().map(|o| o.filled_qty).collect();
        let fquote: Vec<Decimal> = os.iter().map(|o| o.filled_quote).collect();
        let created: Vec<i64> = os.iter().map(|o| o.intent.created_at_ms).collect();
        let updated: Vec<i64> = os.iter().map(|o| o.updated_at_ms).collect();
        let meta: Vec<Option<&serde_json::Value>> = os.iter().map(|o| o.meta.as_ref()).collect();
        p.push(format!(
                "INSERT INTO orders ({}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::int[], $13::text[], $14::numeric[],
                 $15::numeric[], $16::bigint[], $17::bigint[], $18::jsonb[])",
                crate::rows::ORDER_COLS
            ), vec![Box::new(ids), Box::new(bots), Box::new(eids), Box::new(syms), Box::new(sides), Box::new(types), Box::new(tifs), Box::new(qty), Box::new(qqty), Box::new(price), Box::new(stop), Box::new(trail), Box::new(status), Box::new(fq), Box::new(fquote), Box::new(created), Box::new(updated), Box::new(meta)]);
    }
    let updated: Vec<&OrderRecord> = g
        .orders
        .iter()
        .filter(|(id, _)| !g.new_orders.contains(id))
        .map(|(_, o)| *o)
        .collect();
    if !updated.is_empty() {
        let ids = strs(updated.iter().map(|o| &o.intent.client_order_id));
        let status: Vec<&str> = updated.iter().map(|o| o.status.as_str()).collect();
        let eids: Vec<Option<&str>> = updated
            .iter()
            .map(|o| o.exchange_order_id.as_deref())
            .collect();
        let fq: Vec<Decimal> = updated.iter().map(|o| o.filled_qty).collect();
        let fquote: Vec<Decimal> = updated.iter().map(|o| o.filled_quote).collect();
        let ts: Vec<i64> = updated.iter().map(|o| o.updated_at_ms).collect();
        p.push("UPDATE orders o SET status = u.status, exchange_order_id = u.eid, filled_qty = u.fq, filled_quote = u.fquote,
             updated_at_ms = u.ts
             FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::bigint[]) AS u(id, status, eid, fq, fquote, ts)
             WHERE o.client_order_id = u.id", vec![Box::new(ids), Box::new(status), Box::new(eids), Box::new(fq), Box::new(fquote), Box::new(ts)]);
    }
    if !g.events.is_empty() {
        let ids = strs(g.events.iter().map(|e| &e.client_order_id));
        let bots: Vec<&str> = g.events.iter().map(|e| e.bot_id.as_str()).collect();
        let status: Vec<&str> = g.events.iter().map(|e| e.status.as_str()).collect();
        let eids: Vec<Option<&str>> = g
            .events
            .iter()
            .map(|e| e.exchange_order_id.as_deref())
            .collect();
        let detail: Vec<Option<&str>> = g.events.iter().map(|e| e.detail.as_deref()).collect();
        let ts: Vec<i64> = g.events.iter().map(|e| e.ts_ms).collect();
        p.push("INSERT INTO order_events (client_order_id, bot_id, status, exchange_order_id, detail, ts_ms)
             SELECT a, b, c, d, e, f FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
             WITH ORDINALITY AS u(a, b, c, d, e, f, n) ORDER BY n", vec![Box::new(ids), Box::new(bots), Box::new(status), Box::new(eids), Box::new(detail), Box::new(ts)]);
    }
    if !g.fills.is_empty() {
        let f = &g.fills;
        let bots: Vec<&str> = f.iter().map(|x| x.bot_id.as_str()).collect();
        let syms = strs(f.iter().map(|x| &x.fill.symbol));
        let trades: Vec<&str> = f.iter().map(|x| x.fill.trade_id.as_str()).collect();
        let ids = strs(f.iter().map(|x| &x.fill.client_order_id));
        let sides: Vec<&str> = f.iter().map(|x| x.fill.side.as_str()).collect();
        let price: Vec<Decimal> = f.iter().map(|x| x.fill.price).collect();
        let qty: Vec<Decimal> = f.iter().map(|x| x.fill.quantity).collect();
        let fee: Vec<Decimal> = f.iter().map(|x| x.fill.fee).collect();
        let fee_asset: Vec<&str> = f.iter().map(|x| x.fill.fee_asset.as_str()).collect();
        let pnl: Vec<Decimal> = f.iter().map(|x| x.realised_pnl).collect();
        let seq: Vec<i64> = f.iter().map(|x| x.position_seq).collect();
        let ts: Vec<i64> = f.iter().map(|x| x.fill.ts_ms).collect();
        p.push(format!(
                "INSERT INTO fills ({}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[],
                 $7::numeric[], $8::numeric[], $9::text[], $10::numeric[], $11::bigint[], $12::bigint[])",
                crate::rows::FILL_COLS
            ), vec![Box::new(bots), Box::new(syms), Box::new(trades), Box::new(ids), Box::new(sides), Box::new(price), Box::new(qty), Box::new(fee), Box::new(fee_asset), Box::new(pnl), Box::new(seq), Box::new(ts)]);
    }
    // Existing positions first: closing one frees the "one open position per pair" slot that a
    // position opened in the same batch takes.
    for (set, insert) in [(&g.positions, false), (&g.new_positions, true)] {
        if set.is_empty() {
            continue;
        }
        let ps: Vec<&PositionRecord> = set.values().copied().collect();
        let bots: Vec<&str> = ps.iter().map(|p| p.bot_id.as_str()).collect();
        let syms = strs(ps.iter().map(|p| &p.position.symbol));
        let seq: Vec<i64> = ps.iter().map(|p| p.seq).collect();
        let qty: Vec<Decimal> = ps.iter().map(|p| p.position.quantity).collect();
        let cost: Vec<Decimal> = ps.iter().map(|p| p.position.cost_basis).collect();
        let bq: Vec<Decimal> = ps.iter().map(|p| p.position.bought_qty).collect();
        let bquote: Vec<Decimal> = ps.iter().map(|p| p.position.bought_quote).collect();
        let avg: Vec<Decimal> = ps.iter().map(|p| p.position.avg_entry_price()).collect();
        let pnl: Vec<Decimal> = ps.iter().map(|p| p.position.realised_pnl).collect();
        let fees: Vec<Decimal> = ps.iter().map(|p| p.position.fees_quote).collect();
        let count: Vec<i64> = ps
            .iter()
            .map(|p| i64::from(p.position.fill_count))
            .collect();
        let opened: Vec<i64> = ps.iter().map(|p| p.position.opened_at_ms).collect();
        let closed: Vec<Option<i64>> = ps.iter().map(|p| p.position.closed_at_ms).collect();
        let dust: Vec<Decimal> = ps.iter().map(|p| p.position.dust).collect();
        let arrays = "unnest($1::text[], $2::text[], $3::bigint[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[],
             $8::numeric[], $9::numeric[], $10::numeric[], $11::bigint[], $12::bigint[], $13::bigint[], $14::numeric[])";
        let sql = if insert {
            format!(
                "INSERT INTO positions (bot_id, symbol, seq, quantity, cost_basis, bought_qty, bought_quote, avg_entry_price,
                 realised_pnl, fees_quote, fill_count, opened_at_ms, closed_at_ms, dust_qty) SELECT * FROM {arrays}"
            )
        } else {
            format!(
                "UPDATE positions p SET quantity = u.qty, cost_basis = u.cost, bought_qty = u.bq, bought_quote = u.bquote,
                 avg_entry_price = u.avg, realised_pnl = u.pnl, fees_quote = u.fees, fill_count = u.n, opened_at_ms = u.opened,
                 closed_at_ms = u.closed, dust_qty = u.dust
                 FROM {arrays} AS u(bot, sym, seq, qty, cost, bq, bquote, avg, pnl, fees, n, opened, closed, dust)
                 WHERE p.bot_id = u.bot AND p.symbol = u.sym AND p.seq = u.seq"
            )
        };
        p.push(
            &sql,
            vec![
                Box::new(bots),
                Box::new(syms),
                Box::new(seq),
                Box::new(qty),
                Box::new(cost),
                Box::new(bq),
                Box::new(bquote),
                Box::new(avg),
                Box::new(pnl),
                Box::new(fees),
                Box::new(count),
                Box::new(opened),
                Box::new(closed),
                Box::new(dust),
            ],
        );
    }
    if !g.ledger.is_empty() {
        let l = &g.ledger;
        let bots: Vec<&str> = l.iter().map(|x| x.bot_id.as_str()).collect();
        let assets: Vec<&str> = l.iter().map(|x| x.entry.asset.as_str()).collect();
        let amounts: Vec<Decimal> = l.iter().map(|x| x.entry.amount).collect();
        let kinds: Vec<&str> = l.iter().map(|x| x.entry.kind.as_str()).collect();
        let syms: Vec<Option<&str>> = l.iter().map(|x| x.symbol.as_deref()).collect();
        let trades: Vec<Option<&str>> = l.iter().map(|x| x.trade_id.as_deref()).collect();
        let notes: Vec<Option<&str>> = l.iter().map(|x| x.note.as_deref()).collect();
        let ts: Vec<i64> = l.iter().map(|x| x.entry.ts_ms).collect();
        p.push("INSERT INTO ledger (bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms)
             SELECT a, b, c, d, e, f, g, h FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::bigint[]) WITH ORDINALITY AS u(a, b, c, d, e, f, g, h, n) ORDER BY n", vec![Box::new(bots), Box::new(assets), Box::new(amounts), Box::new(kinds), Box::new(syms), Box::new(trades), Box::new(notes), Box::new(ts)]);
    }
    if !g.balances.is_empty() {
        let bots: Vec<&str> = g.balances.keys().map(|(b, _)| b.as_str()).collect();
        let assets: Vec<&str> = g.balances.keys().map(|(_, a)| a.as_str()).collect();
        let amounts: Vec<Decimal> = g.balances.values().map(|(a, _)| *a).collect();
        let ts: Vec<i64> = g.balances.values().map(|(_, t)| *t).collect();
        p.push("INSERT INTO balances (bot_id, asset, amount, updated_at_ms) SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::bigint[])
             ON CONFLICT (bot_id, asset) DO UPDATE SET amount = excluded.amount, updated_at_ms = excluded.updated_at_ms", vec![Box::new(bots), Box::new(assets), Box::new(amounts), Box::new(ts)]);
    }
    if !g.engine_state.is_empty() {
        let bots: Vec<&str> = g.engine_state.keys().map(|(b, _)| b.as_str()).collect();
        let keys: Vec<&str> = g.engine_state.keys().map(|(_, k)| k.as_str()).collect();
        let values: Vec<&serde_json::Value> = g.engine_state.values().map(|(v, _)| *v).collect();
        let ts: Vec<i64> = g.engine_state.values().map(|(_, t)| *t).collect();
        p.push("INSERT INTO engine_state (bot_id, key, value, updated_at_ms) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bigint[])
             ON CONFLICT (bot_id, key) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms", vec![Box::new(bots), Box::new(keys), Box::new(values), Box::new(ts)]);
    }
    let candles: Vec<_> = g.candles.iter().collect();
    for chunk in candles.chunks(20_000) {
        let syms: Vec<&str> = chunk.iter().map(|((s, _, _), _)| s.as_str()).collect();
        let tfs: Vec<&str> = chunk.iter().map(|((_, t, _), _)| *t).collect();
        let ts: Vec<i64> = chunk.iter().map(|((_, _, t), _)| *t).collect();
        let o: Vec<Decimal> = chunk.iter().map(|(_, c)| c.open).collect();
        let h: Vec<Decimal> = chunk.iter().map(|(_, c)| c.high).collect();
        let l: Vec<Decimal> = chunk.iter().map(|(_, c)| c.low).collect();
        let c: Vec<Decimal> = chunk.iter().map(|(_, c)| c.close).collect();
        let v: Vec<Decimal> = chunk.iter().map(|(_, c)| c.volume).collect();
        p.push("INSERT INTO market_data (symbol, timeframe, open_time_ms, open, high, low, close, volume)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[])
             ON CONFLICT (symbol, timeframe, open_time_ms) DO UPDATE SET open = excluded.open, high = excluded.high,
             low = excluded.low, close = excluded.close, volume = excluded.volume", vec![Box::new(syms), Box::new(tfs), Box::new(ts), Box::new(o), Box::new(h), Box::new(l), Box::new(c), Box::new(v)]);
    }
    for ((bot, _), d) in &g.days {
        p.push("INSERT INTO performance_daily (bot_id, day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (bot_id, day) DO UPDATE SET start_equity = excluded.start_equity, end_equity = excluded.end_equity,
             realised_pnl = excluded.realised_pnl, fees = excluded.fees, trades = excluded.trades, wins = excluded.wins,
             losses = excluded.losses", vec![Box::new(bot), Box::new(&d.day), Box::new(&d.start_equity), Box::new(&d.end_equity), Box::new(&d.realised_pnl), Box::new(&d.fees), Box::new(&d.trades), Box::new(&d.wins), Box::new(&d.losses)]);
    }
    if !g.equity.is_empty() {
        let bots: Vec<&str> = g.equity.keys().map(|(b, _)| b.as_str()).collect();
        let ts: Vec<i64> = g.equity.keys().map(|(_, t)| *t).collect();
        let equity: Vec<Decimal> = g.equity.values().map(|(e, _)| *e).collect();
        let cash: Vec<Decimal> = g.equity.values().map(|(_, c)| *c).collect();
        p.push("INSERT INTO equity_curve (bot_id, ts_ms, equity, cash) SELECT * FROM unnest($1::text[], $2::bigint[], $3::numeric[], $4::numeric[])
             ON CONFLICT (bot_id, ts_ms) DO UPDATE SET equity = excluded.equity, cash = excluded.cash", vec![Box::new(bots), Box::new(ts), Box::new(equity), Box::new(cash)]);
    }
    p.run(tx, cache).await?;
    for run in &g.runs {
        write_backtest_run(tx, run).await?;
    }
    for run in &g.optimizations {
        write_optimize_run(tx, run).await?;
    }
    Ok(())
}

async fn write_optimize_run(
    tx: &Transaction<'_>,
    run: &OptimizeRunRecord,
) -> std::result::Result<(), tokio_postgres::Error> {
    tx.execute(
        "INSERT INTO optimize_runs (run_id, strategy, metric, space, pairs, timeframe, data_sources, evaluated, failed,
         started_at_ms, finished_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &run.run_id,
            &run.strategy,
            &run.metric,
            &run.space,
            &run.pairs.join(","),
            &run.timeframe,
            &serde_json::Value::from(run.data_sources.clone()).to_string(),
            &run.evaluated,
            &run.failed,
            &run.started_at_ms,
            &run.finished_at_ms,
        ],
    )
    .await?;
    if !run.results.is_empty() {
        let r = &run.results;
        let ids: Vec<&str> = r.iter().map(|_| run.run_id.as_str()).collect();
        let rank: Vec<i64> = r.iter().map(|x| x.rank).collect();
        let params: Vec<&serde_json::Value> = r.iter().map(|x| &x.params).collect();
        let metric: Vec<f64> = r.iter().map(|x| x.metric_value).collect();
        let equity: Vec<Decimal> = r.iter().map(|x| x.final_equity).collect();
        let ret: Vec<f64> = r.iter().map(|x| x.return_pct).collect();
        let dd: Vec<f64> = r.iter().map(|x| x.max_drawdown_pct).collect();
        let sharpe: Vec<f64> = r.iter().map(|x| x.sharpe).collect();
        let trades: Vec<i64> = r.iter().map(|x| x.trades).collect();
        tx.execute(
            "INSERT INTO optimize_results (run_id, rank, params, metric_value, final_equity, return_pct, max_drawdown_pct, sharpe, trades)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::jsonb[], $4::float8[], $5::numeric[], $6::float8[], $7::float8[],
             $8::float8[], $9::bigint[])",
            &[&ids, &rank, &params, &metric, &equity, &ret, &dd, &sharpe, &trades],
        )
        .await?;
    }
    Ok(())
}

async fn write_backtest_run(
    tx: &Transaction<'_>,
    run: &BacktestRunRecord,
) -> std::result::Result<(), tokio_postgres::Error> {
    let sources = serde_json::Value::from(run.data_sources.clone());
    tx.execute(
        "INSERT INTO backtest_runs (run_id, strategy, params, pairs, timeframe, data_sources, start_cash, final_equity,
         fee_rate, candles, trades, metrics, started_at_ms, finished_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &run.run_id,
            &run.strategy,
            &run.params,
            &run.pairs.join(","),
            &run.timeframe,
            &sources.to_string(),
            &run.start_cash,
            &run.final_equity,
            &run.fee_rate,
            &run.candles,
            &(run.trades.len() as i64),
            &run.metrics,
            &run.started_at_ms,
            &run.finished_at_ms,
        ],
    )
    .await?;
    if !run.trades.is_empty() {
        let t = &run.trades;
        let ids: Vec<&str> = t.iter().map(|_| run.run_id.as_str()).collect();
        let seq: Vec<i64> = (1..=t.len() as i64).collect();
        let pair: Vec<&str> = t.iter().map(|x| x.pair.as_str()).collect();
        let et: Vec<i64> = t.iter().map(|x| x.entry_time_ms).collect();
        let ep: Vec<Decimal> = t.iter().map(|x| x.entry_price).collect();
        let xt: Vec<i64> = t.iter().map(|x| x.exit_time_ms).collect();
        let xp: Vec<Decimal> = t.iter().map(|x| x.exit_price).collect();
        let q: Vec<Decimal> = t.iter().map(|x| x.quantity).collect();
        let pnl: Vec<Decimal> = t.iter().map(|x| x.pnl).collect();
        let fees: Vec<Decimal> = t.iter().map(|x| x.fees).collect();
        let why: Vec<&str> = t.iter().map(|x| x.exit_reason.as_str()).collect();
        tx.execute(
            "INSERT INTO backtest_trades (run_id, seq, pair, entry_time_ms, entry_price, exit_time_ms, exit_price, quantity, pnl, fees, exit_reason)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::numeric[], $6::bigint[], $7::numeric[],
             $8::numeric[], $9::numeric[], $10::numeric[], $11::text[])",
            &[&ids, &seq, &pair, &et, &ep, &xt, &xp, &q, &pnl, &fees, &why],
        )
        .await?;
    }
    for d in &run.daily {
        tx.execute(
            "INSERT INTO backtest_daily (run_id, day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[&run.run_id, &d.day, &d.start_equity, &d.end_equity, &d.realised_pnl, &d.fees, &d.trades, &d.wins, &d.losses],
        )
        .await?;
    }
    Ok(())
}
