//! Binance's JSON shapes for orders, fills, trades, klines and the account.

use crate::engine::{Engine, Order, TradeRec};
use crate::market::Market;
use aurum_core::{Candle, Decimal, Side};
use serde_json::{Value, json};

/// A decimal as Binance prints it: 8 decimals (`"0.00100000"`).
pub fn d8(d: Decimal) -> String {
    let mut x = d;
    x.rescale(8);
    x.to_string()
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// The fields every order answer shares.
fn order_core(o: &Order) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("symbol".into(), json!(o.symbol));
    m.insert("orderId".into(), json!(o.id));
    m.insert("orderListId".into(), json!(-1));
    m.insert("clientOrderId".into(), json!(o.client_id));
    m.insert("price".into(), json!(d8(o.price)));
    m.insert("origQty".into(), json!(d8(o.orig_qty)));
    m.insert("executedQty".into(), json!(d8(o.executed_qty)));
    m.insert("origQuoteOrderQty".into(), json!(d8(o.orig_quote_qty)));
    m.insert("cummulativeQuoteQty".into(), json!(d8(o.cum_quote)));
    m.insert("status".into(), json!(o.status.name()));
    m.insert(
        "timeInForce".into(),
        json!(o.tif.map(|t| t.name()).unwrap_or("GTC")),
    );
    m.insert("type".into(), json!(o.kind.name()));
    m.insert("side".into(), json!(side(o.side)));
    if !o.stop_price.is_zero() {
        m.insert("stopPrice".into(), json!(d8(o.stop_price)));
    }
    m.insert("selfTradePreventionMode".into(), json!("EXPIRE_MAKER"));
    m
}

/// `GET /api/v3/order`, `openOrders`, `allOrders`: the order as queried.
pub fn order_query(o: &Order) -> Value {
    let mut m = order_core(o);
    m.entry("stopPrice").or_insert(json!(d8(Decimal::ZERO)));
    m.insert("icebergQty".into(), json!(d8(Decimal::ZERO)));
    m.insert("time".into(), json!(o.time));
    m.insert("updateTime".into(), json!(o.update_time));
    m.insert("isWorking".into(), json!(o.working_time.is_some()));
    m.insert("workingTime".into(), json!(o.working_time.unwrap_or(-1)));
    Value::Object(m)
}

/// Binance's `newOrderRespType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespType {
    /// Ids and time only.
    Ack,
    /// The order without fills.
    Result,
    /// The order with its fills.
    Full,
}

/// `POST /api/v3/order`: the answer in the asked shape.
pub fn order_placed(o: &Order, engine: &Engine, resp: RespType) -> Value {
    let ack = json!({
        "symbol": o.symbol,
        "orderId": o.id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "transactTime": o.time,
    });
    if resp == RespType::Ack {
        return ack;
    }
    let mut m = order_core(o);
    m.insert("transactTime".into(), json!(o.time));
    m.insert("workingTime".into(), json!(o.working_time.unwrap_or(-1)));
    if resp == RespType::Full {
        let fills: Vec<Value> = o
            .trade_ids
            .iter()
            .filter_map(|id| {
                engine
                    .trades()
                    .get(usize::try_from(*id).ok()?.checked_sub(1)?)
            })
            .map(|t| {
                json!({
                    "price": d8(t.price),
                    "qty": d8(t.qty),
                    "commission": d8(t.commission),
                    "commissionAsset": t.commission_asset,
                    "tradeId": t.id,
                })
            })
            .collect();
        m.insert("fills".into(), Value::Array(fills));
    }
    Value::Object(m)
}

/// `DELETE /api/v3/order`: the cancelled order; `cancel_id` is the cancel's own client id.
pub fn order_cancelled(o: &Order, cancel_id: &str, now: i64) -> Value {
    let mut m = order_core(o);
    m.insert("origClientOrderId".into(), json!(o.client_id));
    m.insert("clientOrderId".into(), json!(cancel_id));
    m.insert("transactTime".into(), json!(now));
    Value::Object(m)
}

