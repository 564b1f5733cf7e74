//! `aurum backtest` and `aurum runs`.

use crate::config::AppConfig;
use anyhow::{Context, Result, bail};
use aurum_core::{Decimal, Symbol, SymbolFilters, Timeframe};
use aurum_engine::backtest::{self, BacktestConfig, BacktestOutcome, PairData};
use aurum_report::BacktestReport;
use aurum_store::{BacktestRunRecord, BacktestTrade, DailyPerformance, WriteOp};
use aurum_strategy::risk::RiskManager;
use aurum_strategy::strategies::build_strategy;
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `aurum backtest`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Candle file(s), comma-separated, one per pair (aurum CSV, Binance klines CSV, freqtrade JSON).
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "synth",
        conflicts_with = "synth"
    )]
    pub data: Vec<PathBuf>,
    /// Instead of files, generate deterministic synthetic candles for each pair (the generator
    /// of `aurum data synth`: same options, same bytes on every machine).
    #[arg(long)]
    pub synth: bool,
    /// Synthetic candles per pair (with --synth).
    #[arg(long, default_value_t = 24 * 365, requires = "synth")]
    pub candles: usize,
    /// Seed of the synthetic data (with --synth).
    #[arg(long, default_value_t = 42, requires = "synth")]
    pub seed: u64,
    /// Pair(s), comma-separated, in the order of --data (BTC/USDT or BTCUSDT).
    #[arg(long, value_delimiter = ',', required = true)]
    pub pair: Vec<String>,
    /// Candle timeframe (inferred from the data when omitted).
    #[arg(long)]
    pub timeframe: Option<String>,
    /// Strategy: sma_cross or challenge_growth.
    #[arg(long, default_value = "challenge_growth")]
    pub strategy: String,
    /// Strategy parameter, key=value (repeatable), e.g. --param fast=10 --param slow=30.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub costs: CostArgs,
    /// Database URL to store the run in (default: the configured store, sqlite://aurum.db).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Do not store the run.
    #[arg(long)]
    pub no_store: bool,
    /// Write the trades as CSV.
    #[arg(long, value_name = "FILE")]
    pub trades_out: Option<PathBuf>,
    /// Write the equity curve as CSV.
    #[arg(long, value_name = "FILE")]
    pub equity_out: Option<PathBuf>,
    /// Write an HTML report with charts.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Cash, fee and slippage of simulated runs (`backtest`, `optimize`), defaulting to
/// `[backtest]` in the configuration.
#[derive(Debug, ClapArgs)]
pub struct CostArgs {
    /// Starting cash in the quote asset (default: [backtest] cash, 10000).
    #[arg(long)]
    pub cash: Option<String>,
    /// Fee per side on the notional (default: [backtest] fee, 0.001).
    #[arg(long)]
    pub fee: Option<String>,
    /// Slippage of market fills in basis points (default: [backtest] slippage_bps, 0).
    #[arg(long)]
    pub slippage_bps: Option<u32>,
}

impl CostArgs {
    /// The backtest settings for a timeframe: the options, else the configuration; checked.
    pub fn resolve(
        &self,
        config: &AppConfig,
        timeframe: Timeframe,
        bot_id: &str,
    ) -> Result<BacktestConfig> {
        let cash = match &self.cash {
            Some(c) => aurum_core::money::parse_decimal(c).context("--cash")?,
            None => config.backtest.cash,
        };
        let fee_rate = match &self.fee {
            Some(f) => aurum_core::money::parse_decimal(f).context("--fee")?,
            None => config.backtest.fee,
        };
        if cash <= Decimal::ZERO {
            bail!("--cash must be positive, got {cash}");
        }
        if fee_rate < Decimal::ZERO || fee_rate >= Decimal::ONE {
            bail!("--fee must be in [0, 1), got {fee_rate}");
        }
        Ok(BacktestConfig {
            cash,
            fee_rate,
            slippage_bps: self.slippage_bps.unwrap_or(config.backtest.slippage_bps),
            timeframe,
            bot_id: bot_id.to_string(),
        })
    }
}

/// Options of `aurum runs`.
#[derive(Debug, ClapArgs)]
pub struct RunsArgs {
    /// Database URL (default: the configured store).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// How many of the newest runs.
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Splits `key=value` parameters.
pub fn parse_params(params: &[String]) -> Result<Vec<(String, String)>> {
    params
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => bail!("invalid --param {p:?}: expected KEY=VALUE, e.g. fast=10"),
        })
        .collect()
}

/// Generates deterministic synthetic candles for each pair (`aurum data synth`'s generator).
pub fn synth_pairs(
    pairs: &[String],
    timeframe: Option<&str>,
    candles: usize,
    seed: u64,
) -> Result<(Vec<PairData>, Timeframe)> {
    let tf = timeframe
        .map(str::parse::<Timeframe>)
        .transpose()?
        .unwrap_or(Timeframe::H1);
    let mut out = Vec::new();
    for pair in pairs {
        let spec = aurum_data::SynthSpec {
            symbol: Symbol::parse(pair)?,
            timeframe: tf,
            candles,
            seed,
            ..aurum_data::SynthSpec::default()
        };
        let generated = aurum_data::synth(&spec)?;
        let source = format!("synth:{}:{tf}:{candles}:seed={seed}", spec.symbol);
        out.push(PairData::new(
            SymbolFilters::unrestricted(spec.symbol),
            generated,
            source,
        ));
    }
    Ok((out, tf))
}

