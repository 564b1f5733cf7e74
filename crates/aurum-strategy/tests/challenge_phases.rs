//! Challenge Growth's phases: exact boundaries, limits and the status report.

use aurum_core::Decimal;
use aurum_strategy::strategies::{ChallengeGrowth, ChallengeGrowthConfig, build_strategy};
use aurum_strategy::strategy::{PhaseLimits, Strategy};
use rust_decimal_macros::dec;

fn default_strategy() -> ChallengeGrowth {
    ChallengeGrowth::new(ChallengeGrowthConfig::default()).unwrap()
}

fn phase(s: &dyn Strategy, equity: Decimal) -> (u8, String, bool) {
    let l = s.limits(equity).unwrap();
    (l.phase, l.name, l.entries_allowed)
}

#[test]
fn phase_boundaries_are_exact() {
    let s = default_strategy();
    let cases = [
        (dec!(0), 1, "Aggressive Growth", true),
        (dec!(50), 1, "Aggressive Growth", true),
        (dec!(99.99), 1, "Aggressive Growth", true),
        (dec!(99.99999999), 1, "Aggressive Growth", true),
        (dec!(100), 2, "Steady Expansion", true),
        (dec!(199.99), 2, "Steady Expansion", true),
        (dec!(200), 3, "Compound Growth", true),
        (dec!(399.99), 3, "Compound Growth", true),
        (dec!(400), 4, "Target Achievement", true),
        (dec!(599.99), 4, "Target Achievement", true),
        (dec!(600), 5, "Target Reached", false),
        (dec!(600.00), 5, "Target Reached", false),
        (dec!(10000), 5, "Target Reached", false),
    ];
    for (equity, n, name, allowed) in cases {
        assert_eq!(
            phase(&s, equity),
            (n, name.to_string(), allowed),
            "{equity}"
        );
    }
}

#[test]
fn limits_carry_the_phase_table() {
    let s = default_strategy();
    assert_eq!(
        s.limits(dec!(99.99)),
        Some(PhaseLimits {
            phase: 1,
            name: "Aggressive Growth".into(),
            risk_per_trade: dec!(0.15),
            max_trades_per_day: 25,
            max_open_positions: 2,
            min_confidence: 0.6,
            entries_allowed: true,
        })
    );
    let row = |e| {
        let l = s.limits(e).unwrap();
        (
            l.risk_per_trade,
            l.max_trades_per_day,
            l.max_open_positions,
            l.min_confidence,
        )
    };
    assert_eq!(row(dec!(150)), (dec!(0.12), 20, 2, 0.6));
    assert_eq!(row(dec!(250)), (dec!(0.10), 15, 3, 0.7));
    assert_eq!(row(dec!(450)), (dec!(0.08), 12, 3, 0.85));
    // Target reached keeps the last phase's numbers but allows no entries.
    assert_eq!(row(dec!(600)), (dec!(0.08), 12, 3, 0.85));
}

#[test]
fn a_target_above_the_last_bound_stays_in_the_last_phase() {
    let params = [("target".to_string(), "1000".to_string())];
    let s = build_strategy(
        "challenge_growth",
        &params,
        &ChallengeGrowthConfig::default(),
    )
    .unwrap();
    assert_eq!(
        phase(&*s, dec!(700)),
        (4, "Target Achievement".into(), true)
    );
    assert_eq!(
        phase(&*s, dec!(999.99)),
        (4, "Target Achievement".into(), true)
    );
    assert_eq!(phase(&*s, dec!(1000)), (5, "Target Reached".into(), false));
    // A target below the last bound ends the challenge early.
    let params = [("target".to_string(), "300".to_string())];
    let s = build_strategy(
        "challenge_growth",
        &params,
        &ChallengeGrowthConfig::default(),
    )
    .unwrap();
    assert_eq!(
        phase(&*s, dec!(299.99)),
        (3, "Compound Growth".into(), true)
    );
    assert_eq!(phase(&*s, dec!(300)), (5, "Target Reached".into(), false));
}

#[test]
fn status_reports_phase_and_progress() {
    let s = default_strategy();
    assert_eq!(
        s.status(dec!(325)),
        serde_json::json!({
            "strategy": "challenge_growth",
            "phase": 3,
            "phase_name": "Compound Growth",
            "equity": "325",
            "start_equity": "50",
            "target": "600",
            "progress_pct": 50.0,
            "target_reached": false,
            "risk_per_trade": "0.10",
            "max_trades_per_day": 15,
            "max_open_positions": 3,
            "min_confidence": 0.7,
        })
    );
    let progress = |e| s.status(e)["progress_pct"].as_f64().unwrap();
    assert_eq!(progress(dec!(50)), 0.0);
    assert_eq!(progress(dec!(30)), 0.0); // below the start: clamped
    assert_eq!(progress(dec!(105)), 10.0); // 55 / 550
    assert_eq!(progress(dec!(599.99)), 99.99818181818182); // 549.99 / 550
    assert_eq!(progress(dec!(600)), 100.0);
    assert_eq!(progress(dec!(900)), 100.0); // clamped
    assert_eq!(s.progress_pct(dec!(105)), dec!(10));
    let done = s.status(dec!(612.5));
    assert_eq!(done["target_reached"], true);
    assert_eq!(done["phase_name"], "Target Reached");
}
