//! # aurum-strategy
//!
//! Strategy-side logic of aurum, pure (no IO, no clock, no async):
//!
//! - [`indicators`]: streaming technical indicators that reproduce TA-Lib's outputs.
//! - [`strategy`]: the [`Strategy`](strategy::Strategy) trait and what flows through it
//!   (closed bars in, entry and exit signals out).
//! - [`strategies`]: the shipped strategies (`sma_cross`, `challenge_growth`) and the factory
//!   that builds one by name with `--param key=value` overrides.
//! - [`risk`]: the risk manager every order passes (kill switch, circuit breakers, limits,
//!   exact position sizing to the venue's filters).

#![warn(missing_docs)]

pub mod indicators;
pub mod risk;
pub mod strategies;
pub mod strategy;
