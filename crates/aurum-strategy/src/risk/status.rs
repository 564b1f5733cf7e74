//! The risk figures shown on the dashboard and returned by the API.

use super::config::RiskConfig;
use super::rules::RiskRule;
use super::state::{KillSwitch, RiskState};
use crate::indicators::decimal_to_f64;
use aurum_core::{Decimal, Money};
use serde::Serialize;

/// The risk manager's view at one time. Amounts are exact decimals (strings in JSON);
/// percentages are floats for display.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskStatus {
    /// The time of the snapshot, ms since the Unix epoch.
    pub now_ms: i64,
    /// The standing rules blocking entries right now, in checking order (kill switch,
    /// entries paused, drawdown breaker, daily loss limit, loss-streak pause). Empty: entries may go out.
    pub blocked_by: Vec<RiskRule>,
    /// The kill switch.
    pub kill_switch: KillSwitch,
    /// The last equity seen.
    pub equity: Option<Money>,
    /// The all-time peak equity.
    pub peak_equity: Option<Money>,
    /// How far equity is below the all-time peak, in percent (0 at the peak).
    pub drawdown_pct: f64,
    /// How far equity is below the breaker's reference, in percent of it.
    pub breaker_drawdown_pct: f64,
    /// The breaker's limit in percent (20 for 0.20).
    pub drawdown_limit_pct: f64,
    /// End of the drawdown cooldown, if running.
    pub drawdown_cooldown_until_ms: Option<i64>,
    /// Equity at the start of the UTC day.
    pub day_start_equity: Option<Money>,
    /// The day's loss in percent of the start-of-day equity (0 when up on the day).
    pub daily_loss_pct: f64,
    /// The day's result in percent of the start-of-day equity (signed: negative is a loss).
    pub daily_pnl_pct: f64,
    /// How much of the daily loss limit is used, in percent (100 = limit hit).
    pub daily_loss_used_pct: f64,
    /// The daily loss limit in percent (5 for 0.05).
    pub daily_loss_limit_pct: f64,
    /// Whether the daily loss limit blocks entries for the rest of the UTC day.
    pub daily_loss_blocked: bool,
    /// Losing trades in a row.
    pub consecutive_losses: u32,
    /// How many start the pause.
    pub max_consecutive_losses: u32,
    /// End of the loss-streak pause, if running.
    pub loss_pause_until_ms: Option<i64>,
    /// Entries filled on the current UTC day.
    pub entries_today: u32,
    /// The configured daily entry limit (a phase limit may be lower).
    pub max_trades_per_day: u32,
}

impl RiskStatus {
    /// The figures of a risk state under its configuration at `now_ms` (what
    /// [`RiskManager::status`](super::RiskManager::status) returns; a stored state gives the same).
    pub fn build(config: &RiskConfig, s: &RiskState, now_ms: i64) -> RiskStatus {
        let equity = s.last_equity;
        let pct = |x: Decimal| decimal_to_f64(x * Decimal::ONE_HUNDRED);
        // Fall from `reference` to the current equity as a fraction of `reference` (0 if up).
        let fall = |reference: Option<Money>| match (reference, equity) {
            (Some(r), Some(e)) if r > Decimal::ZERO && e < r => {
                (r - e).checked_div(r).unwrap_or_default()
            }
            _ => Decimal::ZERO,
        };
        let day_start = if s.day == Some(super::state::utc_day(now_ms)) {
            s.day_start_equity
        } else {
            None
        };
        let daily_loss = fall(day_start);
        let daily_used = daily_loss
            .checked_div(config.daily_loss_limit_pct)
            .unwrap_or_default();
        let kill = s.kill_switch.engaged;
        let drawdown_until = s.drawdown_cooldown_at(now_ms);
        let daily_blocked = s.daily_loss_blocked_at(now_ms);
        let pause_until = s.loss_pause_at(now_ms);
        let blocked_by = [
            (kill, RiskRule::KillSwitch),
            (s.entries_paused, RiskRule::EntriesPaused),
            (drawdown_until.is_some(), RiskRule::DrawdownBreaker),
            (daily_blocked, RiskRule::DailyLossLimit),
            (pause_until.is_some(), RiskRule::LossStreakPause),
        ]
        .into_iter()
        .filter_map(|(on, rule)| on.then_some(rule))
        .collect();
        RiskStatus {
            now_ms,
            blocked_by,
            kill_switch: s.kill_switch.clone(),
            equity,
            peak_equity: s.peak_equity,
            drawdown_pct: pct(fall(s.peak_equity)),
            breaker_drawdown_pct: pct(fall(s.breaker_peak)),
            drawdown_limit_pct: pct(config.drawdown_limit_pct),
            drawdown_cooldown_until_ms: drawdown_until,
            day_start_equity: day_start,
            daily_loss_pct: pct(daily_loss),
            daily_pnl_pct: match (day_start, equity) {
                (Some(d), Some(e)) if d > Decimal::ZERO => pct((e - d) / d),
                _ => 0.0,
            },
            daily_loss_used_pct: pct(daily_used),
            daily_loss_limit_pct: pct(config.daily_loss_limit_pct),
            daily_loss_blocked: daily_blocked,
            consecutive_losses: s.consecutive_losses,
            max_consecutive_losses: config.max_consecutive_losses,
            loss_pause_until_ms: pause_until,
            entries_today: s.entries_on(now_ms),
            max_trades_per_day: config.max_trades_per_day,
        }
    }
}
