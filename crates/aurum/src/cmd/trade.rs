//! `aurum paper`, `aurum live`, `aurum status` and `aurum kill-switch`: running a bot and
//! operating it. The trading itself lives in `aurum-runtime`.

use crate::config::AppConfig;
use anyhow::{Context, Result, bail};
use aurum_exchange::binance::{MAINNET_URL, TESTNET_URL};
use aurum_exchange::{BinanceClient, BinanceConfig};
use aurum_runtime::control::{
    self, KILL_SWITCH_KEY, KillSwitchRecord, RECONCILIATION_KEY, RISK_KEY, STATUS_KEY,
};
use aurum_runtime::venue::wall_ms;
use aurum_runtime::{PaperVenue, ReconcileReport, Runtime, RuntimeOptions, RuntimeStatus, Venue};
use aurum_store::{Store, StoreConfig};
use aurum_strategy::risk::RiskState;
use clap::{Args as ClapArgs, Subcommand};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::watch;

/// Options shared by `aurum paper` and `aurum live`.
#[derive(Debug, ClapArgs)]
pub struct RunArgs {
    /// Bot id (default: `[bot] id`).
    #[arg(long)]
    pub bot: Option<String>,
    /// Database URL (default: `[paper] store_url` for paper, `[store] url` for live).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Exchange REST base URL, e.g. http://127.0.0.1:8900 for `aurum exchange-sim`
    /// (default: `[exchange] base_url`, else Binance).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Reconcile with the venue, store and print the report, and exit without trading.
    #[arg(long)]
    pub reconcile_only: bool,
    /// Also serve the operator API, the dashboard and /metrics from this process (`[api]`;
    /// the kill switch then acts on this running bot within one poll interval).
    #[arg(long)]
    pub serve: bool,
    /// Address of the API with --serve (default: `[api] bind`, 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR", requires = "serve")]
    pub serve_addr: Option<String>,
}

/// `aurum paper`.
#[derive(Debug, ClapArgs)]
pub struct PaperArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

/// `aurum live`.
#[derive(Debug, ClapArgs)]
pub struct LiveArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Trade on the Binance Spot testnet.
    #[arg(long)]
    pub testnet: bool,
    /// Required to trade on Binance mainnet: real money.
    #[arg(long)]
    pub confirm_real_money: bool,
}

/// Which bot and store `status` and `kill-switch` act on.
#[derive(Debug, ClapArgs)]
pub struct BotArgs {
    /// Bot id (default: `[bot] id`).
    #[arg(long)]
    pub bot: Option<String>,
    /// Database URL (default: `[store] url`, or `[paper] store_url` with --paper).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// The paper trading store.
    #[arg(long)]
    pub paper: bool,
}

/// `aurum status`.
#[derive(Debug, ClapArgs)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: BotArgs,
    /// Print everything as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `aurum kill-switch ...`.
#[derive(Debug, Subcommand)]
pub enum KillSwitchCommand {
    /// Engage: cancel working orders, optionally sell positions, block every new order.
    Engage {
        #[command(flatten)]
        target: BotArgs,
        /// Why (stored and shown).
        #[arg(long)]
        reason: String,
        /// Also sell every open position at market.
        #[arg(long)]
        close_positions: bool,
    },
    /// Release: trading resumes (a running bot within one poll interval).
    Reset {
        #[command(flatten)]
        target: BotArgs,
    },
}

pub(crate) async fn open_store(config: &AppConfig, url: String) -> Result<Store> {
    let store_config = StoreConfig {
        url,
        ..config.store.clone()
    };
    Ok(Store::open(&store_config).await?)
}

pub(crate) fn store_url(config: &AppConfig, db: Option<String>, paper: bool) -> String {
    db.unwrap_or_else(|| {
        if paper {
            config.paper.store_url.clone()
        } else {
            config.store.url.clone()
        }
    })
}

