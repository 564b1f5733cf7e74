//! Streaming technical indicators that reproduce TA-Lib (the C library bundled with the Python
//! wrapper `TA-Lib` 0.8.x) float for float.
//!
//! Every indicator is fed one value (or one bar) at a time and returns `None` for as many
//! updates as TA-Lib's lookback, then `Some(output)`. An update is O(1): state is a few sums
//! and at most a ring buffer of the window; only [`Bollinger`] occasionally re-reads that ring
//! (see there).
//!
//! The arithmetic is TA-Lib 0.8.x's, operation for operation, so on the same inputs the
//! outputs are the same `f64`s (checked bit for bit against the `TA-Lib` 0.8.2 wheel on 17
//! real and synthetic series and many periods, and in the tests against the reference file in
//! `shared/real_cases`). That C library differs from the TA-Lib 0.4/0.6 that most ports copy:
//! EMA and ATR fuse their multiply-add, RSI and ATR scale by a reciprocal, RSI tests its
//! denominator against exactly 0 (not a `1e-8` band), and the Bollinger deviation uses
//! shifted sums with re-anchoring instead of `E[x²] - mean²`. On prices far from 1 (a
//! coin quoted in BTC, a tight range) the older algorithms differ in the 7th digit or zero the
//! band or the RSI outright; these do not.
//!
//! | indicator | TA-Lib | lookback |
//! |---|---|---|
//! | [`Sma`] | `SMA(n)` | `n - 1` |
//! | [`Ema`] | `EMA(n)`, seeded with the SMA of the first `n` values | `n - 1` |
//! | [`Rsi`] | `RSI(n)`, Wilder smoothing | `n` |
//! | [`Macd`] | `MACD(fast, slow, signal)` | `slow - 1 + signal - 1` |
//! | [`Bollinger`] | `BBANDS(n, up, dn, matype=SMA)`, population std dev | `n - 1` |
//! | [`Atr`] | `ATR(n)`, Wilder smoothing | `n` |
//! | [`TrueRange`] | `TRANGE` | `1` |
//!
//! Inputs and outputs are `f64`: indicator maths is statistics, not money. [`Ohlcv`] converts
//! an [`aurum_core::Candle`] (exact decimals) into the nearest floats. A NaN or infinite input
//! poisons the running state as it does in TA-Lib; values converted from decimals never are.
//!
//! [`indicator_table`] and [`write_indicator_csv`] compute and write the reference table that
//! `aurum indicators` prints for checking against other libraries.
//!
//! ```
//! use aurum_core::{Candle, Decimal};
//! use aurum_strategy::indicators::{Ohlcv, Rsi, Sma};
//!
//! let mut volume_sma = Sma::new(3)?;
//! let mut rsi = Rsi::new(2)?;
//! let mut last = None;
//! for (i, close) in [100i64, 101, 103, 102].into_iter().enumerate() {
//!     let close = Decimal::from(close);
//!     let candle = Candle {
//!         open_time_ms: i as i64 * 60_000,
//!         open: close,
//!         high: close,
//!         low: close,
//!         close,
//!         volume: Decimal::from(10 * (i as i64 + 1)),
//!     };
//!     let bar = Ohlcv::from_candle(&candle);
//!     last = volume_sma.update(bar.volume);
//!     rsi.update(bar.close);
//! }
//! assert_eq!(last, Some(30.0)); // (20 + 30 + 40) / 3
//! // Changes +1, +2, -1: gains (1 + 2) / 2 = 1.5, loss 0 → smoothed 0.75 and 0.5 → RSI 60.
//! assert_eq!(rsi.value(), Some(60.0));
//! # Ok::<(), aurum_strategy::indicators::IndicatorError>(())
//! ```

mod atr;
mod bar;
mod bollinger;
mod ema;
mod error;
mod macd;
mod ring;
mod rsi;
mod sma;
mod table;
mod true_range;

pub use atr::Atr;
pub use bar::{Ohlcv, decimal_to_f64};
pub use bollinger::{Bollinger, BollingerOutput};
pub use ema::Ema;
pub use error::IndicatorError;
pub use macd::{Macd, MacdOutput};
pub use rsi::Rsi;
pub use sma::Sma;
pub use table::{INDICATOR_CSV_HEADER, IndicatorRow, indicator_table, write_indicator_csv};
pub use true_range::TrueRange;

/// The common shape of a streaming indicator, for code that is generic over indicators.
///
/// Every indicator also has inherent methods of the same names (so callers need not import
/// this trait); the inherent `update` of the bar-based indicators ([`Atr`], [`TrueRange`])
/// takes `high, low, close` while this trait's takes an [`Ohlcv`].
pub trait Indicator {
    /// What one update consumes (a value or a bar).
    type Input;
    /// What the indicator produces once its lookback is over.
    type Output: Copy;

    /// Feeds the next input; `None` while the lookback lasts, then the new output.
    fn update(&mut self, input: Self::Input) -> Option<Self::Output>;
    /// The last output, `None` during the lookback.
    fn value(&self) -> Option<Self::Output>;
    /// Forgets every input, as if newly built with the same parameters.
    fn reset(&mut self);
    /// How many updates return `None` before the first output (TA-Lib's lookback).
    fn lookback(&self) -> usize;
}

/// TA-Lib accepts periods up to this value; larger ones are refused (and would only allocate).
pub const MAX_PERIOD: usize = 100_000;

/// Checks `value` against TA-Lib's bounds for an integer parameter.
fn check_period(
    indicator: &'static str,
    param: &'static str,
    value: usize,
    min: usize,
) -> Result<usize, IndicatorError> {
    if (min..=MAX_PERIOD).contains(&value) {
        Ok(value)
    } else {
        Err(IndicatorError::PeriodOutOfRange {
            indicator,
            param,
            value,
            min,
            max: MAX_PERIOD,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs any indicator through the trait, as generic strategy code would.
    fn run<I: Indicator>(ind: &mut I, inputs: impl IntoIterator<Item = I::Input>) -> usize {
        inputs.into_iter().filter_map(|x| ind.update(x)).count()
    }

    #[test]
    fn the_trait_drives_every_indicator_with_its_lookback() {
        let closes: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i % 7)).collect();
        let bars: Vec<Ohlcv> = closes
            .iter()
            .map(|&c| Ohlcv {
                open_time_ms: 0,
                open: c,
                high: c + 1.0,
                low: c - 1.0,
                close: c,
                volume: 1.0,
            })
            .collect();
        let mut sma = Sma::new(5).unwrap();
        let mut macd = Macd::new(3, 6, 4).unwrap();
        let mut atr = Atr::new(14).unwrap();
        let mut tr = TrueRange::new();
        assert_eq!(run(&mut sma, closes.clone()), 40 - 4);
        assert_eq!(run(&mut macd, closes.clone()), 40 - 8);
        assert_eq!(run(&mut atr, bars.clone()), 40 - 14);
        assert_eq!(run(&mut tr, bars.clone()), 40 - 1);
        assert_eq!(
            [
                Indicator::lookback(&sma),
                Indicator::lookback(&macd),
                Indicator::lookback(&atr),
                Indicator::lookback(&tr),
            ],
            [4, 8, 14, 1]
        );
        assert!(Indicator::value(&macd).is_some());
        Indicator::reset(&mut atr);
        assert_eq!(atr.value(), None);
    }
}
