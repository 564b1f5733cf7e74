//! Position sizing of the risk manager, in exact decimals, with unrestricted pairs and with
//! BTCUSDT's real Binance filters.

mod common;

use aurum_core::{Decimal, Symbol, SymbolFilters};
use aurum_strategy::risk::{
    ApprovedEntry, EntryRequest, Rejection, RiskConfig, RiskManager, RiskRule,
};
use aurum_strategy::strategies::{ChallengeGrowth, ChallengeGrowthConfig};
use aurum_strategy::strategy::{EntrySignal, PhaseLimits, Sizing, Strategy};
use common::real_case;
use rust_decimal_macros::dec;

const T: i64 = 1_634_860_800_000;

fn risk() -> RiskManager {
    let mut r = RiskManager::new(RiskConfig::default(), 120_000).unwrap();
    r.on_equity(T, dec!(50));
    r.on_data(0, T);
    r
}

fn unrestricted() -> SymbolFilters {
    SymbolFilters::unrestricted(Symbol::new("BTC", "USDT").unwrap())
}

/// BTCUSDT of the real 2021-10 exchangeInfo: step 0.00001, MIN_NOTIONAL 10 (market too).
fn btcusdt() -> SymbolFilters {
    let path = real_case("binance/exchange_info_spot_btcusdt_ethusdt_2021-10.json");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let f = SymbolFilters::from_binance_symbol(&info["symbols"][0]).unwrap();
    assert_eq!(f.symbol.venue(), "BTCUSDT");
    f
}

fn phase_limits(equity: Decimal) -> PhaseLimits {
    ChallengeGrowth::new(ChallengeGrowthConfig::default())
        .unwrap()
        .limits(equity)
        .unwrap()
}

struct Case {
    sizing: Sizing,
    price: Decimal,
    cash: Decimal,
    equity: Decimal,
    fee: Decimal,
    filters: SymbolFilters,
    limits: Option<PhaseLimits>,
}

impl Case {
    /// Challenge Growth in its phase at `equity`, all of it cash, 0.1 % fee, unrestricted.
    fn challenge(equity: Decimal, price: Decimal) -> Case {
        let limits = phase_limits(equity);
        Case {
            sizing: Sizing::FractionOfEquity(limits.risk_per_trade),
            price,
            cash: equity,
            equity,
            fee: dec!(0.001),
            filters: unrestricted(),
            limits: Some(limits),
        }
    }

    fn run(&self) -> Result<ApprovedEntry, Rejection> {
        let signal = EntrySignal {
            pair: 0,
            confidence: 1.0,
            sizing: self.sizing,
            stop_loss_pct: Some(dec!(0.08)),
            take_profit_pct: Some(dec!(0.12)),
            trailing_stop_pct: None,
            limit: None,
        };
        risk().approve_entry(&EntryRequest {
            now_ms: T,
            pair: 0,
            signal: &signal,
            price: self.price,
            cash: self.cash,
            equity: self.equity,
            fee_rate: self.fee,
            open_positions: 0,
            pending_entries: 0,
            filters: &self.filters,
            limits: self.limits.as_ref(),
        })
    }
}

#[test]
fn phase1_at_50_usdt_buys_7_5_usdt() {
    let a = Case::challenge(dec!(50), dec!(25000)).run().unwrap();
    assert_eq!(a.quantity.to_string(), "0.00030000"); // 7.5 / 25000
    assert_eq!(a.quote_estimate, dec!(7.5));
    assert_eq!(a.fee_estimate, dec!(0.0075));
    assert_eq!(a.risk_per_trade, dec!(0.15));
    assert!(!a.capped && !a.raised_to_min_trade);
    // Phase 2 at 150 USDT: 12 % = 18 USDT; at a price that does not divide it, the quantity
    // is truncated to the 1e-8 grid: 18 / 61234.56 = 0.000293950...
    let a = Case::challenge(dec!(150), dec!(61234.56)).run().unwrap();
    assert_eq!(a.quantity.to_string(), "0.00029395");
    assert_eq!(a.quote_estimate, dec!(17.9998989120)); // 0.00029395 × 61234.56
}

#[test]
fn sizes_are_capped_at_the_risk_per_trade_except_all_cash() {
    let mut c = Case::challenge(dec!(50), dec!(25000));
    c.sizing = Sizing::FractionOfEquity(dec!(0.5));
    let a = c.run().unwrap();
    assert_eq!((a.quote_estimate, a.capped), (dec!(7.5), true));
    c.sizing = Sizing::Quote(dec!(20));
    assert_eq!(c.run().unwrap().quote_estimate, dec!(7.5));
    // No phase: the configured 0.15 caps.
    c.limits = None;
    c.sizing = Sizing::Quote(dec!(20));
    assert_eq!(c.run().unwrap().quote_estimate, dec!(7.5));
    // A phase riskier than the configuration does not loosen it.
    let mut loose = phase_limits(dec!(50));
    loose.risk_per_trade = dec!(0.5);
    c.limits = Some(loose);
    assert_eq!(c.run().unwrap().quote_estimate, dec!(7.5));

    // AllCash (sma_cross) stakes everything net of the fee, uncapped:
    // 1000 / 1.001 = 999.000999000999..., / 25000 = 0.03996003996... → 0.03996003.
    let c = Case {
        sizing: Sizing::AllCash,
        price: dec!(25000),
        cash: dec!(1000),
        equity: dec!(1000),
        fee: dec!(0.001),
        filters: unrestricted(),
        limits: None,
    };
    let a = c.run().unwrap();
    assert_eq!(a.quantity.to_string(), "0.03996003");
    assert_eq!(a.quote_estimate, dec!(999.00075));
    assert_eq!(a.quote_estimate + a.fee_estimate, dec!(999.99975075)); // ≤ 1000 cash
    assert!(!a.capped);
}

