//! The risk manager: every entry and exit passes it.

use super::config::{RiskConfig, RiskConfigError};
use super::request::{ApprovedEntry, EntryRequest};
use super::rules::{Rejection, RiskRule};
use super::sizing::size_entry;
use super::state::{KillSwitch, RiskState, utc_day};
use super::status::RiskStatus;
use crate::strategy::PairId;
use aurum_core::{Decimal, Money};

/// Decides whether an order may go out and how large an entry is. Pure: time comes in as
/// arguments, state comes out through [`state`](Self::state) for the engine to persist.
///
/// Per time step the engine calls [`on_equity`](Self::on_equity), then
/// [`on_data`](Self::on_data) for each pair's closed candle, then
/// [`approve_entry`](Self::approve_entry) / [`approve_exit`](Self::approve_exit) for the
/// strategy's signals; after fills [`on_entry_filled`](Self::on_entry_filled) and, when a
/// position closes, [`on_trade_closed`](Self::on_trade_closed).
#[derive(Debug, Clone)]
pub struct RiskManager {
    config: RiskConfig,
    stale_after_ms: i64,
    state: RiskState,
    /// Where [`on_equity`](Self::on_equity) has nothing to do but note the equity; `None`
    /// after anything else changed the state.
    quiet: Option<QuietBand>,
}

/// Equities of one UTC day above every floor (drawdown breaker, daily loss, kill switch) and
/// at most the peaks change nothing in the state but the last equity: most time steps of a
/// backtest, which then cost two comparisons instead of three multiplications and a dozen
/// comparisons of decimals.
#[derive(Debug, Clone, Copy)]
struct QuietBand {
    day: i64,
    /// The highest floor; an equity at or below it trips something.
    above: Money,
    /// The lowest peak; an equity above it raises one.
    up_to: Money,
}

/// The equity at which a fall of `limit` (a fraction) from `reference` is reached; `None` when
/// the product does not fit a decimal (no floor then).
fn floor_below(reference: Money, limit: Decimal) -> Option<Money> {
    reference.checked_mul(Decimal::ONE - limit)
}

impl RiskManager {
    /// A manager with a fresh state. `stale_after_ms` is how old the last closed candle of a
    /// pair may be (use [`RiskConfig::stale_after_ms_for`] with the refresh interval).
    pub fn new(config: RiskConfig, stale_after_ms: i64) -> Result<RiskManager, RiskConfigError> {
        config.validate()?;
        if stale_after_ms <= 0 {
            return Err(RiskConfigError(format!(
                "stale_after_ms = {stale_after_ms} must be positive"
            )));
        }
        Ok(RiskManager {
            config,
            stale_after_ms,
            state: RiskState::default(),
            quiet: None,
        })
    }

    /// The settings.
    pub fn config(&self) -> &RiskConfig {
        &self.config
    }

    /// The staleness limit in ms.
    pub fn stale_after_ms(&self) -> i64 {
        self.stale_after_ms
    }

    /// The state to persist.
    pub fn state(&self) -> &RiskState {
        &self.state
    }

    /// Replaces the state with a persisted one (at start, before the first step).
    pub fn restore(&mut self, state: RiskState) {
        self.state = state;
        self.quiet = None;
    }

    /// The account's equity at `now_ms`. Rolls the UTC day (resets the day's entries and
    /// start-of-day equity), raises the peaks, trips the drawdown breaker and the daily loss
    /// block.
    ///
    /// Drawdown breaker: when `equity <= breaker_peak × (1 − drawdown_limit_pct)` entries stop
    /// until `now + drawdown_cooldown_ms` (a breach during a cooldown extends it), and the
    /// breaker's reference restarts from this equity (see [`RiskState::breaker_peak`]).
    /// Daily loss: when `equity <= start-of-day × (1 − daily_loss_limit_pct)` entries stop
    /// for the rest of the UTC day. Hard stop: when `equity <= peak × (1 −
    /// kill_switch_drawdown_pct)` the kill switch engages (until an operator resets it).
    pub fn on_equity(&mut self, now_ms: i64, equity: Money) {
        let today = utc_day(now_ms);
        if let Some(q) = self.quiet
            && q.day == today
            && equity > q.above
            && equity <= q.up_to
        {
            self.state.last_equity = Some(equity);
            return;
        }
        self.update_equity(today, now_ms, equity);
        self.quiet = self.quiet_band(today);
    }

