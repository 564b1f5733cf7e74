//! `aurum bench live-latency` and `aurum bench soak`: the live runtime's figures of
//! docs/BENCHMARKS.md, measured against the Binance-compatible simulator.
//!
//! - `live-latency` drives [`Runtime`] in this process, one simulator candle per tick, and reads
//!   the runtime's own candle → wire histogram ([`Runtime::latency`]); its baseline is one
//!   durable SQLite write done the plainest way on the same disk.
//! - `soak` runs `aurum exchange-sim` and `aurum live` as child processes for an hour of
//!   accelerated trading and samples the engine's resident memory and open file descriptors.

use crate::config::AppConfig;
use anyhow::{Context, Result, bail};
use aurum_core::{Decimal, Symbol, Timeframe};
use aurum_exchange::{BinanceClient, BinanceConfig};
use aurum_runtime::control::{self, STATUS_KEY};
use aurum_runtime::{BotConfig, Runtime, RuntimeOptions, RuntimeStatus};
use aurum_sim::{EXAMPLE_API_KEY, EXAMPLE_API_SECRET, PairConfig, PriceSource, SimConfig};
use aurum_store::{Store, StoreConfig};
use aurum_strategy::risk::RiskConfig;
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

/// Pairs the latency benchmark can list: BTC and ETH with Binance's grids, the others on the
/// simulator's generic grid.
const PAIRS: [&str; 8] = [
    "BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT", "ADA/USDT", "LTC/USDT", "DOT/USDT",
];

/// Candles each simulated pair has as history when the benchmark starts.
const HISTORY: usize = 300;

/// The target of the issue: candle → wire p99 on SQLite, µs.
const TARGET_P99_US: u64 = 2_000;

/// Options of `aurum bench live-latency`.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    /// Stop once the runtime has timed this many orders (candle → wire samples).
    #[arg(long, default_value_t = 10_000)]
    pub orders: u64,
    /// Store of the runtime: `sqlite://file.db` or `postgres://...` (default: a fresh SQLite file
    /// in a temporary directory). Every run trades as a new bot id.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Pairs traded (1–8: BTC, ETH, SOL, BNB, XRP, ADA, LTC, DOT against USDT). Orders of one
    /// candle are placed one after the other, so each pair adds to the later orders' latency.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub pairs: u8,
    /// Commits of the baseline (one durable SQLite INSERT each).
    #[arg(long, default_value_t = 2_000)]
    pub baseline_writes: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `aurum bench soak`.
