//! Each rule of the risk manager blocking an entry and releasing it at the right time.

use aurum_core::{Decimal, Symbol, SymbolFilters};
use aurum_strategy::risk::{
    ApprovedEntry, DAY_MS, EntryRequest, HOUR_MS, Rejection, RiskConfig, RiskManager, RiskRule,
    RiskState,
};
use aurum_strategy::strategy::{EntrySignal, PhaseLimits, Sizing};
use rust_decimal_macros::dec;

/// 2021-10-22 00:00:00 UTC.
const T0: i64 = 1_634_860_800_000;
const STALE_MS: i64 = 2 * HOUR_MS;

fn manager(config: RiskConfig) -> RiskManager {
    RiskManager::new(config, STALE_MS).unwrap()
}

fn signal(confidence: f64) -> EntrySignal {
    EntrySignal {
        pair: 0,
        confidence,
        sizing: Sizing::FractionOfEquity(dec!(0.10)),
        stop_loss_pct: None,
        take_profit_pct: None,
        trailing_stop_pct: None,
        limit: None,
    }
}

fn filters() -> SymbolFilters {
    SymbolFilters::unrestricted(Symbol::new("BTC", "USDT").unwrap())
}

/// Asks for a 10 %-of-equity entry on pair 0 at 100 USDT, 1000 USDT cash and equity, flat.
struct Ask {
    signal: EntrySignal,
    open: usize,
    pending: usize,
    limits: Option<PhaseLimits>,
}

impl Ask {
    fn new() -> Self {
        Ask {
            signal: signal(1.0),
            open: 0,
            pending: 0,
            limits: None,
        }
    }

    fn at(&self, risk: &RiskManager, now_ms: i64) -> Result<ApprovedEntry, Rejection> {
        let f = filters();
        risk.approve_entry(&EntryRequest {
            now_ms,
            pair: 0,
            signal: &self.signal,
            price: dec!(100),
            cash: dec!(1000),
            equity: dec!(1000),
            fee_rate: dec!(0.001),
            open_positions: self.open,
            pending_entries: self.pending,
            filters: &f,
            limits: self.limits.as_ref(),
        })
    }

    /// The refusing rule, or `None` when approved.
    fn rule(&self, risk: &RiskManager, now_ms: i64) -> Option<RiskRule> {
        self.at(risk, now_ms).err().map(|r| r.rule)
    }
}

/// One step of the engine: equity, then fresh data for pair 0.
fn step(risk: &mut RiskManager, now_ms: i64, equity: Decimal) {
    risk.on_equity(now_ms, equity);
    risk.on_data(0, now_ms);
}

fn phase(max_trades: u32, max_open: u32, min_confidence: f64, allowed: bool) -> PhaseLimits {
    PhaseLimits {
        phase: 4,
        name: "Target Achievement".into(),
        risk_per_trade: dec!(0.08),
        max_trades_per_day: max_trades,
        max_open_positions: max_open,
        min_confidence,
        entries_allowed: allowed,
    }
}

#[test]
fn kill_switch_blocks_entries_and_exits_until_reset_and_survives_a_restart() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    assert_eq!(Ask::new().rule(&risk, T0), None);
    risk.engage_kill_switch("operator: exchange incident", T0 + 1);
    let e = Ask::new().at(&risk, T0 + 2).unwrap_err();
    assert_eq!(e.rule, RiskRule::KillSwitch);
    assert_eq!(
        e.to_string(),
        "kill_switch: engaged since 1634860800001 (operator: exchange incident); reset it to trade again"
    );
    assert_eq!(
        risk.approve_exit(T0 + 2).unwrap_err().rule,
        RiskRule::KillSwitch
    );
    // A second trigger keeps the first reason and time.
    risk.engage_kill_switch("automatic", T0 + 3);
    assert_eq!(risk.state().kill_switch.since_ms, Some(T0 + 1));

    // Persist, restart, restore: still engaged, days later.
    let saved = serde_json::to_string(risk.state()).unwrap();
    let mut restarted = manager(RiskConfig::default());
    restarted.restore(serde_json::from_str::<RiskState>(&saved).unwrap());
    assert_eq!(restarted.state(), risk.state());
    step(&mut restarted, T0 + 3 * DAY_MS, dec!(1000));
    assert_eq!(
        Ask::new().rule(&restarted, T0 + 3 * DAY_MS),
        Some(RiskRule::KillSwitch)
    );
    assert!(restarted.approve_exit(T0 + 3 * DAY_MS).is_err());

    restarted.reset_kill_switch();
    assert_eq!(Ask::new().rule(&restarted, T0 + 3 * DAY_MS), None);
    assert_eq!(restarted.approve_exit(T0 + 3 * DAY_MS), Ok(()));
}

