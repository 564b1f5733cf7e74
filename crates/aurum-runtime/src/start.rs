//! Starting a runtime: lock the bot, read the venue's clock and rules, register and fund the
//! bot on its first start, reconcile, rebuild the engine from the store, warm the strategy up
//! on history, and apply a kill switch that is still engaged.

use crate::control::{
    self, KILL_SWITCH_KEY, KillSwitchRecord, RECONCILIATION_KEY, RISK_KEY, START_CASH_KEY,
    TRIGGERS_KEY,
};
use crate::error::RuntimeError;
use crate::paper::ResumedOrder;
use crate::reconcile::{ReconcileReport, order_seq};
use crate::runtime::{Feed, Runtime, RuntimeOptions};
use crate::status::{LatencyStats, RuntimeStats};
use crate::venue::{Venue, wall_ms};
use aurum_core::{Asset, Decimal, LedgerEntry, LedgerKind, Money, Portfolio, Side, SymbolFilters};
use aurum_engine::engine::{Engine, EngineConfig, Execution, OrderMeta, Purpose, Triggers};
use aurum_exchange::KlineQuery;
use aurum_store::{BotSpec, Store, WriteOp};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::risk::{RiskManager, RiskState};
use aurum_strategy::strategies::build_strategy;
use std::collections::{BTreeMap, VecDeque};
use tokio::sync::watch;

