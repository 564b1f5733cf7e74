//! Shared fixtures of the API tests: stores on both backends, a seeded bot, and a client that
//! drives the router in-process and keeps every answer (to prove the token never leaks).
//!
//! PostgreSQL runs when `AURUM_TEST_PG_URL` is set, and then fails, never skips, when the
//! server cannot be reached. Each test works in a schema of its own.

#![allow(dead_code)]

use aurum_core::{
    Asset, ClientOrderId, Decimal, Fill, LedgerEntry, LedgerKind, OrderIntent, OrderStatus,
    OrderType, Side, Symbol, TimeInForce,
};
use aurum_runtime::control::{self, RECONCILIATION_KEY, START_CASH_KEY, STATUS_KEY};
use aurum_runtime::{LatencySummary, RuntimeStats, RuntimeStatus, status::PairStatus};
use aurum_server::{ApiConfig, AppState, ServerOptions, Token};
use aurum_store::{BotSpec, Store, StoreConfig, WriteOp, WriteOutcome};
use aurum_strategy::risk::RiskConfig;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The bearer token of the tests: long enough, and distinctive so a leak is found by search.
pub const TOKEN: &str = "tok-S3CR3T-9f4e2a7c1d8b6e03";

/// The bot every test seeds.
pub const BOT: &str = "api-bot";

/// Market data older than this is stale in the tests, ms.
pub const STALE_AFTER_MS: i64 = 120_000;

// ---------------------------------------------------------------------------------------------
// Stores

