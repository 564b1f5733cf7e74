//! The JSON endpoints under `/api`.

use crate::auth::Authorized;
use crate::error::{ApiError, ErrorBody};
use crate::state::{AppState, now_ms};
use crate::views::*;
use aurum_core::{Decimal, Money, Side};
use aurum_runtime::KillSwitchRecord;
use aurum_runtime::control::{self, EntriesRecord};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame; the paths come from the handlers (see [`crate::openapi`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "aurum operator API",
        description = "Status, books, history and controls of an aurum bot. Amounts are exact decimals as JSON strings. Mutating endpoints need `Authorization: Bearer <token>`.",
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "bot", description = "The bot's state and books"),
        (name = "control", description = "Kill switch and entries (bearer token)"),
        (name = "history", description = "Stored history"),
        (name = "ops", description = "Health, readiness, metrics, store"),
        (name = "dashboard", description = "The web dashboard"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer scheme the mutating endpoints name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// A JSON request body: malformed → 400 with the parser's reason, over the limit → 413,
/// empty → the type's default.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(state.max_body_bytes())
            } else {
                ApiError::BadRequest(format!("request body: {}", e.body_text()))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")))
    }
}

/// Query parameters: unusable ones are a JSON 400 that names the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// A known path with a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Any path that is not a route.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
}

fn json_of<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The bot's state: mode, trading state, kill switch, entries, equity, phase, risk,
/// reconciliation, per-pair data, counters and latency.
#[utoipa::path(get, path = "/api/status", tag = "bot",
    responses((status = 200, body = StatusView), (status = 503, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>) -> Result<Json<StatusView>, ApiError> {
    let bot = state.bot().await?;
    let s = bot.status.as_ref();
    let state_name = match s {
        None => "not_running".to_string(),
        Some(_) if bot.live.is_some() => "trading".to_string(),
        Some(s) if s.state == "trading" && !bot.running => "not_running".to_string(),
        Some(s) => s.state.clone(),
    };
    Ok(Json(StatusView {
        bot_id: state.bot_id().to_string(),
        mode: s.map(|s| s.mode.clone()),
        state: state_name,
        running: bot.running,
        heartbeat_ms: s.map(|s| s.heartbeat_ms),
        started_at_ms: s.map(|s| s.started_at_ms),
        kill_switch: (&bot.kill_switch).into(),
        entries_paused: bot.entries.paused,
        equity: s.map(|s| s.equity),
        cash: s.map(|s| s.cash),
        working_orders: s.map_or(0, |s| s.working_orders),
        strategy: s.map_or_else(|| serde_json::json!({}), |s| s.strategy.clone()),
        risk: bot.risk.as_ref().map(json_of),
        reconciliation: bot.reconciliation.clone(),
        pairs: s.map_or_else(|| serde_json::json!({}), |s| json_of(&s.pairs)),
        stats: s.map_or_else(|| serde_json::json!({}), |s| json_of(&s.stats)),
        latency: s.map_or_else(|| serde_json::json!({}), |s| json_of(&s.latency)),
    }))
}

/// Equity, cash, starting capital and every asset's balance from the ledger.
#[utoipa::path(get, path = "/api/balance", tag = "bot",
    responses((status = 200, body = BalanceView), (status = 503, body = ErrorBody)))]
pub async fn balance(State(state): State<AppState>) -> Result<Json<BalanceView>, ApiError> {
    let bot = state.bot().await?;
    let balances = state.store().balances(state.bot_id()).await?;
    let start_cash = bot.start_cash;
    let quote = state
        .store()
        .bots()
        .await?
        .into_iter()
        .find(|b| b.bot_id == state.bot_id())
        .map_or_else(|| "USDT".to_string(), |b| b.quote_asset.to_string());
    let equity = bot.status.as_ref().map(|s| s.equity);
    Ok(Json(BalanceView {
        quote,
        equity,
        cash: bot.status.as_ref().map(|s| s.cash),
        start_cash,
        pnl: equity.zip(start_cash).map(|(e, s)| e - s),
        balances: balances
            .into_iter()
            .map(|(a, m)| (a.to_string(), m))
            .collect(),
    }))
}

