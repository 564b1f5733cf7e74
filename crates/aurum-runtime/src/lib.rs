//! # aurum-runtime
//!
//! Paper and live trading: the backtester's engine (same strategy, risk manager and books)
//! driven by a venue and the store instead of history and the simulated matcher.
//!
//! - [`Runtime`]: starts a bot ([`Runtime::start`]: lock, clock, rules, funding,
//!   [reconciliation](reconcile), engine rebuilt from the store, warm-up) and runs its loop
//!   ([`Runtime::run`]) until a shutdown signal, then stops gracefully.
//! - The order path ([`orders`]): every intent is stored (the writer acknowledged it) before
//!   its request leaves; the acknowledgement and every fill are stored as they happen, with
//!   the position and ledger updated in the fill's transaction; only then does the engine hear
//!   of them.
//! - [`control`]: the persisted kill switch and the other `engine_state` values.
//! - [`venue::Venue`]: Binance Spot (or `aurum exchange-sim`) for live trading,
//!   [`paper::PaperVenue`] (live data, fills by the backtester's matcher) for paper trading.

#![warn(missing_docs)]

pub mod audit;
pub mod config;
pub mod control;
pub mod error;
pub mod market;
pub mod orders;
pub mod paper;
pub mod reconcile;
mod runtime;
mod start;
pub mod status;
pub mod venue;

pub use config::{BotConfig, ConfigError, ExchangeConfig, MarketData, PaperConfig};
pub use control::KillSwitchRecord;
pub use error::RuntimeError;
pub use market::MarketDataStats;
pub use paper::PaperVenue;
pub use reconcile::ReconcileReport;
pub use runtime::{RunSummary, Runtime, RuntimeOptions};
pub use status::{LATENCY_BOUNDS_US, LatencySummary, LiveView, RuntimeStats, RuntimeStatus};
pub use venue::Venue;
