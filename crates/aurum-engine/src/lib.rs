//! # aurum-engine
//!
//! One engine for backtests, paper and live trading (the NautilusTrader principle): a pure
//! state machine ([`engine::Engine`]) fed with closed candles and fills, asking its driver to
//! place and cancel orders. Only the clock, the data source and the execution venue differ
//! between modes.
//!
//! - [`matcher`]: the simulated venue of backtests and paper trading, with documented,
//!   deterministic fill rules.
//! - [`backtest`]: the historical driver (one or many pairs aligned on time).
//! - [`optimize`]: parameter search over many backtests on all cores.

#![warn(missing_docs)]

pub mod backtest;
pub mod engine;
pub mod matcher;
pub mod optimize;

pub use backtest::{BacktestConfig, BacktestError, BacktestOutcome, PairData};
pub use engine::{
    Command, Engine, EngineConfig, Execution, OrderMeta, PlaceOrder, Protection, Purpose, Triggers,
};
pub use matcher::{Matcher, SimKind, SimOrder};
