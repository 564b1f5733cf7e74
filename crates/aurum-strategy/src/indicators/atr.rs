//! Average true range (TA-Lib `ATR`).

use super::{Indicator, IndicatorError, Ohlcv, TrueRange, check_period};

/// Average true range with Wilder smoothing, TA-Lib's `ATR`.
///
/// The first output, on bar `period` (0-based), is the mean of the true ranges of bars
/// `1..=period`; later ones are `prev * beta + tr * alpha` with `beta = (period - 1) / period`,
/// `alpha = 1 - beta` and the multiply-add fused, exactly as TA-Lib 0.8.x computes it.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    /// Weight of the previous ATR, `(period - 1) / period`.
    beta: f64,
    /// Weight of the new true range, `1 - beta` (derived from `beta` so they sum to exactly 1).
    alpha: f64,
    true_range: TrueRange,
    count: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl Atr {
    /// An ATR over `period` true ranges; TA-Lib accepts `1..=100_000`.
    pub fn new(period: usize) -> Result<Atr, IndicatorError> {
        check_period("ATR", "period", period, 1).map(Atr::with_period)
    }

    /// Builds without validation; callers pass a checked or constant period.
    pub(crate) fn with_period(period: usize) -> Atr {
        let beta = period.saturating_sub(1) as f64 / period as f64;
        Atr {
            period,
            beta,
            alpha: 1.0 - beta,
            true_range: TrueRange::new(),
            count: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Feeds the next bar; the ATR once `period` true ranges are in.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let tr = self.true_range.update(high, low, close)?;
        let next = match self.value {
            Some(prev) => self.beta.mul_add(prev, self.alpha * tr),
            None => {
                self.seed_sum += tr;
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

    /// The last ATR, `None` during the lookback.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Forgets every bar.
    pub fn reset(&mut self) {
        *self = Atr::with_period(self.period);
    }

    /// `period`.
    pub fn lookback(&self) -> usize {
        self.period
    }
}

impl Indicator for Atr {
    type Input = Ohlcv;
    type Output = f64;
    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        Atr::update(self, bar.high, bar.low, bar.close)
    }
    fn value(&self) -> Option<f64> {
        Atr::value(self)
    }
    fn reset(&mut self) {
        Atr::reset(self)
    }
    fn lookback(&self) -> usize {
        Atr::lookback(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_the_mean_true_range_then_smooths() {
        // Bars (high, low, close); true ranges from bar 1: 2, 4, 3, then 6.
        let bars = [
            (10.0, 9.0, 9.5),
            (11.0, 9.0, 10.0),  // tr 2
            (14.0, 12.0, 13.0), // gap up: 14 - 10 = 4
            (13.0, 10.0, 11.0), // 13 - 10 = 3
            (11.0, 5.0, 6.0),   // 11 - 5 = 6
        ];
        let mut atr = Atr::new(3).unwrap();
        let out: Vec<_> = bars.iter().map(|&(h, l, c)| atr.update(h, l, c)).collect();
        // First ATR on bar 3 = (2 + 4 + 3) / 3 = 3; then (3 * 2 + 6) / 3 = 4.
        assert_eq!(out, [None, None, None, Some(3.0), Some(4.0)]);
        assert_eq!(atr.lookback(), 3);
        atr.reset();
        assert_eq!(atr.value(), None);
        assert_eq!(atr.update(1.0, 1.0, 1.0), None);
    }

    #[test]
    fn atr1_is_the_true_range() {
        let mut atr = Atr::new(1).unwrap();
        let mut tr = TrueRange::new();
        for (h, l, c) in [(3.0, 1.0, 2.0), (5.0, 4.0, 4.5), (4.0, 1.0, 1.5)] {
            assert_eq!(atr.update(h, l, c), tr.update(h, l, c));
        }
        assert_eq!(atr.value(), Some(3.5));
        assert!(Atr::new(0).is_err());
    }
}
