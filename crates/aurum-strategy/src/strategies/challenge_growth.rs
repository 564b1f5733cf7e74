//! `challenge_growth`: the default strategy. An EMA(9)/EMA(21) momentum cross whose entries
//! are scored by RSI, MACD and volume, with limits that step down as equity grows through the
//! phases toward the target (SPEC "The Challenge Growth strategy").

use super::StrategyError;
use super::challenge_config::ChallengeGrowthConfig;
use super::cross::{Cross, CrossDetector};
use crate::indicators::{Ema, Macd, Rsi, Sma, decimal_to_f64};
use crate::strategy::{
    Bar, EntrySignal, ExitReason, PhaseLimits, Signal, Sizing, Strategy, StrategyContext,
};
use aurum_core::{Decimal, Money, Symbol};

/// The phase name reported once equity reaches the target.
pub const TARGET_REACHED: &str = "Target Reached";

/// Challenge Growth: enter on an EMA(fast) cross above EMA(slow) when the confidence score
/// reaches the current phase's minimum; exit on the cross back below. Stop-loss, take-profit
/// and trailing stop travel with the entry as percentages for the engine to execute.
///
/// Confidence is `base_confidence` (0.4), plus `rsi_weight` (0.2) if `rsi_lower < RSI <
/// rsi_upper`, plus `macd_weight` (0.2) if the MACD histogram is above 0, plus `volume_weight`
/// (0.2) if the candle's volume is above the SMA of volume (which includes this candle). An
/// indicator still in its lookback counts as false.
#[derive(Debug, Clone)]
pub struct ChallengeGrowth {
    config: ChallengeGrowthConfig,
    /// See [`ChallengeGrowthConfig::confidence_table`].
    confidence: [f64; 8],
    /// One entry per phase, then the "target reached" limits.
    limits: Vec<PhaseLimits>,
    template: PairState,
    pairs: Vec<PairState>,
}

/// What the strategy saw on a candle where EMA(fast) crossed above EMA(slow): the facts behind
/// the confidence score, for logs and for checking the strategy against other libraries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrossEvaluation {
    /// Open time of the candle.
    pub open_time_ms: i64,
    /// EMA(fast) on the close.
    pub ema_fast: f64,
    /// EMA(slow) on the close.
    pub ema_slow: f64,
    /// RSI on the close (`None` during its lookback).
    pub rsi: Option<f64>,
    /// MACD histogram on the close (`None` during its lookback).
    pub macd_hist: Option<f64>,
    /// The candle's volume.
    pub volume: f64,
    /// SMA of volume including this candle (`None` during its lookback).
    pub volume_sma: Option<f64>,
    /// The score.
    pub confidence: f64,
    /// The phase minimum at the equity of the candle; `None` once the target is reached.
    pub min_confidence: Option<f64>,
    /// Whether an entry signal was emitted (also needs: flat, no pending order).
    pub signalled: bool,
}

#[derive(Debug, Clone)]
struct PairState {
    ema_fast: Ema,
    ema_slow: Ema,
    rsi: Rsi,
    macd: Macd,
    volume_sma: Sma,
    cross: CrossDetector,
    last_cross_above: Option<CrossEvaluation>,
}

impl ChallengeGrowth {
    /// The registered name.
    pub const NAME: &'static str = "challenge_growth";

    /// Builds from a configuration, after [`ChallengeGrowthConfig::validate`].
    pub fn new(config: ChallengeGrowthConfig) -> Result<ChallengeGrowth, StrategyError> {
        config.validate()?;
        let invalid = |e: crate::indicators::IndicatorError| StrategyError::InvalidConfig {
            strategy: Self::NAME,
            reason: e.to_string(),
        };
        let template = PairState {
            ema_fast: Ema::new(config.ema_fast).map_err(invalid)?,
            ema_slow: Ema::new(config.ema_slow).map_err(invalid)?,
            rsi: Rsi::new(config.rsi_period).map_err(invalid)?,
            macd: Macd::new(config.macd_fast, config.macd_slow, config.macd_signal)
                .map_err(invalid)?,
            volume_sma: Sma::new(config.volume_sma).map_err(invalid)?,
            cross: CrossDetector::new(),
            last_cross_above: None,
        };
        let mut limits: Vec<PhaseLimits> = config
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| PhaseLimits {
                // validate() caps the phase count below u8::MAX.
                phase: u8::try_from(i + 1).unwrap_or(u8::MAX),
                name: p.name.clone(),
                risk_per_trade: p.risk_per_trade,
                max_trades_per_day: p.max_trades_per_day,
                max_open_positions: p.max_open_positions,
                min_confidence: p.min_confidence,
                entries_allowed: true,
            })
            .collect();
        // Target reached: the last phase's numbers, but no entries. validate() guarantees a
        // phase exists.
        if let Some(last) = limits.last().cloned() {
            limits.push(PhaseLimits {
                phase: last.phase.saturating_add(1),
                name: TARGET_REACHED.to_string(),
                entries_allowed: false,
                ..last
            });
        }
        Ok(ChallengeGrowth {
            confidence: config.confidence_table(),
            config,
            limits,
            template,
            pairs: Vec::new(),
        })
    }

    /// Builds from a base configuration with `key=value` overrides
    /// (see [`ChallengeGrowthConfig::set_param`]).
    pub fn from_params(
        base: &ChallengeGrowthConfig,
        params: &[(String, String)],
    ) -> Result<ChallengeGrowth, StrategyError> {
        let mut config = base.clone();
        for (key, value) in params {
            config.set_param(key, value)?;
        }
        ChallengeGrowth::new(config)
    }

    /// The configuration in effect.
    pub fn config(&self) -> &ChallengeGrowthConfig {
        &self.config
    }

    /// The limits at an equity (never allocates, unlike [`Strategy::limits`]).
    pub fn phase_limits(&self, equity: Money) -> &PhaseLimits {
        // `limits` has one slot per phase plus the "target reached" one.
        &self.limits[limits_index(&self.config, equity).min(self.limits.len() - 1)]
    }

    /// The last cross above seen on `pair`, with the facts behind its confidence.
    pub fn last_cross_above(&self, pair: usize) -> Option<&CrossEvaluation> {
        self.pairs.get(pair)?.last_cross_above.as_ref()
    }

    /// Progress from the start equity to the target in percent, clamped to `[0, 100]`.
    pub fn progress_pct(&self, equity: Money) -> Decimal {
        let span = self.config.target - self.config.start_equity;
        let done = (equity - self.config.start_equity).max(Decimal::ZERO);
        let hundred = Decimal::ONE_HUNDRED;
        // span > 0 by validate(); an overflow can only come from an absurd equity: report 100.
        done.checked_mul(hundred)
            .and_then(|x| x.checked_div(span))
            .unwrap_or(hundred)
            .min(hundred)
    }
}

