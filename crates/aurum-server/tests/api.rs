//! The operator API driven in-process through its router (`tower::ServiceExt::oneshot`) over a
//! fresh store: SQLite always, PostgreSQL too when `AURUM_TEST_PG_URL` is set (a schema per
//! test; an unreachable server fails the test).
//!
//! Every answer is recorded by the client, and every test ends by checking that none of them
//! carries the bearer token.

mod common;

use aurum_core::{Decimal, Side};
use aurum_runtime::KillSwitchRecord;
use aurum_runtime::control::{self, ENTRIES_KEY, EntriesRecord, KILL_SWITCH_KEY};
use aurum_server::ApiConfig;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::*;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The answer's JSON `error` text.
fn error_text(a: &Answer) -> String {
    a.json()["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error text: {}", a.text()))
        .to_string()
}

/// A JSON error answer with this status.
fn assert_error(a: &Answer, status: StatusCode, contains: &str, ctx: &str) {
    assert_eq!(a.status, status, "{ctx}: {}", a.text());
    assert!(
        a.header("content-type").starts_with("application/json"),
        "{ctx}: content-type {:?}",
        a.header("content-type")
    );
    let e = error_text(a);
    assert!(e.contains(contains), "{ctx}: {e:?} lacks {contains:?}");
}

// ---------------------------------------------------------------------------------------------
// 1. Auth

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_need_the_configured_bearer_token() {
    for b in backends("auth").await {
        let n = b.name;
        seed_bot(&b.store).await;

        // No token configured: every mutation is disabled (403), even with a bearer header.
        let off = Api::new(&b, false, ApiConfig::default());
        for path in [
            "/api/kill-switch/engage",
            "/api/kill-switch/reset",
            "/api/entries/stop",
            "/api/entries/start",
        ] {
            for auth in [Auth::None, Auth::Right] {
                let a = off.call(Method::POST, path, auth, "{}").await;
                assert_error(
                    &a,
                    StatusCode::FORBIDDEN,
                    "no API token configured",
                    &format!("{n} {path} {auth:?}"),
                );
                assert!(a.header("www-authenticate").is_empty(), "{n}");
            }
        }
        off.assert_token_never_answered();

        let api = Api::new(&b, true, ApiConfig::default());
        let engage = "/api/kill-switch/engage";
        let body = r#"{"reason":"operator: venue outage","close_positions":true}"#;
        let wrong_same_len = "x".repeat(TOKEN.len());
        let wrong_bearer = format!("Bearer {wrong_same_len}");
        let prefix_only = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
        let basic_right = format!("Basic {TOKEN}");
        for auth in [
            Auth::None,
            Auth::Raw(&wrong_bearer),
            Auth::Raw(&prefix_only),
            Auth::Raw("Bearer"),
            Auth::Raw("Bearer "),
            Auth::Raw("Basic xxx"),
            Auth::Raw(&basic_right),
        ] {
            let a = api.call(Method::POST, engage, auth, body).await;
            let ctx = format!("{n} {auth:?}");
            assert_error(
                &a,
                StatusCode::UNAUTHORIZED,
                "a valid bearer token is required",
                &ctx,
            );
            assert_eq!(a.header("www-authenticate"), "Bearer", "{ctx}");
        }
        // The refusals changed nothing.
        let s = api.get_json("/api/status").await;
        assert_eq!(s["kill_switch"]["engaged"], json!(false), "{n}: {s}");
        assert_eq!(s["kill_switch"]["source"], json!(""), "{n}: {s}");
        assert_eq!(s["entries_paused"], json!(false), "{n}");

        // The right token engages it; the store and /api/status show it.
        let before = now_ms();
        let a = api.post(engage, body).await;
        let after = now_ms();
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        let v = a.json();
        assert_eq!(v["engaged"], json!(true), "{n}");
        assert_eq!(v["reason"], json!("operator: venue outage"), "{n}");
        assert_eq!(v["source"], json!("api"), "{n}");
        assert_eq!(v["close_positions"], json!(true), "{n}");
        let changed = v["changed_at_ms"].as_i64().unwrap();
        assert!((before..=after).contains(&changed), "{n}: {changed}");
        let stored: KillSwitchRecord = control::read_state(&b.store, BOT, KILL_SWITCH_KEY)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored,
            KillSwitchRecord::engaged("operator: venue outage", "api", true, changed),
            "{n}"
        );
        let s = api.get_json("/api/status").await;
        assert_eq!(
            s["kill_switch"],
            json!({"engaged": true, "reason": "operator: venue outage", "source": "api",
                   "close_positions": true, "changed_at_ms": changed}),
            "{n}"
        );
        // The scheme name is case-insensitive, as RFC 7235 has it.
        let lower = format!("bearer {TOKEN}");
        let a = api
            .call(
                Method::POST,
                "/api/kill-switch/reset",
                Auth::Raw(&lower),
                Body::empty(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        let s = api.get_json("/api/status").await;
        assert_eq!(s["kill_switch"]["engaged"], json!(false), "{n}");
        assert_eq!(s["kill_switch"]["reason"], Value::Null, "{n}");
        assert_eq!(s["kill_switch"]["source"], json!("api"), "{n}");
        assert_eq!(s["kill_switch"]["close_positions"], json!(false), "{n}");

        // Entries: stop then start, each shown by /api/status and stored.
        let a = api.post("/api/entries/stop", "").await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        assert_eq!(a.json()["entries_paused"], json!(true), "{n}");
        assert_eq!(a.json()["source"], json!("api"), "{n}");
        assert_eq!(
            api.get_json("/api/status").await["entries_paused"],
            json!(true),
            "{n}"
        );
        let stored: EntriesRecord = control::read_state(&b.store, BOT, ENTRIES_KEY)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.paused && stored.source == "api", "{n}: {stored:?}");
        let a = api
            .call(Method::POST, "/api/entries/stop", Auth::None, "")
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{n}");
        let a = api.post("/api/entries/start", "{}").await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        assert_eq!(a.json()["entries_paused"], json!(false), "{n}");
        assert_eq!(
            api.get_json("/api/status").await["entries_paused"],
            json!(false),
            "{n}"
        );
        api.assert_token_never_answered();

        // A bot that is not in the store cannot be switched (404), and nothing is written.
        let mut opts = options(true, ApiConfig::default());
        opts.bot_id = "ghost".into();
        let ghost = Api::with_options(&b, opts);
        for path in ["/api/kill-switch/engage", "/api/entries/stop"] {
            let a = ghost.post(path, "").await;
            assert_error(&a, StatusCode::NOT_FOUND, "is not in the store", n);
        }
        assert!(
            b.store.engine_state("ghost").await.unwrap().is_empty(),
            "{n}"
        );
        ghost.assert_token_never_answered();
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Bad bodies, unknown paths

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_and_unknown_paths_get_json_errors() {
    for b in backends("bodies").await {
        let n = b.name;
        seed_bot(&b.store).await;
        let api = Api::new(
            &b,
            true,
            ApiConfig {
                max_body_bytes: 1024,
                ..ApiConfig::default()
            },
        );
        let engage = "/api/kill-switch/engage";
        let a = api.post(engage, "{bad").await;
        assert_error(&a, StatusCode::BAD_REQUEST, "malformed JSON body", n);
        let a = api.post(engage, r#"{"nope":1}"#).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "unknown field `nope`", n);
        let a = api.post("/api/kill-switch/reset", r#"{"nope":1}"#).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "malformed JSON body", n);
        let a = api.post("/api/entries/stop", "[1,2]").await;
        assert_error(&a, StatusCode::BAD_REQUEST, "malformed JSON body", n);
        let a = api.post(engage, r#"{"reason":5}"#).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "malformed JSON body", n);
        let long = format!(r#"{{"reason":"{}"}}"#, "r".repeat(501));
        assert!(long.len() < 1024);
        let a = api.post(engage, &long).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "at most 500 characters", n);
        // Over the limit: 413, whatever the body.
        let big = format!(r#"{{"reason":"{}"}}"#, "r".repeat(2000));
        let a = api.post(engage, &big).await;
        assert_error(
            &a,
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large: at most 1024 bytes",
            n,
        );
        let a = api.post("/api/entries/stop", &" ".repeat(1025)).await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{n}: {}", a.text());
        // None of the refused requests engaged anything.
        let s = api.get_json("/api/status").await;
        assert_eq!(s["kill_switch"]["engaged"], json!(false), "{n}");
        assert_eq!(s["entries_paused"], json!(false), "{n}");

        // Empty or blank bodies are the defaults.
        let a = api.post("/api/kill-switch/reset", "").await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        assert_eq!(a.json()["engaged"], json!(false), "{n}");
        let a = api.post(engage, " \n").await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        assert_eq!(a.json()["reason"], json!("engaged through the API"), "{n}");
        assert_eq!(a.json()["close_positions"], json!(false), "{n}");

        // Unknown paths: a JSON 404 naming the path, whatever the method.
        for (m, path) in [
            (Method::GET, "/api/nope"),
            (Method::POST, "/nope/deeper"),
            (Method::DELETE, "/api"),
        ] {
            let a = api.call(m.clone(), path, Auth::Right, Body::empty()).await;
            assert_error(
                &a,
                StatusCode::NOT_FOUND,
                &format!("no such endpoint: {path}"),
                &format!("{n} {m} {path}"),
            );
        }
        // A known path with a method it does not serve.
        let a = api
            .call(Method::GET, engage, Auth::Right, Body::empty())
            .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{n}");
        let a = api
            .call(Method::DELETE, "/api/status", Auth::Right, Body::empty())
            .await;
        assert_error(&a, StatusCode::METHOD_NOT_ALLOWED, "method not allowed", n);
        // Unusable query parameters are a JSON 400; absurd offsets are the end of the list.
        let a = api
            .call(
                Method::GET,
                "/api/equity?limit=abc",
                Auth::None,
                Body::empty(),
            )
            .await;
        assert_error(&a, StatusCode::BAD_REQUEST, "limit", n);
        let a = api
            .call(
                Method::GET,
                "/api/orders?offset=18446744073709551615",
                Auth::None,
                Body::empty(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        assert_eq!(a.json()["items"], json!([]), "{n}");
        // The reason's limit counts characters, not bytes.
        let accented = format!(r#"{{"reason":"{}"}}"#, "é".repeat(300));
        let a = api.post(engage, &accented).await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
        api.assert_token_never_answered();
    }
}

// ---------------------------------------------------------------------------------------------
// 3. OpenAPI

const DOCUMENTED: [&str; 20] = [
    "/",
    "/api/balance",
    "/api/entries/start",
    "/api/entries/stop",
    "/api/equity",
    "/api/kill-switch/engage",
    "/api/kill-switch/reset",
    "/api/openapi.json",
    "/api/orders",
    "/api/performance",
    "/api/positions",
    "/api/runs",
    "/api/status",
    "/api/store",
    "/api/trades",
    "/assets/app.js",
    "/assets/style.css",
    "/healthz",
    "/metrics",
    "/readyz",
];

/// Every (path, method) of the document.
fn operations(doc: &Value) -> Vec<(String, Method)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (key, _) in item.as_object().unwrap() {
            if [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&key.as_str())
            {
                let m = Method::from_bytes(key.to_uppercase().as_bytes()).unwrap();
                out.push((path.clone(), m));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    for b in backends("openapi").await {
        let n = b.name;
        seed_bot(&b.store).await;
        let api = Api::new(&b, true, ApiConfig::default());
        let a = api.get("/api/openapi.json").await;
        assert_eq!(a.status, StatusCode::OK, "{n}");
        assert!(a.header("content-type").starts_with("application/json"));
        let doc = a.json();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3."),
            "{}",
            doc["openapi"]
        );
        let paths: BTreeSet<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(paths, DOCUMENTED.into_iter().collect(), "{n}");
        // The document served equals the one the crate builds.
        assert_eq!(
            doc,
            serde_json::to_value(aurum_server::openapi()).unwrap(),
            "{n}"
        );
        assert!(
            doc["components"]["securitySchemes"]["bearer"].is_object(),
            "{n}"
        );

        let ops = operations(&doc);
        assert_eq!(ops.len(), 20, "{n}: {ops:?}");
        let mut mutating = BTreeSet::new();
        for (path, m) in &ops {
            // Without a token: GETs answer, mutations refuse (401), none is unknown.
            let a = api.call(m.clone(), path, Auth::None, Body::empty()).await;
            let ctx = format!("{n} {m} {path}: {} {}", a.status, a.text());
            assert!(
                a.status != StatusCode::NOT_FOUND && a.status != StatusCode::METHOD_NOT_ALLOWED,
                "{ctx}"
            );
            if *m == Method::GET {
                let ok = a.status == StatusCode::OK
                    || (path == "/readyz" && a.status == StatusCode::SERVICE_UNAVAILABLE);
                assert!(ok, "{ctx}");
            } else {
                assert_eq!(*m, Method::POST, "{ctx}");
                assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{ctx}");
                mutating.insert(path.as_str());
                // Each mutation says it needs the bearer scheme.
                let op = &doc["paths"][path.as_str()]["post"];
                assert_eq!(op["security"], json!([{"bearer": []}]), "{ctx}");
                // And with the token it is served.
                let a = api.post(path, "").await;
                assert_eq!(a.status, StatusCode::OK, "{n} {path}: {}", a.text());
            }
        }
        assert_eq!(
            mutating,
            BTreeSet::from([
                "/api/entries/start",
                "/api/entries/stop",
                "/api/kill-switch/engage",
                "/api/kill-switch/reset",
            ]),
            "{n}"
        );
        // The dashboard's files are what they claim to be.
        let page = api.get("/").await;
        assert!(page.header("content-type").starts_with("text/html"), "{n}");
        assert!(
            page.header("content-security-policy")
                .contains("default-src 'self'"),
            "{n}"
        );
        let js = api.get("/assets/app.js").await;
        assert!(js.header("content-type").starts_with("text/javascript"));
        let css = api.get("/assets/style.css").await;
        assert!(css.header("content-type").starts_with("text/css"));
        api.assert_token_never_answered();
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Data endpoints

/// The bot with money, an equity curve, a closed round trip, and an open partly filled order:
///
/// - deposit 1000.00 USDT
/// - buy 0.02 BTC at 30000.50, fee 0.6001: cost basis 600.6101
/// - sell 0.02 at 31000.25, fee 0.620005: proceeds 619.384995, P&L 18.774895, fees 1.220105
/// - buy 0.0004 of 0.001 at 29000.10, fee 0.01160004: cost basis 11.61164004
/// - USDT: 1000.00 - 600.6101 + 619.384995 - 11.61164004 = 1007.16325496
async fn seed_books(store: &aurum_store::Store) {
    seed_bot(store).await;
    deposit(store, dec!(1000.00), 100).await;
    write_start_cash(store, dec!(1000.00)).await;
    equity_point(store, 1_000, dec!(100.00), dec!(100.00)).await;
    equity_point(store, 2_000, dec!(120.50), dec!(20.50)).await;
    equity_point(store, 3_000, dec!(90.375), dec!(90.375)).await;

    place_limit(
        store,
        "buy1",
        Side::Buy,
        dec!(0.02),
        dec!(30000.50),
        1_400,
        "9001",
    )
    .await;
    let aurum_store::WriteOutcome::Fill(f) = fill(
        store,
        "buy1",
        "t1",
        Side::Buy,
        dec!(0.02),
        dec!(30000.50),
        dec!(0.6001),
        1_500,
    )
    .await
    else {
        panic!("not a fill")
    };
    assert_eq!(f.position.cost_basis, dec!(600.6101));
    place_limit(
        store,
        "sell1",
        Side::Sell,
        dec!(0.02),
        dec!(31000.25),
        2_400,
        "9002",
    )
    .await;
    let aurum_store::WriteOutcome::Fill(f) = fill(
        store,
        "sell1",
        "t2",
        Side::Sell,
        dec!(0.02),
        dec!(31000.25),
        dec!(0.620005),
        2_500,
    )
    .await
    else {
        panic!("not a fill")
    };
    assert_eq!(f.realised_pnl, dec!(18.774895));
    assert!(f.position.is_closed());
    place_limit(
        store,
        "open1",
        Side::Buy,
        dec!(0.001),
        dec!(29000.10),
        3_500,
        "9003",
    )
    .await;
    fill(
        store,
        "open1",
        "t3",
        Side::Buy,
        dec!(0.0004),
        dec!(29000.10),
        dec!(0.01160004),
        3_600,
    )
    .await;
}

/// The decimal of a JSON string, exactly as written.
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_endpoints_show_the_stored_books_exactly() {
    for b in backends("data").await {
        let n = b.name;
        seed_books(&b.store).await;
        // The bot's heartbeat: equity at 31000.25 = 1007.16325496 + 0.0004 × 31000.25.
        write_status(
            &b.store,
            &heartbeat(
                "trading",
                now_ms(),
                500,
                dec!(1019.56335496),
                dec!(1007.16325496),
            ),
        )
        .await;
        let api = Api::new(&b, true, ApiConfig::default());

        // Equity curve: exact strings, drawdown below the running peak.
        let e = api.get_json("/api/equity").await;
        assert_eq!(
            e,
            json!({"points": [
                {"ts_ms": 1000, "equity": "100.00", "cash": "100.00", "drawdown_pct": 0.0},
                {"ts_ms": 2000, "equity": "120.50", "cash": "20.50", "drawdown_pct": 0.0},
                {"ts_ms": 3000, "equity": "90.375", "cash": "90.375", "drawdown_pct": 25.0},
            ]}),
            "{n}"
        );
        let e = api.get_json("/api/equity?limit=2").await;
        assert_eq!(
            e,
            json!({"points": [
                {"ts_ms": 2000, "equity": "120.50", "cash": "20.50", "drawdown_pct": 0.0},
                {"ts_ms": 3000, "equity": "90.375", "cash": "90.375", "drawdown_pct": 25.0},
            ]}),
            "{n}"
        );
        // The peak is that of the points returned.
        let e = api.get_json("/api/equity?since_ms=2500").await;
        assert_eq!(
            e["points"],
            json!([{"ts_ms": 3000, "equity": "90.375", "cash": "90.375", "drawdown_pct": 0.0}]),
            "{n}"
        );

        // Balance: the ledger, the starting capital and the P&L of the heartbeat's equity.
        let bal = api.get_json("/api/balance").await;
        let store_bal = b.store.balances(BOT).await.unwrap();
        assert_eq!(bal["quote"], json!("USDT"), "{n}");
        assert_eq!(
            text(&bal["balances"]["USDT"]),
            "1007.16325496",
            "{n}: {bal}"
        );
        let btc: Decimal = text(&bal["balances"]["BTC"]).parse().unwrap();
        assert_eq!(btc, dec!(0.0004), "{n}: {bal}");
        let from_store: BTreeMap<String, String> = store_bal
            .iter()
            .map(|(a, m)| (a.to_string(), m.to_string()))
            .collect();
        assert_eq!(
            bal["balances"],
            serde_json::to_value(&from_store).unwrap(),
            "{n}"
        );
        assert_eq!(text(&bal["start_cash"]), "1000.00", "{n}");
        assert_eq!(text(&bal["equity"]), "1019.56335496", "{n}");
        assert_eq!(text(&bal["cash"]), "1007.16325496", "{n}");
        assert_eq!(text(&bal["pnl"]), "19.56335496", "{n}");

        // Orders, newest first.
        let o = api.get_json("/api/orders").await;
        assert_eq!(
            (o["total"].clone(), o["limit"].clone()),
            (Value::Null, json!(50))
        );
        let ids: Vec<&str> = o["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| text(&i["client_order_id"]))
            .collect();
        assert_eq!(ids, ["open1", "sell1", "buy1"], "{n}");
        let buy = &o["items"][2];
        let buy_rec = b.store.order(&coid("buy1")).await.unwrap().unwrap();
        assert_eq!(
            *buy,
            json!({
                "client_order_id": "buy1", "exchange_order_id": "9001", "pair": "BTC/USDT",
                "side": "buy", "order_type": "limit", "status": "filled",
                "price": "30000.50", "quantity": "0.02",
                "filled_qty": buy_rec.filled_qty.to_string(),
                "created_at_ms": 1400, "updated_at_ms": buy_rec.updated_at_ms,
            }),
            "{n}"
        );
        assert_eq!(buy_rec.filled_qty, dec!(0.02), "{n}");
        let open = api.get_json("/api/orders?open=true").await;
        assert_eq!(open["items"].as_array().unwrap().len(), 1, "{n}: {open}");
        let o1 = &open["items"][0];
        assert_eq!(o1["client_order_id"], json!("open1"), "{n}");
        assert_eq!(o1["status"], json!("partially_filled"), "{n}");
        assert_eq!(o1["price"], json!("29000.10"), "{n}");
        assert_eq!(o1["quantity"], json!("0.001"), "{n}");
        assert_eq!(
            text(&o1["filled_qty"]).parse::<Decimal>().unwrap(),
            dec!(0.0004)
        );
        let page = api.get_json("/api/orders?limit=1&offset=1").await;
        assert_eq!(page["items"][0]["client_order_id"], json!("sell1"), "{n}");
        assert_eq!(
            (page["limit"].clone(), page["offset"].clone()),
            (json!(1), json!(1))
        );

        // The closed round trip, as the store computed it.
        let t = api.get_json("/api/trades").await;
        let closed: Vec<_> = b
            .store
            .positions(BOT, false)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.position.closed_at_ms.is_some())
            .collect();
        assert_eq!(closed.len(), 1, "{n}");
        let p = &closed[0].position;
        assert_eq!(
            (p.realised_pnl, p.fees_quote, p.bought_qty, p.bought_quote),
            (dec!(18.774895), dec!(1.220105), dec!(0.02), dec!(600.01)),
            "{n}"
        );
        assert_eq!(
            t,
            json!({"items": [{
                "pair": "BTC/USDT", "entry_time_ms": 1500, "entry_price": "30000.5",
                "exit_time_ms": 2500, "exit_price": "31000.25",
                "qty": p.bought_qty.to_string(), "pnl": p.realised_pnl.to_string(),
                "fees": p.fees_quote.to_string(),
            }], "total": 1, "limit": 50, "offset": 0}),
            "{n}"
        );
        assert_eq!(t["items"][0]["pnl"], json!("18.774895"), "{n}");
        assert_eq!(t["items"][0]["fees"], json!("1.220105"), "{n}");

        // The open position, valued at the heartbeat's last price 31000.25.
        let pos = api.get_json("/api/positions").await;
        let items = pos["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{n}: {pos}");
        let open_pos = b.store.positions(BOT, true).await.unwrap();
        let op = &open_pos[0].position;
        assert_eq!(op.cost_basis, dec!(11.61164004), "{n}");
        assert_eq!(items[0]["pair"], json!("BTC/USDT"));
        assert_eq!(
            text(&items[0]["quantity"]).parse::<Decimal>().unwrap(),
            dec!(0.0004)
        );
        assert_eq!(
            items[0]["avg_entry_price"],
            json!(op.avg_entry_price().to_string())
        );
        assert_eq!(items[0]["last_price"], json!("31000.25"), "{n}");
        // 0.0004 × 31000.25 − 11.61164004
        let upnl: Decimal = text(&items[0]["unrealized_pnl"]).parse().unwrap();
        assert_eq!(upnl, dec!(0.78845996), "{n}: {pos}");
        assert_eq!(items[0]["opened_at_ms"], json!(3600), "{n}");

        // Status and the session.
        let s = api.get_json("/api/status").await;
        assert_eq!(
            (s["state"].clone(), s["running"].clone(), s["mode"].clone()),
            (json!("trading"), json!(true), json!("paper")),
            "{n}"
        );
        assert_eq!(s["equity"], json!("1019.56335496"), "{n}");
        let perf = api.get_json("/api/performance").await;
        assert_eq!(perf["session"]["equity"], json!("1019.56335496"), "{n}");
        assert_eq!(perf["daily"], json!([]), "{n}");
        assert_eq!(api.get_json("/api/runs").await, json!({"items": []}), "{n}");

        // The store's figures.
        let st = api.get_json("/api/store").await;
        assert_eq!(st["backend"], json!(n), "{n}");
        let line = text(&st["sqlalchemy"]);
        assert!(
            line.starts_with("Pool size: 10  Connections in pool:"),
            "{n}: {line}"
        );
        assert_eq!(st["pool"]["pool_size"], json!(10), "{n}: {st}");
        assert_eq!(st["writer"]["busy_errors_total"], json!(0), "{n}: {st}");
        api.assert_token_never_answered();
    }
}

// ---------------------------------------------------------------------------------------------
// 5. /metrics

/// `^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$`, and the sample's name.
fn sample_name(line: &str) -> Option<&str> {
    let mut chars = line.char_indices();
    let (_, first) = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_' || first == ':') {
        return None;
    }
    let end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == ':'))
        .map_or(line.len(), |(i, _)| i);
    let (name, rest) = line.split_at(end);
    let space = rest.rfind(' ')?;
    let (labels, value) = (&rest[..space], &rest[space + 1..]);
    let labels_ok = labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}'));
    let value_ok = !value.is_empty() && !value.chars().any(char::is_whitespace);
    (labels_ok && value_ok).then_some(name)
}

/// Checks the text format: every sample line well formed, and every family's HELP and TYPE
/// before its samples (each family once).
fn check_exposition(text: &str) {
    let mut help = BTreeSet::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        assert!(!line.trim().is_empty(), "blank line in:\n{text}");
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(help.insert(name.to_string()), "HELP twice: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(help.contains(name), "TYPE before HELP: {line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                types.insert(name.into(), kind.into()).is_none(),
                "TYPE twice: {line}"
            );
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let name = sample_name(line).unwrap_or_else(|| panic!("malformed sample line {line:?}"));
        let family = if types.contains_key(name) {
            name
        } else {
            ["_bucket", "_sum", "_count"]
                .iter()
                .filter_map(|s| name.strip_suffix(s))
                .find(|base| types.get(*base).is_some_and(|k| k == "histogram"))
                .unwrap_or_else(|| panic!("sample before its HELP/TYPE: {line}"))
        };
        assert!(help.contains(family), "{line}");
    }
}

/// `promtool check metrics` on the text, when promtool is installed.
fn promtool_check(text: &str, ctx: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: promtool is not on PATH: `promtool check metrics` skipped");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{ctx}: promtool check metrics failed ({}):\n{}{}\n--- body ---\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn has_line(body: &str, line: &str) -> bool {
    body.lines().any(|l| l == line)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_valid_prometheus_text() {
    for b in backends("metrics").await {
        let n = b.name;
        seed_bot(&b.store).await;
        let api = Api::new(&b, true, ApiConfig::default());

        let a = api.get("/metrics").await;
        assert_eq!(a.status, StatusCode::OK, "{n}");
        assert!(
            a.header("content-type")
                .starts_with("text/plain; version=0.0.4"),
            "{n}: {}",
            a.header("content-type")
        );
        let body = a.text();
        for line in [
            "aurum_pool_size 10",
            "aurum_writer_busy_errors_total 0",
            "aurum_kill_switch_engaged 0",
            "aurum_entries_paused 0",
            "aurum_bot_running 0",
        ] {
            assert!(has_line(&body, line), "{n}: no {line:?} in\n{body}");
        }
        // No heartbeat: no figures of a running bot.
        assert!(!body.contains("aurum_equity"), "{n}");
        check_exposition(&body);
        promtool_check(&body, n);

        // A running bot, reconciled, then the kill switch and entries switched.
        write_status(
            &b.store,
            &heartbeat("trading", now_ms(), 1500, dec!(1019.5), dec!(7.25)),
        )
        .await;
        write_reconciliation(&b.store).await;
        assert_eq!(
            api.post("/api/kill-switch/engage", r#"{"reason":"metrics"}"#)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            api.post("/api/entries/stop", "").await.status,
            StatusCode::OK
        );
        let body = api.get("/metrics").await.text();
        for line in [
            "aurum_kill_switch_engaged 1",
            "aurum_entries_paused 1",
            "aurum_bot_running 1",
            "aurum_equity 1019.5",
            "aurum_cash 7.25",
            "aurum_working_orders 1",
            "aurum_reconciliation_drift 0",
            "aurum_market_data_age_seconds{pair=\"BTC/USDT\"} 1.5",
            "aurum_order_rejects_total{code=\"all\"} 0",
            "aurum_pool_size 10",
            "aurum_writer_busy_errors_total 0",
        ] {
            assert!(has_line(&body, line), "{n}: no {line:?} in\n{body}");
        }
        check_exposition(&body);
        promtool_check(&body, n);
        api.assert_token_never_answered();
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Health and readiness

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_needs_a_fresh_reconciled_bot_and_a_writable_store() {
    for b in backends("ready").await {
        let n = b.name;
        seed_bot(&b.store).await;
        let api = Api::new(&b, true, ApiConfig::default());
        let h = api.get_json("/healthz").await;
        assert_eq!(h["status"], json!("ok"), "{n}");
        assert!(h["uptime_s"].as_u64().unwrap() < 60, "{n}");

        let ready = |v: &Value| -> (bool, bool, bool, bool) {
            (
                v["ready"].as_bool().unwrap(),
                v["reconciled"]["ok"].as_bool().unwrap(),
                v["market_data"]["ok"].as_bool().unwrap(),
                v["store"]["ok"].as_bool().unwrap(),
            )
        };

        // Never ran.
        let a = api.get("/readyz").await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{n}");
        let v = a.json();
        assert_eq!(ready(&v), (false, false, false, true), "{n}: {v}");
        assert_eq!(v["reconciled"]["detail"], json!("the bot is not running"));
        assert_eq!(v["market_data"]["detail"], json!("no market data yet"));

        // Running, fresh data, but no reconciliation report yet.
        write_status(
            &b.store,
            &heartbeat("trading", now_ms(), 300, dec!(100), dec!(100)),
        )
        .await;
        let a = api.get("/readyz").await;
        let v = a.json();
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{n}: {v}");
        assert_eq!(ready(&v), (false, false, true, true), "{n}: {v}");
        assert_eq!(
            v["reconciled"]["detail"],
            json!("no reconciliation report yet")
        );

        // Reconciled, but the data is stale.
        write_reconciliation(&b.store).await;
        write_status(
            &b.store,
            &heartbeat("trading", now_ms(), 200_000, dec!(100), dec!(100)),
        )
        .await;
        let a = api.get("/readyz").await;
        let v = a.json();
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{n}: {v}");
        assert_eq!(ready(&v), (false, true, false, true), "{n}: {v}");
        assert_eq!(
            v["market_data"]["detail"],
            json!("stale: BTC/USDT 200000 ms old")
        );

        // Fresh heartbeat and data, reconciled: ready.
        write_status(
            &b.store,
            &heartbeat("trading", now_ms(), 250, dec!(100), dec!(100)),
        )
        .await;
        let a = api.get("/readyz").await;
        let v = a.json();
        assert_eq!(a.status, StatusCode::OK, "{n}: {v}");
        assert_eq!(ready(&v), (true, true, true, true), "{n}: {v}");
        assert_eq!(v["reconciled"]["detail"], json!("reconciled"));
        assert_eq!(
            v["market_data"]["detail"],
            json!(format!("every pair fresher than {STALE_AFTER_MS} ms"))
        );
        assert_eq!(v["store"]["detail"], json!("a durable write succeeded"));

        // A heartbeat older than heartbeat_stale_ms: not running any more.
        write_status(
            &b.store,
            &heartbeat("trading", now_ms() - 60_000, 250, dec!(100), dec!(100)),
        )
        .await;
        let a = api.get("/readyz").await;
        let v = a.json();
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{n}: {v}");
        assert_eq!(v["reconciled"]["detail"], json!("the bot is not running"));
        let s = api.get_json("/api/status").await;
        assert_eq!(
            (s["state"].clone(), s["running"].clone()),
            (json!("not_running"), json!(false)),
            "{n}"
        );
        api.assert_token_never_answered();
    }
}

// ---------------------------------------------------------------------------------------------
// 7. The token never comes back

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_any_answer() {
    for b in backends("secret").await {
        let n = b.name;
        seed_books(&b.store).await;
        write_status(
            &b.store,
            &heartbeat("trading", now_ms(), 300, dec!(1000), dec!(900)),
        )
        .await;
        write_reconciliation(&b.store).await;
        let api = Api::new(
            &b,
            true,
            ApiConfig {
                max_body_bytes: 1024,
                ..ApiConfig::default()
            },
        );
        let doc = api.get_json("/api/openapi.json").await;
        let wrong = format!("Bearer {TOKEN}x");
        let basic = format!("Basic {TOKEN}");
        let right_lower = format!("bearer {TOKEN}");
        let auths = [
            Auth::None,
            Auth::Right,
            Auth::Raw(&wrong),
            Auth::Raw(&basic),
            Auth::Raw(&right_lower),
            Auth::Raw("Basic xxx"),
        ];
        let big = "x".repeat(2048);
        let bodies = ["", "{}", "{bad", r#"{"nope":1}"#, big.as_str()];
        for (path, m) in operations(&doc) {
            for auth in auths {
                if m == Method::POST {
                    for body in bodies {
                        api.call(m.clone(), &path, auth, body.to_string()).await;
                    }
                } else {
                    api.call(m.clone(), &path, auth, Body::empty()).await;
                }
            }
        }
        for path in [
            "/nope",
            "/api/equity?limit=2",
            "/api/orders?open=true",
            "/api/equity?limit=abc",
        ] {
            api.call(Method::GET, path, Auth::Right, Body::empty())
                .await;
        }
        api.call(
            Method::GET,
            "/api/kill-switch/engage",
            Auth::Right,
            Body::empty(),
        )
        .await;
        // Without any token configured, too.
        let off = Api::new(&b, false, ApiConfig::default());
        for path in ["/api/kill-switch/engage", "/api/entries/stop"] {
            off.call(Method::POST, path, Auth::Right, "{}").await;
        }
        assert!(api.answers() > 200, "{n}: {}", api.answers());
        api.assert_token_never_answered();
        off.assert_token_never_answered();
    }
}

// ---------------------------------------------------------------------------------------------
// 8. The state cache

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_cache_serves_reads_and_the_apis_own_changes_show_at_once() {
    for b in backends("cache").await {
        let n = b.name;
        seed_bot(&b.store).await;
        let mut opts = options(true, ApiConfig::default());
        opts.api.state_cache_ms = 3_600_000;
        let api = Api::with_options(&b, opts);
        let s = api.get_json("/api/status").await;
        assert_eq!(s["kill_switch"]["engaged"], json!(false), "{n}");
        // A change behind the server's back (the CLI) is not seen while the read is fresh...
        let record = aurum_runtime::KillSwitchRecord::engaged("cli", "cli", false, now_ms());
        aurum_runtime::control::set_kill_switch(&b.store, BOT, &record)
            .await
            .unwrap();
        let s = api.get_json("/api/status").await;
        assert_eq!(
            s["kill_switch"]["engaged"],
            json!(false),
            "{n}: served from the cache"
        );
        // ...while the server's own change clears it: the next read sees the store.
        let a = api.post("/api/entries/stop", "").await;
        assert_eq!(a.status, StatusCode::OK, "{n}");
        let s = api.get_json("/api/status").await;
        assert_eq!(s["entries_paused"], json!(true), "{n}");
        assert_eq!(s["kill_switch"]["reason"], json!("cli"), "{n}");
    }
}
