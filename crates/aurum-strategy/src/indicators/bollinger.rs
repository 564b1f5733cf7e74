//! Bollinger bands (TA-Lib `BBANDS` with a simple moving average).

use super::ring::Ring;
use super::{Indicator, IndicatorError, check_period};

/// The three bands of one update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerOutput {
    /// `middle + nb_dev_up * stddev`.
    pub upper: f64,
    /// The simple moving average.
    pub middle: f64,
    /// `middle - nb_dev_dn * stddev`.
    pub lower: f64,
}

/// The deviation sums are rebuilt at least this many windows apart, so drift stays bounded.
const RESEED_WINDOWS: usize = 32;
/// Rebuild when the variance falls below this share of the mean squared deviation it is
/// extracted from (past that, the subtraction has cancelled too many digits).
const STALE_RATIO: f64 = 1e-6;
/// Rebuild when the squared deviation leaving the window is this many times what remains
/// (an outlier passing through buries the small terms below its ulp).
const OUTLIER_RATIO: f64 = 1e6;
/// After a rebuild, a variance below this share of the mean squared deviation is noise: 0.
const FLOOR_RATIO: f64 = 1e-12;

/// Bollinger bands, TA-Lib's `BBANDS(period, nb_dev_up, nb_dev_dn, matype = SMA)`.
///
/// The middle band is the SMA (the same running sum as [`super::Sma`]); the deviation is the
/// population standard deviation, computed as TA-Lib 0.8.x does to stay free of the
/// `E[x²] - mean²` cancellation of older TA-Lib releases: running sums of the deviations from
/// a shift (first the first value, later the window mean), re-anchored with a fresh two-pass
/// over the window when the variance has become small against those sums, when a large
/// outlier leaves the window, or every `32 * period` outputs. A rebuild reads the ring buffer
/// of the window (O(period)); every other update is O(1). Measured on the 12 real series in
/// `shared/real_cases`, period 20 rebuilds on 0.14% of updates (almost all the periodic
/// ones); period 2 on 11% (two equal prices trip the trigger), where a rebuild reads 2 values.
#[derive(Debug, Clone)]
pub struct Bollinger {
    period: usize,
    inv_period: f64,
    nb_dev_up: f64,
    nb_dev_dn: f64,
    window: Ring,
    /// Running sum of the window for the middle band.
    sum: f64,
    /// The anchor deviations are measured from; `None` before the first value.
    shift: Option<f64>,
    /// Running sum of `x - shift` over the window.
    dev_sum: f64,
    /// Running sum of `(x - shift)²` over the window.
    dev_sq_sum: f64,
    /// Outputs left before the next forced rebuild.
    until_reseed: usize,
    value: Option<BollingerOutput>,
}

impl Bollinger {
    /// Bands over `period` values (TA-Lib accepts `2..=100_000`), `nb_dev_up`/`nb_dev_dn`
    /// standard deviations above/below the middle (any finite number, as in TA-Lib).
    pub fn new(period: usize, nb_dev_up: f64, nb_dev_dn: f64) -> Result<Bollinger, IndicatorError> {
        let period = check_period("BBANDS", "period", period, 2)?;
        for (param, value) in [("nb_dev_up", nb_dev_up), ("nb_dev_dn", nb_dev_dn)] {
            if !value.is_finite() {
                return Err(IndicatorError::NotFinite {
                    indicator: "BBANDS",
                    param,
                    value,
                });
            }
        }
        Ok(Bollinger::with_params(period, nb_dev_up, nb_dev_dn))
    }

    /// Builds without validation; callers pass checked or constant parameters.
    pub(crate) fn with_params(period: usize, nb_dev_up: f64, nb_dev_dn: f64) -> Bollinger {
        Bollinger {
            period,
            inv_period: 1.0 / period as f64,
            nb_dev_up,
            nb_dev_dn,
            window: Ring::new(period),
            sum: 0.0,
            shift: None,
            dev_sum: 0.0,
            dev_sq_sum: 0.0,
            until_reseed: RESEED_WINDOWS * period,
            value: None,
        }
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Feeds the next value; the bands once `period` values are in.
    pub fn update(&mut self, x: f64) -> Option<BollingerOutput> {
        let shift = *self.shift.get_or_insert(x);
        self.sum += x;
        let d = x - shift;
        self.dev_sum += d;
        self.dev_sq_sum += d * d;
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }

        let middle = self.sum / self.period as f64;
        let mean_dev = self.dev_sum * self.inv_period;
        let mut variance = self.dev_sq_sum * self.inv_period - mean_dev * mean_dev;

        // The oldest value leaves all three sums now (its slot is overwritten by the next push).
        let oldest = self.window.oldest();
        self.sum -= oldest;
        let d = oldest - shift;
        self.dev_sum -= d;
        let leaving_sq = d * d;
        self.dev_sq_sum -= leaving_sq;

        self.until_reseed -= 1;
        if variance < STALE_RATIO * (self.dev_sq_sum * self.inv_period)
            || leaving_sq > OUTLIER_RATIO * self.dev_sq_sum
            || self.until_reseed == 0
        {
            variance = self.reseed(oldest);
        }

        let stddev = if variance != 0.0 {
            variance.sqrt()
        } else {
            0.0
        };
        self.value = Some(BollingerOutput {
            upper: middle + stddev * self.nb_dev_up,
            middle,
            lower: middle - stddev * self.nb_dev_dn,
        });
        self.value
    }

