//! `aurum db migrate | status | check`.

use crate::config::AppConfig;
use anyhow::Result;
use aurum_store::Store;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Which database to act on.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Database URL: sqlite://FILE (default sqlite://aurum.db) or postgres://user@host/db[?schema=s].
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
}

/// `aurum db ...`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations (also done at every start).
    Migrate(DbArgs),
    /// Pool and writer status: SQLAlchemy's status line, or every figure with --json.
    Status {
        #[command(flatten)]
        db: DbArgs,
        /// Print every pool and writer figure as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify the stored state; exits 1 with the findings when something is inconsistent.
    Check {
        #[command(flatten)]
        db: DbArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Opens the store the config (and an optional `--db`) names.
pub async fn open(config: &AppConfig, db: Option<String>) -> Result<Store> {
    let mut store_config = config.store.clone();
    if let Some(url) = db {
        store_config.url = url;
    }
    Ok(Store::open(&store_config).await?)
}

/// Runs a `db` subcommand.
pub async fn run(command: DbCommand, config: AppConfig) -> Result<ExitCode> {
    match command {
        DbCommand::Migrate(a) => {
            let store = open(&config, a.db).await?;
            let applied = store.applied_now();
            let version = store.schema_version().await?;
            if applied.is_empty() {
                crate::say!(
                    "{}: schema is up to date (version {version})",
                    store.target()
                );
            } else {
                let list: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
                crate::say!(
                    "{}: applied migration(s) {}; schema version {version}",
                    store.target(),
                    list.join(", ")
                );
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Status { db, json } => {
            let store = open(&config, db.db).await?;
            let status = store.status().await?;
            if json {
                crate::say!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                let w = &status.writer;
                crate::say!(
                    "{} ({}), schema version {}",
                    status.target,
                    status.backend,
                    status.schema_version
                );
                crate::say!("{}", status.pool.sqlalchemy_line());
                crate::say!(
                    "Pool: {} open, {} idle, {} active, {} waiting, {} timeouts; acquire wait p50 {:.3} ms p99 {:.3} ms",
                    status.pool.connections,
                    status.pool.checked_in,
                    status.pool.checked_out,
                    status.pool.pending_acquires,
                    status.pool.timeouts_total,
                    status.pool.acquire_wait_ms.p50,
                    status.pool.acquire_wait_ms.p99
                );
                crate::say!(
                    "Writer: queue {} of {}, {} batches, {} requests ({} refused, {} failed), busy errors {}, batch p50 {:.0} p99 {:.0}, commit p99 {:.3} ms, flush p99 {:.3} ms",
                    w.queue_depth,
                    w.queue_capacity,
                    w.batches_total,
                    w.requests_total,
                    w.rejected_total,
                    w.failed_total,
                    w.busy_errors_total,
                    w.batch_size.p50,
                    w.batch_size.p99,
                    w.commit_ms.p99,
                    w.sync_ms.p99
                );
                let r = &status.rows;
                crate::say!(
                    "Rows: {} bots, {} orders, {} order events, {} fills, {} positions, {} ledger entries, {} balances",
                    r.bots,
                    r.orders,
                    r.order_events,
                    r.fills,
                    r.positions,
                    r.ledger,
                    r.balances
                );
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Check { db, json } => {
            let store = open(&config, db.db).await?;
            let report = store.check().await?;
            if json {
                crate::say!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                crate::say!("{}: {report}", store.target());
            }
            store.close().await;
            Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
