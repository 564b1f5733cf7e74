//! The trading loop: market data in, the engine's decisions out through the order path, the
//! store as the truth. One code path for paper and live (the [`Venue`] differs).
//!
//! A tick, every `poll_interval_ms`:
//! 1. the kill switch is read from the store and applied when it changed;
//! 2. market data (`market.rs`): each pair's klines are polled (every candle but the newest,
//!    still forming, is closed), or with `market_data = "stream"` the venue's kline stream is
//!    drained, REST filling in at start, while it is down and on gaps; newly closed candles go
//!    to the venue (paper matching) and the engine's protection;
//! 3. the books are marked, the strategy runs on each newly closed candle, and the engine's
//!    commands are carried out: every intent is stored (the writer acknowledged it) before the
//!    request leaves; the intents of one tick share one commit;
//! 4. working orders are brought up to the venue's state (acknowledgements, fills, final
//!    states), each change stored before the engine hears of it. On a real exchange this
//!    comes after the strategy, so its REST round trips and commits are not between the
//!    candle and the orders it causes: the strategy sees the resting orders as of the
//!    previous tick, at most a poll interval old (a fill inside that window is applied after
//!    the candle's strategy ran; see [`Venue::fills_from_candles`] for what that costs). The
//!    paper venue fills from the candles themselves, so there it comes before the strategy,
//!    as in the backtest;
//! 5. the equity point, the day's performance, the candles, the risk state and a status
//!    heartbeat are stored.

use crate::config::BotConfig;
use crate::control::{
    self, ENTRIES_KEY, EntriesRecord, KILL_SWITCH_KEY, KillSwitchRecord, RISK_KEY, STATUS_KEY,
    TRIGGERS_KEY,
};
use crate::error::RuntimeError;
use crate::orders::Working;
use crate::reconcile::ReconcileReport;
use crate::status::{LatencyStats, LiveView, RuntimeStats, RuntimeStatus};
use crate::venue::{Venue, wall_ms};
use aurum_core::{Candle, ClientOrderId, Decimal, Money, Symbol, SymbolFilters, Timeframe};
use aurum_engine::engine::{Command, Engine, Triggers};
use aurum_store::{BotLock, Store, WriteOp};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::risk::RiskConfig;
use aurum_strategy::strategies::ChallengeGrowthConfig;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::market;

/// How long a bot lock held by a session that is going away (a killed process's PostgreSQL
/// session) is waited for, at start and when the lock is re-taken, before the bot counts as
/// running elsewhere.
pub(crate) const LOCK_PATIENCE: Duration = Duration::from_secs(10);

/// Everything a runtime needs besides the venue and the store.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// `[bot]`.
    pub bot: BotConfig,
    /// `[risk]`.
    pub risk: RiskConfig,
    /// `[strategy.challenge_growth]`.
    pub challenge: ChallengeGrowthConfig,
    /// Fee rate the engine sizes entries with.
    pub fee_rate: Decimal,
    /// Paper trading: cash deposited on the bot's first start. Live trading adopts the
    /// venue's balances instead.
    pub start_cash: Option<Money>,
    /// The configuration stored with the bot (no secrets).
    pub config_snapshot: serde_json::Value,
}

/// One traded pair as the loop follows it.
#[derive(Debug, Clone)]
pub(crate) struct Feed {
    pub symbol: Symbol,
    pub filters: SymbolFilters,
    /// Open time of the newest closed candle seen.
    pub last_closed_ms: Option<i64>,
    /// When market data of the pair last arrived (wall clock of this process).
    pub last_data: Option<Instant>,
    /// The forming candle's close (the last price).
    pub last_price: Option<Decimal>,
    /// Consecutive failed polls.
    pub failures: u32,
}

