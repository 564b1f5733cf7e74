//! Thinning a long series for a chart without losing its spikes.

/// At most this many points are drawn per chart.
pub const MAX_CHART_POINTS: usize = 2_000;

/// Picks at most `max_points` indices of `values` (ascending) to draw a line chart of them:
/// all of them when they fit; otherwise the first and the last, and from each of
/// `(max_points − 2) / 2` equal buckets of the points between, the lowest and the highest
/// (once if they are the same point). So every spike and every dip survives: the thinned line
/// has exactly the same minimum and maximum as the full one. O(n), one pass.
///
/// `max_points` below 4 is treated as 4. NaN values are never picked as extremes.
pub fn min_max_indices(values: &[f64], max_points: usize) -> Vec<usize> {
    let n = values.len();
    let max_points = max_points.max(4);
    if n <= max_points {
        return (0..n).collect();
    }
    let inner = n - 2; // points 1..n-1 go into buckets
    let buckets = (max_points - 2) / 2;
    let mut out = Vec::with_capacity(max_points);
    out.push(0);
    for b in 0..buckets {
        // Bucket b covers [1 + b·inner/buckets, 1 + (b+1)·inner/buckets): sizes differ by at
        // most one and the buckets tile the interior exactly.
        let lo = 1 + b * inner / buckets;
        let hi = 1 + (b + 1) * inner / buckets;
        if lo >= hi {
            continue;
        }
        let (mut min_i, mut max_i) = (lo, lo);
        for i in lo..hi {
            if values[i] < values[min_i] || values[min_i].is_nan() {
                min_i = i;
            }
            if values[i] > values[max_i] || values[max_i].is_nan() {
                max_i = i;
            }
        }
        let (a, b) = if min_i <= max_i {
            (min_i, max_i)
        } else {
            (max_i, min_i)
        };
        out.push(a);
        if b != a {
            out.push(b);
        }
    }
    out.push(n - 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extremes(v: impl Iterator<Item = f64>) -> (f64, f64) {
        v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        })
    }

    #[test]
    fn short_series_are_kept_whole() {
        assert_eq!(min_max_indices(&[1.0, 2.0, 3.0], 2_000), [0, 1, 2]);
        assert!(min_max_indices(&[], 2_000).is_empty());
    }

    #[test]
    fn spikes_and_dips_survive() {
        // 525,600 points of a gentle wave with one spike up and one dip down, each one point
        // wide, in the middle of a bucket.
        let n = 525_600;
        let mut v: Vec<f64> = (0..n).map(|i| 1000.0 + (i as f64 / 5000.0).sin()).collect();
        v[123_457] = 5000.0;
        v[400_001] = 10.0;
        let idx = min_max_indices(&v, MAX_CHART_POINTS);
        assert!(idx.len() <= MAX_CHART_POINTS, "{} points", idx.len());
        assert!(idx.len() >= MAX_CHART_POINTS - 2);
        assert!(idx.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
        assert_eq!((idx[0], *idx.last().unwrap()), (0, n - 1));
        assert!(idx.contains(&123_457) && idx.contains(&400_001));
        assert_eq!(
            extremes(idx.iter().map(|i| v[*i])),
            extremes(v.iter().copied())
        );
    }

    #[test]
    fn every_bucket_keeps_its_own_extremes() {
        // A saw-tooth whose every bucket has a distinct min and max.
        let v: Vec<f64> = (0..10_000).map(|i| (i % 7) as f64).collect();
        let idx = min_max_indices(&v, 100);
        assert!(idx.len() <= 100);
        let picked: Vec<f64> = idx[1..idx.len() - 1].iter().map(|i| v[*i]).collect();
        assert_eq!(picked.iter().filter(|x| **x == 0.0).count(), 49);
        assert_eq!(picked.iter().filter(|x| **x == 6.0).count(), 49);
    }
}