/// Open positions with their unrealised P&L at the bot's last price.
#[utoipa::path(get, path = "/api/positions", tag = "bot",
    responses((status = 200, body = Items<PositionView>), (status = 503, body = ErrorBody)))]
pub async fn positions(
    State(state): State<AppState>,
) -> Result<Json<Items<PositionView>>, ApiError> {
    let bot = state.bot().await?;
    let rows = state.store().positions(state.bot_id(), true).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let p = r.position;
            let pair = p.symbol.to_string();
            let last_price = bot
                .status
                .as_ref()
                .and_then(|s| s.pairs.get(&pair))
                .and_then(|s| s.last_price);
            PositionView {
                unrealized_pnl: last_price.map(|price| p.unrealised_pnl(price)),
                avg_entry_price: p.avg_entry_price(),
                quantity: p.quantity,
                realized_pnl: p.realised_pnl,
                opened_at_ms: p.opened_at_ms,
                last_price,
                pair,
            }
        })
        .collect();
    Ok(Json(Items { items }))
}

/// Orders, newest first (`open=true`: only those not final yet).
#[utoipa::path(get, path = "/api/orders", tag = "history", params(PageQuery),
    responses((status = 200, body = Page<OrderView>), (status = 503, body = ErrorBody)))]
pub async fn orders(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Page<OrderView>>, ApiError> {
    let (limit, offset) = q.bounds();
    let want = i64::try_from(limit.saturating_add(offset)).unwrap_or(i64::MAX);
    let rows = state
        .store()
        .orders(state.bot_id(), q.open.unwrap_or(false), want)
        .await?;
    let items = rows
        .into_iter()
        .skip(offset)
        .map(|o| OrderView {
            client_order_id: o.intent.client_order_id.to_string(),
            exchange_order_id: o.exchange_order_id,
            pair: o.intent.symbol.to_string(),
            side: json_str(&o.intent.side),
            order_type: json_str(&o.intent.order_type),
            status: json_str(&o.status),
            price: o.intent.price,
            quantity: o.intent.quantity,
            filled_qty: o.filled_qty,
            created_at_ms: o.intent.created_at_ms,
            updated_at_ms: o.updated_at_ms,
        })
        .collect();
    Ok(Json(Page {
        items,
        total: None,
        limit,
        offset,
    }))
}

/// A value's serde name (`"buy"`, `"partially_filled"`).
fn json_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Fills read per trade up to the end of the page, to price the exits (newest fills first:
/// a page of recent trades reads only recent fills; a trade whose sells are older than that
/// shows no exit price rather than costing a scan of the whole history).
const FILLS_PER_TRADE: usize = 50;

/// Closed round trips, newest first, with their exit price from the sell fills.
#[utoipa::path(get, path = "/api/trades", tag = "history", params(PageQuery),
    responses((status = 200, body = Page<TradeView>), (status = 503, body = ErrorBody)))]
