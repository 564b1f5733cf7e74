//! Paper trading's venue: live market data from a real exchange, an account simulated by the
//! backtester's [`Matcher`] (the same fill rules as backtests: market orders at the last price
//! with slippage, resting limit buys when a closed candle reaches them, fees in the quote
//! asset).
//!
//! The simulated account lives in memory and is rebuilt from the store at every start (the
//! store is the paper account's truth): balances from the ledger, working orders from the
//! stored open orders. Orders and trades of past sessions are not kept beyond a bounded
//! window, so memory stays flat however long it runs.

use crate::venue::{Venue, wall_ms};
use aurum_core::{
    Asset, Candle, ClientOrderId, Decimal, Fill, Money, OrderIntent, OrderStatus, OrderType, Price,
    Quantity, Side, Symbol, SymbolFilters,
};
use aurum_engine::matcher::{Matcher, SimFill, SimKind, SimOrder, SimReject};
use aurum_exchange::error::{ApiError, RejectReason};
use aurum_exchange::exchange::Result;
use aurum_exchange::types::VenueOrderStatus;
use aurum_exchange::{
    Balance, Exchange, ExchangeError, Kline, KlineQuery, OrderAck, OrderReport, Trade, TradesSince,
};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Finished orders and trades remembered for lookups.
const KEEP_FINISHED: usize = 10_000;

/// An order working in the paper account when the runtime starts (from the store).
#[derive(Debug, Clone)]
pub struct ResumedOrder {
    /// The intent.
    pub intent: OrderIntent,
    /// The paper venue's order id given in the previous session.
    pub order_id: u64,
    /// Base quantity filled so far.
    pub filled_qty: Quantity,
    /// Quote amount filled so far.
    pub filled_quote: Money,
}

#[derive(Debug, Clone)]
struct PaperOrder {
    report: OrderReport,
    /// Limit price of a resting buy (what it locks per unit).
    limit: Option<Price>,
}

#[derive(Debug, Default)]
struct Book {
    fee_rate: Decimal,
    filters: HashMap<Symbol, SymbolFilters>,
    pair_of: HashMap<Symbol, usize>,
    last: HashMap<Symbol, Price>,
    balances: BTreeMap<Asset, Money>,
    working: HashMap<ClientOrderId, PaperOrder>,
    finished: HashMap<ClientOrderId, OrderReport>,
    finished_order: VecDeque<ClientOrderId>,
    trades: VecDeque<Trade>,
    next_order_id: u64,
    next_trade_id: u64,
}

/// The paper venue over a market-data exchange `E`.
pub struct PaperVenue<E> {
    data: E,
    fee_rate: Decimal,
    state: Mutex<(Book, Matcher)>,
}

impl<E: Exchange> PaperVenue<E> {
    /// An empty paper account over `data` (the runtime gives it the stored balances and
    /// working orders through [`Venue::resume`]). Order and trade ids continue from
    /// `id_floor`: use a time-derived value such as [`PaperVenue::id_floor_now`] so that the
    /// ids of successive sessions never meet.
    pub fn new(data: E, fee_rate: Decimal, slippage_bps: u32, id_floor: u64) -> Self {
        let book = Book {
            fee_rate,
            next_order_id: id_floor,
            next_trade_id: id_floor,
            ..Book::default()
        };
        PaperVenue {
            data,
            fee_rate,
            state: Mutex::new((book, Matcher::new(fee_rate, slippage_bps))),
        }
    }

    /// The market-data exchange.
    pub fn data(&self) -> &E {
        &self.data
    }

    /// Ids that no earlier session can have used: the wall clock in µs.
    pub fn id_floor_now() -> u64 {
        u64::try_from(wall_ms()).unwrap_or(0).saturating_mul(1000)
    }

    /// Sets the rules of the traded pairs (in the engine's pair order), the balances, and
    /// takes over the orders still working from the last session.
    fn resume_book(
        &self,
        pairs: &[SymbolFilters],
        balances: &BTreeMap<Asset, Money>,
        resumed: Vec<ResumedOrder>,
    ) {
        let mut guard = self.state.lock();
        let (book, matcher) = &mut *guard;
        book.balances = balances.clone();
        for (i, f) in pairs.iter().enumerate() {
            book.filters.insert(f.symbol.clone(), f.clone());
            book.pair_of.insert(f.symbol.clone(), i);
        }
        for r in resumed {
            let Some(&pair) = book.pair_of.get(&r.intent.symbol) else {
                continue;
            };
            let remaining = r.intent.quantity.map(|q| q - r.filled_qty);
            let (Some(price), Some(remaining)) = (r.intent.price, remaining) else {
                continue;
            };
            if remaining <= Decimal::ZERO || r.intent.order_type != OrderType::Limit {
                continue;
            }
            book.next_order_id = book.next_order_id.max(r.order_id + 1);
            matcher.submit(SimOrder {
                id: r.intent.client_order_id.clone(),
                pair,
                side: r.intent.side,
                kind: SimKind::Limit { price },
                quantity: Some(remaining),
                quote_quantity: None,
            });
            let mut report = report_of(&r.intent, r.order_id, wall_ms());
            report.executed_qty = r.filled_qty;
            report.cumulative_quote = r.filled_quote;
            if r.filled_qty > Decimal::ZERO {
                report.status = OrderStatus::PartiallyFilled;
                report.venue_status = VenueOrderStatus::PartiallyFilled;
            }
            book.working.insert(
                r.intent.client_order_id.clone(),
                PaperOrder {
                    report,
                    limit: Some(price),
                },
            );
        }
    }
}

