//! `aurum data synth | import | list | download`.

use crate::config::AppConfig;
use anyhow::{Context, Result};
use aurum_core::{Symbol, Timeframe};
use aurum_data::{Format, LoadOptions, SynthSpec};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `aurum data ...`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Generate deterministic synthetic candles (same arguments, same bytes, on every platform).
    Synth(SynthArgs),
    /// Import a candle file (Binance public-data CSV with ms or µs timestamps, freqtrade JSON,
    /// aurum CSV): validate it, report gaps, write it in aurum's CSV format.
    Import(ImportArgs),
    /// List the candle files of a directory with their rows, range, timeframe and gaps.
    List(ListArgs),
    /// Download Binance klines (paginated, resumable).
    Download(super::download::Args),
}

/// Options of `aurum data synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Pair (selects the random stream).
    #[arg(long, default_value = "BTC/USDT")]
    pub pair: String,
    /// Bar length.
    #[arg(long, default_value = "1h")]
    pub timeframe: String,
    /// Number of candles.
    #[arg(long, default_value_t = 24 * 365)]
    pub candles: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First open time, YYYY-MM-DD (UTC).
    #[arg(long, default_value = "2024-01-01")]
    pub start: String,
    /// First open price.
    #[arg(long, default_value = "30000")]
    pub price: String,
    /// Output file (aurum CSV).
    #[arg(long)]
    pub out: PathBuf,
}

/// Options of `aurum data import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import.
    pub file: PathBuf,
    /// Force the input format (aurum-csv, binance-csv, freqtrade-json) instead of detecting it.
    #[arg(long)]
    pub format: Option<String>,
    /// The timeframe (inferred from the data when omitted).
    #[arg(long)]
    pub timeframe: Option<String>,
    /// Fill missing candles (previous close, volume 0), as freqtrade does.
    #[arg(long)]
    pub fill_gaps: bool,
    /// Output file (aurum CSV).
    #[arg(long)]
    pub out: PathBuf,
}

/// Options of `aurum data list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Directory to scan.
    #[arg(default_value = "data")]
    pub dir: PathBuf,
}

/// Parses `YYYY-MM-DD` or an RFC 3339 time as UTC milliseconds.
pub fn parse_day_ms(text: &str) -> Result<i64> {
    let t = text.trim();
    let ts: jiff::Timestamp = if t.len() == 10 {
        format!("{t}T00:00:00Z")
            .parse()
            .with_context(|| format!("invalid date {t:?}: expected YYYY-MM-DD"))?
    } else {
        t.parse().with_context(|| {
            format!("invalid time {t:?}: expected YYYY-MM-DD or RFC 3339 (2024-01-01T00:00:00Z)")
        })?
    };
    Ok(ts.as_millisecond())
}

/// Formats UTC milliseconds as RFC 3339.
pub fn format_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

fn write_candles(path: &Path, candles: &[aurum_core::Candle]) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    aurum_data::write_csv(candles, &mut out)
        .and_then(|_| std::io::Write::flush(&mut out))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs a `data` subcommand.
pub async fn run(command: DataCommand, _config: AppConfig) -> Result<ExitCode> {
    match command {
        DataCommand::Synth(a) => {
            let spec = SynthSpec {
                symbol: Symbol::parse(&a.pair)?,
                timeframe: a.timeframe.parse::<Timeframe>()?,
                start_ms: parse_day_ms(&a.start)?,
                candles: a.candles,
                seed: a.seed,
                start_price: aurum_core::money::parse_decimal(&a.price)?,
                ..SynthSpec::default()
            };
            let candles = aurum_data::synth(&spec)?;
            write_candles(&a.out, &candles)?;
            eprintln!(
                "wrote {} synthetic {} {} candles (seed {}) to {}",
                candles.len(),
                spec.symbol,
                spec.timeframe,
                spec.seed,
                a.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Import(a) => {
            let opts = LoadOptions {
                format: a.format.as_deref().map(str::parse::<Format>).transpose()?,
                timeframe: a
                    .timeframe
                    .as_deref()
                    .map(str::parse::<Timeframe>)
                    .transpose()?,
            };
            let loaded = aurum_data::load(&a.file, &opts)?;
            let tf = loaded.timeframe.map(|t| t.timeframe());
            let mut candles = loaded.candles;
            crate::say!(
                "{}: {} candles read as {}",
                a.file.display(),
                candles.len(),
                loaded.format.name()
            );
            if let Some(tf) = tf {
                let gaps = aurum_data::detect_gaps(&candles, tf);
                crate::say!(
                    "timeframe {tf}; {} missing candle(s) in {} gap(s)",
                    gaps.missing,
                    gaps.ranges.len()
                );
                for g in gaps.ranges.iter().take(10) {
                    crate::say!(
                        "  gap {} .. {} ({} missing)",
                        format_ms(g.from_ms),
                        format_ms(g.to_ms),
                        g.missing
                    );
                }
                if a.fill_gaps && gaps.missing > 0 {
                    candles = aurum_data::fill_gaps(&candles, tf)?;
                    crate::say!("filled: {} candles", candles.len());
                }
            }
            write_candles(&a.out, &candles)?;
            crate::say!("wrote {}", a.out.display());
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::List(a) => {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&a.dir)
                .with_context(|| format!("cannot read directory {}", a.dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "csv" || x == "json"))
                .collect();
            entries.sort();
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header([
                "file",
                "format",
                "rows",
                "timeframe",
                "first",
                "last",
                "missing",
            ]);
            for path in entries {
                match aurum_data::load(&path, &LoadOptions::default()) {
                    Ok(l) => {
                        let tf = l.timeframe.map(|t| t.timeframe());
                        let missing = tf
                            .map(|tf| aurum_data::detect_gaps(&l.candles, tf).missing.to_string());
                        t.add_row([
                            path.display().to_string(),
                            l.format.name().to_string(),
                            l.candles.len().to_string(),
                            tf.map(|t| t.to_string()).unwrap_or_default(),
                            l.candles
                                .first()
                                .map(|c| format_ms(c.open_time_ms))
                                .unwrap_or_default(),
                            l.candles
                                .last()
                                .map(|c| format_ms(c.open_time_ms))
                                .unwrap_or_default(),
                            missing.unwrap_or_default(),
                        ]);
                    }
                    Err(e) => {
                        t.add_row([
                            path.display().to_string(),
                            format!("unreadable: {e}"),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]);
                    }
                }
            }
            crate::say!("{t}");
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Download(a) => super::download::run(a).await.map(|_| ExitCode::SUCCESS),
    }
}
