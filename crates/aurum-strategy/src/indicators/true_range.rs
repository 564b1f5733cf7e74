//! True range (TA-Lib `TRANGE`).

use super::{Indicator, Ohlcv};

/// True range, TA-Lib's `TRANGE`: the largest of `high - low`, `|prev_close - high|` and
/// `|prev_close - low|`. Needs the previous close, so the first bar gives `None`.
#[derive(Debug, Clone, Default)]
pub struct TrueRange {
    prev_close: Option<f64>,
    value: Option<f64>,
}

impl TrueRange {
    /// A true range with no bar seen yet.
    pub fn new() -> TrueRange {
        TrueRange::default()
    }

    /// Feeds the next bar; the true range from the second bar on.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let out = self
            .prev_close
            .map(|prev_close| true_range(high, low, prev_close));
        self.prev_close = Some(close);
        self.value = out;
        out
    }

    /// The last true range, `None` before the second bar.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Forgets every bar.
    pub fn reset(&mut self) {
        *self = TrueRange::default();
    }

    /// `1`.
    pub fn lookback(&self) -> usize {
        1
    }
}

/// TA-Lib's comparison order, so ties and NaNs resolve as they do there.
fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let to_high = (prev_close - high).abs();
    if to_high > greatest {
        greatest = to_high;
    }
    let to_low = (prev_close - low).abs();
    if to_low > greatest {
        greatest = to_low;
    }
    greatest
}

impl Indicator for TrueRange {
    type Input = Ohlcv;
    type Output = f64;
    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        TrueRange::update(self, bar.high, bar.low, bar.close)
    }
    fn value(&self) -> Option<f64> {
        TrueRange::value(self)
    }
    fn reset(&mut self) {
        TrueRange::reset(self)
    }
    fn lookback(&self) -> usize {
        TrueRange::lookback(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_range_covers_gaps() {
        let mut tr = TrueRange::new();
        assert_eq!(tr.update(10.0, 8.0, 9.0), None);
        // Inside range: high - low.
        assert_eq!(tr.update(11.0, 8.5, 10.0), Some(2.5));
        // Gap up: previous close 10, bar 14..13 → 14 - 10.
        assert_eq!(tr.update(14.0, 13.0, 13.5), Some(4.0));
        // Gap down: previous close 13.5, bar 9..8 → 13.5 - 8.
        assert_eq!(tr.update(9.0, 8.0, 8.5), Some(5.5));
        assert_eq!(tr.value(), Some(5.5));
        tr.reset();
        assert_eq!(tr.value(), None);
        assert_eq!(tr.update(1.0, 1.0, 1.0), None);
    }
}