fn report_of(intent: &OrderIntent, order_id: u64, now: i64) -> OrderReport {
    OrderReport {
        symbol: intent.symbol.clone(),
        order_id,
        client_order_id: intent.client_order_id.clone(),
        side: intent.side,
        order_type: intent.order_type,
        time_in_force: intent.time_in_force,
        price: intent.price.unwrap_or(Decimal::ZERO),
        stop_price: intent.stop_price.unwrap_or(Decimal::ZERO),
        orig_qty: intent.quantity.unwrap_or(Decimal::ZERO),
        executed_qty: Decimal::ZERO,
        cumulative_quote: Decimal::ZERO,
        status: OrderStatus::Submitted,
        venue_status: VenueOrderStatus::New,
        time_ms: now,
        update_time_ms: now,
    }
}

fn rejected(endpoint: &str, code: i64, msg: &str) -> ExchangeError {
    ExchangeError::Api {
        endpoint: endpoint.to_string(),
        status: 400,
        code,
        msg: msg.to_string(),
        kind: ApiError::from_code(code, msg),
    }
}

impl Book {
    /// Books the matcher's fills and rejects: balances, trades, order reports. Returns the
    /// fills by order.
    fn settle(
        &mut self,
        fills: Vec<SimFill>,
        rejects: Vec<SimReject>,
        now: i64,
    ) -> HashMap<ClientOrderId, Vec<Fill>> {
        let mut out: HashMap<ClientOrderId, Vec<Fill>> = HashMap::new();
        for r in rejects {
            if let Some(mut o) = self.working.remove(&r.id) {
                o.report.status = if o.report.executed_qty.is_zero() {
                    OrderStatus::Expired
                } else {
                    OrderStatus::Cancelled
                };
                o.report.venue_status = VenueOrderStatus::Expired;
                o.report.update_time_ms = now;
                self.finish(o.report);
            }
        }
        for f in fills {
            let mut fill = f.fill;
            self.next_trade_id += 1;
            fill.trade_id = self.next_trade_id.to_string();
            let base = fill.symbol.base.clone();
            let quote = fill.symbol.quote.clone();
            let notional = fill.price * fill.quantity;
            let (db, dq) = match fill.side {
                Side::Buy => (fill.quantity, -notional - fill.fee),
                Side::Sell => (-fill.quantity, notional - fill.fee),
            };
            *self.balances.entry(base).or_default() += db;
            *self.balances.entry(quote).or_default() += dq;
            let Some(o) = self.working.get_mut(&fill.client_order_id) else {
                continue;
            };
            o.report.executed_qty += fill.quantity;
            o.report.cumulative_quote += notional;
            o.report.update_time_ms = now;
            // The matcher executes an order in one fill (cut to the cash at worst): after a
            // fill the order has left it.
            let complete =
                o.report.orig_qty.is_zero() || o.report.executed_qty >= o.report.orig_qty;
            self.trades.push_back(Trade {
                symbol: fill.symbol.clone(),
                trade_id: self.next_trade_id,
                order_id: o.report.order_id,
                side: fill.side,
                price: fill.price,
                quantity: fill.quantity,
                quote_quantity: notional,
                fee: fill.fee,
                fee_asset: fill.fee_asset.clone(),
                time_ms: fill.ts_ms,
                is_maker: o.limit.is_some(),
            });
            if self.trades.len() > KEEP_FINISHED {
                self.trades.pop_front();
            }
            if let Some(mut o) = self.working.remove(&fill.client_order_id) {
                (o.report.status, o.report.venue_status) = if complete {
                    (OrderStatus::Filled, VenueOrderStatus::Filled)
                } else {
                    (OrderStatus::Expired, VenueOrderStatus::Expired)
                };
                self.finish(o.report);
            }
            out.entry(fill.client_order_id.clone())
                .or_default()
                .push(fill);
        }
        out
    }

    fn finish(&mut self, report: OrderReport) {
        let id = report.client_order_id.clone();
        self.finished.insert(id.clone(), report);
        self.finished_order.push_back(id);
        while self.finished_order.len() > KEEP_FINISHED {
            if let Some(old) = self.finished_order.pop_front() {
                self.finished.remove(&old);
            }
        }
    }

