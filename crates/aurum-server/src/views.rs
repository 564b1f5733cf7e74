//! The JSON shapes of the API. Amounts are exact decimals written as JSON strings
//! (`"51.23000001"`); percentages and latencies, which are for display, are numbers.

use aurum_core::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `GET /api/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    /// The bot.
    pub bot_id: String,
    /// `live` or `paper`; `null` when the bot never ran.
    pub mode: Option<String>,
    /// `trading`, `stopped` (ended cleanly) or `not_running` (no fresh heartbeat).
    pub state: String,
    /// Whether the bot runs now.
    pub running: bool,
    /// When the bot last wrote its status, ms since the epoch.
    pub heartbeat_ms: Option<i64>,
    /// When the running bot started, ms since the epoch.
    pub started_at_ms: Option<i64>,
    /// The kill switch as stored (the engine applies it within one poll interval).
    pub kill_switch: KillSwitchView,
    /// Whether an operator stopped new entries.
    pub entries_paused: bool,
    /// Equity at the last mark, quote asset.
    #[schema(value_type = Option<String>)]
    pub equity: Option<Money>,
    /// Free quote cash.
    #[schema(value_type = Option<String>)]
    pub cash: Option<Money>,
    /// Orders not final yet.
    pub working_orders: usize,
    /// What the strategy reports: for Challenge Growth the phase, its limits and the
    /// progress to the target.
    #[schema(value_type = Object)]
    pub strategy: serde_json::Value,
    /// The risk manager's figures (daily loss, drawdown, cooldowns, loss streak).
    #[schema(value_type = Option<Object>)]
    pub risk: Option<serde_json::Value>,
    /// The reconciliation report of the last start.
    #[schema(value_type = Option<Object>)]
    pub reconciliation: Option<serde_json::Value>,
    /// By pair: last closed candle, last price, data age, position.
    #[schema(value_type = Object)]
    pub pairs: serde_json::Value,
    /// Counters since start (orders sent, fills, rejects...).
    #[schema(value_type = Object)]
    pub stats: serde_json::Value,
    /// Closed candle → order on the wire since start, µs percentiles.
    #[schema(value_type = Object)]
    pub latency: serde_json::Value,
}

/// The kill switch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KillSwitchView {
    /// Engaged: no orders until reset.
    pub engaged: bool,
    /// Why.
    pub reason: Option<String>,
    /// Who changed it last (`cli`, `api`, `risk`, `reconciliation`).
    pub source: String,
    /// Engaging also sells the open positions at market.
    pub close_positions: bool,
    /// When it last changed, ms since the epoch.
    pub changed_at_ms: i64,
}

impl From<&aurum_runtime::KillSwitchRecord> for KillSwitchView {
    fn from(k: &aurum_runtime::KillSwitchRecord) -> Self {
        KillSwitchView {
            engaged: k.engaged,
            reason: k.reason.clone(),
            source: k.source.clone(),
            close_positions: k.close_positions,
            changed_at_ms: k.changed_at_ms,
        }
    }
}

/// `GET /api/balance`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    /// The quote (accounting) asset.
    pub quote: String,
    /// Equity at the last mark (quote).
    #[schema(value_type = Option<String>)]
    pub equity: Option<Money>,
    /// Free quote cash at the last mark.
    #[schema(value_type = Option<String>)]
    pub cash: Option<Money>,
    /// Starting capital (quote).
    #[schema(value_type = Option<String>)]
    pub start_cash: Option<Money>,
    /// Equity minus starting capital.
    #[schema(value_type = Option<String>)]
    pub pnl: Option<Money>,
    /// Every asset's balance from the ledger.
    #[schema(value_type = Object)]
    pub balances: std::collections::BTreeMap<String, Money>,
}

/// A list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    /// The items.
    pub items: Vec<T>,
}

/// A page of a longer list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of the page.
    pub items: Vec<T>,
    /// Items in the whole list (`null` when not counted).
    pub total: Option<usize>,
    /// Page size asked.
    pub limit: usize,
    /// Items skipped.
    pub offset: usize,
}

/// `limit` and `offset` of a paged list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 50, at most 1000).
    pub limit: Option<usize>,
    /// Items to skip (default 0).
    pub offset: Option<usize>,
    /// Orders only: only those not final yet.
    pub open: Option<bool>,
}

impl PageQuery {
    /// Limit and offset, bounded.
    pub fn bounds(&self) -> (usize, usize) {
        (
            self.limit.unwrap_or(50).clamp(1, 1000),
            self.offset.unwrap_or(0),
        )
    }
}

/// An open position.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionView {
    /// `BTC/USDT`.
    pub pair: String,
    /// Base quantity held.
    #[schema(value_type = String)]
    pub quantity: Money,
    /// Average entry price.
    #[schema(value_type = String)]
    pub avg_entry_price: Money,
    /// Last price seen by the bot.
    #[schema(value_type = Option<String>)]
    pub last_price: Option<Money>,
    /// At the last price, quote.
    #[schema(value_type = Option<String>)]
    pub unrealized_pnl: Option<Money>,
    /// Realised so far by partial exits, quote.
    #[schema(value_type = String)]
    pub realized_pnl: Money,
    /// When the position was opened, ms since the epoch.
    pub opened_at_ms: i64,
}

/// A closed round trip.
#[derive(Debug, Serialize, ToSchema)]
pub struct TradeView {
    /// `BTC/USDT`.
    pub pair: String,
    /// First entry fill, ms since the epoch.
    pub entry_time_ms: i64,
    /// Average entry price.
    #[schema(value_type = String)]
    pub entry_price: Money,
    /// Position closed, ms since the epoch.
    pub exit_time_ms: i64,
    /// Average exit price (volume-weighted over the sells); `null` for a dust write-off.
    #[schema(value_type = Option<String>)]
    pub exit_price: Option<Money>,
    /// Base quantity bought.
    #[schema(value_type = String)]
    pub qty: Money,
    /// Realised P&L after fees, quote.
    #[schema(value_type = String)]
    pub pnl: Money,
    /// Fees, quote.
    #[schema(value_type = String)]
    pub fees: Money,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    /// The engine's id, sent to the venue.
    pub client_order_id: String,
    /// The venue's id.
    pub exchange_order_id: Option<String>,
    /// `BTC/USDT`.
    pub pair: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `market`, `limit`...
    pub order_type: String,
    /// `new`, `submitted`, `partially_filled`, `filled`, `cancelled`, `rejected`, `expired`.
    pub status: String,
    /// Limit price.
    #[schema(value_type = Option<String>)]
    pub price: Option<Money>,
    /// Base quantity asked.
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Money>,
    /// Base quantity filled.
    #[schema(value_type = String)]
    pub filled_qty: Money,
    /// Created, ms since the epoch.
    pub created_at_ms: i64,
    /// Last change, ms since the epoch.
    pub updated_at_ms: i64,
}

/// `GET /api/performance`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceView {
    /// Since the running bot started.
    #[schema(value_type = Option<Object>)]
    pub session: Option<serde_json::Value>,
    /// One row per UTC day.
    #[schema(value_type = Vec<Object>)]
    pub daily: Vec<serde_json::Value>,
}

/// A point of the equity curve.
#[derive(Debug, Serialize, ToSchema)]
pub struct EquityPointView {
    /// When, ms since the epoch.
    pub ts_ms: i64,
    /// Equity (quote).
    #[schema(value_type = String)]
    pub equity: Money,
    /// Quote cash.
    #[schema(value_type = String)]
    pub cash: Money,
    /// Below the running peak of the points returned, percent.
    pub drawdown_pct: f64,
}

/// `GET /api/equity`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EquityView {
    /// Oldest first.
    pub points: Vec<EquityPointView>,
}

/// `since_ms` and `limit` of the equity curve.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EquityQuery {
    /// Only points at or after this time.
    pub since_ms: Option<i64>,
    /// The last this many points (default 2000, at most 100000).
    pub limit: Option<i64>,
}

/// `GET /api/store`: the figures of `aurum db status --json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreView {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// File or URL (password hidden).
    pub target: String,
    /// SQLAlchemy's status line of the pool.
    pub sqlalchemy: String,
    /// The pool's figures.
    #[schema(value_type = Object)]
    pub pool: serde_json::Value,
    /// The writer's figures.
    #[schema(value_type = Object)]
    pub writer: serde_json::Value,
}

/// `POST /api/kill-switch/engage`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EngageRequest {
    /// Why (shown everywhere the switch is).
    pub reason: Option<String>,
    /// Also sell the open positions at market.
    pub close_positions: bool,
}

/// An empty request body (`{}` or nothing).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// The entries switch.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesView {
    /// New entries are stopped.
    pub entries_paused: bool,
    /// Who changed it last.
    pub source: String,
    /// When, ms since the epoch.
    pub changed_at_ms: i64,
}

/// `GET /api/runs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunsView {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
}

/// `limit` of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// How many (default 50, at most 1000).
    pub limit: Option<i64>,
}
