//! Typed parsers for Binance Spot REST responses (and market stream messages,
//! [`stream_message`]): bytes in, aurum types or an
//! [`ExchangeError`] out. They never panic, whatever the bytes (they are fuzzed): bad JSON is
//! [`ExchangeError::Malformed`], a body cut short is [`ExchangeError::Truncated`], an HTML page
//! is [`ExchangeError::HtmlPage`], a new enum value is [`ExchangeError::UnknownEnum`]. Every
//! message names the field (`fills[2].commission`).
//!
//! Numbers that are money are read from their text with
//! [`aurum_core::money::parse_decimal`], never through `f64`.

use crate::error::{ApiError, ExchangeError};
use crate::types::{
    Balance, Kline, KlineEvent, OrderAck, OrderReport, StreamMessage, Trade, VenueOrderStatus,
    order_type_from_name, side_from_name, tif_from_name,
};
use aurum_core::money::parse_decimal;
use aurum_core::{Asset, Candle, ClientOrderId, Fill, Side, Symbol, SymbolFilters, Timeframe};
use rust_decimal::Decimal;
use serde_json::Value;
use std::time::Duration;

/// The context of one parse: what is being read (for messages) and the raw body.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    what: &'a str,
    body: &'a [u8],
}

/// The first 120 characters of a body, lossily decoded, for messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(240)]);
    let mut out: String = text.chars().take(120).collect();
    if text.chars().count() > 120 || body.len() > 240 {
        out.push('…');
    }
    out
}

/// True when the body looks like an HTML (or XML) page rather than JSON.
fn looks_like_html(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    body.get(start) == Some(&b'<')
}

/// The `<title>` of an HTML page, or its first characters.
fn html_title(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    if let Some(start) = lower.find("<title>")
        && let Some(len) = lower[start + 7..].find("</title>")
    {
        // `to_ascii_lowercase` keeps byte offsets, so the indices are valid in `text`.
        if let Some(t) = text.get(start + 7..start + 7 + len) {
            return t.trim().chars().take(120).collect();
        }
    }
    excerpt(body)
}

impl<'a> Ctx<'a> {
    fn malformed(&self, detail: impl Into<String>) -> ExchangeError {
        ExchangeError::Malformed {
            what: self.what.to_string(),
            detail: detail.into(),
            excerpt: excerpt(self.body),
        }
    }

    fn json(&self) -> Result<Value, ExchangeError> {
        if looks_like_html(self.body) {
            return Err(ExchangeError::HtmlPage {
                endpoint: self.what.to_string(),
                status: 200,
                title: html_title(self.body),
            });
        }
        serde_json::from_slice(self.body).map_err(|e| {
            if e.is_eof() {
                ExchangeError::Truncated {
                    what: self.what.to_string(),
                    detail: e.to_string(),
                    len: self.body.len(),
                }
            } else {
                self.malformed(format!("invalid JSON: {e}"))
            }
        })
    }

