//! Parameter search: many backtests of one strategy over a grid (or a random sample of it), run
//! on all cores with rayon, ranked by one metric.

use crate::backtest::{self, BacktestConfig, PairData};
use aurum_core::performance::Metrics;
use aurum_core::{Decimal, money::parse_decimal};
use aurum_strategy::risk::RiskManager;
use aurum_strategy::strategies::{ChallengeGrowthConfig, build_strategy};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a search could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptimizeError {
    /// A `--grid` argument that cannot be read.
    #[error(
        "invalid --grid {0:?}: expected KEY=FROM..TO:STEP (e.g. fast=5..20:5) or KEY=V1,V2,... (e.g. slow=20,30,50)"
    )]
    BadGrid(String),
    /// A range that is empty or too large.
    #[error("--grid {spec:?}: {reason}")]
    BadRange {
        /// The argument.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// An unknown metric name.
    #[error("unknown metric {0:?}; expected one of: {1}")]
    UnknownMetric(String, String),
    /// The thread pool could not start.
    #[error("cannot start {0} worker threads: {1}")]
    Threads(usize, String),
}

/// The values each parameter takes (as text, the way `--param` passes them).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ParamSpace {
    /// Parameter name and its values, in the order given.
    pub axes: Vec<(String, Vec<String>)>,
}

/// Most parameter sets one grid may have.
pub const MAX_COMBINATIONS: usize = 1_000_000;

impl ParamSpace {
    /// Reads `KEY=FROM..TO:STEP` (inclusive; decimals allowed, computed exactly) and
    /// `KEY=V1,V2,...` arguments.
    pub fn parse(specs: &[String]) -> Result<ParamSpace, OptimizeError> {
        let mut axes: Vec<(String, Vec<String>)> = Vec::new();
        for spec in specs {
            let (key, values) = spec
                .split_once('=')
                .ok_or_else(|| OptimizeError::BadGrid(spec.clone()))?;
            let key = key.trim();
            if key.is_empty() {
                return Err(OptimizeError::BadGrid(spec.clone()));
            }
            let values = if let Some((range, step)) = values.split_once(':') {
                let (from, to) = range
                    .split_once("..")
                    .ok_or_else(|| OptimizeError::BadGrid(spec.clone()))?;
                let num =
                    |t: &str| parse_decimal(t).map_err(|_| OptimizeError::BadGrid(spec.clone()));
                let (from, to, step) = (num(from)?, num(to)?, num(step)?);
                let bad = |reason: &str| OptimizeError::BadRange {
                    spec: spec.clone(),
                    reason: reason.into(),
                };
                if step <= Decimal::ZERO {
                    return Err(bad("the step must be positive"));
                }
                if to < from {
                    return Err(bad("the range ends before it starts"));
                }
                let count = ((to - from) / step).floor() + Decimal::ONE;
                if count > Decimal::from(MAX_COMBINATIONS) {
                    return Err(bad("more than a million values"));
                }
                let mut v = Vec::new();
                let mut x = from;
                while x <= to {
                    v.push(x.normalize().to_string());
                    x += step;
                }
                v
            } else {
                values
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect()
            };
            if values.is_empty() {
                return Err(OptimizeError::BadGrid(spec.clone()));
            }
            match axes.iter_mut().find(|(k, _)| k == key) {
                Some((_, existing)) => existing.extend(values),
                None => axes.push((key.to_string(), values)),
            }
        }
        let space = ParamSpace { axes };
        if space.size() > MAX_COMBINATIONS {
            return Err(OptimizeError::BadRange {
                spec: specs.join(" "),
                reason: "more than a million combinations".into(),
            });
        }
        Ok(space)
    }

    /// How many parameter sets the grid has.
    pub fn size(&self) -> usize {
        self.axes
            .iter()
            .map(|(_, v)| v.len())
            .fold(1usize, |a, n| a.saturating_mul(n))
    }

    /// The `i`-th parameter set of the grid (mixed-radix, the last axis fastest).
    fn nth(&self, mut i: usize) -> Vec<(String, String)> {
        let mut out = vec![(String::new(), String::new()); self.axes.len()];
        for (slot, (k, values)) in out.iter_mut().zip(&self.axes).rev() {
            *slot = (k.clone(), values[i % values.len()].clone());
            i /= values.len();
        }
        out
    }

