//! Reads the shared real-data files for the integration tests.

// Each test binary uses a subset of these helpers.
#![allow(dead_code)]

use aurum_core::Candle;
use aurum_core::money::parse_decimal;

/// `../shared/real_cases/<rel>` beside the repository, found relative to this crate (never copied into the repo).
pub fn real_case(rel: &str) -> String {
    format!(
        "{}/../../../shared/real_cases/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Reads an `open_time_ms,open,high,low,close,volume` file with exact decimals.
pub fn read_candles(rel: &str) -> Vec<Candle> {
    let path = real_case(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("open_time_ms,open,high,low,close,volume"),
        "{path}: header"
    );
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 6, "{path}:{}: {line}", i + 2);
            let d =
                |k: usize| parse_decimal(f[k]).unwrap_or_else(|e| panic!("{path}:{}: {e}", i + 2));
            Candle {
                open_time_ms: f[0]
                    .parse()
                    .unwrap_or_else(|e| panic!("{path}:{}: {e}", i + 2)),
                open: d(1),
                high: d(2),
                low: d(3),
                close: d(4),
                volume: d(5),
            }
        })
        .collect()
}

/// `a` and `b` agree to 1e-9 relative (1e-12 absolute near zero).
pub fn close_enough(a: f64, b: f64) -> bool {
    let diff = (a - b).abs();
    diff <= 1e-12 || diff <= 1e-9 * a.abs().max(b.abs())
}
