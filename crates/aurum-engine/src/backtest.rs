//! The backtest driver: the engine and the simulated matcher over historical candles.

use crate::engine::{Command, Engine, EngineConfig, EngineError, Rejections};
use crate::matcher::{Matcher, SimFill, SimOrder, SimReject};
use aurum_core::performance::{DailyRow, EquityPoint, Metrics, Trade, compute_metrics, daily_rows};
use aurum_core::{Candle, Decimal, Money, SymbolFilters, Timeframe};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::risk::RiskManager;
use aurum_strategy::strategy::{ExitReason, Strategy};
use std::sync::Arc;

/// One pair's history, prepared once (the f64 view is converted up front so runs, and the
/// optimizer's many runs, do not pay for it per candle).
#[derive(Debug, Clone)]
pub struct PairData {
    /// The pair's venue rules (`SymbolFilters::unrestricted` when it has none).
    pub filters: SymbolFilters,
    /// The candles, oldest first, validated.
    pub candles: Arc<Vec<Candle>>,
    /// The same candles as f64 for indicators.
    pub ohlcv: Arc<Vec<Ohlcv>>,
    /// Where the candles came from (file path or generator), for the record.
    pub source: String,
}

impl PairData {
    /// Prepares a pair's candles.
    pub fn new(
        filters: SymbolFilters,
        candles: Vec<Candle>,
        source: impl Into<String>,
    ) -> PairData {
        let ohlcv = candles.iter().map(Ohlcv::from_candle).collect();
        PairData {
            filters,
            candles: Arc::new(candles),
            ohlcv: Arc::new(ohlcv),
            source: source.into(),
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct BacktestConfig {
    /// Starting quote cash.
    pub cash: Money,
    /// Fee per side on the notional, charged in quote.
    pub fee_rate: Decimal,
    /// Slippage of market fills in basis points.
    pub slippage_bps: u32,
    /// Bar length.
    pub timeframe: Timeframe,
    /// Name used in client order ids.
    pub bot_id: String,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct BacktestOutcome {
    /// Round trips, in exit order.
    pub trades: Vec<Trade>,
    /// Equity at every time step.
    pub equity: Vec<EquityPoint>,
    /// Summary metrics.
    pub metrics: Metrics,
    /// Per UTC day.
    pub daily: Vec<DailyRow>,
    /// Candles processed (all pairs).
    pub candles: u64,
    /// Entries the risk manager refused, by rule.
    pub rejections: Rejections,
    /// Orders the matcher dropped (e.g. nothing affordable), with why.
    pub dropped_orders: Vec<String>,
    /// The strategy's final status (phase, progress...).
    pub strategy_status: serde_json::Value,
    /// The risk manager's final state.
    pub risk_state: serde_json::Value,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// No pairs, or a pair without candles.
    #[error("nothing to backtest: {0}")]
    NoData(String),
    /// The pairs' timestamps do not line up.
    #[error("cannot align the pairs: {0}")]
    Align(String),
    /// The books refused a simulated fill (a bug: reported, never hidden).
    #[error("the books refused a simulated fill: {0}")]
    Engine(#[from] EngineError),
}

/// Feeds the engine's commands to the matcher.
fn apply(matcher: &mut Matcher, commands: &mut Vec<Command>) {
    for c in commands.drain(..) {
        match c {
            Command::Place(p) => matcher.submit(SimOrder {
                id: p.intent.client_order_id,
                pair: p.pair,
                side: p.intent.side,
                kind: p.sim,
                quantity: p.intent.quantity,
                quote_quantity: p.intent.quote_quantity,
            }),
            Command::Cancel { id, .. } => {
                matcher.cancel(&id);
            }
            // Quote fees and step-rounded buys leave no remainders in a backtest; the books
            // already did it anyway.
            Command::CloseDust { .. } => {}
        }
    }
}

struct Run<'a> {
    data: &'a [PairData],
    engine: Engine,
    matcher: Matcher,
    commands: Vec<Command>,
    fills: Vec<SimFill>,
    rejects: Vec<SimReject>,
    dropped: Vec<String>,
}

impl Run<'_> {
    fn settle(&mut self, pair: usize, now_ms: i64) -> Result<(), EngineError> {
        for r in std::mem::take(&mut self.rejects) {
            self.engine
                .on_order_final(pair, &r.id, now_ms, &mut self.commands);
            if self.dropped.len() < 1000 {
                self.dropped.push(format!(
                    "{} {}: {}",
                    self.data[pair].filters.symbol, r.id, r.reason
                ));
            }
        }
        // Every simulated fill completes its order.
        for f in std::mem::take(&mut self.fills) {
            self.engine.on_fill(pair, &f.fill, &mut self.commands)?;
            self.engine.on_order_final(
                pair,
                &f.fill.client_order_id,
                f.fill.ts_ms,
                &mut self.commands,
            );
            apply(&mut self.matcher, &mut self.commands);
        }
        apply(&mut self.matcher, &mut self.commands);
        Ok(())
    }

    /// The fills of one candle: market orders at its open, resting limit entries it reaches,
    /// then protective orders intrabar.
    fn fills_of(&mut self, pair: usize, candle: &Candle) -> Result<(), EngineError> {
        if !self.matcher.has_orders(pair) {
            return Ok(());
        }
        let at = candle.open_time_ms;
        let mut cash = self.engine.cash();
        self.matcher.fill_at_open(
            pair,
            candle,
            &self.data[pair].filters,
            &mut cash,
            &mut self.fills,
            &mut self.rejects,
        );
        self.settle(pair, at)?;
        let mut cash = self.engine.cash();
        self.matcher.fill_limits(
            pair,
            candle,
            &self.data[pair].filters,
            &mut cash,
            &mut self.fills,
            &mut self.rejects,
        );
        self.settle(pair, at)?;
        self.matcher.fill_in_range(
            pair,
            candle,
            &self.data[pair].filters.symbol,
            &mut self.fills,
        );
        self.settle(pair, at)
    }

    fn strategy_on(&mut self, pair: usize, index: usize) {
        let candle = &self.data[pair].candles[index];
        let ohlcv = &self.data[pair].ohlcv[index];
        self.engine.on_bar(pair, candle, ohlcv, &mut self.commands);
        if !self.commands.is_empty() {
            apply(&mut self.matcher, &mut self.commands);
        }
    }
}

/// Runs a backtest. `progress` is called with the number of candles done now and then.
pub fn run(
    data: &[PairData],
    config: &BacktestConfig,
    strategy: Box<dyn Strategy>,
    risk: RiskManager,
    progress: &mut dyn FnMut(u64),
) -> Result<BacktestOutcome, BacktestError> {
    if data.is_empty() {
        return Err(BacktestError::NoData("no pairs".into()));
    }
    if let Some(empty) = data.iter().find(|d| d.candles.is_empty()) {
        return Err(BacktestError::NoData(format!(
            "{} has no candles",
            empty.source
        )));
    }
    let bar_ms = config.timeframe.millis();
    let engine_config = EngineConfig {
        bot_id: config.bot_id.clone(),
        pairs: data.iter().map(|d| d.filters.clone()).collect(),
        fee_rate: config.fee_rate,
        bar_ms,
        execution: crate::engine::Execution::Matcher,
    };
    let mut run = Run {
        data,
        engine: Engine::new(engine_config, strategy, risk, config.cash),
        matcher: Matcher::new(config.fee_rate, config.slippage_bps),
        commands: Vec::new(),
        fills: Vec::new(),
        rejects: Vec::new(),
        dropped: Vec::new(),
    };
    let total: usize = data.iter().map(|d| d.candles.len()).sum();
    let mut equity = Vec::new();
    const PROGRESS_EVERY: usize = 1 << 16;

    if data.len() == 1 {
        // One pair: every candle is a time step.
        let candles = &data[0].candles;
        equity.reserve(candles.len() + 1);
        for (i, candle) in candles.iter().enumerate() {
            run.fills_of(0, candle)?;
            run.engine.observe_close(0, candle);
            equity.push(run.engine.mark(candle.open_time_ms + bar_ms));
            run.strategy_on(0, i);
            if i % PROGRESS_EVERY == PROGRESS_EVERY - 1 {
                progress(i as u64 + 1);
            }
        }
    } else {
        let series: Vec<&[Candle]> = data.iter().map(|d| d.candles.as_slice()).collect();
        let aligned =
            aurum_data::align(&series).map_err(|e| BacktestError::Align(e.to_string()))?;
        equity.reserve(aligned.len() + 1);
        let mut done = 0usize;
        for (ts, row) in aligned.rows() {
            for (pair, idx) in row.iter().enumerate() {
                if let Some(i) = idx {
                    run.fills_of(pair, &data[pair].candles[*i])?;
                }
            }
            for (pair, idx) in row.iter().enumerate() {
                if let Some(i) = idx {
                    run.engine.observe_close(pair, &data[pair].candles[*i]);
                }
            }
            equity.push(run.engine.mark(ts + bar_ms));
            for (pair, idx) in row.iter().enumerate() {
                if let Some(i) = idx {
                    run.strategy_on(pair, *i);
                    done += 1;
                }
            }
            if done / PROGRESS_EVERY != (done.saturating_sub(row.len())) / PROGRESS_EVERY {
                progress(done as u64);
            }
        }
    }

    // End of data: orders still waiting are dropped; open positions are sold at the last close.
    let end_ms = data
        .iter()
        .filter_map(|d| d.candles.last())
        .map(|c| c.open_time_ms + bar_ms)
        .max()
        .unwrap_or(0);
    for (pair, d) in data.iter().enumerate() {
        for id in run.matcher.cancel_pair(pair) {
            run.engine
                .on_order_final(pair, &id, end_ms, &mut run.commands);
        }
        // Nothing may be placed at the end of the data (an entry's protection, say).
        run.commands.clear();
        if !run.engine.is_holding(pair) {
            continue;
        }
        let Some(last) = d.candles.last() else {
            continue;
        };
        run.engine
            .exit(pair, ExitReason::EndOfData, end_ms, &mut run.commands);
        apply(&mut run.matcher, &mut run.commands);
        let mut cash = run.engine.cash();
        run.matcher.fill_market(
            pair,
            last.close,
            false,
            end_ms,
            &d.filters,
            &mut cash,
            &mut run.fills,
            &mut run.rejects,
        );
        run.settle(pair, end_ms)?;
        // Protective orders of the closed position were cancelled by the engine.
        apply(&mut run.matcher, &mut run.commands);
    }
    // The books after the end-of-data exits replace the last step's point (same time).
    let final_point = run.engine.mark(end_ms);
    match equity.last_mut() {
        Some(last) if last.ts_ms == end_ms => *last = final_point,
        _ => equity.push(final_point),
    }
    progress(total as u64);

    let trades = run.engine.take_trades();
    let buy_hold = run.engine.buy_and_hold();
    let metrics = compute_metrics(config.cash, &equity, &trades, &buy_hold);
    let daily = daily_rows(config.cash, &equity, &trades);
    Ok(BacktestOutcome {
        metrics,
        daily,
        candles: total as u64,
        rejections: run.engine.rejections().clone(),
        dropped_orders: run.dropped,
        strategy_status: run.engine.strategy_status(),
        risk_state: serde_json::to_value(run.engine.risk().state())
            .unwrap_or(serde_json::Value::Null),
        trades,
        equity,
    })
}