    fn field<'v>(&self, obj: &'v Value, path: &str, key: &str) -> Result<&'v Value, ExchangeError> {
        match obj {
            Value::Object(m) => m
                .get(key)
                .ok_or_else(|| self.malformed(format!("missing field `{}`", join(path, key)))),
            _ => Err(self.malformed(format!("`{path}` is not an object"))),
        }
    }

    fn opt_field<'v>(&self, obj: &'v Value, key: &str) -> Option<&'v Value> {
        obj.get(key).filter(|v| !v.is_null())
    }

    fn array<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Vec<Value>, ExchangeError> {
        v.as_array()
            .ok_or_else(|| self.malformed(format!("`{path}` is not an array")))
    }

    fn text<'v>(&self, v: &'v Value, path: &str) -> Result<&'v str, ExchangeError> {
        v.as_str()
            .ok_or_else(|| self.malformed(format!("`{path}` is not a string")))
    }

    fn text_field<'v>(
        &self,
        obj: &'v Value,
        path: &str,
        key: &str,
    ) -> Result<&'v str, ExchangeError> {
        self.text(self.field(obj, path, key)?, &join(path, key))
    }

    fn dec(&self, v: &Value, path: &str) -> Result<Decimal, ExchangeError> {
        let owned;
        let s = match v {
            Value::String(s) => s.as_str(),
            Value::Number(n) => {
                owned = n.to_string();
                owned.as_str()
            }
            _ => return Err(self.malformed(format!("`{path}` is not a decimal"))),
        };
        parse_decimal(s).map_err(|e| self.malformed(format!("`{path}`: {e}")))
    }

    fn dec_field(&self, obj: &Value, path: &str, key: &str) -> Result<Decimal, ExchangeError> {
        self.dec(self.field(obj, path, key)?, &join(path, key))
    }

    fn int(&self, v: &Value, path: &str) -> Result<i64, ExchangeError> {
        v.as_i64()
            .ok_or_else(|| self.malformed(format!("`{path}` is not an integer")))
    }

    fn int_field(&self, obj: &Value, path: &str, key: &str) -> Result<i64, ExchangeError> {
        self.int(self.field(obj, path, key)?, &join(path, key))
    }

    fn uint_field(&self, obj: &Value, path: &str, key: &str) -> Result<u64, ExchangeError> {
        let p = join(path, key);
        self.field(obj, path, key)?
            .as_u64()
            .ok_or_else(|| self.malformed(format!("`{p}` is not a non-negative integer")))
    }

    fn bool_field(&self, obj: &Value, path: &str, key: &str) -> Result<bool, ExchangeError> {
        let p = join(path, key);
        self.field(obj, path, key)?
            .as_bool()
            .ok_or_else(|| self.malformed(format!("`{p}` is not a boolean")))
    }

    fn asset(&self, v: &Value, path: &str) -> Result<Asset, ExchangeError> {
        let s = self.text(v, path)?;
        Asset::new(s).map_err(|e| self.malformed(format!("`{path}`: {e}")))
    }

    fn unknown(&self, field: &'static str, value: &str) -> ExchangeError {
        ExchangeError::UnknownEnum {
            what: self.what.to_string(),
            field,
            value: value.to_string(),
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `GET /api/v3/time`: `{"serverTime": 1499827319559}` → ms.
pub fn server_time(body: &[u8]) -> Result<i64, ExchangeError> {
    let cx = Ctx {
        what: "GET /api/v3/time",
        body,
    };
    let v = cx.json()?;
    cx.int_field(&v, "", "serverTime")
}

/// `GET /api/v3/exchangeInfo`: the filters of every listed symbol (both notional
/// generations; unknown filter types ignored).
pub fn exchange_info(body: &[u8]) -> Result<Vec<SymbolFilters>, ExchangeError> {
    let cx = Ctx {
        what: "GET /api/v3/exchangeInfo",
        body,
    };
    let v = cx.json()?;
    let symbols = cx.array(cx.field(&v, "", "symbols")?, "symbols")?;
    symbols
        .iter()
        .enumerate()
        .map(|(i, s)| {
            SymbolFilters::from_binance_symbol(s)
                .map_err(|e| cx.malformed(format!("`symbols[{i}]`: {e}")))
        })
        .collect()
}

/// One symbol object of `exchangeInfo` (as a single JSON object).
pub fn symbol_info(body: &[u8]) -> Result<SymbolFilters, ExchangeError> {
    let cx = Ctx {
        what: "exchangeInfo symbol",
        body,
    };
    let v = cx.json()?;
    SymbolFilters::from_binance_symbol(&v).map_err(|e| cx.malformed(e.to_string()))
}

/// `GET /api/v3/klines`: rows `[openTime, "open", "high", "low", "close", "volume", closeTime,
/// "quoteVolume", trades, ...]`. Each candle is checked (high ≥ low, open/close inside).
pub fn klines(body: &[u8]) -> Result<Vec<Kline>, ExchangeError> {
    let cx = Ctx {
        what: "GET /api/v3/klines",
        body,
    };
    let v = cx.json()?;
    let rows = cx.array(&v, "klines")?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let p = format!("[{i}]");
        let cells = cx.array(row, &p)?;
        if cells.len() < 9 {
            return Err(cx.malformed(format!(
                "`{p}` has {} fields, expected at least 9",
                cells.len()
            )));
        }
        let at = |k: usize| format!("{p}[{k}]");
        let candle = Candle {
            open_time_ms: cx.int(&cells[0], &at(0))?,
            open: cx.dec(&cells[1], &at(1))?,
            high: cx.dec(&cells[2], &at(2))?,
            low: cx.dec(&cells[3], &at(3))?,
            close: cx.dec(&cells[4], &at(4))?,
            volume: cx.dec(&cells[5], &at(5))?,
        };
        candle
            .validate()
            .map_err(|e| cx.malformed(format!("`{p}`: {e}")))?;
        let close_time_ms = cx.int(&cells[6], &at(6))?;
        let quote_volume = cx.dec(&cells[7], &at(7))?;
        let trades = cells[8]
            .as_u64()
            .ok_or_else(|| cx.malformed(format!("`{}` is not a trade count", at(8))))?;
        if let Some(prev) = out.last().map(|k: &Kline| k.candle.open_time_ms)
            && candle.open_time_ms <= prev
        {
            return Err(cx.malformed(format!(
                "`{p}`: open time {} does not follow {prev}",
                candle.open_time_ms
            )));
        }
        out.push(Kline {
            candle,
            close_time_ms,
            quote_volume,
            trades,
        });
    }
    Ok(out)
}

/// One text message of a Binance market stream connection: a kline event, combined
/// (`{"stream": "btcusdt@kline_1m", "data": {"e": "kline", ...}}`) or raw (the `data` object
/// alone), an error the server reports, or something else ([`StreamMessage::Other`]: request
/// answers, other event types).
///
/// A kline event needs `E`, `s` and, in `k`: `t`, `T`, `i`, `o`, `h`, `l`, `c`, `v`, `q`, `n`,
/// `x` (`k.s`, when sent, must equal `s`; `V` and `Q` are read when sent); the bar is checked
/// like a REST kline (high ≥ low, open and close inside). An interval aurum has no
/// [`Timeframe`] for (`1s`, `1M`) is [`ExchangeError::UnknownEnum`]. Errors name the field
/// (`data.k.o`) and quote the start of the message.
pub fn stream_message(body: &[u8]) -> Result<StreamMessage, ExchangeError> {
    let cx = Ctx {
        what: "kline stream message",
        body,
    };
    let v = cx.json()?;
    if !v.is_object() {
        return Err(cx.malformed("the message is not a JSON object"));
    }
    let (stream, data, path) = match (cx.opt_field(&v, "stream"), cx.opt_field(&v, "data")) {
        (Some(name), Some(data)) => (Some(cx.text(name, "stream")?.to_string()), data, "data"),
        (None, Some(_)) => return Err(cx.malformed("missing field `stream` next to `data`")),
        (Some(_), None) => return Err(cx.malformed("missing field `data` next to `stream`")),
        (None, None) => (None, &v, ""),
    };
    if let Some(err) = cx.opt_field(&v, "error") {
        return Ok(StreamMessage::Error {
            code: cx.int_field(err, "error", "code")?,
            msg: cx.text_field(err, "error", "msg")?.to_string(),
        });
    }
    match cx.opt_field(data, "e") {
        None if stream.is_none() && cx.opt_field(&v, "code").is_some() => {
            return Ok(StreamMessage::Error {
                code: cx.int_field(&v, "", "code")?,
                msg: cx.text_field(&v, "", "msg")?.to_string(),
            });
        }
        Some(Value::String(e)) if e == "kline" => {}
        _ => {
            return Ok(StreamMessage::Other {
                excerpt: excerpt(body),
            });
        }
    }
    let venue_symbol = cx.text_field(data, path, "s")?.to_string();
    let event_time_ms = cx.int_field(data, path, "E")?;
    let kp = join(path, "k");
    let k = cx.field(data, path, "k")?;
    if !k.is_object() {
        return Err(cx.malformed(format!("`{kp}` is not an object")));
    }
    if let Some(inner) = cx.opt_field(k, "s") {
        let inner = cx.text(inner, &join(&kp, "s"))?;
        if inner != venue_symbol {
            return Err(cx.malformed(format!(
                "`{kp}.s` is {inner:?} but `{}` is {venue_symbol:?}",
                join(path, "s")
            )));
        }
    }
    let interval = cx.text_field(k, &kp, "i")?;
    let timeframe: Timeframe = match interval.parse() {
        Ok(t) if Timeframe::as_str(t) == interval => t,
        _ => return Err(cx.unknown("interval", interval)),
    };
    let candle = Candle {
        open_time_ms: cx.int_field(k, &kp, "t")?,
        open: cx.dec_field(k, &kp, "o")?,
        high: cx.dec_field(k, &kp, "h")?,
        low: cx.dec_field(k, &kp, "l")?,
        close: cx.dec_field(k, &kp, "c")?,
        volume: cx.dec_field(k, &kp, "v")?,
    };
    candle
        .validate()
        .map_err(|e| cx.malformed(format!("`{kp}`: {e}")))?;
    let optional_dec = |key: &str| -> Result<Option<Decimal>, ExchangeError> {
        cx.opt_field(k, key)
            .map(|x| cx.dec(x, &join(&kp, key)))
            .transpose()
    };
    Ok(StreamMessage::Kline(KlineEvent {
        stream,
        event_time_ms,
        venue_symbol,
        timeframe,
        kline: Kline {
            candle,
            close_time_ms: cx.int_field(k, &kp, "T")?,
            quote_volume: cx.dec_field(k, &kp, "q")?,
            trades: cx.uint_field(k, &kp, "n")?,
        },
        closed: cx.bool_field(k, &kp, "x")?,
        taker_buy_base: optional_dec("V")?,
        taker_buy_quote: optional_dec("Q")?,
    }))
}

/// `GET /api/v3/ticker/price?symbol=...`: `{"symbol": "BTCUSDT", "price": "..."}` → the
/// symbol's venue name and its last price.
pub fn ticker_price(body: &[u8]) -> Result<(String, Decimal), ExchangeError> {
    let cx = Ctx {
        what: "GET /api/v3/ticker/price",
        body,
    };
    let v = cx.json()?;
    let sym = cx.text_field(&v, "", "symbol")?.to_string();
    let price = cx.dec_field(&v, "", "price")?;
    Ok((sym, price))
}

/// Reads one order object (the answer of `POST`, `GET` or `DELETE /api/v3/order`, or an
/// element of `openOrders`/`allOrders`). A cancel answer carries the original id in
/// `origClientOrderId`, which wins over its `clientOrderId` (the cancel's own id).
fn order_object(
    cx: &Ctx<'_>,
    v: &Value,
    path: &str,
    resolve: &dyn Fn(&str) -> Option<Symbol>,
) -> Result<OrderReport, ExchangeError> {
    let venue_symbol = cx.text_field(v, path, "symbol")?;
    let symbol = resolve(venue_symbol)
        .or_else(|| Symbol::parse(venue_symbol).ok())
        .ok_or_else(|| {
            cx.malformed(format!(
                "`{}`: unknown symbol {venue_symbol:?}",
                join(path, "symbol")
            ))
        })?;
    let id_key = if cx.opt_field(v, "origClientOrderId").is_some() {
        "origClientOrderId"
    } else {
        "clientOrderId"
    };
    let cid_text = cx.text_field(v, path, id_key)?;
    let client_order_id = ClientOrderId::new(cid_text)
        .map_err(|e| cx.malformed(format!("`{}`: {e}", join(path, id_key))))?;
    let status_text = cx.text_field(v, path, "status")?;
    let venue_status: VenueOrderStatus = status_text
        .parse()
        .map_err(|_| cx.unknown("status", status_text))?;
    let side_text = cx.text_field(v, path, "side")?;
    let side = side_from_name(side_text).ok_or_else(|| cx.unknown("side", side_text))?;
    let type_text = cx.text_field(v, path, "type")?;
    let order_type =
        order_type_from_name(type_text).ok_or_else(|| cx.unknown("type", type_text))?;
    let time_in_force = match cx.opt_field(v, "timeInForce") {
        None => None,
        Some(t) => {
            let t = cx.text(t, &join(path, "timeInForce"))?;
            Some(tif_from_name(t).ok_or_else(|| cx.unknown("timeInForce", t))?)
        }
    };
    let dec_or_zero = |key: &str| -> Result<Decimal, ExchangeError> {
        match cx.opt_field(v, key) {
            Some(x) => cx.dec(x, &join(path, key)),
            None => Ok(Decimal::ZERO),
        }
    };
    let executed_qty = cx.dec_field(v, path, "executedQty")?;
    let time_key = ["transactTime", "time", "workingTime"]
        .into_iter()
        .find(|k| cx.opt_field(v, k).is_some())
        .unwrap_or("transactTime");
    let time_ms = cx.int_field(v, path, time_key)?;
    let update_time_ms = match cx.opt_field(v, "updateTime") {
        Some(t) => cx.int(t, &join(path, "updateTime"))?,
        None => time_ms,
    };
    Ok(OrderReport {
        symbol,
        order_id: cx.uint_field(v, path, "orderId")?,
        client_order_id,
        side,
        order_type,
        time_in_force,
        price: dec_or_zero("price")?,
        stop_price: dec_or_zero("stopPrice")?,
        orig_qty: cx.dec_field(v, path, "origQty")?,
        executed_qty,
        cumulative_quote: cx.dec_field(v, path, "cummulativeQuoteQty")?,
        status: venue_status.to_status(executed_qty),
        venue_status,
        time_ms,
        update_time_ms,
    })
}

fn resolver_for(symbol: &Symbol) -> impl Fn(&str) -> Option<Symbol> + '_ {
    move |name: &str| (name == symbol.venue()).then(|| symbol.clone())
}

