//! The changes of a whole batch, grouped per table with one final row per key where rows are
//! updated: what both backends' set-based batch writes consume.

use crate::model::{
    BacktestRunRecord, BotSpec, DailyPerformance, FillRecord, OptimizeRunRecord, OrderRecord,
    PositionRecord,
};
use crate::plan::{Change, NewEventRow, NewLedgerRow};
use aurum_core::{Asset, Candle, ClientOrderId, Money};
use std::collections::{BTreeMap, HashMap};

/// The changes of a batch, collapsed to one final row per key where rows are updated.
#[derive(Default)]
pub(crate) struct Grouped<'a> {
    pub(crate) bots: Vec<&'a BotSpec>,
    pub(crate) new_orders: Vec<ClientOrderId>,
    pub(crate) orders: HashMap<ClientOrderId, &'a OrderRecord>,
    pub(crate) events: Vec<&'a NewEventRow>,
    pub(crate) fills: Vec<&'a FillRecord>,
    pub(crate) new_positions: BTreeMap<(String, String, i64), &'a PositionRecord>,
    pub(crate) positions: BTreeMap<(String, String, i64), &'a PositionRecord>,
    pub(crate) ledger: Vec<&'a NewLedgerRow>,
    pub(crate) balances: BTreeMap<(String, Asset), (Money, i64)>,
    pub(crate) engine_state: BTreeMap<(String, String), (&'a serde_json::Value, i64)>,
    pub(crate) candles: BTreeMap<(String, &'static str, i64), &'a Candle>,
    pub(crate) days: BTreeMap<(String, String), &'a DailyPerformance>,
    /// Equity points by `(bot_id, ts_ms)`: the last one written for a key wins (an upsert).
    pub(crate) equity: BTreeMap<(String, i64), (Money, Money)>,
    pub(crate) runs: Vec<&'a BacktestRunRecord>,
    pub(crate) optimizations: Vec<&'a OptimizeRunRecord>,
}

pub(crate) fn group(changes: &[Change]) -> Grouped<'_> {
    let mut g = Grouped::default();
    for c in changes {
        match c {
            Change::UpsertBot(b) => g.bots.push(b),
            Change::InsertOrder(o) => {
                g.new_orders.push(o.intent.client_order_id.clone());
                g.orders.insert(o.intent.client_order_id.clone(), o);
            }
            Change::UpdateOrder(o) => {
                g.orders.insert(o.intent.client_order_id.clone(), o);
            }
            Change::InsertEvent(e) => g.events.push(e),
            Change::InsertFill(f) => g.fills.push(f),
            Change::UpsertPosition { record, is_new } => {
                let key = (
                    record.bot_id.clone(),
                    record.position.symbol.to_string(),
                    record.seq,
                );
                if *is_new || g.new_positions.contains_key(&key) {
                    g.new_positions.insert(key, record);
                } else {
                    g.positions.insert(key, record);
                }
            }
            Change::InsertLedger(l) => g.ledger.push(l),
            Change::SetBalance {
                bot_id,
                asset,
                amount,
                ts_ms,
            } => {
                g.balances
                    .insert((bot_id.clone(), asset.clone()), (*amount, *ts_ms));
            }
            Change::SetEngineState {
                bot_id,
                key,
                value,
                ts_ms,
            } => {
                g.engine_state
                    .insert((bot_id.clone(), key.clone()), (value, *ts_ms));
            }
            Change::UpsertCandles {
                symbol,
                timeframe,
                candles,
            } => {
                for c in candles {
                    g.candles
                        .insert((symbol.to_string(), timeframe.as_str(), c.open_time_ms), c);
                }
            }
            Change::UpsertPerformanceDay { bot_id, day } => {
                g.days.insert((bot_id.clone(), day.day.clone()), day);
            }
            Change::UpsertEquityPoint {
                bot_id,
                ts_ms,
                equity,
                cash,
            } => {
                g.equity.insert((bot_id.clone(), *ts_ms), (*equity, *cash));
            }
            Change::InsertBacktestRun(r) => g.runs.push(r),
            Change::InsertOptimizeRun(r) => g.optimizations.push(r),
        }
    }
    g
}
