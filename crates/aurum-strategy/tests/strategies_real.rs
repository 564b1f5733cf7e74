//! `sma_cross` and `challenge_growth` on the real BTC/USDT daily series (bittrex, 874 candles),
//! checked against independent computations: plain windowed means in this file, and TA-Lib
//! 0.8.2 (EMA/RSI/MACD computed with the Python wheel while developing; the numbers are
//! written down here, and RSI/MACD are also read from the shared reference file).

mod common;

use aurum_core::{Candle, Decimal};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::strategies::{ChallengeGrowth, ChallengeGrowthConfig, SmaCross};
use aurum_strategy::strategy::{
    Bar, EntrySignal, ExitReason, HeldPosition, Signal, Sizing, Strategy, StrategyContext,
};
use common::{close_enough, read_candles, real_case};
use rust_decimal_macros::dec;

const DATA: &str = "data/btcusdt_1d_bittrex.csv";
const DAY_MS: i64 = 86_400_000;

/// What a run produced: the candle index and `Some(confidence)` for an entry, `None` for an
/// exit.
type Events = Vec<(usize, Option<f64>)>;

/// Drives a strategy over one pair's candles with a minimal account: the position opens on an
/// entry signal and closes on an exit signal (as if filled at once). Checks the invariants of
/// every signal on the way and returns them.
fn drive(
    strategy: &mut dyn Strategy,
    candles: &[Candle],
    equity: Decimal,
) -> (Events, Vec<Signal>) {
    strategy.start(&[aurum_core::Symbol::new("BTC", "USDT").unwrap()]);
    let held = HeldPosition {
        quantity: dec!(1),
        avg_entry_price: dec!(1),
        opened_at_ms: 0,
    };
    let mut holding = false;
    let mut events = Vec::new();
    let mut all = Vec::new();
    let mut signals = Vec::new();
    for (i, candle) in candles.iter().enumerate() {
        let ctx = StrategyContext {
            now_ms: candle.open_time_ms + DAY_MS,
            equity,
            cash: equity,
            position: holding.then_some(&held),
            open_positions: usize::from(holding),
            pending_order: false,
        };
        let bar = Bar {
            pair: 0,
            candle,
            ohlcv: Ohlcv::from_candle(candle),
        };
        strategy.on_bar(&ctx, &bar, &mut signals);
        assert!(signals.len() <= 1, "candle {i}: {signals:?}");
        for s in signals.drain(..) {
            match &s {
                Signal::Enter(e) => {
                    assert!(!holding, "candle {i}: entry while holding");
                    holding = true;
                    events.push((i, Some(e.confidence)));
                }
                Signal::Exit { pair, reason } => {
                    assert!(holding, "candle {i}: exit while flat");
                    assert_eq!((*pair, *reason), (0, ExitReason::Signal));
                    holding = false;
                    events.push((i, None));
                }
            }
            all.push(s);
        }
    }
    (events, all)
}

/// The close as a float, parsed from the decimal's text (not through the crate's converter).
fn closes(candles: &[Candle]) -> Vec<f64> {
    candles
        .iter()
        .map(|c| c.close.to_string().parse().unwrap())
        .collect()
}

/// Mean of the `n` values ending at `i`, summed afresh (no running sum).
fn window_mean(xs: &[f64], i: usize, n: usize) -> Option<f64> {
    (i + 1 >= n).then(|| xs[i + 1 - n..=i].iter().sum::<f64>() / n as f64)
}

/// The same rule, written independently: cross above enters when flat, cross below exits when
/// holding.
fn expected_cross_events(fast: &[Option<f64>], slow: &[Option<f64>]) -> Events {
    let mut out = Vec::new();
    let mut holding = false;
    for i in 1..fast.len() {
        let (Some(f0), Some(s0), Some(f1), Some(s1)) = (fast[i - 1], slow[i - 1], fast[i], slow[i])
        else {
            continue;
        };
        if !holding && f0 <= s0 && f1 > s1 {
            holding = true;
            out.push((i, Some(1.0)));
        } else if holding && f0 >= s0 && f1 < s1 {
            holding = false;
            out.push((i, None));
        }
    }
    out
}

