//! `aurum exchange-sim`: a local Binance-Spot-compatible exchange (REST) for tests and
//! rehearsals. See the `aurum-sim` crate for what it serves and how it matches.

use anyhow::{Context, Result, bail};
use aurum_core::money::parse_decimal;
use aurum_core::{Symbol, Timeframe};
use aurum_sim::{
    EXAMPLE_API_KEY, EXAMPLE_API_SECRET, Faults, FilterGeneration, PairConfig, PriceSource,
    SimConfig,
};
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What `--help` prints after the options: the admin endpoints.
const AFTER_HELP: &str = "\
Admin endpoints (unsigned, 127.0.0.1 only):
  GET  /admin/state    the whole account as JSON: serverTime, balances, every order and trade
                       (by id), and per pair the current candle's open time and last price
  POST /admin/advance  {\"candles\": N, \"symbol\": \"BTCUSDT\"} (symbol optional: every pair)
  GET|POST /admin/faults  read or replace the injected faults (JSON; missing fields are 0):
                       latency_ms, error_rate, fail_next, html_errors, burst_429, retry_after_s,
                       ban_after, ban_s, drop_order_requests, drop_order_responses,
                       hold_order_responses, hold_ms, truncate_next
  GET  /admin/stats    request, fault, order and trade counters

Accelerated trading: `--start now --advance-every-ms 1000` places the synthetic paths so that
the current candle is the one of the clock, then reveals one candle a second; add
`--max-fill-quote 5` to make every resting order above 5 USDT fill over several candles.";

/// Options of `aurum exchange-sim`.
#[derive(Debug, ClapArgs)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Port to listen on, on 127.0.0.1 only (0: any free port, printed at start).
    #[arg(long, default_value_t = 8900)]
    pub port: u16,
    /// Pairs to list, comma-separated (BTCUSDT,ETHUSDT or BTC/USDT,ETH/USDT).
    #[arg(long, value_delimiter = ',', default_value = "BTCUSDT,ETHUSDT")]
    pub symbols: Vec<String>,
    /// Price path from a candle file (aurum CSV, Binance klines CSV, freqtrade JSON): `FILE`
    /// for the first pair, or `SYMBOL=FILE`; repeatable. Other pairs get a synthetic path.
    #[arg(long, value_name = "[SYMBOL=]FILE")]
    pub data: Vec<String>,
    /// Starting balances, comma-separated ASSET=AMOUNT.
    #[arg(long, value_delimiter = ',', default_value = "USDT=10000")]
    pub balances: Vec<String>,
    /// Commission rate, charged in the asset received (0.001 = 0.1%).
    #[arg(long, default_value = "0.001")]
    pub fee: String,
    /// The account's API key (default: the example key of Binance's signing documentation).
    #[arg(long, env = "AURUM_SIM_API_KEY", default_value = EXAMPLE_API_KEY)]
    pub api_key: String,
    /// The account's secret key (default: the documented example secret).
    #[arg(long, env = "AURUM_SIM_API_SECRET", default_value = EXAMPLE_API_SECRET, hide_default_value = true, hide_env_values = true)]
    pub api_secret: String,
    /// Notional filter generation: `notional` (today's NOTIONAL, min 5) or `min-notional`
    /// (2021's MIN_NOTIONAL, min 10).
    #[arg(long, default_value = "notional")]
    pub filters: String,
    /// Bar length of synthetic paths.
    #[arg(long, default_value = "1m")]
    pub timeframe: String,
    /// Candles of each synthetic path.
    #[arg(long, default_value_t = 3000)]
    pub candles: usize,
    /// Candles already history at start (the rest are revealed by advancing); default: 2000
    /// of a synthetic path, all of a data file.
    #[arg(long)]
    pub history: Option<usize>,
    /// Seed of synthetic paths.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First open time of synthetic paths, YYYY-MM-DD (UTC), or `now`: place each synthetic
    /// path at start so that its last history candle is the candle containing the server's
    /// clock (then, with --advance-every-ms shorter than the bar, revealed candles run ahead of
    /// the clock).
    #[arg(long, default_value = "2024-01-01")]
    pub start: String,
    /// Advance every pair by one candle this often, ms (default: only on POST /admin/advance).
    #[arg(long)]
    pub advance_every_ms: Option<u64>,
    /// Cap resting-order fills at this quote amount (e.g. USDT) per pair per candle, shared by
    /// the pair's resting orders, on top of the candle's volume (default: volume only). Makes
    /// small limit orders fill partially over several candles on every pair alike.
    #[arg(long, value_name = "QUOTE")]
    pub max_fill_quote: Option<String>,
    /// Request weight allowed per minute before answering 429 (Binance: 6000).
    #[arg(long, default_value_t = 6000)]
    pub weight_limit: u32,
    /// Shift the server clock by this many ms (rehearse clock skew).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub clock_offset_ms: i64,
    /// Fault: added latency per request, ms.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fault: fraction of requests answered with a 5xx (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Fault: 5xx answers as an HTML page (as a CDN sends) instead of JSON.
    #[arg(long)]
    pub html_errors: bool,
}

