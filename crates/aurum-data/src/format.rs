//! The file formats and their detection.

use crate::error::{DataError, snippet};
use crate::lines::{Lines, fields};
use crate::number;
use std::fmt;
use std::str::FromStr;

/// A candle file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// aurum's CSV: header `open_time_ms,open,high,low,close,volume`, ms timestamps.
    AurumCsv,
    /// Binance klines CSV (data.binance.vision): 12 columns, no header, ms or µs timestamps.
    BinanceCsv,
    /// freqtrade JSON: `[[ts_ms, open, high, low, close, volume], ...]`.
    FreqtradeJson,
}

impl Format {
    /// The short name used on the command line: `aurum-csv`, `binance-csv`, `freqtrade-json`.
    pub fn name(self) -> &'static str {
        match self {
            Format::AurumCsv => "aurum-csv",
            Format::BinanceCsv => "binance-csv",
            Format::FreqtradeJson => "freqtrade-json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not `aurum-csv`, `binance-csv` or `freqtrade-json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data format {0:?}; expected aurum-csv, binance-csv or freqtrade-json")]
pub struct UnknownFormatName(pub String);

impl FromStr for Format {
    type Err = UnknownFormatName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "aurum-csv" | "aurum" => Ok(Format::AurumCsv),
            "binance-csv" | "binance" => Ok(Format::BinanceCsv),
            "freqtrade-json" | "freqtrade" | "json" => Ok(Format::FreqtradeJson),
            _ => Err(UnknownFormatName(s.to_string())),
        }
    }
}

/// Detects the format of a file from its name (`origin`) and first line:
/// `.json` (or text starting with `[`) → freqtrade; first line starting with `open_time_ms` →
/// aurum CSV; 12 numeric fields (or a Binance header starting `open_time,`) → Binance.
/// Anything else is an error that lists the formats.
pub fn detect(bytes: &[u8], origin: &str) -> Result<Format, DataError> {
    let lower = origin.to_ascii_lowercase();
    if lower.ends_with(".json") {
        return Ok(Format::FreqtradeJson);
    }
    let unknown = |reason: String| DataError::UnknownFormat {
        origin: origin.to_string(),
        reason,
    };
    if [".gz", ".zip", ".bz2", ".xz", ".zst"]
        .iter()
        .any(|ext| lower.ends_with(ext))
    {
        return Err(unknown(
            "compressed files are not read; unpack it first".into(),
        ));
    }
    let Some((_, first)) = Lines::new(bytes).next() else {
        return Err(DataError::Empty {
            origin: origin.to_string(),
        });
    };
    let first = first.trim_ascii();
    if first.starts_with(b"[") {
        return Ok(Format::FreqtradeJson);
    }
    if first.starts_with(b"open_time_ms") {
        return Ok(Format::AurumCsv);
    }
    if first.starts_with(b"open_time,") {
        return Ok(Format::BinanceCsv);
    }
    let all_numeric = |f: &[&[u8]]| f.iter().all(|x| number::decimal(x).is_some());
    if fields::<12>(first).is_ok_and(|f| all_numeric(&f)) {
        return Ok(Format::BinanceCsv);
    }
    if fields::<6>(first).is_ok_and(|f| all_numeric(&f)) {
        return Err(unknown(
            "the first line is 6 numbers without a header; an aurum CSV must start with the \
             header line `open_time_ms,open,high,low,close,volume`"
                .into(),
        ));
    }
    Err(unknown(format!("the first line is {:?}", snippet(first))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_name_and_first_line() {
        let d = |bytes: &[u8], name: &str| detect(bytes, name);
        assert_eq!(d(b"garbage", "a.JSON").unwrap(), Format::FreqtradeJson);
        assert_eq!(d(b" [[1,2]]", "a.txt").unwrap(), Format::FreqtradeJson);
        assert_eq!(
            d(
                b"\xEF\xBB\xBFopen_time_ms,open,high,low,close,volume\r\n",
                "a.csv"
            )
            .unwrap(),
            Format::AurumCsv
        );
        assert_eq!(
            d(b"1,2,3,4,5,6,7,8,9,10,11,0\n", "a.csv").unwrap(),
            Format::BinanceCsv
        );
        assert_eq!(
            d(b"open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n", "a.csv").unwrap(),
            Format::BinanceCsv
        );
        assert_eq!(
            d(b"1,2,3,4,5,6\n", "a.csv").unwrap_err().to_string(),
            "a.csv: unknown data format: the first line is 6 numbers without a header; an aurum \
             CSV must start with the header line `open_time_ms,open,high,low,close,volume`; \
             expected one of: aurum CSV (header `open_time_ms,open,high,low,close,volume`), \
             Binance klines CSV (12 numeric columns, no header, data.binance.vision), freqtrade \
             JSON (`.json`: [[ts_ms, open, high, low, close, volume], ...])"
        );
        assert!(
            d(b"date,o,h,l,c,v\n", "a.csv")
                .unwrap_err()
                .to_string()
                .starts_with("a.csv: unknown data format: the first line is \"date,o,h,l,c,v\"; expected one of:")
        );
        assert!(
            d(b"x", "BTCUSDT-1m-2025-01.zip")
                .unwrap_err()
                .to_string()
                .contains("compressed files are not read")
        );
        assert_eq!(
            d(b"\n\r\n", "a.csv").unwrap_err().to_string(),
            "a.csv: empty file: no candles"
        );
    }

    #[test]
    fn names_round_trip() {
        for f in [Format::AurumCsv, Format::BinanceCsv, Format::FreqtradeJson] {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert!("parquet".parse::<Format>().is_err());
    }
}