/// A secret from a file only its owner can read, or from an environment variable.
fn secret(file: Option<&Path>, env: &str, what: &str) -> Result<Option<String>> {
    if let Some(path) = file {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path)
                .with_context(|| format!("{what} file {}", path.display()))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "{what} file {} can be read by others (mode {mode:o}): run chmod 600 on it",
                    path.display()
                );
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{what} file {}", path.display()))?;
        return Ok(Some(text.trim().to_string()));
    }
    Ok(std::env::var(env).ok().filter(|s| !s.is_empty()))
}

fn binance_config(config: &AppConfig, base_url: String) -> BinanceConfig {
    let mut c = BinanceConfig::new(base_url);
    c.recv_window_ms = config.exchange.recv_window_ms;
    c.timeout = Duration::from_millis(config.exchange.timeout_ms);
    c.max_retries = config.exchange.max_retries;
    c
}

fn options(
    config: &AppConfig,
    bot: Option<String>,
    fee_rate: aurum_core::Decimal,
    paper: bool,
) -> RuntimeOptions {
    let mut bot_config = config.bot.clone();
    if let Some(id) = bot {
        bot_config.id = id;
    }
    // Stored with the bot: what it trades and how, never credentials.
    let snapshot = serde_json::json!({
        "bot": bot_config,
        "risk": config.risk,
        "exchange": {
            "base_url": config.exchange.base_url,
            "recv_window_ms": config.exchange.recv_window_ms,
        },
        "paper": if paper { serde_json::to_value(&config.paper).unwrap_or_default() } else { serde_json::Value::Null },
    });
    RuntimeOptions {
        bot: bot_config,
        risk: config.risk.clone(),
        challenge: config.strategy.challenge_growth.clone(),
        fee_rate,
        start_cash: paper.then_some(config.paper.cash),
        config_snapshot: snapshot,
    }
}

/// A watch channel that turns true on SIGINT or SIGTERM.
pub(crate) fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = match signal(SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = tokio::signal::ctrl_c().await;
                    let _ = tx.send(true);
                    return;
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        eprintln!("shutting down: no new entries, finishing writes");
        let _ = tx.send(true);
    });
    rx
}

fn print_reconciliation(r: &ReconcileReport) {
    crate::say!(
        "reconciliation: {} ({} open intent(s) checked, {} never sent, {} fill(s) recovered, waited {} ms)",
        if r.ok { "ok" } else { "DRIFT: trading halted" },
        r.intents_checked,
        r.never_sent.len(),
        r.fills_recovered,
        r.waited_ms
    );
    for line in &r.resolved {
        crate::say!("  resolved {line}");
    }
    for line in &r.drift {
        crate::say!("  drift: {line}");
    }
    for line in &r.foreign_trades {
        crate::say!("  foreign trade: {line}");
    }
}

/// How `run_bot` runs: reconcile only, and whether to serve the API.
struct RunMode<'a> {
    reconcile_only: bool,
    serve: Option<Option<String>>,
    config: &'a AppConfig,
}

async fn run_bot<V: Venue>(
    venue: V,
    store: Store,
    opts: RuntimeOptions,
    mode: RunMode<'_>,
    target: &str,
) -> Result<ExitCode> {
    let shutdown = shutdown_signal();
    let bot = opts.bot.id.clone();
    let pairs = opts.bot.pairs.join(", ");
    let timeframe = opts.bot.timeframe.clone();
    let db = store.target();
    let reconcile_only = mode.reconcile_only;
    let mut rt = Runtime::start(venue, store, opts, shutdown.clone()).await?;
    let api = match mode.serve.filter(|_| !reconcile_only) {
        Some(addr) => {
            let (tx, rx) = watch::channel(std::sync::Arc::new(aurum_runtime::LiveView::build(&rt)));
            rt.publish_to(tx);
            Some(
                super::serve::start(
                    mode.config,
                    addr.as_deref(),
                    rt.store().clone(),
                    bot.clone(),
                    Some(rx),
                    shutdown,
                )
                .await?,
            )
        }
        None => None,
    };
    crate::say!(
        "aurum {}: bot {bot} on {target} ({pairs}, {timeframe}), store {db}",
        rt.venue().mode()
    );
    print_reconciliation(rt.reconciliation());
    if rt.halted() {
        crate::say!("the kill switch is engaged: no orders until `aurum kill-switch reset`");
    }
    if reconcile_only {
        let ok = rt.reconciliation().ok;
        let store = rt.store().clone();
        drop(rt);
        store.close().await;
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    }
    let summary = rt.run().await;
    if let Some(api) = api {
        // The shutdown signal stops the server too; its requests end before the store does.
        match api.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the API server stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "the API server task failed"),
        }
    }
    let summary = summary?;
    crate::say!(
        "stopped: {} tick(s), {} order(s) sent, {} fill(s) stored",
        summary.ticks,
        summary.orders_sent,
        summary.fills
    );
    Ok(ExitCode::SUCCESS)
}

