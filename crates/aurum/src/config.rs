//! `aurum.toml` and `AURUM__SECTION__KEY` environment overrides, read once at start.

use anyhow::{Context, Result};
use aurum_core::Decimal;
use aurum_store::StoreConfig;
use aurum_strategy::risk::RiskConfig;
use aurum_strategy::strategies::ChallengeGrowthConfig;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The whole configuration. Unknown sections and keys are refused, so a typo is an error and
/// not a silently ignored setting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Where and how data is stored (`[store]`, `[store.pool]`, `[store.writer]`).
    pub store: StoreConfig,
    /// The risk manager's limits (`[risk]`).
    pub risk: RiskConfig,
    /// Strategy settings (`[strategy.challenge_growth]`).
    pub strategy: StrategySection,
    /// Backtest defaults (`[backtest]`).
    pub backtest: BacktestDefaults,
    /// The trading bot (`[bot]`): pairs, strategy, loop.
    pub bot: aurum_runtime::BotConfig,
    /// Paper trading (`[paper]`).
    pub paper: aurum_runtime::PaperConfig,
    /// The venue (`[exchange]`).
    pub exchange: aurum_runtime::ExchangeConfig,
    /// The operator API (`[api]`): address, token file, body limit.
    pub api: aurum_server::ApiConfig,
}

/// `[strategy.*]`: settings of the strategies that have more than a few parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategySection {
    /// Challenge Growth: phases, entry score, exits (every number of SPEC.md).
    pub challenge_growth: ChallengeGrowthConfig,
}

/// `[backtest]`: what `aurum backtest` uses when an option is not given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktestDefaults {
    /// Starting cash in the quote asset.
    pub cash: Decimal,
    /// Fee per side on the notional.
    pub fee: Decimal,
    /// Slippage of market fills in basis points.
    pub slippage_bps: u32,
}

impl Default for BacktestDefaults {
    fn default() -> Self {
        BacktestDefaults {
            cash: Decimal::from(10_000),
            fee: Decimal::new(1, 3),
            slippage_bps: 0,
        }
    }
}

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "aurum.toml";

impl AppConfig {
    /// Defaults, then the TOML file (the given one, which must exist, or `aurum.toml` when
    /// present), then `AURUM__SECTION__KEY` variables (e.g. `AURUM__STORE__URL`,
    /// `AURUM__STORE__POOL__POOL_SIZE`).
    pub fn load(path: Option<&Path>) -> Result<AppConfig> {
        let mut fig = Figment::from(Serialized::defaults(AppConfig::default()));
        match path {
            Some(p) => {
                anyhow::ensure!(p.is_file(), "config file {} does not exist", p.display());
                fig = fig.merge(Toml::file_exact(p));
            }
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                fig = fig.merge(Toml::file_exact(DEFAULT_CONFIG_FILE))
            }
            None => {}
        }
        fig = fig.merge(Env::prefixed("AURUM__").split("__"));
        let shown = path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| DEFAULT_CONFIG_FILE.into());
        fig.extract()
            .with_context(|| format!("invalid configuration (from {shown} and AURUM__* variables)"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's test jail returns its own large error type
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "a.toml",
                "[store]\nurl = \"sqlite://x.db\"\n[store.pool]\npool_size = 4\npool_timeout = 2.5\n",
            )?;
            jail.set_env("AURUM__STORE__POOL__MAX_OVERFLOW", "3");
            let c = AppConfig::load(Some(Path::new("a.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.store.url, "sqlite://x.db");
            assert_eq!((c.store.pool.pool_size, c.store.pool.max_overflow), (4, 3));
            assert_eq!(c.store.pool.pool_timeout.as_secs_f64(), 2.5);
            Ok(())
        });
    }

    #[test]
    fn the_readme_example_configs_load() {
        let readme = include_str!("../../../README.md");
        let blocks: Vec<&str> = readme
            .split("```toml\n")
            .skip(1)
            .map(|b| b.split("```").next().expect("closed block"))
            .collect();
        assert_eq!(blocks.len(), 3, "the README's toml examples");
        figment::Jail::expect_with(|jail| {
            jail.create_file("readme.toml", blocks[0])?;
            let c =
                AppConfig::load(Some(Path::new("readme.toml"))).map_err(|e| format!("{e:#}"))?;
            assert_eq!(c.store.pool.pool_size, 10);
            assert_eq!(c.risk.min_trade, Decimal::from(5));
            assert_eq!(c.backtest.fee, Decimal::new(1, 3));
            jail.create_file("bot.toml", blocks[1])?;
            let c = AppConfig::load(Some(Path::new("bot.toml"))).map_err(|e| format!("{e:#}"))?;
            c.bot.validate().map_err(|e| e.to_string())?;
            assert_eq!(c.bot.pairs, ["BTC/USDT", "ETH/USDT"]);
            assert_eq!(c.bot.poll_interval_ms, 1000);
            assert_eq!(c.paper.cash, Decimal::from(50));
            assert_eq!(c.paper.store_url, "sqlite://aurum-paper.db");
            assert_eq!(c.exchange.recv_window_ms, 5000);
            assert_eq!(c.bot.market_data, "poll");
            jail.create_file("api.toml", blocks[2])?;
            let c = AppConfig::load(Some(Path::new("api.toml"))).map_err(|e| format!("{e:#}"))?;
            assert_eq!(c.api.bind, "127.0.0.1:8080");
            assert_eq!(c.api.max_body_bytes, 65_536);
            assert_eq!(c.api.state_cache_ms, 200);
            assert_eq!(c.api.token_file, None);
            Ok(())
        });
    }

    #[test]
    fn typos_are_errors_that_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("b.toml", "[store]\nurll = \"x\"\n")?;
            let e = format!(
                "{:#}",
                AppConfig::load(Some(Path::new("b.toml"))).unwrap_err()
            );
            assert!(e.contains("urll"), "{e}");
            jail.create_file("c.toml", "[store.pool]\npool_size = 0\n")?;
            let e = format!(
                "{:#}",
                AppConfig::load(Some(Path::new("c.toml"))).unwrap_err()
            );
            assert!(e.contains("pool_size"), "{e}");
            Ok(())
        });
    }
}
