//! The rules of every write, independent of the database: a request plus the current rows it
//! touches become a list of row changes, or a refusal that changes nothing.
//!
//! Both backends run this same planner inside their write transaction. SQLite loads the rows a
//! request needs on its single connection as it goes; PostgreSQL loads the rows of a whole batch
//! at once (`FOR UPDATE`) and writes the changes of the batch with set-based statements. The
//! [`Overlay`] caches the rows loaded so far and absorbs the changes of each request that
//! succeeded, so later requests of the same batch see them.

use crate::error::{Result, StoreError};
use crate::model::{
    BacktestRunRecord, BotSpec, DailyPerformance, FillRecord, OptimizeRunRecord, OrderRecord,
    PositionRecord,
};
use crate::ops::{FillOutcome, WriteOp, WriteOutcome};
use aurum_core::portfolio::fill_effects;
use aurum_core::{
    Asset, Candle, ClientOrderId, Decimal, Fill, LedgerEntry, LedgerKind, Money, OrderStatus,
    Position, Symbol, Timeframe,
};
use std::collections::HashMap;

/// The open position of a pair (if any) and the highest holding-period number used so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PositionSlot {
    /// The open holding and its `seq`.
    pub open: Option<(i64, Position)>,
    /// Highest `seq` stored for the pair (0 when none).
    pub last_seq: i64,
}

/// Where the planner reads current rows from, inside the write transaction.
pub(crate) trait StateSource {
    /// Whether the bot is registered.
    fn bot_exists(&mut self, bot_id: &str) -> Result<bool>;
    /// The order with this client order id.
    fn order(&mut self, id: &ClientOrderId) -> Result<Option<OrderRecord>>;
    /// The open position of a pair and its last `seq`.
    fn position_slot(&mut self, bot_id: &str, symbol: &Symbol) -> Result<PositionSlot>;
    /// The balance of an asset (zero when none).
    fn balance(&mut self, bot_id: &str, asset: &Asset) -> Result<Money>;
    /// A stored fill by its order and venue trade id.
    fn fill(&mut self, order: &ClientOrderId, trade_id: &str) -> Result<Option<Fill>>;
}

/// A ledger row to append (its id is assigned by the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewLedgerRow {
    pub bot_id: String,
    pub entry: LedgerEntry,
    pub symbol: Option<String>,
    pub trade_id: Option<String>,
    pub note: Option<String>,
}

/// An order event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewEventRow {
    pub client_order_id: ClientOrderId,
    pub bot_id: String,
    pub status: OrderStatus,
    pub exchange_order_id: Option<String>,
    pub detail: Option<String>,
    pub ts_ms: i64,
}

/// One row change. Order and position changes carry the whole row after the change, so a
/// backend may write either the changed columns or the full row.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    UpsertBot(BotSpec),
    InsertOrder(OrderRecord),
    UpdateOrder(OrderRecord),
    InsertEvent(NewEventRow),
    InsertFill(FillRecord),
    UpsertPosition {
        record: PositionRecord,
        is_new: bool,
    },
    InsertLedger(NewLedgerRow),
    SetBalance {
        bot_id: String,
        asset: Asset,
        amount: Money,
        ts_ms: i64,
    },
    SetEngineState {
        bot_id: String,
        key: String,
        value: serde_json::Value,
        ts_ms: i64,
    },
    UpsertCandles {
        symbol: Symbol,
        timeframe: Timeframe,
        candles: Vec<Candle>,
    },
    UpsertPerformanceDay {
        bot_id: String,
        day: DailyPerformance,
    },
    UpsertEquityPoint {
        bot_id: String,
        ts_ms: i64,
        equity: Money,
        cash: Money,
    },
    InsertBacktestRun(Box<BacktestRunRecord>),
    InsertOptimizeRun(Box<OptimizeRunRecord>),
}

/// Rows loaded or changed so far in the current transaction.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    bots: HashMap<String, bool>,
    orders: HashMap<ClientOrderId, Option<OrderRecord>>,
    positions: HashMap<(String, Symbol), PositionSlot>,
    balances: HashMap<(String, Asset), Money>,
    fills: HashMap<(ClientOrderId, String), Option<Fill>>,
}

