//! The Binance Spot REST client.
//!
//! - Signed requests: HMAC-SHA256 ([`crate::sign`]), the key in `X-MBX-APIKEY`, a `timestamp`
//!   corrected by the offset to the server's clock (read from `/api/v3/time` before the first
//!   signed call and again after a -1021), a configurable `recvWindow`.
//! - GET requests are idempotent: they are retried on retryable errors, at most
//!   [`BinanceConfig::max_retries`] times, with exponential backoff, waiting out a 429's
//!   `Retry-After`. Other methods are re-sent only when the venue provably did nothing.
//! - New orders are idempotent by client order id: see [`BinanceClient::place_order`].
//! - The request weight the venue reports (`X-MBX-USED-WEIGHT-1M`) is kept.
//! - A 429's `Retry-After` and a 418 ban are honoured by every call of the client: until they
//!   run out, requests are answered locally with the same typed error and never sent.

mod config;
pub mod order;

pub use config::{BinanceConfig, MAINNET_URL, Secret, TESTNET_URL};
pub use order::{PreparedOrder, prepare_order};

use crate::error::{ApiError, ExchangeError, RejectReason};
use crate::exchange::{Exchange, Result};
use crate::parse;
use crate::sign::{Params, append_signature};
use crate::types::{Balance, Kline, KlineQuery, OrderAck, OrderReport, Trade, TradesSince};
use aurum_core::{ClientOrderId, OrderIntent, OrderType, Price, Symbol, SymbolFilters};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Extra wait past a lost order's recvWindow before it is taken as never placed (clock
/// offset error, server processing time).
const RECV_WINDOW_MARGIN_MS: i64 = 250;

/// HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One REST call before signing.
struct Call {
    method: Method,
    path: &'static str,
    params: Params,
    signed: bool,
}

impl Call {
    fn get(path: &'static str, params: Params) -> Call {
        Call {
            method: Method::Get,
            path,
            params,
            signed: false,
        }
    }

    fn signed(method: Method, path: &'static str, params: Params) -> Call {
        Call {
            method,
            path,
            params,
            signed: true,
        }
    }

    fn endpoint(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }
}

/// A venue's order to stop sending: a 429's `Retry-After` or a 418 ban, until `until`.
#[derive(Debug, Clone)]
struct Hold {
    until: Instant,
    banned: bool,
    msg: String,
}

/// Counters of what the client did (for tests and metrics).
#[derive(Debug, Default)]
pub struct ClientStats {
    /// HTTP requests sent (every attempt).
    pub requests: AtomicU64,
    /// Retries after retryable errors.
    pub retries: AtomicU64,
    /// `POST /api/v3/order` requests sent.
    pub order_posts: AtomicU64,
    /// Orders recovered by a lookup by client order id.
    pub recovered_orders: AtomicU64,
    /// Requests not sent because a `Retry-After` or a ban was still running.
    pub held_back: AtomicU64,
}

/// A Binance Spot REST client (also for the testnet and the simulator).
#[derive(Debug)]
pub struct BinanceClient {
    http: reqwest::Client,
    cfg: BinanceConfig,
    time_offset_ms: AtomicI64,
    time_synced: AtomicBool,
    used_weight_1m: AtomicU32,
    weight_seen: AtomicBool,
    filters: RwLock<HashMap<String, SymbolFilters>>,
    inflight: Mutex<HashSet<ClientOrderId>>,
    hold: Mutex<Option<Hold>>,
    stats: ClientStats,
}

/// Removes a client order id from the in-flight set when a placement ends, however it ends.
struct InflightGuard<'a> {
    set: &'a Mutex<HashSet<ClientOrderId>>,
    id: ClientOrderId,
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.set.lock().remove(&self.id);
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn classify(e: &reqwest::Error, endpoint: &str) -> ExchangeError {
    let detail = error_chain(e);
    if e.is_timeout() {
        ExchangeError::Timeout {
            endpoint: endpoint.to_string(),
            detail,
        }
    } else if e.is_connect() {
        ExchangeError::Connect {
            endpoint: endpoint.to_string(),
            detail,
        }
    } else if e.is_builder() {
        ExchangeError::Config(format!("{endpoint}: {detail}"))
    } else {
        ExchangeError::Transport {
            endpoint: endpoint.to_string(),
            detail,
        }
    }
}

