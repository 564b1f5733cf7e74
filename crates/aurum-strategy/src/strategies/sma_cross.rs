//! `sma_cross`: the reference strategy. Long when SMA(fast) crosses above SMA(slow), flat when
//! it crosses back below.

use super::StrategyError;
use super::cross::{Cross, CrossDetector};
use super::params::parse_usize;
use crate::indicators::{MAX_PERIOD, Sma};
use crate::strategy::{Bar, EntrySignal, ExitReason, Signal, Sizing, Strategy, StrategyContext};
use aurum_core::Symbol;

/// SMA crossover, stake all: on a closed candle, enter long with all cash when SMA(`fast`)
/// crosses above SMA(`slow`) on the close, exit when it crosses below. No stops, confidence
/// 1.0. Each pair has its own averages.
#[derive(Debug, Clone)]
pub struct SmaCross {
    fast: usize,
    slow: usize,
    /// A fresh pair state, cloned for each pair.
    template: PairState,
    pairs: Vec<PairState>,
}

#[derive(Debug, Clone)]
struct PairState {
    fast: Sma,
    slow: Sma,
    cross: CrossDetector,
}

impl SmaCross {
    /// The registered name.
    pub const NAME: &'static str = "sma_cross";
    /// The parameters `--param` accepts.
    pub const PARAMS: &'static [&'static str] = &["fast", "slow"];
    /// `fast` when not given.
    pub const DEFAULT_FAST: usize = 10;
    /// `slow` when not given.
    pub const DEFAULT_SLOW: usize = 30;

    /// A crossover of SMA(`fast`) and SMA(`slow`); requires `2 <= fast < slow <= 100_000`.
    pub fn new(fast: usize, slow: usize) -> Result<SmaCross, StrategyError> {
        if fast < 2 || fast >= slow || slow > MAX_PERIOD {
            return Err(StrategyError::InvalidConfig {
                strategy: Self::NAME,
                reason: format!(
                    "fast = {fast}, slow = {slow}: need 2 <= fast < slow <= {MAX_PERIOD}"
                ),
            });
        }
        let sma = |period| {
            Sma::new(period).map_err(|e| StrategyError::InvalidConfig {
                strategy: Self::NAME,
                reason: e.to_string(),
            })
        };
        let template = PairState {
            fast: sma(fast)?,
            slow: sma(slow)?,
            cross: CrossDetector::new(),
        };
        Ok(SmaCross {
            fast,
            slow,
            template,
            pairs: Vec::new(),
        })
    }

    /// Builds from `key=value` parameters (`fast`, `slow`), defaults for the others.
    pub fn from_params(params: &[(String, String)]) -> Result<SmaCross, StrategyError> {
        let (mut fast, mut slow) = (Self::DEFAULT_FAST, Self::DEFAULT_SLOW);
        for (key, value) in params {
            match key.as_str() {
                "fast" => fast = parse_usize(Self::NAME, key, value)?,
                "slow" => slow = parse_usize(Self::NAME, key, value)?,
                _ => {
                    return Err(StrategyError::UnknownParam {
                        strategy: Self::NAME,
                        param: key.clone(),
                        accepted: Self::PARAMS.join(", "),
                    });
                }
            }
        }
        SmaCross::new(fast, slow)
    }

    /// The fast period.
    pub fn fast(&self) -> usize {
        self.fast
    }

    /// The slow period.
    pub fn slow(&self) -> usize {
        self.slow
    }

    /// The state of `pair`, created on its first candle (one allocation per pair, ever).
    fn pair_state(&mut self, pair: usize) -> &mut PairState {
        if pair >= self.pairs.len() {
            let template = &self.template;
            self.pairs.resize_with(pair + 1, || template.clone());
        }
        &mut self.pairs[pair]
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> serde_json::Value {
        serde_json::json!({ "fast": self.fast, "slow": self.slow })
    }

    fn start(&mut self, pairs: &[Symbol]) {
        self.pairs.clear();
        self.pairs.resize(pairs.len(), self.template.clone());
    }

    fn on_bar(&mut self, ctx: &StrategyContext<'_>, bar: &Bar<'_>, signals: &mut Vec<Signal>) {
        let close = bar.ohlcv.close;
        let state = self.pair_state(bar.pair);
        let fast = state.fast.update(close);
        let slow = state.slow.update(close);
        match state.cross.update(fast, slow) {
            Some(Cross::Above) if ctx.position.is_none() && !ctx.pending_order => {
                signals.push(Signal::Enter(EntrySignal {
                    pair: bar.pair,
                    confidence: 1.0,
                    sizing: Sizing::AllCash,
                    stop_loss_pct: None,
                    take_profit_pct: None,
                    trailing_stop_pct: None,
                    limit: None,
                }))
            }
            Some(Cross::Below) if ctx.position.is_some() => signals.push(Signal::Exit {
                pair: bar.pair,
                reason: ExitReason::Signal,
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::Ohlcv;
    use crate::strategy::HeldPosition;
    use aurum_core::{Candle, Decimal};

    fn run(strategy: &mut SmaCross, closes: &[i64], holding: bool) -> Vec<(usize, Signal)> {
        let held = HeldPosition {
            quantity: Decimal::ONE,
            avg_entry_price: Decimal::ONE,
            opened_at_ms: 0,
        };
        let mut out = Vec::new();
        let mut signals = Vec::new();
        for (i, &c) in closes.iter().enumerate() {
            let price = Decimal::from(c);
            let candle = Candle {
                open_time_ms: i as i64,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: Decimal::ONE,
            };
            let ctx = StrategyContext {
                now_ms: i as i64 + 1,
                equity: Decimal::ONE,
                cash: Decimal::ONE,
                position: holding.then_some(&held),
                open_positions: 0,
                pending_order: false,
            };
            let bar = Bar {
                pair: 0,
                candle: &candle,
                ohlcv: Ohlcv::from_candle(&candle),
            };
            strategy.on_bar(&ctx, &bar, &mut signals);
            out.extend(signals.drain(..).map(|s| (i, s)));
        }
        out
    }

    #[test]
    fn enters_on_the_cross_above_and_exits_on_the_cross_below() {
        // SMA(2) vs SMA(3). Index: close, fast, slow
        // 2: 9, 9.5, 9.67 | 3: 9, 9, 9.33 | 4: 12, 10.5, 10 → cross above at 4.
        // 5: 6, 9, 9 (touch) | 6: 3, 4.5, 7 → cross below at 6.
        let closes = [10, 10, 9, 9, 12, 6, 3];
        let flat = run(&mut SmaCross::new(2, 3).unwrap(), &closes, false);
        assert_eq!(flat.len(), 1);
        assert_eq!(flat[0].0, 4);
        assert!(matches!(
            &flat[0].1,
            Signal::Enter(EntrySignal { sizing: Sizing::AllCash, confidence, .. }) if *confidence == 1.0
        ));
        let held = run(&mut SmaCross::new(2, 3).unwrap(), &closes, true);
        assert_eq!(
            held,
            vec![(
                6,
                Signal::Exit {
                    pair: 0,
                    reason: ExitReason::Signal
                }
            )]
        );
    }

    #[test]
    fn params_and_validation() {
        let s = SmaCross::from_params(&[("fast".into(), "5".into())]).unwrap();
        assert_eq!((s.fast(), s.slow()), (5, 30));
        assert_eq!(s.params(), serde_json::json!({"fast": 5, "slow": 30}));
        assert_eq!(
            SmaCross::new(30, 30).unwrap_err().to_string(),
            "sma_cross: fast = 30, slow = 30: need 2 <= fast < slow <= 100000"
        );
        assert!(SmaCross::new(1, 3).is_err());
        assert_eq!(
            SmaCross::from_params(&[("period".into(), "5".into())])
                .unwrap_err()
                .to_string(),
            "sma_cross: unknown parameter \"period\"; accepted: fast, slow"
        );
    }
}
