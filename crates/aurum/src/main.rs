//! `aurum`: the command line. Nothing here but argument parsing and wiring; every capability
//! lives in a library crate.

mod cmd;
mod config;
mod output;
mod progress;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// aurum — a USDT-native crypto spot trading engine with exact money and durable state.
#[derive(Debug, Parser)]
#[command(name = "aurum", version, about, long_about = None)]
struct Cli {
    /// Configuration file (default: ./aurum.toml when it exists). Every key can be overridden
    /// with AURUM__SECTION__KEY environment variables.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log more (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Database: migrations, pool/writer status, integrity check.
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// Run a strategy over historical candles; print a report; store the run.
    Backtest(cmd::backtest::Args),
    /// Search strategy parameters over a grid or a random sample, on all cores; rank and store.
    Optimize(cmd::optimize::Args),
    /// List stored backtest runs.
    Runs(cmd::backtest::RunsArgs),
    /// Hammer the persistence layer with concurrent writers; report fills/s, latency, errors.
    Loadtest(cmd::loadtest::Args),
    /// Compute indicator columns (TA-Lib conventions) for a data file.
    Indicators(cmd::indicators::Args),
    /// Market data: generate, import, list, download.
    #[command(subcommand)]
    Data(cmd::data::DataCommand),
    /// Benchmarks recorded in docs/BENCHMARKS.md (backtest speed, memory).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// A local Binance-Spot-compatible exchange for tests and rehearsals.
    ExchangeSim(cmd::exchange_sim::Args),
    /// Paper trading: live market data, fills simulated by the backtester's matcher.
    Paper(cmd::trade::PaperArgs),
    /// Live trading on Binance Spot (--testnet for its testnet; --base-url for a simulator).
    Live(cmd::trade::LiveArgs),
    /// The operator API, web dashboard and Prometheus /metrics of a bot, from its store.
    Serve(cmd::serve::ServeArgs),
    /// A bot's state: running or not, kill switch, reconciliation, balances, positions, orders.
    Status(cmd::trade::StatusArgs),
    /// Engage or reset a bot's persisted kill switch.
    #[command(subcommand)]
    KillSwitch(cmd::trade::KillSwitchCommand),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let config = config::AppConfig::load(cli.config.as_deref())?;
        match cli.command {
            Command::Db(c) => cmd::db::run(c, config).await,
            Command::Backtest(a) => cmd::backtest::run(a, config).await,
            Command::Optimize(a) => cmd::optimize::run(a, config).await,
            Command::Runs(a) => cmd::backtest::runs(a, config).await,
            Command::Loadtest(a) => cmd::loadtest::run(a, config).await,
            Command::Indicators(a) => cmd::indicators::run(a).await,
            Command::Data(c) => cmd::data::run(c, config).await,
            Command::Bench(c) => cmd::bench::run(c, config).await,
            Command::ExchangeSim(a) => cmd::exchange_sim::run(a).await.map(|_| ExitCode::SUCCESS),
            Command::Paper(a) => cmd::trade::paper(a, config).await,
            Command::Live(a) => cmd::trade::live(a, config).await,
            Command::Serve(a) => cmd::serve::run(a, config).await,
            Command::Status(a) => cmd::trade::status(a, config).await,
            Command::KillSwitch(c) => cmd::trade::kill_switch(c, config).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
