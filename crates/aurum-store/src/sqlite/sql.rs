//! SQLite statements: reading rows into domain values, the planner's state source, and writing
//! planned changes. Used by the writer thread and by the load-test baselines alike.

use crate::error::{Result, StoreError};
use crate::model::{BacktestRunRecord, OptimizeRunRecord, OrderRecord};
use crate::ops::{WriteOp, WriteOutcome};
use crate::plan::{Change, Overlay, PositionSlot, StateSource, plan};
use crate::rows::{self, Cells};
use aurum_core::{Asset, ClientOrderId, Decimal, Fill, Money, OrderStatus, Symbol};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::str::FromStr;

/// Reads a decimal stored as text.
pub(crate) fn dec(row: &Row<'_>, idx: usize, table: &'static str) -> Result<Decimal> {
    // Borrow the text in place: no allocation per decimal read.
    match row.get_ref(idx) {
        Ok(rusqlite::types::ValueRef::Text(bytes)) => {
            let text = std::str::from_utf8(bytes).map_err(|e| StoreError::Corrupt {
                table,
                reason: format!("column {idx}: {e}"),
            })?;
            rows::decimal_text(text, idx, table)
        }
        Ok(other) => Err(StoreError::Corrupt {
            table,
            reason: format!(
                "column {idx}: expected decimal text, found {:?}",
                other.data_type()
            ),
        }),
        Err(e) => Err(StoreError::Sqlite {
            context: format!("reading {table}"),
            source: e,
        }),
    }
}

/// Reads an optional decimal stored as text.
pub(crate) fn opt_dec(row: &Row<'_>, idx: usize, table: &'static str) -> Result<Option<Decimal>> {
    match row.get_ref(idx) {
        Ok(rusqlite::types::ValueRef::Null) => Ok(None),
        _ => dec(row, idx, table).map(Some),
    }
}

/// Reads a column and parses it with `FromStr`.
pub(crate) fn parsed<T: FromStr>(row: &Row<'_>, idx: usize, table: &'static str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.get(idx).map_err(|e| StoreError::Sqlite {
        context: format!("reading {table}"),
        source: e,
    })?;
    text.parse().map_err(|e: T::Err| StoreError::Corrupt {
        table,
        reason: format!("column {idx}: {text:?}: {e}"),
    })
}

pub(crate) fn get<T: rusqlite::types::FromSql>(
    row: &Row<'_>,
    idx: usize,
    table: &'static str,
) -> Result<T> {
    row.get(idx).map_err(|e| StoreError::Sqlite {
        context: format!("reading {table}"),
        source: e,
    })
}

fn opt_text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

impl Cells for Row<'_> {
    fn text(&self, idx: usize, table: &'static str) -> Result<String> {
        get(self, idx, table)
    }
    fn opt_text(&self, idx: usize, table: &'static str) -> Result<Option<String>> {
        get(self, idx, table)
    }
    fn int(&self, idx: usize, table: &'static str) -> Result<i64> {
        get(self, idx, table)
    }
    fn opt_int(&self, idx: usize, table: &'static str) -> Result<Option<i64>> {
        get(self, idx, table)
    }
    fn dec(&self, idx: usize, table: &'static str) -> Result<Decimal> {
        dec(self, idx, table)
    }
    fn opt_dec(&self, idx: usize, table: &'static str) -> Result<Option<Decimal>> {
        opt_dec(self, idx, table)
    }
    fn json(&self, idx: usize, table: &'static str) -> Result<serde_json::Value> {
        rows::json_text(&self.text(idx, table)?, idx, table)
    }
    fn opt_json(&self, idx: usize, table: &'static str) -> Result<Option<serde_json::Value>> {
        self.opt_text(idx, table)?
            .map(|t| rows::json_text(&t, idx, table))
            .transpose()
    }
}

/// The planner's view of the database through one connection, inside its transaction.
pub(crate) struct SqliteState<'c> {
    pub conn: &'c Connection,
}