    /// [`on_equity`](Self::on_equity) in full.
    fn update_equity(&mut self, today: i64, now_ms: i64, equity: Money) {
        let s = &mut self.state;
        if s.day != Some(today) {
            s.day = Some(today);
            s.entries_today = 0;
            s.day_start_equity = Some(equity);
        } else if s.day_start_equity.is_none() {
            s.day_start_equity = Some(equity);
        }
        s.last_equity = Some(equity);
        s.peak_equity = Some(s.peak_equity.map_or(equity, |p| p.max(equity)));
        let breaker_peak = s.breaker_peak.map_or(equity, |p| p.max(equity));
        s.breaker_peak = Some(breaker_peak);

        if let Some(floor) = floor_below(breaker_peak, self.config.drawdown_limit_pct)
            && equity <= floor
        {
            let until = now_ms.saturating_add(self.config.drawdown_cooldown_ms);
            s.drawdown_cooldown_until_ms = Some(
                s.drawdown_cooldown_at(now_ms)
                    .map_or(until, |current| current.max(until)),
            );
            s.breaker_peak = Some(equity);
        }
        if let Some(start) = s.day_start_equity
            && let Some(floor) = floor_below(start, self.config.daily_loss_limit_pct)
            && equity <= floor
        {
            s.daily_loss_blocked_day = Some(today);
        }
        if let (Some(limit), Some(peak)) = (self.config.kill_switch_drawdown_pct, s.peak_equity)
            && peak > Decimal::ZERO
            && let Some(floor) = floor_below(peak, limit)
            && equity <= floor
            && !s.kill_switch.engaged
        {
            let reason = format!(
                "automatic: equity {equity} fell {} % below its peak {peak} (kill_switch_drawdown_pct {limit})",
                ((peak - equity) / peak * Decimal::from(100)).round_dp(2)
            );
            self.engage_kill_switch(&reason, now_ms);
        }
    }

    /// The band of equities that would change nothing now (see [`QuietBand`]); `None` when
    /// the state is not complete enough to say.
    fn quiet_band(&self, today: i64) -> Option<QuietBand> {
        let s = &self.state;
        let (Some(start), Some(peak), Some(breaker_peak)) =
            (s.day_start_equity, s.peak_equity, s.breaker_peak)
        else {
            return None;
        };
        if s.day != Some(today) {
            return None;
        }
        // The same floors `update_equity` compares with.
        let floors = [
            floor_below(breaker_peak, self.config.drawdown_limit_pct),
            floor_below(start, self.config.daily_loss_limit_pct),
            self.config
                .kill_switch_drawdown_pct
                .and_then(|limit| floor_below(peak, limit)),
        ];
        let above = floors.into_iter().flatten().max()?;
        Some(QuietBand {
            day: today,
            above,
            up_to: peak.min(breaker_peak),
        })
    }

    /// A closed candle of `pair` ending at `close_ms` arrived (fresh data).
    pub fn on_data(&mut self, pair: PairId, close_ms: i64) {
        let closes = &mut self.state.last_close_ms;
        if pair >= closes.len() {
            closes.resize(pair + 1, None);
        }
        let slot = &mut closes[pair];
        *slot = Some(slot.map_or(close_ms, |t| t.max(close_ms)));
    }