/// Loads the candle files for the pairs, checking that they agree on the timeframe.
pub fn load_pairs(
    files: &[PathBuf],
    pairs: &[String],
    timeframe: Option<&str>,
) -> Result<(Vec<PairData>, Timeframe)> {
    if files.len() != pairs.len() {
        bail!(
            "--data has {} file(s) but --pair has {} pair(s): give one file per pair, in the same order",
            files.len(),
            pairs.len()
        );
    }
    let given = timeframe.map(str::parse::<Timeframe>).transpose()?;
    let mut out = Vec::new();
    let mut tf: Option<Timeframe> = given;
    for (file, pair) in files.iter().zip(pairs) {
        let symbol = Symbol::parse(pair)?;
        let loaded = aurum_data::load(
            file,
            &aurum_data::LoadOptions {
                format: None,
                timeframe: given,
            },
        )?;
        let this = loaded.timeframe.map(|t| t.timeframe());
        match (tf, this) {
            (Some(a), Some(b)) if a != b => {
                bail!(
                    "{} has {b} candles but the run uses {a}: pass files of one timeframe",
                    file.display()
                )
            }
            (None, Some(b)) => tf = Some(b),
            _ => {}
        }
        out.push(PairData::new(
            SymbolFilters::unrestricted(symbol),
            loaded.candles,
            file.display().to_string(),
        ));
    }
    let tf = tf.context("cannot infer the timeframe from a single candle: pass --timeframe")?;
    Ok((out, tf))
}

fn run_id(strategy: &str) -> String {
    let now = jiff::Timestamp::now();
    format!(
        "bt-{}-{}-{}",
        now.strftime("%Y%m%d-%H%M%S"),
        now.subsec_nanosecond() / 1000,
        strategy
    )
}

/// Who ran what, for the report.
pub struct RunMeta {
    /// Unique id.
    pub run_id: String,
    /// Strategy name.
    pub strategy: String,
    /// Strategy parameters.
    pub params: serde_json::Value,
    /// Wall-clock start.
    pub started_at_ms: i64,
}

/// Builds the report object from a run.
pub fn report_of(
    meta: RunMeta,
    data: &[PairData],
    timeframe: Timeframe,
    config: &BacktestConfig,
    outcome: BacktestOutcome,
) -> BacktestReport {
    BacktestReport {
        run_id: meta.run_id,
        strategy: meta.strategy,
        params: meta.params,
        pairs: data.iter().map(|d| d.filters.symbol.to_string()).collect(),
        timeframe: timeframe.to_string(),
        data_sources: data.iter().map(|d| d.source.clone()).collect(),
        fee_rate: config.fee_rate,
        slippage_bps: config.slippage_bps,
        metrics: outcome.metrics,
        trades: outcome.trades,
        equity: outcome.equity,
        daily: outcome.daily,
        strategy_status: outcome.strategy_status,
        started_at_ms: meta.started_at_ms,
        finished_at_ms: jiff::Timestamp::now().as_millisecond(),
    }
}

/// The store's record of a run.
pub fn record_of(r: &BacktestReport, json: &serde_json::Value) -> BacktestRunRecord {
    BacktestRunRecord {
        run_id: r.run_id.clone(),
        strategy: r.strategy.clone(),
        params: r.params.clone(),
        pairs: r.pairs.clone(),
        timeframe: r.timeframe.clone(),
        data_sources: r.data_sources.clone(),
        start_cash: r.metrics.start_cash,
        final_equity: r.metrics.final_equity,
        fee_rate: r.fee_rate,
        candles: r.metrics.candles as i64,
        metrics: metrics_only(json),
        started_at_ms: r.started_at_ms,
        finished_at_ms: r.finished_at_ms,
        trades: r
            .trades
            .iter()
            .map(|t| BacktestTrade {
                pair: t.pair.to_string(),
                entry_time_ms: t.entry_time_ms,
                entry_price: t.entry_price,
                exit_time_ms: t.exit_time_ms,
                exit_price: t.exit_price,
                quantity: t.quantity,
                pnl: t.pnl,
                fees: t.fees,
                exit_reason: t.exit_reason.clone(),
            })
            .collect(),
        daily: r
            .daily
            .iter()
            .map(|d| DailyPerformance {
                day: d.day.clone(),
                start_equity: d.start_equity,
                end_equity: d.end_equity,
                realised_pnl: d.realised_pnl,
                fees: d.fees,
                trades: d.trades,
                wins: d.wins,
                losses: d.losses,
            })
            .collect(),
    }
}

/// The report JSON without the bulky lists (the trades are stored in their own table).
fn metrics_only(json: &serde_json::Value) -> serde_json::Value {
    let mut m = json.clone();
    if let Some(obj) = m.as_object_mut() {
        obj.remove("trade_list");
        obj.remove("equity");
        obj.remove("daily");
    }
    m
}