/// `aurum paper`: live market data, fills by the backtester's matcher, its own store.
pub async fn paper(args: PaperArgs, config: AppConfig) -> Result<ExitCode> {
    let a = args.run;
    let base = a
        .base_url
        .or_else(|| config.exchange.base_url.clone())
        .unwrap_or_else(|| MAINNET_URL.to_string());
    let data = BinanceClient::new(binance_config(&config, base.clone()))?;
    let venue = PaperVenue::new(
        data,
        config.paper.fee_rate,
        config.paper.slippage_bps,
        PaperVenue::<BinanceClient>::id_floor_now(),
    );
    let store = open_store(&config, store_url(&config, a.db, true)).await?;
    let opts = options(&config, a.bot, config.paper.fee_rate, true);
    let mode = RunMode {
        reconcile_only: a.reconcile_only,
        serve: a.serve.then_some(a.serve_addr),
        config: &config,
    };
    run_bot(venue, store, opts, mode, &base).await
}

/// `aurum live`: a real account (Binance Spot, its testnet, or a simulator by base URL).
pub async fn live(args: LiveArgs, config: AppConfig) -> Result<ExitCode> {
    let a = args.run;
    let base = a
        .base_url
        .or_else(|| config.exchange.base_url.clone())
        .unwrap_or_else(|| {
            if args.testnet {
                TESTNET_URL.to_string()
            } else {
                MAINNET_URL.to_string()
            }
        });
    if base.trim_end_matches('/') == MAINNET_URL && !args.confirm_real_money {
        bail!(
            "{base} is Binance mainnet: real money. Try `aurum paper` or `aurum live --testnet` first; add --confirm-real-money to trade for real"
        );
    }
    let key = secret(
        config.exchange.api_key_file.as_deref(),
        "AURUM_API_KEY",
        "API key",
    )?;
    let secret_key = secret(
        config.exchange.api_secret_file.as_deref(),
        "AURUM_API_SECRET",
        "API secret",
    )?;
    let (Some(key), Some(secret_key)) = (key, secret_key) else {
        bail!(
            "live trading needs API credentials: set AURUM_API_KEY and AURUM_API_SECRET, or [exchange] api_key_file and api_secret_file (owner-only files)"
        );
    };
    let client = BinanceClient::new(
        binance_config(&config, base.clone()).with_credentials(key, secret_key),
    )?;
    let store = open_store(&config, store_url(&config, a.db, false)).await?;
    let opts = options(&config, a.bot, aurum_core::Decimal::new(1, 3), false);
    let mode = RunMode {
        reconcile_only: a.reconcile_only,
        serve: a.serve.then_some(a.serve_addr),
        config: &config,
    };
    run_bot(client, store, opts, mode, &base).await
}

pub(crate) fn bot_id(config: &AppConfig, bot: Option<String>) -> String {
    bot.unwrap_or_else(|| config.bot.id.clone())
}