    /// An entry filled at `now_ms`: counts toward the day's trades.
    pub fn on_entry_filled(&mut self, now_ms: i64) {
        self.quiet = None;
        let today = utc_day(now_ms);
        if self.state.day != Some(today) {
            // A fill before the day's first equity update: start the day's count here; the
            // start-of-day equity comes with the next `on_equity`.
            self.state.day = Some(today);
            self.state.entries_today = 0;
            self.state.day_start_equity = None;
        }
        self.state.entries_today = self.state.entries_today.saturating_add(1);
    }

    /// A position closed at `now_ms` with this net P&L (after fees). A loss extends the losing
    /// streak; at `max_consecutive_losses` the loss pause starts (until `now + loss_pause_ms`)
    /// and the streak starts over. A win resets the streak; an exactly flat trade leaves it.
    pub fn on_trade_closed(&mut self, now_ms: i64, net_pnl: Money) {
        self.quiet = None;
        let s = &mut self.state;
        if net_pnl < Decimal::ZERO {
            s.consecutive_losses = s.consecutive_losses.saturating_add(1);
            if s.consecutive_losses >= self.config.max_consecutive_losses {
                let until = now_ms.saturating_add(self.config.loss_pause_ms);
                s.loss_pause_until_ms = Some(
                    s.loss_pause_at(now_ms)
                        .map_or(until, |current| current.max(until)),
                );
                s.consecutive_losses = 0;
            }
        } else if net_pnl > Decimal::ZERO {
            s.consecutive_losses = 0;
        }
    }

    /// Engages the kill switch (manual or automatic). Already engaged: keeps the first reason
    /// and time.
    pub fn engage_kill_switch(&mut self, reason: &str, now_ms: i64) {
        self.quiet = None;
        if !self.state.kill_switch.engaged {
            self.state.kill_switch = KillSwitch {
                engaged: true,
                reason: Some(reason.to_string()),
                since_ms: Some(now_ms),
            };
        }
    }

    /// Releases the kill switch (an explicit operator action).
    pub fn reset_kill_switch(&mut self) {
        self.quiet = None;
        self.state.kill_switch = KillSwitch::default();
    }

    /// Stops (`true`) or starts again (`false`) new entries: an operator's decision, kept
    /// until changed; exits and protection are not affected.
    pub fn set_entries_paused(&mut self, paused: bool) {
        self.quiet = None;
        self.state.entries_paused = paused;
    }

    /// Whether an operator stopped new entries.
    pub fn entries_paused(&self) -> bool {
        self.state.entries_paused
    }

    /// Whether the kill switch is engaged.
    pub fn kill_switch_engaged(&self) -> bool {
        self.state.kill_switch.engaged
    }

