//! Simple moving average (TA-Lib `SMA`).

use super::ring::Ring;
use super::{Indicator, IndicatorError, check_period};

/// Simple moving average of the last `period` values, TA-Lib's `SMA`.
///
/// Kept as a running sum exactly as TA-Lib does (add the new value, divide, then subtract the
/// value leaving the window), so rounding matches TA-Lib's too. First output after `period`
/// values.
#[derive(Debug, Clone)]
pub struct Sma {
    period: usize,
    window: Ring,
    sum: f64,
    value: Option<f64>,
}

impl Sma {
    /// An SMA over `period` values; TA-Lib accepts `2..=100_000`.
    pub fn new(period: usize) -> Result<Sma, IndicatorError> {
        check_period("SMA", "period", period, 2).map(Sma::with_period)
    }

    /// Builds without validation; callers pass a checked or constant period.
    pub(crate) fn with_period(period: usize) -> Sma {
        Sma {
            period,
            window: Ring::new(period),
            sum: 0.0,
            value: None,
        }
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Feeds the next value; the average once `period` values are in.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.sum += x;
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let out = self.sum / self.period as f64;
        // The oldest value leaves the sum now; its slot is overwritten by the next push.
        self.sum -= self.window.oldest();
        self.value = Some(out);
        self.value
    }

    /// The last average, `None` during the lookback.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        self.window.clear();
        self.sum = 0.0;
        self.value = None;
    }

    /// `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }
}

impl Indicator for Sma {
    type Input = f64;
    type Output = f64;
    fn update(&mut self, input: f64) -> Option<f64> {
        Sma::update(self, input)
    }
    fn value(&self) -> Option<f64> {
        Sma::value(self)
    }
    fn reset(&mut self) {
        Sma::reset(self)
    }
    fn lookback(&self) -> usize {
        Sma::lookback(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sma3_of_one_to_five() {
        let mut sma = Sma::new(3).unwrap();
        let out: Vec<_> = (1..=5).map(|x| sma.update(x as f64)).collect();
        assert_eq!(out, [None, None, Some(2.0), Some(3.0), Some(4.0)]);
        assert_eq!(sma.value(), Some(4.0));
        assert_eq!(sma.lookback(), 2);
    }

    #[test]
    fn reset_starts_over() {
        let mut sma = Sma::new(2).unwrap();
        sma.update(10.0);
        sma.update(20.0);
        sma.reset();
        assert_eq!(sma.value(), None);
        assert_eq!(sma.update(1.0), None);
        assert_eq!(sma.update(3.0), Some(2.0));
    }

    #[test]
    fn refuses_periods_talib_refuses() {
        for bad in [0, 1, 100_001] {
            let err = Sma::new(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("SMA: period = {bad} is out of range (TA-Lib accepts 2..=100000)")
            );
        }
        assert!(Sma::new(100_000).is_ok());
    }
}
