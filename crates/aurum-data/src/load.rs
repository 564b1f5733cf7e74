//! `load`: read a file, detect its format, parse, validate and settle the timeframe.

use crate::error::{At, DataError};
use crate::format::{Format, detect};
use crate::gaps::most_common_step;
use crate::validate::Rows;
use crate::{aurum_csv, binance, freqtrade};
use aurum_core::{Candle, Timeframe};
use std::path::Path;

/// How to load a file. The default detects the format and infers the timeframe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// The timeframe of the data; inferred from the most common step when `None`.
    pub timeframe: Option<Timeframe>,
}

/// Where the timeframe of a loaded series came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeframeChoice {
    /// Given by the caller in [`LoadOptions::timeframe`].
    Given(Timeframe),
    /// Inferred: the most common step between rows.
    Inferred(Timeframe),
}

impl TimeframeChoice {
    /// The timeframe, wherever it came from.
    pub fn timeframe(self) -> Timeframe {
        match self {
            TimeframeChoice::Given(t) | TimeframeChoice::Inferred(t) => t,
        }
    }
}

/// A loaded, validated series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The candles: each valid, timestamps in ms, strictly increasing, every step a whole
    /// number of bars of `timeframe`.
    pub candles: Vec<Candle>,
    /// The format the file was read as.
    pub format: Format,
    /// The timeframe used; `None` only when none was given and the file has a single candle.
    pub timeframe: Option<TimeframeChoice>,
}

/// Loads and validates a candle file (aurum CSV, Binance klines CSV or freqtrade JSON).
/// Errors name the file and the line or element.
pub fn load(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Loaded, DataError> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: origin.clone(),
        source,
    })?;
    parse_bytes(&bytes, &origin, opts)
}

/// [`load`] on bytes already in memory; `origin` is the name used in errors and, through its
/// extension, in format detection.
pub fn parse_bytes(bytes: &[u8], origin: &str, opts: &LoadOptions) -> Result<Loaded, DataError> {
    let format = match opts.format {
        Some(f) => f,
        None => detect(bytes, origin)?,
    };
    let rows = match format {
        Format::AurumCsv => aurum_csv::parse_rows(bytes, origin)?,
        Format::BinanceCsv => binance::parse_rows(bytes, origin)?,
        Format::FreqtradeJson => freqtrade::parse_rows(bytes, origin)?,
    };
    let timeframe = match opts.timeframe {
        Some(t) => Some(TimeframeChoice::Given(t)),
        None => match most_common_step(&rows.candles) {
            None => None,
            Some(step) => Some(TimeframeChoice::Inferred(
                Timeframe::from_millis(step).ok_or_else(|| DataError::UnknownStep {
                    origin: origin.to_string(),
                    step_ms: step,
                })?,
            )),
        },
    };
    if let Some(t) = timeframe {
        check_grid(&rows, t.timeframe(), origin)?;
    }
    Ok(Loaded {
        candles: rows.candles,
        format,
        timeframe,
    })
}

/// Every step between rows must be a whole number of bars, or gaps cannot be counted.
fn check_grid(rows: &Rows, timeframe: Timeframe, origin: &str) -> Result<(), DataError> {
    let tf = timeframe.millis();
    for (i, pair) in rows.candles.windows(2).enumerate() {
        // Timestamps are non-negative and increasing (checked by the parsers): no overflow.
        let step = pair[1].open_time_ms - pair[0].open_time_ms;
        if tf <= 0 || step % tf != 0 {
            return Err(DataError::OffGrid {
                at: At::new(origin, rows.loc(i + 1)),
                ts: pair[1].open_time_ms,
                step_ms: step,
                prev: rows.loc(i),
                timeframe,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = aurum_csv::HEADER;

    #[test]
    fn infers_or_takes_the_timeframe() {
        let text = format!("{H}\n0,1,1,1,1,1\n60000,1,1,1,1,1\n180000,1,1,1,1,1\n");
        let l = parse_bytes(text.as_bytes(), "a.csv", &LoadOptions::default()).unwrap();
        assert_eq!(l.format, Format::AurumCsv);
        assert_eq!(l.timeframe, Some(TimeframeChoice::Inferred(Timeframe::M1)));
        let given = LoadOptions {
            timeframe: Some(Timeframe::M1),
            ..Default::default()
        };
        let l = parse_bytes(text.as_bytes(), "a.csv", &given).unwrap();
        assert_eq!(l.timeframe, Some(TimeframeChoice::Given(Timeframe::M1)));

        let one = format!("{H}\n0,1,1,1,1,1\n");
        let l = parse_bytes(one.as_bytes(), "a.csv", &LoadOptions::default()).unwrap();
        assert_eq!((l.candles.len(), l.timeframe), (1, None));
    }

    #[test]
    fn refuses_steps_off_the_grid() {
        let text = format!("{H}\n0,1,1,1,1,1\n60000,1,1,1,1,1\n150000,1,1,1,1,1\n");
        assert_eq!(
            parse_bytes(text.as_bytes(), "a.csv", &LoadOptions::default())
                .unwrap_err()
                .to_string(),
            "a.csv:4: timestamp 150000 is 90000 ms after the previous row's (line 3), not a \
             whole number of 1m bars"
        );
        let five = LoadOptions {
            timeframe: Some(Timeframe::M5),
            ..Default::default()
        };
        assert!(parse_bytes(text.as_bytes(), "a.csv", &five).is_err());
        let odd = format!("{H}\n0,1,1,1,1,1\n70000,1,1,1,1,1\n");
        assert_eq!(
            parse_bytes(odd.as_bytes(), "a.csv", &LoadOptions::default())
                .unwrap_err()
                .to_string(),
            "a.csv: cannot infer the timeframe: the most common step between rows is 70000 ms, \
             which is none of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w"
        );
    }

    #[test]
    fn a_forced_format_is_used() {
        let json = "[[0,1,1,1,1,1]]";
        let opts = LoadOptions {
            format: Some(Format::FreqtradeJson),
            ..Default::default()
        };
        assert_eq!(
            parse_bytes(json.as_bytes(), "data.txt", &opts)
                .unwrap()
                .format,
            Format::FreqtradeJson
        );
        let err = load("/nonexistent/x.csv", &LoadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/x.csv: cannot read: "),
            "{err}"
        );
    }
}