#[derive(Debug, Args)]
pub struct SoakArgs {
    /// Minutes of trading.
    #[arg(long, default_value_t = 60.0)]
    pub minutes: f64,
    /// Seconds between samples of the engine's memory and file descriptors.
    #[arg(long, default_value_t = 10)]
    pub sample_secs: u64,
    /// Minutes of warm-up: the first sample at or after it is the RSS baseline.
    #[arg(long, default_value_t = 5.0)]
    pub warmup_minutes: f64,
    /// The simulator reveals one candle per pair this often, ms.
    #[arg(long, default_value_t = 50)]
    pub advance_every_ms: u64,
    /// Largest RSS growth (baseline → end) still called flat, %.
    #[arg(long, default_value_t = 5.0)]
    pub max_growth_pct: f64,
    /// The samples as CSV.
    #[arg(long, default_value = "soak.csv")]
    pub csv: PathBuf,
    /// Keep the temporary directory (configuration, database, logs) and print where it is.
    #[arg(long)]
    pub keep: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

/// The `key:  value kB` figure of a `/proc/<pid>/status` text (e.g. `VmRSS`, `Threads`).
pub fn proc_status_value(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The value at quantile `q` (0..=1) of ascending `sorted` values, by the nearest-rank rule
/// (`q = 0.99` of 100 values is the 99th); 0 when empty.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `(to / from − 1) × 100`; 0 when `from` is 0.
pub fn growth_pct(from: u64, to: u64) -> f64 {
    if from == 0 {
        0.0
    } else {
        (to as f64 / from as f64 - 1.0) * 100.0
    }
}

/// The least-squares slope of `points` (x, y), in y per x; 0 with fewer than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

/// The base URL in `aurum exchange-sim`'s start line
/// (`aurum exchange-sim listening on http://127.0.0.1:PORT (BTCUSDT, ETHUSDT)`).
pub fn sim_url_from_line(line: &str) -> Option<String> {
    let rest = line.split_once("listening on ")?.1;
    let url = rest.split_whitespace().next()?;
    url.starts_with("http://").then(|| url.to_string())
}

/// Percentiles of a set of durations, µs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MicrosSummary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Largest.
    pub max_us: u64,
}

impl MicrosSummary {
    /// Summarises `samples` (µs, any order).
    pub fn of(mut samples: Vec<u64>) -> MicrosSummary {
        samples.sort_unstable();
        MicrosSummary {
            count: samples.len() as u64,
            p50_us: quantile(&samples, 0.50),
            p90_us: quantile(&samples, 0.90),
            p99_us: quantile(&samples, 0.99),
            max_us: samples.last().copied().unwrap_or(0),
        }
    }
}

fn ms(us: u64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn wall_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// live-latency

/// What `aurum bench live-latency` measured.
#[derive(Debug, Serialize)]
struct LatencyReport {
    what: &'static str,
    store: String,
    backend: &'static str,
    pairs: Vec<String>,
    /// The runtime's histogram (hdrhistogram, 3 significant digits).
    candle_to_wire: aurum_runtime::LatencySummary,
    orders_per_s: f64,
    elapsed_s: f64,
    ticks: u64,
    tick: MicrosSummary,
    /// Ticks by how many orders they placed.
    orders_per_tick: BTreeMap<u64, u64>,
    orders_sent: u64,
    fills: u64,
    store_errors: u64,
    venue_errors: u64,
    writer_transactions: u64,
    writer_requests: u64,
    writer_requests_per_tx: f64,
    writer_commit_p50_ms: f64,
    writer_commit_p99_ms: f64,
    baseline: &'static str,
    baseline_sqlite_commit: MicrosSummary,
    ratio_p99_vs_baseline_p99: f64,
    target_p99_us: u64,
    target_met: bool,
}

fn latency_sim_config(pairs: &[Symbol], candles: usize) -> SimConfig {
    SimConfig {
        pairs: pairs
            .iter()
            .enumerate()
            .map(|(i, s)| PairConfig {
                symbol: s.clone(),
                prices: PriceSource::Synth {
                    seed: 42 + i as u64,
                    candles,
                    start_ms: 0,
                    timeframe: Timeframe::M1,
                },
            })
            .collect(),
        balances: vec![("USDT".into(), Decimal::from(10_000_000))],
        history: Some(HISTORY),
        weight_limit: u32::MAX,
        ..SimConfig::default()
    }
    .starting_now()
}

/// Risk limits that let `churn` trade on every candle: only the venue filters remain.
fn permissive_risk() -> RiskConfig {
    RiskConfig {
        max_open_positions: 100,
        max_trades_per_day: u32::MAX,
        min_trade: Decimal::ZERO,
        max_risk_per_trade: Decimal::ONE,
        daily_loss_limit_pct: Decimal::ONE,
        drawdown_limit_pct: Decimal::ONE,
        max_consecutive_losses: u32::MAX,
        ..RiskConfig::default()
    }
}

fn latency_options(bot: &str, pairs: &[Symbol], config: &AppConfig) -> RuntimeOptions {
    // An entry at the close on every candle when flat, cancelled after one candle; an exit at
    // market one candle after a fill.
    let params = [
        ("quote", "12"),
        ("offset_bps", "0"),
        ("expire_after_bars", "1"),
        ("hold_bars", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    RuntimeOptions {
        bot: BotConfig {
            id: bot.into(),
            strategy: "churn".into(),
            params,
            pairs: pairs.iter().map(|s| s.to_string()).collect(),
            timeframe: "1m".into(),
            poll_interval_ms: 1,
            warmup_candles: 30,
            ..BotConfig::default()
        },
        risk: permissive_risk(),
        challenge: config.strategy.challenge_growth.clone(),
        fee_rate: Decimal::new(1, 3),
        start_cash: None,
        config_snapshot: serde_json::json!({"bench": "live-latency"}),
    }
}

/// One durable SQLite write the plainest way: a rusqlite connection, WAL, `synchronous=FULL`,
/// one small `INSERT` per transaction, `n` times; each commit timed, µs.
fn sqlite_baseline(path: &Path, n: usize) -> Result<Vec<u64>> {
    let conn = rusqlite::Connection::open(path)
        .with_context(|| format!("baseline database {}", path.display()))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "journal_mode is {mode}");
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE IF NOT EXISTS intent (
             id INTEGER PRIMARY KEY,
             client_order_id TEXT NOT NULL,
             body TEXT NOT NULL
         );",
    )?;
    let mut stmt = conn.prepare("INSERT INTO intent (client_order_id, body) VALUES (?1, ?2)")?;
    let body = r#"{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.00040","price":"30000.00"}"#;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("au-baseline-{i}");
        let t = Instant::now();
        conn.execute_batch("BEGIN")?;
        stmt.execute((id.as_str(), body))?;
        conn.execute_batch("COMMIT")?;
        samples.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    Ok(samples)
}

/// Runs `aurum bench live-latency`.
pub async fn live_latency(args: LatencyArgs, config: AppConfig) -> Result<ExitCode> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let pairs: Vec<Symbol> = PAIRS[..usize::from(args.pairs)]
        .iter()
        .map(|p| Symbol::parse(p))
        .collect::<Result<_, _>>()?;

    // The baseline first, on the disk the default store uses.
    let base_path = dir.path().join("baseline.db");
    let n = args.baseline_writes.max(1);
    let baseline = tokio::task::spawn_blocking(move || sqlite_baseline(&base_path, n))
        .await
        .context("the baseline thread failed")??;
    let baseline = MicrosSummary::of(baseline);

    // About one order per pair every other candle: room for three times that.
    let candles = HISTORY + 1_000 + usize::try_from(args.orders)?.saturating_mul(3);
    let sim = aurum_sim::spawn(latency_sim_config(&pairs, candles)).await?;
    let mut cfg =
        BinanceConfig::new(sim.base_url()).with_credentials(EXAMPLE_API_KEY, EXAMPLE_API_SECRET);
    cfg.recv_window_ms = 5_000;
    cfg.backoff = Duration::from_millis(10);
    let client = BinanceClient::new(cfg)?;
    let url = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("latency.db").display()));
    let store = Store::open(&StoreConfig {
        url,
        ..config.store.clone()
    })
    .await?;
    let bot = format!("lat{:x}", wall_secs());
    let (_stop, rx) = watch::channel(false);
    let mut rt = Runtime::start(client, store, latency_options(&bot, &pairs, &config), rx).await?;
    if !rt.reconciliation().ok || rt.halted() {
        bail!(
            "the runtime does not trade: reconciliation {:?}",
            rt.reconciliation()
        );
    }

    let pb = crate::progress::bar(args.orders, "orders");
    let mut tick_us = Vec::new();
    let mut per_tick: BTreeMap<u64, u64> = BTreeMap::new();
    let started = Instant::now();
    let mut revealed = HISTORY;
    while rt.latency().summary().count < args.orders {
        if revealed >= candles {
            bail!(
                "the simulator ran out of candles after {} timed orders",
                rt.latency().summary().count
            );
        }
        {
            let now = sim.sim.now_ms();
            sim.sim.engine.lock().advance(None, 1, now);
        }
        revealed += 1;
        let sent = rt.stats().orders_sent;
        let t = Instant::now();
        rt.tick().await?;
        tick_us.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
        *per_tick.entry(rt.stats().orders_sent - sent).or_default() += 1;
        pb.set_position(rt.latency().summary().count.min(args.orders));
    }
    let elapsed = started.elapsed().as_secs_f64();
    pb.finish_and_clear();

    let lat = rt.latency().summary();
    let stats = rt.stats().clone();
    let store = rt.store().clone();
    let writer = store.writer_status();
    let target = store.target();
    let backend = store.backend();
    drop(rt);
    store.close().await;
    drop(sim);

    let ratio = if baseline.p99_us == 0 {
        0.0
    } else {
        lat.p99_us as f64 / baseline.p99_us as f64
    };
    let r = LatencyReport {
        what: "closed candle -> order handed to the venue's HTTP client (\"on the wire\"), \
               durable intent write included; started when the poll that brought the candle \
               answered",
        store: target,
        backend,
        pairs: pairs.iter().map(|s| s.to_string()).collect(),
        candle_to_wire: lat,
        orders_per_s: lat.count as f64 / elapsed,
        elapsed_s: elapsed,
        ticks: tick_us.len() as u64,
        tick: MicrosSummary::of(tick_us),
        orders_per_tick: per_tick,
        orders_sent: stats.orders_sent,
        fills: stats.fills,
        store_errors: stats.store_errors,
        venue_errors: stats.venue_errors,
        writer_transactions: writer.batches_total,
        writer_requests: writer.requests_total,
        writer_requests_per_tx: writer.batch_size.mean,
        writer_commit_p50_ms: writer.commit_ms.p50,
        writer_commit_p99_ms: writer.commit_ms.p99,
        baseline: "plain rusqlite on the same disk: WAL, synchronous=FULL, one small INSERT per \
                   transaction (BEGIN; INSERT; COMMIT timed)",
        baseline_sqlite_commit: baseline,
        ratio_p99_vs_baseline_p99: ratio,
        target_p99_us: TARGET_P99_US,
        target_met: lat.p99_us <= TARGET_P99_US,
    };
    if args.json {
        crate::say!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["measure", "value"]);
    let spread: Vec<String> = r
        .orders_per_tick
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let rows = [
        ("store".to_string(), format!("{} ({})", r.store, r.backend)),
        ("pairs".into(), r.pairs.join(", ")),
        (
            "candle → wire, orders timed".into(),
            format!("{}", lat.count),
        ),
        (
            "candle → wire p50 / p90".into(),
            format!("{} / {}", ms(lat.p50_us), ms(lat.p90_us)),
        ),
        (
            "candle → wire p99 / max".into(),
            format!("{} / {}", ms(lat.p99_us), ms(lat.max_us)),
        ),
        (
            "orders/s".into(),
            format!("{:.0} ({:.1} s)", r.orders_per_s, r.elapsed_s),
        ),
        (
            "tick (poll, sync, strategy, orders, state) p50 / p99".into(),
            format!("{} / {}", ms(r.tick.p50_us), ms(r.tick.p99_us)),
        ),
        ("ticks by orders placed".into(), spread.join(", ")),
        (
            "orders sent / fills / errors (store, venue)".into(),
            format!(
                "{} / {} / {}, {}",
                r.orders_sent, r.fills, r.store_errors, r.venue_errors
            ),
        ),
        (
            "writer: transactions, requests/tx, COMMIT p50 / p99".into(),
            format!(
                "{}, {:.2}, {:.3} / {:.3} ms",
                r.writer_transactions,
                r.writer_requests_per_tx,
                r.writer_commit_p50_ms,
                r.writer_commit_p99_ms
            ),
        ),
        (
            format!(
                "baseline: plain SQLite durable INSERT, {} commits, p50 / p99",
                baseline.count
            ),
            format!("{} / {}", ms(baseline.p50_us), ms(baseline.p99_us)),
        ),
        (
            "candle → wire p99 / baseline p99".into(),
            format!("{:.2}x", r.ratio_p99_vs_baseline_p99),
        ),
        (
            "target p99 ≤ 2 ms".into(),
            if r.target_met { "met" } else { "NOT met" }.into(),
        ),
    ];
    for (k, v) in rows {
        t.add_row([k, v]);
    }
    crate::say!("{t}");
    crate::say!(
        "\"on the wire\" = the signed request handed to the venue's HTTP client (reqwest), after \
         the intent's durable write was acknowledged; the clock starts when the poll that \
         brought the closed candle answered."
    );
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// soak

