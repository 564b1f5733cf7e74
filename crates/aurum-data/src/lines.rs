//! Line and field splitting for the CSV formats: a UTF-8 BOM, CRLF line ends and blank lines
//! are accepted; fields are separated by `,` and not quoted.

/// Strips a UTF-8 byte-order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The non-blank lines of a text, with their 1-based line numbers, without `\n` / `\r\n`.
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    line_no: usize,
}

impl<'a> Lines<'a> {
    /// Iterates over `bytes` (a BOM at the start is skipped).
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Lines {
            rest: strip_bom(bytes),
            line_no: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            self.line_no += 1;
            let (line, rest) = match memchr::memchr(b'\n', self.rest) {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, &self.rest[..0]),
            };
            self.rest = rest;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            // Stops at the first non-space byte, so a data line costs one comparison.
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some((self.line_no, line));
            }
        }
        None
    }
}

/// Splits a line into exactly `N` comma-separated fields, or returns how many it has.
pub(crate) fn fields<const N: usize>(line: &[u8]) -> Result<[&[u8]; N], usize> {
    let mut out = [&line[..0]; N];
    let mut n = 0;
    let mut start = 0;
    for i in memchr::memchr_iter(b',', line) {
        if n < N {
            out[n] = &line[start..i];
        }
        n += 1;
        start = i + 1;
    }
    if n < N {
        out[n] = &line[start..];
    }
    n += 1;
    if n == N { Ok(out) } else { Err(n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_bom_crlf_and_blanks() {
        let text = b"\xEF\xBB\xBFa,b\r\n\r\n  \nc,d\n\n";
        let lines: Vec<_> = Lines::new(text).collect();
        assert_eq!(lines, vec![(1, &b"a,b"[..]), (4, &b"c,d"[..])]);
        assert_eq!(Lines::new(b"").count(), 0);
        assert_eq!(Lines::new(b"x").collect::<Vec<_>>(), vec![(1, &b"x"[..])]);
    }

    #[test]
    fn fields_count_exactly() {
        assert_eq!(fields::<3>(b"1,2,3"), Ok([&b"1"[..], b"2", b"3"]));
        assert_eq!(fields::<3>(b"1,2,"), Ok([&b"1"[..], b"2", b""]));
        assert_eq!(fields::<3>(b"1,2"), Err(2));
        assert_eq!(fields::<3>(b"1,2,3,4,5"), Err(5));
        assert_eq!(fields::<2>(b""), Err(1));
    }
}
