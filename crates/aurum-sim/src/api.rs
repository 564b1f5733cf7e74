//! The Binance Spot REST endpoints, the admin endpoints, and the fault injection around them.

use crate::engine::{ApiErr, Kind, NewOrder, Tif};
use crate::faults::Faults;
use crate::params::{Credentials, Params, verify_signed};
use crate::render::{self, RespType, d8};
use crate::state::Sim;
use aurum_core::{Decimal, Side, Timeframe};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Marks a response whose connection must be closed without sending it (a lost answer).
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// The router: Binance's `/api/v3/*`, the kline streams (`/stream`, `/ws/…`, see
/// [`crate::stream`]) and the simulator's `/admin/*`.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/stream", get(crate::stream::combined))
        .route("/ws/{*streams}", get(crate::stream::raw))
        .route("/admin/faults", get(get_faults).post(set_faults))
        .route("/admin/advance", post(advance))
        .route("/admin/stats", get(stats))
        .route("/admin/state", get(state))
        .fallback(api)
        .with_state(sim)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

fn error_response(e: &ApiErr) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &json!({"code": e.code, "msg": e.msg}))
}

async fn get_faults(State(sim): State<Arc<Sim>>) -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::to_value(sim.faults()).unwrap_or(Value::Null),
    )
}

async fn set_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) if (0.0..=1.0).contains(&f.error_rate) => {
            sim.set_faults(f.clone());
            json_response(
                StatusCode::OK,
                &serde_json::to_value(f).unwrap_or(Value::Null),
            )
        }
        Ok(_) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "error_rate must be within 0..=1"}),
        ),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()})),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceReq {
    candles: usize,
    #[serde(default)]
    symbol: Option<String>,
}

async fn advance(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req: AdvanceReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return json_response(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()}));
        }
    };
    let now = sim.now_ms();
    let mut engine = sim.engine.lock();
    if let Some(s) = &req.symbol
        && !engine.markets.contains_key(s)
    {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": format!("unknown symbol {s}")}),
        );
    }
    let moved = engine.advance(req.symbol.as_deref(), req.candles, now);
    let out: Vec<Value> = moved
        .into_iter()
        .map(|(s, n)| {
            let price = engine.markets.get(&s).map(|m| d8(m.last_price()));
            json!({"symbol": s, "advanced": n, "price": price})
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(out))
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::to_value(sim.stats()).unwrap_or(Value::Null),
    )
}

async fn state(State(sim): State<Arc<Sim>>) -> Response {
    let now = sim.now_ms();
    let engine = sim.engine.lock();
    json_response(StatusCode::OK, &render::admin_state(&engine, now))
}

/// Binance's weight of an endpoint.
fn weight(method: &Method, path: &str, params: &Params) -> u32 {
    let has_symbol = params.get("symbol").is_some();
    match (method.as_str(), path) {
        ("GET", "/api/v3/exchangeInfo") => 20,
        ("GET", "/api/v3/klines") => 2,
        ("GET", "/api/v3/depth") => match params.integer("limit").ok().flatten().unwrap_or(100) {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        },
        ("GET", "/api/v3/ticker/price" | "/api/v3/ticker/bookTicker") => {
            if has_symbol {
                2
            } else {
                4
            }
        }
        ("GET", "/api/v3/ticker/24hr") => {
            if has_symbol {
                2
            } else {
                80
            }
        }
        ("GET", "/api/v3/avgPrice") => 2,
        ("GET", "/api/v3/order") => 4,
        ("GET", "/api/v3/openOrders") => {
            if has_symbol {
                6
            } else {
                80
            }
        }
        ("GET", "/api/v3/allOrders" | "/api/v3/myTrades" | "/api/v3/account") => 20,
        _ => 1,
    }
}

fn is_signed(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("POST", "/api/v3/order")
            | ("POST", "/api/v3/order/test")
            | ("GET", "/api/v3/order")
            | ("DELETE", "/api/v3/order")
            | ("GET", "/api/v3/openOrders")
            | ("DELETE", "/api/v3/openOrders")
            | ("GET", "/api/v3/allOrders")
            | ("GET", "/api/v3/myTrades")
            | ("GET", "/api/v3/account")
    )
}

