//! The engine: one state machine joining data, strategy, risk, orders, fills and the books.
//!
//! It does no IO and reads no clock: drivers feed it closed candles and fills and carry out the
//! orders it asks for. The backtest driver pairs it with the simulated [`Matcher`]; the paper and
//! live drivers pair it with an exchange and the store. Per time step a driver calls, in order:
//! fills of the step (at the open, then intrabar), [`Engine::mark`] with the closes, then
//! [`Engine::on_bar`] for each pair's closed candle.
//!
//! [`Matcher`]: crate::matcher::Matcher

use crate::matcher::SimKind;
use aurum_core::performance::{EquityPoint, Trade};
use aurum_core::portfolio::AccountingError;
use aurum_core::{
    Asset, Candle, ClientOrderId, Decimal, Fill, Money, OrderIntent, OrderType, Portfolio, Price,
    Side, SymbolFilters,
};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::risk::{EntryRequest, RiskManager, RiskRule};
use aurum_strategy::strategy::{
    Bar, ExitReason, HeldPosition, PairId, Signal, Strategy, StrategyContext,
};
use std::collections::BTreeMap;

/// What the engine trades and how.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Used in client order ids (`au-{bot_id}-{seq}`).
    pub bot_id: String,
    /// The pairs, in [`PairId`] order, with their venue rules.
    pub pairs: Vec<SymbolFilters>,
    /// Taker fee rate (for sizing estimates).
    pub fee_rate: Decimal,
    /// Bar length in ms (a candle opened at `t` closes at `t + bar_ms`).
    pub bar_ms: i64,
}

/// Why an order exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Opens a position.
    Entry,
    /// Closes a position now (market).
    Exit(ExitReason),
    /// Waits to close a position (stop-loss, take-profit, trailing stop).
    Protect(ExitReason),
}

/// An order the engine wants placed. `sim` says how the simulated matcher executes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceOrder {
    /// Which pair.
    pub pair: PairId,
    /// The order as any venue understands it (stored before it is sent).
    pub intent: OrderIntent,
    /// Its simulated execution.
    pub sim: SimKind,
    /// Why it exists.
    pub purpose: Purpose,
}

/// What the engine asks its driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Place an order.
    Place(PlaceOrder),
    /// Cancel an order.
    Cancel {
        /// Which pair.
        pair: PairId,
        /// The order.
        id: ClientOrderId,
    },
}

/// The entry's protective distances, applied to the entry fill price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Protection {
    stop_loss_pct: Option<Decimal>,
    take_profit_pct: Option<Decimal>,
    trailing_stop_pct: Option<Decimal>,
}

/// The engine's view of one pair.
#[derive(Debug, Clone, Default)]
struct PairState {
    last_close: Option<Price>,
    first_close: Option<Price>,
    pending_entry: Option<(ClientOrderId, Protection)>,
    pending_exit: Option<(ClientOrderId, ExitReason)>,
    protective: Vec<(ClientOrderId, ExitReason)>,
    held: Option<HeldPosition>,
    /// The reason of the exit order that is closing the position.
    exit_reason: Option<ExitReason>,
    sold_qty: Decimal,
    sold_quote: Decimal,
}

/// Counters of what the engine refused, by risk rule.
pub type Rejections = BTreeMap<&'static str, u64>;

/// The engine.
pub struct Engine {
    config: EngineConfig,
    quote: Asset,
    strategy: Box<dyn Strategy>,
    risk: RiskManager,
    portfolio: Portfolio,
    pairs: Vec<PairState>,
    seq: u64,
    trades: Vec<Trade>,
    signals: Vec<Signal>,
    rejections: Rejections,
    equity: Money,
    start_cash: Money,
}

