//! What an exchange returns, in aurum's types: klines, orders, fills, trades, balances.

use aurum_core::{
    Asset, Candle, ClientOrderId, Fill, Money, OrderStatus, OrderType, Price, Quantity, Side,
    Symbol, TimeInForce,
};
use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// One kline (candlestick) as a venue reports it: the candle plus what aurum's [`Candle`] does
/// not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kline {
    /// Open time, OHLC and base volume.
    pub candle: Candle,
    /// Last millisecond of the bar (`open_time + interval - 1`).
    pub close_time_ms: i64,
    /// Traded quote volume.
    pub quote_volume: Decimal,
    /// Number of trades.
    pub trades: u64,
}

/// Which klines to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineQuery {
    /// The pair.
    pub symbol: Symbol,
    /// Bar length.
    pub timeframe: aurum_core::Timeframe,
    /// First open time wanted (ms, inclusive).
    pub start_ms: Option<i64>,
    /// Last open time wanted (ms, inclusive).
    pub end_ms: Option<i64>,
    /// At most this many bars (Binance: 1..=1000, default 500).
    pub limit: Option<u16>,
}

/// One event of a Binance kline stream (`<symbol>@kline_<interval>`): the bar so far, or the
/// final bar when [`closed`](Self::closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineEvent {
    /// The stream named by a combined-stream message (`btcusdt@kline_1m`); `None` for a raw
    /// stream's message, which is the event alone.
    pub stream: Option<String>,
    /// When the venue sent it (`E`), ms.
    pub event_time_ms: i64,
    /// The venue's symbol name (`s`, e.g. `BTCUSDT`).
    pub venue_symbol: String,
    /// The bar length (`k.i`).
    pub timeframe: aurum_core::Timeframe,
    /// The bar: open time `k.t`, OHLC `k.o k.h k.l k.c`, volume `k.v`, close time `k.T`,
    /// quote volume `k.q`, trades `k.n`.
    pub kline: Kline,
    /// `k.x`: the bar is closed, its values are final.
    pub closed: bool,
    /// Taker buy base volume (`k.V`), when sent.
    pub taker_buy_base: Option<Decimal>,
    /// Taker buy quote volume (`k.Q`), when sent.
    pub taker_buy_quote: Option<Decimal>,
}

/// One text message of a Binance market stream connection, as far as aurum reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamMessage {
    /// A kline event (combined `{"stream", "data"}` or raw).
    Kline(KlineEvent),
    /// An error the server reports (`{"error": {"code", "msg"}}`, or `{"code", "msg"}`).
    Error {
        /// The stream server's code (`2`: invalid request, `3`: invalid JSON...).
        code: i64,
        /// Its message.
        msg: String,
    },
    /// Anything else: the answer to a request (`{"result": null, "id": 1}`) or an event of
    /// another type. `excerpt` is the start of the message.
    Other {
        /// The start of the message (see [`parse::excerpt`](crate::parse::excerpt)).
        excerpt: String,
    },
}

/// An order status as Binance names it. Kept next to aurum's [`OrderStatus`] because two venue
/// states (e.g. `EXPIRED` and `EXPIRED_IN_MATCH`) map to one aurum state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VenueOrderStatus {
    /// `NEW`: accepted, nothing filled.
    New,
    /// `PENDING_NEW`: accepted as part of an order list, not yet working.
    PendingNew,
    /// `PARTIALLY_FILLED`.
    PartiallyFilled,
    /// `FILLED`.
    Filled,
    /// `CANCELED`.
    Canceled,
    /// `PENDING_CANCEL` (unused by Binance today, still documented).
    PendingCancel,
    /// `REJECTED`.
    Rejected,
    /// `EXPIRED`: time in force ran out (IOC/FOK) or the venue expired it.
    Expired,
    /// `EXPIRED_IN_MATCH`: expired by self-trade prevention.
    ExpiredInMatch,
}

const VENUE_STATUSES: [(VenueOrderStatus, &str); 9] = [
    (VenueOrderStatus::New, "NEW"),
    (VenueOrderStatus::PendingNew, "PENDING_NEW"),
    (VenueOrderStatus::PartiallyFilled, "PARTIALLY_FILLED"),
    (VenueOrderStatus::Filled, "FILLED"),
    (VenueOrderStatus::Canceled, "CANCELED"),
    (VenueOrderStatus::PendingCancel, "PENDING_CANCEL"),
    (VenueOrderStatus::Rejected, "REJECTED"),
    (VenueOrderStatus::Expired, "EXPIRED"),
    (VenueOrderStatus::ExpiredInMatch, "EXPIRED_IN_MATCH"),
];