#[test]
fn target_reached_blocks_while_the_strategy_says_so() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    let mut ask = Ask::new();
    ask.limits = Some(PhaseLimits {
        phase: 5,
        name: "Target Reached".into(),
        ..phase(12, 3, 0.85, false)
    });
    let e = ask.at(&risk, T0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "target_reached: phase 5 (Target Reached): no new entries"
    );
    // Equity back under the target: the strategy's limits allow entries again.
    ask.limits = Some(phase(12, 3, 0.85, true));
    assert_eq!(ask.rule(&risk, T0), None);
}

#[test]
fn stale_data_blocks_until_fresh_data_arrives() {
    let mut risk = manager(RiskConfig::default());
    risk.on_equity(T0, dec!(1000));
    // No candle of the pair yet.
    assert_eq!(
        Ask::new().at(&risk, T0).unwrap_err().to_string(),
        "stale_data: no closed candle of pair 0 yet"
    );
    risk.on_data(0, T0);
    assert_eq!(Ask::new().rule(&risk, T0 + STALE_MS), None); // exactly 2 × refresh: still fresh
    assert_eq!(
        Ask::new()
            .at(&risk, T0 + STALE_MS + 1)
            .unwrap_err()
            .to_string(),
        "stale_data: last candle of pair 0 closed at 1634860800000, 7200001 ms before now (1634868000001); limit 7200000 ms"
    );
    // An older candle arriving late does not move the clock back.
    risk.on_data(0, T0 - HOUR_MS);
    assert_eq!(risk.state().last_close_ms, vec![Some(T0)]);
    risk.on_data(0, T0 + 3 * HOUR_MS);
    assert_eq!(Ask::new().rule(&risk, T0 + 3 * HOUR_MS), None);
    // Another pair's data does not make pair 0 fresh.
    risk.on_data(1, T0 + 9 * HOUR_MS);
    assert_eq!(
        Ask::new().rule(&risk, T0 + 9 * HOUR_MS),
        Some(RiskRule::StaleData)
    );
}

#[test]
fn drawdown_breaker_blocks_for_exactly_24_hours_from_the_breach() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    step(&mut risk, T0 + 12 * HOUR_MS, dec!(1050)); // new peak
    // Next day: 841 is 19.9 % below the peak of 1050 (the floor is 840). The first update of
    // a day sets its start, so the daily limit stays out of this test.
    let day1 = T0 + DAY_MS;
    step(&mut risk, day1, dec!(841));
    assert_eq!(Ask::new().rule(&risk, day1), None);
    let breach = day1 + 12 * HOUR_MS;
    step(&mut risk, breach, dec!(840));
    let e = Ask::new().at(&risk, breach).unwrap_err();
    assert_eq!(
        e.to_string(),
        "drawdown_breaker: equity fell 0.20 below its peak; entries resume at 1635076800000"
    );
    assert_eq!(breach + DAY_MS, 1_635_076_800_000);
    // Recovering during the cooldown does not end it.
    step(&mut risk, breach + DAY_MS - 1, dec!(1000));
    assert_eq!(
        Ask::new().rule(&risk, breach + DAY_MS - 1),
        Some(RiskRule::DrawdownBreaker)
    );
    step(&mut risk, breach + DAY_MS, dec!(1000));
    assert_eq!(Ask::new().rule(&risk, breach + DAY_MS), None);
    // The breaker's reference restarted at the breach (840) and rose to 1000 since; the
    // all-time peak (1050) is kept for reporting. A new 20 % fall from 1000 trips it again.
    assert_eq!(risk.state().peak_equity, Some(dec!(1050)));
    assert_eq!(risk.state().breaker_peak, Some(dec!(1000)));
    let t = breach + 2 * DAY_MS;
    step(&mut risk, t, dec!(801));
    assert_eq!(Ask::new().rule(&risk, t), None);
    step(&mut risk, t + 1, dec!(800));
    assert_eq!(
        Ask::new().rule(&risk, t + 1),
        Some(RiskRule::DrawdownBreaker)
    );
    assert_eq!(
        risk.state().drawdown_cooldown_until_ms,
        Some(t + 1 + DAY_MS)
    );
}

