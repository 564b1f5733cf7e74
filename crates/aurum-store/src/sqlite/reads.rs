//! Queries of the SQLite backend, each on a pooled read-only connection.

use super::SqliteStore;
use super::sql::{self, query_all};
use crate::RowCounts;
use crate::check::{CheckBuilder, CheckReport};
use crate::error::{Result, StoreError};
use crate::model::{
    BacktestRunRecord, BacktestRunSummary, BotSpec, DailyPerformance, EquityPointRecord,
    FillRecord, LedgerRecord, OptimizeResult, OptimizeRunRecord, OrderEventRecord, OrderRecord,
    PositionRecord,
};
use crate::rows;
use aurum_core::{Asset, Candle, ClientOrderId, Money, Symbol, Timeframe};
use rusqlite::params;
use std::collections::BTreeMap;

impl SqliteStore {
    /// Every registered bot.
    pub async fn bots(&self) -> Result<Vec<BotSpec>> {
        self.read(|c| {
            query_all(c, "SELECT bot_id, mode, strategy, quote_asset, config, created_at_ms FROM bots ORDER BY bot_id", [], "reading bots", |r| rows::bot(r))
        })
        .await
    }

    /// One order by client order id.
    pub async fn order(&self, id: &ClientOrderId) -> Result<Option<OrderRecord>> {
        let id = id.to_string();
        self.read(move |c| {
            let sql = format!(
                "SELECT {} FROM orders WHERE client_order_id = ?1",
                rows::ORDER_COLS
            );
            Ok(query_all(c, &sql, [id], "reading orders", |r| rows::order(r))?.pop())
        })
        .await
    }