impl Strategy for ChallengeGrowth {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn start(&mut self, pairs: &[Symbol]) {
        self.pairs.clear();
        self.pairs.resize(pairs.len(), self.template.clone());
    }

    fn on_bar(&mut self, ctx: &StrategyContext<'_>, bar: &Bar<'_>, signals: &mut Vec<Signal>) {
        let o = bar.ohlcv;
        if bar.pair >= self.pairs.len() {
            // A pair not announced in start(): its state is created once, on its first candle.
            let template = &self.template;
            self.pairs.resize_with(bar.pair + 1, || template.clone());
        }
        let config = &self.config;
        let state = &mut self.pairs[bar.pair];
        // Every indicator sees every candle, whatever happens next.
        let ema_fast = state.ema_fast.update(o.close);
        let ema_slow = state.ema_slow.update(o.close);
        let rsi = state.rsi.update(o.close);
        let macd_hist = state.macd.update(o.close).map(|m| m.hist);
        let volume_sma = state.volume_sma.update(o.volume);
        match state.cross.update(ema_fast, ema_slow) {
            Some(Cross::Above) => {
                let rsi_ok = rsi.is_some_and(|r| config.rsi_lower < r && r < config.rsi_upper);
                let macd_ok = macd_hist.is_some_and(|h| h > 0.0);
                let volume_ok = volume_sma.is_some_and(|v| o.volume > v);
                let mask =
                    usize::from(rsi_ok) | usize::from(macd_ok) << 1 | usize::from(volume_ok) << 2;
                let confidence = self.confidence[mask];
                // The phase is looked up only on a cross: Decimal compares stay off the hot path.
                let limits = &self.limits[limits_index(config, ctx.equity)];
                let min_confidence = limits.entries_allowed.then_some(limits.min_confidence);
                let signalled = ctx.position.is_none()
                    && !ctx.pending_order
                    && min_confidence.is_some_and(|min| confidence >= min);
                state.last_cross_above = Some(CrossEvaluation {
                    open_time_ms: o.open_time_ms,
                    ema_fast: ema_fast.unwrap_or(f64::NAN),
                    ema_slow: ema_slow.unwrap_or(f64::NAN),
                    rsi,
                    macd_hist,
                    volume: o.volume,
                    volume_sma,
                    confidence,
                    min_confidence,
                    signalled,
                });
                if signalled {
                    signals.push(Signal::Enter(EntrySignal {
                        pair: bar.pair,
                        confidence,
                        sizing: Sizing::FractionOfEquity(limits.risk_per_trade),
                        stop_loss_pct: config.stop_loss_pct,
                        take_profit_pct: config.take_profit_pct,
                        trailing_stop_pct: config.trailing_stop_pct,
                        limit: None,
                    }));
                }
            }
            Some(Cross::Below) if ctx.position.is_some() => signals.push(Signal::Exit {
                pair: bar.pair,
                reason: ExitReason::Signal,
            }),
            _ => {}
        }
    }

    fn limits(&self, equity: Money) -> Option<PhaseLimits> {
        Some(self.phase_limits(equity).clone())
    }

    fn status(&self, equity: Money) -> serde_json::Value {
        let limits = self.phase_limits(equity);
        let target_reached = !limits.entries_allowed;
        serde_json::json!({
            "strategy": Self::NAME,
            "phase": limits.phase,
            "phase_name": limits.name,
            "equity": equity,
            "start_equity": self.config.start_equity,
            "target": self.config.target,
            "progress_pct": decimal_to_f64(self.progress_pct(equity)),
            "target_reached": target_reached,
            "risk_per_trade": limits.risk_per_trade,
            "max_trades_per_day": limits.max_trades_per_day,
            "max_open_positions": limits.max_open_positions,
            "min_confidence": limits.min_confidence,
        })
    }
}

/// Index into `ChallengeGrowth::limits` at an equity: the first phase whose upper bound is
/// above it (the last phase between its bound and the target), or the "target reached" slot
/// (`phases.len()`).
fn limits_index(config: &ChallengeGrowthConfig, equity: Money) -> usize {
    let phases = config.phases.len();
    if equity >= config.target {
        return phases;
    }
    config
        .phases
        .iter()
        .position(|p| equity < p.upper_equity)
        .unwrap_or(phases.saturating_sub(1))
}
