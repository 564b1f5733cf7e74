//! What a running bot reports about itself: counters, the candle-to-wire latency, and the
//! status heartbeat stored for `aurum status` (and the API).

use crate::runtime::Runtime;
use crate::venue::{Venue, wall_ms};
use aurum_core::Money;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Counters since the runtime started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeStats {
    /// Loop iterations.
    pub ticks: u64,
    /// Orders sent (intents stored and handed to the venue).
    pub orders_sent: u64,
    /// Fills stored.
    pub fills: u64,
    /// Orders the venue refused.
    pub rejects: u64,
    /// Orders the venue refused, by its error code (`-2010`...; `other` without one).
    #[serde(default)]
    pub rejects_by_code: BTreeMap<String, u64>,
    /// Placements whose outcome was unknown at first.
    pub unknown_outcomes: u64,
    /// Intents found never sent.
    pub never_sent: u64,
    /// Failed venue requests (retried).
    pub venue_errors: u64,
    /// Failed store requests (retried).
    pub store_errors: u64,
    /// Round trips closed.
    pub trades_closed: u64,
    /// Realised P&L of the round trips closed since start (quote).
    pub realised_pnl: Money,
    /// Positions written off as dust.
    pub dust_closed: u64,
}

/// Closed candle → order on the wire, in microseconds: from the moment the poll that brought
/// the closed candle answered, through the strategy, the risk manager and the durable intent
/// write, to the request being handed to the venue's client.
#[derive(Debug, Clone)]
pub struct LatencyStats {
    hist: Histogram<u64>,
}

impl Default for LatencyStats {
    fn default() -> Self {
        LatencyStats {
            // 1 µs to 60 s, 3 significant digits.
            hist: Histogram::new_with_bounds(1, 60_000_000, 3)
                .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!())),
        }
    }
}

/// A summary of the latency histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Median, µs.
    pub p50_us: u64,
    /// 90th percentile, µs.
    pub p90_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Largest, µs.
    pub max_us: u64,
}

impl LatencyStats {
    /// Records one sample.
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        // Samples beyond the bounds are clamped.
        let _ = self.hist.record(us.min(self.hist.high()));
    }

    /// Cumulative counts at each upper bound (µs), as Prometheus `le` buckets want them, and
    /// the sum of all samples in seconds (from the histogram's buckets: exact to its
    /// precision of 3 significant digits).
    pub fn buckets(&self, bounds_us: &[u64]) -> (Vec<u64>, f64) {
        let counts = bounds_us
            .iter()
            .map(|&b| {
                if b >= self.hist.max() {
                    self.hist.len()
                } else {
                    self.hist.count_between(0, b)
                }
            })
            .collect();
        let sum_us: f64 = self
            .hist
            .iter_recorded()
            .map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64)
            .sum();
        (counts, sum_us / 1e6)
    }

    /// The percentiles.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.hist.len(),
            p50_us: self.hist.value_at_quantile(0.50),
            p90_us: self.hist.value_at_quantile(0.90),
            p99_us: self.hist.value_at_quantile(0.99),
            max_us: self.hist.max(),
        }
    }
}

/// One pair as the status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairStatus {
    /// Open time of the newest closed candle.
    pub last_closed_ms: Option<i64>,
    /// The last price seen.
    pub last_price: Option<Money>,
    /// Time since market data last arrived, ms.
    pub data_age_ms: Option<u64>,
    /// Base quantity held.
    pub position: Option<Money>,
}

/// The heartbeat a running bot stores about once a second (`engine_state` key `status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeStatus {
    /// `trading`, `stopped`.
    pub state: String,
    /// `live` or `paper`.
    pub mode: String,
    /// Whether the kill switch halts trading.
    pub halted: bool,
    /// Whether an operator stopped new entries.
    #[serde(default)]
    pub entries_paused: bool,
    /// The process.
    pub pid: u32,
    /// When it started (venue clock, ms).
    pub started_at_ms: i64,
    /// When this was written (wall clock, ms): a stale heartbeat means the bot is not running.
    pub heartbeat_ms: i64,
    /// Equity at the last mark (quote asset).
    pub equity: Money,
    /// Free quote cash.
    pub cash: Money,
    /// Orders not final yet.
    pub working_orders: usize,
    /// Round trips closed since start.
    pub trades_closed: u64,
    /// By pair.
    pub pairs: BTreeMap<String, PairStatus>,
    /// Counters since start.
    pub stats: RuntimeStats,
    /// Candle → wire latency since start.
    pub latency: LatencySummary,
    /// What the strategy reports (phase, progress).
    pub strategy: serde_json::Value,
}