/// The runtime: an engine, a venue and a store, and what joins them.
pub struct Runtime<V: Venue> {
    pub(crate) venue: V,
    pub(crate) store: Store,
    pub(crate) opts: RuntimeOptions,
    pub(crate) bot_id: String,
    pub(crate) timeframe: Timeframe,
    /// The pairs' feeds (a `Vec<Feed>` to read) and the kline stream when streaming.
    pub(crate) feeds: market::Feeds,
    pub(crate) engine: Engine,
    /// Orders not final yet, by client order id.
    pub(crate) working: BTreeMap<ClientOrderId, Working>,
    /// Commands the engine asked for that are not carried out yet.
    pub(crate) pending: VecDeque<Command>,
    /// Venue clock minus the local wall clock, ms.
    pub(crate) clock_offset_ms: i64,
    pub(crate) kill_switch: KillSwitchRecord,
    /// The operator's stop/start of new entries, as last read from the store.
    pub(crate) entries: EntriesRecord,
    /// Where the operator surface of this process reads the bot ([`Runtime::publish_to`]).
    pub(crate) publish: Option<watch::Sender<Arc<LiveView>>>,
    pub(crate) saved_risk: Option<serde_json::Value>,
    pub(crate) saved_triggers: Option<serde_json::Value>,
    pub(crate) stats: RuntimeStats,
    pub(crate) day: crate::status::DayTracker,
    pub(crate) latency: LatencyStats,
    pub(crate) reconciliation: ReconcileReport,
    pub(crate) started_at_ms: i64,
    pub(crate) last_status: Option<Instant>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// When the newest closed candle of the current tick arrived (the start of the
    /// candle-to-wire latency).
    pub(crate) candle_seen: Option<Instant>,
    /// Reconciliation at start: venue reports are stored, the engine is not told (it is
    /// rebuilt from the store afterwards).
    pub(crate) reconciling: bool,
    /// The bot's lock: nobody else runs this bot while it is held.
    pub(crate) lock: BotLock,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Ticks run.
    pub ticks: u64,
    /// Orders sent to the venue.
    pub orders_sent: u64,
    /// Fills stored.
    pub fills: u64,
}