fn with_header(mut r: Response, name: &'static str, value: impl ToString) -> Response {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        r.headers_mut().insert(name, v);
    }
    r
}

/// A 429 with `Retry-After` (whole seconds, at least 1).
fn too_many(sim: &Sim, retry_after_ms: i64) -> Response {
    sim.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
    let secs = ((retry_after_ms + 999) / 1000).max(1);
    let r = error_response(&ApiErr {
        status: 429,
        code: -1003,
        msg: format!(
            "Too many requests; current limit of IP(127.0.0.1) is {} requests per minute. \
             Please use WebSocket Streams for live updates to avoid polling the API.",
            sim.config.weight_limit
        ),
    });
    with_header(r, "retry-after", secs)
}

fn banned(sim: &Sim, until_ms: i64, now: i64) -> Response {
    sim.stats.banned.fetch_add(1, Ordering::Relaxed);
    let secs = ((until_ms - now + 999) / 1000).max(1);
    let r = error_response(&ApiErr {
        status: 418,
        code: -1003,
        msg: format!(
            "Way too many requests; IP(127.0.0.1) banned until {until_ms}. \
             Please use WebSocket Streams for live updates to avoid bans."
        ),
    });
    with_header(r, "retry-after", secs)
}

fn server_error(sim: &Sim, html: bool) -> Response {
    sim.stats.server_errors.fetch_add(1, Ordering::Relaxed);
    if html {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                    <center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
        let mut r = (StatusCode::BAD_GATEWAY, page).into_response();
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("text/html"));
        r
    } else {
        error_response(&ApiErr {
            status: 503,
            code: -1001,
            msg: "Internal error; unable to process your request. Please try again.".into(),
        })
    }
}

/// Rate limits and injected request-level faults; `Some` answers instead of the endpoint.
fn gate(sim: &Sim, method: &Method, path: &str, params: &Params, now: i64) -> Option<Response> {
    {
        let mut f = sim.faults.lock();
        if now < f.banned_until_ms {
            let until = f.banned_until_ms;
            drop(f);
            return Some(banned(sim, until, now));
        }
        if now < f.limited_until_ms {
            f.violations += 1;
            sim.stats
                .retry_after_violations
                .fetch_add(1, Ordering::Relaxed);
            if f.faults.ban_after > 0 && f.violations >= f.faults.ban_after {
                f.banned_until_ms =
                    now + i64::try_from(f.faults.ban_s.max(1) * 1000).unwrap_or(60_000);
                let until = f.banned_until_ms;
                drop(f);
                return Some(banned(sim, until, now));
            }
            let left = f.limited_until_ms - now;
            drop(f);
            return Some(too_many(sim, left));
        }
        if f.faults.burst_429 > 0 {
            f.faults.burst_429 -= 1;
            let ms = i64::try_from(f.faults.retry_after_s.max(1) * 1000).unwrap_or(1000);
            f.limited_until_ms = now + ms;
            drop(f);
            return Some(too_many(sim, ms));
        }
    }
    {
        let mut w = sim.weight.lock();
        let minute = now.div_euclid(60_000);
        if w.minute != minute {
            w.minute = minute;
            w.used = 0;
        }
        w.used = w.used.saturating_add(weight(method, path, params));
        if w.used > sim.config.weight_limit {
            let left = (minute + 1) * 60_000 - now;
            drop(w);
            return Some(too_many(sim, left));
        }
    }
    let (fail, html) = {
        let mut f = sim.faults.lock();
        let fail = if f.faults.fail_next > 0 {
            f.faults.fail_next -= 1;
            true
        } else {
            false
        };
        (fail, f.faults.html_errors)
    };
    if fail || sim.random_failure() {
        return Some(server_error(sim, html));
    }
    None
}

