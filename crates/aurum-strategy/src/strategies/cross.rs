//! Detection of one moving average crossing another, on closed candles.

/// Which way the fast line crossed the slow one on the latest update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cross {
    /// Fast was at or below slow on the previous candle and is above it now.
    Above,
    /// Fast was at or above slow on the previous candle and is below it now.
    Below,
}

/// Remembers the previous pair of values and reports crosses.
///
/// A cross needs the current and the previous values of both lines, so nothing is reported
/// on the first candle where both exist. Touching (equal values) is not a cross by itself: it
/// counts as the "before" side of the next move. NaN values never cross.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CrossDetector {
    prev: Option<(f64, f64)>,
}

impl CrossDetector {
    /// A detector with no history.
    pub fn new() -> CrossDetector {
        CrossDetector::default()
    }

    /// Feeds this candle's values (`None` while an indicator is in its lookback).
    pub fn update(&mut self, fast: Option<f64>, slow: Option<f64>) -> Option<Cross> {
        let (Some(fast), Some(slow)) = (fast, slow) else {
            return None;
        };
        let (prev_fast, prev_slow) = self.prev.replace((fast, slow))?;
        if prev_fast <= prev_slow && fast > slow {
            Some(Cross::Above)
        } else if prev_fast >= prev_slow && fast < slow {
            Some(Cross::Below)
        } else {
            None
        }
    }

    /// Forgets the history.
    pub fn reset(&mut self) {
        self.prev = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_crosses_only_with_a_previous_pair() {
        let mut d = CrossDetector::new();
        assert_eq!(d.update(Some(1.0), None), None);
        // First pair: no history yet, even though fast > slow.
        assert_eq!(d.update(Some(2.0), Some(1.0)), None);
        assert_eq!(d.update(Some(0.5), Some(1.0)), Some(Cross::Below));
        assert_eq!(d.update(Some(0.6), Some(1.0)), None);
        // Touch, then cross from the touch.
        assert_eq!(d.update(Some(1.0), Some(1.0)), None);
        assert_eq!(d.update(Some(1.1), Some(1.0)), Some(Cross::Above));
        assert_eq!(d.update(Some(1.0), Some(1.0)), None);
        assert_eq!(d.update(Some(0.9), Some(1.0)), Some(Cross::Below));
        assert_eq!(d.update(Some(f64::NAN), Some(1.0)), None);
        d.reset();
        assert_eq!(d.update(Some(2.0), Some(1.0)), None);
    }
}
