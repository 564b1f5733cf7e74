//! A deterministic synthetic candle generator, for backtests without network or data files.
//!
//! The same [`SynthSpec`] gives bit-identical candles on every platform: the randomness is
//! ChaCha8 seeded from the `u64` seed (the symbol picks the ChaCha stream, so two pairs with
//! one seed are independent), and the float maths uses only IEEE-754 exact operations
//! (`+ − × ÷ sqrt`, comparisons, `abs`, `round`), never `exp`/`ln`/`powf`/trigonometry whose
//! libm results differ between platforms.
//!
//! The model, per bar: a regime (bull, bear or sideways, each lasting a random number of hours)
//! sets the drift and the volatility level; sideways phases revert toward the price at which
//! they started. Volatility clusters (GARCH(1,1) on the shocks), shocks are approximately normal
//! (the sum of 12 uniforms minus 6) with rare jumps. Each bar opens at the previous close;
//! wicks extend beyond open and close; volume grows with the size of the move. Prices are
//! rounded to the tick, volumes to the lot, at the end of each bar.

use aurum_core::{Candle, Decimal, Symbol, Timeframe};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// The market phase a synthetic bar was drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Regime {
    /// Upward drift.
    Bull,
    /// Downward drift, higher volatility.
    Bear,
    /// No drift, lower volatility, reverting toward the phase's starting price.
    Sideways,
}

/// What to generate. [`SynthSpec::default`] is one year of BTC/USDT 1h candles from
/// 2024-01-01 at 30,000 USDT with about 0.6% hourly volatility.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    /// The pair; it selects the random stream (and names the data for the caller).
    pub symbol: Symbol,
    /// Bar length.
    pub timeframe: Timeframe,
    /// Open time of the first candle (ms since the epoch, UTC).
    pub start_ms: i64,
    /// How many candles.
    pub candles: usize,
    /// The random seed.
    pub seed: u64,
    /// Open of the first candle (rounded to the tick).
    pub start_price: Decimal,
    /// Price tick: every price is a whole number of ticks, at least one.
    pub tick: Decimal,
    /// Volume lot: every volume is a whole number of lots, at least one.
    pub lot: Decimal,
    /// Standard deviation of hourly returns (scaled by √(bar hours) for other timeframes).
    pub hourly_volatility: f64,
    /// Drift per hour in bull (+) and bear (−) phases, as a fraction of the price.
    pub hourly_trend: f64,
    /// Average traded base volume per hour.
    pub hourly_volume: f64,
    /// Shortest and longest phase, in hours.
    pub regime_hours: (u32, u32),
}

impl Default for SynthSpec {
    fn default() -> Self {
        SynthSpec {
            // A constant, valid asset code: this cannot fail.
            symbol: Symbol::new("BTC", "USDT").expect("BTC/USDT is a valid pair"),
            timeframe: Timeframe::H1,
            start_ms: 1_704_067_200_000,
            candles: 24 * 365,
            seed: 42,
            start_price: Decimal::new(30_000, 0),
            tick: Decimal::new(1, 2),
            lot: Decimal::new(1, 5),
            hourly_volatility: 0.006,
            hourly_trend: 0.0004,
            hourly_volume: 800.0,
            regime_hours: (24, 336),
        }
    }
}

/// A spec that cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid synthetic data spec: `{field}` {reason}")]
pub struct InvalidSpec {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// The most candles one spec may ask for (20 years of 1-minute bars).
pub const MAX_SYNTH_CANDLES: usize = 20 * 525_600;

/// Largest price or volume, in ticks or lots (keeps every product exact in a `Decimal`).
const MAX_UNITS: f64 = 1e15;

/// Generated candles with the regime each was drawn in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSeries {
    /// The candles: valid, contiguous (no gaps), prices on the tick, volumes on the lot.
    pub candles: Vec<Candle>,
    /// The regime of each candle.
    pub regimes: Vec<Regime>,
}

/// Generates the candles of `spec`. Deterministic: the same spec gives the same candles,
/// bit for bit, on every platform.
pub fn synth(spec: &SynthSpec) -> Result<Vec<Candle>, InvalidSpec> {
    synth_series(spec).map(|s| s.candles)
}

