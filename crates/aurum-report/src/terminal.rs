//! Terminal tables: a backtest's summary and the optimizer's ranking.

use crate::BacktestReport;
use crate::format::{
    count, date, duration, money, pct, price, profit_factor, quantity, ratio, short_time,
    signed_money, signed_pct,
};
use aurum_core::Symbol;
use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table, presets};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How many of the last trades [`terminal_table`] lists.
const LAST_TRADES: usize = 10;

/// One parameter set of an optimisation run, as ranked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankRow {
    /// The strategy parameters tried (a JSON object).
    pub params: serde_json::Value,
    /// Name of the metric ranked by, e.g. `sharpe`.
    pub metric_name: String,
    /// Its value for these parameters.
    pub metric: f64,
    /// Total return, %.
    pub return_pct: f64,
    /// Max drawdown, % of the peak.
    pub max_drawdown_pct: f64,
    /// Round trips.
    pub trades: u64,
    /// Annualised daily Sharpe ratio.
    pub sharpe: f64,
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

fn num(text: impl Into<String>) -> Cell {
    Cell::new(text.into()).set_alignment(CellAlignment::Right)
}

/// A number coloured by its sign (green gains, red losses).
fn signed(text: String, positive: bool, negative: bool) -> Cell {
    let cell = num(text);
    if positive {
        cell.fg(Color::Green)
    } else if negative {
        cell.fg(Color::Red)
    } else {
        cell
    }
}

/// The quote currency of the report (`USDT` unless the pairs say otherwise).
fn quote(report: &BacktestReport) -> String {
    report
        .pairs
        .first()
        .and_then(|p| Symbol::parse(p).ok())
        .map_or_else(|| "USDT".to_string(), |s| s.quote.to_string())
}

