//! Timeframe inference, missing-candle detection and gap filling.
//!
//! All functions expect a series with strictly increasing timestamps (what the loaders return);
//! a non-increasing step is never counted as a gap.

use aurum_core::{Candle, Decimal, Timeframe};
use std::collections::HashMap;

/// The most common positive step (ms) between consecutive candles; on a tie the smaller step.
/// `None` when there are fewer than two candles or no positive step.
pub fn most_common_step(candles: &[Candle]) -> Option<i64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    // Regular data has long runs of the same step: count runs, touch the map once per run.
    let mut run: Option<(i64, usize)> = None;
    for pair in candles.windows(2) {
        let Some(step) = pair[1].open_time_ms.checked_sub(pair[0].open_time_ms) else {
            continue;
        };
        if step <= 0 {
            continue;
        }
        match run.as_mut() {
            Some((s, n)) if *s == step => *n += 1,
            _ => {
                if let Some((s, n)) = run.replace((step, 1)) {
                    *counts.entry(s).or_default() += n;
                }
            }
        }
    }
    if let Some((s, n)) = run {
        *counts.entry(s).or_default() += n;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(step, _)| step)
}

/// The timeframe whose bar length is the most common step, if that step is a known timeframe.
pub fn infer_timeframe(candles: &[Candle]) -> Option<Timeframe> {
    most_common_step(candles).and_then(Timeframe::from_millis)
}

/// A run of consecutive missing candles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapRange {
    /// Open time of the first missing candle (ms).
    pub from_ms: i64,
    /// Open time of the last missing candle (ms), inclusive.
    pub to_ms: i64,
    /// How many candles are missing: `(to_ms - from_ms) / timeframe + 1`.
    pub missing: usize,
}

/// The missing candles of a series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GapReport {
    /// Missing candles in total.
    pub missing: usize,
    /// Each run of missing candles, in time order.
    pub ranges: Vec<GapRange>,
    /// Steps between rows that are not a whole number of bars (0 for files `load` accepted).
    pub off_grid: usize,
}

impl GapReport {
    /// The longest run of missing candles, if any.
    pub fn longest(&self) -> Option<GapRange> {
        self.ranges.iter().copied().max_by_key(|r| r.missing)
    }
}

/// Finds the missing candles of a series, given its timeframe. A step that is not a whole
/// number of bars counts the bars that fit strictly inside it and adds one to `off_grid`.
pub fn detect_gaps(candles: &[Candle], timeframe: Timeframe) -> GapReport {
    let tf = timeframe.millis();
    let mut report = GapReport::default();
    if tf <= 0 {
        return report;
    }
    for pair in candles.windows(2) {
        let (prev, next) = (pair[0].open_time_ms, pair[1].open_time_ms);
        let step = i128::from(next) - i128::from(prev);
        if step <= 0 {
            continue;
        }
        let tf = i128::from(tf);
        if step % tf != 0 {
            report.off_grid += 1;
        }
        // Bars strictly between prev and next: open times prev + k·tf < next, k ≥ 1.
        let missing = (step - 1) / tf;
        if missing == 0 {
            continue;
        }
        let missing = usize::try_from(missing).unwrap_or(usize::MAX);
        let from = i128::from(prev) + tf;
        let to = from + tf * (i128::try_from(missing).unwrap_or(i128::MAX) - 1);
        report.missing = report.missing.saturating_add(missing);
        report.ranges.push(GapRange {
            from_ms: i64::try_from(from).unwrap_or(i64::MAX),
            to_ms: i64::try_from(to).unwrap_or(i64::MAX),
            missing,
        });
    }
    report
}

/// The most candles [`fill_gaps`] will produce (20 years of 1-minute bars, ~0.8 GB).
pub const MAX_FILLED: usize = 20 * 525_600;

/// Filling would produce more than [`MAX_FILLED`] candles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "filling the gaps would produce {candles} candles, more than the limit of {limit}; \
     is the timeframe right?"
)]
pub struct TooManyCandles {
    /// Candles the filled series would have.
    pub candles: usize,
    /// [`MAX_FILLED`].
    pub limit: usize,
}