/// The PostgreSQL URL tests use, if any.
pub fn pg_url() -> Option<String> {
    std::env::var("AURUM_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

static SCHEMA_SEQ: AtomicU64 = AtomicU64::new(0);

/// A schema name unique to this process and call.
pub fn unique_schema(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "t_srv_{tag}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        SCHEMA_SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// One backend under test; the SQLite one keeps its directory alive.
pub struct Backend {
    /// The store.
    pub store: Store,
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite_backend() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let store = Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    Backend {
        store,
        name: "sqlite",
        _dir: Some(dir),
    }
}

/// A fresh PostgreSQL store in its own schema, or None when no test server is configured.
/// Panics (the test fails) when the server is configured but cannot be reached.
pub async fn pg_backend(tag: &str) -> Option<Backend> {
    let base = pg_url()?;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}schema={}", unique_schema(tag));
    let store = Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("AURUM_TEST_PG_URL is set but the store cannot be opened: {e}"));
    Some(Backend {
        store,
        name: "postgres",
        _dir: None,
    })
}

/// SQLite, and PostgreSQL when configured.
pub async fn backends(tag: &str) -> Vec<Backend> {
    let mut v = vec![sqlite_backend().await];
    if let Some(pg) = pg_backend(tag).await {
        v.push(pg);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Seeding through the store API

/// Writes and expects success.
pub async fn ok(store: &Store, op: WriteOp) -> WriteOutcome {
    let kind = op.kind();
    store
        .write(op)
        .await
        .unwrap_or_else(|e| panic!("{} {kind}: {e}", store.backend()))
}

pub fn btc() -> Symbol {
    Symbol::new("BTC", "USDT").unwrap()
}

pub fn coid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

/// Registers [`BOT`].
pub async fn seed_bot(store: &Store) {
    ok(
        store,
        WriteOp::UpsertBot(BotSpec {
            bot_id: BOT.into(),
            mode: "paper".into(),
            strategy: Some("none".into()),
            quote_asset: Asset::usdt(),
            config: None,
            created_at_ms: 1,
        }),
    )
    .await;
}

/// A USDT deposit.
pub async fn deposit(store: &Store, amount: Decimal, ts_ms: i64) {
    ok(
        store,
        WriteOp::Cash {
            bot_id: BOT.into(),
            entry: LedgerEntry {
                asset: Asset::usdt(),
                amount,
                kind: LedgerKind::Deposit,
                ts_ms,
            },
            note: Some("funding".into()),
        },
    )
    .await;
}

/// An equity point.
pub async fn equity_point(store: &Store, ts_ms: i64, equity: Decimal, cash: Decimal) {
    ok(
        store,
        WriteOp::EquityPoint {
            bot_id: BOT.into(),
            ts_ms,
            equity,
            cash,
        },
    )
    .await;
}

/// Stores a limit order intent and its acknowledgement.
pub async fn place_limit(
    store: &Store,
    id: &str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    created_at_ms: i64,
    exchange_id: &str,
) {
    ok(
        store,
        WriteOp::OrderIntent {
            bot_id: BOT.into(),
            intent: OrderIntent {
                client_order_id: coid(id),
                symbol: btc(),
                side,
                order_type: OrderType::Limit,
                time_in_force: Some(TimeInForce::Gtc),
                quantity: Some(qty),
                quote_quantity: None,
                price: Some(price),
                stop_price: None,
                trailing_delta_bps: None,
                created_at_ms,
            },
            meta: None,
        },
    )
    .await;
    ok(
        store,
        WriteOp::OrderEvent {
            bot_id: BOT.into(),
            client_order_id: coid(id),
            status: OrderStatus::Submitted,
            exchange_order_id: Some(exchange_id.into()),
            detail: None,
            ts_ms: created_at_ms + 1,
        },
    )
    .await;
}

/// Stores a fill (fee in USDT) and returns the store's outcome.
#[allow(clippy::too_many_arguments)]
pub async fn fill(
    store: &Store,
    order: &str,
    trade: &str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    fee: Decimal,
    ts_ms: i64,
) -> WriteOutcome {
    ok(
        store,
        WriteOp::Fill {
            bot_id: BOT.into(),
            fill: Fill {
                client_order_id: coid(order),
                trade_id: trade.into(),
                symbol: btc(),
                side,
                price,
                quantity: qty,
                fee,
                fee_asset: Asset::usdt(),
                ts_ms,
            },
        },
    )
    .await
}

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    aurum_server::state::now_ms()
}

/// A heartbeat of a bot trading BTC/USDT whose data is `data_age_ms` old.
pub fn heartbeat(
    state: &str,
    heartbeat_ms: i64,
    data_age_ms: u64,
    equity: Decimal,
    cash: Decimal,
) -> RuntimeStatus {
    let mut pairs = BTreeMap::new();
    pairs.insert(
        "BTC/USDT".to_string(),
        PairStatus {
            last_closed_ms: Some(heartbeat_ms - 60_000),
            last_price: Some(Decimal::new(3_100_025, 2)),
            data_age_ms: Some(data_age_ms),
            position: None,
        },
    );
    RuntimeStatus {
        state: state.into(),
        mode: "paper".into(),
        halted: false,
        entries_paused: false,
        pid: std::process::id(),
        started_at_ms: heartbeat_ms - 5_000,
        heartbeat_ms,
        equity,
        cash,
        working_orders: 1,
        trades_closed: 1,
        pairs,
        stats: RuntimeStats::default(),
        latency: LatencySummary::default(),
        strategy: serde_json::json!({}),
    }
}

/// Stores a status heartbeat of [`BOT`].
pub async fn write_status(store: &Store, status: &RuntimeStatus) {
    control::write_state(store, BOT, STATUS_KEY, status, status.heartbeat_ms)
        .await
        .unwrap();
}

/// Stores a clean reconciliation report of [`BOT`].
pub async fn write_reconciliation(store: &Store) {
    control::write_state(
        store,
        BOT,
        RECONCILIATION_KEY,
        &serde_json::json!({"ok": true, "drift": []}),
        now_ms(),
    )
    .await
    .unwrap();
}

/// Stores the starting capital of [`BOT`].
pub async fn write_start_cash(store: &Store, amount: Decimal) {
    control::write_state(store, BOT, START_CASH_KEY, &amount, now_ms())
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The client

/// An answer: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics with the text when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <the test token>`.
    Right,
    /// `Authorization: <exactly this>`.
    Raw(&'a str),
}

/// The router of one server over one store, recording every answer.
#[derive(Clone)]
pub struct Api {
    pub app: Router,
    pub backend: &'static str,
    /// Every answer so far, as text (status, headers, body).
    pub seen: Arc<Mutex<Vec<String>>>,
}

/// The server options of the tests.
/// Server options for the tests: every request reads the store (no state cache), since the
/// tests change the bot's state behind the server's back and look at once.
pub fn options(token: bool, api: ApiConfig) -> ServerOptions {
    let api = ApiConfig {
        state_cache_ms: 0,
        ..api
    };
    ServerOptions {
        bot_id: BOT.into(),
        token: token.then(|| Token::new(TOKEN, "test").unwrap()),
        risk: RiskConfig::default(),
        stale_after_ms: STALE_AFTER_MS,
        live: None,
        api,
    }
}

impl Api {
    /// A server over `store` with the token configured or not, and `[api]` as given.
    pub fn new(b: &Backend, token: bool, api: ApiConfig) -> Api {
        Api::with_options(b, options(token, api))
    }

    /// A server over `store` with these options.
    pub fn with_options(b: &Backend, opts: ServerOptions) -> Api {
        Api {
            app: aurum_server::router(AppState::new(b.store.clone(), opts)),
            backend: b.name,
            seen: Arc::default(),
        }
    }

    /// One request.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: impl Into<Body>,
    ) -> Answer {
        let mut req = Request::builder().method(method.clone()).uri(path);
        match auth {
            Auth::None => {}
            Auth::Right => req = req.header("authorization", format!("Bearer {TOKEN}")),
            Auth::Raw(v) => req = req.header("authorization", v),
        }
        let req = req.body(body.into()).unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let mut record = format!("{method} {path} -> {status}\n");
        for (k, v) in &headers {
            record.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
        }
        record.push_str(&String::from_utf8_lossy(&body));
        self.seen.lock().unwrap().push(record);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// GET without a token.
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, Auth::None, Body::empty())
            .await
    }

    /// GET expecting 200 and a JSON body.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let a = self.get(path).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{}: GET {path}: {}",
            self.backend,
            a.text()
        );
        a.json()
    }

    /// POST with the right token and a body.
    pub async fn post(&self, path: &str, body: &str) -> Answer {
        self.call(Method::POST, path, Auth::Right, body.to_string())
            .await
    }

    /// Answers recorded so far.
    pub fn answers(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Fails when any answer so far carried the token (or its bearer header line).
    pub fn assert_token_never_answered(&self) {
        let seen = self.seen.lock().unwrap();
        for a in seen.iter() {
            assert!(
                !a.contains(TOKEN) && !a.contains("S3CR3T"),
                "{}: an answer carries the token:\n{a}",
                self.backend
            );
        }
    }
}
