//! What the store keeps, as Rust values: the rows of each table in domain terms.

use aurum_core::{
    Asset, ClientOrderId, Fill, LedgerEntry, Money, OrderIntent, OrderStatus, Position, Price,
    Quantity,
};
use serde::{Deserialize, Serialize};

/// A trading bot: every order, fill, position and ledger entry belongs to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotSpec {
    /// Unique name, e.g. `main` or `paper-btc`.
    pub bot_id: String,
    /// `backtest`, `paper`, `live` or `loadtest`.
    pub mode: String,
    /// Strategy name, if any.
    pub strategy: Option<String>,
    /// The accounting currency (USDT).
    pub quote_asset: Asset,
    /// Free-form configuration snapshot (JSON).
    pub config: Option<serde_json::Value>,
    /// When the bot was first registered.
    pub created_at_ms: i64,
}

/// An order as stored: the intent plus where it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The bot that owns it.
    pub bot_id: String,
    /// What was asked.
    pub intent: OrderIntent,
    /// Current status.
    pub status: OrderStatus,
    /// The venue's id, once acknowledged.
    pub exchange_order_id: Option<String>,
    /// Base quantity filled so far.
    pub filled_qty: Quantity,
    /// Quote amount filled so far.
    pub filled_quote: Money,
    /// Last change.
    pub updated_at_ms: i64,
    /// What the engine stored with the intent (see [`WriteOp::OrderIntent`](crate::WriteOp::OrderIntent)),
    /// exactly as given; `None` when it gave nothing.
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

/// One entry of an order's append-only history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEventRecord {
    /// Monotonic id.
    pub event_id: i64,
    /// The order.
    pub client_order_id: ClientOrderId,
    /// Status after the event.
    pub status: OrderStatus,
    /// The venue's id, when the event carried it.
    pub exchange_order_id: Option<String>,
    /// Reason, venue message, or fill reference.
    pub detail: Option<String>,
    /// When.
    pub ts_ms: i64,
}

/// A fill as stored, with what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillRecord {
    /// The bot.
    pub bot_id: String,
    /// The fill as the venue reported it.
    pub fill: Fill,
    /// P&L it booked.
    pub realised_pnl: Money,
    /// The holding period (position `seq`) it belongs to.
    pub position_seq: i64,
}

/// A position (open or closed) as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionRecord {
    /// The bot.
    pub bot_id: String,
    /// 1 for the first holding period of the pair, then 2, 3...
    pub seq: i64,
    /// The position.
    pub position: Position,
}

/// A ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRecord {
    /// Monotonic id.
    pub entry_id: i64,
    /// The bot.
    pub bot_id: String,
    /// The movement.
    pub entry: LedgerEntry,
    /// The pair of the fill that caused it, if any.
    pub symbol: Option<String>,
    /// The venue trade id of that fill, if any.
    pub trade_id: Option<String>,
    /// Free text (reason of a deposit or adjustment).
    pub note: Option<String>,
}

/// One UTC day of a bot's performance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyPerformance {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Equity at the start of the day.
    pub start_equity: Money,
    /// Equity at the end of the day (or now).
    pub end_equity: Money,
    /// Realised P&L booked that day.
    pub realised_pnl: Money,
    /// Fees paid that day (quote).
    pub fees: Money,
    /// Round trips closed that day.
    pub trades: i64,
    /// Winning round trips.
    pub wins: i64,
    /// Losing round trips.
    pub losses: i64,
}

/// One point of a live or paper bot's equity curve ([`WriteOp::EquityPoint`](crate::WriteOp::EquityPoint)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquityPointRecord {
    /// When (milliseconds since the epoch); one point per bot and millisecond.
    pub ts_ms: i64,
    /// Equity at that moment (cash plus holdings at market, in the quote asset), exactly as
    /// written.
    pub equity: Money,
    /// Quote cash at that moment, exactly as written.
    pub cash: Money,
}

/// One round trip of a backtest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacktestTrade {
    /// `BTC/USDT`.
    pub pair: String,
    /// Entry fill time.
    pub entry_time_ms: i64,
    /// Average entry price.
    pub entry_price: Price,
    /// Exit fill time.
    pub exit_time_ms: i64,
    /// Average exit price.
    pub exit_price: Price,
    /// Base quantity.
    pub quantity: Quantity,
    /// Net P&L after fees.
    pub pnl: Money,
    /// Fees of both legs (quote).
    pub fees: Money,
    /// `signal`, `stop_loss`, `take_profit`, `trailing_stop`, `end_of_data`...
    pub exit_reason: String,
}

/// A finished backtest with everything needed to list and compare it later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRunRecord {
    /// Unique id.
    pub run_id: String,
    /// Strategy name.
    pub strategy: String,
    /// Strategy parameters (JSON object).
    pub params: serde_json::Value,
    /// Pairs traded.
    pub pairs: Vec<String>,
    /// Candle timeframe.
    pub timeframe: String,
    /// Data files or generators used.
    pub data_sources: Vec<String>,
    /// Starting cash.
    pub start_cash: Money,
    /// Final equity.
    pub final_equity: Money,
    /// Fee rate per side.
    pub fee_rate: Money,
    /// Candles processed.
    pub candles: i64,
    /// Summary metrics (JSON object).
    pub metrics: serde_json::Value,
    /// Wall-clock start.
    pub started_at_ms: i64,
    /// Wall-clock end.
    pub finished_at_ms: i64,
    /// The round trips.
    pub trades: Vec<BacktestTrade>,
    /// Per-day performance.
    pub daily: Vec<DailyPerformance>,
}

/// A row of the backtest list (`aurum runs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRunSummary {
    /// Unique id.
    pub run_id: String,
    /// Strategy name.
    pub strategy: String,
    /// Parameters.
    pub params: serde_json::Value,
    /// Pairs.
    pub pairs: Vec<String>,
    /// Timeframe.
    pub timeframe: String,
    /// Starting cash.
    pub start_cash: Money,
    /// Final equity.
    pub final_equity: Money,
    /// Round trips.
    pub trades: i64,
    /// Metrics.
    pub metrics: serde_json::Value,
    /// When it finished.
    pub finished_at_ms: i64,
}

/// One ranked parameter set of an optimization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizeResult {
    /// 1 = best.
    pub rank: i64,
    /// The parameters (JSON object).
    pub params: serde_json::Value,
    /// The value of the ranking metric.
    pub metric_value: f64,
    /// Final equity of the run.
    pub final_equity: Money,
    /// Return in percent.
    pub return_pct: f64,
    /// Maximum drawdown in percent.
    pub max_drawdown_pct: f64,
    /// Sharpe ratio.
    pub sharpe: f64,
    /// Round trips.
    pub trades: i64,
}

/// A finished parameter search with its ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizeRunRecord {
    /// Unique id.
    pub run_id: String,
    /// Strategy name.
    pub strategy: String,
    /// The ranking metric.
    pub metric: String,
    /// The search space (JSON).
    pub space: serde_json::Value,
    /// Pairs.
    pub pairs: Vec<String>,
    /// Timeframe.
    pub timeframe: String,
    /// Data files.
    pub data_sources: Vec<String>,
    /// Parameter sets backtested.
    pub evaluated: i64,
    /// Parameter sets that could not run (invalid combinations).
    pub failed: i64,
    /// Wall-clock start.
    pub started_at_ms: i64,
    /// Wall-clock end.
    pub finished_at_ms: i64,
    /// The ranking, best first (all of it, or the stored top).
    pub results: Vec<OptimizeResult>,
}
