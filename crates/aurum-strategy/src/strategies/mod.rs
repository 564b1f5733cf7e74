//! The shipped strategies and the factory that builds one by name.
//!
//! | name | what | parameters |
//! |---|---|---|
//! | `sma_cross` | [`SmaCross`]: SMA(fast)/SMA(slow) cross, stake all cash | `fast` (10), `slow` (30) |
//! | `challenge_growth` | [`ChallengeGrowth`]: EMA cross scored by RSI/MACD/volume, phase limits | every field of [`ChallengeGrowthConfig`], `phase<N>.<field>` |
//! | `churn` | [`Churn`]: trades on every candle (rehearsals and crash tests only) | `quote`, `offset_bps`, `expire_after_bars`, `hold_bars`, `stop_loss_pct`, `take_profit_pct` |
//!
//! ```
//! use aurum_strategy::strategies::{ChallengeGrowthConfig, build_strategy};
//!
//! let params = [("fast".to_string(), "5".to_string())];
//! let s = build_strategy("sma_cross", &params, &ChallengeGrowthConfig::default())?;
//! assert_eq!(s.params(), serde_json::json!({"fast": 5, "slow": 30}));
//!
//! let err = build_strategy("rsi_dip", &[], &ChallengeGrowthConfig::default()).err().unwrap();
//! assert_eq!(
//!     err.to_string(),
//!     "unknown strategy \"rsi_dip\"; available: sma_cross, churn, challenge_growth"
//! );
//! # Ok::<(), aurum_strategy::strategies::StrategyError>(())
//! ```

mod challenge_config;
mod challenge_growth;
mod churn;
mod cross;
mod error;
mod params;
mod sma_cross;

pub use challenge_config::{ChallengeGrowthConfig, PhaseConfig};
pub use challenge_growth::{ChallengeGrowth, CrossEvaluation, TARGET_REACHED};
pub use churn::Churn;
pub use cross::{Cross, CrossDetector};
pub use error::StrategyError;
pub use sma_cross::SmaCross;

use crate::strategy::Strategy;

/// A registered strategy, for `--help` texts and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrategyInfo {
    /// The name `--strategy` takes.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// The `--param` keys it accepts (challenge_growth also takes `phase<N>.<field>`).
    pub params: &'static [&'static str],
}

const STRATEGIES: &[StrategyInfo] = &[
    StrategyInfo {
        name: SmaCross::NAME,
        summary: "long when SMA(fast) crosses above SMA(slow), flat on the cross below; stakes all cash",
        params: SmaCross::PARAMS,
    },
    StrategyInfo {
        name: Churn::NAME,
        summary: "rehearsal only: a limit buy on every candle, sold after a few candles (crash tests, soaks)",
        params: Churn::PARAMS,
    },
    StrategyInfo {
        name: ChallengeGrowth::NAME,
        summary: "EMA(9)/EMA(21) cross scored by RSI, MACD and volume; phase limits from 50 to 600 USDT",
        params: challenge_config::SCALAR_PARAMS,
    },
];

/// The strategies [`build_strategy`] knows, the default (`challenge_growth`) last.
pub fn available_strategies() -> &'static [StrategyInfo] {
    STRATEGIES
}

/// Builds the strategy `name` with `key=value` overrides. `challenge` is the configured
/// Challenge Growth settings (`[strategy.challenge_growth]` in `aurum.toml`), which the
/// parameters override; `sma_cross` starts from its defaults.
pub fn build_strategy(
    name: &str,
    params: &[(String, String)],
    challenge: &ChallengeGrowthConfig,
) -> Result<Box<dyn Strategy>, StrategyError> {
    match name {
        SmaCross::NAME => Ok(Box::new(SmaCross::from_params(params)?)),
        Churn::NAME => Ok(Box::new(Churn::from_params(params)?)),
        ChallengeGrowth::NAME => Ok(Box::new(ChallengeGrowth::from_params(challenge, params)?)),
        _ => Err(StrategyError::UnknownStrategy {
            name: name.to_string(),
            available: STRATEGIES
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn builds_both_by_name_with_overrides() {
        let base = ChallengeGrowthConfig::default();
        let sma = build_strategy("sma_cross", &[p("fast", "3"), p("slow", "7")], &base).unwrap();
        assert_eq!(sma.name(), "sma_cross");
        assert_eq!(sma.params(), serde_json::json!({"fast": 3, "slow": 7}));
        assert!(sma.limits(aurum_core::Decimal::ONE).is_none());

        let cg = build_strategy(
            "challenge_growth",
            &[p("ema_fast", "8"), p("target", "1000")],
            &base,
        )
        .unwrap();
        assert_eq!(cg.name(), "challenge_growth");
        let params = cg.params();
        assert_eq!(params["ema_fast"], 8);
        assert_eq!(params["ema_slow"], 21);
        assert_eq!(params["target"], "1000");
        assert_eq!(params["phases"][0]["name"], "Aggressive Growth");
        assert_eq!(params["phases"][0]["risk_per_trade"], "0.15");
    }

    #[test]
    fn errors_list_what_is_accepted() {
        let base = ChallengeGrowthConfig::default();
        let err = |name: &str, params: &[(String, String)]| {
            build_strategy(name, params, &base)
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            err("SMA_CROSS", &[]),
            "unknown strategy \"SMA_CROSS\"; available: sma_cross, churn, challenge_growth"
        );
        assert_eq!(
            err("sma_cross", &[p("ema_fast", "9")]),
            "sma_cross: unknown parameter \"ema_fast\"; accepted: fast, slow"
        );
        assert_eq!(
            err("sma_cross", &[p("fast", "ten")]),
            "sma_cross: parameter fast = \"ten\" is not a non-negative integer"
        );
        assert_eq!(
            err("sma_cross", &[p("fast", "40")]),
            "sma_cross: fast = 40, slow = 30: need 2 <= fast < slow <= 100000"
        );
        let e = err("challenge_growth", &[p("fast", "9")]);
        assert!(
            e.starts_with("challenge_growth: unknown parameter \"fast\"; accepted: start_equity, target, ema_fast, ema_slow, rsi_period"),
            "{e}"
        );
        assert_eq!(
            err("challenge_growth", &[p("ema_slow", "x")]),
            "challenge_growth: parameter ema_slow = \"x\" is not a non-negative integer"
        );
        assert_eq!(
            available_strategies()
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>(),
            ["sma_cross", "churn", "challenge_growth"]
        );
    }
}