impl VenueOrderStatus {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        VENUE_STATUSES
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// aurum's status. `executed` decides the working states: an order that is being cancelled
    /// (`PENDING_CANCEL`) is still working, partially filled or not.
    pub fn to_status(self, executed: Quantity) -> OrderStatus {
        let working = if executed > Decimal::ZERO {
            OrderStatus::PartiallyFilled
        } else {
            OrderStatus::Submitted
        };
        match self {
            VenueOrderStatus::New | VenueOrderStatus::PendingNew => OrderStatus::Submitted,
            VenueOrderStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
            VenueOrderStatus::Filled => OrderStatus::Filled,
            VenueOrderStatus::Canceled => OrderStatus::Cancelled,
            VenueOrderStatus::PendingCancel => working,
            VenueOrderStatus::Rejected => OrderStatus::Rejected,
            VenueOrderStatus::Expired | VenueOrderStatus::ExpiredInMatch => OrderStatus::Expired,
        }
    }
}

impl FromStr for VenueOrderStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        VENUE_STATUSES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(v, _)| *v)
            .ok_or(())
    }
}

impl fmt::Display for VenueOrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Binance's name of an order type (`LIMIT`, `STOP_LOSS_LIMIT`...). A trailing stop is a
/// `STOP_LOSS` with a `trailingDelta` on Binance.
pub fn order_type_name(t: OrderType) -> &'static str {
    match t {
        OrderType::Market => "MARKET",
        OrderType::Limit => "LIMIT",
        OrderType::LimitMaker => "LIMIT_MAKER",
        OrderType::StopLoss | OrderType::TrailingStop => "STOP_LOSS",
        OrderType::StopLossLimit => "STOP_LOSS_LIMIT",
        OrderType::TakeProfit => "TAKE_PROFIT",
        OrderType::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
    }
}

/// aurum's order type for a Binance name.
pub fn order_type_from_name(s: &str) -> Option<OrderType> {
    Some(match s {
        "MARKET" => OrderType::Market,
        "LIMIT" => OrderType::Limit,
        "LIMIT_MAKER" => OrderType::LimitMaker,
        "STOP_LOSS" => OrderType::StopLoss,
        "STOP_LOSS_LIMIT" => OrderType::StopLossLimit,
        "TAKE_PROFIT" => OrderType::TakeProfit,
        "TAKE_PROFIT_LIMIT" => OrderType::TakeProfitLimit,
        _ => return None,
    })
}

/// Binance's name of a side.
pub fn side_name(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// aurum's side for a Binance name.
pub fn side_from_name(s: &str) -> Option<Side> {
    match s {
        "BUY" => Some(Side::Buy),
        "SELL" => Some(Side::Sell),
        _ => None,
    }
}

/// Binance's name of a time in force.
pub fn tif_name(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    }
}

/// aurum's time in force for a Binance name.
pub fn tif_from_name(s: &str) -> Option<TimeInForce> {
    match s {
        "GTC" => Some(TimeInForce::Gtc),
        "IOC" => Some(TimeInForce::Ioc),
        "FOK" => Some(TimeInForce::Fok),
        _ => None,
    }
}

/// The state of one order on the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReport {
    /// The pair.
    pub symbol: Symbol,
    /// The venue's order id.
    pub order_id: u64,
    /// The client order id the order was placed with.
    pub client_order_id: ClientOrderId,
    /// Buy or sell.
    pub side: Side,
    /// The order type.
    pub order_type: OrderType,
    /// Time in force, for limit-type orders.
    pub time_in_force: Option<TimeInForce>,
    /// Limit price (0 for market orders).
    pub price: Price,
    /// Trigger price (0 when none).
    pub stop_price: Price,
    /// Quantity ordered (0 for a market order sized in quote).
    pub orig_qty: Quantity,
    /// Quantity filled so far.
    pub executed_qty: Quantity,
    /// Quote amount filled so far (Binance's `cummulativeQuoteQty`).
    pub cumulative_quote: Money,
    /// aurum's status.
    pub status: OrderStatus,
    /// The venue's status as sent.
    pub venue_status: VenueOrderStatus,
    /// Creation or transaction time (ms).
    pub time_ms: i64,
    /// Last update time (ms); equals `time_ms` when the venue did not say.
    pub update_time_ms: i64,
}

impl OrderReport {
    /// Average fill price, `cumulative_quote / executed_qty`, or `None` before any fill.
    pub fn average_price(&self) -> Option<Price> {
        if self.executed_qty.is_zero() {
            None
        } else {
            self.cumulative_quote.checked_div(self.executed_qty)
        }
    }
}

