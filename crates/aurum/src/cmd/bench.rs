//! `aurum bench backtest`: the backtesting speed and memory figures of docs/BENCHMARKS.md,
//! measured in one process on generated data (no network, no files but a temporary CSV).

use crate::config::AppConfig;
use anyhow::{Context, Result};
use aurum_core::{Decimal, Symbol, SymbolFilters, Timeframe};
use aurum_engine::backtest::{self, BacktestConfig, PairData};
use aurum_engine::optimize::{Metric, ParamSpace, Search, optimize};
use aurum_strategy::risk::RiskManager;
use aurum_strategy::strategies::build_strategy;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

/// `aurum bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Backtest throughput (loading excluded and included, one and ten pairs), CSV parsing,
    /// optimizer scaling, and memory over consecutive runs.
    Backtest(BacktestBenchArgs),
    /// Closed candle → order on the wire (durable intent write included) of the live runtime
    /// against the simulator in this process: p50/p99 over many orders, against a plain
    /// durable SQLite write on the same disk.
    LiveLatency(super::bench_live::LatencyArgs),
    /// Accelerated live trading against `aurum exchange-sim` for an hour (separate processes):
    /// the engine's RSS and open file descriptors must stay flat, and SIGTERM must stop it
    /// cleanly.
    Soak(super::bench_live::SoakArgs),
}

/// Options of `aurum bench backtest`.
#[derive(Debug, Args)]
pub struct BacktestBenchArgs {
    /// 1-minute candles per pair (525,600 = one year).
    #[arg(long, default_value_t = 525_600)]
    pub candles: usize,
    /// Pairs of the multi-pair run.
    #[arg(long, default_value_t = 10)]
    pub pairs: usize,
    /// Consecutive backtests for the memory check.
    #[arg(long, default_value_t = 100)]
    pub runs: usize,
    /// Parameter sets of the optimizer run (timed on 1 thread and on all).
    #[arg(long, default_value_t = 16)]
    pub optimizer_sets: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    candles_per_pair: usize,
    backtest_excl_loading_candles_per_s: f64,
    backtest_incl_loading_candles_per_s: f64,
    csv_parse_rows_per_s: f64,
    ten_pairs: usize,
    ten_pairs_excl_loading_candles_per_s: f64,
    ten_pairs_incl_loading_candles_per_s: f64,
    optimizer_sets: usize,
    optimizer_one_thread_s: f64,
    optimizer_all_threads_s: f64,
    optimizer_threads: usize,
    optimizer_speedup: f64,
    rss_after_first_run_kib: u64,
    rss_after_last_run_kib: u64,
    consecutive_runs: usize,
    rss_growth_pct: f64,
    trades_of_one_run: usize,
    /// How the timings were taken.
    timing: String,
}

/// Resident set size of this process, from /proc (Linux); 0 elsewhere.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn synth(symbol: &str, candles: usize, seed: u64) -> Result<PairData> {
    let spec = aurum_data::SynthSpec {
        symbol: Symbol::parse(symbol)?,
        timeframe: Timeframe::M1,
        candles,
        seed,
        ..aurum_data::SynthSpec::default()
    };
    let c = aurum_data::synth(&spec)?;
    Ok(PairData::new(
        SymbolFilters::unrestricted(spec.symbol),
        c,
        format!("synth:{symbol}"),
    ))
}

/// Writes a pair's candles to `path` in aurum's CSV format.
fn write_csv_file(path: &std::path::Path, pair: &PairData) -> Result<()> {
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::new(f);
    aurum_data::write_csv(&pair.candles, &mut w)?;
    std::io::Write::flush(&mut w)?;
    Ok(())
}

fn sma(fast: u32, slow: u32) -> Result<Box<dyn aurum_strategy::strategy::Strategy>> {
    let params = [
        ("fast".to_string(), fast.to_string()),
        ("slow".to_string(), slow.to_string()),
    ];
    Ok(build_strategy("sma_cross", &params, &Default::default())?)
}

