//! The engine: one state machine joining data, strategy, risk, orders, fills and the books.
//!
//! It does no IO and reads no clock: drivers feed it closed candles, prices, fills and order
//! outcomes, tell it the time, and carry out the orders it asks for. The backtest driver pairs
//! it with the simulated [`Matcher`]; the paper and live runtime pairs it with a venue and the
//! store. Per time step a driver calls, in order: fills of the step with
//! [`Engine::on_fill`] and, when an order is done, [`Engine::on_order_final`]; then
//! [`Engine::mark`] with the closes; then [`Engine::on_bar_at`] for each pair's closed candle.
//! A driver whose venue cannot hold protective orders ([`Execution::Venue`]) also calls
//! [`Engine::on_price`] with every price it sees and [`Engine::sweep_dust`] now and then.
//!
//! [`Matcher`]: crate::matcher::Matcher

use crate::matcher::SimKind;
use aurum_core::performance::{EquityPoint, Trade};
use aurum_core::portfolio::AccountingError;
use aurum_core::{
    Asset, Candle, ClientOrderId, Decimal, Fill, Money, OrderCheck, OrderIntent, OrderType,
    Portfolio, Price, Quantity, Side, SymbolFilters, TimeInForce,
};
use aurum_strategy::indicators::Ohlcv;
use aurum_strategy::risk::{EntryRequest, RiskManager, RiskRule};
use aurum_strategy::strategy::{
    Bar, EntrySignal, ExitReason, HeldPosition, PairId, Signal, Sizing, Strategy, StrategyContext,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the engine's orders execute, which decides how protective exits and remainders are
/// handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// The backtest's simulated matcher: protective exits (stop-loss, take-profit, trailing
    /// stop) rest in it as orders, one per protection (see [`SimKind`]), and an exit sells
    /// exactly what is held.
    #[default]
    Matcher,
    /// A spot venue (live trading, or paper trading under live rules). A venue locks the base
    /// asset of a resting sell, so a stop-loss and a take-profit of one position cannot both
    /// rest there: the engine keeps the levels itself and sells at market when a price given
    /// to [`Engine::on_price`] crosses one. Exits are rounded down to the lot step, and a
    /// remainder too small to sell (under the lot or notional minimums) is written off as
    /// dust.
    Venue,
}

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
    /// Where the orders execute.
    pub execution: Execution,
}

/// Why an order exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "reason")]
pub enum Purpose {
    /// Opens a position.
    Entry,
    /// Closes a position now (market).
    Exit(ExitReason),
    /// Waits to close a position (stop-loss, take-profit, trailing stop).
    Protect(ExitReason),
}

/// The protective distances of an entry, applied to the entry's average fill price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Protection {
    /// Stop-loss distance below the entry, as a fraction.
    pub stop_loss_pct: Option<Decimal>,
    /// Take-profit distance above the entry, as a fraction.
    pub take_profit_pct: Option<Decimal>,
    /// Trailing-stop distance below the highest price since the entry, as a fraction.
    pub trailing_stop_pct: Option<Decimal>,
}

impl Protection {
    fn of(signal: &EntrySignal) -> Protection {
        Protection {
            stop_loss_pct: signal.stop_loss_pct,
            take_profit_pct: signal.take_profit_pct,
            trailing_stop_pct: signal.trailing_stop_pct,
        }
    }

    fn is_empty(&self) -> bool {
        self.stop_loss_pct.is_none()
            && self.take_profit_pct.is_none()
            && self.trailing_stop_pct.is_none()
    }
}

/// What the engine stores with an order intent, so that a restarted engine knows why each
/// open order exists ([`Engine::adopt_order`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMeta {
    /// Why the order exists.
    pub purpose: Purpose,
    /// For entries: the protection to arm once it is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection: Option<Protection>,
    /// For limit entries: cancel the rest after this many closed candles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after_bars: Option<u32>,
}