/// `POST /api/v3/order` with `newOrderRespType=FULL` (RESULT works too, without fills): the
/// order and its fills, each fill an aurum [`Fill`] stamped with the transaction time.
pub fn order_response(body: &[u8], symbol: &Symbol) -> Result<OrderAck, ExchangeError> {
    let cx = Ctx {
        what: "POST /api/v3/order",
        body,
    };
    let v = cx.json()?;
    let resolve = resolver_for(symbol);
    let order = order_object(&cx, &v, "", &resolve)?;
    let mut fills = Vec::new();
    if let Some(list) = cx.opt_field(&v, "fills") {
        for (i, f) in cx.array(list, "fills")?.iter().enumerate() {
            let p = format!("fills[{i}]");
            let trade_id = match cx.field(f, &p, "tradeId")? {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(cx.malformed(format!("`{p}.tradeId` is not an id"))),
            };
            fills.push(Fill {
                client_order_id: order.client_order_id.clone(),
                trade_id,
                symbol: order.symbol.clone(),
                side: order.side,
                price: cx.dec_field(f, &p, "price")?,
                quantity: cx.dec_field(f, &p, "qty")?,
                fee: cx.dec_field(f, &p, "commission")?,
                fee_asset: cx.asset(
                    cx.field(f, &p, "commissionAsset")?,
                    &join(&p, "commissionAsset"),
                )?,
                ts_ms: order.time_ms,
            });
        }
    }
    Ok(OrderAck {
        order,
        fills,
        recovered: false,
    })
}

