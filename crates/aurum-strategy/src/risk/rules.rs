//! The rules of the risk manager and the rejection that names one.

use serde::Serialize;
use std::fmt;

/// A rule that can refuse an order, in the order the risk manager checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskRule {
    /// The kill switch is engaged: no orders at all until it is reset.
    KillSwitch,
    /// An operator stopped new entries (API, dashboard): exits still go out.
    EntriesPaused,
    /// The strategy reached its target and wants no more entries.
    TargetReached,
    /// The pair's last closed candle is older than the staleness limit (or there is none).
    StaleData,
    /// Equity fell past the drawdown limit below its peak: no entries during the cooldown.
    DrawdownBreaker,
    /// The day's loss reached the daily limit: no entries until the next UTC day.
    DailyLossLimit,
    /// Too many losing trades in a row: no entries during the pause.
    LossStreakPause,
    /// The day's entries reached the limit.
    MaxTradesPerDay,
    /// Open positions plus pending entries reached the limit.
    MaxOpenPositions,
    /// The signal's confidence is under the minimum.
    MinConfidence,
    /// The order would be under the minimum trade size.
    MinTrade,
    /// The order and its fee cost more than the free cash.
    InsufficientCash,
    /// The venue's filters (step, min/max quantity, notional) refuse the order.
    VenueFilter,
    /// The request itself is unusable (a non-positive price, a fee rate outside `[0, 1)`,
    /// amounts too large for a decimal).
    InvalidRequest,
}

impl RiskRule {
    /// The snake_case name used in logs, metrics labels and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskRule::KillSwitch => "kill_switch",
            RiskRule::EntriesPaused => "entries_paused",
            RiskRule::TargetReached => "target_reached",
            RiskRule::StaleData => "stale_data",
            RiskRule::DrawdownBreaker => "drawdown_breaker",
            RiskRule::DailyLossLimit => "daily_loss_limit",
            RiskRule::LossStreakPause => "loss_streak_pause",
            RiskRule::MaxTradesPerDay => "max_trades_per_day",
            RiskRule::MaxOpenPositions => "max_open_positions",
            RiskRule::MinConfidence => "min_confidence",
            RiskRule::MinTrade => "min_trade",
            RiskRule::InsufficientCash => "insufficient_cash",
            RiskRule::VenueFilter => "venue_filter",
            RiskRule::InvalidRequest => "invalid_request",
        }
    }

    /// Every rule, in checking order.
    pub const ALL: [RiskRule; 14] = [
        RiskRule::KillSwitch,
        RiskRule::EntriesPaused,
        RiskRule::TargetReached,
        RiskRule::StaleData,
        RiskRule::DrawdownBreaker,
        RiskRule::DailyLossLimit,
        RiskRule::LossStreakPause,
        RiskRule::MaxTradesPerDay,
        RiskRule::MaxOpenPositions,
        RiskRule::MinConfidence,
        RiskRule::MinTrade,
        RiskRule::InsufficientCash,
        RiskRule::VenueFilter,
        RiskRule::InvalidRequest,
    ];
}

impl fmt::Display for RiskRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order the risk manager refused: which rule, and the numbers behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{rule}: {detail}")]
pub struct Rejection {
    /// The rule that refused.
    pub rule: RiskRule,
    /// What exactly, with the values (for logs and the order's rejection reason).
    pub detail: String,
}

impl Rejection {
    pub(crate) fn new(rule: RiskRule, detail: String) -> Rejection {
        Rejection { rule, detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_and_match_serde() {
        let names: Vec<_> = RiskRule::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "kill_switch",
                "entries_paused",
                "target_reached",
                "stale_data",
                "drawdown_breaker",
                "daily_loss_limit",
                "loss_streak_pause",
                "max_trades_per_day",
                "max_open_positions",
                "min_confidence",
                "min_trade",
                "insufficient_cash",
                "venue_filter",
                "invalid_request",
            ]
        );
        for r in RiskRule::ALL {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::String(r.as_str().into())
            );
        }
        let r = Rejection::new(RiskRule::MinTrade, "4 < 5".into());
        assert_eq!(r.to_string(), "min_trade: 4 < 5");
    }
}