/// Engine-side protective levels of an open position ([`Execution::Venue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triggers {
    /// Sell when a price at or below this is seen.
    pub stop: Option<Price>,
    /// Sell when a price at or above this is seen.
    pub take: Option<Price>,
    /// Trailing stop: distance below `highest`, as a fraction.
    pub trail_pct: Option<Decimal>,
    /// Highest price seen since the entry (for the trailing stop).
    pub highest: Price,
    /// When the levels were armed.
    pub armed_at_ms: i64,
}

impl Triggers {
    /// The trailing stop's level now, if there is one.
    pub fn trail_level(&self) -> Option<Price> {
        self.trail_pct.map(|d| self.highest * (Decimal::ONE - d))
    }
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
    /// Why it exists, stored with the intent.
    pub meta: OrderMeta,
}

impl PlaceOrder {
    /// Why the order exists.
    pub fn purpose(&self) -> Purpose {
        self.meta.purpose
    }
}

/// What the engine asks its driver to do.
// Commands live briefly in a reused Vec; boxing the large variant would cost an allocation
// per order for no gain.
#[allow(clippy::large_enum_variant)]
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
    /// The pair's position was closed by writing off an unsellable remainder (the engine's
    /// books already did it; the driver stores it).
    CloseDust {
        /// Which pair.
        pair: PairId,
        /// When.
        ts_ms: i64,
    },
}

/// An entry order that is not done yet.
#[derive(Debug, Clone, PartialEq)]
struct PendingEntry {
    id: ClientOrderId,
    protection: Protection,
    expire_after_bars: Option<u32>,
    /// Closed candles of the pair seen since it was placed.
    bars: u32,
    cancel_sent: bool,
    /// Whether a fill of it was counted as the day's entry.
    counted: bool,
}

/// The engine's view of one pair.
#[derive(Debug, Clone, Default)]
struct PairState {
    last_close: Option<Price>,
    first_close: Option<Price>,
    pending_entry: Option<PendingEntry>,
    pending_exit: Option<(ClientOrderId, ExitReason)>,
    protective: Vec<(ClientOrderId, ExitReason)>,
    /// The protection of the open position (re-armed after a kill-switch reset).
    protection: Option<Protection>,
    triggers: Option<Triggers>,
    held: Option<HeldPosition>,
    /// The reason of the exit order that is closing the position.
    exit_reason: Option<ExitReason>,
    sold_qty: Decimal,
    sold_quote: Decimal,
}

impl PairState {
    fn has_orders(&self) -> bool {
        self.pending_entry.is_some() || self.pending_exit.is_some() || !self.protective.is_empty()
    }
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
    /// The portfolio's balance of the quote asset, copied after every change of the books
    /// (read on every time step; a map lookup each time showed in profiles).
    cash: Money,
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
    /// The fill is for a pair the engine does not trade.
    #[error("fill {trade_id} for pair #{pair}, which the engine does not trade")]
    UnknownPair {
        /// Venue trade id.
        trade_id: String,
        /// The pair index given.
        pair: PairId,
    },
}

impl Engine {
    /// An engine with `cash` of the quote asset of the first pair.
    pub fn new(
        config: EngineConfig,
        strategy: Box<dyn Strategy>,
        risk: RiskManager,
        cash: Money,
    ) -> Engine {
        let quote = quote_of(&config);
        let mut portfolio = Portfolio::new();
        if cash > Decimal::ZERO {
            // The amount is positive, so the deposit cannot fail.
            let _ = portfolio.deposit(&quote, cash, 0);
        }
        Engine::restore(config, strategy, risk, portfolio, 0, cash)
    }

