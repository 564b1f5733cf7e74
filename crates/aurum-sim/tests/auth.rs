//! Signature and recvWindow checks of the simulator, with hand-made requests: parameters in
//! the query, in a form body, or split between both; Binance's codes for each failure.

mod common;

use aurum_exchange::sign::{Params, append_signature, hmac_sha256_hex};
use aurum_sim::{EXAMPLE_API_KEY, EXAMPLE_API_SECRET, SimHandle};
use common::*;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Sends a request; returns the HTTP status and the JSON body.
async fn send(
    h: &SimHandle,
    method: reqwest::Method,
    path: &str,
    query: &str,
    body: Option<&str>,
    key: Option<&str>,
) -> (u16, Value) {
    let url = if query.is_empty() {
        format!("{}{path}", h.base_url())
    } else {
        format!("{}{path}?{query}", h.base_url())
    };
    let mut r = http().request(method, url);
    if let Some(k) = key {
        r = r.header("X-MBX-APIKEY", k);
    }
    if let Some(b) = body {
        r = r
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(b.to_string());
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or(0)
}

fn order_params(id: &str) -> Params {
    Params::new()
        .with("symbol", "BTCUSDT")
        .with("side", "BUY")
        .with("type", "LIMIT")
        .with("timeInForce", "GTC")
        .with("quantity", "0.001")
        .with("price", "29000")
        .with("newClientOrderId", id)
}

fn stamped(mut p: Params, ts: i64) -> Params {
    p.push("timestamp", ts);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_parameters_in_query_body_or_both() {
    let (h, _dir) = start().await;
    let key = Some(EXAMPLE_API_KEY);
    let post = reqwest::Method::POST;

    // Everything in the query (binance-connector's way).
    let q = stamped(order_params("au-q"), now_ms()).encode();
    let q = append_signature(EXAMPLE_API_SECRET, "", &q);
    let (s, v) = send(&h, post.clone(), "/api/v3/order", &q, None, key).await;
    assert_eq!((s, v["clientOrderId"].as_str()), (200, Some("au-q")), "{v}");
    assert_eq!(v["status"], "NEW");

    // Everything in a form body, empty query (ccxt's way).
    let b = stamped(order_params("au-b"), now_ms()).encode();
    let b = append_signature(EXAMPLE_API_SECRET, "", &b);
    let (s, v) = send(&h, post.clone(), "/api/v3/order", "", Some(&b), key).await;
    assert_eq!((s, v["clientOrderId"].as_str()), (200, Some("au-b")), "{v}");

    // Split: query + body signed as their concatenation (the documentation's third example).
    let q = Params::new()
        .with("symbol", "BTCUSDT")
        .with("side", "BUY")
        .with("type", "LIMIT")
        .with("timeInForce", "GTC")
        .encode();
    let b = Params::new()
        .with("quantity", "0.001")
        .with("price", "29000")
        .with("newClientOrderId", "au-qb")
        .with("timestamp", now_ms())
        .encode();
    let signed_body = append_signature(EXAMPLE_API_SECRET, &q, &b);
    let (s, v) = send(
        &h,
        post.clone(),
        "/api/v3/order",
        &q,
        Some(&signed_body),
        key,
    )
    .await;
    assert_eq!(
        (s, v["clientOrderId"].as_str()),
        (200, Some("au-qb")),
        "{v}"
    );
    // The same split with the signature in the query instead.
    let b = Params::new()
        .with("quantity", "0.001")
        .with("price", "29000")
        .with("newClientOrderId", "au-qb2")
        .with("timestamp", now_ms())
        .encode();
    let sig = hmac_sha256_hex(EXAMPLE_API_SECRET, &format!("{q}{b}"));
    let (s, v) = send(
        &h,
        post.clone(),
        "/api/v3/order",
        &format!("{q}&signature={sig}"),
        Some(&b),
        key,
    )
    .await;
    assert_eq!(
        (s, v["clientOrderId"].as_str()),
        (200, Some("au-qb2")),
        "{v}"
    );

    // A parameter in both places: -1101.
    let b = stamped(Params::new().with("symbol", "BTCUSDT"), now_ms()).encode();
    let signed = append_signature(EXAMPLE_API_SECRET, &q, &b);
    let (s, v) = send(&h, post.clone(), "/api/v3/order", &q, Some(&signed), key).await;
    assert_eq!((s, code(&v)), (400, -1101), "{v}");

    // One changed byte after signing: -1022.
    let b = stamped(order_params("au-x"), now_ms()).encode();
    let tampered =
        append_signature(EXAMPLE_API_SECRET, "", &b).replace("quantity=0.001", "quantity=0.002");
    let (s, v) = send(&h, post, "/api/v3/order", "", Some(&tampered), key).await;
    assert_eq!(
        (s, code(&v), v["msg"].as_str()),
        (400, -1022, Some("Signature for this request is not valid."))
    );
    assert_eq!(stats(&h).await["orders"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_window_and_timestamps() {
    let (h, _dir) = start().await;
    let key = Some(EXAMPLE_API_KEY);
    let get = reqwest::Method::GET;
    let account = |p: Params| append_signature(EXAMPLE_API_SECRET, "", &p.encode());

    let ok = account(Params::new().with("timestamp", now_ms()));
    let (s, v) = send(&h, get.clone(), "/api/v3/account", &ok, None, key).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["balances"][1]["asset"], "USDT");
    assert_eq!(v["balances"][1]["free"], "10000.00000000");

    // 6 s old with the default 5 s window: -1021; with a 10 s window: accepted.
    let stale = account(Params::new().with("timestamp", now_ms() - 6000));
    let (s, v) = send(&h, get.clone(), "/api/v3/account", &stale, None, key).await;
    assert_eq!((s, code(&v)), (400, -1021));
    assert_eq!(
        v["msg"],
        "Timestamp for this request is outside of the recvWindow."
    );
    let wide = account(
        Params::new()
            .with("recvWindow", 10_000)
            .with("timestamp", now_ms() - 6000),
    );
    assert_eq!(
        send(&h, get.clone(), "/api/v3/account", &wide, None, key)
            .await
            .0,
        200
    );
    // 2 s in the future: -1021.
    let ahead = account(Params::new().with("timestamp", now_ms() + 2000));
    let (_, v) = send(&h, get.clone(), "/api/v3/account", &ahead, None, key).await;
    assert_eq!(
        (code(&v), v["msg"].as_str()),
        (
            -1021,
            Some("Timestamp for this request was 1000ms ahead of the server's time.")
        )
    );
    // Microseconds are accepted.
    let micros = account(Params::new().with("timestamp", now_ms() * 1000));
    assert_eq!(
        send(&h, get.clone(), "/api/v3/account", &micros, None, key)
            .await
            .0,
        200
    );
    // recvWindow above 60000.
    let too_wide = account(
        Params::new()
            .with("recvWindow", 60_001)
            .with("timestamp", now_ms()),
    );
    assert_eq!(
        code(
            &send(&h, get.clone(), "/api/v3/account", &too_wide, None, key)
                .await
                .1
        ),
        -1131
    );
    // Missing pieces.
    let no_ts = account(Params::new());
    let (_, v) = send(&h, get.clone(), "/api/v3/account", &no_ts, None, key).await;
    assert_eq!(
        (code(&v), v["msg"].as_str()),
        (
            -1102,
            Some("Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        )
    );
    let unsigned = Params::new().with("timestamp", now_ms()).encode();
    assert_eq!(
        code(
            &send(&h, get.clone(), "/api/v3/account", &unsigned, None, key)
                .await
                .1
        ),
        -1102
    );
    // Keys: missing or malformed (-2014, HTTP 401), unknown (-2015, HTTP 401).
    let (s, v) = send(&h, get.clone(), "/api/v3/account", &ok, None, None).await;
    assert_eq!((s, code(&v)), (401, -2014));
    let (s, v) = send(
        &h,
        get.clone(),
        "/api/v3/account",
        &ok,
        None,
        Some("x".repeat(64).as_str()),
    )
    .await;
    assert_eq!(
        (s, code(&v), v["msg"].as_str()),
        (
            401,
            -2015,
            Some("Invalid API-key, IP, or permissions for action.")
        )
    );
    // Public endpoints need neither.
    assert_eq!(
        send(&h, get, "/api/v3/ping", "", None, None).await,
        (200, serde_json::json!({}))
    );
}

/// The documentation's three signed examples: the simulator accepts their signatures (and
/// then refuses their 2017 timestamp, -1021, rather than the signature, -1022).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_vectors_pass_the_signature_check() {
    let (h, _dir) = start().await;
    let key = Some(EXAMPLE_API_KEY);
    let post = reqwest::Method::POST;
    let v1 = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    let s1 = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
    let (_, v) = send(
        &h,
        post.clone(),
        "/api/v3/order",
        &format!("{v1}&signature={s1}"),
        None,
        key,
    )
    .await;
    assert_eq!(code(&v), -1021, "{v}");
    let (_, v) = send(
        &h,
        post.clone(),
        "/api/v3/order",
        "",
        Some(&format!("{v1}&signature={s1}")),
        key,
    )
    .await;
    assert_eq!(code(&v), -1021, "{v}");
    let bad = format!("{v1}&signature={}", s1.replace('c', "d"));
    assert_eq!(
        code(
            &send(&h, post.clone(), "/api/v3/order", &bad, None, key)
                .await
                .1
        ),
        -1022
    );

    let v2 = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    let s2 = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3";
    let (_, v) = send(
        &h,
        post.clone(),
        "/api/v3/order",
        &format!("{v2}&signature={s2}"),
        None,
        key,
    )
    .await;
    assert_eq!(code(&v), -1021, "{v}");

    let q3 = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
    let b3 = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    let s3 = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";
    let (_, v) = send(
        &h,
        post.clone(),
        "/api/v3/order",
        q3,
        Some(&format!("{b3}&signature={s3}")),
        key,
    )
    .await;
    assert_eq!(code(&v), -1021, "{v}");
    // The same bytes signed as one string do not verify as query + body with a separator.
    let (_, v) = send(
        &h,
        post,
        "/api/v3/order",
        q3,
        Some(&format!("{b3}&signature={s1}")),
        key,
    )
    .await;
    assert_eq!(code(&v), -1022, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_errors_use_binance_codes() {
    let (h, _dir) = start().await;
    let key = Some(EXAMPLE_API_KEY);
    let post = reqwest::Method::POST;
    let place =
        |p: Params| append_signature(EXAMPLE_API_SECRET, "", &stamped(p, now_ms()).encode());
    let cases = [
        (order_params("a").with("x", "1"), -1100, None),
        (
            Params::new()
                .with("symbol", "BTCUSDT")
                .with("side", "BUY")
                .with("type", "LIMIT")
                .with("timeInForce", "GTC")
                .with("quantity", "1e-3")
                .with("price", "29000"),
            -1100,
            Some(
                "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            ),
        ),
        (
            Params::new()
                .with("symbol", "BTCUSDT")
                .with("side", "BUY")
                .with("type", "LIMIT")
                .with("timeInForce", "GTC")
                .with("quantity", "0.000000001")
                .with("price", "29000"),
            -1111,
            None,
        ),
        (
            Params::new()
                .with("symbol", "DOGEUSDT")
                .with("side", "BUY")
                .with("type", "MARKET")
                .with("quantity", "1"),
            -1121,
            Some("Invalid symbol."),
        ),
        (
            Params::new()
                .with("symbol", "BTCUSDT")
                .with("side", "BUY")
                .with("type", "LIMIT")
                .with("quantity", "1")
                .with("price", "1"),
            -1102,
            Some("Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
        ),
        (
            Params::new()
                .with("symbol", "BTCUSDT")
                .with("side", "BUY")
                .with("type", "OCO")
                .with("quantity", "1"),
            -1116,
            None,
        ),
        (
            Params::new()
                .with("symbol", "BTCUSDT")
                .with("side", "UP")
                .with("type", "MARKET")
                .with("quantity", "1"),
            -1117,
            None,
        ),
    ];
    for (i, (p, want, msg)) in cases.into_iter().enumerate() {
        // The first case only checks that unknown parameters are tolerated: drop its code.
        let body = place(p);
        let (s, v) = send(&h, post.clone(), "/api/v3/order", "", Some(&body), key).await;
        if i == 0 {
            assert_eq!(s, 200, "{v}");
            continue;
        }
        assert_eq!((s, code(&v)), (400, want), "case {i}: {v}");
        if let Some(m) = msg {
            assert_eq!(v["msg"], m, "case {i}");
        }
    }
    // Query by an unknown id: -2013; neither id: -1102.
    let get = reqwest::Method::GET;
    let q = |p: Params| append_signature(EXAMPLE_API_SECRET, "", &stamped(p, now_ms()).encode());
    let (_, v) = send(
        &h,
        get.clone(),
        "/api/v3/order",
        &q(Params::new().with("symbol", "BTCUSDT").with("orderId", 99)),
        None,
        key,
    )
    .await;
    assert_eq!(
        (code(&v), v["msg"].as_str()),
        (-2013, Some("Order does not exist."))
    );
    let (_, v) = send(
        &h,
        get,
        "/api/v3/order",
        &q(Params::new().with("symbol", "BTCUSDT")),
        None,
        key,
    )
    .await;
    assert_eq!(code(&v), -1102);
    let (_, v) = send(
        &h,
        reqwest::Method::GET,
        "/api/v3/klines",
        "symbol=BTCUSDT&interval=7m",
        None,
        None,
    )
    .await;
    assert_eq!(
        (code(&v), v["msg"].as_str()),
        (-1120, Some("Invalid interval."))
    );
    let (_, v) = send(
        &h,
        reqwest::Method::GET,
        "/api/v3/klines",
        "symbol=BTCUSDT&interval=1m&limit=1001",
        None,
        None,
    )
    .await;
    assert_eq!(code(&v), -1100);
}