    fn report(&self, id: &ClientOrderId) -> Option<OrderReport> {
        self.working
            .get(id)
            .map(|o| o.report.clone())
            .or_else(|| self.finished.get(id).cloned())
    }

    fn quote_free(&self, quote: &Asset) -> Money {
        let locked: Money = self
            .working
            .values()
            .filter(|o| &o.report.symbol.quote == quote && o.report.side == Side::Buy)
            .filter_map(|o| Some(o.limit? * (o.report.orig_qty - o.report.executed_qty)))
            .map(|m| m * (Decimal::ONE + self.fee_rate))
            .sum();
        self.balances.get(quote).copied().unwrap_or_default() - locked
    }
}

impl<E: Exchange> Exchange for PaperVenue<E> {
    async fn server_time(&self) -> Result<i64> {
        self.data.server_time().await
    }

    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>> {
        self.data.exchange_info().await
    }

    async fn klines(&self, query: &KlineQuery) -> Result<Vec<Kline>> {
        self.data.klines(query).await
    }

    async fn ticker_price(&self, symbol: &Symbol) -> Result<Price> {
        let p = self.data.ticker_price(symbol).await?;
        self.state.lock().0.last.insert(symbol.clone(), p);
        Ok(p)
    }

    async fn place_order(&self, intent: &OrderIntent) -> Result<OrderAck> {
        const EP: &str = "POST /api/v3/order";
        intent.validate()?;
        let last = match intent.order_type {
            OrderType::Market | OrderType::Limit => self.data.ticker_price(&intent.symbol).await?,
            _ => {
                return Err(rejected(
                    EP,
                    -1013,
                    "Paper trading takes MARKET and LIMIT orders only.",
                ));
            }
        };
        let now = wall_ms();
        let mut guard = self.state.lock();
        let (book, matcher) = &mut *guard;
        book.last.insert(intent.symbol.clone(), last);
        if book.report(&intent.client_order_id).is_some() {
            return Err(rejected(EP, -2010, "Duplicate order sent."));
        }
        let (Some(filters), Some(&pair)) = (
            book.filters.get(&intent.symbol).cloned(),
            book.pair_of.get(&intent.symbol),
        ) else {
            return Err(ExchangeError::UnknownSymbol(intent.symbol.clone()));
        };
        let prepared = aurum_exchange::binance::order::prepare_order(intent, &filters, Some(last))?;
        book.next_order_id += 1;
        let mut report = report_of(intent, book.next_order_id, now);
        if let Some(q) = prepared.quantity {
            report.orig_qty = q;
        }
        let limit = prepared
            .price
            .filter(|_| intent.order_type == OrderType::Limit);
        if let Some(p) = limit {
            report.price = p;
        }
        let crosses = limit.is_none_or(|p| p >= last);
        let order = SimOrder {
            id: intent.client_order_id.clone(),
            pair,
            side: intent.side,
            kind: match limit {
                Some(p) if !crosses => SimKind::Limit { price: p },
                _ => SimKind::Market,
            },
            quantity: prepared.quantity,
            quote_quantity: prepared.quote_quantity,
        };
        // Enough of the asset given up for it, fee included?
        let with_fee = Decimal::ONE + self.fee_rate;
        let needed = match (intent.side, limit, prepared.quantity) {
            (Side::Buy, Some(p), Some(q)) => p * q * with_fee,
            (Side::Buy, None, Some(q)) => last * q * with_fee,
            (Side::Buy, _, None) => prepared.quote_quantity.unwrap_or_default(),
            (Side::Sell, _, q) => q.unwrap_or_default(),
        };
        let available = match intent.side {
            Side::Buy => book.quote_free(&intent.symbol.quote),
            Side::Sell => book
                .balances
                .get(&intent.symbol.base)
                .copied()
                .unwrap_or_default(),
        };
        if needed > available {
            return Err(rejected(
                EP,
                -2010,
                "Account has insufficient balance for requested action.",
            ));
        }
        book.working
            .insert(intent.client_order_id.clone(), PaperOrder { report, limit });
        let mut fills = Vec::new();
        let mut rejects = Vec::new();
        if crosses {
            let mut cash = book.quote_free(&intent.symbol.quote);
            let price = limit.map_or(last, |p| p.min(last));
            matcher.submit(order);
            matcher.fill_market(
                pair,
                price,
                limit.is_none(),
                now,
                &filters,
                &mut cash,
                &mut fills,
                &mut rejects,
            );
        } else {
            matcher.submit(order);
        }
        let rejected_now = rejects.iter().any(|r| r.id == intent.client_order_id);
        let mut by_order = book.settle(fills, rejects, now);
        if rejected_now {
            return Err(rejected(
                EP,
                -2010,
                "Account has insufficient balance for requested action.",
            ));
        }
        let report = book
            .report(&intent.client_order_id)
            .ok_or_else(|| ExchangeError::Config("paper order vanished".into()))?;
        Ok(OrderAck {
            order: report,
            fills: by_order.remove(&intent.client_order_id).unwrap_or_default(),
            recovered: false,
        })
    }