impl StateSource for SqliteState<'_> {
    fn bot_exists(&mut self, bot_id: &str) -> Result<bool> {
        let mut st = self
            .conn
            .prepare_cached("SELECT 1 FROM bots WHERE bot_id = ?1")
            .map_err(StoreError::sqlite("reading bots"))?;
        st.exists([bot_id])
            .map_err(StoreError::sqlite("reading bots"))
    }

    fn order(&mut self, id: &ClientOrderId) -> Result<Option<OrderRecord>> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {} FROM orders WHERE client_order_id = ?1",
                rows::ORDER_COLS
            )
        });
        let mut st = self
            .conn
            .prepare_cached(&SQL)
            .map_err(StoreError::sqlite("reading orders"))?;
        let mut rows = st
            .query([id.as_str()])
            .map_err(StoreError::sqlite("reading orders"))?;
        match rows.next().map_err(StoreError::sqlite("reading orders"))? {
            Some(row) => Ok(Some(rows::order(row)?)),
            None => Ok(None),
        }
    }

    fn position_slot(&mut self, bot_id: &str, symbol: &Symbol) -> Result<PositionSlot> {
        let sym = symbol.to_string();
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {} FROM positions WHERE bot_id = ?1 AND symbol = ?2 AND closed_at_ms IS NULL",
                rows::POSITION_COLS
            )
        });
        let mut st = self
            .conn
            .prepare_cached(&SQL)
            .map_err(StoreError::sqlite("reading positions"))?;
        let mut rows = st
            .query(params![bot_id, sym])
            .map_err(StoreError::sqlite("reading positions"))?;
        if let Some(row) = rows
            .next()
            .map_err(StoreError::sqlite("reading positions"))?
        {
            let rec = rows::position(row)?;
            // The open holding is always the newest one of its pair.
            return Ok(PositionSlot {
                last_seq: rec.seq,
                open: Some((rec.seq, rec.position)),
            });
        }
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(MAX(seq), 0) FROM positions WHERE bot_id = ?1 AND symbol = ?2",
            )
            .map_err(StoreError::sqlite("reading positions"))?;
        let last_seq: i64 = st
            .query_row(params![bot_id, sym], |r| r.get(0))
            .map_err(StoreError::sqlite("reading positions"))?;
        Ok(PositionSlot {
            open: None,
            last_seq,
        })
    }

    fn balance(&mut self, bot_id: &str, asset: &Asset) -> Result<Money> {
        let mut st = self
            .conn
            .prepare_cached("SELECT amount FROM balances WHERE bot_id = ?1 AND asset = ?2")
            .map_err(StoreError::sqlite("reading balances"))?;
        let text: Option<String> = st
            .query_row(params![bot_id, asset.as_str()], |r| r.get(0))
            .optional()
            .map_err(StoreError::sqlite("reading balances"))?;
        match text {
            None => Ok(Decimal::ZERO),
            Some(t) => Decimal::from_str(&t).map_err(|e| StoreError::Corrupt {
                table: "balances",
                reason: format!("{t:?}: {e}"),
            }),
        }
    }

    fn fill(&mut self, order: &ClientOrderId, trade_id: &str) -> Result<Option<Fill>> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {} FROM fills WHERE client_order_id = ?1 AND trade_id = ?2",
                rows::FILL_COLS
            )
        });
        let mut st = self
            .conn
            .prepare_cached(&SQL)
            .map_err(StoreError::sqlite("reading fills"))?;
        let mut rows = st
            .query(params![order.as_str(), trade_id])
            .map_err(StoreError::sqlite("reading fills"))?;
        match rows.next().map_err(StoreError::sqlite("reading fills"))? {
            Some(row) => Ok(Some(rows::fill(row)?.fill)),
            None => Ok(None),
        }
    }
}