/// Fills every missing candle with the previous close as open, high, low and close and a
/// volume of 0 (freqtrade's rule), so the result has one candle per bar from the first to the
/// last. Refuses to build more than [`MAX_FILLED`] candles.
pub fn fill_gaps(candles: &[Candle], timeframe: Timeframe) -> Result<Vec<Candle>, TooManyCandles> {
    let report = detect_gaps(candles, timeframe);
    let total = candles.len().saturating_add(report.missing);
    if total > MAX_FILLED {
        return Err(TooManyCandles {
            candles: total,
            limit: MAX_FILLED,
        });
    }
    let tf = timeframe.millis();
    let mut out = Vec::with_capacity(total);
    for (i, candle) in candles.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).and_then(|p| candles.get(p)) {
            let close = prev.close;
            // Bounded by MAX_FILLED above, and by `next` below, so this always ends.
            let mut ts = prev.open_time_ms.saturating_add(tf);
            while ts < candle.open_time_ms && tf > 0 {
                out.push(Candle {
                    open_time_ms: ts,
                    open: close,
                    high: close,
                    low: close,
                    close,
                    volume: Decimal::ZERO,
                });
                ts = ts.saturating_add(tf);
            }
        }
        out.push(*candle);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn c(ts: i64, close: Decimal) -> Candle {
        Candle {
            open_time_ms: ts,
            open: close,
            high: close,
            low: close,
            close,
            volume: dec!(1),
        }
    }

    #[test]
    fn steps_and_inference() {
        let m = 60_000;
        let s: Vec<_> = [0, 1, 2, 5, 6, 7, 9]
            .iter()
            .map(|k| c(k * m, dec!(1)))
            .collect();
        assert_eq!(most_common_step(&s), Some(m));
        assert_eq!(infer_timeframe(&s), Some(Timeframe::M1));
        assert_eq!(most_common_step(&s[..1]), None);
        // A tie goes to the smaller step.
        let t: Vec<_> = [0, 2, 4, 5, 6].iter().map(|k| c(k * m, dec!(1))).collect();
        assert_eq!(most_common_step(&t), Some(m));
        let odd = [c(0, dec!(1)), c(7 * m, dec!(1))];
        assert_eq!(most_common_step(&odd), Some(7 * m));
        assert_eq!(infer_timeframe(&odd), None);
    }

    #[test]
    fn gaps_and_fill() {
        let m = 60_000;
        let s = [
            c(0, dec!(1)),
            c(m, dec!(2)),
            c(4 * m, dec!(3)),
            c(6 * m, dec!(4)),
        ];
        let r = detect_gaps(&s, Timeframe::M1);
        assert_eq!(r.missing, 3);
        assert_eq!(
            r.ranges,
            vec![
                GapRange {
                    from_ms: 2 * m,
                    to_ms: 3 * m,
                    missing: 2
                },
                GapRange {
                    from_ms: 5 * m,
                    to_ms: 5 * m,
                    missing: 1
                },
            ]
        );
        assert_eq!(r.longest().map(|g| g.missing), Some(2));
        let f = fill_gaps(&s, Timeframe::M1).unwrap();
        let ts: Vec<_> = f.iter().map(|x| x.open_time_ms / m).collect();
        assert_eq!(ts, vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(
            f[2],
            Candle {
                open_time_ms: 2 * m,
                volume: dec!(0),
                ..c(0, dec!(2))
            }
        );
        assert_eq!(f[5].close, dec!(3));
        assert_eq!(f[6], s[3]);
    }

    #[test]
    fn off_grid_steps_and_limits() {
        let m = 60_000;
        let s = [c(0, dec!(1)), c(150_000, dec!(1))];
        let r = detect_gaps(&s, Timeframe::M1);
        assert_eq!((r.missing, r.off_grid), (2, 1));
        assert_eq!(fill_gaps(&s, Timeframe::M1).unwrap().len(), 4);
        let far = [c(0, dec!(1)), c(i64::MAX, dec!(1))];
        let err = fill_gaps(&far, Timeframe::M1).unwrap_err();
        assert_eq!(err.candles, 153_722_867_280_914);
        assert_eq!(
            detect_gaps(&[c(m, dec!(1)), c(0, dec!(1))], Timeframe::M1),
            GapReport::default()
        );
    }
}
