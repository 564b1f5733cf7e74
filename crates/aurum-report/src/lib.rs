//! # aurum-report
//!
//! Renders a finished backtest ([`BacktestReport`]) for people and for other programs:
//!
//! - [`terminal_table`]: the key metrics and the last trades as a terminal table (CLI default).
//! - [`to_json`]: one JSON object (money as exact strings, ratios as numbers).
//! - [`write_trades_csv`] and [`write_equity_csv`]: the round trips and the equity curve.
//! - [`write_html`]: one self-contained HTML page (no network, no script) with the metrics,
//!   inline SVG charts of equity and drawdown, the strategy status and every trade.
//! - [`ranking_table`]: the optimizer's ranking of parameter sets.
//!
//! Metrics themselves are computed in `aurum_core::performance`; this crate only presents them.
//! All number formatting for people lives in [`mod@format`].

#![warn(missing_docs)]

mod chart;
mod csv_export;
pub mod downsample;
pub mod format;
mod html;
mod json;
mod terminal;

use aurum_core::Decimal;
use aurum_core::performance::{DailyRow, EquityPoint, Metrics, Trade};
use serde::{Deserialize, Serialize};

pub use csv_export::{EQUITY_CSV_HEADER, TRADES_CSV_HEADER, write_equity_csv, write_trades_csv};
pub use html::write_html;
pub use json::to_json;
pub use terminal::{RankRow, ranking_table, terminal_table};

/// Everything the engine hands over about a finished backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// Unique id of the run.
    pub run_id: String,
    /// Strategy name.
    pub strategy: String,
    /// Strategy parameters (a JSON object).
    pub params: serde_json::Value,
    /// Pairs traded, `BTC/USDT` form.
    pub pairs: Vec<String>,
    /// Candle timeframe, e.g. `1m`.
    pub timeframe: String,
    /// Data files or generators used.
    pub data_sources: Vec<String>,
    /// Fee rate per side (0.001 = 0.1 %).
    pub fee_rate: Decimal,
    /// Simulated slippage in basis points.
    pub slippage_bps: u32,
    /// The summary metrics.
    pub metrics: Metrics,
    /// Every round trip, in exit order.
    pub trades: Vec<Trade>,
    /// The equity curve, one point per time step.
    pub equity: Vec<EquityPoint>,
    /// One row per UTC day.
    pub daily: Vec<DailyRow>,
    /// The strategy's own status at the end (JSON; e.g. `phase`, `progress_pct`), or null.
    pub strategy_status: serde_json::Value,
    /// Wall-clock start of the run, ms since the Unix epoch.
    pub started_at_ms: i64,
    /// Wall-clock end of the run, ms since the Unix epoch.
    pub finished_at_ms: i64,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The output could not be written.
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed (it only fails on the underlying output).
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A time cannot be shown as a date (beyond year ±9999).
    #[error("{what}: time {ms} ms is outside the representable dates (years -9999..9999)")]
    TimeOutOfRange {
        /// Which record and field, e.g. `trade 3 (BTC/USDT) entry_time`.
        what: String,
        /// The value given.
        ms: i64,
    },
}