    /// An engine resuming from stored books (a restart): `portfolio` holds the balances and
    /// open positions, `last_seq` the highest order number already used (ids continue after
    /// it), `start_cash` the bot's starting capital (for reports). Open orders are adopted
    /// afterwards with [`adopt_order`](Self::adopt_order), protection with
    /// [`adopt_protection`](Self::adopt_protection).
    pub fn restore(
        config: EngineConfig,
        mut strategy: Box<dyn Strategy>,
        risk: RiskManager,
        portfolio: Portfolio,
        last_seq: u64,
        start_cash: Money,
    ) -> Engine {
        let quote = quote_of(&config);
        let symbols: Vec<_> = config.pairs.iter().map(|f| f.symbol.clone()).collect();
        strategy.start(&symbols);
        let mut pairs = vec![PairState::default(); config.pairs.len()];
        for (i, f) in config.pairs.iter().enumerate() {
            pairs[i].held = portfolio.position(&f.symbol).map(held_of);
        }
        let equity = portfolio.equity(&quote, |s| {
            portfolio.position(s).map(|p| p.avg_entry_price())
        });
        let cash = portfolio.balance(&quote);
        Engine {
            config,
            quote,
            strategy,
            risk,
            cash,
            portfolio,
            pairs,
            seq: last_seq,
            trades: Vec::new(),
            signals: Vec::with_capacity(4),
            rejections: Rejections::new(),
            equity,
            start_cash,
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

    /// Mutable access for restores.
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
        debug_assert_eq!(self.cash, self.portfolio.balance(&self.quote));
        self.cash
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The highest order number used so far.
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// The last close seen of a pair.
    pub fn last_close(&self, pair: PairId) -> Option<Price> {
        self.pairs.get(pair).and_then(|p| p.last_close)
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

    /// Whether the pair has an order the engine waits for.
    pub fn has_pending_orders(&self, pair: PairId) -> bool {
        self.pairs.get(pair).is_some_and(PairState::has_orders)
    }

    /// The engine-side protective levels of a pair's position.
    pub fn triggers(&self, pair: PairId) -> Option<&Triggers> {
        self.pairs.get(pair).and_then(|p| p.triggers.as_ref())
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
        let mut equity = self.cash();
        let mut exposed = false;
        // `held` is the portfolio's open position of the pair, copied at every fill and
        // closed with it: no map lookup per pair and time step.
        #[cfg(debug_assertions)]
        for (p, f) in self.pairs.iter().zip(&self.config.pairs) {
            let pos = self.portfolio.position(&f.symbol);
            debug_assert_eq!(
                p.held.as_ref().map(|h| (h.quantity, h.avg_entry_price)),
                pos.map(|x| (x.quantity, x.avg_entry_price())),
                "the engine's copy of the {} position differs from the portfolio",
                f.symbol
            );
        }
        for p in &self.pairs {
            if let Some(h) = &p.held {
                exposed = true;
                equity += h.quantity * p.last_close.unwrap_or(h.avg_entry_price);
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

    /// Records a candle's close without running the strategy (a pair whose close arrives
    /// before [`mark`](Self::mark)).
    pub fn observe_close(&mut self, pair: PairId, candle: &Candle) {
        let p = &mut self.pairs[pair];
        if p.first_close.is_none() {
            p.first_close = Some(candle.close);
        }
        p.last_close = Some(candle.close);
    }

    /// Feeds a historical closed candle to the strategy without acting on its signals (warm-up
    /// of indicators before live trading starts).
    pub fn warm_up(&mut self, pair: PairId, candle: &Candle, ohlcv: &Ohlcv) {
        self.observe_close(pair, candle);
        self.ask_strategy(pair, candle, ohlcv);
        self.signals.clear();
    }

    /// Runs the strategy on a closed candle with the account as it is; its signals are left
    /// in `self.signals`.
    fn ask_strategy(&mut self, pair: PairId, candle: &Candle, ohlcv: &Ohlcv) {
        let cash = self.cash();
        let open_positions = self.pairs.iter().filter(|p| p.held.is_some()).count();
        let state = &self.pairs[pair];
        let ctx = StrategyContext {
            now_ms: candle.open_time_ms + self.config.bar_ms,
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
    }

    /// Runs the strategy on a pair's closed candle at the candle's close time (backtests).
    pub fn on_bar(&mut self, pair: PairId, candle: &Candle, ohlcv: &Ohlcv, out: &mut Vec<Command>) {
        let close_ms = candle.open_time_ms + self.config.bar_ms;
        self.on_bar_at(pair, candle, ohlcv, close_ms, out);
    }

    /// Runs the strategy on a pair's closed candle and turns its signals into orders. `now_ms`
    /// is the driver's clock: the risk manager judges the candle's freshness, the day and the
    /// cooldowns by it (in backtests it is the candle's close time).
    pub fn on_bar_at(
        &mut self,
        pair: PairId,
        candle: &Candle,
        ohlcv: &Ohlcv,
        now_ms: i64,
        out: &mut Vec<Command>,
    ) {
        let close_ms = candle.open_time_ms + self.config.bar_ms;
        self.observe_close(pair, candle);
        self.risk.on_data(pair, close_ms);
        self.age_entry(pair, out);
        self.ask_strategy(pair, candle, ohlcv);
        if self.signals.is_empty() {
            return;
        }
        let signals = std::mem::take(&mut self.signals);
        for s in &signals {
            match s {
                Signal::Enter(e) => self.enter(e.pair, e, candle.close, now_ms, out),
                Signal::Exit { pair, reason } => self.exit(*pair, *reason, now_ms, out),
            }
        }
        self.signals = signals;
    }

    /// Counts a closed candle against the pair's pending limit entry and cancels it when it
    /// has waited long enough.
    fn age_entry(&mut self, pair: PairId, out: &mut Vec<Command>) {
        let Some(e) = self.pairs[pair].pending_entry.as_mut() else {
            return;
        };
        e.bars = e.bars.saturating_add(1);
        if !e.cancel_sent && e.expire_after_bars.is_some_and(|n| e.bars > n) {
            e.cancel_sent = true;
            out.push(Command::Cancel {
                pair,
                id: e.id.clone(),
            });
        }
    }

    fn enter(
        &mut self,
        pair: PairId,
        signal: &EntrySignal,
        close: Price,
        now_ms: i64,
        out: &mut Vec<Command>,
    ) {
        if pair >= self.pairs.len()
            || self.pairs[pair].held.is_some()
            || self.pairs[pair].pending_entry.is_some()
        {
            return;
        }
        // A limit price on the venue's grid (down: a buy never pays more than asked), so the
        // stored intent is exactly what is sent.
        let limit = signal.limit.map(|l| aurum_strategy::strategy::LimitEntry {
            price: self.config.pairs[pair].round_price(l.price, aurum_core::Rounding::Down),
            ..l
        });
        let price = limit.map_or(close, |l| l.price);
        let limits = self.strategy.limits(self.equity);
        let request = EntryRequest {
            now_ms,
            pair,
            signal,
            price,
            cash: self.cash(),
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
        let approved = match verdict {
            Ok(approved) => approved,
            Err(rejection) => {
                *self.rejections.entry(rejection.rule.as_str()).or_default() += 1;
                return;
            }
        };
        let protection = Protection::of(signal);
        let (order_type, sim) = match limit {
            Some(l) => (OrderType::Limit, SimKind::Limit { price: l.price }),
            None => (OrderType::Market, SimKind::Market),
        };
        let mut intent = self.intent(pair, Side::Buy, order_type, now_ms);
        match (signal.sizing, limit) {
            // "Stake all" at market: spend the cash at the fill price (see the matcher).
            (Sizing::AllCash, None) => intent.quote_quantity = Some(cash),
            _ => intent.quantity = Some(approved.quantity),
        }
        if let Some(l) = limit {
            intent.price = Some(l.price);
            intent.time_in_force = Some(TimeInForce::Gtc);
        }
        let expire_after_bars = limit.and_then(|l| l.expire_after_bars);
        self.pairs[pair].pending_entry = Some(PendingEntry {
            id: intent.client_order_id.clone(),
            protection,
            expire_after_bars,
            bars: 0,
            cancel_sent: false,
            counted: false,
        });
        out.push(Command::Place(PlaceOrder {
            pair,
            intent,
            sim,
            meta: OrderMeta {
                purpose: Purpose::Entry,
                protection: (!protection.is_empty()).then_some(protection),
                expire_after_bars,
            },
        }));
    }

    /// The part of `quantity` a market sell can carry at `price` under the pair's rules
    /// (rounded down to the step), or `None` when nothing of it can be sold.
    fn sellable(&self, pair: PairId, quantity: Quantity, price: Price) -> Option<Quantity> {
        let filters = &self.config.pairs[pair];
        let q = filters.round_quantity(quantity, true);
        if q <= Decimal::ZERO {
            return None;
        }
        let check = OrderCheck {
            side: Side::Sell,
            is_market: true,
            quantity: q,
            price,
            average_price: None,
        };
        filters.check(&check).is_ok().then_some(q)
    }

    /// Closes a pair's position with a market order (cancelling its protective orders and the
    /// rest of a partly filled entry). With [`Execution::Venue`] (real venues) the
    /// quantity is rounded down to the lot step, and a position too small to sell under the
    /// venue's lot and notional rules is written off as dust instead.
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
        self.place_exit(pair, reason, now_ms, out);
    }

    /// The exit itself, without asking the risk manager (the kill switch's own exits).
    fn place_exit(
        &mut self,
        pair: PairId,
        reason: ExitReason,
        now_ms: i64,
        out: &mut Vec<Command>,
    ) {
        let Some(pos) = self.portfolio.position(&self.config.pairs[pair].symbol) else {
            return;
        };
        let held = pos.quantity;
        let price = self.pairs[pair]
            .last_close
            .unwrap_or_else(|| pos.avg_entry_price());
        self.cancel_entry(pair, out);
        for (id, _) in std::mem::take(&mut self.pairs[pair].protective) {
            out.push(Command::Cancel { pair, id });
        }
        // The backtest's matcher sells whatever is held; a real venue only what its lot and
        // notional rules allow, and the rest is dust.
        let quantity = match self.config.execution {
            Execution::Matcher => held,
            Execution::Venue => match self.sellable(pair, held, price) {
                Some(q) => q,
                None => {
                    // An entry still working may add to the position: wait for it.
                    if self.pairs[pair].pending_entry.is_none() {
                        self.close_dust(pair, now_ms, out);
                    }
                    return;
                }
            },
        };
        let mut intent = self.intent(pair, Side::Sell, OrderType::Market, now_ms);
        intent.quantity = Some(quantity);
        self.pairs[pair].pending_exit = Some((intent.client_order_id.clone(), reason));
        out.push(Command::Place(PlaceOrder {
            pair,
            intent,
            sim: SimKind::Market,
            meta: OrderMeta {
                purpose: Purpose::Exit(reason),
                protection: None,
                expire_after_bars: None,
            },
        }));
    }

    /// Asks for the cancellation of the pair's working entry (once).
    fn cancel_entry(&mut self, pair: PairId, out: &mut Vec<Command>) {
        if let Some(e) = self.pairs[pair].pending_entry.as_mut()
            && !e.cancel_sent
        {
            e.cancel_sent = true;
            out.push(Command::Cancel {
                pair,
                id: e.id.clone(),
            });
        }
    }

    /// Closes the pair's position by writing its remainder off as dust and books the round
    /// trip (exit reason `dust`).
    fn close_dust(&mut self, pair: PairId, now_ms: i64, out: &mut Vec<Command>) {
        let symbol = self.config.pairs[pair].symbol.clone();
        let Some(pos) = self.portfolio.close_dust(&symbol, now_ms) else {
            return;
        };
        self.cash = self.portfolio.balance(&self.quote);
        let state = &mut self.pairs[pair];
        let exit_price = if state.sold_qty.is_zero() {
            state.last_close.unwrap_or_else(|| pos.avg_entry_price())
        } else {
            state.sold_quote / state.sold_qty
        };
        let trade = Trade {
            pair: symbol,
            entry_time_ms: pos.opened_at_ms,
            entry_price: pos.avg_entry_price(),
            exit_time_ms: now_ms,
            exit_price: exit_price.normalize(),
            quantity: pos.bought_qty,
            pnl: pos.realised_pnl,
            fees: pos.fees_quote,
            exit_reason: state
                .exit_reason
                .map_or("dust", ExitReason::as_str)
                .to_string(),
        };
        state.held = None;
        state.triggers = None;
        state.protection = None;
        state.exit_reason = None;
        self.risk.on_trade_closed(now_ms, trade.pnl);
        self.trades.push(trade);
        out.push(Command::CloseDust {
            pair,
            ts_ms: now_ms,
        });
    }

    /// Writes off every position that no order is working on and that is too small to sell at
    /// its last close (a remainder left by commissions charged in the base asset, or a limit
    /// entry that filled only a sliver). Drivers of real venues call it after fills.
    pub fn sweep_dust(&mut self, now_ms: i64, out: &mut Vec<Command>) {
        if self.config.execution == Execution::Matcher {
            return;
        }
        for pair in 0..self.pairs.len() {
            let state = &self.pairs[pair];
            if state.held.is_none() || state.has_orders() {
                continue;
            }
            let Some(pos) = self.portfolio.position(&self.config.pairs[pair].symbol) else {
                continue;
            };
            let price = state.last_close.unwrap_or_else(|| pos.avg_entry_price());
            if self.sellable(pair, pos.quantity, price).is_none() {
                self.close_dust(pair, now_ms, out);
            }
        }
    }

    /// Applies a fill to the books. Closing fills produce a [`Trade`].
    pub fn on_fill(
        &mut self,
        pair: PairId,
        fill: &Fill,
        out: &mut Vec<Command>,
    ) -> Result<(), EngineError> {
        if pair >= self.pairs.len() {
            return Err(EngineError::UnknownPair {
                trade_id: fill.trade_id.clone(),
                pair,
            });
        }
        let effects = self.portfolio.apply_fill(fill)?;
        self.cash = self.portfolio.balance(&self.quote);
        let state = &mut self.pairs[pair];
        match fill.side {
            Side::Buy => {
                state.held = Some(held_of(&effects.position));
                if effects.opened {
                    state.sold_qty = Decimal::ZERO;
                    state.sold_quote = Decimal::ZERO;
                    state.exit_reason = None;
                }
                if let Some(e) = state.pending_entry.as_mut()
                    && e.id == fill.client_order_id
                    && !e.counted
                {
                    e.counted = true;
                    self.risk.on_entry_filled(fill.ts_ms);
                }
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
                    state.triggers = None;
                    state.protection = None;
                    if state
                        .pending_exit
                        .as_ref()
                        .is_some_and(|(id, _)| id == &fill.client_order_id)
                    {
                        state.pending_exit = None;
                    }
                    for (id, _) in std::mem::take(&mut state.protective) {
                        if id != fill.client_order_id {
                            out.push(Command::Cancel { pair, id });
                        }
                    }
                    self.risk.on_trade_closed(fill.ts_ms, trade.pnl);
                    self.trades.push(trade);
                } else {
                    state.held = Some(held_of(&effects.position));
                }
            }
        }
        Ok(())
    }

    /// An order is done (filled, cancelled, rejected or expired): the engine stops waiting
    /// for it. A done entry arms the position's protection; an exit that ended without
    /// closing the position lets the strategy try again.
    pub fn on_order_final(
        &mut self,
        pair: PairId,
        id: &ClientOrderId,
        now_ms: i64,
        out: &mut Vec<Command>,
    ) {
        let Some(p) = self.pairs.get_mut(pair) else {
            return;
        };
        if p.pending_entry.as_ref().is_some_and(|e| &e.id == id) {
            let entry = p.pending_entry.take();
            if let Some(entry) = entry
                && p.held.is_some()
            {
                p.protection = Some(entry.protection);
                if !self.risk.kill_switch_engaged() {
                    self.protect(pair, now_ms, out);
                }
            }
            return;
        }
        if p.pending_exit.as_ref().is_some_and(|(x, _)| x == id) {
            p.pending_exit = None;
            return;
        }
        p.protective.retain(|(x, _)| x != id);
    }

    /// Arms the protection of the pair's open position at its average entry price: resting
    /// orders ([`Execution::Matcher`]) or engine-side levels ([`Execution::Venue`]).
    fn protect(&mut self, pair: PairId, now_ms: i64, out: &mut Vec<Command>) {
        let (Some(held), Some(p)) = (
            self.pairs[pair].held.clone(),
            self.pairs[pair].protection.filter(|p| !p.is_empty()),
        ) else {
            return;
        };
        let entry = held.avg_entry_price;
        let filters = &self.config.pairs[pair];
        let round = |price: Price, up: bool| match filters.price.as_ref() {
            Some(f) if !f.tick_size.is_zero() => aurum_core::filters::round_price(
                price,
                f.tick_size,
                if up {
                    aurum_core::Rounding::Up
                } else {
                    aurum_core::Rounding::Down
                },
            ),
            _ => price,
        };
        let stop = p
            .stop_loss_pct
            .map(|sl| round(entry * (Decimal::ONE - sl), false));
        let take = p
            .take_profit_pct
            .map(|tp| round(entry * (Decimal::ONE + tp), true));
        if self.config.execution == Execution::Venue {
            self.pairs[pair].triggers = Some(Triggers {
                stop,
                take,
                trail_pct: p.trailing_stop_pct,
                highest: entry,
                armed_at_ms: now_ms,
            });
            return;
        }
        let mut orders = Vec::new();
        if let Some(stop) = stop {
            orders.push((
                OrderType::StopLoss,
                SimKind::StopLoss { stop },
                Some(stop),
                None,
                ExitReason::StopLoss,
            ));
        }
        if let Some(price) = take {
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
                    highest: entry,
                },
                None,
                Some(bps),
                ExitReason::TrailingStop,
            ));
        }
        for (order_type, sim, stop_price, trailing, reason) in orders {
            let mut intent = self.intent(pair, Side::Sell, order_type, now_ms);
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
                meta: OrderMeta {
                    purpose: Purpose::Protect(reason),
                    protection: None,
                    expire_after_bars: None,
                },
            }));
        }
    }

