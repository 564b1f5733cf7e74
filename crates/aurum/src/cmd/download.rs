//! `aurum data download`: paginated, resumable Binance klines download into aurum's CSV.

use anyhow::{Context, Result, bail};
use aurum_core::{Symbol, Timeframe};
use aurum_exchange::binance::{BinanceClient, BinanceConfig};
use aurum_exchange::{DownloadSpec, Progress, download};
use clap::Args as ClapArgs;
use std::path::PathBuf;

/// Options of `aurum data download`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Pair, e.g. BTC/USDT.
    #[arg(long)]
    pub pair: String,
    /// Bar length (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w).
    #[arg(long, default_value = "1h")]
    pub timeframe: String,
    /// First open time, YYYY-MM-DD or RFC 3339 (UTC).
    #[arg(long)]
    pub since: String,
    /// Last open time (inclusive), YYYY-MM-DD or RFC 3339; default: the last closed candle.
    #[arg(long)]
    pub until: Option<String>,
    /// REST base URL (e.g. http://127.0.0.1:8900 for `aurum exchange-sim`).
    #[arg(long, conflicts_with = "testnet")]
    pub base_url: Option<String>,
    /// Use the Binance Spot testnet.
    #[arg(long)]
    pub testnet: bool,
    /// Output directory; the file is `<DIR>/<BASE>_<QUOTE>-<timeframe>.csv`.
    #[arg(long, default_value = "data")]
    pub out: PathBuf,
    /// Output file instead of the default name in `--out`.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

/// Downloads candles, continuing an existing file, and reports gaps.
pub async fn run(args: Args) -> Result<()> {
    let symbol = Symbol::parse(&args.pair)?;
    let timeframe: Timeframe = args.timeframe.parse()?;
    let since_ms = super::data::parse_day_ms(&args.since).context("--since")?;
    let until_ms = args
        .until
        .as_deref()
        .map(super::data::parse_day_ms)
        .transpose()
        .context("--until")?;
    if until_ms.is_some_and(|u| u < since_ms) {
        bail!("--until is before --since");
    }
    let cfg = match (&args.base_url, args.testnet) {
        (Some(url), _) => BinanceConfig::new(url.as_str()),
        (None, true) => BinanceConfig::testnet(),
        (None, false) => BinanceConfig::mainnet(),
    };
    let base = cfg.base_url.clone();
    let client = BinanceClient::new(cfg)?;
    let out = args
        .file
        .clone()
        .unwrap_or_else(|| DownloadSpec::default_path(&args.out, &symbol, timeframe));
    let spec = DownloadSpec {
        symbol: symbol.clone(),
        timeframe,
        since_ms,
        until_ms,
        out: out.clone(),
        page_limit: aurum_exchange::download::MAX_PAGE,
    };
    let bar = crate::progress::bar(0, &format!("{symbol} {timeframe}"));
    let report = download(&client, &spec, |p| match p {
        Progress::Planned { candles } => bar.set_length(candles),
        Progress::Page { candles, .. } => bar.set_position(candles),
    })
    .await
    .with_context(|| format!("downloading {symbol} {timeframe} from {base}"));
    bar.finish_and_clear();
    let report = report?;
    if report.repaired_bytes > 0 {
        println!(
            "{}: removed a cut-off last line ({} bytes)",
            out.display(),
            report.repaired_bytes
        );
    }
    match report.resumed_after_ms {
        Some(last) => println!(
            "{}: resumed after {} ({} candles already there)",
            out.display(),
            super::data::format_ms(last),
            report.existing
        ),
        None => println!("{}: new file", out.display()),
    }
    println!(
        "fetched {} candle(s) in {} request(s); the file now holds {}",
        report.fetched, report.requests, report.total
    );
    if let Some((first, last)) = report.range_ms {
        println!(
            "range {} .. {}",
            super::data::format_ms(first),
            super::data::format_ms(last)
        );
    }
    let gaps = &report.gaps;
    println!(
        "gaps: {} missing candle(s) in {} gap(s)",
        gaps.missing,
        gaps.ranges.len()
    );
    for g in gaps.ranges.iter().take(10) {
        println!(
            "  gap {} .. {} ({} missing)",
            super::data::format_ms(g.from_ms),
            super::data::format_ms(g.to_ms),
            g.missing
        );
    }
    if gaps.ranges.len() > 10 {
        println!("  ... and {} more", gaps.ranges.len() - 10);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurum_sim::{PairConfig, PriceSource, SimConfig};

    fn args(base_url: String, out: PathBuf) -> Args {
        Args {
            pair: "BTC/USDT".into(),
            timeframe: "5m".into(),
            since: "2024-01-01".into(),
            until: None,
            base_url: Some(base_url),
            testnet: false,
            out,
            file: None,
        }
    }

    /// `aurum data download` against an in-process simulator: a first run over 1200 candles
    /// (two pages), a second that continues with the 300 the venue added since.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn downloads_from_the_simulator_and_resumes() {
        let symbol = Symbol::parse("BTC/USDT").unwrap();
        let h = aurum_sim::spawn(SimConfig {
            pairs: vec![PairConfig {
                symbol,
                prices: PriceSource::Synth {
                    seed: 1,
                    candles: 2500,
                    start_ms: 1_704_067_200_000,
                    timeframe: Timeframe::M5,
                },
            }],
            history: Some(1200),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("BTC_USDT-5m.csv");
        run(args(h.base_url(), dir.path().to_path_buf()))
            .await
            .unwrap();
        let first = aurum_data::load(&path, &Default::default()).unwrap();
        assert_eq!(first.candles.len(), 1200);
        assert_eq!(first.candles[0].open_time_ms, 1_704_067_200_000);
        h.sim.engine.lock().advance(None, 300, 0);
        run(args(h.base_url(), dir.path().to_path_buf()))
            .await
            .unwrap();
        let second = aurum_data::load(&path, &Default::default()).unwrap();
        let venue = h.sim.engine.lock().markets["BTCUSDT"].history().to_vec();
        assert_eq!(second.candles, venue);
        assert_eq!(second.candles.len(), 1500);

        let mut bad = args(h.base_url(), dir.path().to_path_buf());
        bad.until = Some("2023-12-31".into());
        let e = run(bad).await.unwrap_err().to_string();
        assert_eq!(e, "--until is before --since");
        let mut bad = args(h.base_url(), dir.path().to_path_buf());
        bad.pair = "BTC".into();
        assert!(run(bad).await.is_err());
    }
}
