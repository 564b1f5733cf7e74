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
//! - [`stream`]: Binance Spot kline streams over WebSocket ([`spawn_kline_stream`]): the
//!   combined `<symbol>@kline_<interval>` stream of several pairs as [`StreamEvent`]s
//!   (connected, kline with its `closed` flag, disconnected), reconnecting forever with
//!   exponential backoff, answering pings, replacing a silent connection; against Binance or
//!   `aurum exchange-sim`, which serves the same streams.
//! - [`parse`]: typed, never-panicking parsers of Binance's JSON answers and stream messages
//!   (fuzzed).
//! - [`download`](mod@download): paginated, resumable klines download into aurum's CSV.
//!
//! HTTP is reqwest on rustls with the `ring` provider, WebSocket is tokio-tungstenite on the
//! same rustls and provider: no OpenSSL, no cmake.

#![warn(missing_docs)]

pub mod binance;
pub mod download;
pub mod error;
pub mod exchange;
pub mod parse;
pub mod sign;
pub mod stream;
pub mod types;

pub use binance::{BinanceClient, BinanceConfig};
pub use download::{DownloadError, DownloadReport, DownloadSpec, Progress, download};
pub use error::{ApiError, ExchangeError, RejectReason};
pub use exchange::Exchange;
pub use stream::{KlineStream, StreamConfig, StreamEvent, spawn_kline_stream};
pub use types::{
    Balance, Kline, KlineEvent, KlineQuery, OrderAck, OrderReport, StreamMessage, Trade,
    TradesSince, VenueOrderStatus,
};
