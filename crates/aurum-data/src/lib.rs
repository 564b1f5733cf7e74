//! # aurum-data
//!
//! Market data for aurum, from files only (no network, no database):
//!
//! - [`load`] reads a candle file, detecting its [`Format`] — aurum's CSV, Binance klines CSV
//!   (ms or µs timestamps) or freqtrade JSON — and validates it: every error names the file and
//!   the line (or JSON element). Parsers also work on bytes ([`parse_bytes`], and
//!   [`aurum_csv::parse`], [`binance::parse`], [`freqtrade::parse`]) and never panic.
//! - [`gaps`]: the timeframe (given or inferred), missing candles, freqtrade-style gap filling.
//! - [`align`](align()): several pairs on one time axis, by index.
//! - [`write_csv`]: aurum's CSV, decimals exactly as stored (a lossless round trip).
//! - [`synth`](synth()): deterministic, platform-independent synthetic candles with bull, bear
//!   and sideways phases.
//!
//! Every price and volume is an exact [`Decimal`](aurum_core::Decimal): numbers are read from
//! their text, never through `f64`.
//!
//! ```
//! use aurum_data::{LoadOptions, detect_gaps, fill_gaps, parse_bytes};
//!
//! let csv = "open_time_ms,open,high,low,close,volume\n\
//!            0,100.0,101.5,99.0,101.0,12.5\n\
//!            60000,101.0,102.0,100.5,101.5,8\n\
//!            180000,101.5,101.5,100.0,100.0,3\n";
//! let loaded = parse_bytes(csv.as_bytes(), "example.csv", &LoadOptions::default())?;
//! let timeframe = loaded.timeframe.map(|t| t.timeframe()).ok_or("one row only")?;
//! assert_eq!(timeframe.as_str(), "1m"); // inferred: the most common step
//! assert_eq!(detect_gaps(&loaded.candles, timeframe).missing, 1);
//! let filled = fill_gaps(&loaded.candles, timeframe)?;
//! assert_eq!(filled[2].close.to_string(), "101.5"); // the previous close, volume 0
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod align;
pub mod aurum_csv;
pub mod binance;
pub mod error;
pub mod format;
pub mod freqtrade;
pub mod gaps;
mod lines;
pub mod load;
mod number;
pub mod synth;
mod validate;
pub mod write;

pub use align::{Aligned, NotIncreasing, align};
pub use error::{At, DataError, FieldProblem, Loc};
pub use format::{Format, detect};
pub use gaps::{
    GapRange, GapReport, TooManyCandles, detect_gaps, fill_gaps, infer_timeframe, most_common_step,
};
pub use load::{LoadOptions, Loaded, TimeframeChoice, load, parse_bytes};
pub use synth::{InvalidSpec, Regime, SynthSeries, SynthSpec, synth, synth_series};
pub use validate::validate_series;
pub use write::write_csv;
