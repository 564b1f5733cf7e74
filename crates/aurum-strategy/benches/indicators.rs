//! Updates per second of the streaming indicators over 1,000,000 synthetic candles.
//!
//! Run: `cargo bench -p aurum-strategy --bench indicators -- --warm-up-time 1 --measurement-time 3`

use aurum_strategy::indicators::{Atr, Bollinger, Ema, Macd, Ohlcv, Rsi, Sma};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const CANDLES: usize = 1_000_000;

/// A deterministic random walk (xorshift64*), so every run measures the same series.
fn synthetic_candles(n: usize) -> Vec<Ohlcv> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        // Uniform in [0, 1).
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut close = 30_000.0;
    (0..n)
        .map(|i| {
            let open = close;
            close = (open * (1.0 + (next() - 0.5) * 0.02)).max(1.0);
            let high = open.max(close) * (1.0 + next() * 0.005);
            let low = open.min(close) * (1.0 - next() * 0.005);
            Ohlcv {
                open_time_ms: i as i64 * 60_000,
                open,
                high,
                low,
                close,
                volume: 1.0 + next() * 10.0,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let bars = synthetic_candles(CANDLES);
    let mut group = c.benchmark_group("indicators_1M_candles");
    group.throughput(Throughput::Elements(CANDLES as u64));
    group.sample_size(10);

    group.bench_function("sma20", |b| {
        b.iter(|| {
            let mut sma = Sma::new(20).unwrap();
            for bar in &bars {
                black_box(sma.update(bar.close));
            }
        })
    });
    group.bench_function("ema20", |b| {
        b.iter(|| {
            let mut ema = Ema::new(20).unwrap();
            for bar in &bars {
                black_box(ema.update(bar.close));
            }
        })
    });
    group.bench_function("rsi14", |b| {
        b.iter(|| {
            let mut rsi = Rsi::new(14).unwrap();
            for bar in &bars {
                black_box(rsi.update(bar.close));
            }
        })
    });
    group.bench_function("macd_12_26_9", |b| {
        b.iter(|| {
            let mut macd = Macd::new(12, 26, 9).unwrap();
            for bar in &bars {
                black_box(macd.update(bar.close));
            }
        })
    });
    group.bench_function("bbands_20_2_2", |b| {
        b.iter(|| {
            let mut bb = Bollinger::new(20, 2.0, 2.0).unwrap();
            for bar in &bars {
                black_box(bb.update(bar.close));
            }
        })
    });
    group.bench_function("atr14", |b| {
        b.iter(|| {
            let mut atr = Atr::new(14).unwrap();
            for bar in &bars {
                black_box(atr.update(bar.high, bar.low, bar.close));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