    /// Prices seen on a pair since the last call (`low..=high`; a ticker gives one price for
    /// both), for engine-side protection: a stop or trailing stop at or above `low` sells the
    /// position at market, else a take-profit at or below `high` does; then the trailing
    /// level follows `high`. Nothing happens while an exit is already working.
    pub fn on_price(
        &mut self,
        pair: PairId,
        low: Price,
        high: Price,
        now_ms: i64,
        out: &mut Vec<Command>,
    ) {
        let Some(state) = self.pairs.get(pair) else {
            return;
        };
        let Some(t) = state.triggers else {
            return;
        };
        if state.held.is_none() || state.pending_exit.is_some() {
            return;
        }
        let stop_hit = t
            .stop
            .filter(|s| low <= *s)
            .map(|s| (s, ExitReason::StopLoss));
        let trail_hit = t
            .trail_level()
            .filter(|l| low <= *l)
            .map(|l| (l, ExitReason::TrailingStop));
        // Of two stops touched, the higher level was crossed first on the way down.
        let reason = match (stop_hit, trail_hit) {
            (Some(s), Some(tr)) => Some(if tr.0 > s.0 { tr.1 } else { s.1 }),
            (s, tr) => s.or(tr).map(|x| x.1),
        }
        .or_else(|| {
            t.take
                .filter(|tp| high >= *tp)
                .map(|_| ExitReason::TakeProfit)
        });
        if let Some(reason) = reason {
            self.exit(pair, reason, now_ms, out);
        }
        if let Some(t) = self.pairs[pair].triggers.as_mut()
            && high > t.highest
        {
            t.highest = high;
        }
    }