    /// A bot's orders, newest first; only the non-final ones when `open_only`.
    pub async fn orders(
        &self,
        bot_id: &str,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<OrderRecord>> {
        let bot = bot_id.to_string();
        self.read(move |c| {
            let [a, b, d] = sql::open_statuses();
            let filter = if open_only { format!("AND status IN ('{a}', '{b}', '{d}')") } else { String::new() };
            let sql = format!(
                "SELECT {} FROM orders WHERE bot_id = ?1 {filter} ORDER BY created_at_ms DESC, client_order_id DESC LIMIT ?2",
                rows::ORDER_COLS
            );
            query_all(c, &sql, params![bot, limit], "reading orders", |r| rows::order(r))
        })
        .await
    }

    /// An order's events, oldest first.
    pub async fn order_events(&self, id: &ClientOrderId) -> Result<Vec<OrderEventRecord>> {
        let id = id.to_string();
        self.read(move |c| {
            query_all(
                c,
                "SELECT event_id, client_order_id, status, exchange_order_id, detail, ts_ms FROM order_events
                 WHERE client_order_id = ?1 ORDER BY event_id",
                [id],
                "reading order events",
                |r| rows::event(r),
            )
        })
        .await
    }

    /// A bot's fills, newest first.
    pub async fn fills(&self, bot_id: &str, limit: i64) -> Result<Vec<FillRecord>> {
        let bot = bot_id.to_string();
        self.read(move |c| {
            let sql = format!(
                "SELECT {} FROM fills WHERE bot_id = ?1 ORDER BY ts_ms DESC, trade_id DESC LIMIT ?2",
                rows::FILL_COLS
            );
            query_all(c, &sql, params![bot, limit], "reading fills", |r| {
                rows::fill(r)
            })
        })
        .await
    }

    /// The fills of one order, oldest first.
    pub async fn fills_of_order(&self, id: &ClientOrderId) -> Result<Vec<FillRecord>> {
        let id = id.to_string();
        self.read(move |c| {
            let sql = format!(
                "SELECT {} FROM fills WHERE client_order_id = ?1 ORDER BY ts_ms, trade_id",
                rows::FILL_COLS
            );
            query_all(c, &sql, [id], "reading fills", |r| rows::fill(r))
        })
        .await
    }

    /// The bot's newest fill in a pair (see [`crate::Store::last_fill`]).
    pub async fn last_fill(&self, bot_id: &str, symbol: &Symbol) -> Result<Option<FillRecord>> {
        let (bot, sym) = (bot_id.to_string(), symbol.to_string());
        self.read(move |c| {
            let candidates =
                query_all(c, &LAST_FILL_SQL, params![bot, sym], "reading fills", |r| {
                    rows::fill(r)
                })?;
            Ok(rows::newest_fill(candidates))
        })
        .await
    }

    /// A bot's positions (open ones only when `open_only`), by pair and holding period.
    pub async fn positions(&self, bot_id: &str, open_only: bool) -> Result<Vec<PositionRecord>> {
        let bot = bot_id.to_string();
        self.read(move |c| {
            let filter = if open_only {
                "AND closed_at_ms IS NULL"
            } else {
                ""
            };
            let sql = format!(
                "SELECT {} FROM positions WHERE bot_id = ?1 {filter} ORDER BY symbol, seq",
                rows::POSITION_COLS
            );
            query_all(c, &sql, [bot], "reading positions", |r| rows::position(r))
        })
        .await
    }

    /// A bot's balances by asset.
    pub async fn balances(&self, bot_id: &str) -> Result<BTreeMap<Asset, Money>> {
        let bot = bot_id.to_string();
        self.read(move |c| {
            let rows = query_all(
                c,
                "SELECT asset, amount FROM balances WHERE bot_id = ?1",
                [bot],
                "reading balances",
                |r| {
                    Ok((
                        sql::parsed::<Asset>(r, 0, "balances")?,
                        sql::dec(r, 1, "balances")?,
                    ))
                },
            )?;
            Ok(rows.into_iter().collect())
        })
        .await
    }

    /// A bot's ledger, newest first.
    pub async fn ledger(&self, bot_id: &str, limit: i64) -> Result<Vec<LedgerRecord>> {
        let bot = bot_id.to_string();
        self.read(move |c| {
            let sql = format!(
                "SELECT {} FROM ledger WHERE bot_id = ?1 ORDER BY entry_id DESC LIMIT ?2",
                rows::LEDGER_COLS
            );
            query_all(c, &sql, params![bot, limit], "reading the ledger", |r| {
                rows::ledger(r)
            })
        })
        .await
    }

    /// A bot's engine state values.
    pub async fn engine_state(&self, bot_id: &str) -> Result<BTreeMap<String, serde_json::Value>> {
        let bot = bot_id.to_string();
        self.read(move |c| {
            let rows = query_all(
                c,
                "SELECT key, value FROM engine_state WHERE bot_id = ?1",
                [bot],
                "reading engine state",
                |r| {
                    let key: String = sql::get(r, 0, "engine_state")?;
                    let text: String = sql::get(r, 1, "engine_state")?;
                    let value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                        table: "engine_state",
                        reason: format!("{key}: {e}"),
                    })?;
                    Ok((key, value))
                },
            )?;
            Ok(rows.into_iter().collect())
        })
        .await
    }

    /// Stored candles of a pair in `[from_ms, to_ms)`, oldest first.
    pub async fn candles(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Candle>> {
        let (sym, tf) = (symbol.to_string(), timeframe.as_str());
        self.read(move |c| {
            query_all(
                c,
                "SELECT open_time_ms, open, high, low, close, volume FROM market_data
                 WHERE symbol = ?1 AND timeframe = ?2 AND open_time_ms >= ?3 AND open_time_ms < ?4 ORDER BY open_time_ms",
                params![sym, tf, from_ms, to_ms],
                "reading market data",
                |r| rows::candle(r),
            )
        })
        .await
    }

    /// A bot's daily performance rows, oldest first.
    pub async fn performance_daily(&self, bot_id: &str) -> Result<Vec<DailyPerformance>> {
        let bot = bot_id.to_string();
        self.read(move |c| {
            query_all(
                c,
                "SELECT day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses FROM performance_daily
                 WHERE bot_id = ?1 ORDER BY day",
                [bot],
                "reading daily performance",
                |r| rows::daily(r, "performance_daily"),
            )
        })
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
        let bot = bot_id.to_string();
        let (since, limit) = rows::equity_curve_bounds(since_ms, limit);
        self.read(move |c| {
            let newest_first = query_all(
                c,
                "SELECT ts_ms, equity, cash FROM equity_curve WHERE bot_id = ?1 AND ts_ms >= ?2
                 ORDER BY ts_ms DESC LIMIT ?3",
                params![bot, since, limit],
                "reading the equity curve",
                |r| rows::equity_point(r),
            )?;
            Ok(rows::equity_curve(newest_first))
        })
        .await
    }

    /// The newest backtest runs.
    pub async fn backtest_runs(&self, limit: i64) -> Result<Vec<BacktestRunSummary>> {
        self.read(move |c| {
            let sql = format!(
                "SELECT {} FROM backtest_runs ORDER BY finished_at_ms DESC, run_id DESC LIMIT ?1",
                rows::RUN_SUMMARY_COLS
            );
            query_all(c, &sql, [limit], "reading backtest runs", |r| {
                rows::run_summary(r)
            })
        })
        .await
    }

    /// One backtest run with its trades and daily rows.
    pub async fn backtest_run(&self, run_id: &str) -> Result<Option<BacktestRunRecord>> {
        let id = run_id.to_string();
        self.read(move |c| {
            const T: &str = "backtest_runs";
            let runs = query_all(
                c,
                "SELECT run_id, strategy, params, pairs, timeframe, data_sources, start_cash, final_equity, fee_rate, candles,
                 metrics, started_at_ms, finished_at_ms FROM backtest_runs WHERE run_id = ?1",
                [id.clone()],
                "reading backtest runs",
                |r| {
                    let json = |i: usize| -> Result<serde_json::Value> {
                        let t: String = sql::get(r, i, T)?;
                        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt { table: T, reason: e.to_string() })
                    };
                    let pairs: String = sql::get(r, 3, T)?;
                    let sources: Vec<String> = serde_json::from_value(json(5)?)
                        .map_err(|e| StoreError::Corrupt { table: T, reason: e.to_string() })?;
                    Ok(BacktestRunRecord {
                        run_id: sql::get(r, 0, T)?,
                        strategy: sql::get(r, 1, T)?,
                        params: json(2)?,
                        pairs: pairs.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                        timeframe: sql::get(r, 4, T)?,
                        data_sources: sources,
                        start_cash: sql::dec(r, 6, T)?,
                        final_equity: sql::dec(r, 7, T)?,
                        fee_rate: sql::dec(r, 8, T)?,
                        candles: sql::get(r, 9, T)?,
                        metrics: json(10)?,
                        started_at_ms: sql::get(r, 11, T)?,
                        finished_at_ms: sql::get(r, 12, T)?,
                        trades: Vec::new(),
                        daily: Vec::new(),
                    })
                },
            )?;
            let Some(mut run) = runs.into_iter().next() else { return Ok(None) };
            run.trades = query_all(
                c,
                "SELECT pair, entry_time_ms, entry_price, exit_time_ms, exit_price, quantity, pnl, fees, exit_reason
                 FROM backtest_trades WHERE run_id = ?1 ORDER BY seq",
                [id.clone()],
                "reading backtest trades",
                |r| rows::trade(r),
            )?;
            run.daily = query_all(
                c,
                "SELECT day, start_equity, end_equity, realised_pnl, fees, trades, wins, losses FROM backtest_daily
                 WHERE run_id = ?1 ORDER BY day",
                [id],
                "reading backtest days",
                |r| rows::daily(r, "backtest_daily"),
            )?;
            Ok(Some(run))
        })
        .await
    }

    /// The newest optimization runs with their stored rankings.
    pub async fn optimize_runs(&self, limit: i64) -> Result<Vec<OptimizeRunRecord>> {
        self.read(move |c| {
            const T: &str = "optimize_runs";
            let mut runs = query_all(
                c,
                "SELECT run_id, strategy, metric, space, pairs, timeframe, data_sources, evaluated, failed, started_at_ms,
                 finished_at_ms FROM optimize_runs ORDER BY finished_at_ms DESC, run_id DESC LIMIT ?1",
                [limit],
                "reading optimization runs",
                |r| {
                    let json = |i: usize| -> Result<serde_json::Value> {
                        let t: String = sql::get(r, i, T)?;
                        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt { table: T, reason: e.to_string() })
                    };
                    let pairs: String = sql::get(r, 4, T)?;
                    Ok(OptimizeRunRecord {
                        run_id: sql::get(r, 0, T)?,
                        strategy: sql::get(r, 1, T)?,
                        metric: sql::get(r, 2, T)?,
                        space: json(3)?,
                        pairs: pairs.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                        timeframe: sql::get(r, 5, T)?,
                        data_sources: serde_json::from_value(json(6)?)
                            .map_err(|e| StoreError::Corrupt { table: T, reason: e.to_string() })?,
                        evaluated: sql::get(r, 7, T)?,
                        failed: sql::get(r, 8, T)?,
                        started_at_ms: sql::get(r, 9, T)?,
                        finished_at_ms: sql::get(r, 10, T)?,
                        results: Vec::new(),
                    })
                },
            )?;
            for run in &mut runs {
                const R: &str = "optimize_results";
                run.results = query_all(
                    c,
                    "SELECT rank, params, metric_value, final_equity, return_pct, max_drawdown_pct, sharpe, trades
                     FROM optimize_results WHERE run_id = ?1 ORDER BY rank",
                    [run.run_id.clone()],
                    "reading optimization results",
                    |r| {
                        let params: String = sql::get(r, 1, R)?;
                        Ok(OptimizeResult {
                            rank: sql::get(r, 0, R)?,
                            params: serde_json::from_str(&params)
                                .map_err(|e| StoreError::Corrupt { table: R, reason: e.to_string() })?,
                            metric_value: sql::get(r, 2, R)?,
                            final_equity: sql::dec(r, 3, R)?,
                            return_pct: sql::get(r, 4, R)?,
                            max_drawdown_pct: sql::get(r, 5, R)?,
                            sharpe: sql::get(r, 6, R)?,
                            trades: sql::get(r, 7, R)?,
                        })
                    },
                )?;
            }
            Ok(runs)
        })
        .await
    }

    /// Row counts of the trading tables.
    pub async fn row_counts(&self) -> Result<RowCounts> {
        self.read(|c| {
            let count = |table: &str| -> Result<i64> {
                c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                    .map_err(StoreError::sqlite(format!("counting {table}")))
            };
            Ok(RowCounts {
                bots: count("bots")?,
                orders: count("orders")?,
                order_events: count("order_events")?,
                fills: count("fills")?,
                positions: count("positions")?,
                ledger: count("ledger")?,
                balances: count("balances")?,
            })
        })
        .await
    }

    /// The newest applied schema version.
    pub async fn schema_version(&self) -> Result<i64> {
        self.read(|c| {
            Ok(super::applied_migrations(c)?
                .iter()
                .map(|m| m.version)
                .max()
                .unwrap_or(0))
        })
        .await
    }

    /// Verifies the stored state (see [`crate::check`]). Reads one consistent snapshot.
    pub async fn check(&self) -> Result<CheckReport> {
        self.read(|c| {
            c.execute_batch("BEGIN")
                .map_err(StoreError::sqlite("starting the check"))?;
            let report = check_on(c);
            let _ = c.execute_batch("COMMIT");
            report
        })
        .await
    }
}