    async fn cancel_order(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<OrderReport> {
        let mut guard = self.state.lock();
        let (book, matcher) = &mut *guard;
        match book.working.remove(id) {
            Some(mut o) if &o.report.symbol == symbol => {
                matcher.cancel(id);
                o.report.status = OrderStatus::Cancelled;
                o.report.venue_status = VenueOrderStatus::Canceled;
                o.report.update_time_ms = wall_ms();
                let report = o.report.clone();
                book.finish(o.report);
                Ok(report)
            }
            Some(o) => {
                book.working.insert(id.clone(), o);
                Err(rejected(
                    "DELETE /api/v3/order",
                    -2011,
                    "Unknown order sent.",
                ))
            }
            None => Err(rejected(
                "DELETE /api/v3/order",
                -2011,
                "Unknown order sent.",
            )),
        }
    }

    async fn order_by_client_id(
        &self,
        symbol: &Symbol,
        id: &ClientOrderId,
    ) -> Result<Option<OrderReport>> {
        Ok(self
            .state
            .lock()
            .0
            .report(id)
            .filter(|r| &r.symbol == symbol))
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OrderReport>> {
        let book = &self.state.lock().0;
        let mut out: Vec<OrderReport> = book
            .working
            .values()
            .filter(|o| symbol.is_none_or(|s| &o.report.symbol == s))
            .map(|o| o.report.clone())
            .collect();
        out.sort_by_key(|r| r.order_id);
        Ok(out)
    }

    async fn my_trades(&self, symbol: &Symbol, since: TradesSince) -> Result<Vec<Trade>> {
        let book = &self.state.lock().0;
        Ok(book
            .trades
            .iter()
            .filter(|t| &t.symbol == symbol)
            .filter(|t| match since {
                TradesSince::TradeId(id) => t.trade_id >= id,
                TradesSince::TimeMs(ms) => t.time_ms >= ms,
                TradesSince::Order(id) => t.order_id == id,
            })
            .take(1000)
            .cloned()
            .collect())
    }

    async fn balances(&self) -> Result<Vec<Balance>> {
        let book = &self.state.lock().0;
        Ok(book
            .balances
            .iter()
            .map(|(asset, total)| {
                let free = if book.pair_of.keys().any(|s| &s.quote == asset) {
                    book.quote_free(asset)
                } else {
                    *total
                };
                Balance {
                    asset: asset.clone(),
                    free,
                    locked: *total - free,
                }
            })
            .collect())
    }
}

/// The market-data exchange is itself a [`Venue`] (Binance, or anything speaking its API):
/// the paper venue streams its klines where it has a stream.
impl<E: Venue> Venue for PaperVenue<E> {
    fn mode(&self) -> &'static str {
        "paper"
    }

    fn recv_window_ms(&self) -> i64 {
        // Orders are placed in this process or not at all.
        0
    }

    fn fills_from_candles(&self) -> bool {
        true
    }

    fn observe_closed(&self, symbol: &Symbol, candle: &Candle) {
        let mut guard = self.state.lock();
        let (book, matcher) = &mut *guard;
        let (Some(&pair), Some(filters)) =
            (book.pair_of.get(symbol), book.filters.get(symbol).cloned())
        else {
            return;
        };
        book.last.insert(symbol.clone(), candle.close);
        if !matcher.has_orders(pair) {
            return;
        }
        let (mut fills, mut rejects) = (Vec::new(), Vec::new());
        let mut cash = book
            .balances
            .get(&symbol.quote)
            .copied()
            .unwrap_or_default();
        matcher.fill_limits(pair, candle, &filters, &mut cash, &mut fills, &mut rejects);
        book.settle(fills, rejects, wall_ms());
    }

    fn has_own_balances(&self) -> bool {
        false
    }

    fn stream_config(&self) -> Option<aurum_exchange::StreamConfig> {
        self.data.stream_config()
    }

    fn resume(
        &self,
        pairs: &[SymbolFilters],
        balances: &BTreeMap<Asset, Money>,
        orders: Vec<ResumedOrder>,
    ) {
        self.resume_book(pairs, balances, orders);
    }
}

/// Refusal reasons a paper venue gives, as Binance words them (for tests).
pub fn is_insufficient_balance(e: &ExchangeError) -> bool {
    matches!(
        e.api_error(),
        Some(ApiError::NewOrderRejected(
            RejectReason::InsufficientBalance
        ))
    )
}