/// One element of `GET /api/v3/myTrades`.
pub fn trade(t: &TradeRec) -> Value {
    json!({
        "symbol": t.symbol,
        "id": t.id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": d8(t.price),
        "qty": d8(t.qty),
        "quoteQty": d8(t.quote_qty),
        "commission": d8(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.is_buyer,
        "isMaker": t.is_maker,
        "isBestMatch": true,
    })
}

/// What a kline reports beyond the candle, derived from it: quote volume (the volume valued
/// at the bar's typical price `(h + l + c) / 3`), trades (20 per unit of volume), and taker buy
/// base and quote volumes (half of each). Checked arithmetic: a data file with absurd
/// magnitudes gives zeros there, never a panic.
struct Derived {
    quote: Decimal,
    trades: u64,
    taker_base: Decimal,
    taker_quote: Decimal,
}

fn derived(c: &Candle) -> Derived {
    let typical = c
        .high
        .checked_add(c.low)
        .and_then(|x| x.checked_add(c.close))
        .and_then(|x| x.checked_div(Decimal::from(3)));
    let quote = typical
        .and_then(|t| c.volume.checked_mul(t))
        .map(|q| q.round_dp(8))
        .unwrap_or(Decimal::ZERO);
    let half = |d: Decimal| (d / Decimal::TWO).round_dp(8);
    let trades = c
        .volume
        .checked_mul(Decimal::from(20))
        .and_then(|x| x.trunc().to_string().parse::<u64>().ok())
        .unwrap_or(0);
    Derived {
        quote,
        trades,
        taker_base: half(c.volume),
        taker_quote: half(quote),
    }
}

/// One kline row of `interval_ms`: `[open time, o, h, l, c, v, close time, quote volume,
/// trades, taker buy base, taker buy quote, "0"]`. The quote volume values the volume at the
/// bar's typical price `(h + l + c) / 3`; half of it is counted as taker buys; 20 trades per
/// unit of volume.
pub fn kline(c: &Candle, interval_ms: i64) -> Value {
    let d = derived(c);
    json!([
        c.open_time_ms,
        d8(c.open),
        d8(c.high),
        d8(c.low),
        d8(c.close),
        d8(c.volume),
        c.open_time_ms + interval_ms - 1,
        d8(d.quote),
        d.trades,
        d8(d.taker_base),
        d8(d.taker_quote),
        "0"
    ])
}

/// One kline stream event (the raw payload, Binance's `data` object) of `symbol` (the venue
/// name, `BTCUSDT`) in bars of `timeframe`, sent at `event_time_ms`: the same figures as the
/// REST row of [`kline`], `x` = `closed`, and no trade ids (`f` = `L` = -1: the simulator keeps
/// no public trades).
pub fn kline_event(
    symbol: &str,
    timeframe: aurum_core::Timeframe,
    c: &Candle,
    closed: bool,
    event_time_ms: i64,
) -> Value {
    let d = derived(c);
    json!({
        "e": "kline",
        "E": event_time_ms,
        "s": symbol,
        "k": {
            "t": c.open_time_ms,
            "T": c.open_time_ms + timeframe.millis() - 1,
            "s": symbol,
            "i": timeframe.as_str(),
            "f": -1,
            "L": -1,
            "o": d8(c.open),
            "c": d8(c.close),
            "h": d8(c.high),
            "l": d8(c.low),
            "v": d8(c.volume),
            "n": d.trades,
            "x": closed,
            "q": d8(d.quote),
            "V": d8(d.taker_base),
            "Q": d8(d.taker_quote),
            "B": "0"
        }
    })
}

/// `GET /api/v3/account`.
pub fn account(engine: &Engine, now: i64) -> Value {
    let fee = engine.fee();
    let bps = (fee * Decimal::from(10_000))
        .trunc()
        .to_string()
        .parse::<i64>()
        .unwrap_or(0);
    let balances: Vec<Value> = engine
        .balances()
        .iter()
        .map(|(asset, b)| json!({"asset": asset, "free": d8(b.free), "locked": d8(b.locked)}))
        .collect();
    json!({
        "makerCommission": bps,
        "takerCommission": bps,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": d8(fee), "taker": d8(fee),
            "buyer": d8(Decimal::ZERO), "seller": d8(Decimal::ZERO)
        },
        "canTrade": true,
        "canWithdraw": true,
        "canDeposit": true,
        "brokered": false,
        "requireSelfTradePrevention": false,
        "preventSor": false,
        "updateTime": now,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 1
    })
}