/// [`synth`], also returning the regime of each candle.
pub fn synth_series(spec: &SynthSpec) -> Result<SynthSeries, InvalidSpec> {
    let p = Params::new(spec)?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    rng.set_stream(fnv1a(spec.symbol.to_string().as_bytes()));
    let mut draw = Draw { rng };

    let mut candles = Vec::with_capacity(spec.candles);
    let mut regimes = Vec::with_capacity(spec.candles);
    let mut regime = [Regime::Bull, Regime::Bear, Regime::Sideways][draw.below(3)];
    let mut regime_left = p.regime_length(&mut draw);
    let mut price_ticks = (p.start_ticks).clamp(1.0, MAX_UNITS);
    let mut anchor = price_ticks;
    let mut variance = p.sigma * p.sigma;

    for i in 0..spec.candles {
        if regime_left == 0 {
            // Move to one of the two other regimes.
            let others = match regime {
                Regime::Bull => [Regime::Bear, Regime::Sideways],
                Regime::Bear => [Regime::Bull, Regime::Sideways],
                Regime::Sideways => [Regime::Bull, Regime::Bear],
            };
            regime = others[draw.below(2)];
            regime_left = p.regime_length(&mut draw);
            anchor = price_ticks;
        }
        regime_left -= 1;

        let (drift, vol_mult) = match regime {
            Regime::Bull => (p.drift, 0.9),
            Regime::Bear => (-p.drift, 1.15),
            Regime::Sideways => {
                // Pull back toward the phase's starting price.
                let deviation = price_ticks / anchor - 1.0;
                (-p.reversion * deviation, 0.75)
            }
        };
        let sigma_t = variance.sqrt() * vol_mult;
        let mut z = draw.normal();
        if draw.unit() < 0.005 {
            z *= 4.0; // a rare jump
        }
        let shock = sigma_t * z;
        let r = (drift + shock).clamp(-0.3, 0.3);
        // GARCH(1,1): tomorrow's variance remembers today's shock.
        variance = (p.omega + 0.05 * shock * shock + 0.90 * variance).min(25.0 * p.sigma * p.sigma);

        let open = price_ticks;
        let close = (open * (1.0 + r)).round().clamp(1.0, MAX_UNITS);
        let wick_up = (sigma_t * draw.half_normal() * 0.6).min(0.5);
        let wick_down = (sigma_t * draw.half_normal() * 0.6).min(0.5);
        let high = (open.max(close) * (1.0 + wick_up))
            .round()
            .clamp(open.max(close), MAX_UNITS);
        let low = (open.min(close) * (1.0 - wick_down))
            .round()
            .clamp(1.0, open.min(close));
        // Busier bars trade more: volume grows with the size of the move.
        let activity = 0.6 + 0.5 * (r.abs() / p.sigma);
        let volume = (p.bar_volume_lots * (0.4 + 1.2 * draw.unit()) * activity)
            .round()
            .clamp(1.0, MAX_UNITS);
        price_ticks = close;

        let ts = spec.start_ms + p.tf_ms * i as i64; // in range: checked in Params::new
        candles.push(Candle {
            open_time_ms: ts,
            open: p.price(open),
            high: p.price(high),
            low: p.price(low),
            close: p.price(close),
            volume: p.volume(volume),
        });
        regimes.push(regime);
    }
    Ok(SynthSeries { candles, regimes })
}

/// Per-bar constants derived from a validated spec.
struct Params {
    tf_ms: i64,
    sigma: f64,
    omega: f64,
    drift: f64,
    reversion: f64,
    start_ticks: f64,
    bar_volume_lots: f64,
    regime_bars: (u64, u64),
    tick: Decimal,
    lot: Decimal,
}

