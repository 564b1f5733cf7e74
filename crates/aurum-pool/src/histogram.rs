//! A small lock-free histogram with fixed buckets, for latencies and for plain values.
//!
//! Recording is three relaxed atomic operations (bucket count, sum, max) after a binary search
//! over the bucket bounds: cheap enough for a pool's hot path and safe to share between threads
//! without a lock. Buckets follow Prometheus' `le` rule: a value goes to the first bucket whose
//! upper bound is greater than or equal to it; values above the last bound go to the `+Inf`
//! bucket. Quantiles are estimated from the buckets by linear interpolation (as Prometheus'
//! `histogram_quantile` does), capped by the exact maximum.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Nanoseconds per second, for converting recorded durations.
const NANOS_PER_SEC: f64 = 1e9;

/// Why a histogram could not be built from the given bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistogramError {
    /// No bounds were given.
    #[error("a histogram needs at least one bucket bound")]
    NoBounds,
    /// The bounds are not strictly increasing.
    #[error(
        "histogram bucket bounds must be strictly increasing, but bound {index} ({value}) is not above the one before it"
    )]
    NotIncreasing {
        /// Position of the offending bound.
        index: usize,
        /// Its value.
        value: u64,
    },
}

/// A histogram of `u64` values over fixed, inclusive upper bucket bounds.
///
/// Use [`Histogram::latency`] and [`Histogram::record_duration`] for durations (recorded in
/// nanoseconds), or [`Histogram::with_bounds`] and [`Histogram::record`] for plain values such
/// as batch sizes.
///
/// ```
/// use aurum_pool::Histogram;
/// let sizes = Histogram::with_bounds(vec![1, 10, 100]).unwrap();
/// for v in [1, 5, 7, 250] {
///     sizes.record(v);
/// }
/// let snap = sizes.snapshot();
/// assert_eq!(snap.counts, vec![1, 2, 0, 1]); // ≤1, ≤10, ≤100, +Inf
/// assert_eq!(snap.cumulative_counts(), vec![1, 3, 3]);
/// assert_eq!((snap.count(), snap.sum, snap.max), (4, 263, 250));
/// ```
#[derive(Debug)]
pub struct Histogram {
    /// Inclusive upper bounds, strictly increasing.
    bounds: Box<[u64]>,
    /// One count per bound plus the `+Inf` bucket at the end.
    counts: Box<[AtomicU64]>,
    /// Sum of all recorded values (wraps on overflow, which needs 2^64 of them).
    sum: AtomicU64,
    /// Largest value recorded so far.
    max: AtomicU64,
}

impl Histogram {
    /// A histogram over the given inclusive upper bounds (strictly increasing, at least one).
    pub fn with_bounds(bounds: impl Into<Vec<u64>>) -> Result<Self, HistogramError> {
        let bounds: Vec<u64> = bounds.into();
        if bounds.is_empty() {
            return Err(HistogramError::NoBounds);
        }
        if let Some(index) = (1..bounds.len()).find(|&i| bounds[i] <= bounds[i - 1]) {
            return Err(HistogramError::NotIncreasing {
                index,
                value: bounds[index],
            });
        }
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Ok(Self {
            bounds: bounds.into_boxed_slice(),
            counts,
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        })
    }

    /// A histogram for durations in nanoseconds, with the bounds of [`LATENCY_BOUNDS_NANOS`]
    /// (10 µs to 100 s in a 1-2-5 series).
    pub fn latency() -> Self {
        Self {
            counts: (0..=LATENCY_BOUNDS_NANOS.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            bounds: LATENCY_BOUNDS_NANOS.into(),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }

    /// Records one value.
    pub fn record(&self, value: u64) {
        let index = self.bounds.partition_point(|&bound| bound < value);
        // Relaxed is enough: the counters are independent and only read for reporting.
        self.counts[index].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
        self.max.fetch_max(value, Ordering::Relaxed);
    }

    /// Records a duration as whole nanoseconds (saturating at `u64::MAX`, about 584 years).
    pub fn record_duration(&self, duration: Duration) {
        self.record(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
    }

    /// The inclusive upper bucket bounds.
    pub fn bounds(&self) -> &[u64] {
        &self.bounds
    }

    /// A copy of the current figures. Taken without a lock, so under concurrent recording the
    /// sum and max may include a value whose bucket count is not in yet; the count is always
    /// the sum of the bucket counts, so the buckets are self-consistent.
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds: self.bounds.to_vec(),
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum: self.sum.load(Ordering::Relaxed),
            max: self.max.load(Ordering::Relaxed),
        }
    }
}

/// Bucket bounds of [`Histogram::latency`] in nanoseconds: 10 µs, 20 µs, 50 µs, 100 µs, …,
/// 50 s, 100 s (a 1-2-5 series, so the Prometheus `le` labels read as round numbers: `0.00001`
/// … `100`). The top covers the default `pool_timeout` of 30 s with room to spare.
pub const LATENCY_BOUNDS_NANOS: [u64; 22] = [
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    20_000_000_000,
    50_000_000_000,
    100_000_000_000,
];

/// The figures of a [`Histogram`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramSnapshot {
    /// Inclusive upper bucket bounds.
    pub bounds: Vec<u64>,
    /// Count per bucket (not cumulative): one per bound, then the `+Inf` bucket.
    pub counts: Vec<u64>,
    /// Sum of all recorded values.
    pub sum: u64,
    /// Largest recorded value (0 when empty).
    pub max: u64,
}

