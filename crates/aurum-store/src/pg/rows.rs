//! Decoding PostgreSQL rows into domain values.

use crate::error::{Result, StoreError};
use crate::model::{
    BacktestRunSummary, BacktestTrade, BotSpec, DailyPerformance, FillRecord, LedgerRecord,
    OrderEventRecord, OrderRecord, PositionRecord,
};
use aurum_core::{Candle, ClientOrderId, Fill, LedgerEntry, LedgerKind, OrderIntent, Position};
use std::str::FromStr;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

/// Reads a column, naming the table on failure.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize, table: &'static str) -> Result<T> {
    row.try_get(idx).map_err(|e| StoreError::Corrupt {
        table,
        reason: format!("column {idx}: {e}"),
    })
}

/// Reads a text column and parses it.
pub(crate) fn parsed<T: FromStr>(row: &Row, idx: usize, table: &'static str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: &str = get(row, idx, table)?;
    text.parse().map_err(|e: T::Err| StoreError::Corrupt {
        table,
        reason: format!("column {idx}: {text:?}: {e}"),
    })
}

fn opt_parsed<T: FromStr>(row: &Row, idx: usize, table: &'static str) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    let text: Option<&str> = get(row, idx, table)?;
    text.map(|t| {
        t.parse().map_err(|e: T::Err| StoreError::Corrupt {
            table,
            reason: format!("column {idx}: {t:?}: {e}"),
        })
    })
    .transpose()
}

