//! Exponential moving average (TA-Lib `EMA`).

use super::{Indicator, IndicatorError, check_period};

/// Exponential moving average, TA-Lib's `EMA` in its default (non-Metastock) mode.
///
/// `k = 2 / (period + 1)`. The first output, after `period` values, is their simple average;
/// each later one is `(x - prev) * k + prev` with the multiply-add fused (one rounding), as the
/// C library behind TA-Lib 0.8.x computes it.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    count: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// An EMA over `period` values; TA-Lib accepts `2..=100_000`.
    pub fn new(period: usize) -> Result<Ema, IndicatorError> {
        check_period("EMA", "period", period, 2).map(Ema::with_period)
    }

    /// Builds without validation; callers pass a checked or constant period (`>= 1`).
    pub(crate) fn with_period(period: usize) -> Ema {
        Ema {
            period,
            k: 2.0 / (period as f64 + 1.0),
            count: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// The smoothing factor `2 / (period + 1)`.
    pub fn k(&self) -> f64 {
        self.k
    }

    /// Feeds the next value; the average once `period` values are in.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let next = match self.value {
            Some(prev) => (x - prev).mul_add(self.k, prev),
            None => {
                self.seed_sum += x;
                self.count += 1;
                if self.count < self.period {
                    return None;
                }
                self.seed_sum / self.period as f64
            }
        };
        self.value = Some(next);
        self.value
    }

    /// The last average, `None` during the lookback.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        self.count = 0;
        self.seed_sum = 0.0;
        self.value = None;
    }

    /// `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }
}

impl Indicator for Ema {
    type Input = f64;
    type Output = f64;
    fn update(&mut self, input: f64) -> Option<f64> {
        Ema::update(self, input)
    }
    fn value(&self) -> Option<f64> {
        Ema::value(self)
    }
    fn reset(&mut self) {
        Ema::reset(self)
    }
    fn lookback(&self) -> usize {
        Ema::lookback(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_the_sma_then_smooths() {
        // k = 2 / 4 = 0.5; seed = (2 + 4 + 6) / 3 = 4; then (10 - 4) * 0.5 + 4 = 7,
        // (1 - 7) * 0.5 + 7 = 4.
        let mut ema = Ema::new(3).unwrap();
        let out: Vec<_> = [2.0, 4.0, 6.0, 10.0, 1.0]
            .into_iter()
            .map(|x| ema.update(x))
            .collect();
        assert_eq!(out, [None, None, Some(4.0), Some(7.0), Some(4.0)]);
        assert_eq!(ema.k(), 0.5);
        assert_eq!(ema.lookback(), 2);
    }

    #[test]
    fn reset_starts_over() {
        let mut ema = Ema::new(2).unwrap();
        ema.update(1.0);
        ema.update(5.0);
        ema.reset();
        assert_eq!(ema.value(), None);
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(4.0), Some(3.0));
    }

    #[test]
    fn refuses_a_period_of_one() {
        assert!(matches!(
            Ema::new(1),
            Err(IndicatorError::PeriodOutOfRange { min: 2, .. })
        ));
    }
}
