//! Shared set-up of the simulator tests: a known price path, an in-process simulator, a client.
#![allow(dead_code)]

use aurum_core::{ClientOrderId, Decimal, OrderIntent, OrderType, Side, Symbol, TimeInForce};
use aurum_exchange::{BinanceClient, BinanceConfig};
use aurum_sim::{
    EXAMPLE_API_KEY, EXAMPLE_API_SECRET, Faults, PairConfig, PriceSource, SimConfig, SimHandle,
};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// 2024-01-01T00:00:00Z.
pub const T0: i64 = 1_704_067_200_000;

/// The 1m BTCUSDT path of the tests. With `history = 10`, candle 9 is current: last price
/// 30000.00. Candle 10 trades down to 29900 (volume 5), candle 11 to 29800 with a volume of
/// only 0.0004, candle 12 up to 31000.
pub const PATH: &[(&str, &str, &str, &str, &str)] = &[
    ("29990.00", "30010.00", "29980.00", "30000.00", "2.5"),
    ("30000.00", "30020.00", "29990.00", "30010.00", "1.0"),
    ("30010.00", "30030.00", "30000.00", "30020.00", "1.0"),
    ("30020.00", "30020.00", "29990.00", "30000.00", "1.0"),
    ("30000.00", "30015.00", "29995.00", "30005.00", "1.0"),
    ("30005.00", "30025.00", "30000.00", "30010.00", "1.0"),
    ("30010.00", "30010.00", "29985.00", "29990.00", "1.0"),
    ("29990.00", "30000.00", "29980.00", "29995.00", "1.0"),
    ("29995.00", "30005.00", "29990.00", "30000.00", "1.0"),
    ("30000.00", "30005.00", "29995.00", "30000.00", "1.5"),
    ("30000.00", "30050.00", "29900.00", "29950.00", "5.0"),
    ("29950.00", "29990.00", "29800.00", "29850.00", "0.0004"),
    ("29850.00", "31000.00", "29850.00", "30900.00", "3.0"),
    ("30900.00", "30950.00", "30850.00", "30900.00", "1.0"),
    ("30900.00", "30950.00", "30850.00", "30900.00", "1.0"),
];

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn btc() -> Symbol {
    Symbol::new("BTC", "USDT").unwrap()
}

/// Writes the path as aurum CSV in `dir`.
pub fn write_path(dir: &Path) -> PathBuf {
    let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
    for (i, (o, h, l, c, v)) in PATH.iter().enumerate() {
        text.push_str(&format!("{},{o},{h},{l},{c},{v}\n", T0 + 60_000 * i as i64));
    }
    let path = dir.join("btcusdt-1m.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// BTCUSDT on the test path, 10 candles of history, 10,000 USDT, fee 0.1%.
pub fn config(path: &Path) -> SimConfig {
    SimConfig {
        pairs: vec![PairConfig {
            symbol: btc(),
            prices: PriceSource::File(path.to_path_buf()),
        }],
        balances: vec![("USDT".into(), Decimal::from(10_000))],
        history: Some(10),
        ..SimConfig::default()
    }
}

/// A simulator on the test path, with its temporary directory.
pub async fn start() -> (SimHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_path(dir.path());
    let h = aurum_sim::spawn(config(&path)).await.unwrap();
    (h, dir)
}

/// aurum's client for the simulator: 2 s timeout, short backoffs.
pub fn client_config(h: &SimHandle) -> BinanceConfig {
    let mut c =
        BinanceConfig::new(h.base_url()).with_credentials(EXAMPLE_API_KEY, EXAMPLE_API_SECRET);
    c.timeout = Duration::from_secs(2);
    c.backoff = Duration::from_millis(20);
    c.max_backoff = Duration::from_millis(200);
    c
}

pub fn client(h: &SimHandle) -> BinanceClient {
    BinanceClient::new(client_config(h)).unwrap()
}

/// An intent on BTC/USDT.
pub fn intent(
    id: &str,
    side: Side,
    order_type: OrderType,
    qty: &str,
    price: Option<&str>,
) -> OrderIntent {
    OrderIntent {
        client_order_id: ClientOrderId::new(id).unwrap(),
        symbol: btc(),
        side,
        order_type,
        time_in_force: matches!(order_type, OrderType::Limit).then_some(TimeInForce::Gtc),
        quantity: Some(d(qty)),
        quote_quantity: None,
        price: price.map(d),
        stop_price: None,
        trailing_delta_bps: None,
        created_at_ms: 0,
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `POST /admin/advance`.
pub async fn advance(h: &SimHandle, candles: usize) -> serde_json::Value {
    http()
        .post(format!("{}/admin/advance", h.base_url()))
        .body(format!("{{\"candles\": {candles}}}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap()
}

/// `POST /admin/faults`.
pub async fn set_faults(h: &SimHandle, faults: &Faults) {
    let r = http()
        .post(format!("{}/admin/faults", h.base_url()))
        .body(serde_json::to_string(faults).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

/// `GET /admin/stats`.
pub async fn stats(h: &SimHandle) -> serde_json::Value {
    http()
        .get(format!("{}/admin/stats", h.base_url()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap()
}

/// The balance of `asset` as (free, locked).
pub fn balance(list: &[aurum_exchange::Balance], asset: &str) -> (Decimal, Decimal) {
    list.iter()
        .find(|b| b.asset.as_str() == asset)
        .map(|b| (b.free, b.locked))
        .unwrap_or_default()
}

/// The wall clock, ms.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A client that opens a new connection for every request (so that a connection closed on
/// purpose by the simulator is never reused, and nothing is retried behind the test's back).
pub fn fresh_http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Sends a signed request with `params` (plus `timestamp` = now unless given) in the query;
/// returns the HTTP status and the JSON body, or the transport error (a dropped connection).
pub async fn signed(
    h: &SimHandle,
    method: reqwest::Method,
    path: &str,
    params: &[(&str, &str)],
) -> Result<(u16, serde_json::Value), reqwest::Error> {
    let mut p = aurum_exchange::sign::Params::new();
    for (k, v) in params {
        p.push(k, v);
    }
    if !params.iter().any(|(k, _)| *k == "timestamp") {
        p.push("timestamp", wall_ms());
    }
    let query = aurum_exchange::sign::append_signature(EXAMPLE_API_SECRET, "", &p.encode());
    let resp = fresh_http()
        .request(method, format!("{}{path}?{query}", h.base_url()))
        .header("X-MBX-APIKEY", EXAMPLE_API_KEY)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    ))
}

/// `POST /api/v3/order` with `params`; panics on a transport error.
pub async fn post_order(h: &SimHandle, params: &[(&str, &str)]) -> (u16, serde_json::Value) {
    signed(h, reqwest::Method::POST, "/api/v3/order", params)
        .await
        .unwrap()
}

/// `GET /admin/state`.
pub async fn admin_state(h: &SimHandle) -> serde_json::Value {
    let r = http()
        .get(format!("{}/admin/state", h.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}