    /// Every parameter set of the grid, in order.
    pub fn grid(&self) -> Vec<Vec<(String, String)>> {
        (0..self.size()).map(|i| self.nth(i)).collect()
    }

    /// `n` distinct parameter sets drawn from the grid with a seeded generator (the whole grid
    /// when `n` covers it). Same seed, same sample.
    pub fn random(&self, n: usize, seed: u64) -> Vec<Vec<(String, String)>> {
        let size = self.size();
        if n >= size {
            return self.grid();
        }
        // A partial Fisher-Yates shuffle over indices, kept sparse for large grids.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut swapped: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        let mut picks = Vec::with_capacity(n);
        for i in 0..n {
            let j = i + (rng.next_u64() as usize) % (size - i);
            let vi = *swapped.get(&i).unwrap_or(&i);
            let vj = *swapped.get(&j).unwrap_or(&j);
            swapped.insert(j, vi);
            picks.push(vj);
        }
        picks.into_iter().map(|i| self.nth(i)).collect()
    }
}

/// What to rank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Sharpe ratio (higher is better).
    Sharpe,
    /// Sortino ratio.
    Sortino,
    /// Return in percent.
    ReturnPct,
    /// Final equity.
    FinalEquity,
    /// Profit factor (no losses ranks highest).
    ProfitFactor,
    /// Win rate in percent.
    WinRatePct,
    /// Maximum drawdown in percent (lower is better).
    MaxDrawdownPct,
}

const METRICS: [(Metric, &str); 7] = [
    (Metric::Sharpe, "sharpe"),
    (Metric::Sortino, "sortino"),
    (Metric::ReturnPct, "return_pct"),
    (Metric::FinalEquity, "final_equity"),
    (Metric::ProfitFactor, "profit_factor"),
    (Metric::WinRatePct, "win_rate_pct"),
    (Metric::MaxDrawdownPct, "max_drawdown_pct"),
];