/// The bot id of the soak.
const SOAK_BOT: &str = "soak";

/// One sample of the engine process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since trading started.
    pub elapsed_s: f64,
    /// Resident set size, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Its anonymous part (heap, stacks), KiB (`RssAnon`).
    pub rss_anon_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Threads.
    pub threads: u64,
    /// Orders sent, from the status heartbeat.
    pub orders_sent: u64,
    /// Fills stored, from the status heartbeat.
    pub fills: u64,
    /// Loop iterations, from the status heartbeat.
    pub ticks: u64,
    /// Orders not final, from the status heartbeat.
    pub working_orders: u64,
}

impl Sample {
    /// The CSV header.
    pub const CSV_HEADER: &'static str =
        "elapsed_s,rss_kib,rss_anon_kib,fds,threads,orders_sent,fills,ticks,working_orders";

    /// One CSV line.
    pub fn csv(&self) -> String {
        format!(
            "{:.1},{},{},{},{},{},{},{},{}",
            self.elapsed_s,
            self.rss_kib,
            self.rss_anon_kib,
            self.fds,
            self.threads,
            self.orders_sent,
            self.fills,
            self.ticks,
            self.working_orders
        )
    }
}

/// What a soak found, from its samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoakSummary {
    /// Samples taken.
    pub samples: usize,
    /// When the baseline sample was taken, s.
    pub baseline_at_s: f64,
    /// RSS of the first sample at or after the warm-up, KiB (the baseline).
    pub rss_baseline_kib: u64,
    /// RSS of the last sample, KiB.
    pub rss_end_kib: u64,
    /// Largest RSS seen, KiB.
    pub rss_max_kib: u64,
    /// The anonymous part (heap) of the baseline RSS, KiB.
    pub rss_anon_baseline_kib: u64,
    /// The anonymous part of the last RSS, KiB.
    pub rss_anon_end_kib: u64,
    /// Baseline → end, %.
    pub rss_growth_pct: f64,
    /// Least-squares trend of the RSS after the warm-up, KiB per hour.
    pub rss_trend_kib_per_hour: f64,
    /// Largest fd count up to the baseline sample.
    pub fds_max_start: u64,
    /// Largest fd count from the baseline sample on.
    pub fds_max_after_warmup: u64,
    /// Fds of the last sample.
    pub fds_end: u64,
    /// Threads at the baseline sample and at the end.
    pub threads_start: u64,
    /// Threads of the last sample.
    pub threads_end: u64,
}