/// Plans one request and writes its changes on `conn` (inside the caller's transaction or
/// savepoint). On error nothing of this request is visible in `ov`; the caller rolls back the
/// request's savepoint.
pub(crate) fn run_op(conn: &Connection, op: &WriteOp, ov: &mut Overlay) -> Result<WriteOutcome> {
    let planned = plan(op, &mut SqliteState { conn }, ov)?;
    let changes = &planned.changes;
    let mut i = 0;
    while i < changes.len() {
        // A fill's ledger legs and balance moves go in one multi-row statement each.
        let run = changes[i..]
            .iter()
            .take_while(|c| std::mem::discriminant(*c) == std::mem::discriminant(&changes[i]))
            .count()
            .min(MULTI_ROWS);
        match &changes[i] {
            Change::InsertLedger(_) if run > 1 => write_ledger_rows(conn, &changes[i..i + run])?,
            Change::SetBalance { .. } if run > 1 => write_balance_rows(conn, &changes[i..i + run])?,
            c => {
                write_change(conn, c)?;
                i += 1;
                continue;
            }
        }
        i += run;
    }
    ov.absorb(&planned.changes);
    Ok(planned.outcome)
}

/// Most rows written by one multi-row statement.
const MULTI_ROWS: usize = 4;

/// `INSERT ... VALUES (...), (...)` with `rows` groups of `cols` numbered parameters.
pub(crate) fn values_sql(head: &str, cols: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::from(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { " VALUES (" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("?{}", r * cols + c + 1));
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

static LEDGER_SQL: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    (0..=MULTI_ROWS)
        .map(|n| {
            values_sql(
                "INSERT INTO ledger (bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms)",
                8,
                n,
                "",
            )
        })
        .collect()
});

static BALANCE_SQL: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    (0..=MULTI_ROWS)
        .map(|n| {
            values_sql(
                "INSERT INTO balances (bot_id, asset, amount, updated_at_ms)",
                4,
                n,
                " ON CONFLICT (bot_id, asset) DO UPDATE SET amount = excluded.amount, updated_at_ms = excluded.updated_at_ms",
            )
        })
        .collect()
});

fn write_ledger_rows(conn: &Connection, rows: &[Change]) -> Result<()> {
    let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::with_capacity(rows.len() * 8);
    for c in rows {
        if let Change::InsertLedger(l) = c {
            values.push(Box::new(l.bot_id.clone()));
            values.push(Box::new(l.entry.asset.as_str().to_string()));
            values.push(Box::new(l.entry.amount.to_string()));
            values.push(Box::new(l.entry.kind.as_str()));
            values.push(Box::new(l.symbol.clone()));
            values.push(Box::new(l.trade_id.clone()));
            values.push(Box::new(l.note.clone()));
            values.push(Box::new(l.entry.ts_ms));
        }
    }
    exec(
        conn,
        &LEDGER_SQL[rows.len()],
        rusqlite::params_from_iter(values.iter()),
        "appending to the ledger",
    )?;
    Ok(())
}

fn write_balance_rows(conn: &Connection, rows: &[Change]) -> Result<()> {
    let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::with_capacity(rows.len() * 4);
    for c in rows {
        if let Change::SetBalance {
            bot_id,
            asset,
            amount,
            ts_ms,
        } = c
        {
            values.push(Box::new(bot_id.clone()));
            values.push(Box::new(asset.as_str().to_string()));
            values.push(Box::new(amount.to_string()));
            values.push(Box::new(*ts_ms));
        }
    }
    exec(
        conn,
        &BALANCE_SQL[rows.len()],
        rusqlite::params_from_iter(values.iter()),
        "storing balances",
    )?;
    Ok(())
}

pub(crate) fn exec(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    context: &str,
) -> Result<usize> {
    let mut st = conn
        .prepare_cached(sql)
        .map_err(StoreError::sqlite(context))?;
    st.execute(params).map_err(StoreError::sqlite(context))
}

static INSERT_ORDER_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    values_sql(
        &format!("INSERT INTO orders ({})", rows::ORDER_COLS),
        18,
        1,
        "",
    )
});
static INSERT_FILL_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    values_sql(
        &format!("INSERT INTO fills ({})", rows::FILL_COLS),
        12,
        1,
        "",
    )
});

/// The upsert of one equity point (the batch writer's multi-row statement has the same tail).
pub(crate) const EQUITY_POINT_HEAD: &str = "INSERT INTO equity_curve (bot_id, ts_ms, equity, cash)";
pub(crate) const EQUITY_POINT_TAIL: &str =
    " ON CONFLICT (bot_id, ts_ms) DO UPDATE SET equity = excluded.equity, cash = excluded.cash";