/// A fill the books refused (a bug or a venue report that contradicts the books).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The fill broke a spot rule.
    #[error(transparent)]
    Accounting(#[from] AccountingError),
    /// The fill is for an order the engine does not know.
    #[error("fill {trade_id} for unknown order {order}")]
    UnknownOrder {
        /// Venue trade id.
        trade_id: String,
        /// The order id.
        order: ClientOrderId,
    },
}

impl Engine {
    /// An engine with `cash` of the quote asset of the first pair.
    pub fn new(
        config: EngineConfig,
        mut strategy: Box<dyn Strategy>,
        risk: RiskManager,
        cash: Money,
    ) -> Engine {
        let quote = config
            .pairs
            .first()
            .map(|f| f.symbol.quote.clone())
            .unwrap_or_else(Asset::usdt);
        let mut portfolio = Portfolio::new();
        if cash > Decimal::ZERO {
            // The amount is positive, so the deposit cannot fail.
            let _ = portfolio.deposit(&quote, cash, 0);
        }
        let symbols: Vec<_> = config.pairs.iter().map(|f| f.symbol.clone()).collect();
        strategy.start(&symbols);
        let pairs = vec![PairState::default(); config.pairs.len()];
        Engine {
            config,
            quote,
            strategy,
            risk,
            portfolio,
            pairs,
            seq: 0,
            trades: Vec::new(),
            signals: Vec::with_capacity(4),
            rejections: Rejections::new(),
            equity: cash,
            start_cash: cash,
        }
    }

    /// The books.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// The risk manager (its state is what a driver persists).
    pub fn risk(&self) -> &RiskManager {
        &self.risk
    }

    /// Mutable access for the kill switch and restores.
    pub fn risk_mut(&mut self) -> &mut RiskManager {
        &mut self.risk
    }

    /// The strategy.
    pub fn strategy(&self) -> &dyn Strategy {
        self.strategy.as_ref()
    }

    /// Round trips closed so far, in exit order.
    pub fn trades(&self) -> &[Trade] {
        &self.trades
    }

    /// Takes the closed round trips out (the optimizer keeps memory flat this way).
    pub fn take_trades(&mut self) -> Vec<Trade> {
        std::mem::take(&mut self.trades)
    }

    /// Entries refused by the risk manager, by rule.
    pub fn rejections(&self) -> &Rejections {
        &self.rejections
    }

    /// Equity at the last [`mark`](Self::mark).
    pub fn equity(&self) -> Money {
        self.equity
    }

    /// Starting cash.
    pub fn start_cash(&self) -> Money {
        self.start_cash
    }