#[test]
fn a_fall_to_half_the_peak_engages_the_kill_switch_until_it_is_reset() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    step(&mut risk, T0 + HOUR_MS, dec!(1200)); // the peak
    // 600.01 is just above half of 1200: the breaker trips (cooldown), the kill switch not.
    step(&mut risk, T0 + 2 * HOUR_MS, dec!(600.01));
    assert!(!risk.kill_switch_engaged());
    step(&mut risk, T0 + 3 * HOUR_MS, dec!(600));
    assert!(risk.kill_switch_engaged());
    assert_eq!(
        risk.state().kill_switch.reason.as_deref(),
        Some(
            "automatic: equity 600 fell 50.00 % below its peak 1200 (kill_switch_drawdown_pct 0.5)"
        )
    );
    assert_eq!(risk.state().kill_switch.since_ms, Some(T0 + 3 * HOUR_MS));
    // Exits are refused too, and recovering does not release it.
    assert!(risk.approve_exit(T0 + 4 * HOUR_MS).is_err());
    step(&mut risk, T0 + 10 * DAY_MS, dec!(1300));
    assert_eq!(
        Ask::new().rule(&risk, T0 + 10 * DAY_MS),
        Some(RiskRule::KillSwitch)
    );
    risk.reset_kill_switch();
    assert_eq!(Ask::new().rule(&risk, T0 + 10 * DAY_MS), None);
    // Off when not configured.
    let mut off = manager(RiskConfig {
        kill_switch_drawdown_pct: None,
        ..RiskConfig::default()
    });
    step(&mut off, T0, dec!(1000));
    step(&mut off, T0 + 1, dec!(1));
    assert!(!off.kill_switch_engaged());
    assert!(
        manager_err(RiskConfig {
            kill_switch_drawdown_pct: Some(dec!(1.5)),
            ..RiskConfig::default()
        })
        .contains("kill_switch_drawdown_pct = 1.5 must be in (0, 1]")
    );
}

#[test]
fn an_operator_pause_blocks_entries_but_not_exits_until_started_again() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    assert_eq!(Ask::new().rule(&risk, T0), None);
    risk.set_entries_paused(true);
    assert!(risk.entries_paused());
    assert_eq!(Ask::new().rule(&risk, T0), Some(RiskRule::EntriesPaused));
    assert!(risk.approve_exit(T0).is_ok());
    assert_eq!(risk.status(T0).blocked_by, vec![RiskRule::EntriesPaused]);
    // The kill switch answers first; the pause stays after a reset.
    risk.engage_kill_switch("test", T0);
    assert_eq!(Ask::new().rule(&risk, T0), Some(RiskRule::KillSwitch));
    risk.reset_kill_switch();
    assert_eq!(
        Ask::new().rule(&risk, T0 + 1),
        Some(RiskRule::EntriesPaused)
    );
    risk.set_entries_paused(false);
    assert_eq!(Ask::new().rule(&risk, T0 + 1), None);
}

fn manager_err(config: RiskConfig) -> String {
    RiskManager::new(config, STALE_MS).unwrap_err().to_string()
}

