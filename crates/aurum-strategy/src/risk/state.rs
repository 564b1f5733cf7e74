//! What the risk manager remembers between time steps, persisted by the engine (in
//! `engine_state`) so that a restart keeps breakers, pauses and the kill switch.

use aurum_core::Money;
use serde::{Deserialize, Serialize};

/// One UTC day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since the Unix epoch) of a timestamp in ms.
pub fn utc_day(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// The kill switch: once engaged, every order is refused until an explicit reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KillSwitch {
    /// Whether it is engaged.
    pub engaged: bool,
    /// Why it was engaged (operator text or the automatic trigger).
    pub reason: Option<String>,
    /// When it was engaged, ms since the Unix epoch.
    pub since_ms: Option<i64>,
}

/// The risk manager's memory. Every field has a default so a state saved by an older version
/// still loads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskState {
    /// Highest equity seen (the all-time high-water mark, for reporting).
    pub peak_equity: Option<Money>,
    /// The drawdown breaker's reference: the highest equity since the last breach. It restarts
    /// from the breach equity when the breaker trips, so a deep drawdown is not a permanent
    /// lock: after the cooldown, entries resume until equity falls another limit below the new
    /// reference (or below a new high).
    pub breaker_peak: Option<Money>,
    /// The last equity given to `on_equity`.
    pub last_equity: Option<Money>,
    /// The current UTC day (days since the Unix epoch).
    pub day: Option<i64>,
    /// Equity at the first update of the current UTC day.
    pub day_start_equity: Option<Money>,
    /// Entries filled on the current UTC day.
    pub entries_today: u32,
    /// Losing trades in a row (reset by a win and when the loss pause starts).
    pub consecutive_losses: u32,
    /// Entries are paused until this time (loss streak).
    pub loss_pause_until_ms: Option<i64>,
    /// Entries are blocked until this time (drawdown breaker).
    pub drawdown_cooldown_until_ms: Option<i64>,
    /// The UTC day on which the daily loss limit was hit (blocked for the rest of it).
    pub daily_loss_blocked_day: Option<i64>,
    /// The kill switch.
    pub kill_switch: KillSwitch,
    /// An operator stopped new entries (until started again); exits are not affected.
    pub entries_paused: bool,
    /// Close time (ms) of the last candle per pair, indexed by the engine's pair id.
    pub last_close_ms: Vec<Option<i64>>,
}

impl RiskState {
    /// Entries counted for the UTC day of `now_ms` (0 when the state is from an earlier day).
    pub fn entries_on(&self, now_ms: i64) -> u32 {
        if self.day == Some(utc_day(now_ms)) {
            self.entries_today
        } else {
            0
        }
    }

    /// Whether the daily loss limit blocks entries at `now_ms`.
    pub fn daily_loss_blocked_at(&self, now_ms: i64) -> bool {
        self.daily_loss_blocked_day == Some(utc_day(now_ms))
    }

    /// The end of the drawdown cooldown if it is still running at `now_ms`.
    pub fn drawdown_cooldown_at(&self, now_ms: i64) -> Option<i64> {
        self.drawdown_cooldown_until_ms.filter(|&t| now_ms < t)
    }

    /// The end of the loss pause if it is still running at `now_ms`.
    pub fn loss_pause_at(&self, now_ms: i64) -> Option<i64> {
        self.loss_pause_until_ms.filter(|&t| now_ms < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days_split_at_midnight_also_before_1970() {
        assert_eq!(utc_day(0), 0);
        assert_eq!(utc_day(DAY_MS - 1), 0);
        assert_eq!(utc_day(DAY_MS), 1);
        assert_eq!(utc_day(-1), -1);
        // 2021-10-22 00:00:00 UTC.
        assert_eq!(utc_day(1_634_860_800_000), 18_922);
    }

    #[test]
    fn an_empty_json_object_is_the_default_state() {
        let s: RiskState = serde_json::from_str("{}").unwrap();
        assert_eq!(s, RiskState::default());
    }
}
