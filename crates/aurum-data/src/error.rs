//! The error every loader returns, naming the file and the place in it.

use aurum_core::candle::CandleError;
use std::fmt;

/// A place inside a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// A 1-based line of a text file (CSV).
    Line(usize),
    /// A 0-based element index (of a JSON array, or of an in-memory slice).
    Element(usize),
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Line(n) => write!(f, "line {n}"),
            Loc::Element(i) => write!(f, "element {i}"),
        }
    }
}

/// A source (usually a file path) and a place in it; displayed `data/x.csv:17` for a line and
/// `data/x.json: element 3` for an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The file path or the name given to in-memory data.
    pub origin: String,
    /// The place in it.
    pub loc: Loc,
}

impl At {
    /// Builds a place.
    pub fn new(origin: &str, loc: Loc) -> At {
        At {
            origin: origin.to_string(),
            loc,
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.loc {
            Loc::Line(n) => write!(f, "{}:{n}", self.origin),
            Loc::Element(i) => write!(f, "{}: element {i}", self.origin),
        }
    }
}

/// What is wrong with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    /// Not a decimal number at all.
    NotANumber,
    /// A timestamp that is not a whole number.
    NotAnInteger,
    /// A timestamp before 1970 (negative).
    Negative,
    /// A number too large for its type.
    OutOfRange,
    /// A microsecond timestamp that is not a whole number of milliseconds.
    SubMillisecond,
    /// A microsecond timestamp in a file whose first row is in milliseconds.
    MicrosInMillisFile,
    /// A millisecond timestamp in a file whose first row is in microseconds.
    MillisInMicrosFile,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldProblem::NotANumber => "not a number",
            FieldProblem::NotAnInteger => "not a whole number",
            FieldProblem::Negative => "negative timestamp",
            FieldProblem::OutOfRange => "number out of range",
            FieldProblem::SubMillisecond => {
                "microsecond timestamp is not a whole number of milliseconds"
            }
            FieldProblem::MicrosInMillisFile => {
                "microsecond timestamp in a file whose first row is in milliseconds"
            }
            FieldProblem::MillisInMicrosFile => {
                "millisecond timestamp in a file whose first row is in microseconds"
            }
        })
    }
}

/// The formats `load` understands, for error messages.
pub const FORMATS_HELP: &str = "aurum CSV (header `open_time_ms,open,high,low,close,volume`), \
    Binance klines CSV (12 numeric columns, no header, data.binance.vision), \
    freqtrade JSON (`.json`: [[ts_ms, open, high, low, close, volume], ...])";

/// Everything that can be wrong with a market-data file. The message always names the file and,
/// where there is one, the 1-based line (CSV) or 0-based element (JSON).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No candles at all (empty file, header only, `[]`).
    #[error("{origin}: empty file: no candles")]
    Empty {
        /// The file.
        origin: String,
    },
    /// The format could not be recognised.
    #[error("{origin}: unknown data format: {reason}; expected one of: {FORMATS_HELP}")]
    UnknownFormat {
        /// The file.
        origin: String,
        /// What was seen.
        reason: String,
    },
    /// The aurum CSV header is not the expected one.
    #[error("{at}: bad header {found:?}: expected \"{expected}\"")]
    BadHeader {
        /// Where.
        at: At,
        /// The header line found.
        found: String,
        /// The header expected.
        expected: &'static str,
    },
    /// A row with the wrong number of columns.
    #[error("{at}: expected {expected} columns, found {found}")]
    ColumnCount {
        /// Where.
        at: At,
        /// Columns the format has.
        expected: usize,
        /// Columns the row has.
        found: usize,
    },
    /// A field that cannot be read.
    #[error("{at}: column \"{column}\": {problem}: \"{text}\"")]
    BadField {
        /// Where.
        at: At,
        /// The column's name.
        column: &'static str,
        /// What is wrong.
        problem: FieldProblem,
        /// The field as written (lossily decoded, cut to 40 characters).
        text: String,
    },
    /// A timestamp earlier than the previous row's.
    #[error("{at}: timestamp {ts} is not after the previous row's {prev_ts} ({prev})")]
    Unsorted {
        /// Where.
        at: At,
        /// This row's timestamp (ms).
        ts: i64,
        /// The previous row's timestamp (ms).
        prev_ts: i64,
        /// The previous row.
        prev: Loc,
    },
    /// A timestamp equal to the previous row's.
    #[error("{at}: duplicate timestamp {ts} (also on {prev})")]
    Duplicate {
        /// Where.
        at: At,
        /// The timestamp (ms).
        ts: i64,
        /// The previous row, with the same timestamp.
        prev: Loc,
    },
    /// A candle that breaks the OHLCV rules (high < low, open/close outside, negatives).
    #[error("{at}: {source}")]
    Candle {
        /// Where.
        at: At,
        /// The rule broken.
        #[source]
        source: CandleError,
    },
    /// The step from the previous row is not a whole number of bars of the timeframe.
    #[error(
        "{at}: timestamp {ts} is {step_ms} ms after the previous row's ({prev}), \
         not a whole number of {timeframe} bars"
    )]
    OffGrid {
        /// Where.
        at: At,
        /// This row's timestamp (ms).
        ts: i64,
        /// Distance to the previous row (ms).
        step_ms: i64,
        /// The previous row.
        prev: Loc,
        /// The timeframe in use.
        timeframe: aurum_core::Timeframe,
    },
    /// The most common step between rows is no known timeframe.
    #[error(
        "{origin}: cannot infer the timeframe: the most common step between rows is {step_ms} ms, \
         which is none of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w"
    )]
    UnknownStep {
        /// The file.
        origin: String,
        /// The most common step (ms).
        step_ms: i64,
    },
    /// The JSON text itself is malformed.
    #[error("{origin}: invalid JSON: {message}")]
    Json {
        /// The file.
        origin: String,
        /// serde_json's message (with line and column).
        message: String,
    },
    /// A JSON element that is not an array of numbers.
    #[error(
        "{at}: expected an array [open_time_ms, open, high, low, close, volume], found {found}"
    )]
    NotARow {
        /// Where.
        at: At,
        /// The element (cut to 40 characters).
        found: String,
    },
}

/// Shows at most 40 characters of a field, lossily decoded, for error messages.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}
