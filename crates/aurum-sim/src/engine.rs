//! The matching engine: one account's balances, its orders and trades, matched against each
//! pair's price path. Pure state and rules (no HTTP, no clock: times are passed in).
//!
//! The model, kept simple and deterministic:
//! - The last price is the close of the pair's current candle. Market orders, and limit orders
//!   that cross it, fill at once, in full, at the last price (taker).
//! - A resting limit fills at its own price (maker) when a later candle trades through it
//!   (buy: low ≤ price; sell: high ≥ price), at most that candle's volume per candle (rounded
//!   down to the step, shared by the pair's resting orders oldest first), so a big order can
//!   fill partially. An optional quote cap per candle
//!   ([`SimConfig::max_fill_quote`](crate::SimConfig::max_fill_quote)) limits it further, so
//!   that small orders fill partially too: each order then gets at most
//!   `floor_step(cap_left / price)` of the candle.
//! - Stop orders trigger when a candle reaches the stop price (stop-loss: against the side;
//!   take-profit: in favour); a stop-market fills at the stop price, a stop-limit becomes a limit.
//!   An order that would trigger at once is refused, as on Binance.
//! - The commission is `fee × amount received`, charged in the asset received (base for buys,
//!   quote for sells), rounded to 8 decimals.
//! - Limit-type orders lock their funds (quote `price × qty` for buys, base `qty` for sells)
//!   until they fill, expire or are cancelled.

use crate::market::Market;
use aurum_core::filters::OrderCheck;
use aurum_core::{Decimal, Side};
use rust_decimal::RoundingStrategy;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A Binance error answer: HTTP status, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiErr {
    /// HTTP status.
    pub status: u16,
    /// Binance's code.
    pub code: i64,
    /// Binance's message.
    pub msg: String,
}

impl ApiErr {
    /// An HTTP 400 with `code` and `msg`.
    pub fn bad(code: i64, msg: impl Into<String>) -> ApiErr {
        ApiErr {
            status: 400,
            code,
            msg: msg.into(),
        }
    }

    /// -1121 Invalid symbol.
    pub fn invalid_symbol() -> ApiErr {
        ApiErr::bad(-1121, "Invalid symbol.")
    }

    /// -1102 for a missing parameter.
    pub fn mandatory(name: &str) -> ApiErr {
        ApiErr::bad(
            -1102,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }

    /// -2010 with a rejection message.
    pub fn rejected(msg: &str) -> ApiErr {
        ApiErr::bad(-2010, msg)
    }
}

/// Binance's order types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `MARKET`.
    Market,
    /// `LIMIT`.
    Limit,
    /// `LIMIT_MAKER`.
    LimitMaker,
    /// `STOP_LOSS`.
    StopLoss,
    /// `STOP_LOSS_LIMIT`.
    StopLossLimit,
    /// `TAKE_PROFIT`.
    TakeProfit,
    /// `TAKE_PROFIT_LIMIT`.
    TakeProfitLimit,
}

impl Kind {
    /// Reads Binance's name.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "MARKET" => Kind::Market,
            "LIMIT" => Kind::Limit,
            "LIMIT_MAKER" => Kind::LimitMaker,
            "STOP_LOSS" => Kind::StopLoss,
            "STOP_LOSS_LIMIT" => Kind::StopLossLimit,
            "TAKE_PROFIT" => Kind::TakeProfit,
            "TAKE_PROFIT_LIMIT" => Kind::TakeProfitLimit,
            _ => return None,
        })
    }

    /// Binance's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Market => "MARKET",
            Kind::Limit => "LIMIT",
            Kind::LimitMaker => "LIMIT_MAKER",
            Kind::StopLoss => "STOP_LOSS",
            Kind::StopLossLimit => "STOP_LOSS_LIMIT",
            Kind::TakeProfit => "TAKE_PROFIT",
            Kind::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
        }
    }

    fn has_limit_price(self) -> bool {
        matches!(
            self,
            Kind::Limit | Kind::LimitMaker | Kind::StopLossLimit | Kind::TakeProfitLimit
        )
    }

    fn has_stop(self) -> bool {
        matches!(
            self,
            Kind::StopLoss | Kind::StopLossLimit | Kind::TakeProfit | Kind::TakeProfitLimit
        )
    }

    fn needs_tif(self) -> bool {
        matches!(
            self,
            Kind::Limit | Kind::StopLossLimit | Kind::TakeProfitLimit
        )
    }

    fn executes_at_market(self) -> bool {
        matches!(self, Kind::Market | Kind::StopLoss | Kind::TakeProfit)
    }
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tif {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
}