/// Runs `aurum bench ...`.
pub async fn run(command: BenchCommand, config: AppConfig) -> Result<ExitCode> {
    let args = match command {
        BenchCommand::Backtest(args) => args,
        BenchCommand::LiveLatency(args) => {
            return super::bench_live::live_latency(args, config).await;
        }
        BenchCommand::Soak(args) => return super::bench_live::soak(args, config).await,
    };
    let report = tokio::task::spawn_blocking(move || bench(&args, &config).map(|r| (r, args.json)))
        .await
        .context("the benchmark thread failed")??;
    let (r, json) = report;
    if json {
        crate::say!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(["measure", "value"]);
        let rows = [
            (
                format!(
                    "sma_cross, {} 1m candles, loading excluded",
                    r.candles_per_pair
                ),
                format!("{:.0} candles/s", r.backtest_excl_loading_candles_per_s),
            ),
            (
                "same, loading (CSV parse + prepare) included".into(),
                format!("{:.0} candles/s", r.backtest_incl_loading_candles_per_s),
            ),
            (
                "CSV parsing".into(),
                format!("{:.0} rows/s", r.csv_parse_rows_per_s),
            ),
            (
                format!("sma_cross, {} pairs aligned, loading excluded", r.ten_pairs),
                format!("{:.0} candles/s", r.ten_pairs_excl_loading_candles_per_s),
            ),
            (
                format!(
                    "same {} pairs, loading (CSV parse + prepare) included",
                    r.ten_pairs
                ),
                format!("{:.0} candles/s", r.ten_pairs_incl_loading_candles_per_s),
            ),
            (
                format!("optimizer, {} sets, 1 thread", r.optimizer_sets),
                format!("{:.2} s", r.optimizer_one_thread_s),
            ),
            (
                format!("optimizer, {} threads", r.optimizer_threads),
                format!(
                    "{:.2} s ({:.2}x)",
                    r.optimizer_all_threads_s, r.optimizer_speedup
                ),
            ),
            (
                format!("RSS after 1 / {} backtests", r.consecutive_runs),
                format!(
                    "{} / {} KiB ({:+.2}%)",
                    r.rss_after_first_run_kib, r.rss_after_last_run_kib, r.rss_growth_pct
                ),
            ),
        ];
        for (k, v) in rows {
            t.add_row([k, v]);
        }
        crate::say!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Timed runs of the single-pair backtest (loading excluded); the median is reported.
const SINGLE_PAIR_REPEATS: usize = 5;
/// Timed optimizer runs on one thread and on all threads; the median of each is reported.
const OPTIMIZER_REPEATS: usize = 3;

/// The median of the seconds `f` takes over `n` runs.
fn median_secs(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(median(times))
}

/// The median of a non-empty list of timings (the lower middle for an even count).
fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times
        .get((times.len().saturating_sub(1)) / 2)
        .copied()
        .unwrap_or(0.0)
}

fn bench(args: &BacktestBenchArgs, config: &AppConfig) -> Result<BenchReport> {
    let bt = BacktestConfig {
        cash: Decimal::from(10_000),
        fee_rate: Decimal::new(1, 3),
        slippage_bps: 0,
        timeframe: Timeframe::M1,
        bot_id: "bench".into(),
    };
    let stale = config.risk.stale_after_ms_for(Timeframe::M1.millis());
    let risk = RiskManager::new(config.risk.clone(), stale)?;
    let one = [synth("BTC/USDT", args.candles, 7)?];

    // Loading excluded: the candles and their f64 view are in memory already.
    let run_once = |data: &[PairData]| -> Result<backtest::BacktestOutcome> {
        Ok(backtest::run(
            data,
            &bt,
            sma(10, 30)?,
            risk.clone(),
            &mut |_| {},
        )?)
    };
    let trades = run_once(&one)?.trades.len(); // also warms the caches
    let excl = args.candles as f64 / median_secs(SINGLE_PAIR_REPEATS, || run_once(&one).map(drop))?;

    // Loading included: parse a CSV file, prepare, run.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("btc_1m.csv");
    write_csv_file(&path, &one[0])?;
    let t = Instant::now();
    let loaded = aurum_data::load(&path, &aurum_data::LoadOptions::default())?;
    let parse = t.elapsed().as_secs_f64();
    let data = [PairData::new(one[0].filters.clone(), loaded.candles, "csv")];
    run_once(&data)?;
    let incl = args.candles as f64 / t.elapsed().as_secs_f64();
    let csv_rows = args.candles as f64 / parse;

    // Ten pairs on one clock.
    let many: Vec<PairData> = (0..args.pairs)
        .map(|i| synth(&format!("P{i}/USDT"), args.candles, 100 + i as u64))
        .collect::<Result<_>>()?;
    let t = Instant::now();
    run_once(&many)?;
    let ten = (args.candles * args.pairs) as f64 / t.elapsed().as_secs_f64();

    // Ten pairs, loading included: the same candles written to one CSV file per pair, then
    // parsed, validated, prepared and run, timed as a whole.
    let paths: Vec<(std::path::PathBuf, SymbolFilters)> = many
        .iter()
        .enumerate()
        .map(|(i, pair)| {
            let path = dir.path().join(format!("p{i}_1m.csv"));
            write_csv_file(&path, pair)?;
            Ok((path, pair.filters.clone()))
        })
        .collect::<Result<_>>()?;
    drop(many);
    let t = Instant::now();
    let loaded: Vec<PairData> = paths
        .iter()
        .map(|(path, filters)| {
            let l = aurum_data::load(path, &aurum_data::LoadOptions::default())?;
            Ok(PairData::new(filters.clone(), l.candles, "csv"))
        })
        .collect::<Result<_>>()?;
    run_once(&loaded)?;
    let ten_incl = (args.candles * args.pairs) as f64 / t.elapsed().as_secs_f64();
    drop(loaded);

    // Optimizer: the same sets on one thread, then on all.
    let space = ParamSpace::parse(&["fast=5..40:5".to_string(), "slow=50..200:10".to_string()])?;
    let sets = space.random(args.optimizer_sets, 1);
    let challenge = Default::default();
    let search = |threads| Search {
        data: &one,
        config: &bt,
        strategy: "sma_cross",
        fixed: &[],
        challenge: &challenge,
        risk: &risk,
        metric: Metric::Sharpe,
        threads,
    };
    let all = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    // One thread and all threads taken in turns, so a slow spell of the machine does not
    // fall on one side only; the median of each side.
    let (mut one_thread, mut all_threads) = (Vec::new(), Vec::new());
    for _ in 0..OPTIMIZER_REPEATS {
        for (threads, times) in [(1, &mut one_thread), (all, &mut all_threads)] {
            let t = Instant::now();
            optimize(&search(Some(threads)), sets.clone(), &AtomicU64::new(0))?;
            times.push(t.elapsed().as_secs_f64());
        }
    }
    let opt1 = median(one_thread);
    let opt_all = median(all_threads);

    // Memory over consecutive runs in one process.
    run_once(&one)?;
    let rss_first = rss_kib();
    for _ in 1..args.runs {
        run_once(&one)?;
    }
    let rss_last = rss_kib();

    Ok(BenchReport {
        candles_per_pair: args.candles,
        backtest_excl_loading_candles_per_s: excl,
        backtest_incl_loading_candles_per_s: incl,
        csv_parse_rows_per_s: csv_rows,
        ten_pairs: args.pairs,
        ten_pairs_excl_loading_candles_per_s: ten,
        ten_pairs_incl_loading_candles_per_s: ten_incl,
        optimizer_sets: args.optimizer_sets,
        timing: format!(
            "single pair, loading excluded: median of {SINGLE_PAIR_REPEATS} runs; optimizer: \
             median of {OPTIMIZER_REPEATS} runs on one thread and on all, taken in turns; \
             the rest: one run each"
        ),
        optimizer_one_thread_s: opt1,
        optimizer_all_threads_s: opt_all,
        optimizer_threads: all,
        optimizer_speedup: opt1 / opt_all,
        rss_after_first_run_kib: rss_first,
        rss_after_last_run_kib: rss_last,
        consecutive_runs: args.runs,
        rss_growth_pct: if rss_first == 0 {
            0.0
        } else {
            (rss_last as f64 / rss_first as f64 - 1.0) * 100.0
        },
        trades_of_one_run: trades,
    })
}