impl Overlay {
    /// How many rows it holds (to bound a long-lived cache).
    pub fn len(&self) -> usize {
        self.bots.len()
            + self.orders.len()
            + self.positions.len()
            + self.balances.len()
            + self.fills.len()
    }

    /// Keeps a long-lived cache within `limit` rows: past it, the rows that are not written
    /// again (fills, final orders, the answers "no such row") go first; the hot rows (bots,
    /// positions, balances, working orders) stay unless they alone are over the limit.
    pub fn trim(&mut self, limit: usize) {
        if self.len() <= limit {
            return;
        }
        self.fills.clear();
        self.orders
            .retain(|_, o| o.as_ref().is_some_and(|o| !o.status.is_final()));
        if self.len() > limit {
            self.clear();
        }
    }

    /// Forgets everything (another connection changed the database, or a batch failed).
    pub fn clear(&mut self) {
        *self = Overlay::default();
    }

    /// Seeds what a batch loader found (PostgreSQL loads a whole batch up front).
    pub fn seed_bot(&mut self, bot_id: String, exists: bool) {
        self.bots.insert(bot_id, exists);
    }
    /// Seeds an order (or its absence).
    pub fn seed_order(&mut self, id: ClientOrderId, row: Option<OrderRecord>) {
        self.orders.insert(id, row);
    }
    /// Seeds a position slot.
    pub fn seed_position(&mut self, bot_id: String, symbol: Symbol, slot: PositionSlot) {
        self.positions.insert((bot_id, symbol), slot);
    }
    /// Seeds a balance.
    pub fn seed_balance(&mut self, bot_id: String, asset: Asset, amount: Money) {
        self.balances.insert((bot_id, asset), amount);
    }
    /// Seeds a fill (or its absence).
    pub fn seed_fill(&mut self, order: ClientOrderId, trade_id: String, fill: Option<Fill>) {
        self.fills.insert((order, trade_id), fill);
    }

    fn bot_exists(&mut self, src: &mut dyn StateSource, bot_id: &str) -> Result<bool> {
        if let Some(v) = self.bots.get(bot_id) {
            return Ok(*v);
        }
        let v = src.bot_exists(bot_id)?;
        self.bots.insert(bot_id.to_string(), v);
        Ok(v)
    }

    fn order(
        &mut self,
        src: &mut dyn StateSource,
        id: &ClientOrderId,
    ) -> Result<Option<OrderRecord>> {
        if let Some(v) = self.orders.get(id) {
            return Ok(v.clone());
        }
        let v = src.order(id)?;
        self.orders.insert(id.clone(), v.clone());
        Ok(v)
    }

    fn position_slot(
        &mut self,
        src: &mut dyn StateSource,
        bot_id: &str,
        symbol: &Symbol,
    ) -> Result<PositionSlot> {
        let key = (bot_id.to_string(), symbol.clone());
        if let Some(v) = self.positions.get(&key) {
            return Ok(v.clone());
        }
        let v = src.position_slot(bot_id, symbol)?;
        self.positions.insert(key, v.clone());
        Ok(v)
    }

    fn balance(&mut self, src: &mut dyn StateSource, bot_id: &str, asset: &Asset) -> Result<Money> {
        let key = (bot_id.to_string(), asset.clone());
        if let Some(v) = self.balances.get(&key) {
            return Ok(*v);
        }
        let v = src.balance(bot_id, asset)?;
        self.balances.insert(key, v);
        Ok(v)
    }

    fn fill(
        &mut self,
        src: &mut dyn StateSource,
        order: &ClientOrderId,
        trade_id: &str,
    ) -> Result<Option<Fill>> {
        let key = (order.clone(), trade_id.to_string());
        if let Some(v) = self.fills.get(&key) {
            return Ok(v.clone());
        }
        let v = src.fill(order, trade_id)?;
        self.fills.insert(key, v.clone());
        Ok(v)
    }

