//! Market data from the kline stream (`[bot] market_data = "stream"`) against the simulator
//! in one process: the closed candles the engine saw (stored in `market_data`) are exactly the
//! simulator's, without a gap or a duplicate, while the simulator advances faster than the
//! loop ticks, and when the stream is dropped REST fills in (polls while it is down, a gap
//! fetched after it is back).

use aurum_core::{Asset, Candle, Symbol, Timeframe};
use aurum_exchange::{BinanceClient, BinanceConfig};
use aurum_runtime::audit::{VenueSnapshot, audit};
use aurum_runtime::{BotConfig, PaperVenue, Runtime, RuntimeOptions, Venue};
use aurum_sim::{EXAMPLE_API_KEY, EXAMPLE_API_SECRET, SimConfig, SimHandle};
use aurum_store::{Store, StoreConfig};
use aurum_strategy::risk::RiskConfig;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const PAIRS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];
const WAIT: Duration = Duration::from_secs(20);

fn sim_config() -> SimConfig {
    let mut c = SimConfig {
        history: Some(300),
        balances: vec![("USDT".into(), dec!(1000))],
        max_fill_quote: Some(dec!(5)),
        ..SimConfig::default()
    }
    .starting_now();
    for p in &mut c.pairs {
        if let aurum_sim::PriceSource::Synth { candles, .. } = &mut p.prices {
            *candles = 2000;
        }
    }
    c
}

fn options(bot: &str, pairs: &[&str], start_cash: Option<rust_decimal::Decimal>) -> RuntimeOptions {
    let mut params = BTreeMap::new();
    params.insert("quote".into(), "12".into());
    params.insert("offset_bps".into(), "1".into());
    params.insert("expire_after_bars".into(), "2".into());
    params.insert("hold_bars".into(), "2".into());
    RuntimeOptions {
        bot: BotConfig {
            id: bot.into(),
            strategy: "churn".into(),
            params,
            pairs: pairs.iter().map(|p| p.to_string()).collect(),
            timeframe: "1m".into(),
            poll_interval_ms: 5,
            market_data: "stream".into(),
            warmup_candles: 30,
            ..BotConfig::default()
        },
        risk: RiskConfig::unrestricted(),
        challenge: Default::default(),
        fee_rate: dec!(0.001),
        start_cash,
        config_snapshot: serde_json::json!({"test": "stream"}),
    }
}

fn client(sim: &SimHandle) -> BinanceClient {
    let mut cfg =
        BinanceConfig::new(sim.base_url()).with_credentials(EXAMPLE_API_KEY, EXAMPLE_API_SECRET);
    cfg.recv_window_ms = 1000;
    cfg.backoff = Duration::from_millis(10);
    BinanceClient::new(cfg).unwrap()
}

async fn store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}", dir.path().join("stream.db").display());
    Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap()
}

fn advance(sim: &SimHandle, n: usize) {
    let now = sim.sim.now_ms();
    sim.sim.engine.lock().advance(None, n, now);
}

/// Each pair's cursor: the index of its forming candle.
fn cursors(sim: &SimHandle) -> BTreeMap<String, usize> {
    let engine = sim.sim.engine.lock();
    PAIRS
        .iter()
        .map(|p| (p.to_string(), engine.markets[*p].cursor))
        .collect()
}

/// The simulator's candles of `pair` that closed from cursor `from` on.
fn closed_since(sim: &SimHandle, pair: &str, from: usize) -> Vec<Candle> {
    let engine = sim.sim.engine.lock();
    let m = &engine.markets[pair];
    m.candles[from..m.cursor].to_vec()
}