#[test]
fn sma_cross_10_30_signals_match_windowed_means_and_talib() {
    let candles = read_candles(DATA);
    assert_eq!(candles.len(), 874);
    let (events, signals) = drive(&mut SmaCross::new(10, 30).unwrap(), &candles, dec!(1000));

    let xs = closes(&candles);
    let fast: Vec<_> = (0..xs.len()).map(|i| window_mean(&xs, i, 10)).collect();
    let slow: Vec<_> = (0..xs.len()).map(|i| window_mean(&xs, i, 30)).collect();
    let expected = expected_cross_events(&fast, &slow);
    assert_eq!(events, expected);
    assert_eq!(events.len(), 26);

    // The first eight, as TA-Lib's SMA(10)/SMA(30) give them: (index, open time, entry?).
    let first: Vec<_> = events[..8]
        .iter()
        .map(|&(i, c)| (i, candles[i].open_time_ms, c.is_some()))
        .collect();
    assert_eq!(
        first,
        [
            (47, 1_455_580_800_000, true), // 2016-02-16: SMA10 392.267 > SMA30 391.562
            (69, 1_457_568_000_000, false), // 2016-03-10: 410.820 < 413.625
            (82, 1_458_864_000_000, true), // 2016-03-25
            (132, 1_463_875_200_000, false), // 2016-05-22
            (139, 1_464_566_400_000, true), // 2016-05-30
            (174, 1_467_676_800_000, false), // 2016-07-05
            (186, 1_468_800_000_000, true), // 2016-07-18
            (196, 1_469_664_000_000, false), // 2016-07-28
        ]
    );
    // Around the first entry: fast was below slow the day before.
    let (f, s) = (fast[47].unwrap(), slow[47].unwrap());
    assert!(close_enough(f, 392.26701540799996) && close_enough(s, 391.5618830366666));
    assert!(fast[46].unwrap() <= slow[46].unwrap());
    assert_eq!(
        signals[0],
        Signal::Enter(EntrySignal {
            pair: 0,
            confidence: 1.0,
            sizing: Sizing::AllCash,
            stop_loss_pct: None,
            take_profit_pct: None,
            trailing_stop_pct: None,
            limit: None,
        })
    );
}

#[test]
fn sma_cross_respects_pending_orders_and_keeps_pairs_apart() {
    let btc = read_candles(DATA);
    let xrp = read_candles("data/xrpusdt_5m_freqtrade.csv");
    let (btc_alone, _) = drive(&mut SmaCross::new(10, 30).unwrap(), &btc, dec!(1000));
    let (xrp_alone, _) = drive(&mut SmaCross::new(10, 30).unwrap(), &xrp, dec!(1000));
    assert!(!xrp_alone.is_empty());

    // Interleave both pairs through one strategy object: each must see only its own candles.
    let mut s = SmaCross::new(10, 30).unwrap();
    s.start(&[]); // pairs not announced: states are created on first sight
    let mut seen: [Events; 2] = [Vec::new(), Vec::new()];
    let mut holding = [false, false];
    let held = HeldPosition {
        quantity: dec!(1),
        avg_entry_price: dec!(1),
        opened_at_ms: 0,
    };
    let mut signals = Vec::new();
    for i in 0..btc.len().max(xrp.len()) {
        for (pair, candles) in [(1usize, &xrp), (0usize, &btc)] {
            let Some(candle) = candles.get(i) else {
                continue;
            };
            let ctx = StrategyContext {
                now_ms: candle.open_time_ms,
                equity: dec!(1000),
                cash: dec!(1000),
                position: holding[pair].then_some(&held),
                open_positions: 0,
                pending_order: false,
            };
            let bar = Bar {
                pair,
                candle,
                ohlcv: Ohlcv::from_candle(candle),
            };
            s.on_bar(&ctx, &bar, &mut signals);
            for sig in signals.drain(..) {
                match sig {
                    Signal::Enter(e) => {
                        assert_eq!(e.pair, pair);
                        holding[pair] = true;
                        seen[pair].push((i, Some(e.confidence)));
                    }
                    Signal::Exit { pair: p, .. } => {
                        assert_eq!(p, pair);
                        holding[pair] = false;
                        seen[pair].push((i, None));
                    }
                }
            }
        }
    }
    assert_eq!(seen[0], btc_alone);
    assert_eq!(seen[1], xrp_alone);

    // With an order pending, the cross above at candle 47 is not an entry.
    let mut s = SmaCross::new(10, 30).unwrap();
    for (i, candle) in btc[..=47].iter().enumerate() {
        let ctx = StrategyContext {
            now_ms: candle.open_time_ms + DAY_MS,
            equity: dec!(1000),
            cash: dec!(1000),
            position: None,
            open_positions: 0,
            pending_order: i == 47,
        };
        let bar = Bar {
            pair: 0,
            candle,
            ohlcv: Ohlcv::from_candle(candle),
        };
        s.on_bar(&ctx, &bar, &mut signals);
    }
    assert!(signals.is_empty());
}