pub async fn trades(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Page<TradeView>>, ApiError> {
    let (limit, offset) = q.bounds();
    let mut closed: Vec<_> = state
        .store()
        .positions(state.bot_id(), false)
        .await?
        .into_iter()
        .filter_map(|r| r.position.closed_at_ms.map(|t| (t, r)))
        .collect();
    closed.sort_by(|a, b| (b.0, &b.1.position.symbol).cmp(&(a.0, &a.1.position.symbol)));
    let total = closed.len();
    let page: Vec<_> = closed.into_iter().skip(offset).take(limit).collect();
    // Exit prices: the sells of each page row's holding period.
    let mut sold: BTreeMap<(String, i64), (Money, Money)> = BTreeMap::new();
    if !page.is_empty() {
        let wanted: std::collections::BTreeSet<(String, i64)> = page
            .iter()
            .map(|(_, r)| (r.position.symbol.to_string(), r.seq))
            .collect();
        let fills = offset.saturating_add(limit).saturating_mul(FILLS_PER_TRADE);
        let fills = i64::try_from(fills).unwrap_or(i64::MAX);
        for f in state.store().fills(state.bot_id(), fills).await? {
            let key = (f.fill.symbol.to_string(), f.position_seq);
            if f.fill.side == Side::Sell && wanted.contains(&key) {
                let e = sold.entry(key).or_insert((Decimal::ZERO, Decimal::ZERO));
                e.0 += f.fill.quantity;
                e.1 += f.fill.quantity * f.fill.price;
            }
        }
    }
    let items = page
        .into_iter()
        .map(|(exit_ms, r)| {
            let p = &r.position;
            let key = (p.symbol.to_string(), r.seq);
            let exit_price = sold
                .get(&key)
                .filter(|(q, _)| !q.is_zero())
                .and_then(|(q, n)| n.checked_div(*q))
                .map(|v| v.normalize());
            TradeView {
                pair: key.0,
                entry_time_ms: p.opened_at_ms,
                entry_price: if p.bought_qty.is_zero() {
                    Decimal::ZERO
                } else {
                    (p.bought_quote / p.bought_qty).normalize()
                },
                exit_time_ms: exit_ms,
                exit_price,
                qty: p.bought_qty,
                pnl: p.realised_pnl,
                fees: p.fees_quote,
            }
        })
        .collect();
    Ok(Json(Page {
        items,
        total: Some(total),
        limit,
        offset,
    }))
}

/// The session since the running bot started, and one row per UTC day.
#[utoipa::path(get, path = "/api/performance", tag = "history",
    responses((status = 200, body = PerformanceView), (status = 503, body = ErrorBody)))]
pub async fn performance(State(state): State<AppState>) -> Result<Json<PerformanceView>, ApiError> {
    let bot = state.bot().await?;
    let daily = state
        .store()
        .performance_daily(state.bot_id())
        .await?
        .iter()
        .map(json_of)
        .collect();
    let session = bot.status.as_ref().map(|s| {
        serde_json::json!({
            "started_at_ms": s.started_at_ms,
            "equity": s.equity,
            "trades_closed": s.trades_closed,
            "realised_pnl": s.stats.realised_pnl,
            "orders_sent": s.stats.orders_sent,
            "fills": s.stats.fills,
            "rejects": s.stats.rejects,
        })
    });
    Ok(Json(PerformanceView { session, daily }))
}

/// The stored equity curve (a point each time candles closed), oldest first, with the
/// drawdown below the running peak.
#[utoipa::path(get, path = "/api/equity", tag = "history", params(EquityQuery),
    responses((status = 200, body = EquityView), (status = 503, body = ErrorBody)))]
pub async fn equity(
    State(state): State<AppState>,
    Query(q): Query<EquityQuery>,
) -> Result<Json<EquityView>, ApiError> {
    let limit = q.limit.unwrap_or(2000).clamp(1, 100_000);
    let rows = state
        .store()
        .equity_curve(state.bot_id(), q.since_ms, limit)
        .await?;
    let mut peak = Decimal::ZERO;
    let points = rows
        .into_iter()
        .map(|p| {
            peak = peak.max(p.equity);
            let dd = if peak > Decimal::ZERO {
                (peak - p.equity) / peak * Decimal::ONE_HUNDRED
            } else {
                Decimal::ZERO
            };
            EquityPointView {
                ts_ms: p.ts_ms,
                equity: p.equity,
                cash: p.cash,
                drawdown_pct: aurum_strategy::indicators::decimal_to_f64(dd),
            }
        })
        .collect();
    Ok(Json(EquityView { points }))
}

/// Stored backtest runs, newest first.
#[utoipa::path(get, path = "/api/runs", tag = "history", params(LimitQuery),
    responses((status = 200, body = RunsView), (status = 503, body = ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<RunsView>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let items = state
        .store()
        .backtest_runs(limit)
        .await?
        .iter()
        .map(json_of)
        .collect();
    Ok(Json(RunsView { items }))
}

/// The pool and the writer: the figures of `aurum db status --json`.
#[utoipa::path(get, path = "/api/store", tag = "ops",
    responses((status = 200, body = StoreView)))]
