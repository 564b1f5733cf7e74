//! A year of one-minute candles (525,600 equity points) and 5,000 trades: computing the
//! metrics and daily rows (aurum-core) and rendering the HTML page and the equity CSV.
//!
//! `cargo bench -p aurum-report`

use aurum_core::performance::{EquityPoint, Trade, compute_metrics, daily_rows};
use aurum_core::{Decimal, Symbol};
use aurum_report::{BacktestReport, write_equity_csv, write_html};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const Y2023: i64 = 1_672_531_200_000;

fn curve() -> Vec<EquityPoint> {
    // A deterministic wobble with drift, in cents.
    let mut cents: i64 = 100_000;
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..525_600i64)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            cents += (state % 201) as i64 - 99;
            EquityPoint {
                ts_ms: Y2023 + i * 60_000,
                equity: Decimal::new(cents.max(1), 2),
                exposed: i % 3 != 0,
            }
        })
        .collect()
}

fn trades() -> Vec<Trade> {
    let pair = Symbol::new("BTC", "USDT").expect("valid pair");
    (0..5_000i64)
        .map(|i| Trade {
            pair: pair.clone(),
            entry_time_ms: Y2023 + i * 6_000_000,
            entry_price: Decimal::new(2_000_000 + i, 2),
            exit_time_ms: Y2023 + i * 6_000_000 + 3_000_000,
            exit_price: Decimal::new(2_000_500 + i, 2),
            quantity: Decimal::new(15, 4),
            pnl: Decimal::new((i % 7) - 3, 2),
            fees: Decimal::new(6, 3),
            exit_reason: "signal".into(),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let equity = curve();
    let trades = trades();
    let start = Decimal::new(1000, 0);
    let bh = [(Decimal::new(16_500, 0), Decimal::new(42_000, 0))];
    c.bench_function("compute_metrics 525,600 points", |b| {
        b.iter(|| compute_metrics(start, black_box(&equity), black_box(&trades), &bh))
    });
    c.bench_function("daily_rows 525,600 points", |b| {
        b.iter(|| daily_rows(start, black_box(&equity), black_box(&trades)))
    });
    let report = BacktestReport {
        run_id: "bench".into(),
        strategy: "bench".into(),
        params: serde_json::json!({}),
        pairs: vec!["BTC/USDT".into()],
        timeframe: "1m".into(),
        data_sources: vec![],
        fee_rate: Decimal::new(1, 3),
        slippage_bps: 0,
        metrics: compute_metrics(start, &equity, &trades, &bh),
        daily: daily_rows(start, &equity, &trades),
        trades,
        equity,
        strategy_status: serde_json::Value::Null,
        started_at_ms: 0,
        finished_at_ms: 0,
    };
    c.bench_function("write_html 525,600 points, 5,000 trades", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(4 << 20);
            write_html(black_box(&report), &mut out).expect("in-memory write");
            out
        })
    });
    c.bench_function("write_equity_csv 525,600 points", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(32 << 20);
            write_equity_csv(black_box(&report.equity), &mut out).expect("in-memory write");
            out
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
