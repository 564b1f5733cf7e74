//! # aurum-exchange
//!
//! aurum's boundary to trading venues.
//!
//! - [`Exchange`]: the trait the engine trades through (server time, filters, klines, ticker,
//!   place / cancel / query orders, open orders, trades, balances).
//! - [`binance::BinanceClient`]: Binance Spot REST (mainnet, testnet, or any URL such as the
//!   `aurum-sim` simulator): HMAC-SHA256 signing ([`sign`]), server-time offset, typed errors
//!   ([`ExchangeError`]), bounded retries with backoff for idempotent calls, `Retry-After`
//!   honoured, request weight tracked, and idempotent order placement by client order id.
//! - [`parse`]: typed, never-panicking parsers of Binance's JSON answers (fuzzed).
//! - [`download`](mod@download): paginated, resumable klines download into aurum's CSV.
//!
//! HTTP is reqwest on rustls with the `ring` provider: no OpenSSL, no cmake.

#![warn(missing_docs)]

pub mod binance;
pub mod download;
pub mod error;
pub mod exchange;
pub mod parse;
pub mod sign;
pub mod types;

pub use binance::{BinanceClient, BinanceConfig};
pub use download::{DownloadError, DownloadReport, DownloadSpec, Progress, download};
pub use error::{ApiError, ExchangeError, RejectReason};
pub use exchange::Exchange;
pub use types::{
    Balance, Kline, KlineQuery, OrderAck, OrderReport, Trade, TradesSince, VenueOrderStatus,
};
