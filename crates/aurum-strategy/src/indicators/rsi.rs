//! Relative strength index (TA-Lib `RSI`).

use super::{Indicator, IndicatorError, check_period};

/// Relative strength index with Wilder smoothing, TA-Lib's `RSI` (default, non-Metastock).
///
/// The first output, after `period + 1` values, uses the plain averages of the first `period`
/// gains and losses; later ones smooth them as `(avg * (period - 1) + today) * (1 / period)`
/// (TA-Lib 0.8.x multiplies by the hoisted reciprocal). `RSI = 100 * avg_gain / (avg_gain +
/// avg_loss)`, and 0 when that sum is exactly zero, as in TA-Lib 0.8.x: a flat series has an RSI
/// of 0, a rising one of 100, and an instrument quoted in tiny units is not flattened to 0 (the
/// old `1e-8` dead band of TA-Lib 0.4/0.6 is gone).
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    inv_period: f64,
    prev: Option<f64>,
    /// Changes seen so far, counted up to `period`.
    changes: usize,
    avg_gain: f64,
    avg_loss: f64,
    value: Option<f64>,
}

impl Rsi {
    /// An RSI over `period` changes; TA-Lib accepts `2..=100_000`.
    pub fn new(period: usize) -> Result<Rsi, IndicatorError> {
        check_period("RSI", "period", period, 2).map(Rsi::with_period)
    }

    /// Builds without validation; callers pass a checked or constant period.
    pub(crate) fn with_period(period: usize) -> Rsi {
        Rsi {
            period,
            inv_period: 1.0 / period as f64,
            prev: None,
            changes: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            value: None,
        }
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Feeds the next value; the RSI once `period` changes are in.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let prev = self.prev.replace(x)?;
        let change = x - prev;
        let n = self.period as f64;
        if self.changes < self.period {
            // Still summing the first `period` changes.
            add_change(change, &mut self.avg_gain, &mut self.avg_loss);
            self.changes += 1;
            if self.changes < self.period {
                return None;
            }
        } else {
            self.avg_loss *= n - 1.0;
            self.avg_gain *= n - 1.0;
            add_change(change, &mut self.avg_gain, &mut self.avg_loss);
        }
        self.avg_loss *= self.inv_period;
        self.avg_gain *= self.inv_period;
        let total = self.avg_gain + self.avg_loss;
        let rsi = if total > 0.0 {
            100.0 * (self.avg_gain / total)
        } else {
            0.0
        };
        self.value = Some(rsi);
        self.value
    }

    /// The last RSI, `None` during the lookback.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        *self = Rsi::with_period(self.period);
    }

    /// `period`.
    pub fn lookback(&self) -> usize {
        self.period
    }
}

/// A fall adds to the losses (as a positive number), anything else to the gains.
fn add_change(change: f64, gain: &mut f64, loss: &mut f64) {
    if change < 0.0 {
        *loss -= change;
    } else {
        *gain += change;
    }
}

impl Indicator for Rsi {
    type Input = f64;
    type Output = f64;
    fn update(&mut self, input: f64) -> Option<f64> {
        Rsi::update(self, input)
    }
    fn value(&self) -> Option<f64> {
        Rsi::value(self)
    }
    fn reset(&mut self) {
        Rsi::reset(self)
    }
    fn lookback(&self) -> usize {
        Rsi::lookback(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(period: usize, xs: &[f64]) -> Vec<Option<f64>> {
        let mut rsi = Rsi::new(period).unwrap();
        xs.iter().map(|&x| rsi.update(x)).collect()
    }

    #[test]
    fn monotone_series_are_100_and_0_flat_is_0() {
        let up: Vec<f64> = (1..=10).map(f64::from).collect();
        let out = run(3, &up);
        assert_eq!(&out[..3], [None, None, None]);
        assert!(out[3..].iter().all(|v| *v == Some(100.0)));

        let down: Vec<f64> = up.iter().rev().copied().collect();
        assert!(run(3, &down)[3..].iter().all(|v| *v == Some(0.0)));

        assert!(run(3, &[5.0; 8])[3..].iter().all(|v| *v == Some(0.0)));
    }

    #[test]
    fn tiny_prices_keep_their_rsi() {
        // Moves of 1e-16 on a 1e-10 price: still a rising series, so 100 (TA-Lib 0.6 said 0).
        let xs: Vec<f64> = (0..10).map(|i| 1e-10 + f64::from(i) * 1e-16).collect();
        assert!(run(3, &xs)[3..].iter().all(|v| *v == Some(100.0)));
    }

    #[test]
    fn wilder_smoothing_by_hand() {
        // Changes: +2, -1, +3 (first period), then -2, then +0.
        // First: gain = 5/3, loss = 1/3 → 100 * (5/3) / 2 = 83.33…
        // Then: gain = (5/3 * 2 + 0) / 3 = 10/9, loss = (1/3 * 2 + 2) / 3 = 8/9 → 55.55…
        // Then: gain = (10/9 * 2) / 3 = 20/27, loss = (8/9 * 2) / 3 = 16/27 → 55.55…
        let out = run(3, &[10.0, 12.0, 11.0, 14.0, 12.0, 12.0]);
        assert_eq!(&out[..3], [None, None, None]);
        let expected = [100.0 * 5.0 / 6.0, 100.0 * 5.0 / 9.0, 100.0 * 5.0 / 9.0];
        for (got, want) in out[3..].iter().zip(expected) {
            let got = got.unwrap();
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn reset_starts_over_and_lookback_is_the_period() {
        let mut rsi = Rsi::new(2).unwrap();
        for x in [1.0, 2.0, 3.0] {
            rsi.update(x);
        }
        assert_eq!(rsi.value(), Some(100.0));
        rsi.reset();
        assert_eq!(rsi.value(), None);
        assert_eq!(rsi.update(3.0), None);
        assert_eq!(rsi.update(2.0), None);
        assert_eq!(rsi.update(1.0), Some(0.0));
        assert_eq!(rsi.lookback(), 2);
        assert!(Rsi::new(1).is_err());
    }
}
