//! Shared fixtures of the store tests: stores on both backends and small domain builders.
//!
//! PostgreSQL tests run when `AURUM_TEST_PG_URL` is set (CI always sets it) and then fail, never
//! skip, when the server cannot be reached. Each test works in a schema of its own.

#![allow(dead_code)]

use aurum_core::{
    Asset, ClientOrderId, Decimal, Fill, LedgerEntry, LedgerKind, OrderIntent, OrderStatus,
    OrderType, Side, Symbol,
};
use aurum_store::{BotSpec, Store, StoreConfig, WriteOp, WriteOutcome};
use std::sync::atomic::{AtomicU64, Ordering};

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
        "t_{tag}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        SCHEMA_SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// A URL for a fresh schema on the test server.
pub fn pg_schema_url(tag: &str) -> Option<String> {
    let base = pg_url()?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}schema={}", unique_schema(tag)))
}

/// A fresh SQLite store in a temporary directory (kept alive by the returned guard).
pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::open(&StoreConfig {
        url,
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    (store, dir)
}

/// A fresh PostgreSQL store in its own schema, or None when no test server is configured.
pub async fn pg_store(tag: &str) -> Option<Store> {
    let url = pg_schema_url(tag)?;
    let store = Store::open(&StoreConfig {
        url: url.clone(),
        ..StoreConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("AURUM_TEST_PG_URL is set but the store cannot be opened: {e}"));
    Some(store)
}

/// Both backends (PostgreSQL only when configured), with the SQLite guard.
pub async fn stores(tag: &str) -> (Vec<Store>, tempfile::TempDir) {
    let (s, dir) = sqlite_store().await;
    let mut v = vec![s];
    if let Some(p) = pg_store(tag).await {
        v.push(p);
    }
    (v, dir)
}

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn btc() -> Symbol {
    Symbol::new("BTC", "USDT").unwrap()
}

pub fn bot(id: &str) -> WriteOp {
    WriteOp::UpsertBot(BotSpec {
        bot_id: id.into(),
        mode: "test".into(),
        strategy: Some("none".into()),
        quote_asset: Asset::usdt(),
        config: Some(serde_json::json!({"k": 1})),
        created_at_ms: 1,
    })
}

pub fn deposit(bot: &str, amount: &str) -> WriteOp {
    WriteOp::Cash {
        bot_id: bot.into(),
        entry: LedgerEntry {
            asset: Asset::usdt(),
            amount: dec(amount),
            kind: LedgerKind::Deposit,
            ts_ms: 2,
        },
        note: Some("funding".into()),
    }
}

pub fn intent(id: &str, side: Side, qty: &str) -> OrderIntent {
    OrderIntent {
        client_order_id: ClientOrderId::new(id).unwrap(),
        symbol: btc(),
        side,
        order_type: OrderType::Limit,
        time_in_force: Some(aurum_core::TimeInForce::Gtc),
        quantity: Some(dec(qty)),
        quote_quantity: None,
        price: Some(dec("30000.01")),
        stop_price: None,
        trailing_delta_bps: None,
        created_at_ms: 10,
    }
}

pub fn place(bot: &str, id: &str, side: Side, qty: &str) -> WriteOp {
    WriteOp::OrderIntent {
        bot_id: bot.into(),
        intent: intent(id, side, qty),
        meta: None,
    }
}

pub fn ack(bot: &str, id: &str, exchange_id: &str) -> WriteOp {
    WriteOp::OrderEvent {
        bot_id: bot.into(),
        client_order_id: ClientOrderId::new(id).unwrap(),
        status: OrderStatus::Submitted,
        exchange_order_id: Some(exchange_id.into()),
        detail: None,
        ts_ms: 11,
    }
}

pub fn fill(
    bot: &str,
    order: &str,
    trade: &str,
    side: Side,
    qty: &str,
    price: &str,
    fee: &str,
) -> WriteOp {
    WriteOp::Fill {
        bot_id: bot.into(),
        fill: Fill {
            client_order_id: ClientOrderId::new(order).unwrap(),
            trade_id: trade.into(),
            symbol: btc(),
            side,
            price: dec(price),
            quantity: dec(qty),
            fee: dec(fee),
            fee_asset: Asset::usdt(),
            ts_ms: 20,
        },
    }
}

/// Writes and expects success.
pub async fn ok(store: &Store, op: WriteOp) -> WriteOutcome {
    let kind = op.kind();
    store
        .write(op)
        .await
        .unwrap_or_else(|e| panic!("{} {kind}: {e}", store.backend()))
}
