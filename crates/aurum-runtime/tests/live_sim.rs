//! The live runtime against the Binance-compatible simulator, in one process: the churn
//! strategy's limit entries fill in parts and are cancelled, exits sell at market, and after
//! every step the store matches the venue exactly (orders, fills, balances).

use aurum_core::{Asset, Decimal};
use aurum_exchange::{BinanceClient, BinanceConfig};
use aurum_runtime::audit::{VenueSnapshot, audit};
use aurum_runtime::control::{self, KillSwitchRecord};
use aurum_runtime::{BotConfig, Runtime, RuntimeOptions};
use aurum_sim::{EXAMPLE_API_KEY, EXAMPLE_API_SECRET, SimConfig, SimHandle};
use aurum_store::{Store, StoreConfig};
use aurum_strategy::risk::RiskConfig;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;

fn sim_config() -> SimConfig {
    let mut c = SimConfig {
        history: Some(300),
        balances: vec![("USDT".into(), dec!(1000))],
        // Resting orders fill at most 5 USDT per candle: 12 USDT entries fill in parts.
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

fn options(bot: &str) -> RuntimeOptions {
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
            pairs: vec!["BTC/USDT".into(), "ETH/USDT".into()],
            timeframe: "1m".into(),
            poll_interval_ms: 10,
            warmup_candles: 30,
            ..BotConfig::default()
        },
        risk: RiskConfig::unrestricted(),
        challenge: Default::default(),
        fee_rate: dec!(0.001),
        start_cash: None,
        config_snapshot: serde_json::json!({"test": true}),
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
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap()
}

fn snapshot(sim: &SimHandle) -> VenueSnapshot {
    let v = aurum_sim::render::admin_state(&sim.sim.engine.lock(), sim.sim.now_ms());
    serde_json::from_value(v).unwrap()
}

fn advance(sim: &SimHandle) {
    let now = sim.sim.now_ms();
    sim.sim.engine.lock().advance(None, 1, now);
}

fn assets() -> Vec<Asset> {
    ["USDT", "BTC", "ETH"]
        .map(|a| Asset::new(a).unwrap())
        .to_vec()
}

async fn assert_matches(store: &Store, bot: &str, sim: &SimHandle) -> usize {
    let report = audit(store, bot, &snapshot(sim), &assets()).await.unwrap();
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    report.orders
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_trading_keeps_the_store_equal_to_the_venue_through_partial_fills_and_restarts() {
    let sim = aurum_sim::spawn(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = watch::channel(false);

    let mut rt = Runtime::start(client(&sim), store(&dir).await, options("t"), rx.clone())
        .await
        .unwrap();
    assert!(rt.reconciliation().ok, "{:?}", rt.reconciliation());
    // The opening balance was adopted from the venue.
    assert_eq!(
        rt.store().balances("t").await.unwrap()[&Asset::usdt()],
        dec!(1000)
    );
    for _ in 0..40 {
        advance(&sim);
        rt.tick().await.unwrap();
    }
    let stats = rt.stats().clone();
    eprintln!("stats {stats:?} latency {:?}", rt.latency().summary());
    assert!(stats.orders_sent >= 20, "{stats:?}");
    assert!(stats.fills >= 10, "{stats:?}");
    let orders = assert_matches(rt.store(), "t", &sim).await;
    assert!(orders >= 20);
    // Partial fills that were then cancelled happened.
    let snap = snapshot(&sim);
    let partial_cancels = snap
        .orders
        .iter()
        .filter(|o| o.status == "CANCELED" && o.executed_qty > Decimal::ZERO)
        .count();
    assert!(partial_cancels >= 1, "no partly filled cancels");
    assert!(rt.latency().summary().count >= 20);

    // A restart: reconciliation finds nothing to fix, ids continue.
    let before = rt.engine().last_seq();
    drop(rt);
    let mut rt = Runtime::start(client(&sim), store(&dir).await, options("t"), rx.clone())
        .await
        .unwrap();
    assert!(rt.reconciliation().ok, "{:?}", rt.reconciliation());
    assert!(rt.reconciliation().never_sent.is_empty());
    assert_eq!(rt.engine().last_seq(), before);
    for _ in 0..10 {
        advance(&sim);
        rt.tick().await.unwrap();
    }
    assert!(rt.engine().last_seq() > before);
    assert_matches(rt.store(), "t", &sim).await;

    // The kill switch, engaged from outside (as the CLI does), cancels every working order
    // and blocks new ones; a restart keeps it engaged.
    let now = rt.now_ms();
    control::set_kill_switch(
        rt.store(),
        "t",
        &KillSwitchRecord::engaged("operator test", "cli", true, now),
    )
    .await
    .unwrap();
    rt.tick().await.unwrap();
    assert!(rt.halted());
    let sent = rt.stats().orders_sent;
    for _ in 0..5 {
        advance(&sim);
        rt.tick().await.unwrap();
    }
    // Only the kill switch's own exits may have gone out.
    let snap = snapshot(&sim);
    assert!(
        snap.orders
            .iter()
            .all(|o| !matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED")),
        "orders still open under the kill switch"
    );
    assert!(rt.stats().orders_sent - sent <= 2);
    assert_matches(rt.store(), "t", &sim).await;
    drop(rt);
    let mut rt = Runtime::start(client(&sim), store(&dir).await, options("t"), rx.clone())
        .await
        .unwrap();
    assert!(rt.halted());
    let sent = rt.stats().orders_sent;
    advance(&sim);
    rt.tick().await.unwrap();
    assert_eq!(rt.stats().orders_sent, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_made_behind_the_bots_back_halt_it_at_the_next_start() {
    use aurum_core::{ClientOrderId, OrderIntent, OrderType, Side, Symbol};
    use aurum_exchange::Exchange;
    let sim = aurum_sim::spawn(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = watch::channel(false);
    let mut rt = Runtime::start(client(&sim), store(&dir).await, options("t"), rx.clone())
        .await
        .unwrap();
    for _ in 0..6 {
        advance(&sim);
        rt.tick().await.unwrap();
    }
    drop(rt);
    // Someone buys ETH by hand on the same account, and an order appears under the bot's ids.
    let manual = client(&sim);
    let intent = |id: &str, qty| OrderIntent {
        client_order_id: ClientOrderId::new(id).unwrap(),
        symbol: Symbol::new("ETH", "USDT").unwrap(),
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: None,
        quantity: Some(qty),
        quote_quantity: None,
        price: None,
        stop_price: None,
        trailing_delta_bps: None,
        created_at_ms: 0,
    };
    manual
        .place_order(&intent("by-hand-1", dec!(0.01)))
        .await
        .unwrap();
    // A resting limit buy 10 % below the market.
    let last = manual
        .ticker_price(&Symbol::new("ETH", "USDT").unwrap())
        .await
        .unwrap();
    let mut resting = intent("au-t-999999", dec!(0.01));
    resting.order_type = OrderType::Limit;
    resting.time_in_force = Some(aurum_core::TimeInForce::Gtc);
    resting.price = Some(last * dec!(0.9));
    manual.place_order(&resting).await.unwrap();

    let rt = Runtime::start(client(&sim), store(&dir).await, options("t"), rx)
        .await
        .unwrap();
    let r = rt.reconciliation();
    assert!(!r.ok);
    assert!(rt.halted(), "drift must halt trading");
    let eth = r.balances.iter().find(|b| b.asset == "ETH").unwrap();
    assert!(!eth.ok);
    // 0.01 ETH bought by hand, the commission (0.1 %) taken in ETH.
    assert_eq!(eth.venue - eth.ledger, dec!(0.00999));
    assert!(
        r.drift
            .iter()
            .any(|d| d.starts_with("ETH: the venue holds")),
        "{:?}",
        r.drift
    );
    assert!(
        r.drift
            .iter()
            .any(|d| d.contains("au-t-999999") && d.ends_with("is not in the store")),
        "{:?}",
        r.drift
    );
    assert_eq!(r.unknown_venue_orders.len(), 1);
    assert!(
        r.foreign_trades
            .iter()
            .any(|t| t.starts_with("ETH/USDT trade")),
        "{:?}",
        r.foreign_trades
    );
    let stored: KillSwitchRecord = control::read_state(rt.store(), "t", control::KILL_SWITCH_KEY)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.engaged);
    assert_eq!(stored.source, "reconciliation");
    assert!(stored.reason.unwrap().starts_with("reconciliation: "));
    // The report is stored for `aurum status`.
    let report: aurum_runtime::ReconcileReport =
        control::read_state(rt.store(), "t", control::RECONCILIATION_KEY)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(&report, r);
}
