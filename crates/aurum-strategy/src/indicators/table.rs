//! The reference indicator table behind `aurum indicators`.

use super::{Atr, Bollinger, Ema, Macd, Ohlcv, Rsi, Sma, TrueRange};
use aurum_core::Candle;
use std::io::{self, BufWriter, Write};

/// The header [`write_indicator_csv`] writes, the same columns as the TA-Lib reference file.
pub const INDICATOR_CSV_HEADER: &str = "open_time_ms,sma20,ema20,rsi14,macd,macd_signal,macd_hist,bb_upper,bb_middle,bb_lower,atr14,trange";

/// One row of the table: the indicators after the candle at `open_time_ms` closed, `None`
/// during each one's lookback. All on the close except ATR and TRANGE (high, low, close).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorRow {
    /// The candle's open time, ms since the Unix epoch (UTC).
    pub open_time_ms: i64,
    /// `SMA(20)`.
    pub sma20: Option<f64>,
    /// `EMA(20)`.
    pub ema20: Option<f64>,
    /// `RSI(14)`.
    pub rsi14: Option<f64>,
    /// `MACD(12, 26, 9)` line.
    pub macd: Option<f64>,
    /// `MACD(12, 26, 9)` signal line.
    pub macd_signal: Option<f64>,
    /// `MACD(12, 26, 9)` histogram.
    pub macd_hist: Option<f64>,
    /// `BBANDS(20, 2, 2)` upper band.
    pub bb_upper: Option<f64>,
    /// `BBANDS(20, 2, 2)` middle band.
    pub bb_middle: Option<f64>,
    /// `BBANDS(20, 2, 2)` lower band.
    pub bb_lower: Option<f64>,
    /// `ATR(14)`.
    pub atr14: Option<f64>,
    /// `TRANGE`.
    pub trange: Option<f64>,
}

impl IndicatorRow {
    /// The cells after `open_time_ms`, in [`INDICATOR_CSV_HEADER`] order.
    pub fn cells(&self) -> [Option<f64>; 11] {
        [
            self.sma20,
            self.ema20,
            self.rsi14,
            self.macd,
            self.macd_signal,
            self.macd_hist,
            self.bb_upper,
            self.bb_middle,
            self.bb_lower,
            self.atr14,
            self.trange,
        ]
    }
}

/// Computes the reference table over `candles`, in their order, one row per candle.
pub fn indicator_table(candles: &[Candle]) -> Vec<IndicatorRow> {
    // Constant, TA-Lib-valid parameters: the unchecked constructors cannot fail here.
    let mut sma = Sma::with_period(20);
    let mut ema = Ema::with_period(20);
    let mut rsi = Rsi::with_period(14);
    let mut macd = Macd::with_periods(12, 26, 9);
    let mut bands = Bollinger::with_params(20, 2.0, 2.0);
    let mut atr = Atr::with_period(14);
    let mut trange = TrueRange::new();
    candles
        .iter()
        .map(|candle| {
            let bar = Ohlcv::from_candle(candle);
            let m = macd.update(bar.close);
            let b = bands.update(bar.close);
            IndicatorRow {
                open_time_ms: bar.open_time_ms,
                sma20: sma.update(bar.close),
                ema20: ema.update(bar.close),
                rsi14: rsi.update(bar.close),
                macd: m.map(|m| m.macd),
                macd_signal: m.map(|m| m.signal),
                macd_hist: m.map(|m| m.hist),
                bb_upper: b.map(|b| b.upper),
                bb_middle: b.map(|b| b.middle),
                bb_lower: b.map(|b| b.lower),
                atr14: atr.update(bar.high, bar.low, bar.close),
                trange: trange.update(bar.high, bar.low, bar.close),
            }
        })
        .collect()
}

/// Writes `rows` as CSV: [`INDICATOR_CSV_HEADER`], then one line per row with an empty cell
/// for `None`. Floats use Rust's shortest round-trip form, so reading a cell back gives the
/// exact `f64`.
pub fn write_indicator_csv(rows: &[IndicatorRow], out: impl Write) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    writeln!(out, "{INDICATOR_CSV_HEADER}")?;
    for row in rows {
        write!(out, "{}", row.open_time_ms)?;
        for cell in row.cells() {
            match cell {
                Some(v) => write!(out, ",{v}")?,
                None => out.write_all(b",")?,
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn candle(t: i64, close: aurum_core::Decimal) -> Candle {
        Candle {
            open_time_ms: t,
            open: close,
            high: close + dec!(1),
            low: close - dec!(1),
            close,
            volume: dec!(1),
        }
    }

    #[test]
    fn writes_header_empty_lookback_cells_and_round_trip_floats() {
        let candles = [candle(1000, dec!(10)), candle(2000, dec!(10.5))];
        let rows = indicator_table(&candles);
        let mut buf = Vec::new();
        write_indicator_csv(&rows, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        // Bar 2: true range = max(11.5 - 9.5, |10 - 11.5|, |10 - 9.5|) = 2.
        assert_eq!(
            text,
            format!("{INDICATOR_CSV_HEADER}\n1000,,,,,,,,,,,\n2000,,,,,,,,,,,2\n")
        );

        let row = IndicatorRow {
            sma20: Some(0.1 + 0.2),
            ..rows[0]
        };
        let mut buf = Vec::new();
        write_indicator_csv(&[row], &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let cell = text.lines().nth(1).unwrap().split(',').nth(1).unwrap();
        assert_eq!(cell, "0.30000000000000004");
        assert_eq!(cell.parse::<f64>().unwrap(), 0.1 + 0.2);
    }

    #[test]
    fn empty_input_gives_an_empty_table() {
        assert!(indicator_table(&[]).is_empty());
        let mut buf = Vec::new();
        write_indicator_csv(&[], &mut buf).unwrap();
        assert_eq!(buf, format!("{INDICATOR_CSV_HEADER}\n").into_bytes());
    }
}