/// Ticks (every 5 ms) until `done`, at most [`WAIT`].
async fn tick_until<V: Venue>(rt: &mut Runtime<V>, what: &str, done: impl Fn(&Runtime<V>) -> bool) {
    let start = Instant::now();
    loop {
        rt.tick().await.unwrap();
        if done(rt) {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for {what}: {:?}",
            rt.market_data_stats()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Ticks until the runtime's newest closed candle of every pair is the simulator's.
async fn settle<V: Venue>(rt: &mut Runtime<V>, sim: &SimHandle, pairs: &[&str]) {
    let want: BTreeMap<String, i64> = {
        let engine = sim.sim.engine.lock();
        pairs
            .iter()
            .map(|p| {
                let m = &engine.markets[*p];
                let symbol = Symbol::parse(p).unwrap().to_string();
                (symbol, m.candles[m.cursor - 1].open_time_ms)
            })
            .collect()
    };
    tick_until(rt, "the last closed candles", |rt| {
        let status = rt.status("trading");
        want.iter()
            .all(|(s, t)| status.pairs[s].last_closed_ms == Some(*t))
    })
    .await;
}

/// Ticks until the stream is connected and its first push (the forming bars) has arrived.
async fn connect<V: Venue>(rt: &mut Runtime<V>) {
    tick_until(rt, "the stream", |rt| {
        rt.market_data_stats().stream_connected
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    rt.tick().await.unwrap();
}

/// The runtime ticks every 5 ms while the simulator closes a candle of every pair every 15 ms
/// (several per tick at times).
async fn run_while_advancing<V: Venue>(rt: &mut Runtime<V>, sim: &SimHandle, candles: usize) {
    let s = sim.sim.clone();
    let advancer = tokio::spawn(async move {
        for _ in 0..candles {
            tokio::time::sleep(Duration::from_millis(15)).await;
            let now = s.now_ms();
            s.engine.lock().advance(None, 1, now);
        }
    });
    while !advancer.is_finished() {
        rt.tick().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    advancer.await.unwrap();
}

/// The stored candles of every pair are exactly the simulator's candles closed since `from`;
/// returns how many.
async fn assert_candles_exact(
    store: &Store,
    sim: &SimHandle,
    from: &BTreeMap<String, usize>,
) -> u64 {
    let mut total = 0;
    for (pair, &first) in from {
        let symbol = Symbol::parse(pair).unwrap();
        let stored = store
            .candles(&symbol, Timeframe::M1, i64::MIN, i64::MAX)
            .await
            .unwrap();
        let expected = closed_since(sim, pair, first);
        assert!(!expected.is_empty());
        assert_eq!(
            stored.len(),
            expected.len(),
            "{pair}: stored vs closed on the simulator"
        );
        for (s, e) in stored.iter().zip(&expected) {
            assert_eq!(s, e, "{pair}: stored candle differs from the simulator's");
        }
        total += expected.len() as u64;
    }
    total
}

fn snapshot(sim: &SimHandle) -> VenueSnapshot {
    let v = aurum_sim::render::admin_state(&sim.sim.engine.lock(), sim.sim.now_ms());
    serde_json::from_value(v).unwrap()
}

async fn assert_store_matches_venue(store: &Store, bot: &str, sim: &SimHandle) {
    let assets = ["USDT", "BTC", "ETH"].map(|a| Asset::new(a).unwrap());
    let report = audit(store, bot, &snapshot(sim), &assets).await.unwrap();
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_candles_are_exactly_the_simulators_and_orders_flow() {
    let sim = aurum_sim::spawn(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = watch::channel(false);
    let mut rt = Runtime::start(
        client(&sim),
        store(&dir).await,
        options("s", &PAIRS, None),
        rx,
    )
    .await
    .unwrap();
    let first = cursors(&sim);
    connect(&mut rt).await;
    let before = rt.market_data_stats().clone();
    assert_eq!(before.closed_candles, 0);
    assert_eq!(before.connects, 1);

    run_while_advancing(&mut rt, &sim, 60).await;
    settle(&mut rt, &sim, &PAIRS).await;

    let stats = rt.market_data_stats().clone();
    eprintln!("market data {stats:?}\nruntime {:?}", rt.stats());
    let total = assert_candles_exact(rt.store(), &sim, &first).await;
    assert_eq!(total, 2 * 60);
    // Each candle went to the engine once (the store would hide a duplicate), all of them
    // from the stream: not one klines request once it was connected.
    assert_eq!(stats.closed_candles, total);
    assert_eq!(stats.stream_candles, total);
    assert_eq!(stats.klines_requests, before.klines_requests);
    assert_eq!(stats.gaps_filled, 0);
    assert_eq!((stats.connects, stats.disconnects), (1, 0));
    assert!(stats.stream_connected);
    // The strategy traded on them.
    let run = rt.stats().clone();
    assert!(run.orders_sent >= 20, "{run:?}");
    assert!(run.fills >= 5, "{run:?}");
    assert!(rt.latency().summary().count >= 20);
    assert_store_matches_venue(rt.store(), "s", &sim).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_loses_no_candle_rest_fills_in() {
    let sim = aurum_sim::spawn(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = watch::channel(false);
    let mut rt = Runtime::start(
        client(&sim),
        store(&dir).await,
        options("d", &PAIRS, None),
        rx,
    )
    .await
    .unwrap();
    let first = cursors(&sim);
    connect(&mut rt).await;
    run_while_advancing(&mut rt, &sim, 10).await;
    settle(&mut rt, &sim, &PAIRS).await;
    let streamed = rt.market_data_stats().clone();
    assert_eq!(streamed.stream_candles, 20);

    // 1. The stream is dropped: the loop polls until it is back; candles closing meanwhile
    //    come over REST (polled while it is down, or fetched as a gap if it is already back).
    sim.sim.disconnect_streams();
    tick_until(&mut rt, "the disconnection", |rt| {
        !rt.market_data_stats().stream_connected
    })
    .await;
    advance(&sim, 2);
    rt.tick().await.unwrap();
    let down = rt.market_data_stats().clone();
    assert_eq!(down.disconnects, 1);
    assert_eq!(down.closed_candles, streamed.closed_candles + 4);
    assert_eq!(down.stream_candles, streamed.stream_candles);
    assert!(down.klines_requests > streamed.klines_requests);
    // It comes back (after the stream's 500 ms backoff) and streams again.
    tick_until(&mut rt, "the reconnection", |rt| {
        rt.market_data_stats().connects == 2
    })
    .await;
    connect(&mut rt).await;
    run_while_advancing(&mut rt, &sim, 5).await;
    settle(&mut rt, &sim, &PAIRS).await;
    let back = rt.market_data_stats().clone();
    assert_eq!(back.stream_candles, down.stream_candles + 10);

    // 2. Dropped and back between two ticks, with candles closed while it was down: the
    //    first event of the new connection (the forming bar) shows the gap, fetched over REST
    //    before it is accepted.
    let opened = sim.sim.streams.opened();
    sim.sim.disconnect_streams();
    let start = Instant::now();
    while sim.sim.streams.open() > 0 {
        assert!(start.elapsed() < WAIT, "the simulator kept the stream");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    advance(&sim, 3);
    while sim.sim.streams.opened() == opened || sim.sim.streams.open() == 0 {
        assert!(start.elapsed() < WAIT, "the client did not reconnect");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The new connection's first push.
    tokio::time::sleep(Duration::from_millis(200)).await;
    rt.tick().await.unwrap();
    let gap = rt.market_data_stats().clone();
    assert_eq!((gap.disconnects, gap.connects), (2, 3));
    assert_eq!(gap.gaps_filled, back.gaps_filled + 2, "one gap per pair");
    assert_eq!(gap.closed_candles, back.closed_candles + 6);
    assert!(gap.stream_connected);

    // And streaming goes on.
    run_while_advancing(&mut rt, &sim, 5).await;
    settle(&mut rt, &sim, &PAIRS).await;
    let end = rt.market_data_stats().clone();
    eprintln!("market data {end:?}\nruntime {:?}", rt.stats());
    assert_eq!(end.stream_candles, gap.stream_candles + 10);
    // Nothing lost, nothing twice: every candle the simulator closed is stored, and the
    // engine was handed exactly as many.
    let total = assert_candles_exact(rt.store(), &sim, &first).await;
    assert_eq!(total, 2 * (10 + 2 + 5 + 3 + 5));
    assert_eq!(end.closed_candles, total);
    assert!(rt.stats().orders_sent > 0);
    assert_store_matches_venue(rt.store(), "d", &sim).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paper_venue_streams_its_data_venues_klines() {
    let sim = aurum_sim::spawn(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = watch::channel(false);
    // Market data only: no credentials.
    let data = BinanceClient::new(BinanceConfig::new(sim.base_url())).unwrap();
    let venue = PaperVenue::new(
        data,
        dec!(0.001),
        5,
        PaperVenue::<BinanceClient>::id_floor_now(),
    );
    assert!(venue.stream_config().is_some());
    let mut rt = Runtime::start(
        venue,
        store(&dir).await,
        options("p", &["BTCUSDT"], Some(dec!(100))),
        rx,
    )
    .await
    .unwrap();
    let first: BTreeMap<String, usize> = cursors(&sim).into_iter().take(1).collect();
    connect(&mut rt).await;
    run_while_advancing(&mut rt, &sim, 20).await;
    settle(&mut rt, &sim, &["BTCUSDT"]).await;
    let stats = rt.market_data_stats().clone();
    let total = assert_candles_exact(rt.store(), &sim, &first).await;
    assert_eq!(total, 20);
    assert_eq!(stats.stream_candles, 20);
    assert_eq!(stats.closed_candles, 20);
    assert!(rt.stats().orders_sent > 0);
}