pub async fn store_status(State(state): State<AppState>) -> Json<StoreView> {
    let store = state.store();
    let pool = store.pool_status();
    Json(StoreView {
        backend: store.backend().to_string(),
        target: store.target(),
        sqlalchemy: pool.sqlalchemy_line(),
        pool: json_of(&pool),
        writer: json_of(&store.writer_status()),
    })
}

/// Engages the kill switch: the running bot cancels its working orders within one poll
/// interval, sells its positions when asked, and sends nothing else until it is reset; a
/// restart keeps it engaged.
#[utoipa::path(post, path = "/api/kill-switch/engage", tag = "control",
    request_body(content = EngageRequest, description = "Optional: reason, close_positions"),
    security(("bearer" = [])),
    responses((status = 200, body = KillSwitchView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn kill_switch_engage(
    State(state): State<AppState>,
    _auth: Authorized,
    JsonBody(req): JsonBody<EngageRequest>,
) -> Result<Json<KillSwitchView>, ApiError> {
    let reason = req
        .reason
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "engaged through the API".into());
    if reason.chars().count() > 500 {
        return Err(ApiError::BadRequest(
            "reason: at most 500 characters".into(),
        ));
    }
    let record = KillSwitchRecord::engaged(&reason, "api", req.close_positions, now_ms());
    set_kill_switch(&state, &record).await?;
    tracing::warn!(%reason, close_positions = req.close_positions, "kill switch engaged through the API");
    Ok(Json((&record).into()))
}

/// Resets the kill switch: the bot trades again.
#[utoipa::path(post, path = "/api/kill-switch/reset", tag = "control",
    security(("bearer" = [])),
    responses((status = 200, body = KillSwitchView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn kill_switch_reset(
    State(state): State<AppState>,
    _auth: Authorized,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<KillSwitchView>, ApiError> {
    let record = KillSwitchRecord::released("api", now_ms());
    set_kill_switch(&state, &record).await?;
    tracing::warn!("kill switch reset through the API");
    Ok(Json((&record).into()))
}

async fn set_kill_switch(state: &AppState, record: &KillSwitchRecord) -> Result<(), ApiError> {
    known_bot(state).await?;
    control::set_kill_switch(state.store(), state.bot_id(), record).await?;
    state.state_changed();
    Ok(())
}

/// The bot must be in the store before its switches can be written.
async fn known_bot(state: &AppState) -> Result<(), ApiError> {
    if state
        .store()
        .bots()
        .await?
        .iter()
        .any(|b| b.bot_id == state.bot_id())
    {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "bot {:?} is not in the store: start it once first",
            state.bot_id()
        )))
    }
}

/// Stops new entries (exits and protection go on); a restart keeps them stopped.
#[utoipa::path(post, path = "/api/entries/stop", tag = "control",
    security(("bearer" = [])),
    responses((status = 200, body = EntriesView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn entries_stop(
    State(state): State<AppState>,
    _auth: Authorized,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<EntriesView>, ApiError> {
    set_entries(&state, true).await
}

/// Starts new entries again.
#[utoipa::path(post, path = "/api/entries/start", tag = "control",
    security(("bearer" = [])),
    responses((status = 200, body = EntriesView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn entries_start(
    State(state): State<AppState>,
    _auth: Authorized,
    JsonBody(_): JsonBody<Empty>,
) -> Result<Json<EntriesView>, ApiError> {
    set_entries(&state, false).await
}

async fn set_entries(state: &AppState, paused: bool) -> Result<Json<EntriesView>, ApiError> {
    known_bot(state).await?;
    let record = EntriesRecord {
        paused,
        source: "api".into(),
        changed_at_ms: now_ms(),
    };
    control::set_entries(state.store(), state.bot_id(), &record).await?;
    state.state_changed();
    tracing::warn!(paused, "new entries changed through the API");
    Ok(Json(EntriesView {
        entries_paused: record.paused,
        source: record.source,
        changed_at_ms: record.changed_at_ms,
    }))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json() -> impl IntoResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(|| {
        crate::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    });
    ([("content-type", "application/json")], doc.as_str())
}