/// Adds Binance's usage headers.
fn usage_headers(sim: &Sim, mut r: Response, order_placed: bool, now: i64) -> Response {
    let mut w = sim.weight.lock();
    let used = w.used;
    let (o10, o1d) = if order_placed {
        let win10 = now.div_euclid(10_000);
        if w.orders_10s.0 != win10 {
            w.orders_10s = (win10, 0);
        }
        let day = now.div_euclid(86_400_000);
        if w.orders_1d.0 != day {
            w.orders_1d = (day, 0);
        }
        w.orders_10s.1 += 1;
        w.orders_1d.1 += 1;
        (Some(w.orders_10s.1), Some(w.orders_1d.1))
    } else {
        (None, None)
    };
    drop(w);
    r = with_header(r, "x-mbx-used-weight", used);
    r = with_header(r, "x-mbx-used-weight-1m", used);
    if let (Some(a), Some(b)) = (o10, o1d) {
        r = with_header(r, "x-mbx-order-count-10s", a);
        r = with_header(r, "x-mbx-order-count-1d", b);
    }
    r
}

/// What an endpoint produced.
enum Outcome {
    /// A JSON answer.
    Json(Value),
    /// A placed order: the answer, and whether a new order was created.
    Placed(Value),
}

/// Every `/api/v3/*` request.
async fn api(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.stats.requests.fetch_add(1, Ordering::Relaxed);
    let latency = sim.faults.lock().faults.latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let now = sim.now_ms();
    let path = uri.path().to_string();
    let raw_query = uri.query().unwrap_or("").to_string();
    let params = match Params::collect(&raw_query, &body) {
        Ok(p) => p,
        Err(e) => return usage_headers(&sim, error_response(&e), false, now),
    };
    if let Some(r) = gate(&sim, &method, &path, &params, now) {
        return r;
    }
    if is_signed(&method, &path) {
        let creds = Credentials {
            api_key: &sim.config.api_key,
            api_secret: &sim.config.api_secret,
        };
        let key = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok());
        if let Err(e) = verify_signed(&creds, key, &raw_query, &body, &params, now) {
            sim.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
            return usage_headers(&sim, error_response(&e), false, now);
        }
    }
    let new_order = method == Method::POST && path == "/api/v3/order";
    if new_order {
        let drop_request = {
            let mut f = sim.faults.lock();
            if f.faults.drop_order_requests > 0 {
                f.faults.drop_order_requests -= 1;
                true
            } else {
                false
            }
        };
        if drop_request {
            sim.stats.dropped_requests.fetch_add(1, Ordering::Relaxed);
            let mut r = Response::new(axum::body::Body::empty());
            r.extensions_mut().insert(DropConnection);
            return r;
        }
    }
    let outcome = dispatch(&sim, &method, &path, &params, now);
    let (value, placed) = match outcome {
        Ok(Outcome::Json(v)) => (v, false),
        Ok(Outcome::Placed(v)) => (v, true),
        Err(e) => return usage_headers(&sim, error_response(&e), new_order, now),
    };
    if placed {
        let (drop_it, hold) = {
            let mut f = sim.faults.lock();
            if f.faults.drop_order_responses > 0 {
                f.faults.drop_order_responses -= 1;
                (true, None)
            } else if f.faults.hold_order_responses > 0 {
                f.faults.hold_order_responses -= 1;
                (false, Some(f.faults.hold_ms))
            } else {
                (false, None)
            }
        };
        if drop_it {
            sim.stats.dropped_responses.fetch_add(1, Ordering::Relaxed);
            let mut r = Response::new(axum::body::Body::empty());
            r.extensions_mut().insert(DropConnection);
            return r;
        }
        if let Some(ms) = hold {
            sim.stats.held_responses.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
    let mut text = value.to_string();
    let truncate = {
        let mut f = sim.faults.lock();
        if f.faults.truncate_next > 0 {
            f.faults.truncate_next -= 1;
            true
        } else {
            false
        }
    };
    if truncate {
        sim.stats.truncated.fetch_add(1, Ordering::Relaxed);
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    usage_headers(&sim, r, placed, now)
}

fn dispatch(
    sim: &Sim,
    method: &Method,
    path: &str,
    p: &Params,
    now: i64,
) -> Result<Outcome, ApiErr> {
    let json = |v| Ok(Outcome::Json(v));
    match (method.as_str(), path) {
        ("GET", "/api/v3/ping") => json(json!({})),
        ("GET", "/api/v3/time") => json(json!({"serverTime": now})),
        ("GET", "/api/v3/exchangeInfo") => exchange_info(sim, p, now).map(Outcome::Json),
        ("GET", "/api/v3/klines") => klines(sim, p).map(Outcome::Json),
        ("GET", "/api/v3/depth") => depth(sim, p).map(Outcome::Json),
        ("GET", "/api/v3/ticker/price") => tickers(
            sim,
            p,
            |m| json!({"symbol": m.symbol.venue(), "price": d8(m.last_price())}),
        )
        .map(Outcome::Json),
        ("GET", "/api/v3/ticker/bookTicker") => tickers(sim, p, |m| {
            let (bid, ask) = (m.last_price() - m.tick(), m.last_price() + m.tick());
            json!({"symbol": m.symbol.venue(), "bidPrice": d8(bid), "bidQty": d8(Decimal::ONE),
                   "askPrice": d8(ask), "askQty": d8(Decimal::ONE)})
        })
        .map(Outcome::Json),
        ("GET", "/api/v3/ticker/24hr") => tickers(sim, p, ticker_24h).map(Outcome::Json),
        ("GET", "/api/v3/avgPrice") => {
            let engine = sim.engine.lock();
            let m = market(&engine, p)?;
            json(json!({"mins": 5, "price": d8(m.last_price()), "closeTime": now}))
        }
        ("POST", "/api/v3/order") => new_order(sim, p, now, false),
        ("POST", "/api/v3/order/test") => new_order(sim, p, now, true),
        ("GET", "/api/v3/order") => {
            let engine = sim.engine.lock();
            let symbol = market(&engine, p)?.symbol.venue();
            let (id, cid) = order_ref(p)?;
            let o = engine
                .find(&symbol, id, cid)
                .ok_or_else(|| ApiErr::bad(-2013, "Order does not exist."))?;
            json(render::order_query(o))
        }
        ("DELETE", "/api/v3/order") => {
            let mut engine = sim.engine.lock();
            let symbol = market(&engine, p)?.symbol.venue();
            let (id, cid) = order_ref(p)?;
            let cancel_id = p
                .client_id("newClientOrderId")?
                .map(str::to_string)
                .unwrap_or_else(|| format!("cancel-{now}"));
            let order_id = engine.cancel(&symbol, id, cid, now)?;
            let o = engine
                .order(order_id)
                .ok_or_else(|| ApiErr::bad(-2011, "Unknown order sent."))?;
            json(render::order_cancelled(o, &cancel_id, now))
        }
        ("DELETE", "/api/v3/openOrders") => {
            let mut engine = sim.engine.lock();
            let symbol = market(&engine, p)?.symbol.venue();
            let ids: Vec<u64> = engine
                .open_orders()
                .filter(|o| o.symbol == symbol)
                .map(|o| o.id)
                .collect();
            if ids.is_empty() {
                return Err(ApiErr::bad(-2011, "Unknown order sent."));
            }
            let mut out = Vec::new();
            for id in ids {
                engine.cancel(&symbol, Some(id), None, now)?;
                if let Some(o) = engine.order(id) {
                    out.push(render::order_cancelled(
                        o,
                        &format!("cancel-{now}-{id}"),
                        now,
                    ));
                }
            }
            json(Value::Array(out))
        }
        ("GET", "/api/v3/openOrders") => {
            let engine = sim.engine.lock();
            let symbol = match p.symbol()? {
                Some(s) if engine.markets.contains_key(s) => Some(s.to_string()),
                Some(_) => return Err(ApiErr::invalid_symbol()),
                None => None,
            };
            let list: Vec<Value> = engine
                .open_orders()
                .filter(|o| symbol.as_ref().is_none_or(|s| *s == o.symbol))
                .map(render::order_query)
                .collect();
            json(Value::Array(list))
        }
        ("GET", "/api/v3/allOrders") => {
            let engine = sim.engine.lock();
            let symbol = market(&engine, p)?.symbol.venue();
            let from_id = p.integer("orderId")?;
            let (start, end) = (p.time("startTime")?, p.time("endTime")?);
            let limit = p.limit(500, 1000)?;
            let mut list: Vec<&crate::engine::Order> = engine
                .orders()
                .iter()
                .filter(|o| o.symbol == symbol)
                .filter(|o| from_id.is_none_or(|id| o.id >= id))
                .filter(|o| start.is_none_or(|t| o.time >= t) && end.is_none_or(|t| o.time <= t))
                .collect();
            if from_id.is_none() && start.is_none() && list.len() > limit {
                list.drain(..list.len() - limit);
            }
            list.truncate(limit);
            json(Value::Array(
                list.into_iter().map(render::order_query).collect(),
            ))
        }
        ("GET", "/api/v3/myTrades") => {
            let engine = sim.engine.lock();
            let symbol = market(&engine, p)?.symbol.venue();
            let order_id = p.integer("orderId")?;
            let from_id = p.integer("fromId")?;
            let (start, end) = (p.time("startTime")?, p.time("endTime")?);
            let limit = p.limit(500, 1000)?;
            let mut list: Vec<&crate::engine::TradeRec> = engine
                .trades()
                .iter()
                .filter(|t| t.symbol == symbol)
                .filter(|t| order_id.is_none_or(|id| t.order_id == id))
                .filter(|t| from_id.is_none_or(|id| t.id >= id))
                .filter(|t| start.is_none_or(|s| t.time >= s) && end.is_none_or(|e| t.time <= e))
                .collect();
            if from_id.is_none() && start.is_none() && list.len() > limit {
                list.drain(..list.len() - limit);
            }
            list.truncate(limit);
            json(Value::Array(list.into_iter().map(render::trade).collect()))
        }
        ("GET", "/api/v3/account") => {
            let engine = sim.engine.lock();
            json(render::account(&engine, now))
        }
        _ => Err(ApiErr {
            status: 404,
            code: -1000,
            msg: format!("Unknown endpoint {} {path}.", method.as_str()),
        }),
    }
}

fn market<'e>(
    engine: &'e crate::engine::Engine,
    p: &Params,
) -> Result<&'e crate::market::Market, ApiErr> {
    let s = p.symbol()?.ok_or_else(|| ApiErr::mandatory("symbol"))?;
    engine.markets.get(s).ok_or_else(ApiErr::invalid_symbol)
}