impl Tif {
    /// Reads Binance's name.
    pub fn parse(s: &str) -> Option<Tif> {
        match s {
            "GTC" => Some(Tif::Gtc),
            "IOC" => Some(Tif::Ioc),
            "FOK" => Some(Tif::Fok),
            _ => None,
        }
    }

    /// Binance's name.
    pub fn name(self) -> &'static str {
        match self {
            Tif::Gtc => "GTC",
            Tif::Ioc => "IOC",
            Tif::Fok => "FOK",
        }
    }
}

/// Binance's order statuses used by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Working, nothing filled.
    New,
    /// Working, partly filled.
    PartiallyFilled,
    /// Done.
    Filled,
    /// Cancelled.
    Canceled,
    /// Ran out of time in force.
    Expired,
}

impl Status {
    /// Binance's name.
    pub fn name(self) -> &'static str {
        match self {
            Status::New => "NEW",
            Status::PartiallyFilled => "PARTIALLY_FILLED",
            Status::Filled => "FILLED",
            Status::Canceled => "CANCELED",
            Status::Expired => "EXPIRED",
        }
    }

    /// Still working.
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::PartiallyFilled)
    }
}

/// A validated new-order request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Venue symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Order type.
    pub kind: Kind,
    /// Time in force (limit types).
    pub tif: Option<Tif>,
    /// Base quantity.
    pub quantity: Option<Decimal>,
    /// Quote quantity (market orders).
    pub quote_qty: Option<Decimal>,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Trigger price.
    pub stop_price: Option<Decimal>,
    /// `newClientOrderId`, if sent.
    pub client_id: Option<String>,
}

/// One order of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Venue order id.
    pub id: u64,
    /// Venue symbol.
    pub symbol: String,
    /// Client order id.
    pub client_id: String,
    /// Side.
    pub side: Side,
    /// Type.
    pub kind: Kind,
    /// Time in force.
    pub tif: Option<Tif>,
    /// Limit price (0 for market types).
    pub price: Decimal,
    /// Trigger price (0 when none).
    pub stop_price: Decimal,
    /// Quantity ordered.
    pub orig_qty: Decimal,
    /// Quote quantity ordered (market orders sized in quote; else 0).
    pub orig_quote_qty: Decimal,
    /// Filled quantity.
    pub executed_qty: Decimal,
    /// Filled quote amount.
    pub cum_quote: Decimal,
    /// Status.
    pub status: Status,
    /// Created (ms).
    pub time: i64,
    /// Last change (ms).
    pub update_time: i64,
    /// When it started working (ms); stops only once triggered.
    pub working_time: Option<i64>,
    /// The asset and amount still locked for it.
    pub locked: Decimal,
    /// Ids of its trades.
    pub trade_ids: Vec<u64>,
}

impl Order {
    fn lock_asset<'m>(&self, m: &'m Market) -> &'m str {
        match self.side {
            Side::Buy => m.symbol.quote.as_str(),
            Side::Sell => m.symbol.base.as_str(),
        }
    }

    fn remaining(&self) -> Decimal {
        self.orig_qty - self.executed_qty
    }
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeRec {
    /// Trade id.
    pub id: u64,
    /// Its order.
    pub order_id: u64,
    /// Venue symbol.
    pub symbol: String,
    /// Price.
    pub price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// `price × qty`.
    pub quote_qty: Decimal,
    /// Commission.
    pub commission: Decimal,
    /// Commission asset.
    pub commission_asset: String,
    /// Time (ms).
    pub time: i64,
    /// Our side was the buyer.
    pub is_buyer: bool,
    /// Our order was resting.
    pub is_maker: bool,
}

/// Free and locked amounts of one asset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bal {
    /// Available.
    pub free: Decimal,
    /// Held by open orders.
    pub locked: Decimal,
}

/// The account and the markets.
#[derive(Debug)]
pub struct Engine {
    /// Listed pairs by venue symbol.
    pub markets: BTreeMap<String, Market>,
    balances: BTreeMap<String, Bal>,
    orders: Vec<Order>,
    /// Indices of the orders still open (`NEW`, `PARTIALLY_FILLED`), oldest first.
    open: BTreeSet<usize>,
    by_client: HashMap<(String, String), usize>,
    trades: Vec<TradeRec>,
    fee: Decimal,
    max_fill_quote: Option<Decimal>,
    /// Counts the calls of [`advance`](Self::advance) that moved a market; watched by the
    /// kline streams ([`Engine::watch_advances`]).
    advances: tokio::sync::watch::Sender<u64>,
}