impl HistogramSnapshot {
    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Cumulative counts per bound (`le` buckets of a Prometheus histogram); the `+Inf` bucket
    /// is [`count`](Self::count).
    pub fn cumulative_counts(&self) -> Vec<u64> {
        self.counts[..self.bounds.len()]
            .iter()
            .scan(0u64, |total, c| {
                *total += c;
                Some(*total)
            })
            .collect()
    }

    /// Estimated value at quantile `q` (0.0 ..= 1.0), or `None` when empty or `q` is not in
    /// range. The target is the value of rank `ceil(q·n)`; inside its bucket the estimate is
    /// interpolated linearly between the bucket's bounds, the upper one capped by the exact
    /// maximum (so a single value, and the top quantile, come out exact).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        // Ranks are 1-based; q = 0 means the smallest value.
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let max = self.max as f64;
        let mut before = 0u64;
        for (index, &count) in self.counts.iter().enumerate() {
            if before + count >= rank {
                let upper = self.bounds.get(index).map_or(max, |&b| (b as f64).min(max));
                let lower = match index {
                    0 => 0.0,
                    _ => (self.bounds[index - 1] as f64).min(upper),
                };
                let within = (rank - before) as f64 / count as f64;
                return Some(lower + (upper - lower) * within);
            }
            before += count;
        }
        Some(max)
    }
}

/// A duration histogram summarised for people (milliseconds) and for Prometheus (seconds).
///
/// Built from a snapshot of a histogram that recorded nanoseconds (see
/// [`Histogram::record_duration`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DurationSummary {
    /// Number of recorded durations (also the `+Inf` bucket).
    pub count: u64,
    /// Median, milliseconds (0 when empty).
    pub p50: f64,
    /// 90th percentile, milliseconds (0 when empty).
    pub p90: f64,
    /// 99th percentile, milliseconds (0 when empty).
    pub p99: f64,
    /// Exact maximum, milliseconds.
    pub max: f64,
    /// Sum of all durations, seconds.
    pub sum_seconds: f64,
    /// Inclusive upper bucket bounds, seconds.
    pub bucket_bounds_seconds: Vec<f64>,
    /// Cumulative count per bound (Prometheus `le` buckets), same length as the bounds.
    pub bucket_counts: Vec<u64>,
}

