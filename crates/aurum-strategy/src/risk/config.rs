//! Settings of the risk manager (`[risk]` in `aurum.toml`).

use aurum_core::{Decimal, Money};
use serde::{Deserialize, Serialize};

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// The risk limits (SPEC "Risk manager"). A strategy's phase limits, when it has any, tighten
/// these: the stricter of the two applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest fraction of equity one trade may use (`Sizing::AllCash` excepted).
    pub max_risk_per_trade: Decimal,
    /// Smallest order in USDT; smaller sizes are raised to it when cash allows.
    pub min_trade: Money,
    /// Most positions open at once (open + pending entries).
    pub max_open_positions: u32,
    /// Most entries per UTC day.
    pub max_trades_per_day: u32,
    /// Lowest signal confidence accepted (phase minimums tighten it).
    pub min_confidence: f64,
    /// Loss since the start of the UTC day, as a fraction of that day's starting equity,
    /// that blocks entries for the rest of the day (0.05 = 5 %).
    pub daily_loss_limit_pct: Decimal,
    /// Fall below peak equity, as a fraction of the peak, that trips the drawdown breaker.
    pub drawdown_limit_pct: Decimal,
    /// How long the drawdown breaker blocks entries (ms).
    pub drawdown_cooldown_ms: i64,
    /// Losing trades in a row that start the loss pause.
    pub max_consecutive_losses: u32,
    /// How long the loss pause blocks entries (ms).
    pub loss_pause_ms: i64,
    /// Data older than this (ms between the pair's last candle close and now) is stale.
    /// `None` (default): twice the refresh interval (the candle timeframe), see
    /// [`RiskConfig::stale_after_ms_for`].
    pub stale_after_ms: Option<i64>,
    /// Whether engaging the kill switch also closes open positions at market (done by the
    /// engine's kill-switch path, which does not go through [`approve_exit`]).
    ///
    /// [`approve_exit`]: super::RiskManager::approve_exit
    pub close_on_kill: bool,
    /// Fall below the all-time peak equity, as a fraction of the peak, that engages the kill
    /// switch by itself (0.5 = half the peak lost): unlike the drawdown breaker's cooldown it
    /// stops everything until an operator resets it. `None`: never automatically.
    pub kill_switch_drawdown_pct: Option<Decimal>,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            max_risk_per_trade: Decimal::new(15, 2),
            min_trade: Decimal::from(5),
            max_open_positions: 2,
            max_trades_per_day: 25,
            min_confidence: 0.0,
            daily_loss_limit_pct: Decimal::new(5, 2),
            drawdown_limit_pct: Decimal::new(20, 2),
            drawdown_cooldown_ms: 24 * HOUR_MS,
            max_consecutive_losses: 5,
            loss_pause_ms: 12 * HOUR_MS,
            stale_after_ms: None,
            close_on_kill: false,
            kill_switch_drawdown_pct: Some(Decimal::new(5, 1)),
        }
    }
}

/// A risk setting out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("risk config: {0}")]
pub struct RiskConfigError(pub String);

impl RiskConfig {
    /// Limits that never bind (every position count, trade count, loss and drawdown limit
    /// opened up, no minimum trade, the whole equity per trade), so that a run shows the
    /// strategy and the fill rules alone: for tests, rehearsals and benchmarks, never for
    /// money. The kill switch and stale data still apply.
    pub fn unrestricted() -> RiskConfig {
        RiskConfig {
            max_risk_per_trade: Decimal::ONE,
            min_trade: Decimal::ZERO,
            max_open_positions: u32::MAX,
            max_trades_per_day: u32::MAX,
            min_confidence: 0.0,
            daily_loss_limit_pct: Decimal::ONE,
            drawdown_limit_pct: Decimal::ONE,
            max_consecutive_losses: u32::MAX,
            kill_switch_drawdown_pct: None,
            ..RiskConfig::default()
        }
    }

