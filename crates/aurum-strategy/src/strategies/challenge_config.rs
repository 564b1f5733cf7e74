//! The configuration of `challenge_growth`: phases by equity, indicator periods, confidence
//! weights and exits. Every number has the SPEC's default and can be changed in `aurum.toml`
//! or with `--param key=value`.

use super::StrategyError;
use super::params::{parse_dec, parse_f64, parse_opt_dec, parse_u32, parse_usize};
use crate::indicators::MAX_PERIOD;
use aurum_core::{Decimal, Money};
use serde::{Deserialize, Serialize};

const NAME: &str = "challenge_growth";

/// One phase of the challenge: the limits that apply while equity is below `upper_equity`
/// (and at or above the previous phase's bound).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseConfig {
    /// Shown in reports, e.g. `Aggressive Growth`.
    pub name: String,
    /// The phase applies below this equity (USDT); the next one from here on.
    pub upper_equity: Money,
    /// Largest fraction of equity one trade may use (0.15 = 15 %).
    pub risk_per_trade: Decimal,
    /// Most entries per UTC day.
    pub max_trades_per_day: u32,
    /// Most positions open at once.
    pub max_open_positions: u32,
    /// Lowest confidence an entry needs.
    pub min_confidence: f64,
}

/// Settings of the Challenge Growth strategy (SPEC "The Challenge Growth strategy").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChallengeGrowthConfig {
    /// The stake the challenge starts from (progress 0 %).
    pub start_equity: Money,
    /// The equity at which the challenge is won: no new entries from there on.
    pub target: Money,
    /// The phases, by increasing `upper_equity`. Equity at or above the last bound but below
    /// the target stays in the last phase.
    pub phases: Vec<PhaseConfig>,
    /// Fast EMA period of the entry/exit cross.
    pub ema_fast: usize,
    /// Slow EMA period of the entry/exit cross.
    pub ema_slow: usize,
    /// RSI period.
    pub rsi_period: usize,
    /// The RSI bonus needs `rsi_lower < RSI < rsi_upper`.
    pub rsi_lower: f64,
    /// See `rsi_lower`.
    pub rsi_upper: f64,
    /// MACD fast EMA period.
    pub macd_fast: usize,
    /// MACD slow EMA period.
    pub macd_slow: usize,
    /// MACD signal EMA period.
    pub macd_signal: usize,
    /// Period of the SMA of volume that the volume bonus compares against.
    pub volume_sma: usize,
    /// Confidence of a bare EMA cross.
    pub base_confidence: Decimal,
    /// Added when the RSI is inside its band.
    pub rsi_weight: Decimal,
    /// Added when the MACD histogram is positive.
    pub macd_weight: Decimal,
    /// Added when volume is above its SMA.
    pub volume_weight: Decimal,
    /// Stop-loss distance below the entry price (0.08 = 8 %); `None`: no stop.
    pub stop_loss_pct: Option<Decimal>,
    /// Take-profit distance above the entry price; `None`: none.
    pub take_profit_pct: Option<Decimal>,
    /// Trailing-stop distance below the highest price since entry; `None` (default): none.
    pub trailing_stop_pct: Option<Decimal>,
}

impl Default for ChallengeGrowthConfig {
    fn default() -> Self {
        let phase = |name: &str, upper: i64, risk: i64, trades, open, conf| PhaseConfig {
            name: name.to_string(),
            upper_equity: Decimal::from(upper),
            risk_per_trade: Decimal::new(risk, 2),
            max_trades_per_day: trades,
            max_open_positions: open,
            min_confidence: conf,
        };
        ChallengeGrowthConfig {
            start_equity: Decimal::from(50),
            target: Decimal::from(600),
            phases: vec![
                phase("Aggressive Growth", 100, 15, 25, 2, 0.60),
                phase("Steady Expansion", 200, 12, 20, 2, 0.60),
                phase("Compound Growth", 400, 10, 15, 3, 0.70),
                phase("Target Achievement", 600, 8, 12, 3, 0.85),
            ],
            ema_fast: 9,
            ema_slow: 21,
            rsi_period: 14,
            rsi_lower: 50.0,
            rsi_upper: 70.0,
            macd_fast: 12,
            macd_slow: 26,
            macd_signal: 9,
            volume_sma: 20,
            base_confidence: Decimal::new(4, 1),
            rsi_weight: Decimal::new(2, 1),
            macd_weight: Decimal::new(2, 1),
            volume_weight: Decimal::new(2, 1),
            stop_loss_pct: Some(Decimal::new(8, 2)),
            take_profit_pct: Some(Decimal::new(12, 2)),
            trailing_stop_pct: None,
        }
    }
}

