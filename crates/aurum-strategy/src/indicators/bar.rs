//! Float bars converted from exact candles.

use aurum_core::{Candle, Decimal};

/// One OHLCV bar in `f64`, the input of the bar-based indicators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ohlcv {
    /// Start of the bar, ms since the Unix epoch (UTC).
    pub open_time_ms: i64,
    /// First trade price.
    pub open: f64,
    /// Highest trade price.
    pub high: f64,
    /// Lowest trade price.
    pub low: f64,
    /// Last trade price.
    pub close: f64,
    /// Traded base volume.
    pub volume: f64,
}

impl Ohlcv {
    /// Converts a candle's decimals to the nearest `f64`s (see [`decimal_to_f64`]).
    pub fn from_candle(candle: &Candle) -> Ohlcv {
        Ohlcv {
            open_time_ms: candle.open_time_ms,
            open: decimal_to_f64(candle.open),
            high: decimal_to_f64(candle.high),
            low: decimal_to_f64(candle.low),
            close: decimal_to_f64(candle.close),
            volume: decimal_to_f64(candle.volume),
        }
    }
}

impl From<&Candle> for Ohlcv {
    fn from(candle: &Candle) -> Ohlcv {
        Ohlcv::from_candle(candle)
    }
}

impl From<Candle> for Ohlcv {
    fn from(candle: Candle) -> Ohlcv {
        Ohlcv::from_candle(&candle)
    }
}

/// Powers of ten that are exact in `f64` (10^22 is the largest).
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The `f64` nearest to `d` (round half to even), the same float a CSV reader gets from the
/// decimal text, so indicator inputs match those of other libraries bit for bit.
///
/// `rust_decimal`'s own `to_f64` is not correctly rounded. Here, a mantissa below 2^53 with a
/// scale up to 22 is divided by an exact power of ten (one correctly rounded operation: the
/// classic fast path); anything else goes through the decimal text and Rust's correctly
/// rounded float parser.
pub fn decimal_to_f64(d: Decimal) -> f64 {
    const EXACT_MANTISSA: u128 = 1 << 53;
    let mantissa = d.mantissa();
    let scale = d.scale() as usize;
    if mantissa.unsigned_abs() <= EXACT_MANTISSA && scale < EXACT_POW10.len() {
        return mantissa as f64 / EXACT_POW10[scale];
    }
    // A Decimal always prints as a valid float literal; the fallback only guards the contract.
    d.to_string()
        .parse::<f64>()
        .unwrap_or_else(|_| mantissa as f64 / 10f64.powi(scale as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use std::str::FromStr;

    fn parse(text: &str) -> f64 {
        decimal_to_f64(Decimal::from_str(text).unwrap())
    }

    #[test]
    fn matches_the_correctly_rounded_parse_of_the_text() {
        for text in [
            "0",
            "420.0",
            "0.0003038",
            "0.1",
            "-123.456",
            "9007199254740993",               // 2^53 + 1: needs rounding
            "0.30000000000000004441",         // more digits than a double holds
            "79228162514264337593543950335",  // Decimal::MAX
            "0.0000000000000000000000000001", // scale 28
            "6410.25717531",
            "19187.78",
            "1.7976931348623157",
        ] {
            assert_eq!(
                parse(text).to_bits(),
                text.parse::<f64>().unwrap().to_bits(),
                "{text}"
            );
        }
    }

    #[test]
    fn converts_every_field_of_a_candle() {
        let candle = Candle {
            open_time_ms: 1_449_878_400_000,
            open: dec!(420.0),
            high: dec!(450.5),
            low: dec!(419.99),
            close: dec!(0.1),
            volume: dec!(0.0003038),
        };
        let bar = Ohlcv::from(&candle);
        assert_eq!(
            bar,
            Ohlcv {
                open_time_ms: 1_449_878_400_000,
                open: 420.0,
                high: 450.5,
                low: 419.99,
                close: 0.1,
                volume: 0.0003038,
            }
        );
        assert_eq!(Ohlcv::from(candle), bar);
    }
}