const COMMISSION_DP: u32 = 8;

fn insufficient() -> ApiErr {
    ApiErr::rejected("Account has insufficient balance for requested action.")
}

impl Engine {
    /// An engine over `markets` with starting `balances` and a commission rate.
    pub fn new(markets: Vec<Market>, balances: &[(String, Decimal)], fee: Decimal) -> Engine {
        let mut b: BTreeMap<String, Bal> = BTreeMap::new();
        for m in &markets {
            b.entry(m.symbol.base.to_string()).or_default();
            b.entry(m.symbol.quote.to_string()).or_default();
        }
        for (asset, amount) in balances {
            b.entry(asset.clone()).or_default().free += *amount;
        }
        Engine {
            markets: markets.into_iter().map(|m| (m.symbol.venue(), m)).collect(),
            balances: b,
            orders: Vec::new(),
            open: BTreeSet::new(),
            by_client: HashMap::new(),
            trades: Vec::new(),
            fee,
            max_fill_quote: None,
            advances: tokio::sync::watch::Sender::new(0),
        }
    }

    /// A receiver that is marked changed each time [`advance`](Self::advance) moves a market
    /// (its value counts those calls). The kline streams wait on it; a market's cursor is the
    /// truth, the notification only says when to look.
    pub fn watch_advances(&self) -> tokio::sync::watch::Receiver<u64> {
        self.advances.subscribe()
    }

    /// Caps the quote amount of resting-order fills per pair per candle (`None`: no cap
    /// beyond the candle's volume). See the [module documentation](self).
    pub fn set_max_fill_quote(&mut self, cap: Option<Decimal>) {
        self.max_fill_quote = cap;
    }

    /// The quote cap of resting-order fills per pair per candle.
    pub fn max_fill_quote(&self) -> Option<Decimal> {
        self.max_fill_quote
    }

