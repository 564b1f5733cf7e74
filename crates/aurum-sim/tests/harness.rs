//! What a crash-test harness relies on, through HTTP with exact values: `GET /admin/state`,
//! the per-candle fill cap (`max_fill_quote`) spreading a small order over several candles,
//! stale timestamps refused without effect, dropped and held order requests placing an order
//! never or exactly once, duplicate client order ids, order lookup by client id in every
//! state, `myTrades` by `fromId` and `orderId`, and paths placed at the clock (`start_now`).

mod common;

use aurum_core::Timeframe;
use aurum_sim::{Faults, PairConfig, PriceSource, SimConfig, SimHandle};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn code(v: &Value) -> (i64, &str) {
    (
        v["code"].as_i64().unwrap_or(0),
        v["msg"].as_str().unwrap_or(""),
    )
}

fn limit<'a>(cid: &'a str, side: &'a str, qty: &'a str, price: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("symbol", "BTCUSDT"),
        ("side", side),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", qty),
        ("price", price),
        ("newClientOrderId", cid),
    ]
}

fn market<'a>(cid: &'a str, side: &'a str, qty: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("symbol", "BTCUSDT"),
        ("side", side),
        ("type", "MARKET"),
        ("quantity", qty),
        ("newClientOrderId", cid),
    ]
}

async fn order_by_cid(h: &SimHandle, cid: &str) -> (u16, Value) {
    signed(
        h,
        Method::GET,
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", cid)],
    )
    .await
    .unwrap()
}

async fn my_trades(h: &SimHandle, extra: &[(&str, &str)]) -> Vec<u64> {
    let mut p = vec![("symbol", "BTCUSDT")];
    p.extend_from_slice(extra);
    let (s, v) = signed(h, Method::GET, "/api/v3/myTrades", &p)
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect()
}