fn symbol(text: &str) -> Result<Symbol> {
    Symbol::parse(text).with_context(|| format!("--symbols: {text:?}"))
}

/// Builds the simulator's configuration from the command line.
fn config(args: &Args) -> Result<SimConfig> {
    let timeframe: Timeframe = args.timeframe.parse()?;
    let start_now = args.start.trim().eq_ignore_ascii_case("now");
    // With `now` the start is placed when the simulator is built (SimConfig::start_now).
    let start_ms = if start_now {
        0
    } else {
        super::data::parse_day_ms(&args.start).context("--start")?
    };
    let mut pairs: Vec<PairConfig> = Vec::new();
    for s in &args.symbols {
        let sym = symbol(s)?;
        if pairs.iter().any(|p| p.symbol == sym) {
            bail!("--symbols lists {sym} twice");
        }
        pairs.push(PairConfig {
            symbol: sym,
            prices: PriceSource::Synth {
                seed: args.seed,
                candles: args.candles,
                start_ms,
                timeframe,
            },
        });
    }
    if pairs.is_empty() {
        bail!("--symbols is empty");
    }
    let mut any_file = false;
    for d in &args.data {
        let (sym, file) = match d.split_once('=') {
            Some((s, f)) => (symbol(s)?, f),
            None => (pairs[0].symbol.clone(), d.as_str()),
        };
        let pair = pairs
            .iter_mut()
            .find(|p| p.symbol == sym)
            .with_context(|| format!("--data {d}: {sym} is not in --symbols"))?;
        let path = PathBuf::from(file);
        if !path.is_file() {
            bail!("--data {d}: {} is not a file", path.display());
        }
        pair.prices = PriceSource::File(path);
        any_file = true;
    }
    let mut balances = Vec::new();
    for b in &args.balances {
        let (asset, amount) = b
            .split_once('=')
            .with_context(|| format!("--balances {b:?}: expected ASSET=AMOUNT"))?;
        let amount = parse_decimal(amount).with_context(|| format!("--balances {b:?}"))?;
        if amount.is_sign_negative() {
            bail!("--balances {b:?}: negative amount");
        }
        let asset = aurum_core::Asset::new(asset).with_context(|| format!("--balances {b:?}"))?;
        balances.push((asset.to_string(), amount));
    }
    let fee = parse_decimal(&args.fee).context("--fee")?;
    if fee.is_sign_negative() || fee >= aurum_core::Decimal::ONE {
        bail!("--fee {fee}: expected a rate in [0, 1)");
    }
    let filters = match args.filters.as_str() {
        "notional" => FilterGeneration::Notional,
        "min-notional" | "min_notional" => FilterGeneration::MinNotional,
        other => bail!("--filters {other:?}: expected notional or min-notional"),
    };
    let max_fill_quote = match &args.max_fill_quote {
        None => None,
        Some(text) => {
            let cap = parse_decimal(text).context("--max-fill-quote")?;
            if cap <= aurum_core::Decimal::ZERO {
                bail!("--max-fill-quote {cap}: expected a positive amount");
            }
            Some(cap)
        }
    };
    if args.weight_limit == 0 {
        bail!("--weight-limit 0: expected a positive weight");
    }
    if !(0.0..=1.0).contains(&args.error_rate) {
        bail!("--error-rate {}: expected 0..1", args.error_rate);
    }
    // A data file's candles are all history unless told otherwise.
    let history = match (args.history, any_file) {
        (Some(h), _) => Some(h),
        (None, true) => None,
        (None, false) => Some(2000),
    };
    Ok(SimConfig {
        pairs,
        balances,
        fee,
        api_key: args.api_key.clone(),
        api_secret: args.api_secret.clone(),
        filters,
        history,
        advance_every: args.advance_every_ms.map(Duration::from_millis),
        clock_offset_ms: args.clock_offset_ms,
        weight_limit: args.weight_limit,
        faults: Faults {
            latency_ms: args.latency_ms,
            error_rate: args.error_rate,
            html_errors: args.html_errors,
            ..Faults::default()
        },
        start_now,
        max_fill_quote,
    })
}