    /// Re-anchors the shift on the window mean, rebuilds the deviation sums with a two-pass
    /// over the window, and returns the window's variance; then takes `oldest` out again so
    /// the sums describe the next window, as on the ordinary path.
    fn reseed(&mut self, oldest: f64) -> f64 {
        self.until_reseed = RESEED_WINDOWS * self.period;
        let mut total = 0.0;
        for x in self.window.iter() {
            total += x;
        }
        let shift = total * self.inv_period;
        self.shift = Some(shift);
        self.dev_sum = 0.0;
        self.dev_sq_sum = 0.0;
        for x in self.window.iter() {
            let d = x - shift;
            self.dev_sum += d;
            self.dev_sq_sum += d * d;
        }
        let mean_dev = self.dev_sum * self.inv_period;
        let mut variance = self.dev_sq_sum * self.inv_period - mean_dev * mean_dev;
        if variance < FLOOR_RATIO * (self.dev_sq_sum * self.inv_period) {
            variance = 0.0;
        }
        let d = oldest - shift;
        self.dev_sum -= d;
        self.dev_sq_sum -= d * d;
        variance
    }

    /// The last bands, `None` during the lookback.
    pub fn value(&self) -> Option<BollingerOutput> {
        self.value
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        *self = Bollinger::with_params(self.period, self.nb_dev_up, self.nb_dev_dn);
    }

    /// `period - 1`.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }
}

impl Indicator for Bollinger {
    type Input = f64;
    type Output = BollingerOutput;
    fn update(&mut self, input: f64) -> Option<BollingerOutput> {
        Bollinger::update(self, input)
    }
    fn value(&self) -> Option<BollingerOutput> {
        Bollinger::value(self)
    }
    fn reset(&mut self) {
        Bollinger::reset(self)
    }
    fn lookback(&self) -> usize {
        Bollinger::lookback(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_stddev_by_hand() {
        // Window [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, population variance 4, stddev 2.
        let mut bb = Bollinger::new(8, 2.0, 1.0).unwrap();
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let out: Vec<_> = xs.iter().map(|&x| bb.update(x)).collect();
        assert!(out[..7].iter().all(Option::is_none));
        assert_eq!(
            out[7],
            Some(BollingerOutput {
                upper: 9.0,
                middle: 5.0,
                lower: 3.0
            })
        );
        // Slide by one: [4, 4, 4, 5, 5, 7, 9, 10]: mean 6, Σx² = 328, 328/8 - 36 = 5.
        let next = bb.update(10.0).unwrap();
        assert_eq!(next.middle, 6.0);
        assert_eq!(next.upper, 6.0 + 2.0 * 5f64.sqrt());
        assert_eq!(next.lower, 6.0 - 5f64.sqrt());
    }

    #[test]
    fn a_fine_tick_keeps_its_width() {
        // Prices around 1e-9 moving by 1e-12: a real, tiny deviation that TA-Lib 0.4/0.6
        // zeroed (variance under 1e-14) and 0.8.x keeps. Window [1e-9, 1.002e-9]: sd = 1e-12.
        let mut bb = Bollinger::new(2, 1.0, 1.0).unwrap();
        bb.update(1e-9);
        let b = bb.update(1.002e-9).unwrap();
        let sd = b.upper - b.middle;
        assert!((sd - 1e-12).abs() < 1e-20, "{sd}");
    }

    #[test]
    fn flat_series_has_zero_width() {
        let mut bb = Bollinger::new(3, 2.0, 2.0).unwrap();
        let mut last = None;
        for _ in 0..5 {
            last = bb.update(0.1);
        }
        let b = last.unwrap();
        assert_eq!((b.upper, b.middle, b.lower), (b.middle, b.middle, b.middle));
        bb.reset();
        assert_eq!(bb.value(), None);
    }

    #[test]
    fn refuses_bad_parameters() {
        assert!(matches!(
            Bollinger::new(1, 2.0, 2.0),
            Err(IndicatorError::PeriodOutOfRange { .. })
        ));
        assert_eq!(
            Bollinger::new(20, f64::NAN, 2.0).unwrap_err().to_string(),
            "BBANDS: nb_dev_up = NaN is not a finite number"
        );
        assert!(Bollinger::new(20, 2.0, f64::INFINITY).is_err());
    }
}