impl DurationSummary {
    /// Summarises a snapshot of a histogram that recorded nanoseconds.
    pub fn from_nanos(snapshot: &HistogramSnapshot) -> Self {
        let ms = |q: f64| snapshot.quantile(q).unwrap_or(0.0) / 1e6;
        Self {
            count: snapshot.count(),
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            max: snapshot.max as f64 / 1e6,
            sum_seconds: snapshot.sum as f64 / NANOS_PER_SEC,
            bucket_bounds_seconds: snapshot
                .bounds
                .iter()
                .map(|&b| b as f64 / NANOS_PER_SEC)
                .collect(),
            bucket_counts: snapshot.cumulative_counts(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_bounds() {
        assert_eq!(
            Histogram::with_bounds(Vec::new()).unwrap_err(),
            HistogramError::NoBounds
        );
        assert_eq!(
            Histogram::with_bounds(vec![1, 5, 5]).unwrap_err(),
            HistogramError::NotIncreasing { index: 2, value: 5 }
        );
    }

    #[test]
    fn values_land_in_le_buckets() {
        let h = Histogram::with_bounds(vec![10, 20, 50]).unwrap();
        // On a bound goes into that bound's bucket (Prometheus `le`), just above into the next.
        for v in [0, 10, 11, 20, 21, 50, 51, 1_000] {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(s.counts, vec![2, 2, 2, 2]);
        assert_eq!(s.cumulative_counts(), vec![2, 4, 6]);
        assert_eq!(s.count(), 8);
        assert_eq!(s.sum, 10 + 11 + 20 + 21 + 50 + 51 + 1_000);
        assert_eq!(s.max, 1_000);
    }

    #[test]
    fn quantiles_of_one_to_hundred_are_exact_on_decade_buckets() {
        let h = Histogram::with_bounds((1..=10).map(|d| d * 10).collect::<Vec<u64>>()).unwrap();
        for v in 1..=100 {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(s.counts, [vec![10; 10], vec![0]].concat());
        assert_eq!(s.quantile(0.5), Some(50.0));
        assert_eq!(s.quantile(0.9), Some(90.0));
        assert_eq!(s.quantile(0.99), Some(99.0));
        assert_eq!(s.quantile(1.0), Some(100.0));
        // Rank 1 is the first of ten values spread over (0, 10].
        assert_eq!(s.quantile(0.0), Some(1.0));
        assert_eq!(s.quantile(0.25), Some(25.0));
        assert_eq!(s.quantile(1.5), None);
        assert_eq!(s.quantile(f64::NAN), None);
    }

    #[test]
    fn quantile_is_capped_by_the_exact_max() {
        let h = Histogram::with_bounds(vec![100, 1_000]).unwrap();
        h.record(130);
        let s = h.snapshot();
        // Without the cap the estimate would be 1_000.
        assert_eq!(s.quantile(0.5), Some(130.0));
        // Above the last bound the +Inf bucket is interpolated up to the max.
        let h = Histogram::with_bounds(vec![100]).unwrap();
        h.record(300);
        h.record(500);
        let s = h.snapshot();
        assert_eq!(s.counts, vec![0, 2]);
        assert_eq!(s.quantile(0.5), Some(300.0));
        assert_eq!(s.quantile(0.99), Some(500.0));
    }

    #[test]
    fn empty_histogram_has_no_quantiles() {
        let s = Histogram::latency().snapshot();
        assert_eq!(s.count(), 0);
        assert_eq!(s.quantile(0.5), None);
        let summary = DurationSummary::from_nanos(&s);
        assert_eq!((summary.count, summary.p99, summary.max), (0, 0.0, 0.0));
        assert_eq!(summary.bucket_counts, vec![0; LATENCY_BOUNDS_NANOS.len()]);
    }

    #[test]
    fn durations_are_recorded_in_nanoseconds_and_summarised_in_ms_and_seconds() {
        let h = Histogram::latency();
        h.record_duration(Duration::from_micros(15)); // (10 µs, 20 µs]
        h.record_duration(Duration::from_millis(3)); // (2 ms, 5 ms]
        h.record_duration(Duration::from_millis(3)); // (2 ms, 5 ms]
        h.record_duration(Duration::from_secs(120)); // +Inf
        let s = h.snapshot();
        assert_eq!(s.counts[1], 1);
        assert_eq!(s.counts[8], 2);
        assert_eq!(s.counts[LATENCY_BOUNDS_NANOS.len()], 1);
        assert_eq!(s.sum, 15_000 + 6_000_000 + 120_000_000_000);
        let summary = DurationSummary::from_nanos(&s);
        assert_eq!(summary.count, 4);
        assert_eq!(summary.max, 120_000.0);
        assert_eq!(summary.sum_seconds, 120.006015);
        assert_eq!(summary.bucket_bounds_seconds[0], 0.00001);
        assert_eq!(summary.bucket_bounds_seconds[8], 0.005);
        assert_eq!(summary.bucket_bounds_seconds[21], 100.0);
        assert_eq!(summary.bucket_counts[0], 0);
        assert_eq!(summary.bucket_counts[1], 1);
        assert_eq!(summary.bucket_counts[8], 3);
        assert_eq!(summary.bucket_counts[21], 3);
        // Rank 2 of 4 is the first of two values in (2 ms, 5 ms]: 2 + 3·½ = 3.5 ms.
        assert_eq!(summary.p50, 3.5);
        // Rank 4 is in +Inf, interpolated from 100 s to the max of 120 s.
        assert_eq!(summary.p99, 120_000.0);
    }

    #[test]
    fn huge_durations_saturate() {
        let h = Histogram::latency();
        h.record_duration(Duration::MAX);
        assert_eq!(h.snapshot().max, u64::MAX);
    }

    #[test]
    fn concurrent_recording_loses_nothing() {
        let h = Histogram::with_bounds(vec![1, 2, 3]).unwrap();
        std::thread::scope(|scope| {
            for t in 0..4u64 {
                let h = &h;
                scope.spawn(move || {
                    for _ in 0..10_000 {
                        h.record(t);
                    }
                });
            }
        });
        let s = h.snapshot();
        assert_eq!(s.counts, vec![20_000, 10_000, 10_000, 0]);
        assert_eq!(s.sum, 60_000);
        assert_eq!(s.max, 3);
    }
}
