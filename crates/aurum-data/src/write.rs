//! Writing candles in aurum's CSV format.

use crate::aurum_csv::HEADER;
use aurum_core::Candle;
use std::io::{self, BufWriter, Write};

/// Writes `candles` as aurum CSV (header, then one line per candle, `\n` line ends). Decimals
/// are printed exactly as stored, scale included (`420.0` stays `420.0`), so loading the output
/// gives back identical candles.
pub fn write_csv(candles: &[Candle], out: impl Write) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 16, out);
    writeln!(w, "{HEADER}")?;
    for c in candles {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            c.open_time_ms, c.open, c.high, c.low, c.close, c.volume
        )?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn writes_exact_text() {
        let c = Candle {
            open_time_ms: 1_449_878_400_000,
            open: dec!(420.0),
            high: dec!(420.00),
            low: dec!(0.00005330),
            close: dec!(420),
            volume: dec!(0.0003038),
        };
        let mut out = Vec::new();
        write_csv(&[c], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "open_time_ms,open,high,low,close,volume\n\
             1449878400000,420.0,420.00,0.00005330,420,0.0003038\n"
        );
    }
}