/// The scalar parameters `--param` accepts (phase fields come as `phase<N>.<field>`).
pub(crate) const SCALAR_PARAMS: &[&str] = &[
    "start_equity",
    "target",
    "ema_fast",
    "ema_slow",
    "rsi_period",
    "rsi_lower",
    "rsi_upper",
    "macd_fast",
    "macd_slow",
    "macd_signal",
    "volume_sma",
    "base_confidence",
    "rsi_weight",
    "macd_weight",
    "volume_weight",
    "stop_loss_pct",
    "take_profit_pct",
    "trailing_stop_pct",
];

/// The fields of a phase that `--param phase<N>.<field>=...` may set.
pub(crate) const PHASE_PARAMS: &[&str] = &[
    "name",
    "upper_equity",
    "risk_per_trade",
    "max_trades_per_day",
    "max_open_positions",
    "min_confidence",
];

impl ChallengeGrowthConfig {
    /// Applies one `key=value` override, e.g. `ema_fast=9`, `target=600`,
    /// `phase1.risk_per_trade=0.2`. Call [`validate`](Self::validate) after the last one.
    pub fn set_param(&mut self, key: &str, value: &str) -> Result<(), StrategyError> {
        match key {
            "start_equity" => self.start_equity = parse_dec(NAME, key, value)?,
            "target" => self.target = parse_dec(NAME, key, value)?,
            "ema_fast" => self.ema_fast = parse_usize(NAME, key, value)?,
            "ema_slow" => self.ema_slow = parse_usize(NAME, key, value)?,
            "rsi_period" => self.rsi_period = parse_usize(NAME, key, value)?,
            "rsi_lower" => self.rsi_lower = parse_f64(NAME, key, value)?,
            "rsi_upper" => self.rsi_upper = parse_f64(NAME, key, value)?,
            "macd_fast" => self.macd_fast = parse_usize(NAME, key, value)?,
            "macd_slow" => self.macd_slow = parse_usize(NAME, key, value)?,
            "macd_signal" => self.macd_signal = parse_usize(NAME, key, value)?,
            "volume_sma" => self.volume_sma = parse_usize(NAME, key, value)?,
            "base_confidence" => self.base_confidence = parse_dec(NAME, key, value)?,
            "rsi_weight" => self.rsi_weight = parse_dec(NAME, key, value)?,
            "macd_weight" => self.macd_weight = parse_dec(NAME, key, value)?,
            "volume_weight" => self.volume_weight = parse_dec(NAME, key, value)?,
            "stop_loss_pct" => self.stop_loss_pct = parse_opt_dec(NAME, key, value)?,
            "take_profit_pct" => self.take_profit_pct = parse_opt_dec(NAME, key, value)?,
            "trailing_stop_pct" => self.trailing_stop_pct = parse_opt_dec(NAME, key, value)?,
            _ => return self.set_phase_param(key, value),
        }
        Ok(())
    }

