//! The strategy interface: what the engine gives a strategy on every closed candle and what a
//! strategy answers. The same strategy object runs in backtests, paper and live trading; it
//! never sees a clock, a database or an exchange, only closed candles and the account state.

use crate::indicators::Ohlcv;
use aurum_core::{Candle, Money, Price, Quantity, Symbol};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Index of a pair in the engine's pair list (the order of `--pair`).
pub type PairId = usize;

/// A closed candle of one pair: the exact candle (for prices and sizes) and its f64 view (for
/// indicator maths).
#[derive(Debug, Clone, Copy)]
pub struct Bar<'a> {
    /// Which pair.
    pub pair: PairId,
    /// The exact candle.
    pub candle: &'a Candle,
    /// The same candle as f64, converted once by the engine.
    pub ohlcv: Ohlcv,
}

/// The open holding of a pair, as a strategy sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldPosition {
    /// Base quantity held.
    pub quantity: Quantity,
    /// Fee-free average entry price.
    pub avg_entry_price: Price,
    /// When the holding opened.
    pub opened_at_ms: i64,
}

/// The account as of the candle being processed.
#[derive(Debug, Clone)]
pub struct StrategyContext<'a> {
    /// Close time of the candle (its open time + timeframe), ms since the Unix epoch.
    pub now_ms: i64,
    /// Quote cash plus open positions at their last closes.
    pub equity: Money,
    /// Free quote cash.
    pub cash: Money,
    /// The pair's open position, if any.
    pub position: Option<&'a HeldPosition>,
    /// How many positions are open across all pairs.
    pub open_positions: usize,
    /// Whether an order for this pair is already waiting to fill (no second entry meanwhile).
    pub pending_order: bool,
}

/// How much to buy on an entry. The risk manager turns it into a quantity (and may shrink or
/// refuse it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Sizing {
    /// All free cash, net of the fee: `quantity = cash / (price × (1 + fee))`.
    AllCash,
    /// A fraction of equity (e.g. 0.15 for 15 %).
    FractionOfEquity(Decimal),
    /// A fixed quote amount.
    Quote(Money),
}

/// Why a position is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The strategy's exit rule.
    Signal,
    /// The stop-loss price was reached.
    StopLoss,
    /// The take-profit price was reached.
    TakeProfit,
    /// The trailing stop was reached.
    TrailingStop,
    /// The backtest ran out of data with the position open (closed at the last close).
    EndOfData,
    /// The kill switch closed it.
    KillSwitch,
    /// An operator closed it.
    Manual,
}

impl ExitReason {
    /// The snake_case name used in reports and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Signal => "signal",
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::TrailingStop => "trailing_stop",
            ExitReason::EndOfData => "end_of_data",
            ExitReason::KillSwitch => "kill_switch",
            ExitReason::Manual => "manual",
        }
    }
}

/// A request to open a long position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntrySignal {
    /// Which pair.
    pub pair: PairId,
    /// How sure the strategy is, 0 to 1 (the risk manager compares it with the phase minimum).
    pub confidence: f64,
    /// How much to buy.
    pub sizing: Sizing,
    /// Stop-loss distance below the entry fill price, as a fraction (0.08 = 8 %).
    pub stop_loss_pct: Option<Decimal>,
    /// Take-profit distance above the entry fill price, as a fraction.
    pub take_profit_pct: Option<Decimal>,
    /// Trailing-stop distance below the highest price since entry, as a fraction.
    pub trailing_stop_pct: Option<Decimal>,
    /// Enter with a resting limit buy instead of a market order.
    pub limit: Option<LimitEntry>,
}

/// A limit entry: buy at `price` or better, optionally cancelled when it has not filled after
/// some candles (what is filled by then stays as the position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitEntry {
    /// The limit price.
    pub price: Price,
    /// Cancel the rest after this many closed candles of the pair (`None`: good till
    /// cancelled).
    pub expire_after_bars: Option<u32>,
}

/// What a strategy wants after a candle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Signal {
    /// Open a long position.
    Enter(EntrySignal),
    /// Close the pair's position.
    Exit {
        /// Which pair.
        pair: PairId,
        /// Why.
        reason: ExitReason,
    },
}

/// Limits that depend on the strategy's state (Challenge Growth's phases). The risk manager
/// applies them on top of its configured limits (the stricter wins).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseLimits {
    /// Phase number (1-based; 0 when the strategy has no phases).
    pub phase: u8,
    /// Phase name for reports.
    pub name: String,
    /// Largest fraction of equity one trade may use.
    pub risk_per_trade: Decimal,
    /// Most entries per UTC day.
    pub max_trades_per_day: u32,
    /// Most positions open at once.
    pub max_open_positions: u32,
    /// Lowest confidence an entry may have.
    pub min_confidence: f64,
    /// False once the strategy wants no more entries (target reached).
    pub entries_allowed: bool,
}

/// A trading strategy driven by closed candles.
pub trait Strategy: Send {
    /// The registered name (`sma_cross`, `challenge_growth`).
    fn name(&self) -> &'static str;

    /// The parameters in effect, for reports and the database.
    fn params(&self) -> serde_json::Value;

    /// Called once before the first candle with the pairs, in [`PairId`] order.
    fn start(&mut self, pairs: &[Symbol]);

    /// Called for every closed candle of every pair, in time order (pairs of the same time step
    /// in [`PairId`] order). Pushes zero or more signals.
    fn on_bar(&mut self, ctx: &StrategyContext<'_>, bar: &Bar<'_>, signals: &mut Vec<Signal>);

    /// The state-dependent limits at an equity, if the strategy has any.
    fn limits(&self, _equity: Money) -> Option<PhaseLimits> {
        None
    }

    /// What the strategy reports about itself at an equity (phase, progress to target...).
    fn status(&self, _equity: Money) -> serde_json::Value {
        serde_json::Value::Null
    }
}