/// The CLI's default output: a heading, the key metrics, the strategy status when there is
/// one, and the last ten trades.
pub fn terminal_table(report: &BacktestReport) -> String {
    let m = &report.metrics;
    let q = quote(report);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Backtest {} · {} · {} · {}",
        report.run_id,
        report.strategy,
        report.pairs.join(", "),
        report.timeframe
    );
    if let (Some(first), Some(last)) = (report.equity.first(), report.equity.last()) {
        let _ = writeln!(
            out,
            "{} → {} · {} days · {} candles · fee {}% · slippage {} bps",
            date(first.ts_ms),
            date(last.ts_ms),
            count(m.days),
            count(m.candles),
            (report.fee_rate * aurum_core::Decimal::ONE_HUNDRED).normalize(),
            report.slippage_bps
        );
    }

    let mut t = table();
    let ret = |v: f64| signed(signed_pct(v), v > 0.0, v < 0.0);
    let streak = match m.current_streak {
        s if s > 0 => format!("{s} won"),
        s if s < 0 => format!("{} lost", s.unsigned_abs()),
        _ => "-".into(),
    };
    let rows: Vec<[Cell; 4]> = vec![
        [
            Cell::new(format!("Start cash ({q})")),
            num(money(m.start_cash)),
            Cell::new(format!("Final equity ({q})")),
            num(money(m.final_equity)),
        ],
        [
            Cell::new("Return"),
            ret(m.return_pct),
            Cell::new("Buy & hold"),
            ret(m.buy_hold_return_pct),
        ],
        [
            Cell::new("Net P&L"),
            signed(
                signed_money(m.net_pnl),
                m.net_pnl.is_sign_positive() && !m.net_pnl.is_zero(),
                m.net_pnl.is_sign_negative() && !m.net_pnl.is_zero(),
            ),
            Cell::new("Fees"),
            num(money(m.fees)),
        ],
        [
            Cell::new("Gross profit"),
            num(money(m.gross_profit)),
            Cell::new("Gross loss"),
            num(money(m.gross_loss)),
        ],
        [
            Cell::new("Trades"),
            num(format!("{} ({} W / {} L)", m.trades, m.wins, m.losses)),
            Cell::new("Win rate"),
            num(pct(m.win_rate_pct)),
        ],
        [
            Cell::new("Profit factor"),
            num(profit_factor(m.profit_factor, m.gross_profit)),
            Cell::new("Avg trade"),
            num(m.avg_trade_pnl.map_or("-".into(), signed_money)),
        ],
        [
            Cell::new("Best trade"),
            num(m.best_trade.map_or("-".into(), signed_money)),
            Cell::new("Worst trade"),
            num(m.worst_trade.map_or("-".into(), signed_money)),
        ],
        [
            Cell::new("Avg duration"),
            num(m.avg_trade_duration_ms.map_or("-".into(), duration)),
            Cell::new("Exposure"),
            num(pct(m.exposure_pct)),
        ],
        [
            Cell::new("Sharpe (daily, ×√365)"),
            num(ratio(m.sharpe)),
            Cell::new("Sortino"),
            num(ratio(m.sortino)),
        ],
        [
            Cell::new("Max drawdown"),
            num(format!(
                "{} ({})",
                money(m.max_drawdown),
                pct(m.max_drawdown_pct)
            )),
            Cell::new("Streak now / best / worst"),
            num(format!(
                "{streak} / {} W / {} L",
                m.longest_win_streak, m.longest_loss_streak
            )),
        ],
    ];
    for row in rows {
        t.add_row(row);
    }
    let _ = writeln!(out, "{t}");

    if let Some(status) = status_line(&report.strategy_status) {
        let _ = writeln!(out, "Strategy: {status}");
    }

    if !report.trades.is_empty() {
        let shown = report.trades.len().min(LAST_TRADES);
        let _ = writeln!(
            out,
            "Last {shown} of {} trades (times UTC):",
            report.trades.len()
        );
        let mut t = table();
        t.set_header(vec![
            "pair", "entry", "exit", "held", "entry px", "exit px", "qty", "P&L", "fees", "reason",
        ]);
        for tr in &report.trades[report.trades.len() - shown..] {
            t.add_row(vec![
                Cell::new(tr.pair.to_string()),
                Cell::new(short_time(tr.entry_time_ms)),
                Cell::new(short_time(tr.exit_time_ms)),
                num(duration(tr.duration_ms())),
                num(price(tr.entry_price)),
                num(price(tr.exit_price)),
                num(quantity(tr.quantity)),
                signed(signed_money(tr.pnl), tr.is_win(), tr.is_loss()),
                num(money(tr.fees)),
                Cell::new(&tr.exit_reason),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    out
}

/// The strategy status as `key: value · key: value` (top-level entries of an object), or
/// `None` when there is nothing to show.
fn status_line(status: &serde_json::Value) -> Option<String> {
    match status {
        serde_json::Value::Null => None,
        serde_json::Value::Object(o) if o.is_empty() => None,
        serde_json::Value::Object(o) => Some(
            o.iter()
                .map(|(k, v)| format!("{k}: {}", scalar(v)))
                .collect::<Vec<_>>()
                .join(" · "),
        ),
        other => Some(scalar(other)),
    }
}

/// A JSON value as plain text: strings unquoted, everything else as compact JSON.
pub(crate) fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parameters as `fast=9 slow=21` (an object's entries in order), or compact JSON otherwise.
pub(crate) fn params_inline(params: &serde_json::Value) -> String {
    match params {
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}={}", scalar(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => scalar(other),
    }
}

/// The optimizer's ranking, rows in the order given (rank 1 first): rank, the ranked metric
/// (its name from the first row), parameters, return, max drawdown, trades, Sharpe.
pub fn ranking_table(rows: &[RankRow]) -> String {
    let metric_name = rows.first().map_or("metric", |r| r.metric_name.as_str());
    let mut t = table();
    t.set_header(vec![
        "#",
        metric_name,
        "params",
        "return",
        "max DD",
        "trades",
        "sharpe",
    ]);
    for (i, r) in rows.iter().enumerate() {
        t.add_row(vec![
            num((i + 1).to_string()),
            num(ratio(r.metric)),
            Cell::new(params_inline(&r.params)),
            signed(
                signed_pct(r.return_pct),
                r.return_pct > 0.0,
                r.return_pct < 0.0,
            ),
            num(pct(r.max_drawdown_pct)),
            num(r.trades.to_string()),
            num(ratio(r.sharpe)),
        ]);
    }
    t.to_string()
}