impl SoakSummary {
    /// Summarises samples in time order; `None` when none was taken at or after `warmup_s`.
    pub fn of(samples: &[Sample], warmup_s: f64) -> Option<SoakSummary> {
        let b = samples.iter().position(|s| s.elapsed_s >= warmup_s)?;
        let base = samples[b];
        let last = *samples.last()?;
        let after = &samples[b..];
        let points: Vec<(f64, f64)> = after
            .iter()
            .map(|s| (s.elapsed_s / 3600.0, s.rss_kib as f64))
            .collect();
        Some(SoakSummary {
            samples: samples.len(),
            baseline_at_s: base.elapsed_s,
            rss_baseline_kib: base.rss_kib,
            rss_end_kib: last.rss_kib,
            rss_max_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
            rss_anon_baseline_kib: base.rss_anon_kib,
            rss_anon_end_kib: last.rss_anon_kib,
            rss_growth_pct: growth_pct(base.rss_kib, last.rss_kib),
            rss_trend_kib_per_hour: slope(&points),
            fds_max_start: samples[..=b].iter().map(|s| s.fds).max().unwrap_or(0),
            fds_max_after_warmup: after.iter().map(|s| s.fds).max().unwrap_or(0),
            fds_end: last.fds,
            threads_start: base.threads,
            threads_end: last.threads,
        })
    }
}

