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

/// The open time of the `timeframe` candle that contains `t_ms`, as Binance aligns them: to
/// multiples of the bar length since the epoch, except weekly bars, which open on Mondays
/// (the epoch was a Thursday).
pub fn candle_open_time(t_ms: i64, timeframe: Timeframe) -> i64 {
    let ms = timeframe.millis().max(1);
    let offset = if timeframe == Timeframe::W1 {
        4 * 86_400_000
    } else {
        0
    };
    (t_ms - offset).div_euclid(ms) * ms + offset
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
    /// Place every synthetic path in time when the simulator is built ([`Sim::new`]): its
    /// `start_ms` is replaced so that its last history candle is the candle containing the
    /// server's clock (wall clock plus [`clock_offset_ms`](Self::clock_offset_ms)), see
    /// [`SimConfig::align_start`]. Prices do not depend on the start, only times do. With
    /// [`advance_every`](Self::advance_every) shorter than the bar, revealed candles then run
    /// ahead of the clock (accelerated trading). Data files are not moved.
    ///
    /// [`Sim::new`]: crate::Sim::new
    pub start_now: bool,
    /// At most this much quote (e.g. USDT) of resting-order fills per pair per candle, shared
    /// by the pair's resting orders oldest first, on top of the candle's own volume (`None`: the
    /// volume is the only limit). Each order fills at most `floor_step(left / price)` base per
    /// candle, so a 20 USDT limit with a cap of 5 fills over four or five candles, on any
    /// pair whatever its price. Orders that take at once (market orders, crossing limits,
    /// triggered stop-markets) are not limited.
    pub max_fill_quote: Option<Decimal>,
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
            start_now: false,
            max_fill_quote: None,
        }
    }
}

impl SimConfig {
    /// This configuration with [`start_now`](Self::start_now) set: synthetic paths are placed
    /// when the simulator is built so that the current candle is the one of the clock.
    ///
    /// ```
    /// let cfg = aurum_sim::SimConfig::default().starting_now();
    /// assert!(cfg.start_now);
    /// ```
    pub fn starting_now(mut self) -> SimConfig {
        self.start_now = true;
        self
    }

    /// Moves every synthetic path so that its last history candle (the current one: candle
    /// `history − 1`, or the last candle when `history` is `None`, as [`Market::new`] counts)
    /// opens at [`candle_open_time`]`(now_ms, timeframe)`; i.e. `start_ms = open(now) −
    /// (history − 1) × bar`. Data files are left as they are. [`Sim::new`] calls it with the
    /// server's clock when [`start_now`](Self::start_now) is set; call it directly to place
    /// paths at a chosen instant.
    ///
    /// [`Market::new`]: crate::market::Market::new
    /// [`Sim::new`]: crate::Sim::new
    pub fn align_start(&mut self, now_ms: i64) {
        for pair in &mut self.pairs {
            if let PriceSource::Synth {
                candles,
                start_ms,
                timeframe,
                ..
            } = &mut pair.prices
            {
                let total = (*candles).max(1);
                let current = self.history.unwrap_or(total).clamp(1, total) - 1;
                let bar = timeframe.millis();
                let back = i64::try_from(current)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(bar);
                *start_ms = candle_open_time(now_ms, *timeframe).saturating_sub(back);
            }
        }
    }
}