fn coid(row: &Row, idx: usize, table: &'static str) -> Result<ClientOrderId> {
    let text: &str = get(row, idx, table)?;
    ClientOrderId::new(text).map_err(|e| StoreError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

pub(crate) const ORDER_COLS: &str = "client_order_id, bot_id, exchange_order_id, symbol, side, order_type, \
    time_in_force, quantity, quote_quantity, price, stop_price, trailing_delta_bps, status, filled_qty, \
    filled_quote, created_at_ms, updated_at_ms";

pub(crate) fn order(row: &Row) -> Result<OrderRecord> {
    const T: &str = "orders";
    let trailing: Option<i32> = get(row, 11, T)?;
    Ok(OrderRecord {
        intent: OrderIntent {
            client_order_id: coid(row, 0, T)?,
            symbol: parsed(row, 3, T)?,
            side: parsed(row, 4, T)?,
            order_type: parsed(row, 5, T)?,
            time_in_force: opt_parsed(row, 6, T)?,
            quantity: get(row, 7, T)?,
            quote_quantity: get(row, 8, T)?,
            price: get(row, 9, T)?,
            stop_price: get(row, 10, T)?,
            trailing_delta_bps: trailing
                .map(|v| {
                    u32::try_from(v).map_err(|_| StoreError::Corrupt {
                        table: T,
                        reason: format!("trailing_delta_bps {v}"),
                    })
                })
                .transpose()?,
            created_at_ms: get(row, 15, T)?,
        },
        bot_id: get(row, 1, T)?,
        exchange_order_id: get(row, 2, T)?,
        status: parsed(row, 12, T)?,
        filled_qty: get(row, 13, T)?,
        filled_quote: get(row, 14, T)?,
        updated_at_ms: get(row, 16, T)?,
    })
}

pub(crate) const FILL_COLS: &str = "bot_id, symbol, trade_id, client_order_id, side, price, quantity, fee, fee_asset, realised_pnl, position_seq, ts_ms";

pub(crate) fn fill(row: &Row) -> Result<FillRecord> {
    const T: &str = "fills";
    Ok(FillRecord {
        bot_id: get(row, 0, T)?,
        fill: Fill {
            symbol: parsed(row, 1, T)?,
            trade_id: get(row, 2, T)?,
            client_order_id: coid(row, 3, T)?,
            side: parsed(row, 4, T)?,
            price: get(row, 5, T)?,
            quantity: get(row, 6, T)?,
            fee: get(row, 7, T)?,
            fee_asset: parsed(row, 8, T)?,
            ts_ms: get(row, 11, T)?,
        },
        realised_pnl: get(row, 9, T)?,
        position_seq: get(row, 10, T)?,
    })
}

pub(crate) const POSITION_COLS: &str = "bot_id, symbol, seq, quantity, cost_basis, bought_qty, bought_quote, \
    realised_pnl, fees_quote, fill_count, opened_at_ms, closed_at_ms";

pub(crate) fn position(row: &Row) -> Result<PositionRecord> {
    const T: &str = "positions";
    let fill_count: i64 = get(row, 9, T)?;
    Ok(PositionRecord {
        bot_id: get(row, 0, T)?,
        seq: get(row, 2, T)?,
        position: Position {
            symbol: parsed(row, 1, T)?,
            quantity: get(row, 3, T)?,
            cost_basis: get(row, 4, T)?,
            bought_qty: get(row, 5, T)?,
            bought_quote: get(row, 6, T)?,
            realised_pnl: get(row, 7, T)?,
            fees_quote: get(row, 8, T)?,
            fill_count: u32::try_from(fill_count).map_err(|_| StoreError::Corrupt {
                table: T,
                reason: format!("fill_count {fill_count}"),
            })?,
            opened_at_ms: get(row, 10, T)?,
            closed_at_ms: get(row, 11, T)?,
        },
    })
}

pub(crate) const LEDGER_COLS: &str =
    "entry_id, bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms";

pub(crate) fn ledger(row: &Row) -> Result<LedgerRecord> {
    const T: &str = "ledger";
    let kind: &str = get(row, 4, T)?;
    Ok(LedgerRecord {
        entry_id: get(row, 0, T)?,
        bot_id: get(row, 1, T)?,
        entry: LedgerEntry {
            asset: parsed(row, 2, T)?,
            amount: get(row, 3, T)?,
            kind: LedgerKind::parse(kind).ok_or_else(|| StoreError::Corrupt {
                table: T,
                reason: format!("kind {kind:?}"),
            })?,
            ts_ms: get(row, 8, T)?,
        },
        symbol: get(row, 5, T)?,
        trade_id: get(row, 6, T)?,
        note: get(row, 7, T)?,
    })
}

pub(crate) fn event(row: &Row) -> Result<OrderEventRecord> {
    const T: &str = "order_events";
    Ok(OrderEventRecord {
        event_id: get(row, 0, T)?,
        client_order_id: coid(row, 1, T)?,
        status: parsed(row, 2, T)?,
        exchange_order_id: get(row, 3, T)?,
        detail: get(row, 4, T)?,
        ts_ms: get(row, 5, T)?,
    })
}

pub(crate) fn daily(row: &Row, table: &'static str) -> Result<DailyPerformance> {
    Ok(DailyPerformance {
        day: get(row, 0, table)?,
        start_equity: get(row, 1, table)?,
        end_equity: get(row, 2, table)?,
        realised_pnl: get(row, 3, table)?,
        fees: get(row, 4, table)?,
        trades: get(row, 5, table)?,
        wins: get(row, 6, table)?,
        losses: get(row, 7, table)?,
    })
}

pub(crate) const RUN_SUMMARY_COLS: &str = "run_id, strategy, params, pairs, timeframe, start_cash, final_equity, trades, metrics, finished_at_ms";

pub(crate) fn run_summary(row: &Row) -> Result<BacktestRunSummary> {
    const T: &str = "backtest_runs";
    let pairs: &str = get(row, 3, T)?;
    Ok(BacktestRunSummary {
        run_id: get(row, 0, T)?,
        strategy: get(row, 1, T)?,
        params: get(row, 2, T)?,
        pairs: pairs
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        timeframe: get(row, 4, T)?,
        start_cash: get(row, 5, T)?,
        final_equity: get(row, 6, T)?,
        trades: get(row, 7, T)?,
        metrics: get(row, 8, T)?,
        finished_at_ms: get(row, 9, T)?,
    })
}

pub(crate) fn trade(row: &Row) -> Result<BacktestTrade> {
    const T: &str = "backtest_trades";
    Ok(BacktestTrade {
        pair: get(row, 0, T)?,
        entry_time_ms: get(row, 1, T)?,
        entry_price: get(row, 2, T)?,
        exit_time_ms: get(row, 3, T)?,
        exit_price: get(row, 4, T)?,
        quantity: get(row, 5, T)?,
        pnl: get(row, 6, T)?,
        fees: get(row, 7, T)?,
        exit_reason: get(row, 8, T)?,
    })
}

pub(crate) fn candle(row: &Row) -> Result<Candle> {
    const T: &str = "market_data";
    Ok(Candle {
        open_time_ms: get(row, 0, T)?,
        open: get(row, 1, T)?,
        high: get(row, 2, T)?,
        low: get(row, 3, T)?,
        close: get(row, 4, T)?,
        volume: get(row, 5, T)?,
    })
}

pub(crate) fn bot(row: &Row) -> Result<BotSpec> {
    const T: &str = "bots";
    Ok(BotSpec {
        bot_id: get(row, 0, T)?,
        mode: get(row, 1, T)?,
        strategy: get(row, 2, T)?,
        quote_asset: parsed(row, 3, T)?,
        config: get(row, 4, T)?,
        created_at_ms: get(row, 5, T)?,
    })
}