    /// Makes the changes of a request that was written successfully visible to later requests.
    pub fn absorb(&mut self, changes: &[Change]) {
        for c in changes {
            match c {
                Change::UpsertBot(b) => {
                    self.bots.insert(b.bot_id.clone(), true);
                }
                Change::InsertOrder(o) | Change::UpdateOrder(o) => {
                    self.orders
                        .insert(o.intent.client_order_id.clone(), Some(o.clone()));
                }
                Change::InsertFill(f) => {
                    let key = (f.fill.client_order_id.clone(), f.fill.trade_id.clone());
                    self.fills.insert(key, Some(f.fill.clone()));
                }
                Change::UpsertPosition { record, .. } => {
                    let key = (record.bot_id.clone(), record.position.symbol.clone());
                    let slot = PositionSlot {
                        open: (!record.position.is_closed())
                            .then(|| (record.seq, record.position.clone())),
                        last_seq: record.seq,
                    };
                    self.positions.insert(key, slot);
                }
                Change::SetBalance {
                    bot_id,
                    asset,
                    amount,
                    ..
                } => {
                    self.balances
                        .insert((bot_id.clone(), asset.clone()), *amount);
                }
                Change::InsertEvent(_)
                | Change::InsertLedger(_)
                | Change::SetEngineState { .. }
                | Change::UpsertCandles { .. }
                | Change::UpsertPerformanceDay { .. }
                | Change::UpsertEquityPoint { .. }
                | Change::InsertBacktestRun(_)
                | Change::InsertOptimizeRun(_) => {}
            }
        }
    }
}

/// A planned request: its acknowledgement and the rows to write.
#[derive(Debug)]
pub(crate) struct Planned {
    pub outcome: WriteOutcome,
    pub changes: Vec<Change>,
}

fn rejected(msg: String) -> StoreError {
    StoreError::Rejected(msg)
}

fn require_bot(ov: &mut Overlay, src: &mut dyn StateSource, bot_id: &str) -> Result<()> {
    if ov.bot_exists(src, bot_id)? {
        Ok(())
    } else {
        Err(rejected(format!(
            "unknown bot {bot_id:?}: register it before writing its data"
        )))
    }
}