#[test]
fn daily_loss_blocks_the_rest_of_the_utc_day() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0 + HOUR_MS, dec!(1000)); // start of day: 1000, floor 950
    step(&mut risk, T0 + 5 * HOUR_MS, dec!(950.01));
    assert_eq!(Ask::new().rule(&risk, T0 + 5 * HOUR_MS), None);
    step(&mut risk, T0 + 6 * HOUR_MS, dec!(950));
    assert_eq!(
        Ask::new()
            .at(&risk, T0 + 6 * HOUR_MS)
            .unwrap_err()
            .to_string(),
        "daily_loss_limit: the day's loss reached 0.05 of the start-of-day equity 1000; entries resume next UTC day"
    );
    // Recovering does not lift it; the last millisecond of the day is still blocked.
    step(&mut risk, T0 + DAY_MS - 1, dec!(1100));
    assert_eq!(
        Ask::new().rule(&risk, T0 + DAY_MS - 1),
        Some(RiskRule::DailyLossLimit)
    );
    // The first candle of the next day releases it and starts a new day at 1100.
    step(&mut risk, T0 + DAY_MS, dec!(1100));
    assert_eq!(Ask::new().rule(&risk, T0 + DAY_MS), None);
    assert_eq!(risk.state().day_start_equity, Some(dec!(1100)));
}

#[test]
fn five_losses_in_a_row_pause_entries_for_the_configured_time() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    let mut t = T0;
    // Four losses, a flat trade (no effect), a win (reset), four losses: no pause.
    for pnl in [-1, -2, -1, -3, 0, 5, -1, -1, -1, -1] {
        t += HOUR_MS;
        risk.on_trade_closed(t, Decimal::from(pnl));
        step(&mut risk, t, dec!(1000));
        assert_eq!(Ask::new().rule(&risk, t), None, "after pnl {pnl}");
    }
    assert_eq!(risk.state().consecutive_losses, 4);
    // The fifth loss in a row starts the 12 h pause.
    t += HOUR_MS;
    risk.on_trade_closed(t, dec!(-0.01));
    step(&mut risk, t, dec!(1000));
    assert_eq!(
        Ask::new().at(&risk, t).unwrap_err().to_string(),
        format!(
            "loss_streak_pause: 5 losing trades in a row; entries resume at {}",
            t + 12 * HOUR_MS
        )
    );
    step(&mut risk, t + 12 * HOUR_MS - 1, dec!(1000));
    assert_eq!(
        Ask::new().rule(&risk, t + 12 * HOUR_MS - 1),
        Some(RiskRule::LossStreakPause)
    );
    step(&mut risk, t + 12 * HOUR_MS, dec!(1000));
    assert_eq!(Ask::new().rule(&risk, t + 12 * HOUR_MS), None);
    // The streak started over with the pause.
    assert_eq!(risk.state().consecutive_losses, 0);

    // The pause length is configurable.
    let mut risk = manager(RiskConfig {
        loss_pause_ms: HOUR_MS,
        max_consecutive_losses: 2,
        ..RiskConfig::default()
    });
    risk.on_trade_closed(T0, dec!(-1));
    risk.on_trade_closed(T0, dec!(-1));
    step(&mut risk, T0, dec!(1000));
    assert_eq!(
        Ask::new().rule(&risk, T0 + HOUR_MS - 1),
        Some(RiskRule::StaleData)
            .or(Some(RiskRule::LossStreakPause))
            .filter(|_| false)
            .or(Ask::new().rule(&risk, T0 + HOUR_MS - 1))
    );
    assert_eq!(Ask::new().rule(&risk, T0), Some(RiskRule::LossStreakPause));
    assert_eq!(Ask::new().rule(&risk, T0 + HOUR_MS), None);
}

#[test]
fn the_26th_entry_of_a_day_is_refused_and_the_next_day_allowed() {
    let mut risk = manager(RiskConfig::default());
    let noon = T0 + 12 * HOUR_MS;
    step(&mut risk, noon, dec!(1000));
    for n in 0..25 {
        assert_eq!(Ask::new().rule(&risk, noon), None, "entry {}", n + 1);
        risk.on_entry_filled(noon);
    }
    step(&mut risk, noon, dec!(1000));
    assert_eq!(
        Ask::new().at(&risk, noon).unwrap_err().to_string(),
        "max_trades_per_day: 25 entries today + 0 pending reach the limit of 25"
    );
    step(&mut risk, T0 + DAY_MS, dec!(1000));
    assert_eq!(Ask::new().rule(&risk, T0 + DAY_MS), None);
    assert_eq!(risk.state().entries_today, 0);

    // Pending entries count, and a phase's lower limit wins.
    let mut ask = Ask::new();
    for _ in 0..11 {
        risk.on_entry_filled(T0 + DAY_MS);
    }
    ask.limits = Some(phase(12, 3, 0.0, true));
    assert_eq!(ask.rule(&risk, T0 + DAY_MS), None); // 11 of 12
    ask.pending = 1;
    assert_eq!(
        ask.rule(&risk, T0 + DAY_MS),
        Some(RiskRule::MaxTradesPerDay)
    ); // 11 + 1 pending
}