    /// The staleness limit for a refresh interval (the timeframe in backtests, the polling or
    /// stream interval live): the configured one, or `2 × refresh_ms`.
    pub fn stale_after_ms_for(&self, refresh_ms: i64) -> i64 {
        self.stale_after_ms
            .unwrap_or_else(|| refresh_ms.saturating_mul(2))
    }

    /// Checks the ranges; the error names the field and its value.
    pub fn validate(&self) -> Result<(), RiskConfigError> {
        let fail = |msg: String| Err(RiskConfigError(msg));
        let fraction = |name: &str, v: Decimal| {
            if v > Decimal::ZERO && v <= Decimal::ONE {
                Ok(())
            } else {
                fail(format!("{name} = {v} must be in (0, 1]"))
            }
        };
        fraction("max_risk_per_trade", self.max_risk_per_trade)?;
        fraction("daily_loss_limit_pct", self.daily_loss_limit_pct)?;
        fraction("drawdown_limit_pct", self.drawdown_limit_pct)?;
        if let Some(v) = self.kill_switch_drawdown_pct {
            fraction("kill_switch_drawdown_pct", v)?;
        }
        if self.min_trade < Decimal::ZERO {
            return fail(format!(
                "min_trade = {} must not be negative",
                self.min_trade
            ));
        }
        for (name, v) in [
            ("max_open_positions", self.max_open_positions),
            ("max_trades_per_day", self.max_trades_per_day),
            ("max_consecutive_losses", self.max_consecutive_losses),
        ] {
            if v == 0 {
                return fail(format!("{name} = 0 must be at least 1"));
            }
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return fail(format!(
                "min_confidence = {} must be in [0, 1]",
                self.min_confidence
            ));
        }
        for (name, v) in [
            ("drawdown_cooldown_ms", self.drawdown_cooldown_ms),
            ("loss_pause_ms", self.loss_pause_ms),
        ] {
            if v < 0 {
                return fail(format!("{name} = {v} must not be negative"));
            }
        }
        if let Some(v) = self.stale_after_ms
            && v <= 0
        {
            return fail(format!("stale_after_ms = {v} must be positive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec_values() {
        let c = RiskConfig::default();
        c.validate().unwrap();
        assert_eq!(c.max_risk_per_trade.to_string(), "0.15");
        assert_eq!(c.min_trade.to_string(), "5");
        assert_eq!((c.max_open_positions, c.max_trades_per_day), (2, 25));
        assert_eq!(c.daily_loss_limit_pct.to_string(), "0.05");
        assert_eq!(c.drawdown_limit_pct.to_string(), "0.20");
        assert_eq!(c.drawdown_cooldown_ms, 86_400_000);
        assert_eq!((c.max_consecutive_losses, c.loss_pause_ms), (5, 43_200_000));
        assert!(!c.close_on_kill);
        assert_eq!(c.stale_after_ms_for(60_000), 120_000);
        let c = RiskConfig {
            stale_after_ms: Some(5_000),
            ..c
        };
        assert_eq!(c.stale_after_ms_for(60_000), 5_000);
    }

    #[test]
    fn toml_and_validation_errors() {
        let c: RiskConfig =
            toml::from_str("min_trade = 10\ndrawdown_limit_pct = 0.3\nclose_on_kill = true")
                .unwrap();
        assert_eq!(c.min_trade, Decimal::from(10));
        assert_eq!(c.drawdown_limit_pct.to_string(), "0.3");
        assert!(c.close_on_kill);
        assert!(toml::from_str::<RiskConfig>("max_trade_per_day = 3").is_err());
        let bad = RiskConfig {
            daily_loss_limit_pct: Decimal::ZERO,
            ..RiskConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "risk config: daily_loss_limit_pct = 0 must be in (0, 1]"
        );
        let bad = RiskConfig {
            max_trades_per_day: 0,
            ..RiskConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "risk config: max_trades_per_day = 0 must be at least 1"
        );
    }
}
