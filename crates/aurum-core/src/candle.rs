//! Candles (OHLCV bars) and timeframes.

use crate::money::{Price, Quantity};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One OHLCV bar. `open_time_ms` is the UTC start of the bar in ms since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    /// Start of the bar, ms since the Unix epoch (UTC).
    pub open_time_ms: i64,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Traded base volume.
    pub volume: Quantity,
}

/// A candle that breaks the OHLCV rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandleError {
    /// `high < low`.
    #[error("high {high} < low {low}")]
    HighBelowLow {
        /// The high.
        high: Price,
        /// The low.
        low: Price,
    },
    /// `open` or `close` outside `[low, high]`.
    #[error("{field} {value} outside [low {low}, high {high}]")]
    OutsideRange {
        /// `open` or `close`.
        field: &'static str,
        /// Its value.
        value: Price,
        /// The low.
        low: Price,
        /// The high.
        high: Price,
    },
    /// A negative price.
    #[error("{field} {value} is negative")]
    NegativePrice {
        /// Which price.
        field: &'static str,
        /// Its value.
        value: Price,
    },
    /// Negative volume.
    #[error("volume {0} is negative")]
    NegativeVolume(Quantity),
}

impl Candle {
    /// Checks the OHLCV rules: prices and volume not negative, `low <= open, close <= high`.
    pub fn validate(&self) -> Result<(), CandleError> {
        for (field, value) in [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
        ] {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(CandleError::NegativePrice { field, value });
            }
        }
        if self.high < self.low {
            return Err(CandleError::HighBelowLow {
                high: self.high,
                low: self.low,
            });
        }
        for (field, value) in [("open", self.open), ("close", self.close)] {
            if value < self.low || value > self.high {
                return Err(CandleError::OutsideRange {
                    field,
                    value,
                    low: self.low,
                    high: self.high,
                });
            }
        }
        if self.volume.is_sign_negative() && !self.volume.is_zero() {
            return Err(CandleError::NegativeVolume(self.volume));
        }
        Ok(())
    }
}

/// A bar length, as Binance names them (`1m` ... `1w`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Timeframe {
    /// 1 minute.
    M1,
    /// 3 minutes.
    M3,
    /// 5 minutes.
    M5,
    /// 15 minutes.
    M15,
    /// 30 minutes.
    M30,
    /// 1 hour.
    H1,
    /// 2 hours.
    H2,
    /// 4 hours.
    H4,
    /// 6 hours.
    H6,
    /// 8 hours.
    H8,
    /// 12 hours.
    H12,
    /// 1 day.
    D1,
    /// 3 days.
    D3,
    /// 1 week.
    W1,
}

const TIMEFRAMES: [(Timeframe, &str, i64); 14] = [
    (Timeframe::M1, "1m", 60_000),
    (Timeframe::M3, "3m", 180_000),
    (Timeframe::M5, "5m", 300_000),
    (Timeframe::M15, "15m", 900_000),
    (Timeframe::M30, "30m", 1_800_000),
    (Timeframe::H1, "1h", 3_600_000),
    (Timeframe::H2, "2h", 7_200_000),
    (Timeframe::H4, "4h", 14_400_000),
    (Timeframe::H6, "6h", 21_600_000),
    (Timeframe::H8, "8h", 28_800_000),
    (Timeframe::H12, "12h", 43_200_000),
    (Timeframe::D1, "1d", 86_400_000),
    (Timeframe::D3, "3d", 259_200_000),
    (Timeframe::W1, "1w", 604_800_000),
];

impl Timeframe {
    /// The bar length in milliseconds.
    pub fn millis(self) -> i64 {
        TIMEFRAMES
            .iter()
            .find(|t| t.0 == self)
            .map(|t| t.2)
            .unwrap_or(0)
    }

    /// Binance's name for it (`5m`, `1d`).
    pub fn as_str(self) -> &'static str {
        TIMEFRAMES
            .iter()
            .find(|t| t.0 == self)
            .map(|t| t.1)
            .unwrap_or("?")
    }

    /// The timeframe whose bars are `ms` long, if any.
    pub fn from_millis(ms: i64) -> Option<Timeframe> {
        TIMEFRAMES.iter().find(|t| t.2 == ms).map(|t| t.0)
    }

    /// Bars per 365-day year (for annualising per-bar statistics).
    pub fn bars_per_year(self) -> f64 {
        365.0 * 86_400_000.0 / self.millis() as f64
    }
}

/// A timeframe name that is not one of `1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timeframe {0:?}; expected one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w")]
pub struct UnknownTimeframe(pub String);

impl FromStr for Timeframe {
    type Err = UnknownTimeframe;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        TIMEFRAMES
            .iter()
            .find(|x| x.1 == t || (x.1 == "1w" && t == "1W"))
            .map(|x| x.0)
            .ok_or_else(|| UnknownTimeframe(s.to_string()))
    }
}

impl TryFrom<String> for Timeframe {
    type Error = UnknownTimeframe;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Timeframe> for String {
    fn from(t: Timeframe) -> String {
        t.as_str().to_string()
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn candle(
        o: rust_decimal::Decimal,
        h: rust_decimal::Decimal,
        l: rust_decimal::Decimal,
        c: rust_decimal::Decimal,
    ) -> Candle {
        Candle {
            open_time_ms: 0,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: dec!(1),
        }
    }

    #[test]
    fn validates_ohlcv_rules() {
        assert!(
            candle(dec!(10), dec!(12), dec!(9), dec!(11))
                .validate()
                .is_ok()
        );
        assert_eq!(
            candle(dec!(10), dec!(8), dec!(9), dec!(9))
                .validate()
                .unwrap_err()
                .to_string(),
            "high 8 < low 9"
        );
        assert_eq!(
            candle(dec!(13), dec!(12), dec!(9), dec!(11))
                .validate()
                .unwrap_err()
                .to_string(),
            "open 13 outside [low 9, high 12]"
        );
        let mut c = candle(dec!(10), dec!(12), dec!(9), dec!(11));
        c.volume = dec!(-1);
        assert_eq!(
            c.validate().unwrap_err(),
            CandleError::NegativeVolume(dec!(-1))
        );
    }

    #[test]
    fn timeframes_round_trip() {
        for (tf, name, ms) in TIMEFRAMES {
            assert_eq!(name.parse::<Timeframe>().unwrap(), tf);
            assert_eq!(tf.millis(), ms);
            assert_eq!(Timeframe::from_millis(ms), Some(tf));
        }
        assert!("7m".parse::<Timeframe>().is_err());
        assert_eq!(Timeframe::D1.bars_per_year(), 365.0);
    }
}
