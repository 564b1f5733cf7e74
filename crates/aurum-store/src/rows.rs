//! Reading rows back into domain values, once for both backends.
//!
//! Both backends select the same columns in the same order; only how a cell is read differs
//! (SQLite keeps decimals and JSON as text, PostgreSQL as `NUMERIC` and `JSONB`). [`Cells`]
//! hides that difference, so each record has one decoder.

use crate::check::CheckBuilder;
use crate::error::{Result, StoreError};
use crate::model::{
    BacktestRunSummary, BacktestTrade, BotSpec, DailyPerformance, EquityPointRecord, FillRecord,
    LedgerRecord, OrderEventRecord, OrderRecord, PositionRecord,
};
use aurum_core::{
    Candle, ClientOrderId, Decimal, Fill, LedgerEntry, LedgerKind, OrderIntent, Position,
};
use std::str::FromStr;

/// One result row of either backend. `table` names the table in errors.
pub(crate) trait Cells {
    /// A text cell.
    fn text(&self, idx: usize, table: &'static str) -> Result<String>;
    /// A nullable text cell.
    fn opt_text(&self, idx: usize, table: &'static str) -> Result<Option<String>>;
    /// An integer cell (any width).
    fn int(&self, idx: usize, table: &'static str) -> Result<i64>;
    /// A nullable integer cell.
    fn opt_int(&self, idx: usize, table: &'static str) -> Result<Option<i64>>;
    /// A decimal cell, exactly as stored.
    fn dec(&self, idx: usize, table: &'static str) -> Result<Decimal>;
    /// A nullable decimal cell.
    fn opt_dec(&self, idx: usize, table: &'static str) -> Result<Option<Decimal>>;
    /// A JSON cell.
    fn json(&self, idx: usize, table: &'static str) -> Result<serde_json::Value>;
    /// A nullable JSON cell.
    fn opt_json(&self, idx: usize, table: &'static str) -> Result<Option<serde_json::Value>>;
}

/// Parses a text cell with `FromStr`.
fn parsed<T: FromStr>(r: &dyn Cells, idx: usize, table: &'static str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text = r.text(idx, table)?;
    text.parse().map_err(|e: T::Err| StoreError::Corrupt {
        table,
        reason: format!("column {idx}: {text:?}: {e}"),
    })
}

fn opt_parsed<T: FromStr>(r: &dyn Cells, idx: usize, table: &'static str) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    r.opt_text(idx, table)?
        .map(|t| {
            t.parse().map_err(|e: T::Err| StoreError::Corrupt {
                table,
                reason: format!("column {idx}: {t:?}: {e}"),
            })
        })
        .transpose()
}

fn coid(r: &dyn Cells, idx: usize, table: &'static str) -> Result<ClientOrderId> {
    let text = r.text(idx, table)?;
    ClientOrderId::new(&text).map_err(|e| StoreError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

fn narrow<T: TryFrom<i64>>(v: i64, table: &'static str, what: &str) -> Result<T> {
    T::try_from(v).map_err(|_| StoreError::Corrupt {
        table,
        reason: format!("{what} {v} out of range"),
    })
}

/// Parses a decimal stored as text (SQLite).
pub(crate) fn decimal_text(text: &str, idx: usize, table: &'static str) -> Result<Decimal> {
    Decimal::from_str(text).map_err(|e| StoreError::Corrupt {
        table,
        reason: format!("column {idx}: {text:?} is not a decimal: {e}"),
    })
}

/// Parses JSON stored as text (SQLite).
pub(crate) fn json_text(text: &str, idx: usize, table: &'static str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table,
        reason: format!("column {idx}: bad JSON: {e}"),
    })
}

/// Columns of `orders`, in the order [`order`] reads them.
pub(crate) const ORDER_COLS: &str = "client_order_id, bot_id, exchange_order_id, symbol, side, order_type, \
    time_in_force, quantity, quote_quantity, price, stop_price, trailing_delta_bps, status, filled_qty, \
    filled_quote, created_at_ms, updated_at_ms, meta";

/// An `orders` row.
pub(crate) fn order(r: &dyn Cells) -> Result<OrderRecord> {
    const T: &str = "orders";
    Ok(OrderRecord {
        intent: OrderIntent {
            client_order_id: coid(r, 0, T)?,
            symbol: parsed(r, 3, T)?,
            side: parsed(r, 4, T)?,
            order_type: parsed(r, 5, T)?,
            time_in_force: opt_parsed(r, 6, T)?,
            quantity: r.opt_dec(7, T)?,
            quote_quantity: r.opt_dec(8, T)?,
            price: r.opt_dec(9, T)?,
            stop_price: r.opt_dec(10, T)?,
            trailing_delta_bps: r
                .opt_int(11, T)?
                .map(|v| narrow(v, T, "trailing_delta_bps"))
                .transpose()?,
            created_at_ms: r.int(15, T)?,
        },
        bot_id: r.text(1, T)?,
        exchange_order_id: r.opt_text(2, T)?,
        status: parsed(r, 12, T)?,
        filled_qty: r.dec(13, T)?,
        filled_quote: r.dec(14, T)?,
        updated_at_ms: r.int(16, T)?,
        meta: r.opt_json(17, T)?,
    })
}

/// Columns of `fills`, in the order [`fill`] reads them.
pub(crate) const FILL_COLS: &str = "bot_id, symbol, trade_id, client_order_id, side, price, quantity, fee, fee_asset, realised_pnl, position_seq, ts_ms";

/// A `fills` row.
pub(crate) fn fill(r: &dyn Cells) -> Result<FillRecord> {
    const T: &str = "fills";
    Ok(FillRecord {
        bot_id: r.text(0, T)?,
        fill: Fill {
            symbol: parsed(r, 1, T)?,
            trade_id: r.text(2, T)?,
            client_order_id: coid(r, 3, T)?,
            side: parsed(r, 4, T)?,
            price: r.dec(5, T)?,
            quantity: r.dec(6, T)?,
            fee: r.dec(7, T)?,
            fee_asset: parsed(r, 8, T)?,
            ts_ms: r.int(11, T)?,
        },
        realised_pnl: r.dec(9, T)?,
        position_seq: r.int(10, T)?,
    })
}

/// How two venue trade ids of one pair order: numerically when both are integers (Binance's
/// are), as text otherwise; equal numbers in different spellings (`7`, `007`) by their text.
pub(crate) fn trade_id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

/// The newest of the fills both backends' `last_fill` load (every fill of the pair at its
/// newest `ts_ms`): the highest trade id by [`trade_id_order`], then the highest client order
/// id (the two sides of a self-trade share a trade id). The candidates are put in byte order
/// first, so the answer does not depend on the order or collation the database returned them
/// in.
pub(crate) fn newest_fill(mut candidates: Vec<FillRecord>) -> Option<FillRecord> {
    candidates.sort_by(|a, b| {
        (
            a.fill.trade_id.as_bytes(),
            a.fill.client_order_id.as_str().as_bytes(),
        )
            .cmp(&(
                b.fill.trade_id.as_bytes(),
                b.fill.client_order_id.as_str().as_bytes(),
            ))
    });
    candidates.into_iter().reduce(|best, f| {
        let newer = f.fill.ts_ms.cmp(&best.fill.ts_ms).then_with(|| {
            trade_id_order(&f.fill.trade_id, &best.fill.trade_id).then_with(|| {
                f.fill
                    .client_order_id
                    .as_str()
                    .cmp(best.fill.client_order_id.as_str())
            })
        });
        if newer.is_gt() { f } else { best }
    })
}

/// Columns of `positions`, in the order [`position`] reads them.
pub(crate) const POSITION_COLS: &str = "bot_id, symbol, seq, quantity, cost_basis, bought_qty, bought_quote, \
    realised_pnl, fees_quote, fill_count, opened_at_ms, closed_at_ms, dust_qty";

/// A `positions` row.
pub(crate) fn position(r: &dyn Cells) -> Result<PositionRecord> {
    const T: &str = "positions";
    Ok(PositionRecord {
        bot_id: r.text(0, T)?,
        seq: r.int(2, T)?,
        position: Position {
            symbol: parsed(r, 1, T)?,
            quantity: r.dec(3, T)?,
            cost_basis: r.dec(4, T)?,
            bought_qty: r.dec(5, T)?,
            bought_quote: r.dec(6, T)?,
            realised_pnl: r.dec(7, T)?,
            fees_quote: r.dec(8, T)?,
            fill_count: narrow(r.int(9, T)?, T, "fill_count")?,
            opened_at_ms: r.int(10, T)?,
            closed_at_ms: r.opt_int(11, T)?,
            dust: r.dec(12, T)?,
        },
    })
}

/// Columns of `ledger`, in the order [`ledger`] reads them.
pub(crate) const LEDGER_COLS: &str =
    "entry_id, bot_id, asset, amount, kind, symbol, trade_id, note, ts_ms";

/// A `ledger` row.
pub(crate) fn ledger(r: &dyn Cells) -> Result<LedgerRecord> {
    const T: &str = "ledger";
    let kind = r.text(4, T)?;
    Ok(LedgerRecord {
        entry_id: r.int(0, T)?,
        bot_id: r.text(1, T)?,
        entry: LedgerEntry {
            asset: parsed(r, 2, T)?,
            amount: r.dec(3, T)?,
            kind: LedgerKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                table: T,
                reason: format!("kind {kind:?}"),
            })?,
            ts_ms: r.int(8, T)?,
        },
        symbol: r.opt_text(5, T)?,
        trade_id: r.opt_text(6, T)?,
        note: r.opt_text(7, T)?,
    })
}

/// An `order_events` row (`event_id, client_order_id, status, exchange_order_id, detail, ts_ms`).
pub(crate) fn event(r: &dyn Cells) -> Result<OrderEventRecord> {
    const T: &str = "order_events";
    Ok(OrderEventRecord {
        event_id: r.int(0, T)?,
        client_order_id: coid(r, 1, T)?,
        status: parsed(r, 2, T)?,
        exchange_order_id: r.opt_text(3, T)?,
        detail: r.opt_text(4, T)?,
        ts_ms: r.int(5, T)?,
    })
}

/// A daily performance row (`day, start_equity, end_equity, realised_pnl, fees, trades, wins,
/// losses`).
pub(crate) fn daily(r: &dyn Cells, table: &'static str) -> Result<DailyPerformance> {
    Ok(DailyPerformance {
        day: r.text(0, table)?,
        start_equity: r.dec(1, table)?,
        end_equity: r.dec(2, table)?,
        realised_pnl: r.dec(3, table)?,
        fees: r.dec(4, table)?,
        trades: r.int(5, table)?,
        wins: r.int(6, table)?,
        losses: r.int(7, table)?,
    })
}

/// An `equity_curve` row (`ts_ms, equity, cash`).
pub(crate) fn equity_point(r: &dyn Cells) -> Result<EquityPointRecord> {
    const T: &str = "equity_curve";
    Ok(EquityPointRecord {
        ts_ms: r.int(0, T)?,
        equity: r.dec(1, T)?,
        cash: r.dec(2, T)?,
    })
}

/// The bounds both backends' equity-curve queries take for
/// `Store::equity_curve(bot, since_ms, limit)` (`ts_ms >= since`, newest first, `LIMIT limit`): no
/// lower bound without `since_ms`, and a limit of at least 0 (PostgreSQL refuses a negative
/// LIMIT where SQLite would read it as "no limit"; both answer nothing instead).
pub(crate) fn equity_curve_bounds(since_ms: Option<i64>, limit: i64) -> (i64, i64) {
    (since_ms.unwrap_or(i64::MIN), limit.max(0))
}

/// Puts the newest-first rows of an equity-curve query in time order.
pub(crate) fn equity_curve(mut newest_first: Vec<EquityPointRecord>) -> Vec<EquityPointRecord> {
    newest_first.reverse();
    newest_first
}

/// Splits the stored comma-separated pair list.
pub(crate) fn pairs(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Columns of a backtest-run summary, in the order [`run_summary`] reads them.
pub(crate) const RUN_SUMMARY_COLS: &str = "run_id, strategy, params, pairs, timeframe, start_cash, final_equity, trades, metrics, finished_at_ms";

/// A `backtest_runs` summary row.
pub(crate) fn run_summary(r: &dyn Cells) -> Result<BacktestRunSummary> {
    const T: &str = "backtest_runs";
    Ok(BacktestRunSummary {
        run_id: r.text(0, T)?,
        strategy: r.text(1, T)?,
        params: r.json(2, T)?,
        pairs: pairs(&r.text(3, T)?),
        timeframe: r.text(4, T)?,
        start_cash: r.dec(5, T)?,
        final_equity: r.dec(6, T)?,
        trades: r.int(7, T)?,
        metrics: r.json(8, T)?,
        finished_at_ms: r.int(9, T)?,
    })
}

/// A `backtest_trades` row (`pair, entry_time_ms, entry_price, exit_time_ms, exit_price,
/// quantity, pnl, fees, exit_reason`).
pub(crate) fn trade(r: &dyn Cells) -> Result<BacktestTrade> {
    const T: &str = "backtest_trades";
    Ok(BacktestTrade {
        pair: r.text(0, T)?,
        entry_time_ms: r.int(1, T)?,
        entry_price: r.dec(2, T)?,
        exit_time_ms: r.int(3, T)?,
        exit_price: r.dec(4, T)?,
        quantity: r.dec(5, T)?,
        pnl: r.dec(6, T)?,
        fees: r.dec(7, T)?,
        exit_reason: r.text(8, T)?,
    })
}

/// A `market_data` row (`open_time_ms, open, high, low, close, volume`).
pub(crate) fn candle(r: &dyn Cells) -> Result<Candle> {
    const T: &str = "market_data";
    Ok(Candle {
        open_time_ms: r.int(0, T)?,
        open: r.dec(1, T)?,
        high: r.dec(2, T)?,
        low: r.dec(3, T)?,
        close: r.dec(4, T)?,
        volume: r.dec(5, T)?,
    })
}

/// A `bots` row (`bot_id, mode, strategy, quote_asset, config, created_at_ms`).
pub(crate) fn bot(r: &dyn Cells) -> Result<BotSpec> {
    const T: &str = "bots";
    Ok(BotSpec {
        bot_id: r.text(0, T)?,
        mode: r.text(1, T)?,
        strategy: r.opt_text(2, T)?,
        quote_asset: parsed(r, 3, T)?,
        config: r.opt_json(4, T)?,
        created_at_ms: r.int(5, T)?,
    })
}

/// The queries of `db check` and how each row feeds the [`CheckBuilder`], shared by both
/// backends (the SQL is the same in both dialects).
pub(crate) type CheckFeed = fn(&dyn Cells, &mut CheckBuilder) -> Result<()>;

/// `(query, feed)` pairs run in one snapshot by each backend's `check`.
pub(crate) const CHECK_QUERIES: [(&str, CheckFeed); 6] = [
    (
        "SELECT client_order_id, bot_id, symbol, side, quantity, filled_qty, status, exchange_order_id FROM orders",
        |r, b| {
            const T: &str = "orders";
            b.order(
                r.text(0, T)?,
                r.text(1, T)?,
                r.text(2, T)?,
                parsed(r, 3, T)?,
                r.opt_dec(4, T)?,
                r.dec(5, T)?,
                parsed(r, 6, T)?,
                r.opt_text(7, T)?,
            );
            Ok(())
        },
    ),
    (
        "SELECT client_order_id, exchange_order_id FROM order_events WHERE exchange_order_id IS NOT NULL",
        |r, b| {
            b.event_exchange_id(r.text(0, "order_events")?, r.text(1, "order_events")?);
            Ok(())
        },
    ),
    (
        "SELECT bot_id, symbol, trade_id, client_order_id, side, quantity, fee, fee_asset, position_seq FROM fills",
        |r, b| {
            const T: &str = "fills";
            b.fill(
                r.text(0, T)?,
                r.text(1, T)?,
                r.text(2, T)?,
                r.text(3, T)?,
                parsed(r, 4, T)?,
                r.dec(5, T)?,
                r.dec(6, T)?,
                r.text(7, T)?,
                r.int(8, T)?,
            );
            Ok(())
        },
    ),
    ("SELECT bot_id, asset, amount FROM ledger", |r, b| {
        b.ledger(
            r.text(0, "ledger")?,
            r.text(1, "ledger")?,
            r.dec(2, "ledger")?,
        );
        Ok(())
    }),
    ("SELECT bot_id, asset, amount FROM balances", |r, b| {
        b.balance(
            r.text(0, "balances")?,
            r.text(1, "balances")?,
            r.dec(2, "balances")?,
        );
        Ok(())
    }),
    (
        "SELECT bot_id, symbol, seq, quantity, dust_qty, closed_at_ms FROM positions",
        |r, b| {
            const T: &str = "positions";
            b.position(
                r.text(0, T)?,
                r.text(1, T)?,
                r.int(2, T)?,
                r.dec(3, T)?,
                r.dec(4, T)?,
                r.opt_int(5, T)?.is_some(),
            );
            Ok(())
        },
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use aurum_core::{Asset, Side, Symbol};
    use std::cmp::Ordering;

    fn rec(trade: &str, order: &str, ts_ms: i64) -> FillRecord {
        FillRecord {
            bot_id: "b".into(),
            fill: Fill {
                client_order_id: ClientOrderId::new(order).unwrap(),
                trade_id: trade.into(),
                symbol: Symbol::new("BTC", "USDT").unwrap(),
                side: Side::Buy,
                price: Decimal::ONE,
                quantity: Decimal::ONE,
                fee: Decimal::ZERO,
                fee_asset: Asset::usdt(),
                ts_ms,
            },
            realised_pnl: Decimal::ZERO,
            position_seq: 1,
        }
    }

    #[test]
    fn trade_ids_compare_as_numbers_when_both_are() {
        assert_eq!(trade_id_order("10", "9"), Ordering::Greater);
        assert_eq!(trade_id_order("9", "10"), Ordering::Less);
        assert_eq!(trade_id_order("a9", "a10"), Ordering::Greater);
        assert_eq!(trade_id_order("10", "a"), Ordering::Less);
        assert_eq!(trade_id_order("007", "7"), Ordering::Less);
        // Beyond i128: text.
        let huge = "9".repeat(40);
        assert_eq!(trade_id_order(&huge, "10"), Ordering::Greater);
    }

    #[test]
    fn the_newest_fill_is_the_latest_then_the_highest_trade_then_order() {
        let pick = |v: Vec<FillRecord>| {
            let f = newest_fill(v).unwrap();
            (f.fill.trade_id, f.fill.client_order_id.to_string())
        };
        assert_eq!(
            pick(vec![
                rec("9", "o", 5),
                rec("100", "o", 4),
                rec("10", "o", 5)
            ]),
            ("10".into(), "o".into())
        );
        // Both sides of a self-trade share the trade id: the higher order id wins, whatever the
        // order the rows came in.
        assert_eq!(
            pick(vec![rec("7", "sell-1", 5), rec("7", "buy-1", 5)]),
            ("7".into(), "sell-1".into())
        );
        assert_eq!(
            pick(vec![rec("7", "buy-1", 5), rec("7", "sell-1", 5)]),
            ("7".into(), "sell-1".into())
        );
        assert_eq!(newest_fill(vec![]), None);
    }
}