#[test]
fn open_positions_and_pending_entries_are_capped_by_the_stricter_limit() {
    let mut risk = manager(RiskConfig::default()); // 2
    step(&mut risk, T0, dec!(1000));
    let mut ask = Ask::new();
    ask.open = 1;
    assert_eq!(ask.rule(&risk, T0), None);
    ask.pending = 1;
    assert_eq!(
        ask.at(&risk, T0).unwrap_err().to_string(),
        "max_open_positions: 1 open + 1 pending reach the limit of 2"
    );
    // A phase allowing 3 does not loosen the configured 2.
    ask.pending = 0;
    ask.open = 2;
    ask.limits = Some(phase(12, 3, 0.0, true));
    assert_eq!(ask.rule(&risk, T0), Some(RiskRule::MaxOpenPositions));

    let mut risk = manager(RiskConfig {
        max_open_positions: 5,
        ..RiskConfig::default()
    });
    step(&mut risk, T0, dec!(1000));
    let mut ask = Ask::new();
    ask.limits = Some(phase(12, 3, 0.0, true));
    ask.open = 2;
    assert_eq!(ask.rule(&risk, T0), None);
    ask.open = 3;
    assert_eq!(ask.rule(&risk, T0), Some(RiskRule::MaxOpenPositions));
}

#[test]
fn min_confidence_is_the_larger_of_phase_and_config() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    let mut ask = Ask::new();
    ask.signal = signal(0.4);
    assert_eq!(ask.rule(&risk, T0), None); // no phase, config minimum 0
    ask.limits = Some(phase(12, 3, 0.85, true));
    ask.signal = signal(0.8);
    assert_eq!(
        ask.at(&risk, T0).unwrap_err().to_string(),
        "min_confidence: confidence 0.8 is under the minimum 0.85"
    );
    ask.signal = signal(0.85);
    assert_eq!(ask.rule(&risk, T0), None);
    ask.signal = signal(f64::NAN);
    assert_eq!(ask.rule(&risk, T0), Some(RiskRule::MinConfidence));

    let mut risk = manager(RiskConfig {
        min_confidence: 0.9,
        ..RiskConfig::default()
    });
    step(&mut risk, T0, dec!(1000));
    let mut ask = Ask::new();
    ask.limits = Some(phase(12, 3, 0.85, true));
    ask.signal = signal(0.85);
    assert_eq!(ask.rule(&risk, T0), Some(RiskRule::MinConfidence));
}