    /// The orders still open (`NEW`, `PARTIALLY_FILLED`), oldest first.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> + '_ {
        self.open.iter().filter_map(|&i| self.orders.get(i))
    }

    /// The commission rate.
    pub fn fee(&self) -> Decimal {
        self.fee
    }

    /// Every balance, by asset.
    pub fn balances(&self) -> &BTreeMap<String, Bal> {
        &self.balances
    }

    /// Every order ever placed, oldest first.
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// Every trade, oldest first.
    pub fn trades(&self) -> &[TradeRec] {
        &self.trades
    }

    /// An order by id.
    pub fn order(&self, id: u64) -> Option<&Order> {
        let idx = usize::try_from(id.checked_sub(1)?).ok()?;
        self.orders.get(idx)
    }

    /// Finds an order of `symbol` by venue id or (the latest with) client id.
    pub fn find(&self, symbol: &str, id: Option<u64>, client_id: Option<&str>) -> Option<&Order> {
        let o = match (id, client_id) {
            (Some(id), _) => self.order(id)?,
            (None, Some(c)) => {
                let idx = *self.by_client.get(&(symbol.to_string(), c.to_string()))?;
                self.orders.get(idx)?
            }
            (None, None) => return None,
        };
        (o.symbol == symbol && client_id.is_none_or(|c| c == o.client_id)).then_some(o)
    }

    fn bal(&mut self, asset: &str) -> &mut Bal {
        self.balances.entry(asset.to_string()).or_default()
    }

    /// Checks and places an order; with `test_only` only checks. Returns the order's id.
    pub fn place(&mut self, req: &NewOrder, now: i64, test_only: bool) -> Result<u64, ApiErr> {
        let m = self
            .markets
            .get(&req.symbol)
            .ok_or_else(ApiErr::invalid_symbol)?;
        let last = m.last_price();
        // Mandatory parameters of the type.
        if req.kind.needs_tif() && req.tif.is_none() {
            return Err(ApiErr::mandatory("timeInForce"));
        }
        if req.kind.has_limit_price() && req.price.is_none() {
            return Err(ApiErr::mandatory("price"));
        }
        if req.kind.has_stop() && req.stop_price.is_none() {
            return Err(ApiErr::mandatory("stopPrice"));
        }
        match (req.kind, req.quantity, req.quote_qty) {
            (Kind::Market, None, None) => {
                return Err(ApiErr::bad(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                ));
            }
            (Kind::Market, Some(_), Some(_)) => {
                return Err(ApiErr::bad(
                    -1106,
                    "Parameter 'quoteOrderQty' sent when not required.",
                ));
            }
            (Kind::Market, _, _) => {}
            (_, None, _) => return Err(ApiErr::mandatory("quantity")),
            (_, Some(_), Some(_)) => {
                return Err(ApiErr::bad(
                    -1106,
                    "Parameter 'quoteOrderQty' sent when not required.",
                ));
            }
            _ => {}
        }
        if let Some(c) = &req.client_id
            && let Some(&idx) = self.by_client.get(&(req.symbol.clone(), c.clone()))
            && self.orders.get(idx).is_some_and(|o| o.status.is_open())
        {
            return Err(ApiErr::rejected("Duplicate order sent."));
        }

        // Quantity: given, or from the quote amount at the last price (down to the step).
        let at_market = req.kind.executes_at_market();
        let qty = match (req.quantity, req.quote_qty) {
            (Some(q), _) => q,
            (None, Some(quote)) => quote
                .checked_div(last)
                .map(|q| m.filters.round_quantity(q, true))
                .unwrap_or(Decimal::ZERO),
            _ => Decimal::ZERO,
        };
        let price = req.price.unwrap_or(Decimal::ZERO);
        let stop = req.stop_price.unwrap_or(Decimal::ZERO);
        let valuation = if req.kind.has_limit_price() {
            price
        } else if req.kind.has_stop() {
            stop
        } else {
            last
        };
        let check = OrderCheck {
            side: req.side,
            is_market: at_market,
            quantity: qty,
            price: valuation,
            average_price: (!at_market).then_some(last),
        };
        m.filters
            .check(&check)
            .map_err(|v| ApiErr::bad(-1013, format!("Filter failure: {}", v.filter)))?;
        if req.kind.has_stop()
            && let Some(pf) = &m.filters.price
            && !pf.tick_size.is_zero()
            && !(stop % pf.tick_size).is_zero()
        {
            return Err(ApiErr::bad(-1013, "Filter failure: PRICE_FILTER"));
        }
        if let Some(max) = m.filters.max_num_orders {
            let open = self
                .open_orders()
                .filter(|o| o.symbol == req.symbol)
                .count();
            if open >= usize::try_from(max).unwrap_or(usize::MAX) {
                return Err(ApiErr::bad(-1013, "Filter failure: MAX_NUM_ORDERS"));
            }
        }
        if req.kind.has_stop() {
            let triggered = stop_triggered(req.kind, req.side, stop, last, last);
            if triggered {
                return Err(ApiErr::rejected("Order would trigger immediately."));
            }
        }
        let crosses = match req.side {
            Side::Buy => price >= last,
            Side::Sell => price <= last,
        };
        if req.kind == Kind::LimitMaker && crosses {
            return Err(ApiErr::rejected("Order would immediately match and take."));
        }

        // Funds: what the order needs now (and locks while it rests).
        let (asset, need) = match req.side {
            Side::Buy => (
                m.symbol.quote.to_string(),
                match req.kind {
                    Kind::Market => qty.checked_mul(last),
                    Kind::StopLoss | Kind::TakeProfit => qty.checked_mul(stop),
                    _ => qty.checked_mul(price),
                }
                .ok_or_else(insufficient)?,
            ),
            Side::Sell => (m.symbol.base.to_string(), qty),
        };
        let free = self
            .balances
            .get(&asset)
            .map(|b| b.free)
            .unwrap_or_default();
        if need > free {
            return Err(insufficient());
        }
        if test_only {
            return Ok(0);
        }

        let id = u64::try_from(self.orders.len()).unwrap_or(u64::MAX - 1) + 1;
        let client_id = req
            .client_id
            .clone()
            .unwrap_or_else(|| format!("sim-{id:016}"));
        let locks = req.kind != Kind::Market;
        let order = Order {
            id,
            symbol: req.symbol.clone(),
            client_id: client_id.clone(),
            side: req.side,
            kind: req.kind,
            tif: if req.kind.needs_tif() { req.tif } else { None },
            price,
            stop_price: stop,
            orig_qty: qty,
            orig_quote_qty: req.quote_qty.unwrap_or(Decimal::ZERO),
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: Status::New,
            time: now,
            update_time: now,
            working_time: (!req.kind.has_stop()).then_some(now),
            locked: if locks { need } else { Decimal::ZERO },
            trade_ids: Vec::new(),
        };
        if locks {
            let b = self.bal(&asset);
            b.free -= need;
            b.locked += need;
        }
        self.orders.push(order);
        let idx = self.orders.len() - 1;
        self.open.insert(idx);
        self.by_client.insert((req.symbol.clone(), client_id), idx);

        match req.kind {
            Kind::Market => self.execute(idx, last, qty, false, now),
            Kind::Limit if crosses => self.execute(idx, last, qty, false, now),
            Kind::Limit if req.tif != Some(Tif::Gtc) => self.finish(idx, Status::Expired, now),
            _ => {}
        }
        Ok(id)
    }

    /// Fills `qty` of order `idx` at `price`, moving funds and charging the commission.
    fn execute(&mut self, idx: usize, price: Decimal, qty: Decimal, is_maker: bool, now: i64) {
        let Some(o) = self.orders.get(idx) else {
            return;
        };
        let Some(m) = self.markets.get(&o.symbol) else {
            return;
        };
        let (base, quote) = (m.symbol.base.to_string(), m.symbol.quote.to_string());
        let (side, kind, limit, stop, order_id, symbol) = (
            o.side,
            o.kind,
            o.price,
            o.stop_price,
            o.id,
            o.symbol.clone(),
        );
        let quote_amount = price * qty;
        // The share of the lock this quantity held.
        let lock_share = match (side, kind) {
            (_, Kind::Market) => Decimal::ZERO,
            (Side::Buy, Kind::StopLoss | Kind::TakeProfit) => stop * qty,
            (Side::Buy, _) => limit * qty,
            (Side::Sell, _) => qty,
        };
        let lock_asset = if side == Side::Buy { &quote } else { &base };
        {
            let b = self.bal(lock_asset);
            b.locked -= lock_share;
            b.free += lock_share;
        }
        let (commission, commission_asset) = match side {
            Side::Buy => {
                let c = (qty * self.fee)
                    .round_dp_with_strategy(COMMISSION_DP, RoundingStrategy::MidpointAwayFromZero);
                self.bal(&quote).free -= quote_amount;
                self.bal(&base).free += qty - c;
                (c, base.clone())
            }
            Side::Sell => {
                let c = (quote_amount * self.fee)
                    .round_dp_with_strategy(COMMISSION_DP, RoundingStrategy::MidpointAwayFromZero);
                self.bal(&base).free -= qty;
                self.bal(&quote).free += quote_amount - c;
                (c, quote.clone())
            }
        };
        let trade_id = u64::try_from(self.trades.len()).unwrap_or(u64::MAX - 1) + 1;
        self.trades.push(TradeRec {
            id: trade_id,
            order_id,
            symbol,
            price,
            qty,
            quote_qty: quote_amount,
            commission,
            commission_asset,
            time: now,
            is_buyer: side == Side::Buy,
            is_maker,
        });
        if let Some(o) = self.orders.get_mut(idx) {
            o.executed_qty += qty;
            o.cum_quote += quote_amount;
            o.locked -= lock_share;
            o.update_time = now;
            o.trade_ids.push(trade_id);
            o.status = if o.executed_qty >= o.orig_qty {
                Status::Filled
            } else {
                Status::PartiallyFilled
            };
            if o.status == Status::Filled {
                self.open.remove(&idx);
                self.release(idx);
            }
        }
    }

    /// Gives back whatever the order still locks.
    fn release(&mut self, idx: usize) {
        let Some(o) = self.orders.get(idx) else {
            return;
        };
        let Some(m) = self.markets.get(&o.symbol) else {
            return;
        };
        let asset = o.lock_asset(m).to_string();
        let amount = o.locked;
        if !amount.is_zero() {
            let b = self.bal(&asset);
            b.locked -= amount;
            b.free += amount;
        }
        if let Some(o) = self.orders.get_mut(idx) {
            o.locked = Decimal::ZERO;
        }
    }

    fn finish(&mut self, idx: usize, status: Status, now: i64) {
        self.open.remove(&idx);
        self.release(idx);
        if let Some(o) = self.orders.get_mut(idx) {
            o.status = status;
            o.update_time = now;
        }
    }

    /// Cancels an open order; -2011 when there is no such open order.
    pub fn cancel(
        &mut self,
        symbol: &str,
        id: Option<u64>,
        client_id: Option<&str>,
        now: i64,
    ) -> Result<u64, ApiErr> {
        if !self.markets.contains_key(symbol) {
            return Err(ApiErr::invalid_symbol());
        }
        let unknown = || ApiErr::bad(-2011, "Unknown order sent.");
        let o = self.find(symbol, id, client_id).ok_or_else(unknown)?;
        if !o.status.is_open() {
            return Err(unknown());
        }
        let order_id = o.id;
        let idx = usize::try_from(order_id - 1).map_err(|_| unknown())?;
        self.finish(idx, Status::Canceled, now);
        Ok(order_id)
    }

    /// Moves `symbol`'s clock `n` candles forward (every pair when `None`), matching resting
    /// orders against each new candle, and notifies the kline streams
    /// ([`watch_advances`](Self::watch_advances)). Returns how many candles each pair
    /// advanced.
    pub fn advance(&mut self, symbol: Option<&str>, n: usize, now: i64) -> Vec<(String, usize)> {
        let names: Vec<String> = match symbol {
            Some(s) => vec![s.to_string()],
            None => self.markets.keys().cloned().collect(),
        };
        let mut out = Vec::new();
        for name in names {
            let mut moved = 0;
            for _ in 0..n {
                let Some(m) = self.markets.get_mut(&name) else {
                    break;
                };
                if m.cursor + 1 >= m.candles.len() {
                    break;
                }
                m.cursor += 1;
                moved += 1;
                self.match_candle(&name, now);
            }
            out.push((name, moved));
        }
        if out.iter().any(|(_, moved)| *moved > 0) {
            self.advances.send_modify(|n| *n = n.wrapping_add(1));
        }
        out
    }

    /// Matches the open orders of `symbol` against its current candle.
    fn match_candle(&mut self, symbol: &str, now: i64) {
        let Some(m) = self.markets.get(symbol) else {
            return;
        };
        let c = *m.current();
        let step = m.step();
        let open: Vec<usize> = self
            .open
            .iter()
            .copied()
            .filter(|&i| self.orders.get(i).is_some_and(|o| o.symbol == symbol))
            .collect();
        // Each candle's volume (and quote cap) is shared by the orders it fills, oldest first.
        let mut volume_left = aurum_core::filters::round_qty_down(c.volume, step);
        let mut quote_left = self.max_fill_quote;
        for idx in open {
            let Some(o) = self.orders.get(idx) else {
                continue;
            };
            let (kind, side, price, stop) = (o.kind, o.side, o.price, o.stop_price);
            if o.working_time.is_none() {
                if !stop_triggered(kind, side, stop, c.low, c.high) {
                    continue;
                }
                if let Some(o) = self.orders.get_mut(idx) {
                    o.working_time = Some(now);
                }
                if matches!(kind, Kind::StopLoss | Kind::TakeProfit) {
                    let qty = o_remaining(&self.orders, idx);
                    self.execute(idx, stop, qty, false, now);
                    continue;
                }
            }
            let reached = match side {
                Side::Buy => c.low <= price,
                Side::Sell => c.high >= price,
            };
            if !reached || volume_left.is_zero() {
                continue;
            }
            let mut qty = o_remaining(&self.orders, idx).min(volume_left);
            if let Some(left) = quote_left {
                let affordable = left
                    .checked_div(price)
                    .map(|q| aurum_core::filters::round_qty_down(q, step))
                    .unwrap_or(Decimal::ZERO);
                qty = qty.min(affordable);
            }
            if qty <= Decimal::ZERO {
                continue;
            }
            volume_left -= qty;
            if let Some(left) = quote_left.as_mut() {
                *left -= qty * price;
            }
            self.execute(idx, price, qty, true, now);
        }
    }
}

fn o_remaining(orders: &[Order], idx: usize) -> Decimal {
    orders.get(idx).map(Order::remaining).unwrap_or_default()
}

/// Whether a stop order triggers when the price ranges over `[low, high]`.
fn stop_triggered(kind: Kind, side: Side, stop: Decimal, low: Decimal, high: Decimal) -> bool {
    let stop_loss = matches!(kind, Kind::StopLoss | Kind::StopLossLimit);
    match (stop_loss, side) {
        // Stop-loss: a sell protects against a fall, a buy against a rise.
        (true, Side::Sell) | (false, Side::Buy) => low <= stop,
        (true, Side::Buy) | (false, Side::Sell) => high >= stop,
    }
}
