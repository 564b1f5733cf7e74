//! `aurum indicators`: the TA-Lib reference columns for a data file.

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `aurum indicators`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Candle file (aurum CSV, Binance klines CSV or freqtrade JSON).
    #[arg(long)]
    pub data: PathBuf,
    /// Output CSV: open_time_ms, sma20, ema20, rsi14, macd, macd_signal, macd_hist, bb_upper,
    /// bb_middle, bb_lower, atr14, trange (empty cells in the lookback).
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes the indicator table.
pub async fn run(args: Args) -> Result<ExitCode> {
    let loaded = aurum_data::load(&args.data, &aurum_data::LoadOptions::default())?;
    let rows = aurum_strategy::indicators::indicator_table(&loaded.candles);
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    aurum_strategy::indicators::write_indicator_csv(&rows, &mut out)
        .and_then(|_| std::io::Write::flush(&mut out))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("wrote {} rows to {}", rows.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}