    /// `phase<N>.<field>=value` with `N` from 1.
    fn set_phase_param(&mut self, key: &str, value: &str) -> Result<(), StrategyError> {
        let phase = key
            .strip_prefix("phase")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(n, field)| Some((n.parse::<usize>().ok()?, field)))
            .filter(|(n, field)| {
                (1..=self.phases.len()).contains(n) && PHASE_PARAMS.contains(field)
            });
        let Some((n, field)) = phase else {
            return Err(StrategyError::UnknownParam {
                strategy: NAME,
                param: key.to_string(),
                accepted: self.accepted_params(),
            });
        };
        let p = &mut self.phases[n - 1];
        match field {
            "name" => p.name = value.trim().to_string(),
            "upper_equity" => p.upper_equity = parse_dec(NAME, key, value)?,
            "risk_per_trade" => p.risk_per_trade = parse_dec(NAME, key, value)?,
            "max_trades_per_day" => p.max_trades_per_day = parse_u32(NAME, key, value)?,
            "max_open_positions" => p.max_open_positions = parse_u32(NAME, key, value)?,
            _ => p.min_confidence = parse_f64(NAME, key, value)?,
        }
        Ok(())
    }

    /// The accepted parameter names, for error messages.
    pub fn accepted_params(&self) -> String {
        format!(
            "{}, phase<1..={}>.{{{}}}",
            SCALAR_PARAMS.join(", "),
            self.phases.len(),
            PHASE_PARAMS.join(", ")
        )
    }

    /// Checks that the values make a working strategy; the error names the field and value.
    pub fn validate(&self) -> Result<(), StrategyError> {
        let fail = |reason: String| {
            Err(StrategyError::InvalidConfig {
                strategy: NAME,
                reason,
            })
        };
        if self.start_equity < Decimal::ZERO || self.target <= self.start_equity {
            return fail(format!(
                "need 0 <= start_equity < target (start_equity = {}, target = {})",
                self.start_equity, self.target
            ));
        }
        if self.phases.is_empty() || self.phases.len() > usize::from(u8::MAX - 1) {
            return fail(format!("need 1 to 254 phases, got {}", self.phases.len()));
        }
        let mut lower = Decimal::ZERO;
        for (i, p) in self.phases.iter().enumerate() {
            let n = i + 1;
            if p.name.trim().is_empty() {
                return fail(format!("phase{n}.name is empty"));
            }
            if p.upper_equity <= lower {
                return fail(format!(
                    "phase{n}.upper_equity = {} must be above {lower} (phases go by increasing equity)",
                    p.upper_equity
                ));
            }
            lower = p.upper_equity;
            if p.risk_per_trade <= Decimal::ZERO || p.risk_per_trade > Decimal::ONE {
                return fail(format!(
                    "phase{n}.risk_per_trade = {} must be in (0, 1]",
                    p.risk_per_trade
                ));
            }
            if p.max_trades_per_day == 0 || p.max_open_positions == 0 {
                return fail(format!(
                    "phase{n}: max_trades_per_day = {} and max_open_positions = {} must be at least 1",
                    p.max_trades_per_day, p.max_open_positions
                ));
            }
            if !(0.0..=1.0).contains(&p.min_confidence) {
                return fail(format!(
                    "phase{n}.min_confidence = {} must be in [0, 1]",
                    p.min_confidence
                ));
            }
        }
        let period = |name: &str, value: usize, min: usize| {
            if (min..=MAX_PERIOD).contains(&value) {
                Ok(())
            } else {
                fail(format!("{name} = {value} must be in {min}..={MAX_PERIOD}"))
            }
        };
        period("ema_fast", self.ema_fast, 2)?;
        period("ema_slow", self.ema_slow, 2)?;
        period("rsi_period", self.rsi_period, 2)?;
        period("macd_fast", self.macd_fast, 2)?;
        period("macd_slow", self.macd_slow, 2)?;
        period("macd_signal", self.macd_signal, 1)?;
        period("volume_sma", self.volume_sma, 2)?;
        if self.ema_fast >= self.ema_slow {
            return fail(format!(
                "ema_fast = {} must be below ema_slow = {}",
                self.ema_fast, self.ema_slow
            ));
        }
        if self.macd_fast >= self.macd_slow {
            return fail(format!(
                "macd_fast = {} must be below macd_slow = {}",
                self.macd_fast, self.macd_slow
            ));
        }
        if !(self.rsi_lower.is_finite() && self.rsi_upper.is_finite())
            || self.rsi_lower >= self.rsi_upper
        {
            return fail(format!(
                "need rsi_lower < rsi_upper (rsi_lower = {}, rsi_upper = {})",
                self.rsi_lower, self.rsi_upper
            ));
        }
        for (name, w) in [
            ("base_confidence", self.base_confidence),
            ("rsi_weight", self.rsi_weight),
            ("macd_weight", self.macd_weight),
            ("volume_weight", self.volume_weight),
        ] {
            if w < Decimal::ZERO || w > Decimal::ONE {
                return fail(format!("{name} = {w} must be in [0, 1]"));
            }
        }
        for (name, pct) in [
            ("stop_loss_pct", self.stop_loss_pct),
            ("trailing_stop_pct", self.trailing_stop_pct),
        ] {
            if let Some(p) = pct
                && (p <= Decimal::ZERO || p >= Decimal::ONE)
            {
                return fail(format!("{name} = {p} must be in (0, 1)"));
            }
        }
        if let Some(p) = self.take_profit_pct
            && p <= Decimal::ZERO
        {
            return fail(format!("take_profit_pct = {p} must be above 0"));
        }
        Ok(())
    }

    /// The confidence of an entry for each combination of the three bonuses, indexed by
    /// `rsi | macd << 1 | volume << 2`. Summed exactly in decimals, then converted, so that
    /// 0.4 + 0.2 is exactly the float `0.6` (not `0.6000000000000001`) and compares equal to a
    /// `min_confidence` of 0.6.
    pub(crate) fn confidence_table(&self) -> [f64; 8] {
        let mut table = [0.0; 8];
        for (mask, slot) in table.iter_mut().enumerate() {
            let mut sum = self.base_confidence;
            for (bit, weight) in [self.rsi_weight, self.macd_weight, self.volume_weight]
                .into_iter()
                .enumerate()
            {
                if mask & (1 << bit) != 0 {
                    sum += weight;
                }
            }
            *slot = crate::indicators::decimal_to_f64(sum);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec_table() {
        let c = ChallengeGrowthConfig::default();
        c.validate().unwrap();
        let rows: Vec<_> = c
            .phases
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.upper_equity.to_string(),
                    p.risk_per_trade.to_string(),
                    p.max_trades_per_day,
                    p.max_open_positions,
                    p.min_confidence,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "Aggressive Growth",
                    "100".into(),
                    "0.15".into(),
                    25,
                    2,
                    0.60
                ),
                ("Steady Expansion", "200".into(), "0.12".into(), 20, 2, 0.60),
                ("Compound Growth", "400".into(), "0.10".into(), 15, 3, 0.70),
                (
                    "Target Achievement",
                    "600".into(),
                    "0.08".into(),
                    12,
                    3,
                    0.85
                ),
            ]
        );
        assert_eq!(
            (c.start_equity, c.target),
            (Decimal::from(50), Decimal::from(600))
        );
        assert_eq!(
            c.confidence_table(),
            [0.4, 0.6, 0.6, 0.8, 0.6, 0.8, 0.8, 1.0]
        );
    }

    #[test]
    fn reads_toml_with_floats_and_strings_and_refuses_unknown_keys() {
        let c: ChallengeGrowthConfig = toml::from_str(
            r#"
            target = 1000
            ema_fast = 8
            stop_loss_pct = 0.05
            take_profit_pct = "0.1"
            [[phases]]
            name = "All in"
            upper_equity = 1000
            risk_per_trade = 0.25
            max_trades_per_day = 10
            max_open_positions = 1
            min_confidence = 0.8
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.target, Decimal::from(1000));
        assert_eq!(c.ema_fast, 8);
        assert_eq!(c.ema_slow, 21);
        assert_eq!(c.stop_loss_pct.unwrap().to_string(), "0.05");
        assert_eq!(c.take_profit_pct.unwrap().to_string(), "0.1");
        assert_eq!(c.phases.len(), 1);
        assert_eq!(c.phases[0].risk_per_trade.to_string(), "0.25");
        let err = toml::from_str::<ChallengeGrowthConfig>("ema_fats = 8").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `ema_fats`"),
            "{err}"
        );
        // The defaults survive a serialize/deserialize round trip (figment does this).
        let d = ChallengeGrowthConfig::default();
        let back: ChallengeGrowthConfig = toml::from_str(&toml::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn params_override_and_validation_names_the_field() {
        let mut c = ChallengeGrowthConfig::default();
        c.set_param("ema_fast", "5").unwrap();
        c.set_param("phase2.risk_per_trade", "0.2").unwrap();
        c.set_param("phase4.name", "Final").unwrap();
        c.set_param("trailing_stop_pct", "0.03").unwrap();
        c.validate().unwrap();
        assert_eq!(c.ema_fast, 5);
        assert_eq!(c.phases[1].risk_per_trade, Decimal::new(2, 1));
        assert_eq!(c.phases[3].name, "Final");
        assert_eq!(c.trailing_stop_pct, Some(Decimal::new(3, 2)));

        let e = c.set_param("phase5.name", "x").unwrap_err().to_string();
        assert!(e.starts_with("challenge_growth: unknown parameter \"phase5.name\"; accepted: start_equity, target, ema_fast"), "{e}");
        assert!(e.ends_with("phase<1..=4>.{name, upper_equity, risk_per_trade, max_trades_per_day, max_open_positions, min_confidence}"), "{e}");
        assert!(c.set_param("phase1.colour", "x").is_err());
        assert_eq!(
            c.set_param("target", "lots").unwrap_err().to_string(),
            "challenge_growth: parameter target = \"lots\" is not a decimal number"
        );

        let mut bad = ChallengeGrowthConfig::default();
        bad.set_param("ema_fast", "21").unwrap();
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "challenge_growth: ema_fast = 21 must be below ema_slow = 21"
        );
        let mut bad = ChallengeGrowthConfig::default();
        bad.set_param("phase3.upper_equity", "150").unwrap();
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "challenge_growth: phase3.upper_equity = 150 must be above 200 (phases go by increasing equity)"
        );
        let mut bad = ChallengeGrowthConfig::default();
        bad.set_param("target", "50").unwrap();
        assert!(bad.validate().is_err());
        let mut bad = ChallengeGrowthConfig::default();
        bad.set_param("phase1.min_confidence", "1.5").unwrap();
        assert!(bad.validate().is_err());
        let mut bad = ChallengeGrowthConfig::default();
        bad.set_param("stop_loss_pct", "1").unwrap();
        assert!(bad.validate().is_err());
    }
}
