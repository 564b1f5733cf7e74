//! `indicator_table` against TA-Lib 0.8.2's outputs on the real BTC/USDT daily series.

mod common;

use aurum_strategy::indicators::{
    INDICATOR_CSV_HEADER, IndicatorRow, indicator_table, write_indicator_csv,
};
use common::{close_enough, read_candles, real_case};

const DATA: &str = "data/btcusdt_1d_bittrex.csv";
const REFERENCE: &str = "reference/talib_btcusdt_1d_bittrex.csv";

/// A CSV table of `open_time_ms` plus optional float cells.
struct Table {
    header: String,
    rows: Vec<(i64, Vec<Option<f64>>)>,
}

fn parse_table(name: &str, text: &str) -> Table {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let rows = lines
        .enumerate()
        .map(|(i, line)| {
            let mut fields = line.split(',');
            let t = fields
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("{name}:{}: bad open_time_ms", i + 2));
            let cells = fields
                .map(|c| {
                    (!c.is_empty()).then(|| {
                        c.parse::<f64>()
                            .unwrap_or_else(|e| panic!("{name}:{}: {c:?}: {e}", i + 2))
                    })
                })
                .collect();
            (t, cells)
        })
        .collect();
    Table { header, rows }
}

fn reference() -> Table {
    let path = real_case(REFERENCE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_table(&path, &text)
}

fn as_table(rows: &[IndicatorRow]) -> Vec<(i64, Vec<Option<f64>>)> {
    rows.iter()
        .map(|r| (r.open_time_ms, r.cells().to_vec()))
        .collect()
}

/// Every cell equal (both empty, or within 1e-9 relative) and the same lookback per column.
fn assert_matches_reference(ours: &[(i64, Vec<Option<f64>>)], reference: &Table) {
    let columns: Vec<&str> = reference.header.split(',').skip(1).collect();
    assert_eq!(ours.len(), reference.rows.len(), "row count");
    let mut empty_ours = vec![0usize; columns.len()];
    let mut empty_ref = vec![0usize; columns.len()];
    let mut compared = 0usize;
    for (i, ((t, cells), (rt, rcells))) in ours.iter().zip(&reference.rows).enumerate() {
        assert_eq!(t, rt, "row {i}: open_time_ms");
        assert_eq!(cells.len(), columns.len(), "row {i}: cell count");
        assert_eq!(rcells.len(), columns.len(), "reference row {i}: cell count");
        for (c, (ours, theirs)) in cells.iter().zip(rcells).enumerate() {
            empty_ours[c] += usize::from(ours.is_none());
            empty_ref[c] += usize::from(theirs.is_none());
            match (ours, theirs) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    assert!(
                        close_enough(*a, *b),
                        "row {i} ({t}), {}: ours {a} vs TA-Lib {b}",
                        columns[c]
                    );
                    compared += 1;
                }
                _ => panic!(
                    "row {i} ({t}), {}: ours {ours:?} vs TA-Lib {theirs:?}",
                    columns[c]
                ),
            }
        }
    }
    assert_eq!(empty_ours, empty_ref, "empty cells per column {columns:?}");
    // The lookbacks of TA-Lib: 19, 19, 14, 33 ×3, 19 ×3, 14, 1.
    assert_eq!(empty_ref, [19, 19, 14, 33, 33, 33, 19, 19, 19, 14, 1]);
    assert_eq!(compared, 874 * 11 - (19 * 5 + 14 * 2 + 33 * 3 + 1));
}

#[test]
fn indicator_table_matches_talib_on_btcusdt_daily() {
    let candles = read_candles(DATA);
    assert_eq!(candles.len(), 874);
    let reference = reference();
    assert_eq!(reference.header, INDICATOR_CSV_HEADER);
    assert_matches_reference(&as_table(&indicator_table(&candles)), &reference);
}

#[test]
fn indicator_table_is_bit_identical_to_talib_0_8() {
    // Stronger than the 1e-9 contract: the same operations in the same order (fused
    // multiply-adds, reciprocal scaling, the shifted-sum variance) give the very same floats.
    let ours = as_table(&indicator_table(&read_candles(DATA)));
    let reference = reference();
    let columns: Vec<&str> = reference.header.split(',').skip(1).collect();
    for ((t, cells), (_, rcells)) in ours.iter().zip(&reference.rows) {
        for (c, (a, b)) in cells.iter().zip(rcells).enumerate() {
            assert_eq!(
                a.map(f64::to_bits),
                b.map(f64::to_bits),
                "{t} {}: ours {a:?} vs TA-Lib {b:?}",
                columns[c]
            );
        }
    }
}

#[test]
fn written_csv_matches_talib_and_round_trips() {
    let candles = read_candles(DATA);
    let rows = indicator_table(&candles);
    let mut buf = Vec::new();
    write_indicator_csv(&rows, &mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let written = parse_table("written csv", &text);
    assert_eq!(written.header, INDICATOR_CSV_HEADER);
    assert_matches_reference(&written.rows, &reference());
    // Reading the text back gives the very same floats.
    assert_eq!(written.rows, as_table(&rows));
}
