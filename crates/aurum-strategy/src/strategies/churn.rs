//! `churn`: a rehearsal strategy that trades on every candle, to exercise the order path
//! (limit entries that fill partially or expire and are cancelled, market exits, protection)
//! in crash tests, soaks and latency benchmarks. It has no edge: never give it real money.

use super::StrategyError;
use super::params::{parse_dec, parse_opt_dec, parse_u32};
use crate::strategy::{
    Bar, EntrySignal, ExitReason, LimitEntry, Signal, Sizing, Strategy, StrategyContext,
};
use aurum_core::{Decimal, Money, Symbol};

/// On a closed candle: when flat with nothing pending, a limit buy `offset_bps` below the
/// close for `quote` USDT, cancelled after `expire_after_bars` candles; when holding for
/// `hold_bars` candles, a market exit. Optional stop-loss / take-profit distances go with each
/// entry. Confidence is always 1.
#[derive(Debug, Clone)]
pub struct Churn {
    quote: Money,
    offset_bps: u32,
    expire_after_bars: u32,
    hold_bars: u32,
    stop_loss_pct: Option<Decimal>,
    take_profit_pct: Option<Decimal>,
    /// Candles seen while holding, per pair.
    held_for: Vec<u32>,
}

impl Churn {
    /// The registered name.
    pub const NAME: &'static str = "churn";
    /// The parameters `--param` accepts.
    pub const PARAMS: &'static [&'static str] = &[
        "quote",
        "offset_bps",
        "expire_after_bars",
        "hold_bars",
        "stop_loss_pct",
        "take_profit_pct",
    ];

    /// Builds from `key=value` parameters. Defaults: 12 USDT per entry, 2 bps below the close,
    /// cancelled after 2 candles, held 3 candles, no stops.
    pub fn from_params(params: &[(String, String)]) -> Result<Churn, StrategyError> {
        let mut c = Churn {
            quote: Decimal::from(12),
            offset_bps: 2,
            expire_after_bars: 2,
            hold_bars: 3,
            stop_loss_pct: None,
            take_profit_pct: None,
            held_for: Vec::new(),
        };
        for (key, value) in params {
            match key.as_str() {
                "quote" => c.quote = parse_dec(Self::NAME, key, value)?,
                "offset_bps" => c.offset_bps = parse_u32(Self::NAME, key, value)?,
                "expire_after_bars" => c.expire_after_bars = parse_u32(Self::NAME, key, value)?,
                "hold_bars" => c.hold_bars = parse_u32(Self::NAME, key, value)?,
                "stop_loss_pct" => c.stop_loss_pct = parse_opt_dec(Self::NAME, key, value)?,
                "take_profit_pct" => c.take_profit_pct = parse_opt_dec(Self::NAME, key, value)?,
                _ => {
                    return Err(StrategyError::UnknownParam {
                        strategy: Self::NAME,
                        param: key.clone(),
                        accepted: Self::PARAMS.join(", "),
                    });
                }
            }
        }
        if c.quote <= Decimal::ZERO || c.offset_bps >= 10_000 {
            return Err(StrategyError::InvalidConfig {
                strategy: Self::NAME,
                reason: format!(
                    "quote = {}, offset_bps = {}: need quote > 0 and offset_bps < 10000",
                    c.quote, c.offset_bps
                ),
            });
        }
        Ok(c)
    }
}

impl Strategy for Churn {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "quote": self.quote.to_string(),
            "offset_bps": self.offset_bps,
            "expire_after_bars": self.expire_after_bars,
            "hold_bars": self.hold_bars,
            "stop_loss_pct": self.stop_loss_pct.map(|d| d.to_string()),
            "take_profit_pct": self.take_profit_pct.map(|d| d.to_string()),
        })
    }

    fn start(&mut self, pairs: &[Symbol]) {
        self.held_for = vec![0; pairs.len()];
    }

    fn on_bar(&mut self, ctx: &StrategyContext<'_>, bar: &Bar<'_>, signals: &mut Vec<Signal>) {
        if bar.pair >= self.held_for.len() {
            self.held_for.resize(bar.pair + 1, 0);
        }
        let held = &mut self.held_for[bar.pair];
        if ctx.position.is_none() {
            *held = 0;
            if !ctx.pending_order {
                let keep = Decimal::ONE - Decimal::new(i64::from(self.offset_bps), 4);
                signals.push(Signal::Enter(EntrySignal {
                    pair: bar.pair,
                    confidence: 1.0,
                    sizing: Sizing::Quote(self.quote),
                    stop_loss_pct: self.stop_loss_pct,
                    take_profit_pct: self.take_profit_pct,
                    trailing_stop_pct: None,
                    limit: Some(LimitEntry {
                        price: bar.candle.close * keep,
                        expire_after_bars: Some(self.expire_after_bars),
                    }),
                }));
            }
            return;
        }
        *held += 1;
        if *held >= self.hold_bars && !ctx.pending_order {
            signals.push(Signal::Exit {
                pair: bar.pair,
                reason: ExitReason::Signal,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::Ohlcv;
    use crate::strategy::HeldPosition;
    use aurum_core::Candle;
    use rust_decimal_macros::dec;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn enters_with_a_limit_below_the_close_then_exits_after_holding() {
        let mut s = Churn::from_params(&[p("quote", "15"), p("offset_bps", "10")]).unwrap();
        s.start(&[Symbol::new("BTC", "USDT").unwrap()]);
        let candle = Candle {
            open_time_ms: 0,
            open: dec!(100),
            high: dec!(101),
            low: dec!(99),
            close: dec!(100.50),
            volume: dec!(3),
        };
        let bar = Bar {
            pair: 0,
            candle: &candle,
            ohlcv: Ohlcv::from_candle(&candle),
        };
        let mut ctx = StrategyContext {
            now_ms: 60_000,
            equity: dec!(100),
            cash: dec!(100),
            position: None,
            open_positions: 0,
            pending_order: false,
        };
        let mut out = Vec::new();
        s.on_bar(&ctx, &bar, &mut out);
        match &out[..] {
            [Signal::Enter(e)] => {
                assert_eq!(e.sizing, Sizing::Quote(dec!(15)));
                let l = e.limit.unwrap();
                // 100.50 × (1 − 0.0010)
                assert_eq!(l.price, dec!(100.39950));
                assert_eq!(l.expire_after_bars, Some(2));
            }
            other => panic!("{other:?}"),
        }
        // Pending: nothing new.
        out.clear();
        ctx.pending_order = true;
        s.on_bar(&ctx, &bar, &mut out);
        assert!(out.is_empty());
        // Holding: exit on the third candle.
        let held = HeldPosition {
            quantity: dec!(0.1),
            avg_entry_price: dec!(100),
            opened_at_ms: 0,
        };
        ctx.pending_order = false;
        ctx.position = Some(&held);
        for n in 1..=3 {
            s.on_bar(&ctx, &bar, &mut out);
            assert_eq!(out.len(), usize::from(n == 3), "candle {n}");
        }
        assert!(matches!(
            out[0],
            Signal::Exit {
                pair: 0,
                reason: ExitReason::Signal
            }
        ));
        assert!(Churn::from_params(&[p("quote", "0")]).is_err());
        assert!(Churn::from_params(&[p("speed", "1")]).is_err());
    }
}