/// TA-Lib's EMA(9)/EMA(21) crosses on this file, with the confidence each cross above scores
/// (RSI(14), MACD(12,26,9) histogram and volume vs SMA(20) of volume), as the flat/holding
/// sequence a phase-1 run (min confidence 0.6) produces: every cross is a signal.
const PHASE1_EVENTS: &[(usize, Option<f64>)] = &[
    (44, Some(0.8)),
    (45, None),
    (47, Some(0.8)),
    (64, None),
    (76, Some(0.8)),
    (78, None),
    (80, Some(0.8)),
    (118, None),
    (119, Some(0.6)),
    (131, None),
    (136, Some(1.0)),
    (194, None),
    (228, Some(1.0)),
    (246, None),
    (248, Some(0.6)),
    (257, None),
    (261, Some(0.6)),
    (350, None),
    (361, Some(0.8)),
    (416, None),
    (433, Some(0.8)),
    (520, None),
    (524, Some(0.6)),
    (530, None),
    (541, Some(1.0)),
    (595, None),
    (611, Some(0.8)),
    (703, None),
    (709, Some(0.6)),
    (715, None),
    (753, Some(0.8)),
    (772, None),
    (809, Some(0.8)),
    (837, None),
];

/// An entry's sizing, stop-loss, take-profit and trailing stop.
type EntryTerms = (Sizing, Option<Decimal>, Option<Decimal>, Option<Decimal>);

fn entry_sizing(signals: &[Signal]) -> Vec<EntryTerms> {
    signals
        .iter()
        .filter_map(|s| match s {
            Signal::Enter(e) => Some((
                e.sizing,
                e.stop_loss_pct,
                e.take_profit_pct,
                e.trailing_stop_pct,
            )),
            Signal::Exit { .. } => None,
        })
        .collect()
}

#[test]
fn challenge_growth_phase1_signals_and_confidences_match_talib() {
    let candles = read_candles(DATA);
    let mut s = ChallengeGrowth::new(ChallengeGrowthConfig::default()).unwrap();
    let (events, signals) = drive(&mut s, &candles, dec!(50));
    assert_eq!(events, PHASE1_EVENTS);
    // Phase 1: 15 % of equity per trade, 8 % stop, 12 % take-profit, no trailing stop.
    let sizing = entry_sizing(&signals);
    assert_eq!(sizing.len(), 17);
    assert!(sizing.iter().all(|s| *s
        == (
            Sizing::FractionOfEquity(dec!(0.15)),
            Some(dec!(0.08)),
            Some(dec!(0.12)),
            None
        )));
    // The last cross above (index 809) with the facts behind its 0.8: RSI in band, MACD
    // histogram positive, volume under its SMA(20). RSI and MACD are TA-Lib's, to the bit.
    let e = s.last_cross_above(0).unwrap();
    assert_eq!(e.open_time_ms, candles[809].open_time_ms);
    assert_eq!(e.ema_fast, 7617.427028920614);
    assert_eq!(e.ema_slow, 7591.669825547659);
    assert_eq!(e.rsi, Some(58.62886148046016));
    assert_eq!(e.macd_hist, Some(243.64709594589345));
    assert_eq!(e.volume, 2500.21733135);
    assert!(close_enough(e.volume_sma.unwrap(), 3517.305293380507));
    assert_eq!(
        (e.confidence, e.min_confidence, e.signalled),
        (0.8, Some(0.6), true)
    );
}

/// Reads `rsi14` and `macd_hist` of TA-Lib's reference file by candle index.
fn talib_rsi_and_hist() -> Vec<(Option<f64>, Option<f64>)> {
    let path = real_case("reference/talib_btcusdt_1d_bittrex.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (rsi, hist) = (col("rsi14"), col("macd_hist"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let cell = |k: usize| (!f[k].is_empty()).then(|| f[k].parse::<f64>().unwrap());
            (cell(rsi), cell(hist))
        })
        .collect()
}

