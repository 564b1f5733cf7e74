//! Backtests on real data, checked against an independent computation of the same rules:
//! signal on candle i's close, fill at candle i+1's open, stake all cash at
//! `cash / (open × (1 + fee))` rounded down to 1e-8, fee per side on the notional in quote, an
//! open position closed at the last close.

use aurum_core::performance::Trade;
use aurum_core::{Candle, Decimal, Symbol, SymbolFilters, Timeframe};
use aurum_engine::backtest::{self, BacktestConfig, PairData};
use aurum_strategy::risk::{RiskConfig, RiskManager};
use aurum_strategy::strategies::{ChallengeGrowthConfig, build_strategy};
use rust_decimal_macros::dec;

fn real(path: &str) -> Vec<Candle> {
    let full = format!(
        "{}/../../../shared/real_cases/data/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    aurum_data::load(&full, &aurum_data::LoadOptions::default())
        .unwrap()
        .candles
}

/// Limits that never bind, so the run shows the strategy and the fill rules alone.
fn permissive() -> RiskManager {
    // Sizing by the strategy (stake all), not by a risk fraction.
    let config = RiskConfig {
        max_risk_per_trade: RiskConfig::default().max_risk_per_trade,
        ..RiskConfig::unrestricted()
    };
    RiskManager::new(config, i64::MAX / 4).unwrap()
}

fn config(tf: Timeframe) -> BacktestConfig {
    BacktestConfig {
        cash: dec!(10000),
        fee_rate: dec!(0.001),
        slippage_bps: 0,
        timeframe: tf,
        bot_id: "t".into(),
    }
}

fn sma(closes: &[f64], end: usize, n: usize) -> Option<f64> {
    (end + 1 >= n).then(|| closes[end + 1 - n..=end].iter().sum::<f64>() / n as f64)
}

/// The sma_cross rules computed from scratch: plain windowed means, exact decimal books.
fn expected_sma_cross(
    candles: &[Candle],
    fast: usize,
    slow: usize,
    cash0: Decimal,
    fee: Decimal,
) -> (Vec<Trade>, Decimal) {
    let closes: Vec<f64> = candles
        .iter()
        .map(|c| c.close.to_string().parse().unwrap())
        .collect();
    let step = dec!(0.00000001);
    let (mut cash, mut qty, mut trades) = (cash0, Decimal::ZERO, Vec::new());
    let mut entry: Option<(i64, Decimal, Decimal, Decimal)> = None; // time, price, cost incl. fee, fee
    let mut pending: Option<bool> = None; // Some(true) = buy at next open
    for (i, c) in candles.iter().enumerate() {
        if let Some(buy) = pending.take() {
            let price = c.open;
            if buy {
                let q = ((cash / (price * (Decimal::ONE + fee))) / step).floor() * step;
                let f = q * price * fee;
                cash -= q * price + f;
                qty = q;
                entry = Some((c.open_time_ms, price, q * price + f, f));
            } else {
                let (t0, p0, cost, f0) = entry.take().unwrap();
                let f = qty * price * fee;
                cash += qty * price - f;
                trades.push(Trade {
                    pair: Symbol::new("BTC", "USDT").unwrap(),
                    entry_time_ms: t0,
                    entry_price: p0,
                    exit_time_ms: c.open_time_ms,
                    exit_price: price,
                    quantity: qty,
                    pnl: qty * price - f - cost,
                    fees: f0 + f,
                    exit_reason: "signal".into(),
                });
                qty = Decimal::ZERO;
            }
        }
        if let (Some(f1), Some(s1), Some(f0), Some(s0)) = (
            sma(&closes, i, fast),
            sma(&closes, i, slow),
            i.checked_sub(1).and_then(|j| sma(&closes, j, fast)),
            i.checked_sub(1).and_then(|j| sma(&closes, j, slow)),
        ) {
            if qty.is_zero() && entry.is_none() && f0 <= s0 && f1 > s1 {
                pending = Some(true);
            } else if !qty.is_zero() && f0 >= s0 && f1 < s1 {
                pending = Some(false);
            }
        }
    }
    if let Some((t0, p0, cost, f0)) = entry {
        let last = candles.last().unwrap();
        let f = qty * last.close * fee;
        cash += qty * last.close - f;
        trades.push(Trade {
            pair: Symbol::new("BTC", "USDT").unwrap(),
            entry_time_ms: t0,
            entry_price: p0,
            exit_time_ms: last.open_time_ms + 86_400_000,
            exit_price: last.close,
            quantity: qty,
            pnl: qty * last.close - f - cost,
            fees: f0 + f,
            exit_reason: "end_of_data".into(),
        });
    }
    (trades, cash)
}

fn normalised(
    t: &Trade,
) -> (
    i64,
    Decimal,
    i64,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    String,
) {
    (
        t.entry_time_ms,
        t.entry_price.normalize(),
        t.exit_time_ms,
        t.exit_price.normalize(),
        t.quantity.normalize(),
        t.pnl.normalize(),
        t.fees.normalize(),
        t.exit_reason.clone(),
    )
}

#[test]
fn sma_cross_on_real_btc_daily_matches_an_independent_computation() {
    let candles = real("btcusdt_1d_bittrex.csv");
    let data = [PairData::new(
        SymbolFilters::unrestricted(Symbol::new("BTC", "USDT").unwrap()),
        candles.clone(),
        "bittrex",
    )];
    let params = [
        ("fast".to_string(), "10".to_string()),
        ("slow".to_string(), "30".to_string()),
    ];
    let strategy = build_strategy("sma_cross", &params, &ChallengeGrowthConfig::default()).unwrap();
    let out = backtest::run(
        &data,
        &config(Timeframe::D1),
        strategy,
        permissive(),
        &mut |_| {},
    )
    .unwrap();

    let (expected, cash) = expected_sma_cross(&candles, 10, 30, dec!(10000), dec!(0.001));
    assert_eq!(out.trades.len(), expected.len());
    assert_eq!(out.trades.len(), 13);
    for (got, want) in out.trades.iter().zip(&expected) {
        assert_eq!(normalised(got), normalised(want));
    }
    // Flat at the end: the final equity is the cash, to the last digit.
    assert_eq!(out.metrics.final_equity, cash);
    assert_eq!(out.metrics.final_equity.round_dp(2), dec!(118009.91));
    // One equity point per candle.
    assert_eq!(out.equity.len(), candles.len());
    assert_eq!(out.candles, 874);
    // Sum of trade P&L is exactly the change in cash.
    let pnl: Decimal = out.trades.iter().map(|t| t.pnl).sum();
    assert_eq!(dec!(10000) + pnl, cash);
}

#[test]
fn same_inputs_give_bit_identical_outputs() {
    let candles = real("xrpusdt_5m_freqtrade.csv");
    let run = || {
        let data = [PairData::new(
            SymbolFilters::unrestricted(Symbol::new("XRP", "USDT").unwrap()),
            candles.clone(),
            "xrp",
        )];
        let s = build_strategy("challenge_growth", &[], &ChallengeGrowthConfig::default()).unwrap();
        let risk = RiskManager::new(RiskConfig::default(), 600_000).unwrap();
        let cfg = BacktestConfig {
            cash: dec!(50),
            ..config(Timeframe::M5)
        };
        backtest::run(&data, &cfg, s, risk, &mut |_| {}).unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a.trades, b.trades);
    assert_eq!(a.equity, b.equity);
    assert_eq!(
        serde_json::to_string(&a.metrics).unwrap(),
        serde_json::to_string(&b.metrics).unwrap()
    );
    assert!(!a.trades.is_empty());
}

#[test]
fn challenge_growth_stops_and_targets_fill_at_their_prices() {
    let candles = real("xrpusdt_5m_freqtrade.csv");
    let data = [PairData::new(
        SymbolFilters::unrestricted(Symbol::new("XRP", "USDT").unwrap()),
        candles.clone(),
        "xrp",
    )];
    let s = build_strategy("challenge_growth", &[], &ChallengeGrowthConfig::default()).unwrap();
    let cfg = BacktestConfig {
        cash: dec!(50),
        ..config(Timeframe::M5)
    };
    let out = backtest::run(&data, &cfg, s, permissive(), &mut |_| {}).unwrap();
    let by_time = |t: i64| candles.iter().find(|c| c.open_time_ms == t).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for t in &out.trades {
        seen.insert(t.exit_reason.clone());
        let exit_candle = by_time(t.exit_time_ms.min(candles.last().unwrap().open_time_ms));
        match t.exit_reason.as_str() {
            "stop_loss" => {
                let stop = t.entry_price * dec!(0.92);
                // At the stop, or at the open when the candle gapped below it.
                assert!(
                    t.exit_price == stop
                        || (exit_candle.open < stop && t.exit_price == exit_candle.open),
                    "{t:?}"
                );
                assert!(exit_candle.low <= stop);
            }
            "take_profit" => {
                let target = t.entry_price * dec!(1.12);
                assert!(
                    t.exit_price == target
                        || (exit_candle.open > target && t.exit_price == exit_candle.open),
                    "{t:?}"
                );
            }
            "signal" => assert_eq!(t.exit_price, exit_candle.open, "{t:?}"),
            "end_of_data" => assert_eq!(t.exit_price, candles.last().unwrap().close),
            other => panic!("unexpected exit reason {other}"),
        }
        // Phase 1 sizing: 15 % of equity, never more than the cash.
        assert!(
            t.quantity * t.entry_price <= dec!(50) * dec!(0.15) * dec!(10),
            "{t:?}"
        );
    }
    assert!(seen.contains("signal"), "{seen:?}");
    // Every trade's P&L is booked: final equity = start + Σ P&L.
    let pnl: Decimal = out.trades.iter().map(|t| t.pnl).sum();
    assert_eq!(out.metrics.final_equity, dec!(50) + pnl);
}

#[test]
fn several_pairs_run_on_one_clock() {
    let ada = real("freqtrade/ada_btc-5m.csv");
    let zec = real("freqtrade/zec_btc-5m.csv");
    let data = [
        PairData::new(
            SymbolFilters::unrestricted(Symbol::new("ADA", "BTC").unwrap()),
            ada.clone(),
            "ada",
        ),
        PairData::new(
            SymbolFilters::unrestricted(Symbol::new("ZEC", "BTC").unwrap()),
            zec.clone(),
            "zec",
        ),
    ];
    let params = [
        ("fast".to_string(), "12".to_string()),
        ("slow".to_string(), "48".to_string()),
    ];
    let s = build_strategy("sma_cross", &params, &ChallengeGrowthConfig::default()).unwrap();
    let cfg = BacktestConfig {
        cash: dec!(1),
        ..config(Timeframe::M5)
    };
    // A minimum trade of 0.0001 BTC keeps the dust left after a stake-all entry from opening a
    // second, microscopic position.
    let risk = RiskManager::new(
        RiskConfig {
            min_trade: dec!(0.0001),
            ..permissive().config().clone()
        },
        i64::MAX / 4,
    )
    .unwrap();
    let out = backtest::run(&data, &cfg, s, risk, &mut |_| {}).unwrap();
    // One equity point per aligned time step (the union of both files' timestamps).
    assert_eq!(out.equity.len(), 5760);
    assert_eq!(out.candles, (ada.len() + zec.len()) as u64);
    let pairs: std::collections::BTreeSet<String> =
        out.trades.iter().map(|t| t.pair.to_string()).collect();
    assert_eq!(pairs.len(), 2, "both pairs traded");
    assert!(
        out.rejections.get("min_trade").copied().unwrap_or(0) > 0,
        "{:?}",
        out.rejections
    );
    // Stake-all on the first pair to cross leaves no cash for the other while it is held:
    // positions never overlap in time.
    let mut spans: Vec<(i64, i64)> = out
        .trades
        .iter()
        .map(|t| (t.entry_time_ms, t.exit_time_ms))
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "overlapping holdings {w:?}");
    }
    let pnl: Decimal = out.trades.iter().map(|t| t.pnl).sum();
    assert_eq!(out.metrics.final_equity, dec!(1) + pnl);
}
