//! Aligning several series on one time axis, by index (no candle is copied).

use aurum_core::Candle;

/// The union of the timestamps of several series and, per timestamp, the index of each
/// series' candle at that time (or `None` where that series has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aligned {
    timestamps: Vec<i64>,
    pairs: usize,
    /// Row-major: `slots[row * pairs + pair]`.
    slots: Vec<Option<usize>>,
}

/// A series handed to [`align`] whose timestamps do not strictly increase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "series {series}: candle {index} (open time {ts}) is not after the candle before it; \
     align needs strictly increasing timestamps"
)]
pub struct NotIncreasing {
    /// Position of the series in the input.
    pub series: usize,
    /// Index of the offending candle.
    pub index: usize,
    /// Its open time (ms).
    pub ts: i64,
}

/// Aligns series with strictly increasing timestamps (as the loaders return them) on the union
/// of their timestamps, in time order.
pub fn align(series: &[&[Candle]]) -> Result<Aligned, NotIncreasing> {
    for (s, candles) in series.iter().enumerate() {
        if let Some(i) = candles
            .windows(2)
            .position(|w| w[1].open_time_ms <= w[0].open_time_ms)
        {
            return Err(NotIncreasing {
                series: s,
                index: i + 1,
                ts: candles[i + 1].open_time_ms,
            });
        }
    }
    let pairs = series.len();
    let longest = series.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut timestamps = Vec::with_capacity(longest);
    let mut slots = Vec::with_capacity(longest * pairs);
    let mut cursor = vec![0usize; pairs];
    // A k-way merge: each round takes the earliest head and advances every series that has it.
    loop {
        let next = series
            .iter()
            .zip(&cursor)
            .filter_map(|(s, &c)| s.get(c).map(|candle| candle.open_time_ms))
            .min();
        let Some(ts) = next else { break };
        timestamps.push(ts);
        for (s, c) in series.iter().zip(cursor.iter_mut()) {
            if s.get(*c).is_some_and(|candle| candle.open_time_ms == ts) {
                slots.push(Some(*c));
                *c += 1;
            } else {
                slots.push(None);
            }
        }
    }
    Ok(Aligned {
        timestamps,
        pairs,
        slots,
    })
}

impl Aligned {
    /// The union of the timestamps, increasing.
    pub fn timestamps(&self) -> &[i64] {
        &self.timestamps
    }

    /// How many series were aligned.
    pub fn pairs(&self) -> usize {
        self.pairs
    }

    /// Number of timestamps (rows).
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// True when no series had a candle.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// For row `row`, the index of each series' candle (`None` where it has none).
    pub fn row(&self, row: usize) -> Option<&[Option<usize>]> {
        let start = row.checked_mul(self.pairs)?;
        self.slots.get(start..start.checked_add(self.pairs)?)
    }

    /// The index of series `pair`'s candle at row `row`, if it has one.
    pub fn index(&self, row: usize, pair: usize) -> Option<usize> {
        if pair >= self.pairs {
            return None;
        }
        self.row(row)?.get(pair).copied().flatten()
    }

    /// Iterates over `(timestamp, indices)` rows in time order.
    pub fn rows(&self) -> impl Iterator<Item = (i64, &[Option<usize>])> + '_ {
        self.timestamps
            .iter()
            .enumerate()
            .map(|(r, &ts)| (ts, self.row(r).unwrap_or(&[])))
    }

    /// The first row where every series has a candle (where a multi-pair backtest can start).
    pub fn first_complete_row(&self) -> Option<usize> {
        (0..self.len()).find(|&r| self.row(r).is_some_and(|s| s.iter().all(Option::is_some)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn s(ts: &[i64]) -> Vec<Candle> {
        ts.iter()
            .map(|&t| Candle {
                open_time_ms: t,
                open: dec!(1),
                high: dec!(1),
                low: dec!(1),
                close: dec!(1),
                volume: dec!(1),
            })
            .collect()
    }

    #[test]
    fn merges_by_index() {
        let a = s(&[1, 2, 4]);
        let b = s(&[2, 3, 4, 5]);
        let al = align(&[&a, &b]).unwrap();
        assert_eq!(al.timestamps(), &[1, 2, 3, 4, 5]);
        let rows: Vec<Vec<Option<usize>>> = al.rows().map(|(_, r)| r.to_vec()).collect();
        assert_eq!(
            rows,
            vec![
                vec![Some(0), None],
                vec![Some(1), Some(0)],
                vec![None, Some(1)],
                vec![Some(2), Some(2)],
                vec![None, Some(3)],
            ]
        );
        assert_eq!(al.first_complete_row(), Some(1));
        assert_eq!(al.index(4, 1), Some(3));
        assert_eq!(al.index(4, 0), None);
        assert_eq!(al.index(9, 0), None);
        assert_eq!(al.index(0, 2), None);
    }

    #[test]
    fn edge_cases() {
        let empty = align(&[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.rows().count(), 0);
        let a = s(&[1, 2]);
        let none: Vec<Candle> = Vec::new();
        let al = align(&[&a, &none]).unwrap();
        assert_eq!(al.len(), 2);
        assert_eq!(al.first_complete_row(), None);
        let bad = s(&[1, 3, 3]);
        assert_eq!(
            align(&[&a, &bad]).unwrap_err(),
            NotIncreasing {
                series: 1,
                index: 2,
                ts: 3
            }
        );
    }
}