    /// Free quote cash.
    pub fn cash(&self) -> Money {
        self.portfolio.balance(&self.quote)
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// First and last close seen of each pair (for buy-and-hold), pairs without data skipped.
    pub fn buy_and_hold(&self) -> Vec<(Price, Price)> {
        self.pairs
            .iter()
            .filter_map(|p| Some((p.first_close?, p.last_close?)))
            .collect()
    }

    /// Whether the pair has an open position.
    pub fn is_holding(&self, pair: PairId) -> bool {
        self.pairs.get(pair).is_some_and(|p| p.held.is_some())
    }

    fn next_id(&mut self) -> ClientOrderId {
        self.seq += 1;
        // A bot id too long for the venue's 36 characters falls back to the short form.
        ClientOrderId::for_bot(&self.config.bot_id, self.seq)
            .unwrap_or_else(|_| ClientOrderId::numbered(self.seq))
    }

    fn intent(
        &mut self,
        pair: PairId,
        side: Side,
        order_type: OrderType,
        now_ms: i64,
    ) -> OrderIntent {
        OrderIntent {
            client_order_id: self.next_id(),
            symbol: self.config.pairs[pair].symbol.clone(),
            side,
            order_type,
            time_in_force: None,
            quantity: None,
            quote_quantity: None,
            price: None,
            stop_price: None,
            trailing_delta_bps: None,
            created_at_ms: now_ms,
        }
    }

    /// Values the open positions at the last closes, feeds the risk manager and returns the
    /// equity point of the step that ends at `now_ms`.
    pub fn mark(&mut self, now_ms: i64) -> EquityPoint {
        let mut equity = self.portfolio.balance(&self.quote);
        let mut exposed = false;
        for (i, p) in self.pairs.iter().enumerate() {
            if let Some(pos) = self.portfolio.position(&self.config.pairs[i].symbol) {
                exposed = true;
                equity += pos.quantity * p.last_close.unwrap_or(pos.avg_entry_price());
            }
        }
        self.equity = equity;
        self.risk.on_equity(now_ms, equity);
        EquityPoint {
            ts_ms: now_ms,
            equity,
            exposed,
        }
    }

    /// Records a candle's close without running the strategy (warm-up, or a pair whose close
    /// arrives before [`mark`](Self::mark)).
    pub fn observe_close(&mut self, pair: PairId, candle: &Candle) {
        let p = &mut self.pairs[pair];
        if p.first_close.is_none() {
            p.first_close = Some(candle.close);
        }
        p.last_close = Some(candle.close);
    }

    /// Runs the strategy on a pair's closed candle and turns its signals into orders.
    pub fn on_bar(&mut self, pair: PairId, candle: &Candle, ohlcv: &Ohlcv, out: &mut Vec<Command>) {
        let close_ms = candle.open_time_ms + self.config.bar_ms;
        self.observe_close(pair, candle);
        self.risk.on_data(pair, close_ms);
        let cash = self.portfolio.balance(&self.quote);
        let open_positions = self.pairs.iter().filter(|p| p.held.is_some()).count();
        let state = &self.pairs[pair];
        let ctx = StrategyContext {
            now_ms: close_ms,
            equity: self.equity,
            cash,
            position: state.held.as_ref(),
            open_positions,
            pending_order: state.pending_entry.is_some() || state.pending_exit.is_some(),
        };
        let bar = Bar {
            pair,
            candle,
            ohlcv: *ohlcv,
        };
        self.signals.clear();
        self.strategy.on_bar(&ctx, &bar, &mut self.signals);
        if self.signals.is_empty() {
            return;
        }
        let signals = std::mem::take(&mut self.signals);
        for s in &signals {
            match s {
                Signal::Enter(e) => self.enter(e.pair, e, candle.close, close_ms, out),
                Signal::Exit { pair, reason } => self.exit(*pair, *reason, close_ms, out),
            }
        }
        self.signals = signals;
    }

    fn enter(
        &mut self,
        pair: PairId,
        signal: &aurum_strategy::strategy::EntrySignal,
        price: Price,
        now_ms: i64,
        out: &mut Vec<Command>,
    ) {
        if pair >= self.pairs.len()
            || self.pairs[pair].held.is_some()
            || self.pairs[pair].pending_entry.is_some()
        {
            return;
        }
        let limits = self.strategy.limits(self.equity);
        let request = EntryRequest {
            now_ms,
            pair,
            signal,
            price,
            cash: self.portfolio.balance(&self.quote),
            equity: self.equity,
            fee_rate: self.config.fee_rate,
            open_positions: self.pairs.iter().filter(|p| p.held.is_some()).count(),
            pending_entries: self
                .pairs
                .iter()
                .filter(|p| p.pending_entry.is_some())
                .count(),
            filters: &self.config.pairs[pair],
            limits: limits.as_ref(),
        };
        let verdict = self.risk.approve_entry(&request);
        let cash = request.cash;
        match verdict {
            Ok(approved) => {
                let mut intent = self.intent(pair, Side::Buy, OrderType::Market, now_ms);
                let (quantity, quote) = match signal.sizing {
                    // "Stake all": spend the cash at the fill price (see the matcher).
                    aurum_strategy::strategy::Sizing::AllCash => (None, Some(cash)),
                    _ => (Some(approved.quantity), None),
                };
                intent.quantity = quantity;
                intent.quote_quantity = quote;
                let protection = Protection {
                    stop_loss_pct: signal.stop_loss_pct,
                    take_profit_pct: signal.take_profit_pct,
                    trailing_stop_pct: signal.trailing_stop_pct,
                };
                self.pairs[pair].pending_entry = Some((intent.client_order_id.clone(), protection));
                out.push(Command::Place(PlaceOrder {
                    pair,
                    intent,
                    sim: SimKind::Market,
                    purpose: Purpose::Entry,
                }));
            }
            Err(rejection) => {
                *self.rejections.entry(rejection.rule.as_str()).or_default() += 1;
            }
        }
    }

    /// Closes a pair's position with a market order (cancelling its protective orders).
    pub fn exit(&mut self, pair: PairId, reason: ExitReason, now_ms: i64, out: &mut Vec<Command>) {
        let Some(state) = self.pairs.get(pair) else {
            return;
        };
        if state.held.is_none() || state.pending_exit.is_some() {
            return;
        }
        if self.risk.approve_exit(now_ms).is_err() {
            *self
                .rejections
                .entry(RiskRule::KillSwitch.as_str())
                .or_default() += 1;
            return;
        }
        let Some(pos) = self.portfolio.position(&self.config.pairs[pair].symbol) else {
            return;
        };
        let quantity = pos.quantity;
        for (id, _) in std::mem::take(&mut self.pairs[pair].protective) {
            out.push(Command::Cancel { pair, id });
        }
        let mut intent = self.intent(pair, Side::Sell, OrderType::Market, now_ms);
        intent.quantity = Some(quantity);
        self.pairs[pair].pending_exit = Some((intent.client_order_id.clone(), reason));
        out.push(Command::Place(PlaceOrder {
            pair,
            intent,
            sim: SimKind::Market,
            purpose: Purpose::Exit(reason),
        }));
    }

    /// An order the venue (or matcher) dropped without a fill.
    pub fn on_order_gone(&mut self, pair: PairId, id: &ClientOrderId) {
        let Some(p) = self.pairs.get_mut(pair) else {
            return;
        };
        if p.pending_entry.as_ref().is_some_and(|(x, _)| x == id) {
            p.pending_entry = None;
        }
        if p.pending_exit.as_ref().is_some_and(|(x, _)| x == id) {
            p.pending_exit = None;
        }
        p.protective.retain(|(x, _)| x != id);
    }

    /// Applies a fill to the books. `kind` is how the simulated order executed (for live fills,
    /// the kind of the order that filled). Closing fills produce a [`Trade`].
    pub fn on_fill(
        &mut self,
        pair: PairId,
        fill: &Fill,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        let effects = self.portfolio.apply_fill(fill)?;
        let state = &mut self.pairs[pair];
        match fill.side {
            Side::Buy => {
                let protection = match &state.pending_entry {
                    Some((id, p)) if id == &fill.client_order_id => {
                        let p = *p;
                        state.pending_entry = None;
                        p
                    }
                    _ => Protection::default(),
                };
                state.held = Some(HeldPosition {
                    quantity: effects.position.quantity,
                    avg_entry_price: effects.position.avg_entry_price(),
                    opened_at_ms: effects.position.opened_at_ms,
                });
                if effects.opened {
                    state.sold_qty = Decimal::ZERO;
                    state.sold_quote = Decimal::ZERO;
                    state.exit_reason = None;
                }
                self.risk.on_entry_filled(fill.ts_ms);
                self.protect(pair, fill, protection, out);
            }
            Side::Sell => {
                state.sold_qty += fill.quantity;
                state.sold_quote += fill.price * fill.quantity;
                let reason = match &state.pending_exit {
                    Some((id, r)) if id == &fill.client_order_id => Some(*r),
                    _ => state
                        .protective
                        .iter()
                        .find(|(id, _)| id == &fill.client_order_id)
                        .map(|(_, r)| *r),
                };
                if let Some(r) = reason {
                    state.exit_reason = Some(r);
                }
                if effects.position.is_closed() {
                    let pos = &effects.position;
                    let exit_price = if state.sold_qty.is_zero() {
                        fill.price
                    } else {
                        state.sold_quote / state.sold_qty
                    };
                    let trade = Trade {
                        pair: fill.symbol.clone(),
                        entry_time_ms: pos.opened_at_ms,
                        entry_price: pos.avg_entry_price(),
                        exit_time_ms: fill.ts_ms,
                        exit_price: exit_price.normalize(),
                        quantity: pos.bought_qty,
                        pnl: pos.realised_pnl,
                        fees: pos.fees_quote,
                        exit_reason: state
                            .exit_reason
                            .unwrap_or(ExitReason::Signal)
                            .as_str()
                            .to_string(),
                    };
                    state.held = None;
                    state.pending_exit = None;
                    for (id, _) in std::mem::take(&mut state.protective) {
                        if id != fill.client_order_id {
                            out.push(Command::Cancel { pair, id });
                        }
                    }
                    self.risk.on_trade_closed(fill.ts_ms, trade.pnl);
                    self.trades.push(trade);
                } else {
                    state.held = Some(HeldPosition {
                        quantity: effects.position.quantity,
                        avg_entry_price: effects.position.avg_entry_price(),
                        opened_at_ms: effects.position.opened_at_ms,
                    });
                }
            }
        }
        Ok(())
    }

    /// Places the protective orders of a fresh entry fill.
    fn protect(&mut self, pair: PairId, fill: &Fill, p: Protection, out: &mut Vec<Command>) {
        let Some(held) = self.pairs[pair].held.clone() else {
            return;
        };
        let tick = self.config.pairs[pair]
            .price
            .as_ref()
            .map(|f| f.tick_size)
            .unwrap_or(Decimal::ZERO);
        let round = |price: Price, up: bool| {
            if tick.is_zero() {
                price
            } else {
                aurum_core::filters::round_price(
                    price,
                    tick,
                    if up {
                        aurum_core::Rounding::Up
                    } else {
                        aurum_core::Rounding::Down
                    },
                )
            }
        };
        let mut orders = Vec::new();
        if let Some(sl) = p.stop_loss_pct {
            let stop = round(fill.price * (Decimal::ONE - sl), false);
            orders.push((
                OrderType::StopLoss,
                SimKind::StopLoss { stop },
                Some(stop),
                None,
                ExitReason::StopLoss,
            ));
        }
        if let Some(tp) = p.take_profit_pct {
            let price = round(fill.price * (Decimal::ONE + tp), true);
            orders.push((
                OrderType::TakeProfit,
                SimKind::TakeProfit { price },
                Some(price),
                None,
                ExitReason::TakeProfit,
            ));
        }
        if let Some(tr) = p.trailing_stop_pct {
            let bps = (tr * Decimal::from(10_000))
                .trunc()
                .try_into()
                .unwrap_or(u32::MAX);
            orders.push((
                OrderType::TrailingStop,
                SimKind::TrailingStop {
                    distance: tr,
                    highest: fill.price,
                },
                None,
                Some(bps),
                ExitReason::TrailingStop,
            ));
        }
        for (order_type, sim, stop_price, trailing, reason) in orders {
            let mut intent = self.intent(pair, Side::Sell, order_type, fill.ts_ms);
            intent.quantity = Some(held.quantity);
            intent.stop_price = stop_price;
            intent.trailing_delta_bps = trailing;
            self.pairs[pair]
                .protective
                .push((intent.client_order_id.clone(), reason));
            out.push(Command::Place(PlaceOrder {
                pair,
                intent,
                sim,
                purpose: Purpose::Protect(reason),
            }));
        }
    }

    /// What the strategy reports about itself now.
    pub fn strategy_status(&self) -> serde_json::Value {
        self.strategy.status(self.equity)
    }
}
