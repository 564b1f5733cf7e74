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
//!   [`engine`] for the model; the clock moves through `POST /admin/advance` or on a timer
//!   ([`SimConfig::advance_every`]). [`SimConfig::max_fill_quote`] caps resting-order fills per
//!   pair per candle in quote, so that small orders fill partially over several candles.
//! - Time: synthetic paths start at a fixed instant, or, with [`SimConfig::start_now`]
//!   ([`SimConfig::starting_now`]), are placed when the simulator is built so that the current
//!   candle is the one containing the server's clock; advanced faster than the bar, the revealed
//!   candles then run ahead of the clock (accelerated trading).
//! - Faults ([`Faults`]): latency, 5xx (JSON or HTML), 429 bursts with `Retry-After` and 418
//!   bans, truncated answers, and new orders whose request or answer is dropped or held.
//! - Admin (unsigned, loopback only): `GET|POST /admin/faults`, `POST /admin/advance`
//!   (`{"candles": n, "symbol": "BTCUSDT"}`), `GET /admin/stats`, and `GET /admin/state`: the
//!   whole account for test harnesses (`serverTime`, `balances`, every order and trade by id,
//!   and per pair the current candle's open time and last price; shape in
//!   [`render::admin_state`]).
//!
//! One client sending one signed order at a time over a kept-alive loopback connection gets
//! about 15,000–19,000 placements per second answered (p50 ≈ 45 µs) on a 2-vCPU guest, against
//! 22,000–31,000 bare `ping` round trips; open orders are indexed, so the rate does not fall as
//! orders accumulate (`cargo run --release -p aurum-sim --example order_throughput`,
//! docs/BENCHMARKS.md).
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
pub mod stream;

pub use config::{
    EXAMPLE_API_KEY, EXAMPLE_API_SECRET, FilterGeneration, PairConfig, PriceSource, SimConfig,
    candle_open_time,
};
pub use faults::Faults;
pub use server::{SimError, SimHandle, serve, serve_sim, spawn};
pub use state::{Sim, StatsSnapshot};