/// Plans one request against the current rows. Changes nothing on error; the caller writes the
/// changes and, once they are written, calls [`Overlay::absorb`].
pub(crate) fn plan(op: &WriteOp, src: &mut dyn StateSource, ov: &mut Overlay) -> Result<Planned> {
    let done = |changes| {
        Ok(Planned {
            outcome: WriteOutcome::Done,
            changes,
        })
    };
    match op {
        WriteOp::UpsertBot(spec) => {
            if spec.bot_id.trim().is_empty() {
                return Err(rejected("bot id must not be empty".into()));
            }
            done(vec![Change::UpsertBot(spec.clone())])
        }
        WriteOp::OrderIntent {
            bot_id,
            intent,
            meta,
        } => {
            intent.validate().map_err(|e| rejected(e.to_string()))?;
            require_bot(ov, src, bot_id)?;
            if let Some(existing) = ov.order(src, &intent.client_order_id)? {
                // The intent decides whether it is a retry; the retry's meta is ignored.
                if &existing.bot_id == bot_id && &existing.intent == intent {
                    return Ok(Planned {
                        outcome: WriteOutcome::AlreadyRecorded,
                        changes: vec![],
                    });
                }
                return Err(rejected(format!(
                    "client order id {} is already used by another order (bot {}, {} {} {})",
                    intent.client_order_id,
                    existing.bot_id,
                    existing.intent.side,
                    existing.intent.order_type,
                    existing.intent.symbol
                )));
            }
            let record = OrderRecord {
                bot_id: bot_id.clone(),
                intent: intent.clone(),
                status: OrderStatus::New,
                exchange_order_id: None,
                filled_qty: Decimal::ZERO,
                filled_quote: Decimal::ZERO,
                updated_at_ms: intent.created_at_ms,
                meta: meta.clone(),
            };
            let event = NewEventRow {
                client_order_id: intent.client_order_id.clone(),
                bot_id: bot_id.clone(),
                status: OrderStatus::New,
                exchange_order_id: None,
                detail: Some("intent stored".into()),
                ts_ms: intent.created_at_ms,
            };
            done(vec![
                Change::InsertOrder(record),
                Change::InsertEvent(event),
            ])
        }
        WriteOp::OrderEvent {
            bot_id,
            client_order_id,
            status,
            exchange_order_id,
            detail,
            ts_ms,
        } => {
            let mut order = owned_order(ov, src, bot_id, client_order_id, "event")?;
            if let (Some(known), Some(given)) = (&order.exchange_order_id, exchange_order_id)
                && known != given
            {
                return Err(rejected(format!(
                    "order {client_order_id}: already maps to exchange order {known}; refusing a second exchange order {given}"
                )));
            }
            let same_id =
                exchange_order_id.is_none() || exchange_order_id == &order.exchange_order_id;
            if *status == order.status && same_id && *status != OrderStatus::PartiallyFilled {
                return Ok(Planned {
                    outcome: WriteOutcome::AlreadyRecorded,
                    changes: vec![],
                });
            }
            order.status =
                order
                    .status
                    .transition(*status)
                    .map_err(|source| StoreError::Transition {
                        client_order_id: client_order_id.to_string(),
                        source,
                    })?;
            if exchange_order_id.is_some() {
                order.exchange_order_id = exchange_order_id.clone();
            }
            order.updated_at_ms = *ts_ms;
            let event = NewEventRow {
                client_order_id: client_order_id.clone(),
                bot_id: bot_id.clone(),
                status: *status,
                exchange_order_id: exchange_order_id.clone(),
                detail: detail.clone(),
                ts_ms: *ts_ms,
            };
            done(vec![Change::UpdateOrder(order), Change::InsertEvent(event)])
        }
        WriteOp::Fill { bot_id, fill } => plan_fill(bot_id, fill, src, ov),
        WriteOp::CloseDust {
            bot_id,
            symbol,
            ts_ms,
        } => plan_close_dust(bot_id, symbol, *ts_ms, src, ov),
        WriteOp::Cash {
            bot_id,
            entry,
            note,
        } => {
            require_bot(ov, src, bot_id)?;
            let sign_ok = match entry.kind {
                LedgerKind::Deposit => entry.amount > Decimal::ZERO,
                LedgerKind::Withdrawal => entry.amount < Decimal::ZERO,
                LedgerKind::Adjustment => !entry.amount.is_zero(),
                LedgerKind::Trade | LedgerKind::Fee => {
                    return Err(rejected(format!(
                        "cash movement of kind {} is not allowed: trades and fees come from fills",
                        entry.kind.as_str()
                    )));
                }
            };
            if !sign_ok {
                return Err(rejected(format!(
                    "{} of {} {}: a deposit must be positive, a withdrawal negative, an adjustment non-zero",
                    entry.kind.as_str(),
                    entry.amount,
                    entry.asset
                )));
            }
            let before = ov.balance(src, bot_id, &entry.asset)?;
            let after = before + entry.amount;
            if after < Decimal::ZERO {
                return Err(rejected(format!(
                    "{} of {} {}: balance is only {before}",
                    entry.kind.as_str(),
                    entry.amount,
                    entry.asset
                )));
            }
            done(vec![
                Change::InsertLedger(NewLedgerRow {
                    bot_id: bot_id.clone(),
                    entry: entry.clone(),
                    symbol: None,
                    trade_id: None,
                    note: note.clone(),
                }),
                Change::SetBalance {
                    bot_id: bot_id.clone(),
                    asset: entry.asset.clone(),
                    amount: after,
                    ts_ms: entry.ts_ms,
                },
            ])
        }
        WriteOp::EngineState {
            bot_id,
            key,
            value,
            ts_ms,
        } => {
            require_bot(ov, src, bot_id)?;
            done(vec![Change::SetEngineState {
                bot_id: bot_id.clone(),
                key: key.clone(),
                value: value.clone(),
                ts_ms: *ts_ms,
            }])
        }
        WriteOp::Candles {
            symbol,
            timeframe,
            candles,
        } => {
            for c in candles {
                c.validate().map_err(|e| {
                    rejected(format!(
                        "candle {symbol} {timeframe} at {}: {e}",
                        c.open_time_ms
                    ))
                })?;
            }
            done(vec![Change::UpsertCandles {
                symbol: symbol.clone(),
                timeframe: *timeframe,
                candles: candles.clone(),
            }])
        }
        WriteOp::PerformanceDay { bot_id, day } => {
            require_bot(ov, src, bot_id)?;
            done(vec![Change::UpsertPerformanceDay {
                bot_id: bot_id.clone(),
                day: day.clone(),
            }])
        }
        WriteOp::EquityPoint {
            bot_id,
            ts_ms,
            equity,
            cash,
        } => {
            require_bot(ov, src, bot_id)?;
            done(vec![Change::UpsertEquityPoint {
                bot_id: bot_id.clone(),
                ts_ms: *ts_ms,
                equity: *equity,
                cash: *cash,
            }])
        }
        WriteOp::BacktestRun(run) => done(vec![Change::InsertBacktestRun(run.clone())]),
        WriteOp::OptimizeRun(run) => done(vec![Change::InsertOptimizeRun(run.clone())]),
    }
}

