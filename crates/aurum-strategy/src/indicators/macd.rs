//! Moving average convergence/divergence (TA-Lib `MACD`).

use super::{Ema, Indicator, IndicatorError, check_period};

/// The three lines of one update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdOutput {
    /// Fast EMA minus slow EMA.
    pub macd: f64,
    /// EMA of `macd` over the signal period.
    pub signal: f64,
    /// `macd - signal`.
    pub hist: f64,
}

/// MACD, TA-Lib's `MACD(fast, slow, signal)`.
///
/// TA-Lib aligns the two EMAs on the slow one: both start on the same bar, `slow - 1`, so the
/// fast EMA is seeded with the SMA of the `fast` values *ending there* (it ignores the first
/// `slow - fast` values), not of the first `fast` values. The signal line is an EMA of the MACD
/// line, seeded the same way, and all three outputs appear together after
/// `(slow - 1) + (signal - 1)` values (33 for 12/26/9).
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Values the fast EMA skips at the start (`slow - fast`).
    fast_skip: usize,
    seen: usize,
    value: Option<MacdOutput>,
}

impl Macd {
    /// MACD with TA-Lib's ranges: `fast` and `slow` in `2..=100_000`, `signal` in
    /// `1..=100_000`. As TA-Lib does, a `slow` shorter than `fast` swaps the two.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Macd, IndicatorError> {
        let fast = check_period("MACD", "fast_period", fast, 2)?;
        let slow = check_period("MACD", "slow_period", slow, 2)?;
        let signal = check_period("MACD", "signal_period", signal, 1)?;
        Ok(Macd::with_periods(fast, slow, signal))
    }

    /// Builds without validation; callers pass checked or constant periods.
    pub(crate) fn with_periods(fast: usize, slow: usize, signal: usize) -> Macd {
        let (fast, slow) = if slow < fast {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Macd {
            fast: Ema::with_period(fast),
            slow: Ema::with_period(slow),
            signal: Ema::with_period(signal),
            fast_skip: slow - fast,
            seen: 0,
            value: None,
        }
    }

    /// `(fast, slow, signal)` periods, after TA-Lib's swap.
    pub fn periods(&self) -> (usize, usize, usize) {
        (self.fast.period(), self.slow.period(), self.signal.period())
    }

    /// Feeds the next value; the three lines once the lookback is over.
    pub fn update(&mut self, x: f64) -> Option<MacdOutput> {
        let slow = self.slow.update(x);
        let fast = if self.seen >= self.fast_skip {
            self.fast.update(x)
        } else {
            self.seen += 1;
            None
        };
        // Both EMAs have their first value on the same bar, by construction.
        let macd = fast? - slow?;
        let signal = self.signal.update(macd)?;
        self.value = Some(MacdOutput {
            macd,
            signal,
            hist: macd - signal,
        });
        self.value
    }

    /// The last lines, `None` during the lookback.
    pub fn value(&self) -> Option<MacdOutput> {
        self.value
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.seen = 0;
        self.value = None;
    }

    /// `(slow - 1) + (signal - 1)`.
    pub fn lookback(&self) -> usize {
        self.slow.lookback() + self.signal.lookback()
    }
}

impl Indicator for Macd {
    type Input = f64;
    type Output = MacdOutput;
    fn update(&mut self, input: f64) -> Option<MacdOutput> {
        Macd::update(self, input)
    }
    fn value(&self) -> Option<MacdOutput> {
        Macd::value(self)
    }
    fn reset(&mut self) {
        Macd::reset(self)
    }
    fn lookback(&self) -> usize {
        Macd::lookback(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ema_is_seeded_at_the_slow_start() {
        // MACD(2, 4, 2) on 1, 2, 4, 8, 16, 32:
        // slow EMA(4): seed (1+2+4+8)/4 = 3.75 on bar 3, k = 0.4 → bar 4: 3.75 + 0.4*12.25 = 8.65.
        // fast EMA(2) skips 2 values: seed (4+8)/2 = 6 on bar 3, k = 2/3 → bar 4: 6 + 2/3*10.
        // MACD bar 3 = 2.25, bar 4 = 12.6667 - 8.65; signal EMA(2) seed = mean of both.
        let mut m = Macd::new(2, 4, 2).unwrap();
        let out: Vec<_> = [1.0, 2.0, 4.0, 8.0, 16.0]
            .into_iter()
            .map(|x| m.update(x))
            .collect();
        assert!(out[..4].iter().all(Option::is_none));
        let fast4 = (16.0 - 6.0) * (2.0 / 3.0) + 6.0;
        let slow4 = (16.0 - 3.75) * 0.4 + 3.75;
        let macd4 = fast4 - slow4;
        let signal4 = (2.25 + macd4) / 2.0;
        assert_eq!(
            out[4],
            Some(MacdOutput {
                macd: macd4,
                signal: signal4,
                hist: macd4 - signal4
            })
        );
        assert_eq!(m.lookback(), 4);
    }

    #[test]
    fn lookback_of_12_26_9_is_33_and_slow_fast_swap() {
        let m = Macd::new(12, 26, 9).unwrap();
        assert_eq!(m.lookback(), 33);
        let swapped = Macd::new(26, 12, 9).unwrap();
        assert_eq!(swapped.periods(), (12, 26, 9));
        assert!(Macd::new(1, 26, 9).is_err());
        assert!(Macd::new(12, 26, 0).is_err());
        assert!(Macd::new(12, 26, 1).is_ok());
    }

    #[test]
    fn reset_replays_identically() {
        let xs: Vec<f64> = (0..60)
            .map(|i| 100.0 + (i as f64 * 0.7).sin() * 5.0)
            .collect();
        let mut m = Macd::new(12, 26, 9).unwrap();
        let first: Vec<_> = xs.iter().map(|&x| m.update(x)).collect();
        m.reset();
        assert_eq!(m.value(), None);
        let second: Vec<_> = xs.iter().map(|&x| m.update(x)).collect();
        assert_eq!(first, second);
        assert_eq!(first.iter().filter(|v| v.is_none()).count(), 33);
    }
}