/// What `aurum bench soak` reports.
#[derive(Debug, Serialize)]
struct SoakReport {
    minutes: f64,
    sample_secs: u64,
    warmup_minutes: f64,
    advance_every_ms: u64,
    csv: String,
    summary: Option<SoakSummary>,
    orders_sent: u64,
    fills: u64,
    ticks: u64,
    venue_errors: u64,
    store_errors: u64,
    latency: Option<aurum_runtime::LatencySummary>,
    db_bytes: u64,
    live_exit_code: Option<i32>,
    live_stop_s: f64,
    live_died_early: bool,
    pass: bool,
    verdict: String,
}

fn soak_config_text(db_url: &str) -> String {
    format!(
        r#"[store]
url = "{db_url}"

[bot]
id = "{SOAK_BOT}"
strategy = "churn"
pairs = ["BTC/USDT", "ETH/USDT"]
timeframe = "1m"
poll_interval_ms = 20
warmup_candles = 30

[bot.params]
quote = "12"
offset_bps = "1"
expire_after_bars = "2"
hold_bars = "2"

[risk]
max_open_positions = 10
max_trades_per_day = 4000000000
min_trade = "0"
max_risk_per_trade = "1"
daily_loss_limit_pct = "1"
drawdown_limit_pct = "1"
max_consecutive_losses = 4000000000

[exchange]
recv_window_ms = 5000
timeout_ms = 5000
max_retries = 3
"#
    )
}

