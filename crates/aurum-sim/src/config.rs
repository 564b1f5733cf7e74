//! What the simulator serves: pairs, prices, balances, fees, keys and injected faults.

use crate::faults::Faults;
use aurum_core::{Decimal, Symbol, Timeframe};
use std::path::PathBuf;
use std::time::Duration;

/// The API key of Binance's documented signing example (the simulator's default).
pub const EXAMPLE_API_KEY: &str =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
/// The secret key of Binance's documented signing example (the simulator's default).
pub const EXAMPLE_API_SECRET: &str =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// Which generation of Binance's notional filter the simulator lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterGeneration {
    /// `MIN_NOTIONAL` (min 10, applies to market orders) and `PERCENT_PRICE`, as Binance listed
    /// BTCUSDT and ETHUSDT in October 2021.
    MinNotional,
    /// `NOTIONAL` (min 5, max 9,000,000 not applied to market orders) and
    /// `PERCENT_PRICE_BY_SIDE`, as the Binance Spot testnet lists BTCUSDT today.
    #[default]
    Notional,
}

/// Where one pair's prices come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PriceSource {
    /// A candle file (aurum CSV, Binance klines CSV or freqtrade JSON), read once at start.
    File(PathBuf),
    /// `aurum_data::synth` with this seed and number of candles, from `start_ms`.
    Synth {
        /// Random seed.
        seed: u64,
        /// Candles to generate.
        candles: usize,
        /// Open time of the first candle (ms).
        start_ms: i64,
        /// Bar length.
        timeframe: Timeframe,
    },
}

/// One listed pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairConfig {
    /// The pair.
    pub symbol: Symbol,
    /// Its price path.
    pub prices: PriceSource,
}

/// The whole simulator configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Listed pairs (at least one).
    pub pairs: Vec<PairConfig>,
    /// Starting balances of the one account.
    pub balances: Vec<(String, Decimal)>,
    /// Commission rate, charged in the asset received (0.001 = 0.1%).
    pub fee: Decimal,
    /// The account's API key.
    pub api_key: String,
    /// The account's secret key.
    pub api_secret: String,
    /// Which notional filter generation to list.
    pub filters: FilterGeneration,
    /// How many candles of each path are already history when the simulator starts (the last
    /// of them is the current one); the rest are revealed by advancing the clock. `None`: all
    /// candles are history.
    pub history: Option<usize>,
    /// Advance every pair by one candle this often (`None`: only when asked through
    /// `POST /admin/advance`).
    pub advance_every: Option<Duration>,
    /// Added to the server's clock, ms (to rehearse clock skew).
    pub clock_offset_ms: i64,
    /// Request weight allowed per minute before answering 429.
    pub weight_limit: u32,
    /// Faults active from the start.
    pub faults: Faults,
}

impl Default for SimConfig {
    /// BTCUSDT and ETHUSDT on synthetic 1m paths (3000 candles from 2024-01-01, 2000 of them
    /// history), 10,000 USDT, fee 0.1%, the documented example key pair, `NOTIONAL` filters.
    fn default() -> Self {
        let pair = |base: &str, seed| PairConfig {
            // Constant, valid asset codes.
            symbol: Symbol {
                base: aurum_core::Asset::new(base).unwrap_or_else(|_| aurum_core::Asset::usdt()),
                quote: aurum_core::Asset::usdt(),
            },
            prices: PriceSource::Synth {
                seed,
                candles: 3000,
                start_ms: 1_704_067_200_000,
                timeframe: Timeframe::M1,
            },
        };
        SimConfig {
            pairs: vec![pair("BTC", 42), pair("ETH", 42)],
            balances: vec![("USDT".to_string(), Decimal::new(10_000, 0))],
            fee: Decimal::new(1, 3),
            api_key: EXAMPLE_API_KEY.to_string(),
            api_secret: EXAMPLE_API_SECRET.to_string(),
            filters: FilterGeneration::default(),
            history: Some(2000),
            advance_every: None,
            clock_offset_ms: 0,
            weight_limit: 6000,
            faults: Faults::default(),
        }
    }
}