static EQUITY_POINT_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| values_sql(EQUITY_POINT_HEAD, 4, 1, EQUITY_POINT_TAIL));

/// Writes one planned change.
pub(crate) fn write_change(conn: &Connection, change: &Change) -> Result<()> {
    match change {
        Change::UpsertBot(b) => {
            let config = b.config.as_ref().map(|c| c.to_string());
            exec(
                conn,
                "INSERT INTO bots (bot_id, mode, strategy, quote_asset, config, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (bot_id) DO UPDATE SET mode = excluded.mode, strategy = excluded.strategy,
                 quote_asset = excluded.quote_asset, config = excluded.config",
                params![b.bot_id, b.mode, b.strategy, b.quote_asset.as_str(), config, b.created_at_ms],
                "storing a bot",
            )?;
        }
        Change::InsertOrder(o) => {
            let i = &o.intent;
            exec(
                conn,
                &INSERT_ORDER_SQL,
                params![
                    i.client_order_id.as_str(),
                    o.bot_id,
                    o.exchange_order_id,
                    i.symbol.to_string(),
                    i.side.as_str(),
                    i.order_type.as_str(),
                    i.time_in_force.map(|t| t.as_str()),
                    opt_text(i.quantity),
                    opt_text(i.quote_quantity),
                    opt_text(i.price),
                    opt_text(i.stop_price),
                    i.trailing_delta_bps,
                    o.status.as_str(),
                    o.filled_qty.to_string(),
                    o.filled_quote.to_string(),
                    i.created_at_ms,
                    o.updated_at_ms,
                    o.meta.as_ref().map(|m| m.to_string()),
                ],
                "storing an order intent",
            )?;
        }
        Change::UpdateOrder(o) => {
            exec(
                conn,
                "UPDATE orders SET status = ?1, exchange_order_id = ?2, filled_qty = ?3, filled_quote = ?4, updated_at_ms = ?5
                 WHERE client_order_id = ?6",
                params![
                    o.status.as_str(),
                    o.exchange_order_id,
                    o.filled_qty.to_string(),
                    o.filled_quote.to_string(),
                    o.updated_at_ms,
                    o.intent.client_order_id.as_str()
                ],
                "updating an order",
            )?;
        }
        Change::InsertEvent(e) => {
            exec(
                conn,
                "INSERT INTO order_events (client_order_id, bot_id, status, exchange_order_id, detail, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    e.client_order_id.as_str(),
                    e.bot_id,
                    e.status.as_str(),
                    e.exchange_order_id,
                    e.detail,
                    e.ts_ms
                ],
                "storing an order event",
            )?;
        }
        Change::InsertFill(f) => {
            let x = &f.fill;
            exec(
                conn,
                &INSERT_FILL_SQL,
                params![
                    f.bot_id,
                    x.symbol.to_string(),
                    x.trade_id,
                    x.client_order_id.as_str(),
                    x.side.as_str(),
                    x.price.to_string(),
                    x.quantity.to_string(),
                    x.fee.to_string(),
                    x.fee_asset.as_str(),
                    f.realised_pnl.to_string(),
                    f.position_seq,
                    x.ts_ms
                ],
                "storing a fill",
            )?;
        }
        Change::UpsertPosition { record, is_new } => {
            let p = &record.position;
            let values = params![
                record.bot_id,
                p.symbol.to_string(),
                record.seq,
                p.quantity.to_string(),
                p.cost_basis.to_string(),
                p.bought_qty.to_string(),
                p.bought_quote.to_string(),
                p.avg_entry_price().to_string(),
                p.realised_pnl.to_string(),
                p.fees_quote.to_string(),
                p.fill_count,
                p.opened_at_ms,
                p.closed_at_ms,
                p.dust.to_string()
            ];
            let sql = if *is_new {
                "INSERT INTO positions (bot_id, symbol, seq, quantity, cost_basis, bought_qty, bought_quote, avg_entry_price,
                 realised_pnl, fees_quote, fill_count, opened_at_ms, closed_at_ms, dust_qty)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            } else {
                "UPDATE positions SET quantity = ?4, cost_basis = ?5, bought_qty = ?6, bought_quote = ?7, avg_entry_price = ?8,
                 realised_pnl = ?9, fees_quote = ?10, fill_count = ?11, opened_at_ms = ?12, closed_at_ms = ?13, dust_qty = ?14
                 WHERE bot_id = ?1 AND symbol = ?2 AND seq = ?3"
            };
            let n = exec(conn, sql, values, "storing a position")?;
            if n != 1 {
                return Err(StoreError::Corrupt {
                    table: "positions",
                    reason: format!("position {} #{} not found", p.symbol, record.seq),
                });
            }
        }
        Change::InsertLedger(l) => {
            exec(
                conn,
                "INSERT INTO ledger (bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    l.bot_id,
                    l.entry.asset.as_str(),
                    l.entry.amount.to_string(),
                    l.entry.kind.as_str(),
                    l.symbol,
                    l.trade_id,
                    l.note,
                    l.entry.ts_ms
                ],
                "appending to the ledger",
            )?;
        }
        Change::SetBalance {
            bot_id,
            asset,
            amount,
            ts_ms,
        } => {
            exec(
                conn,
                "INSERT INTO balances (bot_id, asset, amount, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (bot_id, asset) DO UPDATE SET amount = excluded.amount, updated_at_ms = excluded.updated_at_ms",
                params![bot_id, asset.as_str(), amount.to_string(), ts_ms],
                "storing a balance",
            )?;
        }
        Change::SetEngineState {
            bot_id,
            key,
            value,
            ts_ms,
        } => {
            exec(
                conn,
                "INSERT INTO engine_state (bot_id, key, value, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (bot_id, key) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms",
                params![bot_id, key, value.to_string(), ts_ms],
                "storing engine state",
            )?;
        }
        Change::UpsertCandles {
            symbol,
            timeframe,
            candles,
        } => {
            let mut st = conn
                .prepare_cached(
                    "INSERT INTO market_data (symbol, timeframe, open_time_ms, open, high, low, close, volume)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (symbol, timeframe, open_time_ms) DO UPDATE SET open = excluded.open, high = excluded.high,
                     low = excluded.low, close = excluded.close, volume = excluded.volume",
                )
                .map_err(StoreError::sqlite("storing candles"))?;
            let (sym, tf) = (symbol.to_string(), timeframe.as_str());
            for c in candles {
                st.execute(params![
                    sym,
                    tf,
                    c.open_time_ms,
                    c.open.to_string(),
                    c.high.to_string(),
                    c.low.to_string(),
                    c.close.to_string(),
                    c.volume.to_string()
                ])
                .map_err(StoreError::sqlite("storing candles"))?;
            }
        }
        Change::UpsertPerformanceDay { bot_id, day } => {
            exec(
                conn,
                "INSERT INTO performance_daily (bot_id, day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (bot_id, day) DO UPDATE SET start_equity = excluded.start_equity, end_equity = excluded.end_equity,
                 realised_pnl = excluded.realised_pnl, fees = excluded.fees, trades = excluded.trades, wins = excluded.wins,
                 losses = excluded.losses",
                params![
                    bot_id,
                    day.day,
                    day.start_equity.to_string(),
                    day.end_equity.to_string(),
                    day.realised_pnl.to_string(),
                    day.fees.to_string(),
                    day.trades,
                    day.wins,
                    day.losses
                ],
                "storing daily performance",
            )?;
        }
        Change::UpsertEquityPoint {
            bot_id,
            ts_ms,
            equity,
            cash,
        } => {
            exec(
                conn,
                &EQUITY_POINT_SQL,
                params![bot_id, ts_ms, equity.to_string(), cash.to_string()],
                "storing an equity point",
            )?;
        }
        Change::InsertBacktestRun(run) => write_backtest_run(conn, run)?,
        Change::InsertOptimizeRun(run) => write_optimize_run(conn, run)?,
    }
    Ok(())
}

