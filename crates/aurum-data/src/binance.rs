//! Binance klines CSV, as published on data.binance.vision: 12 columns, no header
//! (`open_time, open, high, low, close, volume, close_time, quote_volume, trades,
//! taker_buy_base, taker_buy_quote, ignore`). Spot files since 2025-01-01 have timestamps in
//! microseconds; the unit is detected per file from the first row and converted to ms exactly.
//! A header line starting with `open_time,` (as in Binance's futures files) is skipped.

use crate::error::{At, DataError, FieldProblem, Loc, snippet};
use crate::lines::{Lines, fields};
use crate::number;
use crate::validate::{Rows, Sequencer};
use aurum_core::Candle;

/// Column names, in order.
pub(crate) const COLUMNS: [&str; 12] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base",
    "taker_buy_quote",
    "ignore",
];

/// From this value on, an `open_time` is read as microseconds (10^14 µs is 1973; 10^14 ms is
/// the year 5138).
pub const MICROS_THRESHOLD: i64 = 100_000_000_000_000;

/// Parses and validates a Binance klines CSV held in memory. `origin` names it in errors.
/// Only the OHLCV columns are read; the other six are counted but not parsed.
pub fn parse(bytes: &[u8], origin: &str) -> Result<Vec<Candle>, DataError> {
    parse_rows(bytes, origin).map(|rows| rows.candles)
}

pub(crate) fn parse_rows(bytes: &[u8], origin: &str) -> Result<Rows, DataError> {
    let mut lines = Lines::new(bytes).peekable();
    if let Some((_, first)) = lines.peek()
        && first.starts_with(b"open_time,")
    {
        lines.next();
    }
    let guess = bytes.len() / 96;
    let mut rows = Rows {
        candles: Vec::with_capacity(guess),
        lines: Vec::with_capacity(guess),
    };
    let mut seq = Sequencer::new(origin);
    let mut micros: Option<bool> = None;
    for (line_no, line) in lines {
        let at = || At::new(origin, Loc::Line(line_no));
        let f = fields::<12>(line).map_err(|found| DataError::ColumnCount {
            at: at(),
            expected: 12,
            found,
        })?;
        let bad = |col: usize, problem: FieldProblem| DataError::BadField {
            at: at(),
            column: COLUMNS[col],
            problem,
            text: snippet(f[col]),
        };
        let raw = number::timestamp(f[0]).map_err(|p| bad(0, p))?;
        let is_micros = raw >= MICROS_THRESHOLD;
        match *micros.get_or_insert(is_micros) {
            true if !is_micros => return Err(bad(0, FieldProblem::MillisInMicrosFile)),
            false if is_micros => return Err(bad(0, FieldProblem::MicrosInMillisFile)),
            _ => {}
        }
        let open_time_ms = if is_micros {
            if raw % 1000 != 0 {
                return Err(bad(0, FieldProblem::SubMillisecond));
            }
            raw / 1000
        } else {
            raw
        };
        let dec =
            |col: usize| number::decimal(f[col]).ok_or_else(|| bad(col, FieldProblem::NotANumber));
        let candle = Candle {
            open_time_ms,
            open: dec(1)?,
            high: dec(2)?,
            low: dec(3)?,
            close: dec(4)?,
            volume: dec(5)?,
        };
        seq.check(&candle, Loc::Line(line_no))?;
        rows.candles.push(candle);
        rows.lines.push(line_no);
    }
    if rows.candles.is_empty() {
        return Err(DataError::Empty {
            origin: origin.to_string(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: &str = "1609459200000,28923.63000000,28961.66000000,28913.12000000,28961.66000000,27.45703200,1609459259999,794382.19788878,1292,16.77719700,485390.82895480,0\n\
                      1609459260000,28961.67000000,29017.50000000,28961.01000000,29009.91000000,58.47750100,1609459319999,1695802.88520238,1651,33.46578500,970656.03251420,0\n";
    const US: &str = "1735689600000000,93576.00000000,93610.93000000,93537.50000000,93610.93000000,8.21827000,1735689659999999,768978.50053640,1213,4.11164000,384810.20218120,0\n\
                      1735689660000000,93610.93000000,93652.00000000,93606.65000000,93622.34000000,9.73093000,1735689719999999,911113.10441320,1384,5.29117000,495429.77002180,0\n";

    #[test]
    fn reads_milliseconds_and_microseconds() {
        let ms = parse(MS.as_bytes(), "ms.csv").unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].open_time_ms, 1_609_459_200_000);
        assert_eq!(ms[1].close.to_string(), "29009.91000000");
        assert_eq!(ms[0].volume.to_string(), "27.45703200");

        let us = parse(US.as_bytes(), "us.csv").unwrap();
        assert_eq!(us[0].open_time_ms, 1_735_689_600_000);
        assert_eq!(us[1].open_time_ms, 1_735_689_660_000);
        assert_eq!(us[1].high.to_string(), "93652.00000000");
    }

    #[test]
    fn skips_a_futures_style_header() {
        let text = format!(
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\r\n{MS}"
        );
        assert_eq!(parse(text.as_bytes(), "f.csv").unwrap().len(), 2);
    }

    #[test]
    fn refuses_bad_units() {
        let sub = US.replace("1735689660000000,", "1735689660000500,");
        assert_eq!(
            parse(sub.as_bytes(), "us.csv").unwrap_err().to_string(),
            "us.csv:2: column \"open_time\": microsecond timestamp is not a whole number of \
             milliseconds: \"1735689660000500\""
        );
        let mixed = format!("{}{}", MS.lines().next().unwrap_or_default(), "\n")
            + US.lines().nth(1).unwrap_or_default();
        assert_eq!(
            parse(mixed.as_bytes(), "m.csv").unwrap_err().to_string(),
            "m.csv:2: column \"open_time\": microsecond timestamp in a file whose first row \
             is in milliseconds: \"1735689660000000\""
        );
        let short = "1609459200000,1,1,1,1,1,1609459259999,1,1,1,1\n";
        assert_eq!(
            parse(short.as_bytes(), "s.csv").unwrap_err().to_string(),
            "s.csv:1: expected 12 columns, found 11"
        );
        let nan = MS.replacen("28923.63000000", "x", 1);
        assert_eq!(
            parse(nan.as_bytes(), "n.csv").unwrap_err().to_string(),
            "n.csv:1: column \"open\": not a number: \"x\""
        );
    }
}