impl std::str::FromStr for Metric {
    type Err = OptimizeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        METRICS
            .iter()
            .find(|(_, n)| *n == s.trim())
            .map(|(m, _)| *m)
            .ok_or_else(|| {
                OptimizeError::UnknownMetric(
                    s.to_string(),
                    METRICS
                        .iter()
                        .map(|(_, n)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
    }
}

impl Metric {
    /// The metric's name.
    pub fn as_str(self) -> &'static str {
        METRICS
            .iter()
            .find(|(m, _)| *m == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// The value of this metric in a run's metrics, oriented so that larger is better.
    pub fn score(self, m: &Metrics) -> f64 {
        let v = self.value(m);
        if self == Metric::MaxDrawdownPct {
            -v
        } else {
            v
        }
    }

    /// The metric's value as reported.
    pub fn value(self, m: &Metrics) -> f64 {
        match self {
            Metric::Sharpe => m.sharpe,
            Metric::Sortino => m.sortino,
            Metric::ReturnPct => m.return_pct,
            Metric::FinalEquity => m.final_equity.try_into().unwrap_or(0.0),
            Metric::ProfitFactor => m.profit_factor.unwrap_or(f64::INFINITY),
            Metric::WinRatePct => m.win_rate_pct,
            Metric::MaxDrawdownPct => m.max_drawdown_pct,
        }
    }
}

/// One backtested parameter set.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The parameters, as given.
    pub params: Vec<(String, String)>,
    /// The strategy's parameters as it reports them (JSON).
    pub params_json: serde_json::Value,
    /// The run's metrics.
    pub metrics: Metrics,
}

/// A parameter set and why it could not run.
pub type Failed = (Vec<(String, String)>, String);

/// A finished search.
#[derive(Debug, Clone)]
pub struct OptimizeOutcome {
    /// Best first.
    pub ranked: Vec<Evaluated>,
    /// Parameter sets that could not run, with why (e.g. fast >= slow).
    pub failed: Vec<Failed>,
}

/// What one search needs besides the parameter sets.
pub struct Search<'a> {
    /// The candles.
    pub data: &'a [PairData],
    /// Cash, fee, slippage, timeframe.
    pub config: &'a BacktestConfig,
    /// Strategy name.
    pub strategy: &'a str,
    /// Parameters fixed for every run (`--param`), overridden by the grid's.
    pub fixed: &'a [(String, String)],
    /// Challenge Growth's configured settings.
    pub challenge: &'a ChallengeGrowthConfig,
    /// The risk manager every run starts from (cloned, fresh state, per run).
    pub risk: &'a RiskManager,
    /// What to rank by.
    pub metric: Metric,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
}

/// Runs every parameter set (in parallel) and ranks them. `done` counts finished runs.
pub fn optimize(
    search: &Search<'_>,
    sets: Vec<Vec<(String, String)>>,
    done: &AtomicU64,
) -> Result<OptimizeOutcome, OptimizeError> {
    let threads = search
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| OptimizeError::Threads(threads, e.to_string()))?;
    let results: Vec<Result<Evaluated, Failed>> = pool.install(|| {
        sets.into_par_iter()
            .map(|params| {
                let mut all: Vec<(String, String)> = search.fixed.to_vec();
                all.retain(|(k, _)| !params.iter().any(|(p, _)| p == k));
                all.extend(params.iter().cloned());
                let outcome = build_strategy(search.strategy, &all, search.challenge)
                    .map_err(|e| e.to_string())
                    .and_then(|strategy| {
                        let params_json = strategy.params();
                        backtest::run(
                            search.data,
                            search.config,
                            strategy,
                            search.risk.clone(),
                            &mut |_| {},
                        )
                        .map(|out| Evaluated {
                            params: params.clone(),
                            params_json,
                            metrics: out.metrics,
                        })
                        .map_err(|e| e.to_string())
                    });
                done.fetch_add(1, Ordering::Relaxed);
                outcome.map_err(|e| (params, e))
            })
            .collect()
    });
    let mut ranked = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(e) => ranked.push(e),
            Err(f) => failed.push(f),
        }
    }
    let metric = search.metric;
    // Best first; ties broken by the parameters' text so the order is deterministic.
    ranked.sort_by(|a, b| {
        metric
            .score(&b.metrics)
            .total_cmp(&metric.score(&a.metrics))
            .then_with(|| a.params.cmp(&b.params))
    });
    Ok(OptimizeOutcome { ranked, failed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_ranges_and_lists() {
        let s = ParamSpace::parse(&specs(&[
            "fast=5..20:5",
            "slow=20,30",
            "ratio=0.1..0.3:0.1",
        ]))
        .unwrap();
        assert_eq!(s.axes[0].1, ["5", "10", "15", "20"]);
        assert_eq!(s.axes[1].1, ["20", "30"]);
        assert_eq!(s.axes[2].1, ["0.1", "0.2", "0.3"]);
        assert_eq!(s.size(), 24);
        let grid = s.grid();
        assert_eq!(grid.len(), 24);
        assert_eq!(
            grid[0],
            vec![
                ("fast".into(), "5".into()),
                ("slow".into(), "20".into()),
                ("ratio".into(), "0.1".into())
            ]
        );
        assert_eq!(grid[23][0].1, "20");
    }

    #[test]
    fn refuses_bad_grids() {
        for bad in [
            "fast",
            "=1,2",
            "fast=",
            "fast=5..1:1",
            "fast=1..5:0",
            "fast=a..b:1",
            "fast=1..1000000000:1",
        ] {
            assert!(ParamSpace::parse(&specs(&[bad])).is_err(), "{bad}");
        }
        assert_eq!(
            "sharp".parse::<Metric>().unwrap_err().to_string(),
            "unknown metric \"sharp\"; expected one of: sharpe, sortino, return_pct, final_equity, profit_factor, win_rate_pct, max_drawdown_pct"
        );
    }

    #[test]
    fn random_samples_are_distinct_and_seeded() {
        let s = ParamSpace::parse(&specs(&["a=1..100:1", "b=1..100:1"])).unwrap();
        let x = s.random(50, 7);
        let y = s.random(50, 7);
        assert_eq!(x, y);
        let distinct: std::collections::BTreeSet<_> = x.iter().collect();
        assert_eq!(distinct.len(), 50);
        assert_ne!(x, s.random(50, 8));
        assert_eq!(s.random(20_000, 1).len(), 10_000);
    }
}