/// Waits for Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the simulator until interrupted.
pub async fn run(args: Args) -> Result<()> {
    let cfg = config(&args)?;
    let names: Vec<String> = cfg.pairs.iter().map(|p| p.symbol.venue()).collect();
    let sim = Arc::new(aurum_sim::Sim::new(cfg)?);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let addr = listener.local_addr()?;
    {
        let engine = sim.engine.lock();
        for m in engine.markets.values() {
            tracing::info!(
                symbol = %m.symbol.venue(),
                candles = m.candles.len(),
                history = m.cursor + 1,
                current_open_time = m.current().open_time_ms,
                last = %m.last_price(),
                "listed"
            );
        }
    }
    println!(
        "aurum exchange-sim listening on http://{addr} ({})",
        names.join(", ")
    );
    aurum_sim::serve_sim(sim, listener, stop_signal()).await?;
    eprintln!("aurum exchange-sim stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Result<SimConfig> {
        let mut full = vec!["exchange-sim"];
        full.extend_from_slice(argv);
        config(&Cli::try_parse_from(full)?.args)
    }

    #[test]
    fn defaults_follow_the_issue() {
        let c = parse(&[]).unwrap();
        let names: Vec<String> = c.pairs.iter().map(|p| p.symbol.venue()).collect();
        assert_eq!(names, ["BTCUSDT", "ETHUSDT"]);
        assert_eq!(
            c.balances,
            vec![("USDT".to_string(), aurum_core::Decimal::from(10_000))]
        );
        assert_eq!(c.fee.to_string(), "0.001");
        assert_eq!(
            (c.api_key.as_str(), c.api_secret.as_str()),
            (EXAMPLE_API_KEY, EXAMPLE_API_SECRET)
        );
        assert_eq!(
            (c.filters, c.history),
            (FilterGeneration::Notional, Some(2000))
        );
    }

    #[test]
    fn options_and_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("eth.csv");
        std::fs::write(
            &file,
            "open_time_ms,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,1\n",
        )
        .unwrap();
        let data = format!("ETH/USDT={}", file.display());
        let c = parse(&[
            "--symbols",
            "BTC/USDT,ETHUSDT",
            "--data",
            &data,
            "--balances",
            "USDT=50,BTC=0.5",
            "--fee",
            "0.00075",
            "--filters",
            "min-notional",
            "--api-key",
            "k1",
            "--api-secret",
            "s1",
            "--latency-ms",
            "20",
            "--clock-offset-ms",
            "-1500",
        ])
        .unwrap();
        assert_eq!(c.pairs[1].prices, PriceSource::File(file.clone()));
        assert!(matches!(c.pairs[0].prices, PriceSource::Synth { .. }));
        assert_eq!(c.balances[1], ("BTC".to_string(), "0.5".parse().unwrap()));
        assert_eq!(
            (c.filters, c.history, c.clock_offset_ms),
            (FilterGeneration::MinNotional, None, -1500)
        );
        assert_eq!(
            (
                c.api_key.as_str(),
                c.api_secret.as_str(),
                c.faults.latency_ms
            ),
            ("k1", "s1", 20)
        );
        let err = |argv: &[&str]| format!("{:#}", parse(argv).unwrap_err());
        assert!(err(&["--balances", "USDT"]).contains("expected ASSET=AMOUNT"));
        assert!(err(&["--balances", "USDT=-1"]).contains("negative"));
        assert!(err(&["--fee", "1.5"]).contains("expected a rate"));
        assert!(err(&["--filters", "new"]).contains("expected notional or min-notional"));
        assert!(
            err(&["--symbols", "BTCUSDT", "--data", &data])
                .contains("ETH/USDT is not in --symbols")
        );
        assert!(err(&["--data", "/nonexistent.csv"]).contains("is not a file"));
        assert!(err(&["--symbols", "BTCUSDT,BTC/USDT"]).contains("twice"));
        assert!(err(&["--symbols", "NOPE"]).contains("--symbols"));
        assert!(err(&["--start", "yesterday"]).contains("--start"));
        assert!(err(&["--max-fill-quote", "0"]).contains("expected a positive amount"));
        assert!(err(&["--max-fill-quote", "x"]).contains("--max-fill-quote"));
        assert!(err(&["--weight-limit", "0"]).contains("expected a positive weight"));
    }

    fn wall_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    }

    #[test]
    fn start_now_fill_cap_and_weight_limit() {
        let c = parse(&[]).unwrap();
        assert_eq!(
            (c.start_now, c.max_fill_quote, c.weight_limit),
            (false, None, 6000)
        );
        let PriceSource::Synth { start_ms, .. } = c.pairs[0].prices else {
            panic!("synthetic path expected")
        };
        assert_eq!(start_ms, 1_704_067_200_000);

        let c = parse(&[
            "--start",
            "now",
            "--timeframe",
            "5m",
            "--history",
            "100",
            "--max-fill-quote",
            "5.5",
            "--weight-limit",
            "1000000",
        ])
        .unwrap();
        assert!(c.start_now);
        assert_eq!(c.max_fill_quote, Some("5.5".parse().unwrap()));
        assert_eq!(c.weight_limit, 1_000_000);
        // Built now: the current (100th) candle of each pair is the 5m candle of the clock,
        // and the path starts 99 bars earlier.
        let before = wall_ms();
        let sim = aurum_sim::Sim::new(c).unwrap();
        let after = wall_ms();
        let floor = |t: i64| t - t.rem_euclid(300_000);
        let engine = sim.engine.lock();
        for m in engine.markets.values() {
            let open = m.current().open_time_ms;
            assert!(open == floor(before) || open == floor(after), "{open}");
            assert_eq!(m.cursor, 99);
            assert_eq!(m.candles[0].open_time_ms, open - 99 * 300_000);
        }
    }
}
