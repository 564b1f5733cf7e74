//! A fixed-size ring of the last `n` values, for the running-sum indicators.

/// The last `capacity` values pushed; O(1) push, no reallocation after construction.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    buf: Vec<f64>,
    /// Slot the next push writes; once full, it holds the oldest value.
    head: usize,
    len: usize,
}

impl Ring {
    /// A ring for `capacity >= 1` values (callers validate the period first).
    pub(crate) fn new(capacity: usize) -> Ring {
        Ring {
            buf: vec![0.0; capacity.max(1)],
            head: 0,
            len: 0,
        }
    }

    /// Appends `x`, dropping the oldest value once the ring is full.
    pub(crate) fn push(&mut self, x: f64) {
        self.buf[self.head] = x;
        self.head += 1;
        if self.head == self.buf.len() {
            self.head = 0;
        }
        if self.len < self.buf.len() {
            self.len += 1;
        }
    }

    /// Whether `capacity` values have been pushed.
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// The oldest value held; when full, the one the next push will drop.
    pub(crate) fn oldest(&self) -> f64 {
        if self.is_full() {
            self.buf[self.head]
        } else {
            self.buf[0]
        }
    }

    /// The values held, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (start, len) = if self.is_full() {
            (self.head, self.buf.len())
        } else {
            (0, self.len)
        };
        (0..len).map(move |i| self.buf[(start + i) % self.buf.len()])
    }

    /// Empties the ring.
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn keeps_the_last_values_and_reports_the_oldest() {
        let mut r = Ring::new(3);
        r.push(1.0);
        r.push(2.0);
        assert!(!r.is_full());
        assert_eq!(r.iter().collect::<Vec<_>>(), [1.0, 2.0]);
        assert_eq!(r.oldest(), 1.0);
        r.push(3.0);
        assert!(r.is_full());
        assert_eq!(r.oldest(), 1.0);
        r.push(4.0);
        assert_eq!(r.oldest(), 2.0);
        r.push(5.0);
        assert_eq!(r.oldest(), 3.0);
        assert_eq!(r.iter().collect::<Vec<_>>(), [3.0, 4.0, 5.0]);
        r.clear();
        assert!(!r.is_full());
        r.push(9.0);
        assert_eq!(r.oldest(), 9.0);
    }

    #[test]
    fn a_ring_of_one_holds_the_latest_value() {
        let mut r = Ring::new(1);
        r.push(7.0);
        assert!(r.is_full());
        assert_eq!(r.oldest(), 7.0);
        r.push(8.0);
        assert_eq!(r.oldest(), 8.0);
    }
}