impl Params {
    fn new(spec: &SynthSpec) -> Result<Params, InvalidSpec> {
        let bad = |field: &'static str, reason: &str| InvalidSpec {
            field,
            reason: reason.to_string(),
        };
        if spec.candles > MAX_SYNTH_CANDLES {
            return Err(bad(
                "candles",
                &format!("must be at most {MAX_SYNTH_CANDLES}"),
            ));
        }
        let tf_ms = spec.timeframe.millis();
        if spec.start_ms < 0 {
            return Err(bad("start_ms", "must not be negative"));
        }
        // MAX_SYNTH_CANDLES weeks still fit an i64 of ms, but check rather than trust.
        i64::try_from(spec.candles)
            .ok()
            .and_then(|n| tf_ms.checked_mul(n))
            .and_then(|span| spec.start_ms.checked_add(span))
            .ok_or_else(|| {
                bad(
                    "start_ms",
                    "puts the last candle beyond the year 292 million",
                )
            })?;
        for (field, value) in [
            ("start_price", spec.start_price),
            ("tick", spec.tick),
            ("lot", spec.lot),
        ] {
            if value <= Decimal::ZERO {
                return Err(bad(field, "must be positive"));
            }
        }
        let tick = dec_to_f64(spec.tick);
        let lot = dec_to_f64(spec.lot);
        let start_ticks = (dec_to_f64(spec.start_price) / tick).round();
        if !(1.0..=MAX_UNITS).contains(&start_ticks) {
            return Err(bad(
                "start_price",
                "must be between one tick and 10^15 ticks",
            ));
        }
        let v = spec.hourly_volatility;
        if !(v.is_finite() && (0.0..=0.2).contains(&v)) {
            return Err(bad("hourly_volatility", "must be between 0 and 0.2"));
        }
        let t = spec.hourly_trend;
        if !(t.is_finite() && t.abs() <= 0.05) {
            return Err(bad("hourly_trend", "must be between -0.05 and 0.05"));
        }
        let q = spec.hourly_volume;
        if !(q.is_finite() && q > 0.0) {
            return Err(bad("hourly_volume", "must be a positive number"));
        }
        let (lo, hi) = spec.regime_hours;
        if lo == 0 || lo > hi {
            return Err(bad(
                "regime_hours",
                "must be (min, max) with 1 <= min <= max",
            ));
        }
        let bar_hours = tf_ms as f64 / 3_600_000.0;
        let sigma = v * bar_hours.sqrt();
        let bars = |hours: u32| (u64::from(hours) * 3_600_000 / tf_ms.max(1) as u64).max(1);
        Ok(Params {
            tf_ms,
            sigma,
            omega: 0.05 * sigma * sigma,
            drift: t * bar_hours,
            reversion: (0.05 * bar_hours).min(0.5),
            start_ticks,
            bar_volume_lots: q * bar_hours / lot,
            regime_bars: (bars(lo), bars(hi)),
            tick: spec.tick,
            lot: spec.lot,
        })
    }

    fn regime_length(&self, draw: &mut Draw) -> u64 {
        let (lo, hi) = self.regime_bars;
        lo + draw.rng.next_u64() % (hi - lo + 1)
    }

    /// Whole ticks to a price. `ticks` is integral and in [1, 10^15]: exact.
    fn price(&self, ticks: f64) -> Decimal {
        Decimal::from(ticks as i64)
            .checked_mul(self.tick)
            .unwrap_or(Decimal::MAX)
    }

    /// Whole lots to a volume. `lots` is integral and in [1, 10^15]: exact.
    fn volume(&self, lots: f64) -> Decimal {
        Decimal::from(lots as i64)
            .checked_mul(self.lot)
            .unwrap_or(Decimal::MAX)
    }
}

/// Random draws built from raw `u64`s only, so they cannot change with a `rand` release.
struct Draw {
    rng: ChaCha8Rng,
}

impl Draw {
    /// Uniform in [0, 1), 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Approximately standard normal: Irwin–Hall, the sum of 12 uniforms minus 6.
    fn normal(&mut self) -> f64 {
        let mut sum = 0.0;
        for _ in 0..12 {
            sum += self.unit();
        }
        sum - 6.0
    }

    /// |approximately normal|, from 4 uniforms (cheaper; only shapes the wicks).
    fn half_normal(&mut self) -> f64 {
        let mut sum = 0.0;
        for _ in 0..4 {
            sum += self.unit();
        }
        // Var of the sum of 4 uniforms is 1/3; × √3 ≈ 1.732 restores unit variance.
        ((sum - 2.0) * 1.732_050_807_568_877_2).abs()
    }

    /// Uniform integer in [0, n).
    fn below(&mut self, n: u64) -> usize {
        (self.rng.next_u64() % n) as usize
    }
}

/// A decimal as an `f64` using only exact-rounded operations (one `as`, one division).
fn dec_to_f64(d: Decimal) -> f64 {
    let mut pow = 1.0f64;
    for _ in 0..d.scale() {
        pow *= 10.0;
    }
    d.mantissa() as f64 / pow
}

/// FNV-1a, 64-bit: a fixed, portable hash to pick the ChaCha stream from the symbol.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_are_exact() {
        assert_eq!(dec_to_f64(Decimal::new(1, 2)), 0.01);
        assert_eq!(dec_to_f64(Decimal::new(30_000, 0)), 30_000.0);
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn refuses_bad_specs() {
        let bad = |f: fn(&mut SynthSpec)| {
            let mut s = SynthSpec::default();
            f(&mut s);
            synth(&s).unwrap_err().to_string()
        };
        assert_eq!(
            bad(|s| s.tick = Decimal::ZERO),
            "invalid synthetic data spec: `tick` must be positive"
        );
        assert!(bad(|s| s.hourly_volatility = f64::NAN).contains("hourly_volatility"));
        assert!(bad(|s| s.regime_hours = (10, 5)).contains("regime_hours"));
        assert!(bad(|s| s.start_price = Decimal::new(1, 3)).contains("start_price"));
        assert!(bad(|s| s.candles = usize::MAX).contains("candles"));
        assert!(bad(|s| s.start_ms = i64::MAX - 1).contains("start_ms"));
        assert!(bad(|s| s.hourly_volume = 0.0).contains("hourly_volume"));
    }
}
