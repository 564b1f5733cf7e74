//! Paper trading: market data from the simulator (its account is never touched), fills by the
//! backtester's matcher in the paper venue, the books in the bot's own store, rebuilt from it
//! at every start.

use aurum_core::{Asset, OrderStatus};
use aurum_exchange::{BinanceClient, BinanceConfig};
use aurum_runtime::{BotConfig, PaperVenue, Runtime, RuntimeOptions};
use aurum_sim::{SimConfig, SimHandle};
use aurum_store::{Store, StoreConfig};
use aurum_strategy::risk::RiskConfig;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use tokio::sync::watch;

fn options() -> RuntimeOptions {
    let mut params = BTreeMap::new();
    params.insert("quote".into(), "12".into());
    params.insert("offset_bps".into(), "1".into());
    params.insert("expire_after_bars".into(), "3".into());
    params.insert("hold_bars".into(), "2".into());
    RuntimeOptions {
        bot: BotConfig {
            id: "paper".into(),
            strategy: "churn".into(),
            params,
            pairs: vec!["BTC/USDT".into()],
            poll_interval_ms: 10,
            warmup_candles: 30,
            ..BotConfig::default()
        },
        risk: RiskConfig::unrestricted(),
        challenge: Default::default(),
        fee_rate: dec!(0.001),
        start_cash: Some(dec!(50)),
        config_snapshot: serde_json::Value::Null,
    }
}

fn venue(sim: &SimHandle) -> PaperVenue<BinanceClient> {
    // Market data only: no credentials at all.
    let data = BinanceClient::new(BinanceConfig::new(sim.base_url())).unwrap();
    PaperVenue::new(
        data,
        dec!(0.001),
        5,
        PaperVenue::<BinanceClient>::id_floor_now(),
    )
}

async fn store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}", dir.path().join("paper.db").display());
    Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap()
}

fn advance(sim: &SimHandle) {
    let now = sim.sim.now_ms();
    sim.sim.engine.lock().advance(None, 1, now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_trading_fills_with_the_matcher_and_resumes_from_its_store() {
    let sim = aurum_sim::spawn(
        SimConfig {
            history: Some(300),
            ..SimConfig::default()
        }
        .starting_now(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = watch::channel(false);
    let mut rt = Runtime::start(venue(&sim), store(&dir).await, options(), rx.clone())
        .await
        .unwrap();
    // The starting cash was deposited once.
    let usdt = Asset::usdt();
    assert_eq!(rt.store().balances("paper").await.unwrap()[&usdt], dec!(50));
    for _ in 0..30 {
        advance(&sim);
        rt.tick().await.unwrap();
    }
    let stats = rt.stats().clone();
    assert!(stats.orders_sent >= 8, "{stats:?}");
    assert!(stats.fills >= 4, "{stats:?}");
    let store = rt.store().clone();
    assert!(store.check().await.unwrap().is_clean());
    // Fees are charged in the quote asset, at the fee rate, as in backtests.
    let fills = store.fills("paper", 1000).await.unwrap();
    assert!(!fills.is_empty());
    for f in &fills {
        assert_eq!(f.fill.fee_asset, usdt);
        assert_eq!(f.fill.fee, (f.fill.price * f.fill.quantity * dec!(0.001)));
    }
    // The simulator's account was never touched: paper orders never reach it.
    assert!(sim.sim.engine.lock().orders().is_empty());
    // Cash in the books = cash in the paper venue.
    let books = rt.engine().cash();
    let ledger = store.balances("paper").await.unwrap()[&usdt];
    assert_eq!(books, ledger);

    // Restart with an entry working: the account comes back from the store, the entry is
    // taken over.
    let mut working_before = Vec::new();
    for _ in 0..50 {
        working_before = store
            .open_orders("paper")
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.intent.client_order_id)
            .collect();
        if !working_before.is_empty() {
            break;
        }
        advance(&sim);
        rt.tick().await.unwrap();
    }
    let ledger = store.balances("paper").await.unwrap()[&usdt];
    assert!(!working_before.is_empty(), "no working entry to take over");
    let seq = rt.engine().last_seq();
    drop(rt);
    let mut rt = Runtime::start(venue(&sim), store.clone(), options(), rx)
        .await
        .unwrap();
    assert!(rt.reconciliation().ok);
    assert_eq!(rt.engine().cash(), ledger);
    // Deposited once only.
    let deposits = store
        .ledger("paper", 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.entry.kind == aurum_core::LedgerKind::Deposit)
        .count();
    assert_eq!(deposits, 1);
    for id in &working_before {
        // Still working in the paper venue (or resolved by it), never lost.
        let o = store.order(id).await.unwrap().unwrap();
        assert!(
            matches!(
                o.status,
                OrderStatus::Submitted | OrderStatus::PartiallyFilled
            ),
            "{id}: {}",
            o.status
        );
    }
    for _ in 0..10 {
        advance(&sim);
        rt.tick().await.unwrap();
    }
    assert!(rt.engine().last_seq() > seq);
    assert!(store.check().await.unwrap().is_clean());
    for id in &working_before {
        let o = store.order(id).await.unwrap().unwrap();
        assert!(o.status.is_final(), "{id} is still {}", o.status);
    }
}