    /// Approves and sizes an entry, or names the first rule that refuses it. The checks run
    /// in this order: kill switch, entries paused by an operator, target reached, stale data, drawdown breaker, daily loss
    /// limit, loss-streak pause, max trades per UTC day (entries filled today + pending), max
    /// open positions (open + pending), min confidence; then the sizing rules (min trade,
    /// insufficient cash, venue filters; see `size_entry`).
    ///
    /// Where the strategy has phase limits, the stricter of them and the configured limits
    /// applies: the smaller risk per trade, trades per day and open positions, the larger
    /// minimum confidence.
    pub fn approve_entry(&self, req: &EntryRequest<'_>) -> Result<ApprovedEntry, Rejection> {
        let s = &self.state;
        let now = req.now_ms;
        let reject = |rule, detail: String| Err(Rejection::new(rule, detail));
        if let Some(detail) = self.kill_switch_detail() {
            return reject(RiskRule::KillSwitch, detail);
        }
        if s.entries_paused {
            return reject(
                RiskRule::EntriesPaused,
                "an operator stopped new entries; start them again to trade".to_string(),
            );
        }
        if let Some(l) = req.limits
            && !l.entries_allowed
        {
            return reject(
                RiskRule::TargetReached,
                format!("phase {} ({}): no new entries", l.phase, l.name),
            );
        }
        match s.last_close_ms.get(req.pair).copied().flatten() {
            None => {
                return reject(
                    RiskRule::StaleData,
                    format!("no closed candle of pair {} yet", req.pair),
                );
            }
            Some(last) if now.saturating_sub(last) > self.stale_after_ms => {
                return reject(
                    RiskRule::StaleData,
                    format!(
                        "last candle of pair {} closed at {last}, {} ms before now ({now}); limit {} ms",
                        req.pair,
                        now.saturating_sub(last),
                        self.stale_after_ms
                    ),
                );
            }
            Some(_) => {}
        }
        if let Some(until) = s.drawdown_cooldown_at(now) {
            return reject(
                RiskRule::DrawdownBreaker,
                format!(
                    "equity fell {} below its peak; entries resume at {until}",
                    self.config.drawdown_limit_pct
                ),
            );
        }
        if s.daily_loss_blocked_at(now) {
            return reject(
                RiskRule::DailyLossLimit,
                format!(
                    "the day's loss reached {} of the start-of-day equity {}; entries resume next UTC day",
                    self.config.daily_loss_limit_pct,
                    s.day_start_equity.unwrap_or_default()
                ),
            );
        }
        if let Some(until) = s.loss_pause_at(now) {
            return reject(
                RiskRule::LossStreakPause,
                format!(
                    "{} losing trades in a row; entries resume at {until}",
                    self.config.max_consecutive_losses
                ),
            );
        }
        let max_trades = req.limits.map_or(self.config.max_trades_per_day, |l| {
            l.max_trades_per_day.min(self.config.max_trades_per_day)
        });
        let trades = u64::from(s.entries_on(now)) + req.pending_entries as u64;
        if trades >= u64::from(max_trades) {
            return reject(
                RiskRule::MaxTradesPerDay,
                format!(
                    "{} entries today + {} pending reach the limit of {max_trades}",
                    s.entries_on(now),
                    req.pending_entries
                ),
            );
        }
        let max_open = req.limits.map_or(self.config.max_open_positions, |l| {
            l.max_open_positions.min(self.config.max_open_positions)
        });
        let open = req.open_positions as u64 + req.pending_entries as u64;
        if open >= u64::from(max_open) {
            return reject(
                RiskRule::MaxOpenPositions,
                format!(
                    "{} open + {} pending reach the limit of {max_open}",
                    req.open_positions, req.pending_entries
                ),
            );
        }
        let min_confidence = req.limits.map_or(self.config.min_confidence, |l| {
            l.min_confidence.max(self.config.min_confidence)
        });
        let confidence = req.signal.confidence;
        if confidence.is_nan() || confidence < min_confidence {
            return reject(
                RiskRule::MinConfidence,
                format!("confidence {confidence} is under the minimum {min_confidence}"),
            );
        }
        let risk_per_trade = req.limits.map_or(self.config.max_risk_per_trade, |l| {
            l.risk_per_trade.min(self.config.max_risk_per_trade)
        });
        size_entry(req, risk_per_trade, self.config.min_trade)
    }

    /// Approves a sell that closes a position. Only the kill switch refuses it: with
    /// `close_on_kill`, the engine's kill-switch path closes positions itself and does not ask.
    /// Exits are never blocked by breakers, pauses or stale data (getting out is always allowed).
    pub fn approve_exit(&self, _now_ms: i64) -> Result<(), Rejection> {
        match self.kill_switch_detail() {
            Some(detail) => Err(Rejection::new(RiskRule::KillSwitch, detail)),
            None => Ok(()),
        }
    }

    fn kill_switch_detail(&self) -> Option<String> {
        let k = &self.state.kill_switch;
        k.engaged.then(|| {
            format!(
                "engaged since {} ({}); reset it to trade again",
                k.since_ms
                    .map_or_else(|| "?".to_string(), |t| t.to_string()),
                k.reason.as_deref().unwrap_or("no reason given")
            )
        })
    }

    /// The figures for the dashboard and the API at `now_ms`.
    pub fn status(&self, now_ms: i64) -> RiskStatus {
        RiskStatus::build(&self.config, &self.state, now_ms)
    }
}