/// Loads an order and checks that it belongs to the bot.
fn owned_order(
    ov: &mut Overlay,
    src: &mut dyn StateSource,
    bot_id: &str,
    id: &ClientOrderId,
    what: &str,
) -> Result<OrderRecord> {
    let order = ov.order(src, id)?.ok_or_else(|| {
        rejected(format!(
            "{what} for unknown order {id}: store the intent first"
        ))
    })?;
    if order.bot_id != bot_id {
        return Err(rejected(format!(
            "{what} for order {id} of bot {}, not of bot {bot_id}",
            order.bot_id
        )));
    }
    Ok(order)
}

fn plan_fill(
    bot_id: &str,
    fill: &Fill,
    src: &mut dyn StateSource,
    ov: &mut Overlay,
) -> Result<Planned> {
    let mut order = owned_order(
        ov,
        src,
        bot_id,
        &fill.client_order_id,
        &format!("fill {}", fill.trade_id),
    )?;
    if let Some(existing) = ov.fill(src, &fill.client_order_id, &fill.trade_id)? {
        if &existing == fill {
            return Ok(Planned {
                outcome: WriteOutcome::AlreadyRecorded,
                changes: vec![],
            });
        }
        return Err(rejected(format!(
            "fill {} of order {} is already stored with different values; refusing the conflicting copy",
            fill.trade_id, fill.client_order_id
        )));
    }
    if order.intent.symbol != fill.symbol || order.intent.side != fill.side {
        return Err(rejected(format!(
            "fill {} is a {} of {} but order {} is a {} of {}",
            fill.trade_id,
            fill.side,
            fill.symbol,
            fill.client_order_id,
            order.intent.side,
            order.intent.symbol
        )));
    }
    match order.status {
        OrderStatus::Submitted
        | OrderStatus::PartiallyFilled
        | OrderStatus::Cancelled
        | OrderStatus::Expired => {}
        OrderStatus::New => {
            return Err(rejected(format!(
                "fill {} for order {} which is still new: record the venue's acknowledgement (submitted) first",
                fill.trade_id, fill.client_order_id
            )));
        }
        OrderStatus::Filled | OrderStatus::Rejected => {
            return Err(rejected(format!(
                "fill {} for order {} which is {}: refusing it",
                fill.trade_id, fill.client_order_id, order.status
            )));
        }
    }
    let filled_qty = order.filled_qty + fill.quantity;
    if let Some(q) = order.intent.quantity
        && filled_qty > q
    {
        return Err(rejected(format!(
            "fill {} would overfill order {}: {} filled + {} > {}",
            fill.trade_id, fill.client_order_id, order.filled_qty, fill.quantity, q
        )));
    }

    let slot = ov.position_slot(src, bot_id, &fill.symbol)?;
    let mut balances: Vec<(Asset, Money)> = Vec::with_capacity(3);
    for asset in [&fill.symbol.base, &fill.symbol.quote, &fill.fee_asset] {
        if !balances.iter().any(|(a, _)| a == asset) {
            balances.push((asset.clone(), ov.balance(src, bot_id, asset)?));
        }
    }
    let balance_of = |a: &Asset| {
        balances
            .iter()
            .find(|(x, _)| x == a)
            .map(|(_, v)| *v)
            .unwrap_or(Decimal::ZERO)
    };
    let effects = fill_effects(slot.open.as_ref().map(|(_, p)| p), balance_of, fill)?;
    let seq = match (&slot.open, effects.opened) {
        (Some((seq, _)), false) => *seq,
        _ => slot.last_seq + 1,
    };

    let notional = fill.notional().ok_or_else(|| {
        rejected(format!(
            "fill {}: quantity x price does not fit a decimal",
            fill.trade_id
        ))
    })?;
    let status_before = order.status;
    order.filled_qty = filled_qty;
    order.filled_quote += notional;
    order.updated_at_ms = fill.ts_ms;
    if matches!(
        order.status,
        OrderStatus::Submitted | OrderStatus::PartiallyFilled
    ) {
        let complete = order.intent.quantity.is_some_and(|q| filled_qty == q);
        let next = if complete {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        order.status = order
            .status
            .transition(next)
            .map_err(|source| StoreError::Transition {
                client_order_id: fill.client_order_id.to_string(),
                source,
            })?;
    }

    let mut changes = Vec::with_capacity(10);
    changes.push(Change::InsertFill(FillRecord {
        bot_id: bot_id.to_string(),
        fill: fill.clone(),
        realised_pnl: effects.realised_pnl,
        position_seq: seq,
    }));
    changes.push(Change::UpsertPosition {
        record: PositionRecord {
            bot_id: bot_id.to_string(),
            seq,
            position: effects.position.clone(),
        },
        is_new: effects.opened,
    });
    let mut new_balances = balances.clone();
    for entry in &effects.ledger {
        if let Some((_, amount)) = new_balances.iter_mut().find(|(a, _)| a == &entry.asset) {
            *amount += entry.amount;
        }
        changes.push(Change::InsertLedger(NewLedgerRow {
            bot_id: bot_id.to_string(),
            entry: entry.clone(),
            symbol: Some(fill.symbol.to_string()),
            trade_id: Some(fill.trade_id.clone()),
            note: None,
        }));
    }
    for ((asset, after), (_, before)) in new_balances.into_iter().zip(&balances) {
        if after != *before {
            changes.push(Change::SetBalance {
                bot_id: bot_id.to_string(),
                asset,
                amount: after,
                ts_ms: fill.ts_ms,
            });
        }
    }
    // order_events is the status history; the fill row itself records every fill. So a fill
    // adds an event only when it changes the status (first fill, last fill).
    if order.status != status_before {
        changes.push(Change::InsertEvent(NewEventRow {
            client_order_id: fill.client_order_id.clone(),
            bot_id: bot_id.to_string(),
            status: order.status,
            exchange_order_id: None,
            detail: Some(format!(
                "fill {} {} @ {}",
                fill.trade_id, fill.quantity, fill.price
            )),
            ts_ms: fill.ts_ms,
        }));
    }
    let outcome = WriteOutcome::Fill(Box::new(FillOutcome {
        position: effects.position,
        position_seq: seq,
        realised_pnl: effects.realised_pnl,
        order_status: order.status,
    }));
    changes.push(Change::UpdateOrder(order));
    Ok(Planned { outcome, changes })
}

/// Writes the open position of a pair off as dust. No open position is an idempotent retry
/// (the write-off already happened, or there was nothing to write off).
fn plan_close_dust(
    bot_id: &str,
    symbol: &Symbol,
    ts_ms: i64,
    src: &mut dyn StateSource,
    ov: &mut Overlay,
) -> Result<Planned> {
    let slot = ov.position_slot(src, bot_id, symbol)?;
    let Some((seq, open)) = slot.open else {
        return Ok(Planned {
            outcome: WriteOutcome::AlreadyRecorded,
            changes: vec![],
        });
    };
    if ts_ms < open.opened_at_ms {
        return Err(rejected(format!(
            "dust write-off of {symbol} position #{seq} at {ts_ms}: the position opened later, at {}",
            open.opened_at_ms
        )));
    }
    let closed = open.written_off(ts_ms).ok_or_else(|| {
        rejected(format!(
            "dust write-off of {symbol} position #{seq}: it is open but holds {}",
            open.quantity
        ))
    })?;
    let record = PositionRecord {
        bot_id: bot_id.to_string(),
        seq,
        position: closed,
    };
    Ok(Planned {
        outcome: WriteOutcome::DustClosed(Box::new(record.clone())),
        changes: vec![Change::UpsertPosition {
            record,
            is_new: false,
        }],
    })
}

/// The rows a batch of requests will ask the planner for, so a backend can load them all at
/// once. Must list everything [`plan`] reads: a backend that seeds only these and answers any
/// other question with an error would surface a missing key at once in tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct NeededRows {
    pub bots: std::collections::BTreeSet<String>,
    pub orders: std::collections::BTreeSet<ClientOrderId>,
    pub slots: std::collections::BTreeSet<(String, Symbol)>,
    pub balances: std::collections::BTreeSet<(String, Asset)>,
    pub fills: std::collections::BTreeSet<(ClientOrderId, String)>,
}

