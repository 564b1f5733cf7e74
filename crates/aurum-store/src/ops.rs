//! Write requests and their outcomes. A request is data, not code, so the SQLite writer thread
//! and the PostgreSQL batching writer can run the same requests with the same rules.

use crate::model::{
    BacktestRunRecord, BotSpec, DailyPerformance, OptimizeRunRecord, PositionRecord,
};
use aurum_core::{
    Candle, ClientOrderId, Fill, LedgerEntry, Money, OrderIntent, OrderStatus, Position, Symbol,
    Timeframe,
};

/// One durable change, acknowledged only after the transaction holding it has committed.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Registers a bot (or updates its mode, strategy and config).
    UpsertBot(BotSpec),
    /// Stores an order intent as `new`, before anything is sent to a venue. Storing the same
    /// intent again is a no-op (the retry's `meta` is ignored; the first one stays); another
    /// intent under the same client order id is refused.
    OrderIntent {
        /// The bot placing it.
        bot_id: String,
        /// The intent.
        intent: OrderIntent,
        /// Why the order exists, as the engine describes it (purpose, exit reason, protective
        /// distances...): an opaque JSON document, usually an object, stored as given and read
        /// back in [`OrderRecord::meta`](crate::OrderRecord::meta). The store never interprets
        /// it.
        meta: Option<serde_json::Value>,
    },
    /// Appends an order event and moves the order to `status` (checked by the state machine).
    OrderEvent {
        /// The bot.
        bot_id: String,
        /// The order.
        client_order_id: ClientOrderId,
        /// Status after the event.
        status: OrderStatus,
        /// The venue's order id (on acknowledgement).
        exchange_order_id: Option<String>,
        /// Reason or venue message.
        detail: Option<String>,
        /// When.
        ts_ms: i64,
    },
    /// Records a fill with its order update, position change and ledger entries, atomically.
    /// The same fill (same pair and trade id) recorded twice is a no-op.
    Fill {
        /// The bot.
        bot_id: String,
        /// The fill.
        fill: Fill,
    },
    /// Closes the bot's open position in `symbol` by writing its remaining quantity off as dust
    /// ([`Position::written_off`]): quantity 0, the quantity moved to `dust`, the remaining cost
    /// basis booked as realised loss, closed at `ts_ms`. Balances and the ledger do not move
    /// (the dust stays in the base balance). Answers [`WriteOutcome::DustClosed`]; when the pair
    /// has no open position (never opened, or already closed — a retry after a crash)
    /// [`WriteOutcome::AlreadyRecorded`] and nothing changes.
    CloseDust {
        /// The bot.
        bot_id: String,
        /// The pair whose open position is written off.
        symbol: Symbol,
        /// When (becomes the position's `closed_at_ms`; not before it opened).
        ts_ms: i64,
    },
    /// A deposit, withdrawal or adjustment of one asset.
    Cash {
        /// The bot.
        bot_id: String,
        /// The movement (kind deposit, withdrawal or adjustment).
        entry: LedgerEntry,
        /// Why.
        note: Option<String>,
    },
    /// Sets one engine-state value (kill switch, peak equity, cooldowns, phase...).
    EngineState {
        /// The bot.
        bot_id: String,
        /// The key.
        key: String,
        /// The value (JSON).
        value: serde_json::Value,
        /// When.
        ts_ms: i64,
    },
    /// Inserts or replaces candles of one pair and timeframe.
    Candles {
        /// The pair.
        symbol: Symbol,
        /// The timeframe.
        timeframe: Timeframe,
        /// The candles.
        candles: Vec<Candle>,
    },
    /// Inserts or replaces one day of a bot's performance.
    PerformanceDay {
        /// The bot.
        bot_id: String,
        /// The day.
        day: DailyPerformance,
    },
    /// Inserts or replaces one point of a bot's equity curve: a point at a `ts_ms` the bot
    /// already has replaces it. The bot must be registered.
    EquityPoint {
        /// The bot.
        bot_id: String,
        /// When (milliseconds since the epoch).
        ts_ms: i64,
        /// Equity at that moment (cash plus holdings at market, in the quote asset).
        equity: Money,
        /// Quote cash at that moment.
        cash: Money,
    },
    /// Stores a finished backtest with its trades and daily rows.
    BacktestRun(Box<BacktestRunRecord>),
    /// Stores a finished parameter search with its ranking.
    OptimizeRun(Box<OptimizeRunRecord>),
}

impl WriteOp {
    /// A short name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            WriteOp::UpsertBot(_) => "bot",
            WriteOp::OrderIntent { .. } => "order intent",
            WriteOp::OrderEvent { .. } => "order event",
            WriteOp::Fill { .. } => "fill",
            WriteOp::CloseDust { .. } => "dust write-off",
            WriteOp::Cash { .. } => "cash movement",
            WriteOp::EngineState { .. } => "engine state",
            WriteOp::Candles { .. } => "candles",
            WriteOp::PerformanceDay { .. } => "daily performance",
            WriteOp::EquityPoint { .. } => "equity point",
            WriteOp::BacktestRun(_) => "backtest run",
            WriteOp::OptimizeRun(_) => "optimization run",
        }
    }
}

/// What a fill did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillOutcome {
    /// The position after the fill (closed if the fill made it flat).
    pub position: Position,
    /// Which holding period of the pair it is.
    pub position_seq: i64,
    /// P&L booked by the fill.
    pub realised_pnl: Money,
    /// The order's status after the fill.
    pub order_status: OrderStatus,
}

/// The acknowledgement of a committed write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored.
    Done,
    /// Already stored identically before (an idempotent retry); nothing changed.
    AlreadyRecorded,
    /// A fill was stored.
    Fill(Box<FillOutcome>),
    /// A position was closed as dust ([`WriteOp::CloseDust`]): the stored row after the
    /// write-off (bot, holding period `seq`, and the closed position with its `dust`).
    DustClosed(Box<PositionRecord>),
}
