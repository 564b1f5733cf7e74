//! `aurum serve`, and the API that `aurum paper --serve` / `aurum live --serve` start beside
//! their bot: the REST API, the dashboard and `/metrics` of `aurum-server`.

use super::trade::{BotArgs, bot_id, open_store, shutdown_signal, store_url};
use crate::config::AppConfig;
use anyhow::{Context, Result};
use aurum_runtime::LiveView;
use aurum_server::{AppState, ServerOptions, load_token};
use aurum_store::Store;
use clap::Args;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// `aurum serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub target: BotArgs,
    /// Address to listen on (default: `[api] bind`, 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

/// `aurum serve`: the API and dashboard of a bot that runs in another process (or not at
/// all), read from its store; the kill switch and entries are written there and the bot
/// applies them within one poll interval.
pub async fn run(args: ServeArgs, config: AppConfig) -> Result<ExitCode> {
    let bot = bot_id(&config, args.target.bot);
    let store = open_store(
        &config,
        store_url(&config, args.target.db, args.target.paper),
    )
    .await?;
    let server = start(
        &config,
        args.bind.as_deref(),
        store.clone(),
        bot,
        None,
        shutdown_signal(),
    )
    .await?;
    server.await.context("the API server task failed")??;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Binds the API and serves it in a task until `shutdown` turns true.
pub async fn start(
    config: &AppConfig,
    bind: Option<&str>,
    store: Store,
    bot_id: String,
    live: Option<watch::Receiver<Arc<LiveView>>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<Result<()>>> {
    let addr_text = bind.unwrap_or(&config.api.bind);
    let addr: SocketAddr = addr_text.parse().with_context(|| {
        format!("[api] bind = {addr_text:?}: not an address like 127.0.0.1:8080")
    })?;
    let token = load_token(&config.api)?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "the API listens beyond this machine: protect it (token, firewall, TLS proxy)");
    }
    let stale_after_ms = config
        .bot
        .timeframe()
        .map(|tf| config.risk.stale_after_ms_for(tf.millis()))
        .unwrap_or(120_000);
    let mutations = if token.is_some() {
        "mutations need the bearer token"
    } else {
        "mutations disabled: no token ([api] token_file or AURUM_API_TOKEN)"
    };
    let state = AppState::new(
        store,
        ServerOptions {
            bot_id: bot_id.clone(),
            token,
            risk: config.risk.clone(),
            stale_after_ms,
            live,
            api: config.api.clone(),
        },
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("the API cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    crate::say!("aurum API for bot {bot_id} listening on http://{local} ({mutations})");
    Ok(tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        aurum_server::serve(listener, state, stop)
            .await
            .context("the API server failed")
    }))
}