impl NeededRows {
    /// Collects the keys of every request.
    pub fn of<'a>(ops: impl IntoIterator<Item = &'a WriteOp>) -> Self {
        let mut n = NeededRows::default();
        for op in ops {
            match op {
                WriteOp::UpsertBot(_)
                | WriteOp::Candles { .. }
                | WriteOp::BacktestRun(_)
                | WriteOp::OptimizeRun(_) => {}
                WriteOp::OrderIntent { bot_id, intent, .. } => {
                    n.bots.insert(bot_id.clone());
                    n.orders.insert(intent.client_order_id.clone());
                }
                WriteOp::OrderEvent {
                    client_order_id, ..
                } => {
                    n.orders.insert(client_order_id.clone());
                }
                WriteOp::Fill { bot_id, fill } => {
                    n.orders.insert(fill.client_order_id.clone());
                    n.fills
                        .insert((fill.client_order_id.clone(), fill.trade_id.clone()));
                    n.slots.insert((bot_id.clone(), fill.symbol.clone()));
                    for asset in [&fill.symbol.base, &fill.symbol.quote, &fill.fee_asset] {
                        n.balances.insert((bot_id.clone(), asset.clone()));
                    }
                }
                WriteOp::CloseDust { bot_id, symbol, .. } => {
                    n.slots.insert((bot_id.clone(), symbol.clone()));
                }
                WriteOp::Cash { bot_id, entry, .. } => {
                    n.bots.insert(bot_id.clone());
                    n.balances.insert((bot_id.clone(), entry.asset.clone()));
                }
                WriteOp::EngineState { bot_id, .. }
                | WriteOp::PerformanceDay { bot_id, .. }
                | WriteOp::EquityPoint { bot_id, .. } => {
                    n.bots.insert(bot_id.clone());
                }
            }
        }
        n
    }
}