impl<V: Venue> Runtime<V> {
    /// Starts a bot on `venue` with `store` (see the module documentation). Returns when it
    /// is ready to trade; [`run`](Self::run) then trades until `shutdown` turns true.
    pub async fn start(
        venue: V,
        store: Store,
        opts: RuntimeOptions,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Runtime<V>, RuntimeError> {
        opts.bot.validate()?;
        let bot_id = opts.bot.id.clone();
        let symbols = opts.bot.symbols()?;
        let timeframe = opts.bot.timeframe()?;
        let lock = store
            .lock_bot_waiting(&bot_id, crate::runtime::LOCK_PATIENCE)
            .await?;

        let before = wall_ms();
        let server = venue
            .server_time()
            .await
            .map_err(|e| RuntimeError::venue("reading the venue's clock", e))?;
        let offset = server - (before + wall_ms()) / 2;
        let info = venue
            .exchange_info()
            .await
            .map_err(|e| RuntimeError::venue("reading the venue's trading rules", e))?;
        let mut filters: Vec<SymbolFilters> = Vec::with_capacity(symbols.len());
        for s in &symbols {
            let f = info
                .iter()
                .find(|f| &f.symbol == s)
                .cloned()
                .ok_or_else(|| RuntimeError::UnknownPair(s.to_string()))?;
            filters.push(f);
        }
        let strategy = build_strategy(&opts.bot.strategy, &opts.bot.param_pairs(), &opts.challenge)
            .map_err(|e| RuntimeError::Strategy(e.to_string()))?;
        let stale_after = opts.risk.stale_after_ms_for(timeframe.millis());
        let risk = RiskManager::new(opts.risk.clone(), stale_after)
            .map_err(|e| RuntimeError::Strategy(e.to_string()))?;
        let quote = symbols[0].quote.clone();
        let engine_config = EngineConfig {
            bot_id: bot_id.clone(),
            pairs: filters.clone(),
            fee_rate: opts.fee_rate,
            bar_ms: timeframe.millis(),
            execution: Execution::Venue,
        };
        let strategy_name = strategy.name();
        let provisional = Engine::new(engine_config.clone(), strategy, risk.clone(), Decimal::ZERO);
        let feeds = filters
            .iter()
            .map(|f| Feed {
                symbol: f.symbol.clone(),
                filters: f.clone(),
                last_closed_ms: None,
                last_data: None,
                last_price: None,
                failures: 0,
            })
            .collect();
        let mut rt = Runtime {
            venue,
            store,
            opts,
            bot_id: bot_id.clone(),
            timeframe,
            feeds,
            engine: provisional,
            working: BTreeMap::new(),
            pending: VecDeque::new(),
            clock_offset_ms: offset,
            kill_switch: KillSwitchRecord::default(),
            entries: Default::default(),
            publish: None,
            saved_risk: None,
            saved_triggers: None,
            stats: RuntimeStats::default(),
            day: Default::default(),
            latency: LatencyStats::default(),
            reconciliation: ReconcileReport::default(),
            started_at_ms: server,
            last_status: None,
            shutdown,
            candle_seen: None,
            reconciling: false,
            lock,
        };
        rt.register(strategy_name, &quote).await?;
        rt.fund(&quote).await?;
        rt.resume_venue().await?;

        let report = rt.reconcile().await?;
        control::write_state(&rt.store, &bot_id, RECONCILIATION_KEY, &report, rt.now_ms()).await?;
        if !report.ok {
            tracing::error!(drift = ?report.drift, "reconciliation found differences: trading halted");
        }
        rt.reconciliation = report;

        let strategy = build_strategy(
            &rt.opts.bot.strategy,
            &rt.opts.bot.param_pairs(),
            &rt.opts.challenge,
        )
        .map_err(|e| RuntimeError::Strategy(e.to_string()))?;
        rt.engine = rt.restore_engine(engine_config, strategy, risk).await?;
        rt.warm_up().await?;
        rt.engine.mark(rt.now_ms());

        // A kill switch engaged before the restart stays engaged; drift engages it.
        let stored: KillSwitchRecord = control::read_state(&rt.store, &bot_id, KILL_SWITCH_KEY)
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        let now = rt.now_ms();
        if stored.engaged {
            let reason = stored
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            tracing::warn!(%reason, "the kill switch is engaged: not trading until it is reset");
            rt.engine
                .engage_kill_switch(&reason, now, stored.close_positions, &mut out);
        } else if rt.engine.risk().kill_switch_engaged() {
            // The stored switch is the truth (an operator reset it while the bot was stopped);
            // the risk state restored with the engine follows it.
            rt.engine.reset_kill_switch(now, &mut out);
        }
        rt.kill_switch = stored;
        let entries: control::EntriesRecord =
            control::read_state(&rt.store, &bot_id, control::ENTRIES_KEY)
                .await?
                .unwrap_or_default();
        if entries.paused {
            tracing::warn!("new entries are stopped: start them to enter positions again");
        }
        rt.engine.risk_mut().set_entries_paused(entries.paused);
        rt.entries = entries;
        if !rt.reconciliation.ok && !rt.kill_switch.engaged {
            let reason = format!("reconciliation: {}", rt.reconciliation.drift.join("; "));
            rt.engage_kill_switch(&reason, "reconciliation", false, &mut out)
                .await?;
        }
        rt.pending.extend(out);
        rt.execute_pending().await?;
        rt.save_state(true).await?;
        Ok(rt)
    }

    /// Registers the bot, refusing one stored with another mode.
    async fn register(&mut self, strategy: &str, quote: &Asset) -> Result<(), RuntimeError> {
        let mode = self.venue.mode();
        let existing = self
            .store
            .bots()
            .await?
            .into_iter()
            .find(|b| b.bot_id == self.bot_id);
        if let Some(b) = &existing
            && b.mode != mode
        {
            return Err(RuntimeError::WrongMode {
                bot_id: self.bot_id.clone(),
                stored: b.mode.clone(),
                wanted: mode.to_string(),
            });
        }
        self.store
            .write(WriteOp::UpsertBot(BotSpec {
                bot_id: self.bot_id.clone(),
                mode: mode.to_string(),
                strategy: Some(strategy.to_string()),
                quote_asset: quote.clone(),
                config: Some(self.opts.config_snapshot.clone()),
                created_at_ms: existing.map_or_else(|| self.now_ms(), |b| b.created_at_ms),
            }))
            .await?;
        Ok(())
    }

    /// On the bot's first start: paper deposits its starting cash; live adopts the venue's
    /// balances of the traded assets as the opening ledger.
    async fn fund(&mut self, quote: &Asset) -> Result<(), RuntimeError> {
        if !self.store.ledger(&self.bot_id, 1).await?.is_empty() {
            return Ok(());
        }
        let now = self.now_ms();
        let mut deposits: Vec<(Asset, Money, &str)> = Vec::new();
        match self.opts.start_cash {
            Some(cash) if !self.venue.has_own_balances() => {
                deposits.push((quote.clone(), cash, "paper trading starting cash"));
            }
            _ => {
                let balances = self
                    .venue
                    .balances()
                    .await
                    .map_err(|e| RuntimeError::venue("reading the opening balances", e))?;
                for b in balances {
                    let traded =
                        b.asset == *quote || self.feeds.iter().any(|f| f.symbol.base == b.asset);
                    if traded && b.total() > Decimal::ZERO {
                        deposits.push((b.asset.clone(), b.total(), "opening balance on the venue"));
                    }
                }
            }
        }
        let start_cash = deposits
            .iter()
            .find(|(a, _, _)| a == quote)
            .map_or(Decimal::ZERO, |(_, m, _)| *m);
        for (asset, amount, note) in deposits {
            self.store
                .write(WriteOp::Cash {
                    bot_id: self.bot_id.clone(),
                    entry: LedgerEntry {
                        asset,
                        amount,
                        kind: LedgerKind::Deposit,
                        ts_ms: now,
                    },
                    note: Some(note.to_string()),
                })
                .await?;
        }
        control::write_state(&self.store, &self.bot_id, START_CASH_KEY, &start_cash, now).await?;
        Ok(())
    }

    /// Gives the venue what it needs from the store (the paper account: its balances and the
    /// orders still working).
    async fn resume_venue(&mut self) -> Result<(), RuntimeError> {
        let balances = self.store.balances(&self.bot_id).await?;
        let resumed = self
            .store
            .open_orders(&self.bot_id)
            .await?
            .into_iter()
            .filter_map(|o| {
                Some(ResumedOrder {
                    order_id: o.exchange_order_id.as_deref()?.parse().ok()?,
                    intent: o.intent,
                    filled_qty: o.filled_qty,
                    filled_quote: o.filled_quote,
                })
            })
            .collect();
        let filters: Vec<SymbolFilters> = self.feeds.iter().map(|f| f.filters.clone()).collect();
        self.venue.resume(&filters, &balances, resumed);
        Ok(())
    }

    /// The engine as the store says it is: balances, open positions, order numbers, risk
    /// state, the orders still working with why they exist, and the protection of open
    /// positions.
    async fn restore_engine(
        &mut self,
        config: EngineConfig,
        strategy: Box<dyn aurum_strategy::strategy::Strategy>,
        mut risk: RiskManager,
    ) -> Result<Engine, RuntimeError> {
        let bot = self.bot_id.clone();
        let balances = self.store.balances(&bot).await?;
        let positions = self.store.positions(&bot, true).await?;
        let recent = self.store.orders(&bot, false, 100_000).await?;
        let last_seq = recent
            .iter()
            .filter_map(|o| order_seq(&bot, o.intent.client_order_id.as_str()))
            .max()
            .unwrap_or(0);
        if let Some(mut state) =
            control::read_state::<RiskState>(&self.store, &bot, RISK_KEY).await?
        {
            // Indexed by pair: fresh data will come.
            state.last_close_ms.clear();
            risk.restore(state);
        }
        let start_cash: Money = control::read_state(&self.store, &bot, START_CASH_KEY)
            .await?
            .unwrap_or_default();
        let portfolio =
            Portfolio::from_parts(balances, positions.iter().map(|p| p.position.clone()));
        let mut engine = Engine::restore(config, strategy, risk, portfolio, last_seq, start_cash);
        for (id, w) in &self.working {
            let meta = w.meta.unwrap_or(OrderMeta {
                purpose: if w.intent.side == Side::Buy {
                    Purpose::Entry
                } else {
                    Purpose::Exit(aurum_strategy::strategy::ExitReason::Signal)
                },
                protection: None,
                expire_after_bars: None,
            });
            engine.adopt_order(w.pair, id.clone(), &meta, w.filled);
        }
        let triggers: BTreeMap<String, Triggers> =
            control::read_state(&self.store, &bot, TRIGGERS_KEY)
                .await?
                .unwrap_or_default();
        let fills = self.store.fills(&bot, 100_000).await?;
        let now = self.now_ms();
        for p in &positions {
            let Some(pair) = self
                .feeds
                .iter()
                .position(|f| f.symbol == p.position.symbol)
            else {
                continue;
            };
            // The entry that opened the position: the newest buy of the pair with fills.
            let entry = recent.iter().find(|o| {
                o.intent.symbol == p.position.symbol
                    && o.intent.side == Side::Buy
                    && o.filled_qty > Decimal::ZERO
            });
            let protection = entry
                .and_then(|o| o.meta.clone())
                .and_then(|m| serde_json::from_value::<OrderMeta>(m).ok())
                .and_then(|m| m.protection);
            if let Some(protection) = protection {
                let highest = triggers
                    .get(&p.position.symbol.to_string())
                    .map(|t| t.highest);
                engine.adopt_protection(pair, protection, highest, now);
            }
            let (sold_qty, sold_quote) = fills
                .iter()
                .filter(|f| {
                    f.fill.symbol == p.position.symbol
                        && f.position_seq == p.seq
                        && f.fill.side == Side::Sell
                })
                .fold((Decimal::ZERO, Decimal::ZERO), |(q, m), f| {
                    (q + f.fill.quantity, m + f.fill.quantity * f.fill.price)
                });
            engine.adopt_exit_progress(pair, sold_qty, sold_quote);
        }
        Ok(engine)
    }

    /// Feeds the last closed candles of each pair to the strategy without acting on them.
    async fn warm_up(&mut self) -> Result<(), RuntimeError> {
        let want = self.opts.bot.warmup_candles;
        for pair in 0..self.feeds.len() {
            let query = KlineQuery {
                symbol: self.feeds[pair].symbol.clone(),
                timeframe: self.timeframe,
                start_ms: None,
                end_ms: None,
                limit: Some(want.saturating_add(1).max(2)),
            };
            let klines =
                self.venue.klines(&query).await.map_err(|e| {
                    RuntimeError::venue(format!("warming up on {}", query.symbol), e)
                })?;
            let Some((forming, closed)) = klines.split_last() else {
                continue;
            };
            for k in closed {
                self.engine
                    .warm_up(pair, &k.candle, &Ohlcv::from_candle(&k.candle));
            }
            let feed = &mut self.feeds[pair];
            feed.last_closed_ms = closed.last().map(|k| k.candle.open_time_ms);
            feed.last_price = Some(forming.candle.close);
            feed.last_data = Some(std::time::Instant::now());
        }
        Ok(())
    }
}