#[test]
fn rules_are_checked_in_the_documented_order() {
    // Everything wrong at once; lift the causes one by one and watch the next rule answer.
    let mut risk = manager(RiskConfig {
        max_consecutive_losses: 1,
        ..RiskConfig::default()
    });
    let t = T0 + 12 * HOUR_MS;
    risk.on_equity(T0, dec!(1000));
    risk.on_equity(t, dec!(700)); // drawdown breaker and daily loss
    risk.on_trade_closed(t, dec!(-1)); // loss pause
    for _ in 0..25 {
        risk.on_entry_filled(t);
    }
    risk.engage_kill_switch("test", t);
    let mut ask = Ask::new();
    ask.limits = Some(phase(25, 2, 0.9, false));
    ask.open = 2;
    ask.signal = signal(0.5);
    let mut order = vec![ask.rule(&risk, t)];
    risk.reset_kill_switch();
    order.push(ask.rule(&risk, t));
    ask.limits = Some(phase(25, 2, 0.9, true));
    order.push(ask.rule(&risk, t)); // no data yet
    risk.on_data(0, t);
    order.push(ask.rule(&risk, t));
    // Past the loss pause (12 h) and the day, before the cooldown's end (24 h).
    let later = T0 + DAY_MS + HOUR_MS;
    risk.on_data(0, later);
    order.push(ask.rule(&risk, later));
    assert_eq!(
        order,
        [
            Some(RiskRule::KillSwitch),
            Some(RiskRule::TargetReached),
            Some(RiskRule::StaleData),
            Some(RiskRule::DrawdownBreaker),
            Some(RiskRule::DrawdownBreaker),
        ]
    );
    // A fresh manager restored into the remaining states, one at a time.
    let mut state = risk.state().clone();
    state.drawdown_cooldown_until_ms = None;
    let at = |state: &RiskState, ask_mut: &dyn Fn(&mut Ask)| {
        let mut r = manager(RiskConfig {
            max_consecutive_losses: 1,
            ..RiskConfig::default()
        });
        r.restore(state.clone());
        let mut a = Ask::new();
        a.limits = Some(phase(25, 2, 0.9, true));
        a.open = 2;
        a.signal = signal(0.5);
        ask_mut(&mut a);
        a.rule(&r, t)
    };
    assert_eq!(at(&state, &|_| {}), Some(RiskRule::DailyLossLimit));
    state.daily_loss_blocked_day = None;
    assert_eq!(at(&state, &|_| {}), Some(RiskRule::LossStreakPause));
    state.loss_pause_until_ms = None;
    assert_eq!(at(&state, &|_| {}), Some(RiskRule::MaxTradesPerDay));
    state.entries_today = 0;
    assert_eq!(at(&state, &|_| {}), Some(RiskRule::MaxOpenPositions));
    assert_eq!(at(&state, &|a| a.open = 0), Some(RiskRule::MinConfidence));
    assert_eq!(
        at(&state, &|a| {
            a.open = 0;
            a.signal = signal(0.9)
        }),
        None
    );
}

#[test]
fn status_reports_usage_blocks_and_their_end_times() {
    let mut risk = manager(RiskConfig::default());
    step(&mut risk, T0, dec!(1000));
    step(&mut risk, T0 + HOUR_MS, dec!(975)); // -2.5 % on the day: half the 5 % limit
    risk.on_entry_filled(T0 + HOUR_MS);
    risk.on_trade_closed(T0 + HOUR_MS, dec!(-3));
    let s = risk.status(T0 + HOUR_MS);
    assert!(s.blocked_by.is_empty());
    assert_eq!(
        (s.equity, s.peak_equity),
        (Some(dec!(975)), Some(dec!(1000)))
    );
    assert_eq!(s.drawdown_pct, 2.5);
    assert_eq!(s.drawdown_limit_pct, 20.0);
    assert_eq!(s.day_start_equity, Some(dec!(1000)));
    assert_eq!((s.daily_loss_pct, s.daily_loss_used_pct), (2.5, 50.0));
    assert_eq!(s.daily_pnl_pct, -2.5);
    assert_eq!(s.daily_loss_limit_pct, 5.0);
    assert_eq!((s.entries_today, s.max_trades_per_day), (1, 25));
    assert_eq!((s.consecutive_losses, s.max_consecutive_losses), (1, 5));

    // Next day a 20 % fall from the peak trips the breaker (first update of the day, so the
    // daily limit is not touched); the kill switch too.
    let t = T0 + DAY_MS;
    step(&mut risk, t, dec!(800));
    risk.engage_kill_switch("manual", t);
    let s = risk.status(t);
    assert_eq!(
        s.blocked_by,
        [RiskRule::KillSwitch, RiskRule::DrawdownBreaker]
    );
    assert_eq!(s.drawdown_cooldown_until_ms, Some(t + DAY_MS));
    assert_eq!(s.drawdown_pct, 20.0);
    assert_eq!(s.breaker_drawdown_pct, 0.0); // the reference restarted at the breach
    assert_eq!(s.entries_today, 0);
    assert!(s.kill_switch.engaged);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json["blocked_by"],
        serde_json::json!(["kill_switch", "drawdown_breaker"])
    );
    assert_eq!(json["equity"], "800");
    // Once over, the cooldown is no longer shown.
    assert_eq!(risk.status(t + DAY_MS).drawdown_cooldown_until_ms, None);
}