#[test]
fn challenge_growth_cross_facts_match_the_talib_reference_file() {
    let candles = read_candles(DATA);
    let reference = talib_rsi_and_hist();
    assert_eq!(reference.len(), candles.len());
    let volumes: Vec<f64> = candles
        .iter()
        .map(|c| c.volume.to_string().parse().unwrap())
        .collect();
    // Feed candle by candle and look at every cross above as it happens.
    let mut s = ChallengeGrowth::new(ChallengeGrowthConfig::default()).unwrap();
    let mut signals = Vec::new();
    let mut checked = Vec::new();
    for (i, candle) in candles.iter().enumerate() {
        let ctx = StrategyContext {
            now_ms: candle.open_time_ms + DAY_MS,
            equity: dec!(50),
            cash: dec!(50),
            position: None,
            open_positions: 0,
            pending_order: false,
        };
        let bar = Bar {
            pair: 0,
            candle,
            ohlcv: Ohlcv::from_candle(candle),
        };
        s.on_bar(&ctx, &bar, &mut signals);
        let Some(e) = s
            .last_cross_above(0)
            .filter(|e| e.open_time_ms == candle.open_time_ms)
        else {
            continue;
        };
        let (rsi, hist) = reference[i];
        assert_eq!((e.rsi, e.macd_hist), (rsi, hist), "candle {i}");
        let vsma = window_mean(&volumes, i, 20).unwrap();
        assert!(close_enough(e.volume_sma.unwrap(), vsma), "candle {i}");
        // The score, recomputed from the reference values.
        let score =
            0.4 + if rsi.is_some_and(|r| 50.0 < r && r < 70.0) {
                0.2
            } else {
                0.0
            } + if hist.is_some_and(|h| h > 0.0) {
                0.2
            } else {
                0.0
            } + if volumes[i] > vsma { 0.2 } else { 0.0 };
        assert!((e.confidence - score).abs() < 1e-12, "candle {i}");
        checked.push((i, e.confidence));
    }
    // Flat all along, so every one of the 17 crosses above was evaluated (and, in phase 1,
    // signalled).
    let expected: Vec<_> = PHASE1_EVENTS
        .iter()
        .filter_map(|&(i, c)| c.map(|c| (i, c)))
        .collect();
    assert_eq!(checked, expected);
    // Two crosses spelled out. Candle 44 (2016-02-13): EMA9 395.5916 crosses EMA21 394.4714
    // (day before 393.4896 <= 393.5186); RSI 52.19 in band, histogram 5.957 > 0, volume
    // 0.00017424 under its SMA 0.2992 → 0.8. Candle 136 (2016-05-27): all three → 1.0.
    assert_eq!(candles[44].open_time_ms, 1_455_321_600_000);
    assert_eq!(
        reference[44],
        (Some(52.193482876105215), Some(5.9574034472511475))
    );
    assert!(volumes[44] < window_mean(&volumes, 44, 20).unwrap());
    assert_eq!(candles[136].open_time_ms, 1_464_307_200_000);
    assert_eq!(
        reference[136],
        (Some(57.40528384690141), Some(0.5413052877071247))
    );
    assert!(volumes[136] > window_mean(&volumes, 136, 20).unwrap());
}

#[test]
fn challenge_growth_higher_phases_need_more_confidence() {
    let candles = read_candles(DATA);
    let run = |equity| {
        let mut s = ChallengeGrowth::new(ChallengeGrowthConfig::default()).unwrap();
        drive(&mut s, &candles, equity)
    };
    // Phase 3 (200 ≤ equity < 400): min 0.7, so the 0.6 crosses (119, 248, 261, 524, 709)
    // are skipped, and with them the exits that would have closed them.
    let (events, signals) = run(dec!(250));
    let expected: Events = PHASE1_EVENTS
        .iter()
        .copied()
        .filter(|(i, _)| ![119, 131, 248, 257, 261, 350, 524, 530, 709, 715].contains(i))
        .collect();
    assert_eq!(events, expected);
    assert!(
        entry_sizing(&signals)
            .iter()
            .all(|s| s.0 == Sizing::FractionOfEquity(dec!(0.10)))
    );
    // Phase 4 (400 ≤ equity < 600): min 0.85, only the three full-score crosses.
    let (events, signals) = run(dec!(599.99));
    assert_eq!(
        events,
        [
            (136, Some(1.0)),
            (194, None),
            (228, Some(1.0)),
            (246, None),
            (541, Some(1.0)),
            (595, None)
        ]
    );
    assert!(
        entry_sizing(&signals)
            .iter()
            .all(|s| s.0 == Sizing::FractionOfEquity(dec!(0.08)))
    );
    // Target reached: no entries at all.
    let mut s = ChallengeGrowth::new(ChallengeGrowthConfig::default()).unwrap();
    let (events, _) = drive(&mut s, &candles, dec!(600));
    assert!(events.is_empty());
    let e = s.last_cross_above(0).unwrap();
    assert_eq!((e.min_confidence, e.signalled), (None, false));
}