/// The error and its sources on one line (reqwest's top message alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Errors after which the venue provably did nothing, so a non-idempotent request may be sent
/// again: refused connections, rate limits, a stale timestamp.
fn provably_not_executed(e: &ExchangeError) -> bool {
    matches!(
        e,
        ExchangeError::Connect { .. } | ExchangeError::RateLimited { .. }
    ) || matches!(
        e.api_error(),
        Some(ApiError::TimestampOutsideRecvWindow | ApiError::TooManyRequests)
    )
}

impl BinanceClient {
    /// A client for `cfg`. Fails only if the HTTP client cannot be built.
    pub fn new(cfg: BinanceConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("aurum/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ExchangeError::Config(format!("cannot build the HTTP client: {}", error_chain(&e)))
            })?;
        if !(cfg.base_url.starts_with("http://") || cfg.base_url.starts_with("https://")) {
            return Err(ExchangeError::Config(format!(
                "base URL {:?} must start with http:// or https://",
                cfg.base_url
            )));
        }
        if cfg.recv_window_ms == 0 || cfg.recv_window_ms > 60_000 {
            return Err(ExchangeError::Config(format!(
                "recvWindow {} ms is outside 1..=60000",
                cfg.recv_window_ms
            )));
        }
        Ok(BinanceClient {
            http,
            cfg,
            time_offset_ms: AtomicI64::new(0),
            time_synced: AtomicBool::new(false),
            used_weight_1m: AtomicU32::new(0),
            weight_seen: AtomicBool::new(false),
            filters: RwLock::new(HashMap::new()),
            inflight: Mutex::new(HashSet::new()),
            hold: Mutex::new(None),
            stats: ClientStats::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &BinanceConfig {
        &self.cfg
    }

    /// What the client did so far.
    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// The request weight used in the current minute, as the venue last reported it
    /// (`X-MBX-USED-WEIGHT-1M`); `None` before any answer carried it.
    pub fn used_weight_1m(&self) -> Option<u32> {
        self.weight_seen
            .load(Ordering::Relaxed)
            .then(|| self.used_weight_1m.load(Ordering::Relaxed))
    }

    /// The current offset `server clock - local clock`, ms.
    pub fn time_offset_ms(&self) -> i64 {
        self.time_offset_ms.load(Ordering::Relaxed)
    }

    /// Reads the server's clock and keeps the offset to the local one (measured at the middle
    /// of the round trip). Returns the offset.
    pub async fn sync_time(&self) -> Result<i64> {
        let t0 = now_ms();
        let server = self
            .fetch(Call::get("/api/v3/time", Params::new()), parse::server_time)
            .await?;
        let t1 = now_ms();
        let offset = server - (t0 + (t1 - t0) / 2);
        self.time_offset_ms.store(offset, Ordering::Relaxed);
        self.time_synced.store(true, Ordering::Relaxed);
        Ok(offset)
    }

    /// `GET /api/v3/ping`.
    pub async fn ping(&self) -> Result<()> {
        self.call(Call::get("/api/v3/ping", Params::new()))
            .await
            .map(|_| ())
    }

    /// The error for a request made while the venue's `Retry-After` or ban still runs: the
    /// request is not sent at all (sending it would turn a 429 into a 418 ban).
    fn held_back(&self, endpoint: &str) -> Option<ExchangeError> {
        let mut hold = self.hold.lock();
        let h = hold.as_ref()?;
        let now = Instant::now();
        if now >= h.until {
            *hold = None;
            return None;
        }
        self.stats.held_back.fetch_add(1, Ordering::Relaxed);
        let retry_after = Some(h.until - now);
        let msg = format!("not sent, the venue asked to wait: {}", h.msg);
        Some(if h.banned {
            ExchangeError::IpBanned {
                endpoint: endpoint.to_string(),
                retry_after,
                msg,
            }
        } else {
            ExchangeError::RateLimited {
                endpoint: endpoint.to_string(),
                retry_after,
                msg,
            }
        })
    }

    /// Remembers a 429's `Retry-After` or a 418 ban.
    fn remember_hold(&self, e: &ExchangeError) {
        let (banned, msg) = match e {
            ExchangeError::RateLimited { msg, .. } => (false, msg),
            ExchangeError::IpBanned { msg, .. } => (true, msg),
            _ => return,
        };
        if let Some(wait) = e.retry_after() {
            let until = Instant::now() + wait;
            let mut hold = self.hold.lock();
            if hold.as_ref().is_none_or(|h| h.until < until) {
                *hold = Some(Hold {
                    until,
                    banned,
                    msg: msg.clone(),
                });
            }
        }
    }

    /// Sends one attempt of `call` and returns the body of a 2xx answer.
    async fn send_once(&self, call: &Call) -> Result<Vec<u8>> {
        let endpoint = call.endpoint();
        if let Some(e) = self.held_back(&endpoint) {
            return Err(e);
        }
        let mut query = String::new();
        let mut body = None;
        if call.signed {
            let secret =
                self.cfg.api_secret.as_ref().ok_or_else(|| {
                    ExchangeError::Config(format!("{endpoint} needs an API secret"))
                })?;
            let mut params = call.params.clone();
            params.push("recvWindow", self.cfg.recv_window_ms);
            params.push("timestamp", now_ms() + self.time_offset_ms());
            let payload = params.encode();
            let signed = append_signature(secret.expose(), "", &payload);
            if call.method == Method::Post {
                body = Some(signed);
            } else {
                query = signed;
            }
        } else {
            query = call.params.encode();
        }
        let mut url = format!("{}{}", self.cfg.base_url, call.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let method = match call.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut req = self.http.request(method, url);
        if let Some(key) = &self.cfg.api_key {
            req = req.header("X-MBX-APIKEY", key);
        } else if call.signed {
            return Err(ExchangeError::Config(format!(
                "{endpoint} needs an API key"
            )));
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(b);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if call.path == "/api/v3/order" && call.method == Method::Post {
            self.stats.order_posts.fetch_add(1, Ordering::Relaxed);
        }
        let resp = req.send().await.map_err(|e| classify(&e, &endpoint))?;
        let status = resp.status().as_u16();
        let headers = resp.headers();
        if let Some(w) = headers
            .get("x-mbx-used-weight-1m")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok())
        {
            self.used_weight_1m.store(w, Ordering::Relaxed);
            self.weight_seen.store(true, Ordering::Relaxed);
        }
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp.bytes().await.map_err(|e| classify(&e, &endpoint))?;
        if (200..300).contains(&status) {
            Ok(bytes.to_vec())
        } else {
            let e = parse::error_response(&endpoint, status, retry_after.as_deref(), &bytes);
            self.remember_hold(&e);
            Err(e)
        }
    }

    /// How long to wait before retry `attempt`, or `None` when the venue asked for a longer
    /// wait than the client accepts.
    fn delay_for(&self, e: &ExchangeError, attempt: u32) -> Option<Duration> {
        match e.retry_after() {
            Some(d) if d > self.cfg.max_retry_after => None,
            Some(d) => Some(d),
            None => Some(self.cfg.backoff_for(attempt)),
        }
    }

    /// Runs `call` and reads its answer with `parse`, retrying when that is safe: any
    /// retryable error (a truncated body included) for GET, only errors after which the venue
    /// provably did nothing for other methods.
    async fn fetch<T>(&self, call: Call, parse: impl Fn(&[u8]) -> Result<T>) -> Result<T> {
        if call.signed && !self.time_synced.load(Ordering::Relaxed) {
            Box::pin(self.sync_time()).await?;
        }
        let mut attempt = 0;
        loop {
            let err = match self.send_once(&call).await.and_then(|body| parse(&body)) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let safe = if call.method == Method::Get {
                err.is_retryable()
            } else {
                provably_not_executed(&err)
            };
            if !safe || attempt >= self.cfg.max_retries {
                return Err(err);
            }
            let Some(wait) = self.delay_for(&err, attempt) else {
                return Err(err);
            };
            tracing::debug!(error = %err, ?wait, attempt, "retrying");
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            if matches!(err.api_error(), Some(ApiError::TimestampOutsideRecvWindow)) {
                Box::pin(self.sync_time()).await?;
            } else {
                tokio::time::sleep(wait).await;
            }
            attempt += 1;
        }
    }

    /// [`fetch`](Self::fetch) returning the raw body.
    async fn call(&self, call: Call) -> Result<Vec<u8>> {
        self.fetch(call, |b| Ok(b.to_vec())).await
    }

    /// The filters of `symbol`, loading the exchange info when they are not known yet.
    pub async fn filters(&self, symbol: &Symbol) -> Result<SymbolFilters> {
        let venue = symbol.venue();
        if let Some(f) = self.filters.read().get(&venue) {
            return Ok(f.clone());
        }
        self.exchange_info().await?;
        self.filters
            .read()
            .get(&venue)
            .cloned()
            .ok_or_else(|| ExchangeError::UnknownSymbol(symbol.clone()))
    }

    fn resolve(&self, venue: &str) -> Option<Symbol> {
        self.filters.read().get(venue).map(|f| f.symbol.clone())
    }

    /// Sends a prepared order once.
    async fn post_order(&self, prepared: &PreparedOrder) -> Result<Vec<u8>> {
        self.call(Call::signed(
            Method::Post,
            "/api/v3/order",
            prepared.params.clone(),
        ))
        .await
    }

    /// The order and all its fills, for an order found by a lookup.
    async fn recovered_ack(&self, report: OrderReport) -> Result<OrderAck> {
        let fills = if report.executed_qty.is_zero() {
            Vec::new()
        } else {
            self.my_trades(&report.symbol, TradesSince::Order(report.order_id))
                .await?
                .into_iter()
                .map(|t| t.into_fill(report.client_order_id.clone()))
                .collect()
        };
        self.stats.recovered_orders.fetch_add(1, Ordering::Relaxed);
        Ok(OrderAck {
            order: report,
            fills,
            recovered: true,
        })
    }

    /// `POST /api/v3/order/test`: validates an order on the venue without placing it.
    pub async fn test_order(&self, intent: &OrderIntent) -> Result<()> {
        let prepared = self.prepare(intent).await?;
        self.call(Call::signed(
            Method::Post,
            "/api/v3/order/test",
            prepared.params,
        ))
        .await
        .map(|_| ())
    }

    /// Rounds and checks an intent against the venue's filters (valuing a market order at the
    /// last price when a notional rule applies to market orders).
    pub async fn prepare(&self, intent: &OrderIntent) -> Result<PreparedOrder> {
        intent.validate()?;
        let filters = self.filters(&intent.symbol).await?;
        let needs_reference = intent.order_type == OrderType::Market
            && intent.quantity.is_some()
            && !filters.min_notional(true).is_zero();
        let reference = match (intent.price, needs_reference) {
            (Some(p), _) => Some(p),
            (None, true) => Some(self.ticker_price(&intent.symbol).await?),
            (None, false) => None,
        };
        prepare_order(intent, &filters, reference)
    }

    /// All orders of `symbol` (open and closed) from `GET /api/v3/allOrders`.
    pub async fn all_orders(&self, symbol: &Symbol) -> Result<Vec<OrderReport>> {
        let venue = symbol.venue();
        let call = Call::signed(
            Method::Get,
            "/api/v3/allOrders",
            Params::new().with("symbol", symbol.venue()),
        );
        self.fetch(call, |b| {
            parse::orders(b, &|name: &str| (name == venue).then(|| symbol.clone()))
        })
        .await
    }
}

impl Exchange for BinanceClient {
    async fn server_time(&self) -> Result<i64> {
        self.fetch(Call::get("/api/v3/time", Params::new()), parse::server_time)
            .await
    }

    async fn exchange_info(&self) -> Result<Vec<SymbolFilters>> {
        let all = self
            .fetch(
                Call::get("/api/v3/exchangeInfo", Params::new()),
                parse::exchange_info,
            )
            .await?;
        let mut cache = self.filters.write();
        for f in &all {
            cache.insert(f.symbol.venue(), f.clone());
        }
        Ok(all)
    }

    async fn klines(&self, q: &KlineQuery) -> Result<Vec<Kline>> {
        let mut p = Params::new()
            .with("symbol", q.symbol.venue())
            .with("interval", q.timeframe.as_str());
        p.push_opt("startTime", q.start_ms);
        p.push_opt("endTime", q.end_ms);
        p.push_opt("limit", q.limit);
        self.fetch(Call::get("/api/v3/klines", p), parse::klines)
            .await
    }

    async fn ticker_price(&self, symbol: &Symbol) -> Result<Price> {
        let call = Call::get(
            "/api/v3/ticker/price",
            Params::new().with("symbol", symbol.venue()),
        );
        let venue = symbol.venue();
        self.fetch(call, |body| {
            let (name, price) = parse::ticker_price(body)?;
            if name != venue {
                return Err(ExchangeError::Malformed {
                    what: "GET /api/v3/ticker/price".into(),
                    detail: format!("asked for {venue}, got {name}"),
                    excerpt: parse::excerpt(body),
                });
            }
            Ok(price)
        })
        .await
    }

    /// Places `intent` at most once on the venue.
    ///
    /// The order carries the intent's client order id. When the answer is lost (timeout,
    /// broken connection, 5xx, unreadable body), or the venue calls the id a duplicate, the
    /// client asks for the order by that id before anything else:
    /// - found: it is returned (`recovered = true`, with its fills from `myTrades`);
    /// - not found: the lost request could still be on its way, but only until its timestamp
    ///   leaves the recvWindow (after that the venue must refuse it, -1021). The client waits
    ///   for that moment, asks again, and only if the order is still absent sends it again
    ///   (bounded by `max_retries`);
    /// - the lookup fails: the result is [`ExchangeError::UnknownOutcome`] and nothing is
    ///   sent again.
    ///
    /// Sending again is also done, bounded, after errors that prove nothing happened (refused
    /// connection, 429, -1021). Two concurrent calls for one client order id are refused
    /// ([`ExchangeError::AlreadyInFlight`]). A restarted engine must still look its open
    /// intents up ([`Exchange::order_by_client_id`]) before placing them: Binance refuses a
    /// reused client order id only while that order is open.
    async fn place_order(&self, intent: &OrderIntent) -> Result<OrderAck> {
        let prepared = self.prepare(intent).await?;
        let id = intent.client_order_id.clone();
        if !self.inflight.lock().insert(id.clone()) {
            return Err(ExchangeError::AlreadyInFlight(id));
        }
        let _guard = InflightGuard {
            set: &self.inflight,
            id: id.clone(),
        };
        let symbol = &intent.symbol;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let sent = self.post_order(&prepared).await;
            // Every timestamp this attempt signed is at most this one (server clock).
            let latest_timestamp = now_ms() + self.time_offset_ms();
            let err = match sent {
                Ok(body) => match parse::order_response(&body, symbol) {
                    Ok(ack) => return Ok(ack),
                    // Accepted, but the answer cannot be read: look the order up.
                    Err(e) => e,
                },
                Err(e) => e,
            };
            let duplicate = matches!(
                err.api_error(),
                Some(ApiError::NewOrderRejected(RejectReason::DuplicateOrder))
            );
            if !(duplicate || err.is_unknown_outcome()) {
                return Err(err);
            }
            tracing::warn!(client_order_id = %id, error = %err, "order outcome unknown: looking it up");
            match self.order_by_client_id(symbol, &id).await {
                Ok(Some(report)) => return self.recovered_ack(report).await,
                // A duplicate that cannot be found belongs to nobody we know: report it.
                Ok(None) if duplicate => return Err(err),
                Ok(None) => {
                    // Not there yet. A request still travelling could arrive later, but only
                    // until its timestamp leaves the recvWindow: after that the venue must
                    // refuse it (-1021). Look again once that has passed; absent then, the
                    // order provably was not placed and sending it again is safe.
                    let expiry = latest_timestamp
                        + i64::try_from(self.cfg.recv_window_ms).unwrap_or(60_000)
                        + RECV_WINDOW_MARGIN_MS;
                    let wait = expiry - (now_ms() + self.time_offset_ms());
                    if wait > 0 {
                        tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
                        match self.order_by_client_id(symbol, &id).await {
                            Ok(Some(report)) => return self.recovered_ack(report).await,
                            Ok(None) => {}
                            Err(lookup) => {
                                return Err(ExchangeError::UnknownOutcome {
                                    symbol: symbol.clone(),
                                    client_order_id: id.clone(),
                                    attempts,
                                    detail: format!("{err}; lookup failed: {lookup}"),
                                });
                            }
                        }
                    }
                    if attempts > self.cfg.max_retries {
                        return Err(err);
                    }
                }
                Err(lookup) => {
                    return Err(ExchangeError::UnknownOutcome {
                        symbol: symbol.clone(),
                        client_order_id: id.clone(),
                        attempts,
                        detail: format!("{err}; lookup failed: {lookup}"),
                    });
                }
            }
        }
    }

    async fn cancel_order(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<OrderReport> {
        let body = self
            .call(Call::signed(
                Method::Delete,
                "/api/v3/order",
                Params::new()
                    .with("symbol", symbol.venue())
                    .with("origClientOrderId", id.as_str()),
            ))
            .await?;
        parse::order(&body, symbol)
    }

    async fn order_by_client_id(
        &self,
        symbol: &Symbol,
        id: &ClientOrderId,
    ) -> Result<Option<OrderReport>> {
        let call = Call::signed(
            Method::Get,
            "/api/v3/order",
            Params::new()
                .with("symbol", symbol.venue())
                .with("origClientOrderId", id.as_str()),
        );
        match self.fetch(call, |b| parse::order(b, symbol)).await {
            Ok(report) => Ok(Some(report)),
            Err(e) if matches!(e.api_error(), Some(ApiError::NoSuchOrder)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OrderReport>> {
        let mut p = Params::new();
        p.push_opt("symbol", symbol.map(Symbol::venue));
        let call = Call::signed(Method::Get, "/api/v3/openOrders", p);
        self.fetch(call, |b| {
            parse::orders(b, &|name: &str| match symbol {
                Some(s) if s.venue() == name => Some(s.clone()),
                _ => self.resolve(name),
            })
        })
        .await
    }

    async fn my_trades(&self, symbol: &Symbol, since: TradesSince) -> Result<Vec<Trade>> {
        let mut p = Params::new().with("symbol", symbol.venue());
        match since {
            TradesSince::TradeId(id) => p.push("fromId", id),
            TradesSince::TimeMs(t) => p.push("startTime", t),
            TradesSince::Order(id) => p.push("orderId", id),
        }
        p.push("limit", 1000);
        let call = Call::signed(Method::Get, "/api/v3/myTrades", p);
        self.fetch(call, |b| parse::trades(b, symbol)).await
    }

    async fn balances(&self) -> Result<Vec<Balance>> {
        self.fetch(
            Call::signed(Method::Get, "/api/v3/account", Params::new()),
            parse::account,
        )
        .await
    }
}
