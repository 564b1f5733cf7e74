//! # aurum-core
//!
//! The trading domain of aurum, pure and exact: no IO, no async, no clock. Every other crate
//! builds on these types.
//!
//! - [`money`]: exact decimal amounts (never `f64`) and their parsing.
//! - [`symbol`]: assets and pairs, rendered `BTC/USDT` for people and `BTCUSDT` for venues.
//! - [`order`]: sides, order types, time in force, client order ids, the status state machine.
//! - [`filters`]: venue rules (tick, step, notional) and the exact rounding to them.
//! - [`candle`]: OHLCV bars and timeframes.
//! - [`portfolio`]: fills, positions, the ledger and realised P&L under spot rules.
//! - [`performance`]: round trips, the equity curve, daily rows and summary metrics.

pub mod candle;
pub mod filters;
pub mod money;
pub mod order;
pub mod performance;
pub mod portfolio;
pub mod symbol;

pub use candle::{Candle, Timeframe};
pub use filters::{OrderCheck, Rounding, SymbolFilters};
pub use money::{Money, Price, Quantity};
pub use order::{ClientOrderId, OrderIntent, OrderStatus, OrderType, Side, TimeInForce};
pub use performance::{DailyRow, EquityPoint, Metrics, Trade, compute_metrics, daily_rows};
pub use portfolio::{Fill, FillEffects, LedgerEntry, LedgerKind, Portfolio, Position};
pub use rust_decimal::Decimal;
pub use symbol::{Asset, Symbol};