/// `aurum status`.
pub async fn status(args: StatusArgs, config: AppConfig) -> Result<ExitCode> {
    let bot = bot_id(&config, args.target.bot);
    let store = open_store(
        &config,
        store_url(&config, args.target.db, args.target.paper),
    )
    .await?;
    let Some(spec) = store.bots().await?.into_iter().find(|b| b.bot_id == bot) else {
        bail!("{}: no bot {bot:?} (has it run yet?)", store.target());
    };
    let status: Option<RuntimeStatus> = control::read_state(&store, &bot, STATUS_KEY).await?;
    let kill: KillSwitchRecord = control::read_state(&store, &bot, KILL_SWITCH_KEY)
        .await?
        .unwrap_or_default();
    let recon: Option<ReconcileReport> =
        control::read_state(&store, &bot, RECONCILIATION_KEY).await?;
    let risk: Option<RiskState> = control::read_state(&store, &bot, RISK_KEY).await?;
    let balances = store.balances(&bot).await?;
    let positions = store.positions(&bot, true).await?;
    let open = store.open_orders(&bot).await?;
    let running = status
        .as_ref()
        .is_some_and(|s| s.state == "trading" && wall_ms() - s.heartbeat_ms < 10_000);
    if args.json {
        let v = serde_json::json!({
            "bot": spec,
            "running": running,
            "status": status,
            "kill_switch": kill,
            "reconciliation": recon,
            "risk": risk,
            "balances": balances,
            "positions": positions,
            "open_orders": open,
        });
        crate::say!("{}", serde_json::to_string_pretty(&v)?);
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    crate::say!(
        "bot {bot} ({}, strategy {}), store {}",
        spec.mode,
        spec.strategy.as_deref().unwrap_or("-"),
        store.target()
    );
    match &status {
        Some(s) => crate::say!(
            "{}: equity {} {}, cash {}, {} working order(s), {} trade(s) closed this run; heartbeat {} s ago (pid {})",
            if running { "running" } else { "not running" },
            s.equity,
            spec.quote_asset,
            s.cash,
            s.working_orders,
            s.trades_closed,
            (wall_ms() - s.heartbeat_ms) / 1000,
            s.pid
        ),
        None => crate::say!("never ran"),
    }
    if kill.engaged {
        crate::say!(
            "KILL SWITCH ENGAGED ({}): {}",
            kill.source,
            kill.reason.as_deref().unwrap_or("no reason given")
        );
    } else {
        crate::say!("kill switch: released");
    }
    if let Some(r) = &recon {
        print_reconciliation(r);
    }
    for (asset, amount) in &balances {
        crate::say!("balance {asset}: {amount}");
    }
    for p in &positions {
        crate::say!(
            "position {} #{}: {} at {} (cost {})",
            p.position.symbol,
            p.seq,
            p.position.quantity,
            p.position.avg_entry_price(),
            p.position.cost_basis
        );
    }
    for o in &open {
        crate::say!(
            "open order {}: {} {} {} {:?} @ {:?}, {} filled",
            o.intent.client_order_id,
            o.status,
            o.intent.side,
            o.intent.symbol,
            o.intent.quantity,
            o.intent.price,
            o.filled_qty
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `aurum kill-switch engage | reset`.
pub async fn kill_switch(command: KillSwitchCommand, config: AppConfig) -> Result<ExitCode> {
    let (target, record) = match command {
        KillSwitchCommand::Engage {
            target,
            reason,
            close_positions,
        } => {
            let r = KillSwitchRecord::engaged(&reason, "cli", close_positions, wall_ms());
            (target, r)
        }
        KillSwitchCommand::Reset { target } => {
            (target, KillSwitchRecord::released("cli", wall_ms()))
        }
    };
    let bot = bot_id(&config, target.bot);
    let store = open_store(&config, store_url(&config, target.db, target.paper)).await?;
    if !store.bots().await?.iter().any(|b| b.bot_id == bot) {
        bail!("{}: no bot {bot:?}", store.target());
    }
    control::set_kill_switch(&store, &bot, &record).await?;
    if record.engaged {
        crate::say!(
            "kill switch engaged for bot {bot}{}: a running bot cancels its orders within one poll interval; it stays engaged across restarts until `aurum kill-switch reset`",
            if record.close_positions {
                " (positions will be sold)"
            } else {
                ""
            }
        );
    } else {
        crate::say!("kill switch reset for bot {bot}: trading resumes");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