/// Every fill of the pair at its newest `ts_ms`; [`rows::newest_fill`] breaks the tie. Both
/// lookups go through `fills_by_time (bot_id, ts_ms)`: the inner one walks the bot's fills from
/// the newest until it meets the pair, the outer one reads that millisecond. No index of its
/// own: every index on `fills` is paid by every fill.
pub(crate) static LAST_FILL_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM fills WHERE bot_id = ?1 AND symbol = ?2 AND ts_ms =
         (SELECT ts_ms FROM fills WHERE bot_id = ?1 AND symbol = ?2 ORDER BY ts_ms DESC LIMIT 1)",
        rows::FILL_COLS
    )
});

fn check_on(c: &rusqlite::Connection) -> Result<CheckReport> {
    let mut b = CheckBuilder::new();
    let ctx = "checking the stored state";
    for (sql, feed) in rows::CHECK_QUERIES {
        let mut st = c.prepare(sql).map_err(StoreError::sqlite(ctx))?;
        let mut rows = st.query([]).map_err(StoreError::sqlite(ctx))?;
        while let Some(r) = rows.next().map_err(StoreError::sqlite(ctx))? {
            feed(r, &mut b)?;
        }
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_fill_query_uses_the_time_index_not_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.db");
        let conn = super::super::open_read_write(&path).unwrap();
        super::super::apply_migrations(&conn, "plan.db").unwrap();
        let plan = query_all(
            &conn,
            &format!("EXPLAIN QUERY PLAN {}", *LAST_FILL_SQL),
            params!["b", "BTC/USDT"],
            "explaining",
            |r| sql::get::<String>(r, 3, "plan"),
        )
        .unwrap();
        assert_eq!(
            plan,
            vec![
                "SEARCH fills USING INDEX fills_by_time (bot_id=? AND ts_ms=?)".to_string(),
                "SCALAR SUBQUERY 1".to_string(),
                "SEARCH fills USING INDEX fills_by_time (bot_id=?)".to_string(),
            ]
        );
    }
}
