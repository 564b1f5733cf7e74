//! `aurum loadtest`: concurrent writers against the store, in aurum's design and the baselines.

use crate::config::AppConfig;
use anyhow::Result;
use aurum_store::loadtest::{self, LoadMode, LoadReport, LoadSpec};
use clap::Args as ClapArgs;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Options of `aurum loadtest`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Database URL (default: the configured store, sqlite://aurum.db).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Concurrent writers.
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    /// Fills per writer.
    #[arg(long, default_value_t = 1000)]
    pub fills: usize,
    /// Write design(s) to measure, comma-separated, run in this order in one process:
    /// group (aurum), group-inline-flush (aurum's writer with the SQLite WAL flushed inside
    /// every COMMIT), per-fill-tx (the original: pool 10+20, a transaction per fill),
    /// connect-per-op (a connection per fill).
    #[arg(long, default_value = "group", value_delimiter = ',')]
    pub mode: Vec<LoadMode>,
    /// Print JSON (one object per mode; an array when several).
    #[arg(long)]
    pub json: bool,
}

fn print_table(reports: &[LoadReport]) {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "mode",
        "backend",
        "writers",
        "fills ok",
        "errors",
        "fills/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "rows verified",
    ]);
    for r in reports {
        t.add_row([
            r.mode.to_string(),
            r.backend.to_string(),
            r.writers.to_string(),
            r.fills_ok.to_string(),
            r.errors.to_string(),
            format!("{:.0}", r.fills_per_s),
            format!("{:.3}", r.p50_ms),
            format!("{:.3}", r.p99_ms),
            format!("{:.3}", r.p999_ms),
            if r.rows_verified {
                "yes".into()
            } else {
                "NO".into()
            },
        ]);
    }
    crate::say!("{t}");
    for r in reports {
        for (kind, n) in &r.error_kinds {
            crate::say!("{}: {n} x {kind}", r.mode);
        }
        crate::say!("{}: {}", r.mode, r.verification);
    }
    if let Some(g) = reports.iter().find(|r| r.mode == LoadMode::Group) {
        for b in reports.iter().filter(|r| r.mode != LoadMode::Group) {
            if b.fills_per_s > 0.0 {
                crate::say!(
                    "group vs {}: {:.1}x the fills/s",
                    b.mode,
                    g.fills_per_s / b.fills_per_s
                );
            }
        }
    }
}

/// Runs the load test(s).
pub async fn run(args: Args, config: AppConfig) -> Result<ExitCode> {
    let mut store_config = config.store.clone();
    if let Some(url) = args.db {
        store_config.url = url;
    }
    anyhow::ensure!(
        args.writers >= 1 && args.fills >= 1,
        "--writers and --fills must be at least 1"
    );
    let mut reports = Vec::new();
    for mode in args.mode {
        let spec = LoadSpec {
            writers: args.writers,
            fills_per_writer: args.fills,
            mode,
        };
        let done = Arc::new(AtomicU64::new(0));
        let bar = crate::progress::bar(
            (args.writers * args.fills) as u64,
            &format!("loadtest {mode}"),
        );
        let ticker = {
            let (done, bar) = (done.clone(), bar.clone());
            tokio::spawn(async move {
                loop {
                    bar.set_position(done.load(Ordering::Relaxed));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let report = loadtest::run(&store_config, &spec, done).await;
        ticker.abort();
        bar.finish_and_clear();
        reports.push(report?);
    }
    if args.json {
        let mut values: Vec<serde_json::Value> = Vec::new();
        for r in &reports {
            values.push(serde_json::to_value(r)?);
        }
        let out = if values.len() == 1 {
            values.remove(0)
        } else {
            serde_json::Value::Array(values)
        };
        crate::say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_table(&reports);
    }
    Ok(if reports.iter().all(|r| r.rows_verified) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