/// A placed order as the venue acknowledged it, with the fills it got at once (market and
/// crossing limit orders) or, after a reconciliation, every fill found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAck {
    /// The order.
    pub order: OrderReport,
    /// Its executions, commissions in whatever asset the venue charged.
    pub fills: Vec<Fill>,
    /// True when the acknowledgement came from a lookup by client order id (the placement's
    /// own answer was lost, or the order already existed).
    pub recovered: bool,
}

impl OrderAck {
    /// Base quantity of the fills.
    pub fn filled_qty(&self) -> Quantity {
        self.fills.iter().map(|f| f.quantity).sum()
    }

    /// Quote value of the fills (`Σ price × qty`), `None` if a product overflows.
    pub fn filled_quote(&self) -> Option<Money> {
        self.fills
            .iter()
            .try_fold(Decimal::ZERO, |acc, f| acc.checked_add(f.notional()?))
    }

    /// Volume-weighted average fill price, `None` without fills.
    pub fn vwap(&self) -> Option<Price> {
        let qty = self.filled_qty();
        if qty.is_zero() {
            return None;
        }
        self.filled_quote()?.checked_div(qty)
    }

    /// Total commission charged in `asset`.
    pub fn commission_in(&self, asset: &Asset) -> Money {
        self.fills
            .iter()
            .filter(|f| &f.fee_asset == asset)
            .map(|f| f.fee)
            .sum()
    }
}

/// One of the account's trades (Binance `myTrades`). The venue reports the order id, not the
/// client order id: [`Trade::into_fill`] attaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// The pair.
    pub symbol: Symbol,
    /// The venue's trade id.
    pub trade_id: u64,
    /// The venue's order id.
    pub order_id: u64,
    /// Our side of the trade.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Base quantity.
    pub quantity: Quantity,
    /// Quote quantity as the venue computed it.
    pub quote_quantity: Money,
    /// Commission.
    pub fee: Money,
    /// The commission's asset.
    pub fee_asset: Asset,
    /// Execution time (ms).
    pub time_ms: i64,
    /// True when our order was resting (maker).
    pub is_maker: bool,
}

impl Trade {
    /// The trade as an aurum [`Fill`] of the order known as `client_order_id`.
    pub fn into_fill(self, client_order_id: ClientOrderId) -> Fill {
        Fill {
            client_order_id,
            trade_id: self.trade_id.to_string(),
            symbol: self.symbol,
            side: self.side,
            price: self.price,
            quantity: self.quantity,
            fee: self.fee,
            fee_asset: self.fee_asset,
            ts_ms: self.time_ms,
        }
    }
}

/// Where to start reading trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradesSince {
    /// Trades with an id at or after this one (Binance `fromId`).
    TradeId(u64),
    /// Trades at or after this time, ms (Binance `startTime`).
    TimeMs(i64),
    /// The trades of one order (Binance `orderId`).
    Order(u64),
}

/// One asset's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The asset.
    pub asset: Asset,
    /// Available.
    pub free: Money,
    /// Held by open orders.
    pub locked: Money,
}

impl Balance {
    /// `free + locked`.
    pub fn total(&self) -> Money {
        self.free + self.locked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn every_binance_status_maps_to_an_aurum_status() {
        use OrderStatus as S;
        use VenueOrderStatus as V;
        let cases = [
            ("NEW", dec!(0), S::Submitted),
            ("PENDING_NEW", dec!(0), S::Submitted),
            ("PARTIALLY_FILLED", dec!(0.5), S::PartiallyFilled),
            ("FILLED", dec!(1), S::Filled),
            ("CANCELED", dec!(0), S::Cancelled),
            ("CANCELED", dec!(0.5), S::Cancelled),
            ("PENDING_CANCEL", dec!(0), S::Submitted),
            ("PENDING_CANCEL", dec!(0.5), S::PartiallyFilled),
            ("REJECTED", dec!(0), S::Rejected),
            ("EXPIRED", dec!(0), S::Expired),
            ("EXPIRED_IN_MATCH", dec!(0.2), S::Expired),
        ];
        for (name, executed, want) in cases {
            let v: V = name.parse().unwrap();
            assert_eq!(v.as_str(), name);
            assert_eq!(v.to_status(executed), want, "{name}");
        }
        assert!("NEWISH".parse::<V>().is_err());
    }

    #[test]
    fn order_type_names_round_trip() {
        for t in [
            OrderType::Market,
            OrderType::Limit,
            OrderType::LimitMaker,
            OrderType::StopLoss,
            OrderType::StopLossLimit,
            OrderType::TakeProfit,
            OrderType::TakeProfitLimit,
        ] {
            assert_eq!(order_type_from_name(order_type_name(t)), Some(t));
        }
        assert_eq!(order_type_name(OrderType::TrailingStop), "STOP_LOSS");
        assert_eq!(order_type_from_name("OCO"), None);
    }
}