/// `GET /api/v3/order` or `DELETE /api/v3/order`: one order.
pub fn order(body: &[u8], symbol: &Symbol) -> Result<OrderReport, ExchangeError> {
    let cx = Ctx {
        what: "/api/v3/order",
        body,
    };
    let v = cx.json()?;
    order_object(&cx, &v, "", &resolver_for(symbol))
}

/// `GET /api/v3/openOrders` or `allOrders`: a list of orders; `resolve` maps venue symbol
/// names to pairs (names it does not know are split on known quote assets).
pub fn orders(
    body: &[u8],
    resolve: &dyn Fn(&str) -> Option<Symbol>,
) -> Result<Vec<OrderReport>, ExchangeError> {
    let cx = Ctx {
        what: "GET /api/v3/openOrders",
        body,
    };
    let v = cx.json()?;
    cx.array(&v, "orders")?
        .iter()
        .enumerate()
        .map(|(i, o)| order_object(&cx, o, &format!("[{i}]"), resolve))
        .collect()
}

/// `GET /api/v3/myTrades`: the account's trades on `symbol`.
pub fn trades(body: &[u8], symbol: &Symbol) -> Result<Vec<Trade>, ExchangeError> {
    let cx = Ctx {
        what: "GET /api/v3/myTrades",
        body,
    };
    let v = cx.json()?;
    let venue = symbol.venue();
    cx.array(&v, "trades")?
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = format!("[{i}]");
            let name = cx.text_field(t, &p, "symbol")?;
            if name != venue {
                return Err(cx.malformed(format!("`{p}.symbol` is {name:?}, asked for {venue:?}")));
            }
            Ok(Trade {
                symbol: symbol.clone(),
                trade_id: cx.uint_field(t, &p, "id")?,
                order_id: cx.uint_field(t, &p, "orderId")?,
                side: if cx.bool_field(t, &p, "isBuyer")? {
                    Side::Buy
                } else {
                    Side::Sell
                },
                price: cx.dec_field(t, &p, "price")?,
                quantity: cx.dec_field(t, &p, "qty")?,
                quote_quantity: cx.dec_field(t, &p, "quoteQty")?,
                fee: cx.dec_field(t, &p, "commission")?,
                fee_asset: cx.asset(
                    cx.field(t, &p, "commissionAsset")?,
                    &join(&p, "commissionAsset"),
                )?,
                time_ms: cx.int_field(t, &p, "time")?,
                is_maker: cx.bool_field(t, &p, "isMaker")?,
            })
        })
        .collect()
}