    /// Engages the kill switch: every working entry and protective order is cancelled,
    /// engine-side protection is disarmed, and with `close_positions` every position is sold
    /// at market. Until [`reset_kill_switch`](Self::reset_kill_switch) nothing else is sent.
    pub fn engage_kill_switch(
        &mut self,
        reason: &str,
        now_ms: i64,
        close_positions: bool,
        out: &mut Vec<Command>,
    ) {
        self.risk.engage_kill_switch(reason, now_ms);
        for pair in 0..self.pairs.len() {
            self.cancel_entry(pair, out);
            for (id, _) in std::mem::take(&mut self.pairs[pair].protective) {
                out.push(Command::Cancel { pair, id });
            }
            self.pairs[pair].triggers = None;
            if close_positions
                && self.pairs[pair].held.is_some()
                && self.pairs[pair].pending_exit.is_none()
            {
                self.place_exit(pair, ExitReason::KillSwitch, now_ms, out);
            }
        }
    }

    /// Releases the kill switch and re-arms the protection of the positions still open.
    pub fn reset_kill_switch(&mut self, now_ms: i64, out: &mut Vec<Command>) {
        self.risk.reset_kill_switch();
        for pair in 0..self.pairs.len() {
            let p = &self.pairs[pair];
            if p.held.is_some() && p.pending_exit.is_none() && p.triggers.is_none() {
                let armed = !p.protective.is_empty();
                if !armed {
                    self.protect(pair, now_ms, out);
                }
            }
        }
    }

