//! # aurum-sim
//!
//! A local exchange that speaks Binance Spot's REST API, for tests and rehearsals
//! (`aurum exchange-sim`). Real clients (aurum's own, ccxt, binance-connector) talk to it as
//! they would to Binance.
//!
//! - Endpoints: `ping`, `time`, `exchangeInfo`, `klines`, `depth`, `ticker/price`,
//!   `ticker/24hr`, `ticker/bookTicker`, `avgPrice`, `order` (POST, GET, DELETE),
//!   `order/test`, `openOrders` (GET, DELETE), `allOrders`, `myTrades`, `account`, under
//!   `/api/v3/`.
//! - Rules: Binance's real filter values for BTCUSDT/ETHUSDT (both notional generations,
//!   [`FilterGeneration`]), checked with `aurum_core`'s filters; balances locked by resting
//!   orders; signatures (HMAC-SHA256 over query + body, from the query, a form body or both) and
//!   `recvWindow` verified; Binance's error codes and messages.
//! - Matching: over each pair's price path (a data file, or `aurum_data::synth`), see
//!   [`engine`] for the model; the clock moves through `POST /admin/advance` or on a timer.
//! - Faults ([`Faults`]): latency, 5xx (JSON or HTML), 429 bursts with `Retry-After` and 418
//!   bans, truncated answers, and new orders whose request or answer is dropped or held.
//! - Admin (unsigned, loopback only): `GET|POST /admin/faults`, `POST /admin/advance`
//!   (`{"candles": n, "symbol": "BTCUSDT"}`), `GET /admin/stats`.
//!
//! It listens on loopback addresses only.

#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod engine;
pub mod faults;
pub mod market;
pub mod params;
pub mod render;
pub mod server;
pub mod state;

pub use config::{
    EXAMPLE_API_KEY, EXAMPLE_API_SECRET, FilterGeneration, PairConfig, PriceSource, SimConfig,
};
pub use faults::Faults;
pub use server::{SimError, SimHandle, serve, serve_sim, spawn};
pub use state::{Sim, StatsSnapshot};