fn order_ref(p: &Params) -> Result<(Option<u64>, Option<&str>), ApiErr> {
    let id = p.integer("orderId")?;
    let cid = p.client_id("origClientOrderId")?;
    if id.is_none() && cid.is_none() {
        return Err(ApiErr::bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    Ok((id, cid))
}

fn exchange_info(sim: &Sim, p: &Params, now: i64) -> Result<Value, ApiErr> {
    let engine = sim.engine.lock();
    let mut wanted: Vec<String> = Vec::new();
    if let Some(s) = p.symbol()? {
        wanted.push(s.to_string());
    }
    if let Some(list) = p.get("symbols") {
        let names: Vec<String> = serde_json::from_str(list)
            .map_err(|_| ApiErr::bad(-1100, "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'."))?;
        wanted.extend(names);
    }
    for w in &wanted {
        if !engine.markets.contains_key(w) {
            return Err(ApiErr::invalid_symbol());
        }
    }
    let markets = engine
        .markets
        .values()
        .filter(|m| wanted.is_empty() || wanted.contains(&m.symbol.venue()));
    Ok(render::exchange_info(markets, now, sim.config.weight_limit))
}

/// Kline intervals and their length; a 1w bar starts on Monday (epoch + 4 days).
fn interval(name: &str) -> Option<(i64, i64)> {
    let tf: Timeframe = name.parse().ok()?;
    let offset = if tf == Timeframe::W1 {
        4 * 86_400_000
    } else {
        0
    };
    Some((tf.millis(), offset))
}

fn klines(sim: &Sim, p: &Params) -> Result<Value, ApiErr> {
    let engine = sim.engine.lock();
    let m = market(&engine, p)?;
    let name = p.required("interval")?;
    let (ms, offset) = interval(name).ok_or_else(|| ApiErr::bad(-1120, "Invalid interval."))?;
    let base = m.timeframe.millis();
    if ms < base || ms % base != 0 {
        // The path has no finer bars than its own.
        return Err(ApiErr::bad(-1120, "Invalid interval."));
    }
    let start = p.time("startTime")?;
    let end = p.time("endTime")?;
    let limit = p.limit(500, 1000)?;
    let bars = aggregate(m.history(), ms, offset);
    let selected: Vec<&aurum_core::Candle> = match start {
        Some(s) => bars
            .iter()
            .filter(|c| c.open_time_ms >= s && end.is_none_or(|e| c.open_time_ms <= e))
            .take(limit)
            .collect(),
        None => {
            let upto: Vec<&aurum_core::Candle> = bars
                .iter()
                .filter(|c| end.is_none_or(|e| c.open_time_ms <= e))
                .collect();
            let skip = upto.len().saturating_sub(limit);
            upto.into_iter().skip(skip).collect()
        }
    };
    Ok(Value::Array(
        selected.into_iter().map(|c| render::kline(c, ms)).collect(),
    ))
}

/// Bars of `ms` built from finer ones (the same bars when `ms` is their own length).
fn aggregate(candles: &[aurum_core::Candle], ms: i64, offset: i64) -> Vec<aurum_core::Candle> {
    let mut out: Vec<aurum_core::Candle> = Vec::new();
    for c in candles {
        let open = (c.open_time_ms - offset).div_euclid(ms) * ms + offset;
        match out.last_mut() {
            Some(b) if b.open_time_ms == open => {
                b.high = b.high.max(c.high);
                b.low = b.low.min(c.low);
                b.close = c.close;
                b.volume = b.volume.checked_add(c.volume).unwrap_or(Decimal::MAX);
            }
            _ => out.push(aurum_core::Candle {
                open_time_ms: open,
                ..*c
            }),
        }
    }
    out
}

fn depth(sim: &Sim, p: &Params) -> Result<Value, ApiErr> {
    let engine = sim.engine.lock();
    let m = market(&engine, p)?;
    let limit = p.limit(100, 5000)?.min(100);
    let (last, tick) = (m.last_price(), m.tick());
    let level_qty = (m.current().volume / Decimal::from(50))
        .round_dp(8)
        .max(m.step());
    let mut bids = Vec::new();
    let mut asks = Vec::new();
    for k in 1..=limit {
        let k = Decimal::from(k);
        let bid = last - tick * k;
        if bid > Decimal::ZERO {
            bids.push(json!([d8(bid), d8(level_qty)]));
        }
        asks.push(json!([d8(last + tick * k), d8(level_qty)]));
    }
    Ok(json!({"lastUpdateId": m.cursor, "bids": bids, "asks": asks}))
}

fn ticker_24h(m: &crate::market::Market) -> Value {
    let hist = m.history();
    let tf = m.timeframe.millis().max(1);
    let n = usize::try_from(86_400_000 / tf).unwrap_or(1).max(1);
    let window = &hist[hist.len().saturating_sub(n)..];
    let first = window.first().copied().unwrap_or(*m.current());
    let last = m.current();
    let high = window.iter().map(|c| c.high).max().unwrap_or(last.high);
    let low = window.iter().map(|c| c.low).min().unwrap_or(last.low);
    // Checked sums: a data file of absurd magnitudes gives zeros here, not a panic.
    let volume = window
        .iter()
        .try_fold(Decimal::ZERO, |acc, c| acc.checked_add(c.volume))
        .unwrap_or(Decimal::ZERO);
    let quote = window
        .iter()
        .try_fold(Decimal::ZERO, |acc, c| {
            acc.checked_add(c.volume.checked_mul(c.close)?)
        })
        .unwrap_or(Decimal::ZERO);
    let change = last.close - first.open;
    let pct = change
        .checked_div(first.open)
        .and_then(|x| x.checked_mul(Decimal::from(100)))
        .map(|x| x.round_dp(3))
        .unwrap_or(Decimal::ZERO);
    let wavg = quote
        .checked_div(volume)
        .map(|x| x.round_dp(8))
        .unwrap_or(last.close);
    json!({
        "symbol": m.symbol.venue(),
        "priceChange": d8(change),
        "priceChangePercent": pct.to_string(),
        "weightedAvgPrice": d8(wavg),
        "prevClosePrice": d8(first.open),
        "lastPrice": d8(last.close),
        "lastQty": d8(Decimal::ZERO),
        "bidPrice": d8(last.close - m.tick()),
        "bidQty": d8(Decimal::ONE),
        "askPrice": d8(last.close + m.tick()),
        "askQty": d8(Decimal::ONE),
        "openPrice": d8(first.open),
        "highPrice": d8(high),
        "lowPrice": d8(low),
        "volume": d8(volume),
        "quoteVolume": d8(quote.round_dp(8)),
        "openTime": first.open_time_ms,
        "closeTime": last.open_time_ms + tf - 1,
        "firstId": 0,
        "lastId": 0,
        "count": 0
    })
}

fn tickers(
    sim: &Sim,
    p: &Params,
    one: impl Fn(&crate::market::Market) -> Value,
) -> Result<Value, ApiErr> {
    let engine = sim.engine.lock();
    if p.symbol()?.is_some() {
        return Ok(one(market(&engine, p)?));
    }
    if let Some(list) = p.get("symbols") {
        let names: Vec<String> = serde_json::from_str(list)
            .map_err(|_| ApiErr::bad(-1100, "Illegal characters found in parameter 'symbols'."))?;
        let mut out = Vec::new();
        for n in names {
            out.push(one(engine
                .markets
                .get(&n)
                .ok_or_else(ApiErr::invalid_symbol)?));
        }
        return Ok(Value::Array(out));
    }
    Ok(Value::Array(engine.markets.values().map(one).collect()))
}

fn new_order(sim: &Sim, p: &Params, now: i64, test_only: bool) -> Result<Outcome, ApiErr> {
    let symbol = p.symbol()?.ok_or_else(|| ApiErr::mandatory("symbol"))?;
    let side = match p.required("side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(ApiErr::bad(-1117, "Invalid side.")),
    };
    let kind =
        Kind::parse(p.required("type")?).ok_or_else(|| ApiErr::bad(-1116, "Invalid orderType."))?;
    let tif = match p.get("timeInForce") {
        None => None,
        Some(t) => Some(Tif::parse(t).ok_or_else(|| ApiErr::bad(-1115, "Invalid timeInForce."))?),
    };
    let resp = match p.get("newOrderRespType") {
        None if matches!(kind, Kind::Market | Kind::Limit) => RespType::Full,
        None => RespType::Ack,
        Some("ACK") => RespType::Ack,
        Some("RESULT") => RespType::Result,
        Some("FULL") => RespType::Full,
        Some(_) => return Err(ApiErr::bad(-1177, "Invalid newOrderRespType.")),
    };
    if p.get("trailingDelta").is_some() {
        return Err(ApiErr::rejected(
            "Trailing stop orders are not supported for this symbol.",
        ));
    }
    let req = NewOrder {
        symbol: symbol.to_string(),
        side,
        kind,
        tif,
        quantity: p.decimal("quantity")?,
        quote_qty: p.decimal("quoteOrderQty")?,
        price: p.decimal("price")?,
        stop_price: p.decimal("stopPrice")?,
        client_id: p.client_id("newClientOrderId")?.map(str::to_string),
    };
    let mut engine = sim.engine.lock();
    let id = engine.place(&req, now, test_only)?;
    if test_only {
        return Ok(Outcome::Json(json!({})));
    }
    let o = engine.order(id).ok_or_else(|| {
        ApiErr::bad(
            -1000,
            "An unknown error occurred while processing the request.",
        )
    })?;
    Ok(Outcome::Placed(render::order_placed(o, &engine, resp)))
}