#[test]
fn small_sizes_are_raised_to_the_min_trade_when_cash_allows() {
    // Phase 1 at 30 USDT: 15 % = 4.5 USDT, raised to 5 (cash 30 ≥ 5 × 1.001).
    let a = Case::challenge(dec!(30), dec!(25000)).run().unwrap();
    assert_eq!(a.quantity.to_string(), "0.00020000");
    assert_eq!(a.quote_estimate, dec!(5));
    assert!(a.raised_to_min_trade);
    // Cash exactly 5.005 still allows it.
    let mut c = Case::challenge(dec!(30), dec!(25000));
    c.cash = dec!(5.005);
    assert_eq!(c.run().unwrap().quote_estimate, dec!(5));
    // One cent less cannot pay 5 USDT plus the fee: refused as under the min trade.
    c.cash = dec!(4.995);
    let e = c.run().unwrap_err();
    assert_eq!(
        e.to_string(),
        "min_trade: 4.5 USDT is under the minimum trade of 5 USDT and cash 4.995 cannot cover it with the fee (5.005)"
    );
}

#[test]
fn btcusdt_real_filters_step_and_min_notional() {
    // Phase 1 at 50 USDT and BTC at 60000: 7.5 USDT = 0.000125 BTC → 0.00012 on the 0.00001
    // step → notional 7.2 < MIN_NOTIONAL 10: skipped.
    let mut c = Case::challenge(dec!(50), dec!(60000));
    c.filters = btcusdt();
    let e = c.run().unwrap_err();
    assert_eq!(e.rule, RiskRule::VenueFilter);
    assert_eq!(
        e.to_string(),
        "venue_filter: Filter failure: MIN_NOTIONAL (notional 7.2 < minNotional 10.00000000)"
    );
    // Phase 2 at 100 USDT: 12 USDT → 0.0002 BTC, notional 12: accepted.
    let mut c = Case::challenge(dec!(100), dec!(60000));
    c.filters = btcusdt();
    let a = c.run().unwrap();
    assert_eq!(a.quantity.to_string(), "0.00020");
    assert_eq!(a.quote_estimate, dec!(12));
    // Phase 2 at 111.42 USDT: 12 % = 13.3704 USDT at 61234.56 → 0.000218347... → 0.00021
    // (truncated, never rounded up).
    let mut c = Case::challenge(dec!(111.42), dec!(61234.56));
    c.filters = btcusdt();
    let a = c.run().unwrap();
    assert_eq!(a.quantity.to_string(), "0.00021");
    assert_eq!(a.quote_estimate, dec!(12.8592576));
    // A price so high that 7.5 USDT is under one step.
    let mut c = Case::challenge(dec!(50), dec!(1000000));
    c.filters = btcusdt();
    let e = c.run().unwrap_err();
    assert_eq!(
        e.to_string(),
        "venue_filter: 7.5 USDT buys 0.0000075 BTC at 1000000, which is 0 on the step grid"
    );
}

#[test]
fn refuses_what_cash_cannot_pay_and_unusable_requests() {
    // 15 % of 1000 equity is 150 USDT but only 100 is free cash.
    let mut c = Case::challenge(dec!(50), dec!(100));
    c.equity = dec!(1000);
    c.cash = dec!(100);
    c.sizing = Sizing::FractionOfEquity(dec!(0.15));
    c.limits = None;
    assert_eq!(
        c.run().unwrap_err().to_string(),
        "insufficient_cash: 1.50000000 BTC at 100 costs 150.15 USDT with the fee, cash is 100"
    );
    let mut c = Case::challenge(dec!(50), dec!(0));
    assert_eq!(
        c.run().unwrap_err().to_string(),
        "invalid_request: reference price 0 is not positive"
    );
    c.price = dec!(100);
    c.fee = dec!(1);
    assert_eq!(c.run().unwrap_err().rule, RiskRule::InvalidRequest);
    // Amounts beyond a decimal are refused, not a panic.
    let mut c = Case::challenge(dec!(50), dec!(100));
    c.equity = Decimal::MAX;
    c.cash = Decimal::MAX;
    c.limits = None;
    c.sizing = Sizing::FractionOfEquity(dec!(2));
    assert_eq!(c.run().unwrap_err().rule, RiskRule::InvalidRequest);
}

#[test]
fn all_cash_never_spends_more_than_the_cash_when_a_division_rounds_up() {
    // cash / 30 = 0.33333333999999999999999999996666...; rounded to 28 decimals it becomes
    // exactly 0.33333334 (a step), which would cost 10.0000002 > cash. One step less fits.
    let cash = Decimal::from_i128_with_scale(10_000_000_199_999_999_999_999_999_999, 27);
    assert_eq!(cash / dec!(30), dec!(0.33333334));
    let c = Case {
        sizing: Sizing::AllCash,
        price: dec!(30),
        cash,
        equity: cash,
        fee: Decimal::ZERO,
        filters: unrestricted(),
        limits: None,
    };
    let a = c.run().unwrap();
    assert_eq!(a.quantity.to_string(), "0.33333333");
    assert!(a.quote_estimate <= cash);
}
