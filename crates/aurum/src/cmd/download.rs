//! `aurum data download`: paginated, resumable Binance klines download (owned by the exchange work).

use clap::Args as ClapArgs;

/// Options of `aurum data download`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Pair, e.g. BTC/USDT.
    #[arg(long)]
    pub pair: String,
}

/// Downloads candles.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("aurum data download is not available in this build yet")
}