impl<V: Venue> Runtime<V> {
    /// The venue's clock now (the local clock corrected by the offset measured at start).
    pub fn now_ms(&self) -> i64 {
        wall_ms() + self.clock_offset_ms
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The venue.
    pub fn venue(&self) -> &V {
        &self.venue
    }

    /// The engine (books, risk, strategy).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The report of the reconciliation done at start.
    pub fn reconciliation(&self) -> &ReconcileReport {
        &self.reconciliation
    }

    /// Orders that are not final yet.
    pub fn working_orders(&self) -> impl Iterator<Item = (&ClientOrderId, &Working)> {
        self.working.iter()
    }

    /// Counters since start.
    pub fn stats(&self) -> &RuntimeStats {
        &self.stats
    }

    /// Closed candle → order on the wire, including the durable intent write.
    pub fn latency(&self) -> &LatencyStats {
        &self.latency
    }

    /// Whether trading is halted by the kill switch.
    pub fn halted(&self) -> bool {
        self.kill_switch.engaged
    }

    /// Whether an operator stopped new entries.
    pub fn entries_paused(&self) -> bool {
        self.entries.paused
    }

    /// Publishes a [`LiveView`] of the bot into `tx` now and after every tick, for the
    /// operator surface (API, dashboard, metrics) running in the same process.
    pub fn publish_to(&mut self, tx: watch::Sender<Arc<LiveView>>) {
        tx.send_replace(Arc::new(LiveView::build(self)));
        self.publish = Some(tx);
    }

    fn publish(&self) {
        if let Some(tx) = &self.publish {
            tx.send_replace(Arc::new(LiveView::build(self)));
        }
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Runs ticks until the shutdown signal, then stops gracefully: no new entries, working
    /// entries cancelled if configured, every write finished.
    pub async fn run(mut self) -> Result<RunSummary, RuntimeError> {
        let interval = Duration::from_millis(self.opts.bot.poll_interval_ms);
        let mut shutdown = self.shutdown.clone();
        while !self.stopping() {
            let started = Instant::now();
            self.tick().await?;
            let rest = interval.saturating_sub(started.elapsed());
            tokio::select! {
                _ = tokio::time::sleep(rest) => {}
                _ = shutdown.changed() => {}
            }
        }
        self.stop().await
    }

    /// One iteration of the loop (see the module documentation).
    pub async fn tick(&mut self) -> Result<(), RuntimeError> {
        self.stats.ticks += 1;
        if !self.relock().await? {
            return Ok(());
        }
        self.apply_stored_controls().await?;
        let closed = self.poll_market().await;
        let sync_first = self.venue.fills_from_candles();
        if sync_first {
            self.sync_working().await?;
        }
        let now = self.now_ms();
        let mut out = Vec::new();
        // Protection first (prices of the closed candles since it was armed, then the last
        // price), then the books, then the strategy.
        for (pair, candles) in closed.iter().enumerate() {
            for c in candles {
                let armed_before = self
                    .engine
                    .triggers(pair)
                    .is_some_and(|t: &Triggers| t.armed_at_ms <= c.open_time_ms);
                if armed_before {
                    self.engine.on_price(pair, c.low, c.high, now, &mut out);
                }
                self.engine.observe_close(pair, c);
            }
            if let Some(p) = self.feeds[pair].last_price {
                self.engine.on_price(pair, p, p, now, &mut out);
            }
        }
        self.engine.mark(now);
        if let Some(done) = self.day.on_equity(now, self.engine.equity()) {
            self.store_day(done).await;
        }
        // The point is taken here, at the marked books, but written after the tick's orders
        // left: its commit is not in the way from the candle to the wire.
        let equity_point = (closed.iter().any(|c| !c.is_empty()) || self.stats.ticks == 1)
            .then(|| (self.engine.equity(), self.engine.cash()));
        if !self.stopping() {
            for (pair, candles) in closed.iter().enumerate() {
                for c in candles {
                    let ohlcv = Ohlcv::from_candle(c);
                    self.engine.on_bar_at(pair, c, &ohlcv, now, &mut out);
                }
            }
        }
        self.engine.sweep_dust(now, &mut out);
        self.check_automatic_kill_switch(&mut out).await?;
        self.pending.extend(out);
        self.execute_pending().await?;
        self.candle_seen = None;
        if !sync_first {
            self.sync_working().await?;
        }
        if let Some((equity, cash)) = equity_point {
            self.store_equity_point(now, equity, cash).await;
        }
        // The engine's closed round trips go to the day's row; none is kept in memory.
        for t in self.engine.take_trades() {
            self.stats.trades_closed += 1;
            self.stats.realised_pnl += t.pnl;
            if t.exit_reason == "dust" {
                self.stats.dust_closed += 1;
            }
            self.day.on_trade(&t);
        }
        if self.day.dirty
            && let Some(row) = self.day.row.clone()
        {
            self.store_day(row).await;
        }
        self.store_closed_candles(&closed).await;
        self.save_state(false).await?;
        self.publish();
        Ok(())
    }

    /// Makes sure the bot's lock is still held (a PostgreSQL session lock dies with its
    /// connection): re-takes it when lost. `false`: not held now, so nothing may be sent this
    /// tick. Another process holding it now is fatal.
    async fn relock(&mut self) -> Result<bool, RuntimeError> {
        if self.lock.is_held() {
            return Ok(true);
        }
        match self
            .store
            .lock_bot_waiting(&self.bot_id, LOCK_PATIENCE)
            .await
        {
            Ok(lock) => {
                tracing::warn!(bot = %self.bot_id, "the bot's lock was lost with its connection: taken again");
                self.lock = lock;
                Ok(true)
            }
            Err(e @ aurum_store::StoreError::BotLocked { .. }) => Err(e.into()),
            Err(e) => {
                self.stats.store_errors += 1;
                tracing::warn!(error = %e, "the bot's lock is lost and cannot be taken again yet: not trading");
                Ok(false)
            }
        }
    }

    /// Stores a day's performance row (best effort: retried when it changes again).
    async fn store_day(&mut self, day: aurum_store::DailyPerformance) {
        let current = self.day.row.as_ref().is_some_and(|r| r.day == day.day);
        let op = WriteOp::PerformanceDay {
            bot_id: self.bot_id.clone(),
            day,
        };
        match self.store.write(op).await {
            Ok(_) if current => self.day.dirty = false,
            Ok(_) => {}
            Err(e) => {
                self.stats.store_errors += 1;
                tracing::warn!(error = %e, "storing the day's performance failed");
            }
        }
    }

    /// Stores a point of the equity curve (best effort, like the candles: counted when it
    /// fails).
    async fn store_equity_point(&mut self, now: i64, equity: Money, cash: Money) {
        let op = WriteOp::EquityPoint {
            bot_id: self.bot_id.clone(),
            ts_ms: now,
            equity,
            cash,
        };
        if let Err(e) = self.store.write(op).await {
            self.stats.store_errors += 1;
            tracing::warn!(error = %e, "storing the equity point failed");
        }
    }

    /// Stores the closed candles in `market_data` (best effort: a failure is counted, the
    /// candles are not needed for trading).
    async fn store_closed_candles(&mut self, closed: &[Vec<Candle>]) {
        for (pair, candles) in closed.iter().enumerate() {
            if candles.is_empty() {
                continue;
            }
            let op = WriteOp::Candles {
                symbol: self.feeds[pair].symbol.clone(),
                timeframe: self.timeframe,
                candles: candles.clone(),
            };
            if let Err(e) = self.store.write(op).await {
                self.stats.store_errors += 1;
                tracing::warn!(error = %e, "storing candles failed");
            }
        }
    }

    /// Reads the operator's controls from the store (the kill switch, the stop/start of
    /// entries) and applies what changed elsewhere (CLI, API).
    async fn apply_stored_controls(&mut self) -> Result<(), RuntimeError> {
        let all = match self.store.engine_state(&self.bot_id).await {
            Ok(all) => all,
            Err(e) => {
                self.stats.store_errors += 1;
                tracing::warn!(error = %e, "reading the kill switch failed");
                return Ok(());
            }
        };
        let entries: EntriesRecord =
            control::state_value(&all, &self.bot_id, ENTRIES_KEY)?.unwrap_or_default();
        if entries != self.entries {
            tracing::warn!(paused = entries.paused, source = %entries.source, "new entries {}", if entries.paused { "stopped" } else { "started" });
            self.engine.risk_mut().set_entries_paused(entries.paused);
            self.entries = entries;
        }
        let stored: KillSwitchRecord =
            control::state_value(&all, &self.bot_id, KILL_SWITCH_KEY)?.unwrap_or_default();
        if stored == self.kill_switch {
            return Ok(());
        }
        let now = self.now_ms();
        let mut out = Vec::new();
        if stored.engaged && !self.engine.risk().kill_switch_engaged() {
            let reason = stored
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            tracing::warn!(%reason, source = %stored.source, "kill switch engaged");
            self.engine
                .engage_kill_switch(&reason, now, stored.close_positions, &mut out);
        } else if !stored.engaged && self.engine.risk().kill_switch_engaged() {
            tracing::warn!(source = %stored.source, "kill switch reset");
            self.engine.reset_kill_switch(now, &mut out);
        }
        self.kill_switch = stored;
        self.pending.extend(out);
        self.execute_pending().await?;
        self.save_state(true).await
    }

    /// The risk manager engaged the kill switch by itself (a hard drawdown): cancel, close if
    /// configured, and store the switch so that a restart keeps it.
    async fn check_automatic_kill_switch(
        &mut self,
        out: &mut Vec<Command>,
    ) -> Result<(), RuntimeError> {
        if !self.engine.risk().kill_switch_engaged() || self.kill_switch.engaged {
            return Ok(());
        }
        let reason = self
            .engine
            .risk()
            .state()
            .kill_switch
            .reason
            .clone()
            .unwrap_or_else(|| "risk manager".into());
        self.engage_kill_switch(&reason, "risk", self.opts.risk.close_on_kill, out)
            .await
    }

    /// Engages the kill switch from inside the runtime (risk manager, reconciliation) and
    /// stores it.
    pub(crate) async fn engage_kill_switch(
        &mut self,
        reason: &str,
        source: &str,
        close_positions: bool,
        out: &mut Vec<Command>,
    ) -> Result<(), RuntimeError> {
        let now = self.now_ms();
        tracing::error!(%reason, %source, "kill switch engaged automatically");
        self.engine
            .engage_kill_switch(reason, now, close_positions, out);
        let record = KillSwitchRecord::engaged(reason, source, close_positions, now);
        control::set_kill_switch(&self.store, &self.bot_id, &record).await?;
        self.kill_switch = record;
        Ok(())
    }

    /// Stores the risk state and the protection levels when they changed, and the status
    /// heartbeat at most once a second (`force`: now).
    pub(crate) async fn save_state(&mut self, force: bool) -> Result<(), RuntimeError> {
        let now = self.now_ms();
        let risk = serde_json::to_value(self.engine.risk().state()).unwrap_or_default();
        if self.saved_risk.as_ref() != Some(&risk) {
            match control::write_state(&self.store, &self.bot_id, RISK_KEY, &risk, now).await {
                Ok(()) => self.saved_risk = Some(risk),
                Err(e) => self.note_store_error("saving the risk state", e)?,
            }
        }
        let triggers: BTreeMap<String, Triggers> = (0..self.feeds.len())
            .filter_map(|p| Some((self.feeds[p].symbol.to_string(), *self.engine.triggers(p)?)))
            .collect();
        let triggers = serde_json::to_value(triggers).unwrap_or_default();
        if self.saved_triggers.as_ref() != Some(&triggers) {
            match control::write_state(&self.store, &self.bot_id, TRIGGERS_KEY, &triggers, now)
                .await
            {
                Ok(()) => self.saved_triggers = Some(triggers),
                Err(e) => self.note_store_error("saving the protection levels", e)?,
            }
        }
        let due = self
            .last_status
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if force || due {
            let status = self.status("trading");
            match control::write_state(&self.store, &self.bot_id, STATUS_KEY, &status, now).await {
                Ok(()) => self.last_status = Some(Instant::now()),
                Err(e) => self.note_store_error("saving the status", e)?,
            }
        }
        Ok(())
    }

    /// A store failure inside the loop: counted and logged, retried at the next tick; a bad
    /// state value is returned.
    pub(crate) fn note_store_error(
        &mut self,
        what: &str,
        e: RuntimeError,
    ) -> Result<(), RuntimeError> {
        match e {
            RuntimeError::Store(e) => {
                self.stats.store_errors += 1;
                tracing::warn!(error = %e, "{what} failed; retrying at the next tick");
                Ok(())
            }
            other => Err(other),
        }
    }

    /// The status as `aurum status` and the API show it.
    pub fn status(&self, state: &str) -> RuntimeStatus {
        RuntimeStatus::build(self, state)
    }

    /// The graceful stop: no new entries; working entries cancelled when configured; state
    /// stored; the store closed after its queued writes.
    async fn stop(mut self) -> Result<RunSummary, RuntimeError> {
        tracing::info!("stopping: no new entries");
        if self.opts.bot.cancel_entries_on_shutdown {
            let entries: Vec<_> = self
                .working
                .iter()
                .filter(|(_, w)| w.is_entry())
                .map(|(id, w)| Command::Cancel {
                    pair: w.pair,
                    id: id.clone(),
                })
                .collect();
            self.pending.extend(entries);
            self.execute_pending().await?;
        }
        self.save_state(true).await?;
        let now = self.now_ms();
        let status = self.status("stopped");
        if let Err(e) =
            control::write_state(&self.store, &self.bot_id, STATUS_KEY, &status, now).await
        {
            tracing::warn!(error = %e, "saving the final status failed");
        }
        let summary = RunSummary {
            ticks: self.stats.ticks,
            orders_sent: self.stats.orders_sent,
            fills: self.stats.fills,
        };
        let store = self.store.clone();
        drop(self);
        store.close().await;
        Ok(summary)
    }
}
