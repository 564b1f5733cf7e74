//! The checks every series passes: OHLCV rules per candle (from core) and strictly increasing
//! timestamps across candles.

use crate::error::{At, DataError, Loc};
use aurum_core::Candle;

/// Candles read from a source, with where each came from (for errors found after parsing).
#[derive(Debug, Default)]
pub(crate) struct Rows {
    /// The candles, validated and strictly increasing in time.
    pub candles: Vec<Candle>,
    /// The 1-based line of each candle; empty when the source is element-indexed (JSON).
    pub lines: Vec<usize>,
}

impl Rows {
    /// Where candle `i` came from.
    pub(crate) fn loc(&self, i: usize) -> Loc {
        match self.lines.get(i) {
            Some(&line) => Loc::Line(line),
            None => Loc::Element(i),
        }
    }
}

/// Checks candles one by one as a parser produces them.
pub(crate) struct Sequencer<'o> {
    origin: &'o str,
    prev: Option<(i64, Loc)>,
}

impl<'o> Sequencer<'o> {
    /// A checker for the source named `origin`.
    pub(crate) fn new(origin: &'o str) -> Self {
        Sequencer { origin, prev: None }
    }

    /// Checks one candle against the OHLCV rules and against the previous one.
    pub(crate) fn check(&mut self, candle: &Candle, loc: Loc) -> Result<(), DataError> {
        let ts = candle.open_time_ms;
        if let Some((prev_ts, prev)) = self.prev {
            if ts == prev_ts {
                return Err(DataError::Duplicate {
                    at: At::new(self.origin, loc),
                    ts,
                    prev,
                });
            }
            if ts < prev_ts {
                return Err(DataError::Unsorted {
                    at: At::new(self.origin, loc),
                    ts,
                    prev_ts,
                    prev,
                });
            }
        }
        candle.validate().map_err(|source| DataError::Candle {
            at: At::new(self.origin, loc),
            source,
        })?;
        self.prev = Some((ts, loc));
        Ok(())
    }
}

/// Checks an in-memory series as the loaders check files: every candle passes
/// [`Candle::validate`], timestamps are non-negative and strictly increasing. Errors name
/// `origin` and the 0-based index as `element`.
pub fn validate_series(candles: &[Candle], origin: &str) -> Result<(), DataError> {
    let mut seq = Sequencer::new(origin);
    for (i, c) in candles.iter().enumerate() {
        if c.open_time_ms < 0 {
            return Err(DataError::BadField {
                at: At::new(origin, Loc::Element(i)),
                column: "open_time_ms",
                problem: crate::error::FieldProblem::Negative,
                text: c.open_time_ms.to_string(),
            });
        }
        seq.check(c, Loc::Element(i))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn c(ts: i64) -> Candle {
        Candle {
            open_time_ms: ts,
            open: dec!(1),
            high: dec!(2),
            low: dec!(1),
            close: dec!(2),
            volume: dec!(3),
        }
    }

    #[test]
    fn series_checks_order_and_rules() {
        assert!(validate_series(&[c(0), c(60_000)], "mem").is_ok());
        assert_eq!(
            validate_series(&[c(60_000), c(0)], "mem")
                .unwrap_err()
                .to_string(),
            "mem: element 1: timestamp 0 is not after the previous row's 60000 (element 0)"
        );
        assert_eq!(
            validate_series(&[c(5), c(5)], "mem")
                .unwrap_err()
                .to_string(),
            "mem: element 1: duplicate timestamp 5 (also on element 0)"
        );
        let mut bad = c(10);
        bad.low = dec!(3);
        assert_eq!(
            validate_series(&[c(5), bad], "mem")
                .unwrap_err()
                .to_string(),
            "mem: element 1: high 2 < low 3"
        );
        assert_eq!(
            validate_series(&[c(-1)], "mem").unwrap_err().to_string(),
            "mem: element 0: column \"open_time_ms\": negative timestamp: \"-1\""
        );
    }
}
