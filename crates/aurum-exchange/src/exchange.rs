//! The [`Exchange`] trait: everything the engine asks of a venue.
//!
//! It uses native `async fn` in traits, written as `fn … -> impl Future<Output = …> + Send` so
//! that the futures can be spawned on a multi-threaded runtime. Such a trait is not object-safe:
//! the engine is generic over `E: Exchange` (or holds an enum of venues), which keeps calls
//! static and free of boxing. Implementations write plain `async fn`.

use crate::error::ExchangeError;
use crate::types::{Balance, Kline, KlineQuery, OrderAck, OrderReport, Trade, TradesSince};
use aurum_core::{ClientOrderId, OrderIntent, Price, Symbol, SymbolFilters};
use std::future::Future;

/// Shorthand for results of exchange calls.
pub type Result<T, E = ExchangeError> = std::result::Result<T, E>;

/// A trading venue, as the engine sees it (Binance Spot, the simulator, a paper matcher).
pub trait Exchange: Send + Sync {
    /// The venue's clock, ms since the Unix epoch.
    fn server_time(&self) -> impl Future<Output = Result<i64>> + Send;

    /// The trading rules of every listed pair.
    fn exchange_info(&self) -> impl Future<Output = Result<Vec<SymbolFilters>>> + Send;

    /// Candles, oldest first.
    fn klines(&self, query: &KlineQuery) -> impl Future<Output = Result<Vec<Kline>>> + Send;

    /// The last traded price.
    fn ticker_price(&self, symbol: &Symbol) -> impl Future<Output = Result<Price>> + Send;

    /// Places an order for an intent, idempotently: the intent's client order id goes with it,
    /// and an order whose answer was lost is looked up by that id before it is ever sent again,
    /// so one intent never becomes two orders. Prices and quantities are rounded to the
    /// venue's grid and checked against its filters before anything is sent.
    fn place_order(&self, intent: &OrderIntent) -> impl Future<Output = Result<OrderAck>> + Send;

    /// Cancels an open order by its client order id.
    fn cancel_order(
        &self,
        symbol: &Symbol,
        client_order_id: &ClientOrderId,
    ) -> impl Future<Output = Result<OrderReport>> + Send;

    /// The order known by `client_order_id`, or `None` when the venue has no such order.
    fn order_by_client_id(
        &self,
        symbol: &Symbol,
        client_order_id: &ClientOrderId,
    ) -> impl Future<Output = Result<Option<OrderReport>>> + Send;

    /// Open orders of one pair, or of every pair.
    fn open_orders(
        &self,
        symbol: Option<&Symbol>,
    ) -> impl Future<Output = Result<Vec<OrderReport>>> + Send;

    /// The account's trades on `symbol` since a trade id, a time, or of one order.
    fn my_trades(
        &self,
        symbol: &Symbol,
        since: TradesSince,
    ) -> impl Future<Output = Result<Vec<Trade>>> + Send;

    /// Every balance of the account.
    fn balances(&self) -> impl Future<Output = Result<Vec<Balance>>> + Send;
}
