//! How many signed order placements per second the simulator answers on loopback, from one
//! client sending one request at a time over a kept-alive connection (HMAC signing and
//! reqwest included, as a trading engine would pay them).
//!
//! ```sh
//! cargo run --release -p aurum-sim --example order_throughput -- [ORDERS] [BASE_URL]
//! ```
//!
//! Without `BASE_URL` a simulator is started in this process (weight limit lifted, a large
//! USDT balance); with it, the running simulator is used (start it with a large
//! `--weight-limit` and `--balances USDT=1000000000,BTC=1000`). Two kinds are measured: `LIMIT IOC` orders below the
//! price (checked, locked, expired: no trade) and `MARKET` orders alternating buy and sell
//! (one trade each). The baseline, in the same run: unsigned `GET /api/v3/ping` round trips
//! (the HTTP floor).

use aurum_exchange::sign::{Params, append_signature};
use aurum_sim::{EXAMPLE_API_KEY, EXAMPLE_API_SECRET, SimConfig};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Sends `n` orders built by `params(i)`; returns the elapsed time and the sorted latencies.
async fn run(
    client: &reqwest::Client,
    base: &str,
    n: usize,
    params: impl Fn(usize) -> Params,
) -> Result<(Duration, Vec<Duration>), Box<dyn std::error::Error>> {
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let mut p = params(i);
        p.push("newOrderRespType", "ACK");
        p.push("timestamp", now_ms());
        let query = append_signature(EXAMPLE_API_SECRET, "", &p.encode());
        let sent = Instant::now();
        let r = client
            .post(format!("{base}/api/v3/order?{query}"))
            .header("X-MBX-APIKEY", EXAMPLE_API_KEY)
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        lat.push(sent.elapsed());
        if !status.is_success() {
            return Err(format!("order {i}: {status} {}", String::from_utf8_lossy(&body)).into());
        }
    }
    let elapsed = start.elapsed();
    lat.sort();
    Ok((elapsed, lat))
}

fn report(name: &str, n: usize, elapsed: Duration, lat: &[Duration]) {
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{name:<10} {n:>7} requests in {:>6.2} s: {:>7.0} /s; latency p50 {:>5} µs, p99 {:>5} µs, max {:>6} µs",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_micros(),
        pct(0.99).as_micros(),
        lat.last().map(|d| d.as_micros()).unwrap_or(0),
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000);
    let url = args.next();
    let _local;
    let base = match url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let h = aurum_sim::spawn(SimConfig {
                balances: vec![
                    ("USDT".into(), aurum_core::Decimal::from(1_000_000_000)),
                    ("BTC".into(), aurum_core::Decimal::from(1_000)),
                ],
                weight_limit: u32::MAX,
                ..SimConfig::default()
            })
            .await?;
            let b = h.base_url();
            _local = h;
            b
        }
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    // Warm up the connection and the code paths.
    let warm = |i: usize| {
        Params::new()
            .with("symbol", "BTCUSDT")
            .with("side", "BUY")
            .with("type", "LIMIT")
            .with("timeInForce", "IOC")
            .with("quantity", "0.001")
            .with("price", "20000")
            .with("newClientOrderId", format!("warm-{i}"))
    };
    run(&client, &base, 200, warm).await?;

    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let sent = Instant::now();
        let r = client.get(format!("{base}/api/v3/ping")).send().await?;
        r.bytes().await?;
        lat.push(sent.elapsed());
    }
    let elapsed = start.elapsed();
    lat.sort();
    report("ping", n, elapsed, &lat);

    let ioc = |i: usize| {
        Params::new()
            .with("symbol", "BTCUSDT")
            .with("side", "BUY")
            .with("type", "LIMIT")
            .with("timeInForce", "IOC")
            .with("quantity", "0.001")
            .with("price", "20000")
            .with("newClientOrderId", format!("ioc-{i}"))
    };
    let (elapsed, lat) = run(&client, &base, n, ioc).await?;
    report("limit-ioc", n, elapsed, &lat);

    let market = |i: usize| {
        Params::new()
            .with("symbol", "BTCUSDT")
            .with("side", if i.is_multiple_of(2) { "BUY" } else { "SELL" })
            .with("type", "MARKET")
            .with("quantity", "0.001")
            .with("newClientOrderId", format!("mkt-{i}"))
    };
    let (elapsed, lat) = run(&client, &base, n, market).await?;
    report("market", n, elapsed, &lat);
    Ok(())
}