/// `GET /api/v3/account`: every balance (zero ones included, as the venue sends them).
pub fn account(body: &[u8]) -> Result<Vec<Balance>, ExchangeError> {
    let cx = Ctx {
        what: "GET /api/v3/account",
        body,
    };
    let v = cx.json()?;
    let list = cx.array(cx.field(&v, "", "balances")?, "balances")?;
    list.iter()
        .enumerate()
        .map(|(i, b)| {
            let p = format!("balances[{i}]");
            Ok(Balance {
                asset: cx.asset(cx.field(b, &p, "asset")?, &join(&p, "asset"))?,
                free: cx.dec_field(b, &p, "free")?,
                locked: cx.dec_field(b, &p, "locked")?,
            })
        })
        .collect()
}

/// Reads a `Retry-After` header: whole seconds (Binance) or fractional seconds.
pub fn retry_after(header: Option<&str>) -> Option<Duration> {
    let s = header?.trim();
    let secs: f64 = s.parse().ok()?;
    (0.0..1e9)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

/// Turns a non-2xx answer into a typed error: Binance's `{"code", "msg"}` when the body has
/// one, HTML error pages, 429 with `Retry-After`, 418 bans, 5xx.
pub fn error_response(
    endpoint: &str,
    status: u16,
    retry_after_header: Option<&str>,
    body: &[u8],
) -> ExchangeError {
    let api = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let code = v.get("code")?.as_i64()?;
        let msg = v
            .get("msg")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string();
        Some((code, msg))
    });
    let msg = api
        .as_ref()
        .map(|(_, m)| m.clone())
        .unwrap_or_else(|| excerpt(body));
    match status {
        429 => ExchangeError::RateLimited {
            endpoint: endpoint.to_string(),
            retry_after: retry_after(retry_after_header),
            msg,
        },
        418 => ExchangeError::IpBanned {
            endpoint: endpoint.to_string(),
            retry_after: retry_after(retry_after_header),
            msg,
        },
        _ if looks_like_html(body) => ExchangeError::HtmlPage {
            endpoint: endpoint.to_string(),
            status,
            title: html_title(body),
        },
        500..=599 => ExchangeError::Server {
            endpoint: endpoint.to_string(),
            status,
            code: api.as_ref().map(|(c, _)| *c),
            msg,
        },
        _ => match api {
            Some((code, msg)) => ExchangeError::Api {
                endpoint: endpoint.to_string(),
                status,
                code,
                kind: ApiError::from_code(code, &msg),
                msg,
            },
            None => ExchangeError::Http {
                endpoint: endpoint.to_string(),
                status,
                excerpt: excerpt(body),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_lossy() {
        assert_eq!(excerpt(b"abc"), "abc");
        let long = vec![b'x'; 1000];
        assert_eq!(excerpt(&long).chars().count(), 121);
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
        assert_eq!(
            html_title(b"<html><head><TITLE> 502 Bad Gateway </TITLE></head></html>"),
            "502 Bad Gateway"
        );
    }

    #[test]
    fn retry_after_headers() {
        assert_eq!(retry_after(Some("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some("0.5")), Some(Duration::from_millis(500)));
        assert_eq!(retry_after(Some("soon")), None);
        assert_eq!(retry_after(Some("-1")), None);
        assert_eq!(retry_after(None), None);
    }
}
