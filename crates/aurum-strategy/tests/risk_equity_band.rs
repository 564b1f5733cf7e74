//! `RiskManager::on_equity` skips its full work while the equity stays between the floors and
//! the peaks of the day. That shortcut must never change what the manager decides: a manager
//! whose shortcut is disabled at every step (a `restore` of its own state forgets it) ends up
//! in exactly the same state after any sequence of equities, days, fills and closed trades.

use aurum_core::Decimal;
use aurum_strategy::risk::{RiskConfig, RiskManager};
use proptest::prelude::*;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone)]
enum Step {
    /// Time moves on by this many ms, then the equity (in cents) is marked.
    Equity(i64, i64),
    /// Time moves on by this many ms, then the equity is marked exactly at one of the floors
    /// (0: drawdown breaker, 1: daily loss, 2: kill switch), or one cent above it.
    AtFloor(i64, u8, bool),
    /// An entry filled.
    EntryFilled,
    /// A trade closed with this P&L (cents).
    TradeClosed(i64),
    /// An operator resets the kill switch.
    ResetKillSwitch,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0i64..DAY_MS / 3, 1i64..2_000_000).prop_map(|(dt, c)| Step::Equity(dt, c)),
        3 => (0i64..DAY_MS / 3, 0u8..3, any::<bool>()).prop_map(|(dt, f, up)| Step::AtFloor(dt, f, up)),
        1 => Just(Step::EntryFilled),
        1 => (-50_000i64..50_000).prop_map(Step::TradeClosed),
        1 => Just(Step::ResetKillSwitch),
    ]
}

fn config(limits: (u32, u32, Option<u32>)) -> RiskConfig {
    let pct = |p: u32| Decimal::new(i64::from(p), 2);
    RiskConfig {
        drawdown_limit_pct: pct(limits.0),
        daily_loss_limit_pct: pct(limits.1),
        kill_switch_drawdown_pct: limits.2.map(pct),
        drawdown_cooldown_ms: 3_600_000,
        ..RiskConfig::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn the_quiet_band_never_changes_the_state(
        limits in (1u32..=100, 1u32..=100, proptest::option::of(1u32..=100)),
        steps in proptest::collection::vec(step(), 1..200),
    ) {
        let mut fast = RiskManager::new(config(limits), 120_000).unwrap();
        let mut full = fast.clone();
        let mut now = 1_700_000_000_000i64;
        for s in &steps {
            match *s {
                Step::Equity(dt, cents) => {
                    now += dt;
                    let equity = Decimal::new(cents, 2);
                    fast.on_equity(now, equity);
                    let state = full.state().clone();
                    full.restore(state);
                    full.on_equity(now, equity);
                }
                Step::AtFloor(dt, which, up) => {
                    now += dt;
                    let st = fast.state();
                    let c = fast.config();
                    let (base, limit) = match which {
                        0 => (st.breaker_peak, Some(c.drawdown_limit_pct)),
                        1 => (st.day_start_equity, Some(c.daily_loss_limit_pct)),
                        _ => (st.peak_equity, c.kill_switch_drawdown_pct),
                    };
                    let (Some(base), Some(limit)) = (base, limit) else { continue };
                    let mut equity = base * (Decimal::ONE - limit);
                    if up {
                        equity += Decimal::new(1, 2);
                    }
                    fast.on_equity(now, equity);
                    let state = full.state().clone();
                    full.restore(state);
                    full.on_equity(now, equity);
                }
                Step::EntryFilled => {
                    fast.on_entry_filled(now);
                    full.on_entry_filled(now);
                }
                Step::TradeClosed(cents) => {
                    fast.on_trade_closed(now, Decimal::new(cents, 2));
                    full.on_trade_closed(now, Decimal::new(cents, 2));
                }
                Step::ResetKillSwitch => {
                    fast.reset_kill_switch();
                    full.reset_kill_switch();
                }
            }
            prop_assert_eq!(fast.state(), full.state(), "after {:?}", s);
        }
    }
}
