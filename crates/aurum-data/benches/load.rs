//! CSV loading throughput: one year of 1-minute candles (525,600 rows) generated with `synth`,
//! written to a temporary file and loaded (read, detect, parse, validate, infer timeframe).

use aurum_core::Timeframe;
use aurum_data::{LoadOptions, SynthSpec, load, synth, write_csv};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const ROWS: usize = 525_600;

fn bench_load(c: &mut Criterion) {
    let spec = SynthSpec {
        timeframe: Timeframe::M1,
        candles: ROWS,
        ..SynthSpec::default()
    };
    let candles = synth(&spec).expect("the bench spec is valid");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("btcusdt_1m.csv");
    let file = std::fs::File::create(&path).expect("a temporary file");
    write_csv(&candles, file).expect("writing the bench file");

    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("aurum_csv_525600_rows", |b| {
        b.iter(|| {
            let loaded = load(black_box(&path), &LoadOptions::default()).expect("loads");
            assert_eq!(loaded.candles.len(), ROWS);
            loaded
        })
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