    /// A restarted engine takes over an order that is still working on the venue, with the
    /// meta stored with its intent. `filled` is the base quantity it has filled so far.
    pub fn adopt_order(
        &mut self,
        pair: PairId,
        id: ClientOrderId,
        meta: &OrderMeta,
        filled: Quantity,
    ) {
        let Some(p) = self.pairs.get_mut(pair) else {
            return;
        };
        match meta.purpose {
            Purpose::Entry => {
                p.pending_entry = Some(PendingEntry {
                    id,
                    protection: meta.protection.unwrap_or_default(),
                    expire_after_bars: meta.expire_after_bars,
                    bars: 0,
                    cancel_sent: false,
                    counted: filled > Decimal::ZERO,
                });
            }
            Purpose::Exit(reason) => {
                p.exit_reason = Some(reason);
                p.pending_exit = Some((id, reason));
            }
            Purpose::Protect(reason) => p.protective.push((id, reason)),
        }
    }

    /// A restarted engine re-arms the protection of an open position from the meta of the
    /// entry that opened it. `highest` is the highest price seen since the entry, if known
    /// (the trailing stop starts from the entry price otherwise). Venue-mode protective
    /// orders are not placed again (they are adopted as orders).
    pub fn adopt_protection(
        &mut self,
        pair: PairId,
        protection: Protection,
        highest: Option<Price>,
        now_ms: i64,
    ) {
        let Some(p) = self.pairs.get_mut(pair) else {
            return;
        };
        if p.held.is_none() {
            return;
        }
        p.protection = Some(protection);
        if self.config.execution == Execution::Venue && !self.risk.kill_switch_engaged() {
            let mut ignored = Vec::new();
            self.protect(pair, now_ms, &mut ignored);
            if let (Some(t), Some(h)) = (self.pairs[pair].triggers.as_mut(), highest)
                && h > t.highest
            {
                t.highest = h;
            }
        }
    }

    /// A restarted engine learns what the sells of the open position have brought so far (for
    /// the exit price of its round trip).
    pub fn adopt_exit_progress(&mut self, pair: PairId, sold_qty: Quantity, sold_quote: Money) {
        if let Some(p) = self.pairs.get_mut(pair) {
            p.sold_qty = sold_qty;
            p.sold_quote = sold_quote;
        }
    }

    /// What the strategy reports about itself now.
    pub fn strategy_status(&self) -> serde_json::Value {
        self.strategy.status(self.equity)
    }
}

fn quote_of(config: &EngineConfig) -> Asset {
    config
        .pairs
        .first()
        .map(|f| f.symbol.quote.clone())
        .unwrap_or_else(Asset::usdt)
}

fn held_of(p: &aurum_core::Position) -> HeldPosition {
    HeldPosition {
        quantity: p.quantity,
        avg_entry_price: p.avg_entry_price(),
        opened_at_ms: p.opened_at_ms,
    }
}
