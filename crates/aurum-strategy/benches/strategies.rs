//! Candles per second through `Strategy::on_bar` (the backtest's inner loop) over 1,000,000
//! synthetic candles of one pair, flat context (no position, so every cross above signals).
//!
//! Run: `cargo bench -p aurum-strategy --bench strategies -- --warm-up-time 1 --measurement-time 3`

use aurum_core::{Candle, Decimal};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::strategies::{ChallengeGrowth, ChallengeGrowthConfig, SmaCross};
use aurum_strategy::strategy::{Bar, Strategy, StrategyContext};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const CANDLES: usize = 1_000_000;

/// A deterministic random walk (xorshift64*), candles in exact decimals plus their f64 view.
fn synthetic(n: usize) -> Vec<(Candle, Ohlcv)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut close = 3_000_000i64; // cents
    (0..n)
        .map(|i| {
            let open = close;
            close = (open as f64 * (1.0 + (next() - 0.5) * 0.02)).max(100.0) as i64;
            let high = open.max(close) + (next() * 500.0) as i64;
            let low = (open.min(close) - (next() * 500.0) as i64).max(1);
            let candle = Candle {
                open_time_ms: i as i64 * 60_000,
                open: Decimal::new(open, 2),
                high: Decimal::new(high, 2),
                low: Decimal::new(low, 2),
                close: Decimal::new(close, 2),
                volume: Decimal::new(100 + (next() * 1000.0) as i64, 1),
            };
            let ohlcv = Ohlcv::from_candle(&candle);
            (candle, ohlcv)
        })
        .collect()
}

fn drive(strategy: &mut dyn Strategy, candles: &[(Candle, Ohlcv)]) -> usize {
    let mut signals = Vec::with_capacity(4);
    let mut count = 0;
    for (candle, ohlcv) in candles {
        let ctx = StrategyContext {
            now_ms: candle.open_time_ms + 60_000,
            equity: Decimal::from(50),
            cash: Decimal::from(50),
            position: None,
            open_positions: 0,
            pending_order: false,
        };
        let bar = Bar {
            pair: 0,
            candle,
            ohlcv: *ohlcv,
        };
        strategy.on_bar(&ctx, &bar, &mut signals);
        count += signals.len();
        signals.clear();
    }
    count
}

fn bench(c: &mut Criterion) {
    let candles = synthetic(CANDLES);
    let mut group = c.benchmark_group("on_bar_1M_candles");
    group.throughput(Throughput::Elements(CANDLES as u64));
    group.sample_size(10);
    group.bench_function("sma_cross_10_30", |b| {
        b.iter(|| {
            let mut s = SmaCross::new(10, 30).unwrap();
            black_box(drive(&mut s, &candles))
        })
    });
    group.bench_function("challenge_growth", |b| {
        b.iter(|| {
            let mut s = ChallengeGrowth::new(ChallengeGrowthConfig::default()).unwrap();
            black_box(drive(&mut s, &candles))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