fn write_file<E: std::error::Error + Send + Sync + 'static>(
    path: &PathBuf,
    what: &str,
    f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::result::Result<(), E>,
) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    f(&mut out).with_context(|| format!("cannot write {what} to {}", path.display()))?;
    std::io::Write::flush(&mut out)
        .with_context(|| format!("cannot write {what} to {}", path.display()))
}

/// Runs `aurum backtest`.
pub async fn run(args: Args, config: AppConfig) -> Result<ExitCode> {
    let started_at_ms = jiff::Timestamp::now().as_millisecond();
    let params = parse_params(&args.params)?;
    let (data, timeframe) = if args.synth {
        synth_pairs(
            &args.pair,
            args.timeframe.as_deref(),
            args.candles,
            args.seed,
        )?
    } else {
        load_pairs(&args.data, &args.pair, args.timeframe.as_deref())?
    };
    let bt = args.costs.resolve(&config, timeframe, "bt")?;
    let strategy = build_strategy(&args.strategy, &params, &config.strategy.challenge_growth)?;
    let strategy_name = strategy.name().to_string();
    let strategy_params = strategy.params();
    let stale = config.risk.stale_after_ms_for(timeframe.millis());
    let risk = RiskManager::new(config.risk.clone(), stale)?;

    let total: u64 = data.iter().map(|d| d.candles.len() as u64).sum();
    let bar = crate::progress::bar(total, "backtest");
    let outcome = {
        let bar = bar.clone();
        let data = data.clone();
        let bt = bt.clone();
        tokio::task::spawn_blocking(move || {
            backtest::run(&data, &bt, strategy, risk, &mut |n| bar.set_position(n))
        })
        .await
        .context("the backtest thread failed")??
    };
    bar.finish_and_clear();
    let rejections = outcome.rejections.clone();
    let dropped = outcome.dropped_orders.len();
    let meta = RunMeta {
        run_id: run_id(&strategy_name),
        strategy: strategy_name,
        params: strategy_params,
        started_at_ms,
    };
    let report = report_of(meta, &data, timeframe, &bt, outcome);
    let json = aurum_report::to_json(&report);

    if let Some(p) = &args.trades_out {
        write_file(p, "trades", |w| {
            aurum_report::write_trades_csv(&report.trades, w)
        })?;
    }
    if let Some(p) = &args.equity_out {
        write_file(p, "the equity curve", |w| {
            aurum_report::write_equity_csv(&report.equity, w)
        })?;
    }
    if let Some(p) = &args.report {
        write_file(p, "the HTML report", |w| {
            aurum_report::write_html(&report, w)
        })?;
    }
    let mut stored_in = None;
    if !args.no_store {
        let store = crate::cmd::db::open(&config, args.db.clone()).await?;
        store
            .write(WriteOp::BacktestRun(Box::new(record_of(&report, &json))))
            .await?;
        stored_in = Some(store.target());
        store.close().await;
    }
    if args.json {
        crate::say!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        crate::say!("{}", aurum_report::terminal_table(&report));
        if !rejections.is_empty() {
            let list: Vec<String> = rejections
                .iter()
                .map(|(k, v)| format!("{k} x{v}"))
                .collect();
            crate::say!("entries refused by the risk manager: {}", list.join(", "));
        }
        if dropped > 0 {
            crate::say!(
                "{dropped} order(s) dropped at fill time (nothing affordable or below the venue minimum)"
            );
        }
        if let Some(t) = stored_in {
            crate::say!(
                "run {} stored in {t} (list with `aurum runs`)",
                report.run_id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `aurum runs`.
pub async fn runs(args: RunsArgs, config: AppConfig) -> Result<ExitCode> {
    let store = crate::cmd::db::open(&config, args.db).await?;
    let runs = store.backtest_runs(args.limit).await?;
    store.close().await;
    if args.json {
        crate::say!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "run",
        "finished (UTC)",
        "strategy",
        "params",
        "pairs",
        "tf",
        "trades",
        "start",
        "final",
        "return %",
        "max dd %",
        "sharpe",
    ]);
    for r in &runs {
        let num = |k: &str| {
            r.metrics
                .get(k)
                .and_then(|v| v.as_f64())
                .map(|v| format!("{v:.2}"))
                .unwrap_or_default()
        };
        t.add_row([
            r.run_id.clone(),
            crate::cmd::data::format_ms(r.finished_at_ms),
            r.strategy.clone(),
            r.params.to_string(),
            r.pairs.join(","),
            r.timeframe.clone(),
            r.trades.to_string(),
            r.start_cash.to_string(),
            r.final_equity.round_dp(2).to_string(),
            num("return_pct"),
            num("max_drawdown_pct"),
            num("sharpe"),
        ]);
    }
    crate::say!("{t}");
    if runs.is_empty() {
        crate::say!("no backtest runs stored yet: run `aurum backtest ...`");
    }
    Ok(ExitCode::SUCCESS)
}
