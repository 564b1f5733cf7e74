//! The simulator's shared state: the engine, the faults, the rate limiter and the counters.

use crate::config::SimConfig;
use crate::engine::Engine;
use crate::faults::Faults;
use crate::market::{Market, MarketError};
use aurum_core::Decimal;
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The wall clock plus `offset_ms`, ms since the epoch.
fn server_clock(offset_ms: i64) -> i64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    wall.saturating_add(offset_ms)
}

/// What the simulator counted since it started (`GET /admin/stats`).
#[derive(Debug, Default)]
pub struct Stats {
    /// API requests received (admin requests not counted).
    pub requests: AtomicU64,
    /// Answers 429.
    pub rate_limited: AtomicU64,
    /// Requests that arrived while a `Retry-After` was still running.
    pub retry_after_violations: AtomicU64,
    /// Answers 418.
    pub banned: AtomicU64,
    /// Answers 5xx injected.
    pub server_errors: AtomicU64,
    /// New orders placed whose answer was dropped.
    pub dropped_responses: AtomicU64,
    /// New orders dropped before being placed.
    pub dropped_requests: AtomicU64,
    /// New orders placed whose answer was held.
    pub held_responses: AtomicU64,
    /// Answers cut in half.
    pub truncated: AtomicU64,
    /// Signed requests refused (-1021, -1022, -2014, -2015).
    pub auth_failures: AtomicU64,
}

/// A snapshot of [`Stats`] plus order and trade counts, as JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// API requests received.
    pub requests: u64,
    /// Answers 429.
    pub rate_limited: u64,
    /// Requests during a running `Retry-After`.
    pub retry_after_violations: u64,
    /// Answers 418.
    pub banned: u64,
    /// Injected 5xx answers.
    pub server_errors: u64,
    /// Placed orders whose answer was dropped.
    pub dropped_responses: u64,
    /// Orders dropped unplaced.
    pub dropped_requests: u64,
    /// Placed orders whose answer was held.
    pub held_responses: u64,
    /// Truncated answers.
    pub truncated: u64,
    /// Refused signed requests.
    pub auth_failures: u64,
    /// Orders placed (all time).
    pub orders: usize,
    /// Trades (all time).
    pub trades: usize,
}

/// Fault state beyond the settings: the running rate-limit window and ban.
#[derive(Debug)]
pub struct FaultState {
    /// The settings (counters in it count down).
    pub faults: Faults,
    /// Random source of `error_rate`.
    pub rng: ChaCha8Rng,
    /// A 429's `Retry-After` runs until then (ms).
    pub limited_until_ms: i64,
    /// Requests that ignored a `Retry-After`.
    pub violations: u32,
    /// Banned until then (ms).
    pub banned_until_ms: i64,
}

/// Request weight used in the current minute.
#[derive(Debug, Default)]
pub struct WeightWindow {
    /// The minute (ms since the epoch / 60000).
    pub minute: i64,
    /// Weight used in it.
    pub used: u32,
    /// Orders placed in the current 10 s window and its start.
    pub orders_10s: (i64, u32),
    /// Orders placed today and the day.
    pub orders_1d: (i64, u32),
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct Sim {
    /// The configuration.
    pub config: SimConfig,
    /// The account and the markets.
    pub engine: Mutex<Engine>,
    /// Faults and their running state.
    pub faults: Mutex<FaultState>,
    /// The rate limiter.
    pub weight: Mutex<WeightWindow>,
    /// Counters.
    pub stats: Stats,
    /// The kline stream connections ([`crate::stream`]).
    pub streams: crate::stream::StreamHub,
}

impl Sim {
    /// Builds the markets (loading or generating their prices) and the account. With
    /// [`SimConfig::start_now`], synthetic paths are first placed at the server's clock
    /// ([`SimConfig::align_start`]); [`Sim::config`] keeps the resolved start times.
    pub fn new(mut config: SimConfig) -> Result<Sim, MarketError> {
        if config.pairs.is_empty() {
            return Err(MarketError::Other("no pairs to list".into()));
        }
        if let Some(cap) = config.max_fill_quote
            && cap <= Decimal::ZERO
        {
            return Err(MarketError::Other(format!(
                "max_fill_quote {cap}: expected a positive amount"
            )));
        }
        if config.start_now {
            config.align_start(server_clock(config.clock_offset_ms));
        }
        let markets = config
            .pairs
            .iter()
            .map(|p| Market::new(p, config.filters, config.history))
            .collect::<Result<Vec<_>, _>>()?;
        let mut engine = Engine::new(markets, &config.balances, config.fee);
        engine.set_max_fill_quote(config.max_fill_quote);
        let faults = FaultState {
            faults: config.faults.clone(),
            rng: ChaCha8Rng::seed_from_u64(0x5eed),
            limited_until_ms: 0,
            violations: 0,
            banned_until_ms: 0,
        };
        Ok(Sim {
            config,
            engine: Mutex::new(engine),
            faults: Mutex::new(faults),
            weight: Mutex::new(WeightWindow::default()),
            stats: Stats::default(),
            streams: crate::stream::StreamHub::default(),
        })
    }

    /// The server's clock, ms (wall clock plus the configured offset).
    pub fn now_ms(&self) -> i64 {
        server_clock(self.config.clock_offset_ms)
    }

    /// Replaces the faults (and clears a running rate-limit window and ban).
    pub fn set_faults(&self, faults: Faults) {
        let mut f = self.faults.lock();
        f.faults = faults;
        f.limited_until_ms = 0;
        f.violations = 0;
        f.banned_until_ms = 0;
    }

    /// The current faults.
    pub fn faults(&self) -> Faults {
        self.faults.lock().faults.clone()
    }

    /// Draws whether this request gets a random 5xx.
    pub fn random_failure(&self) -> bool {
        let mut f = self.faults.lock();
        let rate = f.faults.error_rate;
        rate > 0.0 && f.rng.random::<f64>() < rate
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let engine = self.engine.lock();
        StatsSnapshot {
            requests: get(&s.requests),
            rate_limited: get(&s.rate_limited),
            retry_after_violations: get(&s.retry_after_violations),
            banned: get(&s.banned),
            server_errors: get(&s.server_errors),
            dropped_responses: get(&s.dropped_responses),
            dropped_requests: get(&s.dropped_requests),
            held_responses: get(&s.held_responses),
            truncated: get(&s.truncated),
            auth_failures: get(&s.auth_failures),
            orders: engine.orders().len(),
            trades: engine.trades().len(),
        }
    }
}