fn write_optimize_run(conn: &Connection, run: &OptimizeRunRecord) -> Result<()> {
    let ctx = "storing an optimization run";
    exec(
        conn,
        "INSERT INTO optimize_runs (run_id, strategy, metric, space, pairs, timeframe, data_sources, evaluated, failed,
         started_at_ms, finished_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            run.run_id,
            run.strategy,
            run.metric,
            run.space.to_string(),
            run.pairs.join(","),
            run.timeframe,
            serde_json::Value::from(run.data_sources.clone()).to_string(),
            run.evaluated,
            run.failed,
            run.started_at_ms,
            run.finished_at_ms
        ],
        ctx,
    )?;
    let mut st = conn
        .prepare_cached(
            "INSERT INTO optimize_results (run_id, rank, params, metric_value, final_equity, return_pct, max_drawdown_pct,
             sharpe, trades) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(StoreError::sqlite(ctx))?;
    for r in &run.results {
        st.execute(params![
            run.run_id,
            r.rank,
            r.params.to_string(),
            r.metric_value,
            r.final_equity.to_string(),
            r.return_pct,
            r.max_drawdown_pct,
            r.sharpe,
            r.trades
        ])
        .map_err(StoreError::sqlite(ctx))?;
    }
    Ok(())
}

fn write_backtest_run(conn: &Connection, run: &BacktestRunRecord) -> Result<()> {
    let ctx = "storing a backtest run";
    exec(
        conn,
        "INSERT INTO backtest_runs (run_id, strategy, params, pairs, timeframe, data_sources, start_cash, final_equity,
         fee_rate, candles, trades, metrics, started_at_ms, finished_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            run.run_id,
            run.strategy,
            run.params.to_string(),
            run.pairs.join(","),
            run.timeframe,
            serde_json::Value::from(run.data_sources.clone()).to_string(),
            run.start_cash.to_string(),
            run.final_equity.to_string(),
            run.fee_rate.to_string(),
            run.candles,
            run.trades.len() as i64,
            run.metrics.to_string(),
            run.started_at_ms,
            run.finished_at_ms
        ],
        ctx,
    )?;
    let mut st = conn
        .prepare_cached(
            "INSERT INTO backtest_trades (run_id, seq, pair, entry_time_ms, entry_price, exit_time_ms, exit_price, quantity, pnl,
             fees, exit_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .map_err(StoreError::sqlite(ctx))?;
    for (i, t) in run.trades.iter().enumerate() {
        st.execute(params![
            run.run_id,
            i as i64 + 1,
            t.pair,
            t.entry_time_ms,
            t.entry_price.to_string(),
            t.exit_time_ms,
            t.exit_price.to_string(),
            t.quantity.to_string(),
            t.pnl.to_string(),
            t.fees.to_string(),
            t.exit_reason
        ])
        .map_err(StoreError::sqlite(ctx))?;
    }
    let mut st = conn
        .prepare_cached(
            "INSERT INTO backtest_daily (run_id, day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(StoreError::sqlite(ctx))?;
    for d in &run.daily {
        st.execute(params![
            run.run_id,
            d.day,
            d.start_equity.to_string(),
            d.end_equity.to_string(),
            d.realised_pnl.to_string(),
            d.fees.to_string(),
            d.trades,
            d.wins,
            d.losses
        ])
        .map_err(StoreError::sqlite(ctx))?;
    }
    Ok(())
}

/// Reads every row of a query with a row mapper.
pub(crate) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    context: &str,
    mut map: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut st = conn
        .prepare_cached(sql)
        .map_err(StoreError::sqlite(context))?;
    let mut rows = st.query(params).map_err(StoreError::sqlite(context))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(context))? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// The status names of orders that are not final, for `IN (...)` lists.
pub(crate) fn open_statuses() -> [&'static str; 3] {
    [
        OrderStatus::New.as_str(),
        OrderStatus::Submitted.as_str(),
        OrderStatus::PartiallyFilled.as_str(),
    ]
}
