//! `aurum exchange-sim`: a local Binance-Spot-compatible exchange (owned by the exchange work).

use clap::Args as ClapArgs;

/// Options of `aurum exchange-sim`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Port to listen on (127.0.0.1 only).
    #[arg(long, default_value_t = 8900)]
    pub port: u16,
}

/// Runs the simulator until interrupted.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("aurum exchange-sim is not available in this build yet")
}