/// A state source for a fully seeded overlay: any question it gets is a key that
/// [`NeededRows::of`] forgot, reported instead of guessed.
pub(crate) struct SeededOnly;

impl SeededOnly {
    fn missing(what: String) -> StoreError {
        StoreError::Task(format!(
            "internal error: {what} was not loaded before planning"
        ))
    }
}

impl StateSource for SeededOnly {
    fn bot_exists(&mut self, bot_id: &str) -> Result<bool> {
        Err(Self::missing(format!("bot {bot_id}")))
    }
    fn order(&mut self, id: &ClientOrderId) -> Result<Option<OrderRecord>> {
        Err(Self::missing(format!("order {id}")))
    }
    fn position_slot(&mut self, bot_id: &str, symbol: &Symbol) -> Result<PositionSlot> {
        Err(Self::missing(format!("position {bot_id} {symbol}")))
    }
    fn balance(&mut self, bot_id: &str, asset: &Asset) -> Result<Money> {
        Err(Self::missing(format!("balance {bot_id} {asset}")))
    }
    fn fill(&mut self, order: &ClientOrderId, trade_id: &str) -> Result<Option<Fill>> {
        Err(Self::missing(format!("fill {trade_id} of order {order}")))
    }
}

#[cfg(test)]
mod overlay_tests {
    use super::*;

    #[test]
    fn trimming_drops_cold_rows_first_then_everything() {
        let mut ov = Overlay::default();
        ov.seed_bot("b".into(), true);
        for i in 0..5 {
            ov.fills.insert(
                (ClientOrderId::new(&format!("o{i}")).unwrap(), i.to_string()),
                None,
            );
            ov.orders
                .insert(ClientOrderId::new(&format!("o{i}")).unwrap(), None);
        }
        ov.balances
            .insert(("b".into(), Asset::usdt()), Money::ONE_HUNDRED);
        assert_eq!(ov.len(), 12);
        ov.trim(12);
        assert_eq!(ov.len(), 12, "within the limit nothing goes");
        ov.trim(5);
        // Fills and the "no such order" answers went; the bot and the balance stayed.
        assert_eq!((ov.len(), ov.fills.len(), ov.orders.len()), (2, 0, 0));
        ov.trim(1);
        assert_eq!(
            ov.len(),
            0,
            "hot rows alone over the limit: everything goes"
        );
    }
}