impl RuntimeStatus {
    /// The status of a runtime now.
    pub fn build<V: Venue>(rt: &Runtime<V>, state: &str) -> RuntimeStatus {
        let pairs = rt
            .feeds
            .iter()
            .map(|f| {
                let position = rt
                    .engine
                    .portfolio()
                    .position(&f.symbol)
                    .map(|p| p.quantity);
                (
                    f.symbol.to_string(),
                    PairStatus {
                        last_closed_ms: f.last_closed_ms,
                        last_price: f.last_price,
                        data_age_ms: f
                            .last_data
                            .map(|t| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)),
                        position,
                    },
                )
            })
            .collect();
        RuntimeStatus {
            state: state.to_string(),
            mode: rt.venue.mode().to_string(),
            halted: rt.kill_switch.engaged,
            entries_paused: rt.entries.paused,
            pid: std::process::id(),
            started_at_ms: rt.started_at_ms,
            heartbeat_ms: wall_ms(),
            equity: rt.engine.equity(),
            cash: rt.engine.cash(),
            working_orders: rt.working.len(),
            trades_closed: rt.stats.trades_closed,
            pairs,
            stats: rt.stats.clone(),
            latency: rt.latency.summary(),
            strategy: rt.engine.strategy_status(),
        }
    }
}

/// The current UTC day's performance, kept by the runtime and stored as `performance_daily`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DayTracker {
    /// Day number since the Unix epoch.
    pub day: Option<i64>,
    /// The row being built.
    pub row: Option<aurum_store::DailyPerformance>,
    /// Whether it changed since it was last stored.
    pub dirty: bool,
}

impl DayTracker {
    /// The equity at `now_ms`; a new UTC day starts a new row. Returns the finished row of the
    /// previous day, if the day changed.
    pub fn on_equity(
        &mut self,
        now_ms: i64,
        equity: Money,
    ) -> Option<aurum_store::DailyPerformance> {
        let day = aurum_core::performance::day_index(now_ms);
        let mut finished = None;
        if self.day != Some(day) {
            finished = self.row.take();
            self.day = Some(day);
            self.row = Some(aurum_store::DailyPerformance {
                day: aurum_core::performance::utc_day(now_ms),
                start_equity: equity,
                end_equity: equity,
                realised_pnl: Money::ZERO,
                fees: Money::ZERO,
                trades: 0,
                wins: 0,
                losses: 0,
            });
            self.dirty = true;
        } else if let Some(r) = self.row.as_mut()
            && r.end_equity != equity
        {
            r.end_equity = equity;
            self.dirty = true;
        }
        finished
    }

    /// A round trip closed today.
    pub fn on_trade(&mut self, trade: &aurum_core::Trade) {
        if let Some(r) = self.row.as_mut() {
            r.realised_pnl += trade.pnl;
            r.fees += trade.fees;
            r.trades += 1;
            if trade.is_win() {
                r.wins += 1;
            } else if trade.is_loss() {
                r.losses += 1;
            }
            self.dirty = true;
        }
    }
}

/// Upper bounds of the candle → wire latency buckets, µs (100 µs to 10 s).
pub const LATENCY_BOUNDS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// What a running bot shows its operator surface in the same process (the API, the
/// dashboard, `/metrics`), replaced after every tick. A bot in another process is seen through
/// the store instead (its [`RuntimeStatus`] heartbeat).
#[derive(Debug, Clone, Serialize)]
pub struct LiveView {
    /// The bot.
    pub bot_id: String,
    /// The status, as stored in the heartbeat.
    pub status: RuntimeStatus,
    /// The risk manager's figures now.
    pub risk: aurum_strategy::risk::RiskStatus,
    /// Whether reconciliation at start passed (`false`: it found differences).
    pub reconciled: bool,
    /// Differences reconciliation found at start.
    pub reconciliation_drift: usize,
    /// Realised P&L of the open positions so far (their partial exits), quote.
    pub realised_pnl_open: Money,
    /// Unrealised P&L of the open positions at the last price.
    pub unrealised_pnl: Money,
    /// Entries the risk manager refused since start, by rule.
    pub risk_refusals: BTreeMap<String, u64>,
    /// Candle → wire latency: cumulative counts at [`LATENCY_BOUNDS_US`].
    pub latency_buckets: Vec<u64>,
    /// Sum of the latency samples, seconds.
    pub latency_sum_s: f64,
}

impl LiveView {
    /// The view of a runtime now.
    pub fn build<V: Venue>(rt: &Runtime<V>) -> LiveView {
        let now = rt.now_ms();
        let mut realised = Money::ZERO;
        let mut unrealised = Money::ZERO;
        for f in &rt.feeds {
            if let Some(p) = rt.engine.portfolio().position(&f.symbol) {
                realised += p.realised_pnl;
                if let Some(price) = f.last_price {
                    unrealised += p.unrealised_pnl(price);
                }
            }
        }
        let (latency_buckets, latency_sum_s) = rt.latency.buckets(&LATENCY_BOUNDS_US);
        LiveView {
            bot_id: rt.bot_id.clone(),
            status: rt.status("trading"),
            risk: rt.engine.risk().status(now),
            reconciled: rt.reconciliation.ok,
            reconciliation_drift: rt.reconciliation.drift.len(),
            realised_pnl_open: realised,
            unrealised_pnl: unrealised,
            risk_refusals: rt
                .engine
                .rejections()
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            latency_buckets,
            latency_sum_s,
        }
    }
}