/// `/proc/<pid>` figures: (VmRSS KiB, RssAnon KiB, Threads, open fds).
fn proc_sample(pid: u32) -> Option<(u64, u64, u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = proc_status_value(&status, "VmRSS")?;
    let anon = proc_status_value(&status, "RssAnon").unwrap_or(0);
    let threads = proc_status_value(&status, "Threads").unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some((rss, anon, threads, fds))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Sends SIGTERM (the graceful stop of `aurum live` and `aurum exchange-sim`).
fn sigterm(pid: u32) -> Result<()> {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("cannot run kill")?;
    anyhow::ensure!(status.success(), "kill -TERM {pid} failed: {status}");
    Ok(())
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Runs `aurum bench soak`.
pub async fn soak(args: SoakArgs, _config: AppConfig) -> Result<ExitCode> {
    if !args.minutes.is_finite() || args.minutes <= 0.0 || args.sample_secs == 0 {
        bail!("--minutes and --sample-secs must be positive");
    }
    if !args.warmup_minutes.is_finite()
        || args.warmup_minutes < 0.0
        || args.warmup_minutes >= args.minutes
    {
        bail!(
            "--warmup-minutes {} must be shorter than --minutes {}",
            args.warmup_minutes,
            args.minutes
        );
    }
    if !Path::new("/proc/self/status").is_file() {
        bail!("the soak reads /proc (Linux only)");
    }
    let exe = std::env::current_exe().context("cannot find the aurum binary")?;
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dir = tmp.path().to_path_buf();
    let _keep = if args.keep {
        let p = tmp.keep();
        eprintln!("soak directory: {}", p.display());
        None
    } else {
        Some(tmp)
    };
    let run = Duration::from_secs_f64(args.minutes * 60.0);

    // The simulator, in its own process.
    let advance = args.advance_every_ms.max(1);
    let candles = 2_000 + 3_000 + (run.as_millis() as u64 * 12 / 10 / advance) as usize;
    let sim_log = dir.join("sim.log");
    let mut sim = tokio::process::Command::new(&exe)
        .args(["exchange-sim", "--port", "0", "--start", "now"])
        .args(["--advance-every-ms", &advance.to_string()])
        .args(["--max-fill-quote", "5", "--balances", "USDT=10000000"])
        .args(["--symbols", "BTCUSDT,ETHUSDT", "--history", "2000"])
        .args(["--candles", &candles.to_string()])
        .args(["--weight-limit", "1000000000"])
        .env("AURUM_SIM_API_KEY", EXAMPLE_API_KEY)
        .env("AURUM_SIM_API_SECRET", EXAMPLE_API_SECRET)
        .env("RUST_LOG", "warn")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&sim_log)?)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start aurum exchange-sim")?;
    let stdout = sim.stdout.take().context("no simulator stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let base_url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = sim_url_from_line(&line) {
                return Ok(url);
            }
        }
        bail!("the simulator exited:\n{}", tail(&sim_log, 20))
    })
    .await
    .context("the simulator did not start within 60 s")??;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    // The engine, in its own process.
    let db_path = dir.join("soak.db");
    let config_path = dir.join("aurum.toml");
    std::fs::write(
        &config_path,
        soak_config_text(&format!("sqlite://{}", db_path.display())),
    )?;
    let live_log = dir.join("live.log");
    let mut live = tokio::process::Command::new(&exe)
        .arg("--config")
        .arg(&config_path)
        .args(["live", "--base-url", &base_url])
        .env("AURUM_API_KEY", EXAMPLE_API_KEY)
        .env("AURUM_API_SECRET", EXAMPLE_API_SECRET)
        .env("RUST_LOG", "warn")
        .env_remove("AURUM__STORE__URL")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&live_log)?)
        .stderr(std::fs::OpenOptions::new().append(true).open(&live_log)?)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start aurum live")?;
    let pid = live.id().context("aurum live has no pid")?;
    let t = Instant::now();
    while !std::fs::read_to_string(&live_log)
        .unwrap_or_default()
        .contains("reconciliation:")
    {
        if let Some(status) = live.try_wait()? {
            bail!(
                "aurum live exited at start ({status}):\n{}",
                tail(&live_log, 40)
            );
        }
        if t.elapsed() > Duration::from_secs(120) {
            bail!(
                "aurum live did not start within 120 s:\n{}",
                tail(&live_log, 40)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let store = Store::open(&StoreConfig {
        url: format!("sqlite://{}", db_path.display()),
        ..StoreConfig::default()
    })
    .await?;

    // Samples until the end.
    let mut csv = std::io::BufWriter::new(
        std::fs::File::create(&args.csv)
            .with_context(|| format!("--csv {}", args.csv.display()))?,
    );
    writeln!(csv, "{}", Sample::CSV_HEADER)?;
    let total_s = run.as_secs().max(1);
    let pb = crate::progress::bar(total_s, "soak seconds");
    let hidden = pb.is_hidden();
    let started = Instant::now();
    let every = Duration::from_secs(args.sample_secs);
    let mut samples: Vec<Sample> = Vec::new();
    let mut last_status: Option<RuntimeStatus> = None;
    let mut died_early = false;
    let mut next = started;
    let mut last_line = 0u64;
    loop {
        if let Some(status) = live.try_wait()? {
            died_early = true;
            pb.println(format!(
                "aurum live exited by itself ({status}):\n{}",
                tail(&live_log, 40)
            ));
            break;
        }
        if let Ok(Some(s)) =
            control::read_state::<RuntimeStatus>(&store, SOAK_BOT, STATUS_KEY).await
        {
            last_status = Some(s);
        }
        let Some((rss, anon, threads, fds)) = proc_sample(pid) else {
            died_early = true;
            break;
        };
        let st = last_status.as_ref();
        let sample = Sample {
            elapsed_s: started.elapsed().as_secs_f64(),
            rss_kib: rss,
            rss_anon_kib: anon,
            fds,
            threads,
            orders_sent: st.map_or(0, |s| s.stats.orders_sent),
            fills: st.map_or(0, |s| s.stats.fills),
            ticks: st.map_or(0, |s| s.stats.ticks),
            working_orders: st.map_or(0, |s| s.working_orders as u64),
        };
        writeln!(csv, "{}", sample.csv())?;
        csv.flush()?;
        samples.push(sample);
        pb.set_position(started.elapsed().as_secs().min(total_s));
        let minute = started.elapsed().as_secs() / 60;
        if hidden && (minute > last_line || samples.len() == 1) {
            last_line = minute;
            eprintln!(
                "soak {:>6.0} s: RSS {} KiB (anon {}), {} fds, {} threads, {} orders, {} fills",
                sample.elapsed_s,
                sample.rss_kib,
                sample.rss_anon_kib,
                sample.fds,
                sample.threads,
                sample.orders_sent,
                sample.fills
            );
        }
        if started.elapsed() >= run {
            break;
        }
        next += every;
        let wake = next.min(started + run);
        tokio::time::sleep_until(tokio::time::Instant::from_std(wake)).await;
    }
    pb.finish_and_clear();

    // The graceful stop: SIGTERM, which must end with exit code 0.
    let stop = Instant::now();
    let exit_code = if died_early {
        live.wait().await?.code()
    } else {
        sigterm(pid)?;
        match tokio::time::timeout(Duration::from_secs(60), live.wait()).await {
            Ok(s) => s?.code(),
            Err(_) => {
                live.start_kill()?;
                live.wait().await?;
                None
            }
        }
    };
    let live_stop_s = stop.elapsed().as_secs_f64();
    if let Ok(Some(s)) = control::read_state::<RuntimeStatus>(&store, SOAK_BOT, STATUS_KEY).await {
        last_status = Some(s);
    }
    store.close().await;
    if let Some(id) = sim.id() {
        let _ = sigterm(id);
    }
    if tokio::time::timeout(Duration::from_secs(30), sim.wait())
        .await
        .is_err()
    {
        sim.start_kill()?;
        sim.wait().await?;
    }

    let warmup_s = args.warmup_minutes * 60.0;
    let summary = SoakSummary::of(&samples, warmup_s);
    let st = last_status.as_ref();
    let orders_sent = st.map_or(0, |s| s.stats.orders_sent);
    let mut problems = Vec::new();
    if died_early {
        problems.push("aurum live died during the soak".to_string());
    }
    if exit_code != Some(0) {
        problems.push(format!(
            "aurum live exited with {exit_code:?} after SIGTERM, not 0"
        ));
    }
    if orders_sent == 0 {
        problems.push("no order was sent".into());
    }
    match &summary {
        None => problems.push("no sample after the warm-up".into()),
        Some(s) => {
            if s.rss_growth_pct > args.max_growth_pct {
                problems.push(format!(
                    "RSS grew {:+.2} % (limit {} %)",
                    s.rss_growth_pct, args.max_growth_pct
                ));
            }
            if s.fds_max_after_warmup > s.fds_max_start {
                problems.push(format!(
                    "open fds grew: max {} up to the warm-up, {} after",
                    s.fds_max_start, s.fds_max_after_warmup
                ));
            }
        }
    }
    let pass = problems.is_empty();
    let verdict = match (&summary, pass) {
        (Some(s), true) => format!(
            "PASS: RSS flat ({:+.2} % over {:.0} min after warm-up, limit {} %), fds {} → {} (no growth), graceful stop exit 0",
            s.rss_growth_pct,
            (samples.last().map_or(0.0, |l| l.elapsed_s) - s.baseline_at_s) / 60.0,
            args.max_growth_pct,
            s.fds_max_start,
            s.fds_max_after_warmup
        ),
        _ => format!("FAIL: {}", problems.join("; ")),
    };
    let r = SoakReport {
        minutes: args.minutes,
        sample_secs: args.sample_secs,
        warmup_minutes: args.warmup_minutes,
        advance_every_ms: advance,
        csv: args.csv.display().to_string(),
        summary: summary.clone(),
        orders_sent,
        fills: st.map_or(0, |s| s.stats.fills),
        ticks: st.map_or(0, |s| s.stats.ticks),
        venue_errors: st.map_or(0, |s| s.stats.venue_errors),
        store_errors: st.map_or(0, |s| s.stats.store_errors),
        latency: st.map(|s| s.latency),
        db_bytes: file_len(&db_path) + file_len(&dir.join("soak.db-wal")),
        live_exit_code: exit_code,
        live_stop_s,
        live_died_early: died_early,
        pass,
        verdict,
    };
    if args.json {
        crate::say!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(["measure", "value"]);
        let mut rows = vec![(
            "run".to_string(),
            format!(
                "{} min, a sample every {} s ({} samples), a candle per pair every {} ms",
                r.minutes,
                r.sample_secs,
                samples.len(),
                r.advance_every_ms
            ),
        )];
        if let Some(s) = &summary {
            rows.extend([
                (
                    format!("RSS at {:.0} s (baseline, after warm-up)", s.baseline_at_s),
                    format!("{} KiB", s.rss_baseline_kib),
                ),
                (
                    "RSS at the end / max".into(),
                    format!("{} / {} KiB", s.rss_end_kib, s.rss_max_kib),
                ),
                (
                    "anonymous (heap) part: baseline / end".into(),
                    format!("{} / {} KiB", s.rss_anon_baseline_kib, s.rss_anon_end_kib),
                ),
                (
                    "RSS growth baseline → end".into(),
                    format!("{:+.2} %", s.rss_growth_pct),
                ),
                (
                    "RSS trend after warm-up".into(),
                    format!("{:+.0} KiB/h", s.rss_trend_kib_per_hour),
                ),
                (
                    "open fds: max to warm-up / max after / end".into(),
                    format!(
                        "{} / {} / {}",
                        s.fds_max_start, s.fds_max_after_warmup, s.fds_end
                    ),
                ),
                (
                    "threads: baseline / end".into(),
                    format!("{} / {}", s.threads_start, s.threads_end),
                ),
            ]);
        }
        rows.extend([
            (
                "orders sent / fills / ticks".into(),
                format!("{} / {} / {}", r.orders_sent, r.fills, r.ticks),
            ),
            (
                "errors (venue, store)".into(),
                format!("{}, {}", r.venue_errors, r.store_errors),
            ),
            (
                "database size at the end".into(),
                format!("{:.1} MiB", r.db_bytes as f64 / 1_048_576.0),
            ),
            (
                "SIGTERM → exit".into(),
                format!(
                    "{} in {:.2} s",
                    r.live_exit_code
                        .map_or("killed".to_string(), |c| format!("code {c}")),
                    r.live_stop_s
                ),
            ),
            ("samples".into(), r.csv.clone()),
        ]);
        for (k, v) in rows {
            t.add_row([k, v]);
        }
        crate::say!("{t}");
        crate::say!("verdict: {}", r.verdict);
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_status_figures() {
        let text = "Name:\taurum\nVmPeak:\t  812345 kB\nVmRSS:\t   23456 kB\nRssAnon:\t   12000 kB\nThreads:\t7\n";
        assert_eq!(proc_status_value(text, "VmRSS"), Some(23_456));
        assert_eq!(proc_status_value(text, "Threads"), Some(7));
        assert_eq!(proc_status_value(text, "VmSwap"), None);
        // A key is matched whole, not as a prefix of another.
        assert_eq!(proc_status_value(text, "Rss"), None);
        let own = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if !own.is_empty() {
            assert!(proc_status_value(&own, "VmRSS").unwrap() > 0);
        }
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.99), 99);
        assert_eq!(quantile(&v, 1.0), 100);
        assert_eq!(quantile(&v, 0.0), 1);
        assert_eq!(quantile(&[], 0.5), 0);
        assert_eq!(quantile(&[7], 0.99), 7);
        let s = MicrosSummary::of(vec![5, 1, 4, 2, 3]);
        assert_eq!(
            (s.count, s.p50_us, s.p90_us, s.p99_us, s.max_us),
            (5, 3, 5, 5, 5)
        );
    }

    #[test]
    fn growth_and_trend() {
        assert_eq!(growth_pct(0, 10), 0.0);
        assert!((growth_pct(200, 210) - 5.0).abs() < 1e-9);
        assert!((growth_pct(200, 190) + 5.0).abs() < 1e-9);
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 + 2.0 * i as f64)).collect();
        assert!((slope(&line) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[(1.0, 5.0)]), 0.0);
        assert_eq!(slope(&[(1.0, 5.0), (1.0, 9.0)]), 0.0);
    }

    #[test]
    fn finds_the_simulator_url() {
        assert_eq!(
            sim_url_from_line(
                "aurum exchange-sim listening on http://127.0.0.1:40123 (BTCUSDT, ETHUSDT)"
            )
            .as_deref(),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(sim_url_from_line("something else"), None);
    }

    fn sample(t: f64, rss: u64, fds: u64) -> Sample {
        Sample {
            elapsed_s: t,
            rss_kib: rss,
            rss_anon_kib: 0,
            fds,
            threads: 5,
            ..Sample::default()
        }
    }

    #[test]
    fn soak_summary_from_the_first_sample_after_warm_up() {
        let samples = [
            sample(0.0, 10_000, 20),
            sample(300.0, 20_000, 22),
            sample(600.0, 20_500, 21),
            sample(900.0, 21_000, 22),
        ];
        let s = SoakSummary::of(&samples, 300.0).unwrap();
        assert_eq!(s.baseline_at_s, 300.0);
        assert_eq!(
            (s.rss_baseline_kib, s.rss_end_kib, s.rss_max_kib),
            (20_000, 21_000, 21_000)
        );
        assert!((s.rss_growth_pct - 5.0).abs() < 1e-9);
        // 1,000 KiB over 600 s: 6,000 KiB/h.
        assert!((s.rss_trend_kib_per_hour - 6_000.0).abs() < 1e-6);
        assert_eq!(
            (s.fds_max_start, s.fds_max_after_warmup, s.fds_end),
            (22, 22, 22)
        );
        assert!(SoakSummary::of(&samples, 1_000.0).is_none());
        assert_eq!(samples[1].csv(), "300.0,20000,0,22,5,0,0,0,0");
        assert_eq!(
            Sample::CSV_HEADER.split(',').count(),
            samples[1].csv().split(',').count()
        );
    }

    #[test]
    fn the_soak_config_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aurum.toml");
        std::fs::write(&path, soak_config_text("sqlite://x.db")).unwrap();
        let c = AppConfig::load(Some(&path)).unwrap();
        assert_eq!(c.bot.strategy, "churn");
        assert_eq!(c.bot.pairs.len(), 2);
        c.bot.validate().unwrap();
        c.risk.validate().unwrap();
    }
}