/// `GET /admin/state`: the whole account for test harnesses, in a stable order.
///
/// ```json
/// {
///   "serverTime": 1704067800000,
///   "balances": [{"asset": "BTC", "free": "0.00999000", "locked": "0.00000000"}, ...],
///   "orders": [{"symbol": "BTCUSDT", "orderId": 1, "clientOrderId": "au-1", "side": "BUY",
///               "type": "LIMIT", "timeInForce": "GTC", "price": "29900.00000000",
///               "stopPrice": "0.00000000", "origQty": "0.00100000",
///               "executedQty": "0.00000000", "cummulativeQuoteQty": "0.00000000",
///               "status": "NEW", "time": 1704067800000, "updateTime": 1704067800000}, ...],
///   "trades": [{"symbol": "BTCUSDT", "id": 1, "orderId": 2, "side": "BUY",
///               "price": "30000.00000000", "qty": "0.01000000", "quoteQty": "300.00000000",
///               "commission": "0.00001000", "commissionAsset": "BTC",
///               "time": 1704067800000, "isMaker": false}, ...],
///   "pairs": [{"symbol": "BTCUSDT", "candleOpenTime": 1704067740000,
///              "lastPrice": "30000.00000000", "candle": 9, "candles": 15}, ...]
/// }
/// ```
///
/// Balances by asset, orders by `orderId`, trades by `id`, pairs by symbol. Decimals are
/// strings with 8 places; `timeInForce` is `"GTC"` for types without one, as Binance writes
/// it; `candle` is the index of the current candle in the path and `candles` its length.
pub fn admin_state(engine: &Engine, now: i64) -> Value {
    let balances: Vec<Value> = engine
        .balances()
        .iter()
        .map(|(asset, b)| json!({"asset": asset, "free": d8(b.free), "locked": d8(b.locked)}))
        .collect();
    let orders: Vec<Value> = engine
        .orders()
        .iter()
        .map(|o| {
            json!({
                "symbol": o.symbol,
                "orderId": o.id,
                "clientOrderId": o.client_id,
                "side": side(o.side),
                "type": o.kind.name(),
                "timeInForce": o.tif.map(|t| t.name()).unwrap_or("GTC"),
                "price": d8(o.price),
                "stopPrice": d8(o.stop_price),
                "origQty": d8(o.orig_qty),
                "executedQty": d8(o.executed_qty),
                "cummulativeQuoteQty": d8(o.cum_quote),
                "status": o.status.name(),
                "time": o.time,
                "updateTime": o.update_time,
            })
        })
        .collect();
    let trades: Vec<Value> = engine
        .trades()
        .iter()
        .map(|t| {
            json!({
                "symbol": t.symbol,
                "id": t.id,
                "orderId": t.order_id,
                "side": if t.is_buyer { "BUY" } else { "SELL" },
                "price": d8(t.price),
                "qty": d8(t.qty),
                "quoteQty": d8(t.quote_qty),
                "commission": d8(t.commission),
                "commissionAsset": t.commission_asset,
                "time": t.time,
                "isMaker": t.is_maker,
            })
        })
        .collect();
    let pairs: Vec<Value> = engine
        .markets
        .values()
        .map(|m| {
            json!({
                "symbol": m.symbol.venue(),
                "candleOpenTime": m.current().open_time_ms,
                "lastPrice": d8(m.last_price()),
                "candle": m.cursor,
                "candles": m.candles.len(),
            })
        })
        .collect();
    json!({
        "serverTime": now,
        "balances": balances,
        "orders": orders,
        "trades": trades,
        "pairs": pairs,
    })
}

/// `GET /api/v3/exchangeInfo` for the given markets.
pub fn exchange_info<'a>(
    markets: impl Iterator<Item = &'a Market>,
    now: i64,
    weight_limit: u32,
) -> Value {
    let symbols: Vec<Value> = markets.map(|m| m.info.clone()).collect();
    json!({
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_limit},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}
        ],
        "exchangeFilters": [],
        "symbols": symbols
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_have_eight_places() {
        assert_eq!(d8(dec!(0.001)), "0.00100000");
        assert_eq!(d8(dec!(30000)), "30000.00000000");
        assert_eq!(d8(Decimal::ZERO), "0.00000000");
    }

    #[test]
    fn klines_have_binance_shape() {
        let c = Candle {
            open_time_ms: 60_000,
            open: dec!(10),
            high: dec!(12),
            low: dec!(9),
            close: dec!(11),
            volume: dec!(2),
        };
        let row = kline(&c, 60_000);
        assert_eq!(
            row,
            json!([
                60000,
                "10.00000000",
                "12.00000000",
                "9.00000000",
                "11.00000000",
                "2.00000000",
                119999,
                "21.33333333",
                40,
                "1.00000000",
                "10.66666666",
                "0"
            ])
        );
    }

    #[test]
    fn kline_events_have_binance_shape() {
        let c = Candle {
            open_time_ms: 60_000,
            open: dec!(10),
            high: dec!(12),
            low: dec!(9),
            close: dec!(11),
            volume: dec!(2),
        };
        let ev = kline_event("BTCUSDT", aurum_core::Timeframe::M1, &c, true, 123_456);
        assert_eq!(
            ev,
            json!({
                "e": "kline", "E": 123456, "s": "BTCUSDT",
                "k": {
                    "t": 60000, "T": 119999, "s": "BTCUSDT", "i": "1m", "f": -1, "L": -1,
                    "o": "10.00000000", "c": "11.00000000", "h": "12.00000000",
                    "l": "9.00000000", "v": "2.00000000", "n": 40, "x": true,
                    "q": "21.33333333", "V": "1.00000000", "Q": "10.66666666", "B": "0"
                }
            })
        );
    }
}
