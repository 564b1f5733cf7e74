//! `aurum optimize`: parameter search on all cores, ranked, stored.

use crate::cmd::backtest::{CostArgs, load_pairs, parse_params};
use crate::config::AppConfig;
use anyhow::{Context, Result, bail};
use aurum_engine::optimize::{Metric, ParamSpace, Search, optimize};
use aurum_report::RankRow;
use aurum_store::{OptimizeResult, OptimizeRunRecord, WriteOp};
use aurum_strategy::risk::RiskManager;
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Options of `aurum optimize`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Candle file(s), comma-separated, one per pair.
    #[arg(long, value_delimiter = ',', required = true)]
    pub data: Vec<PathBuf>,
    /// Pair(s), comma-separated, in the order of --data.
    #[arg(long, value_delimiter = ',', required = true)]
    pub pair: Vec<String>,
    /// Candle timeframe (inferred when omitted).
    #[arg(long)]
    pub timeframe: Option<String>,
    /// Strategy to tune.
    #[arg(long)]
    pub strategy: String,
    /// A parameter's values: KEY=FROM..TO:STEP (inclusive) or KEY=V1,V2,... (repeatable).
    #[arg(long = "grid", value_name = "SPEC", required = true)]
    pub grid: Vec<String>,
    /// Backtest only N parameter sets drawn at random from the grid (seeded).
    #[arg(long)]
    pub random: Option<usize>,
    /// Seed of --random.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Parameter fixed for every run, KEY=VALUE (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Ranking metric: sharpe, sortino, return_pct, final_equity, profit_factor, win_rate_pct,
    /// max_drawdown_pct (lower is better).
    #[arg(long, default_value = "sharpe")]
    pub metric: String,
    /// Rows of the ranking to print.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub costs: CostArgs,
    /// Database URL to store the ranking in (default: the configured store).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Do not store the ranking.
    #[arg(long)]
    pub no_store: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `aurum optimize`.
pub async fn run(args: Args, config: AppConfig) -> Result<ExitCode> {
    let started_at_ms = jiff::Timestamp::now().as_millisecond();
    let metric: Metric = args.metric.parse()?;
    let space = ParamSpace::parse(&args.grid)?;
    let fixed = parse_params(&args.params)?;
    let (data, timeframe) = load_pairs(&args.data, &args.pair, args.timeframe.as_deref())?;
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    let sets = match args.random {
        Some(n) => space.random(n, args.seed),
        None => space.grid(),
    };
    let total = sets.len();
    let bt = args.costs.resolve(&config, timeframe, "opt")?;
    let stale = config.risk.stale_after_ms_for(timeframe.millis());
    let risk = RiskManager::new(config.risk.clone(), stale)?;

    let done = Arc::new(AtomicU64::new(0));
    let bar = crate::progress::bar(total as u64, "optimize");
    let ticker = {
        let (done, bar) = (done.clone(), bar.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(done.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = std::time::Instant::now();
    let outcome = {
        let (data, bt, strategy, challenge, threads, done) = (
            data.clone(),
            bt.clone(),
            args.strategy.clone(),
            config.strategy.challenge_growth.clone(),
            args.threads,
            done.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let search = Search {
                data: &data,
                config: &bt,
                strategy: &strategy,
                fixed: &fixed,
                challenge: &challenge,
                risk: &risk,
                metric,
                threads,
            };
            optimize(&search, sets, &done)
        })
        .await
        .context("the optimizer thread failed")??
    };
    let elapsed = started.elapsed();
    ticker.abort();
    bar.finish_and_clear();

    let rows: Vec<RankRow> = outcome
        .ranked
        .iter()
        .map(|e| RankRow {
            params: e.params_json.clone(),
            metric_name: metric.as_str().to_string(),
            metric: metric.value(&e.metrics),
            return_pct: e.metrics.return_pct,
            max_drawdown_pct: e.metrics.max_drawdown_pct,
            trades: e.metrics.trades,
            sharpe: e.metrics.sharpe,
        })
        .collect();
    let record = OptimizeRunRecord {
        run_id: format!(
            "opt-{}-{}",
            jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S"),
            std::process::id()
        ),
        strategy: args.strategy.clone(),
        metric: metric.as_str().to_string(),
        space: serde_json::to_value(&space)?,
        pairs: data.iter().map(|d| d.filters.symbol.to_string()).collect(),
        timeframe: timeframe.to_string(),
        data_sources: data.iter().map(|d| d.source.clone()).collect(),
        evaluated: outcome.ranked.len() as i64,
        failed: outcome.failed.len() as i64,
        started_at_ms,
        finished_at_ms: jiff::Timestamp::now().as_millisecond(),
        results: outcome
            .ranked
            .iter()
            .enumerate()
            .map(|(i, e)| OptimizeResult {
                rank: i as i64 + 1,
                params: e.params_json.clone(),
                metric_value: metric.value(&e.metrics),
                final_equity: e.metrics.final_equity,
                return_pct: e.metrics.return_pct,
                max_drawdown_pct: e.metrics.max_drawdown_pct,
                sharpe: e.metrics.sharpe,
                trades: e.metrics.trades as i64,
            })
            .collect(),
    };
    let mut stored_in = None;
    if !args.no_store {
        let store = crate::cmd::db::open(&config, args.db.clone()).await?;
        store
            .write(WriteOp::OptimizeRun(Box::new(record.clone())))
            .await?;
        stored_in = Some(store.target());
        store.close().await;
    }
    if args.json {
        let json = serde_json::json!({
            "run_id": record.run_id,
            "strategy": record.strategy,
            "metric": record.metric,
            "evaluated": record.evaluated,
            "failed": outcome.failed.iter().map(|(p, e)| serde_json::json!({"params": p, "error": e})).collect::<Vec<_>>(),
            "seconds": elapsed.as_secs_f64(),
            "ranking": record.results.iter().take(args.top).collect::<Vec<_>>(),
        });
        crate::say!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        let shown = rows.len().min(args.top);
        crate::say!("{}", aurum_report::ranking_table(&rows[..shown]));
        crate::say!(
            "{} parameter set(s) backtested in {:.2}s on {} thread(s); {} could not run",
            record.evaluated,
            elapsed.as_secs_f64(),
            args.threads
                .unwrap_or_else(|| std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)),
            record.failed
        );
        for (p, e) in outcome.failed.iter().take(5) {
            let text: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
            crate::say!("  skipped {}: {e}", text.join(" "));
        }
        if let Some(t) = stored_in {
            crate::say!("ranking {} stored in {t}", record.run_id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