/// The clientOrderIds of the orders in `state`, in order.
fn cids(state: &Value) -> Vec<String> {
    state["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["clientOrderId"].as_str().unwrap().to_string())
        .collect()
}

fn balance(state: &Value, asset: &str) -> (String, String) {
    let b = state["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == asset)
        .unwrap();
    (
        b["free"].as_str().unwrap().to_string(),
        b["locked"].as_str().unwrap().to_string(),
    )
}

fn pair<'a>(b: &'a str, l: &'a str) -> (String, String) {
    (b.to_string(), l.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_state_dumps_the_account_with_exact_values() {
    let (h, _dir) = start().await;
    let before = wall_ms();
    // 1: rests (cancelled below); 2: fills at once; 3: IOC that does not cross: expires;
    // 4: rests and fills on the next candle (low 29900).
    let (_, r1) = post_order(&h, &limit("st-1", "BUY", "0.001", "29000")).await;
    let (_, r2) = post_order(&h, &market("st-2", "BUY", "0.01")).await;
    let mut ioc = limit("st-3", "SELL", "0.001", "31000");
    ioc[3] = ("timeInForce", "IOC");
    let (_, r3) = post_order(&h, &ioc).await;
    assert_eq!(r3["status"], "EXPIRED", "{r3}");
    let (_, r4) = post_order(&h, &limit("st-4", "BUY", "0.002", "29900")).await;
    let (s, c1) = signed(
        &h,
        Method::DELETE,
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "st-1")],
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{c1}");
    let fill_from = wall_ms();
    assert_eq!(advance(&h, 1).await[0]["advanced"], 1);
    let fill_to = wall_ms();
    let state = admin_state(&h).await;

    let t = |v: &Value, k: &str| v[k].as_i64().unwrap();
    let (t1, t2, t3, t4, cancel) = (
        t(&r1, "transactTime"),
        t(&r2, "transactTime"),
        t(&r3, "transactTime"),
        t(&r4, "transactTime"),
        t(&c1, "transactTime"),
    );
    assert!(before <= t1 && t1 <= t2 && t2 <= t3 && t3 <= t4 && t4 <= cancel);
    let filled = t(&state["trades"][1], "time");
    assert!(fill_from <= filled && filled <= fill_to, "{filled}");
    let server = t(&state, "serverTime");
    assert!(fill_to <= server && server <= wall_ms());

    let expected = json!({
        "serverTime": server,
        "balances": [
            // 0.01 - 0.00001 fee + 0.002 - 0.000002 fee.
            {"asset": "BTC", "free": "0.01198800", "locked": "0.00000000"},
            // 10000 - 300 - 59.8.
            {"asset": "USDT", "free": "9640.20000000", "locked": "0.00000000"}
        ],
        "orders": [
            {"symbol": "BTCUSDT", "orderId": 1, "clientOrderId": "st-1", "side": "BUY",
             "type": "LIMIT", "timeInForce": "GTC", "price": "29000.00000000",
             "stopPrice": "0.00000000", "origQty": "0.00100000", "executedQty": "0.00000000",
             "cummulativeQuoteQty": "0.00000000", "status": "CANCELED",
             "time": t1, "updateTime": cancel},
            {"symbol": "BTCUSDT", "orderId": 2, "clientOrderId": "st-2", "side": "BUY",
             "type": "MARKET", "timeInForce": "GTC", "price": "0.00000000",
             "stopPrice": "0.00000000", "origQty": "0.01000000", "executedQty": "0.01000000",
             "cummulativeQuoteQty": "300.00000000", "status": "FILLED",
             "time": t2, "updateTime": t2},
            {"symbol": "BTCUSDT", "orderId": 3, "clientOrderId": "st-3", "side": "SELL",
             "type": "LIMIT", "timeInForce": "IOC", "price": "31000.00000000",
             "stopPrice": "0.00000000", "origQty": "0.00100000", "executedQty": "0.00000000",
             "cummulativeQuoteQty": "0.00000000", "status": "EXPIRED",
             "time": t3, "updateTime": t3},
            {"symbol": "BTCUSDT", "orderId": 4, "clientOrderId": "st-4", "side": "BUY",
             "type": "LIMIT", "timeInForce": "GTC", "price": "29900.00000000",
             "stopPrice": "0.00000000", "origQty": "0.00200000", "executedQty": "0.00200000",
             "cummulativeQuoteQty": "59.80000000", "status": "FILLED",
             "time": t4, "updateTime": filled}
        ],
        "trades": [
            {"symbol": "BTCUSDT", "id": 1, "orderId": 2, "side": "BUY",
             "price": "30000.00000000", "qty": "0.01000000", "quoteQty": "300.00000000",
             "commission": "0.00001000", "commissionAsset": "BTC", "time": t2,
             "isMaker": false},
            {"symbol": "BTCUSDT", "id": 2, "orderId": 4, "side": "BUY",
             "price": "29900.00000000", "qty": "0.00200000", "quoteQty": "59.80000000",
             "commission": "0.00000200", "commissionAsset": "BTC", "time": filled,
             "isMaker": true}
        ],
        "pairs": [
            {"symbol": "BTCUSDT", "candleOpenTime": T0 + 10 * 60_000,
             "lastPrice": "29950.00000000", "candle": 10, "candles": 15}
        ]
    });
    assert_eq!(state, expected);
    // Admin requests are not API requests.
    assert_eq!(stats(&h).await["orders"], 4);
}

/// A path whose candles after the first two all trade down to 29890, candle 4 with a volume
/// of only 0.0001 BTC.
fn dipping_path(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
    for i in 0..12i64 {
        let row = match i {
            0 | 1 => "30000.00,30010.00,29990.00,30000.00,1",
            4 => "30000.00,30010.00,29890.00,29950.00,0.0001",
            _ => "30000.00,30010.00,29890.00,29950.00,1",
        };
        text.push_str(&format!("{},{row}\n", T0 + 60_000 * i));
    }
    let path = dir.join("dip.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_order_fills_over_several_candles_under_the_quote_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dipping_path(dir.path());
    let h = aurum_sim::spawn(SimConfig {
        balances: vec![("USDT".into(), d("100"))],
        history: Some(2),
        max_fill_quote: Some(d("5")),
        ..config(&path)
    })
    .await
    .unwrap();
    // A: 0.00066 BTC at 29900 (19.734 USDT); B, younger: 0.0003 at 29895 (8.9685 USDT).
    let (s, a) = post_order(&h, &limit("cap-a", "BUY", "0.00066", "29900")).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("NEW")), "{a}");
    let (s, _) = post_order(&h, &limit("cap-b", "BUY", "0.0003", "29895")).await;
    assert_eq!(s, 200);
    assert_eq!(
        balance(&admin_state(&h).await, "USDT"),
        pair("71.29750000", "28.70250000")
    );

    // (executed A, cum A, status A, executed B, cum B, status B) after each candle.
    let steps = [
        // 5 USDT buys floor(5 / 29900) = 0.00016 of A (4.784); the 0.216 left buys no B.
        (
            "0.00016000",
            "4.78400000",
            "PARTIALLY_FILLED",
            "0.00000000",
            "0.00000000",
            "NEW",
        ),
        (
            "0.00032000",
            "9.56800000",
            "PARTIALLY_FILLED",
            "0.00000000",
            "0.00000000",
            "NEW",
        ),
        // Candle 4 trades only 0.0001 BTC: the volume, not the cap, limits A.
        (
            "0.00042000",
            "12.55800000",
            "PARTIALLY_FILLED",
            "0.00000000",
            "0.00000000",
            "NEW",
        ),
        (
            "0.00058000",
            "17.34200000",
            "PARTIALLY_FILLED",
            "0.00000000",
            "0.00000000",
            "NEW",
        ),
        // A's last 0.00008 (2.392); the 2.608 left buys floor(2.608 / 29895) = 0.00008 of B.
        (
            "0.00066000",
            "19.73400000",
            "FILLED",
            "0.00008000",
            "2.39160000",
            "PARTIALLY_FILLED",
        ),
        (
            "0.00066000",
            "19.73400000",
            "FILLED",
            "0.00024000",
            "7.17480000",
            "PARTIALLY_FILLED",
        ),
        (
            "0.00066000",
            "19.73400000",
            "FILLED",
            "0.00030000",
            "8.96850000",
            "FILLED",
        ),
    ];
    for (i, (ea, ca, sa, eb, cb, sb)) in steps.iter().enumerate() {
        assert_eq!(advance(&h, 1).await[0]["advanced"], 1);
        let (_, a) = order_by_cid(&h, "cap-a").await;
        let (_, b) = order_by_cid(&h, "cap-b").await;
        assert_eq!(
            (
                a["executedQty"].as_str(),
                a["cummulativeQuoteQty"].as_str(),
                a["status"].as_str(),
                b["executedQty"].as_str(),
                b["cummulativeQuoteQty"].as_str(),
                b["status"].as_str()
            ),
            (
                Some(*ea),
                Some(*ca),
                Some(*sa),
                Some(*eb),
                Some(*cb),
                Some(*sb)
            ),
            "after candle {}",
            i + 2
        );
        if i == 0 {
            // A's remaining 0.0005 × 29900 = 14.95 plus B's 8.9685 stay locked.
            assert_eq!(
                balance(&admin_state(&h).await, "USDT"),
                pair("71.29750000", "23.91850000")
            );
        }
    }
    let state = admin_state(&h).await;
    let fills: Vec<(u64, &str, &str, &str)> = state["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["orderId"].as_u64().unwrap(),
                t["qty"].as_str().unwrap(),
                t["price"].as_str().unwrap(),
                t["commission"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fills,
        vec![
            (1, "0.00016000", "29900.00000000", "0.00000016"),
            (1, "0.00016000", "29900.00000000", "0.00000016"),
            (1, "0.00010000", "29900.00000000", "0.00000010"),
            (1, "0.00016000", "29900.00000000", "0.00000016"),
            (1, "0.00008000", "29900.00000000", "0.00000008"),
            (2, "0.00008000", "29895.00000000", "0.00000008"),
            (2, "0.00016000", "29895.00000000", "0.00000016"),
            (2, "0.00006000", "29895.00000000", "0.00000006"),
        ]
    );
    assert!(
        state["trades"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["isMaker"] == true)
    );
    assert_eq!(balance(&state, "USDT"), pair("71.29750000", "0.00000000"));
    // 0.00096 bought, 0.00000096 commission.
    assert_eq!(balance(&state, "BTC"), pair("0.00095904", "0.00000000"));

    // myTrades: by order, from a trade id, both, and the most recent without either.
    assert_eq!(my_trades(&h, &[("orderId", "1")]).await, [1, 2, 3, 4, 5]);
    assert_eq!(my_trades(&h, &[("orderId", "2")]).await, [6, 7, 8]);
    assert_eq!(my_trades(&h, &[("fromId", "4")]).await, [4, 5, 6, 7, 8]);
    assert_eq!(
        my_trades(&h, &[("fromId", "4"), ("limit", "2")]).await,
        [4, 5]
    );
    assert_eq!(my_trades(&h, &[("fromId", "9")]).await, Vec::<u64>::new());
    assert_eq!(
        my_trades(&h, &[("orderId", "2"), ("fromId", "7")]).await,
        [7, 8]
    );
    assert_eq!(my_trades(&h, &[("orderId", "3")]).await, Vec::<u64>::new());
    assert_eq!(my_trades(&h, &[("limit", "3")]).await, [6, 7, 8]);
    assert_eq!(my_trades(&h, &[]).await, [1, 2, 3, 4, 5, 6, 7, 8]);
    let (_, v) = signed(
        &h,
        Method::GET,
        "/api/v3/myTrades",
        &[("symbol", "BTCUSDT"), ("fromId", "6"), ("limit", "1")],
    )
    .await
    .unwrap();
    assert_eq!(
        v,
        json!([{
            "symbol": "BTCUSDT", "id": 6, "orderId": 2, "orderListId": -1,
            "price": "29895.00000000", "qty": "0.00008000", "quoteQty": "2.39160000",
            "commission": "0.00000008", "commissionAsset": "BTC",
            "time": state["trades"][5]["time"], "isBuyer": true, "isMaker": true,
            "isBestMatch": true
        }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_timestamps_are_refused_without_effect() {
    let (h, _dir) = start().await;
    // A pending drop fault must not be used up by a refused request either.
    set_faults(
        &h,
        &Faults {
            drop_order_requests: 1,
            ..Faults::default()
        },
    )
    .await;
    let initial = admin_state(&h).await;
    let old = (wall_ms() - 6000).to_string();
    let mut p = market("stale-1", "BUY", "0.01");
    p.push(("timestamp", old.as_str()));
    let (s, v) = post_order(&h, &p).await;
    assert_eq!(
        (s, code(&v)),
        (
            400,
            (
                -1021,
                "Timestamp for this request is outside of the recvWindow."
            )
        )
    );
    // With recvWindow = 2000, 2.5 s is too old as well.
    let old = (wall_ms() - 2500).to_string();
    let mut p = limit("stale-2", "BUY", "0.001", "29000");
    p.extend([("recvWindow", "2000"), ("timestamp", old.as_str())]);
    let (s, v) = post_order(&h, &p).await;
    assert_eq!((s, code(&v).0), (400, -1021));
    // A cancel-all of the same age does nothing either.
    let (s, v) = signed(
        &h,
        Method::DELETE,
        "/api/v3/openOrders",
        &[
            ("symbol", "BTCUSDT"),
            ("timestamp", old.as_str()),
            ("recvWindow", "2000"),
        ],
    )
    .await
    .unwrap();
    assert_eq!((s, code(&v).0), (400, -1021));

    let after = admin_state(&h).await;
    assert_eq!(after["orders"], json!([]));
    assert_eq!(after["trades"], json!([]));
    assert_eq!(after["balances"], initial["balances"]);
    let f: Faults = serde_json::from_value(
        http()
            .get(format!("{}/admin/faults", h.base_url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(f.drop_order_requests, 1);
    let s = stats(&h).await;
    assert_eq!(
        (s["auth_failures"].as_u64(), s["orders"].as_u64()),
        (Some(3), Some(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_requests_never_place_dropped_and_held_answers_place_once() {
    let (h, _dir) = start().await;
    // Dropped on arrival: the connection closes unanswered, nothing is placed.
    set_faults(
        &h,
        &Faults {
            drop_order_requests: 2,
            ..Faults::default()
        },
    )
    .await;
    for _ in 0..2 {
        let r = signed(
            &h,
            Method::POST,
            "/api/v3/order",
            &limit("dr-1", "BUY", "0.001", "29000"),
        )
        .await;
        assert!(r.is_err(), "{r:?}");
    }
    let s = admin_state(&h).await;
    assert_eq!(
        (s["orders"].clone(), s["balances"][1]["free"].as_str()),
        (json!([]), Some("10000.00000000"))
    );
    // The fault is used up: the same request now places the order, once.
    let (st, v) = post_order(&h, &limit("dr-1", "BUY", "0.001", "29000")).await;
    assert_eq!((st, v["orderId"].as_u64()), (200, Some(1)), "{v}");

    // Answer dropped: placed exactly once, although the client saw an error.
    set_faults(
        &h,
        &Faults {
            drop_order_responses: 1,
            ..Faults::default()
        },
    )
    .await;
    let r = signed(
        &h,
        Method::POST,
        "/api/v3/order",
        &limit("dr-2", "BUY", "0.001", "29100"),
    )
    .await;
    assert!(r.is_err(), "{r:?}");
    // Answer held: placed exactly once, answered after the hold.
    set_faults(
        &h,
        &Faults {
            hold_order_responses: 1,
            hold_ms: 400,
            ..Faults::default()
        },
    )
    .await;
    let sent = std::time::Instant::now();
    let (st, v) = post_order(&h, &market("dr-3", "BUY", "0.001")).await;
    assert!(sent.elapsed() >= std::time::Duration::from_millis(400));
    assert_eq!(
        (st, v["orderId"].as_u64(), v["status"].as_str()),
        (200, Some(3), Some("FILLED"))
    );

    let s = admin_state(&h).await;
    assert_eq!(cids(&s), ["dr-1", "dr-2", "dr-3"]);
    assert_eq!(s["trades"].as_array().unwrap().len(), 1);
    // 29 + 29.1 locked, 30 spent.
    assert_eq!(balance(&s, "USDT"), pair("9911.90000000", "58.10000000"));
    let (st, v) = order_by_cid(&h, "dr-2").await;
    assert_eq!(
        (st, v["orderId"].as_u64(), v["status"].as_str()),
        (200, Some(2), Some("NEW"))
    );
    let s = stats(&h).await;
    assert_eq!(
        (
            s["dropped_requests"].as_u64(),
            s["dropped_responses"].as_u64(),
            s["held_responses"].as_u64(),
            s["orders"].as_u64()
        ),
        (Some(2), Some(1), Some(1), Some(3))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_order_id_of_an_open_order_is_a_duplicate() {
    let (h, _dir) = start().await;
    let (st, _) = post_order(&h, &limit("dup-1", "BUY", "0.001", "29000")).await;
    assert_eq!(st, 200);
    // Same id while open: refused, whatever the rest of the order says.
    for p in [
        limit("dup-1", "BUY", "0.001", "29000"),
        limit("dup-1", "BUY", "0.002", "28000"),
        market("dup-1", "BUY", "0.001"),
    ] {
        let (st, v) = post_order(&h, &p).await;
        assert_eq!(
            (st, code(&v)),
            (400, (-2010, "Duplicate order sent.")),
            "{v}"
        );
    }
    // A filled order's id may be used again (Binance checks open orders only).
    assert_eq!(
        post_order(&h, &market("dup-2", "BUY", "0.001")).await.0,
        200
    );
    let (st, v) = post_order(&h, &market("dup-2", "BUY", "0.001")).await;
    assert_eq!((st, v["orderId"].as_u64()), (200, Some(3)));
    // So may a cancelled one's; the lookup then finds the newest.
    let (st, _) = signed(
        &h,
        Method::DELETE,
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "dup-1")],
    )
    .await
    .unwrap();
    assert_eq!(st, 200);
    let (st, v) = post_order(&h, &limit("dup-1", "BUY", "0.001", "29500")).await;
    assert_eq!((st, v["orderId"].as_u64()), (200, Some(4)));
    let (_, v) = order_by_cid(&h, "dup-1").await;
    assert_eq!(
        (v["orderId"].as_u64(), v["price"].as_str()),
        (Some(4), Some("29500.00000000"))
    );
    assert_eq!(
        cids(&admin_state(&h).await),
        ["dup-1", "dup-2", "dup-2", "dup-1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_found_by_client_id_in_every_state() {
    let (h, _dir) = start().await;
    post_order(&h, &limit("q-open", "BUY", "0.001", "29000")).await;
    post_order(&h, &market("q-filled", "BUY", "0.01")).await;
    post_order(&h, &limit("q-cancel", "BUY", "0.001", "29100")).await;
    signed(
        &h,
        Method::DELETE,
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "q-cancel")],
    )
    .await
    .unwrap();
    let mut ioc = limit("q-expired", "BUY", "0.001", "29000");
    ioc[3] = ("timeInForce", "IOC");
    post_order(&h, &ioc).await;
    // Refused by the venue: never an order.
    let (st, _) = post_order(&h, &limit("q-refused", "BUY", "1", "29000")).await;
    assert_eq!(st, 400);
    // A resting sell of part of the BTC bought.
    post_order(&h, &limit("q-part", "SELL", "0.005", "30040")).await;

    for (cid, id, status, executed) in [
        ("q-open", 1, "NEW", "0.00000000"),
        ("q-filled", 2, "FILLED", "0.01000000"),
        ("q-cancel", 3, "CANCELED", "0.00000000"),
        ("q-expired", 4, "EXPIRED", "0.00000000"),
        ("q-part", 5, "NEW", "0.00000000"),
    ] {
        let (st, v) = order_by_cid(&h, cid).await;
        assert_eq!(
            (
                st,
                v["orderId"].as_u64(),
                v["status"].as_str(),
                v["executedQty"].as_str()
            ),
            (200, Some(id), Some(status), Some(executed)),
            "{cid}: {v}"
        );
        assert_eq!(v["clientOrderId"], cid);
    }
    for cid in ["q-refused", "q-never"] {
        let (st, v) = order_by_cid(&h, cid).await;
        assert_eq!(
            (st, code(&v)),
            (400, (-2013, "Order does not exist.")),
            "{cid}"
        );
    }
    let (st, v) = signed(
        &h,
        Method::GET,
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("orderId", "99")],
    )
    .await
    .unwrap();
    assert_eq!((st, code(&v).0), (400, -2013));
    // Both given and not the same order: -2013 too.
    let (_, v) = signed(
        &h,
        Method::GET,
        "/api/v3/order",
        &[
            ("symbol", "BTCUSDT"),
            ("orderId", "1"),
            ("origClientOrderId", "q-filled"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(code(&v).0, -2013);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partially_filled_orders_are_found_by_client_id() {
    let (h, _dir) = start().await;
    // Candle 11 trades only 0.0004 BTC down to 29800.
    advance(&h, 1).await;
    post_order(&h, &limit("q-part", "BUY", "0.001", "29850")).await;
    advance(&h, 1).await;
    let (st, v) = order_by_cid(&h, "q-part").await;
    assert_eq!(
        (
            st,
            v["status"].as_str(),
            v["executedQty"].as_str(),
            v["cummulativeQuoteQty"].as_str()
        ),
        (
            200,
            Some("PARTIALLY_FILLED"),
            Some("0.00040000"),
            Some("11.94000000")
        )
    );
}

#[test]
fn align_start_places_the_current_candle_at_the_given_instant() {
    // 2025-06-15T15:08:43.456Z.
    let now = 1_750_000_123_456;
    let mut c = SimConfig::default();
    c.align_start(now);
    for p in &c.pairs {
        // The 2000th candle (index 1999) opens at 15:08:00, the minute of `now`.
        assert_eq!(
            p.prices,
            PriceSource::Synth {
                seed: 42,
                candles: 3000,
                start_ms: 1_750_000_080_000 - 1999 * 60_000,
                timeframe: Timeframe::M1
            }
        );
    }
    // All candles history: the last one is current. Hourly bars.
    let mut c = SimConfig {
        history: None,
        pairs: vec![PairConfig {
            symbol: btc(),
            prices: PriceSource::Synth {
                seed: 1,
                candles: 10,
                start_ms: 0,
                timeframe: Timeframe::H1,
            },
        }],
        ..SimConfig::default()
    };
    c.align_start(now);
    assert!(matches!(
        c.pairs[0].prices,
        PriceSource::Synth {
            start_ms: 1_749_967_200_000,
            ..
        }
    ));
    // Weekly bars open on Mondays: Wednesday 2024-01-03 12:00 is in the week of Monday
    // 2024-01-01.
    c.pairs[0].prices = PriceSource::Synth {
        seed: 1,
        candles: 3,
        start_ms: 0,
        timeframe: Timeframe::W1,
    };
    c.history = Some(1);
    c.align_start(1_704_283_200_000);
    assert!(matches!(
        c.pairs[0].prices,
        PriceSource::Synth {
            start_ms: 1_704_067_200_000,
            ..
        }
    ));
    assert_eq!(
        aurum_sim::config::candle_open_time(1_704_067_199_999, Timeframe::W1),
        1_703_462_400_000
    );
    // Data files are not moved.
    let file = PriceSource::File("x.csv".into());
    c.pairs[0].prices = file.clone();
    c.align_start(now);
    assert_eq!(c.pairs[0].prices, file);
    assert!(SimConfig::default().starting_now().start_now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_now_serves_the_candle_of_the_clock_then_runs_ahead() {
    let cfg = SimConfig {
        pairs: SimConfig::default()
            .pairs
            .into_iter()
            .map(|mut p| {
                p.prices = PriceSource::Synth {
                    seed: 7,
                    candles: 200,
                    start_ms: 0,
                    timeframe: Timeframe::M1,
                };
                p
            })
            .collect(),
        history: Some(100),
        ..SimConfig::default()
    }
    .starting_now();
    let before = wall_ms();
    let h = aurum_sim::spawn(cfg).await.unwrap();
    let after = wall_ms();
    let minute = |t: i64| t - t.rem_euclid(60_000);
    let state = admin_state(&h).await;
    let open = state["pairs"][0]["candleOpenTime"].as_i64().unwrap();
    assert!(open == minute(before) || open == minute(after), "{open}");
    for p in state["pairs"].as_array().unwrap() {
        assert_eq!(
            (p["candleOpenTime"].as_i64(), p["candle"].as_u64()),
            (Some(open), Some(99))
        );
    }
    // The served klines end with the clock's candle; the config keeps the resolved start.
    let k: Value = http()
        .get(format!(
            "{}/api/v3/klines?symbol=ETHUSDT&interval=1m&limit=1000",
            h.base_url()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let k = k.as_array().unwrap();
    assert_eq!(k.len(), 100);
    assert_eq!(k[99][0].as_i64(), Some(open));
    assert_eq!(k[0][0].as_i64(), Some(open - 99 * 60_000));
    assert!(matches!(
        h.sim.config.pairs[0].prices,
        PriceSource::Synth { start_ms, .. } if start_ms == open - 99 * 60_000
    ));
    // Advancing reveals candles ahead of the clock (accelerated trading).
    advance(&h, 5).await;
    let state = admin_state(&h).await;
    assert_eq!(
        state["pairs"][1]["candleOpenTime"].as_i64(),
        Some(open + 5 * 60_000)
    );
    assert!(open + 5 * 60_000 > state["serverTime"].as_i64().unwrap());

    // With a clock offset the path follows the server's clock: one day back.
    let cfg = SimConfig {
        clock_offset_ms: -86_400_000,
        ..SimConfig::default().starting_now()
    };
    let before = wall_ms() - 86_400_000;
    let h = aurum_sim::spawn(cfg).await.unwrap();
    let after = wall_ms() - 86_400_000;
    let open = admin_state(&h).await["pairs"][0]["candleOpenTime"]
        .as_i64()
        .unwrap();
    assert!(open == minute(before) || open == minute(after), "{open}");

    // With a timer faster than the bar, candles run ahead of the clock by themselves.
    let cfg = SimConfig {
        advance_every: Some(std::time::Duration::from_millis(20)),
        ..SimConfig::default().starting_now()
    };
    let h = aurum_sim::spawn(cfg).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let s = admin_state(&h).await;
        if s["pairs"][0]["candle"].as_u64().unwrap() >= 1999 + 5 {
            assert!(
                s["pairs"][0]["candleOpenTime"].as_i64().unwrap()
                    > s["serverTime"].as_i64().unwrap()
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the timer did not advance"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
